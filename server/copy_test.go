package server_test

import (
	"math"
	"net/http"
	"testing"

	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/geo"
)

func TestCopyAnnotationsThroughTheGround(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	a := ts.uploadScene(t, 4000, 3000, 1)
	b := ts.uploadScene(t, 4000, 3000, 2)
	unplaced := ts.uploadScene(t, 400, 300, 3)
	ts.putGeoref(t, a.ID, "affine", vladivostok6)
	// b shows the same ground turned and shifted: a similarity of a's points.
	var turned []gcp
	for _, p := range vladivostok6 {
		x, y := p.Pixel[0]-2000, p.Pixel[1]-1500
		c, s := math.Cos(0.05), math.Sin(0.05)
		turned = append(turned, gcp{Pixel: [2]float64{2000 + 0.9*(c*x-s*y) + 100, 1500 + 0.9*(s*x+c*y) - 50}, LonLat: p.LonLat})
	}
	ts.putGeoref(t, b.ID, "affine", turned)
	box := ts.createAnnotation(t, a.ID, `{"label": "vessel/landing ship", "shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [[[1900, 1480], [2012, 1480], [2012, 1495], [1900, 1495], [1900, 1480]]]}, "properties": {"confidence": "probable", "note": "at the pier"}}`)
	pt := ts.createAnnotation(t, a.ID, `{"label": "vehicle", "shape": "point", "geometry": {"type": "Point", "coordinates": [1200, 2100]}}`)

	rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+b.ID+"/annotations/copy", map[string]any{"annotations": []string{box.ID, pt.ID}})
	wantStatus(t, rec, http.StatusCreated)
	var got struct {
		Annotations []struct {
			ID         string          `json:"id"`
			ImageID    string          `json:"image_id"`
			Shape      string          `json:"shape"`
			Geometry   geoJSONGeometry `json:"geometry"`
			Properties map[string]any  `json:"properties"`
		} `json:"annotations"`
	}
	decode(t, rec, &got)
	if len(got.Annotations) != 2 || got.Annotations[0].ImageID != b.ID {
		t.Fatalf("pasted %+v", got.Annotations)
	}
	// Each vertex lies on the ground where the original's does.
	pa, _ := ts.placementOf(t, a.ID)
	pb, _ := ts.placementOf(t, b.ID)
	orig := [][][2]float64{{{1900, 1480}, {2012, 1480}, {2012, 1495}, {1900, 1495}, {1900, 1480}}, {{1200, 2100}}}
	for i, g := range got.Annotations {
		for j, p := range g.Geometry.points() {
			lon0, lat0, _ := pa.Forward(orig[i][j][0], orig[i][j][1])
			lon1, lat1, _ := pb.Forward(p[0], p[1])
			if math.Abs(lon0-lon1) > 1e-8 || math.Abs(lat0-lat1) > 1e-8 { // 1 mm: a fit's inverse is fitted apart
				t.Errorf("annotation %d vertex %d: on the ground at (%.9f, %.9f), the original at (%.9f, %.9f)", i, j, lon1, lat1, lon0, lat0)
			}
		}
	}
	if got.Annotations[0].Shape != "rotated_rectangle" || got.Annotations[0].Properties["note"] != "at the pier" {
		t.Errorf("the box pasted as %s with %v", got.Annotations[0].Shape, got.Annotations[0].Properties)
	}
	if cf, _ := got.Annotations[1].Properties["copied_from"].(map[string]any); cf["annotation"] != pt.ID || cf["image"] != a.ID {
		t.Errorf("copied_from: %v", got.Annotations[1].Properties["copied_from"])
	}

	// On the same image, a copy lands 12 px down and right.
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/images/"+a.ID+"/annotations/copy", map[string]any{"annotations": []string{pt.ID}})
	wantStatus(t, rec, http.StatusCreated)
	decode(t, rec, &got)
	if p := got.Annotations[0].Geometry.points()[0]; p != [2]float64{1212, 2112} {
		t.Errorf("the copy on the same image is at %v", p)
	}

	before := ts.snapshot(t)
	for _, tt := range []struct {
		name, target string
		body         any
		status       int
		code, field  string
	}{
		{"onto an unplaced image", unplaced.ID, map[string]any{"annotations": []string{pt.ID}}, 422, "not_georeferenced", "annotations[0]"},
		{"off the image, all or nothing", a.ID, map[string]any{"annotations": []string{pt.ID, box.ID}, "offset": []float64{0, 1400}}, 422, "invalid", "annotations[0]"},
		{"an unknown annotation", b.ID, map[string]any{"annotations": []string{pt.ID, "6b1c2f0e-0000-4000-8000-000000000000"}}, 422, "invalid", "annotations[1]"},
		{"nothing", b.ID, map[string]any{"annotations": []string{}}, 422, "invalid", "annotations"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/images/"+tt.target+"/annotations/copy", tt.body), tt.status, tt.code, tt.field)
		})
	}
	ts.wantUnchanged(t, before)
}

// geoJSONGeometry reads a pasted geometry's positions.
type geoJSONGeometry struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

func (g geoJSONGeometry) points() [][2]float64 {
	var out [][2]float64
	var walk func(v any)
	walk = func(v any) {
		xs, ok := v.([]any)
		if !ok {
			return
		}
		if len(xs) == 2 {
			if x, ok := xs[0].(float64); ok {
				out = append(out, [2]float64{x, xs[1].(float64)})
				return
			}
		}
		for _, x := range xs {
			walk(x)
		}
	}
	walk(g.Coordinates)
	return out
}

// placementOf is an image's stored placement, through the formats package as the server
// builds it.
func (ts *testServer) placementOf(t *testing.T, id string) (geo.Transformer, formats.Placement) {
	t.Helper()
	img, err := ts.store.Image(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ts.store.Georeference(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := formats.PlacementOf(img, &g)
	if err != nil {
		t.Fatal(err)
	}
	return p.Transformer, p
}

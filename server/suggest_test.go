package server_test

import (
	"bytes"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/satmark/satmark/geo"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/match/matchtest"
	"github.com/satmark/satmark/sampledata"
)

// suggestGT places the reference scenes of these tests: north up, about 1 m a pixel.
var suggestGT = [6]float64{131.865, 1.2287e-05, 0, 43.125, 0, -9.0013e-06}

func gtLonLat(x, y float64) [2]float64 {
	return [2]float64{suggestGT[0] + x*suggestGT[1] + y*suggestGT[2], suggestGT[3] + x*suggestGT[4] + y*suggestGT[5]}
}

// sampleRegion is part of a sample scene, decoded.
func sampleRegion(t *testing.T, file string, r image.Rectangle) *image.RGBA {
	t.Helper()
	scenes, err := sampledata.Scenes()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scenes {
		if s.FileName == file {
			img, err := jpeg.Decode(bytes.NewReader(s.JPEG))
			if err != nil {
				t.Fatal(err)
			}
			out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
			draw.Draw(out, out.Bounds(), img, r.Min, draw.Src)
			return out
		}
	}
	t.Fatalf("no sample scene %s", file)
	return nil
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

type suggestAnswer struct {
	Points []struct {
		Pixel          [2]float64 `json:"pixel"`
		LonLat         [2]float64 `json:"lonlat"`
		ReferencePixel [2]float64 `json:"reference_pixel"`
		Score          float64    `json:"score"`
	} `json:"points"`
	Inliers   int     `json:"inliers"`
	Model     string  `json:"model"`
	RMSPixels float64 `json:"rms_px"`
}

// placeByCorners georeferences an image by an exact affine fit of its corners to suggestGT.
func (ts *testServer) placeByCorners(t *testing.T, id string, w, h int) {
	t.Helper()
	var pts []gcp
	for _, c := range [][2]float64{{0, 0}, {float64(w), 0}, {0, float64(h)}, {float64(w), float64(h)}} {
		pts = append(pts, gcp{Pixel: c, LonLat: gtLonLat(c[0], c[1])})
	}
	ts.putGeoref(t, id, "affine", pts)
}

func TestSuggestGeoreference(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	scene := sampleRegion(t, "synthetic-port-scene.jpg", image.Rect(0, 0, 1600, 1200))
	placed := ts.mustUpload(t, filePart("port.jpg", encodeJPEG(t, scene)))
	ts.placeByCorners(t, placed.ID, 1600, 1200)
	d := matchtest.Distortion{Rotation: 22, Scale: 1.3, Brightness: -20, Contrast: 1.2, Quality: 70, Crop: [4]float64{0.1, 0.15, 0.05, 0.1}}
	copyJPEG, truth, err := matchtest.Copy(scene, d)
	if err != nil {
		t.Fatal(err)
	}
	unplaced := ts.mustUpload(t, filePart("port-turned.jpg", copyJPEG))
	ts.buildPyramids(t)

	rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+unplaced.ID+"/georeference/suggest", map[string]any{"reference": placed.ID, "max_points": 12})
	wantStatus(t, rec, http.StatusOK)
	var got suggestAnswer
	decode(t, rec, &got)
	if len(got.Points) < 6 || len(got.Points) > 12 {
		t.Fatalf("got %d points, want 6 to 12", len(got.Points))
	}
	gcps := make([]geo.ControlPoint, len(got.Points))
	for i, p := range got.Points {
		if want := gtLonLat(p.ReferencePixel[0], p.ReferencePixel[1]); math.Abs(want[0]-p.LonLat[0]) > 1e-9 || math.Abs(want[1]-p.LonLat[1]) > 1e-9 {
			t.Errorf("point %d: lonlat %v, want the reference's transform of %v: %v", i+1, p.LonLat, p.ReferencePixel, want)
		}
		if p.Score < 0.5 || p.Score > 1.0001 {
			t.Errorf("point %d: score %.3f, want within 0.5–1", i+1, p.Score)
		}
		gcps[i] = geo.ControlPoint{Pixel: p.Pixel, LonLat: p.LonLat}
	}
	// Accepting them all gives a placement within 2 px of the truth over the copy.
	fit, err := geo.FitControlPoints(geo.Affine, gcps)
	if err != nil {
		t.Fatal(err)
	}
	var ss float64
	n := 0
	for j := 0; j < 10; j++ {
		for i := 0; i < 10; i++ {
			x, y := (float64(i)+0.5)*float64(unplaced.Width)/10, (float64(j)+0.5)*float64(unplaced.Height)/10
			tx, ty := truth.Apply(x, y)
			if tx < 0 || ty < 0 || tx > 1600 || ty > 1200 {
				continue
			}
			ll := gtLonLat(tx, ty)
			fx, fy, err := fit.Inverse(ll[0], ll[1])
			if err != nil {
				t.Fatal(err)
			}
			ss += (fx-x)*(fx-x) + (fy-y)*(fy-y)
			n++
		}
	}
	if rms := math.Sqrt(ss / float64(n)); rms > 2 {
		t.Errorf("the fit of the suggestions is %.2f px RMS from the truth over the copy, want ≤ 2", rms)
	} else {
		t.Logf("%d points, %d inliers, fit %.3f px RMS from the truth, rms_px %.3f", len(got.Points), got.Inliers, rms, got.RMSPixels)
	}
	// The editor's preview fits them as well.
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/images/"+unplaced.ID+"/georeference/fit", georefBody("affine", gcpsOf(gcps)))
	wantStatus(t, rec, http.StatusOK)
	var g georefAnswer
	decode(t, rec, &g)
	if g.Fit == nil || g.Fit.RMSPixels > 1 {
		t.Errorf("the editor's fit of the suggestions: %+v, want an RMS under 1 px", g.Fit)
	}
}

func gcpsOf(cps []geo.ControlPoint) []gcp {
	out := make([]gcp, len(cps))
	for i, c := range cps {
		out[i] = gcp{Pixel: c.Pixel, LonLat: c.LonLat}
	}
	return out
}

func TestSuggestGeoreferenceRejectsBadInput(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	port := sampleRegion(t, "synthetic-port-scene.jpg", image.Rect(0, 0, 1200, 900))
	placed := ts.mustUpload(t, filePart("port.jpg", encodeJPEG(t, port)))
	ts.placeByCorners(t, placed.ID, 1200, 900)
	base := ts.mustUpload(t, filePart("base.jpg", encodeJPEG(t, sampleRegion(t, "synthetic-base-scene.jpg", image.Rect(800, 400, 2000, 1300)))))
	ts.buildPyramids(t)
	unbuilt := ts.mustUpload(t, filePart("port-copy.jpg", encodeJPEG(t, sampleRegion(t, "synthetic-port-scene.jpg", image.Rect(100, 100, 1100, 800)))))
	suggest := func(id string, body any) *httptest.ResponseRecorder {
		return ts.doJSON(t, http.MethodPost, "/api/v1/images/"+id+"/georeference/suggest", body)
	}
	for _, tc := range []struct {
		name   string
		id     string
		body   any
		status int
		code   string
		field  string
		words  []string
	}{
		{"nok, no overlap: a military base against a port", base.ID, map[string]any{"reference": placed.ID}, http.StatusUnprocessableEntity, "no_match", "reference", []string{"agree"}},
		{"nok, no reference", base.ID, map[string]any{}, http.StatusUnprocessableEntity, "invalid", "reference", []string{"placed image"}},
		{"nok, the image itself", placed.ID, map[string]any{"reference": placed.ID}, http.StatusUnprocessableEntity, "invalid", "reference", []string{"itself"}},
		{"nok, an unknown reference", base.ID, map[string]any{"reference": unknownLike(placed.ID)}, http.StatusUnprocessableEntity, "invalid", "reference", []string{"no image"}},
		{"nok, a reference that is not an id", base.ID, map[string]any{"reference": "../etc"}, http.StatusUnprocessableEntity, "invalid", "reference", []string{"not an image id"}},
		{"nok, an unplaced reference", placed.ID, map[string]any{"reference": base.ID}, http.StatusUnprocessableEntity, "invalid", "reference", []string{"not placed"}},
		{"nok, too many points", base.ID, map[string]any{"reference": placed.ID, "max_points": 1000}, http.StatusUnprocessableEntity, "invalid", "max_points", []string{"4 to 100"}},
		{"nok, too few points", base.ID, map[string]any{"reference": placed.ID, "max_points": 2}, http.StatusUnprocessableEntity, "invalid", "max_points", nil},
		{"nok, not JSON", base.ID, "{", http.StatusBadRequest, "malformed", "", nil},
		{"nok, the pyramid is not built yet", unbuilt.ID, map[string]any{"reference": placed.ID}, http.StatusServiceUnavailable, "not_ready", "", []string{"tiles"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := suggest(tc.id, tc.body)
			e := wantError(t, rec, tc.status, tc.code, tc.field, tc.words...)
			if tc.code == "no_match" && bytes.Contains(rec.Body.Bytes(), []byte(`"points"`)) {
				t.Errorf("a no match came with points: %s", e.Message)
			}
		})
	}
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/nosuchimage/georeference/suggest", map[string]any{"reference": placed.ID})
	wantStatus(t, rec, http.StatusNotFound)
}

// unknownLike is an id of the same form as id that names no image.
func unknownLike(id string) string {
	last := id[len(id)-1]
	c := "a"
	if last == 'a' {
		c = "b"
	}
	return id[:len(id)-1] + c
}

package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image/jpeg"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// The lon/lat exports of georeferenced images: RFC 7946 GeoJSON (also across the
// antimeridian, and as GDAL reads it), KML, KMZ and the footprints of every placed
// image. The georeferencing fixtures and helpers they use (gcp, vladivostok6,
// uploadScene, putGeoref, polygonsOf, the KML readers…) are in georef_test.go.

// lonLatCollection is an RFC 7946 export as a client reads it.
type lonLatCollection struct {
	Type           string    `json:"type"`
	BBox           []float64 `json:"bbox"`
	Georeferencing struct {
		CRS    string `json:"crs"`
		Note   string `json:"note"`
		Images []struct {
			ID            string   `json:"id"`
			Method        string   `json:"method"`
			Transform     string   `json:"transform"`
			ControlPoints int      `json:"control_points"`
			RMSMetres     *float64 `json:"rms_m"`
			RMSPixels     *float64 `json:"rms_px"`
			MeanError     *float64 `json:"mean_error_m"`
		} `json:"images"`
		Omitted []struct {
			ID     string `json:"id"`
			Title  string `json:"title"`
			Reason string `json:"reason"`
		} `json:"omitted_images"`
	} `json:"georeferencing"`
	Features []struct {
		Type       string         `json:"type"`
		ID         string         `json:"id"`
		BBox       []float64      `json:"bbox"`
		Geometry   lonLatGeometry `json:"geometry"`
		Properties struct {
			PixelGeometry annotations.Geometry `json:"pixel_geometry"`
			Measurements  measuresAnswer       `json:"measurements"`
			Basis         string               `json:"measurement_basis"`
			Confidence    string               `json:"confidence"`
			Image         struct {
				ID string `json:"id"`
			} `json:"image"`
			Provenance map[string]any `json:"provenance"`
		} `json:"properties"`
	} `json:"features"`
}

// lonLatExport fetches an export that must be RFC 7946, checks how it downloads and
// that every number of its coordinates and bboxes has at most 7 decimals.
func (ts *testServer) lonLatExport(t *testing.T, target string) (lonLatCollection, []byte) {
	t.Helper()
	rec := ts.do(t, http.MethodGet, target, nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("Content-Type = %q, want application/geo+json", ct)
	}
	if d, p, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition")); err != nil || d != "attachment" || !strings.HasSuffix(p["filename"], "-wgs84.geojson") {
		t.Errorf("Content-Disposition = %q, want an attachment named *-wgs84.geojson", rec.Header().Get("Content-Disposition"))
	}
	wantNoNonFinite(t, rec.Body.String(), false)
	var fc lonLatCollection
	decode(t, rec, &fc)
	if fc.Type != "FeatureCollection" || fc.Georeferencing.CRS != "urn:ogc:def:crs:OGC::CRS84" {
		t.Errorf("type %q, georeferencing.crs %q; want a FeatureCollection in CRS84", fc.Type, fc.Georeferencing.CRS)
	}

	// The numbers as written.
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	var raw struct {
		BBox     []json.Number `json:"bbox"`
		Features []struct {
			BBox     []json.Number `json:"bbox"`
			Geometry struct {
				Coordinates any `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := dec.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	var numbers []json.Number
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case json.Number:
			numbers = append(numbers, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	numbers = append(numbers, raw.BBox...)
	for _, f := range raw.Features {
		numbers = append(numbers, f.BBox...)
		walk(f.Geometry.Coordinates)
	}
	for _, n := range numbers {
		s := n.String()
		if strings.ContainsAny(s, "eE") {
			t.Errorf("coordinate %s is written with an exponent", s)
		} else if i := strings.IndexByte(s, '.'); i >= 0 && len(s)-i-1 > 7 {
			t.Errorf("coordinate %s has more than 7 decimals", s)
		}
	}
	return fc, rec.Body.Bytes()
}

// wantFeaturesWellFormed checks every feature: rings, bbox around its positions,
// the collection's bbox around them all.
func wantFeaturesWellFormed(t *testing.T, fc lonLatCollection) {
	t.Helper()
	for _, f := range fc.Features {
		if f.Type != "Feature" || f.ID == "" {
			t.Errorf("feature %+v has no type Feature or no id", f)
		}
		paths := positionsOf(t, f.Geometry)
		if strings.HasSuffix(f.Geometry.Type, "Polygon") {
			wantRFC7946Polygons(t, polygonsOf(t, f.Geometry))
		}
		for _, path := range paths {
			wantLonLatPath(t, path)
			for _, p := range path {
				if !bboxHolds(f.BBox, p) {
					t.Errorf("feature %s: position %v is outside its bbox %v", f.ID, p, f.BBox)
				}
				if !bboxHolds(fc.BBox, p) {
					t.Errorf("feature %s: position %v is outside the collection's bbox %v", f.ID, p, fc.BBox)
				}
			}
		}
	}
}

func TestLonLatGeoJSONExport(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	a := ts.uploadScene(t, 4000, 3000, 600, field("title", "Vladivostok"), field("publisher", "National Intelligence Service, Republic of Korea"))
	b := ts.uploadScene(t, 4000, 3000, 601, field("title", "not placed"))
	ts.putGeoref(t, a.ID, "affine", vladivostok6)

	// Annotations of every shape; the polygon with a hole is drawn clockwise on screen and
	// its hole clockwise too, so orienting them is the export's work.
	anns := []annotations.Annotation{
		ts.createAnnotation(t, a.ID, `{"label": "facility/naval base", "shape": "polygon", "properties": {"confidence": "confirmed"},
			"geometry": {"type": "Polygon", "coordinates": [[[100, 100], [1900, 120], [1950, 1400], [120, 1380], [100, 100]],
				[[500, 500], [900, 500], [900, 900], [500, 900], [500, 500]]]}}`),
		ts.createAnnotation(t, a.ID, `{"label": "landing ship", "shape": "rotated_rectangle", "properties": {"confidence": "probable"},
			"geometry": {"type": "Polygon", "coordinates": [`+rotatedRing(2500, 2000, 60, 12, 35)+`]}}`),
		ts.createAnnotation(t, a.ID, `{"label": "frigate", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[10.5, 20.25], [3999, 2999], [0, 3000]]}}`),
		ts.createAnnotation(t, a.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [1234.5, 987.25]}}`),
		ts.createAnnotation(t, a.ID, `{"label": "pier", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[3000, 100], [3000, 400], [3600, 400], [3600, 100], [3000, 100]]]}}`),
	}
	onB := ts.createAnnotation(t, b.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [5, 5]}}`)

	t.Run("ok, a georeferenced image exports RFC 7946 lon/lat by default", func(t *testing.T) {
		fc, _ := ts.lonLatExport(t, "/api/v1/images/"+a.ID+"/annotations.geojson")
		if len(fc.Features) != len(anns) {
			t.Fatalf("%d features, want %d", len(fc.Features), len(anns))
		}
		wantFeaturesWellFormed(t, fc)
		if len(fc.BBox) != 4 {
			t.Errorf("collection bbox = %v, want 4 numbers", fc.BBox)
		}
		gi := fc.Georeferencing.Images
		if len(gi) != 1 || gi[0].ID != a.ID || gi[0].Method != "gcps" || gi[0].Transform != "affine" || gi[0].ControlPoints != 6 ||
			gi[0].RMSMetres == nil || !near(*gi[0].RMSMetres, 1.589, 0.0005) || gi[0].RMSPixels == nil || !near(*gi[0].RMSPixels, 0.733, 0.0005) {
			t.Errorf("georeferencing.images = %+v, want the affine fit of 6 points, RMS 1.589 m, 0.733 px", gi)
		}
		if len(fc.Georeferencing.Omitted) != 0 {
			t.Errorf("omitted_images = %+v, want none", fc.Georeferencing.Omitted)
		}
		byID := map[string]annotations.Annotation{}
		for _, an := range anns {
			byID[an.ID] = an
		}
		for _, f := range fc.Features {
			stored, ok := byID[f.ID]
			if !ok {
				t.Errorf("feature %s is no annotation of the image", f.ID)
				continue
			}
			if !sameGeometry(f.Properties.PixelGeometry, stored.Geometry) {
				t.Errorf("feature %s: pixel_geometry %+v, want the stored %+v", f.ID, f.Properties.PixelGeometry, stored.Geometry)
			}
			if f.Geometry.Type != stored.Geometry.Type {
				t.Errorf("feature %s: %s, want %s (affine: nothing is cut or densified)", f.ID, f.Geometry.Type, stored.Geometry.Type)
			}
			// Every vertex is the §3.5 affine (gdal.GCPsToGeoTransform) of a stored pixel
			// vertex, rounded to 7 decimals.
			var pix []annotations.Position
			for _, r := range stored.Geometry.Coordinates {
				pix = append(pix, r...)
			}
			n := 0
			for _, path := range positionsOf(t, f.Geometry) {
				for _, p := range path {
					n++
					found := false
					for _, q := range pix {
						w := affineAt(vladivostokGT, q[0], q[1])
						found = found || (near(p[0], w[0], round7Tol) && near(p[1], w[1], round7Tol))
					}
					if !found {
						t.Errorf("feature %s: %v is not the affine of any of its pixel vertices", f.ID, p)
					}
				}
			}
			if n != len(pix) {
				t.Errorf("feature %s has %d positions, its pixel geometry %d", f.ID, n, len(pix))
			}
			m := f.Properties.Measurements
			switch stored.Shape {
			case annotations.ShapeRotatedRectangle:
				if m.LengthM == nil || m.WidthM == nil || m.AreaM2 == nil || m.HeadingDeg == nil || f.Properties.Basis != "georeference" {
					t.Errorf("rotated rectangle measurements %+v, want length, width, area and heading in metres", m)
				} else if r := *m.LengthM / m.LengthPx; r < 1.9 || r > 2.3 {
					t.Errorf("length %.2f m over %.2f px: %.2f m a pixel, want about 2 (§3.5)", *m.LengthM, m.LengthPx, r)
				}
			case annotations.ShapePolygon:
				if m.AreaM2 == nil || m.PerimeterM == nil || m.AreaPx2 == 0 {
					t.Errorf("polygon measurements %+v, want area and perimeter in metres", m)
				}
			case annotations.ShapeLine:
				if m.LengthM == nil {
					t.Errorf("line measurements %+v, want a length in metres", m)
				}
			}
			if f.Properties.Image.ID != a.ID || f.Properties.Provenance["publisher"] != "National Intelligence Service, Republic of Korea" {
				t.Errorf("feature %s: image %+v, provenance %v", f.ID, f.Properties.Image, f.Properties.Provenance)
			}
		}
	})

	t.Run("ok, ?crs=pixel gives pixels", func(t *testing.T) {
		fc := ts.export(t, "/api/v1/images/"+a.ID+"/annotations.geojson?crs=pixel")
		if got, want := fc.featureIDs(), sortedIDs(anns...); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("feature ids = %v, want %v", got, want)
		}
		for _, f := range fc.Features {
			for _, an := range anns {
				if an.ID == f.ID && !sameGeometry(f.Geometry, an.Geometry) {
					t.Errorf("feature %s geometry %+v, want the stored pixels %+v", f.ID, f.Geometry, an.Geometry)
				}
			}
			if f.Properties.Measurements["length_m"] == nil && f.Properties.Shape == "line" {
				t.Errorf("pixel export of a georeferenced image: line measurements %v lack metres", f.Properties.Measurements)
			}
		}
	})

	t.Run("ok, collection with crs=wgs84 leaves out the image without georeference", func(t *testing.T) {
		fc, _ := ts.lonLatExport(t, "/api/v1/export.geojson?crs=wgs84&image="+a.ID+","+b.ID)
		if len(fc.Features) != len(anns) {
			t.Errorf("%d features, want the %d of the georeferenced image", len(fc.Features), len(anns))
		}
		for _, f := range fc.Features {
			if f.ID == onB.ID || f.Properties.Image.ID != a.ID {
				t.Errorf("feature %s of image %s is exported in lon/lat", f.ID, f.Properties.Image.ID)
			}
		}
		om := fc.Georeferencing.Omitted
		if len(om) != 1 || om[0].ID != b.ID || om[0].Title != "not placed" || !strings.Contains(om[0].Reason, "not georeferenced") {
			t.Errorf("omitted_images = %+v, want %s, not georeferenced", om, b.ID)
		}
		wantFeaturesWellFormed(t, fc)
	})

	t.Run("ok, collection without crs is in pixels when an image is not georeferenced", func(t *testing.T) {
		fc := ts.export(t, "/api/v1/export.geojson?image="+a.ID+","+b.ID)
		if len(fc.Features) != len(anns)+1 {
			t.Errorf("%d features, want %d", len(fc.Features), len(anns)+1)
		}
	})

	c := ts.uploadScene(t, 4000, 3000, 602)
	ts.putGeoref(t, c.ID, "polynomial2", vladivostok6)
	rect := ts.createAnnotation(t, c.ID, `{"label": "pier", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [4000, 0], [4000, 3000], [0, 3000], [0, 0]]]}}`)
	t.Run("ok, edges bent by a polynomial fit are densified", func(t *testing.T) {
		fc, _ := ts.lonLatExport(t, "/api/v1/images/"+c.ID+"/annotations.geojson")
		if len(fc.Features) != 1 || fc.Features[0].ID != rect.ID {
			t.Fatalf("features = %+v, want the one rectangle", fc.Features)
		}
		wantFeaturesWellFormed(t, fc)
		ring := polygonsOf(t, fc.Features[0].Geometry)[0][0]
		if len(ring) <= 5 {
			t.Errorf("the polynomial2 ring has %d positions, want more than the 5 of the pixel ring", len(ring))
		}
		if gi := fc.Georeferencing.Images; len(gi) != 1 || gi[0].Transform != "polynomial2" {
			t.Errorf("georeferencing.images = %+v, want the polynomial2 fit", gi)
		}
	})

	t.Run("ok, collection with both georeferenced images, no crs, is lon/lat", func(t *testing.T) {
		fc, _ := ts.lonLatExport(t, "/api/v1/export.geojson?image="+a.ID+"&image="+c.ID)
		if len(fc.Features) != len(anns)+1 || len(fc.Georeferencing.Images) != 2 {
			t.Errorf("%d features over %d images, want %d over 2", len(fc.Features), len(fc.Georeferencing.Images), len(anns)+1)
		}
		wantFeaturesWellFormed(t, fc)
	})

	bad := []struct {
		name, target string
		status       int
		code         string
	}{
		{"nok, crs=wgs84 for one image without georeference", "/api/v1/images/" + b.ID + "/annotations.geojson?crs=wgs84", 409, "not_georeferenced"},
		{"nok, crs=bogus for one image", "/api/v1/images/" + a.ID + "/annotations.geojson?crs=bogus", 400, "malformed"},
		{"nok, crs=bogus for the collection", "/api/v1/export.geojson?crs=bogus", 400, "malformed"},
		{"nok, crs=EPSG:4326 is not a name the export knows", "/api/v1/export.geojson?crs=EPSG:4326", 400, "malformed"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, tc.target, nil)
			wantError(t, rec, tc.status, tc.code, "crs")
			if cd := rec.Header().Get("Content-Disposition"); cd != "" {
				t.Errorf("an error is offered as a download: %q", cd)
			}
		})
	}
}

func sameGeometry(a, b annotations.Geometry) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// antimeridianImage is an 8000×6000 image placed by the Taveuni control points: its
// north-east corner lies past 180°. The lon = 180° line crosses it from about (7730, 0)
// to (8000, 745).
func antimeridianImage(t *testing.T, ts *testServer, seed int) (annotations.Image, []annotations.Annotation) {
	t.Helper()
	img := ts.uploadScene(t, 8000, 6000, seed, field("title", "Taveuni"))
	ts.putGeoref(t, img.ID, "affine", taveuni7)
	return img, []annotations.Annotation{
		ts.createAnnotation(t, img.ID, `{"label": "facility/naval base", "shape": "polygon", "geometry": {"type": "Polygon",
			"coordinates": [[[7500, 20], [7995, 20], [7995, 600], [7500, 600], [7500, 20]], [[7900, 100], [7980, 100], [7980, 300], [7900, 300], [7900, 100]]]}}`),
		ts.createAnnotation(t, img.ID, `{"label": "frigate", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[7600, 200], [7990, 200]]}}`),
		ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [7990, 10]}}`),
		ts.createAnnotation(t, img.ID, `{"label": "pier", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[1000, 1000], [1000, 2000], [3000, 2000], [3000, 1000], [1000, 1000]]]}}`),
	}
}

func TestLonLatGeoJSONExportAcrossTheAntimeridian(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img, anns := antimeridianImage(t, ts, 700)
	fc, _ := ts.lonLatExport(t, "/api/v1/images/"+img.ID+"/annotations.geojson")
	if len(fc.Features) != len(anns) {
		t.Fatalf("%d features, want %d", len(fc.Features), len(anns))
	}
	wantFeaturesWellFormed(t, fc)
	want := map[string]string{anns[0].ID: "MultiPolygon", anns[1].ID: "MultiLineString", anns[2].ID: "Point", anns[3].ID: "Polygon"}
	for _, f := range fc.Features {
		if f.Geometry.Type != want[f.ID] {
			t.Errorf("feature %s is a %s, want a %s", f.ID, f.Geometry.Type, want[f.ID])
		}
		crosses := want[f.ID] == "MultiPolygon" || want[f.ID] == "MultiLineString"
		if crosses != (f.BBox[0] > f.BBox[2]) {
			t.Errorf("feature %s (%s) bbox %v: want west > east exactly when it crosses the antimeridian", f.ID, f.Geometry.Type, f.BBox)
		}
	}
	for _, f := range fc.Features {
		if f.ID != anns[0].ID {
			continue
		}
		polys := polygonsOf(t, f.Geometry)
		if len(polys) != 2 {
			t.Fatalf("the polygon across 180° is cut into %d pieces, want 2", len(polys))
		}
		// The hole lies wholly past 180°: it belongs to the western-hemisphere piece.
		for _, poly := range polys {
			if west := poly[0][0][0] < 0; west != (len(poly) == 2) {
				t.Errorf("piece starting at %v has %d rings; want the hole in the piece west of the antimeridian only", poly[0][0], len(poly))
			}
		}
	}
	if len(fc.BBox) != 4 || !(fc.BBox[0] > fc.BBox[2]) {
		t.Errorf("collection bbox %v, want west > east", fc.BBox)
	}
	// The footprint crosses too.
	g := ts.getGeoref(t, img.ID)
	if g.Footprint == nil || g.Footprint.Type != "MultiPolygon" {
		t.Fatalf("footprint = %+v, want a MultiPolygon", g.Footprint)
	}
	wantRFC7946Polygons(t, polygonsOf(t, *g.Footprint))
}

// TestLonLatExportReadsInGDAL hands the lon/lat exports to GDAL's own GeoJSON reader,
// the oracle for "other software reads this as we meant it". The commands, for a file
// saved from the API:
//
//	ogrinfo -ro -al -geom=YES satmark-<id>-wgs84.geojson
//	ogr2ogr -f CSV /vsistdout/ satmark-<id>-wgs84.geojson -lco GEOMETRY=AS_WKT
//
// It is skipped when ogrinfo is not installed, unless SATMARK_REQUIRE_ORACLES=1.
func TestLonLatExportReadsInGDAL(t *testing.T) {
	ogrinfo, err1 := exec.LookPath("ogrinfo")
	ogr2ogr, err2 := exec.LookPath("ogr2ogr")
	if err1 != nil || err2 != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatalf("ogrinfo or ogr2ogr not found and SATMARK_REQUIRE_ORACLES=1: %v %v", err1, err2)
		}
		t.Skip("ogrinfo/ogr2ogr (gdal-bin) not installed")
	}
	ts := newTestServer(t, smallLimits)
	a := ts.uploadScene(t, 4000, 3000, 800, field("title", "Vladivostok"))
	ts.putGeoref(t, a.ID, "affine", vladivostok6)
	ts.createAnnotation(t, a.ID, `{"label": "facility/naval base", "shape": "polygon", "geometry": {"type": "Polygon",
		"coordinates": [[[100, 100], [1900, 120], [1950, 1400], [120, 1380], [100, 100]], [[500, 500], [900, 500], [900, 900], [500, 900], [500, 500]]]}}`)
	ts.createAnnotation(t, a.ID, `{"label": "landing ship", "shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [`+rotatedRing(2500, 2000, 60, 12, 35)+`]}}`)
	ts.createAnnotation(t, a.ID, `{"label": "frigate", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[10.5, 20.25], [3999, 2999]]}}`)
	ts.createAnnotation(t, a.ID, `{"label": "vessel", "shape": "point", "properties": {"note": "quoted \"name\", with a comma"}, "geometry": {"type": "Point", "coordinates": [1234.5, 987.25]}}`)
	d, _ := antimeridianImage(t, ts, 801)

	for _, img := range []annotations.Image{a, d} {
		t.Run(img.Title, func(t *testing.T) {
			fc, body := ts.lonLatExport(t, "/api/v1/images/"+img.ID+"/annotations.geojson")
			path := filepath.Join(t.TempDir(), "satmark-"+img.ID+"-wgs84.geojson")
			if err := os.WriteFile(path, body, 0o600); err != nil {
				t.Fatal(err)
			}
			info := runOracle(t, ogrinfo, "-ro", "-al", "-geom=YES", path)
			if !strings.Contains(info, "using driver `GeoJSON' successful") {
				t.Errorf("ogrinfo did not open the file as GeoJSON:\n%s", truncate(info, 800))
			}
			if want := fmt.Sprintf("Feature Count: %d", len(fc.Features)); !strings.Contains(info, want) {
				t.Errorf("ogrinfo does not say %q:\n%s", want, truncate(info, 800))
			}
			if !strings.Contains(info, "Geometry: Unknown (any)") && !strings.Contains(info, "Geometry:") {
				t.Errorf("ogrinfo names no geometry type:\n%s", truncate(info, 800))
			}
			head := info
			if i := strings.Index(head, "Layer SRS WKT"); i > 0 {
				head = head[:i]
			}
			t.Logf("ogrinfo -ro -al -geom=YES:\n%s", strings.TrimSpace(head))

			csvText := runOracle(t, ogr2ogr, "-f", "CSV", "/vsistdout/", path, "-lco", "GEOMETRY=AS_WKT")
			rows := readCSV(t, csvText)
			if len(rows) != len(fc.Features)+1 {
				t.Fatalf("ogr2ogr wrote %d rows, want a header and %d features:\n%s", len(rows), len(fc.Features), truncate(csvText, 800))
			}
			if rows[0][0] != "WKT" {
				t.Fatalf("first column %q, want WKT", rows[0][0])
			}
			for i, f := range fc.Features {
				wkt := rows[i+1][0]
				ours := flatten(positionsOf(t, f.Geometry))
				theirs := wktNumbers(t, wkt)
				if !strings.HasPrefix(wkt, strings.ToUpper(f.Geometry.Type)+" ") {
					t.Errorf("feature %s: GDAL reads %q, want a %s", f.ID, truncate(wkt, 60), f.Geometry.Type)
				}
				if len(theirs) != len(ours) {
					t.Errorf("feature %s: GDAL reads %d numbers, we wrote %d: %s", f.ID, len(theirs), len(ours), truncate(wkt, 200))
					continue
				}
				for k := range ours {
					if !near(theirs[k], ours[k], 1e-7) {
						t.Errorf("feature %s: number %d reads as %.9f in GDAL, we wrote %.9f", f.ID, k, theirs[k], ours[k])
					}
				}
			}
			t.Logf("ogr2ogr -f CSV /vsistdout/ … -lco GEOMETRY=AS_WKT: %d features; first: %s", len(rows)-1, truncate(rows[1][0], 160))
		})
	}
}

func flatten(paths [][][2]float64) []float64 {
	var out []float64
	for _, p := range paths {
		for _, q := range p {
			out = append(out, q[0], q[1])
		}
	}
	return out
}

var wktNumber = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?`)

func wktNumbers(t *testing.T, wkt string) []float64 {
	t.Helper()
	var out []float64
	for _, s := range wktNumber.FindAllString(wkt, -1) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("WKT number %q: %v", s, err)
		}
		out = append(out, v)
	}
	return out
}

func TestKMLAndKMZExport(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	// A north-up image in lon/lat: the hand-written .jgw of standards.md §4.
	k := ts.mustUpload(t, filePart("harbour.png", pngBytes(t, 64, 48, 900)), field("worldfile", worldfileText(t, "handwritten.jgw")),
		field("title", "Vladivostok <harbour> & piers"), field("publisher", "Republic of Korea NIS"))
	anns := []annotations.Annotation{
		ts.createAnnotation(t, k.ID, `{"label": "landing ship", "shape": "rotated_rectangle", "properties": {"confidence": "probable", "identification": "Ropucha <class>"},
			"geometry": {"type": "Polygon", "coordinates": [`+rotatedRing(30, 20, 20, 6, 35)+`]}}`),
		ts.createAnnotation(t, k.ID, `{"label": "facility/naval base", "shape": "polygon", "properties": {"confidence": "confirmed"},
			"geometry": {"type": "Polygon", "coordinates": [[[2, 2], [60, 2], [60, 45], [2, 45], [2, 2]], [[10, 10], [10, 20], [20, 20], [20, 10], [10, 10]]]}}`),
		ts.createAnnotation(t, k.ID, `{"label": "landing ship", "shape": "point", "properties": {"confidence": "possible"}, "geometry": {"type": "Point", "coordinates": [40.5, 30.25]}}`),
		ts.createAnnotation(t, k.ID, `{"label": "frigate", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[1, 1], [63, 47]]}}`),
	}

	t.Run("ok, KML of a north-up image", func(t *testing.T) {
		doc, text := ts.kml(t, k.ID)
		d := doc.Document
		if d.Name != "Vladivostok &lt;harbour&gt; &amp; piers" { // escaped for HTML: Google Earth renders names as HTML
			t.Errorf("document name %q, want the image title", d.Name)
		}
		docData := map[string]string{}
		for _, kv := range d.Data {
			docData[kv.Name] = kv.Value
		}
		if docData["publisher"] != "Republic of Korea NIS" || docData["image_id"] != k.ID {
			t.Errorf("document ExtendedData = %v, want the publisher and the image id", docData)
		}
		if len(d.Placemarks) != len(anns) {
			t.Fatalf("%d placemarks, want %d", len(d.Placemarks), len(anns))
		}
		// One style per label colour, in KML's aabbggrr.
		colours := map[string]bool{}
		for _, a := range anns {
			colours[a.Label.Color] = true
		}
		styles := map[string]string{}
		for _, s := range d.Styles {
			styles[s.ID] = s.LineColor
			if s.IconColor != s.LineColor || len(s.PolyColor) != 8 || s.PolyColor[2:] != s.LineColor[2:] {
				t.Errorf("style %s: icon %s, line %s, polygon %s; want one colour", s.ID, s.IconColor, s.LineColor, s.PolyColor)
			}
		}
		if len(styles) != len(colours) {
			t.Errorf("%d styles for %d label colours", len(styles), len(colours))
		}
		for c := range colours {
			want := "ff" + c[5:7] + c[3:5] + c[1:3]
			if got := styles["label-"+c[1:]]; got != strings.ToLower(want) {
				t.Errorf("style of %s: colour %q, want %q (aabbggrr)", c, got, want)
			}
		}
		byID := map[string]annotations.Annotation{}
		for _, a := range anns {
			byID[a.ID] = a
		}
		for _, pm := range d.Placemarks {
			a, ok := byID[strings.TrimPrefix(pm.ID, "annotation-")]
			if !ok {
				t.Errorf("placemark %q is no annotation", pm.ID)
				continue
			}
			data := map[string]string{}
			for _, kv := range pm.Data {
				data[kv.Name] = kv.Value
			}
			if data["confidence"] != string(a.Confidence) || data["publisher"] != "Republic of Korea NIS" {
				t.Errorf("placemark %s ExtendedData = %v, want confidence %q and publisher", pm.ID, data, a.Confidence)
			}
			if pm.StyleURL != "#label-"+a.Label.Color[1:] {
				t.Errorf("placemark %s styleUrl %q, want #label-%s", pm.ID, pm.StyleURL, a.Label.Color[1:])
			}
			if a.Shape == annotations.ShapeRotatedRectangle && (data["length_m"] == "" || data["heading_deg"] == "") {
				t.Errorf("placemark %s ExtendedData = %v, want the ship's length and heading", pm.ID, data)
			}
		}
		// Coordinates: lon,lat tuples with no space inside, inside the image's box.
		coords := kmlCoordinates(t, text)
		if len(coords) != 1+1+2+1 { // point, line, polygon with a hole; no quad
			t.Errorf("%d coordinates elements, want 5", len(coords))
		}
		for _, c := range coords {
			for _, p := range kmlTuples(t, c) {
				if p[0] < 131.85-1e-9 || p[0] > 131.8516+1e-9 || p[1] < 43.13904-1e-9 || p[1] > 43.14+1e-9 {
					t.Errorf("tuple %v is outside the image", p)
				}
			}
		}
		o := d.Overlay
		if o == nil || o.Box == nil || o.Quad != nil {
			t.Fatalf("ground overlay %+v, want a LatLonBox", o)
		}
		if !(o.Box.North > o.Box.South && o.Box.East > o.Box.West) || !near(o.Box.North, 43.14, 1e-9) || !near(o.Box.South, 43.13904, 1e-9) ||
			!near(o.Box.West, 131.85, 1e-9) || !near(o.Box.East, 131.8516, 1e-9) || o.Box.Rotation != 0 {
			t.Errorf("LatLonBox = %+v, want north 43.14, south 43.13904, west 131.85, east 131.8516", *o.Box)
		}
		// The overlay is the image as the IIIF service serves it.
		u, err := url.Parse(o.Href)
		if err != nil || !strings.HasPrefix(u.Path, "/iiif/3/"+k.ID+"/") {
			t.Fatalf("overlay href %q, want the image's IIIF service", o.Href)
		}
		ts.buildPyramids(t)
		rec := ts.do(t, http.MethodGet, u.Path, nil)
		wantStatus(t, rec, http.StatusOK)
		decodeJPEGConfig(t, rec)
	})

	t.Run("ok, KMZ holds doc.kml first and the overlay image", func(t *testing.T) {
		ts.buildPyramids(t)
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+k.ID+"/annotations.kmz", nil)
		wantStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); ct != "application/vnd.google-earth.kmz" {
			t.Errorf("Content-Type = %q, want application/vnd.google-earth.kmz", ct)
		}
		if _, p, _ := mime.ParseMediaType(rec.Header().Get("Content-Disposition")); !strings.HasSuffix(p["filename"], ".kmz") {
			t.Errorf("Content-Disposition = %q, want *.kmz", rec.Header().Get("Content-Disposition"))
		}
		z, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
		if err != nil {
			t.Fatalf("the KMZ is not a zip: %v", err)
		}
		if len(z.File) == 0 || z.File[0].Name != "doc.kml" {
			t.Fatalf("first entry %v, want doc.kml", z.File)
		}
		entries := map[string][]byte{}
		for _, f := range z.File {
			r, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			entries[f.Name], err = io.ReadAll(r)
			r.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
		var doc kmlFile
		if err := xml.Unmarshal(entries["doc.kml"], &doc); err != nil {
			t.Fatalf("doc.kml does not parse: %v", err)
		}
		if doc.Document.Overlay == nil || doc.Document.Overlay.Href != "overlay.jpg" || len(doc.Document.Placemarks) != len(anns) {
			t.Errorf("doc.kml: overlay %+v, %d placemarks; want overlay.jpg and %d", doc.Document.Overlay, len(doc.Document.Placemarks), len(anns))
		}
		ov, ok := entries["overlay.jpg"]
		if !ok {
			t.Fatalf("no overlay.jpg in the KMZ")
		}
		pic, err := jpeg.Decode(bytes.NewReader(ov))
		if err != nil {
			t.Fatalf("overlay.jpg does not decode: %v", err)
		}
		if b := pic.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
			t.Errorf("overlay is %v, want the 64×48 image", b)
		}
	})

	t.Run("ok, rotated affine fit is a gx:LatLonQuad of gdaltransform's corners", func(t *testing.T) {
		img := ts.uploadScene(t, 4000, 3000, 901)
		ts.putGeoref(t, img.ID, "affine", vladivostok6)
		doc, _ := ts.kml(t, img.ID)
		if doc.Document.Overlay == nil || doc.Document.Overlay.Quad == nil {
			t.Fatalf("ground overlay %+v, want a gx:LatLonQuad", doc.Document.Overlay)
		}
		if strings.Contains(strings.TrimSpace(doc.Document.Overlay.Quad.Coordinates), ", ") {
			t.Errorf("quad %q has a space inside a tuple", doc.Document.Overlay.Quad.Coordinates)
		}
		quad := overlayCorners(t, doc)
		for i, want := range vladivostokCorners {
			if !near(quad[i][0], want[0], round7Tol) || !near(quad[i][1], want[1], round7Tol) {
				t.Errorf("quad corner %d = %.12f, %.12f; want gdaltransform's %.12f, %.12f", i, quad[i][0], quad[i][1], want[0], want[1])
			}
		}
		ring := append(quad[:], quad[0])
		if signedArea(ring) <= 0 {
			t.Errorf("quad %v runs clockwise, want counter-clockwise", quad)
		}
	})

	t.Run("nok, image without georeference", func(t *testing.T) {
		plain := ts.newImage(t, 902)
		ts.createAnnotation(t, plain.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [5, 5]}}`)
		for _, ext := range []string{"kml", "kmz"} {
			rec := ts.do(t, http.MethodGet, "/api/v1/images/"+plain.ID+"/annotations."+ext, nil)
			wantError(t, rec, http.StatusConflict, "not_georeferenced", "", "georeference")
			if cd := rec.Header().Get("Content-Disposition"); cd != "" {
				t.Errorf("%s: an error is offered as a download: %q", ext, cd)
			}
		}
		gsd := ts.newImage(t, 903)
		wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+gsd.ID+"/georeference", `{"gsd_m": 2}`), http.StatusOK)
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+gsd.ID+"/annotations.kml", nil), http.StatusConflict, "not_georeferenced", "")
	})
}

func TestFootprints(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	fitted := ts.uploadScene(t, 4000, 3000, 1000, field("title", "fitted"))
	ts.putGeoref(t, fitted.ID, "affine", vladivostok6)
	grid := ts.mustUpload(t, filePart("grid.png", pngBytes(t, 64, 48, 1001)), field("worldfile", worldfileText(t, "handwritten.jgw")))
	tif, err := os.ReadFile(filepath.Join("..", "geo", "testdata", "geotiff", "utm56s.tif"))
	if err != nil {
		t.Fatal(err)
	}
	fromTIFF := ts.mustUpload(t, filePart("utm56s.tif", tif))
	plain := ts.newImage(t, 1002)
	gsd := ts.newImage(t, 1003)
	wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+gsd.ID+"/georeference", `{"gsd_m": 1}`), http.StatusOK)

	type footprintCollection struct {
		Type     string `json:"type"`
		Features []struct {
			Type       string         `json:"type"`
			ID         string         `json:"id"`
			Geometry   lonLatGeometry `json:"geometry"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	footprints := func(t *testing.T) footprintCollection {
		t.Helper()
		rec := ts.do(t, http.MethodGet, "/api/v1/footprints.geojson", nil)
		wantStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); ct != "application/geo+json" {
			t.Errorf("Content-Type = %q, want application/geo+json", ct)
		}
		wantNoNonFinite(t, rec.Body.String(), false)
		var fc footprintCollection
		decode(t, rec, &fc)
		return fc
	}
	ids := func(fc footprintCollection) []string {
		out := []string{}
		for _, f := range fc.Features {
			out = append(out, f.ID)
		}
		sort.Strings(out)
		return out
	}

	t.Run("ok, exactly the georeferenced images, with their footprints", func(t *testing.T) {
		fc := footprints(t)
		want := []string{fitted.ID, grid.ID, fromTIFF.ID}
		sort.Strings(want)
		if got := ids(fc); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("footprints of %v, want %v (not %s or %s)", got, want, plain.ID, gsd.ID)
		}
		for _, f := range fc.Features {
			if f.Type != "Feature" {
				t.Errorf("feature type %q", f.Type)
			}
			polys := polygonsOf(t, f.Geometry)
			wantRFC7946Polygons(t, polys)
			g := ts.getGeoref(t, f.ID)
			if string(f.Geometry.Coordinates) != string(g.Footprint.Coordinates) {
				t.Errorf("footprint of %s = %s, want the georeference's %s", f.ID, f.Geometry.Coordinates, g.Footprint.Coordinates)
			}
			if f.Properties["transform"] == nil || f.Properties["title"] == nil {
				t.Errorf("properties %v, want the title and the transform", f.Properties)
			}
		}
	})

	t.Run("ok, an image whose georeference is deleted leaves the map", func(t *testing.T) {
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+grid.ID+"/georeference", nil), http.StatusNoContent)
		want := []string{fitted.ID, fromTIFF.ID}
		sort.Strings(want)
		if got := ids(footprints(t)); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("footprints of %v after the delete, want %v", got, want)
		}
	})

	t.Run("ok, an image placed later appears", func(t *testing.T) {
		ts.putGeoref(t, plain.ID, "similarity", []gcp{{[2]float64{0, 0}, [2]float64{10, 50}}, {[2]float64{64, 48}, [2]float64{10.001, 49.999}}})
		if got := ids(footprints(t)); len(got) != 3 {
			t.Errorf("footprints of %v, want three images", got)
		}
	})
}

// runOracle runs an external tool and returns what it printed; it fails the test if the
// tool fails.
func runOracle(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func readCSV(t *testing.T, text string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("ogr2ogr's CSV does not read: %v\n%s", err, truncate(text, 600))
	}
	return rows
}

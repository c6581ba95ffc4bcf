package server_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// Round trips: annotations of every shape exported from one data folder, imported into a
// fresh one holding the same image (placed the same way), come back as they were, as far
// as each format can carry them.

// roundTripSource is a data folder with the 4000 × 3000 port scene placed at
// Vladivostok and one annotation of each shape, with properties.
func roundTripSource(t *testing.T) (*testServer, annotations.Image) {
	t.Helper()
	ts := newTestServer(t, smallLimits)
	img := ts.uploadScene(t, 4000, 3000, 1)
	ts.putGeoref(t, img.ID, "affine", vladivostok6)
	for _, body := range []string{
		`{"label": "vessel/landing ship", "shape": "rectangle",
		  "geometry": {"type": "Polygon", "coordinates": [[[1500.25, 1200.5], [1620.75, 1200.5], [1620.75, 1240.125], [1500.25, 1240.125], [1500.25, 1200.5]]]},
		  "properties": {"confidence": "probable", "identification": "Ropucha-class", "note": "pier 3",
		                 "hull": "BDK-61", "count": 3, "tags": ["bow", "stern"], "nested": {"a": {"b": 1.5}}}}`,
		`{"label": "vessel/frigate", "shape": "rotated_rectangle",
		  "geometry": {"type": "Polygon", "coordinates": [` + rotatedRing(2000.5, 1500.25, 120.5, 20.25, 31.5) + `]},
		  "properties": {"confidence": "confirmed", "note": "<b>bold</b> & «quoted»", "heading_source": "wake"}}`,
		`{"label": "facility/pier", "shape": "polygon",
		  "geometry": {"type": "Polygon", "coordinates": [
		     [[100, 100], [900, 110.5], [880, 700], [120, 690], [100, 100]],
		     [[300, 300], [300, 400], [400, 400], [400, 300], [300, 300]]]},
		  "properties": {"confidence": "possible", "identification": "north mole"}}`,
		`{"label": "vehicle", "shape": "line",
		  "geometry": {"type": "LineString", "coordinates": [[3000.5, 2500.25], [3100.125, 2550], [3180, 2700.75]]},
		  "properties": {"note": "=HYPERLINK(\"http://example.invalid\") convoy route", "identification": "'-1 column"}}`,
		`{"label": "aircraft", "shape": "point",
		  "geometry": {"type": "Point", "coordinates": [3500.125, 400.875]},
		  "properties": {"identification": "Il-76", "count": 1}}`,
	} {
		ts.createAnnotation(t, img.ID, body)
	}
	return ts, img
}

// freshCopy is a new data folder with the same image (the same bytes) placed the same way.
func freshCopy(t *testing.T) (*testServer, annotations.Image) {
	t.Helper()
	ts := newTestServer(t, smallLimits)
	img := ts.uploadScene(t, 4000, 3000, 1)
	ts.putGeoref(t, img.ID, "affine", vladivostok6)
	return ts, img
}

func (ts *testServer) annotationsOf(t *testing.T, imageID string) []annotations.Annotation {
	t.Helper()
	as, err := ts.store.Annotations(context.Background(), annotations.AnnotationFilter{ImageIDs: []string{imageID}})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func (ts *testServer) get(t *testing.T, target string) []byte {
	t.Helper()
	rec := ts.do(t, http.MethodGet, target, nil)
	wantStatus(t, rec, http.StatusOK)
	return rec.Body.Bytes()
}

// carried is what a format keeps of an annotation: which shapes, how closely, and which
// properties.
type carried struct {
	shapes     map[annotations.Shape]bool
	tolerance  float64 // pixels
	ordered    bool    // the ring's vertices in their order (else boxes compared as boxes)
	properties bool    // confidence, identification, note
	attributes bool
	confidence func(annotations.Confidence) annotations.Confidence // what the format keeps of it
}

var allShapes = map[annotations.Shape]bool{annotations.ShapePoint: true, annotations.ShapeLine: true, annotations.ShapePolygon: true,
	annotations.ShapeRectangle: true, annotations.ShapeRotatedRectangle: true}

func TestImportRoundTrips(t *testing.T) {
	src, img := roundTripSource(t)
	boxes := map[annotations.Shape]bool{annotations.ShapeRectangle: true, annotations.ShapeRotatedRectangle: true}
	possibleOnly := func(c annotations.Confidence) annotations.Confidence {
		if c == annotations.Possible {
			return c
		}
		return ""
	}
	exact := carried{shapes: allShapes, tolerance: 1e-6, ordered: true, properties: true, attributes: true}
	cases := []struct {
		format string
		query  url.Values
		file   func(t *testing.T) []byte
		keeps  carried
	}{
		{"geojson", nil, func(t *testing.T) []byte {
			return src.get(t, "/api/v1/images/"+img.ID+"/annotations.geojson?crs=pixel")
		}, exact},
		{"geojson", nil, func(t *testing.T) []byte {
			return src.get(t, "/api/v1/images/"+img.ID+"/annotations.geojson?crs=wgs84")
		}, exact},
		{"qupath", nil, func(t *testing.T) []byte {
			return src.get(t, "/api/v1/images/"+img.ID+"/annotations.geojson?crs=pixel")
		}, exact},
		// KML has lon/lat to 7 decimals (about 1 cm: a few thousandths of these pixels), its
		// rings run as RFC 7946 has them (exterior counter-clockwise on the earth), and it has
		// no free attributes.
		{"kml", nil, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/annotations.kml") },
			carried{shapes: allShapes, tolerance: 0.01, properties: true}},
		{"coco", nil, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/export?format=coco") },
			carried{shapes: map[annotations.Shape]bool{annotations.ShapePolygon: true, annotations.ShapeRectangle: true, annotations.ShapeRotatedRectangle: true},
				tolerance: 1e-6, ordered: true, properties: true, attributes: true}},
		{"coco", url.Values{"name": {"port.coco.json"}}, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/annotations.coco.json") },
			carried{shapes: map[annotations.Shape]bool{annotations.ShapePolygon: true, annotations.ShapeRectangle: true, annotations.ShapeRotatedRectangle: true},
				tolerance: 1e-6, ordered: true, properties: true, attributes: true}},
		{"cvat", nil, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/export?format=cvat") },
			carried{shapes: allShapes, tolerance: 1e-6, properties: true, attributes: true}},
		{"voc", nil, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/export?format=voc") },
			carried{shapes: map[annotations.Shape]bool{annotations.ShapePolygon: true, annotations.ShapeRectangle: true, annotations.ShapeRotatedRectangle: true},
				tolerance: 1e-6, ordered: true, properties: true, attributes: true}},
		{"csv", nil, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/export?format=csv") }, exact},
		{"csv", url.Values{"name": {"port.csv"}}, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/annotations.csv") }, exact},
		{"yolo-obb", nil, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/export?format=yolo-obb") },
			carried{shapes: boxes, tolerance: 1e-6}},
		{"dota", nil, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/export?format=dota") },
			carried{shapes: boxes, tolerance: 1e-6, confidence: possibleOnly}},
		{"yolo", nil, func(t *testing.T) []byte { return src.get(t, "/api/v1/images/"+img.ID+"/export?format=yolo") },
			carried{shapes: map[annotations.Shape]bool{annotations.ShapeRectangle: true}, tolerance: 1e-6}},
	}
	for _, c := range cases {
		name := c.format
		if len(c.query) > 0 {
			name += " " + c.query.Encode()
		}
		t.Run(name, func(t *testing.T) {
			file := c.file(t)
			dst, target := freshCopy(t)
			q := url.Values{"format": {c.format}}
			for k, v := range c.query {
				q[k] = v
			}
			rep, code, body := dst.importFile(t, target.ID, q, file)
			if code != http.StatusCreated {
				t.Fatalf("import: %d %s", code, truncate(body, 800))
			}
			wantCarried(t, c.format, c.keeps, src.annotationsOf(t, img.ID), dst.annotationsOf(t, target.ID))
			// And out again: the second export holds the same features.
			if c.format == "geojson" {
				again := dst.get(t, "/api/v1/images/"+target.ID+"/annotations.geojson?crs=pixel")
				if n := len(featuresOf(t, again)); n != rep.Created {
					t.Errorf("the second export has %d features, want %d", n, rep.Created)
				}
			}
		})
	}
}

func featuresOf(t *testing.T, b []byte) []json.RawMessage {
	t.Helper()
	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	return fc.Features
}

// wantCarried compares the annotations a format carries with what came back.
func wantCarried(t *testing.T, format string, keeps carried, before, after []annotations.Annotation) {
	t.Helper()
	var want []annotations.Annotation
	for _, a := range before {
		if keeps.shapes[a.Shape] {
			want = append(want, a)
		}
	}
	if format == "yolo" || format == "yolo-obb" || format == "dota" {
		// Polygons (and for YOLO detect, rotated rectangles) come back as boxes round them
		// too: counted here, and left out of what is compared.
		if len(after) != len(want)+countShape(before, annotations.ShapePolygon)+boolInt(format == "yolo")*countShape(before, annotations.ShapeRotatedRectangle) {
			t.Errorf("%s: got %d annotations back", format, len(after))
		}
		after = onlyLike(after, want)
	}
	if len(after) != len(want) {
		t.Fatalf("%s: got %d annotations back, want %d", format, len(after), len(want))
	}
	for i, w := range want {
		g := after[i]
		if g.Label.ID == "" || !reflect.DeepEqual(g.Label.Path, w.Label.Path) {
			t.Errorf("%s #%d: label %v, want %v", format, i, g.Label.Path, w.Label.Path)
		}
		if g.Shape != w.Shape {
			t.Errorf("%s #%d: shape %s, want %s", format, i, g.Shape, w.Shape)
			continue
		}
		if why := geometryDiffers(w, g, keeps.tolerance, keeps.ordered); why != "" {
			t.Errorf("%s #%d (%s): %s\n got %v\nwant %v", format, i, w.Shape, why, g.Geometry.Coordinates, w.Geometry.Coordinates)
		}
		conf := w.Confidence
		if keeps.confidence != nil {
			conf = keeps.confidence(conf)
		} else if !keeps.properties {
			conf = ""
		}
		if g.Confidence != conf {
			t.Errorf("%s #%d: confidence %q, want %q", format, i, g.Confidence, conf)
		}
		if keeps.properties && (g.Identification != w.Identification || g.Note != w.Note) {
			t.Errorf("%s #%d: identification %q note %q, want %q %q", format, i, g.Identification, g.Note, w.Identification, w.Note)
		}
		if keeps.attributes {
			gb, _ := json.Marshal(g.Attributes)
			wb, _ := json.Marshal(w.Attributes)
			if !bytes.Equal(gb, wb) {
				t.Errorf("%s #%d: attributes %s, want %s", format, i, gb, wb)
			}
		}
		if g.ReviewStatus != "draft" || g.Version != 1 {
			t.Errorf("%s #%d: review %s version %d, want a new draft", format, i, g.ReviewStatus, g.Version)
		}
	}
}

func countShape(as []annotations.Annotation, s annotations.Shape) int {
	n := 0
	for _, a := range as {
		if a.Shape == s {
			n++
		}
	}
	return n
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// onlyLike keeps, in order, the annotations of got whose label matches the next wanted.
func onlyLike(got, want []annotations.Annotation) []annotations.Annotation {
	var out []annotations.Annotation
	j := 0
	for _, g := range got {
		if j < len(want) && reflect.DeepEqual(g.Label.Path, want[j].Label.Path) {
			out = append(out, g)
			j++
		}
	}
	return out
}

// geometryDiffers says how got's geometry differs from want's beyond tol: vertex by
// vertex when ordered, else boxes as boxes (a rectangle by its extent; a rotated
// rectangle by its centre, sides and heading) and other shapes vertex by vertex.
func geometryDiffers(want, got annotations.Annotation, tol float64, ordered bool) string {
	if !ordered && (want.Shape == annotations.ShapeRectangle || want.Shape == annotations.ShapeRotatedRectangle) {
		a, b := boxOfRing(want), boxOfRing(got)
		for i := range a {
			d := math.Abs(a[i] - b[i])
			if i == 4 {
				d = math.Abs(math.Remainder(a[i]-b[i], 360))
			}
			if d > tol {
				return "another box (centre x, y, length, width, heading)"
			}
		}
		return ""
	}
	if len(want.Geometry.Coordinates) != len(got.Geometry.Coordinates) {
		return "another number of rings"
	}
	for r := range want.Geometry.Coordinates {
		w, g := want.Geometry.Coordinates[r], got.Geometry.Coordinates[r]
		if len(w) != len(g) {
			return "another number of positions"
		}
		if !samePositions(w, g, tol) && (ordered || want.Geometry.Type != "Polygon" || !sameRing(w, g, tol)) {
			return "positions further apart than the tolerance"
		}
	}
	return ""
}

func samePositions(w, g []annotations.Position, tol float64) bool {
	for i := range w {
		if math.Abs(w[i][0]-g[i][0]) > tol || math.Abs(w[i][1]-g[i][1]) > tol {
			return false
		}
	}
	return true
}

// sameRing reports whether two closed rings visit the same positions in turn, from any
// start and either way round.
func sameRing(w, g []annotations.Position, tol float64) bool {
	n := len(w) - 1
	for start := 0; start < n; start++ {
		for _, dir := range []int{1, -1} {
			ok := true
			for i := 0; i < n && ok; i++ {
				q := g[((start+dir*i)%n+n)%n]
				ok = math.Abs(w[i][0]-q[0]) <= tol && math.Abs(w[i][1]-q[1]) <= tol
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// boxOfRing is a box's centre, length, width and heading (degrees clockwise on screen
// from +x along the side drawn first, as the ground measures take it); a rectangle's
// heading is 0.
func boxOfRing(a annotations.Annotation) [5]float64 {
	r := a.Geometry.Coordinates[0]
	cx, cy := (r[0][0]+r[1][0]+r[2][0]+r[3][0])/4, (r[0][1]+r[1][1]+r[2][1]+r[3][1])/4
	s1 := math.Hypot(r[1][0]-r[0][0], r[1][1]-r[0][1])
	s2 := math.Hypot(r[2][0]-r[1][0], r[2][1]-r[1][1])
	if a.Shape == annotations.ShapeRectangle {
		x0, x1 := math.Min(r[0][0], r[2][0]), math.Max(r[0][0], r[2][0])
		y0, y1 := math.Min(r[0][1], r[2][1]), math.Max(r[0][1], r[2][1])
		return [5]float64{cx, cy, x1 - x0, y1 - y0, 0}
	}
	mid := func(p, q annotations.Position) annotations.Position {
		return annotations.Position{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2}
	}
	from, to := mid(r[0], r[3]), mid(r[1], r[2])
	length, width := s1, s2
	if s1 < s2 {
		from, to = mid(r[0], r[1]), mid(r[3], r[2])
		length, width = s2, s1
	}
	return [5]float64{cx, cy, length, width, math.Atan2(to[1]-from[1], to[0]-from[0]) * 180 / math.Pi}
}

// roundTripGeoPackage is roundTripSource's lon/lat export (the file lonlat) taken by
// GDAL into a GeoPackage, both in dir.
func roundTripGeoPackage(t *testing.T) (src *testServer, img annotations.Image, dir, lonlat, gpkg string) {
	t.Helper()
	src, img = roundTripSource(t)
	dir = t.TempDir()
	lonlat = filepath.Join(dir, "port.geojson")
	if err := os.WriteFile(lonlat, src.get(t, "/api/v1/images/"+img.ID+"/annotations.geojson?crs=wgs84"), 0o644); err != nil {
		t.Fatal(err)
	}
	gpkg = filepath.Join(dir, "port.gpkg")
	if out, err := exec.Command("ogr2ogr", "-f", "GPKG", gpkg, lonlat).CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v %s", err, out)
	}
	return src, img, dir, lonlat, gpkg
}

// TestImportFromGDAL takes satmark's lon/lat export through GDAL into a GeoPackage and a
// Shapefile (as a GIS would hand them back) and imports those.
func TestImportFromGDAL(t *testing.T) {
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatal("ogr2ogr is not installed (gdal-bin)")
		}
		t.Skip("ogr2ogr is not installed (gdal-bin)")
	}
	src, img, dir, lonlat, gpkg := roundTripGeoPackage(t)
	t.Run("gpkg", func(t *testing.T) {
		file, _ := os.ReadFile(gpkg)
		dst, target := freshCopy(t)
		_, code, body := dst.importFile(t, target.ID, query("format", "gpkg"), file)
		if code != http.StatusCreated {
			t.Fatalf("import: %d %s", code, truncate(body, 800))
		}
		// Each feature names its image and keeps its pixel geometry: exact.
		wantCarried(t, "gpkg", carried{shapes: allShapes, tolerance: 1e-6, ordered: true, properties: true, attributes: true},
			src.annotationsOf(t, img.ID), dst.annotationsOf(t, target.ID))
	})
	t.Run("shapefile", func(t *testing.T) {
		// A Shapefile holds one geometry type, and field names of 10 characters: the
		// polygons, labelled by a plain "label" field, positions in lon/lat.
		shp := filepath.Join(dir, "shp")
		if out, err := exec.Command("ogr2ogr", "-f", "ESRI Shapefile", shp, lonlat, "-nlt", "POLYGON", "-lco", "ENCODING=UTF-8",
			"-oo", "FLATTEN_NESTED_ATTRIBUTES=YES",
			"-sql", "SELECT metadata_label AS label, note, confidence, identification FROM port WHERE shape = 'polygon'").CombinedOutput(); err != nil {
			t.Fatalf("ogr2ogr: %v %s", err, out)
		}
		var files []string
		for _, ext := range []string{".shp", ".shx", ".dbf", ".prj"} {
			b, err := os.ReadFile(filepath.Join(shp, "port"+ext))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, "port"+ext, string(b))
		}
		dst, target := freshCopy(t)
		rep, code, body := dst.importFile(t, target.ID, query("format", "shapefile"), zipOf(t, files...), dst.as(t, "kim")...)
		if code != http.StatusCreated || rep.Created != 1 {
			t.Fatalf("import: %d %s", code, truncate(body, 800))
		}
		// A Shapefile runs its rings its own way round (the same rings, not the same order)
		// and cuts field names to 10 characters ("identifica"): the confidence is what is
		// compared of the properties.
		same := func(c annotations.Confidence) annotations.Confidence { return c }
		wantCarried(t, "shapefile", carried{shapes: map[annotations.Shape]bool{annotations.ShapePolygon: true}, tolerance: 0.01, confidence: same},
			src.annotationsOf(t, img.ID), dst.annotationsOf(t, target.ID))
	})
}

// TestCSVGuardsFormulas: a note a spreadsheet would run as a formula reaches it as text
// (a leading apostrophe), and comes back without the apostrophe on import (above).
func TestCSVGuardsFormulas(t *testing.T) {
	src, img := roundTripSource(t)
	rows, err := csv.NewReader(bytes.NewReader(src.get(t, "/api/v1/images/"+img.ID+"/annotations.csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	found := false
	for _, r := range rows[1:] {
		if r[col["shape"]] != "line" {
			continue
		}
		found = true
		if got, want := r[col["note"]], `'=HYPERLINK("http://example.invalid") convoy route`; got != want {
			t.Errorf("note cell %q, want %q", got, want)
		}
		if got, want := r[col["identification"]], `''-1 column`; got != want {
			t.Errorf("identification cell %q, want %q", got, want)
		}
		if got := r[col["geometry_px"]]; !strings.HasPrefix(got, "LINESTRING") {
			t.Errorf("geometry cell %q: WKT is not guarded", got)
		}
	}
	if !found {
		t.Fatal("no line in the CSV")
	}
}

// TestImportRunsGDALBeforeTheWriteLock: a GeoPackage's import runs ogr2ogr before the
// import's transaction takes the database's write lock, so that other writes do not wait
// for GDAL. The real ogr2ogr runs behind a script that first tries to take the write
// lock itself, with SQLite's own shell, without waiting, and writes down whether it could.
func TestImportRunsGDALBeforeTheWriteLock(t *testing.T) {
	ogr2ogr, err := exec.LookPath("ogr2ogr")
	if err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatal("ogr2ogr is not installed (gdal-bin)")
		}
		t.Skip("ogr2ogr is not installed (gdal-bin)")
	}
	sqlite3, err := exec.LookPath("sqlite3")
	if err != nil {
		t.Skip("sqlite3 is not installed")
	}
	src, img, dir, _, gpkg := roundTripGeoPackage(t)
	dst, target := freshCopy(t)
	bin, log := filepath.Join(dir, "bin"), filepath.Join(dir, "lock.log")
	os.Mkdir(bin, 0o755)
	script := fmt.Sprintf("#!/bin/sh\nif %q %q 'BEGIN IMMEDIATE; ROLLBACK;' 2>/dev/null; then echo free >>%q; else echo locked >>%q; fi\nexec %q \"$@\"\n",
		sqlite3, filepath.Join(dst.dir, "satmark.db"), log, log, ogr2ogr)
	if err := os.WriteFile(filepath.Join(bin, "ogr2ogr"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	file, _ := os.ReadFile(gpkg)
	for _, dry := range []string{"true", "false"} {
		if _, code, body := dst.importFile(t, target.ID, query("format", "gpkg", "dry_run", dry), file); code/100 != 2 {
			t.Fatalf("import (dry run %s): %d %s", dry, code, truncate(body, 800))
		}
	}
	if n := len(dst.annotationsOf(t, target.ID)); n != len(src.annotationsOf(t, img.ID)) {
		t.Errorf("%d annotations imported, want %d", n, len(src.annotationsOf(t, img.ID)))
	}
	got, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("the script before ogr2ogr did not run: %v", err)
	}
	if want := "free\nfree\n"; string(got) != want {
		t.Errorf("the write lock as ogr2ogr started, once a run: %q, want %q", got, want)
	}
}

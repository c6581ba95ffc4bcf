package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// Every dataset export read by the consumer it is for, as that consumer's own code reads
// it: testdata/ml_readers.py mirrors pycocotools, Ultralytics, the DOTA devkit, CVAT's
// importer and Detectron2's VOC loader with the libraries they use; GDAL's ogrinfo reads
// the CSV.

// mlPython is a Python with the libraries ml_readers.py needs (Debian's python3-opencv,
// python3-shapely, python3-lxml, python3-pil, python3-yaml: /usr/bin/python3, which a
// python3 earlier on the PATH may not be). The tests skip without one, unless
// SATMARK_REQUIRE_ORACLES=1.
func mlPython(t *testing.T) string {
	t.Helper()
	mlPythonOnce.Do(func() {
		candidates := []string{"/usr/bin/python3"}
		if p, err := exec.LookPath("python3"); err == nil {
			candidates = append(candidates, p)
		}
		for _, p := range candidates {
			if exec.Command(p, "-c", "import cv2, shapely, lxml, PIL, yaml").Run() == nil {
				mlPythonPath = p
				return
			}
		}
	})
	if mlPythonPath != "" {
		return mlPythonPath
	}
	if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
		t.Fatalf("no python3 with cv2, shapely, lxml, PIL and yaml (apt-get install python3-opencv python3-shapely python3-lxml python3-pil python3-yaml) and SATMARK_REQUIRE_ORACLES=1")
	}
	t.Skip("python3-opencv, python3-shapely, python3-lxml, python3-pil or python3-yaml not installed")
	return ""
}

var (
	mlPythonOnce sync.Once
	mlPythonPath string
)

// mlRead runs one reader of testdata/ml_readers.py on path and decodes what it printed.
func mlRead(t *testing.T, into any, args ...string) {
	t.Helper()
	py := mlPython(t)
	script, err := filepath.Abs(filepath.Join("testdata", "ml_readers.py"))
	if err != nil {
		t.Fatal(err)
	}
	out := runOracle(t, py, append([]string{script}, args...)...)
	if err := json.Unmarshal([]byte(out), into); err != nil {
		t.Fatalf("ml_readers.py %s printed %q: %v", args[0], truncate(out, 600), err)
	}
}

// unzipTo writes a zip's files under a new folder and returns it.
func unzipTo(t *testing.T, body []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	dir := t.TempDir()
	for _, f := range zr.File {
		if strings.Contains(f.Name, "..") || strings.HasPrefix(f.Name, "/") {
			t.Fatalf("zip entry %q leaves its folder", f.Name)
		}
		path := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(r); err != nil {
			t.Fatalf("zip entry %s: %v", f.Name, err)
		}
		r.Close()
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func writeTemp(t *testing.T, name string, body []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mlAnnotation is an annotation of mlScene with what each format must say of it.
type mlAnnotation struct {
	annotations.Annotation
	heading float64 // a rotated rectangle's, degrees clockwise from +x; 0 for a rectangle
	length  float64 // along the heading
	width   float64
	file    string // the image's file name in the dataset
}

// mlScene is two images: one georeferenced (Vladivostok, 4000×3000) with a ship drawn
// stern to bow along its side, one drawn across its beam first, a pier, a naval base with
// a hole, a concave breakwater, a line and a point; one with only pixels (1200×900) with
// a ship heading up and left, and a point. Their annotations come in the order the
// exports write them: by image id, then creation.
func mlScene(t *testing.T, ts *testServer) []mlAnnotation {
	t.Helper()
	vlad := ts.uploadScene(t, 4000, 3000, 811, field("title", "Vladivostok"), field("publisher", "National Intelligence Service"), field("license", "public release"))
	ts.putGeoref(t, vlad.ID, "affine", vladivostok6)
	plain := ts.uploadScene(t, 1200, 900, 812, field("title", "Unplaced"))
	var out []mlAnnotation
	add := func(img annotations.Image, body map[string]any, heading, length, width float64) {
		a := ts.createAnnotation(t, img.ID, body)
		out = append(out, mlAnnotation{Annotation: a, heading: heading, length: length, width: width})
	}
	poly := func(ring string) json.RawMessage {
		return json.RawMessage(`{"type": "Polygon", "coordinates": [` + ring + `]}`)
	}
	for _, img := range []annotations.Image{vlad, plain} {
		if img.ID == vlad.ID {
			add(img, map[string]any{"label": "vessel/landing ship", "shape": "rotated_rectangle", "geometry": poly(rotatedRing(2500, 2000, 120, 24, 35)),
				"properties": map[string]any{"confidence": "probable", "identification": "Ropucha-class", "note": "bow <north-east>", "hull": "<i>027</i>", "count": 2}}, 35, 120, 24)
			// Drawn across the beam first: its heading runs from that side to the other.
			across := `[[3000, 500], [3000, 530], [2900, 530], [2900, 500], [3000, 500]]`
			add(img, map[string]any{"label": "vessel", "shape": "rotated_rectangle", "geometry": poly(across),
				"properties": map[string]any{"confidence": "possible"}}, 180, 100, 30)
			add(img, map[string]any{"label": "facility/naval base", "shape": "rectangle", "geometry": poly(`[[100.5, 200.25], [700.5, 200.25], [700.5, 260.75], [100.5, 260.75], [100.5, 200.25]]`)}, 0, 0, 0)
			add(img, map[string]any{"label": "facility/naval base", "shape": "polygon", "geometry": json.RawMessage(`{"type": "Polygon", "coordinates": [
				[[1000, 1000], [1800, 1050], [1850, 1700], [1050, 1650], [1000, 1000]], [[1200, 1200], [1500, 1200], [1500, 1450], [1200, 1450], [1200, 1200]]]}`),
				"properties": map[string]any{"note": "with a dock basin"}}, 0, 0, 0)
			add(img, map[string]any{"label": "facility", "shape": "polygon", "geometry": poly(`[[200, 2600], [900, 2300], [950, 2380], [300, 2700], [200, 2600]]`)}, 0, 0, 0)
			add(img, map[string]any{"label": "vessel", "shape": "line", "geometry": json.RawMessage(`{"type": "LineString", "coordinates": [[10.5, 20.25], [3999, 2999]]}`)}, 0, 0, 0)
			add(img, map[string]any{"label": "personnel/troop formation", "shape": "point", "geometry": json.RawMessage(`{"type": "Point", "coordinates": [450.5, 300.75]}`)}, 0, 0, 0)
		} else {
			add(img, map[string]any{"label": "vessel/frigate", "shape": "rotated_rectangle", "geometry": poly(rotatedRing(600, 450, 80, 14, 300)),
				"properties": map[string]any{"confidence": "confirmed"}}, 300, 80, 14)
			add(img, map[string]any{"label": "vessel", "shape": "point", "geometry": json.RawMessage(`{"type": "Point", "coordinates": [10, 10]}`)}, 0, 0, 0)
		}
	}
	names := map[string]string{vlad.ID: "scene-811.png", plain.ID: "scene-812.png"}
	for i := range out {
		out[i].file = names[out[i].ImageID]
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ImageID < out[j].ImageID })
	return out
}

func isBox(a mlAnnotation) bool {
	return a.Shape == annotations.ShapeRectangle || a.Shape == annotations.ShapeRotatedRectangle
}

func ringExtent(r []annotations.Position) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range r {
		x0, y0, x1, y1 = math.Min(x0, p[0]), math.Min(y0, p[1]), math.Max(x1, p[0]), math.Max(y1, p[1])
	}
	return
}

// modDiff is the difference of two angles in degrees modulo period, in [0, period/2].
func modDiff(a, b, period float64) float64 {
	d := math.Mod(math.Abs(a-b), period)
	return math.Min(d, period-d)
}

func (ts *testServer) download(t *testing.T, target string) []byte {
	t.Helper()
	rec := ts.do(t, http.MethodGet, target, nil)
	wantStatus(t, rec, http.StatusOK)
	return rec.Body.Bytes()
}

// TestDatasetExportsReadByTheirConsumers reads every dataset export of mlScene the way
// its consumer does (see testdata/ml_readers.py).
func TestDatasetExportsReadByTheirConsumers(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	scene := mlScene(t, ts)
	t.Run("COCO", func(t *testing.T) { checkCOCOAsPycocotools(t, ts, scene) })
	t.Run("YOLO-OBB", func(t *testing.T) { checkYOLOAsUltralytics(t, ts, scene, true) })
	t.Run("YOLO detect", func(t *testing.T) { checkYOLOAsUltralytics(t, ts, scene, false) })
	t.Run("DOTA", func(t *testing.T) { checkDOTAAsDevkit(t, ts, scene) })
	t.Run("CVAT", func(t *testing.T) { checkCVATAsCVAT(t, ts, scene) })
	t.Run("VOC", func(t *testing.T) { checkVOCAsDetectron2(t, ts, scene) })
	t.Run("CSV", func(t *testing.T) { checkCSVAsGDAL(t, ts, scene) })
}

// checkCOCOAsPycocotools loads the COCO file of one image and of the whole library the
// way pycocotools' COCO class does (createIndex, annToMask): every rectangle, ship and
// polygon is an instance whose mask covers `area` pixels (the polygon's, the hole left
// out, not the box's), inside its bbox, with its category, supercategory and rotation;
// the point and the line are left out.
func checkCOCOAsPycocotools(t *testing.T, ts *testServer, scene []mlAnnotation) {
	zipped := unzipTo(t, ts.download(t, "/api/v1/export?format=coco"))
	single := writeTemp(t, "instances.json", ts.download(t, "/api/v1/images/"+scene[0].ImageID+"/annotations.coco.json"))
	for _, tc := range []struct {
		name, path string
		want       []mlAnnotation
	}{
		{"ok, every image", filepath.Join(zipped, "annotations", "instances.json"), scene},
		{"ok, one image", single, imageOnly(scene, scene[0].ImageID)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got struct {
				Categories []struct {
					Name, Supercategory string
				}
				Annotations []struct {
					Area, Perimeter float64
					MaskArea        float64 `json:"mask_area"`
					BBox            []float64
					MaskBBox        []float64 `json:"mask_bbox"`
					Category        string
					Supercategory   string
					ImageFile       string `json:"image_file"`
					IsCrowd         int
					Attributes      map[string]any
				}
				Index map[string]int
			}
			mlRead(t, &got, "coco", tc.path)
			var want []mlAnnotation
			for _, a := range tc.want {
				if a.Geometry.Type == "Polygon" {
					want = append(want, a)
				}
			}
			if len(got.Annotations) != len(want) {
				t.Fatalf("pycocotools indexed %d annotations, want %d (the point and line left out)", len(got.Annotations), len(want))
			}
			for k, v := range got.Index {
				if v != len(want) {
					t.Errorf("index %s holds %d annotations, want %d", k, v, len(want))
				}
			}
			supers := map[string]string{}
			for _, c := range got.Categories {
				supers[c.Name] = c.Supercategory
			}
			if supers["landing ship"] != "vessel" || supers["vessel"] != "vessel" || supers["naval base"] != "facility" {
				t.Errorf("supercategories %v: want landing ship → vessel, naval base → facility, vessel → itself", supers)
			}
			for i, g := range got.Annotations {
				w := want[i]
				id, _ := g.Attributes["satmark_id"].(string)
				if id != w.ID {
					t.Fatalf("annotation %d is %s, want %s", i, id, w.ID)
				}
				area := w.Geometry.Measure(w.Shape).AreaPx2
				if math.Abs(g.Area-area) > 1e-6 {
					t.Errorf("%s: area %g, want the polygon's %g", w.Shape, g.Area, area)
				}
				// OpenCV fills every pixel an edge passes through: the mask may differ from
				// the polygon by a band a pixel wide along its outline, no more.
				if d := math.Abs(g.MaskArea - g.Area); d > g.Perimeter+1 {
					t.Errorf("%s: the mask covers %g px, area says %g (off by %g, more than the outline's band of %g px)", w.Shape, g.MaskArea, g.Area, d, g.Perimeter+1)
				}
				x0, y0, x1, y1 := ringExtent(w.Geometry.Coordinates[0])
				for j, v := range []float64{x0, y0, x1 - x0, y1 - y0} {
					if math.Abs(g.BBox[j]-v) > 1e-9 {
						t.Errorf("%s: bbox %v, want [%g %g %g %g]", w.Shape, g.BBox, x0, y0, x1-x0, y1-y0)
						break
					}
				}
				m, b := g.MaskBBox, g.BBox
				if len(m) != 4 || math.Abs(m[0]-b[0]) > 1 || math.Abs(m[1]-b[1]) > 1 || math.Abs(m[0]+m[2]-b[0]-b[2]) > 1 || math.Abs(m[1]+m[3]-b[1]-b[3]) > 1 {
					t.Errorf("%s: the mask spans %v, the bbox %v", w.Shape, m, b)
				}
				if g.Category != w.Label.Name || g.ImageFile != w.file || g.IsCrowd != 0 {
					t.Errorf("%s: category %q of %q (iscrowd %d), want %q of %q", w.Shape, g.Category, g.ImageFile, g.IsCrowd, w.Label.Name, w.file)
				}
				rot, hasRotation := g.Attributes["rotation"].(float64)
				if isBox(w) != hasRotation || (hasRotation && modDiff(rot, w.heading, 360) > 1e-9) {
					t.Errorf("%s: rotation %v (%v), want %g", w.Shape, g.Attributes["rotation"], hasRotation, w.heading)
				}
			}
		})
	}
}

func imageOnly(scene []mlAnnotation, id string) []mlAnnotation {
	var out []mlAnnotation
	for _, a := range scene {
		if a.ImageID == id {
			out = append(out, a)
		}
	}
	return out
}

// polygonsOnly are the annotations the box and polygon formats carry, of one image.
func polygonsOnly(scene []mlAnnotation, file string) []mlAnnotation {
	var out []mlAnnotation
	for _, a := range scene {
		if a.Geometry.Type == "Polygon" && a.file == file {
			out = append(out, a)
		}
	}
	return out
}

func labelPath(a mlAnnotation) string { return strings.Join(a.Label.Path, "/") }

func centroid(r []annotations.Position) [2]float64 {
	var c [2]float64
	for _, p := range r[:len(r)-1] {
		c[0] += p[0] / float64(len(r)-1)
		c[1] += p[1] / float64(len(r)-1)
	}
	return c
}

// checkYOLOAsUltralytics reads the YOLO zip, originals included, as Ultralytics'
// dataset check does (data.yaml's names, img2label_paths, verify_image_label) and, for
// OBB, turns each line into xywhr with cv2.minAreaRect as its loader does: a ship's box
// keeps its length, beam, centre and heading (modulo 180°, within 1°), a rectangle its
// sides, a polygon gets the smallest rectangle around it; detect gives every shape's
// axis-aligned box.
func checkYOLOAsUltralytics(t *testing.T, ts *testServer, scene []mlAnnotation, obb bool) {
	format, task := "yolo", "detect"
	if obb {
		format, task = "yolo-obb", "obb"
	}
	dir := unzipTo(t, ts.download(t, "/api/v1/export?format="+format+"&images=1"))
	var got struct {
		Names  map[string]string
		Images []struct {
			File       string
			LabelState string `json:"label_state"`
			Labels     []struct {
				Name   string
				XYWHpx []float64 `json:"xywh_px"`
				XYWHR  []float64 `json:"xywhr"`
			}
		}
	}
	mlRead(t, &got, "yolo", dir, task)
	if len(got.Images) != 2 {
		t.Fatalf("Ultralytics found %d images, want 2", len(got.Images))
	}
	for _, img := range got.Images {
		want := polygonsOnly(scene, img.File)
		if len(img.Labels) != len(want) || img.LabelState != "found" {
			t.Fatalf("%s: %d labels (%s), want %d", img.File, len(img.Labels), img.LabelState, len(want))
		}
		for i, g := range img.Labels {
			w := want[i]
			if g.Name != labelPath(w) {
				t.Errorf("%s label %d: class %q, want %q", img.File, i, g.Name, labelPath(w))
			}
			x0, y0, x1, y1 := ringExtent(w.Geometry.Coordinates[0])
			if !obb {
				for j, v := range []float64{(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0} {
					if math.Abs(g.XYWHpx[j]-v) > 0.01 {
						t.Errorf("%s: xywh %v px, want the box [%g %g %g %g]", w.Shape, g.XYWHpx, (x0+x1)/2, (y0+y1)/2, x1-x0, y1-y0)
						break
					}
				}
				continue
			}
			cx, cy, rw, rh, theta := g.XYWHR[0], g.XYWHR[1], g.XYWHR[2], g.XYWHR[3], g.XYWHR[4]
			switch w.Shape {
			case annotations.ShapeRotatedRectangle:
				c := centroid(w.Geometry.Coordinates[0])
				if math.Abs(rw-w.length) > 0.01 || math.Abs(rh-w.width) > 0.01 || math.Hypot(cx-c[0], cy-c[1]) > 0.01 || modDiff(theta, w.heading, 180) > 1 {
					t.Errorf("ship: xywhr %v, want centre %v, %g × %g at %g° (mod 180)", g.XYWHR, c, w.length, w.width, w.heading)
				}
			case annotations.ShapeRectangle:
				if modDiff(theta, 0, 90) > 1e-3 || math.Abs(rw*rh-(x1-x0)*(y1-y0)) > 0.01 {
					t.Errorf("rectangle: xywhr %v, want the axis-aligned %g × %g", g.XYWHR, x1-x0, y1-y0)
				}
			default:
				area := w.Geometry.Measure(w.Shape).AreaPx2
				if rw*rh < area-0.01 || rw*rh > (x1-x0)*(y1-y0)+0.01 || cx < x0 || cx > x1 || cy < y0 || cy > y1 {
					t.Errorf("polygon: xywhr %v is not the smallest rectangle around it (area %g, its box %g × %g)", g.XYWHR, area, x1-x0, y1-y0)
				}
			}
		}
	}
}

// checkDOTAAsDevkit reads the DOTA zip with the DOTA devkit's parse_dota_poly: the
// imagesource and gsd lines are not read as objects, each object has its class (no
// spaces), difficult for a "possible" identification, and four corners clockwise on
// screen from the bow's port corner; cv2.minAreaRect finds a ship's length, beam and
// heading (modulo 90°) in them, Shapely its area.
func checkDOTAAsDevkit(t *testing.T, ts *testServer, scene []mlAnnotation) {
	dir := unzipTo(t, ts.download(t, "/api/v1/export?format=dota"))
	var got struct {
		Files []struct {
			File    string
			Head    []string
			Objects []struct {
				Name, Difficult string
				Poly            [][2]float64
				Area            float64
				Valid           bool
				MinAreaRect     []float64 `json:"min_area_rect"`
			}
		}
	}
	mlRead(t, &got, "dota", dir)
	if len(got.Files) != 2 {
		t.Fatalf("%d label files, want 2", len(got.Files))
	}
	for _, f := range got.Files {
		want := polygonsOnly(scene, strings.TrimSuffix(f.File, ".txt")+".png")
		if len(f.Objects) != len(want) {
			t.Fatalf("%s: the devkit read %d objects, want %d", f.File, len(f.Objects), len(want))
		}
		if f.File == "scene-811.txt" && strings.Join(f.Head, "|") != "imagesource:National_Intelligence_Service|gsd:null" {
			t.Errorf("%s begins %q", f.File, f.Head)
		}
		for i, o := range f.Objects {
			w := want[i]
			if wantName := strings.ReplaceAll(labelPath(w), " ", "-"); o.Name != wantName {
				t.Errorf("object %d: class %q, want %q", i, o.Name, wantName)
			}
			if wantDifficult := map[bool]string{true: "1", false: "0"}[w.Confidence == annotations.Possible]; o.Difficult != wantDifficult {
				t.Errorf("%s (%s): difficult %s, want %s", w.Shape, w.Confidence, o.Difficult, wantDifficult)
			}
			var ring []annotations.Position
			for _, p := range append(o.Poly, o.Poly[0]) {
				ring = append(ring, annotations.Position(p))
			}
			if !o.Valid || annotations.PolygonGeometry(ring).Measure(annotations.ShapePolygon).AreaPx2 <= 0 || signedAreaPx(ring) <= 0 {
				t.Errorf("%s: corners %v are not a valid ring clockwise on screen", w.Shape, o.Poly)
			}
			r := o.MinAreaRect
			switch w.Shape {
			case annotations.ShapeRotatedRectangle:
				back := [2]float64{o.Poly[0][0] - o.Poly[3][0], o.Poly[0][1] - o.Poly[3][1]}
				heading := math.Atan2(back[1], back[0]) * 180 / math.Pi
				sides := []float64{r[2], r[3]}
				sort.Float64s(sides)
				if modDiff(heading, w.heading, 360) > 1e-6 || math.Abs(sides[1]-w.length) > 0.01 || math.Abs(sides[0]-w.width) > 0.01 ||
					modDiff(r[4], w.heading, 90) > 1 || math.Abs(o.Area-w.length*w.width) > 1e-6 {
					t.Errorf("ship: corners %v (heading %g°, minAreaRect %v, area %g), want %g × %g heading %g°", o.Poly, heading, r, o.Area, w.length, w.width, w.heading)
				}
			case annotations.ShapeRectangle:
				x0, y0, _, _ := ringExtent(w.Geometry.Coordinates[0])
				if o.Poly[0] != [2]float64{x0, y0} || math.Abs(o.Area-w.Geometry.Measure(w.Shape).AreaPx2) > 1e-6 {
					t.Errorf("rectangle: corners %v, want the top-left (%g, %g) first and its area", o.Poly, x0, y0)
				}
			default:
				if o.Area < w.Geometry.Measure(annotations.ShapePolygon).AreaPx2 {
					t.Errorf("polygon: the rectangle's area %g is less than the polygon's", o.Area)
				}
			}
		}
	}
}

// signedAreaPx is a closed ring's shoelace area: positive clockwise on screen.
func signedAreaPx(r []annotations.Position) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

// cvatShape is a shape as CVAT's importer holds it.
type cvatShape struct {
	Type                 string
	Label                string
	Points               []float64
	Rotation             float64
	Attributes           map[string]any
	LabelDeclared        bool     `json:"label_declared"`
	UndeclaredAttributes []string `json:"undeclared_attributes"`
}

// checkCVATAsCVAT reads the CVAT XML of one image and of the library's zip as CVAT's
// importer does (cvat.py's _parse_meta, then _parse): every label and every attribute
// is declared in <meta>, every shape comes back with its type, its label, its satmark
// properties and free attributes (markup in them as text), a ship as a box whose corners,
// turned by its rotation, are the ship's own.
func checkCVATAsCVAT(t *testing.T, ts *testServer, scene []mlAnnotation) {
	first := scene[0].ImageID
	single := writeTemp(t, "annotations.cvat.xml", ts.download(t, "/api/v1/images/"+first+"/annotations.cvat.xml"))
	zipped := filepath.Join(unzipTo(t, ts.download(t, "/api/v1/export?format=cvat")), "annotations.xml")
	for _, tc := range []struct {
		name, path string
		want       []mlAnnotation
	}{{"every image", zipped, scene}, {"one image", single, imageOnly(scene, first)}} {
		t.Run(tc.name, func(t *testing.T) {
			var got struct {
				Labels map[string][]string
				Images []struct {
					Name   string
					Shapes []cvatShape
				}
			}
			mlRead(t, &got, "cvat", tc.path)
			var shapes []cvatShape
			for _, img := range got.Images {
				shapes = append(shapes, img.Shapes...)
			}
			if len(shapes) != len(tc.want) {
				t.Fatalf("CVAT read %d shapes, want %d", len(shapes), len(tc.want))
			}
			for i, g := range shapes {
				w := tc.want[i]
				if !g.LabelDeclared || len(g.UndeclaredAttributes) > 0 || g.Label != labelPath(w) {
					t.Errorf("%s: label %q (declared %v), attributes not declared for it %v", w.Shape, g.Label, g.LabelDeclared, g.UndeclaredAttributes)
				}
				if g.Attributes["satmark_id"] != w.ID || g.Attributes["confidence"] != string(w.Confidence) || g.Attributes["note"] != w.Note {
					t.Errorf("%s: attributes %v, want its id, confidence %q and note %q", w.Shape, g.Attributes, w.Confidence, w.Note)
				}
				for k, v := range w.Attributes {
					want := string(v)
					_ = json.Unmarshal(v, &want)
					if g.Attributes[k] != want {
						t.Errorf("%s: attribute %s = %v, want %q", w.Shape, k, g.Attributes[k], want)
					}
				}
				wantType := map[annotations.Shape]string{annotations.ShapePoint: "points", annotations.ShapeLine: "polyline",
					annotations.ShapePolygon: "polygon", annotations.ShapeRectangle: "box", annotations.ShapeRotatedRectangle: "box"}[w.Shape]
				if g.Type != wantType {
					t.Errorf("%s: a CVAT %s, want %s", w.Shape, g.Type, wantType)
					continue
				}
				switch w.Shape {
				case annotations.ShapeRotatedRectangle, annotations.ShapeRectangle:
					if modDiff(g.Rotation, w.heading, 360) > 1e-9 {
						t.Errorf("%s: rotation %g, want %g", w.Shape, g.Rotation, w.heading)
					}
					wantCornersOf(t, string(w.Shape), cvatBoxCorners(g.Points, g.Rotation), w.Geometry.Coordinates[0][:4])
				case annotations.ShapePolygon:
					var ring []annotations.Position
					for j := 0; j+1 < len(g.Points); j += 2 {
						ring = append(ring, annotations.Position{g.Points[j], g.Points[j+1]})
					}
					ring = append(ring, ring[0])
					if a := math.Abs(signedAreaPx(ring)); math.Abs(a-w.Geometry.Measure(w.Shape).AreaPx2) > 1e-6 {
						t.Errorf("polygon: CVAT's outline encloses %g px², want %g (holes left out)", a, w.Geometry.Measure(w.Shape).AreaPx2)
					}
				default:
					var want []float64
					for _, p := range w.Geometry.Coordinates[0] {
						want = append(want, p[0], p[1])
					}
					if !slicesNear(g.Points, want, 1e-9) {
						t.Errorf("%s: points %v, want %v", w.Shape, g.Points, want)
					}
				}
			}
		})
	}
}

// cvatBoxCorners are the corners of CVAT's box [xtl, ytl, xbr, ybr] turned by rotation
// degrees clockwise about its centre, as CVAT's canvas draws it.
func cvatBoxCorners(b []float64, rotation float64) [][2]float64 {
	cx, cy := (b[0]+b[2])/2, (b[1]+b[3])/2
	a := rotation * math.Pi / 180
	var out [][2]float64
	for _, p := range [][2]float64{{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}} {
		dx, dy := p[0]-cx, p[1]-cy
		out = append(out, [2]float64{cx + dx*math.Cos(a) - dy*math.Sin(a), cy + dx*math.Sin(a) + dy*math.Cos(a)})
	}
	return out
}

// wantCornersOf checks that got holds the same four corners as want, in any order.
func wantCornersOf(t *testing.T, what string, got [][2]float64, want []annotations.Position) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, g := range got {
			if math.Hypot(g[0]-w[0], g[1]-w[1]) < 1e-6 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: corners %v, want %v", what, got, want)
			return
		}
	}
}

func slicesNear(a, b []float64, tol float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// checkVOCAsDetectron2 reads the VOC zip as Detectron2's load_voc_instances does
// (ImageSets/Main, Annotations/<id>.xml, bndbox less 1 at the minima): each box encloses
// the shape within a pixel, with its class and difficult flag, and its <satmark> keeps
// the outline and rotation.
func checkVOCAsDetectron2(t *testing.T, ts *testServer, scene []mlAnnotation) {
	dir := unzipTo(t, ts.download(t, "/api/v1/export?format=voc"))
	var got struct {
		Images []struct {
			FileName string `json:"file_name"`
			Width    int
			Height   int
			Objects  []struct {
				Category  string
				BBox      []float64
				Difficult int
				SatmarkID string `json:"satmark_id"`
				Points    string
				Rotation  *string
			}
		}
	}
	mlRead(t, &got, "voc", dir)
	if len(got.Images) != 2 {
		t.Fatalf("Detectron2 listed %d images, want 2", len(got.Images))
	}
	for _, img := range got.Images {
		want := polygonsOnly(scene, filepath.Base(img.FileName))
		if len(img.Objects) != len(want) {
			t.Fatalf("%s: %d objects, want %d", img.FileName, len(img.Objects), len(want))
		}
		for i, o := range img.Objects {
			w := want[i]
			x0, y0, x1, y1 := ringExtent(w.Geometry.Coordinates[0])
			b := o.BBox
			if b[0] > x0 || b[0] <= x0-1 || b[1] > y0 || b[1] <= y0-1 || b[2] < x1 || b[2] >= x1+1 || b[3] < y1 || b[3] >= y1+1 {
				t.Errorf("%s: box %v does not enclose [%g %g %g %g] within a pixel", w.Shape, b, x0, y0, x1, y1)
			}
			if o.Category != labelPath(w) || o.SatmarkID != w.ID || (o.Difficult == 1) != (w.Confidence == annotations.Possible) {
				t.Errorf("%s: %q %s difficult %d, want %q %s", w.Shape, o.Category, o.SatmarkID, o.Difficult, labelPath(w), w.ID)
			}
			if isBox(w) != (o.Rotation != nil) || strings.Count(o.Points, ";") != len(w.Geometry.Coordinates[0])-2 {
				t.Errorf("%s: <satmark> rotation %v, points %q", w.Shape, o.Rotation, o.Points)
			}
		}
	}
}

// checkCSVAsGDAL reads the CSV with GDAL's CSV driver, naming its WKT columns with
// GEOM_POSSIBLE_NAMES: every annotation is a feature with its pixel geometry, of its
// type, and the placed image's also with a lon/lat one.
func checkCSVAsGDAL(t *testing.T, ts *testServer, scene []mlAnnotation) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatalf("ogrinfo not found and SATMARK_REQUIRE_ORACLES=1: %v", err)
		}
		t.Skip("ogrinfo (gdal-bin) not installed")
	}
	dir := unzipTo(t, ts.download(t, "/api/v1/export?format=csv"))
	out := runOracle(t, ogrinfo, "-ro", "-al", "-q", "-oo", "GEOM_POSSIBLE_NAMES=geometry_px,geometry_lonlat", "-oo", "KEEP_GEOM_COLUMNS=NO",
		filepath.Join(dir, "annotations.csv"))
	type feature struct{ id, px, lonlat string }
	var features []feature
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "OGRFeature("):
			features = append(features, feature{})
		case len(features) == 0:
		case strings.HasPrefix(line, "annotation_id (String) = "):
			features[len(features)-1].id = strings.TrimPrefix(line, "annotation_id (String) = ")
		case strings.HasPrefix(line, "geometry_px = "):
			features[len(features)-1].px = strings.Fields(strings.TrimPrefix(line, "geometry_px = "))[0]
		case strings.HasPrefix(line, "geometry_lonlat = "):
			features[len(features)-1].lonlat = strings.Fields(strings.TrimPrefix(line, "geometry_lonlat = "))[0]
		}
	}
	if len(features) != len(scene) {
		t.Fatalf("GDAL read %d features, want %d:\n%s", len(features), len(scene), truncate(out, 800))
	}
	placed := scene[len(scene)-1].ImageID
	for _, a := range scene {
		if a.file == "scene-811.png" {
			placed = a.ImageID
		}
	}
	for i, f := range features {
		w := scene[i]
		wantType := strings.ToUpper(w.Geometry.Type)
		wantLonLat := ""
		if w.ImageID == placed {
			wantLonLat = wantType
		}
		if f.id != w.ID || f.px != wantType || f.lonlat != wantLonLat {
			t.Errorf("feature %d: %s with %s / %q, want %s with %s / %q", i, f.id, f.px, f.lonlat, w.ID, wantType, wantLonLat)
		}
	}
}

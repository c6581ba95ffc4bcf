package formats_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/geo"
)

// The readers one by one, on files as other tools write them; the round trips through
// satmark's own exports are in server/imports_roundtrip_test.go.

// readAll reads files (name, content pairs) in format onto t.
func readAll(t *testing.T, format, crs string, target formats.ImportTarget, files ...string) ([]annotations.ImportFeature, error) {
	t.Helper()
	dir := t.TempDir()
	src := formats.ImportSource{Dir: dir, CRS: crs}
	for i := 0; i+1 < len(files); i += 2 {
		p := filepath.Join(dir, filepath.FromSlash(files[i]))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(files[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
		src.Files = append(src.Files, files[i])
	}
	read, err := formats.ImportReader(format)
	if err != nil {
		t.Fatal(err)
	}
	var out []annotations.ImportFeature
	err = read(src, target, func(f annotations.ImportFeature) error {
		out = append(out, f)
		return nil
	})
	return out, err
}

// portTarget is a 4000 × 3000 image; placed, 1e-5° a pixel from (131.85, 43.14).
func portTarget(placed bool) formats.ImportTarget {
	img := annotations.Image{ID: "img_port00000000", SHA256: strings.Repeat("ab", 32), Filename: "port.jpg", MediaType: "image/jpeg", Width: 4000, Height: 3000}
	t := formats.ImportTarget{Image: img, Labels: []annotations.Label{
		{ID: "lbl_a", Name: "vessel", Path: []string{"vessel"}},
		{ID: "lbl_b", Name: "landing ship", ParentID: "lbl_a", Path: []string{"vessel", "landing ship"}},
	}}
	if placed {
		t.Place = formats.Placement{Transformer: geo.Grid{GeoTransform: geo.GeoTransform{131.85, 1e-5, 0, 43.14, 0, -1e-5}, CRS: geo.WGS84}}
	}
	return t
}

type read struct {
	id, label, shape string
	geometry         annotations.Geometry
	props            map[string]any
	refusal          string
}

func decoded(t *testing.T, f annotations.ImportFeature) read {
	t.Helper()
	r := read{id: f.ID, refusal: f.Refusal}
	if f.Refusal != "" {
		return r
	}
	r.label, r.shape = *f.Input.Label, string(*f.Input.Shape)
	if err := r.geometry.UnmarshalJSON(f.Input.Geometry); err != nil {
		t.Fatalf("geometry %s: %v", f.Input.Geometry, err)
	}
	props := []byte(f.Input.Properties)
	if f.Properties != nil { // decoded by the reader, not encoded again
		props, _ = json.Marshal(f.Properties)
	}
	json.Unmarshal(props, &r.props)
	return r
}

func TestReadQuPathGeoJSON(t *testing.T) {
	// As QuPath 0.5 exports objects without FEATURE_COLLECTION: a bare array.
	file := `[
	 {"type":"Feature","id":"1f0c","geometry":{"type":"Polygon","coordinates":[[[10,10],[60,10],[60,40],[10,10]]]},
	  "properties":{"objectType":"annotation","name":"Ropucha","classification":{"name":"landing ship","color":[255,0,0]},
	   "measurements":{"Area µm^2":120.5},"isLocked":true}},
	 {"type":"Feature","id":"2a7d","geometry":{"type":"Point","coordinates":[100.25,200.5]},
	  "properties":{"objectType":"detection","classification":{"names":["vessel","landing ship"],"color":[1,2,3]},
	   "metadata":{"confidence":"probable","note":"by QuPath","attributes":"{\"hull\":\"BDK-61\"}"}}},
	 {"type":"Feature","id":"3b8e","geometry":{"type":"MultiPolygon","coordinates":[[[[1,1],[5,1],[5,5],[1,1]]],[[[7,7],[9,7],[9,9],[7,7]]]]},
	  "properties":{"objectType":"annotation","classification":"Tumor"}}
	]`
	fs, err := readAll(t, "qupath", "", portTarget(false), "objects.geojson", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 {
		t.Fatalf("got %d features", len(fs))
	}
	a, b, c := decoded(t, fs[0]), decoded(t, fs[1]), decoded(t, fs[2])
	if a.id != "1f0c" || a.label != "landing ship" || a.shape != "polygon" || a.props["identification"] != "Ropucha" || len(a.props) != 1 {
		t.Errorf("first: %+v", a)
	}
	if b.label != "vessel/landing ship" || b.shape != "point" || b.props["confidence"] != "probable" || b.props["note"] != "by QuPath" || b.props["hull"] != "BDK-61" {
		t.Errorf("second: %+v", b)
	}
	if b.geometry.Coordinates[0][0] != (annotations.Position{100.25, 200.5}) {
		t.Errorf("second's position: %v", b.geometry)
	}
	if !strings.Contains(c.refusal, "MultiPolygon of 2 parts") {
		t.Errorf("third: %+v", c)
	}
}

func TestReadRFC7946OntoAPlacedImage(t *testing.T) {
	file := `{"type":"FeatureCollection","features":[
	 {"type":"Feature","id":7,"geometry":{"type":"Point","coordinates":[131.86,43.13]},"properties":{"class":"vessel","speed":12.5,"note":"moored"}},
	 {"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[131.851,43.139],[131.852,43.138]]]},"properties":{"name":"convoy"}},
	 {"type":"Feature","geometry":null,"properties":{}},
	 {"type":"Feature","geometry":{"type":"Point","coordinates":[131.86,91]},"properties":{}}
	]}`
	fs, err := readAll(t, "geojson", "wgs84", portTarget(true), "gis.geojson", file)
	if err != nil {
		t.Fatal(err)
	}
	a, b := decoded(t, fs[0]), decoded(t, fs[1])
	if a.id != "7" || a.label != "vessel" || a.props["speed"] != 12.5 || a.props["note"] != "moored" {
		t.Errorf("first: %+v", a)
	}
	if p := a.geometry.Coordinates[0][0]; math.Abs(p[0]-1000) > 1e-6 || math.Abs(p[1]-1000) > 1e-6 {
		t.Errorf("131.86, 43.13 came to pixel %v, want (1000, 1000)", p)
	}
	if b.label != "convoy" || b.shape != "line" || len(b.geometry.Coordinates[0]) != 2 {
		t.Errorf("second: %+v", b)
	}
	if !strings.Contains(decoded(t, fs[2]).refusal, "no geometry") {
		t.Errorf("third: %+v", decoded(t, fs[2]))
	}
	if !strings.Contains(decoded(t, fs[3]).refusal, "does not reach this image") {
		t.Errorf("fourth: %+v", decoded(t, fs[3]))
	}
	// The same file is pixels unless it says otherwise, and lon/lat needs a placed image.
	fs, _ = readAll(t, "geojson", "", portTarget(true), "gis.geojson", file)
	if p := decoded(t, fs[0]).geometry.Coordinates[0][0]; p != (annotations.Position{131.86, 43.13}) {
		t.Errorf("without crs: %v, want the numbers as pixels", p)
	}
	if _, err := readAll(t, "geojson", "wgs84", portTarget(false), "gis.geojson", file); !errors.Is(err, formats.ErrNotGeoreferenced) {
		t.Errorf("onto an unplaced image: %v", err)
	}
	// ogr2ogr's crs member says lon/lat.
	withCRS := strings.Replace(file, `"features"`, `"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"features"`, 1)
	fs, _ = readAll(t, "geojson", "", portTarget(true), "gis.geojson", withCRS)
	if p := decoded(t, fs[0]).geometry.Coordinates[0][0]; math.Abs(p[0]-1000) > 1e-6 {
		t.Errorf("with a CRS84 crs member: %v", p)
	}
}

func TestReadSatmarkExportOfSeveralImages(t *testing.T) {
	other := strings.Repeat("cd", 32)
	target := portTarget(false)
	file := `{"type":"FeatureCollection","coordinate_space":{"type":"image-pixels","images":[{"sha256":"` + target.Image.SHA256 + `"},{"sha256":"` + other + `"}]},"features":[
	 {"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[1,2]},"properties":{"label_path":["vessel"],"shape":"point","image":{"sha256":"` + other + `"}}},
	 {"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[3,4]},"properties":{"label_path":["vessel","landing ship"],"shape":"point","attributes":{"n":1},"image":{"sha256":"` + target.Image.SHA256 + `"}}}]}`
	fs, err := readAll(t, "geojson", "", target, "export.geojson", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].ID != "b" || *fs[0].Input.Label != "/vessel/landing ship" {
		t.Fatalf("got %+v, want only this image's feature b", fs)
	}
	target.Image.SHA256 = strings.Repeat("ef", 32)
	if _, err := readAll(t, "geojson", "", target, "export.geojson", file); err == nil || !strings.Contains(err.Error(), "none of which is this one") {
		t.Errorf("onto an image the file does not cover: %v", err)
	}
}

func TestReadCOCOAnnotationsBeforeImages(t *testing.T) {
	// The annotations first (allowed, if unusual): read on a second pass. A CVAT-style
	// rotated bbox, a plain bbox, an RLE mask and a two-polygon instance.
	file := `{"annotations":[
	  {"id":1,"image_id":2,"category_id":5,"bbox":[100,100,40,10],"segmentation":[],"attributes":{"rotation":90,"occluded":false}},
	  {"id":2,"image_id":2,"category_id":6,"bbox":[10,20,30,40],"segmentation":[]},
	  {"id":3,"image_id":2,"category_id":5,"segmentation":{"counts":"abc","size":[10,10]}},
	  {"id":4,"image_id":2,"category_id":5,"segmentation":[[0,0,4,0,4,4],[6,6,8,6,8,8]]},
	  {"id":5,"image_id":1,"category_id":5,"bbox":[1,1,1,1]}],
	 "images":[{"id":1,"file_name":"other.jpg","width":10,"height":10},{"id":2,"file_name":"port.jpg","width":4000,"height":3000}],
	 "categories":[{"id":5,"name":"landing ship","supercategory":"vessel"},{"id":6,"name":"tug"}]}`
	fs, err := readAll(t, "coco", "", portTarget(false), "instances.json", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 4 {
		t.Fatalf("got %d features, want the 4 of port.jpg", len(fs))
	}
	rot := decoded(t, fs[0])
	r := rot.geometry.Coordinates[0]
	if rot.shape != "rotated_rectangle" || rot.label != "landing ship" || math.Abs(r[0][0]-125) > 1e-9 || math.Abs(r[1][1]-125) > 1e-9 {
		t.Errorf("rotated bbox: %+v", rot)
	}
	if box := decoded(t, fs[1]); box.shape != "rectangle" || box.label != "tug" || box.geometry.Coordinates[0][2] != (annotations.Position{40, 60}) {
		t.Errorf("bbox: %+v", box)
	}
	if !strings.Contains(fs[2].Refusal, "RLE") || !strings.Contains(fs[3].Refusal, "2 polygons") {
		t.Errorf("refusals: %q, %q", fs[2].Refusal, fs[3].Refusal)
	}
}

func TestReadYOLOClassNames(t *testing.T) {
	lines := "0 0.5 0.5 0.25 0.1\n1 0.1 0.1 0.05 0.05\n7 0.2 0.2 0.1 0.1\nnot a line\n"
	for _, c := range []struct {
		name  string
		files []string
		want  []string
	}{
		{"data.yaml as a map", []string{"data.yaml", "path: .\nnames:\n  0: \"vessel/landing ship\"\n  1: 'tug'\n", "labels/port.txt", lines}, []string{"vessel/landing ship", "tug", "7"}},
		{"data.yaml as a list", []string{"data.yaml", "names: [ship, tug]\n", "labels/port.txt", lines}, []string{"ship", "tug", "7"}},
		{"classes.txt", []string{"classes.txt", "ship\ntug\n", "port.txt", lines}, []string{"ship", "tug", "7"}},
		{"none: numbers to map", []string{"port.txt", lines}, []string{"0", "1", "7"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs, err := readAll(t, "yolo", "", portTarget(false), c.files...)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs) != 4 || !strings.Contains(fs[3].Refusal, "3 values where a YOLO line has 5") || fs[3].Place != "line 4" {
				t.Fatalf("got %d features, the last %+v", len(fs), fs[len(fs)-1])
			}
			for i, w := range c.want {
				if got := decoded(t, fs[i]).label; got != w {
					t.Errorf("line %d: label %q, want %q", i+1, got, w)
				}
			}
			if g := decoded(t, fs[0]).geometry.Coordinates[0]; g[0] != (annotations.Position{1500, 1350}) || g[2] != (annotations.Position{2500, 1650}) {
				t.Errorf("first box: %v", g)
			}
		})
	}
}

func TestReadDOTA(t *testing.T) {
	file := "imagesource:GoogleEarth\ngsd:0.5\n" +
		"100 100 140 100 140 110 100 110 vessel/landing-ship 1\n" + // axis up: a rectangle
		"140 100 140 110 100 110 100 100 Landing-Ship 0\n" + // the same box pointing right: rotated
		"1 2 3 4 5 6 7\n"
	fs, err := readAll(t, "dota", "", portTarget(false), "P0001.txt", file)
	if err != nil {
		t.Fatal(err)
	}
	a, b := decoded(t, fs[0]), decoded(t, fs[1])
	if a.shape != "rectangle" || a.label != "vessel/landing ship" || a.props["confidence"] != "possible" {
		t.Errorf("first: %+v", a)
	}
	if b.shape != "rotated_rectangle" || b.label != "Landing-Ship" || b.props["confidence"] != nil {
		t.Errorf("second: %+v", b)
	}
	if !strings.Contains(fs[2].Refusal, "7 values") {
		t.Errorf("third: %+v", fs[2])
	}
}

func TestReadCVATFromCVAT(t *testing.T) {
	file := `<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
 <image id="0" name="elsewhere.jpg" width="10" height="10"><box label="ship" xtl="1" ytl="1" xbr="2" ybr="2" occluded="0"></box></image>
 <image id="1" name="train/port.jpg" width="4000" height="3000">
  <box label="ship" source="manual" occluded="0" xtl="100" ytl="200" xbr="140" ybr="210" rotation="90" z_order="0">
   <attribute name="hull">BDK-61</attribute><attribute name="count">3</attribute><attribute name="confidence">probable</attribute>
  </box>
  <polyline label="route" points="1.5,2.5;10,20"></polyline>
  <points label="ship" points="5,5;6,6"></points>
  <cuboid label="ship"></cuboid>
 </image>
</annotations>`
	fs, err := readAll(t, "cvat", "", portTarget(false), "annotations.xml", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 4 {
		t.Fatalf("got %d shapes of port.jpg, want 4", len(fs))
	}
	box := decoded(t, fs[0])
	if box.shape != "rotated_rectangle" || box.props["hull"] != "BDK-61" || box.props["count"] != 3.0 || box.props["confidence"] != "probable" {
		t.Errorf("box: %+v", box)
	}
	// Turned 90° about (120, 205): its length of 40 now runs down the image.
	r := box.geometry.Coordinates[0]
	if math.Abs(r[0][0]-125) > 1e-9 || math.Abs(r[0][1]-185) > 1e-9 || math.Abs(r[1][1]-225) > 1e-9 {
		t.Errorf("rotated box ring: %v", r)
	}
	if l := decoded(t, fs[1]); l.shape != "line" || l.geometry.Coordinates[0][0] != (annotations.Position{1.5, 2.5}) {
		t.Errorf("polyline: %+v", l)
	}
	if !strings.Contains(fs[2].Refusal, "2 points") || !strings.Contains(fs[3].Refusal, "<cuboid>") {
		t.Errorf("refusals: %q %q", fs[2].Refusal, fs[3].Refusal)
	}
}

func TestReadKMLFromGoogleEarth(t *testing.T) {
	file := `<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder>
	 <Placemark><name>vessel</name><description>&lt;b&gt;seen&lt;/b&gt;</description><Point><coordinates>131.86,43.13,0</coordinates></Point></Placemark>
	 <Placemark><name>pier</name><MultiGeometry><Polygon><outerBoundaryIs><LinearRing><coordinates>131.86,43.13 131.87,43.13 131.87,43.12 131.86,43.13</coordinates></LinearRing></outerBoundaryIs></Polygon></MultiGeometry></Placemark>
	 <Placemark><name>two</name><MultiGeometry><Point><coordinates>131.86,43.13</coordinates></Point><Point><coordinates>131.86,43.13</coordinates></Point></MultiGeometry></Placemark>
	</Folder></Document></kml>`
	fs, err := readAll(t, "kml", "", portTarget(true), "doc.kml", file)
	if err != nil {
		t.Fatal(err)
	}
	a, b := decoded(t, fs[0]), decoded(t, fs[1])
	if a.label != "vessel" || a.props["note"] != "<b>seen</b>" || math.Abs(a.geometry.Coordinates[0][0][0]-1000) > 1e-6 {
		t.Errorf("point: %+v", a)
	}
	if b.shape != "polygon" || len(b.geometry.Coordinates[0]) != 4 {
		t.Errorf("polygon: %+v", b)
	}
	if !strings.Contains(fs[2].Refusal, "2 geometries") || fs[2].Place != "placemark 3" {
		t.Errorf("third: %+v", fs[2])
	}
}

func TestPrepareImportUnpacksZipsSafely(t *testing.T) {
	write := func(t *testing.T, entries ...string) string {
		t.Helper()
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i := 0; i+1 < len(entries); i += 2 {
			w, _ := zw.Create(entries[i])
			w.Write([]byte(entries[i+1]))
		}
		zw.Close()
		p := filepath.Join(t.TempDir(), "upload")
		os.WriteFile(p, buf.Bytes(), 0o644)
		return p
	}
	t.Run("a sound zip", func(t *testing.T) {
		dir := t.TempDir()
		src, err := formats.PrepareImport(write(t, "labels/a.txt", "x", "classes.txt", "y", "__MACOSX/._a.txt", "z"), "d.zip", "yolo", dir, formats.DefaultZipLimits)
		if err != nil || strings.Join(src.Files, ",") != "classes.txt,labels/a.txt" {
			t.Fatalf("%+v %v", src, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "labels", "a.txt")); string(b) != "x" {
			t.Errorf("unpacked %q", b)
		}
	})
	for _, c := range []struct {
		name    string
		entries []string
		limits  formats.ZipLimits
		large   bool
	}{
		{"climbing out", []string{"a/../../x", "1"}, formats.DefaultZipLimits, false},
		{"absolute", []string{"/tmp/x", "1"}, formats.DefaultZipLimits, false},
		{"a drive", []string{"C:/x", "1"}, formats.DefaultZipLimits, false},
		{"too many files", []string{"a", "1", "b", "2", "c", "3"}, formats.ZipLimits{MaxBytes: 1 << 20, MaxRatio: 200, MaxFiles: 2}, true},
		{"too much in all", []string{"a", strings.Repeat("x", 600), "b", strings.Repeat("y", 600)}, formats.ZipLimits{MaxBytes: 1000, MaxRatio: 1e9, MaxFiles: 10}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := formats.PrepareImport(write(t, c.entries...), "d.zip", "yolo", dir, c.limits)
			var uz *formats.UnsafeZipError
			if !errors.As(err, &uz) || uz.TooLarge != c.large {
				t.Fatalf("got %v, want an UnsafeZipError (too large %v)", err, c.large)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("a refused zip left %d files", len(left))
			}
		})
	}
	t.Run("a plain file gets its format's ending", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "upload")
		os.WriteFile(p, []byte("{}"), 0o644)
		dir := t.TempDir()
		src, err := formats.PrepareImport(p, "../../etc/passwd", "geojson", dir, formats.DefaultZipLimits)
		if err != nil || len(src.Files) != 1 || src.Files[0] != "passwd.geojson" {
			t.Errorf("%+v %v", src, err)
		}
	})
}

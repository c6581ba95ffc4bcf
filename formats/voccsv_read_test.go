package formats_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// A Pascal VOC file as LabelImg writes it: rectangles over 1-based bndboxes, read back
// as continuous pixels (x0 = xmin − 1), the name as the label, difficult as "possible".
func TestReadVOCFromLabelImg(t *testing.T) {
	file := `<annotation>
	<folder>JPEGImages</folder><filename>port.jpg</filename>
	<source><database>Unknown</database></source>
	<size><width>4000</width><height>3000</height><depth>3</depth></size>
	<segmented>0</segmented>
	<object><name>vessel/landing ship</name><pose>Unspecified</pose><truncated>0</truncated><difficult>1</difficult>
		<bndbox><xmin>101</xmin><ymin>201</ymin><xmax>140</xmax><ymax>210</ymax></bndbox></object>
	<object><name>ship</name><difficult>0</difficult><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>3</xmax><ymax>9</ymax></bndbox></object>
	<object><name>ship</name><bndbox><xmin>a</xmin><ymin>5</ymin><xmax>9</xmax><ymax>9</ymax></bndbox></object>
</annotation>`
	fs, err := readAll(t, "voc", "", portTarget(false), "Annotations/elsewhere.xml", "<annotation/>", "Annotations/port.xml", file)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 {
		t.Fatalf("got %d objects, want 3", len(fs))
	}
	box := decoded(t, fs[0])
	want := []annotations.Position{{100, 200}, {140, 200}, {140, 210}, {100, 210}, {100, 200}}
	if box.shape != "rectangle" || box.label != "vessel/landing ship" || box.props["confidence"] != "possible" {
		t.Fatalf("object 1: %+v", box)
	}
	for i, p := range want {
		if box.geometry.Coordinates[0][i] != p {
			t.Errorf("object 1's ring: %v, want %v", box.geometry.Coordinates[0], want)
			break
		}
	}
	if !strings.Contains(fs[1].Refusal, "is empty") || fs[1].Place != "object 2" {
		t.Errorf("an empty bndbox: %+v", fs[1])
	}
	if !strings.Contains(fs[2].Refusal, `"a" is not a number`) {
		t.Errorf("a bndbox that is not numbers: %+v", fs[2])
	}
}

func TestReadVOCRefusesOtherXML(t *testing.T) {
	_, err := readAll(t, "voc", "", portTarget(false), "port.xml", `<annotations><version>1.1</version></annotations>`)
	if err == nil || !strings.Contains(err.Error(), "not Pascal VOC XML: its root is <annotations>") {
		t.Fatalf("a CVAT file read as VOC: %v", err)
	}
	_, err = readAll(t, "voc", "", portTarget(false), "port.xml", `<annotation><object>`)
	if err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Fatalf("a cut-off file: %v", err)
	}
}

// GDAL's CSV (ogr2ogr -f CSV -lco GEOMETRY=AS_WKT) names its geometry column WKT; the
// reader takes it as pixels, or as WGS 84 with crs=wgs84.
func TestReadCSVWrittenByGDAL(t *testing.T) {
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Skip("GDAL's ogr2ogr is not installed (make test installs gdal-bin)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.geojson")
	os.WriteFile(in, []byte(`{"type": "FeatureCollection", "features": [
	 {"type": "Feature", "properties": {"label": "vessel", "note": "from QGIS"},
	  "geometry": {"type": "Polygon", "coordinates": [[[10.5, 20.25], [30, 20.25], [30, 40], [10.5, 20.25]]]}},
	 {"type": "Feature", "properties": {"label": "vessel"}, "geometry": {"type": "Point", "coordinates": [5.125, 6.5]}}]}`), 0o644)
	out := filepath.Join(dir, "out.csv")
	if b, err := exec.Command("ogr2ogr", "-f", "CSV", out, in, "-lco", "GEOMETRY=AS_WKT").CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, b)
	}
	text, _ := os.ReadFile(out)
	fs, err := readAll(t, "csv", "", portTarget(false), "out.csv", string(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d rows, want 2\n%s", len(fs), text)
	}
	p := decoded(t, fs[0])
	if p.shape != "polygon" || p.label != "vessel" || p.props["note"] != "from QGIS" || p.geometry.Coordinates[0][0] != (annotations.Position{10.5, 20.25}) {
		t.Errorf("polygon: %+v", p)
	}
	if q := decoded(t, fs[1]); q.shape != "point" || q.geometry.Coordinates[0][0] != (annotations.Position{5.125, 6.5}) {
		t.Errorf("point: %+v", q)
	}
	// The same in WGS 84 onto the placed port: (131.85 + 1e-5·x, 43.14 − 1e-5·y).
	ll := "WKT,label\n\"POINT (131.8501 43.1399)\",vessel\n"
	fs, err = readAll(t, "csv", "wgs84", portTarget(true), "a.csv", ll)
	if err != nil {
		t.Fatal(err)
	}
	if q := decoded(t, fs[0]); q.refusal != "" || abs(q.geometry.Coordinates[0][0][0]-10) > 1e-6 || abs(q.geometry.Coordinates[0][0][1]-10) > 1e-6 {
		t.Errorf("lon/lat point: %+v", q)
	}
	fs, _ = readAll(t, "csv", "wgs84", portTarget(false), "a.csv", ll)
	if len(fs) != 1 || !strings.Contains(fs[0].Refusal, "not georeferenced") {
		t.Errorf("lon/lat onto an unplaced image: %+v", fs)
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

func TestReadCSVBadInput(t *testing.T) {
	cases := []struct{ name, file, want string }{
		{"no geometry column", "label,x,y\nship,1,2\n", "no geometry column"},
		{"empty", "", "empty"},
		{"several other images", "image_id,image_file,label,geometry_px\na,a.jpg,ship,POINT (1 2)\nb,b.jpg,ship,POINT (1 2)\n", "rows of 2 images"},
		{"broken quotes", "label,geometry_px\n\"ship,POINT (1 2)\n", "not valid CSV"},
	}
	for _, c := range cases {
		_, err := readAll(t, "csv", "", portTarget(false), "a.csv", c.file)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
	// Rows that cannot be annotations are refused one by one, by line, and none stops the others.
	fs, err := readAll(t, "csv", "", portTarget(false), "a.csv",
		"label,geometry_px,attributes\nship,POINT (1 2),\nship,POINT (1,\nship,\"MULTIPOINT ((1 2), (3 4))\",\nship,POINT (1 2),[1]\nship,,\n")
	if err != nil {
		t.Fatal(err)
	}
	wants := []string{"", "not WKT", "MULTIPOINT", "not a JSON object", "no geometry"}
	if len(fs) != len(wants) {
		t.Fatalf("got %d rows, want %d", len(fs), len(wants))
	}
	for i, w := range wants {
		if w == "" && fs[i].Refusal != "" || !strings.Contains(fs[i].Refusal, w) {
			t.Errorf("row %d: refusal %q, want %q", i+1, fs[i].Refusal, w)
		}
	}
	if fs[1].Place != "line 3" {
		t.Errorf("the second row's place is %q, want line 3", fs[1].Place)
	}
}

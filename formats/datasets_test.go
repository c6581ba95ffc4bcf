package formats_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// dataset is the fixtures as a dataset of both images, with the taxonomy their labels
// make.
func dataset(t *testing.T) (formats.Dataset, []annotations.Annotation) {
	t.Helper()
	images, anns := fixtures()
	labels := map[string]annotations.Label{}
	for _, a := range anns {
		labels[a.Label.ID] = a.Label
	}
	vessel := annotations.Label{ID: "lbl_vessel234567", Name: "vessel", Path: []string{"vessel"}, Color: "#112233"}
	d := formats.Dataset{Images: formats.DatasetImages(images), Labels: []annotations.Label{vessel}}
	for _, l := range labels {
		d.Labels = append(d.Labels, l)
	}
	d.Annotations = func(ids []string, emit func(annotations.Annotation) error) error {
		for _, id := range ids {
			for _, a := range anns {
				if a.ImageID == id {
					if err := emit(a); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	return d, anns
}

func numbers(t *testing.T, fields []string) []float64 {
	t.Helper()
	out := make([]float64, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("%q is not a number", f)
		}
		out[i] = v
	}
	return out
}

func near(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.Abs(got[i]-want[i]) > tol {
			return false
		}
	}
	return true
}

func eachOf(d formats.Dataset, id string) func(func(annotations.Annotation) error) error {
	return func(emit func(annotations.Annotation) error) error { return d.Annotations([]string{id}, emit) }
}

func TestDatasetImagesNames(t *testing.T) {
	img := func(id, name, mediaType string) annotations.Image {
		return annotations.Image{ID: id, Filename: name, MediaType: mediaType}
	}
	got := formats.DatasetImages([]annotations.Image{
		img("img_a", "../../etc/passwd.png", "image/png"),
		img("img_b", `C:\photos\Harbour.JPG`, "image/jpeg"),
		img("img_c", "harbour.png", "image/png"), // the same stem but for case
		img("img_d", "", "image/tiff"),
		img("img_e", "release", "image/jpeg"),
		img("img_f", "..", "image/png"),
		img("img_g", "a\nb:c.png", "image/png"),
	})
	want := []string{"passwd.png", "Harbour.JPG", "harbour-img_c.png", "img_d.tif", "release.jpg", "img_f.png", "a_b_c.png"}
	for i, g := range got {
		if g.FileName != want[i] {
			t.Errorf("image %d: %q, want %q", i, g.FileName, want[i])
		}
	}
	if got[1].Stem() != "Harbour" {
		t.Errorf("stem %q", got[1].Stem())
	}
}

func TestClassesNumberTheTaxonomyByPath(t *testing.T) {
	d, anns := dataset(t)
	c := formats.ClassesOf(d.Labels)
	var names []string
	for _, cl := range c.List {
		names = append(names, cl.Name)
	}
	if strings.Join(names, "|") != "facility/naval base|personnel/troop formation|vessel|vessel/landing ship" {
		t.Errorf("classes %q", names)
	}
	if cl, err := c.Of(anns[0]); err != nil || cl.Index != 3 || formats.DOTAClassName(cl) != "vessel/landing-ship" {
		t.Errorf("the ship's class %+v %v", cl, err)
	}
}

// TestYOLOAndDOTALines are the fixtures' label files: the ship's corners from its bow's
// port side clockwise, the rectangle's from its top left, boxes normalised for YOLO and
// in pixels for DOTA, the line and the point left out.
func TestYOLOAndDOTALines(t *testing.T) {
	d, anns := dataset(t)
	classes := formats.ClassesOf(d.Labels)
	vlad, ussu := d.Images[0], d.Images[1]

	var b bytes.Buffer
	left, err := formats.WriteYOLO(&b, vlad, classes, true, eachOf(d, vlad.ID))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || len(left) != 1 || left[0].AnnotationID != anns[2].ID || left[0].Shape != annotations.ShapeLine {
		t.Fatalf("YOLO-OBB lines %q, left out %+v: want the ship and the naval base, the line left out", lines, left)
	}
	ship := strings.Fields(lines[0])
	if ship[0] != "3" || !near(numbers(t, ship[1:]), []float64{180. / 1200, 140. / 800, 170. / 1200, 160. / 800, 90. / 1200, 120. / 800, 100. / 1200, 100. / 800}, 1e-12) {
		t.Errorf("ship %q", ship)
	}
	// The naval base's smallest rectangle is its exterior.
	base := strings.Fields(lines[1])
	if base[0] != "0" || !near(numbers(t, base[1:]), []float64{0, 500. / 800, 400. / 1200, 500. / 800, 400. / 1200, 1, 0, 1}, 1e-12) {
		t.Errorf("naval base %q", base)
	}

	b.Reset()
	if _, err := formats.WriteYOLO(&b, ussu, classes, false, eachOf(d, ussu.ID)); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(b.String()); got != "1 "+strings.Join([]string{
		strconv.FormatFloat(35./900, 'f', -1, 64), strconv.FormatFloat(25./600, 'f', -1, 64),
		strconv.FormatFloat(50./900, 'f', -1, 64), strconv.FormatFloat(30./600, 'f', -1, 64)}, " ") {
		t.Errorf("YOLO detect %q, want the troops' box", got)
	}

	b.Reset()
	if _, err := formats.WriteDOTA(&b, ussu, classes, eachOf(d, ussu.ID)); err != nil {
		t.Fatal(err)
	}
	want := "imagesource:National_Intelligence_Service,_Republic_of_Korea\ngsd:null\n10 10 60 10 60 40 10 40 personnel/troop-formation 0\n"
	if b.String() != want {
		t.Errorf("DOTA:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	if err := formats.WriteYOLOData(&b, classes, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "names:\n  0: \"facility/naval base\"\n") || !strings.Contains(b.String(), "  3: \"vessel/landing ship\"\n") {
		t.Errorf("data.yaml:\n%s", b.String())
	}
}

// TestCOCOInstances holds every image and category, and an instance per box and polygon:
// the polygon's area less its hole, its outline through the hole, the ship's rotation.
func TestCOCOInstances(t *testing.T) {
	d, anns := dataset(t)
	var b bytes.Buffer
	left, err := formats.WriteCOCO(&b, d)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Licenses []struct {
			ID   int
			Name string
		}
		Images []struct {
			ID        int
			FileName  string `json:"file_name"`
			SatmarkID string `json:"satmark_id"`
			License   int
			Credit    string
		}
		Categories []struct {
			ID                  int
			Name, Supercategory string
		}
		Annotations []struct {
			ID, ImageID, CategoryID int `json:"-"`
			Segmentation            [][]float64
			Area                    float64
			BBox                    []float64
			Attributes              map[string]any
		}
		Satmark struct {
			Omitted []formats.Omission
		}
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	if len(got.Images) != 2 || got.Images[0].FileName != "nis-1.jpg" || got.Images[0].License != 1 || got.Licenses[0].Name != "public release" || got.Images[0].Credit != "NIS" {
		t.Errorf("images %+v, licenses %+v", got.Images, got.Licenses)
	}
	if len(got.Categories) != 4 || got.Categories[3].Name != "landing ship" || got.Categories[3].Supercategory != "vessel" || got.Categories[0].Supercategory != "naval base" {
		t.Errorf("categories %+v: the naval base's parent is not in the taxonomy given, so it is its own supercategory", got.Categories)
	}
	if len(got.Annotations) != 3 || len(left) != 2 || len(got.Satmark.Omitted) != 2 {
		t.Fatalf("%d instances, %d left out (%+v): want the ship, the base and the troops' box; the line and the point out", len(got.Annotations), len(left), got.Satmark.Omitted)
	}
	ship, base := got.Annotations[0], got.Annotations[1]
	if ship.Attributes["rotation"] != math.Atan2(40, 80)*180/math.Pi || ship.Attributes["hull_number"] != "BDK-61" || ship.Attributes["satmark_id"] != anns[0].ID {
		t.Errorf("ship attributes %v", ship.Attributes)
	}
	if base.Area != 400*300-50*50 || !near(base.BBox, []float64{0, 500, 400, 300}, 0) {
		t.Errorf("naval base area %g bbox %v, want 117500 and its exterior's box", base.Area, base.BBox)
	}
	// exterior (4) + back to its start (1) + hole (4) + back to the hole's start (1)
	if len(base.Segmentation) != 1 || len(base.Segmentation[0]) != 2*10 {
		t.Errorf("naval base segmentation %v", base.Segmentation)
	}
	if _, ok := base.Attributes["rotation"]; ok {
		t.Errorf("a polygon has no rotation: %v", base.Attributes)
	}
}

// TestCOCOOmissionsAreEncodingJSONs: the "satmark" object that ends a COCO file, whose
// omissions are written one by one, has the bytes encoding/json gave the whole object.
func TestCOCOOmissionsAreEncodingJSONs(t *testing.T) {
	tests := []struct {
		name   string
		rename func(id string) string // of the annotations COCO leaves out
	}{
		{"ok, a line and a point left out", func(id string) string { return id }},
		{"ok, ids that encoding/json escapes", func(id string) string { return id + `<&>"\` + "\u2028\x01" }},
		{"ok, nothing left out", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, anns := dataset(t)
			kept := anns[:0:0]
			for i := range anns {
				if anns[i].Geometry.Type != "Polygon" {
					if tc.rename == nil {
						continue
					}
					anns[i].ID = tc.rename(anns[i].ID)
				}
				kept = append(kept, anns[i])
			}
			anns = kept
			d.Annotations = func(ids []string, emit func(annotations.Annotation) error) error {
				for _, a := range anns {
					if err := emit(a); err != nil {
						return err
					}
				}
				return nil
			}
			var b bytes.Buffer
			left, err := formats.WriteCOCO(&b, d)
			if err != nil {
				t.Fatal(err)
			}
			if (tc.rename == nil) != (len(left) == 0) {
				t.Fatalf("%d omissions", len(left))
			}
			want, err := json.Marshal(map[string]any{"coordinates": formats.PixelCoordinateNote, "omitted": left})
			if err != nil {
				t.Fatal(err)
			}
			_, got, ok := bytes.Cut(b.Bytes(), []byte("\n],\"satmark\":"))
			if !ok {
				t.Fatalf("no satmark object in\n%s", b.String())
			}
			if string(got) != string(want)+"}\n" {
				t.Errorf("satmark object:\n got %s\nwant %s}", got, want)
			}
		})
	}
}

// TestVOCAndCVATXML are well-formed XML whatever the analyst typed, with VOC's enclosing
// pixels and CVAT's rotated box.
func TestVOCAndCVATXML(t *testing.T) {
	d, anns := dataset(t)
	anns[0].Note = `<script>alert("x")</script> & "quotes"` + "\nline two"
	d.Annotations = func(ids []string, emit func(annotations.Annotation) error) error {
		for _, a := range anns {
			if a.ImageID == ids[0] || len(ids) > 1 {
				if err := emit(a); err != nil {
					return err
				}
			}
		}
		return nil
	}
	classes := formats.ClassesOf(d.Labels)
	var b bytes.Buffer
	if _, err := formats.WriteVOC(&b, d.Images[0], classes, eachOf(d, d.Images[0].ID)); err != nil {
		t.Fatal(err)
	}
	var voc struct {
		Objects []struct {
			Name   string `xml:"name"`
			BndBox struct {
				XMin int `xml:"xmin"`
				YMin int `xml:"ymin"`
				XMax int `xml:"xmax"`
				YMax int `xml:"ymax"`
			} `xml:"bndbox"`
			Note string `xml:"satmark>note"`
		} `xml:"object"`
	}
	if err := xml.Unmarshal(b.Bytes(), &voc); err != nil {
		t.Fatalf("VOC is not XML: %v\n%s", err, b.String())
	}
	if len(voc.Objects) != 2 || voc.Objects[0].Note != anns[0].Note || voc.Objects[0].Name != "vessel/landing ship" {
		t.Fatalf("VOC objects %+v", voc.Objects)
	}
	// The ship spans x 90–180, y 100–160: pixels 91–180 and 101–160, 1-based.
	if bb := voc.Objects[0].BndBox; bb.XMin != 91 || bb.YMin != 101 || bb.XMax != 180 || bb.YMax != 160 {
		t.Errorf("ship bndbox %+v", bb)
	}

	d.AttributeNames = []string{"count", "hull_number"}
	b.Reset()
	if err := formats.WriteCVAT(&b, d); err != nil {
		t.Fatal(err)
	}
	var cvat struct {
		Labels []struct {
			Name       string   `xml:"name"`
			Attributes []string `xml:"attributes>attribute>name"`
		} `xml:"meta>task>labels>label"`
		Images []struct {
			Name  string `xml:"name,attr"`
			Boxes []struct {
				XTL        float64 `xml:"xtl,attr"`
				YTL        float64 `xml:"ytl,attr"`
				XBR        float64 `xml:"xbr,attr"`
				YBR        float64 `xml:"ybr,attr"`
				Rotation   float64 `xml:"rotation,attr"`
				Attributes []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:",chardata"`
				} `xml:"attribute"`
			} `xml:"box"`
			Polygons []struct {
				Points string `xml:"points,attr"`
			} `xml:"polygon"`
		} `xml:"image"`
	}
	if err := xml.Unmarshal(b.Bytes(), &cvat); err != nil {
		t.Fatalf("CVAT is not XML: %v\n%s", err, b.String())
	}
	if len(cvat.Labels) != 4 || strings.Join(cvat.Labels[0].Attributes, ",") != "satmark_id,confidence,identification,note,review_status,count,hull_number" {
		t.Errorf("labels %+v", cvat.Labels)
	}
	ship := cvat.Images[0].Boxes[0]
	length, width := math.Hypot(80, 40), math.Hypot(10, 20)
	if !near([]float64{ship.XTL, ship.YTL, ship.XBR, ship.YBR, ship.Rotation},
		[]float64{135 - length/2, 130 - width/2, 135 + length/2, 130 + width/2, math.Atan2(40, 80) * 180 / math.Pi}, 1e-9) {
		t.Errorf("ship box %+v", ship)
	}
	notes := map[string]string{}
	for _, a := range ship.Attributes {
		notes[a.Name] = a.Value
	}
	if notes["note"] != anns[0].Note || notes["hull_number"] != "BDK-61" || notes["count"] != "1" {
		t.Errorf("ship attributes %v", notes)
	}
	if p := cvat.Images[0].Polygons; len(p) != 1 || strings.Count(p[0].Points, ";") != 9 {
		t.Errorf("naval base %+v: want its outline through the hole, 10 vertices", p)
	}
}

// TestCSVRows is a row per annotation with its WKT, lon/lat empty for an unplaced image.
func TestCSVRows(t *testing.T) {
	d, anns := dataset(t)
	var b bytes.Buffer
	if err := formats.WriteCSV(&b, d); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(formats.CSVColumns, ",") || len(rows) != 1+len(anns) {
		t.Fatalf("rows %q", rows)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	for i, want := range []struct{ wkt, rotation string }{
		{"POLYGON ((100 100, 180 140, 170 160, 90 120, 100 100))", strconv.FormatFloat(math.Atan2(40, 80)*180/math.Pi, 'f', -1, 64)},
		{"POLYGON ((0 500, 400 500, 400 800, 0 800, 0 500), (100 600, 100 650, 150 650, 150 600, 100 600))", ""},
		{"LINESTRING (10.5 20.25, 13.5 24.25)", ""},
		{"POINT (450.5 300.75)", ""},
		{"POLYGON ((10 10, 60 10, 60 40, 10 40, 10 10))", "0"},
	} {
		r := rows[i+1]
		if r[col["geometry_px"]] != want.wkt || r[col["rotation_deg"]] != want.rotation || r[col["geometry_lonlat"]] != "" || r[col["annotation_id"]] != anns[i].ID {
			t.Errorf("row %d: %q", i, r)
		}
	}
	if got := rows[1][col["attributes"]]; got != `{"count":1,"hull_number":"BDK-61"}` {
		t.Errorf("attributes %s", got)
	}
}

func TestWriteDatasetZipRefusesAnUnknownFormat(t *testing.T) {
	d, _ := dataset(t)
	var b bytes.Buffer
	if err := formats.WriteDatasetZip(&b, "tfrecord", d, nil); err == nil || b.Len() != 0 {
		t.Errorf("err %v, %d bytes written", err, b.Len())
	}
}

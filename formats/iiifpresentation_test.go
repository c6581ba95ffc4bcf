package formats

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
)

// The IIIF Presentation 3.0 writers: the manifest's shape and provenance, and each shape's
// selectors read back to the geometry they came from.

const iiifBase = "https://satmark.example.org"

func iiifTestImage() annotations.Image {
	return annotations.Image{
		ID: "img_port", SHA256: strings.Repeat("ab", 32), Title: "Vladivostok, 8 October", Filename: "port.jpg",
		Width: 4000, Height: 3000, CapturedFrom: "2024-10-08", CapturedTo: "2024-10-13", LocationName: "Vladivostok",
		PublisherMarkup: true,
		Source: annotations.Source{
			Publisher: "National Intelligence Service, Republic of Korea", Title: "North Korean troops in Russia",
			URL: "https://www.nis.go.kr/release?id=1&lang=en", ReleasedAt: "2024-10-18", Credit: "NIS / Airbus DS",
			License: "http://creativecommons.org/licenses/by/4.0/", Claim: "Ships carried <1,500 troops & more\nover a week",
		},
	}
}

func iiifTestCanvas(img annotations.Image) IIIFCanvas {
	base := iiifBase + "/api/v1/images/" + img.ID + "/iiif"
	return IIIFCanvas{Image: img, ID: base + "/canvas", Service: iiifBase + "/iiif/3/" + img.ID, TileFormat: "jpg",
		Annotations: base + "/annotations.json", Page: iiifBase + "/images/" + img.ID}
}

func decodeJSON(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("not JSON (%v): %s", err, data)
	}
	return v
}

// metadataValues reads a manifest's metadata as label → value (the first of each).
func metadataValues(t *testing.T, v map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	md, _ := v["metadata"].([]any)
	for _, e := range md {
		entry := e.(map[string]any)
		label := entry["label"].(map[string]any)["en"].([]any)[0].(string)
		out[label] = entry["value"].(map[string]any)["none"].([]any)[0].(string)
	}
	return out
}

func TestIIIFManifestOfOneImage(t *testing.T) {
	img := iiifTestImage()
	var buf bytes.Buffer
	id := iiifBase + "/api/v1/images/img_port/iiif/manifest.json"
	if err := WriteIIIFManifest(&buf, id, []IIIFCanvas{iiifTestCanvas(img)}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte(`{"@context":"http://iiif.io/api/presentation/3/context.json",`)) {
		t.Errorf("the manifest does not start with its @context: %.80s", buf.Bytes())
	}
	m := decodeJSON(t, buf.Bytes())
	if m["id"] != id || m["type"] != "Manifest" {
		t.Errorf("id, type = %v, %v; want %s, Manifest", m["id"], m["type"], id)
	}
	if got := m["label"].(map[string]any)["none"].([]any)[0]; got != img.Title {
		t.Errorf("label = %v, want the title %q", got, img.Title)
	}
	md := metadataValues(t, m)
	want := map[string]string{
		"Publisher":        img.Source.Publisher,
		"Release":          img.Source.Title,
		"Released":         "2024-10-18",
		"Source":           `<a href="https://www.nis.go.kr/release?id=1&amp;lang=en">https://www.nis.go.kr/release?id=1&amp;lang=en</a>`,
		"Licence":          `<a href="http://creativecommons.org/licenses/by/4.0/">http://creativecommons.org/licenses/by/4.0/</a>`,
		"Captured":         "2024-10-08 – 2024-10-13",
		"Location":         "Vladivostok",
		"Claim":            "<span>Ships carried &lt;1,500 troops &amp; more<br/>over a week</span>",
		"Publisher markup": "yes: the publisher drew on the image",
		"Original file":    "port.jpg",
		"SHA-256":          img.SHA256,
	}
	for k, v := range want {
		if md[k] != v {
			t.Errorf("metadata %q = %q, want %q", k, md[k], v)
		}
	}
	if _, ok := md["Credit"]; ok {
		t.Errorf("the credit is in the metadata too; it belongs in requiredStatement")
	}
	rs := m["requiredStatement"].(map[string]any)
	if got := rs["value"].(map[string]any)["none"].([]any)[0]; got != img.Source.Credit {
		t.Errorf("requiredStatement = %v, want the credit %q", got, img.Source.Credit)
	}
	if m["rights"] != img.Source.License {
		t.Errorf("rights = %v, want the licence %s", m["rights"], img.Source.License)
	}

	items := m["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("%d canvases, want 1", len(items))
	}
	canvas := items[0].(map[string]any)
	if canvas["id"] != iiifTestCanvas(img).ID || canvas["width"] != 4000.0 || canvas["height"] != 3000.0 {
		t.Errorf("canvas %v is %v×%v, want %s 4000×3000", canvas["id"], canvas["width"], canvas["height"], iiifTestCanvas(img).ID)
	}
	if _, ok := canvas["metadata"]; ok {
		t.Errorf("the canvas of a one-image manifest repeats the provenance")
	}
	painting := canvas["items"].([]any)[0].(map[string]any)["items"].([]any)[0].(map[string]any)
	body := painting["body"].(map[string]any)
	service := body["service"].([]any)[0].(map[string]any)
	if painting["motivation"] != "painting" || painting["target"] != canvas["id"] {
		t.Errorf("painting annotation: motivation %v, target %v", painting["motivation"], painting["target"])
	}
	if service["id"] != iiifBase+"/iiif/3/img_port" || service["type"] != "ImageService3" || service["profile"] != "level2" {
		t.Errorf("image service = %v, want satmark's level 2 ImageService3", service)
	}
	if body["id"] != iiifBase+"/iiif/3/img_port/full/max/0/default.jpg" || body["format"] != "image/jpeg" || body["width"] != 4000.0 {
		t.Errorf("painted image = %v", body)
	}
	pages := canvas["annotations"].([]any)
	ref := pages[0].(map[string]any)
	if len(pages) != 1 || ref["id"] != iiifTestCanvas(img).Annotations || ref["type"] != "AnnotationPage" || ref["items"] != nil {
		t.Errorf("annotations = %v, want one page referred to by id and type only", pages)
	}
}

func TestIIIFManifestOfSeveralImages(t *testing.T) {
	a, b := iiifTestImage(), iiifTestImage()
	b.ID, b.Title, b.Source.Credit, b.Source.License = "img_base", "Ussuriysk", "Maxar Technologies", "all rights reserved"
	var buf bytes.Buffer
	if err := WriteIIIFManifest(&buf, iiifBase+"/api/v1/iiif/manifest.json?image=img_port,img_base", []IIIFCanvas{iiifTestCanvas(a), iiifTestCanvas(b)}); err != nil {
		t.Fatal(err)
	}
	m := decodeJSON(t, buf.Bytes())
	items := m["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("%d canvases, want 2", len(items))
	}
	for i, img := range []annotations.Image{a, b} {
		c := items[i].(map[string]any)
		if got := c["label"].(map[string]any)["none"].([]any)[0]; got != img.Title {
			t.Errorf("canvas %d label = %v, want %q", i, got, img.Title)
		}
		if got := metadataValues(t, c)["Publisher"]; got != img.Source.Publisher {
			t.Errorf("canvas %d publisher = %q, want its own provenance", i, got)
		}
	}
	if _, ok := items[1].(map[string]any)["rights"]; ok {
		t.Errorf("a licence that is no URI became rights")
	}
	if _, ok := m["rights"]; ok {
		t.Errorf("the manifest has rights though its images' differ")
	}
	credits := m["requiredStatement"].(map[string]any)["value"].(map[string]any)["none"].([]any)
	if len(credits) != 2 || credits[0] != a.Source.Credit || credits[1] != b.Source.Credit {
		t.Errorf("the manifest's required statement = %v, want both credits", credits)
	}
	if err := WriteIIIFManifest(&buf, "x", nil); err == nil {
		t.Errorf("a manifest of no image was written")
	}
}

func TestIIIFText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"ok, plain text stays plain", "Ropucha-class, 8 Oct", "Ropucha-class, 8 Oct"},
		{"ok, a > alone is harmless", "length > 100 m", "length > 100 m"},
		{"ok, a < is escaped HTML", "<1,500 troops", "<span>&lt;1,500 troops</span>"},
		{"ok, text that looks like HTML is not HTML", "<b>bold</b>", "<span>&lt;b&gt;bold&lt;/b&gt;</span>"},
		{"ok, line breaks", "one\ntwo\n", "<span>one<br/>two</span>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := iiifText(tc.in); got != tc.want {
				t.Errorf("iiifText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// svgPath is the one <path> of an SvgSelector's SVG document, as Mirador reads it.
type svgPath struct {
	D           string `xml:"d,attr"`
	Stroke      string `xml:"stroke,attr"`
	Fill        string `xml:"fill,attr"`
	FillRule    string `xml:"fill-rule,attr"`
	StrokeWidth string `xml:"stroke-width,attr"`
}

func parseSVG(t *testing.T, value string) svgPath {
	t.Helper()
	var doc struct {
		XMLName xml.Name  `xml:"http://www.w3.org/2000/svg svg"`
		Paths   []svgPath `xml:"path"`
	}
	if err := xml.Unmarshal([]byte(value), &doc); err != nil {
		t.Fatalf("the SvgSelector is not SVG (%v): %s", err, value)
	}
	if len(doc.Paths) != 1 {
		t.Fatalf("%d paths, want 1: %s", len(doc.Paths), value)
	}
	return doc.Paths[0]
}

var pathCommand = regexp.MustCompile(`([MLZ])(?:(-?[0-9.]+),(-?[0-9.]+))?`)

// subpaths reads a path of M, L and Z commands as its runs of positions.
func subpaths(t *testing.T, d string) (runs [][]annotations.Position, closed []bool) {
	t.Helper()
	for _, m := range pathCommand.FindAllStringSubmatch(d, -1) {
		switch m[1] {
		case "M":
			runs, closed = append(runs, nil), append(closed, false)
			fallthrough
		case "L":
			x, err1 := strconv.ParseFloat(m[2], 64)
			y, err2 := strconv.ParseFloat(m[3], 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("bad coordinates in %q", m[0])
			}
			runs[len(runs)-1] = append(runs[len(runs)-1], annotations.Position{x, y})
		case "Z":
			closed[len(closed)-1] = true
		}
	}
	return runs, closed
}

func TestIIIFAnnotationSelectors(t *testing.T) {
	img := iiifTestImage()
	vessel := annotations.Label{ID: "l1", Name: "landing ship", Path: []string{"vessel", "landing ship"}, Color: "#e6194b"}
	exterior := []annotations.Position{{100.25, 200.5}, {900.75, 200.5}, {900.75, 800}, {100.25, 800}, {100.25, 200.5}}
	hole := []annotations.Position{{300, 300}, {400, 300}, {400, 400}, {300, 400}, {300, 300}} // same winding as the exterior
	rotated := []annotations.Position{{1000, 1000}, {1300, 1100}, {1280, 1160}, {980, 1060}, {1000, 1000}}
	tests := []struct {
		name      string
		shape     annotations.Shape
		geom      annotations.Geometry
		fragment  string // the FragmentSelector's value, "" for none
		rings     [][]annotations.Position
		closed    bool
		fill      string
		fillRule  string
		wantPoint *annotations.Position
	}{
		{name: "ok, a rectangle: a whole-pixel box widened to hold it, then its exact outline", shape: annotations.ShapeRectangle,
			geom: annotations.PolygonGeometry(exterior), fragment: "xywh=100,200,801,600",
			rings: [][]annotations.Position{exterior[:4]}, closed: true, fill: "#e6194b", fillRule: "evenodd"},
		{name: "ok, a rotated rectangle: its four corners as drawn", shape: annotations.ShapeRotatedRectangle,
			geom: annotations.PolygonGeometry(rotated), rings: [][]annotations.Position{rotated[:4]}, closed: true, fill: "#e6194b", fillRule: "evenodd"},
		{name: "ok, a polygon with a hole: the hole runs against the exterior", shape: annotations.ShapePolygon,
			geom:  annotations.PolygonGeometry(exterior, hole),
			rings: [][]annotations.Position{exterior[:4], reversed(hole[:4])}, closed: true, fill: "#e6194b", fillRule: "evenodd"},
		{name: "ok, a line: open, not filled", shape: annotations.ShapeLine,
			geom:  annotations.LineGeometry([]annotations.Position{{10, 20}, {3990.5, 2999.25}, {2000, 1500}}),
			rings: [][]annotations.Position{{{10, 20}, {3990.5, 2999.25}, {2000, 1500}}}, fill: "none"},
		{name: "ok, a point: a circle about it", shape: annotations.ShapePoint,
			geom: annotations.PointGeometry(annotations.Position{1234.5, 678.125}), wantPoint: &annotations.Position{1234.5, 678.125}, fill: "#e6194b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := annotations.Annotation{ID: "a1", ImageID: img.ID, Label: vessel, Shape: tc.shape, Geometry: tc.geom}
			sels := selectorsOf(a, img)
			if tc.fragment != "" {
				if len(sels) != 2 || sels[0].Type != "FragmentSelector" || sels[0].ConformsTo != mediaFragments || sels[0].Value != tc.fragment {
					t.Fatalf("selectors = %+v, want the FragmentSelector %s first", sels, tc.fragment)
				}
				sels = sels[1:]
			}
			if len(sels) != 1 || sels[0].Type != "SvgSelector" {
				t.Fatalf("selectors = %+v, want one SvgSelector", sels)
			}
			p := parseSVG(t, sels[0].Value)
			if p.Stroke != vessel.Color || p.Fill != tc.fill || p.FillRule != tc.fillRule || p.StrokeWidth != "2" {
				t.Errorf("path drawn with stroke %q, fill %q, fill-rule %q, width %q", p.Stroke, p.Fill, p.FillRule, p.StrokeWidth)
			}
			if tc.wantPoint != nil {
				r := pointRadius(img)
				want := "M" + svgNum(tc.wantPoint[0]-r) + "," + svgNum(tc.wantPoint[1]) + " A20,20 0 1,0 " + svgNum(tc.wantPoint[0]+r) + "," + svgNum(tc.wantPoint[1]) +
					" A20,20 0 1,0 " + svgNum(tc.wantPoint[0]-r) + "," + svgNum(tc.wantPoint[1]) + " Z"
				if r != 20 || p.D != want {
					t.Errorf("point drawn as %q, want the circle of radius 20 about it %q", p.D, want)
				}
				return
			}
			runs, closed := subpaths(t, p.D)
			if len(runs) != len(tc.rings) {
				t.Fatalf("%d subpaths in %q, want %d", len(runs), p.D, len(tc.rings))
			}
			for i, run := range runs {
				if closed[i] != tc.closed {
					t.Errorf("subpath %d closed = %v, want %v", i, closed[i], tc.closed)
				}
				if len(run) != len(tc.rings[i]) {
					t.Fatalf("subpath %d has %d positions, want %d: %q", i, len(run), len(tc.rings[i]), p.D)
				}
				for j, pos := range run {
					if pos != tc.rings[i][j] {
						t.Errorf("subpath %d position %d = %v, want %v exactly", i, j, pos, tc.rings[i][j])
					}
				}
			}
		})
	}
}

func TestIIIFAnnotationPage(t *testing.T) {
	img := iiifTestImage()
	canvas := iiifTestCanvas(img)
	vessel := annotations.Label{ID: "l1", Name: "landing ship", Path: []string{"vessel", "landing ship"}, Color: "not a colour"}
	at := time.Date(2024, 10, 19, 8, 30, 0, 0, time.UTC)
	anns := []annotations.Annotation{
		{ID: "a-tag", ImageID: img.ID, Label: vessel, Shape: annotations.ShapePoint, Geometry: annotations.PointGeometry(annotations.Position{5, 5}),
			ReviewStatus: "draft", CreatedBy: "ada", CreatedAt: at, UpdatedAt: at},
		{ID: "a-full", ImageID: img.ID, Label: vessel, Shape: annotations.ShapePoint, Geometry: annotations.PointGeometry(annotations.Position{6, 6}),
			Confidence: annotations.Probable, Identification: "Ropucha-class", Note: "Moored at <pier 3>\nbow east",
			Attributes:   map[string]json.RawMessage{"count": json.RawMessage(`2`), "hull": json.RawMessage(`"grey & rust"`)},
			ReviewStatus: "accepted", Decision: &annotations.Review{Decision: "accepted", Reviewer: "rita", At: at, Reason: "matches AIS"},
			CreatedBy: "ada", CreatedAt: at, UpdatedAt: at.Add(time.Hour)},
	}
	var buf bytes.Buffer
	page := IIIFPage{ID: canvas.Annotations, Canvas: canvas, Manifest: iiifBase + "/api/v1/images/img_port/iiif/manifest.json",
		AnnotationBase: iiifBase + "/api/v1/annotations/"}
	err := WriteIIIFAnnotationPage(&buf, page, func(emit func(annotations.Annotation) error) error {
		for _, a := range anns {
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	p := decodeJSON(t, buf.Bytes())
	if p["@context"] != iiifPresentationContext || p["id"] != canvas.Annotations || p["type"] != "AnnotationPage" {
		t.Errorf("page head = %v %v %v", p["@context"], p["id"], p["type"])
	}
	items := p["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("%d annotations, want 2", len(items))
	}
	type body struct{ Value, Format, Purpose string }
	bodiesOf := func(a map[string]any) []body {
		var out []body
		for _, b := range a["body"].([]any) {
			m := b.(map[string]any)
			if m["type"] != "TextualBody" {
				t.Errorf("body type %v, want TextualBody", m["type"])
			}
			out = append(out, body{m["value"].(string), m["format"].(string), m["purpose"].(string)})
		}
		return out
	}
	tag := items[0].(map[string]any)
	if tag["id"] != iiifBase+"/api/v1/annotations/a-tag" || tag["type"] != "Annotation" || tag["motivation"] != "tagging" {
		t.Errorf("label-only annotation: id %v, type %v, motivation %v; want tagging", tag["id"], tag["type"], tag["motivation"])
	}
	if got := bodiesOf(tag); len(got) != 1 || got[0] != (body{"vessel › landing ship", "text/plain", "tagging"}) {
		t.Errorf("label-only bodies = %+v, want the label path alone", got)
	}
	target := tag["target"].(map[string]any)
	source := target["source"].(map[string]any)
	partOf := source["partOf"].([]any)[0].(map[string]any)
	if target["type"] != "SpecificResource" || source["id"] != canvas.ID || source["type"] != "Canvas" || partOf["id"] != page.Manifest {
		t.Errorf("target = %v, want a SpecificResource of the canvas, part of the manifest", target)
	}
	if !strings.Contains(target["selector"].([]any)[0].(map[string]any)["value"].(string), `stroke="#00bfff"`) {
		t.Errorf("a label colour that is no #rrggbb went into the SVG")
	}

	full := items[1].(map[string]any)
	if full["motivation"] != "commenting" || full["created"] != "2024-10-19T08:30:00Z" || full["modified"] != "2024-10-19T09:30:00Z" {
		t.Errorf("annotation: motivation %v, created %v, modified %v", full["motivation"], full["created"], full["modified"])
	}
	if c := full["creator"].(map[string]any); c["type"] != "Person" || c["nickname"] != "ada" {
		t.Errorf("creator = %v, want the person ada", c)
	}
	want := []body{
		{"vessel › landing ship", "text/plain", "tagging"},
		{"<p>Ropucha-class</p>", "text/html", "identifying"},
		{"<p>Moored at &lt;pier 3&gt;<br/>bow east</p>", "text/html", "commenting"},
		{"<p>Confidence: probable</p>", "text/html", "assessing"},
		{"<p>Review: accepted by rita, 2024-10-19: matches AIS</p>", "text/html", "moderating"},
		{"<p>count: 2<br/>hull: grey &amp; rust</p>", "text/html", "describing"},
	}
	got := bodiesOf(full)
	if len(got) != len(want) {
		t.Fatalf("bodies = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("body %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	// An annotation of another image is refused, not put on this canvas.
	err = WriteIIIFAnnotationPage(&buf, page, func(emit func(annotations.Annotation) error) error {
		return emit(annotations.Annotation{ID: "stray", ImageID: "img_other", Label: vessel, Geometry: annotations.PointGeometry(annotations.Position{1, 1})})
	})
	if err == nil || !strings.Contains(err.Error(), "img_other") {
		t.Errorf("an annotation of another image gave %v, want an error naming it", err)
	}
}

func TestIIIFPointRadius(t *testing.T) {
	for _, tc := range []struct {
		w, h int
		want float64
	}{{4000, 3000, 20}, {640, 480, 3.2}, {64, 48, 2}} {
		if got := pointRadius(annotations.Image{Width: tc.w, Height: tc.h}); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("pointRadius(%d×%d) = %g, want %g", tc.w, tc.h, got, tc.want)
		}
	}
}

// The hand-written web annotations are marshalJSON's bytes of the structs they replace,
// selectors included (selectorsOf, below, is how they were built):
// encoderCases (every shape, HTML, control characters and U+2028 in text and attributes,
// decisions, an empty label), a rectangle (its fragment selector), a user name that needs
// escaping, and a source with and without its manifest.
func TestWebAnnotationsAreMarshalJSONs(t *testing.T) {
	img, anns := encoderCases()
	rect := anns[0]
	rect.ID, rect.Shape = "ann_rect", annotations.ShapeRectangle
	rect.Geometry = annotations.PolygonGeometry([]annotations.Position{{10.5, 20}, {300, 20}, {300, 90.25}, {10.5, 90.25}, {10.5, 20}})
	rect.CreatedBy = "d\"<x>&\u2028\x7f\xff"
	anns = append(anns, rect)
	sources := []iiifRef{
		{ID: iiifBase + "/canvas?a=<1>&b=2", Type: "Canvas", PartOf: []iiifRef{{ID: iiifBase + "/manifest.json", Type: "Manifest"}}},
		{ID: iiifBase + "/canvas", Type: "Canvas"},
	}
	for _, source := range sources {
		src, err := marshalJSON(source)
		if err != nil {
			t.Fatal(err)
		}
		src = bytes.TrimRight(src, "\n")
		for _, a := range anns {
			w := webAnnotation(a, img, source, iiifBase+"/api/v1/annotations/")
			got := appendWebAnnotation([]byte("x"), w, src, a, img)
			w.Target.Selector = selectorsOf(a, img)
			want, err := marshalJSON(w)
			if err != nil {
				t.Fatal(err)
			}
			if string(got[1:]) != strings.TrimSuffix(string(want), "\n") {
				t.Errorf("annotation %s:\n got %s\nwant %s", a.ID, got[1:], want)
			}
		}
	}
}

// The selectors as they were built before appendSelectors wrote them straight into the
// page: the oracle of TestWebAnnotationsAreMarshalJSONs, and what
// TestIIIFAnnotationSelectors reads back.

// selectorsOf is where on the canvas an annotation lies (see WriteIIIFAnnotationPage).
func selectorsOf(a annotations.Annotation, img annotations.Image) []wadmSelector {
	svg := svgSelector(a, img)
	if a.Shape != annotations.ShapeRectangle || len(a.Geometry.Coordinates) == 0 {
		return []wadmSelector{svg}
	}
	x0, y0, x1, y1 := extent(a.Geometry.Coordinates[0])
	fx0, fy0 := math.Max(0, math.Floor(x0)), math.Max(0, math.Floor(y0))
	fx1, fy1 := math.Min(float64(img.Width), math.Ceil(x1)), math.Min(float64(img.Height), math.Ceil(y1))
	xywh := fmt.Sprintf("xywh=%d,%d,%d,%d", int(fx0), int(fy0), int(fx1-fx0), int(fy1-fy0))
	return []wadmSelector{{Type: "FragmentSelector", ConformsTo: mediaFragments, Value: xywh}, svg}
}

// svgSelector draws the annotation as one SVG path in the label's colour: Mirador draws a
// selector's <path> elements (stroke, fill and their opacities; stroke-width in screen
// pixels), and hit-tests clicks inside them.
func svgSelector(a annotations.Annotation, img annotations.Image) wadmSelector {
	color := a.Label.Color
	if !isHexColor(color) {
		color = "#00bfff"
	}
	var d strings.Builder
	style := `fill="` + color + `" fill-opacity="0.15"`
	switch a.Geometry.Type {
	case "Point":
		p := a.Geometry.Coordinates[0][0]
		r := pointRadius(img)
		x0, x1, y, rs := svgNum(p[0]-r), svgNum(p[0]+r), svgNum(p[1]), svgNum(r)
		d.WriteString("M" + x0 + "," + y + " A" + rs + "," + rs + " 0 1,0 " + x1 + "," + y + " A" + rs + "," + rs + " 0 1,0 " + x0 + "," + y + " Z")
		style = `fill="` + color + `" fill-opacity="0.5"`
	case "LineString":
		svgRun(&d, a.Geometry.Coordinates[0], false)
		style = `fill="none"`
	default:
		rings := a.Geometry.Coordinates
		exteriorCW := clockwiseRing(rings[0])
		for i, ring := range rings {
			r := flatRing(ring)
			if i > 0 && clockwiseRing(ring) == exteriorCW {
				r = reversed(r)
			}
			if i > 0 {
				d.WriteByte(' ')
			}
			svgRun(&d, r, true)
		}
		style += ` fill-rule="evenodd"`
	}
	value := `<svg xmlns="http://www.w3.org/2000/svg" width="` + strconv.Itoa(img.Width) + `" height="` + strconv.Itoa(img.Height) +
		`"><path d="` + d.String() + `" stroke="` + color + `" stroke-width="2" ` + style + `/></svg>`
	return wadmSelector{Type: "SvgSelector", Value: value}
}

func svgRun(d *strings.Builder, ps []annotations.Position, closed bool) {
	for i, p := range ps {
		if i == 0 {
			d.WriteString("M")
		} else {
			d.WriteString(" L")
		}
		d.WriteString(svgNum(p[0]) + "," + svgNum(p[1]))
	}
	if closed {
		d.WriteString(" Z")
	}
}

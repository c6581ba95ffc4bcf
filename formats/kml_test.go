package formats

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
)

func TestKMLColor(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ok, red becomes bbggrr", "#ff0000", "0000ff"},
		{"ok, blue", "#0000ff", "ff0000"},
		{"ok, label colour", "#e6194b", "4b19e6"},
		{"ok, upper case is lowered", "#4363D8", "d86343"},
		{"nok, no hash gives white", "e6194b", "ffffff"},
		{"nok, short form gives white", "#f00", "ffffff"},
		{"nok, empty gives white", "", "ffffff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := kmlColor(tc.in); got != tc.want {
				t.Errorf("kmlColor(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// kmlDoc is what the tests read back from WriteKML.
type kmlDoc struct {
	XMLName  xml.Name `xml:"kml"`
	Document struct {
		Styles []struct {
			ID        string `xml:"id,attr"`
			LineColor string `xml:"LineStyle>color"`
			PolyColor string `xml:"PolyStyle>color"`
		} `xml:"Style"`
		Overlay struct {
			Href string `xml:"Icon>href"`
			Box  *struct {
				North float64 `xml:"north"`
				South float64 `xml:"south"`
				East  float64 `xml:"east"`
				West  float64 `xml:"west"`
			} `xml:"LatLonBox"`
			Quad *struct {
				Coordinates string `xml:"coordinates"`
			} `xml:"http://www.google.com/kml/ext/2.2 LatLonQuad"`
		} `xml:"GroundOverlay"`
		Placemarks []struct {
			ID       string `xml:"id,attr"`
			StyleURL string `xml:"styleUrl"`
			Data     []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value"`
			} `xml:"ExtendedData>Data"`
			Point       []string `xml:"Point>coordinates"`
			Line        []string `xml:"LineString>coordinates"`
			Outer       []string `xml:"Polygon>outerBoundaryIs>LinearRing>coordinates"`
			MultiOuter  []string `xml:"MultiGeometry>Polygon>outerBoundaryIs>LinearRing>coordinates"`
			MultiInner  []string `xml:"MultiGeometry>Polygon>innerBoundaryIs>LinearRing>coordinates"`
			MultiLines  []string `xml:"MultiGeometry>LineString>coordinates"`
			MultiPoints []string `xml:"MultiGeometry>Point>coordinates"`
		} `xml:"Folder>Placemark"`
	} `xml:"Document"`
}

// kmlTuples reads a KML coordinates text: lon,lat tuples separated by whitespace, with
// no space inside a tuple.
func kmlTuples(t *testing.T, text string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, tuple := range strings.Fields(text) {
		parts := strings.Split(tuple, ",")
		if len(parts) != 2 {
			t.Errorf("tuple %q is not lon,lat", tuple)
			continue
		}
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			t.Errorf("tuple %q is not two numbers", tuple)
			continue
		}
		out = append(out, [2]float64{lon, lat})
	}
	return out
}

func kmlFixture(width, height int) (annotations.Image, []annotations.Annotation) {
	at := time.Date(2024, 10, 18, 9, 30, 0, 0, time.UTC)
	img := annotations.Image{ID: "img_kmlkmlkmlkml", SHA256: strings.Repeat("ef", 32), Title: "Taveuni <coast> & reef",
		Width: width, Height: height, Source: annotations.Source{Publisher: "Fiji Navy", ReleasedAt: "2024-10-18"}}
	ship := annotations.Label{ID: "lbl_ship", Name: "landing ship", Path: []string{"vessel", "landing ship"}, Color: "#e6194b"}
	base := annotations.Label{ID: "lbl_base", Name: "naval base", Path: []string{"facility", "naval base"}, Color: "#4363D8"}
	ann := func(id string, l annotations.Label, s annotations.Shape, g annotations.Geometry, c annotations.Confidence) annotations.Annotation {
		return annotations.Annotation{ID: id, ImageID: img.ID, Label: l, Shape: s, Geometry: g, Confidence: c,
			ReviewStatus: annotations.ReviewDraft, CreatedBy: "alice", CreatedAt: at, UpdatedBy: "alice", UpdatedAt: at, Version: 1}
	}
	anns := []annotations.Annotation{
		ann("a1", ship, annotations.ShapePoint, annotations.PointGeometry(annotations.Position{100, 200}), annotations.Confirmed),
		ann("a2", base, annotations.ShapePolygon, annotations.PolygonGeometry(positions([2]float64{7500, 20}, [2]float64{7995, 20}, [2]float64{7995, 600}, [2]float64{7500, 600}, [2]float64{7500, 20})), annotations.Probable),
		ann("a3", ship, annotations.ShapeLine, annotations.LineGeometry(positions([2]float64{7600, 200}, [2]float64{7990, 200})), annotations.Possible),
		ann("a4", base, annotations.ShapeRectangle, annotations.PolygonGeometry(positions([2]float64{1000, 1000}, [2]float64{2000, 1000}, [2]float64{2000, 1500}, [2]float64{1000, 1500}, [2]float64{1000, 1000})), annotations.Probable),
	}
	// a1 was accepted by bob; a3 was accepted once, then changed back to a draft.
	accepted := &annotations.Review{AnnotationID: "a1", Version: 2, Reviewer: "bob", Decision: annotations.ReviewAccepted, Reason: "matches the <release>", At: at.Add(time.Hour)}
	anns[0].ReviewStatus, anns[0].Decision = annotations.ReviewAccepted, accepted
	anns[2].Decision = &annotations.Review{AnnotationID: "a3", Version: 2, Reviewer: "bob", Decision: annotations.ReviewAccepted, At: at}
	return img, anns
}

func readKML(t *testing.T, text []byte) kmlDoc {
	t.Helper()
	var doc kmlDoc
	if err := xml.Unmarshal(text, &doc); err != nil {
		t.Fatalf("the KML does not parse: %v\n%s", err, text)
	}
	if doc.XMLName.Space != "http://www.opengis.net/kml/2.2" {
		t.Errorf("root element %v, want kml in the KML 2.2 namespace", doc.XMLName)
	}
	return doc
}

func TestWriteKMLAcrossTheAntimeridian(t *testing.T) {
	fit := mustFit(t, geo.Affine, taveuni7)
	img, anns := kmlFixture(8000, 6000)
	var buf bytes.Buffer
	p := Placement{Transformer: fit, Fit: fit, Method: "gcps", Transform: "affine"}
	if err := WriteKML(&buf, img, p, labelsOf(anns), emitEach(anns), "overlay.jpg"); err != nil {
		t.Fatal(err)
	}
	doc := readKML(t, buf.Bytes())
	d := doc.Document
	if len(d.Placemarks) != len(anns) {
		t.Fatalf("%d placemarks, want %d", len(d.Placemarks), len(anns))
	}
	// Two label colours, two styles, in KML's aabbggrr.
	styles := map[string]string{}
	for _, s := range d.Styles {
		styles[s.ID] = s.LineColor
	}
	if len(styles) != 2 || styles["label-e6194b"] != "ff4b19e6" || styles["label-4363D8"] != "ffd86343" {
		t.Errorf("styles = %v, want label-e6194b ff4b19e6 and label-4363D8 ffd86343", styles)
	}
	for i, pm := range d.Placemarks {
		if want := "#" + styleID(anns[i].Label.Color); pm.StyleURL != want {
			t.Errorf("placemark %s styleUrl %q, want %q", pm.ID, pm.StyleURL, want)
		}
		data := map[string]string{}
		for _, kv := range pm.Data {
			data[kv.Name] = kv.Value
		}
		if data["confidence"] != string(anns[i].Confidence) || data["publisher"] != "Fiji Navy" {
			t.Errorf("placemark %s ExtendedData = %v, want confidence %q and publisher Fiji Navy", pm.ID, data, anns[i].Confidence)
		}
		if data["review_status"] != anns[i].ReviewStatus {
			t.Errorf("placemark %s review_status %q, want %q", pm.ID, data["review_status"], anns[i].ReviewStatus)
		}
		if i == 0 && (data["review_by"] != "bob" || data["review_at"] != "2024-10-18T10:30:00Z" || data["review_reason"] != "matches the <release>") {
			t.Errorf("accepted placemark %s: review %q at %q because %q; want bob, 2024-10-18T10:30:00Z, matches the <release>", pm.ID, data["review_by"], data["review_at"], data["review_reason"])
		}
		if _, ok := data["review_by"]; i != 0 && ok {
			t.Errorf("placemark %s (%s) names a reviewer %q", pm.ID, anns[i].ReviewStatus, data["review_by"])
		}
	}

	if len(d.Placemarks[0].Point) != 1 || len(kmlTuples(t, d.Placemarks[0].Point[0])) != 1 {
		t.Errorf("point placemark: %+v", d.Placemarks[0])
	}
	// The polygon across 180° is a MultiGeometry of two polygons, each within ±180°.
	cut := d.Placemarks[1]
	if len(cut.MultiOuter) != 2 || len(cut.Outer) != 0 {
		t.Fatalf("polygon across the antimeridian: %d polygons in a MultiGeometry, %d alone; want 2 in a MultiGeometry", len(cut.MultiOuter), len(cut.Outer))
	}
	for _, c := range cut.MultiOuter {
		ring := kmlTuples(t, c)
		wantRFC7946Rings(t, [][][][2]float64{{ring}})
	}
	if len(d.Placemarks[2].MultiLines) != 2 {
		t.Errorf("line across the antimeridian: %d lines in a MultiGeometry, want 2", len(d.Placemarks[2].MultiLines))
	}
	if len(d.Placemarks[3].Outer) != 1 || len(kmlTuples(t, d.Placemarks[3].Outer[0])) != 5 {
		t.Errorf("rectangle: %+v, want one polygon of 5 tuples", d.Placemarks[3])
	}

	// A rotated image is a gx:LatLonQuad of its corners: lower-left first,
	// counter-clockwise, equal to gdaltransform -order 1 of (0,6000), (8000,6000),
	// (8000,0), (0,0) (geo/testdata/fit-taveuni7.txt).
	if d.Overlay.Box != nil || d.Overlay.Quad == nil {
		t.Fatalf("ground overlay: box %v, quad %v; want a gx:LatLonQuad", d.Overlay.Box, d.Overlay.Quad)
	}
	quad := kmlTuples(t, d.Overlay.Quad.Coordinates)
	want := [][2]float64{{179.825219460775, -16.8262264985398}, {179.966266888607, -16.8756513940316},
		{180.004782891642 - 360, -16.7737658352846}, {179.86373546381, -16.7243409397929}}
	if len(quad) != 4 {
		t.Fatalf("quad has %d tuples, want 4", len(quad))
	}
	for i := range want {
		if math.Abs(quad[i][0]-want[i][0]) > 5e-8 || math.Abs(quad[i][1]-want[i][1]) > 5e-8 { // 7 decimals
			t.Errorf("quad corner %d = %v, want %v", i, quad[i], want[i])
		}
	}
	if d.Overlay.Href != "overlay.jpg" {
		t.Errorf("overlay href %q, want overlay.jpg", d.Overlay.Href)
	}
}

func TestWriteKMLNorthUpGridIsALatLonBox(t *testing.T) {
	img, anns := kmlFixture(64, 48)
	grid := geo.Grid{GeoTransform: geo.GeoTransform{131.85, 2.5e-5, 0, 43.14, 0, -2e-5}, CRS: geo.WGS84}
	var buf bytes.Buffer
	if err := WriteKML(&buf, img, Placement{Transformer: grid, Grid: &grid, Method: "grid"}, labelsOf(anns[:1]), emitEach(anns[:1]), "https://example.org/full.jpg"); err != nil {
		t.Fatal(err)
	}
	d := readKML(t, buf.Bytes()).Document
	if d.Overlay.Quad != nil || d.Overlay.Box == nil {
		t.Fatalf("ground overlay: box %v, quad %v; want a LatLonBox", d.Overlay.Box, d.Overlay.Quad)
	}
	b := *d.Overlay.Box
	if math.Abs(b.North-43.14) > 1e-12 || math.Abs(b.South-43.13904) > 1e-12 || math.Abs(b.East-131.8516) > 1e-12 || math.Abs(b.West-131.85) > 1e-12 {
		t.Errorf("LatLonBox = %+v, want north 43.14, south 43.13904, east 131.8516, west 131.85", b)
	}
}

func TestWriteKMLRefusesAnImageWithoutGeoreference(t *testing.T) {
	img, anns := kmlFixture(64, 48)
	gsd := 0.5
	if err := WriteKML(io.Discard, img, Placement{GSD: &gsd}, labelsOf(anns), emitEach(anns), "overlay.jpg"); err == nil {
		t.Error("WriteKML of an image with only a ground sample distance succeeded, want an error")
	}
}

func TestWriteKMZ(t *testing.T) {
	img, anns := kmlFixture(64, 48)
	grid := geo.Grid{GeoTransform: geo.GeoTransform{131.85, 2.5e-5, 0, 43.14, 0, -2e-5}, CRS: geo.WGS84}
	overlay := []byte("\xff\xd8 not really a JPEG \xff\xd9")
	var buf bytes.Buffer
	if err := WriteKMZ(&buf, img, Placement{Transformer: grid, Grid: &grid, Method: "grid"}, anns[:1], overlay); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatalf("the KMZ is not a zip: %v", err)
	}
	if len(z.File) != 2 || z.File[0].Name != "doc.kml" || z.File[1].Name != KMZOverlayName {
		var names []string
		for _, f := range z.File {
			names = append(names, f.Name)
		}
		t.Fatalf("entries %v, want doc.kml then %s", names, KMZOverlayName)
	}
	// The latest change to what the KMZ holds: bob's acceptance of a1.
	for _, f := range z.File {
		if want := anns[0].Decision.At; !f.Modified.Equal(want) {
			t.Errorf("entry %s is dated %v, want %v", f.Name, f.Modified, want)
		}
	}
	read := func(f *zip.File) []byte {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if d := readKML(t, read(z.File[0])).Document; d.Overlay.Href != KMZOverlayName {
		t.Errorf("doc.kml's overlay href = %q, want %q", d.Overlay.Href, KMZOverlayName)
	}
	if got := read(z.File[1]); !bytes.Equal(got, overlay) {
		t.Errorf("overlay entry holds %q, want the overlay bytes", got)
	}
}

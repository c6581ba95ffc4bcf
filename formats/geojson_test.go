package formats_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var (
	created = time.Date(2024, 10, 18, 9, 30, 0, 0, time.UTC)
	edited  = time.Date(2024, 10, 19, 14, 5, 30, 250_000_000, time.UTC)
)

// fixtures are fixed domain values: two images of one release and annotations of every
// shape, so the golden files never change unless the format does.
func fixtures() ([]annotations.Image, []annotations.Annotation) {
	release := annotations.Source{
		ID: "src_k3v9q2m8x1ab", Publisher: "National Intelligence Service, Republic of Korea",
		Title: "North Korean troops moved to Russia", URL: "https://www.nis.go.kr/", ReleasedAt: "2024-10-18",
		Credit: "NIS", License: "public release", Claim: "Russian landing ships carried North Korean special forces.",
		CreatedAt: created,
	}
	vladivostok := annotations.Image{
		ID: "img_vlad2024aaaa", SHA256: strings.Repeat("ab", 32), Title: "Vladivostok harbour", Filename: "nis-1.jpg",
		MediaType: "image/jpeg", ByteSize: 812345, Width: 1200, Height: 800, Orientation: 1,
		CapturedFrom: "2024-10-08", CapturedTo: "2024-10-13", LocationName: "Vladivostok", PublisherMarkup: true,
		Source: release, CreatedBy: "alice", CreatedAt: created, UpdatedAt: created,
	}
	ussuriysk := annotations.Image{
		ID: "img_ussu2024bbbb", SHA256: strings.Repeat("cd", 32), Title: "Ussuriysk training ground", Filename: "nis-2.jpg",
		MediaType: "image/jpeg", ByteSize: 654321, Width: 900, Height: 600, Orientation: 1,
		CapturedFrom: "2024-10-16T01:00:00Z", LocationName: "Ussuriysk", Source: release,
		CreatedBy: "alice", CreatedAt: created, UpdatedAt: created,
	}
	landingShip := annotations.Label{ID: "lbl_landing2345", Name: "landing ship", ParentID: "lbl_vessel234567", Path: []string{"vessel", "landing ship"}, Color: "#e6194b"}
	navalBase := annotations.Label{ID: "lbl_navalbase23", Name: "naval base", ParentID: "lbl_facility2345", Path: []string{"facility", "naval base"}, Color: "#4363D8"}
	troops := annotations.Label{ID: "lbl_troops23456", Name: "troop formation", ParentID: "lbl_personnel234", Path: []string{"personnel", "troop formation"}, Color: "#00ff7f"}
	ann := func(id, imageID string, l annotations.Label, s annotations.Shape, g annotations.Geometry) annotations.Annotation {
		return annotations.Annotation{
			ID: id, ImageID: imageID, Label: l, Shape: s, Geometry: g, ReviewStatus: "draft",
			Attributes: map[string]json.RawMessage{}, CreatedBy: "alice", CreatedAt: created, UpdatedBy: "alice", UpdatedAt: created, Version: 1,
		}
	}
	ship := ann("5f0c3a52-8d1e-4a57-9b7e-0c1d2e3f4a5b", vladivostok.ID, landingShip, annotations.ShapeRotatedRectangle,
		annotations.PolygonGeometry([]annotations.Position{{100, 100}, {180, 140}, {170, 160}, {90, 120}, {100, 100}}))
	ship.Confidence, ship.Identification, ship.Note = annotations.Probable, "Ropucha-class", "bow to the north-east"
	ship.Attributes = map[string]json.RawMessage{"hull_number": json.RawMessage(`"BDK-61"`), "count": json.RawMessage(`1`)}
	ship.UpdatedBy, ship.UpdatedAt, ship.Version = "bob", edited, 3
	pier := ann("6a1d4b63-9e2f-4b68-8c8f-1d2e3f4a5b6c", vladivostok.ID, navalBase, annotations.ShapePolygon,
		annotations.PolygonGeometry(
			[]annotations.Position{{0, 500}, {400, 500}, {400, 800}, {0, 800}, {0, 500}},
			[]annotations.Position{{100, 600}, {100, 650}, {150, 650}, {150, 600}, {100, 600}},
		))
	mooring := ann("7b2e5c74-af30-4c79-9d90-2e3f4a5b6c7d", vladivostok.ID, navalBase, annotations.ShapeLine,
		annotations.LineGeometry([]annotations.Position{{10.5, 20.25}, {13.5, 24.25}}))
	formation := ann("8c3f6d85-b041-4d8a-8ea1-3f4a5b6c7d8e", ussuriysk.ID, troops, annotations.ShapePoint,
		annotations.PointGeometry(annotations.Position{450.5, 300.75}))
	formation.Confidence = annotations.Possible
	formation.Attributes = nil // written as an empty object
	box := ann("9d4a7e96-c152-4e9b-9fb2-4a5b6c7d8e9f", ussuriysk.ID, troops, annotations.ShapeRectangle,
		annotations.PolygonGeometry([]annotations.Position{{10, 10}, {60, 10}, {60, 40}, {10, 40}, {10, 10}}))
	return []annotations.Image{vladivostok, ussuriysk}, []annotations.Annotation{ship, pier, mooring, formation, box}
}

// emitAll feeds as to WritePixelGeoJSON in order.
func emitAll(as []annotations.Annotation) func(func(annotations.Annotation) error) error {
	return func(emit func(annotations.Annotation) error) error {
		for _, a := range as {
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test ./formats -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test ./formats -update if the change is intended)\ngot:\n%s", path, got)
	}
}

type exported struct {
	Type            string `json:"type"`
	CoordinateSpace struct {
		Type   string `json:"type"`
		Units  string `json:"units"`
		Origin string `json:"origin"`
		YAxis  string `json:"y_axis"`
		Note   string `json:"note"`
		Image  *struct {
			ID     string `json:"id"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
		} `json:"image"`
		Images []struct {
			ID string `json:"id"`
		} `json:"images"`
	} `json:"coordinate_space"`
	Features []struct {
		Type     string          `json:"type"`
		ID       string          `json:"id"`
		Geometry json.RawMessage `json:"geometry"`
		Props    struct {
			ObjectType     string `json:"objectType"`
			Name           string `json:"name"`
			Classification struct {
				Name  string `json:"name"`
				Color []int  `json:"color"`
			} `json:"classification"`
			Measurements map[string]float64         `json:"measurements"`
			Attributes   map[string]json.RawMessage `json:"attributes"`
			Image        struct {
				ID string `json:"id"`
			} `json:"image"`
			Provenance struct {
				Publisher    string `json:"publisher"`
				CapturedFrom string `json:"captured_from"`
			} `json:"provenance"`
		} `json:"properties"`
	} `json:"features"`
}

func parse(t *testing.T, b []byte) exported {
	t.Helper()
	var e exported
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, b)
	}
	if e.Type != "FeatureCollection" {
		t.Errorf("got type %q, want FeatureCollection", e.Type)
	}
	if e.CoordinateSpace.Type != "image-pixels" || e.CoordinateSpace.Origin != "top-left" || e.CoordinateSpace.YAxis != "down" ||
		e.CoordinateSpace.Note != formats.PixelCoordinateNote {
		t.Errorf("got coordinate space %+v, want image pixels, top-left origin, y down and the note", e.CoordinateSpace)
	}
	return e
}

func TestWritePixelGeoJSONSingleImage(t *testing.T) {
	images, all := fixtures()
	var onFirst []annotations.Annotation
	for _, a := range all {
		if a.ImageID == images[0].ID {
			onFirst = append(onFirst, a)
		}
	}
	var b bytes.Buffer
	if err := formats.WritePixelGeoJSON(&b, images[:1], emitAll(onFirst)); err != nil {
		t.Fatalf("write: %v", err)
	}
	golden(t, "pixel-single.geojson", b.Bytes())

	e := parse(t, b.Bytes())
	img := e.CoordinateSpace.Image
	if img == nil || img.ID != images[0].ID || img.Width != 1200 || img.Height != 800 {
		t.Errorf("got coordinate_space.image %+v, want %s 1200×800", img, images[0].ID)
	}
	if e.CoordinateSpace.Images != nil {
		t.Errorf("got coordinate_space.images %+v, want none in the single-image form", e.CoordinateSpace.Images)
	}
	var gotIDs, wantIDs []string
	for _, f := range e.Features {
		gotIDs = append(gotIDs, f.ID)
	}
	for _, a := range onFirst {
		wantIDs = append(wantIDs, a.ID)
	}
	if strings.Join(gotIDs, ",") != strings.Join(wantIDs, ",") {
		t.Errorf("got features %v, want them in the order emitted: %v", gotIDs, wantIDs)
	}
	ship, pier := e.Features[0].Props, e.Features[1].Props
	if ship.Name != "Ropucha-class" || pier.Name != "naval base" {
		t.Errorf("got names %q and %q, want the identification, else the label name", ship.Name, pier.Name)
	}
	tests := []struct {
		name string
		got  []int
		want []int
	}{
		{"#e6194b", ship.Classification.Color, []int{0xe6, 0x19, 0x4b}},
		{"#4363D8", pier.Classification.Color, []int{0x43, 0x63, 0xd8}},
	}
	for _, tt := range tests {
		if len(tt.got) != 3 || tt.got[0] != tt.want[0] || tt.got[1] != tt.want[1] || tt.got[2] != tt.want[2] {
			t.Errorf("colour %s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if pier.Measurements["area_px2"] != 400*300-50*50 {
		t.Errorf("got pier area %v, want %d", pier.Measurements["area_px2"], 400*300-50*50)
	}
	if string(ship.Attributes["hull_number"]) != `"BDK-61"` || ship.Provenance.Publisher != images[0].Source.Publisher {
		t.Errorf("got attributes %s and publisher %q, want the annotation's and the release's", ship.Attributes, ship.Provenance.Publisher)
	}
}

func TestWritePixelGeoJSONSeveralImages(t *testing.T) {
	images, all := fixtures()
	var b bytes.Buffer
	if err := formats.WritePixelGeoJSON(&b, images, emitAll(all)); err != nil {
		t.Fatalf("write: %v", err)
	}
	golden(t, "pixel-multi.geojson", b.Bytes())

	e := parse(t, b.Bytes())
	if e.CoordinateSpace.Image != nil {
		t.Errorf("got coordinate_space.image %+v, want none in the multi-image form", e.CoordinateSpace.Image)
	}
	if len(e.CoordinateSpace.Images) != 2 || e.CoordinateSpace.Images[0].ID != images[0].ID || e.CoordinateSpace.Images[1].ID != images[1].ID {
		t.Errorf("got coordinate_space.images %+v, want %s and %s", e.CoordinateSpace.Images, images[0].ID, images[1].ID)
	}
	if len(e.Features) != len(all) {
		t.Fatalf("got %d features, want %d", len(e.Features), len(all))
	}
	for i, f := range e.Features {
		if f.ID != all[i].ID || f.Props.Image.ID != all[i].ImageID {
			t.Errorf("feature %d: got %s on %s, want %s on %s", i, f.ID, f.Props.Image.ID, all[i].ID, all[i].ImageID)
		}
	}
	formation := e.Features[3].Props
	if formation.Attributes == nil || len(formation.Attributes) != 0 {
		t.Errorf("got attributes %v, want an empty object for an annotation without attributes", formation.Attributes)
	}
	if formation.Provenance.CapturedFrom != "2024-10-16T01:00:00Z" {
		t.Errorf("got captured_from %q, want the image's own", formation.Provenance.CapturedFrom)
	}
}

func TestWritePixelGeoJSONEmpty(t *testing.T) {
	images, _ := fixtures()
	tests := []struct {
		name   string
		images []annotations.Image
	}{
		{"ok, one image without annotations", images[:1]},
		{"ok, no images at all", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := formats.WritePixelGeoJSON(&b, tt.images, emitAll(nil)); err != nil {
				t.Fatalf("write: %v", err)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, b.Bytes())
			}
			var features []json.RawMessage
			if err := json.Unmarshal(raw["features"], &features); err != nil || features == nil || len(features) != 0 {
				t.Errorf(`got "features": %s (%v), want an empty array`, raw["features"], err)
			}
		})
	}
}

func TestWritePixelGeoJSONRejectsAnnotationOfAnotherImage(t *testing.T) {
	images, all := fixtures()
	var b bytes.Buffer
	err := formats.WritePixelGeoJSON(&b, images[:1], emitAll(all))
	if err == nil || !strings.Contains(err.Error(), images[1].ID) {
		t.Errorf("got %v, want an error naming image %s", err, images[1].ID)
	}
}

func TestWritePixelGeoJSONPassesOnTheWalkError(t *testing.T) {
	images, _ := fixtures()
	errWalk := os.ErrDeadlineExceeded
	err := formats.WritePixelGeoJSON(&bytes.Buffer{}, images, func(func(annotations.Annotation) error) error { return errWalk })
	if !errors.Is(err, errWalk) {
		t.Errorf("got %v, want %v", err, errWalk)
	}
}

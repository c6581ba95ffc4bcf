package annotations

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// marshalByReflection is how MarshalJSON wrote an annotation before AppendJSON: the
// oracle AppendJSON must agree with, byte for byte.
func marshalByReflection(a Annotation) ([]byte, error) {
	m := a.Geometry.Measure(a.Shape)
	m.Ground = a.Ground
	return json.Marshal(annotationJSON{
		ID: a.ID, ImageID: a.ImageID, Label: a.Label, Shape: a.Shape, Geometry: a.Geometry,
		Properties: a.Properties(), Measures: m, ReviewStatus: a.ReviewStatus,
		CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt, UpdatedBy: a.UpdatedBy, UpdatedAt: a.UpdatedAt, Version: a.Version,
	})
}

func TestAppendJSONIsWhatJSONMarshalWrites(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	texts := []string{"", "plain", "Ropucha-class", "<b>&amp;</b>", `quote " and \ back`, "tab\tline\nreturn\r",
		"\x00\x01\x1f", "\b\f", "é ü 北京", "\u2028 and \u2029", "bad \xff\xfe bytes", "😀"}
	text := func() string { return texts[rng.IntN(len(texts))] }
	num := func() float64 {
		return []float64{0, 1, -2.5, 1e-7, 3e-6, 123456.789, 1e20, 1e21, 4e22, -1e-9, 0.1 + 0.2}[rng.IntN(11)] * (1 + float64(rng.IntN(3)))
	}
	maybe := func() *float64 {
		if rng.IntN(3) == 0 {
			return nil
		}
		v := num()
		return &v
	}
	zones := []*time.Location{time.UTC, time.FixedZone("KST", 9*3600)}
	when := func() time.Time {
		switch rng.IntN(4) {
		case 0:
			return time.Time{}
		case 1:
			return time.Date(2024, 10, 8, 9, 0, 0, 0, time.UTC)
		default:
			return time.Date(2024, 10, 8, 9, 0, 0, rng.IntN(1e9), zones[rng.IntN(2)])
		}
	}
	geometries := []struct {
		shape Shape
		g     Geometry
	}{
		{ShapePoint, PointGeometry(Position{5.5, 6.25})},
		{ShapeLine, LineGeometry([]Position{{1, 2}, {30.125, 4}, {0.0000001, 1e5}})},
		{ShapePolygon, PolygonGeometry([]Position{{10, 10}, {60, 10}, {60, 40}, {10, 10}}, []Position{{20, 15}, {25, 15}, {25, 20}, {20, 15}})},
		{ShapeRectangle, PolygonGeometry([]Position{{10, 10}, {60, 10}, {60, 40}, {10, 40}, {10, 10}})},
		{ShapeRotatedRectangle, PolygonGeometry([]Position{{10, 10}, {50, 40}, {44, 48}, {4, 18}, {10, 10}})},
	}
	attributes := []map[string]json.RawMessage{
		nil, {},
		{"count": json.RawMessage(`2`)},
		{"aa": json.RawMessage(`"first"`), "zz": json.RawMessage(`{"b":[1,2],"a":"<x>"}`), "hull": json.RawMessage(`null`)},
	}
	for i := range 2000 {
		geo := geometries[rng.IntN(len(geometries))]
		l := Label{ID: "lbl_" + text(), Name: text(), Color: "#aabbcc"}
		switch rng.IntN(3) {
		case 0:
			l.Path = []string{text(), text()}
			l.ParentID, l.Hotkey = text(), text()
		case 1:
			l.Path = []string{}
		}
		a := Annotation{
			ID: text(), ImageID: text(), Label: l, Shape: geo.shape, Geometry: geo.g,
			Confidence: Confidence(text()), Identification: text(), Note: text(), Attributes: attributes[rng.IntN(len(attributes))],
			ReviewStatus: text(), CreatedBy: text(), CreatedAt: when(), UpdatedBy: text(), UpdatedAt: when(), Version: rng.IntN(1000),
			Ground: Ground{LengthM: maybe(), WidthM: maybe(), AreaM2: maybe(), PerimeterM: maybe(), HeadingDeg: maybe(),
				Basis: []string{"", "gsd", "georeference"}[rng.IntN(3)]},
		}
		want, wantErr := marshalByReflection(a)
		got, err := a.AppendJSON([]byte("prefix:"))
		if wantErr != nil || err != nil {
			t.Fatalf("case %d: errors %v and %v", i, err, wantErr)
		}
		if string(got) != "prefix:"+string(want) {
			t.Fatalf("case %d:\ngot  %s\nwant prefix:%s", i, got, want)
		}
	}

	// What JSON has no number for is an error both ways.
	nan := math.NaN()
	a := Annotation{ID: "x", Shape: ShapePoint, Geometry: PointGeometry(Position{1, 2}), Ground: Ground{LengthM: &nan}}
	if _, err := marshalByReflection(a); err == nil {
		t.Fatal("json.Marshal took NaN")
	}
	if _, err := a.AppendJSON(nil); err == nil {
		t.Error("AppendJSON wrote NaN")
	}
}

package annotations

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"
)

// A row the list could not write either is refused, with the list's words, and the frame
// is as it was: the rows added before it, byte for byte.
func TestShapeFrameAddRefuses(t *testing.T) {
	at := time.Date(2024, 10, 8, 9, 0, 0, 0, time.UTC)
	ok := Annotation{ID: "a1", Shape: ShapePoint, Geometry: Geometry{Type: "Point", Coordinates: [][]Position{{{1, 2}}}},
		Note: "x", ReviewStatus: "draft", CreatedBy: "ana", CreatedAt: at, UpdatedBy: "ana", UpdatedAt: at, Version: 1}
	box := Geometry{Type: "Polygon", Coordinates: [][]Position{{{0, 0}, {4, 0}, {4, 2}, {0, 2}, {0, 0}}}}
	tests := []struct {
		name   string
		change func(a *Annotation)
		words  string
	}{
		{"nok, a coordinate not a number", func(a *Annotation) { a.Geometry.Coordinates = [][]Position{{{math.NaN(), 2}}} }, "not a number"},
		{"nok, a coordinate infinite", func(a *Annotation) {
			a.Shape, a.Geometry = ShapePolygon, Geometry{Type: "Polygon", Coordinates: [][]Position{{{0, 0}, {math.Inf(1), 0}, {4, 2}, {0, 0}}}}
		}, "not a number"},
		{"nok, a ground measure not a number", func(a *Annotation) {
			a.Shape, a.Geometry, a.Ground = ShapeRectangle, box, Ground{AreaM2: ptr(math.NaN()), Basis: "gsd"}
		}, "unsupported value"},
		{"nok, a time past year 9999", func(a *Annotation) { a.UpdatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "year"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f ShapeFrame
			if err := f.Add(&ok); err != nil {
				t.Fatal(err)
			}
			before := f.AppendTo(nil)
			bad := ok
			bad.ID = "a2"
			tc.change(&bad)
			err := f.Add(&bad)
			if err == nil || !strings.Contains(strings.ToLower(err.Error()), tc.words) {
				t.Fatalf("Add = %v, want an error saying %q", err, tc.words)
			}
			if _, want := bad.MarshalJSON(); want == nil {
				t.Errorf("the list writes what the frame refused")
			}
			if got := f.AppendTo(nil); f.Len() != 1 || !bytes.Equal(got, before) {
				t.Errorf("after the refusal the frame holds %d rows\n got %q\nwant %q", f.Len(), got, before)
			}
		})
	}
}

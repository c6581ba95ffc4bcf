package formats_test

import (
	"math"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// benchShapes are the shapes bench/exports stores, in turn: a point, a line, a rectangle,
// a rotated rectangle and a hexagon.
func benchShapes() []annotations.Annotation {
	x, y := 1000.5, 2000.25
	c, s := math.Cos(0.5), math.Sin(0.5)
	p := func(u, v float64) annotations.Position {
		return annotations.Position{x + u*c - v*s, y + 10 + u*s + v*c}
	}
	ring := make([]annotations.Position, 7)
	for k := range ring {
		t := float64(k%6) * math.Pi / 3
		ring[k] = annotations.Position{x + 6 + 6*math.Cos(t), y + 6 + 6*math.Sin(t)}
	}
	return []annotations.Annotation{
		{Shape: annotations.ShapePoint, Geometry: annotations.PointGeometry(annotations.Position{x, y})},
		{Shape: annotations.ShapeLine, Geometry: annotations.LineGeometry([]annotations.Position{{x, y}, {x + 9, y + 3}, {x + 15, y + 11}})},
		{Shape: annotations.ShapeRectangle, Geometry: annotations.PolygonGeometry([]annotations.Position{{x, y}, {x + 12, y}, {x + 12, y + 8}, {x, y + 8}, {x, y}})},
		{Shape: annotations.ShapeRotatedRectangle, Geometry: annotations.PolygonGeometry([]annotations.Position{p(0, 0), p(14, 0), p(14, 4), p(0, 4), p(0, 0)})},
		{Shape: annotations.ShapePolygon, Geometry: annotations.PolygonGeometry(ring)},
	}
}

// BenchmarkMeasure measures the five shapes of bench/exports on an image placed as there
// (a WGS 84 grid of 1 µ° per pixel): go test ./formats -run '^$' -bench Measure -benchmem
func BenchmarkMeasure(b *testing.B) {
	gt := [6]float64{131.88, 1e-6, 0, 43.12, 0, -1e-6}
	p, err := formats.PlacementOf(annotations.Image{ID: "i"}, &annotations.Georeference{Method: annotations.GeorefGrid, GeoTransform: &gt, CRS: 4326})
	if err != nil {
		b.Fatal(err)
	}
	shapes := benchShapes()
	for b.Loop() {
		for _, a := range shapes {
			p.Measure(a)
		}
	}
}

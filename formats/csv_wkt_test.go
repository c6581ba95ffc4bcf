package formats

import (
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// TestWKTIsAppendedAsItWasJoined: the CSV export's geometry cells, appended into one
// buffer, have the bytes the string builders below (its former encoder) gave.
func TestWKTIsAppendedAsItWasJoined(t *testing.T) {
	_, anns := encoderCases()
	for _, a := range anns {
		if got, want := string(appendPixelWKT(nil, a.Geometry)), pixelWKT(a.Geometry); got != want {
			t.Errorf("%s pixel WKT:\n got %s\nwant %s", a.Shape, got, want)
		}
	}
	ring := [][2]float64{{131.875, 43.1}, {131.9, 43.125}, {-179.5, 1e-7}, {131.875, 43.1}}
	for _, g := range []lonLatGeometry{
		{"Point", [2]float64{131.875, -43.000001}},
		{"LineString", ring[:2]},
		{"MultiLineString", [][][2]float64{ring[:2], ring[1:3]}},
		{"Polygon", [][][2]float64{ring, ring}},
		{"MultiPolygon", [][][][2]float64{{ring}, {ring, ring}}},
		{"GeometryCollection", nil},
	} {
		if got, want := string(appendLonLatWKT(nil, g)), lonLatWKT(g); got != want {
			t.Errorf("%s lon/lat WKT:\n got %s\nwant %s", g.Type, got, want)
		}
	}
}

// pixelWKT is a pixel geometry as WKT.
func pixelWKT(g annotations.Geometry) string {
	paths := make([][][2]float64, len(g.Coordinates))
	for i, r := range g.Coordinates {
		paths[i] = make([][2]float64, len(r))
		for j, p := range r {
			paths[i][j] = [2]float64(p)
		}
	}
	switch g.Type {
	case "Point":
		return "POINT (" + wktPosition(paths[0][0]) + ")"
	case "LineString":
		return "LINESTRING " + wktPath(paths[0])
	}
	return "POLYGON " + wktRings(paths)
}

// lonLatWKT is an RFC 7946 geometry as WKT.
func lonLatWKT(g lonLatGeometry) string {
	switch c := g.Coordinates.(type) {
	case [2]float64:
		return "POINT (" + wktPosition(c) + ")"
	case [][2]float64:
		return "LINESTRING " + wktPath(c)
	case [][][2]float64:
		if g.Type == "MultiLineString" {
			return "MULTILINESTRING " + wktRings(c)
		}
		return "POLYGON " + wktRings(c)
	case [][][][2]float64:
		parts := make([]string, len(c))
		for i, p := range c {
			parts[i] = wktRings(p)
		}
		return "MULTIPOLYGON (" + strings.Join(parts, ", ") + ")"
	}
	return ""
}

func wktPosition(p [2]float64) string { return num(p[0]) + " " + num(p[1]) }

func wktPath(ps [][2]float64) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = wktPosition(p)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func wktRings(rs [][][2]float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = wktPath(r)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

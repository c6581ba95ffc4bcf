package formats

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
)

// TestBoxSidesAreMeasuredWithTheirArea: a rectangle's or rotated rectangle's length and
// width, now taken from the pass that measures its area, are the numbers LineLength gave
// for its two sides (measuredSideBySide, the former Measure), on linear, polynomial and
// spline georeferences and for boxes too thin to have an area.
func TestBoxSidesAreMeasuredWithTheirArea(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	places := map[string]Placement{
		"affine":      {Transformer: mustFit(t, geo.Affine, taveuni7)},
		"polynomial2": {Transformer: mustFit(t, geo.Polynomial2, taveuni7)},
		"tps":         {Transformer: mustFit(t, geo.TPS, taveuni7)},
		"grid":        {Transformer: northUp},
	}
	for name, p := range places {
		for i := range 300 {
			cx, cy := rng.Float64()*8000, rng.Float64()*6000
			l, w, th := rng.Float64()*3000, rng.Float64()*1500, rng.Float64()*2*math.Pi
			if i%10 == 0 {
				w = 0 // a line drawn as a box: no area, but a length
			}
			c, s := math.Cos(th), math.Sin(th)
			corner := func(u, v float64) annotations.Position {
				return annotations.Position{cx + u*l/2*c - v*w/2*s, cy + u*l/2*s + v*w/2*c}
			}
			ring := []annotations.Position{corner(-1, -1), corner(1, -1), corner(1, 1), corner(-1, 1), corner(-1, -1)}
			a := annotations.Annotation{Shape: annotations.ShapeRotatedRectangle, Geometry: annotations.PolygonGeometry(ring)}
			if i%2 == 1 {
				a.Shape = annotations.ShapeRectangle
			}
			if got, want := p.Measure(a), measuredSideBySide(p, a); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, %s %v:\n got %s\nwant %s", name, a.Shape, ring, groundString(got), groundString(want))
			}
		}
	}
}

func groundString(g annotations.Ground) string {
	s := g.Basis
	for _, v := range []*float64{g.LengthM, g.WidthM, g.AreaM2, g.PerimeterM, g.HeadingDeg} {
		if v == nil {
			s += " -"
		} else {
			s += " " + num(*v)
		}
	}
	return s
}

func measuredSideBySide(p Placement, a annotations.Annotation) annotations.Ground {
	var g annotations.Ground
	rings := make([][][2]float64, len(a.Geometry.Coordinates))
	for i, r := range a.Geometry.Coordinates {
		rings[i] = make([][2]float64, len(r))
		for j, pos := range r {
			rings[i][j] = [2]float64(pos)
		}
	}
	if p.Transformer == nil {
		if p.GSD == nil {
			return g
		}
		m, s := a.Geometry.Measure(a.Shape), *p.GSD
		g.Basis = "gsd"
		if m.LengthPx > 0 {
			g.LengthM = ptr(m.LengthPx * s)
		}
		if m.WidthPx > 0 {
			g.WidthM = ptr(m.WidthPx * s)
		}
		if m.AreaPx2 > 0 {
			g.AreaM2, g.PerimeterM = ptr(m.AreaPx2*s*s), ptr(m.PerimeterPx*s)
		}
		return g
	}
	t := p.Transformer
	g.Basis = "georeference"
	switch a.Geometry.Type {
	case "LineString":
		if l, err := geo.LineLength(t, rings[0]); err == nil {
			g.LengthM = ptr(l)
		}
	case "Polygon":
		if area, perim, err := geo.PolygonArea(t, rings); err == nil {
			g.AreaM2, g.PerimeterM = ptr(area), ptr(perim)
		}
		if (a.Shape == annotations.ShapeRectangle || a.Shape == annotations.ShapeRotatedRectangle) && len(rings[0]) == 5 {
			r := rings[0]
			s1, err1 := geo.LineLength(t, [][2]float64{r[0], r[1]})
			s2, err2 := geo.LineLength(t, [][2]float64{r[1], r[2]})
			if err1 == nil && err2 == nil {
				g.LengthM, g.WidthM = ptr(math.Max(s1, s2)), ptr(math.Min(s1, s2))
			}
			if a.Shape == annotations.ShapeRotatedRectangle {
				// The long axis, through the middle of the box, in the direction of the
				// side drawn first.
				mid := func(p, q [2]float64) [2]float64 { return [2]float64{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2} }
				from, to := mid(r[0], r[3]), mid(r[1], r[2])
				if s1 < s2 {
					from, to = mid(r[0], r[1]), mid(r[3], r[2])
				}
				if az, err := geo.Azimuth(t, from, to); err == nil {
					g.HeadingDeg = ptr(az)
				}
			}
		}
	}
	return g
}

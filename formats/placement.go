package formats

import (
	"fmt"
	"math"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
)

// Placement is how an image's pixels reach the ground: through its georeference, or
// only through a ground sample distance, or not at all.
type Placement struct {
	Transformer geo.Transformer // nil when the image is not georeferenced
	Fit         *geo.Fit        // the control-point fit, when that is the georeference
	Grid        *geo.Grid       // the geotransform, when that is the georeference
	GSD         *float64        // metres per pixel, used when there is no Transformer
	Method      string          // "gcps", "grid" or ""
	Transform   string          // the fitted transform, or "geotransform EPSG:…" (or the WKT's CRS name)
}

// Georeferenced reports whether pixels can be turned into lon/lat.
func (p Placement) Georeferenced() bool { return p.Transformer != nil }

// PlacementOf builds an image's placement from its stored georeference (nil when it has
// none) and ground sample distance.
func PlacementOf(img annotations.Image, g *annotations.Georeference) (Placement, error) {
	p := Placement{GSD: img.GSD}
	if g == nil {
		return p, nil
	}
	switch g.Method {
	case annotations.GeorefControlPoints:
		fit, err := geo.FitControlPoints(geo.TransformKind(g.Transform), GeoControlPoints(g.ControlPoints))
		if err != nil {
			return p, fmt.Errorf("georeference of %s: %w", img.ID, err)
		}
		p.Transformer, p.Fit, p.Method, p.Transform = fit, fit, g.Method, g.Transform
	case annotations.GeorefGrid:
		grid := &geo.Grid{GeoTransform: geo.GeoTransform(*g.GeoTransform), CRS: geo.CRS{EPSG: g.CRS, WKT: g.CRSWKT}}
		if err := grid.Validate(); err != nil {
			return p, fmt.Errorf("georeference of %s: %w", img.ID, err)
		}
		p.Transformer, p.Grid, p.Method, p.Transform = grid, grid, g.Method, "geotransform "+grid.CRS.String()
	}
	return p, nil
}

// GeoControlPoints converts stored control points to geo's, to fit them.
func GeoControlPoints(pts []annotations.ControlPoint) []geo.ControlPoint {
	out := make([]geo.ControlPoint, len(pts))
	for i, p := range pts {
		out[i] = geo.ControlPoint(p)
	}
	return out
}

// StoredControlPoints converts geo's control points to the domain's, to store or show
// them; GeoControlPoints is its inverse.
func StoredControlPoints(pts []geo.ControlPoint) []annotations.ControlPoint {
	out := make([]annotations.ControlPoint, len(pts))
	for i, p := range pts {
		out[i] = annotations.ControlPoint(p)
	}
	return out
}

func ptr(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// Measure returns an annotation's size on the ground: geodesic lengths, areas and, for a
// rotated rectangle, its heading through the georeference; or pixel sizes times the
// ground sample distance (no heading: without a georeference north is unknown). A
// rotated rectangle's length and heading follow the side drawn first: draw a ship from
// stern to bow along its side and the heading is the bow's direction.
func (p Placement) Measure(a annotations.Annotation) annotations.Ground {
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
		box := (a.Shape == annotations.ShapeRectangle || a.Shape == annotations.ShapeRotatedRectangle) && len(rings[0]) == 5
		var sides []float64
		if box {
			// A box's first two sides measured with its area, as LineLength measures them.
			if area, perim, s, err := geo.PolygonAreaSides(t, rings); err == nil {
				g.AreaM2, g.PerimeterM, sides = ptr(area), ptr(perim), s
			}
		} else if area, perim, err := geo.PolygonArea(t, rings); err == nil {
			g.AreaM2, g.PerimeterM = ptr(area), ptr(perim)
		}
		if box {
			r := rings[0]
			var s1, s2 float64
			var err1, err2 error
			if len(sides) >= 2 {
				s1, s2 = sides[0], sides[1]
			} else {
				s1, err1 = geo.LineLength(t, [][2]float64{r[0], r[1]})
				s2, err2 = geo.LineLength(t, [][2]float64{r[1], r[2]})
			}
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

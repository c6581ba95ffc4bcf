package formats

import (
	"math"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
)

// Taking pixel geometries to the earth for RFC 7946 output: densify edges a non-linear
// transform would bend, transform every vertex, keep longitudes continuous, orient rings
// (exterior counter-clockwise, holes clockwise), cut geometries that cross the
// antimeridian in two (RFC 7946 §3.1.9) and round to 7 decimals (about 1 cm).

// lonLatGeometry is a GeoJSON geometry in lon/lat: Point, LineString, Polygon or, after
// an antimeridian cut, MultiLineString or MultiPolygon.
type lonLatGeometry struct {
	Type        string `json:"type"`
	Coordinates any    `json:"coordinates"`
}

// bounds is a GeoJSON bbox being accumulated: west, south, east, north. When a geometry
// is cut at the antimeridian, west is the eastern part's west edge and east the western
// part's east edge, so west > east as RFC 7946 §5.2 says.
type bounds struct {
	w, s, e, n float64
	empty      bool
	crosses    bool
}

func newBounds() bounds {
	return bounds{w: math.Inf(1), s: math.Inf(1), e: math.Inf(-1), n: math.Inf(-1), empty: true}
}

func (b *bounds) add(lon, lat float64) {
	b.w, b.e = math.Min(b.w, lon), math.Max(b.e, lon)
	b.s, b.n = math.Min(b.s, lat), math.Max(b.n, lat)
	b.empty = false
}

// merge adds another geometry's bounds (an image's features into a collection). Once
// either crosses the antimeridian the union does too: its west edge is the most
// westerly of the eastern-hemisphere edges, its east edge the most easterly of the
// western ones.
func (b *bounds) merge(o bounds) {
	switch {
	case o.empty:
		return
	case b.empty:
		*b = o
		return
	}
	south, north := math.Min(b.s, o.s), math.Max(b.n, o.n)
	if b.crosses == o.crosses {
		b.w, b.e = math.Min(b.w, o.w), math.Max(b.e, o.e)
	} else {
		cross, plain := *b, o
		if o.crosses {
			cross, plain = o, *b
		}
		if plain.w >= 0 {
			cross.w = math.Min(cross.w, plain.w)
		} else {
			cross.e = math.Max(cross.e, plain.e)
		}
		*b = cross
	}
	b.s, b.n = south, north
}

func (b bounds) bbox() []float64 {
	if b.empty {
		return nil
	}
	return []float64{round7(b.w), round7(b.s), round7(b.e), round7(b.n)}
}

func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }

// densifyTolerancePx is how far, in pixels, a densified edge may stray from the image's
// straight edge.
const densifyTolerancePx = 0.25

// toLonLat transforms a pixel path (densified when the transform bends straight lines)
// and unwraps its longitudes so consecutive vertices never jump by more than 180°.
func toLonLat(t geo.Transformer, pts [][2]float64) ([][2]float64, error) {
	if !t.Linear() {
		var err error
		if pts, err = geo.Densify(t, pts, densifyTolerancePx); err != nil {
			return nil, err
		}
	}
	out := make([][2]float64, len(pts))
	for i, p := range pts {
		lon, lat, err := t.Forward(p[0], p[1])
		if err != nil {
			return nil, err
		}
		if i > 0 {
			for lon-out[i-1][0] > 180 {
				lon -= 360
			}
			for lon-out[i-1][0] < -180 {
				lon += 360
			}
		}
		out[i] = [2]float64{lon, lat}
	}
	return out, nil
}

// signedArea is twice the area of a ring in the lon/lat plane, positive when the ring runs
// counter-clockwise (east then north).
func signedArea(r [][2]float64) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a
}

func orient(r [][2]float64, ccw bool) [][2]float64 {
	if (signedArea(r) > 0) != ccw {
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
	}
	return r
}

// shiftInto moves a path by whole turns so its first vertex lies in [-180, 180].
func shiftInto(r [][2]float64) [][2]float64 {
	d := 0.0
	for r[0][0]+d > 180 {
		d -= 360
	}
	for r[0][0]+d < -180 {
		d += 360
	}
	if d != 0 {
		for i := range r {
			r[i][0] += d
		}
	}
	return r
}

// meridianCrossed returns +180 or -180 when a path goes past that meridian, else 0.
func meridianCrossed(paths ...[][2]float64) float64 {
	for _, p := range paths {
		for _, v := range p {
			if v[0] > 180 {
				return 180
			}
			if v[0] < -180 {
				return -180
			}
		}
	}
	return 0
}

// clipRing keeps the part of a closed ring on one side of the meridian m (west: lon ≤ m).
func clipRing(r [][2]float64, m float64, west bool) [][2]float64 {
	inside := func(p [2]float64) bool {
		if west {
			return p[0] <= m
		}
		return p[0] >= m
	}
	cross := func(a, b [2]float64) [2]float64 {
		f := (m - a[0]) / (b[0] - a[0])
		return [2]float64{m, a[1] + f*(b[1]-a[1])}
	}
	var out [][2]float64
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		switch {
		case inside(a) && inside(b):
			out = append(out, b)
		case inside(a) && !inside(b):
			out = append(out, cross(a, b))
		case !inside(a) && inside(b):
			out = append(out, cross(a, b), b)
		}
	}
	if len(out) < 3 {
		return nil
	}
	return append(out, out[0])
}

// splitLine cuts a path where it crosses the meridian m into pieces on either side.
func splitLine(r [][2]float64, m float64) [][][2]float64 {
	var parts [][][2]float64
	cur := [][2]float64{r[0]}
	for i := 1; i < len(r); i++ {
		a, b := r[i-1], r[i]
		if (a[0] < m) != (b[0] < m) && a[0] != m && b[0] != m {
			f := (m - a[0]) / (b[0] - a[0])
			x := [2]float64{m, a[1] + f*(b[1]-a[1])}
			cur = append(cur, x)
			parts = append(parts, cur)
			cur = [][2]float64{x}
		}
		cur = append(cur, b)
	}
	return append(parts, cur)
}

func roundPath(r [][2]float64, b *bounds) [][2]float64 {
	out := make([][2]float64, len(r))
	for i, p := range r {
		out[i] = [2]float64{round7(p[0]), round7(p[1])}
		b.add(out[i][0], out[i][1])
	}
	return out
}

// wrap brings a part that lies past ±180 back by a turn. Its vertices on the meridian
// itself (the cut points) go with it, to −180 or 180, so that no edge of the part spans
// the globe.
func wrap(r [][2]float64) [][2]float64 {
	d := 0.0
	for _, p := range r {
		if p[0] > 180 {
			d = -360
		} else if p[0] < -180 {
			d = 360
		}
	}
	for i := range r {
		if (d < 0 && r[i][0] >= 180) || (d > 0 && r[i][0] <= -180) {
			r[i][0] += d
		}
	}
	return r
}

func shiftLon(r [][2]float64, d float64) {
	for i := range r {
		r[i][0] += d
	}
}

// projectGeometry takes an annotation's pixel geometry to RFC 7946 lon/lat.
func projectGeometry(t geo.Transformer, g annotations.Geometry) (lonLatGeometry, bounds, error) {
	b := newBounds()
	paths := make([][][2]float64, len(g.Coordinates))
	for i, ring := range g.Coordinates {
		pix := make([][2]float64, len(ring))
		for j, p := range ring {
			pix[j] = [2]float64(p)
		}
		if g.Type == "Point" {
			lon, lat, err := t.Forward(pix[0][0], pix[0][1])
			if err != nil {
				return lonLatGeometry{}, b, err
			}
			paths[i] = shiftInto([][2]float64{{lon, lat}})
			continue
		}
		ll, err := toLonLat(t, pix)
		if err != nil {
			return lonLatGeometry{}, b, err
		}
		if i > 0 {
			// A hole's longitudes continue the exterior's, even when its first vertex
			// lies across the antimeridian from the exterior's.
			for ll[0][0]-paths[0][0][0] > 180 {
				shiftLon(ll, -360)
			}
			for ll[0][0]-paths[0][0][0] < -180 {
				shiftLon(ll, 360)
			}
		}
		paths[i] = ll
	}
	if len(paths) > 0 && len(paths[0]) > 0 {
		// One shift for the whole geometry keeps its parts together.
		first := paths[0][0][0]
		d := 0.0
		for first+d > 180 {
			d -= 360
		}
		for first+d < -180 {
			d += 360
		}
		for _, p := range paths {
			for i := range p {
				p[i][0] += d
			}
		}
	}
	switch g.Type {
	case "Point":
		p := roundPath(paths[0], &b)
		return lonLatGeometry{Type: "Point", Coordinates: p[0]}, b, nil
	case "LineString":
		m := meridianCrossed(paths[0])
		if m == 0 {
			return lonLatGeometry{Type: "LineString", Coordinates: roundPath(paths[0], &b)}, b, nil
		}
		var parts [][][2]float64
		for _, part := range splitLine(paths[0], m) {
			parts = append(parts, roundPath(wrap(part), &b))
		}
		b.crosses = true
		b.w, b.e = crossingBounds(parts)
		return lonLatGeometry{Type: "MultiLineString", Coordinates: parts}, b, nil
	}
	// Polygon.
	for i := range paths {
		paths[i] = orient(paths[i], i == 0)
	}
	m := meridianCrossed(paths...)
	if m == 0 {
		rings := make([][][2]float64, len(paths))
		for i, p := range paths {
			rings[i] = roundPath(p, &b)
		}
		return lonLatGeometry{Type: "Polygon", Coordinates: rings}, b, nil
	}
	var polys [][][][2]float64
	for _, west := range []bool{true, false} {
		var rings [][][2]float64
		for i, p := range paths {
			c := clipRing(p, m, west)
			if c == nil {
				if i == 0 {
					break
				}
				continue
			}
			rings = append(rings, roundPath(wrap(orient(c, i == 0)), &b))
		}
		if len(rings) > 0 {
			polys = append(polys, rings)
		}
	}
	b.crosses = true
	var all [][][2]float64
	for _, poly := range polys {
		all = append(all, poly...)
	}
	b.w, b.e = crossingBounds(all)
	return lonLatGeometry{Type: "MultiPolygon", Coordinates: polys}, b, nil
}

// crossingBounds returns the west and east edges of parts that meet at the antimeridian:
// the smallest longitude of the eastern parts and the largest of the western ones.
func crossingBounds(parts [][][2]float64) (w, e float64) {
	w, e = 180, -180
	for _, p := range parts {
		east := false
		for _, v := range p {
			if v[0] > 0 && v[0] != 180 {
				east = true
				break
			}
		}
		for _, v := range p {
			if east {
				w = math.Min(w, v[0])
			} else {
				e = math.Max(e, v[0])
			}
		}
	}
	return w, e
}

// Footprint returns the image's outline on the earth, counter-clockwise, densified along
// edges a non-linear transform bends.
func Footprint(t geo.Transformer, width, height int) (lonLatGeometry, bounds, error) {
	w, h := float64(width), float64(height)
	ring := annotations.PolygonGeometry([]annotations.Position{{0, 0}, {0, h}, {w, h}, {w, 0}, {0, 0}})
	return projectGeometry(t, ring)
}

package formats

import (
	"math"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
)

// Taking pixel geometries to the earth for RFC 7946 output: densify edges a non-linear
// transform would bend, transform every vertex, keep longitudes continuous, orient rings
// (exterior counter-clockwise, holes clockwise), cut geometries that cross the
// antimeridian into valid pieces either side of it (RFC 7946 §3.1.9) and round to 7
// decimals (about 1 cm).

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

// clipPolygon keeps the part of a polygon on one side of the meridian m (west: lon < m,
// else lon > m). rings are the exterior, counter-clockwise, then the holes, clockwise, in
// continuous longitudes. The answer is zero or more polygons, exterior first: a hole the
// meridian cuts opens into a bay of its exterior, and where the meridian crosses a
// concave exterior more than twice each part on the kept side is a polygon of its own.
// No ring runs along the meridian and back, so every polygon is valid (OGC simple
// features) when the input was.
//
// Each ring is cut into chains, the runs of its vertices on the kept side, each entering
// from the meridian and leaving onto it. Walking the kept region's boundary with its
// inside on the left goes north along the meridian on the west side and south on the
// east; from where a chain leaves, the next chain of the boundary is the one entering
// nearest in that direction. Rings the meridian misses are kept whole, holes going to the
// exterior around them.
func clipPolygon(rings [][][2]float64, m float64, west bool) [][][][2]float64 {
	inside := func(p [2]float64) bool {
		if west {
			return p[0] < m
		}
		return p[0] > m
	}
	cross := func(a, b [2]float64) [2]float64 {
		f := (m - a[0]) / (b[0] - a[0])
		return [2]float64{m, a[1] + f*(b[1]-a[1])}
	}
	type chain struct {
		pts  [][2]float64
		used bool
	}
	var chains []*chain
	var exteriors, holes [][][2]float64
	for i, r := range rings {
		r = r[:len(r)-1] // the closing vertex again
		start := -1
		for j, p := range r {
			if !inside(p) {
				start = j
				break
			}
		}
		if start < 0 {
			whole := append(append([][2]float64{}, r...), r[0])
			if i == 0 {
				exteriors = append(exteriors, whole)
			} else {
				holes = append(holes, whole)
			}
			continue
		}
		var cur *chain
		for k := 1; k <= len(r); k++ {
			a, b := r[(start+k-1)%len(r)], r[(start+k)%len(r)]
			switch {
			case !inside(a) && inside(b):
				cur = &chain{pts: [][2]float64{cross(a, b), b}}
			case inside(a) && inside(b):
				cur.pts = append(cur.pts, b)
			case inside(a) && !inside(b):
				cur.pts = append(cur.pts, cross(a, b))
				chains = append(chains, cur)
			}
		}
	}
	// next is the unused chain entering the meridian nearest past lat, walking north on
	// the west side and south on the east; first ends the ring when no other is nearer.
	next := func(lat float64, first *chain) *chain {
		best, dist := first, math.Abs(first.pts[0][1]-lat)
		if (first.pts[0][1] < lat) == west && first.pts[0][1] != lat {
			dist = math.Inf(1)
		}
		for _, c := range chains {
			e := c.pts[0][1]
			d := e - lat
			if !west {
				d = -d
			}
			if !c.used && d >= 0 && d < dist {
				best, dist = c, d
			}
		}
		return best
	}
	for _, c := range chains {
		if c.used {
			continue
		}
		c.used = true
		ring := append([][2]float64{}, c.pts...)
		for cur := c; ; {
			n := next(cur.pts[len(cur.pts)-1][1], c)
			if n == c {
				break
			}
			n.used = true
			ring = append(ring, n.pts...)
			cur = n
		}
		exteriors = append(exteriors, append(ring, ring[0]))
	}
	polys := make([][][][2]float64, 0, len(exteriors))
	for _, e := range exteriors {
		if e = dropRepeats(e); len(e) >= 4 {
			polys = append(polys, [][][2]float64{e})
		}
	}
	for _, h := range holes {
		for i := range polys {
			if inRing(h[0], polys[i][0]) {
				polys[i] = append(polys[i], h)
				break
			}
		}
	}
	return polys
}

// dropRepeats removes consecutive repeated vertices (a chain leaving the meridian where
// the next one enters it).
func dropRepeats(r [][2]float64) [][2]float64 {
	out := r[:1]
	for _, p := range r[1:] {
		if p != out[len(out)-1] {
			out = append(out, p)
		}
	}
	return out
}

// inRing reports whether p lies inside the closed ring r (even-odd rule).
func inRing(p [2]float64, r [][2]float64) bool {
	in := false
	for i := 0; i+1 < len(r); i++ {
		a, b := r[i], r[i+1]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < a[0]+(p[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
			in = !in
		}
	}
	return in
}

// splitLine cuts a path where it crosses the meridian m into pieces on either side. A
// path that touches the meridian at a vertex and goes on across is cut at that vertex.
func splitLine(r [][2]float64, m float64) [][][2]float64 {
	side := func(p [2]float64) int {
		switch {
		case p[0] < m:
			return -1
		case p[0] > m:
			return 1
		}
		return 0
	}
	var parts [][][2]float64
	cur := [][2]float64{r[0]}
	last := side(r[0]) // the side of the latest vertex off the meridian; 0 before the first
	for i := 1; i < len(r); i++ {
		a, b := r[i-1], r[i]
		s := side(b)
		if s != 0 && last != 0 && s != last {
			x := a
			if side(a) != 0 {
				f := (m - a[0]) / (b[0] - a[0])
				x = [2]float64{m, a[1] + f*(b[1]-a[1])}
				cur = append(cur, x)
			}
			parts = append(parts, cur)
			cur = [][2]float64{x}
		}
		if s != 0 {
			last = s
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
		for _, poly := range clipPolygon(paths, m, west) {
			rings := make([][][2]float64, len(poly))
			for i, r := range poly {
				rings[i] = roundPath(wrap(orient(r, i == 0)), &b)
			}
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

package dataset

import (
	"math"

	"github.com/satmark/satmark/annotations"
)

// Piece is an annotation as it shows in one chip: its geometry moved into the chip's
// pixels and cut at the chip's edges.
type Piece struct {
	Annotation annotations.Annotation
	// Visible is the share of the annotation inside the chip: of its area for polygons
	// and rectangles, of its length for lines, 1 for a point inside.
	Visible float64
	// Truncated says the chip's edge cut it. A cut rotated rectangle is the smallest
	// rotated rectangle around what is left when that lies inside the chip, else that
	// polygon; a cut rectangle is the rectangle left; a cut line its longest piece.
	Truncated bool
}

// Clip returns a as it shows in chip r, and false when less than minVisible of it (a
// share, 0 to 1) is inside. An annotation that only touches the chip's edge is never in.
func Clip(a annotations.Annotation, r Rect, minVisible float64) (Piece, bool) {
	x0, y0, x1, y1 := float64(r.X), float64(r.Y), float64(r.X+r.W), float64(r.Y+r.H)
	bx0, by0, bx1, by1 := bounds(a.Geometry)
	if bx1 < x0 || bx0 >= x1 || by1 < y0 || by0 >= y1 {
		return Piece{}, false
	}
	inside := bx0 >= x0 && bx1 <= x1 && by0 >= y0 && by1 <= y1
	out := a
	var p Piece
	switch a.Geometry.Type {
	case "Point":
		q := a.Geometry.Coordinates[0][0]
		if q[0] < x0 || q[0] >= x1 || q[1] < y0 || q[1] >= y1 {
			return Piece{}, false
		}
		p.Visible = 1
		out.Geometry = annotations.PointGeometry(q)
	case "LineString":
		line := a.Geometry.Coordinates[0]
		if inside {
			p.Visible = 1
			break
		}
		pieces, visible := clipLine(line, x0, y0, x1, y1)
		total := pathLength(line)
		if total == 0 || len(pieces) == 0 {
			return Piece{}, false
		}
		longest := pieces[0]
		for _, pc := range pieces[1:] {
			if pathLength(pc) > pathLength(longest) {
				longest = pc
			}
		}
		p.Visible, p.Truncated = visible/total, true
		out.Geometry = annotations.LineGeometry(longest)
	case "Polygon":
		area := polygonArea(a.Geometry.Coordinates)
		if area == 0 {
			return Piece{}, false
		}
		if inside {
			p.Visible = 1
			break
		}
		var rings [][]pt
		for i, ring := range a.Geometry.Coordinates {
			c := clipRing(ring, x0, y0, x1, y1)
			if c == nil {
				if i == 0 {
					return Piece{}, false
				}
				continue
			}
			rings = append(rings, c)
		}
		p.Visible, p.Truncated = polygonArea(rings)/area, true
		switch a.Shape {
		case annotations.ShapeRectangle:
			cx0, cy0, cx1, cy1 := bounds(annotations.PolygonGeometry(rings[0]))
			rings = [][]pt{{{cx0, cy0}, {cx1, cy0}, {cx1, cy1}, {cx0, cy1}, {cx0, cy0}}}
		case annotations.ShapeRotatedRectangle:
			c := minAreaRect(rings[0][:len(rings[0])-1])
			if within(c[:], x0-0.5, y0-0.5, x1+0.5, y1+0.5) {
				rings = [][]pt{{c[0], c[1], c[2], c[3], c[0]}}
			} else {
				out.Shape = annotations.ShapePolygon
			}
		}
		out.Geometry = annotations.PolygonGeometry(rings...)
	default:
		return Piece{}, false
	}
	if p.Visible < minVisible {
		return Piece{}, false
	}
	out.Geometry = translate(out.Geometry, -x0, -y0)
	p.Annotation = out
	return p, true
}

func bounds(g annotations.Geometry) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, ring := range g.Coordinates {
		for _, q := range ring {
			x0, y0, x1, y1 = math.Min(x0, q[0]), math.Min(y0, q[1]), math.Max(x1, q[0]), math.Max(y1, q[1])
		}
	}
	return
}

func within(ps []pt, x0, y0, x1, y1 float64) bool {
	for _, q := range ps {
		if q[0] < x0 || q[0] > x1 || q[1] < y0 || q[1] > y1 {
			return false
		}
	}
	return true
}

func translate(g annotations.Geometry, dx, dy float64) annotations.Geometry {
	rings := make([][]pt, len(g.Coordinates))
	for i, ring := range g.Coordinates {
		rings[i] = make([]pt, len(ring))
		for j, q := range ring {
			rings[i][j] = pt{q[0] + dx, q[1] + dy}
		}
	}
	return annotations.Geometry{Type: g.Type, Coordinates: rings}
}

func pathLength(ps []pt) float64 {
	var l float64
	for i := 0; i+1 < len(ps); i++ {
		l += math.Hypot(ps[i+1][0]-ps[i][0], ps[i+1][1]-ps[i][1])
	}
	return l
}

// ringArea is the area inside a closed ring.
func ringArea(r []pt) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return math.Abs(a) / 2
}

// polygonArea is the exterior's area less the holes'.
func polygonArea(rings [][]pt) float64 {
	var a float64
	for i, r := range rings {
		if i == 0 {
			a += ringArea(r)
		} else {
			a -= ringArea(r)
		}
	}
	return math.Max(a, 0)
}

// clipRing cuts a closed ring to the rectangle (Sutherland–Hodgman, one edge at a
// time). A concave ring cut in two comes back as one ring joined along the edge, whose
// area is still the area inside. It returns nil when nothing with area is left.
func clipRing(ring []pt, x0, y0, x1, y1 float64) []pt {
	poly := ring[:len(ring)-1]
	edges := []struct {
		in  func(q pt) bool
		cut func(a, b pt) pt
	}{
		{func(q pt) bool { return q[0] >= x0 }, func(a, b pt) pt { return atX(a, b, x0) }},
		{func(q pt) bool { return q[0] <= x1 }, func(a, b pt) pt { return atX(a, b, x1) }},
		{func(q pt) bool { return q[1] >= y0 }, func(a, b pt) pt { return atY(a, b, y0) }},
		{func(q pt) bool { return q[1] <= y1 }, func(a, b pt) pt { return atY(a, b, y1) }},
	}
	for _, e := range edges {
		var next []pt
		for i, cur := range poly {
			prev := poly[(i+len(poly)-1)%len(poly)]
			switch {
			case e.in(cur) && e.in(prev):
				next = append(next, cur)
			case e.in(cur):
				next = append(next, e.cut(prev, cur), cur)
			case e.in(prev):
				next = append(next, e.cut(prev, cur))
			}
		}
		poly = next
		if len(poly) < 3 {
			return nil
		}
	}
	out := append(poly, poly[0])
	if ringArea(out) == 0 {
		return nil
	}
	return out
}

func atX(a, b pt, x float64) pt {
	t := (x - a[0]) / (b[0] - a[0])
	return pt{x, a[1] + t*(b[1]-a[1])}
}

func atY(a, b pt, y float64) pt {
	t := (y - a[1]) / (b[1] - a[1])
	return pt{a[0] + t*(b[0]-a[0]), y}
}

// clipLine cuts a path to the rectangle (Liang–Barsky per segment) and returns the
// pieces inside, joined where consecutive segments stay in, and their total length.
func clipLine(line []pt, x0, y0, x1, y1 float64) ([][]pt, float64) {
	var pieces [][]pt
	var cur []pt
	var visible float64
	for i := 0; i+1 < len(line); i++ {
		a, b := line[i], line[i+1]
		ca, cb, ok := clipSegment(a, b, x0, y0, x1, y1)
		if !ok {
			if len(cur) > 1 {
				pieces = append(pieces, cur)
			}
			cur = nil
			continue
		}
		visible += math.Hypot(cb[0]-ca[0], cb[1]-ca[1])
		if len(cur) > 0 && cur[len(cur)-1] == ca {
			cur = append(cur, cb)
		} else {
			if len(cur) > 1 {
				pieces = append(pieces, cur)
			}
			cur = []pt{ca, cb}
		}
	}
	if len(cur) > 1 {
		pieces = append(pieces, cur)
	}
	return pieces, visible
}

func clipSegment(a, b pt, x0, y0, x1, y1 float64) (pt, pt, bool) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t0, t1 := 0.0, 1.0
	for _, e := range [4][2]float64{{-dx, a[0] - x0}, {dx, x1 - a[0]}, {-dy, a[1] - y0}, {dy, y1 - a[1]}} {
		p, q := e[0], e[1]
		if p == 0 {
			if q < 0 {
				return pt{}, pt{}, false
			}
			continue
		}
		t := q / p
		if p < 0 {
			t0 = math.Max(t0, t)
		} else {
			t1 = math.Min(t1, t)
		}
	}
	if t0 >= t1 {
		return pt{}, pt{}, false
	}
	at := func(t float64) pt {
		if t == 0 {
			return a
		}
		if t == 1 {
			return b
		}
		return pt{a[0] + t*dx, a[1] + t*dy}
	}
	return at(t0), at(t1), true
}

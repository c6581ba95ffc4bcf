package formats

import (
	"math"
	"sort"

	"github.com/satmark/satmark/annotations"
)

// orientedBox is an annotation's rectangle as the detection formats want it: a centre,
// an axis, a length along the axis and a width across it. The axis of a rotated
// rectangle is its heading (see Placement.Measure: the long side, in the direction of the
// side drawn first); an axis-aligned rectangle's and a polygon's has no heading and
// points up the image, or as near up as the rectangle's sides allow.
type orientedBox struct {
	Center        [2]float64
	Length, Width float64
	// AngleDeg is the axis's direction in degrees clockwise on screen from the image's +x
	// axis (y is down), in [0, 360): CVAT's rotation of a box whose width runs along the
	// axis.
	AngleDeg float64
	// Heading says the axis is the drawn heading of a rotated rectangle.
	Heading bool
}

// corners are the box's corners in DOTA's order: the front-left corner (left of the axis,
// at its head) first, then clockwise on screen: front-right, back-right, back-left. For a
// box whose axis points up the image that is top-left, top-right, bottom-right,
// bottom-left.
func (b orientedBox) corners() [4][2]float64 {
	cos, sin := cosSin(b.AngleDeg)
	f := [2]float64{cos * b.Length / 2, sin * b.Length / 2}
	// Right of the axis on screen: the axis turned 90° clockwise with y down.
	r := [2]float64{-sin * b.Width / 2, cos * b.Width / 2}
	c := b.Center
	return [4][2]float64{
		{c[0] + f[0] - r[0], c[1] + f[1] - r[1]},
		{c[0] + f[0] + r[0], c[1] + f[1] + r[1]},
		{c[0] - f[0] + r[0], c[1] - f[1] + r[1]},
		{c[0] - f[0] - r[0], c[1] - f[1] - r[1]},
	}
}

// cosSin is the cosine and sine of an angle in degrees, exact at the right angles, so
// that an axis-aligned box's corners are its own.
func cosSin(deg float64) (float64, float64) {
	switch deg {
	case 0:
		return 1, 0
	case 90:
		return 0, 1
	case 180:
		return -1, 0
	case 270:
		return 0, -1
	}
	a := deg * math.Pi / 180
	return math.Cos(a), math.Sin(a)
}

// boxOf returns the oriented box of a rectangle, a rotated rectangle or a polygon (the
// smallest-area rectangle around it); false for points and lines.
func boxOf(a annotations.Annotation) (orientedBox, bool) {
	if a.Geometry.Type != "Polygon" || len(a.Geometry.Coordinates) == 0 || len(a.Geometry.Coordinates[0]) < 4 {
		return orientedBox{}, false
	}
	r := a.Geometry.Coordinates[0]
	switch a.Shape {
	case annotations.ShapeRotatedRectangle:
		if len(r) != 5 {
			break
		}
		s1 := math.Hypot(r[1][0]-r[0][0], r[1][1]-r[0][1])
		s2 := math.Hypot(r[2][0]-r[1][0], r[2][1]-r[1][1])
		axis := [2]float64{r[1][0] - r[0][0], r[1][1] - r[0][1]}
		length, width := s1, s2
		if s1 < s2 {
			axis = [2]float64{r[2][0] - r[1][0], r[2][1] - r[1][1]}
			length, width = s2, s1
		}
		c := [2]float64{(r[0][0] + r[1][0] + r[2][0] + r[3][0]) / 4, (r[0][1] + r[1][1] + r[2][1] + r[3][1]) / 4}
		return orientedBox{Center: c, Length: length, Width: width, AngleDeg: degrees(axis), Heading: true}, true
	case annotations.ShapeRectangle:
		x0, y0, x1, y1 := extent(r)
		return orientedBox{Center: [2]float64{(x0 + x1) / 2, (y0 + y1) / 2}, Length: y1 - y0, Width: x1 - x0, AngleDeg: 270}, true
	}
	return minAreaBox(r), true
}

// degrees is v's direction in degrees clockwise on screen from +x, in [0, 360).
func degrees(v [2]float64) float64 {
	d := math.Atan2(v[1], v[0]) * 180 / math.Pi
	if d < 0 {
		d += 360
	}
	if d >= 360 {
		d -= 360
	}
	return d
}

// extent is a ring's axis-aligned bounding box.
func extent(ring []annotations.Position) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range ring {
		x0, y0 = math.Min(x0, p[0]), math.Min(y0, p[1])
		x1, y1 = math.Max(x1, p[0]), math.Max(y1, p[1])
	}
	return x0, y0, x1, y1
}

// minAreaBox is the smallest-area rectangle around a ring (rotating calipers over its
// convex hull), its axis the side direction nearest to up the image.
func minAreaBox(ring []annotations.Position) orientedBox {
	hull := convexHull(ring)
	best := orientedBox{}
	bestArea := math.Inf(1)
	for i := range hull {
		p, q := hull[i], hull[(i+1)%len(hull)]
		e := [2]float64{q[0] - p[0], q[1] - p[1]}
		n := math.Hypot(e[0], e[1])
		if n == 0 {
			continue
		}
		u := [2]float64{e[0] / n, e[1] / n}
		v := [2]float64{-u[1], u[0]}
		umin, umax, vmin, vmax := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, h := range hull {
			du, dv := h[0]*u[0]+h[1]*u[1], h[0]*v[0]+h[1]*v[1]
			umin, umax = math.Min(umin, du), math.Max(umax, du)
			vmin, vmax = math.Min(vmin, dv), math.Max(vmax, dv)
		}
		if area := (umax - umin) * (vmax - vmin); area < bestArea {
			bestArea = area
			cu, cv := (umin+umax)/2, (vmin+vmax)/2
			best = orientedBox{
				Center: [2]float64{cu*u[0] + cv*v[0], cu*u[1] + cv*v[1]},
				Length: umax - umin, Width: vmax - vmin, AngleDeg: degrees(u),
			}
		}
	}
	// Of the rectangle's four side directions, the axis is the one nearest to up (270°).
	for k := 0; k < 4 && angleBetween(best.AngleDeg, 270) > 45; k++ {
		best.AngleDeg = math.Mod(best.AngleDeg+90, 360)
		best.Length, best.Width = best.Width, best.Length
	}
	return best
}

// angleBetween is the unsigned difference of two directions in degrees, in [0, 180].
func angleBetween(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 360)
	if d > 180 {
		d = 360 - d
	}
	return d
}

// convexHull is Andrew's monotone chain over the ring's positions.
func convexHull(ring []annotations.Position) [][2]float64 {
	pts := make([][2]float64, 0, len(ring))
	for _, p := range ring {
		pts = append(pts, [2]float64(p))
	}
	sort.Slice(pts, func(i, j int) bool {
		if pts[i][0] != pts[j][0] {
			return pts[i][0] < pts[j][0]
		}
		return pts[i][1] < pts[j][1]
	})
	cross := func(o, a, b [2]float64) float64 {
		return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
	}
	var hull [][2]float64
	for pass := 0; pass < 2; pass++ {
		start := len(hull)
		for _, p := range pts {
			for len(hull) >= start+2 && cross(hull[len(hull)-2], hull[len(hull)-1], p) <= 0 {
				hull = hull[:len(hull)-1]
			}
			hull = append(hull, p)
		}
		hull = hull[:len(hull)-1]
		for i, j := 0, len(pts)-1; i < j; i, j = i+1, j-1 {
			pts[i], pts[j] = pts[j], pts[i]
		}
	}
	return hull
}

// flatRing is a ring as the formats that list a polygon's vertices once want it: without
// the closing position.
func flatRing(ring []annotations.Position) []annotations.Position {
	if n := len(ring); n > 1 && ring[0] == ring[n-1] {
		return ring[:n-1]
	}
	return ring
}

// keyhole is a polygon's rings as one outline, for formats whose polygons have no holes
// (COCO, CVAT): the exterior, then each hole reached by a cut from the exterior's first
// vertex and left by the same cut, the holes run against the exterior. Each cut is
// travelled once each way, so it adds no area and no crossing: an even-odd or non-zero
// fill (pycocotools, OpenCV, SVG) leaves the holes empty, and the outline's shoelace area
// is the polygon's. The closing position is left out.
func keyhole(rings [][]annotations.Position) []annotations.Position {
	if len(rings) == 0 {
		return nil
	}
	ext := flatRing(rings[0])
	out := append([]annotations.Position(nil), ext...)
	if len(rings) == 1 {
		return out
	}
	sign := clockwiseRing(rings[0])
	for _, h := range rings[1:] {
		hole := flatRing(h)
		if clockwiseRing(h) == sign {
			hole = reversed(hole)
		}
		out = append(out, ext[0])
		out = append(out, hole...)
		out = append(out, hole[0])
	}
	return out
}

// clockwiseRing says whether a closed ring runs clockwise on screen (y down).
func clockwiseRing(r []annotations.Position) bool {
	pairs := make([][2]float64, len(r))
	for i, p := range r {
		pairs[i] = [2]float64(p)
	}
	return signedArea(pairs) > 0
}

// reversed is a copy of positions in the opposite order.
func reversed(r []annotations.Position) []annotations.Position {
	out := make([]annotations.Position, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

package sampledata

import "math"

// Geometry

type pt = [2]float64

// frame is a local coordinate system: a along the heading, b to its right
// (clockwise in image space, because y points down).
type frame struct{ cx, cy, ux, uy float64 }

func newFrame(cx, cy, headingDeg float64) frame {
	h := headingDeg * math.Pi / 180
	return frame{cx, cy, math.Cos(h), math.Sin(h)}
}

func (f frame) at(a, b float64) pt {
	return pt{f.cx + a*f.ux - b*f.uy, f.cy + a*f.uy + b*f.ux}
}

func (f frame) poly(local ...pt) []pt {
	out := make([]pt, len(local))
	for i, p := range local {
		out[i] = f.at(p[0], p[1])
	}
	return out
}

// rect returns the local rectangle [a0,a1]×[b0,b1] in image space.
func (f frame) rect(a0, a1, b0, b1 float64) []pt {
	return f.poly(pt{a0, b0}, pt{a1, b0}, pt{a1, b1}, pt{a0, b1})
}

// box is the closed 5-position ring of the rectangle of the given length and
// width centred on the frame origin: stern-left, bow-left, bow-right,
// stern-right, stern-left.
func (f frame) box(length, width float64) [][2]float64 {
	r := f.rect(-length/2, length/2, -width/2, width/2)
	return append(r, r[0])
}

func closeRing(p []pt) [][2]float64 {
	out := append([][2]float64(nil), p...)
	if len(out) > 0 && out[0] != out[len(out)-1] {
		out = append(out, out[0])
	}
	return out
}

// axisRect is an axis-aligned closed ring.
func axisRect(x0, y0, x1, y1 float64) [][2]float64 {
	return [][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func circlePoly(cx, cy, r float64) []pt {
	n := int(r*3) + 8
	if n > 72 {
		n = 72
	}
	out := make([]pt, n)
	for i := range out {
		a := 2 * math.Pi * float64(i) / float64(n)
		out[i] = pt{cx + r*math.Cos(a), cy + r*math.Sin(a)}
	}
	return out
}

func ellipsePoly(f frame, ra, rb float64) []pt {
	n := int(math.Max(ra, rb)*3) + 8
	if n > 72 {
		n = 72
	}
	out := make([]pt, n)
	for i := range out {
		a := 2 * math.Pi * float64(i) / float64(n)
		out[i] = f.at(ra*math.Cos(a), rb*math.Sin(a))
	}
	return out
}

func translate(p []pt, dx, dy float64) []pt {
	out := make([]pt, len(p))
	for i, q := range p {
		out[i] = pt{q[0] + dx, q[1] + dy}
	}
	return out
}

// convexHull returns the convex hull of pts (Andrew's monotone chain).
func convexHull(pts []pt) []pt {
	p := append([]pt(nil), pts...)
	// insertion sort keeps this allocation-free and deterministic for small inputs
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && (p[j][0] < p[j-1][0] || (p[j][0] == p[j-1][0] && p[j][1] < p[j-1][1])); j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
	if len(p) < 3 {
		return p
	}
	cross := func(o, a, b pt) float64 { return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0]) }
	h := make([]pt, 0, 2*len(p))
	for _, q := range p {
		for len(h) >= 2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	lower := len(h) + 1
	for i := len(p) - 2; i >= 0; i-- {
		q := p[i]
		for len(h) >= lower && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, q)
	}
	return h[:len(h)-1]
}

func pointInPoly(p pt, poly []pt) bool {
	in := false
	n := len(poly)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

func distToSegment(p, a, b pt) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}

func distToPolyline(p pt, line []pt, closed bool) float64 {
	d := math.Inf(1)
	for i := 0; i+1 < len(line); i++ {
		d = math.Min(d, distToSegment(p, line[i], line[i+1]))
	}
	if closed && len(line) > 2 {
		d = math.Min(d, distToSegment(p, line[len(line)-1], line[0]))
	}
	return d
}

// chaikin smooths a polyline by corner cutting, keeping its end points.
func chaikin(line []pt, iterations int) []pt {
	for it := 0; it < iterations; it++ {
		out := []pt{line[0]}
		for i := 0; i+1 < len(line); i++ {
			a, b := line[i], line[i+1]
			q := pt{0.75*a[0] + 0.25*b[0], 0.75*a[1] + 0.25*b[1]}
			r := pt{0.25*a[0] + 0.75*b[0], 0.25*a[1] + 0.75*b[1]}
			if i > 0 {
				out = append(out, q)
			}
			if i+2 < len(line) {
				out = append(out, r)
			}
		}
		line = append(out, line[len(line)-1])
	}
	return line
}

// strokePoly is the outline of a polyline stroked with the given width
// (mitred joins), as one polygon.
func strokePoly(line []pt, width float64) []pt {
	left := make([]pt, len(line))
	right := make([]pt, len(line))
	for i := range line {
		var dx, dy float64
		if i > 0 {
			l := math.Hypot(line[i][0]-line[i-1][0], line[i][1]-line[i-1][1])
			dx += (line[i][0] - line[i-1][0]) / l
			dy += (line[i][1] - line[i-1][1]) / l
		}
		if i+1 < len(line) {
			l := math.Hypot(line[i+1][0]-line[i][0], line[i+1][1]-line[i][1])
			dx += (line[i+1][0] - line[i][0]) / l
			dy += (line[i+1][1] - line[i][1]) / l
		}
		l := math.Hypot(dx, dy)
		nx, ny := -dy/l*width/2, dx/l*width/2
		left[i] = pt{line[i][0] + nx, line[i][1] + ny}
		right[len(line)-1-i] = pt{line[i][0] - nx, line[i][1] - ny}
	}
	return append(left, right...)
}

// bbox returns (minX, minY, maxX, maxY) of points.
func bbox(p []pt) [4]float64 {
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, q := range p {
		b[0], b[1] = math.Min(b[0], q[0]), math.Min(b[1], q[1])
		b[2], b[3] = math.Max(b[2], q[0]), math.Max(b[3], q[1])
	}
	return b
}

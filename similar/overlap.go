package similar

import "math"

// Overlap between candidate boxes and the places already taken: the test that thins the
// candidates (non-maximum suppression) and leaves out what is already annotated.

// MaxIoU is the largest intersection over union a candidate may have with a better one,
// or with an excluded convex place, and still be kept.
const MaxIoU = 0.2

// overlapsAny reports whether the candidate box ring (centred at center) overlaps one of
// the places: its centre inside a place, a place's centroid inside it, or, for a convex
// place, an intersection over union above MaxIoU.
func overlapsAny(ring [][2]float64, center [2]float64, places [][][2]float64) bool {
	for _, p := range places {
		if len(p) == 0 {
			continue
		}
		if len(p) == 1 { // a point annotation
			if inside(p[0], ring) {
				return true
			}
			continue
		}
		if inside(center, p) || inside(centroid(p), ring) {
			return true
		}
		if convex(p) && IoU(ring, p) > MaxIoU {
			return true
		}
	}
	return false
}

// inside reports whether q lies inside the closed ring (even-odd rule).
func inside(q [2]float64, ring [][2]float64) bool {
	in := false
	for i := 0; i+1 < len(ring); i++ {
		a, b := ring[i], ring[i+1]
		if (a[1] > q[1]) != (b[1] > q[1]) && q[0] < a[0]+(q[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
			in = !in
		}
	}
	return in
}

// centroid is the area centroid of a closed ring (its mean vertex when it has no area).
func centroid(ring [][2]float64) [2]float64 {
	var a, cx, cy float64
	for i := 0; i+1 < len(ring); i++ {
		p, q := ring[i], ring[i+1]
		c := p[0]*q[1] - q[0]*p[1]
		a += c
		cx += (p[0] + q[0]) * c
		cy += (p[1] + q[1]) * c
	}
	if math.Abs(a) < 1e-12 {
		var m [2]float64
		for _, p := range ring[:len(ring)-1] {
			m[0], m[1] = m[0]+p[0], m[1]+p[1]
		}
		n := float64(len(ring) - 1)
		return [2]float64{m[0] / n, m[1] / n}
	}
	return [2]float64{cx / (3 * a), cy / (3 * a)}
}

// area is the unsigned area of a closed ring.
func area(ring [][2]float64) float64 { return math.Abs(signedArea(ring)) }

// convex reports whether a closed ring turns the same way at every vertex.
func convex(ring [][2]float64) bool {
	n := len(ring) - 1
	if n < 3 {
		return false
	}
	sign := 0.0
	for i := 0; i < n; i++ {
		a, b, c := ring[i], ring[(i+1)%n], ring[(i+2)%n]
		cr := (b[0]-a[0])*(c[1]-b[1]) - (b[1]-a[1])*(c[0]-b[0])
		if cr == 0 {
			continue
		}
		if sign == 0 {
			sign = cr
		} else if (cr > 0) != (sign > 0) {
			return false
		}
	}
	return sign != 0
}

// IoU is the intersection over union of two convex closed rings.
func IoU(a, b [][2]float64) float64 {
	inter := area(clip(a, b))
	union := area(a) + area(b) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// clip is the part of the convex closed ring subject inside the convex closed ring by
// (Sutherland–Hodgman), closed; empty when they do not meet.
func clip(subject, by [][2]float64) [][2]float64 {
	out := append([][2]float64(nil), subject[:len(subject)-1]...)
	// The clipping ring's orientation says which side of each edge is inside.
	orient := 1.0
	if signedArea(by) < 0 {
		orient = -1
	}
	for i := 0; i+1 < len(by) && len(out) > 0; i++ {
		a, b := by[i], by[i+1]
		side := func(p [2]float64) float64 { return orient * ((b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])) }
		in := out
		out = nil
		for j := range in {
			p, q := in[j], in[(j+1)%len(in)]
			sp, sq := side(p), side(q)
			if sp >= 0 {
				out = append(out, p)
			}
			if (sp >= 0) != (sq >= 0) {
				t := sp / (sp - sq)
				out = append(out, [2]float64{p[0] + t*(q[0]-p[0]), p[1] + t*(q[1]-p[1])})
			}
		}
	}
	if len(out) < 3 {
		return nil
	}
	return append(out, out[0])
}

func signedArea(ring [][2]float64) float64 {
	var s float64
	for i := 0; i+1 < len(ring); i++ {
		s += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
	}
	return s / 2
}

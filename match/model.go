package match

import (
	"math"
	"math/rand/v2"
)

// Affine maps (x, y) to (A[0]·x + A[1]·y + A[2], A[3]·x + A[4]·y + A[5]).
type Affine [6]float64

// Apply maps a point.
func (m Affine) Apply(x, y float64) (float64, float64) {
	return m[0]*x + m[1]*y + m[2], m[3]*x + m[4]*y + m[5]
}

// Scale is the mean linear scale of the map: the square root of its determinant's magnitude.
func (m Affine) Scale() float64 { return math.Sqrt(math.Abs(m[0]*m[4] - m[1]*m[3])) }

// Invert is the inverse map; ok is false when the map is singular.
func (m Affine) Invert() (Affine, bool) {
	det := m[0]*m[4] - m[1]*m[3]
	if math.Abs(det) < 1e-12 {
		return Affine{}, false
	}
	a, b, c, d := m[4]/det, -m[1]/det, -m[3]/det, m[0]/det
	return Affine{a, b, -(a*m[2] + b*m[5]), c, d, -(c*m[2] + d*m[5])}, true
}

// then is the map "m, then n".
func (m Affine) then(n Affine) Affine {
	return Affine{
		n[0]*m[0] + n[1]*m[3], n[0]*m[1] + n[1]*m[4], n[0]*m[2] + n[1]*m[5] + n[2],
		n[3]*m[0] + n[4]*m[3], n[3]*m[1] + n[4]*m[4], n[3]*m[2] + n[4]*m[5] + n[5],
	}
}

// fitSimilarity fits b ≈ s·R·a + t by least squares (Umeyama without reflection).
func fitSimilarity(cs []correspondence) (Affine, bool) {
	if len(cs) < 2 {
		return Affine{}, false
	}
	var ax, ay, bx, by float64
	for _, c := range cs {
		ax, ay, bx, by = ax+c.a[0], ay+c.a[1], bx+c.b[0], by+c.b[1]
	}
	n := float64(len(cs))
	ax, ay, bx, by = ax/n, ay/n, bx/n, by/n
	var sxx, p, q float64
	for _, c := range cs {
		x, y := c.a[0]-ax, c.a[1]-ay
		u, v := c.b[0]-bx, c.b[1]-by
		sxx += x*x + y*y
		p += x*u + y*v
		q += x*v - y*u
	}
	if sxx < 1e-9 {
		return Affine{}, false
	}
	a, b := p/sxx, q/sxx // s·cos θ, s·sin θ
	return Affine{a, -b, bx - a*ax + b*ay, b, a, by - b*ax - a*ay}, true
}

// fitAffine fits b ≈ A·a + t by least squares.
func fitAffine(cs []correspondence) (Affine, bool) {
	if len(cs) < 3 {
		return Affine{}, false
	}
	var ax, ay, bx, by float64
	for _, c := range cs {
		ax, ay, bx, by = ax+c.a[0], ay+c.a[1], bx+c.b[0], by+c.b[1]
	}
	n := float64(len(cs))
	ax, ay, bx, by = ax/n, ay/n, bx/n, by/n
	var sxx, sxy, syy, sxu, syu, sxv, syv float64
	for _, c := range cs {
		x, y := c.a[0]-ax, c.a[1]-ay
		u, v := c.b[0]-bx, c.b[1]-by
		sxx, sxy, syy = sxx+x*x, sxy+x*y, syy+y*y
		sxu, syu, sxv, syv = sxu+x*u, syu+y*u, sxv+x*v, syv+y*v
	}
	det := sxx*syy - sxy*sxy
	if det < 1e-9*(sxx*syy+1e-12) || det <= 0 {
		return Affine{}, false
	}
	a := (sxu*syy - syu*sxy) / det
	b := (syu*sxx - sxu*sxy) / det
	c := (sxv*syy - syv*sxy) / det
	d := (syv*sxx - sxv*sxy) / det
	return Affine{a, b, bx - a*ax - b*ay, c, d, by - c*ax - d*ay}, true
}

func residual(m Affine, c correspondence) float64 {
	x, y := m.Apply(c.a[0], c.a[1])
	return math.Hypot(x-c.b[0], y-c.b[1])
}

func inliersOf(m Affine, cs []correspondence, threshold float64) []correspondence {
	var in []correspondence
	for _, c := range cs {
		if residual(m, c) <= threshold {
			in = append(in, c)
		}
	}
	return in
}

// plausible refuses maps no two views of one place are related by: scales beyond the
// pyramid's reach, strong shear or anisotropy, reflections.
func plausible(m Affine) bool {
	det := m[0]*m[4] - m[1]*m[3]
	if det <= 0 {
		return false
	}
	s := math.Sqrt(det)
	if s < 1/6.0 || s > 6 {
		return false
	}
	// Singular values' ratio from the 2×2 part.
	n := m[0]*m[0] + m[1]*m[1] + m[3]*m[3] + m[4]*m[4]
	disc := math.Sqrt(math.Max(0, n*n-4*det*det))
	return (n+disc)/(n-disc+1e-300) < 4*4
}

// ransac finds the similarity most correspondences agree with to within threshold, then
// refits it, and then an affine map, to those that do. It returns the map and its inliers.
func ransac(cs []correspondence, threshold float64) (Affine, []correspondence) {
	if len(cs) < 2 {
		return Affine{}, nil
	}
	r := rand.New(rand.NewPCG(1, 2))
	var best Affine
	var bestIn []correspondence
	for it := 0; it < 3000; it++ {
		i, j := r.IntN(len(cs)), r.IntN(len(cs))
		if i == j {
			continue
		}
		pair := []correspondence{cs[i], cs[j]}
		if math.Hypot(pair[0].a[0]-pair[1].a[0], pair[0].a[1]-pair[1].a[1]) < 10 {
			continue
		}
		m, ok := fitSimilarity(pair)
		if !ok || !plausible(m) {
			continue
		}
		if in := inliersOf(m, cs, threshold); len(in) > len(bestIn) {
			best, bestIn = m, in
		}
	}
	if len(bestIn) < 3 {
		return best, bestIn
	}
	for range 3 {
		m, ok := fitSimilarity(bestIn)
		if !ok {
			break
		}
		in := inliersOf(m, cs, threshold)
		if len(in) < len(bestIn) {
			break
		}
		best, bestIn = m, in
	}
	if m, ok := fitAffine(bestIn); ok && plausible(m) {
		if in := inliersOf(m, cs, threshold); len(in) >= len(bestIn) {
			best, bestIn = m, in
			if m, ok := fitAffine(bestIn); ok && plausible(m) {
				best = m
			}
		}
	}
	return best, bestIn
}

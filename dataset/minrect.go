package dataset

import (
	"math"
	"sort"

	"github.com/satmark/satmark/annotations"
)

type pt = annotations.Position

// convexHull returns the convex hull of ps, counter-clockwise in (x, y) with y up
// (Andrew's monotone chain), without repeating the first point.
func convexHull(ps []pt) []pt {
	p := append([]pt(nil), ps...)
	sort.Slice(p, func(i, j int) bool {
		if p[i][0] != p[j][0] {
			return p[i][0] < p[j][0]
		}
		return p[i][1] < p[j][1]
	})
	cross := func(o, a, b pt) float64 { return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0]) }
	var h []pt
	for pass := 0; pass < 2; pass++ {
		start := len(h)
		for _, q := range p {
			for len(h) >= start+2 && cross(h[len(h)-2], h[len(h)-1], q) <= 0 {
				h = h[:len(h)-1]
			}
			h = append(h, q)
		}
		h = h[:len(h)-1]
		for i, j := 0, len(p)-1; i < j; i, j = i+1, j-1 {
			p[i], p[j] = p[j], p[i]
		}
	}
	return h
}

// minAreaRect returns the corners of the smallest rectangle around ps, in order around
// it (rotating calipers over the hull's edges: the best rectangle has a side on one).
func minAreaRect(ps []pt) [4]pt {
	h := convexHull(ps)
	var best [4]pt
	bestArea := math.Inf(1)
	for i := range h {
		a, b := h[i], h[(i+1)%len(h)]
		ex, ey := b[0]-a[0], b[1]-a[1]
		l := math.Hypot(ex, ey)
		if l == 0 {
			continue
		}
		ux, uy := ex/l, ey/l // along the edge
		vx, vy := -uy, ux    // across it
		minU, maxU, minV, maxV := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, q := range h {
			u := (q[0]-a[0])*ux + (q[1]-a[1])*uy
			v := (q[0]-a[0])*vx + (q[1]-a[1])*vy
			minU, maxU = math.Min(minU, u), math.Max(maxU, u)
			minV, maxV = math.Min(minV, v), math.Max(maxV, v)
		}
		if area := (maxU - minU) * (maxV - minV); area < bestArea {
			bestArea = area
			at := func(u, v float64) pt { return pt{a[0] + u*ux + v*vx, a[1] + u*uy + v*vy} }
			best = [4]pt{at(minU, minV), at(maxU, minV), at(maxU, maxV), at(minU, maxV)}
		}
	}
	if math.IsInf(bestArea, 1) && len(ps) > 0 { // every point the same
		best = [4]pt{ps[0], ps[0], ps[0], ps[0]}
	}
	return best
}

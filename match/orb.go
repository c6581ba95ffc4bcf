package match

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"sort"
)

// Features in the manner of ORB (Rublee et al., 2011): FAST-9 corners ranked by the
// Harris measure at each level of a scale pyramid, an orientation from the intensity
// centroid, and a 256-bit BRIEF descriptor whose sampling pattern is turned by that
// orientation, so that matching survives rotation (any angle) and scale (within the
// pyramid's range).

const (
	scaleLevels  = 8
	scaleFactor  = 1.2
	patchRadius  = 15 // of the orientation and descriptor patch, in level pixels
	edge         = patchRadius + 4
	harrisBlock  = 7
	fastMinimum  = 7 // the lowest FAST threshold, in grey levels, tried on low-contrast images
	cellsAcross  = 8 // features are spread over a cellsAcross² grid per level
	descriptorN  = 256
	descriptorWs = descriptorN / 64
)

type descriptor [descriptorWs]uint64

func hamming(a, b *descriptor) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) + bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

// keypoint is a feature in working-image coordinates (pixel convention: (0,0) is the
// top-left corner).
type keypoint struct {
	x, y     float64
	level    int
	angle    float64
	response float64
	desc     descriptor
}

// pattern is BRIEF's sampling pattern: pairs of offsets drawn from an isotropic Gaussian
// (σ = patch/5, Calonder's G II), kept within the patch radius so they stay inside it at
// every rotation. Fixed seed: the same pattern always.
var pattern = func() [descriptorN][4]float64 {
	var p [descriptorN][4]float64
	r := rand.New(rand.NewPCG(31, 5))
	draw := func() (float64, float64) {
		for {
			x, y := r.NormFloat64()*31/5, r.NormFloat64()*31/5
			if x*x+y*y <= float64((patchRadius-2)*(patchRadius-2)) {
				return x, y
			}
		}
	}
	for i := range p {
		p[i][0], p[i][1] = draw()
		p[i][2], p[i][3] = draw()
	}
	return p
}()

// circle is FAST's Bresenham circle of radius 3, clockwise from the top.
var circle = [16][2]int{{0, -3}, {1, -3}, {2, -2}, {3, -1}, {3, 0}, {3, 1}, {2, 2}, {1, 3}, {0, 3}, {-1, 3}, {-2, 2}, {-3, 1}, {-3, 0}, {-3, -1}, {-2, -2}, {-1, -3}}

// run9 reports whether the 16-bit circular mask has 9 contiguous set bits.
func run9(m uint32) bool {
	m |= m << 16
	r := m
	for i := 1; i < 9; i++ {
		r &= m >> i
	}
	return r != 0
}

// fast finds FAST-9 corners of g with threshold t, away from the border by margin.
func fast(g *grey, t, margin int) [][2]int {
	var offs [16]int
	for i, c := range circle {
		offs[i] = c[1]*g.w + c[0]
	}
	var out [][2]int
	for y := margin; y < g.h-margin; y++ {
		for x := margin; x < g.w-margin; x++ {
			i := y*g.w + x
			p := int(g.pix[i])
			hi, lo := p+t, p-t
			// Of the four compass points at least two must be brighter (or darker) for
			// nine contiguous to be.
			n, s, e, w := int(g.pix[i+offs[0]]), int(g.pix[i+offs[8]]), int(g.pix[i+offs[4]]), int(g.pix[i+offs[12]])
			nb := b2i(n > hi) + b2i(s > hi) + b2i(e > hi) + b2i(w > hi)
			nd := b2i(n < lo) + b2i(s < lo) + b2i(e < lo) + b2i(w < lo)
			if nb < 2 && nd < 2 {
				continue
			}
			var bright, dark uint32
			for k, o := range offs {
				v := int(g.pix[i+o])
				if v > hi {
					bright |= 1 << k
				} else if v < lo {
					dark |= 1 << k
				}
			}
			if run9(bright) || run9(dark) {
				out = append(out, [2]int{x, y})
			}
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// harris is the Harris corner measure at (x, y) over a harrisBlock window of
// central-difference gradients.
func harris(g *grey, x, y int) float64 {
	var a, b, c float64
	r := harrisBlock / 2
	for j := y - r; j <= y+r; j++ {
		for i := x - r; i <= x+r; i++ {
			dx := float64(int(g.at(i+1, j)) - int(g.at(i-1, j)))
			dy := float64(int(g.at(i, j+1)) - int(g.at(i, j-1)))
			a += dx * dx
			b += dy * dy
			c += dx * dy
		}
	}
	return a*b - c*c - 0.04*(a+b)*(a+b)
}

// orientation is the angle of the patch's intensity centroid (Rosin's measure).
func orientation(g *grey, x, y int) float64 {
	var m01, m10 float64
	for dy := -patchRadius; dy <= patchRadius; dy++ {
		for dx := -patchRadius; dx <= patchRadius; dx++ {
			if dx*dx+dy*dy > patchRadius*patchRadius {
				continue
			}
			v := float64(g.at(x+dx, y+dy))
			m10 += float64(dx) * v
			m01 += float64(dy) * v
		}
	}
	return math.Atan2(m01, m10)
}

// blur is g smoothed by a 5×5 binomial kernel, which BRIEF's comparisons need to be stable.
func blur(g *grey) *grey {
	k := [5]int{1, 4, 6, 4, 1}
	tmp := make([]int, len(g.pix))
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			s := 0
			for i, w := range k {
				s += w * int(g.at(max(0, min(g.w-1, x+i-2)), y))
			}
			tmp[y*g.w+x] = s
		}
	}
	out := newGrey(g.w, g.h)
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			s := 0
			for i, w := range k {
				s += w * tmp[max(0, min(g.h-1, y+i-2))*g.w+x]
			}
			out.pix[y*g.w+x] = uint8((s + 128) / 256)
		}
	}
	return out
}

func describe(smooth *grey, x, y int, angle float64) descriptor {
	var d descriptor
	c, s := math.Cos(angle), math.Sin(angle)
	for i, p := range pattern {
		ax, ay := int(math.Round(c*p[0]-s*p[1])), int(math.Round(s*p[0]+c*p[1]))
		bx, by := int(math.Round(c*p[2]-s*p[3])), int(math.Round(s*p[2]+c*p[3]))
		if smooth.at(x+ax, y+ay) < smooth.at(x+bx, y+by) {
			d[i/64] |= 1 << (i % 64)
		}
	}
	return d
}

// detect finds up to n keypoints of g over the scale pyramid, their number per level in
// proportion to its area and spread over a grid of cells within each level.
func detect(g *grey, n int) []keypoint {
	var kps []keypoint
	level := g
	// ORB's division of n among the levels: a geometric series in the area ratio.
	f := 1 / (scaleFactor * scaleFactor)
	share := float64(n) * (1 - f) / (1 - math.Pow(f, scaleLevels))
	for l := 0; l < scaleLevels; l++ {
		if l > 0 {
			w, h := int(float64(g.w)/math.Pow(scaleFactor, float64(l))+0.5), int(float64(g.h)/math.Pow(scaleFactor, float64(l))+0.5)
			if w < 2*edge+16 || h < 2*edge+16 {
				break
			}
			level = resize(g, w, h)
		}
		kps = append(kps, detectLevel(level, l, int(share+0.5), float64(g.w)/float64(level.w), float64(g.h)/float64(level.h))...)
		share *= f
	}
	return kps
}

func detectLevel(g *grey, l, n int, sx, sy float64) []keypoint {
	// Lower FAST's threshold on a faint image until it gives enough corners.
	var corners [][2]int
	for t := 20; ; t = t * 2 / 3 {
		corners = fast(g, t, edge)
		if len(corners) >= 3*n || t <= fastMinimum {
			break
		}
	}
	type scored struct {
		x, y int
		r    float64
	}
	resp := map[[2]int]float64{}
	for _, c := range corners {
		resp[c] = harris(g, c[0], c[1])
	}
	// Non-maximum suppression among neighbouring corners (3×3).
	var kept []scored
	for _, c := range corners {
		r := resp[c]
		best := true
		for dy := -1; dy <= 1 && best; dy++ {
			for dx := -1; dx <= 1; dx++ {
				if o, ok := resp[[2]int{c[0] + dx, c[1] + dy}]; ok && (o > r || (o == r && (dy < 0 || (dy == 0 && dx < 0)))) {
					best = false
					break
				}
			}
		}
		if best && r > 0 {
			kept = append(kept, scored{c[0], c[1], r})
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].r > kept[j].r })
	// Spread: each cell takes its best up to its quota first, the rest go by rank.
	quota := max(1, n/(cellsAcross*cellsAcross))
	taken := make([]bool, len(kept))
	count := map[int]int{}
	var chosen []scored
	for i, k := range kept {
		cell := (k.y*cellsAcross/g.h)*cellsAcross + k.x*cellsAcross/g.w
		if count[cell] < quota && len(chosen) < n {
			count[cell]++
			chosen = append(chosen, k)
			taken[i] = true
		}
	}
	for i, k := range kept {
		if len(chosen) >= n {
			break
		}
		if !taken[i] {
			chosen = append(chosen, k)
		}
	}
	smooth := blur(g)
	out := make([]keypoint, len(chosen))
	for i, k := range chosen {
		a := orientation(g, k.x, k.y)
		out[i] = keypoint{x: (float64(k.x) + 0.5) * sx, y: (float64(k.y) + 0.5) * sy, level: l, angle: a, response: k.r,
			desc: describe(smooth, k.x, k.y, a)}
	}
	return out
}

// correspondence is a matched pair: a in the first image, b in the second, d their
// descriptors' distance.
type correspondence struct {
	a, b [2]float64
	d    int
}

// matchFeatures pairs each feature of a with its nearest in b when that is clearly nearer
// than the second nearest (Lowe's ratio test) and a is also b's nearest (cross-check).
func matchFeatures(a, b []keypoint) []correspondence {
	if len(b) < 2 {
		return nil
	}
	bestOfB := make([]int, len(b))
	bestDOfB := make([]int, len(b))
	for j := range bestDOfB {
		bestDOfB[j] = math.MaxInt
	}
	type cand struct{ i, j, d1, d2 int }
	cands := make([]cand, len(a))
	for i := range a {
		d1, d2, j1 := math.MaxInt, math.MaxInt, -1
		for j := range b {
			d := hamming(&a[i].desc, &b[j].desc)
			if d < d1 {
				d2, d1, j1 = d1, d, j
			} else if d < d2 {
				d2 = d
			}
			if d < bestDOfB[j] {
				bestDOfB[j], bestOfB[j] = d, i
			}
		}
		cands[i] = cand{i, j1, d1, d2}
	}
	var out []correspondence
	for _, c := range cands {
		if c.j < 0 || float64(c.d1) >= 0.8*float64(c.d2) || c.d1 > 80 || bestOfB[c.j] != c.i {
			continue
		}
		out = append(out, correspondence{a: [2]float64{a[c.i].x, a[c.i].y}, b: [2]float64{b[c.j].x, b[c.j].y}, d: c.d1})
	}
	return out
}

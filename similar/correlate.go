package similar

import (
	"math"
	"sort"
	"sync"
)

// The coarse search: the normalised cross-correlation of the template, at each rotation,
// with every place of a level, by FFT over tiles.
//
// For a place x, with M the template's footprint (n elements), T0 its values less their
// mean and I the level's grey values:
//
//	score(x) = Σ I(x+d)·T0(d) / sqrt((Σ I² - (Σ I)²/n) · Σ T0²), sums over d in M.
//
// The three sums over the footprint are correlations of the level with T0 and with M's
// indicator, computed per tile as inverse FFTs of the window's spectrum times the
// conjugate of the kernel's. Real arrays travel in pairs through one complex transform:
// the window as I + i·I², the kernels as M + i·T0, and two rotations' numerators in one
// inverse transform.

// correlation is one coarse search: the level, the template (in its pixels), the grid's
// half side R, the rotations, and after run the best score of every place and the
// rotation that gave it.
type correlation struct {
	g       *planes
	t       rect
	R       int
	rots    []float64
	workers int
	n       int // the FFT's side
	best    []float32
	arg     []uint16
}

// coarseKernel is the template turned by rot on the (2R+1)² grid, made the same from
// either end and either side (the value at a point is the mean of the template's at it
// and at its reflections across the template's two axes), so that one coarse search
// finds a ship whichever way it points and whichever side its pier is on: the mask, the
// values less their mean under it, the mask's count and the values' norm.
func coarseKernel(g *planes, t rect, R int, rot float64) (mask, val []float64, n, norm float64) {
	K := 2*R + 1
	mask, val = make([]float64, K*K), make([]float64, K*K)
	var sum float64
	footprint(t, R, rot, func(i int, x, y float64) {
		dx, dy := x-t.c[0], y-t.c[1]
		a, b := dx*t.u[0]+dy*t.u[1], dx*t.v[0]+dy*t.v[1]
		var v float64
		for _, sa := range []float64{-1, 1} {
			for _, sb := range []float64{-1, 1} {
				v += float64(bilinear(g.luma, g.w, g.h, t.c[0]+sa*a*t.u[0]+sb*b*t.v[0], t.c[1]+sa*a*t.u[1]+sb*b*t.v[1]))
			}
		}
		mask[i], val[i] = 1, v/4
		sum += v / 4
		n++
	})
	for i, m := range mask {
		if m != 0 {
			val[i] -= sum / n
			norm += val[i] * val[i]
		}
	}
	return mask, val, n, math.Sqrt(norm)
}

// tileSide picks the FFT's side: the one that computes the level's places in the fewest
// operations (a transform per rotation's kernel; per tile, one of the window and three
// per two rotations), over a tile at least twice the kernel, with the kernels' spectra
// (one n² array of complex64 per rotation) within 96 MiB.
func (c *correlation) tileSide() int {
	K := 2*c.R + 1
	best, bestCost := 0, math.Inf(1)
	for n := 32; n <= 2048; n *= 2 {
		v := n - K + 1
		if v < K && n < 2048 {
			continue
		}
		if best != 0 && len(c.rots)*n*n*8 > 96<<20 {
			break
		}
		tx, ty := ceilDiv(c.g.w-2*c.R, v), ceilDiv(c.g.h-2*c.R, v)
		transforms := tx*ty*(1+3*ceilDiv(len(c.rots), 2)) + len(c.rots)
		cost := float64(transforms) * float64(n*n) * math.Log2(float64(n*n))
		if cost < bestCost {
			best, bestCost = n, cost
		}
	}
	return best
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// run fills best and arg: for every place whose grid lies inside the level, the best
// correlation over the rotations (-1 elsewhere).
func (c *correlation) run() {
	g, R := c.g, c.R
	c.n = c.tileSide()
	n := c.n
	K := 2*R + 1
	v := n - K + 1
	c.best = make([]float32, g.w*g.h)
	c.arg = make([]uint16, g.w*g.h)
	for i := range c.best {
		c.best[i] = -1
	}
	// neg[i] is the index of -i in a spectrum, for unpacking pairs.
	neg := make([]int32, n*n)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			neg[j*n+i] = int32((n-j)%n*n + (n-i)%n)
		}
	}
	counts, norms := make([]float64, len(c.rots)), make([]float64, len(c.rots))
	// The kernels' spectra, FFT(M + i·T0), with each element at d placed at index d mod
	// n, so that the inverse of F(window)·conj(F(kernel)) is the correlation.
	spectra := make([][]complex64, len(c.rots))
	c.parallel(len(c.rots), func(r int, buf *buffers) {
		mask, val, cnt, norm := coarseKernel(g, c.t, R, c.rots[r])
		counts[r], norms[r] = cnt, norm
		z := buf.a
		clear(z)
		for j := 0; j < K; j++ {
			for i := 0; i < K; i++ {
				z[((j-R+n)%n)*n+(i-R+n)%n] = complex(mask[j*K+i], val[j*K+i])
			}
		}
		buf.f.transform(z, buf.scratch, false)
		out := make([]complex64, n*n)
		for i, x := range z {
			out[i] = complex64(x)
		}
		spectra[r] = out
	})
	type tile struct{ x0, y0 int } // the tile's first place
	var tiles []tile
	for y := R; y < g.h-R; y += v {
		for x := R; x < g.w-R; x += v {
			tiles = append(tiles, tile{x, y})
		}
	}
	c.parallel(len(tiles), func(ti int, buf *buffers) {
		tl := tiles[ti]
		z, fi, num, sums := buf.a, buf.b, buf.c, buf.d
		// The window about the tile's places: values and their squares.
		for j := 0; j < n; j++ {
			y := tl.y0 - R + j
			for i := 0; i < n; i++ {
				x := tl.x0 - R + i
				var p float64
				if x < g.w && y < g.h {
					p = float64(g.luma[y*g.w+x])
				}
				z[j*n+i] = complex(p, p*p)
			}
		}
		buf.f.transform(z, buf.scratch, false)
		// The values' own spectrum, unpacked: (Z[k] + conj(Z[-k])) / 2.
		for k, m := range neg {
			fi[k] = complex(0.5*(real(z[k])+real(z[m])), 0.5*(imag(z[k])-imag(z[m])))
		}
		nx, ny := min(v, g.w-R-tl.x0), min(v, g.h-R-tl.y0)
		for r := 0; r < len(c.rots); r += 2 {
			// The numerators of rotations r and r+1 in one: FI·conj(FT_r) + i·FI·conj(FT_r+1),
			// FT unpacked from a kernel's spectrum as (Z[k] - conj(Z[-k])) / 2i.
			a := spectra[r]
			var b []complex64
			if r+1 < len(c.rots) {
				b = spectra[r+1]
			}
			for k, m := range neg {
				ta := valuesOf(a[k], a[m])
				acc := conj(ta)
				if b != nil {
					acc += complex(0, 1) * conj(valuesOf(b[k], b[m]))
				}
				num[k] = fi[k] * acc
			}
			buf.f.transform(num, buf.scratch, true)
			for q := r; q < min(r+2, len(c.rots)); q++ {
				// Σ I and Σ I² under the mask at once: Z·conj(FM).
				sp := spectra[q]
				for k, m := range neg {
					sums[k] = z[k] * conj(maskOf(sp[k], sp[m]))
				}
				buf.f.transform(sums, buf.scratch, true)
				cnt, norm := counts[q], norms[q]
				for j := 0; j < ny; j++ {
					o := (j+R)*n + R
					p := (tl.y0+j)*g.w + tl.x0
					for i := 0; i < nx; i++ {
						s1, s2 := real(sums[o+i]), imag(sums[o+i])
						nm := real(num[o+i])
						if q > r {
							nm = imag(num[o+i])
						}
						sc := float32(0)
						if variance := s2 - s1*s1/cnt; variance >= cnt*minVariance && norm > 0 {
							sc = float32(nm / (math.Sqrt(variance) * norm))
						}
						if sc > c.best[p+i] {
							c.best[p+i], c.arg[p+i] = sc, uint16(q)
						}
					}
				}
			}
		}
	})
}

// maskOf and valuesOf unpack a kernel's mask and values spectra from their packed
// spectrum at k, given a = Z[k] and b = Z[-k]: (a + conj(b)) / 2 and (a - conj(b)) / 2i.
func maskOf(a, b complex64) complex128 {
	return complex(0.5*float64(real(a)+real(b)), 0.5*float64(imag(a)-imag(b)))
}

func valuesOf(a, b complex64) complex128 {
	return complex(0.5*float64(imag(a)+imag(b)), -0.5*float64(real(a)-real(b)))
}

func conj(c complex128) complex128 { return complex(real(c), -imag(c)) }

// buffers are one worker's transform and work arrays.
type buffers struct {
	f                   *fft2
	a, b, c, d, scratch []complex128
}

// parallel runs fn(i) for every i < count on the search's workers, each with its own
// buffers.
func (c *correlation) parallel(count int, fn func(i int, buf *buffers)) {
	var wg sync.WaitGroup
	next := make(chan int)
	f := newFFT2(c.n)
	for w := 0; w < min(c.workers, count); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nn := c.n * c.n
			buf := &buffers{f: f, a: make([]complex128, nn), b: make([]complex128, nn), c: make([]complex128, nn),
				d: make([]complex128, nn), scratch: make([]complex128, nn)}
			for i := range next {
				fn(i, buf)
			}
		}()
	}
	for i := 0; i < count; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// peaks returns the places scoring at least threshold that no place within radius
// scores more than, best first.
func (c *correlation) peaks(threshold float64, radius int) []peak {
	g := c.g
	var out []peak
	for y := 0; y < g.h; y++ {
		for x := 0; x < g.w; x++ {
			s := c.best[y*g.w+x]
			if float64(s) < threshold {
				continue
			}
			isMax := true
			for yy := max(0, y-radius); yy <= min(g.h-1, y+radius) && isMax; yy++ {
				for xx := max(0, x-radius); xx <= min(g.w-1, x+radius); xx++ {
					o := c.best[yy*g.w+xx]
					// A tie goes to the first in reading order.
					if o > s || (o == s && (yy < y || (yy == y && xx < x))) {
						isMax = false
						break
					}
				}
			}
			if isMax {
				out = append(out, peak{x: float64(x) + 0.5, y: float64(y) + 0.5, rot: c.rots[c.arg[y*g.w+x]], score: float64(s)})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].score > out[j].score })
	return out
}

// weigh multiplies every place's score by how alike the colours about it are to those
// about the template (rotations aside: the square about each place), so that a town's
// roofs, as elongated as a ship, fall behind the ships on the water.
func (c *correlation) weigh(ctx *context) {
	tm, tv := ctx.at(int(c.t.c[0]), int(c.t.c[1]))
	for y := 0; y < c.g.h; y++ {
		for x := 0; x < c.g.w; x++ {
			if p := y*c.g.w + x; c.best[p] > 0 {
				m, v := ctx.at(x, y)
				c.best[p] *= float32(bhattacharyya(tm, tv, m, v))
			}
		}
	}
}

// context is a level's colour about each place: the mean colour and grey variance of the
// square of side 2h+1 about it, from summed-area tables.
type context struct {
	w, h, half int
	sum        [5][]float64 // red, green, blue, grey, grey²; (w+1) × (h+1), summed over x' < x, y' < y
}

func newContext(g *planes, half int) *context {
	c := &context{w: g.w, h: g.h, half: half}
	W := g.w + 1
	for i := range c.sum {
		c.sum[i] = make([]float64, W*(g.h+1))
	}
	for y := 0; y < g.h; y++ {
		var row [5]float64
		for x := 0; x < g.w; x++ {
			p := y*g.w + x
			l := float64(g.luma[p])
			v := [5]float64{float64(g.r[p]), float64(g.g[p]), float64(g.b[p]), l, l * l}
			for i := range row {
				row[i] += v[i]
				c.sum[i][(y+1)*W+x+1] = c.sum[i][y*W+x+1] + row[i]
			}
		}
	}
	return c
}

// at is the mean colour and grey variance of the square about the level pixel (x, y),
// cut by the level's edge.
func (c *context) at(x, y int) (mean [3]float64, variance float64) {
	x0, y0 := max(0, x-c.half), max(0, y-c.half)
	x1, y1 := min(c.w, x+c.half+1), min(c.h, y+c.half+1)
	W := c.w + 1
	n := float64((x1 - x0) * (y1 - y0))
	box := func(s []float64) float64 { return (s[y1*W+x1] - s[y0*W+x1] - s[y1*W+x0] + s[y0*W+x0]) / n }
	for i := range mean {
		mean[i] = box(c.sum[i])
	}
	m := box(c.sum[3])
	return mean, box(c.sum[4]) - m*m
}

// bhattacharyya is the Bhattacharyya coefficient of two colour distributions taken as
// Gaussians with means m1, m2 (red, green, blue) and one grey variance each: 1 for the
// same, towards 0 as they part.
func bhattacharyya(m1 [3]float64, v1 float64, m2 [3]float64, v2 float64) float64 {
	v1, v2 = math.Max(v1, minVariance), math.Max(v2, minVariance)
	d2 := 0.0
	for i := range m1 {
		d2 += (m1[i] - m2[i]) * (m1[i] - m2[i])
	}
	both := v1 + v2
	return math.Sqrt(2*math.Sqrt(v1*v2)/both) * math.Exp(-d2/(4*both))
}

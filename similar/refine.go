package similar

import (
	"math"
	"sync"
)

// The fine stage: each coarse peak, moved to the finer level, is searched about in
// position and rotation (both ends of the template, a quarter and half a step either
// side), and scored by the grey values' correlation times the likeness of the two
// places' colours and contrasts.

// fineKernel is the template turned by one rotation on a finer level: for each element of
// its footprint, the element's offset in the level's pixels from the place and its grey
// value less their mean; their count and norm; and the footprint's mean colour and grey
// variance.
type fineKernel struct {
	off      []int
	val      []float64
	n, norm  float64
	mean     [3]float64
	variance float64
	maxR     int // the grid's half side, for the bounds test
}

func newFineKernel(g *planes, t rect, R int, rot float64) *fineKernel {
	k := &fineKernel{maxR: R}
	var sum, sum2 float64
	footprint(t, R, rot, func(i int, x, y float64) {
		K := 2*R + 1
		dx, dy := i%K-R, i/K-R
		v := float64(bilinear(g.luma, g.w, g.h, x, y))
		k.off = append(k.off, dy*g.w+dx)
		k.val = append(k.val, v)
		k.mean[0] += float64(bilinear(g.r, g.w, g.h, x, y))
		k.mean[1] += float64(bilinear(g.g, g.w, g.h, x, y))
		k.mean[2] += float64(bilinear(g.b, g.w, g.h, x, y))
		sum += v
		sum2 += v * v
	})
	k.n = float64(len(k.val))
	for c := range k.mean {
		k.mean[c] /= k.n
	}
	mean := sum / k.n
	k.variance = sum2/k.n - mean*mean
	for i := range k.val {
		k.val[i] -= mean
		k.norm += k.val[i] * k.val[i]
	}
	k.norm = math.Sqrt(k.norm)
	return k
}

// score is the kernel's score about the level pixel (x, y): the correlation of the grey
// values times the Bhattacharyya coefficient of the two footprints' colour
// distributions, taken as Gaussians with a grey variance; -1 where the footprint leaves
// the level.
func (k *fineKernel) score(g *planes, x, y int) float64 {
	R := k.maxR
	if x < R || y < R || x+R >= g.w || y+R >= g.h || k.norm == 0 {
		return -1
	}
	base := y*g.w + x
	var s1, s2, num, r, gr, b float64
	for i, o := range k.off {
		p := base + o
		v := float64(g.luma[p])
		s1 += v
		s2 += v * v
		num += v * k.val[i]
		r += float64(g.r[p])
		gr += float64(g.g[p])
		b += float64(g.b[p])
	}
	variance := s2/k.n - (s1/k.n)*(s1/k.n)
	if variance < minVariance || k.variance < minVariance {
		return 0
	}
	ncc := num / (math.Sqrt(variance*k.n) * k.norm)
	return ncc * bhattacharyya(k.mean, k.variance, [3]float64{r / k.n, gr / k.n, b / k.n}, variance)
}

// refiner scores places on a finer level, its kernels made once per rotation.
type refiner struct {
	g    *planes
	t    rect
	R    int
	step float64

	mu      sync.Mutex
	kernels map[int]*fineKernel // by rotation in eighths of a step
	floor   float64             // what a peak must score at its own place to be looked at about it
}

func newRefiner(g *planes, t rect, step, floor float64) *refiner {
	return &refiner{g: g, t: t, R: int(math.Ceil(math.Hypot(t.a, t.b))) + 1, step: step, floor: floor, kernels: map[int]*fineKernel{}}
}

func (r *refiner) kernel(rot float64) *fineKernel {
	key := int(math.Round(rot / (r.step / 8)))
	r.mu.Lock()
	k, ok := r.kernels[key]
	r.mu.Unlock()
	if ok {
		return k
	}
	k = newFineKernel(r.g, r.t, r.R, float64(key)*r.step/8)
	r.mu.Lock()
	r.kernels[key] = k
	r.mu.Unlock()
	return k
}

// refine replaces each peak (its position already in the finer level's pixels) by the
// best place and rotation about it: the coarse rotation and the one half a turn from it
// (the template's other end), a quarter and half a step either side, on the places
// within a pixel of it; then the best of those climbs to its neighbours' scores (at most
// reach+1 moves) and tries an eighth of a step either side. A peak that scores under the
// floor at its own place at all those rotations keeps that score and is not searched
// about.
func (r *refiner) refine(peaks []peak, workers, reach int) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				peaks[i] = r.one(peaks[i], reach)
			}
		}()
	}
	for i := range peaks {
		next <- i
	}
	close(next)
	wg.Wait()
}

func (r *refiner) one(p peak, reach int) peak {
	g := r.g
	x0, y0 := int(math.Floor(p.x)), int(math.Floor(p.y))
	best := peak{x: p.x, y: p.y, rot: p.rot, score: -1}
	bx, by := x0, y0
	s := r.step
	// Most peaks are nothing: what scores far below the threshold at the peak itself, at
	// every rotation tried, is not looked at about it.
	top := -1.0
	for _, end := range []float64{0, 180} {
		for _, dr := range []float64{-s / 2, -s / 4, 0, s / 4, s / 2} {
			top = math.Max(top, r.kernel(p.rot+end+dr).score(g, x0, y0))
		}
	}
	if top < r.floor {
		return peak{x: p.x, y: p.y, rot: p.rot, score: top}
	}
	for _, end := range []float64{0, 180} {
		for _, dr := range []float64{-s / 2, -s / 4, 0, s / 4, s / 2} {
			k := r.kernel(p.rot + end + dr)
			for y := y0 - 1; y <= y0+1; y++ {
				for x := x0 - 1; x <= x0+1; x++ {
					if sc := k.score(g, x, y); sc > best.score {
						best.score, best.rot, bx, by = sc, p.rot+end+dr, x, y
					}
				}
			}
		}
	}
	k := r.kernel(best.rot)
	for move := 0; move <= reach; move++ {
		nx, ny := bx, by
		for y := by - 1; y <= by+1; y++ {
			for x := bx - 1; x <= bx+1; x++ {
				if sc := k.score(g, x, y); sc > best.score {
					best.score, nx, ny = sc, x, y
				}
			}
		}
		if nx == bx && ny == by {
			break
		}
		bx, by = nx, ny
	}
	for _, dr := range []float64{-s / 8, s / 8} {
		if sc := r.kernel(best.rot+dr).score(g, bx, by); sc > best.score {
			best.score, best.rot = sc, best.rot+dr
		}
	}
	best.x, best.y = float64(bx)+0.5, float64(by)+0.5
	return best
}

package sampledata

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Noise

// lattice is a periodic grid of random values in [0,1).
type lattice struct {
	w, h int
	v    []float32
}

func newLattice(rng *rand.Rand, w, h int) *lattice {
	l := &lattice{w: w, h: h, v: make([]float32, w*h)}
	for i := range l.v {
		l.v[i] = rng.Float32()
	}
	return l
}

func (l *lattice) get(i, j int) float32 {
	i %= l.w
	if i < 0 {
		i += l.w
	}
	j %= l.h
	if j < 0 {
		j += l.h
	}
	return l.v[j*l.w+i]
}

// sample is smooth (smoothstep-weighted) bilinear value noise at lattice coordinates (x, y).
func (l *lattice) sample(x, y float64) float32 {
	xf, yf := math.Floor(x), math.Floor(y)
	i, j := int(xf), int(yf)
	fx, fy := float32(x-xf), float32(y-yf)
	fx = fx * fx * (3 - 2*fx)
	fy = fy * fy * (3 - 2*fy)
	a := l.get(i, j) + (l.get(i+1, j)-l.get(i, j))*fx
	b := l.get(i, j+1) + (l.get(i+1, j+1)-l.get(i, j+1))*fx
	return a + (b-a)*fy
}

type octave struct {
	cell float64 // pixels per lattice cell
	amp  float32
}

// field is low-frequency fractal noise sampled every fieldStep pixels and
// bilinearly interpolated; values are stretched to [0,1].
type field struct {
	gw, gh int
	v      []float32
}

const fieldShift = 3
const fieldStep = 1 << fieldShift

func newField(rng *rand.Rand, w, h int, octs ...octave) *field {
	gw, gh := w/fieldStep+2, h/fieldStep+2
	lats := make([]*lattice, len(octs))
	for i, o := range octs {
		lats[i] = newLattice(rng, int(float64(w)/o.cell)+3, int(float64(h)/o.cell)+3)
	}
	f := &field{gw: gw, gh: gh, v: make([]float32, gw*gh)}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for j := 0; j < gh; j++ {
		for i := 0; i < gw; i++ {
			var s float32
			for k, o := range octs {
				s += o.amp * lats[k].sample(float64(i*fieldStep)/o.cell, float64(j*fieldStep)/o.cell)
			}
			f.v[j*gw+i] = s
			lo, hi = min(lo, s), max(hi, s)
		}
	}
	for i := range f.v {
		f.v[i] = (f.v[i] - lo) / (hi - lo)
	}
	return f
}

// row writes the field's values for pixel row y into out (len ≤ image width); tmp needs gw entries.
func (f *field) row(y int, out, tmp []float32) {
	gy := y >> fieldShift
	fy := float32(y&(fieldStep-1)) / fieldStep
	r0, r1 := f.v[gy*f.gw:(gy+1)*f.gw], f.v[(gy+1)*f.gw:(gy+2)*f.gw]
	for i := range r0 {
		tmp[i] = r0[i] + (r1[i]-r0[i])*fy
	}
	for x := range out {
		gx := x >> fieldShift
		fx := float32(x&(fieldStep-1)) / fieldStep
		out[x] = tmp[gx] + (tmp[gx+1]-tmp[gx])*fx
	}
}

// at samples the field at a continuous pixel position.
func (f *field) at(x, y float64) float32 {
	gx, gy := x/fieldStep, y/fieldStep
	gx = math.Max(0, math.Min(gx, float64(f.gw-2)))
	gy = math.Max(0, math.Min(gy, float64(f.gh-2)))
	i, j := int(gx), int(gy)
	if i > f.gw-2 {
		i = f.gw - 2
	}
	if j > f.gh-2 {
		j = f.gh - 2
	}
	fx, fy := float32(gx-float64(i)), float32(gy-float64(j))
	v := f.v
	a := v[j*f.gw+i] + (v[j*f.gw+i+1]-v[j*f.gw+i])*fx
	b := v[(j+1)*f.gw+i] + (v[(j+1)*f.gw+i+1]-v[(j+1)*f.gw+i])*fx
	return a + (b-a)*fy
}

// tile is a seamless n×n patch of fractal noise in [-1,1], used for fine texture.
type tile struct {
	n int
	v []float32
}

// newTile builds a tile from octaves whose cell sizes divide n (largest first; amplitude halves).
func newTile(rng *rand.Rand, n int, cells ...int) *tile {
	t := &tile{n: n, v: make([]float32, n*n)}
	amp := float32(1)
	for _, cell := range cells {
		l := newLattice(rng, n/cell, n/cell)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				t.v[y*n+x] += amp * l.sample(float64(x)/float64(cell), float64(y)/float64(cell))
			}
		}
		amp *= 0.5
	}
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for _, v := range t.v {
		lo, hi = min(lo, v), max(hi, v)
	}
	for i := range t.v {
		t.v[i] = 2*(t.v[i]-lo)/(hi-lo) - 1
	}
	return t
}

func (t *tile) at(x, y int) float32 { return t.v[(y%t.n)*t.n+x%t.n] }

// grain is per-pixel white noise in [-1,1] from an integer hash.
func grain(x, y int) float32 {
	h := uint32(x)*0x8da6b343 ^ uint32(y)*0xd8163841
	h ^= h >> 13
	h *= 0x5bd1e995
	h ^= h >> 15
	return float32(h&1023)/511.5 - 1
}

// noiseSet holds the texture sources shared by a scene's drawing code.
type noiseSet struct {
	fine   *tile // 256×256, fine mottling
	medium *tile // 384×384, medium mottling
	crown  *tile // 320×320, tree crowns a few metres across
}

func newNoiseSet(rng *rand.Rand) *noiseSet {
	return &noiseSet{
		fine:   newTile(rng, 256, 32, 16, 8, 4, 2),
		medium: newTile(rng, 384, 48, 24, 12, 6, 3),
		crown:  newTile(rng, 320, 10, 5, 2),
	}
}

// parallelRows runs fn over horizontal bands of [0,h) on all CPUs. fn must
// only write its own rows and must not use shared random state.
func parallelRows(h int, fn func(y0, y1 int)) {
	n := min(max(runtime.GOMAXPROCS(0), 1), 16)
	band := (h + n - 1) / n
	var wg sync.WaitGroup
	for y0 := 0; y0 < h; y0 += band {
		y1 := min(h, y0+band)
		wg.Go(func() { fn(y0, y1) })
	}
	wg.Wait()
}

// waveLUT is one period of a sine wave, for cheap wave patterns.
var waveLUT = func() [1024]float32 {
	var t [1024]float32
	for i := range t {
		t[i] = float32(math.Sin(2 * math.Pi * float64(i) / 1024))
	}
	return t
}()

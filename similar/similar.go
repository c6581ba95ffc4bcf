// Package similar finds the places of an image that look like one annotated object: the
// analyst boxes one landing ship and gets the others as candidates to review.
//
// The annotation's rectangle (a rotated rectangle keeps its rotation), with a margin of
// what surrounds it, is the template. It is searched for coarse to fine over the image's
// pyramid. On a coarse level, every place is compared with the template at rotations over
// a half turn, its two ends averaged (so a ship is found whichever way it points), by
// normalised cross-correlation over the template's own rotated footprint: the Pearson
// correlation of the grey values under it, -1 to 1, indifferent to brightness and
// contrast. These correlations are computed by FFT over tiles (overlap-save), so the cost
// grows with the image's area and not with the template's. On the next finer level, each
// coarse peak is refined in position and rotation (both ends) and scored again: the
// correlation times how alike the two places' colours and contrasts are (the
// Bhattacharyya coefficient of their colour distributions as Gaussians), so that a town's
// roofs, as elongated as a ship but not on water, fall away. The best over a threshold are
// kept, thinned by non-maximum suppression on their boxes' intersection over union, and
// away from the places given to leave out (the template itself, objects already
// annotated).
//
// Coordinates are satmark's pixel space: (0,0) the top-left corner of the top-left pixel,
// x right, y down, in full-resolution pixels; a pixel of level k covers 2^k × 2^k of them.
package similar

import (
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"
	"sort"
)

// Pyramid is an image as levels: level k is the image at 1/2^k of its size (its width
// ceil(width/2^k)), level 0 the full resolution.
type Pyramid interface {
	Size() (width, height int)
	Levels() int
	Level(k int) (image.Image, error)
}

// ErrNotRectangle means the template ring is not a rectangle (5 positions, closed, right
// angles).
var ErrNotRectangle = errors.New("the template is not a rectangle")

// ErrTooLarge means the template does not fit in the image at the level searched: there
// is no other place it could be.
var ErrTooLarge = errors.New("the template is as large as the image")

// ErrTooSmall means the template is too small for the image: the level on which it can
// still be seen has more than MaxLevelPixels pixels to search.
var ErrTooSmall = errors.New("the template is too small to search an image this large for")

// MaxLevelPixels bounds the coarse level searched (and so the memory and time a search
// takes): a 2048 × 2048 level, the whole of a 4096 × 4096 image searched for something
// 6 pixels across.
const MaxLevelPixels = 2048 * 2048

// Options tune a search. The zero value asks for the defaults.
type Options struct {
	Step      float64        // degrees between the rotations tried (default 15)
	Threshold float64        // the least score kept, in (0, 1) (default DefaultThreshold)
	Max       int            // at most this many candidates, the best first (default 50)
	Exclude   [][][2]float64 // places (closed rings, or one position for a point; full-resolution pixels) that already hold such an object
	Workers   int            // goroutines (default GOMAXPROCS)
}

// DefaultThreshold is the least score a candidate has unless Options say otherwise.
const DefaultThreshold = 0.66

// Candidate is one place like the template.
type Candidate struct {
	Ring     [][2]float64 // the template's ring turned by Rotation about its centre and moved to Center: closed, full-resolution pixels
	Center   [2]float64
	Rotation float64 // degrees, clockwise on screen, from the template's own orientation, in (-180, 180]
	Score    float64 // the correlation times the likeness of colours, up to 1
}

// Result is what a search found, best first, and what it looked through.
type Result struct {
	Candidates []Candidate
	Level      int // the coarse level searched
	Refined    int // the level candidates were refined on
	Rotations  int // rotations tried on the coarse level, over a half turn
	Positions  int // places compared on the coarse level, per rotation
	Peaks      int // coarse local maxima over the coarse threshold
	TileSize   int // the FFT's side
}

// String describes a result for logs.
func (r Result) String() string {
	return fmt.Sprintf("%d candidates from %d coarse peaks; level %d (refined on %d), %d rotations × %d places, %d-point FFT tiles",
		len(r.Candidates), r.Peaks, r.Level, r.Refined, r.Rotations, r.Positions, r.TileSize)
}

// rect is a template rectangle: centre, unit axes and half sides.
type rect struct {
	c, u, v [2]float64
	a, b    float64
}

// scaled is r in the pixels of a level scale times coarser.
func (r rect) scaled(scale float64) rect {
	r.c = [2]float64{r.c[0] / scale, r.c[1] / scale}
	r.a, r.b = r.a/scale, r.b/scale
	return r
}

// rectOf reads a closed 5-position ring as a rectangle.
func rectOf(ring [][2]float64) (rect, error) {
	if len(ring) != 5 || ring[0] != ring[4] {
		return rect{}, ErrNotRectangle
	}
	s1, s2 := sub(ring[1], ring[0]), sub(ring[2], ring[1])
	l1, l2 := math.Hypot(s1[0], s1[1]), math.Hypot(s2[0], s2[1])
	if !(l1 > 0 && l2 > 0) || math.Abs(dot(s1, s2))/(l1*l2) > 0.01 {
		return rect{}, ErrNotRectangle
	}
	var c [2]float64
	for _, p := range ring[:4] {
		c[0], c[1] = c[0]+p[0]/4, c[1]+p[1]/4
	}
	return rect{c: c, u: [2]float64{s1[0] / l1, s1[1] / l1}, v: [2]float64{s2[0] / l2, s2[1] / l2}, a: l1 / 2, b: l2 / 2}, nil
}

// Sizes on the levels: the refining level is the coarsest on which the template's
// shorter side spans refineSide pixels, the coarse one the next coarser if that side
// still spans coarseSide there; both coarser still while the coarse level has more than
// maxPositions pixels and that side spans coarseSide.
const (
	refineSide   = 5.0
	coarseSide   = 2.5
	maxPositions = 2 << 20
)

// levels picks the coarse and the refining level for a template whose shorter side is
// short pixels, on an image of width × height with n levels.
func levels(short float64, width, height, n int) (coarse, fine int) {
	at := func(k int) float64 { return short / float64(int(1)<<k) }
	for fine+1 < n && at(fine+1) >= refineSide {
		fine++
	}
	coarse = fine
	if coarse+1 < n && at(coarse+1) >= coarseSide {
		coarse++
	}
	for coarse+1 < n && float64(width)*float64(height)/float64(int(1)<<(2*coarse)) > maxPositions && at(coarse+1) >= coarseSide {
		coarse++
		fine = max(fine, coarse-1)
	}
	return coarse, fine
}

// Search looks through the pyramid for places like the rectangle ring (full-resolution
// pixels: an annotation's rotated rectangle, or the bounding box of another shape). It
// returns the best candidates over the threshold, none overlapping a better one or an
// excluded place (the ring's own place is always excluded); ErrNotRectangle for a ring
// that is not a rectangle, ErrTooLarge when the template fills the image, ErrTooSmall
// when it is too small for the image's size.
func Search(p Pyramid, ring [][2]float64, opt Options) (Result, error) {
	if opt.Step <= 0 {
		opt.Step = 15
	}
	if opt.Threshold <= 0 {
		opt.Threshold = DefaultThreshold
	}
	if opt.Max <= 0 {
		opt.Max = 50
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	t, err := rectOf(ring)
	if err != nil {
		return Result{}, err
	}
	w, h := p.Size()
	kc, kf := levels(2*math.Min(t.a, t.b), w, h, p.Levels())
	res := Result{Level: kc, Refined: kf}
	if s := int64(1) << kc; ((int64(w)+s-1)/s)*((int64(h)+s-1)/s) > MaxLevelPixels {
		return res, ErrTooSmall
	}

	coarseImg, err := p.Level(kc)
	if err != nil {
		return res, err
	}
	cs := float64(int(1) << kc)
	tc := withMargin(t.scaled(cs))
	g := planesOf(coarseImg, true)
	R := int(math.Ceil(math.Hypot(tc.a, tc.b))) + 1
	if 2*R+1 >= g.w || 2*R+1 >= g.h {
		return res, ErrTooLarge
	}
	nrot := max(1, int(math.Round(180/opt.Step)))
	rots := make([]float64, nrot)
	for i := range rots {
		rots[i] = float64(i) * 180 / float64(nrot)
	}
	cor := &correlation{g: g, t: tc, R: R, rots: rots, workers: opt.Workers}
	cor.run()
	cor.weigh(newContext(g, int(math.Round(math.Max(tc.a, tc.b)))))
	res.Rotations, res.Positions, res.TileSize = nrot, (g.w-2*R)*(g.h-2*R), cor.n

	// The coarse score sees a ship's two ends and two sides as one, its rotations are a
	// step apart and its places a coarse pixel, and it is often highest a little beside a
	// ship (where the template's margin meets a pier): every local maximum over a low
	// floor is a peak, and the best few thousand are judged on the finer level.
	peaks := cor.peaks(0.15, 1)
	res.Peaks = len(peaks)
	if limit := 2000 + 10*opt.Max; len(peaks) > limit {
		peaks = peaks[:limit]
	}

	fineImg := coarseImg
	if kf != kc {
		if fineImg, err = p.Level(kf); err != nil {
			return res, err
		}
	}
	fs := float64(int(1) << kf)
	ref := newRefiner(planesOf(fineImg, true), withMargin(t.scaled(fs)), opt.Step, opt.Threshold-0.3)
	for i := range peaks {
		peaks[i].x, peaks[i].y = peaks[i].x*cs/fs, peaks[i].y*cs/fs
	}
	ref.refine(peaks, opt.Workers, int(math.Ceil(cs/fs)))
	sort.SliceStable(peaks, func(i, j int) bool { return peaks[i].score > peaks[j].score })

	excluded := append([][][2]float64{ring}, opt.Exclude...)
	var kept [][][2]float64
	for _, pk := range peaks {
		if pk.score < opt.Threshold {
			break
		}
		center := [2]float64{pk.x * fs, pk.y * fs}
		rot := math.Remainder(pk.rot, 360)
		if rot <= -180 {
			rot += 360
		}
		c := Candidate{Ring: Place(ring, t.c, center, rot), Center: center, Rotation: rot, Score: math.Min(1, pk.score)}
		if overlapsAny(c.Ring, center, excluded) || overlapsAny(c.Ring, center, kept) {
			continue
		}
		kept = append(kept, c.Ring)
		res.Candidates = append(res.Candidates, c)
		if len(res.Candidates) == opt.Max {
			break
		}
	}
	return res, nil
}

// withMargin widens a template rectangle (in a level's pixels) by a margin of what
// surrounds the object (the water round a ship), so that the object's outline, not only
// its inside, is compared.
func withMargin(t rect) rect {
	m := math.Max(1.5, 0.4*math.Min(t.a, t.b))
	t.a, t.b = t.a+m, t.b+m
	return t
}

// Place turns ring by rot degrees (clockwise on screen) about from and moves it to to:
// how a candidate's ring is made from the template's, and how any outline of the
// template's object is carried to a candidate's place.
func Place(ring [][2]float64, from, to [2]float64, rot float64) [][2]float64 {
	sn, cs := math.Sincos(rot * math.Pi / 180)
	out := make([][2]float64, len(ring))
	for i, p := range ring {
		d := sub(p, from)
		out[i] = [2]float64{to[0] + cs*d[0] - sn*d[1], to[1] + sn*d[0] + cs*d[1]}
	}
	out[len(out)-1] = out[0]
	return out
}

// peak is a place on a level (continuous, its centre), a rotation in degrees and a score.
type peak struct {
	x, y, rot, score float64
}

func sub(a, b [2]float64) [2]float64 { return [2]float64{a[0] - b[0], a[1] - b[1]} }
func dot(a, b [2]float64) float64    { return a[0]*b[0] + a[1]*b[1] }

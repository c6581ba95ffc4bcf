// Package match finds where one image lies in another of the same place, and proposes
// control points: pairs of positions that show the same feature in both.
//
// It works in two stages. First, at a working size of about 1024 pixels on the long side,
// ORB-style features (FAST corners over a scale pyramid, oriented BRIEF descriptors) are
// matched with a ratio test and a cross-check, and RANSAC finds the similarity most of
// them agree on, refined to an affine map. That stage copes with any rotation and with
// scales within the pyramid's reach (about 0.3× to 3.5× after both images are brought to
// the working size). Second, each proposed point is refined by normalised
// cross-correlation of patches read from finer levels of both pyramids, the map refitted
// after each level, down to full resolution. A point's score is its patch correlation.
//
// When the images do not overlap, or too little agrees, Match returns a *NoMatchError and
// no points. Only grey values are compared (JPEG's luma), so brightness and contrast do
// not matter; the package reads pixels only through Source and imports nothing of
// satmark's.
package match

import (
	"fmt"
	"math"
	"sort"
)

// Options tune Match. Zero values take the defaults.
type Options struct {
	MaxPoints   int // control points to propose, at most; default 16
	WorkingSize int // long side of the feature-matching images; default 1024
	Features    int // features per image; default 2000
}

// Point is one proposed control point.
type Point struct {
	Pixel          [2]float64 // in the image being placed, full-resolution pixels
	ReferencePixel [2]float64 // the same feature in the reference image
	Score          float64    // normalised cross-correlation of the two patches, up to 1
}

// Result is what Match found.
type Result struct {
	Points  []Point
	Model   Affine  // image pixel → reference pixel, fitted to Points
	Matches int     // feature matches that passed the ratio test
	Inliers int     // of them, how many agreed with the map RANSAC found
	RMS     float64 // of Points about Model, in the image's pixels
}

// NoMatchError says the images do not show the same place, or too little of it to tell.
type NoMatchError struct {
	Reason           string
	Matches, Inliers int
}

func (e *NoMatchError) Error() string { return "no match: " + e.Reason }

// Thresholds of the decision that the images match.
const (
	minInliers      = 12   // feature matches agreeing on one map
	minInlierRatio  = 0.25 // of all that passed the ratio test
	minOverlapShare = 0.05 // of the features in the overlap the placement implies
	minScore        = 0.5  // patch correlation of a kept point
	minPoints       = 4    // refined points agreeing with one affine map
	ransacPixels    = 3.0  // inlier threshold at the working size
	patchHalf       = 15   // patch of 31×31 samples
)

// Match proposes control points between img (the image to place) and ref (an image
// already placed): positions in img with the positions of the same features in ref. It
// returns a *NoMatchError when the two do not overlap, and an error when a tile cannot be
// read.
func Match(img, ref Source, opts Options) (Result, error) {
	if opts.MaxPoints <= 0 {
		opts.MaxPoints = 16
	}
	if opts.WorkingSize <= 0 {
		opts.WorkingSize = 1024
	}
	if opts.Features <= 0 {
		opts.Features = 2000
	}
	gi, si, err := working(img, opts.WorkingSize)
	if err != nil {
		return Result{}, err
	}
	gr, sr, err := working(ref, opts.WorkingSize)
	if err != nil {
		return Result{}, err
	}
	ki := detect(gi, opts.Features)
	matches := matchFeatures(ki, detect(gr, opts.Features))
	m, in := ransac(matches, ransacPixels)
	res := Result{Matches: len(matches), Inliers: len(in)}
	// Features of img where m puts them inside ref: a true placement has many of them
	// agree, a coincidence (a repeated texture, a look-alike building) few.
	inOverlap := 0
	for _, k := range ki {
		if x, y := m.Apply(k.x, k.y); x >= 0 && y >= 0 && x <= float64(gr.w) && y <= float64(gr.h) {
			inOverlap++
		}
	}
	if len(in) < minInliers {
		return res, &NoMatchError{Matches: len(matches), Inliers: len(in),
			Reason: fmt.Sprintf("only %d of %d feature matches agree on one placement (at least %d must): the images do not seem to overlap", len(in), len(matches), minInliers)}
	}
	if float64(len(in)) < minInlierRatio*float64(len(matches)) {
		return res, &NoMatchError{Matches: len(matches), Inliers: len(in),
			Reason: fmt.Sprintf("only %d of %d feature matches (%.0f %%) agree on one placement: too few to trust", len(in), len(matches), 100*float64(len(in))/float64(len(matches)))}
	}
	if float64(len(in)) < minOverlapShare*float64(inOverlap) {
		return res, &NoMatchError{Matches: len(matches), Inliers: len(in),
			Reason: fmt.Sprintf("only %d of the %d features where the placement would put the images over each other agree with it: the agreement looks like coincidence", len(in), inOverlap)}
	}
	// To full resolution: working pixels of img → full, through m, → full of ref.
	toWork := Affine{1 / si[0], 0, 0, 0, 1 / si[1], 0}
	model := toWork.then(m).then(Affine{sr[0], 0, 0, 0, sr[1], 0})
	w, h := img.Size()
	cands := spread(in, si, w, h, 2*opts.MaxPoints)

	ui, ur := newSampler(img), newSampler(ref)
	scale := model.Scale()
	finest := math.Max(1, 1/scale) // a step of at least one pixel in each image
	step := math.Max(finest, math.Max(si[0], si[1])/2)
	var pts []Point
	for {
		radius := 6
		if len(pts) > 0 {
			radius = 4
		}
		pts = pts[:0]
		for _, p := range cands {
			if pt, ok := refine(ui, ur, model, p, step, radius); ok {
				pts = append(pts, pt)
			}
		}
		if ui.err != nil || ur.err != nil {
			return res, fmt.Errorf("reading tiles: %w", firstErr(ui.err, ur.err))
		}
		var ok bool
		if model, pts, ok = robustFit(pts, step*scale); !ok {
			return res, &NoMatchError{Matches: len(matches), Inliers: len(in),
				Reason: fmt.Sprintf("%d feature matches agree, but compared pixel by pixel fewer than %d places look alike: the images do not seem to show the same place", len(in), minPoints)}
		}
		if step <= finest*1.01 {
			break
		}
		step = math.Max(finest, step/3)
	}
	sort.Slice(pts, func(i, j int) bool { return pts[i].Score > pts[j].Score })
	if len(pts) > opts.MaxPoints {
		pts = pts[:opts.MaxPoints]
	}
	res.Points, res.Model = pts, model
	var ss float64
	for _, p := range pts {
		x, y := model.Apply(p.Pixel[0], p.Pixel[1])
		d := math.Hypot(x-p.ReferencePixel[0], y-p.ReferencePixel[1]) / scale
		ss += d * d
	}
	res.RMS = math.Sqrt(ss / float64(len(pts)))
	return res, nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// working reads src at about size pixels on its long side, from the finest level no
// larger than twice that. It returns the image and the full-resolution pixels per working
// pixel in x and y.
func working(src Source, size int) (*grey, [2]float64, error) {
	w, h := src.Size()
	k := 0
	for k+1 < src.Levels() {
		lw, lh := levelSize(w, h, k+1)
		if max(lw, lh) < size {
			break
		}
		k++
	}
	g, err := readLevel(src, k)
	if err != nil {
		return nil, [2]float64{}, err
	}
	if long := max(g.w, g.h); long > size {
		f := float64(size) / float64(long)
		g = resize(g, max(1, int(float64(g.w)*f+0.5)), max(1, int(float64(g.h)*f+0.5)))
	}
	return g, [2]float64{float64(w) / float64(g.w), float64(h) / float64(g.h)}, nil
}

// spread picks up to n of the inliers' positions in img (full resolution) spread over
// the image: the best match in each cell of a grid first.
func spread(in []correspondence, si [2]float64, w, h, n int) [][2]float64 {
	g := int(math.Ceil(math.Sqrt(float64(n))))
	best := map[int]correspondence{}
	for _, c := range in {
		x, y := c.a[0]*si[0], c.a[1]*si[1]
		cell := min(g-1, int(y*float64(g)/float64(h)))*g + min(g-1, int(x*float64(g)/float64(w)))
		if b, ok := best[cell]; !ok || c.d < b.d {
			best[cell] = c
		}
	}
	var out [][2]float64
	for cell := 0; cell < g*g; cell++ {
		if c, ok := best[cell]; ok {
			out = append(out, [2]float64{c.a[0] * si[0], c.a[1] * si[1]})
		}
	}
	return out
}

// refine finds where the patch of ref around model(p) lies in img near p: it compares
// ref's patch, sampled along model's image of a grid of spacing step around p, with img's
// shifted by up to radius steps each way, and takes the shift of the greatest normalised
// cross-correlation (to a fraction of a step, by a parabola through the peak).
func refine(ui, ur *sampler, model Affine, p [2]float64, step float64, radius int) (Point, bool) {
	n := 2*patchHalf + 1
	reach := float64(patchHalf+radius) * step
	if !ui.inside(p[0], p[1], reach+step) {
		return Point{}, false
	}
	q0, q1 := model.Apply(p[0], p[1])
	kr := ur.level(step * model.Scale())
	ki := ui.level(step)
	refPatch := make([]float64, n*n)
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			x, y := model.Apply(p[0]+float64(i-patchHalf)*step, p[1]+float64(j-patchHalf)*step)
			if !ur.inside(x, y, 1) {
				return Point{}, false
			}
			refPatch[j*n+i] = ur.at(kr, x, y)
		}
	}
	mean, sd := stats(refPatch)
	if sd < 3 {
		return Point{}, false // flat: water, cloud, the black beyond an image's edge
	}
	for i := range refPatch {
		refPatch[i] = (refPatch[i] - mean) / sd
	}
	m := n + 2*radius
	win := make([]float64, m*m)
	for j := 0; j < m; j++ {
		for i := 0; i < m; i++ {
			win[j*m+i] = ui.at(ki, p[0]+float64(i-patchHalf-radius)*step, p[1]+float64(j-patchHalf-radius)*step)
		}
	}
	side := 2*radius + 1
	score := make([]float64, side*side)
	sub := make([]float64, n*n)
	for dy := 0; dy < side; dy++ {
		for dx := 0; dx < side; dx++ {
			for j := 0; j < n; j++ {
				copy(sub[j*n:(j+1)*n], win[(j+dy)*m+dx:(j+dy)*m+dx+n])
			}
			mu, s := stats(sub)
			if s < 1e-6 {
				score[dy*side+dx] = -1
				continue
			}
			var c float64
			for k, v := range sub {
				c += refPatch[k] * (v - mu)
			}
			score[dy*side+dx] = c / (s * float64(n*n))
		}
	}
	bi := 0
	for k, v := range score {
		if v > score[bi] {
			bi = k
		}
	}
	bx, by := bi%side, bi/side
	if bx == 0 || by == 0 || bx == side-1 || by == side-1 || score[bi] < minScore {
		return Point{}, false
	}
	fx := parabola(score[bi-1], score[bi], score[bi+1])
	fy := parabola(score[bi-side], score[bi], score[bi+side])
	dx, dy := float64(bx-radius)+fx, float64(by-radius)+fy
	return Point{Pixel: [2]float64{p[0] + dx*step, p[1] + dy*step}, ReferencePixel: [2]float64{q0, q1}, Score: score[bi]}, true
}

func parabola(a, b, c float64) float64 {
	d := a - 2*b + c
	if d >= 0 {
		return 0
	}
	return math.Max(-0.5, math.Min(0.5, 0.5*(a-c)/d))
}

func stats(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)))
}

// robustFit fits an affine map to the points, dropping those it fits worst while they
// are off by more than three times the median and more than tolerance (reference pixels).
func robustFit(pts []Point, tolerance float64) (Affine, []Point, bool) {
	for {
		if len(pts) < minPoints {
			return Affine{}, pts, false
		}
		cs := make([]correspondence, len(pts))
		for i, p := range pts {
			cs[i] = correspondence{a: p.Pixel, b: p.ReferencePixel}
		}
		m, ok := fitAffine(cs)
		if !ok || !plausible(m) {
			return Affine{}, pts, false
		}
		res := make([]float64, len(cs))
		worst := 0
		for i, c := range cs {
			res[i] = residual(m, c)
			if res[i] > res[worst] {
				worst = i
			}
		}
		sorted := append([]float64(nil), res...)
		sort.Float64s(sorted)
		median := sorted[len(sorted)/2]
		if res[worst] <= math.Max(3*median, tolerance) {
			return m, pts, true
		}
		pts = append(pts[:worst:worst], pts[worst+1:]...)
	}
}

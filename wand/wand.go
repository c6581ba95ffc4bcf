// Package wand grows a region of similar colour from a clicked pixel, as QuPath's wand
// does, and returns its outline as a polygon: the analyst clicks a ship and gets its
// hull. The region is the 4-connected pixels whose colour lies within a tolerance of the
// seed's (the mean of the 3 × 3 pixels around the click); its outline follows the pixel
// edges around it (holes filled), simplified by Douglas–Peucker.
package wand

import (
	"errors"
	"image"
	"math"
)

// ErrNoRegion means the click found no object: the region reached the edge of the
// window it was grown in (an empty area of water, a field), or held one pixel only.
var ErrNoRegion = errors.New("no region")

// Result is a grown region: its outline (closed, in the window's pixel corners, clockwise
// on screen) and its area in pixels (holes not counted; the outline fills them).
type Result struct {
	Ring [][2]float64
	Area int
}

// Grow grows the region around seed in img (Drag with one seed).
func Grow(img image.Image, seed image.Point, tolerance, simplify float64) (Result, error) {
	return Drag(img, []image.Point{seed}, tolerance, simplify)
}

// Drag grows a region from each seed — the points a drag of the wand passed over, as
// QuPath's wand collects the parts of an object painted over (a ship's deck, its
// superstructure, its bridge) — and outlines their union: the largest connected piece,
// holes filled. tolerance is the largest Euclidean distance in RGB (0–441) a pixel may be
// from its seed's colour (the mean of the 3 × 3 pixels about it); simplify the largest
// distance, in pixels, the outline may stray from the pixel edges. A seed whose region
// reaches the image's edge is left out (it found the background, not an object);
// ErrNoRegion when every seed's did, or nothing is left.
func Drag(img image.Image, seeds []image.Point, tolerance, simplify float64) (Result, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	rgb := make([]float32, 3*w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := 3 * (y*w + x)
			rgb[i], rgb[i+1], rgb[i+2] = float32(r>>8), float32(g>>8), float32(bl>>8)
		}
	}
	union := make([]bool, w*h)
	grown := make([]bool, w*h)
	touchedAll := true
	tried := false
	for _, seed := range seeds {
		sx, sy := seed.X-b.Min.X, seed.Y-b.Min.Y
		if sx < 0 || sy < 0 || sx >= w || sy >= h {
			return Result{}, errors.New("a seed is outside the image")
		}
		if union[sy*w+sx] {
			continue // already in a region grown from an earlier seed
		}
		tried = true
		region, touches := growOne(rgb, w, h, sx, sy, tolerance, grown)
		if touches {
			continue
		}
		touchedAll = false
		for _, p := range region {
			union[p] = true
		}
	}
	if !tried || touchedAll {
		return Result{}, ErrNoRegion
	}
	// A 1-pixel closing joins the parts a seam or a railing line parts (a ship's deck
	// from its superstructure), then the largest piece is the object.
	union = erode(dilate(union, w, h), w, h)
	keep, area := largestPiece(union, w, h)
	inside := func(x, y int) bool { return x >= 0 && y >= 0 && x < w && y < h && keep[y*w+x] }
	ring := simplifyRing(trace(inside, w, h), simplify)
	res := Result{Ring: ring, Area: area}
	if area < 2 || len(ring) < 4 {
		return res, ErrNoRegion
	}
	return res, nil
}

// growOne grows the 4-connected region of pixels within tolerance of the colour about
// (sx, sy), and says whether it reached the image's edge. seen is scratch, w×h, all
// false on entry and on return.
func growOne(rgb []float32, w, h, sx, sy int, tolerance float64, seen []bool) ([]int, bool) {
	var seedC [3]float64
	n := 0
	for y := max(0, sy-1); y <= min(h-1, sy+1); y++ {
		for x := max(0, sx-1); x <= min(w-1, sx+1); x++ {
			i := 3 * (y*w + x)
			seedC[0], seedC[1], seedC[2] = seedC[0]+float64(rgb[i]), seedC[1]+float64(rgb[i+1]), seedC[2]+float64(rgb[i+2])
			n++
		}
	}
	for c := range seedC {
		seedC[c] /= float64(n)
	}
	tol2 := tolerance * tolerance
	similar := func(p int) bool {
		i := 3 * p
		dr, dg, db := float64(rgb[i])-seedC[0], float64(rgb[i+1])-seedC[1], float64(rgb[i+2])-seedC[2]
		return dr*dr+dg*dg+db*db <= tol2
	}
	region := []int{sy*w + sx}
	seen[sy*w+sx] = true
	touches := false
	for q := 0; q < len(region); q++ {
		p := region[q]
		x, y := p%w, p/w
		if x == 0 || y == 0 || x == w-1 || y == h-1 {
			touches = true
		}
		for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			nx, ny := x+d[0], y+d[1]
			if nx < 0 || ny < 0 || nx >= w || ny >= h {
				continue
			}
			np := ny*w + nx
			if seen[np] || !similar(np) {
				continue
			}
			seen[np] = true
			region = append(region, np)
		}
	}
	for _, p := range region {
		seen[p] = false
	}
	return region, touches
}

// dilate grows a mask by one pixel in the 8 directions; erode shrinks it so (a pixel
// stays when it and its 8 neighbours are in, the image's edge counting as in).
func dilate(m []bool, w, h int) []bool { return morph(m, w, h, true) }
func erode(m []bool, w, h int) []bool  { return morph(m, w, h, false) }

func morph(m []bool, w, h int, grow bool) []bool {
	out := make([]bool, len(m))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := !grow
			for yy := y - 1; yy <= y+1; yy++ {
				for xx := x - 1; xx <= x+1; xx++ {
					in := !grow // off the image: no change
					if xx >= 0 && yy >= 0 && xx < w && yy < h {
						in = m[yy*w+xx]
					}
					if grow && in {
						v = true
					}
					if !grow && !in {
						v = false
					}
				}
			}
			out[y*w+x] = v
		}
	}
	return out
}

// largestPiece keeps the largest 4-connected piece of a mask and returns it with its
// area (holes not counted).
func largestPiece(mask []bool, w, h int) ([]bool, int) {
	label := make([]int32, w*h)
	var best, bestN int32 = 0, 0
	next := int32(0)
	for start := range mask {
		if !mask[start] || label[start] != 0 {
			continue
		}
		next++
		n := int32(0)
		stack := []int{start}
		label[start] = next
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			n++
			x, y := p%w, p/w
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				nx, ny := x+d[0], y+d[1]
				if nx < 0 || ny < 0 || nx >= w || ny >= h {
					continue
				}
				np := ny*w + nx
				if mask[np] && label[np] == 0 {
					label[np] = next
					stack = append(stack, np)
				}
			}
		}
		if n > bestN {
			best, bestN = next, n
		}
	}
	keep := make([]bool, w*h)
	for p, l := range label {
		keep[p] = l == best && best != 0
	}
	return keep, int(bestN)
}

// trace follows the outer boundary of the region along pixel edges, from the top-left
// corner of its topmost, leftmost pixel, keeping the region on its right (clockwise on a
// screen, y down). Holes are not followed, so they are filled.
func trace(inside func(x, y int) bool, w, h int) [][2]float64 {
	sx, sy := -1, -1
	for y := 0; y < h && sx < 0; y++ {
		for x := 0; x < w; x++ {
			if inside(x, y) {
				sx, sy = x, y
				break
			}
		}
	}
	if sx < 0 {
		return nil
	}
	// Directions E, S, W, N; the pixels ahead-left and ahead-right of a corner (x, y).
	dx := [4]int{1, 0, -1, 0}
	dy := [4]int{0, 1, 0, -1}
	ahead := func(x, y, d int) (lx, ly, rx, ry int) {
		switch d {
		case 0:
			return x, y - 1, x, y
		case 1:
			return x, y, x - 1, y
		case 2:
			return x - 1, y, x - 1, y - 1
		}
		return x - 1, y - 1, x, y - 1
	}
	x, y, d := sx, sy, 0
	var ring [][2]float64
	for steps := 0; steps < 4*(w+1)*(h+1); steps++ {
		lx, ly, rx, ry := ahead(x, y, d)
		nd := d
		switch {
		case inside(lx, ly):
			nd = (d + 3) % 4 // left
		case inside(rx, ry):
		default:
			nd = (d + 1) % 4 // right
		}
		if nd != d || len(ring) == 0 {
			ring = append(ring, [2]float64{float64(x), float64(y)})
		}
		d = nd
		x, y = x+dx[d], y+dy[d]
		if x == sx && y == sy && d == 3 {
			break
		}
	}
	return append(ring, ring[0])
}

// simplifyRing drops the vertices of a closed ring that lie within eps of the line
// through their neighbours (Douglas–Peucker on the ring split at its first vertex and the
// vertex farthest from it).
func simplifyRing(ring [][2]float64, eps float64) [][2]float64 {
	if eps <= 0 || len(ring) < 5 {
		return ring
	}
	open := ring[:len(ring)-1]
	far, fd := 0, -1.0
	for i, p := range open {
		if d := math.Hypot(p[0]-open[0][0], p[1]-open[0][1]); d > fd {
			far, fd = i, d
		}
	}
	first := dp(open[:far+1], eps)
	second := dp(append(append([][2]float64{}, open[far:]...), open[0]), eps)
	out := append(first[:len(first)-1], second...)
	if len(out) < 4 {
		return ring
	}
	return out
}

func dp(ps [][2]float64, eps float64) [][2]float64 {
	if len(ps) < 3 {
		return ps
	}
	a, b := ps[0], ps[len(ps)-1]
	idx, dmax := 0, 0.0
	for i := 1; i < len(ps)-1; i++ {
		if d := segmentDistance(ps[i], a, b); d > dmax {
			idx, dmax = i, d
		}
	}
	if dmax <= eps {
		return [][2]float64{a, b}
	}
	left := dp(ps[:idx+1], eps)
	right := dp(ps[idx:], eps)
	return append(left[:len(left)-1], right...)
}

func segmentDistance(p, a, b [2]float64) float64 {
	vx, vy := b[0]-a[0], b[1]-a[1]
	l2 := vx*vx + vy*vy
	if l2 == 0 {
		return math.Hypot(p[0]-a[0], p[1]-a[1])
	}
	t := math.Max(0, math.Min(1, ((p[0]-a[0])*vx+(p[1]-a[1])*vy)/l2))
	return math.Hypot(p[0]-a[0]-t*vx, p[1]-a[1]-t*vy)
}

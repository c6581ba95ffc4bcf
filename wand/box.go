package wand

import (
	"errors"
	"image"
	"math"
)

// FromBox outlines the object in a loose box drawn around it (box → outline, in the manner
// of GrabCut): the box's border is taken as background — its colours clustered into a few
// kinds (water and a pier, say) — and the object is the largest piece of the pixels inside
// that are farther than tolerance (an RGB distance) from every kind of background, joined
// by a one-pixel closing, holes filled, outlined along pixel edges and simplified.
// ErrNoRegion when nothing inside differs from the border.
func FromBox(img image.Image, box image.Rectangle, tolerance, simplify float64) (Result, error) {
	box = box.Intersect(img.Bounds())
	w, h := box.Dx(), box.Dy()
	if w < 8 || h < 8 {
		return Result{}, errors.New("the box is under 8 pixels across")
	}
	rgb := make([][3]float64, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r, g, b, _ := img.At(box.Min.X+x, box.Min.Y+y).RGBA()
			rgb[y*w+x] = [3]float64{float64(r >> 8), float64(g >> 8), float64(b >> 8)}
		}
	}
	const ring = 2
	var border [][3]float64
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if x < ring || y < ring || x >= w-ring || y >= h-ring {
				border = append(border, rgb[y*w+x])
			}
		}
	}
	kinds := cluster(border, 6, 10)
	tol2 := tolerance * tolerance
	fore := make([]bool, w*h)
	for y := ring; y < h-ring; y++ {
		for x := ring; x < w-ring; x++ {
			c := rgb[y*w+x]
			far := true
			for _, k := range kinds {
				if d2(c, k) <= tol2 {
					far = false
					break
				}
			}
			fore[y*w+x] = far
		}
	}
	fore = erode(dilate(fore, w, h), w, h)
	keep, area := largestPiece(fore, w, h)
	if area < 20 {
		return Result{Area: area}, ErrNoRegion
	}
	inside := func(x, y int) bool { return x >= 0 && y >= 0 && x < w && y < h && keep[y*w+x] }
	r := simplifyRing(trace(inside, w, h), simplify)
	for i := range r {
		r[i][0] += float64(box.Min.X)
		r[i][1] += float64(box.Min.Y)
	}
	if len(r) < 4 {
		return Result{Area: area}, ErrNoRegion
	}
	return Result{Ring: r, Area: area}, nil
}

func d2(a, b [3]float64) float64 {
	return (a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2])
}

// cluster finds up to k centres of the colours by k-means (seeded by the farthest-first
// rule, so each kind of border gets a centre), in the given number of rounds.
func cluster(cs [][3]float64, k, rounds int) [][3]float64 {
	if len(cs) == 0 {
		return nil
	}
	centres := [][3]float64{cs[0]}
	for len(centres) < k {
		best, bd := -1, 0.0
		for i, c := range cs {
			m := math.Inf(1)
			for _, z := range centres {
				m = math.Min(m, d2(c, z))
			}
			if m > bd {
				best, bd = i, m
			}
		}
		if best < 0 || bd < 25 { // everything within 5 of a centre already
			break
		}
		centres = append(centres, cs[best])
	}
	for ; rounds > 0; rounds-- {
		sum := make([][4]float64, len(centres))
		for _, c := range cs {
			j, m := 0, math.Inf(1)
			for i, z := range centres {
				if d := d2(c, z); d < m {
					j, m = i, d
				}
			}
			sum[j][0], sum[j][1], sum[j][2], sum[j][3] = sum[j][0]+c[0], sum[j][1]+c[1], sum[j][2]+c[2], sum[j][3]+1
		}
		for i := range centres {
			if n := sum[i][3]; n > 0 {
				centres[i] = [3]float64{sum[i][0] / n, sum[i][1] / n, sum[i][2] / n}
			}
		}
	}
	return centres
}

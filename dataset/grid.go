// Package dataset turns annotated images into a machine-learning dataset: fixed-size
// chips cut with overlap over whole images, each annotation clipped to the chips it
// shows in and kept by a minimum-visible rule, empty chips thinned to a chosen share, a
// deterministic train/val/test split by image or site, and a dataset card that carries
// every image's provenance. It knows annotations' geometry and nothing of HTTP or files.
package dataset

import "fmt"

// Rect is a chip's place in its image, in full-resolution pixels: X, Y its top-left
// corner, W, H its size.
type Rect struct {
	X, Y, W, H int
}

// Grid places chips of size×size pixels over a width×height image, each overlapping its
// neighbours by at least overlap pixels, covering every pixel. The last chip of a row or
// column is aligned to the image's edge (as DOTA's splitting tool does), so every chip is
// whole; an image smaller than a chip in a direction gets one chip of its own size there.
// Chips are listed row by row, top to bottom.
func Grid(width, height, size, overlap int) ([]Rect, error) {
	if size <= 0 {
		return nil, fmt.Errorf("chip size must be positive, not %d", size)
	}
	if overlap < 0 || overlap >= size {
		return nil, fmt.Errorf("overlap must be at least 0 and less than the chip size %d, not %d", size, overlap)
	}
	if width <= 0 || height <= 0 {
		return nil, fmt.Errorf("image size %d×%d is empty", width, height)
	}
	xs, ws := starts(width, size, size-overlap)
	ys, hs := starts(height, size, size-overlap)
	chips := make([]Rect, 0, len(xs)*len(ys))
	for _, y := range ys {
		for _, x := range xs {
			chips = append(chips, Rect{X: x, Y: y, W: ws, H: hs})
		}
	}
	return chips, nil
}

// starts gives the chip origins along one side of length n, and the chips' extent.
func starts(n, size, stride int) ([]int, int) {
	if n <= size {
		return []int{0}, n
	}
	var out []int
	for x := 0; ; x += stride {
		if x+size >= n {
			out = append(out, n-size)
			return out, size
		}
		out = append(out, x)
	}
}

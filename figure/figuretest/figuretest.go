// Package figuretest reads a figure's pixels back as a reader of the figure would: how
// long its scale bar is, and whether its caption band holds dark text on a light ground.
// The figure tests of the server and of the browser both use it.
package figuretest

import "image"

// LongestDarkRun is the longest horizontal run of near-black pixels (every channel at
// most 16 of 255) in r, and the row it is on: a scale bar's drawn length.
func LongestDarkRun(img image.Image, r image.Rectangle) (length, row int) {
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		run := 0
		for x := r.Min.X; x < r.Max.X; x++ {
			if maxChannel(img, x, y) <= 16 {
				run++
				if run > length {
					length, row = run, y
				}
			} else {
				run = 0
			}
		}
	}
	return length, row
}

// Band is the share of r's pixels that are light (every channel at least 230 of 255) and
// the share that are dark (every channel at most 100): a caption band is mostly light,
// with some dark for its text.
func Band(img image.Image, r image.Rectangle) (light, dark float64) {
	r = r.Intersect(img.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			n++
			if minChannel(img, x, y) >= 230 {
				light++
			} else if maxChannel(img, x, y) <= 100 {
				dark++
			}
		}
	}
	if n == 0 {
		return 0, 0
	}
	return light / float64(n), dark / float64(n)
}

func channels(img image.Image, x, y int) [3]uint32 {
	r, g, b, _ := img.At(x, y).RGBA()
	return [3]uint32{r >> 8, g >> 8, b >> 8}
}

func maxChannel(img image.Image, x, y int) uint32 {
	c := channels(img, x, y)
	return max(c[0], c[1], c[2])
}

func minChannel(img image.Image, x, y int) uint32 {
	c := channels(img, x, y)
	return min(c[0], c[1], c[2])
}

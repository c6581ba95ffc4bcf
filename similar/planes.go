package similar

import (
	"image"
	"image/color"
	"math"
)

// planes are a level's pixels as float32 planes, row-major: luma (Rec. 601) always, and
// red, green and blue when colour is wanted.
type planes struct {
	w, h    int
	luma    []float32
	r, g, b []float32 // nil without colour
}

// planesOf reads img, with its colour planes when colour is true.
func planesOf(img image.Image, colour bool) *planes {
	bd := img.Bounds()
	p := &planes{w: bd.Dx(), h: bd.Dy(), luma: make([]float32, bd.Dx()*bd.Dy())}
	if colour {
		p.r, p.g, p.b = make([]float32, len(p.luma)), make([]float32, len(p.luma)), make([]float32, len(p.luma))
	}
	set := func(i int, r, g, b float32) {
		p.luma[i] = 0.299*r + 0.587*g + 0.114*b
		if colour {
			p.r[i], p.g[i], p.b[i] = r, g, b
		}
	}
	switch m := img.(type) {
	case *image.RGBA:
		for y := 0; y < p.h; y++ {
			row := m.Pix[m.PixOffset(bd.Min.X, bd.Min.Y+y):]
			for x := 0; x < p.w; x++ {
				set(y*p.w+x, float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2]))
			}
		}
	case *image.Gray:
		for y := 0; y < p.h; y++ {
			row := m.Pix[m.PixOffset(bd.Min.X, bd.Min.Y+y):]
			for x := 0; x < p.w; x++ {
				v := float32(row[x])
				set(y*p.w+x, v, v, v)
			}
		}
	default:
		for y := 0; y < p.h; y++ {
			for x := 0; x < p.w; x++ {
				c := color.RGBAModel.Convert(img.At(bd.Min.X+x, bd.Min.Y+y)).(color.RGBA)
				set(y*p.w+x, float32(c.R), float32(c.G), float32(c.B))
			}
		}
	}
	return p
}

// bilinear samples plane (w × h) at a continuous position (pixel centres at +0.5),
// clamped to the edge.
func bilinear(plane []float32, w, h int, x, y float64) float32 {
	fx, fy := x-0.5, y-0.5
	x0, y0 := int(math.Floor(fx)), int(math.Floor(fy))
	tx, ty := float32(fx-float64(x0)), float32(fy-float64(y0))
	px := func(x, y int) float32 { return plane[min(h-1, max(0, y))*w+min(w-1, max(0, x))] }
	top := px(x0, y0)*(1-tx) + px(x0+1, y0)*tx
	bot := px(x0, y0+1)*(1-tx) + px(x0+1, y0+1)*tx
	return top*(1-ty) + bot*ty
}

// footprint calls fn for every element of a (2R+1)² grid about a place that lies inside
// the template t turned by rot degrees, with the element's index and the point of the
// template's own level (t's pixels) it comes from.
func footprint(t rect, R int, rot float64, fn func(i int, x, y float64)) {
	K := 2*R + 1
	sn, cs := math.Sincos(rot * math.Pi / 180)
	for j := 0; j < K; j++ {
		for i := 0; i < K; i++ {
			dx, dy := float64(i-R), float64(j-R)
			// Back to the template's own orientation: turned by -rot.
			qx, qy := cs*dx+sn*dy, -sn*dx+cs*dy
			if math.Abs(qx*t.u[0]+qy*t.u[1]) > t.a || math.Abs(qx*t.v[0]+qy*t.v[1]) > t.b {
				continue
			}
			fn(j*K+i, t.c[0]+qx, t.c[1]+qy)
		}
	}
}

// minVariance is the least variance (grey levels²) of the pixels under a place for it
// to be compared at all: flat water correlates with anything by chance.
const minVariance = 4

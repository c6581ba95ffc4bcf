// Package matchtest makes synthetic image pairs with a known relation, for testing and
// measuring package match: a scene and a copy of it rotated, scaled, cropped, with
// brightness and contrast changed, recompressed as JPEG.
package matchtest

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"

	"github.com/satmark/satmark/match"
)

// Distortion is how a copy differs from its scene.
type Distortion struct {
	Rotation   float64    // degrees, counter-clockwise as seen
	Scale      float64    // copy pixels per scene pixel
	Brightness float64    // grey levels added, after the contrast
	Contrast   float64    // factor about mid-grey (128); 1 leaves it
	Quality    int        // JPEG quality of the copy
	Crop       [4]float64 // fractions of the turned, scaled scene's box cut from the left, top, right and bottom
}

func (d Distortion) String() string {
	return fmt.Sprintf("rot %.1f° scale %.2f× bright %+.0f contrast %.2f q%d crop %.0f/%.0f/%.0f/%.0f %%", d.Rotation, d.Scale, d.Brightness, d.Contrast, d.Quality,
		100*d.Crop[0], 100*d.Crop[1], 100*d.Crop[2], 100*d.Crop[3])
}

// Random is a distortion drawn from the ranges match must cope with: rotation 0–30°,
// scale 0.5–2× (log-uniform), brightness ±40, contrast 0.6–1.4, JPEG quality 60–90, and
// up to 30 % of the width and of the height cropped.
func Random(r *rand.Rand) Distortion {
	d := Distortion{
		Rotation:   30 * r.Float64(),
		Scale:      math.Exp(math.Log(0.5) + r.Float64()*math.Log(4)),
		Brightness: -40 + 80*r.Float64(),
		Contrast:   0.6 + 0.8*r.Float64(),
		Quality:    60 + r.IntN(31),
	}
	cx, cy := 0.3*r.Float64(), 0.3*r.Float64()
	fx, fy := r.Float64(), r.Float64()
	d.Crop = [4]float64{cx * fx, cy * fy, cx * (1 - fx), cy * (1 - fy)}
	return d
}

// Copy renders the distorted copy of scene and encodes it as JPEG. truth maps the copy's
// pixels to the scene's (pixel convention: (0,0) is the top-left corner). Pixels of the
// copy beyond the scene are black.
func Copy(scene image.Image, d Distortion) (jpg []byte, truth match.Affine, err error) {
	src := toRGBA(scene)
	w, h := float64(src.Bounds().Dx()), float64(src.Bounds().Dy())
	th := d.Rotation * math.Pi / 180
	// Seen with y down, a counter-clockwise turn is by −θ in these coordinates.
	c, s := math.Cos(th), math.Sin(th)
	k := d.Scale
	// forward: scene → turned and scaled, about the scene's centre.
	fwd := match.Affine{k * c, k * s, 0, -k * s, k * c, 0}
	fwd[2], fwd[5] = -(fwd[0]*w/2 + fwd[1]*h/2), -(fwd[3]*w/2 + fwd[4]*h/2)
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range [][2]float64{{0, 0}, {w, 0}, {0, h}, {w, h}} {
		x, y := fwd.Apply(p[0], p[1])
		minX, minY, maxX, maxY = math.Min(minX, x), math.Min(minY, y), math.Max(maxX, x), math.Max(maxY, y)
	}
	bw, bh := maxX-minX, maxY-minY
	x0, y0 := minX+d.Crop[0]*bw, minY+d.Crop[1]*bh
	ow, oh := int(bw*(1-d.Crop[0]-d.Crop[2])), int(bh*(1-d.Crop[1]-d.Crop[3]))
	fwd[2], fwd[5] = fwd[2]-x0, fwd[5]-y0
	truth, _ = fwd.Invert()

	// Scaling down by more than a third, sample a halved scene so as not to alias.
	sample, sf := src, 1.0
	for k/sf < 0.75 {
		sample, sf = halve(sample), sf/2
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	var lut [256]uint8
	for v := range lut {
		lut[v] = clamp((float64(v)-128)*d.Contrast + 128 + d.Brightness)
	}
	sw, sh := sample.Bounds().Dx(), sample.Bounds().Dy()
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			u, v := truth.Apply(float64(x)+0.5, float64(y)+0.5)
			u, v = u*sf-0.5, v*sf-0.5
			if u < -0.5 || v < -0.5 || u > float64(sw)-0.5 || v > float64(sh)-0.5 {
				continue
			}
			i0, j0 := int(math.Floor(u)), int(math.Floor(v))
			fx, fy := u-float64(i0), v-float64(j0)
			o := out.PixOffset(x, y)
			for ch := 0; ch < 3; ch++ {
				a := at(sample, i0, j0, ch)*(1-fx) + at(sample, i0+1, j0, ch)*fx
				b := at(sample, i0, j0+1, ch)*(1-fx) + at(sample, i0+1, j0+1, ch)*fx
				out.Pix[o+ch] = lut[clamp(a*(1-fy)+b*fy)]
			}
			out.Pix[o+3] = 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, out, &jpeg.Options{Quality: d.Quality}); err != nil {
		return nil, truth, err
	}
	return buf.Bytes(), truth, nil
}

func clamp(v float64) uint8 {
	return uint8(math.Max(0, math.Min(255, math.Round(v))))
}

func at(img *image.RGBA, x, y, ch int) float64 {
	b := img.Bounds()
	x, y = max(0, min(b.Dx()-1, x)), max(0, min(b.Dy()-1, y))
	return float64(img.Pix[y*img.Stride+x*4+ch])
}

func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Bounds().Min == (image.Point{}) {
		return r
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	return out
}

func halve(img *image.RGBA) *image.RGBA {
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	out := image.NewRGBA(image.Rect(0, 0, (w+1)/2, (h+1)/2))
	for y := 0; y < out.Bounds().Dy(); y++ {
		for x := 0; x < out.Bounds().Dx(); x++ {
			for ch := 0; ch < 4; ch++ {
				s := at(img, 2*x, 2*y, ch) + at(img, 2*x+1, 2*y, ch) + at(img, 2*x, 2*y+1, ch) + at(img, 2*x+1, 2*y+1, ch)
				out.Pix[out.PixOffset(x, y)+ch] = uint8(s/4 + 0.5)
			}
		}
	}
	return out
}

// Error is how far the points stray from the truth: the RMS, in the copy's pixels, of the
// distance between each point's reference pixel and where truth puts its pixel.
func Error(points []match.Point, truth match.Affine) float64 {
	var ss float64
	for _, p := range points {
		x, y := truth.Apply(p.Pixel[0], p.Pixel[1])
		d := math.Hypot(x-p.ReferencePixel[0], y-p.ReferencePixel[1])
		ss += d * d
	}
	return math.Sqrt(ss/float64(len(points))) / truth.Scale()
}

// ModelError is how far model strays from truth over the copy: the RMS distance, in the
// copy's pixels, between where each maps the points of a 10×10 grid over the copy's
// width×height that truth puts inside the scene's sw×sh.
func ModelError(model, truth match.Affine, w, h, sw, sh int) float64 {
	var ss float64
	n := 0
	for j := 0; j < 10; j++ {
		for i := 0; i < 10; i++ {
			x, y := (float64(i)+0.5)*float64(w)/10, (float64(j)+0.5)*float64(h)/10
			tx, ty := truth.Apply(x, y)
			if tx < 0 || ty < 0 || tx > float64(sw) || ty > float64(sh) {
				continue
			}
			mx, my := model.Apply(x, y)
			d := math.Hypot(mx-tx, my-ty) / truth.Scale()
			ss += d * d
			n++
		}
	}
	return math.Sqrt(ss / float64(max(n, 1)))
}

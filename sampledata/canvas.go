package sampledata

import (
	"image"
	"math"
)

// Colours and canvas

// col is a surface's colour on the 0–255 display scale of the 8-bit scenes, with n
// its near-infrared brightness on the same scale (used only by 16-bit rendering).
type col struct{ r, g, b, n float32 }

// rgb is a colour whose near-infrared brightness follows from its visible colour (see nirOf).
func rgb(r, g, b float32) col { return col{r, g, b, nirOf(r, g, b)} }

// rgbn is a colour with an explicit near-infrared brightness, for surfaces whose
// infrared the visible colour does not tell (water, vegetation, soil).
func rgbn(r, g, b, n float32) col { return col{r, g, b, n} }

// nirOf guesses a painted or built surface's near-infrared brightness from its visible
// colour: about its red brightness (paint, concrete, metal), rising towards that of
// leaves for a clearly green surface (trees, lawns), whose chlorophyll reflects
// infrared strongly.
func nirOf(r, g, b float32) float32 {
	leaf := smoothstep(8, 18, g-max(r, b))
	return min(255, r*1.04+(2.3*g-r*1.04)*leaf)
}

func (k col) add(d float32) col { return col{k.r + d, k.g + d, k.b + d, k.n + d} }

func (k col) mul(s float32) col { return col{k.r * s, k.g * s, k.b * s, k.n * s} }

func mix(a, b col, t float32) col {
	return col{a.r + (b.r-a.r)*t, a.g + (b.g-a.g)*t, a.b + (b.b-a.b)*t, a.n + (b.n-a.n)*t}
}

func clamp8(v float32) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}

func clamp01(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	return v
}

func smoothstep(e0, e1, x float32) float32 {
	t := clamp01((x - e0) / (e1 - e0))
	return t * t * (3 - 2*t)
}

// shader gives the colour of pixel (x, y) for textured fills.
type shader func(x, y int) col

// canvas is what a scene is drawn into: an 8-bit RGB image (img) or, for 16-bit
// rendering, four channels (red, green, blue, near-infrared) per pixel on the display
// scale in 1/256 steps (deep), which portGeoTIFF turns into sensor values.
type canvas struct {
	img  *image.RGBA // nil when drawing deep
	deep []uint16    // 4 per pixel, row-major; nil when drawing img
	w, h int
	cov  []float32
	xs   []float64
	n    *noiseSet
	sun  sun
}

// sun is where the light comes from, as the shadows it casts: dir is the unit vector
// in image space along which shadows fall, perMetre how many pixels of shadow a metre
// of height casts (1/tan(elevation) at 1 m a pixel).
type sun struct {
	dir      pt
	perMetre float64
}

// defaultSun is the sun of the 8-bit scenes: from the south-south-east, about 35° high,
// so shadows fall north-north-west.
var defaultSun = sun{pt{-0.5, -0.866}, 1.4}

func newCanvas(w, h int, n *noiseSet) *canvas {
	return &canvas{
		img: image.NewRGBA(image.Rect(0, 0, w, h)),
		w:   w, h: h,
		cov: make([]float32, w+2),
		xs:  make([]float64, 0, 64),
		n:   n,
		sun: defaultSun,
	}
}

// newDeepCanvas is a canvas for 16-bit rendering.
func newDeepCanvas(w, h int, n *noiseSet) *canvas {
	return &canvas{
		deep: make([]uint16, 4*w*h),
		w:    w, h: h,
		cov: make([]float32, w+2),
		xs:  make([]float64, 0, 64),
		n:   n,
		sun: defaultSun,
	}
}

// clampDeep turns a display-scale value into a deep canvas sample (1/256 steps).
func clampDeep(v float32) uint16 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255 * 256
	}
	return uint16(v*256 + 0.5)
}

// put sets pixel (x, y) to k.
func (c *canvas) put(x, y int, k col) {
	if c.deep != nil {
		q := c.deep[4*(y*c.w+x) : 4*(y*c.w+x)+4 : 4*(y*c.w+x)+4]
		q[0], q[1], q[2], q[3] = clampDeep(k.r), clampDeep(k.g), clampDeep(k.b), clampDeep(k.n)
		return
	}
	q := c.img.Pix[y*c.img.Stride+4*x : y*c.img.Stride+4*x+4 : y*c.img.Stride+4*x+4]
	q[0], q[1], q[2], q[3] = clamp8(k.r), clamp8(k.g), clamp8(k.b), 255
}

// blendRow blends colour k (or sh(x, y)) into pixels [lo, hi] of row y, pixel x
// covered by cov[x-x0] (clipped to 1), at the given opacity.
func (c *canvas) blendRow(y, x0, lo, hi int, cov []float32, k col, sh shader, alpha float32) {
	if c.deep != nil {
		row := c.deep[4*y*c.w:]
		for x := lo; x <= hi; x++ {
			a := cov[x-x0]
			if a <= 0 {
				continue
			}
			a = min(a, 1) * alpha
			kk := k
			if sh != nil {
				kk = sh(x, y)
			}
			p := row[4*x : 4*x+4 : 4*x+4]
			for i, v := range [4]float32{kk.r, kk.g, kk.b, kk.n} {
				f := float32(p[i]) * (1.0 / 256)
				p[i] = clampDeep(f + (v-f)*a)
			}
		}
		return
	}
	row := c.img.Pix[y*c.img.Stride:]
	for x := lo; x <= hi; x++ {
		a := cov[x-x0]
		if a <= 0 {
			continue
		}
		a = min(a, 1) * alpha
		kk := k
		if sh != nil {
			kk = sh(x, y)
		}
		p := row[4*x : 4*x+3 : 4*x+3]
		p[0] = clamp8(float32(p[0]) + (kk.r-float32(p[0]))*a)
		p[1] = clamp8(float32(p[1]) + (kk.g-float32(p[1]))*a)
		p[2] = clamp8(float32(p[2]) + (kk.b-float32(p[2]))*a)
	}
}

func (c *canvas) fill(poly []pt, k col, alpha float32) { c.raster(poly, k, nil, alpha) }

func (c *canvas) shade(poly []pt, sh shader, alpha float32) { c.raster(poly, col{}, sh, alpha) }

// noisy fills poly with k plus fine texture of the given amplitude.
func (c *canvas) noisy(poly []pt, k col, amp float32) {
	n := c.n
	c.raster(poly, col{}, func(x, y int) col {
		return k.add(amp * (0.6*n.fine.at(x, y) + 0.4*grain(x, y)))
	}, 1)
}

// raster fills a polygon (even-odd rule) with 4× vertical supersampling and
// exact horizontal coverage, blending colour k (or sh(x, y)) at the given
// opacity. A closing vertex equal to the first is ignored.
func (c *canvas) raster(poly []pt, k col, sh shader, alpha float32) {
	n := len(poly)
	if n >= 2 && poly[0] == poly[n-1] {
		n--
	}
	if n < 3 || alpha <= 0 {
		return
	}
	minX, minY, maxX, maxY := poly[0][0], poly[0][1], poly[0][0], poly[0][1]
	for _, p := range poly[:n] {
		minX, maxX = math.Min(minX, p[0]), math.Max(maxX, p[0])
		minY, maxY = math.Min(minY, p[1]), math.Max(maxY, p[1])
	}
	if maxX <= 0 || maxY <= 0 || minX >= float64(c.w) || minY >= float64(c.h) {
		return
	}
	x0, x1 := max(0, int(math.Floor(minX))), min(c.w-1, int(math.Floor(maxX)))
	y0, y1 := max(0, int(math.Floor(minY))), min(c.h-1, int(math.Floor(maxY)))
	const S = 4
	const wS = float32(1) / S
	fx0, fx1 := float64(x0), float64(x1+1)
	for y := y0; y <= y1; y++ {
		cov := c.cov[:x1-x0+1]
		clear(cov)
		lo, hi := x1+1, x0-1
		for s := 0; s < S; s++ {
			sy := float64(y) + (float64(s)+0.5)/S
			xs := c.xs[:0]
			for i := 0; i < n; i++ {
				a, b := poly[i], poly[(i+1)%n]
				if (a[1] <= sy) != (b[1] <= sy) {
					xs = append(xs, a[0]+(sy-a[1])*(b[0]-a[0])/(b[1]-a[1]))
				}
			}
			for i := 1; i < len(xs); i++ {
				for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
					xs[j], xs[j-1] = xs[j-1], xs[j]
				}
			}
			for i := 0; i+1 < len(xs); i += 2 {
				xa, xb := math.Max(xs[i], fx0), math.Min(xs[i+1], fx1)
				if xb <= xa {
					continue
				}
				ia, ib := int(xa), int(xb)
				if ia == ib {
					cov[ia-x0] += float32(xb-xa) * wS
				} else {
					cov[ia-x0] += float32(float64(ia+1)-xa) * wS
					for q := ia + 1; q < ib; q++ {
						cov[q-x0] += wS
					}
					if ib <= x1 {
						cov[ib-x0] += float32(xb-float64(ib)) * wS
					}
				}
				lo = min(lo, ia)
				hi = max(hi, min(ib, x1))
			}
			c.xs = xs
		}
		c.blendRow(y, x0, lo, hi, cov, k, sh, alpha)
	}
}

// line draws a straight stroke of the given width.
func (c *canvas) line(a, b pt, width float64, k col, alpha float32) {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := math.Hypot(dx, dy)
	if l == 0 {
		return
	}
	nx, ny := -dy/l*width/2, dx/l*width/2
	c.fill([]pt{{a[0] + nx, a[1] + ny}, {b[0] + nx, b[1] + ny}, {b[0] - nx, b[1] - ny}, {a[0] - nx, a[1] - ny}}, k, alpha)
}

// polyline draws connected strokes with round joins (use alpha 1 for clean joins).
func (c *canvas) polyline(pts []pt, width float64, k col, alpha float32) {
	for i := 0; i+1 < len(pts); i++ {
		c.line(pts[i], pts[i+1], width, k, alpha)
		if i > 0 && width > 2 {
			c.fill(circlePoly(pts[i][0], pts[i][1], width/2), k, alpha)
		}
	}
}

func (c *canvas) disc(x, y, r float64, k col, alpha float32) {
	c.fill(circlePoly(x, y, r), k, alpha)
}

var shadowCol = rgb(12, 16, 20)

// shadowOffset is how far the top of something of the given height is thrown by the sun.
func (c *canvas) shadowOffset(height float64) pt {
	return pt{c.sun.dir[0] * height * c.sun.perMetre, c.sun.dir[1] * height * c.sun.perMetre}
}

// shadow fills the shadow cast by a convex prism of the given outline and height.
func (c *canvas) shadow(poly []pt, height float64, alpha float32) {
	d := c.shadowOffset(height)
	dx, dy := d[0], d[1]
	all := make([]pt, 0, 2*len(poly))
	all = append(all, poly...)
	all = append(all, translate(poly, dx, dy)...)
	c.fill(convexHull(all), shadowCol, alpha)
}

// poleShadow draws the thin shadow of a mast or pole standing at p.
func (c *canvas) poleShadow(p pt, height, width float64, alpha float32) {
	d := c.shadowOffset(height)
	q := pt{p[0] + d[0], p[1] + d[1]}
	c.line(p, q, width, shadowCol, alpha)
}

// building draws a gabled or flat roof of the given outline (a rectangle in
// frame f) with its shadow.
func (c *canvas) building(f frame, length, width, height float64, roof col, gable bool) {
	r := f.rect(-length/2, length/2, -width/2, width/2)
	c.shadow(r, height, 0.55)
	c.noisy(r, roof, 5)
	if gable {
		// the half facing the sun (south/east) is lit, the other darker
		lit := 1.08
		dark := 0.86
		// sun direction in image space is -c.sun.dir; the half whose outward
		// normal points towards the sun is the lit one.
		nx, ny := -f.uy, f.ux // +b direction
		if nx*(-c.sun.dir[0])+ny*(-c.sun.dir[1]) < 0 {
			lit, dark = dark, lit
		}
		c.fill(f.rect(-length/2, length/2, 0, width/2), roof.mul(float32(lit)), 0.5)
		c.fill(f.rect(-length/2, length/2, -width/2, 0), roof.mul(float32(dark)), 0.5)
		c.line(f.at(-length/2, 0), f.at(length/2, 0), 0.8, roof.mul(1.15), 0.6)
	} else {
		if length >= 60 { // corrugated sheet roof
			for a := -length/2 + 3; a < length/2-1; a += 4 {
				c.line(f.at(a, -width/2+1), f.at(a, width/2-1), 1, roof.mul(0.85), 0.25)
			}
		}
		// parapet
		edge := roof.mul(0.8)
		ring := append(r, r[0])
		c.polyline(ring, 1, edge, 0.7)
	}
}

// Package figure lays out a figure to publish: a picture of part of an image with its
// annotations and their labels drawn on it, a scale bar in metres, a north arrow and a
// caption, as a PNG (the caption drawn in a light band under the picture) or a PDF (the
// picture placed at the chosen resolution, the caption as text). It imports nothing of
// satmark's: the caller resamples the picture and puts the shapes in its pixels.
//
// Text is set in the Go fonts (golang.org/x/image/font/gofont, by Bigelow & Holmes for
// the Go project, under the same BSD-style licence as Go), embedded in the binary and,
// as a subset, in every PDF.
package figure

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Shape is an annotation as the figure draws it, in the picture's pixels (continuous:
// (0, 0) is the picture's top-left corner).
type Shape struct {
	Kind  string // "point", "line" or "polygon" (rectangles and rotated rectangles too)
	Rings [][][2]float64
	Color color.NRGBA
	Label string // drawn beside the shape; "" for none
}

// Spec is what a figure holds. Picture is the region already resampled to the output
// size; sizes of lines and text follow DPI (a point is DPI/72 pixels).
type Spec struct {
	Picture *image.NRGBA
	Shapes  []Shape
	// MetresPerPixel is the ground size of one picture pixel across; 0 draws no scale bar.
	MetresPerPixel float64
	// North is the direction of north in the picture in degrees clockwise from up; nil
	// draws no arrow.
	North   *float64
	Caption []string // paragraphs, wrapped to the figure's width
	DPI     float64
}

// ScaleBar is the scale bar as drawn: its round length on the ground and in pixels.
type ScaleBar struct {
	Metres float64
	Pixels int
	Label  string
}

// Figure is a laid-out figure. Picture carries the annotations, the scale bar and the
// arrow; Image is Picture over the caption band (the PNG).
type Figure struct {
	Picture  *image.NRGBA
	Image    *image.NRGBA
	ScaleBar *ScaleBar // nil when there is none
	Caption  []string
	DPI      float64
}

// CaptionPoints is the caption's type size in points.
const CaptionPoints = 9

var goRegular = mustParse(goregular.TTF)

func mustParse(ttf []byte) *opentype.Font {
	f, err := opentype.Parse(ttf)
	if err != nil {
		panic(err)
	}
	return f
}

func face(px float64) font.Face {
	f, err := opentype.NewFace(goRegular, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(err) // only for a size that is not a number, which callers never give
	}
	return f
}

// Caption band colours: dark text on a light band.
var (
	bandColor = color.NRGBA{248, 248, 246, 255}
	inkColor  = color.NRGBA{20, 20, 20, 255}
	white     = color.NRGBA{255, 255, 255, 255}
	black     = color.NRGBA{0, 0, 0, 255}
)

// Draw lays the figure out. The picture is drawn on in place.
func Draw(s Spec) (*Figure, error) {
	if s.Picture == nil || s.Picture.Rect.Empty() {
		return nil, fmt.Errorf("a figure needs a picture")
	}
	if !(s.DPI > 0) {
		return nil, fmt.Errorf("a figure needs a resolution above 0 dpi")
	}
	pt := s.DPI / 72 // pixels per point
	pic := s.Picture
	for _, sh := range s.Shapes {
		drawShape(pic, sh, pt)
	}
	f := &Figure{Picture: pic, DPI: s.DPI}
	if s.MetresPerPixel > 0 && !math.IsInf(s.MetresPerPixel, 0) {
		f.ScaleBar = drawScaleBar(pic, s.MetresPerPixel, pt)
	}
	if s.North != nil {
		drawNorthArrow(pic, *s.North, pt)
	}

	// The caption band: wrapped paragraphs with a margin of one line.
	size := max(10, CaptionPoints*pt)
	fc := face(size)
	defer fc.Close()
	w := pic.Rect.Dx()
	margin := int(math.Round(size * 0.8))
	lineH := int(math.Ceil(size * 1.3))
	var lines []string
	for _, p := range s.Caption {
		lines = append(lines, wrap(fc, p, w-2*margin)...)
	}
	f.Caption = s.Caption
	bandH := 0
	if len(lines) > 0 {
		bandH = 2*margin + len(lines)*lineH
	}
	h := pic.Rect.Dy()
	out := image.NewNRGBA(image.Rect(0, 0, w, h+bandH))
	draw.Draw(out, pic.Rect, pic, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(0, h, w, h+bandH), image.NewUniform(bandColor), image.Point{}, draw.Src)
	d := font.Drawer{Dst: out, Src: image.NewUniform(inkColor), Face: fc}
	ascent := fc.Metrics().Ascent.Ceil()
	for i, l := range lines {
		d.Dot = fixed.P(margin, h+margin+i*lineH+ascent)
		d.DrawString(l)
	}
	f.Image = out
	return f, nil
}

// wrap breaks a paragraph into lines no wider than w pixels (a word wider than that
// stands alone on its line).
func wrap(fc font.Face, p string, w int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(p) {
		try := word
		if line != "" {
			try = line + " " + word
		}
		if line != "" && font.MeasureString(fc, try).Ceil() > w {
			lines = append(lines, line)
			line = word
			continue
		}
		line = try
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// RoundLength is the longest length of 1, 2 or 5 × 10ⁿ metres at most max metres.
func RoundLength(max float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(max)))
	for _, m := range []float64{5, 2, 1} {
		if m*e <= max*(1+1e-9) {
			return m * e
		}
	}
	return e
}

// LengthLabel writes a length in metres as a scale bar names it: "500 m", "2 km", "0.5 m".
func LengthLabel(m float64) string {
	if m >= 1000 {
		return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", m/1000), "0"), ".") + " km"
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", m), "0"), ".") + " m"
}

// drawScaleBar draws, in the picture's bottom-left corner on a white box, a solid black
// bar of a round length no longer than a quarter of the picture's width, named above it.
func drawScaleBar(pic *image.NRGBA, mpp, pt float64) *ScaleBar {
	w, h := pic.Rect.Dx(), pic.Rect.Dy()
	metres := RoundLength(0.25 * float64(w) * mpp)
	px := int(math.Round(metres / mpp))
	if px < 1 {
		return nil
	}
	sb := &ScaleBar{Metres: metres, Pixels: px, Label: LengthLabel(metres)}
	size := max(9, 8*pt)
	fc := face(size)
	defer fc.Close()
	pad := int(math.Round(max(3, 4*pt)))
	barH := int(math.Round(max(3, 3*pt)))
	ascent, descent := fc.Metrics().Ascent.Ceil(), fc.Metrics().Descent.Ceil()
	textW := font.MeasureString(fc, sb.Label).Ceil()
	boxW := max(px, textW) + 2*pad
	boxH := pad + ascent + descent + pad/2 + barH + pad
	x0, y1 := pad*2, h-pad*2
	box := image.Rect(x0, y1-boxH, x0+boxW, y1)
	draw.Draw(pic, box, image.NewUniform(white), image.Point{}, draw.Src)
	bar := image.Rect(x0+pad, y1-pad-barH, x0+pad+px, y1-pad)
	draw.Draw(pic, bar, image.NewUniform(black), image.Point{}, draw.Src)
	d := font.Drawer{Dst: pic, Src: image.NewUniform(black), Face: fc, Dot: fixed.P(x0+pad, y1-boxH+pad+ascent)}
	d.DrawString(sb.Label)
	return sb
}

// drawNorthArrow draws an arrow pointing north, with an N at its tip, on a white disc in
// the picture's top-right corner.
func drawNorthArrow(pic *image.NRGBA, deg, pt float64) {
	r := max(12, 16*pt)
	cx, cy := float64(pic.Rect.Dx())-r-6*pt, r+6*pt
	z := vector.NewRasterizer(pic.Rect.Dx(), pic.Rect.Dy())
	circle(z, cx, cy, r)
	fill(pic, z, color.NRGBA{255, 255, 255, 230})
	a := deg * math.Pi / 180
	dx, dy := math.Sin(a), -math.Cos(a) // north, in the picture
	nx, ny := -dy, dx
	l := r * 0.55
	tip := [2]float64{cx + dx*l, cy + dy*l}
	z = vector.NewRasterizer(pic.Rect.Dx(), pic.Rect.Dy())
	ring(z, [][2]float64{tip,
		{cx - dx*l + nx*l*0.55, cy - dy*l + ny*l*0.55},
		{cx - dx*l*0.45, cy - dy*l*0.45},
		{cx - dx*l - nx*l*0.55, cy - dy*l - ny*l*0.55}})
	fill(pic, z, black)
	// The N just past the tip, inside the disc's rim.
	fc := face(max(8, 7*pt))
	defer fc.Close()
	nw := font.MeasureString(fc, "N").Ceil()
	asc := float64(fc.Metrics().CapHeight.Ceil())
	tx, ty := cx+dx*(l+asc*0.9), cy+dy*(l+asc*0.9)
	d := font.Drawer{Dst: pic, Src: image.NewUniform(black), Face: fc,
		Dot: fixed.P(int(math.Round(tx))-nw/2, int(math.Round(ty+asc/2)))}
	d.DrawString("N")
}

// drawShape strokes a shape in its colour (a polygon also lightly filled, a point as a
// dot with a white rim) and sets its label on a box of its colour above its top left.
func drawShape(pic *image.NRGBA, sh Shape, pt float64) {
	w, h := pic.Rect.Dx(), pic.Rect.Dy()
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, r := range sh.Rings {
		for _, p := range r {
			minX, minY, maxX, maxY = math.Min(minX, p[0]), math.Min(minY, p[1]), math.Max(maxX, p[0]), math.Max(maxY, p[1])
		}
	}
	lw := max(2, 1.5*pt)
	if maxX < -lw || maxY < -lw || minX > float64(w)+lw || minY > float64(h)+lw {
		return // wholly off the picture
	}
	switch sh.Kind {
	case "point":
		if len(sh.Rings) == 0 || len(sh.Rings[0]) == 0 {
			return
		}
		p := sh.Rings[0][0]
		z := vector.NewRasterizer(w, h)
		circle(z, p[0], p[1], 4*pt+lw)
		fill(pic, z, white)
		z = vector.NewRasterizer(w, h)
		circle(z, p[0], p[1], 4*pt)
		fill(pic, z, sh.Color)
	case "polygon":
		z := vector.NewRasterizer(w, h)
		for i, r := range sh.Rings {
			// Holes against the exterior's turn, so they stay empty.
			if i > 0 && (signedArea(r) > 0) == (signedArea(sh.Rings[0]) > 0) {
				r = reversed(r)
			}
			ring(z, r)
		}
		tint := sh.Color
		tint.A = 56
		fill(pic, z, tint)
		z = vector.NewRasterizer(w, h)
		for _, r := range sh.Rings {
			stroke(z, r, true, lw)
		}
		fill(pic, z, sh.Color)
	default: // a line
		z := vector.NewRasterizer(w, h)
		for _, r := range sh.Rings {
			stroke(z, r, false, lw)
		}
		fill(pic, z, sh.Color)
	}
	if sh.Label == "" {
		return
	}
	fc := face(max(9, 7*pt))
	defer fc.Close()
	pad := int(math.Round(max(2, 2*pt)))
	asc, desc := fc.Metrics().Ascent.Ceil(), fc.Metrics().Descent.Ceil()
	tw := font.MeasureString(fc, sh.Label).Ceil()
	bh := asc + desc + pad
	x := min(max(0, int(math.Round(minX))), w-tw-2*pad)
	y := int(math.Round(minY)) - int(lw) - bh
	if y < 0 { // no room above: below the top edge, inside
		y = int(math.Round(minY)) + int(lw)
	}
	box := image.Rect(x, y, x+tw+2*pad, y+bh)
	draw.Draw(pic, box, image.NewUniform(sh.Color), image.Point{}, draw.Src)
	ink := white
	if luma(sh.Color) > 150 {
		ink = black
	}
	d := font.Drawer{Dst: pic, Src: image.NewUniform(ink), Face: fc, Dot: fixed.P(x+pad, y+pad/2+asc)}
	d.DrawString(sh.Label)
}

func luma(c color.NRGBA) float64 { return 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B) }

func fill(dst *image.NRGBA, z *vector.Rasterizer, c color.NRGBA) {
	z.DrawOp = draw.Over
	z.Draw(dst, dst.Rect, image.NewUniform(c), image.Point{})
}

func ring(z *vector.Rasterizer, r [][2]float64) {
	if len(r) < 3 {
		return
	}
	z.MoveTo(float32(r[0][0]), float32(r[0][1]))
	for _, p := range r[1:] {
		z.LineTo(float32(p[0]), float32(p[1]))
	}
	z.ClosePath()
}

// circle adds a disc as a 32-sided polygon turning the way stroke's quads turn, so that
// where they overlap the coverage adds up rather than cancels.
func circle(z *vector.Rasterizer, cx, cy, r float64) {
	const n = 32
	pts := make([][2]float64, n)
	for i := range pts {
		a := -2 * math.Pi * float64(i) / n
		pts[i] = [2]float64{cx + r*math.Cos(a), cy + r*math.Sin(a)}
	}
	ring(z, pts)
}

// stroke adds a path of width w: a quad along each segment and a disc at each vertex
// (round joins and caps), all turning the same way.
func stroke(z *vector.Rasterizer, pts [][2]float64, closed bool, w float64) {
	if closed && len(pts) > 1 && pts[0] != pts[len(pts)-1] {
		pts = append(append([][2]float64(nil), pts...), pts[0])
	}
	for i := 0; i+1 < len(pts); i++ {
		a, b := pts[i], pts[i+1]
		dx, dy := b[0]-a[0], b[1]-a[1]
		l := math.Hypot(dx, dy)
		if l == 0 {
			continue
		}
		nx, ny := -dy/l*w/2, dx/l*w/2
		ring(z, [][2]float64{{a[0] + nx, a[1] + ny}, {b[0] + nx, b[1] + ny}, {b[0] - nx, b[1] - ny}, {a[0] - nx, a[1] - ny}})
	}
	for _, p := range pts {
		circle(z, p[0], p[1], w/2)
	}
}

func signedArea(r [][2]float64) float64 {
	a := 0.0
	for i := range r {
		p, q := r[i], r[(i+1)%len(r)]
		a += p[0]*q[1] - q[0]*p[1]
	}
	return a / 2
}

func reversed(r [][2]float64) [][2]float64 {
	out := make([][2]float64, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

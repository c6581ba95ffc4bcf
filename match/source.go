package match

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
)

// Source is an image as a tile pyramid: level k holds the image scaled by 1/2^k (its
// width ceil(width/2^k)), cut into TileSize-square tiles, tile (col, row) covering level
// pixels [col·TileSize, (col+1)·TileSize) × [row·TileSize, (row+1)·TileSize). Level 0 is
// full resolution. satmark's pyramids and webtiles.Source have this shape.
type Source interface {
	Size() (width, height int)
	Levels() int
	TileSize() int
	Tile(k, row, col int) (image.Image, error)
}

// grey is an 8-bit grey image, row-major.
type grey struct {
	w, h int
	pix  []uint8
}

func newGrey(w, h int) *grey { return &grey{w: w, h: h, pix: make([]uint8, w*h)} }

func (g *grey) at(x, y int) uint8 { return g.pix[y*g.w+x] }

// levelSize is the size of level k of a width×height image.
func levelSize(width, height, k int) (int, int) {
	s := 1 << k
	return (width + s - 1) / s, (height + s - 1) / s
}

// luma writes the grey values (Rec. 601 luma, as JPEG's Y) of img into dst at (x0, y0).
func luma(dst *grey, img image.Image, x0, y0 int) {
	b := img.Bounds()
	if yc, ok := img.(*image.YCbCr); ok {
		for y := b.Min.Y; y < b.Max.Y; y++ {
			dy := y0 + y - b.Min.Y
			if dy < 0 || dy >= dst.h {
				continue
			}
			row := yc.Y[yc.YOffset(b.Min.X, y):]
			for x := b.Min.X; x < b.Max.X; x++ {
				if dx := x0 + x - b.Min.X; dx >= 0 && dx < dst.w {
					dst.pix[dy*dst.w+dx] = row[x-b.Min.X]
				}
			}
		}
		return
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		dy := y0 + y - b.Min.Y
		if dy < 0 || dy >= dst.h {
			continue
		}
		for x := b.Min.X; x < b.Max.X; x++ {
			if dx := x0 + x - b.Min.X; dx >= 0 && dx < dst.w {
				dst.pix[dy*dst.w+dx] = color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
			}
		}
	}
}

// readLevel reads the whole of level k of src as grey.
func readLevel(src Source, k int) (*grey, error) {
	w, h := src.Size()
	lw, lh := levelSize(w, h, k)
	ts := src.TileSize()
	g := newGrey(lw, lh)
	for row := 0; row*ts < lh; row++ {
		for col := 0; col*ts < lw; col++ {
			t, err := src.Tile(k, row, col)
			if err != nil {
				return nil, fmt.Errorf("tile %d/%d/%d: %w", k, row, col, err)
			}
			luma(g, t, col*ts, row*ts)
		}
	}
	return g, nil
}

// sampler reads grey values of a Source at continuous full-resolution positions from
// any level, bilinearly, decoding each tile once. It holds at most maxTiles decoded
// tiles, so its memory is bounded however many points are sampled.
type sampler struct {
	src    Source
	w, h   int
	levels int
	ts     int
	tiles  map[[3]int]*grey
	err    error
}

const maxTiles = 96

func newSampler(src Source) *sampler {
	w, h := src.Size()
	return &sampler{src: src, w: w, h: h, levels: src.Levels(), ts: src.TileSize(), tiles: map[[3]int]*grey{}}
}

// level is the level to sample at for a spacing of step full-resolution pixels: the
// coarsest whose pixels are no larger than step.
func (s *sampler) level(step float64) int {
	k := int(math.Floor(math.Log2(math.Max(step, 1) + 1e-9)))
	return min(k, s.levels-1)
}

func (s *sampler) tile(k, row, col int) *grey {
	key := [3]int{k, row, col}
	if t, ok := s.tiles[key]; ok {
		return t
	}
	if len(s.tiles) >= maxTiles {
		clear(s.tiles)
	}
	img, err := s.src.Tile(k, row, col)
	if err != nil {
		s.err = err
		return nil
	}
	b := img.Bounds()
	t := newGrey(b.Dx(), b.Dy())
	luma(t, img, 0, 0)
	s.tiles[key] = t
	return t
}

// pixel is level k's grey value at integer level pixel (x, y), clamped to the level.
func (s *sampler) pixel(k, x, y int) float64 {
	lw, lh := levelSize(s.w, s.h, k)
	x, y = max(0, min(lw-1, x)), max(0, min(lh-1, y))
	t := s.tile(k, y/s.ts, x/s.ts)
	if t == nil {
		return 0
	}
	tx, ty := x%s.ts, y%s.ts
	if tx >= t.w || ty >= t.h {
		return 0
	}
	return float64(t.at(tx, ty))
}

// inside reports whether full-resolution position (x, y) is inside the image by margin.
func (s *sampler) inside(x, y, margin float64) bool {
	return x >= margin && y >= margin && x <= float64(s.w)-margin && y <= float64(s.h)-margin
}

// at is the grey value at full-resolution position (x, y) (pixel convention: (0,0) is
// the top-left corner) read bilinearly from level k.
func (s *sampler) at(k int, x, y float64) float64 {
	f := float64(int(1) << k)
	u, v := x/f-0.5, y/f-0.5
	x0, y0 := math.Floor(u), math.Floor(v)
	fx, fy := u-x0, v-y0
	i, j := int(x0), int(y0)
	a, b := s.pixel(k, i, j), s.pixel(k, i+1, j)
	c, d := s.pixel(k, i, j+1), s.pixel(k, i+1, j+1)
	return (a*(1-fx)+b*fx)*(1-fy) + (c*(1-fx)+d*fx)*fy
}

// ImageSource is an image in memory as a Source: its levels made by halving (2×2 means),
// as satmark's pyramids are, in 256-pixel tiles.
func ImageSource(img image.Image) Source {
	b := img.Bounds()
	g := newGrey(b.Dx(), b.Dy())
	if rgba, ok := img.(*image.RGBA); ok {
		for y := 0; y < g.h; y++ {
			for x := 0; x < g.w; x++ {
				i := rgba.PixOffset(b.Min.X+x, b.Min.Y+y)
				r, gg, bb := uint32(rgba.Pix[i]), uint32(rgba.Pix[i+1]), uint32(rgba.Pix[i+2])
				g.pix[y*g.w+x] = uint8((19595*r + 38470*gg + 7471*bb + 1<<15) >> 16)
			}
		}
	} else {
		luma(g, img, 0, 0)
	}
	levels := []*grey{g}
	for l := g; l.w > 256 || l.h > 256; {
		l = halve(l)
		levels = append(levels, l)
	}
	return &memSource{levels: levels}
}

type memSource struct{ levels []*grey }

func (m *memSource) Size() (int, int) { return m.levels[0].w, m.levels[0].h }
func (m *memSource) Levels() int      { return len(m.levels) }
func (m *memSource) TileSize() int    { return 256 }
func (m *memSource) Tile(k, row, col int) (image.Image, error) {
	if k < 0 || k >= len(m.levels) {
		return nil, fmt.Errorf("no level %d", k)
	}
	l := m.levels[k]
	r := image.Rect(col*256, row*256, min(l.w, (col+1)*256), min(l.h, (row+1)*256))
	if r.Empty() {
		return nil, fmt.Errorf("no tile %d/%d/%d", k, row, col)
	}
	out := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), &image.Gray{Pix: l.pix, Stride: l.w, Rect: image.Rect(0, 0, l.w, l.h)}, r.Min, draw.Src)
	return out, nil
}

// halve is g scaled by one half, each pixel the mean of the 2×2 it covers (edge pixels
// repeated where the size is odd).
func halve(g *grey) *grey {
	out := newGrey((g.w+1)/2, (g.h+1)/2)
	for y := 0; y < out.h; y++ {
		y0, y1 := 2*y, min(2*y+1, g.h-1)
		for x := 0; x < out.w; x++ {
			x0, x1 := 2*x, min(2*x+1, g.w-1)
			s := int(g.at(x0, y0)) + int(g.at(x1, y0)) + int(g.at(x0, y1)) + int(g.at(x1, y1))
			out.pix[y*out.w+x] = uint8((s + 2) / 4)
		}
	}
	return out
}

// resize is g resampled bilinearly to w×h (a reduction by at most 2, so no more
// prefiltering is needed than the pyramid level it is read from gives).
func resize(g *grey, w, h int) *grey {
	if w == g.w && h == g.h {
		return g
	}
	out := newGrey(w, h)
	fx, fy := float64(g.w)/float64(w), float64(g.h)/float64(h)
	for y := 0; y < h; y++ {
		v := (float64(y)+0.5)*fy - 0.5
		j := int(math.Floor(v))
		ty := v - float64(j)
		j0, j1 := max(0, min(g.h-1, j)), max(0, min(g.h-1, j+1))
		for x := 0; x < w; x++ {
			u := (float64(x)+0.5)*fx - 0.5
			i := int(math.Floor(u))
			tx := u - float64(i)
			i0, i1 := max(0, min(g.w-1, i)), max(0, min(g.w-1, i+1))
			a := float64(g.at(i0, j0))*(1-tx) + float64(g.at(i1, j0))*tx
			b := float64(g.at(i0, j1))*(1-tx) + float64(g.at(i1, j1))*tx
			out.pix[y*w+x] = uint8(a*(1-ty) + b*ty + 0.5)
		}
	}
	return out
}

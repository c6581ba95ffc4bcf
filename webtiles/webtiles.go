// Package webtiles renders web-Mercator map tiles (the XYZ scheme of OpenStreetMap: zoom
// z, column x from 180° W, row y from the north, 256 pixels square, EPSG:3857) of a
// georeferenced image: each output pixel's centre goes through the inverse of the image's
// transform to a position in the image, sampled bilinearly from the pyramid level nearest
// the tile's resolution; pixels outside the image are transparent. This is what `gdalwarp -t_srs EPSG:3857 -r bilinear` makes of the original
// over the tile's bounds, read from the pyramid instead of the original.
package webtiles

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sort"

	"github.com/satmark/satmark/geo"
)

// Size is a tile's width and height in pixels.
const Size = 256

// halfEarth is half the web-Mercator world's width in metres (π × 6378137).
const halfEarth = math.Pi * 6378137

// step is the spacing, in output pixels, of the grid of exact inverse positions between
// which the others are interpolated (GDAL's approximating transformer does the same; at
// 8 px the interpolation strays by far less than a source pixel for the transforms
// satmark fits, at the tile sizes it serves).
const step = 8

// ErrOutside means a tile's z/x/y is not a tile of the map (a column or row beyond the
// zoom's 2^z, a negative or too great zoom).
var ErrOutside = errors.New("no such tile")

// Bounds is a tile's extent in EPSG:3857 metres: west, south, east, north.
func Bounds(z, x, y int) (w, s, e, n float64) {
	size := 2 * halfEarth / float64(uint64(1)<<z)
	w = -halfEarth + float64(x)*size
	n = halfEarth - float64(y)*size
	return w, n - size, w + size, n
}

// LonLat turns EPSG:3857 metres into longitude and latitude in degrees.
func LonLat(mx, my float64) (lon, lat float64) {
	lon = mx / halfEarth * 180
	lat = (2*math.Atan(math.Exp(my/6378137)) - math.Pi/2) * 180 / math.Pi
	return lon, lat
}

// Mercator turns longitude and latitude in degrees into EPSG:3857 metres.
func Mercator(lon, lat float64) (mx, my float64) {
	lat = math.Max(-85.0511287798, math.Min(85.0511287798, lat))
	return lon / 180 * halfEarth, 6378137 * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360))
}

// Check refuses a z/x/y that is not a tile of the map, or a zoom over max.
func Check(z, x, y, max int) error {
	if z < 0 || z > max {
		return fmt.Errorf("zoom %d is outside 0–%d, the zooms this image has tiles at: %w", z, max, ErrOutside)
	}
	n := 1 << z
	if x < 0 || x >= n || y < 0 || y >= n {
		return fmt.Errorf("tile %d/%d/%d: at zoom %d x and y run from 0 to %d: %w", z, x, y, z, n-1, ErrOutside)
	}
	return nil
}

// MaxZoom is the deepest zoom an image has tiles at: two zooms past the one whose pixels
// are as large as the image's own at its centre (metresPerPixel), so the map can be
// zoomed in a little beyond the image's resolution, capped at 24.
func MaxZoom(metresPerPixel, lat float64) int {
	if !(metresPerPixel > 0) {
		return 18
	}
	// A zoom-z tile pixel covers 2π·6378137·cos(lat) / (256·2^z) metres on the ground.
	z := math.Log2(2 * halfEarth * math.Cos(lat*math.Pi/180) / (Size * metresPerPixel))
	return int(math.Max(0, math.Min(24, math.Ceil(z)+2)))
}

// Source is the pyramid a tile is sampled from: level k is the image scaled by 1/2^k,
// cut into tiles of TileSize pixels.
type Source interface {
	Size() (width, height int)
	Levels() int
	TileSize() int
	Tile(k, row, col int) (image.Image, error)
}

// Render makes tile z/x/y of an image placed by t. It reports empty when no pixel of the
// tile falls in the image (the caller may answer a shared transparent tile).
func Render(src Source, t geo.Transformer, z, x, y int) (img *image.NRGBA, empty bool, err error) {
	w, s, e, n := Bounds(z, x, y)
	const nodes = Size/step + 1
	type node struct {
		x, y float64
		ok   bool
	}
	var grid [nodes][nodes]node
	placed := false
	for j := 0; j < nodes; j++ {
		for i := 0; i < nodes; i++ {
			mx := w + (e-w)*float64(i*step)/Size
			my := n - (n-s)*float64(j*step)/Size
			lon, lat := LonLat(mx, my)
			px, py, err := t.Inverse(lon, lat)
			if err == nil && finite(px) && finite(py) {
				grid[j][i] = node{px, py, true}
				placed = true
			}
		}
	}
	out := image.NewNRGBA(image.Rect(0, 0, Size, Size))
	if !placed {
		return out, true, nil
	}
	width, height := src.Size()
	// The pyramid level nearest the tile's resolution (a level up to √2 coarser than a tile
	// pixel: sampling the finer one bilinearly would alias), from
	// the median spacing of the grid in image pixels.
	scale := gridScale(func(i, j int) (float64, float64, bool) { g := grid[j][i]; return g.x, g.y, g.ok }, nodes)
	k := 0
	for k+1 < src.Levels() && float64(int(1)<<(k+1)) <= scale*math.Sqrt2 {
		k++
	}
	sampler := newSampler(src, k, width, height)
	inside := false
	for j := 0; j < Size; j++ {
		fj := (float64(j) + 0.5) / step
		cj := min(int(fj), nodes-2)
		v := fj - float64(cj)
		for i := 0; i < Size; i++ {
			fi := (float64(i) + 0.5) / step
			ci := min(int(fi), nodes-2)
			u := fi - float64(ci)
			a, b, c, d := grid[cj][ci], grid[cj][ci+1], grid[cj+1][ci], grid[cj+1][ci+1]
			var px, py float64
			if a.ok && b.ok && c.ok && d.ok {
				px = (1-v)*((1-u)*a.x+u*b.x) + v*((1-u)*c.x+u*d.x)
				py = (1-v)*((1-u)*a.y+u*b.y) + v*((1-u)*c.y+u*d.y)
			} else { // near a transform's edge of validity: this pixel exactly
				mx := w + (e-w)*(float64(i)+0.5)/Size
				my := n - (n-s)*(float64(j)+0.5)/Size
				lon, lat := LonLat(mx, my)
				var err error
				if px, py, err = t.Inverse(lon, lat); err != nil || !finite(px) || !finite(py) {
					continue
				}
			}
			if px < 0 || py < 0 || px >= float64(width) || py >= float64(height) {
				continue
			}
			col, err := sampler.at(px, py)
			if err != nil {
				return nil, false, err
			}
			out.SetNRGBA(i, j, col)
			inside = true
		}
	}
	return out, !inside, nil
}

// gridScale is the median distance, in image pixels, between neighbouring grid nodes
// divided by their distance in tile pixels: how many image pixels a tile pixel spans.
func gridScale(at func(i, j int) (float64, float64, bool), nodes int) float64 {
	var d []float64
	for j := 0; j < nodes; j++ {
		for i := 0; i+1 < nodes; i++ {
			x0, y0, ok0 := at(i, j)
			x1, y1, ok1 := at(i+1, j)
			if ok0 && ok1 {
				d = append(d, math.Hypot(x1-x0, y1-y0)/step)
			}
		}
	}
	if len(d) == 0 {
		return 1
	}
	sort.Float64s(d)
	return d[len(d)/2]
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// sampler reads pixels of one pyramid level bilinearly, decoding each tile it needs once.
type sampler struct {
	src      Source
	k, tile  int
	w, h     int // the level's size
	scale    float64
	tiles    map[[2]int]*image.NRGBA
	lastKey  [2]int
	last     *image.NRGBA
	haveLast bool
}

func newSampler(src Source, k, width, height int) *sampler {
	s := 1 << k
	return &sampler{src: src, k: k, tile: src.TileSize(), w: (width + s - 1) / s, h: (height + s - 1) / s,
		scale: float64(s), tiles: map[[2]int]*image.NRGBA{}}
}

// pixel returns pixel (x, y) of the level, clamped to its edges.
func (s *sampler) pixel(x, y int) (color.NRGBA, error) {
	x = max(0, min(s.w-1, x))
	y = max(0, min(s.h-1, y))
	key := [2]int{y / s.tile, x / s.tile}
	t := s.last
	if !s.haveLast || key != s.lastKey {
		var ok bool
		if t, ok = s.tiles[key]; !ok {
			img, err := s.src.Tile(s.k, key[0], key[1])
			if err != nil {
				return color.NRGBA{}, err
			}
			t = toNRGBA(img)
			s.tiles[key] = t
		}
		s.last, s.lastKey, s.haveLast = t, key, true
	}
	lx, ly := x-key[1]*s.tile, y-key[0]*s.tile
	b := t.Bounds()
	lx, ly = min(lx, b.Dx()-1), min(ly, b.Dy()-1)
	o := t.PixOffset(b.Min.X+lx, b.Min.Y+ly)
	p := t.Pix[o : o+4 : o+4]
	return color.NRGBA{p[0], p[1], p[2], p[3]}, nil
}

// at samples the level bilinearly at full-resolution image position (px, py) (pixel
// centres at half-integers, DESIGN §4).
func (s *sampler) at(px, py float64) (color.NRGBA, error) {
	u, v := px/s.scale-0.5, py/s.scale-0.5
	x0, y0 := int(math.Floor(u)), int(math.Floor(v))
	fx, fy := u-float64(x0), v-float64(y0)
	var c [4]color.NRGBA
	for i, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
		p, err := s.pixel(x0+d[0], y0+d[1])
		if err != nil {
			return color.NRGBA{}, err
		}
		c[i] = p
	}
	wts := [4]float64{(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy}
	var r, g, b, a float64
	for i, p := range c {
		wa := wts[i] * float64(p.A)
		r += wa * float64(p.R)
		g += wa * float64(p.G)
		b += wa * float64(p.B)
		a += wa
	}
	if a == 0 {
		return color.NRGBA{}, nil
	}
	return color.NRGBA{uint8(r/a + 0.5), uint8(g/a + 0.5), uint8(b/a + 0.5), uint8(a + 0.5)}, nil
}

func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	b := img.Bounds()
	n := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(n, n.Bounds(), img, b.Min, draw.Src)
	return n
}

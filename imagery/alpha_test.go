package imagery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// Pixels that are "no data" (a nodata value, an alpha of 0, an internal mask, a PNG's
// transparency) are transparent in the tiles, which are then PNG; everything else keeps
// its JPEG tiles.

const alphaW, alphaH = 700, 520

// outside is the "no data" part of the test rasters: a border on the left and at the
// top, and a hole inside, with odd edges so that coarse levels have pixels partly
// covered.
func outside(x, y int) bool {
	return x < 41 || y < 31 || (x >= 301 && x < 339 && y >= 303 && y < 331)
}

// smooth16 is a scene of 16-bit values 200–4000 that differs by band, never 0.
func smooth16(band, x, y int) float64 {
	return 200 + 1900*(1+math.Sin(float64(x)/37+float64(band)))*(0.5+0.5*math.Cos(float64(y)/53))
}

type alphaCase struct {
	name  string
	data  func(t *testing.T) []byte
	bands []int // the bands GDAL shows, for the reference; nil for a format Go decodes
	path  string
}

func alphaCases(t *testing.T) []*alphaCase {
	dir := t.TempDir()
	read := func(t *testing.T, path string) []byte {
		t.Helper()
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	// Four 8-bit bands: colours, and a fourth that is 0 outside, 255 inside. The colours
	// outside are bright, so a pixel shown instead of hidden shows.
	rgbm := rastertest.Spec{Width: alphaW, Height: alphaH, Bands: 4, Type: "Byte", Value: func(b, x, y int) float64 {
		switch {
		case b == 4 && outside(x, y):
			return 0
		case b == 4:
			return 255
		case outside(x, y):
			return 230
		}
		return smooth16(b, x, y) * 255 / 4000
	}}
	cases := []*alphaCase{
		{name: "16-bit GeoTIFF, nodata 0", bands: []int{1, 2, 3}},
		{name: "RGBA GeoTIFF, alpha band", bands: []int{1, 2, 3}},
		{name: "GeoTIFF with an internal mask", bands: []int{1, 2, 3}},
		{name: "PNG with transparency, decoded by Go"},
	}
	cases[0].data = func(t *testing.T) []byte {
		spec := rastertest.Spec{Width: alphaW, Height: alphaH, Bands: 3, Type: "UInt16", Value: func(b, x, y int) float64 {
			if outside(x, y) {
				return 0
			}
			return smooth16(b, x, y)
		}}
		cases[0].path = rastertest.Make(t, dir, "nodata16.tif", spec, "-of", "GTiff", "-co", "PHOTOMETRIC=RGB", "-co", "TILED=YES", "-a_nodata", "0")
		return read(t, cases[0].path)
	}
	cases[1].data = func(t *testing.T) []byte {
		cases[1].path = rastertest.Make(t, dir, "rgba.tif", rgbm, "-of", "GTiff", "-co", "PHOTOMETRIC=RGB", "-co", "ALPHA=YES")
		return read(t, cases[1].path)
	}
	cases[2].data = func(t *testing.T) []byte {
		cases[2].path = rastertest.Make(t, dir, "masked.tif", rgbm, "-of", "GTiff", "-co", "PHOTOMETRIC=RGB", "-b", "1", "-b", "2", "-b", "3",
			"-mask", "4", "--config", "GDAL_TIFF_INTERNAL_MASK", "YES")
		return read(t, cases[2].path)
	}
	cases[3].data = func(t *testing.T) []byte {
		img := image.NewNRGBA(image.Rect(0, 0, alphaW, alphaH))
		for y := 0; y < alphaH; y++ {
			for x := 0; x < alphaW; x++ {
				c := color.NRGBA{byte(smooth16(1, x, y) * 255 / 4000), byte(smooth16(2, x, y) * 255 / 4000), byte(smooth16(3, x, y) * 255 / 4000), 255}
				if outside(x, y) {
					c = color.NRGBA{230, 230, 230, 0}
				}
				img.SetNRGBA(x, y, c)
			}
		}
		return encode(t, "png", img)
	}
	return cases
}

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode as PNG: %v", err)
	}
	return img
}

func nrgba(img image.Image, x, y int) color.NRGBA {
	b := img.Bounds()
	return color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
}

// render asks the library for a IIIF image of the whole image at w×h.
func render(t *testing.T, lib *imagery.Library, sha string, info imagery.Info, size, format string) image.Image {
	t.Helper()
	r, err := imagery.ParseIIIF("full", size, "0", "default."+format, info.Width, info.Height)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lib.Render(context.Background(), sha, info, r)
	if err != nil {
		t.Fatalf("render %s as %s: %v", size, format, err)
	}
	defer out.File.Close()
	img, _, err := image.Decode(out.File)
	if err != nil {
		t.Fatalf("decode the render: %v", err)
	}
	return img
}

func pngTileFile(root, sha string, k, row, col int) string {
	return strings.TrimSuffix(tileFile(root, sha, k, row, col), ".jpg") + ".png"
}

func TestNoDataIsTransparent(t *testing.T) {
	rastertest.Require(t)
	for _, tc := range alphaCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			lib, root := openLibrary(t, imagery.DefaultLimits)
			u, info := stored(t, lib, tc.data(t))
			m, err := lib.Pyramid(u.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != "png" {
				t.Errorf("the manifest says tiles are %q, want png", m.Format)
			}

			// Level 0, tile (0, 0): the corner, where the border meets the picture.
			data, err := lib.Tile(u.SHA256, info, 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			tile := decodePNG(t, data)
			var ref image.Image
			if tc.bands != nil {
				var stretch []rastertest.Stretch
				for _, s := range m.Display.Stretch {
					stretch = append(stretch, rastertest.Stretch{Min: s.Min, Max: s.Max})
				}
				ref = rastertest.Reference(t, tc.path, tc.bands, stretch, 0, 0, 256, 256, 256, 256)
			}
			wrongAlpha, sum, n := 0, 0.0, 0
			for y := 0; y < 256; y++ {
				for x := 0; x < 256; x++ {
					c := nrgba(tile, x, y)
					want := uint8(255)
					if outside(x, y) {
						want = 0
					}
					if c.A != want {
						if wrongAlpha++; wrongAlpha <= 3 {
							t.Errorf("pixel (%d, %d) has alpha %d, want %d", x, y, c.A, want)
						}
						continue
					}
					if want == 0 {
						continue
					}
					r := color.NRGBA{byte(smooth16(1, x, y) * 255 / 4000), byte(smooth16(2, x, y) * 255 / 4000), byte(smooth16(3, x, y) * 255 / 4000), 255}
					if ref != nil {
						r = nrgba(ref, x, y)
					}
					sum += math.Abs(float64(c.R)-float64(r.R)) + math.Abs(float64(c.G)-float64(r.G)) + math.Abs(float64(c.B)-float64(r.B))
					n += 3
				}
			}
			if wrongAlpha > 0 {
				t.Errorf("%d pixels of tile 0/0_0 have the wrong alpha", wrongAlpha)
			}
			if d := sum / float64(max(n, 1)); d > 1.5 {
				t.Errorf("the pixels with data differ from GDAL's read (after the stretch) by %.2f on average, want ≤ 1.5", d)
			}

			// The coarsest level: a pixel is transparent only when all it comes from is,
			// and its colour is the average of the pixels with data alone (no darker).
			full := render(t, lib, u.SHA256, info, "max", "png")
			k := len(m.Levels) - 1
			lv := m.Levels[k]
			topData, err := lib.Tile(u.SHA256, info, k, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			top, partial := decodePNG(t, topData), 0
			for y := 0; y < lv.Height; y++ {
				for x := 0; x < lv.Width; x++ {
					var cr, cg, cb, ca float64
					count := 0
					for sy := y * lv.Scale; sy < min(alphaH, (y+1)*lv.Scale); sy++ {
						for sx := x * lv.Scale; sx < min(alphaW, (x+1)*lv.Scale); sx++ {
							c := nrgba(full, sx, sy)
							a := float64(c.A)
							cr, cg, cb, ca = cr+a*float64(c.R), cg+a*float64(c.G), cb+a*float64(c.B), ca+a
							count++
						}
					}
					got := nrgba(top, x, y)
					if ca == 0 {
						if got.A != 0 {
							t.Fatalf("level %d pixel (%d, %d): alpha %d, want 0 (all its sources are transparent)", k, x, y, got.A)
						}
						continue
					}
					if got.A == 0 || math.Abs(float64(got.A)-ca/float64(count)) > 4 {
						t.Fatalf("level %d pixel (%d, %d): alpha %d, want about %.0f", k, x, y, got.A, ca/float64(count))
					}
					if got.A < 255 {
						partial++
					}
					if math.Abs(float64(got.R)-cr/ca) > 3 || math.Abs(float64(got.G)-cg/ca) > 3 || math.Abs(float64(got.B)-cb/ca) > 3 {
						t.Fatalf("level %d pixel (%d, %d) alpha %d: colour %v, want about %.0f,%.0f,%.0f (the pixels with data, weighted by alpha)",
							k, x, y, got.A, got, cr/ca, cg/ca, cb/ca)
					}
				}
			}
			if partial == 0 {
				t.Errorf("no pixel of level %d is partly covered; the test shows nothing of the edges", k)
			}

			// A .jpg of the image is composited over white; the PNG keeps its alpha.
			jpg := render(t, lib, u.SHA256, info, "350,", "jpg")
			if c := nrgba(jpg, 5, 100); c.R < 245 || c.G < 245 || c.B < 245 {
				t.Errorf("the .jpg shows a pixel without data as %v, want white", c)
			}
			half := render(t, lib, u.SHA256, info, "350,", "png")
			if c := nrgba(half, 5, 100); c.A != 0 {
				t.Errorf("the .png shows a pixel without data with alpha %d, want 0", c.A)
			}
			if c, want := nrgba(jpg, 200, 200), nrgba(half, 200, 200); want.A != 255 || !near(c, want, 12) {
				t.Errorf("the .jpg shows a pixel with data as %v, want about %v", c, want)
			}

			// The thumbnail is a JPEG on white.
			thumb, err := os.ReadFile(lib.ThumbnailPath(u.SHA256))
			if err != nil {
				t.Fatal(err)
			}
			ti := decodeJPEG(t, thumb)
			if c := nrgba(ti, 5, 200); c.R < 240 || c.G < 240 || c.B < 240 {
				t.Errorf("the thumbnail shows a pixel without data as %v, want white", c)
			}
			if c, want := nrgba(ti, 300, 300), nrgba(render(t, lib, u.SHA256, info, "512,", "png"), 300, 300); !near(c, want, 16) {
				t.Errorf("the thumbnail shows %v at (300, 300), want about %v", c, want)
			}

			// Tiles deleted from disk are rebuilt to the same PNG bytes.
			for _, kk := range []int{0, k} {
				path := pngTileFile(root, u.SHA256, kk, 0, 0)
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				fresh, err := imagery.Open(root, imagery.DefaultLimits)
				if err != nil {
					t.Fatal(err)
				}
				got, err := fresh.Tile(u.SHA256, info, kk, 0, 0)
				if err != nil {
					t.Fatalf("repair tile %d/0_0: %v", kk, err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("the repaired tile %d/0_0 differs from the one built", kk)
				}
				if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, want) {
					t.Errorf("tile %d/0_0 was not repaired on disk", kk)
				}
			}
		})
	}
}

// Images where every pixel has data keep JPEG tiles, and a manifest written before tiles
// could be PNG still reads, as JPEG.
func TestOpaqueImagesKeepJPEGTiles(t *testing.T) {
	rastertest.Require(t)
	dir := t.TempDir()
	tif := func(name string, spec rastertest.Spec, args ...string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			data, err := os.ReadFile(rastertest.Make(t, dir, name, spec, args...))
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
	cases := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"JPEG", func(t *testing.T) []byte { return photo(t, 600, 400, 7) }},
		{"PNG without transparency", func(t *testing.T) []byte { return encode(t, "png", scene(300, 200)) }},
		{"16-bit GeoTIFF without nodata", tif("plain16.tif", rastertest.Spec{Width: 600, Height: 400, Bands: 3, Type: "UInt16", Value: smooth16},
			"-of", "GTiff", "-co", "PHOTOMETRIC=RGB")},
		{"8-bit RGB GeoTIFF", tif("plain8.tif", rastertest.Spec{Width: 600, Height: 400, Bands: 3, Type: "Byte",
			Value: func(b, x, y int) float64 { return smooth16(b, x, y) * 255 / 4000 }}, "-of", "GTiff", "-co", "PHOTOMETRIC=RGB")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lib, root := openLibrary(t, imagery.DefaultLimits)
			u, info := stored(t, lib, tc.data(t))
			m, err := lib.Pyramid(u.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if m.Format != "jpg" || m.Version != 1 {
				t.Errorf("got manifest version %d, tiles %q; want version 1, jpg", m.Version, m.Format)
			}
			data, err := lib.Tile(u.SHA256, info, 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}) {
				t.Errorf("tile 0/0_0 starts % x, want a JPEG", data[:4])
			}
			if _, err := os.Stat(tileFile(root, u.SHA256, 0, 0, 0)); err != nil {
				t.Errorf("no JPEG tile file: %v", err)
			}
			if _, err := os.Stat(pngTileFile(root, u.SHA256, 0, 0, 0)); err == nil {
				t.Errorf("a PNG tile was written for an image without transparency")
			}

			// The manifest as satmark wrote it before PNG tiles: no format.
			mpath := filepath.Join(filepath.Dir(filepath.Dir(tileFile(root, u.SHA256, 0, 0, 0))), "manifest.json")
			raw, err := os.ReadFile(mpath)
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]any
			if err := json.Unmarshal(raw, &fields); err != nil || fields["format"] != "jpg" {
				t.Fatalf("the manifest (%v) has no format jpg:\n%s", err, raw)
			}
			delete(fields, "format")
			old, err := json.Marshal(fields)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(mpath, old, 0o644); err != nil {
				t.Fatal(err)
			}
			fresh, err := imagery.Open(root, imagery.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if m, err := fresh.Pyramid(u.SHA256); err != nil || m.Format != "jpg" {
				t.Fatalf("the old manifest: got %v, %v; want it read as jpg", m, err)
			}
			again, err := fresh.Tile(u.SHA256, info, 0, 0, 0)
			if err != nil || !bytes.Equal(again, data) {
				t.Errorf("the tile through the old manifest: %v, same bytes %v", err, bytes.Equal(again, data))
			}
		})
	}
}

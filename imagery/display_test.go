package imagery_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// rebuilt builds the pyramid again with display d and returns its tile 0/0_0.
func rebuilt(t *testing.T, lib *imagery.Library, sha string, info imagery.Info, d *imagery.Display) image.Image {
	t.Helper()
	info.Display = d
	if err := lib.BuildPyramid(context.Background(), sha, info, nil); err != nil {
		t.Fatalf("build with %+v: %v", d, err)
	}
	m, err := lib.Pyramid(sha)
	if err != nil || m.Display.Tag() != d.Tag() {
		t.Fatalf("the manifest's display is %+v (%v), want %+v", m.Display, err, d)
	}
	data, err := lib.Tile(sha, info, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return decodeJPEG(t, data)
}

// A single 16-bit band shown with a gamma matches gdal_translate's -exponent 1/gamma of
// the same stretch; through a colour ramp its darkest and brightest values take the
// ramp's ends.
func TestDisplayGammaAndRamp(t *testing.T) {
	rastertest.Require(t)
	spec := rastertest.Spec{Width: 300, Height: 256, Bands: 2, Type: "UInt16",
		Value: func(b, x, y int) float64 { return float64(x) * 4000 / 299 }}
	path := rastertest.Make(t, t.TempDir(), "band.tif", spec, "-of", "GTiff")
	lib, _, u, info := buildRaster(t, path)

	gamma := &imagery.Display{Bands: []int{1}, Stretch: []imagery.Stretch{{Min: 0, Max: 4000, From: imagery.StretchManual}}, Gamma: 2}
	tile := rebuilt(t, lib, u.SHA256, info, gamma)
	out := filepath.Join(t.TempDir(), "gamma.png")
	rastertest.Translate(t, "-q", "-of", "PNG", "-ot", "Byte", "-srcwin", "0", "0", "256", "256", "-b", "1", "-b", "1", "-b", "1",
		"-scale", "0", "4000", "0", "255", "-exponent", "0.5", path, out)
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if d := rastertest.MeanAbsDiff(tile, ref, 256, 256); d > 2 {
		t.Errorf("gamma 2 differs from gdal_translate -exponent 0.5 by %.2f on average, want ≤ 2", d)
	}
	// x = 75 holds about 1003: a quarter of the stretch, half bright with gamma 2.
	if r, _, _, _ := tile.At(75, 100).RGBA(); r>>8 < 120 || r>>8 > 136 {
		t.Errorf("a quarter of the stretch shows as %d with gamma 2, want about 128", r>>8)
	}

	ramp := &imagery.Display{Bands: []int{1}, Stretch: []imagery.Stretch{{Min: 100, Max: 1000, From: imagery.StretchManual}}, Gamma: 1, Ramp: "viridis"}
	tile = rebuilt(t, lib, u.SHA256, info, ramp)
	for _, tc := range []struct {
		x       int
		r, g, b uint32
	}{{2, 68, 1, 84}, {200, 253, 231, 37}} {
		r, g, b, _ := tile.At(tc.x, 100).RGBA()
		if diff(r>>8, tc.r) > 10 || diff(g>>8, tc.g) > 10 || diff(b>>8, tc.b) > 10 {
			t.Errorf("x = %d through viridis shows %d,%d,%d, want about %d,%d,%d", tc.x, r>>8, g>>8, b>>8, tc.r, tc.g, tc.b)
		}
	}
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

// CheckDisplay refuses what cannot be shown, naming the field.
func TestCheckDisplay(t *testing.T) {
	r16 := imagery.Raster{Bands: 4, DataType: "UInt16"}
	st := func(n int) []imagery.Stretch {
		out := make([]imagery.Stretch, n)
		for i := range out {
			out[i] = imagery.Stretch{Min: 0, Max: 1}
		}
		return out
	}
	tests := []struct {
		name  string
		d     imagery.Display
		r     imagery.Raster
		field string
	}{
		{"ok, three bands stretched", imagery.Display{Bands: []int{4, 3, 2}, Stretch: st(3), Gamma: 1}, r16, ""},
		{"ok, one band through a ramp", imagery.Display{Bands: []int{4}, Stretch: st(1), Gamma: 0.5, Ramp: "terrain"}, r16, ""},
		{"ok, 8-bit as stored", imagery.Display{Bands: []int{1, 2, 3}, Gamma: 1}, imagery.Raster{Bands: 3, DataType: "Byte"}, ""},
		{"nok, 16-bit without a stretch", imagery.Display{Bands: []int{1, 2, 3}, Gamma: 1}, r16, "stretch"},
		{"nok, band 5 of 4", imagery.Display{Bands: []int{5, 3, 2}, Stretch: st(3), Gamma: 1}, r16, "bands"},
		{"nok, two bands", imagery.Display{Bands: []int{1, 2}, Stretch: st(2), Gamma: 1}, r16, "bands"},
		{"nok, min equals max", imagery.Display{Bands: []int{1}, Stretch: []imagery.Stretch{{Min: 5, Max: 5}}, Gamma: 1}, r16, "stretch[0]"},
		{"nok, gamma above 10", imagery.Display{Bands: []int{1}, Stretch: st(1), Gamma: 10.5}, r16, "gamma"},
		{"nok, a palette", imagery.Display{Bands: []int{1}, Palette: true, Gamma: 1}, imagery.Raster{Bands: 1, DataType: "Byte"}, "palette"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := imagery.CheckDisplay(&tc.d, tc.r)
			var de *imagery.DisplayError
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("got %v, want it accepted", err)
			case tc.field != "" && (!errors.As(err, &de) || de.Field != tc.field):
				t.Errorf("got %v, want a DisplayError on %s", err, tc.field)
			}
		})
	}
}

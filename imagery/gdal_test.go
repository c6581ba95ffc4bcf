package imagery_test

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// Rasters read through GDAL: what Inspect says of them before any pixel is read, the
// limits, and the display chosen for palettes and for data with no overviews.

func TestInspectAsksGDAL(t *testing.T) {
	dir := t.TempDir()
	spec := rastertest.Spec{Width: 1100, Height: 900, Bands: 4, Type: "UInt16",
		Value: func(b, x, y int) float64 { return float64(1 + (x*b+y)%4000) }}
	path := rastertest.Make(t, dir, "planet.tif", spec, "-of", "COG", "-co", "COMPRESS=DEFLATE", "-a_nodata", "0")
	info, err := imagery.Inspect(path, imagery.DefaultLimits)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	if info.MediaType != "image/tiff" || info.Width != 1100 || info.Height != 900 || info.Orientation != 1 {
		t.Errorf("got %+v, want a 1100×900 image/tiff", info)
	}
	r := info.Raster
	if r == nil {
		t.Fatal("got no raster facts")
	}
	zero := 0.0
	want := imagery.Raster{Driver: "GTiff", Bands: 4, DataType: "UInt16",
		ColorInterp: []string{"Gray", "Undefined", "Undefined", "Undefined"},
		NoData:      []*float64{&zero, &zero, &zero, &zero}, Overviews: r.Overviews}
	if !reflect.DeepEqual(*r, want) || r.Overviews < 1 {
		t.Errorf("got %+v, want %+v with the COG's overviews", *r, want)
	}
}

func TestInspectLimitsGDALRasters(t *testing.T) {
	dir := t.TempDir()
	small := rastertest.Spec{Width: 64, Height: 64, Bands: 3, Type: "UInt16", Value: func(b, x, y int) float64 { return float64(x * y) }}
	many := rastertest.Spec{Width: 2, Height: 2, Bands: 1025, Type: "Byte", Value: func(b, x, y int) float64 { return float64(b) }}
	tests := []struct {
		name   string
		path   string
		limits imagery.Limits
		want   error
		words  string
	}{
		{"nok, over the pixel limit", rastertest.Make(t, dir, "small.tif", small), imagery.Limits{MaxPixels: 64*64 - 1}, imagery.ErrTooLarge, "megapixels"},
		{"nok, over the byte limit", rastertest.Make(t, dir, "small2.tif", small), imagery.Limits{MaxBytes: 1000}, imagery.ErrTooLarge, "bytes"},
		{"nok, 1025 bands", rastertest.Make(t, dir, "many.tif", many, "-co", "INTERLEAVE=BAND"), imagery.DefaultLimits, imagery.ErrUnsupportedMedia, "1025 bands"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := imagery.Inspect(tt.path, tt.limits)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.words) {
				t.Errorf("got %v, want %v saying %q", err, tt.want, tt.words)
			}
		})
	}
}

// Images decoded whole in memory (GIF, progressive JPEG, …) have a lower pixel limit than
// the streamed ones (baseline JPEG, PNG, GeoTIFF), which may be as large as MaxPixels.
func TestInspectLimitsImagesDecodedWhole(t *testing.T) {
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 64, 32))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var pngData, gifData, jpegData bytes.Buffer
	if err := png.Encode(&pngData, img); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gifData, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpegData, img, nil); err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	baseline := write("baseline.jpg", jpegData.Bytes())
	progressive := filepath.Join(dir, "progressive.jpg")
	rastertest.Translate(t, "-q", "-of", "JPEG", "-co", "PROGRESSIVE=ON", baseline, progressive)
	tiff := rastertest.Make(t, dir, "scene.tif", rastertest.Spec{Width: 64, Height: 32, Bands: 3, Type: "Byte",
		Value: func(b, x, y int) float64 { return float64(x + y + b) }})
	limits := imagery.Limits{MaxPixels: 64 * 32, MaxWholePixels: 64*32 - 1}
	tests := []struct {
		name, path string
		refused    bool
	}{
		{"nok, a GIF over the limit for images decoded whole", write("scene.gif", gifData.Bytes()), true},
		{"nok, a progressive JPEG over it", progressive, true},
		{"ok, a PNG (streamed by GDAL) under MaxPixels", write("scene.png", pngData.Bytes()), false},
		{"ok, a baseline JPEG (streamed) under MaxPixels", baseline, false},
		{"ok, a GeoTIFF (streamed) under MaxPixels", tiff, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := imagery.Inspect(tt.path, limits)
			switch {
			case tt.refused && (!errors.Is(err, imagery.ErrTooLarge) || !strings.Contains(err.Error(), "decoded whole")):
				t.Errorf("got %v, want ErrTooLarge saying it is decoded whole", err)
			case !tt.refused && err != nil:
				t.Errorf("got %v, want it accepted", err)
			}
		})
	}
}

// buildRaster stores the raster at path in a new library, builds its pyramid and returns
// the library, the manifest and the image's info.
func buildRaster(t *testing.T, path string) (*imagery.Library, *imagery.Manifest, *imagery.Upload, imagery.Info) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lib, _ := openLibrary(t, imagery.DefaultLimits)
	u, info := stored(t, lib, data)
	m, err := lib.Pyramid(u.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return lib, m, u, info
}

func TestPalettedRasterIsShownThroughItsColourTable(t *testing.T) {
	rastertest.Require(t)
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{200, 40, 30, 255}, color.RGBA{20, 160, 60, 255}}
	img := image.NewPaletted(image.Rect(0, 0, 300, 200), pal)
	for y := 0; y < 200; y++ {
		for x := 0; x < 300; x++ {
			img.SetColorIndex(x, y, uint8(1+x/150))
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "classes.png")
	if err := os.WriteFile(src, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "classes.tif")
	rastertest.Translate(t, "-q", "-of", "GTiff", src, path)
	lib, m, u, info := buildRaster(t, path)
	if m.Display == nil || !m.Display.Palette || len(m.Display.Stretch) != 0 {
		t.Fatalf("got display %+v, want the colour table, no stretch", m.Display)
	}
	tile, err := lib.Tile(u.SHA256, info, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	shown := decodeJPEG(t, tile)
	if c := shown.At(50, 100); !near(c, color.NRGBA{200, 40, 30, 255}, 24) {
		t.Errorf("class 1 shows as %v, want about 200,40,30", c)
	}
	if c := shown.At(250, 100); !near(c, color.NRGBA{20, 160, 60, 255}, 24) {
		t.Errorf("class 2 shows as %v, want about 20,160,60", c)
	}
}

// A large 16-bit raster without overviews is stretched from a grid of windows: the
// percentiles still land on the 2 % and 98 % points of its values.
func TestStretchOfALargeRasterWithoutOverviews(t *testing.T) {
	spec := rastertest.Spec{Width: 2560, Height: 2048, Bands: 1, Type: "UInt16",
		Value: func(b, x, y int) float64 { return float64((x*7 + y*13) % 4001) }}
	path := rastertest.Make(t, t.TempDir(), "big.tif", spec, "-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE")
	_, m, _, _ := buildRaster(t, path)
	if m.Display == nil || len(m.Display.Stretch) != 1 || !strings.Contains(m.Display.Method, "windows") {
		t.Fatalf("got display %+v, want a stretch from a grid of windows", m.Display)
	}
	for c, s := range m.Display.Stretch {
		if math.Abs(s.Min-80) > 40 || math.Abs(s.Max-3920) > 40 {
			t.Errorf("channel %d: got stretch %+v, want about 80–3920 (2 %% and 98 %% of values spread over 0–4000)", c, s)
		}
	}
}

func decodeJPEG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	return img
}

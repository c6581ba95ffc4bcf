package ingest_test

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
	"github.com/satmark/satmark/ingest"
)

// scene16 is a 12-bit scene in 16-bit samples (0–4000): smooth ramps that differ by band,
// with a bright square, so a stretch, a band swap or a shifted window all show.
func scene16(band, x, y int) float64 {
	v := 200 + 1800*(1+math.Sin(float64(x)/37+float64(band)))*(0.5+0.5*math.Cos(float64(y)/53))
	if x > 60 && x < 140 && y > 60 && y < 140 {
		v = 4000 - 300*float64(band)
	}
	return math.Min(4000, v)
}

// scene8 is the same in 8-bit samples.
func scene8(band, x, y int) float64 { return scene16(band, x, y) * 255 / 4000 }

// rasterCase is one raster format uploaded through ingest.
type rasterCase struct {
	name      string
	file      string // the name gdal_translate writes (some drivers go by the extension)
	driver    string // GDAL driver that must be present to make it
	spec      rastertest.Spec
	args      []string
	mediaType string
	bands     []int
	stretched bool
	noData    bool // columns 0–39 hold the nodata value and must be transparent (PNG tiles)
}

func rasterCases() []rasterCase {
	const w, h = 700, 520
	rgb16 := rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "UInt16", Value: scene16}
	rgb8 := rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "Byte", Value: scene8}
	return []rasterCase{
		{"4-band 16-bit GeoTIFF", "planet.tif", "GTiff", rastertest.Spec{Width: w, Height: h, Bands: 4, Type: "UInt16", Value: scene16},
			[]string{"-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=LZW"}, "image/tiff", []int{1, 2, 3}, true, false},
		{"16-bit RGB with values 0–4000", "rgb16.tif", "GTiff", rgb16,
			[]string{"-of", "GTiff", "-co", "PHOTOMETRIC=RGB"}, "image/tiff", []int{1, 2, 3}, true, false},
		{"16-bit RGB in 512×512 tiles (taller than a tile row)", "tiles512.tif", "GTiff", rgb16,
			[]string{"-of", "GTiff", "-co", "TILED=YES", "-co", "BLOCKXSIZE=512", "-co", "BLOCKYSIZE=512", "-co", "COMPRESS=DEFLATE",
				"-co", "PHOTOMETRIC=RGB"}, "image/tiff", []int{1, 2, 3}, true, false},
		{"signed 16-bit with negative values", "int16.tif", "GTiff", rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "Int16",
			Value: func(b, x, y int) float64 { return scene16(b, x, y) - 2000 }},
			[]string{"-of", "GTiff", "-co", "PHOTOMETRIC=RGB"}, "image/tiff", []int{1, 2, 3}, true, false},
		{"8-band 16-bit GeoTIFF, band-interleaved strips of 16 rows", "eight.tif", "GTiff", rastertest.Spec{Width: w, Height: h, Bands: 8, Type: "UInt16", Value: scene16},
			[]string{"-of", "GTiff", "-co", "INTERLEAVE=BAND", "-co", "BLOCKYSIZE=16"}, "image/tiff", []int{1, 2, 3}, true, false},
		{"2-band 16-bit GeoTIFF (shown as grey)", "two.tif", "GTiff", rastertest.Spec{Width: w, Height: h, Bands: 2, Type: "UInt16", Value: scene16},
			[]string{"-of", "GTiff", "-co", "TILED=YES"}, "image/tiff", []int{1}, true, false},
		{"16-bit RGB with nodata, tiled", "nodata16.tif", "GTiff", rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "UInt16",
			Value: func(b, x, y int) float64 {
				if x < 40 {
					return 0
				}
				return scene16(b, x, y)
			}}, []string{"-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", "-a_nodata", "0"}, "image/tiff", []int{1, 2, 3}, true, true},
		{"JPEG-compressed YCbCr tiled COG", "cog.tif", "COG", rastertest.Spec{Width: 1280, Height: 1024, Bands: 3, Type: "Byte", Value: scene8},
			[]string{"-of", "COG", "-co", "COMPRESS=JPEG", "-co", "BLOCKSIZE=256"}, "image/tiff", []int{1, 2, 3}, false, false},
		{"8-bit deflate-tiled TIFF", "deflate.tif", "GTiff", rgb8,
			[]string{"-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", "-co", "PHOTOMETRIC=RGB"}, "image/tiff", []int{1, 2, 3}, false, false},
		{"BigTIFF", "big.tif", "GTiff", rgb8,
			[]string{"-of", "GTiff", "-co", "BIGTIFF=YES", "-co", "PHOTOMETRIC=RGB"}, "image/tiff", []int{1, 2, 3}, false, false},
		{"single-band float32 with nodata", "float.tif", "GTiff", rastertest.Spec{Width: w, Height: h, Bands: 1, Type: "Float32",
			Value: func(b, x, y int) float64 {
				if x < 40 {
					return 9999
				}
				return scene16(b, x, y) / 4000
			}}, []string{"-of", "GTiff", "-a_nodata", "9999"}, "image/tiff", []int{1}, true, true},
		{"JPEG 2000", "tci.jp2", "JP2OpenJPEG", rgb8, []string{"-of", "JP2OpenJPEG", "-co", "QUALITY=100", "-co", "REVERSIBLE=YES"},
			"image/jp2", []int{1, 2, 3}, false, false},
		{"JPEG 2000 codestream, 16-bit", "scene.j2k", "JP2OpenJPEG", rgb16, []string{"-of", "JP2OpenJPEG", "-co", "CODEC=J2K",
			"-co", "QUALITY=100", "-co", "REVERSIBLE=YES"}, "image/x-jp2-codestream", []int{1, 2, 3}, true, false},
		{"NITF", "scene.ntf", "NITF", rgb8, []string{"-of", "NITF", "-co", "IREP=RGB"}, "application/vnd.nitf", []int{1, 2, 3}, false, false},
		{"ERDAS IMG, 16-bit", "scene.img", "HFA", rgb16, []string{"-of", "HFA"}, "application/x-erdas-hfa", []int{1, 2, 3}, true, false},
		// PNG is read by GDAL too, a line at a time; 16-bit PNG gets the default stretch.
		{"PNG, 8-bit RGB", "rgb.png", "PNG", rgb8, []string{"-of", "PNG"}, "image/png", []int{1, 2, 3}, false, false},
		{"PNG, 16-bit RGB", "rgb16.png", "PNG", rgb16, []string{"-of", "PNG"}, "image/png", []int{1, 2, 3}, true, false},
		{"PNG, 8-bit grey", "grey.png", "PNG", rastertest.Spec{Width: w, Height: h, Bands: 1, Type: "Byte", Value: scene8},
			[]string{"-of", "PNG"}, "image/png", []int{1}, false, false},
		{"PNG, 16-bit grey", "grey16.png", "PNG", rastertest.Spec{Width: w, Height: h, Bands: 1, Type: "UInt16", Value: scene16},
			[]string{"-of", "PNG"}, "image/png", []int{1}, true, false},
		{"PNG, grey and alpha", "greya.png", "PNG", rastertest.Spec{Width: w, Height: h, Bands: 2, Type: "Byte", Value: opaque(scene8, 2, 255)},
			[]string{"-of", "PNG"}, "image/png", []int{1}, false, false},
		{"PNG, RGBA", "rgba.png", "PNG", rastertest.Spec{Width: w, Height: h, Bands: 4, Type: "Byte", Value: opaque(scene8, 4, 255)},
			[]string{"-of", "PNG"}, "image/png", []int{1, 2, 3}, false, false},
		{"PNG, 16-bit RGBA", "rgba16.png", "PNG", rastertest.Spec{Width: w, Height: h, Bands: 4, Type: "UInt16", Value: opaque(scene16, 4, 65535)},
			[]string{"-of", "PNG"}, "image/png", []int{1, 2, 3}, true, false},
	}
}

// opaque is value with band alpha (the last) fully opaque, at max.
func opaque(value func(band, x, y int) float64, alpha int, max float64) func(band, x, y int) float64 {
	return func(band, x, y int) float64 {
		if band == alpha {
			return max
		}
		return value(band, x, y)
	}
}

// decodeTile decodes a tile, JPEG or PNG.
func decodeTile(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	return img
}

// TestImageReadsRastersThroughGDAL uploads each raster format through ingest, builds its
// pyramid, and compares tiles at full resolution and at the coarsest level with GDAL's
// own read of the same window (gdal_translate, after the stretch the manifest states). A
// tile deleted from disk is rebuilt from a windowed read to the same bytes.
func TestImageReadsRastersThroughGDAL(t *testing.T) {
	rastertest.Require(t)
	ctx := context.Background()
	for _, tc := range rasterCases() {
		t.Run(tc.name, func(t *testing.T) {
			if !rastertest.HasDriver(t, tc.driver) {
				t.Skipf("GDAL has no %s driver here", tc.driver)
			}
			e := newEnv(t)
			path := rastertest.Make(t, t.TempDir(), tc.file, tc.spec, tc.args...)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			img, _, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, data), newImage(annotations.Provenance{}), ingest.Sidecar{})
			if err != nil {
				t.Fatalf("ingest: %v", err)
			}
			if img.MediaType != tc.mediaType || img.Width != tc.spec.Width || img.Height != tc.spec.Height {
				t.Fatalf("got %s %d×%d, want %s %d×%d", img.MediaType, img.Width, img.Height, tc.mediaType, tc.spec.Width, tc.spec.Height)
			}
			info := imagery.Info{MediaType: img.MediaType, Width: img.Width, Height: img.Height, Orientation: img.Orientation}
			if err := e.lib.BuildPyramid(ctx, img.SHA256, info, nil); err != nil {
				t.Fatalf("build: %v", err)
			}
			m, err := e.lib.Pyramid(img.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if m.Display == nil || !slices.Equal(m.Display.Bands, tc.bands) || (len(m.Display.Stretch) > 0) != tc.stretched {
				t.Fatalf("got display %+v, want bands %v, stretched %v", m.Display, tc.bands, tc.stretched)
			}
			var stretch []rastertest.Stretch
			for _, s := range m.Display.Stretch {
				stretch = append(stretch, rastertest.Stretch{Min: s.Min, Max: s.Max})
			}
			// Level 0, tile (1, 1): a full 256×256 window away from the corner. The
			// tile file is deleted first, so it is served repaired from a windowed read.
			// A PNG with an alpha channel has PNG tiles however opaque its alpha is.
			alphaBand := tc.driver == "PNG" && (tc.spec.Bands == 2 || tc.spec.Bands == 4)
			if want := map[bool]string{false: imagery.TileJPEG, true: imagery.TilePNG}[tc.noData || alphaBand]; m.Format != want {
				t.Errorf("got %s tiles, want %s", m.Format, want)
			}
			tilePath := filepath.Join(e.root, "derived", img.SHA256[:2], img.SHA256, "pyramid", "0", "1_1."+m.Format)
			built, err := os.ReadFile(tilePath)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(tilePath); err != nil {
				t.Fatal(err)
			}
			repaired, err := e.lib.Tile(img.SHA256, info, 0, 1, 1)
			if err != nil {
				t.Fatalf("repair tile 0/1_1: %v", err)
			}
			if !bytes.Equal(repaired, built) {
				t.Errorf("the repaired tile differs from the one the build wrote")
			}
			ref := rastertest.Reference(t, path, tc.bands, stretch, 256, 256, 256, 256, 256, 256)
			if d := rastertest.MeanAbsDiff(decodeTile(t, repaired), ref, 256, 256); d > 3 {
				t.Errorf("tile 0/1_1 differs from GDAL's read by %.2f on average, want ≤ 3", d)
			}
			if alphaBand {
				if _, _, _, a := decodeTile(t, repaired).At(100, 100).RGBA(); a>>8 != 255 {
					t.Errorf("an opaque pixel has alpha %d, want 255", a>>8)
				}
			}
			if tc.noData {
				corner, err := e.lib.Tile(img.SHA256, info, 0, 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				ci := decodeTile(t, corner)
				if _, _, _, a := ci.At(10, 100).RGBA(); a != 0 {
					t.Errorf("a nodata pixel has alpha %d, want 0", a>>8)
				}
				if r, _, _, a := ci.At(100, 100).RGBA(); r>>8 < 100 || a>>8 != 255 {
					t.Errorf("the bright square shows as red %d, alpha %d, want it bright and opaque", r>>8, a>>8)
				}
			}
			// The coarsest level: the whole image in one tile, averaged down.
			k := len(m.Levels) - 1
			lv := m.Levels[k]
			top, err := e.lib.Tile(img.SHA256, info, k, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			ref = rastertest.Reference(t, path, tc.bands, stretch, 0, 0, tc.spec.Width, tc.spec.Height, lv.Width, lv.Height)
			if d := rastertest.MeanAbsDiff(decodeTile(t, top), ref, lv.Width, lv.Height); d > 4 {
				t.Errorf("the level-%d tile differs from GDAL's averaged read by %.2f on average, want ≤ 4", k, d)
			}
		})
	}
}

// TestImageStretchesTwelveBitData: a 16-bit RGB GeoTIFF holding 12-bit values (0–4000)
// taken as stored would be almost black (its top byte is at most 15); the default 2–98 %
// stretch makes it an ordinary picture.
func TestImageStretchesTwelveBitData(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	spec := rastertest.Spec{Width: 600, Height: 400, Bands: 3, Type: "UInt16", Value: scene16}
	path := rastertest.Make(t, t.TempDir(), "twelve.tif", spec, "-of", "GTiff", "-co", "PHOTOMETRIC=RGB")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, data), newImage(annotations.Provenance{}), ingest.Sidecar{})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	ingest.NewBuilder(e.store, e.lib, 1, nil).Drain(ctx)
	info := imagery.Info{MediaType: img.MediaType, Width: img.Width, Height: img.Height, Orientation: img.Orientation}
	m, err := e.lib.Pyramid(img.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	lv := m.Levels[len(m.Levels)-1]
	top, err := e.lib.Tile(img.SHA256, info, len(m.Levels)-1, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	stretched := rastertest.MeanBrightness(decodeTile(t, top))
	asStored := rastertest.MeanBrightness(rastertest.Reference(t, path, []int{1, 2, 3},
		[]rastertest.Stretch{{Min: 0, Max: 65535}, {Min: 0, Max: 65535}, {Min: 0, Max: 65535}}, 0, 0, spec.Width, spec.Height, lv.Width, lv.Height))
	if stretched < 64 || stretched < 5*asStored {
		t.Errorf("got mean brightness %.1f (taken as stored: %.1f), want it well above, ≥ 64", stretched, asStored)
	}
	for c, s := range m.Display.Stretch {
		if s.Min < 150 || s.Min > 800 || s.Max < 3000 || s.Max > 4000 {
			t.Errorf("channel %d: stretch %+v, want the 2 %% and 98 %% points of values 200–4000", c, s)
		}
	}
}

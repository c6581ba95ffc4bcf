// Package rastertest makes real rasters for tests with GDAL's own tools: the pixels are
// written as a raw ENVI file, then gdal_translate turns them into the format under test
// (GeoTIFF of any layout, COG, JPEG 2000, NITF, …), and it reads back a window of a
// raster as 8-bit RGB the way GDAL would show it, as the reference tiles are compared
// with. Without gdal_translate the tests skip, unless SATMARK_REQUIRE_ORACLES=1.
package rastertest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Require skips the test when gdal_translate is not installed (fails it when
// SATMARK_REQUIRE_ORACLES=1).
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("gdal_translate"); err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatal("gdal_translate is not installed (apt-get install -y gdal-bin)")
		}
		t.Skip("gdal_translate is not installed; skipping the GDAL raster tests")
	}
}

// HasDriver reports whether GDAL on this machine has the named raster driver.
func HasDriver(t testing.TB, name string) bool {
	t.Helper()
	out, err := exec.Command("gdalinfo", "--formats").Output()
	if err != nil {
		t.Fatalf("gdalinfo --formats: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}

// Spec is a synthetic raster: its size, bands and sample type, and the value of each sample.
type Spec struct {
	Width, Height, Bands int
	Type                 string // "Byte", "UInt16", "Int16" or "Float32"
	Value                func(band, x, y int) float64
}

var enviTypes = map[string]struct {
	code, size int
}{"Byte": {1, 1}, "Int16": {2, 2}, "UInt16": {12, 2}, "Float32": {4, 4}}

// Make writes the raster of spec into dir as name with gdal_translate and the given
// arguments (e.g. "-of", "COG", "-co", "COMPRESS=JPEG") and returns its path.
func Make(t testing.TB, dir, name string, spec Spec, args ...string) string {
	t.Helper()
	Require(t)
	et, ok := enviTypes[spec.Type]
	if !ok {
		t.Fatalf("rastertest: no ENVI type for %q", spec.Type)
	}
	raw := filepath.Join(dir, name+".raw")
	buf := make([]byte, 0, spec.Width*spec.Height*spec.Bands*et.size)
	for b := 1; b <= spec.Bands; b++ {
		for y := 0; y < spec.Height; y++ {
			for x := 0; x < spec.Width; x++ {
				v := spec.Value(b, x, y)
				switch spec.Type {
				case "Byte":
					buf = append(buf, byte(v))
				case "Int16":
					buf = binary.LittleEndian.AppendUint16(buf, uint16(int16(v)))
				case "UInt16":
					buf = binary.LittleEndian.AppendUint16(buf, uint16(v))
				case "Float32":
					buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v)))
				}
			}
		}
	}
	if err := os.WriteFile(raw, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	hdr := fmt.Sprintf("ENVI\nsamples = %d\nlines = %d\nbands = %d\nheader offset = 0\nfile type = ENVI Standard\n"+
		"data type = %d\ninterleave = bsq\nbyte order = 0\n", spec.Width, spec.Height, spec.Bands, et.code)
	if err := os.WriteFile(filepath.Join(dir, name+".hdr"), []byte(hdr), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	Translate(t, append(append([]string{"-q"}, args...), raw, out)...)
	os.Remove(raw)
	os.Remove(filepath.Join(dir, name+".hdr"))
	os.Remove(out + ".aux.xml")
	return out
}

// Translate runs gdal_translate with args and fails the test if it fails.
func Translate(t testing.TB, args ...string) {
	t.Helper()
	Require(t)
	cmd := exec.Command("gdal_translate", args...)
	cmd.Env = append(os.Environ(), "GDAL_PAM_ENABLED=NO")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gdal_translate %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
}

// Stretch is the linear mapping of one band onto 0–255 the reference applies.
type Stretch struct{ Min, Max float64 }

// Reference reads the window (x, y, w, h) of the raster at path with gdal_translate as
// 8-bit RGB: the given bands (from 1; a single band as grey), each scaled from its
// stretch to 0–255 (no stretch: taken as stored), then resampled to ow×oh by averaging (-r average) when that is
// smaller than the window; a GeoTIFF (named *.tif) from its full resolution, not its
// overviews.
func Reference(t testing.TB, path string, bands []int, stretch []Stretch, x, y, w, h, ow, oh int) *image.RGBA {
	t.Helper()
	out := filepath.Join(t.TempDir(), "reference.png")
	args := []string{"-q", "-of", "PNG", "-ot", "Byte", "-srcwin", strconv.Itoa(x), strconv.Itoa(y), strconv.Itoa(w), strconv.Itoa(h),
		"-outsize", strconv.Itoa(ow), strconv.Itoa(oh), "-r", "average"}
	if strings.HasSuffix(path, ".tif") { // average the full resolution, as the pyramid does, not the file's overviews
		args = append(args, "-oo", "OVERVIEW_LEVEL=NONE")
	}
	if len(bands) == 1 {
		bands, stretch = []int{bands[0], bands[0], bands[0]}, slices.Repeat(stretch, 3)
	}
	for i, b := range bands {
		args = append(args, "-b", strconv.Itoa(b))
		if len(stretch) == 3 {
			args = append(args, "-scale_"+strconv.Itoa(i+1), fmt.Sprint(stretch[i].Min), fmt.Sprint(stretch[i].Max), "0", "255")
		}
	}
	Translate(t, append(args, "-a_nodata", "none", "-colorinterp", "red,green,blue", path, out)...)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode the reference PNG: %v", err)
	}
	rgba := image.NewRGBA(img.Bounds())
	for yy := 0; yy < oh; yy++ {
		for xx := 0; xx < ow; xx++ {
			rgba.Set(xx, yy, img.At(xx, yy))
		}
	}
	return rgba
}

// MeanAbsDiff is the mean absolute difference of the RGB channels of a and b over the
// w×h pixels from the top-left corner of each.
func MeanAbsDiff(a, b image.Image, w, h int) float64 {
	sum := 0.0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			ar, ag, ab, _ := a.At(a.Bounds().Min.X+x, a.Bounds().Min.Y+y).RGBA()
			br, bg, bb, _ := b.At(b.Bounds().Min.X+x, b.Bounds().Min.Y+y).RGBA()
			sum += math.Abs(float64(ar>>8)-float64(br>>8)) + math.Abs(float64(ag>>8)-float64(bg>>8)) + math.Abs(float64(ab>>8)-float64(bb>>8))
		}
	}
	return sum / float64(3*w*h)
}

// MeanBrightness is the mean of the RGB channels of img, 0–255.
func MeanBrightness(img image.Image) float64 {
	b := img.Bounds()
	sum := 0.0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			sum += float64(r>>8+g>>8+bl>>8) / 3
		}
	}
	return sum / float64(b.Dx()*b.Dy())
}

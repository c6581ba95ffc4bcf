package imagery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// photo makes a JPEG with texture everywhere, so that every tile differs from its
// neighbours and a misplaced pixel shows.
func photo(t *testing.T, w, h int, seed uint64) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7 / 5), uint8(y * 3), uint8(rng.IntN(64) + (x^y)&127), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLevelsFollowIIIFTileArithmetic(t *testing.T) {
	tests := []struct {
		name string
		w, h int
		want []imagery.Level
	}{
		{"ok, smaller than a tile", 200, 100, []imagery.Level{{Scale: 1, Width: 200, Height: 100, Cols: 1, Rows: 1}}},
		{"ok, exactly one tile", 256, 256, []imagery.Level{{Scale: 1, Width: 256, Height: 256, Cols: 1, Rows: 1}}},
		{"ok, one pixel more than a tile", 257, 10, []imagery.Level{
			{Scale: 1, Width: 257, Height: 10, Cols: 2, Rows: 1}, {Scale: 2, Width: 129, Height: 5, Cols: 1, Rows: 1}}},
		{"ok, odd sizes round up at every level", 1000, 700, []imagery.Level{
			{Scale: 1, Width: 1000, Height: 700, Cols: 4, Rows: 3}, {Scale: 2, Width: 500, Height: 350, Cols: 2, Rows: 2},
			{Scale: 4, Width: 250, Height: 175, Cols: 1, Rows: 1}}},
		{"ok, 16384 square has 7 levels", 16384, 16384, []imagery.Level{
			{1, 16384, 16384, 64, 64}, {2, 8192, 8192, 32, 32}, {4, 4096, 4096, 16, 16}, {8, 2048, 2048, 8, 8},
			{16, 1024, 1024, 4, 4}, {32, 512, 512, 2, 2}, {64, 256, 256, 1, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := imagery.Levels(tt.w, tt.h)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			// Each level is ceil(size / scale) and its tiles cover it exactly, as the IIIF
			// implementation notes compute tile regions.
			for _, lv := range got {
				if lv.Width != (tt.w+lv.Scale-1)/lv.Scale || lv.Height != (tt.h+lv.Scale-1)/lv.Scale {
					t.Errorf("level scale %d: %d×%d, want ceil(%d/%d)×ceil(%d/%d)", lv.Scale, lv.Width, lv.Height, tt.w, lv.Scale, tt.h, lv.Scale)
				}
			}
		})
	}
}

func tileFile(root, sha string, k, row, col int) string {
	return filepath.Join(root, "derived", sha[:2], sha, "pyramid", fmt.Sprint(k), fmt.Sprintf("%d_%d.jpg", row, col))
}

func TestMissingOrCorruptTilesAreRebuiltExactly(t *testing.T) {
	formats := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"JPEG, decoded in part by libjpeg-turbo", func(t *testing.T) []byte { return photo(t, 1100, 700, 1) }},
		{"PNG, read by GDAL a line at a time", func(t *testing.T) []byte {
			img, _, _ := image.Decode(bytes.NewReader(photo(t, 1100, 700, 2)))
			return encode(t, "png", img)
		}},
		{"16-bit GeoTIFF in 512×512 tiles, read by GDAL a window at a time", func(t *testing.T) []byte {
			spec := rastertest.Spec{Width: 1100, Height: 700, Bands: 3, Type: "UInt16",
				Value: func(b, x, y int) float64 { return float64((x*(b+3) + y*(7-b)) % 4001) }}
			path := rastertest.Make(t, t.TempDir(), "scene.tif", spec, "-of", "GTiff", "-co", "TILED=YES",
				"-co", "BLOCKXSIZE=512", "-co", "BLOCKYSIZE=512", "-co", "COMPRESS=DEFLATE")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}},
	}
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			lib, root := openLibrary(t, imagery.DefaultLimits)
			u, info := stored(t, lib, f.data(t))
			m, err := lib.Pyramid(u.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			// Every tile of every level, interior and edge.
			for k, lv := range m.Levels {
				for row := 0; row < lv.Rows; row++ {
					for col := 0; col < lv.Cols; col++ {
						path := tileFile(root, u.SHA256, k, row, col)
						want, err := os.ReadFile(path)
						if err != nil {
							t.Fatal(err)
						}
						// Damage alternately: remove the file, or flip bytes in it.
						if (row+col+k)%2 == 0 {
							os.Remove(path)
						} else {
							bad := append([]byte(nil), want...)
							bad[len(bad)/2] ^= 0xFF
							os.WriteFile(path, bad, 0o644)
						}
						// A fresh library, so nothing comes from memory.
						fresh, err := imagery.Open(root, imagery.DefaultLimits)
						if err != nil {
							t.Fatal(err)
						}
						got, err := fresh.Tile(u.SHA256, info, k, row, col)
						if err != nil {
							t.Fatalf("tile %d/%d/%d: %v", k, row, col, err)
						}
						if !bytes.Equal(got, want) {
							t.Errorf("tile %d/%d/%d: rebuilt %d bytes differ from the %d built", k, row, col, len(got), len(want))
						}
						if onDisk, _ := os.ReadFile(path); !bytes.Equal(onDisk, want) {
							t.Errorf("tile %d/%d/%d: the file was not repaired on disk", k, row, col)
						}
					}
				}
			}
		})
	}
}

func TestBuildStoppedMidwayLeavesNoPyramid(t *testing.T) {
	lib, root := openLibrary(t, imagery.DefaultLimits)
	u := receive(t, lib, photo(t, 2000, 1500, 3))
	info, err := lib.Inspect(u)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Place(u); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	err = lib.BuildPyramid(ctx, u.SHA256, info, func(done, total int) {
		if done == total/3 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, err := lib.Pyramid(u.SHA256); !errors.Is(err, imagery.ErrNoPyramid) {
		t.Errorf("after a stopped build: got %v, want ErrNoPyramid", err)
	}
	if left, _ := os.ReadDir(filepath.Join(root, "derived", u.SHA256[:2], u.SHA256)); len(left) != 0 {
		t.Errorf("a stopped build left %v behind", left)
	}
	// Building again finishes.
	if err := lib.BuildPyramid(context.Background(), u.SHA256, info, nil); err != nil {
		t.Fatalf("second build: %v", err)
	}
	if m, err := lib.Pyramid(u.SHA256); err != nil || m.Tiles != 8*6+4*3+2*2+1 {
		t.Errorf("after the second build: %+v, %v", m, err)
	}
}

// TestPyramidMatchesVips builds the same image with satmark and with libvips' dzsave in
// the IIIF 3 layout, and compares every tile's pixels: they are identical. libvips is the
// reference: same tile arithmetic, same 2×2 averaging, same libjpeg-turbo.
func TestPyramidMatchesVips(t *testing.T) {
	vips, err := exec.LookPath("vips")
	if err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatal("vips is not installed (apt-get install -y libvips-tools)")
		}
		t.Skip("vips is not installed; skipping the libvips comparison")
	}
	const w, h = 1500, 1100
	data := photo(t, w, h, 4)
	lib, _ := openLibrary(t, imagery.DefaultLimits)
	u, info := stored(t, lib, data)
	m, err := lib.Pyramid(u.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	src := writeFile(t, "in.jpg", data)
	out := filepath.Join(t.TempDir(), "vips")
	cmd := exec.Command(vips, "dzsave", src, out, "--layout", "iiif3", "--tile-size", "256", "--suffix", ".jpg[Q=85]")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vips dzsave: %v\n%s", err, msg)
	}
	compared := 0
	for k, lv := range m.Levels {
		s := lv.Scale
		for row := 0; row < lv.Rows; row++ {
			for col := 0; col < lv.Cols; col++ {
				x, y := col*256*s, row*256*s
				rw, rh := min(256*s, w-x), min(256*s, h-y)
				tw, th := (rw+s-1)/s, (rh+s-1)/s
				region := fmt.Sprintf("%d,%d,%d,%d", x, y, rw, rh)
				theirs, err := os.ReadFile(filepath.Join(out, region, fmt.Sprintf("%d,%d", tw, th), "0", "default.jpg"))
				if err != nil {
					t.Fatalf("vips tile for level %d (%s): %v", k, region, err)
				}
				ours, err := lib.Tile(u.SHA256, info, k, row, col)
				if err != nil {
					t.Fatal(err)
				}
				a, _, err := image.Decode(bytes.NewReader(ours))
				if err != nil {
					t.Fatal(err)
				}
				b, _, err := image.Decode(bytes.NewReader(theirs))
				if err != nil {
					t.Fatal(err)
				}
				if a.Bounds() != b.Bounds() {
					t.Fatalf("level %d tile %d,%d: ours %v, vips %v", k, row, col, a.Bounds(), b.Bounds())
				}
				if d := maxDiff(a, b); d != 0 {
					t.Errorf("level %d tile %d,%d: pixels differ from vips by up to %d", k, row, col, d)
				}
				compared++
			}
		}
	}
	if compared != m.Tiles {
		t.Errorf("compared %d tiles, the pyramid has %d", compared, m.Tiles)
	}
}

func maxDiff(a, b image.Image) int {
	worst := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ar, ag, ab, _ := a.At(x, y).RGBA()
			br, bg, bb, _ := b.At(x, y).RGBA()
			for _, d := range []int{int(ar>>8) - int(br>>8), int(ag>>8) - int(bg>>8), int(ab>>8) - int(bb>>8)} {
				if d < 0 {
					d = -d
				}
				worst = max(worst, d)
			}
		}
	}
	return worst
}

func TestRenderCacheStaysWithinItsBudget(t *testing.T) {
	root := t.TempDir()
	lib, err := imagery.OpenWith(root, imagery.Options{Limits: imagery.DefaultLimits, RenderCacheBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	u, info := stored(t, lib, photo(t, 800, 600, 5))
	for i := 0; i < 30; i++ {
		r, err := imagery.ParseIIIF(fmt.Sprintf("%d,%d,300,200", i*10, i*5), "150,", "0", "default.png", info.Width, info.Height)
		if err != nil {
			t.Fatal(err)
		}
		out, err := lib.Render(context.Background(), u.SHA256, info, r)
		if err != nil {
			t.Fatalf("render %d: %v", i, err)
		}
		out.File.Close()
	}
	var total int64
	filepath.WalkDir(filepath.Join(root, "renders"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	// The budget, give or take the one render that may stay even when alone over it.
	if total > 64<<10+40<<10 {
		t.Errorf("the render cache holds %d bytes, budget %d", total, 64<<10)
	}
	if total == 0 {
		t.Error("the render cache is empty: nothing was cached")
	}
}

// Repairing the coarsest tile, which covers the whole image, reads the original a band of
// rows at a time: the memory it takes does not grow with the image.
func TestRepairOfTheTopTileHoldsABandOfRows(t *testing.T) {
	spec := rastertest.Spec{Width: 4000, Height: 4000, Bands: 1, Type: "Byte", Value: func(b, x, y int) float64 { return float64(x/100 + y/100) }}
	path := rastertest.Make(t, t.TempDir(), "wide.tif", spec, "-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lib, root := openLibrary(t, imagery.DefaultLimits)
	u, info := stored(t, lib, data)
	m, err := lib.Pyramid(u.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	k := len(m.Levels) - 1
	tile := tileFile(root, u.SHA256, k, 0, 0)
	want, err := os.ReadFile(tile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(tile); err != nil {
		t.Fatal(err)
	}
	fresh, err := imagery.Open(root, imagery.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := fresh.Tile(u.SHA256, info, k, 0, 0)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the repaired top tile differs from the one built")
	}
	// The whole image as RGB would be 48 MB.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("repairing the top tile allocated %d MiB, want under 16 MiB", grew>>20)
	}
}

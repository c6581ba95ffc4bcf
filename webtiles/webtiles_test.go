package webtiles

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/satmark/satmark/geo"
)

// memSource is a pyramid held in memory: level 0 is the image itself, losslessly.
type memSource struct {
	levels []*image.NRGBA
}

func newMemSource(img *image.NRGBA) *memSource {
	s := &memSource{levels: []*image.NRGBA{img}}
	for l := img; l.Bounds().Dx() > 256 || l.Bounds().Dy() > 256; {
		w, h := (l.Bounds().Dx()+1)/2, (l.Bounds().Dy()+1)/2
		n := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var sum [4]int
				for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					c := l.NRGBAAt(min(2*x+d[0], l.Bounds().Dx()-1), min(2*y+d[1], l.Bounds().Dy()-1))
					sum[0], sum[1], sum[2], sum[3] = sum[0]+int(c.R), sum[1]+int(c.G), sum[2]+int(c.B), sum[3]+int(c.A)
				}
				n.SetNRGBA(x, y, color.NRGBA{uint8(sum[0] / 4), uint8(sum[1] / 4), uint8(sum[2] / 4), uint8(sum[3] / 4)})
			}
		}
		s.levels = append(s.levels, n)
		l = n
	}
	return s
}

func (s *memSource) Size() (int, int) { b := s.levels[0].Bounds(); return b.Dx(), b.Dy() }
func (s *memSource) Levels() int      { return len(s.levels) }
func (s *memSource) TileSize() int    { return 256 }
func (s *memSource) Tile(k, row, col int) (image.Image, error) {
	l := s.levels[k]
	r := image.Rect(col*256, row*256, col*256+256, row*256+256).Intersect(l.Bounds())
	if r.Empty() {
		return nil, fmt.Errorf("no tile %d/%d/%d", k, row, col)
	}
	return l.SubImage(r), nil
}

// scene is a w×h image with smooth gradients and sharp-edged blocks, so both a shift and
// a blur show.
func scene(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8(128 + 100*math.Sin(float64(x+y)/40)), 255}
			if (x/60+y/60)%5 == 0 {
				c = color.NRGBA{250, 250, 250, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// tileAt is the zoom-z tile holding a longitude and latitude.
func tileAt(z int, lon, lat float64) (int, int) {
	n := float64(uint(1) << z)
	x := int((lon + 180) / 360 * n)
	r := lat * math.Pi / 180
	y := int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
	return x, y
}

func requireGDAL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("gdalwarp"); err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatal("gdalwarp is not installed (apt-get install -y gdal-bin)")
		}
		t.Skip("gdalwarp is not installed")
	}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "GDAL_PAM_ENABLED=NO")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// gdalwarpTile warps a GeoTIFF (placed by a geotransform or, with order, by its control
// points) to tile z/x/y: EPSG:3857, bilinear, with an alpha band.
func gdalwarpTile(t *testing.T, dir, tif string, z, x, y int, order string) *image.NRGBA {
	t.Helper()
	w, s, e, n := Bounds(z, x, y)
	out := filepath.Join(dir, fmt.Sprintf("warp-%d-%d-%d.tif", z, x, y))
	args := []string{"-q", "-overwrite", "-t_srs", "EPSG:3857", "-te", fmt.Sprint(w), fmt.Sprint(s), fmt.Sprint(e), fmt.Sprint(n),
		"-ts", "256", "256", "-r", "bilinear", "-dstalpha", "-ovr", "NONE"}
	if order != "" {
		args = append(args, "-order", order)
	}
	run(t, "gdalwarp", append(args, tif, out)...)
	pngPath := out + ".png"
	run(t, "gdal_translate", "-q", "-of", "PNG", out, pngPath)
	f, err := os.ReadFile(pngPath)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	return toNRGBA(img)
}

// compare reports how two tiles differ: pixels opaque in one and transparent in the
// other, and over the pixels opaque in both the mean and the 99th percentile of the
// largest channel difference.
func compare(a, b *image.NRGBA) (alphaDiff int, mean, p99 float64, both int) {
	var diffs []float64
	for y := 0; y < Size; y++ {
		for x := 0; x < Size; x++ {
			ca, cb := a.NRGBAAt(x, y), b.NRGBAAt(x, y)
			oa, ob := ca.A > 127, cb.A > 127
			if oa != ob {
				alphaDiff++
			}
			if ca.A == 255 && cb.A == 255 {
				d := math.Max(math.Abs(float64(ca.R)-float64(cb.R)), math.Max(math.Abs(float64(ca.G)-float64(cb.G)), math.Abs(float64(ca.B)-float64(cb.B))))
				diffs = append(diffs, d)
				mean += d
			}
		}
	}
	if len(diffs) == 0 {
		return alphaDiff, 0, 0, 0
	}
	sort.Float64s(diffs)
	return alphaDiff, mean / float64(len(diffs)), diffs[len(diffs)*99/100], len(diffs)
}

// TestRenderMatchesGDALWarp: tiles over the middle and the edge of an image placed by a
// north-up geotransform and by an affine fit of rotated control points, against
// gdalwarp of the same pixels with the same placement (-r bilinear, no overviews), at
// three zooms. Tolerances, of the largest channel difference (0–255) over the pixels both
// show: at zoom 17 (a tile pixel 0.87 image pixels) mean ≤ 0.5 and 99th percentile ≤ 4;
// at 16 (1.7 px) ≤ 1 and ≤ 20; at 14 (7 px) ≤ 5 and ≤ 60 — satmark samples the nearest
// pyramid level bilinearly where GDAL widens its bilinear kernel by the reduction, so
// they part at sharp edges as the reduction grows. Pixels one shows and the other does
// not: at most 2 a row or column (the outline).
func TestRenderMatchesGDALWarp(t *testing.T) {
	requireGDAL(t)
	dir := t.TempDir()
	const w, h = 1200, 900
	img := scene(w, h)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	pngPath := filepath.Join(dir, "scene.png")
	if err := os.WriteFile(pngPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	src := newMemSource(img)

	// North up at about 1 m a pixel at Vladivostok.
	gt := geo.GeoTransform{131.865, 1.2287e-05, 0, 43.125, 0, -9.0013e-06}
	grid := geo.Grid{GeoTransform: gt, CRS: geo.WGS84}
	gridTIF := filepath.Join(dir, "grid.tif")
	run(t, "gdal_translate", "-q", "-a_srs", "EPSG:4326", "-a_ullr", fmt.Sprint(gt[0]), fmt.Sprint(gt[3]),
		fmt.Sprint(gt[0]+w*gt[1]), fmt.Sprint(gt[3]+h*gt[5]), pngPath, gridTIF)

	// Rotated by about 20° and sheared a little: four control points, fitted affine.
	rot := func(x, y float64) (float64, float64) {
		a := 20 * math.Pi / 180
		e, n := 1.1*(x*math.Cos(a)-y*math.Sin(a)), -(x*math.Sin(a)+y*math.Cos(a))+0.05*x
		return 131.90 + e*1.2287e-05, 43.10 + n*9.0013e-06
	}
	var gcps []geo.ControlPoint
	gcpArgs := []string{"-q", "-a_srs", "EPSG:4326"}
	for _, p := range [][2]float64{{0, 0}, {w, 0}, {w, h}, {0, h}, {w / 2, h / 3}} {
		lon, lat := rot(p[0], p[1])
		gcps = append(gcps, geo.ControlPoint{Pixel: p, LonLat: [2]float64{lon, lat}})
		gcpArgs = append(gcpArgs, "-gcp", fmt.Sprint(p[0]), fmt.Sprint(p[1]), fmt.Sprintf("%.10f", lon), fmt.Sprintf("%.10f", lat))
	}
	fit, err := geo.FitControlPoints(geo.Affine, gcps)
	if err != nil {
		t.Fatal(err)
	}
	gcpTIF := filepath.Join(dir, "gcps.tif")
	run(t, "gdal_translate", append(gcpArgs, pngPath, gcpTIF)...)

	cases := []struct {
		name  string
		t     geo.Transformer
		tif   string
		order string
		at    func() (float64, float64) // a pixel the tile holds
	}{
		{"geotransform, the middle", grid, gridTIF, "", func() (float64, float64) { return w / 2, h / 2 }},
		{"geotransform, the top-left corner", grid, gridTIF, "", func() (float64, float64) { return 5, 5 }},
		{"affine fit, the middle", fit, gcpTIF, "1", func() (float64, float64) { return w / 2, h / 2 }},
		{"affine fit, the bottom edge", fit, gcpTIF, "1", func() (float64, float64) { return w / 3, h - 5 }},
	}
	for _, tc := range cases {
		for _, z := range []int{17, 16, 14} {
			t.Run(fmt.Sprintf("%s, zoom %d", tc.name, z), func(t *testing.T) {
				lon, lat, err := tc.t.Forward(tc.at())
				if err != nil {
					t.Fatal(err)
				}
				x, y := tileAt(z, lon, lat)
				got, empty, err := Render(src, tc.t, z, x, y)
				if err != nil || empty {
					t.Fatalf("render: empty %v, %v", empty, err)
				}
				want := gdalwarpTile(t, dir, tc.tif, z, x, y, tc.order)
				alpha, mean, p99, both := compare(got, want)
				t.Logf("%d px in both, mean |Δ| %.2f, p99 %.0f, %d px shown by one only", both, mean, p99, alpha)
				if both < 1000 {
					t.Fatalf("only %d pixels shown by both", both)
				}
				tol := map[int][2]float64{17: {0.5, 4}, 16: {1, 20}, 14: {5, 60}}[z]
				if mean > tol[0] || p99 > tol[1] {
					t.Errorf("pixels differ from gdalwarp: mean %.2f (at most %g), p99 %.0f (at most %g)", mean, tol[0], p99, tol[1])
				}
				if alpha > 2*Size {
					t.Errorf("%d pixels shown by one and not the other: more than the outline", alpha)
				}
			})
		}
	}

	// A tile far from the image is empty; one of another zoom's range is refused.
	if _, empty, err := Render(src, grid, 17, 10, 10); err != nil || !empty {
		t.Errorf("a tile over the Atlantic: empty %v, %v", empty, err)
	}
	if err := Check(3, 8, 0, 20); !errors.Is(err, ErrOutside) {
		t.Errorf("x = 8 at zoom 3: %v", err)
	}
	if err := Check(25, 0, 0, 20); !errors.Is(err, ErrOutside) {
		t.Errorf("zoom 25 of 20: %v", err)
	}
}

func TestMaxZoom(t *testing.T) {
	// At 1 m a pixel at 43° N, zoom 17 pixels are 0.87 m: tiles to 19.
	if z := MaxZoom(1, 43.1); z != 19 {
		t.Errorf("MaxZoom(1 m, 43°) = %d, want 19", z)
	}
	if z := MaxZoom(0.01, 0); z != 24 {
		t.Errorf("MaxZoom(1 cm) = %d, want the cap 24", z)
	}
}

func TestMercatorRoundTrip(t *testing.T) {
	for _, ll := range [][2]float64{{0, 0}, {131.9, 43.1}, {-179.99, -85}, {179.99, 85}} {
		mx, my := Mercator(ll[0], ll[1])
		lon, lat := LonLat(mx, my)
		if math.Abs(lon-ll[0]) > 1e-9 || math.Abs(lat-ll[1]) > 1e-9 {
			t.Errorf("%v → %v, %v → %v, %v", ll, mx, my, lon, lat)
		}
	}
}

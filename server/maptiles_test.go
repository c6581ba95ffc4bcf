package server_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"

	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/webtiles"
)

// colourScene is a w×h PNG of gradients and sharp blocks: a shifted or blurred warp shows.
func colourScene(t *testing.T, w, h int) []byte {
	t.Helper()
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
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rotatedPort places pixel (x, y) of a 1200×900 image rotated about 20° over the port.
func rotatedPort(x, y float64) [2]float64 {
	a := 20 * math.Pi / 180
	e, n := 1.1*(x*math.Cos(a)-y*math.Sin(a)), -(x*math.Sin(a) + y*math.Cos(a))
	return [2]float64{131.90 + e*1.2287e-05, 43.10 + n*9.0013e-06}
}

func slippyTile(z int, lon, lat float64) (int, int) {
	n := float64(uint(1) << z)
	r := lat * math.Pi / 180
	return int((lon + 180) / 360 * n), int((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
}

func decodePNGTile(t *testing.T, data []byte) *image.NRGBA {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	n := image.NewNRGBA(img.Bounds())
	for y := 0; y < img.Bounds().Dy(); y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			n.Set(x, y, img.At(x, y))
		}
	}
	return n
}

// TestMapTilesMatchGDALWarp: an image placed by rotated control points is served as XYZ
// tiles that match gdalwarp -t_srs EPSG:3857 -order 1 -r bilinear of the original with
// the same points. Tolerance, of the largest channel difference over the pixels both
// show: mean ≤ 2.5 and 99th percentile ≤ 16 at zoom 17 (satmark samples its JPEG pyramid,
// quality 85, so JPEG's error comes on top of the warp's); pixels one shows and the
// other does not ≤ 2 a row (the outline).
func TestMapTilesMatchGDALWarp(t *testing.T) {
	if _, err := exec.LookPath("gdalwarp"); err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatal("gdalwarp is not installed (apt-get install -y gdal-bin)")
		}
		t.Skip("gdalwarp is not installed")
	}
	ts := newTestServer(t, imagery.Limits{MaxBytes: 32 << 20, MaxPixels: 50_000_000})
	const w, h = 1200, 900
	scene := colourScene(t, w, h)
	img := ts.mustUpload(t, filePart("rotated.png", scene))
	var pts []gcp
	gcpArgs := []string{"-q", "-a_srs", "EPSG:4326"}
	for _, p := range [][2]float64{{0, 0}, {w, 0}, {w, h}, {0, h}, {w / 2, h / 3}} {
		ll := rotatedPort(p[0], p[1])
		pts = append(pts, gcp{Pixel: p, LonLat: ll})
		gcpArgs = append(gcpArgs, "-gcp", fmt.Sprint(p[0]), fmt.Sprint(p[1]), fmt.Sprint(ll[0]), fmt.Sprint(ll[1]))
	}
	ts.putGeoref(t, img.ID, "affine", pts)
	ts.buildPyramids(t)

	dir := t.TempDir()
	orig := filepath.Join(dir, "rotated.png")
	if err := os.WriteFile(orig, scene, 0o644); err != nil {
		t.Fatal(err)
	}
	tif := filepath.Join(dir, "gcps.tif")
	gdal := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), "GDAL_PAM_ENABLED=NO")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	gdal("gdal_translate", append(gcpArgs, orig, tif)...)

	for _, at := range [][2]float64{{w / 2, h / 2}, {w / 3, h - 5}} {
		ll := rotatedPort(at[0], at[1])
		const z = 17
		x, y := slippyTile(z, ll[0], ll[1])
		rec := ts.do(t, http.MethodGet, fmt.Sprintf("/tiles/%s/%d/%d/%d.png", img.ID, z, x, y), nil)
		wantStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); ct != "image/png" {
			t.Errorf("Content-Type = %q", ct)
		}
		got := decodePNGTile(t, rec.Body.Bytes())

		bw, bs, be, bn := webtiles.Bounds(z, x, y)
		out := filepath.Join(dir, fmt.Sprintf("warp-%d-%d.tif", x, y))
		gdal("gdalwarp", "-q", "-overwrite", "-t_srs", "EPSG:3857", "-te", fmt.Sprint(bw), fmt.Sprint(bs), fmt.Sprint(be), fmt.Sprint(bn),
			"-ts", "256", "256", "-r", "bilinear", "-order", "1", "-dstalpha", tif, out)
		gdal("gdal_translate", "-q", "-of", "PNG", out, out+".png")
		data, err := os.ReadFile(out + ".png")
		if err != nil {
			t.Fatal(err)
		}
		want := decodePNGTile(t, data)

		var diffs []float64
		alpha := 0
		for j := 0; j < 256; j++ {
			for i := 0; i < 256; i++ {
				a, b := got.NRGBAAt(i, j), want.NRGBAAt(i, j)
				if (a.A > 127) != (b.A > 127) {
					alpha++
				}
				if a.A == 255 && b.A == 255 {
					diffs = append(diffs, math.Max(math.Abs(float64(a.R)-float64(b.R)), math.Max(math.Abs(float64(a.G)-float64(b.G)), math.Abs(float64(a.B)-float64(b.B)))))
				}
			}
		}
		if len(diffs) < 1000 {
			t.Fatalf("tile %d/%d/%d: only %d pixels shown by both", z, x, y, len(diffs))
		}
		sort.Float64s(diffs)
		mean := 0.0
		for _, d := range diffs {
			mean += d
		}
		mean /= float64(len(diffs))
		p99 := diffs[len(diffs)*99/100]
		t.Logf("tile %d/%d/%d: %d px in both, mean |Δ| %.2f, p99 %.0f, %d px shown by one only", z, x, y, len(diffs), mean, p99, alpha)
		if mean > 2.5 || p99 > 16 || alpha > 512 {
			t.Errorf("tile %d/%d/%d differs from gdalwarp: mean %.2f, p99 %.0f, %d px shown by one only", z, x, y, mean, p99, alpha)
		}

		// Asked again with its ETag: not modified.
		rec2 := ts.do(t, http.MethodGet, fmt.Sprintf("/tiles/%s/%d/%d/%d.png", img.ID, z, x, y), nil, "If-None-Match", rec.Header().Get("ETag"))
		wantStatus(t, rec2, http.StatusNotModified)
	}
}

func TestMapTilesRefuseWhatIsNotATile(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	placed := ts.uploadScene(t, 4000, 3000, 1)
	ts.putGeoref(t, placed.ID, "affine", vladivostok6)
	unplaced := ts.uploadScene(t, 400, 300, 2)
	ts.buildPyramids(t)
	x, y := slippyTile(16, 131.90, 43.11)

	tests := []struct {
		name, path string
		words      []string
	}{
		{"beyond the deepest zoom", fmt.Sprintf("/tiles/%s/25/%d/%d.png", placed.ID, x<<9, y<<9), []string{"zoom 25 is outside 0–"}},
		{"a column past the world", fmt.Sprintf("/tiles/%s/3/8/1.png", placed.ID), []string{"from 0 to 7"}},
		{"a negative zoom", fmt.Sprintf("/tiles/%s/-1/0/0.png", placed.ID), []string{"zoom -1"}},
		{"not a number", fmt.Sprintf("/tiles/%s/a/0/0.png", placed.ID), []string{"whole numbers"}},
		{"a JPEG", fmt.Sprintf("/tiles/%s/16/%d/%d.jpg", placed.ID, x, y), []string{"PNG"}},
		{"an unplaced image", fmt.Sprintf("/tiles/%s/16/%d/%d.png", unplaced.ID, x, y), []string{"not georeferenced"}},
		{"no such image", "/tiles/img_aaaaaaaaaaaa/16/0/0.png", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.do(t, http.MethodGet, tt.path, nil), http.StatusNotFound, "not_found", "", tt.words...)
		})
	}

	// A tile of the map away from the image is there, and transparent.
	rec := ts.do(t, http.MethodGet, "/tiles/"+placed.ID+"/16/0/0.png", nil)
	wantStatus(t, rec, http.StatusOK)
	tile := decodePNGTile(t, rec.Body.Bytes())
	for _, p := range [][2]int{{0, 0}, {128, 128}, {255, 255}} {
		if a := tile.NRGBAAt(p[0], p[1]).A; a != 0 {
			t.Errorf("pixel %v of a tile over the Atlantic has alpha %d, want 0", p, a)
		}
	}

	// One over the image shows it; after its georeference is removed, it is gone.
	path := fmt.Sprintf("/tiles/%s/16/%d/%d.png", placed.ID, x, y)
	rec = ts.do(t, http.MethodGet, path, nil)
	wantStatus(t, rec, http.StatusOK)
	tile = decodePNGTile(t, rec.Body.Bytes())
	if a := tile.NRGBAAt(128, 128).A; a != 255 {
		t.Fatalf("the middle of a tile over the image has alpha %d, want 255", a)
	}
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+placed.ID+"/georeference", nil), http.StatusNoContent)
	wantError(t, ts.do(t, http.MethodGet, path, nil), http.StatusNotFound, "not_found", "", "not georeferenced")
}

package server_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/satmark/satmark/imagery/rastertest"
)

// A raster with a nodata value through the image service: info.json prefers png, its
// tiles are PNG with the nodata transparent (the same from the hot-tile cache), a .jpg of
// it is on white, and the thumbnail too. An image without transparency stays JPEG.
func TestIIIFServesTransparencyAsPNG(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	const w, h, border = 600, 450, 50
	spec := rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "UInt16", Value: func(b, x, y int) float64 {
		if x < border {
			return 0
		}
		return ramp(4000)(b, x, y)
	}}
	data, err := os.ReadFile(rastertest.Make(t, t.TempDir(), "nodata.tif", spec, "-of", "GTiff", "-co", "PHOTOMETRIC=RGB", "-a_nodata", "0"))
	if err != nil {
		t.Fatal(err)
	}
	img := ts.mustUpload(t, filePart("nodata.tif", data))
	plain := ts.uploadScene(t, 300, 200, 1)
	ts.buildPyramids(t)
	base := "/iiif/3/" + img.ID

	for _, tc := range []struct {
		id   string
		want []string
	}{{img.ID, []string{"png"}}, {plain.ID, []string{"jpg"}}} {
		var info struct {
			PreferredFormats []string `json:"preferredFormats"`
		}
		rec := ts.do(t, http.MethodGet, "/iiif/3/"+tc.id+"/info.json", nil)
		wantStatus(t, rec, http.StatusOK)
		decode(t, rec, &info)
		if !slices.Equal(info.PreferredFormats, tc.want) {
			t.Errorf("info.json of %s: preferredFormats %v, want %v", tc.id, info.PreferredFormats, tc.want)
		}
	}

	alphaAt := func(img image.Image, x, y int) color.NRGBA {
		return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
	}
	// Twice: the second answer comes from the hot-tile cache.
	const tile = "/0,0,256,256/256,256/0/default.png"
	var first []byte
	for i := 0; i < 2; i++ {
		rec := ts.do(t, http.MethodGet, base+tile, nil)
		wantStatus(t, rec, http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); ct != "image/png" {
			t.Errorf("request %d: Content-Type %q, want image/png", i+1, ct)
		}
		pic, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatalf("request %d: decode the tile as PNG: %v", i+1, err)
		}
		if c := alphaAt(pic, 10, 100); c.A != 0 {
			t.Errorf("request %d: a nodata pixel has alpha %d, want 0", i+1, c.A)
		}
		if c := alphaAt(pic, 100, 100); c.A != 255 {
			t.Errorf("request %d: a pixel with data has alpha %d, want 255", i+1, c.A)
		}
		if i == 0 {
			first = rec.Body.Bytes()
		} else if !bytes.Equal(rec.Body.Bytes(), first) {
			t.Errorf("the tile from the hot-tile cache differs")
		}
		etag := rec.Header().Get("ETag")
		if etag == "" {
			t.Fatal("the tile has no ETag")
		}
		wantStatus(t, ts.do(t, http.MethodGet, base+tile, nil, "If-None-Match", etag), http.StatusNotModified)
	}
	// The pyramid holds the tile as a PNG file.
	onDisk, err := os.ReadFile(filepath.Join(ts.dir, "derived", img.SHA256[:2], img.SHA256, "pyramid", "0", "0_0.png"))
	if err != nil || !bytes.Equal(onDisk, first) {
		t.Errorf("the tile file 0/0_0.png: %v, same bytes as served %v", err, bytes.Equal(onDisk, first))
	}

	// The same region as .jpg is composited over white.
	rec := ts.do(t, http.MethodGet, base+"/0,0,256,256/256,256/0/default.jpg", nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("the .jpg: Content-Type %q, want image/jpeg", ct)
	}
	jpg, err := jpeg.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	pic, _ := png.Decode(bytes.NewReader(first))
	if c := alphaAt(jpg, 10, 100); c.R < 245 || c.G < 245 || c.B < 245 {
		t.Errorf("the .jpg shows a nodata pixel as %v, want white", c)
	}
	if got, want := alphaAt(jpg, 150, 100), alphaAt(pic, 150, 100); absDiff(got.R, want.R) > 12 || absDiff(got.G, want.G) > 12 || absDiff(got.B, want.B) > 12 {
		t.Errorf("the .jpg shows a pixel with data as %v, want about %v", got, want)
	}

	// A render as .png keeps the transparency.
	rec = ts.do(t, http.MethodGet, base+"/full/300,/0/default.png", nil)
	wantStatus(t, rec, http.StatusOK)
	half, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if c := alphaAt(half, 5, 100); c.A != 0 {
		t.Errorf("the rendered .png shows a nodata pixel with alpha %d, want 0", c.A)
	}

	// The thumbnail: a JPEG, the nodata on white.
	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil)
	wantStatus(t, rec, http.StatusOK)
	thumb, err := jpeg.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil || rec.Header().Get("Content-Type") != "image/jpeg" {
		t.Fatalf("the thumbnail (%s): %v", rec.Header().Get("Content-Type"), err)
	}
	if c := alphaAt(thumb, 10, 100); c.R < 240 || c.G < 240 || c.B < 240 {
		t.Errorf("the thumbnail shows a nodata pixel as %v, want white", c)
	}

	// The image without transparency: JPEG tiles, as before.
	rec = ts.do(t, http.MethodGet, "/iiif/3/"+plain.ID+"/0,0,256,200/256,200/0/default.jpg", nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "image/jpeg" || !bytes.HasPrefix(rec.Body.Bytes(), []byte{0xFF, 0xD8}) {
		t.Errorf("the opaque image's tile: %q starting % x, want a JPEG", ct, rec.Body.Bytes()[:2])
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/image/tiff"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

// The IIIF Image API 3.0 service at /iiif/3/{id}, checked against the specification
// (https://iiif.io/api/image/3.0/, summarised in standards.md §1) over a real upload
// whose pyramid is built.

// The scene is odd-sized, so the right and bottom tiles of every level are partial.
const sceneW, sceneH = 1000, 700

// iiifScene is the picture the IIIF tests upload: smooth, so JPEG keeps it well, and
// different everywhere, so a pixel tells where it came from: red grows to the right,
// green downwards, and blue waves.
func iiifScene(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			b := 128 + 60*math.Sin(float64(x)/40)*math.Cos(float64(y)/30)
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / (w - 1)), uint8(y * 255 / (h - 1)), uint8(b), 255})
		}
	}
	return img
}

// iiifFixture is a server holding the scene as a JPEG whose pyramid is built.
type iiifFixture struct {
	*testServer
	img   annotations.Image
	base  string       // the image service's path, /iiif/3/{id}
	scene *image.NRGBA // the pixels as uploaded, before JPEG

	refOnce sync.Once
	ref     *image.NRGBA
}

func newIIIFFixture(t *testing.T, opts imagery.Options) *iiifFixture {
	t.Helper()
	if opts.Limits == (imagery.Limits{}) {
		opts.Limits = smallLimits
	}
	ts := newTestServerWithOptions(t, opts, os.DirFS("../web"))
	scene := iiifScene(sceneW, sceneH)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, scene, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	img := ts.mustUpload(t, filePart("scene.jpg", buf.Bytes()))
	ts.buildPyramids(t)
	if p := ts.pyramidState(t, img.ID); p.State != annotations.JobDone {
		t.Fatalf("pyramid = %+v, want done", p)
	}
	return &iiifFixture{testServer: ts, img: img, base: "/iiif/3/" + img.ID, scene: scene}
}

// get requests rel, a path relative to the image's base URI.
func (f *iiifFixture) get(t *testing.T, rel string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return f.do(t, http.MethodGet, f.base+"/"+rel, nil, headers...)
}

// reference is the full-resolution image as the pyramid holds it: its level-0 tiles,
// fetched through the image service and decoded by Go.
func (f *iiifFixture) reference(t *testing.T) *image.NRGBA {
	t.Helper()
	f.refOnce.Do(func() {
		ref := image.NewNRGBA(image.Rect(0, 0, sceneW, sceneH))
		for _, tl := range tilesOf(sceneW, sceneH, imagery.TileSize, []int{1}) {
			rec := f.get(t, tl.path())
			wantStatus(t, rec, http.StatusOK)
			img := decodeAs(t, rec, "jpg")
			draw.Draw(ref, image.Rect(tl.x, tl.y, tl.x+tl.rw, tl.y+tl.rh), img, img.Bounds().Min, draw.Src)
		}
		f.ref = ref
	})
	if f.ref == nil {
		t.FailNow()
	}
	return f.ref
}

// pyramidFile is where tile (row, col) of level k lies in the data folder.
func (f *iiifFixture) pyramidFile(k, row, col int) string {
	sha := f.img.SHA256
	return filepath.Join(f.dir, "derived", sha[:2], sha, "pyramid", fmt.Sprint(k), fmt.Sprintf("%d_%d.jpg", row, col))
}

// iiifTile is one tile that info.json's tiles imply, with the region and size the
// implementation notes compute for it (standards.md §1.6).
type iiifTile struct {
	scale, col, row int
	x, y, rw, rh    int // region in full-resolution pixels
	w, h            int // the tile's size in pixels
}

func (tl iiifTile) path() string {
	return fmt.Sprintf("%d,%d,%d,%d/%d,%d/0/default.jpg", tl.x, tl.y, tl.rw, tl.rh, tl.w, tl.h)
}

// tilesOf lists every tile of a width×height image for tiles of side tile at the given
// scale factors, with the integer arithmetic of the implementation notes.
func tilesOf(width, height, tile int, scales []int) []iiifTile {
	var out []iiifTile
	for _, s := range scales {
		span := tile * s
		for row := 0; row*span < height; row++ {
			for col := 0; col*span < width; col++ {
				xr, yr := col*span, row*span
				wr, hr := min(span, width-xr), min(span, height-yr)
				ws, hs := tile, tile
				if xr+span > width {
					ws = (width - xr + s - 1) / s
				}
				if yr+span > height {
					hs = (height - yr + s - 1) / s
				}
				out = append(out, iiifTile{scale: s, col: col, row: row, x: xr, y: yr, rw: wr, rh: hr, w: ws, h: hs})
			}
		}
	}
	return out
}

// decodeAs checks that a response is an image in the IIIF format named (jpg, png, gif,
// tif) and decodes it with Go's own decoder.
func decodeAs(t *testing.T, rec *httptest.ResponseRecorder, format string) image.Image {
	t.Helper()
	want := map[string]string{"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "tif": "image/tiff"}[format]
	if ct := rec.Header().Get("Content-Type"); ct != want {
		t.Errorf("Content-Type = %q, want %q", ct, want)
	}
	r := bytes.NewReader(rec.Body.Bytes())
	var img image.Image
	var err error
	switch format {
	case "jpg":
		img, err = jpeg.Decode(r)
	case "png":
		img, err = png.Decode(r)
	case "gif":
		img, err = gif.Decode(r)
	case "tif":
		img, err = tiff.Decode(r)
	default:
		t.Fatalf("no decoder for %q", format)
	}
	if err != nil {
		t.Fatalf("the %s response does not decode: %v", format, err)
	}
	return img
}

// view is what an image request asks of the full image: a region, scaled to the size
// of the answer, then mirrored and rotated clockwise, then made grey.
type view struct {
	x, y, w, h int
	mirror     bool
	rot        int
	gray       bool
}

// diffFrom compares got with what v asks of ref. Each output pixel on a grid is compared
// with the reference pixel at the centre of its footprint, found by undoing the rotation
// and the mirroring. It returns the mean and the largest difference over the colour
// channels, in 8-bit levels.
func diffFrom(got, ref image.Image, v view) (mean, worst float64) {
	b := got.Bounds()
	ow, oh := b.Dx(), b.Dy()
	sw, sh := ow, oh // the size before rotation
	if v.rot == 90 || v.rot == 270 {
		sw, sh = oh, ow
	}
	step := max(1, min(ow, oh)/48)
	var sum float64
	var n int
	for py := 0; py < oh; py += step {
		for px := 0; px < ow; px += step {
			var a, c int
			switch v.rot {
			case 0:
				a, c = px, py
			case 90:
				a, c = py, sh-1-px
			case 180:
				a, c = sw-1-px, sh-1-py
			case 270:
				a, c = sw-1-py, px
			}
			if v.mirror {
				a = sw - 1 - a
			}
			sx := float64(v.x) + (float64(a)+0.5)*float64(v.w)/float64(sw)
			sy := float64(v.y) + (float64(c)+0.5)*float64(v.h)/float64(sh)
			want := rgb8(ref.At(ref.Bounds().Min.X+int(sx), ref.Bounds().Min.Y+int(sy)))
			if v.gray {
				l := uint8(math.Round(0.299*float64(want[0]) + 0.587*float64(want[1]) + 0.114*float64(want[2])))
				want = [3]uint8{l, l, l}
			}
			have := rgb8(got.At(b.Min.X+px, b.Min.Y+py))
			for ch := 0; ch < 3; ch++ {
				d := math.Abs(float64(have[ch]) - float64(want[ch]))
				sum += d
				worst = max(worst, d)
				n++
			}
		}
	}
	return sum / float64(n), worst
}

// wantIIIFError checks an error of the image service: its status, a human-readable text
// body (with the given words, case-insensitive), CORS, and none of the headers of an
// image.
func wantIIIFError(t *testing.T, rec *httptest.ResponseRecorder, status int, words ...string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body: %s", rec.Code, status, truncate(rec.Body.String(), 300))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
	body := strings.TrimSpace(rec.Body.String())
	if len(body) < 10 || strings.HasPrefix(body, "{") || strings.HasPrefix(body, "<") {
		t.Errorf("body = %q, want a sentence a person can read", body)
	}
	for _, w := range words {
		if !strings.Contains(strings.ToLower(body), strings.ToLower(w)) {
			t.Errorf("body = %q, want it to mention %q", body, w)
		}
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
	}
	for _, h := range []string{"Cache-Control", "ETag", "Link"} {
		if v := rec.Header().Get(h); v != "" {
			t.Errorf("the error carries %s: %q", h, v)
		}
	}
	if status == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") == "" {
		t.Errorf("503 without a Retry-After header")
	}
}

const profileLink = `<http://iiif.io/api/image/3/level2.json>;rel="profile"`

func TestIIIFInfo(t *testing.T) {
	f := newIIIFFixture(t, imagery.Options{})
	rec := f.get(t, "info.json")
	wantStatus(t, rec, http.StatusOK)

	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("info.json does not start with an object: %v %v", tok, err)
	}
	if key, err := dec.Token(); err != nil || key != "@context" {
		t.Errorf("first key of info.json = %v, want @context", key)
	}
	var info struct {
		Context   string `json:"@context"`
		ID        string `json:"id"`
		Type      string `json:"type"`
		Protocol  string `json:"protocol"`
		Profile   string `json:"profile"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		MaxWidth  int    `json:"maxWidth"`
		MaxHeight int    `json:"maxHeight"`
		MaxArea   int    `json:"maxArea"`
		Sizes     []struct{ Width, Height int }
		Tiles     []struct {
			Width, Height int
			ScaleFactors  []int
		}
		ExtraQualities []string `json:"extraQualities"`
		ExtraFormats   []string `json:"extraFormats"`
		ExtraFeatures  []string `json:"extraFeatures"`
	}
	decode(t, rec, &info)
	fields := []struct {
		name      string
		got, want any
	}{
		{"@context", info.Context, "http://iiif.io/api/image/3/context.json"},
		{"id", info.ID, "http://example.com/iiif/3/" + f.img.ID},
		{"type", info.Type, "ImageService3"},
		{"protocol", info.Protocol, "http://iiif.io/api/image"},
		{"profile", info.Profile, "level2"},
		{"width", info.Width, sceneW},
		{"height", info.Height, sceneH},
		{"maxWidth", info.MaxWidth, imagery.IIIFMaxWidth},
		{"maxHeight", info.MaxHeight, imagery.IIIFMaxHeight},
		{"maxArea", info.MaxArea, imagery.IIIFMaxArea},
	}
	for _, fl := range fields {
		if fl.got != fl.want {
			t.Errorf("%s = %v, want %v", fl.name, fl.got, fl.want)
		}
	}
	for _, list := range []struct {
		name      string
		got, want []string
	}{
		{"extraQualities", info.ExtraQualities, []string{"color", "gray", "bitonal"}},
		{"extraFormats", info.ExtraFormats, []string{"gif", "tif"}},
		{"extraFeatures", info.ExtraFeatures, []string{"mirroring", "sizeUpscaling"}},
	} {
		for _, w := range list.want {
			if !slices.Contains(list.got, w) {
				t.Errorf("%s = %v, want it to list %s", list.name, list.got, w)
			}
		}
	}
	if got := rec.Header().Get("Link"); got != profileLink {
		t.Errorf("Link = %q, want %q", got, profileLink)
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
	}

	t.Run("ok, id follows the request's host", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, f.base+"/info.json", nil)
		req.Host = "satmark.test:8080"
		req.Header.Set("Authorization", "Bearer "+f.token)
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		var got struct{ ID string }
		decode(t, rec, &got)
		if want := "http://satmark.test:8080/iiif/3/" + f.img.ID; got.ID != want {
			t.Errorf("id = %q, want %q", got.ID, want)
		}
	})

	t.Run("ok, every listed size works", func(t *testing.T) {
		if len(info.Sizes) == 0 {
			t.Fatal("no sizes listed")
		}
		for _, sz := range info.Sizes {
			rec := f.get(t, fmt.Sprintf("full/%d,%d/0/default.jpg", sz.Width, sz.Height))
			wantStatus(t, rec, http.StatusOK)
			if b := decodeAs(t, rec, "jpg").Bounds(); b.Dx() != sz.Width || b.Dy() != sz.Height {
				t.Errorf("size %d×%d answered %d×%d", sz.Width, sz.Height, b.Dx(), b.Dy())
			}
		}
	})

	t.Run("ok, tiles: 256 px, scale factors until one tile holds the image", func(t *testing.T) {
		if len(info.Tiles) != 1 {
			t.Fatalf("tiles = %+v, want one entry", info.Tiles)
		}
		tl := info.Tiles[0]
		var want []int
		for s := 1; ; s *= 2 {
			want = append(want, s)
			if (sceneW+s-1)/s <= 256 && (sceneH+s-1)/s <= 256 {
				break
			}
		}
		if tl.Width != 256 || (tl.Height != 0 && tl.Height != 256) || !slices.Equal(tl.ScaleFactors, want) {
			t.Errorf("tiles = %+v, want width 256, height 256 and scaleFactors %v", tl, want)
		}
	})

	// Image API 3.0 §5.1: JSON-LD with the context as profile when no Accept is sent or
	// JSON-LD is named; plain JSON, linking the context, when the client takes any type
	// (a browser) or prefers JSON.
	const (
		ld       = `application/ld+json;profile="http://iiif.io/api/image/3/context.json"`
		chromium = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
	)
	negotiation := []struct {
		name, accept, want string
	}{
		{"ok, no Accept is JSON-LD with the IIIF profile", "", ld},
		{"ok, Accept anything is plain JSON", "*/*", "application/json"},
		{"ok, a browser's Accept is plain JSON", chromium, "application/json"},
		{"ok, Accept application/* is plain JSON", "application/*", "application/json"},
		{"ok, Accept application/json", "application/json", "application/json"},
		{"ok, Accept application/ld+json", "application/ld+json", ld},
		{"ok, Accept application/ld+json with the IIIF profile", ld, ld},
		{"ok, Accept application/ld+json with the profile, spaced and in other case", `Application/LD+JSON; Profile="http://iiif.io/api/image/3/context.json"`, ld},
		{"ok, JSON-LD named beside a wildcard", "application/ld+json, */*;q=0.1", ld},
		{"ok, JSON-LD preferred by q-value", "application/json;q=0.5, application/ld+json;q=0.9", ld},
		{"ok, plain JSON preferred by q-value", "application/ld+json;q=0.4, application/json", "application/json"},
		{"ok, JSON-LD refused with q=0", "application/ld+json;q=0, */*", "application/json"},
		{"ok, JSON-LD of another profile is not this document", `application/ld+json;profile="http://iiif.io/api/image/2/context.json", application/json;q=0.5`, "application/json"},
		{"ok, neither type acceptable still answers JSON", "text/html", "application/json"},
	}
	for _, tc := range negotiation {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.accept != "" {
				headers = []string{"Accept", tc.accept}
			}
			rec := f.get(t, "info.json", headers...)
			wantStatus(t, rec, http.StatusOK)
			if got := rec.Header().Get("Content-Type"); got != tc.want {
				t.Errorf("Content-Type = %q, want %q", got, tc.want)
			}
			link := rec.Header().Get("Link")
			const contextLink = `<http://iiif.io/api/image/3/context.json>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"`
			if wantContext := tc.want == "application/json"; strings.Contains(link, contextLink) != wantContext || !strings.Contains(link, profileLink) {
				t.Errorf("Link = %q, want the profile and, for plain JSON only, the context %s", link, contextLink)
			}
			if vary := rec.Header().Get("Vary"); !strings.Contains(vary, "Accept") {
				t.Errorf("Vary = %q, want Accept", vary)
			}
		})
	}
}

func TestIIIFEveryTileWorks(t *testing.T) {
	f := newIIIFFixture(t, imagery.Options{})
	var scales []int
	for _, lv := range imagery.Levels(sceneW, sceneH) {
		scales = append(scales, lv.Scale)
	}
	tiles := tilesOf(sceneW, sceneH, imagery.TileSize, scales)
	if len(tiles) != 12+4+1 {
		t.Fatalf("%d tiles for scale factors %v, want 17", len(tiles), scales)
	}
	for _, tl := range tiles {
		t.Run(fmt.Sprintf("ok, scale %d row %d col %d", tl.scale, tl.row, tl.col), func(t *testing.T) {
			target := f.base + "/" + tl.path()
			rec := f.do(t, http.MethodGet, target, nil)
			wantStatus(t, rec, http.StatusOK)
			img := decodeAs(t, rec, "jpg")
			if b := img.Bounds(); b.Dx() != tl.w || b.Dy() != tl.h {
				t.Fatalf("tile is %d×%d, want %d×%d", b.Dx(), b.Dy(), tl.w, tl.h)
			}
			// The tile shows its part of the scene: a misplaced tile is off by hundreds of levels.
			if mean, worst := diffFrom(img, f.scene, view{x: tl.x, y: tl.y, w: tl.rw, h: tl.rh}); mean > 3 || worst > 24 {
				t.Errorf("tile differs from the scene by %.1f on average, %.0f at worst; want ≤ 3 and ≤ 24", mean, worst)
			}
			if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
				t.Errorf("Cache-Control = %q, want immutable", cc)
			}
			etag := rec.Header().Get("ETag")
			if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
				t.Errorf("ETag = %q, want a strong (quoted, not W/) tag", etag)
			}
			link := rec.Header().Get("Link")
			if !strings.Contains(link, profileLink) || !strings.Contains(link, `rel="canonical"`) {
				t.Errorf("Link = %q, want the profile and the canonical URI", link)
			}
			again := f.do(t, http.MethodGet, target, nil, "If-None-Match", etag)
			wantStatus(t, again, http.StatusNotModified)
			if again.Body.Len() != 0 {
				t.Errorf("304 has a body of %d bytes", again.Body.Len())
			}
		})
	}
}

func TestIIIFHTTP(t *testing.T) {
	f := newIIIFFixture(t, imagery.Options{})

	t.Run("ok, base URI redirects to info.json", func(t *testing.T) {
		rec := f.do(t, http.MethodGet, f.base, nil)
		wantStatus(t, rec, http.StatusSeeOther)
		if got, want := rec.Header().Get("Location"), "http://example.com"+f.base+"/info.json"; got != want {
			t.Errorf("Location = %q, want %q", got, want)
		}
		if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
			t.Errorf("Access-Control-Allow-Origin = %q, want *", got)
		}
	})

	t.Run("ok, CORS preflight", func(t *testing.T) {
		for _, rel := range []string{"info.json", "full/max/0/default.jpg", "0,0,256,256/256,256/0/default.jpg"} {
			rec := f.do(t, http.MethodOptions, f.base+"/"+rel, nil, "Origin", "https://viewer.example",
				"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "x-requested-with, range")
			wantStatus(t, rec, http.StatusNoContent)
			h := rec.Header()
			if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") ||
				!strings.Contains(h.Get("Access-Control-Allow-Methods"), "HEAD") || h.Get("Access-Control-Allow-Headers") != "x-requested-with, range" {
				t.Errorf("%s: preflight headers = %v, want origin *, methods with GET and HEAD, the requested headers echoed", rel, h)
			}
		}
	})

	t.Run("ok, HEAD answers the headers of GET without a body", func(t *testing.T) {
		// Over real HTTP, as a client sees it (a handler may write a body that net/http
		// then drops for HEAD).
		hs := httptest.NewServer(f.srv)
		defer hs.Close()
		for _, rel := range []string{"info.json", "0,0,256,256/256,256/0/default.jpg", "full/pct:20/0/default.png",
			"full/max/45/default.jpg", "full/max/0/best.jpg", "/iiif/3/img_aaaaaaaaaaaa/info.json"} {
			target := hs.URL + f.base + "/" + rel
			if strings.HasPrefix(rel, "/") {
				target = hs.URL + rel
			}
			send := func(method string) (*http.Response, []byte) {
				t.Helper()
				req, err := http.NewRequest(method, target, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+f.token)
				resp, err := hs.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				return resp, body
			}
			get, getBody := send(http.MethodGet)
			head, headBody := send(http.MethodHead)
			if head.StatusCode != get.StatusCode {
				t.Errorf("%s: HEAD status %d, GET %d", rel, head.StatusCode, get.StatusCode)
			}
			if len(headBody) != 0 {
				t.Errorf("%s: HEAD has a body of %d bytes", rel, len(headBody))
			}
			if get.StatusCode == http.StatusOK && head.ContentLength != int64(len(getBody)) {
				t.Errorf("%s: HEAD says Content-Length %d, GET sends %d bytes", rel, head.ContentLength, len(getBody))
			}
			for _, h := range []string{"Content-Type", "ETag", "Link", "Cache-Control", "Access-Control-Allow-Origin", "Retry-After"} {
				if get.StatusCode != http.StatusOK && h == "Content-Type" {
					continue // an error's text is not sent to HEAD
				}
				if g, hd := get.Header.Get(h), head.Header.Get(h); g != hd {
					t.Errorf("%s: %s = %q on HEAD, %q on GET", rel, h, hd, g)
				}
			}
		}
	})

	canonical := []struct {
		name, rel, want string
	}{
		{"ok, pct region", "pct:50,50,50,50/max/0/default.jpg", "500,350,500,350/max/0/default.jpg"},
		{"ok, whole-image region is full", "0,0,1000,700/500,/0/default.png", "full/500,350/0/default.png"},
		{"ok, width that equals the full size is max", "full/1000,/0/color.jpg", "full/max/0/color.jpg"},
		{"ok, square region", "square/!350,350/360/default.jpg", "150,0,700,700/350,350/0/default.jpg"},
		{"ok, pct size and mirroring", "full/pct:50/!90/gray.png", "full/500,350/!90/gray.png"},
		{"ok, upscaled size", "full/^1500,/0/default.jpg", "full/^1500,1050/0/default.jpg"},
		{"ok, ^ without upscaling", "full/^500,/0/default.jpg", "full/500,350/0/default.jpg"},
		{"ok, ^!w,h held at the limits is ^max", "full/^!8192,8192/0/default.jpg", "full/^max/0/default.jpg"},
		{"ok, tile", "768,512,232,188/232,188/0/default.jpg", "768,512,232,188/max/0/default.jpg"},
	}
	for _, tc := range canonical {
		t.Run(tc.name+": canonical Link", func(t *testing.T) {
			rec := f.get(t, tc.rel)
			wantStatus(t, rec, http.StatusOK)
			want := `<http://example.com` + f.base + "/" + tc.want + `>;rel="canonical"`
			link := rec.Header().Get("Link")
			if !strings.Contains(link, want) || !strings.Contains(link, profileLink) {
				t.Errorf("Link = %q, want %s and the profile", link, want)
			}
		})
	}
}

func TestIIIFValidRequests(t *testing.T) {
	f := newIIIFFixture(t, imagery.Options{})
	ref := f.reference(t)
	full := view{w: sceneW, h: sceneH}
	tests := []struct {
		name         string
		rel          string
		wantW, wantH int
		v            view // what the answer shows; zero w means do not compare pixels
	}{
		// Regions.
		{"ok, region full", "full/max/0/default.jpg", 1000, 700, full},
		{"ok, region square is centred", "square/max/0/default.jpg", 700, 700, view{x: 150, w: 700, h: 700}},
		{"ok, region x,y,w,h inside", "100,50,300,200/max/0/default.jpg", 300, 200, view{x: 100, y: 50, w: 300, h: 200}},
		{"ok, region x,y,w,h partly outside is cropped", "900,600,200,200/max/0/default.jpg", 100, 100, view{x: 900, y: 600, w: 100, h: 100}},
		{"ok, region x,y,w,h across a tile edge", "250,250,20,20/max/0/default.png", 20, 20, view{x: 250, y: 250, w: 20, h: 20}},
		{"ok, region pct", "pct:10,20,30,40/max/0/default.jpg", 300, 280, view{x: 100, y: 140, w: 300, h: 280}},
		{"ok, region pct partly outside is cropped", "pct:50,50,60,60/max/0/default.jpg", 500, 350, view{x: 500, y: 350, w: 500, h: 350}},
		{"ok, region pct with decimals: the smallest pixel region around it", "pct:0.5,1.5,2.5,3.5/max/0/default.png", 25, 25, view{x: 5, y: 10, w: 25, h: 25}},
		// Sizes.
		{"ok, size w,", "full/500,/0/default.jpg", 500, 350, full},
		{"ok, size ,h", "full/,300/0/default.jpg", 429, 300, full},
		{"ok, size pct:n", "full/pct:33/0/default.jpg", 330, 231, full},
		{"ok, size w,h distorts", "full/400,300/0/default.jpg", 400, 300, full},
		{"ok, size !w,h fits inside", "full/!400,400/0/default.jpg", 400, 280, full},
		{"ok, size !w,h never larger than the region", "full/!2000,2000/0/default.jpg", 1000, 700, full},
		{"ok, size of a small region", "500,300,64,48/16,12/0/default.png", 16, 12, view{x: 500, y: 300, w: 64, h: 48}},
		{"ok, size ^max", "full/^max/0/default.jpg", 4895, 3426, view{}},
		{"ok, size ^max percent-encoded", "full/%5Emax/0/default.jpg", 4895, 3426, view{}},
		{"ok, size ^w,", "100,100,200,100/^300,/0/default.jpg", 300, 150, view{x: 100, y: 100, w: 200, h: 100}},
		{"ok, size ^,h", "100,100,200,100/^,300/0/default.jpg", 600, 300, view{x: 100, y: 100, w: 200, h: 100}},
		{"ok, size ^pct:150", "0,0,400,400/^pct:150/0/default.jpg", 600, 600, view{w: 400, h: 400}},
		{"ok, size ^w,h", "full/^1200,900/0/default.jpg", 1200, 900, full},
		{"ok, size ^!w,h", "full/^!1400,1400/0/default.jpg", 1400, 980, full},
		{"ok, size ^w, up to maxWidth", "0,0,1000,100/^8192,/0/default.jpg", 8192, 819, view{}},
		{"ok, size ^!w,h stays inside maxArea", "full/^!8192,8192/0/default.jpg", 4895, 3426, view{}},
		// Rotation and mirroring.
		{"ok, rotation 90 swaps the sides", "100,50,300,200/max/90/default.png", 200, 300, view{x: 100, y: 50, w: 300, h: 200, rot: 90}},
		{"ok, rotation 180", "100,50,300,200/max/180/default.png", 300, 200, view{x: 100, y: 50, w: 300, h: 200, rot: 180}},
		{"ok, rotation 270 swaps the sides", "100,50,300,200/max/270/default.png", 200, 300, view{x: 100, y: 50, w: 300, h: 200, rot: 270}},
		{"ok, rotation 360 is 0", "100,50,300,200/max/360/default.png", 300, 200, view{x: 100, y: 50, w: 300, h: 200}},
		{"ok, mirroring !0", "100,50,300,200/max/!0/default.png", 300, 200, view{x: 100, y: 50, w: 300, h: 200, mirror: true}},
		{"ok, mirroring then rotation !90", "100,50,300,200/max/!90/default.png", 200, 300, view{x: 100, y: 50, w: 300, h: 200, mirror: true, rot: 90}},
		{"ok, mirroring then rotation !270 of a scaled region", "full/pct:20/!270/default.jpg", 140, 200, view{w: sceneW, h: sceneH, mirror: true, rot: 270}},
		// Qualities.
		{"ok, quality color", "full/pct:25/0/color.jpg", 250, 175, full},
		{"ok, quality gray", "full/pct:30/0/gray.jpg", 300, 210, view{w: sceneW, h: sceneH, gray: true}},
		{"ok, quality gray as png", "full/pct:30/0/gray.png", 300, 210, view{w: sceneW, h: sceneH, gray: true}},
		{"ok, quality gray as gif", "full/pct:30/0/gray.gif", 300, 210, view{}},
		{"ok, quality bitonal", "full/pct:30/0/bitonal.png", 300, 210, view{}},
		{"ok, quality bitonal as gif", "full/pct:30/0/bitonal.gif", 300, 210, view{}},
		{"ok, quality bitonal as jpg", "full/pct:30/0/bitonal.jpg", 300, 210, view{}},
		// Formats.
		{"ok, format png", "pct:20,20,40,40/300,/0/default.png", 300, 210, view{x: 200, y: 140, w: 400, h: 280}},
		{"ok, format gif", "pct:20,20,40,40/300,/0/default.gif", 300, 210, view{}},
		{"ok, format tif", "pct:20,20,40,40/300,/0/default.tif", 300, 210, view{x: 200, y: 140, w: 400, h: 280}},
		{"ok, format tif gray", "pct:20,20,40,40/300,/90/gray.tif", 210, 300, view{x: 200, y: 140, w: 400, h: 280, rot: 90, gray: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := f.get(t, tc.rel)
			wantStatus(t, rec, http.StatusOK)
			format := tc.rel[strings.LastIndexByte(tc.rel, '.')+1:]
			if tc.wantW*tc.wantH > 4_000_000 {
				// Too large to decode cheaply: its header says its size.
				cfg, _, err := image.DecodeConfig(bytes.NewReader(rec.Body.Bytes()))
				if err != nil || cfg.Width != tc.wantW || cfg.Height != tc.wantH {
					t.Errorf("answer is %d×%d (err %v), want %d×%d", cfg.Width, cfg.Height, err, tc.wantW, tc.wantH)
				}
				return
			}
			img := decodeAs(t, rec, format)
			if b := img.Bounds(); b.Dx() != tc.wantW || b.Dy() != tc.wantH {
				t.Fatalf("answer is %d×%d, want %d×%d", b.Dx(), b.Dy(), tc.wantW, tc.wantH)
			}
			h := rec.Header()
			if h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Link"), profileLink) ||
				!strings.Contains(h.Get("Link"), `rel="canonical"`) || h.Get("ETag") == "" {
				t.Errorf("headers %v, want CORS, the profile and canonical Link and an ETag", h)
			}
			quality := tc.rel[strings.LastIndexByte(tc.rel, '/')+1 : strings.LastIndexByte(tc.rel, '.')]
			switch quality {
			case "gray":
				if n, worst := notGrey(img); n > 0 {
					t.Errorf("%d pixels are not grey (R, G and B up to %d apart)", n, worst)
				}
			case "bitonal":
				tolerance := 0
				if format == "jpg" {
					tolerance = 40 // JPEG rings at the edges between black and white
				}
				if n, example := notBitonal(img, tolerance); n > 0 {
					t.Errorf("%d pixels are neither black nor white (within %d), e.g. %v", n, tolerance, example)
				}
			}
			if tc.v.w == 0 {
				return
			}
			// Resampling and JPEG move a level or two; a misplaced or mirrored region moves
			// tens of levels on average.
			if mean, worst := diffFrom(img, ref, tc.v); mean > 3 || worst > 24 {
				t.Errorf("answer differs from the pyramid by %.2f on average, %.0f at worst; want ≤ 3 and ≤ 24", mean, worst)
			}
		})
	}

	t.Run("ok, a tile's region rendered as png matches the tile", func(t *testing.T) {
		tileRec := f.get(t, "256,256,256,256/256,256/0/default.jpg")
		wantStatus(t, tileRec, http.StatusOK)
		pngRec := f.get(t, "256,256,256,256/max/0/default.png")
		wantStatus(t, pngRec, http.StatusOK)
		tile, rendered := decodeAs(t, tileRec, "jpg"), decodeAs(t, pngRec, "png")
		if mean, worst := diffFrom(rendered, tile, view{w: 256, h: 256}); mean > 1 || worst > 8 {
			t.Errorf("png render differs from the tile by %.2f on average, %.0f at worst; want ≤ 1 and ≤ 8", mean, worst)
		}
	})

	t.Run("ok, mirroring and rotation move pixels where IIIF says", func(t *testing.T) {
		plain := decodeAs(t, f.get(t, "100,50,300,200/max/0/default.png"), "png")
		W, H := 300, 200
		moves := []struct {
			rotation string
			to       func(x, y int) (int, int) // where pixel (x, y) of the plain answer goes
		}{
			{"!0", func(x, y int) (int, int) { return W - 1 - x, y }},
			{"90", func(x, y int) (int, int) { return H - 1 - y, x }},
			{"180", func(x, y int) (int, int) { return W - 1 - x, H - 1 - y }},
			{"270", func(x, y int) (int, int) { return y, W - 1 - x }},
			{"!90", func(x, y int) (int, int) { return H - 1 - y, W - 1 - x }},
			{"!180", func(x, y int) (int, int) { return x, H - 1 - y }},
		}
		for _, m := range moves {
			turned := decodeAs(t, f.get(t, "100,50,300,200/max/"+m.rotation+"/default.png"), "png")
			for _, p := range [][2]int{{0, 0}, {10, 150}, {299, 0}, {150, 20}, {250, 199}} {
				tx, ty := m.to(p[0], p[1])
				if got, want := rgb8(turned.At(tx, ty)), rgb8(plain.At(p[0], p[1])); got != want {
					t.Errorf("rotation %s: pixel (%d, %d) = %v, want %v from (%d, %d) of the plain answer", m.rotation, tx, ty, got, want, p[0], p[1])
				}
			}
		}
	})
}

// notGrey counts the pixels whose red, green and blue differ by more than 2 levels.
func notGrey(img image.Image) (n int, worst int) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgb8(img.At(x, y))
			spread := int(max(c[0], c[1], c[2])) - int(min(c[0], c[1], c[2]))
			if spread > 2 {
				n++
				worst = max(worst, spread)
			}
		}
	}
	return n, worst
}

// notBitonal counts the pixels that are not black or white within tolerance.
func notBitonal(img image.Image, tolerance int) (n int, example [3]uint8) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgb8(img.At(x, y))
			for _, v := range c {
				if int(v) > tolerance && int(v) < 255-tolerance {
					n++
					example = c
					break
				}
			}
		}
	}
	return n, example
}

func TestIIIFInvalidRequests(t *testing.T) {
	f := newIIIFFixture(t, imagery.Options{})
	id := f.img.ID
	tests := []struct {
		name   string
		method string
		target string // relative to the base URI unless it starts with /
		status int
		words  []string
	}{
		// Sizes of nothing.
		{"nok, size 0,", "", "full/0,/0/default.jpg", 400, []string{"size"}},
		{"nok, size ,0", "", "full/,0/0/default.jpg", 400, nil},
		{"nok, size 0,0", "", "full/0,0/0/default.jpg", 400, nil},
		{"nok, size !0,5", "", "full/!0,5/0/default.jpg", 400, nil},
		{"nok, size pct:0", "", "full/pct:0/0/default.jpg", 400, nil},
		{"nok, size ^pct:0", "", "full/^pct:0/0/default.jpg", 400, nil},
		// Signs and other characters numbers do not have.
		{"nok, negative x", "", "-1,0,10,10/max/0/default.jpg", 400, []string{"region"}},
		{"nok, signed width", "", "full/+5,/0/default.jpg", 400, nil},
		{"nok, negative pct", "", "pct:-5,0,10,10/max/0/default.jpg", 400, nil},
		{"nok, signed pct size", "", "full/pct:+50/0/default.jpg", 400, nil},
		{"nok, exponent", "", "full/pct:1e2/0/default.jpg", 400, nil},
		{"nok, decimal pixels", "", "0.5,0,10,10/max/0/default.jpg", 400, nil},
		{"nok, space in a number", "", "0,%200,10,10/max/0/default.jpg", 400, nil},
		{"nok, three numbers", "", "0,0,10/max/0/default.jpg", 400, nil},
		{"nok, five numbers", "", "0,0,10,10,10/max/0/default.jpg", 400, nil},
		{"nok, unknown region word", "", "all/max/0/default.jpg", 400, nil},
		{"nok, size with three numbers", "", "full/1,2,3/0/default.jpg", 400, nil},
		{"nok, unknown size word", "", "full/min/0/default.jpg", 400, nil},
		{"nok, !w, without h", "", "full/!100,/0/default.jpg", 400, nil},
		// Regions outside the image or without area.
		{"nok, x at the width", "", "1000,0,10,10/max/0/default.jpg", 400, []string{"outside"}},
		{"nok, y at the height", "", "0,700,10,10/max/0/default.jpg", 400, []string{"outside"}},
		{"nok, far outside", "", "5000,5000,10,10/max/0/default.jpg", 400, nil},
		{"nok, zero width", "", "0,0,0,10/max/0/default.jpg", 400, nil},
		{"nok, zero height", "", "0,0,10,0/max/0/default.jpg", 400, nil},
		{"nok, pct region starting at 100", "", "pct:100,0,10,10/max/0/default.jpg", 400, nil},
		{"nok, pct region starting below the image", "", "pct:0,100,10,10/max/0/default.jpg", 400, nil},
		{"nok, pct region starting past 100", "", "pct:150,0,10,10/max/0/default.jpg", 400, nil},
		{"nok, pct region without area", "", "pct:0,0,0,10/max/0/default.jpg", 400, nil},
		// Sizes larger than the region without ^, or beyond the limits with it.
		{"nok, pct over 100 without ^", "", "full/pct:120/0/default.jpg", 400, []string{"^"}},
		{"nok, width over the region without ^", "", "full/1200,/0/default.jpg", 400, []string{"^"}},
		{"nok, height over the region without ^", "", "full/,701/0/default.jpg", 400, nil},
		{"nok, w,h over the region without ^", "", "full/1000,701/0/default.jpg", 400, nil},
		{"nok, w,h over a small region", "", "0,0,500,500/600,400/0/default.jpg", 400, nil},
		{"nok, ^ width over maxWidth", "", "full/^8193,/0/default.jpg", 400, []string{"limit"}},
		{"nok, ^ height over maxHeight", "", "full/^,8193/0/default.jpg", 400, nil},
		{"nok, ^ over maxArea", "", "full/^5000,5000/0/default.jpg", 400, []string{"maxArea"}},
		{"nok, ^pct over the limits", "", "full/^pct:1000/0/default.jpg", 400, nil},
		{"nok, ^pct so large it overflows", "", "full/^pct:99999999999999999999/0/default.jpg", 400, nil},
		{"nok, ^ width with ten digits", "", "full/^9999999999,/0/default.jpg", 400, nil},
		// Quality and format.
		{"nok, quality best", "", "full/max/0/best.jpg", 400, []string{"quality"}},
		{"nok, quality empty", "", "full/max/0/.jpg", 400, nil},
		{"nok, format webp", "", "full/max/0/default.webp", 400, []string{"format"}},
		{"nok, format jp2", "", "full/max/0/default.jp2", 400, nil},
		{"nok, format pdf", "", "full/max/0/default.pdf", 400, nil},
		{"nok, format bmp", "", "full/max/0/default.bmp", 400, nil},
		{"nok, no format", "", "full/max/0/default", 400, nil},
		{"nok, empty format", "", "full/max/0/default.", 400, nil},
		{"nok, format in capitals", "", "full/max/0/default.JPG", 400, nil},
		// Rotation.
		{"nok, rotation 45", "", "full/max/45/default.jpg", 400, []string{"rotation"}},
		{"nok, rotation 360.5", "", "full/max/360.5/default.jpg", 400, nil},
		{"nok, rotation -90", "", "full/max/-90/default.jpg", 400, nil},
		{"nok, rotation !", "", "full/max/!/default.jpg", 400, nil},
		{"nok, rotation abc", "", "full/max/abc/default.jpg", 400, nil},
		{"nok, rotation !!90", "", "full/max/!!90/default.jpg", 400, nil},
		{"nok, rotation 720", "", "full/max/720/default.jpg", 400, nil},
		// Junk segments.
		{"nok, four segments", "", "full/max/0", 400, nil},
		{"nok, six segments", "", "full/max/0/default.jpg/more", 400, nil},
		{"nok, empty region", "", "/max/0/default.jpg", 400, nil},
		{"nok, empty size", "", "full//0/default.jpg", 400, nil},
		{"nok, empty rotation", "", "full/max//default.jpg", 400, nil},
		{"nok, empty segment before the request", "", "/full/max/0/default.jpg", 400, nil},
		{"nok, info.xml", "", "info.xml", 400, nil},
		{"nok, info.json with a trailing slash", "", "info.json/", 400, nil},
		{"nok, query-like junk", "", "full/max/0/default.jpg%3Fx=1", 400, nil},
		// Unknown identifiers.
		{"nok, unknown id", "", "/iiif/3/img_aaaaaaaaaaaa/info.json", 404, []string{"no image"}},
		{"nok, img_doesnotexist", "", "/iiif/3/img_doesnotexist/full/max/0/default.jpg", 404, nil},
		{"nok, climbing out", "", "/iiif/3/../../etc/passwd", 404, nil},
		{"nok, encoded dots", "", "/iiif/3/%2e%2e/info.json", 404, nil},
		{"nok, encoded dots and slashes", "", "/iiif/3/%2e%2e%2f%2e%2e%2fetc%2fpasswd/info.json", 404, nil},
		{"nok, the image's hash", "", "/iiif/3/" + f.img.SHA256 + "/info.json", 404, nil},
		{"nok, no id", "", "/iiif/3/", 404, nil},
		{"nok, an encoded slash belongs to the identifier", "", "/iiif/3/" + id + "%2Finfo.json", 404, nil},
		{"nok, unknown id with a bad request", "", "/iiif/3/img_aaaaaaaaaaaa/full/max/45/default.jpg", 404, nil},
		// Methods.
		{"nok, POST", http.MethodPost, "full/max/0/default.jpg", 405, nil},
		{"nok, PUT", http.MethodPut, "info.json", 405, nil},
		{"nok, DELETE", http.MethodDelete, "info.json", 405, nil},
		{"nok, PATCH", http.MethodPatch, "0,0,256,256/256,256/0/default.jpg", 405, nil},
		{"nok, POST to an unknown id", http.MethodPost, "/iiif/3/img_aaaaaaaaaaaa/info.json", 405, nil},
		{"nok, PROPFIND", "PROPFIND", "info.json", 405, nil},
		{"nok, TRACE", http.MethodTrace, "full/max/0/default.jpg", 405, nil},
		{"nok, a method HTTP does not define", "BREW", "info.json", 405, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			method, target := tc.method, tc.target
			if method == "" {
				method = http.MethodGet
			}
			if !strings.HasPrefix(target, "/iiif/") {
				target = f.base + "/" + target
			}
			rec := f.do(t, method, target, nil)
			wantIIIFError(t, rec, tc.status, tc.words...)
			if tc.status == http.StatusMethodNotAllowed {
				if allow := rec.Header().Get("Allow"); allow != "GET, HEAD, OPTIONS" {
					t.Errorf("Allow = %q, want GET, HEAD, OPTIONS", allow)
				}
			}
			if strings.Contains(rec.Body.String(), f.dir) {
				t.Errorf("the body shows the data folder: %s", rec.Body)
			}
		})
	}
}

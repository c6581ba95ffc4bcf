package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

func TestEXIFOrientationDefinesPixelSpace(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	data := withEXIFOrientation(t, jpegBytes(t, 64, 48, 20), 6) // stored 64×48, displayed rotated
	img := ts.mustUpload(t, filePart("rotated.jpg", data))
	if img.Width != 48 || img.Height != 64 || img.Orientation != 6 {
		t.Fatalf("image is %d×%d with orientation %d, want 48×64 with orientation 6", img.Width, img.Height, img.Orientation)
	}
	ts.buildPyramids(t)
	for _, target := range []string{"/api/v1/images/" + img.ID + "/thumbnail", "/iiif/3/" + img.ID + "/full/max/0/default.jpg",
		"/iiif/3/" + img.ID + "/full/max/0/default.png"} {
		rec := ts.do(t, http.MethodGet, target, nil)
		wantStatus(t, rec, http.StatusOK)
		if cfg, _, err := image.DecodeConfig(rec.Body); err != nil || cfg.Width != 48 || cfg.Height != 64 {
			t.Errorf("%s is %d×%d (err %v), want 48×64 (oriented)", target, cfg.Width, cfg.Height, err)
		}
	}
	var info struct{ Width, Height int }
	decode(t, ts.do(t, http.MethodGet, "/iiif/3/"+img.ID+"/info.json", nil), &info)
	if info.Width != 48 || info.Height != 64 {
		t.Errorf("info.json says %d×%d, want 48×64 (oriented)", info.Width, info.Height)
	}
	tests := []struct {
		name   string
		point  string
		status int
	}{
		{"ok, point inside the oriented image", "[40, 60]", http.StatusCreated},
		{"ok, bottom-right corner of the oriented image", "[48, 64]", http.StatusCreated},
		{"nok, x beyond the oriented width", "[60, 30]", http.StatusUnprocessableEntity},
		{"nok, y beyond the oriented height", "[10, 64.5]", http.StatusUnprocessableEntity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/annotations",
				`{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": `+tc.point+`}}`)
			if tc.status == http.StatusCreated {
				wantStatus(t, rec, tc.status)
				return
			}
			wantError(t, rec, tc.status, "invalid", "geometry", "outside", "48", "64")
		})
	}
}

func TestListAndGetImages(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	rec := ts.do(t, http.MethodGet, "/api/v1/images", nil)
	wantStatus(t, rec, http.StatusOK)
	if got := strings.TrimSpace(rec.Body.String()); got != "[]" {
		t.Errorf("empty list = %s, want []", got)
	}
	a := ts.newImage(t, 30, field("title", "A"))
	b := ts.newImage(t, 31, field("title", "B"))
	ts.createAnnotation(t, b.ID, `{"label": "frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [1, 2]}}`)

	rec = ts.do(t, http.MethodGet, "/api/v1/images", nil)
	wantStatus(t, rec, http.StatusOK)
	var list []annotations.Image
	decode(t, rec, &list)
	counts := map[string]int{}
	for _, img := range list {
		counts[img.ID] = img.AnnotationCount
	}
	if len(list) != 2 || counts[a.ID] != 0 || counts[b.ID] != 1 {
		t.Errorf("list = %v (id → annotation count), want %s → 0 and %s → 1", counts, a.ID, b.ID)
	}

	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+b.ID, nil)
	wantStatus(t, rec, http.StatusOK)
	var got annotations.Image
	decode(t, rec, &got)
	if got.ID != b.ID || got.Title != "B" || got.SHA256 != b.SHA256 || got.AnnotationCount != 1 {
		t.Errorf("got %s %q %s count %d, want %s %q %s count 1", got.ID, got.Title, got.SHA256, got.AnnotationCount, b.ID, "B", b.SHA256)
	}

	for _, id := range []string{"img_aaaaaaaaaaaa", "nope", b.SHA256} {
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+id, nil), http.StatusNotFound, "not_found", "")
	}
}

func TestUpdateImageProvenance(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 40, field("title", "old"), field("publisher", "NIS"),
		field("captured_from", "2024-10-08"), field("captured_to", "2024-10-13"))
	other := ts.newImage(t, 41, field("source_id", img.Source.ID))
	path := "/api/v1/images/" + img.ID

	rec := ts.doJSON(t, http.MethodPatch, path, map[string]any{
		"title": "  Landing ships, Vladivostok  ", "released_at": "2024-10-18T09:30:00+09:00",
		"claim": "four landing ships", "publisher_markup": true, "location_name": "Vladivostok",
	})
	wantStatus(t, rec, http.StatusOK)
	var got annotations.Image
	decode(t, rec, &got)
	if got.Title != "Landing ships, Vladivostok" || got.Source.ReleasedAt != "2024-10-18T00:30:00Z" || got.Source.Claim != "four landing ships" ||
		!got.PublisherMarkup || got.LocationName != "Vladivostok" {
		t.Errorf("after PATCH: title %q, released_at %q, claim %q, markup %v, location %q", got.Title, got.Source.ReleasedAt,
			got.Source.Claim, got.PublisherMarkup, got.LocationName)
	}
	if got.Source.Publisher != "NIS" || got.CapturedFrom != "2024-10-08" {
		t.Errorf("fields not in the PATCH changed: publisher %q, captured_from %q", got.Source.Publisher, got.CapturedFrom)
	}
	// Release fields belong to the release, which the other image shares.
	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+other.ID, nil)
	var o annotations.Image
	decode(t, rec, &o)
	if o.Source.Claim != "four landing ships" {
		t.Errorf("other image of the release has claim %q, want the updated claim", o.Source.Claim)
	}
	// The release's own title changes with release_title, for both images.
	rec = ts.doJSON(t, http.MethodPatch, path, map[string]any{"release_title": "NIS briefing, 18 October 2024"})
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+other.ID, nil)
	decode(t, rec, &o)
	if got.Source.Title != "NIS briefing, 18 October 2024" || o.Source.Title != got.Source.Title || got.Title != "Landing ships, Vladivostok" {
		t.Errorf("after release_title: release titles %q and %q, image title %q", got.Source.Title, o.Source.Title, got.Title)
	}

	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"nok, released_at not a date", `{"released_at": "soon"}`, 400, "malformed", "released_at"},
		{"nok, captured_to before the stored captured_from", `{"captured_to": "2024-10-01"}`, 400, "malformed", "captured_to"},
		{"nok, captured_from after the stored captured_to", `{"captured_from": "2024-10-20"}`, 400, "malformed", "captured_to"},
		{"nok, both dates reversed", `{"captured_from": "2024-10-13", "captured_to": "2024-10-12T23:00:00Z"}`, 400, "malformed", "captured_to"},
		{"nok, unknown field", `{"title": "x", "sha256": "00"}`, 400, "malformed", "sha256"},
		{"nok, title of the wrong type", `{"title": 5}`, 400, "malformed", "title"},
		{"nok, not JSON", `title=x`, 400, "malformed", ""},
		{"nok, NaN", `{"title": NaN}`, 400, "malformed", ""},
		{"nok, source_url not http", `{"source_url": "file:///etc/passwd"}`, 400, "malformed", "source_url"},
		{"nok, two JSON values", `{"title": "a"} {"title": "b"}`, 400, "malformed", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			wantError(t, ts.doJSON(t, http.MethodPatch, path, tc.body), tc.status, tc.code, tc.field)
			ts.wantUnchanged(t, before)
			rec := ts.do(t, http.MethodGet, path, nil)
			var now annotations.Image
			decode(t, rec, &now)
			if now.Title != got.Title || now.CapturedFrom != "2024-10-08" || now.CapturedTo != "2024-10-13" || now.Source.ReleasedAt != got.Source.ReleasedAt {
				t.Errorf("a refused PATCH changed the image: %+v", now)
			}
		})
	}
	wantError(t, ts.doJSON(t, http.MethodPatch, "/api/v1/images/img_aaaaaaaaaaaa", `{"title": "x"}`), 404, "not_found", "")
}

func TestDeleteImage(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	keep := ts.newImage(t, 50)
	img := ts.newImage(t, 51)
	ts.buildPyramids(t)
	ann := ts.createAnnotation(t, img.ID, `{"label": "frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [3, 4]}}`)
	if _, err := os.Stat(ts.lib.OriginalPath(img.SHA256)); err != nil {
		t.Fatalf("original missing before delete: %v", err)
	}
	// The image service has seen the image, so it knows it.
	wantStatus(t, ts.do(t, http.MethodGet, "/iiif/3/"+img.ID+"/full/max/0/default.jpg", nil), http.StatusOK)
	// Both images are 64×48: their pyramids have the same files.
	keptDerived := len(ts.snapshot(t).Derived) / 2

	reviewer := []string{"Authorization", "Bearer " + ts.userToken(t, "reviewer", annotations.RoleAdmin)}
	rec := ts.do(t, http.MethodDelete, "/api/v1/images/"+img.ID, nil, reviewer...)
	wantStatus(t, rec, http.StatusNoContent)

	// In the trash: gone from the API, its files still on disk.
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID, nil), 404, "not_found", "")
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+ann.ID, nil), 404, "not_found", "")
	if _, err := os.Stat(ts.lib.OriginalPath(img.SHA256)); err != nil {
		t.Errorf("original gone while the image is in the trash: %v", err)
	}
	rec = ts.do(t, http.MethodGet, "/api/v1/trash", nil)
	wantStatus(t, rec, http.StatusOK)
	var trash []annotations.TrashedImage
	decode(t, rec, &trash)
	if len(trash) != 1 || trash[0].ID != img.ID || trash[0].DeletedBy != "reviewer" {
		t.Fatalf("trash = %+v, want %s deleted by reviewer", trash, img.ID)
	}
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/trash/"+img.ID, nil, reviewer...), http.StatusNoContent)

	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID, nil), 404, "not_found", "")
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/original", nil), 404, "not_found", "")
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+ann.ID, nil), 404, "not_found", "")
	if _, err := os.Stat(ts.lib.OriginalPath(img.SHA256)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("original still on disk after delete (stat: %v)", err)
	}
	s := ts.snapshot(t)
	if s.Images != 1 || s.Annotations != 0 || s.Sources != 1 || len(s.Originals) != 1 || len(s.Derived) != keptDerived {
		t.Errorf("after delete: %+v; want 1 image, 0 annotations, 1 source, 1 original, %d derived files", s, keptDerived)
	}
	if s.Originals[0] != keep.SHA256[:2]+"/"+keep.SHA256 {
		t.Errorf("originals = %v, want only the kept image's", s.Originals)
	}
	for _, f := range s.Derived {
		if !strings.HasPrefix(f, keep.SHA256[:2]+"/"+keep.SHA256+"/pyramid/") {
			t.Errorf("derived file %s left behind; want only the kept image's pyramid", f)
		}
	}
	for _, target := range []string{"/iiif/3/" + img.ID + "/info.json", "/iiif/3/" + img.ID + "/full/max/0/default.jpg"} {
		if rec := ts.do(t, http.MethodGet, target, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s after delete: status %d, want 404", target, rec.Code)
		}
	}
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil), 404, "not_found", "")

	rec = ts.do(t, http.MethodGet, "/api/v1/annotations/"+ann.ID+"/history", nil)
	wantStatus(t, rec, http.StatusOK)
	var revs []annotations.Revision
	decode(t, rec, &revs)
	if len(revs) != 2 || revs[1].Action != "delete" || revs[1].Actor != "reviewer" || revs[1].Before == nil || revs[1].After != nil {
		t.Errorf("history after deleting the image = %+v, want create then delete by reviewer", revs)
	}

	wantError(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+img.ID, nil), 404, "not_found", "")
	// The same bytes can come back as a new image.
	again := ts.newImage(t, 51)
	if again.ID == img.ID {
		t.Errorf("re-uploaded image got the deleted image's id")
	}
}

func TestGetOriginal(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	data := jpegBytes(t, 64, 48, 60)
	img := ts.mustUpload(t, filePart("Ropucha class.jpg", data))
	path := "/api/v1/images/" + img.ID + "/original"

	rec := ts.do(t, http.MethodGet, path, nil)
	wantStatus(t, rec, http.StatusOK)
	if !bytes.Equal(rec.Body.Bytes(), data) {
		t.Errorf("original body differs from the uploaded bytes (%d vs %d bytes)", rec.Body.Len(), len(data))
	}
	if ct := rec.Header().Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("Content-Type = %q, want image/jpeg", ct)
	}
	disp, params, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
	if err != nil || disp != "attachment" || params["filename"] != "Ropucha class.jpg" {
		t.Errorf("Content-Disposition = %q, want attachment with filename %q", rec.Header().Get("Content-Disposition"), "Ropucha class.jpg")
	}
	etag := rec.Header().Get("ETag")
	if etag != `"`+img.SHA256+`"` {
		t.Errorf("ETag = %q, want the quoted SHA-256", etag)
	}

	rec = ts.do(t, http.MethodGet, path, nil, "If-None-Match", etag)
	wantStatus(t, rec, http.StatusNotModified)
	if rec.Body.Len() != 0 {
		t.Errorf("304 has a body of %d bytes", rec.Body.Len())
	}
	rec = ts.do(t, http.MethodGet, path, nil, "If-None-Match", `"something-else"`)
	wantStatus(t, rec, http.StatusOK)

	rec = ts.do(t, http.MethodGet, path, nil, "Range", "bytes=0-9")
	wantStatus(t, rec, http.StatusPartialContent)
	if !bytes.Equal(rec.Body.Bytes(), data[:10]) {
		t.Errorf("range body = % x, want % x", rec.Body.Bytes(), data[:10])
	}

	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/img_aaaaaaaaaaaa/original", nil), 404, "not_found", "")

	names := []struct{ name, upload, want string }{
		{"ok, non-ASCII name", "ледокол 군함.jpg", "ледокол 군함.jpg"},
		{"ok, name with quotes", `the "ship".jpg`, `the "ship".jpg`},
		{"ok, long name is cut at a character boundary", "a" + strings.Repeat("군", 100) + ".jpg", "a" + strings.Repeat("군", 84)},
	}
	for i, tc := range names {
		t.Run(tc.name, func(t *testing.T) {
			img := ts.mustUpload(t, filePart(tc.upload, jpegBytes(t, 64, 48, 61+i)))
			if !utf8.ValidString(img.Filename) || len(img.Filename) > 255 {
				t.Errorf("stored filename %q is not valid UTF-8 of at most 255 bytes", img.Filename)
			}
			if img.Filename != tc.want {
				t.Errorf("stored filename = %q, want %q", img.Filename, tc.want)
			}
			rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/original", nil)
			wantStatus(t, rec, http.StatusOK)
			_, params, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
			if err != nil || params["filename"] != tc.want {
				t.Errorf("Content-Disposition %q gives filename %q (err %v), want %q", rec.Header().Get("Content-Disposition"), params["filename"], err, tc.want)
			}
		})
	}
}

// TestThumbnailComesWithThePyramid: a thumbnail is made with the image's pyramid, so it
// is 503 until the build, then a JPEG of at most 512 px; if its file goes missing it is
// rendered again from the pyramid.
func TestThumbnailComesWithThePyramid(t *testing.T) {
	ts := newTestServer(t, imagery.Limits{MaxBytes: 16 << 20, MaxPixels: 50_000_000})
	small := ts.newImage(t, 70)
	wide := ts.mustUpload(t, filePart("wide.png", pngBytes(t, 1200, 600, 71)))
	for _, img := range []annotations.Image{small, wide} {
		if img.Pyramid.State != annotations.JobQueued {
			t.Errorf("upload answered pyramid %+v, want queued", img.Pyramid)
		}
		if p := ts.pyramidState(t, img.ID); p.State != annotations.JobQueued || p.Progress != 0 {
			t.Errorf("pyramid before the build = %+v, want queued at 0", p)
		}
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil)
		wantError(t, rec, http.StatusServiceUnavailable, "not_ready", "", "tiles")
		if rec.Header().Get("Retry-After") == "" {
			t.Errorf("503 before the build has no Retry-After header")
		}
		for _, h := range []string{"Cache-Control", "ETag"} {
			if v := rec.Header().Get(h); v != "" {
				t.Errorf("503 carries %s: %q", h, v)
			}
		}
	}

	ts.buildPyramids(t)

	tests := []struct {
		name         string
		img          annotations.Image
		wantW, wantH int
	}{
		{"ok, thumbnail of a small image keeps its size", small, 64, 48},
		{"ok, thumbnail of a wide image is 512 px wide", wide, 512, 256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if p := ts.pyramidState(t, tc.img.ID); p.State != annotations.JobDone || p.Progress != 1 || p.Error != "" {
				t.Fatalf("pyramid after the build = %+v, want done at 1 without error", p)
			}
			target := "/api/v1/images/" + tc.img.ID + "/thumbnail"
			check := func() (string, image.Image) {
				t.Helper()
				rec := ts.do(t, http.MethodGet, target, nil)
				wantStatus(t, rec, http.StatusOK)
				if ct := rec.Header().Get("Content-Type"); ct != "image/jpeg" {
					t.Errorf("Content-Type = %q, want image/jpeg", ct)
				}
				got, err := jpeg.Decode(bytes.NewReader(rec.Body.Bytes()))
				if err != nil {
					t.Fatalf("thumbnail is not a JPEG: %v", err)
				}
				if b := got.Bounds(); b.Dx() != tc.wantW || b.Dy() != tc.wantH {
					t.Errorf("thumbnail is %d×%d, want %d×%d", b.Dx(), b.Dy(), tc.wantW, tc.wantH)
				}
				etag := rec.Header().Get("ETag")
				if etag == "" {
					t.Fatalf("no ETag")
				}
				wantStatus(t, ts.do(t, http.MethodGet, target, nil, "If-None-Match", etag), http.StatusNotModified)
				return etag, got
			}
			_, first := check()

			// A thumbnail that went missing is rendered again from the pyramid.
			if err := os.Remove(ts.lib.ThumbnailPath(tc.img.SHA256)); err != nil {
				t.Fatal(err)
			}
			_, again := check()
			// The two are resampled differently (the sharp edges of the test picture show
			// it), but they are the same picture: another one differs by some 60 levels.
			if mean := meanAbsDiff(first, again); mean > 16 {
				t.Errorf("re-rendered thumbnail differs from the first by %.1f levels on average, want ≤ 16", mean)
			}
		})
	}
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/img_aaaaaaaaaaaa/thumbnail", nil), 404, "not_found", "")
}

// meanAbsDiff is the mean absolute difference of the RGB channels of two images of the
// same size, in 8-bit levels.
func meanAbsDiff(a, b image.Image) float64 {
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Dx() != bb.Dx() || ab.Dy() != bb.Dy() {
		return math.Inf(1)
	}
	var sum, n float64
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			p, q := rgb8(a.At(ab.Min.X+x, ab.Min.Y+y)), rgb8(b.At(bb.Min.X+x, bb.Min.Y+y))
			for c := 0; c < 3; c++ {
				sum += math.Abs(float64(p[c]) - float64(q[c]))
				n++
			}
		}
	}
	return sum / n
}

// rgb8 is a colour as 8-bit red, green and blue.
func rgb8(c color.Color) [3]uint8 {
	r, g, b, _ := c.RGBA()
	return [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)}
}

// TestPyramidStateAndRebuild: the image JSON follows the build (queued, running, done);
// POST .../pyramid queues it again (202) unless it is already queued or running (409),
// and meanwhile the image service and the thumbnail answer 503.
func TestPyramidStateAndRebuild(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 90)
	ctx := context.Background()
	rebuild := "/api/v1/images/" + img.ID + "/pyramid"
	tile := "/iiif/3/" + img.ID + "/full/max/0/default.jpg"

	wantError(t, ts.do(t, http.MethodPost, rebuild, nil), http.StatusConflict, "conflict", "", "queued")

	// The builder takes the job: it is running.
	if _, err := ts.store.ClaimJob(ctx, annotations.JobPyramid); err != nil {
		t.Fatalf("ClaimJob: %v", err)
	}
	if p := ts.pyramidState(t, img.ID); p.State != annotations.JobRunning {
		t.Errorf("pyramid = %+v, want running", p)
	}
	wantError(t, ts.do(t, http.MethodPost, rebuild, nil), http.StatusConflict, "conflict", "", "running")
	rec := ts.do(t, http.MethodGet, tile, nil)
	wantIIIFError(t, rec, http.StatusServiceUnavailable, "running")
	// The builder was stopped mid-way, which puts the job back in the queue.
	if _, err := ts.store.RequeueJob(ctx, img.ID, annotations.JobPyramid); err != nil {
		t.Fatalf("RequeueJob: %v", err)
	}

	ts.buildPyramids(t)
	if p := ts.pyramidState(t, img.ID); p.State != annotations.JobDone || p.Progress != 1 {
		t.Fatalf("pyramid = %+v, want done", p)
	}
	wantStatus(t, ts.do(t, http.MethodGet, tile, nil), http.StatusOK)

	rec = ts.do(t, http.MethodPost, rebuild, nil)
	wantStatus(t, rec, http.StatusAccepted)
	var job annotations.Job
	decode(t, rec, &job)
	if job.ImageID != img.ID || job.Kind != annotations.JobPyramid || job.State != annotations.JobQueued {
		t.Errorf("POST answered job %+v, want the image's pyramid job, queued", job)
	}
	if p := ts.pyramidState(t, img.ID); p.State != annotations.JobQueued {
		t.Errorf("pyramid after POST = %+v, want queued", p)
	}
	// The pyramid built before is served until the new one replaces it.
	wantStatus(t, ts.do(t, http.MethodGet, tile, nil), http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil), http.StatusOK)
	wantError(t, ts.do(t, http.MethodPost, rebuild, nil), http.StatusConflict, "conflict", "", "queued")

	ts.buildPyramids(t)
	if p := ts.pyramidState(t, img.ID); p.State != annotations.JobDone {
		t.Fatalf("pyramid after the rebuild = %+v, want done", p)
	}
	wantStatus(t, ts.do(t, http.MethodGet, tile, nil), http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil), http.StatusOK)

	for _, id := range []string{"img_aaaaaaaaaaaa", "nope", img.SHA256} {
		wantError(t, ts.do(t, http.MethodPost, "/api/v1/images/"+id+"/pyramid", nil), http.StatusNotFound, "not_found", "")
	}
}

// corruptPNG is a PNG whose header and IEND are whole but whose pixel data is not: the
// zlib stream inside IDAT is damaged (and the chunk's CRC made to match, so only the
// pixels are wrong).
func corruptPNG(t *testing.T, w, h, seed int) []byte {
	t.Helper()
	b := pngBytes(t, w, h, seed)
	at := bytes.Index(b, []byte("IDAT"))
	if at < 4 {
		t.Fatal("no IDAT chunk")
	}
	n := int(binary.BigEndian.Uint32(b[at-4:]))
	data := b[at+4 : at+4+n]
	for i := n / 3; i < n/3+64 && i < n-8; i++ {
		data[i] ^= 0x5A
	}
	binary.BigEndian.PutUint32(b[at+4+n:], crc32.ChecksumIEEE(b[at:at+4+n]))
	return b
}

// garbledJPEG is a JPEG with garbage, including bytes that read as a marker, in the
// middle of its scan data; its header and its end-of-image marker are intact.
func garbledJPEG(t *testing.T, w, h, seed int) []byte {
	t.Helper()
	b := jpegBytes(t, w, h, seed)
	sos := bytes.Index(b, []byte{0xFF, 0xDA})
	if sos < 0 {
		t.Fatal("no start of scan")
	}
	copy(b[sos+(len(b)-sos)/2:], []byte{0xFF, 0xFF, 0xFF, 0xFF, 0x13, 0x57, 0x9B, 0xDF})
	return b
}

// TestCorruptPixelsFailThePyramid: a file whose header and end marker are fine is
// accepted at upload; when its pixels cannot be decoded the build fails with the cause,
// which the image JSON, the thumbnail and the image service all report.
func TestCorruptPixelsFailThePyramid(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	tests := []struct {
		name     string
		filename string
		data     []byte
	}{
		{"nok, PNG with a damaged zlib stream", "scene.png", corruptPNG(t, 300, 200, 91)},
		{"nok, JPEG with garbage in its scan data", "scene.jpg", garbledJPEG(t, 300, 200, 92)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := ts.mustUpload(t, filePart(tc.filename, tc.data))
			ts.buildPyramids(t)
			p := ts.pyramidState(t, img.ID)
			if p.State != annotations.JobFailed || p.Error == "" || p.Attempts != 1 {
				t.Fatalf("pyramid = %+v, want failed with its cause after 1 attempt", p)
			}
			if !strings.Contains(strings.ToLower(p.Error), "corrupt") {
				t.Errorf("pyramid error = %q, want it to say the image is corrupt", p.Error)
			}
			for _, f := range ts.files(t, "derived") {
				if strings.Contains(f, img.SHA256) {
					t.Errorf("the failed build left %s behind", f)
				}
			}
			// A failed build is not temporary: 500 with the cause, and no Retry-After.
			rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil)
			wantError(t, rec, http.StatusInternalServerError, "pyramid_failed", "", p.Error)
			if ra := rec.Header().Get("Retry-After"); ra != "" {
				t.Errorf("Retry-After = %q on a failed build, want none", ra)
			}
			base := "/iiif/3/" + img.ID
			for _, target := range []string{base + "/info.json", base + "/full/max/0/default.jpg", base + "/0,0,256,200/256,200/0/default.jpg",
				base + "/full/pct:50/90/gray.png"} {
				wantIIIFError(t, ts.do(t, http.MethodGet, target, nil), http.StatusInternalServerError, p.Error)
			}
			// A retry is allowed, and fails the same way.
			wantStatus(t, ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/pyramid", nil), http.StatusAccepted)
			ts.buildPyramids(t)
			if again := ts.pyramidState(t, img.ID); again.State != annotations.JobFailed || again.Attempts != 2 || again.Error != p.Error {
				t.Errorf("pyramid after a retry = %+v, want failed again after 2 attempts with %q", again, p.Error)
			}
		})
	}
}

// TestMissingFilesAreServerErrorsThatLeakNothing: files removed from the data folder by
// hand are the server's problem (5xx), and the answer shows neither paths nor hashes.
func TestMissingFilesAreServerErrorsThatLeakNothing(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 80)
	ts.buildPyramids(t)
	// Someone removed the original and one tile by hand; the rest of the pyramid is there.
	if err := os.Remove(ts.lib.OriginalPath(img.SHA256)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(ts.dir, "derived", img.SHA256[:2], img.SHA256, "pyramid", "0", "0_0.jpg")); err != nil {
		t.Fatal(err)
	}
	noLeak := func(t *testing.T, rec *httptest.ResponseRecorder) {
		t.Helper()
		for _, h := range []string{"Content-Disposition", "Cache-Control", "ETag", "Link"} {
			if v := rec.Header().Get(h); v != "" {
				t.Errorf("the error carries %s: %q, meant for the file it could not send", h, v)
			}
		}
		for _, secret := range []string{ts.dir, img.SHA256, "no such file"} {
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("error body shows %q: %s", secret, rec.Body)
			}
		}
	}
	t.Run("nok, original", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/original", nil)
		wantError(t, rec, http.StatusInternalServerError, "internal", "")
		noLeak(t, rec)
	})
	t.Run("ok, thumbnail still comes from the pyramid", func(t *testing.T) {
		wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil), http.StatusOK)
	})
	t.Run("nok, tile that can no longer be rebuilt", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/iiif/3/"+img.ID+"/full/max/0/default.jpg", nil)
		wantIIIFError(t, rec, http.StatusInternalServerError)
		noLeak(t, rec)
	})
	// Now everything derived goes too.
	if err := ts.lib.Remove(img.SHA256); err != nil {
		t.Fatal(err)
	}
	t.Run("nok, thumbnail without its pyramid is a server error", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil)
		if rec.Code < 500 {
			t.Errorf("status = %d, want a server error", rec.Code)
		}
		noLeak(t, rec)
	})
}

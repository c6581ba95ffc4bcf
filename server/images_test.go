package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestUploadStoresImageWithProvenance(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	data := pngBytes(t, 64, 48, 1)
	rec := ts.upload(t,
		field("title", "Landing ships at Vladivostok"),
		field("publisher", "National Intelligence Service, Republic of Korea"),
		field("source_url", "https://www.nis.go.kr/release/2024-10-18"),
		field("released_at", "2024-10-18"),
		field("captured_from", "2024-10-08"),
		field("captured_to", "2024-10-13"),
		field("credit", "NIS"),
		field("license", "all rights reserved"),
		field("location_name", "Vladivostok, Russia"),
		field("claim", "Russian landing ships moved North Korean special forces."),
		field("notes", "as released"),
		field("publisher_markup", "true"),
		filePart("ships.png", data),
	)
	wantStatus(t, rec, http.StatusCreated)
	var img annotations.Image
	decode(t, rec, &img)
	if got, want := rec.Header().Get("Location"), "/api/v1/images/"+img.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if !annotations.ValidID(img.ID) {
		t.Errorf("id %q is not an id satmark hands out", img.ID)
	}
	checks := []struct{ name, got, want string }{
		{"sha256", img.SHA256, sha256Hex(data)},
		{"media_type", img.MediaType, "image/png"},
		{"filename", img.Filename, "ships.png"},
		{"title", img.Title, "Landing ships at Vladivostok"},
		{"publisher", img.Source.Publisher, "National Intelligence Service, Republic of Korea"},
		{"source_url", img.Source.URL, "https://www.nis.go.kr/release/2024-10-18"},
		{"released_at", img.Source.ReleasedAt, "2024-10-18"},
		{"captured_from", img.CapturedFrom, "2024-10-08"},
		{"captured_to", img.CapturedTo, "2024-10-13"},
		{"credit", img.Source.Credit, "NIS"},
		{"license", img.Source.License, "all rights reserved"},
		{"location_name", img.LocationName, "Vladivostok, Russia"},
		{"claim", img.Source.Claim, "Russian landing ships moved North Korean special forces."},
		{"notes", img.Source.Notes, "as released"},
		{"created_by", img.CreatedBy, "tester"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if img.Width != 64 || img.Height != 48 || img.ByteSize != int64(len(data)) || !img.PublisherMarkup {
		t.Errorf("got %d×%d, %d bytes, markup %v; want 64×48, %d bytes, markup true", img.Width, img.Height, img.ByteSize, img.PublisherMarkup, len(data))
	}
	stored, err := os.ReadFile(ts.lib.OriginalPath(img.SHA256))
	if err != nil {
		t.Fatalf("original not stored: %v", err)
	}
	if !bytes.Equal(stored, data) {
		t.Errorf("stored original differs from the uploaded bytes")
	}
	if s := ts.snapshot(t); len(s.Originals) != 1 || len(s.Tmp) != 0 {
		t.Errorf("originals %v, tmp %v; want one original and an empty tmp/", s.Originals, s.Tmp)
	}
}

func TestUploadRecordsActorAndKeepsOnlyTheBaseFileName(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	body, ct := multipartBody(t, filePart(`..\..\evil/../../etc/passwd.jpg`, jpegBytes(t, 64, 48, 2)))
	rec := ts.do(t, http.MethodPost, "/api/v1/images", body, append([]string{"Content-Type", ct}, ts.as(t, "Kim Ji-woo")...)...)
	wantStatus(t, rec, http.StatusCreated)
	var img annotations.Image
	decode(t, rec, &img)
	if img.Filename != "passwd.jpg" || img.Title != "passwd.jpg" {
		t.Errorf("filename %q, title %q; want passwd.jpg for both", img.Filename, img.Title)
	}
	if img.CreatedBy != "Kim Ji-woo" {
		t.Errorf("created_by = %q, want %q", img.CreatedBy, "Kim Ji-woo")
	}
	if img.MediaType != "image/jpeg" {
		t.Errorf("media_type = %q, want image/jpeg", img.MediaType)
	}
}

func TestUploadSniffsTheFormat(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	src := testImage(64, 48, 7)
	encode := func(fn func(io.Writer) error) []byte {
		t.Helper()
		var buf bytes.Buffer
		if err := fn(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	tests := []struct {
		name, filename, mediaType string
		data                      []byte
	}{
		{"ok, PNG", "a.png", "image/png", pngBytes(t, 64, 48, 7)},
		{"ok, JPEG", "a.jpg", "image/jpeg", jpegBytes(t, 64, 48, 7)},
		{"ok, GIF", "a.gif", "image/gif", encode(func(w io.Writer) error { return gif.Encode(w, src, nil) })},
		{"ok, BMP", "a.bmp", "image/bmp", encode(func(w io.Writer) error { return bmp.Encode(w, src) })},
		{"ok, TIFF", "a.tif", "image/tiff", encode(func(w io.Writer) error { return tiff.Encode(w, src, nil) })},
		{"ok, PNG named .jpg is a PNG", "photo.jpg", "image/png", pngBytes(t, 64, 48, 8)},
		{"ok, JPEG without extension", "photo", "image/jpeg", jpegBytes(t, 64, 48, 8)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := ts.mustUpload(t, filePart(tc.filename, tc.data))
			if img.MediaType != tc.mediaType || img.Width != 64 || img.Height != 48 {
				t.Errorf("stored as %s %d×%d, want %s 64×48", img.MediaType, img.Width, img.Height, tc.mediaType)
			}
			rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/original", nil)
			wantStatus(t, rec, http.StatusOK)
			if ct := rec.Header().Get("Content-Type"); ct != tc.mediaType || !bytes.Equal(rec.Body.Bytes(), tc.data) {
				t.Errorf("original served as %q (%d bytes), want %s and the uploaded bytes", ct, rec.Body.Len(), tc.mediaType)
			}
			// Every accepted format can be cut into a pyramid: its pixels decode.
			ts.buildPyramids(t)
			if p := ts.pyramidState(t, img.ID); p.State != annotations.JobDone {
				t.Fatalf("pyramid = %+v, want done", p)
			}
			rec = ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil)
			wantStatus(t, rec, http.StatusOK)
			if cfg := decodeJPEGConfig(t, rec); cfg.Width != 64 || cfg.Height != 48 {
				t.Errorf("thumbnail is %d×%d, want 64×48", cfg.Width, cfg.Height)
			}
		})
	}
}

func TestUploadByteLimitBoundary(t *testing.T) {
	ts := newTestServer(t, smallLimits) // 1 MiB
	// A PNG padded with a private ancillary chunk, which decoders skip: the limit
	// counts every byte.
	padded := func(size, seed int) []byte {
		b := pngBytes(t, 64, 48, seed)
		iend := b[len(b)-12:]
		pad := make([]byte, 4+size-len(b)-12)
		copy(pad, "paDd")
		var out []byte
		out = append(out, b[:len(b)-12]...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(pad)-4))
		out = append(out, pad...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(pad))
		return append(out, iend...)
	}
	img := ts.mustUpload(t, filePart("exact.png", padded(1<<20, 9)))
	if img.ByteSize != 1<<20 {
		t.Errorf("byte_size = %d, want %d", img.ByteSize, 1<<20)
	}
	before := ts.snapshot(t)
	wantError(t, ts.upload(t, filePart("over.png", padded(1<<20+1, 10))), http.StatusRequestEntityTooLarge, "too_large", "file")
	ts.wantUnchanged(t, before)
}

func TestUploadSameBytesTwiceFindsTheImage(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	data := pngBytes(t, 64, 48, 3)
	first := ts.upload(t, field("title", "first"), filePart("a.png", data))
	wantStatus(t, first, http.StatusCreated)
	if first.Header().Get("Location") == "" {
		t.Errorf("first upload: no Location header")
	}
	var a annotations.Image
	decode(t, first, &a)

	second := ts.upload(t, field("title", "second"), filePart("b.png", data))
	wantStatus(t, second, http.StatusOK)
	var b annotations.Image
	decode(t, second, &b)
	if b.ID != a.ID || b.Title != "first" {
		t.Errorf("second upload = %s %q, want the first image %s %q", b.ID, b.Title, a.ID, "first")
	}
	s := ts.snapshot(t)
	if s.Images != 1 || len(s.Originals) != 1 || len(s.Tmp) != 0 {
		t.Errorf("%d images, originals %v, tmp %v; want 1 image, 1 original, empty tmp", s.Images, s.Originals, s.Tmp)
	}
}

func TestUploadAttachesToExistingRelease(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	first := ts.newImage(t, 4, field("publisher", "NIS"), field("released_at", "2024-10-18"), field("title", "first"))
	second := ts.newImage(t, 5, field("source_id", first.Source.ID), field("title", "second"), field("location_name", "Ulsan"))
	if second.Source.ID != first.Source.ID || second.Source.Publisher != "NIS" || second.Source.ReleasedAt != "2024-10-18" {
		t.Errorf("second image's release = %+v, want release %s of NIS, 2024-10-18", second.Source, first.Source.ID)
	}
	if second.Title != "second" || second.LocationName != "Ulsan" {
		t.Errorf("image fields = %q, %q; want second, Ulsan", second.Title, second.LocationName)
	}

	rec := ts.do(t, http.MethodGet, "/api/v1/sources", nil)
	wantStatus(t, rec, http.StatusOK)
	var sources []annotations.Source
	decode(t, rec, &sources)
	if len(sources) != 1 || sources[0].ID != first.Source.ID {
		t.Errorf("sources = %+v, want only %s", sources, first.Source.ID)
	}
}

func TestUploadRejectsBadInput(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	existing := ts.newImage(t, 10)
	okPNG := pngBytes(t, 64, 48, 11)
	jpg := jpegBytes(t, 64, 48, 12)
	tests := []struct {
		name    string
		parts   []part
		headers []string // besides Content-Type
		raw     string   // a non-multipart body, sent as JSON
		status  int
		code    string
		field   string
		words   []string
	}{
		{name: "nok, text file is not an image", parts: []part{filePart("notes.png", []byte("these are not the pixels you are looking for"))},
			status: 415, code: "unsupported_media", field: "file", words: []string{"not a JPEG, PNG"}},
		{name: "nok, HTML file named .jpg", parts: []part{filePart("x.jpg", []byte("<!doctype html><script>alert(1)</script>"))},
			status: 415, code: "unsupported_media", field: "file"},
		{name: "nok, empty file", parts: []part{filePart("empty.png", nil)},
			status: 415, code: "unsupported_media", field: "file"},
		{name: "nok, truncated JPEG", parts: []part{filePart("cut.jpg", jpg[:len(jpg)/2])},
			status: 422, code: "corrupt_image", field: "file", words: []string{"incomplete"}},
		{name: "nok, JPEG cut just before its end marker", parts: []part{filePart("cut.jpg", jpg[:len(jpg)-2])},
			status: 422, code: "corrupt_image", field: "file", words: []string{"incomplete"}},
		{name: "nok, PNG cut before IEND", parts: []part{filePart("cut.png", okPNG[:len(okPNG)-12])},
			status: 422, code: "corrupt_image", field: "file", words: []string{"incomplete"}},
		{name: "nok, JPEG header only", parts: []part{filePart("cut.jpg", jpg[:len(jpg)-len(jpg)/8*7])},
			status: 422, code: "corrupt_image", field: "file"},
		{name: "nok, header declares 100000×100000 px", parts: []part{filePart("bomb.png", pngHeaderOnly(100000, 100000))},
			status: 413, code: "too_large", field: "file", words: []string{"megapixels"}},
		{name: "nok, no file part", parts: []part{field("title", "nothing")},
			status: 400, code: "malformed", field: "file", words: []string{"file"}},
		{name: "nok, two files", parts: []part{filePart("a.png", okPNG), filePart("b.png", pngBytes(t, 64, 48, 13))},
			status: 400, code: "malformed", field: "file", words: []string{"one file"}},
		{name: "nok, not multipart", raw: `{"title": "x"}`,
			status: 400, code: "malformed", field: "file", words: []string{"multipart"}},
		{name: "nok, released_at not a date", parts: []part{field("released_at", "last Tuesday"), filePart("a.png", okPNG)},
			status: 400, code: "malformed", field: "released_at", words: []string{"not a date"}},
		{name: "nok, released_at not a date after the file", parts: []part{filePart("a.png", okPNG), field("released_at", "2024-13-45")},
			status: 400, code: "malformed", field: "released_at", words: []string{"not a date"}},
		{name: "nok, captured_to before captured_from", parts: []part{field("captured_from", "2024-10-13"), field("captured_to", "2024-10-08"), filePart("a.png", okPNG)},
			status: 400, code: "malformed", field: "captured_to", words: []string{"before"}},
		{name: "nok, captured_from not a date", parts: []part{field("captured_from", "2024-10"), filePart("a.png", okPNG)},
			status: 400, code: "malformed", field: "captured_from"},
		{name: "nok, source_url is javascript", parts: []part{field("source_url", "javascript:alert(1)"), filePart("a.png", okPNG)},
			status: 400, code: "malformed", field: "source_url"},
		{name: "nok, publisher_markup not yes or no", parts: []part{field("publisher_markup", "maybe"), filePart("a.png", okPNG)},
			status: 400, code: "malformed", field: "publisher_markup"},
		{name: "nok, unknown source_id", parts: []part{field("source_id", "src_aaaaaaaaaaaa"), filePart("a.png", okPNG)},
			status: 400, code: "malformed", field: "source_id"},
		{name: "nok, source_id that is a path", parts: []part{field("source_id", "../../etc/passwd"), filePart("a.png", okPNG)},
			status: 400, code: "malformed", field: "source_id"},
		{name: "nok, unknown multipart field", parts: []part{field("photographer", "someone"), filePart("a.png", okPNG)},
			status: 400, code: "malformed", field: "photographer", words: []string{"unknown field"}},
		{name: "nok, unknown multipart field after the file", parts: []part{filePart("a.png", okPNG), field("tags", "ship")},
			status: 400, code: "malformed", field: "tags"},
		{name: "nok, text field over 64 KiB", parts: []part{field("claim", strings.Repeat("x", 64<<10+1)), filePart("a.png", okPNG)},
			status: 400, code: "malformed", field: "claim"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			var rec *httptest.ResponseRecorder
			if tc.raw != "" {
				rec = ts.doJSON(t, http.MethodPost, "/api/v1/images", tc.raw, tc.headers...)
			} else {
				body, ct := multipartBody(t, tc.parts...)
				rec = ts.do(t, http.MethodPost, "/api/v1/images", body, append([]string{"Content-Type", ct}, tc.headers...)...)
			}
			wantError(t, rec, tc.status, tc.code, tc.field, tc.words...)
			ts.wantUnchanged(t, before)
		})
	}
	// The image stored before all this is still whole.
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+existing.ID+"/original", nil)
	wantStatus(t, rec, http.StatusOK)
}

func TestUploadCutShortIsTheClientsProblem(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	body, ct := multipartBody(t, field("title", "cut"), filePart("a.png", pngBytes(t, 64, 48, 14)))
	b := body.Bytes()
	tests := []struct {
		name string
		cut  int
	}{
		{"nok, cut before the closing boundary", len(b) - 10},
		{"nok, cut inside the file", len(b) - 100},
		{"nok, cut inside the title", 110},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			// What a server reads when the client stops sending before Content-Length.
			r := io.MultiReader(bytes.NewReader(b[:tc.cut]), iotest.ErrReader(io.ErrUnexpectedEOF))
			rec := ts.do(t, http.MethodPost, "/api/v1/images", r, "Content-Type", ct)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status = %d, want 400: %s", rec.Code, rec.Body)
			}
			ts.wantUnchanged(t, before)
		})
	}
	t.Run("nok, JSON body cut short", func(t *testing.T) {
		img := ts.newImage(t, 15)
		r := io.MultiReader(strings.NewReader(`{"title": "Vladi`), iotest.ErrReader(io.ErrUnexpectedEOF))
		rec := ts.do(t, http.MethodPatch, "/api/v1/images/"+img.ID, r, "Content-Type", "application/json")
		wantError(t, rec, http.StatusBadRequest, "malformed", "")
	})
}

// measureAlloc returns how many bytes were allocated while fn ran.
func measureAlloc(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestUploadOverByteLimitIsRefusedWithoutHoldingTheBody(t *testing.T) {
	ts := newTestServer(t, smallLimits) // 1 MiB
	const bodySize = 64 << 20
	before := ts.snapshot(t)

	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	written := make(chan int64, 1)
	go func() {
		// The body is made as it is sent, from one small buffer: nobody holds 64 MiB.
		var n int64
		err := func() error {
			w, err := mw.CreateFormFile("file", "huge.png")
			if err != nil {
				return err
			}
			m, err := w.Write(okPNGPrefix)
			n += int64(m)
			if err != nil {
				return err
			}
			chunk := bytes.Repeat([]byte{0xA5}, 32<<10)
			for n < bodySize {
				m, err := w.Write(chunk)
				n += int64(m)
				if err != nil {
					return err
				}
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
		written <- n
	}()

	var rec *httptest.ResponseRecorder
	grew := measureAlloc(func() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/images", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+ts.token)
		rec = httptest.NewRecorder()
		ts.srv.ServeHTTP(rec, req)
	})
	// Stop the sender: the server has stopped reading.
	pr.CloseWithError(errors.New("the server answered"))
	sent := <-written

	wantError(t, rec, http.StatusRequestEntityTooLarge, "too_large", "file", "limit")
	if sent >= bodySize {
		t.Errorf("the server read all %d bytes of the body; it should stop at the limit", sent)
	}
	if grew > 16<<20 {
		t.Errorf("serving the upload allocated %d MiB, want well under the %d MiB body", grew>>20, bodySize>>20)
	}
	t.Logf("sent %d KiB of a %d MiB body; %d KiB allocated", sent>>10, bodySize>>20, grew>>10)
	ts.wantUnchanged(t, before)
}

// okPNGPrefix makes the oversized upload look like a PNG, so that only its size is wrong.
var okPNGPrefix = []byte("\x89PNG\r\n\x1a\n")

func TestUploadPixelBombIsRefusedBeforeDecoding(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	before := ts.snapshot(t)
	body, ct := multipartBody(t, filePart("bomb.png", pngHeaderOnly(100000, 100000)))
	var rec *httptest.ResponseRecorder
	grew := measureAlloc(func() {
		rec = ts.do(t, http.MethodPost, "/api/v1/images", body, "Content-Type", ct)
	})
	wantError(t, rec, http.StatusRequestEntityTooLarge, "too_large", "file", "100000×100000")
	// Decoding would need 40 GB; reading the header needs next to nothing.
	if grew > 4<<20 {
		t.Errorf("refusing the image allocated %d KiB, want next to nothing", grew>>10)
	}
	ts.wantUnchanged(t, before)
}

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
	wantIIIFError(t, ts.do(t, http.MethodGet, tile, nil), http.StatusServiceUnavailable, "queued")
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/thumbnail", nil), http.StatusServiceUnavailable, "not_ready", "")
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

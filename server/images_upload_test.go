package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"image/gif"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

// Uploading an image (POST /api/v1/images): what is stored with it, how its format is
// found, the byte and pixel limits, the same bytes twice, releases, and bodies that are
// bad or cut short and change nothing.

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

// paddedPNG is a PNG of exactly size bytes, padded with a private ancillary chunk, which
// decoders skip.
func paddedPNG(t *testing.T, size, seed int) []byte {
	t.Helper()
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

func TestUploadByteLimitBoundary(t *testing.T) {
	ts := newTestServer(t, smallLimits) // 1 MiB
	// The limit counts every byte.
	padded := func(size, seed int) []byte { return paddedPNG(t, size, seed) }
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

// An upload is streamed from the request into the data folder's tmp/ once, hashed as it
// goes: nothing is spooled to the system's temporary folder first (as parsing the whole
// form would do with a file over 32 MiB), and nothing is left in either, whether it is
// stored or refused as too large.
func TestUploadIsWrittenOnceIntoTheDataFolder(t *testing.T) {
	ts := newTestServer(t, imagery.Limits{MaxBytes: 40 << 20, MaxPixels: 50_000_000})
	spool := t.TempDir()
	t.Setenv("TMPDIR", spool)
	leftovers := func(t *testing.T) {
		t.Helper()
		if got, _ := os.ReadDir(spool); len(got) != 0 {
			t.Errorf("the system's temporary folder holds %d files after the upload, want none", len(got))
		}
		if got := ts.files(t, "tmp"); len(got) != 0 {
			t.Errorf("the data folder's tmp/ holds %v after the upload, want nothing", got)
		}
	}
	img := ts.mustUpload(t, field("title", "big"), filePart("big.png", paddedPNG(t, 40<<20, 21)))
	if img.ByteSize != 40<<20 {
		t.Errorf("byte_size = %d, want %d", img.ByteSize, 40<<20)
	}
	leftovers(t)
	before := ts.snapshot(t)
	wantError(t, ts.upload(t, filePart("over.png", paddedPNG(t, 40<<20+1, 22))), http.StatusRequestEntityTooLarge, "too_large", "file")
	leftovers(t)
	ts.wantUnchanged(t, before)
}

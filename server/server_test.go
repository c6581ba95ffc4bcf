package server_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/crypto/bcrypt"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/ingest"
	"github.com/satmark/satmark/sampledata"
	"github.com/satmark/satmark/server"
)

// smallLimits are generous for the small images the tests make and small enough that a
// test can go over them cheaply.
var smallLimits = imagery.Limits{MaxBytes: 1 << 20, MaxPixels: 50_000_000}

// testServer is the whole server over a temp-file store and image library.
type testServer struct {
	srv     *server.Server
	store   *annotations.Store
	lib     *imagery.Library
	builder *ingest.Builder
	dir     string            // the data folder
	token   string            // the API token of the administrator "tester", sent by default
	tokens  map[string]string // API tokens of the users made by as
}

// newTestServer builds the server as satmark serve does, over a new data folder with the
// default taxonomy and the real templates from ../web.
func newTestServer(t *testing.T, limits imagery.Limits) *testServer {
	t.Helper()
	return newTestServerWithAssets(t, limits, os.DirFS("../web"))
}

func newTestServerWithAssets(t *testing.T, limits imagery.Limits, assets fs.FS) *testServer {
	t.Helper()
	return newTestServerWithOptions(t, imagery.Options{Limits: limits}, assets)
}

// newTestServerWithOptions builds the server over a library opened with opts (its caches
// and render limits), in a new data folder; tweaks change the server's options.
func newTestServerWithOptions(t *testing.T, opts imagery.Options, assets fs.FS, tweaks ...func(*server.Options)) *testServer {
	t.Helper()
	dir := t.TempDir()
	return newTestServerAt(t, dir, filepath.Join(dir, "satmark.db"), opts, assets, tweaks...)
}

// newTestServerAt is newTestServerWithOptions over the data folder dir and the database
// named by database (a SQLite file or a PostgreSQL URL), which another test server may
// share; the taxonomy is seeded when the database has none.
func newTestServerAt(t *testing.T, dir, database string, opts imagery.Options, assets fs.FS, tweaks ...func(*server.Options)) *testServer {
	t.Helper()
	store, err := annotations.Open(database)
	if err != nil {
		t.Fatalf("annotations.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("closing the store: %v", err)
		}
	})
	return newTestServerOver(t, store, dir, opts, assets, tweaks...)
}

// newTestServerOver builds the server over store and the data folder dir: a second one
// over the same database and folder is a second satmark process.
func newTestServerOver(t *testing.T, store *annotations.Store, dir string, opts imagery.Options, assets fs.FS, tweaks ...func(*server.Options)) *testServer {
	t.Helper()
	lib, err := imagery.OpenWith(dir, opts)
	if err != nil {
		t.Fatalf("imagery.OpenWith: %v", err)
	}
	if err := sampledata.SeedTaxonomyIfEmpty(context.Background(), store); err != nil {
		t.Fatalf("SeedTaxonomy: %v", err)
	}
	// Errors the server logs are part of what a test may want to see when it fails.
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The builder is not started: tests build queued pyramids when they choose to, with
	// buildPyramids, so they can also look at an image whose pyramid is not built yet.
	builder := ingest.NewBuilder(store, lib, 1, logger)
	hot := int64(0)
	if opts.TileCacheBytes < 0 { // a test that wants every tile read from disk
		hot = -1
	}
	srvOpts := server.Options{Logger: logger, Builder: builder, HotTileBytes: hot, PasswordCost: bcrypt.MinCost}
	for _, tweak := range tweaks {
		tweak(&srvOpts)
	}
	srv, err := server.New(store, lib, assets, srvOpts)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts := &testServer{srv: srv, store: store, lib: lib, builder: builder, dir: dir}
	// Requests act as the administrator "tester" unless they say otherwise.
	ts.token = ts.userToken(t, "tester", annotations.RoleAdmin)
	return ts
}

// testPassword is every test account's password.
const testPassword = "correct horse battery"

// addUser creates an account with testPassword.
func (ts *testServer) addUser(t *testing.T, name, role string) annotations.User {
	t.Helper()
	hash, err := annotations.HashPassword(testPassword, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	u, err := ts.store.CreateUser(context.Background(), annotations.Actor{Name: "tester"}, annotations.NewUser{Name: name, Role: role, PasswordHash: hash})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// userToken creates an account (when it does not exist yet) and returns an API token
// for it.
func (ts *testServer) userToken(t *testing.T, name, role string) string {
	t.Helper()
	u, err := ts.store.UserByName(context.Background(), name)
	if err != nil {
		u = ts.addUser(t, name, role)
	}
	token, hash := annotations.NewAPIToken()
	if _, err := ts.store.CreateToken(context.Background(), annotations.Actor{Name: "tester"}, u.ID, "test", hash); err != nil {
		t.Fatal(err)
	}
	return token
}

// as returns the header pair that makes a request act as the named user (an analyst
// created on first use).
func (ts *testServer) as(t *testing.T, name string) []string {
	t.Helper()
	if ts.tokens == nil {
		ts.tokens = map[string]string{}
	}
	if ts.tokens[name] == "" {
		ts.tokens[name] = ts.userToken(t, name, annotations.RoleAnalyst)
	}
	return []string{"Authorization", "Bearer " + ts.tokens[name]}
}

// buildPyramids builds every queued pyramid, as the background builder would, and returns
// when none is left.
func (ts *testServer) buildPyramids(t *testing.T) {
	t.Helper()
	ts.builder.Drain(context.Background())
}

// pyramidState is the pyramid build of an image as the API reports it.
func (ts *testServer) pyramidState(t *testing.T, id string) annotations.Progress {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+id, nil)
	wantStatus(t, rec, http.StatusOK)
	var img annotations.Image
	decode(t, rec, &img)
	return img.Pyramid
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// assetsWith returns the real templates plus the given files, e.g. a built dist/ folder.
func assetsWith(t *testing.T, files map[string]string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	paths, err := filepath.Glob("../web/templates/*.html")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no templates under ../web/templates (err %v)", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m["templates/"+filepath.Base(p)] = &fstest.MapFile{Data: b}
	}
	for name, body := range files {
		m[name] = &fstest.MapFile{Data: []byte(body)}
	}
	return m
}

// do sends one request through the server. headers are name, value pairs. The request
// acts as the administrator "tester" unless headers give an Authorization (an empty one
// for no one).
func (ts *testServer) do(t *testing.T, method, target string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, body)
	if ts.token != "" {
		req.Header.Set("Authorization", "Bearer "+ts.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization")
	}
	rec := httptest.NewRecorder()
	ts.srv.ServeHTTP(rec, req)
	return rec
}

// doJSON sends body as JSON: a string or []byte is sent as is, anything else is marshalled.
func (ts *testServer) doJSON(t *testing.T, method, target string, body any, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	var b []byte
	switch v := body.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatalf("marshal request body: %v", err)
		}
	}
	return ts.do(t, method, target, bytes.NewReader(b), append([]string{"Content-Type", "application/json"}, headers...)...)
}

// wantStatus fails the test unless the response has the given status.
func wantStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d, want %d; body: %s", rec.Code, want, truncate(rec.Body.String(), 600))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// decode reads a JSON response body into v.
func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("response is not the JSON expected (%v): %s", err, truncate(rec.Body.String(), 600))
	}
}

// apiError is the error body every failing API request gets.
type apiError struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Field   string          `json:"field"`
	Current json.RawMessage `json:"current"`
}

// wantError checks an error response: its status, its code, the field it names and, if
// given, words its message must contain (case-insensitive).
func wantError(t *testing.T, rec *httptest.ResponseRecorder, status int, code, field string, words ...string) apiError {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status = %d, want %d; body: %s", rec.Code, status, truncate(rec.Body.String(), 600))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body struct {
		Error *apiError `json:"error"`
	}
	decode(t, rec, &body)
	if body.Error == nil {
		t.Fatalf("no \"error\" object in %s", rec.Body.String())
	}
	e := *body.Error
	if e.Code != code {
		t.Errorf("error.code = %q, want %q (message %q)", e.Code, code, e.Message)
	}
	if e.Field != field {
		t.Errorf("error.field = %q, want %q (message %q)", e.Field, field, e.Message)
	}
	if e.Message == "" {
		t.Errorf("error.message is empty")
	}
	for _, w := range words {
		if !strings.Contains(strings.ToLower(e.Message), strings.ToLower(w)) {
			t.Errorf("error.message = %q, want it to mention %q", e.Message, w)
		}
	}
	return e
}

// state is what bad input must leave alone: the rows and the files of the data folder.
type state struct {
	Images, Annotations, Sources, Labels, Revisions int
	Originals, Derived, Tmp                         []string
}

// snapshot counts the rows and lists the files under originals/, derived/ and tmp/.
func (ts *testServer) snapshot(t *testing.T) state {
	t.Helper()
	var s state
	err := ts.store.DB().QueryRow(`SELECT (SELECT COUNT(*) FROM images), (SELECT COUNT(*) FROM annotations),
		(SELECT COUNT(*) FROM sources), (SELECT COUNT(*) FROM labels), (SELECT COUNT(*) FROM revisions)`).
		Scan(&s.Images, &s.Annotations, &s.Sources, &s.Labels, &s.Revisions)
	if err != nil {
		t.Fatalf("counting rows: %v", err)
	}
	s.Originals = ts.files(t, "originals")
	s.Derived = ts.files(t, "derived")
	s.Tmp = ts.files(t, "tmp")
	return s
}

// files lists the regular files under a folder of the data folder, sorted.
func (ts *testServer) files(t *testing.T, sub string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(ts.dir, sub)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", sub, err)
	}
	sort.Strings(out)
	return out
}

// wantUnchanged fails the test if the data folder or the database changed since before.
func (ts *testServer) wantUnchanged(t *testing.T, before state) {
	t.Helper()
	if after := ts.snapshot(t); !reflect.DeepEqual(after, before) {
		t.Errorf("bad input changed what is stored:\n got %+v\nwant %+v", after, before)
	}
}

// part is one part of a multipart upload: a text field, or the file when filename is set.
type part struct {
	name, filename string
	data           []byte
}

func field(name, value string) part { return part{name: name, data: []byte(value)} }

func filePart(filename string, data []byte) part {
	return part{name: "file", filename: filename, data: data}
}

// multipartBody encodes parts in order.
func multipartBody(t *testing.T, parts ...part) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// upload posts a multipart upload to /api/v1/images.
func (ts *testServer) upload(t *testing.T, parts ...part) *httptest.ResponseRecorder {
	t.Helper()
	body, ct := multipartBody(t, parts...)
	return ts.do(t, http.MethodPost, "/api/v1/images", body, "Content-Type", ct)
}

// mustUpload uploads an image that must be stored as new, and returns it.
func (ts *testServer) mustUpload(t *testing.T, parts ...part) annotations.Image {
	t.Helper()
	rec := ts.upload(t, parts...)
	wantStatus(t, rec, http.StatusCreated)
	var img annotations.Image
	decode(t, rec, &img)
	return img
}

// newImage uploads a distinct 64×48 PNG and returns the stored image.
func (ts *testServer) newImage(t *testing.T, seed int, fields ...part) annotations.Image {
	t.Helper()
	return ts.mustUpload(t, append(fields, filePart(fmt.Sprintf("scene-%d.png", seed), pngBytes(t, 64, 48, seed)))...)
}

// labelByPath finds a label of the taxonomy by its path, e.g. "vessel/landing ship".
func (ts *testServer) labelByPath(t *testing.T, path string) annotations.Label {
	t.Helper()
	labels, err := ts.store.Labels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range labels {
		if strings.Join(l.Path, "/") == path {
			return l
		}
	}
	t.Fatalf("no label %q in the taxonomy", path)
	return annotations.Label{}
}

// createAnnotation creates an annotation through the API and returns it.
func (ts *testServer) createAnnotation(t *testing.T, imageID string, body any, headers ...string) annotations.Annotation {
	t.Helper()
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+imageID+"/annotations", body, headers...)
	wantStatus(t, rec, http.StatusCreated)
	var a annotations.Annotation
	decode(t, rec, &a)
	return a
}

// testImage is a w×h picture whose pixels depend on seed, so different seeds give
// different bytes.
func testImage(w, h, seed int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x*4 + seed*37), uint8(y*5 + seed*11), uint8((x + y + seed) * 3), 255})
		}
	}
	return img
}

func pngBytes(t *testing.T, w, h, seed int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, testImage(w, h, seed)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegBytes(t *testing.T, w, h, seed int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, testImage(w, h, seed), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withEXIFOrientation inserts an APP1 EXIF segment with the given Orientation tag right
// after the JPEG's SOI marker.
func withEXIFOrientation(t *testing.T, jpg []byte, orientation uint16) []byte {
	t.Helper()
	if len(jpg) < 2 || jpg[0] != 0xFF || jpg[1] != 0xD8 {
		t.Fatalf("not a JPEG")
	}
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a")                        // big-endian TIFF header
	binary.Write(&tiff, binary.BigEndian, uint32(8))      // IFD0 right after the header
	binary.Write(&tiff, binary.BigEndian, uint16(1))      // one entry
	binary.Write(&tiff, binary.BigEndian, uint16(0x0112)) // Orientation
	binary.Write(&tiff, binary.BigEndian, uint16(3))      // SHORT
	binary.Write(&tiff, binary.BigEndian, uint32(1))      // one value
	binary.Write(&tiff, binary.BigEndian, orientation)    // the value, left-justified
	binary.Write(&tiff, binary.BigEndian, uint16(0))      // padding
	binary.Write(&tiff, binary.BigEndian, uint32(0))      // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var seg bytes.Buffer
	seg.Write([]byte{0xFF, 0xE1})
	binary.Write(&seg, binary.BigEndian, uint16(len(payload)+2))
	seg.Write(payload)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg.Bytes()...)
	return append(out, jpg[2:]...)
}

// pngHeaderOnly is a PNG whose IHDR declares w×h RGBA pixels, followed by a tiny IDAT and
// IEND: a decompression bomb if anything tried to decode its pixels.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA; compression, filter and interlace 0
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01}) // zlib of one zero byte
	chunk("IEND", nil)
	return b.Bytes()
}

// decodeJPEGConfig checks that a response is a JPEG and returns its size.
func decodeJPEGConfig(t *testing.T, rec *httptest.ResponseRecorder) image.Config {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("Content-Type = %q, want image/jpeg", ct)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("response is not an image: %v", err)
	}
	if format != "jpeg" {
		t.Errorf("format = %q, want jpeg", format)
	}
	return cfg
}

func TestHealth(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	rec := ts.do(t, http.MethodGet, "/api/v1/health", nil)
	wantStatus(t, rec, http.StatusOK)
	var got map[string]string
	decode(t, rec, &got)
	if got["status"] != "ok" {
		t.Errorf("health = %v, want status ok", got)
	}
}

func TestWrongMethodOnAPIRouteIs405(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 50)
	rec := ts.do(t, http.MethodPut, "/api/v1/images/"+img.ID, nil)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("PUT on an image: status %d, want 405", rec.Code)
	}
	wantError(t, rec, http.StatusMethodNotAllowed, "method_not_allowed", "")
}

func TestUnknownAPIRouteIsJSON404(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	for _, target := range []string{"/api/v1/nothing-here", "/api/v1/images/img_aaaaaaaaaaaa/tiles", "/api/v2/images"} {
		t.Run(target, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, target, nil)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("status = %d, want 404", rec.Code)
			}
			if strings.HasPrefix(target, "/api/v1/") {
				wantError(t, rec, http.StatusNotFound, "not_found", "")
			}
		})
	}
}

package server_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/server"
)

// importReport is the answer of POST …/import.
type importReport struct {
	Format        string `json:"format"`
	DryRun        bool   `json:"dry_run"`
	Features      int    `json:"features"`
	Create        int    `json:"create"`
	Created       int    `json:"created"`
	MissingLabels []struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	} `json:"missing_labels"`
	NewLabels []string `json:"new_labels"`
	Refused   []struct {
		Index  int    `json:"index"`
		ID     string `json:"id"`
		Place  string `json:"place"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"refused"`
	Error *apiError `json:"error"`
}

// importFile posts body as the file to import onto image id with the query q.
func (ts *testServer) importFile(t *testing.T, id string, q url.Values, body []byte, headers ...string) (*importReport, int, string) {
	t.Helper()
	rec := ts.do(t, http.MethodPost, "/api/v1/images/"+id+"/import?"+q.Encode(), bytes.NewReader(body), headers...)
	var rep importReport
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		decode(t, rec, &rep)
	}
	return &rep, rec.Code, rec.Body.String()
}

func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

// pixelFeature is a feature of a pixel-space GeoJSON file as other tools write them.
func pixelFeature(id, label string, geometry string, props string) string {
	if props == "" {
		props = "{}"
	}
	var p map[string]any
	json.Unmarshal([]byte(props), &p)
	p["label"] = label
	pb, _ := json.Marshal(p)
	return fmt.Sprintf(`{"type":"Feature","id":%q,"geometry":%s,"properties":%s}`, id, geometry, pb)
}

func collection(features ...string) []byte {
	return []byte(`{"type":"FeatureCollection","features":[` + strings.Join(features, ",\n") + `]}`)
}

const (
	inPoint = `{"type":"Point","coordinates":[10.5,20.25]}`
	inBox   = `{"type":"Polygon","coordinates":[[[2,3],[30,3],[30,20],[2,20],[2,3]]]}`
)

func TestImportDryRunThenImport(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := ts.newImage(t, 1)
	file := collection(
		pixelFeature("a", "vessel/landing ship", inBox, `{"confidence":"probable","hull":"BDK-61"}`),
		pixelFeature("b", "pier", inPoint, `{"note":"north mole"}`),
	)
	before := ts.snapshot(t)
	rep, code, body := ts.importFile(t, img.ID, query("format", "geojson", "dry_run", "1"), file, ts.as(t, "kim")...)
	if code != http.StatusOK || !rep.DryRun || rep.Features != 2 || rep.Create != 2 || len(rep.Refused) != 0 || len(rep.MissingLabels) != 0 {
		t.Fatalf("dry run: %d %s", code, body)
	}
	ts.wantUnchanged(t, before)

	rep, code, body = ts.importFile(t, img.ID, query("format", "geojson"), file, ts.as(t, "kim")...)
	if code != http.StatusCreated || rep.Created != 2 {
		t.Fatalf("import: %d %s", code, body)
	}
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/annotations", nil)
	var list []struct {
		Label struct {
			Path []string `json:"path"`
		} `json:"label"`
		Shape      string         `json:"shape"`
		Properties map[string]any `json:"properties"`
		CreatedBy  string         `json:"created_by"`
	}
	decode(t, rec, &list)
	if len(list) != 2 || strings.Join(list[0].Label.Path, "/") != "vessel/landing ship" || list[0].Shape != "polygon" ||
		list[0].Properties["confidence"] != "probable" || list[0].Properties["hull"] != "BDK-61" || list[1].Properties["note"] != "north mole" {
		t.Errorf("imported: %s", rec.Body.String())
	}
	for _, a := range list {
		if a.CreatedBy != "kim" {
			t.Errorf("created by %q, want the importer kim", a.CreatedBy)
		}
	}
	rec = ts.do(t, http.MethodGet, "/api/v1/audit?action=annotation.import", nil)
	var audit []annotations.AuditEntry
	decode(t, rec, &audit)
	if len(audit) != 1 || audit[0].Actor != "kim" || !strings.Contains(audit[0].Detail, "2 annotations") || !strings.Contains(audit[0].Detail, "geojson") {
		t.Errorf("audit: %s", rec.Body.String())
	}
}

func TestImportAsMultipart(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := ts.newImage(t, 1)
	body, ctype := multipartBody(t, field("note", "ignored"), filePart("harbour.geojson", collection(pixelFeature("a", "vessel", inPoint, ""))))
	rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=geojson", body, "Content-Type", ctype)
	wantStatus(t, rec, http.StatusCreated)
	rec = ts.do(t, http.MethodGet, "/api/v1/audit?action=annotation.import", nil)
	if !strings.Contains(rec.Body.String(), "harbour.geojson") {
		t.Errorf("the audit entry does not name the file: %s", rec.Body.String())
	}
	body, ctype = multipartBody(t, field("other", "x"))
	rec = ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=geojson", body, "Content-Type", ctype)
	wantError(t, rec, http.StatusBadRequest, "malformed", "file", `"file"`)
}

func TestImportRefusesBadInput(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := ts.newImage(t, 1) // 64 × 48, not georeferenced
	kim := ts.as(t, "kim")

	t.Run("thousands of broken features: every one reported, none imported", func(t *testing.T) {
		var fs []string
		for i := 0; i < 3000; i++ {
			g := inPoint
			if i%2 == 0 {
				g = `{"type":"Polygon","coordinates":[[[1,1],[5,1],[5,5],[1,1.5]]]}`
			}
			fs = append(fs, pixelFeature(fmt.Sprint("f", i), "vessel", g, ""))
		}
		before := ts.snapshot(t)
		rep, code, body := ts.importFile(t, img.ID, query("format", "geojson"), collection(fs...), kim...)
		if code != http.StatusUnprocessableEntity || rep.Error == nil || rep.Error.Code != "import_refused" {
			t.Fatalf("got %d %s", code, truncate(body, 300))
		}
		if len(rep.Refused) != 1500 || rep.Features != 3000 || rep.Create != 1500 {
			t.Errorf("got %d refused of %d, %d passing; want 1500 of 3000, 1500", len(rep.Refused), rep.Features, rep.Create)
		}
		if r := rep.Refused[1499]; r.ID != "f2998" || r.Index != 2998 || !strings.Contains(r.Reason, "not closed") {
			t.Errorf("last refusal: %+v", r)
		}
		if !strings.Contains(rep.Error.Message, "nothing was imported") {
			t.Errorf("message %q", rep.Error.Message)
		}
		ts.wantUnchanged(t, before)
	})

	t.Run("unknown labels: counted, then mapped", func(t *testing.T) {
		file := collection(pixelFeature("a", "submarine", inPoint, ""), pixelFeature("b", "Submarine", inPoint, ""), pixelFeature("c", "vessel", inPoint, ""))
		before := ts.snapshot(t)
		rep, code, body := ts.importFile(t, img.ID, query("format", "geojson"), file, kim...)
		if code != http.StatusUnprocessableEntity || len(rep.MissingLabels) != 2 || rep.MissingLabels[0].Name != "Submarine" && rep.MissingLabels[0].Name != "submarine" {
			t.Fatalf("got %d %s", code, body)
		}
		ts.wantUnchanged(t, before)
		rep, code, body = ts.importFile(t, img.ID, query("format", "geojson", "map", `{"submarine":"vessel/landing ship"}`), file, kim...)
		if code != http.StatusCreated || rep.Created != 3 {
			t.Fatalf("mapped: got %d %s", code, body)
		}
	})

	t.Run("a label map to no label", func(t *testing.T) {
		_, code, body := ts.importFile(t, img.ID, query("format", "geojson", "map", `{"submarine":"no such label"}`), collection(pixelFeature("a", "submarine", inPoint, "")), kim...)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, `"field":"map"`) {
			t.Errorf("got %d %s", code, body)
		}
		_, code, body = ts.importFile(t, img.ID, query("format", "geojson", "map", `["x"]`), collection(), kim...)
		if code != http.StatusBadRequest || !strings.Contains(body, `"field":"map"`) {
			t.Errorf("got %d %s", code, body)
		}
	})

	t.Run("labels created only by an administrator", func(t *testing.T) {
		file := collection(pixelFeature("a", "vessel/tug", inPoint, ""))
		rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=geojson&create_labels=1", bytes.NewReader(file), kim...)
		wantError(t, rec, http.StatusForbidden, "forbidden", "create_labels", "administrator")
		rep, code, body := ts.importFile(t, img.ID, query("format", "geojson", "create_labels", "1"), file)
		if code != http.StatusCreated || len(rep.NewLabels) != 1 || rep.NewLabels[0] != "vessel/tug" {
			t.Errorf("admin: got %d %s", code, body)
		}
	})

	t.Run("coordinates outside the image", func(t *testing.T) {
		rep, code, body := ts.importFile(t, img.ID, query("format", "geojson"),
			collection(pixelFeature("far", "vessel", `{"type":"Point","coordinates":[640,20]}`, "")), kim...)
		if code != http.StatusUnprocessableEntity || len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0].Reason, "outside the image") || rep.Refused[0].Field != "geometry" {
			t.Errorf("got %d %s", code, body)
		}
	})

	t.Run("duplicate feature ids", func(t *testing.T) {
		rep, code, body := ts.importFile(t, img.ID, query("format", "geojson"),
			collection(pixelFeature("same", "vessel", inPoint, ""), pixelFeature("same", "vessel", inPoint, "")), kim...)
		if code != http.StatusUnprocessableEntity || len(rep.Refused) != 1 || rep.Refused[0].Index != 1 || !strings.Contains(rep.Refused[0].Reason, `"same" is used again`) {
			t.Errorf("got %d %s", code, body)
		}
	})

	t.Run("lon/lat on an unplaced image", func(t *testing.T) {
		file := collection(pixelFeature("a", "vessel", `{"type":"Point","coordinates":[131.9,43.1]}`, ""))
		rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=geojson&crs=wgs84", bytes.NewReader(file), kim...)
		wantError(t, rec, http.StatusUnprocessableEntity, "not_georeferenced", "crs", "not georeferenced")
		rec = ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=kml", strings.NewReader(`<kml><Placemark><Point><coordinates>131.9,43.1</coordinates></Point></Placemark></kml>`), kim...)
		wantError(t, rec, http.StatusUnprocessableEntity, "not_georeferenced", "crs", "georeference it first")
	})

	t.Run("unknown or missing format", func(t *testing.T) {
		rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=shp2", strings.NewReader("x"), kim...)
		wantError(t, rec, http.StatusBadRequest, "malformed", "format", "geojson", "coco", "yolo-obb", "cvat", "gpkg")
		rec = ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import", strings.NewReader("x"), kim...)
		wantError(t, rec, http.StatusBadRequest, "malformed", "format", "geojson")
	})

	t.Run("a file that is not what it says", func(t *testing.T) {
		rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=geojson", strings.NewReader(`{"type":"FeatureCollection","features":[{"type":`), kim...)
		wantError(t, rec, http.StatusBadRequest, "malformed", "file", "ends before")
		rec = ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=geojson", strings.NewReader(``), kim...)
		wantError(t, rec, http.StatusBadRequest, "malformed", "file", "empty")
	})

	t.Run("an unknown image", func(t *testing.T) {
		rec := ts.do(t, http.MethodPost, "/api/v1/images/img_aaaaaaaaaaaa/import?format=geojson", bytes.NewReader(collection()), kim...)
		wantError(t, rec, http.StatusNotFound, "not_found", "")
	})

	t.Run("a viewer", func(t *testing.T) {
		tok := ts.userToken(t, "vera", annotations.RoleViewer)
		rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=geojson", bytes.NewReader(collection()), "Authorization", "Bearer "+tok)
		wantError(t, rec, http.StatusForbidden, "forbidden", "")
	})
}

// zipOf makes a zip of name, content pairs, deflated.
func zipOf(t *testing.T, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportRefusesUnsafeZips(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := ts.newImage(t, 1)
	kim := ts.as(t, "kim")
	labels := "0 0.5 0.5 0.25 0.25\n"
	cases := []struct {
		name   string
		zip    []byte
		status int
		code   string
		words  []string
	}{
		{"a name climbing out", zipOf(t, "labels/../../evil.txt", labels), 400, "unsafe_zip", []string{"../../evil.txt", "climbs out"}},
		{"an absolute name", zipOf(t, "/etc/cron.d/evil.txt", labels), 400, "unsafe_zip", []string{"absolute"}},
		{"a backslash", zipOf(t, `labels\..\evil.txt`, labels), 400, "unsafe_zip", []string{"backslash"}},
		{"a name twice", zipOf(t, "a.txt", labels, "A.txt", labels), 400, "unsafe_zip", []string{"twice"}},
		{"a zip bomb", zipOf(t, "labels/scene-1.txt", strings.Repeat("0", 50<<20)), 413, "too_large", []string{"zip bomb"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := ts.snapshot(t)
			rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=yolo", bytes.NewReader(c.zip), kim...)
			wantError(t, rec, c.status, c.code, "file", c.words...)
			ts.wantUnchanged(t, before)
		})
	}
	// A zip of what a YOLO dataset holds is fine.
	rep, code, body := ts.importFile(t, img.ID, query("format", "yolo"), zipOf(t, "classes.txt", "vessel/landing ship\n", "labels/scene-1.txt", labels), kim...)
	if code != http.StatusCreated || rep.Created != 1 {
		t.Errorf("a sound zip: %d %s", code, body)
	}
}

func TestImportOverTheLimitIs413(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := ts.newImage(t, 1)
	small := ts.withOptions(t, func(o *serverOptions) { o.MaxImportBytes = 4096 })
	before := ts.snapshot(t)
	big := collection(strings.Repeat(pixelFeature("a", "vessel", inPoint, "")+",", 200) + pixelFeature("b", "vessel", inPoint, ""))
	rec := small.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/import?format=geojson", bytes.NewReader(big))
	wantError(t, rec, http.StatusRequestEntityTooLarge, "too_large", "file", "4096")
	ts.wantUnchanged(t, before)
	var n int
	ts.store.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM annotations`).Scan(&n)
	if n != 0 {
		t.Errorf("%d annotations after a refused upload", n)
	}
}

type serverOptions = server.Options

// withOptions is the same store and library served with other options.
func (ts *testServer) withOptions(t *testing.T, change func(*server.Options)) *testServer {
	t.Helper()
	opts := server.Options{Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Builder: ts.builder, PasswordCost: bcrypt.MinCost}
	change(&opts)
	srv, err := server.New(ts.store, ts.lib, os.DirFS("../web"), opts)
	if err != nil {
		t.Fatal(err)
	}
	other := *ts
	other.srv = srv
	return &other
}

// TestImportIsHeardLive: the annotations an import creates reach those with the image
// open: each as annotation.created, or past what a listener holds, by the stream ending
// so the page reconnects and loads them.
func TestImportIsHeardLive(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	img := ts.newImage(t, 1)
	hs := httptest.NewServer(ts.srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	kim := ts.userToken(t, "kim", annotations.RoleAnalyst)
	stream := openEvents(ctx, t, hs.URL, img.ID, ts.token)
	if ev, err := stream.next(); err != nil || ev.name != "ready" {
		t.Fatalf("first event %v %v, want ready", ev, err)
	}
	post := func(file []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+"/api/v1/images/"+img.ID+"/import?format=geojson", bytes.NewReader(file))
		req.Header.Set("Authorization", "Bearer "+kim)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("import: %d", res.StatusCode)
		}
	}
	post(collection(pixelFeature("a", "vessel", inPoint, `{"note":"first"}`), pixelFeature("b", "vessel", inBox, "")))
	made := heardCreated(t, stream, 2, img.ID, "kim")
	if made[0].Note != "first" || made[1].Shape != annotations.ShapePolygon {
		t.Errorf("heard %+v", made)
	}
	var many []string
	for i := 0; i < 300; i++ {
		many = append(many, pixelFeature(fmt.Sprint("m", i), "vessel", inPoint, ""))
	}
	post(collection(many...))
	if ev, err := stream.next(); !errors.Is(err, io.EOF) {
		t.Errorf("after 300 new annotations: %v %v, want the stream ended", ev, err)
	}
}

// heardCreated reads the stream's next n events, each of which must be annotation.created
// of an annotation of image imageID by actor, and returns the annotations.
func heardCreated(t *testing.T, stream *eventStream, n int, imageID, actor string) []annotations.Annotation {
	t.Helper()
	var made []annotations.Annotation
	for i := 0; i < n; i++ {
		ev, err := stream.next()
		if err != nil || ev.name != "annotation.created" {
			t.Fatalf("event %d: %+v (%v), want annotation.created", i, ev, err)
		}
		var c change
		if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
			t.Fatal(err)
		}
		var a annotations.Annotation
		if err := json.Unmarshal(c.Data, &a); err != nil {
			t.Fatal(err)
		}
		if c.Actor != actor || a.ImageID != imageID || a.Version != 1 {
			t.Errorf("event %d: %+v", i, c)
		}
		made = append(made, a)
	}
	return made
}

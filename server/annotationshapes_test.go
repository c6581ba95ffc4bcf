package server_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

var updateShapes = flag.Bool("update-shapes", false, "rewrite web/test/testdata/shapes.* (the front end's decoding test) from this server's answers")

// shapeRows reads the shapes route's frames (server/annotationshapes.go) as a client
// does, and puts each annotation back as the list route writes it, but for its label,
// which is its id. It fails on frames that do not add up or an answer cut short.
func shapeRows(t *testing.T, body []byte, imageID string) ([]map[string]any, int) {
	t.Helper()
	var out []map[string]any
	frames := 0
	for off := 0; ; {
		if len(body)-off < 8 {
			t.Fatalf("the answer ends at byte %d without its end frame", off)
		}
		n, k := int(binary.LittleEndian.Uint32(body[off:])), int(binary.LittleEndian.Uint32(body[off+4:]))
		if n == 0 {
			if k != 0 || off+8 != len(body) {
				t.Fatalf("the end frame at byte %d says %d numbers and %d bytes follow it, want none", off, k, len(body)-off-8)
			}
			return out, frames
		}
		frames++
		text := body[off+8 : off+8+n]
		at := off + 8 + n
		at += (8 - (at-off)%8) % 8
		if (at-off)%8 != 0 || at+8*k > len(body) {
			t.Fatalf("frame at byte %d: %d numbers do not fit", off, k)
		}
		coords := make([]float64, k)
		for i := range coords {
			coords[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[at+8*i:]))
		}
		off = at + 8*k
		var rows [][]json.RawMessage
		if err := json.Unmarshal(text, &rows); err != nil {
			t.Fatalf("a frame's rows are not JSON arrays: %v", err)
		}
		used := 0
		for _, r := range rows {
			if len(r) != 13 {
				t.Fatalf("a row has %d fields, want 13: %s", len(r), text)
			}
			var v []any
			json.Unmarshal(bytes.Join([][]byte{[]byte("["), bytes.Join(func() [][]byte {
				var parts [][]byte
				for _, f := range r {
					parts = append(parts, f)
				}
				return parts
			}(), []byte(",")), []byte("]")}, nil), &v)
			var rings []int
			json.Unmarshal(r[5], &rings)
			var nested []any
			for _, count := range rings {
				ring := []any{}
				for range count {
					ring = append(ring, []any{coords[used], coords[used+1]})
					used += 2
				}
				nested = append(nested, ring)
			}
			var c any = nested
			switch v[4] {
			case "Point":
				c = nested[0].([]any)[0]
			case "LineString":
				c = nested[0]
			}
			out = append(out, map[string]any{"id": v[0], "image_id": imageID, "version": v[1], "label": v[2], "shape": v[3],
				"geometry": map[string]any{"type": v[4], "coordinates": c}, "properties": v[6], "measures": v[7],
				"review_status": v[8], "created_by": v[9], "created_at": v[10], "updated_by": v[11], "updated_at": v[12]})
		}
		if used != k {
			t.Fatalf("a frame's rows use %d of its %d numbers", used, k)
		}
	}
}

// listed is the list route's annotations with each label as its id, as shapeRows gives them.
func listed(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var list []map[string]any
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		a["label"] = a["label"].(map[string]any)["id"]
	}
	return list
}

// The shapes route gives the list route's annotations, every field and every number
// alike, in its order, whole and page by page, also past one batch of the stream.
func TestAnnotationShapesAreTheList(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/georeference", `{"gsd_m": 0.5}`), http.StatusOK)
	bodies := []string{
		polygonBody,
		`{"label": "vessel/frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [0.1, 0.30000000000000004]}}`,
		`{"label": "vessel/frigate", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[1.5, 2.25], [40.125, 30.0625], [50, 3]]},
			"properties": {"note": "wake \"<&>\" \u2028 ünïcode", "tags": ["a", {"b": null}], "z": 1e-7}}`,
		`{"label": "vessel/landing ship", "shape": "polygon", "geometry": {"type": "Polygon", "coordinates": [[[10, 10], [60, 10], [60, 40], [10, 40], [10, 10]], [[20, 20], [20, 30], [30, 30], [20, 20]]]}}`,
		`{"label": "vessel/landing ship", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[1, 1], [9, 1], [9, 4], [1, 4], [1, 1]]]}, "properties": {"confidence": "confirmed"}}`,
		`{"label": "vessel/frigate", "shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [[[10, 20], [30, 10], [35, 20], [15, 30], [10, 20]]]}}`,
	}
	for _, b := range bodies {
		ts.createAnnotation(t, img.ID, b)
	}
	label, point := "vessel/frigate", annotations.ShapePoint
	var ins []annotations.AnnotationInput
	for i := range 1200 {
		ins = append(ins, annotations.AnnotationInput{Label: &label, Shape: &point,
			Geometry: json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, float64(i%60)+1/3.0, float64(i%40)+0.1))})
	}
	if _, err := ts.store.CreateAnnotations(t.Context(), "bob", img.ID, ins); err != nil {
		t.Fatal(err)
	}

	rec := ts.do(t, http.MethodGet, listPath(img.ID), nil)
	wantStatus(t, rec, http.StatusOK)
	want := listed(t, rec.Body.Bytes())
	shapes := ts.do(t, http.MethodGet, listPath(img.ID)+"/shapes", nil)
	wantStatus(t, shapes, http.StatusOK)
	if ct := shapes.Header().Get("Content-Type"); ct != "application/vnd.satmark.shapes" {
		t.Errorf("Content-Type = %q, want application/vnd.satmark.shapes", ct)
	}
	if got, want := seqOf(t, shapes), seqOf(t, rec); got != want {
		t.Errorf("Satmark-Seq = %d, the list's %d, want the same", got, want)
	}
	got, frames := shapeRows(t, shapes.Body.Bytes(), img.ID)
	if frames < 2 {
		t.Errorf("%d annotations came in %d frames, want one a batch of the stream", len(got), frames)
	}
	if len(got) != len(want) {
		t.Fatalf("the shapes give %d annotations, the list %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			g, _ := json.Marshal(got[i])
			w, _ := json.Marshal(want[i])
			t.Fatalf("annotation %d:\n got %s\nwant %s", i, g, w)
		}
	}
	if n := shapes.Body.Len(); n*2 > rec.Body.Len() {
		t.Errorf("the shapes are %d bytes, the list %d: want under half", n, rec.Body.Len())
	}

	// Page by page, following the Link header, the same again.
	var paged []map[string]any
	path := listPath(img.ID) + "/shapes?limit=500"
	for pages := 0; path != ""; pages++ {
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
		rec := ts.do(t, http.MethodGet, path, nil)
		wantStatus(t, rec, http.StatusOK)
		rows, _ := shapeRows(t, rec.Body.Bytes(), img.ID)
		paged = append(paged, rows...)
		path = ""
		if link := rec.Header().Get("Link"); link != "" {
			if !strings.HasPrefix(link, "</api/v1/images/"+img.ID+"/annotations/shapes?limit=500&after=") {
				t.Fatalf("Link = %q, want the next page of shapes", link)
			}
			path = link[1:strings.IndexByte(link, '>')]
		}
	}
	if !reflect.DeepEqual(paged, want) {
		t.Errorf("pages of 500 give %d annotations, want the list's %d alike", len(paged), len(want))
	}

	if *updateShapes {
		// The first few, for web/test/shaperows.test.js: the answer and the list's JSON.
		few := listPath(img.ID) + "?limit=6"
		dir := filepath.Join("..", "web", "test", "testdata")
		for name, target := range map[string]string{"shapes.bin": listPath(img.ID) + "/shapes?limit=6", "shapes.json": few} {
			rec := ts.do(t, http.MethodGet, target, nil)
			wantStatus(t, rec, http.StatusOK)
			if err := os.WriteFile(filepath.Join(dir, name), rec.Body.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The shapes route refuses what the list route refuses, with the same errors, and lets
// viewers read it.
func TestAnnotationShapesRefuse(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	ts.createAnnotation(t, img.ID, polygonBody)
	shapes := listPath(img.ID) + "/shapes"
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}
	for _, path := range []string{shapes, shapes + "?limit=1"} {
		rec := ts.do(t, http.MethodGet, path, nil, viewer...)
		wantStatus(t, rec, http.StatusOK)
		if rows, _ := shapeRows(t, rec.Body.Bytes(), img.ID); len(rows) != 1 {
			t.Errorf("a viewer's %s: %d annotations, want 1", path, len(rows))
		}
	}
	if rec := ts.do(t, http.MethodGet, shapes, nil, "Authorization", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("without signing in: status %d, want 401", rec.Code)
	}
	tests := []struct {
		name, query string
		field       string
		words       []string
	}{
		{"nok, limit 0", "?limit=0", "limit", []string{"1 to 10000"}},
		{"nok, limit not a number", "?limit=all", "limit", []string{"1 to 10000"}},
		{"nok, cursor not handed out", "?limit=5&after=bm90IGEgY3Vyc29y", "after", []string{"cursor", "Link"}},
		{"nok, cursor of another kind", "?limit=5&after=%2e%2e%2f", "after", []string{"cursor"}},
		{"nok, cursor without limit", "?after=bm90IGEgY3Vyc29y", "after", []string{"limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.do(t, http.MethodGet, shapes+tc.query, nil), http.StatusBadRequest, "malformed", tc.field, tc.words...)
		})
	}
	for _, path := range []string{"/api/v1/images/img_aaaaaaaaaaaa/annotations/shapes", "/api/v1/images/nonsense/annotations/shapes?limit=5"} {
		wantError(t, ts.do(t, http.MethodGet, path, nil), http.StatusNotFound, "not_found", "")
	}
	// An image in the trash has no shapes.
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+img.ID, nil), http.StatusNoContent)
	wantError(t, ts.do(t, http.MethodGet, shapes, nil), http.StatusNotFound, "not_found", "")
}

// The shapes' ground measures follow the image's georeference: none without one, then
// those of a ground sample distance, of another, of control points, and none again once
// it is removed, each time the list's own, measured once the shapes were read under the
// georeference before.
func TestAnnotationShapesFollowTheGeoreference(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.uploadScene(t, 4000, 3000, 7)
	ts.createAnnotation(t, img.ID, polygonBody)
	ts.createAnnotation(t, img.ID, `{"label": "vessel/frigate", "shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [[[1000, 2000], [3000, 1000], [3500, 2000], [1500, 3000], [1000, 2000]]]}}`)
	ts.createAnnotation(t, img.ID, `{"label": "vessel/frigate", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[100, 200], [400, 600]]}}`)
	georef := "/api/v1/images/" + img.ID + "/georeference"
	steps := []struct {
		name   string
		change func()
		basis  any
	}{
		{"none", func() {}, nil},
		{"a ground sample distance", func() { wantStatus(t, ts.doJSON(t, http.MethodPut, georef, `{"gsd_m": 0.5}`), http.StatusOK) }, "gsd"},
		{"another", func() { wantStatus(t, ts.doJSON(t, http.MethodPut, georef, `{"gsd_m": 2}`), http.StatusOK) }, "gsd"},
		{"control points", func() { ts.putGeoref(t, img.ID, "affine", vladivostok6) }, "georeference"},
		{"removed", func() { wantStatus(t, ts.do(t, http.MethodDelete, georef, nil), http.StatusNoContent) }, nil},
	}
	var before []map[string]any
	for _, step := range steps {
		step.change()
		shapes := ts.do(t, http.MethodGet, listPath(img.ID)+"/shapes", nil)
		wantStatus(t, shapes, http.StatusOK)
		got, _ := shapeRows(t, shapes.Body.Bytes(), img.ID)
		rec := ts.do(t, http.MethodGet, listPath(img.ID), nil)
		wantStatus(t, rec, http.StatusOK)
		want := listed(t, rec.Body.Bytes())
		if !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Fatalf("%s: the shapes\n%s\nwant the list's\n%s", step.name, g, w)
		}
		for _, a := range got {
			if basis := a["measures"].(map[string]any)["basis"]; basis != step.basis {
				t.Errorf("%s: %s measured on %v, want %v", step.name, a["id"], basis, step.basis)
			}
		}
		if before != nil && step.basis != nil && reflect.DeepEqual(got[1]["measures"], before[1]["measures"]) {
			t.Errorf("%s: the rotated box's measures %v are those under the georeference before", step.name, got[1]["measures"])
		}
		before = got
	}
}

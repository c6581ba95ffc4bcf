package server_test

import (
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

// shapeRows reads the shapes route's frames (annotations.ShapeFrame) as a client does,
// and puts each annotation back as the list route writes it, but for its label, which is
// its id. It fails on frames that do not add up or an answer cut short.
func shapeRows(t *testing.T, body []byte, imageID string) ([]map[string]any, int) {
	t.Helper()
	var out []map[string]any
	frames := 0
	for off := 0; ; {
		if len(body)-off < 24 {
			t.Fatalf("the answer ends at byte %d without its end frame", off)
		}
		var head [6]int
		for i := range head {
			head[i] = int(binary.LittleEndian.Uint32(body[off+4*i:]))
		}
		n, s, j, r, k, m := head[0], head[1], head[2], head[3], head[4], head[5]
		if n == 0 {
			if head != [6]int{} || off+24 != len(body) {
				t.Fatalf("the end frame at byte %d says %v and %d bytes follow it, want zeros and none", off, head, len(body)-off-24)
			}
			return out, frames
		}
		frames++
		at := off + 24
		take := func(size int) []byte {
			t.Helper()
			if at+size > len(body) {
				t.Fatalf("frame at byte %d: %d bytes do not fit", off, size)
			}
			b := body[at : at+size]
			at += size
			return b
		}
		align := func(to int) {
			for (at-off)%to != 0 {
				if take(1)[0] != 0 {
					t.Fatalf("frame at byte %d: padding that is not zero", off)
				}
			}
		}
		var strs []string
		if err := json.Unmarshal(take(s), &strs); err != nil || len(strs) < n {
			t.Fatalf("a frame's strings are not a JSON array of at least %d strings: %v", n, err)
		}
		var props []any
		if j > 0 {
			if err := json.Unmarshal(take(j), &props); err != nil {
				t.Fatalf("a frame's JSON is not an array: %v", err)
			}
		}
		align(4)
		u32 := func(count int) []int {
			b := take(4 * count)
			v := make([]int, count)
			for i := range v {
				v[i] = int(binary.LittleEndian.Uint32(b[4*i:]))
			}
			return v
		}
		rows, rings := u32(13*n), u32(r)
		align(8)
		f64 := func(count int) []float64 {
			b := take(8 * count)
			v := make([]float64, count)
			for i := range v {
				v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			}
			return v
		}
		coords, measures := f64(k), f64(m)
		off = at
		str := func(i int) string {
			t.Helper()
			if n+i >= len(strs) {
				t.Fatalf("string %d of %d", i, len(strs)-n)
			}
			return strs[n+i]
		}
		usedRings, used, usedMeasures, usedProps := 0, 0, 0, 0
		for i := range n {
			row := rows[13*i : 13*i+13]
			var nested []any
			for range row[4] {
				ring := []any{}
				for range rings[usedRings] {
					ring = append(ring, []any{coords[used], coords[used+1]})
					used += 2
				}
				usedRings++
				nested = append(nested, ring)
			}
			typ := str(row[3])
			var c any = nested
			switch typ {
			case "Point":
				c = nested[0].([]any)[0]
			case "LineString":
				c = nested[0]
			}
			var p any = map[string]any{"confidence": "", "identification": "", "note": ""}
			if row[5] > 0 {
				if row[5] != usedProps+1 {
					t.Fatalf("row %d: properties %d, want the next (%d)", i, row[5], usedProps+1)
				}
				p = props[usedProps]
				usedProps++
			}
			ms := map[string]any{}
			for b, name := range []string{"length_px", "width_px", "area_px2", "perimeter_px", "length_m", "width_m", "area_m2", "perimeter_m", "heading_deg"} {
				if row[6]&(1<<b) != 0 {
					ms[name] = measures[usedMeasures]
					usedMeasures++
				}
			}
			if row[7] > 0 {
				ms["basis"] = str(row[7] - 1)
			}
			out = append(out, map[string]any{"id": strs[i], "image_id": imageID, "version": float64(row[0]), "label": str(row[1]), "shape": str(row[2]),
				"geometry": map[string]any{"type": typ, "coordinates": c}, "properties": p, "measures": ms,
				"review_status": str(row[8]), "created_by": str(row[9]), "created_at": str(row[10]), "updated_by": str(row[11]), "updated_at": str(row[12])})
		}
		if usedRings != r || used != k || usedMeasures != m || usedProps != len(props) {
			t.Fatalf("a frame's rows use %d of its %d rings, %d of its %d coordinates, %d of its %d measures, %d of its %d properties",
				usedRings, r, used, k, usedMeasures, m, usedProps, len(props))
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
}

// Every kind of annotation comes back from the shapes as the list gives it: points (one
// at the corner), lines, polygons with holes, boxes and rotated boxes, on a georeferenced
// image (ground measures, headings, their basis), properties of every JSON kind in
// Cyrillic, emoji, quotes and line separators, by two analysts, one edited and
// submitted. With -update-shapes it writes the fixture web/test/shaperows.test.js reads:
// testdata/shapes.bin, the shapes' pages of 3 joined into one answer (their frames in
// order, the end frame last), and testdata/shapes.json, the list.
func TestAnnotationShapesOfEveryKind(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.uploadScene(t, 4000, 3000, 11)
	ts.putGeoref(t, img.ID, "affine", vladivostok6)
	bob := []string{"Authorization", "Bearer " + ts.userToken(t, "bob", annotations.RoleAnalyst)}
	bodies := []string{
		`{"label": "vessel/frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [0.1, 0.30000000000000004]}}`,
		`{"label": "vessel/frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [0, 0]}, "properties": {"confidence": "possible"}}`,
		`{"label": "vessel/landing ship", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[1.5, 2.25], [400.125, 300.0625], [500, 3], [3999.75, 2999.5]]},
			"properties": {"note": "wake \"<&>\" \u2028 ünïcode 🚢", "tags": ["a", {"b": null, "c": [1.5, -2e-9, true]}], "z": 1e-7, "big": 1e300}}`,
		`{"label": "vessel/landing ship", "shape": "polygon", "geometry": {"type": "Polygon", "coordinates": [[[100, 100], [600, 100], [600, 400], [100, 400], [100, 100]], [[200, 200], [200, 300], [300, 300], [200, 200]], [[400, 200], [500, 200], [500, 300], [400, 200]]]},
			"properties": {"identification": "Ропуха", "count": 2, "ok": false}}`,
		`{"label": "vessel/frigate", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[1000, 1000], [1900, 1000], [1900, 1400], [1000, 1400], [1000, 1000]]]}, "properties": {"confidence": "confirmed"}}`,
		`{"label": "vessel/frigate", "shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [[[1000, 2000], [3000, 1000], [3500, 2000], [1500, 3000], [1000, 2000]]]}}`,
		`{"label": "vessel/landing ship", "shape": "polygon", "geometry": {"type": "Polygon", "coordinates": [[[10.5, 10.25], [60.125, 10], [35, 40.0625], [10.5, 10.25]]]}}`,
		`{"label": "vessel/landing ship", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[7, 8], [9, 10]]}, "properties": {"note": "\t tab, \\ backslash"}}`,
	}
	var made []annotations.Annotation
	for i, b := range bodies {
		var who []string
		if i%2 == 1 {
			who = bob
		}
		made = append(made, ts.createAnnotation(t, img.ID, b, who...))
	}
	wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+made[5].ID, `{"version": 1, "properties": {"note": "heading east"}}`, bob...), http.StatusOK)
	wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+made[5].ID+"/reviews", `{"version": 2, "decision": "submitted"}`, bob...), http.StatusOK)

	rec := ts.do(t, http.MethodGet, listPath(img.ID), nil)
	wantStatus(t, rec, http.StatusOK)
	want := listed(t, rec.Body.Bytes())
	var answer []byte
	frames := 0
	path := listPath(img.ID) + "/shapes?limit=3"
	for path != "" {
		page := ts.do(t, http.MethodGet, path, nil)
		wantStatus(t, page, http.StatusOK)
		_, n := shapeRows(t, page.Body.Bytes(), img.ID)
		frames += n
		answer = append(answer[:max(0, len(answer)-annotations.ShapeFrameHead)], page.Body.Bytes()...)
		path = ""
		if link := page.Header().Get("Link"); link != "" {
			path = link[1:strings.IndexByte(link, '>')]
		}
	}
	got, _ := shapeRows(t, answer, img.ID)
	if frames != 3 || !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("in %d frames, the shapes\n%s\nwant the list's\n%s", frames, g, w)
	}
	for _, a := range got {
		if a["shape"] == "rotated_rectangle" && (a["measures"].(map[string]any)["heading_deg"] == nil || a["version"] != 3.0) {
			t.Errorf("the rotated box: %v, want a heading and version 3", a)
		}
	}
	if *updateShapes {
		dir := filepath.Join("..", "web", "test", "testdata")
		if err := os.WriteFile(filepath.Join(dir, "shapes.bin"), answer, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "shapes.json"), rec.Body.Bytes(), 0o644); err != nil {
			t.Fatal(err)
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

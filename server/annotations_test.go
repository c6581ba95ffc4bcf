package server_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
)

const polygonBody = `{"label": "vessel/landing ship", "shape": "polygon",
	"geometry": {"type": "Polygon", "coordinates": [[[10, 10], [30, 10], [30, 20], [10, 20], [10, 10]]]},
	"properties": {"confidence": "probable", "identification": "Ropucha-class", "note": "moored", "count": 2}}`

func TestAnnotationLifecycle(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 100)
	landingShip := ts.labelByPath(t, "vessel/landing ship")
	frigate := ts.labelByPath(t, "vessel/frigate")

	// Create.
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/annotations", polygonBody, ts.as(t, "alice")...)
	wantStatus(t, rec, http.StatusCreated)
	var a annotations.Annotation
	decode(t, rec, &a)
	if got, want := rec.Header().Get("Location"), "/api/v1/annotations/"+a.ID; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if got := rec.Header().Get("ETag"); got != `"1"` {
		t.Errorf("ETag = %q, want %q", got, `"1"`)
	}
	if a.Version != 1 || a.ImageID != img.ID || a.Label.ID != landingShip.ID || a.Shape != annotations.ShapePolygon ||
		a.Confidence != annotations.Probable || a.Identification != "Ropucha-class" || a.Note != "moored" ||
		string(a.Attributes["count"]) != "2" || a.CreatedBy != "alice" || a.UpdatedBy != "alice" {
		t.Errorf("created annotation = %+v", a)
	}
	var raw struct {
		Measures annotations.Measures `json:"measures"`
	}
	decode(t, rec, &raw)
	if raw.Measures.AreaPx2 != 200 || raw.Measures.PerimeterPx != 60 {
		t.Errorf("measures = %+v, want area 200 px², perimeter 60 px", raw.Measures)
	}
	path := "/api/v1/annotations/" + a.ID

	// Get and list.
	rec = ts.do(t, http.MethodGet, path, nil)
	wantStatus(t, rec, http.StatusOK)
	if got := rec.Header().Get("ETag"); got != `"1"` {
		t.Errorf("GET ETag = %q, want %q", got, `"1"`)
	}
	var got annotations.Annotation
	decode(t, rec, &got)
	if got.ID != a.ID || !reflect.DeepEqual(got.Geometry, a.Geometry) {
		t.Errorf("GET = %+v, want %+v", got, a)
	}
	ts.createAnnotation(t, img.ID, `{"label": "frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [50, 40]}}`)
	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/annotations", nil)
	wantStatus(t, rec, http.StatusOK)
	var list []annotations.Annotation
	decode(t, rec, &list)
	if len(list) != 2 || list[0].ID != a.ID {
		t.Errorf("list has %d annotations (first %v), want 2 starting with %s", len(list), list, a.ID)
	}

	// Move: every position shifts by the same offset.
	rec = ts.doJSON(t, http.MethodPatch, path, `{"version": 1,
		"geometry": {"type": "Polygon", "coordinates": [[[15, 12], [35, 12], [35, 22], [15, 22], [15, 12]]]}}`, ts.as(t, "bob")...)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if got.Version != 2 || rec.Header().Get("ETag") != `"2"` || got.UpdatedBy != "bob" || got.CreatedBy != "alice" {
		t.Errorf("after move: version %d, ETag %s, updated_by %q, created_by %q; want 2, \"2\", bob, alice",
			got.Version, rec.Header().Get("ETag"), got.UpdatedBy, got.CreatedBy)
	}

	// Reshape: one corner moves, through If-Match instead of a body version.
	rec = ts.doJSON(t, http.MethodPatch, path, `{"geometry": {"type": "Polygon", "coordinates": [[[15, 12], [40, 12], [35, 22], [15, 22], [15, 12]]]}}`,
		"If-Match", `"2"`)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if got.Version != 3 {
		t.Errorf("after reshape: version %d, want 3", got.Version)
	}

	// Relabel, by the label's id.
	rec = ts.doJSON(t, http.MethodPatch, path, fmt.Sprintf(`{"version": 3, "label": %q}`, frigate.ID))
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if got.Version != 4 || got.Label.ID != frigate.ID || strings.Join(got.Label.Path, "/") != "vessel/frigate" {
		t.Errorf("after relabel: version %d, label %+v; want 4, vessel/frigate", got.Version, got.Label)
	}

	// Properties are a merge patch: null removes, other keys stay.
	rec = ts.doJSON(t, http.MethodPatch, path, `{"version": 4, "properties": {"count": null, "confidence": "confirmed", "hull_number": "055"}}`)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if got.Version != 5 || got.Confidence != annotations.Confirmed || got.Identification != "Ropucha-class" || got.Note != "moored" {
		t.Errorf("after merge patch: version %d, confidence %q, identification %q, note %q", got.Version, got.Confidence, got.Identification, got.Note)
	}
	if _, ok := got.Attributes["count"]; ok || string(got.Attributes["hull_number"]) != `"055"` {
		t.Errorf("attributes after merge patch = %v, want count removed and hull_number \"055\"", stringify(got.Attributes))
	}

	// A PATCH that changes nothing keeps the version.
	rec = ts.doJSON(t, http.MethodPatch, path, `{"version": 5, "properties": {"confidence": "confirmed"}}`)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if got.Version != 5 {
		t.Errorf("no-op PATCH moved the version to %d, want 5", got.Version)
	}

	// Stale and missing versions.
	before := ts.snapshot(t)
	rec = ts.doJSON(t, http.MethodPatch, path, `{"version": 4, "properties": {"note": "lost update"}}`)
	e := wantError(t, rec, http.StatusPreconditionFailed, "stale_version", "version", "version 5")
	wantCurrentVersion(t, e, 5)
	rec = ts.doJSON(t, http.MethodPatch, path, `{"properties": {"note": "lost update"}}`, "If-Match", `"1"`)
	e = wantError(t, rec, http.StatusPreconditionFailed, "stale_version", "version")
	wantCurrentVersion(t, e, 5)
	wantError(t, ts.doJSON(t, http.MethodPatch, path, `{"properties": {"note": "which version?"}}`),
		http.StatusPreconditionRequired, "version_required", "version")
	wantError(t, ts.doJSON(t, http.MethodPatch, path, `{"version": 5, "properties": {"note": "x"}}`, "If-Match", `"4"`),
		http.StatusBadRequest, "malformed", "version")
	wantError(t, ts.doJSON(t, http.MethodPatch, path, `{"properties": {"note": "x"}}`, "If-Match", `*`),
		http.StatusBadRequest, "malformed", "If-Match")
	wantError(t, ts.do(t, http.MethodDelete, path, nil, "If-Match", `"3"`), http.StatusPreconditionFailed, "stale_version", "version")
	wantError(t, ts.do(t, http.MethodDelete, path+"?version=2", nil), http.StatusPreconditionFailed, "stale_version", "version")
	wantError(t, ts.do(t, http.MethodDelete, path+"?version=latest", nil), http.StatusBadRequest, "malformed", "version")
	wantError(t, ts.do(t, http.MethodDelete, path, nil), http.StatusPreconditionRequired, "version_required", "version")
	wantError(t, ts.do(t, http.MethodDelete, path+"?version=5", nil, "If-Match", `"4"`), http.StatusBadRequest, "malformed", "version")
	ts.wantUnchanged(t, before)

	// Delete.
	rec = ts.do(t, http.MethodDelete, path, nil, append([]string{"If-Match", `"5"`}, ts.as(t, "carol")...)...)
	wantStatus(t, rec, http.StatusNoContent)
	wantError(t, ts.do(t, http.MethodGet, path, nil), http.StatusNotFound, "not_found", "")
	wantError(t, ts.doJSON(t, http.MethodPatch, path, `{"version": 5, "properties": {"note": "x"}}`), http.StatusNotFound, "not_found", "")
	wantError(t, ts.do(t, http.MethodDelete, path, nil), http.StatusNotFound, "not_found", "")

	// The history outlives the annotation.
	rec = ts.do(t, http.MethodGet, path+"/history", nil)
	wantStatus(t, rec, http.StatusOK)
	var revs []annotations.Revision
	decode(t, rec, &revs)
	want := []struct {
		action, actor string
		version       int
		changes       []string
	}{
		{"create", "alice", 1, []string{"created"}},
		{"update", "bob", 2, []string{"moved"}},
		{"update", "tester", 3, []string{"reshaped"}},
		{"update", "tester", 4, []string{"relabelled"}},
		{"update", "tester", 5, []string{"confidence", "attributes"}},
		{"delete", "carol", 6, []string{"deleted"}},
	}
	if len(revs) != len(want) {
		t.Fatalf("history has %d revisions, want %d: %+v", len(revs), len(want), revs)
	}
	for i, w := range want {
		r := revs[i]
		if r.Action != w.action || r.Actor != w.actor || r.Version != w.version || !reflect.DeepEqual(r.Changes, w.changes) {
			t.Errorf("revision %d = %s by %q v%d %v, want %s by %q v%d %v", i, r.Action, r.Actor, r.Version, r.Changes,
				w.action, w.actor, w.version, w.changes)
		}
		if r.AnnotationID != a.ID || r.At.IsZero() || time.Since(r.At) > time.Hour {
			t.Errorf("revision %d: annotation %q at %v, want %s at about now", i, r.AnnotationID, r.At, a.ID)
		}
	}
	if revs[0].Before != nil || revs[0].After == nil || revs[5].Before == nil || revs[5].After != nil {
		t.Errorf("create must have only after, delete only before")
	}
	if revs[1].Before.Geometry.Coordinates[0][0] != (annotations.Position{10, 10}) || revs[1].After.Geometry.Coordinates[0][0] != (annotations.Position{15, 12}) {
		t.Errorf("move revision before/after = %v / %v", revs[1].Before.Geometry, revs[1].After.Geometry)
	}
}

func wantCurrentVersion(t *testing.T, e apiError, version int) {
	t.Helper()
	if len(e.Current) == 0 {
		t.Fatalf("412 body has no error.current")
	}
	var cur annotations.Annotation
	if err := json.Unmarshal(e.Current, &cur); err != nil {
		t.Fatalf("error.current is not an annotation: %v", err)
	}
	if cur.Version != version {
		t.Errorf("error.current.version = %d, want %d", cur.Version, version)
	}
}

func stringify(m map[string]json.RawMessage) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func TestAnnotationLabelReferences(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 110)
	landingShip := ts.labelByPath(t, "vessel/landing ship")
	tests := []struct {
		name, ref, wantPath string
	}{
		{"ok, by id", landingShip.ID, "vessel/landing ship"},
		{"ok, by path with slash", "vessel/landing ship", "vessel/landing ship"},
		{"ok, by path with ›", "vessel › landing ship", "vessel/landing ship"},
		{"ok, by path in other case", "Vessel/Landing Ship", "vessel/landing ship"},
		{"ok, by unique name", "frigate", "vessel/frigate"},
		{"ok, by top-level name", "vessel", "vessel"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := ts.createAnnotation(t, img.ID, map[string]any{"label": tc.ref, "shape": "point",
				"geometry": map[string]any{"type": "Point", "coordinates": []float64{1.25, 2.75}}})
			if got := strings.Join(a.Label.Path, "/"); got != tc.wantPath {
				t.Errorf("label %q resolved to %q, want %q", tc.ref, got, tc.wantPath)
			}
			if p := a.Geometry.Coordinates[0][0]; p != (annotations.Position{1.25, 2.75}) {
				t.Errorf("point stored as %v, want [1.25 2.75] (never rounded)", p)
			}
		})
	}
	// A name two labels share must be given as a path.
	if rec := ts.doJSON(t, http.MethodPost, "/api/v1/labels", map[string]any{"name": "frigate", "parent_id": ts.labelByPath(t, "aircraft").ID}); rec.Code != http.StatusCreated {
		t.Fatalf("creating a second label named frigate: %d %s", rec.Code, rec.Body)
	}
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/annotations",
		`{"label": "frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [1, 2]}}`)
	wantError(t, rec, http.StatusUnprocessableEntity, "invalid", "label", "ambiguous")
}

func TestCreateAnnotationRejectsBadInput(t *testing.T) {
	ts := newTestServer(t, smallLimits) // images are 64×48
	img := ts.newImage(t, 120)
	ts.createAnnotation(t, img.ID, polygonBody) // something stored that must stay as it is
	body := func(label, shape, geometry, properties string) string {
		s := `{"label": ` + label + `, "shape": ` + shape + `, "geometry": ` + geometry
		if properties != "" {
			s += `, "properties": ` + properties
		}
		return s + "}"
	}
	point := func(coords string) string { return `{"type": "Point", "coordinates": ` + coords + `}` }
	poly := func(ring string) string { return `{"type": "Polygon", "coordinates": [` + ring + `]}` }
	square := `[[10, 10], [20, 10], [20, 20], [10, 20], [10, 10]]`
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
		words  []string
	}{
		{"nok, unknown label", body(`"submarine"`, `"point"`, point("[1, 1]"), ""), 422, "invalid", "label", []string{"unknown label", "submarine"}},
		{"nok, unknown label path", body(`"vessel/submarine"`, `"point"`, point("[1, 1]"), ""), 422, "invalid", "label", []string{"unknown label"}},
		{"nok, label missing", `{"shape": "point", "geometry": ` + point("[1, 1]") + `}`, 422, "invalid", "label", []string{"required"}},
		{"nok, label empty", body(`""`, `"point"`, point("[1, 1]"), ""), 422, "invalid", "label", []string{"required"}},
		{"nok, label not a string", body(`7`, `"point"`, point("[1, 1]"), ""), 400, "malformed", "label", nil},
		{"nok, NaN coordinate", body(`"vessel"`, `"point"`, point("[NaN, 1]"), ""), 422, "invalid", "geometry", []string{"NaN", "finite"}},
		{"nok, Infinity coordinate", body(`"vessel"`, `"line"`, `{"type": "LineString", "coordinates": [[1, 1], [Infinity, 2]]}`, ""), 422, "invalid", "geometry", []string{"finite"}},
		{"nok, -Infinity coordinate", body(`"vessel"`, `"polygon"`, poly(`[[-Infinity, 10], [20, 10], [20, 20], [10, 10]]`), ""), 422, "invalid", "geometry", []string{"finite"}},
		{"nok, 1e999 coordinate", body(`"vessel"`, `"point"`, point("[1e999, 1]"), ""), 422, "invalid", "geometry", []string{"1e999", "finite"}},
		{"nok, coordinate as a string", body(`"vessel"`, `"point"`, point(`["5", 1]`), ""), 422, "invalid", "geometry", []string{"finite"}},
		{"nok, point right of the image", body(`"vessel"`, `"point"`, point("[64.01, 10]"), ""), 422, "invalid", "geometry", []string{"outside the image"}},
		{"nok, point above the image", body(`"vessel"`, `"point"`, point("[10, -0.5]"), ""), 422, "invalid", "geometry", []string{"outside the image"}},
		{"nok, polygon far outside the image", body(`"vessel"`, `"polygon"`, poly(`[[1000, 1000], [2000, 1000], [2000, 2000], [1000, 1000]]`), ""), 422, "invalid", "geometry", []string{"outside the image"}},
		{"nok, ring not closed", body(`"vessel"`, `"polygon"`, poly(`[[10, 10], [20, 10], [20, 20], [10, 20], [11, 11]]`), ""), 422, "invalid", "geometry", []string{"not closed"}},
		{"nok, ring of 3 positions", body(`"vessel"`, `"polygon"`, poly(`[[10, 10], [20, 10], [10, 10]]`), ""), 422, "invalid", "geometry", []string{"at least 4"}},
		{"nok, hole not closed", body(`"vessel"`, `"polygon"`, poly(square+`, [[12, 12], [14, 12], [14, 14], [12, 14]]`), ""), 422, "invalid", "geometry", []string{"ring 1"}},
		{"nok, ring with no area", body(`"vessel"`, `"polygon"`, poly(`[[10, 10], [20, 10], [30, 10], [10, 10]]`), ""), 422, "invalid", "geometry", []string{"no area"}},
		{"nok, rectangle not axis-aligned", body(`"vessel"`, `"rectangle"`, poly(`[[10, 10], [20, 12], [18, 22], [8, 20], [10, 10]]`), ""), 422, "invalid", "geometry", []string{"axis-aligned"}},
		{"nok, rectangle of 6 positions", body(`"vessel"`, `"rectangle"`, poly(`[[10, 10], [15, 10], [20, 10], [20, 20], [10, 20], [10, 10]]`), ""), 422, "invalid", "geometry", []string{"5 positions"}},
		{"nok, rotated rectangle without right angles", body(`"vessel"`, `"rotated_rectangle"`, poly(`[[10, 10], [30, 10], [35, 20], [15, 20], [10, 10]]`), ""), 422, "invalid", "geometry", []string{"right angles"}},
		{"nok, line of one position", body(`"vessel"`, `"line"`, `{"type": "LineString", "coordinates": [[1, 1]]}`, ""), 422, "invalid", "geometry", []string{"at least 2"}},
		{"nok, polygon shape with a point", body(`"vessel"`, `"polygon"`, point("[1, 1]"), ""), 422, "invalid", "geometry", []string{"must be a Polygon"}},
		{"nok, geometry type not supported", body(`"vessel"`, `"polygon"`, `{"type": "MultiPolygon", "coordinates": []}`, ""), 422, "invalid", "geometry", []string{"not supported"}},
		{"nok, geometry missing", `{"label": "vessel", "shape": "point"}`, 422, "invalid", "geometry", []string{"required"}},
		{"nok, position of three numbers", body(`"vessel"`, `"point"`, point("[1, 2, 3]"), ""), 422, "invalid", "geometry", []string{"two numbers"}},
		{"nok, shape unknown", body(`"vessel"`, `"circle"`, point("[1, 1]"), ""), 422, "invalid", "shape", []string{"circle"}},
		{"nok, shape missing", `{"label": "vessel", "geometry": ` + point("[1, 1]") + `}`, 422, "invalid", "shape", []string{"required"}},
		{"nok, properties an array", body(`"vessel"`, `"point"`, point("[1, 1]"), `["probable"]`), 422, "invalid", "properties", []string{"JSON object"}},
		{"nok, properties a string", body(`"vessel"`, `"point"`, point("[1, 1]"), `"probable"`), 422, "invalid", "properties", []string{"JSON object"}},
		{"nok, properties over 64 KiB", body(`"vessel"`, `"point"`, point("[1, 1]"), `{"note": "`+strings.Repeat("n", 65<<10)+`"}`), 422, "invalid", "properties", []string{"64 KiB"}},
		{"nok, properties over 64 KiB in many keys", body(`"vessel"`, `"point"`, point("[1, 1]"), manyKeys(70<<10)), 422, "invalid", "properties", []string{"64 KiB"}},
		{"nok, confidence not allowed", body(`"vessel"`, `"point"`, point("[1, 1]"), `{"confidence": "certain"}`), 422, "invalid", "properties.confidence", []string{"confirmed, probable, possible"}},
		{"nok, note not a string", body(`"vessel"`, `"point"`, point("[1, 1]"), `{"note": 5}`), 422, "invalid", "properties.note", []string{"string"}},
		{"nok, NaN in properties", body(`"vessel"`, `"point"`, point("[1, 1]"), `{"count": NaN}`), 400, "malformed", "", []string{"NaN"}},
		{"nok, unknown field", `{"label": "vessel", "shape": "point", "geometry": ` + point("[1, 1]") + `, "colour": "red"}`, 400, "malformed", "colour", []string{"unknown field"}},
		{"nok, not JSON", `label=vessel`, 400, "malformed", "", []string{"not valid JSON"}},
		{"nok, empty body", ``, 400, "malformed", "", nil},
		{"nok, body over 1 MiB", body(`"vessel"`, `"point"`, point("[1, 1]"), `{"note": "`+strings.Repeat("n", 1<<20)+`"}`), 413, "too_large", "", []string{"limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/annotations", tc.body)
			wantError(t, rec, tc.status, tc.code, tc.field, tc.words...)
			ts.wantUnchanged(t, before)
		})
	}

	okTests := []struct {
		name, shape, geometry string
	}{
		{"ok, point inside image", "point", point("[32.5, 24.25]")},
		{"ok, point on the bottom-right corner", "point", point("[64, 48]")},
		{"ok, point on the top-left corner", "point", point("[0, 0]")},
		{"ok, line", "line", `{"type": "LineString", "coordinates": [[0, 0], [64, 48], [10, 40]]}`},
		{"ok, polygon inside image", "polygon", poly(square)},
		{"ok, polygon with a hole", "polygon", poly(square + `, [[12, 12], [14, 12], [14, 14], [12, 14], [12, 12]]`)},
		{"ok, polygon along the image edge", "polygon", poly(`[[0, 0], [64, 0], [64, 48], [0, 48], [0, 0]]`)},
		{"ok, rectangle axis-aligned", "rectangle", poly(square)},
		{"ok, rotated rectangle with right angles", "rotated_rectangle", poly(`[[10, 20], [20, 10], [30, 20], [20, 30], [10, 20]]`)},
		{"ok, rotated rectangle at 30° with fractional corners", "rotated_rectangle", poly(rotatedRing(30, 24, 20, 8, 30))},
	}
	for _, tc := range okTests {
		t.Run(tc.name, func(t *testing.T) {
			a := ts.createAnnotation(t, img.ID, body(`"vessel"`, `"`+tc.shape+`"`, tc.geometry, `{"confidence": "possible"}`))
			if string(a.Shape) != tc.shape || a.Confidence != annotations.Possible {
				t.Errorf("stored shape %q confidence %q, want %q possible", a.Shape, a.Confidence, tc.shape)
			}
		})
	}

	for _, id := range []string{"img_aaaaaaaaaaaa", "not-an-id"} {
		rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+id+"/annotations", body(`"vessel"`, `"point"`, point("[1, 1]"), ""))
		wantError(t, rec, http.StatusNotFound, "not_found", "")
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+id+"/annotations", nil), http.StatusNotFound, "not_found", "")
	}
}

// rotatedRing is the closed ring of a length×width box centred on (cx, cy) and turned by
// deg degrees, at full float64 precision.
func rotatedRing(cx, cy, length, width, deg float64) string {
	a := deg * math.Pi / 180
	ux, uy, vx, vy := math.Cos(a)*length/2, math.Sin(a)*length/2, -math.Sin(a)*width/2, math.Cos(a)*width/2
	var ring [][2]float64
	for _, s := range [][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}, {-1, -1}} {
		ring = append(ring, [2]float64{cx + s[0]*ux + s[1]*vx, cy + s[0]*uy + s[1]*vy})
	}
	b, _ := json.Marshal(ring)
	return string(b)
}

// manyKeys is a properties object of about n bytes spread over many small attributes.
func manyKeys(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%05d": "%s"`, i, strings.Repeat("v", 100))
	}
	b.WriteString("}")
	return b.String()
}

func TestUpdateAnnotationRejectsBadInput(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 130)
	a := ts.createAnnotation(t, img.ID, polygonBody)
	path := "/api/v1/annotations/" + a.ID
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
		words  []string
	}{
		{"nok, unknown label", `{"version": 1, "label": "submarine"}`, 422, "invalid", "label", []string{"unknown label"}},
		{"nok, NaN coordinate", `{"version": 1, "geometry": {"type": "Polygon", "coordinates": [[[10, 10], [NaN, 10], [30, 20], [10, 10]]]}}`, 422, "invalid", "geometry", []string{"finite"}},
		{"nok, 1e999 coordinate", `{"version": 1, "geometry": {"type": "Polygon", "coordinates": [[[10, 10], [1e999, 10], [30, 20], [10, 10]]]}}`, 422, "invalid", "geometry", []string{"finite"}},
		{"nok, moved outside the image", `{"version": 1, "geometry": {"type": "Polygon", "coordinates": [[[60, 40], [80, 40], [80, 50], [60, 50], [60, 40]]]}}`, 422, "invalid", "geometry", []string{"outside the image"}},
		{"nok, ring not closed", `{"version": 1, "geometry": {"type": "Polygon", "coordinates": [[[10, 10], [30, 10], [30, 20], [10, 20]]]}}`, 422, "invalid", "geometry", []string{"not closed"}},
		{"nok, shape changed to point without a point geometry", `{"version": 1, "shape": "point"}`, 422, "invalid", "geometry", []string{"must be a Point"}},
		{"nok, shape changed to a rectangle that is not axis-aligned", `{"version": 1, "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[10, 10], [20, 12], [18, 22], [8, 20], [10, 10]]]}}`, 422, "invalid", "geometry", []string{"axis-aligned"}},
		{"nok, confidence not allowed", `{"version": 1, "properties": {"confidence": "sure"}}`, 422, "invalid", "properties.confidence", nil},
		{"nok, properties not an object", `{"version": 1, "properties": [1]}`, 422, "invalid", "properties", []string{"JSON object"}},
		{"nok, unknown field", `{"version": 1, "labels": "vessel"}`, 400, "malformed", "labels", nil},
		{"nok, version not a number", `{"version": "1"}`, 400, "malformed", "version", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			wantError(t, ts.doJSON(t, http.MethodPatch, path, tc.body), tc.status, tc.code, tc.field, tc.words...)
			ts.wantUnchanged(t, before)
		})
	}

	// Two merge patches of 40 KiB each are fine alone and too much together.
	rec := ts.doJSON(t, http.MethodPatch, path, `{"version": 1, "properties": `+manyKeys(40<<10)+`}`)
	wantStatus(t, rec, http.StatusOK)
	more := strings.ReplaceAll(manyKeys(40<<10), `"k`, `"more`)
	before := ts.snapshot(t)
	wantError(t, ts.doJSON(t, http.MethodPatch, path, `{"version": 2, "properties": `+more+`}`), 422, "invalid", "properties", "64 KiB")
	ts.wantUnchanged(t, before)
}

// Changes are recorded under the signed-in user's name, whatever it holds.
func TestActorIsTheSignedInUser(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 140)
	point := `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [1, 1]}}`
	for _, name := range []string{"Jane Analyst", "김지우", "100% sure", `<b>Eve</b> & "co"`} {
		t.Run(name, func(t *testing.T) {
			a := ts.createAnnotation(t, img.ID, point, ts.as(t, name)...)
			if a.CreatedBy != name || a.UpdatedBy != name {
				t.Errorf("created_by %q, updated_by %q, want %q", a.CreatedBy, a.UpdatedBy, name)
			}
			rec := ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID+"/history", nil)
			var revs []annotations.Revision
			decode(t, rec, &revs)
			if len(revs) != 1 || revs[0].Actor != name {
				t.Errorf("history = %+v, want one revision by %q", revs, name)
			}
		})
	}
	t.Run("nok, a header naming someone else changes nothing", func(t *testing.T) {
		a := ts.createAnnotation(t, img.ID, point, append(ts.as(t, "Jane Analyst"), "X-Satmark-Actor", "mallory")...)
		if a.CreatedBy != "Jane Analyst" {
			t.Errorf("created_by %q, want the signed-in Jane Analyst", a.CreatedBy)
		}
	})
}

func TestHistoryOfUnknownAnnotation(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	for _, id := range []string{"6f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f", "img_aaaaaaaaaaaa", "nope"} {
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+id+"/history", nil), http.StatusNotFound, "not_found", "")
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+id, nil), http.StatusNotFound, "not_found", "")
		wantError(t, ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+id, `{"version": 1}`), http.StatusNotFound, "not_found", "")
		wantError(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+id, nil), http.StatusNotFound, "not_found", "")
	}
}

func TestLabels(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	vessel := ts.labelByPath(t, "vessel")

	rec := ts.do(t, http.MethodGet, "/api/v1/labels", nil)
	wantStatus(t, rec, http.StatusOK)
	var labels []annotations.Label
	decode(t, rec, &labels)
	paths := map[string]string{}
	for _, l := range labels {
		paths[strings.Join(l.Path, "/")] = l.Color
	}
	if len(labels) != 12 || paths["vessel/landing ship"] != "#e6194b" || paths["personnel/troop formation"] != "#f032e6" {
		t.Errorf("taxonomy = %v, want the 12 default labels with their colours", paths)
	}

	// Create.
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/labels", map[string]any{"name": "corvette", "parent_id": vessel.ID, "color": "#00AA00", "hotkey": "c"})
	wantStatus(t, rec, http.StatusCreated)
	var corvette annotations.Label
	decode(t, rec, &corvette)
	if strings.Join(corvette.Path, "/") != "vessel/corvette" || corvette.Color != "#00aa00" || corvette.Hotkey != "c" || !annotations.ValidID(corvette.ID) {
		t.Errorf("created label = %+v, want vessel/corvette #00aa00 hotkey c", corvette)
	}
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/labels", `{"name": "submarine"}`)
	wantStatus(t, rec, http.StatusCreated)
	var submarine annotations.Label
	decode(t, rec, &submarine)
	if submarine.ParentID != "" || !strings.HasPrefix(submarine.Color, "#") || len(submarine.Color) != 7 {
		t.Errorf("top-level label = %+v, want no parent and a default colour", submarine)
	}

	createTests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"nok, duplicate sibling name", fmt.Sprintf(`{"name": "Corvette", "parent_id": %q}`, vessel.ID), 409, "conflict", ""},
		{"nok, duplicate top-level name", `{"name": "VESSEL"}`, 409, "conflict", ""},
		{"nok, name missing", `{"color": "#ffffff"}`, 422, "invalid", "name"},
		{"nok, name blank", `{"name": "   "}`, 422, "invalid", "name"},
		{"nok, name with a path separator", `{"name": "ship/boat"}`, 422, "invalid", "name"},
		{"nok, name over 100 characters", `{"name": "` + strings.Repeat("n", 101) + `"}`, 422, "invalid", "name"},
		{"nok, bad colour", `{"name": "tug", "color": "red"}`, 422, "invalid", "color"},
		{"nok, hotkey of two characters", `{"name": "tug", "hotkey": "tg"}`, 422, "invalid", "hotkey"},
		{"nok, unknown parent", `{"name": "tug", "parent_id": "lbl_aaaaaaaaaaaa"}`, 422, "invalid", "parent_id"},
		{"nok, unknown field", `{"name": "tug", "colour": "#ffffff"}`, 400, "malformed", "colour"},
		{"nok, not JSON", `name=tug`, 400, "malformed", ""},
	}
	for _, tc := range createTests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/labels", tc.body), tc.status, tc.code, tc.field)
			ts.wantUnchanged(t, before)
		})
	}

	// Update.
	rec = ts.doJSON(t, http.MethodPatch, "/api/v1/labels/"+corvette.ID, `{"color": "#123456"}`)
	wantStatus(t, rec, http.StatusOK)
	var updated annotations.Label
	decode(t, rec, &updated)
	if updated.Color != "#123456" || updated.Name != "corvette" || updated.ParentID != vessel.ID || updated.Hotkey != "c" {
		t.Errorf("after recolour: %+v, want only the colour changed", updated)
	}
	rec = ts.doJSON(t, http.MethodPatch, "/api/v1/labels/"+submarine.ID, fmt.Sprintf(`{"parent_id": %q, "name": "submarine (SSK)"}`, vessel.ID))
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &updated)
	if strings.Join(updated.Path, "/") != "vessel/submarine (SSK)" {
		t.Errorf("after move and rename: path %v, want vessel/submarine (SSK)", updated.Path)
	}
	landingShip := ts.labelByPath(t, "vessel/landing ship")
	updateTests := []struct {
		name   string
		id     string
		body   string
		status int
		code   string
		field  string
	}{
		{"nok, recolour with a bad colour", corvette.ID, `{"color": "#12345"}`, 422, "invalid", "color"},
		{"nok, move under own child", vessel.ID, fmt.Sprintf(`{"parent_id": %q}`, landingShip.ID), 422, "invalid", "parent_id"},
		{"nok, move under itself", vessel.ID, fmt.Sprintf(`{"parent_id": %q}`, vessel.ID), 422, "invalid", "parent_id"},
		{"nok, move under unknown label", corvette.ID, `{"parent_id": "lbl_aaaaaaaaaaaa"}`, 422, "invalid", "parent_id"},
		{"nok, rename to a sibling's name", corvette.ID, `{"name": "Frigate"}`, 409, "conflict", ""},
		{"nok, unknown label", "lbl_aaaaaaaaaaaa", `{"color": "#123456"}`, 404, "not_found", ""},
		{"nok, id that is a path", "..%2F..%2Fetc%2Fpasswd", `{"color": "#123456"}`, 404, "not_found", ""},
		{"nok, update with an unknown field", corvette.ID, `{"parent": ""}`, 400, "malformed", "parent"},
	}
	for _, tc := range updateTests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			labelsBefore, _ := ts.store.Labels(t.Context())
			wantError(t, ts.doJSON(t, http.MethodPatch, "/api/v1/labels/"+tc.id, tc.body), tc.status, tc.code, tc.field)
			ts.wantUnchanged(t, before)
			if labelsAfter, _ := ts.store.Labels(t.Context()); !reflect.DeepEqual(labelsAfter, labelsBefore) {
				t.Errorf("a refused label update changed the taxonomy")
			}
		})
	}

	// Delete: not while in use or while it has children.
	img := ts.newImage(t, 150)
	ts.createAnnotation(t, img.ID, `{"label": "vessel/corvette", "shape": "point", "geometry": {"type": "Point", "coordinates": [1, 1]}}`)
	before := ts.snapshot(t)
	wantError(t, ts.do(t, http.MethodDelete, "/api/v1/labels/"+corvette.ID, nil), http.StatusConflict, "conflict", "", "annotations use this label")
	wantError(t, ts.do(t, http.MethodDelete, "/api/v1/labels/"+vessel.ID, nil), http.StatusConflict, "conflict", "")
	wantError(t, ts.do(t, http.MethodDelete, "/api/v1/labels/lbl_aaaaaaaaaaaa", nil), http.StatusNotFound, "not_found", "")
	ts.wantUnchanged(t, before)

	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/labels/"+submarine.ID, nil), http.StatusNoContent)
	rec = ts.do(t, http.MethodGet, "/api/v1/labels", nil)
	decode(t, rec, &labels)
	for _, l := range labels {
		if l.ID == submarine.ID {
			t.Errorf("deleted label still listed")
		}
	}
	wantError(t, ts.do(t, http.MethodDelete, "/api/v1/labels/"+submarine.ID, nil), http.StatusNotFound, "not_found", "")
}

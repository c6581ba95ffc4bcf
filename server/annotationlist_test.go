package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// listPath is the annotation list of an image.
func listPath(imageID string) string { return "/api/v1/images/" + imageID + "/annotations" }

// seqOf reads the Satmark-Seq header, which every list and changes answer carries.
func seqOf(t *testing.T, rec *httptest.ResponseRecorder) int64 {
	t.Helper()
	v := rec.Header().Get("Satmark-Seq")
	seq, err := strconv.ParseInt(v, 10, 64)
	if err != nil || seq < 0 {
		t.Fatalf("Satmark-Seq = %q, want a position (a whole number)", v)
	}
	return seq
}

// objects decodes a JSON array of annotations into id → the object as sent, and their
// ids in order.
func objects(t *testing.T, body []byte) (map[string]map[string]any, []string) {
	t.Helper()
	var list []map[string]any
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("not a JSON array of annotations (%v): %s", err, truncate(string(body), 300))
	}
	byID := map[string]map[string]any{}
	var ids []string
	for _, a := range list {
		id, _ := a["id"].(string)
		byID[id] = a
		ids = append(ids, id)
	}
	return byID, ids
}

var nextLink = regexp.MustCompile(`^</api/v1/images/([^/]+)/annotations\?limit=(\d+)&after=([A-Za-z0-9_-]+)>; rel="next"$`)

// changesView is the changes answer as a client reads it.
type changesView struct {
	Seq     int64            `json:"seq"`
	Changed []map[string]any `json:"changed"`
	Deleted []string         `json:"deleted"`
}

func (ts *testServer) changes(t *testing.T, imageID string, since int64) changesView {
	t.Helper()
	rec := ts.do(t, http.MethodGet, fmt.Sprintf("%s/changes?since=%d", listPath(imageID), since), nil)
	wantStatus(t, rec, http.StatusOK)
	var ch changesView
	decode(t, rec, &ch)
	if ch.Changed == nil || ch.Deleted == nil {
		t.Errorf("changes since %d: changed or deleted is null, want lists: %s", since, rec.Body.String())
	}
	if h := seqOf(t, rec); h != ch.Seq {
		t.Errorf("changes since %d: Satmark-Seq %d, seq %d, want the same", since, h, ch.Seq)
	}
	return ch
}

// A client walks the pages of an image's annotations while analysts change them, then
// asks for the changes since its first page: what it holds is then exactly the list.
func TestAnnotationPagesThenChangesGiveTheList(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/georeference", `{"gsd_m": 0.5}`), http.StatusOK)
	var made []annotations.Annotation
	for i := range 13 {
		body := fmt.Sprintf(`{"label": "vessel/frigate", "shape": "rectangle", "geometry": {"type": "Polygon",
			"coordinates": [[[%d, 2], [%d, 2], [%d, 6], [%d, 6], [%d, 2]]]}}`, i, i+3, i+3, i, i)
		made = append(made, ts.createAnnotation(t, img.ID, body, ts.as(t, "alice")...))
	}
	other := ts.newImage(t, 2)
	ts.createAnnotation(t, other.ID, `{"label": "frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [5, 5]}}`)

	// The whole list: every annotation, in creation order, with a position and no Link.
	rec := ts.do(t, http.MethodGet, listPath(img.ID), nil)
	wantStatus(t, rec, http.StatusOK)
	if link := rec.Header().Get("Link"); link != "" {
		t.Errorf("the whole list has Link %q, want none", link)
	}
	whole, order := objects(t, rec.Body.Bytes())
	if len(order) != 13 || order[0] != made[0].ID || order[12] != made[12].ID {
		t.Fatalf("the whole list has %d annotations (%v), want the 13 in creation order", len(order), order)
	}
	if m, _ := whole[made[0].ID]["measures"].(map[string]any); m["area_m2"] != 3.0 {
		t.Errorf("measures = %v, want the ground area 12 px² × 0.25 m² = 3 m²", m)
	}

	bob := ts.as(t, "bob")
	var firstSeq int64
	seen := map[string]int{}
	held := map[string]map[string]any{} // what the client holds: the pages as read
	deleted := map[string]bool{}
	path, pages := listPath(img.ID)+"?limit=4", 0
	for path != "" {
		rec := ts.do(t, http.MethodGet, path, nil)
		wantStatus(t, rec, http.StatusOK)
		seq := seqOf(t, rec)
		if pages == 0 {
			firstSeq = seq
		}
		page, ids := objects(t, rec.Body.Bytes())
		for _, id := range ids {
			seen[id]++
			held[id] = page[id]
		}
		path = ""
		if link := rec.Header().Get("Link"); link != "" {
			m := nextLink.FindStringSubmatch(link)
			if m == nil || m[1] != img.ID || m[2] != "4" {
				t.Fatalf("Link = %q, want </api/v1/images/%s/annotations?limit=4&after=…>; rel=\"next\"", link, img.ID)
			}
			path = link[1:bytes.IndexByte([]byte(link), '>')]
			if len(ids) != 4 {
				t.Errorf("page %d has %d annotations and a next page, want 4", pages, len(ids))
			}
		}
		if pages == 0 {
			// Between pages: a new one, one seen edited and submitted, one not yet seen deleted.
			ts.createAnnotation(t, img.ID, `{"label": "frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [9, 9]}}`, bob...)
			rec := ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+made[1].ID, `{"version": 1, "properties": {"note": "tug"}}`, bob...)
			wantStatus(t, rec, http.StatusOK)
			rec = ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+made[1].ID+"/reviews", `{"version": 2, "decision": "submitted"}`, bob...)
			wantStatus(t, rec, http.StatusOK)
			wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+made[9].ID+"?version=1", nil, bob...), http.StatusNoContent)
			deleted[made[9].ID] = true
		}
		pages++
	}
	if pages != 4 {
		t.Errorf("walked %d pages of 4 over 13 annotations (one created, one deleted), want 4", pages)
	}
	for _, a := range made {
		if want := map[bool]int{false: 1, true: 0}[deleted[a.ID]]; seen[a.ID] != want {
			t.Errorf("annotation %s was read %d times, want %d", a.ID, seen[a.ID], want)
		}
	}

	// Catching up: the changes since the first page, applied to what the walk read.
	ch := ts.changes(t, img.ID, firstSeq)
	var changedIDs []string
	for _, a := range ch.Changed {
		id := a["id"].(string)
		changedIDs = append(changedIDs, id)
		held[id] = a
	}
	for _, id := range ch.Deleted {
		delete(held, id)
	}
	if len(changedIDs) != 2 || !slices.Contains(changedIDs, made[1].ID) || !slices.Equal(ch.Deleted, []string{made[9].ID}) {
		t.Errorf("changes since %d: changed %v, deleted %v; want the new one and %s, and %s deleted", firstSeq, changedIDs, ch.Deleted,
			made[1].ID, made[9].ID)
	}
	rec = ts.do(t, http.MethodGet, listPath(img.ID), nil)
	wantStatus(t, rec, http.StatusOK)
	now, _ := objects(t, rec.Body.Bytes())
	if !reflect.DeepEqual(held, now) {
		t.Errorf("the pages and the changes give\n%v\nwant the list\n%v", held, now)
	}
	if status := now[made[1].ID]["review_status"]; status != "submitted" {
		t.Errorf("the edited one is %v, want submitted", status)
	}
	if seq := seqOf(t, rec); seq != ch.Seq {
		t.Errorf("the list is at %d, the changes at %d, want the same (nothing changed between)", seq, ch.Seq)
	}
	if again := ts.changes(t, img.ID, ch.Seq); len(again.Changed)+len(again.Deleted) != 0 || again.Seq != ch.Seq {
		t.Errorf("changes since the latest position: %+v, want none at %d", again, ch.Seq)
	}
	// The other image's changes are its own.
	if o := ts.changes(t, other.ID, 0); len(o.Changed) != 1 || len(o.Deleted) != 0 {
		t.Errorf("the other image's changes since 0: %d changed, %v deleted, want its one", len(o.Changed), o.Deleted)
	}
}

// Each kind of change shows in the changes since the position before it.
func TestAnnotationChangesAfterEachKind(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	alice, bob := ts.as(t, "alice"), ts.as(t, "bob")
	seq := func() int64 {
		t.Helper()
		rec := ts.do(t, http.MethodGet, listPath(img.ID)+"?limit=1", nil)
		wantStatus(t, rec, http.StatusOK)
		return seqOf(t, rec)
	}
	want := func(name string, since int64, changed, deleted []string) {
		t.Helper()
		ch := ts.changes(t, img.ID, since)
		var got []string
		for _, a := range ch.Changed {
			got = append(got, a["id"].(string))
		}
		if !slices.Equal(got, changed) || !slices.Equal(ch.Deleted, deleted) {
			t.Errorf("%s: changed %v, deleted %v; want %v, %v", name, got, ch.Deleted, changed, deleted)
		}
		if ch.Seq <= since {
			t.Errorf("%s: the position %d is not after %d", name, ch.Seq, since)
		}
	}
	if s := seq(); s != 0 {
		t.Errorf("an image without annotations is at %d, want 0", s)
	}
	s0 := seq()
	a := ts.createAnnotation(t, img.ID, polygonBody, alice...)
	want("create", s0, []string{a.ID}, []string{})

	s1 := seq()
	rec := ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+a.ID, `{"version": 1, "properties": {"note": "aground"}}`, alice...)
	wantStatus(t, rec, http.StatusOK)
	want("update", s1, []string{a.ID}, []string{})
	ch := ts.changes(t, img.ID, s1)
	if p, _ := ch.Changed[0]["properties"].(map[string]any); p["note"] != "aground" {
		t.Errorf("the changed annotation's properties are %v, want the new note", p)
	}

	s2 := seq()
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+a.ID+"/reviews", `{"version": 2, "decision": "submitted"}`, alice...)
	wantStatus(t, rec, http.StatusOK)
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+a.ID+"/reviews", `{"version": 3, "decision": "accepted"}`, bob...)
	wantStatus(t, rec, http.StatusOK)
	want("review", s2, []string{a.ID}, []string{})
	if ch := ts.changes(t, img.ID, s2); ch.Changed[0]["review_status"] != "accepted" || ch.Changed[0]["version"] != 4.0 {
		t.Errorf("after the review: %v at version %v, want accepted at 4", ch.Changed[0]["review_status"], ch.Changed[0]["version"])
	}

	s3 := seq()
	b := ts.createAnnotation(t, img.ID, polygonBody, alice...)
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+a.ID+"?version=4", nil, bob...), http.StatusNoContent)
	want("create and delete", s3, []string{b.ID}, []string{a.ID})

	s4 := seq()
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+a.ID+"/restore", `{"version": 2}`, alice...)
	wantStatus(t, rec, http.StatusOK)
	rec = ts.doJSON(t, http.MethodPost, listPath(img.ID)+"/copy", fmt.Sprintf(`{"annotations": [%q]}`, b.ID), alice...)
	wantStatus(t, rec, http.StatusCreated)
	var copied struct {
		Annotations []annotations.Annotation `json:"annotations"`
	}
	decode(t, rec, &copied)
	wantIDs := []string{a.ID, copied.Annotations[0].ID}
	ch = ts.changes(t, img.ID, s4)
	var got []string
	for _, x := range ch.Changed {
		got = append(got, x["id"].(string))
	}
	slices.Sort(got)
	slices.Sort(wantIDs)
	if !slices.Equal(got, wantIDs) || len(ch.Deleted) != 0 {
		t.Errorf("restore and copy: changed %v, deleted %v; want %v", got, ch.Deleted, wantIDs)
	}

	s5 := seq()
	bulk := fmt.Sprintf(`{"action": "delete", "annotations": [{"id": %q, "version": 1}, {"id": %q, "version": 1}]}`, b.ID, copied.Annotations[0].ID)
	wantStatus(t, ts.doJSON(t, http.MethodPost, listPath(img.ID)+"/bulk", bulk, alice...), http.StatusOK)
	deleted := []string{b.ID, copied.Annotations[0].ID}
	slices.Sort(deleted)
	want("bulk delete", s5, []string{}, deleted)
}

func TestAnnotationListAndChangesRefuse(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	ts.createAnnotation(t, img.ID, polygonBody)
	rec := ts.do(t, http.MethodGet, listPath(img.ID), nil)
	wantStatus(t, rec, http.StatusOK)
	seq := seqOf(t, rec)
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}
	for _, path := range []string{listPath(img.ID), listPath(img.ID) + "?limit=1", listPath(img.ID) + "/changes?since=0"} {
		wantStatus(t, ts.do(t, http.MethodGet, path, nil, viewer...), http.StatusOK)
	}
	tests := []struct {
		name, path  string
		status      int
		code, field string
		words       []string
	}{
		{"nok, limit 0", "?limit=0", 400, "malformed", "limit", []string{"1 to 10000"}},
		{"nok, limit over 10000", "?limit=10001", 400, "malformed", "limit", []string{"1 to 10000"}},
		{"nok, limit not a number", "?limit=all", 400, "malformed", "limit", []string{"1 to 10000"}},
		{"nok, limit empty", "?limit=", 400, "malformed", "limit", []string{"1 to 10000"}},
		{"nok, cursor not handed out", "?limit=5&after=bm90IGEgY3Vyc29y", 400, "malformed", "after", []string{"cursor", "Link"}},
		{"nok, cursor of another kind", "?limit=5&after=%2e%2e%2f", 400, "malformed", "after", []string{"cursor"}},
		{"nok, cursor without limit", "?after=bm90IGEgY3Vyc29y", 400, "malformed", "after", []string{"limit"}},
		{"nok, changes without since", "/changes", 400, "malformed", "since", []string{"Satmark-Seq"}},
		{"nok, since not a number", "/changes?since=yesterday", 400, "malformed", "since", []string{"whole number"}},
		{"nok, since a fraction", "/changes?since=1.5", 400, "malformed", "since", []string{"whole number"}},
		{"nok, since negative", "/changes?since=-1", 400, "malformed", "since", []string{"0 or more"}},
		{"nok, since ahead of the image", fmt.Sprintf("/changes?since=%d", seq+1), 410, "gone", "since", []string{"reload", "in full"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.do(t, http.MethodGet, listPath(img.ID)+tc.path, nil), tc.status, tc.code, tc.field, tc.words...)
		})
	}
	for _, path := range []string{"/api/v1/images/img_aaaaaaaaaaaa/annotations", "/api/v1/images/img_aaaaaaaaaaaa/annotations/changes?since=0",
		"/api/v1/images/nonsense/annotations?limit=5"} {
		wantError(t, ts.do(t, http.MethodGet, path, nil), http.StatusNotFound, "not_found", "")
	}
	// An image in the trash has no list.
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+img.ID, nil), http.StatusNoContent)
	wantError(t, ts.do(t, http.MethodGet, listPath(img.ID)+"?limit=5", nil), http.StatusNotFound, "not_found", "")
	wantError(t, ts.do(t, http.MethodGet, listPath(img.ID)+"/changes?since=0", nil), http.StatusNotFound, "not_found", "")
}

// The whole list of more annotations than one batch of the stream is what encoding them
// all at once gave, byte for byte, and what its pages give.
func TestAnnotationListStreamedAsBefore(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/georeference", `{"gsd_m": 0.5}`), http.StatusOK)
	label, point, box := "vessel/frigate", annotations.ShapePoint, annotations.ShapeRectangle
	var ins []annotations.AnnotationInput
	for i := range 1500 {
		x, y := float64(i%60)+0.5, float64(i%40)+0.25
		in := annotations.AnnotationInput{Label: &label, Shape: &point, Geometry: json.RawMessage(fmt.Sprintf(`{"type":"Point","coordinates":[%g,%g]}`, x, y)),
			Properties: json.RawMessage(fmt.Sprintf(`{"note": "n%d", "count": %d, "z": {"a": [1, 2]}}`, i, i))}
		if i%3 == 0 {
			in.Shape = &box
			in.Geometry = json.RawMessage(fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]}`,
				x, y, x+3, y, x+3, y+2, x, y+2, x, y))
		}
		ins = append(ins, in)
	}
	if _, err := ts.store.CreateAnnotations(ctx, "alice", img.ID, ins); err != nil {
		t.Fatal(err)
	}
	img, err := ts.store.Image(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	place, err := formats.PlacementOf(img, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := ts.store.Annotations(ctx, annotations.AnnotationFilter{ImageIDs: []string{img.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		all[i].Ground = place.Measure(all[i])
	}
	var want bytes.Buffer
	if err := json.NewEncoder(&want).Encode(all); err != nil {
		t.Fatal(err)
	}
	rec := ts.do(t, http.MethodGet, listPath(img.ID), nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if got := rec.Body.String(); got != want.String() {
		i := 0
		for i < len(got) && i < want.Len() && got[i] == want.String()[i] {
			i++
		}
		t.Fatalf("the streamed list (%d bytes) differs from the one encoded at once (%d bytes) at byte %d: %q vs %q",
			len(got), want.Len(), i, truncate(got[i:], 80), truncate(want.String()[i:], 80))
	}
	_, whole := objects(t, rec.Body.Bytes())
	var paged []string
	path := listPath(img.ID) + "?limit=700"
	for path != "" {
		rec := ts.do(t, http.MethodGet, path, nil)
		wantStatus(t, rec, http.StatusOK)
		_, ids := objects(t, rec.Body.Bytes())
		paged = append(paged, ids...)
		path = ""
		if link := rec.Header().Get("Link"); link != "" {
			path = link[1:bytes.IndexByte([]byte(link), '>')]
		}
	}
	if !slices.Equal(paged, whole) {
		t.Errorf("pages of 700 give %d annotations, the whole list %d, want the same in the same order", len(paged), len(whole))
	}
}

// The changes answer, written by hand, is byte for byte what encoding/json writes for
// {seq, changed, deleted} with the annotations as the list gives them.
func TestAnnotationChangesBytesAreEncodingJSONs(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	alice := ts.as(t, "alice")
	ts.createAnnotation(t, img.ID, polygonBody, alice...)
	b := ts.createAnnotation(t, img.ID, polygonBody, alice...)
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+b.ID, nil, append(alice, "If-Match", `"1"`)...), http.StatusNoContent)
	rec := ts.do(t, http.MethodGet, listPath(img.ID)+"/changes?since=0", nil)
	wantStatus(t, rec, http.StatusOK)
	list := ts.do(t, http.MethodGet, listPath(img.ID), nil)
	var anns []json.RawMessage
	if err := json.Unmarshal(list.Body.Bytes(), &anns); err != nil || len(anns) != 1 {
		t.Fatalf("the list is %s", list.Body)
	}
	want, err := json.Marshal(struct {
		Seq     int64             `json:"seq"`
		Changed []json.RawMessage `json:"changed"`
		Deleted []string          `json:"deleted"`
	}{seqOf(t, rec), anns, []string{b.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSuffix(rec.Body.String(), "\n"); got != string(want) {
		t.Errorf("changes answer\n got %s\nwant %s", got, want)
	}
}

package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
)

// Bulk changes: many annotations of one image at once, all or nothing.

// bulkRef names an annotation at a version for a bulk request.
func bulkRef(a annotations.Annotation) map[string]any {
	return map[string]any{"id": a.ID, "version": a.Version}
}

// bulk posts a bulk change to an image's annotations.
func (ts *testServer) bulk(t *testing.T, imageID string, body any, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return ts.doJSON(t, http.MethodPost, "/api/v1/images/"+imageID+"/annotations/bulk", body, headers...)
}

// revisions is how many history entries an annotation has.
func (ts *testServer) revisions(t *testing.T, id string) int {
	t.Helper()
	revs, err := ts.store.History(context.Background(), id)
	if err != nil {
		t.Fatalf("history of %s: %v", id, err)
	}
	return len(revs)
}

func TestBulkChange(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	hs := httptest.NewServer(ts.srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream := openEvents(ctx, t, hs.URL, img.ID, ts.token)
	if ev, err := stream.next(); err != nil || ev.name != "ready" {
		t.Fatalf("first event %+v (%v), want ready", ev, err)
	}
	alice := ts.as(t, "alice")
	var anns []annotations.Annotation
	for i := 0; i < 4; i++ {
		anns = append(anns, ts.createAnnotation(t, img.ID, boxBody, alice...))
		stream.wantChange(t, "annotation.created", img.ID, anns[i].ID, 1, "alice")
	}
	three := []any{bulkRef(anns[0]), bulkRef(anns[1]), bulkRef(anns[2])}

	t.Run("ok, relabel three in one request, one revision each", func(t *testing.T) {
		rec := ts.bulk(t, img.ID, map[string]any{"action": "update", "annotations": three,
			"patch": map[string]any{"label": "vessel", "properties": map[string]any{"confidence": "probable"}}}, alice...)
		wantStatus(t, rec, http.StatusOK)
		var got struct{ Annotations []annotations.Annotation }
		decode(t, rec, &got)
		if len(got.Annotations) != 3 {
			t.Fatalf("got %d annotations back, want 3", len(got.Annotations))
		}
		for i, a := range got.Annotations {
			if a.ID != anns[i].ID || a.Version != 2 || a.Label.Path[len(a.Label.Path)-1] != "vessel" || a.Confidence != annotations.Probable {
				t.Errorf("annotation %d back as %s v%d %v %q, want %s v2 vessel probable", i, a.ID, a.Version, a.Label.Path, a.Confidence, anns[i].ID)
			}
			stored, err := ts.store.Annotation(context.Background(), anns[i].ID)
			if err != nil || stored.Version != 2 || stored.Label.ID != a.Label.ID {
				t.Errorf("stored %s: v%d label %s (%v), want v2 relabelled", anns[i].ID, stored.Version, stored.Label.ID, err)
			}
			if n := ts.revisions(t, anns[i].ID); n != 2 {
				t.Errorf("%s has %d revisions, want 2 (created, then one for the bulk change)", anns[i].ID, n)
			}
			stream.wantChange(t, "annotation.updated", img.ID, anns[i].ID, 2, "alice")
		}
		if n := ts.revisions(t, anns[3].ID); n != 1 {
			t.Errorf("the annotation not named has %d revisions, want 1", n)
		}
		copy(anns, got.Annotations)
	})

	t.Run("ok, submit two for review", func(t *testing.T) {
		rec := ts.bulk(t, img.ID, map[string]any{"action": "review", "decision": "submitted",
			"annotations": []any{bulkRef(anns[0]), bulkRef(anns[1])}}, alice...)
		wantStatus(t, rec, http.StatusOK)
		var got struct{ Annotations []annotations.Annotation }
		decode(t, rec, &got)
		for i, a := range got.Annotations {
			if a.ReviewStatus != annotations.ReviewSubmitted || a.Version != 3 {
				t.Errorf("annotation %d: %s v%d, want submitted v3", i, a.ReviewStatus, a.Version)
			}
			stream.wantChange(t, "annotation.updated", img.ID, a.ID, 3, "alice")
			anns[i] = a
		}
	})

	t.Run("nok, submitting one already submitted changes none", func(t *testing.T) {
		before := ts.snapshot(t)
		rec := ts.bulk(t, img.ID, map[string]any{"action": "review", "decision": "submitted",
			"annotations": []any{bulkRef(anns[2]), bulkRef(anns[0])}}, alice...)
		wantError(t, rec, http.StatusConflict, "conflict", "", anns[0].ID, "already submitted")
		ts.wantUnchanged(t, before)
	})

	other := ts.newImage(t, 2)
	elsewhere := ts.createAnnotation(t, other.ID, pointBody, alice...)
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
		field  string
		words  []string
	}{
		{"nok, an annotation of another image", map[string]any{"action": "delete", "annotations": []any{bulkRef(anns[0]), bulkRef(elsewhere)}},
			http.StatusUnprocessableEntity, "invalid", "annotations[1].id", []string{elsewhere.ID, other.ID, "nothing was changed"}},
		{"nok, an annotation that does not exist", map[string]any{"action": "delete", "annotations": []any{map[string]any{"id": "00000000-0000-4000-8000-000000000000", "version": 1}}},
			http.StatusUnprocessableEntity, "invalid", "annotations[0].id", []string{"no annotation"}},
		{"nok, a version missing", map[string]any{"action": "delete", "annotations": []any{bulkRef(anns[0]), map[string]any{"id": anns[1].ID}}},
			http.StatusPreconditionRequired, "version_required", "version", nil},
		{"nok, no annotations", map[string]any{"action": "delete", "annotations": []any{}},
			http.StatusUnprocessableEntity, "invalid", "annotations", []string{"at least one"}},
		{"nok, one named twice", map[string]any{"action": "delete", "annotations": []any{bulkRef(anns[0]), bulkRef(anns[0])}},
			http.StatusUnprocessableEntity, "invalid", "annotations[1].id", []string{"twice"}},
		{"nok, an unknown action", map[string]any{"action": "move", "annotations": three},
			http.StatusUnprocessableEntity, "invalid", "action", []string{"move"}},
		{"nok, an update without a patch", map[string]any{"action": "update", "annotations": three},
			http.StatusUnprocessableEntity, "invalid", "patch", nil},
		{"nok, an update of geometry", map[string]any{"action": "update", "annotations": three,
			"patch": map[string]any{"geometry": map[string]any{"type": "Point", "coordinates": []int{1, 1}}}},
			http.StatusUnprocessableEntity, "invalid", "patch", []string{"geometry"}},
		{"nok, an unknown label", map[string]any{"action": "update", "annotations": []any{bulkRef(anns[3])},
			"patch": map[string]any{"label": "submarine"}}, http.StatusUnprocessableEntity, "invalid", "label", nil},
		{"nok, a bad confidence", map[string]any{"action": "update", "annotations": []any{bulkRef(anns[3])},
			"patch": map[string]any{"properties": map[string]any{"confidence": "sure"}}}, http.StatusUnprocessableEntity, "invalid", "properties.confidence", nil},
		{"nok, a review without a decision", map[string]any{"action": "review", "annotations": []any{bulkRef(anns[3])}},
			http.StatusUnprocessableEntity, "invalid", "decision", nil},
		{"nok, not JSON", `{"action": "delete", "annotations": [`, http.StatusBadRequest, "malformed", "", nil},
		{"nok, an unknown field", `{"action": "delete", "annotations": [], "ids": []}`, http.StatusBadRequest, "malformed", "ids", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			wantError(t, ts.bulk(t, img.ID, tc.body, alice...), tc.status, tc.code, tc.field, tc.words...)
			ts.wantUnchanged(t, before)
		})
	}

	t.Run("nok, stale versions: 412 listing each, nothing changed", func(t *testing.T) {
		// Bob changes two of them after alice loaded them.
		bob := ts.as(t, "bob")
		for _, a := range []annotations.Annotation{anns[2], anns[3]} {
			wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+a.ID, fmt.Sprintf(`{"version": %d, "properties": {"note": "bob"}}`, a.Version), bob...), http.StatusOK)
			stream.wantChange(t, "annotation.updated", img.ID, a.ID, a.Version+1, "bob")
		}
		before := ts.snapshot(t)
		rec := ts.bulk(t, img.ID, map[string]any{"action": "delete", "annotations": []any{bulkRef(anns[0]), bulkRef(anns[2]), bulkRef(anns[3])}}, alice...)
		wantError(t, rec, http.StatusPreconditionFailed, "stale_version", "annotations", anns[2].ID, anns[3].ID, "nothing was changed")
		var body struct {
			Error struct {
				Stale []struct {
					ID             string
					Given, Current int
					UpdatedBy      string `json:"updated_by"`
				}
			}
		}
		decode(t, rec, &body)
		want := fmt.Sprintf("[{%s 2 3 bob} {%s 1 2 bob}]", anns[2].ID, anns[3].ID)
		if got := fmt.Sprint(body.Error.Stale); got != want {
			t.Errorf("stale = %s, want %s (id, given, current, who saved it)", got, want)
		}
		ts.wantUnchanged(t, before)
	})

	t.Run("nok, a viewer may not", func(t *testing.T) {
		viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}
		before := ts.snapshot(t)
		wantError(t, ts.bulk(t, img.ID, map[string]any{"action": "delete", "annotations": []any{bulkRef(anns[0])}}, viewer...),
			http.StatusForbidden, "forbidden", "")
		ts.wantUnchanged(t, before)
	})

	t.Run("ok, delete two, audited, then restore one", func(t *testing.T) {
		rec := ts.bulk(t, img.ID, map[string]any{"action": "delete", "annotations": []any{bulkRef(anns[0]), bulkRef(anns[1])}}, alice...)
		wantStatus(t, rec, http.StatusOK)
		for _, a := range anns[:2] {
			if _, err := ts.store.Annotation(context.Background(), a.ID); err == nil {
				t.Errorf("%s is still there", a.ID)
			}
			stream.wantChange(t, "annotation.deleted", img.ID, a.ID, a.Version, "alice")
		}
		log, err := ts.store.AuditLog(context.Background(), annotations.AuditFilter{Action: "annotation.delete"})
		if err != nil || len(log) != 2 {
			t.Fatalf("audit has %d deletions (%v), want 2", len(log), err)
		}
		rec = ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+anns[0].ID+"/restore", map[string]any{"version": anns[0].Version}, alice...)
		wantStatus(t, rec, http.StatusOK)
		var back annotations.Annotation
		decode(t, rec, &back)
		if b, _ := json.Marshal(back.Label); back.Label.ID != anns[0].Label.ID {
			t.Errorf("restored with label %s, want %s", b, anns[0].Label.ID)
		}
	})
}

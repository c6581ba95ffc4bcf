package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
)

// seedSuggestions stores n pending suggestions found from annotation src, as a search
// by finder would, a small box each.
func (ts *testServer) seedSuggestions(t *testing.T, finder string, src annotations.Annotation, n int) []annotations.Suggestion {
	t.Helper()
	var found []annotations.FoundPlace
	for i := range n {
		x := float64(4 + 10*i)
		found = append(found, annotations.FoundPlace{Shape: annotations.ShapeRectangle, Score: 0.9 - float64(i)/100,
			Geometry: annotations.PolygonGeometry([]annotations.Position{{x, 30}, {x + 6, 30}, {x + 6, 40}, {x, 40}, {x, 30}})})
	}
	sgs, err := ts.store.AddSuggestions(context.Background(), annotations.Actor{Name: finder}, src, found)
	if err != nil {
		t.Fatal(err)
	}
	return sgs
}

type reopenAnswer struct {
	Suggestion        suggestionJSON `json:"suggestion"`
	DeletedAnnotation string         `json:"deleted_annotation"`
}

// Undoing a decision on a suggestion through the router: the accepter reopens their
// acceptance (the annotation it became is deleted, in its history as theirs, and the
// suggestion is pending again, to accept again); a rejection likewise. Nobody else may
// reopen it, nor may anyone once the annotation was changed or deleted since (409).
func TestReopenSuggestion(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	alice, bob := ts.as(t, "alice"), ts.as(t, "bob")
	src := ts.createAnnotation(t, img.ID, boxBody, alice...)
	sgs := ts.seedSuggestions(t, "alice", src, 4)
	pendingIDs := func() map[string]bool {
		t.Helper()
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/suggestions?status=pending", nil)
		wantStatus(t, rec, http.StatusOK)
		var list []suggestionJSON
		decode(t, rec, &list)
		out := map[string]bool{}
		for _, sg := range list {
			out[sg.ID] = true
		}
		return out
	}
	accept := func(id string, headers []string) string {
		t.Helper()
		rec := ts.do(t, http.MethodPost, "/api/v1/suggestions/"+id+"/accept", nil, headers...)
		wantStatus(t, rec, http.StatusOK)
		var got struct {
			Annotation annotations.Annotation `json:"annotation"`
		}
		decode(t, rec, &got)
		return got.Annotation.ID
	}

	t.Run("ok, the accepter takes an acceptance back", func(t *testing.T) {
		annID := accept(sgs[0].ID, bob)
		// Their own change since goes with it (an undo reaches the acceptance after undoing it).
		wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+annID, `{"version": 1, "properties": {"note": "mine"}}`, bob...), http.StatusOK)
		rec := ts.do(t, http.MethodPost, "/api/v1/suggestions/"+sgs[0].ID+"/reopen", nil, bob...)
		wantStatus(t, rec, http.StatusOK)
		var got reopenAnswer
		decode(t, rec, &got)
		if got.Suggestion.Status != "pending" || got.Suggestion.DecidedBy != "" || got.Suggestion.AnnotationID != "" || got.DeletedAnnotation != annID {
			t.Errorf("reopened: %+v, want pending with annotation %s deleted", got, annID)
		}
		wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+annID, nil), http.StatusNotFound)
		if !pendingIDs()[sgs[0].ID] {
			t.Errorf("suggestion %s is not pending after the reopen", sgs[0].ID)
		}
		rec = ts.do(t, http.MethodGet, "/api/v1/annotations/"+annID+"/history", nil)
		wantStatus(t, rec, http.StatusOK)
		var history []struct{ Action, Actor string }
		decode(t, rec, &history)
		if len(history) != 3 || history[2].Action != "delete" || history[2].Actor != "bob" {
			t.Errorf("history of the annotation taken back: %+v, want created then deleted by bob", history)
		}
		ts.wantAudited(t, "suggestion.reopen", "bob", sgs[0].ID)
		// A redo: accepted again, as a new annotation.
		if again := accept(sgs[0].ID, bob); again == "" || again == annID {
			t.Errorf("accepted again as %q, want a new annotation", again)
		}
	})

	t.Run("ok, a rejection taken back", func(t *testing.T) {
		wantStatus(t, ts.do(t, http.MethodPost, "/api/v1/suggestions/"+sgs[1].ID+"/reject", nil, bob...), http.StatusOK)
		rec := ts.do(t, http.MethodPost, "/api/v1/suggestions/"+sgs[1].ID+"/reopen", nil, bob...)
		wantStatus(t, rec, http.StatusOK)
		var got reopenAnswer
		decode(t, rec, &got)
		if got.Suggestion.Status != "pending" || got.DeletedAnnotation != "" {
			t.Errorf("reopened: %+v, want pending, nothing deleted", got)
		}
		if !pendingIDs()[sgs[1].ID] {
			t.Errorf("suggestion %s is not pending after the reopen", sgs[1].ID)
		}
	})

	t.Run("nok, the annotation was changed since", func(t *testing.T) {
		annID := accept(sgs[2].ID, bob)
		wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+annID, `{"version": 1, "properties": {"note": "a tug"}}`, alice...), http.StatusOK)
		wantError(t, ts.do(t, http.MethodPost, "/api/v1/suggestions/"+sgs[2].ID+"/reopen", nil, bob...), http.StatusConflict, "conflict", "", "alice changed", "version 2")
		wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+annID, nil), http.StatusOK)
		if pendingIDs()[sgs[2].ID] {
			t.Errorf("a refused reopen left suggestion %s pending", sgs[2].ID)
		}
	})

	t.Run("nok, the annotation was deleted since", func(t *testing.T) {
		annID := accept(sgs[3].ID, bob)
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+annID+"?version=1", nil, alice...), http.StatusNoContent)
		wantError(t, ts.do(t, http.MethodPost, "/api/v1/suggestions/"+sgs[3].ID+"/reopen", nil, bob...), http.StatusConflict, "conflict", "", "deleted since")
	})

	for _, tt := range []struct {
		name    string
		id      string
		headers []string
		status  int
		code    string
		words   []string
	}{
		{"nok, someone else's acceptance", sgs[0].ID, alice, 409, "conflict", []string{"by bob", "only whoever decided"}},
		{"nok, pending already", sgs[1].ID, bob, 409, "conflict", []string{"pending"}},
		{"nok, no such suggestion", "sug_nosuchthing1", bob, 404, "not_found", nil},
		{"nok, not an id", "..%2f", bob, 404, "not_found", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.do(t, http.MethodPost, "/api/v1/suggestions/"+tt.id+"/reopen", nil, tt.headers...), tt.status, tt.code, "", tt.words...)
		})
	}
	viewer := ts.userToken(t, "vera", annotations.RoleViewer)
	if rec := ts.do(t, http.MethodPost, "/api/v1/suggestions/"+sgs[0].ID+"/reopen", nil, "Authorization", "Bearer "+viewer); rec.Code != http.StatusForbidden {
		t.Errorf("a viewer's reopen: status %d, want 403", rec.Code)
	}
}

// Suggestions are live: a decision and a decision taken back reach the image's listeners
// as they happen (a search's new ones: TestFindSimilar).
func TestSuggestionEvents(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	hs := httptest.NewServer(ts.srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bob := ts.as(t, "bob")
	src := ts.createAnnotation(t, img.ID, boxBody, bob...)
	stream := openEvents(ctx, t, hs.URL, img.ID, ts.userToken(t, "vera", annotations.RoleViewer))
	if ev, err := stream.next(); err != nil || ev.name != "ready" {
		t.Fatalf("first event %+v (%v), want ready", ev, err)
	}
	sg := ts.seedSuggestions(t, "bob", src, 1)[0]

	rec := ts.do(t, http.MethodPost, "/api/v1/suggestions/"+sg.ID+"/accept", nil, bob...)
	wantStatus(t, rec, http.StatusOK)
	var accepted struct {
		Annotation annotations.Annotation `json:"annotation"`
	}
	decode(t, rec, &accepted)
	stream.wantChange(t, "annotation.created", img.ID, accepted.Annotation.ID, 1, "bob")
	c := stream.wantChange(t, "suggestion.updated", img.ID, sg.ID, 0, "bob")
	var got suggestionJSON
	if err := json.Unmarshal(c.Data, &got); err != nil || got.Status != "accepted" || got.DecidedBy != "bob" {
		t.Errorf("accepted data %s (%v), want the suggestion accepted by bob", c.Data, err)
	}
	wantStatus(t, ts.do(t, http.MethodPost, "/api/v1/suggestions/"+sg.ID+"/reopen", nil, bob...), http.StatusOK)
	stream.wantChange(t, "annotation.deleted", img.ID, got.AnnotationID, 1, "bob")
	c = stream.wantChange(t, "suggestion.updated", img.ID, sg.ID, 0, "bob")
	if err := json.Unmarshal(c.Data, &got); err != nil || got.Status != "pending" {
		t.Errorf("reopened data %s (%v), want the suggestion pending", c.Data, err)
	}
}

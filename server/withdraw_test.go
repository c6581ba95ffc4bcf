package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
)

// Withdrawing one's own review decision (the annotator's undo of a submission or of a
// decision): {"decision": "withdrawn"} on the reviews route, one at a time or in bulk.
func TestWithdrawReviewAPI(t *testing.T) {
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
	alice, bob := ts.as(t, "alice"), ts.as(t, "bob")
	a := ts.createAnnotation(t, img.ID, boxBody, alice...)
	stream.wantChange(t, "annotation.created", img.ID, a.ID, 1, "alice")

	steps := []struct {
		name    string
		headers []string
		body    string
		status  int
		code    string // for a refusal
		field   string
		state   string // for a success: the state after
	}{
		{name: "nok, nothing to withdraw on a draft", headers: alice, body: `{"decision": "withdrawn", "version": 1}`, status: 409, code: "conflict"},
		{name: "ok, alice submits", headers: alice, body: `{"decision": "submitted", "version": 1}`, status: 200, state: "submitted"},
		{name: "nok, bob withdraws alice's submission", headers: bob, body: `{"decision": "withdrawn", "version": 2}`, status: 403, code: "forbidden"},
		{name: "nok, a stale version", headers: alice, body: `{"decision": "withdrawn", "version": 1}`, status: 412, code: "stale_version", field: "version"},
		{name: "nok, no version", headers: alice, body: `{"decision": "withdrawn"}`, status: 428, code: "version_required", field: "version"},
		{name: "nok, a withdrawal with a reason", headers: alice, body: `{"decision": "withdrawn", "version": 2, "reason": "oops"}`, status: 422, code: "invalid", field: "reason"},
		{name: "ok, alice withdraws her submission: draft", headers: alice, body: `{"decision": "withdrawn", "version": 2}`, status: 200, state: "draft"},
		{name: "nok, withdrawn twice", headers: alice, body: `{"decision": "withdrawn", "version": 3}`, status: 409, code: "conflict"},
		{name: "ok, alice submits again", headers: alice, body: `{"decision": "submitted", "version": 3}`, status: 200, state: "submitted"},
		{name: "ok, bob accepts", headers: bob, body: `{"decision": "accepted", "version": 4}`, status: 200, state: "accepted"},
		{name: "nok, alice withdraws bob's acceptance", headers: alice, body: `{"decision": "withdrawn", "version": 5}`, status: 403, code: "forbidden"},
		{name: "ok, bob withdraws his acceptance: submitted", headers: bob, body: `{"decision": "withdrawn", "version": 5}`, status: 200, state: "submitted"},
	}
	version := 1
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := ts.snapshot(t)
			rec := ts.review(t, a.ID, st.body, st.headers...)
			if st.status != http.StatusOK {
				e := wantError(t, rec, st.status, st.code, st.field)
				if st.status == http.StatusPreconditionFailed {
					wantCurrentVersion(t, e, version)
				}
				ts.wantUnchanged(t, before)
				return
			}
			wantStatus(t, rec, http.StatusOK)
			var got annotations.Annotation
			decode(t, rec, &got)
			version++
			if got.ReviewStatus != st.state || got.Version != version || rec.Header().Get("ETag") != fmt.Sprintf(`"%d"`, version) {
				t.Errorf("got %s version %d (ETag %s), want %s version %d", got.ReviewStatus, got.Version, rec.Header().Get("ETag"), st.state, version)
			}
			stream.wantChange(t, "annotation.updated", img.ID, a.ID, version, got.UpdatedBy)
		})
	}

	t.Run("ok, the withdrawals in the history, the reviews and the audit log", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID+"/history", nil)
		wantStatus(t, rec, http.StatusOK)
		var revs []annotations.Revision
		decode(t, rec, &revs)
		var got []string
		for _, r := range revs {
			got = append(got, fmt.Sprintf("v%d %s %s", r.Version, r.Actor, r.Withdrew))
		}
		want := []string{"v1 alice ", "v2 alice ", "v3 alice submitted", "v4 alice ", "v5 bob ", "v6 bob accepted"}
		if !slices.Equal(got, want) {
			t.Errorf("history\n got %q\nwant %q", got, want)
		}
		if !slices.Contains(revs[5].Changes, "withdrew the acceptance") {
			t.Errorf("v6 changes %v, want \"withdrew the acceptance\"", revs[5].Changes)
		}
		rec = ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID+"/reviews", nil)
		wantStatus(t, rec, http.StatusOK)
		var reviews []annotations.Review
		decode(t, rec, &reviews)
		got = nil
		for _, r := range reviews {
			got = append(got, fmt.Sprintf("%s %s v%d withdrawn by %q as v%d", r.Reviewer, r.Decision, r.Version, r.WithdrawnBy, r.WithdrawnVersion))
		}
		want = []string{`alice submitted v1 withdrawn by "alice" as v3`, `alice submitted v3 withdrawn by "" as v0`, `bob accepted v4 withdrawn by "bob" as v6`}
		if !slices.Equal(got, want) {
			t.Errorf("reviews\n got %q\nwant %q", got, want)
		}
		log, err := ts.store.AuditLog(context.Background(), annotations.AuditFilter{Action: "annotation.withdraw"})
		if err != nil || len(log) != 2 || log[0].Actor != "bob" || log[1].Actor != "alice" {
			t.Errorf("audit: %+v (%v), want alice's withdrawal, then bob's", log, err)
		}
	})

	t.Run("bulk: withdraw two submissions in one request", func(t *testing.T) {
		b := ts.createAnnotation(t, img.ID, pointBody, alice...)
		c := ts.createAnnotation(t, img.ID, pointBody, alice...)
		rec := ts.bulk(t, img.ID, map[string]any{"action": "review", "decision": "submitted", "annotations": []any{bulkRef(b), bulkRef(c)}}, alice...)
		wantStatus(t, rec, http.StatusOK)
		b.Version, c.Version = 2, 2
		before := ts.snapshot(t)
		wantError(t, ts.bulk(t, img.ID, map[string]any{"action": "review", "decision": "withdrawn", "reason": "x", "annotations": []any{bulkRef(b), bulkRef(c)}}, alice...),
			http.StatusUnprocessableEntity, "invalid", "reason")
		wantError(t, ts.bulk(t, img.ID, map[string]any{"action": "review", "decision": "withdrawn", "annotations": []any{bulkRef(b), bulkRef(c)}}, bob...),
			http.StatusForbidden, "forbidden", "", b.ID)
		ts.wantUnchanged(t, before)
		rec = ts.bulk(t, img.ID, map[string]any{"action": "review", "decision": "withdrawn", "annotations": []any{bulkRef(b), bulkRef(c)}}, alice...)
		wantStatus(t, rec, http.StatusOK)
		for _, x := range []annotations.Annotation{b, c} {
			if got := ts.annotation(t, x.ID); got.ReviewStatus != annotations.ReviewDraft || got.Version != 3 {
				t.Errorf("%s after the bulk withdrawal: %s v%d, want draft v3", x.ID, got.ReviewStatus, got.Version)
			}
		}
	})
}

package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// Review, discussion and restoring old versions through the API.

const (
	pointBody = `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [4, 5]}}`
	boxBody   = `{"label": "vessel/landing ship", "shape": "rectangle",
		"geometry": {"type": "Polygon", "coordinates": [[[10, 10], [30, 10], [30, 20], [10, 20], [10, 10]]]}}`
)

// review posts a decision on an annotation.
func (ts *testServer) review(t *testing.T, id string, body any, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	return ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+id+"/reviews", body, headers...)
}

// annotation fetches an annotation through the API.
func (ts *testServer) annotation(t *testing.T, id string) annotations.Annotation {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/annotations/"+id, nil)
	wantStatus(t, rec, http.StatusOK)
	var a annotations.Annotation
	decode(t, rec, &a)
	return a
}

// reviewed makes an annotation by alice and brings it to state, bob deciding.
func (ts *testServer) reviewed(t *testing.T, imageID, state string) annotations.Annotation {
	t.Helper()
	a := ts.createAnnotation(t, imageID, pointBody, ts.as(t, "alice")...)
	if state == annotations.ReviewDraft {
		return a
	}
	wantStatus(t, ts.review(t, a.ID, map[string]any{"decision": "submitted", "version": a.Version}, ts.as(t, "alice")...), http.StatusOK)
	if state != annotations.ReviewSubmitted {
		wantStatus(t, ts.review(t, a.ID, map[string]any{"decision": state, "version": a.Version + 1, "reason": "seen it"}, ts.as(t, "bob")...), http.StatusOK)
	}
	return ts.annotation(t, a.ID)
}

func TestReviewAnnotationAPI(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	alice, bob := ts.as(t, "alice"), ts.as(t, "bob")
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}
	a := ts.createAnnotation(t, img.ID, boxBody, alice...)

	steps := []struct {
		name    string
		headers []string
		body    string
		status  int
		code    string // for a refusal
		field   string
		state   string // for a success: the state after
	}{
		{name: "ok, the author submits a draft", headers: alice, body: `{"decision": "submitted", "version": 1}`, status: 200, state: "submitted"},
		{name: "nok, the author accepts their own work", headers: alice, body: `{"decision": "accepted", "version": 2}`, status: 403, code: "forbidden"},
		{name: "nok, a viewer reviews", headers: viewer, body: `{"decision": "accepted", "version": 2}`, status: 403, code: "forbidden"},
		{name: "nok, a stale version", headers: bob, body: `{"decision": "accepted", "version": 1}`, status: 412, code: "stale_version", field: "version"},
		{name: "nok, no version", headers: bob, body: `{"decision": "accepted"}`, status: 428, code: "version_required", field: "version"},
		{name: "nok, a dispute without a reason", headers: bob, body: `{"decision": "disputed", "version": 2}`, status: 422, code: "invalid", field: "reason"},
		{name: "nok, a rejection with a blank reason", headers: bob, body: `{"decision": "rejected", "version": 2, "reason": "  "}`, status: 422, code: "invalid", field: "reason"},
		{name: "nok, an unknown decision", headers: bob, body: `{"decision": "approved", "version": 2}`, status: 422, code: "invalid", field: "decision"},
		{name: "nok, an unknown field", headers: bob, body: `{"decision": "accepted", "version": 2, "score": 5}`, status: 400, code: "malformed", field: "score"},
		{name: "ok, another analyst disputes, with a reason", headers: bob, body: `{"decision": "disputed", "version": 2, "reason": "a tug, not a landing ship"}`, status: 200, state: "disputed"},
		{name: "ok, the author submits again", headers: alice, body: `{"decision": "submitted", "version": 3}`, status: 200, state: "submitted"},
		{name: "ok, another analyst rejects, with a reason", headers: bob, body: `{"decision": "rejected", "version": 4, "reason": "nothing there"}`, status: 200, state: "rejected"},
		{name: "ok, submitted once more", headers: alice, body: `{"decision": "submitted", "version": 5}`, status: 200, state: "submitted"},
		{name: "ok, another analyst accepts", headers: bob, body: `{"decision": "accepted", "version": 6}`, status: 200, state: "accepted"},
		{name: "nok, accepted work is not submitted again", headers: alice, body: `{"decision": "submitted", "version": 7}`, status: 409, code: "conflict"},
	}
	version := 1
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			rec := ts.review(t, a.ID, st.body, st.headers...)
			if st.status != http.StatusOK {
				e := wantError(t, rec, st.status, st.code, st.field)
				if st.status == http.StatusPreconditionFailed {
					wantCurrentVersion(t, e, version)
				}
				if got := ts.annotation(t, a.ID); got.Version != version {
					t.Errorf("a refused review changed the annotation to version %d, want %d", got.Version, version)
				}
				return
			}
			wantStatus(t, rec, http.StatusOK)
			var got annotations.Annotation
			decode(t, rec, &got)
			version++
			if got.ReviewStatus != st.state || got.Version != version || rec.Header().Get("ETag") != fmt.Sprintf(`"%d"`, version) {
				t.Errorf("got %s version %d (ETag %s), want %s version %d", got.ReviewStatus, got.Version, rec.Header().Get("ETag"), st.state, version)
			}
			if stored := ts.annotation(t, a.ID); stored.ReviewStatus != st.state || stored.Version != version || !sameGeometry(stored.Geometry, a.Geometry) {
				t.Errorf("stored %s version %d, want %s version %d with the geometry unchanged", stored.ReviewStatus, stored.Version, st.state, version)
			}
		})
	}

	t.Run("ok, each decision is a version in the history", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID+"/history", nil)
		wantStatus(t, rec, http.StatusOK)
		var revs []annotations.Revision
		decode(t, rec, &revs)
		want := []string{"", "review: submitted", "review: disputed", "review: submitted", "review: rejected", "review: submitted", "review: accepted"}
		if len(revs) != len(want) {
			t.Fatalf("%d revisions, want %d", len(revs), len(want))
		}
		for i, r := range revs[1:] {
			if !slices.Contains(r.Changes, want[i+1]) || r.Version != i+2 {
				t.Errorf("revision %d: version %d changes %v, want %q", i+2, r.Version, r.Changes, want[i+1])
			}
		}
		if revs[2].Actor != "bob" || revs[1].Actor != "alice" {
			t.Errorf("revision actors %s, %s; want alice submitting, bob disputing", revs[1].Actor, revs[2].Actor)
		}
	})

	t.Run("ok, the decisions with their reasons", func(t *testing.T) {
		rec := ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID+"/reviews", nil, viewer...)
		wantStatus(t, rec, http.StatusOK)
		var reviews []annotations.Review
		decode(t, rec, &reviews)
		var got []string
		for _, r := range reviews {
			got = append(got, fmt.Sprintf("%s %s v%d %s", r.Reviewer, r.Decision, r.Version, r.Reason))
		}
		want := []string{"alice submitted v1 ", "bob disputed v2 a tug, not a landing ship", "alice submitted v3 ", "bob rejected v4 nothing there",
			"alice submitted v5 ", "bob accepted v6 "}
		if !slices.Equal(got, want) {
			t.Errorf("reviews\n got %q\nwant %q", got, want)
		}
	})

	t.Run("ok, If-Match names the version", func(t *testing.T) {
		b := ts.createAnnotation(t, img.ID, pointBody, alice...)
		wantStatus(t, ts.review(t, b.ID, `{"decision": "submitted"}`, append([]string{"If-Match", `"1"`}, alice...)...), http.StatusOK)
		wantError(t, ts.review(t, b.ID, `{"decision": "accepted", "version": 2}`, append([]string{"If-Match", `"1"`}, bob...)...),
			http.StatusBadRequest, "malformed", "version")
	})

	t.Run("nok, an unknown annotation", func(t *testing.T) {
		wantError(t, ts.review(t, "00000000-0000-4000-8000-000000000000", `{"decision": "submitted", "version": 1}`, alice...), http.StatusNotFound, "not_found", "")
	})

	t.Run("ok, changing accepted work makes it a draft again", func(t *testing.T) {
		rec := ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+a.ID, `{"version": 7, "properties": {"note": "two hulls, not one"}}`, bob...)
		wantStatus(t, rec, http.StatusOK)
		var got annotations.Annotation
		decode(t, rec, &got)
		if got.ReviewStatus != annotations.ReviewDraft || got.Version != 8 {
			t.Errorf("after an edit: %s version %d, want draft version 8", got.ReviewStatus, got.Version)
		}
	})
}

// reviewCounts is an image's review_counts, from the image itself and from the list.
func (ts *testServer) reviewCounts(t *testing.T, id string) (one, listed map[string]int) {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+id, nil)
	wantStatus(t, rec, http.StatusOK)
	var img annotations.Image
	decode(t, rec, &img)
	rec = ts.do(t, http.MethodGet, "/api/v1/images", nil)
	wantStatus(t, rec, http.StatusOK)
	var all []annotations.Image
	decode(t, rec, &all)
	for _, i := range all {
		if i.ID == id {
			return img.ReviewCounts, i.ReviewCounts
		}
	}
	t.Fatalf("image %s is not in the list", id)
	return nil, nil
}

// An analyst who changed someone else's annotation cannot then decide on it, though
// another put it up for review: the refusal says why, and nothing changes.
func TestReviewRefusesWhoWroteAVersion(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	alice, bob, carol := ts.as(t, "alice"), ts.as(t, "bob"), ts.as(t, "carol")
	a := ts.createAnnotation(t, img.ID, boxBody, alice...)
	wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+a.ID,
		`{"version": 1, "geometry": {"type": "Polygon", "coordinates": [[[10, 10], [40, 10], [40, 25], [10, 25], [10, 10]]]}}`, bob...), http.StatusOK)
	wantStatus(t, ts.review(t, a.ID, `{"decision": "submitted", "version": 2}`, alice...), http.StatusOK)

	for _, body := range []string{
		`{"decision": "accepted", "version": 3}`,
		`{"decision": "disputed", "version": 3, "reason": "looks right to me, but"}`,
		`{"decision": "rejected", "version": 3, "reason": "changed my mind"}`,
	} {
		t.Run("nok, the editor decides: "+body, func(t *testing.T) {
			wantError(t, ts.review(t, a.ID, body, bob...), http.StatusForbidden, "forbidden", "", "bob wrote version 2", "another analyst")
			if got := ts.annotation(t, a.ID); got.Version != 3 || got.ReviewStatus != annotations.ReviewSubmitted {
				t.Errorf("after the refusal: version %d %s, want version 3 submitted", got.Version, got.ReviewStatus)
			}
		})
	}
	t.Run("ok, an analyst who wrote no version accepts", func(t *testing.T) {
		rec := ts.review(t, a.ID, `{"decision": "accepted", "version": 3}`, carol...)
		wantStatus(t, rec, http.StatusOK)
		var got annotations.Annotation
		decode(t, rec, &got)
		if got.ReviewStatus != annotations.ReviewAccepted || got.Version != 4 {
			t.Errorf("got %s version %d, want accepted version 4", got.ReviewStatus, got.Version)
		}
	})
}

func TestReviewCountsAndAcceptedExports(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	other := ts.newImage(t, 2)
	ts.reviewed(t, img.ID, "draft")
	ts.reviewed(t, img.ID, "draft")
	submitted := ts.reviewed(t, img.ID, "submitted")
	accepted := []annotations.Annotation{ts.reviewed(t, img.ID, "accepted"), ts.reviewed(t, img.ID, "accepted"), ts.reviewed(t, img.ID, "accepted")}
	disputed := ts.reviewed(t, img.ID, "disputed")
	ts.reviewed(t, img.ID, "rejected")
	otherAccepted := ts.reviewed(t, other.ID, "accepted")
	ts.reviewed(t, other.ID, "draft")

	one, listed := ts.reviewCounts(t, img.ID)
	want := map[string]int{"draft": 2, "submitted": 1, "accepted": 3, "disputed": 1, "rejected": 1}
	for st, n := range want {
		if one[st] != n || listed[st] != n {
			t.Errorf("review_counts[%s]: image %d, list %d; want %d", st, one[st], listed[st], n)
		}
	}
	if len(one) != 5 {
		t.Errorf("review_counts %v, want the five states", one)
	}

	t.Run("ok, ?status=accepted exports only accepted work", func(t *testing.T) {
		fc := ts.export(t, "/api/v1/images/"+img.ID+"/annotations.geojson?status=accepted")
		if got, want := fc.featureIDs(), sortedIDs(accepted...); !slices.Equal(got, want) {
			t.Errorf("image export: %v, want the accepted %v", got, want)
		}
		fc = ts.export(t, "/api/v1/export.geojson?status=accepted")
		if got, want := fc.featureIDs(), sortedIDs(append(accepted, otherAccepted)...); !slices.Equal(got, want) {
			t.Errorf("whole export: %v, want the accepted %v", got, want)
		}
		fc = ts.export(t, "/api/v1/images/"+img.ID+"/annotations.geojson?status=accepted,submitted&status=disputed")
		if got, want := fc.featureIDs(), sortedIDs(append(accepted, submitted, disputed)...); !slices.Equal(got, want) {
			t.Errorf("several states: %v, want %v", got, want)
		}
		if fc := ts.export(t, "/api/v1/images/"+img.ID+"/annotations.geojson"); len(fc.Features) != 8 {
			t.Errorf("without ?status: %d features, want all 8", len(fc.Features))
		}
	})

	t.Run("ok, exports say who decided, on which version, when and why", func(t *testing.T) {
		byID := map[string]int{}
		fc := ts.export(t, "/api/v1/images/"+img.ID+"/annotations.geojson")
		for i, f := range fc.Features {
			byID[f.ID] = i
		}
		for _, tc := range []struct {
			a                 annotations.Annotation
			decision, by, why string
			version           int
		}{
			{accepted[1], "accepted", "bob", "seen it", 2},
			{disputed, "disputed", "bob", "seen it", 2},
			{submitted, "submitted", "alice", "", 1},
		} {
			p := fc.Features[byID[tc.a.ID]].Properties
			r := p.Review
			if p.ReviewStatus != tc.decision || r == nil || r.Decision != tc.decision || r.By != tc.by || r.Reason != tc.why || r.Version != tc.version || r.At.IsZero() {
				t.Errorf("%s: review_status %q, review %+v; want %s by %s on version %d, reason %q", tc.a.ID, p.ReviewStatus, r, tc.decision, tc.by, tc.version, tc.why)
			}
		}
		for _, f := range fc.Features {
			if f.Properties.ReviewStatus == "draft" && f.Properties.Review != nil {
				t.Errorf("draft %s carries a review %+v", f.ID, f.Properties.Review)
			}
		}
	})

	t.Run("nok, an unknown state", func(t *testing.T) {
		for _, target := range []string{"/api/v1/images/" + img.ID + "/annotations.geojson?status=bogus", "/api/v1/export.geojson?status=accepted,bogus"} {
			wantError(t, ts.do(t, http.MethodGet, target, nil), http.StatusBadRequest, "malformed", "status", "bogus")
		}
	})

	t.Run("ok, an edit takes accepted work out of the accepted export", func(t *testing.T) {
		a := accepted[0]
		rec := ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+a.ID, fmt.Sprintf(`{"version": %d, "geometry": {"type": "Point", "coordinates": [9, 9]}}`, a.Version), ts.as(t, "carol")...)
		wantStatus(t, rec, http.StatusOK)
		var got annotations.Annotation
		decode(t, rec, &got)
		if got.ReviewStatus != annotations.ReviewDraft {
			t.Errorf("edited accepted work is %s, want draft", got.ReviewStatus)
		}
		fc := ts.export(t, "/api/v1/images/"+img.ID+"/annotations.geojson?status=accepted")
		if got, want := fc.featureIDs(), sortedIDs(accepted[1:]...); !slices.Equal(got, want) {
			t.Errorf("after the edit: %v, want %v", got, want)
		}
		one, _ := ts.reviewCounts(t, img.ID)
		if one["accepted"] != 2 || one["draft"] != 3 {
			t.Errorf("review_counts after the edit %v, want 2 accepted and 3 drafts", one)
		}
	})
}

func TestComments(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	a := ts.createAnnotation(t, img.ID, pointBody, ts.as(t, "alice")...)
	path := "/api/v1/annotations/" + a.ID + "/comments"
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}

	tests := []struct {
		name    string
		headers []string
		body    string
		status  int
		code    string
		field   string
	}{
		{name: "ok, a comment", headers: ts.as(t, "bob"), body: `{"body": "Is this the one from the 12th?"}`, status: 201},
		{name: "ok, a reply", headers: ts.as(t, "alice"), body: `{"body": "  Yes, same hull number.  "}`, status: 201},
		{name: "nok, empty", headers: ts.as(t, "bob"), body: `{"body": ""}`, status: 422, code: "invalid", field: "body"},
		{name: "nok, only spaces", headers: ts.as(t, "bob"), body: `{"body": "   \n "}`, status: 422, code: "invalid", field: "body"},
		{name: "nok, no body field", headers: ts.as(t, "bob"), body: `{}`, status: 422, code: "invalid", field: "body"},
		{name: "nok, over 10000 bytes", headers: ts.as(t, "bob"), body: `{"body": "` + strings.Repeat("x", 10001) + `"}`, status: 422, code: "invalid", field: "body"},
		{name: "nok, over the 1 MiB request limit", headers: ts.as(t, "bob"), body: `{"body": "` + strings.Repeat("x", 1<<20) + `"}`, status: 413, code: "too_large"},
		{name: "nok, not JSON", headers: ts.as(t, "bob"), body: `body=hello`, status: 400, code: "malformed"},
		{name: "nok, a viewer", headers: viewer, body: `{"body": "I may only read"}`, status: 403, code: "forbidden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.doJSON(t, http.MethodPost, path, tc.body, tc.headers...)
			if tc.status != http.StatusCreated {
				wantError(t, rec, tc.status, tc.code, tc.field)
				return
			}
			wantStatus(t, rec, http.StatusCreated)
			var c annotations.Comment
			decode(t, rec, &c)
			if c.AnnotationID != a.ID || c.ImageID != img.ID || c.Body == "" || strings.TrimSpace(c.Body) != c.Body {
				t.Errorf("comment %+v, want a trimmed comment on %s", c, a.ID)
			}
		})
	}

	rec := ts.do(t, http.MethodGet, path, nil, viewer...)
	wantStatus(t, rec, http.StatusOK)
	var comments []annotations.Comment
	decode(t, rec, &comments)
	var got []string
	for _, c := range comments {
		got = append(got, c.Author+": "+c.Body)
	}
	if want := []string{"bob: Is this the one from the 12th?", "alice: Yes, same hull number."}; !slices.Equal(got, want) {
		t.Errorf("comments %q, want %q", got, want)
	}

	b := ts.createAnnotation(t, img.ID, pointBody)
	rec = ts.do(t, http.MethodGet, "/api/v1/annotations/"+b.ID+"/comments", nil)
	wantStatus(t, rec, http.StatusOK)
	if strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("no comments: %s, want []", rec.Body)
	}
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+b.ID, nil, "If-Match", fmt.Sprintf(`"%d"`, b.Version)), http.StatusNoContent)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		wantError(t, ts.doJSON(t, method, "/api/v1/annotations/"+b.ID+"/comments", `{"body": "hello?"}`), http.StatusNotFound, "not_found", "")
	}
	wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/annotations/not-an-id/comments", `{"body": "hello?"}`), http.StatusNotFound, "not_found", "")
}

func TestRestoreAnnotationAPI(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	alice, bob := ts.as(t, "alice"), ts.as(t, "bob")

	// history makes an annotation with three versions: drawn, moved and relabelled, noted.
	history := func(t *testing.T) (v1, current annotations.Annotation) {
		t.Helper()
		v1 = ts.createAnnotation(t, img.ID, boxBody, alice...)
		path := "/api/v1/annotations/" + v1.ID
		wantStatus(t, ts.doJSON(t, http.MethodPatch, path, `{"version": 1, "label": "vessel",
			"geometry": {"type": "Polygon", "coordinates": [[[20, 20], [40, 20], [40, 30], [20, 30], [20, 20]]]}}`, bob...), http.StatusOK)
		wantStatus(t, ts.doJSON(t, http.MethodPatch, path, `{"version": 2, "properties": {"note": "moved off the pier"}}`, bob...), http.StatusOK)
		return v1, ts.annotation(t, v1.ID)
	}
	restore := func(t *testing.T, id, body string, headers ...string) *httptest.ResponseRecorder {
		t.Helper()
		return ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+id+"/restore", body, headers...)
	}
	historyOf := func(t *testing.T, id string) []annotations.Revision {
		t.Helper()
		rec := ts.do(t, http.MethodGet, "/api/v1/annotations/"+id+"/history", nil)
		wantStatus(t, rec, http.StatusOK)
		var revs []annotations.Revision
		decode(t, rec, &revs)
		return revs
	}

	t.Run("ok, version 1 comes back as the next version", func(t *testing.T) {
		v1, cur := history(t)
		rec := restore(t, v1.ID, `{"version": 1, "current": 3}`, ts.as(t, "carol")...)
		wantStatus(t, rec, http.StatusOK)
		var got annotations.Annotation
		decode(t, rec, &got)
		if got.Version != cur.Version+1 || got.UpdatedBy != "carol" || got.CreatedBy != "alice" || rec.Header().Get("ETag") != `"4"` {
			t.Errorf("got version %d by %s (drawn by %s), ETag %s; want version 4 by carol, drawn by alice", got.Version, got.UpdatedBy, got.CreatedBy, rec.Header().Get("ETag"))
		}
		stored := ts.annotation(t, v1.ID)
		if !sameGeometry(stored.Geometry, v1.Geometry) || stored.Label.ID != v1.Label.ID || stored.Note != "" || stored.Version != 4 {
			t.Errorf("stored %v %s note %q v%d, want version 1's geometry and label, no note, as version 4",
				stored.Geometry, stored.Label.PathString(), stored.Note, stored.Version)
		}
		revs := historyOf(t, v1.ID)
		if len(revs) != 4 || revs[3].Actor != "carol" || revs[3].Action != "update" || !sameGeometry(revs[3].After.Geometry, v1.Geometry) {
			t.Errorf("history: %d revisions, want 4 ending with carol's restore of version 1", len(revs))
		}
	})

	t.Run("nok, a stale current version", func(t *testing.T) {
		v1, cur := history(t)
		e := wantError(t, restore(t, v1.ID, `{"version": 1, "current": 2}`, bob...), http.StatusPreconditionFailed, "stale_version", "version")
		wantCurrentVersion(t, e, cur.Version)
		e = wantError(t, restore(t, v1.ID, `{"version": 1}`, append([]string{"If-Match", `"1"`}, bob...)...), http.StatusPreconditionFailed, "stale_version", "version")
		wantCurrentVersion(t, e, cur.Version)
		if got := ts.annotation(t, v1.ID); got.Version != cur.Version {
			t.Errorf("a refused restore changed the annotation to version %d", got.Version)
		}
	})

	t.Run("nok, bad requests", func(t *testing.T) {
		v1, _ := history(t)
		wantError(t, restore(t, v1.ID, `{"version": 1}`, bob...), http.StatusPreconditionRequired, "version_required", "version")
		wantError(t, restore(t, v1.ID, `{"current": 3}`, bob...), http.StatusUnprocessableEntity, "invalid", "version")
		wantError(t, restore(t, v1.ID, `{"version": 0, "current": 3}`, bob...), http.StatusUnprocessableEntity, "invalid", "version")
		wantError(t, restore(t, v1.ID, `{"version": 9, "current": 3}`, bob...), http.StatusNotFound, "not_found", "")
		wantError(t, restore(t, v1.ID, `{"version": 1, "current": 3}`, append([]string{"If-Match", `"2"`}, bob...)...), http.StatusBadRequest, "malformed", "current")
		wantError(t, restore(t, "00000000-0000-4000-8000-000000000000", `{"version": 1}`, bob...), http.StatusNotFound, "not_found", "")
		viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}
		wantError(t, restore(t, v1.ID, `{"version": 1, "current": 3}`, viewer...), http.StatusForbidden, "forbidden", "")
		if got := ts.annotation(t, v1.ID); got.Version != 3 {
			t.Errorf("refused restores changed the annotation to version %d", got.Version)
		}
	})

	t.Run("ok, a deleted annotation comes back with its id", func(t *testing.T) {
		v1, cur := history(t)
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+v1.ID+"?version=3", nil, bob...), http.StatusNoContent)
		wantError(t, restore(t, v1.ID, `{"version": 4}`, alice...), http.StatusUnprocessableEntity, "invalid", "version")
		rec := restore(t, v1.ID, `{"version": 3}`, alice...)
		wantStatus(t, rec, http.StatusOK)
		var got annotations.Annotation
		decode(t, rec, &got)
		if got.ID != v1.ID || got.Version != 5 || got.Note != "moved off the pier" || !sameGeometry(got.Geometry, cur.Geometry) {
			t.Errorf("got %s version %d note %q, want %s back as version 5 as it was at version 3", got.ID, got.Version, got.Note, v1.ID)
		}
		if stored := ts.annotation(t, v1.ID); stored.Version != 5 {
			t.Errorf("stored version %d, want 5", stored.Version)
		}
		rec = ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/annotations", nil)
		var list []annotations.Annotation
		decode(t, rec, &list)
		if !slices.ContainsFunc(list, func(a annotations.Annotation) bool { return a.ID == v1.ID }) {
			t.Errorf("the restored annotation is not in its image's list")
		}
		revs := historyOf(t, v1.ID)
		if len(revs) != 5 || revs[3].Action != "delete" || revs[4].Action != "create" {
			t.Errorf("history: %d revisions, want 5: three edits, the deletion, the restore", len(revs))
		}
	})
}

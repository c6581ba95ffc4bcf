package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The changes since a recent position come from the store's log in memory and the
// server's memo of encoded annotations; since one from before the log began (0 here,
// as after a restart) they come from SQL. Once every annotation has changed after the
// log began, both are the same answer, to the byte, and stay so when a label changes.
func TestAnnotationChangesFromMemoryAreSQLs(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	alice := ts.as(t, "alice")
	a := ts.createAnnotation(t, img.ID, polygonBody, alice...)
	b := ts.createAnnotation(t, img.ID, polygonBody, alice...)
	c := ts.createAnnotation(t, img.ID, polygonBody, alice...)
	answer := func(since int64) string {
		t.Helper()
		rec := ts.do(t, http.MethodGet, fmt.Sprintf("%s/changes?since=%d", listPath(img.ID), since), nil)
		wantStatus(t, rec, http.StatusOK)
		return rec.Body.String()
	}
	s0 := ts.changes(t, img.ID, 0).Seq // the log begins here

	rec := ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+a.ID, `{"version": 1, "properties": {"note": "aground <&>"}}`, alice...)
	wantStatus(t, rec, http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+b.ID+"?version=1", nil, alice...), http.StatusNoContent)
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+c.ID+"?version=1", nil, alice...), http.StatusNoContent)
	wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+c.ID+"/restore", `{"version": 1}`, alice...), http.StatusOK)
	d := ts.createAnnotation(t, img.ID, polygonBody, alice...)

	fromLog := answer(s0)
	if again := answer(s0); again != fromLog {
		t.Errorf("asked twice (the second from the memo):\n got %s\nwant %s", again, fromLog)
	}
	if fromSQL := answer(0); fromSQL != fromLog {
		t.Errorf("since %d (the log):\n got %s\nwant (since 0, SQL) %s", s0, fromLog, fromSQL)
	}
	for _, id := range []string{a.ID, b.ID, c.ID, d.ID} {
		if !strings.Contains(fromLog, id) {
			t.Errorf("the changes since %d do not name %s: %s", s0, id, fromLog)
		}
	}

	// The label renamed: the same annotations (no new version), with their label's new name.
	label := ts.labelByPath(t, "vessel/landing ship")
	wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/labels/"+label.ID, `{"name": "amphibious ship", "color": "#123456"}`), http.StatusOK)
	fromLog = answer(s0)
	if !strings.Contains(fromLog, `"amphibious ship"`) || strings.Contains(fromLog, `"landing ship"`) {
		t.Errorf("after the label was renamed, the changes give %s, want its new name only", fromLog)
	}
	if fromSQL := answer(0); fromSQL != fromLog {
		t.Errorf("after the label was renamed, since %d (the log):\n got %s\nwant (since 0, SQL) %s", s0, fromLog, fromSQL)
	}
}

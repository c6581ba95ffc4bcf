package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// Every change a user makes through the API is in the audit log, by them, from their
// address, saying what it was.
func TestChangesAreAudited(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	alice := ts.as(t, "alice")

	rec := ts.doJSON(t, http.MethodPost, "/api/v1/labels", `{"name": "balloon"}`)
	wantStatus(t, rec, http.StatusCreated)
	var label annotations.Label
	decode(t, rec, &label)
	wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/labels/"+label.ID, `{"name": "airship"}`), http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/labels/"+label.ID, nil), http.StatusNoContent)

	a := ts.createAnnotation(t, img.ID, pointBody, alice...)
	wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+a.ID, `{"version": 1, "properties": {"note": "moved"}}`, alice...), http.StatusOK)
	wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+a.ID+"/restore", `{"version": 1, "current": 2}`, alice...), http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/annotations/"+a.ID, nil, append([]string{"If-Match", `"3"`}, alice...)...), http.StatusNoContent)

	georef := "/api/v1/images/" + img.ID + "/georeference"
	wantStatus(t, ts.doJSON(t, http.MethodPut, georef, `{"gsd_m": 0.5}`, alice...), http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodDelete, georef, nil, alice...), http.StatusNoContent)
	worldFile := strings.NewReader("0.00001\n0\n0\n-0.00001\n131.85\n43.14\n")
	wantStatus(t, ts.do(t, http.MethodPost, georef+"/worldfile?crs=EPSG:4326", worldFile, ts.as(t, "bob")...), http.StatusOK)

	for _, w := range []struct{ action, actor, target, detail string }{
		{"label.create", "tester", label.ID, "balloon"},
		{"label.update", "tester", label.ID, "airship"},
		{"label.delete", "tester", label.ID, ""},
		{"annotation.restore", "alice", a.ID, "version 1 restored as version 3"},
		{"annotation.delete", "alice", a.ID, a.Label.Path[0] + " on image " + img.ID + " (version 3)"},
		{"georeference.set", "alice", img.ID, `{"control_points":0,"crs":"","gsd_m":0.5,"method":"gsd","transform":""}`},
		{"georeference.delete", "alice", img.ID, ""},
		{"georeference.set", "bob", img.ID, `world file: {"control_points":0,"crs":"EPSG:4326","gsd_m":null,"method":"grid","transform":""}`},
	} {
		e := ts.wantAudited(t, w.action, w.actor, w.target)
		if e.Detail != w.detail || e.IP != "192.0.2.1" {
			t.Errorf("%s: detail %q from %q, want %q from 192.0.2.1", w.action, e.Detail, e.IP, w.detail)
		}
	}
}

// A change whose audit entry cannot be written does not happen: the client is told it
// failed and finds everything as it was.
func TestAChangeFailsWithItsAuditEntry(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	if _, err := ts.store.DB().Exec(`CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit refused'); END`); err != nil {
		t.Fatalf("create trigger: %v", err)
	}
	path := "/api/v1/images/" + img.ID
	wantError(t, ts.do(t, http.MethodDelete, path, nil), http.StatusInternalServerError, "internal", "")
	wantStatus(t, ts.do(t, http.MethodGet, path, nil), http.StatusOK)
	wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/labels", `{"name": "kite"}`), http.StatusInternalServerError, "internal", "")
	rec := ts.do(t, http.MethodGet, "/api/v1/labels", nil)
	var labels []annotations.Label
	decode(t, rec, &labels)
	for _, l := range labels {
		if l.Name == "kite" {
			t.Errorf("the label was created without its audit entry")
		}
	}
}

package server_test

import (
	"math"
	"net/http"
	"testing"

	"github.com/satmark/satmark/annotations"
)

type coverageBody struct {
	annotations.Coverage
	MetresPerPx *float64 `json:"metres_per_px"`
	Basis       string   `json:"basis"`
}

func getCoverage(t *testing.T, ts *testServer, id string, headers ...string) coverageBody {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+id+"/coverage", nil, headers...)
	wantStatus(t, rec, http.StatusOK)
	var c coverageBody
	decode(t, rec, &c)
	return c
}

// Search coverage through the API: an analyst lays a grid and marks cells; a viewer sees
// who searched which cell and the share; bad cells and sizes are refused with the reason
// and change nothing; a new cell size over marked cells needs "clear".
func TestCoverageAPI(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1) // 64 × 48
	base := "/api/v1/images/" + img.ID + "/coverage"
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}

	c := getCoverage(t, ts, img.ID, viewer...)
	if c.CellPx != 0 || len(c.Cells) != 0 || c.MetresPerPx != nil {
		t.Fatalf("a new image: %+v, want no grid and no ground size", c)
	}
	wantError(t, ts.doJSON(t, http.MethodPut, base+"/cells/0/0", nil, ts.as(t, "ana")...), http.StatusConflict, "conflict", "", "no search grid")

	wantError(t, ts.doJSON(t, http.MethodPut, base+"/grid", `{}`, ts.as(t, "ana")...), http.StatusBadRequest, "malformed", "cell_px")
	wantError(t, ts.doJSON(t, http.MethodPut, base+"/grid", `{"cell_px": 2}`, ts.as(t, "ana")...), http.StatusUnprocessableEntity, "invalid", "cell_px", "at least 8")
	wantError(t, ts.doJSON(t, http.MethodPut, base+"/grid", `{"cell_px": "big"}`, ts.as(t, "ana")...), http.StatusBadRequest, "malformed", "cell_px")
	rec := ts.doJSON(t, http.MethodPut, base+"/grid", `{"cell_px": 16}`, ts.as(t, "ana")...)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &c)
	if c.Cols != 4 || c.Rows != 3 || c.UpdatedBy != "ana" {
		t.Fatalf("16-pixel grid over 64 × 48: %+v, want 4 × 3 by ana", c)
	}

	for _, cell := range []string{"0/0", "3/2", "1/2"} {
		wantStatus(t, ts.doJSON(t, http.MethodPut, base+"/cells/"+cell, nil, ts.as(t, "ana")...), http.StatusOK)
	}
	wantError(t, ts.doJSON(t, http.MethodPut, base+"/cells/4/0", nil, ts.as(t, "ana")...), http.StatusUnprocessableEntity, "invalid", "col", "outside")
	wantError(t, ts.doJSON(t, http.MethodPut, base+"/cells/0/3", nil, ts.as(t, "ana")...), http.StatusUnprocessableEntity, "invalid", "row", "outside")
	wantError(t, ts.doJSON(t, http.MethodPut, base+"/cells/x/0", nil, ts.as(t, "ana")...), http.StatusBadRequest, "malformed", "col")
	wantError(t, ts.doJSON(t, http.MethodPut, base+"/cells/0/0", nil, viewer...), http.StatusForbidden, "forbidden", "")

	c = getCoverage(t, ts, img.ID, viewer...)
	if len(c.Cells) != 3 || math.Abs(c.Share-0.25) > 1e-12 {
		t.Fatalf("after 3 of 12 cells: %+v, want share 0.25", c)
	}
	if cell := c.Cells[0]; cell.Col != 0 || cell.Row != 0 || cell.By != "ana" || cell.At.IsZero() {
		t.Errorf("first cell %+v, want (0,0) by ana with a time", cell)
	}

	// A new size would lose the marks: refused, unless asked to clear them.
	wantError(t, ts.doJSON(t, http.MethodPut, base+"/grid", `{"cell_px": 32}`, ts.as(t, "ana")...), http.StatusConflict, "conflict", "", "clear")
	if c = getCoverage(t, ts, img.ID); c.CellPx != 16 || len(c.Cells) != 3 {
		t.Fatalf("after the refused change: %+v, want the grid and marks kept", c)
	}
	wantStatus(t, ts.do(t, http.MethodDelete, base+"/cells/1/2", nil, ts.as(t, "bob")...), http.StatusOK)
	if c = getCoverage(t, ts, img.ID); len(c.Cells) != 2 {
		t.Fatalf("after bob unmarked (1,2): %+v, want 2 cells", c)
	}
	rec = ts.doJSON(t, http.MethodPut, base+"/grid", `{"cell_px": 32, "clear": true}`, ts.as(t, "ana")...)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &c)
	if c.CellPx != 32 || c.Cols != 2 || c.Rows != 2 || len(c.Cells) != 0 {
		t.Fatalf("32-pixel grid with clear: %+v, want 2 × 2, nothing marked", c)
	}

	// Every change is in the audit log, as its author's.
	rec = ts.do(t, http.MethodGet, "/api/v1/audit?action=coverage", nil)
	wantStatus(t, rec, http.StatusOK)
	var log []annotations.AuditEntry
	decode(t, rec, &log)
	if len(log) != 6 || log[0].Action != "coverage.grid" || log[1].Action != "coverage.unmark" || log[1].Actor != "bob" {
		t.Errorf("audit: %+v, want 2 grids, 3 marks and bob's unmark", log)
	}

	// With a ground sample distance the answer says how big a pixel is.
	wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/georeference", `{"gsd_m": 0.5}`), http.StatusOK)
	if c = getCoverage(t, ts, img.ID); c.MetresPerPx == nil || *c.MetresPerPx != 0.5 || c.Basis != "gsd" {
		t.Errorf("with a 0.5 m GSD: metres_per_px %v, basis %q", c.MetresPerPx, c.Basis)
	}
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/nope/coverage", nil), http.StatusNotFound, "not_found", "")
}

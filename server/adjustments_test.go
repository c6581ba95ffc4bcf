package server_test

import (
	"net/http"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// An image's adjustments through the router: neutral until saved; an analyst's save is
// what everyone then reads, audited; out-of-range values are 422 naming the field, what
// is not JSON numbers 400, and neither changes what is saved; a viewer reads but cannot
// save.
func TestAdjustments(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	base := "/api/v1/images/" + img.ID + "/adjustments"
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}

	var got annotations.Adjustments
	rec := ts.do(t, http.MethodGet, base, nil, viewer...)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if got != annotations.NeutralAdjustments() {
		t.Fatalf("before any save: %+v, want neutral", got)
	}

	rec = ts.doJSON(t, http.MethodPut, base, `{"brightness": 0.25, "contrast": 0.5, "gamma": 1.5, "stretch": {"low": 0.1, "high": 0.8}}`, ts.as(t, "alice")...)
	wantStatus(t, rec, http.StatusOK)
	rec = ts.do(t, http.MethodGet, base, nil, viewer...)
	wantStatus(t, rec, http.StatusOK)
	got = annotations.Adjustments{}
	decode(t, rec, &got)
	if got.Brightness != 0.25 || got.Contrast != 0.5 || got.Saturation != 0 || got.Gamma != 1.5 ||
		got.Stretch == nil || *got.Stretch != (annotations.Levels{Low: 0.1, High: 0.8}) || got.UpdatedBy != "alice" {
		t.Fatalf("the viewer reads %+v, want alice's brightness 0.25, contrast 0.5, gamma 1.5, stretch 0.1–0.8", got)
	}
	log, err := ts.store.AuditLog(t.Context(), annotations.AuditFilter{Action: "image.adjust"})
	if err != nil || len(log) != 1 || log[0].Actor != "alice" || log[0].TargetID != img.ID {
		t.Errorf("audit: %+v, %v; want alice's image.adjust", log, err)
	}

	for _, tc := range []struct {
		name, body, field string
	}{
		{"nok, brightness 2", `{"brightness": 2}`, "brightness"},
		{"nok, contrast -1.5", `{"contrast": -1.5}`, "contrast"},
		{"nok, saturation 1.01", `{"saturation": 1.01}`, "saturation"},
		{"nok, gamma 0", `{"gamma": 0}`, "gamma"},
		{"nok, gamma 0.05", `{"gamma": 0.05}`, "gamma"},
		{"nok, gamma 12", `{"gamma": 12}`, "gamma"},
		{"nok, stretch low below 0", `{"stretch": {"low": -0.2, "high": 0.5}}`, "stretch.low"},
		{"nok, stretch high above 1", `{"stretch": {"low": 0.2, "high": 1.5}}`, "stretch.high"},
		{"nok, stretch the wrong way round", `{"stretch": {"low": 0.8, "high": 0.2}}`, "stretch.high"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.doJSON(t, http.MethodPut, base, tc.body, ts.as(t, "alice")...), http.StatusUnprocessableEntity, "invalid", tc.field)
		})
	}
	for _, body := range []string{`{"brightness": "bright"}`, `{"gamma": NaN}`, `{"exposure": 0.5}`, `{"stretch": true}`, `not json`} {
		wantStatus(t, ts.doJSON(t, http.MethodPut, base, body, ts.as(t, "alice")...), http.StatusBadRequest)
	}
	wantError(t, ts.doJSON(t, http.MethodPut, base, `{"contrast": 0.1}`, viewer...), http.StatusForbidden, "forbidden", "")
	wantError(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/img_aaaaaaaaaaaa/adjustments", `{"contrast": 0.1}`, ts.as(t, "alice")...), http.StatusNotFound, "not_found", "")
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/img_aaaaaaaaaaaa/adjustments", nil), http.StatusNotFound, "not_found", "")

	after := annotations.Adjustments{}
	decode(t, ts.do(t, http.MethodGet, base, nil), &after)
	if after.Contrast != 0.5 || after.Gamma != 1.5 {
		t.Errorf("after refused saves: %+v, want alice's save unchanged", after)
	}
	if log, _ := ts.store.AuditLog(t.Context(), annotations.AuditFilter{Action: "image.adjust"}); len(log) != 1 {
		t.Errorf("refused saves were audited: %d entries, want 1", len(log))
	}
}

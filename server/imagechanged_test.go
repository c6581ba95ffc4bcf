package server_test

import (
	"net/http"
	"testing"
)

// What the server keeps in memory about an image never outlives a change to it: the
// answers after a change are the changed image's.
func TestAnswersAfterAnImageChangesAreFresh(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.mustUpload(t, filePart("scene.png", pngBytes(t, 64, 48, 1)), field("license", "https://creativecommons.org/licenses/by/4.0/"))
	ts.buildPyramids(t)
	info := "/iiif/3/" + img.ID + "/info.json"
	rights := func() string {
		t.Helper()
		var doc struct {
			Rights string `json:"rights"`
		}
		rec := ts.do(t, http.MethodGet, info, nil)
		wantStatus(t, rec, http.StatusOK)
		decode(t, rec, &doc)
		return doc.Rights
	}
	if got := rights(); got != "https://creativecommons.org/licenses/by/4.0/" {
		t.Fatalf("rights before = %q, want the CC BY licence", got)
	}

	t.Run("ok, info.json names the licence a PATCH set", func(t *testing.T) {
		wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/images/"+img.ID, `{"license": "https://creativecommons.org/publicdomain/zero/1.0/"}`), http.StatusOK)
		if got, want := rights(), "https://creativecommons.org/publicdomain/zero/1.0/"; got != want {
			t.Errorf("rights after the PATCH = %q, want %q", got, want)
		}
	})

	t.Run("ok, annotations measure with the ground sample distance now set", func(t *testing.T) {
		a := ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[0, 0], [10, 0]]}}`)
		georef := "/api/v1/images/" + img.ID + "/georeference"
		for _, gsd := range []string{"0.5", "2"} {
			wantStatus(t, ts.doJSON(t, http.MethodPut, georef, `{"gsd_m": `+gsd+`}`), http.StatusOK)
			var got struct {
				Measures map[string]any `json:"measures"`
			}
			decode(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID, nil), &got)
			want := map[string]float64{"0.5": 5, "2": 20}[gsd]
			if got.Measures["length_m"] != want {
				t.Errorf("with gsd %s: measures %v, want length_m %v", gsd, got.Measures, want)
			}
		}
		wantStatus(t, ts.do(t, http.MethodDelete, georef, nil), http.StatusNoContent)
		var got struct {
			Measures map[string]any `json:"measures"`
		}
		decode(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID, nil), &got)
		if _, ok := got.Measures["length_m"]; ok {
			t.Errorf("with the georeference deleted: measures %v, want no length on the ground", got.Measures)
		}
	})
}

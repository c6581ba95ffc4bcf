package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/pgtest"
)

// testDatabase is a new database of backend ("sqlite" or "postgres") for a test server.
func testDatabase(t *testing.T, backend string) string {
	t.Helper()
	if backend == "postgres" {
		return pgtest.DSN(t)
	}
	return filepath.Join(t.TempDir(), "satmark.db")
}

// A placed image's footprint is stored when its georeference is saved, and one placed
// before footprints were stored (an upgraded database) is filled in when a site needs it:
// the site still holds it, on both backends. A georeference moved away or removed takes
// the image out.
func TestSiteFootprintsStoredAndFilledAfterAnUpgrade(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ts := newTestServerAt(t, t.TempDir(), testDatabase(t, backend), imagery.Options{Limits: smallLimits}, os.DirFS("../web"))
			store := ts.store
			ctx := context.Background()
			port := ts.uploadScene(t, 4000, 3000, 1, field("captured_from", "2024-10-13"))
			ts.putGeoref(t, port.ID, "affine", vladivostok6)
			if stored, err := store.FootprintsStored(ctx); err != nil || !stored[port.ID] {
				t.Fatalf("after placing: stored %v (%v), want the footprint stored", stored, err)
			}
			// As an image placed before the footprint column was.
			if _, err := store.DB().Exec(`UPDATE georeferences SET footprint = NULL`); err != nil {
				t.Fatal(err)
			}
			rec := ts.doJSON(t, http.MethodPost, "/api/v1/sites", `{"name": "Golden Horn piers", "area": `+piersArea+`}`)
			wantStatus(t, rec, http.StatusCreated)
			var st siteAnswer
			decode(t, rec, &st)
			if got, want := st.images(), port.ID+":footprint"; got != want {
				t.Fatalf("images of the site:\n got %s\nwant %s", got, want)
			}
			if stored, _ := store.FootprintsStored(ctx); !stored[port.ID] {
				t.Error("the missing footprint was not stored")
			}
			// Moved a degree east: no longer there.
			ts.putGeoref(t, port.ID, "affine", shifted(vladivostok6, 1, 0))
			rec = ts.do(t, http.MethodGet, "/api/v1/sites/"+st.ID, nil)
			wantStatus(t, rec, http.StatusOK)
			decode(t, rec, &st)
			if got := st.images(); got != "" {
				t.Errorf("after moving the image away: got %s, want none", got)
			}
			ts.putGeoref(t, port.ID, "affine", vladivostok6)
			wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+port.ID+"/georeference", nil), http.StatusNoContent)
			rec = ts.do(t, http.MethodGet, "/api/v1/sites/"+st.ID, nil)
			wantStatus(t, rec, http.StatusOK)
			decode(t, rec, &st)
			if got := st.images(); got != "" {
				t.Errorf("after removing the georeference: got %s, want none", got)
			}
		})
	}
}

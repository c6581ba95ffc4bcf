package server_test

import (
	"net/http"
	"os"
	"reflect"
	"sort"
	"testing"

	"github.com/satmark/satmark/imagery"
)

// TestFootprintsInABox: footprints.geojson?bbox= answers the footprints meeting the box,
// the same on both backends (PostgreSQL by PostGIS): a box across the antimeridian
// (west greater than east) and boxes on either side of it find an image that straddles
// it, and one just east of it does not; bad boxes are refused with the field named.
func TestFootprintsInABox(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ts := newTestServerAt(t, t.TempDir(), testDatabase(t, backend), imagery.Options{Limits: smallLimits}, os.DirFS("../web"))
			port := ts.uploadScene(t, 4000, 3000, 1)
			ts.putGeoref(t, port.ID, "affine", vladivostok6)
			// The same scene moved to lie across the antimeridian, 179.95° to 180.05°.
			dateline := ts.uploadScene(t, 4000, 3000, 2)
			across := shifted(vladivostok6, 48.1, 0)
			for i := range across {
				if across[i].LonLat[0] > 180 {
					across[i].LonLat[0] -= 360
				}
			}
			ts.putGeoref(t, dateline.ID, "affine", across)
			names := map[string]string{port.ID: "port", dateline.ID: "dateline"}
			in := func(bbox string) []string {
				t.Helper()
				rec := ts.do(t, http.MethodGet, "/api/v1/footprints.geojson?bbox="+bbox, nil)
				wantStatus(t, rec, http.StatusOK)
				var fc struct {
					Features []struct {
						ID string `json:"id"`
					} `json:"features"`
				}
				decode(t, rec, &fc)
				got := []string{}
				for _, f := range fc.Features {
					got = append(got, names[f.ID])
				}
				sort.Strings(got)
				return got
			}
			for _, tc := range []struct {
				name, bbox string
				want       []string
			}{
				{"around the port", "131.8,43,132,43.2", []string{"port"}},
				{"across the antimeridian", "179.9,43,-179.9,43.2", []string{"dateline"}},
				{"west of +180° only", "179.9,43,179.99,43.2", []string{"dateline"}},
				{"east of -180° only", "-179.99,43,-179.9,43.2", []string{"dateline"}},
				{"just east of it", "-179.9,43,-179.8,43.2", []string{}},
				{"across the antimeridian, south of it", "179,-20,-179,-10", []string{}},
				{"the whole earth", "-180,-90,180,90", []string{"dateline", "port"}},
			} {
				if got := in(tc.bbox); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s (bbox=%s): got %v, want %v", tc.name, tc.bbox, got, tc.want)
				}
			}
			for _, bad := range []string{"1,2,3", "a,0,1,1", "0,0,200,1", "0,10,1,5", "5,0,5,1", "0,-91,1,1"} {
				wantError(t, ts.do(t, http.MethodGet, "/api/v1/footprints.geojson?bbox="+bad, nil), http.StatusBadRequest, "malformed", "bbox")
			}
		})
	}
}

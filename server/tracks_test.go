package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

type trackAnswer struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Version   int    `json:"version"`
	Positions []struct {
		AnnotationID string      `json:"annotation_id"`
		ImageID      string      `json:"image_id"`
		Confidence   string      `json:"confidence"`
		When         string      `json:"when"`
		Pixel        [2]float64  `json:"pixel"`
		LonLat       *[2]float64 `json:"lonlat"`
	} `json:"positions"`
}

func TestTracksFollowAShipAcrossDates(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	oct13 := ts.uploadScene(t, 4000, 3000, 1, field("captured_from", "2024-10-13"))
	oct8 := ts.uploadScene(t, 4000, 3000, 2, field("captured_from", "2024-10-08"), field("captured_to", "2024-10-08"))
	unplaced := ts.uploadScene(t, 400, 300, 3, field("released_at", "2024-10-20"))
	ts.putGeoref(t, oct13.ID, "affine", vladivostok6)
	ts.putGeoref(t, oct8.ID, "affine", vladivostok6)
	ship := func(imageID string, x, y float64) string {
		return ts.createAnnotation(t, imageID, fmt.Sprintf(`{"label": "vessel/landing ship", "shape": "point", "geometry": {"type": "Point", "coordinates": [%g, %g]}}`, x, y)).ID
	}
	on13, on8, other8, onRelease := ship(oct13.ID, 2000, 1500), ship(oct8.ID, 1900, 1400), ship(oct8.ID, 300, 300), ship(unplaced.ID, 100, 100)

	rec := ts.doJSON(t, http.MethodPost, "/api/v1/tracks", map[string]any{"name": "Landing ship A",
		"annotations": []map[string]string{{"annotation_id": on13, "confidence": "confirmed"}}})
	wantStatus(t, rec, http.StatusCreated)
	var tr trackAnswer
	decode(t, rec, &tr)
	rec = ts.doJSON(t, http.MethodPut, "/api/v1/tracks/"+tr.ID+"/annotations/"+on8, `{"confidence": "probable"}`)
	wantStatus(t, rec, http.StatusOK)
	rec = ts.doJSON(t, http.MethodPut, "/api/v1/tracks/"+tr.ID+"/annotations/"+onRelease, `{}`)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &tr)
	// In date order: the 8th, the 13th, then the release of the 20th (unplaced: no lon/lat).
	if len(tr.Positions) != 3 || tr.Positions[0].AnnotationID != on8 || tr.Positions[1].AnnotationID != on13 || tr.Positions[2].AnnotationID != onRelease {
		t.Fatalf("positions: %+v", tr.Positions)
	}
	if p := tr.Positions[0]; p.Confidence != "probable" || p.When != "2024-10-08" || p.LonLat == nil || p.Pixel != [2]float64{1900, 1400} {
		t.Errorf("the 8th: %+v", p)
	}
	if p := tr.Positions[2]; p.LonLat != nil || p.Confidence != "probable" || p.When != "2024-10-20" {
		t.Errorf("the unplaced release: %+v (want no lon/lat, probable by default)", p)
	}
	ll := tr.Positions[1].LonLat
	if ll == nil || (*ll)[0] < 131.85 || (*ll)[0] > 131.95 || (*ll)[1] < 43.08 || (*ll)[1] > 43.14 {
		t.Errorf("the 13th on the earth: %v", ll)
	}

	// The exports name the track.
	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+oct8.ID+"/annotations.geojson", nil)
	wantStatus(t, rec, http.StatusOK)
	var fc struct {
		Features []struct {
			ID         string `json:"id"`
			Properties struct {
				Track *struct {
					ID, Name, Confidence string
				} `json:"track"`
				Metadata map[string]string `json:"metadata"`
			} `json:"properties"`
		} `json:"features"`
	}
	decode(t, rec, &fc)
	seen := 0
	for _, f := range fc.Features {
		switch f.ID {
		case on8:
			seen++
			if f.Properties.Track == nil || f.Properties.Track.Name != "Landing ship A" || f.Properties.Track.Confidence != "probable" ||
				f.Properties.Metadata["track_name"] != "Landing ship A" {
				t.Errorf("the 8th's ship in the export: track %+v, metadata %v", f.Properties.Track, f.Properties.Metadata)
			}
		case other8:
			seen++
			if f.Properties.Track != nil {
				t.Errorf("the other ship has a track: %+v", f.Properties.Track)
			}
		}
	}
	if seen != 2 {
		t.Fatalf("the export holds %d of the two ships", seen)
	}
	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+oct8.ID+"/annotations.geojson?crs=wgs84", nil)
	wantStatus(t, rec, http.StatusOK)
	if !strings.Contains(rec.Body.String(), `"track":{"id":"`+tr.ID+`"`) {
		t.Errorf("the lon/lat export does not name the track")
	}

	// The tracks export: a LineString of the placed positions with their times, read by GDAL.
	rec = ts.do(t, http.MethodGet, "/api/v1/tracks.geojson", nil)
	wantStatus(t, rec, http.StatusOK)
	var tfc struct {
		Features []struct {
			Geometry struct {
				Type        string       `json:"type"`
				Coordinates [][2]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				Name       string            `json:"name"`
				CoordTimes []string          `json:"coordTimes"`
				Positions  []json.RawMessage `json:"positions"`
			} `json:"properties"`
		} `json:"features"`
	}
	decode(t, rec, &tfc)
	if len(tfc.Features) != 1 || tfc.Features[0].Geometry.Type != "LineString" || len(tfc.Features[0].Geometry.Coordinates) != 2 ||
		strings.Join(tfc.Features[0].Properties.CoordTimes, " ") != "2024-10-08 2024-10-13" || len(tfc.Features[0].Properties.Positions) != 3 {
		t.Fatalf("tracks export: %s", truncate(rec.Body.String(), 800))
	}
	wantOGRSays(t, "tracks.geojson", rec.Body.Bytes(), "SELECT name, ST_GeometryType(geometry) AS g, ST_NPoints(geometry) AS n, ST_IsValid(geometry) AS valid FROM tracks", "name (String) = Landing ship A", "g (String) = LINESTRING", "n (Integer) = 2", "valid (Integer) = 1")

	// Filters: by image, by site.
	var list []trackAnswer
	decode(t, ts.do(t, http.MethodGet, "/api/v1/tracks?image="+other8, nil), &list)
	if len(list) != 0 {
		t.Errorf("tracks of an annotation id used as an image: %d", len(list))
	}
	decode(t, ts.do(t, http.MethodGet, "/api/v1/tracks?image="+oct8.ID, nil), &list)
	if len(list) != 1 {
		t.Errorf("tracks on the 8th: %d", len(list))
	}
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/sites", `{"name": "Piers", "area": `+piersArea+`}`)
	wantStatus(t, rec, http.StatusCreated)
	var st siteAnswer
	decode(t, rec, &st)
	decode(t, ts.do(t, http.MethodGet, "/api/v1/tracks?site="+st.ID, nil), &list)
	if len(list) != 1 || list[0].ID != tr.ID {
		t.Errorf("tracks of the site: %+v", list)
	}

	// Bad input, nothing changed by it.
	before := ts.snapshot(t)
	tests := []struct {
		name, method, target, body string
		status                     int
		code, field                string
		words                      []string
	}{
		{"a second ship of the 8th", "PUT", "/api/v1/tracks/" + tr.ID + "/annotations/" + other8, `{}`, 422, "invalid", "annotation_id", []string{"same image"}},
		{"an annotation in another track", "POST", "/api/v1/tracks", `{"name": "B", "annotations": [{"annotation_id": "` + on8 + `"}]}`, 409, "conflict", "", []string{"Landing ship A"}},
		{"a track of two ships of one image", "POST", "/api/v1/tracks", `{"name": "C", "annotations": [{"annotation_id": "` + other8 + `"}, {"annotation_id": "` + other8 + `", "confidence": "possible"}]}`, 201, "", "", nil},
		{"an unknown annotation", "PUT", "/api/v1/tracks/" + tr.ID + "/annotations/ann_nope", `{}`, 422, "invalid", "annotation_id", nil},
		{"a confidence that is not one", "PUT", "/api/v1/tracks/" + tr.ID + "/annotations/" + on8, `{"confidence": "sure"}`, 422, "invalid", "confidence", nil},
		{"no name", "POST", "/api/v1/tracks", `{"annotations": []}`, 422, "invalid", "name", nil},
		{"a change without a version", "PATCH", "/api/v1/tracks/" + tr.ID, `{"name": "x"}`, 428, "version_required", "version", nil},
		{"a change from an old version", "PATCH", "/api/v1/tracks/" + tr.ID, `{"name": "x", "version": 5}`, 412, "stale_version", "version", []string{"track"}},
		{"links in a change", "PATCH", "/api/v1/tracks/" + tr.ID, `{"version": 1, "annotations": []}`, 400, "malformed", "annotations", nil},
		{"an unknown track", "GET", "/api/v1/tracks/trk_aaaaaaaaaaaa", ``, 404, "not_found", "", nil},
		{"unlinking what is not linked", "DELETE", "/api/v1/tracks/" + tr.ID + "/annotations/" + other8, ``, 404, "not_found", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.doJSON(t, tt.method, tt.target, tt.body)
			if tt.status == 201 { // the same annotation twice is one link, not two objects
				wantStatus(t, rec, 201)
				var c trackAnswer
				decode(t, rec, &c)
				if len(c.Positions) != 1 || c.Positions[0].Confidence != "possible" {
					t.Fatalf("the same annotation twice: %+v", c.Positions)
				}
				wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/tracks/"+c.ID+"?version=1", nil), http.StatusNoContent)
				return
			}
			wantError(t, rec, tt.status, tt.code, tt.field, tt.words...)
		})
	}
	ts.wantUnchanged(t, before)
}

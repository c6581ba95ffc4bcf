package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// siteAnswer is what the site routes answer.
type siteAnswer struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version int    `json:"version"`
	Area    struct {
		Type        string         `json:"type"`
		Coordinates [][][2]float64 `json:"coordinates"`
	} `json:"area"`
	Images  []siteImageAnswer `json:"images"`
	LeftOut []siteImageAnswer `json:"left_out"`
}

type siteImageAnswer struct {
	ID           string `json:"id"`
	Membership   string `json:"membership"`
	CapturedFrom string `json:"captured_from"`
	When         string `json:"when"`
	Labels       []struct {
		Label string `json:"label"`
		Count int    `json:"count"`
	} `json:"labels"`
}

func (s siteAnswer) images() string {
	var out []string
	for _, i := range s.Images {
		out = append(out, i.ID+":"+i.Membership)
	}
	return strings.Join(out, " ")
}

// shifted moves control points by dlon, dlat degrees.
func shifted(pts []gcp, dlon, dlat float64) []gcp {
	out := make([]gcp, len(pts))
	for i, p := range pts {
		out[i] = p
		out[i].LonLat = [2]float64{p.LonLat[0] + dlon, p.LonLat[1] + dlat}
	}
	return out
}

// The Golden Horn piers: a box over the middle of the vladivostok6 footprint.
const piersArea = `{"type": "Polygon", "coordinates": [[[131.89, 43.10], [131.91, 43.10], [131.91, 43.12], [131.89, 43.12], [131.89, 43.10]]]}`

func TestSitesGatherImagesByFootprint(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	port13 := ts.uploadScene(t, 4000, 3000, 1, field("captured_from", "2024-10-13"))
	port8 := ts.uploadScene(t, 4000, 3000, 2, field("captured_from", "2024-10-08"))
	elsewhere := ts.uploadScene(t, 4000, 3000, 3, field("captured_from", "2024-10-01"))
	unplaced := ts.uploadScene(t, 400, 300, 4, field("released_at", "2024-10-20"))
	ts.putGeoref(t, port13.ID, "affine", vladivostok6)
	// Half a footprint east: it still meets the piers' box only through its west edge.
	ts.putGeoref(t, port8.ID, "affine", shifted(vladivostok6, 0.03, 0))
	ts.putGeoref(t, elsewhere.ID, "affine", shifted(vladivostok6, 2, 1))
	ts.createAnnotation(t, port13.ID, `{"label": "vessel/landing ship", "shape": "point", "geometry": {"type": "Point", "coordinates": [2000, 1500]}}`)
	ts.createAnnotation(t, port13.ID, `{"label": "vessel/landing ship", "shape": "point", "geometry": {"type": "Point", "coordinates": [2100, 1500]}}`)

	rec := ts.doJSON(t, http.MethodPost, "/api/v1/sites", `{"name": "Golden Horn piers", "area": `+piersArea+`, "notes": "NIS, 8–13 Oct"}`)
	wantStatus(t, rec, http.StatusCreated)
	var st siteAnswer
	decode(t, rec, &st)
	if loc := rec.Header().Get("Location"); loc != "/api/v1/sites/"+st.ID {
		t.Errorf("Location = %q", loc)
	}
	// On the timeline by capture date: the 8th before the 13th; the far base is not there.
	if got, want := st.images(), port8.ID+":footprint "+port13.ID+":footprint"; got != want {
		t.Fatalf("images of the site:\n got %s\nwant %s", got, want)
	}
	if l := st.Images[1].Labels; len(l) != 1 || l[0].Label != "vessel › landing ship" || l[0].Count != 2 {
		t.Errorf("label counts of the 13th: %+v", l)
	}

	// The unplaced release joins by hand and goes last (dated by its release, the 20th);
	// the 8th, which only grazes the area, is left out.
	rec = ts.doJSON(t, http.MethodPut, "/api/v1/sites/"+st.ID+"/images/"+unplaced.ID, `{"member": true}`)
	wantStatus(t, rec, http.StatusOK)
	rec = ts.doJSON(t, http.MethodPut, "/api/v1/sites/"+st.ID+"/images/"+port8.ID, `{"member": false}`)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &st)
	if got, want := st.images(), port13.ID+":footprint "+unplaced.ID+":added"; got != want {
		t.Fatalf("after adding and leaving out:\n got %s\nwant %s", got, want)
	}
	if len(st.LeftOut) != 1 || st.LeftOut[0].ID != port8.ID {
		t.Fatalf("left out: %+v", st.LeftOut)
	}
	// Forgetting it lets the footprint decide again.
	rec = ts.do(t, http.MethodDelete, "/api/v1/sites/"+st.ID+"/images/"+port8.ID, nil)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &st)
	if got, want := st.images(), port8.ID+":footprint "+port13.ID+":footprint "+unplaced.ID+":added"; got != want {
		t.Fatalf("after clearing:\n got %s\nwant %s", got, want)
	}

	// Redrawn smaller, over the 13th's west half only: the 8th (shifted east) drops out.
	rec = ts.doJSON(t, http.MethodPatch, "/api/v1/sites/"+st.ID, map[string]any{"version": st.Version,
		"area": json.RawMessage(`{"type": "Polygon", "coordinates": [[[131.86, 43.10], [131.87, 43.10], [131.87, 43.11], [131.86, 43.10]]]}`)})
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &st)
	if got, want := st.images(), port13.ID+":footprint "+unplaced.ID+":added"; got != want || st.Version != 2 {
		t.Fatalf("after redrawing (version %d):\n got %s\nwant %s", st.Version, got, want)
	}

	// A site from an image's footprint holds that image.
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/sites", map[string]any{"name": "Far base", "from_image": elsewhere.ID})
	wantStatus(t, rec, http.StatusCreated)
	var far siteAnswer
	decode(t, rec, &far)
	if got := far.images(); got != elsewhere.ID+":footprint" {
		t.Fatalf("site from the base's footprint holds %s", got)
	}
	if n := len(far.Area.Coordinates[0]); n != 65 {
		t.Errorf("the footprint area has %d positions, want 65 (16 a side, closed)", n)
	}

	rec = ts.do(t, http.MethodGet, "/api/v1/sites", nil)
	wantStatus(t, rec, http.StatusOK)
	var all []siteAnswer
	decode(t, rec, &all)
	if len(all) != 2 || all[0].Name != "Far base" || all[1].Name != "Golden Horn piers" {
		t.Fatalf("sites listed: %+v", all)
	}

	// The area as GeoJSON reads in GDAL as one valid polygon of the drawn area.
	rec = ts.do(t, http.MethodGet, "/api/v1/sites/"+st.ID+"/area.geojson", nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/geo+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	wantOGRSays(t, "area.geojson", rec.Body.Bytes(), "SELECT name, ST_IsValid(geometry) AS valid, ST_NPoints(geometry) AS n FROM area", "name (String) = Golden Horn piers", "valid (Integer) = 1", "n (Integer) = 4")

	rec = ts.do(t, http.MethodDelete, fmt.Sprintf("/api/v1/sites/%s?version=%d", st.ID, st.Version), nil)
	wantStatus(t, rec, http.StatusNoContent)
	wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/sites/"+st.ID, nil), http.StatusNotFound)
	wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/images/"+unplaced.ID, nil), http.StatusOK)

	var actions []string
	rows, err := ts.store.DB().Query(`SELECT action FROM audit WHERE target_type = 'site' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a string
		rows.Scan(&a)
		actions = append(actions, a)
	}
	if got := strings.Join(actions, " "); got != "site.create site.image.add site.image.leave_out site.image.clear site.update site.create site.delete" {
		t.Errorf("audit: %s", got)
	}
}

func TestSitesRefuseBadInput(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	unplaced := ts.newImage(t, 1)
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/sites", `{"name": "Piers", "area": `+piersArea+`}`)
	wantStatus(t, rec, http.StatusCreated)
	var st siteAnswer
	decode(t, rec, &st)
	before := ts.snapshot(t)

	poly := func(coords string) string { return `{"type": "Polygon", "coordinates": [[` + coords + `]]}` }
	tests := []struct {
		name, method, target, body string
		status                     int
		code, field                string
		words                      []string
	}{
		{"no name", "POST", "/api/v1/sites", `{"area": ` + piersArea + `}`, 422, "invalid", "name", nil},
		{"no area", "POST", "/api/v1/sites", `{"name": "x"}`, 422, "invalid", "area", []string{"required"}},
		{"same name", "POST", "/api/v1/sites", `{"name": "PIERS", "area": ` + piersArea + `}`, 409, "conflict", "", []string{"already exists"}},
		{"a bow tie", "POST", "/api/v1/sites", `{"name": "x", "area": ` + poly("[0,0],[2,2],[2,0],[0,1],[0,0]") + `}`, 422, "invalid", "area", []string{"crosses itself"}},
		{"not closed", "POST", "/api/v1/sites", `{"name": "x", "area": ` + poly("[0,0],[2,2],[2,0],[0,1]") + `}`, 422, "invalid", "area", []string{"not closed"}},
		{"across the antimeridian", "POST", "/api/v1/sites", `{"name": "x", "area": ` + poly("[179,0],[-179,0],[-179,1],[179,1],[179,0]") + `}`, 422, "invalid", "area", []string{"antimeridian"}},
		{"latitude 95", "POST", "/api/v1/sites", `{"name": "x", "area": ` + poly("[0,0],[1,0],[1,95],[0,0]") + `}`, 422, "invalid", "area", []string{"latitude"}},
		{"NaN", "POST", "/api/v1/sites", `{"name": "x", "area": ` + poly("[0,0],[1,0],[1,NaN],[0,0]") + `}`, 400, "malformed", "", []string{"NaN", "not a finite number"}},
		{"a line", "POST", "/api/v1/sites", `{"name": "x", "area": {"type": "LineString", "coordinates": [[0,0],[1,1]]}}`, 422, "invalid", "area", []string{"Polygon"}},
		{"area and from_image", "POST", "/api/v1/sites", `{"name": "x", "area": ` + piersArea + `, "from_image": "` + unplaced.ID + `"}`, 400, "malformed", "from_image", []string{"not both"}},
		{"from an unplaced image", "POST", "/api/v1/sites", `{"name": "x", "from_image": "` + unplaced.ID + `"}`, 422, "invalid", "from_image", []string{"not georeferenced"}},
		{"from no image", "POST", "/api/v1/sites", `{"name": "x", "from_image": "img_nope"}`, 422, "invalid", "from_image", nil},
		{"unknown field", "POST", "/api/v1/sites", `{"name": "x", "area": ` + piersArea + `, "colour": "red"}`, 400, "malformed", "colour", nil},
		{"a version on creation", "POST", "/api/v1/sites", `{"name": "x", "area": ` + piersArea + `, "version": 1}`, 400, "malformed", "version", nil},
		{"change without a version", "PATCH", "/api/v1/sites/" + st.ID, `{"notes": "x"}`, 428, "version_required", "version", nil},
		{"change from an old version", "PATCH", "/api/v1/sites/" + st.ID, `{"notes": "x", "version": 9}`, 412, "stale_version", "version", []string{"site", "version 1, not 9"}},
		{"delete without a version", "DELETE", "/api/v1/sites/" + st.ID, ``, 428, "version_required", "version", nil},
		{"an unknown site", "PATCH", "/api/v1/sites/sit_aaaaaaaaaaaa", `{"notes": "x", "version": 1}`, 404, "not_found", "", nil},
		{"a malformed site id", "GET", "/api/v1/sites/..%2f", ``, 404, "not_found", "", nil},
		{"an unknown image", "PUT", "/api/v1/sites/" + st.ID + "/images/img_nope", `{"member": true}`, 422, "invalid", "image_id", nil},
		{"no member", "PUT", "/api/v1/sites/" + st.ID + "/images/" + unplaced.ID, `{}`, 422, "invalid", "member", nil},
		{"clearing what was never said", "DELETE", "/api/v1/sites/" + st.ID + "/images/" + unplaced.ID, ``, 404, "not_found", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := ts.doJSON(t, tt.method, tt.target, tt.body)
			wantError(t, rec, tt.status, tt.code, tt.field, tt.words...)
		})
	}
	ts.wantUnchanged(t, before)
}

// The compare page names the site and the two images asked for; an image or a site that
// is not there is a 404 page, not a page that cannot load.
func TestComparePage(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	a := ts.newImage(t, 1)
	b := ts.newImage(t, 2)
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/sites", `{"name": "Piers", "area": `+piersArea+`}`)
	wantStatus(t, rec, http.StatusCreated)
	var st siteAnswer
	decode(t, rec, &st)

	body := wantHTML(t, ts, "/sites/"+st.ID+"/compare?a="+a.ID+"&b="+b.ID)
	for _, want := range []string{`data-site-id="` + st.ID + `"`, `data-a="` + a.ID + `"`, `data-b="` + b.ID + `"`, "Compare · Piers", "/static/compare.js"} {
		if !strings.Contains(body, want) {
			t.Errorf("compare page does not show %q", want)
		}
	}
	// Left out, the page picks them.
	if body := wantHTML(t, ts, "/sites/"+st.ID+"/compare"); !strings.Contains(body, `data-a=""`) {
		t.Errorf("compare page without images names some")
	}
	for _, target := range []string{
		"/sites/" + st.ID + "/compare?a=img_aaaaaaaaaaaa&b=" + b.ID,
		"/sites/" + st.ID + "/compare?a=" + a.ID + "&b=..%2fetc",
		"/sites/sit_aaaaaaaaaaaa/compare?a=" + a.ID + "&b=" + b.ID,
	} {
		rec := ts.do(t, http.MethodGet, target, nil, "Accept", "text/html")
		if rec.Code != http.StatusNotFound || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Errorf("GET %s: %d %s, want a 404 page", target, rec.Code, rec.Header().Get("Content-Type"))
		}
	}
}

// wantOGRSays writes body to a file named name, runs GDAL's SQLite dialect over it
// (ogrinfo -q -dialect SQLite -sql sql) and wants every line of want in the answer. It is
// skipped when ogrinfo is not installed, unless SATMARK_REQUIRE_ORACLES=1.
func wantOGRSays(t *testing.T, name string, body []byte, sql string, want ...string) {
	t.Helper()
	if _, err := exec.LookPath("ogrinfo"); err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatalf("ogrinfo not found and SATMARK_REQUIRE_ORACLES=1: %v", err)
		}
		t.Log("ogrinfo (gdal-bin) not installed: the GeoJSON is not read by GDAL")
		return
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ogrinfo", "-q", "-dialect", "SQLite", "-sql", sql, path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("ogrinfo does not say %q:\n%s", w, out)
		}
	}
}

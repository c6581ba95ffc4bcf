package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/similar"
)

// boxOf is a hull's rotated rectangle, its first side along the ship from stern to bow.
func boxOf(s hull) [][2]float64 {
	a := s.angle * math.Pi / 180
	u, v := [2]float64{math.Cos(a), math.Sin(a)}, [2]float64{-math.Sin(a), math.Cos(a)}
	at := func(du, dv float64) [2]float64 {
		return [2]float64{s.cx + du*u[0] + dv*v[0], s.cy + du*u[1] + dv*v[1]}
	}
	l, b := s.length/2, s.beam/2
	return [][2]float64{at(-l, -b), at(l, -b), at(l, b), at(-l, b), at(-l, -b)}
}

func rotatedBoxBody(label string, ring [][2]float64) map[string]any {
	return map[string]any{"label": label, "shape": "rotated_rectangle", "geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}}}
}

type suggestionJSON struct {
	ID                 string  `json:"id"`
	Status             string  `json:"status"`
	Score              float64 `json:"score"`
	Shape              string  `json:"shape"`
	SourceAnnotationID string  `json:"source_annotation_id"`
	DecidedBy          string  `json:"decided_by"`
	AnnotationID       string  `json:"annotation_id"`
	Geometry           struct {
		Coordinates [][][2]float64 `json:"coordinates"`
	} `json:"geometry"`
}

type similarAnswer struct {
	Suggestions []suggestionJSON `json:"suggestions"`
	Message     string           `json:"message"`
	Search      struct {
		Level, Rotations, Places, Excluded int
	} `json:"search"`
}

// featureIDs are the ids of the features of a GeoJSON export.
func featureIDs(t *testing.T, ts *testServer, target string) []string {
	t.Helper()
	rec := ts.do(t, http.MethodGet, target, nil)
	wantStatus(t, rec, http.StatusOK)
	var fc struct {
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
	}
	decode(t, rec, &fc)
	ids := make([]string, len(fc.Features))
	for i, f := range fc.Features {
		ids[i] = f.ID
	}
	return ids
}

// Find similar through the router: from one boxed ship, the other ships of its kind on
// the water come back as pending suggestions, the one already annotated with the same
// label left out; an analyst accepts one (an annotation of theirs, in the history and
// the exports) and rejects another; neither pending nor rejected ones are in any export,
// and a second decision is a 409.
func TestFindSimilar(t *testing.T) {
	ts := newTestServer(t, imagery.Limits{MaxBytes: 16 << 20, MaxPixels: 50_000_000})
	fleet := []hull{
		{300, 250, 120, 18, 20, true},   // the one boxed
		{900, 300, 120, 18, 75, true},   //
		{1300, 650, 120, 18, 140, true}, //
		{500, 800, 120, 18, 200, true},  // pointing the other way
		{1000, 950, 120, 18, 310, true}, // already annotated as a landing ship
		{1400, 200, 120, 18, 95, true},  // annotated, but as a frigate
	}
	data, _ := fleetAtSea(t, 1600, 1200, fleet)
	img := ts.mustUpload(t, filePart("fleet.png", data))
	ts.placeByCorners(t, img.ID, 1600, 1200)
	ts.buildPyramids(t)
	ts.addUser(t, "finder", annotations.RoleAnalyst)
	src := ts.createAnnotation(t, img.ID, rotatedBoxBody("vessel/landing ship", boxOf(fleet[0])), ts.as(t, "finder")...)
	ts.createAnnotation(t, img.ID, rotatedBoxBody("vessel/landing ship", boxOf(fleet[4])))
	frigate := ts.createAnnotation(t, img.ID, rotatedBoxBody("vessel/frigate", boxOf(fleet[5])))
	point := ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [50, 60]}}`)
	recorded := featureIDs(t, ts, "/api/v1/images/"+img.ID+"/annotations.geojson")
	hs := httptest.NewServer(ts.srv)
	t.Cleanup(hs.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream := openEvents(ctx, t, hs.URL, img.ID, ts.userToken(t, "vera", annotations.RoleViewer))
	if ev, err := stream.next(); err != nil || ev.name != "ready" {
		t.Fatalf("first event %+v (%v), want ready", ev, err)
	}

	rec := ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+src.ID+"/similar", "", ts.as(t, "finder")...)
	wantStatus(t, rec, http.StatusOK)
	var got similarAnswer
	decode(t, rec, &got)
	// Those with the image open see them come.
	var heard []suggestionJSON
	if err := json.Unmarshal(stream.wantChange(t, "suggestion.created", img.ID, src.ID, 0, "finder").Data, &heard); err != nil || len(heard) != len(got.Suggestions) || len(heard) == 0 || heard[0].ID != got.Suggestions[0].ID {
		t.Errorf("the listeners heard %+v (%v), want the %d suggestions found", heard, err, len(got.Suggestions))
	}
	t.Logf("search: %+v", got.Search)
	want := map[int]bool{1: true, 2: true, 3: true, 5: true}
	found := map[int]bool{}
	for _, sg := range got.Suggestions {
		best, at := 0.0, -1
		for i, s := range fleet {
			if iou := similar.IoU(sg.Geometry.Coordinates[0], boxOf(s)); iou > best {
				best, at = iou, i
			}
		}
		t.Logf("suggestion %s: score %.3f, IoU %.2f with ship %d", sg.ID, sg.Score, best, at)
		if !want[at] || best < 0.5 || found[at] {
			t.Errorf("suggestion %v is not one of the other ships' boxes (best IoU %.2f with ship %d)", sg.Geometry.Coordinates, best, at)
		}
		found[at] = true
		if sg.Status != "pending" || sg.Shape != "rotated_rectangle" || sg.SourceAnnotationID != src.ID || sg.Score < 0.6 || sg.Score > 1 {
			t.Errorf("suggestion: %+v", sg)
		}
	}
	if len(found) != len(want) {
		t.Fatalf("found ships %v, want %v", found, want)
	}
	if got.Search.Excluded != 2 {
		t.Errorf("excluded %d places, want the source and the other landing ship", got.Search.Excluded)
	}
	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/suggestions?status=pending", nil)
	wantStatus(t, rec, http.StatusOK)
	var pending []suggestionJSON
	decode(t, rec, &pending)
	if len(pending) != len(got.Suggestions) {
		t.Fatalf("%d pending, want the %d found", len(pending), len(got.Suggestions))
	}
	// Pending suggestions are in no export.
	if ids := featureIDs(t, ts, "/api/v1/images/"+img.ID+"/annotations.geojson"); strings.Join(ids, ",") != strings.Join(recorded, ",") {
		t.Errorf("after the search the export holds %v, want only the annotations %v", ids, recorded)
	}

	// Accept the best, reject the next.
	rec = ts.do(t, http.MethodPost, "/api/v1/suggestions/"+pending[0].ID+"/accept", nil, ts.as(t, "alice")...)
	wantStatus(t, rec, http.StatusOK)
	var accepted struct {
		Suggestion suggestionJSON `json:"suggestion"`
		Annotation struct {
			ID         string                     `json:"id"`
			CreatedBy  string                     `json:"created_by"`
			Label      annotations.Label          `json:"label"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"annotation"`
	}
	decode(t, rec, &accepted)
	if accepted.Suggestion.Status != "accepted" || accepted.Suggestion.DecidedBy != "alice" || accepted.Suggestion.AnnotationID != accepted.Annotation.ID ||
		accepted.Annotation.CreatedBy != "alice" || accepted.Annotation.Label.ID != src.Label.ID ||
		!strings.Contains(string(accepted.Annotation.Properties["suggestion"]), src.ID) {
		t.Errorf("accepted: %+v", accepted)
	}
	rec = ts.do(t, http.MethodGet, "/api/v1/annotations/"+accepted.Annotation.ID+"/history", nil)
	wantStatus(t, rec, http.StatusOK)
	var history []struct{ Action, Actor string }
	decode(t, rec, &history)
	if len(history) != 1 || history[0].Action != "create" || history[0].Actor != "alice" {
		t.Errorf("history of the accepted annotation: %+v", history)
	}
	rec = ts.do(t, http.MethodPost, "/api/v1/suggestions/"+pending[1].ID+"/reject", nil, ts.as(t, "alice")...)
	wantStatus(t, rec, http.StatusOK)

	// What was decided is decided.
	for _, tt := range []struct{ name, id, decision, words string }{
		{"accept the accepted", pending[0].ID, "accept", "already accepted"},
		{"reject the accepted", pending[0].ID, "reject", "already accepted"},
		{"accept the rejected", pending[1].ID, "accept", "already rejected"},
		{"reject the rejected", pending[1].ID, "reject", "already rejected"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.do(t, http.MethodPost, "/api/v1/suggestions/"+tt.id+"/"+tt.decision, nil), http.StatusConflict, "conflict", "", tt.words, "by alice")
		})
	}
	rec = ts.do(t, http.MethodGet, "/api/v1/audit?action=suggestion", nil)
	wantStatus(t, rec, http.StatusOK)
	var audit []struct{ Action, Actor string }
	decode(t, rec, &audit)
	if len(audit) != 3 || audit[0].Action != "suggestion.reject" || audit[1].Action != "suggestion.accept" || audit[1].Actor != "alice" || audit[2].Actor != "finder" {
		t.Errorf("audit: %+v", audit)
	}

	// The exports hold the accepted one, never the pending or the rejected.
	wantIDs := strings.Join(append(recorded, accepted.Annotation.ID), ",")
	for _, target := range []string{"/api/v1/images/" + img.ID + "/annotations.geojson", "/api/v1/export.geojson?image=" + img.ID} {
		if ids := featureIDs(t, ts, target); strings.Join(ids, ",") != wantIDs {
			t.Errorf("%s holds %v, want %s", target, ids, wantIDs)
		}
	}
	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/annotations.kml", nil)
	wantStatus(t, rec, http.StatusOK)
	if n := strings.Count(rec.Body.String(), "<Placemark"); n != len(recorded)+1 {
		t.Errorf("the KML holds %d placemarks, want %d", n, len(recorded)+1)
	}
	for _, sg := range pending[1:] {
		for _, body := range []string{exportedFeatures(t, ts, "/api/v1/images/"+img.ID+"/annotations.geojson"), rec.Body.String()} {
			if strings.Contains(body, sg.ID) || strings.Contains(body, fmt.Sprint(sg.Geometry.Coordinates[0][0][0])) {
				t.Errorf("an export holds suggestion %s (%s)", sg.ID, sg.Status)
			}
		}
	}

	// Searching again finds nothing new: every place is annotated or suggested.
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+src.ID+"/similar", map[string]any{"max": 10, "threshold": 0.6})
	wantStatus(t, rec, http.StatusOK)
	var again similarAnswer
	decode(t, rec, &again)
	if len(again.Suggestions) != 0 || !strings.Contains(again.Message, "nothing else") {
		t.Errorf("a second search: %+v", again)
	}

	// A frigate is searched for as a frigate: the landing ships' places are not left out.
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/annotations/"+frigate.ID+"/similar", `{"max": 2}`)
	wantStatus(t, rec, http.StatusOK)
	var frigates similarAnswer
	decode(t, rec, &frigates)
	if len(frigates.Suggestions) != 2 || frigates.Search.Excluded != 1 {
		t.Errorf("from the frigate: %d suggestions (want the 2 best of the max), %d places excluded (want itself)", len(frigates.Suggestions), frigates.Search.Excluded)
	}

	for _, tt := range []struct {
		name, target string
		body         any
		status       int
		code, field  string
		words        []string
	}{
		{"nok, no such annotation", "/api/v1/annotations/00000000-0000-4000-8000-000000000000/similar", "", 404, "not_found", "", nil},
		{"nok, not an id", "/api/v1/annotations/..%2f/similar", "", 404, "not_found", "", nil},
		{"nok, a point has no area", "/api/v1/annotations/" + point.ID + "/similar", "", 422, "no_area", "shape", []string{"no area", "rectangle"}},
		{"nok, threshold above 1", "/api/v1/annotations/" + src.ID + "/similar", `{"threshold": 1.5}`, 400, "malformed", "threshold", []string{"1.5"}},
		{"nok, threshold 0", "/api/v1/annotations/" + src.ID + "/similar", `{"threshold": 0}`, 400, "malformed", "threshold", nil},
		{"nok, max 0", "/api/v1/annotations/" + src.ID + "/similar", `{"max": 0}`, 400, "malformed", "max", nil},
		{"nok, max too many", "/api/v1/annotations/" + src.ID + "/similar", `{"max": 100000}`, 400, "malformed", "max", nil},
		{"nok, not JSON", "/api/v1/annotations/" + src.ID + "/similar", `{"max": `, 400, "malformed", "", nil},
		{"nok, unknown field", "/api/v1/annotations/" + src.ID + "/similar", `{"limit": 3}`, 400, "malformed", "limit", nil},
		{"nok, no such suggestion", "/api/v1/suggestions/sug_nosuchthing1/accept", "", 404, "not_found", "", nil},
		{"nok, status not a state", "/api/v1/images/" + img.ID + "/suggestions?status=maybe", nil, 400, "malformed", "status", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			method := http.MethodPost
			if tt.body == nil {
				method = http.MethodGet
			}
			wantError(t, ts.doJSON(t, method, tt.target, tt.body), tt.status, tt.code, tt.field, tt.words...)
		})
	}
	if rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/suggestions?status=pending", nil); !strings.Contains(rec.Body.String(), pending[2].ID) {
		t.Errorf("a refused request lost the pending suggestions: %s", rec.Body.String())
	}
}

// exportedFeatures is the body of a GeoJSON export.
func exportedFeatures(t *testing.T, ts *testServer, target string) string {
	t.Helper()
	rec := ts.do(t, http.MethodGet, target, nil)
	wantStatus(t, rec, http.StatusOK)
	return rec.Body.String()
}

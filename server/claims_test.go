package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

func ptr[T any](v T) *T { return &v }

type evidenceAnswer struct {
	ID           string     `json:"id"`
	ClaimID      string     `json:"claim_id"`
	AnnotationID string     `json:"annotation_id"`
	ImageID      string     `json:"image_id"`
	Stance       string     `json:"stance"`
	Assessment   string     `json:"assessment"`
	Confidence   float64    `json:"confidence"`
	Version      int        `json:"version"`
	CreatedBy    string     `json:"created_by"`
	Label        string     `json:"label"`
	ImageTitle   string     `json:"image_title"`
	BBox         [4]float64 `json:"bbox"`
}

type claimAnswer struct {
	ID       string           `json:"id"`
	SourceID string           `json:"source_id"`
	Text     string           `json:"text"`
	Version  int              `json:"version"`
	State    string           `json:"state"`
	Evidence []evidenceAnswer `json:"evidence"`
	Source   struct {
		ID, Publisher string
	} `json:"source"`
}

type linkAnswer struct {
	Evidence evidenceAnswer `json:"evidence"`
	Claim    claimAnswer    `json:"claim"`
}

const shipBox = `{"label": "vessel/landing ship", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[10, 12], [30, 12], [30, 20], [10, 20], [10, 12]]]}}`

func TestClaimsAndEvidenceThroughTheAPI(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1, field("publisher", "National Intelligence Service"), field("claim", "landing ships transported troops 8–13 October"))
	ship := ts.createAnnotation(t, img.ID, shipBox)
	empty := ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [40, 30]}}`)

	// The upload's claim is the release's first claim.
	rec := ts.do(t, http.MethodGet, "/api/v1/sources/"+img.Source.ID+"/claims", nil)
	wantStatus(t, rec, http.StatusOK)
	var claims []claimAnswer
	decode(t, rec, &claims)
	if len(claims) != 1 || claims[0].Text != "landing ships transported troops 8–13 October" || claims[0].State != "unassessed" || claims[0].Source.Publisher != "National Intelligence Service" {
		t.Fatalf("the release's claims: %+v", claims)
	}
	first := claims[0]

	rec = ts.doJSON(t, http.MethodPost, "/api/v1/sources/"+img.Source.ID+"/claims", `{"text": "the troops embarked at Vladivostok", "claimed_from": "2024-10-08"}`, ts.as(t, "ana")...)
	wantStatus(t, rec, http.StatusCreated)
	var second claimAnswer
	decode(t, rec, &second)
	if rec.Header().Get("Location") != "/api/v1/claims/"+second.ID || rec.Header().Get("ETag") != `"1"` || second.Version != 1 {
		t.Errorf("created: Location %q, ETag %q, %+v", rec.Header().Get("Location"), rec.Header().Get("ETag"), second)
	}

	// Edited from its version, in If-Match.
	rec = ts.doJSON(t, http.MethodPatch, "/api/v1/claims/"+second.ID, `{"text": "the troops embarked at Nakhodka"}`, "If-Match", `"1"`)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &second)
	if second.Text != "the troops embarked at Nakhodka" || second.Version != 2 {
		t.Errorf("edited: %+v", second)
	}
	wantError(t, ts.doJSON(t, http.MethodPatch, "/api/v1/claims/"+second.ID, `{"text": "x"}`, "If-Match", `"1"`), http.StatusPreconditionFailed, "stale_version", "version")
	wantError(t, ts.doJSON(t, http.MethodPatch, "/api/v1/claims/"+second.ID, `{"text": "x"}`), http.StatusPreconditionRequired, "version_required", "version")

	// Evidence: the ship supports the first claim, the empty berth contradicts it.
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/claims/"+first.ID+"/evidence",
		`{"annotation_id": "`+ship.ID+`", "stance": "supports", "assessment": "two landing ships alongside, ramps down", "confidence": 0.8}`, ts.as(t, "ana")...)
	wantStatus(t, rec, http.StatusCreated)
	var linked linkAnswer
	decode(t, rec, &linked)
	if e := linked.Evidence; e.AnnotationID != ship.ID || e.Stance != "supports" || e.Confidence != 0.8 || e.CreatedBy != "ana" || e.ImageID != img.ID {
		t.Errorf("linked: %+v", e)
	}
	if c := linked.Claim; c.State != "supported" || len(c.Evidence) != 1 || c.Evidence[0].Label != "vessel › landing ship" || c.Evidence[0].BBox != [4]float64{10, 12, 30, 20} {
		t.Errorf("the claim after the link: %+v", c)
	}
	rec = ts.doJSON(t, http.MethodPost, "/api/v1/claims/"+first.ID+"/evidence", `{"annotation_id": "`+empty.ID+`", "stance": "contradicts"}`)
	wantStatus(t, rec, http.StatusCreated)
	var against linkAnswer
	decode(t, rec, &against)
	if against.Claim.State != "contested" || against.Evidence.Confidence != 0.5 {
		t.Errorf("after a contradiction: %+v", against)
	}
	wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/claims/"+first.ID+"/evidence", `{"annotation_id": "`+ship.ID+`", "stance": "context"}`), http.StatusConflict, "conflict", "", "already")

	rec = ts.doJSON(t, http.MethodPatch, "/api/v1/evidence/"+against.Evidence.ID, `{"stance": "context", "assessment": "the berth was empty on the 13th only"}`, "If-Match", `"1"`)
	wantStatus(t, rec, http.StatusOK)
	var changed linkAnswer
	decode(t, rec, &changed)
	if changed.Evidence.Stance != "context" || changed.Evidence.Version != 2 || changed.Claim.State != "supported" {
		t.Errorf("changed: %+v", changed)
	}
	wantError(t, ts.do(t, http.MethodDelete, "/api/v1/evidence/"+against.Evidence.ID+"?version=1", nil), http.StatusPreconditionFailed, "stale_version", "version")
	rec = ts.do(t, http.MethodDelete, "/api/v1/evidence/"+against.Evidence.ID+"?version=2", nil)
	wantStatus(t, rec, http.StatusNoContent)
	rec = ts.do(t, http.MethodGet, "/api/v1/claims/"+first.ID, nil)
	wantStatus(t, rec, http.StatusOK)
	var got claimAnswer
	decode(t, rec, &got)
	if len(got.Evidence) != 1 || got.Evidence[0].ID != linked.Evidence.ID || got.Evidence[0].Assessment != "two landing ships alongside, ramps down" {
		t.Errorf("after the unlink: %+v", got)
	}
	if rec := ts.do(t, http.MethodGet, "/api/v1/annotations/"+empty.ID, nil); rec.Code != http.StatusOK {
		t.Errorf("the unlinked annotation: status %d, want it kept", rec.Code)
	}

	// ?image= lists the claims of the image's release, for the annotator.
	rec = ts.do(t, http.MethodGet, "/api/v1/claims?image="+img.ID, nil)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &claims)
	if len(claims) != 2 || claims[0].ID != first.ID || claims[1].ID != second.ID {
		t.Errorf("claims of the image: %+v", claims)
	}

	rec = ts.do(t, http.MethodGet, "/api/v1/claims/"+first.ID+"/history", nil)
	wantStatus(t, rec, http.StatusOK)
	var history []struct{ Target, Action, Actor string }
	decode(t, rec, &history)
	var lines []string
	for _, h := range history {
		lines = append(lines, h.Target+" "+h.Action+" "+h.Actor)
	}
	if got, want := strings.Join(lines, ", "), "claim create tester, evidence create ana, evidence create tester, evidence update tester, evidence delete tester"; got != want {
		t.Errorf("history: got %s, want %s", got, want)
	}

	// Every write is in the audit log, as whoever made it.
	log, err := ts.store.AuditLog(context.Background(), annotations.AuditFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, e := range log {
		if strings.HasPrefix(e.Action, "claim.") || strings.HasPrefix(e.Action, "evidence.") {
			seen[e.Action] += e.Actor + " "
		}
	}
	for action, want := range map[string]string{"claim.create": "ana tester ", "claim.update": "tester ", "evidence.link": "tester ana ", "evidence.update": "tester ", "evidence.unlink": "tester "} {
		if seen[action] != want {
			t.Errorf("audit %s: got actors %q, want %q (newest first)", action, seen[action], want)
		}
	}

	// Deleting a claim keeps the annotations.
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/claims/"+second.ID, nil, "If-Match", `"2"`), http.StatusNoContent)
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/claims/"+second.ID, nil), http.StatusNotFound, "not_found", "")
}

func TestClaimsRefuseBadInput(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	ship := ts.createAnnotation(t, img.ID, shipBox)
	other := ts.newImage(t, 2)
	elsewhere := ts.createAnnotation(t, other.ID, shipBox)
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/sources/"+img.Source.ID+"/claims", `{"text": "ships in port"}`)
	wantStatus(t, rec, http.StatusCreated)
	var c claimAnswer
	decode(t, rec, &c)
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}
	evidence := "/api/v1/claims/" + c.ID + "/evidence"

	tests := []struct {
		name           string
		method, target string
		body           string
		headers        []string
		status         int
		code, field    string
		words          []string
	}{
		{"nok, empty claim text", http.MethodPost, "/api/v1/sources/" + img.Source.ID + "/claims", `{"text": "  "}`, nil, 400, "malformed", "text", []string{"required"}},
		{"nok, no claim text", http.MethodPost, "/api/v1/sources/" + img.Source.ID + "/claims", `{}`, nil, 400, "malformed", "text", nil},
		{"nok, claim of an unknown release", http.MethodPost, "/api/v1/sources/src_aaaaaaaaaaaa/claims", `{"text": "x"}`, nil, 404, "not_found", "", nil},
		{"nok, unknown field", http.MethodPost, "/api/v1/sources/" + img.Source.ID + "/claims", `{"text": "x", "claim": "y"}`, nil, 400, "malformed", "claim", nil},
		{"nok, a viewer creates a claim", http.MethodPost, "/api/v1/sources/" + img.Source.ID + "/claims", `{"text": "x"}`, viewer, 403, "forbidden", "", nil},
		{"nok, a viewer links evidence", http.MethodPost, evidence, `{"annotation_id": "` + ship.ID + `", "stance": "supports"}`, viewer, 403, "forbidden", "", nil},
		{"nok, a viewer edits a claim", http.MethodPatch, "/api/v1/claims/" + c.ID, `{"text": "x", "version": 1}`, viewer, 403, "forbidden", "", nil},
		{"nok, unknown claim", http.MethodGet, "/api/v1/claims/clm_aaaaaaaaaaaa", "", nil, 404, "not_found", "", nil},
		{"nok, not an id", http.MethodGet, "/api/v1/claims/..%2fetc", "", nil, 404, "not_found", "", nil},
		{"nok, evidence for an unknown claim", http.MethodPost, "/api/v1/claims/clm_aaaaaaaaaaaa/evidence", `{"annotation_id": "` + ship.ID + `", "stance": "supports"}`, nil, 404, "not_found", "", nil},
		{"nok, unknown annotation", http.MethodPost, evidence, `{"annotation_id": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "stance": "supports"}`, nil, 404, "not_found", "", []string{"annotation"}},
		{"nok, no annotation", http.MethodPost, evidence, `{"stance": "supports"}`, nil, 400, "malformed", "annotation_id", nil},
		{"nok, annotation of another release", http.MethodPost, evidence, `{"annotation_id": "` + elsewhere.ID + `", "stance": "supports"}`, nil, 400, "malformed", "annotation_id", []string{"another release", other.ID}},
		{"nok, unknown stance", http.MethodPost, evidence, `{"annotation_id": "` + ship.ID + `", "stance": "refutes"}`, nil, 400, "malformed", "stance", []string{"supports, contradicts or context"}},
		{"nok, no stance", http.MethodPost, evidence, `{"annotation_id": "` + ship.ID + `"}`, nil, 400, "malformed", "stance", nil},
		{"nok, confidence above 1", http.MethodPost, evidence, `{"annotation_id": "` + ship.ID + `", "stance": "supports", "confidence": 1.2}`, nil, 400, "malformed", "confidence", []string{"0", "1"}},
		{"nok, confidence as a word", http.MethodPost, evidence, `{"annotation_id": "` + ship.ID + `", "stance": "supports", "confidence": "high"}`, nil, 400, "malformed", "confidence", nil},
		{"nok, unknown evidence", http.MethodDelete, "/api/v1/evidence/evd_aaaaaaaaaaaa?version=1", "", nil, 404, "not_found", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := ts.snapshot(t)
			rec := ts.doJSON(t, tt.method, tt.target, tt.body, tt.headers...)
			wantError(t, rec, tt.status, tt.code, tt.field, tt.words...)
			ts.wantUnchanged(t, before)
		})
	}
	for _, target := range []string{"/claims/clm_aaaaaaaaaaaa", "/claims/not-an-id"} {
		if rec := ts.do(t, http.MethodGet, target, nil, "Accept", "text/html"); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "not found") {
			t.Errorf("the page %s: status %d, want a 404 page saying so; body %s", target, rec.Code, truncate(rec.Body.String(), 300))
		}
	}
	if rec := ts.do(t, http.MethodGet, "/claims/"+c.ID, nil, "Accept", "text/html"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `data-claim-id="`+c.ID+`"`) {
		t.Errorf("the claim's page: status %d", rec.Code)
	}
	got, err := ts.store.Claim(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Evidence) != 0 || got.Version != 1 {
		t.Errorf("after the refusals: %+v, want the claim as it was", got)
	}
	all, err := ts.store.Claims(context.Background(), annotations.ClaimFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 {
		t.Errorf("after the refusals: %d claims, want the one", len(all))
	}
}

// evidenceFeatures reads the features of a GeoJSON export with the evidence and the
// release's claims they carry.
type evidenceFeatures struct {
	Features []struct {
		ID         string `json:"id"`
		Properties struct {
			Evidence []struct {
				EvidenceID string  `json:"evidence_id"`
				ClaimID    string  `json:"claim_id"`
				ClaimText  string  `json:"claim_text"`
				Stance     string  `json:"stance"`
				Confidence float64 `json:"confidence"`
				Assessment string  `json:"assessment"`
			} `json:"evidence"`
			Metadata   map[string]string `json:"metadata"`
			Provenance struct {
				Claim  string `json:"claim"`
				Claims []struct {
					ID, Text, State string
					Evidence        int
				} `json:"claims"`
			} `json:"provenance"`
		} `json:"properties"`
	} `json:"features"`
}

func TestExportGeoJSONCarriesClaimsAndEvidence(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	a := ts.uploadScene(t, 4000, 3000, 1, field("claim", "landing ships transported troops 8–13 October"))
	ts.putGeoref(t, a.ID, "affine", vladivostok6)
	b := ts.newImage(t, 2)
	ship := ts.createAnnotation(t, a.ID, shipBox)
	quay := ts.createAnnotation(t, a.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [400, 300]}}`)
	elsewhere := ts.createAnnotation(t, b.ID, shipBox)
	claims, err := ts.store.Claims(context.Background(), annotations.ClaimFilter{SourceID: a.Source.ID})
	if err != nil || len(claims) != 1 {
		t.Fatalf("the upload's claim: %v, %v", claims, err)
	}
	first := claims[0]
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/sources/"+a.Source.ID+"/claims", `{"text": "the troops embarked at Vladivostok"}`)
	wantStatus(t, rec, http.StatusCreated)
	var second claimAnswer
	decode(t, rec, &second)
	for _, l := range []struct{ claim, body string }{
		{first.ID, `{"annotation_id": "` + ship.ID + `", "stance": "supports", "assessment": "ramps down", "confidence": 0.8}`},
		{second.ID, `{"annotation_id": "` + ship.ID + `", "stance": "contradicts", "assessment": "Nakhodka's quay, not Vladivostok's", "confidence": 0.3}`},
	} {
		wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/claims/"+l.claim+"/evidence", l.body), http.StatusCreated)
	}

	check := func(t *testing.T, fc evidenceFeatures, wantFeatures int) {
		t.Helper()
		if len(fc.Features) != wantFeatures {
			t.Fatalf("got %d features, want %d", len(fc.Features), wantFeatures)
		}
		for _, f := range fc.Features {
			p := f.Properties
			switch f.ID {
			case ship.ID:
				if len(p.Evidence) != 2 {
					t.Fatalf("the ship's evidence: %+v, want its two links", p.Evidence)
				}
				e, c := p.Evidence[0], p.Evidence[1]
				if e.ClaimID != first.ID || e.ClaimText != first.Text || e.Stance != "supports" || e.Confidence != 0.8 || e.Assessment != "ramps down" ||
					c.ClaimID != second.ID || c.Stance != "contradicts" || c.Confidence != 0.3 {
					t.Errorf("the ship's evidence: %+v", p.Evidence)
				}
				if p.Metadata != nil && !strings.Contains(p.Metadata["evidence"], first.ID) {
					t.Errorf("QuPath's metadata: %v, want the evidence in it", p.Metadata)
				}
			case quay.ID, elsewhere.ID:
				if len(p.Evidence) != 0 {
					t.Errorf("%s: evidence %+v, want none", f.ID, p.Evidence)
				}
			}
			switch f.ID {
			case ship.ID, quay.ID:
				cs := p.Provenance.Claims
				if len(cs) != 2 || cs[0].ID != first.ID || cs[0].State != "supported" || cs[0].Evidence != 1 ||
					cs[1].ID != second.ID || cs[1].State != "contradicted" || cs[1].Text != "the troops embarked at Vladivostok" || p.Provenance.Claim != first.Text {
					t.Errorf("%s: provenance claims %+v (claim %q), want the release's two", f.ID, cs, p.Provenance.Claim)
				}
			case elsewhere.ID:
				if len(p.Provenance.Claims) != 0 {
					t.Errorf("a release without claims: %+v", p.Provenance.Claims)
				}
			}
		}
	}
	for _, tc := range []struct {
		name, target string
		features     int
	}{
		{"ok, one image in pixels", "/api/v1/images/" + a.ID + "/annotations.geojson", 2},
		{"ok, one image on the earth", "/api/v1/images/" + a.ID + "/annotations.geojson?crs=wgs84", 2},
		{"ok, the collection", "/api/v1/export.geojson?crs=pixel", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, tc.target, nil)
			wantStatus(t, rec, http.StatusOK)
			var fc evidenceFeatures
			decode(t, rec, &fc)
			check(t, fc, tc.features)
		})
	}
}

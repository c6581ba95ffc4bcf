package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/server"
)

// Who may do what: the least role of every route, asked by everyone; who may read the
// image service's pixels; and a viewer, whatever they send, changing nothing.

// routeRoles is the least role of every route, as issue 5 sets them out. It is the test's
// own list: a route added to routes.go, or whose role changes there, fails the test until
// it is written down here too.
var routeRoles = map[string]string{
	"GET /login":           "",
	"POST /login":          "",
	"POST /logout":         "",
	"GET /static/*":        "",
	"GET /api/v1/health":   "",
	"POST /api/v1/session": "",

	"GET /":                        "viewer",
	"GET /images/:id":              "viewer",
	"GET /images/:id/georeference": "analyst",
	"GET /labels":                  "viewer",
	"GET /map":                     "viewer",
	"GET /account":                 "viewer",
	"GET /users":                   "admin",
	"GET /audit":                   "admin",
	"GET /trash":                   "admin",

	"GET /iiif/3/*":     "viewer",
	"HEAD /iiif/3/*":    "viewer",
	"OPTIONS /iiif/3/*": "",
	"POST /iiif/3/*":    "",
	"PUT /iiif/3/*":     "",
	"DELETE /iiif/3/*":  "",
	"PATCH /iiif/3/*":   "",

	"DELETE /api/v1/session":       "viewer",
	"GET /api/v1/me":               "viewer",
	"PUT /api/v1/me/password":      "viewer",
	"DELETE /api/v1/me/sessions":   "viewer",
	"GET /api/v1/me/tokens":        "viewer",
	"POST /api/v1/me/tokens":       "viewer",
	"DELETE /api/v1/me/tokens/:id": "viewer",
	"GET /api/v1/users":            "admin",
	"POST /api/v1/users":           "admin",
	"PATCH /api/v1/users/:id":      "admin",
	"GET /api/v1/audit":            "admin",

	"GET /api/v1/images":                 "viewer",
	"POST /api/v1/images":                "analyst",
	"GET /api/v1/images/:id":             "viewer",
	"PATCH /api/v1/images/:id":           "analyst",
	"DELETE /api/v1/images/:id":          "admin",
	"GET /api/v1/images/:id/original":    "viewer",
	"GET /api/v1/images/:id/thumbnail":   "viewer",
	"GET /api/v1/images/:id/matches":     "viewer",
	"POST /api/v1/images/:id/pyramid":    "analyst",
	"GET /api/v1/images/:id/display":     "viewer",
	"PUT /api/v1/images/:id/display":     "analyst",
	"GET /api/v1/images/:id/adjustments": "viewer",
	"PUT /api/v1/images/:id/adjustments": "analyst",
	"GET /api/v1/images/:id/events":      "viewer",

	"GET /api/v1/images/:id/coverage":                    "viewer",
	"PUT /api/v1/images/:id/coverage/grid":               "analyst",
	"PUT /api/v1/images/:id/coverage/cells/:col/:row":    "analyst",
	"DELETE /api/v1/images/:id/coverage/cells/:col/:row": "analyst",

	"GET /api/v1/sources":            "viewer",
	"GET /api/v1/trash":              "admin",
	"POST /api/v1/trash/:id/restore": "admin",
	"DELETE /api/v1/trash/:id":       "admin",

	"GET /api/v1/images/:id/georeference":            "viewer",
	"PUT /api/v1/images/:id/georeference":            "analyst",
	"DELETE /api/v1/images/:id/georeference":         "analyst",
	"POST /api/v1/images/:id/georeference/fit":       "analyst",
	"POST /api/v1/images/:id/georeference/suggest":   "analyst",
	"GET /api/v1/images/:id/georeference/worldfile":  "viewer",
	"POST /api/v1/images/:id/georeference/worldfile": "analyst",
	"POST /api/v1/images/:id/measure":                "viewer",
	"GET /api/v1/images/:id/sun":                     "viewer",
	"POST /api/v1/images/:id/shadow":                 "viewer",
	"POST /api/v1/images/:id/wand":                   "analyst",
	"POST /api/v1/images/:id/outline":                "analyst",
	"GET /api/v1/footprints.geojson":                 "viewer",

	"GET /api/v1/labels":        "viewer",
	"POST /api/v1/labels":       "admin",
	"PATCH /api/v1/labels/:id":  "admin",
	"DELETE /api/v1/labels/:id": "admin",

	"GET /api/v1/images/:id/annotations":         "viewer",
	"GET /api/v1/images/:id/annotations/changes": "viewer",
	"GET /api/v1/images/:id/annotations/shapes":  "viewer",
	"POST /api/v1/images/:id/annotations":        "analyst",
	"POST /api/v1/images/:id/annotations/copy":   "analyst",
	"POST /api/v1/images/:id/annotations/bulk":   "analyst",
	"POST /api/v1/images/:id/import":             "analyst",
	"GET /api/v1/annotations/:id":                "viewer",
	"PATCH /api/v1/annotations/:id":              "analyst",
	"DELETE /api/v1/annotations/:id":             "analyst",
	"GET /api/v1/annotations/:id/history":        "viewer",
	"POST /api/v1/annotations/:id/restore":       "analyst",
	"GET /api/v1/annotations/:id/reviews":        "viewer",
	"POST /api/v1/annotations/:id/reviews":       "analyst",
	"GET /api/v1/annotations/:id/comments":       "viewer",
	"POST /api/v1/annotations/:id/comments":      "analyst",

	"POST /api/v1/annotations/:id/similar": "analyst",
	"GET /api/v1/images/:id/suggestions":   "viewer",
	"POST /api/v1/suggestions/:id/accept":  "analyst",
	"POST /api/v1/suggestions/:id/reject":  "analyst",
	"POST /api/v1/suggestions/:id/reopen":  "analyst",

	"GET /api/v1/images/:id/annotations.geojson":   "viewer",
	"GET /api/v1/images/:id/annotations.kml":       "viewer",
	"GET /api/v1/images/:id/annotations.kmz":       "viewer",
	"GET /api/v1/export.geojson":                   "viewer",
	"GET /api/v1/images/:id/annotations.coco.json": "viewer",
	"GET /api/v1/images/:id/annotations.csv":       "viewer",
	"GET /api/v1/images/:id/annotations.cvat.xml":  "viewer",
	"GET /api/v1/images/:id/export":                "viewer",
	"GET /api/v1/images/:id/figure":                "viewer",
	"GET /api/v1/images/:id/bundle.zip":            "viewer",
	"POST /api/v1/images/:id/figure":               "viewer",
	"GET /api/v1/export":                           "viewer",
	"GET /api/v1/dataset.zip":                      "viewer",

	"GET /api/v1/images/:id/iiif/manifest.json":        "viewer",
	"GET /api/v1/images/:id/iiif/annotations.json":     "viewer",
	"GET /api/v1/iiif/manifest.json":                   "viewer",
	"OPTIONS /api/v1/images/:id/iiif/manifest.json":    "",
	"OPTIONS /api/v1/images/:id/iiif/annotations.json": "",
	"OPTIONS /api/v1/iiif/manifest.json":               "",

	"GET /tiles/:id/:z/:x/:y":                           "viewer",
	"GET /sites":                                        "viewer",
	"GET /sites/:id":                                    "viewer",
	"GET /claims/:id":                                   "viewer",
	"GET /sites/:id/compare":                            "viewer",
	"GET /api/v1/tles":                                  "viewer",
	"POST /api/v1/tles":                                 "analyst",
	"DELETE /api/v1/tles/:id":                           "analyst",
	"GET /api/v1/images/:id/passes":                     "viewer",
	"GET /api/v1/sources/:id/claims":                    "viewer",
	"POST /api/v1/sources/:id/claims":                   "analyst",
	"GET /api/v1/claims":                                "viewer",
	"GET /api/v1/claims/:id":                            "viewer",
	"PATCH /api/v1/claims/:id":                          "analyst",
	"DELETE /api/v1/claims/:id":                         "analyst",
	"GET /api/v1/claims/:id/history":                    "viewer",
	"POST /api/v1/claims/:id/evidence":                  "analyst",
	"GET /api/v1/evidence/:id":                          "viewer",
	"PATCH /api/v1/evidence/:id":                        "analyst",
	"DELETE /api/v1/evidence/:id":                       "analyst",
	"GET /api/v1/tracks":                                "viewer",
	"POST /api/v1/tracks":                               "analyst",
	"GET /api/v1/tracks.geojson":                        "viewer",
	"GET /api/v1/tracks/:id":                            "viewer",
	"PATCH /api/v1/tracks/:id":                          "analyst",
	"DELETE /api/v1/tracks/:id":                         "analyst",
	"PUT /api/v1/tracks/:id/annotations/:annotation":    "analyst",
	"DELETE /api/v1/tracks/:id/annotations/:annotation": "analyst",
	"GET /api/v1/sites":                                 "viewer",
	"POST /api/v1/sites":                                "analyst",
	"GET /api/v1/sites/:id":                             "viewer",
	"PATCH /api/v1/sites/:id":                           "analyst",
	"DELETE /api/v1/sites/:id":                          "analyst",
	"GET /api/v1/sites/:id/area.geojson":                "viewer",
	"PUT /api/v1/sites/:id/images/:image":               "analyst",
	"DELETE /api/v1/sites/:id/images/:image":            "analyst",
}

// streamRecorder ends the request as soon as the response has begun, so that a stream
// (the live events) answers and returns instead of waiting for events.
type streamRecorder struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
}

func (r *streamRecorder) WriteHeader(code int) {
	r.ResponseRecorder.WriteHeader(code)
	r.cancel()
}

// Every route, asked by everyone: anonymous, each role, a revoked token and sessions
// past their expiry. Each is refused or let through as its least role says.
func TestEveryRouteNeedsItsRole(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	ctx := context.Background()

	routes := ts.srv.Routes()
	listed := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		listed[key] = true
		want, ok := routeRoles[key]
		switch {
		case !ok:
			t.Errorf("route %s (role %q) has no expectation: add it to routeRoles", key, r.Role)
		case want != r.Role:
			t.Errorf("route %s needs role %q, want %q", key, r.Role, want)
		}
	}
	for key := range routeRoles {
		if !listed[key] {
			t.Errorf("route %s is expected but not served", key)
		}
	}

	// What the routes act on. Reads share one of each; every write gets its own, so that
	// deleting, purging or revoking in one row leaves the next row something to act on.
	img := ts.newImage(t, 1)
	ts.buildPyramids(t)
	ann := ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [3, 4]}}`)
	label := ts.labelByPath(t, "vessel/frigate")
	vera := ts.addUser(t, "vera", annotations.RoleViewer)
	seed, n := 2, 0
	create := map[string]func(t *testing.T, owner annotations.User) string{
		"images": func(t *testing.T, _ annotations.User) string {
			seed++
			return ts.newImage(t, seed).ID
		},
		"trash": func(t *testing.T, _ annotations.User) string {
			seed++
			id := ts.newImage(t, seed).ID
			if _, err := ts.store.TrashImage(ctx, annotations.Actor{Name: "tester"}, id); err != nil {
				t.Fatal(err)
			}
			return id
		},
		"annotations": func(t *testing.T, _ annotations.User) string {
			return ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [5, 6]}}`).ID
		},
		"suggestions": func(t *testing.T, _ annotations.User) string {
			sg, err := ts.store.AddSuggestions(ctx, annotations.Actor{Name: "tester"}, ann,
				[]annotations.FoundPlace{{Shape: annotations.ShapePoint, Geometry: annotations.PointGeometry(annotations.Position{7, 8}), Score: 0.8}})
			if err != nil {
				t.Fatal(err)
			}
			return sg[0].ID
		},
		"labels": func(t *testing.T, _ annotations.User) string {
			n++
			name := fmt.Sprintf("row label %d", n)
			l, err := ts.store.CreateLabel(ctx, annotations.Actor{Name: "tester"}, annotations.LabelInput{Name: &name})
			if err != nil {
				t.Fatal(err)
			}
			return l.ID
		},
		"sites": func(t *testing.T, _ annotations.User) string {
			n++
			name := fmt.Sprintf("row site %d", n)
			area := annotations.PolygonGeometry([]annotations.Position{{0, 0}, {1, 0}, {1, 1}, {0, 0}})
			st, err := ts.store.CreateSite(ctx, annotations.Actor{Name: "tester"}, annotations.SiteInput{Name: &name, Area: &area})
			if err != nil {
				t.Fatal(err)
			}
			return st.ID
		},
		"tracks": func(t *testing.T, _ annotations.User) string {
			n++
			name := fmt.Sprintf("row track %d", n)
			tr, err := ts.store.CreateTrack(ctx, annotations.Actor{Name: "tester"}, annotations.TrackInput{Name: &name}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return tr.ID
		},
		"sources": func(t *testing.T, _ annotations.User) string { return img.Source.ID },
		"claims": func(t *testing.T, _ annotations.User) string {
			c, err := ts.store.CreateClaim(ctx, annotations.Actor{Name: "tester"}, img.Source.ID, annotations.ClaimInput{Text: ptr("row claim")})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		},
		"evidence": func(t *testing.T, _ annotations.User) string {
			c, err := ts.store.CreateClaim(ctx, annotations.Actor{Name: "tester"}, img.Source.ID, annotations.ClaimInput{Text: ptr("row claim")})
			if err != nil {
				t.Fatal(err)
			}
			e, err := ts.store.LinkEvidence(ctx, annotations.Actor{Name: "tester"}, c.ID, annotations.EvidenceInput{AnnotationID: ann.ID, Stance: ptr(annotations.StanceSupports)})
			if err != nil {
				t.Fatal(err)
			}
			return e.ID
		},
		"tles": func(t *testing.T, _ annotations.User) string {
			n++
			added, err := ts.store.AddTLEs(ctx, annotations.Actor{Name: "tester"}, []annotations.TLEInput{{
				Name: "row satellite", NoradID: n, Epoch: time.Date(2024, 10, 8, 0, 0, 0, 0, time.UTC),
				Line1: fmt.Sprintf("1 %05dU 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753", n),
				Line2: fmt.Sprintf("2 %05d  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667", n),
			}})
			if err != nil {
				t.Fatal(err)
			}
			return added[0].ID
		},
		"users": func(t *testing.T, _ annotations.User) string {
			n++
			return ts.addUser(t, fmt.Sprintf("row user %d", n), annotations.RoleViewer).ID
		},
		"tokens": func(t *testing.T, owner annotations.User) string {
			_, hash := annotations.NewAPIToken()
			tok, err := ts.store.CreateToken(ctx, annotations.Actor{Name: "tester"}, owner.ID, "row", hash)
			if err != nil {
				t.Fatal(err)
			}
			return tok.ID
		},
	}
	siteName, siteArea := "shared site", annotations.PolygonGeometry([]annotations.Position{{0, 0}, {1, 0}, {1, 1}, {0, 0}})
	site, err := ts.store.CreateSite(ctx, annotations.Actor{Name: "tester"}, annotations.SiteInput{Name: &siteName, Area: &siteArea})
	if err != nil {
		t.Fatal(err)
	}
	trackName := "shared track"
	sharedTrack, err := ts.store.CreateTrack(ctx, annotations.Actor{Name: "tester"}, annotations.TrackInput{Name: &trackName}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sharedClaim, err := ts.store.CreateClaim(ctx, annotations.Actor{Name: "tester"}, img.Source.ID, annotations.ClaimInput{Text: ptr("shared claim")})
	if err != nil {
		t.Fatal(err)
	}
	sharedEvidence, err := ts.store.LinkEvidence(ctx, annotations.Actor{Name: "tester"}, sharedClaim.ID, annotations.EvidenceInput{AnnotationID: ann.ID, Stance: ptr(annotations.StanceSupports)})
	if err != nil {
		t.Fatal(err)
	}
	shared := map[string]string{"sources": img.Source.ID, "claims": sharedClaim.ID, "evidence": sharedEvidence.ID, "images": img.ID, "annotations": ann.ID, "labels": label.ID, "users": vera.ID, "sites": site.ID, "tiles": img.ID, "tracks": sharedTrack.ID}
	wildcards := map[string]string{"/iiif/3": img.ID + "/info.json", "/static": "app.css"}

	// target fills a route's path with real ids: shared ones for reads, new ones for writes.
	target := func(t *testing.T, r server.Route, owner annotations.User) string {
		t.Helper()
		segs := strings.Split(r.Path, "/")
		for i, s := range segs {
			switch {
			case s == "*":
				w, ok := wildcards[strings.Join(segs[:i], "/")]
				if !ok {
					t.Fatalf("no target for the wildcard of %s: add one to wildcards", r.Path)
				}
				segs[i] = w
			case s == ":z" || s == ":x" || s == ":col" || s == ":row":
				segs[i] = "0"
			case s == ":y":
				segs[i] = "0.png"
			case strings.HasPrefix(s, ":"):
				collection := segs[i-1]
				if id, ok := shared[collection]; ok && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
					segs[i] = id
					continue
				}
				maker, ok := create[collection]
				if !ok {
					t.Fatalf("nothing to put for %s in %s: add a maker for %q", s, r.Path, collection)
				}
				segs[i] = maker(t, owner)
			}
		}
		return strings.Join(segs, "/")
	}

	user := func(name string) annotations.User {
		u, err := ts.store.UserByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	bearer := func(token string) func(t *testing.T) []string {
		return func(*testing.T) []string { return []string{"Authorization", "Bearer " + token} }
	}
	viewerToken := ts.userToken(t, "vera", annotations.RoleViewer)
	analystToken := ts.userToken(t, "ana", annotations.RoleAnalyst)
	revoked := ts.userToken(t, "rex", annotations.RoleAdmin)
	rexTokens, err := ts.store.Tokens(ctx, user("rex").ID)
	if err != nil || len(rexTokens) != 1 {
		t.Fatalf("rex's tokens: %v (%v)", rexTokens, err)
	}
	if err := ts.store.RevokeToken(ctx, annotations.Actor{Name: "tester"}, user("rex").ID, rexTokens[0].ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	type caller struct {
		name    string
		rank    int    // the caller's role rank; 0 when not signed in at all
		code    string // the API error code when not signed in
		expired bool   // a session that has ended: its cookie must be cleared
		owner   annotations.User
		headers func(t *testing.T) []string
	}
	callers := []caller{
		{name: "anonymous", code: "unauthenticated", owner: user("tester"),
			headers: func(*testing.T) []string { return []string{"Authorization", ""} }},
		{name: "viewer", rank: 1, owner: user("vera"), headers: bearer(viewerToken)},
		{name: "analyst", rank: 2, owner: user("ana"), headers: bearer(analystToken)},
		{name: "admin", rank: 3, owner: user("tester"), headers: bearer(ts.token)},
		{name: "analyst signed in", rank: 2, owner: user("ana"), headers: func(t *testing.T) []string {
			return ts.plantSession(t, "ana", now, now.Add(time.Hour)).headers()
		}},
		{name: "revoked token", code: "token_revoked", owner: user("rex"), headers: bearer(revoked)},
		{name: "session past its end", code: "session_expired", expired: true, owner: user("tester"), headers: func(t *testing.T) []string {
			return ts.plantSession(t, "tester", now.Add(-time.Hour), now.Add(-time.Minute)).headers()
		}},
		{name: "session idle too long", code: "session_expired", expired: true, owner: user("tester"), headers: func(t *testing.T) []string {
			return ts.plantSession(t, "tester", now.Add(-8*24*time.Hour), now.Add(20*24*time.Hour)).headers()
		}},
	}
	ranks := map[string]int{"": 0, "viewer": 1, "analyst": 2, "admin": 3}

	for _, r := range routes {
		want := routeRoles[r.Method+" "+r.Path]
		page := r.Method == http.MethodGet && !strings.HasPrefix(r.Path, "/api/") && !strings.HasPrefix(r.Path, "/iiif/")
		for _, c := range callers {
			var verdict string
			switch {
			case want == "":
				verdict = "ok, open to anyone"
			case c.rank == 0:
				verdict = "nok, signed out"
			case c.rank < ranks[want]:
				verdict = "nok, role too low"
			default:
				verdict = "ok, role enough"
			}
			t.Run(fmt.Sprintf("%s, %s %s as %s", verdict, r.Method, r.Path, c.name), func(t *testing.T) {
				path := target(t, r, c.owner)
				req := httptest.NewRequest(r.Method, path, nil)
				headers := c.headers(t)
				for i := 0; i+1 < len(headers); i += 2 {
					if headers[i+1] != "" {
						req.Header.Set(headers[i], headers[i+1])
					}
				}
				if page {
					req.Header.Set("Accept", "text/html")
				}
				reqCtx, cancel := context.WithCancel(req.Context())
				defer cancel()
				rec := &streamRecorder{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
				ts.srv.ServeHTTP(rec, req.WithContext(reqCtx))
				got := rec.ResponseRecorder

				switch verdict {
				case "ok, open to anyone", "ok, role enough":
					if got.Code == http.StatusUnauthorized || got.Code == http.StatusForbidden || got.Code >= 500 {
						t.Errorf("status = %d, want the handler's answer; body: %s", got.Code, truncate(got.Body.String(), 300))
					}
				case "nok, role too low":
					if got.Code != http.StatusForbidden {
						t.Fatalf("status = %d, want 403; body: %s", got.Code, truncate(got.Body.String(), 300))
					}
					if strings.HasPrefix(r.Path, "/api/") && errorCode(got) != "forbidden" {
						t.Errorf("error code = %q, want forbidden", errorCode(got))
					}
				case "nok, signed out":
					if page {
						wantSignInRedirect(t, got, path)
					} else {
						if got.Code != http.StatusUnauthorized {
							t.Fatalf("status = %d, want 401; body: %s", got.Code, truncate(got.Body.String(), 300))
						}
						if strings.HasPrefix(r.Path, "/api/") && errorCode(got) != c.code {
							t.Errorf("error code = %q, want %q", errorCode(got), c.code)
						}
					}
					if c.expired {
						wantCookieCleared(t, got)
					}
				}
			})
		}
	}
}

// tilePath is a request for the one tile of a 64×48 image.
func tilePath(id string) string { return "/iiif/3/" + id + "/0,0,64,48/64,48/0/default.jpg" }

// wantTile checks an answer holding a pyramid tile (not a render), which is then kept in
// memory for the fast path.
func wantTile(t *testing.T, rec *httptest.ResponseRecorder, sha, cacheControl string) {
	t.Helper()
	wantStatus(t, rec, http.StatusOK)
	if etag := rec.Header().Get("Etag"); !strings.HasPrefix(etag, `"`+sha[:16]+"-") {
		t.Fatalf("ETag %q, want a tile's (the request must name a whole tile)", etag)
	}
	if got := rec.Header().Get("Cache-Control"); got != cacheControl {
		t.Errorf("Cache-Control = %q, want %q", got, cacheControl)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff on tiles too (from memory or not)", got)
	}
	decodeJPEGConfig(t, rec)
}

func TestImageServiceAccess(t *testing.T) {
	const private, public = "private, max-age=31536000, immutable", "public, max-age=31536000, immutable"

	t.Run("ok, private by default; memory never serves the signed out", func(t *testing.T) {
		ts := newTestServer(t, smallLimits)
		// A JPEG: its tiles never change (a raster read through GDAL, PNG among them, has
		// them revalidated, as they change with its display).
		img := ts.mustUpload(t, filePart("scene.jpg", jpegBytes(t, 64, 48, 1)))
		ts.buildPyramids(t)
		wantTile(t, ts.do(t, http.MethodGet, tilePath(img.ID), nil), img.SHA256, private)
		// The tile is now kept in memory; asking again is answered from there.
		wantTile(t, ts.do(t, http.MethodGet, tilePath(img.ID), nil), img.SHA256, private)

		rec := ts.do(t, http.MethodGet, tilePath(img.ID), nil, "Authorization", "")
		wantStatus(t, rec, http.StatusUnauthorized)
		if bytes.HasPrefix(rec.Body.Bytes(), []byte{0xFF, 0xD8}) {
			t.Errorf("an anonymous request got the tile's pixels")
		}
		wantStatus(t, ts.do(t, http.MethodHead, tilePath(img.ID), nil, "Authorization", ""), http.StatusUnauthorized)
		wantStatus(t, ts.do(t, http.MethodGet, tilePath(img.ID), nil, "Authorization", "Bearer smk_forged"), http.StatusUnauthorized)
		wantStatus(t, ts.do(t, http.MethodGet, tilePath(img.ID), nil, "Authorization", "", "Cookie", "satmark_session="+randomText(t)), http.StatusUnauthorized)
		wantStatus(t, ts.do(t, http.MethodGet, "/iiif/3/"+img.ID+"/info.json", nil, "Authorization", ""), http.StatusUnauthorized)

		// Nor someone who must first choose a password, whom the router also refuses.
		rec = ts.doJSON(t, http.MethodPost, "/api/v1/users", `{"name": "newbie", "role": "viewer"}`)
		wantStatus(t, rec, http.StatusCreated)
		var created struct{ Password string }
		decode(t, rec, &created)
		b := ts.signIn(t, "newbie", created.Password)
		wantStatus(t, ts.do(t, http.MethodGet, "/iiif/3/"+img.ID+"/info.json", nil, b.headers()...), http.StatusForbidden)
		if rec := ts.do(t, http.MethodGet, tilePath(img.ID), nil, b.headers()...); rec.Code != http.StatusForbidden {
			t.Errorf("a tile held in memory for a user who must change their password: status %d, want 403 as the router says", rec.Code)
		}

		viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}
		wantTile(t, ts.do(t, http.MethodGet, tilePath(img.ID), nil, viewer...), img.SHA256, private)
	})

	t.Run("ok, PublicIIIF lets anyone read pixels, and only pixels", func(t *testing.T) {
		ts := newTestServerWith(t, server.Options{PublicIIIF: true})
		img := ts.mustUpload(t, filePart("scene.jpg", jpegBytes(t, 64, 48, 1)))
		ts.buildPyramids(t)
		anonymous := []string{"Authorization", ""}
		wantStatus(t, ts.do(t, http.MethodGet, "/iiif/3/"+img.ID+"/info.json", nil, anonymous...), http.StatusOK)
		wantTile(t, ts.do(t, http.MethodGet, tilePath(img.ID), nil, anonymous...), img.SHA256, public)
		wantTile(t, ts.do(t, http.MethodGet, tilePath(img.ID), nil, anonymous...), img.SHA256, public)
		wantTile(t, ts.do(t, http.MethodGet, tilePath(img.ID), nil), img.SHA256, public)
		for _, target := range []string{"/api/v1/images/" + img.ID, "/api/v1/images/" + img.ID + "/annotations", "/api/v1/images/" + img.ID + "/original"} {
			wantError(t, ts.do(t, http.MethodGet, target, nil, anonymous...), http.StatusUnauthorized, "unauthenticated", "")
		}
	})
}

// teamState is what a refused write must leave alone besides the files and row counts
// of snapshot: every image, annotation, review, comment, georeference, label and account
// as stored.
func (ts *testServer) teamState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id || ' ' || title || ' ' || deleted_at || ' ' || COALESCE(gsd_m, '') FROM images ORDER BY id`,
		`SELECT id || ' v' || version || ' ' || review_status || ' ' || note FROM annotations ORDER BY id`,
		`SELECT id || ' ' || status || ' ' || decided_by FROM suggestions ORDER BY id`,
		`SELECT annotation_id || ' ' || decision FROM reviews ORDER BY id`,
		`SELECT id || ' ' || body FROM comments ORDER BY id`,
		`SELECT image_id || ' ' || method FROM georeferences ORDER BY image_id`,
		`SELECT image_id || ' ' || kind || ' ' || state FROM jobs ORDER BY id`,
		`SELECT id || ' ' || name || ' ' || color FROM labels ORDER BY id`,
		`SELECT name || ' ' || role || ' ' || disabled FROM users ORDER BY id`,
		`SELECT id || ' ' || revoked_at FROM api_tokens ORDER BY id`,
	} {
		rows, err := ts.store.DB().Query(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			b.WriteString(s + "\n")
		}
		rows.Close()
		b.WriteString("--\n")
	}
	return b.String()
}

// A viewer reads; nothing they send changes anything, whether from a page or a script.
func TestViewerChangesNothing(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 1)
	ts.buildPyramids(t)
	a := ts.createAnnotation(t, img.ID, pointBody, ts.as(t, "alice")...)
	wantStatus(t, ts.review(t, a.ID, `{"decision": "submitted", "version": 1}`, ts.as(t, "alice")...), http.StatusOK)
	wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/georeference", `{"gsd_m": 0.5}`), http.StatusOK)
	trashed := ts.newImage(t, 2)
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+trashed.ID, nil), http.StatusNoContent)
	label := ts.labelByPath(t, "vessel/frigate")
	suggested, err := ts.store.AddSuggestions(context.Background(), annotations.Actor{Name: "alice"}, a,
		[]annotations.FoundPlace{{Shape: annotations.ShapePoint, Geometry: annotations.PointGeometry(annotations.Position{20, 20}), Score: 0.8}})
	if err != nil {
		t.Fatal(err)
	}
	vera := ts.addUser(t, "vera", annotations.RoleViewer)
	upload, uploadType := multipartBody(t, filePart("new.png", pngBytes(t, 64, 48, 3)))
	uploadBytes := upload.Bytes()
	worldfile, worldfileType := multipartBody(t, field("worldfile", "0.5\n0\n0\n-0.5\n100\n200\n"), field("crs", "EPSG:32652"))
	worldfileBytes := worldfile.Bytes()

	requests := []struct {
		name, method, target, contentType string
		body                              []byte
	}{
		{"nok, upload", http.MethodPost, "/api/v1/images", uploadType, uploadBytes},
		{"nok, edit an image's provenance", http.MethodPatch, "/api/v1/images/" + img.ID, "application/json", []byte(`{"title": "renamed"}`)},
		{"nok, delete an image", http.MethodDelete, "/api/v1/images/" + img.ID, "", nil},
		{"nok, rebuild a pyramid", http.MethodPost, "/api/v1/images/" + img.ID + "/pyramid", "", nil},
		{"nok, choose the display", http.MethodPut, "/api/v1/images/" + img.ID + "/display", "application/json", []byte(`{"bands": [1]}`)},
		{"nok, adjust the image", http.MethodPut, "/api/v1/images/" + img.ID + "/adjustments", "application/json", []byte(`{"contrast": 0.5}`)},
		{"nok, lay a search grid", http.MethodPut, "/api/v1/images/" + img.ID + "/coverage/grid", "application/json", []byte(`{"cell_px": 16}`)},
		{"nok, mark a cell searched", http.MethodPut, "/api/v1/images/" + img.ID + "/coverage/cells/0/0", "", nil},
		{"nok, unmark a cell", http.MethodDelete, "/api/v1/images/" + img.ID + "/coverage/cells/0/0", "", nil},
		{"nok, annotate", http.MethodPost, "/api/v1/images/" + img.ID + "/annotations", "application/json", []byte(pointBody)},
		{"nok, change an annotation", http.MethodPatch, "/api/v1/annotations/" + a.ID, "application/json", []byte(`{"version": 2, "properties": {"note": "mine now"}}`)},
		{"nok, delete an annotation", http.MethodDelete, "/api/v1/annotations/" + a.ID + "?version=2", "", nil},
		{"nok, restore a version", http.MethodPost, "/api/v1/annotations/" + a.ID + "/restore", "application/json", []byte(`{"version": 1, "current": 2}`)},
		{"nok, review", http.MethodPost, "/api/v1/annotations/" + a.ID + "/reviews", "application/json", []byte(`{"decision": "accepted", "version": 2}`)},
		{"nok, comment", http.MethodPost, "/api/v1/annotations/" + a.ID + "/comments", "application/json", []byte(`{"body": "I only read"}`)},
		{"nok, find similar", http.MethodPost, "/api/v1/annotations/" + a.ID + "/similar", "", nil},
		{"nok, accept a suggestion", http.MethodPost, "/api/v1/suggestions/" + suggested[0].ID + "/accept", "", nil},
		{"nok, reject a suggestion", http.MethodPost, "/api/v1/suggestions/" + suggested[0].ID + "/reject", "", nil},
		{"nok, georeference", http.MethodPut, "/api/v1/images/" + img.ID + "/georeference", "application/json", []byte(`{"gsd_m": 2}`)},
		{"nok, remove a georeference", http.MethodDelete, "/api/v1/images/" + img.ID + "/georeference", "", nil},
		{"nok, place by world file", http.MethodPost, "/api/v1/images/" + img.ID + "/georeference/worldfile", worldfileType, worldfileBytes},
		{"nok, add a label", http.MethodPost, "/api/v1/labels", "application/json", []byte(`{"name": "balloon"}`)},
		{"nok, recolour a label", http.MethodPatch, "/api/v1/labels/" + label.ID, "application/json", []byte(`{"color": "#000000"}`)},
		{"nok, delete a label", http.MethodDelete, "/api/v1/labels/" + label.ID, "", nil},
		{"nok, add a user", http.MethodPost, "/api/v1/users", "application/json", []byte(`{"name": "sock puppet", "role": "admin"}`)},
		{"nok, promote oneself", http.MethodPatch, "/api/v1/users/" + vera.ID, "application/json", []byte(`{"role": "admin"}`)},
		{"nok, restore from the trash", http.MethodPost, "/api/v1/trash/" + trashed.ID + "/restore", "", nil},
		{"nok, purge the trash", http.MethodDelete, "/api/v1/trash/" + trashed.ID, "", nil},
	}
	viewers := map[string][]string{
		"API token": {"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)},
		"session":   ts.signIn(t, "vera", testPassword).headers(),
	}
	before, beforeState := ts.snapshot(t), ts.teamState(t)
	for via, headers := range viewers {
		for _, r := range requests {
			t.Run(r.name+" via "+via, func(t *testing.T) {
				h := headers
				if r.contentType != "" {
					h = append([]string{"Content-Type", r.contentType}, headers...)
				}
				rec := ts.do(t, r.method, r.target, bytes.NewReader(r.body), h...)
				wantError(t, rec, http.StatusForbidden, "forbidden", "", "viewer")
			})
		}
	}
	ts.wantUnchanged(t, before)
	if after := ts.teamState(t); after != beforeState {
		t.Errorf("a viewer changed what is stored:\n got %s\nwant %s", after, beforeState)
	}
}

package server_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
)

func wantHTML(t *testing.T, ts *testServer, target string) string {
	t.Helper()
	rec := ts.do(t, http.MethodGet, target, nil, "Accept", "text/html")
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type = %q, want text/html", target, ct)
	}
	return rec.Body.String()
}

func TestPages(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	body := wantHTML(t, ts, "/")
	if !strings.Contains(body, "0 images") || !strings.Contains(body, `action="/api/v1/images"`) {
		t.Errorf("empty gallery does not say 0 images or offer the upload form")
	}

	img := ts.newImage(t, 300, field("title", "Landing ships at Vladivostok"), field("publisher", "NIS"),
		field("released_at", "2024-10-18"), field("claim", "four landing ships"))
	ts.createAnnotation(t, img.ID, `{"label": "frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [1, 1]}}`)

	body = wantHTML(t, ts, "/")
	if !strings.Contains(body, "waiting to prepare tiles") || strings.Contains(body, "/api/v1/images/"+img.ID+"/thumbnail") {
		t.Errorf("gallery does not say the image's tiles are waiting, or links a thumbnail that is not there yet")
	}
	ts.buildPyramids(t)
	body = wantHTML(t, ts, "/")
	for _, want := range []string{"1 image,", "1 annotation", "Landing ships at Vladivostok", "/images/" + img.ID,
		"/api/v1/images/" + img.ID + "/thumbnail", "vessel › landing ship", "2024-10-18"} {
		if !strings.Contains(body, want) {
			t.Errorf("gallery does not show %q", want)
		}
	}

	body = wantHTML(t, ts, "/images/"+img.ID)
	for _, want := range []string{`data-image-id="` + img.ID + `"`, `data-width="64"`, `data-height="48"`,
		"<title>Landing ships at Vladivostok · satmark</title>", "four landing ships", img.SHA256} {
		if !strings.Contains(body, want) {
			t.Errorf("annotator page does not show %q", want)
		}
	}

	body = wantHTML(t, ts, "/labels")
	for _, want := range []string{"personnel › troop formation", `value="#f032e6"`, "facility › naval base"} {
		if !strings.Contains(body, want) {
			t.Errorf("labels page does not show %q", want)
		}
	}
}

func TestPagesSayWhenTheFrontEndIsNotBuilt(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		wantBanner bool
	}{
		{"nok, no bundle", nil, true},
		{"ok, bundle built", map[string]string{"dist/annotator.js": "export {};", "dist/app.css": "body{}"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServerWithAssets(t, smallLimits, assetsWith(t, tc.files))
			body := wantHTML(t, ts, "/")
			if got := strings.Contains(body, "make web"); got != tc.wantBanner {
				t.Errorf("banner about the unbuilt front end shown = %v, want %v", got, tc.wantBanner)
			}
		})
	}
}

func TestUnknownPageIsAnHTMLErrorForBrowsers(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	rec := ts.do(t, http.MethodGet, "/images/img_aaaaaaaaaaaa", nil, "Accept", "text/html,application/xhtml+xml")
	wantStatus(t, rec, http.StatusNotFound)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(rec.Body.String(), "not found") {
		t.Errorf("browser got %q: %s; want an HTML page saying the image was not found", ct, truncate(rec.Body.String(), 300))
	}
	// A script asking for JSON gets JSON.
	wantError(t, ts.do(t, http.MethodGet, "/images/img_aaaaaaaaaaaa", nil), http.StatusNotFound, "not_found", "")
	// The API always answers JSON, even to a browser.
	wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/img_aaaaaaaaaaaa", nil, "Accept", "text/html"), http.StatusNotFound, "not_found", "")
}

func TestStaticFiles(t *testing.T) {
	ts := newTestServerWithAssets(t, smallLimits, assetsWith(t, map[string]string{
		"dist/annotator.js": "export const annotator = 1;",
		"dist/app.css":      "body { margin: 0 }",
		"dist/.hidden":      "secret",
	}))
	rec := ts.do(t, http.MethodGet, "/static/app.css", nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/css") || rec.Body.String() != "body { margin: 0 }" {
		t.Errorf("app.css served as %q: %q", ct, rec.Body)
	}
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatalf("no ETag on a static file")
	}
	wantStatus(t, ts.do(t, http.MethodGet, "/static/app.css", nil, "If-None-Match", etag), http.StatusNotModified)
	rec = ts.do(t, http.MethodGet, "/static/annotator.js", nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("annotator.js served as %q, want JavaScript", ct)
	}
	for _, target := range []string{"/static/missing.js", "/static/.hidden", "/static/", "/static/../templates/layout.html",
		"/static/%2e%2e/templates/layout.html", "/static/..%2Ftemplates%2Flayout.html"} {
		rec := ts.do(t, http.MethodGet, target, nil)
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, rec.Code)
		}
		if strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "{{define") {
			t.Errorf("GET %s leaked a file: %s", target, truncate(rec.Body.String(), 200))
		}
	}
}

// TestPathTricksNeverReachFiles sends ids that try to climb out of a folder to every
// route that takes an id.
func TestPathTricksNeverReachFiles(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 310)
	ts.buildPyramids(t) // so that the image service serves it
	ann := ts.createAnnotation(t, img.ID, `{"label": "frigate", "shape": "point", "geometry": {"type": "Point", "coordinates": [1, 1]}}`)
	passwd, _ := os.ReadFile("/etc/passwd")
	firstLine, _, _ := strings.Cut(string(passwd), "\n")
	before := ts.snapshot(t)

	ids := []string{
		"../../etc/passwd",
		"..%2F..%2Fetc%2Fpasswd",
		"%2e%2e",
		"%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"..%5C..%5Cetc%5Cpasswd",
		"%252e%252e%252fetc%252fpasswd",
		"....//....//etc/passwd",
		"%2Fetc%2Fpasswd",
		img.ID + "%2F..%2F..%2F..%2Fetc%2Fpasswd",
		img.ID + "%00",
		"..%00",
	}
	routes := []struct{ method, pattern, body string }{
		{http.MethodGet, "/images/%s", ""},
		{http.MethodGet, "/api/v1/images/%s", ""},
		{http.MethodPatch, "/api/v1/images/%s", `{"title": "x"}`},
		{http.MethodDelete, "/api/v1/images/%s", ""},
		{http.MethodGet, "/api/v1/images/%s/original", ""},
		{http.MethodGet, "/api/v1/images/%s/thumbnail", ""},
		{http.MethodPost, "/api/v1/images/%s/pyramid", ""},
		{http.MethodGet, "/iiif/3/%s", ""},
		{http.MethodGet, "/iiif/3/%s/info.json", ""},
		{http.MethodGet, "/iiif/3/%s/full/max/0/default.jpg", ""},
		{http.MethodGet, "/api/v1/images/%s/annotations", ""},
		{http.MethodPost, "/api/v1/images/%s/annotations", `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [1, 1]}}`},
		{http.MethodGet, "/api/v1/images/%s/annotations.geojson", ""},
		{http.MethodPatch, "/api/v1/labels/%s", `{"color": "#000000"}`},
		{http.MethodDelete, "/api/v1/labels/%s", ""},
		{http.MethodGet, "/api/v1/annotations/%s", ""},
		{http.MethodPatch, "/api/v1/annotations/%s", `{"version": 1, "properties": {"note": "x"}}`},
		{http.MethodDelete, "/api/v1/annotations/%s", ""},
		{http.MethodGet, "/api/v1/annotations/%s/history", ""},
		{http.MethodGet, "/static/%s", ""},
		{http.MethodGet, "/api/v1/export.geojson?image=%s", ""},
	}
	for _, r := range routes {
		for _, id := range ids {
			target := fmt.Sprintf(r.pattern, id)
			t.Run(r.method+" "+target, func(t *testing.T) {
				rec := ts.doJSON(t, r.method, target, r.body)
				if rec.Code != http.StatusNotFound {
					t.Errorf("status = %d, want 404; body %s", rec.Code, truncate(rec.Body.String(), 200))
				}
				got := rec.Body.String()
				if firstLine != "" && strings.Contains(got, firstLine) || strings.Contains(got, "root:x:0:0") {
					t.Errorf("the body holds /etc/passwd")
				}
				if strings.Contains(got, img.SHA256) || strings.Contains(got, ts.dir) {
					t.Errorf("the body shows a stored file or the data folder: %s", truncate(got, 200))
				}
			})
		}
	}
	ts.wantUnchanged(t, before)
	// The real ids still work.
	wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/original", nil), http.StatusOK)
	wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+ann.ID, nil), http.StatusOK)
}

func TestUserTextIsEscapedInPages(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	const script = `<script>alert(1)</script>`
	const imgTag = `<img src=x onerror=alert(1)>`
	img := ts.mustUpload(t,
		field("title", script),
		field("publisher", imgTag),
		field("claim", script+imgTag),
		field("credit", imgTag),
		field("license", script),
		field("location_name", imgTag),
		field("notes", script),
		filePart(imgTag+".png", pngBytes(t, 64, 48, 320)),
	)
	ts.createAnnotation(t, img.ID, map[string]any{"label": "vessel", "shape": "point",
		"geometry":   map[string]any{"type": "Point", "coordinates": []float64{1, 1}},
		"properties": map[string]any{"note": script, "identification": imgTag}})

	// Label names cannot hold / or >, so the two payloads above are refused as names;
	// markup without them is accepted and must be escaped.
	for _, name := range []string{script, imgTag} {
		before := ts.snapshot(t)
		wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/labels", map[string]any{"name": name}), http.StatusUnprocessableEntity, "invalid", "name")
		ts.wantUnchanged(t, before)
	}
	const openTag = `<img src=x onerror=alert(1) x=`
	const attrBreak = `" onmouseover="alert(1)`
	for _, name := range []string{openTag, attrBreak} {
		wantStatus(t, ts.doJSON(t, http.MethodPost, "/api/v1/labels", map[string]any{"name": name}), http.StatusCreated)
	}

	raw := []string{script, imgTag, openTag, attrBreak, "<img src=x", "<script>alert"}
	tests := []struct {
		name    string
		target  string
		escaped []string
	}{
		{"ok, gallery", "/", []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "&lt;img src=x onerror=alert(1) x="}},
		{"ok, annotator", "/images/" + img.ID, []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;"}},
		{"ok, labels", "/labels", []string{"&lt;img src=x onerror=alert(1) x=", "&#34; onmouseover=&#34;alert(1)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := wantHTML(t, ts, tc.target)
			for _, r := range raw {
				if strings.Contains(body, r) {
					i := strings.Index(body, r)
					t.Errorf("page holds %q unescaped: …%s…", r, body[max(0, i-80):min(len(body), i+80)])
				}
			}
			for _, e := range tc.escaped {
				if !strings.Contains(body, e) {
					t.Errorf("page does not hold the escaped text %q", e)
				}
			}
		})
	}
}

// A page that names no icon makes the browser ask for /favicon.ico, which is not there:
// one 404 logged in the console on every visit.
func TestPagesNameTheirIcon(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 300, field("title", "Landing ships"))
	for _, target := range []string{"/", "/images/" + img.ID, "/labels"} {
		if body := wantHTML(t, ts, target); !strings.Contains(body, `<link rel="icon" href="data:image/svg+xml,`) {
			t.Errorf("%s names no icon of its own", target)
		}
	}
	rec := ts.do(t, http.MethodGet, "/images/img_aaaaaaaaaaaa", nil, "Accept", "text/html")
	if !strings.Contains(rec.Body.String(), `<link rel="icon" href="data:image/svg+xml,`) {
		t.Errorf("the error page names no icon of its own")
	}
}

package server_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/server"
)

// The IIIF Presentation 3.0 export through the router: the manifest and the annotation
// page it refers to, their headers, what their ids point at, the filters they pass on,
// and what an unknown image, bad filters and unready tiles get.

const presentationType = `application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"`

type iiifDoc = map[string]any

// iiifPort uploads an image with its provenance, builds its pyramid and draws one
// annotation of every shape on it; the rectangle is accepted by bob.
func (ts *testServer) iiifPort(t *testing.T) (annotations.Image, []annotations.Annotation) {
	t.Helper()
	img := ts.mustUpload(t, filePart("port.png", pngBytes(t, 400, 300, 7)),
		field("title", "Vladivostok, 8 October"), field("publisher", "National Intelligence Service, Republic of Korea"),
		field("release_title", "Troop movements"), field("source_url", "https://www.nis.go.kr/release/1"),
		field("released_at", "2024-10-18"), field("credit", "NIS / Airbus DS"),
		field("license", "https://creativecommons.org/licenses/by/4.0/"), field("captured_from", "2024-10-08"),
		field("captured_to", "2024-10-13"), field("claim", "Landing ships carried special forces"))
	ts.buildPyramids(t)
	alice := ts.as(t, "alice")
	var anns []annotations.Annotation
	for _, body := range []string{
		`{"label": "vessel/landing ship", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[10.5, 20.25], [110.75, 20.25], [110.75, 80], [10.5, 80], [10.5, 20.25]]]}, "properties": {"identification": "Ropucha-class", "confidence": "probable", "note": "bow <east>"}}`,
		`{"label": "vessel/frigate", "shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [[[200, 100], [260, 120], [254, 138], [194, 118], [200, 100]]]}}`,
		`{"label": "facility/pier", "shape": "polygon", "geometry": {"type": "Polygon", "coordinates": [[[150, 150], [390, 150], [390, 290], [150, 290], [150, 150]], [[200, 200], [250, 200], [250, 250], [200, 250], [200, 200]]]}}`,
		`{"label": "vehicle", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[5, 295], [120, 200.5]]}}`,
		`{"label": "personnel/troop formation", "shape": "point", "geometry": {"type": "Point", "coordinates": [333.25, 44.5]}}`,
	} {
		anns = append(anns, ts.createAnnotation(t, img.ID, body, alice...))
	}
	wantStatus(t, ts.review(t, anns[0].ID, map[string]any{"decision": "submitted", "version": anns[0].Version}, alice...), http.StatusOK)
	wantStatus(t, ts.review(t, anns[0].ID, map[string]any{"decision": "accepted", "version": anns[0].Version + 1, "reason": "seen it"}, ts.as(t, "bob")...), http.StatusOK)
	return img, anns
}

// getPresentation fetches a IIIF Presentation document and checks what every one carries.
func (ts *testServer) getPresentation(t *testing.T, target string, headers ...string) (iiifDoc, []byte) {
	t.Helper()
	rec := ts.do(t, http.MethodGet, target, nil, headers...)
	wantStatus(t, rec, http.StatusOK)
	if got := rec.Header().Get("Content-Type"); got != presentationType {
		t.Errorf("Content-Type = %q, want %q", got, presentationType)
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("Access-Control-Allow-Origin = %q, want * (a viewer on another site reads it)", got)
	}
	var doc iiifDoc
	decode(t, rec, &doc)
	if doc["@context"] != "http://iiif.io/api/presentation/3/context.json" {
		t.Errorf("@context = %v", doc["@context"])
	}
	return doc, rec.Body.Bytes()
}

// local is the path and query of one of the server's own URLs, to ask the router for it.
func local(t *testing.T, u any) string {
	t.Helper()
	s, _ := u.(string)
	p, err := url.Parse(s)
	if err != nil || p.Scheme != "http" || p.Host != "example.com" {
		t.Fatalf("%q is not a URL of this server", s)
	}
	return p.RequestURI()
}

func firstCanvas(t *testing.T, m iiifDoc) iiifDoc {
	t.Helper()
	items, _ := m["items"].([]any)
	if len(items) == 0 {
		t.Fatalf("the manifest has no canvas: %v", m)
	}
	return items[0].(iiifDoc)
}

func pageRef(t *testing.T, canvas iiifDoc) string {
	t.Helper()
	pages, _ := canvas["annotations"].([]any)
	if len(pages) != 1 {
		t.Fatalf("canvas annotations = %v, want one page", canvas["annotations"])
	}
	return pages[0].(iiifDoc)["id"].(string)
}

func TestIIIFManifestAndAnnotationPage(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img, anns := ts.iiifPort(t)
	viewer := []string{"Authorization", "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)}

	manifestURL := "/api/v1/images/" + img.ID + "/iiif/manifest.json"
	m, _ := ts.getPresentation(t, manifestURL, viewer...)
	if m["id"] != "http://example.com"+manifestURL || m["type"] != "Manifest" {
		t.Errorf("manifest id, type = %v, %v; want its own URL", m["id"], m["type"])
	}
	if m["rights"] != "https://creativecommons.org/licenses/by/4.0/" {
		t.Errorf("rights = %v, want the licence", m["rights"])
	}
	canvas := firstCanvas(t, m)
	if canvas["width"] != 400.0 || canvas["height"] != 300.0 {
		t.Errorf("canvas is %v×%v, want the image's 400×300", canvas["width"], canvas["height"])
	}

	// The painted image's service is the image service's own id, as its info.json says.
	painting := canvas["items"].([]any)[0].(iiifDoc)["items"].([]any)[0].(iiifDoc)
	service := painting["body"].(iiifDoc)["service"].([]any)[0].(iiifDoc)
	info, _ := service["id"].(string)
	rec := ts.do(t, http.MethodGet, local(t, info)+"/info.json", nil, viewer...)
	wantStatus(t, rec, http.StatusOK)
	var infoDoc struct{ ID string }
	decode(t, rec, &infoDoc)
	if infoDoc.ID != info {
		t.Errorf("the manifest's image service is %q, info.json says it is %q", info, infoDoc.ID)
	}
	wantStatus(t, ts.do(t, http.MethodGet, local(t, painting["body"].(iiifDoc)["id"]), nil, viewer...), http.StatusOK)

	// The page the canvas refers to holds every annotation, on that canvas.
	page, _ := ts.getPresentation(t, local(t, pageRef(t, canvas)), viewer...)
	items, _ := page["items"].([]any)
	if page["type"] != "AnnotationPage" || page["id"] != pageRef(t, canvas) || len(items) != len(anns) {
		t.Fatalf("page %v (%v) has %d annotations, want the canvas's page with %d", page["id"], page["type"], len(items), len(anns))
	}
	for i, it := range items {
		a := it.(iiifDoc)
		if want := "http://example.com/api/v1/annotations/" + anns[i].ID; a["id"] != want {
			t.Errorf("annotation %d id = %v, want %s", i, a["id"], want)
		}
		// Its id is satmark's annotation: what a viewer links to is there.
		wantStatus(t, ts.do(t, http.MethodGet, local(t, a["id"]), nil, viewer...), http.StatusOK)
		source := a["target"].(iiifDoc)["source"].(iiifDoc)
		if source["id"] != canvas["id"] {
			t.Errorf("annotation %d targets %v, want the canvas %v", i, source["id"], canvas["id"])
		}
		if got := source["partOf"].([]any)[0].(iiifDoc)["id"]; got != m["id"] {
			t.Errorf("annotation %d's canvas is part of %v, want the manifest %v", i, got, m["id"])
		}
	}
	first := items[0].(iiifDoc)
	selectors := first["target"].(iiifDoc)["selector"].([]any)
	if frag := selectors[0].(iiifDoc); frag["type"] != "FragmentSelector" || frag["value"] != "xywh=10,20,101,60" {
		t.Errorf("the rectangle's first selector = %v, want xywh=10,20,101,60", frag)
	}
	var texts []string
	for _, b := range first["body"].([]any) {
		texts = append(texts, b.(iiifDoc)["value"].(string))
	}
	if got, want := strings.Join(texts, " | "), "vessel › landing ship | <p>Ropucha-class</p> | <p>bow &lt;east&gt;</p> | <p>Confidence: probable</p> | <p>Review: accepted by bob"; !strings.HasPrefix(got, want) {
		t.Errorf("bodies = %s, want them to start %s", got, want)
	}

	// The annotator's export menu links the manifest.
	annotator := ts.do(t, http.MethodGet, "/images/"+img.ID, nil, viewer...)
	wantStatus(t, annotator, http.StatusOK)
	if link := regexp.MustCompile(`<a id="export-iiif" href="([^"]+)"`).FindStringSubmatch(annotator.Body.String()); link == nil {
		t.Errorf("no #export-iiif link in the annotator's export menu")
	} else if linked, _ := ts.getPresentation(t, html.UnescapeString(link[1]), viewer...); linked["id"] != m["id"] {
		t.Errorf("the menu links %s, want the manifest %v", link[1], m["id"])
	}

	// The CORS preflight of a viewer sending a token is anyone's.
	req := []string{"Authorization", "", "Origin", "https://mirador.example.org", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization"}
	for _, target := range []string{manifestURL, "/api/v1/images/" + img.ID + "/iiif/annotations.json", "/api/v1/iiif/manifest.json"} {
		rec := ts.do(t, http.MethodOptions, target, nil, req...)
		h := rec.Header()
		if rec.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") ||
			!strings.EqualFold(h.Get("Access-Control-Allow-Headers"), "authorization") {
			t.Errorf("preflight of %s: %d %v", target, rec.Code, h)
		}
	}
	// Signed out, the refusal is readable there too.
	rec = ts.do(t, http.MethodGet, manifestURL, nil, "Authorization", "")
	wantError(t, rec, http.StatusUnauthorized, "unauthenticated", "")
	if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("the 401 has no Access-Control-Allow-Origin: a viewer on another site cannot tell why")
	}
}

// TestIIIFIdsNameThePublicURL: behind a proxy, the manifest names satmark by its public
// URL, as info.json does, and nothing in it by the address the request came to.
func TestIIIFIdsNameThePublicURL(t *testing.T) {
	ts := newTestServerWithOptions(t, imagery.Options{Limits: smallLimits}, os.DirFS("../web"), func(o *server.Options) {
		o.PublicURL = "https://satmark.example.org/"
	})
	img := ts.newImage(t, 1)
	ts.buildPyramids(t)
	ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [3, 4]}}`)
	m, manifest := ts.getPresentation(t, "/api/v1/images/"+img.ID+"/iiif/manifest.json")
	_, page := ts.getPresentation(t, "/api/v1/images/"+img.ID+"/iiif/annotations.json")
	rec := ts.do(t, http.MethodGet, "/iiif/3/"+img.ID+"/info.json", nil)
	wantStatus(t, rec, http.StatusOK)
	var info struct{ ID string }
	decode(t, rec, &info)
	if want := "https://satmark.example.org/api/v1/images/" + img.ID + "/iiif/manifest.json"; m["id"] != want {
		t.Errorf("manifest id = %v, want %s", m["id"], want)
	}
	if !strings.Contains(string(manifest), `"service":[{"id":"`+info.ID+`"`) {
		t.Errorf("the manifest does not name the image service %s that info.json names", info.ID)
	}
	for name, doc := range map[string][]byte{"manifest": manifest, "page": page} {
		if strings.Contains(string(doc), "example.com") {
			t.Errorf("the %s names the request's host: %s", name, truncate(string(doc), 400))
		}
	}
}

func TestIIIFStatusFilterIsPassedOn(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img, anns := ts.iiifPort(t)
	m, _ := ts.getPresentation(t, "/api/v1/images/"+img.ID+"/iiif/manifest.json?status=accepted")
	if !strings.HasSuffix(m["id"].(string), "/manifest.json?status=accepted") {
		t.Errorf("manifest id = %v, want the filter in it", m["id"])
	}
	ref := pageRef(t, firstCanvas(t, m))
	if !strings.HasSuffix(ref, "/annotations.json?status=accepted") {
		t.Errorf("the canvas refers to %s, which does not keep the filter", ref)
	}
	page, _ := ts.getPresentation(t, local(t, ref))
	items := page["items"].([]any)
	if len(items) != 1 || !strings.HasSuffix(items[0].(iiifDoc)["id"].(string), anns[0].ID) {
		t.Errorf("the accepted-only page has %d annotations, want the accepted rectangle alone", len(items))
	}
	pier := ts.labelByPath(t, "facility/pier")
	page, _ = ts.getPresentation(t, "/api/v1/images/"+img.ID+"/iiif/annotations.json?label=facility")
	if items := page["items"].([]any); len(items) != 1 || !strings.HasSuffix(items[0].(iiifDoc)["id"].(string), anns[2].ID) {
		t.Errorf("?label=facility kept %d annotations, want the pier (%s) alone", len(items), pier.ID)
	}
}

func TestIIIFManifestOfSeveralImages(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	port, _ := ts.iiifPort(t)
	base := ts.newImage(t, 2, field("title", "Ussuriysk"), field("credit", "Maxar Technologies"))
	ts.buildPyramids(t)
	m, _ := ts.getPresentation(t, "/api/v1/iiif/manifest.json?image="+base.ID+"&image="+port.ID+"&status=accepted")
	items := m["items"].([]any)
	if len(items) != 2 {
		t.Fatalf("%d canvases, want 2", len(items))
	}
	for i, img := range []annotations.Image{base, port} {
		c := items[i].(iiifDoc)
		if c["width"] != float64(img.Width) || !strings.Contains(c["id"].(string), img.ID) {
			t.Errorf("canvas %d = %v (%v wide), want %s in the order asked", i, c["id"], c["width"], img.ID)
		}
		if ref := pageRef(t, c); !strings.Contains(ref, img.ID) || !strings.HasSuffix(ref, "?status=accepted") {
			t.Errorf("canvas %d refers to %s", i, ref)
		}
	}
	credits := m["requiredStatement"].(iiifDoc)["value"].(iiifDoc)["none"].([]any)
	if len(credits) != 2 {
		t.Errorf("credits = %v, want both images'", credits)
	}
}

func TestIIIFBadInput(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img, _ := ts.iiifPort(t)
	broken := ts.mustUpload(t, filePart("broken.png", corruptPNG(t, 300, 200, 91)))
	ts.buildPyramids(t)
	brokenState := ts.pyramidState(t, broken.ID)
	queued := ts.newImage(t, 4) // its pyramid is queued, not built

	tests := []struct {
		name, target string
		status       int
		code, field  string
		words        []string
	}{
		{name: "nok, unknown image's manifest", target: "/api/v1/images/img_nosuchimage/iiif/manifest.json", status: http.StatusNotFound, code: "not_found"},
		{name: "nok, unknown image's page", target: "/api/v1/images/img_nosuchimage/iiif/annotations.json", status: http.StatusNotFound, code: "not_found"},
		{name: "nok, path trick as image id", target: "/api/v1/images/..%2F..%2Fetc/iiif/manifest.json", status: http.StatusNotFound, code: "not_found"},
		{name: "nok, unknown review state", target: "/api/v1/images/" + img.ID + "/iiif/manifest.json?status=approved", status: http.StatusBadRequest, code: "malformed", field: "status", words: []string{"approved"}},
		{name: "nok, unknown label", target: "/api/v1/images/" + img.ID + "/iiif/annotations.json?label=submarine", status: http.StatusUnprocessableEntity, code: "invalid", field: "label", words: []string{"submarine"}},
		{name: "nok, a manifest of several without images", target: "/api/v1/iiif/manifest.json", status: http.StatusBadRequest, code: "malformed", field: "image", words: []string{"?image="}},
		{name: "nok, a manifest of several with an unknown image", target: "/api/v1/iiif/manifest.json?image=" + img.ID + ",img_nosuchimage", status: http.StatusNotFound, code: "not_found"},
		{name: "nok, tiles not built yet: try again", target: "/api/v1/images/" + queued.ID + "/iiif/manifest.json", status: http.StatusServiceUnavailable, code: "not_ready", words: []string{queued.ID, "try again"}},
		{name: "nok, one of several not built yet", target: "/api/v1/iiif/manifest.json?image=" + img.ID + "," + queued.ID, status: http.StatusServiceUnavailable, code: "not_ready", words: []string{queued.ID}},
		{name: "nok, tiles that could not be built", target: "/api/v1/images/" + broken.ID + "/iiif/manifest.json", status: http.StatusInternalServerError, code: "pyramid_failed", words: []string{broken.ID, brokenState.Error, "POST /api/v1/images/" + broken.ID + "/pyramid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, tc.target, nil)
			wantError(t, rec, tc.status, tc.code, tc.field, tc.words...)
			if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("the error has no Access-Control-Allow-Origin")
			}
			if ra := rec.Header().Get("Retry-After"); (tc.status == http.StatusServiceUnavailable) != (ra != "") {
				t.Errorf("Retry-After = %q with status %d", ra, tc.status)
			}
		})
	}

	// An image whose tiles are not built has its annotations all the same.
	a := ts.createAnnotation(t, queued.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [3, 4]}}`)
	page, _ := ts.getPresentation(t, "/api/v1/images/"+queued.ID+"/iiif/annotations.json")
	if items := page["items"].([]any); len(items) != 1 || !strings.HasSuffix(items[0].(iiifDoc)["id"].(string), a.ID) {
		t.Errorf("the page of an image still building = %v, want its one annotation", items)
	}
}

// presentation3Types is IIIF Commons' TypeScript types of the Presentation 3.0 model
// (npm @iiif/presentation-3), with TypeScript, in web/node_modules (make web).
var presentation3Types = filepath.Join("..", "web", "node_modules", "@iiif", "presentation-3")

// TestIIIFDocumentsHaveThePresentation3Types checks the manifest and the annotation page
// as the IIIF community's TypeScript types of Presentation 3.0 declare them: tsc compiles
// each document as a literal of its type (every property known, every value of its
// type) or says where it is not. No JSON schema of Presentation 3 ships in a package this
// machine can install, so the types are the validator. A document with an unknown type
// is refused too, to show the check bites.
func TestIIIFDocumentsHaveThePresentation3Types(t *testing.T) {
	tsc := filepath.Join("..", "web", "node_modules", "typescript", "bin", "tsc")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(presentation3Types, "dist", "presentation-3.d.ts"))
	}
	if err == nil {
		_, err = os.Stat(tsc)
	}
	if err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatalf("node, TypeScript or @iiif/presentation-3 not found (make web) and SATMARK_REQUIRE_ORACLES=1: %v", err)
		}
		t.Skipf("node, TypeScript or @iiif/presentation-3 not found (make web): %v", err)
	}
	ts := newTestServer(t, smallLimits)
	img, _ := ts.iiifPort(t)
	ts.newImage(t, 2, field("credit", "Maxar"))
	other := ts.newImage(t, 5)
	ts.buildPyramids(t)
	_, manifest := ts.getPresentation(t, "/api/v1/images/"+img.ID+"/iiif/manifest.json")
	_, several := ts.getPresentation(t, "/api/v1/iiif/manifest.json?image="+img.ID+","+other.ID)
	_, page := ts.getPresentation(t, "/api/v1/images/"+img.ID+"/iiif/annotations.json")

	types, err := filepath.Abs(presentation3Types)
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, source string) (string, error) {
		t.Helper()
		dir := t.TempDir()
		config, _ := json.Marshal(map[string]any{
			"compilerOptions": map[string]any{"strict": true, "noEmit": true, "skipLibCheck": true, "target": "es2020", "module": "es2020",
				"moduleResolution": "node", "baseUrl": ".", "paths": map[string][]string{"@iiif/presentation-3": {types}}, "types": []string{}},
			"files": []string{"documents.ts"},
		})
		if err := os.WriteFile(filepath.Join(dir, "tsconfig.json"), config, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "documents.ts"), []byte(source), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(node, tsc, "-p", filepath.Join(dir, "tsconfig.json")).CombinedOutput()
		return string(out), err
	}
	source := func(manifests [][]byte, pages [][]byte) string {
		var b strings.Builder
		b.WriteString("import type { Manifest, AnnotationPage } from \"@iiif/presentation-3\";\n")
		for i, m := range manifests {
			b.WriteString("export const manifest" + string(rune('A'+i)) + ": Manifest = " + string(m) + ";\n")
		}
		for i, p := range pages {
			b.WriteString("export const page" + string(rune('A'+i)) + ": AnnotationPage = " + string(p) + ";\n")
		}
		return b.String()
	}
	if out, err := check(t, source([][]byte{manifest, several}, [][]byte{page})); err != nil {
		t.Errorf("tsc finds the documents are not IIIF Presentation 3.0 (%v):\n%s", err, out)
	}
	broken := strings.Replace(string(manifest), `"type":"Canvas"`, `"type":"Page"`, 1)
	if out, err := check(t, source([][]byte{[]byte(broken)}, nil)); err == nil {
		t.Errorf("tsc took a canvas of type Page: the check would not notice a broken document")
	} else if !strings.Contains(out, "Page") {
		t.Errorf("tsc refused the broken document for another reason:\n%s", out)
	}
}

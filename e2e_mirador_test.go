package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// miradorBundle is Mirador 4's own browser build (UMD, React included), a dev dependency of
// web/ (make web installs it).
var miradorBundle = filepath.Join("web", "node_modules", "mirador", "dist", "mirador.min.js")

// miradorPage is a page of another site that opens one manifest in Mirador, sending an API
// token with every request (Mirador's request preprocessors for the manifest, info.json and
// the annotation page; OpenSeadragon's AJAX headers for the tiles), as a viewer embedding
// Mirador against a satmark that is not open to everyone would.
const miradorPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>Mirador</title></head>
<body style="margin:0"><div id="viewer" style="position:absolute;inset:0"></div>
<script src="/mirador.min.js"></script>
<script>
const manifest = %s, token = %s;
const auth = (url, options) => ({...options, headers: {...(options && options.headers), Authorization: 'Bearer ' + token}});
Mirador.viewer({
  id: 'viewer',
  windows: [{manifestId: manifest, sideBarOpen: true, sideBarPanel: 'annotations'}],
  requests: {preprocessors: [auth]},
  osdConfig: {loadTilesWithAjax: true, ajaxHeaders: {Authorization: 'Bearer ' + token}},
});
</script></body></html>`

// TestBrowserMirador: Mirador 4 from npm, on a page of another origin, opens the sample
// port's manifest with a viewer's token. A user sees the image, from satmark's image
// service, and in the annotations panel every annotation with its label and its text
// (markup typed in a note shows as typed); picking one in the list draws it on the image.
// A manifest of two images shows each with its own annotations.
func TestBrowserMirador(t *testing.T) {
	if _, err := os.Stat(miradorBundle); err != nil {
		if os.Getenv("SATMARK_REQUIRE_BROWSER") == "1" {
			t.Fatalf("Mirador is not installed (make web): %v", err)
		}
		t.Skipf("Mirador is not installed (make web): %v", err)
	}
	a := startApp(t)
	port := portImage(t, a)
	ctx := context.Background()
	a.addUser(t, "Vera Viewer", annotations.RoleViewer)
	vera, err := a.Store.UserByName(ctx, "Vera Viewer")
	if err != nil {
		t.Fatal(err)
	}
	token, hash := annotations.NewAPIToken()
	if _, err := a.Store.CreateToken(ctx, annotations.Actor{Name: "tester"}, vera.ID, "mirador", hash); err != nil {
		t.Fatal(err)
	}
	// An annotation whose note has what HTML would swallow.
	anns := a.annotationsOf(t, port.ID)
	note := "Moored <pier 3> & loading"
	noted := anns[0]
	if _, err := a.Store.UpdateAnnotation(ctx, "tester", noted.ID, annotations.AnnotationInput{Properties: json.RawMessage(`{"note": ` + jsonString(note) + `}`), Version: &noted.Version}); err != nil {
		t.Fatal(err)
	}
	anns = a.annotationsOf(t, port.ID)

	bundle, err := os.ReadFile(miradorBundle)
	if err != nil {
		t.Fatal(err)
	}
	// The page opens the manifest its ?manifest= names.
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, miradorPage, jsonString(a.url+r.URL.Query().Get("manifest")), jsonString(token))
		case "/mirador.min.js":
			w.Header().Set("Content-Type", "text/javascript")
			w.Write(bundle)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)
	if strings.HasPrefix(a.url, site.URL) {
		t.Fatalf("the page's site %s is satmark's own origin %s", site.URL, a.url)
	}

	b := newBrowser(t)
	b.do(t, chromedp.Navigate(site.URL+"/?manifest="+url.QueryEscape("/api/v1/images/"+port.ID+"/iiif/manifest.json")))
	b.waitFor(t, "Mirador's annotations panel listing every annotation",
		fmt.Sprintf(`document.querySelectorAll('li[annotationid]').length === %d`, len(anns)))

	// The window is titled by the image's title.
	if got := evalJS[string](t, b, `(document.querySelector('.mirador-window-top-bar h2') || {}).textContent || ''`); got != port.Title {
		t.Errorf("Mirador's window title = %q, want the image's title %q", got, port.Title)
	}
	// Every annotation is listed with its label (a tag) and its text.
	type row struct{ ID, Text, Tags string }
	rows := evalJS[[]row](t, b, `[...document.querySelectorAll('li[annotationid]')].map(li => ({
		ID: li.getAttribute('annotationid'), Text: li.querySelector('.mirador-third-party-html')?.textContent || '',
		Tags: [...li.querySelectorAll('.MuiChip-label')].map(c => c.textContent).join('|')}))`)
	byID := map[string]row{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	for _, ann := range anns {
		r, ok := byID[a.url+"/api/v1/annotations/"+ann.ID]
		if !ok {
			t.Errorf("annotation %s (%s) is not in Mirador's list", ann.ID, ann.Label.PathString())
			continue
		}
		if r.Tags != ann.Label.PathString() {
			t.Errorf("annotation %s is tagged %q in Mirador, want its label %q", ann.ID, r.Tags, ann.Label.PathString())
		}
		for _, want := range []string{ann.Identification, ann.Note} {
			if !strings.Contains(r.Text, want) {
				t.Errorf("annotation %s reads %q in Mirador, want it to show %q", ann.ID, r.Text, want)
			}
		}
		if ann.Confidence != "" && !strings.Contains(r.Text, "Confidence: "+string(ann.Confidence)) {
			t.Errorf("annotation %s reads %q in Mirador, want its confidence %s", ann.ID, r.Text, ann.Confidence)
		}
	}
	if r := byID[a.url+"/api/v1/annotations/"+noted.ID]; !strings.Contains(r.Text, note) {
		t.Errorf("the note %q shows as %q in Mirador", note, r.Text)
	}

	// The image: its tiles came from satmark's image service, and the middle of the view
	// shows the middle of the image.
	tilePrefix := a.url + "/iiif/3/" + port.ID + "/"
	b.waitFor(t, "tiles from satmark's image service", fmt.Sprintf(`performance.getEntriesByType('resource').some(e => e.name.startsWith(%s) && !e.name.endsWith('info.json') && e.responseStatus === 200)`, jsonString(tilePrefix)))
	b.waitFor(t, "the view to settle", `(() => { const c = document.querySelector('.openseadragon-canvas'); return !!c && c.getBoundingClientRect().width > 100; })()`)
	box := evalJS[[]float64](t, b, `(() => { const r = document.querySelector('.openseadragon-canvas').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	centre := func() [3]float64 {
		shot := b.screenshot(t)
		cx, cy := int(box[0]+box[2]/2), int(box[1]+box[3]/2)
		return meanRGB(shot, image.Rect(cx-20, cy-20, cx+20, cy+20))
	}
	want := a.iiifMean(t, port, token)
	// The tiles fade in: the view is looked at again, a frame later, until it shows them.
	got := centre()
	for deadline := time.Now().Add(step); !colourNear(got, want, 24) && time.Now().Before(deadline); got = centre() {
		evalJS[bool](t, b, `new Promise(r => requestAnimationFrame(() => r(true)))`)
	}
	if !colourNear(got, want, 24) {
		t.Errorf("the middle of Mirador's view is %v, want the middle of the image %v", got, want)
	}

	// Picking the annotation in the list draws it on the overlay.
	// Mirador's overlay: a canvas in a div of its own over OpenSeadragon's.
	drawn := `(() => { const c = document.querySelector('.openseadragon-canvas > div > canvas');
		if (!c) return 0; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
		for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })()`
	if n := evalJS[int](t, b, drawn); n != 0 {
		t.Errorf("before any is picked, %d pixels of annotations are drawn; Mirador hides them until then", n)
	}
	b.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[annotationid=%q]`, a.url+"/api/v1/annotations/"+noted.ID))))
	b.waitFor(t, "the picked annotation drawn on the image", drawn+` > 0`)

	// A manifest of two images: Mirador shows the first with its annotations, and the next
	// item is the second image with its own.
	other := otherImage(t, a, port.ID)
	b.do(t, chromedp.Navigate(site.URL+"/?manifest="+url.QueryEscape("/api/v1/iiif/manifest.json?image="+port.ID+","+other.ID)))
	for i, img := range []annotations.Image{port, other} {
		if i > 0 {
			b.do(t, chromedp.Click(chromedp.CSS(`button[aria-label="Next item"]`)))
		}
		want := a.annotationsOf(t, img.ID)
		b.waitFor(t, fmt.Sprintf("image %d's %d annotations listed", i+1, len(want)), fmt.Sprintf(
			`document.querySelectorAll('li[annotationid]').length === %d && !!document.querySelector('li[annotationid=%q]')`,
			len(want), a.url+"/api/v1/annotations/"+want[0].ID))
		b.waitFor(t, fmt.Sprintf("item %d of 2 captioned with its title", i+1), fmt.Sprintf(
			`(document.querySelector('.mirador-canvas-count')?.textContent || '').includes(%q) && (document.querySelector('.mirador-canvas-label')?.textContent || '').endsWith(' • ' + %s)`,
			fmt.Sprintf("%d of 2", i+1), jsonString(img.Title)))
	}
}

// otherImage is a sample image other than the one given, with annotations.
func otherImage(t *testing.T, a *app, not string) annotations.Image {
	t.Helper()
	images, err := a.Store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		if img.ID != not && img.AnnotationCount > 0 {
			return img
		}
	}
	t.Fatalf("no sample image with annotations besides %s", not)
	return annotations.Image{}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// screenshot captures the tab as a user sees it.
func (b *browserSession) screenshot(t *testing.T) image.Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	data, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func meanRGB(img image.Image, r image.Rectangle) [3]float64 {
	var sum [3]float64
	n := 0.0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c0, c1, c2, _ := img.At(x, y).RGBA()
			sum[0], sum[1], sum[2] = sum[0]+float64(c0>>8), sum[1]+float64(c1>>8), sum[2]+float64(c2>>8)
			n++
		}
	}
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

func colourNear(a, b [3]float64, tol float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// iiifMean is the mean colour of the middle of the image (1/20 of its width each way),
// as satmark's image service renders it.
func (a *app) iiifMean(t *testing.T, img annotations.Image, token string) [3]float64 {
	t.Helper()
	w, h := img.Width/20, img.Width/20
	region := fmt.Sprintf("%d,%d,%d,%d", img.Width/2-w/2, img.Height/2-h/2, w, h)
	req, _ := http.NewRequest(http.MethodGet, a.url+"/iiif/3/"+img.ID+"/"+region+"/32,32/0/default.png", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the middle of the image: %s", resp.Status)
	}
	rendered, err := png.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return meanRGB(rendered, rendered.Bounds())
}

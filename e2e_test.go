package main

// The end-to-end test: a real satmark (the same Main that `satmark serve` runs) on a free
// port over a temporary data folder seeded with the sample data, driven by a real
// headless Chromium. It does what a new user does in the core loop and checks what was
// saved. `make test` sets SATMARK_REQUIRE_BROWSER=1 so a missing browser fails instead of
// skipping.

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	cdpinput "github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/sampledata"
	"github.com/satmark/satmark/web"
)

// app is a running satmark for one test.
type app struct {
	*Main
	url string
}

func startApp(t *testing.T) *app {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.LogLevel = 100 // quiet
	cfg.PasswordCost = bcrypt.MinCost
	cfg.AdminPassword = e2ePassword
	m := &Main{Config: cfg}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("start satmark: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close satmark: %v", err)
		}
	})
	if _, _, err := m.EnsureAdmin(context.Background()); err != nil {
		t.Fatalf("first administrator: %v", err)
	}
	if _, err := sampledata.Seed(context.Background(), m.Store, m.Library); err != nil {
		t.Fatalf("seed: %v", err)
	}
	m.Builder.Drain(context.Background())
	return &app{Main: m, url: strings.TrimSuffix(m.URL(), "/")}
}

// e2ePassword is every browser test account's password.
const e2ePassword = "browser test password"

// addUser creates an account with e2ePassword.
func (a *app) addUser(t *testing.T, name, role string) {
	t.Helper()
	hash, err := annotations.HashPassword(e2ePassword, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.CreateUser(context.Background(), annotations.Actor{Name: "tester"}, annotations.NewUser{Name: name, Role: role, PasswordHash: hash}); err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
}

// signIn goes to a page, is sent to the sign-in form, signs in as name and lands back
// on the page.
func (b *browserSession) signIn(t *testing.T, a *app, path, name string) {
	t.Helper()
	b.do(t, chromedp.Navigate(a.url+path))
	b.waitFor(t, "the sign-in form", `location.pathname === '/login' && !!document.querySelector('#login-form input[name=name]')`)
	b.setField(t, `#login-form input[name=name]`, name)
	b.setField(t, `#login-form input[name=password]`, e2ePassword)
	b.do(t, chromedp.Click(`#login-form button[type=submit]`))
	b.waitFor(t, "the page after signing in", fmt.Sprintf(`location.pathname === %q && (document.getElementById('whoami') || {}).textContent === %q`, path, name))
}

// findChromium returns the browser to drive, or skips (fails under make test).
func findChromium(t *testing.T) string {
	t.Helper()
	required := os.Getenv("SATMARK_REQUIRE_BROWSER") == "1"
	if _, err := fs.Stat(web.Assets, "dist/annotator.js"); err != nil {
		if required {
			t.Fatal("the front end is not built: run make web")
		}
		t.Skip("the front end is not built (make web); skipping the browser test")
	}
	candidates := []string{os.Getenv("SATMARK_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	if required {
		t.Fatal("no Chromium found (apt-get install -y chromium, or set SATMARK_CHROMIUM)")
	}
	t.Skip("no Chromium found; skipping the browser test")
	return ""
}

// browserSession is one headless Chromium tab with its downloads folder, and a record of
// every JavaScript exception, dialog and Content-Security-Policy violation the pages
// raised (the test fails on any of them).
type browserSession struct {
	ctx       context.Context
	downloads string

	mu         sync.Mutex
	exceptions []string
	dialogs    []string
	violations []string
}

func newBrowser(t *testing.T) *browserSession {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(findChromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	b := &browserSession{ctx: ctx, downloads: t.TempDir()}
	messages := chromedp.Console(ctx)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			switch {
			case m.IsException():
				b.mu.Lock()
				b.exceptions = append(b.exceptions, m.Text)
				b.mu.Unlock()
			case m.Source == "security" && strings.Contains(m.Text, "Content Security Policy"):
				// An inline script or style attribute the server's policy blocked: it
				// would not work for users either.
				b.mu.Lock()
				b.violations = append(b.violations, m.Text)
				b.mu.Unlock()
			}
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.exceptions {
			t.Errorf("the page threw: %s", e)
		}
		for _, d := range b.dialogs {
			t.Errorf("the page opened a dialog (script ran from user text?): %q", d)
		}
		for _, v := range b.violations {
			t.Errorf("the page broke its Content-Security-Policy: %s", v)
		}
	})
	return b
}

const step = 30 * time.Second

func (b *browserSession) do(t *testing.T, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

func evalJS[T any](t *testing.T, b *browserSession, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds.
func (b *browserSession) waitFor(t *testing.T, what, js string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	for {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(step), chromedp.WithPollingInterval(50*time.Millisecond)))
		if err == nil {
			return
		}
		// A click that navigates replaces the page under the poll: poll the new one.
		if (strings.Contains(err.Error(), "Cannot find context") || strings.Contains(err.Error(), "navigated or closed")) && ctx.Err() == nil {
			continue
		}
		flash := evalJS[string](t, b, `(document.getElementById('flash')||{}).textContent || ''`)
		dctx, dcancel := context.WithTimeout(b.ctx, 5*time.Second)
		diag, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`new Promise(r => { let n = 0; const f = () => { n++; requestAnimationFrame(f); }; requestAnimationFrame(f); setTimeout(() => r(JSON.stringify({frames500ms: n, hints: window.satmark && satmark.map && satmark.map.getView().getHints(), vis: document.visibilityState})), 500); })`, chromedp.EvalAwaitPromise))
		dcancel()
		t.Logf("diagnostics: %s", diag)
		if dir := os.Getenv("SATMARK_E2E_SCREENSHOTS"); dir != "" {
			sctx, scancel := context.WithTimeout(b.ctx, 5*time.Second)
			png, err := chromedp.Run(sctx, chromedp.CaptureScreenshot())
			scancel()
			if err == nil {
				os.WriteFile(filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+".png"), png, 0o644)
			}
		}
		t.Fatalf("waiting for %s: %v (flash message: %q)", what, err, flash)
	}
}

// screen returns the viewport position of an image pixel in the annotator.
func (b *browserSession) screen(t *testing.T, x, y float64) (float64, float64) {
	t.Helper()
	p := evalJS[[]float64](t, b, fmt.Sprintf(`(() => {
		const r = document.getElementById('map').getBoundingClientRect();
		const [sx, sy] = satmark.imagePixelToScreen([%f, %f]);
		return [r.left + sx, r.top + sy];
	})()`, x, y))
	return p[0], p[1]
}

// selectInList picks an annotation in the sidebar list and waits for the view to settle
// on it.
func (b *browserSession) selectInList(t *testing.T, id string) {
	t.Helper()
	b.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#annotation-list li[data-annotation-id=%q]`, id))))
	b.waitFor(t, "the selection", fmt.Sprintf(`!document.getElementById('editor').hidden && document.querySelector('#annotation-list li.selected')?.dataset.annotationId === %q && !satmark.map.getView().getAnimating()`, id))
}

func (b *browserSession) clickImage(t *testing.T, x, y float64) {
	t.Helper()
	sx, sy := b.screen(t, x, y)
	b.do(t, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, sx, sy), chromedp.MouseClickXY(sx, sy))
}

// dragImage presses at one image pixel, moves in steps and releases at another.
func (b *browserSession) dragImage(t *testing.T, from, to [2]float64) {
	t.Helper()
	x0, y0 := b.screen(t, from[0], from[1])
	x1, y1 := b.screen(t, to[0], to[1])
	held := func(p *cdpinput.DispatchMouseEventParams) { p.Button, p.Buttons = cdpinput.MouseButtonLeft, 1 }
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, x0, y0),
		chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMousePressed, x0, y0, held, chromedp.ClickCount(1)),
	}
	for i := 1; i <= 8; i++ {
		f := float64(i) / 8
		actions = append(actions, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, x0+(x1-x0)*f, y0+(y1-y0)*f, held))
	}
	actions = append(actions, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseReleased, x1, y1, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	b.do(t, actions...)
}

// typeInto puts text in a field as typing does, without leaving it: no change event, so
// nothing is saved yet.
func (b *browserSession) typeInto(t *testing.T, selector, value string) {
	t.Helper()
	sel, _ := json.Marshal(selector)
	val, _ := json.Marshal(value)
	evalJS[chromedp.Void](t, b, fmt.Sprintf(`(() => {
		const el = document.querySelector(%s);
		el.focus(); el.value = %s;
		el.dispatchEvent(new Event('input', {bubbles: true}));
	})()`, sel, val))
}

// setField sets a form control's value as a user would and fires its change event.
func (b *browserSession) setField(t *testing.T, selector, value string) {
	t.Helper()
	b.typeInto(t, selector, value)
	sel, _ := json.Marshal(selector)
	evalJS[chromedp.Void](t, b, fmt.Sprintf(`document.querySelector(%s).dispatchEvent(new Event('change', {bubbles: true}))`, sel))
}

// download clicks selector and returns the downloaded file's bytes.
func (b *browserSession) download(t *testing.T, selector string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	allow := true
	if err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: b.downloads, EventsEnabled: &allow,
			})
			return err
		}),
		chromedp.Click(chromedp.CSS(selector)),
	); err != nil {
		t.Fatalf("download via %s: %v", selector, err)
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download via %s: %v", selector, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			data, err := os.ReadFile(filepath.Join(b.downloads, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			return data
		case browser.DownloadProgressStateCanceled:
			t.Fatalf("download via %s was cancelled", selector)
		}
	}
	t.Fatalf("download via %s never completed", selector)
	return nil
}

func (a *app) annotationsOf(t *testing.T, imageID string) []annotations.Annotation {
	t.Helper()
	anns, err := a.Store.Annotations(context.Background(), annotations.AnnotationFilter{ImageIDs: []string{imageID}})
	if err != nil {
		t.Fatal(err)
	}
	return anns
}

func (a *app) label(t *testing.T, path string) annotations.Label {
	t.Helper()
	l, err := a.Store.ResolveLabel(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newest returns the annotation of imageID not in before.
func newest(t *testing.T, before, after []annotations.Annotation) annotations.Annotation {
	t.Helper()
	seen := map[string]bool{}
	for _, a := range before {
		seen[a.ID] = true
	}
	var fresh []annotations.Annotation
	for _, a := range after {
		if !seen[a.ID] {
			fresh = append(fresh, a)
		}
	}
	if len(fresh) != 1 {
		t.Fatalf("want exactly one new annotation, got %d", len(fresh))
	}
	return fresh[0]
}

func near(a, b annotations.Position, tol float64) bool {
	return math.Abs(a[0]-b[0]) <= tol && math.Abs(a[1]-b[1]) <= tol
}

// testJPEG makes a real photograph-like JPEG with a few shapes.
func testJPEG(t *testing.T, w, h int, seed uint8) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x*255/w) ^ seed, uint8(y * 255 / h), 90 + seed, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), fmt.Sprintf("release-photo-%d.jpg", seed))
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

const xss = `<img src=x onerror=alert(1)><script>alert(2)</script>`

func TestBrowserCoreLoop(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, err := a.Store.Images(ctx)
	if err != nil || len(images) < 2 {
		t.Fatalf("seeded images: %d, %v", len(images), err)
	}
	port := images[0]
	for _, img := range images {
		if strings.Contains(img.Title, "port") {
			port = img
		}
	}

	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)

	t.Run("gallery shows thumbnails with title, publisher, release date and annotation count", func(t *testing.T) {
		// Anonymous, the gallery sends the browser to sign in, and back.
		b.signIn(t, a, "/", "Ada Analyst")
		b.waitFor(t, "the cards", `document.querySelectorAll('.card').length === 3 && [...document.querySelectorAll('.card img')].every(i => i.complete && i.naturalWidth > 0)`)
		for _, img := range images {
			sel := fmt.Sprintf(`.card[data-image-id=%q]`, img.ID)
			got := evalJS[map[string]string](t, b, fmt.Sprintf(`(() => {
				const c = document.querySelector(%q);
				return {title: c.querySelector('.card-title').textContent, publisher: c.querySelector('.card-publisher').textContent,
					released: c.querySelector('.card-released').textContent, count: c.querySelector('.card-count').dataset.count,
					thumb: c.querySelector('img').naturalWidth + 'x' + c.querySelector('img').naturalHeight};
			})()`, sel))
			want := map[string]string{"title": img.Title, "publisher": img.Source.Publisher,
				"released": "released " + img.Source.ReleasedAt, "count": fmt.Sprint(img.AnnotationCount), "thumb": "512x384"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("card %s %s: got %q, want %q", img.ID, k, got[k], v)
				}
			}
		}
	})

	t.Run("annotator shows the image, its provenance and its annotations", func(t *testing.T) {
		b.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`.card[data-image-id=%q] a`, port.ID))))
		b.waitFor(t, "the annotator", `document.getElementById('annotator')?.dataset.ready === 'true'`)
		// The display image is drawn: the map canvas is not blank in the middle of the image.
		b.waitFor(t, "the image pixels", `(() => {
			const [w, h] = satmark.map.getSize();
			const [d] = satmark.shownColours([[w/2, h/2]]); return d[0] + d[1] + d[2] > 0;
		})()`)
		gotCount := evalJS[int](t, b, `document.querySelectorAll('#annotation-list li').length`)
		if want := len(a.annotationsOf(t, port.ID)); gotCount != want {
			t.Errorf("annotation list: got %d entries, want %d", gotCount, want)
		}
		if got := evalJS[string](t, b, `document.getElementById('prov-publisher').textContent`); got != port.Source.Publisher {
			t.Errorf("provenance publisher: got %q, want %q", got, port.Source.Publisher)
		}
		// Zoom in with the wheel and pan by dragging: the view changes.
		before := evalJS[float64](t, b, `satmark.map.getView().getResolution()`)
		b.do(t, chromedp.Click(chromedp.CSS(".ol-zoom-in")))
		b.waitFor(t, "the zoom", fmt.Sprintf(`satmark.map.getView().getResolution() < %f && !satmark.map.getView().getAnimating()`, before*0.9))
	})

	var polygon annotations.Annotation
	t.Run("draw a polygon with a label, confidence, identification and note", func(t *testing.T) {
		before := a.annotationsOf(t, port.ID)
		landing := a.label(t, "vessel/landing ship")
		b.do(t, chromedp.Evaluate[chromedp.Void](`satmark.map.getView().fit([1000, -2700, 3000, -1300])`))
		b.setField(t, "#draw-label", landing.ID)
		b.do(t, chromedp.Click(chromedp.CSS(`[data-tool=polygon]`)))
		pts := [][2]float64{{1500.5, 1800.25}, {1900, 1790}, {1950, 2100}, {1520, 2150}}
		for _, p := range pts {
			b.clickImage(t, p[0], p[1])
		}
		b.clickImage(t, pts[0][0], pts[0][1]) // close the ring
		b.waitFor(t, "the saved polygon", fmt.Sprintf(`document.querySelectorAll('#annotation-list li').length === %d && document.getElementById('save-state').textContent === 'All changes saved'`, len(before)+1))
		polygon = newest(t, before, a.annotationsOf(t, port.ID))
		if polygon.Shape != annotations.ShapePolygon || polygon.Label.ID != landing.ID {
			t.Fatalf("saved %s labelled %v, want polygon labelled landing ship", polygon.Shape, polygon.Label.Path)
		}
		ring := polygon.Geometry.Coordinates[0]
		if len(ring) != 5 {
			t.Fatalf("ring has %d positions, want 5: %v", len(ring), ring)
		}
		for i, p := range pts {
			if !near(ring[i], annotations.Position(p), 2) {
				t.Errorf("vertex %d: got %v, want about %v (clicked there)", i, ring[i], p)
			}
		}
		if polygon.CreatedBy != "Ada Analyst" {
			t.Errorf("created_by: got %q, want Ada Analyst", polygon.CreatedBy)
		}
		// The new annotation is selected: fill in the editor.
		b.waitFor(t, "the editor", `!document.getElementById('editor').hidden`)
		b.setField(t, "#edit-confidence", "probable")
		b.waitFor(t, "confidence saved", `satmark.annotations().some(a => a.properties.confidence === 'probable')`)
		b.do(t, chromedp.Click(chromedp.ID("edit-identification")), chromedp.SendKeys(chromedp.ID("edit-identification"), "Ropucha-class\t"))
		b.waitFor(t, "identification saved", `satmark.annotations().some(a => a.properties.identification === 'Ropucha-class')`)
		b.setField(t, "#edit-note", "Bow ramp down; "+xss)
		b.waitFor(t, "note saved", `satmark.annotations().some(a => (a.properties.note || '').startsWith('Bow ramp'))`)
		got, err := a.Store.Annotation(ctx, polygon.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Confidence != annotations.Probable || got.Identification != "Ropucha-class" || got.Note != "Bow ramp down; "+xss || got.Version != 4 {
			t.Errorf("stored: confidence %q, identification %q, note %q, version %d; want probable, Ropucha-class, the note, 4",
				got.Confidence, got.Identification, got.Note, got.Version)
		}
		polygon = got
	})

	t.Run("draw a point, a line, a rectangle and a rotated rectangle", func(t *testing.T) {
		cases := []struct {
			tool, label string
			clicks      [][2]float64
			drag        bool
		}{
			{"point", "vehicle", [][2]float64{{1200.75, 1400.5}}, false},
			{"line", "vehicle", [][2]float64{{1100, 2400}, {1400, 2450}, {1600, 2600}}, false},
			{"rectangle", "facility/pier", [][2]float64{{2200, 1500}, {2600, 1700}}, true},
			{"rotated_rectangle", "vessel/frigate", [][2]float64{{2300, 2000}, {2700, 2200}, {2650, 2300}}, false},
		}
		for _, tc := range cases {
			before := a.annotationsOf(t, port.ID)
			b.setField(t, "#draw-label", a.label(t, tc.label).ID)
			b.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-tool=%s]`, tc.tool))))
			if tc.drag {
				// A rectangle is two clicks: one corner, then the opposite one.
				b.clickImage(t, tc.clicks[0][0], tc.clicks[0][1])
				b.clickImage(t, tc.clicks[1][0], tc.clicks[1][1])
			} else {
				for i, p := range tc.clicks {
					if tc.tool == "line" && i == len(tc.clicks)-1 {
						sx, sy := b.screen(t, p[0], p[1])
						b.do(t, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, sx, sy), chromedp.MouseClickXY(sx, sy), chromedp.MouseClickXY(sx, sy, chromedp.ClickCount(2)))
						continue
					}
					b.clickImage(t, p[0], p[1])
				}
			}
			b.waitFor(t, "the saved "+tc.tool, fmt.Sprintf(`document.querySelectorAll('#annotation-list li').length === %d && document.getElementById('save-state').textContent === 'All changes saved'`, len(before)+1))
			got := newest(t, before, a.annotationsOf(t, port.ID))
			if string(got.Shape) != tc.tool {
				t.Errorf("%s: saved shape %q", tc.tool, got.Shape)
			}
			if got.Label.ID != a.label(t, tc.label).ID {
				t.Errorf("%s: saved label %v, want %s", tc.tool, got.Label.Path, tc.label)
			}
			first := got.Geometry.Coordinates[0][0]
			if !near(first, annotations.Position(tc.clicks[0]), 2) && tc.tool != "rectangle" {
				t.Errorf("%s: first position %v, want about %v", tc.tool, first, tc.clicks[0])
			}
			switch tc.tool {
			case "line":
				if n := len(got.Geometry.Coordinates[0]); n != 3 {
					t.Errorf("line: %d positions, want 3", n)
				}
			case "rectangle":
				m := got.Geometry.Measure(got.Shape)
				if math.Abs(m.AreaPx2-400*200) > 400*200*0.02 {
					t.Errorf("rectangle: area %.0f px², want about %d", m.AreaPx2, 400*200)
				}
			case "rotated_rectangle":
				m := got.Geometry.Measure(got.Shape)
				if want := math.Hypot(400, 200); math.Abs(m.LengthPx-want) > 3 {
					t.Errorf("rotated rectangle: length %.1f px, want about %.1f", m.LengthPx, want)
				}
			}
		}
		b.do(t, chromedp.Click(chromedp.CSS(`[data-tool=select]`)))
	})

	t.Run("move and reshape the polygon, then delete the point", func(t *testing.T) {
		b.selectInList(t, polygon.ID)
		ring := polygon.Geometry.Coordinates[0]
		// Move: drag from inside the polygon.
		b.dragImage(t, [2]float64{1700, 1950}, [2]float64{1800, 2000})
		b.waitFor(t, "the move saved", fmt.Sprintf(`satmark.annotations().find(a => a.id === %q).version === %d`, polygon.ID, polygon.Version+1))
		moved, _ := a.Store.Annotation(ctx, polygon.ID)
		if p := moved.Geometry.Coordinates[0][0]; !near(p, annotations.Position{ring[0][0] + 100, ring[0][1] + 50}, 3) {
			t.Errorf("moved vertex 0: got %v, want about %v + (100, 50)", p, ring[0])
		}
		// Reshape: drag one vertex.
		v := moved.Geometry.Coordinates[0][2]
		b.dragImage(t, [2]float64(v), [2]float64{v[0] + 120, v[1] + 80})
		b.waitFor(t, "the reshape saved", fmt.Sprintf(`satmark.annotations().find(a => a.id === %q).version === %d`, polygon.ID, moved.Version+1))
		reshaped, _ := a.Store.Annotation(ctx, polygon.ID)
		if p := reshaped.Geometry.Coordinates[0][2]; !near(p, annotations.Position{v[0] + 120, v[1] + 80}, 3) {
			t.Errorf("reshaped vertex 2: got %v, want about %v", p, []float64{v[0] + 120, v[1] + 80})
		}
		if p := reshaped.Geometry.Coordinates[0][0]; p != moved.Geometry.Coordinates[0][0] {
			t.Errorf("vertex 0 moved during the reshape: %v -> %v", moved.Geometry.Coordinates[0][0], p)
		}
		polygon = reshaped

		// Delete the point: select it in the list, press Delete.
		var point annotations.Annotation
		for _, ann := range a.annotationsOf(t, port.ID) {
			if ann.Shape == annotations.ShapePoint && ann.CreatedBy == "Ada Analyst" {
				point = ann
			}
		}
		n := len(a.annotationsOf(t, port.ID))
		b.selectInList(t, point.ID)
		b.waitFor(t, "the point selected", `!document.getElementById('editor').hidden`)
		b.do(t, chromedp.Click(chromedp.ID("delete-annotation")))
		b.waitFor(t, "the deletion", fmt.Sprintf(`document.querySelectorAll('#annotation-list li').length === %d`, n-1))
		if _, err := a.Store.Annotation(ctx, point.ID); err == nil {
			t.Error("the deleted point is still stored")
		}
	})

	t.Run("a failed save is shown to the user and the stored version kept", func(t *testing.T) {
		b.selectInList(t, polygon.ID)
		// Someone else saves a change first.
		note := `{"note": "Checked against a second source"}`
		v := polygon.Version
		other, err := a.Store.UpdateAnnotation(ctx, "Bob Reviewer", polygon.ID, annotations.AnnotationInput{Properties: json.RawMessage(note), Version: &v})
		if err != nil {
			t.Fatal(err)
		}
		b.setField(t, "#edit-confidence", "confirmed")
		b.waitFor(t, "the conflict message", `document.getElementById('flash').classList.contains('error') && document.getElementById('flash').textContent.includes('Someone else changed')`)
		b.waitFor(t, "the other version shown", `document.getElementById('edit-note').value === 'Checked against a second source'`)
		if got := evalJS[string](t, b, `document.getElementById('save-state').textContent`); !strings.HasPrefix(got, "Not saved") {
			t.Errorf("save state: got %q, want it to say the change was not saved", got)
		}
		stored, _ := a.Store.Annotation(ctx, polygon.ID)
		if stored.Confidence != annotations.Probable || stored.Version != other.Version {
			t.Errorf("stored after the refused save: confidence %q version %d; want Bob's version %d untouched", stored.Confidence, stored.Version, other.Version)
		}
		polygon = stored
	})

	t.Run("a reload shows exactly what was drawn and the history lists every change", func(t *testing.T) {
		b.do(t, chromedp.Reload())
		b.waitFor(t, "the annotator", `document.getElementById('annotator')?.dataset.ready === 'true'`)
		inPage := evalJS[[]annotations.Annotation](t, b, `satmark.annotations()`)
		stored := a.annotationsOf(t, port.ID)
		if len(inPage) != len(stored) {
			t.Fatalf("after reload: %d annotations in the page, %d stored", len(inPage), len(stored))
		}
		byID := map[string]annotations.Annotation{}
		for _, s := range stored {
			byID[s.ID] = s
		}
		for _, p := range inPage {
			s, ok := byID[p.ID]
			if !ok {
				t.Errorf("annotation %s in the page is not stored", p.ID)
				continue
			}
			pg, _ := json.Marshal(p.Geometry)
			sg, _ := json.Marshal(s.Geometry)
			if !bytes.Equal(pg, sg) || p.Version != s.Version || p.Label.ID != s.Label.ID {
				t.Errorf("annotation %s differs after reload:\npage   %s v%d\nstored %s v%d", p.ID, pg, p.Version, sg, s.Version)
			}
		}
		// The note with markup shows as text.
		b.selectInList(t, polygon.ID)
		b.do(t, chromedp.Click(chromedp.ID("show-history")))
		b.waitFor(t, "the history", `!document.getElementById('history').hidden && document.querySelectorAll('#history li').length > 0`)
		revs, err := a.Store.History(ctx, polygon.ID)
		if err != nil {
			t.Fatal(err)
		}
		items := evalJS[[]string](t, b, `[...document.querySelectorAll('#history li')].map(li => li.textContent)`)
		if len(items) != len(revs) {
			t.Fatalf("history shows %d entries, want %d: %q", len(items), len(revs), items)
		}
		want := []string{"created", "confidence", "identification", "note", "moved", "reshaped", "note"}
		for i, w := range want {
			if i >= len(items) {
				t.Errorf("history entry %d is missing, want one mentioning %q", i, w)
			} else if !strings.Contains(items[i], w) {
				t.Errorf("history entry %d: %q, want it to mention %q", i, items[i], w)
			}
		}
		if !strings.Contains(items[0], "Ada Analyst") || !strings.Contains(items[len(items)-1], "Bob Reviewer") {
			t.Errorf("history should name who made each change: %q", items)
		}
	})

	t.Run("export GeoJSON for this image and for all images filtered by label and image", func(t *testing.T) {
		// The sample port is georeferenced: its export is RFC 7946 longitude/latitude.
		var lonlat struct {
			Type           string `json:"type"`
			Georeferencing struct {
				Images []struct {
					ID        string `json:"id"`
					Transform string `json:"transform"`
				} `json:"images"`
			} `json:"georeferencing"`
			BBox     []float64 `json:"bbox"`
			Features []struct {
				ID       string `json:"id"`
				Geometry struct {
					Type        string          `json:"type"`
					Coordinates json.RawMessage `json:"coordinates"`
				} `json:"geometry"`
				Properties struct {
					Note          string               `json:"note"`
					PixelGeometry annotations.Geometry `json:"pixel_geometry"`
				} `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(b.download(t, "#export-image"), &lonlat); err != nil {
			t.Fatalf("the image export is not JSON: %v", err)
		}
		if lonlat.Type != "FeatureCollection" || len(lonlat.Georeferencing.Images) != 1 || lonlat.Georeferencing.Images[0].ID != port.ID {
			t.Errorf("lon/lat export header: %+v", lonlat.Georeferencing)
		}
		if len(lonlat.BBox) != 4 || lonlat.BBox[0] < 131.86 || lonlat.BBox[2] > 131.92 || lonlat.BBox[1] < 43.09 || lonlat.BBox[3] > 43.13 {
			t.Errorf("lon/lat export bbox %v, want it inside the port's placement at Vladivostok", lonlat.BBox)
		}
		found := false
		for _, f := range lonlat.Features {
			if f.ID == polygon.ID {
				pg, _ := json.Marshal(f.Properties.PixelGeometry)
				sg, _ := json.Marshal(polygon.Geometry)
				found = f.Geometry.Type == "Polygon" && f.Properties.Note == polygon.Note && bytes.Equal(pg, sg)
			}
		}
		if !found {
			t.Errorf("the lon/lat export lacks the drawn polygon with its note and pixel geometry")
		}

		// The same annotations in pixels, from the other exports.
		b.do(t, chromedp.Click(chromedp.CSS("details.menu summary")))
		data := b.download(t, "#export-pixels")
		var fc struct {
			Type            string `json:"type"`
			CoordinateSpace struct {
				Type  string `json:"type"`
				Image struct {
					ID     string `json:"id"`
					SHA256 string `json:"sha256"`
				} `json:"image"`
			} `json:"coordinate_space"`
			Features []struct {
				ID         string `json:"id"`
				Properties struct {
					LabelPath  []string `json:"label_path"`
					Note       string   `json:"note"`
					Provenance struct {
						Publisher string `json:"publisher"`
					} `json:"provenance"`
					Image struct {
						ID string `json:"id"`
					} `json:"image"`
				} `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(data, &fc); err != nil {
			t.Fatalf("the image export is not JSON: %v", err)
		}
		if fc.Type != "FeatureCollection" || fc.CoordinateSpace.Type != "image-pixels" || fc.CoordinateSpace.Image.SHA256 != port.SHA256 {
			t.Errorf("image export header: %+v", fc.CoordinateSpace)
		}
		if want := len(a.annotationsOf(t, port.ID)); len(fc.Features) != want {
			t.Errorf("image export: %d features, want %d", len(fc.Features), want)
		}
		found = false
		for _, f := range fc.Features {
			if f.ID == polygon.ID {
				found = f.Properties.Note == polygon.Note && f.Properties.Provenance.Publisher == port.Source.Publisher
			}
		}
		if !found {
			t.Errorf("image export lacks the drawn polygon with its note and provenance")
		}

		b.do(t, chromedp.Navigate(a.url+"/"))
		b.waitFor(t, "the gallery", `document.querySelectorAll('.card').length === 3`)
		b.setField(t, "#export-label", a.label(t, "vessel").ID)
		all := b.download(t, "#export-all")
		fc.Features = nil
		if err := json.Unmarshal(all, &fc); err != nil {
			t.Fatalf("the collection export is not JSON: %v", err)
		}
		vessels, portVessels := 0, 0
		for _, img := range images {
			for _, ann := range a.annotationsOf(t, img.ID) {
				if ann.Label.Path[0] == "vessel" {
					vessels++
					if img.ID == port.ID {
						portVessels++
					}
				}
			}
		}
		for _, f := range fc.Features {
			if f.Properties.LabelPath[0] != "vessel" {
				t.Errorf("label filter let through %v", f.Properties.LabelPath)
			}
		}
		if len(fc.Features) != vessels {
			t.Errorf("export of vessels: %d features, want %d", len(fc.Features), vessels)
		}
		b.setField(t, "#export-image", port.ID)
		one := b.download(t, "#export-all")
		fc.Features = nil
		if err := json.Unmarshal(one, &fc); err != nil {
			t.Fatalf("the filtered export is not JSON: %v", err)
		}
		for _, f := range fc.Features {
			if f.Properties.Image.ID != port.ID {
				t.Errorf("image filter let through image %s", f.Properties.Image.ID)
			}
		}
		if len(fc.Features) != portVessels {
			t.Errorf("export of the port's vessels: %d features, want %d", len(fc.Features), portVessels)
		}

		// The dataset builder's form: the port cut into YOLO-OBB chips, with its card.
		b.setField(t, "#dataset-format", "yolo-obb")
		b.setField(t, "#dataset-image", port.ID)
		b.setField(t, "#dataset-chip", "1024")
		b.setField(t, "#dataset-split", "1,0,0")
		zipped := b.download(t, "#dataset-build")
		zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
		if err != nil {
			t.Fatalf("the dataset is not a zip: %v", err)
		}
		names := map[string]*zip.File{}
		chips := 0
		for _, f := range zr.File {
			names[f.Name] = f
			if strings.HasPrefix(f.Name, "train/images/") {
				chips++
			}
		}
		for _, want := range []string{"data.yaml", "dataset.json", "README.md", "train/satmark-export.json"} {
			if names[want] == nil {
				t.Errorf("the dataset zip has no %s", want)
			}
		}
		if chips == 0 {
			t.Error("the dataset zip has no chips in train/images")
		}
		if f := names["README.md"]; f != nil {
			r, _ := f.Open()
			card, _ := io.ReadAll(r)
			r.Close()
			if !strings.Contains(string(card), port.Source.Publisher) {
				t.Errorf("the dataset card does not name the port's publisher %q", port.Source.Publisher)
			}
		}
	})

	t.Run("upload an image with the file picker and annotate it; the same bytes again find it", func(t *testing.T) {
		photo := testJPEG(t, 800, 600, 7)
		b.do(t, chromedp.Navigate(a.url+"/"))
		b.waitFor(t, "the gallery", `document.querySelectorAll('.card').length === 3`)
		b.do(t, chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{photo}))
		b.setField(t, `#upload-form [name=title]`, "Ships at pier "+xss)
		b.setField(t, `#upload-form [name=publisher]`, "National Intelligence Service, Republic of Korea")
		b.setField(t, `#upload-form [name=source_url]`, "https://example.org/release")
		b.setField(t, `#upload-form [name=released_at]`, "2024-10-18")
		b.setField(t, `#upload-form [name=captured_from]`, "2024-10-08")
		b.setField(t, `#upload-form [name=captured_to]`, "2024-10-13")
		b.setField(t, `#upload-form [name=claim]`, "Russian landing ships carried North Korean troops.")
		b.do(t, chromedp.Click(chromedp.ID("upload-submit")))
		b.waitFor(t, "the upload", `document.querySelector('#upload-results li.ok') !== null`)
		imgs, _ := a.Store.Images(ctx)
		if len(imgs) != 4 {
			t.Fatalf("after the upload: %d images, want 4", len(imgs))
		}
		up := imgs[0]
		if up.Title != "Ships at pier "+xss || up.Source.ReleasedAt != "2024-10-18" || up.CapturedTo != "2024-10-13" || up.Width != 800 {
			t.Errorf("stored upload: %+v", up)
		}
		if got := evalJS[string](t, b, fmt.Sprintf(`document.querySelector('.card[data-image-id=%q] .card-title').textContent`, up.ID)); got != up.Title {
			t.Errorf("new card title: got %q, want the title as text", got)
		}
		originals := countFiles(t, filepath.Join(a.Config.DataDir, "originals"))

		// The same bytes again.
		b.do(t, chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{photo}))
		b.do(t, chromedp.Click(chromedp.ID("upload-submit")))
		b.waitFor(t, "the second upload", `document.querySelector('#upload-results li.existing') !== null`)
		if imgs, _ := a.Store.Images(ctx); len(imgs) != 4 {
			t.Errorf("after uploading the same bytes: %d images, want still 4", len(imgs))
		}
		if n := countFiles(t, filepath.Join(a.Config.DataDir, "originals")); n != originals {
			t.Errorf("originals: %d files, want still %d", n, originals)
		}

		// Open it and annotate.
		b.do(t, chromedp.Click(chromedp.CSS(`#upload-results li.ok a.open-image`)))
		b.waitFor(t, "the annotator", `document.getElementById('annotator')?.dataset.ready === 'true'`)
		if got := evalJS[string](t, b, `document.getElementById('image-title').textContent`); got != up.Title {
			t.Errorf("annotator title: got %q, want the title as text", got)
		}
		b.setField(t, "#draw-label", a.label(t, "vessel/landing ship").ID)
		b.do(t, chromedp.Click(chromedp.CSS(`[data-tool=point]`)))
		b.clickImage(t, 400.5, 300.5)
		b.waitFor(t, "the saved point", `document.querySelectorAll('#annotation-list li').length === 1 && document.getElementById('save-state').textContent === 'All changes saved'`)
		anns := a.annotationsOf(t, up.ID)
		if len(anns) != 1 || !near(anns[0].Geometry.Coordinates[0][0], annotations.Position{400.5, 300.5}, 1) {
			t.Errorf("annotation on the upload: %+v", anns)
		}
	})

	t.Run("upload by drag and drop into the gallery", func(t *testing.T) {
		photo := testJPEG(t, 640, 480, 42)
		b.do(t, chromedp.Navigate(a.url+"/"))
		b.waitFor(t, "the gallery", `document.querySelectorAll('.card').length === 4`)
		center := evalJS[[]float64](t, b, `(() => { const r = document.getElementById('dropzone').getBoundingClientRect(); return [r.left + r.width/2, r.top + r.height/2]; })()`)
		data := &cdpinput.DragData{Files: []string{photo}, DragOperationsMask: 1, Items: []*cdpinput.DragDataItem{}}
		for _, typ := range []cdpinput.DispatchDragEventType{cdpinput.DispatchDragEventTypeDragEnter, cdpinput.DispatchDragEventTypeDragOver, cdpinput.DispatchDragEventTypeDrop} {
			b.do(t, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, cdpinput.DispatchDragEvent, cdpinput.DispatchDragEventParams{Type: typ, X: center[0], Y: center[1], Data: data})
				return err
			}))
		}
		b.waitFor(t, "the dropped file", fmt.Sprintf(`document.getElementById('chosen-files').textContent === %q`, filepath.Base(photo)))
		b.setField(t, `#upload-form [name=title]`, "Dropped image")
		b.setField(t, `#upload-form [name=publisher]`, "Example newspaper")
		b.do(t, chromedp.Click(chromedp.ID("upload-submit")))
		b.waitFor(t, "the upload", `[...document.querySelectorAll('#upload-results li.ok')].some(li => li.textContent.includes('Dropped image'))`)
		imgs, _ := a.Store.Images(ctx)
		if len(imgs) != 5 || imgs[0].Title != "Dropped image" || imgs[0].Source.Publisher != "Example newspaper" || imgs[0].Width != 640 {
			t.Errorf("after the drop: %d images, newest %+v", len(imgs), imgs[0])
		}
	})
}

// bigJPEG writes a w×h JPEG with detail everywhere, a strip at a time.
func bigJPEG(t *testing.T, w, h int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("scene-%dx%d.jpg", w, h))
	jw, err := imagery.NewJPEGWriter(path, w, h, 85)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]byte, w*3*16)
	for y := 0; y < h; y += 16 {
		n := min(16, h-y)
		for r := 0; r < n; r++ {
			for x := 0; x < w; x++ {
				i := r*w*3 + 3*x
				rows[i], rows[i+1], rows[i+2] = byte(x/7+(y+r)/11), byte((x^(y+r))&255), byte(x*(y+r)>>8)
			}
		}
		if err := jw.WriteRows(rows, w*3, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBrowserLargeImageDeepZoom(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	const w, h = 12000, 9000
	big := bigJPEG(t, w, h)

	// Upload with the file picker: the card appears at once, showing the build's progress.
	a.addUser(t, "Deep Zoomer", annotations.RoleAnalyst)
	b.signIn(t, a, "/", "Deep Zoomer")
	b.waitFor(t, "the gallery", `document.querySelectorAll('.card').length === 3`)
	b.do(t, chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{big}))
	b.setField(t, `#upload-form [name=title]`, "Large scene")
	b.do(t, chromedp.Click(chromedp.ID("upload-submit")))
	b.waitFor(t, "the new card", `document.querySelectorAll('.card').length === 4`)
	if !evalJS[bool](t, b, `!!document.querySelector('#cards .card:first-child .thumb-pending progress')`) {
		t.Error("the new card does not show the pyramid's progress")
	}
	imgs, _ := a.Store.Images(ctx)
	id := imgs[0].ID
	if imgs[0].Width != w || imgs[0].Height != h {
		t.Fatalf("stored %d×%d, want %d×%d", imgs[0].Width, imgs[0].Height, w, h)
	}
	// When the pyramid is built, the progress gives way to the thumbnail.
	b.waitFor(t, "the thumbnail", fmt.Sprintf(`(() => {
		const c = document.querySelector('.card[data-image-id=%q]');
		const img = c.querySelector('img'); return c.dataset.pyramid === 'done' && img && img.complete && img.naturalWidth === 512;
	})()`, id))

	// Open it: the view shows the whole image from the coarse tiles.
	b.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`.card[data-image-id=%q] a`, id))))
	b.waitFor(t, "the tiles", `document.getElementById('annotator')?.dataset.imageReady === 'true' && satmark.tileStats.loaded > 0`)
	// Zoom in with the + button until one image pixel is at least one screen pixel.
	for i := 0; i < 12; i++ {
		if evalJS[float64](t, b, `satmark.map.getView().getResolution()`) <= 1 {
			break
		}
		b.do(t, chromedp.Click(chromedp.CSS(".ol-zoom-in")))
		b.waitFor(t, "the zoom", `!satmark.map.getView().getAnimating()`)
	}
	if res := evalJS[float64](t, b, `satmark.map.getView().getResolution()`); res > 1 {
		t.Fatalf("after zooming in, %.2f image pixels a screen pixel, want at most 1", res)
	}
	// Full-resolution tiles (scale factor 1: a 256-px region served at 256 px) arrive.
	b.waitFor(t, "full-resolution tiles", fmt.Sprintf(`(() => {
		return performance.getEntriesByType('resource').some(e => /\/iiif\/3\/%s\/\d+,\d+,\d+,\d+\/\d+,\d+\/0\/default\.jpg$/.test(e.name)
			&& (() => { const m = e.name.match(/(\d+),(\d+),(\d+),(\d+)\/(\d+),(\d+)\/0/); return m[3] === m[5]; })());
	})()`, id))
	// Draw a point at full resolution.
	center := evalJS[[]float64](t, b, `satmark.toPixel(satmark.map.getView().getCenter())`)
	b.setField(t, "#draw-label", a.label(t, "vehicle").ID)
	b.do(t, chromedp.Click(chromedp.CSS(`[data-tool=point]`)))
	b.clickImage(t, center[0]+0.25, center[1]+0.5)
	b.waitFor(t, "the saved point", `document.querySelectorAll('#annotation-list li').length === 1 && document.getElementById('save-state').textContent === 'All changes saved'`)
	anns := a.annotationsOf(t, id)
	if len(anns) != 1 || !near(anns[0].Geometry.Coordinates[0][0], annotations.Position{center[0] + 0.25, center[1] + 0.5}, 0.6) {
		t.Errorf("annotation at full resolution: %+v, want a point about %v", anns, center)
	}
	// No tile failed, in the page's count or in the browser's own record of requests.
	if failed := evalJS[int](t, b, `satmark.tileStats.failed`); failed != 0 {
		t.Errorf("%d tiles failed to load", failed)
	}
	bad := evalJS[[]string](t, b, `performance.getEntriesByType('resource').filter(e => e.name.includes('/iiif/') && e.responseStatus && e.responseStatus !== 200).map(e => e.responseStatus + ' ' + e.name)`)
	if len(bad) > 0 {
		t.Errorf("IIIF requests that did not answer 200: %v", bad)
	}
}

// TestBrowserGeoreference places three control points on the (only GSD-measured) sample
// base in the editor, sees the fit's RMS, saves, and exports the base's annotations in
// longitude and latitude; the map page then shows it.
func TestBrowserGeoreference(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, _ := a.Store.Images(ctx)
	var base annotations.Image
	for _, img := range images {
		if strings.Contains(img.Title, "base") {
			base = img
		}
	}
	if base.Georeferenced || base.GSD == nil {
		t.Fatalf("the sample base should start with a GSD and no georeference: %+v", base)
	}

	a.addUser(t, "Geo Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+base.ID+"/georeference", "Geo Analyst")
	b.waitFor(t, "the editor", `document.getElementById('georef')?.dataset.ready === 'true' && document.getElementById('georef').dataset.imageReady === 'true'`)
	// Three features of the image and where they are: pixel → lon/lat.
	pairs := [][2][2]float64{
		{{500, 400}, {131.93, 43.205}},
		{{3500, 600}, {131.975, 43.203}},
		{{2000, 2700}, {131.953, 43.183}},
	}
	// Look at that area on the map, as a user would after panning there.
	b.do(t, chromedp.Evaluate[chromedp.Void](`(() => {
		const v = satmark.earthMap.getView();
		v.fit(satmark.lonLatExtent([131.92, 43.18, 131.985, 43.21]), {padding: [30, 30, 30, 30]});
	})()`))
	b.waitFor(t, "the map view", `!satmark.earthMap.getView().getAnimating()`)
	for i, p := range pairs {
		b.do(t, chromedp.Click(chromedp.ID("add-point")))
		b.waitFor(t, "the image mode", `document.getElementById('georef').dataset.mode === 'image'`)
		sx, sy := screenOf(t, b, fmt.Sprintf(`satmark.imagePixelToScreen([%f, %f])`, p[0][0], p[0][1]), "image-map")
		b.do(t, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, sx, sy), chromedp.MouseClickXY(sx, sy))
		b.waitFor(t, "the map mode", `document.getElementById('georef').dataset.mode === 'earth'`)
		// Pan the map to the place, as a user would, then click it.
		b.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`satmark.centerOn([%f, %f])`, p[1][0], p[1][1])))
		sx, sy = screenOf(t, b, fmt.Sprintf(`satmark.lonLatToScreen([%f, %f])`, p[1][0], p[1][1]), "earth-map")
		b.do(t, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, sx, sy), chromedp.MouseClickXY(sx, sy))
		b.waitFor(t, fmt.Sprintf("point %d", i+1), fmt.Sprintf(`document.querySelectorAll('#gcp-table tbody tr:not(.pending)').length === %d`, i+1))
	}
	b.waitFor(t, "the fit", `document.getElementById('fit-summary').textContent.startsWith('RMS')`)
	if rows := evalJS[int](t, b, `[...document.querySelectorAll('#gcp-table .residual-m')].filter(td => td.textContent !== '').length`); rows != 3 {
		t.Errorf("%d points show a residual, want 3", rows)
	}
	b.do(t, chromedp.Click(chromedp.ID("save-georef")))
	b.waitFor(t, "the save", `document.getElementById('georef').dataset.saved === 'true'`)
	g, err := a.Store.Georeference(ctx, base.ID)
	if err != nil {
		t.Fatalf("nothing saved: %v", err)
	}
	if g.Method != annotations.GeorefControlPoints || g.Transform != "affine" || len(g.ControlPoints) != 3 {
		t.Fatalf("saved %+v, want three points fitted affine", g)
	}
	for i, p := range pairs {
		got := g.ControlPoints[i]
		if math.Abs(got.Pixel[0]-p[0][0]) > 2 || math.Abs(got.Pixel[1]-p[0][1]) > 2 ||
			math.Abs(got.LonLat[0]-p[1][0]) > 1e-4 || math.Abs(got.LonLat[1]-p[1][1]) > 1e-4 {
			t.Errorf("point %d saved as %+v, want about %v", i+1, got, p)
		}
	}

	// The annotator's export is now in longitude and latitude.
	b.do(t, chromedp.Navigate(a.url+"/images/"+base.ID))
	b.waitFor(t, "the annotator", `document.getElementById('annotator')?.dataset.ready === 'true'`)
	var fc struct {
		Georeferencing struct {
			Images []struct {
				Transform string `json:"transform"`
			} `json:"images"`
		} `json:"georeferencing"`
		Features []struct {
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b.download(t, "#export-image"), &fc); err != nil {
		t.Fatalf("the export is not JSON: %v", err)
	}
	if len(fc.Georeferencing.Images) != 1 || fc.Georeferencing.Images[0].Transform != "affine" || len(fc.Features) != base.AnnotationCount {
		t.Fatalf("export: %+v with %d features, want the affine georeference and %d features", fc.Georeferencing, len(fc.Features), base.AnnotationCount)
	}
	var nums []float64
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case float64:
			nums = append(nums, x)
		}
	}
	for _, f := range fc.Features {
		var v any
		json.Unmarshal(f.Geometry.Coordinates, &v)
		walk(v)
	}
	for i := 0; i+1 < len(nums); i += 2 {
		if nums[i] < 131.9 || nums[i] > 132.0 || nums[i+1] < 43.17 || nums[i+1] > 43.22 {
			t.Fatalf("a position %v,%v lies outside the area the control points put the image in", nums[i], nums[i+1])
		}
	}

	// The map page lists the georeferenced images: the two ports, and the base placed here.
	b.do(t, chromedp.Navigate(a.url+"/map"))
	b.waitFor(t, "the map", `document.querySelector('.earth-page')?.dataset.ready === 'true'`)
	if n := evalJS[int](t, b, `document.querySelectorAll('#footprint-list li').length`); n != 3 {
		t.Errorf("the map lists %d georeferenced images, want 3", n)
	}
}

// screenOf evaluates an expression giving a position inside the element with that id
// and returns it in viewport coordinates.
func screenOf(t *testing.T, b *browserSession, expr, id string) (float64, float64) {
	t.Helper()
	p := evalJS[[]float64](t, b, fmt.Sprintf(`(() => { const r = document.getElementById(%q).getBoundingClientRect(); const p = %s; return [r.left + p[0], r.top + p[1]]; })()`, id, expr))
	return p[0], p[1]
}

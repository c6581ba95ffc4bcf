package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/figure/figuretest"
)

// TestBrowserFigureOfTheView: a viewer opens the sample base (a ground sample distance
// of 1 m a pixel, not placed), selects a vehicle, frames a part of the image, and
// downloads a 1000-px PNG figure of the view at 200 dpi from the Figure menu. The PNG,
// decoded, is 1000 px wide with a picture as tall as the view's region in proportion,
// a light caption band under it holding dark text, and a scale bar as long as its stated
// round length at 1 m a pixel, within 3 px. A width over the limit, a region off the
// image and unknown annotation ids are refused with messages that say why.
func TestBrowserFigureOfTheView(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	base := a.sampleImage(t, "synthetic-base-scene.jpg")
	if base.GSD == nil || *base.GSD != 1 {
		t.Fatalf("the sample base's GSD is %v, want 1 m", base.GSD)
	}
	var picked annotations.Annotation
	for _, an := range a.annotationsOf(t, base.ID) {
		if an.Geometry.Type == "Polygon" {
			picked = an
			break
		}
	}
	if picked.ID == "" {
		t.Fatal("the sample base has no polygon or box to select")
	}
	a.addUser(t, "Figure Viewer", annotations.RoleViewer)
	b.signIn(t, a, "/images/"+base.ID, "Figure Viewer")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true' && document.getElementById('annotator').dataset.imageReady === 'true'`)
	b.selectInList(t, picked.ID)

	// Frame the selected annotation at one image pixel a screen pixel.
	var cx, cy float64
	ring := picked.Geometry.Coordinates[0]
	for _, p := range ring {
		cx, cy = cx+p[0]/float64(len(ring)), cy+p[1]/float64(len(ring))
	}
	b.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const v = satmark.map.getView();
		v.setResolution(1);
		v.setCenter([%f, %f]);
		satmark.map.renderSync();
	})()`, cx, -cy)))
	b.waitFor(t, "the view framed", `!satmark.map.getView().getAnimating() && satmark.map.getView().getResolution() === 1`)
	ext := evalJS[[]float64](t, b, `satmark.map.getView().calculateExtent(satmark.map.getSize())`)
	x0, y0 := max(0, math.Floor(ext[0])), max(0, math.Floor(-ext[3]))
	x1, y1 := min(float64(base.Width), math.Ceil(ext[2])), min(float64(base.Height), math.Ceil(-ext[1]))
	rw, rh := x1-x0, y1-y0
	if rw < 100 || rh < 100 {
		t.Fatalf("the view shows %v×%v image pixels, want a sizeable region", rw, rh)
	}

	b.do(t, chromedp.Click(`#figure-button`))
	// Opening the menu offers the selection, and chooses it.
	b.waitFor(t, "the figure menu offering the selection", `document.getElementById('figure-menu').open && document.querySelector('#figure-annotations option[value=selected]').textContent === 'the 1 selected' && document.getElementById('figure-annotations').value === 'selected'`)
	b.setField(t, "#figure-width", "1000")
	b.setField(t, "#figure-dpi", "200")
	b.setField(t, "#figure-format", "png")
	data := b.download(t, "#figure-download")
	b.waitFor(t, "the figure made", `document.getElementById('figure-form').dataset.state === 'done'`)
	status := evalJS[string](t, b, `document.getElementById('figure-status').textContent`)

	fig, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("the downloaded figure is no PNG: %v", err)
	}
	const W = 1000
	picH := int(math.Round(W * rh / rw))
	if bd := fig.Bounds(); bd.Dx() != W || bd.Dy() <= picH+20 {
		t.Fatalf("figure %v, want %d px wide over a caption under the %d-px picture", bd, W, picH)
	}
	light, dark := figuretest.Band(fig, image.Rect(0, picH, W, fig.Bounds().Dy()))
	if light < 0.8 || dark < 0.005 {
		t.Errorf("caption band %.1f %% light, %.2f %% dark, want a light band with dark text", 100*light, 100*dark)
	}
	m := regexp.MustCompile(`scale bar ([0-9.]+) (k?m)`).FindStringSubmatch(status)
	if m == nil {
		t.Fatalf("the status reads %q, want the scale bar's length", status)
	}
	metres, _ := strconv.ParseFloat(m[1], 64)
	if m[2] == "km" {
		metres *= 1000
	}
	mpp := *base.GSD * rw / W // metres a figure pixel
	want := metres / mpp
	got, row := figuretest.LongestDarkRun(fig, image.Rect(0, picH*3/4, W/2, picH))
	if math.Abs(float64(got)-want) > 3 {
		t.Errorf("scale bar %d px (row %d), want %.1f px: %g m at %.3f m a figure pixel", got, row, want, metres, mpp)
	}

	// Refusals, said on the page.
	b.do(t, chromedp.Evaluate[chromedp.Void](`(() => {
		const w = document.getElementById('figure-width');
		w.removeAttribute('max');
		w.value = '9000';
	})()`))
	b.do(t, chromedp.Click(`#figure-download`))
	b.waitFor(t, "the width refused", `document.getElementById('figure-form').dataset.state === 'failed'`)
	if s := evalJS[string](t, b, `document.getElementById('figure-status').textContent`); !strings.Contains(s, "at most 4096 px") {
		t.Errorf("a 9000-px figure: the page says %q, want the limit named", s)
	}
	csrf := `{'Content-Type': 'application/json', 'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content}`
	code, body := pageFetch(t, b, "/api/v1/images/"+base.ID+"/figure", fmt.Sprintf(`{method: 'POST', headers: %s, body: JSON.stringify({region: [0, 0, 100, 100], annotations: ['not-an-annotation', %q]})}`, csrf, picked.ID))
	if code != 400 || !strings.Contains(body, "not-an-annotation") || strings.Contains(body, picked.ID) {
		t.Errorf("unknown annotation ids: %d %s, want 400 naming only the unknown one", code, body)
	}
	code, body = pageFetch(t, b, fmt.Sprintf("/api/v1/images/%s/figure?region=%d,0,50,50", base.ID, base.Width), "{}")
	if code != 400 || !strings.Contains(body, "not inside") {
		t.Errorf("a region off the image: %d %s, want 400 saying it is not inside", code, body)
	}
}

// pageFetch calls fetch(url, init) in the page, as the signed-in user, and returns the
// answer's status and body.
func pageFetch(t *testing.T, b *browserSession, url, init string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	type answer struct {
		Status int    `json:"status"`
		Body   string `json:"body"`
	}
	js := fmt.Sprintf(`(async () => {
		const res = await fetch(%q, %s);
		return {status: res.status, body: await res.text()};
	})()`, url, init)
	got, err := chromedp.Run(ctx, chromedp.Evaluate[answer](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s in the page: %v", url, err)
	}
	return got.Status, got.Body
}

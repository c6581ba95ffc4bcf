package main

import (
	"context"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserAdjustments: an analyst raises the contrast and brightness of an image in
// the annotator's "Adjust" panel and sees the pixels change live; saves; after a reload
// the sliders and the pixels are as saved; a viewer who opens the image sees them
// applied too, with no Save button; the georeference editor applies them as well.
func TestBrowserAdjustments(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	images, err := a.Store.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var img annotations.Image
	for _, i := range images {
		if i.MediaType == "image/jpeg" {
			img = i
		}
	}
	if img.ID == "" {
		t.Fatal("no JPEG among the seeded images")
	}
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	a.addUser(t, "Vic Viewer", annotations.RoleViewer)
	page := "/images/" + img.ID
	ready := `document.getElementById('annotator')?.dataset.imageReady === 'true' && document.getElementById('adjust-panel')?.dataset.ready === 'true'`
	sliders := `['brightness', 'contrast', 'saturation', 'gamma'].map((k) => document.getElementById('adjust-' + k).value)`
	// shown is the colour at the middle of the map once every tile in view is drawn.
	shown := func(b *browserSession) [3]int {
		t.Helper()
		cctx, cancel := context.WithTimeout(b.ctx, step)
		defer cancel()
		v, err := chromedp.Run(cctx, chromedp.Evaluate[[]int](`new Promise((resolve) => {
			const m = satmark.map;
			m.once('rendercomplete', () => { const [w, h] = m.getSize(); resolve(satmark.shownColours([[w / 2, h / 2]])[0]); });
			m.render();
		})`, chromedp.EvalAwaitPromise))
		if err != nil || len(v) != 4 {
			t.Fatalf("the colour shown: %v, %v", v, err)
		}
		return [3]int{v[0], v[1], v[2]}
	}
	differ := func(x, y [3]int) int {
		d := 0
		for i := range x {
			d += max(x[i]-y[i], y[i]-x[i])
		}
		return d
	}

	ada := newBrowser(t)
	ada.signIn(t, a, page, "Ada Analyst")
	ada.waitFor(t, "the image and the Adjust panel", ready)
	ada.do(t, chromedp.Evaluate[chromedp.Void](`document.getElementById('adjust-panel').open = true`))
	before := shown(ada)
	if before == ([3]int{}) {
		t.Fatal("the middle of the image shows black before any adjustment")
	}
	ada.setField(t, "#adjust-contrast", "0.6")
	ada.setField(t, "#adjust-brightness", "0.3")
	live := shown(ada)
	if d := differ(live, before); d < 40 {
		t.Fatalf("contrast 0.6, brightness 0.3 changed the shown colour %v to %v only (by %d), want it to show at once", before, live, d)
	}
	t.Logf("the middle of the image: %v, with contrast 0.6 and brightness 0.3: %v", before, live)
	ada.do(t, chromedp.Click(chromedp.CSS("#adjust-save")))
	ada.waitFor(t, "the save", `!!document.getElementById('adjust-panel').dataset.saved`)
	saved, err := a.Store.Adjustments(ctx, img.ID)
	if err != nil || saved.Contrast != 0.6 || saved.Brightness != 0.3 || saved.Gamma != 1 || saved.UpdatedBy != "Ada Analyst" {
		t.Fatalf("stored %+v, %v; want Ada's contrast 0.6 and brightness 0.3", saved, err)
	}
	if log, _ := a.Store.AuditLog(ctx, annotations.AuditFilter{Action: "image.adjust"}); len(log) != 1 || log[0].Actor != "Ada Analyst" {
		t.Errorf("audit: %+v, want Ada's image.adjust", log)
	}

	ada.do(t, chromedp.Reload())
	ada.waitFor(t, "the image and the Adjust panel after a reload", ready)
	want := []string{"0.3", "0.6", "0", "1"}
	if got := evalJS[[]string](t, ada, sliders); !slices.Equal(got, want) {
		t.Errorf("after a reload the sliders say %v, want %v", got, want)
	}
	if got := shown(ada); differ(got, live) > 6 {
		t.Errorf("after a reload the middle shows %v, want the saved adjustments' %v", got, live)
	}

	// The georeference editor shows the image with them too (and changes them: e2e_adjust_elsewhere_test.go).
	ada.do(t, chromedp.Navigate(a.url+page+"/georeference"))
	ada.waitFor(t, "the georeference editor with the saved adjustments", `document.getElementById('georef')?.dataset.imageReady === 'true' &&
		satmark.imageAdjustments().contrast === 0.6 && satmark.imageAdjustments().brightness === 0.3`)

	vic := newBrowser(t)
	vic.signIn(t, a, page, "Vic Viewer")
	vic.waitFor(t, "the image and the Adjust panel for a viewer", ready)
	if got := evalJS[[]string](t, vic, sliders); !slices.Equal(got, want) {
		t.Errorf("the viewer's sliders say %v, want %v", got, want)
	}
	if evalJS[bool](t, vic, `!!document.getElementById('adjust-save')`) {
		t.Error("a viewer is offered Save")
	}
	if got := shown(vic); differ(got, live) > 6 {
		t.Errorf("the viewer sees %v in the middle, want the saved adjustments' %v (unadjusted %v)", got, live, before)
	}
}

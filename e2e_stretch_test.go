package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserAutoStretchAtEveryZoom: the Adjust panel's auto-stretch is the image's, not
// the view's. Turned on with the whole port in view and then zoomed into its middle, or
// turned on there, it gives the same levels, and the same ground spot shows the same
// colour (within 3 of 255 a channel).
func TestBrowserAutoStretchAtEveryZoom(t *testing.T) {
	a := startApp(t)
	port := a.sampleImage(t, "synthetic-port-scene.jpg")
	a.addUser(t, "Stretch Analyst", annotations.RoleAnalyst)
	b := newBrowser(t)
	b.signIn(t, a, "/images/"+port.ID, "Stretch Analyst")
	b.waitFor(t, "the image and the Adjust panel", `document.getElementById('annotator')?.dataset.imageReady === 'true' && document.getElementById('adjust-panel')?.dataset.ready === 'true'`)
	b.do(t, chromedp.Evaluate[chromedp.Void](`document.getElementById('adjust-panel').open = true`))
	spot := [2]float64{float64(port.Width) * 0.55, float64(port.Height) * 0.45}

	// colourAt is the colour the map shows at the spot once every tile in view is drawn.
	colourAt := func() [3]int {
		t.Helper()
		cctx, cancel := context.WithTimeout(b.ctx, step)
		defer cancel()
		v, err := chromedp.Run(cctx, chromedp.Evaluate[[]int](fmt.Sprintf(`new Promise((resolve) => {
			const m = satmark.map;
			m.once('rendercomplete', () => resolve(satmark.shownColours([satmark.imagePixelToScreen([%g, %g])])[0]));
			m.render();
		})`, spot[0], spot[1]), chromedp.EvalAwaitPromise))
		if err != nil || len(v) != 4 {
			t.Fatalf("the colour shown: %v, %v", v, err)
		}
		return [3]int{v[0], v[1], v[2]}
	}
	stretch := func(on bool) string {
		t.Helper()
		b.do(t, chromedp.Click(chromedp.ID("adjust-stretch")))
		b.waitFor(t, fmt.Sprintf("the stretch %v", on), fmt.Sprintf(`(document.getElementById('adjust-stretch-value').textContent !== '') === %v`, on))
		return evalJS[string](t, b, `document.getElementById('adjust-stretch-value').textContent`)
	}

	wide := stretch(true)
	b.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`satmark.map.getView().setCenter([%g, %g]); satmark.map.getView().setResolution(0.5)`, spot[0], -spot[1])))
	kept := colourAt()
	stretch(false)
	plain := colourAt()
	zoomed := stretch(true)
	again := colourAt()
	t.Logf("levels with the whole port in view %s, zoomed in %s; the spot zoomed in: %v unstretched, %v with the first, %v with the second", wide, zoomed, plain, kept, again)
	if zoomed != wide {
		t.Errorf("the auto-stretch's levels are %s turned on zoomed in, %s with the whole image in view: they must not depend on the view", zoomed, wide)
	}
	for i := range kept {
		if d := kept[i] - again[i]; d > 3 || d < -3 {
			t.Fatalf("the spot shows %v with the stretch turned on zoomed out, %v turned on zoomed in", kept, again)
		}
	}
}

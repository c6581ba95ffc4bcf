package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	cdpinput "github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserSite: an analyst draws a site over the sample port on the map, names it, and
// finds both dates of the port on its page's timeline; the base, elsewhere, joins by hand.
func TestBrowserSite(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, err := a.Store.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ports []string
	var base annotations.Image
	for _, img := range images {
		switch {
		case strings.Contains(img.Title, "base"):
			base = img
		case img.Georeferenced:
			ports = append(ports, img.ID)
		}
	}
	if len(ports) != 2 || base.ID == "" {
		t.Fatalf("want the two placed port scenes and the base among the samples: %d ports, base %q", len(ports), base.ID)
	}

	a.addUser(t, "Site Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/map", "Site Analyst")
	b.waitFor(t, "the map", `document.querySelector('.earth-page')?.dataset.ready === 'true'`)
	b.do(t, chromedp.Click(chromedp.ID("draw-site")))
	b.waitFor(t, "the drawing form", `!document.getElementById('draw-site-form').hidden`)
	// A box over the middle of the port's footprint, clicked corner by corner and closed
	// on the first.
	box := evalJS[[]float64](t, b, `(() => {
		const f = satmark.map.getLayers().getArray().map(l => l.getSource && l.getSource()).filter(s => s && s.getFeatures)
			.flatMap(s => s.getFeatures()).find(f => f.get('title') && f.get('transform'));
		const [w, s, e, n] = f.getGeometry().getExtent();
		satmark.map.getView().fit([w, s, e, n], {padding: [60, 60, 60, 60]});
		return [w, s, e, n];
	})()`)
	if len(box) != 4 {
		t.Fatalf("no footprint on the map: %v", box)
	}
	b.waitFor(t, "the map to settle", `!satmark.map.getView().getAnimating()`)
	// Both port scenes are drawn in place by satmark's map tiles, over the offline map of
	// coastlines and borders (the browser here has no internet).
	b.waitFor(t, "the port scenes' tiles", `satmark.imageLayers().length === 2 && satmark.tilesShown() > 0`)
	b.waitFor(t, "the offline base map", `satmark.map.getLayers().getArray().find(l => l.get('name') === 'natural-earth').getSource().getFeatures().length > 200`)
	corners := [][2]float64{{0.3, 0.3}, {0.7, 0.3}, {0.7, 0.7}, {0.3, 0.7}, {0.3, 0.3}}
	for _, c := range corners {
		x, y := screenOf(t, b, fmt.Sprintf(`satmark.map.getPixelFromCoordinate([%f, %f])`,
			box[0]+c[0]*(box[2]-box[0]), box[1]+c[1]*(box[3]-box[1])), "world-map")
		b.do(t, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, x, y), chromedp.MouseClickXY(x, y))
		time.Sleep(350 * time.Millisecond) // not a double-click
	}
	b.waitFor(t, "the drawn area", `!document.getElementById('draw-site-save').disabled`)
	b.typeInto(t, "#draw-site-name", "Golden Horn piers")
	b.do(t, chromedp.Click(chromedp.ID("draw-site-save")))
	b.waitFor(t, "the site in the list", `[...document.querySelectorAll('#site-list li a')].some(a => a.textContent === 'Golden Horn piers')`)

	sites, err := a.Store.Sites(ctx)
	if err != nil || len(sites) != 1 {
		t.Fatalf("sites stored: %d (%v)", len(sites), err)
	}
	st := sites[0]
	if st.CreatedBy != "Site Analyst" || len(st.Area.Coordinates[0]) != 5 {
		t.Errorf("stored site: by %q, %d positions", st.CreatedBy, len(st.Area.Coordinates[0]))
	}

	// Its page: both dates of the port on the timeline, the base not.
	b.do(t, chromedp.Navigate(a.url+"/sites/"+st.ID))
	b.waitFor(t, "the site page", `document.querySelector('.site-page')?.dataset.ready === 'true'`)
	onTimeline := evalJS[[]string](t, b, `[...document.querySelectorAll('#site-timeline g.item')].map(g => g.dataset.imageId).sort()`)
	want := append([]string(nil), ports...)
	if strings.Join(onTimeline, " ") != strings.Join(sortedCopy(want), " ") {
		t.Fatalf("timeline holds %v, want the two port scenes %v", onTimeline, want)
	}
	if n := evalJS[int](t, b, `document.querySelectorAll('#site-chart .chart-row').length`); n != 2 {
		t.Errorf("the chart has %d rows, want 2", n)
	}
	if n := evalJS[int](t, b, `document.querySelectorAll('#site-chart .chart-seg').length`); n == 0 {
		t.Errorf("the chart shows no annotations of the sample port")
	}
	b.waitFor(t, "the base among the images to add", fmt.Sprintf(`[...document.querySelectorAll('#site-add-image option')].some(o => o.value === %q)`, base.ID))
	b.do(t, chromedp.SetValue(`#site-add-image`, base.ID), chromedp.Click(chromedp.ID("site-add")))
	b.waitFor(t, "the base on the site", fmt.Sprintf(`document.querySelector('#site-images li[data-image-id=%q]')?.dataset.membership === 'added'`, base.ID))
	if st, err = a.Store.Site(ctx, st.ID); err != nil {
		t.Fatal(err)
	}
	if m, ok := st.Member(base.ID); !ok || !m {
		t.Errorf("the base is not stored as added by hand: %+v", st.Members)
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

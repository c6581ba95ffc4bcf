package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// An image's saved adjustments show wherever the image does: in the compare page's pixel
// views and on its map (the overlay), and in the georeference editor, whose Adjust panel
// changes and saves them for everyone as the annotator's does.

// adjustedColour is what OpenLayers' WebGL tile style shows for a tile's own colour raw
// (0–255) under adjustments a without a stretch: contrast, saturation, gamma, brightness,
// in that order, each clamped to 0–1 (ol/layer/WebGLTile.js).
func adjustedColour(raw [3]float64, a annotations.Adjustments) [3]float64 {
	clamp := func(v float64) float64 { return math.Min(1, math.Max(0, v)) }
	var c [3]float64
	for i := range raw {
		c[i] = clamp((a.Contrast+1)*raw[i]/255 - a.Contrast/2)
	}
	s := a.Saturation + 1
	sr, sg, sb := (1-s)*0.2126, (1-s)*0.7152, (1-s)*0.0722
	c = [3]float64{
		clamp((sr+s)*c[0] + sg*c[1] + sb*c[2]),
		clamp(sr*c[0] + (sg+s)*c[1] + sb*c[2]),
		clamp(sr*c[0] + sg*c[1] + (sb+s)*c[2]),
	}
	for i := range c {
		c[i] = 255 * clamp(math.Pow(c[i], 1/a.Gamma)+a.Brightness)
	}
	return c
}

// colourSample is a point of a map (x in CSS pixels): the image tile's own colour there
// (what a render without adjustments shows) and the colour the map shows.
type colourSample struct {
	X          float64
	Raw, Shown [3]float64
}

// sampleColours waits until map (a JavaScript expression) has drawn every tile in view,
// then reads colourSamples on a grid over it where image (the expression of its image
// layer) is even (a pixel and its neighbours alike, so smoothing does not count), with
// the layers hide lists hidden. shownColours is the page's function of (map, points).
func sampleColours(t *testing.T, b *browserSession, mapExpr, image, hide, shownColours string) []colourSample {
	t.Helper()
	js := fmt.Sprintf(`new Promise((resolve) => {
		const map = %s;
		const sample = () => {
			const image = %s;
			const hide = %s;
			const [w, h] = map.getSize();
			const dist = (x, y) => Math.abs(x[0] - y[0]) + Math.abs(x[1] - y[1]) + Math.abs(x[2] - y[2]);
			const even = ([x, y]) => {
				const d = image.getData([x, y]);
				if (!d || d[3] < 255) return null;
				for (const [dx, dy] of [[-3, 0], [3, 0], [0, -3], [0, 3]]) {
					const n = image.getData([x + dx, y + dy]);
					if (!n || dist(n, d) > 12) return null;
				}
				return d;
			};
			const points = [];
			for (let i = 1; i < 40; i++) for (let j = 1; j < 30; j++) {
				const p = [Math.round(w * i / 40), Math.round(h * j / 30)];
				const d = even(p);
				if (d) points.push({p, d});
			}
			for (const l of hide) l.setVisible(false);
			const shown = %s(map, points.map((q) => q.p));
			for (const l of hide) l.setVisible(true);
			resolve(points.map((q, k) => ({X: q.p[0], Raw: [q.d[0], q.d[1], q.d[2]], Shown: shown[k].slice(0, 3)})));
		};
		map.once('rendercomplete', sample);
		map.render();
	})`, mapExpr, image, hide, shownColours)
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]colourSample](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("sampling the colours of %s: %v", mapExpr, err)
	}
	return got
}

// snapToTiles sets the view of map (a JavaScript expression, its first layer the image's)
// to the resolution of the tile level it draws: OpenLayers' getData looks for tiles at
// the level nearest the view's resolution, the image view draws the finer one
// (zDirection -1), and at a level's own resolution the two are one.
func snapToTiles(t *testing.T, b *browserSession, mapExpr string) {
	t.Helper()
	evalJS[chromedp.Void](t, b, `(() => {
		const v = `+mapExpr+`.getView();
		const grid = `+mapExpr+`.getLayers().item(0).getSource().getTileGrid();
		v.setResolution(grid.getResolution(grid.getZForResolution(v.getResolution(), -1)));
	})()`)
}

// wantShownAs checks that the samples show their raw colours under adjustments a: at
// least 20 of them, nine in ten within 10 levels a channel of the expected colour. With
// adjusted, the adjustments must also be visible: the shown colours on average 20 levels
// a channel or more from the raw ones.
func wantShownAs(t *testing.T, what string, samples []colourSample, a annotations.Adjustments, adjusted bool) {
	t.Helper()
	if len(samples) < 20 {
		t.Fatalf("%s: %d even points to compare, want at least 20", what, len(samples))
	}
	near, moved := 0, 0.0
	for _, s := range samples {
		want := adjustedColour(s.Raw, a)
		ok := true
		for i := range want {
			ok = ok && math.Abs(s.Shown[i]-want[i]) <= 10
			moved += math.Abs(s.Shown[i] - s.Raw[i])
		}
		if ok {
			near++
		}
	}
	moved /= float64(3 * len(samples))
	t.Logf("%s: %d of %d points as expected; shown %.1f levels a channel from the unadjusted render (e.g. %v → %v)", what, near, len(samples), moved, samples[0].Raw, samples[0].Shown)
	if near*10 < len(samples)*9 {
		s := samples[len(samples)/2]
		t.Errorf("%s: %d of %d points show the expected colour, want nine in ten (e.g. tile %v shown %v, want %v)", what, near, len(samples), s.Raw, s.Shown, adjustedColour(s.Raw, a))
	}
	if adjusted && moved < 20 {
		t.Errorf("%s: the adjusted image shows %.1f levels a channel from the unadjusted render, want 20 or more", what, moved)
	}
}

func TestBrowserAdjustmentsInCompareAndGeoreference(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	images, err := a.Store.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var jpeg, tiff annotations.Image
	for _, img := range images {
		switch {
		case img.Georeferenced && strings.HasSuffix(img.Filename, ".jpg"):
			jpeg = img
		case img.Georeferenced:
			tiff = img
		}
	}
	if jpeg.ID == "" || tiff.ID == "" {
		t.Fatalf("want both sample port dates placed: %q, %q", jpeg.ID, tiff.ID)
	}
	name := "Golden Horn"
	area := annotations.PolygonGeometry([]annotations.Position{{131.87, 43.105}, {131.905, 43.105}, {131.905, 43.12}, {131.87, 43.12}, {131.87, 43.105}})
	st, err := a.Store.CreateSite(ctx, annotations.Actor{Name: "tester"}, annotations.SiteInput{Name: &name, Area: &area})
	if err != nil {
		t.Fatal(err)
	}
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	a.addUser(t, "Ben Analyst", annotations.RoleAnalyst)

	// Ben saves adjustments on A, the earlier date, through the API; B has none.
	saved := annotations.Adjustments{Brightness: 0.15, Contrast: 0.3, Saturation: 0, Gamma: 1.4}
	a.apiAs(t, "Ben Analyst").do(t, "PUT", "/api/v1/images/"+jpeg.ID+"/adjustments",
		map[string]any{"brightness": saved.Brightness, "contrast": saved.Contrast, "saturation": saved.Saturation, "gamma": saved.Gamma, "stretch": nil}, 200, nil)
	neutral := annotations.Adjustments{Gamma: 1}

	b := newBrowser(t)
	compare := fmt.Sprintf("/sites/%s/compare?a=%s&b=%s", st.ID, jpeg.ID, tiff.ID)
	b.signIn(t, a, "/sites/"+st.ID, "Ada Analyst")
	b.do(t, chromedp.Navigate(a.url+compare+"&mode=pixels"))

	t.Run("the compare page's pixel views", func(t *testing.T) {
		b.waitFor(t, "the pixel views", `document.getElementById('compare')?.dataset.ready === 'true' && document.getElementById('pixel-map-a').dataset.imageReady === 'true' && document.getElementById('pixel-map-b').dataset.imageReady === 'true'`)
		for _, side := range []struct {
			key      string
			want     annotations.Adjustments
			adjusted bool
		}{{"a", saved, true}, {"b", neutral, false}} {
			view := "satmark.built.pixels.views." + side.key
			snapToTiles(t, b, view+".map")
			samples := sampleColours(t, b, view+".map", view+".map.getLayers().item(0)", "satmark.built.pixels.annotationLayers", "satmark.shownColours")
			wantShownAs(t, "pixel view "+side.key, samples, side.want, side.adjusted)
		}
	})

	t.Run("the compare page's map overlay", func(t *testing.T) {
		b.do(t, chromedp.Click(chromedp.CSS(`[data-mode=overlay]`)))
		b.waitFor(t, "both images' tiles on the map", `(() => {
			const o = satmark.built.overlay;
			if (!o || o.map.getView().getAnimating()) return false;
			const [w, h] = o.map.getSize();
			const p = [w / 2, h / 2];
			return o.rendered && !!o.layers.a.getData(p) && !!o.layers.b.getData(p);
		})()`)
		// B is on top, left of the divider; A shows right of it.
		split := evalJS[float64](t, b, `satmark.built.overlay.map.getSize()[0] * satmark.state.swipe`)
		for _, side := range []struct {
			key      string
			right    bool
			want     annotations.Adjustments
			adjusted bool
		}{{"a", true, saved, true}, {"b", false, neutral, false}} {
			all := sampleColours(t, b, "satmark.built.overlay.map", "satmark.built.overlay.layers."+side.key, "satmark.built.overlay.annotationLayers", "satmark.shownColours")
			var samples []colourSample
			for _, s := range all {
				if (s.X > split+8) == side.right && math.Abs(s.X-split) > 8 {
					samples = append(samples, s)
				}
			}
			wantShownAs(t, "the overlay's "+side.key, samples, side.want, side.adjusted)
		}
	})

	georef := "/images/" + jpeg.ID + "/georeference"
	imageLayer := "satmark.imageMap.getLayers().item(0)"
	hideMarkers := "satmark.imageMap.getLayers().getArray().slice(1)"
	t.Run("the georeference editor shows them, changes them and saves them for everyone", func(t *testing.T) {
		b.do(t, chromedp.Navigate(a.url+georef))
		b.waitFor(t, "the editor and its Adjust panel", `document.getElementById('georef')?.dataset.imageReady === 'true' && document.getElementById('adjust-panel')?.dataset.ready === 'true'`)
		snapToTiles(t, b, "satmark.imageMap")
		wantShownAs(t, "the georeference editor", sampleColours(t, b, "satmark.imageMap", imageLayer, hideMarkers, "satmark.shownColours"), saved, true)
		if got := b.text(t, "#adjust-state"); got != "Saved by Ben Analyst." {
			t.Errorf("the panel says %q, want it to say Ben saved them", got)
		}
		b.do(t, chromedp.Evaluate[chromedp.Void](`document.getElementById('adjust-panel').open = true`))
		b.setField(t, "#adjust-contrast", "0.5")
		b.setField(t, "#adjust-brightness", "0")
		b.setField(t, "#adjust-gamma", "1")
		mine := annotations.Adjustments{Contrast: 0.5, Gamma: 1}
		wantShownAs(t, "the georeference editor, live", sampleColours(t, b, "satmark.imageMap", imageLayer, hideMarkers, "satmark.shownColours"), mine, true)
		b.do(t, chromedp.Click(chromedp.ID("adjust-save")))
		b.waitFor(t, "the save", `!!document.getElementById('adjust-panel').dataset.saved`)
		got, err := a.Store.Adjustments(ctx, jpeg.ID)
		if err != nil || got.Contrast != 0.5 || got.Brightness != 0 || got.Gamma != 1 || got.UpdatedBy != "Ada Analyst" {
			t.Fatalf("stored %+v, %v; want Ada's contrast 0.5", got, err)
		}
		if log, _ := a.Store.AuditLog(ctx, annotations.AuditFilter{Action: "image.adjust"}); len(log) != 2 || log[0].Actor != "Ada Analyst" {
			t.Errorf("audit: %+v, want Ben's and then Ada's image.adjust", log)
		}

		// Everyone sees them: the compare page, opened again, shows Ada's.
		b.do(t, chromedp.Navigate(a.url+compare+"&mode=pixels"))
		b.waitFor(t, "the pixel views again", `document.getElementById('compare')?.dataset.ready === 'true' && document.getElementById('pixel-map-a').dataset.imageReady === 'true'`)
		snapToTiles(t, b, "satmark.built.pixels.views.a.map")
		wantShownAs(t, "pixel view a after Ada's save", sampleColours(t, b, "satmark.built.pixels.views.a.map", "satmark.built.pixels.views.a.map.getLayers().item(0)", "satmark.built.pixels.annotationLayers", "satmark.shownColours"), mine, true)
	})
}

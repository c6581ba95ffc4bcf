package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	cdpinput "github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/satmark/satmark/annotations"
)

// shownAt is the JavaScript that says which image the overlay shows at points across
// its map: at each point of a grid where the two images differ, the colour on screen
// is matched against each image's own pixel there (layer.getData), and counted as A, B,
// a blend of the two, or neither, left and right of the swipe's divider. The
// annotations are hidden while it reads the screen.
const shownAt = `(() => {
	const o = satmark.built.overlay;
	const map = o.map;
	const [w, h] = map.getSize();
	const top = satmark.state.top;
	const split = w * satmark.state.swipe;
	const out = {split, top, left: {a: 0, b: 0, neither: 0, blend: 0}, right: {a: 0, b: 0, neither: 0, blend: 0}};
	const dist = (x, y) => Math.abs(x[0] - y[0]) + Math.abs(x[1] - y[1]) + Math.abs(x[2] - y[2]);
	// Points where both images are even (a pixel and its neighbours alike) and differ.
	const even = (layer, [x, y]) => {
		const d = layer.getData([x, y]);
		if (!d || d[3] < 255) return null;
		for (const [dx, dy] of [[-3, 0], [3, 0], [0, -3], [0, 3]]) {
			const n = layer.getData([x + dx, y + dy]);
			if (!n || dist(n, d) > 24) return null;
		}
		return d;
	};
	const points = [];
	for (let i = 1; i < 48; i++) for (let j = 1; j < 30; j++) {
		const p = [Math.round(w * i / 48), Math.round(h * j / 30)];
		if (Math.abs(p[0] - split) < 8) continue;
		const da = even(o.layers.a, p);
		const db = da && even(o.layers.b, p);
		if (db && dist(da, db) >= 60) points.push({p, da, db});
	}
	// (the annotations' fills tint what is under them: read the images without them)
	for (const l of o.annotationLayers) l.setVisible(false);
	const shownColours = satmark.shownColours(map, points.map((q) => q.p));
	for (const l of o.annotationLayers) l.setVisible(true);
	points.forEach(({p, da, db}, k) => {
		const c = shownColours[k];
		const side = p[0] < split ? out.left : out.right;
		const ta = dist(c, da);
		const tb = dist(c, db);
		const mid = [0, 1, 2].map((n) => (da[n] + db[n]) / 2);
		if (dist(c, mid) < Math.min(ta, tb)) side.blend++;
		else if (Math.min(ta, tb) > 30) side.neither++;
		else side[ta < tb ? 'a' : 'b']++;
	});
	return out;
})()`

type sideCount struct{ A, B, Neither, Blend int }

// shows is which image the side shows ("a", "b" or "blend"), and whether clearly: most of
// its points, at least 20, show it and hardly any (1 in 20) shows another of the three.
func (c sideCount) shows(which string) bool {
	counts := map[string]int{"a": c.A, "b": c.B, "blend": c.Blend}
	n := counts[which]
	for k, v := range counts {
		if k != which && v*20 > n {
			return false
		}
	}
	return n >= 20 && n > 2*c.Neither
}

type shown struct {
	Split       float64
	Top         string
	Left, Right sideCount
}

// TestBrowserCompare: the two dates of the sample port, compared on their site's page.
// The swipe's divider decides which image shows where, the opacity fades the top one,
// F swaps them, the annotations of both are on the map; in the pixel views the two
// images move together, and an annotation moved there is saved.
func TestBrowserCompare(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
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

	a.addUser(t, "Compare Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/sites/"+st.ID, "Compare Analyst")
	b.waitFor(t, "the site page", `document.querySelector('.site-page')?.dataset.ready === 'true'`)
	// The site page offers the two dates, the earlier as A.
	pair := evalJS[[]string](t, b, `[document.getElementById('site-compare-a').value, document.getElementById('site-compare-b').value]`)
	if len(pair) != 2 || pair[0] != jpeg.ID || pair[1] != tiff.ID {
		t.Fatalf("site page offers %v to compare, want A %s (8–13 Oct), B %s (13 Oct)", pair, jpeg.ID, tiff.ID)
	}
	b.do(t, chromedp.Click(chromedp.ID("site-compare")))
	b.waitFor(t, "the compare page", fmt.Sprintf(`location.pathname === %q && document.getElementById('compare')?.dataset.ready === 'true'`, "/sites/"+st.ID+"/compare"))
	if mode := evalJS[string](t, b, `document.getElementById('compare').dataset.mode`); mode != "overlay" {
		t.Fatalf("mode %q, want overlay for two placed images", mode)
	}
	b.waitFor(t, "both images' tiles", `(() => {
		const o = satmark.built.overlay;
		if (o.map.getView().getAnimating()) return false;
		const [w, h] = o.map.getSize();
		const p = [w / 2, h / 2];
		return o.rendered && !!o.layers.a.getData(p) && !!o.layers.b.getData(p);
	})()`)

	overlay := func(what, left, right string) shown {
		t.Helper()
		s := evalJS[shown](t, b, shownAt)
		t.Logf("%s: %+v", what, s)
		if !s.Left.shows(left) || !s.Right.shows(right) {
			t.Errorf("%s: left of the divider (at %.0f px) %+v, right %+v; want %s left and %s right", what, s.Split, s.Left, s.Right, left, right)
		}
		return s
	}
	// B, the later, is on top: it shows left of the divider, in the middle at first.
	if top := evalJS[string](t, b, `satmark.state.top`); top != "b" {
		t.Fatalf("top image %q, want b", top)
	}
	overlay("at first", "b", "a")

	// The divider dragged to 40% of the way across: between there and the middle, where
	// B showed, A shows now.
	mapBox := evalJS[[]float64](t, b, `(() => { const r = document.getElementById('overlay-map').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	handle := evalJS[[]float64](t, b, `(() => { const r = document.querySelector('#swipe .swipe-handle').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	dragScreen(t, b, [2]float64{handle[0], handle[1]}, [2]float64{mapBox[0] + mapBox[2]*0.4, handle[1]})
	if got := evalJS[float64](t, b, `satmark.state.swipe`); !nearly(got, 0.4, 0.01) {
		t.Fatalf("swipe at %.3f of the map after the drag, want 0.4", got)
	}
	s := overlay("divider at 40%", "b", "a")
	if !nearly(s.Split, mapBox[2]*0.4, 2) {
		t.Errorf("the clip is at %.1f px, want %.1f", s.Split, mapBox[2]*0.4)
	}

	// The opacity slider: half way, the left shows the two blended; at nothing, A alone.
	slider := evalJS[[]float64](t, b, `(() => { const r = document.getElementById('opacity').getBoundingClientRect(); return [r.left, r.top + r.height / 2, r.width]; })()`)
	b.do(t, chromedp.MouseClickXY(slider[0]+slider[2]/2, slider[1]))
	if op := evalJS[float64](t, b, `satmark.state.opacity`); !nearly(op, 0.5, 0.05) {
		t.Fatalf("opacity %.2f after clicking the slider's middle, want 0.5", op)
	}
	overlay("top image half transparent", "blend", "a")
	b.do(t, chromedp.KeyEvent(kb.Home))
	if op := evalJS[float64](t, b, `satmark.state.opacity`); op != 0 {
		t.Fatalf("opacity %.2f after Home on the slider, want 0", op)
	}
	overlay("top image transparent", "a", "a")
	b.do(t, chromedp.KeyEvent(kb.End))

	// F swaps them: A on top, left of the divider; again, B.
	b.do(t, chromedp.KeyEvent("f"))
	if top := evalJS[string](t, b, `satmark.state.top`); top != "a" {
		t.Fatalf("top image %q after F, want a", top)
	}
	if got := evalJS[string](t, b, `document.getElementById('top-name').textContent`); !strings.Contains(got, jpeg.Title) {
		t.Errorf("the toolbar says %q, want A (%s) on top", got, jpeg.Title)
	}
	overlay("after F", "a", "b")
	b.do(t, chromedp.KeyEvent("f"))
	overlay("after F again", "b", "a")

	// The annotations of both, in lon/lat, drawn on the map: each one's first is found on
	// screen, in its image's layer.
	for _, img := range []annotations.Image{jpeg, tiff} {
		key := map[string]string{jpeg.ID: "a", tiff.ID: "b"}[img.ID]
		want := len(a.annotationsOf(t, img.ID))
		got := evalJS[int](t, b, fmt.Sprintf(`satmark.sides.%s.groundSource.getFeatures().length`, key))
		if want == 0 || got != want {
			t.Errorf("%s: %d annotations on the map, want its %d", key, got, want)
		}
	}
	hits := evalJS[[]string](t, b, `(() => {
		const o = satmark.built.overlay;
		return ['a', 'b'].map((key) => {
			const f = satmark.sides[key].groundSource.getFeatures().find((f) => f.getGeometry().getType() === 'Polygon');
			const px = o.map.getPixelFromCoordinate(f.getGeometry().getInteriorPoint().getCoordinates());
			let hit = '';
			o.map.forEachFeatureAtPixel(px, (g, layer) => { if (g === f) hit = layer.get('image'); }, {layerFilter: (l) => !!l.get('image')});
			return hit;
		});
	})()`)
	if strings.Join(hits, ",") != "a,b" {
		t.Errorf("annotations found on the map in layers %v, want a polygon of A in A's and of B in B's", hits)
	}
	dashes := evalJS[[]bool](t, b, `satmark.built.overlay.annotationLayers.map((l) => { const f = l.getSource().getFeatures()[0]; return !!l.getStyleFunction()(f, 1)[0].getStroke().getLineDash(); })`)
	if len(dashes) != 2 || dashes[0] || !dashes[1] {
		t.Errorf("dashed strokes of A, B: %v; want A solid, B dashed", dashes)
	}

	// Side by side (2): two maps on one view, each with its image and its annotations.
	b.do(t, chromedp.KeyEvent("2"))
	b.waitFor(t, "side by side", `document.getElementById('compare').dataset.mode === 'side' && !document.getElementById('side-panes').hidden`)
	side := evalJS[[]int](t, b, `(() => {
		const {maps} = satmark.built.side;
		const count = (m, what) => m.getLayers().getArray().filter((l) => l.get(what)).length;
		return [maps.a.getView() === maps.b.getView() ? 1 : 0, count(maps.a, 'tilesOf'), count(maps.b, 'tilesOf'),
			satmark.built.side.annotationLayers[0].getSource().getFeatures().length, satmark.built.side.annotationLayers[1].getSource().getFeatures().length];
	})()`)
	if len(side) != 5 || side[0] != 1 || side[1] != 1 || side[2] != 1 || side[3] == 0 || side[4] == 0 {
		t.Errorf("side by side: one view %v, image layers %v, annotations %v; want one view, one image and its annotations on each map", side[0] == 1, side[1:3], side[3:])
	}
	if u := evalJS[string](t, b, `location.search`); !strings.Contains(u, "mode=side") {
		t.Errorf("the address %q does not keep the mode", u)
	}
	b.do(t, chromedp.KeyEvent("1"))
	b.waitFor(t, "the overlay again", `document.getElementById('compare').dataset.mode === 'overlay'`)

	// Clicking an annotation of B selects it and links to it in B's annotator, which
	// opens on it.
	target := evalJS[[]string](t, b, `(() => {
		const o = satmark.built.overlay;
		const f = satmark.sides.b.groundSource.getFeatures().find((f) => f.getGeometry().getType() === 'Polygon' && f.get('label_path').includes('landing ship'));
		o.map.getView().fit(f.getGeometry().getExtent(), {padding: [200, 200, 200, 200]});
		return [f.getId()];
	})()`)
	b.waitFor(t, "the map on the ship", `!satmark.built.overlay.map.getView().getAnimating()`)
	x, y := screenOf(t, b, fmt.Sprintf(`(() => { const o = satmark.built.overlay; o.map.renderSync(); return o.map.getPixelFromCoordinate(satmark.sides.b.groundSource.getFeatureById(%q).getGeometry().getInteriorPoint().getCoordinates()); })()`, target[0]), "overlay-map")
	b.do(t, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, x, y), chromedp.MouseClickXY(x, y))
	b.waitFor(t, "the selection", fmt.Sprintf(`document.getElementById('selection').dataset.annotationId === %q && !document.getElementById('selection').hidden`, target[0]))
	href := evalJS[string](t, b, `document.getElementById('selection-open').getAttribute('href')`)
	if want := "/images/" + tiff.ID + "?annotation=" + target[0]; href != want {
		t.Errorf("the selection links to %q, want %q", href, want)
	}
	b.do(t, chromedp.Click(chromedp.ID("selection-open")))
	b.waitFor(t, "the annotator on the annotation", fmt.Sprintf(`location.pathname === %q && document.getElementById('annotator')?.dataset.ready === 'true' && document.querySelector('#annotation-list li.selected')?.dataset.annotationId === %q && !document.getElementById('editor').hidden`, "/images/"+tiff.ID, target[0]))

	// In pixels: A now claims to show a quarter of B's ground at twice its detail, by
	// control points: the two views move together through the ground.
	gt := [6]float64{131.865, 1.2287e-05, 0, 43.125, 0, -9.0013e-06}
	var gcps []string
	for _, p := range [][2]float64{{0, 0}, {4000, 0}, {4000, 3000}, {0, 3000}} {
		bx, by := p[0]/2+1000, p[1]/2+500
		gcps = append(gcps, fmt.Sprintf(`{"pixel": [%g, %g], "lonlat": [%.10f, %.10f]}`, p[0], p[1], gt[0]+bx*gt[1], gt[3]+by*gt[5]))
	}
	evalJS[bool](t, b, fmt.Sprintf(`(window.stored = 0, fetch('/api/v1/images/%s/georeference', {method: 'PUT', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content}, body: JSON.stringify({transform: 'affine', gcps: [%s]})}).then((r) => (window.stored = r.status)), true)`, jpeg.ID, strings.Join(gcps, ",")))
	b.waitFor(t, "the control points stored", `window.stored > 0`)
	put := evalJS[int](t, b, `window.stored`)
	if put != 200 {
		t.Fatalf("storing A's control points: %d", put)
	}
	b.do(t, chromedp.Navigate(fmt.Sprintf("%s/sites/%s/compare?a=%s&b=%s&mode=pixels", a.url, st.ID, jpeg.ID, tiff.ID)))
	b.waitFor(t, "the pixel views", `document.getElementById('compare')?.dataset.ready === 'true' && document.getElementById('pixel-map-a').dataset.imageReady === 'true' && document.getElementById('pixel-map-b').dataset.imageReady === 'true'`)
	if linked := evalJS[string](t, b, `document.getElementById('compare').dataset.linked`); linked != "true" {
		t.Fatalf("pixel views linked %q (%s), want linked", linked, evalJS[string](t, b, `document.getElementById('link-state').textContent`))
	}
	vb := evalJS[[]float64](t, b, `(() => {
		const {a, b} = satmark.built.pixels.views;
		a.map.getView().setResolution(2);
		a.map.getView().setCenter([2000, -1500]);
		const v = b.map.getView();
		return [...v.getCenter(), v.getResolution()];
	})()`)
	if !nearly(vb[0], 2000, 2) || !nearly(vb[1], -1250, 2) || !nearly(vb[2], 1, 0.01) {
		t.Errorf("A centred on its (2000, 1500) at 2 px a screen pixel puts B at %v, want its (2000, 1250) at 1", vb)
	}

	// An annotation of B moved in place is saved: selected, then dragged.
	before := a.annotationsOf(t, tiff.ID)
	var base annotations.Annotation
	for _, ann := range before {
		if strings.Contains(strings.Join(ann.Label.Path, "/"), "naval base") {
			base = ann
		}
	}
	if base.ID == "" {
		t.Fatal("no naval base among B's annotations")
	}
	at := fmt.Sprintf(`(() => { const m = satmark.built.pixels.views.b.map; m.renderSync(); return m.getPixelFromCoordinate(satmark.sides.b.pixelSource.getFeatureById(%q).getGeometry().getInteriorPoint().getCoordinates()); })()`, base.ID)
	evalJS[bool](t, b, fmt.Sprintf(`(() => { const f = satmark.sides.b.pixelSource.getFeatureById(%q); satmark.built.pixels.views.b.map.getView().fit(f.getGeometry().getExtent(), {padding: [80, 80, 80, 80]}); return true; })()`, base.ID))
	x, y = screenOf(t, b, at, "pixel-map-b")
	b.do(t, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, x, y), chromedp.MouseClickXY(x, y))
	b.waitFor(t, "the naval base selected", fmt.Sprintf(`document.getElementById('selection').dataset.annotationId === %q`, base.ID))
	res := evalJS[float64](t, b, `satmark.built.pixels.views.b.map.getView().getResolution()`)
	dragScreen(t, b, [2]float64{x, y}, [2]float64{x + 40, y + 30})
	b.waitFor(t, "the move saved", `document.getElementById('save-state').textContent === 'All changes saved'`)
	var moved annotations.Annotation
	for _, ann := range a.annotationsOf(t, tiff.ID) {
		if ann.ID == base.ID {
			moved = ann
		}
	}
	p0, p1 := base.Geometry.Coordinates[0][0], moved.Geometry.Coordinates[0][0]
	if moved.Version != base.Version+1 || !nearly(p1[0]-p0[0], 40*res, res) || !nearly(p1[1]-p0[1], 30*res, res) {
		t.Errorf("naval base after the drag: version %d (was %d), first corner %v → %v; want it moved by (%.1f, %.1f) px", moved.Version, base.Version, p0, p1, 40*res, 30*res)
	}
}

// TestBrowserCompareUnplaced: an image off the map is compared in pixels, and the page
// says why its view does not follow the other's.
func TestBrowserCompareUnplaced(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, err := a.Store.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var port, base annotations.Image
	for _, img := range images {
		switch {
		case strings.Contains(img.Title, "base"):
			base = img
		case img.Georeferenced:
			port = img
		}
	}
	name := "Port and base"
	area := annotations.PolygonGeometry([]annotations.Position{{131.87, 43.105}, {131.905, 43.105}, {131.905, 43.12}, {131.87, 43.12}, {131.87, 43.105}})
	st, err := a.Store.CreateSite(ctx, annotations.Actor{Name: "tester"}, annotations.SiteInput{Name: &name, Area: &area})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.SetSiteImage(ctx, annotations.Actor{Name: "tester"}, st.ID, base.ID, true); err != nil {
		t.Fatal(err)
	}
	a.addUser(t, "Compare Viewer", annotations.RoleViewer)
	b.signIn(t, a, "/sites/"+st.ID, "Compare Viewer")
	// (overlay asked for, but the base is not on the map)
	b.do(t, chromedp.Navigate(fmt.Sprintf("%s/sites/%s/compare?a=%s&b=%s&mode=overlay", a.url, st.ID, base.ID, port.ID)))
	b.waitFor(t, "the pixel views", `document.getElementById('compare')?.dataset.ready === 'true' && document.getElementById('pixel-map-a').dataset.imageReady === 'true' && document.getElementById('pixel-map-b').dataset.imageReady === 'true'`)
	got := evalJS[[]string](t, b, `[document.getElementById('compare').dataset.mode, document.getElementById('compare').dataset.linked, document.getElementById('link-state').textContent,
		String(document.querySelector('[data-mode=overlay]').disabled)]`)
	if got[0] != "pixels" || got[1] != "false" || !strings.Contains(got[2], "“"+base.Title+"” is not georeferenced") || got[3] != "true" {
		t.Errorf("mode %q, linked %q, saying %q, overlay disabled %s; want pixels, unlinked, naming the base, no overlay", got[0], got[1], got[2], got[3])
	}
	// Each view moves on its own; the annotations of each are on its image.
	moved := evalJS[[]float64](t, b, `(() => {
		const {a, b} = satmark.built.pixels.views;
		const before = b.map.getView().getCenter();
		a.map.getView().setCenter([100, -100]);
		return [...before, ...b.map.getView().getCenter(), satmark.sides.a.pixelSource.getFeatures().length, satmark.sides.b.pixelSource.getFeatures().length];
	})()`)
	if moved[0] != moved[2] || moved[1] != moved[3] || moved[4] == 0 || moved[5] == 0 {
		t.Errorf("B's centre %v → %v when A moved, annotations %v; want B still and both annotated", moved[0:2], moved[2:4], moved[4:])
	}
}

// dragScreen presses at one point of the screen, moves in steps and releases at another.
func dragScreen(t *testing.T, b *browserSession, from, to [2]float64) {
	t.Helper()
	held := func(p *cdpinput.DispatchMouseEventParams) { p.Button, p.Buttons = cdpinput.MouseButtonLeft, 1 }
	actions := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, from[0], from[1]),
		chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMousePressed, from[0], from[1], held, chromedp.ClickCount(1)),
	}
	for i := 1; i <= 8; i++ {
		f := float64(i) / 8
		actions = append(actions, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, from[0]+(to[0]-from[0])*f, from[1]+(to[1]-from[1])*f, held))
	}
	actions = append(actions, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseReleased, to[0], to[1], chromedp.ButtonLeft, chromedp.ClickCount(1)))
	b.do(t, actions...)
}

func nearly(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

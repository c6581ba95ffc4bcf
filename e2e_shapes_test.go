package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"testing"

	cdpinput "github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserManyShapes: on an image with thousands of annotations the map shows every
// one in its label's colour; a click on one selects it (the white ring shows), an edit of
// it (another label, then dragged elsewhere) is saved and shows at once and after it is
// let go, at its new place and no longer at its old one; and what another analyst saves
// meanwhile (a new label, a point moved, a point drawn) shows where it is, at the zoom
// it was saved at and after the view pans and zooms back to where its tiles were drawn
// before.
func TestBrowserManyShapes(t *testing.T) {
	a := startApp(t)
	port := portImage(t, a)
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	a.addUser(t, "Ben Analyst", annotations.RoleAnalyst)
	ctx := context.Background()
	first, second := twoColours(t, a)
	existing := a.annotationsOf(t, port.ID)

	// Points on a grid 50 px apart (20 screen pixels at the resolution set below), in the
	// two labels' colours like a chessboard, away from the sample's own annotations; a
	// hole is left every tenth row and column for what Ben draws.
	const cell = 50.0
	type spot struct {
		x, y  float64
		label annotations.Label
	}
	var spots []spot
	var holes [][2]float64
	for j := 0; float64(j)*cell+cell/2 < float64(port.Height); j++ {
		for i := 0; float64(i)*cell+cell/2 < float64(port.Width); i++ {
			x, y := float64(i)*cell+cell/2, float64(j)*cell+cell/2
			if nearAnnotation(existing, x, y, 60) {
				continue
			}
			if i%10 == 5 && j%10 == 5 {
				holes = append(holes, [2]float64{x, y})
				continue
			}
			l := first
			if (i+j)%2 == 1 {
				l = second
			}
			spots = append(spots, spot{x, y, l})
		}
	}
	shape := annotations.ShapePoint
	ins := make([]annotations.AnnotationInput, len(spots))
	for k, s := range spots {
		label := s.label.ID
		ins[k] = annotations.AnnotationInput{Label: &label, Shape: &shape, Geometry: []byte(fmt.Sprintf(`{"type":"Point","coordinates":[%g,%g]}`, s.x, s.y))}
	}
	created, err := a.Store.CreateAnnotations(ctx, "tester", port.ID, ins)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) < 2000 {
		t.Fatalf("only %d points fit beside the sample's annotations, want at least 2000", len(created))
	}
	total := len(existing) + len(created)

	b := newBrowser(t)
	b.openAnnotator(t, a, port.ID, "Ada Analyst")
	b.waitFor(t, "every annotation on the page", fmt.Sprintf(`satmark.shapes().loaded && satmark.annotations().length === %d`, total))
	if got, want := b.text(t, "#annotation-count"), fmt.Sprintf("(%d)", total); got != want {
		t.Errorf("the list's count says %s, want %s", got, want)
	}
	if got := evalJS[int](t, b, `satmark.shapes().tiled`); got < len(created) {
		t.Errorf("the tiles hold %d shapes, want all %d points", got, len(created))
	}

	// Zoom to the middle of the image at 2.5 image pixels a screen pixel: the points are
	// 12 screen pixels across, 20 apart.
	const res = 2.5
	evalJS[bool](t, b, fmt.Sprintf(`(() => { const v = satmark.map.getView(); v.setResolution(%g); v.setCenter([%d, %d]); return true; })()`, res, port.Width/2, -port.Height/2))
	// Spots in view, away from the edges: one of each colour, one for Ben to change, and
	// a hole for Ben's new point.
	inView := func(x, y float64) bool {
		return math.Abs(x-float64(port.Width)/2) < 1000 && math.Abs(y-float64(port.Height)/2) < 600
	}
	var picks []spot
	apart := func(s spot) bool {
		for _, p := range picks {
			if len(picks) < 3 && math.Abs(s.y-p.y) <= 3*cell || math.Hypot(s.x-p.x, s.y-p.y) <= 2*cell {
				return false
			}
		}
		return true
	}
	// The fourth, which Ben moves, needs only to be away from the others.
	for _, want := range []string{first.ID, second.ID, "", ""} {
		for _, s := range spots {
			if inView(s.x, s.y) && (want == "" || s.label.ID == want) && apart(s) {
				picks = append(picks, s)
				break
			}
		}
	}
	var inViewHoles [][2]float64
	for _, h := range holes {
		if inView(h[0], h[1]) {
			inViewHoles = append(inViewHoles, h)
		}
	}
	if len(picks) < 4 || len(inViewHoles) < 3 {
		t.Fatalf("found %d points and %d holes in view, want 4 and 3", len(picks), len(inViewHoles))
	}
	// Ben draws in hole; the selected point is dragged into dragTo; Ben moves one into movedTo.
	hole, dragTo, movedTo := inViewHoles[0], inViewHoles[1], inViewHoles[2]
	empty := func(p [2]float64) string {
		return `!` + shows(p[0], p[1], first.Color) + ` && !` + shows(p[0], p[1], second.Color)
	}
	for _, s := range picks {
		b.waitFor(t, fmt.Sprintf("the point at %g,%g in its label's colour %s", s.x, s.y, s.label.Color), shows(s.x, s.y, s.label.Color))
	}
	for _, h := range inViewHoles[:3] {
		if !evalJS[bool](t, b, empty(h)) {
			t.Fatalf("the empty place at %v shows a label's colour", h)
		}
	}

	// A click selects the point under it: the white ring shows round it, the editor has it.
	sel := picks[0]
	ring := 7.5 * res / math.Sqrt2 // 7.5 screen pixels from its middle, across
	b.clickImage(t, sel.x, sel.y)
	b.waitFor(t, "the selection", fmt.Sprintf(`!document.getElementById('editor').hidden && document.getElementById('edit-label').value === %q`, sel.label.ID))
	// The pointer goes between points, where the reshaping tool shows no handle.
	b.moveOver(t, sel.x+cell/2, sel.y+cell/2)
	b.waitFor(t, "the white ring round the selected point", shows(sel.x+ring, sel.y+ring, "#ffffff"))
	if evalJS[bool](t, b, shows(picks[1].x+ring, picks[1].y+ring, "#ffffff")) {
		t.Error("a point not selected shows the white ring")
	}

	// An edit: the other label. It is saved, and the point shows its new colour, selected
	// and after it is let go (a click on the empty place).
	other := second
	if sel.label.ID == second.ID {
		other = first
	}
	b.setField(t, "#edit-label", other.ID)
	b.waitFor(t, "the save", `document.getElementById('save-state').textContent === 'All changes saved'`)
	selID := createdAt(t, created, sel.x, sel.y)
	stored, err := a.Store.Annotation(ctx, selID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Label.ID != other.ID || stored.Version != 2 {
		t.Errorf("stored: label %s version %d, want %s version 2", stored.Label.ID, stored.Version, other.ID)
	}
	b.waitFor(t, "the new colour, selected", shows(sel.x, sel.y, other.Color))

	// Dragged into another hole: saved there, and shown there only, selected and let go.
	b.dragImage(t, [2]float64{sel.x, sel.y}, dragTo)
	b.waitFor(t, "the move's save", fmt.Sprintf(`satmark.annotations().find((a) => a.id === %q).version === 3 && document.getElementById('save-state').textContent === 'All changes saved'`, selID))
	if stored, err := a.Store.Annotation(ctx, selID); err != nil {
		t.Fatal(err)
	} else if p := stored.Geometry.Coordinates[0][0]; math.Hypot(p[0]-dragTo[0], p[1]-dragTo[1]) > 2*res {
		t.Errorf("stored at %v after the drag, want near %v", p, dragTo)
	}
	b.waitFor(t, "the dragged point at its new place, selected", shows(dragTo[0], dragTo[1], other.Color))
	b.clickImage(t, hole[0], hole[1])
	b.moveOver(t, sel.x+cell/2, sel.y+cell/2)
	b.waitFor(t, "nothing selected", `document.getElementById('editor').hidden && satmark.shapes().lifted === 0`)
	b.waitFor(t, "the dragged point at its new place, let go, without the ring", shows(dragTo[0], dragTo[1], other.Color)+` && !`+shows(dragTo[0]+ring, dragTo[1]+ring, "#ffffff"))
	b.waitFor(t, "nothing left at the dragged point's old place", empty([2]float64{sel.x, sel.y}))
	for _, an := range a.annotationsOf(t, port.ID) {
		if an.Version != 1 && an.ID != selID {
			t.Errorf("annotation %s was changed too (version %d)", an.ID, an.Version)
		}
	}

	// Out to twice as far, the view moving as a user's would: the tiles of the zoom above
	// stay kept, out of view.
	middle := [2]float64{float64(port.Width) / 2, float64(port.Height) / 2}
	b.animateView(t, [2]float64{middle[0] + 200, middle[1] - 150}, 2*res)
	for _, s := range picks[1:] {
		b.waitFor(t, fmt.Sprintf("zoomed out, the point at %g,%g in its colour", s.x, s.y), shows(s.x, s.y, s.label.Color))
	}
	b.waitFor(t, "zoomed out, the dragged point at its new place", shows(dragTo[0], dragTo[1], other.Color)+` && `+empty([2]float64{sel.x, sel.y}))

	// Ben, elsewhere, draws a point in the hole clicked above, then relabels one point and
	// moves another into a hole, each while the view is zoomed out: what he saved shows
	// here, zoomed out, and back where the view was before, whose tiles were drawn before
	// (each in its own turn, so that nothing else Ben changed makes those tiles be drawn
	// again).
	ben := a.apiAs(t, "Ben Analyst")
	changed := picks[2]
	changedTo := first
	if changed.label.ID == first.ID {
		changedTo = second
	}
	moved := picks[3]
	turns := []struct {
		what  string
		saves func()
		shown []string // conditions
	}{
		{"Ben's new point", func() {
			ben.do(t, "POST", "/api/v1/images/"+port.ID+"/annotations", map[string]any{
				"label": first.ID, "shape": "point", "geometry": map[string]any{"type": "Point", "coordinates": hole},
			}, 201, nil)
			b.waitFor(t, "Ben's new point in the count", fmt.Sprintf(`document.getElementById('annotation-count').textContent === '(%d)'`, total+1))
		}, []string{shows(hole[0], hole[1], first.Color)}},
		{"Ben's new label and moved point", func() {
			ben.do(t, "PATCH", "/api/v1/annotations/"+createdAt(t, created, changed.x, changed.y), map[string]any{"label": changedTo.ID, "version": 1}, 200, nil)
			ben.do(t, "PATCH", "/api/v1/annotations/"+createdAt(t, created, moved.x, moved.y), map[string]any{
				"geometry": map[string]any{"type": "Point", "coordinates": movedTo}, "version": 1,
			}, 200, nil)
		}, []string{shows(changed.x, changed.y, changedTo.Color), shows(movedTo[0], movedTo[1], moved.label.Color), empty([2]float64{moved.x, moved.y})}},
	}
	for i, turn := range turns {
		if i > 0 {
			b.animateView(t, [2]float64{middle[0] - 150, middle[1] + 100}, 2*res)
		}
		turn.saves()
		for _, zoom := range []string{"zoomed out", "back"} {
			if zoom == "back" {
				b.animateView(t, middle, res)
			}
			for _, c := range turn.shown {
				b.waitFor(t, zoom+", "+turn.what+" on the map", c)
			}
			b.waitFor(t, zoom+", the point dragged here before", shows(dragTo[0], dragTo[1], other.Color)+` && `+empty([2]float64{sel.x, sel.y}))
			b.waitFor(t, fmt.Sprintf("%s, the point at %g,%g in its colour", zoom, picks[1].x, picks[1].y), shows(picks[1].x, picks[1].y, picks[1].label.Color))
		}
	}
}

// animateView moves the map's view to centre on image pixel c at resolution res as a
// user's pan and zoom does (400 ms, the view's moving hints on), and waits for the map
// to have drawn it.
func (b *browserSession) animateView(t *testing.T, c [2]float64, res float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, step)
	defer cancel()
	js := fmt.Sprintf(`new Promise((resolve) => satmark.map.getView().animate({center: [%g, %g], resolution: %g, duration: 400}, () => {
		satmark.map.once('rendercomplete', () => resolve(true));
		satmark.map.render();
	}))`, c[0], -c[1], res)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("animate the view: %v", err)
	}
}

// moveOver moves the pointer over image pixel x, y.
func (b *browserSession) moveOver(t *testing.T, x, y float64) {
	t.Helper()
	sx, sy := b.screen(t, x, y)
	b.do(t, chromedp.MouseEvent(cdpinput.DispatchMouseEventTypeMouseMoved, sx, sy))
}

// twoColours returns two leaf labels of the taxonomy with clearly different colours.
func twoColours(t *testing.T, a *app) (annotations.Label, annotations.Label) {
	t.Helper()
	labels, err := a.Store.Labels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var leaves []annotations.Label
	for _, l := range labels {
		if len(l.Path) > 1 {
			leaves = append(leaves, l)
		}
	}
	for i, l := range leaves {
		for _, m := range leaves[i+1:] {
			if colourDistance(l.Color, m.Color) > 120 && colourDistance(l.Color, "#ffffff") > 120 && colourDistance(m.Color, "#ffffff") > 120 {
				return l, m
			}
		}
	}
	t.Fatal("no two leaf labels of clearly different colours")
	return annotations.Label{}, annotations.Label{}
}

func rgb(hex string) [3]float64 {
	n, _ := strconv.ParseUint(hex[1:], 16, 32)
	return [3]float64{float64(n >> 16 & 255), float64(n >> 8 & 255), float64(n & 255)}
}

func colourDistance(a, b string) float64 {
	p, q := rgb(a), rgb(b)
	return math.Abs(p[0]-q[0]) + math.Abs(p[1]-q[1]) + math.Abs(p[2]-q[2])
}

// shows is a JavaScript condition: the map shows colour hex (within a few levels) at
// image pixel x, y.
func shows(x, y float64, hex string) string {
	c, _ := json.Marshal(rgb(hex))
	return fmt.Sprintf(`(() => { const [sx, sy] = satmark.imagePixelToScreen([%g, %g]); const d = satmark.shownColours([[sx, sy]])[0]; const c = %s; return d[3] > 0 && c.every((v, i) => Math.abs(v - d[i]) <= 12); })()`, x, y, c)
}

// nearAnnotation says whether pixel x, y is within margin of an annotation's bounds.
func nearAnnotation(anns []annotations.Annotation, x, y, margin float64) bool {
	for _, an := range anns {
		x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, ring := range an.Geometry.Coordinates {
			for _, p := range ring {
				x0, y0, x1, y1 = min(x0, p[0]), min(y0, p[1]), max(x1, p[0]), max(y1, p[1])
			}
		}
		if x > x0-margin && x < x1+margin && y > y0-margin && y < y1+margin {
			return true
		}
	}
	return false
}

// createdAt is the id of the point created at x, y.
func createdAt(t *testing.T, anns []annotations.Annotation, x, y float64) string {
	t.Helper()
	for _, an := range anns {
		if p := an.Geometry.Coordinates[0][0]; p[0] == x && p[1] == y {
			return an.ID
		}
	}
	t.Fatalf("no point at %g,%g", x, y)
	return ""
}

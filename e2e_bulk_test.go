package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// Many annotations at once, and undo: an analyst shift-clicks three annotations, relabels
// them in one request, deletes two, undoes and redoes that, undoes a drawing, and undoes
// a relabel over someone else's change after being asked.

// shiftClickImage clicks an image pixel with Shift held.
func (b *browserSession) shiftClickImage(t *testing.T, x, y float64) {
	t.Helper()
	sx, sy := b.screen(t, x, y)
	b.do(t, chromedp.MouseEvent("mouseMoved", sx, sy), chromedp.MouseClickXY(sx, sy, chromedp.ButtonModifiers(chromedp.ModifierShift)))
}

// pressKey presses key with modifiers on the page (not in a field).
func (b *browserSession) pressKey(t *testing.T, key string, modifiers ...chromedp.Modifier) {
	t.Helper()
	evalJS[chromedp.Void](t, b, `document.activeElement && document.activeElement.blur()`)
	b.do(t, chromedp.KeyEvent(key, chromedp.KeyModifiers(modifiers...)))
}

// picked is the ids the annotator's list shows selected, in list order.
const picked = `[...document.querySelectorAll('#annotation-list li.selected')].map(li => li.dataset.annotationId).join(',')`

func TestBrowserBulkAndUndo(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, err := a.Store.Images(ctx)
	if err != nil || len(images) == 0 {
		t.Fatalf("seeded images: %d, %v", len(images), err)
	}
	port := images[0]
	for _, img := range images {
		if strings.Contains(img.Title, "port") {
			port = img
		}
	}
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	vehicle, frigate := a.label(t, "vehicle"), a.label(t, "vessel/frigate")
	points := [][2]float64{{1200, 1400}, {1500, 1500}, {1800, 1600}}
	var anns []annotations.Annotation
	for _, p := range points {
		label, shape := "vehicle", annotations.Shape("point")
		a1, err := a.Store.CreateAnnotation(ctx, "Ada Analyst", port.ID, annotations.AnnotationInput{Label: &label, Shape: &shape,
			Geometry: json.RawMessage(fmt.Sprintf(`{"type": "Point", "coordinates": [%g, %g]}`, p[0], p[1]))})
		if err != nil {
			t.Fatal(err)
		}
		anns = append(anns, a1)
	}
	ids := func(as ...annotations.Annotation) string {
		var out []string
		for _, x := range as {
			out = append(out, x.ID)
		}
		return strings.Join(out, ",")
	}
	// shown is a condition: of the three, the page shows just these.
	shown := func(as ...annotations.Annotation) string {
		return fmt.Sprintf(`satmark.annotations().map(a => a.id).filter(id => %q.split(',').includes(id)).sort().join(',') === %q.split(',').sort().join(',')`, ids(anns...), ids(as...))
	}
	// labelled is a condition: the page shows the three with label l.
	labelled := func(l annotations.Label) string {
		return fmt.Sprintf(`satmark.annotations().filter(a => %q.split(',').includes(a.id) && a.label.id === %q).length === 3`, ids(anns...), l.ID)
	}
	stored := func(id string) (annotations.Annotation, bool) {
		got, err := a.Store.Annotation(ctx, id)
		return got, err == nil
	}
	revisions := func(id string) int {
		revs, err := a.Store.History(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return len(revs)
	}

	b.signIn(t, a, "/images/"+port.ID, "Ada Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator')?.dataset.ready === 'true' && document.getElementById('annotator').dataset.live === 'true'`)
	b.do(t, chromedp.Evaluate[chromedp.Void](`satmark.map.getView().fit([1000, -1800, 2000, -1200])`))
	b.waitFor(t, "the view", `!satmark.map.getView().getAnimating()`)

	t.Run("shift-click three, relabel them in one request", func(t *testing.T) {
		b.clickImage(t, points[0][0], points[0][1])
		b.waitFor(t, "the first selected", fmt.Sprintf(`%s === %q && !document.getElementById('editor').hidden`, picked, anns[0].ID))
		b.shiftClickImage(t, points[1][0], points[1][1])
		b.waitFor(t, "two selected", `document.getElementById('bulk-count').textContent === '2 selected' && document.getElementById('editor').hidden`)
		b.shiftClickImage(t, points[2][0], points[2][1])
		b.waitFor(t, "three selected", `document.getElementById('bulk-count').textContent === '3 selected' && !document.getElementById('bulk-bar').hidden`)
		if got := evalJS[string](t, b, picked); got != ids(anns...) {
			t.Errorf("the list shows %s selected, want %s", got, ids(anns...))
		}
		// Count the API requests the relabel makes.
		evalJS[chromedp.Void](t, b, `(() => {
			window.bulkRequests = [];
			const real = window.fetch;
			window.fetch = (path, init) => { if (String(path).startsWith('/api/')) bulkRequests.push(init.method + ' ' + path); return real(path, init); };
		})()`)
		b.setField(t, "#bulk-label", frigate.ID)
		b.waitFor(t, "the relabel", labelled(frigate))
		if got, want := evalJS[[]string](t, b, `bulkRequests`), "POST /api/v1/images/"+port.ID+"/annotations/bulk"; len(got) != 1 || got[0] != want {
			t.Errorf("the relabel sent %q, want one request: %s", got, want)
		}
		for i, x := range anns {
			got, ok := stored(x.ID)
			if !ok || got.Label.ID != frigate.ID || got.Version != 2 {
				t.Errorf("annotation %d stored with label %v version %d (there: %v), want frigate, version 2", i, got.Label.Path, got.Version, ok)
			}
			if n := revisions(x.ID); n != 2 {
				t.Errorf("annotation %d has %d revisions, want 2: created, and one for the relabel", i, n)
			}
		}
	})

	t.Run("delete two, undo (they come back), redo", func(t *testing.T) {
		b.clickImage(t, points[0][0], points[0][1])
		b.waitFor(t, "one selected", fmt.Sprintf(`%s === %q && document.getElementById('bulk-bar').hidden`, picked, anns[0].ID))
		b.shiftClickImage(t, points[1][0], points[1][1])
		b.waitFor(t, "two selected", `document.getElementById('bulk-count').textContent === '2 selected'`)
		b.do(t, chromedp.Click(chromedp.ID("bulk-delete")))
		b.waitFor(t, "the deletion", shown(anns[2]))
		for _, x := range anns[:2] {
			if _, ok := stored(x.ID); ok {
				t.Errorf("%s is still stored after the bulk deletion", x.ID)
			}
		}
		b.pressKey(t, "z", chromedp.ModifierCtrl)
		b.waitFor(t, "the undo", shown(anns...))
		for i, x := range anns[:2] {
			got, ok := stored(x.ID)
			if !ok || got.Label.ID != frigate.ID || !near(got.Geometry.Coordinates[0][0], points[i], 0.01) {
				t.Errorf("annotation %d after the undo: stored %v, label %v at %v; want it back, frigate, at %v", i, ok, got.Label.Path, got.Geometry.Coordinates, points[i])
			}
		}
		b.pressKey(t, "z", chromedp.ModifierCtrl, chromedp.ModifierShift)
		b.waitFor(t, "the redo", shown(anns[2]))
		for _, x := range anns[:2] {
			if _, ok := stored(x.ID); ok {
				t.Errorf("%s is stored after the redo of its deletion", x.ID)
			}
		}
	})

	t.Run("undo a drawing: it is deleted", func(t *testing.T) {
		before := a.annotationsOf(t, port.ID)
		b.do(t, chromedp.Click(chromedp.CSS(`[data-tool=point]`)))
		b.clickImage(t, 1300, 1700)
		b.waitFor(t, "the saved point", fmt.Sprintf(`satmark.annotations().length === %d && document.getElementById('save-state').textContent === 'All changes saved'`, len(before)+1))
		drawn := newest(t, before, a.annotationsOf(t, port.ID))
		b.do(t, chromedp.Click(chromedp.ID("undo")))
		b.waitFor(t, "the drawing undone", fmt.Sprintf(`satmark.annotations().length === %d`, len(before)))
		if _, ok := stored(drawn.ID); ok {
			t.Errorf("the drawn point %s is still stored after undoing its creation", drawn.ID)
		}
		b.pressKey(t, "Escape")
	})

	t.Run("undo over someone else's change asks first, then undoes anyway", func(t *testing.T) {
		// Back past the redone deletion: all three are there, frigates.
		b.pressKey(t, "z", chromedp.ModifierCtrl)
		b.waitFor(t, "the deletion undone", shown(anns...))
		// Bob notes something on the first, behind the page's back (no live event).
		cur, _ := stored(anns[0].ID)
		note := `{"note": "Bob was here"}`
		if _, err := a.Store.UpdateAnnotation(ctx, "Bob", anns[0].ID, annotations.AnnotationInput{Properties: json.RawMessage(note), Version: &cur.Version}); err != nil {
			t.Fatal(err)
		}
		b.pressKey(t, "z", chromedp.ModifierCtrl)
		b.waitFor(t, "the question", `!document.getElementById('undo-conflict').hidden && document.getElementById('undo-conflict-text').textContent.includes('Bob changed this annotation since your change')`)
		for _, x := range anns {
			if got, _ := stored(x.ID); got.Label.ID != frigate.ID {
				t.Errorf("%s relabelled to %v before the user chose", x.ID, got.Label.Path)
			}
		}
		b.do(t, chromedp.Click(chromedp.ID("undo-anyway")))
		b.waitFor(t, "the relabel undone", labelled(vehicle))
		for i, x := range anns {
			if got, _ := stored(x.ID); got.Label.ID != vehicle.ID {
				t.Errorf("annotation %d after undoing the relabel: label %v, want vehicle", i, got.Label.Path)
			}
		}
	})

	t.Run("the Box tool selects what a drag touches", func(t *testing.T) {
		b.do(t, chromedp.Click(chromedp.CSS(`[data-tool=box]`)))
		b.dragImage(t, [2]float64{1100, 1300}, [2]float64{1900, 1650})
		b.waitFor(t, "the box selection", fmt.Sprintf(`!document.getElementById('bulk-bar').hidden &&
			%q.split(',').every(id => document.querySelector('#annotation-list li.selected[data-annotation-id="' + id + '"]'))`, ids(anns...)))
		if n := evalJS[int](t, b, `document.querySelectorAll('#annotation-list li.selected').length`); n < 3 {
			t.Errorf("%d selected after the box, want at least the three inside it", n)
		}
	})
}

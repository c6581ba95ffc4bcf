package main

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserKeysOnTheSelection: the annotator's keys that the other browser tests do not
// press (keymap.js, annotatorkeys.js): a number picks its tool and Esc goes back to Select,
// a label's hotkey relabels the selected annotation (and becomes the next drawing's label),
// and Delete deletes it.
func TestBrowserKeysOnTheSelection(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	port := a.sampleImage(t, "synthetic-port-scene.jpg")
	name, hotkey := "key-test buoy", "q"
	buoy, err := a.Store.CreateLabel(ctx, annotations.Actor{Name: "tester"}, annotations.LabelInput{Name: &name, Hotkey: &hotkey})
	if err != nil {
		t.Fatal(err)
	}
	other := a.label(t, "vessel")
	geom, _ := json.Marshal(annotations.PolygonGeometry([]annotations.Position{{100, 100}, {160, 100}, {160, 140}, {100, 140}, {100, 100}}))
	shape := annotations.ShapePolygon
	drawn, err := a.Store.CreateAnnotation(ctx, "tester", port.ID, annotations.AnnotationInput{Label: &other.ID, Shape: &shape, Geometry: geom})
	if err != nil {
		t.Fatal(err)
	}

	a.addUser(t, "Key Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+port.ID, "Key Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true'`)

	b.pressKey(t, "3")
	b.waitFor(t, "the polygon tool", `document.getElementById('annotator').dataset.tool === 'polygon'`)
	b.pressKey(t, kb.Escape)
	b.waitFor(t, "back to Select", `document.getElementById('annotator').dataset.tool === 'select'`)

	b.selectInList(t, drawn.ID)
	b.pressKey(t, hotkey)
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := a.Store.Annotation(ctx, drawn.ID)
		if err == nil && got.Label.ID == buoy.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %q the annotation's label is %q (%v), want %q", hotkey, got.Label.ID, err, buoy.ID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := evalJS[string](t, b, `document.getElementById('draw-label').value`); got != buoy.ID {
		t.Errorf("the next drawing's label is %q, want the hotkey's %q", got, buoy.ID)
	}
	b.waitFor(t, "the relabel shown", `document.getElementById('save-state').textContent === 'All changes saved'`)

	b.pressKey(t, kb.Delete)
	deadline = time.Now().Add(15 * time.Second)
	for {
		_, err := a.Store.Annotation(ctx, drawn.ID)
		if errors.Is(err, annotations.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Delete the annotation is still there (%v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.waitFor(t, "the editor closed", `document.getElementById('editor').hidden && !document.querySelector('#annotation-list li[data-annotation-id="`+drawn.ID+`"]')`)
}

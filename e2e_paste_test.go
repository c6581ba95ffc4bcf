package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/sampledata"
)

// TestBrowserCopyPasteBetweenDates: a landing ship's box copied on the port of 8 October
// (Ctrl+C) and pasted on the port of 13 October (Ctrl+V) lands on the same ground — the
// two scenes share a placement, so the same pixels — as a new annotation of the paster
// that says where it was copied from.
func TestBrowserCopyPasteBetweenDates(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, _ := a.Store.Images(ctx)
	var oct8, oct13 annotations.Image
	for _, img := range images {
		switch img.Filename {
		case "synthetic-port-scene.jpg":
			oct8 = img
		case sampledata.PortGeoTIFFFileName:
			oct13 = img
		}
	}
	var ship annotations.Annotation
	for _, an := range a.annotationsOf(t, oct8.ID) {
		if an.Shape == annotations.ShapeRotatedRectangle && strings.HasSuffix(an.Label.PathString(), "landing ship") {
			ship = an
			break
		}
	}
	before := a.annotationsOf(t, oct13.ID)

	a.addUser(t, "Paste Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+oct8.ID, "Paste Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true'`)
	b.selectInList(t, ship.ID)
	b.pressKey(t, "c", chromedp.ModifierCtrl)
	b.waitFor(t, "the copy", `(document.getElementById('flash').textContent || '').startsWith('Copied 1 annotation')`)

	b.do(t, chromedp.Navigate(a.url+"/images/"+oct13.ID))
	b.waitFor(t, "the other date", `document.getElementById('annotator').dataset.ready === 'true'`)
	b.pressKey(t, "v", chromedp.ModifierCtrl)
	b.waitFor(t, "the paste", `(document.getElementById('flash').textContent || '').startsWith('Pasted 1 annotation')`)
	var made annotations.Annotation
	deadline := time.Now().Add(10 * time.Second)
	for made.ID == "" {
		if after := a.annotationsOf(t, oct13.ID); len(after) > len(before) {
			made = newest(t, before, after)
		} else if time.Now().After(deadline) {
			t.Fatal("nothing pasted")
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if made.Shape != ship.Shape || made.Label.ID != ship.Label.ID || made.CreatedBy != "Paste Analyst" {
		t.Errorf("pasted a %s %s by %s", made.Label.PathString(), made.Shape, made.CreatedBy)
	}
	for i, p := range made.Geometry.Coordinates[0] {
		if !near(p, ship.Geometry.Coordinates[0][i], 1e-6) {
			t.Errorf("vertex %d pasted at %v, the original at %v", i, p, ship.Geometry.Coordinates[0][i])
		}
	}
	if cf := string(made.Attributes["copied_from"]); !strings.Contains(cf, ship.ID) || !strings.Contains(cf, oct8.ID) {
		t.Errorf("copied_from: %s", cf)
	}
	if sel := evalJS[string](t, b, `document.querySelector('#annotation-list li.selected')?.dataset.annotationId || ''`); sel != made.ID {
		t.Errorf("the page selected %q, want the pasted %s", sel, made.ID)
	}
}

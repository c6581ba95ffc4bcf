package main

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserShipBoxFromOutline: an analyst outlines a landing ship of the sample port
// (its hull narrowing to the bow) and turns the outline into a ship box with one key: the
// box's length and heading are the generator's (the sample's own box of that ship) within
// 10 % and 5°; Shift+V turns it round.
func TestBrowserShipBoxFromOutline(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	port := a.sampleImage(t, "synthetic-port-scene.jpg")
	truth := a.landingShipBox(t, port.ID, func(annotations.Annotation) bool { return true })
	if truth.ID == "" {
		t.Fatal("no landing ship box among the sample port's annotations")
	}
	r := truth.Geometry.Coordinates[0]
	mid := func(p, q annotations.Position) annotations.Position {
		return annotations.Position{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2}
	}
	along := func(p, q annotations.Position, f float64) annotations.Position {
		return annotations.Position{p[0] + f*(q[0]-p[0]), p[1] + f*(q[1]-p[1])}
	}
	// The hull as an analyst would outline it: square stern, sides to three quarters, a point at the bow.
	outline := []annotations.Position{r[0], along(r[0], r[1], 0.75), mid(r[1], r[2]), along(r[3], r[2], 0.75), r[3], r[0]}
	geom, _ := json.Marshal(annotations.PolygonGeometry(outline))
	label, shape := truth.Label.ID, annotations.ShapePolygon
	drawn, err := a.Store.CreateAnnotation(ctx, "tester", port.ID, annotations.AnnotationInput{Label: &label, Shape: &shape, Geometry: geom})
	if err != nil {
		t.Fatal(err)
	}

	a.addUser(t, "Box Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+port.ID, "Box Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true'`)
	b.selectInList(t, drawn.ID)
	b.waitFor(t, "the ship box button", `!document.getElementById('ship-box').hidden`)
	shiftKey := func(key string) {
		b.do(t, chromedp.KeyEvent(key, chromedp.KeyModifiers(chromedp.ModifierShift)))
	}
	shiftKey("B")
	waitShape := func(want annotations.Shape, version int) annotations.Annotation {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			got, err := a.Store.Annotation(ctx, drawn.ID)
			if err == nil && got.Shape == want && got.Version >= version {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("the annotation is still %s (version %d), want %s from version %d", got.Shape, got.Version, want, version)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	box := waitShape(annotations.ShapeRotatedRectangle, 2)
	heading := func(g annotations.Geometry) (float64, float64) {
		q := g.Coordinates[0]
		from, to := mid(q[0], q[3]), mid(q[1], q[2])
		return math.Mod(math.Atan2(to[0]-from[0], -(to[1]-from[1]))*180/math.Pi+360, 360), math.Hypot(to[0]-from[0], to[1]-from[1])
	}
	wantH, wantL := heading(truth.Geometry)
	gotH, gotL := heading(box.Geometry)
	if d := math.Abs(math.Mod(gotH-wantH+540, 360) - 180); d > 5 {
		t.Errorf("the box heads %.1f°, the ship %.1f°", gotH, wantH)
	}
	if math.Abs(gotL-wantL) > 0.1*wantL {
		t.Errorf("the box is %.1f px long, the ship %.1f px", gotL, wantL)
	}
	b.waitFor(t, "the swap button", `!document.getElementById('swap-ends').hidden`)
	shiftKey("V")
	turned := waitShape(annotations.ShapeRotatedRectangle, 3)
	if h, _ := heading(turned.Geometry); math.Abs(math.Mod(h-gotH+360, 360)-180) > 0.01 {
		t.Errorf("after Shift+V the box heads %.2f°, want %.2f° + 180°", h, gotH)
	}
	// The measures the page shows are the box's.
	b.waitFor(t, "the heading shown", `document.getElementById('edit-measures').textContent.includes('heading')`)
}

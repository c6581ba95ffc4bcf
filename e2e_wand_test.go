package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/sampledata"
)

// TestBrowserWand: the wand dragged along a landing ship of the sample port, from stern
// to bow, gives a polygon whose area is within 25 % of the ship's hull outline in the
// generator (sampledata/vessels.go drawLandingShip); a click on open water says there is
// no object there and creates nothing.
func TestBrowserWand(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	port := a.sampleImage(t, "synthetic-port-scene.jpg")
	ship := a.landingShipBox(t, port.ID, func(annotations.Annotation) bool { return true })
	r := ship.Geometry.Coordinates[0]
	cx, cy := (r[0][0]+r[2][0])/2, (r[0][1]+r[2][1])/2
	L, B := math.Hypot(r[1][0]-r[0][0], r[1][1]-r[0][1]), math.Hypot(r[2][0]-r[1][0], r[2][1]-r[1][1])
	hullArea := landingShipHullArea(L, B)
	stern := [2]float64{(r[0][0] + r[3][0]) / 2, (r[0][1] + r[3][1]) / 2}
	bow := [2]float64{(r[1][0] + r[2][0]) / 2, (r[1][1] + r[2][1]) / 2}
	along := func(f float64) [2]float64 {
		return [2]float64{stern[0] + f*(bow[0]-stern[0]), stern[1] + f*(bow[1]-stern[1])}
	}
	beforeAnns := a.annotationsOf(t, port.ID)
	before := len(beforeAnns)

	a.addUser(t, "Wand Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+port.ID, "Wand Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true' && document.getElementById('annotator').dataset.imageReady === 'true'`)
	b.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`satmark.map.getView().setResolution(1); satmark.map.getView().setCenter([%f, %f])`, cx, -cy)))
	b.waitFor(t, "the view", `!satmark.map.getView().getAnimating()`)
	b.do(t, chromedp.KeyEvent("6"))
	b.waitFor(t, "the wand", `document.getElementById('annotator').dataset.tool === 'wand' && !document.getElementById('wand-status').hidden`)
	// Open water first: nothing there.
	b.clickImage(t, cx, cy+200)
	b.waitFor(t, "the wand's answer on open water", `(document.getElementById('flash').textContent || '').includes('no distinct object')`)
	if n := len(a.annotationsOf(t, port.ID)); n != before {
		t.Fatalf("a click on open water made %d annotations", n-before)
	}
	b.dragImage(t, along(0.05), along(0.95))
	var made annotations.Annotation
	deadline := time.Now().Add(15 * time.Second)
	for made.ID == "" {
		anns := a.annotationsOf(t, port.ID)
		if len(anns) > before {
			made = newest(t, beforeAnns, anns)
		}
		if made.ID == "" && time.Now().After(deadline) {
			t.Fatalf("no polygon made (flash: %q)", evalJS[string](t, b, `document.getElementById('flash').textContent`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if made.Shape != annotations.ShapePolygon || made.CreatedBy != "Wand Analyst" {
		t.Fatalf("made %s by %s", made.Shape, made.CreatedBy)
	}
	area := made.Geometry.Measure(made.Shape).AreaPx2
	t.Logf("the wand's outline: %.0f px², the generator's hull %.0f px² (%.2f)", area, hullArea, area/hullArea)
	if math.Abs(area-hullArea) > 0.25*hullArea {
		t.Errorf("the outline holds %.0f px², the ship's hull %.0f px²: more than 25 %% apart", area, hullArea)
	}
}

// TestBrowserBoxToOutline: a loose box drawn about the landing ship at anchor in the
// sample port of 13 October outlines it: the polygon's area is within 25 % of the ship's
// hull in the generator.
func TestBrowserBoxToOutline(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	port := a.sampleImage(t, sampledata.PortGeoTIFFFileName)
	ship := a.landingShipBox(t, port.ID, func(an annotations.Annotation) bool { return strings.Contains(an.Note, "At anchor") })
	r := ship.Geometry.Coordinates[0]
	hullArea := landingShipHullArea(math.Hypot(r[1][0]-r[0][0], r[1][1]-r[0][1]), math.Hypot(r[2][0]-r[1][0], r[2][1]-r[1][1]))
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range r {
		x0, y0, x1, y1 = math.Min(x0, p[0]), math.Min(y0, p[1]), math.Max(x1, p[0]), math.Max(y1, p[1])
	}
	beforeAnns := a.annotationsOf(t, port.ID)

	a.addUser(t, "Box Outliner", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+port.ID, "Box Outliner")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true' && document.getElementById('annotator').dataset.imageReady === 'true'`)
	b.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`satmark.map.getView().setResolution(1); satmark.map.getView().setCenter([%f, %f])`, (x0+x1)/2, -(y0+y1)/2)))
	b.waitFor(t, "the view", `!satmark.map.getView().getAnimating()`)
	b.do(t, chromedp.KeyEvent("7"))
	b.waitFor(t, "box → outline", `document.getElementById('annotator').dataset.tool === 'box_outline'`)
	// A loose box: 12 px of water all round.
	b.clickImage(t, x0-12, y0-12)
	b.clickImage(t, x1+12, y1+12)
	var made annotations.Annotation
	deadline := time.Now().Add(15 * time.Second)
	for made.ID == "" {
		if anns := a.annotationsOf(t, port.ID); len(anns) > len(beforeAnns) {
			made = newest(t, beforeAnns, anns)
		} else if time.Now().After(deadline) {
			t.Fatalf("no outline made (flash: %q)", evalJS[string](t, b, `document.getElementById('flash').textContent`))
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	area := made.Geometry.Measure(made.Shape).AreaPx2
	t.Logf("the box's outline: %.0f px², the generator's hull %.0f px² (%.2f)", area, hullArea, area/hullArea)
	if made.Shape != annotations.ShapePolygon || math.Abs(area-hullArea) > 0.25*hullArea {
		t.Errorf("made a %s of %.0f px²; the ship's hull is %.0f px²", made.Shape, area, hullArea)
	}
}

// sampleImage is the seeded sample image of the given file name.
func (a *app) sampleImage(t *testing.T, filename string) annotations.Image {
	t.Helper()
	images, err := a.Store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		if img.Filename == filename {
			return img
		}
	}
	t.Fatalf("no sample image %s", filename)
	return annotations.Image{}
}

// landingShipBox is the first of the image's landing ship boxes (rotated rectangles)
// that ok accepts: the generator's own box of that ship.
func (a *app) landingShipBox(t *testing.T, imageID string, ok func(annotations.Annotation) bool) annotations.Annotation {
	t.Helper()
	for _, an := range a.annotationsOf(t, imageID) {
		if an.Shape == annotations.ShapeRotatedRectangle && strings.HasSuffix(an.Label.PathString(), "landing ship") && ok(an) {
			return an
		}
	}
	t.Fatal("no such landing ship box among the sample's annotations")
	return annotations.Annotation{}
}

// landingShipHullArea is the area of the generator's hull of a landing ship of length L
// and beam B (sampledata/vessels.go drawLandingShip: one side, mirrored).
func landingShipHullArea(L, B float64) float64 {
	hl, hb := L/2, B/2
	side := [][2]float64{{-hl, -hb * 0.9}, {-hl + 1.5, -hb}, {hl - 24, -hb}, {hl - 13, -hb * 0.94}, {hl - 6, -hb * 0.76}, {hl - 2, -hb * 0.5}, {hl, -hb * 0.22}}
	hull := append([][2]float64{}, side...)
	for i := len(side) - 1; i >= 0; i-- {
		hull = append(hull, [2]float64{side[i][0], -side[i][1]})
	}
	a := 0.0
	for i := range hull {
		p, q := hull[i], hull[(i+1)%len(hull)]
		a += p[0]*q[1] - q[0]*p[1]
	}
	return math.Abs(a) / 2
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"math"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/ingest"
	"github.com/satmark/satmark/match/matchtest"
	"github.com/satmark/satmark/sampledata"
)

// TestBrowserCompareLinkedByMatching: an unplaced, turned copy of the sample port beside
// the placed port: the pixel views start unlinked; "Link them by matching" relates them
// through matched points, and then the middle of one view is the truth's point in the
// other.
func TestBrowserCompareLinkedByMatching(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	scenes, err := sampledata.Scenes()
	if err != nil {
		t.Fatal(err)
	}
	var portJPEG []byte
	for _, s := range scenes {
		if s.FileName == "synthetic-port-scene.jpg" {
			portJPEG = s.JPEG
		}
	}
	var port annotations.Image
	images, _ := a.Store.Images(ctx)
	for _, img := range images {
		if img.Filename == "synthetic-port-scene.jpg" {
			port = img
		}
	}
	scene, err := jpeg.Decode(bytes.NewReader(portJPEG))
	if err != nil {
		t.Fatal(err)
	}
	turned, truth, err := matchtest.Copy(scene, matchtest.Distortion{Rotation: 12, Scale: 0.7, Brightness: -10, Contrast: 1.1, Quality: 85})
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Library.Receive(bytes.NewReader(turned))
	if err != nil {
		t.Fatal(err)
	}
	title := "Port, released copy"
	cp, _, err := ingest.Image(ctx, a.Store, a.Library, u, annotations.NewImage{Filename: "copy.jpg", CreatedBy: annotations.Actor{Name: "tester"},
		Provenance: annotations.Provenance{Title: &title}}, ingest.Sidecar{})
	if err != nil {
		t.Fatal(err)
	}
	a.Builder.Drain(ctx)
	name := "Golden Horn"
	area := annotations.PolygonGeometry([]annotations.Position{{131.87, 43.105}, {131.905, 43.105}, {131.905, 43.12}, {131.87, 43.12}, {131.87, 43.105}})
	st, err := a.Store.CreateSite(ctx, annotations.Actor{Name: "tester"}, annotations.SiteInput{Name: &name, Area: &area})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.SetSiteImage(ctx, annotations.Actor{Name: "tester"}, st.ID, cp.ID, true); err != nil {
		t.Fatal(err)
	}

	a.addUser(t, "Compare Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/sites/"+st.ID, "Compare Analyst")
	b.do(t, chromedp.Navigate(fmt.Sprintf("%s/sites/%s/compare?a=%s&b=%s", a.url, st.ID, cp.ID, port.ID)))
	b.waitFor(t, "the pixel views", `document.getElementById('compare')?.dataset.ready === 'true' && document.getElementById('pixel-map-a').dataset.imageReady === 'true' && document.getElementById('pixel-map-b').dataset.imageReady === 'true'`)
	if linked := evalJS[string](t, b, `document.getElementById('compare').dataset.linked`); linked != "false" {
		t.Fatalf("linked %q before matching, want false", linked)
	}
	b.do(t, chromedp.Click(chromedp.ID("link-by-matching")))
	b.waitFor(t, "the views linked by matching", `document.getElementById('compare').dataset.linked === 'true'`)
	if msg := evalJS[string](t, b, `document.getElementById('link-state').textContent`); !strings.Contains(msg, "points found by matching") {
		t.Errorf("the page says %q", msg)
	}
	w, h := float64(cp.Width), float64(cp.Height)
	for _, p := range [][2]float64{{w / 2, h / 2}, {0.4 * w, 0.6 * h}} {
		// OpenLayers' pixel views put the image at [0, -height, width, 0].
		got := evalJS[[]float64](t, b, fmt.Sprintf(`(() => {
			const {a, b} = satmark.built.pixels.views;
			a.map.getView().setCenter([%f, %f]);
			const c = b.map.getView().getCenter();
			return [c[0], -c[1]];
		})()`, p[0], -p[1]))
		x, y := truth.Apply(p[0], p[1])
		if x < 0 || y < 0 || x > float64(port.Width) || y > float64(port.Height) {
			t.Fatalf("the copy's pixel %v is off the port (%.0f, %.0f): pick another", p, x, y)
		}
		if d := math.Hypot(got[0]-x, got[1]-y); d > 3 {
			t.Errorf("the copy's pixel %v: the port's view is at (%.1f, %.1f), the truth says (%.1f, %.1f): %.1f px off", p, got[0], got[1], x, y, d)
		}
	}
}

package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserTrack: an analyst follows a landing ship from the port on 8 October to the
// port on 13 October: a new object from the first, the second linked to it, each date
// reachable from the other, and the site's page lists the object.
func TestBrowserTrack(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, err := a.Store.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The two placed port scenes, earlier first, and a landing ship on each.
	var ports []annotations.Image
	for _, img := range images {
		if img.Georeferenced {
			ports = append(ports, img)
		}
	}
	if len(ports) != 2 {
		t.Fatalf("%d placed sample images, want the two port scenes", len(ports))
	}
	if ports[0].CapturedFrom > ports[1].CapturedFrom {
		ports[0], ports[1] = ports[1], ports[0]
	}
	ship := func(img annotations.Image) string {
		for _, an := range a.annotationsOf(t, img.ID) {
			if strings.HasSuffix(an.Label.PathString(), "landing ship") {
				return an.ID
			}
		}
		t.Fatalf("no landing ship on %s", img.Title)
		return ""
	}
	first, second := ship(ports[0]), ship(ports[1])

	a.addUser(t, "Track Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+ports[0].ID, "Track Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true'`)
	b.selectInList(t, first)
	b.waitFor(t, "the track panel", `!document.getElementById('track-link').hidden`)
	b.typeInto(t, "#track-new-name", "Landing ship A")
	b.do(t, chromedp.SetValue("#track-link-confidence", "confirmed"), chromedp.Click(chromedp.ID("track-new")))
	b.waitFor(t, "the new object", `!document.getElementById('track-current').hidden && document.getElementById('track-name').textContent === 'Landing ship A'`)

	// The second date: link its ship to the object, probable.
	b.do(t, chromedp.Navigate(a.url+"/images/"+ports[1].ID))
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true'`)
	b.selectInList(t, second)
	b.waitFor(t, "the object to link to", `[...document.querySelectorAll('#track-choose option')].some(o => o.textContent.startsWith('Landing ship A'))`)
	b.do(t, chromedp.SetValue("#track-link-confidence", "probable"), chromedp.Click(chromedp.ID("track-link-button")))
	b.waitFor(t, "both dates in the panel", `document.querySelectorAll('#track-positions li').length === 2`)

	tracks, err := a.Store.Tracks(ctx)
	if err != nil || len(tracks) != 1 {
		t.Fatalf("tracks stored: %d (%v)", len(tracks), err)
	}
	got := map[string]annotations.Confidence{}
	for _, l := range tracks[0].Links {
		got[l.AnnotationID] = l.Confidence
	}
	if got[first] != annotations.Confirmed || got[second] != annotations.Probable || tracks[0].CreatedBy != "Track Analyst" {
		t.Errorf("stored links %v by %q, want %s confirmed and %s probable by Track Analyst", got, tracks[0].CreatedBy, first, second)
	}

	// The other date is one click away, with its ship selected.
	b.do(t, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#track-positions li[data-annotation-id=%q] a`, first))))
	b.waitFor(t, "the first date with its ship selected", fmt.Sprintf(`location.pathname === %q && document.querySelector('#annotation-list li.selected')?.dataset.annotationId === %q`,
		"/images/"+ports[0].ID, first))

	// A site over the port lists the object with both dates.
	area := annotations.PolygonGeometry([]annotations.Position{{131.86, 43.09}, {131.90, 43.09}, {131.90, 43.12}, {131.86, 43.12}, {131.86, 43.09}})
	name := "Golden Horn"
	st, err := a.Store.CreateSite(ctx, annotations.Actor{Name: "tester"}, annotations.SiteInput{Name: &name, Area: &area})
	if err != nil {
		t.Fatal(err)
	}
	b.do(t, chromedp.Navigate(a.url+"/sites/"+st.ID))
	b.waitFor(t, "the object on the site's page", fmt.Sprintf(`document.querySelectorAll('#site-tracks li[data-track-id=%q] .track-stop').length === 2`, tracks[0].ID))
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// A bulk change refused as stale shows the conflict bar: Ada selects three annotations;
// Ben, in his own session, changes one of them; Ada's page has not heard (its live
// stream is held back, as by a proxy that buffers it), so her bulk relabel is refused
// (412). The bar names the annotation and Ben; "Apply mine again on top" relabels all
// three on their current versions, Ben's note kept.
func TestBrowserBulkConflict(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	port := portImage(t, a)
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	a.addUser(t, "Ben Analyst", annotations.RoleAnalyst)
	frigate := a.label(t, "vessel/frigate")
	points := [][2]float64{{1200, 1400}, {1500, 1500}, {1800, 1600}}
	var anns []annotations.Annotation
	for _, p := range points {
		label, shape := "vehicle", annotations.ShapePoint
		x, err := a.Store.CreateAnnotation(ctx, "Ada Analyst", port.ID, annotations.AnnotationInput{Label: &label, Shape: &shape,
			Geometry: json.RawMessage(fmt.Sprintf(`{"type": "Point", "coordinates": [%g, %g]}`, p[0], p[1]))})
		if err != nil {
			t.Fatal(err)
		}
		anns = append(anns, x)
	}

	ada := newBrowser(t)
	// Ada's page gets no live events: the stream is blocked before the page opens.
	if _, err := chromedp.Call(ada.ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ada.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
		URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/api/v1/images/*/events", Block: true}},
	}); err != nil {
		t.Fatal(err)
	}
	ada.signIn(t, a, "/images/"+port.ID, "Ada Analyst")
	ada.waitFor(t, "the annotator", `document.getElementById('annotator')?.dataset.ready === 'true'`)
	if evalJS[string](t, ada, `document.getElementById('annotator').dataset.live || ''`) == "true" {
		t.Fatal("Ada's page is live: the test needs it not to hear Ben's change")
	}
	ada.do(t, chromedp.Evaluate[chromedp.Void](`satmark.map.getView().fit([1000, -1800, 2000, -1200])`))
	ada.waitFor(t, "the view", `!satmark.map.getView().getAnimating()`)
	ada.clickImage(t, points[0][0], points[0][1])
	ada.waitFor(t, "the first selected", fmt.Sprintf(`%s === %q`, picked, anns[0].ID))
	ada.shiftClickImage(t, points[1][0], points[1][1])
	ada.waitFor(t, "two selected", `document.getElementById('bulk-count').textContent === '2 selected'`)
	ada.shiftClickImage(t, points[2][0], points[2][1])
	ada.waitFor(t, "three selected", `document.getElementById('bulk-count').textContent === '3 selected'`)

	// Ben, in his own session, notes something on the middle one.
	ben := newBrowser(t)
	ben.openAnnotator(t, a, port.ID, "Ben Analyst")
	ben.selectInList(t, anns[1].ID)
	benNote := "Ben: a tug alongside"
	ben.setField(t, "#edit-note", benNote)
	ben.waitFor(t, "Ben's note saved", fmt.Sprintf(`%s?.version === 2 && document.getElementById('save-state').textContent === 'All changes saved'`, annotationJS(anns[1].ID)))

	ada.setField(t, "#bulk-label", frigate.ID)
	ada.waitFor(t, "the bulk conflict bar", fmt.Sprintf(`!document.getElementById('bulk-conflict').hidden && document.getElementById('bulk-conflict').dataset.stale === %q`, anns[1].ID))
	if got := ada.text(t, "#bulk-conflict-text"); !strings.Contains(got, "Ben Analyst changed 1 of the 3 annotations") || !strings.Contains(got, "nothing was changed") {
		t.Errorf("the bar says %q, want it to say Ben Analyst changed 1 of the 3 and nothing was changed", got)
	}
	item := fmt.Sprintf(`#bulk-conflict-list li[data-annotation-id=%q]`, anns[1].ID)
	if got := ada.text(t, item); !strings.Contains(got, "vehicle") || !strings.Contains(got, "Ben Analyst saved version 2 (you had 1)") {
		t.Errorf("the bar's entry says %q, want the annotation's label and Ben Analyst's version 2", got)
	}
	if n := evalJS[int](t, ada, `document.querySelectorAll('#bulk-conflict-list li').length`); n != 1 {
		t.Errorf("the bar lists %d annotations, want the one Ben changed", n)
	}
	for i, x := range anns {
		if got, _ := a.Store.Annotation(ctx, x.ID); got.Label.ID == frigate.ID {
			t.Errorf("annotation %d relabelled although the bulk change was refused", i)
		}
	}

	ada.do(t, chromedp.Click(chromedp.ID("bulk-apply-mine")))
	ada.waitFor(t, "all three relabelled", fmt.Sprintf(`document.getElementById('bulk-conflict').hidden &&
		satmark.annotations().filter(a => %q.split(',').includes(a.id) && a.label.id === %q).length === 3`,
		anns[0].ID+","+anns[1].ID+","+anns[2].ID, frigate.ID))
	for i, x := range anns {
		got, err := a.Store.Annotation(ctx, x.ID)
		want := 2
		if i == 1 {
			want = 3
		}
		if err != nil || got.Label.ID != frigate.ID || got.Version != want {
			t.Errorf("annotation %d: stored label %v version %d (%v), want frigate version %d", i, got.Label.Path, got.Version, err, want)
		}
	}
	if got, _ := a.Store.Annotation(ctx, anns[1].ID); got.Note != benNote {
		t.Errorf("the one Ben changed has the note %q after Ada's relabel on top, want Ben's %q", got.Note, benNote)
	}
	ben.waitLive(t, "Ada's relabel in Ben's page", fmt.Sprintf(`%s?.label.id === %q`, annotationJS(anns[1].ID), frigate.ID))
}

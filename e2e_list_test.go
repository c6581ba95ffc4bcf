package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserLongList: with more annotations than the sidebar list makes rows for at
// once, the list starts with the oldest, gives the rest as it is scrolled to its end, and
// a row from the end selects its annotation.
func TestBrowserLongList(t *testing.T) {
	a := startApp(t)
	port := portImage(t, a)
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	label := a.annotationsOf(t, port.ID)[0].Label.ID
	shape := annotations.ShapePoint
	for i := 0; i < 450; i++ {
		g := fmt.Sprintf(`{"type":"Point","coordinates":[%d,%d]}`, 10+(i%60)*60, 10+(i/60)*60)
		if _, err := a.Store.CreateAnnotation(context.Background(), "tester", port.ID, annotations.AnnotationInput{Label: &label, Shape: &shape, Geometry: []byte(g)}); err != nil {
			t.Fatal(err)
		}
	}
	all := a.annotationsOf(t, port.ID)
	b := newBrowser(t)
	b.openAnnotator(t, a, port.ID, "Ada Analyst")
	if got := evalJS[string](t, b, `document.getElementById('annotation-count').textContent`); got != fmt.Sprintf("(%d)", len(all)) {
		t.Errorf("the count says %q, want (%d)", got, len(all))
	}
	rows := evalJS[int](t, b, `document.querySelectorAll('#annotation-list li').length`)
	if rows >= len(all) {
		t.Errorf("the list made all %d rows at once", rows)
	}
	// Scrolled to its end until it grows no more, the list holds every annotation.
	for i := 0; i < 20 && rows < len(all); i++ {
		evalJS[chromedp.Void](t, b, `(() => { const l = document.getElementById('annotation-list'); l.scrollTop = l.scrollHeight; l.dispatchEvent(new Event('scroll')); })()`)
		rows = evalJS[int](t, b, `document.querySelectorAll('#annotation-list li').length`)
	}
	if rows != len(all) {
		t.Fatalf("scrolled to the end, the list shows %d rows, want %d", rows, len(all))
	}
	last := evalJS[string](t, b, `[...document.querySelectorAll('#annotation-list li')].pop().dataset.annotationId`)
	b.selectInList(t, last)
}

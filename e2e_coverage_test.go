package main

// Browser test of finding one's work on an image: the search grid whose cells an analyst
// marks as searched (kept with who and when, seen by others), the annotation list's
// filter, and the keyboard help.

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

func TestBrowserSearchCoverage(t *testing.T) {
	a := startApp(t)
	a.addUser(t, "ana", "analyst")
	a.addUser(t, "vera", "viewer")
	img := portImage(t, a)
	cell := img.Width / 8
	if cell < 8 {
		t.Fatalf("the sample port is %d × %d: too small for this test", img.Width, img.Height)
	}
	cols, rows := (img.Width+cell-1)/cell, (img.Height+cell-1)/cell
	b := newBrowser(t)
	b.openAnnotator(t, a, img.ID, "ana")

	// Turn on the grid, give it a cell size, and mark three cells by clicking them.
	b.do(t, chromedp.Click(`#coverage-toggle`))
	b.waitFor(t, "the grid's panel", `document.getElementById('coverage-panel').dataset.ready === 'true' && !document.getElementById('coverage-panel').hidden`)
	if got := b.text(t, "#coverage-share"); !strings.Contains(got, "No search grid") {
		t.Errorf("before a grid the panel says %q", got)
	}
	b.setField(t, "#coverage-size", fmt.Sprint(cell))
	b.do(t, chromedp.Click(`#coverage-set`))
	b.waitFor(t, "the grid", fmt.Sprintf(`(satmark.coverage() || {}).cell_px === %d`, cell))
	b.do(t, chromedp.Click(`#coverage-mark`))
	marked := [][2]int{{0, 0}, {1, 0}, {2, 1}}
	for i, c := range marked {
		b.clickImage(t, float64(c[0]*cell+cell/2), float64(c[1]*cell+cell/2))
		b.waitFor(t, fmt.Sprintf("cell %v marked", c), fmt.Sprintf(`document.getElementById('coverage-panel').dataset.cells === '%d'`, i+1))
	}
	// No annotation was selected by those clicks: marking is not selecting.
	if n := evalJS[int](t, b, `document.querySelectorAll('#annotation-list li.selected').length`); n != 0 {
		t.Errorf("marking cells selected %d annotations", n)
	}
	// One decimal, halves up, as the page rounds.
	wantShare := fmt.Sprintf("%.1f %%", math.Round(1000*float64(3*cell*cell)/float64(img.Width*img.Height))/10)
	wantCells := fmt.Sprintf("3 of %d cells", cols*rows)
	if got := b.text(t, "#coverage-share"); !strings.Contains(got, wantShare) || !strings.Contains(got, wantCells) {
		t.Errorf("share shown %q, want %s and %s", got, wantShare, wantCells)
	}
	cov, err := a.Store.Coverage(context.Background(), img.ID)
	if err != nil || len(cov.Cells) != 3 || cov.Cells[0].By != "ana" {
		t.Fatalf("stored coverage %+v, %v; want 3 cells by ana", cov, err)
	}
	for i, c := range marked {
		if cov.Cells[i].Col != c[0] || cov.Cells[i].Row != c[1] {
			t.Errorf("stored cell %d is %d,%d, want %v (the cell clicked)", i, cov.Cells[i].Col, cov.Cells[i].Row, c)
		}
	}

	// Reloaded, and seen by someone else: the cells, who searched them and when.
	hoverSays := func(b *browserSession, who string) {
		t.Helper()
		sx, sy := b.screen(t, float64(2*cell+cell/2), float64(cell+cell/2))
		b.do(t, chromedp.MouseEvent("mouseMoved", sx, sy))
		b.waitFor(t, "who searched the cell under the pointer", fmt.Sprintf(`document.getElementById('coverage-cell').textContent.includes('searched by %s') && !!document.querySelector('#coverage-cell time')`, who))
	}
	for _, who := range []string{"ana", "vera"} {
		if who == "ana" {
			b.do(t, chromedp.Navigate(a.url+"/images/"+img.ID))
			b.waitFor(t, "the annotator, reloaded", `document.getElementById('annotator')?.dataset.ready === 'true'`)
		} else {
			b = newBrowser(t)
			b.openAnnotator(t, a, img.ID, who)
		}
		b.do(t, chromedp.Click(`#coverage-toggle`))
		b.waitFor(t, "the grid, reloaded", `document.getElementById('coverage-panel').dataset.cells === '3'`)
		if got := b.text(t, "#coverage-share"); !strings.Contains(got, wantShare) {
			t.Errorf("%s sees the share %q, want %s", who, got, wantShare)
		}
		if got := b.text(t, "#coverage-last"); !strings.Contains(got, "by ana") {
			t.Errorf("%s sees %q as the last searched, want ana's", who, got)
		}
		hoverSays(b, "ana")
	}
	if n := evalJS[int](t, b, `document.querySelectorAll('#coverage-mark, #coverage-form').length`); n != 0 {
		t.Errorf("a viewer is offered %d controls to change the grid", n)
	}

	// The list's filter: by words in a note or identification, then by status.
	anns := a.annotationsOf(t, img.ID)
	count := func() int {
		return evalJS[int](t, b, `Number(document.getElementById('annotation-count').dataset.shown)`)
	}
	if got := count(); got != len(anns) {
		t.Fatalf("the list shows %d, want all %d", got, len(anns))
	}
	wantText := 0
	for _, an := range anns {
		if strings.Contains(strings.ToLower(an.Note+"\n"+an.Identification), "anchor") {
			wantText++
		}
	}
	if wantText == 0 || wantText == len(anns) {
		t.Fatalf("%d of %d sample annotations mention an anchor: the filter would show nothing", wantText, len(anns))
	}
	b.typeInto(t, "#find-text", "ANCHOR")
	b.waitFor(t, "the list filtered by text", fmt.Sprintf(`document.getElementById('annotation-count').dataset.shown === '%d' && document.querySelectorAll('#annotation-list li').length === %d`, wantText, wantText))
	if got := b.text(t, "#annotation-count"); got != fmt.Sprintf("(%d of %d)", wantText, len(anns)) {
		t.Errorf("the count says %q", got)
	}
	// The map hides what the list leaves out: the tiles draw only those with shown = 1,
	// a canvas layer's style gives the others no style.
	hidden := evalJS[int](t, b, `satmark.map.getLayers().getArray().filter((l) => l.getSource && l.getSource() && l.getSource().getFeatures).map((l) => l.getSource().getFeatures().filter((f) => f.get('ann') && (l.getStyleFunction ? l.getStyleFunction()(f, 1) === null : f.get('shown') !== 1)).length).reduce((a, b) => a + b, 0)`)
	if hidden != len(anns)-wantText {
		t.Errorf("%d annotations hidden on the map, want %d", hidden, len(anns)-wantText)
	}
	b.do(t, chromedp.Click(`#find-clear`))
	b.waitFor(t, "the filter cleared", fmt.Sprintf(`document.getElementById('annotation-count').dataset.shown === '%d'`, len(anns)))
	byStatus := map[string]int{}
	for _, an := range anns {
		byStatus[string(an.ReviewStatus)]++
	}
	for _, st := range []string{"draft", "accepted"} {
		b.setField(t, "#status-filter", st)
		b.waitFor(t, "the list filtered by "+st, fmt.Sprintf(`document.getElementById('annotation-count').dataset.shown === '%d' && [...document.querySelectorAll('#annotation-list li')].every((li) => li.dataset.status === %q)`, byStatus[st], st))
	}

	// ? shows the keys; Esc closes them.
	b.do(t, chromedp.Click(`#map`))
	b.do(t, chromedp.KeyEvent("?"))
	b.waitFor(t, "the keyboard help", `!!document.getElementById('key-help') && !document.getElementById('key-help').hidden`)
	if got := b.text(t, "#key-help"); !strings.Contains(got, "ruler") || !strings.Contains(got, "show or hide this help") {
		t.Errorf("the keyboard help says %q", got)
	}
	b.do(t, chromedp.KeyEvent(kb.Escape))
	b.waitFor(t, "the keyboard help closed", `document.getElementById('key-help').hidden`)
}

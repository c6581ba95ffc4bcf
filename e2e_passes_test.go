package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserPasses: an analyst opens the placed port scene of 8–13 October, pastes
// element sets with a broken one and is told which line, pastes them right, and sees the
// satellites' passes over the port with those that could have taken the picture marked.
func TestBrowserPasses(t *testing.T) {
	tles, err := os.ReadFile("server/testdata/test-satellites.tle") // two made-up low orbits, epochs 1 and 8 October 2024
	if err != nil {
		t.Fatal(err)
	}
	e2eTLEs := string(tles)
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, err := a.Store.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var port string
	for _, img := range images {
		if img.Georeferenced && img.CapturedFrom == "2024-10-08" {
			port = img.ID
		}
	}
	if port == "" {
		t.Fatal("no placed sample scene captured from 8 October")
	}
	a.addUser(t, "Pass Analyst", "analyst")
	b.signIn(t, a, "/images/"+port, "Pass Analyst")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true'`)
	b.do(t, chromedp.Click(chromedp.CSS(`#passes-panel > summary`)))
	b.waitFor(t, "no element sets yet", `document.getElementById('passes-status').textContent.includes('No element sets stored yet')`)

	// A wrong checksum on line 3: refused with its line, nothing stored.
	lines := strings.Split(e2eTLEs, "\n")
	broken := strings.Join(append([]string{lines[0], lines[1], lines[2][:68] + "0"}, lines[3:]...), "\n")
	b.typeInto(t, "#tle-text", broken)
	b.do(t, chromedp.Click(chromedp.ID("tle-add")))
	b.waitFor(t, "the refusal", `[...document.querySelectorAll('#tle-refusals li')].some(li => li.textContent.startsWith('line 3:') && li.textContent.includes('checksum'))`)
	if tles, _ := a.Store.TLEs(ctx); len(tles) != 0 {
		t.Fatalf("%d element sets stored after a refusal", len(tles))
	}

	b.typeInto(t, "#tle-text", e2eTLEs)
	b.do(t, chromedp.Click(chromedp.ID("tle-add")))
	b.waitFor(t, "the passes table", `Number(document.getElementById('passes-panel').dataset.passes) > 0 && !document.getElementById('passes-table').hidden`)
	type row struct {
		Name, Cells string
		Could       bool
	}
	rows := evalJS[[]row](t, b, `[...document.querySelectorAll('#passes-table tbody tr')].map(tr => ({
		Name: tr.querySelector('.pass-name').textContent,
		Cells: tr.textContent,
		Could: tr.classList.contains('could-image') && tr.querySelector('.could').textContent === 'yes'}))`)
	names := map[string]int{}
	could := 0
	for _, r := range rows {
		names[r.Name]++
		if r.Could {
			could++
		}
		if !strings.Contains(r.Cells, "2024-10-") || !strings.Contains(r.Cells, "°") {
			t.Errorf("row %q has no time or angles", r.Cells)
		}
	}
	if names["SATMARK TEST SSO-1"] == 0 || names["SATMARK TEST LEO-2"] == 0 || could == 0 || could == len(rows) {
		t.Errorf("rows by satellite %v, %d of %d could image", names, could, len(rows))
	}
	status := evalJS[string](t, b, `document.getElementById('passes-status').textContent`)
	if !strings.Contains(status, "of 2 satellites") || !strings.Contains(status, "within 30° off nadir") {
		t.Errorf("status %q", status)
	}
	// Over a week from its epoch the element set is flagged.
	if n := evalJS[int](t, b, `document.querySelectorAll('#passes-table td.stale').length`); n == 0 {
		t.Error("no pass flagged for an element set over a week old")
	}
	if tles, _ := a.Store.TLEs(ctx); len(tles) != 2 || tles[0].CreatedBy != "Pass Analyst" {
		t.Errorf("stored %+v", tles)
	}
}

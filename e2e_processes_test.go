package main

// A browser test of several processes: two `satmark serve` processes on one PostgreSQL
// database and one data folder, an analyst's browser on each; what one draws and moves
// through the first process shows live in the other's page, served by the second.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/ingest"
	"github.com/satmark/satmark/pgtest"
	"github.com/satmark/satmark/sampledata"
)

func TestBrowserTwoProcessesLive(t *testing.T) {
	dsn := pgtest.DSN(t)
	ada, ben := newBrowser(t), newBrowser(t)
	ctx := context.Background()
	data := t.TempDir()
	// The samples go in first, through a store and library of the test's own on the same
	// database and folder, their pyramids built, as `satmark seed` would.
	store, err := annotations.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	lib, err := imagery.OpenWith(data, imagery.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sampledata.Seed(ctx, store, lib); err != nil {
		t.Fatalf("seed: %v", err)
	}
	ingest.NewBuilder(store, lib, 1, slog.New(slog.NewTextHandler(io.Discard, nil))).Drain(ctx)
	shared := &Main{Store: store, Library: lib}
	seeded := &app{Main: shared}
	seeded.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	seeded.addUser(t, "Ben Analyst", annotations.RoleAnalyst)
	port := portImage(t, seeded)

	env := []string{"SATMARK_DATABASE=" + dsn, "SATMARK_ADMIN_PASSWORD=chosen in advance"}
	first := &app{Main: shared, url: startServeProcess(t, data, env...).url}
	second := &app{Main: shared, url: startServeProcess(t, data, env...).url}
	if first.url == second.url {
		t.Fatalf("both processes serve %s", first.url)
	}
	ada.openAnnotator(t, first, port.ID, "Ada Analyst")
	ben.openAnnotator(t, second, port.ID, "Ben Analyst")

	// Ada draws a point through the first process: it appears in Ben's list, from the
	// second, without a reload.
	before := seeded.annotationsOf(t, port.ID)
	point := ada.drawVehiclePoint(t, seeded, port.ID, before)
	ben.waitFor(t, "Ada's point in Ben's list", fmt.Sprintf(`!!document.querySelector('#annotation-list li[data-annotation-id=%q]')`, point.ID))
	if n := evalJS[int](t, ben, `document.querySelectorAll('#annotation-list li').length`); n != len(before)+1 {
		t.Errorf("Ben's list has %d entries, want %d (the point once)", n, len(before)+1)
	}
	if n := evalJS[int](t, ada, `document.querySelectorAll('#annotation-list li').length`); n != len(before)+1 {
		t.Errorf("Ada's list has %d entries, want %d (her point once, not echoed back by the other process)", n, len(before)+1)
	}

	// Ada moves it: Ben sees the new version where she put it.
	ada.do(t, chromedp.Click(chromedp.CSS(`[data-tool=select]`)))
	ada.selectInList(t, point.ID)
	ada.dragImage(t, [2]float64{1200.5, 1400.5}, [2]float64{1260.5, 1430.5})
	ada.waitFor(t, "the move saved", annotationJS(point.ID)+`.version === 2`)
	moved, err := store.Annotation(ctx, point.ID)
	if err != nil || moved.Version != 2 {
		t.Fatalf("after the move: %+v, %v; want version 2", moved, err)
	}
	p := moved.Geometry.Coordinates[0][0]
	ben.waitFor(t, "the moved point in Ben's page", fmt.Sprintf(`(() => { const a = %s; return a.version === 2 && a.geometry.coordinates[0] === %v && a.geometry.coordinates[1] === %v; })()`, annotationJS(point.ID), p[0], p[1]))
}

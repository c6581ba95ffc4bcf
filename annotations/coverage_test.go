package annotations

import (
	"context"
	"errors"
	"math"
	"testing"
)

// Search coverage: a grid is chosen, cells are marked by whom and when, the share counts
// edge cells by their part inside the image, and every change is audited; changing the
// cell size under marked cells needs clear.
func TestCoverage(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "scene", 100, 80, Provenance{})
		c, err := s.Coverage(ctx, img.ID)
		if err != nil || c.CellPx != 0 || len(c.Cells) != 0 || c.Share != 0 {
			t.Fatalf("a new image's coverage: %+v, %v; want no grid", c, err)
		}
		ana := Actor{Name: "ana", IP: "192.0.2.7"}
		if _, err := s.MarkCoverageCell(ctx, ana, img.ID, 0, 0, true); !errors.Is(err, ErrConflict) {
			t.Fatalf("marking without a grid: %v, want ErrConflict", err)
		}
		var ve *ValidationError
		if _, err := s.SetCoverageGrid(ctx, ana, img.ID, 4, false); !errors.As(err, &ve) || ve.Field != "cell_px" {
			t.Fatalf("4-pixel cells: %v, want a ValidationError on cell_px", err)
		}
		if c, err = s.SetCoverageGrid(ctx, ana, img.ID, 30, false); err != nil || c.Cols != 4 || c.Rows != 3 {
			t.Fatalf("30-pixel grid: %+v, %v; want 4 × 3 cells", c, err)
		}
		// The corner cell (3, 2) is 10 × 20 pixels inside the 100 × 80 image.
		for _, cell := range [][2]int{{0, 0}, {3, 2}, {3, 2}} {
			if c, err = s.MarkCoverageCell(ctx, ana, img.ID, cell[0], cell[1], true); err != nil {
				t.Fatal(err)
			}
		}
		if want := (30.0*30 + 10*20) / (100 * 80); len(c.Cells) != 2 || math.Abs(c.Share-want) > 1e-12 {
			t.Fatalf("after marking (0,0) and (3,2) twice: %+v; want 2 cells, share %g", c, want)
		}
		if c.Cells[0].By != "ana" || c.Cells[0].At.IsZero() {
			t.Errorf("cell: %+v, want who and when", c.Cells[0])
		}
		for _, cell := range [][2]int{{4, 0}, {0, 3}, {-1, 0}} {
			if _, err := s.MarkCoverageCell(ctx, ana, img.ID, cell[0], cell[1], true); !errors.As(err, &ve) {
				t.Errorf("cell %v outside the 4 × 3 grid: %v, want a ValidationError", cell, err)
			}
		}
		if _, err := s.SetCoverageGrid(ctx, ana, img.ID, 20, false); !errors.Is(err, ErrConflict) {
			t.Fatalf("new cell size over marked cells: %v, want ErrConflict", err)
		}
		if c, _ = s.Coverage(ctx, img.ID); c.CellPx != 30 || len(c.Cells) != 2 {
			t.Fatalf("after the refused change: %+v, want it unchanged", c)
		}
		if c, err = s.MarkCoverageCell(ctx, ana, img.ID, 0, 0, false); err != nil || len(c.Cells) != 1 {
			t.Fatalf("unmark: %+v, %v", c, err)
		}
		if c, err = s.SetCoverageGrid(ctx, ana, img.ID, 20, true); err != nil || c.CellPx != 20 || len(c.Cells) != 0 || c.Share != 0 {
			t.Fatalf("new cell size with clear: %+v, %v; want an empty 20-pixel grid", c, err)
		}
		log, err := s.AuditLog(ctx, AuditFilter{Action: "coverage"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action)
			if e.Actor != "ana" || e.IP != "192.0.2.7" || e.TargetID != img.ID {
				t.Errorf("audit entry %+v, want ana's on the image", e)
			}
		}
		want := []string{"coverage.grid", "coverage.unmark", "coverage.mark", "coverage.mark", "coverage.grid"}
		if len(actions) != len(want) {
			t.Fatalf("audit: %v, want %v (newest first)", actions, want)
		}
		for i := range want {
			if actions[i] != want[i] {
				t.Fatalf("audit: %v, want %v (newest first)", actions, want)
			}
		}
		if _, err := s.Coverage(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unknown image: %v, want ErrNotFound", err)
		}
	})
}

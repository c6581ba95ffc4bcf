package annotations

import (
	"context"
	"errors"
	"testing"
)

// Display settings: the first defaults stored stay (a second build's do not overwrite
// them); an analyst's settings replace them and queue the pyramid again, audited in the
// same transaction; a change while the build runs is refused with nothing written.
func TestDisplaySettings(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "raster", 100, 80, Provenance{})
		if _, err := s.Display(ctx, img.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a new image's display: got %v, want ErrNotFound", err)
		}
		defaults := `{"bands":[3,2,1],"stretch":[{"min":1,"max":2},{"min":1,"max":2},{"min":1,"max":2}],"gamma":1}`
		got, err := s.SetDefaultDisplay(ctx, img.ID, []byte(defaults))
		if err != nil || string(got) != defaults {
			t.Fatalf("SetDefaultDisplay: %s, %v; want the defaults stored", got, err)
		}
		if got, err := s.SetDefaultDisplay(ctx, img.ID, []byte(`{"bands":[1]}`)); err != nil || string(got) != defaults {
			t.Errorf("second SetDefaultDisplay: %s, %v; want the first defaults kept", got, err)
		}
		if got, err := s.Display(ctx, img.ID); err != nil || string(got) != defaults {
			t.Errorf("Display: %s, %v; want the defaults", got, err)
		}

		// The build runs: a change now would be built with the old settings.
		job, err := s.ClaimJob(ctx, JobPyramid)
		if err != nil {
			t.Fatal(err)
		}
		by := Actor{Name: "ana", IP: "192.0.2.7"}
		chosen := `{"bands":[4,3,2],"gamma":1.5}`
		if _, err := s.SetDisplay(ctx, by, img.ID, []byte(chosen), "bands [4 3 2]"); !errors.Is(err, ErrConflict) {
			t.Fatalf("SetDisplay during the build: got %v, want ErrConflict", err)
		}
		if got, _ := s.Display(ctx, img.ID); string(got) != defaults {
			t.Errorf("after the refused change: %s, want the defaults untouched", got)
		}
		if log, _ := s.AuditLog(ctx, AuditFilter{Action: "image.display"}); len(log) != 0 {
			t.Errorf("the refused change left audit entries %+v", log)
		}
		if err := s.FinishJob(ctx, job.ID); err != nil {
			t.Fatal(err)
		}

		j, err := s.SetDisplay(ctx, by, img.ID, []byte(chosen), "bands [4 3 2]")
		if err != nil || j.State != JobQueued || j.ImageID != img.ID {
			t.Fatalf("SetDisplay: %+v, %v; want the pyramid queued again", j, err)
		}
		if got, _ := s.Display(ctx, img.ID); string(got) != chosen {
			t.Errorf("after SetDisplay: %s, want %s", got, chosen)
		}
		if i, _ := s.Image(ctx, img.ID); i.Pyramid.State != JobQueued {
			t.Errorf("the image's pyramid: %+v, want queued", i.Pyramid)
		}
		log, err := s.AuditLog(ctx, AuditFilter{Action: "image.display"})
		if err != nil || len(log) != 1 || log[0].Actor != "ana" || log[0].TargetID != img.ID || log[0].Detail != "bands [4 3 2]" || log[0].IP != "192.0.2.7" {
			t.Errorf("audit: %+v, %v; want one image.display entry by ana", log, err)
		}
		if _, err := s.SetDisplay(ctx, by, "img_aaaaaaaaaaaa", []byte(chosen), ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetDisplay of an unknown image: got %v, want ErrNotFound", err)
		}
	})
}

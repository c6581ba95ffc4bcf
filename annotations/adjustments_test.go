package annotations

import (
	"context"
	"errors"
	"testing"
)

// Adjustments: neutral until saved; a save is checked, stored and audited together; out
// of range names its field and writes nothing; a trashed image has none.
func TestAdjustments(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "scene", 100, 80, Provenance{})
		got, err := s.Adjustments(ctx, img.ID)
		if err != nil || got != NeutralAdjustments() {
			t.Fatalf("a new image's adjustments: %+v, %v; want neutral", got, err)
		}
		if _, err := s.Adjustments(ctx, "img_aaaaaaaaaaaa"); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unknown image's adjustments: got %v, want ErrNotFound", err)
		}
		by := Actor{Name: "ana", IP: "192.0.2.7"}
		want := Adjustments{Brightness: 0.2, Contrast: -0.3, Saturation: 0.5, Gamma: 1.4, Stretch: &Levels{Low: 0.05, High: 0.9}}
		saved, err := s.SetAdjustments(ctx, by, img.ID, want)
		if err != nil {
			t.Fatal(err)
		}
		if saved.Brightness != 0.2 || saved.Contrast != -0.3 || saved.Saturation != 0.5 || saved.Gamma != 1.4 ||
			saved.Stretch == nil || *saved.Stretch != *want.Stretch || saved.UpdatedBy != "ana" || saved.UpdatedAt.IsZero() {
			t.Fatalf("saved %+v, want %+v by ana", saved, want)
		}
		log, err := s.AuditLog(ctx, AuditFilter{Action: "image.adjust"})
		if err != nil || len(log) != 1 || log[0].TargetID != img.ID || log[0].Actor != "ana" ||
			log[0].Detail != "brightness 0.2, contrast -0.3, saturation 0.5, gamma 1.4, stretch 0.05–0.9" {
			t.Fatalf("audit: %+v, %v; want one image.adjust entry by ana", log, err)
		}

		for _, tc := range []struct {
			name  string
			a     Adjustments
			field string
		}{
			{"nok, brightness above 1", Adjustments{Brightness: 1.5, Gamma: 1}, "brightness"},
			{"nok, contrast below -1", Adjustments{Contrast: -2, Gamma: 1}, "contrast"},
			{"nok, saturation above 1", Adjustments{Saturation: 3, Gamma: 1}, "saturation"},
			{"nok, gamma 0", Adjustments{}, "gamma"},
			{"nok, gamma 11", Adjustments{Gamma: 11}, "gamma"},
			{"nok, stretch low negative", Adjustments{Gamma: 1, Stretch: &Levels{Low: -0.1, High: 0.5}}, "stretch.low"},
			{"nok, stretch high at low", Adjustments{Gamma: 1, Stretch: &Levels{Low: 0.5, High: 0.5}}, "stretch.high"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.SetAdjustments(ctx, by, img.ID, tc.a)
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field {
					t.Fatalf("got %v, want a ValidationError on %s", err, tc.field)
				}
			})
		}
		if got, _ := s.Adjustments(ctx, img.ID); got.Gamma != 1.4 {
			t.Errorf("after refused saves: %+v, want what was saved", got)
		}
		if _, err := s.TrashImage(ctx, by, img.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Adjustments(ctx, img.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("a trashed image's adjustments: got %v, want ErrNotFound", err)
		}
	})
}

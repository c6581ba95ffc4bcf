package annotations

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestTracksFollowOneObjectAcrossImages(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		s := openStore(t)
		ctx := context.Background()
		ana := Actor{Name: "ana"}
		if _, err := s.CreateLabel(ctx, Actor{Name: "root"}, LabelInput{Name: ptr("landing ship")}); err != nil {
			t.Fatal(err)
		}
		oct8 := addImage(t, s, "port 8 Oct", 1000, 800, Provenance{})
		oct13 := addImage(t, s, "port 13 Oct", 1000, 800, Provenance{})
		ship := func(img Image, x float64) Annotation {
			return addAnnotation(t, s, "ana", img.ID, "landing ship", ShapePoint, fmt.Sprintf(`{"type":"Point","coordinates":[%g,100]}`, x), "")
		}
		a8, b8, a13 := ship(oct8, 100), ship(oct8, 200), ship(oct13, 150)

		tr, err := s.CreateTrack(ctx, ana, TrackInput{Name: ptr(" Landing ship A ")}, []TrackLink{{AnnotationID: a8.ID, Confidence: Confirmed}})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Name != "Landing ship A" || len(tr.Links) != 1 || tr.Links[0].ImageID != oct8.ID {
			t.Fatalf("created %+v", tr)
		}
		if tr, err = s.LinkAnnotation(ctx, ana, tr.ID, a13.ID, ""); err != nil {
			t.Fatal(err)
		}
		if len(tr.Links) != 2 || tr.Links[1].Confidence != Probable {
			t.Fatalf("after linking the 13th: %+v", tr.Links)
		}
		// Changing the confidence of a link is linking again.
		if tr, err = s.LinkAnnotation(ctx, ana, tr.ID, a13.ID, Possible); err != nil || len(tr.Links) != 2 || tr.Links[1].Confidence != Possible {
			t.Fatalf("changing the confidence: %+v, %v", tr.Links, err)
		}

		var ve *ValidationError
		// Two annotations of one image are two objects.
		if _, err := s.LinkAnnotation(ctx, ana, tr.ID, b8.ID, Probable); !errors.As(err, &ve) || ve.Field != "annotation_id" || !strings.Contains(ve.Message, "same image") {
			t.Fatalf("a second annotation of the 8th: %v", err)
		}
		// An annotation follows one object.
		other, err := s.CreateTrack(ctx, ana, TrackInput{Name: ptr("Landing ship B")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.LinkAnnotation(ctx, ana, other.ID, a8.ID, Probable); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "Landing ship A") {
			t.Fatalf("a8 into a second track: %v", err)
		}
		if _, err := s.LinkAnnotation(ctx, ana, other.ID, "ann_nope", Probable); !errors.As(err, &ve) {
			t.Fatalf("an unknown annotation: %v", err)
		}
		if _, err := s.LinkAnnotation(ctx, ana, other.ID, b8.ID, "sure"); !errors.As(err, &ve) || ve.Field != "confidence" {
			t.Fatalf("a confidence that is not one: %v", err)
		}
		// A track created with two annotations of one image is refused whole.
		if _, err := s.CreateTrack(ctx, ana, TrackInput{Name: ptr("bad")}, []TrackLink{{AnnotationID: b8.ID}, {AnnotationID: a8.ID}}); err == nil {
			t.Fatal("a track of b8 and a8 (in track A) was created")
		}
		if n := count(t, s, `SELECT COUNT(*) FROM tracks WHERE name = 'bad'`); n != 0 {
			t.Fatalf("the refused track left %d rows", n)
		}

		// Deleting an annotation takes it out of its track; the track stays.
		if err := s.DeleteAnnotation(ctx, ana, a13.ID, ptr(1)); err != nil {
			t.Fatal(err)
		}
		if tr, err = s.Track(ctx, tr.ID); err != nil || len(tr.Links) != 1 {
			t.Fatalf("after deleting a13: %+v, %v", tr.Links, err)
		}
		if _, err := s.UnlinkAnnotation(ctx, ana, tr.ID, a13.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unlinking what is not there: %v", err)
		}
		if _, err := s.UpdateTrack(ctx, ana, tr.ID, ptr(3), TrackInput{Notes: ptr("x")}); err == nil {
			t.Fatal("an update from a stale version went through")
		}
		if err := s.DeleteTrack(ctx, ana, tr.ID, ptr(1)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Annotation(ctx, a8.ID); err != nil {
			t.Fatalf("deleting the track took its annotation: %v", err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM audit WHERE target_type = 'track'`); n != 5 {
			t.Errorf("%d track audit entries, want 5: two creates, two links, a delete (refusals write none)", n)
		}
	})
}

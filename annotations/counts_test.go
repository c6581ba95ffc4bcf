package annotations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// recount counts an image's annotations by review state from the annotations themselves,
// as every image answer did before the counts were kept.
func recount(t *testing.T, s *Store, imageID string) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, st := range ReviewStatuses {
		counts[st] = 0
	}
	rows, err := s.DB().Query(`SELECT review_status, COUNT(*) FROM annotations WHERE image_id = ? GROUP BY review_status`, imageID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			t.Fatal(err)
		}
		counts[st] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}

// wantCounts checks what an image answer says of its annotations (counts by state and
// total) against want and against a recount, and ReviewCounts too.
func wantCounts(t *testing.T, s *Store, step string, img Image, want map[string]int) {
	t.Helper()
	total := 0
	for _, st := range ReviewStatuses {
		total += want[st]
	}
	counted := recount(t, s, img.ID)
	kept, err := s.ReviewCounts(context.Background(), img.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range ReviewStatuses {
		if counted[st] != want[st] {
			t.Errorf("%s: %d annotations are %s, want %d (the test's own expectation)", step, counted[st], st, want[st])
		}
		if img.ReviewCounts[st] != want[st] {
			t.Errorf("%s: the image says %d are %s, want %d", step, img.ReviewCounts[st], st, want[st])
		}
		if kept[st] != want[st] {
			t.Errorf("%s: ReviewCounts says %d are %s, want %d", step, kept[st], st, want[st])
		}
	}
	if img.AnnotationCount != total {
		t.Errorf("%s: the image says %d annotations, want %d", step, img.AnnotationCount, total)
	}
}

// countsChecker adds another image with one draft annotation to x's store, and returns
// a check of x's image's counts against want and of the other image's, which stay, with
// the other image.
func countsChecker(t *testing.T, x annotated) (func(step string, want map[string]int), Image) {
	t.Helper()
	other := addImage(t, x.s, "other", 100, 100, Provenance{})
	addAnnotation(t, x.s, "alice", other.ID, "vessel", ShapePoint, pointJSON, "")
	return func(step string, want map[string]int) {
		t.Helper()
		for _, c := range []struct {
			id, step string
			want     map[string]int
		}{{x.img.ID, step, want}, {other.ID, step + " (the other image)", map[string]int{ReviewDraft: 1}}} {
			img, err := x.s.Image(context.Background(), c.id)
			if err != nil {
				t.Fatal(err)
			}
			wantCounts(t, x.s, c.step, img, c.want)
		}
	}, other
}

func TestReviewCountsKeptThroughEveryChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		s := x.s
		checkCounts, other := countsChecker(t, x)
		want := map[string]int{}
		check := func(step string) {
			t.Helper()
			checkCounts(step, want)
		}
		check("no annotations")

		label, shape := "vessel", ShapeRectangle
		in := AnnotationInput{Label: &label, Shape: &shape, Geometry: json.RawMessage(boxJSON)}
		created, err := s.CreateAnnotations(ctx, "alice", x.img.ID, []AnnotationInput{in, in, in, in, in})
		if err != nil {
			t.Fatal(err)
		}
		a := addAnnotation(t, s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		want[ReviewDraft] = 6
		check("six created, five at once")

		bad := in
		bad.Geometry = json.RawMessage(`{"type":"Polygon","coordinates":[[[10,10],[60,10],[10,10]]]}`)
		if _, err := s.CreateAnnotations(ctx, "alice", x.img.ID, []AnnotationInput{in, bad}); err == nil {
			t.Fatal("a paste with a broken ring was stored")
		}
		check("a refused paste")

		if a, err = s.ReviewAnnotation(ctx, "alice", a.ID, a.Version, ReviewSubmitted, ""); err != nil {
			t.Fatal(err)
		}
		want[ReviewDraft], want[ReviewSubmitted] = 5, 1
		check("one submitted")
		if a, err = s.ReviewAnnotation(ctx, "bob", a.ID, a.Version, ReviewAccepted, ""); err != nil {
			t.Fatal(err)
		}
		want[ReviewSubmitted], want[ReviewAccepted] = 0, 1
		check("accepted")
		if a, err = s.WithdrawReview(ctx, Actor{Name: "bob"}, a.ID, a.Version); err != nil {
			t.Fatal(err)
		}
		want[ReviewSubmitted], want[ReviewAccepted] = 1, 0
		check("the acceptance withdrawn (submitted again)")
		if a, err = s.ReviewAnnotation(ctx, "bob", a.ID, a.Version, ReviewAccepted, ""); err != nil {
			t.Fatal(err)
		}
		want[ReviewSubmitted], want[ReviewAccepted] = 0, 1
		check("accepted again")
		if a, err = s.UpdateAnnotation(ctx, "alice", a.ID, AnnotationInput{Properties: json.RawMessage(`{"note":"bow"}`), Version: &a.Version}); err != nil {
			t.Fatal(err)
		}
		want[ReviewAccepted], want[ReviewDraft] = 0, 6
		check("an accepted annotation edited (a draft again)")

		if a, err = s.ReviewAnnotation(ctx, "alice", a.ID, a.Version, ReviewSubmitted, ""); err != nil {
			t.Fatal(err)
		}
		if _, err = s.RestoreAnnotation(ctx, Actor{Name: "carol"}, a.ID, 1, &a.Version); err != nil {
			t.Fatal(err)
		}
		check("a submitted annotation restored to its first version (a draft)")

		gone := created[0]
		if err := s.DeleteAnnotation(ctx, Actor{Name: "alice"}, gone.ID, &gone.Version); err != nil {
			t.Fatal(err)
		}
		want[ReviewDraft] = 5
		check("one deleted")
		if _, err := s.RestoreAnnotation(ctx, Actor{Name: "alice"}, gone.ID, 1, nil); err != nil {
			t.Fatal(err)
		}
		want[ReviewDraft] = 6
		check("the deleted one restored")

		refs := func(as ...Annotation) []BulkRef {
			out := make([]BulkRef, len(as))
			for i, a := range as {
				out[i] = BulkRef{ID: a.ID, Version: &a.Version}
			}
			return out
		}
		by := Actor{Name: "alice"}
		subs, err := s.BulkChangeAnnotations(ctx, by, x.img.ID, BulkChange{Action: BulkReview, Decision: ReviewSubmitted,
			Annotations: refs(created[1], created[2], created[3])})
		if err != nil {
			t.Fatal(err)
		}
		want[ReviewDraft], want[ReviewSubmitted] = 3, 3
		check("three submitted at once")
		if _, err := s.BulkChangeAnnotations(ctx, Actor{Name: "bob"}, x.img.ID, BulkChange{Action: BulkReview, Decision: ReviewRejected,
			Reason: "a tug", Annotations: refs(subs[0], created[4])}); err == nil {
			t.Fatal("a bulk rejection naming a draft was applied")
		}
		check("a refused bulk rejection (one of them is a draft)")
		if _, err := s.BulkChangeAnnotations(ctx, Actor{Name: "bob"}, x.img.ID, BulkChange{Action: BulkReview, Decision: ReviewDisputed,
			Reason: "a tug", Annotations: refs(subs[0])}); err != nil {
			t.Fatal(err)
		}
		want[ReviewSubmitted], want[ReviewDisputed] = 2, 1
		check("one disputed")
		frigate := "vessel/landing ship"
		relabelled, err := s.BulkChangeAnnotations(ctx, by, x.img.ID, BulkChange{Action: BulkUpdate, Patch: &AnnotationInput{Label: &frigate},
			Annotations: refs(subs[1])})
		if err != nil {
			t.Fatal(err)
		}
		want[ReviewSubmitted], want[ReviewDraft] = 1, 4
		check("a submitted one relabelled at once (a draft again)")
		if _, err := s.BulkChangeAnnotations(ctx, by, x.img.ID, BulkChange{Action: BulkDelete, Annotations: refs(relabelled[0], subs[2])}); err != nil {
			t.Fatal(err)
		}
		want[ReviewSubmitted], want[ReviewDraft] = 0, 3
		check("two deleted at once")

		if _, err := s.TrashImage(ctx, by, x.img.ID); err != nil {
			t.Fatal(err)
		}
		trash, err := s.Trash(ctx)
		if err != nil || len(trash) != 1 {
			t.Fatalf("trash = %v (%v), want the image", trash, err)
		}
		wantCounts(t, s, "in the trash", trash[0].Image, want)
		restored, err := s.RestoreImage(ctx, Actor{Name: "admin"}, x.img.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, s, "restored from the trash (as RestoreImage answers)", restored, want)
		check("restored from the trash")
		images, err := s.Images(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, img := range images {
			if img.ID == x.img.ID {
				wantCounts(t, s, "in the list of images", img, want)
			}
		}

		if _, err := s.TrashImage(ctx, by, x.img.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PurgeImage(ctx, Actor{Name: "admin"}, x.img.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM image_review_counts WHERE image_id = ?`, x.img.ID); n != 0 {
			t.Errorf("after the purge, %d counts of the image are kept, want none", n)
		}
		if _, err := s.ReviewCounts(ctx, x.img.ID); err != nil {
			t.Errorf("ReviewCounts of a purged image: %v", err)
		}
		otherNow, err := s.Image(ctx, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts(t, s, "the other image, after the purge", otherNow, map[string]int{ReviewDraft: 1})
	})
}

// TestReviewCountsBackfilled opens a database whose annotations were written before the
// counts were kept: migration 0015 counts them once.
func TestReviewCountsBackfilled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "satmark.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	img := addImage(t, s, "scene", 200, 100, Provenance{})
	addLabel(t, s, "vessel")
	for range 3 {
		addAnnotation(t, s, "alice", img.ID, "vessel", ShapePoint, pointJSON, "")
	}
	a := addAnnotation(t, s, "alice", img.ID, "vessel", ShapePoint, pointJSON, "")
	if _, err := s.ReviewAnnotation(ctx, "alice", a.ID, a.Version, ReviewSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	// Back to the schema before 0015, as a database of an earlier satmark is.
	if _, err := s.DB().Exec(`DROP TABLE image_review_counts;
		DROP TRIGGER annotations_count_insert; DROP TRIGGER annotations_count_delete; DROP TRIGGER annotations_count_update;
		DROP INDEX annotations_image_created; CREATE INDEX annotations_image_status ON annotations (image_id, review_status);
		DROP INDEX revisions_image_id; CREATE INDEX revisions_image ON revisions (image_id);
		DELETE FROM schema_migrations WHERE name = 'migrations/0015_annotation_scale.sql'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Image(ctx, img.ID); err == nil {
		t.Fatal("the image was read without its counts' table: the test did not undo 0015")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Image(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, s, "after the migration", got, map[string]int{ReviewDraft: 3, ReviewSubmitted: 1})
	addAnnotation(t, s, "alice", img.ID, "vessel", ShapePoint, pointJSON, "")
	if err := s.DeleteAnnotation(ctx, Actor{Name: "alice"}, a.ID, ptr(a.Version+1)); err != nil {
		t.Fatal(err)
	}
	got, err = s.Image(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, s, "a create and a delete after the migration", got, map[string]int{ReviewDraft: 4})
}

// TestReviewCountsAfterImports: an import counts its annotations once, at the end of its
// transaction, with the counting trigger set aside meanwhile; the image answer after a
// bulk import, a dry run and a refused import says what the annotations are, and the
// trigger is back as it was for the writes that follow.
func TestReviewCountsAfterImports(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		s := x.s
		checkCounts, _ := countsChecker(t, x)
		addAnnotation(t, s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		a := addAnnotation(t, s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		if _, err := s.ReviewAnnotation(ctx, "alice", a.ID, a.Version, ReviewSubmitted, ""); err != nil {
			t.Fatal(err)
		}
		trigger := triggerSQL(t, s, "annotations_count_insert")
		if trigger == "" {
			t.Fatal("no counting trigger")
		}
		want := map[string]int{ReviewDraft: 1, ReviewSubmitted: 1}
		check := func(step string) {
			t.Helper()
			checkCounts(step, want)
			if now := triggerSQL(t, s, "annotations_count_insert"); now != trigger {
				t.Errorf("%s: the counting trigger is %q, want it as it was", step, now)
			}
		}
		var fs []ImportFeature
		for i := range 700 { // more than two batches
			fs = append(fs, feature(fmt.Sprint(i), "vessel", ShapePoint, pointJSON, `{"note":"n"}`))
		}
		if rep, err := s.ImportAnnotations(ctx, Actor{Name: "kim"}, x.img.ID, emitting(fs...), ImportOptions{DryRun: true}); err != nil || rep.Create != 700 {
			t.Fatalf("dry run: %+v %v", rep, err)
		}
		check("a dry run")
		if rep, err := s.ImportAnnotations(ctx, Actor{Name: "kim"}, x.img.ID, emitting(fs...), ImportOptions{}); err != nil || rep.Created != 700 {
			t.Fatalf("import: %+v %v", rep, err)
		}
		want[ReviewDraft] += 700
		check("700 imported")
		refused := append(fs[:300:300], feature("bad", "vessel", ShapePoint, `{"type":"Point","coordinates":[-50,5]}`, ``))
		if _, err := s.ImportAnnotations(ctx, Actor{Name: "kim"}, x.img.ID, emitting(refused...), ImportOptions{}); !errors.As(err, new(*ImportRefusedError)) {
			t.Fatalf("an import with a feature outside the image: %v, want refused", err)
		}
		check("a refused import")
		addAnnotation(t, s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		want[ReviewDraft]++
		check("one drawn after the imports")
	})
}

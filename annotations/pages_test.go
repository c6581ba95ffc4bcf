package annotations

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// walkPages reads every page of the image, limit at a time, calling between (when not
// nil) after each page but the last, and returns the ids in the order read.
func walkPages(t *testing.T, s *Store, imageID string, limit int, between func(page int)) []string {
	t.Helper()
	var ids []string
	after := ""
	for page := 0; ; page++ {
		p, err := s.AnnotationPage(context.Background(), imageID, after, limit)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(p.Annotations) > limit {
			t.Fatalf("page %d has %d annotations, over the limit %d", page, len(p.Annotations), limit)
		}
		for _, a := range p.Annotations {
			ids = append(ids, a.ID)
		}
		if p.Next == "" {
			return ids
		}
		if len(p.Annotations) < limit {
			t.Fatalf("page %d has %d annotations, under the limit %d, and a next page", page, len(p.Annotations), limit)
		}
		if between != nil {
			between(page)
		}
		after = p.Next
	}
}

func listIDs(t *testing.T, s *Store, imageID string) []string {
	t.Helper()
	all, err := s.Annotations(context.Background(), AnnotationFilter{ImageIDs: []string{imageID}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range all {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestAnnotationPagesInListOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		x := newAnnotated(t)
		other := addImage(t, x.s, "other", 100, 100, Provenance{})
		addAnnotation(t, x.s, "alice", other.ID, "vessel", ShapePoint, pointJSON, "")
		// Four at each instant: the id decides among them.
		start := time.Date(2024, 10, 8, 9, 0, 0, 90_000_000, time.UTC)
		stepClock(t, x.s, start, 0)
		for i := range 11 {
			if i%4 == 0 {
				stepClock(t, x.s, start.Add(time.Duration(i)*10*time.Millisecond), 0)
			}
			addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		}
		want := listIDs(t, x.s, x.img.ID)
		if len(want) != 11 {
			t.Fatalf("the list has %d annotations, want 11", len(want))
		}
		for _, limit := range []int{1, 3, 4, 11, 12, MaxPage} {
			if got := walkPages(t, x.s, x.img.ID, limit, nil); !slices.Equal(got, want) {
				t.Errorf("pages of %d: got\n%s\nwant the list's order\n%s", limit, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		empty := addImage(t, x.s, "empty", 100, 100, Provenance{})
		if got := walkPages(t, x.s, empty.ID, 5, nil); len(got) != 0 {
			t.Errorf("an image without annotations: got %v, want none", got)
		}
	})
}

// Annotations created, deleted and changed between pages: every annotation there from
// the first page to the last is read exactly once.
func TestAnnotationPagesWithWritesBetween(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		stepClock(t, x.s, time.Date(2024, 10, 8, 9, 0, 0, 0, time.UTC), time.Millisecond)
		var all []Annotation
		for range 20 {
			all = append(all, addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, ""))
		}
		deleted := map[string]bool{}
		got := walkPages(t, x.s, x.img.ID, 3, func(page int) {
			addAnnotation(t, x.s, "bob", x.img.ID, "vessel", ShapePoint, pointJSON, "")
			// One behind the cursor changed, one ahead of it deleted.
			if seen := all[page*3]; !deleted[seen.ID] {
				var err error
				all[page*3], err = x.s.UpdateAnnotation(ctx, "bob", seen.ID, AnnotationInput{Properties: json.RawMessage(`{"note":"seen"}`),
					Version: &seen.Version})
				if err != nil {
					t.Fatal(err)
				}
			}
			if ahead := all[19-page]; 19-page > page*3+2 {
				if err := x.s.DeleteAnnotation(ctx, Actor{Name: "bob"}, ahead.ID, &ahead.Version); err != nil {
					t.Fatal(err)
				}
				deleted[ahead.ID] = true
			}
		})
		count := map[string]int{}
		for _, id := range got {
			count[id]++
			if count[id] > 1 {
				t.Errorf("annotation %s was read twice", id)
			}
		}
		for _, a := range all {
			if !deleted[a.ID] && count[a.ID] != 1 {
				t.Errorf("annotation %s, there all along, was read %d times, want once", a.ID, count[a.ID])
			}
			if deleted[a.ID] && count[a.ID] != 0 {
				t.Errorf("annotation %s, deleted before its page, was read", a.ID)
			}
		}
		if len(deleted) == 0 {
			t.Fatal("the test deleted nothing between pages")
		}
	})
}

func TestAnnotationPageRefuses(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		x := newAnnotated(t)
		a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		tests := []struct {
			name, after string
			limit       int
			field       string
		}{
			{name: "nok, limit 0", limit: 0, field: "limit"},
			{name: "nok, negative limit", limit: -5, field: "limit"},
			{name: "nok, limit over 10000", limit: MaxPage + 1, field: "limit"},
			{name: "nok, cursor not base64", after: "not a cursor!", limit: 10, field: "after"},
			{name: "nok, cursor not JSON", after: b64("hello"), limit: 10, field: "after"},
			{name: "nok, cursor of three parts", after: b64(`["2024-10-08T09:00:00Z","` + a.ID + `","x"]`), limit: 10, field: "after"},
			{name: "nok, cursor with a path as id", after: b64(`["2024-10-08T09:00:00Z","../etc/passwd"]`), limit: 10, field: "after"},
			{name: "nok, cursor with no time", after: b64(`["yesterday","` + a.ID + `"]`), limit: 10, field: "after"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := x.s.AnnotationPage(context.Background(), x.img.ID, tc.after, tc.limit)
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != tc.field || !ve.Malformed {
					t.Errorf("got %v, want a malformed %s", err, tc.field)
				}
			})
		}
	})
}

func TestAnnotationPageOfImageInTrash(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		if _, err := x.s.TrashImage(ctx, Actor{Name: "admin"}, x.img.ID); err != nil {
			t.Fatal(err)
		}
		p, err := x.s.AnnotationPage(ctx, x.img.ID, "", 10)
		if err != nil || len(p.Annotations) != 0 || p.Next != "" {
			t.Errorf("got %d annotations, next %q (%v), want none", len(p.Annotations), p.Next, err)
		}
	})
}

// changesSince returns the ids changed and deleted since position since, sorted, and the
// position now.
func changesSince(t *testing.T, s *Store, imageID string, since int64) (changed, deleted []string, seq int64) {
	t.Helper()
	ch, err := s.AnnotationChangesSince(context.Background(), imageID, since)
	if err != nil {
		t.Fatalf("changes since %d: %v", since, err)
	}
	for _, a := range ch.Changed {
		if a.ImageID != imageID {
			t.Errorf("changes since %d name %s of image %s", since, a.ID, a.ImageID)
		}
		changed = append(changed, a.ID)
	}
	slices.Sort(changed)
	return changed, ch.Deleted, ch.Seq
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestAnnotationChangesSinceEveryKindOfChange(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		s := x.s
		other := addImage(t, s, "other", 100, 100, Provenance{})
		seq, err := s.AnnotationSeq(ctx, x.img.ID)
		if err != nil || seq != 0 {
			t.Fatalf("an image without annotations is at %d (%v), want 0", seq, err)
		}
		var a, b, c Annotation
		label, shape := "vessel", ShapePoint
		in := AnnotationInput{Label: &label, Shape: &shape, Geometry: json.RawMessage(pointJSON)}
		seq = stepIDs(t, s, x.img.ID, "created one", seq, func() {
			a = addAnnotation(t, s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		}, func() ([]string, []string) { return []string{a.ID}, nil })
		seq = stepIDs(t, s, x.img.ID, "created two at once, and one on another image", seq, func() {
			two, err := s.CreateAnnotations(ctx, "alice", x.img.ID, []AnnotationInput{in, in})
			if err != nil {
				t.Fatal(err)
			}
			b, c = two[0], two[1]
			addAnnotation(t, s, "alice", other.ID, "vessel", ShapePoint, pointJSON, "")
		}, func() ([]string, []string) { return []string{b.ID, c.ID}, nil })
		if changed, _, _ := changesSince(t, s, x.img.ID, 0); !slices.Equal(changed, sorted(a.ID, b.ID, c.ID)) {
			t.Errorf("since 0: changed %v, want the three created", changed)
		}
		seq = stepIDs(t, s, x.img.ID, "an edit", seq, func() {
			var err error
			a, err = s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Properties: json.RawMessage(`{"note":"moved"}`), Version: &a.Version})
			if err != nil {
				t.Fatal(err)
			}
		}, func() ([]string, []string) { return []string{a.ID}, nil })
		seq = stepIDs(t, s, x.img.ID, "a review", seq, func() {
			var err error
			if b, err = s.ReviewAnnotation(ctx, "alice", b.ID, b.Version, ReviewSubmitted, ""); err != nil {
				t.Fatal(err)
			}
		}, func() ([]string, []string) { return []string{b.ID}, nil })
		seq = stepIDs(t, s, x.img.ID, "a review withdrawn", seq, func() {
			var err error
			if b, err = s.WithdrawReview(ctx, Actor{Name: "alice"}, b.ID, b.Version); err != nil {
				t.Fatal(err)
			}
			if b, err = s.ReviewAnnotation(ctx, "alice", b.ID, b.Version, ReviewSubmitted, ""); err != nil {
				t.Fatal(err)
			}
		}, func() ([]string, []string) { return []string{b.ID}, nil })
		seq = stepIDs(t, s, x.img.ID, "a deletion", seq, func() {
			if err := s.DeleteAnnotation(ctx, Actor{Name: "bob"}, c.ID, &c.Version); err != nil {
				t.Fatal(err)
			}
		}, func() ([]string, []string) { return nil, []string{c.ID} })
		seq = stepIDs(t, s, x.img.ID, "a deleted one restored", seq, func() {
			var err error
			if c, err = s.RestoreAnnotation(ctx, Actor{Name: "bob"}, c.ID, 1, nil); err != nil {
				t.Fatal(err)
			}
		}, func() ([]string, []string) { return []string{c.ID}, nil })
		seq = stepIDs(t, s, x.img.ID, "an earlier version restored", seq, func() {
			var err error
			if a, err = s.RestoreAnnotation(ctx, Actor{Name: "bob"}, a.ID, 1, &a.Version); err != nil {
				t.Fatal(err)
			}
		}, func() ([]string, []string) { return []string{a.ID}, nil })
		ref := func(a Annotation) BulkRef { return BulkRef{ID: a.ID, Version: &a.Version} }
		seq = stepIDs(t, s, x.img.ID, "a bulk review", seq, func() {
			out, err := s.BulkChangeAnnotations(ctx, Actor{Name: "carol"}, x.img.ID, BulkChange{Action: BulkReview, Decision: ReviewAccepted,
				Annotations: []BulkRef{ref(b)}})
			if err != nil {
				t.Fatal(err)
			}
			b = out[0]
		}, func() ([]string, []string) { return []string{b.ID}, nil })
		landing := "vessel/landing ship"
		seq = stepIDs(t, s, x.img.ID, "a bulk relabel", seq, func() {
			out, err := s.BulkChangeAnnotations(ctx, Actor{Name: "carol"}, x.img.ID, BulkChange{Action: BulkUpdate,
				Patch: &AnnotationInput{Label: &landing}, Annotations: []BulkRef{ref(a), ref(c)}})
			if err != nil {
				t.Fatal(err)
			}
			a, c = out[0], out[1]
		}, func() ([]string, []string) { return []string{a.ID, c.ID}, nil })
		before := seq
		seq = stepIDs(t, s, x.img.ID, "a bulk deletion", seq, func() {
			if _, err := s.BulkChangeAnnotations(ctx, Actor{Name: "carol"}, x.img.ID, BulkChange{Action: BulkDelete,
				Annotations: []BulkRef{ref(a), ref(b)}}); err != nil {
				t.Fatal(err)
			}
		}, func() ([]string, []string) { return nil, []string{a.ID, b.ID} })

		// An update that changes nothing writes no revision, and so is no change.
		if _, err := s.UpdateAnnotation(ctx, "bob", c.ID, AnnotationInput{Properties: json.RawMessage(`{}`), Version: &c.Version}); err != nil {
			t.Fatal(err)
		}
		if changed, deleted, now := changesSince(t, s, x.img.ID, seq); len(changed)+len(deleted) != 0 || now != seq {
			t.Errorf("after an update that changed nothing: changed %v, deleted %v at %d, want nothing at %d", changed, deleted, now, seq)
		}
		// Since an earlier position: every change after it, each annotation once.
		if changed, deleted, _ := changesSince(t, s, x.img.ID, before-1); !slices.Equal(changed, []string{c.ID}) ||
			!slices.Equal(deleted, sorted(a.ID, b.ID)) {
			t.Errorf("since %d: changed %v, deleted %v; want changed [%s], deleted [%s %s]", before-1, changed, deleted, c.ID, a.ID, b.ID)
		}
	})
}

// stepIDs makes a change, then checks that the changes since seq are the ids want gives
// (read after the change) and returns the new position.
func stepIDs(t *testing.T, s *Store, imageID, name string, seq int64, change func(), want func() (changed, deleted []string)) int64 {
	t.Helper()
	change()
	wantChanged, wantDeleted := want()
	changed, deleted, now := changesSince(t, s, imageID, seq)
	if !slices.Equal(changed, sorted(wantChanged...)) || !slices.Equal(deleted, sorted(wantDeleted...)) {
		t.Errorf("%s: changed %v, deleted %v; want changed %v, deleted %v", name, changed, deleted, sorted(wantChanged...), sorted(wantDeleted...))
	}
	if now <= seq {
		t.Errorf("%s: position %d, not after %d", name, now, seq)
	}
	return now
}

func TestAnnotationChangesSinceRefuses(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		seq, err := x.s.AnnotationSeq(ctx, x.img.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ve *ValidationError
		if _, err := x.s.AnnotationChangesSince(ctx, x.img.ID, -1); !errors.As(err, &ve) || ve.Field != "since" || !ve.Malformed {
			t.Errorf("since -1: got %v, want a malformed since", err)
		}
		var gone *ChangesGoneError
		if _, err := x.s.AnnotationChangesSince(ctx, x.img.ID, seq+1); !errors.As(err, &gone) || !strings.Contains(err.Error(), "reload") {
			t.Errorf("since a position ahead of the image's: got %v, want a ChangesGoneError saying to reload", err)
		}

		// More than MaxChanges annotations changed since: too many to answer. (The
		// revisions of MaxChanges annotations created and deleted, written straight in.)
		if _, err := x.s.DB().Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO revisions (annotation_id, image_id, version, action, actor, at, before, after)
		SELECT `+onBackend(x.s, "printf('00000000-0000-4000-8000-%012d', i)", "'00000000-0000-4000-8000-' || lpad(i::text, 12, '0')")+`, ?, 1, 'delete', 'bulk', '2024-10-08T09:00:00.000000000Z', '{}', NULL FROM n`,
			MaxChanges, x.img.ID); err != nil {
			t.Fatal(err)
		}
		if ch, err := x.s.AnnotationChangesSince(ctx, x.img.ID, seq); err != nil || len(ch.Deleted) != MaxChanges {
			t.Fatalf("exactly %d changed: got %d deleted (%v), want them all", MaxChanges, len(ch.Deleted), err)
		}
		if _, err := x.s.AnnotationChangesSince(ctx, x.img.ID, seq-1); !errors.As(err, &gone) || !strings.Contains(err.Error(), "reload") {
			t.Errorf("%d changed: got %v, want a ChangesGoneError saying to reload", MaxChanges+1, err)
		}
	})
}

package annotations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestGroupCommit: writes made at once share transactions; each is all there or, when
// refused, not there at all, whatever the writes beside it did. A paste of two whose
// second is refused (an unknown label) leaves nothing of the first, even when its group
// commits; of many edits of one version exactly one is taken; every create answered is
// stored with its revision.
func TestGroupCommit(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		target, err := x.s.CreateAnnotation(ctx, "alice", x.img.ID, AnnotationInput{Label: ptr("vessel"), Shape: ptr(ShapePoint), Geometry: json.RawMessage(pointJSON)})
		if err != nil {
			t.Fatal(err)
		}
		const writers = 40
		var wg sync.WaitGroup
		var mu sync.Mutex
		created := map[string]bool{}
		edits, stale := 0, 0
		var unexpected []error
		for i := range writers {
			wg.Go(func() {
				note := fmt.Sprintf(`{"note":"w%d"}`, i)
				var err error
				switch i % 3 {
				case 0: // refused as a whole by its second annotation
					_, err = x.s.CreateAnnotations(ctx, "bob", x.img.ID, []AnnotationInput{
						{Label: ptr("vessel"), Shape: ptr(ShapePoint), Geometry: json.RawMessage(pointJSON), Properties: json.RawMessage(`{"note":"refused paste"}`)},
						{Label: ptr("no such label"), Shape: ptr(ShapePoint), Geometry: json.RawMessage(pointJSON)},
					})
					if !errors.Is(err, ErrNotFound) && !isValidation(err) {
						err = fmt.Errorf("refused paste: got %v, want a refusal of the label", err)
					} else {
						err = nil
					}
				case 1:
					var a Annotation
					a, err = x.s.CreateAnnotation(ctx, "carol", x.img.ID, AnnotationInput{Label: ptr("vessel"), Shape: ptr(ShapePoint),
						Geometry: json.RawMessage(pointJSON), Properties: json.RawMessage(note)})
					if err == nil {
						mu.Lock()
						created[a.ID] = true
						mu.Unlock()
					}
				case 2:
					_, err = x.s.UpdateAnnotation(ctx, "dave", target.ID, AnnotationInput{Version: ptr(1), Properties: json.RawMessage(note)})
					var se *StaleVersionError
					mu.Lock()
					if err == nil {
						edits++
					} else if errors.As(err, &se) {
						stale++
						err = nil
					}
					mu.Unlock()
				}
				if err != nil {
					mu.Lock()
					unexpected = append(unexpected, err)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, err := range unexpected {
			t.Errorf("unexpected: %v", err)
		}
		if edits != 1 {
			t.Errorf("edits of version 1: %d taken, %d stale; want exactly 1 taken", edits, stale)
		}
		var refused int
		if err := x.s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM annotations WHERE note = 'refused paste'`).Scan(&refused); err != nil {
			t.Fatal(err)
		}
		if refused != 0 {
			t.Errorf("got %d annotations of refused pastes stored; want none", refused)
		}
		for id := range created {
			h, err := x.s.History(ctx, id)
			if err != nil || len(h) != 1 || h[0].Action != "create" {
				t.Errorf("created %s: history %v, %v; want its one create", id, h, err)
			}
		}
		var revs int
		if err := x.s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM revisions`).Scan(&revs); err != nil {
			t.Fatal(err)
		}
		if want := 1 + len(created) + 1; revs != want {
			t.Errorf("got %d revisions; want %d (the target's create and edit, and each create)", revs, want)
		}
	})
}

func isValidation(err error) bool {
	var ve *ValidationError
	return errors.As(err, &ve)
}

// TestWriteAloneInItsGroup: a write alone in its group (no savepoint) that is refused
// after writing part of itself (a paste whose second annotation has an unknown label)
// leaves nothing, and the writes after it are taken.
func TestWriteAloneInItsGroup(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		for range 3 {
			_, err := x.s.CreateAnnotations(ctx, "bob", x.img.ID, []AnnotationInput{
				{Label: ptr("vessel"), Shape: ptr(ShapePoint), Geometry: json.RawMessage(pointJSON), Properties: json.RawMessage(`{"note":"refused paste"}`)},
				{Label: ptr("no such label"), Shape: ptr(ShapePoint), Geometry: json.RawMessage(pointJSON)},
			})
			if !isValidation(err) {
				t.Fatalf("refused paste: got %v, want a refusal of the label", err)
			}
			a, err := x.s.CreateAnnotation(ctx, "carol", x.img.ID, AnnotationInput{Label: ptr("vessel"), Shape: ptr(ShapePoint), Geometry: json.RawMessage(pointJSON)})
			if err != nil {
				t.Fatalf("the create after a refused paste: %v", err)
			}
			if h, err := x.s.History(ctx, a.ID); err != nil || len(h) != 1 {
				t.Errorf("created %s: history %v, %v; want its one create", a.ID, h, err)
			}
		}
		var refused, revs int
		if err := x.s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM annotations WHERE note = 'refused paste'`).Scan(&refused); err != nil {
			t.Fatal(err)
		}
		if err := x.s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM revisions`).Scan(&revs); err != nil {
			t.Fatal(err)
		}
		if refused != 0 || revs != 3 {
			t.Errorf("after 3 refused pastes and 3 creates: %d annotations of the pastes, %d revisions; want 0 and 3", refused, revs)
		}
	})
}

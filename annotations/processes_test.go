package annotations

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// TestRevisionPositionsCommitInOrder: two processes on one PostgreSQL database write
// annotations of two images in transactions open at the same time; the one that took
// the earlier position commits last. A third reader that asked for the changes between
// the two commits must still hear of both: no position may commit behind one already
// read.
func TestRevisionPositionsCommitInOrder(t *testing.T) {
	ctx := context.Background()
	x := newAnnotatedOn(t, "postgres")
	other, err := Open(x.s.database)
	if err != nil {
		t.Fatalf("open a second store on the database: %v", err)
	}
	t.Cleanup(func() { other.Close() })
	reader, err := Open(x.s.database)
	if err != nil {
		t.Fatalf("open a third store on the database: %v", err)
	}
	t.Cleanup(func() { reader.Close() })
	second := addImage(t, x.s, "second scene", 200, 100, Provenance{})
	box := AnnotationInput{Label: ptr("vessel"), Shape: ptr(ShapeRectangle), Geometry: json.RawMessage(boxJSON)}

	seen := map[string][]string{} // by image, the annotations heard of as changed
	pos := map[string]int64{}
	read := func() {
		t.Helper()
		for _, img := range []string{x.img.ID, second.ID} {
			ch, err := reader.AnnotationChangesSince(ctx, img, pos[img])
			if err != nil {
				t.Fatalf("changes of %s since %d: %v", img, pos[img], err)
			}
			sql, err := reader.annotationChangesSQL(ctx, img, pos[img])
			if err != nil {
				t.Fatalf("changes of %s since %d from SQL: %v", img, pos[img], err)
			}
			if ch.Seq != sql.Seq || len(ch.Changed) != len(sql.Changed) {
				t.Errorf("image %s since %d: the log says position %d with %d changed, SQL %d with %d", img, pos[img], ch.Seq, len(ch.Changed), sql.Seq, len(sql.Changed))
			}
			for _, a := range ch.Changed {
				seen[img] = append(seen[img], a.ID)
			}
			pos[img] = ch.Seq
		}
	}
	// The reader's change log starts here, before either write: it answers from the
	// positions it read itself.
	read()

	// The first writer takes its position and stays open.
	first, err := x.s.beginRevisions(ctx)
	if err != nil {
		t.Fatalf("begin the first: %v", err)
	}
	defer first.Rollback()
	made, err := x.s.createAnnotationsTx(ctx, first, "alice", x.img.ID, []AnnotationInput{box})
	if err != nil {
		t.Fatalf("first write: %v", err)
	}
	earlier := made[0].ID
	// The second writes on another image and commits as soon as it may.
	type outcome struct {
		id  string
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		tx, err := other.beginRevisions(ctx)
		if err != nil {
			done <- outcome{err: err}
			return
		}
		defer tx.Rollback()
		made, err := other.createAnnotationsTx(ctx, tx, "bob", second.ID, []AnnotationInput{box})
		if err == nil {
			err = tx.Commit()
		}
		if err != nil {
			done <- outcome{err: err}
			return
		}
		done <- outcome{id: made[0].ID}
	}()
	// Read once the second has committed or is seen waiting for its turn.
	var later *outcome
	for later == nil {
		select {
		case o := <-done:
			later = &o
		default:
		}
		if later != nil {
			break
		}
		var waiting int
		if err := reader.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	read()
	if err := first.Commit(); err != nil {
		t.Fatalf("commit the first: %v", err)
	}
	if later == nil {
		o := <-done
		later = &o
	}
	if later.err != nil {
		t.Fatalf("second write: %v", later.err)
	}
	// The change log now knows of a position past the first's, whatever the image.
	read()
	if !slices.Contains(seen[x.img.ID], earlier) {
		t.Errorf("the annotation committed last (at the earlier position) was never heard of: heard %v", seen)
	}
	if !slices.Contains(seen[second.ID], later.id) {
		t.Errorf("the annotation committed first was never heard of: heard %v", seen)
	}
}

package annotations

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// hearNotices listens on the database of s, as another process, until the test ends,
// and returns the notices it hears.
func hearNotices(t *testing.T, database string) <-chan Notice {
	t.Helper()
	listener, err := Open(database)
	if err != nil {
		t.Fatalf("open a listening store on the database: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	heard := make(chan Notice, 100)
	listening := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- listener.Listen(ctx, Listener{
			Notice: func(text string) {
				n, err := ParseNotice(text)
				if err != nil {
					t.Errorf("a notice that cannot be read: %q: %v", text, err)
				}
				heard <- n
			},
			Listening: func(bool) {
				select {
				case listening <- struct{}{}:
				default:
				}
			},
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		listener.Close()
	})
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("Listen ended before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("Listen did not listen within 20 s")
	}
	return heard
}

// TestNoticesGoOutWithTheirCommit: on PostgreSQL the store tells the other processes of
// a change in the transaction that commits it, so they hear it though the process that
// made it is gone at once after (its store closed), and never hear of a change rolled
// back.
func TestNoticesGoOutWithTheirCommit(t *testing.T) {
	ctx := context.Background()
	x := newAnnotatedOn(t, "postgres")
	heard := hearNotices(t, x.s.database)
	writer, err := Open(x.s.database)
	if err != nil {
		t.Fatalf("open the writing store: %v", err)
	}
	box := AnnotationInput{Label: ptr("vessel"), Shape: ptr(ShapeRectangle), Geometry: json.RawMessage(boxJSON)}

	// Rolled back: not told.
	tx, err := writer.beginRevisions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := writer.createAnnotationsTx(ctx, tx, "alice", x.img.ID, []AnnotationInput{box}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	// Committed, and the process gone right after.
	licence := "https://creativecommons.org/publicdomain/zero/1.0/"
	if _, err := writer.UpdateImage(ctx, Actor{Name: "alice"}, x.img.ID, Provenance{License: &licence}); err != nil {
		t.Fatal(err)
	}
	made, err := writer.CreateAnnotation(ctx, "alice", x.img.ID, box)
	if err != nil {
		t.Fatal(err)
	}
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}

	want := []Notice{
		{Type: NoticeImageChanged, ImageID: x.img.ID},
		{Type: "annotation.created", ImageID: x.img.ID, Actor: "alice", ID: made.ID, Version: 1},
	}
	for i, w := range want {
		select {
		case n := <-heard:
			if n.Type != w.Type || n.ImageID != w.ImageID || n.Actor != w.Actor || n.ID != w.ID || n.Version != w.Version {
				t.Errorf("notice %d heard = %+v, want %+v (the rolled back write is never told of)", i, n, w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("notice %d (%+v) not heard within 10 s of its commit", i, w)
		}
	}
}

package annotations

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
)

// answerBytes is the changes answer as the API writes it: position, changed, deleted.
func answerBytes(t *testing.T, ch AnnotationChanges) string {
	t.Helper()
	b := strconv.AppendInt([]byte(`{"seq":`), ch.Seq, 10)
	b = append(b, `,"changed":[`...)
	for i, a := range ch.Changed {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = a.AppendJSON(b); err != nil {
			t.Fatal(err)
		}
	}
	deleted, err := json.Marshal(ch.Deleted)
	if err != nil {
		t.Fatal(err)
	}
	return string(append(append(append(b, `],"deleted":`...), deleted...), '}'))
}

// sameAsSQL checks that the changes since every position of the image from since up to
// now are answered from the log, and with the bytes the SQL answer gives.
func sameAsSQL(t *testing.T, s *Store, name, imageID string, since int64) {
	t.Helper()
	ctx := context.Background()
	now, err := s.AnnotationSeq(ctx, imageID)
	if err != nil {
		t.Fatal(err)
	}
	for p := since; p <= now; p++ {
		got, err := s.AnnotationChangesSince(ctx, imageID, p)
		if err != nil {
			t.Fatalf("%s: since %d: %v", name, p, err)
		}
		if p < s.changes.from {
			t.Fatalf("%s: since %d was not answered from the log (it holds positions from %d)", name, p, s.changes.from)
		}
		want, err := s.annotationChangesSQL(ctx, imageID, p)
		if err != nil {
			t.Fatalf("%s: since %d from SQL: %v", name, p, err)
		}
		if g, w := answerBytes(t, got), answerBytes(t, want); g != w {
			t.Errorf("%s: since %d:\n got (log) %s\nwant (SQL) %s", name, p, g, w)
		}
	}
}

func TestChangeLogAnswersAsSQLDoes(t *testing.T) { forEachBackend(t, testChangeLogAnswersAsSQLDoes) }

func testChangeLogAnswersAsSQLDoes(t *testing.T) {
	ctx := context.Background()
	x := newAnnotated(t)
	s := x.s
	other := addImage(t, s, "other", 100, 100, Provenance{})
	// The log starts at the first question: what came before is SQL's.
	old := addAnnotation(t, s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, `{"note":"before the log"}`)
	start, err := s.AnnotationSeq(ctx, x.img.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameAsSQL(t, s, "nothing yet in the log", x.img.ID, start)

	// Attributes JSON can spell in more than one way: nested, escaped, unicode, numbers.
	props := `{"note":"a <b> & \"c\" é ☃","confidence":"probable","identification":"class","hull":{"len":123.50,"tags":["x","\u00e9"]},"n":1e3}`
	a := addAnnotation(t, s, "alice", x.img.ID, "vessel/landing ship", ShapePolygon,
		`{"type":"Polygon","coordinates":[[[1,1],[20.25,1],[20.25,30.125],[1,1]]]}`, props)
	b := addAnnotation(t, s, "bob", x.img.ID, "facility/naval base", ShapePoint, pointJSON, "")
	c := addAnnotation(t, s, "bob", x.img.ID, "vessel", ShapePoint, pointJSON, `{"note":"third"}`)
	addAnnotation(t, s, "bob", other.ID, "vessel", ShapePoint, pointJSON, "")
	sameAsSQL(t, s, "created", x.img.ID, start)

	if a, err = s.UpdateAnnotation(ctx, "carol", a.ID, AnnotationInput{Properties: json.RawMessage(`{"hull":{"len":null},"note":"moved"}`),
		Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[2,2],[21,2],[21,31],[2,2]]]}`), Version: &a.Version}); err != nil {
		t.Fatal(err)
	}
	if b, err = s.ReviewAnnotation(ctx, "alice", b.ID, b.Version, ReviewSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	sameAsSQL(t, s, "edited and reviewed", x.img.ID, start)

	if err := s.DeleteAnnotation(ctx, Actor{Name: "bob"}, c.ID, &c.Version); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAnnotation(ctx, Actor{Name: "bob"}, old.ID, &old.Version); err != nil {
		t.Fatal(err)
	}
	sameAsSQL(t, s, "deleted", x.img.ID, start)
	if c, err = s.RestoreAnnotation(ctx, Actor{Name: "bob"}, c.ID, 1, nil); err != nil {
		t.Fatal(err)
	}
	if a, err = s.RestoreAnnotation(ctx, Actor{Name: "bob"}, a.ID, 1, &a.Version); err != nil {
		t.Fatal(err)
	}
	sameAsSQL(t, s, "restored", x.img.ID, start)

	ref := func(a Annotation) BulkRef { return BulkRef{ID: a.ID, Version: &a.Version} }
	landing := "vessel/landing ship"
	if _, err := s.BulkChangeAnnotations(ctx, Actor{Name: "carol"}, x.img.ID, BulkChange{Action: BulkUpdate,
		Patch: &AnnotationInput{Label: &landing}, Annotations: []BulkRef{ref(b), ref(c)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BulkChangeAnnotations(ctx, Actor{Name: "carol"}, x.img.ID, BulkChange{Action: BulkDelete,
		Annotations: []BulkRef{ref(a)}}); err != nil {
		t.Fatal(err)
	}
	sameAsSQL(t, s, "bulk relabel and deletion", x.img.ID, start)

	// A label renamed and recoloured changes the annotations' label, with no revision.
	name, color := "amphibious ship", "#123456"
	if _, err := s.UpdateLabel(ctx, Actor{Name: "admin"}, x.landing.ID, LabelInput{Name: &name, Color: &color}); err != nil {
		t.Fatal(err)
	}
	sameAsSQL(t, s, "label renamed", x.img.ID, start)
	sameAsSQL(t, s, "the other image", other.ID, start)
}

func TestChangeLogSeesEveryWriter(t *testing.T) { forEachBackend(t, testChangeLogSeesEveryWriter) }

func testChangeLogSeesEveryWriter(t *testing.T) {
	ctx := context.Background()
	database := freshDatabase(t, backendOf(t))
	open := func() *Store {
		t.Helper()
		s, err := Open(database)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	server := open()
	img := addImage(t, server, "scene", 200, 100, Provenance{})
	addLabel(t, server, "vessel")
	first := addAnnotation(t, server, "alice", img.ID, "vessel", ShapePoint, pointJSON, "")
	seq, err := server.AnnotationSeq(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ch, err := server.AnnotationChangesSince(ctx, img.ID, seq); err != nil || len(ch.Changed) != 0 || ch.Seq != seq {
		t.Fatalf("since now: %+v (%v), want nothing at %d", ch, err, seq)
	}

	// A write committed by this store is in the very next answer, and so is one
	// committed by another process on the same database (the CLI).
	mine := addAnnotation(t, server, "alice", img.ID, "vessel", ShapePoint, pointJSON, "")
	cli := open()
	theirs := addAnnotation(t, cli, "bob", img.ID, "vessel", ShapePoint, pointJSON, `{"note":"from the CLI"}`)
	if err := cli.DeleteAnnotation(ctx, Actor{Name: "bob"}, first.ID, &first.Version); err != nil {
		t.Fatal(err)
	}
	if err := cli.Close(); err != nil {
		t.Fatal(err)
	}
	ch, err := server.AnnotationChangesSince(ctx, img.ID, seq)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range ch.Changed {
		got = append(got, a.ID)
	}
	if want := sorted(mine.ID, theirs.ID); len(got) != 2 || sorted(got...)[0] != want[0] || sorted(got...)[1] != want[1] ||
		len(ch.Deleted) != 1 || ch.Deleted[0] != first.ID {
		t.Errorf("after writes by this store and the CLI: changed %v, deleted %v; want changed %v, deleted [%s]", got, ch.Deleted, want, first.ID)
	}
	sameAsSQL(t, server, "two writers", img.ID, seq)

	// After a restart the log holds nothing from before: those positions are SQL's.
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
	restarted := open()
	defer restarted.Close()
	for p := int64(0); p <= seq; p++ {
		got, err := restarted.AnnotationChangesSince(ctx, img.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := restarted.annotationChangesSQL(ctx, img.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := answerBytes(t, got), answerBytes(t, want); g != w {
			t.Errorf("restarted, since %d:\n got %s\nwant %s", p, g, w)
		}
	}
	if restarted.changes.from <= 0 {
		t.Errorf("the restarted log holds positions from %d, want from its start", restarted.changes.from)
	}
}

func TestChangeLogLeavesAnUnreadableRevisionToSQL(t *testing.T) {
	forEachBackend(t, testChangeLogLeavesAnUnreadableRevisionToSQL)
}

func testChangeLogLeavesAnUnreadableRevisionToSQL(t *testing.T) {
	ctx := context.Background()
	x := newAnnotated(t)
	a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
	seq, err := x.s.AnnotationSeq(ctx, x.img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.s.AnnotationChangesSince(ctx, x.img.ID, seq); err != nil {
		t.Fatal(err)
	}
	// A revision written by hand, whose annotation is not one (the row stays as it was).
	if _, err := x.s.DB().Exec(onBackend(x.s, `INSERT INTO revisions (annotation_id, image_id, version, action, actor, at, before, after)
		VALUES (?, ?, 2, 'update', 'bob', '2024-10-08T09:00:00.000000000Z', '{}', '{"geometry": 7}')`,
		`INSERT INTO revisions (annotation_id, image_id, version, action, actor, at, before, after)
		VALUES ($1, $2, 2, 'update', 'bob', '2024-10-08T09:00:00.000000000Z', '{}', '{"geometry": 7}')`), a.ID, x.img.ID); err != nil {
		t.Fatal(err)
	}
	got, err := x.s.AnnotationChangesSince(ctx, x.img.ID, seq)
	if err != nil {
		t.Fatalf("since %d, after an unreadable revision: %v, want the answer from SQL", seq, err)
	}
	want, err := x.s.annotationChangesSQL(ctx, x.img.ID, seq)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := answerBytes(t, got), answerBytes(t, want); g != w || len(got.Changed) != 1 {
		t.Errorf("after an unreadable revision:\n got %s\nwant (SQL, the row) %s", g, w)
	}
}

// TestChangeLogPastItsSize: once more revisions were written than the log holds, read a
// few thousand at a time, the log holds the newest changeLogSize of them, one after the
// other, and answers from its oldest position on as SQL does.
func TestChangeLogPastItsSize(t *testing.T) {
	ctx := context.Background()
	x := newAnnotated(t)
	s := x.s
	start, err := s.AnnotationSeq(ctx, x.img.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AnnotationChangesSince(ctx, x.img.ID, start); err != nil { // the log starts here
		t.Fatal(err)
	}
	label, shape := "vessel", ShapePoint
	batch := make([]AnnotationInput, 3000)
	for i := range batch {
		batch[i] = AnnotationInput{Label: &label, Shape: &shape, Geometry: json.RawMessage(pointJSON),
			Properties: json.RawMessage(`{"note":"n` + strconv.Itoa(i) + `"}`)}
	}
	for round := range 7 {
		if _, err := s.CreateAnnotations(ctx, "alice", x.img.ID, batch); err != nil {
			t.Fatal(err)
		}
		now, err := s.AnnotationSeq(ctx, x.img.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AnnotationChangesSince(ctx, x.img.ID, now); err != nil {
			t.Fatal(err)
		}
		l := &s.changes
		l.mu.Lock()
		n, from, last := len(l.entries), l.from, l.last
		contiguous := n == 0 || (l.entries[0].seq == from+1 && l.entries[n-1].seq == last)
		for i := 1; i < n && contiguous; i++ {
			contiguous = l.entries[i].seq == l.entries[i-1].seq+1
		}
		l.mu.Unlock()
		if want := min(3000*(round+1), changeLogSize); n != want || !contiguous || last != now {
			t.Fatalf("after %d revisions: the log holds %d from %d to %d (one after the other: %v); want %d up to %d",
				3000*(round+1), n, from, last, contiguous, want, now)
		}
		if round < 6 {
			continue
		}
		for _, p := range []int64{now - MaxChanges, now - 5, now} { // more would be 410
			if p < from {
				t.Fatalf("since %d is before the log's oldest position %d", p, from)
			}
			got, err := s.AnnotationChangesSince(ctx, x.img.ID, p)
			if err != nil {
				t.Fatalf("since %d: %v", p, err)
			}
			want, err := s.annotationChangesSQL(ctx, x.img.ID, p)
			if err != nil {
				t.Fatalf("since %d from SQL: %v", p, err)
			}
			if g, w := answerBytes(t, got), answerBytes(t, want); g != w {
				t.Errorf("since %d: the log's answer (%d bytes) is not SQL's (%d bytes)", p, len(g), len(w))
			}
		}
	}
}

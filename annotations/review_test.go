package annotations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// inState returns a new annotation drawn by alice and brought to state: submitted by
// submitter, then decided by bob.
func inState(t *testing.T, x annotated, state, submitter string) Annotation {
	t.Helper()
	ctx := context.Background()
	a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, "")
	if state == ReviewDraft {
		return a
	}
	a, err := x.s.ReviewAnnotation(ctx, submitter, a.ID, a.Version, ReviewSubmitted, "")
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	if state == ReviewSubmitted {
		return a
	}
	a, err = x.s.ReviewAnnotation(ctx, "bob", a.ID, a.Version, state, "because")
	if err != nil {
		t.Fatalf("decide %s: %v", state, err)
	}
	return a
}

func TestReviewAnnotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		tests := []struct {
			name      string
			from      string
			submitter string // who put it up for review; alice by default
			actor     string
			decision  string
			reason    string
			stale     bool
			wantErr   error  // ErrForbidden, ErrConflict; nil for success or a validation error
			wantField string // a *ValidationError on this field
		}{
			{name: "ok, the author submits a draft", from: ReviewDraft, actor: "alice", decision: ReviewSubmitted},
			{name: "ok, another analyst submits a draft", from: ReviewDraft, actor: "carol", decision: ReviewSubmitted},
			{name: "ok, another analyst accepts, no reason needed", from: ReviewSubmitted, actor: "bob", decision: ReviewAccepted},
			{name: "ok, another analyst disputes with a reason", from: ReviewSubmitted, actor: "bob", decision: ReviewDisputed, reason: "  that is a tug  "},
			{name: "ok, another analyst rejects with a reason", from: ReviewSubmitted, actor: "bob", decision: ReviewRejected, reason: "no ship there"},
			{name: "ok, a disputed annotation is submitted again", from: ReviewDisputed, actor: "alice", decision: ReviewSubmitted},
			{name: "ok, a rejected annotation is submitted again", from: ReviewRejected, actor: "alice", decision: ReviewSubmitted},
			{name: "nok, the author accepts their own work", from: ReviewSubmitted, actor: "alice", decision: ReviewAccepted, wantErr: ErrForbidden},
			{name: "nok, the author rejects their own work, name in other case", from: ReviewSubmitted, actor: "ALICE", decision: ReviewRejected, reason: "x", wantErr: ErrForbidden},
			{name: "nok, who submitted it cannot accept it either", from: ReviewSubmitted, submitter: "carol", actor: "carol", decision: ReviewAccepted, wantErr: ErrForbidden},
			{name: "nok, dispute without a reason", from: ReviewSubmitted, actor: "bob", decision: ReviewDisputed, wantField: "reason"},
			{name: "nok, reject with a blank reason", from: ReviewSubmitted, actor: "bob", decision: ReviewRejected, reason: "   ", wantField: "reason"},
			{name: "nok, reason over 10000 bytes", from: ReviewSubmitted, actor: "bob", decision: ReviewDisputed, reason: strings.Repeat("x", 10001), wantField: "reason"},
			{name: "nok, reason not text", from: ReviewSubmitted, actor: "bob", decision: ReviewDisputed, reason: "\xff\xfe", wantField: "reason"},
			{name: "nok, unknown decision", from: ReviewSubmitted, actor: "bob", decision: "approved", wantField: "decision"},
			{name: "nok, draft is the starting state, not a decision", from: ReviewSubmitted, actor: "bob", decision: ReviewDraft, wantField: "decision"},
			{name: "nok, accept a draft", from: ReviewDraft, actor: "bob", decision: ReviewAccepted, wantErr: ErrConflict},
			{name: "nok, submit twice", from: ReviewSubmitted, actor: "alice", decision: ReviewSubmitted, wantErr: ErrConflict},
			{name: "nok, submit accepted work", from: ReviewAccepted, actor: "alice", decision: ReviewSubmitted, wantErr: ErrConflict},
			{name: "nok, dispute accepted work", from: ReviewAccepted, actor: "carol", decision: ReviewDisputed, reason: "x", wantErr: ErrConflict},
			{name: "nok, stale version", from: ReviewSubmitted, actor: "bob", decision: ReviewAccepted, stale: true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				x := newAnnotated(t)
				submitter := tc.submitter
				if submitter == "" {
					submitter = "alice"
				}
				before := inState(t, x, tc.from, submitter)
				reviewsBefore := count(t, x.s, `SELECT COUNT(*) FROM reviews`)
				version := before.Version
				if tc.stale {
					version--
				}
				got, err := x.s.ReviewAnnotation(ctx, tc.actor, before.ID, version, tc.decision, tc.reason)
				failed := tc.wantErr != nil || tc.wantField != "" || tc.stale
				switch {
				case tc.wantErr != nil:
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("got %v, want %v", err, tc.wantErr)
					}
				case tc.wantField != "":
					wantValidation(t, err, tc.wantField)
				case tc.stale:
					var stale *StaleVersionError
					if !errors.As(err, &stale) || stale.Current != before.Version {
						t.Fatalf("got %v, want a StaleVersionError naming version %d", err, before.Version)
					}
				case err != nil:
					t.Fatalf("review: %v", err)
				}
				stored, lookupErr := x.s.Annotation(ctx, before.ID)
				if lookupErr != nil {
					t.Fatal(lookupErr)
				}
				if failed {
					if stored.Version != before.Version || stored.ReviewStatus != before.ReviewStatus {
						t.Errorf("a refused review changed the annotation: version %d %s, want %d %s", stored.Version, stored.ReviewStatus, before.Version, before.ReviewStatus)
					}
					if n := count(t, x.s, `SELECT COUNT(*) FROM reviews`); n != reviewsBefore {
						t.Errorf("a refused review was recorded: %d reviews, want %d", n, reviewsBefore)
					}
					return
				}
				if got.ReviewStatus != tc.decision || got.Version != before.Version+1 || got.UpdatedBy != tc.actor || got.CreatedBy != "alice" {
					t.Errorf("got %s v%d by %s (drawn by %s), want %s v%d by %s (drawn by alice)", got.ReviewStatus, got.Version, got.UpdatedBy, got.CreatedBy,
						tc.decision, before.Version+1, tc.actor)
				}
				if stored.ReviewStatus != tc.decision || stored.Version != got.Version || !sameGeometry(stored.Geometry, before.Geometry) {
					t.Errorf("stored %s v%d, want %s v%d with the same geometry", stored.ReviewStatus, stored.Version, tc.decision, got.Version)
				}
				reviews, err := x.s.Reviews(ctx, before.ID)
				if err != nil || len(reviews) == 0 {
					t.Fatalf("Reviews: got %v (%v)", reviews, err)
				}
				last := reviews[len(reviews)-1]
				if last.Decision != tc.decision || last.Reviewer != tc.actor || last.Version != before.Version || last.Reason != strings.TrimSpace(tc.reason) {
					t.Errorf("last review: got %+v, want %s by %s on version %d with reason %q", last, tc.decision, tc.actor, before.Version, strings.TrimSpace(tc.reason))
				}
				hist, err := x.s.History(ctx, before.ID)
				if err != nil {
					t.Fatal(err)
				}
				rev := hist[len(hist)-1]
				if rev.Version != got.Version || rev.Actor != tc.actor || !slices.Contains(rev.Changes, "review: "+tc.decision) {
					t.Errorf("last revision: v%d by %s changes %v, want v%d by %s with \"review: %s\"", rev.Version, rev.Actor, rev.Changes, got.Version, tc.actor, tc.decision)
				}
			})
		}

		t.Run("nok, unknown annotation", func(t *testing.T) {
			x := newAnnotated(t)
			if _, err := x.s.ReviewAnnotation(ctx, "bob", "00000000-0000-4000-8000-000000000000", 1, ReviewSubmitted, ""); !errors.Is(err, ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
		})

		t.Run("ok, changing accepted work makes it a draft again", func(t *testing.T) {
			x := newAnnotated(t)
			a := inState(t, x, ReviewAccepted, "alice")
			got, err := x.s.UpdateAnnotation(ctx, "alice", a.ID, AnnotationInput{Version: ptr(a.Version), Properties: json.RawMessage(`{"note":"moved pier"}`)})
			if err != nil || got.ReviewStatus != ReviewDraft {
				t.Fatalf("update: got %q (%v), want draft", got.ReviewStatus, err)
			}
			hist, _ := x.s.History(ctx, a.ID)
			if ch := hist[len(hist)-1].Changes; !slices.Contains(ch, "note") || !slices.Contains(ch, "review: draft") {
				t.Errorf("changes %v, want the note and \"review: draft\"", ch)
			}
		})
	})
}

// Nobody decides on a version they had a hand in: whoever drew the annotation, or wrote
// any version since it was last accepted (edits, restores, submitting it), may not
// accept, dispute or reject it. Reviewers' own decisions are not writing: who disputed
// may judge the fix.
func TestReviewIsNeverSelfApproval(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		type step struct{ actor, op string } // op: edit, restore, or a decision
		tests := []struct {
			name    string
			steps   []step // after alice draws it
			actor   string
			wantErr error
		}{
			{name: "nok, who changed the geometry accepts after another submitted",
				steps: []step{{"bob", "edit"}, {"carol", ReviewSubmitted}}, actor: "bob", wantErr: ErrForbidden},
			{name: "nok, who changed an earlier version since submission accepts",
				steps: []step{{"bob", "edit"}, {"alice", "edit"}, {"alice", ReviewSubmitted}}, actor: "bob", wantErr: ErrForbidden},
			{name: "nok, who restored an old version accepts",
				steps: []step{{"carol", "edit"}, {"bob", "restore"}, {"carol", ReviewSubmitted}}, actor: "bob", wantErr: ErrForbidden},
			{name: "nok, who edited since the last acceptance accepts the next round",
				steps: []step{{"alice", ReviewSubmitted}, {"carol", ReviewAccepted}, {"bob", "edit"}, {"alice", ReviewSubmitted}}, actor: "bob", wantErr: ErrForbidden},
			{name: "nok, the editor in other case",
				steps: []step{{"bob", "edit"}, {"carol", ReviewSubmitted}}, actor: "BOB", wantErr: ErrForbidden},
			{name: "ok, someone who wrote no version accepts",
				steps: []step{{"bob", "edit"}, {"carol", ReviewSubmitted}}, actor: "dave"},
			{name: "ok, who edited before the last acceptance reviews the next round",
				steps: []step{{"bob", "edit"}, {"alice", ReviewSubmitted}, {"carol", ReviewAccepted}, {"dave", "edit"}, {"dave", ReviewSubmitted}}, actor: "bob"},
			{name: "ok, who disputed judges the fix",
				steps: []step{{"alice", ReviewSubmitted}, {"bob", ReviewDisputed}, {"alice", "edit"}, {"alice", ReviewSubmitted}}, actor: "bob"},
			{name: "ok, who accepted the last round reviews the next",
				steps: []step{{"alice", ReviewSubmitted}, {"bob", ReviewAccepted}, {"carol", "edit"}, {"carol", ReviewSubmitted}}, actor: "bob"},
		}
		for _, tc := range tests {
			for _, decision := range []string{ReviewAccepted, ReviewDisputed, ReviewRejected} {
				t.Run(tc.name+", "+decision, func(t *testing.T) {
					x := newAnnotated(t)
					a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, "")
					var err error
					for i, st := range tc.steps {
						switch st.op {
						case "edit":
							geom := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[10,10],[%d,10],[%d,40],[10,40],[10,10]]]}`, 61+i, 61+i)
							a, err = x.s.UpdateAnnotation(ctx, st.actor, a.ID, AnnotationInput{Version: ptr(a.Version), Geometry: json.RawMessage(geom)})
						case "restore":
							a, err = x.s.RestoreAnnotation(ctx, Actor{Name: st.actor}, a.ID, 1, ptr(a.Version))
						default:
							a, err = x.s.ReviewAnnotation(ctx, st.actor, a.ID, a.Version, st.op, "because")
						}
						if err != nil {
							t.Fatalf("step %d (%s by %s): %v", i, st.op, st.actor, err)
						}
					}
					got, err := x.s.ReviewAnnotation(ctx, tc.actor, a.ID, a.Version, decision, "because")
					if tc.wantErr == nil {
						if err != nil || got.ReviewStatus != decision {
							t.Fatalf("%s by %s: %s (%v), want it recorded", decision, tc.actor, got.ReviewStatus, err)
						}
						return
					}
					if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), "another analyst") {
						t.Fatalf("%s by %s: %v, want %v saying another analyst must decide", decision, tc.actor, err, tc.wantErr)
					}
					if stored, _ := x.s.Annotation(ctx, a.ID); stored.Version != a.Version || stored.ReviewStatus != ReviewSubmitted {
						t.Errorf("a refused decision changed the annotation: v%d %s, want v%d submitted", stored.Version, stored.ReviewStatus, a.Version)
					}
				})
			}
		}
	})
}

func TestReviewCounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		other := addImage(t, x.s, "other", 100, 100, Provenance{})
		addAnnotation(t, x.s, "alice", other.ID, "vessel", ShapePoint, pointJSON, "")

		counts, err := x.s.ReviewCounts(ctx, x.img.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range ReviewStatuses {
			if n, ok := counts[st]; !ok || n != 0 {
				t.Errorf("empty image: %s = %d (present %v), want 0 and present", st, n, ok)
			}
		}

		inState(t, x, ReviewDraft, "alice")
		inState(t, x, ReviewDraft, "alice")
		inState(t, x, ReviewSubmitted, "alice")
		inState(t, x, ReviewAccepted, "alice")
		inState(t, x, ReviewAccepted, "alice")
		inState(t, x, ReviewAccepted, "alice")
		inState(t, x, ReviewRejected, "alice")
		want := map[string]int{ReviewDraft: 2, ReviewSubmitted: 1, ReviewAccepted: 3, ReviewDisputed: 0, ReviewRejected: 1}
		counts, err = x.s.ReviewCounts(ctx, x.img.ID)
		if err != nil {
			t.Fatal(err)
		}
		img, err := x.s.Image(ctx, x.img.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range ReviewStatuses {
			if counts[st] != want[st] {
				t.Errorf("ReviewCounts %s = %d, want %d", st, counts[st], want[st])
			}
			if img.ReviewCounts[st] != want[st] {
				t.Errorf("Image.ReviewCounts %s = %d, want %d", st, img.ReviewCounts[st], want[st])
			}
		}
		if len(img.ReviewCounts) != len(ReviewStatuses) {
			t.Errorf("Image.ReviewCounts = %v, want exactly the %d states", img.ReviewCounts, len(ReviewStatuses))
		}
		if o, _ := x.s.Image(ctx, other.ID); o.ReviewCounts[ReviewDraft] != 1 || o.ReviewCounts[ReviewAccepted] != 0 {
			t.Errorf("other image counts %v, want its one draft only", o.ReviewCounts)
		}
	})
}

func TestComments(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		b := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")

		tests := []struct {
			name      string
			id        string
			body      string
			wantBody  string
			wantField string
			wantErr   error
		}{
			{name: "ok, plain text, trimmed", id: a.ID, body: "  Is this the Ropucha from last week?\n", wantBody: "Is this the Ropucha from last week?"},
			{name: "ok, markup is kept as text", id: a.ID, body: "<script>alert(1)</script>", wantBody: "<script>alert(1)</script>"},
			{name: "ok, 10000 bytes", id: a.ID, body: strings.Repeat("y", 10000), wantBody: strings.Repeat("y", 10000)},
			{name: "nok, empty", id: a.ID, body: "", wantField: "body"},
			{name: "nok, only spaces", id: a.ID, body: " \n\t ", wantField: "body"},
			{name: "nok, over 10000 bytes", id: a.ID, body: strings.Repeat("y", 10001), wantField: "body"},
			{name: "nok, not text", id: a.ID, body: "\xff", wantField: "body"},
			{name: "nok, unknown annotation", id: "00000000-0000-4000-8000-000000000000", body: "hello", wantErr: ErrNotFound},
		}
		var want []string
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c, err := x.s.AddComment(ctx, "bob", tc.id, tc.body)
				switch {
				case tc.wantField != "":
					wantValidation(t, err, tc.wantField)
					return
				case tc.wantErr != nil:
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("got %v, want %v", err, tc.wantErr)
					}
					return
				case err != nil:
					t.Fatal(err)
				}
				if c.Body != tc.wantBody || c.Author != "bob" || c.AnnotationID != a.ID || c.ImageID != x.img.ID || !strings.HasPrefix(c.ID, "cmt_") || c.CreatedAt.IsZero() {
					t.Errorf("got %+v, want bob's comment on %s of %s", c, a.ID, x.img.ID)
				}
				want = append(want, c.ID)
			})
		}
		got, err := x.s.Comments(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("Comments: got %v, want %v, oldest first", ids, want)
		}
		if none, err := x.s.Comments(ctx, b.ID); err != nil || none == nil || len(none) != 0 {
			t.Errorf("Comments of an annotation without any: got %#v (%v), want an empty list", none, err)
		}
	})
}

func TestRestoreAnnotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		moved := `{"type":"Polygon","coordinates":[[[20,20],[70,20],[70,50],[20,50],[20,20]]]}`

		// history makes an annotation with three versions: drawn, moved with a note, submitted.
		history := func(t *testing.T, x annotated) Annotation {
			t.Helper()
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, `{"note":"first look"}`)
			a, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Version: ptr(1), Geometry: json.RawMessage(moved),
				Label: ptr("vessel/landing ship"), Properties: json.RawMessage(`{"note":"second look"}`)})
			if err != nil {
				t.Fatal(err)
			}
			a, err = x.s.ReviewAnnotation(ctx, "bob", a.ID, a.Version, ReviewSubmitted, "")
			if err != nil {
				t.Fatal(err)
			}
			return a
		}

		t.Run("ok, an old version comes back as the next one", func(t *testing.T) {
			x := newAnnotated(t)
			cur := history(t, x)
			v1, _ := x.s.History(ctx, cur.ID)
			got, err := x.s.RestoreAnnotation(ctx, Actor{Name: "carol"}, cur.ID, 1, ptr(cur.Version))
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if got.Version != cur.Version+1 || got.UpdatedBy != "carol" || got.CreatedBy != "alice" || got.ReviewStatus != ReviewDraft {
				t.Errorf("got v%d by %s (drawn by %s) %s, want v%d by carol (drawn by alice), draft", got.Version, got.UpdatedBy, got.CreatedBy, got.ReviewStatus, cur.Version+1)
			}
			want := v1[0].After
			if !sameGeometry(got.Geometry, want.Geometry) || got.Note != "first look" || got.Label.ID != x.vessel.ID {
				t.Errorf("got %v %q %s, want version 1's geometry, note and label", got.Geometry, got.Note, got.Label.PathString())
			}
			stored, err := x.s.Annotation(ctx, cur.ID)
			if err != nil || stored.Version != got.Version || !sameGeometry(stored.Geometry, want.Geometry) {
				t.Errorf("stored: got %+v (%v)", stored, err)
			}
			hist, _ := x.s.History(ctx, cur.ID)
			if len(hist) != 4 || hist[3].Action != "update" || hist[3].Actor != "carol" || !slices.Contains(hist[3].Changes, "moved") {
				t.Errorf("history: got %d revisions, last %+v, want 4 with carol's update that moves it back", len(hist), hist[len(hist)-1])
			}
		})

		t.Run("nok, current version missing, stale or unknown", func(t *testing.T) {
			x := newAnnotated(t)
			cur := history(t, x)
			if _, err := x.s.RestoreAnnotation(ctx, Actor{Name: "carol"}, cur.ID, 1, nil); !errors.Is(err, ErrVersionRequired) {
				t.Errorf("no current: got %v, want ErrVersionRequired", err)
			}
			var stale *StaleVersionError
			if _, err := x.s.RestoreAnnotation(ctx, Actor{Name: "carol"}, cur.ID, 1, ptr(cur.Version-1)); !errors.As(err, &stale) || stale.Current != cur.Version {
				t.Errorf("stale current: got %v, want a StaleVersionError naming %d", err, cur.Version)
			}
			if _, err := x.s.RestoreAnnotation(ctx, Actor{Name: "carol"}, cur.ID, 99, ptr(cur.Version)); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown version: got %v, want ErrNotFound", err)
			}
			if _, err := x.s.RestoreAnnotation(ctx, Actor{Name: "carol"}, "00000000-0000-4000-8000-000000000000", 1, nil); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown annotation: got %v, want ErrNotFound", err)
			}
			if got, _ := x.s.Annotation(ctx, cur.ID); got.Version != cur.Version {
				t.Errorf("refused restores changed the annotation to v%d", got.Version)
			}
		})

		t.Run("ok, a deleted annotation comes back with its id", func(t *testing.T) {
			x := newAnnotated(t)
			cur := history(t, x)
			if err := x.s.DeleteAnnotation(ctx, Actor{Name: "dave"}, cur.ID, ptr(cur.Version)); err != nil {
				t.Fatal(err)
			}
			deletion := cur.Version + 1
			_, err := x.s.RestoreAnnotation(ctx, Actor{Name: "carol"}, cur.ID, deletion, nil)
			wantValidation(t, err, "version")

			got, err := x.s.RestoreAnnotation(ctx, Actor{Name: "carol"}, cur.ID, 2, nil)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if got.ID != cur.ID || got.Version != deletion+1 || got.Note != "second look" || got.Label.ID != x.landing.ID ||
				!sameGeometry(got.Geometry, cur.Geometry) || got.ReviewStatus != ReviewDraft || got.CreatedBy != "alice" || got.UpdatedBy != "carol" {
				t.Errorf("got %+v, want version 2 back as v%d with id %s", got, deletion+1, cur.ID)
			}
			if _, err := x.s.Annotation(ctx, cur.ID); err != nil {
				t.Errorf("after restore: %v", err)
			}
			hist, _ := x.s.History(ctx, cur.ID)
			if last := hist[len(hist)-1]; len(hist) != 5 || last.Action != "create" || last.Version != deletion+1 {
				t.Errorf("history: %d revisions, last %s v%d, want 5 ending with create v%d", len(hist), last.Action, last.Version, deletion+1)
			}
		})

		t.Run("nok, the label or the image is gone", func(t *testing.T) {
			x := newAnnotated(t)
			a := addAnnotation(t, x.s, "alice", x.img.ID, "facility/naval base", ShapePoint, pointJSON, "")
			if err := x.s.DeleteAnnotation(ctx, Actor{Name: "alice"}, a.ID, ptr(a.Version)); err != nil {
				t.Fatal(err)
			}
			if err := x.s.DeleteLabel(ctx, Actor{Name: "root"}, x.naval.ID); err != nil {
				t.Fatalf("delete label: %v", err)
			}
			_, err := x.s.RestoreAnnotation(ctx, Actor{Name: "carol"}, a.ID, 1, nil)
			wantValidation(t, err, "label")

			b := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
			if err := x.s.DeleteAnnotation(ctx, Actor{Name: "alice"}, b.ID, ptr(b.Version)); err != nil {
				t.Fatal(err)
			}
			if _, err := x.s.TrashImage(ctx, Actor{Name: "root"}, x.img.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := x.s.RestoreAnnotation(ctx, Actor{Name: "carol"}, b.ID, 1, nil); !errors.Is(err, ErrNotFound) {
				t.Errorf("annotation of a trashed image: got %v, want ErrNotFound", err)
			}
		})
	})
}

func TestLatestDecisions(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		draft := inState(t, x, ReviewDraft, "")
		submitted := inState(t, x, ReviewSubmitted, "alice")
		accepted := inState(t, x, ReviewAccepted, "alice")
		disputed := inState(t, x, ReviewDisputed, "alice")
		changed := inState(t, x, ReviewAccepted, "alice")
		// Changed after it was accepted: back to draft, and the acceptance no longer speaks for it.
		note := "moved a little"
		if _, err := x.s.UpdateAnnotation(ctx, "carol", changed.ID, AnnotationInput{Version: &changed.Version, Properties: json.RawMessage(`{"note": "` + note + `"}`)}); err != nil {
			t.Fatal(err)
		}
		other := addImage(t, x.s, "other scene", 200, 100, Provenance{})
		elsewhere := addAnnotation(t, x.s, "alice", other.ID, "vessel", ShapeRectangle, boxJSON, "")
		if _, err := x.s.ReviewAnnotation(ctx, "alice", elsewhere.ID, elsewhere.Version, ReviewSubmitted, ""); err != nil {
			t.Fatal(err)
		}

		got, err := x.s.LatestDecisions(ctx, []string{x.img.ID})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]Review{
			submitted.ID: {Reviewer: "alice", Decision: ReviewSubmitted, Version: 1},
			accepted.ID:  {Reviewer: "bob", Decision: ReviewAccepted, Version: 2, Reason: "because"},
			disputed.ID:  {Reviewer: "bob", Decision: ReviewDisputed, Version: 2, Reason: "because"},
		}
		if len(got) != len(want) {
			t.Errorf("got decisions for %d annotations, want %d (none for the draft %s, the changed %s or the other image's)", len(got), len(want), draft.ID, changed.ID)
		}
		for id, w := range want {
			g, ok := got[id]
			if !ok || g.AnnotationID != id || g.Reviewer != w.Reviewer || g.Decision != w.Decision || g.Version != w.Version || g.Reason != w.Reason || g.At.IsZero() {
				t.Errorf("decision on %s: got %+v (found %v), want %+v", id, g, ok, w)
			}
		}
		if none, err := x.s.LatestDecisions(ctx, nil); err != nil || len(none) != 0 {
			t.Errorf("no images: got %v, %v; want none", none, err)
		}
	})
}

package annotations

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// Withdrawing a review decision (the undo of a submission or of a reviewer's decision):
// only by who made it, only while it made the current version, as a new version
// recorded in the history, the reviews and the audit log.
func TestWithdrawReview(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		tests := []struct {
			name      string
			from      string // the state inState brings it to (submitted by alice, decided by bob)
			resubmit  bool   // then alice submits it again (from disputed or rejected)
			actor     string
			stale     bool
			wantErr   error  // ErrForbidden, ErrConflict; nil for success
			wantState string // the state it returns to
			withdrawn string // the decision taken back
		}{
			{name: "ok, the submitter withdraws her submission: draft again", from: ReviewSubmitted, actor: "alice", wantState: ReviewDraft, withdrawn: ReviewSubmitted},
			{name: "ok, name in other case", from: ReviewSubmitted, actor: "ALICE", wantState: ReviewDraft, withdrawn: ReviewSubmitted},
			{name: "ok, the reviewer withdraws his acceptance: submitted again", from: ReviewAccepted, actor: "bob", wantState: ReviewSubmitted, withdrawn: ReviewAccepted},
			{name: "ok, the reviewer withdraws his rejection", from: ReviewRejected, actor: "bob", wantState: ReviewSubmitted, withdrawn: ReviewRejected},
			{name: "ok, the reviewer withdraws his dispute", from: ReviewDisputed, actor: "bob", wantState: ReviewSubmitted, withdrawn: ReviewDisputed},
			{name: "ok, a resubmission of rejected work is withdrawn: rejected again", from: ReviewRejected, resubmit: true, actor: "alice", wantState: ReviewRejected, withdrawn: ReviewSubmitted},
			{name: "nok, someone else withdraws the submission", from: ReviewSubmitted, actor: "bob", wantErr: ErrForbidden},
			{name: "nok, the submitter withdraws the reviewer's acceptance", from: ReviewAccepted, actor: "alice", wantErr: ErrForbidden},
			{name: "nok, a draft never reviewed has nothing to withdraw", from: ReviewDraft, actor: "alice", wantErr: ErrConflict},
			{name: "nok, stale version", from: ReviewAccepted, actor: "bob", stale: true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				x := newAnnotated(t)
				before := inState(t, x, tc.from, "alice")
				if tc.resubmit {
					var err error
					if before, err = x.s.ReviewAnnotation(ctx, "alice", before.ID, before.Version, ReviewSubmitted, ""); err != nil {
						t.Fatal(err)
					}
				}
				version := before.Version
				if tc.stale {
					version--
				}
				audits := count(t, x.s, `SELECT COUNT(*) FROM audit WHERE action = 'annotation.withdraw'`)
				got, err := x.s.WithdrawReview(ctx, Actor{Name: tc.actor, IP: "192.0.2.7"}, before.ID, version)
				failed := tc.wantErr != nil || tc.stale
				switch {
				case tc.wantErr != nil:
					if !errors.Is(err, tc.wantErr) {
						t.Fatalf("got %v, want %v", err, tc.wantErr)
					}
				case tc.stale:
					var stale *StaleVersionError
					if !errors.As(err, &stale) || stale.Current != before.Version {
						t.Fatalf("got %v, want a StaleVersionError naming version %d", err, before.Version)
					}
				case err != nil:
					t.Fatalf("withdraw: %v", err)
				}
				stored, err := x.s.Annotation(ctx, before.ID)
				if err != nil {
					t.Fatal(err)
				}
				if failed {
					if stored.Version != before.Version || stored.ReviewStatus != before.ReviewStatus {
						t.Errorf("a refused withdrawal changed the annotation: v%d %s, want v%d %s", stored.Version, stored.ReviewStatus, before.Version, before.ReviewStatus)
					}
					if n := count(t, x.s, `SELECT COUNT(*) FROM reviews WHERE withdrawn_at != ''`); n != 0 {
						t.Errorf("a refused withdrawal marked %d decisions withdrawn", n)
					}
					if n := count(t, x.s, `SELECT COUNT(*) FROM audit WHERE action = 'annotation.withdraw'`); n != audits {
						t.Errorf("a refused withdrawal was audited")
					}
					return
				}
				if got.ReviewStatus != tc.wantState || got.Version != before.Version+1 || got.UpdatedBy != tc.actor {
					t.Errorf("got %s v%d by %s, want %s v%d by %s", got.ReviewStatus, got.Version, got.UpdatedBy, tc.wantState, before.Version+1, tc.actor)
				}
				if stored.ReviewStatus != tc.wantState || stored.Version != got.Version || !sameGeometry(stored.Geometry, before.Geometry) || stored.Label.ID != before.Label.ID {
					t.Errorf("stored %s v%d, want %s v%d with the same content", stored.ReviewStatus, stored.Version, tc.wantState, got.Version)
				}
				reviews, err := x.s.Reviews(ctx, before.ID)
				if err != nil {
					t.Fatal(err)
				}
				last := reviews[len(reviews)-1]
				if last.Decision != tc.withdrawn || last.WithdrawnBy != tc.actor || last.WithdrawnAt == nil || last.WithdrawnVersion != got.Version {
					t.Errorf("the decision withdrawn: %+v, want the %s marked withdrawn by %s as version %d", last, tc.withdrawn, tc.actor, got.Version)
				}
				for _, r := range reviews[:len(reviews)-1] {
					if r.WithdrawnAt != nil {
						t.Errorf("an earlier decision is marked withdrawn too: %+v", r)
					}
				}
				hist, err := x.s.History(ctx, before.ID)
				if err != nil {
					t.Fatal(err)
				}
				rev := hist[len(hist)-1]
				if rev.Version != got.Version || rev.Actor != tc.actor || rev.Withdrew != tc.withdrawn ||
					!slices.Contains(rev.Changes, "withdrew the "+decisionNouns[tc.withdrawn]) || !slices.Contains(rev.Changes, "review: "+tc.wantState) {
					t.Errorf("last revision: v%d by %s withdrew %q, changes %v; want v%d by %s withdrawing the %s, back to %s",
						rev.Version, rev.Actor, rev.Withdrew, rev.Changes, got.Version, tc.actor, tc.withdrawn, tc.wantState)
				}
				log, err := x.s.AuditLog(ctx, AuditFilter{Action: "annotation.withdraw"})
				if err != nil || len(log) != 1 {
					t.Fatalf("audit: %+v, %v; want one annotation.withdraw", log, err)
				}
				if e := log[0]; e.Actor != tc.actor || e.TargetID != before.ID || e.IP != "192.0.2.7" || !strings.Contains(e.Detail, "withdrew the "+decisionNouns[tc.withdrawn]) {
					t.Errorf("audit entry %+v, want %s withdrawing the %s of %s from 192.0.2.7", e, tc.actor, decisionNouns[tc.withdrawn], before.ID)
				}
			})
		}

		t.Run("nok, a second withdrawal: the current version is a withdrawal, not a decision", func(t *testing.T) {
			x := newAnnotated(t)
			a := inState(t, x, ReviewAccepted, "alice")
			a, err := x.s.WithdrawReview(ctx, Actor{Name: "bob"}, a.ID, a.Version)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := x.s.WithdrawReview(ctx, Actor{Name: "bob"}, a.ID, a.Version); !errors.Is(err, ErrConflict) {
				t.Errorf("withdrawing twice: got %v, want ErrConflict", err)
			}
			// The submission under it is alice's, and no longer what made the current version.
			if _, err := x.s.WithdrawReview(ctx, Actor{Name: "alice"}, a.ID, a.Version); !errors.Is(err, ErrConflict) {
				t.Errorf("withdrawing the submission under a withdrawn acceptance: got %v, want ErrConflict", err)
			}
		})

		t.Run("nok, changed since the decision: nothing to withdraw", func(t *testing.T) {
			x := newAnnotated(t)
			a := inState(t, x, ReviewSubmitted, "alice")
			a, err := x.s.UpdateAnnotation(ctx, "carol", a.ID, AnnotationInput{Version: ptr(a.Version), Properties: []byte(`{"note": "moved"}`)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := x.s.WithdrawReview(ctx, Actor{Name: "alice"}, a.ID, a.Version); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "carol") {
				t.Errorf("got %v, want ErrConflict naming carol's change", err)
			}
		})

		t.Run("ok, decided again after a withdrawal, and withdrawn again (undo, redo, undo)", func(t *testing.T) {
			x := newAnnotated(t)
			a := inState(t, x, ReviewAccepted, "alice")
			bob := Actor{Name: "bob"}
			a, err := x.s.WithdrawReview(ctx, bob, a.ID, a.Version)
			if err != nil {
				t.Fatal(err)
			}
			if a, err = x.s.ReviewAnnotation(ctx, "bob", a.ID, a.Version, ReviewAccepted, ""); err != nil {
				t.Fatalf("accepting again after withdrawing: %v", err)
			}
			if a, err = x.s.WithdrawReview(ctx, bob, a.ID, a.Version); err != nil || a.ReviewStatus != ReviewSubmitted || a.Version != 6 {
				t.Fatalf("withdrawing again: %s v%d, %v; want submitted v6", a.ReviewStatus, a.Version, err)
			}
			got, err := x.s.LatestDecisions(ctx, []string{x.img.ID})
			if err != nil {
				t.Fatal(err)
			}
			if d := got[a.ID]; d.Decision != ReviewSubmitted || d.Reviewer != "alice" {
				t.Errorf("latest decision %+v, want alice's submission (both acceptances withdrawn)", d)
			}
		})
	})
}

// A withdrawal is not writing, and a withdrawn acceptance accepts nothing: the rule of
// who may decide reads the history as if neither had been.
func TestWithdrawnDecisionsAndIndependence(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, "")
		step := func(what string, f func() (Annotation, error)) {
			t.Helper()
			var err error
			if a, err = f(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		step("carol edits", func() (Annotation, error) {
			return x.s.UpdateAnnotation(ctx, "carol", a.ID, AnnotationInput{Version: ptr(a.Version), Properties: []byte(`{"note": "carol's"}`)})
		})
		step("carol submits", func() (Annotation, error) {
			return x.s.ReviewAnnotation(ctx, "carol", a.ID, a.Version, ReviewSubmitted, "")
		})
		step("bob accepts", func() (Annotation, error) {
			return x.s.ReviewAnnotation(ctx, "bob", a.ID, a.Version, ReviewAccepted, "")
		})
		step("bob withdraws", func() (Annotation, error) { return x.s.WithdrawReview(ctx, Actor{Name: "bob"}, a.ID, a.Version) })
		if _, err := x.s.ReviewAnnotation(ctx, "carol", a.ID, a.Version, ReviewAccepted, ""); !errors.Is(err, ErrForbidden) {
			t.Errorf("carol accepting her own edit after bob withdrew his acceptance: got %v, want ErrForbidden", err)
		}
		// Bob's withdrawal was not writing: he may decide again.
		if _, err := x.s.ReviewAnnotation(ctx, "bob", a.ID, a.Version, ReviewAccepted, ""); err != nil {
			t.Errorf("bob accepting again after withdrawing: %v", err)
		}
	})
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
)

// Undo of review decisions: Ada submits and takes it back with Ctrl+Z (a draft again),
// submits again; Ben accepts and takes that back (submitted again), redoes it; after
// Ada changes it, Ben's Ctrl+Z says his acceptance can no longer be withdrawn, shows
// Ada's version and changes nothing.
func TestBrowserUndoReview(t *testing.T) {
	a := startApp(t)
	ctx := context.Background()
	port := portImage(t, a)
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	a.addUser(t, "Ben Analyst", annotations.RoleAnalyst)
	label, shape := "vehicle", annotations.ShapePoint
	ann, err := a.Store.CreateAnnotation(ctx, "Ada Analyst", port.ID, annotations.AnnotationInput{
		Label: &label, Shape: &shape, Geometry: json.RawMessage(`{"type": "Point", "coordinates": [1500.5, 1500.5]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	stored := func() annotations.Annotation {
		t.Helper()
		got, err := a.Store.Annotation(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	wantStored := func(what, status string, version int) {
		t.Helper()
		if got := stored(); got.ReviewStatus != status || got.Version != version {
			t.Errorf("%s: stored %s version %d, want %s version %d", what, got.ReviewStatus, got.Version, status, version)
		}
	}
	// statusIs: the page shows the annotation in state st at version v.
	statusIs := func(st string, v int) string {
		return fmt.Sprintf(`document.getElementById('review-status').textContent === %q && %s?.version === %d`, st, annotationJS(ann.ID), v)
	}
	lastRevision := func() annotations.Revision {
		t.Helper()
		revs, err := a.Store.History(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		return revs[len(revs)-1]
	}

	ada, ben := newBrowser(t), newBrowser(t)
	ada.openAnnotator(t, a, port.ID, "Ada Analyst")
	ben.openAnnotator(t, a, port.ID, "Ben Analyst")
	ada.selectInList(t, ann.ID)
	ben.selectInList(t, ann.ID)

	t.Run("Ctrl+Z after a submit: a draft again, as a new version", func(t *testing.T) {
		ada.waitFor(t, "a draft", statusIs("draft", 1)+` && !document.getElementById('review-submit').hidden`)
		ada.do(t, chromedp.Click(chromedp.ID("review-submit")))
		ada.waitFor(t, "submitted", statusIs("submitted", 2))
		ada.pressKey(t, "z", chromedp.ModifierCtrl)
		ada.waitFor(t, "the submission undone", statusIs("draft", 3)+` && !document.getElementById('review-submit').hidden`)
		wantStored("after undoing the submission", annotations.ReviewDraft, 3)
		if r := lastRevision(); r.Actor != "Ada Analyst" || r.Withdrew != annotations.ReviewSubmitted {
			t.Errorf("the last revision is %s's, withdrawing %q; want Ada's withdrawal of her submission", r.Actor, r.Withdrew)
		}
		ben.waitLive(t, "the withdrawal in Ben's page", statusIs("draft", 3))
		// Redo puts it up for review again.
		ada.pressKey(t, "z", chromedp.ModifierCtrl, chromedp.ModifierShift)
		ada.waitFor(t, "the submission redone", statusIs("submitted", 4))
		wantStored("after redoing the submission", annotations.ReviewSubmitted, 4)
	})

	t.Run("Ctrl+Z after an accept: submitted again; redo accepts again", func(t *testing.T) {
		ben.waitLive(t, "the submission in Ben's page", statusIs("submitted", 4)+` && !document.getElementById('review-decide').hidden`)
		ben.do(t, chromedp.Click(chromedp.ID("review-accept")))
		ben.waitFor(t, "accepted", statusIs("accepted", 5))
		ben.pressKey(t, "z", chromedp.ModifierCtrl)
		ben.waitFor(t, "the acceptance undone", statusIs("submitted", 6)+` && !document.getElementById('review-decide').hidden`)
		wantStored("after undoing the acceptance", annotations.ReviewSubmitted, 6)
		reviews, err := a.Store.Reviews(ctx, ann.ID)
		if err != nil || len(reviews) != 3 || reviews[2].Decision != annotations.ReviewAccepted || reviews[2].WithdrawnBy != "Ben Analyst" {
			t.Fatalf("reviews %+v (%v), want Ben's acceptance marked withdrawn by him", reviews, err)
		}
		ben.waitFor(t, "the withdrawn acceptance in the review list", `document.querySelector('#reviews li.withdrawn[data-decision=accepted] .withdrawal')?.textContent.includes('withdrawn by Ben Analyst')`)
		if log, _ := a.Store.AuditLog(ctx, annotations.AuditFilter{Action: "annotation.withdraw"}); len(log) != 2 || log[0].Actor != "Ben Analyst" {
			t.Errorf("audit: %+v, want Ada's and then Ben's withdrawal", log)
		}
		ben.pressKey(t, "z", chromedp.ModifierCtrl, chromedp.ModifierShift)
		ben.waitFor(t, "the acceptance redone", statusIs("accepted", 7))
		wantStored("after redoing the acceptance", annotations.ReviewAccepted, 7)
	})

	t.Run("changed by someone else since: the bar says so, nothing changes", func(t *testing.T) {
		v := 7
		if _, err := a.Store.UpdateAnnotation(ctx, "Ada Analyst", ann.ID, annotations.AnnotationInput{Version: &v, Properties: json.RawMessage(`{"note": "two hulls"}`)}); err != nil {
			t.Fatal(err)
		}
		// (the store's change is not announced: Ben's page learns of it from the 412)
		ben.pressKey(t, "z", chromedp.ModifierCtrl)
		ben.waitFor(t, "the undo bar", `!document.getElementById('undo-conflict').hidden && document.getElementById('undo-anyway').hidden`)
		if got := ben.text(t, "#undo-conflict-text"); !strings.Contains(got, "Ada Analyst changed this annotation since your acceptance") || !strings.Contains(got, "can no longer be withdrawn") {
			t.Errorf("the undo bar says %q, want it to name Ada and say the acceptance can no longer be withdrawn", got)
		}
		ben.waitFor(t, "Ada's version shown", statusIs("draft", 8))
		wantStored("after the refused undo", annotations.ReviewDraft, 8)
		ben.do(t, chromedp.Click(chromedp.ID("undo-keep-theirs")))
		ben.waitFor(t, "the bar gone", `document.getElementById('undo-conflict').hidden`)
		wantStored("after keeping theirs", annotations.ReviewDraft, 8)
	})
}

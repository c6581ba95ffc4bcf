package annotations

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Bulk actions change many annotations of one image at once.
const (
	BulkUpdate = "update" // apply one patch (label, properties) to each
	BulkDelete = "delete"
	BulkReview = "review" // record one decision on each, or withdraw each one's (ReviewWithdrawn)
)

// MaxBulk bounds how many annotations one bulk change may name.
const MaxBulk = 1000

// BulkRef names an annotation and the version a bulk change is based on.
type BulkRef struct {
	ID      string `json:"id"`
	Version *int   `json:"version"`
}

// BulkChange is one change to many annotations of an image. Patch is the body of an
// update (label and properties only: a bulk change does not move shapes); Decision and
// Reason are a review's.
type BulkChange struct {
	Annotations []BulkRef        `json:"annotations"`
	Action      string           `json:"action"`
	Patch       *AnnotationInput `json:"patch"`
	Decision    string           `json:"decision"`
	Reason      string           `json:"reason"`
}

// StaleVersionsError means some annotations of a bulk change are no longer at the
// versions it was based on; Stale lists each, in the order the change named them, with
// who saved its current version.
type StaleVersionsError struct {
	Stale []StaleVersionError
}

func (e *StaleVersionsError) Error() string {
	parts := make([]string, len(e.Stale))
	for i, st := range e.Stale {
		parts[i] = fmt.Sprintf("%s is at version %d (by %s), not %d", st.ID, st.Current, st.By, st.Given)
	}
	return fmt.Sprintf("%d of the annotations changed since you loaded them (%s); nothing was changed",
		len(e.Stale), strings.Join(parts, "; "))
}

// BulkChangeAnnotations applies ch to each annotation it names, all in one transaction
// and all or nothing: each changed annotation gets one revision, as if changed alone
// (deletions are audited as by's, as DeleteAnnotation's are). It returns the annotations
// as they are after the change, in the order named (for a deletion, as they were when
// deleted); an update that changes an annotation not at all leaves it at its version.
//
// Errors, before anything is written: a malformed change is a *ValidationError; a
// missing version is ErrVersionRequired; an annotation that does not exist or is of
// another image is a *ValidationError naming it; old versions are one
// *StaleVersionsError naming every one. A patch or decision one of them refuses (an
// unknown label, an annotation already submitted) names that annotation in its error.
func (s *Store) BulkChangeAnnotations(ctx context.Context, by Actor, imageID string, ch BulkChange) ([]Annotation, error) {
	if err := ch.check(); err != nil {
		return nil, err
	}
	for _, ref := range ch.Annotations {
		if ref.Version == nil {
			return nil, ErrVersionRequired
		}
	}
	tx, err := s.beginRevisions(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if _, _, err := imageExtent(ctx, tx, imageID); err != nil {
		return nil, err
	}
	curs := make([]Annotation, len(ch.Annotations))
	var stale []StaleVersionError
	for i, ref := range ch.Annotations {
		field := fmt.Sprintf("annotations[%d].id", i)
		cur, err := s.annotationTx(ctx, tx, ref.ID)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, invalid(field, "there is no annotation %s (it may have been deleted); nothing was changed", ref.ID)
			}
			return nil, err
		}
		if cur.ImageID != imageID {
			return nil, invalid(field, "annotation %s is on image %s, not this image %s; nothing was changed", ref.ID, cur.ImageID, imageID)
		}
		if *ref.Version != cur.Version {
			stale = append(stale, StaleVersionError{ID: ref.ID, Given: *ref.Version, Current: cur.Version, By: cur.UpdatedBy})
		}
		curs[i] = cur
	}
	if len(stale) > 0 {
		return nil, &StaleVersionsError{Stale: stale}
	}
	out := make([]Annotation, len(curs))
	for i, cur := range curs {
		var next Annotation
		var err error
		switch ch.Action {
		case BulkUpdate:
			next, err = s.updateTx(ctx, tx, by.Name, cur, *ch.Patch)
		case BulkReview:
			if ch.Decision == ReviewWithdrawn {
				next, err = s.withdrawTx(ctx, tx, by, cur)
			} else {
				next, err = s.reviewTx(ctx, tx, by.Name, cur, ch.Decision, strings.TrimSpace(ch.Reason))
			}
		case BulkDelete:
			next, err = cur, s.deleteAuditedTx(ctx, tx, by, cur)
		}
		if err != nil {
			return nil, fmt.Errorf("annotation %s (annotations[%d]): %w", cur.ID, i, err)
		}
		out[i] = next
	}
	return out, tx.Commit()
}

// check refuses a malformed bulk change: no annotations or too many, one named twice, an
// unknown action, an update without a patch or with geometry, a bad reason.
func (ch BulkChange) check() error {
	switch {
	case len(ch.Annotations) == 0:
		return invalid("annotations", "name at least one annotation")
	case len(ch.Annotations) > MaxBulk:
		return invalid("annotations", "a bulk change names at most %d annotations, not %d", MaxBulk, len(ch.Annotations))
	}
	seen := make(map[string]int, len(ch.Annotations))
	for i, ref := range ch.Annotations {
		field := fmt.Sprintf("annotations[%d].id", i)
		if !ValidID(ref.ID) {
			return invalid(field, "%q is not an annotation id", ref.ID)
		}
		if j, dup := seen[ref.ID]; dup {
			return invalid(field, "annotation %s is named twice (also annotations[%d])", ref.ID, j)
		}
		seen[ref.ID] = i
	}
	switch ch.Action {
	case BulkUpdate:
		p := ch.Patch
		switch {
		case p != nil && (p.Shape != nil || len(p.Geometry) > 0):
			return invalid("patch", "a bulk change sets labels and properties, not shapes or geometry")
		case p == nil || (p.Label == nil && len(p.Properties) == 0):
			return invalid("patch", "say what to change: a label or properties")
		case p.Version != nil:
			return invalid("patch.version", "give each annotation's version beside its id, not in the patch")
		}
		// A patch that does not parse is refused once, not once per annotation.
		if len(p.Properties) > 0 {
			if _, err := parseProperties(p.Properties); err != nil {
				return err
			}
		}
	case BulkReview:
		switch {
		case ch.Decision == "":
			return invalid("decision", "say which decision: submitted, accepted, disputed, rejected or withdrawn")
		case ch.Decision == ReviewWithdrawn && strings.TrimSpace(ch.Reason) != "":
			return invalid("reason", "a withdrawal takes no reason: it takes back a decision")
		}
	case BulkDelete:
	default:
		return invalid("action", "%q is not a bulk action: use update, delete or review", ch.Action)
	}
	if ch.Action != BulkUpdate && ch.Patch != nil {
		return invalid("patch", "only an update takes a patch")
	}
	if ch.Action != BulkReview && (ch.Decision != "" || ch.Reason != "") {
		return invalid("decision", "only a review takes a decision and a reason")
	}
	if r := strings.TrimSpace(ch.Reason); !utf8.ValidString(r) || len(r) > maxReasonBytes {
		return invalid("reason", "a reason is at most %d bytes of text", maxReasonBytes)
	}
	return nil
}

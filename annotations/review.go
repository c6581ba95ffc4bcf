package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Review states of an annotation: drawn (draft), put up for review (submitted), then
// accepted, disputed or rejected by another analyst. Changing an annotation's content
// puts it back to draft: a review is of the version it saw.
const (
	ReviewDraft     = "draft"
	ReviewSubmitted = "submitted"
	ReviewAccepted  = "accepted"
	ReviewDisputed  = "disputed"
	ReviewRejected  = "rejected"
)

// ReviewWithdrawn is not a state: asked for as a decision, it takes back the decision
// that made the current version (WithdrawReview).
const ReviewWithdrawn = "withdrawn"

// ReviewStatuses lists the states in the order the UI counts them.
var ReviewStatuses = []string{ReviewDraft, ReviewSubmitted, ReviewAccepted, ReviewDisputed, ReviewRejected}

// ErrForbidden means the actor may not do this to this thing (review their own work).
var ErrForbidden = errors.New("forbidden")

// Review is one decision on an annotation. A withdrawn decision stays, saying who took
// it back, when, and as which version.
type Review struct {
	AnnotationID     string     `json:"annotation_id"`
	Version          int        `json:"version"` // the version decided on
	Reviewer         string     `json:"reviewer"`
	Decision         string     `json:"decision"`
	Reason           string     `json:"reason,omitempty"`
	At               time.Time  `json:"at"`
	WithdrawnBy      string     `json:"withdrawn_by,omitempty"`
	WithdrawnAt      *time.Time `json:"withdrawn_at,omitempty"`
	WithdrawnVersion int        `json:"withdrawn_version,omitempty"` // the version the withdrawal made
}

const maxReasonBytes = 10000

// ReviewAnnotation records a decision on the version given (which must be current):
// "submitted" puts a draft (or a disputed or rejected one) up for review; "accepted",
// "disputed" and "rejected" decide on a submitted annotation, by someone independent of
// it (else ErrForbidden, see checkIndependent), with a reason for dispute and
// rejection. The annotation moves to the new state as its next version, in the history.
func (s *Store) ReviewAnnotation(ctx context.Context, actor, id string, version int, decision, reason string) (Annotation, error) {
	reason = strings.TrimSpace(reason)
	if !utf8.ValidString(reason) || len(reason) > maxReasonBytes {
		return Annotation{}, invalid("reason", "a reason is at most %d bytes of text", maxReasonBytes)
	}
	tx, err := s.beginRevisions(ctx)
	if err != nil {
		return Annotation{}, err
	}
	defer tx.Rollback()
	cur, err := s.annotationTx(ctx, tx, id)
	if err != nil {
		return Annotation{}, err
	}
	if version != cur.Version {
		return Annotation{}, &StaleVersionError{ID: id, Given: version, Current: cur.Version}
	}
	next, err := s.reviewTx(ctx, tx, actor, cur, decision, reason)
	if err != nil {
		return Annotation{}, err
	}
	return next, tx.Commit()
}

// reviewTx records the decision on cur (whose version the caller has checked, and whose
// reason is trimmed and bounded) in tx, as ReviewAnnotation describes.
func (s *Store) reviewTx(ctx context.Context, tx *sql.Tx, actor string, cur Annotation, decision, reason string) (Annotation, error) {
	id := cur.ID
	switch decision {
	case ReviewSubmitted:
		if cur.ReviewStatus == ReviewSubmitted || cur.ReviewStatus == ReviewAccepted {
			return Annotation{}, fmt.Errorf("the annotation is already %s: %w", cur.ReviewStatus, ErrConflict)
		}
	case ReviewAccepted, ReviewDisputed, ReviewRejected:
		if cur.ReviewStatus != ReviewSubmitted {
			return Annotation{}, fmt.Errorf("only a submitted annotation can be %s; this one is %s: %w", decision, cur.ReviewStatus, ErrConflict)
		}
		if err := s.checkIndependent(ctx, tx, actor, cur); err != nil {
			return Annotation{}, err
		}
		if decision != ReviewAccepted && reason == "" {
			return Annotation{}, invalid("reason", "say why the annotation is %s", decision)
		}
	default:
		return Annotation{}, invalid("decision", "%q is not a decision: use submitted, accepted, disputed or rejected", decision)
	}
	next := cur
	next.ReviewStatus, next.Version, next.UpdatedBy, next.UpdatedAt = decision, cur.Version+1, actor, s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE annotations SET review_status = ?, version = ?, updated_by = ?, updated_at = ? WHERE id = ? AND version = ?`,
		next.ReviewStatus, next.Version, actor, formatTime(next.UpdatedAt), id, cur.Version); err != nil {
		return Annotation{}, err
	}
	if err := s.writeRevision(ctx, tx, "update", actor, &cur, &next); err != nil {
		return Annotation{}, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO reviews (annotation_id, version, reviewer, decision, reason, at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, cur.Version, actor, decision, reason, formatTime(next.UpdatedAt)); err != nil {
		return Annotation{}, err
	}
	return next, nil
}

// checkIndependent refuses (ErrForbidden, saying why) a decision on cur by whoever drew
// it or wrote any version of it since it was last accepted: an edit, a restore or the
// submission. Reviewers' decisions are not writing, so who disputed a version may judge
// the fix. A withdrawal is not writing either: it takes back the version before it, as if
// neither had been (a withdrawn acceptance accepts nothing). Names are compared ignoring
// case, as accounts are.
func (s *Store) checkIndependent(ctx context.Context, tx *sql.Tx, actor string, cur Annotation) error {
	if strings.EqualFold(actor, cur.CreatedBy) {
		return fmt.Errorf("%s drew this annotation; another analyst must decide on it: %w", cur.CreatedBy, ErrForbidden)
	}
	rows, err := tx.QueryContext(ctx, `SELECT v.version, v.actor, COALESCE(`+s.d.jsonText("v.after", "review_status")+`, ''),
			EXISTS (SELECT 1 FROM reviews r WHERE r.annotation_id = v.annotation_id AND r.withdrawn_version = v.version)
		FROM revisions v WHERE v.annotation_id = ? ORDER BY v.version`, cur.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	type since struct {
		wrote int
		by    string
	}
	var st since
	var before []since // st before each revision not withdrawn, for the withdrawals
	for rows.Next() {
		var version int
		var writer, status string
		var withdrawal bool
		if err := rows.Scan(&version, &writer, &status, &withdrawal); err != nil {
			return err
		}
		if withdrawal {
			if len(before) > 0 {
				st, before = before[len(before)-1], before[:len(before)-1]
			}
			continue
		}
		before = append(before, st)
		switch status {
		case ReviewAccepted:
			st = since{}
		case ReviewDraft, ReviewSubmitted:
			if strings.EqualFold(writer, actor) {
				st = since{version, writer}
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if st.wrote > 0 {
		return fmt.Errorf("%s wrote version %d of this annotation since it was last accepted; another analyst must decide on it: %w",
			st.by, st.wrote, ErrForbidden)
	}
	return nil
}

// WithdrawReview takes back the decision that made the annotation's current version
// (version, else *StaleVersionError), as its next version: a submission returns it to
// the state it was submitted from (draft, or disputed or rejected), an acceptance,
// dispute or rejection to submitted. Only who made the decision may withdraw it
// (ErrForbidden); a current version no decision made (an edit, a restore, a withdrawal)
// has nothing to withdraw (ErrConflict). The decision stays among the reviews, marked
// withdrawn; the withdrawal is in the history and in the audit log as by's.
func (s *Store) WithdrawReview(ctx context.Context, by Actor, id string, version int) (Annotation, error) {
	tx, err := s.beginRevisions(ctx)
	if err != nil {
		return Annotation{}, err
	}
	defer tx.Rollback()
	cur, err := s.annotationTx(ctx, tx, id)
	if err != nil {
		return Annotation{}, err
	}
	if version != cur.Version {
		return Annotation{}, &StaleVersionError{ID: id, Given: version, Current: cur.Version}
	}
	next, err := s.withdrawTx(ctx, tx, by, cur)
	if err != nil {
		return Annotation{}, err
	}
	return next, tx.Commit()
}

// decisionNouns name a decision in the audit log: "withdrew the acceptance of version 3".
var decisionNouns = map[string]string{ReviewSubmitted: "submission", ReviewAccepted: "acceptance", ReviewDisputed: "dispute", ReviewRejected: "rejection"}

// withdrawTx withdraws the decision that made cur (whose version the caller has checked)
// in tx, as WithdrawReview describes.
func (s *Store) withdrawTx(ctx context.Context, tx *sql.Tx, by Actor, cur Annotation) (Annotation, error) {
	var reviewID int64
	var reviewer, decision, was string
	err := tx.QueryRowContext(ctx, `SELECT r.id, r.reviewer, r.decision, COALESCE(`+s.d.jsonText("v.before", "review_status")+`, '')
		FROM reviews r JOIN revisions v ON v.annotation_id = r.annotation_id AND v.version = r.version + 1
		WHERE r.annotation_id = ? AND r.version = ? AND r.withdrawn_at = ''`, cur.ID, cur.Version-1).Scan(&reviewID, &reviewer, &decision, &was)
	if errors.Is(err, sql.ErrNoRows) {
		return Annotation{}, fmt.Errorf("version %d of this annotation is %s's change, not a review decision: there is no decision to withdraw: %w",
			cur.Version, cur.UpdatedBy, ErrConflict)
	}
	if err != nil {
		return Annotation{}, err
	}
	if !strings.EqualFold(reviewer, by.Name) {
		return Annotation{}, fmt.Errorf("%s made this decision (%s); only they can withdraw it: %w", reviewer, decision, ErrForbidden)
	}
	next := cur
	next.ReviewStatus, next.Version, next.UpdatedBy, next.UpdatedAt = was, cur.Version+1, by.Name, s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE annotations SET review_status = ?, version = ?, updated_by = ?, updated_at = ? WHERE id = ? AND version = ?`,
		next.ReviewStatus, next.Version, by.Name, formatTime(next.UpdatedAt), cur.ID, cur.Version); err != nil {
		return Annotation{}, err
	}
	if err := s.writeRevision(ctx, tx, "update", by.Name, &cur, &next); err != nil {
		return Annotation{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE reviews SET withdrawn_by = ?, withdrawn_at = ?, withdrawn_version = ? WHERE id = ?`,
		by.Name, formatTime(next.UpdatedAt), next.Version, reviewID); err != nil {
		return Annotation{}, err
	}
	if err := s.audit(ctx, tx, by, "annotation.withdraw", "annotation", cur.ID,
		fmt.Sprintf("withdrew the %s of version %d: version %d is %s again", decisionNouns[decision], cur.Version-1, next.Version, was)); err != nil {
		return Annotation{}, err
	}
	return next, nil
}

// Reviews returns an annotation's decisions, oldest first.
func (s *Store) Reviews(ctx context.Context, annotationID string) ([]Review, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT annotation_id, version, reviewer, decision, reason, at, withdrawn_by, withdrawn_at, withdrawn_version
		FROM reviews WHERE annotation_id = ? ORDER BY id`, annotationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Review{}
	for rows.Next() {
		var r Review
		var at, withdrawnAt string
		if err := rows.Scan(&r.AnnotationID, &r.Version, &r.Reviewer, &r.Decision, &r.Reason, &at, &r.WithdrawnBy, &withdrawnAt, &r.WithdrawnVersion); err != nil {
			return nil, err
		}
		r.At = parseTime(at)
		if withdrawnAt != "" {
			w := parseTime(withdrawnAt)
			r.WithdrawnAt = &w
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// LatestDecisions returns the decision that put each annotation of the given images in
// its current review state, by annotation id. Drafts have none; so does an annotation
// restored to a reviewed version, whose latest decision is of another state. Withdrawn
// decisions do not count: after a withdrawn acceptance, the submission is the latest.
func (s *Store) LatestDecisions(ctx context.Context, imageIDs []string) (map[string]Review, error) {
	out := map[string]Review{}
	if len(imageIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(imageIDs))
	for i, id := range imageIDs {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.annotation_id, r.version, r.reviewer, r.decision, r.reason, r.at, a.review_status
		FROM reviews r JOIN annotations a ON a.id = r.annotation_id
		WHERE a.image_id IN (`+placeholders(len(imageIDs))+`) AND r.withdrawn_at = '' ORDER BY r.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r Review
		var at, status string
		if err := rows.Scan(&r.AnnotationID, &r.Version, &r.Reviewer, &r.Decision, &r.Reason, &at, &status); err != nil {
			return nil, err
		}
		r.At = parseTime(at)
		if r.Decision == status {
			out[r.AnnotationID] = r
		} else {
			delete(out, r.AnnotationID)
		}
	}
	return out, rows.Err()
}

// ReviewCounts counts an image's annotations by review state (every state present, zero
// or not).
func (s *Store) ReviewCounts(ctx context.Context, imageID string) (map[string]int, error) {
	var kept string
	err := s.db.QueryRowContext(ctx, s.d.keptReviewCounts+`?`, imageID).Scan(&kept)
	counts, _ := parseReviewCounts(kept)
	return counts, err
}

// Comment is a remark on an annotation.
type Comment struct {
	ID           string    `json:"id"`
	AnnotationID string    `json:"annotation_id"`
	ImageID      string    `json:"image_id"`
	Author       string    `json:"author"`
	Body         string    `json:"body"`
	CreatedAt    time.Time `json:"created_at"`
}

// AddComment adds a comment to an annotation (which must exist).
func (s *Store) AddComment(ctx context.Context, actor, annotationID, body string) (Comment, error) {
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return Comment{}, invalid("body", "a comment cannot be empty")
	case !utf8.ValidString(body) || len(body) > maxReasonBytes:
		return Comment{}, invalid("body", "a comment is at most %d bytes of text", maxReasonBytes)
	}
	// Through the group writer, as the annotation writes: a write of its own outside it
	// waited for the writer's transactions in SQLite's busy handler, which polls on a
	// timer (a comment's p99 was half again an edit's under 50 analysts).
	var c Comment
	err := s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var imageID string
		var version int
		err := tx.QueryRowContext(ctx, `SELECT image_id, version FROM annotations
			WHERE id = ? AND image_id IN (SELECT id FROM images WHERE deleted_at = '')`, annotationID).Scan(&imageID, &version)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("annotation: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		c = Comment{ID: newID("cmt"), AnnotationID: annotationID, ImageID: imageID, Author: actor, Body: body, CreatedAt: s.now()}
		_, err = tx.ExecContext(ctx, `INSERT INTO comments (id, annotation_id, image_id, author, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			c.ID, c.AnnotationID, c.ImageID, c.Author, c.Body, formatTime(c.CreatedAt))
		if err != nil {
			return err
		}
		return s.tellTx(ctx, tx, Notice{Type: "comment.created", ImageID: imageID, Actor: actor, ID: annotationID, Version: version, Items: []string{c.ID}})
	})
	if err != nil {
		return Comment{}, err
	}
	return c, nil
}

// Comments returns an annotation's comments, oldest first.
func (s *Store) Comments(ctx context.Context, annotationID string) ([]Comment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, annotation_id, image_id, author, body, created_at FROM comments WHERE annotation_id = ? ORDER BY created_at, id`, annotationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Comment{}
	for rows.Next() {
		var c Comment
		var at string
		if err := rows.Scan(&c.ID, &c.AnnotationID, &c.ImageID, &c.Author, &c.Body, &at); err != nil {
			return nil, err
		}
		c.CreatedAt = parseTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// RestoreAnnotation brings back the annotation as it was at version: as the next version
// when it still exists (current must be its current version, else *StaleVersionError),
// or recreated, with the same id, when it was deleted. Its label must still exist. The
// restore is recorded in the history and the audit log as by's.
func (s *Store) RestoreAnnotation(ctx context.Context, by Actor, id string, version int, current *int) (Annotation, error) {
	actor := by.Name
	tx, err := s.beginRevisions(ctx)
	if err != nil {
		return Annotation{}, err
	}
	defer tx.Rollback()
	var snapshot sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT after FROM revisions WHERE annotation_id = ? AND version = ?`, id, version).Scan(&snapshot)
	if errors.Is(err, sql.ErrNoRows) {
		return Annotation{}, fmt.Errorf("version %d of annotation %s: %w", version, id, ErrNotFound)
	}
	if err != nil {
		return Annotation{}, err
	}
	if !snapshot.Valid {
		return Annotation{}, invalid("version", "version %d is the deletion; restore an earlier version", version)
	}
	var old Annotation
	if err := json.Unmarshal([]byte(snapshot.String), &old); err != nil {
		return Annotation{}, fmt.Errorf("revision %d of %s: %w", version, id, err)
	}
	labels, err := s.labelsTx(ctx, tx)
	if err != nil {
		return Annotation{}, err
	}
	label, ok := labelIndex(labels)[old.Label.ID]
	if !ok {
		return Annotation{}, invalid("label", "the label %q of version %d no longer exists", strings.Join(old.Label.Path, "/"), version)
	}
	if _, _, err := imageExtent(ctx, tx, old.ImageID); err != nil {
		return Annotation{}, err
	}
	geom, _ := json.Marshal(old.Geometry)
	attrs, _ := json.Marshal(old.Attributes)
	now := s.now()
	cur, err := s.annotationTx(ctx, tx, id)
	switch {
	case err == nil:
		if current == nil {
			return Annotation{}, ErrVersionRequired
		}
		if *current != cur.Version {
			return Annotation{}, &StaleVersionError{ID: id, Given: *current, Current: cur.Version}
		}
		next := old
		next.Label, next.ReviewStatus, next.Version = label, ReviewDraft, cur.Version+1
		next.CreatedBy, next.CreatedAt, next.UpdatedBy, next.UpdatedAt = cur.CreatedBy, cur.CreatedAt, actor, now
		if _, err := tx.ExecContext(ctx, `UPDATE annotations SET label_id = ?, shape = ?, geometry = ?, confidence = ?, identification = ?,
				note = ?, attributes = ?, review_status = ?, updated_by = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
			label.ID, next.Shape, geom, next.Confidence, next.Identification, next.Note, attrs, next.ReviewStatus, actor,
			formatTime(now), next.Version, id, cur.Version); err != nil {
			return Annotation{}, err
		}
		if err := s.writeRevision(ctx, tx, "update", actor, &cur, &next); err != nil {
			return Annotation{}, err
		}
		return next, s.commitRestore(ctx, tx, by, version, next)
	case errors.Is(err, ErrNotFound):
		var last int
		if err := tx.QueryRowContext(ctx, `SELECT MAX(version) FROM revisions WHERE annotation_id = ?`, id).Scan(&last); err != nil {
			return Annotation{}, err
		}
		next := old
		next.Label, next.ReviewStatus, next.Version, next.UpdatedBy, next.UpdatedAt = label, ReviewDraft, last+1, actor, now
		if _, err := tx.ExecContext(ctx, `INSERT INTO annotations (id, image_id, label_id, shape, geometry, confidence, identification, note,
				attributes, review_status, created_by, created_at, updated_by, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, next.ImageID, label.ID, next.Shape, geom, next.Confidence, next.Identification, next.Note, attrs, next.ReviewStatus,
			next.CreatedBy, formatTime(next.CreatedAt), actor, formatTime(now), next.Version); err != nil {
			return Annotation{}, err
		}
		if err := s.writeRevision(ctx, tx, "create", actor, nil, &next); err != nil {
			return Annotation{}, err
		}
		return next, s.commitRestore(ctx, tx, by, version, next)
	default:
		return Annotation{}, err
	}
}

// commitRestore audits the restore of version as next and commits.
func (s *Store) commitRestore(ctx context.Context, tx *sql.Tx, by Actor, version int, next Annotation) error {
	if err := s.audit(ctx, tx, by, "annotation.restore", "annotation", next.ID,
		fmt.Sprintf("version %d restored as version %d", version, next.Version)); err != nil {
		return err
	}
	return tx.Commit()
}

package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Suggestions: places a search found that look like one annotation, proposed and not yet
// of record. An analyst accepts each (it becomes an annotation, drawn as by them) or
// rejects it; until then it is in no export, list of annotations or count.

// The states of a suggestion.
const (
	SuggestionPending  = "pending"
	SuggestionAccepted = "accepted"
	SuggestionRejected = "rejected"
)

// MaxSuggestionsPerSearch bounds the suggestions one search stores.
const MaxSuggestionsPerSearch = 200

// Suggestion is one proposed annotation: where, of which label, how like its source
// annotation (Score, up to 1) and turned by how much from it, and what became of it.
type Suggestion struct {
	ID                 string     `json:"id"`
	ImageID            string     `json:"image_id"`
	Label              Label      `json:"label"`
	Shape              Shape      `json:"shape"`
	Geometry           Geometry   `json:"geometry"`
	Score              float64    `json:"score"`
	Rotation           float64    `json:"rotation"` // degrees, clockwise on screen, from the source annotation
	SourceAnnotationID string     `json:"source_annotation_id"`
	Status             string     `json:"status"`
	CreatedBy          string     `json:"created_by"`
	CreatedAt          time.Time  `json:"created_at"`
	DecidedBy          string     `json:"decided_by,omitempty"`
	DecidedAt          *time.Time `json:"decided_at,omitempty"`
	AnnotationID       string     `json:"annotation_id,omitempty"` // the annotation an accepted suggestion became
}

// FoundPlace is a place a search found, to store as a suggestion.
type FoundPlace struct {
	Shape    Shape
	Geometry Geometry
	Score    float64
	Rotation float64
}

// AddSuggestions stores the places a search from the annotation source found as pending
// suggestions of its label, with an audit entry (suggestion.search) as by's, all in one
// transaction. Every place must be a valid geometry of its shape on the image (else a
// ValidationError naming it, and nothing is stored); at most MaxSuggestionsPerSearch.
func (s *Store) AddSuggestions(ctx context.Context, by Actor, source Annotation, found []FoundPlace) ([]Suggestion, error) {
	if len(found) > MaxSuggestionsPerSearch {
		return nil, invalid("max", "%d suggestions from one search; at most %d", len(found), MaxSuggestionsPerSearch)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	img, err := s.imageWhere(ctx, tx, "i.id = ?", source.ImageID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Suggestion, 0, len(found))
	for i, f := range found {
		if err := f.Geometry.Validate(f.Shape, img.Width, img.Height); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				ve.Field = fmt.Sprintf("suggestions[%d].%s", i, ve.Field)
			}
			return nil, err
		}
		if !(f.Score >= -1 && f.Score <= 1) || !finite(f.Rotation) {
			return nil, invalid(fmt.Sprintf("suggestions[%d].score", i), "a score is a correlation, -1 to 1, not %g", f.Score)
		}
		sg := Suggestion{ID: newID("sug"), ImageID: img.ID, Label: source.Label, Shape: f.Shape, Geometry: f.Geometry,
			Score: f.Score, Rotation: f.Rotation, SourceAnnotationID: source.ID, Status: SuggestionPending,
			CreatedBy: by.Name, CreatedAt: now}
		geom, _ := json.Marshal(sg.Geometry)
		if _, err := tx.ExecContext(ctx, `INSERT INTO suggestions (id, image_id, label_id, shape, geometry, score, rotation,
				source_annotation_id, status, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sg.ID, sg.ImageID, sg.Label.ID, sg.Shape, geom, sg.Score, sg.Rotation, sg.SourceAnnotationID, sg.Status,
			sg.CreatedBy, formatTime(now)); err != nil {
			return nil, fmt.Errorf("insert suggestion: %w", err)
		}
		out = append(out, sg)
	}
	detail := fmt.Sprintf("%d suggestions of %s like annotation %s on image %s", len(out), strings.Join(source.Label.Path, "/"), source.ID, img.ID)
	if err := s.audit(ctx, tx, by, "suggestion.search", "annotation", source.ID, detail); err != nil {
		return nil, err
	}
	n := Notice{Type: "suggestion.created", ImageID: source.ImageID, Actor: by.Name, ID: source.ID}
	for _, sg := range out {
		n.Items = append(n.Items, sg.ID)
	}
	if err := s.tellTx(ctx, tx, n); err != nil {
		return nil, err
	}
	return out, tx.Commit()
}

// Suggestions returns an image's suggestions in the given state ("" for all), the best
// first; ErrNotFound for an image that does not exist or is in the trash, a
// ValidationError for a state that is not one.
func (s *Store) Suggestions(ctx context.Context, imageID, status string) ([]Suggestion, error) {
	switch status {
	case "", SuggestionPending, SuggestionAccepted, SuggestionRejected:
	default:
		return nil, malformed("status", "%q is not a suggestion's state: pending, accepted or rejected", status)
	}
	if _, err := s.imageWhere(ctx, s.db, "i.id = ?", imageID); err != nil {
		return nil, err
	}
	labels, err := s.labelsTx(ctx, s.db)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + suggestionColumns + ` FROM suggestions WHERE image_id = ?`
	args := []any{imageID}
	if status != "" {
		q += ` AND status = ?`
		args = append(args, status)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY score DESC, created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	idx := labelIndex(labels)
	out := []Suggestion{}
	for rows.Next() {
		sg, err := scanSuggestion(rows, idx)
		if err != nil {
			return nil, err
		}
		out = append(out, sg)
	}
	return out, rows.Err()
}

// Suggestion returns one suggestion, or ErrNotFound (also when its image is in the trash).
func (s *Store) Suggestion(ctx context.Context, id string) (Suggestion, error) {
	return s.suggestionTx(ctx, s.db, id)
}

func (s *Store) suggestionTx(ctx context.Context, q querier, id string) (Suggestion, error) {
	labels, err := s.labelsTx(ctx, q)
	if err != nil {
		return Suggestion{}, err
	}
	sg, err := scanSuggestion(q.QueryRowContext(ctx, `SELECT `+suggestionColumns+` FROM suggestions
		WHERE id = ? AND image_id IN (SELECT id FROM images WHERE deleted_at = '')`, id), labelIndex(labels))
	if errors.Is(err, sql.ErrNoRows) {
		return Suggestion{}, fmt.Errorf("suggestion: %w", ErrNotFound)
	}
	return sg, err
}

// AcceptSuggestion makes a pending suggestion an annotation of its label and geometry,
// created as by's through the same path as a drawn one (version 1 in its history), its
// "suggestion" attribute naming the suggestion, the annotation it was found from and its
// score; the suggestion is marked accepted with the new annotation's id, and the audit log
// says so (suggestion.accept), all in one transaction. A suggestion already decided is
// ErrConflict, saying by whom and when.
func (s *Store) AcceptSuggestion(ctx context.Context, by Actor, id string) (Suggestion, Annotation, error) {
	tx, err := s.beginRevisions(ctx)
	if err != nil {
		return Suggestion{}, Annotation{}, err
	}
	defer tx.Rollback()
	sg, err := s.pendingSuggestionTx(ctx, tx, id)
	if err != nil {
		return Suggestion{}, Annotation{}, err
	}
	width, height, err := imageExtent(ctx, tx, sg.ImageID)
	if err != nil {
		return Suggestion{}, Annotation{}, err
	}
	label, shape := sg.Label.ID, sg.Shape
	geom, _ := json.Marshal(sg.Geometry)
	props, _ := json.Marshal(map[string]any{"suggestion": map[string]any{
		"id": sg.ID, "source_annotation": sg.SourceAnnotationID, "score": roundScore(sg.Score), "found_by": sg.CreatedBy,
	}})
	a, err := s.createAnnotationTx(ctx, tx, by.Name, sg.ImageID, width, height, func(ref string) (Label, error) { return s.resolveLabelTx(ctx, tx, ref) }, AnnotationInput{Label: &label, Shape: &shape, Geometry: geom, Properties: props})
	if err != nil {
		return Suggestion{}, Annotation{}, err
	}
	if sg, err = s.decideTx(ctx, tx, by, sg, SuggestionAccepted, a.ID); err != nil {
		return Suggestion{}, Annotation{}, err
	}
	detail := fmt.Sprintf("annotation %s of %s on image %s, from a suggestion like annotation %s (score %.2f)",
		a.ID, strings.Join(sg.Label.Path, "/"), sg.ImageID, sg.SourceAnnotationID, sg.Score)
	if err := s.audit(ctx, tx, by, "suggestion.accept", "suggestion", sg.ID, detail); err != nil {
		return Suggestion{}, Annotation{}, err
	}
	return sg, a, tx.Commit()
}

// RejectSuggestion marks a pending suggestion rejected by by, audited (suggestion.reject)
// in the same transaction. A suggestion already decided is ErrConflict.
func (s *Store) RejectSuggestion(ctx context.Context, by Actor, id string) (Suggestion, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Suggestion{}, err
	}
	defer tx.Rollback()
	sg, err := s.pendingSuggestionTx(ctx, tx, id)
	if err != nil {
		return Suggestion{}, err
	}
	if sg, err = s.decideTx(ctx, tx, by, sg, SuggestionRejected, ""); err != nil {
		return Suggestion{}, err
	}
	detail := fmt.Sprintf("%s on image %s, like annotation %s (score %.2f)", strings.Join(sg.Label.Path, "/"), sg.ImageID, sg.SourceAnnotationID, sg.Score)
	if err := s.audit(ctx, tx, by, "suggestion.reject", "suggestion", sg.ID, detail); err != nil {
		return Suggestion{}, err
	}
	return sg, tx.Commit()
}

// ReopenSuggestion takes back by's own decision on a suggestion, for an undo: it is
// pending again, and the annotation an accepted one became is deleted (in its history as
// by's), audited (suggestion.reopen), all in one transaction. It returns the suggestion
// and, for an accepted one, the annotation as it was before its deletion. ErrConflict
// when the suggestion is pending, was decided by someone else, or its annotation was
// deleted or changed by anyone else since (an undo must not take back what others did).
func (s *Store) ReopenSuggestion(ctx context.Context, by Actor, id string) (Suggestion, *Annotation, error) {
	tx, err := s.beginRevisions(ctx)
	if err != nil {
		return Suggestion{}, nil, err
	}
	defer tx.Rollback()
	sg, err := s.suggestionTx(ctx, tx, id)
	if err != nil {
		return sg, nil, err
	}
	switch {
	case sg.Status == SuggestionPending:
		return sg, nil, fmt.Errorf("suggestion %s is pending: there is no decision to take back: %w", sg.ID, ErrConflict)
	case sg.DecidedBy != by.Name:
		return sg, nil, fmt.Errorf("suggestion %s was %s by %s: only whoever decided a suggestion takes the decision back: %w", sg.ID, sg.Status, sg.DecidedBy, ErrConflict)
	}
	var gone *Annotation
	if sg.AnnotationID != "" {
		a, err := s.annotationTx(ctx, tx, sg.AnnotationID)
		if errors.Is(err, ErrNotFound) {
			return sg, nil, fmt.Errorf("annotation %s, which suggestion %s became, was deleted since: %w", sg.AnnotationID, sg.ID, ErrConflict)
		}
		if err != nil {
			return sg, nil, err
		}
		// Its accepter's own later changes go with it; anyone else's keep it.
		var other string
		var version int
		err = tx.QueryRowContext(ctx, `SELECT actor, version FROM revisions WHERE annotation_id = ? AND actor != ? ORDER BY version DESC LIMIT 1`,
			a.ID, by.Name).Scan(&other, &version)
		if err == nil {
			return sg, nil, fmt.Errorf("%s changed annotation %s (version %d) since suggestion %s became it: the acceptance can no longer be taken back: %w",
				other, a.ID, version, sg.ID, ErrConflict)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return sg, nil, err
		}
		if err := s.deleteAuditedTx(ctx, tx, by, a); err != nil {
			return sg, nil, err
		}
		gone = &a
	}
	res, err := tx.ExecContext(ctx, `UPDATE suggestions SET status = 'pending', decided_by = '', decided_at = '', annotation_id = ''
		WHERE id = ? AND status = ? AND decided_by = ?`, sg.ID, sg.Status, by.Name)
	if err != nil {
		return sg, nil, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sg, nil, fmt.Errorf("suggestion %s was changed meanwhile: %w", sg.ID, ErrConflict)
	}
	detail := fmt.Sprintf("%s decision taken back: %s on image %s is pending again", sg.Status, strings.Join(sg.Label.Path, "/"), sg.ImageID)
	if err := s.audit(ctx, tx, by, "suggestion.reopen", "suggestion", sg.ID, detail); err != nil {
		return sg, nil, err
	}
	sg.Status, sg.DecidedBy, sg.DecidedAt, sg.AnnotationID = SuggestionPending, "", nil, ""
	if err := s.tellTx(ctx, tx, suggestionNotice(by, sg)); err != nil {
		return sg, nil, err
	}
	return sg, gone, tx.Commit()
}

// pendingSuggestionTx is the suggestion id if it is still pending; ErrConflict saying who
// decided it when it is not.
func (s *Store) pendingSuggestionTx(ctx context.Context, tx *sql.Tx, id string) (Suggestion, error) {
	sg, err := s.suggestionTx(ctx, tx, id)
	if err != nil {
		return sg, err
	}
	if sg.Status != SuggestionPending {
		what := sg.Status
		if sg.AnnotationID != "" {
			what += " as annotation " + sg.AnnotationID
		}
		return sg, fmt.Errorf("suggestion %s was already %s by %s at %s: a suggestion is decided once: %w",
			sg.ID, what, sg.DecidedBy, sg.DecidedAt.Format(time.RFC3339), ErrConflict)
	}
	return sg, nil
}

// decideTx records the decision on the pending suggestion sg.
func (s *Store) decideTx(ctx context.Context, tx *sql.Tx, by Actor, sg Suggestion, status, annotationID string) (Suggestion, error) {
	now := s.now()
	res, err := tx.ExecContext(ctx, `UPDATE suggestions SET status = ?, decided_by = ?, decided_at = ?, annotation_id = ?
		WHERE id = ? AND status = 'pending'`, status, by.Name, formatTime(now), annotationID, sg.ID)
	if err != nil {
		return sg, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return sg, fmt.Errorf("suggestion %s was decided meanwhile: %w", sg.ID, ErrConflict)
	}
	sg.Status, sg.DecidedBy, sg.DecidedAt, sg.AnnotationID = status, by.Name, &now, annotationID
	return sg, s.tellTx(ctx, tx, suggestionNotice(by, sg))
}

// suggestionNotice is the notice of a suggestion decided or pending again.
func suggestionNotice(by Actor, sg Suggestion) Notice {
	return Notice{Type: "suggestion.updated", ImageID: sg.ImageID, Actor: by.Name, ID: sg.ID}
}

// roundScore keeps a score's first three decimals, as an attribute shows it.
func roundScore(v float64) float64 { return math.Round(v*1000) / 1000 }

const suggestionColumns = `id, image_id, label_id, shape, geometry, score, rotation, source_annotation_id, status,
	created_by, created_at, decided_by, decided_at, annotation_id`

func scanSuggestion(row scanner, labels map[string]Label) (Suggestion, error) {
	var sg Suggestion
	var labelID, geom, created, decided string
	if err := row.Scan(&sg.ID, &sg.ImageID, &labelID, &sg.Shape, &geom, &sg.Score, &sg.Rotation, &sg.SourceAnnotationID,
		&sg.Status, &sg.CreatedBy, &created, &sg.DecidedBy, &decided, &sg.AnnotationID); err != nil {
		return Suggestion{}, err
	}
	sg.Label = labels[labelID]
	if err := sg.Geometry.UnmarshalJSON([]byte(geom)); err != nil {
		return Suggestion{}, fmt.Errorf("suggestion %s: stored geometry: %w", sg.ID, err)
	}
	sg.CreatedAt = parseTime(created)
	if decided != "" {
		t := parseTime(decided)
		sg.DecidedAt = &t
	}
	return sg, nil
}

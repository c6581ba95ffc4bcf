package annotations

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Confidence is how sure the analyst is of an identification.
type Confidence string

// The confidences an analyst can give. The empty confidence means "not stated".
const (
	Confirmed Confidence = "confirmed"
	Probable  Confidence = "probable"
	Possible  Confidence = "possible"
)

// Annotation is a labelled region of an image, in the image's pixel space.
type Annotation struct {
	ID             string
	ImageID        string
	Label          Label
	Shape          Shape
	Geometry       Geometry
	Confidence     Confidence
	Identification string // e.g. "Ropucha-class landing ship"
	Note           string
	Attributes     map[string]json.RawMessage // every other property the analyst set
	ReviewStatus   string
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedBy      string
	UpdatedAt      time.Time
	Version        int
	// Ground is the annotation's size on the earth, when a caller that knows the image's
	// georeference has filled it in. It is not stored.
	Ground Ground
	// Decision is the review decision that put the annotation in its review state (who
	// submitted, accepted, disputed or rejected it, when and why), when an export has
	// filled it in from LatestDecisions. It is not stored with the annotation.
	Decision *Review
	// Track is the object the annotation follows across images, when an export has
	// filled it in from TrackRefs. It is not stored with the annotation.
	Track *TrackRef
	// Evidence lists the claims the annotation is evidence for, when an export has
	// filled it in from EvidenceOf. It is not stored with the annotation.
	Evidence []EvidenceRef
}

// Properties returns the annotation's properties as the API shows them: confidence,
// identification and note beside the free attributes.
func (a Annotation) Properties() map[string]any {
	p := make(map[string]any, len(a.Attributes)+3)
	for k, v := range a.Attributes {
		p[k] = v
	}
	p["confidence"] = string(a.Confidence)
	p["identification"] = a.Identification
	p["note"] = a.Note
	return p
}

type annotationJSON struct {
	ID           string         `json:"id"`
	ImageID      string         `json:"image_id"`
	Label        Label          `json:"label"`
	Shape        Shape          `json:"shape"`
	Geometry     Geometry       `json:"geometry"`
	Properties   map[string]any `json:"properties"`
	Measures     Measures       `json:"measures"`
	ReviewStatus string         `json:"review_status"`
	CreatedBy    string         `json:"created_by"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedBy    string         `json:"updated_by"`
	UpdatedAt    time.Time      `json:"updated_at"`
	Version      int            `json:"version"`
}

// MarshalJSON writes the API representation: annotationJSON, as encoding/json writes it
// (see appendJSON).
func (a Annotation) MarshalJSON() ([]byte, error) {
	return a.appendJSON(make([]byte, 0, 512))
}

// AppendJSON appends the annotation's API representation (what MarshalJSON returns) to
// b: how a long list is written without a buffer per annotation.
func (a Annotation) AppendJSON(b []byte) ([]byte, error) { return a.appendJSON(b) }

// UnmarshalJSON reads the API representation (as stored in revisions).
func (a *Annotation) UnmarshalJSON(data []byte) error {
	var v struct {
		annotationJSON
		Properties map[string]json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*a = Annotation{ID: v.ID, ImageID: v.ImageID, Label: v.Label, Shape: v.Shape, Geometry: v.Geometry,
		ReviewStatus: v.ReviewStatus, CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt, UpdatedBy: v.UpdatedBy,
		UpdatedAt: v.UpdatedAt, Version: v.Version}
	return a.applyProperties(v.Properties)
}

// AnnotationInput creates or changes an annotation. Label is a label id, path or unique
// name. Geometry is GeoJSON in pixel space. Properties is a JSON object: confidence,
// identification and note are recognised, anything else is kept as an attribute; in an
// update it is a JSON merge patch (RFC 7396), so a null removes a property, nested
// objects included. Version is
// the version an update is based on.
type AnnotationInput struct {
	Label      *string         `json:"label"`
	Shape      *Shape          `json:"shape"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
	Version    *int            `json:"version"`
}

// MaxPropertiesBytes bounds an annotation's properties as JSON.
const MaxPropertiesBytes = 64 << 10

func parseProperties(raw json.RawMessage) (map[string]json.RawMessage, error) {
	if len(raw) > MaxPropertiesBytes {
		return nil, invalid("properties", "are %d bytes; the limit is %d (64 KiB)", len(raw), MaxPropertiesBytes)
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]json.RawMessage{}, nil
	}
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, invalid("properties", "must be a JSON object")
	}
	return m, nil
}

// applyProperties sets confidence, identification and note from p and keeps the rest
// as attributes. A null value removes the property.
func (a *Annotation) applyProperties(p map[string]json.RawMessage) error {
	if a.Attributes == nil {
		a.Attributes = map[string]json.RawMessage{}
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := p[k]
		isNull := string(bytes.TrimSpace(v)) == "null"
		switch k {
		case "confidence", "identification", "note":
			var s string
			if !isNull && json.Unmarshal(v, &s) != nil {
				return invalid("properties."+k, "must be a string")
			}
			switch k {
			case "confidence":
				c := Confidence(strings.ToLower(strings.TrimSpace(s)))
				if c != "" && c != Confirmed && c != Probable && c != Possible {
					return invalid("properties.confidence", "%q is not one of confirmed, probable, possible", s)
				}
				a.Confidence = c
			case "identification":
				a.Identification = s
			case "note":
				a.Note = s
			}
		default:
			if isNull {
				delete(a.Attributes, k)
				continue
			}
			merged, err := mergePatch(a.Attributes[k], v)
			if err != nil {
				return invalid("properties."+k, "is not valid JSON")
			}
			a.Attributes[k] = merged
		}
	}
	if b, _ := a.appendProperties(nil); len(b) > MaxPropertiesBytes {
		return invalid("properties", "would be %d bytes; the limit is %d (64 KiB)", len(b), MaxPropertiesBytes)
	}
	return nil
}

// mergePatch applies an RFC 7396 JSON merge patch to target (nil when absent) and
// returns the result, compacted.
func mergePatch(target, patch json.RawMessage) (json.RawMessage, error) {
	// A plain value over nothing is itself, as encoding/json would write it again.
	if len(target) == 0 {
		if v, ok := plainJSON(patch); ok {
			return v, nil
		}
	}
	var p any
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	var t any
	if len(target) > 0 {
		dec := json.NewDecoder(bytes.NewReader(target))
		dec.UseNumber()
		if err := dec.Decode(&t); err != nil {
			return nil, err
		}
	}
	return json.Marshal(mergeValue(t, p))
}

// plainJSON returns v trimmed when it is a JSON value that decoding and encoding again
// would leave as it is: true, false, a number, or a string of printable ASCII without
// escapes or the characters encoding/json escapes for HTML.
func plainJSON(v json.RawMessage) (json.RawMessage, bool) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0:
		return nil, false
	case string(v) == "true" || string(v) == "false":
		return v, true
	case v[0] == '"':
		if len(v) < 2 || v[len(v)-1] != '"' {
			return nil, false
		}
		for _, c := range v[1 : len(v)-1] {
			if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return nil, false
			}
		}
		return v, true
	}
	sc := geometryScanner{b: v}
	if _, ok := sc.number(); ok && sc.i == len(v) {
		return v, true
	}
	return nil, false
}

func mergeValue(target, patch any) any {
	po, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	to, ok := target.(map[string]any)
	if !ok {
		to = map[string]any{}
	}
	for k, v := range po {
		if v == nil {
			delete(to, k)
		} else {
			to[k] = mergeValue(to[k], v)
		}
	}
	return to
}

func parseGeometry(raw json.RawMessage) (Geometry, error) {
	var g Geometry
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return g, invalid("geometry", "is required")
	}
	err := g.UnmarshalJSON(raw)
	return g, err
}

// AnnotationFilter selects annotations. Empty lists select everything; LabelIDs also
// match every label below the given ones.
type AnnotationFilter struct {
	ImageIDs []string
	LabelIDs []string
	// Statuses keeps annotations in these review states (e.g. only "accepted").
	Statuses []string
}

// CreateAnnotation validates in against the image and the taxonomy and stores it as
// version 1, recording the creation in the history in the same transaction.
func (s *Store) CreateAnnotation(ctx context.Context, actor, imageID string, in AnnotationInput) (Annotation, error) {
	anns, err := s.CreateAnnotations(ctx, actor, imageID, []AnnotationInput{in})
	if err != nil {
		return Annotation{}, err
	}
	return anns[0], nil
}

// CreateAnnotations creates several annotations on one image in one transaction, all or
// none (a paste of many): each is checked as CreateAnnotation checks one, and the first
// refusal refuses them all, its field prefixed with the input's place
// ("annotations[2].geometry") when there are several.
func (s *Store) CreateAnnotations(ctx context.Context, actor, imageID string, ins []AnnotationInput) ([]Annotation, error) {
	var out []Annotation
	err := s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		out, err = s.createAnnotationsTx(ctx, tx, actor, imageID, ins)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) createAnnotationsTx(ctx context.Context, tx *sql.Tx, actor, imageID string, ins []AnnotationInput) ([]Annotation, error) {
	width, height, err := imageExtent(ctx, tx, imageID)
	if err != nil {
		return nil, err
	}
	labels, index, err := s.sharedLabels(ctx, tx)
	if err != nil {
		return nil, err
	}
	resolve := func(ref string) (Label, error) { return resolveLabelIndexed(labels, index, ref) }
	out := make([]Annotation, 0, len(ins))
	for i, in := range ins {
		a, err := s.createAnnotationTx(ctx, tx, actor, imageID, width, height, resolve, in)
		if err != nil {
			var ve *ValidationError
			if len(ins) > 1 && errors.As(err, &ve) {
				ve.Field = fmt.Sprintf("annotations[%d].%s", i, ve.Field)
			}
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// createAnnotationTx checks in against the image (its id and size) and the taxonomy
// (resolve finds a label by its reference, as ResolveLabel does) and stores it as
// version 1 with its revision.
func (s *Store) createAnnotationTx(ctx context.Context, tx *sql.Tx, actor, imageID string, width, height int, resolve func(ref string) (Label, error), in AnnotationInput) (Annotation, error) {
	if in.Label == nil {
		return Annotation{}, invalid("label", "is required")
	}
	label, err := resolve(*in.Label)
	if err != nil {
		return Annotation{}, err
	}
	a, err := s.newAnnotation(actor, imageID, width, height, label, in)
	if err != nil {
		return Annotation{}, err
	}
	return a, s.insertAnnotationTx(ctx, tx, a)
}

// insertAnnotationTx stores a, checked by newAnnotation, as version 1 with its revision:
// createAnnotationTx's writes, after all its checks.
func (s *Store) insertAnnotationTx(ctx context.Context, tx *sql.Tx, a Annotation) error {
	if err := s.insertAnnotationRowTx(ctx, tx, a); err != nil {
		return err
	}
	return s.writeRevision(ctx, tx, "create", a.CreatedBy, nil, &a)
}

// insertAnnotationRowTx stores a's row, without its revision.
func (s *Store) insertAnnotationRowTx(ctx context.Context, tx *sql.Tx, a Annotation) error {
	// MarshalJSON directly: json.Marshal would compact its output once more.
	geom, _ := a.Geometry.MarshalJSON()
	attrs, _ := json.Marshal(a.Attributes)
	if _, err := tx.ExecContext(ctx, `INSERT INTO annotations (id, image_id, label_id, shape, geometry, confidence, identification, note,
			attributes, review_status, created_by, created_at, updated_by, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.ImageID, a.Label.ID, a.Shape, geom, a.Confidence, a.Identification, a.Note, attrs, a.ReviewStatus,
		a.CreatedBy, formatTime(a.CreatedAt), a.UpdatedBy, formatTime(a.UpdatedAt), a.Version); err != nil {
		return fmt.Errorf("insert annotation: %w", err)
	}
	return nil
}

// newAnnotation checks in's shape, geometry and properties against the image (its id
// and size) and returns the annotation they make with label, as version 1 by actor.
// Nothing is stored.
func (s *Store) newAnnotation(actor, imageID string, width, height int, label Label, in AnnotationInput) (Annotation, error) {
	return s.newAnnotationWith(actor, imageID, width, height, label, in, nil)
}

// newAnnotationWith is newAnnotation with in's properties already parsed into props,
// unless props is nil.
func (s *Store) newAnnotationWith(actor, imageID string, width, height int, label Label, in AnnotationInput, props map[string]json.RawMessage) (Annotation, error) {
	if in.Shape == nil {
		return Annotation{}, invalid("shape", "is required (point, line, polygon, rectangle or rotated_rectangle)")
	}
	g, err := parseGeometry(in.Geometry)
	if err != nil {
		return Annotation{}, err
	}
	if err := g.Validate(*in.Shape, width, height); err != nil {
		return Annotation{}, err
	}
	if props == nil {
		if props, err = parseProperties(in.Properties); err != nil {
			return Annotation{}, err
		}
	}
	now := s.now()
	a := Annotation{ID: newUUID(), ImageID: imageID, Label: label, Shape: *in.Shape, Geometry: g, ReviewStatus: "draft",
		CreatedBy: actor, CreatedAt: now, UpdatedBy: actor, UpdatedAt: now, Version: 1}
	if err := a.applyProperties(props); err != nil {
		return Annotation{}, err
	}
	return a, nil
}

// UpdateAnnotation applies in to the annotation if in.Version is its current version,
// stores the result as the next version and records the change in the history in the
// same transaction. A missing version is ErrVersionRequired, an old one a
// *StaleVersionError. An update that changes nothing returns the annotation unchanged.
func (s *Store) UpdateAnnotation(ctx context.Context, actor, id string, in AnnotationInput) (Annotation, error) {
	var next Annotation
	err := s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		next, err = s.updateAnnotationTx(ctx, tx, actor, id, in)
		return err
	})
	if err != nil {
		return Annotation{}, err
	}
	return next, nil
}

func (s *Store) updateAnnotationTx(ctx context.Context, tx *sql.Tx, actor, id string, in AnnotationInput) (Annotation, error) {
	cur, err := s.annotationTx(ctx, tx, id)
	if err != nil {
		return Annotation{}, err
	}
	if in.Version == nil {
		return Annotation{}, ErrVersionRequired
	}
	if *in.Version != cur.Version {
		return Annotation{}, &StaleVersionError{ID: id, Given: *in.Version, Current: cur.Version}
	}
	return s.updateTx(ctx, tx, actor, cur, in)
}

// updateTx applies in to cur (whose version the caller has checked) in tx, storing the
// result as the next version with its revision. It returns cur when nothing changes.
func (s *Store) updateTx(ctx context.Context, tx *sql.Tx, actor string, cur Annotation, in AnnotationInput) (Annotation, error) {
	var err error
	id := cur.ID
	next := cur
	next.Attributes = make(map[string]json.RawMessage, len(cur.Attributes))
	for k, v := range cur.Attributes {
		next.Attributes[k] = v
	}
	if in.Label != nil {
		if next.Label, err = s.resolveLabelTx(ctx, tx, *in.Label); err != nil {
			return Annotation{}, err
		}
	}
	if in.Shape != nil {
		next.Shape = *in.Shape
	}
	if len(in.Geometry) > 0 {
		if next.Geometry, err = parseGeometry(in.Geometry); err != nil {
			return Annotation{}, err
		}
	}
	if in.Shape != nil || len(in.Geometry) > 0 {
		width, height, err := imageExtent(ctx, tx, cur.ImageID)
		if err != nil {
			return Annotation{}, err
		}
		if err := next.Geometry.Validate(next.Shape, width, height); err != nil {
			return Annotation{}, err
		}
	}
	if len(in.Properties) > 0 {
		props, err := parseProperties(in.Properties)
		if err != nil {
			return Annotation{}, err
		}
		if err := next.applyProperties(props); err != nil {
			return Annotation{}, err
		}
	}
	if len(describeChanges(&cur, &next)) == 0 {
		return cur, nil
	}
	// A review is of the version it saw: a changed annotation is a draft again.
	next.ReviewStatus = ReviewDraft
	next.Version = cur.Version + 1
	next.UpdatedBy, next.UpdatedAt = actor, s.now()
	geom, _ := json.Marshal(next.Geometry)
	attrs, _ := json.Marshal(next.Attributes)
	res, err := tx.ExecContext(ctx, `UPDATE annotations SET label_id = ?, shape = ?, geometry = ?, confidence = ?, identification = ?,
			note = ?, attributes = ?, review_status = ?, updated_by = ?, updated_at = ?, version = ?
		WHERE id = ? AND version = ?`,
		next.Label.ID, next.Shape, geom, next.Confidence, next.Identification, next.Note, attrs, next.ReviewStatus, next.UpdatedBy,
		formatTime(next.UpdatedAt), next.Version, id, cur.Version)
	if err != nil {
		return Annotation{}, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return Annotation{}, &StaleVersionError{ID: id, Given: cur.Version, Current: cur.Version + 1}
	}
	if err := s.writeRevision(ctx, tx, "update", actor, &cur, &next); err != nil {
		return Annotation{}, err
	}
	return next, nil
}

// DeleteAnnotation removes an annotation, recording it in the history and the audit log
// as by's. As with an update, a missing version is ErrVersionRequired and an old one a
// *StaleVersionError.
func (s *Store) DeleteAnnotation(ctx context.Context, by Actor, id string, version *int) error {
	_, err := s.DeleteAnnotationReturning(ctx, by, id, version)
	return err
}

// DeleteAnnotationReturning is DeleteAnnotation, returning the annotation as it was
// when deleted.
func (s *Store) DeleteAnnotationReturning(ctx context.Context, by Actor, id string, version *int) (Annotation, error) {
	var gone Annotation
	err := s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
		cur, err := s.annotationTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if version == nil {
			return ErrVersionRequired
		}
		if *version != cur.Version {
			return &StaleVersionError{ID: id, Given: *version, Current: cur.Version}
		}
		gone = cur
		return s.deleteAuditedTx(ctx, tx, by, cur)
	})
	if err != nil {
		return Annotation{}, err
	}
	return gone, nil
}

// deleteAuditedTx deletes cur in tx with its revision and its audit entry as by's.
func (s *Store) deleteAuditedTx(ctx context.Context, tx *sql.Tx, by Actor, cur Annotation) error {
	if err := s.deleteAnnotationTx(ctx, tx, by.Name, cur); err != nil {
		return err
	}
	detail := fmt.Sprintf("%s on image %s (version %d)", strings.Join(cur.Label.Path, "/"), cur.ImageID, cur.Version)
	return s.audit(ctx, tx, by, "annotation.delete", "annotation", cur.ID, detail)
}

func (s *Store) deleteAnnotationTx(ctx context.Context, tx *sql.Tx, actor string, cur Annotation) error {
	// The version read is the one deleted: a write that got in between (another
	// process's, were the revision turn ever skipped) makes this a stale version.
	res, err := tx.ExecContext(ctx, `DELETE FROM annotations WHERE id = ? AND version = ?`, cur.ID, cur.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &StaleVersionError{ID: cur.ID, Given: cur.Version, Current: cur.Version + 1}
	}
	return s.writeRevision(ctx, tx, "delete", actor, &cur, nil)
}

func (s *Store) writeRevision(ctx context.Context, tx *sql.Tx, action, actor string, before, after *Annotation) error {
	return s.writeRevisionTold(ctx, tx, action, actor, before, after, true)
}

// writeRevisionTold is writeRevision, telling the other processes of the revision in
// the same statement when tell is set (on PostgreSQL); an import, which tells them once
// at its end (importNotices), writes its revisions untold.
func (s *Store) writeRevisionTold(ctx context.Context, tx *sql.Tx, action, actor string, before, after *Annotation, tell bool) error {
	var beforeJSON, afterJSON []byte
	var version int
	var annID, imageID string
	if before != nil {
		beforeJSON, _ = before.MarshalJSON()
		version, annID, imageID = before.Version+1, before.ID, before.ImageID
	}
	if after != nil {
		afterJSON, _ = after.MarshalJSON()
		version, annID, imageID = after.Version, after.ID, after.ImageID
	}
	// The transaction took its turn when it began; taking it again here keeps positions
	// in commit order should a caller not have (processes.go).
	if err := s.revisionTurn(ctx, tx); err != nil {
		return err
	}
	q := `INSERT INTO revisions (annotation_id, image_id, version, action, actor, at, before, after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	args := []any{annID, imageID, version, action, actor, formatTime(s.now()), nullJSON(beforeJSON), nullJSON(afterJSON)}
	if s.d.postgres && tell {
		// The other processes are told in the same statement, delivered on commit
		// (notices.go).
		text, err := revisionNotice(actor, before, after).Text()
		if err != nil {
			return err
		}
		q = `WITH r AS (` + q + ` RETURNING 1) SELECT pg_notify('` + noticeChannel + `', ?) FROM r`
		args = append(args, s.origin+" "+text)
	}
	_, err := tx.ExecContext(ctx, q, args...)
	return err
}

func nullJSON(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// Annotation returns one annotation, or ErrNotFound.
func (s *Store) Annotation(ctx context.Context, id string) (Annotation, error) {
	return s.annotationTx(ctx, s.db, id)
}

func (s *Store) annotationTx(ctx context.Context, q querier, id string) (Annotation, error) {
	labels, err := s.labelIndexTx(ctx, q)
	if err != nil {
		return Annotation{}, err
	}
	a, err := scanAnnotation(q.QueryRowContext(ctx, `SELECT `+annotationColumns+` FROM annotations
		WHERE id = ? AND image_id IN (SELECT id FROM images WHERE deleted_at = '')`, id), labels)
	if errors.Is(err, sql.ErrNoRows) {
		return Annotation{}, fmt.Errorf("annotation: %w", ErrNotFound)
	}
	return a, err
}

// Annotations returns the annotations f selects, by image and then creation time.
func (s *Store) Annotations(ctx context.Context, f AnnotationFilter) ([]Annotation, error) {
	return s.annotationsTx(ctx, s.db, f)
}

func (s *Store) annotationsTx(ctx context.Context, q querier, f AnnotationFilter) ([]Annotation, error) {
	out := []Annotation{}
	err := s.eachAnnotation(ctx, q, f, func(a Annotation) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

// AnnotationLabels returns the labels of the annotations f selects, in the taxonomy's
// order: what an export that styles by label needs before it streams them.
func (s *Store) AnnotationLabels(ctx context.Context, f AnnotationFilter) ([]Label, error) {
	labels, err := s.labelsTx(ctx, s.db)
	if err != nil {
		return nil, err
	}
	where, args := annotationWhere(labels, f)
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT label_id FROM annotations`+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	used := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		used[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []Label{}
	for _, l := range labels {
		if used[l.ID] {
			out = append(out, l)
		}
	}
	return out, nil
}

// AttributeNames returns the names of the free attributes of the annotations f selects,
// sorted: what an export that declares them first (CVAT) needs before it streams the
// annotations, found without reading them.
func (s *Store) AttributeNames(ctx context.Context, f AnnotationFilter) ([]string, error) {
	labels, err := s.labelsTx(ctx, s.db)
	if err != nil {
		return nil, err
	}
	where, args := annotationWhere(labels, f)
	names, err := queryStrings(ctx, s.db, `SELECT DISTINCT j.key FROM annotations, `+s.d.jsonEach("annotations.attributes")+` AS j`+where, args...)
	sort.Strings(names)
	return names, err
}

// annotationWhere is the WHERE clause (with its leading space) and arguments that select
// f's annotations, of images not in the trash.
func annotationWhere(labels []Label, f AnnotationFilter) (string, []any) {
	var where []string
	var args []any
	if len(f.ImageIDs) > 0 {
		where = append(where, "image_id IN ("+placeholders(len(f.ImageIDs))+")")
		for _, id := range f.ImageIDs {
			args = append(args, id)
		}
	}
	if len(f.LabelIDs) > 0 {
		ids := labelAndDescendants(labels, f.LabelIDs)
		where = append(where, "label_id IN ("+placeholders(len(ids))+")")
		for _, id := range ids {
			args = append(args, id)
		}
	}
	if len(f.Statuses) > 0 {
		where = append(where, "review_status IN ("+placeholders(len(f.Statuses))+")")
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	// Annotations of images in the trash are out of sight with their image.
	where = append(where, "image_id IN (SELECT id FROM images WHERE deleted_at = '')")
	return " WHERE " + strings.Join(where, " AND "), args
}

const annotationColumns = `id, image_id, label_id, shape, geometry, confidence, identification, note, attributes, review_status,
	created_by, created_at, updated_by, updated_at, version`

func labelIndex(labels []Label) map[string]Label {
	m := make(map[string]Label, len(labels))
	for _, l := range labels {
		m[l.ID] = l
	}
	return m
}

func scanAnnotation(row scanner, labels map[string]Label) (Annotation, error) {
	var a Annotation
	var labelID, geom, attrs, created, updated string
	if err := row.Scan(&a.ID, &a.ImageID, &labelID, &a.Shape, &geom, &a.Confidence, &a.Identification, &a.Note, &attrs,
		&a.ReviewStatus, &a.CreatedBy, &created, &a.UpdatedBy, &updated, &a.Version); err != nil {
		return Annotation{}, err
	}
	a.Label = labels[labelID]
	var err error
	if a.Geometry, err = storedGeometry([]byte(geom)); err != nil {
		return Annotation{}, fmt.Errorf("annotation %s: stored geometry: %w", a.ID, err)
	}
	if attrs == "{}" {
		a.Attributes = map[string]json.RawMessage{} // as json.Unmarshal makes it, without its cost
	} else if a.Attributes, err = storedAttributes([]byte(attrs)); err != nil {
		return Annotation{}, fmt.Errorf("annotation %s: stored attributes: %w", a.ID, err)
	}
	a.CreatedAt, a.UpdatedAt = parseTime(created), parseTime(updated)
	return a, nil
}

// Revision is one entry of an annotation's history.
type Revision struct {
	AnnotationID string    `json:"annotation_id"`
	Version      int       `json:"version"`
	Action       string    `json:"action"` // create, update or delete
	Actor        string    `json:"actor"`
	At           time.Time `json:"at"`
	Changes      []string  `json:"changes"` // what changed, in words: moved, reshaped, relabelled, …
	// Withdrew is the review decision this version took back (WithdrawReview), if any.
	Withdrew string      `json:"withdrew,omitempty"`
	Before   *Annotation `json:"before"`
	After    *Annotation `json:"after"`
}

// History returns every revision of an annotation, oldest first, including after it was
// deleted. An id that never existed is ErrNotFound.
func (s *Store) History(ctx context.Context, id string) ([]Revision, error) {
	var revs []Revision
	err := s.eachRevision(ctx, "v.annotation_id = ?", id, func(r Revision) error {
		revs = append(revs, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(revs) == 0 {
		return nil, fmt.Errorf("annotation: %w", ErrNotFound)
	}
	return revs, nil
}

// ImageHistory calls each with every revision of every annotation an image has had,
// deleted ones too: by annotation (in id order), oldest version first.
func (s *Store) ImageHistory(ctx context.Context, imageID string, each func(Revision) error) error {
	return s.eachRevision(ctx, "v.image_id = ?", imageID, each)
}

func (s *Store) eachRevision(ctx context.Context, where, arg string, each func(Revision) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT v.annotation_id, v.version, v.action, v.actor, v.at, v.before, v.after,
			COALESCE((SELECT r.decision FROM reviews r WHERE r.annotation_id = v.annotation_id AND r.withdrawn_version = v.version), '')
		FROM revisions v WHERE `+where+` ORDER BY v.annotation_id, v.version`, arg)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r Revision
		var at string
		var before, after sql.NullString
		if err := rows.Scan(&r.AnnotationID, &r.Version, &r.Action, &r.Actor, &at, &before, &after, &r.Withdrew); err != nil {
			return err
		}
		r.At = parseTime(at)
		for _, side := range []struct {
			raw sql.NullString
			dst **Annotation
		}{{before, &r.Before}, {after, &r.After}} {
			if side.raw.Valid {
				var a Annotation
				if err := json.Unmarshal([]byte(side.raw.String), &a); err != nil {
					return fmt.Errorf("revision %d of %s: %w", r.Version, r.AnnotationID, err)
				}
				*side.dst = &a
			}
		}
		r.Changes = describeChanges(r.Before, r.After)
		if r.Withdrew != "" {
			r.Changes = append([]string{"withdrew the " + decisionNouns[r.Withdrew]}, r.Changes...)
		}
		if err := each(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// describeChanges says in words what differs between two versions of an annotation.
func describeChanges(before, after *Annotation) []string {
	switch {
	case before == nil && after == nil:
		return nil
	case before == nil:
		return []string{"created"}
	case after == nil:
		return []string{"deleted"}
	}
	var ch []string
	if before.Label.ID != after.Label.ID {
		ch = append(ch, "relabelled")
	}
	if before.Shape != after.Shape {
		ch = append(ch, "reshaped")
	} else if g := geometryChange(before.Geometry, after.Geometry); g != "" {
		ch = append(ch, g)
	}
	if before.Confidence != after.Confidence {
		ch = append(ch, "confidence")
	}
	if before.Identification != after.Identification {
		ch = append(ch, "identification")
	}
	if before.Note != after.Note {
		ch = append(ch, "note")
	}
	b, _ := json.Marshal(before.Attributes)
	a, _ := json.Marshal(after.Attributes)
	if !bytes.Equal(a, b) {
		ch = append(ch, "attributes")
	}
	if before.ReviewStatus != after.ReviewStatus {
		// A change of content puts reviewed work back to draft: say so.
		ch = append(ch, "review: "+after.ReviewStatus)
	}
	return ch
}

// geometryChange returns "" for the same geometry, "moved" when every position shifted
// by the same offset, and "reshaped" otherwise.
func geometryChange(a, b Geometry) string {
	if a.Type != b.Type || len(a.Coordinates) != len(b.Coordinates) {
		return "reshaped"
	}
	var d Position
	first, same := true, true
	for i := range a.Coordinates {
		if len(a.Coordinates[i]) != len(b.Coordinates[i]) {
			return "reshaped"
		}
		for j := range a.Coordinates[i] {
			delta := Position{b.Coordinates[i][j][0] - a.Coordinates[i][j][0], b.Coordinates[i][j][1] - a.Coordinates[i][j][1]}
			if first {
				d, first = delta, false
			} else if abs(delta[0]-d[0]) > 1e-6 || abs(delta[1]-d[1]) > 1e-6 {
				same = false
			}
		}
	}
	switch {
	case !same:
		return "reshaped"
	case d == Position{}:
		return ""
	}
	return "moved"
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

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

// Claim is one thing a release says, in the publisher's words ("landing ships
// transported troops 8–13 October"), with the time window and the place it claims when it
// names them. A release carries any number of claims; its first is Source.Claim.
type Claim struct {
	ID          string     `json:"id"`
	SourceID    string     `json:"source_id"`
	Text        string     `json:"text"`
	ClaimedFrom string     `json:"claimed_from"` // YYYY-MM-DD or RFC 3339 in UTC; "" when the claim names no time
	ClaimedTo   string     `json:"claimed_to"`
	PlaceName   string     `json:"place_name"`
	Lon         *float64   `json:"lon"` // the claimed place on the earth, WGS 84, when given
	Lat         *float64   `json:"lat"`
	Version     int        `json:"version"`
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedBy   string     `json:"updated_by"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Evidence    []Evidence `json:"evidence"` // oldest first
	State       ClaimState `json:"state,omitempty"`
}

// ClaimState is where a claim stands on its evidence, context aside.
type ClaimState string

// The states a claim is in.
const (
	ClaimUnassessed   ClaimState = "unassessed"   // no evidence for or against it yet
	ClaimSupported    ClaimState = "supported"    // evidence supports it and none contradicts it
	ClaimContradicted ClaimState = "contradicted" // evidence contradicts it and none supports it
	ClaimContested    ClaimState = "contested"    // evidence both supports and contradicts it
)

// stateOf says where a claim stands on evidence.
func stateOf(evidence []Evidence) ClaimState {
	var supports, contradicts bool
	for _, e := range evidence {
		supports = supports || e.Stance == StanceSupports
		contradicts = contradicts || e.Stance == StanceContradicts
	}
	switch {
	case supports && contradicts:
		return ClaimContested
	case supports:
		return ClaimSupported
	case contradicts:
		return ClaimContradicted
	}
	return ClaimUnassessed
}

// Stance is how a piece of evidence bears on a claim.
type Stance string

// The stances evidence takes.
const (
	StanceSupports    Stance = "supports"
	StanceContradicts Stance = "contradicts"
	StanceContext     Stance = "context"
)

// Stances lists the stances in the order a claim's page shows them.
var Stances = []Stance{StanceSupports, StanceContradicts, StanceContext}

// Evidence links an annotation to a claim: what it shows for or against the claim in the
// analyst's assessment, and how confident the analyst is of that (0–1).
type Evidence struct {
	ID           string    `json:"id"`
	ClaimID      string    `json:"claim_id"`
	AnnotationID string    `json:"annotation_id"`
	ImageID      string    `json:"image_id"`
	Stance       Stance    `json:"stance"`
	Assessment   string    `json:"assessment"`
	Confidence   float64   `json:"confidence"`
	Version      int       `json:"version"`
	CreatedBy    string    `json:"created_by"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedBy    string    `json:"updated_by"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// EvidenceRef is what an export says of one claim an annotation is evidence for.
type EvidenceRef struct {
	EvidenceID string  `json:"evidence_id"`
	ClaimID    string  `json:"claim_id"`
	ClaimText  string  `json:"claim_text"`
	Stance     Stance  `json:"stance"`
	Confidence float64 `json:"confidence"`
	Assessment string  `json:"assessment"`
}

// ClaimRef is what an export says of one claim of a release.
type ClaimRef struct {
	ID          string     `json:"id"`
	Text        string     `json:"text"`
	State       ClaimState `json:"state"`
	ClaimedFrom string     `json:"claimed_from,omitempty"`
	ClaimedTo   string     `json:"claimed_to,omitempty"`
	PlaceName   string     `json:"place_name,omitempty"`
	Evidence    int        `json:"evidence"` // how many annotations are linked to it
}

// ClaimRefs returns the claims of a release as exports name them, in the order recorded.
func (s *Store) ClaimRefs(ctx context.Context, sourceID string) ([]ClaimRef, error) {
	cs, err := s.Claims(ctx, ClaimFilter{SourceID: sourceID})
	if err != nil {
		return nil, err
	}
	refs := make([]ClaimRef, len(cs))
	for i, c := range cs {
		refs[i] = ClaimRef{ID: c.ID, Text: c.Text, State: c.State, ClaimedFrom: c.ClaimedFrom, ClaimedTo: c.ClaimedTo,
			PlaceName: c.PlaceName, Evidence: len(c.Evidence)}
	}
	return refs, nil
}

// ClaimInput creates or changes a claim; in an update, nil fields stay as they are and
// an empty date or place name clears it. Lon and Lat go together.
type ClaimInput struct {
	Text        *string  `json:"text"`
	ClaimedFrom *string  `json:"claimed_from"`
	ClaimedTo   *string  `json:"claimed_to"`
	PlaceName   *string  `json:"place_name"`
	Lon         *float64 `json:"lon"`
	Lat         *float64 `json:"lat"`
}

// EvidenceInput links an annotation to a claim or changes the link; in an update nil
// fields stay as they are.
type EvidenceInput struct {
	AnnotationID string   `json:"annotation_id"`
	Stance       *Stance  `json:"stance"`
	Assessment   *string  `json:"assessment"`
	Confidence   *float64 `json:"confidence"`
}

func checkClaimText(text string) (string, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "":
		return "", malformed("text", "is required: the claim in the publisher's words")
	case !utf8.ValidString(text):
		return "", malformed("text", "is not valid UTF-8 text")
	case len(text) > maxTextField:
		return "", invalid("text", "is longer than %d bytes", maxTextField)
	}
	return text, nil
}

func (in *ClaimInput) validate() error {
	if in.Text != nil {
		t, err := checkClaimText(*in.Text)
		if err != nil {
			return err
		}
		*in.Text = t
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"claimed_from", in.ClaimedFrom}, {"claimed_to", in.ClaimedTo}} {
		if f.v == nil {
			continue
		}
		norm, _, err := parseWhen(strings.TrimSpace(*f.v))
		if err != nil {
			return malformed(f.name, "%q is not a date (use YYYY-MM-DD or an RFC 3339 date and time)", *f.v)
		}
		*f.v = norm
	}
	if in.PlaceName != nil {
		*in.PlaceName = strings.TrimSpace(*in.PlaceName)
		if !utf8.ValidString(*in.PlaceName) || len(*in.PlaceName) > 1000 {
			return invalid("place_name", "must be valid text of at most 1000 bytes")
		}
	}
	if (in.Lon == nil) != (in.Lat == nil) {
		return invalid("lon", "give lon and lat together, or neither")
	}
	if in.Lon != nil {
		if !finite(*in.Lon) || !finite(*in.Lat) || *in.Lon < -180 || *in.Lon > 180 || *in.Lat < -90 || *in.Lat > 90 {
			return invalid("lon", "[%g, %g] is not a longitude, latitude in degrees (−180…180, −90…90)", *in.Lon, *in.Lat)
		}
	}
	return nil
}

func (in *EvidenceInput) validate() error {
	if in.Stance != nil {
		switch *in.Stance {
		case StanceSupports, StanceContradicts, StanceContext:
		default:
			return malformed("stance", "%q is not a stance: use supports, contradicts or context", *in.Stance)
		}
	}
	if in.Assessment != nil {
		*in.Assessment = strings.TrimSpace(*in.Assessment)
		if !utf8.ValidString(*in.Assessment) || len(*in.Assessment) > maxTextField {
			return invalid("assessment", "must be valid text of at most %d bytes", maxTextField)
		}
	}
	if in.Confidence != nil && (!finite(*in.Confidence) || *in.Confidence < 0 || *in.Confidence > 1) {
		return malformed("confidence", "%g is not a confidence: give a number from 0 (none) to 1 (certain)", *in.Confidence)
	}
	return nil
}

const claimColumns = `id, source_id, text, claimed_from, claimed_to, place_name, lon, lat, version, created_by, created_at, updated_by, updated_at`

const evidenceColumns = `e.id, e.claim_id, e.annotation_id, e.image_id, e.stance, e.assessment, e.confidence, e.version,
	e.created_by, e.created_at, e.updated_by, e.updated_at`

func scanEvidence(row scanner) (Evidence, error) {
	var e Evidence
	var created, updated string
	if err := row.Scan(&e.ID, &e.ClaimID, &e.AnnotationID, &e.ImageID, &e.Stance, &e.Assessment, &e.Confidence, &e.Version,
		&e.CreatedBy, &created, &e.UpdatedBy, &updated); err != nil {
		return Evidence{}, err
	}
	e.CreatedAt, e.UpdatedAt = parseTime(created), parseTime(updated)
	return e, nil
}

// ClaimFilter selects claims: of one release, or of the release of one image; both
// empty selects every claim.
type ClaimFilter struct {
	SourceID string
	ImageID  string
}

// Claims returns the claims f selects, each release's in the order they were recorded,
// with their evidence. Evidence on images in the trash is left out, as the images are.
func (s *Store) Claims(ctx context.Context, f ClaimFilter) ([]Claim, error) {
	switch {
	case f.ImageID != "":
		return s.claims(ctx, s.db, `WHERE source_id = (SELECT source_id FROM images WHERE id = ?)`, f.ImageID)
	case f.SourceID != "":
		return s.claims(ctx, s.db, `WHERE source_id = ?`, f.SourceID)
	}
	return s.claims(ctx, s.db, "")
}

// Claim returns one claim with its evidence, or ErrNotFound.
func (s *Store) Claim(ctx context.Context, id string) (Claim, error) { return s.claimTx(ctx, s.db, id) }

func (s *Store) claimTx(ctx context.Context, q querier, id string) (Claim, error) {
	cs, err := s.claims(ctx, q, `WHERE id = ?`, id)
	if err != nil {
		return Claim{}, err
	}
	if len(cs) == 0 {
		return Claim{}, fmt.Errorf("claim %q: %w", id, ErrNotFound)
	}
	return cs[0], nil
}

func (s *Store) claims(ctx context.Context, q querier, where string, args ...any) ([]Claim, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+claimColumns+` FROM claims `+where+` ORDER BY source_id, created_at, rowid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	claims := []Claim{}
	index := map[string]int{}
	for rows.Next() {
		var c Claim
		var created, updated string
		if err := rows.Scan(&c.ID, &c.SourceID, &c.Text, &c.ClaimedFrom, &c.ClaimedTo, &c.PlaceName, &c.Lon, &c.Lat, &c.Version,
			&c.CreatedBy, &created, &c.UpdatedBy, &updated); err != nil {
			return nil, err
		}
		c.CreatedAt, c.UpdatedAt, c.Evidence = parseTime(created), parseTime(updated), []Evidence{}
		index[c.ID] = len(claims)
		claims = append(claims, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if len(claims) == 0 {
		return claims, nil
	}
	ids := make([]any, 0, len(claims))
	for _, c := range claims {
		ids = append(ids, c.ID)
	}
	erows, err := q.QueryContext(ctx, `SELECT `+evidenceColumns+` FROM evidence e JOIN images i ON i.id = e.image_id
		WHERE i.deleted_at = '' AND e.claim_id IN (`+placeholders(len(ids))+`) ORDER BY e.created_at, e.rowid`, ids...)
	if err != nil {
		return nil, err
	}
	defer erows.Close()
	for erows.Next() {
		e, err := scanEvidence(erows)
		if err != nil {
			return nil, err
		}
		c := &claims[index[e.ClaimID]]
		c.Evidence = append(c.Evidence, e)
	}
	if err := erows.Err(); err != nil {
		return nil, err
	}
	for i := range claims {
		claims[i].State = stateOf(claims[i].Evidence)
	}
	return claims, nil
}

// claimRevision appends one change of a claim or of its evidence to the claim's history.
func (s *Store) claimRevision(ctx context.Context, tx *sql.Tx, by Actor, claimID, target, targetID string, version int, action string, before, after any) error {
	enc := func(v any) (any, error) {
		if v == nil {
			return nil, nil
		}
		b, err := json.Marshal(v)
		return string(b), err
	}
	b, err := enc(before)
	if err != nil {
		return err
	}
	a, err := enc(after)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO claim_revisions (claim_id, target, target_id, version, action, actor, at, before, after)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, claimID, target, targetID, version, action, by.Name, formatTime(s.now()), b, a)
	return err
}

// claimRow is a claim without its evidence or the state they give it, as its history
// records it.
func claimRow(c Claim) Claim {
	c.Evidence, c.State = nil, ""
	return c
}

// CreateClaim adds a claim to a release, audited as by's and recorded in the claim's
// history. The release must exist (a ValidationError on "source_id" otherwise) and the
// text is required.
func (s *Store) CreateClaim(ctx context.Context, by Actor, sourceID string, in ClaimInput) (Claim, error) {
	if in.Text == nil {
		return Claim{}, malformed("text", "is required: the claim in the publisher's words")
	}
	if err := in.validate(); err != nil {
		return Claim{}, err
	}
	if err := checkClaimWindow(str(in.ClaimedFrom), str(in.ClaimedTo)); err != nil {
		return Claim{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Claim{}, err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM sources WHERE id = ?`, sourceID).Scan(&n); err != nil {
		return Claim{}, err
	}
	if n == 0 {
		return Claim{}, invalid("source_id", "no release %q", sourceID)
	}
	c, err := s.insertClaim(ctx, tx, by, sourceID, in)
	if err != nil {
		return Claim{}, err
	}
	return c, tx.Commit()
}

func (s *Store) insertClaim(ctx context.Context, tx *sql.Tx, by Actor, sourceID string, in ClaimInput) (Claim, error) {
	id, now := newID("clm"), formatTime(s.now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO claims (id, source_id, text, claimed_from, claimed_to, place_name, lon, lat, version,
		created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
		id, sourceID, *in.Text, str(in.ClaimedFrom), str(in.ClaimedTo), str(in.PlaceName), in.Lon, in.Lat, by.Name, now, by.Name, now); err != nil {
		return Claim{}, err
	}
	c, err := s.claimTx(ctx, tx, id)
	if err != nil {
		return Claim{}, err
	}
	if err := s.claimRevision(ctx, tx, by, id, "claim", id, 1, "create", nil, claimRow(c)); err != nil {
		return Claim{}, err
	}
	return c, s.audit(ctx, tx, by, "claim.create", "claim", id, sourceID+": "+clip(c.Text))
}

// checkClaimWindow refuses a claimed window that ends before it starts.
func checkClaimWindow(from, to string) error {
	if from == "" || to == "" {
		return nil
	}
	_, f, _ := parseWhen(from)
	_, t, _ := parseWhen(to)
	if t.Before(f) {
		return invalid("claimed_to", "the claimed window ends (%s) before it starts (%s)", to, from)
	}
	return nil
}

// clip shortens a text for an audit line.
func clip(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:79]) + "…"
	}
	return s
}

// UpdateClaim changes a claim's text, window or place, audited as by's and recorded in
// its history. It must be based on the current version (ErrVersionRequired,
// *StaleVersionError).
func (s *Store) UpdateClaim(ctx context.Context, by Actor, id string, version *int, in ClaimInput) (Claim, error) {
	if err := in.validate(); err != nil {
		return Claim{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Claim{}, err
	}
	defer tx.Rollback()
	cur, err := s.claimTx(ctx, tx, id)
	if err != nil {
		return Claim{}, err
	}
	if err := checkVersion("claim", cur.ID, cur.Version, version); err != nil {
		return Claim{}, err
	}
	next, err := s.updateClaimTx(ctx, tx, by, cur, in)
	if err != nil {
		return Claim{}, err
	}
	return next, tx.Commit()
}

func (s *Store) updateClaimTx(ctx context.Context, tx *sql.Tx, by Actor, cur Claim, in ClaimInput) (Claim, error) {
	next := cur
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&next.Text, in.Text)
	set(&next.ClaimedFrom, in.ClaimedFrom)
	set(&next.ClaimedTo, in.ClaimedTo)
	set(&next.PlaceName, in.PlaceName)
	if in.Lon != nil {
		next.Lon, next.Lat = in.Lon, in.Lat
	}
	if err := checkClaimWindow(next.ClaimedFrom, next.ClaimedTo); err != nil {
		return Claim{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE claims SET text = ?, claimed_from = ?, claimed_to = ?, place_name = ?, lon = ?, lat = ?,
		version = version + 1, updated_by = ?, updated_at = ? WHERE id = ?`,
		next.Text, next.ClaimedFrom, next.ClaimedTo, next.PlaceName, next.Lon, next.Lat, by.Name, formatTime(s.now()), cur.ID); err != nil {
		return Claim{}, err
	}
	next, err := s.claimTx(ctx, tx, cur.ID)
	if err != nil {
		return Claim{}, err
	}
	if err := s.claimRevision(ctx, tx, by, cur.ID, "claim", cur.ID, next.Version, "update", claimRow(cur), claimRow(next)); err != nil {
		return Claim{}, err
	}
	return next, s.audit(ctx, tx, by, "claim.update", "claim", cur.ID, clip(next.Text))
}

// DeleteClaim removes a claim and its evidence links (never an annotation), audited as
// by's and recorded in its history, from its current version.
func (s *Store) DeleteClaim(ctx context.Context, by Actor, id string, version *int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cur, err := s.claimTx(ctx, tx, id)
	if err != nil {
		return err
	}
	if err := checkVersion("claim", cur.ID, cur.Version, version); err != nil {
		return err
	}
	if err := s.deleteClaimTx(ctx, tx, by, cur); err != nil {
		return err
	}
	return tx.Commit()
}

func (s *Store) deleteClaimTx(ctx context.Context, tx *sql.Tx, by Actor, cur Claim) error {
	for _, e := range cur.Evidence {
		if err := s.claimRevision(ctx, tx, by, cur.ID, "evidence", e.ID, e.Version+1, "delete", e, nil); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM claims WHERE id = ?`, cur.ID); err != nil {
		return err
	}
	if err := s.claimRevision(ctx, tx, by, cur.ID, "claim", cur.ID, cur.Version+1, "delete", claimRow(cur), nil); err != nil {
		return err
	}
	return s.audit(ctx, tx, by, "claim.delete", "claim", cur.ID, fmt.Sprintf("%s (%d evidence)", clip(cur.Text), len(cur.Evidence)))
}

// setFirstClaim makes text the release's first claim: it changes the first claim's text,
// or records one when the release has none. An empty text deletes a first claim that has
// no evidence; one that has evidence is kept (a ValidationError on "claim").
func (s *Store) setFirstClaim(ctx context.Context, tx *sql.Tx, by Actor, sourceID, text string) error {
	cs, err := s.claims(ctx, tx, `WHERE source_id = ?`, sourceID)
	if err != nil {
		return err
	}
	switch {
	case len(cs) == 0 && text == "":
		return nil
	case len(cs) == 0:
		_, err := s.insertClaim(ctx, tx, by, sourceID, ClaimInput{Text: &text})
		return err
	case text == "" && len(cs[0].Evidence) > 0:
		return invalid("claim", "the release's first claim has %d pieces of evidence linked: change or delete it on its claim page", len(cs[0].Evidence))
	case text == "":
		return s.deleteClaimTx(ctx, tx, by, cs[0])
	case text == cs[0].Text:
		return nil
	}
	_, err = s.updateClaimTx(ctx, tx, by, cs[0], ClaimInput{Text: &text})
	return err
}

// LinkEvidence links an annotation to a claim, audited as by's and recorded in the
// claim's history. The stance is required; the confidence defaults to 0.5. The annotation
// must exist on an image that is not in the trash (ErrNotFound), that image must be of
// the claim's release (a malformed ValidationError on "annotation_id": a release's claim
// is judged on the release's own images), and the annotation must not be linked to the
// claim already (ErrConflict: change that link instead).
func (s *Store) LinkEvidence(ctx context.Context, by Actor, claimID string, in EvidenceInput) (Evidence, error) {
	if in.Stance == nil {
		return Evidence{}, malformed("stance", "is required: supports, contradicts or context")
	}
	if err := in.validate(); err != nil {
		return Evidence{}, err
	}
	confidence := 0.5
	if in.Confidence != nil {
		confidence = *in.Confidence
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Evidence{}, err
	}
	defer tx.Rollback()
	c, err := s.claimTx(ctx, tx, claimID)
	if err != nil {
		return Evidence{}, err
	}
	var imageID, sourceID string
	err = tx.QueryRowContext(ctx, `SELECT a.image_id, i.source_id FROM annotations a JOIN images i ON i.id = a.image_id
		WHERE a.id = ? AND i.deleted_at = ''`, in.AnnotationID).Scan(&imageID, &sourceID)
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, fmt.Errorf("annotation %q (or its image is in the trash): %w", in.AnnotationID, ErrNotFound)
	}
	if err != nil {
		return Evidence{}, err
	}
	if sourceID != c.SourceID {
		return Evidence{}, malformed("annotation_id", "annotation %s is on image %s of another release: evidence for a claim is on the images of the release that makes it", in.AnnotationID, imageID)
	}
	for _, e := range c.Evidence {
		if e.AnnotationID == in.AnnotationID {
			return Evidence{}, fmt.Errorf("annotation %s is already evidence for this claim (%s, evidence %s); change that link instead: %w", in.AnnotationID, e.Stance, e.ID, ErrConflict)
		}
	}
	id, now := newID("evd"), formatTime(s.now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO evidence (id, claim_id, annotation_id, image_id, stance, assessment, confidence, version,
		created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
		id, claimID, in.AnnotationID, imageID, string(*in.Stance), str(in.Assessment), confidence, by.Name, now, by.Name, now); err != nil {
		return Evidence{}, err
	}
	e, err := s.evidenceTx(ctx, tx, id)
	if err != nil {
		return Evidence{}, err
	}
	if err := s.claimRevision(ctx, tx, by, claimID, "evidence", id, 1, "create", nil, e); err != nil {
		return Evidence{}, err
	}
	if err := s.audit(ctx, tx, by, "evidence.link", "claim", claimID, fmt.Sprintf("%s %s %s (%.2f)", in.AnnotationID, e.Stance, clip(c.Text), e.Confidence)); err != nil {
		return Evidence{}, err
	}
	return e, tx.Commit()
}

// Evidence returns one evidence link, or ErrNotFound.
func (s *Store) Evidence(ctx context.Context, id string) (Evidence, error) {
	return s.evidenceTx(ctx, s.db, id)
}

func (s *Store) evidenceTx(ctx context.Context, q querier, id string) (Evidence, error) {
	e, err := scanEvidence(q.QueryRowContext(ctx, `SELECT `+evidenceColumns+` FROM evidence e JOIN images i ON i.id = e.image_id
		WHERE e.id = ? AND i.deleted_at = ''`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Evidence{}, fmt.Errorf("evidence %q: %w", id, ErrNotFound)
	}
	return e, err
}

// EvidenceOf returns the evidence links of the annotations on the given images, by
// annotation id, each with its claim's text, oldest first.
func (s *Store) EvidenceOf(ctx context.Context, imageIDs []string) (map[string][]EvidenceRef, error) {
	out := map[string][]EvidenceRef{}
	if len(imageIDs) == 0 {
		return out, nil
	}
	args := make([]any, len(imageIDs))
	for i, id := range imageIDs {
		args[i] = id
	}
	rows, err := s.db.QueryContext(ctx, `SELECT e.annotation_id, e.id, e.claim_id, c.text, e.stance, e.confidence, e.assessment
		FROM evidence e JOIN claims c ON c.id = e.claim_id WHERE e.image_id IN (`+placeholders(len(args))+`) ORDER BY e.created_at, e.rowid`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var annID string
		var r EvidenceRef
		if err := rows.Scan(&annID, &r.EvidenceID, &r.ClaimID, &r.ClaimText, &r.Stance, &r.Confidence, &r.Assessment); err != nil {
			return nil, err
		}
		out[annID] = append(out[annID], r)
	}
	return out, rows.Err()
}

// UpdateEvidence changes a link's stance, assessment or confidence, audited as by's and
// recorded in its claim's history, from its current version.
func (s *Store) UpdateEvidence(ctx context.Context, by Actor, id string, version *int, in EvidenceInput) (Evidence, error) {
	if in.AnnotationID != "" {
		return Evidence{}, invalid("annotation_id", "a link's annotation does not change: unlink it and link the other")
	}
	if err := in.validate(); err != nil {
		return Evidence{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Evidence{}, err
	}
	defer tx.Rollback()
	cur, err := s.evidenceTx(ctx, tx, id)
	if err != nil {
		return Evidence{}, err
	}
	if err := checkVersion("evidence", cur.ID, cur.Version, version); err != nil {
		return Evidence{}, err
	}
	next := cur
	if in.Stance != nil {
		next.Stance = *in.Stance
	}
	if in.Assessment != nil {
		next.Assessment = *in.Assessment
	}
	if in.Confidence != nil {
		next.Confidence = *in.Confidence
	}
	if _, err := tx.ExecContext(ctx, `UPDATE evidence SET stance = ?, assessment = ?, confidence = ?, version = version + 1,
		updated_by = ?, updated_at = ? WHERE id = ?`, string(next.Stance), next.Assessment, next.Confidence, by.Name, formatTime(s.now()), id); err != nil {
		return Evidence{}, err
	}
	if next, err = s.evidenceTx(ctx, tx, id); err != nil {
		return Evidence{}, err
	}
	if err := s.claimRevision(ctx, tx, by, cur.ClaimID, "evidence", id, next.Version, "update", cur, next); err != nil {
		return Evidence{}, err
	}
	if err := s.audit(ctx, tx, by, "evidence.update", "claim", cur.ClaimID, fmt.Sprintf("%s %s (%.2f)", cur.AnnotationID, next.Stance, next.Confidence)); err != nil {
		return Evidence{}, err
	}
	return next, tx.Commit()
}

// UnlinkEvidence removes an evidence link (never its annotation), audited as by's and
// recorded in its claim's history, from its current version.
func (s *Store) UnlinkEvidence(ctx context.Context, by Actor, id string, version *int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	cur, err := s.evidenceTx(ctx, tx, id)
	if err != nil {
		return err
	}
	if err := checkVersion("evidence", cur.ID, cur.Version, version); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM evidence WHERE id = ?`, id); err != nil {
		return err
	}
	if err := s.claimRevision(ctx, tx, by, cur.ClaimID, "evidence", id, cur.Version+1, "delete", cur, nil); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, by, "evidence.unlink", "claim", cur.ClaimID, cur.AnnotationID+" "+string(cur.Stance)); err != nil {
		return err
	}
	return tx.Commit()
}

// ClaimRevision is one entry of a claim's history: a change of the claim or of one of
// its evidence links.
type ClaimRevision struct {
	ID       int64           `json:"id"`
	ClaimID  string          `json:"claim_id"`
	Target   string          `json:"target"` // claim or evidence
	TargetID string          `json:"target_id"`
	Version  int             `json:"version"`
	Action   string          `json:"action"` // create, update or delete
	Actor    string          `json:"actor"`
	At       time.Time       `json:"at"`
	Before   json.RawMessage `json:"before"`
	After    json.RawMessage `json:"after"`
}

// ClaimHistory returns a claim's history, oldest first; it outlives the claim. A claim
// that never existed is ErrNotFound.
func (s *Store) ClaimHistory(ctx context.Context, id string) ([]ClaimRevision, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, claim_id, target, target_id, version, action, actor, at, COALESCE(before, 'null'), COALESCE(after, 'null')
		FROM claim_revisions WHERE claim_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []ClaimRevision{}
	for rows.Next() {
		var r ClaimRevision
		var at, before, after string
		if err := rows.Scan(&r.ID, &r.ClaimID, &r.Target, &r.TargetID, &r.Version, &r.Action, &r.Actor, &at, &before, &after); err != nil {
			return nil, err
		}
		r.At, r.Before, r.After = parseTime(at), json.RawMessage(before), json.RawMessage(after)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("claim %q: %w", id, ErrNotFound)
	}
	return out, nil
}

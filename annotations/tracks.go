package annotations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Track follows one object across images: the same landing ship on 8 and 13 October.
// Each of its links puts an annotation in it with the analyst's confidence that it shows
// that object. A track holds at most one annotation of an image, and an annotation is in
// at most one track.
type Track struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Notes     string      `json:"notes"`
	Version   int         `json:"version"`
	CreatedBy string      `json:"created_by"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedBy string      `json:"updated_by"`
	UpdatedAt time.Time   `json:"updated_at"`
	Links     []TrackLink `json:"links"`
}

// TrackLink is one annotation in a track.
type TrackLink struct {
	AnnotationID string     `json:"annotation_id"`
	ImageID      string     `json:"image_id"`
	Confidence   Confidence `json:"confidence"`
	By           string     `json:"by"`
	At           time.Time  `json:"at"`
}

// TrackRef is what an export says of an annotation's track (the server fills it in).
type TrackRef struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Confidence Confidence `json:"confidence"`
}

// TrackInput creates or changes a track; in an update, nil fields stay as they are.
type TrackInput struct {
	Name  *string `json:"name"`
	Notes *string `json:"notes"`
}

func (in TrackInput) validate() error {
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
		switch n := *in.Name; {
		case n == "":
			return invalid("name", "is required")
		case !utf8.ValidString(n) || utf8.RuneCountInString(n) > 200:
			return invalid("name", "must be valid text of at most 200 characters")
		}
	}
	if in.Notes != nil && (!utf8.ValidString(*in.Notes) || len(*in.Notes) > 20000) {
		return invalid("notes", "must be valid text of at most 20000 bytes")
	}
	return nil
}

// checkLinkConfidence defaults an unstated confidence to probable and refuses others.
func checkLinkConfidence(c Confidence) (Confidence, error) {
	switch c {
	case "":
		return Probable, nil
	case Confirmed, Probable, Possible:
		return c, nil
	}
	return "", invalid("confidence", "%q is not a confidence: use confirmed, probable or possible", c)
}

// Tracks returns every track, by name, with its links.
func (s *Store) Tracks(ctx context.Context) ([]Track, error) { return s.tracks(ctx, s.db, "") }

// Track returns one track, or ErrNotFound.
func (s *Store) Track(ctx context.Context, id string) (Track, error) { return s.trackTx(ctx, s.db, id) }

func (s *Store) trackTx(ctx context.Context, q querier, id string) (Track, error) {
	ts, err := s.tracks(ctx, q, id)
	if err != nil {
		return Track{}, err
	}
	if len(ts) == 0 {
		return Track{}, fmt.Errorf("track %q: %w", id, ErrNotFound)
	}
	return ts[0], nil
}

func (s *Store) tracks(ctx context.Context, q querier, id string) ([]Track, error) {
	where, args := "", []any{}
	if id != "" {
		where, args = " WHERE id = ?", []any{id}
	}
	rows, err := q.QueryContext(ctx, `SELECT id, name, notes, version, created_by, created_at, updated_by, updated_at FROM tracks`+where+
		` ORDER BY `+s.d.nocase("name")+`, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	tracks := []Track{}
	index := map[string]int{}
	for rows.Next() {
		var t Track
		var created, updated string
		if err := rows.Scan(&t.ID, &t.Name, &t.Notes, &t.Version, &t.CreatedBy, &created, &t.UpdatedBy, &updated); err != nil {
			return nil, err
		}
		t.CreatedAt, t.UpdatedAt, t.Links = parseTime(created), parseTime(updated), []TrackLink{}
		index[t.ID] = len(tracks)
		tracks = append(tracks, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	lwhere := ""
	if id != "" {
		lwhere = " AND l.track_id = ?"
	}
	// Links to annotations of images in the trash are left out, as the images are.
	lrows, err := q.QueryContext(ctx, `SELECT l.track_id, l.annotation_id, l.image_id, l.confidence, l.by, l.at FROM track_links l
		JOIN images i ON i.id = l.image_id WHERE i.deleted_at = ''`+lwhere+` ORDER BY l.at, l.annotation_id`, args...)
	if err != nil {
		return nil, err
	}
	defer lrows.Close()
	for lrows.Next() {
		var trackID, at string
		var l TrackLink
		if err := lrows.Scan(&trackID, &l.AnnotationID, &l.ImageID, &l.Confidence, &l.By, &at); err != nil {
			return nil, err
		}
		l.At = parseTime(at)
		if i, ok := index[trackID]; ok {
			tracks[i].Links = append(tracks[i].Links, l)
		}
	}
	return tracks, lrows.Err()
}

// CreateTrack starts a track, audited as by's, with the annotations given (each with its
// confidence; none is fine): the link rules are LinkAnnotation's.
func (s *Store) CreateTrack(ctx context.Context, by Actor, in TrackInput, links []TrackLink) (Track, error) {
	if in.Name == nil {
		return Track{}, invalid("name", "is required")
	}
	if err := in.validate(); err != nil {
		return Track{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Track{}, err
	}
	defer tx.Rollback()
	id, now := newID("trk"), formatTime(s.now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO tracks (id, name, notes, version, created_by, created_at, updated_by, updated_at)
		VALUES (?, ?, ?, 1, ?, ?, ?, ?)`, id, *in.Name, str(in.Notes), by.Name, now, by.Name, now); err != nil {
		return Track{}, err
	}
	for i, l := range links {
		if err := s.linkTx(ctx, tx, by, id, l.AnnotationID, l.Confidence); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				ve.Field = fmt.Sprintf("annotations[%d].%s", i, ve.Field)
			}
			return Track{}, err
		}
	}
	if err := s.audit(ctx, tx, by, "track.create", "track", id, fmt.Sprintf("%s: %d annotations", *in.Name, len(links))); err != nil {
		return Track{}, err
	}
	t, err := s.trackTx(ctx, tx, id)
	if err != nil {
		return Track{}, err
	}
	return t, tx.Commit()
}

// linkTx puts an annotation in a track (or changes its confidence there). The annotation
// must exist, on an image not in the trash; it may not be in another track (ErrConflict,
// naming it), and the track may not hold another annotation of its image (a
// ValidationError on "annotation_id": one object is not twice in one picture).
func (s *Store) linkTx(ctx context.Context, tx *sql.Tx, by Actor, trackID, annotationID string, c Confidence) error {
	c, err := checkLinkConfidence(c)
	if err != nil {
		return err
	}
	var imageID string
	err = tx.QueryRowContext(ctx, `SELECT a.image_id FROM annotations a JOIN images i ON i.id = a.image_id
		WHERE a.id = ? AND i.deleted_at = ''`, annotationID).Scan(&imageID)
	if errors.Is(err, sql.ErrNoRows) {
		return invalid("annotation_id", "no annotation %q (or its image is in the trash)", annotationID)
	}
	if err != nil {
		return err
	}
	var other, otherName string
	err = tx.QueryRowContext(ctx, `SELECT t.id, t.name FROM track_links l JOIN tracks t ON t.id = l.track_id
		WHERE l.annotation_id = ? AND l.track_id != ?`, annotationID, trackID).Scan(&other, &otherName)
	if err == nil {
		return fmt.Errorf("annotation %s already follows the object %q (track %s); unlink it there first: %w", annotationID, otherName, other, ErrConflict)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var same string
	err = tx.QueryRowContext(ctx, `SELECT annotation_id FROM track_links WHERE track_id = ? AND image_id = ? AND annotation_id != ?`,
		trackID, imageID, annotationID).Scan(&same)
	if err == nil {
		return invalid("annotation_id", "the track already holds annotation %s of the same image: one object is in a picture once", same)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO track_links (track_id, annotation_id, image_id, confidence, by, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (track_id, annotation_id) DO UPDATE SET confidence = excluded.confidence, by = excluded.by, at = excluded.at`,
		trackID, annotationID, imageID, string(c), by.Name, formatTime(s.now()))
	return err
}

// LinkAnnotation puts an annotation in a track with a confidence (probable when not
// stated), or changes its confidence there, audited as by's. See linkTx for what is
// refused.
func (s *Store) LinkAnnotation(ctx context.Context, by Actor, trackID, annotationID string, c Confidence) (Track, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Track{}, err
	}
	defer tx.Rollback()
	t, err := s.trackTx(ctx, tx, trackID)
	if err != nil {
		return Track{}, err
	}
	if err := s.linkTx(ctx, tx, by, trackID, annotationID, c); err != nil {
		return Track{}, err
	}
	if err := s.audit(ctx, tx, by, "track.link", "track", trackID, t.Name+": "+annotationID+" "+string(c)); err != nil {
		return Track{}, err
	}
	if t, err = s.trackTx(ctx, tx, trackID); err != nil {
		return Track{}, err
	}
	return t, tx.Commit()
}

// UnlinkAnnotation takes an annotation out of a track, audited as by's; one not in it is
// ErrNotFound.
func (s *Store) UnlinkAnnotation(ctx context.Context, by Actor, trackID, annotationID string) (Track, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Track{}, err
	}
	defer tx.Rollback()
	t, err := s.trackTx(ctx, tx, trackID)
	if err != nil {
		return Track{}, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM track_links WHERE track_id = ? AND annotation_id = ?`, trackID, annotationID)
	if err != nil {
		return Track{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Track{}, fmt.Errorf("annotation %q is not in track %q: %w", annotationID, t.Name, ErrNotFound)
	}
	if err := s.audit(ctx, tx, by, "track.unlink", "track", trackID, t.Name+": "+annotationID); err != nil {
		return Track{}, err
	}
	if t, err = s.trackTx(ctx, tx, trackID); err != nil {
		return Track{}, err
	}
	return t, tx.Commit()
}

// UpdateTrack renames a track or changes its notes, audited as by's, from its current
// version.
func (s *Store) UpdateTrack(ctx context.Context, by Actor, id string, version *int, in TrackInput) (Track, error) {
	if err := in.validate(); err != nil {
		return Track{}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Track{}, err
	}
	defer tx.Rollback()
	t, err := s.trackTx(ctx, tx, id)
	if err != nil {
		return Track{}, err
	}
	if err := checkVersion("track", t.ID, t.Version, version); err != nil {
		return Track{}, err
	}
	if in.Name != nil {
		t.Name = *in.Name
	}
	if in.Notes != nil {
		t.Notes = *in.Notes
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tracks SET name = ?, notes = ?, version = version + 1, updated_by = ?, updated_at = ? WHERE id = ?`,
		t.Name, t.Notes, by.Name, formatTime(s.now()), id); err != nil {
		return Track{}, err
	}
	if err := s.audit(ctx, tx, by, "track.update", "track", id, t.Name); err != nil {
		return Track{}, err
	}
	if t, err = s.trackTx(ctx, tx, id); err != nil {
		return Track{}, err
	}
	return t, tx.Commit()
}

// DeleteTrack removes a track and its links (never an annotation), audited as by's, from
// its current version.
func (s *Store) DeleteTrack(ctx context.Context, by Actor, id string, version *int) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	t, err := s.trackTx(ctx, tx, id)
	if err != nil {
		return err
	}
	if err := checkVersion("track", t.ID, t.Version, version); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tracks WHERE id = ?`, id); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, by, "track.delete", "track", id, t.Name); err != nil {
		return err
	}
	return tx.Commit()
}

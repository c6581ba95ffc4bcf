package annotations

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// An image's annotations at scale: read in pages, and what changed since a position.
//
// The list order is creation time, then id (as Annotations orders one image's), read
// from the index annotations_image_created. A page ends with a cursor naming its last
// annotation; the next page starts after it, so annotations created or deleted between
// pages neither repeat nor shift the others. Positions are revision ids: every change
// of an annotation writes a revision in its own transaction, so an image's position is
// its highest revision id, and the changes after position S are the annotations with a
// revision after S.

// MaxPage bounds the annotations of one page.
const MaxPage = 10000

// MaxChanges bounds the annotations one answer of changes names; more changed since a
// position is a *ChangesGoneError, and the client reads the list in full again.
const MaxChanges = 10000

// AnnotationPage is a run of an image's annotations in list order. Next is the cursor
// of the page after it, "" when it is the last.
type AnnotationPage struct {
	Annotations []Annotation
	Next        string
}

// AnnotationChanges is what changed among an image's annotations after a position, up
// to Seq: the annotations as they now are (Changed, in list order) and the ids of those
// no longer there (Deleted, sorted).
type AnnotationChanges struct {
	Seq     int64
	Changed []Annotation
	Deleted []string
}

// ChangesGoneError means the changes since a position cannot be told: the position is
// beyond the image's (Seq), or more than MaxChanges annotations changed since (Changed,
// counted up to MaxChanges+1). The client reads the list in full again.
type ChangesGoneError struct {
	Since, Seq int64
	Changed    int
}

func (e *ChangesGoneError) Error() string {
	if e.Since > e.Seq {
		return fmt.Sprintf("position %d is ahead of this image's latest change (%d), so it was not handed out by this database "+
			"(was it restored from a backup?): reload the image's annotations in full", e.Since, e.Seq)
	}
	return fmt.Sprintf("more than %d annotations changed since position %d: reload the image's annotations in full", MaxChanges, e.Since)
}

// AnnotationSeq returns the image's position: its latest change (the highest id of its
// revisions), 0 when it has none. Whatever changes after this call has a higher position.
func (s *Store) AnnotationSeq(ctx context.Context, imageID string) (int64, error) {
	var seq int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM revisions WHERE image_id = ?`, imageID).Scan(&seq)
	return seq, err
}

// pageKey is where a page ends: its last annotation's stored creation time and id.
type pageKey struct {
	CreatedAt string
	ID        string
}

func (k pageKey) cursor() string {
	b, _ := json.Marshal([]string{k.CreatedAt, k.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// parseCursor reads a cursor AnnotationPage handed out; anything else is a malformed
// "after".
func parseCursor(c string) (pageKey, error) {
	bad := malformed("after", "%q is not a cursor this server handed out (take the next page's address from the Link header)", c)
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return pageKey{}, bad
	}
	var parts []string
	if json.Unmarshal(b, &parts) != nil || len(parts) != 2 || !ValidID(parts[1]) {
		return pageKey{}, bad
	}
	if _, err := time.Parse(time.RFC3339Nano, parts[0]); err != nil {
		return pageKey{}, bad
	}
	return pageKey{CreatedAt: parts[0], ID: parts[1]}, nil
}

// pageStart is where the page after the cursor after starts (the first page's for ""),
// when limit is a page size.
func pageStart(after string, limit int) (pageKey, error) {
	if limit < 1 || limit > MaxPage {
		return pageKey{}, malformed("limit", "%d is not a page size: give 1 to %d", limit, MaxPage)
	}
	if after == "" {
		return pageKey{}, nil
	}
	return parseCursor(after)
}

// AnnotationPage returns up to limit (1 to MaxPage) annotations of the image in list
// order, after the cursor after ("" for the first page). A cursor that is not one it
// handed out is a malformed *ValidationError on "after"; a limit out of range one on
// "limit". An image in the trash has none.
func (s *Store) AnnotationPage(ctx context.Context, imageID, after string, limit int) (AnnotationPage, error) {
	key, err := pageStart(after, limit)
	if err != nil {
		return AnnotationPage{}, err
	}
	idx, err := s.labelIndexTx(ctx, s.db)
	if err != nil {
		return AnnotationPage{}, err
	}
	// The first page starts after ("", ""), before any stored time.
	rows, err := s.db.QueryContext(ctx, `SELECT `+annotationColumns+`, created_at FROM annotations
		WHERE image_id = ? AND (created_at, id) > (?, ?)
			AND EXISTS (SELECT 1 FROM images WHERE id = ? AND deleted_at = '')
		ORDER BY created_at, id LIMIT ?`, imageID, key.CreatedAt, key.ID, imageID, limit+1)
	if err != nil {
		return AnnotationPage{}, err
	}
	defer rows.Close()
	page := AnnotationPage{Annotations: make([]Annotation, 0, min(limit, 1024))}
	var last pageKey
	for rows.Next() {
		if len(page.Annotations) == limit {
			page.Next = last.cursor()
			break
		}
		var created string
		a, err := scanAnnotation(scanFunc(func(dest ...any) error { return rows.Scan(append(dest, &created)...) }), idx)
		if err != nil {
			return AnnotationPage{}, err
		}
		page.Annotations = append(page.Annotations, a)
		last = pageKey{CreatedAt: created, ID: a.ID}
	}
	return page, rows.Err()
}

// AnnotationChangesSince returns what changed among the image's annotations after
// position since, up to the image's position now. A negative since is a malformed
// *ValidationError; a since beyond the image's position, or one after which more than
// MaxChanges annotations changed, is a *ChangesGoneError. Recent positions are answered
// from memory (changelog.go), older ones from SQL, the same answer either way; the
// annotations of Changed may share their attributes and geometry with later answers and
// must not be modified.
func (s *Store) AnnotationChangesSince(ctx context.Context, imageID string, since int64) (AnnotationChanges, error) {
	sh, err := s.SharedChangesSince(ctx, imageID, since)
	if err != nil {
		return AnnotationChanges{}, err
	}
	return sh.copied(), nil
}

// SharedChangesSince is AnnotationChangesSince without copying the annotations out (see
// SharedChanges), for an answer that only writes them out.
func (s *Store) SharedChangesSince(ctx context.Context, imageID string, since int64) (SharedChanges, error) {
	if since < 0 {
		return SharedChanges{}, malformed("since", "%d is not a position: positions are 0 or more", since)
	}
	out, ok, err := s.changes.changesSince(ctx, s.db, imageID, since, func() (map[string]Label, int64, error) {
		_, index, stamp, err := s.stampedLabels(ctx, s.db)
		return index, stamp, err
	})
	if ok || err != nil {
		return out, err
	}
	ch, err := s.annotationChangesSQL(ctx, imageID, since)
	if err != nil {
		return SharedChanges{}, err
	}
	return sharing(ch), nil
}

// annotationChangesSQL is AnnotationChangesSince read from the database alone.
func (s *Store) annotationChangesSQL(ctx context.Context, imageID string, since int64) (AnnotationChanges, error) {
	seq, err := s.AnnotationSeq(ctx, imageID)
	if err != nil {
		return AnnotationChanges{}, err
	}
	if since > seq {
		return AnnotationChanges{}, &ChangesGoneError{Since: since, Seq: seq}
	}
	out := AnnotationChanges{Seq: seq, Changed: []Annotation{}, Deleted: []string{}}
	// changedIDs selects the annotations with a revision after since, up to seq.
	const changedIDs = `SELECT DISTINCT annotation_id FROM revisions WHERE image_id = ? AND id > ? AND id <= ?`
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+changedIDs+` LIMIT ?) AS changed`, imageID, since, seq, MaxChanges+1).Scan(&n); err != nil {
		return AnnotationChanges{}, err
	}
	if n > MaxChanges {
		return AnnotationChanges{}, &ChangesGoneError{Since: since, Seq: seq, Changed: n}
	}
	if n == 0 {
		return out, nil
	}
	labels, err := s.labelsTx(ctx, s.db)
	if err != nil {
		return AnnotationChanges{}, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+annotationColumns+` FROM annotations
		WHERE image_id = ? AND id IN (`+changedIDs+`) ORDER BY created_at, id`, imageID, imageID, since, seq)
	if err != nil {
		return AnnotationChanges{}, err
	}
	defer rows.Close()
	idx := labelIndex(labels)
	present := map[string]bool{}
	for rows.Next() {
		a, err := scanAnnotation(rows, idx)
		if err != nil {
			return AnnotationChanges{}, err
		}
		out.Changed = append(out.Changed, a)
		present[a.ID] = true
	}
	if err := rows.Err(); err != nil {
		return AnnotationChanges{}, err
	}
	ids, err := s.db.QueryContext(ctx, changedIDs+` ORDER BY annotation_id`, imageID, since, seq)
	if err != nil {
		return AnnotationChanges{}, err
	}
	defer ids.Close()
	for ids.Next() {
		var id string
		if err := ids.Scan(&id); err != nil {
			return AnnotationChanges{}, err
		}
		if !present[id] {
			out.Deleted = append(out.Deleted, id)
		}
	}
	return out, ids.Err()
}

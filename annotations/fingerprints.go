package annotations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Fingerprint is an image's perceptual hashes as stored (package reuse computes, encodes
// and compares them; this package only keeps them), Version the layout they follow.
// Error, when set, says why the image has none (Hashes is then empty).
type Fingerprint struct {
	ImageID    string
	Version    int
	Hashes     []byte
	Error      string
	ComputedAt time.Time
}

// SetFingerprint stores f as its image's fingerprint, replacing any earlier one;
// ErrNotFound when the image does not exist.
func (s *Store) SetFingerprint(ctx context.Context, f Fingerprint) error {
	hashes := f.Hashes
	if hashes == nil {
		hashes = []byte{}
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO image_fingerprints (image_id, version, hashes, error, computed_at)
		SELECT id, ?, ?, ?, ? FROM images WHERE id = ?
		ON CONFLICT (image_id) DO UPDATE SET version = excluded.version, hashes = excluded.hashes,
			error = excluded.error, computed_at = excluded.computed_at`,
		f.Version, hashes, f.Error, formatTime(s.now()), f.ImageID)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return fmt.Errorf("image %s: %w", f.ImageID, ErrNotFound)
	}
	return nil
}

const fingerprintColumns = `f.image_id, f.version, f.hashes, f.error, f.computed_at`

func scanFingerprint(row interface{ Scan(...any) error }) (Fingerprint, error) {
	var f Fingerprint
	var at string
	if err := row.Scan(&f.ImageID, &f.Version, &f.Hashes, &f.Error, &at); err != nil {
		return Fingerprint{}, err
	}
	f.ComputedAt = parseTime(at)
	return f, nil
}

// ImageFingerprint returns the stored fingerprint of an image (not in the trash), of any
// version; ErrNotFound when it has none yet.
func (s *Store) ImageFingerprint(ctx context.Context, imageID string) (Fingerprint, error) {
	f, err := scanFingerprint(s.db.QueryRowContext(ctx, `SELECT `+fingerprintColumns+` FROM image_fingerprints f
		JOIN images i ON i.id = f.image_id WHERE i.deleted_at = '' AND f.image_id = ?`, imageID))
	if errors.Is(err, sql.ErrNoRows) {
		return Fingerprint{}, fmt.Errorf("fingerprint of image %s: %w", imageID, ErrNotFound)
	}
	return f, err
}

// Fingerprints returns the fingerprints of the given version of every image not in the
// trash that has one (not those that could not be hashed), oldest image first.
func (s *Store) Fingerprints(ctx context.Context, version int) ([]Fingerprint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+fingerprintColumns+` FROM image_fingerprints f
		JOIN images i ON i.id = f.image_id WHERE i.deleted_at = '' AND f.version = ? AND f.error = ''
		ORDER BY i.created_at, i.id`, version)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Fingerprint
	for rows.Next() {
		f, err := scanFingerprint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// ImagesWithoutFingerprint returns the ids of the images not in the trash with no
// fingerprint of the given version (nor a recorded reason for none at it), oldest first:
// what a backfill has left to do.
func (s *Store) ImagesWithoutFingerprint(ctx context.Context, version int) ([]string, error) {
	return queryStrings(ctx, s.db, `SELECT i.id FROM images i
		WHERE i.deleted_at = '' AND NOT EXISTS (SELECT 1 FROM image_fingerprints f WHERE f.image_id = i.id AND f.version = ?)
		ORDER BY i.created_at, i.id`, version)
}

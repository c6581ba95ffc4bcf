package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// Display settings say how a raster's bands become the picture everyone sees: which
// bands, their stretch, gamma and colour ramp. The store keeps them as JSON whose meaning
// belongs to the imagery package (imagery.Display); it guarantees that a change of them
// and the rebuild of the image's pyramid they call for are one step.

// Display returns the stored display settings of an image, or ErrNotFound when the image
// has none (yet) or does not exist.
func (s *Store) Display(ctx context.Context, imageID string) (json.RawMessage, error) {
	var settings string
	err := s.db.QueryRowContext(ctx, `SELECT settings FROM image_displays WHERE image_id = ?`, imageID).Scan(&settings)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("display settings: %w", ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return json.RawMessage(settings), nil
}

// SetDefaultDisplay stores the default settings of an image that has none, and returns
// the settings stored: these, or those stored first (by an analyst or another build).
func (s *Store) SetDefaultDisplay(ctx context.Context, imageID string, settings json.RawMessage) (json.RawMessage, error) {
	if !json.Valid(settings) {
		return nil, malformed("display", "the display settings are not JSON")
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO image_displays (image_id, settings, updated_at)
		SELECT id, ?, ? FROM images WHERE id = ? ON CONFLICT (image_id) DO NOTHING`, string(settings), formatTime(s.now()), imageID); err != nil {
		return nil, err
	}
	return s.Display(ctx, imageID)
}

// SetDisplay stores an image's display settings as by's choice and queues its pyramid to
// be built again with them, in one transaction with its audit entry (image.display,
// detail summary). A build already running is ErrConflict (it would finish with the old
// settings); ErrNotFound if the image or its job does not exist. It returns the job as
// queued.
func (s *Store) SetDisplay(ctx context.Context, by Actor, imageID string, settings json.RawMessage, summary string) (Job, error) {
	if !json.Valid(settings) {
		return Job{}, malformed("display", "the display settings are not JSON")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Job{}, err
	}
	defer tx.Rollback()
	j, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs j WHERE kind = ? AND image_id = ?
		AND EXISTS (SELECT 1 FROM images i WHERE i.id = j.image_id AND i.deleted_at = '')`, JobPyramid, imageID))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("image: %w", ErrNotFound)
	}
	if err != nil {
		return Job{}, err
	}
	if j.State == JobRunning {
		return Job{}, fmt.Errorf("the image's tiles are being built (%.0f%%); change the display when that is done: %w", 100*j.Progress, ErrConflict)
	}
	now := formatTime(s.now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO image_displays (image_id, settings, updated_by, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (image_id) DO UPDATE SET settings = excluded.settings, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
		imageID, string(settings), by.Name, now); err != nil {
		return Job{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'queued', progress = 0, error = '', updated_at = ? WHERE id = ?`, now, j.ID); err != nil {
		return Job{}, err
	}
	if err := s.audit(ctx, tx, by, "image.display", "image", imageID, summary); err != nil {
		return Job{}, err
	}
	if err := s.imageChangedTx(ctx, tx, imageID); err != nil {
		return Job{}, err
	}
	j.State, j.Progress, j.Error = JobQueued, 0, ""
	return j, tx.Commit()
}

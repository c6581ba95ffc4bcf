package annotations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Job kinds.
const JobPyramid = "pyramid"

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job is background work on an image, persisted so that it survives a restart.
type Job struct {
	ID         int64     `json:"-"`
	ImageID    string    `json:"image_id"`
	Kind       string    `json:"kind"`
	State      string    `json:"state"`
	Progress   float64   `json:"progress"` // 0 to 1
	Error      string    `json:"error,omitempty"`
	Attempts   int       `json:"attempts"`
	CreatedAt  time.Time `json:"created_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

const jobColumns = `id, image_id, kind, state, progress, error, attempts, created_at, started_at, finished_at`

func scanJob(row scanner) (Job, error) {
	var j Job
	var created, started, finished string
	if err := row.Scan(&j.ID, &j.ImageID, &j.Kind, &j.State, &j.Progress, &j.Error, &j.Attempts, &created, &started, &finished); err != nil {
		return Job{}, err
	}
	j.CreatedAt, j.StartedAt, j.FinishedAt = parseTime(created), parseTime(started), parseTime(finished)
	return j, nil
}

// insertJob queues a job in tx (the image's own transaction, so that an image never
// exists without its pyramid job).
func (s *Store) insertJob(ctx context.Context, tx *sql.Tx, imageID, kind string) error {
	now := formatTime(s.now())
	_, err := tx.ExecContext(ctx, `INSERT INTO jobs (image_id, kind, state, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?)`,
		imageID, kind, now, now)
	return err
}

// Job returns the job of one kind for an image, or ErrNotFound.
func (s *Store) Job(ctx context.Context, imageID, kind string) (Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE image_id = ? AND kind = ?`, imageID, kind))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("job: %w", ErrNotFound)
	}
	return j, err
}

// ClaimJob marks the oldest queued job of a kind as running and returns it, or
// ErrNotFound when none is waiting.
func (s *Store) ClaimJob(ctx context.Context, kind string) (Job, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Job{}, err
	}
	defer tx.Rollback()
	j, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE kind = ? AND state = 'queued' ORDER BY id LIMIT 1`, kind))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("queued %s job: %w", kind, ErrNotFound)
	}
	if err != nil {
		return Job{}, err
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'running', progress = 0, error = '', attempts = attempts + 1,
		started_at = ?, finished_at = '', updated_at = ? WHERE id = ?`, formatTime(now), formatTime(now), j.ID); err != nil {
		return Job{}, err
	}
	j.State, j.Progress, j.Error, j.Attempts, j.StartedAt = JobRunning, 0, "", j.Attempts+1, now
	return j, tx.Commit()
}

// SetJobProgress records how far a running job has come (0 to 1).
func (s *Store) SetJobProgress(ctx context.Context, id int64, progress float64) error {
	_, err := s.db.ExecContext(ctx, `UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND state = 'running'`,
		progress, formatTime(s.now()), id)
	return err
}

// FinishJob marks a running job done. ErrNotFound means the job (and so its image) is
// gone, and the caller should throw its work away.
func (s *Store) FinishJob(ctx context.Context, id int64) error {
	return s.endJob(ctx, id, JobDone, "")
}

// FailJob marks a running job failed with its cause, to be shown to the user.
func (s *Store) FailJob(ctx context.Context, id int64, cause string) error {
	return s.endJob(ctx, id, JobFailed, cause)
}

func (s *Store) endJob(ctx context.Context, id int64, state, cause string) error {
	now := formatTime(s.now())
	progress := 0.0
	if state == JobDone {
		progress = 1
	}
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = ?, error = ?, progress = CASE WHEN ? = 1 THEN 1 ELSE progress END,
		finished_at = ?, updated_at = ? WHERE id = ?`, state, cause, progress, now, now, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	return nil
}

// RequeueJob puts a job back in the queue: to retry a failure, to build again, or
// because the process is stopping mid-way. It returns the job as queued.
func (s *Store) RequeueJob(ctx context.Context, imageID, kind string) (Job, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = 'queued', progress = 0, error = '', updated_at = ?
		WHERE image_id = ? AND kind = ?`, formatTime(s.now()), imageID, kind)
	if err != nil {
		return Job{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Job{}, fmt.Errorf("%s job of image %s: %w", kind, imageID, ErrNotFound)
	}
	return s.Job(ctx, imageID, kind)
}

// RetryJob queues a finished or failed job again; one still queued or running is
// ErrConflict. It is how a user asks for a build again.
func (s *Store) RetryJob(ctx context.Context, imageID, kind string) (Job, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = 'queued', progress = 0, error = '', updated_at = ?
		WHERE image_id = ? AND kind = ? AND state IN ('done', 'failed')`, formatTime(s.now()), imageID, kind)
	if err != nil {
		return Job{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		j, err := s.Job(ctx, imageID, kind)
		if err != nil {
			return Job{}, err
		}
		return Job{}, fmt.Errorf("the %s is already %s: %w", kind, j.State, ErrConflict)
	}
	return s.Job(ctx, imageID, kind)
}

// RequeueInterrupted queues again every job left running by a process that stopped
// before finishing it, and returns how many there were.
func (s *Store) RequeueInterrupted(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = 'queued', progress = 0, updated_at = ? WHERE state = 'running'`,
		formatTime(s.now()))
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

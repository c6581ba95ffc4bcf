package annotations

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
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

// DefaultJobLease is how long a claimed job stays its process's without a renewal
// (SetJobProgress, RenewJob): after it, another process may claim the job.
const DefaultJobLease = time.Minute

// ErrJobLost is returned (wrapped) by the owner-only job calls when the job is no longer
// this process's: its lease ran out and another process claimed it, or it was queued
// again. The caller should stop and leave the job to whoever has it now.
var ErrJobLost = fmt.Errorf("the job is no longer this process's: %w", ErrConflict)

// newProcessID makes the id a Store claims jobs under: host, process id and a random
// part, so that two Stores in one process are two owners too.
func newProcessID() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Process is the id this Store claims jobs under.
func (s *Store) Process() string { return s.process }

// JobLease is how long a claim lasts without a renewal; an owner renews well within it.
func (s *Store) JobLease() time.Duration { return s.jobLease }

// ClaimJob marks the oldest job of a kind that is queued, or running under a lease that
// has run out (its owner stopped), as running for this process under a fresh lease, and
// returns it; ErrNotFound when there is none. Two processes never claim one job: on
// PostgreSQL the row is locked FOR UPDATE SKIP LOCKED (a job another claim holds is
// passed over), on SQLite the claim's transaction holds the database's one write lock.
func (s *Store) ClaimJob(ctx context.Context, kind string) (Job, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Job{}, err
	}
	defer tx.Rollback()
	now := s.now()
	j, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE kind = ? AND (state = 'queued' OR (state = 'running' AND lease_until < ?)) ORDER BY id LIMIT 1`+s.d.skipLocked,
		kind, formatTime(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("queued %s job: %w", kind, ErrNotFound)
	}
	if err != nil {
		return Job{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'running', progress = 0, error = '', attempts = attempts + 1,
		started_at = ?, finished_at = '', updated_at = ?, owner = ?, lease_until = ? WHERE id = ?`,
		formatTime(now), formatTime(now), s.process, formatTime(now.Add(s.jobLease)), j.ID); err != nil {
		return Job{}, err
	}
	j.State, j.Progress, j.Error, j.Attempts, j.StartedAt = JobRunning, 0, "", j.Attempts+1, now
	return j, tx.Commit()
}

// SetJobProgress records how far a job this process runs has come (0 to 1), and renews
// its lease. ErrJobLost: it is no longer this process's; ErrNotFound: it is gone.
func (s *Store) SetJobProgress(ctx context.Context, id int64, progress float64) error {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET progress = ?, updated_at = ?, lease_until = ?
		WHERE id = ? AND state = 'running' AND owner = ?`,
		progress, formatTime(now), formatTime(now.Add(s.jobLease)), id, s.process)
	return s.ownedJob(ctx, res, err, id)
}

// RenewJob extends the lease of a job this process runs, as SetJobProgress does without
// changing its progress: the heartbeat of a long step. Errors as SetJobProgress's.
func (s *Store) RenewJob(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND owner = ?`,
		formatTime(s.now().Add(s.jobLease)), id, s.process)
	return s.ownedJob(ctx, res, err, id)
}

// ownedJob turns the result of an owner-only update of job id into nil (it was this
// process's), ErrJobLost (it is someone else's, or no longer running) or ErrNotFound.
func (s *Store) ownedJob(ctx context.Context, res sql.Result, err error, id int64) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	var one int
	err = s.db.QueryRowContext(ctx, `SELECT 1 FROM jobs WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("job %d: %w", id, ErrJobLost)
}

// FinishJob marks a job this process runs done. ErrNotFound means the job (and so its
// image) is gone, and the caller should throw its work away; ErrJobLost that another
// process has it now (the caller leaves the work to it).
func (s *Store) FinishJob(ctx context.Context, id int64) error {
	return s.endJob(ctx, id, JobDone, "")
}

// FailJob marks a job this process runs failed with its cause, to be shown to the user.
// Errors as FinishJob's.
func (s *Store) FailJob(ctx context.Context, id int64, cause string) error {
	return s.endJob(ctx, id, JobFailed, cause)
}

func (s *Store) endJob(ctx context.Context, id int64, state, cause string) error {
	now := formatTime(s.now())
	progress := 0.0
	if state == JobDone {
		progress = 1
	}
	res, err := s.updateJobTelling(ctx, "", id,
		`UPDATE jobs SET state = ?, error = ?, progress = CASE WHEN ? = 1 THEN 1 ELSE progress END,
		finished_at = ?, updated_at = ?, owner = '', lease_until = '' WHERE id = ? AND state = 'running' AND owner = ?`,
		state, cause, progress, now, now, id, s.process)
	return s.ownedJob(ctx, res, err, id)
}

// updateJobTelling runs the update of jobs q and, when it changed a row, tells the other
// processes in the same transaction that the job's image (imageID, or when "" that of
// job jobID) changed: its pyramid is queued again, built or failed, and what they keep
// of it stale.
func (s *Store) updateJobTelling(ctx context.Context, imageID string, jobID int64, q string, args ...any) (sql.Result, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n > 0 && s.d.postgres {
		if imageID == "" {
			if err := tx.QueryRowContext(ctx, `SELECT image_id FROM jobs WHERE id = ?`, jobID).Scan(&imageID); err != nil {
				return nil, err
			}
		}
		if err := s.imageChangedTx(ctx, tx, imageID); err != nil {
			return nil, err
		}
	}
	return res, tx.Commit()
}

// ReleaseJob queues again a job this process runs, because the process is stopping
// mid-way: another process (or this one, started again) takes it up. Errors as
// FinishJob's.
func (s *Store) ReleaseJob(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = 'queued', progress = 0, error = '', updated_at = ?,
		owner = '', lease_until = '' WHERE id = ? AND state = 'running' AND owner = ?`, formatTime(s.now()), id, s.process)
	return s.ownedJob(ctx, res, err, id)
}

// RequeueJob puts a job back in the queue, whoever runs it: to build again a pyramid
// gone from the disk. It returns the job as queued.
func (s *Store) RequeueJob(ctx context.Context, imageID, kind string) (Job, error) {
	res, err := s.updateJobTelling(ctx, imageID, 0, `UPDATE jobs SET state = 'queued', progress = 0, error = '', updated_at = ?,
		owner = '', lease_until = '' WHERE image_id = ? AND kind = ?`, formatTime(s.now()), imageID, kind)
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
	res, err := s.updateJobTelling(ctx, imageID, 0, `UPDATE jobs SET state = 'queued', progress = 0, error = '', updated_at = ?
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
// before finishing it: those whose lease has run out, this process's own, and those of a
// process on this host that is no longer running (a satmark killed and started again
// takes its builds up at once, not a lease later). A job another live process runs is
// left alone. It returns how many it queued.
func (s *Store) RequeueInterrupted(ctx context.Context) (int, error) {
	now := formatTime(s.now())
	rows, err := s.db.QueryContext(ctx, `SELECT id, owner, lease_until FROM jobs WHERE state = 'running'`)
	if err != nil {
		return 0, err
	}
	type running struct {
		id           int64
		owner, lease string
	}
	var found []running
	for rows.Next() {
		var r running
		if err := rows.Scan(&r.id, &r.owner, &r.lease); err != nil {
			rows.Close()
			return 0, err
		}
		found = append(found, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, r := range found {
		if r.lease >= now && r.owner != s.process && !processGone(r.owner) {
			continue
		}
		// Only if it is still what was read: a job claimed meanwhile stays its claimer's.
		res, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = 'queued', progress = 0, updated_at = ?, owner = '', lease_until = ''
			WHERE id = ? AND state = 'running' AND owner = ? AND lease_until = ?`, now, r.id, r.owner, r.lease)
		if err != nil {
			return n, err
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, nil
}

// processGone reports whether owner (a process id as newProcessID makes) names a process
// on this host that is not running. Another host's processes are never known gone.
func processGone(owner string) bool {
	parts := strings.Split(owner, "/")
	if len(parts) != 3 {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(parts[1])
	if parts[0] != host || err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

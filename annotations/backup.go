package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/mattn/go-sqlite3"
)

// Backup writes a consistent copy of the database to path, which must not exist yet,
// through SQLite's online backup API: one read transaction copies every page, so the
// copy is the database as of one moment while writers carry on (write-ahead logging
// lets them). The copy is a complete database file of its own.
func (s *Store) Backup(ctx context.Context, path string) error {
	if err := s.requireSQLite("the online backup", "back it up with pg_dump"); err != nil {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("backup: %s already exists", path)
	}
	dst, err := (&sqlite3.SQLiteDriver{}).Open("file:" + (&url.URL{Path: path}).EscapedPath())
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	dconn := dst.(*sqlite3.SQLiteConn)
	defer dconn.Close()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.Raw(func(raw any) error {
		src := raw.(*queuedConn).SQLiteConn
		b, err := dconn.Backup("main", src, "main")
		if err != nil {
			return err
		}
		done, err := b.Step(-1)
		if ferr := b.Finish(); err == nil {
			err = ferr
		}
		if err == nil && !done {
			err = errors.New("the copy stopped before the last page")
		}
		return err
	})
	if err != nil {
		dconn.Close()
		os.Remove(path)
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Check runs SQLite's integrity and foreign-key checks over the whole database and
// returns each problem they report; none means the file is sound.
func (s *Store) Check(ctx context.Context) ([]string, error) {
	if err := s.requireSQLite("the integrity and foreign-key check", "PostgreSQL enforces foreign keys as it writes; use amcheck for its pages"); err != nil {
		return nil, err
	}
	var problems []string
	rows, err := s.db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return nil, err
		}
		if line != "ok" {
			problems = append(problems, "integrity: "+line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.db.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return nil, err
		}
		problems = append(problems, fmt.Sprintf("foreign key: a row of %s (rowid %d) names a %s that does not exist", table, rowid.Int64, parent))
	}
	return problems, rows.Err()
}

// StoredImage is what the database says an image's files are: the original and its
// sidecars by SHA-256 and size, and whether its pyramid has been built.
type StoredImage struct {
	ID           string
	Title        string
	SHA256       string
	ByteSize     int64
	Sidecars     []Sidecar
	InTrash      bool
	PyramidState string // the pyramid job's state: queued, running, done, failed or ""
}

// StoredImages lists every image row, those in the trash too, oldest first.
func (s *Store) StoredImages(ctx context.Context) ([]StoredImage, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT i.id, i.title, i.sha256, i.byte_size, i.sidecars, i.deleted_at != '', COALESCE(j.state, '')
		FROM images i LEFT JOIN jobs j ON j.image_id = i.id AND j.kind = 'pyramid' ORDER BY i.created_at, i.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StoredImage
	for rows.Next() {
		var img StoredImage
		var sidecars string
		if err := rows.Scan(&img.ID, &img.Title, &img.SHA256, &img.ByteSize, &sidecars, &img.InTrash, &img.PyramidState); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(sidecars), &img.Sidecars); err != nil {
			return nil, fmt.Errorf("image %s: its sidecars are unreadable: %w", img.ID, err)
		}
		out = append(out, img)
	}
	return out, rows.Err()
}

// RequeuePyramids queues the build of every image's pyramid (finished, failed or not),
// as after a restore, which brings back the originals but not what is derived from
// them; it returns how many it queued.
func (s *Store) RequeuePyramids(ctx context.Context) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET state = 'queued', progress = 0, error = '', updated_at = ? WHERE kind = ?`,
		formatTime(s.now()), JobPyramid)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// Totals counts the rows of the tables a backup's reader cares about: images (the trash
// included), annotations, their revisions, labels, users, sites and tracks.
func (s *Store) Totals(ctx context.Context) (map[string]int, error) {
	totals := map[string]int{}
	for _, table := range []string{"images", "annotations", "revisions", "labels", "users", "sites", "tracks"} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
			return nil, fmt.Errorf("count %s: %w", table, err)
		}
		totals[table] = n
	}
	return totals, nil
}

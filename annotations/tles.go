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

// TLE is a stored two-line element set of a satellite. The store keeps the lines as it is
// given them; parsing and checking them is the caller's (package orbit's) business.
type TLE struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	NoradID   int       `json:"norad_id"`
	Epoch     time.Time `json:"epoch"`
	Line1     string    `json:"line1"`
	Line2     string    `json:"line2"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// TLEInput is one element set to store, already parsed.
type TLEInput struct {
	Name         string
	NoradID      int
	Epoch        time.Time
	Line1, Line2 string
}

// AddedTLE is an element set AddTLEs stored, or found already stored (Existing).
type AddedTLE struct {
	TLE
	Existing bool `json:"existing"`
}

// MaxTLEsPerAdd bounds one AddTLEs call.
const MaxTLEsPerAdd = 2000

func (in TLEInput) validate(i int) error {
	field := fmt.Sprintf("tles[%d]", i)
	switch {
	case len(in.Line1) != 69 || len(in.Line2) != 69:
		return invalid(field, "each line of an element set has 69 characters")
	case !utf8.ValidString(in.Name) || utf8.RuneCountInString(in.Name) > 80 || strings.ContainsAny(in.Name, "\r\n"):
		return invalid(field, "the name must be one line of at most 80 characters")
	case in.NoradID < 0:
		return invalid(field, "the catalogue number must not be negative")
	case in.Epoch.IsZero():
		return invalid(field, "the epoch is required")
	}
	return nil
}

// AddTLEs stores element sets, all or none, audited as by's: a set whose two lines are
// stored already is answered with the stored one (Existing) and not stored twice.
func (s *Store) AddTLEs(ctx context.Context, by Actor, in []TLEInput) ([]AddedTLE, error) {
	if len(in) == 0 {
		return nil, invalid("tles", "no element sets to store")
	}
	if len(in) > MaxTLEsPerAdd {
		return nil, invalid("tles", "%d element sets at once; at most %d", len(in), MaxTLEsPerAdd)
	}
	for i, t := range in {
		if err := t.validate(i); err != nil {
			return nil, err
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := formatTime(s.now())
	out := make([]AddedTLE, 0, len(in))
	for _, t := range in {
		existing, err := scanTLE(tx.QueryRowContext(ctx, `SELECT `+tleColumns+` FROM tles WHERE line1 = ? AND line2 = ?`, t.Line1, t.Line2))
		if err == nil {
			out = append(out, AddedTLE{TLE: existing, Existing: true})
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		id := newID("tle")
		if _, err := tx.ExecContext(ctx, `INSERT INTO tles (id, name, norad_id, epoch, line1, line2, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, t.Name, t.NoradID, formatTime(t.Epoch), t.Line1, t.Line2, by.Name, now); err != nil {
			return nil, err
		}
		if err := s.audit(ctx, tx, by, "tle.add", "tle", id, fmt.Sprintf("%s (%d), epoch %s", t.Name, t.NoradID, t.Epoch.UTC().Format(time.RFC3339))); err != nil {
			return nil, err
		}
		stored, err := scanTLE(tx.QueryRowContext(ctx, `SELECT `+tleColumns+` FROM tles WHERE id = ?`, id))
		if err != nil {
			return nil, err
		}
		out = append(out, AddedTLE{TLE: stored})
	}
	return out, tx.Commit()
}

const tleColumns = `id, name, norad_id, epoch, line1, line2, created_by, created_at`

func scanTLE(row scanner) (TLE, error) {
	var t TLE
	var epoch, created string
	if err := row.Scan(&t.ID, &t.Name, &t.NoradID, &epoch, &t.Line1, &t.Line2, &t.CreatedBy, &created); err != nil {
		return TLE{}, err
	}
	t.Epoch, t.CreatedAt = parseTime(epoch), parseTime(created)
	return t, nil
}

// TLEs returns every stored element set by name, catalogue number and epoch.
func (s *Store) TLEs(ctx context.Context) ([]TLE, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tleColumns+` FROM tles ORDER BY `+s.d.nocase("name")+`, norad_id, epoch, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TLE{}
	for rows.Next() {
		t, err := scanTLE(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// DeleteTLE removes an element set, audited as by's; ErrNotFound when there is none.
func (s *Store) DeleteTLE(ctx context.Context, by Actor, id string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	t, err := scanTLE(tx.QueryRowContext(ctx, `SELECT `+tleColumns+` FROM tles WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("element set %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM tles WHERE id = ?`, id); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, by, "tle.delete", "tle", id, fmt.Sprintf("%s (%d)", t.Name, t.NoradID)); err != nil {
		return err
	}
	return tx.Commit()
}

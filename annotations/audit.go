package annotations

import (
	"context"
	"strings"
	"time"
)

// AuditEntry is one line of the audit log: who did what to what, from where.
type AuditEntry struct {
	ID         int64     `json:"id"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Action     string    `json:"action"` // e.g. image.upload, image.trash, signin.failed
	TargetType string    `json:"target_type,omitempty"`
	TargetID   string    `json:"target_id,omitempty"`
	Detail     string    `json:"detail,omitempty"`
	IP         string    `json:"ip,omitempty"`
}

// Audit appends an entry to the audit log.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit (at, actor, action, target_type, target_id, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		formatTime(s.now()), e.Actor, e.Action, e.TargetType, e.TargetID, e.Detail, e.IP)
	return err
}

// AuditFilter selects audit entries, newest first: by action prefix ("signin" matches
// signin.ok and signin.failed), by actor, before an id (for paging), at most Limit.
type AuditFilter struct {
	Action string
	Actor  string
	Before int64
	Limit  int
}

// AuditLog returns the entries f selects, newest first.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	if f.Action != "" {
		where = append(where, "(action = ? OR action LIKE ?)")
		args = append(args, f.Action, strings.ReplaceAll(f.Action, "%", "")+".%")
	}
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q := `SELECT id, at, actor, action, target_type, target_id, detail, ip FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY id DESC LIMIT ?", append(args, f.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.TargetType, &e.TargetID, &e.Detail, &e.IP); err != nil {
			return nil, err
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

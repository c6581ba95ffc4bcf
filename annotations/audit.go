package annotations

import (
	"context"
	"fmt"
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

// Actor is who makes a change and from where. Every store method whose change the audit
// log records takes one (CreateImage in NewImage.CreatedBy) and writes the change's
// audit entry inside the change's own transaction: the change and its entry commit
// together or not at all.
type Actor struct {
	Name string // the user's name, as the audit log and the history record it
	IP   string // the client's address; empty from the shell
	Note string // said in parentheses after the entry's detail, e.g. "from the shell"
}

// Audit appends an entry that goes with no change of its own (a sign-in attempt, a
// wrong password); changes write theirs themselves.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	return s.insertAudit(ctx, s.db, e)
}

// audit writes the entry of a change actor made, in the change's transaction q.
func (s *Store) audit(ctx context.Context, q querier, by Actor, action, targetType, targetID, detail string) error {
	if by.Note != "" {
		detail = strings.TrimSpace(detail + " (" + by.Note + ")")
	}
	return s.insertAudit(ctx, q, AuditEntry{Actor: by.Name, Action: action, TargetType: targetType, TargetID: targetID, Detail: detail, IP: by.IP})
}

func (s *Store) insertAudit(ctx context.Context, q querier, e AuditEntry) error {
	_, err := q.ExecContext(ctx, `INSERT INTO audit (at, actor, action, target_type, target_id, detail, ip) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		formatTime(s.now()), e.Actor, e.Action, e.TargetType, e.TargetID, e.Detail, e.IP)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditFilter selects audit entries, newest first: by action prefix ("signin" matches
// signin.ok and signin.failed), by actor, by what they were done to (TargetID), before
// an id (for paging), at most Limit.
type AuditFilter struct {
	Action   string
	Actor    string
	TargetID string
	Before   int64
	Limit    int
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
	if f.TargetID != "" {
		where = append(where, "target_id = ?")
		args = append(args, f.TargetID)
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

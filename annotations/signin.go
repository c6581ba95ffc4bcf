package annotations

import (
	"context"
	"fmt"
	"time"
)

// Failed sign-ins are kept in the database, not in a process's memory, so that every
// satmark process on one database counts the same attempts (the server's throttle
// decides what they mean). A key is "account:<name>" or "ip:<address>".

// SignInFailures returns the newest failures of key after since, at most limit, newest
// first.
func (s *Store) SignInFailures(ctx context.Context, key string, since time.Time, limit int) ([]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT failed_at FROM signin_failures WHERE key = ? AND failed_at > ?
		ORDER BY failed_at DESC LIMIT ?`, key, formatTime(since), limit)
	if err != nil {
		return nil, fmt.Errorf("sign-in failures: %w", err)
	}
	defer rows.Close()
	var fs []time.Time
	for rows.Next() {
		var at string
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		fs = append(fs, parseTime(at))
	}
	return fs, rows.Err()
}

// RecordSignInFailure records a failure at at for each of keys, keeping the newest keep
// of each key, and forgets every key's failures at or before forget (those no throttle
// counts any more), so that the table stays small under a flood of names.
func (s *Store) RecordSignInFailure(ctx context.Context, at time.Time, keep int, forget time.Time, keys ...string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM signin_failures WHERE failed_at <= ?`, formatTime(forget)); err != nil {
		return fmt.Errorf("forget old sign-in failures: %w", err)
	}
	for _, key := range keys {
		if _, err := tx.ExecContext(ctx, `INSERT INTO signin_failures (key, failed_at) VALUES (?, ?)`, key, formatTime(at)); err != nil {
			return fmt.Errorf("record a sign-in failure: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM signin_failures WHERE key = ? AND id NOT IN
			(SELECT id FROM signin_failures WHERE key = ? ORDER BY failed_at DESC, id DESC LIMIT ?)`, key, key, keep); err != nil {
			return fmt.Errorf("trim sign-in failures: %w", err)
		}
	}
	return tx.Commit()
}

// ClearSignInFailures forgets key's failures: after a successful sign-in.
func (s *Store) ClearSignInFailures(ctx context.Context, key string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM signin_failures WHERE key = ?`, key); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}

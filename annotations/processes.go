package annotations

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Several satmark processes on one PostgreSQL database. Two things a single SQLite
// process gets for free need saying here:
//
// Revision positions commit in order. Positions (revision ids) are what the changes
// answers and the change log read past ("id > N"). SQLite's writers take turns, so ids
// commit in the order they are taken; PostgreSQL's run side by side, and a transaction
// holding id 10 could commit after one holding 11, so that a reader who saw 11 would
// skip 10 for good. Every transaction that writes revisions on PostgreSQL therefore
// takes a transaction-scoped advisory lock (revisionTurn) first, before any other lock
// (so the turn cannot close a deadlock), and holds it to its commit: revision writers
// commit one at a time, each id taken after the one before committed.
//
// Notices: Notify sends a short text to every process listening on the database
// (LISTEN/NOTIFY), and Listen hears those of the other processes. On SQLite (one
// process) there are none.

// revisionTurnSQL takes the turn revision writers take: an advisory lock of the
// transaction, on a key of its own (the migrations' is 7271530015).
const revisionTurnSQL = `SELECT pg_advisory_xact_lock(7271530016)`

// noticeChannel is the PostgreSQL channel the processes' notices travel on.
const noticeChannel = "satmark_notices"

// MaxNotice bounds a notice's text (PostgreSQL refuses payloads of 8000 bytes or more;
// the rest is the sender's name).
const MaxNotice = 7900

// revisionTurn waits, on PostgreSQL, until no other transaction writing revisions is
// open, and keeps the others waiting until tx ends. Taking it again in tx is harmless.
func (s *Store) revisionTurn(ctx context.Context, tx *sql.Tx) error {
	if !s.d.postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, revisionTurnSQL)
	return err
}

// beginRevisions begins a transaction that will write revisions: on PostgreSQL it has
// its turn (revisionTurn) before it returns.
func (s *Store) beginRevisions(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := s.revisionTurn(ctx, tx); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// newOrigin names this store among the processes that send notices.
func newOrigin() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// SharesDatabase reports whether other processes may write to the store's database at
// the same time (PostgreSQL), so that what this process keeps in memory must be told of
// their changes through notices.
func (s *Store) SharesDatabase() bool { return s.d.postgres }

// Notify sends text (at most MaxNotice bytes) to the other processes listening on the
// database (see Listen), on its own, apart from any transaction: for changes the store
// does not tell of itself in the transaction that commits them (notices.go). On SQLite
// it does nothing.
func (s *Store) Notify(ctx context.Context, text string) error {
	if !s.d.postgres {
		return nil
	}
	if len(text) > MaxNotice {
		return errors.New("a notice of more than 7900 bytes")
	}
	_, err := s.db.ExecContext(ctx, notifySQL, s.origin+" "+text)
	return err
}

// Listener is what Listen tells of: each notice of another process (Notice, in the
// order they were sent), each time the connection listens (Listening: resumed is false
// the first time, true after a reconnection, when the notices sent while it was lost
// are gone and whatever they would have said must be assumed), and each loss of the
// connection (Lost, may be nil).
type Listener struct {
	Notice    func(text string)
	Listening func(resumed bool)
	Lost      func(err error)
}

// Listen hears the notices other processes send (never this store's own) on a
// connection of its own, not one of the pool's, and tells l of them. A lost connection
// is tried again with growing pauses (at most 5 s) until ctx ends, when Listen returns
// nil. On SQLite it returns nil at once.
func (s *Store) Listen(ctx context.Context, l Listener) error {
	if !s.d.postgres {
		return nil
	}
	cfg, err := pgx.ParseConfig(s.database)
	if err != nil {
		return errors.New("listen: the database URL cannot be read")
	}
	cfg.RuntimeParams["application_name"] = s.ListenerName()
	pause := 100 * time.Millisecond
	for resumed := false; ; resumed = true {
		err := s.listenOnce(ctx, cfg, l.Notice, func() {
			pause = 100 * time.Millisecond
			l.Listening(resumed)
		})
		if ctx.Err() != nil {
			return nil
		}
		if l.Lost != nil {
			l.Lost(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// ListenerName is the application_name of the connection Listen hears on, as
// pg_stat_activity shows it: "satmark listener" and this store's origin.
func (s *Store) ListenerName() string { return "satmark listener " + s.origin }

// listenOnce connects, listens and passes notices on until the connection fails or ctx
// ends.
func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, notice func(string), listening func()) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+noticeChannel); err != nil {
		return err
	}
	listening()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		origin, text, ok := strings.Cut(n.Payload, " ")
		if !ok || origin == s.origin {
			continue
		}
		notice(text)
	}
}

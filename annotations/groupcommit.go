package annotations

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
)

// Group commit: the annotation writes of many requests at once share one transaction.
// Every transaction here writes and they take turns (see connector), so under dozens of
// analysts each write waited for all those before it to begin, write and commit one by
// one. One goroutine takes the writes waiting, runs each in a savepoint of one
// transaction (a write that fails is rolled back alone, with its own error) and commits
// them together; nobody hears of their write before that commit, so an acknowledged
// write is as durable as one committed alone.

// maxGroup bounds the writes of one transaction: how long the last of them waits.
const maxGroup = 64

// errStoreClosed answers a write given after Close.
var errStoreClosed = errors.New("the store is closed")

// groupWrite is one write waiting for its group.
type groupWrite struct {
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error // its outcome, once its group's transaction has ended
}

// groupWriter runs the writes given to Store.grouped.
type groupWriter struct {
	writes chan *groupWrite
	quit   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	// conn, on SQLite, is the one connection the groups are written on. Each SQLite
	// connection has its own page cache, emptied when another connection has written
	// since its last transaction: on a connection of the pool (a different one nearly
	// every time) each group read the pages it changes back from the file.
	conn *sql.Conn
}

func (s *Store) startGroupWriter() error {
	g := &groupWriter{writes: make(chan *groupWrite), quit: make(chan struct{})}
	if !s.d.postgres {
		conn, err := s.db.Conn(context.Background())
		if err != nil {
			return err
		}
		g.conn = conn
	}
	s.group = g
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		s.runGroups()
	}()
	return nil
}

// stopGroupWriter ends the writer after the group it may be running.
func (s *Store) stopGroupWriter() {
	s.group.once.Do(func() { close(s.group.quit) })
	s.group.wg.Wait()
	if s.group.conn != nil {
		s.group.conn.Close()
	}
}

// grouped runs fn in a transaction it may share with other writes, and returns once
// that transaction has committed (nil: fn's writes are committed) or ended otherwise
// (fn's error, or the commit's). fn must write through tx alone and must not commit; it
// runs under the writer's context, not ctx, which only bounds the wait for a place in a
// group: once fn ran, the outcome is waited for, since the write may be committed.
func (s *Store) grouped(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	w := &groupWrite{fn: fn, done: make(chan error, 1)}
	select {
	case s.group.writes <- w:
	case <-s.group.quit:
		return errStoreClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-w.done
}

func (s *Store) runGroups() {
	for {
		var first *groupWrite
		select {
		case first = <-s.group.writes:
		case <-s.group.quit:
			return
		}
		batch := s.gather(first)
		s.commitGroup(batch)
	}
}

// gather takes the writes waiting after first, up to maxGroup. A write that finds itself
// alone lets the other goroutines run once first (runtime.Gosched): on a busy server the
// requests that will write in a moment are often runnable but not yet running, and each
// write committed alone costs a commit (under bench/load's 50 analysts commits fell from
// about a fifth of the server's CPU to a tenth). It waits for nothing else: an idle
// server's write is not held up.
func (s *Store) gather(first *groupWrite) []*groupWrite {
	batch := []*groupWrite{first}
	for yielded := false; len(batch) < maxGroup; {
		select {
		case w := <-s.group.writes:
			batch = append(batch, w)
			continue
		default:
		}
		if yielded || len(batch) > 1 {
			break
		}
		runtime.Gosched()
		yielded = true
	}
	return batch
}

// commitGroup runs the writes of batch in one transaction, each in its own savepoint,
// commits, and tells each its outcome.
func (s *Store) commitGroup(batch []*groupWrite) {
	ctx := context.Background()
	errs := make([]error, len(batch))
	finish := func(commitErr error) {
		for i, w := range batch {
			if errs[i] == nil {
				errs[i] = commitErr
			}
			w.done <- errs[i]
		}
	}
	var tx *sql.Tx
	var err error
	if s.group.conn != nil {
		tx, err = s.group.conn.BeginTx(ctx, nil)
	} else {
		tx, err = s.db.BeginTx(ctx, nil)
	}
	if err == nil {
		// The group's writes are annotations' and write revisions: the turn is taken
		// before any of them (processes.go).
		if err = s.revisionTurn(ctx, tx); err != nil {
			tx.Rollback()
		}
	}
	if err != nil {
		finish(err)
		return
	}
	defer tx.Rollback()
	if len(batch) == 1 {
		// Alone in its group (as about half the writes are under bench/load's 50
		// analysts), a write needs no savepoint: if it fails, the transaction is
		// rolled back, which is all the rollback to its savepoint would undo.
		if errs[0] = runWrite(ctx, tx, batch[0].fn); errs[0] != nil {
			tx.Rollback()
			finish(errs[0])
			return
		}
		finish(tx.Commit())
		return
	}
	for i, w := range batch {
		if _, err := tx.ExecContext(ctx, `SAVEPOINT group_write`); err != nil {
			finish(err) // the transaction is unusable: nothing of the group is committed
			return
		}
		errs[i] = runWrite(ctx, tx, w.fn)
		if errs[i] != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO group_write`); err != nil {
				finish(fmt.Errorf("rolling back a refused write: %w", err))
				return
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE group_write`); err != nil {
			finish(err)
			return
		}
	}
	finish(tx.Commit())
}

// runWrite runs fn, turning a panic into an error so that one bad write cannot stop the
// writer (and every write after it).
func runWrite(ctx context.Context, tx *sql.Tx, fn func(ctx context.Context, tx *sql.Tx) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(ctx, tx)
}

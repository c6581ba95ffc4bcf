package annotations

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints beside the writes (SQLite). SQLite copies the write-ahead log back into the
// database file, and syncs both files, in the commit that takes the log past
// wal_autocheckpoint pages: under dozens of analysts that was a commit of the group
// writer every fraction of a second, and every write waiting on it waited for two fsyncs
// of a busy disk. Every connection here has wal_autocheckpoint 0 (see connector), and one
// goroutine of the store's own runs PASSIVE checkpoints on a connection of its own after
// commits: they take no lock a writer or a reader waits for. What a commit promises is
// unchanged: under synchronous=NORMAL a commit is in the log, which a checkpoint only
// copies from; it survives a crash of the process as before.

// checkpointEvery is the least time between two checkpoints: a checkpoint after every
// group would sync the files hundreds of times a second.
const checkpointEvery = 250 * time.Millisecond

// checkpointer runs the store's checkpoints.
type checkpointer struct {
	wake chan struct{} // a commit happened (connector's transactions send, never block)
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
	// ran, when set (tests), hears of each checkpoint run: its result or error.
	ran atomic.Pointer[chan checkpointResult]
}

// checkpointResult is what PRAGMA wal_checkpoint answered: frames in the log and frames
// copied into the database file.
type checkpointResult struct {
	busy, log, checkpointed int
	err                     error
}

func newCheckpointer() *checkpointer {
	return &checkpointer{wake: make(chan struct{}, 1), quit: make(chan struct{})}
}

// committed tells the checkpointer of a commit.
func (c *checkpointer) committed() {
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is waiting already
	}
}

func (s *Store) startCheckpointer() error {
	conn, err := s.db.Conn(context.Background())
	if err != nil {
		return err
	}
	c := s.ckpt
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer conn.Close()
		c.run(conn)
	}()
	return nil
}

func (c *checkpointer) run(conn *sql.Conn) {
	for {
		select {
		case <-c.wake:
		case <-c.quit:
			return
		}
		var r checkpointResult
		r.err = conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&r.busy, &r.log, &r.checkpointed)
		if ran := c.ran.Load(); ran != nil {
			*ran <- r
		}
		select {
		case <-time.After(checkpointEvery):
		case <-c.quit:
			return
		}
	}
}

// stop ends the checkpointer after the checkpoint it may be running. (SQLite checkpoints
// once more when the last connection closes.)
func (c *checkpointer) stop() {
	c.once.Do(func() { close(c.quit) })
	c.wg.Wait()
}

package annotations

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql pgmigrations/*.sql
var migrations embed.FS

// Store keeps everything satmark knows in one SQLite file, or in a PostgreSQL database.
type Store struct {
	db     *sql.DB
	d      *dialect
	now    func() time.Time
	labels labelCache
	group  *groupWriter
	ckpt   *checkpointer // SQLite only
	// changes answers AnnotationChangesSince for recent positions (changelog.go).
	changes changeLog
	// process names this Store as the owner of the jobs it claims (jobs.go): made at
	// open, so two Stores on one database are two processes.
	process  string
	jobLease time.Duration
	// database is the PostgreSQL URL the store was opened with ("" on SQLite), for
	// Listen's connection; origin names the store in the notices it sends (processes.go).
	database, origin string
}

// newStore is a Store over db with a fresh process id.
func newStore(db *sql.DB, d *dialect) *Store {
	return &Store{db: db, d: d, now: func() time.Time { return time.Now().UTC() }, process: newProcessID(), jobLease: DefaultJobLease, origin: newOrigin()}
}

// Open opens the store named by database: a postgres:// or postgresql:// URL is a
// PostgreSQL database (with PostGIS, created beforehand); anything else is the path of a
// SQLite file, created if needed, whose write-ahead logging is checked. Migrations not
// yet applied are applied (pgmigrations/ on PostgreSQL, migrations/ on SQLite), each
// recorded in schema_migrations.
func Open(database string) (*Store, error) {
	if IsPostgres(database) {
		return openPostgres(database)
	}
	return openSQLite(database)
}

// IsPostgres reports whether database names a PostgreSQL database rather than a file.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

func openPostgres(dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("open PostgreSQL: the database URL cannot be read (postgres://user:password@host:port/database?sslmode=…)")
	}
	where := fmt.Sprintf("PostgreSQL %s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	db := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	s := newStore(db, postgresDialect)
	s.database = dsn
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	// The schema's geometry columns need PostGIS, which only an owner or superuser can add.
	var postgis int
	if err := db.QueryRow(`SELECT COUNT(*) FROM pg_extension WHERE extname = 'postgis'`).Scan(&postgis); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	if postgis == 0 {
		db.Close()
		return nil, fmt.Errorf("open %s: the database has no PostGIS; run CREATE EXTENSION postgis in it (as its owner or a superuser) first", where)
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", where, err)
	}
	if err := s.startGroupWriter(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", where, err)
	}
	return s, nil
}

func openSQLite(path string) (*Store, error) {
	// Pragmas go in the DSN so that every pooled connection gets them.
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	q.Set("_stmt_cache_size", "32")
	// The path is escaped so that a '?', '#' or '%' in a folder name stays part of the
	// file name instead of starting SQLite's URI query or fragment.
	ckpt := newCheckpointer()
	db := sql.OpenDB(&connector{dsn: "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode(), turn: make(chan struct{}, 1), ckpt: ckpt})
	// Keep the connections a busy server uses open: database/sql keeps 2 idle by default,
	// and under dozens of requests at once it opened and closed a connection (running
	// the DSN's pragmas each time) for most queries, a seventh of the server's time.
	db.SetMaxIdleConns(64)
	s := newStore(db, sqliteDialect)
	s.ckpt = ckpt
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("open %s: journal_mode is %q, want wal (is the folder on a network file system?)", path, mode)
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if err := s.startGroupWriter(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := s.startCheckpointer(); err != nil {
		s.stopGroupWriter()
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// connector opens SQLite connections whose transactions take turns. Every transaction
// here writes (_txlock=immediate), and SQLite's busy handler lets a waiting writer only
// poll on a timer: with dozens writing at once, some lose every poll for busy_timeout and
// fail with "database is locked" (a 500). Waiting for the turn in Go serves them in order.
//
// Its connections leave checkpoints to the store's checkpointer (checkpoint.go), which
// their writes wake.
type connector struct {
	dsn  string
	turn chan struct{} // holds a token while a transaction is open
	ckpt *checkpointer
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.Driver().Open(c.dsn)
	if err != nil {
		return nil, err
	}
	sc := conn.(*sqlite3.SQLiteConn)
	if _, err := sc.Exec(`PRAGMA wal_autocheckpoint = 0`, nil); err != nil {
		sc.Close()
		return nil, err
	}
	return &queuedConn{SQLiteConn: sc, turn: c.turn, ckpt: c.ckpt}, nil
}

func (c *connector) Driver() driver.Driver { return &sqlite3.SQLiteDriver{} }

// queuedConn is a SQLite connection that waits for its turn to begin a transaction.
type queuedConn struct {
	*sqlite3.SQLiteConn
	turn chan struct{}
	ckpt *checkpointer
}

// ExecContext runs a statement; a write outside a transaction has then committed.
func (c *queuedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.SQLiteConn.ExecContext(ctx, query, args)
	c.ckpt.committed()
	return res, err
}

func (c *queuedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	select {
	case c.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	tx, err := c.SQLiteConn.BeginTx(ctx, opts)
	if err != nil {
		<-c.turn
		return nil, err
	}
	return &queuedTx{Tx: tx, done: sync.OnceFunc(func() { <-c.turn }), ckpt: c.ckpt}, nil
}

func (c *queuedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// queuedTx passes the turn on when it ends.
type queuedTx struct {
	driver.Tx
	done func()
	ckpt *checkpointer
}

func (t *queuedTx) Commit() error {
	defer t.done()
	err := t.Tx.Commit()
	t.ckpt.committed()
	return err
}

func (t *queuedTx) Rollback() error {
	defer t.done()
	return t.Tx.Rollback()
}

// Close closes the database, after the group of writes being committed, if any.
// Writes given after Close fail.
func (s *Store) Close() error {
	s.stopGroupWriter()
	if s.ckpt != nil {
		s.ckpt.stop()
	}
	return s.db.Close()
}

// DB exposes the database handle for tests and maintenance commands.
func (s *Store) DB() *sql.DB { return s.db }

func (s *Store) migrate() error {
	if _, err := s.db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	dir := "migrations"
	if s.d.postgres {
		dir = "pgmigrations"
	}
	names, err := fs.Glob(migrations, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.applyMigration(name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (s *Store) applyMigration(name string) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.d.postgres {
		// Two servers starting at once on one database take turns (SQLite's immediate
		// transactions do this by themselves).
		if _, err := tx.Exec(`SELECT pg_advisory_xact_lock(7271530015)`); err != nil {
			return err
		}
	}
	var n int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(string(body)); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`, name, formatTime(s.now())); err != nil {
		return err
	}
	return tx.Commit()
}

// IntegrityCheck runs SQLite's own consistency check and returns its verdict ("ok" when
// all is well).
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	if err := s.requireSQLite("the integrity check", "PostgreSQL checks its pages itself; use amcheck"); err != nil {
		return "", err
	}
	var res string
	err := s.db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res)
	return res, err
}

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so that stored times sort as
// text in time order (time.RFC3339Nano drops trailing zeros: ".1Z" would sort after ".12Z").
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// parseTime reads a stored time (time.RFC3339Nano; the zero time when it is not one).
// The times satmark stores (timeLayout in UTC) are read by hand: an export of 100,000
// annotations reads 200,000 of them, and time.Parse took a twentieth of its walk.
func parseTime(s string) time.Time {
	if t, ok := parseStoredTime(s); ok {
		return t
	}
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// parseStoredTime reads s when it is exactly timeLayout in UTC
// ("2006-01-02T15:04:05.000000000Z") and a valid time, as time.Parse does; ok is false
// for anything else, which time.Parse is left to read.
func parseStoredTime(s string) (t time.Time, ok bool) {
	if len(s) != len("2006-01-02T15:04:05.000000000Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' || s[29] != 'Z' {
		return time.Time{}, false
	}
	digits := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := digits(0, 4), digits(5, 7), digits(8, 10)
	hour, minute, sec, nsec := digits(11, 13), digits(14, 16), digits(17, 19), digits(20, 29)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
		sec < 0 || sec > 59 || nsec < 0 {
		return time.Time{}, false
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // 31 April, 29 February of a common year: time.Date moved it on
		return time.Time{}, false
	}
	return t, true
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

package annotations

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/satmark/satmark/pgtest"
)

// The store's contract is the same on both backends: a test wrapped in forEachBackend
// runs once on SQLite and once on PostgreSQL, and every store it opens with openStore
// (itself or through a helper) is of that run's backend.

// TestMain shares one PostgreSQL cluster between the package's tests.
func TestMain(m *testing.M) { pgtest.Main(m) }

// backends are the databases a Store runs on, as the subtests that forEachBackend runs
// are named.
var backends = []string{"sqlite", "postgres"}

// runningOn maps the name of a forEachBackend subtest to its backend.
var runningOn sync.Map

// forEachBackend runs body as the subtests "sqlite" and "postgres" of t.
func forEachBackend(t *testing.T, body func(t *testing.T)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			runningOn.Store(t.Name(), b)
			t.Cleanup(func() { runningOn.Delete(t.Name()) })
			body(t)
		})
	}
}

// backendOf is the backend of the forEachBackend subtest t is (or is inside); "sqlite"
// outside any.
func backendOf(t *testing.T) string {
	name := t.Name()
	for {
		if b, ok := runningOn.Load(name); ok {
			return b.(string)
		}
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			return "sqlite"
		}
		name = name[:i]
	}
}

// onBackend returns lite on a SQLite store and pg on a PostgreSQL one: for the few
// statements a test writes straight into the database that the two spell differently.
func onBackend(s *Store, lite, pg string) string {
	if s.Backend() == "postgres" {
		return pg
	}
	return lite
}

// triggerSQL returns the definition of the trigger called name ("" when there is none).
func triggerSQL(t *testing.T, s *Store, name string) string {
	t.Helper()
	var def string
	err := s.DB().QueryRow(onBackend(s, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?`,
		`SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = ?`), name).Scan(&def)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("trigger %s: %v", name, err)
	}
	return def
}

// On PostgreSQL Open applies pgmigrations/ once (recorded in schema_migrations, as on
// SQLite), and what is stored is there after reopening; the SQLite-only maintenance
// refuses with ErrSQLiteOnly instead of running a PRAGMA PostgreSQL has not.
func TestOpenPostgresAppliesMigrationsOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	files, err := fs.Glob(migrations, "pgmigrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("got pgmigrations %v (%v), want at least one", files, err)
	}
	ctx := context.Background()
	for i := range 2 {
		s, err := Open(dsn)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if got := s.Backend(); got != "postgres" {
			t.Errorf("open #%d: got backend %q, want postgres", i+1, got)
		}
		if i == 0 {
			addImage(t, s, "kept", 10, 10, Provenance{Title: ptr("kept across reopen")})
		}
		if got := count(t, s, `SELECT COUNT(*) FROM schema_migrations WHERE name LIKE ?`, "pgmigrations/%"); got != len(files) {
			t.Errorf("open #%d: got %d applied migrations, want %d", i+1, got, len(files))
		}
		if images, err := s.Images(ctx); err != nil || len(images) != 1 {
			t.Errorf("open #%d: got %d images (%v), want 1", i+1, len(images), err)
		}
		if _, err := s.IntegrityCheck(ctx); !errors.Is(err, ErrSQLiteOnly) {
			t.Errorf("integrity check: got %v, want ErrSQLiteOnly", err)
		}
		if _, err := s.Check(ctx); !errors.Is(err, ErrSQLiteOnly) {
			t.Errorf("check: got %v, want ErrSQLiteOnly", err)
		}
		backup := filepath.Join(t.TempDir(), "copy.db")
		if err := s.Backup(ctx, backup); !errors.Is(err, ErrSQLiteOnly) || !strings.Contains(err.Error(), "pg_dump") {
			t.Errorf("backup: got %v, want ErrSQLiteOnly naming pg_dump", err)
		}
		if _, err := os.Stat(backup); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("backup: got a file at %s (%v), want none", backup, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close #%d: %v", i+1, err)
		}
	}
}

func TestOpenPostgresRefusesWithoutLeakingThePassword(t *testing.T) {
	_, err := Open("postgres://alice:s3cret@127.0.0.1:1/satmark?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("open a server that is not there: got no error")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("got %q, want an error without the password", err)
	}
	_, err = Open("postgres://alice:s3cret@127.0.0.1:notaport/satmark")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("open an unreadable URL: got %v, want an error without the password", err)
	}
}

func TestNumberPlaceholders(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"ok, in order", `SELECT a FROM t WHERE b = ? AND c IN (?, ?)`, `SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)`},
		{"ok, none", `SELECT 1`, `SELECT 1`},
		{"ok, a ? in a string stays", `SELECT '?', 'it''s ?' FROM t WHERE a = ?`, `SELECT '?', 'it''s ?' FROM t WHERE a = $1`},
		{"ok, a ? in a quoted name stays", `SELECT "a?" FROM t WHERE a = ?`, `SELECT "a?" FROM t WHERE a = $1`},
		{"ok, comments stay", "SELECT a -- b = ?\nFROM t /* ? */ WHERE a = ?", "SELECT a -- b = ?\nFROM t /* ? */ WHERE a = $1"},
		{"ok, an unclosed string is left as it is", `SELECT ? || 'abc`, `SELECT $1 || 'abc`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := numberPlaceholders(tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if got := numberPlaceholders(tc.in); got != tc.want {
				t.Errorf("cached: got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestOpenPostgresWithoutPostGISSaysSo(t *testing.T) {
	dsn := pgtest.DSN(t)
	db := openPG(t, dsn)
	if _, err := db.Exec(`DROP EXTENSION postgis`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(dsn); err == nil || !strings.Contains(err.Error(), "CREATE EXTENSION postgis") {
		t.Errorf("got %v, want an error saying to create the PostGIS extension", err)
	}
}

// refuseInserts makes the trigger name refuse, with message, every row inserted into
// table (those for which when, an SQL condition on NEW, holds; all when it is ""): a
// stand-in for any failure of the database in the middle of a write. As SQLite's
// RAISE(ABORT) is a constraint error, so is PostgreSQL's (SQLSTATE 23000).
func refuseInserts(t *testing.T, s *Store, name, table, when, message string) {
	t.Helper()
	query := `CREATE TRIGGER ` + name + ` BEFORE INSERT ON ` + table
	if when != "" {
		query += ` WHEN ` + when
	}
	query += ` BEGIN SELECT RAISE(ABORT, '` + message + `'); END`
	if s.Backend() == "postgres" {
		query = `CREATE FUNCTION ` + name + `() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION USING MESSAGE = '` + message + `', ERRCODE = '23000'; END $$;
			CREATE TRIGGER ` + name + ` BEFORE INSERT ON ` + table + ` FOR EACH ROW`
		if when != "" {
			query += ` WHEN (` + when + `)`
		}
		query += ` EXECUTE FUNCTION ` + name + `()`
	}
	if _, err := s.DB().Exec(query); err != nil {
		t.Fatalf("create trigger %s: %v", name, err)
	}
}

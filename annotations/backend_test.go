package annotations

import (
	"database/sql"
	"errors"
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

package annotations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/satmark/satmark/pgtest"
)

// openStore opens a store on a fresh database and closes it when the test ends: a
// SQLite file, or a PostgreSQL database in a test forEachBackend runs on PostgreSQL.
func openStore(t *testing.T) *Store {
	t.Helper()
	return openStoreOn(t, backendOf(t))
}

// openStoreOn opens a store on a fresh database of backend ("sqlite" or "postgres") and
// closes it when the test ends. PostgreSQL is skipped without pgtest's binaries (failed
// with SATMARK_REQUIRE_ORACLES=1).
func openStoreOn(t *testing.T, backend string) *Store {
	t.Helper()
	return openStoreAt(t, freshDatabase(t, backend))
}

// freshDatabase names a new, empty database of backend: a SQLite path or a PostgreSQL DSN
// (with the schema already made).
func freshDatabase(t *testing.T, backend string) string {
	t.Helper()
	database := filepath.Join(t.TempDir(), "satmark.db")
	if backend == "postgres" {
		// The schema is made once, in a template each test's database is copied from.
		pgtest.Template(t, "satmark_migrated", func(dsn string) error {
			s, err := Open(dsn)
			if err != nil {
				return err
			}
			return s.Close()
		})
		database = pgtest.DSNFrom(t, "satmark_migrated")
	}
	return database
}

// openStoreAt opens the store on database and closes it when the test ends: a second
// one on the same database is a second satmark process.
func openStoreAt(t *testing.T, database string) *Store {
	t.Helper()
	s, err := Open(database)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// stepClock makes the store's clock start at start and advance by step on every reading.
func stepClock(t *testing.T, s *Store, start time.Time, step time.Duration) {
	t.Helper()
	var mu sync.Mutex
	next := start
	s.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now := next
		next = next.Add(step)
		return now.UTC()
	}
}

// shaOf returns a SHA-256 in hex, standing in for an original's content address.
func shaOf(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:])
}

func ptr[T any](v T) *T { return &v }

func noPlace() (func(), error) { return func() {}, nil }

// addImage stores a w×h image named name with provenance p.
func addImage(t *testing.T, s *Store, name string, w, h int, p Provenance) Image {
	t.Helper()
	img, created, err := s.CreateImage(context.Background(), NewImage{
		SHA256: shaOf(name), Filename: name + ".jpg", MediaType: "image/jpeg", ByteSize: 1234,
		Width: w, Height: h, Provenance: p, CreatedBy: Actor{Name: "analyst"},
	}, noPlace)
	if err != nil {
		t.Fatalf("create image %s: %v", name, err)
	}
	if !created {
		t.Fatalf("create image %s: got created = false, want true", name)
	}
	return img
}

// addSourceImage stores an image attached to the existing release sourceID.
func addSourceImage(t *testing.T, s *Store, name, sourceID string) Image {
	t.Helper()
	img, _, err := s.CreateImage(context.Background(), NewImage{
		SHA256: shaOf(name), Filename: name + ".jpg", MediaType: "image/jpeg", ByteSize: 1,
		Width: 100, Height: 100, SourceID: sourceID, CreatedBy: Actor{Name: "analyst"},
	}, noPlace)
	if err != nil {
		t.Fatalf("create image %s on %s: %v", name, sourceID, err)
	}
	return img
}

// addLabel ensures the label at path exists and returns it.
func addLabel(t *testing.T, s *Store, path ...string) Label {
	t.Helper()
	l, err := s.EnsureLabelPath(context.Background(), Actor{Name: "root"}, path, "")
	if err != nil {
		t.Fatalf("ensure label %v: %v", path, err)
	}
	return l
}

// addAnnotation creates an annotation from JSON geometry and properties.
func addAnnotation(t *testing.T, s *Store, actor, imageID, label string, shape Shape, geometry, properties string) Annotation {
	t.Helper()
	in := AnnotationInput{Label: &label, Shape: &shape, Geometry: json.RawMessage(geometry)}
	if properties != "" {
		in.Properties = json.RawMessage(properties)
	}
	a, err := s.CreateAnnotation(context.Background(), actor, imageID, in)
	if err != nil {
		t.Fatalf("create annotation: %v", err)
	}
	return a
}

// count runs a SELECT COUNT(*) query directly against the database.
func count(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestOpenSetsPragmas(t *testing.T) {
	s := openStore(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"synchronous", "1"},        // NORMAL
		{"wal_autocheckpoint", "0"}, // the checkpointer's (TestCheckpointsBesideTheWrites)
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			var got string
			if err := s.DB().QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
			}
			if got != tt.want {
				t.Errorf("got PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
}

func TestOpenAppliesMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "satmark.db")
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("got migrations %v (%v), want at least one", files, err)
	}
	for i := 0; i < 2; i++ {
		s, err := Open(path)
		if err != nil {
			t.Fatalf("open #%d: %v", i+1, err)
		}
		if i == 0 {
			addImage(t, s, "kept", 10, 10, Provenance{Title: ptr("kept across reopen")})
		}
		var got int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&got); err != nil {
			t.Fatalf("count migrations: %v", err)
		}
		if got != len(files) {
			t.Errorf("open #%d: got %d applied migrations, want %d", i+1, got, len(files))
		}
		res, err := s.IntegrityCheck(context.Background())
		if err != nil || res != "ok" {
			t.Errorf("open #%d: got integrity check %q (%v), want \"ok\"", i+1, res, err)
		}
		images, err := s.Images(context.Background())
		if err != nil || len(images) != 1 {
			t.Errorf("open #%d: got %d images (%v), want 1", i+1, len(images), err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close #%d: %v", i+1, err)
		}
	}
}

func TestOpenRejectsUnopenablePath(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing-folder", "satmark.db"))
	if err == nil {
		t.Fatalf("got no error opening a database in a folder that does not exist, want one")
	}
}

// A data folder may have any name; characters that mean something in a URI must not
// send the database somewhere else.
func TestOpenKeepsTheFileWhereThePathSays(t *testing.T) {
	for _, dir := range []string{"with space", "issue#12", "what?", "100%", "x%20y"} {
		t.Run(dir, func(t *testing.T) {
			folder := filepath.Join(t.TempDir(), dir)
			if err := os.Mkdir(folder, 0o755); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(folder, "satmark.db")
			s, err := Open(path)
			if err != nil {
				t.Fatalf("open %s: %v", path, err)
			}
			t.Cleanup(func() { s.Close() })
			if _, err := os.Stat(path); err != nil {
				t.Errorf("got %v, want the database file at %s", err, path)
			}
		})
	}
}

// TestCheckpointsBesideTheWrites: no commit copies the write-ahead log back into the
// database file (every connection has wal_autocheckpoint 0, see TestOpenSetsPragmas);
// the store's checkpointer does, after the writes, the whole log.
func TestCheckpointsBesideTheWrites(t *testing.T) {
	ctx := context.Background()
	x := newAnnotated(t)
	ran := make(chan checkpointResult, 64)
	x.s.ckpt.ran.Store(&ran)
	for i := range 20 {
		if _, err := x.s.CreateAnnotation(ctx, "alice", x.img.ID, AnnotationInput{Label: ptr("vessel"), Shape: ptr(ShapePoint),
			Geometry: json.RawMessage(pointJSON), Properties: json.RawMessage(fmt.Sprintf(`{"note":"n%d"}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	last, err := x.s.CreateAnnotation(ctx, "alice", x.img.ID, AnnotationInput{Label: ptr("vessel"), Shape: ptr(ShapePoint), Geometry: json.RawMessage(pointJSON)})
	if err != nil {
		t.Fatal(err)
	}
	// The checkpoints the writes woke, until one copied a log holding the last write.
	timeout := time.After(30 * time.Second)
	for {
		select {
		case r := <-ran:
			if r.err != nil {
				t.Fatalf("checkpoint: %v", r.err)
			}
			if r.log == 0 || r.checkpointed < r.log {
				continue
			}
			// The database file alone, without its log, holds the last write.
			var seq int
			var name, file string
			if err := x.s.DB().QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
				t.Fatal(err)
			}
			ro, err := sql.Open("sqlite3", "file:"+file+"?mode=ro&immutable=1")
			if err != nil {
				t.Fatal(err)
			}
			var n int
			err = ro.QueryRow(`SELECT COUNT(*) FROM annotations WHERE id = ?`, last.ID).Scan(&n)
			ro.Close()
			if err != nil {
				t.Fatal(err)
			}
			if n == 1 {
				return
			}
		case <-timeout:
			t.Fatal("no checkpoint copied the write-ahead log into the database file within 30 s of the writes")
		}
	}
}

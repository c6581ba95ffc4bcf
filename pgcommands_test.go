package main

// The commands other than serve on a PostgreSQL store (--database / SATMARK_DATABASE):
// each works on that database and the data folder's files, and none opens or makes a
// SQLite file beside them. Skipped without PostgreSQL + PostGIS (failed instead with
// SATMARK_REQUIRE_ORACLES=1).

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/pgtest"
)

// pgSeededTemplate is the pgtest template database seeded with the sample data; its
// data folder (originals and pyramids) is pgSeededDir.
const pgSeededTemplate = "satmark_seeded"

var pgSeededDir struct {
	once sync.Once
	dir  string
	err  error
}

// pgSeeded returns a fresh data folder and PostgreSQL database holding the sample data,
// copies of one seeded once per test binary (in this process, through Main, so that a
// test of a command depends on that command alone).
func pgSeeded(t *testing.T) (data, dsn string) {
	t.Helper()
	pgSeededDir.once.Do(func() { pgSeededDir.dir, pgSeededDir.err = os.MkdirTemp("", "satmark-pgseeded-") })
	if pgSeededDir.err != nil {
		t.Fatal(pgSeededDir.err)
	}
	pgtest.Template(t, pgSeededTemplate, func(dsn string) error {
		cfg := DefaultConfig()
		cfg.DataDir, cfg.Database = pgSeededDir.dir, dsn
		return seed(cfg, false, io.Discard)
	})
	dsn = pgtest.DSNFrom(t, pgSeededTemplate)
	data = filepath.Join(t.TempDir(), "data")
	if out, err := exec.Command("cp", "-a", pgSeededDir.dir, data).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	return data, dsn
}

// pgStore opens the PostgreSQL database for a test to look at, closed when it ends.
func pgStore(t *testing.T, dsn string) *annotations.Store {
	t.Helper()
	s, err := annotations.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// noSQLiteFile fails the test when the data folder holds a satmark.db.
func noSQLiteFile(t *testing.T, data string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(data, "satmark.db")); !os.IsNotExist(err) {
		t.Errorf("satmark.db in the data folder: got %v, want none (the database is PostgreSQL)", err)
	}
}

// satmarkEnv is satmark with extra environment variables.
func satmarkEnv(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	out, err := command(t, env, args...).CombinedOutput()
	return string(out), err
}

func TestUserAndTokenCommandsOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	data := t.TempDir()
	env := []string{"SATMARK_DATABASE=" + dsn}
	add := command(t, env, "user", "add", "kim", "--role", "analyst", "--password-stdin", "--data", data)
	add.Stdin = strings.NewReader("a password for tests\n")
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("satmark user add with SATMARK_DATABASE: %v\n%s", err, out)
	}
	out, err := satmarkEnv(t, nil, "token", "create", "kim", "--label", "script", "--data", data, "--database", dsn)
	if err != nil || !strings.HasPrefix(strings.TrimSpace(out), "smk_") {
		t.Fatalf("satmark token create --database: %v\n%s", err, out)
	}
	if out, err := satmarkEnv(t, env, "user", "list", "--data", data); err != nil || !strings.Contains(out, "kim") {
		t.Errorf("satmark user list: %v\n%s", err, out)
	}
	if out, err := satmarkEnv(t, env, "token", "list", "kim", "--data", data); err != nil || !strings.Contains(out, "script") {
		t.Errorf("satmark token list: %v\n%s", err, out)
	}
	ctx := context.Background()
	s := pgStore(t, dsn)
	u, err := s.UserByName(ctx, "kim")
	if err != nil || u.Role != "analyst" {
		t.Fatalf("kim in PostgreSQL: %+v %v; want an analyst", u, err)
	}
	if toks, err := s.Tokens(ctx, u.ID); err != nil || len(toks) != 1 || toks[0].Name != "script" {
		t.Errorf("kim's tokens in PostgreSQL: %+v %v; want the one labelled script", toks, err)
	}
	noSQLiteFile(t, data)
}

func TestSeedOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	data := t.TempDir()
	out, err := satmarkEnv(t, nil, "seed", "--data", data, "--database", dsn)
	if err != nil || !strings.Contains(out, "Seeded 3 synthetic sample images") {
		t.Fatalf("satmark seed --database: %v\n%s", err, out)
	}
	imgs, err := pgStore(t, dsn).Images(context.Background())
	if err != nil || len(imgs) != 3 {
		t.Errorf("images in PostgreSQL: %d (%v), want 3", len(imgs), err)
	}
	if out, err := satmarkEnv(t, []string{"SATMARK_DATABASE=" + dsn}, "seed", "--data", data, "--if-empty"); err != nil ||
		!strings.Contains(out, "already holds 3 images") {
		t.Errorf("satmark seed --if-empty with SATMARK_DATABASE: %v\n%s", err, out)
	}
	noSQLiteFile(t, data)
}

func TestImportAndExportCommandsOnPostgres(t *testing.T) {
	data, dsn := pgSeeded(t)
	s := pgStore(t, dsn)
	img, anns := placedImage(t, s)
	geojson := filepath.Join(t.TempDir(), "port.geojson")
	if out, err := satmark(t, "export", "--data", data, "--database", dsn, "--image", img.ID, "--format", "geojson", geojson); err != nil ||
		!strings.Contains(out, "Exported ") {
		t.Fatalf("export --database: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(geojson); err != nil || strings.Count(string(b), `"type":"Feature"`)+strings.Count(string(b), `"type": "Feature"`) != len(anns) {
		t.Errorf("the export holds %d features (%v), want %d", strings.Count(string(b), `"Feature"`), err, len(anns))
	}
	env := []string{"SATMARK_DATABASE=" + dsn}
	if out, err := satmarkEnv(t, env, "import", "--data", data, "--image", img.ID, "--dry-run", geojson); err != nil ||
		!strings.Contains(out, "Dry run: would import") {
		t.Fatalf("import --dry-run with SATMARK_DATABASE: %v\n%s", err, out)
	}
	if out, err := satmarkEnv(t, env, "import", "--data", data, "--image", img.ID, geojson); err != nil {
		t.Fatalf("import with SATMARK_DATABASE: %v\n%s", err, out)
	}
	if _, now := placedImage(t, s); len(now) != 2*len(anns) {
		t.Errorf("annotations on the image in PostgreSQL after the import: %d, want %d", len(now), 2*len(anns))
	}
	noSQLiteFile(t, data)
}

func TestDatasetCommandOnPostgres(t *testing.T) {
	data, dsn := pgSeeded(t)
	out := filepath.Join(t.TempDir(), "ds")
	got, err := satmark(t, "dataset", out, "--format", "yolo-obb", "--chip", "1024", "--data", data, "--database", dsn)
	if err != nil || !strings.Contains(got, "Wrote a yolo-obb dataset of 3 images") {
		t.Fatalf("satmark dataset --database: %v\n%s", err, got)
	}
	if _, err := os.Stat(filepath.Join(out, "dataset.json")); err != nil {
		t.Errorf("no card: %v", err)
	}
	noSQLiteFile(t, data)
}

func TestBundleCommandOnPostgres(t *testing.T) {
	data, dsn := pgSeeded(t)
	img, anns := placedImage(t, pgStore(t, dsn))
	zp := filepath.Join(t.TempDir(), "evidence.zip")
	if out, err := satmarkEnv(t, []string{"SATMARK_DATABASE=" + dsn}, "bundle", "--data", data, "--image", img.ID, zp); err != nil {
		t.Fatalf("bundle with SATMARK_DATABASE: %v\n%s", err, out)
	}
	out, err := satmark(t, "verify-bundle", zp)
	if err != nil || !strings.Contains(out, "The bundle is intact") ||
		!strings.Contains(out, "each of the "+strconv.Itoa(len(anns))+" annotations") {
		t.Errorf("verify-bundle: %v\n%s", err, out)
	}
	noSQLiteFile(t, data)
}

// backup and restore copy a SQLite file: on PostgreSQL they refuse, saying what to use,
// and change nothing; verify checks the originals and tiles and says the database is
// pg_dump's and amcheck's to check.
func TestBackupRestoreVerifyOnPostgres(t *testing.T) {
	data, dsn := pgSeeded(t)
	env := []string{"SATMARK_DATABASE=" + dsn}
	out, err := satmarkEnv(t, env, "verify", "--data", data)
	if err != nil || !strings.Contains(out, "3 originals") || !strings.Contains(out, "pg_dump") || strings.Contains(out, "PROBLEM") {
		t.Fatalf("verify on PostgreSQL: %v\n%s\nwant the 3 originals checked, no problem, and a word on pg_dump", err, out)
	}
	tmp := t.TempDir()
	backup := filepath.Join(tmp, "backup")
	if out, err := satmarkEnv(t, env, "backup", backup, "--data", data); err == nil || !strings.Contains(out, "pg_dump") {
		t.Errorf("backup on PostgreSQL: %v\n%s\nwant a refusal naming pg_dump", err, out)
	}
	if _, err := os.Stat(backup); !os.IsNotExist(err) {
		t.Errorf("a refused backup made %s: %v", backup, err)
	}
	into := filepath.Join(tmp, "restored")
	if out, err := satmark(t, "restore", backup, "--data", into, "--database", dsn); err == nil || !strings.Contains(out, "pg_restore") {
		t.Errorf("restore on PostgreSQL: %v\n%s\nwant a refusal naming pg_restore", err, out)
	}
	if _, err := os.Stat(into); !os.IsNotExist(err) {
		t.Errorf("a refused restore made %s: %v", into, err)
	}

	// The originals are still checked: a damaged one is a problem.
	img, _ := placedImage(t, pgStore(t, dsn))
	orig := imagery.At(data).OriginalPath(img.SHA256)
	b, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	b[100] ^= 0xff
	os.Chmod(orig, 0o644)
	if err := os.WriteFile(orig, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := satmarkEnv(t, env, "verify", "--data", data); err == nil || !strings.Contains(out, "PROBLEM: image "+img.ID) {
		t.Errorf("verify of a damaged original on PostgreSQL: %v\n%s", err, out)
	}
	noSQLiteFile(t, data)
}

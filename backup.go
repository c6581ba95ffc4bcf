package main

// satmark backup, restore and verify: a data folder copied while it serves, brought back
// into an empty folder, and checked file by file against what the database says.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/server"
)

// backupManifest is backup.json, written last: a folder without it is no complete backup.
type backupManifest struct {
	Format    string         `json:"format"` // "satmark-backup"
	Version   int            `json:"version"`
	CreatedAt time.Time      `json:"created_at"`
	Satmark   string         `json:"satmark"` // the build that wrote it
	From      string         `json:"from"`    // the data folder it copies
	Database  string         `json:"database"`
	Images    []backupImage  `json:"images"`
	Totals    map[string]int `json:"totals"`
}

type backupImage struct {
	ID       string                `json:"id"`
	Title    string                `json:"title"`
	SHA256   string                `json:"sha256"`
	ByteSize int64                 `json:"byte_size"`
	Sidecars []annotations.Sidecar `json:"sidecars"`
	InTrash  bool                  `json:"in_trash"`
}

const backupFormat = "satmark-backup"

// dataCommand parses a command that works on a data folder and wants one folder argument
// (want 1) or none (want 0).
func dataCommand(cfg *Config, name, argName string, want int, args []string, stderr io.Writer, extra func(fs *flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := cfg.bind(fs, false); err != nil {
		return nil, err
	}
	if extra != nil {
		extra(fs)
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) != want {
		if want == 0 {
			return nil, fmt.Errorf("satmark %s takes no arguments, only flags (got %q)", name, pos)
		}
		return nil, fmt.Errorf("satmark %s wants one %s (got %d arguments)", name, argName, len(pos))
	}
	return pos, nil
}

// openExisting opens the database (the data folder's SQLite file, which must exist, or
// cfg's PostgreSQL database) and the image library of a data folder that must already
// hold them, without changing anything a running server may be using.
func openExisting(cfg Config) (*annotations.Store, *imagery.Library, error) {
	db := cfg.database()
	if !cfg.onPostgres() {
		if _, err := os.Stat(db); err != nil {
			return nil, nil, fmt.Errorf("%s holds no satmark database (%s): %w", cfg.DataDir, db, err)
		}
	}
	lib, err := imagery.OpenExisting(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	store, err := annotations.Open(db)
	if err != nil {
		return nil, nil, err
	}
	return store, lib, nil
}

// backupCommand is `satmark backup DIR`: the database through SQLite's online backup API
// (one consistent moment, while the server goes on writing), then every original and
// sidecar the copy names, each checked against its SHA-256 as it is copied, then
// backup.json. Derived files (tiles, thumbnails, renders) are left out: restore builds
// them again.
func backupCommand(cfg Config, args []string, stdout, stderr io.Writer) error {
	pos, err := dataCommand(&cfg, "backup", "folder to write the backup into", 1, args, stderr, nil)
	if err != nil {
		return err
	}
	dir := pos[0]
	if cfg.onPostgres() {
		return errors.New("satmark backup copies a SQLite data folder, and this store is PostgreSQL (--database / SATMARK_DATABASE): " +
			"back the database up with pg_dump (pg_dump -Fc -f satmark.dump URL) and copy the data folder's originals/ " +
			"(tiles and renders are rebuilt from them); nothing was written")
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty; back up into a new or empty folder (nothing was written)", dir)
	}
	live, lib, err := openExisting(cfg)
	if err != nil {
		return err
	}
	defer live.Close()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ctx := context.Background()
	start := time.Now()
	dbPath := filepath.Join(dir, "satmark.db")
	if err := live.Backup(ctx, dbPath); err != nil {
		return err
	}
	// The files to copy are the ones the copied database names, so the backup agrees with
	// itself even when images arrive or leave while it runs.
	snap, err := annotations.Open(dbPath)
	if err != nil {
		return fmt.Errorf("read the database copy: %w", err)
	}
	err = checkCopy(ctx, snap, dbPath)
	var images []annotations.StoredImage
	var totals map[string]int
	if err == nil {
		images, err = snap.StoredImages(ctx)
	}
	if err == nil {
		totals, err = snap.Totals(ctx)
	}
	if cerr := snap.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Copied the database (%d images, %d annotations) to %s.\n", totals["images"], totals["annotations"], dbPath)
	m := backupManifest{Format: backupFormat, Version: 1, CreatedAt: time.Now().UTC(), Satmark: server.Build(),
		From: cfg.DataDir, Database: "satmark.db", Totals: totals, Images: []backupImage{}}
	bar := newProgress(stdout, "originals", len(images))
	var copied int64
	for i, img := range images {
		n, err := copyOriginal(lib, dir, img.SHA256, img.ByteSize, img.Sidecars)
		if err != nil {
			bar.done()
			return fmt.Errorf("image %s (%q): %w; the backup in %s is incomplete (no backup.json)", img.ID, img.Title, err, dir)
		}
		copied += n
		m.Images = append(m.Images, backupImage{ID: img.ID, Title: img.Title, SHA256: img.SHA256, ByteSize: img.ByteSize, Sidecars: img.Sidecars, InTrash: img.InTrash})
		bar.step(i+1, img.Title)
	}
	bar.done()
	if err := writeJSONFile(filepath.Join(dir, "backup.json"), m); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backed up %s into %s: the database and %d originals (%s) in %s.\n",
		cfg.DataDir, dir, len(images), byteCount(copied), time.Since(start).Round(time.Millisecond))
	return nil
}

// checkCopy runs SQLite's checks over the copy: a copy that cannot be read fails the
// backup here, not at restore.
func checkCopy(ctx context.Context, s *annotations.Store, path string) error {
	problems, err := s.Check(ctx)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("the database copy %s fails SQLite's checks: %v", path, problems)
	}
	return nil
}

// copyOriginal copies one original and its sidecars from lib into the folder root (laid
// out as a data folder), checking each against the SHA-256 and size the database holds.
func copyOriginal(lib *imagery.Library, root, sha string, size int64, sidecars []annotations.Sidecar) (int64, error) {
	dst := imagery.At(root)
	total, err := copyChecked(dst.OriginalPath(sha), lib.OriginalPath(sha), sha, size)
	if err != nil {
		return 0, fmt.Errorf("its original: %w", err)
	}
	for _, s := range sidecars {
		n, err := copyChecked(filepath.Join(dst.SidecarDir(sha), s.Name), filepath.Join(lib.SidecarDir(sha), s.Name), s.SHA256, s.ByteSize)
		if err != nil {
			return 0, fmt.Errorf("its sidecar %s: %w", s.Name, err)
		}
		total += n
	}
	return total, nil
}

func copyChecked(dst, src, sha string, size int64) (int64, error) {
	got, n, err := imagery.CopyHashed(dst, src)
	if errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("%s is missing", src)
	}
	if err != nil {
		return 0, err
	}
	if got != sha || n != size {
		os.Remove(dst)
		return 0, fmt.Errorf("%s has SHA-256 %s and %d bytes, but the database recorded %s and %d bytes: the file has changed on disk", src, got, n, sha, size)
	}
	return n, nil
}

func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// restoreCommand is `satmark restore DIR`: a backup brought back into an empty data
// folder. Everything is copied and checked in a staging folder first and moved into place
// only when all of it is sound, so a refused restore leaves the folder as it was. The
// pyramids are then built again (unless --no-build).
func restoreCommand(cfg Config, args []string, stdout, stderr io.Writer) error {
	var noBuild bool
	pos, err := dataCommand(&cfg, "restore", "backup folder", 1, args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&noBuild, "no-build", false, "do not build the tile pyramids now (a server builds them when it starts)")
	})
	if err != nil {
		return err
	}
	dir := pos[0]
	if cfg.onPostgres() {
		return errors.New("satmark restore brings a SQLite backup back, and this store is PostgreSQL (--database / SATMARK_DATABASE): " +
			"restore the database with pg_restore (pg_restore -d URL satmark.dump) and copy the originals/ folder back " +
			"into the data folder; the server rebuilds tiles it does not find; nothing was changed")
	}
	var m backupManifest
	raw, err := os.ReadFile(filepath.Join(dir, "backup.json"))
	if err != nil {
		return fmt.Errorf("%s is not a complete satmark backup (no backup.json; was the backup interrupted?): %w", dir, err)
	}
	if err := json.Unmarshal(raw, &m); err != nil || m.Format != backupFormat {
		return fmt.Errorf("%s/backup.json is not a satmark backup manifest", dir)
	}
	if m.Version != 1 {
		return fmt.Errorf("%s is a version %d backup; this satmark reads version 1", dir, m.Version)
	}
	if err := checkEmptyDataDir(cfg.DataDir); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	stage, err := os.MkdirTemp(cfg.DataDir, ".restoring-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(stage)
	ctx := context.Background()
	start := time.Now()
	src := imagery.At(dir)
	if _, _, err := imagery.CopyHashed(filepath.Join(stage, "satmark.db"), filepath.Join(dir, m.Database)); err != nil {
		return fmt.Errorf("copy the database: %w", err)
	}
	staged, err := annotations.Open(filepath.Join(stage, "satmark.db"))
	if err != nil {
		return fmt.Errorf("the backup's database: %w", err)
	}
	problems, err := staged.Check(ctx)
	var images []annotations.StoredImage
	if err == nil && len(problems) == 0 {
		images, err = staged.StoredImages(ctx)
	}
	if cerr := staged.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("the backup's database: %w", err)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the backup's database fails SQLite's checks, nothing was restored: %v", problems)
	}
	bar := newProgress(stdout, "originals", len(images))
	for i, img := range images {
		if _, err := copyOriginal(src, stage, img.SHA256, img.ByteSize, img.Sidecars); err != nil {
			bar.done()
			return fmt.Errorf("image %s (%q): %w; nothing was restored", img.ID, img.Title, err)
		}
		bar.step(i+1, img.Title)
	}
	bar.done()
	// Into place: the originals first, the database last, so a data folder with a
	// database always has its files.
	if _, err := os.Stat(filepath.Join(stage, "originals")); err == nil {
		if err := os.Rename(filepath.Join(stage, "originals"), filepath.Join(cfg.DataDir, "originals")); err != nil {
			return err
		}
	}
	if err := os.Rename(filepath.Join(stage, "satmark.db"), filepath.Join(cfg.DataDir, "satmark.db")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s into %s: %d images, %d annotations (backed up %s).\n",
		dir, cfg.DataDir, m.Totals["images"], m.Totals["annotations"], m.CreatedAt.Format(time.RFC3339))
	mm := &Main{Config: cfg}
	defer mm.Close()
	if err := mm.Open(); err != nil {
		return err
	}
	n, err := mm.Store.RequeuePyramids(ctx)
	if err != nil {
		return err
	}
	if noBuild {
		fmt.Fprintf(stdout, "Queued %d tile pyramids; the server builds them when it starts.\n", n)
		return nil
	}
	mm.Builder.Drain(ctx)
	fmt.Fprintf(stdout, "Built %d tile pyramids; done in %s.\n", n, time.Since(start).Round(time.Millisecond))
	return nil
}

// checkEmptyDataDir refuses a data folder that already holds a database or originals:
// restore never mixes two histories or overwrites one.
func checkEmptyDataDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "satmark.db")); err == nil {
		return fmt.Errorf("the data folder %s already holds a database; restore only into an empty folder (nothing was changed)", dir)
	}
	if entries, err := os.ReadDir(filepath.Join(dir, "originals")); err == nil && len(entries) > 0 {
		return fmt.Errorf("the data folder %s already holds originals; restore only into an empty folder (nothing was changed)", dir)
	}
	return nil
}

// verifyCommand is `satmark verify`: SQLite's integrity and foreign-key checks; every
// image row's original and sidecars against their SHA-256 and size; every built
// pyramid's tiles against their CRC-32; and originals on disk that no row names. It
// prints a report and fails (exit status 1) when it finds a problem. On PostgreSQL it
// checks the files alone and says what checks the database.
func verifyCommand(cfg Config, args []string, stdout, stderr io.Writer) error {
	if _, err := dataCommand(&cfg, "verify", "", 0, args, stderr, nil); err != nil {
		return err
	}
	store, lib, err := openExisting(cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	ctx := context.Background()
	start := time.Now()
	var problems []string
	report := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	checked := "the database"
	dbProblems, err := store.Check(ctx)
	if errors.Is(err, annotations.ErrSQLiteOnly) {
		checked = "not the database (PostgreSQL)"
		fmt.Fprintln(stdout, "note: the database is PostgreSQL: verify checks the files only; check the database with "+
			"PostgreSQL's own tools (pg_amcheck URL, and a pg_dump that completes reads every row)")
		err = nil
	}
	if err != nil {
		return err
	}
	for _, p := range dbProblems {
		report("database: %s", p)
	}
	images, err := store.StoredImages(ctx)
	if err != nil {
		return err
	}
	named := map[string]bool{}
	var bytes int64
	tiles, pyramids := 0, 0
	bar := newProgress(stdout, "images", len(images))
	for i, img := range images {
		named[img.SHA256] = true
		who := fmt.Sprintf("image %s (%q)", img.ID, img.Title)
		sum, n, err := imagery.HashFile(lib.OriginalPath(img.SHA256))
		switch {
		case errors.Is(err, os.ErrNotExist):
			report("%s: its original %s is missing", who, lib.OriginalPath(img.SHA256))
		case err != nil:
			report("%s: its original cannot be read: %v", who, err)
		case sum != img.SHA256 || n != img.ByteSize:
			report("%s: its original has SHA-256 %s and %d bytes, but was stored as %s and %d bytes", who, sum, n, img.SHA256, img.ByteSize)
		}
		bytes += n
		for _, s := range img.Sidecars {
			path := filepath.Join(lib.SidecarDir(img.SHA256), s.Name)
			sum, n, err := imagery.HashFile(path)
			switch {
			case err != nil:
				report("%s: its sidecar %s cannot be read: %v", who, s.Name, err)
			case sum != s.SHA256 || n != s.ByteSize:
				report("%s: its sidecar %s has SHA-256 %s and %d bytes, but was stored as %s and %d bytes", who, s.Name, sum, n, s.SHA256, s.ByteSize)
			}
		}
		if img.PyramidState == "done" {
			check, err := lib.VerifyPyramid(img.SHA256)
			switch {
			case errors.Is(err, imagery.ErrNoPyramid):
				report("%s: its tile pyramid is missing or unreadable (%v); build it again (POST /api/v1/images/%s/pyramid)", who, err, img.ID)
			case err != nil:
				report("%s: its tile pyramid: %v", who, err)
			default:
				pyramids++
				tiles += check.Tiles
				for j, b := range check.Bad {
					if j == 5 {
						report("%s: %d more bad tiles", who, len(check.Bad)-5)
						break
					}
					report("%s: tile %s (served, it is rebuilt from the original)", who, b)
				}
			}
		}
		bar.step(i+1, img.Title)
	}
	bar.done()
	files, err := lib.OriginalFiles()
	if err != nil {
		return err
	}
	orphans := 0
	for _, sha := range files {
		if !named[sha] {
			orphans++
			fmt.Fprintf(stdout, "note: %s is an original no image names (left by an interrupted upload?); it is not a problem, and can be removed\n", lib.OriginalPath(sha))
		}
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, "PROBLEM:", p)
	}
	fmt.Fprintf(stdout, "Checked %s in %s: %s, %d originals (%s), %d pyramids (%d tiles); %d problems, %d unnamed files.\n",
		cfg.DataDir, time.Since(start).Round(time.Millisecond), checked, len(images), byteCount(bytes), pyramids, tiles, len(problems), orphans)
	if len(problems) > 0 {
		return fmt.Errorf("verify found %d problems in %s", len(problems), cfg.DataDir)
	}
	return nil
}

func byteCount(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

package main

// satmark migrate-to: a SQLite data folder's database copied into PostgreSQL, and the
// copy checked table by table and original by original.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

// migrateToCommand is `satmark migrate-to postgres://… [--data DIR]`: every table of
// DIR/satmark.db copied in one transaction into the PostgreSQL database (migrated here,
// and refused unless empty), then verified: the rows of each table counted and hashed on
// both sides, and each original in DIR hashed against the sha256 the copy holds. It
// prints a report and fails on any difference.
func migrateToCommand(cfg Config, args []string, stdout, stderr io.Writer) error {
	pos, err := dataCommand(&cfg, "migrate-to", "PostgreSQL URL (postgres://user:password@host:port/database)", 1, args, stderr, nil)
	if err != nil {
		return err
	}
	target := pos[0]
	if !annotations.IsPostgres(target) {
		return fmt.Errorf("migrate-to wants a postgres:// or postgresql:// URL, got %q", target)
	}
	dbPath := filepath.Join(cfg.DataDir, "satmark.db")
	// The source is always the data folder's SQLite file, whatever --database says.
	source := cfg
	source.Database = ""
	src, lib, err := openExisting(source)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := annotations.Open(target)
	if err != nil {
		return err
	}
	defer dst.Close()
	ctx := context.Background()
	start := time.Now()
	copied, err := src.CopyTo(ctx, dst)
	if err != nil {
		if errors.Is(err, annotations.ErrTargetNotEmpty) {
			return err
		}
		return fmt.Errorf("%w; the copy was rolled back, the target is as it was", err)
	}
	total := 0
	for _, c := range copied {
		total += c.Rows
	}
	fmt.Fprintf(stdout, "Copied %d rows in %d tables from %s in %s.\n", total, len(copied), dbPath, time.Since(start).Round(time.Millisecond))

	checks, err := src.CompareTables(ctx, dst)
	if err != nil {
		return fmt.Errorf("verify the copy: %w", err)
	}
	differ := 0
	fmt.Fprintf(stdout, "%-24s %8s %8s  %-16s %s\n", "table", "sqlite", "postgres", "rows sha256", "")
	for _, c := range checks {
		verdict := "same"
		switch {
		case c.MissingFromTarget:
			verdict = "MISSING from PostgreSQL"
		case c.MissingFromSource:
			verdict = "only in PostgreSQL (not in the SQLite database)"
		case !c.Same():
			verdict = "DIFFERENT"
		}
		if !c.Same() {
			differ++
		}
		fmt.Fprintf(stdout, "%-24s %8d %8d  %-16.16s %s\n", c.Table, c.SourceRows, c.Rows, c.Hash, verdict)
	}
	bad, n, err := checkOriginals(ctx, dst, lib, stdout)
	if err != nil {
		return fmt.Errorf("verify the originals: %w", err)
	}
	fmt.Fprintf(stdout, "Originals: %d of %d match the sha256 the PostgreSQL database holds.\n", n-bad, n)
	if differ > 0 || bad > 0 {
		return fmt.Errorf("the copy differs from %s: %d tables, %d originals (see above); the PostgreSQL database keeps the copy, empty it before trying again", dbPath, differ, bad)
	}
	fmt.Fprintf(stdout, "Verified: every table and every original is the same. Serve it with SATMARK_DATABASE=<the URL> satmark serve --data %s\n", cfg.DataDir)
	return nil
}

// checkOriginals hashes the original of every image dst holds, in lib, against its
// sha256 column, prints each that differs, and returns how many did and how many there are.
func checkOriginals(ctx context.Context, dst *annotations.Store, lib *imagery.Library, stdout io.Writer) (bad, n int, err error) {
	images, err := dst.StoredImages(ctx)
	if err != nil {
		return 0, 0, err
	}
	for _, img := range images {
		sum, size, err := imagery.HashFile(lib.OriginalPath(img.SHA256))
		switch {
		case errors.Is(err, os.ErrNotExist):
			fmt.Fprintf(stdout, "image %s (%q): its original %s is missing\n", img.ID, img.Title, lib.OriginalPath(img.SHA256))
			bad++
		case err != nil:
			return 0, 0, err
		case sum != img.SHA256 || size != img.ByteSize:
			fmt.Fprintf(stdout, "image %s (%q): its original has SHA-256 %s and %d bytes, the database says %s and %d bytes\n", img.ID, img.Title, sum, size, img.SHA256, img.ByteSize)
			bad++
		}
	}
	return bad, len(images), nil
}

package main

import (
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLoad runs a short version of the load test (make bench-load runs the full one): 8
// analysts for 4 s, then the same with the server killed 2 s in and restarted. Every
// acknowledged write must be there, none half-present, and no request may fail. Then it
// damages the database of the first run in the ways the checks exist to catch, and
// checks that they catch each.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds satmark and runs it under load for several seconds")
	}
	bin := buildSatmark(t)
	dir := t.TempDir() // the runs' data folders outlive their subtests: the damage below uses one
	var steady *Report
	for i, tt := range []struct {
		name      string
		killAfter time.Duration
	}{
		{"ok, steady load and a graceful stop", 0},
		{"ok, SIGKILL midway and a restart", 2 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Satmark: bin, Analysts: 8, Duration: 4 * time.Second, Images: 2, KillAfter: tt.killAfter,
				Data: filepath.Join(dir, fmt.Sprintf("data-%d", i)), Host: "127.0.0.1", Seed: 1}
			rep := run(t, cfg)
			final := rep.Verifications[len(rep.Verifications)-1]
			for _, op := range []string{opCreate, opEdit, opDelete, opComment} {
				if final.Acked[op] == 0 {
					t.Errorf("no acknowledged %s was checked", op)
				}
			}
			if tt.killAfter == 0 {
				if len(rep.Verifications) != 1 || rep.Stats["all"].cut != 0 {
					t.Errorf("got %d checks and %d requests cut by a kill; want 1 check after the stop and none cut",
						len(rep.Verifications), rep.Stats["all"].cut)
				}
				steady = rep
				return
			}
			if len(rep.Verifications) != 2 || rep.Verifications[0].APIImages != 2 {
				t.Errorf("got %d checks; want one after the restart comparing the API on 2 images, then one after the stop",
					len(rep.Verifications))
			}
		})
	}
	if steady == nil {
		return
	}
	good := filepath.Join(steady.Config.Data, "satmark.db")
	// Targets: an annotation edited at least once and still there, and one whose
	// creation was acknowledged.
	var edited string
	db, err := sql.Open("sqlite3", good)
	if err != nil {
		t.Fatal(err)
	}
	err = db.QueryRow(`SELECT id FROM annotations WHERE version >= 2 ORDER BY id LIMIT 1`).Scan(&edited)
	db.Close()
	if err != nil {
		t.Fatalf("finding an edited annotation: %v", err)
	}
	created, commented := "", ""
	for _, w := range steady.Writes {
		switch {
		case w.Outcome == acked && w.Op == opCreate:
			created = w.ID
		case w.Outcome == acked && w.Op == opComment:
			commented = w.Note
		}
	}
	for _, tt := range []struct {
		name   string
		id     string
		damage []string // SQL; ?1 is the annotation (the comment's text for a comment)
		want   string   // in a problem verify reports
	}{
		{"nok, an acknowledged create lost with its history", created,
			[]string{`DELETE FROM revisions WHERE annotation_id = ?1`, `DELETE FROM annotations WHERE id = ?1`}, "acknowledged create of"},
		{"nok, a row without its last revision", edited,
			[]string{`DELETE FROM revisions WHERE annotation_id = ?1 AND version = (SELECT MAX(version) FROM revisions WHERE annotation_id = ?1)`},
			"differs from its last revision"},
		{"nok, a revision without its row", edited, []string{`DELETE FROM annotations WHERE id = ?1`}, "half-present"},
		{"nok, a gap in the history", edited, []string{`DELETE FROM revisions WHERE annotation_id = ?1 AND version = 1`}, "a gap in its history"},
		{"nok, an acknowledged comment lost", commented, []string{`DELETE FROM comments WHERE body = ?1`}, "acknowledged comment"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			damaged := filepath.Join(t.TempDir(), "damaged.db")
			db, err := sql.Open("sqlite3", good)
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.Exec(`VACUUM INTO ?`, damaged)
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			db, err = sql.Open("sqlite3", damaged)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, stmt := range tt.damage {
				if _, err := db.Exec(stmt, tt.id); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			v, err := verify(context.Background(), database{path: damaged}, steady.Writes)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(v.Problems, "\n"), tt.want) {
				t.Errorf("got problems %q, want one saying %q", v.Problems, tt.want)
			}
		})
	}
}

// run performs a load run that must pass, logging its report.
func run(t *testing.T, cfg Config) *Report {
	t.Helper()
	var progress strings.Builder
	rep, err := Run(context.Background(), cfg, &progress)
	if err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var out strings.Builder
	rep.Print(&out)
	t.Log("\n" + out.String())
	if !rep.Passed() {
		t.Fatalf("the load run failed (data folder %s):\n%s", cfg.Data, strings.Join(rep.Problems, "\n"))
	}
	return rep
}

// buildSatmark builds the satmark binary of this module into a temporary folder.
func buildSatmark(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build satmark: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "satmark")
	if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/satmark/satmark").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/pgtest"
)

// userView is what a user sees of a store, read through its API: the images with their
// provenance and originals' hashes, every annotation with its geometry, review state and
// history, the claims, the reviews and the audit log.
func userView(t *testing.T, s *annotations.Store) []string {
	t.Helper()
	ctx := context.Background()
	var view []string
	images, err := s.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		view = append(view, fmt.Sprintf("image %s %q %s %dx%d source %s %q pyramid %s", img.ID, img.Title, img.SHA256, img.Width, img.Height, img.Source.ID, img.Source.Claim, img.Pyramid.State))
	}
	anns, err := s.Annotations(ctx, annotations.AnnotationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range anns {
		g, _ := json.Marshal(a.Geometry)
		view = append(view, fmt.Sprintf("annotation %s on %s v%d %s %s %s", a.ID, a.ImageID, a.Version, a.Label.ID, a.ReviewStatus, g))
		history, err := s.History(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range history {
			view = append(view, fmt.Sprintf("  revision %d %s by %s at %s %v", r.Version, r.Action, r.Actor, r.At, r.Changes))
		}
		reviews, err := s.Reviews(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reviews {
			view = append(view, fmt.Sprintf("  review v%d %s by %s %q", r.Version, r.Decision, r.Reviewer, r.Reason))
		}
	}
	claims, err := s.Claims(ctx, annotations.ClaimFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range claims {
		b, _ := json.Marshal(c)
		view = append(view, "claim "+string(b))
	}
	audit, err := s.AuditLog(ctx, annotations.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range audit {
		view = append(view, fmt.Sprintf("audit %s %s %s %s %s", e.At, e.Actor, e.Action, e.TargetID, e.Detail))
	}
	slices.Sort(view)
	return view
}

// TestMigrateToPostgres copies the seeded sample data folder, with annotations edited
// and reviewed, a claim and an account added, into PostgreSQL: the report says every
// table and original is the same, and the PostgreSQL store shows a user what the SQLite
// one did, signs the account in, and goes on numbering after the copied rows. A second
// run is refused and leaves the copy as it was.
func TestMigrateToPostgres(t *testing.T) {
	data := seededData(t)
	ctx := context.Background()
	src, err := annotations.Open(filepath.Join(data, "satmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	hash, err := annotations.HashPassword("correct horse battery", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	by := annotations.Actor{Name: "admin"}
	if _, err := src.CreateUser(ctx, by, annotations.NewUser{Name: "Ana", Role: annotations.RoleAnalyst, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	images, err := src.Images(ctx)
	if err != nil || len(images) == 0 {
		t.Fatalf("seeded images: %d, %v", len(images), err)
	}
	label, shape := "vessel", annotations.Shape("polygon")
	a, err := src.CreateAnnotation(ctx, "ana", images[0].ID, annotations.AnnotationInput{Label: &label, Shape: &shape,
		Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[10,10],[40,10],[40,30],[10,10]]]}`)})
	if err != nil {
		t.Fatal(err)
	}
	a, err = src.UpdateAnnotation(ctx, "ana", a.ID, annotations.AnnotationInput{Version: &a.Version,
		Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[12,10],[44,10],[44,33],[12,10]]]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if a, err = src.ReviewAnnotation(ctx, "ana", a.ID, a.Version, "submitted", ""); err != nil {
		t.Fatal(err)
	}
	if _, err = src.ReviewAnnotation(ctx, "rui", a.ID, a.Version, "accepted", ""); err != nil {
		t.Fatal(err)
	}
	text, lon, lat := "shows the harbour on the morning of 3 May", 12.5, -4.25
	if _, err := src.CreateClaim(ctx, by, images[0].Source.ID, annotations.ClaimInput{Text: &text, Lon: &lon, Lat: &lat}); err != nil {
		t.Fatal(err)
	}
	want := userView(t, src)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}

	dsn := pgtest.DSN(t)
	out, err := satmark(t, "migrate-to", dsn, "--data", data)
	if err != nil {
		t.Fatalf("migrate-to: %v\n%s", err, out)
	}
	for _, line := range []string{"Verified: every table and every original is the same", fmt.Sprintf("Originals: %d of %d match", len(images), len(images))} {
		if !strings.Contains(out, line) {
			t.Errorf("the report does not say %q:\n%s", line, out)
		}
	}
	t.Logf("report:\n%s", out)

	dst, err := annotations.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if dst.Backend() != "postgres" {
		t.Fatalf("got backend %s", dst.Backend())
	}
	got := userView(t, dst)
	if !slices.Equal(got, want) {
		t.Errorf("the PostgreSQL store shows %d lines, the SQLite one %d; first differences:\n%s", len(got), len(want), firstDifferences(got, want))
	}
	u, err := dst.UserByName(ctx, "ana")
	if err != nil || !annotations.PasswordMatches(u.PasswordHash, "correct horse battery") {
		t.Errorf("ana's account in PostgreSQL: %+v, %v; want her password to sign her in", u.Name, err)
	}
	// The copied ids are behind the identity sequences: new rows get new ids.
	b, err := dst.CreateAnnotation(ctx, "ana", images[0].ID, annotations.AnnotationInput{Label: &label, Shape: &shape,
		Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[50,50],[60,50],[60,60],[50,50]]]}`)})
	if err != nil {
		t.Fatalf("a new annotation after the copy: %v", err)
	}
	if h, err := dst.History(ctx, b.ID); err != nil || len(h) != 1 {
		t.Errorf("the new annotation's history: %v, %v", h, err)
	}

	// Once there is data, another copy is refused and writes nothing.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var before int
	db.QueryRow(`SELECT COUNT(*) FROM revisions`).Scan(&before)
	out, err = satmark(t, "migrate-to", dsn, "--data", data)
	if err == nil || !strings.Contains(out, "not empty") || !strings.Contains(out, "nothing was written") {
		t.Errorf("migrate-to into a database with data: %v\n%s; want a refusal saying it is not empty", err, out)
	}
	var after int
	db.QueryRow(`SELECT COUNT(*) FROM revisions`).Scan(&after)
	if after != before {
		t.Errorf("revisions after the refused copy: %d, want %d", after, before)
	}
}

func firstDifferences(got, want []string) string {
	var b strings.Builder
	shown := 0
	for _, g := range got {
		if !slices.Contains(want, g) && shown < 5 {
			fmt.Fprintf(&b, "only in PostgreSQL: %s\n", g)
			shown++
		}
	}
	for _, w := range want {
		if !slices.Contains(got, w) && shown < 10 {
			fmt.Fprintf(&b, "only in SQLite: %s\n", w)
			shown++
		}
	}
	return b.String()
}

func TestMigrateToRefusesBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args func(t *testing.T) []string
		want []string
		not  string
	}{
		{"nok, the server is not there", func(t *testing.T) []string {
			return []string{"migrate-to", "postgres://alice:s3cret@127.0.0.1:1/satmark?sslmode=disable&connect_timeout=2", "--data", seededData(t)}
		}, []string{"open PostgreSQL 127.0.0.1:1/satmark"}, "s3cret"},
		{"nok, no SQLite database in the data folder", func(t *testing.T) []string {
			return []string{"migrate-to", "postgres://alice@127.0.0.1:1/satmark", "--data", t.TempDir()}
		}, []string{"holds no satmark database", "satmark.db"}, ""},
		{"nok, not a PostgreSQL URL", func(t *testing.T) []string {
			return []string{"migrate-to", "/tmp/other.db", "--data", t.TempDir()}
		}, []string{"wants a postgres:// or postgresql:// URL"}, ""},
		{"nok, no URL", func(t *testing.T) []string {
			return []string{"migrate-to", "--data", t.TempDir()}
		}, []string{"wants one PostgreSQL URL"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := satmark(t, tc.args(t)...)
			if err == nil {
				t.Fatalf("got success:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("got %q, want it to say %q", out, w)
				}
			}
			if tc.not != "" && strings.Contains(out, tc.not) {
				t.Errorf("got %q, want it without %q", out, tc.not)
			}
		})
	}
}

// An original in the data folder that no longer matches the sha256 its image row holds
// makes the verification fail: the report names the image, and the command exits
// non-zero.
func TestMigrateToReportsAChangedOriginal(t *testing.T) {
	data := seededData(t)
	src, err := annotations.Open(filepath.Join(data, "satmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	images, err := src.StoredImages(context.Background())
	src.Close()
	if err != nil || len(images) == 0 {
		t.Fatalf("seeded images: %d, %v", len(images), err)
	}
	img := images[0]
	path := imagery.At(data).OriginalPath(img.SHA256)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("X"), 100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := satmark(t, "migrate-to", pgtest.DSN(t), "--data", data)
	if err == nil {
		t.Fatalf("migrate-to with a changed original: got success\n%s", out)
	}
	for _, want := range []string{"image " + img.ID, fmt.Sprintf("Originals: %d of %d match", len(images)-1, len(images)), "0 tables, 1 originals"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report does not say %q:\n%s", want, out)
		}
	}
}

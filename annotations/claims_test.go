package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var claimant = Actor{Name: "alice"}

// addClaim records a claim on the release sourceID.
func addClaim(t *testing.T, s *Store, sourceID, text string) Claim {
	t.Helper()
	c, err := s.CreateClaim(context.Background(), claimant, sourceID, ClaimInput{Text: &text})
	if err != nil {
		t.Fatalf("create claim %q: %v", text, err)
	}
	return c
}

// link links annotationID to claimID with stance and confidence.
func link(t *testing.T, s *Store, claimID, annotationID string, stance Stance, confidence float64, assessment string) Evidence {
	t.Helper()
	e, err := s.LinkEvidence(context.Background(), claimant, claimID, EvidenceInput{
		AnnotationID: annotationID, Stance: &stance, Confidence: &confidence, Assessment: &assessment})
	if err != nil {
		t.Fatalf("link %s to %s: %v", annotationID, claimID, err)
	}
	return e
}

// historyActions lists a claim's history as "target action version" lines.
func historyActions(t *testing.T, s *Store, claimID string) []string {
	t.Helper()
	h, err := s.ClaimHistory(context.Background(), claimID)
	if err != nil {
		t.Fatalf("history of %s: %v", claimID, err)
	}
	var out []string
	for _, r := range h {
		out = append(out, r.Target+" "+r.Action+" "+strconv.Itoa(r.Version))
	}
	return out
}

func TestClaims(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()

		t.Run("ok, a release carries several claims, edited by version with a history", func(t *testing.T) {
			s := openStore(t)
			img := addImage(t, s, "a", 100, 100, Provenance{})
			first := addClaim(t, s, img.Source.ID, "  landing ships transported troops 8–13 October ")
			if first.Text != "landing ships transported troops 8–13 October" || first.Version != 1 || first.State != ClaimUnassessed {
				t.Fatalf("got %+v, want the trimmed text at version 1, unassessed", first)
			}
			second := addClaim(t, s, img.Source.ID, "the ships left from Vladivostok")
			from, to, place := "2024-10-08", "2024-10-13", "Vladivostok"
			lon, lat := 131.9, 43.1
			got, err := s.UpdateClaim(ctx, Actor{Name: "bob"}, second.ID, ptr(1), ClaimInput{ClaimedFrom: &from, ClaimedTo: &to, PlaceName: &place, Lon: &lon, Lat: &lat})
			if err != nil {
				t.Fatal(err)
			}
			if got.Version != 2 || got.ClaimedFrom != from || got.ClaimedTo != to || got.PlaceName != place || *got.Lon != lon || got.UpdatedBy != "bob" || got.Text != second.Text {
				t.Errorf("after the update got %+v", got)
			}
			if _, err := s.UpdateClaim(ctx, claimant, second.ID, ptr(1), ClaimInput{Text: ptr("x")}); !errors.As(err, new(*StaleVersionError)) {
				t.Errorf("update from version 1 of 2: got %v, want a StaleVersionError", err)
			}
			if _, err := s.UpdateClaim(ctx, claimant, second.ID, nil, ClaimInput{Text: ptr("x")}); !errors.Is(err, ErrVersionRequired) {
				t.Errorf("update without a version: got %v, want ErrVersionRequired", err)
			}
			cs, err := s.Claims(ctx, ClaimFilter{ImageID: img.ID})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 2 || cs[0].ID != first.ID || cs[1].ID != second.ID {
				t.Errorf("the image's release's claims: got %+v, want the two in the order recorded", cs)
			}
			src, err := s.Source(ctx, img.Source.ID)
			if err != nil {
				t.Fatal(err)
			}
			if src.Claim != first.Text {
				t.Errorf("the release's claim: got %q, want its first claim %q", src.Claim, first.Text)
			}
			h, err := s.ClaimHistory(ctx, second.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != 2 || h[0].Action != "create" || h[1].Action != "update" || h[1].Actor != "bob" || h[1].Version != 2 {
				t.Fatalf("history: got %+v", h)
			}
			var before, after Claim
			if err := json.Unmarshal(h[1].Before, &before); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(h[1].After, &after); err != nil {
				t.Fatal(err)
			}
			if before.PlaceName != "" || after.PlaceName != place || after.Version != 2 {
				t.Errorf("the update's before and after: got %+v and %+v", before, after)
			}
			log, err := s.AuditLog(ctx, AuditFilter{Action: "claim"})
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != 3 || log[0].Action != "claim.update" || log[0].Actor != "bob" || log[0].TargetID != second.ID {
				t.Errorf("audit: got %+v, want two creates and bob's update", log)
			}
		})

		t.Run("ok, deleting a claim keeps its annotations and its history", func(t *testing.T) {
			s := openStore(t)
			img := addImage(t, s, "a", 100, 100, Provenance{})
			addLabel(t, s, "vessel")
			a := addAnnotation(t, s, "alice", img.ID, "vessel", ShapePoint, pointJSON, "")
			c := addClaim(t, s, img.Source.ID, "ships in port")
			link(t, s, c.ID, a.ID, StanceSupports, 0.8, "")
			if err := s.DeleteClaim(ctx, claimant, c.ID, ptr(1)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Claim(ctx, c.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("deleted claim: got %v, want ErrNotFound", err)
			}
			if _, err := s.Annotation(ctx, a.ID); err != nil {
				t.Errorf("the evidence's annotation: %v, want it kept", err)
			}
			if got, want := strings.Join(historyActions(t, s, c.ID), ", "), "claim create 1, evidence create 1, evidence delete 2, claim delete 2"; got != want {
				t.Errorf("history: got %s, want %s", got, want)
			}
		})

		nok := []struct {
			name  string
			in    ClaimInput
			field string
			bad   bool // malformed (400) rather than invalid (422)
		}{
			{"nok, no text", ClaimInput{}, "text", true},
			{"nok, blank text", ClaimInput{Text: ptr(" \t ")}, "text", true},
			{"nok, not a date", ClaimInput{Text: ptr("x"), ClaimedFrom: ptr("8 October")}, "claimed_from", true},
			{"nok, window ends before it starts", ClaimInput{Text: ptr("x"), ClaimedFrom: ptr("2024-10-13"), ClaimedTo: ptr("2024-10-08")}, "claimed_to", false},
			{"nok, lon without lat", ClaimInput{Text: ptr("x"), Lon: ptr(131.9)}, "lon", false},
			{"nok, lat beyond the pole", ClaimInput{Text: ptr("x"), Lon: ptr(131.9), Lat: ptr(91.0)}, "lon", false},
		}
		for _, tt := range nok {
			t.Run(tt.name, func(t *testing.T) {
				s := openStore(t)
				img := addImage(t, s, "a", 100, 100, Provenance{})
				_, err := s.CreateClaim(ctx, claimant, img.Source.ID, tt.in)
				if ve := wantValidation(t, err, tt.field); ve.Malformed != tt.bad {
					t.Errorf("got malformed = %v, want %v", ve.Malformed, tt.bad)
				}
				if n := count(t, s, `SELECT COUNT(*) FROM claims`); n != 0 {
					t.Errorf("got %d claims, want none", n)
				}
			})
		}

		t.Run("nok, unknown release", func(t *testing.T) {
			s := openStore(t)
			_, err := s.CreateClaim(ctx, claimant, "src_aaaaaaaaaaaa", ClaimInput{Text: ptr("x")})
			wantValidation(t, err, "source_id")
		})

		t.Run("nok, unknown claim", func(t *testing.T) {
			s := openStore(t)
			if _, err := s.UpdateClaim(ctx, claimant, "clm_aaaaaaaaaaaa", ptr(1), ClaimInput{Text: ptr("x")}); !errors.Is(err, ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
			if _, err := s.ClaimHistory(ctx, "clm_aaaaaaaaaaaa"); !errors.Is(err, ErrNotFound) {
				t.Errorf("history: got %v, want ErrNotFound", err)
			}
		})
	})
}

func TestEvidence(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		setup := func(t *testing.T) (*Store, Image, Claim, Annotation, Annotation) {
			t.Helper()
			s := openStore(t)
			img := addImage(t, s, "a", 100, 100, Provenance{})
			addLabel(t, s, "vessel")
			a := addAnnotation(t, s, "alice", img.ID, "vessel", ShapePoint, pointJSON, "")
			b := addAnnotation(t, s, "alice", img.ID, "vessel", ShapePoint, pointJSON, "")
			return s, img, addClaim(t, s, img.Source.ID, "landing ships transported troops 8–13 October"), a, b
		}

		t.Run("ok, link, change and unlink, the claim's state following", func(t *testing.T) {
			s, _, c, a, b := setup(t)
			e := link(t, s, c.ID, a.ID, StanceSupports, 0.7, "  two landing ships alongside ")
			if e.Assessment != "two landing ships alongside" || e.Confidence != 0.7 || e.Stance != StanceSupports || e.ImageID != a.ImageID || e.Version != 1 {
				t.Errorf("linked: got %+v", e)
			}
			wantState := func(want ClaimState, n int) {
				t.Helper()
				got, err := s.Claim(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != want || len(got.Evidence) != n {
					t.Errorf("got state %q with %d evidence, want %q with %d", got.State, len(got.Evidence), want, n)
				}
			}
			wantState(ClaimSupported, 1)
			f := link(t, s, c.ID, b.ID, StanceContradicts, 0.4, "the deck is empty")
			wantState(ClaimContested, 2)
			got, err := s.UpdateEvidence(ctx, Actor{Name: "bob"}, f.ID, ptr(1), EvidenceInput{Stance: ptr(StanceContext)})
			if err != nil {
				t.Fatal(err)
			}
			if got.Stance != StanceContext || got.Assessment != "the deck is empty" || got.Confidence != 0.4 || got.Version != 2 || got.UpdatedBy != "bob" {
				t.Errorf("changed: got %+v", got)
			}
			wantState(ClaimSupported, 2)
			if err := s.UnlinkEvidence(ctx, claimant, e.ID, ptr(1)); err != nil {
				t.Fatal(err)
			}
			wantState(ClaimUnassessed, 1)
			if _, err := s.Annotation(ctx, a.ID); err != nil {
				t.Errorf("unlinked annotation: %v, want it kept", err)
			}
			refs, err := s.EvidenceOf(ctx, []string{a.ImageID})
			if err != nil {
				t.Fatal(err)
			}
			if len(refs[a.ID]) != 0 || len(refs[b.ID]) != 1 || refs[b.ID][0].ClaimID != c.ID || refs[b.ID][0].Stance != StanceContext {
				t.Errorf("evidence of the image: got %+v", refs)
			}
			if got, want := strings.Join(historyActions(t, s, c.ID), ", "),
				"claim create 1, evidence create 1, evidence create 1, evidence update 2, evidence delete 2"; got != want {
				t.Errorf("history: got %s, want %s", got, want)
			}
			log, err := s.AuditLog(ctx, AuditFilter{Action: "evidence"})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range log {
				actions = append(actions, e.Action)
			}
			sort.Strings(actions)
			if got, want := strings.Join(actions, " "), "evidence.link evidence.link evidence.unlink evidence.update"; got != want {
				t.Errorf("audit: got %s, want %s", got, want)
			}
		})

		t.Run("ok, confidence defaults to 0.5", func(t *testing.T) {
			s, _, c, a, _ := setup(t)
			e, err := s.LinkEvidence(ctx, claimant, c.ID, EvidenceInput{AnnotationID: a.ID, Stance: ptr(StanceSupports)})
			if err != nil {
				t.Fatal(err)
			}
			if e.Confidence != 0.5 {
				t.Errorf("got confidence %g, want 0.5", e.Confidence)
			}
		})

		t.Run("ok, a deleted annotation takes its links with it", func(t *testing.T) {
			s, _, c, a, _ := setup(t)
			link(t, s, c.ID, a.ID, StanceSupports, 0.9, "")
			if err := s.DeleteAnnotation(ctx, claimant, a.ID, ptr(a.Version)); err != nil {
				t.Fatal(err)
			}
			got, err := s.Claim(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Evidence) != 0 || got.State != ClaimUnassessed {
				t.Errorf("got %+v, want no evidence left", got)
			}
		})

		t.Run("ok, evidence on an image in the trash is left out", func(t *testing.T) {
			s, img, c, a, _ := setup(t)
			link(t, s, c.ID, a.ID, StanceSupports, 0.9, "")
			if _, err := s.TrashImage(ctx, Actor{Name: "root"}, img.ID); err != nil {
				t.Fatal(err)
			}
			got, err := s.Claim(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Evidence) != 0 {
				t.Errorf("got %d evidence, want none shown from the trash", len(got.Evidence))
			}
		})

		bad := []struct {
			name  string
			in    func(a Annotation) EvidenceInput
			field string
		}{
			{"nok, no stance", func(a Annotation) EvidenceInput { return EvidenceInput{AnnotationID: a.ID} }, "stance"},
			{"nok, unknown stance", func(a Annotation) EvidenceInput {
				return EvidenceInput{AnnotationID: a.ID, Stance: ptr(Stance("refutes"))}
			}, "stance"},
			{"nok, confidence above 1", func(a Annotation) EvidenceInput {
				return EvidenceInput{AnnotationID: a.ID, Stance: ptr(StanceSupports), Confidence: ptr(1.5)}
			}, "confidence"},
			{"nok, negative confidence", func(a Annotation) EvidenceInput {
				return EvidenceInput{AnnotationID: a.ID, Stance: ptr(StanceSupports), Confidence: ptr(-0.1)}
			}, "confidence"},
		}
		for _, tt := range bad {
			t.Run(tt.name, func(t *testing.T) {
				s, _, c, a, _ := setup(t)
				_, err := s.LinkEvidence(ctx, claimant, c.ID, tt.in(a))
				if ve := wantValidation(t, err, tt.field); !ve.Malformed {
					t.Errorf("got %v, want it malformed (400)", ve)
				}
				if n := count(t, s, `SELECT COUNT(*) FROM evidence`); n != 0 {
					t.Errorf("got %d links, want none", n)
				}
			})
		}

		t.Run("nok, an annotation on another release's image", func(t *testing.T) {
			s, _, c, _, _ := setup(t)
			other := addImage(t, s, "other", 100, 100, Provenance{})
			o := addAnnotation(t, s, "alice", other.ID, "vessel", ShapePoint, pointJSON, "")
			_, err := s.LinkEvidence(ctx, claimant, c.ID, EvidenceInput{AnnotationID: o.ID, Stance: ptr(StanceSupports)})
			ve := wantValidation(t, err, "annotation_id")
			if !ve.Malformed || !strings.Contains(ve.Error(), "another release") {
				t.Errorf("got %v, want a malformed error naming the other release", ve)
			}
		})

		t.Run("ok, an annotation on another image of the same release is evidence", func(t *testing.T) {
			s, img, c, _, _ := setup(t)
			sibling := addSourceImage(t, s, "sibling", img.Source.ID)
			o := addAnnotation(t, s, "alice", sibling.ID, "vessel", ShapePoint, pointJSON, "")
			if e := link(t, s, c.ID, o.ID, StanceContext, 0.5, ""); e.ImageID != sibling.ID {
				t.Errorf("got image %s, want %s", e.ImageID, sibling.ID)
			}
		})

		t.Run("nok, unknown annotation or claim", func(t *testing.T) {
			s, _, c, a, _ := setup(t)
			if _, err := s.LinkEvidence(ctx, claimant, c.ID, EvidenceInput{AnnotationID: "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa", Stance: ptr(StanceSupports)}); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown annotation: got %v, want ErrNotFound", err)
			}
			if _, err := s.LinkEvidence(ctx, claimant, "clm_aaaaaaaaaaaa", EvidenceInput{AnnotationID: a.ID, Stance: ptr(StanceSupports)}); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown claim: got %v, want ErrNotFound", err)
			}
			if err := s.UnlinkEvidence(ctx, claimant, "evd_aaaaaaaaaaaa", ptr(1)); !errors.Is(err, ErrNotFound) {
				t.Errorf("unknown evidence: got %v, want ErrNotFound", err)
			}
		})

		t.Run("nok, the same annotation twice", func(t *testing.T) {
			s, _, c, a, _ := setup(t)
			link(t, s, c.ID, a.ID, StanceSupports, 0.9, "")
			if _, err := s.LinkEvidence(ctx, claimant, c.ID, EvidenceInput{AnnotationID: a.ID, Stance: ptr(StanceContradicts)}); !errors.Is(err, ErrConflict) {
				t.Errorf("got %v, want ErrConflict", err)
			}
		})

		t.Run("nok, stale unlink", func(t *testing.T) {
			s, _, c, a, _ := setup(t)
			e := link(t, s, c.ID, a.ID, StanceSupports, 0.9, "")
			if _, err := s.UpdateEvidence(ctx, claimant, e.ID, ptr(1), EvidenceInput{Confidence: ptr(0.2)}); err != nil {
				t.Fatal(err)
			}
			if err := s.UnlinkEvidence(ctx, claimant, e.ID, ptr(1)); !errors.As(err, new(*StaleVersionError)) {
				t.Errorf("got %v, want a StaleVersionError", err)
			}
		})
	})
}

// TestUploadClaimIsTheFirstClaim: the claim given with an upload (and later in the
// image's provenance) is its release's first claim.
func TestUploadClaimIsTheFirstClaim(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "a", 100, 100, Provenance{Claim: ptr("troops embarked at Vladivostok")})
		cs, err := s.Claims(ctx, ClaimFilter{SourceID: img.Source.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].Text != "troops embarked at Vladivostok" || cs[0].CreatedBy != "analyst" || img.Source.Claim != cs[0].Text {
			t.Fatalf("got claims %+v and source claim %q, want one first claim", cs, img.Source.Claim)
		}
		got, err := s.UpdateImage(ctx, Actor{Name: "bob"}, img.ID, Provenance{Claim: ptr("troops embarked at Nakhodka")})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Claim(ctx, cs[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Source.Claim != "troops embarked at Nakhodka" || c.Text != got.Source.Claim || c.Version != 2 || c.UpdatedBy != "bob" {
			t.Errorf("after the edit: source claim %q, claim %+v", got.Source.Claim, c)
		}
		addLabel(t, s, "vessel")
		a := addAnnotation(t, s, "alice", img.ID, "vessel", ShapePoint, pointJSON, "")
		link(t, s, c.ID, a.ID, StanceSupports, 0.6, "")
		_, err = s.UpdateImage(ctx, claimant, img.ID, Provenance{Claim: ptr("")})
		wantValidation(t, err, "claim")
		if _, err := s.Claim(ctx, c.ID); err != nil {
			t.Errorf("the claim with evidence: %v, want it kept", err)
		}
	})
}

// TestMigrationMovesTheReleaseClaim: a database at 0018, whose releases each had one
// claim field, opens with that claim as the release's first claim and no claim column.
func TestMigrationMovesTheReleaseClaim(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "satmark.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_journal_mode=WAL")
	if err != nil {
		t.Fatal(err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	if _, err := db.Exec(`CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if name >= "migrations/0019" {
			break
		}
		body, err := migrations.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, '2024-10-01T00:00:00Z')`, name); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO sources (id, publisher, claim, created_at) VALUES
			('src_claimedaaaa', 'National Intelligence Service', ' landing ships transported troops 8–13 October ', '2024-10-18T09:00:00Z'),
			('src_silentaaaaa', 'somebody', '', '2024-10-18T10:00:00Z')`,
		`INSERT INTO images (id, sha256, source_id, media_type, byte_size, width, height, created_by, created_at, updated_at) VALUES
			('img_secondaaaaa', 'b', 'src_claimedaaaa', 'image/jpeg', 1, 10, 10, 'carol', '2024-10-18T09:05:00Z', '2024-10-18T09:05:00Z'),
			('img_firstaaaaaa', 'a', 'src_claimedaaaa', 'image/jpeg', 1, 10, 10, 'dave', '2024-10-18T09:01:00Z', '2024-10-18T09:01:00Z'),
			('img_silentaaaaa', 'c', 'src_silentaaaaa', 'image/jpeg', 1, 10, 10, 'carol', '2024-10-18T10:00:00Z', '2024-10-18T10:00:00Z')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("open at 0018: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := s.Claim(ctx, "clm_claimedaaaa")
	if err != nil {
		t.Fatalf("the moved claim: %v", err)
	}
	if c.SourceID != "src_claimedaaaa" || c.Text != "landing ships transported troops 8–13 October" || c.CreatedBy != "dave" ||
		c.Version != 1 || c.CreatedAt.Format("2006-01-02T15:04:05Z") != "2024-10-18T09:00:00Z" {
		t.Errorf("got %+v, want the release's claim, by the first image's uploader, at the release's time", c)
	}
	img, err := s.Image(ctx, "img_secondaaaaa")
	if err != nil {
		t.Fatal(err)
	}
	if img.Source.Claim != c.Text {
		t.Errorf("the image's release claim: got %q, want %q", img.Source.Claim, c.Text)
	}
	silent, err := s.Claims(ctx, ClaimFilter{SourceID: "src_silentaaaaa"})
	if err != nil {
		t.Fatal(err)
	}
	if len(silent) != 0 {
		t.Errorf("a release without a claim: got %+v, want no claims", silent)
	}
	if n := count(t, s, `SELECT COUNT(*) FROM pragma_table_info('sources') WHERE name = 'claim'`); n != 0 {
		t.Errorf("sources still has its claim column")
	}
	h, err := s.ClaimHistory(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 || h[0].Action != "create" || h[0].Actor != "dave" || !strings.Contains(string(h[0].After), "migration 0019") {
		t.Errorf("history: got %+v, want its creation by the migration", h)
	}
	// The moved claim is a claim like any other.
	if _, err := s.UpdateClaim(ctx, claimant, c.ID, ptr(1), ClaimInput{Text: ptr("landing ships transported troops 8–14 October")}); err != nil {
		t.Errorf("edit the moved claim: %v", err)
	}
}

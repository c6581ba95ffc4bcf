package annotations

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCreateImage(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()

		t.Run("ok, new image with its release, place runs inside the transaction", func(t *testing.T) {
			s := openStore(t)
			sha := shaOf("korea-1")
			placed := 0
			img, created, err := s.CreateImage(ctx, NewImage{
				SHA256: sha, Filename: "nis-1.jpg", MediaType: "image/jpeg", ByteSize: 4096, Width: 1200, Height: 800,
				Provenance: Provenance{
					Publisher: ptr("National Intelligence Service, Republic of Korea"), ReleasedAt: ptr("2024-10-18"),
					SourceURL: ptr("https://www.nis.go.kr/"), CapturedFrom: ptr("2024-10-08"), CapturedTo: ptr("2024-10-13"),
					Claim: ptr("Russian landing ships moved North Korean special forces."), PublisherMarkup: ptr(true),
				},
				CreatedBy: Actor{Name: "alice"},
			}, func() (func(), error) {
				placed++
				// Another connection must not see the uncommitted rows yet.
				if n := count(t, s, `SELECT COUNT(*) FROM images WHERE sha256 = ?`, sha); n != 0 {
					t.Errorf("inside place: got %d committed image rows, want 0 (place must run before the commit)", n)
				}
				return func() {}, nil
			})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if !created || placed != 1 {
				t.Fatalf("got created = %v and %d calls to place, want true and 1", created, placed)
			}
			if img.Title != "nis-1.jpg" {
				t.Errorf("got title %q, want the file name when no title is given", img.Title)
			}
			if img.Orientation != 1 {
				t.Errorf("got orientation %d, want 1 by default", img.Orientation)
			}
			if img.Source.Publisher != "National Intelligence Service, Republic of Korea" || img.Source.ReleasedAt != "2024-10-18" {
				t.Errorf("got source %+v, want the publisher and release date given", img.Source)
			}
			if img.CapturedFrom != "2024-10-08" || img.CapturedTo != "2024-10-13" || !img.PublisherMarkup {
				t.Errorf("got capture %q–%q markup %v, want 2024-10-08–2024-10-13 and markup", img.CapturedFrom, img.CapturedTo, img.PublisherMarkup)
			}
			if img.Width != 1200 || img.Height != 800 || img.CreatedBy != "alice" || img.SHA256 != sha {
				t.Errorf("got %+v, want 1200×800 by alice with sha %s", img, sha)
			}
			got, err := s.ImageBySHA256(ctx, sha)
			if err != nil || got.ID != img.ID {
				t.Errorf("ImageBySHA256: got %q (%v), want %q", got.ID, err, img.ID)
			}
		})

		t.Run("nok, place fails: no image row and no release row", func(t *testing.T) {
			s := openStore(t)
			errDisk := errors.New("disk full")
			_, created, err := s.CreateImage(ctx, NewImage{
				SHA256: shaOf("x"), MediaType: "image/png", ByteSize: 1, Width: 1, Height: 1,
				Provenance: Provenance{Publisher: ptr("someone")}, CreatedBy: Actor{Name: "alice"},
			}, func() (func(), error) { return nil, errDisk })
			if !errors.Is(err, errDisk) || created {
				t.Fatalf("got created = %v, err %v, want false and %v", created, err, errDisk)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM images`); n != 0 {
				t.Errorf("got %d image rows, want 0", n)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM sources`); n != 0 {
				t.Errorf("got %d release rows, want 0", n)
			}
			if _, err := s.ImageBySHA256(ctx, shaOf("x")); !errors.Is(err, ErrNotFound) {
				t.Errorf("ImageBySHA256: got %v, want ErrNotFound", err)
			}
		})

		t.Run("ok, same SHA-256 again returns the existing image without calling place", func(t *testing.T) {
			s := openStore(t)
			first := addImage(t, s, "dup", 10, 10, Provenance{Title: ptr("first")})
			again, created, err := s.CreateImage(ctx, NewImage{
				SHA256: shaOf("dup"), Filename: "other-name.png", MediaType: "image/png", ByteSize: 1, Width: 10, Height: 10,
				Provenance: Provenance{Title: ptr("second")}, CreatedBy: Actor{Name: "bob"},
			}, func() (func(), error) {
				t.Errorf("place was called for bytes that are already stored")
				return func() {}, nil
			})
			if err != nil {
				t.Fatalf("create again: %v", err)
			}
			if created || again.ID != first.ID || again.Title != "first" {
				t.Errorf("got created = %v, id %q, title %q; want false, %q, \"first\"", created, again.ID, again.Title, first.ID)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM images`); n != 1 {
				t.Errorf("got %d image rows, want 1", n)
			}
		})

		t.Run("ok, attach to an existing release", func(t *testing.T) {
			s := openStore(t)
			first := addImage(t, s, "a", 10, 10, Provenance{Publisher: ptr("NIS")})
			second := addSourceImage(t, s, "b", first.Source.ID)
			if second.Source.ID != first.Source.ID || second.Source.Publisher != "NIS" {
				t.Errorf("got source %+v, want the release %s of the first image", second.Source, first.Source.ID)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM sources`); n != 1 {
				t.Errorf("got %d releases, want 1", n)
			}
		})

		t.Run("nok, unknown release id", func(t *testing.T) {
			s := openStore(t)
			_, _, err := s.CreateImage(ctx, NewImage{
				SHA256: shaOf("y"), MediaType: "image/png", ByteSize: 1, Width: 1, Height: 1,
				SourceID: "src_aaaaaaaaaaaa", CreatedBy: Actor{Name: "alice"},
			}, func() (func(), error) {
				t.Errorf("place was called for an image that cannot be stored")
				return func() {}, nil
			})
			wantValidation(t, err, "source_id")
			if n := count(t, s, `SELECT COUNT(*) FROM images`); n != 0 {
				t.Errorf("got %d image rows, want 0", n)
			}
		})

		t.Run("nok, invalid provenance stores nothing", func(t *testing.T) {
			s := openStore(t)
			_, _, err := s.CreateImage(ctx, NewImage{
				SHA256: shaOf("z"), MediaType: "image/png", ByteSize: 1, Width: 1, Height: 1,
				Provenance: Provenance{ReleasedAt: ptr("yesterday")}, CreatedBy: Actor{Name: "alice"},
			}, func() (func(), error) {
				t.Errorf("place was called for an image with invalid provenance")
				return func() {}, nil
			})
			wantValidation(t, err, "released_at")
			if n := count(t, s, `SELECT COUNT(*) FROM images`); n != 0 {
				t.Errorf("got %d image rows, want 0", n)
			}
		})
	})
}

func TestProvenanceNormalize(t *testing.T) {
	long := strings.Repeat("x", maxTextField+1)
	tests := []struct {
		name      string
		in        Provenance
		want      Provenance // only the fields that are set are compared
		wantField string
	}{
		{name: "ok, date kept as YYYY-MM-DD", in: Provenance{ReleasedAt: ptr("2024-10-18")}, want: Provenance{ReleasedAt: ptr("2024-10-18")}},
		{name: "ok, RFC 3339 with offset converted to UTC", in: Provenance{ReleasedAt: ptr("2024-10-18T09:30:00+09:00")}, want: Provenance{ReleasedAt: ptr("2024-10-18T00:30:00Z")}},
		{name: "ok, offset crossing midnight changes the date", in: Provenance{CapturedFrom: ptr("2024-10-08T05:00:00+09:00")}, want: Provenance{CapturedFrom: ptr("2024-10-07T20:00:00Z")}},
		{name: "ok, date and time without zone read as UTC", in: Provenance{CapturedTo: ptr("2024-10-13T14:05")}, want: Provenance{CapturedTo: ptr("2024-10-13T14:05:00Z")}},
		{name: "ok, surrounding space trimmed", in: Provenance{ReleasedAt: ptr(" 2024-10-18 "), Publisher: ptr("  NIS \n")}, want: Provenance{ReleasedAt: ptr("2024-10-18"), Publisher: ptr("NIS")}},
		{name: "ok, empty dates stay empty", in: Provenance{ReleasedAt: ptr(""), CapturedFrom: ptr(""), CapturedTo: ptr("")}, want: Provenance{ReleasedAt: ptr(""), CapturedFrom: ptr(""), CapturedTo: ptr("")}},
		{name: "ok, https URL", in: Provenance{SourceURL: ptr("https://www.nis.go.kr/news?id=1")}, want: Provenance{SourceURL: ptr("https://www.nis.go.kr/news?id=1")}},
		{name: "ok, text of exactly the limit", in: Provenance{Claim: ptr(long[1:])}, want: Provenance{Claim: ptr(long[1:])}},
		{
			name: "ok, date-only captured_to on the same day as a timed captured_from",
			in:   Provenance{CapturedFrom: ptr("2024-10-08T15:00:00Z"), CapturedTo: ptr("2024-10-08")},
			want: Provenance{CapturedFrom: ptr("2024-10-08T15:00:00Z"), CapturedTo: ptr("2024-10-08")},
		},
		{
			name: "ok, capture window of one day",
			in:   Provenance{CapturedFrom: ptr("2024-10-08"), CapturedTo: ptr("2024-10-08")},
			want: Provenance{CapturedFrom: ptr("2024-10-08"), CapturedTo: ptr("2024-10-08")},
		},
		{name: "nok, month 13 day 45", in: Provenance{CapturedFrom: ptr("2024-13-45")}, wantField: "captured_from"},
		{name: "nok, yesterday", in: Provenance{ReleasedAt: ptr("yesterday")}, wantField: "released_at"},
		{name: "nok, US date order", in: Provenance{CapturedTo: ptr("10/13/2024")}, wantField: "captured_to"},
		{name: "nok, captured_to before captured_from", in: Provenance{CapturedFrom: ptr("2024-10-13"), CapturedTo: ptr("2024-10-08")}, wantField: "captured_to"},
		{name: "nok, timed captured_to before a date-only captured_from", in: Provenance{CapturedFrom: ptr("2024-10-09"), CapturedTo: ptr("2024-10-08T23:59:00Z")}, wantField: "captured_to"},
		{name: "nok, ftp URL", in: Provenance{SourceURL: ptr("ftp://example.org/a.jpg")}, wantField: "source_url"},
		{name: "nok, javascript URL", in: Provenance{SourceURL: ptr("javascript:alert(1)")}, wantField: "source_url"},
		{name: "nok, URL without a host", in: Provenance{SourceURL: ptr("https:///path")}, wantField: "source_url"},
		{name: "nok, over-long claim", in: Provenance{Claim: ptr(long)}, wantField: "claim"},
		{name: "nok, over-long title", in: Provenance{Title: ptr(long)}, wantField: "title"},
		{name: "nok, notes that are not UTF-8", in: Provenance{Notes: ptr("caf\xe9")}, wantField: "notes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Normalize()
			if tt.wantField != "" {
				ve := wantValidation(t, err, tt.wantField)
				if !ve.Malformed {
					t.Errorf("got Malformed = false, want true")
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			for _, f := range []struct {
				name      string
				got, want *string
			}{
				{"released_at", tt.in.ReleasedAt, tt.want.ReleasedAt},
				{"captured_from", tt.in.CapturedFrom, tt.want.CapturedFrom},
				{"captured_to", tt.in.CapturedTo, tt.want.CapturedTo},
				{"publisher", tt.in.Publisher, tt.want.Publisher},
				{"source_url", tt.in.SourceURL, tt.want.SourceURL},
				{"claim", tt.in.Claim, tt.want.Claim},
			} {
				if f.want != nil && (f.got == nil || *f.got != *f.want) {
					t.Errorf("%s: got %q, want %q", f.name, str(f.got), *f.want)
				}
			}
		})
	}
}

func TestUpdateImage(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		full := Provenance{
			Title: ptr("Landing ship at Vladivostok"), Publisher: ptr("NIS"), SourceURL: ptr("https://example.org/release"),
			ReleasedAt: ptr("2024-10-18"), Credit: ptr("NIS"), License: ptr("public release"), Claim: ptr("the claim"),
			Notes: ptr("notes"), CapturedFrom: ptr("2024-10-08"), CapturedTo: ptr("2024-10-13"), LocationName: ptr("Vladivostok"),
		}

		t.Run("ok, partial update leaves the other fields", func(t *testing.T) {
			s := openStore(t)
			before := addImage(t, s, "a", 10, 10, full)
			got, err := s.UpdateImage(ctx, Actor{Name: "tester"}, before.ID, Provenance{LocationName: ptr("Ussuriysk")})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			want := before
			want.LocationName = "Ussuriysk"
			if got.LocationName != "Ussuriysk" {
				t.Errorf("got location %q, want Ussuriysk", got.LocationName)
			}
			if got.Title != want.Title || got.CapturedFrom != want.CapturedFrom || got.CapturedTo != want.CapturedTo ||
				got.PublisherMarkup != want.PublisherMarkup {
				t.Errorf("got image fields %+v, want them unchanged from %+v", got, want)
			}
			if got.Source.Publisher != want.Source.Publisher || got.Source.URL != want.Source.URL || got.Source.ReleasedAt != want.Source.ReleasedAt ||
				got.Source.Credit != want.Source.Credit || got.Source.License != want.Source.License || got.Source.Claim != want.Source.Claim ||
				got.Source.Notes != want.Source.Notes {
				t.Errorf("got source %+v, want it unchanged: %+v", got.Source, want.Source)
			}
		})

		t.Run("ok, release fields change for every image of the release", func(t *testing.T) {
			s := openStore(t)
			a := addImage(t, s, "a", 10, 10, full)
			b := addSourceImage(t, s, "b", a.Source.ID)
			if _, err := s.UpdateImage(ctx, Actor{Name: "tester"}, a.ID, Provenance{Publisher: ptr("National Intelligence Service"), ReleasedAt: ptr("2024-10-19T08:00:00+09:00")}); err != nil {
				t.Fatalf("update: %v", err)
			}
			got, err := s.Image(ctx, b.ID)
			if err != nil {
				t.Fatalf("image b: %v", err)
			}
			if got.Source.Publisher != "National Intelligence Service" || got.Source.ReleasedAt != "2024-10-18T23:00:00Z" {
				t.Errorf("got the other image's release %q released %q, want the new publisher and 2024-10-18T23:00:00Z",
					got.Source.Publisher, got.Source.ReleasedAt)
			}
		})

		t.Run("ok, updated_at moves and created_at stays", func(t *testing.T) {
			s := openStore(t)
			stepClock(t, s, time.Date(2024, 10, 18, 9, 0, 0, 0, time.UTC), time.Minute)
			before := addImage(t, s, "a", 10, 10, full)
			got, err := s.UpdateImage(ctx, Actor{Name: "tester"}, before.ID, Provenance{PublisherMarkup: ptr(true)})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if !got.PublisherMarkup {
				t.Errorf("got publisher markup false, want true")
			}
			if !got.CreatedAt.Equal(before.CreatedAt) || !got.UpdatedAt.After(before.UpdatedAt) {
				t.Errorf("got created %v updated %v, want created %v and a later update than %v", got.CreatedAt, got.UpdatedAt, before.CreatedAt, before.UpdatedAt)
			}
		})

		t.Run("nok, new captured_to before the stored captured_from", func(t *testing.T) {
			s := openStore(t)
			img := addImage(t, s, "a", 10, 10, full)
			_, err := s.UpdateImage(ctx, Actor{Name: "tester"}, img.ID, Provenance{CapturedTo: ptr("2024-10-01")})
			wantValidation(t, err, "captured_to")
			got, _ := s.Image(ctx, img.ID)
			if got.CapturedTo != "2024-10-13" {
				t.Errorf("got captured_to %q after a rejected update, want 2024-10-13", got.CapturedTo)
			}
		})

		t.Run("nok, malformed date", func(t *testing.T) {
			s := openStore(t)
			img := addImage(t, s, "a", 10, 10, full)
			_, err := s.UpdateImage(ctx, Actor{Name: "tester"}, img.ID, Provenance{ReleasedAt: ptr("2024-02-30")})
			wantValidation(t, err, "released_at")
		})

		t.Run("nok, unknown image", func(t *testing.T) {
			s := openStore(t)
			if _, err := s.UpdateImage(ctx, Actor{Name: "tester"}, "img_aaaaaaaaaaaa", Provenance{Title: ptr("x")}); !errors.Is(err, ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
		})
	})
}

// trashAndPurge deletes an image for good, as an admin does: trash, then purge.
func trashAndPurge(t *testing.T, s *Store, actor, id string) (Image, error) {
	t.Helper()
	if _, err := s.TrashImage(context.Background(), Actor{Name: actor}, id); err != nil {
		return Image{}, err
	}
	return s.PurgeImage(context.Background(), Actor{Name: actor}, id)
}

func TestTrashImage(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		square := `{"type":"Polygon","coordinates":[[[1,1],[5,1],[5,5],[1,5],[1,1]]]}`

		t.Run("ok, a trashed image and its annotations leave every list until restored", func(t *testing.T) {
			s := openStore(t)
			img := addImage(t, s, "a", 100, 100, Provenance{Publisher: ptr("NIS")})
			keep := addImage(t, s, "b", 100, 100, Provenance{})
			addLabel(t, s, "vessel")
			a1 := addAnnotation(t, s, "alice", img.ID, "vessel", ShapeRectangle, square, "")
			if _, err := s.TrashImage(ctx, Actor{Name: "bob"}, img.ID); err != nil {
				t.Fatalf("trash: %v", err)
			}
			if _, err := s.Image(ctx, img.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("Image of a trashed image: got %v, want ErrNotFound", err)
			}
			if _, err := s.Annotation(ctx, a1.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("Annotation on a trashed image: got %v, want ErrNotFound", err)
			}
			if all, _ := s.Images(ctx); len(all) != 1 || all[0].ID != keep.ID {
				t.Errorf("Images: got %d, want only %s", len(all), keep.ID)
			}
			if anns, _ := s.Annotations(ctx, AnnotationFilter{}); len(anns) != 0 {
				t.Errorf("Annotations: got %d, want none (their image is in the trash)", len(anns))
			}
			trash, err := s.Trash(ctx)
			if err != nil || len(trash) != 1 || trash[0].ID != img.ID || trash[0].DeletedBy != "bob" || trash[0].DeletedAt.IsZero() {
				t.Fatalf("Trash: got %+v (%v), want %s deleted by bob", trash, err, img.ID)
			}
			// The same bytes uploaded again point at the trash instead of making a copy.
			_, _, err = s.CreateImage(ctx, NewImage{SHA256: img.SHA256, ByteSize: img.ByteSize, MediaType: img.MediaType, Width: 100, Height: 100, Filename: "again.png"}, nil)
			if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "trash") {
				t.Errorf("re-upload of trashed bytes: got %v, want ErrConflict naming the trash", err)
			}
			restored, err := s.RestoreImage(ctx, Actor{Name: "root"}, img.ID)
			if err != nil || restored.ID != img.ID || restored.AnnotationCount != 1 {
				t.Fatalf("restore: got %+v (%v), want the image back with its annotation", restored, err)
			}
			if got, err := s.Annotation(ctx, a1.ID); err != nil || got.Version != 1 {
				t.Errorf("annotation after restore: got %+v (%v), want it as it was", got, err)
			}
			if trash, _ := s.Trash(ctx); len(trash) != 0 {
				t.Errorf("Trash after restore: got %d, want 0", len(trash))
			}
		})

		t.Run("nok, unknown or already trashed image", func(t *testing.T) {
			s := openStore(t)
			img := addImage(t, s, "a", 10, 10, Provenance{})
			if _, err := s.TrashImage(ctx, Actor{Name: "bob"}, "img_aaaaaaaaaaaa"); !errors.Is(err, ErrNotFound) {
				t.Errorf("trash unknown: got %v, want ErrNotFound", err)
			}
			if _, err := s.TrashImage(ctx, Actor{Name: "bob"}, img.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.TrashImage(ctx, Actor{Name: "bob"}, img.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("trash twice: got %v, want ErrNotFound", err)
			}
			if _, err := s.RestoreImage(ctx, Actor{Name: "root"}, "img_aaaaaaaaaaaa"); !errors.Is(err, ErrNotFound) {
				t.Errorf("restore unknown: got %v, want ErrNotFound", err)
			}
		})
	})
}

func TestPurgeImage(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		square := `{"type":"Polygon","coordinates":[[[1,1],[5,1],[5,5],[1,5],[1,1]]]}`

		t.Run("ok, annotations deleted with a delete revision each, orphan release removed", func(t *testing.T) {
			s := openStore(t)
			img := addImage(t, s, "a", 100, 100, Provenance{Publisher: ptr("NIS")})
			addLabel(t, s, "vessel")
			a1 := addAnnotation(t, s, "alice", img.ID, "vessel", ShapeRectangle, square, "")
			a2 := addAnnotation(t, s, "alice", img.ID, "vessel", ShapePoint, `{"type":"Point","coordinates":[3,3]}`, "")
			deleted, err := trashAndPurge(t, s, "bob", img.ID)
			if err != nil {
				t.Fatalf("purge: %v", err)
			}
			if deleted.ID != img.ID || deleted.SHA256 != img.SHA256 {
				t.Errorf("got purged image %q (%s), want %q", deleted.ID, deleted.SHA256, img.ID)
			}
			if trash, _ := s.Trash(ctx); len(trash) != 0 {
				t.Errorf("Trash after purge: got %d, want 0", len(trash))
			}
			if _, err := s.Source(ctx, img.Source.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("Source after purge: got %v, want ErrNotFound (no image left on it)", err)
			}
			if n := count(t, s, `SELECT COUNT(*) FROM annotations`); n != 0 {
				t.Errorf("got %d annotations, want 0", n)
			}
			for _, a := range []Annotation{a1, a2} {
				revs, err := s.History(ctx, a.ID)
				if err != nil {
					t.Fatalf("history of %s: %v", a.ID, err)
				}
				last := revs[len(revs)-1]
				if len(revs) != 2 || last.Action != "delete" || last.Actor != "bob" || last.Version != 2 || last.Before == nil || last.After != nil {
					t.Errorf("got history %+v, want create then a delete by bob as version 2", revs)
				}
			}
		})

		t.Run("ok, release shared with another image is kept", func(t *testing.T) {
			s := openStore(t)
			a := addImage(t, s, "a", 10, 10, Provenance{Publisher: ptr("NIS")})
			b := addSourceImage(t, s, "b", a.Source.ID)
			if _, err := trashAndPurge(t, s, "bob", a.ID); err != nil {
				t.Fatalf("purge: %v", err)
			}
			got, err := s.Image(ctx, b.ID)
			if err != nil || got.Source.ID != a.Source.ID || got.Source.Publisher != "NIS" {
				t.Errorf("got other image %+v (%v), want it still on release %s", got.Source, err, a.Source.ID)
			}
		})

		t.Run("nok, an image not in the trash is not purged", func(t *testing.T) {
			s := openStore(t)
			img := addImage(t, s, "a", 10, 10, Provenance{})
			if _, err := s.PurgeImage(ctx, Actor{Name: "bob"}, img.ID); !errors.Is(err, ErrNotFound) {
				t.Errorf("purge outside the trash: got %v, want ErrNotFound", err)
			}
			if _, err := s.Image(ctx, img.ID); err != nil {
				t.Errorf("image after refused purge: %v", err)
			}
			if _, err := s.PurgeImage(ctx, Actor{Name: "bob"}, "img_aaaaaaaaaaaa"); !errors.Is(err, ErrNotFound) {
				t.Errorf("purge unknown: got %v, want ErrNotFound", err)
			}
		})
	})
}

// Timestamps within the same second, some with trailing zeros in their fraction, must
// still come out newest first.
func TestImagesNewestFirstWithAnnotationCounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		stepClock(t, s, time.Date(2024, 10, 18, 9, 0, 0, 90_000_000, time.UTC), 10*time.Millisecond)
		addLabel(t, s, "vessel")
		var ids []string
		wantCounts := map[string]int{}
		for i, name := range []string{"a", "b", "c", "d"} {
			img := addImage(t, s, name, 100, 100, Provenance{})
			ids = append(ids, img.ID)
			for j := 0; j < i; j++ {
				addAnnotation(t, s, "alice", img.ID, "vessel", ShapePoint, `{"type":"Point","coordinates":[1,2]}`, "")
			}
			wantCounts[img.ID] = i
		}
		images, err := s.Images(ctx)
		if err != nil {
			t.Fatalf("images: %v", err)
		}
		if len(images) != len(ids) {
			t.Fatalf("got %d images, want %d", len(images), len(ids))
		}
		for i, img := range images {
			if want := ids[len(ids)-1-i]; img.ID != want {
				t.Errorf("position %d: got %s (created %v), want %s", i, img.ID, img.CreatedAt, want)
			}
			if img.AnnotationCount != wantCounts[img.ID] {
				t.Errorf("image %s: got %d annotations, want %d", img.ID, img.AnnotationCount, wantCounts[img.ID])
			}
		}
		empty := openStore(t)
		none, err := empty.Images(ctx)
		if err != nil || none == nil || len(none) != 0 {
			t.Errorf("empty store: got %#v (%v), want an empty, non-nil list", none, err)
		}
	})
}

func TestSources(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		stepClock(t, s, time.Date(2024, 10, 18, 9, 0, 0, 0, time.UTC), 100*time.Millisecond)
		older := addImage(t, s, "a", 10, 10, Provenance{Publisher: ptr("NIS"), Title: ptr("release one")})
		addSourceImage(t, s, "a2", older.Source.ID)
		newer := addImage(t, s, "b", 10, 10, Provenance{Publisher: ptr("Maxar"), SourceURL: ptr("https://example.com/x")})
		sources, err := s.Sources(ctx)
		if err != nil {
			t.Fatalf("sources: %v", err)
		}
		if len(sources) != 2 || sources[0].ID != newer.Source.ID || sources[1].ID != older.Source.ID {
			t.Fatalf("got %+v, want the two releases newest first: %s, %s", sources, newer.Source.ID, older.Source.ID)
		}
		if sources[0].Publisher != "Maxar" || sources[0].URL != "https://example.com/x" || sources[1].Title != "release one" {
			t.Errorf("got %+v, want the release fields as stored", sources)
		}
		got, err := s.Source(ctx, older.Source.ID)
		if err != nil || got.Publisher != "NIS" {
			t.Errorf("Source: got %+v (%v), want NIS", got, err)
		}
		if _, err := s.Source(ctx, "src_aaaaaaaaaaaa"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown release: got %v, want ErrNotFound", err)
		}

		// A release whose images are all in the trash is not offered; it comes back with them.
		if _, err := s.TrashImage(ctx, Actor{Name: "tester"}, newer.ID); err != nil {
			t.Fatal(err)
		}
		if sources, _ := s.Sources(ctx); len(sources) != 1 || sources[0].ID != older.Source.ID {
			t.Errorf("with Maxar's only image in the trash: got %+v, want NIS's release alone", sources)
		}
		if _, err := s.RestoreImage(ctx, Actor{Name: "root"}, newer.ID); err != nil {
			t.Fatal(err)
		}
		if sources, _ := s.Sources(ctx); len(sources) != 2 {
			t.Errorf("after restoring: got %d releases, want 2", len(sources))
		}
	})
}

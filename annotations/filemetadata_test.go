package annotations

import (
	"context"
	"path/filepath"
	"testing"
)

// TestMigrationMarksExistingCaptureWindowsAsTheRelease: images stored before file
// metadata was kept say their window is the release's (when they have one) and carry an
// empty list of the file's items.
func TestMigrationMarksExistingCaptureWindowsAsTheRelease(t *testing.T) {
	path := filepath.Join(t.TempDir(), "satmark.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	dated := addImage(t, s, "dated", 10, 10, Provenance{CapturedFrom: ptr("2024-10-08")})
	undated := addImage(t, s, "undated", 10, 10, Provenance{})
	// Back to the schema before 0009, as a store of the previous release has it.
	for _, q := range []string{`ALTER TABLE images DROP COLUMN file_metadata`, `ALTER TABLE images DROP COLUMN captured_source`,
		`DELETE FROM schema_migrations WHERE name LIKE '%0009_file_metadata.sql'`} {
		if _, err := s.DB().Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	for id, want := range map[string]string{dated.ID: CapturedByRelease, undated.ID: ""} {
		img, err := s.Image(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if img.CapturedSource != want || img.FileMetadata.Raw == nil || len(img.FileMetadata.Raw) != 0 {
			t.Errorf("%s: got captured source %q, raw %v; want %q and an empty list", img.Filename, img.CapturedSource, img.FileMetadata.Raw, want)
		}
	}
}

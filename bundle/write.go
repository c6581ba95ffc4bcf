// Package bundle writes and checks evidence bundles: one zip that carries an image's
// original bytes, its provenance, its annotations, every revision they have had and the
// image's audit trail, with a manifest of SHA-256 hashes that anyone can check, with
// satmark (Verify, `satmark verify-bundle`) or without it (`sha256sum -c SHA256SUMS`).
package bundle

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// Format names the layout in the manifest; Verify refuses any other.
const Format = "satmark-evidence-bundle/1"

// The bundle's fixed files.
const (
	ReadmeFile     = "README.txt"
	ProvenanceFile = "provenance.json"
	GeorefFile     = "georeference.json"
	PixelFile      = "annotations.geojson"
	LonLatFile     = "annotations-wgs84.geojson"
	HistoryFile    = "history.jsonl"
	AuditFile      = "audit.json"
	ManifestFile   = "manifest.json"
	SumsFile       = "SHA256SUMS"
	originalDir    = "original/"
)

// File is one file of the bundle as the manifest lists it.
type File struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Role   string `json:"role"` // original, sidecar, readme, provenance, georeference, annotations, history, audit
}

// ImageRef is the image a bundle is of.
type ImageRef struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Filename  string `json:"filename"`
	MediaType string `json:"media_type"`
	SHA256    string `json:"sha256"`
	ByteSize  int64  `json:"byte_size"`
}

// Manifest is manifest.json: what the bundle holds and the hash of every file but itself
// and SHA256SUMS (which lists the manifest too).
type Manifest struct {
	Format      string    `json:"format"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	Satmark     string    `json:"satmark"`
	Image       ImageRef  `json:"image"`
	Annotations int       `json:"annotations"` // features in annotations.geojson
	Revisions   int       `json:"revisions"`   // lines in history.jsonl
	Files       []File    `json:"files"`
}

// Originals is where an image's original and its sidecars are kept (imagery.Library).
type Originals interface {
	OriginalPath(sha string) string
	SidecarDir(sha string) string
}

// Source is what a bundle is made of.
type Source struct {
	Store     *annotations.Store
	Originals Originals
	Image     annotations.Image
	Place     formats.Placement // the image's georeference or GSD
	By        string            // who asked for it
	Build     string            // satmark's version
	Now       time.Time
}

// Write writes the bundle of src.Image to w as a zip, streaming: the original is copied
// and hashed as it goes, and a original whose bytes no longer have the SHA-256 satmark
// recorded stops the bundle with an error (what is written is then no bundle).
func Write(ctx context.Context, w io.Writer, src Source) error {
	img := src.Image
	zw := zip.NewWriter(w)
	m := Manifest{Format: Format, CreatedAt: src.Now.UTC().Truncate(time.Second), CreatedBy: src.By, Satmark: src.Build,
		Image: ImageRef{ID: img.ID, Title: img.Title, Filename: img.Filename, MediaType: img.MediaType, SHA256: img.SHA256, ByteSize: img.ByteSize}}
	add := func(name, role string, compress bool, write func(w io.Writer) error) error {
		method := zip.Store
		if compress {
			method = zip.Deflate
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method, Modified: m.CreatedAt})
		if err != nil {
			return err
		}
		hw := &hashWriter{w: fw, h: sha256.New()}
		bw := bufio.NewWriterSize(hw, 64<<10)
		if err := write(bw); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		m.Files = append(m.Files, File{Path: name, SHA256: hex.EncodeToString(hw.h.Sum(nil)), Size: hw.n, Role: role})
		return nil
	}
	jsonFile := func(v any) func(w io.Writer) error {
		return func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		}
	}

	if err := add(ReadmeFile, "readme", true, func(w io.Writer) error { return writeReadme(w, img) }); err != nil {
		return err
	}
	// The original, stored as it is (it is compressed already, and a reader can check it
	// byte for byte), and the files that came with it.
	orig := originalDir + safeName(img.Filename, "original")
	if err := add(orig, "original", false, copyFile(src.Originals.OriginalPath(img.SHA256))); err != nil {
		return err
	}
	if f := m.Files[len(m.Files)-1]; f.SHA256 != img.SHA256 || f.Size != img.ByteSize {
		return fmt.Errorf("the original on disk has SHA-256 %s and %d bytes, but satmark recorded %s and %d bytes: the file has changed; run satmark verify",
			f.SHA256, f.Size, img.SHA256, img.ByteSize)
	}
	for _, sc := range img.Sidecars {
		name := originalDir + "sidecars/" + safeName(sc.Name, "sidecar")
		if err := add(name, "sidecar", true, copyFile(filepath.Join(src.Originals.SidecarDir(img.SHA256), sc.Name))); err != nil {
			return err
		}
		if f := m.Files[len(m.Files)-1]; f.SHA256 != sc.SHA256 {
			return fmt.Errorf("the sidecar %s on disk has SHA-256 %s, but satmark recorded %s", sc.Name, f.SHA256, sc.SHA256)
		}
	}
	if err := add(ProvenanceFile, "provenance", true, jsonFile(map[string]any{"image": img, "source": img.Source})); err != nil {
		return err
	}
	g, err := src.Store.Georeference(ctx, img.ID)
	switch {
	case err == nil:
		if err := add(GeorefFile, "georeference", true, jsonFile(g)); err != nil {
			return err
		}
	case !errors.Is(err, annotations.ErrNotFound):
		return err
	}

	// The annotations as they are now, in pixels and (placed) on the earth.
	decisions, err := src.Store.LatestDecisions(ctx, []string{img.ID})
	if err != nil {
		return err
	}
	images := []annotations.Image{img}
	places := map[string]formats.Placement{img.ID: src.Place}
	each := func(count *int) func(emit func(annotations.Annotation) error) error {
		return func(emit func(annotations.Annotation) error) error {
			return src.Store.EachAnnotation(ctx, annotations.AnnotationFilter{ImageIDs: []string{img.ID}}, func(a annotations.Annotation) error {
				a.Ground = src.Place.Measure(a)
				if d, ok := decisions[a.ID]; ok {
					a.Decision = &d
				}
				if count != nil {
					*count++
				}
				return emit(a)
			})
		}
	}
	if err := add(PixelFile, "annotations", true, func(w io.Writer) error {
		return formats.WritePixelGeoJSON(w, images, each(&m.Annotations))
	}); err != nil {
		return err
	}
	if src.Place.Georeferenced() {
		if err := add(LonLatFile, "annotations", true, func(w io.Writer) error {
			return formats.WriteLonLatGeoJSON(w, images, places, nil, each(nil))
		}); err != nil {
			return err
		}
	}
	// Every revision, deleted annotations' too: one JSON object a line.
	if err := add(HistoryFile, "history", true, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		return src.Store.ImageHistory(ctx, img.ID, func(r annotations.Revision) error {
			m.Revisions++
			return enc.Encode(r)
		})
	}); err != nil {
		return err
	}
	audit, err := imageAudit(ctx, src.Store, img.ID)
	if err != nil {
		return err
	}
	if err := add(AuditFile, "audit", true, jsonFile(audit)); err != nil {
		return err
	}

	listed := append([]File(nil), m.Files...)
	if err := add(ManifestFile, "manifest", true, jsonFile(m)); err != nil {
		return err
	}
	listed = append(listed, m.Files[len(m.Files)-1])
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: SumsFile, Method: zip.Deflate, Modified: m.CreatedAt})
	if err != nil {
		return err
	}
	for _, f := range listed {
		// sha256sum's format: the hash, two spaces (text mode), the name.
		if _, err := fmt.Fprintf(fw, "%s  %s\n", f.SHA256, f.Path); err != nil {
			return err
		}
	}
	return zw.Close()
}

// imageAudit is every audit entry about the image, oldest first.
func imageAudit(ctx context.Context, s *annotations.Store, imageID string) ([]annotations.AuditEntry, error) {
	var all []annotations.AuditEntry
	f := annotations.AuditFilter{TargetID: imageID, Limit: 1000}
	for {
		page, err := s.AuditLog(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			break
		}
		f.Before = page[len(page)-1].ID
	}
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	return all, nil
}

func copyFile(p string) func(w io.Writer) error {
	return func(w io.Writer) error {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	}
}

// safeName is a file name fit for a zip entry: its base, without separators or dots
// that lead anywhere.
func safeName(name, fallback string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == ':' {
			return '_'
		}
		return r
	}, name)
	if name == "." || name == ".." || name == "/" || name == "" {
		return fallback
	}
	return name
}

type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (h *hashWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func writeReadme(w io.Writer, img annotations.Image) error {
	_, err := fmt.Fprintf(w, `satmark evidence bundle: %s

The image %q (%s), byte for byte as it was received, with its provenance, its
annotations, every revision they have had and the image's audit trail.

  original/            the original file (and any files that came with it, in sidecars/)
  provenance.json      the release and the image as satmark records them
  georeference.json    its control points and transform, when it is placed
  annotations.geojson  the annotations in the image's pixels (x right, y down)
  annotations-wgs84.geojson  the same in longitude and latitude (RFC 7946), when placed
  history.jsonl        every revision of every annotation, one JSON object a line
  audit.json           who did what to the image, when
  manifest.json        what is here, with each file's SHA-256 and size
  SHA256SUMS           the SHA-256 of every file above, manifest.json included

Check it without satmark:   unzip the bundle, then run  sha256sum -c SHA256SUMS
Check it with satmark:      satmark verify-bundle THIS.zip
(which also checks that the original's SHA-256 is the one recorded for the image and that
the annotations are the last versions in the history).

The image's SHA-256: %s
`, img.ID, img.Title, img.Filename, img.SHA256)
	return err
}

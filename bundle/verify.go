package bundle

import (
	"archive/zip"
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Report is what Verify found: the checks that passed, and every problem. A bundle is
// sound when Problems is empty.
type Report struct {
	Manifest Manifest
	Checked  []string
	Problems []string
}

// OK says whether the bundle passed every check.
func (r Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

func (r *Report) passed(format string, args ...any) {
	r.Checked = append(r.Checked, fmt.Sprintf(format, args...))
}

// maxListing bounds what Verify reads into memory of the small files it parses
// (manifest.json, SHA256SUMS); the others are streamed.
const maxListing = 64 << 20

// Verify checks a bundle: that it is a zip whose names lead nowhere outside it, that
// SHA256SUMS lists every file but itself and each file has its hash and the manifest's
// size, that the manifest agrees, that the original has the SHA-256 and size recorded
// for the image, and that annotations.geojson holds exactly the last version of every
// annotation the history has not deleted (and the history has no gap in any
// annotation's versions). It reports every problem it finds rather than stopping at the
// first; an error is a file that cannot be read as a zip at all.
func Verify(r io.ReaderAt, size int64) (Report, error) {
	var rep Report
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return rep, fmt.Errorf("this is not a zip file: %w", err)
	}
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		if why := unsafeName(f.Name); why != "" {
			rep.problem("the entry %q %s", f.Name, why)
			continue
		}
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if _, dup := entries[f.Name]; dup {
			rep.problem("the entry %q is in the zip twice", f.Name)
		}
		entries[f.Name] = f
	}
	sums, err := readSums(entries[SumsFile])
	if err != nil {
		rep.problem("%s: %v", SumsFile, err)
		return rep, nil
	}
	if err := readJSON(entries[ManifestFile], &rep.Manifest); err != nil {
		rep.problem("%s: %v", ManifestFile, err)
		return rep, nil
	}
	m := rep.Manifest
	if m.Format != Format {
		rep.problem("%s says the format is %q; this satmark checks %q", ManifestFile, m.Format, Format)
		return rep, nil
	}

	// Every file: listed, present, its hash.
	listed := map[string]File{}
	for _, f := range m.Files {
		listed[f.Path] = f
	}
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == SumsFile {
			continue
		}
		want, ok := sums[name]
		if !ok {
			rep.problem("%s is in the zip but not in %s: it was added after the bundle was made", name, SumsFile)
			continue
		}
		got, n, err := hashEntry(entries[name])
		switch {
		case err != nil:
			rep.problem("%s cannot be read: %v", name, err)
		case got != want:
			rep.problem("%s has SHA-256 %s, but %s says %s: it has changed", name, got, SumsFile, want)
		default:
			rep.passed("%s: SHA-256 %s, %d bytes", name, got, n)
		}
		if f, ok := listed[name]; ok && (f.SHA256 != want || (err == nil && f.Size != n)) {
			rep.problem("%s: the manifest says SHA-256 %s and %d bytes, %s says %s and the file has %d bytes", name, f.SHA256, f.Size, SumsFile, want, n)
		} else if !ok && name != ManifestFile {
			rep.problem("%s is not in the manifest", name)
		}
	}
	for name := range sums {
		if _, ok := entries[name]; !ok {
			rep.problem("%s is listed in %s but missing from the zip", name, SumsFile)
		}
	}
	for _, f := range m.Files {
		if _, ok := sums[f.Path]; !ok {
			rep.problem("%s is in the manifest but not in %s", f.Path, SumsFile)
		}
	}
	if _, ok := sums[ManifestFile]; !ok {
		rep.problem("%s does not list %s", SumsFile, ManifestFile)
	}

	// The original is the image satmark recorded.
	originals := 0
	for _, f := range m.Files {
		if f.Role != "original" {
			continue
		}
		originals++
		if f.SHA256 != m.Image.SHA256 || f.Size != m.Image.ByteSize {
			rep.problem("the original %s has SHA-256 %s and %d bytes, but the image was recorded with %s and %d bytes", f.Path, f.SHA256, f.Size, m.Image.SHA256, m.Image.ByteSize)
		} else {
			rep.passed("the original %s is the image %s: SHA-256 %s", f.Path, m.Image.ID, f.SHA256)
		}
	}
	if originals != 1 {
		rep.problem("the manifest lists %d originals, not one", originals)
	}
	checkHistory(&rep, entries[PixelFile], entries[HistoryFile])
	return rep, nil
}

// checkHistory: the annotations are the history's last versions, and no version is
// missing from it.
func checkHistory(rep *Report, pixel, history *zip.File) {
	if pixel == nil || history == nil {
		rep.problem("the bundle lacks %s or %s", PixelFile, HistoryFile)
		return
	}
	type last struct {
		version int
		deleted bool
	}
	lasts := map[string]last{}
	revisions := 0
	err := eachLine(history, func(line []byte) error {
		var r struct {
			AnnotationID string `json:"annotation_id"`
			Version      int    `json:"version"`
			Action       string `json:"action"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			return fmt.Errorf("line %d: %v", revisions+1, err)
		}
		revisions++
		prev := lasts[r.AnnotationID]
		if r.Version != prev.version+1 {
			rep.problem("%s: annotation %s goes from version %d to %d: the history has a gap", HistoryFile, r.AnnotationID, prev.version, r.Version)
		}
		lasts[r.AnnotationID] = last{version: r.Version, deleted: r.Action == "delete"}
		return nil
	})
	if err != nil {
		rep.problem("%s cannot be read: %v", HistoryFile, err)
		return
	}
	if revisions != rep.Manifest.Revisions {
		rep.problem("%s has %d revisions, the manifest says %d", HistoryFile, revisions, rep.Manifest.Revisions)
	}
	var fc struct {
		Features []struct {
			ID         string `json:"id"`
			Properties struct {
				Version int `json:"version"`
			} `json:"properties"`
		} `json:"features"`
	}
	rc, err := pixel.Open()
	if err == nil {
		err = json.NewDecoder(bufio.NewReader(rc)).Decode(&fc)
		rc.Close()
	}
	if err != nil {
		rep.problem("%s is not GeoJSON: %v", PixelFile, err)
		return
	}
	if len(fc.Features) != rep.Manifest.Annotations {
		rep.problem("%s has %d annotations, the manifest says %d", PixelFile, len(fc.Features), rep.Manifest.Annotations)
	}
	seen := map[string]bool{}
	bad := 0
	for _, f := range fc.Features {
		seen[f.ID] = true
		l, ok := lasts[f.ID]
		switch {
		case !ok:
			rep.problem("%s: annotation %s has no history", PixelFile, f.ID)
			bad++
		case l.deleted:
			rep.problem("%s: annotation %s is there, but the history deleted it at version %d", PixelFile, f.ID, l.version)
			bad++
		case l.version != f.Properties.Version:
			rep.problem("%s: annotation %s is version %d, but the history's last version is %d", PixelFile, f.ID, f.Properties.Version, l.version)
			bad++
		}
	}
	for id, l := range lasts {
		if !l.deleted && !seen[id] {
			rep.problem("%s lacks annotation %s (version %d in the history, never deleted)", PixelFile, id, l.version)
			bad++
		}
	}
	if bad == 0 {
		rep.passed("%s holds the last version of each of the %d annotations the history has not deleted (%d revisions)", PixelFile, len(fc.Features), revisions)
	}
}

func unsafeName(name string) string {
	switch {
	case strings.HasPrefix(name, "/") || strings.Contains(name, `\`) || (len(name) > 1 && name[1] == ':'):
		return "is an absolute or Windows path"
	case name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "/../") || strings.HasSuffix(name, "/.."):
		return "leads out of the bundle"
	}
	return ""
}

func hashEntry(f *zip.File) (string, int64, error) {
	rc, err := f.Open()
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	// archive/zip checks each entry's size and CRC-32 against its header as it reads, so
	// a zip bomb's lie about its size ends in an error here, not in a full disk.
	n, err := io.Copy(h, rc)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

func readSmall(f *zip.File, what string) ([]byte, error) {
	if f == nil {
		return nil, fmt.Errorf("the bundle has no %s", what)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxListing+1))
	if err == nil && len(b) > maxListing {
		err = fmt.Errorf("it is over %d MiB", maxListing>>20)
	}
	return b, err
}

func readJSON(f *zip.File, v any) error {
	b, err := readSmall(f, ManifestFile)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	return nil
}

// readSums reads sha256sum's output format: "HASH  NAME" (or "HASH *NAME") a line.
func readSums(f *zip.File) (map[string]string, error) {
	b, err := readSmall(f, SumsFile)
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		h, name, ok := strings.Cut(line, " ")
		name = strings.TrimPrefix(strings.TrimPrefix(name, " "), "*")
		if _, err := hex.DecodeString(h); !ok || err != nil || len(h) != 64 || name == "" {
			return nil, fmt.Errorf("line %d is not a SHA-256 and a file name: %q", i+1, line)
		}
		sums[name] = h
	}
	return sums, nil
}

func eachLine(f *zip.File, each func([]byte) error) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := each(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

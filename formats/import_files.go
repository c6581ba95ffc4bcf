package formats

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// An uploaded annotation file, made an ImportSource: a zip (by its first bytes) is
// unpacked with its entries checked, anything else is the one file.

// ZipLimits bound what an uploaded zip may unpack to.
type ZipLimits struct {
	MaxBytes int64   // all entries together, uncompressed
	MaxRatio float64 // an entry's uncompressed size over its compressed size
	MaxFiles int
}

// DefaultZipLimits: 2 GiB in all, no entry more than 200 times its compressed size
// (text compresses tenfold, a zip bomb a thousandfold and more), 10,000 files.
var DefaultZipLimits = ZipLimits{MaxBytes: 2 << 30, MaxRatio: 200, MaxFiles: 10000}

// UnsafeZipError is a zip refused for what it would unpack: a path out of its folder
// (TooLarge false), or more than the limits allow (TooLarge true).
type UnsafeZipError struct {
	Message  string
	TooLarge bool
}

func (e *UnsafeZipError) Error() string { return e.Message }

// importExtensions is the file ending each format's reader looks for, given to an
// upload that came without a name.
var importExtensions = map[string]string{"geojson": ".geojson", "qupath": ".geojson", "kml": ".kml", "coco": ".json",
	"yolo": ".txt", "yolo-obb": ".txt", "dota": ".txt", "cvat": ".xml", "shapefile": ".shp", "gpkg": ".gpkg"}

// PrepareImport makes an ImportSource in dir (an empty folder of the caller's) of the
// uploaded file at upload, sent as name for format: a zip is unpacked into dir, entry by
// entry (refused with an *UnsafeZipError for an absolute name, a "..", a link, a name
// used twice, or beyond limits, whatever its headers claim); any other file is moved
// there under its plain name (the format's ending added when it has none).
func PrepareImport(upload, name, format, dir string, limits ZipLimits) (ImportSource, error) {
	src := ImportSource{Dir: dir}
	zipped, err := IsZip(upload)
	if err != nil {
		return src, err
	}
	if zipped {
		files, err := unpackZip(upload, dir, limits)
		if err != nil {
			return src, err
		}
		src.Files = files
		return src, nil
	}
	base := plainName(name)
	if ext := importExtensions[strings.ToLower(format)]; ext != "" && !strings.EqualFold(path.Ext(base), ext) &&
		!(ext == ".geojson" && strings.EqualFold(path.Ext(base), ".json")) {
		base += ext
	}
	if err := os.Rename(upload, filepath.Join(dir, base)); err != nil {
		return src, err
	}
	src.Files = []string{base}
	return src, nil
}

// IsZip reports whether the file at path is a zip, by its first bytes.
func IsZip(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := io.ReadFull(f, head)
	return n == 4 && bytes.Equal(head, []byte("PK\x03\x04")), nil
}

// PlainName is an uploaded file's name as an import records it: see plainName.
func PlainName(name string) string { return plainName(name) }

// plainName is an uploaded file's name without folders, control characters or a leading
// dot; "upload" when nothing is left.
func plainName(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == ':' {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	if name == "" {
		return "upload"
	}
	return name
}

func unpackZip(file, dir string, limits ZipLimits) ([]string, error) {
	zr, err := zip.OpenReader(file)
	if err != nil {
		return nil, fileErrorf("the upload starts as a zip but is not a readable zip: %v", err)
	}
	defer zr.Close()
	if len(zr.File) > limits.MaxFiles {
		return nil, &UnsafeZipError{TooLarge: true, Message: fmt.Sprintf("the zip holds %d files; at most %d are unpacked", len(zr.File), limits.MaxFiles)}
	}
	var total uint64
	seen := map[string]bool{}
	var names []string
	var entries []*zip.File
	for _, f := range zr.File {
		name := f.Name
		if strings.HasSuffix(name, "/") && f.FileInfo().IsDir() {
			continue
		}
		if err := checkZipName(name); err != nil {
			return nil, err
		}
		if f.Mode()&os.ModeSymlink != 0 || !f.Mode().IsRegular() {
			return nil, &UnsafeZipError{Message: fmt.Sprintf("zip entry %q is a link or a device, not a file: refused", name)}
		}
		// macOS's resource forks come along in zips made in its Finder: not files of the dataset.
		if strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(path.Base(name), "._") {
			continue
		}
		key := strings.ToLower(name)
		if seen[key] {
			return nil, &UnsafeZipError{Message: fmt.Sprintf("zip entry %q comes twice (names are compared without case): refused", name)}
		}
		seen[key] = true
		total += f.UncompressedSize64
		if total > uint64(limits.MaxBytes) {
			return nil, &UnsafeZipError{TooLarge: true, Message: fmt.Sprintf("the zip unpacks to more than %d bytes: refused", limits.MaxBytes)}
		}
		if f.UncompressedSize64 > 1<<20 && float64(f.UncompressedSize64) > limits.MaxRatio*float64(f.CompressedSize64) {
			return nil, &UnsafeZipError{TooLarge: true, Message: fmt.Sprintf("zip entry %q unpacks to %d bytes from %d, more than %g times its size: refused as a zip bomb",
				name, f.UncompressedSize64, f.CompressedSize64, limits.MaxRatio)}
		}
		entries = append(entries, f)
		names = append(names, name)
	}
	var written int64
	for _, f := range entries {
		n, err := unpackEntry(f, dir, limits.MaxBytes-written)
		written += n
		if err != nil {
			return nil, err
		}
	}
	sort.Strings(names)
	return names, nil
}

// checkZipName refuses an entry name that is not a plain relative path inside the zip's
// folder.
func checkZipName(name string) error {
	bad := func(why string) error {
		return &UnsafeZipError{Message: fmt.Sprintf("zip entry %q %s: refused (no absolute names, .. or backslashes)", name, why)}
	}
	switch {
	case name == "":
		return bad("has no name")
	case strings.ContainsAny(name, "\\\x00"):
		return bad("holds a backslash or NUL")
	case strings.HasPrefix(name, "/") || (len(name) > 1 && name[1] == ':'):
		return bad("is an absolute path")
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == ".." {
			return bad("climbs out of its folder")
		}
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return bad("is not a plain path inside the zip")
	}
	return nil
}

// unpackEntry writes one entry under dir, refusing one that turns out longer than its
// header said or than room allows (a lying header is how zip bombs pass size checks).
func unpackEntry(f *zip.File, dir string, room int64) (int64, error) {
	target := filepath.Join(dir, filepath.FromSlash(f.Name))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return 0, err
	}
	r, err := f.Open()
	if err != nil {
		return 0, fileErrorf("zip entry %q cannot be read: %v", f.Name, err)
	}
	defer r.Close()
	out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	limit := int64(f.UncompressedSize64)
	if room < limit {
		limit = room
	}
	n, err := io.Copy(out, io.LimitReader(r, limit+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	switch {
	case n > limit:
		return n, &UnsafeZipError{TooLarge: true, Message: fmt.Sprintf("zip entry %q unpacks to more than its header says (%d bytes): refused as a zip bomb", f.Name, f.UncompressedSize64)}
	case errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat):
		return n, fileErrorf("zip entry %q is damaged: %v", f.Name, err)
	case err != nil:
		return n, fileErrorf("zip entry %q cannot be read: %v", f.Name, err)
	}
	return n, nil
}

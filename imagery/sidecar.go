package imagery

// Sidecar files: what a satellite delivery sends beside its raster (DigitalGlobe/Maxar
// .IMD and .RPB, GeoEye _rpc.txt, DIMAP and DigitalGlobe XML, Landsat _MTL.txt, world
// files and .prj). An upload is received into a private folder of its own: the raster
// under the name it was sent with, each sidecar under its own name beside it, so GDAL's
// metadata readers pair them by name as they would in the delivery folder. GDAL is told
// of exactly those files (its sibling list) and of nothing else.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Bounds on the sidecars of one upload.
const (
	MaxSidecars     = 16      // files besides the raster
	MaxSidecarBytes = 4 << 20 // bytes of each
)

// ErrBadSidecar is a sidecar refused for its name or its kind; nothing of the upload is
// kept.
var ErrBadSidecar = errors.New("not an accepted sidecar")

// What a sidecar is for (SidecarFile.Kind).
const (
	SidecarMetadata  = "metadata"  // read by GDAL with the raster: capture metadata, RPCs
	SidecarWorldFile = "worldfile" // read by satmark as the upload's world file
	SidecarPRJ       = "prj"       // read by satmark as the world file's CRS
	SidecarSource    = "source"    // a raster a VRT uploaded as the image names (vrt.go)
)

// sidecarSuffixes are the endings a sidecar's name may have (compared without case), with
// what each is for. ".xml" covers DigitalGlobe's <isd> XML, DIMAP's DIM_*.XML and
// RPC_*.XML, and GDAL's .aux.xml (stored, but not read: satmark keeps GDAL's PAM off).
var sidecarSuffixes = []struct{ suffix, kind string }{
	{".imd", SidecarMetadata}, {".rpb", SidecarMetadata}, {"_rpc.txt", SidecarMetadata},
	{"_mtl.txt", SidecarMetadata}, {".xml", SidecarMetadata},
	{".wld", SidecarWorldFile}, {".tfw", SidecarWorldFile}, {".tifw", SidecarWorldFile}, {".tiffw", SidecarWorldFile},
	{".jgw", SidecarWorldFile}, {".jpgw", SidecarWorldFile}, {".jpegw", SidecarWorldFile}, {".j2w", SidecarWorldFile},
	{".jp2w", SidecarWorldFile}, {".pgw", SidecarWorldFile}, {".pngw", SidecarWorldFile},
	{".prj", SidecarPRJ},
	{".tif", SidecarSource}, {".tiff", SidecarSource}, {".jp2", SidecarSource}, {".ntf", SidecarSource},
	{".nitf", SidecarSource}, {".img", SidecarSource},
}

// SidecarEndings lists the endings a sidecar's name may have, for messages and docs.
func SidecarEndings() string {
	var s []string
	for _, x := range sidecarSuffixes {
		s = append(s, x.suffix)
	}
	return strings.Join(s, " ")
}

// SidecarFile is a file received beside an upload's raster, and kept with its original.
type SidecarFile struct {
	Name   string // its file name, as sent (checked by SidecarKind)
	SHA256 string // of its bytes
	Size   int64
	Kind   string // SidecarMetadata, SidecarWorldFile, SidecarPRJ or SidecarSource
}

// SidecarKind checks a sidecar's file name, as sent (a path is refused, not cut to its
// base), and says what the file is for. The error wraps ErrBadSidecar.
func SidecarKind(name string) (string, error) {
	if err := checkFileName(name); err != nil {
		return "", err
	}
	lower := strings.ToLower(name)
	for _, x := range sidecarSuffixes {
		if strings.HasSuffix(lower, x.suffix) && len(lower) > len(x.suffix) {
			return x.kind, nil
		}
	}
	return "", fmt.Errorf("%q is not a sidecar satmark accepts; a sidecar's name ends with one of %s: %w", name, SidecarEndings(), ErrBadSidecar)
}

// checkFileName refuses a name that is not one plain file name: empty, a path or one
// with "..", hidden, over 255 bytes, or not printable text.
func checkFileName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("a sidecar needs its file name: %w", ErrBadSidecar)
	case strings.ContainsAny(name, `/\`) || strings.Contains(name, ".."):
		return fmt.Errorf("%q is a path; send each sidecar under its file name alone: %w", name, ErrBadSidecar)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("%q is a hidden file's name: %w", name, ErrBadSidecar)
	case len(name) > 255:
		return fmt.Errorf("a sidecar's name is %d bytes; the most is 255: %w", len(name), ErrBadSidecar)
	case !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return fmt.Errorf("%q has characters that are not text: %w", name, ErrBadSidecar)
	}
	return nil
}

// stagedName is the name the raster is received under in its upload's folder: the
// name it was sent with when that is a plain file name that is no sidecar's, else "image".
func stagedName(name string) string {
	if checkFileName(name) != nil {
		return "image"
	}
	return name
}

// ReceiveSidecar streams a sidecar into the upload's folder under name, hashing it. A
// name SidecarKind refuses, one sent twice (without regard to case, as GDAL pairs them)
// or the raster's, more than MaxSidecars files, or more than MaxSidecarBytes is an error
// (wrapping ErrBadSidecar or ErrTooLarge) and leaves the sidecar out; the caller then
// discards the whole upload.
func (u *Upload) ReceiveSidecar(name string, r io.Reader) error {
	kind, err := SidecarKind(name)
	if err != nil {
		return err
	}
	if len(u.Sidecars) == MaxSidecars {
		return fmt.Errorf("more than %d sidecars came with the image: %w", MaxSidecars, ErrBadSidecar)
	}
	if u.Path != "" && strings.EqualFold(name, filepath.Base(u.Path)) {
		return fmt.Errorf("the sidecar %q has the image's own name: %w", name, ErrBadSidecar)
	}
	for _, s := range u.Sidecars {
		if strings.EqualFold(s.Name, name) {
			return fmt.Errorf("the sidecar %q came twice: %w", name, ErrBadSidecar)
		}
	}
	path := filepath.Join(u.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, MaxSidecarBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > MaxSidecarBytes {
		err = fmt.Errorf("the sidecar %q is over the limit of %d bytes: %w", name, MaxSidecarBytes, ErrTooLarge)
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	u.Sidecars = append(u.Sidecars, SidecarFile{Name: name, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n, Kind: kind})
	return nil
}

// maxTextSidecar bounds a world file or .prj read into memory, as the form's fields are.
const maxTextSidecar = 64 << 10

// ReadSidecar returns the text of the upload's sidecar of that kind (a world file, a
// .prj), "" when none came; two of one kind, or one over 64 KiB, are an error wrapping
// ErrBadSidecar.
func (u *Upload) ReadSidecar(kind string) (name, text string, err error) {
	for _, s := range u.Sidecars {
		if s.Kind != kind {
			continue
		}
		if name != "" {
			return "", "", fmt.Errorf("two sidecars of one kind came with the image, %q and %q; send one: %w", name, s.Name, ErrBadSidecar)
		}
		if s.Size > maxTextSidecar {
			return "", "", fmt.Errorf("the %s %q is %d bytes; the most is %d: %w", s.Kind, s.Name, s.Size, maxTextSidecar, ErrBadSidecar)
		}
		b, err := os.ReadFile(filepath.Join(u.dir, s.Name))
		if err != nil {
			return "", "", err
		}
		name, text = s.Name, string(b)
	}
	return name, text, nil
}

// siblings are the names GDAL is told lie beside the raster: the sidecars it may read.
func (u *Upload) siblings() []string {
	var out []string
	for _, s := range u.Sidecars {
		if s.Kind == SidecarMetadata {
			out = append(out, s.Name)
		}
	}
	return out
}

// SidecarDir is where the sidecars that came with the original of that SHA-256 are kept,
// under their names. It panics on anything that is not a SHA-256 (see OriginalPath).
func (l *Library) SidecarDir(sha string) string {
	return l.OriginalPath(sha) + ".sidecars"
}

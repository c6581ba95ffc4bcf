// Package imagery keeps original image files byte for byte, addressed by their SHA-256,
// reads them safely (headers and limits before pixels), and makes the derived files the
// viewer needs: a thumbnail and a display rendition. Derived files can always be rebuilt
// from the original.
package imagery

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/disintegration/imaging"
)

// Limits bound what an upload may be. Zero means no limit.
type Limits struct {
	MaxBytes  int64 // size of the original file
	MaxPixels int64 // width × height
}

// DefaultLimits are 1 GiB and 400 megapixels.
var DefaultLimits = Limits{MaxBytes: 1 << 30, MaxPixels: 400_000_000}

// Sizes of the derived files, as the longest side in pixels.
const (
	ThumbnailSize = 512
	DisplaySize   = 4096
)

// Library is the folder of originals and derived files:
//
//	originals/<sha256[0:2]>/<sha256>          the uploaded bytes, never changed
//	derived/<sha256[0:2]>/<sha256>/thumb.jpg  a thumbnail, longest side 512 px
//	derived/<sha256[0:2]>/<sha256>/display.jpg the image as displayed, longest side ≤ 4096 px
//	tmp/                                      uploads being received
type Library struct {
	root   string
	limits Limits
	// Decoding a large image takes a lot of memory; do one at a time.
	decode sync.Mutex
}

// Open prepares the library folders under root and clears uploads left over from a
// previous run.
func Open(root string, limits Limits) (*Library, error) {
	for _, d := range []string{"originals", "derived", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(root, "tmp", "upload-*"))
	for _, p := range leftovers {
		os.Remove(p)
	}
	return &Library{root: root, limits: limits}, nil
}

// Limits returns the limits the library enforces.
func (l *Library) Limits() Limits { return l.limits }

var shaPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// OriginalPath is where the original with that SHA-256 lives. It panics on anything that
// is not 64 lower-case hex digits, so no caller can build a path from user input.
func (l *Library) OriginalPath(sha string) string {
	mustSHA(sha)
	return filepath.Join(l.root, "originals", sha[:2], sha)
}

func (l *Library) derivedDir(sha string) string {
	mustSHA(sha)
	return filepath.Join(l.root, "derived", sha[:2], sha)
}

// ThumbnailPath and DisplayPath are where the derived files of an original live.
func (l *Library) ThumbnailPath(sha string) string {
	return filepath.Join(l.derivedDir(sha), "thumb.jpg")
}

// DisplayPath is where the display rendition lives.
func (l *Library) DisplayPath(sha string) string {
	return filepath.Join(l.derivedDir(sha), "display.jpg")
}

func mustSHA(sha string) {
	if !shaPattern.MatchString(sha) {
		panic(fmt.Sprintf("imagery: %q is not a SHA-256", sha))
	}
}

// Upload is a file received into the library's temporary folder, not yet placed.
type Upload struct {
	Path   string
	SHA256 string
	Size   int64
}

// Receive streams r to a temporary file, hashing as it goes. More than MaxBytes is
// ErrTooLarge and leaves nothing behind; so does any read error.
func (l *Library) Receive(r io.Reader) (*Upload, error) {
	f, err := os.CreateTemp(filepath.Join(l.root, "tmp"), "upload-*")
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	src := r
	if l.limits.MaxBytes > 0 {
		src = io.LimitReader(r, l.limits.MaxBytes+1)
	}
	n, err := io.Copy(io.MultiWriter(f, h), src)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && l.limits.MaxBytes > 0 && n > l.limits.MaxBytes {
		err = fmt.Errorf("the file is over the limit of %d bytes: %w", l.limits.MaxBytes, ErrTooLarge)
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, err
	}
	return &Upload{Path: f.Name(), SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// Discard removes the temporary file, if it is still there.
func (u *Upload) Discard() { os.Remove(u.Path) }

// Inspect reads the upload's header against the library's limits.
func (l *Library) Inspect(u *Upload) (Info, error) { return Inspect(u.Path, l.limits) }

// Derive decodes the upload's pixels (failing with ErrCorrupt if they cannot all be read)
// and writes its thumbnail and display rendition. On error nothing is left behind.
func (l *Library) Derive(u *Upload, info Info) error {
	if err := l.derive(u.Path, u.SHA256, info); err != nil {
		os.RemoveAll(l.derivedDir(u.SHA256))
		return err
	}
	return nil
}

func (l *Library) derive(path, sha string, info Info) error {
	l.decode.Lock()
	defer l.decode.Unlock()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return fmt.Errorf("cannot decode the image's pixels (%v): %w", err, ErrCorrupt)
	}
	// Scale first and orient the small result: orienting the full image would copy
	// every pixel again.
	display := image.Image(img)
	if b := img.Bounds(); b.Dx() > DisplaySize || b.Dy() > DisplaySize {
		display = imaging.Fit(img, DisplaySize, DisplaySize, imaging.Box)
	}
	display = orient(display, info.Orientation)
	if b := display.Bounds(); img.Bounds().Dx() <= DisplaySize && img.Bounds().Dy() <= DisplaySize && (b.Dx() != info.Width || b.Dy() != info.Height) {
		return fmt.Errorf("decoded %d×%d pixels but the header says %d×%d: %w", b.Dx(), b.Dy(), info.Width, info.Height, ErrCorrupt)
	}
	thumb := imaging.Fit(display, ThumbnailSize, ThumbnailSize, imaging.Lanczos)
	if err := os.MkdirAll(l.derivedDir(sha), 0o755); err != nil {
		return err
	}
	if err := writeJPEG(l.DisplayPath(sha), display, 88); err != nil {
		return err
	}
	return writeJPEG(l.ThumbnailPath(sha), thumb, 85)
}

// orient applies an EXIF orientation so the image reads as it is meant to be displayed.
func orient(img image.Image, orientation int) image.Image {
	switch orientation {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img)
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// writeJPEG writes atomically: a temporary file renamed into place.
func writeJPEG(path string, img image.Image, quality int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := imaging.Encode(tmp, img, imaging.JPEG, imaging.JPEGQuality(quality)); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Place moves the upload to its content address, durably: the file is synced, renamed,
// and its folder synced. The returned undo removes it again (for a caller whose database
// commit failed).
func (l *Library) Place(u *Upload) (undo func(), err error) {
	dst := l.OriginalPath(u.SHA256)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	if err := syncFile(u.Path); err != nil {
		return nil, err
	}
	if err := os.Rename(u.Path, dst); err != nil {
		return nil, err
	}
	if err := syncFile(filepath.Dir(dst)); err != nil {
		return nil, err
	}
	return func() { os.Remove(dst) }, nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// EnsureDerived rebuilds the thumbnail and display rendition of a stored original if
// either is missing.
func (l *Library) EnsureDerived(sha string, info Info) error {
	_, errT := os.Stat(l.ThumbnailPath(sha))
	_, errD := os.Stat(l.DisplayPath(sha))
	if errT == nil && errD == nil {
		return nil
	}
	if !errors.Is(errT, os.ErrNotExist) && errT != nil {
		return errT
	}
	return l.derive(l.OriginalPath(sha), sha, info)
}

// Remove deletes an original and everything derived from it.
func (l *Library) Remove(sha string) error {
	err := os.Remove(l.OriginalPath(sha))
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return errors.Join(err, os.RemoveAll(l.derivedDir(sha)))
}

// RemoveDerived deletes the derived files of an original, leaving the original alone.
func (l *Library) RemoveDerived(sha string) error {
	return os.RemoveAll(l.derivedDir(sha))
}

// Package imagery keeps original image files byte for byte, addressed by their SHA-256,
// reads them safely (headers and limits before pixels), cuts them into tile pyramids in
// the layout of the IIIF Image API, and renders any IIIF region, size, rotation, quality
// and format from the nearest pyramid level. Derived files can always be rebuilt from the
// original.
package imagery

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/disintegration/imaging"
)

// Limits bound what an upload may be. Zero means no limit.
type Limits struct {
	MaxBytes  int64 // size of the original file
	MaxPixels int64 // width × height
	// MaxWholePixels bounds width × height of the images that are decoded whole in
	// memory instead of streamed a strip at a time: GIF, BMP, WebP and progressive,
	// CMYK or EXIF-rotated JPEGs (baseline JPEGs and the rasters GDAL reads, PNG among
	// them, stream).
	MaxWholePixels int64
}

// DefaultLimits are 16 GiB, 1,600 megapixels (40000 × 40000, streamed) and 400 megapixels
// for the images decoded whole. 16 GiB holds a raster at the pixel limit with four 16-bit
// bands stored uncompressed (12.8 GB) and its overviews (a third more, 17.1 GB); an upload
// is streamed to disk once, so the size costs disk, not memory.
var DefaultLimits = Limits{MaxBytes: 16 << 30, MaxPixels: 1_600_000_000, MaxWholePixels: 400_000_000}

// ThumbnailSize is the longest side of a thumbnail, in pixels.
const ThumbnailSize = 512

// Options configure a Library. Zero values take the defaults.
type Options struct {
	Limits            Limits
	TileCacheBytes    int64 // tiles kept in memory; default 256 MiB
	RenderCacheBytes  int64 // rendered IIIF images kept on disk; default 512 MiB
	RenderConcurrency int   // IIIF renders at once; default the number of CPUs
	RenderQueue       int   // renders that may wait for a turn before 503; default 4 × concurrency
}

// Library is the folder of originals and derived files:
//
//	originals/<sha256[0:2]>/<sha256>             the uploaded bytes, never changed
//	originals/<sha256[0:2]>/<sha256>.sidecars/   the sidecar files sent with them, under their names
//	derived/<sha256[0:2]>/<sha256>/pyramid/      tiles <k>/<row>_<col>.jpg, thumb.jpg, crc32.bin, manifest.json
//	renders/                                     the IIIF render cache, least recently used out first
//	tmp/upload-*/                                uploads being received, each in a folder of its own
type Library struct {
	root   string
	limits Limits

	tiles      *tileCache
	pyramidsMu sync.Mutex
	pyramids   map[string]*pyramid
	renders    *renderCache
	renderSem  chan struct{}
	waiting    chan struct{}
}

// Open prepares the library folders under root with default caches.
func Open(root string, limits Limits) (*Library, error) {
	return OpenWith(root, Options{Limits: limits})
}

// OpenWith prepares the library folders under root and clears uploads and half-built
// pyramids left over from a previous run.
func OpenWith(root string, opts Options) (*Library, error) {
	for _, d := range []string{"originals", "derived", "tmp", "renders"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return nil, err
		}
	}
	// What a process ended mid-way left: uploads and builds untouched for a while, since
	// others sharing the data folder may have theirs in flight.
	leftovers, _ := filepath.Glob(filepath.Join(root, "tmp", "upload-*"))
	half, _ := filepath.Glob(filepath.Join(root, "derived", "*", "*", "pyramid.building"))
	cutoff := time.Now().Add(-LeftoverAge)
	for _, p := range append(leftovers, half...) {
		if untouchedSince(p, cutoff) {
			os.RemoveAll(p)
		}
	}
	if opts.TileCacheBytes == 0 {
		opts.TileCacheBytes = 256 << 20
	}
	if opts.RenderCacheBytes == 0 {
		opts.RenderCacheBytes = 512 << 20
	}
	if opts.RenderConcurrency <= 0 {
		opts.RenderConcurrency = runtime.NumCPU()
	}
	if opts.RenderQueue <= 0 {
		opts.RenderQueue = 4 * opts.RenderConcurrency
	}
	renders, err := openRenderCache(filepath.Join(root, "renders"), opts.RenderCacheBytes)
	if err != nil {
		return nil, err
	}
	return &Library{
		root: root, limits: opts.Limits, tiles: newTileCache(opts.TileCacheBytes), pyramids: map[string]*pyramid{},
		renders: renders, renderSem: make(chan struct{}, opts.RenderConcurrency), waiting: make(chan struct{}, opts.RenderQueue),
	}, nil
}

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

// ThumbnailPath is where the thumbnail of an original lives, once its pyramid is built.
func (l *Library) ThumbnailPath(sha string) string {
	return filepath.Join(l.pyramidDir(sha), "thumb.jpg")
}

func mustSHA(sha string) {
	if !shaPattern.MatchString(sha) {
		panic(fmt.Sprintf("imagery: %q is not a SHA-256", sha))
	}
}

// Upload is a file received into a private folder of the library's temporary folder,
// not yet placed, with the sidecar files received beside it (ReceiveSidecar).
type Upload struct {
	Path     string // the raster, in the upload's folder under the name it was sent with
	SHA256   string
	Size     int64
	Sidecars []SidecarFile // in the order received
	dir      string
}

// NewUpload makes the private folder an upload is received into; Discard removes it.
func (l *Library) NewUpload() (*Upload, error) {
	dir, err := os.MkdirTemp(filepath.Join(l.root, "tmp"), "upload-*")
	if err != nil {
		return nil, err
	}
	return &Upload{dir: dir}, nil
}

// TempFolder makes a private folder under the data folder's tmp/ (removed at the next
// start if left behind), for a file received to be read and thrown away (an annotation
// import); the caller removes it.
func (l *Library) TempFolder() (string, error) {
	return os.MkdirTemp(filepath.Join(l.root, "tmp"), "upload-*")
}

// Receive streams r to a new upload (see ReceiveFile), its file named "image".
func (l *Library) Receive(r io.Reader) (*Upload, error) {
	u, err := l.NewUpload()
	if err != nil {
		return nil, err
	}
	if err := l.ReceiveFile(u, "", r); err != nil {
		u.Discard()
		return nil, err
	}
	return u, nil
}

// ReceiveFile streams r, the upload's image, into its folder under the name it was sent
// with (or "image", when that is no plain file name or a sidecar's), hashing as it goes.
// More than MaxBytes is ErrTooLarge and leaves no file behind; so does any read error.
func (l *Library) ReceiveFile(u *Upload, name string, r io.Reader) error {
	name = stagedName(name)
	for _, s := range u.Sidecars {
		if strings.EqualFold(s.Name, name) {
			name = "image"
		}
	}
	path := filepath.Join(u.dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
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
		os.Remove(path)
		return err
	}
	u.Path, u.SHA256, u.Size = path, hex.EncodeToString(h.Sum(nil)), n
	return nil
}

// Discard removes the upload's folder and what is still in it.
func (u *Upload) Discard() { os.RemoveAll(u.dir) }

// Inspect reads the upload's header against the library's limits.
// GDAL reads the sidecars that came with it as lying beside the raster, and no other file.
// A VRT is read only when rasters came with it as its sources (vrt.go); rasters sent
// beside anything else are refused (ErrBadSidecar).
func (l *Library) Inspect(u *Upload) (Info, error) {
	head, err := readHead(u.Path)
	if err != nil {
		return Info{}, err
	}
	sources := slices.ContainsFunc(u.Sidecars, func(s SidecarFile) bool { return s.Kind == SidecarSource })
	switch {
	case isVRT(head) && sources:
		return l.inspectVRT(u)
	case sources:
		for _, s := range u.Sidecars {
			if s.Kind == SidecarSource {
				return Info{}, fmt.Errorf("the raster %q came as a sidecar; only a VRT's sources may, and the image is no VRT: %w", s.Name, ErrBadSidecar)
			}
		}
	}
	return inspect(u.Path, u.siblings(), l.limits)
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
// and its folder synced; its sidecars, if any, go together to SidecarDir. The returned
// undo removes them again (for a caller whose database commit failed).
func (l *Library) Place(u *Upload) (undo func(), err error) {
	dst := l.OriginalPath(u.SHA256)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	if err := syncFile(u.Path); err != nil {
		return nil, err
	}
	rest, err := os.ReadDir(u.dir) // the raster, its sidecars, and a VRT's copy
	if err != nil {
		return nil, err
	}
	for _, e := range rest {
		if err := syncFile(filepath.Join(u.dir, e.Name())); err != nil {
			return nil, err
		}
	}
	if err := os.Rename(u.Path, dst); err != nil {
		return nil, err
	}
	undo = func() { os.Remove(dst) }
	if len(rest) > 1 { // more than the raster
		// Only the sidecars are left in the upload's folder: it becomes theirs.
		side := l.SidecarDir(u.SHA256)
		if err := os.Rename(u.dir, side); err != nil {
			undo()
			return nil, err
		}
		undo = func() { os.Remove(dst); os.RemoveAll(side) }
	}
	if err := syncFile(filepath.Dir(dst)); err != nil {
		undo()
		return nil, err
	}
	return undo, nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Remove deletes an original, its sidecars and everything derived from it.
func (l *Library) Remove(sha string) error {
	l.forgetPyramid(sha)
	err := os.Remove(l.OriginalPath(sha))
	if errors.Is(err, os.ErrNotExist) {
		err = nil
	}
	return errors.Join(err, os.RemoveAll(l.SidecarDir(sha)), os.RemoveAll(l.derivedDir(sha)))
}

// LeftoverAge is how long an upload or a pyramid build in the data folder must have gone
// untouched (no file in it written) before a library opening the folder removes it as
// left by a process that ended: a live one, another process's on a shared folder, writes
// all the time.
const LeftoverAge = time.Hour

// untouchedSince reports whether nothing under path was modified after cutoff.
func untouchedSince(path string, cutoff time.Time) bool {
	fresh := errors.New("fresh")
	err := filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil && info.ModTime().After(cutoff) {
			return fresh
		}
		return nil
	})
	return !errors.Is(err, fresh)
}

// ForgetPyramid drops what the library holds in memory about an image's pyramid (its
// manifest, checksums and tiles), for when another process on the same data folder has
// built it again: the next tile is read from what is on disk now.
func (l *Library) ForgetPyramid(sha string) { l.forgetPyramid(sha) }

// ForgetPyramids is ForgetPyramid for every image: for when another process may have
// built pyramids again unheard of (this one lost the connection that hears of them).
func (l *Library) ForgetPyramids() {
	l.pyramidsMu.Lock()
	clear(l.pyramids)
	l.pyramidsMu.Unlock()
	l.tiles.forgetAll()
}

// forgetPyramid drops what is held in memory about an image's pyramid.
func (l *Library) forgetPyramid(sha string) {
	l.pyramidsMu.Lock()
	delete(l.pyramids, sha)
	l.pyramidsMu.Unlock()
	l.tiles.forget(sha)
}

// Limits returns the limits the library enforces.
func (l *Library) Limits() Limits { return l.limits }

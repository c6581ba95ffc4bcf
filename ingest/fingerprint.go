package ingest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/reuse"
)

// previewSide is the long side of the copy an image is hashed from: four times the
// working size of reuse, so a box-averaged reduction loses nothing it uses.
const previewSide = 1024

// SyncFingerprintPixels is the largest image (in pixels) fingerprinted during its upload,
// so that the answer can say it was released before; a larger one is fingerprinted by
// the backfill after its pyramid is built (its whole original must be read).
const SyncFingerprintPixels = 64 << 20

// Fingerprint computes img's perceptual hashes from its pixels as shown (a raster through
// its stored display, or its default one) and stores them. An image too small to hash,
// or whose pixels cannot be read, gets that reason stored instead, and Fingerprint
// returns nil: the image is no worse for it. Errors are the store's or ctx's.
func Fingerprint(ctx context.Context, store *annotations.Store, lib *imagery.Library, img annotations.Image) error {
	f := annotations.Fingerprint{ImageID: img.ID, Version: reuse.Version}
	fp, err := fingerprint(ctx, store, lib, img)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		f.Error = err.Error()
	} else {
		f.Hashes = fp.Marshal()
	}
	return store.SetFingerprint(ctx, f)
}

func fingerprint(ctx context.Context, store *annotations.Store, lib *imagery.Library, img annotations.Image) (reuse.Fingerprint, error) {
	if img.Width < reuse.MinSide || img.Height < reuse.MinSide {
		return reuse.Fingerprint{}, fmt.Errorf("the image is %d × %d pixels; a perceptual hash needs at least %d × %d: %w",
			img.Width, img.Height, reuse.MinSide, reuse.MinSide, reuse.ErrTooSmall)
	}
	info := imagery.Info{MediaType: img.MediaType, Width: img.Width, Height: img.Height, Orientation: img.Orientation}
	var err error
	if info.Display, err = storedDisplay(ctx, store, lib, img); err != nil {
		return reuse.Fingerprint{}, err
	}
	preview, err := lib.Preview(ctx, img.SHA256, info, previewSide)
	if err != nil {
		return reuse.Fingerprint{}, err
	}
	return reuse.Compute(preview)
}

// Match is another image near one: how near (reuse.Match), and whether it was stored
// before it (its earlier release).
type Match struct {
	Image   annotations.Image
	Match   reuse.Match
	Earlier bool
}

// ErrNoFingerprint is returned by Matches for an image not yet fingerprinted (a large
// upload whose backfill has not run); a *NotHashedError for one that cannot be.
var ErrNoFingerprint = errors.New("the image has no perceptual hash yet")

// NotHashedError says why an image has no perceptual hash (too small, unreadable).
type NotHashedError struct{ Reason string }

func (e *NotHashedError) Error() string { return "the image has no perceptual hash: " + e.Reason }

// Matches returns the images (not in the trash) that are near copies of image id, the
// earlier ones first, then by distance. ErrNoFingerprint or a *NotHashedError when id has
// no hashes to compare; annotations.ErrNotFound for no such image.
// The second step of a comparison costs seconds of CPU; cache keeps its results (nil: none kept).
func Matches(ctx context.Context, store *annotations.Store, cache *CompareCache, id string) ([]Match, error) {
	img, err := store.Image(ctx, id)
	if err != nil {
		return nil, err
	}
	own, err := store.ImageFingerprint(ctx, id)
	if errors.Is(err, annotations.ErrNotFound) || (err == nil && own.Version != reuse.Version) {
		return nil, ErrNoFingerprint
	} else if err != nil {
		return nil, err
	}
	if own.Error != "" {
		return nil, &NotHashedError{Reason: own.Error}
	}
	mine, err := decodeFingerprint(own)
	if err != nil {
		return nil, err
	}
	all, err := store.Fingerprints(ctx, reuse.Version)
	if err != nil {
		return nil, err
	}
	var out []Match
	for _, f := range all {
		if f.ImageID == id {
			continue
		}
		m, err := cache.compare(mine, own.Hashes, f)
		if err != nil {
			return nil, err
		}
		if !m.Copy() {
			continue
		}
		other, err := store.Image(ctx, f.ImageID)
		if errors.Is(err, annotations.ErrNotFound) {
			continue // trashed meanwhile
		} else if err != nil {
			return nil, err
		}
		earlier := other.CreatedAt.Before(img.CreatedAt) || (other.CreatedAt.Equal(img.CreatedAt) && other.ID < img.ID)
		out = append(out, Match{Image: other, Match: m, Earlier: earlier})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Earlier != out[j].Earlier {
			return out[i].Earlier
		}
		return out[i].Match.Distance < out[j].Match.Distance
	})
	return out, nil
}

// CompareCache keeps what reuse.Compare said of pairs of stored fingerprints that reached
// its second step, keyed by the SHA-256 of both encodings, so that a page view after the
// upload that compared them is a lookup; a recomputed fingerprint is another key. Safe for
// concurrent use; the zero value is not, use NewCompareCache.
type CompareCache struct {
	mu sync.Mutex
	m  map[[2][sha256.Size]byte]reuse.Match
}

// NewCompareCache returns an empty cache.
func NewCompareCache() *CompareCache {
	return &CompareCache{m: map[[2][sha256.Size]byte]reuse.Match{}}
}

func (c *CompareCache) compare(mine reuse.Fingerprint, mineHashes []byte, other annotations.Fingerprint) (reuse.Match, error) {
	key := [2][sha256.Size]byte{sha256.Sum256(mineHashes), sha256.Sum256(other.Hashes)}
	if c != nil {
		c.mu.Lock()
		m, ok := c.m[key]
		c.mu.Unlock()
		if ok {
			return m, nil
		}
	}
	theirs, err := decodeFingerprint(other)
	if err != nil {
		return reuse.Match{}, err
	}
	m, err := reuse.Compare(mine, theirs)
	if err != nil || c == nil || m.Checked < 0 {
		return m, err
	}
	c.mu.Lock()
	c.m[key] = m
	c.mu.Unlock()
	return m, nil
}

func decodeFingerprint(f annotations.Fingerprint) (reuse.Fingerprint, error) {
	fp, err := reuse.Unmarshal(f.Hashes)
	if err != nil {
		return reuse.Fingerprint{}, fmt.Errorf("fingerprint of image %s: %w", f.ImageID, err)
	}
	return fp, nil
}

// BackfillFingerprints fingerprints every image that has no fingerprint of the current
// version, oldest first, one at a time, each stored as soon as it is computed (a stop
// loses at most the one in hand; the next run goes on from there). Images over
// SyncFingerprintPixels wait until their pyramid is built, so the backfill does not race
// the first build of a large upload for the CPU. It returns how many it stored.
func BackfillFingerprints(ctx context.Context, store *annotations.Store, lib *imagery.Library, log *slog.Logger) (int, error) {
	ids, err := store.ImagesWithoutFingerprint(ctx, reuse.Version)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		img, err := store.Image(ctx, id)
		if errors.Is(err, annotations.ErrNotFound) {
			continue
		} else if err != nil {
			return n, err
		}
		if int64(img.Width)*int64(img.Height) > SyncFingerprintPixels && !img.Pyramid.Ready() {
			continue
		}
		if err := Fingerprint(ctx, store, lib, img); errors.Is(err, annotations.ErrNotFound) {
			continue
		} else if err != nil {
			return n, err
		}
		if log != nil {
			log.Info("perceptual hash computed", "image", id)
		}
		n++
	}
	return n, nil
}

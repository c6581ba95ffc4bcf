// Package reuse tells whether one image is a copy of another that was cropped, rescaled,
// recompressed or made brighter or darker: the perceptual hash (pHash, the low
// frequencies of a 64 × 64 grey version's cosine transform against their median, through
// github.com/corona10/goimagehash) of the whole image and of a fixed set of windows over
// it. A crop's whole hash is near the hash of the window of the original it covers;
// rescaling, JPEG recompression and a change of brightness move a pHash only a few bits.
// It imports nothing of satmark's.
package reuse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math/bits"

	"github.com/corona10/goimagehash"
	"github.com/disintegration/imaging"
)

// Version names the hash and the window layout below: fingerprints of another version
// are not comparable and are computed again.
const Version = 1

// MinSide is the least width and height, in pixels, of an image that can be hashed: below
// it a 64 × 64 pHash says little about the picture.
const MinSide = 64

const workingSide = 256

// Thresholds, in bits of 64, chosen from the distances measured on the sample scenes
// (README, "Reuse and tampering hints"): at most Near is a copy.
const Near = 14

// ErrTooSmall is returned for an image under MinSide pixels across.
var ErrTooSmall = errors.New("too small to hash")

// Window is a part of an image, as fractions of its width and height.
type Window struct{ X, Y, W, H float64 }

// Windows are the parts of an image whose hashes a fingerprint keeps besides the whole
// one: every window of 70 to 100 % of the width and of the height (in steps of 10 %)
// covering at least 70 % of the area, at offsets in steps of 5 % of the side. A crop
// keeping at least 70 % of the area lies within 5 % of the side of one of them.
var Windows = windows()

func windows() []Window {
	var out []Window
	for _, w := range []float64{1, 0.9, 0.8, 0.7} {
		for _, h := range []float64{1, 0.9, 0.8, 0.7} {
			if w*h < 0.7-1e-9 || (w == 1 && h == 1) {
				continue
			}
			for x := 0.0; x <= 1-w+1e-9; x += 0.05 {
				for y := 0.0; y <= 1-h+1e-9; y += 0.05 {
					out = append(out, Window{x, y, w, h})
				}
			}
		}
	}
	return out
}

// Fingerprint is an image's perceptual hashes: of the whole image, and of each of
// Windows in order.
type Fingerprint struct {
	Whole   uint64
	Windows []uint64
}

// Compute returns the fingerprint of img (of any size; a preview of about 512 pixels is
// plenty), or ErrTooSmall.
func Compute(img image.Image) (Fingerprint, error) {
	b := img.Bounds()
	if b.Dx() < MinSide || b.Dy() < MinSide {
		return Fingerprint{}, fmt.Errorf("the image is %d × %d pixels; a perceptual hash needs at least %d × %d: %w", b.Dx(), b.Dy(), MinSide, MinSide, ErrTooSmall)
	}
	// The windows are hashed from a copy of about 4 × the hash's 64 pixels: enough for a
	// 64 × 64 resize of the smallest window, and far faster than the original.
	var work *image.NRGBA
	if max(b.Dx(), b.Dy()) > workingSide {
		work = imaging.Fit(img, workingSide, workingSide, imaging.Box)
	} else {
		work = imaging.Clone(img)
	}
	b = work.Bounds()
	whole, err := goimagehash.PerceptionHash(work)
	if err != nil {
		return Fingerprint{}, err
	}
	f := Fingerprint{Whole: whole.GetHash(), Windows: make([]uint64, len(Windows))}
	for i, w := range Windows {
		r := image.Rect(b.Min.X+int(w.X*float64(b.Dx())+0.5), b.Min.Y+int(w.Y*float64(b.Dy())+0.5),
			b.Min.X+int((w.X+w.W)*float64(b.Dx())+0.5), b.Min.Y+int((w.Y+w.H)*float64(b.Dy())+0.5)).Intersect(b)
		h, err := goimagehash.PerceptionHash(work.SubImage(r))
		if err != nil {
			return Fingerprint{}, err
		}
		f.Windows[i] = h.GetHash()
	}
	return f, nil
}

// Match is how near two fingerprints are: the fewest differing bits of 64 between the
// whole hashes, or between one's whole hash and a window of the other, and which.
type Match struct {
	Distance int
	// How: "whole" (the two images alike), "crop" (the first is a crop of the second,
	// Window the part of the second it covers), "contains" (the second a crop of the first).
	How    string
	Window Window
}

// Compare returns how near a is to b.
func Compare(a, b Fingerprint) Match {
	m := Match{Distance: bits.OnesCount64(a.Whole ^ b.Whole), How: "whole", Window: Window{0, 0, 1, 1}}
	for i, h := range b.Windows {
		if d := bits.OnesCount64(a.Whole ^ h); d < m.Distance && i < len(Windows) {
			m = Match{Distance: d, How: "crop", Window: Windows[i]}
		}
	}
	for i, h := range a.Windows {
		if d := bits.OnesCount64(b.Whole ^ h); d < m.Distance && i < len(Windows) {
			m = Match{Distance: d, How: "contains", Window: Windows[i]}
		}
	}
	return m
}

// Near reports whether m says the images are copies of one another.
func (m Match) Near() bool { return m.Distance <= Near }

// MarshalWindows encodes the window hashes for storage (8 bytes each, big-endian).
func (f Fingerprint) MarshalWindows() []byte {
	out := make([]byte, 8*len(f.Windows))
	for i, h := range f.Windows {
		binary.BigEndian.PutUint64(out[8*i:], h)
	}
	return out
}

// UnmarshalWindows decodes what MarshalWindows wrote.
func UnmarshalWindows(p []byte) ([]uint64, error) {
	if len(p)%8 != 0 {
		return nil, fmt.Errorf("window hashes of %d bytes, not a multiple of 8", len(p))
	}
	out := make([]uint64, len(p)/8)
	for i := range out {
		out[i] = binary.BigEndian.Uint64(p[8*i:])
	}
	return out, nil
}

// Package reuse tells whether one image is a copy of another that was cropped, rescaled,
// recompressed or made brighter or darker, in three steps. First, the 64-bit perceptual
// hash (pHash: the 8 × 8 lowest frequencies of the cosine transform of a 64 × 64 grey
// copy, against their median, through github.com/corona10/goimagehash) of the whole image
// is compared with the whole hash of the other and with the hashes of a fixed set of
// windows over it: a crop's whole hash is near the hash of the window of the original it
// covers, and rescaling, JPEG recompression and a change of brightness move a pHash only
// a few bits. That step cannot tell a copy from another capture of the same place from
// the same view (the sample port of 8 and of 13 October are 2 bits apart), so, second, a
// candidate is checked with a 256-bit pHash (16 × 16 frequencies) on the window of the
// other image refined about the one found, from the small grey copy each fingerprint
// keeps; and, third, because that hash too sees mostly the layout two captures share,
// the part is aligned to the pixel and the two grey copies compared block by block: a
// copy agrees in every block, another capture not where ships, waves or haze differ.
// It imports nothing of satmark's.
package reuse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"math/bits"
	"sort"

	"github.com/corona10/goimagehash"
	"github.com/disintegration/imaging"
)

// Version names the hashes, the window layout and the encoding below: fingerprints of
// another version are not comparable and are computed again (2: the preview under them
// composites pixels without data over white, as the server's JPEGs do).
const Version = 2

// MinSide is the least width and height, in pixels, of an image that can be hashed: below
// it a 64 × 64 pHash says little about the picture.
const MinSide = 64

// workingSide is the long side of the grey copy the windows are hashed from and that a
// fingerprint keeps: enough for the 64 × 64 resize of the smallest window.
const workingSide = 256

// Thresholds, in differing bits, chosen from the distances measured on the sample scenes
// (README, "Reuse and tampering hints"): a candidate is at most Near of 64 apart in the
// first step, and a copy at most Confirm of 256 apart in the second.
const (
	Near    = 16
	Confirm = 40
)

// Agree is the least Agreement of a copy (the third step; README lists the measures):
// on the sample scenes every copy reached 0.89 or more, and the port of 13 October and
// its copies against the port of 8 October (another capture) at most 0.40, but for a copy
// darkened until its water is clipped to black (0.93, which the second step rejects).
const Agree = 0.65

// ErrTooSmall is returned for an image under MinSide pixels across.
var ErrTooSmall = errors.New("too small to hash")

// Window is a part of an image, as fractions of its width and height.
type Window struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

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
// Windows in order, with the grey copy (at most 256 pixels on its long side) they were
// computed from.
type Fingerprint struct {
	Whole   uint64
	Windows []uint64
	Grey    *image.Gray
}

// Compute returns the fingerprint of img (of any size; a preview of about 1024 pixels is
// plenty), or ErrTooSmall.
func Compute(img image.Image) (Fingerprint, error) {
	b := img.Bounds()
	if b.Dx() < MinSide || b.Dy() < MinSide {
		return Fingerprint{}, fmt.Errorf("the image is %d × %d pixels; a perceptual hash needs at least %d × %d: %w", b.Dx(), b.Dy(), MinSide, MinSide, ErrTooSmall)
	}
	var work *image.NRGBA
	if max(b.Dx(), b.Dy()) > workingSide {
		work = imaging.Fit(img, workingSide, workingSide, imaging.Box)
	} else {
		work = imaging.Clone(img)
	}
	grey := image.NewGray(work.Bounds())
	for i := 0; i < len(grey.Pix); i++ {
		p := work.Pix[4*i : 4*i+3]
		// goimagehash's own weights (ITU-R 601), so hashing the grey copy is hashing the image.
		grey.Pix[i] = uint8(0.299*float64(p[0]) + 0.587*float64(p[1]) + 0.114*float64(p[2]) + 0.5)
	}
	f := Fingerprint{Grey: grey, Windows: make([]uint64, len(Windows))}
	var err error
	if f.Whole, err = phash(grey, grey.Rect); err != nil {
		return Fingerprint{}, err
	}
	for i, w := range Windows {
		if f.Windows[i], err = phash(grey, w.in(grey.Rect)); err != nil {
			return Fingerprint{}, err
		}
	}
	return f, nil
}

// in is the window in pixels of an image of bounds b.
func (w Window) in(b image.Rectangle) image.Rectangle {
	dx, dy := float64(b.Dx()), float64(b.Dy())
	return image.Rect(b.Min.X+int(w.X*dx+0.5), b.Min.Y+int(w.Y*dy+0.5), b.Min.X+int((w.X+w.W)*dx+0.5), b.Min.Y+int((w.Y+w.H)*dy+0.5)).Intersect(b)
}

func phash(g *image.Gray, r image.Rectangle) (uint64, error) {
	h, err := goimagehash.PerceptionHash(g.SubImage(r))
	if err != nil {
		return 0, err
	}
	return h.GetHash(), nil
}

// hash256 is the 256-bit pHash of the part r of g.
func hash256(g *image.Gray, r image.Rectangle) ([]uint64, error) {
	h, err := goimagehash.ExtPerceptionHash(g.SubImage(r), 16, 16)
	if err != nil {
		return nil, err
	}
	return h.GetHash(), nil
}

func distance256(a, b []uint64) int {
	n := 0
	for i := range a {
		n += bits.OnesCount64(a[i] ^ b[i])
	}
	return n
}

// Match is how near two fingerprints are.
type Match struct {
	// Distance is the fewest differing bits of 64 between the whole hashes, or between
	// one's whole hash and a window of the other; How says which: "whole" (the two
	// images alike), "crop" (the first is a crop of the second, Window the part of the
	// second it covers), "contains" (the second a crop of the first).
	Distance int
	How      string
	Window   Window
	// Checked is the 256-bit pHash distance of the second step, on the window refined
	// about the first step's; -1 when the first step found nothing near.
	Checked int
	// Agreement is the third step's: the lower quartile, over 8 × 8 blocks, of the
	// correlation of the two grey copies (the part aligned, Window then that part) at
	// 128 × 128; 0 when the first step found nothing near.
	Agreement float64
}

// candidate is a window of one image near the whole of the other in the first step.
type candidate struct {
	d        int
	how      string
	w        Window
	contains bool
}

// starts is how many of the first step's nearest windows the second refines from: the
// nearest alone can lie in a valley away from the true crop.
const starts = 3

// Compare returns how near a is to b.
func Compare(a, b Fingerprint) (Match, error) {
	cands := []candidate{{bits.OnesCount64(a.Whole ^ b.Whole), "whole", Window{0, 0, 1, 1}, false}}
	for i, h := range b.Windows {
		if i < len(Windows) {
			cands = append(cands, candidate{bits.OnesCount64(a.Whole ^ h), "crop", Windows[i], false})
		}
	}
	for i, h := range a.Windows {
		if i < len(Windows) {
			cands = append(cands, candidate{bits.OnesCount64(b.Whole ^ h), "contains", Windows[i], true})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].d < cands[j].d })
	m := Match{Distance: cands[0].d, How: cands[0].how, Window: cands[0].w, Checked: -1}
	if m.Distance > Near || a.Grey == nil || b.Grey == nil {
		return m, nil
	}
	first := true
	for _, c := range cands[:starts] {
		if c.d > Near {
			break
		}
		part, whole := b.Grey, a.Grey // the image the window is of, and the one that covers it
		if c.contains {
			part, whole = a.Grey, b.Grey
		}
		want, err := hash256(whole, whole.Rect)
		if err != nil {
			return Match{}, err
		}
		r, d, err := refine(part, c.w.in(part.Rect), want)
		if err != nil {
			return Match{}, err
		}
		// The third step aligns the part to the pixel on their detail, from the refined
		// window and from the first step's, and compares the grey copies block by block:
		// another capture of the same view differs in some blocks (ships, waves, haze),
		// a copy in none.
		wantDetail := detail(greyAt(whole, whole.Rect))
		ra, sa := align(part, r, wantDetail)
		if rb, sb := align(part, c.w.in(part.Rect), wantDetail); sb > sa {
			ra = rb
		}
		agree := blockAgreement(greyAt(part, ra), greyAt(whole, whole.Rect))
		if !first && (agree < m.Agreement || (agree == m.Agreement && d >= m.Checked)) {
			continue
		}
		first = false
		pb := part.Rect
		m = Match{Distance: c.d, How: c.how, Checked: d, Agreement: agree, Window: Window{float64(ra.Min.X-pb.Min.X) / float64(pb.Dx()),
			float64(ra.Min.Y-pb.Min.Y) / float64(pb.Dy()), float64(ra.Dx()) / float64(pb.Dx()), float64(ra.Dy()) / float64(pb.Dy())}}
	}
	return m, nil
}

// alignSide is the side of the square both grey copies are resampled to for the third
// step: under the pixels of the smallest window (70 % of 256 across, about 134 down).
const alignSide = 128

// greyAt is the part r of g resampled to alignSide × alignSide, as floats.
func greyAt(g *image.Gray, r image.Rectangle) []float64 {
	n := imaging.Resize(g.SubImage(r), alignSide, alignSide, imaging.Box)
	out := make([]float64, alignSide*alignSide)
	for i := range out {
		out[i] = float64(n.Pix[4*i])
	}
	return out
}

// detail is v (alignSide square) less its mean over 5 × 5 neighbourhoods: what aligning
// on ignores tone and haze by.
func detail(v []float64) []float64 {
	const s, rad = alignSide, 2
	out := make([]float64, len(v))
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			sum, n := 0.0, 0
			for yy := max(0, y-rad); yy <= min(s-1, y+rad); yy++ {
				for xx := max(0, x-rad); xx <= min(s-1, x+rad); xx++ {
					sum += v[yy*s+xx]
					n++
				}
			}
			out[y*s+x] = v[y*s+x] - sum/float64(n)
		}
	}
	return out
}

// correlation is the Pearson correlation of a and b; ok is false when both are flat, and
// it is 0 when only one is.
func correlation(a, b []float64) (c float64, ok bool) {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma, mb = ma/float64(len(a)), mb/float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	// Under about 2 grey levels of spread a part has no detail: two such parts say
	// nothing (flat, or clipped to black or white as a darkened copy of dark water is),
	// one against detail disagrees.
	flat := 4 * float64(len(a))
	switch {
	case saa < flat && sbb < flat:
		return 0, false
	case saa < flat || sbb < flat:
		return 0, true
	}
	return sab / math.Sqrt(saa*sbb), true
}

// align moves and resizes r over g while the detail of the part correlates better with
// want; it returns the best part and its correlation.
func align(g *image.Gray, r image.Rectangle, want []float64) (image.Rectangle, float64) {
	r, best, _ := climb(g, r, 4, 1, func(c image.Rectangle) (float64, error) {
		v, _ := correlation(detail(greyAt(g, c)), want)
		return v, nil
	})
	return r, best
}

// climb moves and resizes r over g (by moves, step pixels at a time and then fewer) while
// score rises, until it reaches perfect; it returns the best part and its score, or
// score's first error.
func climb(g *image.Gray, r image.Rectangle, step int, perfect float64, score func(image.Rectangle) (float64, error)) (image.Rectangle, float64, error) {
	best, err := score(r)
	if err != nil {
		return r, 0, err
	}
	for ; step >= 1 && best < perfect; step /= 2 {
		for improved := true; improved; {
			improved = false
			for _, d := range moves {
				c := image.Rect(r.Min.X+d[0]*step, r.Min.Y+d[1]*step, r.Max.X+d[2]*step, r.Max.Y+d[3]*step)
				if !c.In(g.Rect) || c.Dx() < MinSide/2 || c.Dy() < MinSide/2 {
					continue
				}
				v, err := score(c)
				if err != nil {
					return r, 0, err
				}
				if v > best {
					r, best, improved = c, v, true
				}
			}
		}
	}
	return r, best, nil
}

// blockAgreement is the lower quartile of the correlations of a and b (alignSide
// squares) over 8 × 8 blocks, leaving out blocks flat in both.
func blockAgreement(a, b []float64) float64 {
	const s, nb = alignSide, 8
	const bs = s / nb
	var cs []float64
	pa, pb := make([]float64, 0, bs*bs), make([]float64, 0, bs*bs)
	for by := 0; by < nb; by++ {
		for bx := 0; bx < nb; bx++ {
			pa, pb = pa[:0], pb[:0]
			for y := by * bs; y < (by+1)*bs; y++ {
				pa = append(pa, a[y*s+bx*bs:y*s+(bx+1)*bs]...)
				pb = append(pb, b[y*s+bx*bs:y*s+(bx+1)*bs]...)
			}
			if c, ok := correlation(pa, pb); ok {
				cs = append(cs, c)
			}
		}
	}
	if len(cs) == 0 {
		return 0
	}
	sort.Float64s(cs)
	return cs[len(cs)/4]
}

// moves are the ways refine and align change a rectangle by one step: shift it, or move
// one of its sides.
var moves = [][4]int{{-1, 0, -1, 0}, {1, 0, 1, 0}, {0, -1, 0, -1}, {0, 1, 0, 1},
	{-1, 0, 0, 0}, {1, 0, 0, 0}, {0, -1, 0, 0}, {0, 1, 0, 0}, {0, 0, -1, 0}, {0, 0, 1, 0}, {0, 0, 0, -1}, {0, 0, 0, 1}}

// refine moves and resizes r over g while the 256-bit pHash of the part comes nearer to
// want; it returns the best part and its distance.
func refine(g *image.Gray, r image.Rectangle, want []uint64) (image.Rectangle, int, error) {
	r, best, err := climb(g, r, 8, 0, func(c image.Rectangle) (float64, error) {
		h, err := hash256(g, c)
		return -float64(distance256(h, want)), err
	})
	return r, int(-best), err
}

// Copy reports whether m says the images are copies of one another: near in the first
// step, confirmed in the second and agreeing in the third.
func (m Match) Copy() bool {
	return m.Distance <= Near && m.Checked >= 0 && m.Checked <= Confirm && m.Agreement >= Agree
}

// Marshal encodes the fingerprint for storage: the number of window hashes, the whole
// hash and each window's (8 bytes each), the grey copy's width and height and its
// pixels, all big-endian.
func (f Fingerprint) Marshal() []byte {
	w, h := f.Grey.Rect.Dx(), f.Grey.Rect.Dy()
	out := make([]byte, 0, 2+8*(1+len(f.Windows))+4+w*h)
	out = binary.BigEndian.AppendUint16(out, uint16(len(f.Windows)))
	for _, v := range append([]uint64{f.Whole}, f.Windows...) {
		out = binary.BigEndian.AppendUint64(out, v)
	}
	out = binary.BigEndian.AppendUint16(out, uint16(w))
	out = binary.BigEndian.AppendUint16(out, uint16(h))
	for y := 0; y < h; y++ {
		out = append(out, f.Grey.Pix[y*f.Grey.Stride:y*f.Grey.Stride+w]...)
	}
	return out
}

// Unmarshal decodes what Marshal wrote.
func Unmarshal(p []byte) (Fingerprint, error) {
	bad := fmt.Errorf("a fingerprint of %d bytes is not one Marshal wrote", len(p))
	if len(p) < 2 {
		return Fingerprint{}, bad
	}
	n := int(binary.BigEndian.Uint16(p))
	p = p[2:]
	if len(p) < 8*(n+1)+4 {
		return Fingerprint{}, bad
	}
	f := Fingerprint{Whole: binary.BigEndian.Uint64(p), Windows: make([]uint64, n)}
	for i := range f.Windows {
		f.Windows[i] = binary.BigEndian.Uint64(p[8*(i+1):])
	}
	p = p[8*(n+1):]
	w, h := int(binary.BigEndian.Uint16(p)), int(binary.BigEndian.Uint16(p[2:]))
	if len(p[4:]) != w*h {
		return Fingerprint{}, bad
	}
	f.Grey = &image.Gray{Pix: p[4:], Stride: w, Rect: image.Rect(0, 0, w, h)}
	return f, nil
}

package reuse_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/disintegration/imaging"

	"github.com/satmark/satmark/reuse"
	"github.com/satmark/satmark/sampledata"
)

// transformed is a copy of an image as a reuser would make it.
type transformed struct {
	name string
	make func(image.Image) image.Image
}

// recompressed encodes img as JPEG at quality q and decodes it again.
func recompressed(t *testing.T, img image.Image, q int) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	out, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// crop keeps the fractions (x, y, w, h) of img.
func crop(img image.Image, x, y, w, h float64) image.Image {
	b := img.Bounds()
	return imaging.Crop(img, image.Rect(int(x*float64(b.Dx())), int(y*float64(b.Dy())), int((x+w)*float64(b.Dx())), int((y+h)*float64(b.Dy()))))
}

func copies(t *testing.T) []transformed {
	t.Helper()
	half := func(img image.Image) image.Image {
		return imaging.Resize(img, img.Bounds().Dx()/2, 0, imaging.Lanczos)
	}
	return []transformed{
		{"rescaled to 50 %", half},
		{"recompressed at quality 60", func(img image.Image) image.Image { return recompressed(t, img, 60) }},
		{"brighter by 15 %", func(img image.Image) image.Image { return imaging.AdjustBrightness(img, 15) }},
		{"darker by 15 %", func(img image.Image) image.Image { return imaging.AdjustBrightness(img, -15) }},
		{"crop 84 × 84 % centred (70 % of the area)", func(img image.Image) image.Image { return crop(img, 0.08, 0.08, 0.84, 0.84) }},
		{"crop 84 × 84 % top left", func(img image.Image) image.Image { return crop(img, 0, 0, 0.84, 0.84) }},
		{"crop 84 × 84 % bottom right", func(img image.Image) image.Image { return crop(img, 0.16, 0.16, 0.84, 0.84) }},
		{"crop full width × 70 % height, middle", func(img image.Image) image.Image { return crop(img, 0, 0.13, 1, 0.7) }},
		{"crop 73 % width × full height, right", func(img image.Image) image.Image { return crop(img, 0.27, 0, 0.73, 1) }},
		{"crop 77 × 91 % off centre", func(img image.Image) image.Image { return crop(img, 0.13, 0.03, 0.77, 0.91) }},
		{"crop 84 % centred, rescaled 50 %, quality 60", func(img image.Image) image.Image {
			return recompressed(t, half(crop(img, 0.08, 0.08, 0.84, 0.84)), 60)
		}},
		{"crop 84 % top left, brighter 10 %, quality 60", func(img image.Image) image.Image {
			return recompressed(t, imaging.AdjustBrightness(crop(img, 0, 0, 0.84, 0.84), 10), 60)
		}},
	}
}

// cell is how a table shows a match: the first step's distance of 64 (and how), the
// second's of 256 and the third's agreement when they ran.
func cell(m reuse.Match) string {
	if m.Checked < 0 {
		return fmt.Sprintf("%d (%s)", m.Distance, m.How)
	}
	return fmt.Sprintf("%d (%s), %d, %.2f", m.Distance, m.How, m.Checked, m.Agreement)
}

func decodedScenes(t *testing.T) []sampledata.Scene {
	t.Helper()
	scenes, err := sampledata.Scenes()
	if err != nil {
		t.Fatal(err)
	}
	return scenes
}

func decode(t *testing.T, s sampledata.Scene) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(s.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Every transformed copy of each sample scene is near its original, and no scene is near
// another or another's copies. With -v it prints the distances (README's table).
func TestPHashMatchesTransformedCopiesOfTheSampleScenes(t *testing.T) {
	scenes := decodedScenes(t)
	var origs []reuse.Fingerprint
	for _, s := range scenes {
		f, err := reuse.Compute(decode(t, s))
		if err != nil {
			t.Fatal(err)
		}
		origs = append(origs, f)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| copy | %s |\n", strings.Repeat("| ", len(scenes)-1))
	for i, s := range scenes {
		img := decode(t, s)
		for _, c := range copies(t) {
			f, err := reuse.Compute(c.make(img))
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&table, "| %s of %s |", c.name, s.FileName)
			for j := range scenes {
				m, err := reuse.Compare(f, origs[j])
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&table, " %s |", cell(m))
				if i == j && !m.Copy() {
					t.Errorf("%s of %s: %s to its original, want a copy", c.name, s.FileName, cell(m))
				}
				if i != j && m.Copy() {
					t.Errorf("%s of %s: %s to %s, want no copy", c.name, s.FileName, cell(m), scenes[j].FileName)
				}
			}
			table.WriteString("\n")
		}
	}
	t.Log("\n" + table.String())
}

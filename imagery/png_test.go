package imagery_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// PNG is read through GDAL a line at a time. Each kind of PNG must show as Go's own
// decoder (which the pyramid used before) shows it.

// pngChunks writes a PNG of the given IHDR fields whose rows (each without its filter
// byte) come from row, for the kinds Go's encoder does not write.
func pngChunks(t *testing.T, w, h int, depth, colourType byte, interlaced bool, row func(y int) []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		body := append([]byte(kind), data...)
		b.Write(body)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(body))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, colourType
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for y := 0; y < h; y++ {
		zw.Write(append([]byte{0}, row(y)...))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// smooth is a w×h picture of gentle gradients, which survive JPEG tiles nearly intact.
func smooth(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8(255 - (x+y)*255/(w+h)), 255})
		}
	}
	return img
}

func TestPNGKindsShowAsGoDecodesThem(t *testing.T) {
	rastertest.Require(t)
	const w, h = 600, 400
	rgb := smooth(w, h)
	grey := image.NewGray(rgb.Rect)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			grey.Set(x, y, rgb.At(x, y))
		}
	}
	rgba := image.NewNRGBA(rgb.Rect)
	copy(rgba.Pix, rgb.Pix)
	rgba.Pix[3] = 254 // one pixel not opaque: written as RGBA, not RGB
	pal := color.Palette{}
	for i := 0; i < 16; i++ {
		pal = append(pal, color.RGBA{uint8(i * 16), uint8(200 - i*8), uint8(60 + i*10), 255})
	}
	paletted := image.NewPaletted(rgb.Rect, pal) // 16 colours: written 4 bits a pixel
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			paletted.SetColorIndex(x, y, uint8(x/40%16))
		}
	}
	tests := []struct {
		name string
		data func(t *testing.T) []byte
	}{
		{"RGB", func(t *testing.T) []byte { return encode(t, "png", rgb) }},
		{"RGBA", func(t *testing.T) []byte { return encode(t, "png", rgba) }},
		{"grey", func(t *testing.T) []byte { return encode(t, "png", grey) }},
		{"paletted, 4 bits a pixel", func(t *testing.T) []byte { return encode(t, "png", paletted) }},
		{"grey, 1 bit a pixel", func(t *testing.T) []byte {
			return pngChunks(t, w, h, 1, 0, false, func(y int) []byte {
				r := make([]byte, (w+7)/8)
				for i := range r {
					if (i/8+y/64)%2 == 1 { // squares of 64 pixels
						r[i] = 0xFF
					}
				}
				return r
			})
		}},
		{"grey, 4 bits a pixel", func(t *testing.T) []byte {
			return pngChunks(t, w, h, 4, 0, false, func(y int) []byte {
				r := make([]byte, (w+1)/2)
				for i := range r {
					v := byte(i * 2 * 16 / w)
					r[i] = v<<4 | v
				}
				return r
			})
		}},
		{"RGB, interlaced (made by vips)", func(t *testing.T) []byte {
			vips, err := exec.LookPath("vips")
			if err != nil {
				t.Skip("vips is not installed; it makes the interlaced PNG")
			}
			in := writeFile(t, "in.png", encode(t, "png", rgb))
			out := filepath.Join(t.TempDir(), "interlaced.png")
			if msg, err := exec.Command(vips, "pngsave", in, out, "--interlace").CombinedOutput(); err != nil {
				t.Fatalf("vips pngsave: %v\n%s", err, msg)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if data[28] != 1 {
				t.Fatal("vips did not interlace the PNG")
			}
			return data
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			want, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("Go cannot decode the test PNG: %v", err)
			}
			lib, _ := openLibrary(t, imagery.DefaultLimits)
			u := receive(t, lib, data)
			info, err := lib.Inspect(u)
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			if info.MediaType != "image/png" || info.Raster == nil || info.Raster.Driver != "PNG" {
				t.Fatalf("got %s, raster %+v, want a PNG read by GDAL's PNG driver", info.MediaType, info.Raster)
			}
			got := built(t, lib, u, info)
			if got.Bounds() != want.Bounds() {
				t.Fatalf("got %v, want %v", got.Bounds(), want.Bounds())
			}
			if d := rastertest.MeanAbsDiff(got, want, w, h); d > 2 {
				t.Errorf("the pyramid differs from Go's decode by %.2f on average, want ≤ 2", d)
			}
		})
	}
}

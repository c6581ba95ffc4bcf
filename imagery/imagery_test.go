package imagery_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"testing/iotest"
	"time"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/satmark/satmark/imagery"
)

var (
	background = color.NRGBA{128, 128, 128, 255}
	red        = color.NRGBA{220, 30, 30, 255}
	green      = color.NRGBA{30, 200, 30, 255}
)

const block = 16 // side of the coloured corner blocks, one JPEG MCU

// scene draws a w×h grey image with a red block in the top-left corner and a green block
// in the top-right corner, so every flip and rotation puts them somewhere distinct.
func scene(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := background
			switch {
			case y < block && x < block:
				c = red
			case y < block && x >= w-block:
				c = green
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// encode writes img in the named format.
func encode(t *testing.T, format string, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "tiff":
		err = tiff.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	default:
		t.Fatalf("no encoder for %q", format)
	}
	if err != nil {
		t.Fatalf("encode %s: %v", format, err)
	}
	return b.Bytes()
}

// withExif inserts an APP1 Exif segment carrying orientation right after the JPEG's SOI.
func withExif(t *testing.T, jpg []byte, order binary.ByteOrder, orientation int) []byte {
	t.Helper()
	if !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8}) {
		t.Fatalf("not a JPEG")
	}
	var tiffBlock bytes.Buffer
	if order == binary.LittleEndian {
		tiffBlock.WriteString("II")
	} else {
		tiffBlock.WriteString("MM")
	}
	w := func(v any) { binary.Write(&tiffBlock, order, v) }
	w(uint16(42))
	w(uint32(8)) // IFD0 right after the header
	w(uint16(2)) // two entries: a resolution unit first, so the orientation is not the first tag
	w(uint16(0x0128))
	w(uint16(3))
	w(uint32(1))
	w(uint16(2))
	w(uint16(0))
	w(uint16(0x0112)) // Orientation, SHORT, count 1, value left-justified
	w(uint16(3))
	w(uint32(1))
	w(uint16(orientation))
	w(uint16(0))
	w(uint32(0)) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiffBlock.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	seg = append(seg, payload...)
	out := append([]byte{0xFF, 0xD8}, seg...)
	return append(out, jpg[2:]...)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func openLibrary(t *testing.T, limits imagery.Limits) (*imagery.Library, string) {
	t.Helper()
	root := t.TempDir()
	lib, err := imagery.Open(root, limits)
	if err != nil {
		t.Fatalf("open library: %v", err)
	}
	return lib, root
}

func receive(t *testing.T, lib *imagery.Library, data []byte) *imagery.Upload {
	t.Helper()
	u, err := lib.Receive(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	t.Cleanup(u.Discard)
	return u
}

// near reports whether c is within tol of want on every channel.
func near(c color.Color, want color.NRGBA, tol int) bool {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	d := func(a, b uint8) int {
		if a > b {
			return int(a - b)
		}
		return int(b - a)
	}
	return d(n.R, want.R) <= tol && d(n.G, want.G) <= tol && d(n.B, want.B) <= tol
}

// built places the upload, builds its pyramid and returns the image as the pyramid shows
// it at full resolution (a lossless render of full/max).
func built(t *testing.T, lib *imagery.Library, u *imagery.Upload, info imagery.Info) image.Image {
	t.Helper()
	if _, err := lib.Place(u); err != nil {
		t.Fatalf("place: %v", err)
	}
	if err := lib.BuildPyramid(context.Background(), u.SHA256, info, nil); err != nil {
		t.Fatalf("build pyramid: %v", err)
	}
	r, err := imagery.ParseIIIF("full", "max", "0", "default.png", info.Width, info.Height)
	if err != nil {
		t.Fatal(err)
	}
	out, err := lib.Render(context.Background(), u.SHA256, info, r)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	defer out.File.Close()
	img, _, err := image.Decode(out.File)
	if err != nil {
		t.Fatalf("decode render: %v", err)
	}
	return img
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head string
		want string
	}{
		{"ok, JPEG", "\xFF\xD8\xFF\xE0\x00\x10JFIF", "image/jpeg"},
		{"ok, PNG", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"},
		{"ok, GIF87a", "GIF87a\x10\x00", "image/gif"},
		{"ok, GIF89a", "GIF89a\x10\x00", "image/gif"},
		{"ok, TIFF little-endian", "II*\x00\x08\x00\x00\x00", "image/tiff"},
		{"ok, TIFF big-endian", "MM\x00*\x00\x00\x00\x08", "image/tiff"},
		{"ok, JPEG 2000 file", "\x00\x00\x00\x0cjP  \r\n\x87\n", "image/jp2"},
		{"ok, JPEG 2000 codestream", "\xFF\x4F\xFF\x51\x00\x2F\x00\x00", "image/x-jp2-codestream"},
		{"ok, BMP", "BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", "image/bmp"},
		{"nok, text that starts with BM", "BMW spotted at the gate, 2024", ""},
		{"ok, WebP", "RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"},
		{"nok, RIFF that is not WebP", "RIFF\x24\x00\x00\x00WAVEfmt ", ""},
		{"nok, WEBP without RIFF", "XXXX\x24\x00\x00\x00WEBPVP8 ", ""},
		{"nok, plain text", "Landing ships at Vladivostok", ""},
		{"nok, HTML", "<!doctype html><html>", ""},
		{"nok, zip", "PK\x03\x04\x14\x00\x00\x00", ""},
		{"nok, PDF", "%PDF-1.7\n", ""},
		{"nok, JPEG cut after two bytes", "\xFF\xD8", ""},
		{"nok, empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := imagery.Sniff([]byte(tt.head)); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInspectFormats(t *testing.T) {
	img := scene(48, 20)
	webp, err := os.ReadFile(filepath.Join("testdata", "scene-12x8.webp"))
	if err != nil {
		t.Fatalf("read WebP test data: %v", err)
	}
	tests := []struct {
		name         string
		data         []byte
		wantType     string
		wantW, wantH int
	}{
		{"ok, PNG", encode(t, "png", img), "image/png", 48, 20},
		{"ok, JPEG", encode(t, "jpeg", img), "image/jpeg", 48, 20},
		{"ok, GIF", encode(t, "gif", img), "image/gif", 48, 20},
		{"ok, TIFF", encode(t, "tiff", img), "image/tiff", 48, 20},
		{"ok, BMP", encode(t, "bmp", img), "image/bmp", 48, 20},
		{"ok, WebP made by libvips", webp, "image/webp", 12, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := imagery.Inspect(writeFile(t, "upload.bin", tt.data), imagery.DefaultLimits)
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			want := imagery.Info{MediaType: tt.wantType, Width: tt.wantW, Height: tt.wantH, Orientation: 1}
			if gdal := tt.wantType == "image/tiff" || tt.wantType == "image/png"; (info.Raster != nil) != gdal || (info.Metadata != nil) != gdal {
				t.Errorf("got raster facts %+v and metadata %+v, want both for a TIFF or PNG (read by GDAL) only", info.Raster, info.Metadata)
			}
			if info.Raster, info.Metadata = nil, nil; info != want {
				t.Errorf("got %+v, want %+v", info, want)
			}
			lib, _ := openLibrary(t, imagery.DefaultLimits)
			u := receive(t, lib, tt.data)
			display := built(t, lib, u, info)
			if b := display.Bounds(); b.Dx() != tt.wantW || b.Dy() != tt.wantH {
				t.Errorf("got pyramid image %d×%d, want %d×%d", b.Dx(), b.Dy(), tt.wantW, tt.wantH)
			}
			// Tiles are JPEGs (and GIF has a palette): compare with a tolerance.
			if c := display.At(1, 1); !near(c, red, 40) {
				t.Errorf("got top-left pixel %v, want about %v", c, red)
			}
			if c := display.At(tt.wantW/2, tt.wantH-2); near(c, red, 40) {
				t.Errorf("got bottom-middle pixel %v, want it not red", c)
			}
		})
	}
}

func TestInspectLimits(t *testing.T) {
	png64 := encode(t, "png", scene(64, 32))
	tests := []struct {
		name    string
		data    []byte
		limits  imagery.Limits
		wantErr error
	}{
		{"ok, exactly MaxBytes", png64, imagery.Limits{MaxBytes: int64(len(png64))}, nil},
		{"nok, one byte over MaxBytes", png64, imagery.Limits{MaxBytes: int64(len(png64)) - 1}, imagery.ErrTooLarge},
		{"ok, exactly MaxPixels", png64, imagery.Limits{MaxPixels: 64 * 32}, nil},
		{"nok, one pixel over MaxPixels", png64, imagery.Limits{MaxPixels: 64*32 - 1}, imagery.ErrTooLarge},
		{"nok, text", []byte("satellite photos released on 18 October 2024\n"), imagery.DefaultLimits, imagery.ErrUnsupportedMedia},
		{"nok, HTML named like an image", []byte("<html><body><img src=x></body></html>"), imagery.DefaultLimits, imagery.ErrUnsupportedMedia},
		{"nok, zip", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00rest of a zip"), imagery.DefaultLimits, imagery.ErrUnsupportedMedia},
		{"nok, empty file", nil, imagery.DefaultLimits, imagery.ErrUnsupportedMedia},
		{"nok, PNG signature then garbage", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 64)...), imagery.DefaultLimits, imagery.ErrCorrupt},
		{"nok, JPEG cut inside its header", encode(t, "jpeg", scene(64, 32))[:20], imagery.DefaultLimits, imagery.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := imagery.Inspect(writeFile(t, "upload.bin", tt.data), tt.limits)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// pngHeader returns a PNG that declares w×h pixels in a valid IHDR and has no pixel data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		body := append([]byte(kind), data...)
		b.Write(body)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(body))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IEND", nil)
	return b.Bytes()
}

func TestInspectRejectsAHugeHeaderWithoutDecoding(t *testing.T) {
	path := writeFile(t, "bomb.png", pngHeader(100000, 100000))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := imagery.Inspect(path, imagery.DefaultLimits)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, imagery.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	// Decoding 10^10 RGBA pixels would need 40 GB; reading the header needs kilobytes.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("got %d bytes allocated, want under 1 MiB (the header only)", grew)
	}
}

// truncatedJPEG cuts a JPEG halfway through its entropy-coded data: the header is whole,
// the pixels are not, as after an interrupted download.
func truncatedJPEG(t *testing.T, full []byte) []byte {
	t.Helper()
	sos := bytes.Index(full, []byte{0xFF, 0xDA})
	if sos < 0 {
		t.Fatalf("no start of scan in the JPEG")
	}
	return full[:sos+(len(full)-sos)/2]
}

func TestTruncatedJPEGIsRefusedByInspect(t *testing.T) {
	data := truncatedJPEG(t, encode(t, "jpeg", scene(64, 32)))
	lib, _ := openLibrary(t, imagery.DefaultLimits)
	u := receive(t, lib, data)
	_, err := lib.Inspect(u)
	if !errors.Is(err, imagery.ErrCorrupt) {
		t.Fatalf("inspect: got %v, want ErrCorrupt", err)
	}
}

func TestIncompleteFilesAreRefusedByInspect(t *testing.T) {
	img := scene(64, 32)
	tests := []struct {
		name string
		data []byte
	}{
		{"nok, PNG without IEND", func() []byte { b := encode(t, "png", img); return b[:len(b)-12] }()},
		{"nok, GIF without its trailer", func() []byte { b := encode(t, "gif", img); return b[:len(b)-1] }()},
		{"nok, BMP shorter than its header says", func() []byte { b := encode(t, "bmp", img); return b[:len(b)-100] }()},
		{"nok, TIFF whose strips run past the end", func() []byte { b := encode(t, "tiff", img); return b[:len(b)*3/4] }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := imagery.Inspect(writeFile(t, "upload.bin", tt.data), imagery.DefaultLimits)
			if !errors.Is(err, imagery.ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
}

// corruptScanJPEG keeps a JPEG's header and end marker but scrambles the middle of its
// entropy-coded data, so only decoding the pixels can tell.
func corruptScanJPEG(t *testing.T, full []byte) []byte {
	t.Helper()
	sos := bytes.Index(full, []byte{0xFF, 0xDA})
	if sos < 0 {
		t.Fatalf("no start of scan in the JPEG")
	}
	out := append([]byte(nil), full...)
	for i := sos + 20; i < len(out)-4; i++ {
		out[i] = 0xFF // marker prefixes everywhere: not a valid scan
		i++
		out[i] = 0xC4
	}
	return out
}

func TestBuildFailsOnCorruptPixelsAndLeavesNothing(t *testing.T) {
	data := corruptScanJPEG(t, encode(t, "jpeg", scene(640, 320)))
	lib, root := openLibrary(t, imagery.DefaultLimits)
	u := receive(t, lib, data)
	info, err := lib.Inspect(u)
	if err != nil {
		t.Fatalf("inspect: got %v, want the header and end marker to pass", err)
	}
	if _, err := lib.Place(u); err != nil {
		t.Fatal(err)
	}
	err = lib.BuildPyramid(context.Background(), u.SHA256, info, nil)
	if !errors.Is(err, imagery.ErrCorrupt) {
		t.Fatalf("build: got %v, want ErrCorrupt", err)
	}
	if _, err := lib.Pyramid(u.SHA256); !errors.Is(err, imagery.ErrNoPyramid) {
		t.Errorf("pyramid after a failed build: got %v, want ErrNoPyramid", err)
	}
	derived := filepath.Join(root, "derived", u.SHA256[:2], u.SHA256)
	if left, _ := os.ReadDir(derived); len(left) != 0 {
		t.Errorf("left behind in %s: %v", derived, left)
	}
}

func TestBuildRejectsHeaderThatDisagreesWithPixels(t *testing.T) {
	data := encode(t, "png", scene(64, 32))
	lib, _ := openLibrary(t, imagery.DefaultLimits)
	u := receive(t, lib, data)
	if _, err := lib.Place(u); err != nil {
		t.Fatal(err)
	}
	err := lib.BuildPyramid(context.Background(), u.SHA256, imagery.Info{MediaType: "image/png", Width: 32, Height: 64, Orientation: 1}, nil)
	if !errors.Is(err, imagery.ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	if _, err := lib.Pyramid(u.SHA256); !errors.Is(err, imagery.ErrNoPyramid) {
		t.Errorf("pyramid after a failed build: got %v, want ErrNoPyramid", err)
	}
}

func TestExifOrientation(t *testing.T) {
	const w, h = 64, 32
	raw := encode(t, "jpeg", scene(w, h))
	type corner int
	const (
		topLeft corner = iota
		topRight
		bottomLeft
		bottomRight
	)
	// Where the raw top-left (red) and top-right (green) blocks must appear once the
	// image is displayed as EXIF orientation says.
	tests := []struct {
		orientation int
		red, green  corner
	}{
		{1, topLeft, topRight},
		{2, topRight, topLeft},
		{3, bottomRight, bottomLeft},
		{4, bottomLeft, bottomRight},
		{5, topLeft, bottomLeft},
		{6, topRight, bottomRight},
		{7, bottomRight, topRight},
		{8, bottomLeft, topLeft},
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		for _, tt := range tests {
			name := "II"
			if order == binary.BigEndian {
				name = "MM"
			}
			t.Run(fmt.Sprintf("%s orientation %d", name, tt.orientation), func(t *testing.T) {
				data := withExif(t, raw, order, tt.orientation)
				lib, _ := openLibrary(t, imagery.DefaultLimits)
				u := receive(t, lib, data)
				info, err := lib.Inspect(u)
				if err != nil {
					t.Fatalf("inspect: %v", err)
				}
				wantW, wantH := w, h
				if tt.orientation >= 5 {
					wantW, wantH = h, w
				}
				want := imagery.Info{MediaType: "image/jpeg", Width: wantW, Height: wantH, Orientation: tt.orientation}
				if info != want {
					t.Fatalf("got %+v, want %+v", info, want)
				}
				display := built(t, lib, u, info)
				if b := display.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
					t.Fatalf("got pyramid image %d×%d, want %d×%d", b.Dx(), b.Dy(), wantW, wantH)
				}
				at := func(c corner) color.Color {
					x, y := block/2, block/2
					if c == topRight || c == bottomRight {
						x = wantW - block/2
					}
					if c == bottomLeft || c == bottomRight {
						y = wantH - block/2
					}
					return display.At(x, y)
				}
				for c := topLeft; c <= bottomRight; c++ {
					want := background
					switch c {
					case tt.red:
						want = red
					case tt.green:
						want = green
					}
					if got := at(c); !near(got, want, 40) {
						t.Errorf("corner %d: got %v, want about %v", c, got, want)
					}
				}
			})
		}
	}
}

func TestExifOrientationAfterJFIFSegment(t *testing.T) {
	raw := encode(t, "jpeg", scene(64, 32))
	exif := withExif(t, raw, binary.LittleEndian, 6)
	// SOI, then a JFIF APP0 segment as most cameras and editors write, then the Exif APP1.
	jfif := []byte{0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}
	data := append(append([]byte{0xFF, 0xD8}, jfif...), exif[2:]...)
	info, err := imagery.Inspect(writeFile(t, "x.jpg", data), imagery.DefaultLimits)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	if want := (imagery.Info{MediaType: "image/jpeg", Width: 32, Height: 64, Orientation: 6}); info != want {
		t.Errorf("got %+v, want %+v", info, want)
	}
}

func TestExifOrientationIgnoredWhenUnreadable(t *testing.T) {
	raw := encode(t, "jpeg", scene(64, 32))
	tests := []struct {
		name string
		data []byte
	}{
		{"ok, orientation 0 is treated as 1", withExif(t, raw, binary.LittleEndian, 0)},
		{"ok, orientation 9 is treated as 1", withExif(t, raw, binary.BigEndian, 9)},
		{"ok, APP1 that is not Exif", append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'h', 't', 't', 'p', ':', '/'}, raw[2:]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := imagery.Inspect(writeFile(t, "x.jpg", tt.data), imagery.DefaultLimits)
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			if info.Orientation != 1 || info.Width != 64 || info.Height != 32 {
				t.Errorf("got %+v, want 64×32 with orientation 1", info)
			}
		})
	}
}

func TestReceive(t *testing.T) {
	data := encode(t, "png", scene(64, 32))
	sum := sha256.Sum256(data)
	wantSHA := hex.EncodeToString(sum[:])

	t.Run("ok, hashes while it copies", func(t *testing.T) {
		lib, _ := openLibrary(t, imagery.Limits{MaxBytes: int64(len(data))})
		u := receive(t, lib, data)
		if u.SHA256 != wantSHA || u.Size != int64(len(data)) {
			t.Errorf("got sha %s size %d, want %s size %d", u.SHA256, u.Size, wantSHA, len(data))
		}
		got, err := os.ReadFile(u.Path)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("got temporary file of %d bytes (%v), want the %d bytes received", len(got), err, len(data))
		}
	})

	t.Run("nok, over MaxBytes leaves nothing in tmp", func(t *testing.T) {
		lib, root := openLibrary(t, imagery.Limits{MaxBytes: int64(len(data)) - 1})
		u, err := lib.Receive(bytes.NewReader(data))
		if !errors.Is(err, imagery.ErrTooLarge) || u != nil {
			t.Fatalf("got %v, %v; want nil, ErrTooLarge", u, err)
		}
		if left := entries(t, filepath.Join(root, "tmp")); len(left) != 0 {
			t.Errorf("got %v in tmp, want nothing", left)
		}
	})

	t.Run("nok, read error leaves nothing in tmp", func(t *testing.T) {
		lib, root := openLibrary(t, imagery.DefaultLimits)
		errCut := errors.New("connection reset")
		_, err := lib.Receive(io.MultiReader(bytes.NewReader(data[:100]), iotest.ErrReader(errCut)))
		if !errors.Is(err, errCut) {
			t.Fatalf("got %v, want %v", err, errCut)
		}
		if left := entries(t, filepath.Join(root, "tmp")); len(left) != 0 {
			t.Errorf("got %v in tmp, want nothing", left)
		}
	})

	t.Run("ok, discard removes the temporary file", func(t *testing.T) {
		lib, root := openLibrary(t, imagery.DefaultLimits)
		u, err := lib.Receive(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		u.Discard()
		u.Discard() // twice is harmless
		if left := entries(t, filepath.Join(root, "tmp")); len(left) != 0 {
			t.Errorf("got %v in tmp, want nothing", left)
		}
	})
}

func TestPlace(t *testing.T) {
	data := encode(t, "png", scene(64, 32))
	lib, root := openLibrary(t, imagery.DefaultLimits)
	u := receive(t, lib, data)
	undo, err := lib.Place(u)
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	want := filepath.Join(root, "originals", u.SHA256[:2], u.SHA256)
	if got := lib.OriginalPath(u.SHA256); got != want {
		t.Errorf("got original path %s, want %s", got, want)
	}
	got, err := os.ReadFile(want)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("got original of %d bytes (%v), want the %d bytes received", len(got), err, len(data))
	}
	if _, err := os.Stat(u.Path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v for the temporary file, want it moved away", err)
	}
	undo()
	if _, err := os.Stat(want); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after undo: got %v, want the original gone", err)
	}
}

func TestPathsRefuseAnythingButASHA256(t *testing.T) {
	lib, _ := openLibrary(t, imagery.DefaultLimits)
	valid := hex.EncodeToString(make([]byte, 32))
	tests := []struct {
		name string
		sha  string
	}{
		{"nok, path traversal", "../../etc/passwd"},
		{"nok, traversal padded to 64 characters", "../../../../../../../../../../../../../../../../../../etc/passwd"},
		{"nok, upper-case hex", "AB" + valid[2:]},
		{"nok, 63 digits", valid[1:]},
		{"nok, 65 digits", valid + "0"},
		{"nok, with a slash", valid[:32] + "/" + valid[33:]},
		{"nok, empty", ""},
	}
	for _, tt := range tests {
		for _, f := range []struct {
			name string
			fn   func(string) string
		}{{"OriginalPath", lib.OriginalPath}, {"ThumbnailPath", lib.ThumbnailPath}} {
			t.Run(tt.name+" "+f.name, func(t *testing.T) {
				defer func() {
					if recover() == nil {
						t.Errorf("%s(%q) did not panic", f.name, tt.sha)
					}
				}()
				f.fn(tt.sha)
			})
		}
	}
	if got := lib.OriginalPath(valid); filepath.Base(got) != valid {
		t.Errorf("got %s for a valid SHA-256, want a path ending in it", got)
	}
}

// stored receives and places data and builds its pyramid, as an ingest and its build
// would.
func stored(t *testing.T, lib *imagery.Library, data []byte) (*imagery.Upload, imagery.Info) {
	t.Helper()
	u := receive(t, lib, data)
	info, err := lib.Inspect(u)
	if err != nil {
		t.Fatalf("inspect: %v", err)
	}
	built(t, lib, u, info)
	return u, info
}

func TestRemove(t *testing.T) {
	lib, _ := openLibrary(t, imagery.DefaultLimits)
	u, _ := stored(t, lib, encode(t, "png", scene(64, 32)))
	if err := lib.Remove(u.SHA256); err != nil {
		t.Fatalf("remove: %v", err)
	}
	for _, path := range []string{lib.OriginalPath(u.SHA256), filepath.Dir(lib.ThumbnailPath(u.SHA256))} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v for %s, want it gone", err, path)
		}
	}
	if err := lib.Remove(u.SHA256); err != nil {
		t.Errorf("second remove: got %v, want nil", err)
	}
}

// TestOpenClearsLeftoverUploads: opening a data folder removes the uploads and pyramid
// builds a process that ended left there, untouched for LeftoverAge, and keeps those
// written since, which another process sharing the folder may be writing now.
func TestOpenClearsLeftoverUploads(t *testing.T) {
	root := t.TempDir()
	if _, err := imagery.Open(root, imagery.DefaultLimits); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, "tmp")
	old := time.Now().Add(-imagery.LeftoverAge - time.Minute)
	building := filepath.Join(root, "derived", "ab", "abcd", "pyramid.building")
	live := filepath.Join(root, "derived", "cd", "cdef", "pyramid.building")
	for _, d := range []string{filepath.Join(tmp, "upload-live"), filepath.Join(building, "0"), filepath.Join(live, "0")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]bool{ // path → written long ago
		filepath.Join(tmp, "upload-123"):          true,
		filepath.Join(tmp, "upload-abc"):          true,
		filepath.Join(tmp, "upload-live", "part"): false,
		filepath.Join(building, "0", "0_0.jpg"):   true,
		filepath.Join(live, "0", "0_0.jpg"):       false,
	}
	for path, stale := range files {
		if err := os.WriteFile(path, []byte("half of something"), 0o644); err != nil {
			t.Fatal(err)
		}
		if stale {
			os.Chtimes(path, old, old)
			os.Chtimes(filepath.Dir(path), old, old)
		}
	}
	os.Chtimes(building, old, old)
	lib, err := imagery.Open(root, imagery.DefaultLimits)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	if left := entries(t, tmp); !slices.Equal(left, []string{"upload-live"}) {
		t.Errorf("got %v in tmp after reopening, want the live upload alone", left)
	}
	if _, err := os.Stat(building); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale build: %v, want it gone", err)
	}
	if _, err := os.Stat(filepath.Join(live, "0", "0_0.jpg")); err != nil {
		t.Errorf("the build in progress: %v, want it kept", err)
	}
	for _, d := range []string{"originals", "derived", "tmp"} {
		if st, err := os.Stat(filepath.Join(root, d)); err != nil || !st.IsDir() {
			t.Errorf("got %v for %s, want a folder", err, d)
		}
	}
	if got := lib.Limits(); got != imagery.DefaultLimits {
		t.Errorf("got limits %+v, want %+v", got, imagery.DefaultLimits)
	}
}

func TestPyramidOfAWideImage(t *testing.T) {
	const w, h = 5000, 1000
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Pix[y*img.Stride+x] = uint8((x/50 + y/50) * 8)
		}
	}
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	lib, _ := openLibrary(t, imagery.DefaultLimits)
	u, _ := stored(t, lib, b.Bytes())
	m, err := lib.Pyramid(u.SHA256)
	if err != nil {
		t.Fatalf("pyramid: %v", err)
	}
	if len(m.Levels) != 6 || m.Levels[5].Width != 157 || m.Levels[5].Height != 32 {
		t.Errorf("got levels %+v, want 6 ending at 157×32", m.Levels)
	}
	cfg := decodeConfig(t, lib.ThumbnailPath(u.SHA256))
	if cfg.Width != imagery.ThumbnailSize || cfg.Height < 101 || cfg.Height > 103 {
		t.Errorf("got thumbnail %d×%d, want 512×102", cfg.Width, cfg.Height)
	}
}

func decodeConfig(t *testing.T, path string) image.Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		t.Fatalf("decode config %s: %v", path, err)
	}
	return cfg
}

package imagery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // registered decoders: the formats satmark accepts
	_ "image/jpeg"
	_ "image/png"
	"io"
	"os"
	"strconv"
	"strings"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// ErrUnsupportedMedia means the bytes are not an image format satmark reads.
var ErrUnsupportedMedia = errors.New("unsupported media type")

// ErrTooLarge means the file or its pixel count is over the configured limit.
var ErrTooLarge = errors.New("too large")

// ErrCorrupt means the file claims to be an image but cannot be read as one.
var ErrCorrupt = errors.New("corrupt image")

// Info is what the header of an image says, read without decoding its pixels.
type Info struct {
	MediaType   string // e.g. "image/jpeg"
	Width       int    // as displayed, after EXIF orientation
	Height      int
	Orientation int // EXIF orientation 1–8 (1 when absent)
	// Raster is what GDAL says of a raster read through it (PNG, TIFF, JPEG 2000, NITF,
	// ERDAS IMG); nil for the formats satmark decodes itself. It is not stored.
	Raster *Raster
	// Metadata is what such a raster says of its capture, read with it; nil otherwise.
	Metadata *FileMetadata
	// Display is how BuildPyramid shows a raster read through GDAL (the image's stored
	// display); nil chooses the default (DefaultDisplay). Other formats ignore it.
	Display *Display
}

// formats maps leading bytes to media types. Content decides, never the file name.
var formats = []struct {
	magic     []byte
	offset    int
	mediaType string
}{
	{[]byte{0xFF, 0xD8, 0xFF}, 0, "image/jpeg"},
	{[]byte("\x89PNG\r\n\x1a\n"), 0, "image/png"},
	{[]byte("GIF87a"), 0, "image/gif"},
	{[]byte("GIF89a"), 0, "image/gif"},
	{[]byte("II*\x00"), 0, "image/tiff"},
	{[]byte("MM\x00*"), 0, "image/tiff"},
	{[]byte("II+\x00"), 0, "image/tiff"}, // BigTIFF
	{[]byte("MM\x00+"), 0, "image/tiff"},
	{[]byte("\x00\x00\x00\x0cjP  \r\n\x87\n"), 0, "image/jp2"},
	// A bare JPEG 2000 codestream (.j2k, .j2c): its SOC and SIZ markers, under the media
	// type of the shared MIME-info database.
	{[]byte{0xFF, 0x4F, 0xFF, 0x51}, 0, "image/x-jp2-codestream"},
	{[]byte("NITF"), 0, "application/vnd.nitf"},
	{[]byte("NSIF"), 0, "application/vnd.nitf"},
	{[]byte("EHFA_HEADER_TAG"), 0, "application/x-erdas-hfa"},
	{[]byte("BM"), 0, "image/bmp"},
	{[]byte("WEBP"), 8, "image/webp"},
}

// Sniff returns the media type of an image from its first bytes, or "" if it is not a
// format satmark reads.
func Sniff(head []byte) string {
	for _, f := range formats {
		if len(head) >= f.offset+len(f.magic) && bytes.Equal(head[f.offset:f.offset+len(f.magic)], f.magic) {
			if f.mediaType == "image/webp" && !bytes.HasPrefix(head, []byte("RIFF")) {
				continue
			}
			if f.mediaType == "image/bmp" && !bmpHeader(head) {
				continue
			}
			return f.mediaType
		}
	}
	return ""
}

// isVRT reports whether the head of a file is a GDAL virtual raster's XML.
func isVRT(head []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(head, "\xEF\xBB\xBF \t\r\n"), []byte("<")) && bytes.Contains(head, []byte("<VRTDataset"))
}

// bmpHeader checks what follows "BM": the size of a DIB header BMP decoders know, so
// text that happens to start with "BM" is not taken for an image.
func bmpHeader(head []byte) bool {
	if len(head) < 18 {
		return false
	}
	switch binary.LittleEndian.Uint32(head[14:18]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// Inspect reads the image header of the file at path and checks it against the limits
// before any pixel is decoded, and checks that the file is whole (a JPEG ends with its
// end-of-image marker, a PNG with IEND, and so on), so a truncated upload is refused at
// once; the pixels themselves are decoded later, when the pyramid is built. Errors wrap
// ErrUnsupportedMedia, ErrTooLarge or ErrCorrupt.
func Inspect(path string, limits Limits) (Info, error) { return inspect(path, nil, limits) }

// inspect is Inspect, GDAL told that the files named siblings lie beside the raster.
func inspect(path string, siblings []string, limits Limits) (Info, error) {
	f, err := os.Open(path)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	if limits.MaxBytes > 0 && st.Size() > limits.MaxBytes {
		return Info{}, fmt.Errorf("the file is %d bytes; the limit is %d: %w", st.Size(), limits.MaxBytes, ErrTooLarge)
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	mediaType := Sniff(head[:n])
	if mediaType == "" {
		if isVRT(head[:n]) {
			return Info{}, fmt.Errorf("GDAL virtual rasters (VRT) are not accepted alone: one can point at files outside the upload; send the raster itself, or the VRT with the rasters it names as \"sidecar\" parts: %w", ErrUnsupportedMedia)
		}
		return Info{}, fmt.Errorf("the file is not a JPEG, PNG, GIF, TIFF, BMP, WebP, JPEG 2000, NITF or ERDAS IMG image: %w", ErrUnsupportedMedia)
	}
	if ReadByGDAL(mediaType) {
		// A PNG's size is read from its header first: GDAL reads on to the first pixel
		// data, and cannot say how large a file without any is.
		if mediaType == "image/png" {
			if _, err := decodeConfig(f, mediaType, limits); err != nil {
				return Info{}, err
			}
		}
		if err := checkComplete(f, st.Size(), mediaType); err != nil {
			return Info{}, err
		}
		return inspectGDAL(path, siblings, mediaType, limits)
	}
	cfg, err := decodeConfig(f, mediaType, limits)
	if err != nil {
		return Info{}, err
	}
	if err := checkComplete(f, st.Size(), mediaType); err != nil {
		return Info{}, err
	}
	info := Info{MediaType: mediaType, Width: cfg.Width, Height: cfg.Height, Orientation: 1}
	streamed := false
	if mediaType == "image/jpeg" {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return Info{}, err
		}
		var progressive bool
		info.Orientation, progressive = jpegHeader(f)
		// libjpeg-turbo streams a baseline JPEG shown as stored; a progressive one keeps
		// every coefficient in memory, and a CMYK or rotated one is decoded by Go.
		streamed = info.Orientation <= 1 && !progressive && cfg.ColorModel != color.CMYKModel
		if info.Orientation >= 5 { // transposed: the displayed image is rotated by 90°
			info.Width, info.Height = info.Height, info.Width
		}
	}
	if px := int64(cfg.Width) * int64(cfg.Height); !streamed && limits.MaxWholePixels > 0 && px > limits.MaxWholePixels {
		return Info{}, fmt.Errorf("the image is %d×%d = %.1f megapixels; a %s is decoded whole in memory, not streamed, "+
			"and the limit for that is %.1f (a baseline JPEG, a PNG or a GeoTIFF may be larger): %w", cfg.Width, cfg.Height,
			float64(px)/1e6, wholeKind(mediaType), float64(limits.MaxWholePixels)/1e6, ErrTooLarge)
	}
	return info, nil
}

// decodeConfig reads the image header of f from its start, checks the size it declares
// against limits.MaxPixels, and returns it.
func decodeConfig(f *os.File, mediaType string, limits Limits) (image.Config, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return image.Config{}, err
	}
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return cfg, fmt.Errorf("cannot read the %s header: %v: %w", mediaType, err, ErrCorrupt)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, fmt.Errorf("the header says %d×%d pixels: %w", cfg.Width, cfg.Height, ErrCorrupt)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); limits.MaxPixels > 0 && px > limits.MaxPixels {
		return cfg, fmt.Errorf("the image is %d×%d = %.1f megapixels; the limit is %.1f: %w",
			cfg.Width, cfg.Height, float64(px)/1e6, float64(limits.MaxPixels)/1e6, ErrTooLarge)
	}
	return cfg, nil
}

// wholeKind names an image of the media type that is decoded whole, for an error message.
func wholeKind(mediaType string) string {
	if mediaType == "image/jpeg" {
		return "progressive, CMYK or rotated JPEG"
	}
	return strings.ToUpper(strings.TrimPrefix(mediaType, "image/"))
}

// jpegHeader reads a JPEG's segments up to its first scan and returns its EXIF
// orientation tag (1–8; 1 when there is none or it cannot be read) and whether its frame
// is progressive.
func jpegHeader(r io.Reader) (orientation int, progressive bool) {
	orientation = 1
	var marker [4]byte
	if _, err := io.ReadFull(r, marker[:2]); err != nil || marker[0] != 0xFF || marker[1] != 0xD8 {
		return orientation, false
	}
	for {
		if _, err := io.ReadFull(r, marker[:]); err != nil || marker[0] != 0xFF {
			return orientation, progressive
		}
		size := int(binary.BigEndian.Uint16(marker[2:])) - 2
		if size < 0 {
			return orientation, progressive
		}
		switch m := marker[1]; {
		case m == 0xE1 && orientation == 1: // APP1: EXIF perhaps
			seg := make([]byte, size)
			if _, err := io.ReadFull(r, seg); err != nil {
				return orientation, progressive
			}
			if bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
				orientation = exifOrientation(seg[6:])
			}
			continue
		case m == 0xDA || m == 0xD9: // start of scan or end: the header is over
			return orientation, progressive
		case m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE: // a progressive frame
			progressive = true
		}
		if _, err := io.CopyN(io.Discard, r, int64(size)); err != nil {
			return orientation, progressive
		}
	}
}

// exifOrientation reads tag 0x0112 from IFD0 of a TIFF-structured EXIF block.
func exifOrientation(tiff []byte) int {
	if len(tiff) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	ifd := int(bo.Uint32(tiff[4:8]))
	if ifd < 8 || ifd+2 > len(tiff) {
		return 1
	}
	n := int(bo.Uint16(tiff[ifd:]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > len(tiff) {
			return 1
		}
		if bo.Uint16(tiff[e:]) == 0x0112 && bo.Uint16(tiff[e+2:]) == 3 { // SHORT
			if v := int(bo.Uint16(tiff[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

// checkComplete looks for the end of the image where its format puts it, without decoding
// anything: cheap, and enough to refuse a file cut short in transit.
func checkComplete(f *os.File, size int64, mediaType string) error {
	ok := true
	var err error
	switch mediaType {
	case "image/jpeg":
		// The end-of-image marker; some cameras append data after it (a motion photo's
		// video), so look back from the end as far as it takes.
		ok, err = containsFromEnd(f, size, []byte{0xFF, 0xD9})
	case "image/png":
		ok, err = containsFromEnd(f, size, []byte("IEND"))
	case "image/gif":
		tail := make([]byte, min(size, 4096))
		if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil && err != io.EOF {
			return err
		}
		trimmed := bytes.TrimRight(tail, "\x00")
		ok = len(trimmed) > 0 && trimmed[len(trimmed)-1] == 0x3B
	case "image/webp":
		head := make([]byte, 8)
		if _, err := f.ReadAt(head, 0); err != nil {
			return err
		}
		ok = int64(binary.LittleEndian.Uint32(head[4:8]))+8 <= size
	case "image/bmp":
		head := make([]byte, 6)
		if _, err := f.ReadAt(head, 0); err != nil {
			return err
		}
		ok = int64(binary.LittleEndian.Uint32(head[2:6])) <= size
	case "image/tiff":
		ok = tiffDataInside(f, size)
	case "image/jp2":
		ok = jp2BoxesInside(f, size)
	case "image/x-jp2-codestream":
		ok = endsWithEOC(f, size)
	case "application/vnd.nitf":
		ok = nitfLengthInside(f, size)
	}
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("the %s file is incomplete: it ends before the image does (was the upload cut short?): %w", mediaType, ErrCorrupt)
	}
	return nil
}

// containsFromEnd reports whether marker occurs in the file, reading backwards from the
// end a chunk at a time (a complete file has it near the end, so this is usually one read).
func containsFromEnd(f *os.File, size int64, marker []byte) (bool, error) {
	const chunk = 1 << 20
	buf := make([]byte, chunk+len(marker))
	for end := size; end > 0; end -= chunk {
		start := max(0, end-chunk)
		n := min(int64(len(buf)), size-start)
		if _, err := f.ReadAt(buf[:n], start); err != nil && err != io.EOF {
			return false, err
		}
		if bytes.Contains(buf[:n], marker) {
			return true, nil
		}
	}
	return false, nil
}

// tiffDataInside checks that every strip or tile the first image directory points at
// lies inside the file.
func tiffDataInside(f *os.File, size int64) bool {
	ifd, err := readTIFFDirectory(f, size)
	if err != nil {
		return false
	}
	offsets, counts := ifd[273], ifd[279] // StripOffsets, StripByteCounts
	if len(offsets) == 0 {
		offsets, counts = ifd[324], ifd[325] // TileOffsets, TileByteCounts
	}
	if len(offsets) == 0 || len(offsets) != len(counts) {
		return false
	}
	for i := range offsets {
		if offsets[i]+counts[i] > uint64(size) {
			return false
		}
	}
	return true
}

// readTIFFDirectory reads the integer values of the tags of a TIFF's (or BigTIFF's) first
// image directory (SHORT, LONG and LONG8 values; others are skipped).
func readTIFFDirectory(f io.ReaderAt, size int64) (map[uint16][]uint64, error) {
	head := make([]byte, 16)
	if _, err := f.ReadAt(head, 0); err != nil {
		return nil, err
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if string(head[:2]) == "MM" {
		bo = binary.BigEndian
	}
	// Classic TIFF: 4-byte offsets, 2-byte entry counts, 12-byte entries. BigTIFF (version
	// 43): 8-byte offsets and counts, 20-byte entries.
	big := bo.Uint16(head[2:4]) == 43
	off, countSize, entrySize, inline := int64(bo.Uint32(head[4:8])), int64(2), int64(12), int64(4)
	if big {
		off, countSize, entrySize, inline = int64(bo.Uint64(head[8:16])), 8, 20, 8
	}
	if off < 8 || off+countSize > size {
		return nil, fmt.Errorf("bad directory offset")
	}
	nb := make([]byte, countSize)
	if _, err := f.ReadAt(nb, off); err != nil {
		return nil, err
	}
	n := int64(bo.Uint16(nb))
	if big {
		n = int64(bo.Uint64(nb))
	}
	if n > 1<<16 || off+countSize+n*entrySize > size {
		return nil, fmt.Errorf("bad directory size")
	}
	entries := make([]byte, entrySize*n)
	if _, err := f.ReadAt(entries, off+countSize); err != nil {
		return nil, err
	}
	tags := map[uint16][]uint64{}
	for i := int64(0); i < n; i++ {
		e := entries[entrySize*i:]
		tag, typ := bo.Uint16(e), bo.Uint16(e[2:])
		count, value := int64(bo.Uint32(e[4:])), e[8:12]
		if big {
			count, value = int64(bo.Uint64(e[4:])), e[12:20]
		}
		var width int64
		switch typ {
		case 3:
			width = 2
		case 4:
			width = 4
		case 16:
			width = 8
		default:
			continue
		}
		if count <= 0 || count > 1<<24 {
			continue
		}
		data := value
		if count*width > inline {
			at := int64(bo.Uint32(value))
			if big {
				at = int64(bo.Uint64(value))
			}
			if at < 0 || at+count*width > size {
				return nil, fmt.Errorf("tag %d points outside the file", tag)
			}
			data = make([]byte, count*width)
			if _, err := f.ReadAt(data, at); err != nil {
				return nil, err
			}
		}
		vals := make([]uint64, count)
		for j := range vals {
			switch width {
			case 2:
				vals[j] = uint64(bo.Uint16(data[2*j:]))
			case 4:
				vals[j] = uint64(bo.Uint32(data[4*j:]))
			case 8:
				vals[j] = bo.Uint64(data[8*j:])
			}
		}
		tags[tag] = vals
	}
	return tags, nil
}

// jp2BoxesInside checks that every top-level box of a JPEG 2000 file lies inside it, that
// there is a codestream, and that a codestream running to the end of the file ends with
// its end-of-codestream marker.
func jp2BoxesInside(f io.ReaderAt, size int64) bool {
	codestream := false
	for at := int64(0); at < size; {
		h := make([]byte, 16)
		if _, err := f.ReadAt(h[:8], at); err != nil {
			return false
		}
		length, header := int64(binary.BigEndian.Uint32(h[:4])), int64(8)
		switch length {
		case 0: // to the end of the file
			length = size - at
		case 1: // a 64-bit length follows
			if _, err := f.ReadAt(h[8:16], at+8); err != nil {
				return false
			}
			length, header = int64(binary.BigEndian.Uint64(h[8:16])), 16
		}
		if length < header || at+length > size {
			return false
		}
		if string(h[4:8]) == "jp2c" {
			codestream = true
			if !endsWithEOC(f, at+length) {
				return false
			}
		}
		at += length
	}
	return codestream
}

// endsWithEOC reports whether the codestream that ends at byte end ends with its
// end-of-codestream marker (FF D9).
func endsWithEOC(f io.ReaderAt, end int64) bool {
	eoc := make([]byte, 2)
	_, err := f.ReadAt(eoc, end-2)
	return err == nil && eoc[0] == 0xFF && eoc[1] == 0xD9
}

// nitfLengthInside checks a NITF 2.1 / NSIF 1.0 file is as long as its header's file
// length field (FL, 12 digits at byte 342) says.
func nitfLengthInside(f io.ReaderAt, size int64) bool {
	head := make([]byte, 354)
	if _, err := f.ReadAt(head, 0); err != nil {
		return false
	}
	if v := string(head[:9]); v != "NITF02.10" && v != "NSIF01.00" {
		return true // an older version: its header is laid out differently; GDAL checks it
	}
	fl, err := strconv.ParseInt(string(head[342:354]), 10, 64)
	return err == nil && fl <= size
}

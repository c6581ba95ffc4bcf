package rastertest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"testing"
)

// EXIF is what JPEGWithEXIF writes into a JPEG's EXIF block; empty fields are left out.
type EXIF struct {
	Make, Model        string
	DateTimeOriginal   string // "2006:01:02 15:04:05", the camera's local time
	OffsetTimeOriginal string // "+10:00"
	// GPS position as EXIF has it: degrees, minutes, seconds, each a rational
	// (numerator, denominator), and the reference letters N/S and E/W.
	Latitude, Longitude       [3][2]uint32
	LatitudeRef, LongitudeRef string
}

type exifEntry struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

func exifASCII(tag uint16, s string) exifEntry {
	return exifEntry{tag, 2, uint32(len(s) + 1), append([]byte(s), 0)}
}

func exifRationals(tag uint16, v [3][2]uint32) exifEntry {
	var b []byte
	for _, r := range v {
		b = binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(b, r[0]), r[1])
	}
	return exifEntry{tag, 5, 3, b}
}

// JPEGWithEXIF is a small grey JPEG (32×24) whose APP1 segment holds e as a little-endian
// EXIF block: IFD0 (Make, Model), the EXIF IFD (DateTimeOriginal, OffsetTimeOriginal)
// and the GPS IFD.
func JPEGWithEXIF(t testing.TB, e EXIF) []byte {
	t.Helper()
	var ifd0, exif, gps []exifEntry
	if e.Make != "" {
		ifd0 = append(ifd0, exifASCII(0x010F, e.Make))
	}
	if e.Model != "" {
		ifd0 = append(ifd0, exifASCII(0x0110, e.Model))
	}
	if e.DateTimeOriginal != "" {
		exif = append(exif, exifASCII(0x9003, e.DateTimeOriginal))
	}
	if e.OffsetTimeOriginal != "" {
		exif = append(exif, exifASCII(0x9011, e.OffsetTimeOriginal))
	}
	if e.LatitudeRef != "" {
		gps = append(gps, exifASCII(1, e.LatitudeRef), exifRationals(2, e.Latitude),
			exifASCII(3, e.LongitudeRef), exifRationals(4, e.Longitude))
	}
	size := func(es []exifEntry) uint32 {
		n := uint32(2 + 12*len(es) + 4)
		for _, x := range es {
			if len(x.data) > 4 {
				n += uint32(len(x.data))
			}
		}
		return n
	}
	// The three IFDs one after the other, each followed by its out-of-line values; IFD0
	// points at the other two.
	ifd0 = append(ifd0, exifEntry{0x8769, 4, 1, nil}, exifEntry{0x8825, 4, 1, nil})
	atExif := 8 + size(ifd0)
	atGPS := atExif + size(exif)
	ifd0[len(ifd0)-2].data = binary.LittleEndian.AppendUint32(nil, atExif)
	ifd0[len(ifd0)-1].data = binary.LittleEndian.AppendUint32(nil, atGPS)
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	for _, es := range [][]exifEntry{ifd0, exif, gps} {
		extra := uint32(len(tiff)) + uint32(2+12*len(es)+4)
		tiff = binary.LittleEndian.AppendUint16(tiff, uint16(len(es)))
		var tail []byte
		for _, x := range es {
			tiff = binary.LittleEndian.AppendUint16(tiff, x.tag)
			tiff = binary.LittleEndian.AppendUint16(tiff, x.typ)
			tiff = binary.LittleEndian.AppendUint32(tiff, x.count)
			if len(x.data) <= 4 {
				tiff = append(tiff, append(x.data, make([]byte, 4-len(x.data))...)...)
			} else {
				tiff = binary.LittleEndian.AppendUint32(tiff, extra+uint32(len(tail)))
				tail = append(tail, x.data...)
			}
		}
		tiff = append(binary.LittleEndian.AppendUint32(tiff, 0), tail...)
	}
	var pic bytes.Buffer
	if err := jpeg.Encode(&pic, image.NewGray(image.Rect(0, 0, 32, 24)), nil); err != nil {
		t.Fatal(err)
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1}, binary.BigEndian.AppendUint16(nil, uint16(len(payload)+2))...)
	out = append(out, payload...)
	return append(out, pic.Bytes()[2:]...)
}

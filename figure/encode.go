package figure

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/goregular"
)

// PNG writes the figure with its caption band as a PNG whose pHYs chunk records the
// figure's resolution, so that a layout program places it at its chosen size.
func (f *Figure) PNG(w io.Writer) error {
	b, err := pngWithDPI(f.Image, f.DPI)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// pngWithDPI encodes img as PNG and puts a pHYs chunk (pixels per metre) right after
// the IHDR chunk, which Go's encoder writes first and always 13 bytes long.
func pngWithDPI(img image.Image, dpi float64) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	const afterIHDR = 8 + 4 + 4 + 13 + 4
	if len(b) < afterIHDR || string(b[12:16]) != "IHDR" {
		return nil, fmt.Errorf("png: no IHDR chunk first")
	}
	ppm := uint32(math.Round(dpi / 0.0254))
	chunk := make([]byte, 4+4+9+4)
	binary.BigEndian.PutUint32(chunk, 9)
	copy(chunk[4:], "pHYs")
	binary.BigEndian.PutUint32(chunk[8:], ppm)
	binary.BigEndian.PutUint32(chunk[12:], ppm)
	chunk[16] = 1 // the unit is the metre
	binary.BigEndian.PutUint32(chunk[17:], crc32.ChecksumIEEE(chunk[4:17]))
	out := make([]byte, 0, len(b)+len(chunk))
	out = append(out, b[:afterIHDR]...)
	out = append(out, chunk...)
	return append(out, b[afterIHDR:]...), nil
}

// PDF writes the figure as a one-page PDF as wide as the picture at the figure's
// resolution: the picture (annotations, scale bar and arrow drawn in it) at the top, the
// caption under it as text in the Go font, embedded, so it can be searched and copied.
func (f *Figure) PDF(w io.Writer) error {
	pic, err := pngWithDPI(f.Picture, f.DPI)
	if err != nil {
		return err
	}
	wPt := float64(f.Picture.Rect.Dx()) / f.DPI * 72
	hPt := float64(f.Picture.Rect.Dy()) / f.DPI * 72
	const margin, lineH = CaptionPoints * 0.8, CaptionPoints * 1.3
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "pt", Size: fpdf.SizeType{Wd: wPt, Ht: hPt}})
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCreator("satmark", true)
	pdf.AddUTF8FontFromBytes("Go", "", goregular.TTF)
	pdf.SetFont("Go", "", CaptionPoints)
	var lines []string
	for _, p := range f.Caption {
		lines = append(lines, pdf.SplitText(p, wPt-2*margin)...)
	}
	capH := 0.0
	if len(lines) > 0 {
		capH = 2*margin + float64(len(lines))*lineH
	}
	pdf.AddPageFormat("P", fpdf.SizeType{Wd: wPt, Ht: hPt + capH})
	opt := fpdf.ImageOptions{ImageType: "PNG"}
	pdf.RegisterImageOptionsReader("figure", opt, bytes.NewReader(pic))
	pdf.ImageOptions("figure", 0, 0, wPt, hPt, false, opt, 0, "")
	pdf.SetTextColor(20, 20, 20)
	for i, l := range lines {
		pdf.SetXY(margin, hPt+margin+float64(i)*lineH)
		pdf.CellFormat(wPt-2*margin, lineH, l, "", 0, "L", false, 0, "")
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return pdf.Output(w)
}

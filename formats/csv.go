package formats

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// CSVMediaType is the media type of the CSV export.
const CSVMediaType = "text/csv; charset=utf-8"

// CSVColumns are the CSV export's columns. geometry_px is WKT in the image's pixels
// (x right, y down); geometry_lonlat is WKT in WGS 84 longitude/latitude for an image
// with a georeference (a MULTI geometry where the antimeridian cuts it), empty otherwise.
var CSVColumns = []string{"annotation_id", "image_id", "image_file", "label", "label_path", "shape", "confidence",
	"identification", "review_status", "note", "rotation_deg", "area_px2", "length_px", "attributes", "geometry_px", "geometry_lonlat"}

// WriteCSV writes one row per annotation (RFC 4180, a header row first): see CSVColumns.
// rotation_deg is a rotated rectangle's heading (degrees clockwise from the image's x
// axis) and 0 for a rectangle; attributes are the free attributes as a JSON object. GDAL
// reads the geometries with -oo GEOM_POSSIBLE_NAMES=geometry_px,geometry_lonlat. A text
// cell (file name, label, identification, note) that a spreadsheet would run as a
// formula is guarded with a leading apostrophe (see escapeCell); ReadCSV takes it off.
func WriteCSV(w io.Writer, d Dataset) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	byID := make(map[string]DatasetImage, len(d.Images))
	for _, img := range d.Images {
		byID[img.ID] = img
	}
	var buf []byte
	err := d.Annotations(d.imageIDs(), func(a annotations.Annotation) error {
		img, ok := byID[a.ImageID]
		if !ok {
			return fmt.Errorf("annotation %s belongs to image %s, which is not in the export", a.ID, a.ImageID)
		}
		m := a.Geometry.Measure(a.Shape)
		rotation := ""
		if a.Shape == annotations.ShapeRectangle {
			rotation = "0"
		}
		if b, ok := boxOf(a); ok && b.Heading {
			rotation = num(b.AngleDeg)
		}
		// The attributes and both geometries are appended into buf, then cut into cells.
		var err error
		if buf, err = appendAttributes(buf[:0], a.Attributes); err != nil {
			return err
		}
		attrsEnd := len(buf)
		buf = appendPixelWKT(buf, a.Geometry)
		pixelEnd := len(buf)
		if p := d.Places[a.ImageID]; p.Georeferenced() {
			g, _, err := projectGeometry(p.Transformer, a.Geometry)
			if err != nil {
				return fmt.Errorf("annotation %s: %w", a.ID, err)
			}
			buf = appendLonLatWKT(buf, g)
		}
		cells := string(buf)
		return cw.Write([]string{
			a.ID, a.ImageID, escapeCell(img.FileName), escapeCell(a.Label.Name), escapeCell(strings.Join(a.Label.Path, "/")), string(a.Shape), string(a.Confidence),
			escapeCell(a.Identification), a.ReviewStatus, escapeCell(a.Note), rotation, optionalNum(m.AreaPx2), optionalNum(m.LengthPx), cells[:attrsEnd],
			cells[attrsEnd:pixelEnd], cells[pixelEnd:],
		})
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func optionalNum(v float64) string {
	if v == 0 {
		return ""
	}
	return num(v)
}

// appendPixelWKT appends a pixel geometry as WKT.
func appendPixelWKT(b []byte, g annotations.Geometry) []byte {
	switch g.Type {
	case "Point":
		return append(appendWKTPosition(append(b, "POINT ("...), [2]float64(g.Coordinates[0][0])), ')')
	case "LineString":
		return appendWKTPath(append(b, "LINESTRING "...), g.Coordinates[0])
	}
	b = append(b, "POLYGON ("...)
	for i, r := range g.Coordinates {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendWKTPath(b, r)
	}
	return append(b, ')')
}

// appendLonLatWKT appends an RFC 7946 geometry as WKT.
func appendLonLatWKT(b []byte, g lonLatGeometry) []byte {
	switch c := g.Coordinates.(type) {
	case [2]float64:
		return append(appendWKTPosition(append(b, "POINT ("...), c), ')')
	case [][2]float64:
		return appendWKTPath(append(b, "LINESTRING "...), c)
	case [][][2]float64:
		if g.Type == "MultiLineString" {
			return appendWKTRings(append(b, "MULTILINESTRING "...), c)
		}
		return appendWKTRings(append(b, "POLYGON "...), c)
	case [][][][2]float64:
		b = append(b, "MULTIPOLYGON ("...)
		for i, p := range c {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendWKTRings(b, p)
		}
		return append(b, ')')
	}
	return b
}

// appendWKTPosition appends "x y", each number as num writes it.
func appendWKTPosition(b []byte, p [2]float64) []byte {
	b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
	return strconv.AppendFloat(append(b, ' '), p[1], 'f', -1, 64)
}

// appendWKTPath appends "(x y, x y, …)".
func appendWKTPath[P ~[2]float64](b []byte, ps []P) []byte {
	b = append(b, '(')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendWKTPosition(b, [2]float64(p))
	}
	return append(b, ')')
}

func appendWKTRings(b []byte, rs [][][2]float64) []byte {
	b = append(b, '(')
	for i, r := range rs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendWKTPath(b, r)
	}
	return append(b, ')')
}

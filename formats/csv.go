package formats

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
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
		attrs := a.Attributes
		if attrs == nil {
			attrs = map[string]json.RawMessage{}
		}
		ab, err := json.Marshal(attrs)
		if err != nil {
			return err
		}
		lonlat := ""
		if p := d.Places[a.ImageID]; p.Georeferenced() {
			g, _, err := projectGeometry(p.Transformer, a.Geometry)
			if err != nil {
				return fmt.Errorf("annotation %s: %w", a.ID, err)
			}
			lonlat = lonLatWKT(g)
		}
		return cw.Write([]string{
			a.ID, a.ImageID, escapeCell(img.FileName), escapeCell(a.Label.Name), escapeCell(strings.Join(a.Label.Path, "/")), string(a.Shape), string(a.Confidence),
			escapeCell(a.Identification), a.ReviewStatus, escapeCell(a.Note), rotation, optionalNum(m.AreaPx2), optionalNum(m.LengthPx), string(ab),
			pixelWKT(a.Geometry), lonlat,
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

// pixelWKT is a pixel geometry as WKT.
func pixelWKT(g annotations.Geometry) string {
	paths := make([][][2]float64, len(g.Coordinates))
	for i, r := range g.Coordinates {
		paths[i] = make([][2]float64, len(r))
		for j, p := range r {
			paths[i][j] = [2]float64(p)
		}
	}
	switch g.Type {
	case "Point":
		return "POINT (" + wktPosition(paths[0][0]) + ")"
	case "LineString":
		return "LINESTRING " + wktPath(paths[0])
	}
	return "POLYGON " + wktRings(paths)
}

// lonLatWKT is an RFC 7946 geometry as WKT.
func lonLatWKT(g lonLatGeometry) string {
	switch c := g.Coordinates.(type) {
	case [2]float64:
		return "POINT (" + wktPosition(c) + ")"
	case [][2]float64:
		return "LINESTRING " + wktPath(c)
	case [][][2]float64:
		if g.Type == "MultiLineString" {
			return "MULTILINESTRING " + wktRings(c)
		}
		return "POLYGON " + wktRings(c)
	case [][][][2]float64:
		parts := make([]string, len(c))
		for i, p := range c {
			parts[i] = wktRings(p)
		}
		return "MULTIPOLYGON (" + strings.Join(parts, ", ") + ")"
	}
	return ""
}

func wktPosition(p [2]float64) string { return num(p[0]) + " " + num(p[1]) }

func wktPath(ps [][2]float64) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = wktPosition(p)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func wktRings(rs [][][2]float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = wktPath(r)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

package formats

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"

	"github.com/satmark/satmark/annotations"
)

// Reading CSV with WKT: satmark's own export (see CSVColumns) and any table with a label
// and a WKT geometry column, one row at a time.

// csvTable is a CSV file's header: where each column satmark reads is, -1 where absent.
type csvTable map[string]int

func (t csvTable) get(row []string, name string) string {
	if i, ok := t[name]; ok && i < len(row) {
		return unescapeCell(row[i])
	}
	return ""
}

// ReadCSV reads this image's rows of a CSV file (satmark's annotations.csv, or the
// annotations.csv of a CSV dataset zip). The rows are the image's when their image_id
// is its id or their image_file its dataset file name (or original file name); when no
// row names it and the file holds one image's rows, those. Each row is an annotation:
// geometry_px the WKT in pixels (POINT, LINESTRING or POLYGON), else geometry_lonlat in
// WGS 84 onto a placed image, else another tool's WKT (or geometry) column, in pixels
// unless the request says crs=wgs84; label_path (else label) the label; shape, confidence,
// identification and note as satmark writes them; attributes a JSON object of free
// attributes. A cell the export guarded against spreadsheets (a leading ' before
// = + - @ or a tab) is read without the guard.
func ReadCSV(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
	name, err := src.pick("CSV file", []string{"annotations.csv"}, ".csv")
	if err != nil {
		return err
	}
	want := datasetName(t.Image).FileName
	mine := func(table csvTable, row []string) bool {
		id, file := table.get(row, "image_id"), table.get(row, "image_file")
		return id == t.Image.ID || (file != "" && (strings.EqualFold(file, want) || strings.EqualFold(file, t.Image.Filename)))
	}
	// A first pass over the rows' images only: are any of them this one, or is there one?
	images := map[string]bool{}
	named := false
	err = src.eachCSVRow(name, func(table csvTable, row []string, _ int) error {
		if mine(table, row) {
			named = true
			return errStopRows
		}
		images[table.get(row, "image_id")+"\x00"+table.get(row, "image_file")] = true
		return nil
	})
	if err != nil {
		return err
	}
	if !named && len(images) > 1 {
		return fileErrorf("the CSV file holds rows of %d images, none of them this one (named %q)", len(images), want)
	}
	return src.eachCSVRow(name, func(table csvTable, row []string, line int) error {
		if named && !mine(table, row) {
			return nil
		}
		return emit(csvFeature(table, row, line, src.CRS, t))
	})
}

// wktColumn is the name of another tool's WKT column (GDAL writes "WKT"), or "".
func (t csvTable) wktColumn() string {
	for _, name := range []string{"wkt", "geometry", "geom", "the_geom"} {
		if _, ok := t[name]; ok {
			return name
		}
	}
	return ""
}

func (t csvTable) wkt(row []string) string {
	if name := t.wktColumn(); name != "" {
		return t.get(row, name)
	}
	return ""
}

var errStopRows = errors.New("stop")

// eachCSVRow calls each with every data row of a CSV file and its line number, after
// checking its header names a geometry column.
func (src ImportSource) eachCSVRow(name string, each func(table csvTable, row []string, line int) error) error {
	f, err := src.open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		return fileErrorf("the CSV file is empty: it needs a header row naming its columns")
	}
	if err != nil {
		return fileErrorf("the file is not valid CSV: %v", err)
	}
	table := csvTable{}
	for i, h := range header {
		table[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	_, px := table["geometry_px"]
	_, ll := table["geometry_lonlat"]
	if !px && !ll && table.wktColumn() == "" {
		return fileErrorf("the CSV file has no geometry column: satmark reads WKT from geometry_px (pixels), geometry_lonlat (WGS 84), "+
			"or a column named WKT or geometry (GDAL's -lco GEOMETRY=AS_WKT; pixels unless crs=wgs84); its columns are %s",
			strings.Join(header, ", "))
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fileErrorf("the file is not valid CSV: %v", err)
		}
		line, _ := r.FieldPos(0)
		if err := each(table, row, line); err != nil {
			if err == errStopRows {
				return nil
			}
			return err
		}
	}
}

func csvFeature(table csvTable, row []string, line int, crs string, t ImportTarget) annotations.ImportFeature {
	id := table.get(row, "annotation_id")
	place := fmt.Sprintf("line %d", line)
	var g annotations.Geometry
	var why string
	lonlat := false
	if text := table.get(row, "geometry_px"); strings.TrimSpace(text) != "" {
		g, why = wktGeometry(text)
	} else if text := table.get(row, "geometry_lonlat"); strings.TrimSpace(text) != "" {
		lonlat = true
		g, why = wktGeometry(text)
		if why == "" {
			g, why = fromLonLat(t.Place, g)
		}
	} else if text := table.wkt(row); strings.TrimSpace(text) != "" {
		// Another tool's WKT column: in the pixels unless the request says WGS 84.
		g, why = wktGeometry(text)
		if why == "" && crs == "wgs84" {
			lonlat = true
			g, why = fromLonLat(t.Place, g)
		}
	} else {
		why = "it has no geometry (its WKT cell is empty)"
	}
	if why != "" {
		return refusal(id, place, "%s", why)
	}
	label := table.get(row, "label_path")
	if label == "" {
		label = table.get(row, "label")
	}
	if label == "" {
		label = noLabel
	}
	props := properties{Confidence: table.get(row, "confidence"), Identification: table.get(row, "identification"), Note: table.get(row, "note")}
	if text := strings.TrimSpace(table.get(row, "attributes")); text != "" && text != "{}" {
		if err := json.Unmarshal([]byte(text), &props.Attributes); err != nil {
			return refusal(id, place, "its attributes are not a JSON object: %v", err)
		}
	}
	shape := shapeOf(table.get(row, "shape"), g.Type)
	if lonlat {
		shape, g = throughTheGround(shape, g)
	}
	return featureOf(id, place, label, shape, g, props.asMap())
}

// wktGeometry reads a WKT POINT, LINESTRING or POLYGON (a MULTIPOLYGON of one polygon too,
// as an antimeridian-cut export never has on one image) as a stored geometry.
func wktGeometry(text string) (annotations.Geometry, string) {
	g, err := wkt.Unmarshal(text)
	if err != nil {
		return annotations.Geometry{}, fmt.Sprintf("its geometry is not WKT: %v", err)
	}
	ring := func(r []orb.Point) []annotations.Position {
		out := make([]annotations.Position, len(r))
		for i, p := range r {
			out[i] = annotations.Position(p)
		}
		return out
	}
	polygon := func(p orb.Polygon) annotations.Geometry {
		rings := make([][]annotations.Position, len(p))
		for i, r := range p {
			rings[i] = closeRing(ring(r))
		}
		return annotations.PolygonGeometry(rings...)
	}
	switch v := g.(type) {
	case orb.Point:
		return annotations.PointGeometry(annotations.Position(v)), ""
	case orb.LineString:
		return annotations.LineGeometry(ring(v)), ""
	case orb.Polygon:
		return polygon(v), ""
	case orb.MultiPolygon:
		if len(v) == 1 {
			return polygon(v[0]), ""
		}
	}
	return annotations.Geometry{}, fmt.Sprintf("its geometry is a %s: satmark reads a POINT, LINESTRING or POLYGON", strings.ToUpper(g.GeoJSONType()))
}

// Spreadsheets run a cell that begins with = + - @ (or a tab or carriage return before
// one) as a formula (CSV injection, OWASP). The CSV export guards the cells of free text
// with a leading apostrophe, as OWASP advises, and the reader takes it off again.

func formulaLike(s string) bool {
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// escapeCell guards a free-text cell against being run as a formula.
func escapeCell(s string) string {
	if formulaLike(s) || (strings.HasPrefix(s, "'") && formulaLike(s[1:])) {
		return "'" + s
	}
	return s
}

// unescapeCell takes off the guard escapeCell adds.
func unescapeCell(s string) string {
	if strings.HasPrefix(s, "'") && (formulaLike(s[1:]) || (strings.HasPrefix(s[1:], "'") && formulaLike(s[2:]))) {
		return s[1:]
	}
	return s
}

package formats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// Reading annotation files into imports: each format's reader walks its file (streaming
// where the format allows) and emits one annotations.ImportFeature per feature, which
// the store then checks as it checks a drawing.

// ImportFormats are the formats a file can be imported from, by the name a request gives.
var ImportFormats = []string{"geojson", "qupath", "kml", "coco", "yolo", "yolo-obb", "dota", "cvat", "voc", "csv", "shapefile", "gpkg"}

// ImportSource is an uploaded annotation file, or the files of an uploaded zip, in a
// folder of their own.
type ImportSource struct {
	Dir   string   // the folder
	Files []string // the files in it, slash-separated names, sorted
	// CRS is what the request says the coordinates are: "" (the file says, else pixels),
	// "pixel" or "wgs84".
	CRS string
	// Progress, when set, hears how far through its main file a reader is, in bytes.
	Progress func(read, total int64)
}

// ImportTarget is the image imported onto.
type ImportTarget struct {
	Image  annotations.Image
	Place  Placement           // how its pixels reach the ground, for lon/lat files
	Labels []annotations.Label // the taxonomy, for formats that spell labels their own way
}

// Reader reads src's features onto t, calling emit for each in the file's order.
type Reader func(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error

// FileError is a file that cannot be read at all (not JSON, no file of the format in a
// zip); nothing of it is imported.
type FileError struct {
	Message string
}

func (e *FileError) Error() string { return e.Message }

func fileErrorf(format string, args ...any) error {
	return &FileError{Message: fmt.Sprintf(format, args...)}
}

// ErrNotGeoreferenced is a file in longitude and latitude imported onto an image that is
// not placed on the earth.
var ErrNotGeoreferenced = errors.New("the file is in longitude and latitude, but this image is not georeferenced: " +
	"georeference it first, or import a file in its pixels (crs=pixel)")

// UnknownFormatError is a format no reader knows.
type UnknownFormatError struct {
	Format string
}

func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("%q is not a format satmark imports: use one of %s", e.Format, strings.Join(ImportFormats, ", "))
}

// ImportReader returns the reader of a format, or an *UnknownFormatError.
func ImportReader(format string) (Reader, error) {
	switch strings.ToLower(format) {
	case "geojson":
		return ReadGeoJSON, nil
	case "qupath":
		return func(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
			if src.CRS == "" {
				src.CRS = "pixel"
			}
			return ReadGeoJSON(src, t, emit)
		}, nil
	case "kml":
		return ReadKML, nil
	case "coco":
		return ReadCOCO, nil
	case "yolo":
		return yoloReader(false), nil
	case "yolo-obb":
		return yoloReader(true), nil
	case "dota":
		return ReadDOTA, nil
	case "cvat":
		return ReadCVAT, nil
	case "voc":
		return ReadVOC, nil
	case "csv":
		return ReadCSV, nil
	case "shapefile", "gpkg":
		return converted(converters[strings.ToLower(format)]), nil
	}
	return nil, &UnknownFormatError{Format: format}
}

// pick returns the one file of src whose name ends in one of exts (any case), preferring
// one named want (a path, or a base name) when several do.
func (src ImportSource) pick(what string, want []string, exts ...string) (string, error) {
	var found []string
	for _, f := range src.Files {
		lower := strings.ToLower(f)
		for _, e := range exts {
			if strings.HasSuffix(lower, e) {
				found = append(found, f)
				break
			}
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	for _, w := range want {
		for _, f := range found {
			if strings.EqualFold(f, w) || strings.EqualFold(path.Base(f), w) {
				return f, nil
			}
		}
	}
	if len(found) == 0 {
		return "", fileErrorf("no %s in the upload (a file ending in %s)", what, strings.Join(exts, " or "))
	}
	sort.Strings(found)
	return "", fileErrorf("the upload holds %d files that could be the %s (%s): send one, or name it after the image", len(found), what, strings.Join(found, ", "))
}

// open opens one of src's files, counting what is read of it when src.Progress is set.
func (src ImportSource) open(name string) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(src.Dir, filepath.FromSlash(name)))
	if err != nil {
		return nil, err
	}
	if src.Progress == nil {
		return f, nil
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &countingReader{f: f, total: st.Size(), report: src.Progress}, nil
}

type countingReader struct {
	f      *os.File
	n      int64
	total  int64
	report func(read, total int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	c.n += int64(n)
	c.report(c.n, c.total)
	return n, err
}

func (c *countingReader) Close() error { return c.f.Close() }

// datasetName is the file name satmark's dataset exports give the image: what their
// label files and image entries are named after.
func datasetName(img annotations.Image) DatasetImage {
	return DatasetImages([]annotations.Image{img})[0]
}

// featureOf makes an import feature of a shape, a geometry, a label reference and
// properties (confidence, identification, note and attributes, as the API takes them).
func featureOf(id, place, label string, shape annotations.Shape, g annotations.Geometry, props map[string]any) annotations.ImportFeature {
	gb, err := g.MarshalJSON()
	if err != nil {
		return annotations.ImportFeature{ID: id, Place: place, Refusal: err.Error()}
	}
	pb, err := json.Marshal(props)
	if err != nil {
		return annotations.ImportFeature{ID: id, Place: place, Refusal: "its properties cannot be read: " + err.Error()}
	}
	return annotations.ImportFeature{ID: id, Place: place, Input: annotations.AnnotationInput{
		Label: &label, Shape: &shape, Geometry: gb, Properties: pb}}
}

// refusal is a feature the reader cannot make an annotation of.
func refusal(id, place, format string, args ...any) annotations.ImportFeature {
	return annotations.ImportFeature{ID: id, Place: place, Refusal: fmt.Sprintf(format, args...)}
}

// noLabel is the label reference of a feature that names none: MissingLabels shows it
// under this name, and a label map can map it.
const noLabel = "(no label)"

// closeRing returns ps as a closed ring.
func closeRing(ps []annotations.Position) []annotations.Position {
	if n := len(ps); n > 0 && ps[0] != ps[n-1] {
		ps = append(ps, ps[0])
	}
	return ps
}

// unkeyhole splits an outline written by keyhole (the exterior, then each hole reached by
// a cut from the exterior's first vertex and left by it) back into rings, closed. An
// outline without that pattern is one ring.
func unkeyhole(ps []annotations.Position) [][]annotations.Position {
	if len(ps) == 0 {
		return nil
	}
	e0 := ps[0]
	i := 1
	for i < len(ps) && ps[i] != e0 {
		i++
	}
	rings := [][]annotations.Position{closeRing(append([]annotations.Position(nil), ps[:i]...))}
	for i < len(ps) {
		// ps[i] is the cut's start, the exterior's first vertex; the hole runs from
		// ps[i+1] round to itself again.
		if ps[i] != e0 || i+1 >= len(ps) {
			return [][]annotations.Position{closeRing(append([]annotations.Position(nil), ps...))}
		}
		h0 := ps[i+1]
		j := i + 2
		for j < len(ps) && ps[j] != h0 {
			j++
		}
		if j >= len(ps) || j-(i+1) < 3 {
			return [][]annotations.Position{closeRing(append([]annotations.Position(nil), ps...))}
		}
		rings = append(rings, append(append([]annotations.Position(nil), ps[i+1:j]...), h0))
		i = j + 1
	}
	return rings
}

// boxRing is the ring of an oriented box as satmark stores a rotated rectangle: from the
// back-left corner along the axis to the front, then across: the side drawn first runs
// along the heading, so Placement.Measure gives the box's heading back.
func boxRing(b orientedBox) []annotations.Position {
	c := b.corners() // front-left, front-right, back-right, back-left
	return []annotations.Position{c[3], c[0], c[1], c[2], c[3]}
}

// boxFromCorners is the oriented box of four corners in DOTA's order (front-left,
// front-right, back-right, back-left), its axis from the back to the front.
func boxFromCorners(c [4][2]float64) orientedBox {
	mid := func(p, q [2]float64) [2]float64 { return [2]float64{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2} }
	front, back := mid(c[0], c[1]), mid(c[3], c[2])
	axis := [2]float64{front[0] - back[0], front[1] - back[1]}
	return orientedBox{
		Center:   [2]float64{(c[0][0] + c[1][0] + c[2][0] + c[3][0]) / 4, (c[0][1] + c[1][1] + c[2][1] + c[3][1]) / 4},
		Length:   math.Hypot(axis[0], axis[1]),
		Width:    math.Hypot(c[1][0]-c[0][0], c[1][1]-c[0][1]),
		AngleDeg: degrees(axis),
	}
}

// cornersShape makes a rectangle or rotated rectangle of four corners in DOTA's order:
// a rectangle when they are the image-aligned box with its axis pointing up the image
// (how satmark writes a rectangle), else a rotated rectangle with the corners' heading.
func cornersShape(c [4][2]float64) (annotations.Shape, annotations.Geometry) {
	up := c[0][1] == c[1][1] && c[2][1] == c[3][1] && c[0][0] == c[3][0] && c[1][0] == c[2][0] && c[0][1] < c[3][1] && c[0][0] < c[1][0]
	if up {
		ring := []annotations.Position{c[0], c[1], c[2], c[3], c[0]}
		return annotations.ShapeRectangle, annotations.PolygonGeometry(ring)
	}
	return annotations.ShapeRotatedRectangle, annotations.PolygonGeometry(boxRing(boxFromCorners(c)))
}

// squared makes a box that came through the ground (rounded lon/lat, a transform) a box
// again: a rectangle's corners snapped to their extent when they are within a hundredth
// of a pixel of it, a rotated rectangle's sides set at right angles to its first side.
// Other shapes, and boxes too far from the rule, are left for the store to judge.
func squared(shape annotations.Shape, g annotations.Geometry) annotations.Geometry {
	if len(g.Coordinates) != 1 || len(g.Coordinates[0]) != 5 {
		return g
	}
	r := g.Coordinates[0]
	switch shape {
	case annotations.ShapeRectangle:
		x0, y0, x1, y1 := extent(r)
		out := make([]annotations.Position, 5)
		for i, p := range r {
			q := annotations.Position{x0, y0}
			if math.Abs(p[0]-x1) < math.Abs(p[0]-x0) {
				q[0] = x1
			}
			if math.Abs(p[1]-y1) < math.Abs(p[1]-y0) {
				q[1] = y1
			}
			if math.Abs(q[0]-p[0]) > 0.01 || math.Abs(q[1]-p[1]) > 0.01 {
				return g
			}
			out[i] = q
		}
		return annotations.PolygonGeometry(out)
	case annotations.ShapeRotatedRectangle:
		u := [2]float64{r[1][0] - r[0][0], r[1][1] - r[0][1]}
		n := math.Hypot(u[0], u[1])
		if n == 0 {
			return g
		}
		// The width: how far the third corner lies across the first side.
		perp := [2]float64{-u[1] / n, u[0] / n}
		w := (r[2][0]-r[1][0])*perp[0] + (r[2][1]-r[1][1])*perp[1]
		p2 := annotations.Position{r[1][0] + perp[0]*w, r[1][1] + perp[1]*w}
		p3 := annotations.Position{r[0][0] + perp[0]*w, r[0][1] + perp[1]*w}
		return annotations.PolygonGeometry([]annotations.Position{r[0], r[1], p2, p3, r[0]})
	}
	return g
}

// throughTheGround is a shape and geometry that came through the ground made fit for the
// store: boxes squared, and a box whose edges the lon/lat export densified (a transform
// that bends straight lines) taken as the polygon it now is.
func throughTheGround(shape annotations.Shape, g annotations.Geometry) (annotations.Shape, annotations.Geometry) {
	if (shape == annotations.ShapeRectangle || shape == annotations.ShapeRotatedRectangle) &&
		(len(g.Coordinates) != 1 || len(g.Coordinates[0]) != 5) {
		return annotations.ShapePolygon, g
	}
	return shape, squared(shape, g)
}

// properties are satmark's own properties of an imported feature: confidence,
// identification and note where the file has them, and its free attributes.
type properties struct {
	Confidence, Identification, Note string
	Attributes                       map[string]json.RawMessage
}

func (p properties) asMap() map[string]any {
	m := make(map[string]any, len(p.Attributes)+3)
	for k, v := range p.Attributes {
		m[k] = v
	}
	if p.Confidence != "" {
		m["confidence"] = p.Confidence
	}
	if p.Identification != "" {
		m["identification"] = p.Identification
	}
	if p.Note != "" {
		m["note"] = p.Note
	}
	return m
}

// asJSON is asMap with every value as JSON.
func (p properties) asJSON() map[string]json.RawMessage {
	m := make(map[string]json.RawMessage, len(p.Attributes)+3)
	for k, v := range p.Attributes {
		m[k] = v
	}
	for k, v := range map[string]string{"confidence": p.Confidence, "identification": p.Identification, "note": p.Note} {
		if v != "" {
			m[k], _ = json.Marshal(v)
		}
	}
	return m
}

// attribute sets a free attribute read from a format that stores them as text, with
// satmark's "property:" prefix (see attributeName) taken off: text that is JSON (a
// number, true, an object) becomes that value, anything else a string.
func (p *properties) attribute(name, text string) {
	if p.Attributes == nil {
		p.Attributes = map[string]json.RawMessage{}
	}
	name = strings.TrimPrefix(name, "property:")
	t := strings.TrimSpace(text)
	if t != "" && t != `""` && json.Valid([]byte(t)) && !strings.HasPrefix(t, `"`) {
		p.Attributes[name] = json.RawMessage(t)
		return
	}
	b, _ := json.Marshal(text)
	p.Attributes[name] = b
}

// converter turns src into files another reader reads, in dir, by running another
// program (GDAL's), and returns that reader. Import runs it before the store's
// transaction opens: the transaction holds the database's write lock, which every other
// write waits for, and the program may take as long as the file is large.
type converter func(src ImportSource, t ImportTarget, dir string) (Reader, error)

// converters are the formats read through a converter.
var converters = map[string]converter{
	"shapefile": ogrConverter("ESRI Shapefile", ".shp"),
	"gpkg":      ogrConverter("GPKG", ".gpkg"),
}

// converted is the reader that converts src in a temporary folder, then reads it.
func converted(c converter) Reader {
	return func(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
		dir, err := os.MkdirTemp("", "satmark-import-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		read, err := c(src, t, dir)
		if err != nil {
			return err
		}
		return read(src, t, emit)
	}
}

// Import reads src in format onto t's image through store: read by the format's reader
// (converted first, before the store's transaction, when the format needs another
// program) and checked and stored by annotations.Store.ImportAnnotations with opts (whose
// Format it fills in).
func Import(ctx context.Context, store *annotations.Store, by annotations.Actor, t ImportTarget, src ImportSource, format string,
	opts annotations.ImportOptions) (annotations.ImportReport, error) {
	read, err := ImportReader(format)
	if err != nil {
		return annotations.ImportReport{}, err
	}
	opts.Format = strings.ToLower(format)
	if convert := converters[opts.Format]; convert != nil {
		dir, err := os.MkdirTemp("", "satmark-import-")
		if err != nil {
			return annotations.ImportReport{}, err
		}
		defer os.RemoveAll(dir)
		if read, err = convert(src, t, dir); err != nil {
			return annotations.ImportReport{}, err
		}
	}
	return store.ImportAnnotations(ctx, by, t.Image.ID, func(emit func(annotations.ImportFeature) error) error {
		return read(src, t, emit)
	}, opts)
}

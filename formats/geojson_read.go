package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// Reading GeoJSON: satmark's own pixel-space and lon/lat exports, QuPath's pixel-space
// files, and RFC 7946 files from anywhere, one feature at a time.

// geojsonHead is what a FeatureCollection says of itself before its features.
type geojsonHead struct {
	satmark bool     // one of satmark's exports
	pixels  bool     // satmark's coordinate_space: image pixels
	lonlat  bool     // satmark's georeferencing member, or a crs naming WGS 84 lon/lat
	images  []string // the SHA-256 of each image a satmark export covers
	crsName string   // a legacy crs member's name
}

type geojsonFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Geometry   json.RawMessage `json:"geometry"`
	Properties json.RawMessage `json:"properties"`
}

// ReadGeoJSON reads a GeoJSON file: a FeatureCollection, one Feature, or a bare array of
// features (as QuPath writes without FEATURE_COLLECTION). Which coordinates it holds:
// src.CRS when given; else pixels for satmark's pixel export (coordinate_space) and for
// any file that does not say; longitude/latitude for satmark's lon/lat export
// (georeferencing) and a file whose crs names WGS 84 (as ogr2ogr writes). Lon/lat
// positions reach the image through the inverse of its georeference, except that a
// satmark lon/lat export of this very image (by SHA-256) gives its exact pixel_geometry.
// Of a satmark export of several images, only this image's features are read.
func ReadGeoJSON(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
	name, err := src.pick("GeoJSON file", nil, ".geojson", ".json")
	if err != nil {
		return err
	}
	f, err := src.open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return readGeoJSON(f, src.CRS, t, emit)
}

func readGeoJSON(r io.Reader, crs string, t ImportTarget, emit func(annotations.ImportFeature) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	tok, err := dec.Token()
	if err != nil {
		return notJSON(err)
	}
	var rd *geojsonReader
	start := func(head geojsonHead) error {
		var err error
		rd, err = newGeoJSONReader(head, crs, t, emit)
		return err
	}
	switch tok {
	case json.Delim('['):
		if err := start(geojsonHead{}); err != nil {
			return err
		}
		return rd.features(dec)
	case json.Delim('{'):
	default:
		return fileErrorf("the file is not GeoJSON: it holds %v, not an object or an array of features", tok)
	}
	var head geojsonHead
	var kind string
	var lone geojsonFeature
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return notJSON(err)
		}
		switch key {
		case "type":
			if err := dec.Decode(&kind); err != nil {
				return fileErrorf("the file's type is not a string")
			}
		case "coordinate_space":
			var cs struct {
				Type   string     `json:"type"`
				Image  *imageRef  `json:"image"`
				Images []imageRef `json:"images"`
			}
			if err := dec.Decode(&cs); err != nil {
				return notJSON(err)
			}
			head.pixels = cs.Type == "image-pixels"
			head.satmark = true
			if cs.Image != nil {
				cs.Images = append(cs.Images, *cs.Image)
			}
			for _, im := range cs.Images {
				head.images = append(head.images, im.SHA256)
			}
		case "georeferencing":
			var g struct {
				Images []imageRef `json:"images"`
			}
			if err := dec.Decode(&g); err != nil {
				return notJSON(err)
			}
			head.lonlat, head.satmark = true, true
			for _, im := range g.Images {
				head.images = append(head.images, im.SHA256)
			}
		case "crs":
			var c struct {
				Properties struct {
					Name string `json:"name"`
				} `json:"properties"`
			}
			if err := dec.Decode(&c); err != nil {
				return notJSON(err)
			}
			head.crsName = c.Properties.Name
			head.lonlat = head.lonlat || isWGS84Name(c.Properties.Name)
		case "features":
			if err := start(head); err != nil {
				return err
			}
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				return fileErrorf("the file's features are not an array")
			}
			if err := rd.features(dec); err != nil {
				return err
			}
		case "geometry":
			if err := dec.Decode(&lone.Geometry); err != nil {
				return notJSON(err)
			}
		case "properties":
			if err := dec.Decode(&lone.Properties); err != nil {
				return fileErrorf("the feature's properties are not an object")
			}
		case "id":
			if err := dec.Decode(&lone.ID); err != nil {
				return notJSON(err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return notJSON(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return notJSON(err)
	}
	switch kind {
	case "FeatureCollection":
		if rd == nil {
			return fileErrorf("the FeatureCollection has no features member")
		}
		return nil
	case "Feature":
		if err := start(head); err != nil {
			return err
		}
		lone.Type = kind
		return rd.feature(lone)
	case "":
		return fileErrorf("the file is not GeoJSON: its object has no type")
	}
	return fileErrorf("the file is a GeoJSON %s, not a Feature or FeatureCollection: there is nothing to label", kind)
}

func notJSON(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fileErrorf("the file is not valid JSON (at byte %d: %v)", se.Offset, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fileErrorf("the file ends before its JSON does")
	}
	var fe *FileError
	if errors.As(err, &fe) {
		return err
	}
	return fileErrorf("the file cannot be read as GeoJSON: %v", err)
}

// isWGS84Name reports whether a crs member names WGS 84 longitude/latitude.
func isWGS84Name(name string) bool {
	n := strings.ToUpper(name)
	return strings.Contains(n, "CRS84") || strings.HasSuffix(n, ":4326") || strings.HasSuffix(n, "::4326")
}

type geojsonReader struct {
	t       ImportTarget
	satmark bool // satmark's own export: features read straight into satmarkFeatureIn
	lonlat  bool // the coordinates are lon/lat
	same    bool // a satmark export of this very image: pixel_geometry is exact
	many    bool // a satmark export of several images: keep this image's features
	emit    func(annotations.ImportFeature) error
	index   int
}

func newGeoJSONReader(head geojsonHead, crs string, t ImportTarget, emit func(annotations.ImportFeature) error) (*geojsonReader, error) {
	rd := &geojsonReader{t: t, emit: emit, satmark: head.satmark}
	switch strings.ToLower(crs) {
	case "pixel":
	case "wgs84":
		rd.lonlat = true
	case "":
		rd.lonlat = head.lonlat && !head.pixels
	default:
		return nil, fileErrorf("crs=%q: use pixel or wgs84", crs)
	}
	for _, sha := range head.images {
		if sha == t.Image.SHA256 {
			rd.same = true
		}
	}
	if len(head.images) > 1 {
		if !rd.same {
			return nil, fileErrorf("the file holds annotations of %d images, none of which is this one (by its SHA-256)", len(head.images))
		}
		rd.many = true
	}
	if rd.lonlat && !rd.same && !t.Place.Georeferenced() {
		return nil, ErrNotGeoreferenced
	}
	return rd, nil
}

// satmarkFeatureIn is a feature of satmark's own export, decoded in one pass.
type satmarkFeatureIn struct {
	Type       string            `json:"type"`
	ID         json.RawMessage   `json:"id"`
	Geometry   json.RawMessage   `json:"geometry"`
	Properties satmarkProperties `json:"properties"`
}

func (rd *geojsonReader) features(dec *json.Decoder) error {
	for dec.More() {
		if rd.satmark {
			var f satmarkFeatureIn
			err := dec.Decode(&f)
			var ute *json.UnmarshalTypeError
			switch {
			case err == nil && f.Type != "Feature":
				err = rd.emitFeature(refusal(featureID(f.ID), "", "a %q where a Feature should be", f.Type))
			case err == nil:
				err = rd.satmarkFeature(featureID(f.ID), f.Geometry, f.Properties)
			case errors.As(err, &ute):
				err = rd.emitFeature(refusal(featureID(f.ID), "", "%s is a %s, not what satmark writes there", fieldName(ute), ute.Value))
			default:
				return notJSON(err)
			}
			if err != nil {
				return err
			}
			continue
		}
		var f geojsonFeature
		if err := dec.Decode(&f); err != nil {
			var ute *json.UnmarshalTypeError
			if !errors.As(err, &ute) {
				return notJSON(err)
			}
			// The value was read past: say what is wrong with this one, go on.
			if err := rd.emitFeature(refusal("", "", "%s is a %s, not what GeoJSON has there", fieldName(ute), ute.Value)); err != nil {
				return err
			}
			continue
		}
		if err := rd.feature(f); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return notJSON(err)
	}
	return nil
}

func fieldName(ute *json.UnmarshalTypeError) string {
	if ute.Field == "" {
		return "the feature"
	}
	return "its " + ute.Field
}

func (rd *geojsonReader) emitFeature(f annotations.ImportFeature) error {
	rd.index++
	return rd.emit(f)
}

// satmarkProperties are what an import takes of the properties satmark's exports write;
// the rest (measures, metadata, provenance) the decoder passes over.
type satmarkProperties struct {
	LabelPath      labelPath                            `json:"label_path"`
	Shape          string                               `json:"shape"`
	Confidence     string                               `json:"confidence"`
	Identification string                               `json:"identification"`
	Note           string                               `json:"note"`
	Attributes     inString[map[string]json.RawMessage] `json:"attributes"`
	Image          inString[*imageRef]                  `json:"image"`
	PixelGeometry  inString[json.RawMessage]            `json:"pixel_geometry"`
}

// inString is a structured property, or the same as JSON in a string: what a format
// without nested values (a Shapefile, GDAL's reading of one) makes of it.
type inString[T any] struct{ V T }

func (s *inString[T]) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var text string
		if err := json.Unmarshal(b, &text); err != nil {
			return err
		}
		json.Unmarshal([]byte(text), &s.V) // text that is no JSON leaves the zero value
		return nil
	}
	return json.Unmarshal(b, &s.V)
}

// labelPath is satmark's label_path: an array of names, or as GDAL writes a string list
// into a format without lists, "(2:vessel,landing ship)", or JSON in a string.
type labelPath []string

func (l *labelPath) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '"' {
		return json.Unmarshal(b, (*[]string)(l))
	}
	var text string
	if err := json.Unmarshal(b, &text); err != nil {
		return err
	}
	if json.Unmarshal([]byte(text), (*[]string)(l)) == nil {
		return nil
	}
	if m := gdalStringList.FindStringSubmatch(text); m != nil {
		*l = strings.Split(m[2], ",")
		if n, _ := strconv.Atoi(m[1]); n != len(*l) {
			*l = nil // a name with a comma in it: the list cannot be told apart
		}
	}
	return nil
}

var gdalStringList = regexp.MustCompile(`^\((\d+):(.*)\)$`)

// feature turns one GeoJSON feature into an import feature.
func (rd *geojsonReader) feature(f geojsonFeature) error {
	id := featureID(f.ID)
	if f.Type != "Feature" {
		return rd.emitFeature(refusal(id, "", "a %q where a Feature should be", f.Type))
	}
	// satmark's own exports, most of what is imported at scale, are read straight into
	// their fields; anything else property by property.
	var sp satmarkProperties
	if bytes.Contains(f.Properties, []byte(`"label_path":[`)) && json.Unmarshal(f.Properties, &sp) == nil && len(sp.LabelPath) > 0 {
		return rd.satmarkFeature(id, f.Geometry, sp)
	}
	var p map[string]json.RawMessage
	if s := bytes.TrimSpace(f.Properties); len(s) > 0 && string(s) != "null" {
		if err := json.Unmarshal(s, &p); err != nil {
			return rd.emitFeature(refusal(id, "", "its properties are not a JSON object"))
		}
	}
	unwrapJSON(p)
	same := rd.same
	var ref imageRef
	if json.Unmarshal(p["image"], &ref) == nil && ref.SHA256 != "" {
		same = ref.SHA256 == rd.t.Image.SHA256
		if rd.many && !same {
			return nil // another image's
		}
	}
	raw := f.Geometry
	pg, hasPixels := p["pixel_geometry"]
	if hasPixels && (same || !rd.lonlat) {
		raw = pg
	}
	lonlat := rd.lonlat && !(hasPixels && same)
	typ, single, why := geometryOf(raw)
	if why != "" {
		return rd.emitFeature(refusal(id, "", "%s", why))
	}
	label, shape, props := readProperties(p, typ)
	return rd.emitFeature(rd.made(id, label, shape, typ, single, lonlat, props))
}

// satmarkFeature is a feature of satmark's own export.
func (rd *geojsonReader) satmarkFeature(id string, geometry json.RawMessage, sp satmarkProperties) error {
	same := rd.same
	if im := sp.Image.V; im != nil && im.SHA256 != "" {
		same = im.SHA256 == rd.t.Image.SHA256
		if rd.many && !same {
			return nil
		}
	}
	raw, lonlat := geometry, rd.lonlat
	if len(sp.PixelGeometry.V) > 0 && (same || !rd.lonlat) {
		raw, lonlat = sp.PixelGeometry.V, false
	}
	typ, single, why := geometryOf(raw)
	if why != "" {
		return rd.emitFeature(refusal(id, "", "%s", why))
	}
	props := properties{Confidence: sp.Confidence, Identification: sp.Identification, Note: sp.Note, Attributes: sp.Attributes.V}
	label := noLabel
	if len(sp.LabelPath) > 0 {
		label = "/" + strings.Join(sp.LabelPath, "/")
	}
	return rd.emitFeature(rd.made(id, label, shapeOf(sp.Shape, typ), typ, single, lonlat, props))
}

// made is the import feature of a geometry of type typ (its JSON, single), in pixels or,
// when lonlat, in longitude and latitude taken through the ground.
func (rd *geojsonReader) made(id, label string, shape annotations.Shape, typ string, single json.RawMessage, lonlat bool, props properties) annotations.ImportFeature {
	if !lonlat {
		// The store reads and checks the geometry as it reads a drawing's, and takes the
		// properties as they were decoded.
		return annotations.ImportFeature{ID: id, Input: annotations.AnnotationInput{Label: &label, Shape: &shape, Geometry: single},
			Properties: props.asJSON()}
	}
	var g annotations.Geometry
	if err := g.UnmarshalJSON(single); err != nil {
		var ve *annotations.ValidationError
		if errors.As(err, &ve) {
			return refusal(id, "", "%s", ve.Message)
		}
		return refusal(id, "", "%v", err)
	}
	g, why := fromLonLat(rd.t.Place, g)
	if why != "" {
		return refusal(id, "", "%s", why)
	}
	shape, g = throughTheGround(shape, g)
	return featureOf(id, "", label, shape, g, props.asMap())
}

// unwrapJSON takes satmark's structured properties back out of the strings a format
// without nested values (a Shapefile, a CSV through GDAL) holds them in.
func unwrapJSON(p map[string]json.RawMessage) {
	for _, k := range []string{"attributes", "metadata", "classification", "image", "pixel_geometry", "label_path"} {
		var s string
		if json.Unmarshal(p[k], &s) != nil {
			continue
		}
		if t := strings.TrimSpace(s); (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
			p[k] = json.RawMessage(t)
		}
	}
}

func featureID(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// geometryOf reads a GeoJSON geometry as satmark holds one: a Point, LineString or
// Polygon, or a Multi- of exactly one of them. It returns the geometry's type and JSON,
// or why not.
func geometryOf(raw json.RawMessage) (string, json.RawMessage, string) {
	var head struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil, "it has no geometry"
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", nil, "its geometry is not a GeoJSON geometry"
	}
	switch head.Type {
	case "Point", "LineString", "Polygon":
		return head.Type, raw, ""
	case "MultiPoint", "MultiLineString", "MultiPolygon":
		var parts []json.RawMessage
		if err := json.Unmarshal(head.Coordinates, &parts); err != nil {
			return "", nil, fmt.Sprintf("its %s's coordinates are not an array", head.Type)
		}
		if len(parts) != 1 {
			return "", nil, fmt.Sprintf("it is a %s of %d parts: a satmark annotation is one shape (split it into one feature per part)", head.Type, len(parts))
		}
		one := strings.TrimPrefix(head.Type, "Multi")
		raw, _ = json.Marshal(map[string]any{"type": one, "coordinates": parts[0]})
		return one, raw, ""
	case "GeometryCollection":
		return "", nil, "it is a GeometryCollection: a satmark annotation is one shape"
	case "":
		return "", nil, "its geometry has no type"
	}
	return "", nil, fmt.Sprintf("its geometry is a %q, which GeoJSON does not have", head.Type)
}

// fromLonLat takes a geometry in longitude and latitude to the image's pixels through
// the inverse of its georeference.
func fromLonLat(p Placement, g annotations.Geometry) (annotations.Geometry, string) {
	if !p.Georeferenced() {
		return g, ErrNotGeoreferenced.Error()
	}
	out := annotations.Geometry{Type: g.Type, Coordinates: make([][]annotations.Position, len(g.Coordinates))}
	for i, ring := range g.Coordinates {
		out.Coordinates[i] = make([]annotations.Position, len(ring))
		for j, pos := range ring {
			x, y, err := p.Transformer.Inverse(pos[0], pos[1])
			if err != nil {
				return g, fmt.Sprintf("longitude/latitude [%g, %g] does not reach this image through its georeference: %v", pos[0], pos[1], err)
			}
			out.Coordinates[i][j] = annotations.Position{x, y}
		}
	}
	return out, ""
}

// readProperties finds a feature's label, shape and properties: satmark's own
// (label_path, shape, confidence, identification, note, attributes); else QuPath's
// (classification, its metadata as satmark wrote it, its name as the identification);
// else a label from a "label", "class", "category" or "name" property, and every other
// property as an attribute.
func readProperties(p map[string]json.RawMessage, typ string) (string, annotations.Shape, properties) {
	str := func(raw json.RawMessage) string {
		var s string
		json.Unmarshal(raw, &s)
		return s
	}
	var props properties
	var metadata map[string]string
	json.Unmarshal(p["metadata"], &metadata)
	shape := shapeOf(str(p["shape"]), typ)
	if _, ok := p["shape"]; !ok && metadata["shape"] != "" {
		shape = shapeOf(metadata["shape"], typ)
	}

	label := ""
	var path []string
	if json.Unmarshal(p["label_path"], &path) == nil && len(path) > 0 {
		label = "/" + strings.Join(path, "/")
	} else if cls := qupathClass(p["classification"]); cls != "" {
		label = cls
	} else if metadata["label"] != "" {
		label = metadata["label"]
	}
	_, satmark := p["label_path"]
	_, qupath := p["objectType"]
	if !qupath {
		_, qupath = p["classification"]
	}

	props.Confidence, props.Identification, props.Note = str(p["confidence"]), str(p["identification"]), str(p["note"])
	if len(p["attributes"]) > 0 {
		json.Unmarshal(p["attributes"], &props.Attributes)
	}
	switch {
	case satmark:
	case qupath:
		if props.Confidence == "" {
			props.Confidence = metadata["confidence"]
		}
		if props.Identification == "" {
			props.Identification = metadata["identification"]
		}
		if props.Note == "" {
			props.Note = metadata["note"]
		}
		if props.Attributes == nil && metadata["attributes"] != "" {
			json.Unmarshal([]byte(metadata["attributes"]), &props.Attributes)
		}
		if name := str(p["name"]); props.Identification == "" && name != "" && !strings.EqualFold(name, lastName(label)) {
			props.Identification = name
		}
	default:
		// Anyone's GeoJSON: a label from the first of these properties, the rest kept.
		used := ""
		for _, k := range []string{"label", "class", "category", "name"} {
			if s := str(p[k]); s != "" && label == "" {
				label, used = s, k
			}
		}
		for k, v := range p {
			if k == used || k == "confidence" || k == "identification" || k == "note" || k == "attributes" || k == "shape" {
				continue
			}
			if props.Attributes == nil {
				props.Attributes = map[string]json.RawMessage{}
			}
			if _, taken := props.Attributes[k]; !taken {
				props.Attributes[k] = v
			}
		}
	}
	if satmark || qupath {
		for k, v := range props.Attributes {
			if len(bytes.TrimSpace(v)) == 0 {
				delete(props.Attributes, k)
			}
		}
	}
	if label == "" {
		label = noLabel
	}
	return label, shape, props
}

// qupathClass is a QuPath classification as a label reference: its name, or the names
// of a derived class as a path. QuPath also writes a class as a plain string.
func qupathClass(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var c struct {
		Name  string   `json:"name"`
		Names []string `json:"names"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return ""
	}
	if c.Name != "" {
		return c.Name
	}
	return strings.Join(c.Names, "/")
}

func lastName(ref string) string {
	if i := strings.LastIndexAny(ref, "/›>"); i >= 0 {
		return strings.TrimSpace(ref[i+1:])
	}
	return ref
}

// shapeOf is the shape a feature says it has, else the one its geometry type is.
func shapeOf(said string, typ string) annotations.Shape {
	for _, s := range annotations.Shapes {
		if string(s) == said && s.GeometryType() == typ {
			return s
		}
	}
	switch typ {
	case "Point":
		return annotations.ShapePoint
	case "LineString":
		return annotations.ShapeLine
	}
	return annotations.ShapePolygon
}

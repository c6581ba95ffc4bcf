package formats

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/satmark/satmark/annotations"
)

// Writing the GeoJSON features by hand: a file of 100,000 spent most of its time in
// encoding/json's reflection, its sorting of map keys and a map per feature for QuPath's
// metadata. The bytes are encoding/json's own for the feature and lonLatFeature structs
// of geojson_encode_test.go (TestFeaturesAreEncodingJSONs checks).

// featureEncoder appends features to one buffer it reuses, with what belongs to an image
// (its reference and provenance) encoded once.
type featureEncoder struct {
	images     map[string]*encodedImage
	labels     map[string][]byte // classification by label id
	labelPaths map[string][]byte // the metadata's label (its path as a JSON string) by label id
	metadata   []metadataItem
	values     []byte // the metadata's values, encoded one after the other
	attrs      []byte
	evidence   []byte // the feature's evidence links (encoding/json's), or none
}

type encodedImage struct {
	img        annotations.Image
	ref, prov  []byte
	provenance []keyValue // provenanceData without the empty values, each encoded
}

// keyValue is a metadata entry: its key, and the entry encoded ("key":"value").
type keyValue struct {
	key     string
	encoded []byte
}

// metadataItem is a feature's own metadata entry: its key, which needs no escaping, and
// where its encoded value ends in featureEncoder.values (it starts where the one before
// ends).
type metadataItem struct {
	key string
	end int
}

func newFeatureEncoder(images []annotations.Image) (*featureEncoder, error) {
	e := &featureEncoder{images: make(map[string]*encodedImage, len(images)), labels: map[string][]byte{}, labelPaths: map[string][]byte{}}
	for _, img := range images {
		ref, err := json.Marshal(refOf(img))
		if err != nil {
			return nil, err
		}
		prov, err := json.Marshal(provenanceOf(img))
		if err != nil {
			return nil, err
		}
		ei := &encodedImage{img: img, ref: ref, prov: prov}
		for _, kv := range provenanceData(img) {
			if kv[1] != "" {
				enc := append(annotations.AppendJSONString(nil, kv[0]), ':')
				ei.provenance = append(ei.provenance, keyValue{kv[0], annotations.AppendJSONString(enc, kv[1])})
			}
		}
		slices.SortFunc(ei.provenance, func(x, y keyValue) int { return strings.Compare(x.key, y.key) })
		e.images[img.ID] = ei
	}
	return e, nil
}

func (e *featureEncoder) image(a annotations.Annotation) (*encodedImage, error) {
	ei, ok := e.images[a.ImageID]
	if !ok {
		return nil, fmt.Errorf("annotation %s belongs to image %s, which is not in the export", a.ID, a.ImageID)
	}
	return ei, nil
}

// appendPixelFeature appends a's feature in pixel space (pixelFeature).
func (e *featureEncoder) appendPixelFeature(b []byte, a annotations.Annotation) ([]byte, error) {
	ei, err := e.image(a)
	if err != nil {
		return nil, err
	}
	b = append(b, `{"type":"Feature","id":`...)
	b = annotations.AppendJSONString(b, a.ID)
	b = append(b, `,"geometry":`...)
	if b, err = a.Geometry.AppendJSON(b); err != nil {
		return nil, err
	}
	b = append(b, `,"properties":`...)
	if b, err = e.appendProperties(b, a, ei); err != nil {
		return nil, err
	}
	return append(b, "}}"...), nil
}

// appendLonLatFeature appends a's feature in lon/lat: geom and bbox are its projection.
func (e *featureEncoder) appendLonLatFeature(b []byte, a annotations.Annotation, geom lonLatGeometry, bbox []float64) ([]byte, error) {
	ei, err := e.image(a)
	if err != nil {
		return nil, err
	}
	b = append(b, `{"type":"Feature","id":`...)
	b = annotations.AppendJSONString(b, a.ID)
	if len(bbox) > 0 {
		b = append(b, `,"bbox":`...)
		if b, err = appendFloats(b, bbox); err != nil {
			return nil, err
		}
	}
	b = append(b, `,"geometry":`...)
	if b, err = appendLonLatGeometry(b, geom); err != nil {
		return nil, err
	}
	b = append(b, `,"properties":`...)
	if b, err = e.appendProperties(b, a, ei); err != nil {
		return nil, err
	}
	b = append(b, `,"pixel_geometry":`...)
	if b, err = a.Geometry.AppendJSON(b); err != nil {
		return nil, err
	}
	return append(b, "}}"...), nil
}

// appendProperties appends featureProperties without its closing brace.
func (e *featureEncoder) appendProperties(b []byte, a annotations.Annotation, ei *encodedImage) ([]byte, error) {
	var err error
	name := a.Identification
	if name == "" {
		name = a.Label.Name
	}
	// The attributes once: as a property, and as a string in the metadata.
	e.attrs, err = appendAttributes(e.attrs[:0], a.Attributes)
	if err != nil {
		return nil, err
	}
	// The evidence too (rare: encoding/json's own).
	e.evidence = nil
	if len(a.Evidence) > 0 {
		if e.evidence, err = json.Marshal(a.Evidence); err != nil {
			return nil, err
		}
	}
	review := reviewOf(a)
	b = append(b, `{"objectType":"annotation","name":`...)
	b = annotations.AppendJSONString(b, name)
	b = append(b, `,"classification":`...)
	b = append(b, e.classification(a.Label)...)
	b = append(b, `,"measurements":`...)
	if b, err = measurements(a).AppendJSON(b); err != nil {
		return nil, err
	}
	if a.Ground.Basis != "" {
		b = append(b, `,"measurement_basis":`...)
		b = annotations.AppendJSONString(b, a.Ground.Basis)
	}
	b = append(b, `,"metadata":`...)
	b = e.appendMetadata(b, a, ei, review)
	b = append(b, `,"label_path":`...)
	b = appendStrings(b, a.Label.Path)
	b = append(b, `,"shape":`...)
	b = annotations.AppendJSONString(b, string(a.Shape))
	b = append(b, `,"confidence":`...)
	b = annotations.AppendJSONString(b, string(a.Confidence))
	b = append(b, `,"identification":`...)
	b = annotations.AppendJSONString(b, a.Identification)
	b = append(b, `,"note":`...)
	b = annotations.AppendJSONString(b, a.Note)
	b = append(b, `,"attributes":`...)
	b = append(b, e.attrs...)
	b = append(b, `,"review_status":`...)
	b = annotations.AppendJSONString(b, a.ReviewStatus)
	if review != nil {
		b = append(b, `,"review":{"decision":`...)
		b = annotations.AppendJSONString(b, review.Decision)
		b = append(b, `,"by":`...)
		b = annotations.AppendJSONString(b, review.By)
		b = append(b, `,"at":`...)
		if b, err = appendTime(b, review.At); err != nil {
			return nil, err
		}
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(review.Version), 10)
		if review.Reason != "" {
			b = append(b, `,"reason":`...)
			b = annotations.AppendJSONString(b, review.Reason)
		}
		b = append(b, '}')
	}
	if t := a.Track; t != nil {
		b = append(b, `,"track":{"id":`...)
		b = annotations.AppendJSONString(b, t.ID)
		b = append(b, `,"name":`...)
		b = annotations.AppendJSONString(b, t.Name)
		b = append(b, `,"confidence":`...)
		b = annotations.AppendJSONString(b, string(t.Confidence))
		b = append(b, '}')
	}
	if e.evidence != nil {
		b = append(b, `,"evidence":`...)
		b = append(b, e.evidence...)
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(a.Version), 10)
	b = append(b, `,"created_by":`...)
	b = annotations.AppendJSONString(b, a.CreatedBy)
	b = append(b, `,"created_at":`...)
	if b, err = appendTime(b, a.CreatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"updated_by":`...)
	b = annotations.AppendJSONString(b, a.UpdatedBy)
	b = append(b, `,"updated_at":`...)
	if b, err = appendTime(b, a.UpdatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"image":`...)
	b = append(b, ei.ref...)
	b = append(b, `,"provenance":`...)
	return append(b, ei.prov...), nil
}

// classification appends classificationOf(l), encoded once per label.
func (e *featureEncoder) classification(l annotations.Label) []byte {
	if j, ok := e.labels[l.ID]; ok {
		return j
	}
	c := classificationOf(l)
	var b []byte
	b = append(b, '{')
	if c.Name != "" {
		b = append(b, `"name":`...)
		b = annotations.AppendJSONString(b, c.Name)
		b = append(b, ',')
	}
	if len(c.Names) > 0 {
		b = append(b, `"names":`...)
		b = appendStrings(b, c.Names)
		b = append(b, ',')
	}
	b = fmt.Appendf(b, `"color":[%d,%d,%d]}`, c.Color[0], c.Color[1], c.Color[2])
	e.labels[l.ID] = b
	return b
}

// appendMetadata appends metadataOf(a, img): the non-empty values by key, in key order.
func (e *featureEncoder) appendMetadata(b []byte, a annotations.Annotation, ei *encodedImage, review *reviewRef) []byte {
	md, v := e.metadata[:0], e.values[:0]
	add := func(k, s string) {
		if s != "" {
			v = annotations.AppendJSONString(v, s)
			md = append(md, metadataItem{k, len(v)})
		}
	}
	// A time as RFC 3339 text, which needs no escaping (never empty).
	addTime := func(k string, t time.Time) {
		v = append(t.UTC().AppendFormat(append(v, '"'), time.RFC3339Nano), '"')
		md = append(md, metadataItem{k, len(v)})
	}
	// The keys in order (QuPath's metadata is a map, which encoding/json writes by key),
	// to be merged with the image's, which newFeatureEncoder sorted.
	if len(a.Attributes) > 0 {
		add("attributes", string(e.attrs))
	}
	add("confidence", string(a.Confidence))
	addTime("created_at", a.CreatedAt)
	add("created_by", a.CreatedBy)
	if e.evidence != nil {
		add("evidence", string(e.evidence))
	}
	add("identification", a.Identification)
	if path := e.labelPath(a.Label); path != nil {
		v = append(v, path...)
		md = append(md, metadataItem{"label", len(v)})
	}
	add("measurement_basis", a.Ground.Basis)
	add("note", a.Note)
	if review != nil {
		addTime("review_at", review.At)
		add("review_by", review.By)
		add("review_reason", review.Reason)
	}
	add("review_status", a.ReviewStatus)
	add("shape", string(a.Shape))
	if t := a.Track; t != nil {
		add("track_confidence", string(t.Confidence))
		add("track_id", t.ID)
		add("track_name", t.Name)
	}
	addTime("updated_at", a.UpdatedAt)
	add("updated_by", a.UpdatedBy)
	v = append(strconv.AppendInt(append(v, '"'), int64(a.Version), 10), '"')
	md = append(md, metadataItem{"version", len(v)})
	e.metadata, e.values = md, v
	prov := ei.provenance
	b = append(b, '{')
	start := 0
	for i, j := 0, 0; i < len(md) || j < len(prov); {
		if i+j > 0 {
			b = append(b, ',')
		}
		if j == len(prov) || i < len(md) && md[i].key < prov[j].key {
			b = append(append(append(b, '"'), md[i].key...), '"', ':')
			b = append(b, v[start:md[i].end]...)
			start = md[i].end
			i++
		} else {
			b = append(b, prov[j].encoded...)
			j++
		}
	}
	return append(b, '}')
}

// labelPath is the metadata's label, its path joined by " › " as a JSON string, encoded
// once per label; nil for a label without a path.
func (e *featureEncoder) labelPath(l annotations.Label) []byte {
	if j, ok := e.labelPaths[l.ID]; ok {
		return j
	}
	var j []byte
	if path := strings.Join(l.Path, " › "); path != "" {
		j = annotations.AppendJSONString(nil, path)
	}
	e.labelPaths[l.ID] = j
	return j
}

// appendAttributes appends attrs as encoding/json writes a map of json.RawMessage (nil
// as {}, as pixelFeature makes it): by key, each value compacted and HTML-escaped.
func appendAttributes(b []byte, attrs map[string]json.RawMessage) ([]byte, error) {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = annotations.AppendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = annotations.AppendRawJSON(b, attrs[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendStrings appends a []string as encoding/json does: nil as null.
func appendStrings(b []byte, s []string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		b = annotations.AppendJSONString(b, v)
	}
	return append(b, ']')
}

// appendTime appends t as encoding/json writes a time.Time (Time.MarshalJSON does the same
// formatting), without allocating; a time MarshalJSON refuses (a year outside 0–9999, a
// zone of 24 hours or more) is its error.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	n := len(b)
	b = append(t.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
	if s := b[n+1 : len(b)-1]; len(s) > 4 && s[4] == '-' && (s[len(s)-1] == 'Z' || len(s) > 6 && (s[len(s)-6] == '+' || s[len(s)-6] == '-') &&
		(s[len(s)-5]-'0')*10+(s[len(s)-4]-'0') < 24) {
		return b, nil
	}
	j, err := t.MarshalJSON()
	return append(b[:n], j...), err
}

// appendFloats appends numbers as encoding/json does; one that is not finite is an error,
// as it is there.
func appendFloats(b []byte, v []float64) ([]byte, error) {
	b = append(b, '[')
	for i, f := range v {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("json: unsupported value: %v", f)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = annotations.AppendJSONFloat(b, f)
	}
	return append(b, ']'), nil
}

// appendLonLatGeometry appends g as encoding/json writes lonLatGeometry.
func appendLonLatGeometry(b []byte, g lonLatGeometry) ([]byte, error) {
	b = append(b, `{"type":`...)
	b = annotations.AppendJSONString(b, g.Type)
	b = append(b, `,"coordinates":`...)
	b, err := appendCoordinates(b, g.Coordinates)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func appendCoordinates(b []byte, c any) ([]byte, error) {
	switch c := c.(type) {
	case [2]float64:
		return appendFloats(b, c[:])
	case [][2]float64:
		return appendList(b, c, func(b []byte, p [2]float64) ([]byte, error) { return appendFloats(b, p[:]) })
	case [][][2]float64:
		return appendList(b, c, func(b []byte, r [][2]float64) ([]byte, error) { return appendCoordinates(b, r) })
	case [][][][2]float64:
		return appendList(b, c, func(b []byte, p [][][2]float64) ([]byte, error) { return appendCoordinates(b, p) })
	case nil:
		return append(b, "null"...), nil
	default:
		j, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		return append(b, j...), err
	}
}

// appendList appends a slice as encoding/json does (nil as null), each item by item.
func appendList[T any](b []byte, s []T, item func([]byte, T) ([]byte, error)) ([]byte, error) {
	if s == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, v := range s {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = item(b, v); err != nil {
			return nil, err
		}
	}
	return append(b, ']'), nil
}

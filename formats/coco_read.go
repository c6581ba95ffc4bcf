package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// Reading COCO instances files: satmark's own (annotations/instances.json of a dataset
// zip) and anyone's, the annotations streamed one at a time.

type cocoImageIn struct {
	ID       int64  `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	SHA256   string `json:"sha256"`
}

type cocoCategoryIn struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	SatmarkPath string `json:"satmark_path"`
}

type cocoAnnotationIn struct {
	ID           json.RawMessage            `json:"id"`
	ImageID      int64                      `json:"image_id"`
	CategoryID   int64                      `json:"category_id"`
	Segmentation json.RawMessage            `json:"segmentation"`
	BBox         []float64                  `json:"bbox"`
	Attributes   map[string]json.RawMessage `json:"attributes"`
}

// ReadCOCO reads a COCO instances file's annotations of this image: the image entry with
// its SHA-256 (satmark writes one), else its file name as satmark's datasets name it, else
// the file's only image. Each annotation's category is its label (satmark_path when
// satmark wrote it, else its name); its segmentation polygon the outline (an outline
// with holes joined by cuts, as satmark writes them, is split back into rings); a
// rectangle or rotated rectangle (satmark's "shape" attribute, or CVAT's "rotation")
// comes back as that box; satmark_id is its id and the other attributes its properties.
// RLE masks and instances of several polygons are refused.
func ReadCOCO(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
	name, err := src.pick("COCO file", []string{"instances.json", "annotations/instances.json"}, ".json")
	if err != nil {
		return err
	}
	r := cocoReader{src: src, name: name, t: t, emit: emit, categories: map[int64]cocoCategoryIn{}}
	annotationsFirst, err := r.pass(true)
	if err != nil {
		return err
	}
	if annotationsFirst {
		// The annotations came before the images or categories: read them again.
		_, err = r.pass(false)
	}
	return err
}

type cocoReader struct {
	src        ImportSource
	name       string
	t          ImportTarget
	emit       func(annotations.ImportFeature) error
	images     []cocoImageIn
	categories map[int64]cocoCategoryIn
	image      *cocoImageIn
	index      int
}

// pass walks the file once. On the first pass it reads the images and categories and,
// if they came first, the annotations; it reports whether the annotations are still to
// be read.
func (r *cocoReader) pass(first bool) (bool, error) {
	f, err := r.src.open(r.name)
	if err != nil {
		return false, err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReaderSize(f, 64<<10))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return false, fileErrorf("the file is not a COCO instances file: not a JSON object")
	}
	later, sawImages, sawCategories := false, false, false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return false, notJSON(err)
		}
		switch {
		case key == "images" && first:
			if err := dec.Decode(&r.images); err != nil {
				return false, fileErrorf("the COCO file's images cannot be read: %v", err)
			}
			sawImages = true
		case key == "categories" && first:
			var cats []cocoCategoryIn
			if err := dec.Decode(&cats); err != nil {
				return false, fileErrorf("the COCO file's categories cannot be read: %v", err)
			}
			for _, c := range cats {
				r.categories[c.ID] = c
			}
			sawCategories = true
		case key == "annotations" && (!first || (sawImages && sawCategories)):
			if err := r.chooseImage(); err != nil {
				return false, err
			}
			if err := r.annotations(dec); err != nil {
				return false, err
			}
		case key == "annotations":
			later = true
			fallthrough
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return false, notJSON(err)
			}
		}
	}
	if first && (!sawImages || !sawCategories) {
		return false, fileErrorf("the file is not a COCO instances file: it has no images or no categories")
	}
	return later, nil
}

// chooseImage finds the file's entry for this image.
func (r *cocoReader) chooseImage() error {
	if r.image != nil {
		return nil
	}
	want := datasetName(r.t.Image)
	for i, im := range r.images {
		if im.SHA256 != "" && im.SHA256 == r.t.Image.SHA256 {
			r.image = &r.images[i]
			return nil
		}
	}
	for i, im := range r.images {
		if strings.EqualFold(im.FileName, want.FileName) || strings.EqualFold(im.FileName, r.t.Image.Filename) {
			r.image = &r.images[i]
			return nil
		}
	}
	if len(r.images) == 1 {
		r.image = &r.images[0]
		return nil
	}
	return fileErrorf("the COCO file describes %d images, none of them this one (by SHA-256 or as %q)", len(r.images), want.FileName)
}

func (r *cocoReader) annotations(dec *json.Decoder) error {
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return fileErrorf("the COCO file's annotations are not an array")
	}
	for dec.More() {
		var a cocoAnnotationIn
		if err := dec.Decode(&a); err != nil {
			return fileErrorf("a COCO annotation cannot be read: %v", err)
		}
		if a.ImageID != r.image.ID {
			continue
		}
		r.index++
		if err := r.emit(r.feature(a)); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return notJSONOrNil(err)
}

func notJSONOrNil(err error) error {
	if err == nil || err == io.EOF {
		return nil
	}
	return notJSON(err)
}

func (r *cocoReader) feature(a cocoAnnotationIn) annotations.ImportFeature {
	var props properties
	str := func(k string) string {
		var s string
		json.Unmarshal(a.Attributes[k], &s)
		return s
	}
	id := str("satmark_id")
	if id == "" {
		id = featureID(a.ID)
	}
	place := fmt.Sprintf("annotation %s", featureID(a.ID))
	cat, ok := r.categories[a.CategoryID]
	label := cat.SatmarkPath
	if label == "" {
		label = cat.Name
	}
	if !ok || label == "" {
		label = fmt.Sprintf("category %d", a.CategoryID)
	}
	props.Confidence, props.Identification, props.Note = str("confidence"), str("identification"), str("note")
	var rotation float64
	json.Unmarshal(a.Attributes["rotation"], &rotation)
	for k, v := range a.Attributes {
		switch k {
		case "satmark_id", "shape", "label_path", "confidence", "identification", "note", "review_status", "rotation", "occluded":
			continue
		}
		if props.Attributes == nil {
			props.Attributes = map[string]json.RawMessage{}
		}
		props.Attributes[strings.TrimPrefix(k, "property:")] = v
	}
	outline, why := cocoOutline(a.Segmentation)
	if why != "" {
		return refusal(id, place, "%s", why)
	}
	shape := annotations.Shape(str("shape"))
	switch {
	case len(outline) == 0:
		// A box alone: CVAT writes a rotated box as its bbox and a rotation.
		if len(a.BBox) != 4 {
			return refusal(id, place, "it has neither a segmentation nor a bbox of 4 numbers")
		}
		x, y, w, h := a.BBox[0], a.BBox[1], a.BBox[2], a.BBox[3]
		if rotation == 0 {
			ring := []annotations.Position{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}, {x, y}}
			return featureOf(id, place, label, annotations.ShapeRectangle, annotations.PolygonGeometry(ring), props.asMap())
		}
		b := orientedBox{Center: [2]float64{x + w/2, y + h/2}, Length: w, Width: h, AngleDeg: math.Mod(rotation+360, 360)}
		return featureOf(id, place, label, annotations.ShapeRotatedRectangle, annotations.PolygonGeometry(boxRing(b)), props.asMap())
	case shape == annotations.ShapeRectangle || shape == annotations.ShapeRotatedRectangle:
		if len(outline) != 4 {
			return refusal(id, place, "a %s whose segmentation has %d corners, not 4", shape, len(outline))
		}
		return featureOf(id, place, label, shape, annotations.PolygonGeometry(closeRing(outline)), props.asMap())
	}
	return featureOf(id, place, label, annotations.ShapePolygon, annotations.PolygonGeometry(unkeyhole(outline)...), props.asMap())
}

// cocoOutline reads a segmentation of one polygon ([[x1, y1, x2, y2, …]]); none is nil.
func cocoOutline(raw json.RawMessage) ([]annotations.Position, string) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" || s == "[]" {
		return nil, ""
	}
	if strings.HasPrefix(s, "{") {
		return nil, "its segmentation is an RLE mask: satmark reads polygons only"
	}
	var polys [][]float64
	if err := json.Unmarshal(raw, &polys); err != nil {
		return nil, "its segmentation is not a list of polygons"
	}
	switch {
	case len(polys) == 0:
		return nil, ""
	case len(polys) > 1:
		return nil, fmt.Sprintf("its segmentation has %d polygons: a satmark annotation is one shape", len(polys))
	case len(polys[0])%2 != 0 || len(polys[0]) < 6:
		return nil, "its segmentation polygon is not 3 or more x, y pairs"
	}
	out := make([]annotations.Position, len(polys[0])/2)
	for i := range out {
		out[i] = annotations.Position{polys[0][2*i], polys[0][2*i+1]}
	}
	return out, ""
}

package formats

import (
	"encoding/json"
	"fmt"
	"mime"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/satmark/satmark/annotations"
)

// DatasetImage is an image as a dataset names it.
type DatasetImage struct {
	annotations.Image
	// FileName is the image's file name in the dataset: unique in it, its stem too (so
	// that YOLO's and DOTA's label files, named by the stem, are unique), and safe as a
	// zip entry.
	FileName string
}

// Stem is the file name without its extension: the name of the image's label files.
func (d DatasetImage) Stem() string { return strings.TrimSuffix(d.FileName, path.Ext(d.FileName)) }

// DatasetImages names images for a dataset: the original file's name without any folder
// or control character, with an extension for its media type if it had none; when two
// stems are the same but for case, the later image's (in the order given) gets its id
// added.
func DatasetImages(images []annotations.Image) []DatasetImage {
	out := make([]DatasetImage, len(images))
	used := map[string]bool{}
	for i, img := range images {
		name := safeFileName(img)
		stem, ext := strings.TrimSuffix(name, path.Ext(name)), path.Ext(name)
		if used[strings.ToLower(stem)] {
			stem += "-" + img.ID
		}
		used[strings.ToLower(stem)] = true
		out[i] = DatasetImage{Image: img, FileName: stem + ext}
	}
	return out
}

func safeFileName(img annotations.Image) string {
	name := img.Filename
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), r == ':', r == '*', r == '?', r == '"', r == '<', r == '>', r == '|':
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.TrimLeft(name, "."))
	if strings.TrimSuffix(name, path.Ext(name)) == "" {
		name = img.ID + path.Ext(name)
	}
	if path.Ext(name) == "" {
		name += extensionOf(img.MediaType)
	}
	return name
}

func extensionOf(mediaType string) string {
	switch mediaType {
	case "image/jpeg":
		return ".jpg"
	case "image/tiff":
		return ".tif"
	}
	if exts, _ := mime.ExtensionsByType(mediaType); len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// Class is a label as a class of a detection dataset.
type Class struct {
	Index int               // YOLO's class number, from 0
	Name  string            // the label's path joined with "/", e.g. "vessel/landing ship"
	Label annotations.Label // the label itself
}

// Classes numbers the whole taxonomy, in the order of the labels' paths, so that every
// export of one taxonomy numbers it alike.
type Classes struct {
	List    []Class
	byLabel map[string]int
}

// ClassesOf numbers labels as the detection formats' classes.
func ClassesOf(labels []annotations.Label) Classes {
	sorted := append([]annotations.Label(nil), labels...)
	name := func(l annotations.Label) string {
		path := l.Path
		if len(path) == 0 {
			path = []string{l.Name}
		}
		return strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, strings.Join(path, "/"))
	}
	sort.SliceStable(sorted, func(i, j int) bool { return name(sorted[i]) < name(sorted[j]) })
	c := Classes{byLabel: make(map[string]int, len(sorted))}
	for i, l := range sorted {
		c.List = append(c.List, Class{Index: i, Name: name(l), Label: l})
		c.byLabel[l.ID] = i
	}
	return c
}

// Of returns the class of an annotation's label, or an error when the label is not in
// the taxonomy numbered.
func (c Classes) Of(a annotations.Annotation) (Class, error) {
	i, ok := c.byLabel[a.Label.ID]
	if !ok {
		return Class{}, fmt.Errorf("annotation %s has label %s, which is not in the taxonomy", a.ID, a.Label.ID)
	}
	return c.List[i], nil
}

// Omission is an annotation an export left out because its format has no place for it.
type Omission struct {
	AnnotationID string            `json:"annotation_id"`
	ImageID      string            `json:"image_id"`
	Shape        annotations.Shape `json:"shape"`
	Reason       string            `json:"reason"`
}

// appendOmitted appends a to left as left out of format. The omission keeps copies of
// the ids, not the annotation's strings: on SQLite those are slices of the whole row the
// walk read (see annotations.rowScanner), and an export that leaves out 40,000 points
// would keep 40,000 rows. Omissions of one image share one copy of its id.
func appendOmitted(left []Omission, a annotations.Annotation, format string) []Omission {
	kind, ok := omissionReasons.Load(omissionKind{format, a.Shape})
	if !ok {
		shape := annotations.Shape(strings.Clone(string(a.Shape)))
		kind, _ = omissionReasons.LoadOrStore(omissionKind{format, shape},
			omissionText{shape, format + " has no " + string(shape) + "s: use GeoJSON, CSV or CVAT XML for them"})
	}
	k := kind.(omissionText)
	imageID := a.ImageID
	if n := len(left); n > 0 && left[n-1].ImageID == imageID {
		imageID = left[n-1].ImageID
	} else {
		imageID = strings.Clone(imageID)
	}
	return append(left, Omission{AnnotationID: strings.Clone(a.ID), ImageID: imageID, Shape: k.shape, Reason: k.reason})
}

// omissionReasons holds each omissionKind's omissionText, made once: an export that
// leaves out tens of thousands of points holds one string for them, not one each.
var omissionReasons sync.Map

type omissionKind struct {
	format string
	shape  annotations.Shape
}

// omissionText is what the omissions of one kind share: a copy of the shape's name, and
// the reason.
type omissionText struct {
	shape  annotations.Shape
	reason string
}

// Dataset is what a dataset export is made of.
type Dataset struct {
	Images []DatasetImage
	Labels []annotations.Label // the whole taxonomy: the classes and categories
	// Places are the images' placements by image id: CSV's lon/lat column.
	Places map[string]Placement
	// AttributeNames are the names of every free attribute the annotations have, which
	// CVAT's XML declares in its labels before the first image.
	AttributeNames []string
	// Annotations calls emit for every exported annotation of the images named, image by
	// image in the order named.
	Annotations func(imageIDs []string, emit func(annotations.Annotation) error) error
}

func (d Dataset) imageIDs() []string {
	ids := make([]string, len(d.Images))
	for i, img := range d.Images {
		ids[i] = img.ID
	}
	return ids
}

// attributeText is a free attribute's value as text: a string as it is, anything else
// as its JSON.
func attributeText(v json.RawMessage) string {
	if n := len(v); n >= 2 && v[0] == '"' && v[n-1] == '"' && plainJSONString(v[1:n-1]) {
		return string(v[1 : n-1]) // what json.Unmarshal gives, without its reflection
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// plainJSONString reports whether b, between a JSON string's quotes, is its value as it
// is: valid UTF-8 without escapes, quotes or control characters.
func plainJSONString(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return utf8.Valid(b)
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// num writes a coordinate exactly, without an exponent.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/satmark/satmark/annotations"
)

// COCOMediaType is the media type of a COCO instances file.
const COCOMediaType = "application/json"

type cocoInfo struct {
	Description string `json:"description"`
	Contributor string `json:"contributor"`
	Version     string `json:"version"`
	Note        string `json:"satmark_coordinates"`
}

type cocoLicense struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url"`
}

// cocoImage is a COCO image with satmark's provenance as extra keys, which COCO readers
// keep and ignore.
type cocoImage struct {
	ID           int    `json:"id"`
	FileName     string `json:"file_name"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	License      int    `json:"license,omitempty"`
	DateCaptured string `json:"date_captured"`
	SatmarkID    string `json:"satmark_id"`
	SHA256       string `json:"sha256"`
	Title        string `json:"title"`
	provenance
	ReleaseTitle string `json:"release_title"`
}

type cocoCategory struct {
	ID            int    `json:"id"`
	Name          string `json:"name"`
	Supercategory string `json:"supercategory"`
	SatmarkID     string `json:"satmark_id"`
	SatmarkPath   string `json:"satmark_path"`
}

// reservedAttributes are the attribute names satmark's own properties take in a COCO
// annotation or a CVAT shape; a free attribute of one of these names is written as
// "property:<name>".
var reservedAttributes = map[string]bool{"rotation": true, "confidence": true, "identification": true, "note": true,
	"review_status": true, "satmark_id": true, "shape": true, "label_path": true}

// WriteCOCO writes the images' annotations as one COCO instances file: images (with the
// satmark id, file hash and provenance as extra keys, the licence in COCO's licenses),
// categories from the whole taxonomy (supercategory the parent label's name, or the
// label's own at the top), and an annotation per rectangle, rotated rectangle and
// polygon: bbox [x, y, w, h] around it, its outline as the segmentation (holes joined to
// the exterior by a cut, see keyhole), area the polygon's (not the box's), iscrowd 0, and
// satmark's properties in CVAT's "attributes" object (rotation in degrees clockwise for
// boxes). Points and lines have no COCO instance: they are listed under the top-level
// "satmark" object's "omitted", which also says the coordinates are pixels, and returned.
func WriteCOCO(w io.Writer, d Dataset) ([]Omission, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = bw.Write(b)
		return err
	}
	bw.WriteString(`{"info":`)
	if err := enc(cocoInfo{Description: "satmark annotations", Contributor: "satmark", Version: "1.0", Note: PixelCoordinateNote}); err != nil {
		return nil, err
	}

	licenses := map[string]int{}
	var licenseList []cocoLicense
	imageIDs := make(map[string]int, len(d.Images))
	images := make([]cocoImage, len(d.Images))
	for i, img := range d.Images {
		imageIDs[img.ID] = i + 1
		s := img.Source
		lic := 0
		if s.License != "" {
			if lic = licenses[s.License]; lic == 0 {
				lic = len(licenseList) + 1
				licenses[s.License] = lic
				licenseList = append(licenseList, cocoLicense{ID: lic, Name: s.License, URL: ""})
			}
		}
		images[i] = cocoImage{
			ID: i + 1, FileName: img.FileName, Width: img.Width, Height: img.Height, License: lic,
			DateCaptured: img.CapturedFrom, SatmarkID: img.ID, SHA256: img.SHA256, Title: img.Title,
			provenance: provenanceOf(img.Image), ReleaseTitle: s.Title,
		}
	}
	bw.WriteString(`,"licenses":`)
	if licenseList == nil {
		licenseList = []cocoLicense{}
	}
	if err := enc(licenseList); err != nil {
		return nil, err
	}
	bw.WriteString(`,"images":`)
	if err := enc(images); err != nil {
		return nil, err
	}

	byID := map[string]annotations.Label{}
	for _, l := range d.Labels {
		byID[l.ID] = l
	}
	classes := ClassesOf(d.Labels)
	categories := make([]cocoCategory, len(classes.List))
	for i, c := range classes.List {
		super := c.Label.Name
		if p, ok := byID[c.Label.ParentID]; ok {
			super = p.Name
		}
		categories[i] = cocoCategory{ID: c.Index + 1, Name: c.Label.Name, Supercategory: super, SatmarkID: c.Label.ID, SatmarkPath: c.Name}
	}
	bw.WriteString(`,"categories":`)
	if err := enc(categories); err != nil {
		return nil, err
	}

	bw.WriteString(`,"annotations":[`)
	var left []Omission
	var buf []byte
	n := 0
	err := d.Annotations(d.imageIDs(), func(a annotations.Annotation) error {
		imageID, ok := imageIDs[a.ImageID]
		if !ok {
			return fmt.Errorf("annotation %s belongs to image %s, which is not in the export", a.ID, a.ImageID)
		}
		class, err := classes.Of(a)
		if err != nil {
			return err
		}
		if a.Geometry.Type != "Polygon" {
			left = appendOmitted(left, a, "COCO instances")
			return nil
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		n++
		buf = appendCOCOAnnotation(buf[:0], a, n, imageID, class.Index+1)
		_, err = bw.Write(buf)
		return err
	})
	if err != nil {
		return nil, err
	}
	// {"coordinates": …, "omitted": left} as encoding/json writes it, but each omission
	// straight to bw: when most annotations are points, marshalling them all at once
	// held tens of megabytes.
	buf = append(buf[:0], "\n],\"satmark\":{\"coordinates\":"...)
	buf = annotations.AppendJSONString(buf, PixelCoordinateNote)
	buf = append(buf, `,"omitted":[`...)
	bw.Write(buf)
	for i, o := range left {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"annotation_id":`...)
		buf = annotations.AppendJSONString(buf, o.AnnotationID)
		buf = append(buf, `,"image_id":`...)
		buf = annotations.AppendJSONString(buf, o.ImageID)
		buf = append(buf, `,"shape":`...)
		buf = annotations.AppendJSONString(buf, string(o.Shape))
		buf = append(buf, `,"reason":`...)
		buf = annotations.AppendJSONString(buf, o.Reason)
		bw.Write(append(buf, '}'))
	}
	bw.WriteString("]}}\n")
	if left == nil {
		left = []Omission{}
	}
	return left, bw.Flush()
}

func attributeName(k string) string {
	if reservedAttributes[k] {
		return "property:" + k
	}
	return k
}

// appendCOCOAnnotation appends an annotation's COCO instance as JSON: id, image_id,
// category_id, segmentation, area, bbox, iscrowd and attributes (see WriteCOCO), written
// by hand because an export writes a great many of them.
func appendCOCOAnnotation(b []byte, a annotations.Annotation, id, imageID, categoryID int) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, int64(id), 10)
	b = append(b, `,"image_id":`...)
	b = strconv.AppendInt(b, int64(imageID), 10)
	b = append(b, `,"category_id":`...)
	b = strconv.AppendInt(b, int64(categoryID), 10)
	b = append(b, `,"segmentation":[[`...)
	for i, p := range keyhole(a.Geometry.Coordinates) {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, p[1], 'f', -1, 64)
	}
	b = append(b, `]],"area":`...)
	b = strconv.AppendFloat(b, math.Abs(a.Geometry.Measure(a.Shape).AreaPx2), 'f', -1, 64)
	x0, y0, x1, y1 := extent(a.Geometry.Coordinates[0])
	b = append(b, `,"bbox":[`...)
	for i, v := range []float64{x0, y0, x1 - x0, y1 - y0} {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, v, 'f', -1, 64)
	}
	b = append(b, `],"iscrowd":0,"attributes":{`...)
	field := func(k string) {
		if b[len(b)-1] != '{' {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
	}
	for _, k := range sortedKeys(a.Attributes) {
		field(attributeName(k))
		b = append(b, a.Attributes[k]...)
	}
	for _, kv := range [][2]string{{"satmark_id", a.ID}, {"shape", string(a.Shape)}, {"label_path", a.Label.PathString()},
		{"confidence", string(a.Confidence)}, {"identification", a.Identification}, {"note", a.Note}, {"review_status", a.ReviewStatus}} {
		field(kv[0])
		b = appendJSONString(b, kv[1])
	}
	if bx, ok := boxOf(a); ok && bx.Heading {
		field("rotation")
		b = strconv.AppendFloat(b, bx.AngleDeg, 'f', -1, 64)
	} else if a.Shape == annotations.ShapeRectangle {
		field("rotation")
		b = append(b, '0')
	}
	return append(b, "}}"...)
}

// appendJSONString appends s as a JSON string: as it is when nothing in it needs
// escaping, the usual case, else as encoding/json writes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// provenanceOf is an image's provenance as the exports write it.
func provenanceOf(img annotations.Image) provenance {
	s := img.Source
	return provenance{
		Publisher: s.Publisher, Title: s.Title, SourceURL: s.URL, ReleasedAt: s.ReleasedAt, Credit: s.Credit,
		License: s.License, CapturedFrom: img.CapturedFrom, CapturedTo: img.CapturedTo,
		LocationName: img.LocationName, Claim: s.Claim, PublisherMarkup: img.PublisherMarkup, Claims: s.Claims,
	}
}

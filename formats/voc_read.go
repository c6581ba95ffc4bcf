package formats

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// Reading Pascal VOC XML: one <object> at a time. satmark's own files keep each object's
// exact shape in a <satmark> element; anyone else's give the bndbox alone.

type vocObjectIn struct {
	Name      string `xml:"name"`
	Difficult string `xml:"difficult"`
	BndBox    struct {
		XMin string `xml:"xmin"`
		YMin string `xml:"ymin"`
		XMax string `xml:"xmax"`
		YMax string `xml:"ymax"`
	} `xml:"bndbox"`
	Satmark *vocExtras `xml:"satmark"`
}

// ReadVOC reads this image's Pascal VOC file: in a VOC zip, Annotations/<stem>.xml named
// as satmark's datasets name the image (or after its original file name), else the only
// XML file. An object with satmark's <satmark> element is its exact shape (the outline
// and holes in continuous pixels, the shape, label path, confidence, identification,
// note and free attributes); any other object is a rectangle over its bndbox, read as
// Detectron2 and torchvision read VOC's 1-based pixels (x0 = xmin − 1, x1 = xmax),
// labelled by its name, "possible" when difficult.
func ReadVOC(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
	d := datasetName(t.Image)
	orig := strings.TrimSuffix(t.Image.Filename, extOf(t.Image.Filename))
	name, err := src.pick("Pascal VOC XML file", []string{d.Stem() + ".xml", orig + ".xml"}, ".xml")
	if err != nil {
		return err
	}
	dec, done, err := src.xmlDecoder(name)
	if err != nil {
		return err
	}
	defer done()
	root, index := true, 0
	for {
		se, more, err := nextElement(dec)
		switch {
		case err != nil:
			return fileErrorf("the file is not valid XML: %v", err)
		case !more:
			if root {
				return fileErrorf("the file holds no XML element")
			}
			return nil
		case root:
			if se.Name.Local != "annotation" {
				return fileErrorf("the file is not Pascal VOC XML: its root is <%s>, not <annotation>", se.Name.Local)
			}
			root = false
			continue
		case se.Name.Local == "satmark" || se.Name.Local == "source" || se.Name.Local == "size":
			// The image's own elements, beside its objects.
			if err := dec.Skip(); err != nil {
				return fileErrorf("the file is not valid XML: %v", err)
			}
			continue
		case se.Name.Local != "object":
			continue
		}
		var o vocObjectIn
		if err := dec.DecodeElement(&o, &se); err != nil {
			return fileErrorf("the file is not valid Pascal VOC XML: %v", err)
		}
		index++
		if err := emit(vocFeature(o, index)); err != nil {
			return err
		}
	}
}

func extOf(name string) string {
	if i := strings.LastIndexByte(name, '.'); i > strings.LastIndexAny(name, `/\`) {
		return name[i:]
	}
	return ""
}

func vocFeature(o vocObjectIn, index int) annotations.ImportFeature {
	place := fmt.Sprintf("object %d", index)
	label := strings.TrimSpace(o.Name)
	if s := o.Satmark; s != nil && strings.TrimSpace(s.Points) != "" {
		return vocSatmarkFeature(*s, label, place)
	}
	var v [4]float64
	for i, text := range []string{o.BndBox.XMin, o.BndBox.YMin, o.BndBox.XMax, o.BndBox.YMax} {
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return refusal("", place, "its bndbox: %q is not a number", text)
		}
		v[i] = f
	}
	x0, y0, x1, y1 := v[0]-1, v[1]-1, v[2], v[3]
	if x1 <= x0 || y1 <= y0 {
		return refusal("", place, "its bndbox (%s,%s)–(%s,%s) is empty", o.BndBox.XMin, o.BndBox.YMin, o.BndBox.XMax, o.BndBox.YMax)
	}
	if label == "" {
		label = noLabel
	}
	var props properties
	if strings.TrimSpace(o.Difficult) == "1" {
		props.Confidence = string(annotations.Possible)
	}
	ring := []annotations.Position{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	return featureOf("", place, label, annotations.ShapeRectangle, annotations.PolygonGeometry(ring), props.asMap())
}

// vocSatmarkFeature is an object as satmark's <satmark> element has it.
func vocSatmarkFeature(s vocExtras, name, place string) annotations.ImportFeature {
	outer, err := cvatPoints(s.Points)
	if err != nil {
		return refusal(s.ID, place, "its satmark points: %v", err)
	}
	rings := [][]annotations.Position{closeRing(outer)}
	for _, h := range s.Holes {
		ps, err := cvatPoints(h)
		if err != nil {
			return refusal(s.ID, place, "a hole's points: %v", err)
		}
		rings = append(rings, closeRing(ps))
	}
	label := strings.TrimSpace(s.LabelPath)
	if label == "" {
		label = name
	}
	if label == "" {
		label = noLabel
	}
	props := properties{Confidence: s.Confidence, Identification: s.Identification, Note: s.Note}
	for _, a := range s.Attributes {
		// satmark writes each value as its JSON.
		if v := strings.TrimSpace(a.Value); json.Valid([]byte(v)) {
			if props.Attributes == nil {
				props.Attributes = map[string]json.RawMessage{}
			}
			props.Attributes[a.Name] = json.RawMessage(v)
			continue
		}
		props.attribute(a.Name, a.Value)
	}
	return featureOf(s.ID, place, label, shapeOf(s.Shape, "Polygon"), annotations.PolygonGeometry(rings...), props.asMap())
}

// vocExtras are an object's <satmark> fields as the reader takes them: everything the
// bndbox cannot say (WriteVOC writes them).
type vocExtras struct {
	ID             string     `xml:"id"`
	LabelPath      string     `xml:"label_path"`
	Shape          string     `xml:"shape"`
	Confidence     string     `xml:"confidence"`
	Identification string     `xml:"identification"`
	Note           string     `xml:"note"`
	ReviewStatus   string     `xml:"review_status"`
	Rotation       string     `xml:"rotation,omitempty"`
	Points         string     `xml:"points"`
	Holes          []string   `xml:"hole"`
	Attributes     []vocField `xml:"attribute"`
}

// vocField is one free attribute or provenance field: <field name="…">value</field>.
type vocField struct {
	Name  string `xml:"name,attr"`
	Value string `xml:",chardata"`
}

package formats

import (
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// Reading "CVAT for images 1.1" XML: one <image> at a time, its shapes as annotations.

type cvatShapeIn struct {
	XMLName  xml.Name
	Label    string `xml:"label,attr"`
	Points   string `xml:"points,attr"`
	XTL      string `xml:"xtl,attr"`
	YTL      string `xml:"ytl,attr"`
	XBR      string `xml:"xbr,attr"`
	YBR      string `xml:"ybr,attr"`
	Rotation string `xml:"rotation,attr"`
	Attrs    []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:",chardata"`
	} `xml:"attribute"`
}

type cvatImageIn struct {
	Name   string        `xml:"name,attr"`
	Width  int           `xml:"width,attr"`
	Height int           `xml:"height,attr"`
	Shapes []cvatShapeIn `xml:",any"`
}

// ReadCVAT reads this image's shapes from a CVAT for images 1.1 file: the <image> named
// as satmark's datasets name the image (or by its original file name), else the file's
// only image. A <box> is a rectangle, or with a rotation (degrees clockwise about its
// centre, its width along the heading, as satmark writes it) a rotated rectangle; a
// <polygon> a polygon (holes joined by cuts split back into rings), a <polyline> a line,
// <points> of one point a point. The label is the shape's label (a path, as satmark
// writes them); satmark_id its id; confidence, identification and note its properties,
// every other attribute a free attribute (text that is JSON becomes that value).
func ReadCVAT(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
	name, err := src.pick("CVAT XML file", []string{"annotations.xml"}, ".xml")
	if err != nil {
		return err
	}
	want := datasetName(t.Image).FileName
	// Which <image> is this one: by name on a first pass (the images are small beside
	// their shapes only in count, so the pass reads names alone), else the only one.
	names, err := cvatImageNames(src, name)
	if err != nil {
		return err
	}
	chosen := ""
	for _, n := range names {
		if strings.EqualFold(n, want) || strings.EqualFold(n, t.Image.Filename) || strings.EqualFold(baseName(n), want) {
			chosen = n
			break
		}
	}
	if chosen == "" {
		if len(names) != 1 {
			return fileErrorf("the CVAT file describes %d images, none of them this one (named %q)", len(names), want)
		}
		chosen = names[0]
	}
	dec, done, err := src.xmlDecoder(name)
	if err != nil {
		return err
	}
	defer done()
	index := 0
	for {
		se, more, err := nextElement(dec)
		switch {
		case err != nil:
			return fileErrorf("the file is not valid XML: %v", err)
		case !more:
			return nil
		case se.Name.Local != "image" || attr(se, "name") != chosen:
			continue
		}
		var img cvatImageIn
		if err := dec.DecodeElement(&img, &se); err != nil {
			return fileErrorf("the file is not valid CVAT XML: %v", err)
		}
		for _, s := range img.Shapes {
			index++
			if err := emit(cvatFeature(s, index)); err != nil {
				return err
			}
		}
		return nil
	}
}

func baseName(p string) string { return p[strings.LastIndexAny(p, `/\`)+1:] }

func attr(se xml.StartElement, name string) string {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// cvatImageNames lists the names of a CVAT file's images.
func cvatImageNames(src ImportSource, name string) ([]string, error) {
	dec, done, err := src.xmlDecoder(name)
	if err != nil {
		return nil, err
	}
	defer done()
	var names []string
	root := true
	for {
		se, more, err := nextElement(dec)
		if err != nil {
			return nil, fileErrorf("the file is not valid XML: %v", err)
		}
		if !more {
			return names, nil
		}
		if root {
			if se.Name.Local != "annotations" {
				return nil, fileErrorf("the file is not CVAT for images XML: its root is <%s>, not <annotations>", se.Name.Local)
			}
			root = false
			continue
		}
		if se.Name.Local == "image" {
			names = append(names, attr(se, "name"))
			if err := dec.Skip(); err != nil {
				return nil, fileErrorf("the file is not valid XML: %v", err)
			}
		}
	}
}

func cvatFeature(s cvatShapeIn, index int) annotations.ImportFeature {
	var props properties
	id := ""
	for _, a := range s.Attrs {
		switch a.Name {
		case "satmark_id":
			id = a.Value
		case "confidence":
			props.Confidence = a.Value
		case "identification":
			props.Identification = a.Value
		case "note":
			props.Note = a.Value
		case "review_status":
		default:
			props.attribute(a.Name, a.Value)
		}
	}
	place := fmt.Sprintf("shape %d", index)
	label := s.Label
	if label == "" {
		label = noLabel
	}
	num := func(v string) (float64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", v)
		}
		return f, nil
	}
	switch s.XMLName.Local {
	case "box":
		var v [4]float64
		for i, t := range []string{s.XTL, s.YTL, s.XBR, s.YBR} {
			f, err := num(t)
			if err != nil {
				return refusal(id, place, "its box: %v", err)
			}
			v[i] = f
		}
		rot := 0.0
		if s.Rotation != "" {
			f, err := num(s.Rotation)
			if err != nil {
				return refusal(id, place, "its rotation: %v", err)
			}
			rot = f
		}
		if rot == 0 {
			ring := []annotations.Position{{v[0], v[1]}, {v[2], v[1]}, {v[2], v[3]}, {v[0], v[3]}, {v[0], v[1]}}
			return featureOf(id, place, label, annotations.ShapeRectangle, annotations.PolygonGeometry(ring), props.asMap())
		}
		b := orientedBox{Center: [2]float64{(v[0] + v[2]) / 2, (v[1] + v[3]) / 2}, Length: v[2] - v[0], Width: v[3] - v[1],
			AngleDeg: math.Mod(math.Mod(rot, 360)+360, 360)}
		return featureOf(id, place, label, annotations.ShapeRotatedRectangle, annotations.PolygonGeometry(boxRing(b)), props.asMap())
	case "polygon", "polyline", "points":
		ps, err := cvatPoints(s.Points)
		if err != nil {
			return refusal(id, place, "its points: %v", err)
		}
		switch s.XMLName.Local {
		case "polygon":
			return featureOf(id, place, label, annotations.ShapePolygon, annotations.PolygonGeometry(unkeyhole(ps)...), props.asMap())
		case "polyline":
			return featureOf(id, place, label, annotations.ShapeLine, annotations.LineGeometry(ps), props.asMap())
		}
		if len(ps) != 1 {
			return refusal(id, place, "<points> of %d points: a satmark point is one", len(ps))
		}
		return featureOf(id, place, label, annotations.ShapePoint, annotations.PointGeometry(ps[0]), props.asMap())
	}
	return refusal(id, place, "a CVAT <%s>: satmark reads boxes, polygons, polylines and points", s.XMLName.Local)
}

// cvatPoints reads CVAT's "x1,y1;x2,y2;…".
func cvatPoints(s string) ([]annotations.Position, error) {
	var out []annotations.Position
	for _, pair := range strings.Split(s, ";") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		xs, ys, ok := strings.Cut(pair, ",")
		x, err1 := strconv.ParseFloat(strings.TrimSpace(xs), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(ys), 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not x,y", pair)
		}
		out = append(out, annotations.Position{x, y})
	}
	return out, nil
}

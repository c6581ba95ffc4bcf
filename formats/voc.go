package formats

import (
	"bufio"
	"encoding/xml"
	"io"
	"math"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// VOC's XML is written with encoding/xml, which escapes every text.
type vocAnnotation struct {
	XMLName   xml.Name    `xml:"annotation"`
	Folder    string      `xml:"folder"`
	Filename  string      `xml:"filename"`
	Source    vocSource   `xml:"source"`
	Size      vocSize     `xml:"size"`
	Segmented int         `xml:"segmented"`
	Satmark   vocImage    `xml:"satmark"`
	Objects   []vocObject `xml:"object"`
}

type vocSource struct {
	Database   string `xml:"database"`
	Annotation string `xml:"annotation"`
	Image      string `xml:"image"`
}

type vocSize struct {
	Width  int `xml:"width"`
	Height int `xml:"height"`
	Depth  int `xml:"depth"`
}

// vocImage is the image's provenance, in an element VOC readers pass over.
type vocImage struct {
	ID     string     `xml:"id"`
	SHA256 string     `xml:"sha256"`
	Title  string     `xml:"title"`
	Fields []vocField `xml:"field"`
}

type vocField struct {
	Name  string `xml:"name,attr"`
	Value string `xml:",chardata"`
}

type vocObject struct {
	Name      string    `xml:"name"`
	Pose      string    `xml:"pose"`
	Truncated int       `xml:"truncated"`
	Difficult int       `xml:"difficult"`
	BndBox    vocBox    `xml:"bndbox"`
	Satmark   vocExtras `xml:"satmark"`
}

type vocBox struct {
	XMin int `xml:"xmin"`
	YMin int `xml:"ymin"`
	XMax int `xml:"xmax"`
	YMax int `xml:"ymax"`
}

// vocExtras are an object's satmark fields: everything the bndbox cannot say.
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

// WriteVOC writes one image's Pascal VOC XML: an object per rectangle, rotated
// rectangle and polygon, named by its label's path, with VOC's bndbox: the 1-based
// pixels enclosing it (xmin = ⌊x0⌋ + 1, xmax = ⌈x1⌉, as Detectron2 and torchvision read
// them back to continuous pixels by subtracting 1 from the minima), difficult 1 for a
// "possible" identification. Each object's <satmark> keeps what VOC cannot: the exact
// outline ("x,y;x,y", continuous pixels), holes, rotation, confidence, identification,
// note, review status, id and free attributes (as JSON); the image's in <satmark> beside <size>.
// Points and lines are left out and returned.
func WriteVOC(w io.Writer, img DatasetImage, classes Classes, each func(emit func(annotations.Annotation) error) error) ([]Omission, error) {
	doc := vocAnnotation{
		Folder: "JPEGImages", Filename: img.FileName,
		Source:  vocSource{Database: "satmark", Annotation: "satmark", Image: img.Source.Publisher},
		Size:    vocSize{Width: img.Width, Height: img.Height, Depth: 3},
		Satmark: vocImage{ID: img.ID, SHA256: img.SHA256, Title: img.Title},
	}
	for _, kv := range provenanceData(img.Image) {
		if kv[1] != "" {
			doc.Satmark.Fields = append(doc.Satmark.Fields, vocField{Name: kv[0], Value: kv[1]})
		}
	}
	var left []Omission
	err := each(func(a annotations.Annotation) error {
		class, err := classes.Of(a)
		if err != nil {
			return err
		}
		if a.Geometry.Type != "Polygon" {
			left = append(left, omitted(a, "Pascal VOC"))
			return nil
		}
		x0, y0, x1, y1 := extent(a.Geometry.Coordinates[0])
		o := vocObject{
			Name: class.Name, Pose: "Unspecified",
			BndBox: vocBox{
				XMin: max(1, int(math.Floor(x0))+1), YMin: max(1, int(math.Floor(y0))+1),
				XMax: min(img.Width, max(1, int(math.Ceil(x1)))), YMax: min(img.Height, max(1, int(math.Ceil(y1)))),
			},
			Satmark: vocExtras{
				ID: a.ID, LabelPath: a.Label.PathString(), Shape: string(a.Shape), Confidence: string(a.Confidence),
				Identification: a.Identification, Note: a.Note, ReviewStatus: a.ReviewStatus,
				Points: pointList(flatRing(a.Geometry.Coordinates[0])),
			},
		}
		if a.Confidence == annotations.Possible {
			o.Difficult = 1
		}
		for _, h := range a.Geometry.Coordinates[1:] {
			o.Satmark.Holes = append(o.Satmark.Holes, pointList(flatRing(h)))
		}
		if b, ok := boxOf(a); ok && b.Heading {
			o.Satmark.Rotation = num(b.AngleDeg)
		} else if a.Shape == annotations.ShapeRectangle {
			o.Satmark.Rotation = "0"
		}
		for _, k := range sortedKeys(a.Attributes) {
			o.Satmark.Attributes = append(o.Satmark.Attributes, vocField{Name: k, Value: string(a.Attributes[k])})
		}
		doc.Objects = append(doc.Objects, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	bw.WriteString("\n")
	return left, bw.Flush()
}

// pointList is CVAT's way of writing a path: "x,y;x,y;…".
func pointList(ps []annotations.Position) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = num(p[0]) + "," + num(p[1])
	}
	return strings.Join(parts, ";")
}

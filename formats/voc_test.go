package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// How WriteVOC wrote before it streamed: the whole document with encoding/xml, the
// oracle of its bytes.

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

// oracleVOC is WriteVOC as it was.
func oracleVOC(w io.Writer, img DatasetImage, classes Classes, each func(emit func(annotations.Annotation) error) error) ([]Omission, error) {
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
			left = appendOmitted(left, a, "Pascal VOC")
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

func TestVOCIsEncodingXMLs(t *testing.T) {
	img, anns := encoderCases()
	for i := range anns {
		anns[i].Confidence = annotations.Possible // difficult 1
	}
	anns[0].Confidence = ""
	anns[2].Label = anns[1].Label // a class of the taxonomy
	// A rectangle, and one with a hole reaching past the image.
	rect := anns[3]
	rect.ID, rect.Shape = "ann_rect", annotations.ShapeRectangle
	rect.Geometry = annotations.PolygonGeometry(positions([2]float64{10.5, 10}, [2]float64{60, 10}, [2]float64{60, 40.25}, [2]float64{10.5, 40.25}, [2]float64{10.5, 10}))
	rect.Attributes = map[string]json.RawMessage{"a<&>": json.RawMessage(`"x\ny"`), "b": json.RawMessage(`{"k": 1}`)}
	past := anns[3]
	past.ID = "ann_past"
	past.Geometry = annotations.PolygonGeometry(positions([2]float64{-5, -5}, [2]float64{5000, -5}, [2]float64{5000, 3100}, [2]float64{-5, -5}), anns[3].Geometry.Coordinates[1])
	anns = append(anns, rect, past)
	d := DatasetImages([]annotations.Image{img})[0]
	d.FileName = "harbour <1>.jpg"
	classes := ClassesOf([]annotations.Label{anns[0].Label, anns[1].Label})
	for _, tc := range []struct {
		name string
		anns []annotations.Annotation
	}{{"ok, no annotations", nil}, {"ok, every shape", anns}} {
		t.Run(tc.name, func(t *testing.T) {
			var want, got bytes.Buffer
			wantLeft, err := oracleVOC(&want, d, classes, emitEach(tc.anns))
			if err != nil {
				t.Fatal(err)
			}
			gotLeft, err := WriteVOC(&got, d, classes, emitEach(tc.anns))
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("VOC XML:\n got %s\nwant %s", got.String(), want.String())
			}
			if len(gotLeft) != len(wantLeft) {
				t.Errorf("left out %d, want %d", len(gotLeft), len(wantLeft))
			}
		})
	}
}

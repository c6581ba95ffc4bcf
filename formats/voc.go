package formats

import (
	"bufio"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// WriteVOC writes one image's Pascal VOC XML: an object per rectangle, rotated
// rectangle and polygon, named by its label's path, with VOC's bndbox: the 1-based
// pixels enclosing it (xmin = ⌊x0⌋ + 1, xmax = ⌈x1⌉, as Detectron2 and torchvision read
// them back to continuous pixels by subtracting 1 from the minima), difficult 1 for a
// "possible" identification. Each object's <satmark> keeps what VOC cannot: the exact
// outline ("x,y;x,y", continuous pixels), holes, rotation, confidence, identification,
// note, review status, id and free attributes (as JSON); the image's in <satmark> beside <size>.
// Points and lines are left out and returned. The objects are written as each emits
// them, in the bytes encoding/xml writes for the vocAnnotation of voc_test.go indented by
// two spaces (TestVOCIsEncodingXMLs checks).
func WriteVOC(w io.Writer, img DatasetImage, classes Classes, each func(emit func(annotations.Annotation) error) error) ([]Omission, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	x := &xmlWriter{w: bw}
	x.raw(xml.Header + "<annotation>\n")
	x.element("  ", "folder", "JPEGImages")
	x.element("  ", "filename", img.FileName)
	x.raw("  <source>\n")
	x.element("    ", "database", "satmark")
	x.element("    ", "annotation", "satmark")
	x.element("    ", "image", img.Source.Publisher)
	x.raw("  </source>\n  <size>\n")
	x.element("    ", "width", strconv.Itoa(img.Width))
	x.element("    ", "height", strconv.Itoa(img.Height))
	x.raw("    <depth>3</depth>\n  </size>\n  <segmented>0</segmented>\n  <satmark>\n")
	x.element("    ", "id", img.ID)
	x.element("    ", "sha256", img.SHA256)
	x.element("    ", "title", img.Title)
	for _, kv := range provenanceData(img.Image) {
		if kv[1] != "" {
			x.named("    ", "field", kv[0], kv[1])
		}
	}
	x.raw("  </satmark>\n")
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
		x.raw("  <object>\n")
		x.element("    ", "name", class.Name)
		x.raw("    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n")
		if a.Confidence == annotations.Possible {
			x.raw("    <difficult>1</difficult>\n")
		} else {
			x.raw("    <difficult>0</difficult>\n")
		}
		x.raw("    <bndbox>\n")
		x.element("      ", "xmin", strconv.Itoa(max(1, int(math.Floor(x0))+1)))
		x.element("      ", "ymin", strconv.Itoa(max(1, int(math.Floor(y0))+1)))
		x.element("      ", "xmax", strconv.Itoa(min(img.Width, max(1, int(math.Ceil(x1))))))
		x.element("      ", "ymax", strconv.Itoa(min(img.Height, max(1, int(math.Ceil(y1))))))
		x.raw("    </bndbox>\n    <satmark>\n")
		x.element("      ", "id", a.ID)
		x.element("      ", "label_path", a.Label.PathString())
		x.element("      ", "shape", string(a.Shape))
		x.element("      ", "confidence", string(a.Confidence))
		x.element("      ", "identification", a.Identification)
		x.element("      ", "note", a.Note)
		x.element("      ", "review_status", a.ReviewStatus)
		if b, ok := boxOf(a); ok && b.Heading {
			x.element("      ", "rotation", num(b.AngleDeg))
		} else if a.Shape == annotations.ShapeRectangle {
			x.raw("      <rotation>0</rotation>\n")
		}
		x.element("      ", "points", pointList(flatRing(a.Geometry.Coordinates[0])))
		for _, h := range a.Geometry.Coordinates[1:] {
			x.element("      ", "hole", pointList(flatRing(h)))
		}
		for _, k := range sortedKeys(a.Attributes) {
			x.named("      ", "attribute", k, string(a.Attributes[k]))
		}
		x.raw("    </satmark>\n  </object>\n")
		return x.err
	})
	if err != nil {
		return nil, err
	}
	x.raw("</annotation>\n")
	if x.err != nil {
		return nil, x.err
	}
	return left, bw.Flush()
}

// element writes indent<name>text</name> and a newline, text escaped.
func (x *xmlWriter) element(indent, name, text string) {
	x.raw(indent + "<" + name + ">")
	x.escaped(text)
	x.raw("</" + name + ">\n")
}

// named writes indent<tag name="name">text</tag> and a newline, name and text escaped.
func (x *xmlWriter) named(indent, tag, name, text string) {
	x.raw(indent + "<" + tag + ` name="`)
	x.escaped(name)
	x.raw(`">`)
	x.escaped(text)
	x.raw("</" + tag + ">\n")
}

// pointList is CVAT's way of writing a path: "x,y;x,y;…".
func pointList(ps []annotations.Position) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = num(p[0]) + "," + num(p[1])
	}
	return strings.Join(parts, ";")
}

package formats

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/satmark/satmark/annotations"
)

// CVATMediaType is the media type of CVAT's XML.
const CVATMediaType = "application/xml"

// cvatAttributes are the attributes every CVAT label declares, before the free ones.
var cvatAttributes = []string{"satmark_id", "confidence", "identification", "note", "review_status"}

// WriteCVAT writes "CVAT for images 1.1" XML, which CVAT imports: a <meta> whose labels
// are the whole taxonomy by path ("vessel/landing ship", with its colour), each
// declaring every attribute the export writes as a text attribute (satmark's id,
// confidence, identification, note and review status, then d.AttributeNames),
// and an <image> per image with its shapes: a rectangle as a <box>, a rotated rectangle
// as a <box> around its centre with CVAT's rotation (degrees clockwise; the box's width
// along the heading), a polygon as a <polygon> (holes joined by a cut, see keyhole), a
// line as a <polyline>, a point as <points>. Coordinates are written in full.
func WriteCVAT(w io.Writer, d Dataset) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	x := &cvatWriter{xmlWriter{w: bw}}
	x.raw(`<?xml version="1.0" encoding="utf-8"?>` + "\n<annotations>\n  <version>1.1</version>\n  <meta>\n    <task>\n")
	x.raw("      <name>satmark export</name>\n")
	x.raw("      <size>" + strconv.Itoa(len(d.Images)) + "</size>\n      <mode>annotation</mode>\n      <overlap>0</overlap>\n")
	x.raw("      <labels>\n")
	attrs := append(append([]string(nil), cvatAttributes...), d.AttributeNames...)
	for i, a := range attrs[len(cvatAttributes):] {
		attrs[len(cvatAttributes)+i] = attributeName(a)
	}
	classes := ClassesOf(d.Labels)
	for _, c := range classes.List {
		x.raw("        <label>\n          <name>" + xmlEscape(c.Name) + "</name>\n          <color>" + xmlEscape(c.Label.Color) + "</color>\n          <type>any</type>\n          <attributes>\n")
		for _, a := range attrs {
			x.raw("            <attribute>\n              <name>" + xmlEscape(a) + "</name>\n              <mutable>False</mutable>\n" +
				"              <input_type>text</input_type>\n              <default_value></default_value>\n              <values></values>\n            </attribute>\n")
		}
		x.raw("          </attributes>\n        </label>\n")
	}
	x.raw("      </labels>\n    </task>\n  </meta>\n")
	for i, img := range d.Images {
		fmt.Fprintf(bw, `  <image id="%d" name="%s" width="%d" height="%d">`+"\n", i, xmlEscape(img.FileName), img.Width, img.Height)
		err := d.Annotations([]string{img.ID}, func(a annotations.Annotation) error {
			class, err := classes.Of(a)
			if err != nil {
				return err
			}
			x.shape(a, class)
			return nil
		})
		if err != nil {
			return err
		}
		x.raw("  </image>\n")
	}
	x.raw("</annotations>\n")
	if x.err != nil {
		return x.err
	}
	return bw.Flush()
}

type cvatWriter struct{ xmlWriter }

// shape writes an annotation's shape element piece by piece into the buffered writer,
// numbers appended in its free space: an export writes a great many of them.
func (x *cvatWriter) shape(a annotations.Annotation, class Class) {
	open := func(tag string) {
		x.raw("    <" + tag + ` label="`)
		x.escaped(class.Name)
		x.raw(`" source="manual" occluded="0"`)
	}
	var tag string
	switch {
	case a.Shape == annotations.ShapePoint, a.Shape == annotations.ShapeLine:
		tag = "points"
		if a.Shape == annotations.ShapeLine {
			tag = "polyline"
		}
		open(tag)
		x.points(a.Geometry.Coordinates[0])
	case a.Shape == annotations.ShapeRectangle:
		tag = "box"
		open(tag)
		x0, y0, x1, y1 := extent(a.Geometry.Coordinates[0])
		x.numAttrs(x0, y0, x1, y1)
	case a.Shape == annotations.ShapeRotatedRectangle:
		if b, ok := boxOf(a); ok {
			tag = "box"
			open(tag)
			c := b.Center
			x.numAttrs(c[0]-b.Length/2, c[1]-b.Width/2, c[0]+b.Length/2, c[1]+b.Width/2, b.AngleDeg)
			break
		}
		fallthrough
	default:
		tag = "polygon"
		open(tag)
		x.points(keyhole(a.Geometry.Coordinates))
	}
	x.raw(` z_order="0">` + "\n")
	attr := func(name, value string) {
		x.raw(`      <attribute name="`)
		x.escaped(name)
		x.raw(`">`)
		x.escaped(value)
		x.raw("</attribute>\n")
	}
	attr("satmark_id", a.ID)
	attr("confidence", string(a.Confidence))
	attr("identification", a.Identification)
	attr("note", a.Note)
	attr("review_status", a.ReviewStatus)
	for _, k := range sortedKeys(a.Attributes) {
		attr(attributeName(k), attributeText(a.Attributes[k]))
	}
	x.raw("    </" + tag + ">\n")
}

// points writes ` points="x,y;x,y;…"` (pointList's list).
func (x *cvatWriter) points(ps []annotations.Position) {
	x.raw(` points="`)
	for i, p := range ps {
		b := x.w.AvailableBuffer()
		if i > 0 {
			b = append(b, ';')
		}
		b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
		b = strconv.AppendFloat(append(b, ','), p[1], 'f', -1, 64)
		x.write(b)
	}
	x.raw(`"`)
}

// cvatBoxAttrs are the attributes of a box, in order, and its rotation.
var cvatBoxAttrs = []string{` xtl="`, `" ytl="`, `" xbr="`, `" ybr="`, `" rotation="`}

// numAttrs writes a box's xtl, ytl, xbr, ybr and (when given) rotation.
func (x *cvatWriter) numAttrs(v ...float64) {
	for i, f := range v {
		b := append(x.w.AvailableBuffer(), cvatBoxAttrs[i]...)
		x.write(strconv.AppendFloat(b, f, 'f', -1, 64))
	}
	x.raw(`"`)
}

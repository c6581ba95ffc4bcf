package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// TestCVATShapesAreConcatenatedOnes: a CVAT shape written piece by piece has the bytes
// of the strings concatenated before (concatenatedCVATShape, its former writer), for
// every shape, text that XML escapes and attributes of every kind.
func TestCVATShapesAreConcatenatedOnes(t *testing.T) {
	_, anns := encoderCases()
	tricky := anns[len(anns)-1]
	tricky.Note, tricky.Identification = "<b>\"Ropucha\" & 'co'</b>\n\ttab\u2028", "é☃"
	tricky.Attributes = map[string]json.RawMessage{"hull": json.RawMessage(`"BDK-61"`), "count": json.RawMessage(`3`),
		"escaped": json.RawMessage(`"a\"b\u00e9\n"`), "list": json.RawMessage(`[1,"x"]`), "none": json.RawMessage(`null`), "unicode": json.RawMessage(`"\u00e9\n"`),
		"bad utf8": json.RawMessage("\"\xff\""), "category": json.RawMessage(`"<&>"`)}
	for k, v := range tricky.Attributes {
		if got, want := attributeText(v), unmarshalledText(v); got != want {
			t.Errorf("attributeText(%s) = %q, want %q", k, got, want)
		}
	}
	rect := anns[2]
	rect.Shape = annotations.ShapeRectangle
	unboxable := anns[2]
	unboxable.Shape, unboxable.Geometry = annotations.ShapeRotatedRectangle, anns[len(anns)-1].Geometry
	class := Class{Name: `vessel/landing "ship" <&>`}
	for _, a := range append(anns, tricky, rect, unboxable) {
		var got, want bytes.Buffer
		gw, ww := bufio.NewWriterSize(&got, 16), bufio.NewWriterSize(&want, 16)
		x := &cvatWriter{xmlWriter{w: gw}}
		x.shape(a, class)
		concatenatedCVATShape(&cvatWriter{xmlWriter{w: ww}}, a, class)
		if x.err != nil || gw.Flush() != nil || ww.Flush() != nil {
			t.Fatal(x.err)
		}
		if got.String() != want.String() {
			t.Errorf("%s %s:\n got %s\nwant %s", a.ID, a.Shape, got.String(), want.String())
		}
	}
}

// unmarshalledText is attributeText as it was: through json.Unmarshal.
func unmarshalledText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

func concatenatedCVATShape(x *cvatWriter, a annotations.Annotation, class Class) {
	common := `label="` + xmlEscape(class.Name) + `" source="manual" occluded="0"`
	var tag string
	switch {
	case a.Shape == annotations.ShapePoint:
		tag = "points"
		x.raw(`    <points ` + common + ` points="` + pointList(a.Geometry.Coordinates[0]) + `" z_order="0">` + "\n")
	case a.Shape == annotations.ShapeLine:
		tag = "polyline"
		x.raw(`    <polyline ` + common + ` points="` + pointList(a.Geometry.Coordinates[0]) + `" z_order="0">` + "\n")
	case a.Shape == annotations.ShapeRectangle:
		tag = "box"
		x0, y0, x1, y1 := extent(a.Geometry.Coordinates[0])
		x.raw(`    <box ` + common + ` xtl="` + num(x0) + `" ytl="` + num(y0) + `" xbr="` + num(x1) + `" ybr="` + num(y1) + `" z_order="0">` + "\n")
	case a.Shape == annotations.ShapeRotatedRectangle:
		if b, ok := boxOf(a); ok {
			tag = "box"
			c := b.Center
			x.raw(`    <box ` + common + ` xtl="` + num(c[0]-b.Length/2) + `" ytl="` + num(c[1]-b.Width/2) + `" xbr="` + num(c[0]+b.Length/2) +
				`" ybr="` + num(c[1]+b.Width/2) + `" rotation="` + num(b.AngleDeg) + `" z_order="0">` + "\n")
			break
		}
		fallthrough
	default:
		tag = "polygon"
		x.raw(`    <polygon ` + common + ` points="` + pointList(keyhole(a.Geometry.Coordinates)) + `" z_order="0">` + "\n")
	}
	attr := func(name, value string) {
		x.raw(`      <attribute name="` + xmlEscape(name) + `">` + xmlEscape(value) + "</attribute>\n")
	}
	attr("satmark_id", a.ID)
	attr("confidence", string(a.Confidence))
	attr("identification", a.Identification)
	attr("note", a.Note)
	attr("review_status", a.ReviewStatus)
	for _, k := range sortedKeys(a.Attributes) {
		attr(attributeName(k), unmarshalledText(a.Attributes[k]))
	}
	x.raw("    </" + tag + ">\n")
}

package formats

import (
	"archive/zip"
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// KMLMediaType and KMZMediaType are Google Earth's media types.
const (
	KMLMediaType = "application/vnd.google-earth.kml+xml"
	KMZMediaType = "application/vnd.google-earth.kmz"
)

// KMZOverlayName is the image's file name inside a KMZ.
const KMZOverlayName = "overlay.jpg"

// WriteKML writes an image's annotations as KML 2.2 for Google Earth: one placemark per
// annotation with its properties and the image's provenance in ExtendedData, one style
// per label colour, and the image itself as a GroundOverlay (a LatLonBox when the image
// is north-up in lon/lat, a gx:LatLonQuad of its corners otherwise) whose icon is
// overlayHref. labels are the labels of the annotations each emits (the styles come
// before the placemarks); each is called once and must call emit for every annotation,
// in order. A placemark whose label's colour has no style gets none.
func WriteKML(w io.Writer, img annotations.Image, p Placement, labels []annotations.Label,
	each func(emit func(annotations.Annotation) error) error, overlayHref string) error {
	if !p.Georeferenced() {
		return fmt.Errorf("image %s is not georeferenced", img.ID)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	k := &kmlWriter{xmlWriter: xmlWriter{w: bw}, styles: map[string]string{}}
	k.raw(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	k.raw(`<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">` + "\n<Document>\n")
	k.text("name", img.Title)
	k.text("description", provenanceText(img))

	// A style per label colour, then the image's provenance: KML 2.2 orders a feature's
	// children name, description, styleUrl, styles, ExtendedData.
	keys := make([]string, 0, len(labels))
	for _, l := range labels {
		if _, ok := k.styles[l.Color]; !ok {
			k.styles[l.Color] = "<styleUrl>#" + styleID(l.Color) + "</styleUrl>\n"
			keys = append(keys, l.Color)
		}
	}
	sort.Strings(keys)
	for _, c := range keys {
		abgr := kmlColor(c)
		k.raw(`<Style id="` + styleID(c) + `"><IconStyle><color>ff` + abgr + `</color></IconStyle>` +
			`<LineStyle><color>ff` + abgr + `</color><width>2</width></LineStyle>` +
			`<PolyStyle><color>55` + abgr + `</color></PolyStyle></Style>` + "\n")
	}
	k.raw("<ExtendedData>\n")
	for _, kv := range provenanceData(img) {
		k.data(kv[0], kv[1])
	}
	k.raw("</ExtendedData>\n")

	if err := k.groundOverlay(img, p, overlayHref); err != nil {
		return err
	}

	k.raw("<Folder>\n")
	k.text("name", "Annotations")
	err := each(func(a annotations.Annotation) error {
		if a.ImageID != img.ID {
			return fmt.Errorf("annotation %s belongs to image %s, not %s", a.ID, a.ImageID, img.ID)
		}
		geom, _, err := projectGeometry(p.Transformer, a.Geometry)
		if err != nil {
			return fmt.Errorf("annotation %s: %w", a.ID, err)
		}
		k.placemark(a, img, geom)
		return k.err
	})
	if err != nil {
		return err
	}
	k.raw("</Folder>\n</Document>\n</kml>\n")
	if k.err != nil {
		return k.err
	}
	return bw.Flush()
}

func (k *kmlWriter) placemark(a annotations.Annotation, img annotations.Image, geom lonLatGeometry) {
	label := strings.Join(a.Label.Path, " › ")
	k.raw(`<Placemark id="`)
	k.raw(kmlID("annotation-", a.ID))
	k.raw("\">\n")
	k.text("name", label)
	desc := a.Identification
	if a.Note != "" {
		desc = strings.TrimSpace(desc + "\n" + a.Note)
	}
	k.text("description", desc)
	k.raw(k.styles[a.Label.Color])
	k.raw("<ExtendedData>\n")
	k.data("annotation_id", a.ID)
	k.data("label", label)
	k.data("shape", string(a.Shape))
	k.data("confidence", string(a.Confidence))
	k.data("identification", a.Identification)
	k.data("note", a.Note)
	m := measurements(a)
	for _, v := range [...]struct {
		name string
		v    *float64
	}{{"length_m", m.LengthM}, {"width_m", m.WidthM}, {"area_m2", m.AreaM2}, {"perimeter_m", m.PerimeterM}, {"heading_deg", m.HeadingDeg}} {
		if v.v != nil {
			k.buf = strconv.AppendFloat(k.buf[:0], *v.v, 'f', 2, 64)
			k.dataBytes(v.name, k.buf)
		}
	}
	k.data("review_status", a.ReviewStatus)
	if r := reviewOf(a); r != nil {
		k.data("review_by", r.By)
		k.data("review_at", r.At.UTC().Format("2006-01-02T15:04:05Z"))
		if r.Reason != "" {
			k.data("review_reason", r.Reason)
		}
	}
	k.data("created_by", a.CreatedBy)
	k.buf = a.UpdatedAt.AppendFormat(k.buf[:0], "2006-01-02T15:04:05Z")
	k.dataBytes("updated_at", k.buf)
	k.data("image_sha256", img.SHA256)
	k.data("publisher", img.Source.Publisher)
	k.raw("</ExtendedData>\n")
	k.geometry(geom)
	k.raw("</Placemark>\n")
}

// WriteKMZ writes a KMZ: doc.kml first, then the overlay image it refers to. Both entries
// are dated by the latest change to what they hold: to the image, or to any of anns or
// its review.
func WriteKMZ(w io.Writer, img annotations.Image, p Placement, anns []annotations.Annotation, overlayJPEG []byte) error {
	modified := img.CreatedAt
	if img.UpdatedAt.After(modified) {
		modified = img.UpdatedAt
	}
	for _, a := range anns {
		if a.UpdatedAt.After(modified) {
			modified = a.UpdatedAt
		}
		if a.Decision != nil && a.Decision.At.After(modified) {
			modified = a.Decision.At
		}
	}
	modified = modified.UTC()
	z := zip.NewWriter(w)
	doc, err := z.CreateHeader(&zip.FileHeader{Name: "doc.kml", Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	if err := WriteKML(doc, img, p, labelsOf(anns), emitEach(anns), KMZOverlayName); err != nil {
		return err
	}
	ov, err := z.CreateHeader(&zip.FileHeader{Name: KMZOverlayName, Method: zip.Store, Modified: modified})
	if err != nil {
		return err
	}
	if _, err := ov.Write(overlayJPEG); err != nil {
		return err
	}
	return z.Close()
}

// labelsOf are the labels of anns, for WriteKML.
func labelsOf(anns []annotations.Annotation) []annotations.Label {
	var out []annotations.Label
	for _, a := range anns {
		out = append(out, a.Label)
	}
	return out
}

// emitEach feeds anns to a streaming writer (WriteKML) in order.
func emitEach(anns []annotations.Annotation) func(func(annotations.Annotation) error) error {
	return func(emit func(annotations.Annotation) error) error {
		for _, a := range anns {
			if err := emit(a); err != nil {
				return err
			}
		}
		return nil
	}
}

// xmlWriter writes XML text, keeping the first error.
type xmlWriter struct {
	w   *bufio.Writer
	err error
}

func (x *xmlWriter) raw(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

// write writes b, which may be the writer's AvailableBuffer.
func (x *xmlWriter) write(b []byte) {
	if x.err == nil {
		_, x.err = x.w.Write(b)
	}
}

// escaped writes s escaped for an XML element or a double-quoted attribute, newlines
// included (xmlEscape), without a copy when there is nothing to escape.
func (x *xmlWriter) escaped(s string) {
	if x.err != nil {
		return
	}
	if !needsXMLEscape(s) {
		_, x.err = x.w.WriteString(s)
		return
	}
	x.err = xml.EscapeText(x.w, []byte(s))
}

// needsXMLEscape reports whether xml.EscapeText could change s: any byte but printable
// ASCII other than the five it escapes.
func needsXMLEscape[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\'', c == '&', c == '<', c == '>':
			return true
		}
	}
	return false
}

type kmlWriter struct {
	xmlWriter
	styles map[string]string // the styleUrl element of each label colour
	buf    []byte
}

// xmlEscape escapes text for an XML element or a double-quoted attribute, newlines
// included.
func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// htmlText escapes text for HTML: Google Earth renders a feature's description, and
// its name in the balloon, as HTML, so a "<" typed by a user must not start a tag there.
var htmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// text writes an element Google Earth shows as HTML (name, description): user text,
// escaped for HTML, then for XML.
func (k *kmlWriter) text(name, text string) {
	k.raw("<" + name + ">")
	k.escaped(htmlText.Replace(text))
	k.raw("</" + name + ">\n")
}

// kmlID makes an xs:ID (an NCName) of prefix and s: prefix must start with a letter, and
// the characters of s an NCName cannot hold become "_".
func kmlID(prefix, s string) string {
	return prefix + strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}

// data writes an ExtendedData value; name needs no escaping.
func (k *kmlWriter) data(name, value string) {
	k.raw(`<Data name="`)
	k.raw(name)
	k.raw(`"><value>`)
	k.escaped(value)
	k.raw("</value></Data>\n")
}

// dataBytes writes a value that needs no escaping (numbers, times).
func (k *kmlWriter) dataBytes(name string, value []byte) {
	k.raw(`<Data name="`)
	k.raw(name)
	k.raw(`"><value>`)
	if k.err == nil {
		_, k.err = k.w.Write(value)
	}
	k.raw("</value></Data>\n")
}

// appendCoords appends KML coordinates: lon,lat pairs separated by spaces.
func appendCoords(b []byte, ps [][2]float64) []byte {
	for i, p := range ps {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, p[1], 'f', -1, 64)
	}
	return b
}

// coords writes the element <coordinates> of ps.
func (k *kmlWriter) coords(ps [][2]float64) {
	k.buf = append(k.buf[:0], "<coordinates>"...)
	k.buf = append(appendCoords(k.buf, ps), "</coordinates>"...)
	if k.err == nil {
		_, k.err = k.w.Write(k.buf)
	}
}

func (k *kmlWriter) polygon(rings [][][2]float64) {
	k.raw("<Polygon><outerBoundaryIs><LinearRing>")
	k.coords(rings[0])
	k.raw("</LinearRing></outerBoundaryIs>")
	for _, h := range rings[1:] {
		k.raw("<innerBoundaryIs><LinearRing>")
		k.coords(h)
		k.raw("</LinearRing></innerBoundaryIs>")
	}
	k.raw("</Polygon>\n")
}

func (k *kmlWriter) line(l [][2]float64) {
	k.raw("<LineString><tessellate>1</tessellate>")
	k.coords(l)
	k.raw("</LineString>")
}

func (k *kmlWriter) geometry(g lonLatGeometry) {
	switch c := g.Coordinates.(type) {
	case [2]float64:
		k.raw("<Point>")
		k.coords([][2]float64{c})
		k.raw("</Point>\n")
	case [][2]float64:
		k.line(c)
		k.raw("\n")
	case [][][2]float64:
		if g.Type == "MultiLineString" {
			k.raw("<MultiGeometry>")
			for _, l := range c {
				k.line(l)
			}
			k.raw("</MultiGeometry>\n")
			return
		}
		k.polygon(c)
	case [][][][2]float64:
		k.raw("<MultiGeometry>")
		for _, poly := range c {
			k.polygon(poly)
		}
		k.raw("</MultiGeometry>\n")
	}
}

// groundOverlay places the image: a LatLonBox when its corners form a north-up box in
// lon/lat, else a gx:LatLonQuad of its corners, lower-left first, counter-clockwise.
func (k *kmlWriter) groundOverlay(img annotations.Image, p Placement, href string) error {
	w, h := float64(img.Width), float64(img.Height)
	corners := [4][2]float64{{0, h}, {w, h}, {w, 0}, {0, 0}} // lower-left, lower-right, upper-right, upper-left
	var ll [4][2]float64
	for i, c := range corners {
		lon, lat, err := p.Transformer.Forward(c[0], c[1])
		if err != nil {
			return fmt.Errorf("image corner: %w", err)
		}
		ll[i] = [2]float64{lon, lat}
	}
	k.raw("<GroundOverlay>\n")
	k.text("name", img.Title)
	k.raw("<Icon><href>" + xmlEscape(href) + "</href></Icon>\n")
	const eps = 1e-9
	northUp := math.Abs(ll[0][1]-ll[1][1]) < eps && math.Abs(ll[2][1]-ll[3][1]) < eps &&
		math.Abs(ll[0][0]-ll[3][0]) < eps && math.Abs(ll[1][0]-ll[2][0]) < eps && ll[3][1] > ll[0][1] && ll[1][0] > ll[0][0]
	for i := range ll {
		ll[i] = [2]float64{round7(ll[i][0]), round7(ll[i][1])}
	}
	if northUp {
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
		k.raw("<LatLonBox><north>" + f(ll[3][1]) + "</north><south>" + f(ll[0][1]) + "</south><east>" + f(ll[1][0]) +
			"</east><west>" + f(ll[0][0]) + "</west><rotation>0</rotation></LatLonBox>\n")
	} else {
		k.raw("<gx:LatLonQuad>")
		k.coords(ll[:])
		k.raw("</gx:LatLonQuad>\n")
	}
	k.raw("</GroundOverlay>\n")
	return nil
}

// kmlColor turns "#rrggbb" into KML's bbggrr (alpha goes in front).
func kmlColor(hex string) string {
	if len(hex) != 7 {
		return "ffffff"
	}
	return strings.ToLower(hex[5:7] + hex[3:5] + hex[1:3])
}

func styleID(hex string) string { return kmlID("label-", strings.TrimPrefix(hex, "#")) }

func provenanceData(img annotations.Image) [][2]string {
	s := img.Source
	return [][2]string{
		{"title", img.Title}, {"publisher", s.Publisher}, {"release_title", s.Title}, {"source_url", s.URL},
		{"released_at", s.ReleasedAt}, {"credit", s.Credit}, {"license", s.License},
		{"captured_from", img.CapturedFrom}, {"captured_to", img.CapturedTo}, {"location_name", img.LocationName},
		{"claim", s.Claim}, {"publisher_markup", strconv.FormatBool(img.PublisherMarkup)},
		{"image_id", img.ID}, {"image_sha256", img.SHA256},
	}
}

func provenanceText(img annotations.Image) string {
	s := img.Source
	var b strings.Builder
	fmt.Fprintf(&b, "%s", s.Publisher)
	if s.ReleasedAt != "" {
		fmt.Fprintf(&b, ", released %s", s.ReleasedAt)
	}
	if img.CapturedFrom != "" {
		fmt.Fprintf(&b, "; captured %s", img.CapturedFrom)
		if img.CapturedTo != "" {
			fmt.Fprintf(&b, " – %s", img.CapturedTo)
		}
	}
	if s.Credit != "" {
		fmt.Fprintf(&b, ". Credit: %s", s.Credit)
	}
	if s.Claim != "" {
		fmt.Fprintf(&b, ". Claim: %s", s.Claim)
	}
	return b.String()
}

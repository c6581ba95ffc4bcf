package formats

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/satmark/satmark/annotations"
)

// The IIIF Presentation API 3.0 export: a Manifest whose Canvases are images painted by
// satmark's IIIF Image API 3.0 service, each with an AnnotationPage of W3C Web
// Annotations, written in the forms Mirador 4 reads (src/lib/AnnotationItem.js and
// CanvasAnnotationDisplay.js): a SpecificResource target on the canvas, a FragmentSelector
// for a rectangle, an SvgSelector of <path> elements (the only element Mirador draws) for
// every shape, the label as a tagging body and the other text as HTML bodies.

// IIIFPresentationMediaType is the media type of IIIF Presentation 3.0 documents.
const IIIFPresentationMediaType = `application/ld+json;profile="` + iiifPresentationContext + `"`

const (
	iiifPresentationContext = "http://iiif.io/api/presentation/3/context.json"
	mediaFragments          = "http://www.w3.org/TR/media-frags/"
)

// IIIFCanvas is one image as a IIIF Canvas and the URIs that name it and what it refers to.
type IIIFCanvas struct {
	Image annotations.Image
	// ID is the canvas's URI: HTTP(S), without a fragment.
	ID string
	// Service is the image's IIIF Image API 3.0 service: the id in its info.json.
	Service string
	// TileFormat is the format the service prefers ("jpg" or "png").
	TileFormat string
	// Annotations is the URI of the canvas's AnnotationPage (WriteIIIFAnnotationPage).
	Annotations string
	// Page, when set, is the image's page in satmark (its annotator), which the metadata
	// links to.
	Page string
}

// languageMap is a IIIF language map: strings by language, "none" when it is not known.
type languageMap map[string][]string

func textIn(lang string, values ...string) languageMap { return languageMap{lang: values} }

type metadataEntry struct {
	Label languageMap `json:"label"`
	Value languageMap `json:"value"`
}

type iiifRef struct {
	ID     string    `json:"id"`
	Type   string    `json:"type"`
	PartOf []iiifRef `json:"partOf,omitempty"`
}

type imageService struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Profile string `json:"profile"`
}

type imageBody struct {
	ID      string         `json:"id"`
	Type    string         `json:"type"`
	Format  string         `json:"format"`
	Width   int            `json:"width"`
	Height  int            `json:"height"`
	Service []imageService `json:"service"`
}

type paintingAnnotation struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Motivation string    `json:"motivation"`
	Body       imageBody `json:"body"`
	Target     string    `json:"target"`
}

type paintingPage struct {
	ID    string               `json:"id"`
	Type  string               `json:"type"`
	Items []paintingAnnotation `json:"items"`
}

// provenanceFields are the resource properties that carry an image's provenance.
type provenanceFields struct {
	Metadata          []metadataEntry `json:"metadata,omitempty"`
	RequiredStatement *metadataEntry  `json:"requiredStatement,omitempty"`
	Rights            string          `json:"rights,omitempty"`
}

type iiifCanvas struct {
	ID     string      `json:"id"`
	Type   string      `json:"type"`
	Label  languageMap `json:"label"`
	Width  int         `json:"width"`
	Height int         `json:"height"`
	provenanceFields
	Items       []paintingPage `json:"items"`
	Annotations []iiifRef      `json:"annotations"`
}

type iiifManifest struct {
	Context string      `json:"@context"`
	ID      string      `json:"id"`
	Type    string      `json:"type"`
	Label   languageMap `json:"label"`
	provenanceFields
	Items []iiifCanvas `json:"items"`
}

// WriteIIIFManifest writes a IIIF Presentation API 3.0 Manifest with one Canvas per image,
// in the order given, each the image's size in full-resolution pixels (the pixel space of
// its annotations), painted by its image service, and referring to its annotation page.
// With one image, the manifest is labelled by the image's title and carries its provenance;
// with several, each canvas carries its own, and the manifest's required statement holds
// every credit.
func WriteIIIFManifest(w io.Writer, id string, canvases []IIIFCanvas) error {
	if len(canvases) == 0 {
		return fmt.Errorf("a manifest needs at least one image")
	}
	m := iiifManifest{Context: iiifPresentationContext, ID: id, Type: "Manifest"}
	for _, c := range canvases {
		m.Items = append(m.Items, canvasOf(c))
	}
	if len(canvases) == 1 {
		m.Label = m.Items[0].Label
		m.provenanceFields, m.Items[0].provenanceFields = m.Items[0].provenanceFields, provenanceFields{}
	} else {
		m.Label = textIn("en", fmt.Sprintf("%d images from satmark", len(canvases)))
		var credits []string
		seen := map[string]bool{}
		for _, c := range canvases {
			if cr := c.Image.Source.Credit; cr != "" && !seen[cr] {
				seen[cr] = true
				credits = append(credits, iiifText(cr))
			}
		}
		// The rights of the whole are known only when every image has the same.
		rights := m.Items[0].Rights
		for _, c := range m.Items {
			if c.Rights != rights {
				rights = ""
			}
		}
		if len(credits) > 0 {
			m.RequiredStatement = &metadataEntry{Label: textIn("en", "Credit"), Value: textIn("none", credits...)}
		}
		m.Rights = rights
	}
	return writeJSON(w, m)
}

func canvasOf(c IIIFCanvas) iiifCanvas {
	img := c.Image
	format, mediaType := "jpg", "image/jpeg"
	if c.TileFormat == "png" {
		format, mediaType = "png", "image/png"
	}
	return iiifCanvas{
		ID: c.ID, Type: "Canvas", Label: textIn("none", imageTitle(img)), Width: img.Width, Height: img.Height,
		provenanceFields: provenanceOfCanvas(c),
		Items: []paintingPage{{ID: c.ID + "/page", Type: "AnnotationPage", Items: []paintingAnnotation{{
			ID: c.ID + "/page/image", Type: "Annotation", Motivation: "painting", Target: c.ID,
			Body: imageBody{
				ID: c.Service + "/full/max/0/default." + format, Type: "Image", Format: mediaType,
				Width: img.Width, Height: img.Height,
				Service: []imageService{{ID: c.Service, Type: "ImageService3", Profile: "level2"}},
			},
		}}}},
		Annotations: []iiifRef{{ID: c.Annotations, Type: "AnnotationPage"}},
	}
}

func imageTitle(img annotations.Image) string {
	if img.Title != "" {
		return img.Title
	}
	if img.Filename != "" {
		return img.Filename
	}
	return img.ID
}

// provenanceOfCanvas is an image's provenance as IIIF shows it: the release's facts as
// metadata pairs, the credit as the required statement, the licence as rights when it is
// a URI the specification allows there (and in the metadata either way).
func provenanceOfCanvas(c IIIFCanvas) provenanceFields {
	img, s := c.Image, c.Image.Source
	var md []metadataEntry
	add := func(label, value string) {
		if value != "" {
			md = append(md, metadataEntry{Label: textIn("en", label), Value: textIn("none", value)})
		}
	}
	add("Publisher", iiifText(s.Publisher))
	add("Release", iiifText(s.Title))
	add("Released", iiifText(s.ReleasedAt))
	add("Source", iiifLinkText(s.URL))
	add("Licence", iiifLinkText(s.License))
	add("Captured", iiifText(CaptureWindow(img.CapturedFrom, img.CapturedTo)))
	add("Location", iiifText(img.LocationName))
	add("Claim", iiifText(s.Claim))
	add("Release notes", iiifText(s.Notes))
	if img.PublisherMarkup {
		add("Publisher markup", "yes: the publisher drew on the image")
	} else {
		add("Publisher markup", "no")
	}
	add("Original file", iiifText(img.Filename))
	add("SHA-256", img.SHA256)
	add("Coordinates", "full-resolution image pixels from the top-left corner, y down")
	add("In satmark", iiifLinkText(c.Page))
	p := provenanceFields{Metadata: md, Rights: RightsURI(s.License)}
	if s.Credit != "" {
		p.RequiredStatement = &metadataEntry{Label: textIn("en", "Credit"), Value: textIn("none", iiifText(s.Credit))}
	}
	return p
}

// CaptureWindow says when the image was captured: one date, a range
// ("2024-10-08 – 2024-10-13"), an open end ("from …", "until …"), or "" for none.
func CaptureWindow(from, to string) string {
	switch {
	case from == "" && to == "":
		return ""
	case to == "" || to == from:
		if to == "" {
			return "from " + from
		}
		return from
	case from == "":
		return "until " + to
	}
	return from + " – " + to
}

// RightsURI is a licence as IIIF's rights property (Image API 3.0 and Presentation API
// 3.0) may carry it: only a Creative Commons or RightsStatements.org URI; "" otherwise.
func RightsURI(license string) string {
	for _, p := range []string{"http://creativecommons.org/", "https://creativecommons.org/", "http://rightsstatements.org/", "https://rightsstatements.org/"} {
		if strings.HasPrefix(license, p) {
			return license
		}
	}
	return ""
}

// iiifText is user text as a IIIF property value. Clients treat a value that starts with
// "<" and ends with ">" as HTML, and Mirador renders every value as HTML; so text that
// HTML would change (a "<", an "&", a line break) is written as escaped HTML in a span,
// which shows the same text everywhere. Other text stays plain.
func iiifText(s string) string {
	if !strings.ContainsAny(s, "<&\n") {
		return s
	}
	return "<span>" + htmlLines(s) + "</span>"
}

// htmlLines escapes text for HTML, its line breaks as <br/>.
func htmlLines(s string) string {
	return strings.ReplaceAll(html.EscapeString(strings.TrimRight(s, "\n")), "\n", "<br/>")
}

// iiifLinkText is a URL as a link a viewer can follow, or any other text as iiifText.
func iiifLinkText(s string) string {
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") || strings.ContainsAny(s, " \t\n") {
		return iiifText(s)
	}
	e := html.EscapeString(s)
	return `<a href="` + e + `">` + e + `</a>`
}

// IIIFPage is what an annotation page needs to know of its canvas and the URIs it uses.
type IIIFPage struct {
	// ID is the page's own URI.
	ID     string
	Canvas IIIFCanvas
	// Manifest is the URI of a manifest the canvas is part of.
	Manifest string
	// AnnotationBase is the prefix of each annotation's URI; satmark's annotation id follows it.
	AnnotationBase string
}

type textualBody struct {
	Type    string `json:"type"`
	Value   string `json:"value"`
	Format  string `json:"format"`
	Purpose string `json:"purpose"`
}

type wadmAgent struct {
	Type     string `json:"type"`
	Nickname string `json:"nickname"`
}

type wadmSelector struct {
	Type       string `json:"type"`
	ConformsTo string `json:"conformsTo,omitempty"`
	Value      string `json:"value"`
}

type wadmTarget struct {
	Type     string         `json:"type"`
	Source   iiifRef        `json:"source"`
	Selector []wadmSelector `json:"selector"`
}

type wadmAnnotation struct {
	ID         string        `json:"id"`
	Type       string        `json:"type"`
	Motivation string        `json:"motivation"`
	Created    string        `json:"created"`
	Modified   string        `json:"modified"`
	Creator    wadmAgent     `json:"creator"`
	Body       []textualBody `json:"body"`
	Target     wadmTarget    `json:"target"`
}

// WriteIIIFAnnotationPage writes one image's annotations as a IIIF Presentation 3.0
// AnnotationPage of W3C Web Annotations on its canvas, streamed: each is called once and
// must call emit for every annotation of the image, in order. Each annotation has a
// tagging body with its label path, HTML bodies with its identification, note, confidence,
// review and free attributes (motivation "commenting"; "tagging" when there is only the
// label), and a target on the canvas whose selector is, for a rectangle, a Media
// Fragments xywh= box (whole pixels, widened to hold it) followed by an SVG path of its
// exact outline, and for every other shape the SVG path alone: a polygon's rings (holes
// run against the exterior, evenodd fill), a line's vertices, a point as a small circle
// about it. Coordinates are the canvas's: full-resolution pixels, y down.
func WriteIIIFAnnotationPage(w io.Writer, page IIIFPage, each func(emit func(annotations.Annotation) error) error) error {
	img := page.Canvas.Image
	bw := bufio.NewWriterSize(w, 64<<10)
	head, err := marshalJSON(struct {
		Context string      `json:"@context"`
		ID      string      `json:"id"`
		Type    string      `json:"type"`
		Label   languageMap `json:"label"`
	}{iiifPresentationContext, page.ID, "AnnotationPage", textIn("none", "Annotations: "+imageTitle(img))})
	if err != nil {
		return err
	}
	// The head without its closing brace, then the items.
	bw.Write(bytes.TrimSuffix(bytes.TrimRight(head, "\n"), []byte("}")))
	bw.WriteString(`,"items":[`)
	source := iiifRef{ID: page.Canvas.ID, Type: "Canvas"}
	if page.Manifest != "" {
		source.PartOf = []iiifRef{{ID: page.Manifest, Type: "Manifest"}}
	}
	src, err := marshalJSON(source)
	if err != nil {
		return err
	}
	src = bytes.TrimRight(src, "\n")
	var buf []byte
	n := 0
	err = each(func(a annotations.Annotation) error {
		if a.ImageID != img.ID {
			return fmt.Errorf("annotation %s belongs to image %s, not to the page's image %s", a.ID, a.ImageID, img.ID)
		}
		buf = appendWebAnnotation(buf[:0], webAnnotation(a, img, source, page.AnnotationBase), src, a, img)
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		bw.WriteByte('\n')
		_, err := bw.Write(buf)
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// webAnnotation is a's web annotation but for its target's selectors, which
// appendWebAnnotation writes from a itself.
func webAnnotation(a annotations.Annotation, img annotations.Image, source iiifRef, base string) wadmAnnotation {
	bodies := []textualBody{{Type: "TextualBody", Value: a.Label.PathString(), Format: "text/plain", Purpose: "tagging"}}
	describe := func(purpose, text string) {
		if text != "" {
			bodies = append(bodies, textualBody{Type: "TextualBody", Value: "<p>" + htmlLines(text) + "</p>", Format: "text/html", Purpose: purpose})
		}
	}
	describe("identifying", a.Identification)
	describe("commenting", a.Note)
	if a.Confidence != "" {
		describe("assessing", "Confidence: "+string(a.Confidence))
	}
	if a.ReviewStatus != "" && a.ReviewStatus != "draft" {
		review := "Review: " + a.ReviewStatus
		if r := reviewOf(a); r != nil {
			review += " by " + r.By + ", " + r.At.UTC().Format("2006-01-02")
			if r.Reason != "" {
				review += ": " + r.Reason
			}
		}
		describe("moderating", review)
	}
	describe("describing", attributeLines(a.Attributes))
	motivation := "commenting"
	if len(bodies) == 1 {
		motivation = "tagging"
	}
	return wadmAnnotation{
		ID: base + a.ID, Type: "Annotation", Motivation: motivation,
		Created: a.CreatedAt.UTC().Format(time.RFC3339), Modified: a.UpdatedAt.UTC().Format(time.RFC3339),
		Creator: wadmAgent{Type: "Person", Nickname: a.CreatedBy},
		Body:    bodies,
		Target:  wadmTarget{Type: "SpecificResource", Source: source}, // its selectors: appendSelectors
	}
}

// appendWebAnnotation appends w as marshalJSON writes it, without the newline, by hand
// (encoding/json's reflection cost most of a page of 100,000's time): source is w's
// target's source as marshalJSON writes it, and the target's selectors are a's
// (appendSelectors). TestWebAnnotationsAreMarshalJSONs checks.
func appendWebAnnotation(b []byte, w wadmAnnotation, source []byte, a annotations.Annotation, img annotations.Image) []byte {
	str := annotations.AppendJSONStringUnescapedHTML
	b = append(b, `{"id":`...)
	b = str(b, w.ID)
	b = append(b, `,"type":`...)
	b = str(b, w.Type)
	b = append(b, `,"motivation":`...)
	b = str(b, w.Motivation)
	b = append(b, `,"created":`...)
	b = str(b, w.Created)
	b = append(b, `,"modified":`...)
	b = str(b, w.Modified)
	b = append(b, `,"creator":{"type":`...)
	b = str(b, w.Creator.Type)
	b = append(b, `,"nickname":`...)
	b = str(b, w.Creator.Nickname)
	b = append(b, `},"body":`...)
	if w.Body == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range w.Body {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"type":`...)
			b = str(b, t.Type)
			b = append(b, `,"value":`...)
			b = str(b, t.Value)
			b = append(b, `,"format":`...)
			b = str(b, t.Format)
			b = append(b, `,"purpose":`...)
			b = str(b, t.Purpose)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"target":{"type":`...)
	b = str(b, w.Target.Type)
	b = append(b, `,"source":`...)
	b = append(b, source...)
	b = append(b, `,"selector":`...)
	b = appendSelectors(b, a, img)
	return append(b, "}}"...)
}

// attributeLines is the free attributes, one "name: value" a line, in name order; a
// string's value without its quotes.
func attributeLines(attrs map[string]json.RawMessage) string {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		v := string(attrs[k])
		var s string
		if json.Unmarshal(attrs[k], &s) == nil {
			v = s
		}
		lines[i] = k + ": " + v
	}
	return strings.Join(lines, "\n")
}

// appendSelectors appends where on the canvas an annotation lies (see
// WriteIIIFAnnotationPage) as the JSON array of its selectors. The SVG is written straight
// into its JSON string: its only character JSON escapes is the quote.
func appendSelectors(b []byte, a annotations.Annotation, img annotations.Image) []byte {
	b = append(b, '[')
	if a.Shape == annotations.ShapeRectangle && len(a.Geometry.Coordinates) > 0 {
		x0, y0, x1, y1 := extent(a.Geometry.Coordinates[0])
		fx0, fy0 := math.Max(0, math.Floor(x0)), math.Max(0, math.Floor(y0))
		fx1, fy1 := math.Min(float64(img.Width), math.Ceil(x1)), math.Min(float64(img.Height), math.Ceil(y1))
		b = append(b, `{"type":"FragmentSelector","conformsTo":"`+mediaFragments+`","value":"xywh=`...)
		for i, v := range [4]float64{fx0, fy0, fx1 - fx0, fy1 - fy0} {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(int(v)), 10)
		}
		b = append(b, `"},`...)
	}
	return append(appendSVGSelector(b, a, img), ']')
}

// appendSVGSelector appends the annotation drawn as one SVG path in the label's colour:
// Mirador draws a selector's <path> elements (stroke, fill and their opacities;
// stroke-width in screen pixels), and hit-tests clicks inside them.
func appendSVGSelector(b []byte, a annotations.Annotation, img annotations.Image) []byte {
	color := a.Label.Color
	if !isHexColor(color) {
		color = "#00bfff"
	}
	b = append(b, `{"type":"SvgSelector","value":"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"`...)
	b = strconv.AppendInt(b, int64(img.Width), 10)
	b = append(b, `\" height=\"`...)
	b = strconv.AppendInt(b, int64(img.Height), 10)
	b = append(b, `\"><path d=\"`...)
	fill := `\" fill-opacity=\"0.15\"`
	switch a.Geometry.Type {
	case "Point":
		p := a.Geometry.Coordinates[0][0]
		r := pointRadius(img)
		arc := func(b []byte, x float64) []byte {
			b = append(b, " A"...)
			b = appendSVGNum(b, r)
			b = append(b, ',')
			b = appendSVGNum(b, r)
			b = append(b, " 0 1,0 "...)
			b = appendSVGNum(b, x)
			b = append(b, ',')
			return appendSVGNum(b, p[1])
		}
		b = append(b, 'M')
		b = appendSVGNum(b, p[0]-r)
		b = append(b, ',')
		b = appendSVGNum(b, p[1])
		b = arc(b, p[0]+r)
		b = arc(b, p[0]-r)
		b = append(b, " Z"...)
		fill = `\" fill-opacity=\"0.5\"`
	case "LineString":
		b = appendSVGRun(b, a.Geometry.Coordinates[0], false)
		fill = ""
	default:
		rings := a.Geometry.Coordinates
		exteriorCW := clockwiseRing(rings[0])
		for i, ring := range rings {
			r := flatRing(ring)
			if i > 0 && clockwiseRing(ring) == exteriorCW {
				r = reversed(r)
			}
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendSVGRun(b, r, true)
		}
		fill += ` fill-rule=\"evenodd\"`
	}
	b = append(b, `\" stroke=\"`...)
	b = append(b, color...)
	b = append(b, `\" stroke-width=\"2\" fill=\"`...)
	if fill == "" {
		b = append(b, `none\"`...)
	} else {
		b = append(b, color...)
		b = append(b, fill...)
	}
	return append(b, `/></svg>"}`...)
}

// pointRadius is the radius in pixels of the circle a point is drawn as: 1/200 of the
// image's longer side, at least 2, so that it shows at the whole image's scale.
func pointRadius(img annotations.Image) float64 {
	return math.Max(2, float64(max(img.Width, img.Height))/200)
}

func appendSVGRun(b []byte, ps []annotations.Position, closed bool) []byte {
	for i, p := range ps {
		if i == 0 {
			b = append(b, 'M')
		} else {
			b = append(b, " L"...)
		}
		b = appendSVGNum(b, p[0])
		b = append(b, ',')
		b = appendSVGNum(b, p[1])
	}
	if closed {
		b = append(b, " Z"...)
	}
	return b
}

// svgNum writes a coordinate in full: the shortest decimal that reads back as the same
// float64.
func svgNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func appendSVGNum(b []byte, v float64) []byte { return strconv.AppendFloat(b, v, 'f', -1, 64) }

func isHexColor(s string) bool {
	if len(s) != 7 || s[0] != '#' {
		return false
	}
	for _, c := range s[1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// marshalJSON is json.Marshal without the escaping of <, > and & that only HTML needs:
// the SVG and HTML values stay readable.
func marshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

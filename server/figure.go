package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/figure"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/geo"
	"github.com/satmark/satmark/imagery"
)

// Figures to publish: a region of an image at a chosen size and resolution with the
// chosen annotations and their labels, a scale bar, a north arrow and a caption from the
// provenance, as PNG or PDF. Nothing is stored; viewers may make them.

// Limits of a figure: its width, and the picture's height, in pixels (the render limit
// of the image service), and its resolution.
const (
	figureMaxSide = imagery.IIIFMaxWidth / 2
	figureMinSide = 16
	figureMinDPI  = 72
	figureMaxDPI  = 600
)

// figureRequest is what a figure is made of, from the query (GET) or a JSON body (POST).
type figureRequest struct {
	Format      string     `json:"format"`      // png (default) or pdf
	Region      []float64  `json:"region"`      // x, y, w, h in image pixels; the whole image when left out
	Width       int        `json:"width"`       // of the figure, in pixels; the region's (at most the limit) when 0
	DPI         float64    `json:"dpi"`         // 150 when 0
	Annotations figureAnns `json:"annotations"` // "all" (default), "none", or ids
	Labels      *bool      `json:"labels"`      // set each annotation's label beside it (default true)
}

// figureAnns is the annotations a figure draws: all of them, or the ids listed.
type figureAnns struct {
	All bool
	IDs []string
}

func (a *figureAnns) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = parseFigureAnns(s)
		return nil
	}
	a.All = false
	return json.Unmarshal(b, &a.IDs)
}

func parseFigureAnns(s string) figureAnns {
	switch s = strings.TrimSpace(s); s {
	case "", "all":
		return figureAnns{All: true}
	case "none":
		return figureAnns{}
	}
	var ids []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return figureAnns{IDs: ids}
}

func (s *Server) figure(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	req := figureRequest{Annotations: figureAnns{All: true}}
	if c.Request().Method == http.MethodPost {
		if err := decodeStrictJSON(c, &req); err != nil {
			return err
		}
	} else if err := figureQuery(c, &req); err != nil {
		return err
	}
	// The region, in whole pixels, inside the image.
	if req.Region == nil {
		req.Region = []float64{0, 0, float64(img.Width), float64(img.Height)}
	}
	if len(req.Region) != 4 {
		return badRequest("region", "the region is x,y,w,h in image pixels")
	}
	for _, v := range req.Region {
		if !finite(v) {
			return badRequest("region", "the region is x,y,w,h in image pixels: numbers")
		}
	}
	x, y := int(math.Floor(req.Region[0])), int(math.Floor(req.Region[1]))
	x1, y1 := int(math.Ceil(req.Region[0]+req.Region[2])), int(math.Ceil(req.Region[1]+req.Region[3]))
	if req.Region[2] <= 0 || req.Region[3] <= 0 || x < 0 || y < 0 || x1 > img.Width || y1 > img.Height {
		return badRequest("region", "the region %g,%g %g×%g is not inside the %d×%d image: x and y at least 0, w and h above 0, x+w at most %d, y+h at most %d",
			req.Region[0], req.Region[1], req.Region[2], req.Region[3], img.Width, img.Height, img.Width, img.Height)
	}
	rw, rh := x1-x, y1-y
	// The size: the figure's width, the picture's height in proportion.
	if req.Width == 0 {
		req.Width = min(rw, figureMaxSide)
	}
	outW := req.Width
	outH := int(math.Round(float64(outW) * float64(rh) / float64(rw)))
	if outW < figureMinSide || outW > figureMaxSide || outH < 1 || outH > figureMaxSide {
		return badRequest("width", "a figure %d px wide of this %d×%d region would be %d×%d px: the width and the picture's height are at most %d px (and the width at least %d)",
			outW, rw, rh, outW, outH, figureMaxSide, figureMinSide)
	}
	if req.DPI == 0 {
		req.DPI = 150
	}
	if !(req.DPI >= figureMinDPI && req.DPI <= figureMaxDPI) {
		return badRequest("dpi", "the resolution is %d to %d dpi", figureMinDPI, figureMaxDPI)
	}
	switch req.Format {
	case "":
		req.Format = "png"
	case "png", "pdf":
	default:
		return badRequest("format", "a figure is png or pdf, not %q", req.Format)
	}

	ctx := c.Request().Context()
	anns, err := s.figureAnnotations(c, img.ID, req.Annotations)
	if err != nil {
		return err
	}
	p, err := s.placement(ctx, img)
	if err != nil {
		return err
	}
	pic, err := s.library.Region(ctx, img.SHA256, infoOf(img), x, y, rw, rh, outW, outH)
	if err != nil {
		return err
	}
	sx, sy := float64(outW)/float64(rw), float64(outH)/float64(rh)
	spec := figure.Spec{Picture: pic, DPI: req.DPI}
	labels := req.Labels == nil || *req.Labels
	var authors []string
	for _, a := range anns {
		spec.Shapes = append(spec.Shapes, figureShape(a, float64(x), float64(y), sx, sy, labels))
		if !slices.Contains(authors, a.CreatedBy) {
			authors = append(authors, a.CreatedBy)
		}
	}
	// The scale and north at the region's centre.
	cx, cy := float64(x)+float64(rw)/2, float64(y)+float64(rh)/2
	var notes []string
	switch {
	case p.Transformer != nil:
		if m, err := geo.LineLength(p.Transformer, [][2]float64{{cx - 0.5, cy}, {cx + 0.5, cy}}); err == nil && m > 0 {
			spec.MetresPerPixel = m / sx
		}
		if deg, err := geo.ImageDirection(p.Transformer, cx, cy, 0); err == nil {
			spec.North = &deg
		}
	case p.GSD != nil && *p.GSD > 0:
		spec.MetresPerPixel = *p.GSD / sx
		notes = append(notes, fmt.Sprintf("Scale from the stated ground sample distance (%s m a pixel).", strconv.FormatFloat(*p.GSD, 'f', -1, 64)))
	}
	if spec.MetresPerPixel == 0 {
		notes = append(notes, "No scale bar: the image is not georeferenced and has no ground sample distance.")
	}
	if spec.North == nil {
		notes = append(notes, "No north arrow: the image is not georeferenced, so its orientation is unknown.")
	}
	spec.Caption = figureCaption(img, authors, notes)
	fig, err := figure.Draw(spec)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	mediaType := "image/png"
	if req.Format == "pdf" {
		mediaType = "application/pdf"
		err = fig.PDF(&buf)
	} else {
		err = fig.PNG(&buf)
	}
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-figure.%s"`, img.ID, req.Format))
	h.Set("Satmark-Figure-Picture", fmt.Sprintf("%dx%d", outW, outH))
	if fig.ScaleBar != nil {
		h.Set("Satmark-Scale-Bar", fmt.Sprintf("%s m; %d px", strconv.FormatFloat(fig.ScaleBar.Metres, 'f', -1, 64), fig.ScaleBar.Pixels))
	}
	return c.Blob(http.StatusOK, mediaType, buf.Bytes())
}

// figureQuery reads a figure request from the query: format, region=x,y,w,h, width,
// dpi, annotations=all|none|id,id…, labels=0|1.
func figureQuery(c echo.Context, req *figureRequest) error {
	q := c.QueryParams()
	req.Format = q.Get("format")
	if v := q.Get("region"); v != "" {
		for _, part := range strings.Split(v, ",") {
			f, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
			if err != nil {
				return badRequest("region", "the region is x,y,w,h in image pixels, not %q", v)
			}
			req.Region = append(req.Region, f)
		}
	}
	for _, n := range []struct {
		name string
		into func(string) error
	}{
		{"width", func(v string) (err error) { req.Width, err = strconv.Atoi(v); return }},
		{"dpi", func(v string) (err error) { req.DPI, err = strconv.ParseFloat(v, 64); return }},
	} {
		if v := q.Get(n.name); v != "" {
			if err := n.into(v); err != nil {
				return badRequest(n.name, "%s must be a number, not %q", n.name, v)
			}
		}
	}
	if q.Has("annotations") {
		req.Annotations = parseFigureAnns(q.Get("annotations"))
	}
	if v := q.Get("labels"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return badRequest("labels", "labels is 1 or 0, not %q", v)
		}
		req.Labels = &b
	}
	return nil
}

// figureAnnotations loads the annotations a figure draws; ids that are not annotations
// of this image are a 400 naming them.
func (s *Server) figureAnnotations(c echo.Context, imageID string, want figureAnns) ([]annotations.Annotation, error) {
	if !want.All && len(want.IDs) == 0 {
		return nil, nil
	}
	all, err := s.store.Annotations(c.Request().Context(), annotations.AnnotationFilter{ImageIDs: []string{imageID}})
	if err != nil {
		return nil, err
	}
	if want.All {
		return all, nil
	}
	byID := make(map[string]annotations.Annotation, len(all))
	for _, a := range all {
		byID[a.ID] = a
	}
	var out []annotations.Annotation
	var unknown []string
	for _, id := range want.IDs {
		if a, ok := byID[id]; ok {
			out = append(out, a)
		} else {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return nil, badRequest("annotations", "not annotations of this image: %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

// figureShape puts an annotation in the picture's pixels: (px - x) × sx.
func figureShape(a annotations.Annotation, x, y, sx, sy float64, label bool) figure.Shape {
	sh := figure.Shape{Kind: "polygon", Color: labelColor(a.Label.Color)}
	switch a.Geometry.Type {
	case "Point":
		sh.Kind = "point"
	case "LineString":
		sh.Kind = "line"
	}
	for _, r := range a.Geometry.Coordinates {
		ring := make([][2]float64, len(r))
		for i, p := range r {
			ring[i] = [2]float64{(p[0] - x) * sx, (p[1] - y) * sy}
		}
		sh.Rings = append(sh.Rings, ring)
	}
	if label {
		sh.Label = a.Label.Name
		if a.Identification != "" {
			sh.Label += ": " + a.Identification
		}
	}
	return sh
}

// labelColor reads a label's #rrggbb colour; anything else is the annotator's orange.
func labelColor(s string) color.NRGBA {
	c := color.NRGBA{255, 140, 0, 255}
	if len(s) == 7 && s[0] == '#' {
		if v, err := strconv.ParseUint(s[1:], 16, 32); err == nil {
			c.R, c.G, c.B = uint8(v>>16), uint8(v>>8), uint8(v)
		}
	}
	return c
}

// figureCaption is the caption's paragraphs: what the image is, who published it and
// with what credit and licence, when it was captured, who annotated it, and notes.
func figureCaption(img annotations.Image, authors []string, notes []string) []string {
	var out []string
	title := img.Title
	if title == "" {
		title = img.Filename
	}
	if img.LocationName != "" {
		title += " — " + img.LocationName
	}
	out = append(out, title+".")
	src := img.Source
	var line []string
	if src.Publisher != "" {
		p := "Image: " + src.Publisher
		if src.ReleasedAt != "" {
			p += ", released " + src.ReleasedAt
		}
		line = append(line, p+".")
	}
	if src.Credit != "" {
		line = append(line, "Credit: "+strings.TrimSuffix(src.Credit, ".")+".")
	}
	if src.License != "" {
		line = append(line, "Licence: "+strings.TrimSuffix(src.License, ".")+".")
	}
	if w := formats.CaptureWindow(img.CapturedFrom, img.CapturedTo); w != "" {
		line = append(line, "Captured "+w+" (as claimed).")
	} else {
		line = append(line, "Capture date not given.")
	}
	out = append(out, strings.Join(line, " "))
	if len(authors) > 0 {
		out = append(out, "Annotations by "+strings.Join(authors, ", ")+" (satmark).")
	}
	if len(notes) > 0 {
		out = append(out, strings.Join(notes, " "))
	}
	return out
}

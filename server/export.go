package server

import (
	"mime"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// exportImageGeoJSON downloads one image's annotations as pixel-space GeoJSON.
func (s *Server) exportImageGeoJSON(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	f := annotations.AnnotationFilter{ImageIDs: []string{img.ID}}
	return s.writePixelGeoJSON(c, []annotations.Image{img}, f, "satmark-"+img.ID+"-pixel-coordinates.geojson")
}

// exportGeoJSON downloads the annotations of every image, or of the images named by
// ?image= (repeatable, or comma-separated), limited to ?label= (repeatable; an id, path
// or name; each label includes the labels below it).
func (s *Server) exportGeoJSON(c echo.Context) error {
	ctx := c.Request().Context()
	var f annotations.AnnotationFilter
	var images []annotations.Image
	seen := map[string]bool{}
	for _, id := range queryList(c, "image") {
		if !annotations.ValidID(id) {
			return notFound("image " + id)
		}
		if seen[id] {
			continue // an image named twice is still one image in the export
		}
		seen[id] = true
		img, err := s.store.Image(ctx, id)
		if err != nil {
			return err
		}
		images = append(images, img)
		f.ImageIDs = append(f.ImageIDs, id)
	}
	for _, ref := range c.QueryParams()["label"] {
		if ref = strings.TrimSpace(ref); ref == "" {
			continue
		}
		l, err := s.store.ResolveLabel(ctx, ref)
		if err != nil {
			return err
		}
		f.LabelIDs = append(f.LabelIDs, l.ID)
	}
	if len(f.ImageIDs) == 0 {
		var err error
		if images, err = s.store.Images(ctx); err != nil {
			return err
		}
	}
	return s.writePixelGeoJSON(c, images, f, "satmark-export-pixel-coordinates.geojson")
}

func (s *Server) writePixelGeoJSON(c echo.Context, images []annotations.Image, f annotations.AnnotationFilter, filename string) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, formats.PixelGeoJSONMediaType)
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	err := formats.WritePixelGeoJSON(c.Response(), images, func(emit func(annotations.Annotation) error) error {
		return s.store.EachAnnotation(c.Request().Context(), f, emit)
	})
	if err != nil && c.Response().Committed {
		// The status is sent; a cut-off body is the only signal left. Log the cause.
		s.log.Error("export stopped part-way", "file", filename, "err", err)
		return nil
	}
	return err
}

// queryList returns the values of a repeatable query parameter, also split at commas.
func queryList(c echo.Context, name string) []string {
	var out []string
	for _, v := range c.QueryParams()[name] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

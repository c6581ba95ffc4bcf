package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/imagery"
)

// The IIIF Presentation API 3.0 export (formats.WriteIIIFManifest): a manifest of one
// image or of several, and each image's annotation page of W3C Web Annotations, for
// Mirador and other IIIF viewers. Like the image service they are read from other sites,
// so they answer with CORS headers, and their preflights (a viewer sending an API token)
// are anyone's.

// presentationPath says whether a path is one of the IIIF Presentation routes, whose
// answers, errors included, carry CORS headers.
func presentationPath(p string) bool {
	if strings.HasPrefix(p, "/api/v1/iiif/") {
		return true
	}
	rest, ok := strings.CutPrefix(p, "/api/v1/images/")
	return ok && strings.Contains(rest, "/iiif/")
}

// iiifPreflight answers a CORS preflight of a IIIF Presentation route.
func (s *Server) iiifPreflight(c echo.Context) error {
	h := c.Response().Header()
	h["Access-Control-Allow-Origin"] = hdrAllowOrigin
	h.Set("Access-Control-Allow-Methods", "GET, OPTIONS")
	if want := c.Request().Header.Get("Access-Control-Request-Headers"); want != "" {
		h.Set("Access-Control-Allow-Headers", want)
	}
	h.Set("Access-Control-Max-Age", "86400")
	return c.NoContent(http.StatusNoContent)
}

// presentationFilter reads what the annotation pages keep: ?status= (see statusFilter)
// and ?label= (repeatable; an id, path or name, with the labels below it).
func (s *Server) presentationFilter(c echo.Context) (annotations.AnnotationFilter, error) {
	var f annotations.AnnotationFilter
	var err error
	if f.Statuses, err = statusFilter(c); err != nil {
		return f, err
	}
	f.LabelIDs, err = s.labelIDs(c.Request().Context(), c.QueryParams()["label"])
	return f, err
}

// presentationQuery is a filter as the query of the URLs the documents give each other,
// so that a viewer following them sees what the manifest was asked for.
func presentationQuery(f annotations.AnnotationFilter) url.Values {
	q := url.Values{}
	if len(f.Statuses) > 0 {
		q.Set("status", strings.Join(f.Statuses, ","))
	}
	if len(f.LabelIDs) > 0 {
		q.Set("label", strings.Join(f.LabelIDs, ","))
	}
	return q
}

func withQuery(u string, q url.Values) string {
	if len(q) == 0 {
		return u
	}
	return u + "?" + q.Encode()
}

// presentationBase is where an image's IIIF Presentation resources live.
func (s *Server) presentationBase(c echo.Context, imageID string) string {
	return s.baseURL(c) + "/api/v1/images/" + imageID + "/iiif"
}

// canvasOf describes an image as a canvas. Its pyramid must be built, or be being built
// again (the one it replaces is served meanwhile): a manifest whose image service would
// answer nothing is not given out. Until then it is a 503 with Retry-After; after a failed
// build, a 500 that says so (see notReady).
func (s *Server) canvasOf(c echo.Context, img annotations.Image, query url.Values) (formats.IIIFCanvas, error) {
	m, err := s.library.Pyramid(img.SHA256)
	switch {
	case errors.Is(err, imagery.ErrNoPyramid) && img.Pyramid.Ready():
		return formats.IIIFCanvas{}, s.lostPyramid(c, img.ID, img.SHA256)
	case errors.Is(err, imagery.ErrNoPyramid) && img.Pyramid.State == annotations.JobFailed:
		return formats.IIIFCanvas{}, &apiError{Status: http.StatusInternalServerError, Code: "pyramid_failed",
			Message: fmt.Sprintf("image %s has no manifest: its tiles could not be prepared: %s (POST /api/v1/images/%s/pyramid builds them again)", img.ID, img.Pyramid.Error, img.ID)}
	case errors.Is(err, imagery.ErrNoPyramid):
		return formats.IIIFCanvas{}, &apiError{Status: http.StatusServiceUnavailable, Code: "not_ready", RetryAfter: 3,
			Message: fmt.Sprintf("the tiles of image %s, which the manifest's image service serves, are being prepared (%s, %.0f%%); try again shortly", img.ID, img.Pyramid.State, 100*img.Pyramid.Progress)}
	case err != nil:
		return formats.IIIFCanvas{}, err
	}
	base := s.presentationBase(c, img.ID)
	return formats.IIIFCanvas{
		Image: img, ID: base + "/canvas", Service: s.baseURL(c) + iiifPrefix + img.ID, TileFormat: m.Format,
		Annotations: withQuery(base+"/annotations.json", query), Page: s.baseURL(c) + "/images/" + img.ID,
	}, nil
}

// writePresentation sends a IIIF Presentation document, readable from any site.
func writePresentation(c echo.Context) {
	h := c.Response().Header()
	h["Access-Control-Allow-Origin"] = hdrAllowOrigin
	h.Set(echo.HeaderContentType, formats.IIIFPresentationMediaType)
	h.Set("Cache-Control", "private, no-cache")
	c.Response().WriteHeader(http.StatusOK)
}

// presentationImage reads the image in the path and what of its annotations to keep.
func (s *Server) presentationImage(c echo.Context) (annotations.Image, annotations.AnnotationFilter, url.Values, error) {
	img, err := s.imageParam(c)
	if err != nil {
		return img, annotations.AnnotationFilter{}, nil, err
	}
	f, err := s.presentationFilter(c)
	f.ImageIDs = []string{img.ID}
	return img, f, presentationQuery(f), err
}

// iiifImageManifest answers one image's manifest.
func (s *Server) iiifImageManifest(c echo.Context) error {
	img, _, query, err := s.presentationImage(c)
	if err != nil {
		return err
	}
	canvas, err := s.canvasOf(c, img, query)
	if err != nil {
		return err
	}
	writePresentation(c)
	return s.streamed(c, "manifest.json", formats.WriteIIIFManifest(c.Response(), withQuery(s.presentationBase(c, img.ID)+"/manifest.json", query), []formats.IIIFCanvas{canvas}))
}

// iiifManifest answers a manifest of the images named by ?image= (repeatable, or
// comma-separated), one canvas each, in the order named. Unlike the other exports it has
// no "every image" default: a manifest is given out only when all its images' tiles are
// ready, and one upload still building would hold back the whole library's.
func (s *Server) iiifManifest(c echo.Context) error {
	if len(queryList(c, "image")) == 0 {
		return badRequest("image", "name the images the manifest shows: ?image=ID (repeatable, or comma-separated)")
	}
	images, f, err := s.exportSelection(c)
	if err != nil {
		return err
	}
	query := presentationQuery(f)
	canvases := make([]formats.IIIFCanvas, len(images))
	ids := make([]string, len(images))
	for i, img := range images {
		if canvases[i], err = s.canvasOf(c, img, query); err != nil {
			return err
		}
		ids[i] = img.ID
	}
	self := url.Values{"image": {strings.Join(ids, ",")}}
	for k, v := range query {
		self[k] = v
	}
	writePresentation(c)
	return s.streamed(c, "manifest.json", formats.WriteIIIFManifest(c.Response(), withQuery(s.baseURL(c)+"/api/v1/iiif/manifest.json", self), canvases))
}

// iiifAnnotationPage answers one image's annotations as an annotation page on its canvas.
// It needs no pyramid: the annotations are there before the tiles are.
func (s *Server) iiifAnnotationPage(c echo.Context) error {
	img, f, query, err := s.presentationImage(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	decisions, err := s.decisionsOf(ctx, []annotations.Image{img})
	if err != nil {
		return err
	}
	base := s.presentationBase(c, img.ID)
	page := formats.IIIFPage{
		ID:             withQuery(base+"/annotations.json", query),
		Canvas:         formats.IIIFCanvas{Image: img, ID: base + "/canvas"},
		Manifest:       withQuery(base+"/manifest.json", query),
		AnnotationBase: s.baseURL(c) + "/api/v1/annotations/",
	}
	writePresentation(c)
	err = formats.WriteIIIFAnnotationPage(c.Response(), page, func(emit func(annotations.Annotation) error) error {
		return s.store.EachPreparedAnnotation(ctx, f, func(a *annotations.Annotation) {
			a.Decision = found(decisions, a.ID)
		}, emit)
	})
	return s.streamed(c, "annotations.json", err)
}

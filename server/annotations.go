package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// decodeAnnotationInput reads an annotation body. NaN or Infinity inside the geometry
// is invalid content (422, said by the store); anywhere else the body is not JSON (400).
func decodeAnnotationInput(c echo.Context) (annotations.AnnotationInput, error) {
	var in annotations.AnnotationInput
	nonFinite, err := decodeJSON(c, &in)
	if err != nil {
		return in, err
	}
	return in, nonFiniteOutside(nonFinite, in.Geometry)
}

func (s *Server) createAnnotation(c echo.Context) error {
	actor, err := s.actor(c)
	if err != nil {
		return err
	}
	imageID := c.Param("id")
	if !annotations.ValidID(imageID) {
		return notFound("image")
	}
	in, err := decodeAnnotationInput(c)
	if err != nil {
		// A missing image is a 404 whatever the body says, as when it was looked up first.
		if _, ierr := s.imageIDParam(c); ierr != nil {
			return ierr
		}
		return err
	}
	// The store looks the image up (not in the trash) first in the write's transaction,
	// with the error imageIDParam gives: a query of its own before it was about 2.5 % of the
	// server's CPU under bench/load, where 4 requests in 10 are creates.
	a, err := s.store.CreateAnnotation(c.Request().Context(), actor, imageID, in)
	if err != nil {
		return err
	}
	if err := s.withGround(c.Request().Context(), &a); err != nil {
		return err
	}
	s.announce(c, annotationEvent("annotation.created", a))
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/annotations/"+a.ID)
	c.Response().Header().Set("ETag", versionETag(a.Version))
	return writeAnnotation(c, http.StatusCreated, a)
}

func (s *Server) annotationParam(c echo.Context) (annotations.Annotation, error) {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return annotations.Annotation{}, notFound("annotation")
	}
	return s.store.Annotation(c.Request().Context(), id)
}

func (s *Server) getAnnotation(c echo.Context) error {
	a, err := s.annotationParam(c)
	if err != nil {
		return err
	}
	if err := s.withGround(c.Request().Context(), &a); err != nil {
		return err
	}
	c.Response().Header().Set("ETag", versionETag(a.Version))
	return writeAnnotation(c, http.StatusOK, a)
}

func versionETag(v int) string { return `"` + strconv.Itoa(v) + `"` }

// writeAnnotation answers a as c.JSON does, to the byte: AppendJSON writes what
// encoding/json does, which c.JSON would then have read through once more to compact it
// (3 % of the server's CPU under bench/load, where most answers are one
// annotation). ?pretty is left to c.JSON.
func writeAnnotation(c echo.Context, code int, a annotations.Annotation) error {
	if _, pretty := c.QueryParams()["pretty"]; pretty || c.Echo().Debug {
		return c.JSON(code, a)
	}
	b, err := a.AppendJSON(make([]byte, 0, 1024))
	if err != nil {
		return err
	}
	return c.Blob(code, echo.MIMEApplicationJSON, append(b, '\n'))
}

// updateAnnotation changes an annotation. The version it was based on comes in the body
// or in If-Match; a stale one answers 412 with the current annotation beside the error.
// The store reads the annotation in the write's transaction: no read of it before.
func (s *Server) updateAnnotation(c echo.Context) error {
	actor, err := s.actor(c)
	if err != nil {
		return err
	}
	id, err := annotationIDParam(c)
	if err != nil {
		return err
	}
	in, err := decodeAnnotationInput(c)
	if err != nil {
		return s.unlessMissing(c, id, err)
	}
	if in.Version, err = basedOn(c, "version", in.Version); err != nil {
		return s.unlessMissing(c, id, err)
	}
	a, err := s.store.UpdateAnnotation(c.Request().Context(), actor, id, in)
	if err != nil {
		return s.withCurrent(c, id, err)
	}
	if err := s.withGround(c.Request().Context(), &a); err != nil {
		return err
	}
	if a.Version != *in.Version { // else nothing changed: the store answered the version given
		s.announce(c, annotationEvent("annotation.updated", a))
	}
	c.Response().Header().Set("ETag", versionETag(a.Version))
	return writeAnnotation(c, http.StatusOK, a)
}

// annotationIDParam is the path's annotation id; one of a shape the store never hands
// out is a 404 at once.
func annotationIDParam(c echo.Context) (string, error) {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return "", notFound("annotation")
	}
	return id, nil
}

// unlessMissing answers a request refused before the store was asked (err, e.g. a bad
// body) with a 404 instead when the annotation does not exist, as when its check came
// first.
func (s *Server) unlessMissing(c echo.Context, id string, err error) error {
	if _, lookupErr := s.store.Annotation(c.Request().Context(), id); errors.Is(lookupErr, annotations.ErrNotFound) {
		return lookupErr
	}
	return err
}

// withCurrent attaches the annotation as it now is to a stale-version error, so the
// client can show what the other person saved.
func (s *Server) withCurrent(c echo.Context, id string, err error) error {
	var stale *annotations.StaleVersionError
	if !errors.As(err, &stale) {
		return err
	}
	ae := classify(err)
	if cur, lookupErr := s.store.Annotation(c.Request().Context(), id); lookupErr == nil {
		// With its ground measures, as every other answer carries them (when they can be had).
		_ = s.withGround(c.Request().Context(), &cur)
		ae.Current = cur
	}
	return ae
}

func (s *Server) deleteAnnotation(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id, err := annotationIDParam(c)
	if err != nil {
		return err
	}
	query, err := queryVersion(c)
	if err != nil {
		return s.unlessMissing(c, id, err)
	}
	version, err := basedOn(c, "version", query)
	if err != nil {
		return s.unlessMissing(c, id, err)
	}
	gone, err := s.store.DeleteAnnotationReturning(c.Request().Context(), by, id, version)
	if err != nil {
		return s.withCurrent(c, id, err)
	}
	s.announce(c, annotationEvent("annotation.deleted", gone))
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) annotationHistory(c echo.Context) error {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("annotation")
	}
	revs, err := s.store.History(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, revs)
}

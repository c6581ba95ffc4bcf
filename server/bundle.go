package server

import (
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/bundle"
)

// exportBundle downloads an image's evidence bundle (package bundle): its original, its
// provenance, its annotations with their whole history and its audit trail, hashed.
func (s *Server) exportBundle(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	place, err := s.placement(ctx, img)
	if err != nil {
		return err
	}
	by, err := s.actor(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/zip")
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": "satmark-evidence-" + img.ID + ".zip"}))
	c.Response().WriteHeader(http.StatusOK)
	err = bundle.Write(ctx, c.Response(), bundle.Source{Store: s.store, Originals: s.library, Image: img, Place: place,
		By: by, Build: Build(), Now: time.Now()})
	return s.streamed(c, "evidence bundle of "+img.ID, err)
}

package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// The label taxonomy: listing, creating, renaming and removing labels.

func (s *Server) listLabels(c echo.Context) error {
	labels, err := s.store.Labels(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, labels)
}

func (s *Server) createLabel(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	var in annotations.LabelInput
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	l, err := s.store.CreateLabel(c.Request().Context(), by, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, l)
}

func (s *Server) updateLabel(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("label")
	}
	var in annotations.LabelInput
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	l, err := s.store.UpdateLabel(c.Request().Context(), by, id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

func (s *Server) deleteLabel(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("label")
	}
	if err := s.store.DeleteLabel(c.Request().Context(), by, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// How an image is adjusted on screen (brightness, contrast, saturation, gamma, a levels
// stretch): GET says what is saved (neutral when nothing is), PUT saves an analyst's
// choice for everyone. The tiles do not change; the viewer applies them.

// adjustmentsRequest is the body of PUT /api/v1/images/{id}/adjustments: what it leaves
// out is neutral (0, gamma 1, no stretch).
type adjustmentsRequest struct {
	Brightness *float64            `json:"brightness"`
	Contrast   *float64            `json:"contrast"`
	Saturation *float64            `json:"saturation"`
	Gamma      *float64            `json:"gamma"`
	Stretch    *annotations.Levels `json:"stretch"`
}

func (s *Server) getAdjustments(c echo.Context) error {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("image")
	}
	a, err := s.store.Adjustments(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a)
}

func (s *Server) putAdjustments(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("image")
	}
	var req adjustmentsRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	a := annotations.NeutralAdjustments()
	for _, f := range []struct{ from, to *float64 }{
		{req.Brightness, &a.Brightness}, {req.Contrast, &a.Contrast}, {req.Saturation, &a.Saturation}, {req.Gamma, &a.Gamma},
	} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	a.Stretch = req.Stretch
	saved, err := s.store.SetAdjustments(c.Request().Context(), by, id, a)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, saved)
}

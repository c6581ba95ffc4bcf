package server

import (
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Search coverage: a grid over an image whose cells analysts mark as searched. The grid
// is stored in image pixels; the answer says how many metres a pixel is, when the image
// has a ground sample distance or a georeference, so a page can offer cells in metres.

// coverageAnswer is the answer of every coverage route.
type coverageAnswer struct {
	annotations.Coverage
	// MetresPerPx is the ground size of one pixel: the ground sample distance, else the
	// georeference's at the image's centre (the mean of a step across and one down);
	// absent when neither is known.
	MetresPerPx *float64 `json:"metres_per_px,omitempty"`
	Basis       string   `json:"basis,omitempty"` // "gsd" or "georeference"
}

// coverageGridRequest is the body of PUT /api/v1/images/{id}/coverage/grid.
type coverageGridRequest struct {
	CellPx *int `json:"cell_px"`
	Clear  bool `json:"clear"`
}

func (s *Server) coverageAnswer(c echo.Context, img annotations.Image, cov annotations.Coverage) (coverageAnswer, error) {
	answer := coverageAnswer{Coverage: cov}
	p, err := s.placement(c.Request().Context(), img)
	if err != nil {
		return answer, err
	}
	switch {
	case p.Transformer != nil:
		if m, _, err := metresPerPixel(p.Transformer, img.Width, img.Height); err == nil && m > 0 && !math.IsInf(m, 0) {
			answer.MetresPerPx, answer.Basis = &m, "georeference"
		}
	case p.GSD != nil:
		answer.MetresPerPx, answer.Basis = p.GSD, "gsd"
	}
	return answer, nil
}

func (s *Server) getCoverage(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	cov, err := s.store.Coverage(c.Request().Context(), img.ID)
	if err != nil {
		return err
	}
	answer, err := s.coverageAnswer(c, img, cov)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, answer)
}

func (s *Server) putCoverageGrid(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	var req coverageGridRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	if req.CellPx == nil {
		return badRequest("cell_px", `say the cells' size in image pixels: {"cell_px": 256}`)
	}
	cov, err := s.store.SetCoverageGrid(c.Request().Context(), by, img.ID, *req.CellPx, req.Clear)
	if err != nil {
		return err
	}
	answer, err := s.coverageAnswer(c, img, cov)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, answer)
}

func (s *Server) putCoverageCell(c echo.Context) error    { return s.markCoverageCell(c, true) }
func (s *Server) deleteCoverageCell(c echo.Context) error { return s.markCoverageCell(c, false) }

func (s *Server) markCoverageCell(c echo.Context, searched bool) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	col, err := strconv.Atoi(c.Param("col"))
	if err != nil {
		return badRequest("col", "the column %q is not a whole number", c.Param("col"))
	}
	row, err := strconv.Atoi(c.Param("row"))
	if err != nil {
		return badRequest("row", "the row %q is not a whole number", c.Param("row"))
	}
	cov, err := s.store.MarkCoverageCell(c.Request().Context(), by, img.ID, col, row, searched)
	if err != nil {
		return err
	}
	answer, err := s.coverageAnswer(c, img, cov)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, answer)
}

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/match"
)

// Suggesting control points: an image that is not placed yet is matched with one that
// is (package match), and the features they share become proposed control points, each
// with its place on the earth read through the placed image's transform.

// suggestion is one proposed control point.
type suggestion struct {
	Pixel          [2]float64 `json:"pixel"`
	LonLat         [2]float64 `json:"lonlat"`
	ReferencePixel [2]float64 `json:"reference_pixel"`
	Score          float64    `json:"score"` // patch correlation, up to 1
}

type suggestionsView struct {
	Reference string       `json:"reference"`
	Points    []suggestion `json:"points"`
	Matches   int          `json:"matches"`
	Inliers   int          `json:"inliers"`
	Model     string       `json:"model"`
	RMSPixels float64      `json:"rms_px"`
}

const maxSuggested = 100

func (s *Server) suggestGeoreference(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Reference string `json:"reference"`
		MaxPoints *int   `json:"max_points"`
	}
	if _, err := decodeJSON(c, &in); err != nil {
		return err
	}
	n := 16
	if in.MaxPoints != nil {
		if n = *in.MaxPoints; n < 4 || n > maxSuggested {
			return &annotations.ValidationError{Field: "max_points", Message: fmt.Sprintf("ask for 4 to %d points, not %d", maxSuggested, n)}
		}
	}
	ctx := c.Request().Context()
	ref, err := s.referenceImage(ctx, img, in.Reference)
	if err != nil {
		return err
	}
	p, err := s.placement(ctx, ref)
	if err != nil {
		return err
	}
	if !p.Georeferenced() {
		return &annotations.ValidationError{Field: "reference", Message: fmt.Sprintf("image %s is not placed on the earth: suggest points from one that is", ref.ID)}
	}
	src, err := s.matchSource(img)
	if err != nil {
		return err
	}
	refSrc, err := s.matchSource(ref)
	if err != nil {
		return err
	}
	if err := s.takeMatchingTurn(ctx); err != nil {
		return err
	}
	res, err := match.Match(src, refSrc, match.Options{MaxPoints: n})
	<-s.matching
	var no *match.NoMatchError
	if errors.As(err, &no) {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "no_match", Field: "reference", Message: no.Reason}
	}
	if err != nil {
		return err
	}
	v := suggestionsView{Reference: ref.ID, Points: []suggestion{}, Matches: res.Matches, Inliers: res.Inliers, Model: "affine", RMSPixels: res.RMS}
	for _, pt := range res.Points {
		lon, lat, err := p.Transformer.Forward(pt.ReferencePixel[0], pt.ReferencePixel[1])
		if err != nil {
			continue // beyond where the reference's transform is defined
		}
		v.Points = append(v.Points, suggestion{Pixel: pt.Pixel, LonLat: [2]float64{lon, lat}, ReferencePixel: pt.ReferencePixel, Score: pt.Score})
	}
	return c.JSON(http.StatusOK, v)
}

// referenceImage is the image named to match with: another image, in the library.
func (s *Server) referenceImage(ctx context.Context, img annotations.Image, id string) (annotations.Image, error) {
	switch {
	case id == "":
		return annotations.Image{}, &annotations.ValidationError{Field: "reference", Message: "say which placed image to match with: \"reference\", its id"}
	case id == img.ID:
		return annotations.Image{}, &annotations.ValidationError{Field: "reference", Message: "an image cannot be matched with itself: name another, placed, image of the same place"}
	case !annotations.ValidID(id):
		return annotations.Image{}, &annotations.ValidationError{Field: "reference", Message: fmt.Sprintf("%q is not an image id", id)}
	}
	ref, err := s.store.Image(ctx, id)
	if errors.Is(err, annotations.ErrNotFound) {
		return ref, &annotations.ValidationError{Field: "reference", Message: fmt.Sprintf("there is no image %s", id)}
	}
	return ref, err
}

// takeMatchingTurn waits for one of the slots of the image work that takes seconds of
// processor time (matching, find similar), or for the request to end; the caller gives
// the slot back with <-s.matching.
func (s *Server) takeMatchingTurn(ctx context.Context) error {
	select {
	case s.matching <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// matchSource reads an image's pyramid for matching; the pyramid must be built.
func (s *Server) matchSource(img annotations.Image) (match.Source, error) {
	m, err := s.library.Pyramid(img.SHA256)
	if errors.Is(err, imagery.ErrNoPyramid) {
		return nil, notReady(img.Pyramid)
	}
	if err != nil {
		return nil, err
	}
	return pyramidSource{s: s, sha: img.SHA256, info: infoOf(img), m: m}, nil
}

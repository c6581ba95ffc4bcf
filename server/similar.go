package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/similar"
)

// Find similar: from one annotation, the image is searched for places that look like it
// (package similar), and they are stored as suggestions for an analyst to accept (each
// becomes an annotation) or reject. Until accepted, a suggestion is in no export.

// similarView is the answer to a search: the suggestions it stored, best first, what it
// searched, and a message when it found nothing.
type similarView struct {
	Suggestions []annotations.Suggestion `json:"suggestions"`
	Message     string                   `json:"message,omitempty"`
	Search      similarSearch            `json:"search"`
}

type similarSearch struct {
	Threshold float64 `json:"threshold"`
	Level     int     `json:"level"`     // the pyramid level searched, coarse
	Refined   int     `json:"refined"`   // and the one the candidates were refined on
	Rotations int     `json:"rotations"` // over a half turn (both ends of each are tried)
	Places    int     `json:"places"`    // compared per rotation
	Peaks     int     `json:"peaks"`     // coarse peaks judged on the finer level
	Excluded  int     `json:"excluded"`  // places left out: annotations and suggestions of the label already there
	Millis    int64   `json:"ms"`        // how long the search took
}

const defaultSimilarMax = 50

func (s *Server) findSimilar(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	src, err := s.annotationParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Max       *int     `json:"max"`
		Threshold *float64 `json:"threshold"`
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, 1<<20))
	if err != nil {
		return cutShort("", err)
	}
	if len(bytes.TrimSpace(body)) > 0 {
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		if err := decodeStrictJSON(c, &in); err != nil {
			return err
		}
	}
	opt := similar.Options{Threshold: similar.DefaultThreshold, Max: defaultSimilarMax}
	if in.Threshold != nil {
		if opt.Threshold = *in.Threshold; !(opt.Threshold > 0 && opt.Threshold < 1) {
			return badRequest("threshold", "threshold: %g is not a score: give more than 0 and less than 1 (a correlation; %.2f by default)", opt.Threshold, similar.DefaultThreshold)
		}
	}
	if in.Max != nil {
		if opt.Max = *in.Max; opt.Max < 1 || opt.Max > annotations.MaxSuggestionsPerSearch {
			return badRequest("max", "max: ask for 1 to %d suggestions, not %d", annotations.MaxSuggestionsPerSearch, opt.Max)
		}
	}
	if src.Shape == annotations.ShapePoint || src.Shape == annotations.ShapeLine {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "no_area", Field: "shape",
			Message: fmt.Sprintf("a %s has no area to search with: find similar needs the object's extent, so draw a rectangle, a rotated rectangle (a ship along its side) or an outline around it and search from that", src.Shape)}
	}
	ctx := c.Request().Context()
	img, err := s.store.Image(ctx, src.ImageID)
	if err != nil {
		return err
	}
	m, err := s.library.Pyramid(img.SHA256)
	if errors.Is(err, imagery.ErrNoPyramid) {
		return notReady(img.Pyramid)
	}
	if err != nil {
		return err
	}
	template := templateRing(src)
	opt.Exclude, err = s.similarExclusions(ctx, src)
	if err != nil {
		return err
	}
	if err := s.takeMatchingTurn(ctx); err != nil {
		return err
	}
	start := time.Now()
	res, err := similar.Search(levelsOf{s: s, img: img, m: m}, template, opt)
	elapsed := time.Since(start)
	<-s.matching
	switch {
	case errors.Is(err, similar.ErrTooLarge):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "too_large", Field: "geometry",
			Message: "the annotation is about as large as the image: there is no other place in it for something of its size"}
	case errors.Is(err, similar.ErrTooSmall):
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "too_small", Field: "geometry",
			Message: fmt.Sprintf("the annotation is too small to search this %d × %d image for: something %.0f pixels across is seen only on a level of more than %d pixels; box a larger object", img.Width, img.Height, minSide(template), similar.MaxLevelPixels)}
	}
	if err != nil {
		return err
	}
	var found []annotations.FoundPlace
	for _, cand := range res.Candidates {
		f := placeLike(src, template, cand)
		if f.Geometry.Validate(f.Shape, img.Width, img.Height) != nil {
			continue // a turned outline that leaves the image at its edge
		}
		found = append(found, f)
	}
	view := similarView{Suggestions: []annotations.Suggestion{}, Search: similarSearch{
		Threshold: opt.Threshold, Level: res.Level, Refined: res.Refined, Rotations: res.Rotations, Places: res.Positions,
		Peaks: res.Peaks, Excluded: len(opt.Exclude), Millis: elapsed.Milliseconds(),
	}}
	s.log.Info("find similar", "annotation", src.ID, "image", img.ID, "found", len(found), "result", res.String(), "took", elapsed.Round(time.Millisecond))
	if len(found) == 0 {
		view.Message = fmt.Sprintf("nothing else in the image looks like this %s (no place scored %.2f or more, besides those already annotated or suggested)",
			src.Label.PathString(), opt.Threshold)
		return c.JSON(http.StatusOK, view)
	}
	if view.Suggestions, err = s.store.AddSuggestions(ctx, by, src, found); err != nil {
		return err
	}
	s.announce(c, suggestionsEvent(src, view.Suggestions))
	return c.JSON(http.StatusOK, view)
}

// templateRing is the rectangle searched for: a box's own ring (a rotated rectangle keeps
// its rotation), an outline's bounding box.
func templateRing(a annotations.Annotation) [][2]float64 {
	ring := a.Geometry.Coordinates[0]
	if a.Shape == annotations.ShapeRectangle || a.Shape == annotations.ShapeRotatedRectangle {
		out := make([][2]float64, len(ring))
		for i, p := range ring {
			out[i] = [2]float64(p)
		}
		return out
	}
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range ring {
		x0, y0, x1, y1 = math.Min(x0, p[0]), math.Min(y0, p[1]), math.Max(x1, p[0]), math.Max(y1, p[1])
	}
	return [][2]float64{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

// placeLike is the annotation src moved and turned to a candidate's place: a box as the
// candidate's box (a rectangle turned at all becomes a rotated rectangle), an outline
// with all its rings.
func placeLike(src annotations.Annotation, template [][2]float64, cand similar.Candidate) annotations.FoundPlace {
	f := annotations.FoundPlace{Shape: src.Shape, Score: cand.Score, Rotation: cand.Rotation}
	if src.Shape == annotations.ShapeRectangle && cand.Rotation != 0 {
		f.Shape = annotations.ShapeRotatedRectangle
	}
	from := centreOf(template)
	var rings [][]annotations.Position
	for _, ring := range src.Geometry.Coordinates {
		in := make([][2]float64, len(ring))
		for i, p := range ring {
			in[i] = [2]float64(p)
		}
		out := similar.Place(in, from, cand.Center, cand.Rotation)
		moved := make([]annotations.Position, len(out))
		for i, p := range out {
			moved[i] = annotations.Position(p)
		}
		rings = append(rings, moved)
	}
	f.Geometry = annotations.PolygonGeometry(rings...)
	return f
}

// minSide is the shorter side of a closed rectangle ring.
func minSide(ring [][2]float64) float64 {
	return math.Min(math.Hypot(ring[1][0]-ring[0][0], ring[1][1]-ring[0][1]), math.Hypot(ring[2][0]-ring[1][0], ring[2][1]-ring[1][1]))
}

// centreOf is the centre of a closed rectangle ring.
func centreOf(ring [][2]float64) [2]float64 {
	var c [2]float64
	for _, p := range ring[:4] {
		c[0], c[1] = c[0]+p[0]/4, c[1]+p[1]/4
	}
	return c
}

// similarExclusions are the places a search leaves out: the annotations of the source's
// label on its image (points as one position, areas by their outer ring; lines hold no
// place) and its suggestions of that label still pending or rejected.
func (s *Server) similarExclusions(ctx context.Context, src annotations.Annotation) ([][][2]float64, error) {
	var out [][][2]float64
	add := func(shape annotations.Shape, g annotations.Geometry) {
		if shape == annotations.ShapeLine || len(g.Coordinates) == 0 {
			return
		}
		ring := make([][2]float64, len(g.Coordinates[0]))
		for i, p := range g.Coordinates[0] {
			ring[i] = [2]float64(p)
		}
		out = append(out, ring)
	}
	err := s.store.EachAnnotation(ctx, annotations.AnnotationFilter{ImageIDs: []string{src.ImageID}}, func(a annotations.Annotation) error {
		if a.Label.ID == src.Label.ID {
			add(a.Shape, a.Geometry)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sgs, err := s.store.Suggestions(ctx, src.ImageID, "")
	if err != nil {
		return nil, err
	}
	for _, sg := range sgs {
		if sg.Label.ID == src.Label.ID && sg.Status != annotations.SuggestionAccepted {
			add(sg.Shape, sg.Geometry)
		}
	}
	return out, nil
}

// levelsOf is an image's pyramid as whole levels, read from its tiles.
type levelsOf struct {
	s   *Server
	img annotations.Image
	m   *imagery.Manifest
}

func (l levelsOf) Size() (int, int) { return l.m.Width, l.m.Height }
func (l levelsOf) Levels() int      { return len(l.m.Levels) }
func (l levelsOf) Level(k int) (image.Image, error) {
	lv := l.m.Levels[k]
	return l.s.levelWindow(l.img, l.m, k, image.Rect(0, 0, lv.Width, lv.Height))
}

func (s *Server) listSuggestions(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	list, err := s.store.Suggestions(c.Request().Context(), img.ID, c.QueryParam("status"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

// decideSuggestion accepts (accept) or rejects a pending suggestion as the signed-in
// analyst. Accepting makes it an annotation, answered beside it, which the image's
// listeners see appear.
func (s *Server) decideSuggestion(accept bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		by, id, err := s.suggestionDecider(c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		if !accept {
			sg, err := s.store.RejectSuggestion(ctx, by, id)
			if err != nil {
				return err
			}
			s.announce(c, suggestionEvent(sg))
			return c.JSON(http.StatusOK, map[string]any{"suggestion": sg})
		}
		sg, a, err := s.store.AcceptSuggestion(ctx, by, id)
		if err != nil {
			return err
		}
		if err := s.withGround(ctx, &a); err != nil {
			return err
		}
		s.announce(c, annotationEvent("annotation.created", a))
		s.announce(c, suggestionEvent(sg))
		return c.JSON(http.StatusOK, map[string]any{"suggestion": sg, "annotation": a})
	}
}

// suggestionDecider is who decides on the suggestion the path names, and its id.
func (s *Server) suggestionDecider(c echo.Context) (annotations.Actor, string, error) {
	by, err := s.by(c)
	if err != nil {
		return by, "", err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return by, "", notFound("suggestion")
	}
	return by, id, nil
}

// reopenSuggestion takes back the signed-in analyst's own decision on a suggestion (for
// an undo): it is pending again, and the annotation an accepted one became is deleted;
// 409 when it is pending, someone else decided it, or its annotation changed since.
func (s *Server) reopenSuggestion(c echo.Context) error {
	by, id, err := s.suggestionDecider(c)
	if err != nil {
		return err
	}
	sg, gone, err := s.store.ReopenSuggestion(c.Request().Context(), by, id)
	if err != nil {
		return err
	}
	if gone != nil {
		s.announce(c, annotationEvent("annotation.deleted", *gone))
	}
	s.announce(c, suggestionEvent(sg))
	answer := map[string]any{"suggestion": sg}
	if gone != nil {
		answer["deleted_annotation"] = gone.ID
	}
	return c.JSON(http.StatusOK, answer)
}

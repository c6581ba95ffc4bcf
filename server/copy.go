package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// Copy and paste: annotations copied onto an image, from the same image (moved by an
// offset) or from another (carried through the ground: each vertex to its longitude and
// latitude on its own image, and back to a pixel on this one, when both are placed).

type copyRequest struct {
	Annotations []string    `json:"annotations"`
	Offset      *[2]float64 `json:"offset"` // pixels added after the carry; default (12, 12) on the same image, (0, 0) on another
}

// maxCopy bounds one paste.
const maxCopy = 1000

func (s *Server) copyAnnotations(c echo.Context) error {
	actor, err := s.actor(c)
	if err != nil {
		return err
	}
	target, err := s.imageParam(c)
	if err != nil {
		return err
	}
	var in copyRequest
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	invalid := func(field, msg string, args ...any) error {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: field, Message: field + ": " + fmt.Sprintf(msg, args...)}
	}
	switch {
	case len(in.Annotations) == 0:
		return invalid("annotations", "name the annotations to copy")
	case len(in.Annotations) > maxCopy:
		return invalid("annotations", "%d annotations: at most %d at once", len(in.Annotations), maxCopy)
	}
	ctx := c.Request().Context()
	to, err := s.placement(ctx, target)
	if err != nil {
		return err
	}
	places := map[string]formats.Placement{}
	var inputs []annotations.AnnotationInput
	for i, id := range in.Annotations {
		field := fmt.Sprintf("annotations[%d]", i)
		if !annotations.ValidID(id) {
			return invalid(field, "no annotation %q", id)
		}
		a, err := s.store.Annotation(ctx, id)
		if errors.Is(err, annotations.ErrNotFound) {
			return invalid(field, "no annotation %q", id)
		}
		if err != nil {
			return err
		}
		offset := [2]float64{}
		if a.ImageID == target.ID {
			offset = [2]float64{12, 12}
		}
		if in.Offset != nil {
			offset = *in.Offset
		}
		carry := func(p annotations.Position) (annotations.Position, error) {
			return annotations.Position{p[0] + offset[0], p[1] + offset[1]}, nil
		}
		if a.ImageID != target.ID {
			from, ok := places[a.ImageID]
			if !ok {
				src, err := s.store.Image(ctx, a.ImageID)
				if err != nil {
					return err
				}
				if from, err = s.placement(ctx, src); err != nil {
					return err
				}
				places[a.ImageID] = from
			}
			if !from.Georeferenced() || !to.Georeferenced() {
				return &apiError{Status: http.StatusUnprocessableEntity, Code: "not_georeferenced", Field: field,
					Message: fmt.Sprintf("%s: annotation %s is on another image, and an annotation is carried between images through the ground: both must be georeferenced", field, id)}
			}
			carry = func(p annotations.Position) (annotations.Position, error) {
				lon, lat, err := from.Transformer.Forward(p[0], p[1])
				if err != nil {
					return p, err
				}
				x, y, err := to.Transformer.Inverse(lon, lat)
				if err != nil {
					return p, err
				}
				return annotations.Position{x + offset[0], y + offset[1]}, nil
			}
		}
		g := annotations.Geometry{Type: a.Geometry.Type}
		for _, ring := range a.Geometry.Coordinates {
			out := make([]annotations.Position, len(ring))
			for j, p := range ring {
				q, err := carry(p)
				if err != nil || math.IsNaN(q[0]) || math.IsNaN(q[1]) {
					return invalid(field, "annotation %s does not reach this image through the ground", id)
				}
				out[j] = q
			}
			g.Coordinates = append(g.Coordinates, out)
		}
		shape := a.Shape
		// A box carried through a rotation or a shear is no longer a box of its kind: it
		// comes as the polygon it has become.
		if (shape == annotations.ShapeRectangle || shape == annotations.ShapeRotatedRectangle) && !shapeHolds(shape, g) {
			if shape == annotations.ShapeRectangle && shapeHolds(annotations.ShapeRotatedRectangle, g) {
				shape = annotations.ShapeRotatedRectangle
			} else {
				shape = annotations.ShapePolygon
			}
		}
		if err := g.Validate(shape, target.Width, target.Height); err != nil {
			return invalid(field, "annotation %s would not lie inside this image: %v", id, err)
		}
		props := a.Properties()
		props["copied_from"] = map[string]string{"image": a.ImageID, "annotation": a.ID}
		pb, _ := json.Marshal(props)
		gb, _ := json.Marshal(g)
		label := a.Label.ID
		inputs = append(inputs, annotations.AnnotationInput{Label: &label, Shape: &shape, Geometry: gb, Properties: pb})
	}
	made, err := s.store.CreateAnnotations(ctx, actor, target.ID, inputs)
	if err != nil {
		return err
	}
	for i := range made {
		if err := s.withGround(ctx, &made[i]); err != nil {
			return err
		}
		s.announce(c, annotationEvent("annotation.created", made[i]))
	}
	return c.JSON(http.StatusCreated, map[string]any{"annotations": made})
}

// shapeHolds says whether g keeps the rules of shape wherever it lies (the image's bounds
// are checked apart).
func shapeHolds(shape annotations.Shape, g annotations.Geometry) bool {
	minX, minY := math.Inf(1), math.Inf(1)
	for _, r := range g.Coordinates {
		for _, p := range r {
			minX, minY = math.Min(minX, p[0]), math.Min(minY, p[1])
		}
	}
	moved := annotations.Geometry{Type: g.Type}
	for _, r := range g.Coordinates {
		out := make([]annotations.Position, len(r))
		for i, p := range r {
			out[i] = annotations.Position{p[0] - minX, p[1] - minY}
		}
		moved.Coordinates = append(moved.Coordinates, out)
	}
	return moved.Validate(shape, math.MaxInt32, math.MaxInt32) == nil
}

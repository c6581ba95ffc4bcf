package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// bulkAnnotations changes many annotations of an image in one request, all or nothing:
// {"annotations": [{"id", "version"}, …], "action": "update" | "delete" | "review",
// "patch": {"label", "properties"} (update), "decision", "reason" (review)}. It answers
// {"annotations": [...]} as they are after the change (a deletion's as they were). An
// annotation of another image is 422 naming it; old versions are one 412 listing each
// (id, given, current) under "stale"; a missing version is 428. Every change goes out
// live to the image's listeners, one event per annotation.
func (s *Server) bulkAnnotations(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	imageID, err := s.imageIDParam(c)
	if err != nil {
		return err
	}
	var ch annotations.BulkChange
	if err := decodeStrictJSON(c, &ch); err != nil {
		return err
	}
	ctx := c.Request().Context()
	anns, err := s.store.BulkChangeAnnotations(ctx, by, imageID, ch)
	if err != nil {
		return err
	}
	p, err := s.placementOf(ctx, imageID)
	if err != nil {
		return err
	}
	for i, a := range anns {
		anns[i].Ground = p.Measure(a)
		switch {
		case ch.Action == annotations.BulkDelete:
			s.announce(c, annotationEvent("annotation.deleted", a))
		case a.Version != *ch.Annotations[i].Version:
			s.announce(c, annotationEvent("annotation.updated", anns[i]))
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"annotations": anns})
}

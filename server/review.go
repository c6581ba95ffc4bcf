package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Review, discussion and restoring old versions of annotations; every change is also
// sent live to the image's listeners.

// announce is the one way events go out: it tells the image's listeners about a change
// the request made, as its signed-in user's (the other processes on the database were
// told by the store as the change committed: notices.go). Handlers build the event with
// one of the functions below, never by hand.
func (s *Server) announce(c echo.Context, ev Event) {
	if p := principalOf(c); p != nil {
		ev.Actor = p.user.Name
	}
	s.events.publish(ev)
}

// annotationEvent is a saved annotation (typ annotation.created or annotation.updated)
// or a deleted one (annotation.deleted, without the annotation itself).
func annotationEvent(typ string, a annotations.Annotation) Event {
	ev := Event{Type: typ, ImageID: a.ImageID, ID: a.ID, Version: a.Version, Data: a}
	if typ == "annotation.deleted" {
		ev.Data = nil
	}
	return ev
}

// commentEvent is a comment added to annotation a.
func commentEvent(a annotations.Annotation, cm annotations.Comment) Event {
	return Event{Type: "comment.created", ImageID: a.ImageID, ID: a.ID, Version: a.Version, Data: cm}
}

// suggestionsEvent is the suggestions one find-similar run added, from annotation source.
func suggestionsEvent(source annotations.Annotation, found []annotations.Suggestion) Event {
	return Event{Type: "suggestion.created", ImageID: source.ImageID, ID: source.ID, Data: found}
}

// suggestionEvent is a suggestion decided (accepted or rejected) or pending again.
func suggestionEvent(sg annotations.Suggestion) Event {
	return Event{Type: "suggestion.updated", ImageID: sg.ImageID, ID: sg.ID, Data: sg}
}

// trashEvent is an image moved to the trash.
func trashEvent(img annotations.Image) Event {
	return Event{Type: "image.trashed", ImageID: img.ID, ID: img.ID}
}

func (s *Server) listReviews(c echo.Context) error {
	a, err := s.annotationParam(c)
	if err != nil {
		return err
	}
	reviews, err := s.store.Reviews(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, reviews)
}

// reviewAnnotation records a decision: {"decision": "submitted" | "accepted" |
// "disputed" | "rejected", "reason", "version"}. Deciding on one's own work is 403; a
// stale version is 412 with the current annotation. "withdrawn" (with no reason) takes
// back one's own decision that made the current version: 403 for someone else's, 409
// when no decision made it.
func (s *Server) reviewAnnotation(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	cur, err := s.annotationParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Decision string `json:"decision"`
		Reason   string `json:"reason"`
		Version  *int   `json:"version"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	version, err := basedOn(c, "version", in.Version)
	if err != nil {
		return err
	}
	if version == nil {
		return annotations.ErrVersionRequired
	}
	var a annotations.Annotation
	switch {
	case in.Decision != annotations.ReviewWithdrawn:
		a, err = s.store.ReviewAnnotation(c.Request().Context(), by.Name, cur.ID, *version, in.Decision, in.Reason)
	case strings.TrimSpace(in.Reason) != "":
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "reason", Message: "a withdrawal takes no reason: it takes back a decision"}
	default:
		a, err = s.store.WithdrawReview(c.Request().Context(), by, cur.ID, *version)
	}
	if err != nil {
		return s.withCurrent(c, cur.ID, err)
	}
	if err := s.withGround(c.Request().Context(), &a); err != nil {
		return err
	}
	s.announce(c, annotationEvent("annotation.updated", a))
	c.Response().Header().Set("ETag", versionETag(a.Version))
	return c.JSON(http.StatusOK, a)
}

func (s *Server) listComments(c echo.Context) error {
	a, err := s.annotationParam(c)
	if err != nil {
		return err
	}
	comments, err := s.store.Comments(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, comments)
}

func (s *Server) addComment(c echo.Context) error {
	actor, err := s.actor(c)
	if err != nil {
		return err
	}
	a, err := s.annotationParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	cm, err := s.store.AddComment(c.Request().Context(), actor, a.ID, in.Body)
	if err != nil {
		return err
	}
	s.announce(c, commentEvent(a, cm))
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/annotations/"+a.ID+"/comments")
	return c.JSON(http.StatusCreated, cm)
}

// restoreAnnotation brings back an old version as a new one: {"version": the version
// to restore, "current": the version it replaces} (or If-Match for current). A deleted
// annotation comes back with its id; then current is not needed.
func (s *Server) restoreAnnotation(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return notFound("annotation")
	}
	var in struct {
		Version *int `json:"version"`
		Current *int `json:"current"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	if in.Version == nil || *in.Version < 1 {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "version", Message: "say which version to restore"}
	}
	current, err := basedOn(c, "current", in.Current)
	if err != nil {
		return err
	}
	_, lookupErr := s.store.Annotation(c.Request().Context(), id)
	existed := lookupErr == nil
	a, err := s.store.RestoreAnnotation(c.Request().Context(), by, id, *in.Version, current)
	if err != nil {
		return s.withCurrent(c, id, err)
	}
	if err := s.withGround(c.Request().Context(), &a); err != nil {
		return err
	}
	typ := "annotation.updated"
	if !existed {
		typ = "annotation.created"
	}
	s.announce(c, annotationEvent(typ, a))
	c.Response().Header().Set("ETag", versionETag(a.Version))
	return c.JSON(http.StatusOK, a)
}

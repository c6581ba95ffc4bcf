package server

import (
	"context"
	"errors"
	"math"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Claims: what a release says, in the publisher's words, and the annotations on the
// release's images that the analysts link to it as evidence supporting it,
// contradicting it, or giving context, with their assessment and confidence.

// evidenceView is one evidence link with what the claim's page shows of its annotation:
// its label, its image and the box around it, to zoom a viewer or crop a thumbnail.
type evidenceView struct {
	annotations.Evidence
	Label      string     `json:"label"`
	ImageTitle string     `json:"image_title"`
	Width      int        `json:"image_width"`
	Height     int        `json:"image_height"`
	BBox       [4]float64 `json:"bbox"` // min x, min y, max x, max y in the image's pixels
}

type claimView struct {
	annotations.Claim
	Evidence []evidenceView `json:"evidence"`
	Source   struct {
		ID        string `json:"id"`
		Title     string `json:"title"`
		Publisher string `json:"publisher"`
		URL       string `json:"url"`
	} `json:"source"`
}

// bbox is the box around a geometry's vertices.
func bbox(g annotations.Geometry) [4]float64 {
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	for _, ring := range g.Coordinates {
		for _, p := range ring {
			b[0], b[1], b[2], b[3] = math.Min(b[0], p[0]), math.Min(b[1], p[1]), math.Max(b[2], p[0]), math.Max(b[3], p[1])
		}
	}
	if math.IsInf(b[0], 0) {
		return [4]float64{}
	}
	return b
}

// claimViews adds to each claim its release and what its evidence shows.
func (s *Server) claimViews(ctx context.Context, claims []annotations.Claim) ([]claimView, error) {
	images := map[string]annotations.Image{}
	sources := map[string]annotations.Source{}
	views := make([]claimView, len(claims))
	for i, c := range claims {
		v := claimView{Claim: c, Evidence: []evidenceView{}}
		src, ok := sources[c.SourceID]
		if !ok {
			var err error
			if src, err = s.store.Source(ctx, c.SourceID); err != nil {
				return nil, err
			}
			sources[c.SourceID] = src
		}
		v.Source.ID, v.Source.Title, v.Source.Publisher, v.Source.URL = src.ID, src.Title, src.Publisher, src.URL
		for _, e := range c.Evidence {
			img, ok := images[e.ImageID]
			if !ok {
				var err error
				if img, err = s.store.Image(ctx, e.ImageID); err != nil {
					return nil, err
				}
				images[e.ImageID] = img
			}
			a, err := s.store.Annotation(ctx, e.AnnotationID)
			if errors.Is(err, annotations.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			v.Evidence = append(v.Evidence, evidenceView{Evidence: e, Label: a.Label.PathString(), ImageTitle: img.Title,
				Width: img.Width, Height: img.Height, BBox: bbox(a.Geometry)})
		}
		views[i] = v
	}
	return views, nil
}

func (s *Server) claimView(ctx context.Context, c annotations.Claim) (claimView, error) {
	v, err := s.claimViews(ctx, []annotations.Claim{c})
	if err != nil {
		return claimView{}, err
	}
	return v[0], nil
}

// idParam is the route's :id when it has the shape of an id; not found (what) otherwise.
func idParam(c echo.Context, what string) (string, error) {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return "", notFound(what)
	}
	return id, nil
}

// changeOf is who makes a change and the id of what it changes (what: "claim", …).
func (s *Server) changeOf(c echo.Context, what string) (annotations.Actor, string, error) {
	by, err := s.by(c)
	if err != nil {
		return annotations.Actor{}, "", err
	}
	id, err := idParam(c, what)
	return by, id, err
}

// listClaims answers the claims of a release (/sources/{id}/claims), or of the release
// of ?image= or of ?source= (/claims), or every claim.
func (s *Server) listClaims(c echo.Context) error {
	ctx := c.Request().Context()
	f := annotations.ClaimFilter{SourceID: c.QueryParam("source"), ImageID: c.QueryParam("image")}
	if c.Param("id") != "" {
		id, err := idParam(c, "release")
		if err != nil {
			return err
		}
		f = annotations.ClaimFilter{SourceID: id}
	}
	switch {
	case f.ImageID != "":
		if _, err := s.store.Image(ctx, f.ImageID); err != nil {
			return err
		}
	case f.SourceID != "":
		if _, err := s.store.Source(ctx, f.SourceID); err != nil {
			return err
		}
	}
	claims, err := s.store.Claims(ctx, f)
	if err != nil {
		return err
	}
	views, err := s.claimViews(ctx, claims)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, views)
}

type claimRequest struct {
	annotations.ClaimInput
	Version *int `json:"version"`
}

// createClaim records a claim of the release /sources/{id}.
func (s *Server) createClaim(c echo.Context) error {
	by, id, err := s.changeOf(c, "release")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.store.Source(ctx, id); err != nil {
		return err
	}
	var in claimRequest
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	if in.Version != nil {
		return badRequest("version", "a new claim has no version to give")
	}
	cl, err := s.store.CreateClaim(ctx, by, id, in.ClaimInput)
	if err != nil {
		return err
	}
	return s.answerClaim(c, http.StatusCreated, cl)
}

func (s *Server) answerClaim(c echo.Context, status int, cl annotations.Claim) error {
	v, err := s.claimView(c.Request().Context(), cl)
	if err != nil {
		return err
	}
	if status == http.StatusCreated {
		c.Response().Header().Set(echo.HeaderLocation, "/api/v1/claims/"+cl.ID)
	}
	c.Response().Header().Set("ETag", versionETag(cl.Version))
	return c.JSON(status, v)
}

func (s *Server) getClaim(c echo.Context) error {
	id, err := idParam(c, "claim")
	if err != nil {
		return err
	}
	cl, err := s.store.Claim(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.answerClaim(c, http.StatusOK, cl)
}

// updateClaim changes a claim from the version given in the body or in If-Match.
func (s *Server) updateClaim(c echo.Context) error {
	by, id, err := s.changeOf(c, "claim")
	if err != nil {
		return err
	}
	var in claimRequest
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	version, err := basedOn(c, "version", in.Version)
	if err != nil {
		return err
	}
	cl, err := s.store.UpdateClaim(c.Request().Context(), by, id, version, in.ClaimInput)
	if err != nil {
		return err
	}
	return s.answerClaim(c, http.StatusOK, cl)
}

// versionOfDelete is the version a delete gives in ?version= or If-Match.
func versionOfDelete(c echo.Context) (*int, error) {
	q, err := queryVersion(c)
	if err != nil {
		return nil, err
	}
	return basedOn(c, "version", q)
}

func (s *Server) deleteClaim(c echo.Context) error {
	by, id, err := s.changeOf(c, "claim")
	if err != nil {
		return err
	}
	version, err := versionOfDelete(c)
	if err != nil {
		return err
	}
	if err := s.store.DeleteClaim(c.Request().Context(), by, id, version); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) claimHistory(c echo.Context) error {
	id, err := idParam(c, "claim")
	if err != nil {
		return err
	}
	h, err := s.store.ClaimHistory(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h)
}

type evidenceRequest struct {
	annotations.EvidenceInput
	Version *int `json:"version"`
}

// linkEvidence links an annotation to the claim /claims/{id} and answers the claim.
func (s *Server) linkEvidence(c echo.Context) error {
	by, id, err := s.changeOf(c, "claim")
	if err != nil {
		return err
	}
	var in evidenceRequest
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	if in.Version != nil {
		return badRequest("version", "a new link has no version to give")
	}
	if in.AnnotationID == "" {
		return badRequest("annotation_id", "is required: the annotation that is evidence for the claim")
	}
	ctx := c.Request().Context()
	e, err := s.store.LinkEvidence(ctx, by, id, in.EvidenceInput)
	if err != nil {
		return err
	}
	return s.answerEvidence(c, http.StatusCreated, e)
}

// answerEvidence answers the claim an evidence link belongs to, with the link's
// version as the ETag and its place in the Location.
func (s *Server) answerEvidence(c echo.Context, status int, e annotations.Evidence) error {
	cl, err := s.store.Claim(c.Request().Context(), e.ClaimID)
	if err != nil {
		return err
	}
	v, err := s.claimView(c.Request().Context(), cl)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/evidence/"+e.ID)
	c.Response().Header().Set("ETag", versionETag(e.Version))
	return c.JSON(status, map[string]any{"evidence": e, "claim": v})
}

func (s *Server) getEvidence(c echo.Context) error {
	id, err := idParam(c, "evidence")
	if err != nil {
		return err
	}
	e, err := s.store.Evidence(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", versionETag(e.Version))
	return c.JSON(http.StatusOK, e)
}

func (s *Server) updateEvidence(c echo.Context) error {
	by, id, err := s.changeOf(c, "evidence")
	if err != nil {
		return err
	}
	var in evidenceRequest
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	version, err := basedOn(c, "version", in.Version)
	if err != nil {
		return err
	}
	e, err := s.store.UpdateEvidence(c.Request().Context(), by, id, version, in.EvidenceInput)
	if err != nil {
		return err
	}
	return s.answerEvidence(c, http.StatusOK, e)
}

func (s *Server) unlinkEvidence(c echo.Context) error {
	by, id, err := s.changeOf(c, "evidence")
	if err != nil {
		return err
	}
	version, err := versionOfDelete(c)
	if err != nil {
		return err
	}
	if err := s.store.UnlinkEvidence(c.Request().Context(), by, id, version); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

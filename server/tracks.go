package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
)

// Tracks: one object followed across images (this landing ship on 8 and 13 October),
// each of its annotations linked with the analyst's confidence.

// trackPosition is one annotation of a track where and when it was seen.
type trackPosition struct {
	AnnotationID string                 `json:"annotation_id"`
	ImageID      string                 `json:"image_id"`
	ImageTitle   string                 `json:"image_title"`
	Label        string                 `json:"label"`
	Confidence   annotations.Confidence `json:"confidence"`
	CapturedFrom string                 `json:"captured_from"`
	CapturedTo   string                 `json:"captured_to"`
	When         string                 `json:"when"`             // the capture's start, else the release date, else ""
	Pixel        [2]float64             `json:"pixel"`            // the annotation's centre in its image
	LonLat       *[2]float64            `json:"lonlat,omitempty"` // and on the earth, when the image is placed
	By           string                 `json:"by"`
}

type trackView struct {
	annotations.Track
	Positions []trackPosition `json:"positions"` // by date, undated last
}

// centre is the mean of a geometry's distinct vertices (a ring's closing vertex once):
// where a track puts the object.
func centre(g annotations.Geometry) [2]float64 {
	var sx, sy float64
	n := 0
	for _, ring := range g.Coordinates {
		ps := ring
		if len(ps) > 1 && ps[0] == ps[len(ps)-1] {
			ps = ps[:len(ps)-1]
		}
		for _, p := range ps {
			sx, sy, n = sx+p[0], sy+p[1], n+1
		}
	}
	if n == 0 {
		return [2]float64{}
	}
	return [2]float64{sx / float64(n), sy / float64(n)}
}

// trackViews places each track's annotations in time and on the earth.
func (s *Server) trackViews(ctx context.Context, tracks []annotations.Track) ([]trackView, error) {
	images := map[string]annotations.Image{}
	views := make([]trackView, len(tracks))
	for i, t := range tracks {
		v := trackView{Track: t, Positions: []trackPosition{}}
		for _, l := range t.Links {
			img, ok := images[l.ImageID]
			if !ok {
				var err error
				if img, err = s.store.Image(ctx, l.ImageID); err != nil {
					return nil, err
				}
				images[l.ImageID] = img
			}
			a, err := s.store.Annotation(ctx, l.AnnotationID)
			if errors.Is(err, annotations.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			p := trackPosition{AnnotationID: a.ID, ImageID: img.ID, ImageTitle: img.Title, Label: a.Label.PathString(),
				Confidence: l.Confidence, CapturedFrom: img.CapturedFrom, CapturedTo: img.CapturedTo, Pixel: centre(a.Geometry), By: l.By}
			p.When = img.CapturedFrom
			if p.When == "" {
				p.When = img.Source.ReleasedAt
			}
			if pl, err := s.placement(ctx, img); err == nil && pl.Georeferenced() {
				if lon, lat, err := pl.Transformer.Forward(p.Pixel[0], p.Pixel[1]); err == nil {
					p.LonLat = &[2]float64{lon, lat}
				}
			}
			v.Positions = append(v.Positions, p)
		}
		sort.SliceStable(v.Positions, func(a, b int) bool {
			x, y := v.Positions[a], v.Positions[b]
			if (x.When == "") != (y.When == "") {
				return x.When != ""
			}
			return x.When < y.When
		})
		views[i] = v
	}
	return views, nil
}

func (s *Server) trackView(ctx context.Context, t annotations.Track) (trackView, error) {
	v, err := s.trackViews(ctx, []annotations.Track{t})
	if err != nil {
		return trackView{}, err
	}
	return v[0], nil
}

// listTracks answers every track, or with ?image= those with an annotation on that image,
// with ?site= those with one on an image of that site.
func (s *Server) listTracks(c echo.Context) error {
	ctx := c.Request().Context()
	tracks, err := s.store.Tracks(ctx)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	filtered := false
	if id := c.QueryParam("image"); id != "" {
		filtered = true
		keep[id] = true
	}
	if id := c.QueryParam("site"); id != "" {
		filtered = true
		if !annotations.ValidID(id) {
			return notFound("site")
		}
		st, err := s.store.Site(ctx, id)
		if err != nil {
			return err
		}
		v, err := s.siteView(ctx, st)
		if err != nil {
			return err
		}
		for _, img := range v.Images {
			keep[img.ID] = true
		}
	}
	if filtered {
		var out []annotations.Track
		for _, t := range tracks {
			for _, l := range t.Links {
				if keep[l.ImageID] {
					out = append(out, t)
					break
				}
			}
		}
		tracks = out
	}
	views, err := s.trackViews(ctx, tracks)
	if err != nil {
		return err
	}
	if views == nil {
		views = []trackView{}
	}
	return c.JSON(http.StatusOK, views)
}

func (s *Server) trackParam(c echo.Context) (string, error) {
	id := c.Param("id")
	if !annotations.ValidID(id) {
		return "", notFound("track")
	}
	return id, nil
}

func (s *Server) getTrack(c echo.Context) error {
	id, err := s.trackParam(c)
	if err != nil {
		return err
	}
	t, err := s.store.Track(c.Request().Context(), id)
	if err != nil {
		return err
	}
	v, err := s.trackView(c.Request().Context(), t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

type trackRequest struct {
	annotations.TrackInput
	Annotations []struct {
		AnnotationID string                 `json:"annotation_id"`
		Confidence   annotations.Confidence `json:"confidence"`
	} `json:"annotations"`
	Version *int `json:"version"`
}

func (s *Server) createTrack(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	var in trackRequest
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	if in.Version != nil {
		return badRequest("version", "a new track has no version to give")
	}
	var links []annotations.TrackLink
	for _, a := range in.Annotations {
		links = append(links, annotations.TrackLink{AnnotationID: a.AnnotationID, Confidence: a.Confidence})
	}
	ctx := c.Request().Context()
	t, err := s.store.CreateTrack(ctx, by, in.TrackInput, links)
	if err != nil {
		return err
	}
	v, err := s.trackView(ctx, t)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/tracks/"+t.ID)
	return c.JSON(http.StatusCreated, v)
}

func (s *Server) updateTrack(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id, err := s.trackParam(c)
	if err != nil {
		return err
	}
	var in trackRequest
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	if in.Annotations != nil {
		return badRequest("annotations", "link and unlink annotations with PUT and DELETE /api/v1/tracks/{id}/annotations/{annotation}")
	}
	version, err := basedOn(c, "version", in.Version)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := s.store.UpdateTrack(ctx, by, id, version, in.TrackInput)
	if err != nil {
		return err
	}
	v, err := s.trackView(ctx, t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) deleteTrack(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id, err := s.trackParam(c)
	if err != nil {
		return err
	}
	q, err := queryVersion(c)
	if err != nil {
		return err
	}
	version, err := basedOn(c, "version", q)
	if err != nil {
		return err
	}
	if err := s.store.DeleteTrack(c.Request().Context(), by, id, version); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// linkTrack puts an annotation in a track ({"confidence": …}, probable when left out), or
// changes its confidence there.
func (s *Server) linkTrack(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id, err := s.trackParam(c)
	if err != nil {
		return err
	}
	var in struct {
		Confidence annotations.Confidence `json:"confidence"`
	}
	if err := decodeStrictJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := s.store.LinkAnnotation(ctx, by, id, c.Param("annotation"), in.Confidence)
	if err != nil {
		return err
	}
	v, err := s.trackView(ctx, t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Server) unlinkTrack(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	id, err := s.trackParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	t, err := s.store.UnlinkAnnotation(ctx, by, id, c.Param("annotation"))
	if err != nil {
		return err
	}
	v, err := s.trackView(ctx, t)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// tracksGeoJSON exports every track as RFC 7946: a LineString through its placed
// positions in date order (a Point when it has one), with the times of its vertices in
// "coordTimes" (the convention of togeojson and Mapbox) and every position, placed or
// not, in "positions".
func (s *Server) tracksGeoJSON(c echo.Context) error {
	ctx := c.Request().Context()
	tracks, err := s.store.Tracks(ctx)
	if err != nil {
		return err
	}
	views, err := s.trackViews(ctx, tracks)
	if err != nil {
		return err
	}
	fc := newFeatureCollection()
	for _, v := range views {
		var coords [][2]float64
		var times []string
		for _, p := range v.Positions {
			if p.LonLat != nil {
				coords = append(coords, *p.LonLat)
				times = append(times, p.When)
			}
		}
		var geom any
		switch len(coords) {
		case 0:
			geom = nil // a track of unplaced images only: no geometry (RFC 7946 §3.2)
		case 1:
			geom = map[string]any{"type": "Point", "coordinates": coords[0]}
		default:
			geom = map[string]any{"type": "LineString", "coordinates": coords}
		}
		if times == nil {
			times = []string{}
		}
		fc.Features = append(fc.Features, geoFeature{Type: "Feature", ID: v.ID, Geometry: geom, Properties: map[string]any{
			"name": v.Name, "notes": v.Notes, "coordTimes": times, "positions": v.Positions,
			"created_by": v.CreatedBy, "updated_at": v.UpdatedAt,
		}})
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/geo+json")
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="satmark-tracks.geojson"`)
	return json.NewEncoder(c.Response()).Encode(fc)
}

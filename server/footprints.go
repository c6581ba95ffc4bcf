package server

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/webtiles"
)

// footprints answers every georeferenced image's outline as RFC 7946 GeoJSON, for the
// map; with ?bbox=west,south,east,north (degrees; west greater than east for a box
// across the antimeridian, as RFC 7946 §5.2 has it) only those of the images whose
// footprint meets the box, found by the store (PostGIS's GIST index on PostgreSQL).
func (s *Server) footprints(c echo.Context) error {
	ctx := c.Request().Context()
	var within map[string]bool
	if c.QueryParams().Has("bbox") {
		area, err := bboxArea(c.QueryParam("bbox"))
		if err != nil {
			return err
		}
		if within, err = s.footprintsMeeting(ctx, area); err != nil {
			return err
		}
	}
	images, err := s.store.Images(ctx)
	if err != nil {
		return err
	}
	fc := newFeatureCollection()
	for _, img := range images {
		if !img.Georeferenced || within != nil && !within[img.ID] {
			continue
		}
		p, err := s.placement(ctx, img)
		if err != nil {
			s.log.Warn("footprint", "image", img.ID, "err", err)
			continue
		}
		g, _, err := formats.Footprint(p.Transformer, img.Width, img.Height)
		if err != nil {
			continue
		}
		props := map[string]any{
			"title": img.Title, "publisher": img.Source.Publisher, "released_at": img.Source.ReleasedAt,
			"annotation_count": img.AnnotationCount, "transform": p.Transform,
			"captured_from": img.CapturedFrom, "captured_to": img.CapturedTo,
		}
		// Its map tiles: /tiles/{id}/{z}/{x}/{y}.png down to max_zoom.
		if mpp, lat, err := metresPerPixel(p.Transformer, img.Width, img.Height); err == nil {
			props["tiles"] = "/tiles/" + img.ID + "/{z}/{x}/{y}.png"
			props["max_zoom"] = webtiles.MaxZoom(mpp, lat)
			props["metres_per_pixel"] = mpp
		}
		fc.Features = append(fc.Features, geoFeature{Type: "Feature", ID: img.ID, Geometry: g, Properties: props})
	}
	c.Response().Header().Set(echo.HeaderContentType, formats.LonLatGeoJSONMediaType)
	return json.NewEncoder(c.Response()).Encode(fc)
}

// bboxArea reads a bbox parameter into the area it covers, unwrapped: a box across the
// antimeridian runs east past +180°.
func bboxArea(text string) (annotations.Geometry, error) {
	parts := strings.Split(text, ",")
	if len(parts) != 4 {
		return annotations.Geometry{}, badRequest("bbox", "a bbox is four numbers, west,south,east,north in degrees, not %q", text)
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return annotations.Geometry{}, badRequest("bbox", "a bbox is four numbers, west,south,east,north in degrees: %q is not a number", p)
		}
		v[i] = f
	}
	w, south, e, north := v[0], v[1], v[2], v[3]
	switch {
	case w < -180 || w > 180 || e < -180 || e > 180:
		return annotations.Geometry{}, badRequest("bbox", "a bbox's west and east are longitudes, -180 to 180 (west greater than east for a box across the antimeridian)")
	case south < -90 || north > 90 || south > north:
		return annotations.Geometry{}, badRequest("bbox", "a bbox's south and north are latitudes, -90 to 90, south first")
	case w == e:
		return annotations.Geometry{}, badRequest("bbox", "a bbox's west and east are the same longitude: it covers nothing")
	}
	if w > e {
		e += 360
	}
	return annotations.PolygonGeometry([]annotations.Position{{w, south}, {e, south}, {e, north}, {w, north}, {w, south}}), nil
}

// footprintsMeeting is the set of the images whose footprint meets area. The footprints
// of images placed before footprints were stored (or whose storing failed) are worked
// out and stored first.
func (s *Server) footprintsMeeting(ctx context.Context, area annotations.Geometry) (map[string]bool, error) {
	images, err := s.store.Images(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.fillFootprints(ctx, images); err != nil {
		return nil, err
	}
	ids, err := s.store.FootprintsMeeting(ctx, area, func(fp [][2]float64) bool { return footprintMeets(fp, area) })
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// fillFootprints stores the footprints of the images that are georeferenced but have
// none stored, and returns which of the images have one.
func (s *Server) fillFootprints(ctx context.Context, images []annotations.Image) (map[string]bool, error) {
	placed, err := s.store.FootprintsStored(ctx)
	if err != nil {
		return nil, err
	}
	for _, img := range images {
		if stored, ok := placed[img.ID]; ok && !stored {
			if err := s.storeFootprint(ctx, img); err != nil {
				s.log.Warn("footprint", "image", img.ID, "err", err)
				continue
			}
			placed[img.ID] = true
		}
	}
	return placed, nil
}

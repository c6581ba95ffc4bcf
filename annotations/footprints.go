package annotations

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Footprints: each placed image's outline in lon/lat, kept with its georeference (a
// GeoJSON Polygon in georeferences.footprint, footprint_geom with a GIST index on
// PostgreSQL). The store cannot work one out (the transform may be a polynomial, a spline
// or a CRS of GDAL's), so the server does and stores it; a changed georeference clears
// it, a removed one takes it along, and one placed before the column existed has none
// until the server fills it in (FootprintsStored says which).

// SetFootprint stores the footprint of the image's georeference as it was at version
// (its UpdatedAt): a footprint worked out from a georeference that has since changed or
// gone is dropped. ring is closed, in lon/lat, unwrapped (it may lie past ±180°).
func (s *Store) SetFootprint(ctx context.Context, imageID string, version time.Time, ring [][2]float64) error {
	if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
		return invalid("footprint", "a footprint is a closed ring of at least 4 positions")
	}
	for _, p := range ring {
		if !finite(p[0]) || !finite(p[1]) {
			return invalid("footprint", "a footprint's positions must be finite numbers")
		}
	}
	ps := make([]Position, len(ring))
	for i, p := range ring {
		ps[i] = Position(p)
	}
	b, err := PolygonGeometry(ps).MarshalJSON()
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `UPDATE georeferences SET footprint = ? WHERE image_id = ? AND updated_at = ?`,
		string(b), imageID, formatTime(version))
	return err
}

// FootprintsStored returns, for every georeferenced image, whether its footprint is
// stored.
func (s *Store) FootprintsStored(ctx context.Context) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT image_id, footprint IS NOT NULL FROM georeferences`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		var stored bool
		if err := rows.Scan(&id, &stored); err != nil {
			return nil, err
		}
		out[id] = stored
	}
	return out, rows.Err()
}

// FootprintsMeeting returns the ids of the images whose stored footprint meets area (its
// exterior ring, in lon/lat), the footprint also tried a turn east and west (an unwrapped
// footprint may lie past ±180°). PostgreSQL decides with ST_Intersects over the GIST
// index; SQLite, which has no geometry, reads every stored footprint and asks meets
// (given the footprint as stored). Images without a stored footprint are not among them.
func (s *Store) FootprintsMeeting(ctx context.Context, area Geometry, meets func(footprint [][2]float64) bool) ([]string, error) {
	if area.Type != "Polygon" || len(area.Coordinates) == 0 {
		return nil, invalid("area", "an area is a Polygon")
	}
	if s.d.postgres {
		b, err := PolygonGeometry(area.Coordinates[0]).MarshalJSON()
		if err != nil {
			return nil, err
		}
		// The area is moved rather than the footprint, so that the index serves each test.
		return queryStrings(ctx, s.db, `WITH a AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON(?), 4326) AS g)
			SELECT r.image_id FROM georeferences r, a
			WHERE ST_Intersects(r.footprint_geom, a.g) OR ST_Intersects(r.footprint_geom, ST_Translate(a.g, 360, 0))
				OR ST_Intersects(r.footprint_geom, ST_Translate(a.g, -360, 0))
			ORDER BY r.image_id`, string(b))
	}
	var ids []string
	rows, err := s.db.QueryContext(ctx, `SELECT image_id, footprint FROM georeferences WHERE footprint IS NOT NULL ORDER BY image_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, text string
		if err := rows.Scan(&id, &text); err != nil {
			return nil, err
		}
		var g Geometry
		if err := json.Unmarshal([]byte(text), &g); err != nil || len(g.Coordinates) == 0 {
			return nil, fmt.Errorf("footprint of %s: %v", id, err)
		}
		ring := make([][2]float64, len(g.Coordinates[0]))
		for i, p := range g.Coordinates[0] {
			ring[i] = [2]float64(p)
		}
		if meets(ring) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

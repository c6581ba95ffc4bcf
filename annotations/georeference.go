package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// ControlPoint pairs a position in an image with its place on the earth. (The geo
// package fits transforms to these; the domain keeps its own type so that it depends on
// nothing.)
type ControlPoint struct {
	Pixel  [2]float64 `json:"pixel"`  // x, y in pixel space
	LonLat [2]float64 `json:"lonlat"` // WGS 84 longitude, latitude in degrees
}

// Georeference methods.
const (
	GeorefControlPoints = "gcps" // a transform fitted to control points, in WGS 84
	GeorefGrid          = "grid" // a geotransform in a CRS, from a GeoTIFF or a world file
)

// Georeference says where an image lies on the earth.
type Georeference struct {
	ImageID       string         `json:"image_id"`
	Method        string         `json:"method"`
	Transform     string         `json:"transform,omitempty"`    // gcps: similarity, affine, polynomial2, projective or tps
	ControlPoints []ControlPoint `json:"gcps,omitempty"`         // gcps
	GeoTransform  *[6]float64    `json:"geotransform,omitempty"` // grid: GDAL's corner-based geotransform
	CRS           int            `json:"crs,omitempty"`          // grid: EPSG code, 0 for a CRS that has none
	CRSWKT        string         `json:"crs_wkt,omitempty"`      // grid: WKT 2 of a CRS with no EPSG code
	Origin        string         `json:"origin"`                 // where it came from: editor, geotiff, worldfile, file (a raster read by GDAL), sample data
	UpdatedBy     string         `json:"updated_by"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

// check verifies the shape of a georeference (the numbers' meaning is geo's to check).
func (g Georeference) check() error {
	switch g.Method {
	case GeorefControlPoints:
		if len(g.ControlPoints) == 0 || g.Transform == "" {
			return invalid("gcps", "a georeference by control points needs its points and a transform")
		}
	case GeorefGrid:
		if g.GeoTransform == nil || (g.CRS == 0) == (g.CRSWKT == "") {
			return invalid("geotransform", "a grid georeference needs a geotransform and a CRS: an EPSG code or WKT, not both")
		}
		for _, v := range g.GeoTransform {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return invalid("geotransform", "the geotransform must be finite numbers")
			}
		}
	default:
		return invalid("method", "unknown georeference method %q", g.Method)
	}
	return nil
}

func (s *Store) insertGeoreference(ctx context.Context, q querier, actor string, g Georeference) error {
	if err := g.check(); err != nil {
		return err
	}
	gcps, err := json.Marshal(g.ControlPoints)
	if err != nil {
		return err
	}
	gt := ""
	if g.GeoTransform != nil {
		b, _ := json.Marshal(g.GeoTransform)
		gt = string(b)
	}
	_, err = q.ExecContext(ctx, `INSERT INTO georeferences (image_id, method, transform, gcps, geotransform, crs, crs_wkt, origin, updated_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (image_id) DO UPDATE SET method = excluded.method, transform = excluded.transform, gcps = excluded.gcps,
			geotransform = excluded.geotransform, crs = excluded.crs, crs_wkt = excluded.crs_wkt, origin = excluded.origin,
			updated_by = excluded.updated_by, updated_at = excluded.updated_at, footprint = NULL`,
		g.ImageID, g.Method, g.Transform, string(gcps), gt, g.CRS, g.CRSWKT, g.Origin, actor, formatTime(s.now()))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("image %q: %w", g.ImageID, ErrNotFound)
	}
	return err
}

// SetGeoreference stores (or replaces) an image's georeference, recorded and audited as
// by's.
func (s *Store) SetGeoreference(ctx context.Context, by Actor, g Georeference) (Georeference, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Georeference{}, err
	}
	defer tx.Rollback()
	if err := s.insertGeoreference(ctx, tx, by.Name, g); err != nil {
		return Georeference{}, err
	}
	stored, err := s.georeferenceTx(ctx, tx, g.ImageID)
	if err != nil {
		return Georeference{}, err
	}
	summary, err := s.georeferenceSummary(ctx, tx, g.ImageID)
	if err != nil {
		return Georeference{}, err
	}
	if g.Origin == "worldfile" {
		summary = "world file: " + summary
	}
	if err := s.audit(ctx, tx, by, "georeference.set", "image", g.ImageID, summary); err != nil {
		return Georeference{}, err
	}
	if err := s.imageChangedTx(ctx, tx, g.ImageID); err != nil {
		return Georeference{}, err
	}
	return stored, tx.Commit()
}

// georeferenceSummary says in a few words where an image now lies, for the audit log:
// its method, transform, number of control points, CRS and ground sample distance.
func (s *Store) georeferenceSummary(ctx context.Context, q querier, imageID string) (string, error) {
	var gsd *float64
	if err := q.QueryRowContext(ctx, `SELECT gsd_m FROM images WHERE id = ?`, imageID).Scan(&gsd); err != nil {
		return "", err
	}
	sum := map[string]any{"method": "gsd", "transform": "", "control_points": 0, "crs": "", "gsd_m": gsd}
	g, err := s.georeferenceTx(ctx, q, imageID)
	switch {
	case err == nil:
		sum["method"], sum["transform"], sum["control_points"] = g.Method, g.Transform, len(g.ControlPoints)
		if g.Method == GeorefGrid {
			sum["crs"] = fmt.Sprintf("EPSG:%d", g.CRS)
		} else {
			sum["crs"] = "EPSG:4326" // control points are fitted to longitude and latitude
		}
	case !errors.Is(err, ErrNotFound):
		return "", err
	}
	b, err := json.Marshal(sum)
	return string(b), err
}

const georefColumns = `image_id, method, transform, gcps, geotransform, crs, crs_wkt, origin, updated_by, updated_at`

func scanGeoreference(row scanner) (Georeference, error) {
	var g Georeference
	var gcps, gt, updated string
	if err := row.Scan(&g.ImageID, &g.Method, &g.Transform, &gcps, &gt, &g.CRS, &g.CRSWKT, &g.Origin, &g.UpdatedBy, &updated); err != nil {
		return Georeference{}, err
	}
	if err := json.Unmarshal([]byte(gcps), &g.ControlPoints); err != nil {
		return Georeference{}, fmt.Errorf("georeference of %s: stored control points: %w", g.ImageID, err)
	}
	if gt != "" {
		g.GeoTransform = new([6]float64)
		if err := json.Unmarshal([]byte(gt), g.GeoTransform); err != nil {
			return Georeference{}, fmt.Errorf("georeference of %s: stored geotransform: %w", g.ImageID, err)
		}
	}
	g.UpdatedAt = parseTime(updated)
	return g, nil
}

// Georeference returns an image's georeference, or ErrNotFound when it has none.
func (s *Store) Georeference(ctx context.Context, imageID string) (Georeference, error) {
	return s.georeferenceTx(ctx, s.db, imageID)
}

func (s *Store) georeferenceTx(ctx context.Context, q querier, imageID string) (Georeference, error) {
	g, err := scanGeoreference(q.QueryRowContext(ctx, `SELECT `+georefColumns+` FROM georeferences WHERE image_id = ?`, imageID))
	if errors.Is(err, sql.ErrNoRows) {
		return Georeference{}, fmt.Errorf("georeference: %w", ErrNotFound)
	}
	return g, err
}

// Georeferences returns every image's georeference, by image id.
func (s *Store) Georeferences(ctx context.Context) (map[string]Georeference, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+georefColumns+` FROM georeferences`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Georeference{}
	for rows.Next() {
		g, err := scanGeoreference(rows)
		if err != nil {
			return nil, err
		}
		out[g.ImageID] = g
	}
	return out, rows.Err()
}

// DeleteGeoreference forgets where an image lies, audited as by's: its georeference and
// its ground sample distance. ErrNotFound when it had neither.
func (s *Store) DeleteGeoreference(ctx context.Context, by Actor, imageID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM georeferences WHERE image_id = ?`, imageID)
	if err != nil {
		return err
	}
	georeferenced, _ := res.RowsAffected()
	res, err = tx.ExecContext(ctx, `UPDATE images SET gsd_m = NULL, updated_at = ? WHERE id = ? AND gsd_m IS NOT NULL`, formatTime(s.now()), imageID)
	if err != nil {
		return err
	}
	if measured, _ := res.RowsAffected(); georeferenced == 0 && measured == 0 {
		return fmt.Errorf("georeference: %w", ErrNotFound)
	}
	if err := s.audit(ctx, tx, by, "georeference.delete", "image", imageID, ""); err != nil {
		return err
	}
	if err := s.imageChangedTx(ctx, tx, imageID); err != nil {
		return err
	}
	return tx.Commit()
}

// SetGroundSampleDistance sets (or, with nil, clears) the metres per pixel used to
// measure an image that has no georeference, audited as by's.
func (s *Store) SetGroundSampleDistance(ctx context.Context, by Actor, imageID string, metresPerPixel *float64) (Image, error) {
	if g := metresPerPixel; g != nil && (math.IsNaN(*g) || math.IsInf(*g, 0) || *g <= 0) {
		return Image{}, invalid("gsd_m", "the ground sample distance must be a positive number of metres per pixel")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Image{}, err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE images SET gsd_m = ?, updated_at = ? WHERE id = ?`, metresPerPixel, formatTime(s.now()), imageID)
	if err != nil {
		return Image{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Image{}, fmt.Errorf("image: %w", ErrNotFound)
	}
	summary, err := s.georeferenceSummary(ctx, tx, imageID)
	if err != nil {
		return Image{}, err
	}
	if err := s.audit(ctx, tx, by, "georeference.set", "image", imageID, summary); err != nil {
		return Image{}, err
	}
	img, err := s.imageWhere(ctx, tx, "i.id = ?", imageID)
	if err != nil {
		return Image{}, err
	}
	if err := s.imageChangedTx(ctx, tx, imageID); err != nil {
		return Image{}, err
	}
	return img, tx.Commit()
}

package ingest

import (
	"fmt"
	"strings"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/geo"
	"github.com/satmark/satmark/imagery"
)

// Where an upload lies on the earth: by the world file sent beside it, or by the
// GeoTIFF tags it carries.

// Sidecar is what may come beside an image to place it: a world file, with the .prj
// written next to it or an EPSG code naming its CRS.
type Sidecar struct {
	WorldFile string // the world file's text; blank for none
	PRJ       string // the .prj's WKT, if any
	CRS       string // an EPSG code PROJ knows (2154 or EPSG:2154), if any; it wins over PRJ
}

func (s Sidecar) given() bool { return strings.TrimSpace(s.WorldFile) != "" }

// withFiles is the sidecar completed by the world file and .prj among the files sent
// with the upload (imagery.SidecarWorldFile, imagery.SidecarPRJ). Either sent both as a
// file and as text, or two of one kind, is refused.
func (s Sidecar) withFiles(u *imagery.Upload) (Sidecar, error) {
	refuse := func(format string, args ...any) error {
		return &annotations.ValidationError{Field: "sidecar", Message: fmt.Sprintf(format, args...), Malformed: true}
	}
	name, text, err := u.ReadSidecar(imagery.SidecarWorldFile)
	if err != nil {
		return s, refuse("%v", err)
	}
	if name != "" {
		if s.given() {
			return s, refuse("the world file came twice, as the worldfile field and as the file %q; send one", name)
		}
		s.WorldFile = text
	}
	if name, text, err = u.ReadSidecar(imagery.SidecarPRJ); err != nil {
		return s, refuse("%v", err)
	}
	if name != "" {
		if strings.TrimSpace(s.PRJ) != "" {
			return s, refuse("the .prj came twice, as the prj field and as the file %q; send one", name)
		}
		s.PRJ = text
	}
	return s, nil
}

// Georeference is the grid georeference the world file gives (see geo.GridFromWorldFile;
// a blank world file is an error too), for the caller to give its image's id.
func (s Sidecar) Georeference() (annotations.Georeference, error) {
	grid, err := geo.GridFromWorldFile(s.WorldFile, s.PRJ, s.CRS)
	if err != nil {
		return annotations.Georeference{}, err
	}
	return gridGeoreference(grid, "worldfile"), nil
}

// gridGeoreference stores a grid, noting where it came from.
func gridGeoreference(g *geo.Grid, origin string) annotations.Georeference {
	gt := [6]float64(g.GeoTransform)
	return annotations.Georeference{Method: annotations.GeorefGrid, GeoTransform: &gt, CRS: g.CRS.EPSG, CRSWKT: g.CRS.WKT, Origin: origin}
}

// geoTIFF reads the georeference a TIFF carries, if any; what cannot be used becomes a
// warning and the image is imported without it.
func geoTIFF(path string) (*annotations.Georeference, []string) {
	t, err := geo.ReadGeoTIFFFile(path)
	if err != nil {
		return nil, []string{"the GeoTIFF tags could not be read: " + err.Error()}
	}
	if t.Grid == nil {
		if len(t.ControlPoints) >= geo.Affine.MinimumPoints() {
			// A GeoTIFF placed by control points: fit them affine, as a start the editor
			// can refine; if they cannot be fitted, say so and keep the image unplaced.
			g, _, err := fitted(geo.Affine, t.ControlPoints, "geotiff control points")
			if err != nil {
				return nil, append(t.Warnings, "its control points cannot be fitted: "+err.Error())
			}
			warnings := []string{fmt.Sprintf("placed by the GeoTIFF's %d control points with an affine fit; check and refine it in the georeference editor", len(t.ControlPoints))}
			for _, w := range t.Warnings {
				if !strings.Contains(w, "no geotransform") {
					warnings = append(warnings, w)
				}
			}
			return g, warnings
		}
		return nil, t.Warnings
	}
	g := gridGeoreference(t.Grid, "geotiff")
	return &g, t.Warnings
}

// rasterPlacement places a raster other than a TIFF (JPEG 2000, NITF, ERDAS IMG) by what
// GDAL read from the file: its geotransform and CRS, else its control points fitted
// affine. What cannot be used becomes a warning and the image is imported unplaced.
func rasterPlacement(r *imagery.Raster, width, height int) (*annotations.Georeference, []string) {
	if r.GeoTransform != nil && strings.TrimSpace(r.CRSWKT) != "" {
		crs, err := geo.CRSFromWKT(r.CRSWKT)
		if err != nil {
			return nil, []string{"the file's coordinate system cannot be used: " + err.Error()}
		}
		grid := &geo.Grid{GeoTransform: geo.GeoTransform(*r.GeoTransform), CRS: crs}
		if err := grid.Validate(); err != nil {
			return nil, []string{"the file's geotransform cannot be used: " + err.Error()}
		}
		for _, c := range [][2]float64{{0, 0}, {float64(width), 0}, {float64(width), float64(height)}, {0, float64(height)}} {
			if _, _, err := grid.Forward(c[0], c[1]); err != nil {
				return nil, []string{fmt.Sprintf("the file's georeferencing puts pixel (%g, %g) off the earth: %v", c[0], c[1], err)}
			}
		}
		g := gridGeoreference(grid, "file")
		return &g, nil
	}
	if len(r.GCPs) == 0 {
		return nil, nil
	}
	crs, err := geo.CRSFromWKT(r.GCPCRSWKT)
	if strings.TrimSpace(r.GCPCRSWKT) == "" {
		crs, err = geo.WGS84, nil // GDAL's readers give control points without a CRS in lon/lat
	}
	if err != nil {
		return nil, []string{"the coordinate system of the file's control points cannot be used: " + err.Error()}
	}
	var pts []geo.ControlPoint
	for _, p := range r.GCPs {
		lon, lat, err := crs.ToLonLat(p.X, p.Y)
		if err != nil {
			return nil, []string{fmt.Sprintf("the file's control point at pixel (%g, %g) is off the earth: %v", p.Pixel, p.Line, err)}
		}
		pts = append(pts, geo.ControlPoint{Pixel: [2]float64{p.Pixel, p.Line}, LonLat: [2]float64{lon, lat}})
	}
	g, _, err := fitted(geo.Affine, pts, "file control points")
	if err != nil {
		return nil, []string{"the file's control points cannot be fitted: " + err.Error()}
	}
	return g, []string{fmt.Sprintf("placed by the file's %d control points with an affine fit; check and refine it in the georeference editor", len(pts))}
}

// rpcPlacement places a raster by its RPCs (rational polynomial coefficients, the
// sensor model of many satellite deliveries): a grid of positions taken through GDAL's
// RPC transformer at the RPCs' height offset becomes control points fitted with an
// order-2 polynomial, flagged as such with the fit's worst misfit. Terrain away from
// that height is not accounted for (no elevation model), and the warning says so.
func rpcPlacement(r *imagery.Raster) (*annotations.Georeference, []string) {
	if len(r.RPCPoints) == 0 {
		return nil, []string{"the file carries RPCs (rational polynomial coefficients), but GDAL's RPC transformer cannot use them; the image is not placed"}
	}
	pts := make([]geo.ControlPoint, len(r.RPCPoints))
	for i, p := range r.RPCPoints {
		pts[i] = geo.ControlPoint{Pixel: [2]float64{p.Pixel, p.Line}, LonLat: [2]float64{p.X, p.Y}}
	}
	g, fit, err := fitted(geo.Polynomial2, pts, "rpc")
	if err != nil {
		return nil, []string{"the positions the file's RPCs give cannot be fitted: " + err.Error()}
	}
	worst := 0.0
	for _, res := range fit.Residuals {
		worst = max(worst, res.Pixels)
	}
	return g, []string{fmt.Sprintf("placed by the file's RPCs (rational polynomial coefficients) through GDAL's RPC transformer at a height of %g m, "+
		"as %d control points fitted with an order-2 polynomial (worst misfit %.3g px); ground away from that height is displaced, as no elevation model is used",
		r.RPCHeight, len(pts), worst)}
}

// fitted is the georeference of control points fitted with kind, noting where they came
// from, with the fit; an error when they cannot be fitted.
func fitted(kind geo.TransformKind, pts []geo.ControlPoint, origin string) (*annotations.Georeference, *geo.Fit, error) {
	fit, err := geo.FitControlPoints(kind, pts)
	if err != nil {
		return nil, nil, err
	}
	return &annotations.Georeference{Method: annotations.GeorefControlPoints, Transform: string(kind),
		ControlPoints: formats.StoredControlPoints(pts), Origin: origin}, fit, nil
}

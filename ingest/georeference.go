package ingest

import (
	"fmt"
	"strings"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/geo"
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
			if _, err := geo.FitControlPoints(geo.Affine, t.ControlPoints); err != nil {
				return nil, append(t.Warnings, "its control points cannot be fitted: "+err.Error())
			}
			pts := formats.StoredControlPoints(t.ControlPoints)
			warnings := []string{fmt.Sprintf("placed by the GeoTIFF's %d control points with an affine fit; check and refine it in the georeference editor", len(pts))}
			for _, w := range t.Warnings {
				if !strings.Contains(w, "no geotransform") {
					warnings = append(warnings, w)
				}
			}
			return &annotations.Georeference{Method: annotations.GeorefControlPoints, Transform: string(geo.Affine),
				ControlPoints: pts, Origin: "geotiff control points"}, warnings
		}
		return nil, t.Warnings
	}
	g := gridGeoreference(t.Grid, "geotiff")
	return &g, t.Warnings
}

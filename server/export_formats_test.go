package server_test

import (
	"encoding/json"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
)

// gdalGeometryCheck is what GEOS (through GDAL's SQLite dialect and SpatiaLite) says of
// one exported feature's geometry.
type gdalGeometryCheck struct {
	Type   string
	Valid  bool
	Reason string
	AreaM2 float64 // geodesic, on the WGS 84 ellipsoid
	// AreaDeg2 is the area in the lon/lat plane, where RFC 7946 draws edges straight.
	AreaDeg2 float64
	// MadeValidAreaM2 is the geodesic area after ST_MakeValid: equal to AreaM2 for a
	// valid geometry, different when GEOS had to repair it.
	MadeValidAreaM2 float64
}

var ogrField = regexp.MustCompile(`^\s+(\w+) \((?:Integer|Real|String)\) = (.*)$`)

// gdalGeometryChecks runs, for a file saved from the API,
//
//	ogrinfo -ro -dialect SQLite -sql "SELECT ST_GeometryType(geometry), ST_IsValid(geometry), ST_IsValidReason(geometry),
//	    ST_Area(geometry, 1), ST_Area(geometry), ST_Area(ST_MakeValid(geometry), 1) FROM <layer>" FILE
//
// and returns its answer for every feature, in the file's order. It is skipped when
// ogrinfo is not installed, unless SATMARK_REQUIRE_ORACLES=1.
func gdalGeometryChecks(t *testing.T, name string, body []byte, layer string) []gdalGeometryCheck {
	t.Helper()
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatalf("ogrinfo not found and SATMARK_REQUIRE_ORACLES=1: %v", err)
		}
		t.Skip("ogrinfo (gdal-bin) not installed")
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	sql := `SELECT ST_GeometryType(geometry) AS gtype, ST_IsValid(geometry) AS valid, ST_IsValidReason(geometry) AS reason, ` +
		`ST_Area(geometry, 1) AS area, ST_Area(geometry) AS area_deg2, ST_Area(ST_MakeValid(geometry), 1) AS made_valid_area FROM "` + layer + `"`
	out := runOracle(t, ogrinfo, "-ro", "-q", "-dialect", "SQLite", "-sql", sql, path)
	var checks []gdalGeometryCheck
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "OGRFeature(") {
			checks = append(checks, gdalGeometryCheck{})
			continue
		}
		m := ogrField.FindStringSubmatch(line)
		if m == nil || len(checks) == 0 {
			continue
		}
		c := &checks[len(checks)-1]
		num := func() float64 {
			v, err := strconv.ParseFloat(m[2], 64)
			if err != nil {
				t.Fatalf("ogrinfo field %s = %q is not a number", m[1], m[2])
			}
			return v
		}
		switch m[1] {
		case "gtype":
			c.Type = m[2]
		case "valid":
			c.Valid = m[2] == "1"
		case "reason":
			c.Reason = m[2]
		case "area":
			c.AreaM2 = num()
		case "area_deg2":
			c.AreaDeg2 = num()
		case "made_valid_area":
			c.MadeValidAreaM2 = num()
		}
	}
	return checks
}

// TestAntimeridianExportsAreValidGeometry hands every geometry of the lon/lat GeoJSON and
// KML exports of an image across 180° to GEOS: polygons with a hole the antimeridian
// cuts, a hole wholly past it, a concave polygon it crosses four times, lines across and
// back. Each must be valid as written (no self-intersection on ±180°), and the cut pieces'
// geodesic area must be the uncut polygon's (its pixel vertices through the same affine,
// longitudes running on past 180°, measured by GDAL too).
func TestAntimeridianExportsAreValidGeometry(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.uploadScene(t, 8000, 6000, 803, field("title", "Taveuni"))
	ts.putGeoref(t, img.ID, "affine", taveuni7)
	// The lon = 180° line runs from about (7730, 0) to (8000, 745).
	bodies := []string{
		// A hole the antimeridian cuts in two.
		`{"label": "facility/naval base", "shape": "polygon", "geometry": {"type": "Polygon",
			"coordinates": [[[7500, 20], [7995, 20], [7995, 600], [7500, 600], [7500, 20]], [[7700, 100], [7950, 100], [7950, 300], [7700, 300], [7700, 100]]]}}`,
		// Two holes: one cut, one wholly past 180°.
		`{"label": "facility/naval base", "shape": "polygon", "geometry": {"type": "Polygon",
			"coordinates": [[[7400, 20], [7998, 20], [7998, 700], [7400, 700], [7400, 20]], [[7600, 400], [7950, 400], [7950, 600], [7600, 600], [7600, 400]], [[7900, 50], [7980, 50], [7980, 150], [7900, 150], [7900, 50]]]}}`,
		// A hole wholly past 180°.
		`{"label": "facility/naval base", "shape": "polygon", "geometry": {"type": "Polygon",
			"coordinates": [[[7500, 20], [7995, 20], [7995, 600], [7500, 600], [7500, 20]], [[7900, 100], [7980, 100], [7980, 300], [7900, 300], [7900, 100]]]}}`,
		// A "C" whose two arms reach past 180°: two pieces east of it, one west.
		`{"label": "facility/naval base", "shape": "polygon", "geometry": {"type": "Polygon",
			"coordinates": [[[7500, 100], [7990, 100], [7990, 200], [7600, 200], [7600, 400], [7990, 400], [7990, 500], [7500, 500], [7500, 100]]]}}`,
		// The same drawn the other way round, with a hole in its back cut by nothing.
		`{"label": "facility/naval base", "shape": "polygon", "geometry": {"type": "Polygon",
			"coordinates": [[[7500, 100], [7500, 500], [7990, 500], [7990, 400], [7600, 400], [7600, 200], [7990, 200], [7990, 100], [7500, 100]], [[7520, 250], [7580, 250], [7580, 350], [7520, 350], [7520, 250]]]}}`,
		`{"label": "pier", "shape": "rectangle", "geometry": {"type": "Polygon", "coordinates": [[[7500, 20], [7995, 20], [7995, 600], [7500, 600], [7500, 20]]]}}`,
		`{"label": "frigate", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[7600, 200], [7990, 200]]}}`,
		`{"label": "frigate", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[7000, 100], [7990, 150], [7990, 500], [7000, 700]]}}`,
		`{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [7990, 10]}}`,
		`{"label": "pier", "shape": "polygon", "geometry": {"type": "Polygon", "coordinates": [[[1000, 1000], [1000, 2000], [3000, 2000], [3000, 1000], [1000, 1000]], [[1500, 1200], [2500, 1200], [2500, 1800], [1500, 1800], [1500, 1200]]]}}`,
	}
	for _, b := range bodies {
		ts.createAnnotation(t, img.ID, b)
	}

	_, body := ts.lonLatExport(t, "/api/v1/images/"+img.ID+"/annotations.geojson")
	var fc struct {
		Features []struct {
			ID       string `json:"id"`
			Geometry struct {
				Type string `json:"type"`
			} `json:"geometry"`
			Properties struct {
				PixelGeometry annotations.Geometry `json:"pixel_geometry"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(body, &fc); err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != len(bodies) {
		t.Fatalf("%d features, want %d", len(fc.Features), len(bodies))
	}

	// The uncut polygons: the pixel vertices through the same affine, longitudes running
	// on past 180°, measured by GDAL as well.
	pts := make([]geo.ControlPoint, len(taveuni7))
	for i, p := range taveuni7 {
		pts[i] = geo.ControlPoint{Pixel: p.Pixel, LonLat: p.LonLat}
	}
	fit, err := geo.FitControlPoints(geo.Affine, pts)
	if err != nil {
		t.Fatal(err)
	}
	type uncutFeature struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
		Geometry   map[string]any `json:"geometry"`
	}
	uncut := struct {
		Type     string         `json:"type"`
		Features []uncutFeature `json:"features"`
	}{Type: "FeatureCollection"}
	for _, f := range fc.Features {
		g := f.Properties.PixelGeometry
		if g.Type != "Polygon" {
			continue
		}
		rings := make([][][2]float64, len(g.Coordinates))
		for i, r := range g.Coordinates {
			for _, p := range r {
				lon, lat, err := fit.Forward(p[0], p[1])
				if err != nil {
					t.Fatal(err)
				}
				if lon < 0 {
					lon += 360
				}
				// To 7 decimals, as the export writes them.
				rings[i] = append(rings[i], [2]float64{math.Round(lon*1e7) / 1e7, math.Round(lat*1e7) / 1e7})
			}
		}
		uncut.Features = append(uncut.Features, uncutFeature{Type: "Feature", Properties: map[string]any{"fid": f.ID},
			Geometry: map[string]any{"type": "Polygon", "coordinates": rings}})
	}
	uncutJSON, err := json.Marshal(uncut)
	if err != nil {
		t.Fatal(err)
	}
	wantArea := map[string]gdalGeometryCheck{}
	for i, c := range gdalGeometryChecks(t, "uncut.geojson", uncutJSON, "uncut") {
		wantArea[uncut.Features[i].Properties["fid"].(string)] = c
	}

	kmlRec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/annotations.kml", nil)
	wantStatus(t, kmlRec, http.StatusOK)
	for _, file := range []struct {
		name, layer string
		body        []byte
	}{
		{"satmark-" + img.ID + "-wgs84.geojson", "satmark-" + img.ID + "-wgs84", body},
		{"satmark-" + img.ID + ".kml", "Annotations", kmlRec.Body.Bytes()},
	} {
		t.Run(file.name, func(t *testing.T) {
			checks := gdalGeometryChecks(t, file.name, file.body, file.layer)
			if len(checks) != len(fc.Features) {
				t.Fatalf("GDAL reads %d features, want %d", len(checks), len(fc.Features))
			}
			for i, c := range checks {
				f := fc.Features[i]
				if !c.Valid {
					t.Errorf("feature %d (%s, %s): GEOS says %q", i, f.Geometry.Type, c.Type, c.Reason)
				}
				want, ok := wantArea[f.ID]
				if !ok {
					continue
				}
				// In the lon/lat plane cutting loses nothing but the rounding of the cut
				// points to 7 decimals (a few 1e-6 of these small areas); on the ellipsoid
				// the cut points lie on the straight lon/lat edge, not on the geodesic
				// between its ends, which moves the area by about 2e-5 of it.
				if math.Abs(c.AreaDeg2-want.AreaDeg2) > 1e-5*want.AreaDeg2 {
					t.Errorf("feature %d (%s): lon/lat area of the pieces %.9g deg², the uncut polygon's %.9g deg²", i, f.Geometry.Type, c.AreaDeg2, want.AreaDeg2)
				}
				if math.Abs(c.AreaM2-want.AreaM2) > 1e-4*want.AreaM2 {
					t.Errorf("feature %d (%s): geodesic area of the pieces %.1f m², the uncut polygon's %.1f m²", i, f.Geometry.Type, c.AreaM2, want.AreaM2)
				}
				if math.Abs(c.MadeValidAreaM2-c.AreaM2) > 1e-6*want.AreaM2 {
					t.Errorf("feature %d (%s): ST_MakeValid changes the area from %.1f to %.1f m²", i, f.Geometry.Type, c.AreaM2, c.MadeValidAreaM2)
				}
			}
			t.Logf("GEOS checked %d geometries of %s", len(checks), file.name)
		})
	}
}

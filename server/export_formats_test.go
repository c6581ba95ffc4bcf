package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"maps"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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

// qupathObject is what QuPath makes of one GeoJSON feature.
type qupathObject struct {
	Type         string
	ID           string // the feature id, when it is a UUID (QuPath keeps it as the object's ID)
	Name         string
	ClassPath    []string // the PathClass: base class first, then each derived class
	Measurements map[string]float64
	Metadata     map[string]string
}

// qupathImport reads a GeoJSON FeatureCollection as QuPath 0.5 does, applying its rules
// for which members it reads, the JSON types it needs and what makes a feature fail. The
// source followed (github.com/qupath/qupath, qupath-core/src/main/java/qupath/lib/):
//
//   - io/QuPathTypeAdapters.java (commit 1489180708c3, v0.5), PathObjectCollectionTypeAdapter.read:
//     `if (obj.has("features") && obj.get("features").isJsonArray())`, then
//     `for (JsonElement element : array) { list.add(PathObjectTypeAdapter.INSTANCE.fromJsonTree(element)); }`
//     with no try/catch: one feature that throws fails the whole import, zero objects.
//   - the same file, PathObjectTypeAdapter.parseObject: `id = obj.get("id").getAsString()` then
//     `uuid = UUID.fromString(id)` (a non-UUID only logs); `obj.get("properties").getAsJsonObject()`;
//     `name = properties.get("name").getAsString()`; "color" a primitive (`getAsInt()`) or an array of
//     3 (`getAsInt()` each); "classification" through GsonTools.PathClassTypeAdapter; "isMissing" and
//     "isLocked" `getAsBoolean()` when primitive; `if (properties.has("measurements") &&
//     (…isJsonArray() || …isJsonObject()))` MeasurementListTypeAdapter; `if (properties.has("metadata")
//     && properties.get("metadata").isJsonObject())`, then for each entry `if (value.isJsonPrimitive())
//     pathObject.getMetadata().put(entry.getKey(), value.getAsString())` (others are skipped);
//     `type = properties.get("objectType").getAsString()`; "childObjects" (or "children") parsed
//     recursively when an array.
//   - the same file, MeasurementListTypeAdapter.read: an object is read as
//     `Map<String, Double> map = gson.fromJson(in, Map.class); … list.putAll(map)`: Gson gives a
//     String for a string value, which putAll's unboxing to a number rejects (ClassCastException;
//     a null is a NullPointerException); an array is `{name, value}` objects, `getAsString()` and
//     `getAsDouble()`.
//   - io/GsonTools.java (commit 0a77ded42fca), PathClassTypeAdapter.read: null is no class, a string is
//     `PathClass.fromString`; an object that is empty or has "colorRGB" or "parentClass" is read the
//     old way; `if ((pathClassObject.has("name") || pathClassObject.has("names")) &&
//     pathClassObject.has("color"))` a PathClassProxy {List<String> names; String name; int[] color}:
//     `if (name == null) … PathClass.fromCollection(names, rgb)` else `PathClass.fromString(name, rgb)`;
//     anything else `throw new JsonParseException("Unable to parse PathClass from " + in)`.
//     arrayToRgb takes 0, 1, 3 or 4 numbers, else IllegalArgumentException.
//   - objects/classes/PathClass.java: fromString splits at the delimiter ":" and strips each part;
//     getInstance(parent, name, color) throws IllegalArgumentException for a name containing ":".
//
// Where Gson would coerce (a number read with getAsString, a numeric string with
// getAsInt) this reader is stricter and wants the JSON type QuPath writes.
func qupathImport(body []byte) ([]qupathObject, error) {
	var fc map[string]json.RawMessage
	if err := json.Unmarshal(body, &fc); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	var features []json.RawMessage
	if err := json.Unmarshal(fc["features"], &features); err != nil {
		return nil, nil // no "features" array: QuPath reads no objects
	}
	var objects []qupathObject
	for i, f := range features {
		o, err := qupathFeature(f)
		if err != nil {
			return nil, fmt.Errorf("feature %d: %w (QuPath imports nothing)", i, err)
		}
		objects = append(objects, o...)
	}
	return objects, nil
}

func qupathFeature(raw json.RawMessage) ([]qupathObject, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("a feature is not a JSON object")
	}
	o := qupathObject{Type: "unknown", Measurements: map[string]float64{}, Metadata: map[string]string{}}
	str := func(member string, v json.RawMessage) (string, error) {
		var s string
		if err := json.Unmarshal(v, &s); err != nil || string(v) == "null" {
			return "", fmt.Errorf("%s: getAsString on %s", member, v)
		}
		return s, nil
	}
	if v, ok := obj["id"]; ok {
		id, err := str("id", v)
		if err != nil {
			return nil, err
		}
		if uuidPattern.MatchString(id) {
			o.ID = id
		}
	}
	var geom struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(obj["geometry"], &geom); err != nil {
		return nil, fmt.Errorf("geometry: %v", err)
	}
	var coords any
	switch geom.Type {
	case "Point":
		coords = new([2]float64)
	case "LineString", "MultiPoint":
		coords = new([][2]float64)
	case "Polygon", "MultiLineString":
		coords = new([][][2]float64)
	case "MultiPolygon":
		coords = new([][][][2]float64)
	default:
		return nil, fmt.Errorf("geometry type %q", geom.Type)
	}
	if err := json.Unmarshal(geom.Coordinates, coords); err != nil {
		return nil, fmt.Errorf("geometry coordinates: %v", err)
	}
	var children []qupathObject
	if pv, ok := obj["properties"]; ok {
		var props map[string]json.RawMessage
		if err := json.Unmarshal(pv, &props); err != nil || props == nil {
			return nil, fmt.Errorf("properties: getAsJsonObject on %s", truncate(string(pv), 80))
		}
		if v, ok := props["name"]; ok {
			s, err := str("name", v)
			if err != nil {
				return nil, err
			}
			o.Name = s
		}
		if v, ok := props["color"]; ok {
			var n float64
			var rgb []float64
			if json.Unmarshal(v, &n) != nil && (json.Unmarshal(v, &rgb) != nil || (len(rgb) == 3 && (rgb[0] != math.Trunc(rgb[0])))) {
				return nil, fmt.Errorf("color: getAsInt on %s", v)
			}
		}
		if v, ok := props["classification"]; ok {
			path, err := qupathClass(v)
			if err != nil {
				return nil, fmt.Errorf("classification: %w", err)
			}
			o.ClassPath = path
		}
		for _, member := range []string{"isMissing", "isLocked"} {
			if v, ok := props[member]; ok && isJSONPrimitive(v) {
				var b bool
				if json.Unmarshal(v, &b) != nil && string(v) != "null" {
					return nil, fmt.Errorf("%s: getAsBoolean on %s", member, v)
				}
			}
		}
		if v, ok := props["measurements"]; ok {
			if err := qupathMeasurements(v, o.Measurements); err != nil {
				return nil, fmt.Errorf("measurements: %w", err)
			}
		}
		if v, ok := props["metadata"]; ok {
			var md map[string]json.RawMessage
			if json.Unmarshal(v, &md) == nil && md != nil {
				for k, e := range md {
					if isJSONPrimitive(e) {
						s, err := str("metadata."+k, e)
						if err != nil {
							return nil, err
						}
						o.Metadata[k] = s
					}
				}
			}
		}
		if v, ok := props["objectType"]; ok {
			s, err := str("objectType", v)
			if err != nil {
				return nil, err
			}
			o.Type = s
		}
		member := "children"
		if _, ok := props["childObjects"]; ok {
			member = "childObjects"
		}
		var kids []json.RawMessage
		if json.Unmarshal(props[member], &kids) == nil {
			for _, k := range kids {
				c, err := qupathFeature(k)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", member, err)
				}
				children = append(children, c...)
			}
		}
	}
	return append([]qupathObject{o}, children...), nil
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func isJSONPrimitive(v json.RawMessage) bool {
	s := strings.TrimSpace(string(v))
	return s != "" && s[0] != '{' && s[0] != '[' && s != "null"
}

// qupathClass is GsonTools.PathClassTypeAdapter.read and PathClass's rules for names.
func qupathClass(v json.RawMessage) ([]string, error) {
	s := strings.TrimSpace(string(v))
	check := func(names []string) ([]string, error) {
		for _, n := range names {
			if strings.Contains(n, ":") {
				return nil, fmt.Errorf("PathClass name %q contains the delimiter ':' (IllegalArgumentException)", n)
			}
		}
		return names, nil
	}
	switch {
	case s == "null":
		return nil, nil
	case strings.HasPrefix(s, `"`):
		var name string
		if err := json.Unmarshal(v, &name); err != nil {
			return nil, err
		}
		return splitClass(name), nil
	case strings.HasPrefix(s, "{"):
	default:
		return nil, fmt.Errorf("unable to parse PathClass from %s", s)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return nil, err
	}
	_, hasRGB := obj["colorRGB"]
	_, hasParent := obj["parentClass"]
	if len(obj) == 0 || hasRGB || hasParent {
		return nil, nil // the pre-0.4 form, which satmark does not write
	}
	_, hasName := obj["name"]
	_, hasNames := obj["names"]
	_, hasColor := obj["color"]
	if !(hasName || hasNames) || !hasColor {
		return nil, fmt.Errorf("unable to parse PathClass from %s (a name or names, and a color)", s)
	}
	var proxy struct {
		Names *[]string `json:"names"`
		Name  *string   `json:"name"`
		Color *[]int    `json:"color"`
	}
	if err := json.Unmarshal(v, &proxy); err != nil {
		return nil, fmt.Errorf("PathClassProxy: %v", err)
	}
	if proxy.Color != nil {
		if n := len(*proxy.Color); n != 0 && n != 1 && n != 3 && n != 4 {
			return nil, fmt.Errorf("RGB array should have length 0, 1, 3 or 4 - not %d", n)
		}
	}
	if proxy.Name != nil {
		return splitClass(*proxy.Name), nil
	}
	if proxy.Names == nil || len(*proxy.Names) == 0 {
		return nil, nil
	}
	return check(*proxy.Names)
}

// splitClass is PathClass.fromString: parts at ":", stripped.
func splitClass(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ":") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// qupathMeasurements is MeasurementListTypeAdapter.read and MeasurementList.putAll.
func qupathMeasurements(v json.RawMessage, into map[string]float64) error {
	s := strings.TrimSpace(string(v))
	switch {
	case strings.HasPrefix(s, "{"):
		var m map[string]json.RawMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		for k, e := range m {
			var f float64
			if err := json.Unmarshal(e, &f); err != nil || strings.TrimSpace(string(e)) == "null" {
				return fmt.Errorf("%q is %s, not a number (ClassCastException: Gson reads it as a %s)", k, e, map[bool]string{true: "String", false: "non-Number"}[strings.HasPrefix(strings.TrimSpace(string(e)), `"`)])
			}
			into[k] = f
		}
	case strings.HasPrefix(s, "["):
		var list []struct {
			Name  *string  `json:"name"`
			Value *float64 `json:"value"`
		}
		if err := json.Unmarshal(v, &list); err != nil {
			return err
		}
		for _, e := range list {
			if e.Name == nil || e.Value == nil {
				return fmt.Errorf("a measurement without a name or a numeric value")
			}
			into[*e.Name] = *e.Value
		}
	}
	return nil
}

// gsonJar is where Debian's libgoogle-gson-java puts Gson, which QuPath reads GeoJSON with.
const gsonJar = "/usr/share/java/gson.jar"

// qupathImportJava runs testdata/QuPathReader.java, QuPath's reading of GeoJSON with Gson
// itself, on body: the objects QuPath makes, or the exception that ends its import. It is
// skipped without java or Gson (apt-get install default-jdk-headless libgoogle-gson-java),
// unless SATMARK_REQUIRE_ORACLES=1.
func qupathImportJava(t *testing.T, body []byte) ([]qupathObject, error) {
	t.Helper()
	java, err := exec.LookPath("java")
	if err == nil {
		_, err = os.Stat(gsonJar)
	}
	if err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatalf("java or %s not found and SATMARK_REQUIRE_ORACLES=1: %v", gsonJar, err)
		}
		t.Skipf("java or Gson not installed: %v", err)
	}
	path := filepath.Join(t.TempDir(), "export.geojson")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(java, "-cp", gsonJar, filepath.Join("testdata", "QuPathReader.java"), path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, truncate(stderr.String(), 600))
	}
	var objects []qupathObject
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var o struct {
			ID           *string            `json:"id"`
			Type         string             `json:"type"`
			Name         string             `json:"name"`
			Class        []string           `json:"class"`
			Measurements map[string]float64 `json:"measurements"`
			Metadata     map[string]string  `json:"metadata"`
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("QuPathReader.java printed %q: %v", line, err)
		}
		obj := qupathObject{Type: o.Type, Name: o.Name, ClassPath: o.Class, Measurements: o.Measurements, Metadata: o.Metadata}
		if o.ID != nil {
			obj.ID = *o.ID
		}
		objects = append(objects, obj)
	}
	return objects, nil
}

// markup is HTML a user could type into any text field: a renderer that runs it shows
// the image and calls alert.
const markup = `<img src=x onerror=alert(1)><b>bold</b>`

// markedUpImage uploads an image whose every provenance text holds markup, georeferences it
// (affine, §3.5) and annotates it: a ship under a label whose name holds the start of a tag
// (a label name cannot hold ">") and QuPath's class delimiter ":", with markup in its identification and note, accepted by bob with
// markup in the reason; a naval base with a hole; a line.
func markedUpImage(t *testing.T, ts *testServer) (annotations.Image, []annotations.Annotation) {
	t.Helper()
	img := ts.uploadScene(t, 4000, 3000, 805,
		field("title", "Vladivostok "+markup), field("release_title", "Release "+markup), field("publisher", "NIS "+markup),
		field("source_url", "https://example.org/?q=<script>"), field("credit", "Credit "+markup), field("license", "License "+markup),
		field("location_name", "Location "+markup), field("claim", "Claim "+markup))
	ts.putGeoref(t, img.ID, "affine", vladivostok6)
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/labels", map[string]any{"name": "Type 052D: <img src=x onerror=alert(2)", "parent_id": ts.labelByPath(t, "vessel").ID})
	wantStatus(t, rec, http.StatusCreated)
	var label annotations.Label
	decode(t, rec, &label)
	ship := ts.createAnnotation(t, img.ID, map[string]any{"label": label.ID, "shape": "rotated_rectangle",
		"properties": map[string]any{"confidence": "probable", "identification": "Ident " + markup, "note": "Note " + markup, "hull": "<i>027</i>"},
		"geometry":   json.RawMessage(`{"type": "Polygon", "coordinates": [` + rotatedRing(2500, 2000, 60, 12, 35) + `]}`)}, ts.as(t, "alice")...)
	wantStatus(t, ts.review(t, ship.ID, map[string]any{"decision": "submitted", "version": ship.Version}, ts.as(t, "alice")...), http.StatusOK)
	wantStatus(t, ts.review(t, ship.ID, map[string]any{"decision": "accepted", "version": ship.Version + 1, "reason": "Reason " + markup}, ts.as(t, "bob")...), http.StatusOK)
	base := ts.createAnnotation(t, img.ID, `{"label": "facility/naval base", "shape": "polygon", "properties": {"note": "second note"}, "geometry": {"type": "Polygon",
		"coordinates": [[[100, 100], [1900, 120], [1950, 1400], [120, 1380], [100, 100]], [[500, 500], [900, 500], [900, 900], [500, 900], [500, 500]]]}}`)
	line := ts.createAnnotation(t, img.ID, `{"label": "vessel", "shape": "line", "geometry": {"type": "LineString", "coordinates": [[10.5, 20.25], [3999, 2999]]}}`)
	return img, []annotations.Annotation{ts.annotation(t, ship.ID), base, line}
}

// TestPixelGeoJSONImportsInQuPath reads the pixel-space export of a georeferenced image
// and of one with only a ground sample distance the way QuPath does (qupathImport, and
// for the file of both, QuPath's own reading with Gson in testdata/QuPathReader.java): every
// feature must import, with its label path as QuPath's class path, its measurements as
// numbers, and satmark's own properties in QuPath's metadata.
func TestPixelGeoJSONImportsInQuPath(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img, anns := markedUpImage(t, ts)
	plain := ts.uploadScene(t, 400, 300, 806, field("title", "Ussuriysk"))
	wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+plain.ID+"/georeference", `{"gsd_m": 0.5}`), http.StatusOK)
	box := ts.createAnnotation(t, plain.ID, `{"label": "vessel/landing ship", "shape": "rectangle", "properties": {"confidence": "possible"},
		"geometry": {"type": "Polygon", "coordinates": [[[10, 10], [60, 10], [60, 40], [10, 40], [10, 10]]]}}`)
	byID := map[string]annotations.Annotation{box.ID: box}
	for _, a := range anns {
		byID[a.ID] = a
	}

	for _, tc := range []struct {
		name, target, basis string
		java                bool // also read it with QuPathReader.java (about 2 s)
	}{
		{"ok, georeferenced image", "/api/v1/images/" + img.ID + "/annotations.geojson?crs=pixel", "georeference", false},
		{"ok, image with a ground sample distance", "/api/v1/images/" + plain.ID + "/annotations.geojson", "gsd", false},
		{"ok, both in one file", "/api/v1/export.geojson?image=" + img.ID + "," + plain.ID, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, tc.target, nil)
			wantStatus(t, rec, http.StatusOK)
			objects, goErr := qupathImport(rec.Body.Bytes())
			if tc.java {
				t.Run("the same in Java with Gson", func(t *testing.T) {
					inJava, err := qupathImportJava(t, rec.Body.Bytes())
					if err != nil {
						t.Fatalf("QuPathReader.java: %v", err)
					}
					if goErr != nil {
						return
					}
					if len(inJava) != len(objects) {
						t.Fatalf("QuPathReader.java makes %d objects, the Go reader %d", len(inJava), len(objects))
					}
					for i, o := range objects {
						j := inJava[i]
						if j.ID != o.ID || j.Type != o.Type || j.Name != o.Name || !slices.Equal(j.ClassPath, o.ClassPath) ||
							!maps.Equal(j.Measurements, o.Measurements) || !maps.Equal(j.Metadata, o.Metadata) {
							t.Errorf("object %d: Java reads %+v, the Go reader %+v", i, j, o)
						}
					}
				})
			}
			if goErr != nil {
				t.Fatalf("QuPath's reader: %v\n%s", goErr, truncate(rec.Body.String(), 1500))
			}
			var fc featureCollection
			decode(t, rec, &fc)
			if len(objects) != len(fc.Features) || len(objects) == 0 {
				t.Fatalf("QuPath makes %d objects of %d features", len(objects), len(fc.Features))
			}
			for _, o := range objects {
				a, ok := byID[o.ID]
				if !ok {
					t.Errorf("object %q: QuPath does not keep the annotation's UUID", o.ID)
					continue
				}
				if o.Type != "annotation" {
					t.Errorf("%s: objectType %q, want annotation", a.ID, o.Type)
				}
				wantPath := make([]string, len(a.Label.Path))
				for i, n := range a.Label.Path {
					wantPath[i] = strings.ReplaceAll(n, ":", "-")
				}
				if strings.Join(o.ClassPath, "|") != strings.Join(wantPath, "|") {
					t.Errorf("%s: QuPath class %q, want the label path %q (a colon, QuPath's delimiter, as -)", a.ID, o.ClassPath, wantPath)
				}
				basis := tc.basis
				if basis == "" {
					basis = map[bool]string{true: "gsd", false: "georeference"}[a.ImageID == plain.ID]
				}
				if o.Measurements["area_m2"] <= 0 && o.Measurements["length_m"] <= 0 {
					t.Errorf("%s: measurements %v, want the size on the ground", a.ID, o.Measurements)
				}
				want := map[string]string{
					"confidence": string(a.Confidence), "identification": a.Identification, "note": a.Note,
					"review_status": a.ReviewStatus, "version": strconv.Itoa(a.Version), "measurement_basis": basis,
					"label": strings.Join(a.Label.Path, " › "), "shape": string(a.Shape), "created_by": a.CreatedBy,
				}
				if a.Confidence == "" {
					delete(want, "confidence")
				}
				if a.ImageID == img.ID {
					want["publisher"], want["claim"], want["image_id"], want["image_sha256"] = "NIS "+markup, "Claim "+markup, img.ID, img.SHA256
				}
				if a.ReviewStatus == annotations.ReviewAccepted {
					want["review_by"], want["review_reason"] = "bob", "Reason "+markup
				}
				for k, v := range want {
					if v != "" && o.Metadata[k] != v {
						t.Errorf("%s: QuPath metadata %s = %q, want %q", a.ID, k, o.Metadata[k], v)
					}
				}
			}
			for _, f := range fc.Features {
				if _, ok := f.Properties.Measurements["basis"]; ok {
					t.Errorf("%s: measurements hold basis %v", f.ID, f.Properties.Measurements["basis"])
				}
			}
		})
	}
}

// xmlElement is an element of a parsed XML document, with its children in order.
type xmlElement struct {
	Name     xml.Name
	Attrs    []xml.Attr
	Text     string // the character data directly inside, XML-decoded
	Children []*xmlElement
}

func parseXML(t *testing.T, body []byte) *xmlElement {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(body))
	root := &xmlElement{}
	stack := []*xmlElement{root}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the XML does not parse: %v", err)
		}
		top := stack[len(stack)-1]
		switch tk := tok.(type) {
		case xml.StartElement:
			e := &xmlElement{Name: tk.Name, Attrs: tk.Attr}
			top.Children = append(top.Children, e)
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.Text += string(tk)
		}
	}
	if len(root.Children) != 1 {
		t.Fatalf("%d root elements", len(root.Children))
	}
	return root.Children[0]
}

func (e *xmlElement) walk(f func(*xmlElement)) {
	f(e)
	for _, c := range e.Children {
		c.walk(f)
	}
}

// kmlSequence is the order OGC KML 2.2 (OGC 07-147r2, ogckml22.xsd,
// http://schemas.opengis.net/kml/2.2.0/ogckml22.xsd) gives the children of the feature
// elements satmark writes. AbstractFeatureType's sequence: name, visibility, open,
// atom:author, atom:link, address, xal:AddressDetails, phoneNumber, Snippet or snippet,
// description, AbstractViewGroup, AbstractTimePrimitiveGroup, styleUrl,
// AbstractStyleSelectorGroup (Style, StyleMap) any number of times, Region, Metadata or
// ExtendedData, then the extension groups. Then each type's own sequence:
// AbstractContainerType adds nothing but extensions, DocumentType adds Schema*, then
// AbstractFeatureGroup* (Folder, Placemark, GroundOverlay…); FolderType
// AbstractFeatureGroup*; PlacemarkType AbstractGeometryGroup (Point, LineString, Polygon,
// MultiGeometry…); AbstractOverlayType color, drawOrder, Icon, then GroundOverlayType
// altitude, altitudeModeGroup, LatLonBox, and kml22gx.xsd's gx:LatLonQuad in
// GroundOverlayObjectExtensionGroup. Elements of one group share a rank.
var kmlSequence = func() map[string]int {
	rank := map[string]int{}
	for i, group := range [][]string{
		{"name"}, {"visibility"}, {"open"}, {"author"}, {"link"}, {"address"}, {"AddressDetails"}, {"phoneNumber"},
		{"Snippet", "snippet"}, {"description"}, {"Camera", "LookAt"}, {"TimeStamp", "TimeSpan"}, {"styleUrl"},
		{"Style", "StyleMap"}, {"Region"}, {"Metadata", "ExtendedData"},
		// the types' own
		{"Schema"}, {"color"}, {"drawOrder"}, {"Icon"}, {"altitude"}, {"altitudeMode"}, {"LatLonBox"}, {"LatLonQuad"},
		{"Folder", "Document", "Placemark", "GroundOverlay", "Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"},
	} {
		for _, n := range group {
			rank[n] = i
		}
	}
	return rank
}()

var ncName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9._-]*$`)

// kmlStructure checks a KML document against the schema's rules a strict consumer
// enforces: the children of Document, Folder, Placemark and GroundOverlay in kmlSequence's
// order, every id an xs:ID (an NCName: not starting with a digit), every styleUrl naming a
// Style of the document, and gx:LatLonQuad and LatLonBox to 7 decimals at most.
func kmlStructure(t *testing.T, body []byte) *xmlElement {
	t.Helper()
	root := parseXML(t, body)
	if root.Name.Space != "http://www.opengis.net/kml/2.2" || root.Name.Local != "kml" {
		t.Fatalf("root element %v, want kml in the KML 2.2 namespace", root.Name)
	}
	styles := map[string]bool{}
	root.walk(func(e *xmlElement) {
		for _, a := range e.Attrs {
			if a.Name.Local == "id" && a.Name.Space == "" {
				if !ncName.MatchString(a.Value) {
					t.Errorf("<%s id=%q>: not an xs:ID (an NCName cannot start with a digit)", e.Name.Local, a.Value)
				}
				if e.Name.Local == "Style" {
					styles[a.Value] = true
				}
			}
		}
	})
	decimals := func(where, text string) {
		for _, n := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
			if i := strings.IndexByte(n, '.'); i >= 0 && len(n)-i-1 > 7 {
				t.Errorf("%s: %s has more than 7 decimals", where, n)
			}
		}
	}
	root.walk(func(e *xmlElement) {
		switch e.Name.Local {
		case "Document", "Folder", "Placemark", "GroundOverlay":
			last, lastName := -1, ""
			for _, c := range e.Children {
				r, ok := kmlSequence[c.Name.Local]
				if !ok {
					t.Errorf("<%s> holds <%s>, which it does not take", e.Name.Local, c.Name.Local)
					continue
				}
				if r < last {
					t.Errorf("<%s>: <%s> comes after <%s>; KML 2.2 wants it before", e.Name.Local, c.Name.Local, lastName)
				}
				last, lastName = r, c.Name.Local
			}
		case "styleUrl":
			if !styles[strings.TrimPrefix(strings.TrimSpace(e.Text), "#")] {
				t.Errorf("styleUrl %q names no Style of the document", e.Text)
			}
		case "LatLonQuad":
			for _, c := range e.Children {
				decimals("gx:LatLonQuad", c.Text)
			}
		case "LatLonBox":
			for _, c := range e.Children {
				decimals("LatLonBox "+c.Name.Local, c.Text)
			}
		}
	})
	return root
}

// TestKMLIsValidOGCKML22 checks the KML of a rotated image (gx:LatLonQuad) and of a
// north-up one (LatLonBox) against KML 2.2's element order and types, and that the KMZ's
// entries carry a real modification time: the latest change to what they hold.
func TestKMLIsValidOGCKML22(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	rotated, _ := markedUpImage(t, ts)
	northUp := ts.mustUpload(t, filePart("harbour.png", pngBytes(t, 64, 48, 907)), field("worldfile", worldfileText(t, "handwritten.jgw")), field("title", "harbour"))
	ts.createAnnotation(t, northUp.ID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [40.5, 30.25]}}`)
	ts.buildPyramids(t)

	for _, img := range []annotations.Image{rotated, northUp} {
		t.Run(img.Title, func(t *testing.T) {
			rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/annotations.kml", nil)
			wantStatus(t, rec, http.StatusOK)
			root := kmlStructure(t, rec.Body.Bytes())
			n := 0
			root.walk(func(e *xmlElement) {
				if e.Name.Local == "LatLonQuad" || e.Name.Local == "LatLonBox" {
					n++
				}
			})
			if n != 1 {
				t.Errorf("%d overlay boxes, want one LatLonQuad or LatLonBox", n)
			}

			rec = ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/annotations.kmz", nil)
			wantStatus(t, rec, http.StatusOK)
			z, err := zip.NewReader(bytes.NewReader(rec.Body.Bytes()), int64(rec.Body.Len()))
			if err != nil {
				t.Fatalf("the KMZ is not a zip: %v", err)
			}
			var got annotations.Image
			decode(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID, nil), &got)
			latest := got.UpdatedAt
			var list []annotations.Annotation
			decode(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/annotations", nil), &list)
			for _, a := range list {
				if a.UpdatedAt.After(latest) {
					latest = a.UpdatedAt
				}
			}
			for _, f := range z.File {
				if f.Modified.Year() < 2000 {
					t.Errorf("entry %s is dated %v", f.Name, f.Modified)
				}
				if !f.Modified.Equal(latest.Truncate(time.Second)) {
					t.Errorf("entry %s is dated %v, want the latest change to the image and its annotations, %v", f.Name, f.Modified, latest.Truncate(time.Second))
				}
				if f.Name == "doc.kml" {
					r, err := f.Open()
					if err != nil {
						t.Fatal(err)
					}
					doc, err := io.ReadAll(r)
					r.Close()
					if err != nil {
						t.Fatal(err)
					}
					kmlStructure(t, doc)
				}
			}
		})
	}
}

// TestKMLTextIsNotHTML exports a KML whose every user text holds markup. Google Earth
// renders a description (and the name in its balloon) as HTML, so after XML-decoding no
// <description>, <name> or <Snippet> may hold a "<" from user text: the text is there,
// escaped for HTML. ExtendedData keeps the text as it was typed.
func TestKMLTextIsNotHTML(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img, anns := markedUpImage(t, ts)
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/annotations.kml", nil)
	wantStatus(t, rec, http.StatusOK)
	root := parseXML(t, rec.Body.Bytes())

	var shown []string
	data := map[string][]string{}
	root.walk(func(e *xmlElement) {
		switch e.Name.Local {
		case "description", "name", "Snippet", "snippet":
			shown = append(shown, e.Text)
			if strings.Contains(e.Text, "<") {
				t.Errorf("<%s> holds markup Google Earth would render: %q", e.Name.Local, e.Text)
			}
		case "Data":
			for _, a := range e.Attrs {
				if a.Name.Local == "name" && len(e.Children) == 1 {
					data[a.Value] = append(data[a.Value], e.Children[0].Text)
				}
			}
		}
	})
	// What each text looks like once Google Earth has rendered the HTML.
	rendered := html.UnescapeString(strings.Join(shown, "\n"))
	ship := anns[0]
	for _, want := range []string{img.Title, "NIS " + markup, "Credit " + markup, "Claim " + markup,
		ship.Identification, ship.Note, ship.Label.Name} {
		if !strings.Contains(rendered, want) {
			t.Errorf("no description or name shows %q", want)
		}
	}
	for name, want := range map[string]string{"note": ship.Note, "identification": ship.Identification,
		"publisher": "NIS " + markup, "claim": "Claim " + markup, "location_name": "Location " + markup, "review_reason": "Reason " + markup} {
		if !slices.Contains(data[name], want) {
			t.Errorf("ExtendedData %s = %q, want %q as typed", name, data[name], want)
		}
	}
}

package geo

import (
	"bufio"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// crsVector is one line of testdata/crs-vectors.txt: a position converted by cs2cs.
type crsVector struct {
	line    int
	inverse bool // x, y → lon, lat; else lon, lat → x, y
	crs     CRS
	in, out [2]float64
}

func readCRSVectors(t *testing.T) []crsVector {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "crs-vectors.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []crsVector
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 6 {
			t.Fatalf("crs-vectors.txt:%d: %d fields, want 6", n, len(fields))
		}
		v := crsVector{line: n, inverse: fields[0] == "inv"}
		code, err := strconv.Atoi(strings.TrimPrefix(fields[1], "EPSG:"))
		if err != nil {
			t.Fatalf("crs-vectors.txt:%d: %v", n, err)
		}
		v.crs = EPSG(code)
		nums := make([]float64, 4)
		for i := range nums {
			if nums[i], err = strconv.ParseFloat(fields[2+i], 64); err != nil {
				t.Fatalf("crs-vectors.txt:%d: %v", n, err)
			}
		}
		v.in, v.out = [2]float64{nums[0], nums[1]}, [2]float64{nums[2], nums[3]}
		vs = append(vs, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

// crsLonDiff is the difference of two longitudes in degrees, across the antimeridian too.
func crsLonDiff(a, b float64) float64 {
	d := math.Mod(a-b, 360)
	if d > 180 {
		d -= 360
	} else if d < -180 {
		d += 360
	}
	return d
}

// TestCRSAgainstCS2CS checks every projection against PROJ's cs2cs: 1 mm forward and
// 1e-9° back, for UTM up to 4° from the central meridian and, as the vectors show, far
// beyond.
func TestCRSAgainstCS2CS(t *testing.T) {
	vectors := readCRSVectors(t)
	type worst struct {
		metres, degrees float64
		count           int
	}
	worstBy := map[CRS]*worst{}
	for _, v := range vectors {
		w := worstBy[v.crs]
		if w == nil {
			w = &worst{}
			worstBy[v.crs] = w
		}
		w.count++
		if !v.inverse {
			x, y, err := v.crs.FromLonLat(v.in[0], v.in[1])
			if err != nil {
				t.Errorf("line %d: %s.FromLonLat(%v, %v): %v", v.line, v.crs, v.in[0], v.in[1], err)
				continue
			}
			d := math.Hypot(x-v.out[0], y-v.out[1])
			w.metres = max(w.metres, d)
			if d > 1e-3 {
				t.Errorf("line %d: %s.FromLonLat(%v, %v) = (%.6f, %.6f), cs2cs says (%.6f, %.6f): %.3g m apart",
					v.line, v.crs, v.in[0], v.in[1], x, y, v.out[0], v.out[1], d)
			}
			// And back from cs2cs's x, y.
			lon, lat, err := v.crs.ToLonLat(v.out[0], v.out[1])
			if err != nil {
				t.Errorf("line %d: %s.ToLonLat(%v, %v): %v", v.line, v.crs, v.out[0], v.out[1], err)
				continue
			}
			dd := math.Max(math.Abs(lat-v.in[1]), math.Abs(crsLonDiff(lon, v.in[0])))
			if math.Abs(v.in[1]) == 90 {
				dd = math.Abs(lat - v.in[1])
			}
			w.degrees = max(w.degrees, dd)
			if dd > 1e-9 {
				t.Errorf("line %d: %s.ToLonLat(%v, %v) = (%.12f, %.12f), want (%.12f, %.12f)", v.line, v.crs, v.out[0], v.out[1], lon, lat, v.in[0], v.in[1])
			}
			continue
		}
		lon, lat, err := v.crs.ToLonLat(v.in[0], v.in[1])
		if err != nil {
			t.Errorf("line %d: %s.ToLonLat(%v, %v): %v", v.line, v.crs, v.in[0], v.in[1], err)
			continue
		}
		dd := math.Max(math.Abs(lat-v.out[1]), math.Abs(crsLonDiff(lon, v.out[0])))
		w.degrees = max(w.degrees, dd)
		if dd > 1e-9 {
			t.Errorf("line %d: %s.ToLonLat(%v, %v) = (%.12f, %.12f), cs2cs says (%.12f, %.12f)", v.line, v.crs, v.in[0], v.in[1], lon, lat, v.out[0], v.out[1])
		}
	}
	if len(worstBy) != 6 {
		t.Errorf("vectors for %d CRSs, want 6", len(worstBy))
	}
	for c, w := range worstBy {
		if w.count < 50 {
			t.Errorf("%s: %d vectors, want at least 50", c, w.count)
		}
		t.Logf("%s: %d vectors, worst %.3g m forward, %.3g° back", c, w.count, w.metres, w.degrees)
	}
}

func TestCRSRoundTrip(t *testing.T) {
	for _, c := range []CRS{WGS84, WebMercator, EPSG(32601), EPSG(32631), EPSG(32652), EPSG(32660), EPSG(32701), EPSG(32756), EPSG(32760)} {
		for lat := -80.0; lat <= 80; lat += 7.3 {
			for d := -4.0; d <= 4; d += 0.7 {
				lon := d
				if zone, _ := c.utm(); zone != 0 {
					lon = crsWrapLon(utmCentralMeridian(zone) + d)
				}
				x, y, err := c.FromLonLat(lon, lat)
				if err != nil {
					t.Fatalf("%s.FromLonLat(%v, %v): %v", c, lon, lat, err)
				}
				lon2, lat2, err := c.ToLonLat(x, y)
				if err != nil {
					t.Fatalf("%s.ToLonLat(%v, %v): %v", c, x, y, err)
				}
				if math.Abs(crsLonDiff(lon2, lon)) > 1e-11 || math.Abs(lat2-lat) > 1e-11 {
					t.Errorf("%s: (%v, %v) → (%v, %v) → (%.14f, %.14f)", c, lon, lat, x, y, lon2, lat2)
				}
			}
		}
	}
}

func TestUTMPoles(t *testing.T) {
	// The poles are on every meridian; PROJ gives northing ±9997964.943 m for both.
	for _, lat := range []float64{90, -90} {
		_, y, err := EPSG(32631).FromLonLat(3, lat)
		if err != nil {
			t.Fatal(err)
		}
		if want := math.Copysign(9997964.943021, lat); math.Abs(y-want) > 1e-3 {
			t.Errorf("northing at latitude %v = %.6f, want %.6f", lat, y, want)
		}
		_, lat2, err := EPSG(32631).ToLonLat(500000, y)
		if err != nil || math.Abs(lat2-lat) > 1e-12 {
			t.Errorf("back to latitude: %v, %v; want %v", lat2, err, lat)
		}
	}
}

func TestCRSValid(t *testing.T) {
	// In Go: 4326, 3857, UTM; through OSR: Lambert-93, NAD83, world Mercator, UPS North,
	// polar stereographic north, British National Grid, ETRS89.
	for _, code := range []int{4326, 3857, 32601, 32630, 32660, 32701, 32760, 2154, 4269, 3395, 32661, 3413, 27700, 4258} {
		if err := EPSG(code).Valid(); err != nil {
			t.Errorf("EPSG:%d.Valid() = %v, want nil", code, err)
		}
	}
	// Codes that are no EPSG CRS, one with no inverse (32600, UTM's zones as one), a
	// vertical and a geocentric CRS.
	for _, c := range []CRS{EPSG(-1), EPSG(32600), EPSG(32700), EPSG(999999), EPSG(5773), EPSG(4978)} {
		err := c.Valid()
		var e *Error
		if !errors.Is(err, ErrUnsupportedCRS) || !errors.As(err, &e) || !strings.Contains(e.Message, c.String()) {
			t.Errorf("%s.Valid() = %v, want an ErrUnsupportedCRS naming it", c, err)
		}
		if _, _, err := c.FromLonLat(0, 0); !errors.Is(err, ErrUnsupportedCRS) {
			t.Errorf("%s.FromLonLat = %v, want ErrUnsupportedCRS", c, err)
		}
		if _, _, err := c.ToLonLat(0, 0); !errors.Is(err, ErrUnsupportedCRS) {
			t.Errorf("%s.ToLonLat = %v, want ErrUnsupportedCRS", c, err)
		}
	}
	if err := (CRS{}).Valid(); !errors.Is(err, ErrUnsupportedCRS) {
		t.Errorf("no CRS: Valid() = %v, want ErrUnsupportedCRS", err)
	}
	if got := EPSG(32652).String(); got != "EPSG:32652" {
		t.Errorf("String() = %q", got)
	}
}

func TestCRSOutOfRange(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name string
		crs  CRS
		lon  float64
		lat  float64
	}{
		{"nok, latitude above 90", WGS84, 0, 90.0001},
		{"nok, latitude below -90", WGS84, 0, -91},
		{"nok, NaN", WGS84, nan, 0},
		{"nok, infinite latitude", WGS84, 0, inf},
		{"nok, longitude past 360", WGS84, 361, 0},
		{"nok, web Mercator above its square", WebMercator, 0, 85.06},
		{"nok, web Mercator at the pole", WebMercator, 0, -90},
		{"nok, UTM 46° from the meridian", EPSG(32652), 129 + 46, 0},
		{"nok, UTM 75° of longitude from the meridian at 40°N", EPSG(32652), 129 + 75, 40},
		{"nok, UTM across the pole", EPSG(32652), 129 + 120, 89.9},
		{"nok, UTM on the other side of the earth", EPSG(32652), 129 - 180, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := tc.crs.FromLonLat(tc.lon, tc.lat); !errors.Is(err, ErrOutOfRange) {
				t.Errorf("FromLonLat(%v, %v) = %v, want ErrOutOfRange", tc.lon, tc.lat, err)
			}
		})
	}
	inverse := []struct {
		name string
		crs  CRS
		x, y float64
	}{
		{"nok, web Mercator y beyond the square", WebMercator, 0, 20037509},
		{"nok, NaN easting", EPSG(32652), nan, 0},
		{"nok, UTM easting far outside", EPSG(32652), 1e9, 4e6},
		{"nok, UTM easting overflowing", EPSG(32652), 1e300, 0},
		{"nok, 4326 latitude", WGS84, 0, 100},
	}
	for _, tc := range inverse {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := tc.crs.ToLonLat(tc.x, tc.y); !errors.Is(err, ErrOutOfRange) {
				t.Errorf("ToLonLat(%v, %v) = %v, want ErrOutOfRange", tc.x, tc.y, err)
			}
		})
	}
	// The edges themselves work: the corners of the web Mercator square.
	if lon, lat, err := WebMercator.ToLonLat(20037508.342789244, -20037508.342789244); err != nil || lon != 180 || math.Abs(lat+85.0511287798066) > 1e-12 {
		t.Errorf("web Mercator corner: %v, %v, %v", lon, lat, err)
	}
	if _, _, err := WebMercator.FromLonLat(180, 85.0511287798); err != nil {
		t.Errorf("web Mercator at 85.0511287798°: %v", err)
	}
}

func TestUTMZone(t *testing.T) {
	tests := []struct {
		lon, lat float64
		want     CRS
	}{
		{131.9, 43.1, EPSG(32652)},       // Vladivostok
		{151.2, -33.87, EPSG(32756)},     // Sydney
		{-70.6, -33.45, EPSG(32719)},     // Santiago
		{2.35, 48.85, EPSG(32631)},       // Paris
		{0, 0, EPSG(32631)},              // on a boundary: the zone to the east
		{-0.0001, 0, EPSG(32630)},        // just west of Greenwich
		{-180, 10, EPSG(32601)},          // the antimeridian starts zone 1
		{180, 10, EPSG(32601)},           // from either side
		{179.9999, -10, EPSG(32760)},     // the last zone
		{190, 10, EPSG(32601 + 1)},       // 190° is -170°: zone 2
		{5.3, 60.4, EPSG(32631)},         // Bergen: 31, not Norway's 32V
		{15.6, 78.2, EPSG(32633)},        // Longyearbyen: 33, not Svalbard's 33X rule (it is 33 anyway)
		{-179.9, -0.000001, EPSG(32701)}, // south of the equator
	}
	for _, tc := range tests {
		if got := UTMZone(tc.lon, tc.lat); got != tc.want {
			t.Errorf("UTMZone(%v, %v) = %s, want %s", tc.lon, tc.lat, got, tc.want)
		}
	}
	for _, bad := range [][2]float64{{math.NaN(), 0}, {0, 91}, {0, math.NaN()}, {math.Inf(-1), 0}} {
		if got := UTMZone(bad[0], bad[1]); got.Valid() == nil {
			t.Errorf("UTMZone(%v, %v) = %s, want an invalid CRS", bad[0], bad[1], got)
		}
	}
}

// TestWKT checks WKT() against what `gdalsrsinfo -o wkt_esri EPSG:<code>` prints
// (testdata/wkt/esri-<code>.prj, written by make-crs-vectors.sh; GDAL identifies those
// files as the same EPSG code, see wkt/identified.txt).
func TestWKT(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "wkt", "esri-*.prj"))
	if err != nil || len(files) < 6 {
		t.Fatalf("Esri WKT vectors: %v, %v", files, err)
	}
	for _, file := range files {
		code, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "esri-"), ".prj"))
		c := EPSG(code)
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.PRJ(); got != crsSqueezeWKT(string(want)) {
			t.Errorf("%s.PRJ() =\n%s\nwant (gdalsrsinfo)\n%s", c, got, crsSqueezeWKT(string(want)))
		}
		if back, err := CRSFromWKT(c.PRJ()); back != c || err != nil {
			t.Errorf("CRSFromWKT(%s.PRJ()) = %s, %v", c, back, err)
		}
	}
	identified, err := os.ReadFile(filepath.Join("testdata", "wkt", "identified.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(identified)), "\n") {
		file, code, _ := strings.Cut(line, " ")
		if want := "EPSG:" + strings.TrimSuffix(strings.TrimPrefix(file, "esri-"), ".prj"); code != want {
			t.Errorf("gdalsrsinfo -e identifies %s as %q, want %s", file, code, want)
		}
	}
	// Through OSR: what gdalsrsinfo writes, exactly.
	osr, _ := filepath.Glob(filepath.Join("testdata", "wkt", "osr", "esri-*.prj"))
	if len(osr) < 3 {
		t.Fatalf("OSR Esri WKT vectors: %v", osr)
	}
	for _, file := range osr {
		code, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(file), "esri-"), ".prj"))
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := EPSG(code).PRJ(); got != crsSqueezeWKT(string(want)) {
			t.Errorf("EPSG:%d.PRJ() =\n%s\nwant (gdalsrsinfo)\n%s", code, got, crsSqueezeWKT(string(want)))
		}
	}
	if got := EPSG(999999).PRJ(); got != "" {
		t.Errorf("PRJ of a CRS that is not Valid = %q, want \"\"", got)
	}
}

// crsSqueezeWKT removes the line breaks and indentation gdalsrsinfo adds.
func crsSqueezeWKT(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(strings.TrimSpace(line))
	}
	return b.String()
}

// TestCRSFromWKT reads the .prj texts GDAL writes for the supported CRSs in every WKT
// flavour (testdata/wkt/*.prj, from gdalsrsinfo), names alone, and unsupported ones.
func TestCRSFromWKT(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "wkt", "*.prj"))
	if err != nil || len(files) < 20 {
		t.Fatalf("WKT vectors: %d files, %v", len(files), err)
	}
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), ".prj")
		_, codeText, _ := strings.Cut(base, "-")
		code, _ := strconv.Atoi(codeText)
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := CRSFromWKT(string(text)); err != nil || got != EPSG(code) {
			t.Errorf("%s: CRSFromWKT = %s, %v; want EPSG:%d", base, got, err, code)
		}
	}
	// Through OSR, Esri's WKT (no authority) identified as its EPSG code.
	osr, _ := filepath.Glob(filepath.Join("testdata", "wkt", "osr", "*.prj"))
	if len(osr) < 6 {
		t.Fatalf("OSR WKT vectors: %d files", len(osr))
	}
	for _, file := range osr {
		base := strings.TrimSuffix(filepath.Base(file), ".prj")
		_, codeText, _ := strings.Cut(base, "-")
		code, _ := strconv.Atoi(codeText)
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := CRSFromWKT(string(text)); err != nil || got != EPSG(code) {
			t.Errorf("%s: CRSFromWKT = %s, %v; want EPSG:%d", base, got, err, code)
		}
	}

	tests := []struct {
		name string
		wkt  string
		want int
	}{
		{"ok, Esri geographic by name", `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`, 4326},
		{"ok, OGC name without authority", `GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]]`, 4326},
		{"ok, UTM south by GDAL's name", `PROJCS["WGS 84 / UTM zone 52S",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["central_meridian",129],UNIT["metre",1]]`, 32752},
		{"ok, Esri UTM name", `PROJCS["WGS_1984_UTM_Zone_52N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]],PROJECTION["Transverse_Mercator"]]`, 32652},
		{"ok, Esri zone 1", `PROJCS["WGS_1984_UTM_Zone_1S",GEOGCS["GCS_WGS_1984"]]`, 32701},
		{"ok, Esri web Mercator", `PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]]],PROJECTION["Mercator_Auxiliary_Sphere"]]`, 3857},
		{"ok, Pseudo-Mercator", `PROJCS["Pseudo-Mercator",GEOGCS["WGS 84"]]`, 3857},
		{"ok, Esri 102100 authority", `PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984"],AUTHORITY["ESRI","102100"]]`, 3857},
		{"ok, authority decides over the name", `PROJCS["my map",GEOGCS["WGS 84",AUTHORITY["EPSG","4326"]],AUTHORITY["EPSG","32633"]]`, 32633},
		{"ok, WKT 2 round brackets", `PROJCRS("WGS 84 / UTM zone 33N",BASEGEOGCRS("WGS 84",ID("EPSG",4326)),ID("EPSG",32633))`, 32633},
		{"ok, CRLF, BOM and spaces", "\ufeff  GEOGCS[\"GCS_WGS_1984\",\r\n  DATUM[\"D_WGS_1984\"]]\r\n", 4326},
		{"ok, a bare EPSG code", "EPSG:32756", 32756},
		{"ok, Lambert-93 by its authority", `PROJCS["RGF93 v1 / Lambert-93",AUTHORITY["EPSG","2154"]]`, 2154},
		{"ok, a bare code PROJ knows", "EPSG:27700", 27700},
		{"ok, doubled quote in a name", `GEOGCS["WGS 84",DATUM["a ""quoted"" datum"],AUTHORITY["EPSG","4326"]]`, 4326},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CRSFromWKT(tc.wkt)
			if err != nil || got != EPSG(tc.want) {
				t.Errorf("CRSFromWKT = %s, %v; want EPSG:%d", got, err, tc.want)
			}
		})
	}

	bad := []struct {
		name string
		wkt  string
		kind error
	}{
		{"nok, empty", "", ErrInvalid},
		{"nok, not WKT", "hello world", ErrInvalid},
		{"nok, unterminated", `GEOGCS["WGS 84",DATUM["WGS_1984"]`, ErrInvalid},
		{"nok, unterminated string", `GEOGCS["WGS 84]`, ErrInvalid},
		{"nok, trailing text", `GEOGCS["WGS 84"] x`, ErrInvalid},
		{"nok, bad EPSG code", "EPSG:abc", ErrInvalid},
		{"nok, too deep", strings.Repeat("A[", 100) + strings.Repeat("]", 100), ErrInvalid},
		// Names alone that are not one of the CRSs computed in Go: GDAL cannot read them.
		{"nok, NAD83 by name", `GEOGCS["NAD83",DATUM["North_American_Datum_1983"]]`, ErrInvalid},
		{"nok, UTM zone 61", `PROJCS["WGS 84 / UTM zone 61N",GEOGCS["WGS 84"]]`, ErrInvalid},
		{"nok, NAD83 UTM", `PROJCS["NAD83 / UTM zone 10N",GEOGCS["NAD83"]]`, ErrInvalid},
		{"nok, an EPSG code PROJ does not know", `PROJCS["my map",AUTHORITY["EPSG","999999"]]`, ErrUnsupportedCRS},
		{"nok, bare unknown code", "EPSG:999999", ErrUnsupportedCRS},
		{"nok, garbage inside the brackets", `PROJCS["x",GEOGCS["y",DATUM["z",SPHEROID["w",1,2]]],PROJECTION["No_Such_Projection"]]`, ErrInvalid},
		{"nok, a datum is not a CRS", `DATUM["WGS_1984"]`, ErrUnsupportedCRS},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CRSFromWKT(tc.wkt)
			if !errors.Is(err, tc.kind) {
				t.Errorf("CRSFromWKT = %s, %v; want %v", got, err, tc.kind)
			}
		})
	}
}

package geo

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// osrVectorCRS is the CRS a line of osr-vectors.txt names: EPSG:<code> or a .prj file.
func osrVectorCRS(t *testing.T, name string) CRS {
	t.Helper()
	if strings.HasPrefix(name, "EPSG:") {
		c, err := ParseEPSG(name)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	text, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	c, err := CRSFromWKT(string(text))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// TestOSRAgainstTools converts the positions of testdata/osr-vectors.txt (cs2cs for EPSG
// codes, gdaltransform for .prj files; make-osr-vectors.sh) and wants 1 mm forward and
// 1e-9° back. UTM 52N is computed in Go; its vectors within OSR's area of use for it also
// go through OSR as a cross-check.
func TestOSRAgainstTools(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "osr-vectors.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	crss := map[string]CRS{}
	type worst struct {
		n             int
		units, degree float64
	}
	worstBy := map[string]*worst{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 6 {
			t.Fatalf("bad vector line %q", sc.Text())
		}
		var v [4]float64
		for i := range v {
			if v[i], err = strconv.ParseFloat(fields[2+i], 64); err != nil {
				t.Fatalf("bad number in %q", sc.Text())
			}
		}
		name := fields[1]
		c, ok := crss[name]
		if !ok {
			c = osrVectorCRS(t, name)
			crss[name] = c
			worstBy[name] = &worst{}
		}
		w := worstBy[name]
		w.n++
		convert := []struct {
			how string
			fwd func(lon, lat float64) (float64, float64, error)
			inv func(x, y float64) (float64, float64, error)
		}{{"", c.FromLonLat, c.ToLonLat}}
		lon := v[0]
		if fields[0] == "inv" {
			lon = v[2]
		}
		if c.native() && math.Abs(crsWrapLon(lon-129)) <= 3+osrAreaMargin { // UTM 52N's area, for OSR
			convert = append(convert, struct {
				how string
				fwd func(lon, lat float64) (float64, float64, error)
				inv func(x, y float64) (float64, float64, error)
			}{" through OSR",
				func(lon, lat float64) (float64, float64, error) { return osrConvert(c, lon, lat, false) },
				func(x, y float64) (float64, float64, error) { return osrConvert(c, x, y, true) }})
		}
		for _, cv := range convert {
			switch fields[0] {
			case "fwd":
				x, y, err := cv.fwd(v[0], v[1])
				d := math.Max(math.Abs(x-v[2]), math.Abs(y-v[3]))
				if err != nil || d > 1e-3 {
					t.Errorf("%s%s: FromLonLat(%v, %v) = (%.6f, %.6f), %v; the tool says (%.6f, %.6f)", name, cv.how, v[0], v[1], x, y, err, v[2], v[3])
				}
				w.units = math.Max(w.units, d)
			case "inv":
				lon, lat, err := cv.inv(v[0], v[1])
				dlon := math.Abs(crsWrapLon(lon - v[2]))
				if math.Abs(v[3]) == 90 {
					dlon = 0
				}
				d := math.Max(dlon, math.Abs(lat-v[3]))
				if err != nil || d > 1e-9 {
					t.Errorf("%s%s: ToLonLat(%v, %v) = (%.12f, %.12f), %v; the tool says (%.12f, %.12f)", name, cv.how, v[0], v[1], lon, lat, err, v[2], v[3])
				}
				w.degree = math.Max(w.degree, d)
			default:
				t.Fatalf("bad vector line %q", sc.Text())
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"EPSG:2154", "EPSG:32652", "EPSG:3413", "EPSG:27700", "wkt/osr/esri-2154.prj", "wkt/custom/tm-esri.prj"} {
		w := worstBy[name]
		if w == nil || w.n < 15 {
			t.Errorf("%s: too few vectors", name)
			continue
		}
		t.Logf("%s (%s): %d vectors, worst %.3g units forward, %.3g° back", name, crss[name], w.n, w.units, w.degree)
	}
	// Esri's Lambert-93 is EPSG:2154; the local transverse Mercator has no code and stays WKT.
	if c := crss["wkt/osr/esri-2154.prj"]; c != EPSG(2154) {
		t.Errorf("Esri Lambert-93 read as %+v, want EPSG:2154", c)
	}
	if c := crss["wkt/custom/tm-esri.prj"]; c.EPSG != 0 || !strings.HasPrefix(c.WKT, "PROJCRS[") || c.String() != "Harbour_Local_TM" {
		t.Errorf("local TM read as %+v (%s), want WKT 2 named Harbour_Local_TM", c, c)
	}
}

// TestOSRCRSFromWKT reads back a WKT-only CRS from the WKT it is kept as, and from its .prj.
func TestOSRCRSFromWKT(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "wkt", "custom", "tm-esri.prj"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := CRSFromWKT(string(text))
	if err != nil {
		t.Fatal(err)
	}
	back, err := CRSFromWKT(c.WKT)
	if err != nil || back != c {
		t.Errorf("CRSFromWKT(its own WKT 2) = %+v, %v; want the same CRS", back, err)
	}
	again, err := CRSFromWKT(c.PRJ())
	if err != nil || again != c {
		t.Errorf("CRSFromWKT(PRJ()) = %+v, %v; want the same CRS\nPRJ: %s", again, err, c.PRJ())
	}
	if !strings.Contains(c.PRJ(), `PROJCS["Harbour_Local_TM"`) {
		t.Errorf("PRJ() = %s, want Esri WKT named Harbour_Local_TM", c.PRJ())
	}
}

// A CRS whose projection PROJ cannot invert (Airy's), as GDAL writes it in WKT 1.
const osrAiryWKT = `PROJCS["unknown",GEOGCS["unknown",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["custom_proj4"],UNIT["metre",1],EXTENSION["PROJ4","+proj=airy +datum=WGS84 +wktext +no_defs"]]`

func TestOSRErrors(t *testing.T) {
	bad := []struct {
		name  string
		crs   func() (CRS, error)
		kind  error
		field string
		says  string
	}{
		{"nok, unknown EPSG code", func() (CRS, error) { return ParseEPSG("EPSG:999999") }, ErrUnsupportedCRS, "crs", "EPSG:999999 is not a CRS PROJ knows"},
		{"nok, garbage WKT", func() (CRS, error) { return CRSFromWKT(`PROJCS["x",GEOGCS["y"],PROJECTION["Nope"]]`) }, ErrInvalid, "wkt", "GDAL cannot read the WKT"},
		{"nok, a projection with no inverse (WKT)", func() (CRS, error) { return CRSFromWKT(osrAiryWKT) }, ErrUnsupportedCRS, "crs", "PROJ cannot convert"},
		{"nok, no inverse (EPSG:32600, UTM's zones as one)", func() (CRS, error) { return ParseEPSG("32600") }, ErrUnsupportedCRS, "crs", "PROJ cannot convert positions of EPSG:32600"},
		{"nok, vertical", func() (CRS, error) { return ParseEPSG("EPSG:5773") }, ErrUnsupportedCRS, "crs", "not a projected or geographic CRS"},
		{"nok, geocentric", func() (CRS, error) { return ParseEPSG("EPSG:4978") }, ErrUnsupportedCRS, "crs", "not a projected or geographic CRS"},
		{"nok, a local engineering CRS", func() (CRS, error) { return CRSFromWKT(`LOCAL_CS["site grid",LOCAL_DATUM["site",0],UNIT["metre",1]]`) }, ErrUnsupportedCRS, "wkt", ""},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.crs()
			var e *Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &e) || e.Field != tc.field || !strings.Contains(e.Message, tc.says) {
				t.Fatalf("got %+v, %v; want %v in %q saying %q", c, err, tc.kind, tc.field, tc.says)
			}
			if _, _, err := c.ToLonLat(700000, 6600000); err == nil {
				t.Errorf("ToLonLat in a CRS that is not valid works")
			}
		})
	}

	// Positions PROJ cannot convert, or that do not come back: an error naming the CRS
	// and its area, never NaN.
	polar, lambert := EPSG(3413), EPSG(2154)
	outside := []struct {
		name string
		conv func() (float64, float64, error)
		says string
	}{
		{"nok, polar stereographic north at the south pole", func() (float64, float64, error) { return polar.FromLonLat(0, -90) }, "Northern hemisphere - north of 60°N"},
		{"nok, polar stereographic a light year out", func() (float64, float64, error) { return polar.ToLonLat(1e16, 1e16) }, "EPSG:3413"},
		{"nok, Lambert-93 at the far pole of its cone", func() (float64, float64, error) { return lambert.FromLonLat(3, -90) }, "France"},
		{"nok, infinite easting", func() (float64, float64, error) { return lambert.ToLonLat(math.Inf(1), 6600000) }, "not a position"},
		{"nok, latitude past the pole", func() (float64, float64, error) { return lambert.FromLonLat(3, 91) }, "not a longitude and latitude"},
		{"nok, NAD83 (an area across the antimeridian) in Europe", func() (float64, float64, error) { return EPSG(4269).FromLonLat(10, 50) }, "North America"},
	}
	for _, tc := range outside {
		t.Run(tc.name, func(t *testing.T) {
			a, b, err := tc.conv()
			var e *Error
			if !errors.Is(err, ErrOutOfRange) || !errors.As(err, &e) || !strings.Contains(e.Message, tc.says) {
				t.Errorf("got (%v, %v), %v; want ErrOutOfRange saying %q", a, b, err, tc.says)
			}
		})
	}
}

// TestOSRAreaAcrossTheAntimeridian converts NAD83 positions on both sides of 180° (its
// area of use runs from 167.65° E to 40.73° W) and just past its edges.
func TestOSRAreaAcrossTheAntimeridian(t *testing.T) {
	for _, p := range [][2]float64{{-100, 40}, {172.5, 52.5}, {-179.9, 51}, {179.9, 51}, {-37, 60}, {163, 55}} {
		if _, _, err := EPSG(4269).FromLonLat(p[0], p[1]); err != nil {
			t.Errorf("NAD83 at %v: %v", p, err)
		}
	}
	for _, p := range [][2]float64{{-30, 60}, {155, 50}, {-100, 5}} {
		if _, _, err := EPSG(4269).FromLonLat(p[0], p[1]); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("NAD83 at %v: %v, want ErrOutOfRange", p, err)
		}
	}
}

// TestOSRConcurrent converts in many goroutines at once (OSR's objects are not
// thread-safe; satmark serialises their use) and wants every answer right.
func TestOSRConcurrent(t *testing.T) {
	crss := []CRS{EPSG(2154), EPSG(3413), EPSG(27700), EPSG(4258)}
	want := make([][2]float64, len(crss))
	for i, c := range crss {
		x, y, err := c.FromLonLat(2, 56)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = [2]float64{x, y}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 400 {
				i := (g + k) % len(crss)
				x, y, err := crss[i].FromLonLat(2, 56)
				if err == nil && (x != want[i][0] || y != want[i][1]) {
					err = fmt.Errorf("%s: (%v, %v), want %v", crss[i], x, y, want[i])
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestOSRBounded opens many more CRSs than it keeps: the CRSs open in GDAL stay at the
// cache's size, and the process's resident memory does not grow with them.
func TestOSRBounded(t *testing.T) {
	// Built directly rather than by CRSFromWKT, whose search for an equivalent EPSG code
	// takes a good part of a second.
	tm := func(i int) CRS {
		return CRS{WKT: fmt.Sprintf(`PROJCS["loop %d",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",%.6f],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`, i, 10+float64(i)*1e-4)}
	}
	use := func(from, to int) {
		for i := from; i < to; i++ {
			c := tm(i)
			if _, _, err := c.ToLonLat(1000, 5e6); err != nil {
				t.Fatal(err)
			}
			osrMu.Lock()
			open := osrOpen
			osrMu.Unlock()
			if open > osrCacheSize {
				t.Fatalf("%d CRSs open in GDAL after %d, want at most %d", open, i+1, osrCacheSize)
			}
		}
	}
	use(0, 100)
	before := osrRSS(t)
	use(100, 400)
	after := osrRSS(t)
	t.Logf("resident memory %d MiB before 300 more CRSs, %d MiB after", before>>20, after>>20)
	if after-before > 24<<20 {
		t.Errorf("resident memory grew by %d MiB over 300 CRSs", (after-before)>>20)
	}
}

// osrRSS reads the process's resident memory from /proc.
func osrRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm")
	}
	fields := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(fields[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// TestGeoTIFFUserDefinedCRS reads a GeoTIFF whose CRS has no EPSG code (GDAL wrote it as
// user-defined GeoKeys, make-osr-rasters.sh): ReadGeoTIFFFile places it through GDAL as
// gdaltransform does (osr-rasters.txt); ReadGeoTIFF, with bytes only, says why it cannot.
func TestGeoTIFFUserDefinedCRS(t *testing.T) {
	path := filepath.Join("testdata", "osr-raster", "custom-tm.tif")
	g, err := ReadGeoTIFFFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Grid == nil || len(g.Warnings) != 0 || g.Grid.CRS.EPSG != 0 || g.Grid.CRS.String() != "Harbour_Local_TM" {
		t.Fatalf("grid %+v, warnings %q; want a grid in Harbour_Local_TM, no warning", g.Grid, g.Warnings)
	}
	f, err := os.Open(filepath.Join("testdata", "osr-rasters.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) != 6 || w[0] != "corner" || w[1] != "custom-tm.tif" {
			continue
		}
		var v [4]float64
		for i := range v {
			v[i], _ = strconv.ParseFloat(w[2+i], 64)
		}
		lon, lat, err := g.Grid.Forward(v[0], v[1])
		if err != nil || geoTIFFMetres(lon, lat, v[2], v[3]) > 1e-3 {
			t.Errorf("pixel (%v, %v) at (%.12f, %.12f), %v; gdaltransform says (%.12f, %.12f)", v[0], v[1], lon, lat, err, v[2], v[3])
		}
		n++
	}
	if n != 5 {
		t.Errorf("%d gdaltransform corners, want 5", n)
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if g := readGeoTIFFBytes(t, data); g.Grid != nil || !geoTIFFWarned(g, "user-defined", "only from the file") {
		t.Errorf("ReadGeoTIFF: grid %+v, warnings %q; want no grid and a warning about the user-defined CRS", g.Grid, g.Warnings)
	}

	// User-defined GeoKeys GDAL cannot make a CRS of: unplaced, with GDAL's reason.
	s := utmGeoTIFF()
	s.keys[15] = geoKeyUserDefined
	broken := filepath.Join(t.TempDir(), "user-defined.tif")
	if err := os.WriteFile(broken, s.bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err = ReadGeoTIFFFile(broken)
	if err != nil || g.Grid != nil || !geoTIFFWarned(g, "user-defined", "cannot be used", "the file") || geoTIFFWarned(g, broken) {
		t.Errorf("grid %+v, warnings %q, %v; want no grid and a warning that the user-defined CRS cannot be used, naming no path", g.Grid, g.Warnings, err)
	}
}

package geo

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// geodesicCase is one line of a geodesic vector file: the kind of case named
// in the comment above it and its numbers.
type geodesicCase struct {
	kind string
	nums []float64
}

// readGeodesicCases reads testdata/make-geodesic-vectors.sh's files: each
// line of numbers is preceded by "# kind".
func readGeodesicCases(t *testing.T, path string, fields int) []geodesicCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []geodesicCase
	kind := ""
	s := bufio.NewScanner(f)
	for line := 1; s.Scan(); line++ {
		text := s.Text()
		if strings.HasPrefix(text, "#") {
			kind = strings.TrimSpace(strings.TrimPrefix(text, "#"))
			continue
		}
		strs := strings.Fields(text)
		if len(strs) != fields {
			t.Fatalf("%s:%d: %d fields; want %d", path, line, len(strs), fields)
		}
		c := geodesicCase{kind: kind}
		for _, str := range strs {
			v, err := strconv.ParseFloat(str, 64)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, line, err)
			}
			c.nums = append(c.nums, v)
		}
		cases = append(cases, c)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", path)
	}
	return cases
}

// angleDiff is the difference of two azimuths in degrees, across 0/360.
func angleDiff(a, b float64) float64 { return math.Abs(math.Remainder(a-b, 360)) }

// worst keeps the largest difference seen per kind of case, for the log.
type worst map[string]float64

func (w worst) see(kind string, d float64) { w[kind] = math.Max(w[kind], d) }

// azimuthTolerance is 1e-9°, or for lines shorter than 100 m 1e-7°·(1 m/s):
// the inputs themselves fix the azimuth of a short line no better, as one ulp
// of a coordinate (up to 2.8e-14°, 3 nm) turns a 10 m line by up to 2e-8°, and
// Go's sin, cos and atan2 differ from the C library's in the last bit.
func azimuthTolerance(metres float64) float64 { return math.Max(1e-9, 1e-7/metres) }

func TestGeodesicInverseMatchesGeodSolve(t *testing.T) {
	const metreTolerance = 1e-3 // 1 mm
	dist, azi := worst{}, worst{}
	for _, c := range readGeodesicCases(t, "testdata/geodesic-inverse.txt", 7) {
		lat1, lon1, lat2, lon2 := c.nums[0], c.nums[1], c.nums[2], c.nums[3]
		wantAz1, wantAz2, wantS := c.nums[4], c.nums[5], c.nums[6]
		s, az1, az2 := Inverse(lon1, lat1, lon2, lat2)
		dist.see(c.kind, math.Abs(s-wantS))
		if math.Abs(s-wantS) > metreTolerance {
			t.Errorf("%s: Inverse(%g, %g, %g, %g) distance = %.9f m; want %.9f m", c.kind, lon1, lat1, lon2, lat2, s, wantS)
		}
		if az1 < 0 || az1 >= 360 || az2 < 0 || az2 >= 360 {
			t.Errorf("%s: azimuths %g, %g; want them in [0, 360)", c.kind, az1, az2)
		}
		if c.kind == "coincident" {
			continue // the azimuths are a convention
		}
		d := math.Max(angleDiff(az1, wantAz1), angleDiff(az2, wantAz2))
		azi.see(c.kind, d)
		if d > azimuthTolerance(wantS) {
			t.Errorf("%s: Inverse(%g, %g, %g, %g) azimuths = %.14f, %.14f; want %.14f, %.14f", c.kind, lon1, lat1, lon2, lat2, az1, az2, wantAz1, wantAz2)
		}
	}
	for kind := range dist {
		t.Logf("%-18s worst differences: %.2g m, %.2g°", kind, dist[kind], azi[kind])
	}
}

// TestGeodesicInverseMatchesGeod checks against a second oracle, PROJ's geod
// (which reports the back azimuth at the second point).
func TestGeodesicInverseMatchesGeod(t *testing.T) {
	var worstM, worstDeg float64
	for _, c := range readGeodesicCases(t, "testdata/geod-inverse.txt", 7) {
		lat1, lon1, lat2, lon2 := c.nums[0], c.nums[1], c.nums[2], c.nums[3]
		s, az1, az2 := Inverse(lon1, lat1, lon2, lat2)
		worstM = math.Max(worstM, math.Abs(s-c.nums[6]))
		if math.Abs(s-c.nums[6]) > 1e-3 {
			t.Errorf("%s: Inverse(%g, %g, %g, %g) distance = %.9f m; geod %.9f m", c.kind, lon1, lat1, lon2, lat2, s, c.nums[6])
		}
		if c.kind == "coincident" || c.kind == "pole-to-pole" || (c.kind == "nearly-antipodal" && lat1 == 0 && lat2 == 0) {
			continue // several shortest geodesics, or none with a defined azimuth
		}
		d := math.Max(angleDiff(az1, c.nums[4]), angleDiff(az2, c.nums[5]+180))
		worstDeg = math.Max(worstDeg, d)
		if d > azimuthTolerance(c.nums[6]) {
			t.Errorf("%s: Inverse(%g, %g, %g, %g) azimuths = %.12f, %.12f; geod %.12f, back %.12f", c.kind, lon1, lat1, lon2, lat2, az1, az2, c.nums[4], c.nums[5])
		}
	}
	t.Logf("worst differences from geod: %.2g m, %.2g°", worstM, worstDeg)
}

func TestGeodesicDirectMatchesGeodSolve(t *testing.T) {
	const degreeTolerance = 1e-9 // about 0.1 mm
	w := worst{}
	for _, c := range readGeodesicCases(t, "testdata/geodesic-direct.txt", 7) {
		lat1, lon1, azi1, s12 := c.nums[0], c.nums[1], c.nums[2], c.nums[3]
		wantLat, wantLon := c.nums[4], c.nums[5]
		lon, lat := Direct(lon1, lat1, azi1, s12)
		d := math.Abs(lat - wantLat)
		if math.Abs(wantLat) < 89.9 { // longitude means little at the pole
			d = math.Max(d, angleDiff(lon, wantLon))
		}
		w.see(c.kind, d)
		if d > degreeTolerance {
			t.Errorf("%s: Direct(%g, %g, %g, %g) = %.14f, %.14f; want %.14f, %.14f", c.kind, lon1, lat1, azi1, s12, lon, lat, wantLon, wantLat)
		}
		if lon < -180 || lon > 180 {
			t.Errorf("%s: Direct longitude %g; want it in [−180, 180]", c.kind, lon)
		}
	}
	for kind, d := range w {
		t.Logf("%-18s worst difference: %.2g°", kind, d)
	}
}

// TestGeodesicDirectInverseRoundTrip goes out and back: Inverse of Direct's
// result gives the distance and azimuth it was given.
func TestGeodesicDirectInverseRoundTrip(t *testing.T) {
	for _, c := range readGeodesicCases(t, "testdata/geodesic-direct.txt", 7) {
		lat1, lon1, azi1, s12 := c.nums[0], c.nums[1], c.nums[2], c.nums[3]
		if s12 > 19e6 || math.Abs(lat1) > 89.9 || c.kind == "over-pole" {
			continue // not the shortest path, or azimuth ill-defined at the pole
		}
		lon2, lat2 := Direct(lon1, lat1, azi1, s12)
		s, az, _ := Inverse(lon1, lat1, lon2, lat2)
		if math.Abs(s-s12) > 1e-6 || angleDiff(az, azi1) > azimuthTolerance(s12) {
			t.Errorf("%s: Inverse(Direct(%g, %g, %g, %g)) = %.9f m at %.12f°", c.kind, lon1, lat1, azi1, s12, s, az)
		}
	}
}

func TestAreaMatchesPlanimeter(t *testing.T) {
	f, err := os.Open("testdata/polygon-area.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	n := 0
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		n++
		name := fields[0]
		var nums []float64
		for _, str := range fields[1:] {
			v, err := strconv.ParseFloat(str, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			nums = append(nums, v)
		}
		count, wantPerimeter, wantArea := int(nums[0]), nums[1], math.Abs(nums[2])
		var ring [][2]float64
		for i := 3; i+1 < len(nums); i += 2 {
			ring = append(ring, [2]float64{nums[i+1], nums[i]}) // lon, lat
		}
		if len(ring) != count {
			t.Fatalf("%s: %d vertices; Planimeter counted %d", name, len(ring), count)
		}
		t.Run(name, func(t *testing.T) {
			reversed := make([][2]float64, len(ring))
			for i, p := range ring {
				reversed[len(ring)-1-i] = p
			}
			closed := append(append([][2]float64(nil), ring...), ring[0])
			for _, r := range [][][2]float64{ring, reversed, closed} {
				area, perimeter := Area(r)
				relArea := math.Abs(area/wantArea - 1)
				if relArea > 1e-6 {
					t.Errorf("Area = %.4f m²; want %.4f m² (Planimeter), relative difference %.2g", area, wantArea, relArea)
				}
				if math.Abs(perimeter-wantPerimeter) > 1e-6 {
					t.Errorf("perimeter = %.9f m; want %.9f m (Planimeter)", perimeter, wantPerimeter)
				}
			}
			area, _ := Area(ring)
			t.Logf("%.4f m², relative difference %.2g", area, math.Abs(area/wantArea-1))
		})
	}
	if n == 0 {
		t.Fatal("no polygons")
	}
}

func TestAreaDegenerate(t *testing.T) {
	tests := []struct {
		name string
		ring [][2]float64
	}{
		{"ok, no points", nil},
		{"ok, one point", [][2]float64{{131.9, 43.1}}},
		{"ok, two points", [][2]float64{{131.9, 43.1}, {131.91, 43.1}}},
		{"ok, a line there and back", [][2]float64{{131.9, 43.1}, {131.91, 43.1}, {131.9, 43.1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if area, _ := Area(tt.ring); area != 0 {
				t.Errorf("Area = %g; want 0", area)
			}
		})
	}
}

func TestInverseAzimuthRange(t *testing.T) {
	tests := []struct {
		name             string
		lon1, lat1       float64
		lon2, lat2       float64
		wantAz1, wantAz2 float64
	}{
		{"ok, due north", 131.9, 43.1, 131.9, 43.2, 0, 0},
		{"ok, due south", 131.9, 43.2, 131.9, 43.1, 180, 180},
		{"ok, due east on the equator", 10, 0, 10.1, 0, 90, 90},
		{"ok, due west on the equator", 10.1, 0, 10, 0, 270, 270},
		{"ok, west across the antimeridian", -179.95, 0, 179.95, 0, 270, 270},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, az1, az2 := Inverse(tt.lon1, tt.lat1, tt.lon2, tt.lat2)
			if angleDiff(az1, tt.wantAz1) > 1e-12 || angleDiff(az2, tt.wantAz2) > 1e-12 || az1 < 0 || az1 >= 360 || az2 < 0 || az2 >= 360 {
				t.Errorf("azimuths = %.14f, %.14f; want %g, %g", az1, az2, tt.wantAz1, tt.wantAz2)
			}
		})
	}
}

// remainder skips math.Remainder where x is already reduced; it must give its answers
// bit for bit, at the edges of the range too (±y/2 and the next numbers out, ±0).
func TestRemainderIsMathRemainders(t *testing.T) {
	for _, y := range []float64{geodQuarter, geodTurn, 4 * math.Pi * geodWGS84.c2} {
		xs := []float64{0, math.Copysign(0, -1), 1e-300, 1, 44.999, 45, 89.5, 90, 135, 179.99999999999997, 180, 181, 270, 359, 360,
			361, 540, 720, 1e6, 1e300, math.Inf(1), math.NaN(), y / 2, y, 1.5 * y, 3 * y / 2}
		for _, x := range append([]float64(nil), xs...) {
			xs = append(xs, math.Nextafter(x, math.Inf(1)), math.Nextafter(x, math.Inf(-1)), math.Nextafter(y/2, 0), math.Nextafter(y/2, y))
		}
		for _, x := range xs {
			for _, x := range []float64{x, -x} {
				got, want := remainder(x, y), math.Remainder(x, y)
				if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
					t.Errorf("remainder(%v, %v) = %v, want math.Remainder's %v", x, y, got, want)
				}
			}
		}
	}
}

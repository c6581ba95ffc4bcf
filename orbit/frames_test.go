package orbit

import (
	"math"
	"testing"
	"time"
)

// Vallado, Fundamentals of Astrodynamics and Applications, Example 3-5: GMST on
// 20 August 1992 at 12:14 UT1 is 152.578787886°.
func TestGMSTValladoExample(t *testing.T) {
	jd := JulianDate(time.Date(1992, 8, 20, 12, 14, 0, 0, time.UTC))
	if got := GMST(jd) / deg; math.Abs(got-152.578787886) > 1e-6 {
		t.Errorf("GMST %.9f°, want 152.578787886°", got)
	}
}

// Geodetic ↔ earth-fixed against PROJ's geodetic to geocentric conversion:
//
//	echo "135 43 100" | cs2cs -f %.9f +proj=longlat +datum=WGS84 +to +proj=geocent +datum=WGS84 +units=km
//	-3303.621581328	3303.621581328 4327.569959033
//	echo "-56.309932474020215 58.293541814682484 466655.2135450702" | cs2cs -f %.9f +proj=longlat +datum=WGS84 +to +proj=geocent +datum=WGS84 +units=km
//	2000.000000000	-3000.000000000 5800.000000000
//
// (PROJ's own inverse, non-iterative, answers 58.293541824796° and 466655.2155 m, which
// its forward conversion takes 2.3 mm above the point.)
func TestGeodeticAgainstPROJ(t *testing.T) {
	got := Geodetic{Latitude: 43, Longitude: 135, HeightKm: 0.1}.ECEF()
	want := Vector{-3303.621581328, 3303.621581328, 4327.569959033}
	if d := dist(got, want); d > 1e-8 {
		t.Errorf("ECEF %v, PROJ %v (%.3g km apart)", got, want, d)
	}
	g := ToGeodetic(Vector{2000, -3000, 5800})
	if math.Abs(g.Longitude+56.309932474020215) > 1e-11 || math.Abs(g.Latitude-58.293541814682484) > 1e-11 || math.Abs(g.HeightKm-466.6552135450702) > 1e-9 {
		t.Errorf("geodetic %+v, which PROJ puts at 2000 -3000 5800 km: lon -56.309932474020215 lat 58.293541814682484 h 466.6552135450702 km", g)
	}
}

// Geostationary satellites of the verification set stay over their published slots:
// XM-3 at 85.2° W, Intelsat 902 at 62° E, AMC-4 at 101° W. That checks SDP4, the sidereal
// rotation's sense and size, and the geodetic conversion together.
func TestGeostationarySubpoints(t *testing.T) {
	for _, tc := range []struct {
		name         string
		line1, line2 string
		lon          float64
	}{
		{"XM-3", "1 28626U 05008A   06176.46683397 -.00000205  00000-0  10000-3 0  2190", "2 28626   0.0019 286.9433 0000335  13.7918  55.6504  1.00270176  4891", -85.15},
		{"Intelsat 902", "1 26900U 01039A   06106.74503247  .00000045  00000-0  10000-3 0  8290", "2 26900   0.0164 266.5378 0003319  86.1794 182.2590  1.00273847 16981", 62.0},
		{"AMC-4", "1 25954U 99060A   04039.68057285 -.00000108  00000-0  00000-0 0  6847", "2 25954   0.0004 243.8136 0001765  15.5294  22.7134  1.00271289 15615", -101.05},
	} {
		tle, err := ParseTLE(tc.name, tc.line1, tc.line2)
		if err != nil {
			t.Fatal(err)
		}
		s := NewSatellite(tle)
		for h := 0; h <= 24; h += 3 {
			at := tle.Epoch.Add(time.Duration(h) * time.Hour)
			r, _, err := s.At(at)
			if err != nil {
				t.Fatal(err)
			}
			g := ToGeodetic(TEMEToECEF(r, at))
			if math.Abs(g.Longitude-tc.lon) > 0.1 || math.Abs(g.Latitude) > 0.1 || math.Abs(g.HeightKm-35786) > 20 {
				t.Errorf("%s %d h after epoch over %.3f° %.3f° at %.0f km; its slot is %.2f°", tc.name, h, g.Latitude, g.Longitude, g.HeightKm, tc.lon)
			}
		}
	}
}

// On the equator the ellipsoid's section is a circle, so a satellite in the equatorial
// plane, the place and the earth's centre make a plane triangle: the off-nadir angle η
// and elevation ε obey sin η = a cos ε / r and η + ε + γ = 90°, γ the angle at the centre.
func TestLookGeometryOnTheEquator(t *testing.T) {
	site := Geodetic{}
	const r = wgs84A + 600
	for _, gammaDeg := range []float64{0, 1, 5, 10, 20} {
		g := gammaDeg * deg
		l := site.Look(Vector{r * math.Cos(g), r * math.Sin(g), 0}, time.Time{})
		wantEta := math.Asin(wgs84A*math.Cos(l.Elevation*deg)/r) / deg
		if math.Abs(l.OffNadir-wantEta) > 1e-9 || math.Abs(l.OffNadir+l.Elevation+gammaDeg-90) > 1e-9 {
			t.Errorf("γ %v°: off-nadir %.9f°, elevation %.9f°; want off-nadir %.9f° and the angles to add up to 90°", gammaDeg, l.OffNadir, l.Elevation, wantEta)
		}
		if gammaDeg > 0 && math.Abs(l.Azimuth-90) > 1e-9 {
			t.Errorf("γ %v°: azimuth %v°, want 90° (due east)", gammaDeg, l.Azimuth)
		}
	}
	overhead := Geodetic{Latitude: 43.1, Longitude: 131.9}
	up := Geodetic{Latitude: 43.1, Longitude: 131.9, HeightKm: 500}.ECEF()
	if l := overhead.Look(up, time.Time{}); l.Elevation < 90-1e-9 || l.OffNadir > 1e-9 || math.Abs(l.RangeKm-500) > 1e-9 {
		t.Errorf("straight overhead: elevation %v°, off-nadir %v°, range %v km", l.Elevation, l.OffNadir, l.RangeKm)
	}
}

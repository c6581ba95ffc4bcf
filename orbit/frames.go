package orbit

import (
	"math"
	"time"
)

// From SGP4's TEME frame to the ground: Greenwich mean sidereal time (IAU-82) turns TEME
// into the earth-fixed frame (pseudo-earth-fixed: polar motion, a few metres, is left
// out, and UT1 is taken as UTC, within 0.9 s), and WGS-84 turns that into latitude,
// longitude and height.

// WGS-84.
const (
	wgs84A  = 6378.137 // km
	wgs84F  = 1 / 298.257223563
	wgs84E2 = wgs84F * (2 - wgs84F)
	deg     = math.Pi / 180
)

// JulianDate is t's Julian date (UTC).
func JulianDate(t time.Time) float64 {
	return 2440587.5 + float64(t.UnixNano())/86400e9
}

// GMST is Greenwich mean sidereal time in radians, 0 ≤ θ < 2π, at the Julian date jdut1
// (UT1), by the IAU-82 formula (Vallado, Fundamentals of Astrodynamics, eq. 3-47).
func GMST(jdut1 float64) float64 {
	tut1 := (jdut1 - 2451545.0) / 36525.0
	sec := -6.2e-6*tut1*tut1*tut1 + 0.093104*tut1*tut1 + (876600.0*3600+8640184.812866)*tut1 + 67310.54841
	g := math.Mod(sec*deg/240, twoPi)
	if g < 0 {
		g += twoPi
	}
	return g
}

// TEMEToECEF turns a TEME position (km) at time t into the earth-fixed frame.
func TEMEToECEF(r Vector, t time.Time) Vector {
	g := GMST(JulianDate(t))
	c, s := math.Cos(g), math.Sin(g)
	return Vector{c*r[0] + s*r[1], -s*r[0] + c*r[1], r[2]}
}

// Geodetic is a place on or above the WGS-84 ellipsoid: latitude and longitude in
// degrees (east positive), height in km.
type Geodetic struct {
	Latitude, Longitude, HeightKm float64
}

// ECEF is the place's earth-fixed position in km.
func (g Geodetic) ECEF() Vector {
	phi, lam := g.Latitude*deg, g.Longitude*deg
	sp, cp := math.Sin(phi), math.Cos(phi)
	n := wgs84A / math.Sqrt(1-wgs84E2*sp*sp)
	return Vector{(n + g.HeightKm) * cp * math.Cos(lam), (n + g.HeightKm) * cp * math.Sin(lam), (n*(1-wgs84E2) + g.HeightKm) * sp}
}

// up is the ellipsoid's outward normal at the place.
func (g Geodetic) up() Vector {
	phi, lam := g.Latitude*deg, g.Longitude*deg
	return Vector{math.Cos(phi) * math.Cos(lam), math.Cos(phi) * math.Sin(lam), math.Sin(phi)}
}

// ToGeodetic is the WGS-84 latitude, longitude and height of an earth-fixed position,
// iterated to well under a millimetre.
func ToGeodetic(r Vector) Geodetic {
	p := math.Hypot(r[0], r[1])
	lon := math.Atan2(r[1], r[0])
	// Fixed-point iteration on tan φ = (z + e² N sin φ) / p, which contracts by about e²
	// a step.
	lat := math.Atan2(r[2], p*(1-wgs84E2))
	for i := 0; i < 20; i++ {
		sp := math.Sin(lat)
		n := wgs84A / math.Sqrt(1-wgs84E2*sp*sp)
		next := math.Atan2(r[2]+wgs84E2*n*sp, p)
		done := math.Abs(next-lat) < 1e-15
		lat = next
		if done {
			break
		}
	}
	sp, cp := math.Sin(lat), math.Cos(lat)
	// The height along the normal, well conditioned at every latitude.
	h := p*cp + r[2]*sp - wgs84A*math.Sqrt(1-wgs84E2*sp*sp)
	return Geodetic{Latitude: lat / deg, Longitude: lon / deg, HeightKm: h}
}

// Look is how a satellite and a place on the ground see each other at one time.
type Look struct {
	Time      time.Time
	Elevation float64 // degrees above the place's horizon
	Azimuth   float64 // degrees clockwise from north, 0 ≤ az < 360
	// OffNadir is the angle at the satellite, in degrees, between straight down (the
	// ellipsoid normal through the satellite) and the line of sight to the place.
	OffNadir  float64
	RangeKm   float64
	Satellite Geodetic // the satellite's sub-point and height
}

// elevation is the satellite's elevation in degrees above the place's horizon: Look's
// Elevation without the rest, for the pass search's samples.
func (g Geodetic) elevation(sat Vector) float64 {
	site := g.ECEF()
	rho := Vector{sat[0] - site[0], sat[1] - site[1], sat[2] - site[2]}
	return math.Asin(dot(g.up(), rho)/rho.Norm()) / deg
}

func dot(a, b Vector) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

// Look is the geometry between a satellite at earth-fixed position sat and the place.
func (g Geodetic) Look(sat Vector, t time.Time) Look {
	site := g.ECEF()
	rho := Vector{sat[0] - site[0], sat[1] - site[1], sat[2] - site[2]}
	rng := rho.Norm()
	phi, lam := g.Latitude*deg, g.Longitude*deg
	sp, cp, sl, cl := math.Sin(phi), math.Cos(phi), math.Sin(lam), math.Cos(lam)
	east := -sl*rho[0] + cl*rho[1]
	north := -sp*cl*rho[0] - sp*sl*rho[1] + cp*rho[2]
	up := cp*cl*rho[0] + cp*sl*rho[1] + sp*rho[2]
	az := math.Atan2(east, north) / deg
	if az < 0 {
		az += 360
	}
	sub := ToGeodetic(sat)
	skyward := sub.up()
	// Nadir is -skyward and the line of sight is -rho, so the angle between them is the
	// angle between skyward and rho.
	return Look{
		Time:      t,
		Elevation: math.Atan2(up, math.Hypot(east, north)) / deg,
		Azimuth:   az,
		OffNadir:  angle(skyward, rho) / deg,
		RangeKm:   rng,
		Satellite: sub,
	}
}

// angle is the angle between two vectors in radians, accurate at 0 and π too.
func angle(a, b Vector) float64 {
	cross := Vector{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
	return math.Atan2(cross.Norm(), dot(a, b))
}

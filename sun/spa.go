// Package sun says where the sun stands for a place and a moment, and what that means for
// the shadows in an image: their direction on the ground, the height of what casts them,
// and the moments in a capture window when the sun stood where a measured shadow says.
//
// The sun's position is NREL's Solar Position Algorithm (SPA): I. Reda and A. Andreas,
// "Solar position algorithm for solar radiation applications", Solar Energy 76(5),
// 577–589 (2004), and the revised report NREL/TP-560-34302 (January 2008), with the
// corrigendum of 2007 (Solar Energy 81(6), 838). Its uncertainty is ±0.0003° for the
// years −2000 to 6000. The steps below follow the report's section 3 and NREL's spa.c.
// The package imports none of satmark's others.
package sun

import (
	"fmt"
	"math"
	"time"
)

// Place is where the sun is seen from, and the air it is seen through.
type Place struct {
	Latitude  float64 // degrees, north positive
	Longitude float64 // degrees, east positive
	Elevation float64 // metres above mean sea level
	// Pressure (millibars, i.e. hPa) and Temperature (°C) are the local annual means;
	// they set the atmospheric refraction.
	Pressure    float64
	Temperature float64
	// AtmosRefract is the refraction at sunrise and sunset in degrees (0.5667 is
	// typical): below −(sun's radius + AtmosRefract) no refraction is applied.
	AtmosRefract float64
}

// StandardPlace is a place at sea level under the standard atmosphere (1013.25 mbar,
// 10 °C, 0.5667° of refraction at the horizon).
func StandardPlace(lat, lon float64) Place {
	return Place{Latitude: lat, Longitude: lon, Pressure: 1013.25, Temperature: 10, AtmosRefract: 0.5667}
}

// Position is where the sun stands for an observer, topocentric (parallax included).
type Position struct {
	// Zenith is the zenith angle in degrees, corrected for refraction; Elevation is
	// 90 − Zenith: the sun as it is seen, which is what casts shadows.
	Zenith, Elevation float64
	// TrueElevation is the elevation without refraction (e0 in the report).
	TrueElevation float64
	// Azimuth is in degrees clockwise from north (eastward), in [0, 360).
	Azimuth float64
}

// Above reports whether the sun is above the horizon as seen (its apparent elevation
// is positive), so that it casts shadows.
func (p Position) Above() bool { return p.Elevation > 0 }

// InputError is a Place or a moment the algorithm does not take.
type InputError struct {
	Field  string // latitude, longitude, elevation, pressure, temperature, atmos_refract, delta_t, time
	Reason string
}

func (e *InputError) Error() string { return fmt.Sprintf("sun: %s %s", e.Field, e.Reason) }

// sunRadius is the sun's apparent radius in degrees, for the refraction cut-off.
const sunRadius = 0.26667

// At returns where the sun stands for the place at moment t, read as Universal Time
// (UT1; UTC is within 0.9 s of it, 0.004° of the sun's hour angle), with deltaT = TT − UT1
// in seconds (DeltaT estimates it; 1 s of error moves the sun by about 0.00001°).
//
// Errors: *InputError for a latitude outside ±90°, a longitude outside ±180°, an
// elevation below −6,500 km, a pressure outside 0–5000 mbar, a temperature at or
// below −273 °C or above 6000 °C, |AtmosRefract| over 5°, |deltaT| over 8000 s, a year
// outside −2000…6000 (the range of the algorithm), or any input not a number.
func At(t time.Time, deltaT float64, p Place) (Position, error) {
	s, err := compute(t, deltaT, p)
	if err != nil {
		return Position{}, err
	}
	return s.position(), nil
}

// validate checks the inputs as spa.c's validate_inputs does.
func validate(t time.Time, deltaT float64, p Place) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"latitude", p.Latitude}, {"longitude", p.Longitude}, {"elevation", p.Elevation}, {"pressure", p.Pressure},
		{"temperature", p.Temperature}, {"atmos_refract", p.AtmosRefract}, {"delta_t", deltaT}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return &InputError{f.name, "is not a number"}
		}
	}
	switch {
	case math.Abs(p.Latitude) > 90:
		return &InputError{"latitude", fmt.Sprintf("%g is outside −90…90°", p.Latitude)}
	case math.Abs(p.Longitude) > 180:
		return &InputError{"longitude", fmt.Sprintf("%g is outside −180…180°", p.Longitude)}
	case p.Elevation < -6500000:
		return &InputError{"elevation", fmt.Sprintf("%g m is below the centre of the earth", p.Elevation)}
	case p.Pressure < 0 || p.Pressure > 5000:
		return &InputError{"pressure", fmt.Sprintf("%g mbar is outside 0…5000", p.Pressure)}
	case p.Temperature <= -273 || p.Temperature > 6000:
		return &InputError{"temperature", fmt.Sprintf("%g °C is outside −273…6000", p.Temperature)}
	case math.Abs(p.AtmosRefract) > 5:
		return &InputError{"atmos_refract", fmt.Sprintf("%g° is outside ±5°", p.AtmosRefract)}
	case math.Abs(deltaT) > 8000:
		return &InputError{"delta_t", fmt.Sprintf("%g s is outside ±8000 s", deltaT)}
	}
	if y := t.UTC().Year(); y < -2000 || y > 6000 {
		return &InputError{"time", fmt.Sprintf("year %d is outside −2000…6000", y)}
	}
	return nil
}

// spa holds the algorithm's intermediate values, named as in the report (degrees unless
// said otherwise), so that the tests can check each step against its example.
type spa struct {
	jd, jc, jde, jce, jme float64 // Julian day, century; ephemeris day, century, millennium
	l, b, r               float64 // heliocentric longitude, latitude; radius vector (AU)
	theta, beta           float64 // geocentric longitude, latitude
	x                     [5]float64
	delPsi, delEpsilon    float64 // nutation in longitude, obliquity
	epsilon0              float64 // mean obliquity of the ecliptic, arc seconds
	epsilon               float64 // true obliquity
	delTau                float64 // aberration correction
	lamda                 float64 // apparent sun longitude
	nu0, nu               float64 // mean and apparent sidereal time at Greenwich
	alpha, delta          float64 // geocentric right ascension, declination
	h                     float64 // observer local hour angle
	xi                    float64 // equatorial horizontal parallax
	delAlpha              float64 // parallax in right ascension
	deltaPrime            float64 // topocentric declination
	alphaPrime            float64 // topocentric right ascension
	hPrime                float64 // topocentric local hour angle
	e0, delE, e           float64 // elevation without refraction, refraction, elevation
	zenith                float64
	azimuthAstro          float64 // Γ, westward from south
	azimuth               float64 // Φ, eastward from north
}

func (s spa) position() Position {
	return Position{Zenith: s.zenith, Elevation: s.e, TrueElevation: s.e0, Azimuth: s.azimuth}
}

func compute(t time.Time, deltaT float64, p Place) (spa, error) {
	if err := validate(t, deltaT, p); err != nil {
		return spa{}, err
	}
	var s spa
	s.jd = julianDay(t)
	s.jc = (s.jd - 2451545) / 36525
	s.jde = s.jd + deltaT/86400
	s.jce = (s.jde - 2451545) / 36525
	s.jme = s.jce / 10

	// 3.2: the earth's heliocentric position.
	s.l = limitDegrees(deg(earthSeries(earthLongitude[:], s.jme)))
	s.b = deg(earthSeries(earthLatitude[:], s.jme))
	s.r = earthSeries(earthRadius[:], s.jme)

	// 3.3: the sun's geocentric position.
	s.theta = limitDegrees(s.l + 180)
	s.beta = -s.b

	// 3.4: nutation.
	jce := s.jce
	s.x = [5]float64{
		poly3(1.0/189474, -0.0019142, 445267.11148, 297.85036, jce), // moon's mean elongation from the sun
		poly3(-1.0/300000, -0.0001603, 35999.05034, 357.52772, jce), // sun's mean anomaly
		poly3(1.0/56250, 0.0086972, 477198.867398, 134.96298, jce),  // moon's mean anomaly
		poly3(1.0/327270, -0.0036825, 483202.017538, 93.27191, jce), // moon's argument of latitude
		poly3(1.0/450000, 0.0020708, -1934.136261, 125.04452, jce),  // longitude of the moon's ascending node
	}
	var sumPsi, sumEpsilon float64
	for i, y := range nutationArguments {
		var arg float64
		for j := range y {
			arg += s.x[j] * y[j]
		}
		arg = rad(arg)
		pe := nutationCoefficients[i]
		sumPsi += (pe[0] + pe[1]*jce) * math.Sin(arg)
		sumEpsilon += (pe[2] + pe[3]*jce) * math.Cos(arg)
	}
	s.delPsi = sumPsi / 36000000
	s.delEpsilon = sumEpsilon / 36000000

	// 3.5: the true obliquity of the ecliptic.
	u := s.jme / 10
	s.epsilon0 = 84381.448 + u*(-4680.93+u*(-1.55+u*(1999.25+u*(-51.38+u*(-249.67+u*(-39.05+u*(7.12+u*(27.87+u*(5.79+u*2.45)))))))))
	s.epsilon = s.epsilon0/3600 + s.delEpsilon

	// 3.6–3.8: aberration, the apparent longitude, sidereal time at Greenwich.
	s.delTau = -20.4898 / (3600 * s.r)
	s.lamda = s.theta + s.delPsi + s.delTau
	s.nu0 = limitDegrees(280.46061837 + 360.98564736629*(s.jd-2451545) + s.jc*s.jc*(0.000387933-s.jc/38710000))
	s.nu = s.nu0 + s.delPsi*cosd(s.epsilon)

	// 3.9–3.10: the sun's geocentric right ascension and declination.
	lamda, epsilon := rad(s.lamda), rad(s.epsilon)
	s.alpha = limitDegrees(deg(math.Atan2(math.Sin(lamda)*math.Cos(epsilon)-math.Tan(rad(s.beta))*math.Sin(epsilon), math.Cos(lamda))))
	s.delta = deg(math.Asin(sind(s.beta)*math.Cos(epsilon) + cosd(s.beta)*math.Sin(epsilon)*math.Sin(lamda)))

	// 3.11: the observer's local hour angle.
	s.h = limitDegrees(s.nu + p.Longitude - s.alpha)

	// 3.12: the topocentric right ascension and declination (parallax).
	s.xi = 8.794 / (3600 * s.r)
	lat := rad(p.Latitude)
	uu := math.Atan(0.99664719 * math.Tan(lat))
	x := math.Cos(uu) + p.Elevation/6378140*math.Cos(lat)
	y := 0.99664719*math.Sin(uu) + p.Elevation/6378140*math.Sin(lat)
	xi, h, delta := rad(s.xi), rad(s.h), rad(s.delta)
	delAlpha := math.Atan2(-x*math.Sin(xi)*math.Sin(h), math.Cos(delta)-x*math.Sin(xi)*math.Cos(h))
	s.delAlpha = deg(delAlpha)
	s.deltaPrime = deg(math.Atan2((math.Sin(delta)-y*math.Sin(xi))*math.Cos(delAlpha), math.Cos(delta)-x*math.Sin(xi)*math.Cos(h)))
	s.alphaPrime = s.alpha + s.delAlpha

	// 3.13: the topocentric local hour angle.
	s.hPrime = s.h - s.delAlpha

	// 3.14: the topocentric zenith angle, with refraction while the sun is not below
	// the horizon by more than its radius and the horizon's refraction.
	dp, hp := rad(s.deltaPrime), rad(s.hPrime)
	s.e0 = deg(math.Asin(math.Sin(lat)*math.Sin(dp) + math.Cos(lat)*math.Cos(dp)*math.Cos(hp)))
	if s.e0 >= -(sunRadius + p.AtmosRefract) {
		s.delE = p.Pressure / 1010 * 283 / (273 + p.Temperature) * 1.02 / (60 * math.Tan(rad(s.e0+10.3/(s.e0+5.11))))
	}
	s.e = s.e0 + s.delE
	s.zenith = 90 - s.e

	// 3.15: the topocentric azimuth.
	s.azimuthAstro = limitDegrees(deg(math.Atan2(math.Sin(hp), math.Cos(hp)*math.Sin(lat)-math.Tan(dp)*math.Cos(lat))))
	s.azimuth = limitDegrees(s.azimuthAstro + 180)
	return s, nil
}

// Incidence is the angle in degrees between the sun's rays and the normal of a surface
// tilted by slope degrees from the horizontal, facing azmRotation degrees from south
// (west positive), as the report's section 3.16 has it.
func Incidence(p Position, slope, azmRotation float64) float64 {
	astro := p.Azimuth - 180 // Γ: westward from south
	z, w := rad(p.Zenith), rad(slope)
	return deg(math.Acos(math.Cos(z)*math.Cos(w) + math.Sin(w)*math.Sin(z)*math.Cos(rad(astro-azmRotation))))
}

// julianDay is the Julian day of t in UT (proleptic Gregorian calendar).
func julianDay(t time.Time) float64 {
	return 2440587.5 + float64(t.Unix())/86400 + float64(t.Nanosecond())/86400e9
}

// earthSeries sums a VSOP87 series: Σ_i JME^i · Σ_j A·cos(B + C·JME), / 10^8.
func earthSeries(series [][]earthTerm, jme float64) float64 {
	var sum, pow float64 = 0, 1
	for _, terms := range series {
		var s float64
		for _, t := range terms {
			s += t.a * math.Cos(t.b+t.c*jme)
		}
		sum += s * pow
		pow *= jme
	}
	return sum / 1e8
}

func poly3(a, b, c, d, x float64) float64 { return ((a*x+b)*x+c)*x + d }

// limitDegrees brings an angle into [0, 360).
func limitDegrees(d float64) float64 {
	d = math.Mod(d, 360)
	if d < 0 {
		d += 360
	}
	if d >= 360 { // −1e-17 + 360
		d = 0
	}
	return d
}

func rad(d float64) float64  { return d * math.Pi / 180 }
func deg(r float64) float64  { return r * 180 / math.Pi }
func sind(d float64) float64 { return math.Sin(rad(d)) }
func cosd(d float64) float64 { return math.Cos(rad(d)) }

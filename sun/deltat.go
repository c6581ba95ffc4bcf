package sun

import (
	"math"
	"time"
)

// DeltaT estimates ΔT = TT − UT1 in seconds at t, by the polynomials of F. Espenak and
// J. Meeus ("Five Millennium Canon of Solar Eclipses", NASA/TP-2006-214141; the
// expressions of eclipse.gsfc.nasa.gov/SEcat5/deltatpoly.html), evaluated at the
// decimal year y = year + (month − 0.5)/12 as they are.
//
// Their extrapolation past 2005 runs ahead of what was observed (74 s for 2024
// against 69.2 s measured), but ΔT only moves the sun along its yearly path: 5 s of
// error is 0.00006° of the sun's position, well inside the algorithm's ±0.0003°.
func DeltaT(t time.Time) float64 {
	t = t.UTC()
	year := t.Year()
	y := float64(year) + (float64(t.Month())-0.5)/12
	switch {
	case year < -500:
		u := (y - 1820) / 100
		return -20 + 32*u*u
	case year < 500:
		u := y / 100
		return horner(u, 10583.6, -1014.41, 33.78311, -5.952053, -0.1798452, 0.022174192, 0.0090316521)
	case year < 1600:
		u := (y - 1000) / 100
		return horner(u, 1574.2, -556.01, 71.23472, 0.319781, -0.8503463, -0.005050998, 0.0083572073)
	case year < 1700:
		return horner(y-1600, 120, -0.9808, -0.01532, 1.0/7129)
	case year < 1800:
		return horner(y-1700, 8.83, 0.1603, -0.0059285, 0.00013336, -1.0/1174000)
	case year < 1860:
		return horner(y-1800, 13.72, -0.332447, 0.0068612, 0.0041116, -0.00037436, 0.0000121272, -0.0000001699, 0.000000000875)
	case year < 1900:
		return horner(y-1860, 7.62, 0.5737, -0.251754, 0.01680668, -0.0004473624, 1.0/233174)
	case year < 1920:
		return horner(y-1900, -2.79, 1.494119, -0.0598939, 0.0061966, -0.000197)
	case year < 1941:
		return horner(y-1920, 21.20, 0.84493, -0.076100, 0.0020936)
	case year < 1961:
		return horner(y-1950, 29.07, 0.407, -1.0/233, 1.0/2547)
	case year < 1986:
		return horner(y-1975, 45.45, 1.067, -1.0/260, -1.0/718)
	case year < 2005:
		return horner(y-2000, 63.86, 0.3345, -0.060374, 0.0017275, 0.000651814, 0.00002373599)
	case year < 2050:
		return horner(y-2000, 62.92, 0.32217, 0.005589)
	case year < 2150:
		u := (y - 1820) / 100
		return -20 + 32*u*u - 0.5628*(2150-y)
	default:
		u := (y - 1820) / 100
		return -20 + 32*u*u
	}
}

// horner evaluates c[0] + c[1]·x + c[2]·x² + ….
func horner(x float64, c ...float64) float64 {
	var v float64
	for i := len(c) - 1; i >= 0; i-- {
		v = v*x + c[i]
	}
	return v
}

var _ = math.Abs

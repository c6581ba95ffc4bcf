package geo

// Geodesics on the WGS 84 ellipsoid.
//
// This file is a Go port of the geodesic routines of GeographicLib's C library
// (geodesic.c, geographiclib-c), which implement the algorithms in
//
//	C. F. F. Karney, Algorithms for geodesics, J. Geodesy 87, 43–55 (2013),
//	https://doi.org/10.1007/s00190-012-0578-z
//	Addenda: https://geographiclib.sourceforge.io/geod-addenda.html
//
// The original is Copyright (c) Charles Karney (2012-2022) <charles@karney.com>
// and licensed under the MIT/X11 License (https://geographiclib.sourceforge.io/).
// Permission is hereby granted, free of charge, to any person obtaining a copy of
// that software and associated documentation files, to deal in the software
// without restriction, subject to the copyright notice and this permission
// notice being included in all copies or substantial portions of the software.
// THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.
//
// The port keeps the structure and names of the C code (so it can be checked
// against it line by line) but only what satmark needs: the inverse problem with
// the area term, the direct problem, and polygon area, all for the WGS 84
// ellipsoid (so the branches for prolate ellipsoids, f < 0, are left out), with
// the series of order 6 (GEOGRAPHICLIB_GEODESIC_ORDER 6), as in GeodSolve and
// Planimeter. Like them it is accurate to about 15 nm anywhere on the earth,
// nearly antipodal points included; on the test vectors it agrees with GeodSolve
// to 4 nm in distance.

import "math"

const (
	geodA = 6378137.0         // semi-major axis, metres
	geodF = 1 / 298.257223563 // flattening

	geodOrder   = 6                  // order of the series (nA1 = nC1 = … = 6)
	nC3x        = 15                 // (nC3 * (nC3 - 1)) / 2
	nC4x        = 21                 // (nC4 * (nC4 + 1)) / 2
	geodNC      = geodOrder + 1      // size of the scratch arrays
	geodQuarter = 90.0               // quarter turn in degrees
	geodHalf    = 180.0              // half turn
	geodTurn    = 360.0              // full turn
	geodDegree  = math.Pi / geodHalf // radians per degree
	geodDigits  = 53                 // DBL_MANT_DIG
	geodMaxit1  = 20                 // Newton iterations before bisection is allowed
	geodMaxit2  = geodMaxit1 + geodDigits + 10
	geodTol0    = 0x1p-52 // DBL_EPSILON
	geodTol1    = 200 * geodTol0
	geodTolb    = geodTol0
)

var (
	geodTiny    = math.Sqrt(0x1p-1022) // sqrt(DBL_MIN)
	geodTol2    = math.Sqrt(geodTol0)
	geodXThresh = 1000 * geodTol2
)

// geodEllipsoid holds an ellipsoid's constants and the coefficients of the series
// that depend only on it (struct geod_geodesic).
type geodEllipsoid struct {
	a, f, f1, e2, ep2, n, b, c2, etol2 float64
	a3x                                [geodOrder]float64
	c3x                                [nC3x]float64
	c4x                                [nC4x]float64
}

var geodWGS84 = newGeodEllipsoid(geodA, geodF)

func newGeodEllipsoid(a, f float64) *geodEllipsoid {
	g := &geodEllipsoid{a: a, f: f}
	g.f1 = 1 - f
	g.e2 = f * (2 - f)
	g.ep2 = g.e2 / geodSq(g.f1)
	g.n = f / (2 - f)
	g.b = a * g.f1
	// Authalic radius squared (f > 0 here).
	g.c2 = (geodSq(a) + geodSq(g.b)*math.Atanh(math.Sqrt(g.e2))/math.Sqrt(g.e2)) / 2
	g.etol2 = 0.1 * geodTol2 / math.Sqrt(math.Max(0.001, math.Abs(f))*math.Min(1.0, 1-f/2)/2)
	g.a3coeff()
	g.c3coeff()
	g.c4coeff()
	return g
}

// Inverse solves the geodesic problem between two points: distance in metres and the forward azimuth at each end (degrees clockwise from true north, in [0, 360)).
//
// Longitudes may be given in any range; latitudes outside [−90°, 90°] give NaN.
// az2 is the direction of travel at the second point, continuing along the
// geodesic (as GeodSolve's azi2). For coincident points the distance is 0 and
// the azimuths are those of a geodesic heading north through them.
func Inverse(lon1, lat1, lon2, lat2 float64) (metres, az1, az2 float64) {
	s12, salp1, calp1, salp2, calp2, _ := geodWGS84.inverse(lat1, lon1, lat2, lon2, false)
	return s12, azimuth360(atan2d(salp1, calp1)), azimuth360(atan2d(salp2, calp2))
}

// Direct returns the point reached from (lon, lat) after metres along azimuth.
//
// Azimuth is in degrees clockwise from true north; metres may be negative (the
// geodesic is then followed backwards). The longitude returned is in [−180, 180].
func Direct(lon, lat, azimuth, metres float64) (lon2, lat2 float64) {
	return geodWGS84.direct(lat, lon, azimuth, metres)
}

// Area returns the area (m², positive whatever the ring's direction) and perimeter (m) of a closed ring of lon/lat positions whose edges are geodesics.
//
// The ring may repeat its first position at the end or not. A ring with fewer
// than three positions has area 0. Of the two regions a ring bounds, the area is
// that of the smaller one (less than half the earth), as Planimeter reports it.
// Edges cross the antimeridian wherever the shorter geodesic does.
func Area(ring [][2]float64) (m2, perimeter float64) { return area(ring, nil) }

// area is Area; when segments is not nil, it sets segments[i] to the length of the
// geodesic from ring[i] to the next position (segments has one less than ring).
func area(ring [][2]float64, segments []float64) (m2, perimeter float64) {
	n := len(ring)
	if n > 1 && ring[0] == ring[n-1] {
		n--
	}
	if n < 2 {
		return 0, 0
	}
	g := geodWGS84
	var per, area geodAccumulator
	crossings := 0
	for i := 1; i <= n; i++ {
		p, q := ring[i-1], ring[i%n]
		s12, _, _, _, _, s := g.inverse(p[1], p[0], q[1], q[0], true)
		if i-1 < len(segments) {
			segments[i-1] = s12
		}
		per.add(s12)
		area.add(s)
		crossings += geodTransit(p[0], q[0])
	}
	a := geodAreaReduce(area, 4*math.Pi*g.c2, crossings)
	return math.Abs(a), 0 + per[0]
}

// azimuth360 maps an azimuth in (−180°, 180°] to [0°, 360°).
func azimuth360(az float64) float64 {
	if az < 0 {
		az += geodTurn
		if az >= geodTurn { // a geodTiny negative azimuth rounds to 360
			az = 0
		}
	}
	return az + 0 // −0 → 0
}

func geodSq(x float64) float64 { return x * x }

// geodSum is the error-free sum: u + v = s + t exactly, with s = round(u + v).
func geodSum(u, v float64) (s, t float64) {
	s = u + v
	up := s - v
	vpp := s - up
	up -= u
	vpp -= v
	if s != 0 {
		t = 0 - (up + vpp)
	} else {
		t = s
	}
	return s, t
}

// geodPolyval evaluates the polynomial of geodDegree n with coefficients p (highest
// first) at x.
func geodPolyval(n int, p []float64, x float64) float64 {
	if n < 0 {
		return 0
	}
	y := p[0]
	for i := 1; i <= n; i++ {
		y = y*x + p[i]
	}
	return y
}

func geodNorm2(sinx, cosx float64) (float64, float64) {
	r := math.Hypot(sinx, cosx)
	return sinx / r, cosx / r
}

// remainder is math.Remainder(x, y) for a positive y: x itself where x is in
// [−y/2, y/2] already, as nearly every longitude and area is (math.Remainder's general
// reduction was a sixth of the time of an inverse problem), and math.Remainder's answer
// otherwise.
func remainder(x, y float64) float64 {
	if math.Abs(x) <= y/2 {
		return x
	}
	return math.Remainder(x, y)
}

func angNormalize(x float64) float64 {
	y := remainder(x, geodTurn)
	if math.Abs(y) == geodHalf {
		return math.Copysign(geodHalf, x)
	}
	return y
}

func latFix(x float64) float64 {
	if math.Abs(x) > geodQuarter {
		return math.NaN()
	}
	return x
}

// angDiff returns y − x reduced to [−180, 180] and the rounding error e.
func angDiff(x, y float64) (d, e float64) {
	d, t := geodSum(remainder(-x, geodTurn), remainder(y, geodTurn))
	d, t = geodSum(remainder(d, geodTurn), t)
	if d == 0 || math.Abs(d) == geodHalf {
		if t == 0 {
			d = math.Copysign(d, y-x)
		} else {
			d = math.Copysign(d, -t)
		}
	}
	return d, t
}

// angRound rounds geodTiny angles so that 1/16 − (1/16 − x) is exact.
func angRound(x float64) float64 {
	const z = 1.0 / 16
	y := math.Abs(x)
	w := z - y
	if w > 0 {
		y = z - w
	}
	return math.Copysign(y, x)
}

// remquo90 returns x reduced to [−45, 45] and the quadrant it was taken from,
// as C's remquo(x, 90, &q).
func remquo90(x float64) (r float64, q int) {
	r = remainder(x, geodQuarter)
	if math.IsNaN(r) {
		return r, 0
	}
	return r, int(math.Round((x - r) / geodQuarter))
}

func sinCosQuadrant(r float64, q int, x float64) (sinx, cosx float64) {
	s, c := math.Sincos(r)
	switch uint(q) & 3 {
	case 0:
		sinx, cosx = s, c
	case 1:
		sinx, cosx = c, -s
	case 2:
		sinx, cosx = -s, -c
	default:
		sinx, cosx = -c, s
	}
	cosx += 0
	if sinx == 0 {
		sinx = math.Copysign(sinx, x)
	}
	return sinx, cosx
}

// sincosd is sin and cos of x degrees, reducing the argument exactly first.
func sincosd(x float64) (sinx, cosx float64) {
	r, q := remquo90(x)
	return sinCosQuadrant(r*geodDegree, q, x)
}

// sincosde is sincosd of x + t, t being a small correction to x.
func sincosde(x, t float64) (sinx, cosx float64) {
	r, q := remquo90(x)
	return sinCosQuadrant(angRound(r+t)*geodDegree, q, x)
}

// atan2d is atan2 in degrees, computed in [−45°, 45°] and mapped to its quadrant.
func atan2d(y, x float64) float64 {
	q := 0
	if math.Abs(y) > math.Abs(x) {
		x, y = y, x
		q = 2
	}
	if math.Signbit(x) {
		x = -x
		q++
	}
	ang := math.Atan2(y, x) / geodDegree
	switch q {
	case 1:
		ang = math.Copysign(geodHalf, y) - ang
	case 2:
		ang = geodQuarter - ang
	case 3:
		ang = -geodQuarter + ang
	}
	return ang
}

// sinCosSeries evaluates, by Clenshaw summation,
// sinp: sum(c[i] * sin(2*i*x), i = 1..n); else sum(c[i] * cos((2*i+1)*x), i = 0..n-1).
func sinCosSeries(sinp bool, sinx, cosx float64, c []float64, n int) float64 {
	k := n
	if sinp {
		k++
	}
	ar := 2 * (cosx - sinx) * (cosx + sinx) // 2 cos(2x)
	var y0, y1 float64
	if n&1 != 0 {
		k--
		y0 = c[k]
	}
	for n /= 2; n > 0; n-- {
		k--
		y1 = ar*y0 - y1 + c[k]
		k--
		y0 = ar*y1 - y0 + c[k]
	}
	if sinp {
		return 2 * sinx * cosx * y0
	}
	return cosx * (y0 - y1)
}

// direct solves the direct problem (geod_direct without longitude unrolling).
func (g *geodEllipsoid) direct(lat1, lon1, azi1, s12 float64) (lon2, lat2 float64) {
	// geod_lineinit
	azi1 = angNormalize(azi1)
	salp1, calp1 := sincosd(angRound(azi1))
	lat1 = latFix(lat1)
	sbet1, cbet1 := sincosd(angRound(lat1))
	sbet1 *= g.f1
	sbet1, cbet1 = geodNorm2(sbet1, cbet1)
	cbet1 = math.Max(geodTiny, cbet1)

	salp0 := salp1 * cbet1
	calp0 := math.Hypot(calp1, salp1*sbet1)
	ssig1, somg1 := sbet1, salp0*sbet1
	csig1 := 1.0
	if sbet1 != 0 || calp1 != 0 {
		csig1 = cbet1 * calp1
	}
	comg1 := csig1
	ssig1, csig1 = geodNorm2(ssig1, csig1)

	k2 := geodSq(calp0) * g.ep2
	eps := k2 / (2*(1+math.Sqrt(1+k2)) + k2)

	var c1a, c1pa, c3a [geodNC]float64
	a1m1 := a1m1f(eps)
	c1f(eps, c1a[:])
	b11 := sinCosSeries(true, ssig1, csig1, c1a[:], geodOrder)
	s, c := math.Sin(b11), math.Cos(b11)
	stau1 := ssig1*c + csig1*s
	ctau1 := csig1*c - ssig1*s
	c1pf(eps, c1pa[:])
	g.c3f(eps, c3a[:])
	a3c := -g.f * salp0 * g.a3f(eps)
	b31 := sinCosSeries(true, ssig1, csig1, c3a[:], geodOrder-1)

	// geod_genposition, distance mode
	tau12 := s12 / (g.b * (1 + a1m1))
	s, c = math.Sin(tau12), math.Cos(tau12)
	b12 := -sinCosSeries(true, stau1*c+ctau1*s, ctau1*c-stau1*s, c1pa[:], geodOrder)
	sig12 := tau12 - (b12 - b11)
	ssig12, csig12 := math.Sin(sig12), math.Cos(sig12)

	ssig2 := ssig1*csig12 + csig1*ssig12
	csig2 := csig1*csig12 - ssig1*ssig12
	sbet2 := calp0 * ssig2
	cbet2 := math.Hypot(salp0, calp0*csig2)
	if cbet2 == 0 {
		cbet2, csig2 = geodTiny, geodTiny
	}
	somg2, comg2 := salp0*ssig2, csig2
	omg12 := math.Atan2(somg2*comg1-comg2*somg1, comg2*comg1+somg2*somg1)
	lam12 := omg12 + a3c*(sig12+(sinCosSeries(true, ssig2, csig2, c3a[:], geodOrder-1)-b31))
	lon12 := lam12 / geodDegree
	lon2 = angNormalize(angNormalize(lon1) + angNormalize(lon12))
	lat2 = atan2d(sbet2, g.f1*cbet2)
	return lon2, lat2
}

// inverse solves the inverse problem (geod_geninverse_int), returning the
// distance, the sines and cosines of the azimuths at both ends and, when
// wantArea, the area S12 between the geodesic and the equator.
func (g *geodEllipsoid) inverse(lat1, lon1, lat2, lon2 float64, wantArea bool) (s12, salp1, calp1, salp2, calp2, area float64) {
	var ca [geodNC]float64
	var s12x float64
	omg12, somg12, comg12 := 0.0, 2.0, 0.0 // somg12 == 2 marks "to be computed"

	lon12, lon12s := angDiff(lon1, lon2)
	lonsign := 1.0
	if math.Signbit(lon12) {
		lonsign = -1
	}
	lon12 *= lonsign
	lon12s *= lonsign
	lam12 := lon12 * geodDegree
	slam12, clam12 := sincosde(lon12, lon12s)
	lon12s = (geodHalf - lon12) - lon12s // the supplementary longitude difference

	lat1 = angRound(latFix(lat1))
	lat2 = angRound(latFix(lat2))
	swapp := 1.0
	if math.Abs(lat1) < math.Abs(lat2) || math.IsNaN(lat2) {
		swapp = -1
		lonsign *= -1
		lat1, lat2 = lat2, lat1
	}
	latsign := -1.0
	if math.Signbit(lat1) {
		latsign = 1
	}
	lat1 *= latsign
	lat2 *= latsign

	sbet1, cbet1 := sincosd(lat1)
	sbet1 *= g.f1
	sbet1, cbet1 = geodNorm2(sbet1, cbet1)
	cbet1 = math.Max(geodTiny, cbet1)
	sbet2, cbet2 := sincosd(lat2)
	sbet2 *= g.f1
	sbet2, cbet2 = geodNorm2(sbet2, cbet2)
	cbet2 = math.Max(geodTiny, cbet2)

	if cbet1 < -sbet1 {
		if cbet2 == cbet1 {
			sbet2 = math.Copysign(sbet1, sbet2)
		}
	} else if math.Abs(sbet2) == -sbet1 {
		cbet2 = cbet1
	}

	dn1 := math.Sqrt(1 + g.ep2*geodSq(sbet1))
	dn2 := math.Sqrt(1 + g.ep2*geodSq(sbet2))

	var sig12 float64
	meridian := lat1 == -geodQuarter || slam12 == 0
	if meridian {
		// The end points are on one meridian, so the geodesic may run along it.
		calp1, salp1 = clam12, slam12
		calp2, salp2 = 1, 0
		ssig1, csig1 := sbet1, calp1*cbet1
		ssig2, csig2 := sbet2, calp2*cbet2
		sig12 = math.Atan2(math.Max(0, csig1*ssig2-ssig1*csig2)+0, csig1*csig2+ssig1*ssig2)
		s12b, m12b := g.lengths(g.n, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2, true, true, ca[:])
		if sig12 < 1 || m12b >= 0 {
			if sig12 < 3*geodTiny || (sig12 < geodTol0 && (s12b < 0 || m12b < 0)) {
				sig12, s12b = 0, 0
			}
			s12x = s12b * g.b
		} else {
			meridian = false // m12 < 0: prolate and too close to antipodal
		}
	}

	if !meridian && sbet1 == 0 && (g.f <= 0 || lon12s >= g.f*geodHalf) {
		// The geodesic runs along the equator.
		calp1, calp2 = 0, 0
		salp1, salp2 = 1, 1
		s12x = g.a * lam12
		sig12 = lam12 / g.f1
		omg12 = sig12
	} else if !meridian {
		var dnm float64
		sig12, salp1, calp1, salp2, calp2, dnm = g.inverseStart(sbet1, cbet1, dn1, sbet2, cbet2, dn2, lam12, slam12, clam12, ca[:])
		if sig12 >= 0 {
			// Short lines: inverseStart has set salp2, calp2 and dnm.
			s12x = sig12 * g.b * dnm
			omg12 = lam12 / (g.f1 * dnm)
		} else {
			// Newton's method on lambda12(alp1) − lam12 = 0, keeping a
			// bracket (alp1a, alp1b) and falling back to bisection.
			var ssig1, csig1, ssig2, csig2, eps, domg12 float64
			salp1a, calp1a := geodTiny, 1.0
			salp1b, calp1b := geodTiny, -1.0
			tripn, tripb := false, false
			for numit := 0; ; numit++ {
				var v, dv float64
				v, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, domg12, dv = g.lambda12(
					sbet1, cbet1, dn1, sbet2, cbet2, dn2, salp1, calp1, slam12, clam12, numit < geodMaxit1, ca[:])
				limit := 1.0
				if tripn {
					limit = 8
				}
				if tripb || !(math.Abs(v) >= limit*geodTol0) || numit == geodMaxit2 {
					break
				}
				if v > 0 && (numit > geodMaxit1 || calp1/salp1 > calp1b/salp1b) {
					salp1b, calp1b = salp1, calp1
				} else if v < 0 && (numit > geodMaxit1 || calp1/salp1 < calp1a/salp1a) {
					salp1a, calp1a = salp1, calp1
				}
				if numit < geodMaxit1 && dv > 0 {
					dalp1 := -v / dv
					if math.Abs(dalp1) < math.Pi {
						sdalp1, cdalp1 := math.Sin(dalp1), math.Cos(dalp1)
						nsalp1 := salp1*cdalp1 + calp1*sdalp1
						if nsalp1 > 0 {
							calp1 = calp1*cdalp1 - salp1*sdalp1
							salp1 = nsalp1
							salp1, calp1 = geodNorm2(salp1, calp1)
							tripn = math.Abs(v) <= 16*geodTol0
							continue
						}
					}
				}
				salp1 = (salp1a + salp1b) / 2
				calp1 = (calp1a + calp1b) / 2
				salp1, calp1 = geodNorm2(salp1, calp1)
				tripn = false
				tripb = math.Abs(salp1a-salp1)+(calp1a-calp1) < geodTolb ||
					math.Abs(salp1-salp1b)+(calp1-calp1b) < geodTolb
			}
			s12b, _ := g.lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2, true, false, ca[:])
			s12x = s12b * g.b
			if wantArea {
				sdomg12, cdomg12 := math.Sin(domg12), math.Cos(domg12)
				somg12 = slam12*cdomg12 - clam12*sdomg12
				comg12 = clam12*cdomg12 + slam12*sdomg12
			}
		}
	}
	s12 = 0 + s12x

	if wantArea {
		salp0 := salp1 * cbet1
		calp0 := math.Hypot(calp1, salp1*sbet1)
		if calp0 != 0 && salp0 != 0 {
			ssig1, csig1 := geodNorm2(sbet1, calp1*cbet1)
			ssig2, csig2 := geodNorm2(sbet2, calp2*cbet2)
			k2 := geodSq(calp0) * g.ep2
			eps := k2 / (2*(1+math.Sqrt(1+k2)) + k2)
			a4 := geodSq(g.a) * calp0 * salp0 * g.e2
			g.c4f(eps, ca[:])
			b41 := sinCosSeries(false, ssig1, csig1, ca[:], geodOrder)
			b42 := sinCosSeries(false, ssig2, csig2, ca[:], geodOrder)
			area = a4 * (b42 - b41)
		}
		if !meridian && somg12 == 2 {
			somg12, comg12 = math.Sin(omg12), math.Cos(omg12)
		}
		var alp12 float64
		if !meridian && comg12 > -0.7071 && sbet2-sbet1 < 1.75 {
			domg12, dbet1, dbet2 := 1+comg12, 1+cbet1, 1+cbet2
			alp12 = 2 * math.Atan2(somg12*(sbet1*dbet2+sbet2*dbet1), domg12*(sbet1*sbet2+dbet1*dbet2))
		} else {
			salp12 := salp2*calp1 - calp2*salp1
			calp12 := calp2*calp1 + salp2*salp1
			if salp12 == 0 && calp12 < 0 {
				salp12 = geodTiny * calp1
				calp12 = -1
			}
			alp12 = math.Atan2(salp12, calp12)
		}
		area += g.c2 * alp12
		area *= swapp * lonsign * latsign
		area += 0
	}

	if swapp < 0 {
		salp1, salp2 = salp2, salp1
		calp1, calp2 = calp2, calp1
	}
	salp1 *= swapp * lonsign
	calp1 *= swapp * latsign
	salp2 *= swapp * lonsign
	calp2 *= swapp * latsign
	return s12, salp1, calp1, salp2, calp2, area
}

// lengths returns the distance s12b and reduced length m12b, both divided by
// b, for the arc sig12 (Lengths in geodesic.c, without M12 and M21).
func (g *geodEllipsoid) lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2 float64, wantS, wantM bool, ca []float64) (s12b, m12b float64) {
	var cb [geodNC]float64
	var m0, j12, a1, a2 float64
	if wantS || wantM {
		a1 = a1m1f(eps)
		c1f(eps, ca)
		if wantM {
			a2 = a2m1f(eps)
			c2f(eps, cb[:])
			m0 = a1 - a2
			a2 = 1 + a2
		}
		a1 = 1 + a1
	}
	if wantS {
		b1 := sinCosSeries(true, ssig2, csig2, ca, geodOrder) - sinCosSeries(true, ssig1, csig1, ca, geodOrder)
		s12b = a1 * (sig12 + b1)
		if wantM {
			b2 := sinCosSeries(true, ssig2, csig2, cb[:], geodOrder) - sinCosSeries(true, ssig1, csig1, cb[:], geodOrder)
			j12 = m0*sig12 + (a1*b1 - a2*b2)
		}
	} else if wantM {
		for l := 1; l <= geodOrder; l++ {
			cb[l] = a1*ca[l] - a2*cb[l]
		}
		j12 = m0*sig12 + (sinCosSeries(true, ssig2, csig2, cb[:], geodOrder) - sinCosSeries(true, ssig1, csig1, cb[:], geodOrder))
	}
	if wantM {
		// Parentheses around (csig1 * ssig2) and (ssig1 * csig2) for accurate
		// cancellation with coincident points.
		m12b = dn2*(csig1*ssig2) - dn1*(ssig1*csig2) - csig1*csig2*j12
	}
	return s12b, m12b
}

// astroid solves k⁴ + 2k³ − (x² + y² − 1)k² − 2y²k − y² = 0 for the positive root k.
func astroid(x, y float64) float64 {
	p, q := geodSq(x), geodSq(y)
	r := (p + q - 1) / 6
	if q == 0 && r <= 0 {
		return 0
	}
	s := p * q / 4
	r2 := geodSq(r)
	r3 := r * r2
	disc := s * (s + 2*r3)
	u := r
	if disc >= 0 {
		t3 := s + r3
		if t3 < 0 {
			t3 -= math.Sqrt(disc)
		} else {
			t3 += math.Sqrt(disc)
		}
		t := math.Cbrt(t3)
		if t != 0 {
			u += t + r2/t
		} else {
			u += t
		}
	} else {
		ang := math.Atan2(math.Sqrt(-disc), -(s + r3))
		u += 2 * r * math.Cos(ang/3)
	}
	v := math.Sqrt(geodSq(u) + q)
	var uv float64
	if u < 0 {
		uv = q / (v - u)
	} else {
		uv = u + v
	}
	w := (uv - q) / (2 * v)
	return uv / (math.Sqrt(uv+geodSq(w)) + w)
}

// inverseStart returns a starting point for Newton's method in salp1, calp1
// (and sig12 = −1), or, for short lines, the solution (sig12 ≥ 0 with salp2,
// calp2 and dnm set).
func (g *geodEllipsoid) inverseStart(sbet1, cbet1, dn1, sbet2, cbet2, dn2, lam12, slam12, clam12 float64, ca []float64) (sig12, salp1, calp1, salp2, calp2, dnm float64) {
	sig12 = -1
	sbet12 := sbet2*cbet1 - cbet2*sbet1
	cbet12 := cbet2*cbet1 + sbet2*sbet1
	sbet12a := sbet2*cbet1 + cbet2*sbet1
	shortline := cbet12 >= 0 && sbet12 < 0.5 && cbet2*lam12 < 0.5
	var somg12, comg12 float64
	if shortline {
		sbetm2 := geodSq(sbet1 + sbet2)
		sbetm2 /= sbetm2 + geodSq(cbet1+cbet2)
		dnm = math.Sqrt(1 + g.ep2*sbetm2)
		omg12 := lam12 / (g.f1 * dnm)
		somg12, comg12 = math.Sin(omg12), math.Cos(omg12)
	} else {
		somg12, comg12 = slam12, clam12
	}

	salp1 = cbet2 * somg12
	if comg12 >= 0 {
		calp1 = sbet12 + cbet2*sbet1*geodSq(somg12)/(1+comg12)
	} else {
		calp1 = sbet12a - cbet2*sbet1*geodSq(somg12)/(1-comg12)
	}
	ssig12 := math.Hypot(salp1, calp1)
	csig12 := sbet1*sbet2 + cbet1*cbet2*comg12

	if shortline && ssig12 < g.etol2 {
		// Really short lines.
		salp2 = cbet1 * somg12
		if comg12 >= 0 {
			calp2 = sbet12 - cbet1*sbet2*(geodSq(somg12)/(1+comg12))
		} else {
			calp2 = sbet12 - cbet1*sbet2*(1-comg12)
		}
		salp2, calp2 = geodNorm2(salp2, calp2)
		sig12 = math.Atan2(ssig12, csig12)
	} else if math.Abs(g.n) > 0.1 || csig12 >= 0 || ssig12 >= 6*math.Abs(g.n)*math.Pi*geodSq(cbet1) {
		// The zeroth-order spherical approximation is good enough.
	} else {
		// Nearly antipodal: scale to coordinates where the antipodal point is
		// at the origin and the singular point at y = 0, x = −1 (f > 0 here).
		lam12x := math.Atan2(-slam12, -clam12) // lam12 − π
		k2 := geodSq(sbet1) * g.ep2
		eps := k2 / (2*(1+math.Sqrt(1+k2)) + k2)
		lamscale := g.f * cbet1 * g.a3f(eps) * math.Pi
		betscale := lamscale * cbet1
		x := lam12x / lamscale
		y := sbet12a / betscale
		if y > -geodTol1 && x > -1-geodXThresh {
			// Strip near the cut.
			salp1 = math.Min(1.0, -x)
			calp1 = -math.Sqrt(1 - geodSq(salp1))
		} else {
			k := astroid(x, y)
			omg12a := lamscale * (-x * k / (1 + k))
			somg12, comg12 = math.Sin(omg12a), -math.Cos(omg12a)
			salp1 = cbet2 * somg12
			calp1 = sbet12a - cbet2*sbet1*geodSq(somg12)/(1-comg12)
		}
	}
	if !(salp1 <= 0) {
		salp1, calp1 = geodNorm2(salp1, calp1)
	} else {
		salp1, calp1 = 1, 0
	}
	return sig12, salp1, calp1, salp2, calp2, dnm
}

// lambda12 returns the longitude difference lam12 − lam120 reached by the
// geodesic leaving point 1 at azimuth alp1, with the quantities Newton's method
// needs (and its derivative dlam12 when diffp).
func (g *geodEllipsoid) lambda12(sbet1, cbet1, dn1, sbet2, cbet2, dn2, salp1, calp1, slam120, clam120 float64, diffp bool, ca []float64) (
	lam12, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, domg12, dlam12 float64) {
	if sbet1 == 0 && calp1 == 0 {
		calp1 = -geodTiny // break the degeneracy of the equatorial line
	}
	salp0 := salp1 * cbet1
	calp0 := math.Hypot(calp1, salp1*sbet1)

	ssig1 = sbet1
	somg1 := salp0 * sbet1
	csig1 = calp1 * cbet1
	comg1 := csig1
	ssig1, csig1 = geodNorm2(ssig1, csig1)

	if cbet2 != cbet1 {
		salp2 = salp0 / cbet2
	} else {
		salp2 = salp1
	}
	if cbet2 != cbet1 || math.Abs(sbet2) != -sbet1 {
		var t float64
		if cbet1 < -sbet1 {
			t = (cbet2 - cbet1) * (cbet1 + cbet2)
		} else {
			t = (sbet1 - sbet2) * (sbet1 + sbet2)
		}
		calp2 = math.Sqrt(geodSq(calp1*cbet1)+t) / cbet2
	} else {
		calp2 = math.Abs(calp1)
	}
	ssig2 = sbet2
	somg2 := salp0 * sbet2
	csig2 = calp2 * cbet2
	comg2 := csig2
	ssig2, csig2 = geodNorm2(ssig2, csig2)

	sig12 = math.Atan2(math.Max(0, csig1*ssig2-ssig1*csig2)+0, csig1*csig2+ssig1*ssig2)
	somg12 := math.Max(0, comg1*somg2-somg1*comg2) + 0
	comg12 := comg1*comg2 + somg1*somg2
	eta := math.Atan2(somg12*clam120-comg12*slam120, comg12*clam120+somg12*slam120)
	k2 := geodSq(calp0) * g.ep2
	eps = k2 / (2*(1+math.Sqrt(1+k2)) + k2)
	g.c3f(eps, ca)
	b312 := sinCosSeries(true, ssig2, csig2, ca, geodOrder-1) - sinCosSeries(true, ssig1, csig1, ca, geodOrder-1)
	domg12 = -g.f * g.a3f(eps) * salp0 * (sig12 + b312)
	lam12 = eta + domg12

	if diffp {
		if calp2 == 0 {
			dlam12 = -2 * g.f1 * dn1 / sbet1
		} else {
			_, dlam12 = g.lengths(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2, false, true, ca)
			dlam12 *= g.f1 / (calp2 * cbet2)
		}
	}
	return lam12, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, domg12, dlam12
}

func (g *geodEllipsoid) a3f(eps float64) float64 {
	return geodPolyval(geodOrder-1, g.a3x[:], eps)
}

// c3f sets c[1] … c[5].
func (g *geodEllipsoid) c3f(eps float64, c []float64) {
	mult := 1.0
	o := 0
	for l := 1; l < geodOrder; l++ {
		m := geodOrder - l - 1
		mult *= eps
		c[l] = mult * geodPolyval(m, g.c3x[o:], eps)
		o += m + 1
	}
}

// c4f sets c[0] … c[5].
func (g *geodEllipsoid) c4f(eps float64, c []float64) {
	mult := 1.0
	o := 0
	for l := 0; l < geodOrder; l++ {
		m := geodOrder - l - 1
		c[l] = mult * geodPolyval(m, g.c4x[o:], eps)
		o += m + 1
		mult *= eps
	}
}

// a1m1f is the scale factor A1 − 1.
func a1m1f(eps float64) float64 {
	coeff := [...]float64{1, 4, 64, 0, 256}
	m := geodOrder / 2
	t := geodPolyval(m, coeff[:], geodSq(eps)) / coeff[m+1]
	return (t + eps) / (1 - eps)
}

// c1f sets the coefficients C1[1] … C1[6] of the Fourier expansion of B1.
func c1f(eps float64, c []float64) {
	coeff := [...]float64{
		-1, 6, -16, 32,
		-9, 64, -128, 2048,
		9, -16, 768,
		3, -5, 512,
		-7, 1280,
		-7, 2048,
	}
	fourierCoefficients(eps, coeff[:], c)
}

// c1pf sets the coefficients C1p[1] … C1p[6] of the Fourier expansion of B1p.
func c1pf(eps float64, c []float64) {
	coeff := [...]float64{
		205, -432, 768, 1536,
		4005, -4736, 3840, 12288,
		-225, 116, 384,
		-7173, 2695, 7680,
		3467, 7680,
		38081, 61440,
	}
	fourierCoefficients(eps, coeff[:], c)
}

// a2m1f is the scale factor A2 − 1.
func a2m1f(eps float64) float64 {
	coeff := [...]float64{-11, -28, -192, 0, 256}
	m := geodOrder / 2
	t := geodPolyval(m, coeff[:], geodSq(eps)) / coeff[m+1]
	return (t - eps) / (1 + eps)
}

// c2f sets the coefficients C2[1] … C2[6] of the Fourier expansion of B2.
func c2f(eps float64, c []float64) {
	coeff := [...]float64{
		1, 2, 16, 32,
		35, 64, 384, 2048,
		15, 80, 768,
		7, 35, 512,
		63, 1280,
		77, 2048,
	}
	fourierCoefficients(eps, coeff[:], c)
}

// fourierCoefficients evaluates c[l] = eps^l · P_l(eps²) for l = 1 … 6 from the
// packed polynomial coefficients (the loop shared by C1f, C1pf and C2f).
func fourierCoefficients(eps float64, coeff, c []float64) {
	eps2 := geodSq(eps)
	d := eps
	o := 0
	for l := 1; l <= geodOrder; l++ {
		m := (geodOrder - l) / 2
		c[l] = d * geodPolyval(m, coeff[o:], eps2) / coeff[o+m+1]
		o += m + 2
		d *= eps
	}
}

func (g *geodEllipsoid) a3coeff() {
	coeff := [...]float64{
		-3, 128,
		-2, -3, 64,
		-1, -3, -1, 16,
		3, -1, -2, 8,
		1, -1, 2,
		1, 1,
	}
	o, k := 0, 0
	for j := geodOrder - 1; j >= 0; j-- {
		m := min(geodOrder-j-1, j)
		g.a3x[k] = geodPolyval(m, coeff[o:], g.n) / coeff[o+m+1]
		k++
		o += m + 2
	}
}

func (g *geodEllipsoid) c3coeff() {
	coeff := [...]float64{
		3, 128,
		2, 5, 128,
		-1, 3, 3, 64,
		-1, 0, 1, 8,
		-1, 1, 4,
		5, 256,
		1, 3, 128,
		-3, -2, 3, 64,
		1, -3, 2, 32,
		7, 512,
		-10, 9, 384,
		5, -9, 5, 192,
		7, 512,
		-14, 7, 512,
		21, 2560,
	}
	o, k := 0, 0
	for l := 1; l < geodOrder; l++ {
		for j := geodOrder - 1; j >= l; j-- {
			m := min(geodOrder-j-1, j)
			g.c3x[k] = geodPolyval(m, coeff[o:], g.n) / coeff[o+m+1]
			k++
			o += m + 2
		}
	}
}

func (g *geodEllipsoid) c4coeff() {
	coeff := [...]float64{
		97, 15015,
		1088, 156, 45045,
		-224, -4784, 1573, 45045,
		-10656, 14144, -4576, -858, 45045,
		64, 624, -4576, 6864, -3003, 15015,
		100, 208, 572, 3432, -12012, 30030, 45045,
		1, 9009,
		-2944, 468, 135135,
		5792, 1040, -1287, 135135,
		5952, -11648, 9152, -2574, 135135,
		-64, -624, 4576, -6864, 3003, 135135,
		8, 10725,
		1856, -936, 225225,
		-8448, 4992, -1144, 225225,
		-1440, 4160, -4576, 1716, 225225,
		-136, 63063,
		1024, -208, 105105,
		3584, -3328, 1144, 315315,
		-128, 135135,
		-2560, 832, 405405,
		128, 99099,
	}
	o, k := 0, 0
	for l := 0; l < geodOrder; l++ {
		for j := geodOrder - 1; j >= l; j-- {
			m := geodOrder - j - 1
			g.c4x[k] = geodPolyval(m, coeff[o:], g.n) / coeff[o+m+1]
			k++
			o += m + 2
		}
	}
}

// geodTransit is 1 or −1 if the edge from lon1 to lon2 crosses the prime meridian
// eastwards or westwards, else 0.
func geodTransit(lon1, lon2 float64) int {
	lon12, _ := angDiff(lon1, lon2)
	lon1 = angNormalize(lon1)
	lon2 = angNormalize(lon2)
	switch {
	case lon12 > 0 && ((lon1 < 0 && lon2 >= 0) || (lon1 > 0 && lon2 == 0)):
		return 1
	case lon12 < 0 && lon1 >= 0 && lon2 < 0:
		return -1
	}
	return 0
}

// geodAccumulator is a sum kept as an unevaluated pair (s[0] + s[1]), as
// geodesic.c's accini/accadd, so that long sums lose no precision.
type geodAccumulator [2]float64

func (s *geodAccumulator) add(y float64) {
	z, u := geodSum(y, s[1])
	s[0], s[1] = geodSum(z, s[0])
	if s[0] == 0 {
		s[0] = u
	} else {
		s[1] += u
	}
}

// geodAreaReduce reduces the accumulated area of a polygon (clockwise sense) to
// the counter-clockwise sense in (−area0/2, area0/2] (areareduceA with
// reverse = false, sign = true).
func geodAreaReduce(area geodAccumulator, area0 float64, crossings int) float64 {
	area[0] = remainder(area[0], area0)
	area.add(0)
	if crossings&1 != 0 {
		if area[0] < 0 {
			area.add(area0 / 2)
		} else {
			area.add(-area0 / 2)
		}
	}
	area[0], area[1] = -area[0], -area[1]
	if area[0] > area0/2 {
		area.add(-area0)
	} else if area[0] <= -area0/2 {
		area.add(area0)
	}
	return 0 + area[0]
}

package orbit

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// SGP4 and SDP4 as Vallado, Crawford, Hujsak & Kelso give them in "Revisiting Spacetrack
// Report #3" (AIAA 2006-6753) and its companion code, in the "improved" operation mode
// (Greenwich sidereal time at epoch from the IAU-82 formula) with the WGS-72 constants the
// element sets are fitted with. The names of the coefficients are the report's, so the
// code can be read beside it.

// WGS-72, as SGP4 uses it.
const (
	earthRadiusKm = 6378.135
	earthMu       = 398600.8 // km³/s²
	j2            = 0.001082616
	j3            = -0.00000253881
	j4            = -0.00000165597
	j3oj2         = j3 / j2
	twoPi         = 2 * math.Pi
	x2o3          = 2.0 / 3.0
	minutesPerDay = 1440.0
)

// xke is sqrt(GM) in earth radii^1.5 per minute.
var xke = 60.0 / math.Sqrt(earthRadiusKm*earthRadiusKm*earthRadiusKm/earthMu)

// Vector is a position (km) or velocity (km/s) in a Cartesian frame.
type Vector [3]float64

// Norm is the vector's length.
func (v Vector) Norm() float64 { return math.Sqrt(v[0]*v[0] + v[1]*v[1] + v[2]*v[2]) }

// The ways propagation fails, as the reference code numbers them. A *PropagationError
// wraps one of them.
var (
	ErrEccentricity          = errors.New("the mean eccentricity left 0 ≤ e < 1")                  // 1
	ErrMeanMotion            = errors.New("the mean motion fell to zero or below")                 // 2
	ErrPerturbedEccentricity = errors.New("the perturbed eccentricity left 0 ≤ e ≤ 1")             // 3
	ErrSemiLatusRectum       = errors.New("the semi-latus rectum fell below zero")                 // 4
	ErrDecayed               = errors.New("the satellite has decayed (below the earth's surface)") // 6
)

// PropagationError is a propagation that failed at a time after (or before) the epoch.
type PropagationError struct {
	Minutes float64 // since the epoch
	Code    int     // the reference code's error number
	Err     error
}

func (e *PropagationError) Error() string {
	return fmt.Sprintf("at %.4f minutes from the epoch: %v", e.Minutes, e.Err)
}

func (e *PropagationError) Unwrap() error { return e.Err }

// Satellite is an element set initialised for propagation. Its methods do not change it,
// so one Satellite may be propagated from several goroutines at once.
type Satellite struct {
	TLE TLE

	epoch float64 // days since 1949 December 31 00:00 UT

	// Mean elements at epoch (radians; no is the un-Kozai'd mean motion, rad/min).
	bstar, ecco, argpo, inclo, mo, nodeo, no float64

	isimp bool // perigee below 220 km: the simplified drag equations
	gsto  float64

	aycof, con41, cc1, cc4, cc5, d2, d3, d4, delmo, eta, argpdot, omgcof, sinmao,
	t2cof, t3cof, t4cof, t5cof, x1mth2, x7thm1, mdot, nodedot, xlcof, xmcof, nodecf float64

	deep *deepSpace // nil for periods under 225 minutes (SGP4), set for SDP4
}

// NewSatellite initialises SGP4 (or SDP4, for a period of 225 minutes or more) from a
// parsed element set. It never fails; an element set that cannot be propagated says so
// from Propagate.
func NewSatellite(t TLE) *Satellite {
	const deg = math.Pi / 180
	s := &Satellite{
		TLE:   t,
		bstar: t.BStar,
		ecco:  t.Eccentricity,
		argpo: t.ArgPerigee * deg,
		inclo: t.Inclination * deg,
		mo:    t.MeanAnomaly * deg,
		nodeo: t.RAAN * deg,
	}
	// Through the full Julian date, rounded as the reference rounds it: the sun's and
	// moon's positions at epoch depend on it.
	s.epoch = (julianDateJan0(t.epochYear) + t.epochDay) - 2433281.5
	noKozai := t.MeanMotion * twoPi / minutesPerDay
	s.init(noKozai)
	return s
}

// julianDateJan0 is the Julian date of 0 January of a year, 00:00 UT.
func julianDateJan0(year int) float64 {
	y := float64(year)
	return 367*y - math.Floor(7*(y+math.Floor(10.0/12))*0.25) + math.Floor(275.0/9) + 1721013.5
}

// init is the report's sgp4init (with initl): recover the original mean motion and semi
// major axis from the Kozai mean motion, and set the secular and drag coefficients.
func (s *Satellite) init(noKozai float64) {
	ss := 78.0/earthRadiusKm + 1.0
	qzms2t := math.Pow((120.0-78.0)/earthRadiusKm, 4)

	// initl
	eccsq := s.ecco * s.ecco
	omeosq := 1 - eccsq
	rteosq := math.Sqrt(omeosq)
	cosio := math.Cos(s.inclo)
	cosio2 := cosio * cosio
	ak := math.Pow(xke/noKozai, x2o3)
	d1 := 0.75 * j2 * (3*cosio2 - 1) / (rteosq * omeosq)
	del := d1 / (ak * ak)
	adel := ak * (1 - del*del - del*(1.0/3.0+134*del*del/81))
	del = d1 / (adel * adel)
	s.no = noKozai / (1 + del)
	ao := math.Pow(xke/s.no, x2o3)
	sinio := math.Sin(s.inclo)
	po := ao * omeosq
	con42 := 1 - 5*cosio2
	s.con41 = -con42 - cosio2 - cosio2
	posq := po * po
	rp := ao * (1 - s.ecco)
	s.gsto = GMST(s.epoch + 2433281.5)

	s.isimp = rp < 220.0/earthRadiusKm+1
	sfour := ss
	qzms24 := qzms2t
	perigee := (rp - 1) * earthRadiusKm
	// Perigees below 156 km change the atmosphere's reference altitude s.
	if perigee < 156 {
		sfour = perigee - 78
		if perigee < 98 {
			sfour = 20
		}
		qzms24 = math.Pow((120-sfour)/earthRadiusKm, 4)
		sfour = sfour/earthRadiusKm + 1
	}
	pinvsq := 1 / posq
	tsi := 1 / (ao - sfour)
	s.eta = ao * s.ecco * tsi
	etasq := s.eta * s.eta
	eeta := s.ecco * s.eta
	psisq := math.Abs(1 - etasq)
	coef := qzms24 * math.Pow(tsi, 4)
	coef1 := coef / math.Pow(psisq, 3.5)
	cc2 := coef1 * s.no * (ao*(1+1.5*etasq+eeta*(4+etasq)) +
		0.375*j2*tsi/psisq*s.con41*(8+3*etasq*(8+etasq)))
	s.cc1 = s.bstar * cc2
	cc3 := 0.0
	if s.ecco > 1e-4 {
		cc3 = -2 * coef * tsi * j3oj2 * s.no * sinio / s.ecco
	}
	s.x1mth2 = 1 - cosio2
	s.cc4 = 2 * s.no * coef1 * ao * omeosq *
		(s.eta*(2+0.5*etasq) + s.ecco*(0.5+2*etasq) -
			j2*tsi/(ao*psisq)*(-3*s.con41*(1-2*eeta+etasq*(1.5-0.5*eeta))+
				0.75*s.x1mth2*(2*etasq-eeta*(1+etasq))*math.Cos(2*s.argpo)))
	s.cc5 = 2 * coef1 * ao * omeosq * (1 + 2.75*(etasq+eeta) + eeta*etasq)
	cosio4 := cosio2 * cosio2
	temp1 := 1.5 * j2 * pinvsq * s.no
	temp2 := 0.5 * temp1 * j2 * pinvsq
	temp3 := -0.46875 * j4 * pinvsq * pinvsq * s.no
	s.mdot = s.no + 0.5*temp1*rteosq*s.con41 + 0.0625*temp2*rteosq*(13-78*cosio2+137*cosio4)
	s.argpdot = -0.5*temp1*con42 + 0.0625*temp2*(7-114*cosio2+395*cosio4) +
		temp3*(3-36*cosio2+49*cosio4)
	xhdot1 := -temp1 * cosio
	s.nodedot = xhdot1 + (0.5*temp2*(4-19*cosio2)+2*temp3*(3-7*cosio2))*cosio
	xpidot := s.argpdot + s.nodedot
	s.omgcof = s.bstar * cc3 * math.Cos(s.argpo)
	if s.ecco > 1e-4 {
		s.xmcof = -x2o3 * coef * s.bstar / eeta
	}
	s.nodecf = 3.5 * omeosq * xhdot1 * s.cc1
	s.t2cof = 1.5 * s.cc1
	s.xlcof = longPeriodL(sinio, cosio)
	s.aycof = -0.5 * j3oj2 * sinio
	s.delmo = math.Pow(1+s.eta*math.Cos(s.mo), 3)
	s.sinmao = math.Sin(s.mo)
	s.x7thm1 = 7*cosio2 - 1

	if twoPi/s.no >= 225 {
		s.isimp = true
		s.deep = newDeepSpace(s, eccsq, xpidot)
	}
	if !s.isimp {
		cc1sq := s.cc1 * s.cc1
		s.d2 = 4 * ao * tsi * cc1sq
		temp := s.d2 * tsi * s.cc1 / 3
		s.d3 = (17*ao + sfour) * temp
		s.d4 = 0.5 * temp * ao * tsi * (221*ao + 31*sfour) * s.cc1
		s.t3cof = s.d2 + 2*cc1sq
		s.t4cof = 0.25 * (3*s.d3 + s.cc1*(12*s.d2+10*cc1sq))
		s.t5cof = 0.2 * (3*s.d4 + 12*s.cc1*s.d3 + 6*s.d2*s.d2 + 15*cc1sq*(2*s.d2+cc1sq))
	}
}

// longPeriodL is the long-period periodic coefficient of the mean longitude, guarded
// against division by zero for an inclination of 180°.
func longPeriodL(sini, cosi float64) float64 {
	den := 1 + cosi
	if math.Abs(den) <= 1.5e-12 {
		den = 1.5e-12
	}
	return -0.25 * j3oj2 * sini * (3 + 5*cosi) / den
}

// At is Propagate at a time.
func (s *Satellite) At(t time.Time) (r, v Vector, err error) {
	return s.Propagate(t.Sub(s.TLE.Epoch).Minutes())
}

// Propagate returns the satellite's position (km) and velocity (km/s) in the TEME frame
// (true equator, mean equinox of date) at tsince minutes from the epoch. It fails with a
// *PropagationError (wrapping ErrDecayed and its siblings) when the theory breaks down:
// the satellite decays, or its elements leave their valid range.
func (s *Satellite) Propagate(tsince float64) (r, v Vector, err error) {
	fail := func(code int, e error) (Vector, Vector, error) {
		return Vector{}, Vector{}, &PropagationError{Minutes: tsince, Code: code, Err: e}
	}
	t := tsince
	// Secular gravity and atmospheric drag.
	xmdf := s.mo + s.mdot*t
	argpdf := s.argpo + s.argpdot*t
	nodedf := s.nodeo + s.nodedot*t
	argpm := argpdf
	mm := xmdf
	t2 := t * t
	nodem := nodedf + s.nodecf*t2
	tempa := 1 - s.cc1*t
	tempe := s.bstar * s.cc4 * t
	templ := s.t2cof * t2
	if !s.isimp {
		delomg := s.omgcof * t
		delm := s.xmcof * (math.Pow(1+s.eta*math.Cos(xmdf), 3) - s.delmo)
		temp := delomg + delm
		mm = xmdf + temp
		argpm = argpdf - temp
		t3 := t2 * t
		t4 := t3 * t
		tempa = tempa - s.d2*t2 - s.d3*t3 - s.d4*t4
		tempe = tempe + s.bstar*s.cc5*(math.Sin(mm)-s.sinmao)
		templ = templ + s.t3cof*t3 + t4*(s.t4cof+t*s.t5cof)
	}
	nm := s.no
	em := s.ecco
	inclm := s.inclo
	if s.deep != nil {
		em, argpm, inclm, mm, nodem, nm = s.deep.secular(s, t, em, argpm, inclm, mm, nodem)
	}
	if nm <= 0 {
		return fail(2, ErrMeanMotion)
	}
	am := math.Pow(xke/nm, x2o3) * tempa * tempa
	nm = xke / math.Pow(am, 1.5)
	em -= tempe
	if em >= 1 || em < -0.001 {
		return fail(1, ErrEccentricity)
	}
	if em < 1e-6 {
		em = 1e-6
	}
	mm += s.no * templ
	xlm := mm + argpm + nodem
	nodem = math.Mod(nodem, twoPi)
	argpm = math.Mod(argpm, twoPi)
	xlm = math.Mod(xlm, twoPi)
	mm = math.Mod(xlm-argpm-nodem, twoPi)

	// Lunar-solar periodics.
	ep, xincp, argpp, nodep, mp := em, inclm, argpm, nodem, mm
	sinip, cosip := math.Sin(inclm), math.Cos(inclm)
	aycof, xlcof := s.aycof, s.xlcof
	con41, x1mth2, x7thm1 := s.con41, s.x1mth2, s.x7thm1
	if s.deep != nil {
		ep, xincp, nodep, argpp, mp = s.deep.periodics(t, ep, xincp, nodep, argpp, mp)
		if xincp < 0 {
			xincp = -xincp
			nodep += math.Pi
			argpp -= math.Pi
		}
		if ep < 0 || ep > 1 {
			return fail(3, ErrPerturbedEccentricity)
		}
		sinip, cosip = math.Sin(xincp), math.Cos(xincp)
		aycof = -0.5 * j3oj2 * sinip
		xlcof = longPeriodL(sinip, cosip)
		cosisq := cosip * cosip
		con41 = 3*cosisq - 1
		x1mth2 = 1 - cosisq
		x7thm1 = 7*cosisq - 1
	}

	// Long-period periodics.
	axnl := ep * math.Cos(argpp)
	temp := 1 / (am * (1 - ep*ep))
	aynl := ep*math.Sin(argpp) + temp*aycof
	xl := mp + argpp + nodep + temp*xlcof*axnl

	// Kepler's equation, in the form with the long-period terms folded in.
	u := math.Mod(xl-nodep, twoPi)
	eo1 := u
	tem5 := 9999.9
	var sineo1, coseo1 float64
	for ktr := 1; math.Abs(tem5) >= 1e-12 && ktr <= 10; ktr++ {
		sineo1, coseo1 = math.Sin(eo1), math.Cos(eo1)
		tem5 = 1 - coseo1*axnl - sineo1*aynl
		tem5 = (u - aynl*coseo1 + axnl*sineo1 - eo1) / tem5
		if math.Abs(tem5) >= 0.95 {
			tem5 = math.Copysign(0.95, tem5)
		}
		eo1 += tem5
	}

	// Short-period periodics.
	ecose := axnl*coseo1 + aynl*sineo1
	esine := axnl*sineo1 - aynl*coseo1
	el2 := axnl*axnl + aynl*aynl
	pl := am * (1 - el2)
	if pl < 0 {
		return fail(4, ErrSemiLatusRectum)
	}
	rl := am * (1 - ecose)
	rdotl := math.Sqrt(am) * esine / rl
	rvdotl := math.Sqrt(pl) / rl
	betal := math.Sqrt(1 - el2)
	temp = esine / (1 + betal)
	sinu := am / rl * (sineo1 - aynl - axnl*temp)
	cosu := am / rl * (coseo1 - axnl + aynl*temp)
	su := math.Atan2(sinu, cosu)
	sin2u := (cosu + cosu) * sinu
	cos2u := 1 - 2*sinu*sinu
	temp = 1 / pl
	temp1 := 0.5 * j2 * temp
	temp2 := temp1 * temp

	mrt := rl*(1-1.5*temp2*betal*con41) + 0.5*temp1*x1mth2*cos2u
	su -= 0.25 * temp2 * x7thm1 * sin2u
	xnode := nodep + 1.5*temp2*cosip*sin2u
	xinc := xincp + 1.5*temp2*cosip*sinip*cos2u
	mvt := rdotl - nm*temp1*x1mth2*sin2u/xke
	rvdot := rvdotl + nm*temp1*(x1mth2*cos2u+1.5*con41)/xke

	// Orientation vectors, then position and velocity.
	sinsu, cossu := math.Sin(su), math.Cos(su)
	snod, cnod := math.Sin(xnode), math.Cos(xnode)
	sini, cosi := math.Sin(xinc), math.Cos(xinc)
	xmx := -snod * cosi
	xmy := cnod * cosi
	ux := xmx*sinsu + cnod*cossu
	uy := xmy*sinsu + snod*cossu
	uz := sini * sinsu
	vx := xmx*cossu - cnod*sinsu
	vy := xmy*cossu - snod*sinsu
	vz := sini * cossu
	if mrt < 1 {
		return fail(6, ErrDecayed)
	}
	mr := mrt * earthRadiusKm
	r = Vector{mr * ux, mr * uy, mr * uz}
	vk := earthRadiusKm * xke / 60 // earth radii per minute to km/s
	v = Vector{(mvt*ux + rvdot*vx) * vk, (mvt*uy + rvdot*vy) * vk, (mvt*uz + rvdot*vz) * vk}
	return r, v, nil
}

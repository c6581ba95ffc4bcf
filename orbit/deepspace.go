package orbit

import "math"

// SDP4's deep-space part: the sun's and moon's secular and periodic effects (the report's
// dscom, dsinit, dpper) and the resonance of 12-hour and 24-hour orbits with the earth's
// gravity field, integrated numerically (dspace). The integration always starts again
// from the epoch, so a Satellite keeps no state between calls; it takes the same steps the
// reference's does and so gives the same numbers.

// The sun's and moon's mean motions and eccentricities (rad/min).
const (
	zns   = 1.19459e-5
	zes   = 0.01675
	znl   = 1.5835218e-4
	zel   = 0.05490
	rptim = 4.37526908801129966e-3 // the earth's rotation, rad/min
)

// deepSpace holds the lunar-solar and resonance coefficients set at epoch.
type deepSpace struct {
	// Lunar-solar periodics (dpper): the sun's and the moon's, and where each stood on
	// its orbit at epoch.
	sun, moon  periodicTerms
	zmos, zmol float64

	// Lunar-solar secular rates.
	dedt, didt, dmdt, dnodt, domdt float64

	// Resonance: 0 none, 1 one day (geosynchronous), 2 half a day (Molniya).
	irez                                                                 int
	d2201, d2211, d3210, d3222, d4410, d4422, d5220, d5232, d5421, d5433 float64
	del1, del2, del3, xfact, xlamo                                       float64
}

// thirdBody is one body's (the sun's or the moon's) share of dscom's coefficients.
type thirdBody struct {
	s1, s2, s3, s4, s5, s6, s7                              float64
	z1, z2, z3, z11, z12, z13, z21, z22, z23, z31, z32, z33 float64
}

// orbitAngles are the satellite's elements as dscom sees them.
type orbitAngles struct {
	em, emsq, betasq, rtemsq, xnoi float64
	sinim, cosim, sinomm, cosomm   float64
}

// thirdBodyTerms is dscom's loop body for one perturbing body, given the orientation of its
// orbit (g: argument of perigee, i: inclination, h: node) relative to the equator and
// its strength cc.
func thirdBodyTerms(o orbitAngles, zcosg, zsing, zcosi, zsini, zcosh, zsinh, cc float64) thirdBody {
	a1 := zcosg*zcosh + zsing*zcosi*zsinh
	a3 := -zsing*zcosh + zcosg*zcosi*zsinh
	a7 := -zcosg*zsinh + zsing*zcosi*zcosh
	a8 := zsing * zsini
	a9 := zsing*zsinh + zcosg*zcosi*zcosh
	a10 := zcosg * zsini
	a2 := o.cosim*a7 + o.sinim*a8
	a4 := o.cosim*a9 + o.sinim*a10
	a5 := -o.sinim*a7 + o.cosim*a8
	a6 := -o.sinim*a9 + o.cosim*a10

	x1 := a1*o.cosomm + a2*o.sinomm
	x2 := a3*o.cosomm + a4*o.sinomm
	x3 := -a1*o.sinomm + a2*o.cosomm
	x4 := -a3*o.sinomm + a4*o.cosomm
	x5 := a5 * o.sinomm
	x6 := a6 * o.sinomm
	x7 := a5 * o.cosomm
	x8 := a6 * o.cosomm

	var b thirdBody
	emsq := o.emsq
	b.z31 = 12*x1*x1 - 3*x3*x3
	b.z32 = 24*x1*x2 - 6*x3*x4
	b.z33 = 12*x2*x2 - 3*x4*x4
	b.z1 = 3*(a1*a1+a2*a2) + b.z31*emsq
	b.z2 = 6*(a1*a3+a2*a4) + b.z32*emsq
	b.z3 = 3*(a3*a3+a4*a4) + b.z33*emsq
	b.z11 = -6*a1*a5 + emsq*(-24*x1*x7-6*x3*x5)
	b.z12 = -6*(a1*a6+a3*a5) + emsq*(-24*(x2*x7+x1*x8)-6*(x3*x6+x4*x5))
	b.z13 = -6*a3*a6 + emsq*(-24*x2*x8-6*x4*x6)
	b.z21 = 6*a2*a5 + emsq*(24*x1*x5-6*x3*x7)
	b.z22 = 6*(a4*a5+a2*a6) + emsq*(24*(x2*x5+x1*x6)-6*(x4*x7+x3*x8))
	b.z23 = 6*a4*a6 + emsq*(24*x2*x6-6*x4*x8)
	b.z1 = b.z1 + b.z1 + o.betasq*b.z31
	b.z2 = b.z2 + b.z2 + o.betasq*b.z32
	b.z3 = b.z3 + b.z3 + o.betasq*b.z33
	b.s3 = cc * o.xnoi
	b.s2 = -0.5 * b.s3 / o.rtemsq
	b.s4 = b.s3 * o.rtemsq
	b.s1 = -15 * o.em * b.s4
	b.s5 = x1*x3 + x2*x4
	b.s6 = x2*x3 + x1*x4
	b.s7 = x2*x4 - x1*x3
	return b
}

// periodicTerms are one body's coefficients of the periodic perturbations of
// eccentricity, inclination, mean longitude, argument of perigee and node (the report's
// se2…sh3 for the sun, ee2…xh3 for the moon).
type periodicTerms struct {
	e2, e3, i2, i3, l2, l3, l4, gh2, gh3, gh4, h2, h3 float64
}

// periodicTerms are the body's periodic coefficients; ecc is its orbit's eccentricity.
func (b thirdBody) periodicTerms(emsq, ecc float64) periodicTerms {
	return periodicTerms{
		e2:  2 * b.s1 * b.s6,
		e3:  2 * b.s1 * b.s7,
		i2:  2 * b.s2 * b.z12,
		i3:  2 * b.s2 * (b.z13 - b.z11),
		l2:  -2 * b.s3 * b.z2,
		l3:  -2 * b.s3 * (b.z3 - b.z1),
		l4:  -2 * b.s3 * (-21 - 9*emsq) * ecc,
		gh2: 2 * b.s4 * b.z32,
		gh3: 2 * b.s4 * (b.z33 - b.z31),
		gh4: -18 * b.s4 * ecc,
		h2:  -2 * b.s2 * b.z22,
		h3:  -2 * b.s2 * (b.z23 - b.z21),
	}
}

// at is the body's perturbations of e, i, L, ω and Ω with its mean anomaly at zm; ecc is
// its orbit's eccentricity.
func (c periodicTerms) at(zm, ecc float64) (pe, pinc, pl, pgh, ph float64) {
	zf := zm + 2*ecc*math.Sin(zm)
	sinzf := math.Sin(zf)
	f2 := 0.5*sinzf*sinzf - 0.25
	f3 := -0.5 * sinzf * math.Cos(zf)
	return c.e2*f2 + c.e3*f3, c.i2*f2 + c.i3*f3, c.l2*f2 + c.l3*f3 + c.l4*sinzf,
		c.gh2*f2 + c.gh3*f3 + c.gh4*sinzf, c.h2*f2 + c.h3*f3
}

// newDeepSpace is dscom and dsinit at epoch for a satellite whose near-earth
// coefficients are set.
func newDeepSpace(s *Satellite, eccsq, xpidot float64) *deepSpace {
	const (
		c1ss   = 2.9864797e-6
		c1l    = 4.7968065e-7
		zsinis = 0.39785416
		zcosis = 0.91744867
		zcosgs = 0.1945905
		zsings = -0.98088458
	)
	d := &deepSpace{}
	o := orbitAngles{em: s.ecco, emsq: s.ecco * s.ecco}
	o.betasq = 1 - o.emsq
	o.rtemsq = math.Sqrt(o.betasq)
	o.xnoi = 1 / s.no
	o.sinim, o.cosim = math.Sin(s.inclo), math.Cos(s.inclo)
	o.sinomm, o.cosomm = math.Sin(s.argpo), math.Cos(s.argpo)
	snodm, cnodm := math.Sin(s.nodeo), math.Cos(s.nodeo)

	// The moon's orbit at epoch.
	day := s.epoch + 18261.5
	xnodce := math.Mod(4.5236020-9.2422029e-4*day, twoPi)
	stem, ctem := math.Sin(xnodce), math.Cos(xnodce)
	zcosil := 0.91375164 - 0.03568096*ctem
	zsinil := math.Sqrt(1 - zcosil*zcosil)
	zsinhl := 0.089683511 * stem / zsinil
	zcoshl := math.Sqrt(1 - zsinhl*zsinhl)
	gam := 5.8351514 + 0.0019443680*day
	zx := 0.39785416 * stem / zsinil
	zy := zcoshl*ctem + 0.91744867*zsinhl*stem
	zx = gam + math.Atan2(zx, zy) - xnodce
	zcosgl, zsingl := math.Cos(zx), math.Sin(zx)

	sun := thirdBodyTerms(o, zcosgs, zsings, zcosis, zsinis, cnodm, snodm, c1ss)
	moon := thirdBodyTerms(o, zcosgl, zsingl, zcosil, zsinil,
		zcoshl*cnodm+zsinhl*snodm, snodm*zcoshl-cnodm*zsinhl, c1l)

	d.zmol = math.Mod(4.7199672+0.22997150*day-gam, twoPi)
	d.zmos = math.Mod(6.2565837+0.017201977*day, twoPi)
	d.sun = sun.periodicTerms(o.emsq, zes)
	d.moon = moon.periodicTerms(o.emsq, zel)

	d.initSecular(s, o, sun, moon, eccsq, xpidot)
	return d
}

// initSecular is dsinit: the lunar-solar secular rates and, for resonant orbits, the
// resonance coefficients.
func (d *deepSpace) initSecular(s *Satellite, o orbitAngles, sun, moon thirdBody, eccsq, xpidot float64) {
	const (
		q22 = 1.7891679e-6
		q31 = 2.1460748e-6
		q33 = 2.2123015e-7
	)
	nm, em, emsq := s.no, s.ecco, o.emsq
	sinim, cosim := o.sinim, o.cosim
	if 0.0034906585 < nm && nm < 0.0052359877 {
		d.irez = 1
	}
	if 8.26e-3 <= nm && nm <= 9.24e-3 && em >= 0.5 {
		d.irez = 2
	}
	// Near-equatorial orbits get no node rate from the sun and moon.
	equatorial := s.inclo < 5.2359877e-2 || s.inclo > math.Pi-5.2359877e-2

	ses := sun.s1 * zns * sun.s5
	sis := sun.s2 * zns * (sun.z11 + sun.z13)
	sls := -zns * sun.s3 * (sun.z1 + sun.z3 - 14 - 6*emsq)
	sghs := sun.s4 * zns * (sun.z31 + sun.z33 - 6)
	shs := -zns * sun.s2 * (sun.z21 + sun.z23)
	if equatorial {
		shs = 0
	}
	if sinim != 0 {
		shs /= sinim
	}
	sgs := sghs - cosim*shs
	d.dedt = ses + moon.s1*znl*moon.s5
	d.didt = sis + moon.s2*znl*(moon.z11+moon.z13)
	d.dmdt = sls - znl*moon.s3*(moon.z1+moon.z3-14-6*emsq)
	sghl := moon.s4 * znl * (moon.z31 + moon.z33 - 6)
	shll := -znl * moon.s2 * (moon.z21 + moon.z23)
	if equatorial {
		shll = 0
	}
	d.domdt = sgs + sghl
	d.dnodt = shs
	if sinim != 0 {
		d.domdt -= cosim / sinim * shll
		d.dnodt += shll / sinim
	}
	if d.irez == 0 {
		return
	}
	theta := math.Mod(s.gsto, twoPi)
	aonv := math.Pow(nm/xke, x2o3)
	if d.irez == 2 {
		d.halfDay(s, aonv, theta, eccsq)
	} else {
		g200 := 1 + emsq*(-2.5+0.8125*emsq)
		g310 := 1 + 2*emsq
		g300 := 1 + emsq*(-6+6.60937*emsq)
		f220 := 0.75 * (1 + cosim) * (1 + cosim)
		f311 := 0.9375*sinim*sinim*(1+3*cosim) - 0.75*(1+cosim)
		f330 := 1 + cosim
		f330 = 1.875 * f330 * f330 * f330
		d.del1 = 3 * nm * nm * aonv * aonv
		d.del2 = 2 * d.del1 * f220 * g200 * q22
		d.del3 = 3 * d.del1 * f330 * g300 * q33 * aonv
		d.del1 = d.del1 * f311 * g310 * q31 * aonv
		d.xlamo = math.Mod(s.mo+s.nodeo+s.argpo-theta, twoPi)
		d.xfact = s.mdot + xpidot - rptim + d.dmdt + d.domdt + d.dnodt - s.no
	}
}

// halfDay sets the coefficients of the 12-hour resonance (Molniya and GPS-like orbits of
// eccentricity 0.5 or more).
func (d *deepSpace) halfDay(s *Satellite, aonv, theta, eccsq float64) {
	const (
		root22 = 1.7891679e-6
		root44 = 7.3636953e-9
		root54 = 2.1765803e-9
		root32 = 3.7393792e-7
		root52 = 1.1428639e-7
	)
	cosim, sinim := math.Cos(s.inclo), math.Sin(s.inclo)
	cosisq := cosim * cosim
	em := s.ecco
	emsq := eccsq
	eoc := em * emsq
	g201 := -0.306 - (em-0.64)*0.440
	var g211, g310, g322, g410, g422, g520, g521, g532, g533 float64
	if em <= 0.65 {
		g211 = 3.616 - 13.2470*em + 16.2900*emsq
		g310 = -19.302 + 117.3900*em - 228.4190*emsq + 156.5910*eoc
		g322 = -18.9068 + 109.7927*em - 214.6334*emsq + 146.5816*eoc
		g410 = -41.122 + 242.6940*em - 471.0940*emsq + 313.9530*eoc
		g422 = -146.407 + 841.8800*em - 1629.014*emsq + 1083.4350*eoc
		g520 = -532.114 + 3017.977*em - 5740.032*emsq + 3708.2760*eoc
	} else {
		g211 = -72.099 + 331.819*em - 508.738*emsq + 266.724*eoc
		g310 = -346.844 + 1582.851*em - 2415.925*emsq + 1246.113*eoc
		g322 = -342.585 + 1554.908*em - 2366.899*emsq + 1215.972*eoc
		g410 = -1052.797 + 4758.686*em - 7193.992*emsq + 3651.957*eoc
		g422 = -3581.690 + 16178.110*em - 24462.770*emsq + 12422.520*eoc
		if em > 0.715 {
			g520 = -5149.66 + 29936.92*em - 54087.36*emsq + 31324.56*eoc
		} else {
			g520 = 1464.74 - 4664.75*em + 3763.64*emsq
		}
	}
	if em < 0.7 {
		g533 = -919.22770 + 4988.6100*em - 9064.7700*emsq + 5542.21*eoc
		g521 = -822.71072 + 4568.6173*em - 8491.4146*emsq + 5337.524*eoc
		g532 = -853.66600 + 4690.2500*em - 8624.7700*emsq + 5341.4*eoc
	} else {
		g533 = -37995.780 + 161616.52*em - 229838.20*emsq + 109377.94*eoc
		g521 = -51752.104 + 218913.95*em - 309468.16*emsq + 146349.42*eoc
		g532 = -40023.880 + 170470.89*em - 242699.48*emsq + 115605.82*eoc
	}
	sini2 := sinim * sinim
	f220 := 0.75 * (1 + 2*cosim + cosisq)
	f221 := 1.5 * sini2
	f321 := 1.875 * sinim * (1 - 2*cosim - 3*cosisq)
	f322 := -1.875 * sinim * (1 + 2*cosim - 3*cosisq)
	f441 := 35 * sini2 * f220
	f442 := 39.3750 * sini2 * sini2
	f522 := 9.84375 * sinim * (sini2*(1-2*cosim-5*cosisq) + 0.33333333*(-2+4*cosim+6*cosisq))
	f523 := sinim * (4.92187512*sini2*(-2-4*cosim+10*cosisq) + 6.56250012*(1+2*cosim-3*cosisq))
	f542 := 29.53125 * sinim * (2 - 8*cosim + cosisq*(-12+8*cosim+10*cosisq))
	f543 := 29.53125 * sinim * (-2 - 8*cosim + cosisq*(12+8*cosim-10*cosisq))
	nm := s.no
	xno2 := nm * nm
	ainv2 := aonv * aonv
	temp1 := 3 * xno2 * ainv2
	temp := temp1 * root22
	d.d2201 = temp * f220 * g201
	d.d2211 = temp * f221 * g211
	temp1 *= aonv
	temp = temp1 * root32
	d.d3210 = temp * f321 * g310
	d.d3222 = temp * f322 * g322
	temp1 *= aonv
	temp = 2 * temp1 * root44
	d.d4410 = temp * f441 * g410
	d.d4422 = temp * f442 * g422
	temp1 *= aonv
	temp = temp1 * root52
	d.d5220 = temp * f522 * g520
	d.d5232 = temp * f523 * g532
	temp = 2 * temp1 * root54
	d.d5421 = temp * f542 * g521
	d.d5433 = temp * f543 * g533
	d.xlamo = math.Mod(s.mo+s.nodeo+s.nodeo-theta-theta, twoPi)
	d.xfact = s.mdot + d.dmdt + 2*(s.nodedot+d.dnodt-rptim) - s.no
}

// secular is dspace: the lunar-solar secular drift of the mean elements at t minutes from
// epoch and, for resonant orbits, the mean motion and mean anomaly integrated from the
// epoch in steps of 720 minutes.
func (d *deepSpace) secular(s *Satellite, t, em, argpm, inclm, mm, nodem float64) (emOut, argpmOut, inclmOut, mmOut, nodemOut, nm float64) {
	const (
		fasx2 = 0.13130908
		fasx4 = 2.8843198
		fasx6 = 0.37448087
		g22   = 5.7686396
		g32   = 0.95240898
		g44   = 1.8014998
		g52   = 1.0508330
		g54   = 4.4108898
		stepp = 720.0
		step2 = 259200.0
	)
	theta := math.Mod(s.gsto+t*rptim, twoPi)
	em += d.dedt * t
	inclm += d.didt * t
	argpm += d.domdt * t
	nodem += d.dnodt * t
	mm += d.dmdt * t
	nm = s.no
	if d.irez == 0 {
		return em, argpm, inclm, mm, nodem, nm
	}
	atime, xni, xli := 0.0, s.no, d.xlamo
	delt := stepp
	if t <= 0 {
		delt = -stepp
	}
	var xndt, xldot, xnddt, ft float64
	for {
		if d.irez != 2 {
			xndt = d.del1*math.Sin(xli-fasx2) + d.del2*math.Sin(2*(xli-fasx4)) + d.del3*math.Sin(3*(xli-fasx6))
			xldot = xni + d.xfact
			xnddt = d.del1*math.Cos(xli-fasx2) + 2*d.del2*math.Cos(2*(xli-fasx4)) + 3*d.del3*math.Cos(3*(xli-fasx6))
			xnddt *= xldot
		} else {
			xomi := s.argpo + s.argpdot*atime
			x2omi := xomi + xomi
			x2li := xli + xli
			xndt = d.d2201*math.Sin(x2omi+xli-g22) + d.d2211*math.Sin(xli-g22) +
				d.d3210*math.Sin(xomi+xli-g32) + d.d3222*math.Sin(-xomi+xli-g32) +
				d.d4410*math.Sin(x2omi+x2li-g44) + d.d4422*math.Sin(x2li-g44) +
				d.d5220*math.Sin(xomi+xli-g52) + d.d5232*math.Sin(-xomi+xli-g52) +
				d.d5421*math.Sin(xomi+x2li-g54) + d.d5433*math.Sin(-xomi+x2li-g54)
			xldot = xni + d.xfact
			xnddt = d.d2201*math.Cos(x2omi+xli-g22) + d.d2211*math.Cos(xli-g22) +
				d.d3210*math.Cos(xomi+xli-g32) + d.d3222*math.Cos(-xomi+xli-g32) +
				d.d5220*math.Cos(xomi+xli-g52) + d.d5232*math.Cos(-xomi+xli-g52) +
				2*(d.d4410*math.Cos(x2omi+x2li-g44)+d.d4422*math.Cos(x2li-g44)+
					d.d5421*math.Cos(xomi+x2li-g54)+d.d5433*math.Cos(-xomi+x2li-g54))
			xnddt *= xldot
		}
		if math.Abs(t-atime) < stepp {
			ft = t - atime
			break
		}
		xli += xldot*delt + xndt*step2
		xni += xndt*delt + xnddt*step2
		atime += delt
	}
	nm = xni + xndt*ft + xnddt*ft*ft*0.5
	xl := xli + xldot*ft + xndt*ft*ft*0.5
	if d.irez != 1 {
		mm = xl - 2*nodem + 2*theta
	} else {
		mm = xl - nodem - argpm + theta
	}
	return em, argpm, inclm, mm, nodem, nm
}

// periodics is dpper after epoch: the lunar-solar periodic terms added to the elements,
// with Lyddane's modification for inclinations below 0.2 rad.
func (d *deepSpace) periodics(t, ep, inclp, nodep, argpp, mp float64) (float64, float64, float64, float64, float64) {
	ses, sis, sls, sghs, shs := d.sun.at(d.zmos+zns*t, zes)
	sel, sil, sll, sghl, shll := d.moon.at(d.zmol+znl*t, zel)
	pe := ses + sel
	pinc := sis + sil
	pl := sls + sll
	pgh := sghs + sghl
	ph := shs + shll

	inclp += pinc
	ep += pe
	sinip, cosip := math.Sin(inclp), math.Cos(inclp)
	if inclp >= 0.2 {
		ph /= sinip
		pgh -= cosip * ph
		argpp += pgh
		nodep += ph
		mp += pl
		return ep, inclp, nodep, argpp, mp
	}
	// Lyddane: apply the node and inclination changes through the components of the
	// orbit normal, which stay finite as the inclination goes to zero.
	sinop, cosop := math.Sin(nodep), math.Cos(nodep)
	alfdp := sinip*sinop + (ph*cosop + pinc*cosip*sinop)
	betdp := sinip*cosop + (-ph*sinop + pinc*cosip*cosop)
	nodep = math.Mod(nodep, twoPi)
	xls := mp + argpp + pl + pgh + (cosip-pinc*sinip)*nodep
	xnoh := nodep
	nodep = math.Atan2(alfdp, betdp)
	if math.Abs(xnoh-nodep) > math.Pi {
		if nodep < xnoh {
			nodep += twoPi
		} else {
			nodep -= twoPi
		}
	}
	mp += pl
	argpp = xls - mp - cosip*nodep
	return ep, inclp, nodep, argpp, mp
}

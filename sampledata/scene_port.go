package sampledata

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Scene 1: port

// quayY is the naval base's straight quay line, running from (600, 960) to (3100, 810).
func quayY(x float64) float64 { return 960 - 0.06*(x-600) }

const (
	quayX0 = 600.0
	quayX1 = 3100.0
)

// shoreBase is the northern coastline before small wiggles: land lies where y < shore.
func shoreBase(x float64) float64 {
	switch {
	case x < quayX0:
		return quayY(quayX0) + 900*math.Pow((quayX0-x)/quayX0, 1.7)
	case x > quayX1:
		return quayY(quayX1) - 180*(x-quayX1)/900
	default:
		return quayY(x)
	}
}

// shore2Base is the far (south-eastern) coastline: land lies where y > shore2.
func shore2Base(x float64) float64 {
	t := math.Max(0, math.Min(1, (x-2300)/1600))
	return 3050 - 550*t*t*(3-2*t)
}

type port struct {
	c        *canvas
	rng      *rand.Rand
	w, h     int
	shore    []float64 // land where y < shore[x] (x = column)
	shore2   []float64 // land where y > shore2[x]
	natural  []float32 // 1 on a natural coast, 0 along the quay
	cover    *field    // large-scale land cover
	detail   *field    // medium-scale brightness
	sea      *field    // large-scale water tone
	compound []pt      // naval base land area (fenced)
	waves    int       // the day's swell phase (see portDay)
	objs     []Object
	shadows  []Shadow
}

func (p *port) isLand(q pt, margin float64) bool {
	x := int(q[0])
	if x < 0 || x >= p.w || q[1] < 0 || q[1] >= float64(p.h) {
		return false
	}
	return q[1] < p.shore[x]-margin || q[1] > p.shore2[x]+margin
}

func portScene() (Scene, error) {
	p := drawPort(portOct8, newCanvas(sceneW, sceneH, nil))
	jp, err := encodeJPEG(p.c.img)
	if err != nil {
		return Scene{}, err
	}
	return Scene{
		FileName: "synthetic-port-scene.jpg",
		Width:    p.w, Height: p.h,
		JPEG: jp,
		Provenance: provenance("port",
			portLocation,
			"Models the National Intelligence Service (Republic of Korea) release of 18 October 2024, which said four landing ships and three escort ships of the Russian Pacific Fleet carried about 1,500 North Korean special forces from areas near Chongjin, Hamhung and Musudan to Vladivostok between 8 and 13 October 2024. This image is synthetic and shows no real place or event."),
		Objects: p.objs,
		Shadows: p.shadows,
	}, nil
}

// portDay is what differs in the port from one day to another.
type portDay struct {
	sun      sun
	waves    int // added to the swell's phase (1/262144 of a wave)
	berths   []berth
	anchored []anchored
	fishing  []craft // fishing boats, not annotated
	craft    []craft
}

// portOct8 is the port on 8 October 2024, the day of the JPEG scene.
var portOct8 = portDay{
	sun: defaultSun,
	berths: []berth{
		{pier: 0, side: +1, t: 100, bowOut: true, conf: confidenceConfirmed},
		{pier: 0, side: -1, t: 120, conf: confidenceConfirmed},
		{pier: 0, side: +1, t: 250, bowOut: true, frig: true, conf: confidenceProbable},
		{pier: 1, side: -1, t: 130, bowOut: true, conf: confidenceProbable},
		{pier: 1, side: +1, t: 160, frig: true, conf: confidenceConfirmed},
		{pier: 2, side: +1, t: 140, conf: confidenceConfirmed},
		{pier: 2, side: -1, t: 180, bowOut: true, frig: true, conf: confidencePossible},
	},
	anchored: []anchored{
		{label: "vessel/cargo ship", x: 2750, y: 2080, heading: 208, length: 150, beam: 23, conf: confidenceProbable,
			identification: "General cargo ship (synthetic)", note: "At anchor in the outer roadstead; containers on deck"},
		{label: "vessel/cargo ship", x: 3330, y: 2240, heading: 172, length: 128, beam: 20, conf: confidencePossible,
			identification: "Cargo ship (synthetic)", note: "At anchor south of the breakwater"},
	},
	fishing: []craft{{x: 2350, y: 2700, heading: 35}, {x: 2620, y: 2560, heading: 300}, {x: 3700, y: 2180, heading: 250}, {x: 1400, y: 2600, heading: 120}},
	craft:   []craft{{x: 2050, y: 1750, heading: 200, note: "Small craft under way with a visible wake, possibly a harbour patrol boat"}},
}

const portLocation = "Fictional port modelled on Vladivostok area, Russian Far East (synthetic)"

// drawPort draws the port as it is on day into c (an 8-bit or a deep canvas of the
// scene's size, whose noise set it replaces and whose sun it sets to the day's). The
// land, the coast, the town, the naval base and the piers come from the same random
// seeds on every day; only the shipping, the light and the swell differ.
func drawPort(day portDay, c *canvas) *port {
	rng := rand.New(rand.NewPCG(1, 2))
	w, h := c.w, c.h
	c.n = newNoiseSet(rng)
	c.sun = day.sun
	p := &port{
		c: c, rng: rng, w: w, h: h, waves: day.waves,
		shore: make([]float64, w), shore2: make([]float64, w), natural: make([]float32, w),
		cover:  newField(rng, w, h, octave{700, 1}, octave{300, 0.6}, octave{120, 0.35}, octave{50, 0.2}),
		detail: newField(rng, w, h, octave{90, 1}, octave{35, 0.6}),
		sea:    newField(rng, w, h, octave{600, 1}, octave{220, 0.5}),
	}
	coast := newLattice(rng, 64, 4)
	for x := 0; x < w; x++ {
		xc := float64(x) + 0.5
		var r float64
		switch {
		case xc < quayX0:
			r = math.Min(1, (quayX0-xc)/120)
		case xc > quayX1:
			r = math.Min(1, (xc-quayX1)/120)
		}
		wig := 20*math.Sin(xc/173+1) + 12*math.Sin(xc/61) + 40*(float64(coast.sample(xc/90, 1))-0.5)
		p.shore[x] = shoreBase(xc) + wig*r
		p.natural[x] = float32(r)
		wig2 := 16*math.Sin(xc/131) + 40*(float64(coast.sample(xc/70, 2.5))-0.5)
		p.shore2[x] = shore2Base(xc) + wig2
	}
	p.compound = []pt{{quayX0, quayY(quayX0)}, {quayX1, quayY(quayX1)}, {3120, 430}, {2300, 440}, {1500, 505}, {700, 565}, {580, 700}}

	parallelRows(h, p.background)
	p.drawTown()
	p.drawCompound()
	frames := p.drawPiers()
	p.drawBerths(frames, day.berths)
	p.drawRoadstead(day)
	return p
}

// background paints water, coast and bare land texture for rows [y0, y1).
func (p *port) background(y0, y1 int) {
	w := p.w
	fc, fd, fs := make([]float32, w), make([]float32, w), make([]float32, w)
	tmp := make([]float32, w/fieldStep+3)
	fine, med, cr := p.c.n.fine, p.c.n.medium, p.c.n.crown
	veg, ochre, grey := rgbn(74, 90, 54, 200), rgbn(146, 130, 94, 155), rgbn(126, 122, 112, 128)
	deep, open := rgbn(20, 46, 56, 14), rgbn(30, 60, 68, 18)
	shallow, sand := rgbn(54, 84, 78, 34), rgbn(164, 154, 124, 170)
	// wave vectors in 1/1024 cycles per pixel, ×256 fixed point
	const k1x, k1y = 4300, 3900 // ~45 px swell towards SE
	const k2x, k2y = -9600, 12200
	for y := y0; y < y1; y++ {
		p.cover.row(y, fc, tmp)
		p.detail.row(y, fd, tmp)
		p.sea.row(y, fs, tmp)
		fy := (y % fine.n) * fine.n
		my := (y % med.n) * med.n
		cy := (y % cr.n) * cr.n
		mx, cx := 0, 0
		yc := float64(y) + 0.5
		for x := 0; x < w; x++ {
			d1 := fine.v[fy+x&(256-1)]
			d2 := med.v[my+mx]
			d3 := cr.v[cy+cx]
			if mx++; mx == med.n {
				mx = 0
			}
			if cx++; cx == cr.n {
				cx = 0
			}
			g := grain(x, y)
			dl := float32(math.Max(p.shore[x]-yc, yc-p.shore2[x])) // > 0 on land
			var k col
			if dl > -0.5 {
				t := fc[x]
				k = mix(veg, ochre, smoothstep(0.36, 0.5, t))
				k = mix(k, grey, smoothstep(0.62, 0.78, t))
				vegW := 1 - smoothstep(0.36, 0.5, t)
				k = k.mul(0.86 + 0.28*fd[x]).add(d1*8 + d2*5 + d3*(4+10*vegW) + g*6)
				k = k.mul(1 - 0.3*vegW*(1-smoothstep(-0.6, -0.05, d3)))
				nat := p.natural[x]
				if yc > p.shore2[x] {
					nat = 1
				}
				if nat > 0 && dl < 7+4*d1 {
					k = mix(k, sand.add(d1*10+g*5), nat)
				}
				if dl < 0.5 {
					k = mix(p.water(x, y, fs[x], d1, d2, g, dl, deep, open, shallow, k1x, k1y, k2x, k2y), k, dl+0.5)
				}
			} else {
				k = p.water(x, y, fs[x], d1, d2, g, dl, deep, open, shallow, k1x, k1y, k2x, k2y)
			}
			p.c.put(x, y, k)
		}
	}
}

func (p *port) water(x, y int, fs, d1, d2, g, dl float32, deep, open, shallow col, k1x, k1y, k2x, k2y int) col {
	k := mix(deep, open, fs)
	ph1 := (x*k1x + y*k1y + int(fs*40000) + int(d2*90000) + p.waves) >> 8
	ph2 := (x*k2x + y*k2y + int(d1*60000) - p.waves) >> 8
	k = k.add(waveLUT[ph1&1023]*1.5*(0.6+0.5*d2) + waveLUT[ph2&1023]*0.9*(0.6+0.4*d1) + d1*1.6 + d2*1.2 + g*1.6)
	nat := p.natural[x]
	if float64(y) > p.shore2[x]-200 {
		nat = 1
	}
	if nat > 0 && dl > -45 {
		t := (dl + 45) / 45
		k = mix(k, shallow.add(d1*4), t*t*nat)
		if dl > -3 {
			k = k.add(18 * (dl + 3) / 3 * nat)
		}
	}
	return k
}

var portMainRoad = []pt{{0, 520}, {650, 500}, {1500, 445}, {2300, 380}, {3150, 375}, {4000, 300}}

// yOnLine interpolates the y of an x-monotone polyline at x.
func yOnLine(line []pt, x float64) float64 {
	if x <= line[0][0] {
		return line[0][1]
	}
	for i := 0; i+1 < len(line); i++ {
		a, b := line[i], line[i+1]
		if x <= b[0] {
			return a[1] + (b[1]-a[1])*(x-a[0])/(b[0]-a[0])
		}
	}
	return line[len(line)-1][1]
}

var roofPalette = []col{
	rgb(152, 152, 150), rgb(122, 124, 128), rgb(134, 96, 80), rgb(100, 114, 104),
	rgb(112, 120, 130), rgb(188, 188, 184), rgb(130, 116, 100), rgb(168, 164, 156),
	rgb(140, 140, 136), rgb(104, 104, 106),
}

func (p *port) drawTown() {
	c, rng := p.c, p.rng
	asphalt := rgb(88, 88, 86)
	const S = 86.0
	f := newFrame(-300, -150, 9)
	type cell struct{ i, j int }
	var cells []cell
	for i := -4; i < 56; i++ {
		for j := -4; j < 12; j++ {
			ok := true
			for _, q := range []pt{f.at(float64(i)*S, float64(j)*S), f.at(float64(i+1)*S, float64(j)*S), f.at(float64(i)*S, float64(j+1)*S), f.at(float64(i+1)*S, float64(j+1)*S)} {
				if q[1] > yOnLine(portMainRoad, q[0])-18 {
					ok = false
				}
			}
			cen := f.at((float64(i)+0.5)*S, (float64(j)+0.5)*S)
			if cen[0] < -40 || cen[0] > float64(p.w)+40 || cen[1] < -40 {
				ok = false
			}
			if ok && p.cover.at(math.Max(0, cen[0]), math.Max(0, cen[1])) > 0.2 {
				cells = append(cells, cell{i, j})
			}
		}
	}
	yard := rgb(118, 116, 108)
	for _, cl := range cells {
		a0, b0 := float64(cl.i)*S, float64(cl.j)*S
		c.shade(f.rect(a0, a0+S, b0, b0+S), func(x, y int) col {
			return yard.add(c.n.medium.at(x, y)*8 + grain(x, y)*4)
		}, 0.45)
	}
	for _, cl := range cells {
		a0, b0 := float64(cl.i)*S, float64(cl.j)*S
		c.line(f.at(a0, b0), f.at(a0+S, b0), 7, asphalt, 1)
		c.line(f.at(a0, b0), f.at(a0, b0+S), 7, asphalt, 1)
		c.line(f.at(a0+S, b0), f.at(a0+S, b0+S), 7, asphalt, 1)
		c.line(f.at(a0, b0+S), f.at(a0+S, b0+S), 7, asphalt, 1)
	}
	for _, cl := range cells {
		a0, b0 := float64(cl.i)*S, float64(cl.j)*S
		switch r := rng.IntN(20); {
		case r < 3: // park
			for k := 0; k < 14; k++ {
				q := f.at(a0+8+rng.Float64()*(S-16), b0+8+rng.Float64()*(S-16))
				rad := 2.5 + rng.Float64()*3.5
				c.shadow(circlePoly(q[0], q[1], rad), 6, 0.35)
				c.disc(q[0], q[1], rad, rgb(52, 72, 44).add(float32(rng.Float64()*14)), 1)
			}
		case r < 8: // one large block
			l := S - 22 - rng.Float64()*10
			wd := (S - 22) * (0.35 + 0.45*rng.Float64())
			bf := frame{f.at(a0+S/2, b0+S/2)[0], f.at(a0+S/2, b0+S/2)[1], f.ux, f.uy}
			c.building(bf, l, wd, 12+rng.Float64()*28, roofPalette[rng.IntN(len(roofPalette))], false)
		default: // houses on lots, with a few garden trees
			for k := 0; k < 4; k++ {
				q := f.at(a0+8+rng.Float64()*(S-16), b0+8+rng.Float64()*(S-16))
				rad := 2 + rng.Float64()*2.5
				c.shadow(circlePoly(q[0], q[1], rad), 5, 0.35)
				c.disc(q[0], q[1], rad, rgb(56, 76, 46).add(float32(rng.Float64()*12)), 1)
			}
			nl := 2 + rng.IntN(2)
			lot := (S - 12) / float64(nl)
			for u := 0; u < nl; u++ {
				for v := 0; v < 2; v++ {
					if rng.IntN(6) == 0 {
						continue
					}
					ca := a0 + 6 + (float64(u)+0.5)*lot + (rng.Float64()-0.5)*4
					cb := b0 + 6 + (float64(v)+0.5)*(S-12)/2 + (rng.Float64()-0.5)*4
					q := f.at(ca, cb)
					hf := newFrame(q[0], q[1], 9+(rng.Float64()-0.5)*6)
					l := lot * (0.5 + 0.35*rng.Float64())
					wd := (S - 12) / 2 * (0.45 + 0.35*rng.Float64())
					c.building(hf, l, wd, 5+rng.Float64()*8, roofPalette[rng.IntN(len(roofPalette))], rng.IntN(3) > 0)
				}
			}
		}
	}
	// main road, a railway south of it, and roads inland
	c.polyline(portMainRoad, 15, rgb(76, 76, 75), 1)
	c.polyline(portMainRoad, 0.8, rgb(190, 190, 170), 0.5)
	rail := translate(portMainRoad, 0, 24)
	c.polyline(rail, 6, rgb(112, 104, 94), 1)
	c.polyline(translate(rail, 0, -1.2), 0.8, rgb(60, 56, 54), 0.9)
	c.polyline(translate(rail, 0, 1.2), 0.8, rgb(60, 56, 54), 0.9)
	for _, r := range [][]pt{
		{{1480, 445}, {1455, 200}, {1430, 0}},
		{{2800, 377}, {2880, 180}, {2950, 0}},
	} {
		c.polyline(r, 12, rgb(80, 80, 78), 1)
	}
	// road and houses down the western headland, kept well inland of the shore
	var hr []pt
	for x := 600.0; x >= 0; x -= 60 {
		hr = append(hr, pt{x, shoreBase(x) - 150})
	}
	hr[0] = pt{620, yOnLine(portMainRoad, 620)}
	c.polyline(hr, 9, rgb(96, 94, 88), 1)
	for k := 0; k < 70; k++ {
		i := rng.IntN(len(hr) - 1)
		a, b := hr[i], hr[i+1]
		t := rng.Float64()
		q := pt{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t}
		side := 1.0
		if rng.IntN(2) == 0 {
			side = -1
		}
		ang := math.Atan2(b[1]-a[1], b[0]-a[0])
		off := side * (16 + rng.Float64()*40)
		q = pt{q[0] - math.Sin(ang)*off, q[1] + math.Cos(ang)*off}
		if !p.isLand(q, 30) {
			continue
		}
		hf := newFrame(q[0], q[1], ang*180/math.Pi+(rng.Float64()-0.5)*10)
		c.building(hf, 10+rng.Float64()*14, 8+rng.Float64()*6, 4+rng.Float64()*4, roofPalette[rng.IntN(len(roofPalette))], true)
	}
	// far shore: a coastal road and a small industrial estate
	var fr []pt
	for x := 2500.0; x <= 4000; x += 100 {
		fr = append(fr, pt{x, shore2Base(x) + 110})
	}
	c.polyline(fr, 10, rgb(92, 90, 86), 1)
	for k := 0; k < 40; k++ {
		x := 2900 + rng.Float64()*1050
		q := pt{x, shore2Base(x) + 150 + rng.Float64()*300}
		if q[1] > float64(p.h)-20 || !p.isLand(q, 40) {
			continue
		}
		hf := newFrame(q[0], q[1], -20+(rng.Float64()-0.5)*6)
		c.building(hf, 20+rng.Float64()*50, 14+rng.Float64()*24, 6+rng.Float64()*10, roofPalette[rng.IntN(len(roofPalette))], false)
	}
}

func (p *port) drawCompound() {
	c, rng, n := p.c, p.rng, p.c.n
	qa := math.Atan2(-0.06, 1) * 180 / math.Pi
	f := newFrame(quayX0, quayY(quayX0), qa) // a along the quay, b > 0 towards the water
	lq := math.Hypot(quayX1-quayX0, quayY(quayX1)-quayY(quayX0))
	ground := rgb(124, 123, 118)
	c.shade(p.compound, func(x, y int) col {
		return ground.add(n.medium.at(x, y)*7 + n.fine.at(x, y)*4 + grain(x, y)*3)
	}, 1)
	c.noisy(f.rect(0, lq, -72, 0), rgb(150, 148, 142), 5)
	c.line(f.at(0, -1), f.at(lq, -1), 2, rgb(88, 88, 86), 1)
	for a := 10.0; a < lq; a += 24 {
		q := f.at(a, -2.5)
		c.disc(q[0], q[1], 1, rgb(50, 50, 50), 1)
	}
	asphalt := rgb(86, 86, 84)
	cross := []float64{340, 920, 1560, 2200}
	for _, b := range []float64{-110, -300} {
		c.line(f.at(80, b), f.at(lq-30, b), 10, asphalt, 1)
	}
	for _, a := range cross {
		c.line(f.at(a, -72), f.at(a, -300), 9, asphalt, 1)
	}
	c.polyline([]pt{f.at(920, -300), {1500, 505}, {1490, 445}}, 10, asphalt, 1)
	// checkpoint at the gate
	c.building(newFrame(1512, 512, 3), 10, 6, 4, rgb(180, 178, 170), false)
	// warehouses and workshops between the two roads
	for _, row := range []struct{ b, dmin, dmax float64 }{{-158, 36, 58}, {-252, 36, 70}} {
		a := 100.0
		for a < lq-80 {
			l := 50 + rng.Float64()*100
			blocked := false
			for _, x := range cross {
				if a < x+22 && a+l > x-22 {
					blocked = true
					a = x + 24
				}
			}
			if blocked {
				continue
			}
			if a+l > lq-60 {
				break
			}
			d := row.dmin + rng.Float64()*(row.dmax-row.dmin)
			q := f.at(a+l/2, row.b)
			bf := frame{q[0], q[1], f.ux, f.uy}
			c.building(bf, l, d, 8+rng.Float64()*10, roofPalette[rng.IntN(len(roofPalette))], rng.IntN(3) == 0)
			a += l + 10 + rng.Float64()*30
		}
	}
	// small buildings inland of the back road
	for k := 0; k < 70; k++ {
		a := 100 + rng.Float64()*(lq-200)
		b := -320 - rng.Float64()*90
		q := f.at(a, b)
		l, d := 14+rng.Float64()*30, 10+rng.Float64()*18
		if !pointInPoly(q, p.compound) || distToPolyline(q, p.compound, true) < math.Max(l, d)/2+10 {
			continue
		}
		bf := frame{q[0], q[1], f.ux, f.uy}
		c.building(bf, l, d, 5+rng.Float64()*7, roofPalette[rng.IntN(len(roofPalette))], rng.IntN(2) == 0)
	}
	// fuel tanks at the eastern end
	for k := 0; k < 5; k++ {
		q := f.at(2270+float64(k%3)*42, -352+float64(k/3)*36)
		r := 13 + float64(k%2)*3
		c.shadow(circlePoly(q[0], q[1], r), 12, 0.5)
		c.disc(q[0], q[1], r, rgb(196, 196, 190), 1)
		c.disc(q[0]+2, q[1]+2, r*0.55, rgb(176, 176, 170), 0.8)
	}
	// containers and vehicles on the apron
	palette := []col{rgb(150, 52, 42), rgb(44, 78, 132), rgb(176, 150, 70), rgb(64, 118, 78), rgb(196, 196, 192)}
	for _, a0 := range []float64{560, 1240, 1900, 2380} {
		for i := 0; i < 14; i++ {
			for j := 0; j < 4; j++ {
				if rng.IntN(5) == 0 {
					continue
				}
				q := f.at(a0+float64(i)*13, -58+float64(j)*3.2)
				r := frame{q[0], q[1], f.ux, f.uy}.rect(-6, 6, -1.3, 1.3)
				c.shadow(r, 2.6, 0.4)
				c.fill(r, palette[rng.IntN(len(palette))], 1)
			}
		}
	}
	for _, a0 := range []float64{980, 1620} {
		for i := 0; i < 12; i++ {
			q := f.at(a0+float64(i)*6.5, -92)
			r := frame{q[0], q[1], -f.uy, f.ux}.rect(-4, 4, -1.6, 1.6)
			c.shadow(r, 2, 0.4)
			c.fill(r, rgb(70, 80, 62).add(float32(rng.IntN(20))), 1)
		}
	}
	// portal cranes by the quay edge
	for _, a := range []float64{280, 700, 1110, 1400, 1820, 2110, 2520} {
		base := f.at(a, -20)
		bf := frame{base[0], base[1], f.ux, f.uy}
		foot := bf.rect(-5, 5, -5, 5)
		c.shadow(foot, 4, 0.4)
		c.fill(foot, rgb(70, 70, 72), 1)
		ang := (rng.Float64() - 0.5) * 2.4
		tip := pt{base[0] + 36*math.Cos(ang+qa*math.Pi/180), base[1] + 36*math.Sin(ang+qa*math.Pi/180)}
		c.poleShadow(base, 22, 1.6, 0.4)
		d := c.shadowOffset(22)
		p.shadows = append(p.shadows, Shadow{What: fmt.Sprintf("portal crane's tower at %.0f m along the quay", a),
			Foot: base, Tip: pt{base[0] + d[0], base[1] + d[1]}, HeightM: 22})
		c.line(pt{base[0] + d[0], base[1] + d[1]}, pt{tip[0] + d[0], tip[1] + d[1]}, 1.6, shadowCol, 0.4)
		c.line(base, tip, 2.2, rgb(200, 164, 56), 1)
		c.fill(bf.rect(-3, 3, -3, 3), rgb(190, 156, 50), 1)
	}
	// perimeter fence
	fence := []pt{{quayX1, quayY(quayX1)}, {3120, 430}, {2300, 440}, {1500, 505}, {700, 565}, {580, 700}, {quayX0, quayY(quayX0)}}
	c.polyline(translate(fence, -1.5, -2.2), 1.2, shadowCol, 0.35)
	_ = rng
	c.polyline(fence, 1.4, rgb(205, 205, 198), 0.9)
}

// bearing converts an image-space direction to a compass bearing (north up).
func bearing(dx, dy float64) float64 {
	b := math.Atan2(dx, -dy) * 180 / math.Pi
	if b < 0 {
		b += 360
	}
	return b
}

func compass8(b float64) string {
	names := []string{"north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west"}
	return names[int(math.Mod(b+22.5, 360)/45)]
}

const (
	landingShipLength = 112 // Ropucha class: 112.5 m × 15 m
	landingShipBeam   = 15
	frigateLength     = 105 // Steregushchiy class: 104.5 m × 11.1 m
	frigateBeam       = 11
)

// portPiers are the naval base's three piers: root on the quay, heading and length.
var portPiers = []struct{ rootX, angle, length float64 }{{1050, 70, 330}, {1750, 97, 320}, {2450, 121, 300}}

const pierWidth = 22.0

// drawPiers draws the piers and returns their frames (a along the pier from its root).
func (p *port) drawPiers() []frame {
	c := p.c
	const pw = pierWidth
	frames := make([]frame, len(portPiers))
	for i, pr := range portPiers {
		f := newFrame(pr.rootX, quayY(pr.rootX), pr.angle)
		frames[i] = f
		c.shadow(f.rect(0, pr.length, -pw/2, pw/2), 3, 0.45)
		c.noisy(f.rect(-16, pr.length, -pw/2, pw/2), rgb(164, 162, 156), 5)
		for _, s := range []float64{-1, 1} {
			c.line(f.at(0, s*(pw/2-0.7)), f.at(pr.length, s*(pw/2-0.7)), 1.3, rgb(112, 110, 106), 1)
			for a := 8.0; a < pr.length-4; a += 18 {
				q := f.at(a, s*(pw/2-2.2))
				c.disc(q[0], q[1], 0.9, rgb(48, 48, 48), 1)
			}
		}
		c.line(f.at(pr.length-0.7, -pw/2), f.at(pr.length-0.7, pw/2), 1.3, rgb(112, 110, 106), 1)
		c.line(f.at(10, 0), f.at(pr.length-10, 0), 0.6, rgb(200, 190, 120), 0.35)
		p.objs = append(p.objs, Object{
			Label:       "facility/pier",
			Shape:       shapePolygon,
			Coordinates: closeRing(f.rect(0, pr.length, -pw/2, pw/2)),
			Confidence:  confidenceConfirmed,
			Note:        fmt.Sprintf("Pier %d, about %.0f m long, running %s from the quay", i+1, pr.length, compass8(bearing(f.ux, f.uy))),
		})
	}
	return frames
}

// berth is a warship moored alongside a pier.
type berth struct {
	pier   int
	side   float64 // +1: the pier frame's +b side
	t      float64 // distance of the ship's centre along the pier
	bowOut bool
	frig   bool
	conf   string
	change string // what changed since the earlier day, added to the note; may be ""
}

// drawBerths draws the ships moored at the piers (whose frames drawPiers returned).
func (p *port) drawBerths(frames []frame, berths []berth) {
	c, rng := p.c, p.rng
	const pw = pierWidth
	for _, b := range berths {
		pf := frames[b.pier]
		L, B := float64(landingShipLength), float64(landingShipBeam)
		if b.frig {
			L, B = frigateLength, frigateBeam
		}
		off := b.side * (pw/2 + 2.5 + B/2)
		cen := pf.at(b.t, off)
		heading := portPiers[b.pier].angle
		if !b.bowOut {
			heading += 180
		}
		sf := newFrame(cen[0], cen[1], heading)
		// fenders and a gangway between pier and hull
		for _, a := range []float64{-L / 3, 0, L / 3} {
			q := pf.at(b.t+a, b.side*(pw/2+1.2))
			c.disc(q[0], q[1], 1.1, rgb(30, 30, 30), 1)
		}
		// a few vehicles and stores on the pier beside the ship
		for k := 0; k < 3+rng.IntN(4); k++ {
			q := pf.at(b.t-L/2+10+rng.Float64()*(L-20), b.side*(pw/2-6))
			vf := frame{q[0], q[1], pf.ux, pf.uy}
			r := vf.rect(-4, 4, -1.6, 1.6)
			c.shadow(r, 2.5, 0.4)
			c.fill(r, rgb(72, 82, 62).add(float32(rng.IntN(16))), 1)
		}
		if b.frig {
			drawFrigate(c, sf, L, B)
		} else {
			drawLandingShip(c, sf, L, B)
		}
		c.line(pf.at(b.t-8, b.side*(pw/2-1)), pf.at(b.t-8, b.side*(pw/2+5)), 1.6, rgb(196, 196, 190), 1)
		mode := "bow-out"
		if !b.bowOut {
			mode = "bow-in"
		}
		sideName := compass8(bearing(-pf.uy*b.side, pf.ux*b.side))
		o := Object{
			Shape:       shapeRotatedRectangle,
			Coordinates: sf.box(L, B),
			Confidence:  b.conf,
		}
		if b.frig {
			o.Label = "vessel/frigate"
			o.Identification = "Steregushchiy-class frigate (synthetic)"
			o.Note = fmt.Sprintf("Moored %s on the %s side of pier %d, bow towards %s; gun forward, hangar aft", mode, sideName, b.pier+1, compass8(bearing(sf.ux, sf.uy)))
		} else {
			o.Label = "vessel/landing ship"
			o.Identification = "Ropucha-class landing ship (synthetic)"
			o.Note = fmt.Sprintf("Moored %s on the %s side of pier %d, bow towards %s; vehicles on the pier alongside", mode, sideName, b.pier+1, compass8(bearing(sf.ux, sf.uy)))
		}
		if b.change != "" {
			o.Note += "; " + b.change
		}
		p.objs = append(p.objs, o)
	}
}

// anchored is a ship at anchor (or under way) in the roadstead, with its annotation.
type anchored struct {
	label                       string // "vessel/cargo ship" or "vessel/landing ship"
	x, y, heading, length, beam float64
	conf, identification, note  string
}

// craft is a small boat under way, annotated as a point.
type craft struct {
	x, y, heading float64
	note          string
}

func (p *port) drawRoadstead(day portDay) {
	c, rng := p.c, p.rng
	// pontoon with harbour craft at the eastern end of the quay
	pf := newFrame(2960, quayY(2960), 94)
	c.shadow(pf.rect(0, 110, -2.5, 2.5), 1.5, 0.4)
	c.noisy(pf.rect(-6, 110, -2.5, 2.5), rgb(150, 146, 136), 4)
	for k := 0; k < 7; k++ {
		s := float64(1 - 2*(k%2))
		L := 12 + rng.Float64()*8
		q := pf.at(12+float64(k/2)*26+rng.Float64()*4, s*(2.5+1+2.2))
		drawSmallBoat(c, newFrame(q[0], q[1], 94+180*float64(rng.IntN(2))), L, 4.4, false)
	}
	// rubble breakwater from the eastern shore with a light at its head
	bw := chaikin([]pt{{3440, 690}, {3432, 1150}, {3270, 1470}, {2900, 1690}}, 3)
	c.fill(strokePoly(translate(bw, 5, 5), 30), rgb(120, 150, 146), 0.35)
	c.polyline(bw, 24, rgb(132, 128, 116), 1)
	c.shade(strokePoly(bw, 22), func(x, y int) col {
		return rgb(138, 132, 118).add(24*c.n.crown.at(x, y) + 6*grain(x, y))
	}, 1)
	c.polyline(bw, 6, rgb(156, 154, 146), 1)
	head := bw[len(bw)-1]
	c.shadow(circlePoly(head[0], head[1], 3), 14, 0.5)
	d := c.shadowOffset(14)
	p.shadows = append(p.shadows, Shadow{What: "light at the breakwater's head", Foot: head, Tip: pt{head[0] + d[0], head[1] + d[1]}, HeightM: 14})
	c.disc(head[0], head[1], 3, rgb(226, 226, 220), 1)
	// navigation buoys
	for _, q := range []pt{{1500, 1700}, {2350, 1560}, {2900, 1300}, {900, 1600}} {
		c.disc(q[0]+1.5, q[1]-2.5, 1.6, shadowCol, 0.3)
		c.disc(q[0], q[1], 1.6, rgb(190, 60, 40), 1)
	}
	// ships at anchor in the roadstead
	for _, a := range day.anchored {
		f := newFrame(a.x, a.y, a.heading)
		if a.label == "vessel/landing ship" {
			drawLandingShip(c, f, a.length, a.beam)
		} else {
			drawCargoShip(c, rng, f, a.length, a.beam)
		}
		p.objs = append(p.objs, Object{
			Label: a.label, Shape: shapeRotatedRectangle, Coordinates: f.box(a.length, a.beam),
			Confidence: a.conf, Identification: a.identification, Note: a.note,
		})
	}
	// fishing boats working near the far shore, and small craft under way
	for _, q := range day.fishing {
		drawSmallBoat(c, newFrame(q.x, q.y, q.heading), 16, 4.8, true)
	}
	for _, q := range day.craft {
		drawSmallBoat(c, newFrame(q.x, q.y, q.heading), 20, 5, true)
		p.objs = append(p.objs, Object{
			Label: "vessel", Shape: shapePoint, Coordinates: [][2]float64{{q.x, q.y}},
			Confidence: confidencePossible, Note: q.note,
		})
	}
	p.objs = append(p.objs, Object{
		Label: "facility/naval base", Shape: shapePolygon,
		Coordinates: closeRing([]pt{{580, 700}, {700, 565}, {1500, 505}, {2300, 440}, {3120, 430}, {3120, 810},
			{2620, 1250}, {2250, 1480}, {1300, 1490}, {880, 1260}, {quayX0, quayY(quayX0)}}),
		Confidence: confidenceConfirmed,
		Note:       "Fenced naval base: quay, three piers, warehouses and a fuel store",
	})
}

package sampledata

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Scene 2: military base

type base struct {
	c      *canvas
	rng    *rand.Rand
	w, h   int
	forest *field
	tone   *field
	patch  *field
	objs   []Object
}

// basePerimeter is the fenced area of the base.
var basePerimeter = []pt{{1250, 720}, {2850, 660}, {3060, 900}, {3010, 2150}, {2660, 2360}, {1350, 2310}, {1150, 1900}, {1190, 1000}}

var baseHighway = []pt{{0, 2560}, {600, 2600}, {1000, 2662}, {1400, 2694}, {1900, 2712}, {2500, 2700}, {2900, 2680}, {3400, 2722}, {4000, 2766}}

const (
	gateX = 2050.0
	gateY = 2336.7 // on the perimeter's southern side at gateX
)

func baseScene() (Scene, error) {
	rng := rand.New(rand.NewPCG(3, 4))
	w, h := sceneW, sceneH
	n := newNoiseSet(rng)
	b := &base{
		c: newCanvas(w, h, n), rng: rng, w: w, h: h,
		forest: newField(rng, w, h, octave{900, 1}, octave{380, 0.7}, octave{150, 0.4}, octave{60, 0.2}),
		tone:   newField(rng, w, h, octave{500, 1}, octave{180, 0.6}, octave{60, 0.3}),
		patch:  newField(rng, w, h, octave{120, 1}, octave{40, 0.5}),
	}
	parallelRows(h, b.background)
	b.drawCountryside()
	b.drawBase()
	b.drawTraffic()

	jp, err := encodeJPEG(b.c.img)
	if err != nil {
		return Scene{}, err
	}
	return Scene{
		FileName: "synthetic-base-scene.jpg",
		Width:    w, Height: h,
		JPEG: jp,
		Provenance: provenance("base",
			"Fictional base modelled on Ussuriysk area, Russian Far East (synthetic)",
			"Models the National Intelligence Service (Republic of Korea) release of 18 October 2024, which said about 1,500 North Korean special forces had been moved to Russia's Far East between 8 and 13 October 2024 and were at Russian military units in the Vladivostok, Ussuriysk, Khabarovsk and Blagoveshchensk areas for adaptation training, and published images it said showed them at training facilities there. This image is synthetic and shows no real place or event."),
		Objects: b.objs,
	}, nil
}

func (b *base) background(y0, y1 int) {
	w := b.w
	ff, ft, fp := make([]float32, w), make([]float32, w), make([]float32, w)
	tmp := make([]float32, w/fieldStep+3)
	fine, med, cr := b.c.n.fine, b.c.n.medium, b.c.n.crown
	pix, stride := b.c.img.Pix, b.c.img.Stride
	dry, green, dirt := rgb(150, 140, 100), rgb(112, 122, 78), rgb(160, 146, 112)
	forest := rgb(44, 60, 38)
	for y := y0; y < y1; y++ {
		b.forest.row(y, ff, tmp)
		b.tone.row(y, ft, tmp)
		b.patch.row(y, fp, tmp)
		row := pix[y*stride : y*stride+4*w]
		fy := (y % fine.n) * fine.n
		my := (y % med.n) * med.n
		cy := (y % cr.n) * cr.n
		mx, cx := 0, 0
		ey := (float32(y) - 1520) / 1050
		ey2 := (float32(y) - 850) / 520
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
			ex := (float32(x) - 2100) / 1250
			ex2 := (float32(x) - 3470) / 480
			clearing := max(1-smoothstep(0.9, 1.25, ex*ex+ey*ey), 1-smoothstep(0.8, 1.1, ex2*ex2+ey2*ey2))
			k := mix(dry, green, ft[x])
			k = mix(k, dirt, smoothstep(0.7, 0.85, fp[x])*0.6)
			k = k.mul(0.9 + 0.2*fp[x]).add(d1*8 + d2*5 + d3*5 + g*6)
			if wf := smoothstep(0.5, 0.53, ff[x]-0.5*clearing+0.04*d2); wf > 0 {
				crown := forest.mul(0.85 + 0.3*ft[x]).add(d3*16 + d2*5 + g*4)
				crown = crown.mul(0.6 + 0.4*smoothstep(-0.6, -0.05, d3))
				k = mix(k, crown, wf)
			}
			q := row[4*x : 4*x+4 : 4*x+4]
			q[0], q[1], q[2], q[3] = clamp8(k.r), clamp8(k.g), clamp8(k.b), 255
		}
	}
}

// fieldPlot draws a cultivated field with furrows at the given angle.
func (b *base) fieldPlot(f frame, l, wd float64, k col, furrow float64) {
	ca, sa := float32(f.uy), float32(-f.ux) // stripes run along the field's length
	n := b.c.n
	b.c.shade(f.rect(-l/2, l/2, -wd/2, wd/2), func(x, y int) col {
		ph := (float32(x)*ca + float32(y)*sa) / float32(furrow)
		ph -= float32(math.Floor(float64(ph)))
		s := float32(1)
		if ph < 0.35 {
			s = 0.9
		}
		return k.mul(s).add(n.medium.at(x, y)*8 + grain(x, y)*4)
	}, 0.85)
}

func (b *base) drawCountryside() {
	c, rng := b.c, b.rng
	palette := []col{rgb(168, 150, 104), rgb(108, 90, 68), rgb(102, 126, 72), rgb(150, 140, 96), rgb(124, 104, 76)}
	var placed [][4]float64
	for tries := 0; tries < 600 && len(placed) < 30; tries++ {
		cx, cy := rng.Float64()*float64(b.w), rng.Float64()*float64(b.h)
		l, wd := 180+rng.Float64()*260, 110+rng.Float64()*160
		ang := -8 + rng.Float64()*16
		f := newFrame(cx, cy, ang)
		ok := true
		for _, q := range append(f.rect(-l/2, l/2, -wd/2, wd/2), pt{cx, cy}) {
			ex, ey := (q[0]-2100)/1350, (q[1]-1520)/1150
			if ex*ex+ey*ey < 1 || b.forest.at(math.Max(0, q[0]), math.Max(0, q[1])) > 0.5 {
				ok = false
			}
			if math.Abs(q[1]-yOnLine(baseHighway, q[0])) < 90 {
				ok = false
			}
		}
		bb := bbox(f.rect(-l/2, l/2, -wd/2, wd/2))
		for _, o := range placed {
			if bb[0] < o[2]+12 && o[0] < bb[2]+12 && bb[1] < o[3]+12 && o[1] < bb[3]+12 {
				ok = false
			}
		}
		if !ok {
			continue
		}
		placed = append(placed, bb)
		b.fieldPlot(f, l, wd, palette[rng.IntN(len(palette))], 4+rng.Float64()*4)
		c.polyline(closeRing(f.rect(-l/2, l/2, -wd/2, wd/2)), 2, rgb(96, 104, 66), 0.5)
	}
	// scattered bushes on the open steppe
	for k := 0; k < 3000; k++ {
		q := pt{rng.Float64() * float64(b.w), rng.Float64() * float64(b.h)}
		ex, ey := (q[0]-2100)/1320, (q[1]-1520)/1120
		if ex*ex+ey*ey < 1 || b.forest.at(q[0], q[1]) > 0.47 || math.Abs(q[1]-yOnLine(baseHighway, q[0])) < 20 {
			continue
		}
		inField := false
		for _, o := range placed {
			if q[0] > o[0]-4 && q[0] < o[2]+4 && q[1] > o[1]-4 && q[1] < o[3]+4 {
				inField = true
			}
		}
		if inField {
			continue
		}
		r := 1.5 + rng.Float64()*2.5
		c.shadow(circlePoly(q[0], q[1], r*0.8), 3, 0.3)
		c.disc(q[0], q[1], r, rgb(70, 84, 50).add(float32(rng.Float64()*16)), 0.9)
	}
	// highway and a village along it
	c.polyline(baseHighway, 13, rgb(82, 82, 80), 1)
	c.polyline(baseHighway, 0.8, rgb(200, 196, 170), 0.45)
	for k := 0; k < 60; k++ {
		x := 2450 + rng.Float64()*900
		side := float64(1 - 2*rng.IntN(2))
		y := yOnLine(baseHighway, x) + side*(22+rng.Float64()*50)
		hf := newFrame(x, y, 6+(rng.Float64()-0.5)*8)
		c.building(hf, 9+rng.Float64()*10, 7+rng.Float64()*5, 4+rng.Float64()*3, roofPalette[rng.IntN(len(roofPalette))], true)
	}
	// dirt tracks of a tank training area east of the base
	track := rgb(168, 152, 116)
	for _, t := range [][]pt{
		{{3060, 1250}, {3300, 1180}, {3520, 1020}, {3640, 820}, {3600, 560}, {3420, 420}, {3200, 470}, {3090, 700}},
		{{3300, 1180}, {3480, 1300}, {3700, 1260}, {3850, 1080}, {3640, 820}},
		{{3520, 1020}, {3420, 860}, {3430, 640}},
	} {
		t = chaikin(t, 3)
		c.fill(strokePoly(t, 10), track, 0.8)
		c.fill(strokePoly(translate(t, 2.2, 0), 1.2), track.mul(0.8), 0.5)
		c.fill(strokePoly(translate(t, -2.2, 0), 1.2), track.mul(0.8), 0.5)
	}
}

// drawPeople draws a grid formation of standing people; it returns the
// bounding box (x0, y0, x1, y1) of the drawn dots.
func (b *base) drawFormation(x0, y0 float64, cols, rows int, sp float64) [4]float64 {
	c, rng := b.c, b.rng
	const r = 0.8
	for j := 0; j < rows; j++ {
		for i := 0; i < cols; i++ {
			x := x0 + r + float64(i)*sp + (rng.Float64()-0.5)*0.3
			y := y0 + r + float64(j)*sp + (rng.Float64()-0.5)*0.3
			c.disc(x-0.6, y-1.1, r, shadowCol, 0.3)
			c.disc(x, y, r, rgb(36, 40, 32), 1)
		}
	}
	return [4]float64{x0 - 0.5, y0 - 0.5, x0 + 2*r + float64(cols-1)*sp + 0.5, y0 + 2*r + float64(rows-1)*sp + 0.5}
}

func (b *base) vehicle(f frame, l, wd float64, body col) {
	c := b.c
	r := f.rect(-l/2, l/2, -wd/2, wd/2)
	c.shadow(r, 2.5, 0.45)
	c.fill(r, body, 1)
	c.fill(f.rect(l/2-2.2, l/2, -wd/2+0.3, wd/2-0.3), body.mul(1.25), 1)
}

func (b *base) drawBase() {
	c, rng, n := b.c, b.rng, b.c.n
	ground := rgb(132, 134, 96)
	dirt := rgb(156, 144, 112)
	// cleared strip and patrol track around the fence, then the grounds
	c.polyline(closeRing(basePerimeter), 26, rgb(140, 134, 100), 0.9)
	c.shade(basePerimeter, func(x, y int) col {
		t := smoothstep(0.55, 0.8, b.patch.at(float64(x), float64(y)))
		return mix(ground, dirt, t).add(n.medium.at(x, y)*6 + n.fine.at(x, y)*6 + n.crown.at(x, y)*4 + grain(x, y)*5)
	}, 1)
	c.polyline(closeRing(basePerimeter), 5, dirt.mul(1.05), 0.8)
	asphalt := rgb(90, 90, 88)
	// roads
	c.line(pt{gateX, gateY + 4}, pt{gateX, 760}, 11, asphalt, 1)
	for _, r := range []struct{ y, x0, x1 float64 }{{1000, 1230, 2950}, {1480, 1200, 3010}, {1950, 1190, 3000}} {
		c.line(pt{r.x0, r.y}, pt{r.x1, r.y}, 10, asphalt, 1)
	}
	// access road outside the gate, joining the highway
	access := []pt{{gateX, gateY}, {2046, 2450}, {2002, 2580}, {1930, yOnLine(baseHighway, 1930)}}
	c.polyline(access, 11, asphalt, 1)

	// headquarters (U-shaped), mess hall and sports ground in the north
	roof := rgb(150, 150, 146)
	c.building(newFrame(1600, 830, 0), 260, 34, 14, roof, false)
	c.building(newFrame(1487, 895, 90), 96, 34, 14, roof, false)
	c.building(newFrame(1713, 895, 90), 96, 34, 14, roof, false)
	c.building(newFrame(1860, 880, 0), 90, 60, 10, rgb(120, 124, 128), false)
	c.noisy([]pt{{2150, 780}, {2480, 780}, {2480, 960}, {2150, 960}}, rgb(96, 122, 70), 6)
	track := ellipsePoly(newFrame(2315, 870, 0), 150, 75)
	c.polyline(closeRing(track), 7, rgb(150, 96, 72), 1)
	c.building(newFrame(2640, 880, 0), 140, 48, 9, rgb(128, 100, 82), true)

	// barracks: four columns of six blocks
	for ci := 0; ci < 4; ci++ {
		for row := 0; row < 5; row++ {
			x := 1310 + float64(ci)*155 + 55
			y := 1065 + float64(row)*78 + 12
			k := []col{rgb(148, 150, 146), rgb(98, 118, 100), rgb(146, 94, 70)}[(ci+row)%3]
			c.building(newFrame(x, y, 0), 110, 24, 11, k, true)
		}
	}
	b.objs = append(b.objs, Object{
		Label: "facility", Shape: shapeRectangle, Coordinates: axisRect(1300, 1045, 1930, 1420),
		Confidence: confidenceProbable, Note: "Barracks area: 20 accommodation blocks in four rows",
	})
	// parade ground with a reviewing stand and formations
	pg := []pt{{2180, 1090}, {2540, 1090}, {2540, 1400}, {2180, 1400}}
	c.noisy(pg, rgb(152, 150, 142), 5)
	c.polyline(closeRing([]pt{{2186, 1096}, {2534, 1096}, {2534, 1394}, {2186, 1394}}), 1.2, rgb(220, 220, 212), 0.8)
	c.building(newFrame(2360, 1112, 0), 70, 12, 4, rgb(176, 74, 60), false)
	forms := []struct {
		x0, y0     float64
		cols, rows int
		conf       string
	}{
		{2214, 1165, 14, 16, confidenceConfirmed},
		{2294, 1165, 14, 16, confidenceConfirmed},
		{2374, 1165, 14, 16, confidenceProbable},
		{2454, 1165, 14, 16, confidenceProbable},
		{2236, 1270, 20, 14, confidenceConfirmed},
		{2396, 1270, 20, 14, confidencePossible},
	}
	for i, fm := range forms {
		cols, rows := fm.cols, fm.rows
		bb := b.drawFormation(fm.x0, fm.y0, cols, rows, 2.3)
		b.objs = append(b.objs, Object{
			Label: "personnel/troop formation", Shape: shapeRectangle,
			Coordinates: axisRect(bb[0], bb[1], bb[2], bb[3]),
			Confidence:  fm.conf,
			Note:        fmt.Sprintf("Formation %d on the parade ground, about %d people (%d ranks of %d), facing the reviewing stand", i+1, cols*rows, rows, cols),
		})
	}
	// a loose group between the barracks and the main road
	var group []pt
	for k := 0; k < 34; k++ {
		a := rng.Float64() * 2 * math.Pi
		r := 3 + rng.Float64()*16
		q := pt{1988 + r*math.Cos(a)*1.3, 1258 + r*math.Sin(a)}
		group = append(group, q)
		c.disc(q[0]-0.6, q[1]-1.1, 0.8, shadowCol, 0.3)
		c.disc(q[0], q[1], 0.8, rgb(36, 40, 32), 1)
	}
	hull := convexHull(group)
	for i := range hull { // pad the hull outwards by 3 px
		dx, dy := hull[i][0]-1988, hull[i][1]-1258
		d := math.Hypot(dx, dy)
		hull[i] = pt{math.Round((hull[i][0]+3*dx/d)*10) / 10, math.Round((hull[i][1]+3*dy/d)*10) / 10}
	}
	b.objs = append(b.objs, Object{
		Label: "personnel", Shape: shapePolygon, Coordinates: closeRing(hull),
		Confidence: confidencePossible, Note: "Loose group of about 30 people beside the barracks, possibly assembling",
	})
	// workshops and stores in the east
	for i := 0; i < 4; i++ {
		c.building(newFrame(2790, 1060+float64(i)*96, 0), 240, 46, 9, []col{rgb(120, 124, 128), rgb(152, 150, 146)}[i%2], false)
	}
	// motor pool: gravel hardstand, sheds and rows of vehicles
	c.noisy([]pt{{2200, 1535}, {2960, 1535}, {2960, 1900}, {2200, 1900}}, rgb(146, 140, 124), 7)
	for i := 0; i < 3; i++ {
		c.building(newFrame(2340+float64(i)*240, 1858, 0), 220, 30, 7, rgb(104, 118, 104), false)
	}
	truck, apc := rgb(74, 84, 58), rgb(58, 64, 50)
	groups := []struct {
		x0, y0      float64
		cols, rows  int
		dx, dy      float64
		l, wd       float64
		body        col
		conf, ident string
		note        string
	}{
		{2240, 1570, 24, 4, 11, 20, 8.5, 3.2, truck, confidenceConfirmed, "", "Four rows of about 24 trucks parked in the motor pool"},
		{2580, 1580, 16, 3, 12, 20, 7.2, 3.4, apc, confidenceProbable, "Armoured personnel carriers (synthetic)", "Three rows of tracked or wheeled armoured vehicles"},
	}
	for _, g := range groups {
		x1, y1 := g.x0, g.y0
		for j := 0; j < g.rows; j++ {
			for i := 0; i < g.cols; i++ {
				if rng.IntN(12) == 0 {
					continue
				}
				cx, cy := g.x0+float64(i)*g.dx+g.wd/2, g.y0+float64(j)*g.dy+g.l/2
				b.vehicle(newFrame(cx, cy, 90), g.l, g.wd, g.body.add(float32(rng.IntN(10))))
				x1, y1 = math.Max(x1, cx+g.wd/2), math.Max(y1, cy+g.l/2)
			}
		}
		b.objs = append(b.objs, Object{
			Label: "vehicle", Shape: shapeRectangle,
			Coordinates: axisRect(g.x0-2, g.y0-2, math.Ceil(x1)+2, math.Ceil(y1)+2),
			Confidence:  g.conf, Identification: g.ident, Note: g.note,
		})
	}
	// training ground in the south-west with an obstacle course
	c.noisy([]pt{{1260, 1520}, {1960, 1520}, {1960, 1900}, {1220, 1900}}, dirt, 8)
	for i := 0; i < 8; i++ {
		y := 1560 + float64(i)*40
		c.line(pt{1300, y}, pt{1900, y}, 1.5, rgb(110, 100, 80), 0.7)
		for x := 1320.0; x < 1900; x += 60 {
			c.fill([]pt{{x, y - 3}, {x + 6, y - 3}, {x + 6, y + 3}, {x, y + 3}}, rgb(120, 108, 86), 0.9)
		}
	}
	// storage in the south
	for i := 0; i < 5; i++ {
		c.building(newFrame(2280+float64(i)*140, 2080, 0), 110, 40, 8, roofPalette[rng.IntN(len(roofPalette))], rng.IntN(2) == 0)
	}
	// helipad with a transport helicopter
	hp := pt{1460, 2110}
	c.disc(hp[0], hp[1], 26, rgb(170, 168, 160), 1)
	c.polyline(closeRing(circlePoly(hp[0], hp[1], 22)), 1.2, rgb(226, 226, 220), 0.9)
	c.disc(1560, 2110, 26, rgb(170, 168, 160), 1)
	for _, s := range [][2]pt{{{1553, 2100}, {1553, 2120}}, {{1567, 2100}, {1567, 2120}}, {{1553, 2110}, {1567, 2110}}} {
		c.line(s[0], s[1], 2, rgb(226, 226, 220), 1)
	}
	b.drawHelicopter(newFrame(hp[0], hp[1], 35))
	b.objs = append(b.objs, Object{
		Label: "aircraft", Shape: shapePoint, Coordinates: [][2]float64{hp},
		Confidence: confidenceProbable, Identification: "Mi-8-type transport helicopter (synthetic)",
		Note: "Parked on the western helipad, rotors stopped",
	})
	// garages and a boiler house with a tall chimney
	for i := 0; i < 3; i++ {
		c.building(newFrame(1740+float64(i)*80, 2020, 0), 70, 26, 6, rgb(112, 116, 110), false)
	}
	c.building(newFrame(1850, 2160, 0), 60, 36, 10, rgb(140, 96, 76), false)
	chim := pt{1892, 2150}
	c.poleShadow(chim, 40, 3.5, 0.5)
	c.disc(chim[0], chim[1], 2.6, rgb(150, 140, 130), 1)
	// trees: rows along the main road and clumps on open ground
	occupied := [][4]float64{
		{1440, 790, 1770, 950}, {1810, 845, 1910, 915}, {2150, 775, 2485, 965}, {2565, 850, 2715, 910},
		{1300, 1045, 1930, 1420}, {2180, 1090, 2540, 1400}, {1960, 1232, 2016, 1284}, {2660, 1030, 2920, 1430},
		{2200, 1535, 2960, 1900}, {1220, 1520, 1960, 1900}, {2220, 2055, 2970, 2105}, {1430, 2080, 1590, 2140},
		{1700, 2005, 1980, 2035}, {1815, 2140, 1900, 2180}, {2030, 2290, 2095, 2345},
	}
	free := func(q pt, r float64) bool {
		if !pointInPoly(q, basePerimeter) || distToPolyline(q, basePerimeter, true) < 20+r {
			return false
		}
		for _, o := range occupied {
			if q[0] > o[0]-r-6 && q[0] < o[2]+r+6 && q[1] > o[1]-r-6 && q[1] < o[3]+r+6 {
				return false
			}
		}
		if math.Abs(q[0]-gateX) < 9+r {
			return false
		}
		for _, y := range []float64{1000, 1480, 1950} {
			if math.Abs(q[1]-y) < 8+r {
				return false
			}
		}
		return true
	}
	tree := func(q pt, r float64) {
		c.shadow(circlePoly(q[0], q[1], r*0.8), 5, 0.35)
		c.disc(q[0], q[1], r, rgb(58, 78, 44).add(float32(rng.Float64()*14)), 1)
		c.disc(q[0]+r*0.3, q[1]+r*0.3, r*0.55, rgb(84, 104, 60), 0.6)
	}
	for y := 780.0; y < 2300; y += 13 {
		for _, x := range []float64{gateX - 16, gateX + 16} {
			q := pt{x + (rng.Float64()-0.5)*2, y + (rng.Float64()-0.5)*2}
			if r := 3.8 + rng.Float64()*1.4; free(q, r) {
				tree(q, r)
			}
		}
	}
	for _, y := range []float64{1000, 1480, 1950} {
		for x := 1200.0; x < 3020; x += 15 {
			q := pt{x + (rng.Float64()-0.5)*3, y - 14}
			if r := 3.6 + rng.Float64()*1.4; rng.IntN(4) > 0 && free(q, r) {
				tree(q, r)
			}
		}
	}
	for k := 0; k < 70; k++ {
		cen := pt{1160 + rng.Float64()*1900, 680 + rng.Float64()*1680}
		if !free(cen, 4) {
			continue
		}
		for m := 0; m < 4+rng.IntN(10); m++ {
			q := pt{cen[0] + (rng.Float64()-0.5)*50, cen[1] + (rng.Float64()-0.5)*50}
			if r := 3 + rng.Float64()*3; free(q, r) {
				tree(q, r)
			}
		}
	}
	// fence with watchtowers
	c.polyline(translate(closeRing(basePerimeter), -1.2, -2), 1.2, shadowCol, 0.35)
	c.polyline(closeRing(basePerimeter), 1.4, rgb(206, 206, 198), 0.9)
	for _, q := range basePerimeter {
		r := newFrame(q[0], q[1], 0).rect(-3, 3, -3, 3)
		c.shadow(r, 10, 0.5)
		c.fill(r, rgb(110, 96, 80), 1)
	}
	c.building(newFrame(gateX+22, gateY-14, 0), 14, 9, 4, rgb(180, 178, 170), false)
	b.objs = append(b.objs, Object{
		Label: "facility/military base", Shape: shapePolygon, Coordinates: closeRing(basePerimeter),
		Confidence: confidenceConfirmed,
		Note:       "Fenced base: barracks, parade ground, motor pool, helipad and training ground",
	})
}

func (b *base) drawHelicopter(f frame) {
	c := b.c
	body := f.poly(pt{9, 0}, pt{7, -1.3}, pt{1, -1.5}, pt{-4, -1.2}, pt{-6, -0.6}, pt{-6, 0.6}, pt{-4, 1.2}, pt{1, 1.5}, pt{7, 1.3})
	boom := f.rect(-15, -5, -0.45, 0.45)
	d := c.shadowOffset(4)
	sh := func(p []pt) []pt { return translate(p, d[0], d[1]) }
	c.fill(sh(body), shadowCol, 0.45)
	c.fill(sh(boom), shadowCol, 0.45)
	c.fill(body, rgb(92, 100, 82), 1)
	c.fill(boom, rgb(86, 94, 76), 1)
	c.fill(f.rect(-16, -14.2, -2.2, 2.2), rgb(86, 94, 76), 1)
	c.fill(f.poly(pt{9, 0}, pt{7, -1.1}, pt{6, -1.1}, pt{6, 1.1}, pt{7, 1.1}), rgb(150, 170, 180), 0.8)
	hub := f.at(1, 0)
	for i := 0; i < 5; i++ {
		a := float64(i)*2*math.Pi/5 + 0.3
		tip := pt{hub[0] + 10.5*math.Cos(a), hub[1] + 10.5*math.Sin(a)}
		c.line(sh([]pt{hub})[0], sh([]pt{tip})[0], 0.6, shadowCol, 0.35)
		c.line(hub, tip, 0.6, rgb(50, 52, 48), 0.9)
	}
	c.disc(hub[0], hub[1], 0.9, rgb(60, 62, 58), 1)
}

// pointAlong returns the point at arc length s along line and the direction there.
func pointAlong(line []pt, s float64) (pt, float64) {
	for i := 0; i+1 < len(line); i++ {
		a, b := line[i], line[i+1]
		l := math.Hypot(b[0]-a[0], b[1]-a[1])
		if s <= l || i+2 == len(line) {
			t := s / l
			return pt{a[0] + (b[0]-a[0])*t, a[1] + (b[1]-a[1])*t}, math.Atan2(b[1]-a[1], b[0]-a[0]) * 180 / math.Pi
		}
		s -= l
	}
	return line[0], 0
}

func (b *base) drawTraffic() {
	// a convoy heading east on the highway, towards the base turn-off
	var s0 float64
	for i := 0; i+1 < len(baseHighway) && baseHighway[i+1][0] <= 1020; i++ {
		s0 += math.Hypot(baseHighway[i+1][0]-baseHighway[i][0], baseHighway[i+1][1]-baseHighway[i][1])
	}
	s0 -= 40 // start a little west of x = 1000
	const nVeh, gap = 12, 24.0
	var first, last pt
	for i := 0; i < nVeh; i++ {
		q, ang := pointAlong(baseHighway, s0+float64(i)*gap)
		// drive on the right-hand (south) side of the road
		rad := ang * math.Pi / 180
		q = pt{q[0] - math.Sin(rad)*3, q[1] + math.Cos(rad)*3}
		b.vehicle(newFrame(q[0], q[1], ang), 8.5, 3.2, rgb(70, 80, 56).add(float32(b.rng.IntN(10))))
		if i == 0 {
			first = q
		}
		last = q
	}
	route := []pt{first}
	for _, v := range baseHighway {
		if v[0] > first[0] && v[0] < last[0] {
			route = append(route, v)
		}
	}
	route = append(route, last)
	for i := range route {
		route[i] = pt{math.Round(route[i][0]*10) / 10, math.Round(route[i][1]*10) / 10}
	}
	b.objs = append(b.objs, Object{
		Label: "vehicle", Shape: shapeLine, Coordinates: route,
		Confidence: confidenceProbable,
		Note:       fmt.Sprintf("Convoy route: %d military trucks driving east on the highway towards the base turn-off", nVeh),
	})
	// a single vehicle waiting at the gate
	gq := pt{gateX + 3, gateY + 22}
	b.vehicle(newFrame(gq[0], gq[1], -90), 7, 3, rgb(66, 74, 54))
	b.objs = append(b.objs, Object{
		Label: "vehicle", Shape: shapePoint, Coordinates: [][2]float64{gq},
		Confidence: confidenceConfirmed, Note: "Single vehicle at the main gate checkpoint",
	})
}

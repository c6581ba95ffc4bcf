package sampledata

import "math/rand/v2"

// Vessels. Every hull is drawn inside the local box [-L/2, L/2] × [-B/2, B/2]
// of its frame (bow towards +a), and touches all four sides of it, so the
// annotation box from frame.box(L, B) hugs the drawn hull.

// scaleLocal scales local points about the origin (used to inset a deck from its hull).
func scaleLocal(p []pt, sa, sb float64) []pt {
	out := make([]pt, len(p))
	for i, q := range p {
		out[i] = pt{q[0] * sa, q[1] * sb}
	}
	return out
}

// mirrorHull builds a symmetric hull outline from its port (b<0) half, listed stern to bow.
func mirrorHull(half []pt) []pt {
	out := append([]pt(nil), half...)
	for i := len(half) - 1; i >= 0; i-- {
		if half[i][1] != 0 {
			out = append(out, pt{half[i][0], -half[i][1]})
		}
	}
	return out
}

func drawHull(c *canvas, f frame, hull []pt, L, B float64, freeboard float64, edge, deck col) {
	img := f.poly(hull...)
	c.shadow(img, freeboard, 0.5)
	c.fill(img, edge, 1)
	c.noisy(f.poly(scaleLocal(hull, (L/2-1.3)/(L/2), (B/2-1.3)/(B/2))...), deck, 4)
}

// drawLandingShip draws a Ropucha-like tank landing ship: blunt bow with bow
// doors, long tank deck, superstructure aft, twin gun mounts.
func drawLandingShip(c *canvas, f frame, L, B float64) {
	hl, hb := L/2, B/2
	hull := mirrorHull([]pt{
		{-hl, -hb * 0.9}, {-hl + 1.5, -hb}, {hl - 24, -hb}, {hl - 13, -hb * 0.94},
		{hl - 6, -hb * 0.76}, {hl - 2, -hb * 0.5}, {hl, -hb * 0.22},
	})
	drawHull(c, f, hull, L, B, 5, rgb(62, 66, 70), rgb(118, 122, 124))
	// tank deck hatch strip and bow ramp seams
	c.noisy(f.rect(-hl+42, hl-22, -hb*0.32, hb*0.32), rgb(100, 104, 106), 4)
	c.line(f.at(hl-7, -hb*0.62), f.at(hl-7, hb*0.62), 1, rgb(55, 58, 60), 0.9)
	c.line(f.at(hl-7, 0), f.at(hl-0.5, 0), 0.8, rgb(60, 62, 64), 0.8)
	c.line(f.at(-hl+1.2, -hb*0.7), f.at(-hl+1.2, hb*0.7), 0.9, rgb(70, 72, 74), 0.9)
	// forward gun mount
	c.disc(f.at(hl-19, 0)[0], f.at(hl-19, 0)[1], 2.1, rgb(86, 88, 90), 1)
	c.line(f.at(hl-19, -0.6), f.at(hl-13, -0.6), 0.7, rgb(60, 62, 64), 1)
	c.line(f.at(hl-19, 0.6), f.at(hl-13, 0.6), 0.7, rgb(60, 62, 64), 1)
	// superstructure block with bridge and funnel
	sup := f.rect(-hl+10, -hl+39, -hb*0.74, hb*0.74)
	c.shadow(sup, 8, 0.45)
	c.noisy(sup, rgb(176, 178, 180), 4)
	bridge := f.rect(-hl+31, -hl+39, -hb*0.58, hb*0.58)
	c.shadow(bridge, 3, 0.35)
	c.noisy(bridge, rgb(198, 199, 200), 3)
	c.fill(f.rect(-hl+16, -hl+23, -2.2, 2.2), rgb(58, 58, 60), 1)
	c.poleShadow(f.at(-hl+28, 0), 12, 0.9, 0.45)
	c.disc(f.at(-hl+28, 0)[0], f.at(-hl+28, 0)[1], 0.9, rgb(40, 40, 42), 1)
	// aft gun mounts
	for _, s := range []float64{-1, 1} {
		p := f.at(-hl+5.5, s*hb*0.45)
		c.disc(p[0], p[1], 1.4, rgb(90, 92, 94), 1)
	}
	// small deck equipment on the tank deck
	for i := 0; i < 4; i++ {
		a := -hl + 48 + float64(i)*9
		c.fill(f.rect(a, a+4, hb*0.45, hb*0.7), rgb(140, 142, 140), 0.8)
	}
}

// drawFrigate draws a slim, sharp-bowed Steregushchiy-like warship: gun
// forward, missile cells, long superstructure, hangar and helicopter deck aft.
func drawFrigate(c *canvas, f frame, L, B float64) {
	hl, hb := L/2, B/2
	hull := mirrorHull([]pt{
		{-hl, -hb * 0.82}, {-hl + 10, -hb * 0.96}, {-hl + 0.42*L, -hb}, {hl * 0.32, -hb * 0.97},
		{hl * 0.55, -hb * 0.84}, {hl * 0.74, -hb * 0.6}, {hl * 0.9, -hb * 0.3}, {hl, 0},
	})
	drawHull(c, f, hull, L, B, 5, rgb(58, 62, 68), rgb(108, 113, 119))
	// helicopter deck with marking
	c.fill(f.rect(-hl+1.5, -hl+17, -hb*0.72, hb*0.72), rgb(96, 100, 104), 1)
	ring := ellipsePoly(frame{f.at(-hl+9, 0)[0], f.at(-hl+9, 0)[1], f.ux, f.uy}, 3.6, 3.6)
	c.polyline(append(ring, ring[0]), 0.7, rgb(190, 190, 170), 0.8)
	// hangar and superstructure
	hangar := f.rect(-hl+17, -hl+30, -hb*0.74, hb*0.74)
	c.shadow(hangar, 6, 0.45)
	c.noisy(hangar, rgb(164, 168, 172), 3)
	sup := f.rect(-hl+30, hl*0.1, -hb*0.7, hb*0.7)
	c.shadow(sup, 9, 0.45)
	c.noisy(sup, rgb(172, 175, 179), 3)
	bridge := f.rect(hl*0.02, hl*0.1, -hb*0.56, hb*0.56)
	c.noisy(bridge, rgb(196, 198, 200), 2)
	// integrated mast: dark block with tall shadow
	mast := f.rect(-hl+44, -hl+52, -hb*0.42, hb*0.42)
	c.shadow(mast, 18, 0.35)
	c.fill(mast, rgb(80, 84, 90), 1)
	c.fill(f.rect(-hl+36, -hl+40, -1.2, 1.2), rgb(60, 62, 66), 1) // funnel
	// missile cells and gun
	c.fill(f.rect(hl*0.16, hl*0.3, -hb*0.34, hb*0.34), rgb(84, 88, 92), 1)
	for i := 1; i < 4; i++ {
		a := hl*0.16 + float64(i)*hl*0.035
		c.line(f.at(a, -hb*0.34), f.at(a, hb*0.34), 0.5, rgb(120, 124, 128), 0.8)
	}
	g := f.at(hl*0.43, 0)
	c.shadow(circlePoly(g[0], g[1], 2.4), 2, 0.4)
	c.disc(g[0], g[1], 2.4, rgb(150, 153, 156), 1)
	c.line(g, f.at(hl*0.58, 0), 0.7, rgb(70, 72, 76), 1)
}

// drawCargoShip draws a container/general cargo ship with accommodation aft.
func drawCargoShip(c *canvas, rng *rand.Rand, f frame, L, B float64) {
	hl, hb := L/2, B/2
	hull := mirrorHull([]pt{
		{-hl, -hb * 0.8}, {-hl + 4, -hb}, {hl - 26, -hb}, {hl - 12, -hb * 0.9},
		{hl - 4, -hb * 0.6}, {hl, -hb * 0.2},
	})
	drawHull(c, f, hull, L, B, 7, rgb(70, 30, 28), rgb(92, 96, 98))
	palette := []col{rgb(150, 52, 42), rgb(44, 78, 132), rgb(176, 150, 70), rgb(64, 118, 78), rgb(196, 196, 192), rgb(120, 70, 50)}
	for a := -hl + 26; a < hl-26; a += 6.2 {
		for b := -hb + 2.5; b < hb-2.5; b += 2.6 {
			if rng.IntN(10) == 0 {
				continue
			}
			k := palette[rng.IntN(len(palette))]
			r := f.rect(a, a+5.6, b, b+2.3)
			c.fill(r, k, 1)
		}
	}
	acc := f.rect(-hl+5, -hl+20, -hb*0.86, hb*0.86)
	c.shadow(acc, 14, 0.45)
	c.noisy(acc, rgb(214, 214, 208), 3)
	c.fill(f.rect(-hl+8, -hl+12, -2, 2), rgb(150, 40, 36), 1)
	c.fill(f.rect(hl-14, hl-9, -hb*0.4, hb*0.4), rgb(110, 112, 110), 1)
}

// drawSmallBoat draws a small white craft, optionally with a wake behind it.
func drawSmallBoat(c *canvas, f frame, L, B float64, wake bool) {
	hl, hb := L/2, B/2
	if wake {
		foam := rgb(160, 180, 178)
		for i := 0; i < 3; i++ {
			d := float64(i) * 20
			c.line(f.at(-hl-d, 0), f.at(-hl-d-24, 0), 2.2-float64(i)*0.5, foam, 0.5-float32(i)*0.12)
		}
		for _, s := range []float64{-1, 1} {
			c.line(f.at(-hl+1, s*hb), f.at(-hl-70, s*(hb+24)), 1.1, foam, 0.3)
		}
	}
	hull := mirrorHull([]pt{{-hl, -hb * 0.85}, {hl * 0.3, -hb}, {hl * 0.75, -hb * 0.7}, {hl, 0}})
	drawHull(c, f, hull, L, B, 2, rgb(150, 152, 152), rgb(220, 222, 220))
	c.fill(f.rect(-hl*0.3, hl*0.25, -hb*0.55, hb*0.55), rgb(170, 176, 182), 1)
}

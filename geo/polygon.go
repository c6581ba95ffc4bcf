package geo

// RingsMeet reports whether two simple closed rings (first position = last) in one
// plane share any point: a side of one crosses or touches a side of the other, or one
// lies inside the other. Longitudes and latitudes are taken as plane coordinates, which
// is what deciding whether an image's footprint meets a site's area needs at the scale
// of a site (the caller unwraps rings across the antimeridian first).
func RingsMeet(a, b [][2]float64) bool {
	if len(a) < 4 || len(b) < 4 {
		return false
	}
	if !boxesMeet(a, b) {
		return false
	}
	for i := 0; i+1 < len(a); i++ {
		for j := 0; j+1 < len(b); j++ {
			if segmentsMeet(a[i], a[i+1], b[j], b[j+1]) {
				return true
			}
		}
	}
	return InRing(a[0], b) || InRing(b[0], a)
}

// InRing reports whether p lies inside the closed ring r (even-odd rule; a point on a
// side may go either way, which RingsMeet does not depend on).
func InRing(p [2]float64, r [][2]float64) bool {
	in := false
	for i, j := 0, len(r)-2; i < len(r)-1; j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a[1] > p[1]) != (b[1] > p[1]) && p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

func boxesMeet(a, b [][2]float64) bool {
	ax0, ay0, ax1, ay1 := box(a)
	bx0, by0, bx1, by1 := box(b)
	return ax0 <= bx1 && bx0 <= ax1 && ay0 <= by1 && by0 <= ay1
}

func box(r [][2]float64) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = r[0][0], r[0][1], r[0][0], r[0][1]
	for _, p := range r[1:] {
		x0, x1 = min(x0, p[0]), max(x1, p[0])
		y0, y1 = min(y0, p[1]), max(y1, p[1])
	}
	return
}

func cross(a, b, c [2]float64) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

func within(a, b, p [2]float64) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

// segmentsMeet reports whether segments ab and cd share a point.
func segmentsMeet(a, b, c, d [2]float64) bool {
	d1, d2, d3, d4 := cross(c, d, a), cross(c, d, b), cross(a, b, c), cross(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && within(c, d, a)) || (d2 == 0 && within(c, d, b)) || (d3 == 0 && within(a, b, c)) || (d4 == 0 && within(a, b, d))
}

// RingsMeetTurned reports whether ring a, as it is or moved a turn (360°) east or west,
// meets ring b: for lon/lat rings unwrapped so that they may lie past ±180°.
func RingsMeetTurned(a, b [][2]float64) bool {
	for _, shift := range []float64{0, -360, 360} {
		moved := make([][2]float64, len(a))
		for i, p := range a {
			moved[i] = [2]float64{p[0] + shift, p[1]}
		}
		if RingsMeet(moved, b) {
			return true
		}
	}
	return false
}

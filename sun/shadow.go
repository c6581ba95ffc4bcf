package sun

import (
	"fmt"
	"math"
	"time"
)

// Shadows on level ground: where they fall, how long they are, and when in a window
// the sun stood where a measured shadow says.

// ShadowAzimuth is the direction, in degrees clockwise from north in [0, 360), in which
// shadows fall on level ground when the sun stands at the given azimuth.
func ShadowAzimuth(sunAzimuth float64) float64 { return limitDegrees(sunAzimuth + 180) }

// HeightFromShadow is the height of an upright object whose shadow on level ground,
// from its foot to the shadow's tip, is length long (any unit; the height is in the
// same), with the sun at elevation degrees: length · tan(elevation). ok is false when
// the sun does not cast such a shadow (at or below the horizon, or overhead) or the
// length is not a number ≥ 0.
func HeightFromShadow(length, elevation float64) (height float64, ok bool) {
	if !(elevation > 0 && elevation < 90) || !(length >= 0) || math.IsInf(length, 0) {
		return 0, false
	}
	return length * math.Tan(rad(elevation)), true
}

// ShadowLength is the length of the shadow of an upright object of the given height
// with the sun at elevation degrees: height / tan(elevation); ok as for HeightFromShadow.
func ShadowLength(height, elevation float64) (length float64, ok bool) {
	if !(elevation > 0 && elevation < 90) || !(height >= 0) || math.IsInf(height, 0) {
		return 0, false
	}
	return height / math.Tan(rad(elevation)), true
}

// Span is a stretch of time when the sun casts shadows in a given direction.
type Span struct {
	From, To time.Time
	// Best is the moment in the span when the shadows' direction is nearest the
	// measured one (where they cross it, if they do).
	Best                 time.Time
	AtFrom, AtTo, AtBest Position
}

// ScanStep is how often ShadowTimes looks at the sun before it narrows down each edge
// of a span, and ScanPrecision how closely it narrows them (by bisection).
const (
	ScanStep      = time.Minute
	ScanPrecision = time.Second
)

// MaxWindow is the longest window ShadowTimes scans: a year and a day, half a million
// positions of the sun.
const MaxWindow = 366 * 24 * time.Hour

// ShadowTimes returns the spans of [from, to] when the sun is above the horizon at
// place p and the shadows it casts fall within tolerance degrees of shadowAzimuth
// (degrees clockwise from north), in time order; none when it never does. deltaT is
// TT − UT1 in seconds (DeltaT(from) will do for any window of a few years).
//
// It looks at the sun every ScanStep and narrows each edge of a span to ScanPrecision
// by bisection; a pass quicker than a step (the shadow's direction sweeping through
// the measured one within a minute, as it may when the sun is near the zenith) is found
// where the direction changes sides between two looks. Errors: *InputError for to
// before from, a window longer than MaxWindow, a shadowAzimuth that is not a number, a
// tolerance not in (0°, 90°], and At's for the place.
func ShadowTimes(p Place, from, to time.Time, deltaT, shadowAzimuth, tolerance float64) ([]Span, error) {
	switch {
	case to.Before(from):
		return nil, &InputError{"to", fmt.Sprintf("%s is before the window's start %s", to.UTC().Format(time.RFC3339), from.UTC().Format(time.RFC3339))}
	case to.Sub(from) > MaxWindow:
		return nil, &InputError{"to", fmt.Sprintf("the window is %s long; at most %d days are scanned", to.Sub(from).Round(time.Hour), MaxWindow/(24*time.Hour))}
	case math.IsNaN(shadowAzimuth) || math.IsInf(shadowAzimuth, 0):
		return nil, &InputError{"shadow_azimuth", "is not a number"}
	case !(tolerance > 0 && tolerance <= 90):
		return nil, &InputError{"tolerance", fmt.Sprintf("%g° is not in (0°, 90°]", tolerance)}
	}
	sc := scanner{p: p, deltaT: deltaT, az: limitDegrees(shadowAzimuth), tol: tolerance}
	prev, err := sc.look(from)
	if err != nil {
		return nil, err
	}
	if _, err := sc.look(to); err != nil {
		return nil, err
	}
	w := sweep{sc: sc}
	if prev.inside {
		w.open = &Span{From: from, AtFrom: prev.pos}
	}
	for t := from; t.Before(to); {
		next := t.Add(ScanStep)
		if next.After(to) {
			next = to
		}
		cur := sc.mustLook(next)
		w.step(prev, cur)
		prev, t = cur, next
	}
	if w.open != nil {
		w.open.To, w.open.AtTo = to, prev.pos
		w.spans = append(w.spans, *w.open)
	}
	for i := range w.spans {
		b := sc.best(w.spans[i].From, w.spans[i].To)
		w.spans[i].Best, w.spans[i].AtBest = b.t, b.pos
	}
	return w.spans, nil
}

// maxSwing is the most the shadows' direction may turn between two looks for the scan
// to read what happened between them; more (a sun near the zenith swings them through
// half a circle in a minute), and the step is halved.
const maxSwing = 30.0

// sweep collects the spans as ShadowTimes walks the window.
type sweep struct {
	sc    scanner
	spans []Span
	open  *Span // the span the walk is in
}

// step reads what happened between two looks a and b.
func (w *sweep) step(a, b look) {
	if math.Abs(angleBetween(b.diff, a.diff)) > maxSwing && b.t.Sub(a.t) > ScanPrecision {
		m := w.sc.mustLook(a.t.Add(b.t.Sub(a.t) / 2))
		w.step(a, m)
		w.step(m, b)
		return
	}
	switch {
	case a.inside && !b.inside:
		last := w.sc.edge(a.t, b.t, true)
		w.open.To, w.open.AtTo = last.t, last.pos
		w.spans = append(w.spans, *w.open)
		w.open = nil
	case !a.inside && b.inside:
		first := w.sc.edge(a.t, b.t, false)
		w.open = &Span{From: first.t, AtFrom: first.pos}
	case !a.inside && !b.inside && a.diff*b.diff < 0 && math.Abs(a.diff-b.diff) < 180:
		// The direction crossed the measured one between two looks without being
		// seen within the tolerance: a quick pass, or none with the sun down.
		if c := w.sc.crossing(a.t, b.t, a.diff); c.inside {
			first, last := w.sc.edge(a.t, c.t, false), w.sc.edge(c.t, b.t, true)
			w.spans = append(w.spans, Span{From: first.t, To: last.t, AtFrom: first.pos, AtTo: last.pos})
		}
	}
}

// scanner looks at the sun for ShadowTimes.
type scanner struct {
	p       Place
	deltaT  float64
	az, tol float64
}

// look is the sun at one moment, and how its shadows fall against the measured ones.
type look struct {
	t      time.Time
	pos    Position
	diff   float64 // shadow azimuth − measured, in (−180°, 180°]
	inside bool    // above the horizon and within the tolerance
}

func (sc scanner) look(t time.Time) (look, error) {
	pos, err := At(t, sc.deltaT, sc.p)
	if err != nil {
		return look{}, err
	}
	d := angleBetween(ShadowAzimuth(pos.Azimuth), sc.az)
	return look{t: t, pos: pos, diff: d, inside: pos.Above() && math.Abs(d) <= sc.tol}, nil
}

// mustLook is look for a moment inside a window whose ends look has accepted: the
// place was checked there, and every moment between them is as valid.
func (sc scanner) mustLook(t time.Time) look {
	l, _ := sc.look(t)
	return l
}

// edge narrows down where inside changes between a and b (inside at b when wasInside is
// false, at a when it is true) and returns the look on the inside of the edge.
func (sc scanner) edge(a, b time.Time, wasInside bool) look {
	for b.Sub(a) > ScanPrecision {
		m := a.Add(b.Sub(a) / 2)
		if sc.mustLook(m).inside == wasInside {
			a = m
		} else {
			b = m
		}
	}
	if wasInside {
		return sc.mustLook(a)
	}
	return sc.mustLook(b)
}

// crossing narrows down, to a millisecond (under a sun near the zenith the direction
// may turn degrees a second), where the direction's difference from the measured one
// changes sign between a (where it has the sign of diffA) and b.
func (sc scanner) crossing(a, b time.Time, diffA float64) look {
	for b.Sub(a) > time.Millisecond {
		m := a.Add(b.Sub(a) / 2)
		if l := sc.mustLook(m); l.diff*diffA > 0 {
			a = m
		} else {
			b = m
		}
	}
	return sc.mustLook(b)
}

// best is the look in [from, to] when the direction is nearest the measured one: where
// it crosses it, or else the nearest of the looks a step apart (and between them, where
// the direction swings fast).
func (sc scanner) best(from, to time.Time) look {
	bestLook := sc.mustLook(from)
	prev := bestLook
	for t := from; t.Before(to) && bestLook.diff != 0; {
		next := t.Add(ScanStep)
		if next.After(to) {
			next = to
		}
		cur := sc.mustLook(next)
		if n := sc.nearest(prev, cur); math.Abs(n.diff) < math.Abs(bestLook.diff) {
			bestLook = n
		}
		prev, t = cur, next
	}
	return bestLook
}

// nearest is the look between a and b nearest the measured direction.
func (sc scanner) nearest(a, b look) look {
	if math.Abs(angleBetween(b.diff, a.diff)) > maxSwing && b.t.Sub(a.t) > ScanPrecision {
		m := sc.mustLook(a.t.Add(b.t.Sub(a.t) / 2))
		n1, n2 := sc.nearest(a, m), sc.nearest(m, b)
		if math.Abs(n2.diff) < math.Abs(n1.diff) {
			return n2
		}
		return n1
	}
	if a.diff == 0 || b.diff == 0 || a.diff*b.diff > 0 || math.Abs(a.diff-b.diff) >= 180 {
		if math.Abs(b.diff) < math.Abs(a.diff) {
			return b
		}
		return a
	}
	return sc.crossing(a.t, b.t, a.diff)
}

// angleBetween is a − b in degrees, in (−180, 180].
func angleBetween(a, b float64) float64 {
	d := math.Mod(a-b, 360)
	switch {
	case d > 180:
		d -= 360
	case d <= -180:
		d += 360
	}
	return d
}

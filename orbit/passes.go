package orbit

import (
	"math"
	"time"
)

// PassStep is how often the pass search samples the elevation. A pass that rises and sets
// between two samples (one that barely clears the minimum elevation) can be missed.
const PassStep = 30 * time.Second

// passPrecision is how close bisection brings rise, culmination and set.
const passPrecision = 10 * time.Millisecond

// Pass is one pass of a satellite over a place: the satellite above the minimum elevation
// from Rise to Set, highest (and so nearest to overhead) at Culmination. A pass already
// under way when the window opens starts at the window (StartsBefore), one still under
// way when it closes ends there (EndsAfter).
type Pass struct {
	Rise, Culmination, Set Look
	StartsBefore           bool
	EndsAfter              bool
}

// CouldImage says whether the satellite came within maxOffNadir degrees of looking
// straight down at the place during the pass: at culmination it looks most nearly down
// (to hundredths of a degree: on a pass that grazes the horizon the satellite's changing
// height can matter more than its elevation).
func (p Pass) CouldImage(maxOffNadir float64) bool { return p.Culmination.OffNadir <= maxOffNadir }

// LookAt is how the satellite and the place see each other at t.
func (s *Satellite) LookAt(site Geodetic, t time.Time) (Look, error) {
	r, _, err := s.At(t)
	if err != nil {
		return Look{}, err
	}
	return site.Look(TEMEToECEF(r, t), t), nil
}

// Passes finds the satellite's passes over the place between from and to with the
// satellite at least minElevation degrees above the horizon: the elevation sampled every
// PassStep, rise, set and culmination refined by bisection. If propagation fails (the
// satellite decays) within the window, it returns the passes before that and the
// *PropagationError.
func (s *Satellite) Passes(site Geodetic, from, to time.Time, minElevation float64) ([]Pass, error) {
	var passes []Pass
	if !to.After(from) {
		return nil, nil
	}
	elevation := func(t time.Time) (float64, error) {
		r, _, err := s.At(t)
		return site.elevation(TEMEToECEF(r, t)) - minElevation, err
	}
	var (
		cur      *Pass
		riseAt   time.Time
		best     time.Time
		bestEl   = math.Inf(-1)
		prevT    time.Time
		prevUp   bool
		lastDone bool
	)
	finish := func(set time.Time, endsAfter bool) error {
		c, err := s.culmination(site, riseAt, best, set)
		if err != nil {
			return err
		}
		cur.Culmination = c
		if cur.Set, err = s.LookAt(site, set); err != nil {
			return err
		}
		cur.EndsAfter = endsAfter
		passes = append(passes, *cur)
		cur = nil
		return nil
	}
	for t := from; !lastDone; t = t.Add(PassStep) {
		if !t.Before(to) {
			t, lastDone = to, true
		}
		el, err := elevation(t)
		if err != nil {
			return passes, err
		}
		up := el >= 0
		switch {
		case up && cur == nil:
			cur = &Pass{}
			if t.Equal(from) {
				riseAt, cur.StartsBefore = from, true
			} else if riseAt, err = bisect(prevT, t, elevation); err != nil {
				return passes, err
			}
			if cur.Rise, err = s.LookAt(site, riseAt); err != nil {
				return passes, err
			}
			best, bestEl = t, el
		case up && el > bestEl:
			best, bestEl = t, el
		case !up && prevUp:
			set, err := bisect(t, prevT, elevation)
			if err != nil {
				return passes, err
			}
			if err := finish(set, false); err != nil {
				return passes, err
			}
		}
		prevT, prevUp = t, up
	}
	if cur != nil {
		if err := finish(to, true); err != nil {
			return passes, err
		}
	}
	return passes, nil
}

// bisect finds, to passPrecision, where f crosses zero between below (f < 0) and above
// (f ≥ 0); below may come after above. It returns the time on the above side.
func bisect(below, above time.Time, f func(time.Time) (float64, error)) (time.Time, error) {
	for absDuration(above.Sub(below)) > passPrecision {
		mid := below.Add(above.Sub(below) / 2)
		v, err := f(mid)
		if err != nil {
			return time.Time{}, err
		}
		if v >= 0 {
			above = mid
		} else {
			below = mid
		}
	}
	return above, nil
}

// culmination refines the highest point of a pass, which the samples put within a step
// of sample, by bisection on the sign of the elevation's rate of change.
func (s *Satellite) culmination(site Geodetic, rise, sample, set time.Time) (Look, error) {
	lo, hi := sample.Add(-PassStep), sample.Add(PassStep)
	if lo.Before(rise) {
		lo = rise
	}
	if hi.After(set) {
		hi = set
	}
	const h = 50 * time.Millisecond
	rising := func(t time.Time) (bool, error) {
		a, err := s.LookAt(site, t.Add(-h))
		if err != nil {
			return false, err
		}
		b, err := s.LookAt(site, t.Add(h))
		return b.Elevation > a.Elevation, err
	}
	for hi.Sub(lo) > passPrecision {
		mid := lo.Add(hi.Sub(lo) / 2)
		up, err := rising(mid)
		if err != nil {
			return Look{}, err
		}
		if up {
			lo = mid
		} else {
			hi = mid
		}
	}
	return s.LookAt(site, lo.Add(hi.Sub(lo)/2))
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

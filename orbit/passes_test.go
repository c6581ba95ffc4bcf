package orbit

import (
	"errors"
	"math"
	"testing"
	"time"
)

// DELTA 1 DEB from the verification set: low orbit, 58° inclination, moderate drag.
const (
	delta1 = "1 06251U 62025E   06176.82412014  .00008885  00000-0  12808-3 0  3985"
	delta2 = "2 06251  58.0579  54.0425 0030035 139.1568 221.1854 15.56387291  6774"
)

var vladivostok = Geodetic{Latitude: 43.1167, Longitude: 131.8833, HeightKm: 0.05}

func mustSatellite(t *testing.T, l1, l2 string) *Satellite {
	t.Helper()
	tle, err := ParseTLE("", l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	return NewSatellite(tle)
}

// interval is a span the satellite is above the minimum elevation, from a brute-force
// scan second by second.
type interval struct {
	rise, set, top time.Time
	topElevation   float64
}

func scan(t *testing.T, s *Satellite, site Geodetic, from, to time.Time, minEl float64) []interval {
	t.Helper()
	var out []interval
	var cur *interval
	for at := from; !at.After(to); at = at.Add(time.Second) {
		l, err := s.LookAt(site, at)
		if err != nil {
			t.Fatal(err)
		}
		if l.Elevation >= minEl {
			if cur == nil {
				cur = &interval{rise: at, topElevation: math.Inf(-1)}
			}
			if l.Elevation > cur.topElevation {
				cur.top, cur.topElevation = at, l.Elevation
			}
			cur.set = at
		} else if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

func near(a, b time.Time, d time.Duration) bool { return absDuration(a.Sub(b)) <= d }

func TestPassesAgainstASecondBySecondScan(t *testing.T) {
	s := mustSatellite(t, delta1, delta2)
	from := s.TLE.Epoch
	to := from.Add(24 * time.Hour)
	for _, minEl := range []float64{0, 10} {
		passes, err := s.Passes(vladivostok, from, to, minEl)
		if err != nil {
			t.Fatal(err)
		}
		want := scan(t, s, vladivostok, from, to, minEl)
		if len(want) < 3 || len(passes) != len(want) {
			t.Fatalf("min elevation %v°: %d passes, the scan finds %d", minEl, len(passes), len(want))
		}
		imaged := 0
		for i, p := range passes {
			w := want[i]
			if !near(p.Rise.Time, w.rise, time.Second) || !near(p.Set.Time, w.set, time.Second) {
				t.Errorf("pass %d: %v–%v, the scan %v–%v", i, p.Rise.Time, p.Set.Time, w.rise, w.set)
			}
			if math.Abs(p.Rise.Elevation-minEl) > 0.01 || math.Abs(p.Set.Elevation-minEl) > 0.01 {
				t.Errorf("pass %d: rises at %.4f° and sets at %.4f°, want %v°", i, p.Rise.Elevation, p.Set.Elevation, minEl)
			}
			if p.Culmination.Elevation < w.topElevation-1e-6 || !near(p.Culmination.Time, w.top, time.Second) {
				t.Errorf("pass %d: culminates at %v, %.5f°; the scan's highest is %v, %.5f°", i, p.Culmination.Time, p.Culmination.Elevation, w.top, w.topElevation)
			}
			// Highest is most nearly overhead: the off-nadir angle is least at culmination.
			if p.Culmination.OffNadir > p.Rise.OffNadir || p.Culmination.OffNadir > p.Set.OffNadir {
				t.Errorf("pass %d: off-nadir %.2f° at culmination, %.2f° at rise, %.2f° at set", i, p.Culmination.OffNadir, p.Rise.OffNadir, p.Set.OffNadir)
			}
			if p.StartsBefore || p.EndsAfter {
				t.Errorf("pass %d is cut by the window", i)
			}
			if p.CouldImage(30) {
				imaged++
			}
		}
		if minEl == 0 && (imaged == 0 || imaged == len(passes)) {
			t.Errorf("%d of %d passes within 30° off-nadir; the day should have both kinds", imaged, len(passes))
		}
	}
}

func TestPassesCutByTheWindow(t *testing.T) {
	s := mustSatellite(t, delta1, delta2)
	all, err := s.Passes(vladivostok, s.TLE.Epoch, s.TLE.Epoch.Add(24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	p := all[1]
	mid := p.Rise.Time.Add(p.Set.Time.Sub(p.Rise.Time) / 2)
	first, err := s.Passes(vladivostok, p.Rise.Time.Add(-time.Hour), mid, 0)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Passes(vladivostok, mid, p.Set.Time.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || !first[0].EndsAfter || first[0].StartsBefore || !first[0].Set.Time.Equal(mid) {
		t.Errorf("window ending mid-pass: %+v", first)
	}
	if len(second) != 1 || !second[0].StartsBefore || second[0].EndsAfter || !second[0].Rise.Time.Equal(mid) {
		t.Errorf("window starting mid-pass: %+v", second)
	}
}

// MINOTAUR R/B of the verification set decays between 50 and 55 minutes after epoch:
// the search says so and keeps what it found before.
func TestPassesOfADecayingSatellite(t *testing.T) {
	s := mustSatellite(t,
		"1 28872U 05037B   05333.02012661  .25992681  00000-0  24476-3 0  1534",
		"2 28872  96.4736 157.9986 0303955 244.0492 110.6523 16.46015938 10708")
	_, err := s.Passes(vladivostok, s.TLE.Epoch, s.TLE.Epoch.Add(3*time.Hour), 0)
	var pe *PropagationError
	if !errors.As(err, &pe) || !errors.Is(err, ErrDecayed) {
		t.Fatalf("got %v, want the decay", err)
	}
	if pe.Minutes <= 50 || pe.Minutes > 55 {
		t.Errorf("decayed at %v min, the reference between 50 and 55", pe.Minutes)
	}
}

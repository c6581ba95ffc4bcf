package sun

import (
	"errors"
	"math"
	"testing"
	"time"
)

func TestShadowAzimuthIsOppositeTheSun(t *testing.T) {
	for _, c := range []struct{ sun, want float64 }{{150, 330}, {194.340241, 14.340241}, {0, 180}, {180, 0}, {359.5, 179.5}} {
		if got := ShadowAzimuth(c.sun); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("ShadowAzimuth(%g) = %g, want %g", c.sun, got, c.want)
		}
	}
}

func TestHeightFromShadow(t *testing.T) {
	for _, c := range []struct {
		name              string
		length, elevation float64
		want              float64
		ok                bool
	}{
		{"ok, sun at 45°: as tall as its shadow is long", 12, 45, 12, true},
		{"ok, the sample scenes' sun: 1.4 m of shadow a metre", 30.8, math.Atan(1/1.4) * 180 / math.Pi, 22, true},
		{"ok, no shadow, no height", 0, 30, 0, true},
		{"nok, sun on the horizon", 10, 0, 0, false},
		{"nok, sun below the horizon", 10, -5, 0, false},
		{"nok, sun overhead", 10, 90, 0, false},
		{"nok, negative length", -1, 30, 0, false},
		{"nok, length not a number", math.NaN(), 30, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := HeightFromShadow(c.length, c.elevation)
			if ok != c.ok || math.Abs(got-c.want) > 1e-9 {
				t.Errorf("HeightFromShadow(%g, %g) = %g, %v; want %g, %v", c.length, c.elevation, got, ok, c.want, c.ok)
			}
			if c.ok && c.elevation > 0 {
				if back, _ := ShadowLength(got, c.elevation); math.Abs(back-c.length) > 1e-9 {
					t.Errorf("ShadowLength(%g, %g) = %g, want %g back", got, c.elevation, back, c.length)
				}
			}
		})
	}
}

// shadowDiff is how far the shadows at pos fall from the measured azimuth, in degrees.
func shadowDiff(pos Position, measured float64) float64 {
	return math.Abs(angleBetween(ShadowAzimuth(pos.Azimuth), measured))
}

// TestShadowTimesFindsTheReportsExample measures, in effect, the shadow of the report's
// example (the sun at 194.340241°: shadows towards 14.340241°) and asks when in that day
// at Golden the shadows fell so.
func TestShadowTimesFindsTheReportsExample(t *testing.T) {
	day := time.Date(2003, 10, 17, 0, 0, 0, 0, time.FixedZone("MST", -7*3600))
	const tol = 0.5
	measured := ShadowAzimuth(194.340241)
	spans, err := ShadowTimes(paperPlace, day, day.Add(24*time.Hour), 67, measured, tol)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1: %+v", len(spans), spans)
	}
	s := spans[0]
	if d := s.Best.Sub(paperTime); d.Abs() > 2*time.Second {
		t.Errorf("best fit at %s, want %s (the example's moment) within 2 s", s.Best, paperTime)
	}
	if !(s.From.Before(s.Best) && s.Best.Before(s.To)) {
		t.Errorf("span %s … %s does not hold its best moment %s", s.From, s.To, s.Best)
	}
	// The edges are where the direction leaves the tolerance, to within ScanPrecision.
	for _, edge := range []struct {
		at      time.Time
		pos     Position
		outside time.Time
	}{{s.From, s.AtFrom, s.From.Add(-ScanPrecision)}, {s.To, s.AtTo, s.To.Add(ScanPrecision)}} {
		if d := shadowDiff(edge.pos, measured); d > tol {
			t.Errorf("at the edge %s the shadows are %.4f° off, more than the %g° tolerance", edge.at, d, tol)
		}
		out, err := At(edge.outside, 67, paperPlace)
		if err != nil {
			t.Fatal(err)
		}
		if d := shadowDiff(out, measured); d <= tol {
			t.Errorf("a second past the edge (%s) the shadows are still within the tolerance (%.4f°)", edge.outside, d)
		}
	}
	// About 0.27° an minute of azimuth then: ±0.5° is a few minutes either side.
	if d := s.To.Sub(s.From); d < 2*time.Minute || d > 6*time.Minute {
		t.Errorf("the span lasts %s, want the few minutes ±0.5° takes", d)
	}
}

func TestShadowTimesNoneWhenTheSunNeverStandsThere(t *testing.T) {
	// Shadows towards the south need the sun in the north: never at 40° N in October.
	day := time.Date(2003, 10, 17, 0, 0, 0, 0, time.UTC)
	spans, err := ShadowTimes(paperPlace, day, day.Add(3*24*time.Hour), 67, 180, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 0 {
		t.Errorf("spans = %+v, want none", spans)
	}
	// Nor does the sun below the horizon: at 21:00 local it casts no shadows, whatever
	// its azimuth.
	night := time.Date(2003, 10, 17, 21, 0, 0, 0, time.FixedZone("MST", -7*3600))
	pos, err := At(night, 67, paperPlace)
	if err != nil {
		t.Fatal(err)
	}
	spans, err = ShadowTimes(paperPlace, night.Add(-10*time.Minute), night.Add(10*time.Minute), 67, ShadowAzimuth(pos.Azimuth), 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 0 {
		t.Errorf("with the sun %.1f° below the horizon: spans = %+v, want none", -pos.Elevation, spans)
	}
}

// TestShadowTimesFindsAPassQuickerThanAStep: under a sun that passes 0.1° from the
// zenith, the shadows swing through south in seconds, between two looks a minute apart.
func TestShadowTimesFindsAPassQuickerThanAStep(t *testing.T) {
	when := time.Date(2024, 6, 20, 12, 0, 0, 0, time.UTC)
	noon := Place{Latitude: 23.5, Longitude: 0, Pressure: 1013.25, Temperature: 10, AtmosRefract: 0.5667}
	spans, err := ShadowTimes(noon, when.Add(-time.Hour), when.Add(time.Hour), 69, 0, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1: %+v", len(spans), spans)
	}
	s := spans[0]
	if d := s.To.Sub(s.From); d >= ScanStep {
		t.Errorf("the pass lasts %s: not one a scan a minute apart could miss", d)
	}
	if s.AtBest.Elevation < 89 {
		t.Errorf("best fit with the sun %.2f° high, want it near the zenith", s.AtBest.Elevation)
	}
	if d := shadowDiff(s.AtBest, 0); d > 0.01 {
		t.Errorf("at the best moment the shadows are %.4f° from north", d)
	}
}

func TestShadowTimesSpanCutByTheWindow(t *testing.T) {
	spans, err := ShadowTimes(paperPlace, paperTime, paperTime.Add(time.Minute), 67, ShadowAzimuth(194.340241), 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 1 || !spans[0].From.Equal(paperTime) || !spans[0].To.Equal(paperTime.Add(time.Minute)) {
		t.Errorf("spans = %+v, want the whole minute", spans)
	}
}

func TestShadowTimesRefusesBadWindows(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to time.Time
		az, tol  float64
		field    string
	}{
		{"nok, to before from", paperTime, paperTime.Add(-time.Second), 14, 1, "to"},
		{"nok, over a year", paperTime, paperTime.Add(MaxWindow + time.Hour), 14, 1, "to"},
		{"nok, no tolerance", paperTime, paperTime.Add(time.Hour), 14, 0, "tolerance"},
		{"nok, tolerance over 90°", paperTime, paperTime.Add(time.Hour), 14, 91, "tolerance"},
		{"nok, azimuth not a number", paperTime, paperTime.Add(time.Hour), math.NaN(), 1, "shadow_azimuth"},
		{"nok, the end past the algorithm's years", time.Date(6000, 12, 31, 12, 0, 0, 0, time.UTC), time.Date(6001, 1, 1, 12, 0, 0, 0, time.UTC), 14, 1, "time"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ShadowTimes(paperPlace, c.from, c.to, 67, c.az, c.tol)
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field != c.field {
				t.Fatalf("ShadowTimes = %v, want an InputError for %s", err, c.field)
			}
		})
	}
}

// BenchmarkShadowTimesAWeek scans the sample port's claimed window, 8–13 October 2024.
func BenchmarkShadowTimesAWeek(b *testing.B) {
	p := StandardPlace(43.11, 131.89)
	from := time.Date(2024, 10, 7, 15, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := ShadowTimes(p, from, from.Add(6*24*time.Hour), 69, 330, 2); err != nil {
			b.Fatal(err)
		}
	}
}

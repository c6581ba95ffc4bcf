package orbit

import (
	"testing"
	"time"
)

// BenchmarkPassesSixDays is the search over a six-day capture window (the sample
// release's 8–13 October) for one low-orbit satellite.
func BenchmarkPassesSixDays(b *testing.B) {
	tle, err := ParseTLE("", delta1, delta2)
	if err != nil {
		b.Fatal(err)
	}
	s := NewSatellite(tle)
	for i := 0; i < b.N; i++ {
		if _, err := s.Passes(vladivostok, tle.Epoch, tle.Epoch.Add(6*24*time.Hour), 0); err != nil {
			b.Fatal(err)
		}
	}
}

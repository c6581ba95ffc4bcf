package annotations

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestParseTimeIsTimeParse checks the hand-written reading of stored times against
// time.Parse, the oracle, on valid and invalid times of the stored form and others.
func TestParseTimeIsTimeParse(t *testing.T) {
	cases := []string{
		"2024-10-18T09:00:00.000000000Z",
		"2024-10-18T09:00:00.123456789Z",
		"0000-01-01T00:00:00.000000000Z",
		"9999-12-31T23:59:59.999999999Z",
		"2024-02-29T12:00:00.000000000Z", // leap year
		"2023-02-29T12:00:00.000000000Z", // not one
		"1900-02-29T12:00:00.000000000Z", // not one either
		"2000-02-29T12:00:00.000000000Z",
		"2024-04-31T12:00:00.000000000Z",
		"2024-13-01T12:00:00.000000000Z",
		"2024-00-01T12:00:00.000000000Z",
		"2024-01-00T12:00:00.000000000Z",
		"2024-01-32T12:00:00.000000000Z",
		"2024-01-01T24:00:00.000000000Z",
		"2024-01-01T23:60:00.000000000Z",
		"2024-01-01T23:59:60.000000000Z",
		"2024-01-01T23:59:5x.000000000Z",
		"2024-01-01T23:59:59.00000000xZ",
		"2024-01-01 23:59:59.000000000Z",
		"2024-01-01T23:59:59.000000000+02:00",
		"2024-01-01T23:59:59.5Z", // RFC 3339 with a short fraction: time.Parse reads it
		"2024-01-01T23:59:59Z",
		"+024-01-01T23:59:59.000000000Z",
		"-024-01-01T23:59:59.000000000Z",
		"",
		"not a time",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		at := time.Unix(rng.Int64N(1<<35)-1<<34, rng.Int64N(1e9)).UTC()
		cases = append(cases, at.Format(timeLayout))
	}
	for _, s := range cases {
		want, _ := time.Parse(time.RFC3339Nano, s)
		got := parseTime(s)
		if got != want || got.Location() != want.Location() {
			t.Errorf("parseTime(%q) = %v (%v), time.Parse gives %v (%v)", s, got, got.Location(), want, want.Location())
		}
	}
}

func BenchmarkParseTime(b *testing.B) {
	s := "2024-10-18T09:00:00.123456789Z"
	for b.Loop() {
		parseTime(s)
	}
}

package orbit

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Vanguard 1 as the verification set gives it (checksums right).
const (
	vanguard1 = "1 00005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  4753"
	vanguard2 = "2 00005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667"
)

func TestParseTLE(t *testing.T) {
	tle, err := ParseTLE("0 VANGUARD 1", vanguard1, vanguard2+"\r")
	if err != nil {
		t.Fatal(err)
	}
	if tle.Name != "VANGUARD 1" || tle.NoradID != 5 || tle.IntlDesignator != "58002B" || tle.Classification != 'U' {
		t.Errorf("got name %q, id %d, designator %q, class %c", tle.Name, tle.NoradID, tle.IntlDesignator, tle.Classification)
	}
	// Day 179.78495062 of 2000 (a leap year) is 27 June 18:50:19.733568.
	want := time.Date(2000, 6, 27, 18, 50, 19, 733568000, time.UTC)
	if d := tle.Epoch.Sub(want); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("epoch %v, want %v", tle.Epoch, want)
	}
	if tle.Eccentricity != 0.1859667 || tle.MeanMotion != 10.82419157 || tle.BStar != 0.28098e-4 || tle.RevNumber != 41366 || tle.ElementNumber != 475 {
		t.Errorf("got e %v, n %v, B* %v, rev %d, element %d", tle.Eccentricity, tle.MeanMotion, tle.BStar, tle.RevNumber, tle.ElementNumber)
	}
}

func TestParseTLEAlpha5(t *testing.T) {
	l1 := "1 A0005U 58002B   00179.78495062  .00000023  00000-0  28098-4 0  475"
	l2 := "2 A0005  34.2682 348.7242 1859667 331.7664  19.3264 10.82419157413667"
	l1 += string(rune('0' + Checksum(l1)))
	l2 = l2[:68] + string(rune('0'+Checksum(l2)))
	tle, err := ParseTLE("", l1, l2)
	if err != nil {
		t.Fatal(err)
	}
	if tle.NoradID != 100005 {
		t.Errorf("Alpha-5 A0005 read as %d, want 100005", tle.NoradID)
	}
}

// withChecksum puts the right checksum on a changed line.
func withChecksum(l string) string { return l[:68] + string(rune('0'+Checksum(l))) }

func TestParseTLERefuses(t *testing.T) {
	for _, tc := range []struct {
		name           string
		line1, line2   string
		line           int
		field, because string
	}{
		{"nok, checksum of line 1", vanguard1[:68] + "2", vanguard2, 1, "checksum", "add up to 3"},
		{"nok, checksum of line 2", vanguard1, vanguard2[:68] + "0", 2, "checksum", "add up to 7"},
		{"nok, checksum not a digit", vanguard1[:68] + "x", vanguard2, 1, "checksum", "not a digit"},
		{"nok, line 1 too short", vanguard1[:60], vanguard2, 1, "", "60 characters long"},
		{"nok, line 2 too long", vanguard1, vanguard2 + "  99", 2, "", "73 characters long"},
		{"nok, lines swapped", vanguard2, vanguard1, 1, "", `start with "1 "`},
		{"nok, inclination not a number", vanguard1, withChecksum(strings.Replace(vanguard2, " 34.2682", " 34.2x82", 1)), 2, "inclination", "not a number"},
		{"nok, inclination over 180", vanguard1, withChecksum(strings.Replace(vanguard2, " 34.2682", "194.2682", 1)), 2, "inclination", "outside 0–180"},
		{"nok, eccentricity with a point", vanguard1, withChecksum(strings.Replace(vanguard2, "1859667", ".185966", 1)), 2, "eccentricity", "implied decimal point"},
		{"nok, mean motion zero", vanguard1, withChecksum(strings.Replace(vanguard2, "10.82419157", " 0.00000000", 1)), 2, "mean motion", "more than 0"},
		{"nok, epoch day 0", withChecksum(strings.Replace(vanguard1, "00179.78495062", "00000.78495062", 1)), vanguard2, 1, "epoch day", "outside 1–367"},
		{"nok, epoch day 366 of a common year", withChecksum(strings.Replace(vanguard1, "00179.78495062", "01366.50000000", 1)), vanguard2, 1, "epoch day", "past the end of 2001"},
		{"nok, epoch not a number", withChecksum(strings.Replace(vanguard1, "00179.78495062", "00179.7849506x", 1)), vanguard2, 1, "epoch day", "not a number"},
		{"nok, drag term garbled", withChecksum(strings.Replace(vanguard1, " 28098-4", " 28a98-4", 1)), vanguard2, 1, "drag term (B*)", "±MMMMM±E"},
		{"nok, field run together", withChecksum(strings.Replace(vanguard1, "B   00179", "B  100179", 1)), vanguard2, 1, "", "column 18 must be blank"},
		{"nok, catalogue numbers differ", vanguard1, withChecksum(strings.Replace(vanguard2, "2 00005", "2 00006", 1)), 2, "catalogue number", "differs from line 1's 5"},
		{"nok, tab in the line", withChecksum(strings.Replace(vanguard1, "0  4753", "0\t 4753", 1)), vanguard2, 1, "", "not printable ASCII"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTLE("", tc.line1, tc.line2)
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LineError", err)
			}
			if le.Line != tc.line || le.Field != tc.field || !strings.Contains(le.Error(), tc.because) {
				t.Errorf("got line %d field %q: %q; want line %d field %q saying %q", le.Line, le.Field, le.Error(), tc.line, tc.field, tc.because)
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	text := strings.Join([]string{
		"VANGUARD 1",
		vanguard1,
		vanguard2,
		"",
		vanguard1, // a two-line set
		vanguard2,
		"BROKEN",
		vanguard1[:68] + "0",
		vanguard2,
		"LONELY",
		"ORPHAN LINE",
		vanguard1,
		vanguard2,
		vanguard2,
	}, "\r\n")
	sets, at, errs := ParseFile(text)
	if len(sets) != 3 || sets[0].Name != "VANGUARD 1" || sets[1].Name != "" || sets[2].Name != "ORPHAN LINE" {
		t.Fatalf("got %d sets %+v", len(sets), sets)
	}
	if at[0] != 1 || at[1] != 5 || at[2] != 11 {
		t.Errorf("sets start on lines %v, want 1, 5, 11", at)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		"line 8: line 1, columns 69 (checksum): the line says 0 but its characters add up to 3",
		`line 11: line 1: expected line 1 of the element set named "LONELY"`,
		"line 14: line 2: comes without a line 1 before it",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

package figure

import "testing"

func TestRoundLength(t *testing.T) {
	for _, tc := range []struct {
		name     string
		max      float64
		want     float64
		wantText string
	}{
		{"ok, just under 50 m", 49.9, 20, "20 m"},
		{"ok, exactly 50 m", 50, 50, "50 m"},
		{"ok, 199 m", 199, 100, "100 m"},
		{"ok, 3.3 km", 3300, 2000, "2 km"},
		{"ok, under a metre", 0.7, 0.5, "0.5 m"},
		{"ok, 12 cm", 0.12, 0.1, "0.1 m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RoundLength(tc.max)
			if got != tc.want {
				t.Errorf("RoundLength(%g) = %g, want %g", tc.max, got, tc.want)
			}
			if text := LengthLabel(got); text != tc.wantText {
				t.Errorf("LengthLabel(%g) = %q, want %q", got, text, tc.wantText)
			}
		})
	}
}

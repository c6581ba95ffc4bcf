package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func square(x, y, side float64) [][2]float64 {
	return [][2]float64{{x, y}, {x + side, y}, {x + side, y + side}, {x, y + side}, {x, y}}
}

func TestRingsMeet(t *testing.T) {
	tests := []struct {
		name string
		a, b [][2]float64
		want bool
	}{
		{"apart", square(0, 0, 1), square(2, 0, 1), false},
		{"boxes overlap, rings do not", [][2]float64{{0, 0}, {4, 0}, {0, 4}, {0, 0}}, square(3, 3, 1), false},
		{"crossing sides", square(0, 0, 2), square(1, 1, 2), true},
		{"touching at a corner", square(0, 0, 1), square(1, 1, 1), true},
		{"sharing a side", square(0, 0, 1), square(1, 0, 1), true},
		{"one inside the other", square(0, 0, 10), square(4, 4, 1), true},
		{"the other inside the one", square(4, 4, 1), square(0, 0, 10), true},
		{"a thin sliver through", square(0, 0, 2), [][2]float64{{-1, 0.9}, {3, 0.9}, {3, 1.1}, {-1, 1.1}, {-1, 0.9}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RingsMeet(tt.a, tt.b); got != tt.want {
				t.Fatalf("RingsMeet = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRingsMeetAsGEOSSays compares RingsMeet with GEOS' ST_Intersects (through GDAL's
// SQLite dialect) on random quadrilaterals and triangles.
func TestRingsMeetAsGEOSSays(t *testing.T) {
	if _, err := exec.LookPath("ogrinfo"); err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatal("ogrinfo is not installed (apt-get install -y gdal-bin)")
		}
		t.Skip("ogrinfo is not installed")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	// A star-shaped random ring about a centre: simple by construction.
	randomRing := func() [][2]float64 {
		cx, cy := rng.Float64()*10, rng.Float64()*10
		n := 3 + rng.IntN(4)
		var r [][2]float64
		for i := 0; i < n; i++ {
			a := 2 * math.Pi * (float64(i) + 0.8*rng.Float64()) / float64(n)
			d := 0.5 + 3*rng.Float64()
			r = append(r, [2]float64{math.Round((cx+d*math.Cos(a))*1000) / 1000, math.Round((cy+d*math.Sin(a))*1000) / 1000})
		}
		return append(r, r[0])
	}
	wkt := func(r [][2]float64) string {
		var ps []string
		for _, p := range r {
			ps = append(ps, fmt.Sprintf("%g %g", p[0], p[1]))
		}
		return "POLYGON((" + strings.Join(ps, ",") + "))"
	}
	const n = 200
	var pairs [][2][][2]float64
	var cols []string
	for i := 0; i < n; i++ {
		a, b := randomRing(), randomRing()
		pairs = append(pairs, [2][][2]float64{a, b})
		cols = append(cols, fmt.Sprintf("ST_Intersects(ST_GeomFromText('%s'), ST_GeomFromText('%s')) AS m%d", wkt(a), wkt(b), i))
	}
	empty := filepath.Join(t.TempDir(), "empty.geojson")
	if err := os.WriteFile(empty, []byte(`{"type":"FeatureCollection","features":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ogrinfo", "-q", "-dialect", "SQLite", "-sql", "SELECT "+strings.Join(cols, ", "), empty).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	geos := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		var i, v int
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "m%d (Integer) = %d", &i, &v); err == nil {
			geos[fmt.Sprint(i)] = v == 1
		}
	}
	if len(geos) != n {
		t.Fatalf("read %d answers from ogrinfo, want %d:\n%s", len(geos), n, out)
	}
	meets := 0
	for i, p := range pairs {
		want := geos[fmt.Sprint(i)]
		if want {
			meets++
		}
		if got := RingsMeet(p[0], p[1]); got != want {
			t.Errorf("pair %d: RingsMeet = %v, GEOS says %v\n%s\n%s", i, got, want, wkt(p[0]), wkt(p[1]))
		}
	}
	if meets < n/5 || meets > n*4/5 {
		t.Errorf("%d of %d pairs meet: the cases do not exercise both answers", meets, n)
	}
}

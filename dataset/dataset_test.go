package dataset

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"reflect"
	"testing"

	"github.com/satmark/satmark/annotations"
)

func TestGrid(t *testing.T) {
	tests := []struct {
		name                    string
		w, h, size, overlap     int
		wantChips, wantW, wantH int
		wantLastX, wantLastY    int
	}{
		{"ok, 4000×3000 in 1024 chips overlapping 200", 4000, 3000, 1024, 200, 5 * 4, 1024, 1024, 4000 - 1024, 3000 - 1024},
		{"ok, exactly one chip", 1024, 1024, 1024, 0, 1, 1024, 1024, 0, 0},
		{"ok, image smaller than a chip", 300, 200, 512, 64, 1, 300, 200, 0, 0},
		{"ok, no overlap, not a multiple", 1000, 512, 512, 0, 2, 512, 512, 488, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chips, err := Grid(tt.w, tt.h, tt.size, tt.overlap)
			if err != nil {
				t.Fatal(err)
			}
			if len(chips) != tt.wantChips {
				t.Fatalf("got %d chips, want %d: %v", len(chips), tt.wantChips, chips)
			}
			last := chips[len(chips)-1]
			if last.W != tt.wantW || last.H != tt.wantH || last.X != tt.wantLastX || last.Y != tt.wantLastY {
				t.Errorf("last chip %+v, want at %d,%d size %d×%d", last, tt.wantLastX, tt.wantLastY, tt.wantW, tt.wantH)
			}
			// Every pixel is in a chip, every chip inside the image, neighbours overlap enough.
			covered := make([]bool, tt.w*tt.h)
			for _, c := range chips {
				if c.X < 0 || c.Y < 0 || c.X+c.W > tt.w || c.Y+c.H > tt.h {
					t.Fatalf("chip %+v leaves the %d×%d image", c, tt.w, tt.h)
				}
				for y := c.Y; y < c.Y+c.H; y++ {
					for x := c.X; x < c.X+c.W; x++ {
						covered[y*tt.w+x] = true
					}
				}
			}
			for i, ok := range covered {
				if !ok {
					t.Fatalf("pixel %d,%d is in no chip", i%tt.w, i/tt.w)
				}
			}
			for i := 1; i < len(chips); i++ {
				a, b := chips[i-1], chips[i]
				if a.Y == b.Y && a.X+a.W-b.X < tt.overlap {
					t.Errorf("chips %+v and %+v overlap by %d, want ≥ %d", a, b, a.X+a.W-b.X, tt.overlap)
				}
			}
		})
	}
	for _, bad := range [][4]int{{100, 100, 0, 0}, {100, 100, 64, 64}, {100, 100, 64, -1}, {0, 100, 64, 0}} {
		if _, err := Grid(bad[0], bad[1], bad[2], bad[3]); err == nil {
			t.Errorf("Grid%v: no error", bad)
		}
	}
}

func ann(shape annotations.Shape, g annotations.Geometry) annotations.Annotation {
	return annotations.Annotation{ID: "ann_1", Shape: shape, Geometry: g}
}

func rect(x0, y0, x1, y1 float64) []pt {
	return []pt{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestClip(t *testing.T) {
	chip := Rect{X: 100, Y: 100, W: 100, H: 100}
	t.Run("ok, a rectangle half inside is the half, moved into the chip", func(t *testing.T) {
		p, ok := Clip(ann(annotations.ShapeRectangle, annotations.PolygonGeometry(rect(150, 120, 250, 140))), chip, 0.3)
		if !ok {
			t.Fatal("dropped")
		}
		if math.Abs(p.Visible-0.5) > 1e-9 || !p.Truncated {
			t.Errorf("visible %g truncated %v, want 0.5 true", p.Visible, p.Truncated)
		}
		want := annotations.PolygonGeometry(rect(50, 20, 100, 40))
		if !reflect.DeepEqual(p.Annotation.Geometry, want) {
			t.Errorf("geometry %v, want %v", p.Annotation.Geometry, want)
		}
	})
	t.Run("nok, less visible than the rule", func(t *testing.T) {
		if _, ok := Clip(ann(annotations.ShapeRectangle, annotations.PolygonGeometry(rect(150, 120, 250, 140))), chip, 0.6); ok {
			t.Error("half a rectangle kept under a 60 % rule")
		}
	})
	t.Run("nok, touching the edge only", func(t *testing.T) {
		if _, ok := Clip(ann(annotations.ShapeRectangle, annotations.PolygonGeometry(rect(200, 120, 250, 140))), chip, 0); ok {
			t.Error("a rectangle outside the chip, touching its edge, kept")
		}
	})
	t.Run("ok, a rotated rectangle inside is unchanged", func(t *testing.T) {
		r := []pt{{150, 110}, {190, 150}, {150, 190}, {110, 150}, {150, 110}}
		p, ok := Clip(ann(annotations.ShapeRotatedRectangle, annotations.PolygonGeometry(r)), chip, 0.5)
		if !ok || p.Truncated || p.Visible != 1 || p.Annotation.Shape != annotations.ShapeRotatedRectangle {
			t.Fatalf("%+v %v", p, ok)
		}
		if got := p.Annotation.Geometry.Coordinates[0][0]; got != (pt{50, 10}) {
			t.Errorf("first corner %v, want 50,10", got)
		}
	})
	t.Run("ok, a cut ship box stays a right-angled box inside the chip", func(t *testing.T) {
		// A 30° box, 80 × 20 px, its stern beyond the chip's right edge.
		c, s := math.Cos(math.Pi/6), math.Sin(math.Pi/6)
		cx, cy := 190.0, 150.0
		var r []pt
		for _, d := range [][2]float64{{-40, -10}, {40, -10}, {40, 10}, {-40, 10}, {-40, -10}} {
			r = append(r, pt{cx + d[0]*c - d[1]*s, cy + d[0]*s + d[1]*c})
		}
		p, ok := Clip(ann(annotations.ShapeRotatedRectangle, annotations.PolygonGeometry(r)), chip, 0.3)
		if !ok || !p.Truncated {
			t.Fatalf("%+v %v", p, ok)
		}
		if p.Annotation.Shape == annotations.ShapeRotatedRectangle {
			g := p.Annotation.Geometry.Coordinates[0]
			if len(g) != 5 || !within(g, -0.5, -0.5, 100.5, 100.5) {
				t.Errorf("cut box %v is not 4 corners inside the chip", g)
			}
			for i := 0; i < 4; i++ {
				a, b, c := g[i], g[i+1], g[(i+2)%4]
				dot := (b[0]-a[0])*(c[0]-b[0]) + (b[1]-a[1])*(c[1]-b[1])
				if math.Abs(dot) > 1e-6 {
					t.Errorf("corner %d of %v is not a right angle", i+1, g)
				}
			}
		}
	})
	t.Run("ok, a line across the chip keeps its inside part", func(t *testing.T) {
		p, ok := Clip(ann(annotations.ShapeLine, annotations.LineGeometry([]pt{{50, 150}, {150, 150}, {150, 250}})), chip, 0.2)
		if !ok {
			t.Fatal("dropped")
		}
		want := annotations.LineGeometry([]pt{{0, 50}, {50, 50}, {50, 100}})
		if !reflect.DeepEqual(p.Annotation.Geometry, want) || math.Abs(p.Visible-0.5) > 1e-9 {
			t.Errorf("got %v (visible %g), want %v (0.5)", p.Annotation.Geometry, p.Visible, want)
		}
	})
	t.Run("ok and nok, points", func(t *testing.T) {
		if _, ok := Clip(ann(annotations.ShapePoint, annotations.PointGeometry(pt{100, 199.5})), chip, 1); !ok {
			t.Error("a point inside dropped")
		}
		if _, ok := Clip(ann(annotations.ShapePoint, annotations.PointGeometry(pt{200, 150})), chip, 0); ok {
			t.Error("a point on the chip's far edge kept (it belongs to the next chip)")
		}
	})
}

// TestClipAreasAgreeWithShapely cuts random polygons, concave and with holes, and
// compares each visible share with GEOS's (through Shapely's intersection).
func TestClipAreasAgreeWithShapely(t *testing.T) {
	py := pythonWith(t, "shapely")
	rng := rand.New(rand.NewPCG(1, 2))
	chip := Rect{X: 200, Y: 200, W: 256, H: 256}
	type case_ struct {
		Rings [][]pt  `json:"rings"`
		Share float64 `json:"share"`
	}
	var cases []case_
	for i := 0; i < 300; i++ {
		// A star-shaped ring (concave), sometimes with a square hole, around a random centre.
		cx, cy := 100+rng.Float64()*450, 100+rng.Float64()*450
		n := 5 + rng.IntN(12)
		var ring []pt
		for k := 0; k < n; k++ {
			a := 2 * math.Pi * float64(k) / float64(n)
			r := 40 + rng.Float64()*80
			ring = append(ring, pt{cx + r*math.Cos(a), cy + r*math.Sin(a)})
		}
		ring = append(ring, ring[0])
		rings := [][]pt{ring}
		if i%3 == 0 {
			rings = append(rings, rect(cx-15, cy-15, cx+15, cy+15))
		}
		p, ok := Clip(ann(annotations.ShapePolygon, annotations.PolygonGeometry(rings...)), chip, 0)
		share := 0.0
		if ok {
			share = p.Visible
		}
		cases = append(cases, case_{rings, share})
	}
	in, _ := json.Marshal(map[string]any{"chip": [4]int{chip.X, chip.Y, chip.X + chip.W, chip.Y + chip.H}, "cases": cases})
	cmd := exec.Command(py, "-c", `
import json, sys
from shapely.geometry import Polygon, box
d = json.load(sys.stdin)
chip = box(*d["chip"])
out = []
for c in d["cases"]:
    p = Polygon(c["rings"][0], c["rings"][1:])
    out.append(p.intersection(chip).area / p.area)
json.dump(out, sys.stdout)
`)
	cmd.Stdin = bytes.NewReader(in)
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("shapely: %v", err)
	}
	var want []float64
	if err := json.Unmarshal(got, &want); err != nil {
		t.Fatal(err)
	}
	partial := 0
	for i, c := range cases {
		if math.Abs(c.Share-want[i]) > 1e-9 {
			t.Errorf("case %d: visible share %.12f, GEOS says %.12f", i, c.Share, want[i])
		}
		if want[i] > 0 && want[i] < 1 {
			partial++
		}
	}
	if partial < 50 {
		t.Errorf("only %d of %d random polygons were cut by the chip; the test shows little", partial, len(cases))
	}
}

func TestSplit(t *testing.T) {
	var groups []string
	for i := 0; i < 100; i++ {
		groups = append(groups, "img_"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	shares := Shares{Train: 0.7, Val: 0.2, Test: 0.1}
	a, err := Split(groups, shares, "seed-1")
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, part := range a {
		count[part]++
	}
	if count[Train] != 70 || count[Val] != 20 || count[Test] != 10 {
		t.Errorf("split %v, want 70/20/10", count)
	}
	rev := append([]string(nil), groups...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	b, _ := Split(rev, shares, "seed-1")
	if !reflect.DeepEqual(a, b) {
		t.Error("the split depends on the groups' order")
	}
	c, _ := Split(groups, shares, "seed-2")
	if reflect.DeepEqual(a, c) {
		t.Error("another seed gives the same split")
	}
	// One more group moves at most a couple of the others.
	d, _ := Split(append(groups, "img_new"), shares, "seed-1")
	moved := 0
	for g, part := range a {
		if d[g] != part {
			moved++
		}
	}
	if moved > 3 {
		t.Errorf("adding one group moved %d others", moved)
	}
	for _, bad := range []Shares{{0.5, 0.5, 0.5}, {-0.1, 0.6, 0.5}, {math.NaN(), 0.5, 0.5}} {
		if _, err := Split(groups, bad, ""); err == nil {
			t.Errorf("shares %v: no error", bad)
		}
	}
}

func TestThin(t *testing.T) {
	var empty []string
	for i := 0; i < 50; i++ {
		empty = append(empty, "chip_"+string(rune('A'+i)))
	}
	kept := Thin(empty, 20, 0.25, "s")
	if len(kept) != 5 {
		t.Errorf("kept %d empty chips, want 5 (25 %% of 20)", len(kept))
	}
	if again := Thin(empty, 20, 0.25, "s"); !reflect.DeepEqual(again, kept) {
		t.Error("thinning is not deterministic")
	}
	if got := Thin(empty, 20, 0, "s"); len(got) != 0 {
		t.Errorf("ratio 0 kept %d", len(got))
	}
	if got := Thin(empty, 1000, 1, "s"); len(got) != 50 {
		t.Errorf("a generous ratio kept %d of 50", len(got))
	}
}

// pythonWith returns a Python 3 that imports module: the one on PATH, or Debian's (where
// python3-shapely installs) when that one is another, e.g. pyenv's. Without one the test
// is skipped, unless SATMARK_REQUIRE_ORACLES=1.
func pythonWith(t *testing.T, module string) string {
	t.Helper()
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		if py, err := exec.LookPath(name); err == nil && exec.Command(py, "-c", "import "+module).Run() == nil {
			return py
		}
	}
	if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
		t.Fatalf("no python3 imports %s and SATMARK_REQUIRE_ORACLES=1 (apt-get install python3-%s)", module, module)
	}
	t.Skipf("no python3 imports %s (apt-get install python3-%s)", module, module)
	return ""
}

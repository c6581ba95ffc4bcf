package sampledata

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"image"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

var (
	cachedOnce   sync.Once
	cachedScenes []Scene
	cachedErr    error
)

// scenes generates the scenes once per test binary.
func scenes(t testing.TB) []Scene {
	t.Helper()
	cachedOnce.Do(func() { cachedScenes, cachedErr = Scenes() })
	if cachedErr != nil {
		t.Fatalf("Scenes(): %v", cachedErr)
	}
	if len(cachedScenes) < 2 {
		t.Fatalf("Scenes() returned %d scenes, want at least 2", len(cachedScenes))
	}
	return cachedScenes
}

func sceneByFile(t *testing.T, name string) Scene {
	t.Helper()
	for _, s := range scenes(t) {
		if s.FileName == name {
			return s
		}
	}
	t.Fatalf("no scene named %q", name)
	return Scene{}
}

func decodeScene(t *testing.T, s Scene) image.Image {
	t.Helper()
	img, format, err := image.Decode(bytes.NewReader(s.JPEG))
	if err != nil {
		t.Fatalf("%s: decode: %v", s.FileName, err)
	}
	if format != "jpeg" {
		t.Fatalf("%s: format %q, want jpeg", s.FileName, format)
	}
	return img
}

func TestScenesAreDeterministic(t *testing.T) {
	first := scenes(t)
	second, err := Scenes()
	if err != nil {
		t.Fatalf("second Scenes(): %v", err)
	}
	if len(first) != len(second) {
		t.Fatalf("scene counts differ: %d vs %d", len(first), len(second))
	}
	for i := range first {
		a, b := first[i], second[i]
		t.Run(a.FileName, func(t *testing.T) {
			if sha256.Sum256(a.JPEG) != sha256.Sum256(b.JPEG) {
				t.Errorf("JPEG bytes differ between runs")
			}
			if !reflect.DeepEqual(a.Objects, b.Objects) || a.Provenance != b.Provenance || a.FileName != b.FileName {
				t.Errorf("objects or metadata differ between runs")
			}
		})
	}
}

func TestScenesHaveDistinctFileNames(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range scenes(t) {
		if !strings.HasSuffix(s.FileName, ".jpg") || strings.ContainsAny(s.FileName, `/\ `) {
			t.Errorf("file name %q is not a plain .jpg name", s.FileName)
		}
		if seen[s.FileName] {
			t.Errorf("duplicate file name %q", s.FileName)
		}
		seen[s.FileName] = true
	}
}

func TestJPEGDecodesToDeclaredSizeAndCarriesComment(t *testing.T) {
	for _, s := range scenes(t) {
		t.Run(s.FileName, func(t *testing.T) {
			if s.Width < 4000 || s.Height < 3000 {
				t.Errorf("declared size %dx%d, want at least 4000x3000", s.Width, s.Height)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(s.JPEG))
			if err != nil {
				t.Fatalf("DecodeConfig: %v", err)
			}
			if format != "jpeg" || cfg.Width != s.Width || cfg.Height != s.Height {
				t.Errorf("DecodeConfig = %s %dx%d, want jpeg %dx%d", format, cfg.Width, cfg.Height, s.Width, s.Height)
			}
			img := decodeScene(t, s)
			if b := img.Bounds(); b.Dx() != s.Width || b.Dy() != s.Height {
				t.Errorf("decoded bounds %v, want %dx%d", b, s.Width, s.Height)
			}
			j := s.JPEG
			if len(j) < 6 || j[0] != 0xFF || j[1] != 0xD8 || j[2] != 0xFF || j[3] != 0xFE {
				t.Fatalf("JPEG does not start with SOI followed by a COM marker: % x", j[:min(len(j), 6)])
			}
			n := int(j[4])<<8 | int(j[5])
			if n < 2 || 4+n > len(j) {
				t.Fatalf("COM segment length %d is invalid", n)
			}
			if got := string(j[6 : 4+n]); got != JPEGComment {
				t.Errorf("COM text = %q, want %q", got, JPEGComment)
			}
			for _, want := range []string{"SYNTHETIC IMAGE", "not a real satellite image", "2024-10-18"} {
				if !bytes.Contains(j, []byte(want)) {
					t.Errorf("JPEG does not contain %q", want)
				}
			}
		})
	}
}

func TestProvenanceSaysSynthetic(t *testing.T) {
	for _, s := range scenes(t) {
		p := s.Provenance
		t.Run(s.FileName, func(t *testing.T) {
			for _, f := range []struct{ name, value string }{
				{"Title", p.Title}, {"Publisher", p.Publisher}, {"Credit", p.Credit},
				{"LocationName", p.LocationName}, {"Claim", p.Claim},
			} {
				if !strings.Contains(strings.ToLower(f.value), "synthetic") {
					t.Errorf("%s %q does not say synthetic", f.name, f.value)
				}
			}
			checks := []struct{ name, got, want string }{
				{"ReleasedAt", p.ReleasedAt, "2024-10-18"},
				{"CapturedFrom", p.CapturedFrom, "2024-10-08"},
				{"CapturedTo", p.CapturedTo, "2024-10-13"},
				{"License", p.License, "CC0-1.0"},
				{"Publisher", p.Publisher, "satmark sample data (synthetic)"},
				{"SourceURL", p.SourceURL, ""},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
				}
			}
			if p.PublisherMarkup {
				t.Errorf("PublisherMarkup = true, want false")
			}
			if !strings.Contains(p.Claim, "National Intelligence Service") || p.Notes == "" {
				t.Errorf("Claim must attribute the NIS release and Notes must be set")
			}
		})
	}
}

func TestScenesContainRequiredObjects(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		label string
		min   int
		shape string // "" = any
	}{
		{"port has four landing ships", "synthetic-port-scene.jpg", "vessel/landing ship", 4, shapeRotatedRectangle},
		{"port has two frigates", "synthetic-port-scene.jpg", "vessel/frigate", 2, shapeRotatedRectangle},
		{"port has a cargo ship", "synthetic-port-scene.jpg", "vessel/cargo ship", 1, shapeRotatedRectangle},
		{"port has piers", "synthetic-port-scene.jpg", "facility/pier", 3, ""},
		{"port has the naval base", "synthetic-port-scene.jpg", "facility/naval base", 1, shapePolygon},
		{"base has troop formations", "synthetic-base-scene.jpg", "personnel/troop formation", 2, ""},
		{"base has its perimeter", "synthetic-base-scene.jpg", "facility/military base", 1, shapePolygon},
		{"base has vehicles", "synthetic-base-scene.jpg", "vehicle", 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sceneByFile(t, tc.file)
			n := 0
			for _, o := range s.Objects {
				if o.Label != tc.label {
					continue
				}
				n++
				if tc.shape != "" && o.Shape != tc.shape {
					t.Errorf("%s has shape %q, want %q", o.Label, o.Shape, tc.shape)
				}
			}
			if n < tc.min {
				t.Errorf("%d objects labelled %q, want at least %d", n, tc.label, tc.min)
			}
		})
	}
}

func TestObjectsUseEveryShapeAndConfidence(t *testing.T) {
	shapes, confs := map[string]int{}, map[string]int{}
	total := 0
	for _, s := range scenes(t) {
		for _, o := range s.Objects {
			shapes[o.Shape]++
			confs[o.Confidence]++
			total++
		}
	}
	if total < 8 {
		t.Errorf("%d objects in total, want at least 8", total)
	}
	for _, sh := range []string{shapePoint, shapeLine, shapePolygon, shapeRectangle, shapeRotatedRectangle} {
		if shapes[sh] == 0 {
			t.Errorf("no object has shape %q", sh)
		}
	}
	for _, c := range []string{confidenceConfirmed, confidenceProbable, confidencePossible} {
		if confs[c] == 0 {
			t.Errorf("no object has confidence %q", c)
		}
	}
}

// checkObject applies the coordinate rules independently of validateScene.
func checkObject(t *testing.T, o Object, w, h int) {
	t.Helper()
	taxonomy := map[string]bool{}
	for _, l := range []string{"vessel", "vessel/landing ship", "vessel/frigate", "vessel/cargo ship", "facility",
		"facility/naval base", "facility/military base", "facility/pier", "personnel",
		"personnel/troop formation", "vehicle", "aircraft"} {
		taxonomy[l] = true
	}
	if !taxonomy[o.Label] {
		t.Errorf("label %q is not in the taxonomy", o.Label)
	}
	if o.Confidence != "confirmed" && o.Confidence != "probable" && o.Confidence != "possible" {
		t.Errorf("confidence %q is not valid", o.Confidence)
	}
	c := o.Coordinates
	for _, p := range c {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
			t.Fatalf("non-finite coordinate %v", p)
		}
		if p[0] < 0 || p[0] > float64(w) || p[1] < 0 || p[1] > float64(h) {
			t.Errorf("coordinate %v outside 0..%d x 0..%d", p, w, h)
		}
	}
	closed := len(c) > 0 && c[0] == c[len(c)-1]
	switch o.Shape {
	case "point":
		if len(c) != 1 {
			t.Errorf("point has %d positions, want 1", len(c))
		}
	case "line":
		if len(c) < 2 {
			t.Errorf("line has %d positions, want at least 2", len(c))
		}
	case "polygon":
		if len(c) < 4 || !closed {
			t.Errorf("polygon ring has %d positions, closed=%v; want >= 4 and closed", len(c), closed)
		}
	case "rectangle":
		if len(c) != 5 || !closed {
			t.Fatalf("rectangle has %d positions, closed=%v; want 5 and closed", len(c), closed)
		}
		for i := 0; i < 4; i++ {
			if c[i][0] != c[i+1][0] && c[i][1] != c[i+1][1] {
				t.Errorf("rectangle side %d is not axis aligned: %v -> %v", i, c[i], c[i+1])
			}
		}
		if c[0][0] == c[2][0] || c[0][1] == c[2][1] {
			t.Errorf("rectangle is degenerate: %v", c)
		}
	case "rotated_rectangle":
		if len(c) != 5 || !closed {
			t.Fatalf("rotated rectangle has %d positions, closed=%v; want 5 and closed", len(c), closed)
		}
		for i := 0; i < 4; i++ {
			a, b, d := c[i], c[i+1], c[(i+2)%4]
			ux, uy := b[0]-a[0], b[1]-a[1]
			vx, vy := d[0]-b[0], d[1]-b[1]
			lu, lv := math.Hypot(ux, uy), math.Hypot(vx, vy)
			if lu == 0 || lv == 0 {
				t.Fatalf("rotated rectangle has a zero-length side")
			}
			if dot := math.Abs(ux*vx + uy*vy); dot > 1e-9*lu*lv {
				t.Errorf("corner %d is not a right angle (|dot|/(|u||v|) = %g)", i+1, dot/(lu*lv))
			}
			if ux == 0 || uy == 0 {
				t.Errorf("side %d is axis aligned; a rotated rectangle should be rotated", i)
			}
		}
	default:
		t.Errorf("unknown shape %q", o.Shape)
	}
}

func TestObjectsFollowCoordinateRules(t *testing.T) {
	for _, s := range scenes(t) {
		t.Run(s.FileName, func(t *testing.T) {
			if err := validateScene(s); err != nil {
				t.Errorf("validateScene: %v", err)
			}
			for _, o := range s.Objects {
				t.Run(o.Label, func(t *testing.T) { checkObject(t, o, s.Width, s.Height) })
			}
		})
	}
}

func TestObjectLabelsAreInSeedTaxonomy(t *testing.T) {
	seeded := map[string]bool{}
	for _, l := range Taxonomy {
		seeded[l.Path] = true
	}
	for _, l := range sceneLabels {
		if !seeded[l] {
			t.Errorf("generator label %q is missing from Taxonomy", l)
		}
	}
	for _, s := range scenes(t) {
		for _, o := range s.Objects {
			if !seeded[o.Label] {
				t.Errorf("%s: object label %q is not in Taxonomy", s.FileName, o.Label)
			}
		}
	}
}

func TestValidateSceneRejectsBrokenObjects(t *testing.T) {
	good := [][2]float64{{10, 10}, {20, 10}, {20, 20}, {10, 20}, {10, 10}}
	tests := []struct {
		name string
		obj  Object
	}{
		{"unknown label", Object{Label: "ship", Shape: shapePoint, Coordinates: [][2]float64{{1, 1}}, Confidence: confidenceConfirmed}},
		{"unknown confidence", Object{Label: "vessel", Shape: shapePoint, Coordinates: [][2]float64{{1, 1}}, Confidence: "likely"}},
		{"point out of bounds", Object{Label: "vessel", Shape: shapePoint, Coordinates: [][2]float64{{101, 1}}, Confidence: confidencePossible}},
		{"point not finite", Object{Label: "vessel", Shape: shapePoint, Coordinates: [][2]float64{{math.NaN(), 1}}, Confidence: confidencePossible}},
		{"line of one position", Object{Label: "vehicle", Shape: shapeLine, Coordinates: [][2]float64{{1, 1}}, Confidence: confidencePossible}},
		{"open polygon", Object{Label: "facility", Shape: shapePolygon, Coordinates: good[:4], Confidence: confidencePossible}},
		{"skewed rectangle", Object{Label: "facility", Shape: shapeRectangle, Coordinates: [][2]float64{{10, 10}, {20, 12}, {20, 20}, {10, 20}, {10, 10}}, Confidence: confidencePossible}},
		{"rotated rectangle without right angles", Object{Label: "vessel", Shape: shapeRotatedRectangle, Coordinates: [][2]float64{{10, 10}, {30, 15}, {28, 25}, {10, 20}, {10, 10}}, Confidence: confidencePossible}},
		{"unknown shape", Object{Label: "vessel", Shape: "circle", Coordinates: good, Confidence: confidencePossible}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Scene{Width: 100, Height: 100, Objects: []Object{tc.obj}}
			if err := validateScene(s); err == nil {
				t.Errorf("validateScene accepted %+v", tc.obj)
			}
		})
	}
	ok := Scene{Width: 100, Height: 100, Objects: []Object{{Label: "facility", Shape: shapeRectangle, Coordinates: good, Confidence: confidenceConfirmed}}}
	if err := validateScene(ok); err != nil {
		t.Errorf("validateScene rejected a valid rectangle: %v", err)
	}
}

// meanColour averages the pixels at the given positions (pixel centres are
// sampled by truncating the continuous coordinates).
func meanColour(t *testing.T, img image.Image, pts [][2]float64) [3]float64 {
	t.Helper()
	var sum [3]float64
	if len(pts) == 0 {
		t.Fatalf("no sample points")
	}
	for _, p := range pts {
		r, g, b, _ := img.At(int(p[0]), int(p[1])).RGBA()
		sum[0] += float64(r >> 8)
		sum[1] += float64(g >> 8)
		sum[2] += float64(b >> 8)
	}
	n := float64(len(pts))
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

func luma(c [3]float64) float64 { return 0.299*c[0] + 0.587*c[1] + 0.114*c[2] }

func colourDistance(a, b [3]float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

// boxFrame describes a rotated rectangle ring by its first corner, unit side
// directions and side lengths.
type boxFrame struct {
	o, u, v [2]float64
	lu, lv  float64
}

func newBoxFrame(c [][2]float64) boxFrame {
	u := [2]float64{c[1][0] - c[0][0], c[1][1] - c[0][1]}
	v := [2]float64{c[3][0] - c[0][0], c[3][1] - c[0][1]}
	lu, lv := math.Hypot(u[0], u[1]), math.Hypot(v[0], v[1])
	return boxFrame{c[0], [2]float64{u[0] / lu, u[1] / lu}, [2]float64{v[0] / lv, v[1] / lv}, lu, lv}
}

// at is the point a pixels along u and b pixels along v from the first corner.
func (f boxFrame) at(a, b float64) [2]float64 {
	return [2]float64{f.o[0] + a*f.u[0] + b*f.v[0], f.o[1] + a*f.u[1] + b*f.v[1]}
}

func TestShipBoxesSitOnDrawnHulls(t *testing.T) {
	s := sceneByFile(t, "synthetic-port-scene.jpg")
	checkShipBoxesOnHulls(t, decodeScene(t, s), s.Objects)
}

// checkShipBoxesOnHulls checks that every rotated rectangle lies on something much
// brighter than the water around it (in 8-bit display values).
func checkShipBoxesOnHulls(t *testing.T, img image.Image, objects []Object) {
	t.Helper()
	for i, o := range objects {
		if o.Shape != shapeRotatedRectangle {
			continue
		}
		t.Run(o.Label, func(t *testing.T) {
			f := newBoxFrame(o.Coordinates)
			var inside [][2]float64
			for a := 0.15; a <= 0.85; a += 0.05 {
				for b := 0.25; b <= 0.75; b += 0.125 {
					inside = append(inside, f.at(a*f.lu, b*f.lv))
				}
			}
			// four patches 9-14 px outside the box: both long sides and both ends
			patches := make([][][2]float64, 4)
			for d := 9.0; d <= 14; d++ {
				for a := 0.2; a <= 0.8; a += 0.1 {
					patches[0] = append(patches[0], f.at(a*f.lu, -d))
					patches[1] = append(patches[1], f.at(a*f.lu, f.lv+d))
				}
				for b := 0.3; b <= 0.7; b += 0.2 {
					patches[2] = append(patches[2], f.at(-d, b*f.lv))
					patches[3] = append(patches[3], f.at(f.lu+d, b*f.lv))
				}
			}
			hull := meanColour(t, img, inside)
			water := [3]float64{255, 255, 255}
			for _, p := range patches {
				if m := meanColour(t, img, p); luma(m) < luma(water) {
					water = m
				}
			}
			t.Logf("object %d: hull luma %.1f, water luma %.1f, distance %.1f", i, luma(hull), luma(water), colourDistance(hull, water))
			if d := colourDistance(hull, water); d < 50 || luma(hull) < luma(water)+40 {
				t.Errorf("object %d: hull mean %v vs surrounding water %v (distance %.1f): box does not sit on a drawn hull", i, hull, water, d)
			}
		})
	}
}

func TestGroupBoxesSitOnDrawnGroups(t *testing.T) {
	s := sceneByFile(t, "synthetic-base-scene.jpg")
	img := decodeScene(t, s)
	tests := []struct {
		label   string
		minDark float64 // the box interior must be this much darker than a ring just outside it
	}{
		{"personnel/troop formation", 20},
		{"vehicle", 8},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			n := 0
			for _, o := range s.Objects {
				if o.Label != tc.label || o.Shape != shapeRectangle {
					continue
				}
				n++
				x0, y0, x1, y1 := o.Coordinates[0][0], o.Coordinates[0][1], o.Coordinates[2][0], o.Coordinates[2][1]
				var inside, ring [][2]float64
				for y := y0 + 0.5; y < y1; y++ {
					for x := x0 + 0.5; x < x1; x++ {
						inside = append(inside, [2]float64{x, y})
					}
				}
				for d := 5.0; d <= 8; d++ {
					for x := x0; x <= x1; x++ {
						ring = append(ring, [2]float64{x, y0 - d}, [2]float64{x, y1 + d})
					}
					for y := y0; y <= y1; y++ {
						ring = append(ring, [2]float64{x0 - d, y}, [2]float64{x1 + d, y})
					}
				}
				in, out := luma(meanColour(t, img, inside)), luma(meanColour(t, img, ring))
				t.Logf("%s at %v: interior luma %.1f, surroundings %.1f", o.Label, o.Coordinates[0], in, out)
				if out-in < tc.minDark {
					t.Errorf("%s at %v: interior luma %.1f, surroundings %.1f; want at least %.0f darker", o.Label, o.Coordinates[0], in, out, tc.minDark)
				}
			}
			if n == 0 {
				t.Errorf("no rectangle objects labelled %q", tc.label)
			}
		})
	}
}

// TestWriteScenesForInspection writes the scenes and their objects to
// $SAMPLEDATA_OUT for a human to look at; it is skipped otherwise.
func TestWriteScenesForInspection(t *testing.T) {
	dir := os.Getenv("SAMPLEDATA_OUT")
	if dir == "" {
		t.Skip("set SAMPLEDATA_OUT to write the scenes")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range append(scenes(t), geoTIFFScene(t)) {
		j, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, s.FileName), s.File(), 0o644); err != nil {
			t.Fatal(err)
		}
		var meta map[string]any
		_ = json.Unmarshal(j, &meta)
		delete(meta, "JPEG")
		delete(meta, "GeoTIFF")
		j, _ = json.MarshalIndent(meta, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, s.FileName+".json"), j, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkPortScene(b *testing.B) {
	for b.Loop() {
		if _, err := portScene(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBaseScene(b *testing.B) {
	for b.Loop() {
		if _, err := baseScene(); err != nil {
			b.Fatal(err)
		}
	}
}

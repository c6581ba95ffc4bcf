package geo

import (
	"errors"
	"math"
	"testing"
)

// northUpFit is an affine fit placing a 4000×3000 image at about 1 m/px near
// Vladivostok, north up, through its four corners.
func northUpFit(t *testing.T) *Fit {
	t.Helper()
	gt := GeoTransform{131.88, 1.2285e-5, 0, 43.12, 0, -9.0013e-6}
	var pts []ControlPoint
	for _, p := range [][2]float64{{0, 0}, {4000, 0}, {4000, 3000}, {0, 3000}} {
		pts = append(pts, ControlPoint{Pixel: p, LonLat: [2]float64{gt[0] + p[0]*gt[1] + p[1]*gt[2], gt[3] + p[0]*gt[4] + p[1]*gt[5]}})
	}
	fit, err := FitControlPoints(Affine, pts)
	if err != nil {
		t.Fatal(err)
	}
	return fit
}

// curvedFit is a second-order polynomial fit to a synthetic warp that bends
// the image's edges by up to 110 m (about 110 px) on the ground.
func curvedFit(t *testing.T) *Fit {
	t.Helper()
	warp := func(x, y float64) [2]float64 {
		u, v := (x-2000)/2000, (y-1500)/1500
		return [2]float64{131.9 + 0.0246*u + 0.001*u*u, 43.1 - 0.0135*v + 0.001*u*v + 0.0004*u*u}
	}
	var pts []ControlPoint
	for _, p := range [][2]float64{{0, 0}, {2000, 0}, {4000, 0}, {4000, 1500}, {4000, 3000}, {2000, 3000}, {0, 3000}, {0, 1500}, {1000, 1000}, {3000, 2000}} {
		pts = append(pts, ControlPoint{Pixel: p, LonLat: warp(p[0], p[1])})
	}
	fit, err := FitControlPoints(Polynomial2, pts)
	if err != nil {
		t.Fatal(err)
	}
	return fit
}

func forwardAll(t *testing.T, tr Transformer, pts [][2]float64) [][2]float64 {
	t.Helper()
	out := make([][2]float64, len(pts))
	for i, p := range pts {
		lon, lat, err := tr.Forward(p[0], p[1])
		if err != nil {
			t.Fatalf("Forward(%v): %v", p, err)
		}
		out[i] = [2]float64{lon, lat}
	}
	return out
}

// sampled returns the closed pixel ring with each edge cut into n pieces.
func sampled(ring [][2]float64, n int) [][2]float64 {
	var out [][2]float64
	for i := range ring {
		a, b := ring[i], ring[(i+1)%len(ring)]
		for k := 0; k < n; k++ {
			s := float64(k) / float64(n)
			out = append(out, [2]float64{a[0] + s*(b[0]-a[0]), a[1] + s*(b[1]-a[1])})
		}
	}
	return out
}

func TestMeasureLineLengthAffine(t *testing.T) {
	fit := northUpFit(t)
	tests := []struct {
		name string
		line [][2]float64
		want float64 // metres, roughly
	}{
		{"ok, 100 px east-west", [][2]float64{{1000, 1500}, {1100, 1500}}, 100},
		{"ok, 100 px north-south", [][2]float64{{1000, 1500}, {1000, 1400}}, 100},
		{"ok, a ship's length, oblique", [][2]float64{{2000, 2000}, {2120, 2090}}, 150},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LineLength(fit, tt.line)
			if err != nil {
				t.Fatal(err)
			}
			ends := forwardAll(t, fit, tt.line)
			want, _, _ := Inverse(ends[0][0], ends[0][1], ends[1][0], ends[1][1])
			if got != want {
				t.Errorf("LineLength = %.9f m; want %.9f m, the geodesic between the transformed ends", got, want)
			}
			if math.Abs(got/tt.want-1) > 0.001 {
				t.Errorf("LineLength = %.4f m; want about %g m at 1 m/px", got, tt.want)
			}
		})
	}
	got, err := LineLength(fit, [][2]float64{{0, 0}, {100, 0}, {100, 100}})
	if err != nil || math.Abs(got-200) > 0.2 {
		t.Errorf("LineLength of a 2-segment polyline = %g, %v; want about 200 m", got, err)
	}
}

func TestMeasurePolygonAreaAffine(t *testing.T) {
	fit := northUpFit(t)
	square := [][2]float64{{1000, 1000}, {2000, 1000}, {2000, 2000}, {1000, 2000}}
	hole := [][2]float64{{1400, 1400}, {1400, 1600}, {1600, 1600}, {1600, 1400}, {1400, 1400}}
	wantSquare, wantPerimeter := Area(forwardAll(t, fit, square))
	wantHole, holePerimeter := Area(forwardAll(t, fit, hole))

	m2, perimeter, err := PolygonArea(fit, [][][2]float64{square})
	if err != nil {
		t.Fatal(err)
	}
	if m2 != wantSquare || perimeter != wantPerimeter {
		t.Errorf("PolygonArea = %.6f m², %.6f m; want %.6f m², %.6f m (Area of the transformed corners)", m2, perimeter, wantSquare, wantPerimeter)
	}
	if math.Abs(m2/1e6-1) > 0.002 {
		t.Errorf("PolygonArea = %.1f m²; want about 1e6 m² at 1 m/px", m2)
	}
	m2, perimeter, err = PolygonArea(fit, [][][2]float64{square, hole})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m2-(wantSquare-wantHole)) > 1e-6 || math.Abs(perimeter-(wantPerimeter+holePerimeter)) > 1e-9 {
		t.Errorf("with a hole: %.6f m², %.6f m; want %.6f m², %.6f m", m2, perimeter, wantSquare-wantHole, wantPerimeter+holePerimeter)
	}
}

func TestMeasureAzimuth(t *testing.T) {
	fit := northUpFit(t)
	tests := []struct {
		name      string
		a, b      [2]float64
		want, tol float64
	}{
		{"ok, up the image is north", [2]float64{2000, 2000}, [2]float64{2000, 1000}, 0, 1e-9},
		{"ok, down the image is south", [2]float64{2000, 1000}, [2]float64{2000, 2000}, 180, 1e-9},
		// A geodesic leaving eastwards along a parallel heads slightly
		// poleward: by half the meridians' convergence, 0.004° over 1 km here.
		{"ok, right is east", [2]float64{2000, 1500}, [2]float64{3000, 1500}, 90, 0.01},
		{"ok, left is west", [2]float64{2000, 1500}, [2]float64{1000, 1500}, 270, 0.01},
		{"ok, up and right is north-east", [2]float64{2000, 1500}, [2]float64{2100, 1400}, 45, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Azimuth(fit, tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got < 0 || got >= 360 || angleDiff(got, tt.want) > tt.tol {
				t.Errorf("Azimuth = %.9f°; want %g° ± %g", got, tt.want, tt.tol)
			}
		})
	}
}

// TestMeasureDensifyPolynomial2 checks a curved fit's densified edge against
// the edge sampled every 4 px: every sample's place lies within the tolerance
// (measured in pixels) of the densified lon/lat path, and lengths and areas
// measured along it agree with the finely sampled ones.
func TestMeasureDensifyPolynomial2(t *testing.T) {
	fit := curvedFit(t)
	const tol = 0.1
	edge := [][2]float64{{0, 0}, {4000, 0}}
	path, err := Densify(fit, edge, tol)
	if err != nil {
		t.Fatal(err)
	}
	if len(path) < 10 || path[0] != edge[0] || path[len(path)-1] != edge[1] {
		t.Fatalf("Densify gave %d vertices from %v to %v; want many, from %v to %v", len(path), path[0], path[len(path)-1], edge[0], edge[1])
	}
	lonlat := forwardAll(t, fit, path)
	var worst float64
	for x := 0.0; x <= 4000; x += 4 {
		i := 0
		for i < len(path)-2 && path[i+1][0] < x {
			i++
		}
		lon, lat, _ := fit.Forward(x, 0)
		j, err := lonLatJacobian(fit, x, 0, 1)
		if err != nil {
			t.Fatal(err)
		}
		// Distance in pixels from the sample to the chord path[i]–path[i+1].
		ox, oy, _ := j.pixelOffset(lon-lonlat[i][0], lat-lonlat[i][1])
		cx, cy, _ := j.pixelOffset(lonlat[i+1][0]-lonlat[i][0], lonlat[i+1][1]-lonlat[i][1])
		worst = math.Max(worst, math.Abs(ox*cy-oy*cx)/math.Hypot(cx, cy))
	}
	if worst > tol {
		t.Errorf("the densified path strays %.3f px from the curved edge; want at most %g px", worst, tol)
	}

	fine := [][2]float64{edge[0]}
	for x := 1.0; x <= 4000; x++ {
		fine = append(fine, [2]float64{x, 0})
	}
	wantLength := 0.0
	fineLonLat := forwardAll(t, fit, fine)
	for i := 1; i < len(fineLonLat); i++ {
		s, _, _ := Inverse(fineLonLat[i-1][0], fineLonLat[i-1][1], fineLonLat[i][0], fineLonLat[i][1])
		wantLength += s
	}
	length, err := LineLength(fit, edge)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(length/wantLength-1) > 1e-6 {
		t.Errorf("LineLength = %.4f m; want %.4f m (sampled every pixel)", length, wantLength)
	}

	ring := [][2]float64{{0, 0}, {4000, 0}, {4000, 3000}, {0, 3000}}
	wantArea, _ := Area(forwardAll(t, fit, sampled(ring, 2000)))
	area, _, err := PolygonArea(fit, [][][2]float64{ring})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(area/wantArea-1) > 1e-5 {
		t.Errorf("PolygonArea = %.1f m²; want %.1f m² (edges sampled every 2 px)", area, wantArea)
	}
	naive, _ := Area(forwardAll(t, fit, ring))
	if math.Abs(naive/wantArea-1) < 1e-3 {
		t.Errorf("the corners alone give %.1f m², within 0.1%% of %.1f m²: the warp is too gentle to test densifying", naive, wantArea)
	}
	t.Logf("edge: %d vertices, strays %.3f px; length off by %.2g; area off by %.2g (%.2g with the corners alone)",
		len(path), worst, length/wantLength-1, area/wantArea-1, naive/wantArea-1)
}

func TestMeasureDensifyStraightEdges(t *testing.T) {
	edge := [][2]float64{{0, 0}, {4000, 3000}, {0, 3000}}
	path, err := Densify(northUpFit(t), edge, 0.1)
	if err != nil || len(path) != 3 {
		t.Errorf("affine: Densify = %d vertices, %v; want the 3 given", len(path), err)
	}
	// A projective transform keeps lines straight: nothing to add, although
	// equal steps in pixels are not equal steps on the ground.
	var pts []ControlPoint
	for _, p := range [][2]float64{{100, 200}, {3900, 150}, {3800, 2900}, {200, 2800}, {2000, 1500}} {
		lon, lat := obliqueLonLat(p[0], p[1])
		pts = append(pts, ControlPoint{Pixel: p, LonLat: [2]float64{lon, lat}})
	}
	projective, err := FitControlPoints(Projective, pts)
	if err != nil {
		t.Fatal(err)
	}
	path, err = Densify(projective, edge, 0.1)
	if err != nil || len(path) != 3 {
		t.Errorf("projective: Densify = %d vertices, %v; want the 3 given", len(path), err)
	}
}

// TestMeasureAcrossAntimeridian measures a square that straddles the
// antimeridian in the taveuni7 image (2 m/px).
func TestMeasureAcrossAntimeridian(t *testing.T) {
	v := readGDALVectors(t, "testdata/fit-taveuni7.txt")
	fit, err := FitControlPoints(Affine, v.gcps)
	if err != nil {
		t.Fatal(err)
	}
	square := [][2]float64{{7000, 0}, {9000, 0}, {9000, 2000}, {7000, 2000}}
	lonlat := forwardAll(t, fit, square)
	if lonlat[0][0] < 0 || lonlat[1][0] > 0 {
		t.Fatalf("corners at %v; want the square to straddle the antimeridian", lonlat)
	}
	m2, perimeter, err := PolygonArea(fit, [][][2]float64{square})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(m2/16e6-1) > 0.01 || math.Abs(perimeter/16e3-1) > 0.01 {
		t.Errorf("PolygonArea = %.0f m², %.0f m; want about 16e6 m², 16e3 m (2000 px squares at 2 m/px)", m2, perimeter)
	}
	length, err := LineLength(fit, square[:2])
	if err != nil || math.Abs(length/4000-1) > 0.01 {
		t.Errorf("LineLength across the antimeridian = %.1f m, %v; want about 4000 m", length, err)
	}
}

func TestMeasureBadInput(t *testing.T) {
	fit := northUpFit(t)
	var pts []ControlPoint
	for _, p := range [][2]float64{{100, 200}, {3900, 150}, {3800, 2900}, {200, 2800}} {
		lon, lat := obliqueLonLat(p[0], p[1])
		pts = append(pts, ControlPoint{Pixel: p, LonLat: [2]float64{lon, lat}})
	}
	projective, err := FitControlPoints(Projective, pts)
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"nok, line with one point", func() error { _, err := LineLength(fit, [][2]float64{{1, 2}}); return err }, ErrInvalid},
		{"nok, line through NaN", func() error { _, err := LineLength(fit, [][2]float64{{1, 2}, {nan, 3}}); return err }, ErrInvalid},
		{"nok, polygon without rings", func() error { _, _, err := PolygonArea(fit, nil); return err }, ErrInvalid},
		{"nok, ring of two points", func() error {
			_, _, err := PolygonArea(fit, [][][2]float64{{{0, 0}, {10, 0}, {0, 0}}})
			return err
		}, ErrInvalid},
		{"nok, hole of two points", func() error {
			_, _, err := PolygonArea(fit, [][][2]float64{{{0, 0}, {10, 0}, {10, 10}}, {{1, 1}, {2, 2}}})
			return err
		}, ErrInvalid},
		{"nok, azimuth of one pixel", func() error { _, err := Azimuth(fit, [2]float64{5, 5}, [2]float64{5, 5}); return err }, ErrInvalid},
		{"nok, azimuth from NaN", func() error { _, err := Azimuth(fit, [2]float64{nan, 5}, [2]float64{5, 5}); return err }, ErrInvalid},
		{"nok, densify with tolerance 0", func() error { _, err := Densify(fit, [][2]float64{{0, 0}, {1, 1}}, 0); return err }, ErrInvalid},
		{"nok, densify with tolerance NaN", func() error { _, err := Densify(fit, [][2]float64{{0, 0}, {1, 1}}, nan); return err }, ErrInvalid},
		{"nok, line beyond the horizon", func() error {
			_, err := LineLength(projective, [][2]float64{{2000, 500}, {2000, -1500}})
			return err
		}, ErrOutOfRange},
		{"nok, polygon beyond the horizon", func() error {
			_, _, err := PolygonArea(projective, [][][2]float64{{{0, 0}, {100, -1200}, {200, 0}}})
			return err
		}, ErrOutOfRange},
		{"nok, azimuth to beyond the horizon", func() error {
			_, err := Azimuth(projective, [2]float64{0, 0}, [2]float64{0, -1000})
			return err
		}, ErrOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, tt.want) {
				t.Errorf("err = %v; want %v", err, tt.want)
			}
		})
	}
}

package geo

import (
	"bufio"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// gdalVectors is one fit-*.txt file: a set of control points and
// gdaltransform's results for each transform (see testdata/make-fit-vectors.sh).
type gdalVectors struct {
	gcps    []ControlPoint
	forward map[TransformKind][][4]float64 // pixel, line, lon, lat
	inverse map[TransformKind][][4]float64 // lon, lat, pixel, line
}

func readGDALVectors(t *testing.T, path string) gdalVectors {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := gdalVectors{forward: map[TransformKind][][4]float64{}, inverse: map[TransformKind][][4]float64{}}
	s := bufio.NewScanner(f)
	for line := 1; s.Scan(); line++ {
		fields := strings.Fields(s.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		nums := func(strs []string) [4]float64 {
			var out [4]float64
			if len(strs) != 4 {
				t.Fatalf("%s:%d: want 4 numbers, got %q", path, line, strs)
			}
			for i, str := range strs {
				n, err := strconv.ParseFloat(str, 64)
				if err != nil {
					t.Fatalf("%s:%d: %v", path, line, err)
				}
				out[i] = n
			}
			return out
		}
		switch fields[0] {
		case "gcp":
			n := nums(fields[1:])
			v.gcps = append(v.gcps, ControlPoint{Pixel: [2]float64{n[0], n[1]}, LonLat: [2]float64{n[2], n[3]}})
		case "forward":
			k := TransformKind(fields[1])
			v.forward[k] = append(v.forward[k], nums(fields[2:]))
		case "inverse":
			k := TransformKind(fields[1])
			v.inverse[k] = append(v.inverse[k], nums(fields[2:]))
		default:
			t.Fatalf("%s:%d: unknown record %q", path, line, fields[0])
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestFitMatchesGDAL(t *testing.T) {
	files, err := filepath.Glob("testdata/fit-*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	const (
		degreeTolerance = 1e-9
		pixelTolerance  = 1e-6
	)
	for _, file := range files {
		v := readGDALVectors(t, file)
		for _, kind := range []TransformKind{Affine, Polynomial2, TPS} {
			if len(v.forward[kind]) == 0 {
				continue
			}
			name := strings.TrimSuffix(filepath.Base(file), ".txt") + "/" + string(kind)
			t.Run(name, func(t *testing.T) {
				fit, err := FitControlPoints(kind, v.gcps)
				if err != nil {
					t.Fatalf("FitControlPoints: %v", err)
				}
				var worstDeg, worstPx float64
				for _, c := range v.forward[kind] {
					lon, lat, err := fit.Forward(c[0], c[1])
					if err != nil {
						t.Errorf("Forward(%g, %g): %v", c[0], c[1], err)
						continue
					}
					d := math.Max(math.Abs(math.Remainder(lon-c[2], 360)), math.Abs(lat-c[3]))
					worstDeg = math.Max(worstDeg, d)
					if d > degreeTolerance {
						t.Errorf("Forward(%g, %g) = %.12f, %.12f; want %.12f, %.12f (gdaltransform)", c[0], c[1], lon, lat, c[2], c[3])
					}
				}
				for _, c := range v.inverse[kind] {
					x, y, err := fit.Inverse(c[0], c[1])
					if err != nil {
						t.Errorf("Inverse(%g, %g): %v", c[0], c[1], err)
						continue
					}
					d := math.Max(math.Abs(x-c[2]), math.Abs(y-c[3]))
					worstPx = math.Max(worstPx, d)
					if d > pixelTolerance {
						t.Errorf("Inverse(%g, %g) = %.9f, %.9f; want %.9f, %.9f (gdaltransform -i)", c[0], c[1], x, y, c[2], c[3])
					}
				}
				t.Logf("%d forward, %d inverse; worst differences %.2g° and %.2g px", len(v.forward[kind]), len(v.inverse[kind]), worstDeg, worstPx)
			})
		}
	}
}

// vladivostok6 are the control points of standards.md §3.5.
var vladivostok6 = []ControlPoint{
	{Pixel: [2]float64{200, 150}, LonLat: [2]float64{131.85517, 43.13683}},
	{Pixel: [2]float64{3800, 250}, LonLat: [2]float64{131.94524, 43.13198}},
	{Pixel: [2]float64{3900, 2850}, LonLat: [2]float64{131.95036, 43.07989}},
	{Pixel: [2]float64{150, 2750}, LonLat: [2]float64{131.85648, 43.08487}},
	{Pixel: [2]float64{2000, 1500}, LonLat: [2]float64{131.90151, 43.10838}},
	{Pixel: [2]float64{1200, 2100}, LonLat: [2]float64{131.88210, 43.09705}},
}

func roundTo(v float64, decimals int) float64 {
	p := math.Pow(10, float64(decimals))
	return math.Round(v*p) / p
}

// utm52 are, for each control point of vladivostok6, PROJ's view of its §3.5
// affine residual in UTM zone 52N (EPSG:32652): the easting and northing
// differences between the fitted position and the control point, by
// cs2cs -f %.6f EPSG:4326 EPSG:32652, and the scale factor and meridian
// convergence (degrees) there, by proj -V +proj=utm +zone=52 +datum=WGS84
// (testdata/README.md).
var utm52 = []struct{ dE, dN, k, convergence float64 }{
	{-1.07695, 0.07511, 1.00026337, 1.95307247},
	{1.43578, -0.80281, 1.00030600, 2.01456032},
	{-1.03251, 0.09768, 1.00030967, 2.01610816},
	{1.37644, -0.06496, 1.00026511, 1.95207890},
	{-0.72463, 2.28867, 1.00028572, 1.98374898},
	{0.02187, -1.59370, 1.00027683, 1.97005038},
}

// toUTM52Grid turns a residual in metres east and north on the ellipsoid into
// UTM 52N grid metres at control point i.
func toUTM52Grid(i int, east, north float64) (gridE, gridN float64) {
	g := utm52[i].convergence * math.Pi / 180
	k := utm52[i].k
	return k * (east*math.Cos(g) - north*math.Sin(g)), k * (east*math.Sin(g) + north*math.Cos(g))
}

// TestFitResidualsStandards checks the residual table of standards.md §3.5,
// to the decimals it gives. Its dE and dN are UTM zone 52N grid components,
// turned by the meridian convergence (about 2°) from true east and north, so
// the test turns the residuals into the grid first.
func TestFitResidualsStandards(t *testing.T) {
	fit, err := FitControlPoints(Affine, vladivostok6)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		lon, lat            float64 // fitted
		gridE, gridN, metre float64
		pixels              float64
	}{
		{131.855156805765, 43.1368310058273, -1.08, +0.08, 1.08, 0.527},
		{131.945257282898, 43.131972326214, +1.44, -0.80, 1.64, 0.765},
		{131.95034737507, 43.0798912053207, -1.03, +0.10, 1.04, 0.505},
		{131.856496862141, 43.0848689938363, +1.38, -0.06, 1.38, 0.674},
		{131.901502078485, 43.1084008085414, -0.72, +2.29, 2.40, 1.066},
		{131.882099595641, 43.0970356602603, +0.02, -1.59, 1.59, 0.720},
	}
	for i, w := range want {
		p := vladivostok6[i]
		lon, lat, err := fit.Forward(p.Pixel[0], p.Pixel[1])
		if err != nil || math.Abs(lon-w.lon) > 1e-9 || math.Abs(lat-w.lat) > 1e-9 {
			t.Errorf("G%d: Forward = %.12f, %.12f, %v; want %.12f, %.12f", i+1, lon, lat, err, w.lon, w.lat)
		}
		r := fit.Residuals[i]
		gridE, gridN := toUTM52Grid(i, r.DE, r.DN)
		if got := roundTo(gridE, 2); got != w.gridE {
			t.Errorf("G%d: dE (UTM grid) = %.4f; want %.2f", i+1, gridE, w.gridE)
		}
		if got := roundTo(gridN, 2); got != w.gridN {
			t.Errorf("G%d: dN (UTM grid) = %.4f; want %.2f", i+1, gridN, w.gridN)
		}
		if got := roundTo(r.Metres, 2); got != w.metre {
			t.Errorf("G%d: residual = %.4f m; want %.2f m", i+1, r.Metres, w.metre)
		}
		if got := roundTo(r.Pixels, 3); got != w.pixels {
			t.Errorf("G%d: residual = %.5f px; want %.3f px", i+1, r.Pixels, w.pixels)
		}
		if d := math.Hypot(r.DE, r.DN) - r.Metres; math.Abs(d) > 1e-12 {
			t.Errorf("G%d: Metres %g is not the length of (%g, %g)", i+1, r.Metres, r.DE, r.DN)
		}
	}
	// G1's pixel residual is the forward misfit through the local scale, which
	// for an affine fit is the algebraic inverse of the forward fit at G1's
	// lon/lat, (200.52659, 150.02938) by standards.md §3.3, minus its pixel. The
	// reverse model, gdaltransform -i, gives (200.5268855899, 150.029796992613)
	// and 0.528 px.
	if r := fit.Residuals[0]; roundTo(r.DX, 5) != 0.52659 || roundTo(r.DY, 5) != 0.02938 {
		t.Errorf("G1: dX, dY = %.7f, %.7f; want 0.52659, 0.02938", r.DX, r.DY)
	}
	for _, c := range []struct {
		name      string
		got, want float64
		decimals  int
	}{
		{"RMS m", fit.RMSMetres, 1.589, 3},
		{"RMS px", fit.RMSPixels, 0.733, 3},
		{"mean error m", fit.MeanErrorMetres, 2.247, 3},
		{"mean error px", fit.MeanErrorPixels, 1.037, 3},
	} {
		if got := roundTo(c.got, c.decimals); got != c.want {
			t.Errorf("%s = %.5f; want %.3f", c.name, c.got, c.want)
		}
	}
}

// TestFitResidualsMetresAgainstUTM checks each ground residual against PROJ's
// UTM 52N differences to 0.1 mm, after turning it into the grid.
func TestFitResidualsMetresAgainstUTM(t *testing.T) {
	fit, err := FitControlPoints(Affine, vladivostok6)
	if err != nil {
		t.Fatal(err)
	}
	for i, u := range utm52 {
		r := fit.Residuals[i]
		gridE, gridN := toUTM52Grid(i, r.DE, r.DN)
		if math.Abs(gridE-u.dE) > 1e-4 || math.Abs(gridN-u.dN) > 1e-4 {
			t.Errorf("G%d: residual %.5f, %.5f m in the UTM grid; want %.5f, %.5f m (cs2cs)", i+1, gridE, gridN, u.dE, u.dN)
		}
	}
}

func TestFitExactWithMinimumPoints(t *testing.T) {
	tests := []struct {
		name string
		kind TransformKind
		n    int
	}{
		{"ok, similarity through 2 points", Similarity, 2},
		{"ok, affine through 3 points", Affine, 3},
		{"ok, projective through 4 points", Projective, 4},
		{"ok, polynomial2 through 6 points", Polynomial2, 6},
		{"ok, tps through 3 points", TPS, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, err := FitControlPoints(tt.kind, vladivostok6[:tt.n])
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range fit.Residuals {
				if r.Pixels > 1e-6 || r.Metres > 1e-6 {
					t.Errorf("G%d: residual %g px, %g m; want 0", i+1, r.Pixels, r.Metres)
				}
			}
			if fit.MeanErrorPixels != 0 || fit.MeanErrorMetres != 0 {
				t.Errorf("mean error = %g px, %g m; want 0 when n equals the minimum", fit.MeanErrorPixels, fit.MeanErrorMetres)
			}
		})
	}
}

// TestFitSimilarityOnTheGround checks that a similarity is similar on the
// ground, not in degrees: at the control points' centroid, 100 px right and
// 100 px down are equally long and at right angles. (Away from it the scale
// drifts with the cosine of the latitude, as for any transform that is affine
// in lon/lat: by 3e-5 over the 0.002° to the image centre.)
func TestFitSimilarityOnTheGround(t *testing.T) {
	fit, err := FitControlPoints(Similarity, vladivostok6)
	if err != nil {
		t.Fatal(err)
	}
	var cx, cy float64
	for _, p := range vladivostok6 {
		cx += p.Pixel[0] / 6
		cy += p.Pixel[1] / 6
	}
	lon0, lat0, _ := fit.Forward(cx, cy)
	lonR, latR, _ := fit.Forward(cx+100, cy)
	lonD, latD, _ := fit.Forward(cx, cy+100)
	right, azRight, _ := Inverse(lon0, lat0, lonR, latR)
	down, azDown, _ := Inverse(lon0, lat0, lonD, latD)
	if math.Abs(right/down-1) > 1e-6 {
		t.Errorf("100 px right = %.4f m, 100 px down = %.4f m; want equal", right, down)
	}
	if turn := math.Remainder(azDown-azRight, 360); math.Abs(turn-90) > 1e-3 {
		t.Errorf("down is %.5f° clockwise from right; want 90°", turn)
	}
	// The §3.5 image is north up with 2.0 m by 2.2 m pixels: a similarity
	// splits the difference.
	if right < 200 || right > 220 || math.Abs(azRight-90) > 1.5 {
		t.Errorf("100 px right = %.2f m at azimuth %.2f°; want 200–220 m, about east", right, azRight)
	}
	if fit.RMSMetres < 50 {
		t.Errorf("RMS %.2f m; a similarity cannot fit pixels 10%% taller than wide", fit.RMSMetres)
	}
}

// obliqueLonLat is a homography from pixels to lon/lat (an oblique photo whose
// horizon is the line y = −1000, above the image).
func obliqueLonLat(x, y float64) (lon, lat float64) {
	w := 0.25 + 0.75*y/3000
	return 131.9 + 2.5e-5*(x-2000)/w + 3e-6*(y-1500)/w, 43.1 + 2e-5*(3000-y)/w - 4e-6*(x-2000)/w
}

func TestFitProjective(t *testing.T) {
	var pts []ControlPoint
	for _, p := range [][2]float64{{100, 200}, {3900, 150}, {3800, 2900}, {200, 2800}, {2000, 1500}, {1000, 900}, {3000, 2200}} {
		lon, lat := obliqueLonLat(p[0], p[1])
		pts = append(pts, ControlPoint{Pixel: p, LonLat: [2]float64{lon, lat}})
	}
	for _, n := range []int{4, 7} {
		fit, err := FitControlPoints(Projective, pts[:n])
		if err != nil {
			t.Fatalf("%d points: %v", n, err)
		}
		if fit.Linear() {
			t.Error("Linear() = true for a projective fit")
		}
		for _, p := range [][2]float64{{0, 0}, {4000, 0}, {4000, 3000}, {0, 3000}, {2500, 700}, {-500, 3500}, {5000, -300}} {
			lon, lat, err := fit.Forward(p[0], p[1])
			wantLon, wantLat := obliqueLonLat(p[0], p[1])
			if err != nil || math.Abs(lon-wantLon) > 1e-9 || math.Abs(lat-wantLat) > 1e-9 {
				t.Errorf("%d points: Forward(%g, %g) = %.10f, %.10f, %v; want %.10f, %.10f", n, p[0], p[1], lon, lat, err, wantLon, wantLat)
			}
			x, y, err := fit.Inverse(wantLon, wantLat)
			if err != nil || math.Abs(x-p[0]) > 1e-6 || math.Abs(y-p[1]) > 1e-6 {
				t.Errorf("%d points: Inverse(%.10f, %.10f) = %.9f, %.9f, %v; want %g, %g", n, wantLon, wantLat, x, y, err, p[0], p[1])
			}
		}
		for _, p := range [][2]float64{{2000, -1000}, {0, -1000}, {2000, -1500}, {2000, -999.999999999}} {
			if _, _, err := fit.Forward(p[0], p[1]); !errors.Is(err, ErrOutOfRange) {
				t.Errorf("%d points: Forward(%g, %g) on or beyond the horizon: err = %v; want ErrOutOfRange", n, p[0], p[1], err)
			}
		}
	}
}

func TestFitGeoTransform(t *testing.T) {
	fit, err := FitControlPoints(Affine, vladivostok6)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := fit.GeoTransform()
	// gdal.GCPsToGeoTransform, standards.md §3.5.
	want := GeoTransform{131.850007331018, 2.50002386447425e-05, 9.96180118423453e-07, 43.1399899166369, -7.94059348166071e-07, -2.0000659599424e-05}
	if !ok {
		t.Fatal("GeoTransform() not ok for an affine fit")
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-13*math.Max(1, math.Abs(want[i])) && math.Abs(got[i]/want[i]-1) > 1e-12 {
			t.Errorf("GT[%d] = %.15g; want %.15g", i, got[i], want[i])
		}
	}
	sim, err := FitControlPoints(Similarity, vladivostok6)
	if err != nil {
		t.Fatal(err)
	}
	gt, ok := sim.GeoTransform()
	if !ok {
		t.Fatal("GeoTransform() not ok for a similarity fit")
	}
	for _, p := range [][2]float64{{0, 0}, {4000, 3000}, {1234.5, 987.25}} {
		lon, lat, _ := sim.Forward(p[0], p[1])
		gtLon, gtLat := gt[0]+p[0]*gt[1]+p[1]*gt[2], gt[3]+p[0]*gt[4]+p[1]*gt[5]
		if math.Abs(lon-gtLon) > 1e-12 || math.Abs(lat-gtLat) > 1e-12 {
			t.Errorf("similarity at %v: geotransform gives %.13f, %.13f; Forward %.13f, %.13f", p, gtLon, gtLat, lon, lat)
		}
	}
	for _, kind := range []TransformKind{Polynomial2, Projective, TPS} {
		fit, err := FitControlPoints(kind, vladivostok6)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := fit.GeoTransform(); ok || fit.Linear() {
			t.Errorf("%s: GeoTransform ok = %v, Linear = %v; want false, false", kind, ok, fit.Linear())
		}
	}
}

// TestFitAntimeridian fits control points that straddle the antimeridian
// (longitudes 179.97 and −179.97): the fit is made in continuous longitudes and
// agrees with the same points given as 180.03.
func TestFitAntimeridian(t *testing.T) {
	var straddling []ControlPoint
	for _, p := range vladivostok6 {
		lon := p.LonLat[0] + 48.1 // 179.95 … 180.05
		if lon > 180 {
			lon -= 360
		}
		straddling = append(straddling, ControlPoint{Pixel: p.Pixel, LonLat: [2]float64{lon, p.LonLat[1]}})
	}
	for _, kind := range Kinds {
		fit, err := FitControlPoints(kind, straddling)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		ref, err := FitControlPoints(kind, vladivostok6)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(fit.RMSMetres-ref.RMSMetres) > 0.01 {
			t.Errorf("%s: RMS %.4f m across the antimeridian; want %.4f m as at Vladivostok", kind, fit.RMSMetres, ref.RMSMetres)
		}
		for _, p := range [][2]float64{{0, 0}, {4000, 0}, {4000, 3000}, {2000, 1500}} {
			lon, lat, err := fit.Forward(p[0], p[1])
			if err != nil || lon < -180 || lon > 180 {
				t.Errorf("%s: Forward(%v) = %g, %g, %v; want a longitude within ±180", kind, p, lon, lat, err)
			}
			x, y, err := fit.Inverse(lon, lat)
			x2, y2, err2 := fit.Inverse(lon+360, lat)
			if err != nil || err2 != nil || math.Abs(x-x2) > 1e-6 || math.Abs(y-y2) > 1e-6 {
				t.Errorf("%s: Inverse(%g) = %g, %g and Inverse(%g) = %g, %g; want equal", kind, lon, x, y, lon+360, x2, y2)
			}
		}
	}
}

func TestFitBadInput(t *testing.T) {
	withLonLat := func(i int, lon, lat float64) []ControlPoint {
		pts := append([]ControlPoint(nil), vladivostok6...)
		pts[i].LonLat = [2]float64{lon, lat}
		return pts
	}
	withPixel := func(i int, x, y float64) []ControlPoint {
		pts := append([]ControlPoint(nil), vladivostok6...)
		pts[i].Pixel = [2]float64{x, y}
		return pts
	}
	// collinear places the pixels on the diagonal of the image and the places
	// on the line between G1 and G3.
	collinear := func(n int, pixelsToo bool) []ControlPoint {
		var pts []ControlPoint
		for i := 0; i < n; i++ {
			f := float64(i) / float64(n-1)
			px := [2]float64{4000 * f, 3000 * f}
			if !pixelsToo {
				px = vladivostok6[i%6].Pixel
				px[0] += float64(i / 6)
			}
			pts = append(pts, ControlPoint{Pixel: px, LonLat: [2]float64{131.85517 + 0.09519*f, 43.13683 - 0.05694*f}})
		}
		return pts
	}
	circle := func(n int) []ControlPoint {
		var pts []ControlPoint
		for i := 0; i < n; i++ {
			a := 2 * math.Pi * float64(i) / float64(n)
			pts = append(pts, ControlPoint{
				Pixel:  [2]float64{2000 + 1000*math.Cos(a), 1500 + 1000*math.Sin(a)},
				LonLat: [2]float64{131.9 + 0.025*math.Cos(a) + 0.001*math.Sin(2*a), 43.1 - 0.02*math.Sin(a)},
			})
		}
		return pts
	}
	tests := []struct {
		name        string
		kind        TransformKind
		points      []ControlPoint
		wantKind    error
		wantField   string
		wantMessage string
	}{
		{"nok, unknown transform", "helmert", vladivostok6, ErrInvalid, "transform", ""},
		{"nok, affine with 2 points", Affine, vladivostok6[:2], ErrTooFewPoints, "gcps", "an affine transform needs at least 3 control points; 2 given"},
		{"nok, similarity with 1 point", Similarity, vladivostok6[:1], ErrTooFewPoints, "gcps", "a similarity transform needs at least 2 control points; 1 given"},
		{"nok, projective with 3 points", Projective, vladivostok6[:3], ErrTooFewPoints, "gcps", "a projective transform needs at least 4 control points; 3 given"},
		{"nok, polynomial2 with 5 points", Polynomial2, vladivostok6[:5], ErrTooFewPoints, "gcps", "a second-order polynomial transform needs at least 6 control points; 5 given"},
		{"nok, tps with 2 points", TPS, vladivostok6[:2], ErrTooFewPoints, "gcps", "a thin-plate spline needs at least 3 control points; 2 given"},
		{"nok, no points", Affine, nil, ErrTooFewPoints, "gcps", "an affine transform needs at least 3 control points; 0 given"},
		{"nok, latitude 91", Affine, withLonLat(2, 131.9, 91), ErrOutOfRange, "gcps[2].lonlat", ""},
		{"nok, latitude -90.5", TPS, withLonLat(0, 131.9, -90.5), ErrOutOfRange, "gcps[0].lonlat", ""},
		{"nok, longitude 181", Similarity, withLonLat(5, 181, 43.1), ErrOutOfRange, "gcps[5].lonlat", ""},
		{"nok, longitude NaN", Affine, withLonLat(1, math.NaN(), 43.1), ErrOutOfRange, "gcps[1].lonlat", ""},
		{"nok, latitude +Inf", Projective, withLonLat(3, 131.9, math.Inf(1)), ErrOutOfRange, "gcps[3].lonlat", ""},
		{"nok, pixel NaN", Affine, withPixel(1, math.NaN(), 10), ErrInvalid, "gcps[1].pixel", ""},
		{"nok, pixel -Inf", TPS, withPixel(4, 10, math.Inf(-1)), ErrInvalid, "gcps[4].pixel", ""},
		{"nok, two points at the same pixel", Affine, withPixel(3, 3800, 250), ErrIllConditioned, "gcps", "control points 2 and 4 are at the same pixel"},
		{"nok, two points at the same pixel, similarity", Similarity, withPixel(1, 200, 150)[:2], ErrIllConditioned, "gcps", "control points 1 and 2 are at the same pixel"},
		{"nok, two points at the same place", TPS, withLonLat(5, 131.94524, 43.13198), ErrIllConditioned, "gcps", "control points 2 and 6 are at the same place on the ground"},
		{"nok, affine on one line", Affine, collinear(5, true), ErrIllConditioned, "gcps", "the control points lie on one line in the image (or nearly); add points away from that line"},
		{"nok, polynomial2 on one line", Polynomial2, collinear(8, true), ErrIllConditioned, "gcps", ""},
		{"nok, projective on one line", Projective, collinear(4, true), ErrIllConditioned, "gcps", ""},
		{"nok, tps on one line", TPS, collinear(3, true), ErrIllConditioned, "gcps", ""},
		{"nok, places on one line", Affine, collinear(6, false), ErrIllConditioned, "gcps", "the control points lie on one line on the ground (or nearly); add points away from that line"},
		{"nok, affine nearly on one line", Affine, []ControlPoint{
			{Pixel: [2]float64{0, 0}, LonLat: [2]float64{131.85, 43.14}},
			{Pixel: [2]float64{4000, 3000}, LonLat: [2]float64{131.95, 43.08}},
			{Pixel: [2]float64{2000, 1500.5}, LonLat: [2]float64{131.90, 43.109}},
		}, ErrIllConditioned, "gcps", "the control points lie on one line in the image (or nearly); add points away from that line"},
		{"nok, polynomial2 on a circle", Polynomial2, circle(8), ErrIllConditioned, "gcps", "the control points do not determine a second-order polynomial (they lie on one curve, such as a circle or two lines); add points elsewhere in the image"},
		{"nok, projective with three of four on one line", Projective, withPixel(1, 2050, 1500)[:4], ErrIllConditioned, "gcps", "control points 1, 2 and 3 lie on one line in the image; a projective transform through four points needs no three on one line"},
		{"nok, projective with three of four places on one line", Projective, withLonLat(1, 131.902765, 43.10836)[:4], ErrIllConditioned, "gcps", "control points 1, 2 and 3 lie on one line on the ground; a projective transform through four points needs no three on one line"},
		{"nok, projective with its horizon among the points", Projective, []ControlPoint{
			{Pixel: [2]float64{0, 0}, LonLat: [2]float64{131.85, 43.14}},
			{Pixel: [2]float64{4000, 0}, LonLat: [2]float64{131.95, 43.14}},
			{Pixel: [2]float64{4000, 3000}, LonLat: [2]float64{131.85, 43.08}},
			{Pixel: [2]float64{0, 3000}, LonLat: [2]float64{131.95, 43.08}},
		}, ErrIllConditioned, "gcps", ""},
		{"nok, tps in a thin band", TPS, []ControlPoint{
			{Pixel: [2]float64{0, 0}, LonLat: [2]float64{131.850007, 43.139990}},
			{Pixel: [2]float64{1000, 1040}, LonLat: [2]float64{131.876044, 43.118396}},
			{Pixel: [2]float64{2000, 1960}, LonLat: [2]float64{131.901960, 43.099207}},
			{Pixel: [2]float64{3000, 3000}, LonLat: [2]float64{131.927996, 43.077612}},
		}, ErrIllConditioned, "gcps", "the control points lie nearly on one line; add points away from that line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, err := FitControlPoints(tt.kind, tt.points)
			if fit != nil {
				t.Errorf("fit = %+v; want nil", fit)
			}
			if !errors.Is(err, tt.wantKind) {
				t.Fatalf("err = %v; want %v", err, tt.wantKind)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %T; want *Error", err)
			}
			if e.Field != tt.wantField {
				t.Errorf("field = %q; want %q", e.Field, tt.wantField)
			}
			if tt.wantMessage != "" && e.Message != tt.wantMessage {
				t.Errorf("message = %q; want %q", e.Message, tt.wantMessage)
			}
		})
	}
}

// TestFitNeverNonFinite fits awkward but valid control points: every fit is
// either refused or holds only finite numbers.
func TestFitNeverNonFinite(t *testing.T) {
	scaled := func(pixelScale, lonLatScale float64) []ControlPoint {
		var pts []ControlPoint
		for _, p := range vladivostok6 {
			pts = append(pts, ControlPoint{
				Pixel:  [2]float64{p.Pixel[0] * pixelScale, p.Pixel[1] * pixelScale},
				LonLat: [2]float64{131.9 + (p.LonLat[0]-131.9)*lonLatScale, 43.1 + (p.LonLat[1]-43.1)*lonLatScale},
			})
		}
		return pts
	}
	sets := map[string][]ControlPoint{
		"huge pixels":         scaled(1e12, 1),
		"tiny pixels":         scaled(1e-5, 1),
		"tiny spread":         scaled(1, 1e-6),
		"a whole country":     scaled(1, 300),
		"near the pole":       {{[2]float64{0, 0}, [2]float64{0, 89.9999}}, {[2]float64{100, 0}, [2]float64{90, 89.9999}}, {[2]float64{100, 100}, [2]float64{180, 89.9999}}, {[2]float64{0, 100}, [2]float64{-90, 89.9999}}, {[2]float64{50, 50}, [2]float64{0, 90}}, {[2]float64{20, 70}, [2]float64{45, 89.99995}}},
		"points far apart":    {{[2]float64{0, 0}, [2]float64{-179, -89}}, {[2]float64{1e6, 0}, [2]float64{179, -89}}, {[2]float64{1e6, 1e6}, [2]float64{179, 89}}, {[2]float64{0, 1e6}, [2]float64{-179, 89}}, {[2]float64{5e5, 5e5}, [2]float64{0, 0}}, {[2]float64{2e5, 7e5}, [2]float64{-100, -40}}},
		"nearly duplicate px": append(append([]ControlPoint(nil), vladivostok6...), ControlPoint{Pixel: [2]float64{200.00001, 150}, LonLat: [2]float64{131.8552, 43.1369}}),
	}
	for name, pts := range sets {
		for _, kind := range Kinds {
			fit, err := FitControlPoints(kind, pts)
			if err != nil {
				if !errors.Is(err, ErrIllConditioned) {
					t.Errorf("%s, %s: err = %v; want ErrIllConditioned or a fit", name, kind, err)
				}
				continue
			}
			nums := []float64{fit.RMSPixels, fit.RMSMetres, fit.MeanErrorPixels, fit.MeanErrorMetres}
			for _, r := range fit.Residuals {
				nums = append(nums, r.DX, r.DY, r.Pixels, r.DE, r.DN, r.Metres)
			}
			for _, p := range pts {
				if lon, lat, err := fit.Forward(p.Pixel[0], p.Pixel[1]); err == nil {
					nums = append(nums, lon, lat)
				}
			}
			if !allFinite(nums) {
				t.Errorf("%s, %s: fit holds non-finite numbers: %v", name, kind, nums)
			}
		}
	}
}

func TestFitJSON(t *testing.T) {
	fit, err := FitControlPoints(Affine, vladivostok6)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(fit)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"transform", "gcps", "residuals", "rms_px", "rms_m", "mean_error_px", "mean_error_m"} {
		if _, ok := got[key]; !ok {
			t.Errorf("JSON %s has no %q", b, key)
		}
	}
	if len(got) != 7 {
		t.Errorf("JSON has %d keys; want 7: %s", len(got), b)
	}
	residual := got["residuals"].([]any)[0].(map[string]any)
	for _, key := range []string{"dx_px", "dy_px", "px", "de_m", "dn_m", "m"} {
		if _, ok := residual[key]; !ok {
			t.Errorf("residual JSON %v has no %q", residual, key)
		}
	}
	var decoded Fit
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	if _, _, err := decoded.Forward(0, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("Forward on a decoded Fit: err = %v; want ErrInvalid", err)
	}
}

func TestFitForwardInverseErrors(t *testing.T) {
	fit, err := FitControlPoints(Polynomial2, vladivostok6)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := fit.Forward(math.NaN(), 0); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Forward(NaN, 0): err = %v; want ErrOutOfRange", err)
	}
	if _, _, err := fit.Forward(1e9, 1e9); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Forward(1e9, 1e9): err = %v; want ErrOutOfRange (beyond the pole)", err)
	}
	if _, _, err := fit.Inverse(131.9, 90.5); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Inverse(131.9, 90.5): err = %v; want ErrOutOfRange", err)
	}
	if _, _, err := fit.Inverse(math.Inf(1), 43); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Inverse(+Inf, 43): err = %v; want ErrOutOfRange", err)
	}
}

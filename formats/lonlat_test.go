package formats

import (
	"math"
	"strconv"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
)

// Taking pixel geometries to RFC 7946 lon/lat (projectGeometry, Footprint, bounds), with
// transforms fitted to the control points of geo/testdata (standards.md §3.5, and the
// Taveuni set whose image reaches past the antimeridian).

// vladivostok6 are the six control points of standards.md §3.5, on a 4000×3000 image.
var vladivostok6 = []geo.ControlPoint{
	{Pixel: [2]float64{200, 150}, LonLat: [2]float64{131.85517, 43.13683}},
	{Pixel: [2]float64{3800, 250}, LonLat: [2]float64{131.94524, 43.13198}},
	{Pixel: [2]float64{3900, 2850}, LonLat: [2]float64{131.95036, 43.07989}},
	{Pixel: [2]float64{150, 2750}, LonLat: [2]float64{131.85648, 43.08487}},
	{Pixel: [2]float64{2000, 1500}, LonLat: [2]float64{131.90151, 43.10838}},
	{Pixel: [2]float64{1200, 2100}, LonLat: [2]float64{131.88210, 43.09705}},
}

// taveuni7 are the control points of geo/testdata/fit-taveuni7.txt: an 8000×6000 image,
// rotated 20°, every point west of 180° but the top-right corner (8000, 0) at
// 180.0048° (gdaltransform -order 1), so the image's north-east corner lies past the
// antimeridian.
var taveuni7 = []geo.ControlPoint{
	{Pixel: [2]float64{400, 350}, LonLat: [2]float64{179.8685538, -16.7327540}},
	{Pixel: [2]float64{7600, 500}, LonLat: [2]float64{179.9944985, -16.7797797}},
	{Pixel: [2]float64{7700, 5600}, LonLat: [2]float64{179.9635583, -16.8670041}},
	{Pixel: [2]float64{300, 5700}, LonLat: [2]float64{179.8324213, -16.8229887}},
	{Pixel: [2]float64{4000, 3000}, LonLat: [2]float64{179.9150047, -16.8000108}},
	{Pixel: [2]float64{2200, 4300}, LonLat: [2]float64{179.8749154, -16.8109376}},
	{Pixel: [2]float64{5800, 1800}, LonLat: [2]float64{179.9544514, -16.7907435}},
}

func mustFit(t *testing.T, kind geo.TransformKind, pts []geo.ControlPoint) *geo.Fit {
	t.Helper()
	f, err := geo.FitControlPoints(kind, pts)
	if err != nil {
		t.Fatalf("FitControlPoints(%s): %v", kind, err)
	}
	return f
}

// northUp is a grid in EPSG:4326 with pixels 1e-4° wide and high and an origin whose
// products carry many decimals, so rounding shows.
var northUp = geo.Grid{GeoTransform: geo.GeoTransform{12.3456789012, 1.23456789e-4, 0, 45.6789012345, 0, -1.1111111e-4}, CRS: geo.WGS84}

func positions(ps ...[2]float64) []annotations.Position {
	out := make([]annotations.Position, len(ps))
	for i, p := range ps {
		out[i] = annotations.Position(p)
	}
	return out
}

// rings returns the rings of a Polygon or the polygons of a MultiPolygon.
func polygonsOf(t *testing.T, g lonLatGeometry) [][][][2]float64 {
	t.Helper()
	switch c := g.Coordinates.(type) {
	case [][][2]float64:
		if g.Type != "Polygon" {
			t.Fatalf("type %q with polygon coordinates", g.Type)
		}
		return [][][][2]float64{c}
	case [][][][2]float64:
		if g.Type != "MultiPolygon" {
			t.Fatalf("type %q with multipolygon coordinates", g.Type)
		}
		return c
	}
	t.Fatalf("geometry %s has coordinates of type %T", g.Type, g.Coordinates)
	return nil
}

// wantRFC7946Rings checks every ring of a (multi)polygon: closed, at least 4 positions,
// longitudes in [-180, 180] with no edge spanning more than 180° (no part crosses the
// antimeridian), 7 decimals at most, exterior counter-clockwise and holes clockwise.
func wantRFC7946Rings(t *testing.T, polys [][][][2]float64) {
	t.Helper()
	for i, poly := range polys {
		for j, ring := range poly {
			if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
				t.Errorf("polygon %d ring %d is not a closed ring of 4 positions or more: %v", i, j, ring)
				continue
			}
			wantPath(t, ring)
			if a := signedArea(ring); (j == 0) != (a > 0) {
				t.Errorf("polygon %d ring %d: signed area %g; want exterior counter-clockwise (> 0), holes clockwise (< 0)", i, j, a)
			}
		}
	}
}

func wantPath(t *testing.T, path [][2]float64) {
	t.Helper()
	for k, p := range path {
		if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
			t.Errorf("position %d %v is outside ±180°, ±90°", k, p)
		}
		for _, v := range p {
			if round7(v) != v {
				t.Errorf("position %d %v has more than 7 decimals", k, p)
			}
		}
		if k > 0 && math.Abs(p[0]-path[k-1][0]) > 180 {
			t.Errorf("edge %d from %v to %v spans the globe: the part crosses the antimeridian", k, path[k-1], p)
		}
	}
}

func TestProjectGeometryOrientsClosesAndRounds(t *testing.T) {
	// A polygon with a hole, in pixels (y down). Drawn clockwise on screen is
	// counter-clockwise in y-up terms; both windings of each ring must come out right.
	outer := positions([2]float64{10, 10}, [2]float64{90, 10}, [2]float64{90, 70}, [2]float64{10, 70}, [2]float64{10, 10})
	hole := positions([2]float64{30, 30}, [2]float64{30, 50}, [2]float64{60, 50}, [2]float64{60, 30}, [2]float64{30, 30})
	transforms := []struct {
		name string
		t    geo.Transformer
	}{
		{"north-up grid", northUp},
		// The image mirrored east–west: every winding flips once more.
		{"mirrored grid", geo.Grid{GeoTransform: geo.GeoTransform{12.3456789012, -1.23456789e-4, 0, 45.6789012345, 0, -1.1111111e-4}, CRS: geo.WGS84}},
		{"affine fit, §3.5", mustFit(t, geo.Affine, vladivostok6)},
		{"thin-plate spline, §3.5", mustFit(t, geo.TPS, vladivostok6)},
	}
	windings := []struct {
		name        string
		outer, hole []annotations.Position
	}{
		{"ok, exterior clockwise on screen, hole counter-clockwise", outer, hole},
		{"ok, exterior counter-clockwise on screen, hole clockwise", reversed(outer), reversed(hole)},
		{"ok, both clockwise on screen", outer, reversed(hole)},
		{"ok, both counter-clockwise on screen", reversed(outer), hole},
	}
	for _, tr := range transforms {
		for _, w := range windings {
			t.Run(tr.name+"/"+w.name, func(t *testing.T) {
				g, b, err := projectGeometry(tr.t, annotations.PolygonGeometry(w.outer, w.hole))
				if err != nil {
					t.Fatal(err)
				}
				polys := polygonsOf(t, g)
				if len(polys) != 1 || len(polys[0]) != 2 {
					t.Fatalf("got %s with %d polygons, want one Polygon with a hole", g.Type, len(polys))
				}
				wantRFC7946Rings(t, polys)
				// Each vertex is the transform of a pixel vertex, to the rounding.
				for j, ring := range polys[0] {
					pix := []annotations.Position{outer[0], outer[1], outer[2], outer[3]}
					if j == 1 {
						pix = []annotations.Position{hole[0], hole[1], hole[2], hole[3]}
					}
					if !tr.t.Linear() {
						continue // densified: extra vertices
					}
					for _, p := range ring {
						if !nearAnyPixel(tr.t, p, pix) {
							t.Errorf("ring %d vertex %v is not the transform of any of the ring's pixel vertices", j, p)
						}
					}
				}
				wantBoundsCover(t, b, polys)
			})
		}
	}
}

func nearAnyPixel(t geo.Transformer, p [2]float64, pix []annotations.Position) bool {
	for _, q := range pix {
		lon, lat, err := t.Forward(q[0], q[1])
		if err == nil && math.Abs(lon-p[0]) <= 5.01e-8 && math.Abs(lat-p[1]) <= 5.01e-8 {
			return true
		}
	}
	return false
}

// wantBoundsCover checks that bounds hold every position, west > east exactly when they
// cross the antimeridian.
func wantBoundsCover(t *testing.T, b bounds, polys [][][][2]float64) {
	t.Helper()
	bb := b.bbox()
	if len(bb) != 4 {
		t.Fatalf("bbox = %v, want 4 numbers", bb)
	}
	w, s, e, n := bb[0], bb[1], bb[2], bb[3]
	for _, poly := range polys {
		for _, ring := range poly {
			for _, p := range ring {
				inLon := w <= p[0] && p[0] <= e
				if w > e {
					inLon = p[0] >= w || p[0] <= e
				}
				if !inLon || p[1] < s || p[1] > n {
					t.Errorf("position %v is outside bbox %v", p, bb)
				}
			}
		}
	}
}

func TestProjectGeometryPointAndLine(t *testing.T) {
	fit := mustFit(t, geo.Affine, vladivostok6)
	g, b, err := projectGeometry(fit, annotations.PointGeometry(annotations.Position{1234.5, 987.25}))
	if err != nil {
		t.Fatal(err)
	}
	// gdaltransform -order 1 (standards.md §3.5): 1234.5 987.25 -> 131.881853604447 43.1192639991821.
	want := [2]float64{round7(131.881853604447), round7(43.1192639991821)}
	if g.Type != "Point" || g.Coordinates != want {
		t.Errorf("point = %s %v, want Point %v", g.Type, g.Coordinates, want)
	}
	if bb := b.bbox(); bb[0] != want[0] || bb[1] != want[1] || bb[2] != want[0] || bb[3] != want[1] {
		t.Errorf("point bbox = %v, want the point twice", bb)
	}

	g, _, err = projectGeometry(fit, annotations.LineGeometry(positions([2]float64{0, 0}, [2]float64{4000, 0}, [2]float64{4000, 3000})))
	if err != nil {
		t.Fatal(err)
	}
	line, ok := g.Coordinates.([][2]float64)
	if g.Type != "LineString" || !ok || len(line) != 3 {
		t.Fatalf("line = %s %v, want a LineString of 3 positions (affine: no densifying)", g.Type, g.Coordinates)
	}
	// gdaltransform -order 1 of the image corners (standards.md §3.5).
	for i, w := range [][2]float64{{131.850007331018, 43.1399899166369}, {131.950008285597, 43.1368136792442}, {131.952996825953, 43.076811700446}} {
		if line[i] != [2]float64{round7(w[0]), round7(w[1])} {
			t.Errorf("line vertex %d = %v, want gdaltransform's %v rounded to 7 decimals", i, line[i], w)
		}
	}
}

func TestProjectGeometryDensifiesWhereTheTransformBends(t *testing.T) {
	square := annotations.PolygonGeometry(positions([2]float64{0, 0}, [2]float64{0, 3000}, [2]float64{4000, 3000}, [2]float64{4000, 0}, [2]float64{0, 0}))
	tests := []struct {
		name    string
		t       geo.Transformer
		densify bool
	}{
		{"ok, affine keeps the 5 vertices", mustFit(t, geo.Affine, vladivostok6), false},
		{"ok, grid in EPSG:4326 keeps the 5 vertices", northUp, false},
		{"ok, second-order polynomial adds vertices", mustFit(t, geo.Polynomial2, vladivostok6), true},
		{"ok, thin-plate spline adds vertices", mustFit(t, geo.TPS, vladivostok6), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, _, err := projectGeometry(tc.t, square)
			if err != nil {
				t.Fatal(err)
			}
			polys := polygonsOf(t, g)
			wantRFC7946Rings(t, polys)
			ring := polys[0][0]
			if got := len(ring); (got > 5) != tc.densify || got < 5 {
				t.Fatalf("ring has %d vertices; want %s", got, map[bool]string{true: "more than 5", false: "exactly 5"}[tc.densify])
			}
			if !tc.densify {
				return
			}
			// The densified ring follows the image of the straight pixel edges: every
			// point of those edges lies within half a pixel (tolerance 0.25 px, plus
			// rounding) of the ring.
			const degPerPx = 2.5e-5 // the §3.5 image: about 2 m a pixel
			coslat := math.Cos(43.1 * math.Pi / 180)
			corners := square.Coordinates[0]
			for k := 0; k+1 < len(corners); k++ {
				for s := 0.0; s <= 1; s += 1.0 / 64 {
					x := corners[k][0] + s*(corners[k+1][0]-corners[k][0])
					y := corners[k][1] + s*(corners[k+1][1]-corners[k][1])
					lon, lat, err := tc.t.Forward(x, y)
					if err != nil {
						t.Fatal(err)
					}
					if d := distanceToPath(ring, [2]float64{lon, lat}, coslat); d > 0.5*degPerPx {
						t.Errorf("the image of pixel (%g, %g) is %.2f px from the exported ring", x, y, d/degPerPx)
					}
				}
			}
		})
	}
}

// distanceToPath is the distance from p to the nearest segment of path, in degrees of
// latitude, with longitudes scaled by coslat.
func distanceToPath(path [][2]float64, p [2]float64, coslat float64) float64 {
	best := math.Inf(1)
	for i := 0; i+1 < len(path); i++ {
		ax, ay := path[i][0]*coslat, path[i][1]
		bx, by := path[i+1][0]*coslat, path[i+1][1]
		px, py := p[0]*coslat, p[1]
		dx, dy := bx-ax, by-ay
		s := 0.0
		if l2 := dx*dx + dy*dy; l2 > 0 {
			s = math.Max(0, math.Min(1, ((px-ax)*dx+(py-ay)*dy)/l2))
		}
		best = math.Min(best, math.Hypot(px-(ax+s*dx), py-(ay+s*dy)))
	}
	return best
}

// area in unwrapped longitudes (a piece west of -180 moved back by a turn), for comparing
// the pieces of a cut with the whole.
func unwrappedArea(ring [][2]float64, shift float64) float64 {
	r := make([][2]float64, len(ring))
	for i, p := range ring {
		r[i] = [2]float64{p[0] + shift, p[1]}
	}
	return signedArea(r)
}

func TestProjectGeometryCutsAtTheAntimeridian(t *testing.T) {
	fit := mustFit(t, geo.Affine, taveuni7)
	// The lon = 180° line runs across the image's top-right corner: from about
	// (7730, 0) to (8000, 745).
	rect := positions([2]float64{7500, 20}, [2]float64{7995, 20}, [2]float64{7995, 600}, [2]float64{7500, 600}, [2]float64{7500, 20})
	// The same rectangle starting at a corner past 180°, so the whole ring is unwrapped
	// around −180° instead of +180°.
	rectFromEast := positions([2]float64{7995, 20}, [2]float64{7995, 600}, [2]float64{7500, 600}, [2]float64{7500, 20}, [2]float64{7995, 20})
	// A hole wholly past 180°, in a ring that starts west of it.
	hole := positions([2]float64{7900, 100}, [2]float64{7980, 100}, [2]float64{7980, 300}, [2]float64{7900, 300}, [2]float64{7900, 100})

	tests := []struct {
		name  string
		rings [][]annotations.Position
	}{
		{"ok, rectangle starting west of 180°", [][]annotations.Position{rect}},
		{"ok, rectangle starting east of 180°", [][]annotations.Position{rectFromEast}},
		{"ok, drawn the other way round", [][]annotations.Position{reversed(rect)}},
		{"ok, hole wholly east of 180°", [][]annotations.Position{rect, hole}},
		{"ok, hole in a ring starting east of 180°", [][]annotations.Position{rectFromEast, reversed(hole)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, b, err := projectGeometry(fit, annotations.PolygonGeometry(tc.rings...))
			if err != nil {
				t.Fatal(err)
			}
			if g.Type != "MultiPolygon" {
				t.Fatalf("type = %s, want MultiPolygon", g.Type)
			}
			polys := polygonsOf(t, g)
			if len(polys) != 2 {
				t.Fatalf("%d polygons, want 2 (one each side of the antimeridian)", len(polys))
			}
			wantRFC7946Rings(t, polys)

			// One piece east of the antimeridian (longitudes up to 180), the other west
			// (from −180); each touches it.
			var east, west [][][2]float64
			for _, poly := range polys {
				lo, hi := 180.0, -180.0
				for _, p := range poly[0] {
					lo, hi = math.Min(lo, p[0]), math.Max(hi, p[0])
				}
				switch {
				case lo > 0 && hi == 180:
					east = poly
				case hi < 0 && lo == -180:
					west = poly
				default:
					t.Fatalf("piece spans %g…%g: want one piece ending at 180 and one starting at −180", lo, hi)
				}
			}
			if east == nil || west == nil {
				t.Fatalf("pieces %v: want one each side", polys)
			}
			// The cut edges meet: the latitudes on 180 are those on −180.
			cutLats := func(ring [][2]float64, lon float64) []float64 {
				var out []float64
				for _, p := range ring[:len(ring)-1] {
					if p[0] == lon {
						out = append(out, p[1])
					}
				}
				return out
			}
			e, w := cutLats(east[0], 180), cutLats(west[0], -180)
			if len(e) != 2 || len(w) != 2 || math.Min(e[0], e[1]) != math.Min(w[0], w[1]) || math.Max(e[0], e[1]) != math.Max(w[0], w[1]) {
				t.Errorf("cut latitudes %v on 180° and %v on −180°, want the same two", e, w)
			}

			// Nothing lost: the pieces' areas add up to the uncut polygon's, minus the
			// hole (in longitudes that run on past 180°).
			uncut := func(r []annotations.Position) float64 {
				ll := make([][2]float64, len(r))
				for i, p := range r {
					lon, lat, err := fit.Forward(p[0], p[1])
					if err != nil {
						t.Fatal(err)
					}
					if lon < 0 {
						lon += 360
					}
					ll[i] = [2]float64{lon, lat}
				}
				return math.Abs(signedArea(ll))
			}
			want := uncut(tc.rings[0])
			for _, h := range tc.rings[1:] {
				want -= uncut(h)
			}
			got := 0.0
			for _, r := range east {
				got += unwrappedArea(r, 0)
			}
			for _, r := range west {
				got += unwrappedArea(r, 360)
			}
			if math.Abs(got-want) > 1e-4*want {
				t.Errorf("the pieces' areas add up to %g deg², the uncut polygon's is %g", got/2, want/2)
			}
			if len(tc.rings) == 2 && (len(west) != 2 || len(east) != 1) {
				t.Errorf("the hole, wholly past 180°, is in the %s piece; want it in the western (−180…) piece only (east %d rings, west %d)",
					map[bool]string{true: "eastern", false: "western"}[len(east) == 2], len(east), len(west))
			}

			// RFC 7946 §5.2: a bbox across the antimeridian has west > east.
			bb := b.bbox()
			if !(bb[0] > bb[2]) {
				t.Errorf("bbox = %v, want west > east", bb)
			}
			lo, hi := 180.0, -180.0
			for _, p := range east[0] {
				lo = math.Min(lo, p[0])
			}
			for _, p := range west[0] {
				hi = math.Max(hi, p[0])
			}
			if bb[0] != lo || bb[2] != hi {
				t.Errorf("bbox = %v, want west %g (the eastern piece's west edge) and east %g (the western piece's east edge)", bb, lo, hi)
			}
			wantBoundsCover(t, b, polys)
		})
	}

	t.Run("ok, line across is cut in two", func(t *testing.T) {
		for _, tc := range []struct {
			line  []annotations.Position
			parts int
		}{
			{positions([2]float64{7600, 200}, [2]float64{7990, 200}), 2},
			{positions([2]float64{7990, 200}, [2]float64{7600, 200}), 2},
			// Out past 180°, along it, and back.
			{positions([2]float64{7000, 100}, [2]float64{7990, 150}, [2]float64{7990, 500}, [2]float64{7000, 700}), 3},
		} {
			g, b, err := projectGeometry(fit, annotations.LineGeometry(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			parts, ok := g.Coordinates.([][][2]float64)
			if g.Type != "MultiLineString" || !ok {
				t.Fatalf("%v: type %s, want MultiLineString", tc.line, g.Type)
			}
			if len(parts) != tc.parts {
				t.Fatalf("%v: %d parts, want %d", tc.line, len(parts), tc.parts)
			}
			for i, part := range parts {
				if len(part) < 2 {
					t.Errorf("part %d has %d positions", i, len(part))
				}
				wantPath(t, part)
				if i > 0 {
					end, start := parts[i-1][len(parts[i-1])-1], part[0]
					if math.Abs(end[0]) != 180 || end[0] != -start[0] || end[1] != start[1] {
						t.Errorf("part %d ends at %v and part %d starts at %v: want the same point on ±180°", i-1, end, i, start)
					}
				}
			}
			if bb := b.bbox(); !(bb[0] > bb[2]) {
				t.Errorf("bbox = %v, want west > east", bb)
			}
		}
	})

	t.Run("ok, geometry west of 180° near it is not cut", func(t *testing.T) {
		g, b, err := projectGeometry(fit, annotations.PolygonGeometry(positions([2]float64{7000, 1000}, [2]float64{7900, 1000}, [2]float64{7900, 1500}, [2]float64{7000, 1500}, [2]float64{7000, 1000})))
		if err != nil {
			t.Fatal(err)
		}
		if g.Type != "Polygon" {
			t.Fatalf("type = %s, want Polygon", g.Type)
		}
		if bb := b.bbox(); !(bb[0] < bb[2]) || bb[2] > 180 {
			t.Errorf("bbox = %v, want west < east ≤ 180", bb)
		}
	})

	t.Run("ok, footprint of the image is cut", func(t *testing.T) {
		g, b, err := Footprint(fit, 8000, 6000)
		if err != nil {
			t.Fatal(err)
		}
		if g.Type != "MultiPolygon" {
			t.Fatalf("footprint type = %s, want MultiPolygon", g.Type)
		}
		polys := polygonsOf(t, g)
		wantRFC7946Rings(t, polys)
		if bb := b.bbox(); !(bb[0] > bb[2]) {
			t.Errorf("footprint bbox = %v, want west > east", bb)
		}
	})
}

func TestFootprintCornersAreTheTransformsCorners(t *testing.T) {
	// gdaltransform -order 1 of the §3.5 image corners (standards.md §3.5).
	want := [][2]float64{{131.850007331018, 43.1399899166369}, {131.950008285597, 43.1368136792442},
		{131.952996825953, 43.076811700446}, {131.852995871374, 43.0799879378386}}
	g, _, err := Footprint(mustFit(t, geo.Affine, vladivostok6), 4000, 3000)
	if err != nil {
		t.Fatal(err)
	}
	polys := polygonsOf(t, g)
	wantRFC7946Rings(t, polys)
	ring := polys[0][0]
	if len(ring) != 5 {
		t.Fatalf("footprint ring has %d positions, want 5", len(ring))
	}
	for _, w := range want {
		found := false
		for _, p := range ring {
			found = found || p == [2]float64{round7(w[0]), round7(w[1])}
		}
		if !found {
			t.Errorf("footprint %v has no corner at gdaltransform's %v (to 7 decimals)", ring, w)
		}
	}
}

func TestBoundsMerge(t *testing.T) {
	box := func(w, s, e, n float64, crosses bool) bounds {
		return bounds{w: w, s: s, e: e, n: n, crosses: crosses}
	}
	tests := []struct {
		name string
		a, b bounds
		want []float64
	}{
		{"ok, two boxes apart", box(10, 40, 11, 41, false), box(12, 42, 13, 43, false), []float64{10, 40, 13, 43}},
		{"ok, one box inside another", box(10, 40, 20, 50, false), box(12, 42, 13, 43, false), []float64{10, 40, 20, 50}},
		{"ok, into an empty one", newBounds(), box(-10, -5, 10, 5, false), []float64{-10, -5, 10, 5}},
		{"ok, an empty one into a box", box(-10, -5, 10, 5, false), newBounds(), []float64{-10, -5, 10, 5}},
		{"ok, two crossing boxes", box(179, -17, -179.5, -16, true), box(179.5, -18, -179, -16.5, true), []float64{179, -18, -179, -16}},
		{"ok, crossing box and a box in the east", box(179.9, -17, -179.9, -16, true), box(179, -16.5, 179.5, -15, false), []float64{179, -17, -179.9, -15}},
		{"ok, crossing box and a box in the west", box(179.9, -17, -179.9, -16, true), box(-179.5, -18, -179, -16.5, false), []float64{179.9, -18, -179, -16}},
		{"ok, box in the east and a crossing box", box(179, -16.5, 179.5, -15, false), box(179.9, -17, -179.9, -16, true), []float64{179, -17, -179.9, -15}},
		{"ok, box in the west and a crossing box", box(-179.5, -18, -179, -16.5, false), box(179.9, -17, -179.9, -16, true), []float64{179.9, -18, -179, -16}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.a
			got.merge(tc.b)
			bb := got.bbox()
			if len(bb) != 4 || bb[0] != tc.want[0] || bb[1] != tc.want[1] || bb[2] != tc.want[2] || bb[3] != tc.want[3] {
				t.Errorf("merge = %v, want %v", bb, tc.want)
			}
			if wantCross := tc.a.crosses || tc.b.crosses; got.crosses != wantCross {
				t.Errorf("crosses = %v, want %v", got.crosses, wantCross)
			}
		})
	}

	t.Run("ok, empty bounds have no bbox", func(t *testing.T) {
		b := newBounds()
		b.merge(newBounds())
		if bb := b.bbox(); bb != nil {
			t.Errorf("bbox of nothing = %v, want none", bb)
		}
	})

	t.Run("ok, bbox is rounded to 7 decimals", func(t *testing.T) {
		b := newBounds()
		b.add(131.850007331018, 43.1399899166369)
		b.add(131.950008285597, 43.076811700446)
		for _, v := range b.bbox() {
			if s := strconv.FormatFloat(v, 'f', -1, 64); round7(v) != v {
				t.Errorf("bbox value %s has more than 7 decimals", s)
			}
		}
	})
}

func TestClipPolygonAtTheMeridian(t *testing.T) {
	square := func(w, s, e, n float64) [][2]float64 {
		return [][2]float64{{w, s}, {e, s}, {e, n}, {w, n}, {w, s}}
	}
	cw := func(r [][2]float64) [][2]float64 { return orient(r, false) }
	area := func(polys [][][][2]float64) float64 {
		var a float64
		for _, p := range polys {
			for _, r := range p {
				a += signedArea(r) / 2
			}
		}
		return a
	}
	tests := []struct {
		name       string
		rings      [][][2]float64
		west, east int // polygons each side
		eastRings  int // rings of the first eastern polygon
	}{
		{"ok, a hole the meridian cuts opens into a bay on each side", [][][2]float64{square(179, 0, 181, 2), cw(square(179.5, 0.5, 180.5, 1.5))}, 1, 1, 1},
		{"ok, a hole east of the meridian stays a hole", [][][2]float64{square(179, 0, 181, 2), cw(square(180.2, 0.5, 180.5, 1.5))}, 1, 1, 2},
		{"ok, a vertex on the meridian", [][][2]float64{{{179, 0}, {181, 0}, {181, 1}, {180, 1}, {179, 1}, {179, 0}}}, 1, 1, 1},
		{"ok, a C whose arms cross the meridian is two polygons east of it",
			[][][2]float64{{{179, 0}, {181, 0}, {181, 1}, {179.5, 1}, {179.5, 2}, {181, 2}, {181, 3}, {179, 3}, {179, 0}}}, 1, 2, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, e := clipPolygon(tc.rings, 180, true), clipPolygon(tc.rings, 180, false)
			if len(w) != tc.west || len(e) != tc.east {
				t.Fatalf("%d polygons west and %d east, want %d and %d: %v | %v", len(w), len(e), tc.west, tc.east, w, e)
			}
			if len(e[0]) != tc.eastRings {
				t.Errorf("the eastern polygon has %d rings, want %d: %v", len(e[0]), tc.eastRings, e[0])
			}
			var want float64
			for _, r := range tc.rings {
				want += signedArea(r) / 2
			}
			if got := area(w) + area(e); math.Abs(got-want) > 1e-12 {
				t.Errorf("the pieces' areas add up to %g, the polygon's is %g", got, want)
			}
			for _, p := range append(w, e...) {
				for i, r := range p {
					if r[0] != r[len(r)-1] || len(r) < 4 || (signedArea(r) > 0) != (i == 0) {
						t.Errorf("ring %d %v: want closed, 4 positions or more, exterior counter-clockwise and holes clockwise", i, r)
					}
					for k := 1; k < len(r); k++ {
						if r[k][0] == 180 && r[k-1][0] == 180 && k+1 < len(r) && r[k+1][0] == 180 {
							t.Errorf("ring %d %v runs along the meridian and back", i, r)
						}
					}
				}
			}
		})
	}
}

func TestSplitLineAtAVertexOnTheMeridian(t *testing.T) {
	parts := splitLine([][2]float64{{179, 0}, {180, 1}, {181, 2}}, 180)
	if len(parts) != 2 || parts[0][len(parts[0])-1] != [2]float64{180, 1} || parts[1][0] != [2]float64{180, 1} {
		t.Errorf("parts %v, want the line cut at its vertex on 180°", parts)
	}
	if parts := splitLine([][2]float64{{179, 0}, {180, 1}, {179, 2}}, 180); len(parts) != 1 {
		t.Errorf("parts %v, want a line touching 180° and turning back in one piece", parts)
	}
}

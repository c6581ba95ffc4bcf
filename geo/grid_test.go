package geo

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

var _ Transformer = Grid{}

// gridStandards is the least-squares affine of standards.md §3.5 (GDAL 3.6.2) as a grid
// in EPSG:4326, with the positions gdaltransform -order 1 gives for its pixels.
var gridStandards = Grid{
	GeoTransform: GeoTransform{131.850007331018, 2.50002386447425e-05, 9.96180118423453e-07, 43.1399899166369, -7.94059348166071e-07, -2.0000659599424e-05},
	CRS:          WGS84,
}

func TestGridForwardStandards(t *testing.T) {
	tests := []struct{ x, y, lon, lat float64 }{
		{0, 0, 131.850007331018, 43.1399899166369},
		{4000, 0, 131.950008285597, 43.1368136792442},
		{4000, 3000, 131.952996825953, 43.076811700446},
		{0, 3000, 131.852995871374, 43.0799879378386},
		{2000, 1500, 131.901502078485, 43.1084008085414},
		{0.5, 0.5, 131.850020329228, 43.1399795192774},
		{1234.5, 987.25, 131.881853604447, 43.1192639991821},
	}
	for _, tc := range tests {
		lon, lat, err := gridStandards.Forward(tc.x, tc.y)
		// gdaltransform prints 15 significant digits, and the geotransform has as many.
		if err != nil || math.Abs(lon-tc.lon) > 1e-11 || math.Abs(lat-tc.lat) > 1e-11 {
			t.Errorf("Forward(%v, %v) = %.12f, %.12f, %v; gdaltransform says %.12f, %.12f", tc.x, tc.y, lon, lat, err, tc.lon, tc.lat)
		}
	}
}

func TestGridInverse(t *testing.T) {
	grids := map[string]Grid{
		"4326 affine":  gridStandards,
		"UTM rotated":  {GeoTransform{735120.5, 2.1650635094610964, 1.25, 4777890.25, 1.25, -2.1650635094610964}, EPSG(32652)},
		"UTM south":    {GeoTransform{333000, 10, 0, 6252480, 0, -10}, EPSG(32756)},
		"web Mercator": {GeoTransform{14677000, 4.77, 0, 5330000, 0, -4.77}, WebMercator},
	}
	for name, g := range grids {
		for _, p := range [][2]float64{{0, 0}, {64, 48}, {0.5, 0.5}, {1234.5, 987.25}, {-100, 5000}} {
			lon, lat, err := g.Forward(p[0], p[1])
			if err != nil {
				t.Fatalf("%s: Forward%v: %v", name, p, err)
			}
			x, y, err := g.Inverse(lon, lat)
			if err != nil || math.Abs(x-p[0]) > 1e-6 || math.Abs(y-p[1]) > 1e-6 {
				t.Errorf("%s: Inverse(Forward%v) = (%v, %v), %v", name, p, x, y, err)
			}
		}
	}
	// The affine of a 4326 grid is inverted exactly, not fitted: to rounding.
	x, y, err := gridStandards.Inverse(131.9, 43.11)
	if err != nil {
		t.Fatal(err)
	}
	lon, lat, _ := gridStandards.Forward(x, y)
	if math.Abs(lon-131.9) > 1e-13 || math.Abs(lat-43.11) > 1e-13 {
		t.Errorf("Forward(Inverse(131.9, 43.11)) = %v, %v", lon, lat)
	}
}

func TestGridErrors(t *testing.T) {
	singular := Grid{GeoTransform{0, 1, 2, 0, 2, 4}, WGS84}
	if _, _, err := singular.Inverse(1, 1); !errors.Is(err, ErrInvalid) {
		t.Errorf("Inverse on a singular grid: %v, want ErrInvalid", err)
	}
	// A 4326 grid running past the pole.
	g := Grid{GeoTransform{0, 1, 0, 89, 0, 1}, WGS84}
	if _, _, err := g.Forward(0, 2); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Forward beyond the pole: %v, want ErrOutOfRange", err)
	}
	if _, _, err := (Grid{GeoTransform{0, 1, 0, 0, 0, -1}, EPSG(32600)}).Forward(0, 0); !errors.Is(err, ErrUnsupportedCRS) {
		t.Errorf("Forward in EPSG:32600, which is no CRS: %v, want ErrUnsupportedCRS", err)
	}
	if _, _, err := (Grid{GeoTransform{0, 1, 0, 0, 0, -1}, EPSG(32652)}).Inverse(-50, 0); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Inverse far outside a UTM zone: %v, want ErrOutOfRange", err)
	}
}

func TestGridValidate(t *testing.T) {
	tests := []struct {
		name string
		grid Grid
		kind error
	}{
		{"ok, north-up UTM", Grid{GeoTransform{735120.5, 2.5, 0, 4777890.25, 0, -2.5}, EPSG(32652)}, nil},
		{"ok, rotated 90°", Grid{GeoTransform{500000, 0, 2, 4000002, -2, 0}, EPSG(32652)}, nil},
		{"ok, 4326", gridStandards, nil},
		{"nok, NaN origin", Grid{GeoTransform{math.NaN(), 1, 0, 0, 0, -1}, WGS84}, ErrInvalid},
		{"nok, infinite pixel", Grid{GeoTransform{0, math.Inf(1), 0, 0, 0, -1}, WGS84}, ErrInvalid},
		{"nok, zero pixel width", Grid{GeoTransform{0, 0, 0, 0, 0, -1}, WGS84}, ErrInvalid},
		{"nok, singular", Grid{GeoTransform{0, 1, 2, 0, 2, 4}, WGS84}, ErrInvalid},
		{"nok, determinant overflowing", Grid{GeoTransform{0, 1e200, 0, 0, 0, -1e200}, WGS84}, ErrInvalid},
		{"ok, Lambert-93", Grid{GeoTransform{652000, 1, 0, 6862048, 0, -1}, EPSG(2154)}, nil},
		{"nok, unknown EPSG code", Grid{GeoTransform{0, 1, 0, 0, 0, -1}, EPSG(32600)}, ErrUnsupportedCRS},
		{"nok, no CRS", Grid{GeoTransform: GeoTransform{0, 1, 0, 0, 0, -1}}, ErrUnsupportedCRS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.grid.Validate()
			if tc.kind == nil && err != nil || tc.kind != nil && !errors.Is(err, tc.kind) {
				t.Errorf("Validate() = %v, want %v", err, tc.kind)
			}
		})
	}
}

func TestGridLinearAndJSON(t *testing.T) {
	for c, want := range map[CRS]bool{WGS84: true, WebMercator: false, EPSG(32652): false, EPSG(32756): false, EPSG(4269): false} {
		if got := (Grid{CRS: c}).Linear(); got != want {
			t.Errorf("Grid in %s: Linear() = %v, want %v", c, got, want)
		}
	}
	b, err := json.Marshal(Grid{GeoTransform{735120.5, 2.5, 0, 4777890.25, 0, -2.5}, EPSG(32652)})
	if want := `{"geotransform":[735120.5,2.5,0,4777890.25,0,-2.5],"crs":32652}`; err != nil || string(b) != want {
		t.Errorf("JSON %s, %v; want %s", b, err, want)
	}
}

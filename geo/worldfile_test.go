package geo

import (
	"bufio"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// worldFileVectors reads testdata/worldfiles.txt: for each world file under
// testdata/worldfile/, the geotransform GDAL reads from it ("gt") and, for those GDAL
// wrote, the geotransform it wrote it from ("source").
func worldFileVectors(t *testing.T) (gdal, source map[string]GeoTransform) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "worldfiles.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gdal, source = map[string]GeoTransform{}, map[string]GeoTransform{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) != 8 {
			t.Fatalf("worldfiles.txt:%d: %d fields, want 8", n, len(fields))
		}
		var gt GeoTransform
		for i := range gt {
			if gt[i], err = strconv.ParseFloat(fields[2+i], 64); err != nil {
				t.Fatalf("worldfiles.txt:%d: %v", n, err)
			}
		}
		switch fields[0] {
		case "gt":
			gdal[fields[1]] = gt
		case "source":
			source[fields[1]] = gt
		default:
			t.Fatalf("worldfiles.txt:%d: unknown %q", n, fields[0])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return gdal, source
}

// worldFileClose compares geotransforms term by term, relative to the larger term.
func worldFileClose(a, b GeoTransform, rel float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > rel*math.Max(math.Abs(a[i]), math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// TestWorldFileAgainstGDAL reads every world file under testdata/worldfile/ (written by
// GDAL, or by hand and read by GDAL) and checks it against what GDAL reads: 1e-12 relative.
func TestWorldFileAgainstGDAL(t *testing.T) {
	gdal, source := worldFileVectors(t)
	files, err := filepath.Glob(filepath.Join("testdata", "worldfile", "*"))
	if err != nil || len(files) != len(gdal) || len(files) < 6 {
		t.Fatalf("%d world files for %d vectors (%v)", len(files), len(gdal), err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseWorldFile(string(text))
			if err != nil {
				t.Fatal(err)
			}
			want, ok := gdal[name]
			if !ok {
				t.Fatalf("no vector for %s", name)
			}
			if !worldFileClose(got, want, 1e-12) {
				t.Errorf("ParseWorldFile = %v, GDAL reads %v", got, want)
			}
			src, ok := source[name]
			if !ok {
				return
			}
			// What WorldFile writes reads back as the source geotransform; what GDAL
			// wrote only to its ten decimals.
			back, err := ParseWorldFile(src.WorldFile())
			if err != nil || !worldFileClose(back, src, 1e-15) {
				t.Errorf("ParseWorldFile(%v.WorldFile()) = %v, %v", src, back, err)
			}
			for i := range got { // %.10f: each number to 5e-11, the origin to 1e-10
				if math.Abs(got[i]-src[i]) > 1e-10 {
					t.Errorf("GDAL's world file %v is further from its source %v than %%.10f explains", got, src)
				}
			}
		})
	}
	// standards.md §3.5: GDAL's world file of a degree-sized affine has lost digits.
	if src, gdalGT := source["degrees"], gdal["degrees"]; worldFileClose(src, gdalGT, 1e-9) {
		t.Errorf("expected GDAL's %%.10f world file to lose precision: %v vs %v", gdalGT, src)
	}
}

// TestWorldFileStandards checks the verified conversions of standards.md §4.
func TestWorldFileStandards(t *testing.T) {
	gt := GeoTransform{100, 1, 0.2, 200, 0.3, -1}
	lines := strings.Fields(gt.WorldFile())
	want := []float64{1, 0.3, 0.2, -1, 100.6, 199.65}
	if len(lines) != 6 {
		t.Fatalf("WorldFile() = %q, want six lines", gt.WorldFile())
	}
	for i, line := range lines {
		v, err := strconv.ParseFloat(line, 64)
		if err != nil || math.Abs(v-want[i]) > 1e-12 {
			t.Errorf("line %d = %q, want %v", i+1, line, want[i])
		}
	}
	back, err := ParseWorldFile("1\n0.3\n0.2\n-1\n100.6\n199.65\n")
	if err != nil || !worldFileClose(back, gt, 1e-14) {
		t.Errorf("ParseWorldFile of §4's lines = %v, %v; want %v", back, err, gt)
	}
	jgw, err := ParseWorldFile("0.000025\n0\n0\n-0.00002\n131.8500125\n43.13999\n")
	if err != nil || math.Abs(jgw[0]-131.85) > 1e-12 || math.Abs(jgw[3]-43.14) > 1e-12 {
		t.Errorf("the hand-written .jgw gives origin (%v, %v), %v; want (131.85, 43.14)", jgw[0], jgw[3], err)
	}
}

func TestWorldFileRoundTrip(t *testing.T) {
	for _, gt := range []GeoTransform{
		{131.850007331018, 2.50002386447425e-05, 9.96180118423453e-07, 43.1399899166369, -7.94059348166071e-07, -2.0000659599424e-05},
		{735120.5, 2.1650635094610964, 1.25, 4777890.25, 1.25, -2.1650635094610964},
		{-20037508.342789244, 0.29858214173896974, 0, 20037508.342789244, 0, -0.29858214173896974},
		{0.1, 1.0 / 3, 0, 0.2, 0, -1.0 / 7},
		{1e-300, 1e-300, 0, -1e300, 0, -1e290},
	} {
		text := gt.WorldFile()
		if strings.Count(text, "\n") != 6 || strings.ContainsAny(text, " \r") {
			t.Errorf("WorldFile() = %q, want six lines of one number each", text)
		}
		back, err := ParseWorldFile(text)
		if err != nil {
			t.Fatalf("ParseWorldFile(%q): %v", text, err)
		}
		// The pixel terms come back bit for bit; the origin through C = GT0 + GT1/2 + GT2/2
		// and back, to a rounding.
		for _, i := range []int{1, 2, 4, 5} {
			if back[i] != gt[i] {
				t.Errorf("term %d: %v → %q → %v", i, gt[i], text, back[i])
			}
		}
		for _, i := range []int{0, 3} {
			pixel := math.Abs(gt[i+1]) + math.Abs(gt[i+2])
			if d := math.Abs(back[i] - gt[i]); d > 4e-16*(math.Abs(gt[i])+pixel) {
				t.Errorf("term %d: %v → %v (%.3g off)", i, gt[i], back[i], d)
			}
		}
		// And the text itself survives a second round.
		if again := back.WorldFile(); again != text {
			lines1, lines2 := strings.Fields(text), strings.Fields(again)
			for i := range lines1 {
				a, _ := strconv.ParseFloat(lines1[i], 64)
				b, _ := strconv.ParseFloat(lines2[i], 64)
				if math.Abs(a-b) > 4e-16*math.Abs(a) {
					t.Errorf("line %d: %s, then %s", i+1, lines1[i], lines2[i])
				}
			}
		}
	}
}

func TestParseWorldFile(t *testing.T) {
	ok := []struct {
		name string
		text string
		want GeoTransform
	}{
		{"ok, plain", "2\n0\n0\n-2\n101\n199\n", GeoTransform{100, 2, 0, 200, 0, -2}},
		{"ok, no final newline", "2\n0\n0\n-2\n101\n199", GeoTransform{100, 2, 0, 200, 0, -2}},
		{"ok, CRLF and blank lines after", "2\r\n0\r\n0\r\n-2\r\n101\r\n199\r\n\r\n  \r\n", GeoTransform{100, 2, 0, 200, 0, -2}},
		{"ok, whitespace around", "  2 \n\t0\n0\t\n -2\n101  \n  199\n", GeoTransform{100, 2, 0, 200, 0, -2}},
		{"ok, exponents and plus signs", "2E0\n0e-3\n+0\n-2.0E+00\n1.01e2\n1.99E2\n", GeoTransform{100, 2, 0, 200, 0, -2}},
		{"ok, byte-order mark", "\ufeff2\n0\n0\n-2\n101\n199\n", GeoTransform{100, 2, 0, 200, 0, -2}},
		{"ok, rotated 90°: A = E = 0", "0\n-2\n2\n0\n500001\n4000001\n", GeoTransform{500000, 0, 2, 4000002, -2, 0}},
		{"ok, south-up", "2\n0\n0\n2\n101\n201\n", GeoTransform{100, 2, 0, 200, 0, 2}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWorldFile(tc.text)
			if err != nil || got != tc.want {
				t.Errorf("ParseWorldFile(%q) = %v, %v; want %v", tc.text, got, err, tc.want)
			}
		})
	}

	nok := []struct {
		name string
		text string
		says string // in the message
	}{
		{"nok, empty", "", "has 0 lines"},
		{"nok, five lines", "2\n0\n0\n-2\n101\n", "has 5 lines; it needs six"},
		{"nok, seven lines", "2\n0\n0\n-2\n101\n199\n7\n", "line 7"},
		{"nok, blank line in the middle", "2\n0\n\n-2\n101\n199\n", "line 3 is empty"},
		{"nok, two numbers on a line", "2 0\n0\n0\n-2\n101\n199\n", "line 1 holds \"2 0\": more than one number"},
		{"nok, comma decimal", "2,5\n0\n0\n-2\n101\n199\n", "line 1"},
		{"nok, a word", "2\n0\n0\n-2\neast\n199\n", "line 5 holds \"east\", which is not a number"},
		{"nok, NaN", "2\n0\n0\n-2\n101\nNaN\n", "line 6 holds \"NaN\", which is not a finite number"},
		{"nok, infinity", "inf\n0\n0\n-2\n101\n199\n", "line 1 holds \"inf\", which is not a finite number"},
		{"nok, overflowing", "2\n0\n0\n-2\n1e400\n199\n", "line 5 holds \"1e400\", which is not a finite number"},
		{"nok, zero pixel width", "0\n0\n0\n-2\n101\n199\n", "line 1: the pixel width A is 0"},
		{"nok, zero pixel height", "2\n0\n0\n0\n101\n199\n", "line 4: the pixel height E is 0"},
		{"nok, singular", "2\n1\n4\n2\n101\n199\n", "A·E − B·D = 0"},
		{"nok, determinant overflowing", "1e300\n0\n0\n-1e300\n101\n199\n", "singular"},
	}
	for _, tc := range nok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWorldFile(tc.text)
			var e *Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Field != "worldfile" || !strings.Contains(e.Message, tc.says) {
				t.Errorf("ParseWorldFile(%q) = %v, %v; want an ErrInvalid for the field worldfile saying %q", tc.text, got, err, tc.says)
			}
		})
	}
}

func TestGridFromWorldFile(t *testing.T) {
	read := func(dir, name string) string {
		b, err := os.ReadFile(filepath.Join("testdata", dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	utm, degrees := read("worldfile", "utm.wld"), read("worldfile", "degrees.wld")
	prj32652, prj4326 := read("wkt", "esri-32652.prj"), read("wkt", "wkt1-4326.prj")
	ok := []struct {
		name           string
		worldfile, prj string
		epsg           string
		want           CRS
	}{
		{"ok, degrees without a CRS", degrees, "", "", WGS84},
		{"ok, metres with an EPSG code", utm, "", "32652", EPSG(32652)},
		{"ok, metres with EPSG:… in lower case, spaced", utm, "", " epsg:32652 ", EPSG(32652)},
		{"ok, metres with a .prj", utm, prj32652, "", EPSG(32652)},
		{"ok, the EPSG code wins over the .prj", utm, prj4326, "EPSG:32652", EPSG(32652)},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			g, err := GridFromWorldFile(tc.worldfile, tc.prj, tc.epsg)
			if err != nil {
				t.Fatal(err)
			}
			gt, _ := ParseWorldFile(tc.worldfile)
			if g.CRS != tc.want || g.GeoTransform != gt {
				t.Errorf("grid %v in %s, want %v in %s", g.GeoTransform, g.CRS, gt, tc.want)
			}
		})
	}
	nok := []struct {
		name           string
		worldfile, prj string
		epsg           string
		kind           error
		field, says    string
	}{
		{"nok, metres without a CRS", utm, "", "", ErrUnsupportedCRS, "crs", "not degrees"},
		{"nok, an EPSG code PROJ does not know", utm, "", "EPSG:999999", ErrUnsupportedCRS, "crs", "EPSG:999999 is not a CRS PROJ knows"},
		{"nok, a CRS with no inverse", utm, "", "EPSG:32600", ErrUnsupportedCRS, "crs", "PROJ cannot convert positions of EPSG:32600"},
		{"nok, UTM numbers said to be polar stereographic", utm, "", "EPSG:3413", ErrOutOfRange, "geotransform", "top-left corner (735120.5, 4.77789025e+06) in EPSG:3413 is not on the earth"},
		{"nok, a CRS that is not an EPSG code", utm, "", "Lambert-93", ErrInvalid, "crs", `"Lambert-93" is not an EPSG code`},
		{"nok, a .prj that is not WKT", utm, "this is not WKT", "", ErrInvalid, "wkt", ""},
		{"nok, a bad world file, whatever the CRS", "2\n0\n", "", "32652", ErrInvalid, "worldfile", "has 2 lines"},
	}
	for _, tc := range nok {
		t.Run(tc.name, func(t *testing.T) {
			g, err := GridFromWorldFile(tc.worldfile, tc.prj, tc.epsg)
			var e *Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &e) || (tc.field != "" && e.Field != tc.field) || !strings.Contains(e.Message, tc.says) {
				t.Errorf("GridFromWorldFile = %v, %v; want a %v for the field %q saying %q", g, err, tc.kind, tc.field, tc.says)
			}
		})
	}
}

package geo

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// geoTIFFExpected is what GDAL read from one of testdata/geotiff/*.tif (geotiffs.txt).
type geoTIFFExpected struct {
	crs     string
	gt, raw *GeoTransform
	corners [][4]float64 // pixel x, y, lon, lat
	gcps    [][4]float64 // pixel, line, x, y
	warned  bool         // GDAL warned when it read the file
}

func readGeoTIFFVectors(t *testing.T) map[string]*geoTIFFExpected {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "geotiffs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all := map[string]*geoTIFFExpected{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 2 {
			t.Fatalf("geotiffs.txt:%d: too few fields", n)
		}
		e := all[fields[1]]
		if e == nil {
			e = &geoTIFFExpected{}
			all[fields[1]] = e
		}
		switch fields[0] {
		case "crs":
			e.crs = fields[2]
			continue
		case "gdalwarning":
			e.warned = true
			continue
		}
		nums := make([]float64, len(fields)-2)
		for i := range nums {
			if nums[i], err = strconv.ParseFloat(fields[2+i], 64); err != nil {
				t.Fatalf("geotiffs.txt:%d: %v", n, err)
			}
		}
		switch {
		case (fields[0] == "gt" || fields[0] == "raw") && len(nums) == 6:
			gt := GeoTransform(nums)
			if fields[0] == "gt" {
				e.gt = &gt
			} else {
				e.raw = &gt
			}
		case fields[0] == "corner" && len(nums) == 4:
			e.corners = append(e.corners, [4]float64(nums))
		case fields[0] == "gcp" && len(nums) == 4:
			e.gcps = append(e.gcps, [4]float64(nums))
		default:
			t.Fatalf("geotiffs.txt:%d: cannot read %q", n, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return all
}

func readGeoTIFFFile(t *testing.T, name string) GeoTIFF {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "geotiff", name))
	if err != nil {
		t.Fatal(err)
	}
	g, err := ReadGeoTIFF(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ReadGeoTIFF(%s): %v", name, err)
	}
	return g
}

// geoTIFFSameGT compares geotransforms to 1e-12 relative, term by term.
func geoTIFFSameGT(a, b GeoTransform) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*math.Max(math.Abs(a[i]), math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// geoTIFFMetres is the distance between two nearby lon/lat positions, in metres.
func geoTIFFMetres(lon1, lat1, lon2, lat2 float64) float64 {
	const metresPerDegree = 6378137 * math.Pi / 180
	return metresPerDegree * math.Hypot((lon1-lon2)*math.Cos(lat1*math.Pi/180), lat1-lat2)
}

// TestGeoTIFFAgainstGDAL reads every GeoTIFF GDAL wrote (make-geotiffs.sh) and checks
// the grid against gdalinfo (1e-12 relative) and its corners against gdaltransform
// (1 mm), and that what GDAL does not georeference comes back as a warning.
func TestGeoTIFFAgainstGDAL(t *testing.T) {
	vectors := readGeoTIFFVectors(t)
	files, err := filepath.Glob(filepath.Join("testdata", "geotiff", "*.tif"))
	if err != nil || len(files) < 12 {
		t.Fatalf("test GeoTIFFs: %v, %v", files, err)
	}
	worst := 0.0
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			g := readGeoTIFFFile(t, name)
			want := vectors[name]
			if want == nil {
				want = &geoTIFFExpected{}
			}
			crs, _ := strconv.Atoi(strings.TrimPrefix(want.crs, "EPSG:"))
			supported := want.crs != "" && EPSG(crs).Valid() == nil
			switch {
			case want.gt != nil && supported:
				if g.Grid == nil {
					t.Fatalf("no grid; warnings %q", g.Warnings)
				}
				if want.warned != (len(g.Warnings) > 0) {
					t.Errorf("warnings %q; GDAL warned: %v", g.Warnings, want.warned)
				}
				if g.Grid.CRS != EPSG(crs) {
					t.Errorf("CRS %s, GDAL says %s", g.Grid.CRS, want.crs)
				}
				if !geoTIFFSameGT(g.Grid.GeoTransform, *want.gt) {
					t.Errorf("geotransform %v, gdalinfo says %v", g.Grid.GeoTransform, *want.gt)
				}
				if len(want.corners) != 6 {
					t.Fatalf("%d gdaltransform vectors, want 6", len(want.corners))
				}
				for _, c := range want.corners {
					lon, lat, err := g.Grid.Forward(c[0], c[1])
					if err != nil {
						t.Fatal(err)
					}
					d := geoTIFFMetres(lon, lat, c[2], c[3])
					worst = max(worst, d)
					if d > 1e-3 {
						t.Errorf("Forward(%v, %v) = (%.12f, %.12f), gdaltransform says (%.12f, %.12f): %.3g m apart", c[0], c[1], lon, lat, c[2], c[3], d)
					}
					x, y, err := g.Grid.Inverse(c[2], c[3])
					if err != nil || math.Hypot(x-c[0], y-c[1]) > 1e-5 {
						t.Errorf("Inverse(%v, %v) = (%v, %v), %v; want (%v, %v)", c[2], c[3], x, y, err, c[0], c[1])
					}
				}
			case want.gt != nil:
				if g.Grid != nil || !geoTIFFWarned(g, want.crs, "not supported") {
					t.Errorf("grid %v, warnings %q; want no grid and a warning that %s is not supported", g.Grid, g.Warnings, want.crs)
				}
			case len(want.gcps) > 0:
				if g.Grid != nil || !geoTIFFWarned(g, strconv.Itoa(len(want.gcps))+" control points", "georeference it in the editor") {
					t.Errorf("grid %v, warnings %q; want no grid and a warning about %d control points", g.Grid, g.Warnings, len(want.gcps))
				}
				if len(g.ControlPoints) != len(want.gcps) {
					t.Fatalf("%d control points, GDAL says %d", len(g.ControlPoints), len(want.gcps))
				}
				for i, p := range want.gcps {
					lon, lat, err := EPSG(crs).ToLonLat(p[2], p[3])
					if err != nil {
						t.Fatal(err)
					}
					got := g.ControlPoints[i]
					if math.Abs(got.Pixel[0]-p[0]) > 1e-12 || math.Abs(got.Pixel[1]-p[1]) > 1e-12 ||
						geoTIFFMetres(got.LonLat[0], got.LonLat[1], lon, lat) > 1e-6 {
						t.Errorf("control point %d = %+v, GDAL says pixel (%v, %v) at %v, %v in %s", i+1, got, p[0], p[1], p[2], p[3], want.crs)
					}
				}
			default: // not a GeoTIFF at all: nothing to say
				if g.Grid != nil || len(g.Warnings) > 0 {
					t.Errorf("grid %v, warnings %q; want neither", g.Grid, g.Warnings)
				}
			}
		})
	}
	t.Logf("worst distance from gdaltransform: %.3g m", worst)
}

// geoTIFFWarned reports whether one warning contains every part.
func geoTIFFWarned(g GeoTIFF, parts ...string) bool {
	for _, w := range g.Warnings {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(w, p)
		}
		if all {
			return true
		}
	}
	return false
}

// TestGeoTIFFPixelIsPoint: GDAL writes a PixelIsPoint file with the tiepoint at the
// centre of the top-left pixel and reads it back shifted by half a pixel; so does
// ReadGeoTIFF, for tiepoints, transformation matrices and control points alike.
func TestGeoTIFFPixelIsPoint(t *testing.T) {
	vectors := readGeoTIFFVectors(t)
	for _, name := range []string{"point.tif", "rotated-point.tif"} {
		want := vectors[name]
		if want == nil || want.raw == nil || want.gt == nil {
			t.Fatalf("%s: no raw geotransform in geotiffs.txt", name)
		}
		data, err := os.ReadFile(filepath.Join("testdata", "geotiff", name))
		if err != nil {
			t.Fatal(err)
		}
		dir, err := readTIFFGeoTags(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var g GeoTIFF
		stored, ok, _ := g.geoTransform(dir)
		if !ok || !geoTIFFSameGT(stored, *want.raw) {
			t.Errorf("%s: the tags say %v, GDAL with GTIFF_POINT_GEO_IGNORE says %v", name, stored, *want.raw)
		}
		if got := readGeoTIFFFile(t, name); got.Grid == nil || !geoTIFFSameGT(got.Grid.GeoTransform, *want.gt) {
			t.Errorf("%s: ReadGeoTIFF = %+v, GDAL says %v", name, got.Grid, *want.gt)
		}
	}
	// Control points: the stored tiepoints are half a pixel less than what GDAL reports.
	g := readGeoTIFFFile(t, "gcps-point.tif")
	if len(g.ControlPoints) == 0 || g.ControlPoints[0].Pixel != [2]float64{3.2, 2.4} {
		t.Errorf("control points %+v, want the first at pixel (3.2, 2.4)", g.ControlPoints)
	}
}

// geoTIFFSpec describes a small classic TIFF with GeoTIFF tags, built in the tests.
type geoTIFFSpec struct {
	order interface {
		binary.ByteOrder
		binary.AppendByteOrder
	}
	scale  []float64
	ties   []float64
	matrix []float64
	keys   []uint16
	extra  []geoTIFFTag // added as they are, replacing a tag of the same number
}

type geoTIFFTag struct {
	tag, typ uint16
	count    uint32
	data     []byte
}

// utmGeoTIFF is a north-up 2.5 m grid in UTM 52N, as GDAL writes one.
func utmGeoTIFF() geoTIFFSpec {
	return geoTIFFSpec{
		order: binary.LittleEndian,
		scale: []float64{2.5, 2.5, 0},
		ties:  []float64{0, 0, 0, 735120.5, 4777890.25, 0},
		keys:  []uint16{1, 1, 0, 3, 1024, 0, 1, 1, 1025, 0, 1, 1, 3072, 0, 1, 32652},
	}
}

func (s geoTIFFSpec) bytes() []byte {
	bo := s.order
	doubles := func(v []float64) []byte {
		b := make([]byte, 8*len(v))
		for i, x := range v {
			bo.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	}
	tags := map[uint16]geoTIFFTag{
		256: {256, 3, 1, []byte{64, 0}}, // ImageWidth, little-endian; only its presence matters
	}
	if s.scale != nil {
		tags[33550] = geoTIFFTag{33550, 12, uint32(len(s.scale)), doubles(s.scale)}
	}
	if s.ties != nil {
		tags[33922] = geoTIFFTag{33922, 12, uint32(len(s.ties)), doubles(s.ties)}
	}
	if s.matrix != nil {
		tags[34264] = geoTIFFTag{34264, 12, uint32(len(s.matrix)), doubles(s.matrix)}
	}
	if s.keys != nil {
		b := make([]byte, 2*len(s.keys))
		for i, k := range s.keys {
			bo.PutUint16(b[2*i:], k)
		}
		tags[34735] = geoTIFFTag{34735, 3, uint32(len(s.keys)), b}
	}
	for _, e := range s.extra {
		tags[e.tag] = e
	}
	ids := make([]int, 0, len(tags))
	for id := range tags {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	var out []byte
	if bo == binary.BigEndian {
		out = []byte("MM\x00\x2a\x00\x00\x00\x08")
	} else {
		out = []byte("II\x2a\x00\x08\x00\x00\x00")
	}
	out = bo.AppendUint16(out, uint16(len(ids)))
	dataAt := 8 + 2 + 12*len(ids) + 4
	var data []byte
	for _, id := range ids {
		e := tags[uint16(id)]
		out = bo.AppendUint16(out, e.tag)
		out = bo.AppendUint16(out, e.typ)
		out = bo.AppendUint32(out, e.count)
		if len(e.data) <= 4 {
			out = append(out, append(e.data, make([]byte, 4-len(e.data))...)...)
			continue
		}
		out = bo.AppendUint32(out, uint32(dataAt+len(data)))
		data = append(data, e.data...)
	}
	out = bo.AppendUint32(out, 0) // no next directory
	return append(out, data...)
}

func readGeoTIFFBytes(t *testing.T, b []byte) GeoTIFF {
	t.Helper()
	g, err := ReadGeoTIFF(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("ReadGeoTIFF: %v", err)
	}
	return g
}

func TestGeoTIFFCrafted(t *testing.T) {
	utmGT := GeoTransform{735120.5, 2.5, 0, 4777890.25, 0, -2.5}
	ok := []struct {
		name   string
		edit   func(s *geoTIFFSpec)
		want   GeoTransform
		crs    int
		warned string
	}{
		{"ok, tiepoint and pixel scale", func(s *geoTIFFSpec) {}, utmGT, 32652, ""},
		{"ok, big-endian", func(s *geoTIFFSpec) { s.order = binary.BigEndian }, utmGT, 32652, ""},
		{"ok, tiepoint away from the origin", func(s *geoTIFFSpec) { s.ties = []float64{10, 20, 0, 735145.5, 4777840.25, 0} }, utmGT, 32652, ""},
		{"ok, matrix agreeing with tiepoint and scale", func(s *geoTIFFSpec) {
			s.matrix = []float64{2.5, 0, 0, 735120.5, 0, -2.5, 0, 4777890.25, 0, 0, 0, 0, 0, 0, 0, 1}
		}, utmGT, 32652, ""},
		{"ok, no model type but a projected CRS", func(s *geoTIFFSpec) {
			s.keys = []uint16{1, 1, 0, 1, 3072, 0, 1, 32652}
		}, utmGT, 32652, ""},
		{"ok, key value kept in the directory itself", func(s *geoTIFFSpec) {
			s.keys = []uint16{1, 1, 0, 2, 1024, 0, 1, 1, 3072, 34735, 1, 12, 32652}
		}, utmGT, 32652, ""},
		{"ok, geographic", func(s *geoTIFFSpec) {
			s.scale = []float64{0.25, 0.5, 0}
			s.ties = []float64{0, 0, 0, -10, 50, 0}
			s.keys = []uint16{1, 1, 0, 3, 1024, 0, 1, 2, 2048, 0, 1, 4326, 2054, 0, 1, 9102}
		}, GeoTransform{-10, 0.25, 0, 50, 0, -0.5}, 4326, ""},
		{"ok, Lambert-93 through OSR", func(s *geoTIFFSpec) {
			s.ties = []float64{0, 0, 0, 652000, 6862048, 0}
			s.keys[15] = 2154
		}, GeoTransform{652000, 2.5, 0, 6862048, 0, -2.5}, 2154, ""},
		{"ok, US survey feet in a CRS measured in them", func(s *geoTIFFSpec) {
			s.ties = []float64{0, 0, 0, 6006747, 2108529, 0} // San Francisco
			s.keys = append(s.keys, 3076, 0, 1, 9003)
			s.keys[3]++
			s.keys[15] = 2227 // NAD83 / California zone 3 (ftUS)
		}, GeoTransform{6006747, 2.5, 0, 2108529, 0, -2.5}, 2227, ""},
		{"ok, geographic NAD83 through OSR", func(s *geoTIFFSpec) {
			s.scale = []float64{0.25, 0.5, 0}
			s.ties = []float64{0, 0, 0, -100, 50, 0}
			s.keys = []uint16{1, 1, 0, 2, 1024, 0, 1, 2, 2048, 0, 1, 4269}
		}, GeoTransform{-100, 0.25, 0, 50, 0, -0.5}, 4269, ""},
		{"ok, raster type 3 read as area", func(s *geoTIFFSpec) {
			s.keys = []uint16{1, 1, 0, 2, 1025, 0, 1, 3, 3072, 0, 1, 32652}
		}, utmGT, 32652, "neither PixelIsArea"},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			s := utmGeoTIFF()
			tc.edit(&s)
			g := readGeoTIFFBytes(t, s.bytes())
			if g.Grid == nil || g.Grid.GeoTransform != tc.want || g.Grid.CRS != EPSG(tc.crs) {
				t.Fatalf("grid %+v, warnings %q; want %v in EPSG:%d", g.Grid, g.Warnings, tc.want, tc.crs)
			}
			if (tc.warned == "") != (len(g.Warnings) == 0) || !geoTIFFWarned(g, tc.warned) && tc.warned != "" {
				t.Errorf("warnings %q, want one saying %q", g.Warnings, tc.warned)
			}
		})
	}

	nok := []struct {
		name   string
		edit   func(s *geoTIFFSpec)
		warned string
	}{
		{"nok, zero pixel scale", func(s *geoTIFFSpec) { s.scale = []float64{2.5, 0, 0} }, "cannot have no size"},
		{"nok, NaN in the tiepoint", func(s *geoTIFFSpec) { s.ties[3] = math.NaN() }, "not finite"},
		{"nok, infinite scale", func(s *geoTIFFSpec) { s.scale[0] = math.Inf(1) }, "not finite"},
		{"nok, pixel scale with two values", func(s *geoTIFFSpec) { s.scale = []float64{2.5, 2.5} }, "ModelPixelScaleTag has 2 values instead of 3"},
		{"nok, tiepoint of FLOATs", func(s *geoTIFFSpec) {
			s.extra = []geoTIFFTag{{33922, 11, 6, make([]byte, 24)}}
		}, "ModelTiepointTag has TIFF type 11 instead of DOUBLE"},
		{"nok, GeoKeys as LONGs", func(s *geoTIFFSpec) {
			s.extra = []geoTIFFTag{{34735, 4, 4, make([]byte, 16)}}
		}, "GeoKeyDirectoryTag has TIFF type 4 instead of SHORT"},
		{"nok, seven tiepoint values", func(s *geoTIFFSpec) { s.ties = append(s.ties, 1) }, "not a multiple of six"},
		{"nok, matrix contradicting the tiepoint", func(s *geoTIFFSpec) {
			s.matrix = []float64{2.5, 0, 0, 735120.5, 0, -2.5, 0, 4777900.25, 0, 0, 0, 0, 0, 0, 0, 1}
		}, "they disagree"},
		{"nok, matrix of 12 values", func(s *geoTIFFSpec) { s.scale, s.ties, s.matrix = nil, nil, make([]float64, 12) }, "12 values instead of 16"},
		{"nok, singular matrix", func(s *geoTIFFSpec) { s.scale, s.ties, s.matrix = nil, nil, make([]float64, 16) }, "singular"},
		{"nok, scale without tiepoint", func(s *geoTIFFSpec) { s.ties = nil }, "no tiepoint"},
		{"nok, one tiepoint without scale", func(s *geoTIFFSpec) { s.scale = nil }, "has 1 control point but no geotransform"},
		{"nok, keys without any placement", func(s *geoTIFFSpec) { s.ties, s.scale = nil, nil }, "position is unknown"},
		{"nok, no GeoKey directory", func(s *geoTIFFSpec) { s.keys = nil }, "CRS is unknown"},
		{"nok, GeoKey directory cut short", func(s *geoTIFFSpec) { s.keys = s.keys[:9] }, "holds 3 keys but has room for 1"},
		{"nok, GeoKey directory without a header", func(s *geoTIFFSpec) { s.keys = s.keys[:3] }, "GeoKeyDirectoryTag has 3 values"},
		{"nok, GeoKey directory claiming more keys", func(s *geoTIFFSpec) { s.keys[3] = 9 }, "cut short"},
		{"nok, GeoKey directory version 2", func(s *geoTIFFSpec) { s.keys[0] = 2 }, "version 2"},
		{"nok, unknown model type", func(s *geoTIFFSpec) { s.keys[7] = 7 }, "model type (GTModelTypeGeoKey) is 7"},
		{"nok, geocentric", func(s *geoTIFFSpec) { s.keys[7] = 3 }, "geocentric"},
		{"nok, user-defined projection", func(s *geoTIFFSpec) { s.keys[15] = 32767 }, "user-defined"},
		{"nok, an EPSG code PROJ does not know", func(s *geoTIFFSpec) { s.keys[15] = 9999 }, "EPSG:9999 cannot be used: EPSG:9999 is not a CRS PROJ knows"},
		{"nok, a CRS with no inverse", func(s *geoTIFFSpec) { s.keys[15] = 32600 }, "EPSG:32600 cannot be used: PROJ cannot convert positions of EPSG:32600"},
		{"nok, a vertical CRS", func(s *geoTIFFSpec) { s.keys[15] = 5773 }, "is not a projected or geographic CRS"},
		{"nok, projected but 4326", func(s *geoTIFFSpec) { s.keys[15] = 4326 }, "geographic CRS"},
		{"nok, projected without a code", func(s *geoTIFFSpec) { s.keys = []uint16{1, 1, 0, 1, 1024, 0, 1, 1} }, "no ProjectedCSTypeGeoKey"},
		{"nok, geographic without a code", func(s *geoTIFFSpec) { s.keys = []uint16{1, 1, 0, 1, 1024, 0, 1, 2} }, "no GeographicTypeGeoKey"},
		{"nok, UTM numbers said to be Lambert-93", func(s *geoTIFFSpec) { s.keys[15] = 2154 }, "top-left corner (735120.5, 4.77789025e+06) in EPSG:2154 is not on the earth"},
		{"nok, geographic but Lambert-93", func(s *geoTIFFSpec) { s.keys = []uint16{1, 1, 0, 2, 1024, 0, 1, 2, 2048, 0, 1, 2154} }, "EPSG:2154, which is a projected CRS"},
		{"nok, no model type and no CRS", func(s *geoTIFFSpec) { s.keys = []uint16{1, 1, 0, 1, 1025, 0, 1, 1} }, "no GTModelTypeGeoKey"},
		{"nok, feet", func(s *geoTIFFSpec) { s.keys = append(s.keys, 3076, 0, 1, 9002); s.keys[3]++ }, "linear units 9002"},
		{"nok, grads", func(s *geoTIFFSpec) {
			s.keys = []uint16{1, 1, 0, 3, 1024, 0, 1, 2, 2048, 0, 1, 4326, 2054, 0, 1, 9105}
		}, "angular units 9105"},
		{"nok, CRS key in the double parameters", func(s *geoTIFFSpec) { s.keys[13] = 34736 }, "not as one SHORT"},
		{"nok, CRS key pointing past the directory", func(s *geoTIFFSpec) { s.keys[13], s.keys[15] = 34735, 400 }, "not as one SHORT"},
	}
	for _, tc := range nok {
		t.Run(tc.name, func(t *testing.T) {
			s := utmGeoTIFF()
			tc.edit(&s)
			g := readGeoTIFFBytes(t, s.bytes())
			if g.Grid != nil || !geoTIFFWarned(g, tc.warned) {
				t.Errorf("grid %+v, warnings %q; want no grid and a warning saying %q", g.Grid, g.Warnings, tc.warned)
			}
		})
	}
}

// TestGeoTIFFEditedGDALFiles breaks GDAL's files byte by byte: a pixel scale set to
// zero, and a file cut off before its GeoKey directory.
func TestGeoTIFFEditedGDALFiles(t *testing.T) {
	for _, name := range []string{"utm52n.tif", "bigtiff.tif", "bigendian.tif"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "geotiff", name))
			if err != nil {
				t.Fatal(err)
			}
			dir, err := readTIFFGeoTags(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			offset := func(tag uint16) int {
				e := dir.entries[tag]
				if e.big {
					return int(dir.order.Uint64(e.inline))
				}
				return int(dir.order.Uint32(e.inline))
			}

			zero := bytes.Clone(data)
			at := offset(tagModelPixelScale) + 8 // the y scale
			copy(zero[at:at+8], make([]byte, 8))
			if g := readGeoTIFFBytes(t, zero); g.Grid != nil || !geoTIFFWarned(g, "cannot have no size") {
				t.Errorf("zero scale: grid %+v, warnings %q", g.Grid, g.Warnings)
			}

			keys := offset(tagGeoKeyDirectory)
			if keys < offset(tagModelPixelScale) || keys < offset(tagModelTiepoint) {
				t.Skipf("GDAL wrote the GeoKey directory of %s before the other tags", name)
			}
			cut := data[:keys+4]
			if g := readGeoTIFFBytes(t, cut); g.Grid != nil || !geoTIFFWarned(g, "GeoKeyDirectoryTag points outside the file") {
				t.Errorf("cut: grid %+v, warnings %q", g.Grid, g.Warnings)
			}
		})
	}
}

func TestGeoTIFFNotATIFF(t *testing.T) {
	valid := utmGeoTIFF().bytes()
	tests := []struct {
		name string
		data []byte
	}{
		{"nok, empty", nil},
		{"nok, text", []byte("hello, world, this is not a TIFF")},
		{"nok, a PNG", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR")},
		{"nok, version 41", append([]byte("II\x29\x00"), valid[4:]...)},
		{"nok, directory beyond the end", append(append([]byte("II\x2a\x00"), 0xff, 0xff, 0, 0), valid[8:]...)},
		{"nok, directory before the header ends", append(append([]byte("II\x2a\x00"), 4, 0, 0, 0), valid[8:]...)},
		{"nok, directory cut short", valid[:30]},
		{"nok, empty directory", []byte("II\x2a\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
		{"nok, BigTIFF with offsets of 4 bytes", []byte("II\x2b\x00\x04\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00")},
		{"nok, BigTIFF header only", []byte("II\x2b\x00\x08\x00\x00\x00")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ReadGeoTIFF(bytes.NewReader(tc.data), int64(len(tc.data)))
			var e *Error
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &e) || e.Field != "tiff" {
				t.Errorf("ReadGeoTIFF = %+v, %v; want an ErrInvalid for the field tiff", g, err)
			}
		})
	}
	// A size larger than the data: the reader runs out.
	if _, err := ReadGeoTIFF(bytes.NewReader(valid[:20]), int64(len(valid))); !errors.Is(err, ErrInvalid) {
		t.Errorf("short reader: %v, want ErrInvalid", err)
	}
}

func FuzzReadGeoTIFF(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "geotiff", "*.tif"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(utmGeoTIFF().bytes())
	s := utmGeoTIFF()
	s.order = binary.BigEndian
	s.matrix = []float64{2.5, 0, 0, 735120.5, 0, -2.5, 0, 4777890.25, 0, 0, 0, 0, 0, 0, 0, 1}
	f.Add(s.bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ReadGeoTIFF(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not an ErrInvalid", err)
			}
			return
		}
		if g.Grid != nil {
			if err := g.Grid.Validate(); err != nil {
				t.Fatalf("grid %+v does not validate: %v", g.Grid, err)
			}
			if len(g.ControlPoints) > 0 {
				t.Fatalf("both a grid and control points")
			}
		} else if dir, _ := readTIFFGeoTags(bytes.NewReader(data), int64(len(data))); (len(dir.entries) > 0) != (len(g.Warnings) > 0) {
			t.Fatalf("GeoTIFF tags %v, no grid, warnings %q: a warning is due if and only if there are tags", dir.entries, g.Warnings)
		}
	})
}

package server_test

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
)

// Georeferencing through the API: control points and the fits of standards.md §3
// (checked against GDAL's numbers), GeoTIFFs and world files made by GDAL
// (geo/testdata) and measuring on the ground. The lon/lat exports (RFC 7946 GeoJSON,
// KML, KMZ, footprints) are tested in georef_export_test.go.

// gcp is a control point as the API takes and gives it.
type gcp struct {
	Pixel  [2]float64 `json:"pixel"`
	LonLat [2]float64 `json:"lonlat"`
}

// vladivostok6 are the six control points of standards.md §3.5, on a 4000×3000 image.
var vladivostok6 = []gcp{
	{[2]float64{200, 150}, [2]float64{131.85517, 43.13683}},
	{[2]float64{3800, 250}, [2]float64{131.94524, 43.13198}},
	{[2]float64{3900, 2850}, [2]float64{131.95036, 43.07989}},
	{[2]float64{150, 2750}, [2]float64{131.85648, 43.08487}},
	{[2]float64{2000, 1500}, [2]float64{131.90151, 43.10838}},
	{[2]float64{1200, 2100}, [2]float64{131.88210, 43.09705}},
}

// vladivostokGT is the least-squares affine of §3.5 (gdal.GCPsToGeoTransform).
var vladivostokGT = [6]float64{131.850007331018, 2.50002386447425e-05, 9.96180118423453e-07, 43.1399899166369, -7.94059348166071e-07, -2.0000659599424e-05}

// vladivostokCorners are gdaltransform -order 1 of the image's corners (§3.5), in the
// order KML's gx:LatLonQuad wants them (§6.3): lower-left, lower-right, upper-right,
// upper-left.
var vladivostokCorners = [4][2]float64{
	{131.852995871374, 43.0799879378386}, {131.952996825953, 43.076811700446},
	{131.950008285597, 43.1368136792442}, {131.850007331018, 43.1399899166369},
}

// taveuni7 are the control points of geo/testdata/fit-taveuni7.txt: an 8000×6000 image
// whose points all lie west of 180° but whose north-east corner reaches past it.
var taveuni7 = []gcp{
	{[2]float64{400, 350}, [2]float64{179.8685538, -16.7327540}},
	{[2]float64{7600, 500}, [2]float64{179.9944985, -16.7797797}},
	{[2]float64{7700, 5600}, [2]float64{179.9635583, -16.8670041}},
	{[2]float64{300, 5700}, [2]float64{179.8324213, -16.8229887}},
	{[2]float64{4000, 3000}, [2]float64{179.9150047, -16.8000108}},
	{[2]float64{2200, 4300}, [2]float64{179.8749154, -16.8109376}},
	{[2]float64{5800, 1800}, [2]float64{179.9544514, -16.7907435}},
}

type residualAnswer struct {
	DX     float64 `json:"dx_px"`
	DY     float64 `json:"dy_px"`
	Pixels float64 `json:"px"`
	DE     float64 `json:"de_m"`
	DN     float64 `json:"dn_m"`
	Metres float64 `json:"m"`
}

type fitAnswer struct {
	Transform       string           `json:"transform"`
	MinimumPoints   int              `json:"minimum_points"`
	Residuals       []residualAnswer `json:"residuals"`
	RMSPixels       float64          `json:"rms_px"`
	RMSMetres       float64          `json:"rms_m"`
	MeanErrorPixels float64          `json:"mean_error_px"`
	MeanErrorMetres float64          `json:"mean_error_m"`
}

// lonLatGeometry is a GeoJSON geometry as a client reads it, coordinates still raw.
type lonLatGeometry struct {
	Type        string          `json:"type"`
	Coordinates json.RawMessage `json:"coordinates"`
}

// georefAnswer is GET /images/{id}/georeference.
type georefAnswer struct {
	Method       string          `json:"method"`
	Transform    string          `json:"transform"`
	GCPs         []gcp           `json:"gcps"`
	GeoTransform *[6]float64     `json:"geotransform"`
	CRS          string          `json:"crs"`
	Origin       string          `json:"origin"`
	Fit          *fitAnswer      `json:"fit"`
	Footprint    *lonLatGeometry `json:"footprint"`
	GSD          *float64        `json:"gsd_m"`
}

// measuresAnswer is an annotation's "measures", or the ruler's answer.
type measuresAnswer struct {
	LengthPx    float64  `json:"length_px"`
	WidthPx     float64  `json:"width_px"`
	AreaPx2     float64  `json:"area_px2"`
	PerimeterPx float64  `json:"perimeter_px"`
	LengthM     *float64 `json:"length_m"`
	WidthM      *float64 `json:"width_m"`
	AreaM2      *float64 `json:"area_m2"`
	PerimeterM  *float64 `json:"perimeter_m"`
	HeadingDeg  *float64 `json:"heading_deg"`
	Basis       string   `json:"basis"`
}

type annotationAnswer struct {
	ID       string               `json:"id"`
	Version  int                  `json:"version"`
	Geometry annotations.Geometry `json:"geometry"`
	Measures measuresAnswer       `json:"measures"`
}

// scenes caches one encoded scene per size: these tests need large pictures, whose
// pixels do not matter to them.
var scenes = struct {
	sync.Mutex
	png map[[2]int][]byte
}{png: map[[2]int][]byte{}}

// scenePNG is a w×h black-and-white PNG (1-bit greyscale, cheap to make at any size),
// different for each seed: a tEXt chunk names the seed, so every upload is a new image.
func scenePNG(t *testing.T, w, h, seed int) []byte {
	t.Helper()
	scenes.Lock()
	defer scenes.Unlock()
	base, ok := scenes.png[[2]int{w, h}]
	if !ok {
		// Rows of filter byte 0 then w bits; a diagonal of white pixels.
		stride := 1 + (w+7)/8
		raw := make([]byte, stride*h)
		for y := 0; y < h; y++ {
			x := y * w / h
			raw[y*stride+1+x/8] |= 0x80 >> (x % 8)
		}
		var idat bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&idat, zlib.BestSpeed)
		zw.Write(raw)
		zw.Close()
		ihdr := make([]byte, 13)
		binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
		binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
		ihdr[8], ihdr[9] = 1, 0 // bit depth 1, greyscale
		var b bytes.Buffer
		b.WriteString("\x89PNG\r\n\x1a\n")
		writePNGChunk(&b, "IHDR", ihdr)
		writePNGChunk(&b, "IDAT", idat.Bytes())
		writePNGChunk(&b, "IEND", nil)
		base = b.Bytes()
		scenes.png[[2]int{w, h}] = base
	}
	var b bytes.Buffer
	b.Write(base[:len(base)-12]) // all but IEND
	writePNGChunk(&b, "tEXt", []byte("Comment\x00scene "+strconv.Itoa(seed)))
	b.Write(base[len(base)-12:])
	return b.Bytes()
}

func writePNGChunk(b *bytes.Buffer, typ string, data []byte) {
	binary.Write(b, binary.BigEndian, uint32(len(data)))
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	b.WriteString(typ)
	b.Write(data)
	binary.Write(b, binary.BigEndian, crc.Sum32())
}

// uploadScene uploads a w×h scene and returns the stored image.
func (ts *testServer) uploadScene(t *testing.T, w, h, seed int, fields ...part) annotations.Image {
	t.Helper()
	return ts.mustUpload(t, append(fields, filePart(fmt.Sprintf("scene-%d.png", seed), scenePNG(t, w, h, seed)))...)
}

func georefBody(kind string, pts []gcp) map[string]any {
	return map[string]any{"transform": kind, "gcps": pts}
}

// putGeoref stores control points and a transform that must be accepted.
func (ts *testServer) putGeoref(t *testing.T, id, kind string, pts []gcp) georefAnswer {
	t.Helper()
	rec := ts.doJSON(t, http.MethodPut, "/api/v1/images/"+id+"/georeference", georefBody(kind, pts))
	wantStatus(t, rec, http.StatusOK)
	var g georefAnswer
	decode(t, rec, &g)
	return g
}

func (ts *testServer) getGeoref(t *testing.T, id string) georefAnswer {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+id+"/georeference", nil)
	wantStatus(t, rec, http.StatusOK)
	var g georefAnswer
	decode(t, rec, &g)
	return g
}

// storedGeoref is what the database holds about where an image lies: its georeference
// row, if any, and its ground sample distance.
func (ts *testServer) storedGeoref(t *testing.T, id string) string {
	t.Helper()
	var gsd *float64
	if err := ts.store.DB().QueryRow(`SELECT gsd_m FROM images WHERE id = ?`, id).Scan(&gsd); err != nil {
		t.Fatal(err)
	}
	var method, transform, gcps, gt, origin, by, at string
	var crs int
	err := ts.store.DB().QueryRow(`SELECT method, transform, gcps, geotransform, crs, origin, updated_by, updated_at FROM georeferences WHERE image_id = ?`, id).
		Scan(&method, &transform, &gcps, &gt, &crs, &origin, &by, &at)
	if err != nil {
		method = "none (" + err.Error() + ")"
	}
	g := "none"
	if gsd != nil {
		g = strconv.FormatFloat(*gsd, 'g', -1, 64)
	}
	return strings.Join([]string{method, transform, gcps, gt, strconv.Itoa(crs), origin, by, at, "gsd " + g}, " | ")
}

func (ts *testServer) georeferenceCount(t *testing.T) int {
	t.Helper()
	var n int
	if err := ts.store.DB().QueryRow(`SELECT COUNT(*) FROM georeferences`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// bareNonFinite finds NaN or Infinity written as a JSON number.
var bareNonFinite = regexp.MustCompile(`[\[:,]\s*-?(NaN|Infinity|Inf)\b`)

// wantNoNonFinite fails if a response carries NaN or Infinity: anywhere in it when the
// request held none (nothing computed may leak one), as a bare JSON number always.
func wantNoNonFinite(t *testing.T, body string, requestHadOne bool) {
	t.Helper()
	if bareNonFinite.MatchString(body) || (!requestHadOne && (strings.Contains(body, "NaN") || strings.Contains(body, "Inf"))) {
		t.Errorf("response carries NaN or Infinity: %s", truncate(body, 600))
	}
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// rings decodes a Polygon's rings or a MultiPolygon's polygons.
func polygonsOf(t *testing.T, g lonLatGeometry) [][][][2]float64 {
	t.Helper()
	switch g.Type {
	case "Polygon":
		var rings [][][2]float64
		if err := json.Unmarshal(g.Coordinates, &rings); err != nil {
			t.Fatalf("Polygon coordinates: %v", err)
		}
		return [][][][2]float64{rings}
	case "MultiPolygon":
		var polys [][][][2]float64
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			t.Fatalf("MultiPolygon coordinates: %v", err)
		}
		return polys
	}
	t.Fatalf("geometry type %q, want Polygon or MultiPolygon", g.Type)
	return nil
}

// positionsOf returns every position of a geometry, in order, and its paths (rings or
// lines; a Point is one path of one position).
func positionsOf(t *testing.T, g lonLatGeometry) (paths [][][2]float64) {
	t.Helper()
	switch g.Type {
	case "Point":
		var p [2]float64
		if err := json.Unmarshal(g.Coordinates, &p); err != nil {
			t.Fatal(err)
		}
		return [][][2]float64{{p}}
	case "LineString":
		var l [][2]float64
		if err := json.Unmarshal(g.Coordinates, &l); err != nil {
			t.Fatal(err)
		}
		return [][][2]float64{l}
	case "MultiLineString":
		var ls [][][2]float64
		if err := json.Unmarshal(g.Coordinates, &ls); err != nil {
			t.Fatal(err)
		}
		return ls
	}
	for _, poly := range polygonsOf(t, g) {
		paths = append(paths, poly...)
	}
	return paths
}

// signedArea is twice a ring's area in the lon/lat plane, positive counter-clockwise.
func signedArea(r [][2]float64) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a
}

// wantRFC7946Polygons checks rings: closed, ≥ 4 positions, exterior counter-clockwise,
// holes clockwise, longitudes within ±180 and no edge across the antimeridian.
func wantRFC7946Polygons(t *testing.T, polys [][][][2]float64) {
	t.Helper()
	for i, poly := range polys {
		for j, ring := range poly {
			if len(ring) < 4 || ring[0] != ring[len(ring)-1] {
				t.Errorf("polygon %d ring %d is not closed (%d positions): %v", i, j, len(ring), ring)
				continue
			}
			if a := signedArea(ring); (j == 0) != (a > 0) {
				t.Errorf("polygon %d ring %d has signed area %g: want the exterior counter-clockwise, holes clockwise", i, j, a)
			}
			wantLonLatPath(t, ring)
		}
	}
}

func wantLonLatPath(t *testing.T, path [][2]float64) {
	t.Helper()
	for k, p := range path {
		if p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
			t.Errorf("position %v is outside ±180°, ±90°", p)
		}
		if k > 0 && math.Abs(p[0]-path[k-1][0]) > 180 {
			t.Errorf("edge from %v to %v crosses the antimeridian", path[k-1], p)
		}
	}
}

// bboxHolds reports whether an RFC 7946 bbox holds a position (west > east: across the
// antimeridian).
func bboxHolds(bb []float64, p [2]float64) bool {
	if len(bb) != 4 || p[1] < bb[1] || p[1] > bb[3] {
		return false
	}
	if bb[0] > bb[2] {
		return p[0] >= bb[0] || p[0] <= bb[2]
	}
	return bb[0] <= p[0] && p[0] <= bb[2]
}

// affineAt applies a geotransform to a pixel position.
func affineAt(gt [6]float64, x, y float64) [2]float64 {
	return [2]float64{gt[0] + x*gt[1] + y*gt[2], gt[3] + x*gt[4] + y*gt[5]}
}

// round7Tol is how far a coordinate rounded to 7 decimals may lie from the exact value,
// with room for the last bits of the exact value.
const round7Tol = 5e-8 + 1e-9

func TestGeoreferenceFromControlPoints(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.uploadScene(t, 4000, 3000, 1)

	t.Run("ok, affine of §3.5 fits as GDAL and QGIS report", func(t *testing.T) {
		rec := ts.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/georeference", georefBody("affine", vladivostok6))
		wantStatus(t, rec, http.StatusOK)
		wantNoNonFinite(t, rec.Body.String(), false)
		var g georefAnswer
		decode(t, rec, &g)
		if g.Method != "gcps" || g.Transform != "affine" || g.CRS != "EPSG:4326" || g.Origin != "editor" || g.Fit == nil {
			t.Fatalf("answer = %+v, want method gcps, transform affine, crs EPSG:4326, origin editor and a fit", g)
		}
		f := g.Fit
		if f.Transform != "affine" || f.MinimumPoints != 3 {
			t.Errorf("fit transform %q, minimum %d; want affine, 3", f.Transform, f.MinimumPoints)
		}
		// standards.md §3.5: RMS sqrt(Σd²/n) 1.589 m, 0.733 px; QGIS mean error
		// sqrt(Σd²/(n−3)) 2.247 m, 1.037 px.
		for _, c := range []struct {
			name      string
			got, want float64
		}{{"rms_m", f.RMSMetres, 1.589}, {"rms_px", f.RMSPixels, 0.733}, {"mean_error_m", f.MeanErrorMetres, 2.247}, {"mean_error_px", f.MeanErrorPixels, 1.037}} {
			if !near(c.got, c.want, 0.0005) {
				t.Errorf("%s = %.4f, want %.3f", c.name, c.got, c.want)
			}
		}
		// The residual table of §3.5: |d| in metres (2 decimals) and pixels (3).
		table := [][2]float64{{1.08, 0.527}, {1.64, 0.765}, {1.04, 0.505}, {1.38, 0.674}, {2.40, 1.066}, {1.59, 0.720}}
		if len(f.Residuals) != len(table) {
			t.Fatalf("%d residuals, want %d", len(f.Residuals), len(table))
		}
		for i, want := range table {
			r := f.Residuals[i]
			if !near(r.Metres, want[0], 0.005) || !near(r.Pixels, want[1], 0.0005) {
				t.Errorf("residual of G%d = %.3f m, %.4f px; want %.2f m, %.3f px", i+1, r.Metres, r.Pixels, want[0], want[1])
			}
		}
		// dE, dN are true east and north; §3.5 gives them on the UTM 52N grid, whose
		// north is turned by the meridian convergence γ = atan(tan(λ − 129°)·sin φ).
		gridENs := [][2]float64{{-1.08, 0.08}, {1.44, -0.80}, {-1.03, 0.10}, {1.38, -0.06}, {-0.72, 2.29}, {0.02, -1.59}}
		for i, want := range gridENs {
			p, r := vladivostok6[i].LonLat, f.Residuals[i]
			gamma := math.Atan(math.Tan((p[0]-129)*math.Pi/180) * math.Sin(p[1]*math.Pi/180))
			e := r.DE*math.Cos(gamma) - r.DN*math.Sin(gamma)
			n := r.DE*math.Sin(gamma) + r.DN*math.Cos(gamma)
			if !near(e, want[0], 0.006) || !near(n, want[1], 0.006) {
				t.Errorf("G%d: dE, dN = %+.3f, %+.3f m (true), %+.3f, %+.3f on the UTM grid; want %+.2f, %+.2f", i+1, r.DE, r.DN, e, n, want[0], want[1])
			}
		}
	})

	t.Run("ok, GET gives the points back with the footprint gdaltransform gives", func(t *testing.T) {
		g := ts.getGeoref(t, img.ID)
		if g.Method != "gcps" || g.Transform != "affine" || len(g.GCPs) != len(vladivostok6) {
			t.Fatalf("georeference = %+v", g)
		}
		for i := range vladivostok6 {
			if g.GCPs[i] != vladivostok6[i] {
				t.Errorf("control point %d = %+v, want %+v", i+1, g.GCPs[i], vladivostok6[i])
			}
		}
		if g.Footprint == nil {
			t.Fatal("no footprint")
		}
		polys := polygonsOf(t, *g.Footprint)
		wantRFC7946Polygons(t, polys)
		ring := polys[0][0]
		if len(polys) != 1 || len(ring) != 5 {
			t.Fatalf("footprint = %v, want one ring of 4 corners", polys)
		}
		// The footprint is RFC 7946 output, rounded to 7 decimals, as are the KML
		// overlay's corners.
		for _, want := range vladivostokCorners {
			found := false
			for _, p := range ring {
				found = found || (near(p[0], want[0], round7Tol) && near(p[1], want[1], round7Tol))
			}
			if !found {
				t.Errorf("footprint %v has no corner at gdaltransform's %v", ring, want)
			}
		}
		// Top-left corner first, as the image is drawn.
		if !near(ring[0][0], 131.850007331018, round7Tol) || !near(ring[0][1], 43.1399899166369, round7Tol) {
			t.Errorf("footprint starts at %v, want the top-left corner 131.850007331018, 43.1399899166369", ring[0])
		}
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID, nil)
		var got annotations.Image
		decode(t, rec, &got)
		if !got.Georeferenced {
			t.Errorf("image says georeferenced = false after its control points were stored")
		}
	})

	kinds := []struct {
		kind    string
		points  []gcp
		minimum int
		exact   bool        // passes through every point: no residual
		topLeft *[2]float64 // gdaltransform of pixel (0, 0) (standards.md §3.5)
	}{
		{"similarity", vladivostok6[:2], 2, false, nil},
		{"similarity", vladivostok6, 2, false, nil},
		{"affine", vladivostok6[:3], 3, true, nil},
		{"affine", vladivostok6[:4], 3, false, nil},
		{"affine", vladivostok6, 3, false, &[2]float64{131.850007331018, 43.1399899166369}},
		{"polynomial2", vladivostok6, 6, true, &[2]float64{131.850021361691, 43.139997877448}},
		{"projective", vladivostok6[:4], 4, true, nil},
		{"projective", vladivostok6, 4, false, nil},
		{"tps", vladivostok6[:3], 3, true, nil},
		{"tps", vladivostok6, 3, true, &[2]float64{131.850020814328, 43.1399891901093}},
	}
	for _, k := range kinds {
		t.Run(fmt.Sprintf("ok, %s with %d points (dry run, then stored)", k.kind, len(k.points)), func(t *testing.T) {
			before := ts.storedGeoref(t, img.ID)
			rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/georeference/fit", georefBody(k.kind, k.points))
			wantStatus(t, rec, http.StatusOK)
			wantNoNonFinite(t, rec.Body.String(), false)
			var dry georefAnswer
			decode(t, rec, &dry)
			if after := ts.storedGeoref(t, img.ID); after != before {
				t.Fatalf("a dry-run fit changed what is stored:\n got %s\nwant %s", after, before)
			}
			put := ts.putGeoref(t, img.ID, k.kind, k.points)
			for _, g := range []georefAnswer{dry, put} {
				if g.Fit == nil || g.Fit.Transform != k.kind || g.Fit.MinimumPoints != k.minimum || len(g.Fit.Residuals) != len(k.points) || g.Footprint == nil {
					t.Fatalf("answer = %+v, want a %s fit (minimum %d) with %d residuals and a footprint", g, k.kind, k.minimum, len(k.points))
				}
				if k.exact && (g.Fit.RMSMetres > 1e-6 || g.Fit.RMSPixels > 1e-6) {
					t.Errorf("an exact fit has RMS %g m, %g px; want 0", g.Fit.RMSMetres, g.Fit.RMSPixels)
				}
				if len(k.points) == k.minimum && (g.Fit.MeanErrorMetres != 0 || g.Fit.MeanErrorPixels != 0) {
					t.Errorf("mean error with as many points as the minimum = %g m, want 0 (QGIS)", g.Fit.MeanErrorMetres)
				}
				polygonsOf(t, *g.Footprint)
			}
			// The dry run answers what storing answers.
			if dry.Fit.RMSMetres != put.Fit.RMSMetres || string(dry.Footprint.Coordinates) != string(put.Footprint.Coordinates) {
				t.Errorf("dry run: RMS %g, footprint %s; stored: RMS %g, footprint %s", dry.Fit.RMSMetres, dry.Footprint.Coordinates,
					put.Fit.RMSMetres, put.Footprint.Coordinates)
			}
			if got := ts.getGeoref(t, img.ID); got.Transform != k.kind || len(got.GCPs) != len(k.points) {
				t.Errorf("GET after PUT: transform %q with %d points, want %s with %d", got.Transform, len(got.GCPs), k.kind, len(k.points))
			}
			if k.topLeft != nil {
				// The KML ground overlay has the image's corners to 7 decimals.
				doc, _ := ts.kml(t, img.ID)
				if got := overlayCorners(t, doc)[3]; !near(got[0], k.topLeft[0], round7Tol) || !near(got[1], k.topLeft[1], round7Tol) {
					t.Errorf("pixel (0, 0) is at %.12f, %.12f; want gdaltransform's %.12f, %.12f", got[0], got[1], k.topLeft[0], k.topLeft[1])
				}
			}
		})
	}

	t.Run("ok, delete removes the georeference", func(t *testing.T) {
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+img.ID+"/georeference", nil), http.StatusNoContent)
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference", nil), http.StatusNotFound, "not_found", "")
		wantError(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+img.ID+"/georeference", nil), http.StatusNotFound, "not_found", "")
		if n := ts.georeferenceCount(t); n != 0 {
			t.Errorf("%d georeferences stored after the delete, want 0", n)
		}
	})
}

// onALine returns n control points on one line in the image and on the ground (the §3.5
// affine applied to pixels along a diagonal).
func onALine(n int) []gcp {
	var out []gcp
	for i := 0; i < n; i++ {
		x, y := 100+500*float64(i), 100+300*float64(i)
		ll := affineAt(vladivostokGT, x, y)
		out = append(out, gcp{[2]float64{x, y}, [2]float64{math.Round(ll[0]*1e7) / 1e7, math.Round(ll[1]*1e7) / 1e7}})
	}
	return out
}

func withPoint(pts []gcp, i int, p gcp) []gcp {
	out := append([]gcp{}, pts...)
	out[i] = p
	return out
}

func TestGeoreferenceRejectsBadInput(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.uploadScene(t, 4000, 3000, 2)
	ts.putGeoref(t, img.ID, "affine", vladivostok6)
	v := vladivostok6
	g1 := v[0]

	type badCase struct {
		name   string
		body   any
		status int
		code   string
		field  string
		words  []string
		noFit  bool // a ground sample distance: not for the fit endpoint
	}
	tests := []badCase{
		{"nok, similarity with 1 point", georefBody("similarity", v[:1]), 422, "too_few_points", "gcps", []string{"at least 2"}, false},
		{"nok, affine with 2 points", georefBody("affine", v[:2]), 422, "too_few_points", "gcps", []string{"at least 3"}, false},
		{"nok, polynomial2 with 5 points", georefBody("polynomial2", v[:5]), 422, "too_few_points", "gcps", []string{"at least 6"}, false},
		{"nok, projective with 3 points", georefBody("projective", v[:3]), 422, "too_few_points", "gcps", []string{"at least 4"}, false},
		{"nok, tps with 2 points", georefBody("tps", v[:2]), 422, "too_few_points", "gcps", []string{"at least 3"}, false},
		{"nok, no points", georefBody("affine", []gcp{}), 422, "too_few_points", "gcps", []string{"at least 3"}, false},
		{"nok, affine, points on one line in the image and on the ground", georefBody("affine", onALine(4)), 422, "ill_conditioned", "gcps", []string{"one line"}, false},
		{"nok, polynomial2, six points on one line", georefBody("polynomial2", onALine(6)), 422, "ill_conditioned", "gcps", []string{"one line"}, false},
		{"nok, projective, four points on one line", georefBody("projective", onALine(4)), 422, "ill_conditioned", "gcps", []string{"one line"}, false},
		{"nok, tps, points on one line", georefBody("tps", onALine(5)), 422, "ill_conditioned", "gcps", []string{"one line"}, false},
		{"nok, affine, points on one line on the ground only", georefBody("affine", []gcp{
			{v[0].Pixel, [2]float64{131.85, 43.10}}, {v[1].Pixel, [2]float64{131.86, 43.11}},
			{v[2].Pixel, [2]float64{131.87, 43.12}}, {v[3].Pixel, [2]float64{131.88, 43.13}}}), 422, "ill_conditioned", "gcps", []string{"one line on the ground"}, false},
		{"nok, projective, three of four points on one line", georefBody("projective", []gcp{onALine(3)[0], onALine(3)[1], onALine(3)[2], v[1]}), 422, "ill_conditioned", "gcps", []string{"one line"}, false},
		{"nok, two points at the same place on the ground", georefBody("affine", withPoint(v, 1, gcp{v[1].Pixel, g1.LonLat})), 422, "ill_conditioned", "gcps", []string{"same place"}, false},
		{"nok, latitude above 90", georefBody("affine", withPoint(v, 0, gcp{g1.Pixel, [2]float64{131.85, 90.5}})), 422, "out_of_range", "gcps[0].lonlat", []string{"latitude"}, false},
		{"nok, latitude below -90", georefBody("affine", withPoint(v, 2, gcp{v[2].Pixel, [2]float64{131.85, -91}})), 422, "out_of_range", "gcps[2].lonlat", []string{"±90"}, false},
		{"nok, longitude above 180", georefBody("affine", withPoint(v, 1, gcp{v[1].Pixel, [2]float64{180.5, 43.1}})), 422, "out_of_range", "gcps[1].lonlat", []string{"±180"}, false},
		{"nok, longitude below -180", georefBody("affine", withPoint(v, 3, gcp{v[3].Pixel, [2]float64{-181, 43.1}})), 422, "out_of_range", "gcps[3].lonlat", []string{"longitude"}, false},
		{"nok, control point right of the image", georefBody("affine", withPoint(v, 2, gcp{[2]float64{4000.5, 100}, v[2].LonLat})), 422, "invalid", "gcps[2].pixel", []string{"outside", "4000×3000"}, false},
		{"nok, control point above the image", georefBody("affine", withPoint(v, 0, gcp{[2]float64{200, -1}, g1.LonLat})), 422, "invalid", "gcps[0].pixel", []string{"outside"}, false},
		{"nok, control point below the image", georefBody("tps", withPoint(v, 4, gcp{[2]float64{2000, 3000.01}, v[4].LonLat})), 422, "invalid", "gcps[4].pixel", []string{"outside"}, false},
		{"nok, unknown transform", georefBody("cubic", v), 422, "invalid", "transform", []string{"cubic", "affine"}, false},
		{"nok, no transform", map[string]any{"gcps": v}, 422, "invalid", "transform", []string{"affine"}, false},
		{"nok, transform not a string", `{"transform": 1, "gcps": []}`, 400, "malformed", "transform", nil, false},
		{"nok, unknown field", `{"transform": "affine", "gcps": [], "order": 1}`, 400, "malformed", "order", nil, false},
		{"nok, not JSON", `{"transform": "affine", "gcps": [`, 400, "malformed", "", nil, false},
		{"nok, ground sample distance zero", `{"gsd_m": 0}`, 422, "invalid", "gsd_m", []string{"positive"}, true},
		{"nok, ground sample distance negative", `{"gsd_m": -0.5}`, 422, "invalid", "gsd_m", []string{"positive"}, true},
		{"nok, ground sample distance a word", `{"gsd_m": "abc"}`, 422, "invalid", "gsd_m", []string{"positive"}, true},
		{"nok, ground sample distance a number in a string", `{"gsd_m": "0.5"}`, 422, "invalid", "gsd_m", []string{"positive"}, true},
		{"nok, ground sample distance null", `{"gsd_m": null}`, 422, "invalid", "gsd_m", []string{"positive"}, true},
		{"nok, ground sample distance too large for a float", `{"gsd_m": 1e999}`, 422, "invalid", "gsd_m", []string{"positive"}, true},
		{"nok, ground sample distance NaN", `{"gsd_m": NaN}`, 422, "invalid", "gsd_m", []string{"positive"}, true},
		{"nok, ground sample distance Infinity", `{"gsd_m": Infinity}`, 422, "invalid", "gsd_m", []string{"positive"}, true},
		{"nok, ground sample distance with control points", map[string]any{"gsd_m": 0.5, "transform": "affine", "gcps": v}, 422, "invalid", "gsd_m", []string{"not both"}, true},
	}
	// Duplicates are refused by every transform.
	for _, kind := range geo.Kinds {
		pts := append([]gcp{}, v[:kind.MinimumPoints()]...)
		pts = append(pts, pts[0])
		tests = append(tests, badCase{"nok, " + string(kind) + ", the same point twice", georefBody(string(kind), pts), 422, "ill_conditioned", "gcps", []string{"same pixel"}, false})
	}
	for _, tc := range tests {
		for _, target := range []string{"/georeference", "/georeference/fit"} {
			if tc.noFit && target == "/georeference/fit" {
				continue
			}
			method := http.MethodPut
			if target == "/georeference/fit" {
				method = http.MethodPost
			}
			t.Run(tc.name+" ("+method+")", func(t *testing.T) {
				before := ts.storedGeoref(t, img.ID)
				rec := ts.doJSON(t, method, "/api/v1/images/"+img.ID+target, tc.body)
				wantError(t, rec, tc.status, tc.code, tc.field, tc.words...)
				body, _ := tc.body.(string)
				wantNoNonFinite(t, rec.Body.String(), strings.Contains(body, "NaN") || strings.Contains(body, "Infinity"))
				if after := ts.storedGeoref(t, img.ID); after != before {
					t.Errorf("bad input changed the stored georeference:\n got %s\nwant %s", after, before)
				}
			})
		}
	}

	// NaN and Infinity are not JSON: a client error, whatever the decoder makes of them.
	nonFinite := []struct{ name, body string }{
		{"nok, NaN as a longitude", `{"transform": "affine", "gcps": [{"pixel": [200, 150], "lonlat": [NaN, 43.1]}, {"pixel": [3800, 250], "lonlat": [131.9, 43.1]}, {"pixel": [3900, 2850], "lonlat": [131.9, 43.0]}]}`},
		{"nok, Infinity as a pixel x", `{"transform": "affine", "gcps": [{"pixel": [Infinity, 150], "lonlat": [131.8, 43.1]}, {"pixel": [3800, 250], "lonlat": [131.9, 43.1]}, {"pixel": [3900, 2850], "lonlat": [131.9, 43.0]}]}`},
		{"nok, -Infinity as a latitude", `{"transform": "tps", "gcps": [{"pixel": [200, 150], "lonlat": [131.8, -Infinity]}, {"pixel": [3800, 250], "lonlat": [131.9, 43.1]}, {"pixel": [3900, 2850], "lonlat": [131.9, 43.0]}]}`},
		{"nok, NaN as the transform", `{"transform": NaN, "gcps": []}`},
	}
	for _, tc := range nonFinite {
		for _, method := range []string{http.MethodPut, http.MethodPost} {
			t.Run(tc.name+" ("+method+")", func(t *testing.T) {
				target := "/api/v1/images/" + img.ID + "/georeference"
				if method == http.MethodPost {
					target += "/fit"
				}
				before := ts.storedGeoref(t, img.ID)
				rec := ts.doJSON(t, method, target, tc.body)
				if rec.Code < 400 || rec.Code >= 500 {
					t.Fatalf("status = %d, want a 4xx; body %s", rec.Code, truncate(rec.Body.String(), 300))
				}
				wantNoNonFinite(t, rec.Body.String(), true)
				if after := ts.storedGeoref(t, img.ID); after != before {
					t.Errorf("bad input changed the stored georeference:\n got %s\nwant %s", after, before)
				}
			})
		}
	}

	t.Run("nok, unknown image", func(t *testing.T) {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			rec := ts.doJSON(t, method, "/api/v1/images/img_aaaaaaaaaaaa/georeference", georefBody("affine", v))
			wantError(t, rec, http.StatusNotFound, "not_found", "")
		}
	})
}

// worldfileText returns a committed world file of geo/testdata/worldfile.
func worldfileText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "geo", "testdata", "worldfile", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func prjText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "geo", "testdata", "wkt", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A world file form is small: a body past its bound is refused with 413 as it is read,
// not spooled to the system's temporary folder first.
func TestWorldFileFormIsBounded(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 302)
	spool := t.TempDir()
	t.Setenv("TMPDIR", spool)
	huge := bytes.Repeat([]byte("0.000025\n"), 4<<20/9)
	body, ct := multipartBody(t, part{name: "worldfile", filename: "scene.wld", data: huge})
	rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/georeference/worldfile", body, "Content-Type", ct)
	wantError(t, rec, http.StatusRequestEntityTooLarge, "too_large", "worldfile")
	if got, _ := os.ReadDir(spool); len(got) != 0 {
		t.Errorf("the system's temporary folder holds %d files after the request, want none", len(got))
	}
}

func TestWorldFileRejectsBadInput(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.newImage(t, 300)
	// Already placed, so "unchanged" means something.
	wantStatus(t, ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/georeference/worldfile", strings.NewReader(worldfileText(t, "handwritten.jgw"))), http.StatusOK)
	utm := worldfileText(t, "utm.wld")

	tests := []struct {
		name           string
		worldfile, crs string
		prj            string
		code, field    string
		words          []string
	}{
		{"nok, not numbers", "a\nb\nc\nd\ne\nf\n", "", "", "invalid", "worldfile", []string{"line 1", "not a number"}},
		{"nok, a comma for a decimal point", "0,000025\n0\n0\n-0.00002\n131.8500125\n43.13999\n", "", "", "invalid", "worldfile", []string{"line 1"}},
		{"nok, five lines", "0.000025\n0\n0\n-0.00002\n131.8500125\n", "", "", "invalid", "worldfile", []string{"5 lines", "six"}},
		{"nok, seven lines", "0.000025\n0\n0\n-0.00002\n131.8500125\n43.13999\n7\n", "", "", "invalid", "worldfile", []string{"line 7", "six"}},
		{"nok, empty", "", "", "", "invalid", "worldfile", []string{"six"}},
		{"nok, zero pixel width", "0\n0\n0\n-0.00002\n131.8500125\n43.13999\n", "", "", "invalid", "worldfile", []string{"no width"}},
		{"nok, zero pixel height", "0.000025\n0\n0\n0\n131.8500125\n43.13999\n", "", "", "invalid", "worldfile", []string{"no height"}},
		{"nok, singular matrix", "1\n1\n1\n1\n100\n200\n", "", "", "invalid", "worldfile", []string{"singular"}},
		{"nok, NaN on a line", "0.000025\n0\nNaN\n-0.00002\n131.8500125\n43.13999\n", "", "", "invalid", "worldfile", []string{"line 3", "not a finite number"}},
		{"nok, metres without a CRS", utm, "", "", "unsupported_crs", "crs", []string{"CRS", ".prj"}},
		{"nok, an EPSG code PROJ does not know", utm, "EPSG:999999", "", "unsupported_crs", "crs", []string{"EPSG:999999", "not a CRS PROJ knows"}},
		{"nok, UTM numbers in Lambert-93", utm, "EPSG:2154", "", "out_of_range", "geotransform", []string{"EPSG:2154", "not on the earth", "France"}},
		{"nok, CRS that is not an EPSG code", utm, "Lambert-93", "", "invalid", "crs", []string{"EPSG"}},
		{"nok, .prj of a projection PROJ cannot invert", utm, "", `PROJCS["unknown",GEOGCS["unknown",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["custom_proj4"],UNIT["metre",1],EXTENSION["PROJ4","+proj=airy +datum=WGS84 +wktext +no_defs"]]`, "unsupported_crs", "crs", []string{"PROJ cannot convert"}},
		{"nok, .prj GDAL cannot read", utm, "", `PROJCS["x",GEOGCS["y",DATUM["z",SPHEROID["w",1,2]]],PROJECTION["No_Such_Projection"]]`, "invalid", "wkt", []string{"GDAL cannot read the WKT"}},
		{"nok, .prj that is not WKT", utm, "", "this is not WKT", "invalid", "wkt", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name+", posted", func(t *testing.T) {
			before := ts.storedGeoref(t, img.ID)
			var rec *httptest.ResponseRecorder
			if tc.prj != "" {
				// File parts, as a browser sends the chosen files.
				body, ct := multipartBody(t, part{name: "worldfile", filename: "scene.wld", data: []byte(tc.worldfile)}, part{name: "prj", filename: "scene.prj", data: []byte(tc.prj)})
				rec = ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/georeference/worldfile", body, "Content-Type", ct)
			} else {
				target := "/api/v1/images/" + img.ID + "/georeference/worldfile"
				if tc.crs != "" {
					target += "?crs=" + url.QueryEscape(tc.crs)
				}
				rec = ts.do(t, http.MethodPost, target, strings.NewReader(tc.worldfile), "Content-Type", "text/plain")
			}
			wantError(t, rec, http.StatusUnprocessableEntity, tc.code, tc.field, tc.words...)
			if after := ts.storedGeoref(t, img.ID); after != before {
				t.Errorf("a bad world file changed the stored georeference:\n got %s\nwant %s", after, before)
			}
		})
		t.Run(tc.name+", with an upload", func(t *testing.T) {
			before, georefs := ts.snapshot(t), ts.georeferenceCount(t)
			parts := []part{filePart("new.png", pngBytes(t, 64, 48, 301)), field("worldfile", tc.worldfile)}
			if tc.crs != "" {
				parts = append(parts, field("crs", tc.crs))
			}
			if tc.prj != "" {
				parts = append(parts, field("prj", tc.prj))
			}
			rec := ts.upload(t, parts...)
			if tc.worldfile == "" {
				// An empty world file part is no world file: the image is stored unplaced.
				wantStatus(t, rec, http.StatusCreated)
				var got annotations.Image
				decode(t, rec, &got)
				if got.Georeferenced {
					t.Errorf("an upload with an empty world file part is georeferenced")
				}
				return
			}
			wantError(t, rec, http.StatusUnprocessableEntity, tc.code, tc.field, tc.words...)
			ts.wantUnchanged(t, before)
			if n := ts.georeferenceCount(t); n != georefs {
				t.Errorf("%d georeferences after a refused upload, want %d", n, georefs)
			}
		})
	}
}

// geotiffFacts is what geo/testdata/geotiffs.txt says GDAL read from one GeoTIFF.
type geotiffFacts struct {
	crs     string
	gt      *[6]float64
	corners map[[2]float64][2]float64 // pixel → lon, lat (gdaltransform -t_srs EPSG:4326)
	gcps    int
	warning bool // GDAL warned reading it
}

func readGeoTIFFFacts(t *testing.T) map[string]*geotiffFacts {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "geo", "testdata", "geotiffs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*geotiffFacts{}
	nums := func(fields []string) []float64 {
		v := make([]float64, len(fields))
		for i, s := range fields {
			if v[i], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("geotiffs.txt: %q: %v", s, err)
			}
		}
		return v
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) < 2 || strings.HasPrefix(w[0], "#") {
			continue
		}
		facts := out[w[1]]
		if facts == nil {
			facts = &geotiffFacts{corners: map[[2]float64][2]float64{}}
			out[w[1]] = facts
		}
		switch w[0] {
		case "crs":
			facts.crs = w[2]
		case "gt":
			gt := [6]float64(nums(w[2:8]))
			facts.gt = &gt
		case "corner":
			v := nums(w[2:6])
			facts.corners[[2]float64{v[0], v[1]}] = [2]float64{v[2], v[3]}
		case "gcp":
			facts.gcps++
		case "gdalwarning":
			facts.warning = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// kmlFile is what the tests read back from a KML export.
type kmlFile struct {
	XMLName  xml.Name `xml:"kml"`
	Document struct {
		Name string `xml:"name"`
		Data []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value"`
		} `xml:"ExtendedData>Data"`
		Styles []struct {
			ID        string `xml:"id,attr"`
			IconColor string `xml:"IconStyle>color"`
			LineColor string `xml:"LineStyle>color"`
			PolyColor string `xml:"PolyStyle>color"`
		} `xml:"Style"`
		Overlay *struct {
			Href string `xml:"Icon>href"`
			Box  *struct {
				North    float64 `xml:"north"`
				South    float64 `xml:"south"`
				East     float64 `xml:"east"`
				West     float64 `xml:"west"`
				Rotation float64 `xml:"rotation"`
			} `xml:"LatLonBox"`
			Quad *struct {
				Coordinates string `xml:"coordinates"`
			} `xml:"http://www.google.com/kml/ext/2.2 LatLonQuad"`
		} `xml:"GroundOverlay"`
		Placemarks []struct {
			ID       string `xml:"id,attr"`
			Name     string `xml:"name"`
			StyleURL string `xml:"styleUrl"`
			Data     []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value"`
			} `xml:"ExtendedData>Data"`
		} `xml:"Folder>Placemark"`
	} `xml:"Document"`
}

// kmlCoordinates lists the text of every coordinates element of a KML file.
func kmlCoordinates(t *testing.T, text []byte) []string {
	t.Helper()
	var out []string
	dec := xml.NewDecoder(bytes.NewReader(text))
	in := false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("KML: %v", err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if tk.Name.Local == "coordinates" {
				in = true
				out = append(out, "")
			}
		case xml.EndElement:
			in = in && tk.Name.Local != "coordinates"
		case xml.CharData:
			if in {
				out[len(out)-1] += string(tk)
			}
		}
	}
}

// kmlTuples reads lon,lat tuples separated by whitespace, no space inside a tuple.
func kmlTuples(t *testing.T, text string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, tuple := range strings.Fields(text) {
		parts := strings.Split(tuple, ",")
		if len(parts) != 2 {
			t.Errorf("coordinate tuple %q is not lon,lat", tuple)
			continue
		}
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
			t.Errorf("coordinate tuple %q is not a longitude and a latitude", tuple)
			continue
		}
		out = append(out, [2]float64{lon, lat})
	}
	return out
}

// kml fetches an image's KML export and parses it.
func (ts *testServer) kml(t *testing.T, id string) (kmlFile, []byte) {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+id+"/annotations.kml", nil)
	wantStatus(t, rec, http.StatusOK)
	if ct := rec.Header().Get("Content-Type"); ct != "application/vnd.google-earth.kml+xml" {
		t.Errorf("Content-Type = %q, want application/vnd.google-earth.kml+xml", ct)
	}
	var k kmlFile
	if err := xml.Unmarshal(rec.Body.Bytes(), &k); err != nil {
		t.Fatalf("the KML does not parse: %v\n%s", err, truncate(rec.Body.String(), 600))
	}
	if k.XMLName.Space != "http://www.opengis.net/kml/2.2" {
		t.Errorf("root element %+v, want kml in the KML 2.2 namespace", k.XMLName)
	}
	return k, rec.Body.Bytes()
}

// overlayCorners are a KML ground overlay's corners: lower-left, lower-right,
// upper-right, upper-left.
func overlayCorners(t *testing.T, k kmlFile) [4][2]float64 {
	t.Helper()
	o := k.Document.Overlay
	if o == nil {
		t.Fatal("no GroundOverlay")
	}
	switch {
	case o.Box != nil && o.Quad == nil:
		b := o.Box
		return [4][2]float64{{b.West, b.South}, {b.East, b.South}, {b.East, b.North}, {b.West, b.North}}
	case o.Quad != nil && o.Box == nil:
		q := kmlTuples(t, o.Quad.Coordinates)
		if len(q) != 4 {
			t.Fatalf("gx:LatLonQuad has %d tuples, want 4", len(q))
		}
		return [4][2]float64(q)
	}
	t.Fatalf("GroundOverlay has box %v and quad %v; want exactly one", o.Box, o.Quad)
	return [4][2]float64{}
}

// geoKeyDirectory finds the GeoKeyDirectoryTag (34735) entry of a little-endian classic
// TIFF's first directory: where the entry is and where its values are.
func geoKeyDirectory(t *testing.T, tif []byte) (entry, values int) {
	t.Helper()
	if string(tif[:4]) != "II*\x00" {
		t.Fatalf("not a little-endian classic TIFF")
	}
	le := binary.LittleEndian
	ifd := int(le.Uint32(tif[4:]))
	n := int(le.Uint16(tif[ifd:]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if le.Uint16(tif[e:]) != 34735 {
			continue
		}
		count := int(le.Uint32(tif[e+4:]))
		if count*2 <= 4 {
			return e, e + 8
		}
		return e, int(le.Uint32(tif[e+8:]))
	}
	t.Fatalf("no GeoKeyDirectoryTag")
	return 0, 0
}

func TestGeoTIFFUploadsArePlaced(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	facts := readGeoTIFFFacts(t)
	dir := filepath.Join("..", "geo", "testdata", "geotiff")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	placed := []struct {
		file    string
		warning string // a word the import warning must hold, or "" for none
	}{
		{"wgs84.tif", ""}, {"point.tif", ""}, {"utm52n.tif", ""}, {"utm56s.tif", ""}, {"bigendian.tif", ""},
		{"webmercator.tif", ""}, {"rotated.tif", ""}, {"rotated-point.tif", ""},
		{"lambert93.tif", ""}, {"nad83.tif", ""}, // through GDAL's OSR
		{"negative-scale-y.tif", "negative"},
	}
	for _, tc := range placed {
		t.Run("ok, "+tc.file+" is placed as GDAL places it", func(t *testing.T) {
			f := facts[tc.file]
			if f == nil || f.gt == nil || len(f.corners) != 6 {
				t.Fatalf("geotiffs.txt has no geotransform and corners for %s", tc.file)
			}
			img := ts.mustUpload(t, filePart(tc.file, read(tc.file)))
			if !img.Georeferenced {
				t.Fatalf("%s imported without a georeference; warnings %v", tc.file, img.ImportWarnings)
			}
			switch {
			case tc.warning == "" && len(img.ImportWarnings) != 0:
				t.Errorf("import warnings %v, want none", img.ImportWarnings)
			case tc.warning != "" && (len(img.ImportWarnings) != 1 || !strings.Contains(img.ImportWarnings[0], tc.warning)):
				t.Errorf("import warnings %v, want one about %q", img.ImportWarnings, tc.warning)
			}
			g := ts.getGeoref(t, img.ID)
			if g.Method != "grid" || g.Origin != "geotiff" || g.CRS != f.crs || g.GeoTransform == nil || g.Fit != nil {
				t.Fatalf("georeference = %+v, want method grid, origin geotiff, crs %s, a geotransform", g, f.crs)
			}
			for i, want := range f.gt {
				if !near(g.GeoTransform[i], want, 1e-12*math.Max(1, math.Abs(want))) {
					t.Errorf("GT[%d] = %.17g, want GDAL's %.17g", i, g.GeoTransform[i], want)
				}
			}
			// The footprint (RFC 7946, 7 decimals) holds gdaltransform's corners.
			polys := polygonsOf(t, *g.Footprint)
			wantRFC7946Polygons(t, polys)
			for _, px := range [][2]float64{{0, 0}, {64, 0}, {64, 48}, {0, 48}} {
				want, found := f.corners[px], false
				for _, p := range polys[0][0] {
					found = found || (near(p[0], want[0], round7Tol) && near(p[1], want[1], round7Tol))
				}
				if !found {
					t.Errorf("footprint %v has no corner at gdaltransform's %v for pixel %v", polys[0][0], want, px)
				}
			}
			// The KML ground overlay has the corners to 7 decimals: gdaltransform's,
			// rounded.
			k, _ := ts.kml(t, img.ID)
			corners := overlayCorners(t, k)
			for i, px := range [][2]float64{{0, 48}, {64, 48}, {64, 0}, {0, 0}} {
				want := f.corners[px]
				if !near(corners[i][0], want[0], round7Tol) || !near(corners[i][1], want[1], round7Tol) {
					t.Errorf("overlay corner of pixel %v = %.12f, %.12f; want gdaltransform's %.12f, %.12f", px, corners[i][0], corners[i][1], want[0], want[1])
				}
			}
			wantBox := g.CRS == "EPSG:4326" || g.CRS == "EPSG:3857" || g.CRS == "EPSG:4269"
			if (k.Document.Overlay.Box != nil) != wantBox {
				t.Errorf("%s: LatLonBox %v, want one only for a north-up image in lon/lat (WGS 84, NAD83) or web Mercator", tc.file, k.Document.Overlay.Box)
			}
		})
	}

	type notPlacedCase struct {
		name  string
		file  string
		data  []byte
		words []string // in the import warnings; none for a plain TIFF
	}
	// utm52n.tif with its GeoKey directory damaged three ways.
	utm := read("utm52n.tif")
	entry, values := geoKeyDirectory(t, utm)
	broken := func(edit func(b []byte)) []byte {
		b := append([]byte{}, utm...)
		edit(b)
		return b
	}
	notPlaced := []notPlacedCase{
		{"ok, plain TIFF has no georeference and no warning", "plain.tif", read("plain.tif"), nil},
		{"ok, GeoKey directory of version 7", "version.tif", broken(func(b []byte) { binary.LittleEndian.PutUint16(b[values:], 7) }),
			[]string{"GeoKey directory", "version 7"}},
		{"ok, GeoKey directory counting more keys than it holds", "count.tif", broken(func(b []byte) { binary.LittleEndian.PutUint16(b[values+6:], 0xffff) }),
			[]string{"GeoKey directory", "cut short"}},
		{"ok, GeoKey directory stored as LONGs", "type.tif", broken(func(b []byte) { binary.LittleEndian.PutUint16(b[entry+2:], 4) }),
			[]string{"GeoKeyDirectoryTag", "SHORT"}},
	}
	for _, tc := range notPlaced {
		t.Run(tc.name, func(t *testing.T) {
			img := ts.mustUpload(t, filePart(tc.file, tc.data))
			if img.Georeferenced {
				t.Errorf("%s imported with a georeference", tc.file)
			}
			if len(tc.words) == 0 && len(img.ImportWarnings) != 0 {
				t.Errorf("import warnings %v, want none", img.ImportWarnings)
			}
			if len(tc.words) > 0 {
				all := strings.Join(img.ImportWarnings, " ")
				for _, w := range tc.words {
					if !strings.Contains(all, w) {
						t.Errorf("import warnings %q, want them to mention %q", img.ImportWarnings, w)
					}
				}
			}
			// What the upload answered is what is stored.
			var got annotations.Image
			decode(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID, nil), &got)
			if strings.Join(got.ImportWarnings, "|") != strings.Join(img.ImportWarnings, "|") {
				t.Errorf("stored warnings %q, upload answered %q", got.ImportWarnings, img.ImportWarnings)
			}
			wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference", nil), http.StatusNotFound, "not_found", "")
		})
	}

	// A GeoTIFF placed only by control points arrives with them fitted affine, and says so.
	for _, file := range []string{"gcps.tif", "gcps-utm52n.tif", "gcps-point.tif"} {
		t.Run("ok, control points only: "+file, func(t *testing.T) {
			img := ts.mustUpload(t, filePart(file, read(file)))
			all := strings.Join(img.ImportWarnings, " ")
			if !img.Georeferenced || !strings.Contains(all, "control points") || !strings.Contains(all, "affine") {
				t.Fatalf("%s: georeferenced %v, warnings %q; want placed by its control points, said so", file, img.Georeferenced, img.ImportWarnings)
			}
			var g struct {
				Method, Transform, Origin string
				GCPs                      []annotations.ControlPoint `json:"gcps"`
			}
			decode(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference", nil), &g)
			if g.Method != "gcps" || g.Transform != "affine" || len(g.GCPs) < 3 || g.Origin != "geotiff control points" {
				t.Errorf("georeference %+v, want the file's control points fitted affine", g)
			}
		})
	}

	t.Run("ok, BigTIFF is read by GDAL and placed by its GeoTIFF tags", func(t *testing.T) {
		rec := ts.upload(t, filePart("bigtiff.tif", read("bigtiff.tif")))
		wantStatus(t, rec, http.StatusCreated)
		var img annotations.Image
		decode(t, rec, &img)
		if img.MediaType != "image/tiff" || img.Width != 64 || img.Height != 48 || !img.Georeferenced {
			t.Errorf("got %s %d×%d georeferenced %v, want a placed 64×48 image/tiff", img.MediaType, img.Width, img.Height, img.Georeferenced)
		}
	})
}

func TestWorldFiles(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	// What GDAL reads from each committed world file (geo/testdata/worldfiles.txt).
	gdal := map[string][6]float64{}
	facts, err := os.ReadFile(filepath.Join("..", "geo", "testdata", "worldfiles.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(facts), "\n") {
		w := strings.Fields(line)
		if len(w) != 8 || w[0] != "gt" {
			continue
		}
		var gt [6]float64
		for i := range gt {
			if gt[i], err = strconv.ParseFloat(w[2+i], 64); err != nil {
				t.Fatalf("worldfiles.txt: %q: %v", line, err)
			}
		}
		gdal[w[1]] = gt
	}
	if len(gdal) != 6 {
		t.Fatalf("worldfiles.txt has %d geotransforms, want 6", len(gdal))
	}
	tests := []struct {
		name, file, want string
		extra            []part
		crs              string
	}{
		{"ok, UTM world file with a crs field", "utm.wld", "utm", []part{field("crs", "EPSG:32652")}, "EPSG:32652"},
		{"ok, UTM world file with a .prj (WKT 1)", "utm.wld", "utm", []part{{name: "prj", filename: "scene.prj", data: []byte(prjText(t, "wkt1-32652.prj"))}}, "EPSG:32652"},
		{"ok, UTM world file with an Esri .prj", "utm.wld", "utm", []part{field("prj", prjText(t, "esri-32652.prj"))}, "EPSG:32652"},
		{"ok, hand-written .jgw in degrees, no CRS", "handwritten.jgw", "handwritten", nil, "EPSG:4326"},
		{"ok, CRLF line ends and exponents", "crlf.pgw", "crlf", nil, "EPSG:4326"},
		{"ok, rotated 90° in UTM 31N", "rotated90.wld", "rotated90", []part{field("crs", "32631")}, "EPSG:32631"},
		{"ok, GDAL's world file of the §3.5 affine", "degrees.wld", "degrees", nil, "EPSG:4326"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts := append([]part{filePart("scene.png", pngBytes(t, 64, 48, 400+i)), {name: "worldfile", filename: tc.file, data: []byte(worldfileText(t, tc.file))}}, tc.extra...)
			img := ts.mustUpload(t, parts...)
			if !img.Georeferenced {
				t.Fatalf("uploaded with a world file, the image is not georeferenced")
			}
			g := ts.getGeoref(t, img.ID)
			if g.Method != "grid" || g.Origin != "worldfile" || g.CRS != tc.crs || g.GeoTransform == nil {
				t.Fatalf("georeference = %+v, want a grid from the world file in %s", g, tc.crs)
			}
			want := gdal[tc.want]
			for k := range want {
				if !near(g.GeoTransform[k], want[k], 1e-12*math.Max(1, math.Abs(want[k]))) {
					t.Errorf("GT[%d] = %.17g, want GDAL's %.17g", k, g.GeoTransform[k], want[k])
				}
			}

			// The world file given back reads back to the same geotransform, exactly.
			rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference/worldfile", nil)
			wantStatus(t, rec, http.StatusOK)
			if _, p, err := mime.ParseMediaType(rec.Header().Get("Content-Disposition")); err != nil || !strings.HasSuffix(p["filename"], ".wld") {
				t.Errorf("Content-Disposition = %q, want an attachment named *.wld", rec.Header().Get("Content-Disposition"))
			}
			if got := rec.Header().Get("X-Satmark-CRS"); got != tc.crs {
				t.Errorf("X-Satmark-CRS = %q, want %q", got, tc.crs)
			}
			gt, err := geo.ParseWorldFile(rec.Body.String())
			if err != nil {
				t.Fatalf("ParseWorldFile(%q): %v", rec.Body.String(), err)
			}
			if [6]float64(gt) != *g.GeoTransform {
				t.Errorf("world file %q reads back as %v, want %v", rec.Body.String(), gt, *g.GeoTransform)
			}
			rec = ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference/worldfile?prj=1", nil)
			wantStatus(t, rec, http.StatusOK)
			if _, p, _ := mime.ParseMediaType(rec.Header().Get("Content-Disposition")); !strings.HasSuffix(p["filename"], ".prj") {
				t.Errorf("Content-Disposition = %q, want an attachment named *.prj", rec.Header().Get("Content-Disposition"))
			}
			if crs, err := geo.CRSFromWKT(rec.Body.String()); err != nil || crs.String() != tc.crs {
				t.Errorf(".prj %q reads as %v (%v), want %s", rec.Body.String(), crs, err, tc.crs)
			}
		})
	}

	t.Run("ok, world file posted as text, then as a form", func(t *testing.T) {
		img := ts.newImage(t, 410)
		rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/georeference/worldfile?crs=EPSG:32652", strings.NewReader(worldfileText(t, "utm.wld")), "Content-Type", "text/plain")
		wantStatus(t, rec, http.StatusOK)
		var g georefAnswer
		decode(t, rec, &g)
		if g.Method != "grid" || g.CRS != "EPSG:32652" || g.Origin != "worldfile" || *g.GeoTransform != gdal["utm"] {
			t.Errorf("answer = %+v, want the UTM grid", g)
		}
		body, ct := multipartBody(t, part{name: "worldfile", filename: "a.jgw", data: []byte(worldfileText(t, "handwritten.jgw"))})
		rec = ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/georeference/worldfile", body, "Content-Type", ct)
		wantStatus(t, rec, http.StatusOK)
		if g := ts.getGeoref(t, img.ID); g.CRS != "EPSG:4326" || *g.GeoTransform != gdal["handwritten"] {
			t.Errorf("after the form: %+v, want the hand-written grid in EPSG:4326", g)
		}
	})

	img := ts.uploadScene(t, 4000, 3000, 420)
	t.Run("ok, affine fit gives GDAL's world file at full precision", func(t *testing.T) {
		ts.putGeoref(t, img.ID, "affine", vladivostok6)
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference/worldfile", nil)
		wantStatus(t, rec, http.StatusOK)
		lines := strings.Fields(rec.Body.String())
		// GDAL's world file of this fit (standards.md §4), at its 10 decimals.
		gdalLines := []float64{0.0000250002, -0.0000007941, 0.0000009962, -0.0000200007, 131.8500203292, 43.1399795193}
		if len(lines) != 6 {
			t.Fatalf("world file %q has %d lines, want 6", rec.Body.String(), len(lines))
		}
		for i, want := range gdalLines {
			got, err := strconv.ParseFloat(lines[i], 64)
			if err != nil || !near(got, want, 5e-11) {
				t.Errorf("line %d = %s, want GDAL's %.10f", i+1, lines[i], want)
			}
			if i < 4 && len(strings.TrimLeft(strings.TrimPrefix(lines[i], "-"), "0.")) < 12 {
				t.Errorf("line %d = %s: want full precision, not GDAL's six significant digits", i+1, lines[i])
			}
		}
		gt, err := geo.ParseWorldFile(rec.Body.String())
		if err != nil {
			t.Fatal(err)
		}
		for i := range gt {
			if !near(gt[i], vladivostokGT[i], 1e-9*math.Max(1e-4, math.Abs(vladivostokGT[i]))) {
				t.Errorf("GT[%d] = %.15g, want gdal.GCPsToGeoTransform's %.15g", i, gt[i], vladivostokGT[i])
			}
		}
		if got := rec.Header().Get("X-Satmark-CRS"); got != "EPSG:4326" {
			t.Errorf("X-Satmark-CRS = %q, want EPSG:4326", got)
		}
	})
	t.Run("ok, similarity fit gives a world file", func(t *testing.T) {
		ts.putGeoref(t, img.ID, "similarity", vladivostok6)
		wantStatus(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference/worldfile", nil), http.StatusOK)
	})
	for _, kind := range []string{"polynomial2", "projective", "tps"} {
		t.Run("nok, "+kind+" fit has no world file", func(t *testing.T) {
			ts.putGeoref(t, img.ID, kind, vladivostok6)
			wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference/worldfile", nil), http.StatusConflict, "conflict", "", kind, "affine")
		})
	}
	t.Run("nok, image without georeference has no world file", func(t *testing.T) {
		plain := ts.newImage(t, 430)
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+plain.ID+"/georeference/worldfile", nil), http.StatusNotFound, "not_found", "")
	})
}

// utmWorldFile places an image north-up with 1 m pixels in UTM 52N, its top-left corner
// at easting 500 000 (on the zone's central meridian, 129°E, so grid north is true
// north) and northing 4 800 000 (43.3°N).
const utmWorldFile = "1\n0\n0\n-1\n500000.5\n4799999.5\n"

// boxRing is a length×width rotated rectangle centred on (cx, cy) in pixels whose long
// axis points along bearing (degrees clockwise from north, on a north-up image). With
// longFirst the first side drawn runs the length of the box, in the bearing's direction;
// otherwise the first side is the short one and the long axis runs from it toward the
// third click.
func boxRing(cx, cy, length, width, bearing float64, longFirst bool) [][2]float64 {
	b := bearing * math.Pi / 180
	lx, ly := math.Sin(b), -math.Cos(b) // along the bearing, y down
	wx, wy := math.Cos(b), math.Sin(b)  // 90° clockwise of it
	p0 := [2]float64{cx - lx*length/2 - wx*width/2, cy - ly*length/2 - wy*width/2}
	along := [2]float64{lx * length, ly * length}
	across := [2]float64{wx * width, wy * width}
	first, second := along, across
	if !longFirst {
		first, second = across, along
	}
	p1 := [2]float64{p0[0] + first[0], p0[1] + first[1]}
	p2 := [2]float64{p1[0] + second[0], p1[1] + second[1]}
	p3 := [2]float64{p0[0] + second[0], p0[1] + second[1]}
	return [][2]float64{p0, p1, p2, p3, p0}
}

func angleDiff(a, b float64) float64 { return math.Abs(math.Mod(a-b+540, 360) - 180) }

func TestMeasuresOnTheGround(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	img := ts.mustUpload(t, filePart("utm.png", pngBytes(t, 300, 300, 501)), field("worldfile", utmWorldFile), field("crs", "EPSG:32652"))
	gsdImg := ts.mustUpload(t, filePart("gsd.png", pngBytes(t, 300, 300, 502)))
	rec := ts.doJSON(t, http.MethodPut, "/api/v1/images/"+gsdImg.ID+"/georeference", `{"gsd_m": 0.5}`)
	wantStatus(t, rec, http.StatusOK)
	var g georefAnswer
	decode(t, rec, &g)
	if g.Method != "gsd" || g.GSD == nil || *g.GSD != 0.5 {
		t.Fatalf("answer to a ground sample distance = %+v, want method gsd, gsd_m 0.5", g)
	}

	measure := func(t *testing.T, id string, shape string, geom string) measuresAnswer {
		t.Helper()
		before := ts.snapshot(t)
		rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+id+"/measure", `{"shape": "`+shape+`", "geometry": `+geom+`}`)
		wantStatus(t, rec, http.StatusOK)
		ts.wantUnchanged(t, before)
		var m measuresAnswer
		decode(t, rec, &m)
		return m
	}
	create := func(t *testing.T, id, shape, geom string) annotationAnswer {
		t.Helper()
		rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+id+"/annotations", `{"label": "landing ship", "shape": "`+shape+`", "geometry": `+geom+`}`)
		wantStatus(t, rec, http.StatusCreated)
		var a annotationAnswer
		decode(t, rec, &a)
		return a
	}
	// every answer that shows the annotation: create, GET one, GET list, PATCH.
	answers := func(t *testing.T, imageID string, a annotationAnswer) map[string]measuresAnswer {
		t.Helper()
		out := map[string]measuresAnswer{"create": a.Measures}
		var one annotationAnswer
		decode(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID, nil), &one)
		out["get"] = one.Measures
		var list []annotationAnswer
		decode(t, ts.do(t, http.MethodGet, "/api/v1/images/"+imageID+"/annotations", nil), &list)
		for _, l := range list {
			if l.ID == a.ID {
				out["list"] = l.Measures
			}
		}
		rec := ts.doJSON(t, http.MethodPatch, "/api/v1/annotations/"+a.ID, fmt.Sprintf(`{"version": %d, "properties": {"note": "measured"}}`, a.Version))
		wantStatus(t, rec, http.StatusOK)
		var patched annotationAnswer
		decode(t, rec, &patched)
		out["patch"] = patched.Measures
		return out
	}
	ringJSON := func(r [][2]float64) string {
		b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{r}})
		return string(b)
	}

	boxes := []struct {
		name      string
		bearing   float64
		longFirst bool
	}{
		{"ok, bow at 30°, long side first", 30, true},
		{"ok, bow at 135°, long side first", 135, true},
		{"ok, bow at 250°, long side first", 250, true},
		{"ok, bow just east of north", 0.25, true},
		{"ok, bow just west of north", 359.75, true},
		{"ok, bow at 30°, short side first", 30, false},
		{"ok, bow at 200°, short side first", 200, false},
		{"ok, bow at 300°, short side first", 300, false},
	}
	for _, tc := range boxes {
		t.Run(tc.name, func(t *testing.T) {
			geom := ringJSON(boxRing(150, 150, 100, 20, tc.bearing, tc.longFirst))
			a := create(t, img.ID, "rotated_rectangle", geom)
			for where, m := range answers(t, img.ID, a) {
				if m.Basis != "georeference" || m.LengthM == nil || m.WidthM == nil || m.AreaM2 == nil || m.PerimeterM == nil || m.HeadingDeg == nil {
					t.Fatalf("%s: measures = %+v, want length, width, area, perimeter and heading on the georeference", where, m)
				}
				// 1 m pixels in UTM (scale factor 0.9996 on the central meridian): the
				// ground sizes are the pixel sizes to 0.1 %.
				if !near(*m.LengthM, 100, 0.1) || !near(*m.WidthM, 20, 0.02) || !near(*m.AreaM2, 2000, 4) || !near(*m.PerimeterM, 240, 0.24) {
					t.Errorf("%s: length %.3f m, width %.3f m, area %.1f m², perimeter %.2f m; want 100, 20, 2000, 240 to 0.1 %%",
						where, *m.LengthM, *m.WidthM, *m.AreaM2, *m.PerimeterM)
				}
				if d := angleDiff(*m.HeadingDeg, tc.bearing); d > 0.1 {
					t.Errorf("%s: heading %.3f°, want %.2f° (the long axis, toward the bow)", where, *m.HeadingDeg, tc.bearing)
				}
				if *m.HeadingDeg < 0 || *m.HeadingDeg >= 360 {
					t.Errorf("%s: heading %g is outside [0, 360)", where, *m.HeadingDeg)
				}
			}
			// The ruler measures the same without storing anything.
			r := measure(t, img.ID, "rotated_rectangle", geom)
			if r.LengthM == nil || *r.LengthM != *a.Measures.LengthM || *r.HeadingDeg != *a.Measures.HeadingDeg || *r.AreaM2 != *a.Measures.AreaM2 || r.Basis != "georeference" {
				t.Errorf("ruler = %+v, want the annotation's %+v", r, a.Measures)
			}
		})
	}

	t.Run("ok, line along a bearing", func(t *testing.T) {
		geom := `{"type": "LineString", "coordinates": [[100, 200], [160, 120]]}` // 100 px
		m := measure(t, img.ID, "line", geom)
		if m.LengthM == nil || !near(*m.LengthM, 100, 0.1) || m.HeadingDeg != nil || m.Basis != "georeference" {
			t.Errorf("line measures = %+v, want about 100 m and no heading", m)
		}
	})

	t.Run("ok, only a ground sample distance", func(t *testing.T) {
		for _, longFirst := range []bool{true, false} {
			geom := ringJSON(boxRing(150, 150, 100, 20, 30, longFirst))
			a := create(t, gsdImg.ID, "rotated_rectangle", geom)
			for where, m := range answers(t, gsdImg.ID, a) {
				if m.Basis != "gsd" || m.LengthM == nil || m.WidthM == nil || m.AreaM2 == nil || m.PerimeterM == nil {
					t.Fatalf("%s: measures = %+v, want sizes from the ground sample distance", where, m)
				}
				if *m.LengthM != 0.5*m.LengthPx || *m.WidthM != 0.5*m.WidthPx || *m.AreaM2 != 0.25*m.AreaPx2 || *m.PerimeterM != 0.5*m.PerimeterPx {
					t.Errorf("%s: %+v, want the pixel sizes times 0.5 m (areas times 0.25)", where, m)
				}
				if m.HeadingDeg != nil {
					t.Errorf("%s: heading %g without a georeference, want none (north is unknown)", where, *m.HeadingDeg)
				}
			}
			r := measure(t, gsdImg.ID, "rotated_rectangle", geom)
			if r.LengthM == nil || *r.LengthM != *a.Measures.LengthM || r.Basis != "gsd" || r.HeadingDeg != nil {
				t.Errorf("ruler = %+v, want the annotation's %+v", r, a.Measures)
			}
		}
	})

	t.Run("ok, without georeference or GSD there are no ground measures", func(t *testing.T) {
		plain := ts.newImage(t, 503)
		m := measure(t, plain.ID, "line", `{"type": "LineString", "coordinates": [[0, 0], [30, 40]]}`)
		if m.LengthPx != 50 || m.LengthM != nil || m.Basis != "" {
			t.Errorf("measures = %+v, want 50 px and nothing on the ground", m)
		}
	})

	badMeasures := []struct {
		name, body, field string
		status            int
	}{
		{"nok, geometry outside the image", `{"shape": "line", "geometry": {"type": "LineString", "coordinates": [[10, 10], [301, 10]]}}`, "geometry", 422},
		{"nok, geometry that is not the shape's", `{"shape": "line", "geometry": {"type": "Point", "coordinates": [10, 10]}}`, "geometry", 422},
		{"nok, rotated rectangle without right angles", `{"shape": "rotated_rectangle", "geometry": {"type": "Polygon", "coordinates": [[[10, 10], [60, 10], [70, 40], [10, 40], [10, 10]]]}}`, "geometry", 422},
		{"nok, unknown shape", `{"shape": "circle", "geometry": {"type": "Point", "coordinates": [10, 10]}}`, "shape", 422},
		{"nok, NaN in the geometry", `{"shape": "line", "geometry": {"type": "LineString", "coordinates": [[NaN, 10], [20, 10]]}}`, "geometry", 422},
		{"nok, Infinity in the geometry", `{"shape": "line", "geometry": {"type": "LineString", "coordinates": [[10, 10], [20, -Infinity]]}}`, "geometry", 422},
		{"nok, no geometry", `{"shape": "line"}`, "geometry", 422},
		{"nok, NaN outside the geometry", `{"shape": NaN, "geometry": {"type": "Point", "coordinates": [10, 10]}}`, "", 400},
	}
	for _, tc := range badMeasures {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/measure", tc.body)
			if tc.status == 400 {
				wantError(t, rec, 400, "malformed", tc.field)
			} else {
				wantError(t, rec, tc.status, "invalid", tc.field)
			}
			ts.wantUnchanged(t, before)
		})
	}

	t.Run("ok, deleting the georeference drops the ground measures", func(t *testing.T) {
		a := create(t, img.ID, "rotated_rectangle", ringJSON(boxRing(150, 150, 100, 20, 45, true)))
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+img.ID+"/georeference", nil), http.StatusNoContent)
		var got annotationAnswer
		decode(t, ts.do(t, http.MethodGet, "/api/v1/annotations/"+a.ID, nil), &got)
		if got.Measures.LengthM != nil || got.Measures.Basis != "" || got.Measures.LengthPx == 0 {
			t.Errorf("measures after the delete = %+v, want pixel sizes only", got.Measures)
		}
	})
}

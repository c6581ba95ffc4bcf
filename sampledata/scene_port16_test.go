package sampledata

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/satmark/satmark/geo"
)

var (
	cachedTIFFOnce  sync.Once
	cachedTIFFScene Scene
	cachedTIFFErr   error

	cachedRasterOnce sync.Once
	cachedRaster     geoTIFF
	cachedRasterPort *port
)

// geoTIFFScene generates the GeoTIFF port scene once per test binary.
func geoTIFFScene(t testing.TB) Scene {
	t.Helper()
	cachedTIFFOnce.Do(func() {
		var s []Scene
		s, cachedTIFFErr = GeoTIFFScenes()
		if cachedTIFFErr == nil && len(s) != 1 {
			cachedTIFFErr = fmt.Errorf("GeoTIFFScenes() returned %d scenes, want 1", len(s))
		}
		if cachedTIFFErr == nil {
			cachedTIFFScene = s[0]
		}
	})
	if cachedTIFFErr != nil {
		t.Fatalf("GeoTIFFScenes(): %v", cachedTIFFErr)
	}
	return cachedTIFFScene
}

// port16 draws the 13 October port once more (independently of geoTIFFScene), with
// its sensor values and geometry.
func port16(t testing.TB) (geoTIFF, *port) {
	t.Helper()
	cachedRasterOnce.Do(func() { cachedRaster, cachedRasterPort = portGeoTIFF() })
	return cachedRaster, cachedRasterPort
}

// sample is band b (0 blue … 3 near-infrared) of pixel (x, y).
func (g geoTIFF) sample(x, y, b int) uint16 { return g.pix[(y*g.width+x)*g.bands+b] }

func TestGeoTIFFScenesAreDeterministic(t *testing.T) {
	s := geoTIFFScene(t)
	img, p := port16(t)
	again, err := img.encode()
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(s.GeoTIFF) != sha256.Sum256(again) {
		t.Errorf("GeoTIFF bytes differ between runs (%d vs %d bytes)", len(s.GeoTIFF), len(again))
	}
	if !reflect.DeepEqual(s.Objects, p.objs) {
		t.Errorf("objects differ between runs")
	}
	if s.JPEG != nil || !bytes.Equal(s.File(), s.GeoTIFF) {
		t.Errorf("a GeoTIFF scene has JPEG bytes, or File() is not its GeoTIFF")
	}
}

// TestJPEGScenesUnchanged pins the JPEG scenes' bytes, which drawing the port on
// another day must not change. If a change to the drawing is meant, or a new Go
// release encodes JPEG differently, update the hashes.
func TestJPEGScenesUnchanged(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the hashes were taken on amd64; other architectures may round floating point differently")
	}
	want := map[string]string{
		"synthetic-port-scene.jpg": "9b69f82cdec158c5cd5621cc196b9264987ed42b4a4a86ee9d00bab7603e4958",
		"synthetic-base-scene.jpg": "08429947569ac5a56749b06da159e47a2914c4169b1783791bfb443d4e1ba806",
	}
	for _, s := range scenes(t) {
		sum := sha256.Sum256(s.JPEG)
		if got := hex.EncodeToString(sum[:]); got != want[s.FileName] {
			t.Errorf("%s: SHA-256 %s, want %s", s.FileName, got, want[s.FileName])
		}
	}
}

func TestPortGeoTIFFGeoreferenceReadByGeo(t *testing.T) {
	s := geoTIFFScene(t)
	g, err := geo.ReadGeoTIFF(bytes.NewReader(s.GeoTIFF), int64(len(s.GeoTIFF)))
	if err != nil {
		t.Fatalf("ReadGeoTIFF: %v", err)
	}
	if len(g.Warnings) > 0 || g.Grid == nil {
		t.Fatalf("ReadGeoTIFF: grid %v, warnings %q", g.Grid, g.Warnings)
	}
	want := geo.GeoTransform(*placements["synthetic-port-scene.jpg"].geotransform)
	if g.Grid.GeoTransform != want || g.Grid.CRS != geo.WGS84 {
		t.Errorf("ReadGeoTIFF: %v in %s, want the JPEG port's placement %v in EPSG:4326", g.Grid.GeoTransform, g.Grid.CRS, want)
	}
}

func TestPortGeoTIFFProvenanceSaysSynthetic(t *testing.T) {
	s := geoTIFFScene(t)
	p := s.Provenance
	if s.FileName != PortGeoTIFFFileName || s.Width != sceneW || s.Height != sceneH {
		t.Errorf("scene %s %d×%d, want %s %d×%d", s.FileName, s.Width, s.Height, PortGeoTIFFFileName, sceneW, sceneH)
	}
	for _, f := range []struct{ name, value string }{
		{"Title", p.Title}, {"Publisher", p.Publisher}, {"Credit", p.Credit}, {"LocationName", p.LocationName}, {"Claim", p.Claim},
	} {
		if !strings.Contains(strings.ToLower(f.value), "synthetic") {
			t.Errorf("%s %q does not say synthetic", f.name, f.value)
		}
	}
	for _, c := range []struct{ name, got, want string }{
		{"Publisher", p.Publisher, "satmark sample data (synthetic)"},
		{"CapturedFrom", p.CapturedFrom, "2024-10-13"},
		{"CapturedTo", p.CapturedTo, "2024-10-13"},
		{"ReleasedAt", p.ReleasedAt, "2024-10-18"},
		{"License", p.License, "CC0-1.0"},
		{"SourceURL", p.SourceURL, ""},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !strings.Contains(p.Notes, "invented") || !strings.Contains(p.Title, "13 October 2024") {
		t.Errorf("Notes %q must say the scene is invented and Title %q its date", p.Notes, p.Title)
	}
}

func TestPortGeoTIFFShipsMovedPiersStayed(t *testing.T) {
	later := geoTIFFScene(t)
	earlier := sceneByFile(t, "synthetic-port-scene.jpg")
	if n := len(later.Objects); n < 10 || n > 20 {
		t.Errorf("%d objects, want 10–20", n)
	}
	labels := map[string]bool{}
	for _, o := range earlier.Objects {
		labels[o.Label] = true
	}
	fixed := func(objs []Object) []Object {
		var out []Object
		for _, o := range objs {
			if strings.HasPrefix(o.Label, "facility/") {
				out = append(out, o)
			}
		}
		return out
	}
	if a, b := fixed(earlier.Objects), fixed(later.Objects); !reflect.DeepEqual(a, b) || len(a) != 4 {
		t.Errorf("piers and naval base differ between the days:\n%v\n%v", a, b)
	}
	boxes := func(objs []Object, label string) map[string]bool {
		m := map[string]bool{}
		for _, o := range objs {
			if o.Label == label {
				m[fmt.Sprint(o.Coordinates)] = true
			}
		}
		return m
	}
	for _, label := range []string{"vessel/landing ship", "vessel/frigate", "vessel/cargo ship"} {
		a, b := boxes(earlier.Objects, label), boxes(later.Objects, label)
		left, came := 0, 0
		for k := range a {
			if !b[k] {
				left++
			}
		}
		for k := range b {
			if !a[k] {
				came++
			}
		}
		t.Logf("%s: %d on 8 October, %d on 13 October; %d gone from their place, %d new", label, len(a), len(b), left, came)
		if left == 0 {
			t.Errorf("%s: every one of 8 October is still in its place on 13 October", label)
		}
		if label == "vessel/landing ship" && came < 2 {
			t.Errorf("landing ships: %d in a new place, want the one moved along a pier and the one arrived", came)
		}
	}
	for i, o := range later.Objects {
		if !labels[o.Label] {
			t.Errorf("object %d: label %q is not one of the 8 October port's", i, o.Label)
		}
		for _, c := range o.Coordinates {
			if port16NoData(int(c[0]), int(c[1])) {
				t.Errorf("object %d (%s) reaches into the nodata corner at %v", i, o.Label, c)
			}
		}
		if o.Note == "" {
			t.Errorf("object %d (%s) has no note", i, o.Label)
		}
	}
}

// displayImage shows a four-band scene's red, green and blue bands linearly stretched
// from 100–2100 to 0–255, as a viewer would.
type displayImage struct{ g geoTIFF }

func (d displayImage) ColorModel() color.Model { return color.RGBA64Model }
func (d displayImage) Bounds() image.Rectangle { return image.Rect(0, 0, d.g.width, d.g.height) }
func (d displayImage) At(x, y int) color.Color {
	s := func(b int) uint16 {
		v := (float64(d.g.sample(x, y, b)) - 100) / 2000
		return uint16(math.Max(0, math.Min(1, v)) * 65535)
	}
	return color.RGBA64{s(2), s(1), s(0), 65535}
}

func TestPortGeoTIFFShipBoxesSitOnDrawnHulls(t *testing.T) {
	img, p := port16(t)
	checkShipBoxesOnHulls(t, displayImage{img}, p.objs)
}

func TestPortGeoTIFFRadiometry(t *testing.T) {
	img, p := port16(t)
	if img.bands != 4 || img.width != sceneW || img.height != sceneH {
		t.Fatalf("%d×%d×%d, want %d×%d×4", img.width, img.height, img.bands, sceneW, sceneH)
	}
	nodata, badNodata, outOfRange := 0, 0, 0
	var maxV uint16
	for y := 0; y < img.height; y++ {
		for x := 0; x < img.width; x++ {
			q := img.pix[4*(y*img.width+x) : 4*(y*img.width+x)+4]
			if port16NoData(x, y) {
				nodata++
				if q[0]|q[1]|q[2]|q[3] != 0 {
					badNodata++
				}
				continue
			}
			for _, v := range q {
				maxV = max(maxV, v)
				if v < 1 || v > 4095 {
					outOfRange++
				}
			}
		}
	}
	t.Logf("nodata %d px (%.1f %%), largest value %d", nodata, 100*float64(nodata)/float64(img.width*img.height), maxV)
	if nodata < 100000 || badNodata > 0 || outOfRange > 0 {
		t.Errorf("nodata corner %d px with %d not all 0; %d samples outside 1–4095", nodata, badNodata, outOfRange)
	}
	if maxV < 2000 {
		t.Errorf("largest value %d: the scene does not use the 12-bit range", maxV)
	}
	// NDVI, (NIR − red)/(NIR + red), high on vegetated land, negative on open water
	ndvi := func(x, y int) float64 {
		r, n := float64(img.sample(x, y, 2)), float64(img.sample(x, y, 3))
		return (n - r) / (n + r)
	}
	var water, leaves []float64
	for y := 5; y < img.height; y += 23 {
		for x := 5; x < img.width; x += 23 {
			q := pt{float64(x) + 0.5, float64(y) + 0.5}
			switch {
			case port16NoData(x, y):
			case !p.isLand(q, -80) && q[1] > p.shore[x]+80:
				water = append(water, ndvi(x, y))
			case p.isLand(q, 40) && p.cover.at(q[0], q[1]) < 0.2 && !pointInPoly(q, p.compound):
				leaves = append(leaves, ndvi(x, y))
			}
		}
	}
	slices.Sort(water)
	slices.Sort(leaves)
	if len(water) < 1000 || len(leaves) < 200 {
		t.Fatalf("%d water and %d vegetation samples, too few", len(water), len(leaves))
	}
	mw, ml := water[len(water)/2], leaves[len(leaves)/2]
	t.Logf("median NDVI: water %.3f (%d samples), vegetated land %.3f (%d samples)", mw, len(water), ml, len(leaves))
	if mw >= 0 || ml < 0.4 {
		t.Errorf("median NDVI on water %.3f (want < 0), on vegetated land %.3f (want ≥ 0.4)", mw, ml)
	}
}

// oracle returns the path of a GDAL tool, skipping the test when it is not installed
// unless SATMARK_REQUIRE_ORACLES=1.
func oracle(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("SATMARK_REQUIRE_ORACLES") == "1" {
			t.Fatalf("%s not found and SATMARK_REQUIRE_ORACLES=1: %v", name, err)
		}
		t.Skipf("%s (gdal-bin) not installed", name)
	}
	return path
}

func runTool(t *testing.T, tool string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(tool), strings.Join(args, " "), err, out)
	}
	return out
}

// writeGeoTIFFScene writes the GeoTIFF scene to a temporary folder and returns its path.
func writeGeoTIFFScene(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), PortGeoTIFFFileName)
	if err := os.WriteFile(path, geoTIFFScene(t).GeoTIFF, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPortGeoTIFFAsGDALReadsIt(t *testing.T) {
	gdalinfo := oracle(t, "gdalinfo")
	path := writeGeoTIFFScene(t)
	var info struct {
		DriverShortName string                       `json:"driverShortName"`
		Size            [2]int                       `json:"size"`
		GeoTransform    [6]float64                   `json:"geoTransform"`
		Metadata        map[string]map[string]string `json:"metadata"`
		Corners         map[string][2]float64        `json:"cornerCoordinates"`
		STAC            struct {
			EPSG int `json:"proj:epsg"`
		} `json:"stac"`
		Bands []struct {
			Type        string                       `json:"type"`
			ColorInterp string                       `json:"colorInterpretation"`
			Description string                       `json:"description"`
			NoData      *float64                     `json:"noDataValue"`
			Block       [2]int                       `json:"block"`
			Metadata    map[string]map[string]string `json:"metadata"`
		} `json:"bands"`
	}
	out := runTool(t, gdalinfo, "-json", path)
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("gdalinfo -json: %v\n%s", err, out)
	}
	if info.DriverShortName != "GTiff" || info.Size != [2]int{sceneW, sceneH} || len(info.Bands) != 4 {
		t.Fatalf("gdalinfo: %s %v with %d bands, want GTiff [%d %d] with 4", info.DriverShortName, info.Size, len(info.Bands), sceneW, sceneH)
	}
	wantBands := [][2]string{{"Blue", "Blue"}, {"Green", "Green"}, {"Red", "Red"}, {"Undefined", "Near-infrared"}}
	for i, b := range info.Bands {
		if b.Type != "UInt16" || b.ColorInterp != wantBands[i][0] || b.Description != wantBands[i][1] ||
			b.NoData == nil || *b.NoData != 0 || b.Block != [2]int{256, 256} || b.Metadata[""]["WAVELENGTH"] != strconv.Itoa(bands16[i].wavelength) {
			t.Errorf("band %d: %+v, want UInt16 %v, nodata 0, 256×256 tiles, wavelength %d", i+1, b, wantBands[i], bands16[i].wavelength)
		}
	}
	md, st := info.Metadata[""], info.Metadata["IMAGE_STRUCTURE"]
	for k, v := range map[string]string{
		"ACQUISITIONDATETIME": port16Acquired, "SENSOR": "synthetic", "SYNTHETIC": "YES",
		"TIFFTAG_IMAGEDESCRIPTION": GeoTIFFDescription, "SUN_ELEVATION": "38.2", "SUN_AZIMUTH": "166.7", "AREA_OR_POINT": "Area",
	} {
		if md[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, md[k], v)
		}
	}
	if st["COMPRESSION"] != "DEFLATE" || st["PREDICTOR"] != "2" || st["INTERLEAVE"] != "PIXEL" {
		t.Errorf("image structure %v, want DEFLATE, predictor 2, pixel-interleaved", st)
	}
	g, err := geo.ReadGeoTIFF(bytes.NewReader(geoTIFFScene(t).GeoTIFF), int64(len(geoTIFFScene(t).GeoTIFF)))
	if err != nil || g.Grid == nil {
		t.Fatalf("ReadGeoTIFF: %v %v", g, err)
	}
	if info.STAC.EPSG != 4326 || geo.GeoTransform(info.GeoTransform) != g.Grid.GeoTransform {
		t.Errorf("GDAL: %v in EPSG:%d; geo: %v in %s", info.GeoTransform, info.STAC.EPSG, g.Grid.GeoTransform, g.Grid.CRS)
	}
	for name, px := range map[string][2]float64{
		"upperLeft": {0, 0}, "upperRight": {sceneW, 0}, "lowerLeft": {0, sceneH}, "lowerRight": {sceneW, sceneH}, "center": {sceneW / 2, sceneH / 2},
	} {
		lon, lat, err := g.Grid.Forward(px[0], px[1])
		c := info.Corners[name]
		if err != nil || math.Abs(c[0]-lon) > 5e-8 || math.Abs(c[1]-lat) > 5e-8 { // gdalinfo prints 7 decimals
			t.Errorf("%s: GDAL %v, geo (%.8f, %.8f) %v", name, c, lon, lat, err)
		}
	}
}

func TestPortGeoTIFFValuesAsGDALReadsThem(t *testing.T) {
	translate := oracle(t, "gdal_translate")
	locationinfo := oracle(t, "gdallocationinfo")
	path := writeGeoTIFFScene(t)
	img, p := port16(t)
	i := slices.IndexFunc(p.objs, func(o Object) bool { return o.Label == "vessel/landing ship" })
	ship := p.objs[i].Coordinates[0]
	for _, w := range []struct {
		name       string
		x, y, w, h int
	}{
		{"a landing ship", int(ship[0]) - 20, int(ship[1]) - 20, 60, 50},
		{"across four tiles", 250, 500, 12, 24},
		{"the partial last tile", sceneW - 30, sceneH - 20, 30, 20},
		{"the nodata corner's edge", 420, 2640, 40, 30},
	} {
		t.Run(w.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "window.bin")
			runTool(t, translate, "-q", "-of", "ENVI", "-co", "INTERLEAVE=BSQ", "-srcwin", fmt.Sprint(w.x), fmt.Sprint(w.y), fmt.Sprint(w.w), fmt.Sprint(w.h), path, out)
			raw, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) != 2*4*w.w*w.h {
				t.Fatalf("%d bytes, want %d", len(raw), 2*4*w.w*w.h)
			}
			bad := 0
			for b := 0; b < 4; b++ { // ENVI is band-sequential
				for y := 0; y < w.h; y++ {
					for x := 0; x < w.w; x++ {
						got := binary.LittleEndian.Uint16(raw[2*((b*w.h+y)*w.w+x):])
						if want := img.sample(w.x+x, w.y+y, b); got != want {
							if bad++; bad <= 5 {
								t.Errorf("band %d pixel (%d, %d): GDAL %d, generator %d", b+1, w.x+x, w.y+y, got, want)
							}
						}
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d samples differ", bad)
			}
		})
	}
	for _, q := range [][2]int{{2000, 1500}, {10, 2990}, {1060, 900}} {
		out := strings.Fields(string(runTool(t, locationinfo, "-valonly", path, fmt.Sprint(q[0]), fmt.Sprint(q[1]))))
		want := make([]string, 4)
		for b := range want {
			want[b] = strconv.Itoa(int(img.sample(q[0], q[1], b)))
		}
		if !slices.Equal(out, want) {
			t.Errorf("gdallocationinfo at %v: %v, generator %v", q, out, want)
		}
	}
}

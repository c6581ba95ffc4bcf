package server_test

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// Satellite rasters through the upload route: GeoTIFF of any bit depth and band count,
// COG, JPEG 2000, NITF, read by GDAL; what GDAL cannot read, and what could reach outside
// the upload, refused with nothing stored.

var rasterLimits = imagery.Limits{MaxBytes: 64 << 20, MaxPixels: 50_000_000}

// ramp is a smooth scene that differs by band, in 0–scale.
func ramp(scale float64) func(band, x, y int) float64 {
	return func(band, x, y int) float64 {
		return scale * (0.05 + 0.45*(1+math.Sin(float64(x)/41+float64(band)))*(0.5+0.5*math.Cos(float64(y)/47)))
	}
}

func TestUploadRastersThroughGDAL(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	const w, h = 600, 450
	tests := []struct {
		name, file, driver string
		spec               rastertest.Spec
		args               []string
		mediaType          string
	}{
		{"4-band 16-bit GeoTIFF", "planet.tif", "GTiff", rastertest.Spec{Width: w, Height: h, Bands: 4, Type: "UInt16", Value: ramp(4000)},
			[]string{"-of", "GTiff", "-co", "COMPRESS=DEFLATE", "-co", "TILED=YES"}, "image/tiff"},
		{"JPEG-compressed YCbCr tiled COG", "maxar.tif", "COG", rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "Byte", Value: ramp(255)},
			[]string{"-of", "COG", "-co", "COMPRESS=JPEG"}, "image/tiff"},
		{"JPEG 2000", "tci.jp2", "JP2OpenJPEG", rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "Byte", Value: ramp(255)},
			[]string{"-of", "JP2OpenJPEG"}, "image/jp2"},
		{"JPEG 2000 codestream (no JP2 boxes)", "tci.j2k", "JP2OpenJPEG", rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "Byte", Value: ramp(255)},
			[]string{"-of", "JP2OpenJPEG", "-co", "CODEC=J2K"}, "image/x-jp2-codestream"},
		{"NITF", "scene.ntf", "NITF", rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "Byte", Value: ramp(255)},
			[]string{"-of", "NITF", "-co", "IREP=RGB"}, "application/vnd.nitf"},
	}
	dir := t.TempDir()
	ids := map[string]annotations.Image{}
	for _, tc := range tests {
		if !rastertest.HasDriver(t, tc.driver) {
			t.Logf("GDAL has no %s driver here: %s not tried", tc.driver, tc.name)
			continue
		}
		path := rastertest.Make(t, dir, tc.file, tc.spec, tc.args...)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rec := ts.upload(t, field("title", tc.name), filePart(tc.file, data))
		wantStatus(t, rec, http.StatusCreated)
		var img annotations.Image
		decode(t, rec, &img)
		if img.MediaType != tc.mediaType || img.Width != w || img.Height != h {
			t.Errorf("%s: got %s %d×%d, want %s %d×%d", tc.name, img.MediaType, img.Width, img.Height, tc.mediaType, w, h)
		}
		ids[tc.name] = img
	}
	ts.buildPyramids(t)
	for _, tc := range tests {
		img, ok := ids[tc.name]
		if !ok {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			if p := ts.pyramidState(t, img.ID); p.State != annotations.JobDone {
				t.Fatalf("got pyramid %+v, want it built", p)
			}
			rec := ts.do(t, http.MethodGet, "/iiif/3/"+img.ID+"/256,256,256,194/256,194/0/default.jpg", nil)
			wantStatus(t, rec, http.StatusOK)
			tile, err := jpeg.Decode(bytes.NewReader(rec.Body.Bytes()))
			if err != nil {
				t.Fatalf("decode the tile: %v", err)
			}
			m, err := ts.lib.Pyramid(img.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			var stretch []rastertest.Stretch
			for _, s := range m.Display.Stretch {
				stretch = append(stretch, rastertest.Stretch{Min: s.Min, Max: s.Max})
			}
			ref := rastertest.Reference(t, filepath.Join(dir, tc.file), m.Display.Bands, stretch, 256, 256, 256, 194, 256, 194)
			if d := rastertest.MeanAbsDiff(tile, ref, 256, 194); d > 3 {
				t.Errorf("the tile differs from GDAL's read of the same window by %.2f on average, want ≤ 3", d)
			}
			if b := rastertest.MeanBrightness(tile); b < 40 {
				t.Errorf("got a mean brightness of %.1f, want a visible picture", b)
			}
		})
	}
}

func TestUploadRejectsBadRasters(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	dir := t.TempDir()
	spec := rastertest.Spec{Width: 512, Height: 384, Bands: 3, Type: "UInt16", Value: ramp(4000)}
	tiff, err := os.ReadFile(rastertest.Make(t, dir, "whole.tif", spec, "-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE"))
	if err != nil {
		t.Fatal(err)
	}
	big, err := os.ReadFile(rastertest.Make(t, dir, "big.tif", spec, "-of", "GTiff", "-co", "BIGTIFF=YES"))
	if err != nil {
		t.Fatal(err)
	}
	nitf, err := os.ReadFile(rastertest.Make(t, dir, "scene.ntf", spec, "-of", "NITF"))
	if err != nil {
		t.Fatal(err)
	}
	vrt := []byte(`<VRTDataset rasterXSize="64" rasterYSize="64">
  <VRTRasterBand dataType="Byte" band="1">
    <SimpleSource><SourceFilename relativeToVRT="0">/etc/passwd</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
  </VRTRasterBand>
</VRTDataset>`)
	hfa := append([]byte("EHFA_HEADER_TAG\x00"), bytes.Repeat([]byte{0xA5}, 4096)...)
	tests := []struct {
		name, file string
		data       []byte
		status     int
		code       string
		words      []string
	}{
		{"truncated TIFF", "cut.tif", tiff[:len(tiff)*3/4], 422, "corrupt_image", []string{"incomplete"}},
		{"truncated BigTIFF", "cut.tif", big[:len(big)/2], 422, "corrupt_image", []string{"incomplete"}},
		{"truncated NITF", "cut.ntf", nitf[:len(nitf)-100], 422, "corrupt_image", []string{"incomplete"}},
		{"VRT pointing outside the upload", "scene.vrt", vrt, 415, "unsupported_media", []string{"VRT"}},
		{"ERDAS IMG that GDAL cannot open", "scene.img", hfa, 422, "corrupt_image", []string{"GDAL"}},
	}
	if rastertest.HasDriver(t, "JP2OpenJPEG") {
		jp2, err := os.ReadFile(rastertest.Make(t, dir, "tci.jp2", rastertest.Spec{Width: 512, Height: 384, Bands: 3, Type: "Byte", Value: ramp(255)}, "-of", "JP2OpenJPEG"))
		if err != nil {
			t.Fatal(err)
		}
		tests = append(tests, struct {
			name, file string
			data       []byte
			status     int
			code       string
			words      []string
		}{"truncated JPEG 2000", "cut.jp2", jp2[:len(jp2)*2/3], 422, "corrupt_image", []string{"incomplete"}})
		j2k, err := os.ReadFile(rastertest.Make(t, dir, "tci.j2k", rastertest.Spec{Width: 512, Height: 384, Bands: 3, Type: "Byte", Value: ramp(255)},
			"-of", "JP2OpenJPEG", "-co", "CODEC=J2K"))
		if err != nil {
			t.Fatal(err)
		}
		for _, cut := range []struct {
			name string
			data []byte
		}{{"truncated JPEG 2000 codestream", j2k[:len(j2k)*2/3]}, {"JPEG 2000 codestream without its end marker", j2k[:len(j2k)-2]}} {
			tests = append(tests, struct {
				name, file string
				data       []byte
				status     int
				code       string
				words      []string
			}{cut.name, "cut.j2k", cut.data, 422, "corrupt_image", []string{"incomplete"}})
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			rec := ts.upload(t, filePart(tc.file, tc.data))
			wantError(t, rec, tc.status, tc.code, "file", tc.words...)
			ts.wantUnchanged(t, before)
		})
	}
}

// A TIFF whose header is whole but whose compressed tiles are damaged is accepted (only
// reading the pixels can tell); its build fails with GDAL's reason and leaves no pyramid.
func TestUploadRasterWithDamagedTilesFailsItsBuild(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	spec := rastertest.Spec{Width: 1024, Height: 1024, Bands: 3, Type: "Byte", Value: ramp(255)}
	data, err := os.ReadFile(rastertest.Make(t, t.TempDir(), "cog.tif", spec, "-of", "COG", "-co", "COMPRESS=DEFLATE"))
	if err != nil {
		t.Fatal(err)
	}
	// A COG keeps its directories first and the full resolution's tiles last.
	for i := len(data) * 6 / 10; i < len(data)*7/10; i++ {
		data[i] ^= 0x5A
	}
	rec := ts.upload(t, filePart("damaged.tif", data))
	wantStatus(t, rec, http.StatusCreated)
	var img annotations.Image
	decode(t, rec, &img)
	ts.buildPyramids(t)
	p := ts.pyramidState(t, img.ID)
	if p.State != annotations.JobFailed || p.Error == "" {
		t.Fatalf("got pyramid %+v, want a failed build with its reason", p)
	}
	if strings.Contains(p.Error, ts.dir) || !strings.Contains(p.Error, "TIFFReadEncodedTile") {
		t.Errorf("got the reason %q, want GDAL's, without the server's folders", p.Error)
	}
	if derived := ts.files(t, "derived"); len(derived) != 0 {
		t.Errorf("got %v under derived/, want nothing of a failed build", derived)
	}
}

// TestRastersArePlacedByWhatTheFileSays: a JPEG 2000 (GeoJP2/GMLJP2 boxes), a NITF
// (IGEOLO) and an ERDAS IMG carry their georeferencing inside; the upload is placed by it
// as GDAL reads it, and the footprint's corners are gdaltransform's for the same file.
func TestRastersArePlacedByWhatTheFileSays(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	dir := t.TempDir()
	const w, h = 64, 48
	spec := rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "Byte", Value: ramp(255)}
	tests := []struct {
		name, file, driver, crs string
		args                    []string
	}{
		{"JPEG 2000 in Lambert-93", "l93.jp2", "JP2OpenJPEG", "EPSG:2154",
			[]string{"-of", "JP2OpenJPEG", "-a_srs", "EPSG:2154", "-a_ullr", "652000", "6862000", "652640", "6861520"}},
		{"NITF in WGS 84", "scene.ntf", "NITF", "EPSG:4326",
			[]string{"-of", "NITF", "-co", "IREP=RGB", "-a_srs", "EPSG:4326", "-a_ullr", "131.87", "43.13", "131.88", "43.12"}},
		{"ERDAS IMG in UTM 52N", "utm.img", "HFA", "EPSG:32652",
			[]string{"-of", "HFA", "-a_srs", "EPSG:32652", "-a_ullr", "372000", "4776000", "372128", "4775904"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !rastertest.HasDriver(t, tc.driver) {
				t.Skipf("GDAL has no %s driver here", tc.driver)
			}
			path := rastertest.Make(t, dir, tc.file, spec, tc.args...)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rec := ts.upload(t, field("title", tc.name), filePart(tc.file, data))
			wantStatus(t, rec, http.StatusCreated)
			var img annotations.Image
			decode(t, rec, &img)
			g := ts.getGeoref(t, img.ID)
			if g.Method != "grid" || g.Origin != "file" || g.CRS != tc.crs || g.Footprint == nil {
				t.Fatalf("georeference %+v, want a grid in %s from the file", g, tc.crs)
			}
			wantFootprintCornersAtGDALs(t, *g.Footprint, path, fmt.Sprintf("0 0\n%d 0\n%d %d\n0 %d\n", w, w, h, h), 1e-7, "-t_srs", "EPSG:4326")
		})
	}
}

// TestRasterPlacedByItsControlPoints: a JPEG 2000 carrying control points, not a
// geotransform, is placed by an affine fit of them (as GDAL's GCP transformer fits four
// points), flagged for the editor.
func TestRasterPlacedByItsControlPoints(t *testing.T) {
	rastertest.Require(t)
	if !rastertest.HasDriver(t, "JP2OpenJPEG") {
		t.Skip("GDAL has no JP2OpenJPEG driver here")
	}
	ts := newTestServer(t, rasterLimits)
	const w, h = 64, 48
	path := rastertest.Make(t, t.TempDir(), "gcps.jp2", rastertest.Spec{Width: w, Height: h, Bands: 3, Type: "Byte", Value: ramp(255)},
		"-of", "JP2OpenJPEG", "-a_srs", "EPSG:4326",
		"-gcp", "0", "0", "131.87", "43.13", "-gcp", "64", "0", "131.88", "43.1301",
		"-gcp", "64", "48", "131.8801", "43.12", "-gcp", "0", "48", "131.87", "43.12")
	img := ts.uploadRaster(t, path, "control points", "placed by the file's 4 control points")
	g := ts.getGeoref(t, img.ID)
	if g.Method != "gcps" || g.Origin != "file control points" || g.Transform != "affine" || len(g.GCPs) != 4 || g.Footprint == nil {
		t.Fatalf("georeference %+v, want the file's 4 control points fitted affine", g)
	}
	wantFootprintCornersAtGDALs(t, *g.Footprint, path, fmt.Sprintf("0 0\n%d 0\n%d %d\n0 %d\n", w, w, h, h), 1e-7, "-order", "1")
}

// TestRasterPlacedByItsRPCs: a GeoTIFF with RPCs and no geotransform (as many satellite
// deliveries come) is placed through GDAL's RPC transformer and says so; its footprint's
// corners are where `gdaltransform -rpc` puts them.
func TestRasterPlacedByItsRPCs(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	dir := t.TempDir()
	const w, h = 640, 480
	base := rastertest.Make(t, dir, "base.tif", rastertest.Spec{Width: w, Height: h, Bands: 1, Type: "UInt16", Value: ramp(4000)}, "-of", "GTiff")
	// A sensor model with a little curvature: line = −lat + 0.02·lon·lat, sample = lon +
	// 0.01·lat², normalised, around Vladivostok.
	coeff := func(terms map[int]float64) string {
		v := make([]string, 20)
		for i := range v {
			v[i] = strconv.FormatFloat(terms[i], 'g', -1, 64)
		}
		return strings.Join(v, " ")
	}
	vrt := fmt.Sprintf(`<VRTDataset rasterXSize="%d" rasterYSize="%d">
  <Metadata domain="RPC">
    <MDI key="LINE_OFF">240</MDI><MDI key="SAMP_OFF">320</MDI><MDI key="LINE_SCALE">240</MDI><MDI key="SAMP_SCALE">320</MDI>
    <MDI key="LAT_OFF">43.11</MDI><MDI key="LONG_OFF">131.89</MDI><MDI key="LAT_SCALE">0.002</MDI><MDI key="LONG_SCALE">0.003</MDI>
    <MDI key="HEIGHT_OFF">30</MDI><MDI key="HEIGHT_SCALE">100</MDI>
    <MDI key="LINE_NUM_COEFF">%s</MDI><MDI key="LINE_DEN_COEFF">%s</MDI>
    <MDI key="SAMP_NUM_COEFF">%s</MDI><MDI key="SAMP_DEN_COEFF">%s</MDI>
  </Metadata>
  <VRTRasterBand dataType="UInt16" band="1">
    <SimpleSource><SourceFilename relativeToVRT="0">%s</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
  </VRTRasterBand>
</VRTDataset>`, w, h, coeff(map[int]float64{2: -1, 4: 0.02}), coeff(map[int]float64{0: 1}), coeff(map[int]float64{1: 1, 9: 0.01}), coeff(map[int]float64{0: 1}), base)
	vrtPath := filepath.Join(dir, "rpc.vrt")
	if err := os.WriteFile(vrtPath, []byte(vrt), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rpc.tif")
	rastertest.Translate(t, "-q", "-of", "GTiff", vrtPath, path)
	img := ts.uploadRaster(t, path, "RPC scene", "placed by the file's RPCs")
	g := ts.getGeoref(t, img.ID)
	if g.Method != "gcps" || g.Origin != "rpc" || g.Transform != "polynomial2" || g.Footprint == nil {
		t.Fatalf("georeference %+v, want control points from the RPCs, order 2", g)
	}
	t.Logf("warnings: %q", img.ImportWarnings)
	// The order-2 fit of the RPCs' positions stays within a tenth of a pixel here (a
	// pixel is about 8e-6° in latitude).
	wantFootprintCornersAtGDALs(t, *g.Footprint, path, fmt.Sprintf("0 0 30\n%d 0 30\n%d %d 30\n0 %d 30\n", w, w, h, h), 1e-6, "-rpc")
}

// wantFootprintCornersAtGDALs checks that every position gdaltransform (with args) gives
// for the pixel positions in input, over the raster at path, is a corner of the footprint
// within tol degrees.
func wantFootprintCornersAtGDALs(t *testing.T, footprint lonLatGeometry, path, input string, tol float64, args ...string) {
	t.Helper()
	cmd := exec.Command("gdaltransform", append(append(args, "-output_xy"), path)...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gdaltransform %s: %v", strings.Join(args, " "), err)
	}
	polys := polygonsOf(t, footprint)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var lon, lat float64
		if _, err := fmt.Sscan(line, &lon, &lat); err != nil {
			t.Fatalf("gdaltransform said %q", line)
		}
		found := false
		for _, p := range polys[0][0] {
			found = found || (near(p[0], lon, tol) && near(p[1], lat, tol))
		}
		if !found {
			t.Errorf("footprint %v has no corner within %g° of gdaltransform %s's %.9f, %.9f", polys[0][0], tol, strings.Join(args, " "), lon, lat)
		}
	}
}

// uploadRaster uploads the file at path, wants it created, and wants one of its import
// warnings to say warning.
func (ts *testServer) uploadRaster(t *testing.T, path, title, warning string) annotations.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rec := ts.upload(t, field("title", title), filePart(filepath.Base(path), data))
	wantStatus(t, rec, http.StatusCreated)
	var img annotations.Image
	decode(t, rec, &img)
	if !slices.ContainsFunc(img.ImportWarnings, func(w string) bool { return strings.Contains(w, warning) }) {
		t.Errorf("import warnings %q, want one saying %q", img.ImportWarnings, warning)
	}
	return img
}

package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// A satellite delivery uploaded with its sidecar files: GDAL reads the capture metadata
// of the .IMD and the sensor model of the .RPB sent with the raster, as it does in the
// delivery's folder; the sidecars are kept with the original; a sidecar satmark does not
// accept refuses the upload, with nothing stored.

// The DigitalGlobe/Maxar names of one delivery's files.
const dgScene = "19DEC10103355-P2AS-058800000010_01_P001"

// dgIMD is an .IMD as a DigitalGlobe delivery has it (the items GDAL's DigitalGlobe
// reader maps to IMAGERY: satId, firstLineTime, cloudCover as a fraction; and the sun
// and view angles it keeps in the IMD domain).
const dgIMD = `version = "28.3";
generationTime = 2019-12-10T11:02:11.000000Z;
productOrderId = "058800000010_01_P001";
productCatalogId = "A010010004A7C600";
numberOfLooks = 1;
radiometricLevel = "Corrected";
bitsPerPixel = 16;
BEGIN_GROUP = IMAGE_1
	satId = "WV03";
	mode = "FullSwath";
	scanDirection = "Forward";
	catId = "104001005F5C2D00";
	firstLineTime = 2019-12-10T10:33:55.123456Z;
	avgLineRate = 20000.00;
	meanSunAz = 163.2;
	meanSunEl = 25.3;
	meanSatAz = 210.5;
	meanSatEl = 77.1;
	meanOffNadirViewAngle = 11.4;
	cloudCover = 0.05;
END_GROUP = IMAGE_1
END;
`

// dgRPB is an .RPB with a sensor model of a little curvature around Vladivostok (line =
// −lat + 0.02·lon·lat, sample = lon + 0.01·lat², normalised), for a 640×480 raster.
func dgRPB() string {
	coeff := func(terms map[int]float64) string {
		v := make([]string, 20)
		for i := range v {
			v[i] = fmt.Sprintf("%+.15e", terms[i])
		}
		return "(\n\t\t\t" + strings.Join(v, ",\n\t\t\t") + ")"
	}
	return fmt.Sprintf(`satId = "WV03";
bandId = "P";
SpecId = "RPC00B";
BEGIN_GROUP = IMAGE
	errBias = 1.0;
	errRand = 0.5;
	lineOffset = 240;
	sampOffset = 320;
	latOffset = 43.11;
	longOffset = 131.89;
	heightOffset = 30;
	lineScale = 240;
	sampScale = 320;
	latScale = 0.002;
	longScale = 0.003;
	heightScale = 100;
	lineNumCoef = %s;
	lineDenCoef = %s;
	sampNumCoef = %s;
	sampDenCoef = %s;
END_GROUP = IMAGE
END;
`, coeff(map[int]float64{2: -1, 4: 0.02}), coeff(map[int]float64{0: 1}), coeff(map[int]float64{1: 1, 9: 0.01}), coeff(map[int]float64{0: 1}))
}

// delivery writes a DigitalGlobe delivery folder: the 640×480 16-bit raster, its .IMD
// and its .RPB, and returns the folder.
func delivery(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rastertest.Make(t, dir, dgScene+".TIF", rastertest.Spec{Width: 640, Height: 480, Bands: 1, Type: "UInt16", Value: ramp(4000)}, "-of", "GTiff")
	for name, text := range map[string]string{dgScene + ".IMD": dgIMD, dgScene + ".RPB": dgRPB()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// ENVI scratch of rastertest, not part of the delivery.
	for _, m := range must(filepath.Glob(filepath.Join(dir, "*.raw*"))) {
		os.Remove(m)
	}
	return dir
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// gdalImagery is what `gdalinfo -mdd IMAGERY` says of the raster at path, in its folder.
func gdalImagery(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := exec.Command("gdalinfo", "-json", "-mdd", "IMAGERY", path).Output()
	if err != nil {
		t.Fatalf("gdalinfo: %v", err)
	}
	var info struct {
		Metadata map[string]map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	return info.Metadata["IMAGERY"]
}

// sidecarPart is a sidecar file of the upload, sent with its name.
func sidecarPart(t *testing.T, dir, name string) part {
	t.Helper()
	return part{name: "sidecar", filename: name, data: must(os.ReadFile(filepath.Join(dir, name)))}
}

func TestUploadWithSidecarsReadsTheIMDAndRPB(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	dir := delivery(t)
	tif := filepath.Join(dir, dgScene+".TIF")
	// The oracle: GDAL reads the hand-written sidecars in the delivery's folder.
	if md := gdalImagery(t, tif); md["SATELLITEID"] != "WV03" || md["CLOUDCOVER"] != "5" || md["ACQUISITIONDATETIME"] != "2019-12-10 10:33:55" {
		t.Fatalf("gdalinfo -mdd IMAGERY says %v; the test's .IMD is not what GDAL reads", md)
	}
	raster := must(os.ReadFile(tif))
	imd, rpb := sidecarPart(t, dir, dgScene+".IMD"), sidecarPart(t, dir, dgScene+".RPB")
	rec := ts.upload(t, field("title", "WV03 delivery"), imd, filePart(dgScene+".TIF", raster), rpb)
	wantStatus(t, rec, http.StatusCreated)
	var img annotations.Image
	decode(t, rec, &img)

	t.Run("provenance from the IMD", func(t *testing.T) {
		m := img.FileMetadata
		if m.Satellite != "WV03" || m.AcquiredAt != "2019-12-10T10:33:55Z" || m.CloudCover == nil || *m.CloudCover != 5 {
			t.Errorf("got satellite %q acquired %q cloud cover %v; want WV03, 2019-12-10T10:33:55Z, 5 %%", m.Satellite, m.AcquiredAt, deref(m.CloudCover))
		}
		for _, a := range []struct {
			name string
			got  *float64
			want float64
		}{{"sun elevation", m.SunElevation, 25.3}, {"sun azimuth", m.SunAzimuth, 163.2}, {"off nadir", m.OffNadir, 11.4}} {
			if a.got == nil || math.Abs(*a.got-a.want) > 1e-9 {
				t.Errorf("%s %v, want %g (the IMD's)", a.name, deref(a.got), a.want)
			}
		}
		if img.CapturedSource != annotations.CapturedByFile || !strings.HasPrefix(img.CapturedFrom, "2019-12-10T10:33:55") {
			t.Errorf("capture window %q–%q from %q; want the IMD's time, from the file", img.CapturedFrom, img.CapturedTo, img.CapturedSource)
		}
		if !m.RPC {
			t.Error("rpc false; want the RPB's RPCs seen")
		}
	})

	t.Run("placed by the RPB as gdaltransform -rpc", func(t *testing.T) {
		g := ts.getGeoref(t, img.ID)
		if g.Method != "gcps" || g.Origin != "rpc" || g.Transform != "polynomial2" || g.Footprint == nil {
			t.Fatalf("georeference %+v, want control points from the RPB's RPCs, order 2; warnings %q", g, img.ImportWarnings)
		}
		// gdaltransform reads the .RPB beside the raster in the delivery's folder.
		wantFootprintCornersAtGDALs(t, *g.Footprint, tif, "0 0 30\n640 0 30\n640 480 30\n0 480 30\n", 1e-6, "-rpc")
	})

	t.Run("sidecars kept with the original, byte for byte", func(t *testing.T) {
		if img.SHA256 != sha256Hex(raster) {
			t.Errorf("sha256 %s, want the raster's %s", img.SHA256, sha256Hex(raster))
		}
		if got := must(os.ReadFile(ts.lib.OriginalPath(img.SHA256))); !bytes.Equal(got, raster) {
			t.Error("the stored original differs from the raster sent")
		}
		want := []annotations.Sidecar{{Name: imd.filename, SHA256: sha256Hex(imd.data), ByteSize: int64(len(imd.data))},
			{Name: rpb.filename, SHA256: sha256Hex(rpb.data), ByteSize: int64(len(rpb.data))}}
		var again annotations.Image
		decode(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID, nil), &again)
		if !slices.Equal(img.Sidecars, want) || !slices.Equal(again.Sidecars, want) {
			t.Errorf("sidecars %+v (then %+v), want %+v", img.Sidecars, again.Sidecars, want)
		}
		for _, p := range []part{imd, rpb} {
			got, err := os.ReadFile(filepath.Join(ts.lib.SidecarDir(img.SHA256), p.filename))
			if err != nil || !bytes.Equal(got, p.data) {
				t.Errorf("%s kept as %d bytes (%v), want the %d sent", p.filename, len(got), err, len(p.data))
			}
		}
		if tmp := ts.files(t, "tmp"); len(tmp) != 0 {
			t.Errorf("left in tmp: %q", tmp)
		}
	})
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestUploadSaysWhichSidecarsGDALDidNotRead: a sidecar whose name does not pair with the
// raster's is kept, and the import says GDAL did not read it.
func TestUploadSaysWhichSidecarsGDALDidNotRead(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	dir := delivery(t)
	img := ts.mustUpload(t, filePart("renamed.tif", must(os.ReadFile(filepath.Join(dir, dgScene+".TIF")))), sidecarPart(t, dir, dgScene+".IMD"),
		part{name: "sidecar", filename: "renamed.tif.aux.xml", data: []byte("<PAMDataset/>")})
	if img.FileMetadata.Satellite != "" || len(img.Sidecars) != 2 {
		t.Errorf("satellite %q, %d sidecars kept; want none read and both kept", img.FileMetadata.Satellite, len(img.Sidecars))
	}
	for _, name := range []string{dgScene + ".IMD", "renamed.tif.aux.xml"} {
		if !slices.ContainsFunc(img.ImportWarnings, func(w string) bool {
			return strings.Contains(w, "sidecar "+name+" is kept") && strings.Contains(w, "GDAL did not read it with renamed.tif")
		}) {
			t.Errorf("import warnings %q, want one saying GDAL did not read %s", img.ImportWarnings, name)
		}
	}
}

// TestUploadPlacedByAWorldFileSentAsASidecar: a world file and .prj sent as sidecar files
// place the image as the worldfile and prj fields do.
func TestUploadPlacedByAWorldFileSentAsASidecar(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	rasters := readOSRRasters(t)
	img := ts.newImage(t, 9301, part{name: "sidecar", filename: "scene-9301.wld", data: osrRasterFile(t, "lambert93.wld")},
		part{name: "sidecar", filename: "scene-9301.prj", data: osrRasterFile(t, "lambert93.prj")})
	if !img.Georeferenced || len(img.Sidecars) != 2 {
		t.Fatalf("placed %v with %d sidecars; warnings %q", img.Georeferenced, len(img.Sidecars), img.ImportWarnings)
	}
	if g := ts.wantPlacedLikeGDAL(t, img.ID, rasters["lambert93.png"], "EPSG:2154"); g.Origin != "worldfile" {
		t.Errorf("origin %q, want worldfile", g.Origin)
	}
	if len(img.ImportWarnings) != 0 {
		t.Errorf("import warnings %q, want none: satmark reads the world file and .prj itself", img.ImportWarnings)
	}
}

func TestUploadRefusesBadSidecars(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	dir := delivery(t)
	raster := filePart(dgScene+".TIF", must(os.ReadFile(filepath.Join(dir, dgScene+".TIF"))))
	imd := sidecarPart(t, dir, dgScene+".IMD")
	named := func(name string) part { return part{name: "sidecar", filename: name, data: imd.data} }
	var many []part
	for i := 0; i <= imagery.MaxSidecars; i++ {
		many = append(many, named(fmt.Sprintf("%s-%d.xml", dgScene, i)))
	}
	wld := string(osrRasterFile(t, "lambert93.wld"))
	tests := []struct {
		name   string
		parts  []part
		status int
		words  []string
	}{
		{"nok, an ending satmark does not accept", []part{named(dgScene + ".exe")}, 400, []string{dgScene + ".exe", "not a sidecar satmark accepts", ".imd .rpb _rpc.txt"}},
		{"nok, a .TIL (a mosaic of tiles, not a sidecar)", []part{named(dgScene + ".TIL")}, 400, []string{"not a sidecar satmark accepts"}},
		{"nok, a path that climbs out", []part{named("../../" + dgScene + ".IMD")}, 400, []string{"is a path"}},
		{"nok, a path into a folder", []part{named("GIS_FILES/" + dgScene + ".IMD")}, 400, []string{"is a path"}},
		{"nok, a Windows path", []part{named(`..\..\` + dgScene + ".IMD")}, 400, []string{"is a path"}},
		{"nok, a hidden file", []part{named(".IMD")}, 400, []string{"hidden"}},
		{"nok, no file name", []part{{name: "sidecar", data: imd.data}}, 400, []string{"needs its file name"}},
		{"nok, the same name twice", []part{imd, named(strings.ToLower(dgScene) + ".imd")}, 400, []string{"came twice"}},
		{"nok, over the size limit", []part{{name: "sidecar", filename: dgScene + ".XML", data: bytes.Repeat([]byte{' '}, imagery.MaxSidecarBytes+1)}}, 413, []string{"over the limit"}},
		{"nok, too many", many, 400, []string{fmt.Sprintf("more than %d sidecars", imagery.MaxSidecars)}},
		{"nok, two world files", []part{named(dgScene + ".TFW"), named(dgScene + ".wld")}, 400, []string{"two sidecars of one kind"}},
		{"nok, a world file sent twice", []part{field("worldfile", wld), {name: "sidecar", filename: dgScene + ".TFW", data: []byte(wld)}}, 400, []string{"world file came twice"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			rec := ts.upload(t, append([]part{raster}, tc.parts...)...)
			code := "malformed"
			if tc.status == http.StatusRequestEntityTooLarge {
				code = "too_large"
			}
			wantError(t, rec, tc.status, code, "sidecar", tc.words...)
			ts.wantUnchanged(t, before)
			// Nothing written where a climbing name would have put it either.
			for _, p := range []string{filepath.Join(ts.dir, dgScene+".IMD"), filepath.Join(filepath.Dir(ts.dir), dgScene+".IMD")} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(ts.dir, "tmp", "upload-*")); len(left) != 0 {
				t.Errorf("left in tmp: %q", left)
			}
		})
	}
}

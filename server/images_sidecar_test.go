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
	dir := rastertest.DGDelivery(t)
	tif := filepath.Join(dir, rastertest.DGScene+".TIF")
	// The oracle: GDAL reads the hand-written sidecars in the delivery's folder.
	if md := gdalImagery(t, tif); md["SATELLITEID"] != "WV03" || md["CLOUDCOVER"] != "5" || md["ACQUISITIONDATETIME"] != "2019-12-10 10:33:55" {
		t.Fatalf("gdalinfo -mdd IMAGERY says %v; the test's .IMD is not what GDAL reads", md)
	}
	raster := must(os.ReadFile(tif))
	imd, rpb := sidecarPart(t, dir, rastertest.DGScene+".IMD"), sidecarPart(t, dir, rastertest.DGScene+".RPB")
	rec := ts.upload(t, field("title", "WV03 delivery"), imd, filePart(rastertest.DGScene+".TIF", raster), rpb)
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
	t.Run("purged with its sidecars", func(t *testing.T) {
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/images/"+img.ID, nil), http.StatusNoContent)
		wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/trash/"+img.ID, nil), http.StatusNoContent)
		if left := ts.files(t, "originals"); len(left) != 0 {
			t.Errorf("left in originals after the purge: %q", left)
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
	dir := rastertest.DGDelivery(t)
	img := ts.mustUpload(t, filePart("renamed.tif", must(os.ReadFile(filepath.Join(dir, rastertest.DGScene+".TIF")))), sidecarPart(t, dir, rastertest.DGScene+".IMD"),
		part{name: "sidecar", filename: "renamed.tif.aux.xml", data: []byte("<PAMDataset/>")})
	if img.FileMetadata.Satellite != "" || len(img.Sidecars) != 2 {
		t.Errorf("satellite %q, %d sidecars kept; want none read and both kept", img.FileMetadata.Satellite, len(img.Sidecars))
	}
	for _, name := range []string{rastertest.DGScene + ".IMD", "renamed.tif.aux.xml"} {
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
	dir := rastertest.DGDelivery(t)
	raster := filePart(rastertest.DGScene+".TIF", must(os.ReadFile(filepath.Join(dir, rastertest.DGScene+".TIF"))))
	imd := sidecarPart(t, dir, rastertest.DGScene+".IMD")
	named := func(name string) part { return part{name: "sidecar", filename: name, data: imd.data} }
	var many []part
	for i := 0; i <= imagery.MaxSidecars; i++ {
		many = append(many, named(fmt.Sprintf("%s-%d.xml", rastertest.DGScene, i)))
	}
	wld := string(osrRasterFile(t, "lambert93.wld"))
	tests := []struct {
		name   string
		parts  []part
		status int
		words  []string
	}{
		{"nok, an ending satmark does not accept", []part{named(rastertest.DGScene + ".exe")}, 400, []string{rastertest.DGScene + ".exe", "not a sidecar satmark accepts", ".imd .rpb _rpc.txt"}},
		{"nok, a .TIL (a mosaic of tiles, not a sidecar)", []part{named(rastertest.DGScene + ".TIL")}, 400, []string{"not a sidecar satmark accepts"}},
		{"nok, a path that climbs out", []part{named("../../" + rastertest.DGScene + ".IMD")}, 400, []string{"is a path"}},
		{"nok, a path into a folder", []part{named("GIS_FILES/" + rastertest.DGScene + ".IMD")}, 400, []string{"is a path"}},
		{"nok, a Windows path", []part{named(`..\..\` + rastertest.DGScene + ".IMD")}, 400, []string{"is a path"}},
		{"nok, a hidden file", []part{named(".IMD")}, 400, []string{"hidden"}},
		{"nok, no file name", []part{{name: "sidecar", data: imd.data}}, 400, []string{"needs its file name"}},
		{"nok, the same name twice", []part{imd, named(strings.ToLower(rastertest.DGScene) + ".imd")}, 400, []string{"came twice"}},
		{"nok, over the size limit", []part{{name: "sidecar", filename: rastertest.DGScene + ".XML", data: bytes.Repeat([]byte{' '}, imagery.MaxSidecarBytes+1)}}, 413, []string{"over the limit"}},
		{"nok, too many", many, 400, []string{fmt.Sprintf("more than %d sidecars", imagery.MaxSidecars)}},
		{"nok, a world file over 64 KiB", []part{{name: "sidecar", filename: rastertest.DGScene + ".TFW", data: bytes.Repeat([]byte("1\n"), 40<<10)}}, 400, []string{"the most is 65536"}},
		{"nok, two world files", []part{named(rastertest.DGScene + ".TFW"), named(rastertest.DGScene + ".wld")}, 400, []string{"two sidecars of one kind"}},
		{"nok, a world file sent twice", []part{field("worldfile", wld), {name: "sidecar", filename: rastertest.DGScene + ".TFW", data: []byte(wld)}}, 400, []string{"world file came twice"}},
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
			for _, p := range []string{filepath.Join(ts.dir, rastertest.DGScene+".IMD"), filepath.Join(filepath.Dir(ts.dir), rastertest.DGScene+".IMD")} {
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

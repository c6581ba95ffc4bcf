package server_test

import (
	"bytes"
	"fmt"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// A VRT uploaded with the rasters it names: accepted when every source is one of them by
// its name relative to the VRT, shown as GDAL reads the VRT; anything reaching further
// refused, naming the source, with nothing stored.

// vrtBand is one band of a VRT made of a source sent with it; source is put in the
// SourceFilename element as is, with its relativeToVRT attribute.
func vrtBand(band int, interp, source, rel string) string {
	return fmt.Sprintf(`  <VRTRasterBand dataType="Byte" band="%d"><ColorInterp>%s</ColorInterp>
    <SimpleSource><SourceFilename relativeToVRT="%s">%s</SourceFilename><SourceBand>1</SourceBand></SimpleSource>
  </VRTRasterBand>
`, band, interp, rel, source)
}

func vrtDoc(bands ...string) string {
	return `<VRTDataset rasterXSize="300" rasterYSize="200">
  <SRS>EPSG:32652</SRS>
  <GeoTransform>372000, 2, 0, 4776000, 0, -2</GeoTransform>
` + strings.Join(bands, "") + "</VRTDataset>\n"
}

// vrtSources writes three single-band rasters, band_r.tif, band_g.tif and band_b.tif,
// into a new folder and returns it.
func vrtSources(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for i, name := range []string{"band_r.tif", "band_g.tif", "band_b.tif"} {
		rastertest.Make(t, dir, name, rastertest.Spec{Width: 300, Height: 200, Bands: 1, Type: "Byte",
			Value: func(_, x, y int) float64 { return ramp(255)(i+1, x, y) }}, "-of", "GTiff")
	}
	return dir
}

func TestUploadVRTWithItsSources(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	dir := vrtSources(t)
	doc := vrtDoc(vrtBand(1, "Red", "band_r.tif", "1"), vrtBand(2, "Green", "band_g.tif", "1"), vrtBand(3, "Blue", "band_b.tif", "1"))
	vrtPath := filepath.Join(dir, "scene.vrt")
	if err := os.WriteFile(vrtPath, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := ts.upload(t, field("title", "VRT scene"), filePart("scene.vrt", []byte(doc)),
		sidecarPart(t, dir, "band_r.tif"), sidecarPart(t, dir, "band_g.tif"), sidecarPart(t, dir, "band_b.tif"))
	wantStatus(t, rec, http.StatusCreated)
	var img annotations.Image
	decode(t, rec, &img)
	if img.MediaType != imagery.VRTMediaType || img.Width != 300 || img.Height != 200 || len(img.Sidecars) != 3 {
		t.Fatalf("stored %s %d×%d with %d sidecars, want %s 300×200 with its 3 sources", img.MediaType, img.Width, img.Height, len(img.Sidecars), imagery.VRTMediaType)
	}
	if got := must(os.ReadFile(ts.lib.OriginalPath(img.SHA256))); string(got) != doc {
		t.Error("the stored original is not the VRT sent")
	}
	g := ts.getGeoref(t, img.ID)
	if g.Method != "grid" || g.Origin != "file" || g.CRS != "EPSG:32652" || g.Footprint == nil {
		t.Fatalf("georeference %+v, want the VRT's grid in EPSG:32652", g)
	}
	wantFootprintCornersAtGDALs(t, *g.Footprint, vrtPath, "0 0\n300 0\n300 200\n0 200\n", 1e-7, "-t_srs", "EPSG:4326")

	ts.buildPyramids(t)
	if p := ts.pyramidState(t, img.ID); p.State != annotations.JobDone {
		t.Fatalf("pyramid %+v, want it built", p)
	}
	rec = ts.do(t, http.MethodGet, "/iiif/3/"+img.ID+"/0,0,256,200/256,200/0/default.jpg", nil)
	wantStatus(t, rec, http.StatusOK)
	tile, err := jpeg.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	ref := rastertest.Reference(t, vrtPath, []int{1, 2, 3}, nil, 0, 0, 256, 200, 256, 200)
	if d := rastertest.MeanAbsDiff(tile, ref, 256, 200); d > 3 {
		t.Errorf("the tile differs from GDAL's read of the VRT by %.2f on average, want ≤ 3", d)
	}

	// The same VRT with the same sources (in another order) is the image stored; over
	// another raster it is refused, as it cannot have the same address.
	again := ts.upload(t, filePart("scene.vrt", []byte(doc)), sidecarPart(t, dir, "band_b.tif"), sidecarPart(t, dir, "band_r.tif"), sidecarPart(t, dir, "band_g.tif"))
	wantStatus(t, again, http.StatusOK)
	before := ts.snapshot(t)
	other := sidecarPart(t, dir, "band_r.tif")
	other.data = sidecarPart(t, vrtSources(t), "band_g.tif").data
	rec = ts.upload(t, filePart("scene.vrt", []byte(doc)), other, sidecarPart(t, dir, "band_g.tif"), sidecarPart(t, dir, "band_b.tif"))
	wantError(t, rec, http.StatusConflict, "conflict", "", img.ID, "other source rasters")
	ts.wantUnchanged(t, before)
}

func TestUploadRefusesVRTsReachingFurther(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	dir := vrtSources(t)
	r, g := sidecarPart(t, dir, "band_r.tif"), sidecarPart(t, dir, "band_g.tif")
	nested := part{name: "sidecar", filename: "band_g.tif", data: []byte(vrtDoc(vrtBand(1, "Gray", "band_r.tif", "1")))}
	tests := []struct {
		name    string
		doc     string
		sources []part
		status  int
		words   []string
	}{
		{"nok, an absolute path", vrtDoc(vrtBand(1, "Gray", "/etc/passwd", "0")), []part{r}, 415, []string{`"/etc/passwd"`, "not relative to the VRT"}},
		{"nok, an absolute path said to be relative", vrtDoc(vrtBand(1, "Gray", "/etc/passwd", "1")), []part{r}, 415, []string{`"/etc/passwd"`, "is a path"}},
		{"nok, climbing out", vrtDoc(vrtBand(1, "Gray", "../band_r.tif", "1")), []part{r}, 415, []string{`"../band_r.tif"`}},
		{"nok, a /vsi path", vrtDoc(vrtBand(1, "Gray", "/vsicurl/http://example.org/x.tif", "1")), []part{r}, 415, []string{"/vsicurl/http://example.org/x.tif", "GDAL virtual file"}},
		{"nok, a subdataset", vrtDoc(vrtBand(1, "Gray", "GTIFF_DIR:1:band_r.tif", "1")), []part{r}, 415, []string{"GTIFF_DIR:1:band_r.tif"}},
		{"nok, a source not sent", vrtDoc(vrtBand(1, "Gray", "band_b.tif", "1")), []part{r}, 415, []string{`"band_b.tif" was not sent`}},
		{"nok, a nested VRT", vrtDoc(vrtBand(1, "Gray", "band_g.tif", "1")), []part{nested}, 415, []string{`"band_g.tif"`, "a VRT itself"}},
		{"nok, a derived dataset", strings.Replace(vrtDoc(vrtBand(1, "Gray", "band_r.tif", "1")), `<VRTDataset `, `<VRTDataset subClass="VRTDerivedDataset" `, 1), []part{r}, 415, []string{"subClass"}},
		{"nok, overviews from elsewhere", strings.Replace(vrtDoc(vrtBand(1, "Gray", "band_r.tif", "1")), `</VRTRasterBand>`, `<Overview><SourceFilename relativeToVRT="0">/tmp/x.tif</SourceFilename></Overview></VRTRasterBand>`, 1), []part{r}, 415, []string{"<Overview>"}},
		{"nok, a CRS read from a file", strings.Replace(vrtDoc(vrtBand(1, "Gray", "band_r.tif", "1")), "EPSG:32652", "/etc/passwd", 1), []part{r}, 415, []string{"<SRS>", "/etc/passwd"}},
		{"nok, a source sent but not used", vrtDoc(vrtBand(1, "Gray", "band_r.tif", "1")), []part{r, g}, 400, []string{`"band_g.tif"`, "does not use it"}},
		{"nok, a raster sent beside a raster", "", []part{r}, 400, []string{`"band_r.tif"`, "only a VRT's sources"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.snapshot(t)
			file := filePart("scene.vrt", []byte(tc.doc))
			if tc.doc == "" {
				file = sidecarPart(t, dir, "band_b.tif")
				file.name = "file"
			}
			rec := ts.upload(t, append([]part{file}, tc.sources...)...)
			code, field := "unsupported_media", "file"
			if tc.status == http.StatusBadRequest {
				code, field = "malformed", "sidecar"
			}
			wantError(t, rec, tc.status, code, field, tc.words...)
			ts.wantUnchanged(t, before)
		})
	}
	// Alone, a VRT is refused as before.
	wantError(t, ts.upload(t, filePart("scene.vrt", []byte(vrtDoc(vrtBand(1, "Gray", "band_r.tif", "1"))))), 415, "unsupported_media", "file", "VRT")
}

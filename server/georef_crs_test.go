package server_test

import (
	"bufio"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/satmark/satmark/geo"
)

// Images in CRSs satmark converts through GDAL's OSR (PROJ): GeoTIFFs made by
// gdal_translate -a_srs … -a_ullr (one with user-defined GeoKeys) and gdalwarp, and world
// files with an Esri .prj, from
// geo/testdata/osr-raster (make-osr-rasters.sh). Their footprints, KML overlays, GeoJSON
// exports and measures must agree with gdaltransform and ogr2ogr.

// osrRaster is what geo/testdata/osr-rasters.txt says GDAL makes of one raster.
type osrRaster struct {
	crs     string
	gt      [6]float64
	corners map[[2]float64][2]float64 // pixel → lon, lat (gdaltransform)
	ogr     map[[2]float64][2]float64 // pixel → lon, lat (ogr2ogr)
}

func readOSRRasters(t *testing.T) map[string]*osrRaster {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "geo", "testdata", "osr-rasters.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*osrRaster{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		w := strings.Fields(sc.Text())
		if len(w) < 3 || strings.HasPrefix(w[0], "#") {
			continue
		}
		r := out[w[1]]
		if r == nil {
			r = &osrRaster{corners: map[[2]float64][2]float64{}, ogr: map[[2]float64][2]float64{}}
			out[w[1]] = r
		}
		var v []float64
		for _, s := range w[2:] {
			x, err := strconv.ParseFloat(s, 64)
			if err != nil {
				if w[0] == "crs" {
					break
				}
				t.Fatalf("osr-rasters.txt: %q", sc.Text())
			}
			v = append(v, x)
		}
		switch w[0] {
		case "crs":
			r.crs = w[2]
		case "gt":
			r.gt = [6]float64(v)
		case "corner":
			r.corners[[2]float64{v[0], v[1]}] = [2]float64{v[2], v[3]}
		case "ogr":
			r.ogr[[2]float64{v[0], v[1]}] = [2]float64{v[2], v[3]}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func osrRasterFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "geo", "testdata", "osr-raster", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The test annotation of make-osr-rasters.sh: a quadrilateral and a point, in pixels.
var (
	osrQuad  = [][2]float64{{8, 6}, {56, 10}, {40, 42}, {5.5, 30.25}}
	osrPoint = [2]float64{33.3, 17.7}
)

// wantPlacedLikeGDAL checks an image placed in a CRS through OSR against GDAL's numbers:
// the georeference, the footprint's corners (gdaltransform), the KML overlay's corners,
// the GeoJSON export's vertices (ogr2ogr) and the polygon's area in square metres.
func (ts *testServer) wantPlacedLikeGDAL(t *testing.T, imageID string, r *osrRaster, crs string) georefAnswer {
	t.Helper()
	const tol = 1e-7 // the API writes 7 decimals
	g := ts.getGeoref(t, imageID)
	if g.Method != "grid" || g.CRS != crs || g.GeoTransform == nil || g.Footprint == nil {
		t.Fatalf("georeference %+v, want a grid in %s with a footprint", g, crs)
	}
	for i, want := range r.gt {
		if !near(g.GeoTransform[i], want, 1e-9*math.Max(1, math.Abs(want))) {
			t.Errorf("GT[%d] = %.17g, GDAL reads %.17g", i, g.GeoTransform[i], want)
		}
	}
	polys := polygonsOf(t, *g.Footprint)
	wantRFC7946Polygons(t, polys)
	corners := [][2]float64{{0, 0}, {64, 0}, {64, 48}, {0, 48}}
	for _, px := range corners {
		want, found := r.corners[px], false
		for _, p := range polys[0][0] {
			found = found || (near(p[0], want[0], tol) && near(p[1], want[1], tol))
		}
		if !found {
			t.Errorf("footprint %v has no corner at gdaltransform's %v for pixel %v", polys[0][0], want, px)
		}
	}
	k, _ := ts.kml(t, imageID)
	quad := overlayCorners(t, k)
	for i, px := range [][2]float64{{0, 48}, {64, 48}, {64, 0}, {0, 0}} {
		if want := r.corners[px]; !near(quad[i][0], want[0], tol) || !near(quad[i][1], want[1], tol) {
			t.Errorf("KML overlay corner of pixel %v = %v, gdaltransform says %v", px, quad[i], want)
		}
	}

	ring := `[[8, 6], [56, 10], [40, 42], [5.5, 30.25], [8, 6]]`
	ts.createAnnotation(t, imageID, `{"label": "facility/naval base", "shape": "polygon", "geometry": {"type": "Polygon", "coordinates": [`+ring+`]}}`)
	ts.createAnnotation(t, imageID, `{"label": "vessel", "shape": "point", "geometry": {"type": "Point", "coordinates": [33.3, 17.7]}}`)
	fc, _ := ts.lonLatExport(t, "/api/v1/images/"+imageID+"/annotations.geojson")
	if len(fc.Features) != 2 {
		t.Fatalf("%d features exported, want 2", len(fc.Features))
	}
	for _, f := range fc.Features {
		paths := positionsOf(t, f.Geometry)
		var want [][2]float64
		switch f.Geometry.Type {
		case "Point":
			want = [][2]float64{r.ogr[osrPoint]}
		case "Polygon":
			for _, px := range osrQuad {
				want = append(want, r.ogr[px])
			}
			// Measured on the ground: geodesic on WGS 84, as the quadrilateral of
			// ogr2ogr's vertices is (its edges, straight in the CRS, bend a hair in lon/lat).
			wantArea, _ := geo.Area(append(want, want[0]))
			m := f.Properties.Measurements
			if f.Properties.Basis != "georeference" || m.AreaM2 == nil || math.Abs(*m.AreaM2/math.Abs(wantArea)-1) > 1e-4 {
				got := math.NaN()
				if m.AreaM2 != nil {
					got = *m.AreaM2
				}
				t.Errorf("polygon measured %.3f m² on %q, want the geodesic %.3f m² of ogr2ogr's vertices, on the georeference", got, f.Properties.Basis, math.Abs(wantArea))
			}
		default:
			t.Fatalf("feature of type %s", f.Geometry.Type)
		}
		for _, w := range want {
			found := false
			for _, path := range paths {
				for _, p := range path {
					found = found || (near(p[0], w[0], tol) && near(p[1], w[1], tol))
				}
			}
			if !found {
				t.Errorf("%s export %v has no vertex at ogr2ogr's %v", f.Geometry.Type, paths, w)
			}
		}
	}
	return g
}

func TestCRSGeoTIFFsArePlacedLikeGDAL(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	rasters := readOSRRasters(t)
	for _, file := range []string{"lambert93.tif", "bng.tif", "polar.tif", "utm52n.tif"} {
		t.Run("ok, "+file, func(t *testing.T) {
			r := rasters[file]
			if r == nil || len(r.corners) != 5 || len(r.ogr) != 5 || !strings.HasPrefix(r.crs, "EPSG:") {
				t.Fatalf("osr-rasters.txt has too little about %s: %+v", file, r)
			}
			img := ts.mustUpload(t, filePart(file, osrRasterFile(t, file)))
			if !img.Georeferenced || len(img.ImportWarnings) != 0 {
				t.Fatalf("%s: georeferenced %v, warnings %q; want placed without a word", file, img.Georeferenced, img.ImportWarnings)
			}
			g := ts.wantPlacedLikeGDAL(t, img.ID, r, r.crs)
			if g.Origin != "geotiff" {
				t.Errorf("origin %q, want geotiff", g.Origin)
			}
		})
	}

	// A CRS with no EPSG code is written as user-defined GeoKeys, which GDAL reads.
	t.Run("ok, custom-tm.tif: a user-defined CRS, kept as WKT", func(t *testing.T) {
		img := ts.mustUpload(t, filePart("custom-tm.tif", osrRasterFile(t, "custom-tm.tif")))
		if !img.Georeferenced || len(img.ImportWarnings) != 0 {
			t.Fatalf("georeferenced %v, warnings %q; want placed without a word", img.Georeferenced, img.ImportWarnings)
		}
		ts.wantPlacedLikeGDAL(t, img.ID, rasters["custom-tm.tif"], "Harbour_Local_TM")
	})

	// lambert93.tif with its ProjectedCSTypeGeoKey changed to a code PROJ does not know,
	// or to one it cannot invert: imported unplaced with the reason.
	tif := osrRasterFile(t, "lambert93.tif")
	_, values := geoKeyDirectory(t, tif)
	withCode := func(code uint16) []byte {
		b := append([]byte{}, tif...)
		le := binary.LittleEndian
		n := int(le.Uint16(b[values+6:]))
		for k := 1; k <= n; k++ {
			if e := values + 8*k; le.Uint16(b[e:]) == 3072 {
				le.PutUint16(b[e+6:], code)
				return b
			}
		}
		t.Fatal("no ProjectedCSTypeGeoKey")
		return nil
	}
	for _, tc := range []struct {
		name  string
		code  uint16
		words []string
	}{
		{"nok, an EPSG code PROJ does not know", 9999, []string{"EPSG:9999", "not a CRS PROJ knows"}},
		{"nok, a CRS PROJ cannot invert", 32600, []string{"EPSG:32600", "PROJ cannot convert"}},
		{"nok, Lambert-93 numbers said to be polar stereographic", 3413, []string{"EPSG:3413", "not on the earth"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ts.georeferenceCount(t)
			img := ts.mustUpload(t, filePart("changed.tif", withCode(tc.code)))
			all := strings.Join(img.ImportWarnings, " ")
			if img.Georeferenced {
				t.Errorf("imported with a georeference")
			}
			for _, w := range tc.words {
				if !strings.Contains(all, w) {
					t.Errorf("warnings %q, want them to say %q", img.ImportWarnings, w)
				}
			}
			if n := ts.georeferenceCount(t); n != before {
				t.Errorf("%d georeferences stored, want %d", n, before)
			}
		})
	}
}

func TestCRSWorldFilesArePlacedLikeGDAL(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	rasters := readOSRRasters(t)

	t.Run("ok, an upload with Esri's Lambert-93 .prj is EPSG:2154", func(t *testing.T) {
		img := ts.newImage(t, 9101, field("worldfile", string(osrRasterFile(t, "lambert93.wld"))), field("prj", string(osrRasterFile(t, "lambert93.prj"))))
		if !img.Georeferenced {
			t.Fatalf("not placed; warnings %q", img.ImportWarnings)
		}
		g := ts.wantPlacedLikeGDAL(t, img.ID, rasters["lambert93.png"], "EPSG:2154")
		if g.Origin != "worldfile" {
			t.Errorf("origin %q, want worldfile", g.Origin)
		}
	})

	t.Run("ok, a .prj with no EPSG code is kept as WKT, through the store and the API", func(t *testing.T) {
		img := ts.newImage(t, 9102)
		body, ct := multipartBody(t, part{name: "worldfile", filename: "custom-tm.wld", data: osrRasterFile(t, "custom-tm.wld")},
			part{name: "prj", filename: "custom-tm.prj", data: osrRasterFile(t, "custom-tm.prj")})
		wantStatus(t, ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/georeference/worldfile", body, "Content-Type", ct), http.StatusOK)
		ts.wantPlacedLikeGDAL(t, img.ID, rasters["custom-tm.png"], "Harbour_Local_TM")

		var view struct {
			CRS    string `json:"crs"`
			CRSWKT string `json:"crs_wkt"`
		}
		decode(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference", nil), &view)
		var code int
		var wkt string
		if err := ts.store.DB().QueryRow(`SELECT crs, crs_wkt FROM georeferences WHERE image_id = ?`, img.ID).Scan(&code, &wkt); err != nil {
			t.Fatal(err)
		}
		if code != 0 || !strings.HasPrefix(wkt, `PROJCRS["Harbour_Local_TM"`) || view.CRSWKT != wkt {
			t.Errorf("stored crs %d, crs_wkt %.60q…; the API says crs_wkt %.60q…; want 0 and the WKT 2 of Harbour_Local_TM in both", code, wkt, view.CRSWKT)
		}
		// The .prj satmark writes reads back as the same CRS.
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference/worldfile?prj=1", nil)
		wantStatus(t, rec, http.StatusOK)
		back, err := geo.CRSFromWKT(rec.Body.String())
		if err != nil || back.WKT != wkt || rec.Header().Get("X-Satmark-CRS") != "Harbour_Local_TM" {
			t.Errorf(".prj %q reads back as %+v, %v (X-Satmark-CRS %q); want the stored CRS", rec.Body.String(), back, err, rec.Header().Get("X-Satmark-CRS"))
		}
	})

	t.Run("ok, ?crs=EPSG:27700 on the world-file route", func(t *testing.T) {
		r := rasters["bng.tif"]
		img := ts.newImage(t, 9103)
		wld := geo.GeoTransform(r.gt).WorldFile()
		rec := ts.do(t, http.MethodPost, "/api/v1/images/"+img.ID+"/georeference/worldfile?crs="+url.QueryEscape("EPSG:27700"), strings.NewReader(wld), "Content-Type", "text/plain")
		wantStatus(t, rec, http.StatusOK)
		ts.wantPlacedLikeGDAL(t, img.ID, r, "EPSG:27700")
	})

	// Refused with the reason; nothing stored (the world-file route and an upload).
	utm := string(osrRasterFile(t, "lambert93.wld"))
	for _, tc := range []struct {
		name, crs, prj string
		code, field    string
		words          []string
	}{
		{"nok, an EPSG code PROJ does not know", "EPSG:999999", "", "unsupported_crs", "crs", []string{"EPSG:999999", "not a CRS PROJ knows"}},
		{"nok, a CRS with no inverse", "EPSG:32600", "", "unsupported_crs", "crs", []string{"PROJ cannot convert"}},
		{"nok, garbage WKT", "", `PROJCS["x",GEOGCS["y",DATUM["z",SPHEROID["w",1,2]]],PROJECTION["No_Such_Projection"]]`, "invalid", "wkt", []string{"GDAL cannot read the WKT"}},
		{"nok, Lambert-93 numbers in British National Grid", "EPSG:27700", "", "out_of_range", "geotransform", []string{"not on the earth"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := ts.newImage(t, 9110+len(tc.name))
			before, georefs := ts.snapshot(t), ts.georeferenceCount(t)
			target := "/api/v1/images/" + img.ID + "/georeference/worldfile"
			var rec *httptest.ResponseRecorder
			if tc.prj != "" {
				body, ct := multipartBody(t, field("worldfile", utm), field("prj", tc.prj))
				rec = ts.do(t, http.MethodPost, target, body, "Content-Type", ct)
			} else {
				rec = ts.do(t, http.MethodPost, target+"?crs="+url.QueryEscape(tc.crs), strings.NewReader(utm), "Content-Type", "text/plain")
			}
			wantError(t, rec, http.StatusUnprocessableEntity, tc.code, tc.field, tc.words...)
			ts.wantUnchanged(t, before)

			parts := []part{filePart("refused.png", pngBytes(t, 64, 48, 9200+len(tc.name))), field("worldfile", utm)}
			if tc.crs != "" {
				parts = append(parts, field("crs", tc.crs))
			}
			if tc.prj != "" {
				parts = append(parts, field("prj", tc.prj))
			}
			wantError(t, ts.upload(t, parts...), http.StatusUnprocessableEntity, tc.code, tc.field, tc.words...)
			ts.wantUnchanged(t, before)
			if n := ts.georeferenceCount(t); n != georefs {
				t.Errorf("%d georeferences after refusals, want %d", n, georefs)
			}
		})
	}
}

// The georeference's samples place a 5 × 5 grid of the image's points, corners and centre
// where gdaltransform puts them, in a CRS the browser cannot project itself: what the
// compare page relates two images by.
func TestGeoreferenceSamplesAreWhereGDALPutsThem(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	r := readOSRRasters(t)["utm52n.tif"]
	img := ts.mustUpload(t, filePart("utm52n.tif", osrRasterFile(t, "utm52n.tif")))
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/georeference", nil)
	wantStatus(t, rec, http.StatusOK)
	var g struct {
		Samples []struct {
			Pixel  [2]float64 `json:"pixel"`
			LonLat [2]float64 `json:"lonlat"`
		} `json:"samples"`
	}
	decode(t, rec, &g)
	if len(g.Samples) != 25 {
		t.Fatalf("%d samples, want a 5 × 5 grid", len(g.Samples))
	}
	if g.Samples[0].Pixel != [2]float64{0, 0} || g.Samples[24].Pixel != [2]float64{64, 48} || g.Samples[7].Pixel != [2]float64{32, 12} {
		t.Errorf("sample pixels %v, %v, %v; want the grid from (0, 0) to (64, 48) by quarters", g.Samples[0].Pixel, g.Samples[7].Pixel, g.Samples[24].Pixel)
	}
	found := 0
	for _, s := range g.Samples {
		want, ok := r.corners[s.Pixel]
		if !ok {
			continue
		}
		found++
		if !near(s.LonLat[0], want[0], 1e-9) || !near(s.LonLat[1], want[1], 1e-9) {
			t.Errorf("pixel %v lies at %v, gdaltransform says %v", s.Pixel, s.LonLat, want)
		}
	}
	if found != 5 {
		t.Errorf("%d of gdaltransform's 5 points (corners, centre) among the samples", found)
	}

	// An image with no georeference but a ground sample distance has no samples.
	base := ts.mustUpload(t, filePart("plain.jpg", jpegBytes(t, 40, 30, 1)))
	wantStatus(t, ts.do(t, http.MethodPut, "/api/v1/images/"+base.ID+"/georeference", strings.NewReader(`{"gsd_m": 0.5}`)), http.StatusOK)
	if b := ts.do(t, http.MethodGet, "/api/v1/images/"+base.ID+"/georeference", nil).Body.String(); strings.Contains(b, "samples") {
		t.Errorf("a ground sample distance alone has samples: %s", b)
	}
}

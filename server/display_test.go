package server_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/gif"
	"image/jpeg"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/image/bmp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
	"github.com/satmark/satmark/sampledata"
)

type displayAnswer struct {
	Choosable bool                 `json:"choosable"`
	Settings  *imagery.Display     `json:"settings"`
	Shown     string               `json:"shown"`
	Stored    string               `json:"stored"`
	BandCount int                  `json:"band_count"`
	Pyramid   annotations.Progress `json:"pyramid"`
}

// port16 is the sample's 16-bit four-band GeoTIFF (blue, green, red, near-infrared).
func port16(t *testing.T) sampledata.Scene {
	t.Helper()
	scenes, err := sampledata.GeoTIFFScenes()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range scenes {
		if s.FileName == sampledata.PortGeoTIFFFileName {
			return s
		}
	}
	t.Fatalf("no scene %s", sampledata.PortGeoTIFFFileName)
	return sampledata.Scene{}
}

func (ts *testServer) tileImage(t *testing.T, target string) (image.Image, string) {
	t.Helper()
	rec := ts.do(t, http.MethodGet, target, nil)
	wantStatus(t, rec, http.StatusOK)
	img, err := jpeg.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatalf("decode %s: %v", target, err)
	}
	return img, rec.Header().Get("ETag")
}

// The display of the 16-bit sample: its defaults are stored at the first build; an
// analyst's choice is checked, stored, audited and rebuilt as a job while the old tiles
// are still served; after the rebuild the tiles show the new bands exactly as GDAL's read
// of the same window with the same stretch does.
func TestDisplayOfThe16BitSample(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, imagery.Limits{MaxBytes: 512 << 20, MaxPixels: 100_000_000})
	scene := port16(t)
	rec := ts.upload(t, field("title", "port, 13 October"), filePart(scene.FileName, scene.File()))
	wantStatus(t, rec, http.StatusCreated)
	var img annotations.Image
	decode(t, rec, &img)
	jpg := ts.mustUpload(t, filePart("scene.jpg", jpegBytes(t, 300, 200, 1)))
	ts.buildPyramids(t)
	base := "/api/v1/images/" + img.ID + "/display"

	var before displayAnswer
	rec = ts.do(t, http.MethodGet, base, nil)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &before)
	stored, err := ts.store.Display(t.Context(), img.ID)
	if err != nil {
		t.Fatalf("the defaults were not stored at the first build: %v", err)
	}
	var defaults imagery.Display
	if err := json.Unmarshal(stored, &defaults); err != nil {
		t.Fatal(err)
	}
	if !before.Choosable || before.BandCount != 4 || !slices.Equal(before.Settings.Bands, []int{3, 2, 1}) ||
		len(before.Settings.Stretch) != 3 || before.Settings.Stretch[0].From != "percentile 2–98" ||
		before.Shown == "" || before.Shown != before.Stored || !slices.Equal(defaults.Bands, before.Settings.Bands) {
		t.Fatalf("got %+v (stored %s), want the stored true-colour default of 4 bands, percentile-stretched, shown", before, stored)
	}
	const tile = "/1024,1024,256,256/256,256/0/default.jpg"
	oldTile, oldTag := ts.tileImage(t, "/iiif/3/"+img.ID+tile)

	invalid := []struct {
		name, body, field string
	}{
		{"nok, a band the raster lacks", `{"bands": [5, 3, 2]}`, "bands"},
		{"nok, two bands", `{"bands": [4, 3]}`, "bands"},
		{"nok, band 0", `{"bands": [0]}`, "bands"},
		{"nok, min above max", `{"bands": [4, 3, 2], "stretch": [{"min": 900, "max": 100}, {"min": 0, "max": 1}, {"min": 0, "max": 1}]}`, "stretch[0]"},
		{"nok, a stretch short of a band", `{"bands": [4, 3, 2], "stretch": [{"min": 0, "max": 1}]}`, "stretch"},
		{"nok, gamma 0", `{"bands": [4, 3, 2], "gamma": 0}`, "gamma"},
		{"nok, gamma 11", `{"bands": [4, 3, 2], "gamma": 11}`, "gamma"},
		{"nok, unknown ramp", `{"bands": [4], "ramp": "rainbow"}`, "ramp"},
		{"nok, a ramp on three bands", `{"bands": [4, 3, 2], "ramp": "viridis"}`, "ramp"},
		{"nok, percentiles the wrong way round", `{"bands": [4, 3, 2], "stretch": "percentile", "low": 98, "high": 2}`, "low"},
		{"nok, unknown stretch", `{"bands": [4, 3, 2], "stretch": "histogram"}`, "stretch"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			wantError(t, ts.doJSON(t, http.MethodPut, base, tc.body), http.StatusUnprocessableEntity, "invalid", tc.field)
		})
	}
	wantStatus(t, ts.doJSON(t, http.MethodPut, base, `{"bands": [4, 3, 2], "gamma": NaN}`), http.StatusBadRequest)
	wantError(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/img_aaaaaaaaaaaa/display", `{"bands": [1]}`), http.StatusNotFound, "not_found", "")
	wantError(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+jpg.ID+"/display", `{"bands": [1, 2, 3]}`), http.StatusConflict, "nothing_to_choose", "")
	viewer := "Bearer " + ts.userToken(t, "vera", annotations.RoleViewer)
	wantStatus(t, ts.doJSON(t, http.MethodPut, base, `{"bands": [4, 3, 2]}`, "Authorization", viewer), http.StatusForbidden)
	wantStatus(t, ts.do(t, http.MethodGet, base, nil, "Authorization", viewer), http.StatusOK)
	if got, _ := ts.store.Display(t.Context(), img.ID); !bytes.Equal(got, stored) {
		t.Fatalf("refused changes altered the stored display: %s", got)
	}

	// False colour: near-infrared, red, green.
	rec = ts.doJSON(t, http.MethodPut, base, `{"bands": [4, 3, 2], "stretch": "percentile", "low": 2, "high": 98}`, ts.as(t, "ana")...)
	wantStatus(t, rec, http.StatusAccepted)
	var put displayAnswer
	decode(t, rec, &put)
	if put.Pyramid.State != annotations.JobQueued || !slices.Equal(put.Settings.Bands, []int{4, 3, 2}) || put.Stored == put.Shown {
		t.Fatalf("got %+v, want the new bands stored and the rebuild queued", put)
	}
	if p := ts.pyramidState(t, img.ID); p.State != annotations.JobQueued {
		t.Errorf("the pyramid job: %+v, want queued", p)
	}
	ts.wantAudited(t, "image.display", "ana", img.ID)
	// Until the new pyramid is in place the old one is served.
	if pending, tag := ts.tileImage(t, "/iiif/3/"+img.ID+tile); tag != oldTag || rastertest.MeanAbsDiff(pending, oldTile, 256, 256) != 0 {
		t.Errorf("during the rebuild got tile %s, want the old one %s", tag, oldTag)
	}

	ts.buildPyramids(t)
	var after displayAnswer
	rec = ts.do(t, http.MethodGet, base, nil)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &after)
	if after.Pyramid.State != annotations.JobDone || after.Shown != put.Stored || after.Stored != put.Stored {
		t.Fatalf("after the rebuild: %+v, want the new settings shown", after)
	}
	newTile, newTag := ts.tileImage(t, "/iiif/3/"+img.ID+tile)
	if newTag == oldTag {
		t.Errorf("the tile kept its ETag %s: browsers would keep the old one", oldTag)
	}
	path := filepath.Join(t.TempDir(), scene.FileName)
	if err := os.WriteFile(path, scene.File(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stretch []rastertest.Stretch
	for _, s := range after.Settings.Stretch {
		stretch = append(stretch, rastertest.Stretch{Min: s.Min, Max: s.Max})
	}
	ref := rastertest.Reference(t, path, []int{4, 3, 2}, stretch, 1024, 1024, 256, 256, 256, 256)
	if d := rastertest.MeanAbsDiff(newTile, ref, 256, 256); d > 3 {
		t.Errorf("the false-colour tile differs from GDAL's read of the same window by %.2f on average, want ≤ 3", d)
	}
	// What a PUT leaves out stays: the bands for a stretch computed again, the bands and
	// the stretch for a gamma.
	rec = ts.doJSON(t, http.MethodPut, base, `{"stretch": "percentile", "low": 1, "high": 99}`)
	wantStatus(t, rec, http.StatusAccepted)
	var wider displayAnswer
	decode(t, rec, &wider)
	if !slices.Equal(wider.Settings.Bands, []int{4, 3, 2}) || wider.Settings.Stretch[0].From != "percentile 1–99" ||
		wider.Settings.Stretch[0].Min > after.Settings.Stretch[0].Min || wider.Settings.Stretch[0].Max < after.Settings.Stretch[0].Max {
		t.Errorf("got %+v after asking for 1–99 %%, want the same bands, a stretch at least as wide as %+v", wider.Settings, after.Settings.Stretch)
	}
	rec = ts.doJSON(t, http.MethodPut, base, `{"gamma": 1.5}`)
	wantStatus(t, rec, http.StatusAccepted)
	var brighter displayAnswer
	decode(t, rec, &brighter)
	if brighter.Settings.Gamma != 1.5 || !slices.Equal(brighter.Settings.Bands, []int{4, 3, 2}) || !slices.Equal(brighter.Settings.Stretch, wider.Settings.Stretch) {
		t.Errorf("got %+v after asking for gamma 1.5, want the bands and stretch kept", brighter.Settings)
	}
	if d := rastertest.MeanAbsDiff(newTile, oldTile, 256, 256); d < 4 { // the same tile shown as before differs by 0
		t.Errorf("the false-colour tile differs from the true-colour one by only %.2f on average", d)
	}
}

// A PNG is read through GDAL like a GeoTIFF: a 16-bit one gets the default stretch, and
// its display can be chosen. The formats shown as stored have nothing to choose.
func TestDisplayOfAPNG(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, smallLimits)
	spec := rastertest.Spec{Width: 300, Height: 200, Bands: 1, Type: "UInt16",
		Value: func(b, x, y int) float64 { return float64(100 + 13*x + 7*y) }}
	data, err := os.ReadFile(rastertest.Make(t, t.TempDir(), "depth.png", spec, "-of", "PNG"))
	if err != nil {
		t.Fatal(err)
	}
	img := ts.mustUpload(t, filePart("depth.png", data))
	ts.buildPyramids(t)
	base := "/api/v1/images/" + img.ID + "/display"
	var got displayAnswer
	rec := ts.do(t, http.MethodGet, base, nil)
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if !got.Choosable || got.BandCount != 1 || got.Settings == nil || len(got.Settings.Stretch) != 1 || got.Shown != got.Stored {
		t.Fatalf("got %+v, want a choosable display of one band with the default stretch shown", got)
	}
	if s := got.Settings.Stretch[0]; s.Min < 100 || s.Max > 100+13*299+7*199 || s.From != "percentile 2–98" {
		t.Errorf("got stretch %+v, want the 2–98 %% points of the values", s)
	}
	before, _ := ts.tileImage(t, "/iiif/3/"+img.ID+"/full/max/0/default.jpg")
	rec = ts.doJSON(t, http.MethodPut, base, `{"ramp": "viridis"}`)
	wantStatus(t, rec, http.StatusAccepted)
	ts.buildPyramids(t)
	after, _ := ts.tileImage(t, "/iiif/3/"+img.ID+"/full/max/0/default.jpg")
	if d := rastertest.MeanAbsDiff(before, after, 300, 200); d < 10 {
		t.Errorf("through the viridis ramp the image differs from grey by only %.2f on average", d)
	}

	var gifData, bmpData bytes.Buffer
	if err := gif.Encode(&gifData, testImage(64, 48, 2), nil); err != nil {
		t.Fatal(err)
	}
	if err := bmp.Encode(&bmpData, testImage(64, 48, 3)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name, file string
		data       []byte
	}{
		{"JPEG", "a.jpg", jpegBytes(t, 64, 48, 1)},
		{"GIF", "a.gif", gifData.Bytes()},
		{"BMP", "a.bmp", bmpData.Bytes()},
	} {
		t.Run("nok, a "+f.name+" is shown as stored", func(t *testing.T) {
			img := ts.mustUpload(t, filePart(f.file, f.data))
			var got displayAnswer
			rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/display", nil)
			wantStatus(t, rec, http.StatusOK)
			decode(t, rec, &got)
			if got.Choosable || got.Settings != nil {
				t.Errorf("got %+v, want nothing to choose", got)
			}
			wantError(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+img.ID+"/display", `{"bands": [1, 2, 3]}`),
				http.StatusConflict, "nothing_to_choose", "")
		})
	}
}

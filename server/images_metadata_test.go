package server_test

import (
	"math"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery/rastertest"
	"github.com/satmark/satmark/sampledata"
)

// What the file says of its capture, through the upload route: shown with the image,
// its acquisition time the capture window when the release gives none, marked so.

// geoTIFFWithMetadata is a small GeoTIFF made by gdal_translate with the given -mo items;
// seed varies its pixels, so each call is a distinct upload.
func geoTIFFWithMetadata(t *testing.T, seed int, items ...string) []byte {
	t.Helper()
	spec := rastertest.Spec{Width: 80, Height: 60, Bands: 3, Type: "Byte",
		Value: func(b, x, y int) float64 { return float64((x*b + y + seed) % 256) }}
	args := []string{"-of", "GTiff"}
	for _, it := range items {
		args = append(args, "-mo", it)
	}
	data, err := os.ReadFile(rastertest.Make(t, t.TempDir(), "scene.tif", spec, args...))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func wantDegrees(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 1e-9 {
		t.Errorf("%s: got %v, want %g", name, got, want)
	}
}

var worldView = []string{"ACQUISITIONDATETIME=2024-10-13 01:23:45", "SATELLITEID=WV03", "SUN_ELEVATION=41.5",
	"SUN_AZIMUTH=158.25", "OFF_NADIR=17.3", "CLOUDCOVER=12"}

func TestUploadPrefillsTheCaptureWindowFromTheFile(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	img := ts.mustUpload(t, field("title", "WorldView scene"), filePart("wv.tif", geoTIFFWithMetadata(t, 1, worldView...)))
	const acquired = "2024-10-13T01:23:45Z"
	if img.CapturedFrom != acquired || img.CapturedTo != acquired || img.CapturedSource != annotations.CapturedByFile {
		t.Errorf("got captured %q – %q from %q, want %s – %s from the file", img.CapturedFrom, img.CapturedTo, img.CapturedSource, acquired, acquired)
	}
	var got annotations.Image
	decode(t, ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID, nil), &got)
	m := got.FileMetadata
	if m.AcquiredAt != acquired || m.Satellite != "WV03" || got.CapturedSource != annotations.CapturedByFile {
		t.Errorf("stored: got acquired %q, satellite %q, captured from %q; want %s, WV03, file", m.AcquiredAt, m.Satellite, got.CapturedSource, acquired)
	}
	wantDegrees(t, "sun elevation", m.SunElevation, 41.5)
	wantDegrees(t, "sun azimuth", m.SunAzimuth, 158.25)
	wantDegrees(t, "off-nadir", m.OffNadir, 17.3)
	wantDegrees(t, "cloud cover", m.CloudCover, 12)
	found := false
	for _, it := range m.Raw {
		found = found || (it.Domain == "" && it.Key == "SATELLITEID" && it.Value == "WV03")
	}
	if !found {
		t.Errorf("raw items %v lack SATELLITEID=WV03", m.Raw)
	}

	page := ts.do(t, http.MethodGet, "/images/"+img.ID, nil).Body.String()
	for _, want := range []string{"from the file", "WV03", "elevation 41.5°, azimuth 158.25°", "17.3°", "12 %", "SATELLITEID"} {
		if !strings.Contains(page, want) {
			t.Errorf("the annotator page does not show %q", want)
		}
	}

	// The analyst's word replaces the file's, and the mark goes.
	rec := ts.doJSON(t, http.MethodPatch, "/api/v1/images/"+img.ID, map[string]any{"captured_from": "2024-10-12", "captured_to": "2024-10-13"})
	wantStatus(t, rec, http.StatusOK)
	decode(t, rec, &got)
	if got.CapturedFrom != "2024-10-12" || got.CapturedTo != "2024-10-13" || got.CapturedSource != annotations.CapturedByRelease {
		t.Errorf("after PATCH: got %q – %q from %q, want 2024-10-12 – 2024-10-13 from the release", got.CapturedFrom, got.CapturedTo, got.CapturedSource)
	}
	if got.FileMetadata.AcquiredAt != acquired {
		t.Errorf("after PATCH: the file's acquisition time is %q, want it kept, %s", got.FileMetadata.AcquiredAt, acquired)
	}
	if page := ts.do(t, http.MethodGet, "/images/"+img.ID, nil).Body.String(); strings.Contains(page, "from the file</span>") {
		t.Errorf("after PATCH the page still marks the capture window as from the file")
	}
	// A PATCH of something else leaves a pre-filled window marked.
	other := ts.mustUpload(t, filePart("wv2.tif", geoTIFFWithMetadata(t, 2, worldView...)))
	decode(t, ts.doJSON(t, http.MethodPatch, "/api/v1/images/"+other.ID, map[string]any{"title": "renamed"}), &got)
	if got.CapturedSource != annotations.CapturedByFile || got.CapturedFrom != acquired {
		t.Errorf("after a PATCH of the title: got %q from %q, want %s from the file", got.CapturedFrom, got.CapturedSource, acquired)
	}
}

func TestUploadKeepsTheCaptureWindowTheReleaseGives(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	tests := []struct {
		name     string
		fields   []part
		from, to string
	}{
		{"ok, both ends", []part{field("captured_from", "2024-10-01"), field("captured_to", "2024-10-02")}, "2024-10-01", "2024-10-02"},
		{"ok, only the end", []part{field("captured_to", "2024-10-20")}, "", "2024-10-20"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := ts.mustUpload(t, append(tc.fields, filePart("wv.tif", geoTIFFWithMetadata(t, 10+i, worldView...)))...)
			if img.CapturedFrom != tc.from || img.CapturedTo != tc.to || img.CapturedSource != annotations.CapturedByRelease {
				t.Errorf("got %q – %q from %q, want %q – %q from the release", img.CapturedFrom, img.CapturedTo, img.CapturedSource, tc.from, tc.to)
			}
			if img.FileMetadata.AcquiredAt != "2024-10-13T01:23:45Z" {
				t.Errorf("got the file's acquisition time %q, want it stored beside the release's window", img.FileMetadata.AcquiredAt)
			}
		})
	}
	t.Run("ok, no window and none in the file", func(t *testing.T) {
		rec := ts.upload(t, filePart("plain.png", pngBytes(t, 64, 48, 7)))
		wantStatus(t, rec, http.StatusCreated)
		if body := rec.Body.String(); !strings.Contains(body, `"captured_source":""`) || !strings.Contains(body, `"file_metadata":{"raw":[]}`) {
			t.Errorf("got %s, want an empty capture source and file metadata with an empty raw list", truncate(body, 600))
		}
	})
	t.Run("ok, a date that does not parse", func(t *testing.T) {
		img := ts.mustUpload(t, filePart("bad.tif", geoTIFFWithMetadata(t, 20, "ACQUISITIONDATETIME=13/10/2024 1:23")))
		if img.CapturedFrom != "" || img.CapturedSource != "" || img.FileMetadata.AcquiredAt != "" {
			t.Errorf("got captured %q from %q, acquired %q; want none", img.CapturedFrom, img.CapturedSource, img.FileMetadata.AcquiredAt)
		}
		kept := false
		for _, it := range img.FileMetadata.Raw {
			kept = kept || (it.Key == "ACQUISITIONDATETIME" && it.Value == "13/10/2024 1:23")
		}
		if !kept {
			t.Errorf("got raw %v, want the unparsed date kept", img.FileMetadata.Raw)
		}
	})
}

func TestUploadShowsTheSampleGeoTIFFsMetadata(t *testing.T) {
	rastertest.Require(t)
	scenes, err := sampledata.GeoTIFFScenes()
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, rasterLimits)
	s := scenes[0]
	img := ts.mustUpload(t, field("captured_from", s.Provenance.CapturedFrom), field("captured_to", s.Provenance.CapturedTo),
		filePart(s.FileName, s.GeoTIFF))
	m := img.FileMetadata
	if m.AcquiredAt != "2024-10-13T02:30:00Z" || m.Satellite != "none (synthetic)" || m.Sensor != "synthetic" {
		t.Errorf("got acquired %q, satellite %q, sensor %q; want 2024-10-13T02:30:00Z, none (synthetic), synthetic", m.AcquiredAt, m.Satellite, m.Sensor)
	}
	wantDegrees(t, "sun elevation", m.SunElevation, 38.2)
	wantDegrees(t, "sun azimuth", m.SunAzimuth, 166.7)
	wantDegrees(t, "cloud cover", m.CloudCover, 0)
	if img.CapturedFrom != "2024-10-13" || img.CapturedSource != annotations.CapturedByRelease {
		t.Errorf("got captured %q from %q, want the release's 2024-10-13", img.CapturedFrom, img.CapturedSource)
	}
}

func TestFileMetadataIsTextInThePage(t *testing.T) {
	rastertest.Require(t)
	ts := newTestServer(t, rasterLimits)
	const imgTag = `<img src=x onerror=alert(1)>`
	img := ts.mustUpload(t, filePart("x.tif", geoTIFFWithMetadata(t, 30, "SATELLITEID="+imgTag, "NOTES=<script>alert(1)</script>")))
	if img.FileMetadata.Satellite != imgTag {
		t.Fatalf("got satellite %q, want the markup kept as text, %q", img.FileMetadata.Satellite, imgTag)
	}
	page := ts.do(t, http.MethodGet, "/images/"+img.ID, nil).Body.String()
	for _, raw := range []string{imgTag, "<script>alert(1)"} {
		if strings.Contains(page, raw) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	for _, escaped := range []string{"&lt;img src=x onerror=alert(1)&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(page, escaped) {
			t.Errorf("the page does not show %q", escaped)
		}
	}
}

func TestUploadReadsAJPEGsEXIF(t *testing.T) {
	ts := newTestServer(t, rasterLimits)
	camera := rastertest.EXIF{Make: "Canon", Model: "EOS R5", DateTimeOriginal: "2024:10:13 11:23:45", OffsetTimeOriginal: "+10:00",
		Latitude: [3][2]uint32{{43, 1}, {6, 1}, {305, 10}}, LatitudeRef: "N", Longitude: [3][2]uint32{{131, 1}, {53, 1}, {0, 1}}, LongitudeRef: "E"}
	img := ts.mustUpload(t, filePart("photo.jpg", rastertest.JPEGWithEXIF(t, camera)))
	m := img.FileMetadata
	if img.CapturedFrom != "2024-10-13T01:23:45Z" || img.CapturedSource != annotations.CapturedByFile || m.Sensor != "Canon EOS R5" {
		t.Errorf("got captured %q from %q, sensor %q; want 2024-10-13T01:23:45Z (11:23:45 at +10:00) from the file, Canon EOS R5",
			img.CapturedFrom, img.CapturedSource, m.Sensor)
	}
	wantDegrees(t, "latitude", m.Latitude, 43+6.0/60+30.5/3600)
	wantDegrees(t, "longitude", m.Longitude, 131+53.0/60)

	// Without its offset the camera's time is only good for the date.
	camera.OffsetTimeOriginal, camera.Model = "", "EOS R6"
	img = ts.mustUpload(t, filePart("local.jpg", rastertest.JPEGWithEXIF(t, camera)))
	if img.CapturedFrom != "2024-10-13" || img.CapturedTo != "2024-10-13" || img.CapturedSource != annotations.CapturedByFile {
		t.Errorf("got captured %q – %q from %q, want the date 2024-10-13 from the file", img.CapturedFrom, img.CapturedTo, img.CapturedSource)
	}
}

package imagery_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// What a file says of its own capture, read through GDAL from files GDAL's own tools
// made, and what is kept of metadata that is huge, binary or hostile.

var small = rastertest.Spec{Width: 64, Height: 48, Bands: 3, Type: "Byte",
	Value: func(b, x, y int) float64 { return float64((x*b + y) % 256) }}

func rawValue(m imagery.FileMetadata, domain, key string) (string, bool) {
	for _, it := range m.Raw {
		if it.Domain == domain && it.Key == key {
			return it.Value, true
		}
	}
	return "", false
}

func wantFloat(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 1e-9 {
		t.Errorf("%s: got %v, want %g", name, deref(got), want)
	}
}

func deref(p *float64) any {
	if p == nil {
		return "none"
	}
	return *p
}

func TestReadMetadataOfAGeoTIFF(t *testing.T) {
	path := rastertest.Make(t, t.TempDir(), "wv.tif", small, "-of", "GTiff",
		"-mo", "ACQUISITIONDATETIME=2024-10-13T01:23:45.5Z", "-mo", "SATELLITEID=WV03", "-mo", "SENSOR=WorldView-3 PAN/MS",
		"-mo", "SUN_ELEVATION=41.5", "-mo", "SUN_AZIMUTH=158.25", "-mo", "OFF_NADIR=17.3", "-mo", "CLOUDCOVER=12",
		"-mo", "TIFFTAG_IMAGEDESCRIPTION=Port of Vladivostok", "-mo", "TIFFTAG_DATETIME=2024:11:02 10:00:00")
	m := imagery.ReadMetadata(path)
	if m.AcquiredAt != "2024-10-13T01:23:45Z" || m.Satellite != "WV03" || m.Sensor != "WorldView-3 PAN/MS" {
		t.Errorf("got acquired %q, satellite %q, sensor %q; want 2024-10-13T01:23:45Z, WV03, WorldView-3 PAN/MS",
			m.AcquiredAt, m.Satellite, m.Sensor)
	}
	wantFloat(t, "sun elevation", m.SunElevation, 41.5)
	wantFloat(t, "sun azimuth", m.SunAzimuth, 158.25)
	wantFloat(t, "off-nadir", m.OffNadir, 17.3)
	wantFloat(t, "cloud cover", m.CloudCover, 12)
	if m.RPC || m.Truncated {
		t.Errorf("got rpc %v, truncated %v; want neither", m.RPC, m.Truncated)
	}
	// The TIFF tags are kept as they are: DateTime is when the file was written, not taken.
	for key, want := range map[string]string{"TIFFTAG_IMAGEDESCRIPTION": "Port of Vladivostok", "TIFFTAG_DATETIME": "2024:11:02 10:00:00"} {
		if got, ok := rawValue(m, "", key); got != want {
			t.Errorf("raw %s: got %q (present %v), want %q", key, got, ok, want)
		}
	}
}

func TestReadMetadataOfANITF(t *testing.T) {
	rastertest.Require(t)
	if !rastertest.HasDriver(t, "NITF") {
		t.Skip("GDAL has no NITF driver here")
	}
	// USE00A, 107 bytes: angle to north, mean GSD, dynamic range, obliquity 12.34°, roll,
	// …, sun elevation 45.6°, sun azimuth 123.4°.
	use00a := "270" + "030.5" + " " + "02047" + "       " + "12.34" + "+05.00" + strings.Repeat(" ", 37) +
		"00" + "01234" + "001" + "000001" + strings.Repeat(" ", 12) + "+45.6" + "123.4"
	if len(use00a) != 107 {
		t.Fatalf("USE00A is %d bytes, want 107", len(use00a))
	}
	path := rastertest.Make(t, t.TempDir(), "scene.ntf", small, "-of", "NITF", "-co", "IREP=RGB",
		"-co", "IDATIM=20241013012345", "-co", "ISORCE=GeoEye-1", "-co", "TRE=USE00A="+use00a)
	m := imagery.ReadMetadata(path)
	if m.AcquiredAt != "2024-10-13T01:23:45Z" || m.Satellite != "GeoEye-1" {
		t.Errorf("got acquired %q, satellite %q; want 2024-10-13T01:23:45Z, GeoEye-1", m.AcquiredAt, m.Satellite)
	}
	wantFloat(t, "sun elevation", m.SunElevation, 45.6)
	wantFloat(t, "sun azimuth", m.SunAzimuth, 123.4)
	wantFloat(t, "off-nadir (USE00A obliquity)", m.OffNadir, 12.34)
	if got, _ := rawValue(m, "", "NITF_IREP"); got != "RGB" {
		t.Errorf("raw NITF_IREP: got %q, want RGB", got)
	}
	if got, _ := rawValue(m, "TRE", "USE00A.SUN_EL"); got != "+45.6" {
		t.Errorf("raw TRE USE00A.SUN_EL: got %q, want +45.6", got)
	}
	if _, ok := rawValue(m, "NITF_METADATA", "NITFFileHeader"); ok {
		t.Errorf("the base64 NITF headers are kept; want them left out")
	}
}

func TestReadMetadataOfHostileValues(t *testing.T) {
	huge := strings.Repeat("ab<script>", 5000)
	path := rastertest.Make(t, t.TempDir(), "bad.tif", small, "-of", "GTiff",
		"-mo", "ACQUISITIONDATETIME=the thirteenth of October", "-mo", "NITF_IDATIM=20241013012345",
		"-mo", "SATELLITE=Sat\x1b[31m\r\nred\u202eevil", "-mo", "NOTES="+huge,
		"-mo", "CLOUDCOVER=999", "-mo", "SUN_ELEVATION=NaN", "-mo", "SUN_AZIMUTH=400")
	m := imagery.ReadMetadata(path)
	// The date that does not parse is kept as text; the next that does is the time.
	if got, _ := rawValue(m, "", "ACQUISITIONDATETIME"); got != "the thirteenth of October" {
		t.Errorf("raw ACQUISITIONDATETIME: got %q, want it kept", got)
	}
	if m.AcquiredAt != "2024-10-13T01:23:45Z" {
		t.Errorf("got acquired %q, want the parseable NITF_IDATIM, 2024-10-13T01:23:45Z", m.AcquiredAt)
	}
	if strings.ContainsFunc(m.Satellite, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) ||
		!strings.HasPrefix(m.Satellite, "Sat") || !strings.HasSuffix(m.Satellite, "red evil") {
		t.Errorf("got satellite %q, want the control and bidi characters out", m.Satellite)
	}
	notes, _ := rawValue(m, "", "NOTES")
	if len(notes) > 2048 || !strings.HasSuffix(notes, "…") || !strings.HasPrefix(notes, "ab<script>ab") || !m.Truncated {
		t.Errorf("a 50 kB value: got %d bytes ending %q, truncated %v; want at most 2048 ending …", len(notes), notes[max(0, len(notes)-8):], m.Truncated)
	}
	if m.CloudCover != nil || m.SunElevation != nil || m.SunAzimuth != nil {
		t.Errorf("got cloud %v, sun %v/%v; want out-of-range values ignored", deref(m.CloudCover), deref(m.SunElevation), deref(m.SunAzimuth))
	}
}

func TestMetadataFromBoundsEveryItem(t *testing.T) {
	var raw []imagery.MetadataItem
	for i := 0; i < 1000; i++ {
		raw = append(raw, imagery.MetadataItem{Key: strings.Repeat("K", 300), Value: string([]byte{0xff, 0xfe, 'v', 0})})
	}
	m := imagery.MetadataFrom(raw)
	total := 0
	for _, it := range m.Raw {
		total += len(it.Key) + len(it.Value)
		if len(it.Key) > 128 || !utf8.ValidString(it.Key+it.Value) || strings.ContainsRune(it.Value, 0) {
			t.Fatalf("got item %q=%q, want a key of at most 128 bytes and valid text without NUL", it.Key, it.Value)
		}
	}
	if !m.Truncated || len(m.Raw) > 400 || total > 64<<10 {
		t.Errorf("got %d items, %d bytes, truncated %v; want at most 400 items and 64 KiB, truncated", len(m.Raw), total, m.Truncated)
	}
}

// canonEXIF is what a camera writes: make and model, local time with its offset, GPS.
var canonEXIF = rastertest.EXIF{Make: "Canon", Model: "EOS R5", DateTimeOriginal: "2024:10:13 11:23:45", OffsetTimeOriginal: "+10:00",
	Latitude: [3][2]uint32{{43, 1}, {6, 1}, {305, 10}}, LatitudeRef: "N", Longitude: [3][2]uint32{{131, 1}, {53, 1}, {0, 1}}, LongitudeRef: "E"}

func TestReadMetadataOfAJPEGsEXIF(t *testing.T) {
	local := canonEXIF
	local.OffsetTimeOriginal = ""
	tests := []struct {
		name         string
		exif         rastertest.EXIF
		acquired     string
		sensor       string
		withPosition bool
	}{
		{"ok, local time with its offset", canonEXIF, "2024-10-13T01:23:45Z", "Canon EOS R5", true},
		{"ok, local time alone: the date", local, "2024-10-13", "Canon EOS R5", true},
		{"ok, only a model", rastertest.EXIF{Model: "Pixel 8"}, "", "Pixel 8", false},
		{"nok, a date that does not parse", rastertest.EXIF{DateTimeOriginal: "2024-10-13 11:23"}, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "photo.jpg")
			if err := os.WriteFile(path, rastertest.JPEGWithEXIF(t, tc.exif), 0o644); err != nil {
				t.Fatal(err)
			}
			m := imagery.ReadMetadata(path)
			if m.AcquiredAt != tc.acquired || m.Sensor != tc.sensor {
				t.Errorf("got acquired %q, sensor %q; want %q, %q\nraw: %v", m.AcquiredAt, m.Sensor, tc.acquired, tc.sensor, m.Raw)
			}
			if !tc.withPosition {
				if m.Latitude != nil || m.Longitude != nil {
					t.Errorf("got a position %v, %v; want none", deref(m.Latitude), deref(m.Longitude))
				}
				return
			}
			wantFloat(t, "latitude", m.Latitude, 43+6.0/60+30.5/3600)
			wantFloat(t, "longitude", m.Longitude, 131+53.0/60)
		})
	}
}

func TestReadMetadataSaysWhenRPCsArePresent(t *testing.T) {
	dir := t.TempDir()
	plain := rastertest.Make(t, dir, "plain.tif", small, "-of", "GTiff")
	// A VRT carrying an RPC domain, written out by gdal_translate as a GeoTIFF's RPC tag.
	vrt := filepath.Join(dir, "rpc.vrt")
	rastertest.Translate(t, "-q", "-of", "VRT", plain, vrt)
	doc, err := os.ReadFile(vrt)
	if err != nil {
		t.Fatal(err)
	}
	coeff := "1" + strings.Repeat(" 0", 19)
	rpc := `<Metadata domain="RPC">`
	for k, v := range map[string]string{"ERR_BIAS": "-1", "ERR_RAND": "-1", "LINE_OFF": "24", "SAMP_OFF": "32", "LAT_OFF": "43.1",
		"LONG_OFF": "131.9", "HEIGHT_OFF": "0", "LINE_SCALE": "24", "SAMP_SCALE": "32", "LAT_SCALE": "0.01", "LONG_SCALE": "0.01",
		"HEIGHT_SCALE": "100", "LINE_NUM_COEFF": coeff, "LINE_DEN_COEFF": coeff, "SAMP_NUM_COEFF": coeff, "SAMP_DEN_COEFF": coeff} {
		rpc += `<MDI key="` + k + `">` + v + `</MDI>`
	}
	doc = []byte(strings.Replace(string(doc), "<VRTRasterBand", rpc+"</Metadata><VRTRasterBand", 1))
	if err := os.WriteFile(vrt, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	withRPC := filepath.Join(dir, "rpc.tif")
	rastertest.Translate(t, "-q", vrt, withRPC)
	for path, want := range map[string]bool{plain: false, withRPC: true} {
		if got := imagery.ReadMetadata(path).RPC; got != want {
			t.Errorf("%s: got rpc %v, want %v", filepath.Base(path), got, want)
		}
	}
}

package imagery

// What a file says of its own capture, read through GDAL's metadata domains: the default
// domain (TIFF tags, GDAL_METADATA items, NITF header fields, a JPEG's EXIF), IMAGERY
// (GDAL's normalised SATELLITEID, CLOUDCOVER, ACQUISITIONDATETIME), NITF's TREs as GDAL
// parses them (xml:TRE), IMD (what GDAL's readers of satellite sidecars read of a .IMD,
// _MTL.txt or DIMAP, keyed by their path in it: IMAGE_1.meanSunEl), and whether RPCs are
// present.

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <string.h>
#include <gdal.h>

static char **sm_gdal_metadata(GDALDatasetH ds, const char *domain) {
	return GDALGetMetadata((GDALMajorObjectH)ds, domain);
}
*/
import "C"

import (
	"encoding/xml"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"
)

// Bounds on what is kept of a file's metadata: a file may carry megabytes of it.
const (
	maxMetadataItems = 400      // items kept, over every domain
	maxMetadataKey   = 128      // bytes of a key
	maxMetadataValue = 2048     // bytes of a value; longer ones are cut and end with "…"
	maxMetadataTotal = 64 << 10 // bytes of keys and values together
)

// MetadataItem is one key and value of a file's metadata, in GDAL's domain ("" for the
// default one; "TRE" for a NITF TRE's field, keyed TRE.FIELD).
type MetadataItem struct {
	Domain string `json:"domain"`
	Key    string `json:"key"`
	Value  string `json:"value"`
}

// FileMetadata is what an image file says of its own capture, as an analyst uses it.
// Every field is optional: it is set only when the file has an item known to mean it
// whose value parses and lies in its range. Raw keeps every item read (within the
// bounds above), known or not, with control characters taken out.
type FileMetadata struct {
	// AcquiredAt is when the image was taken: RFC 3339 in UTC, or a date (YYYY-MM-DD)
	// when the file gives a camera's local time with no time zone.
	AcquiredAt   string   `json:"acquired_at,omitempty"`
	Satellite    string   `json:"satellite,omitempty"`
	Sensor       string   `json:"sensor,omitempty"`        // the instrument, or a camera's make and model
	SunElevation *float64 `json:"sun_elevation,omitempty"` // degrees above the horizon, −90 to 90
	SunAzimuth   *float64 `json:"sun_azimuth,omitempty"`   // degrees clockwise from north, 0 to 360
	// OffNadir is the angle of the line of sight from the vertical, 0 to 90 degrees (a
	// NITF's obliquity angle when that is what the file gives).
	OffNadir   *float64       `json:"off_nadir,omitempty"`
	CloudCover *float64       `json:"cloud_cover,omitempty"` // per cent, 0 to 100
	Latitude   *float64       `json:"latitude,omitempty"`    // a camera's GPS position, degrees
	Longitude  *float64       `json:"longitude,omitempty"`
	RPC        bool           `json:"rpc,omitempty"`       // the file carries rational polynomial coefficients
	Truncated  bool           `json:"truncated,omitempty"` // items or values were cut to the bounds
	Raw        []MetadataItem `json:"raw"`
}

// Metadata returns what the upload's file says of its capture: what Inspect already read
// of a raster read through GDAL (info.Metadata), else what GDAL reads of the file now (a
// JPEG's EXIF through its JPEG driver). Files GDAL has no allowed driver for (GIF, BMP,
// WebP), or cannot open, have none: metadata never refuses an upload that Inspect
// accepted.
func (l *Library) Metadata(u *Upload, info Info) FileMetadata {
	if info.Metadata != nil {
		return *info.Metadata
	}
	return readMetadata(u.Path, u.siblings())
}

// ReadMetadata reads the metadata of the file at path through GDAL; see FileMetadata.
func ReadMetadata(path string) FileMetadata { return readMetadata(path, nil) }

// readMetadata is ReadMetadata, GDAL told that the sidecars named siblings lie beside
// the file.
func readMetadata(path string, siblings []string) FileMetadata {
	d, err := openGDALWith(path, siblings)
	if err != nil {
		return FileMetadata{Raw: []MetadataItem{}}
	}
	defer d.Close()
	m := MetadataFrom(append(d.rawMetadata(), iptcItems(path)...))
	m.RPC = len(d.metadata("RPC")) > 0
	return m
}

// fileMetadata reads the open dataset's metadata; see FileMetadata.
func (d *gdalDataset) fileMetadata() FileMetadata {
	m := MetadataFrom(d.rawMetadata())
	m.RPC = len(d.metadata("RPC")) > 0
	return m
}

// rawMetadata is every item of the open dataset's metadata domains, its NITF TREs and
// its XMP packet, unbounded and uncleaned.
func (d *gdalDataset) rawMetadata() []MetadataItem {
	var raw []MetadataItem
	// IMD last: a delivery's metadata may run to thousands of items, and what it says of
	// the capture is in IMAGERY already but for the sun and the view angles.
	for _, domain := range []string{"IMAGERY", "", "EXIF", "IMD"} {
		for _, kv := range d.metadata(domain) {
			k, v, _ := strings.Cut(kv, "=")
			raw = append(raw, MetadataItem{Domain: domain, Key: k, Value: v})
		}
	}
	if x := d.metadata("xml:TRE"); len(x) > 0 {
		raw = append(raw, treItems(x[0])...)
	}
	if x := d.metadata("xml:XMP"); len(x) > 0 {
		raw = append(raw, xmpItems(x[0])...)
	}
	return raw
}

// metadata returns the "KEY=VALUE" items of a domain (or the one XML document of an
// "xml:" domain), at most maxMetadataItems of them.
func (d *gdalDataset) metadata(domain string) []string {
	cd := C.CString(domain)
	defer C.free(unsafe.Pointer(cd))
	list := C.sm_gdal_metadata(d.h, cd)
	if list == nil {
		return nil
	}
	var out []string
	for p := list; *p != nil && len(out) < maxMetadataItems+1; p = (**C.char)(unsafe.Add(unsafe.Pointer(p), unsafe.Sizeof(*p))) {
		// Read at most what is kept of an item (and a byte more, to know it was cut), so
		// a huge value costs no copy of it.
		n := C.strnlen(*p, C.size_t(maxMetadataKey+maxMetadataTotal+1))
		out = append(out, C.GoStringN(*p, C.int(n)))
	}
	return out
}

// treItems turns GDAL's xml:TRE document into items of the "TRE" domain, keyed TRE.FIELD.
func treItems(doc string) []MetadataItem {
	var tres struct {
		TRE []struct {
			Name  string `xml:"name,attr"`
			Field []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"field"`
		} `xml:"tre"`
	}
	if xml.Unmarshal([]byte(doc), &tres) != nil {
		return nil
	}
	var out []MetadataItem
	for _, t := range tres.TRE {
		for _, f := range t.Field {
			out = append(out, MetadataItem{Domain: "TRE", Key: t.Name + "." + f.Name, Value: f.Value})
		}
	}
	return out
}

// MetadataFrom bounds and cleans raw items (see the limits above: control characters
// out, invalid UTF-8 replaced, long values cut) and maps the items known to mean a
// field onto it. The first item that parses wins, in the order of raw.
func MetadataFrom(raw []MetadataItem) FileMetadata {
	m := FileMetadata{Raw: []MetadataItem{}}
	total := 0
	for _, it := range raw {
		if len(m.Raw) == maxMetadataItems {
			m.Truncated = true
			break
		}
		key, kcut := cleanMetadataText(it.Key, maxMetadataKey)
		value, vcut := cleanMetadataText(it.Value, maxMetadataValue)
		if key == "" {
			continue
		}
		if total += len(key) + len(value); total > maxMetadataTotal {
			m.Truncated = true
			break
		}
		m.Truncated = m.Truncated || kcut || vcut
		item := MetadataItem{Domain: cleanDomain(it.Domain), Key: key, Value: value}
		m.Raw = append(m.Raw, item)
		if !vcut {
			m.assign(item)
		}
	}
	m.exifExtras()
	return m
}

func cleanDomain(d string) string {
	d, _ = cleanMetadataText(d, 32)
	return d
}

// cleanMetadataText makes s displayable text of at most max bytes: invalid UTF-8 and
// control characters (line breaks and tabs too: a value is shown on one line) become
// spaces, runs of spaces one, the ends trimmed; a longer text is cut and ends with "…".
// It reports whether it cut s short.
func cleanMetadataText(s string, max int) (string, bool) {
	fields := strings.FieldsFunc(strings.ToValidUTF8(s, "\uFFFD"), notShown)
	var b strings.Builder
	for i, f := range fields {
		sep := 0
		if i > 0 {
			sep = 1
		}
		if b.Len()+sep+len(f) > max {
			room := max - len("…") - b.Len() - sep
			if room > 0 {
				if sep == 1 {
					b.WriteByte(' ')
				}
				for _, r := range f {
					if room -= utf8.RuneLen(r); room < 0 {
						break
					}
					b.WriteRune(r)
				}
			}
			return strings.TrimSpace(b.String()) + "…", true
		}
		if sep == 1 {
			b.WriteByte(' ')
		}
		b.WriteString(f)
	}
	return b.String(), false
}

// notShown reports whether r is not shown as itself in a one-line value: white space,
// control and format characters (bidirectional overrides among them).
func notShown(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}

// The keys known to mean each field, upper-cased without the domain: GDAL's IMAGERY
// names, the names satellite deliveries' GDAL_METADATA and sidecars use (an IMD item
// matched by the last part of its key), NITF header fields, the fields of NITF TREs
// (USE00A, CSEXRA, PIAIMC; matched without the TRE's name), and EXIF.
var (
	acquiredKeys  = []string{"ACQUISITIONDATETIME", "ACQUISITION_DATETIME", "ACQUISITION_TIME", "DATE_ACQUIRED", "NITF_IDATIM", "EXIF_DATETIMEORIGINAL"}
	satelliteKeys = []string{"SATELLITEID", "SATELLITE", "SATELLITE_ID", "SPACECRAFT_ID", "SPACECRAFT", "PLATFORM", "NITF_ISORCE"}
	sensorKeys    = []string{"SENSOR", "SENSOR_ID", "SENSORID", "INSTRUMENT"}
	sunElKeys     = []string{"SUN_ELEVATION", "SUNELEVATION", "MEANSUNEL", "SUN_EL"}
	sunAzKeys     = []string{"SUN_AZIMUTH", "SUNAZIMUTH", "MEANSUNAZ", "SUN_AZ"}
	offNadirKeys  = []string{"OFF_NADIR", "OFF_NADIR_ANGLE", "OFFNADIR", "OFFNADIRANGLE", "MEANOFFNADIRVIEWANGLE", "VIEW_ANGLE", "OBL_ANG", "OBLIQUITY_ANGLE"}
	cloudKeys     = []string{"CLOUDCOVER", "CLOUD_COVER", "CLOUD_COVERAGE", "CLOUDCOVERPERCENTAGE", "CLOUDY_PIXEL_PERCENTAGE", "CLOUDCVR"}
)

// assign sets the field the item is known to mean, unless it is set already or the value
// does not parse or lies out of range.
func (m *FileMetadata) assign(it MetadataItem) {
	key := strings.ToUpper(it.Key)
	switch it.Domain {
	case "TRE":
		_, key, _ = strings.Cut(key, ".")
	case "IMD":
		key = key[strings.LastIndex(key, ".")+1:]
	}
	v := strings.TrimSpace(it.Value)
	switch {
	case slices.Contains(acquiredKeys, key):
		if m.AcquiredAt == "" {
			m.AcquiredAt = parseAcquired(v, key == "EXIF_DATETIMEORIGINAL")
		}
	case slices.Contains(satelliteKeys, key):
		if m.Satellite == "" {
			m.Satellite = v
		}
	case slices.Contains(sensorKeys, key):
		if m.Sensor == "" {
			m.Sensor = v
		}
	case slices.Contains(sunElKeys, key):
		setAngle(&m.SunElevation, v, -90, 90)
	case slices.Contains(sunAzKeys, key):
		setAngle(&m.SunAzimuth, v, 0, 360)
	case slices.Contains(offNadirKeys, key):
		setAngle(&m.OffNadir, v, 0, 90)
	case slices.Contains(cloudKeys, key):
		setAngle(&m.CloudCover, v, 0, 100)
	}
}

func setAngle(dst **float64, v string, lo, hi float64) {
	if *dst != nil {
		return
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < lo || f > hi {
		return
	}
	*dst = &f
}

// parseAcquired returns the time v names in UTC as RFC 3339, or "" when it does not
// parse. GDAL's IMAGERY times and NITF's IDATIM are UTC; an EXIF time is the camera's
// local time, of which only the date is kept (see exifExtras for the offset).
func parseAcquired(v string, exif bool) string {
	if exif {
		t, err := time.Parse("2006:01:02 15:04:05", v)
		if err != nil {
			return ""
		}
		return t.Format("2006-01-02")
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05Z", "20060102150405", "2006:01:02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil && t.Year() > 1900 {
			if layout == "2006-01-02" {
				return t.Format(layout)
			}
			return t.UTC().Format(time.RFC3339)
		}
	}
	return ""
}

// exifExtras completes what EXIF says in more than one item: the make and model as the
// sensor, DateTimeOriginal with its time zone offset as a time, the GPS position.
func (m *FileMetadata) exifExtras() {
	get := func(key string) string {
		for _, it := range m.Raw {
			if strings.EqualFold(it.Key, key) {
				return strings.TrimSpace(it.Value)
			}
		}
		return ""
	}
	if m.Sensor == "" {
		m.Sensor = strings.TrimSpace(get("EXIF_Make") + " " + get("EXIF_Model"))
	}
	if orig := get("EXIF_DateTimeOriginal"); orig != "" && m.AcquiredAt == parseAcquired(orig, true) {
		offset := get("EXIF_OffsetTimeOriginal")
		if offset == "" {
			offset = get("EXIF_0x9011")
		}
		if t, err := time.Parse("2006:01:02 15:04:05-07:00", orig+offset); err == nil && offset != "" {
			m.AcquiredAt = t.UTC().Format(time.RFC3339)
		}
	}
	if lat, ok := exifDegrees(get("EXIF_GPSLatitude"), get("EXIF_GPSLatitudeRef"), "N", "S", 90); ok {
		if lon, ok := exifDegrees(get("EXIF_GPSLongitude"), get("EXIF_GPSLongitudeRef"), "E", "W", 180); ok {
			m.Latitude, m.Longitude = &lat, &lon
		}
	}
}

// exifDegrees reads GDAL's rendering of an EXIF GPS coordinate, "(43) (6) (30.5)", with
// its reference letter.
func exifDegrees(v, ref, pos, neg string, limit float64) (float64, bool) {
	f := strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(v))
	if len(f) != 3 || (ref != pos && ref != neg) {
		return 0, false
	}
	var dms [3]float64
	for i, s := range f {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || x < 0 || math.IsNaN(x) {
			return 0, false
		}
		dms[i] = x
	}
	deg := dms[0] + dms[1]/60 + dms[2]/3600
	if deg > limit {
		return 0, false
	}
	if ref == neg {
		deg = -deg
	}
	return deg, true
}

package geo

// Every CRS but EPSG:4326, EPSG:3857 and WGS 84 / UTM goes through GDAL's OSR, which is
// PROJ: the same code gdaltransform and cs2cs run, so positions agree with theirs to within
// their printed digits. libgdal is the one dependency of this package outside Go's library.

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include "cpl_conv.h"
#include "cpl_error.h"
#include "ogr_srs_api.h"

// GDAL keeps its last error per thread: each helper resets it, quiets GDAL's printing
// and copies the message out within the one C call (so on one thread).

static char *satmark_error(const char *fallback) {
	const char *m = CPLGetLastErrorMsg();
	return CPLStrdup(m && *m ? m : fallback);
}

// satmark_srs makes a CRS from an EPSG code (wkt NULL) or WKT (any flavour OSR reads,
// Esri's included), with x/y in longitude/latitude and easting/northing order. NULL
// with *err set (free with CPLFree) on failure.
static OGRSpatialReferenceH satmark_srs(int epsg, const char *wkt, char **err) {
	CPLPushErrorHandler(CPLQuietErrorHandler);
	CPLErrorReset();
	OGRSpatialReferenceH h = OSRNewSpatialReference(NULL);
	OGRErr e;
	if (wkt != NULL) {
		char *p = (char *)wkt;
		e = OSRImportFromWkt(h, &p);
	} else {
		e = OSRImportFromEPSG(h, epsg);
	}
	if (e != OGRERR_NONE) {
		*err = satmark_error(wkt != NULL ? "the WKT cannot be read" : "no such EPSG code");
		OSRDestroySpatialReference(h);
		h = NULL;
	} else {
		OSRSetAxisMappingStrategy(h, OAMS_TRADITIONAL_GIS_ORDER);
	}
	CPLPopErrorHandler();
	return h;
}

// satmark_ct makes the transformation from src to dst, or NULL with *err set.
static OGRCoordinateTransformationH satmark_ct(OGRSpatialReferenceH src, OGRSpatialReferenceH dst, char **err) {
	CPLPushErrorHandler(CPLQuietErrorHandler);
	CPLErrorReset();
	OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(src, dst);
	if (ct == NULL) {
		*err = satmark_error("PROJ finds no transformation");
	}
	CPLPopErrorHandler();
	return ct;
}

// satmark_transform transforms one position in place; 0 with *err set on failure.
static int satmark_transform(OGRCoordinateTransformationH ct, double *x, double *y, char **err) {
	CPLPushErrorHandler(CPLQuietErrorHandler);
	CPLErrorReset();
	int ok = 0;
	int done = OCTTransformEx(ct, 1, x, y, NULL, &ok);
	if (!done || !ok) {
		*err = satmark_error("PROJ cannot transform the position");
		ok = 0;
	}
	CPLPopErrorHandler();
	return ok;
}

// satmark_identify returns the EPSG code of the one EPSG CRS OSR finds equivalent to h
// (confidence 100), or 0.
static int satmark_identify(OGRSpatialReferenceH h) {
	CPLPushErrorHandler(CPLQuietErrorHandler);
	int n = 0, *confidence = NULL, code = 0, found = 0;
	OGRSpatialReferenceH *matches = OSRFindMatches(h, NULL, &n, &confidence);
	for (int i = 0; i < n; i++) {
		const char *auth = OSRGetAuthorityName(matches[i], NULL);
		const char *c = OSRGetAuthorityCode(matches[i], NULL);
		if (confidence[i] == 100 && auth != NULL && c != NULL && EQUAL(auth, "EPSG")) {
			code = atoi(c);
			found++;
		}
	}
	if (matches != NULL) {
		OSRFreeSRSArray(matches);
	}
	CPLFree(confidence);
	CPLPopErrorHandler();
	return found == 1 ? code : 0;
}

// satmark_wkt exports h as WKT in format (WKT2_2019, WKT1_ESRI) on one line; NULL if it cannot be.
static char *satmark_wkt(OGRSpatialReferenceH h, const char *format) {
	CPLPushErrorHandler(CPLQuietErrorHandler);
	char *out = NULL;
	char format_option[64];
	snprintf(format_option, sizeof format_option, "FORMAT=%s", format);
	const char *options[] = {format_option, "MULTILINE=NO", NULL};
	if (OSRExportToWktEx(h, &out, options) != OGRERR_NONE) {
		CPLFree(out);
		out = NULL;
	}
	CPLPopErrorHandler();
	return out;
}

static int satmark_area(OGRSpatialReferenceH h, double *w, double *s, double *e, double *n, const char **name) {
	return OSRGetAreaOfUse(h, w, s, e, n, name);
}
*/
import "C"

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// osrCacheSize bounds the CRSs held open in GDAL: each is a few hundred kilobytes of
// PROJ's state. Past it, one is closed to make room.
const osrCacheSize = 32

// osrMu guards the cache and every use of what it holds: OSR's objects are not safe to
// use from two threads at once.
var (
	osrMu    sync.Mutex
	osrCache = map[CRS]*osrCRS{}
	// osrOpen counts the CRSs open in GDAL (each a spatial reference and its two
	// transformations), for the test that none leaks.
	osrOpen int
)

func init() {
	C.OSRSetPROJEnableNetwork(0) // grids come from the machine's PROJ data or not at all
}

// osrCRS is a CRS open in GDAL: its spatial reference and the transformations to and
// from WGS 84 longitude/latitude, or why it cannot be used.
type osrCRS struct {
	srs, wgs84 C.OGRSpatialReferenceH
	toWGS84    C.OGRCoordinateTransformationH
	fromWGS84  C.OGRCoordinateTransformationH
	name       string
	unit       float64    // metres (projected) or radians (geographic) per unit of the CRS
	area       string     // its area of use, in words and degrees, or ""
	hasArea    bool       // whether OSR knows the area of use
	bbox       [4]float64 // the area: west, south, east, north longitude and latitude
	geographic bool
	err        error
}

// osrLookup returns c open in GDAL, opening it (and closing another) if need be; osrMu
// must be held.
func osrLookup(c CRS) *osrCRS {
	if o, ok := osrCache[c]; ok {
		return o
	}
	if len(osrCache) >= osrCacheSize {
		for k, o := range osrCache {
			o.close()
			delete(osrCache, k)
			break
		}
	}
	o := osrOpenCRS(c)
	osrCache[c] = o
	return o
}

func osrOpenCRS(c CRS) *osrCRS {
	o := &osrCRS{}
	osrOpen++
	var cerr *C.char
	if c.WKT != "" {
		wkt := C.CString(c.WKT)
		o.srs = C.satmark_srs(0, wkt, &cerr)
		C.free(unsafe.Pointer(wkt))
	} else {
		o.srs = C.satmark_srs(C.int(c.EPSG), nil, &cerr)
	}
	if o.srs == nil {
		if c.WKT != "" {
			o.err = errorf(ErrInvalid, "wkt", "GDAL cannot read the WKT: %s", takeCString(cerr))
		} else {
			o.err = errorf(ErrUnsupportedCRS, "crs", "%s is not a CRS PROJ knows: %s", c, takeCString(cerr))
		}
		return o
	}
	o.name = C.GoString(C.OSRGetName(o.srs))
	o.geographic = C.OSRIsGeographic(o.srs) != 0
	if o.geographic {
		o.unit = float64(C.OSRGetAngularUnits(o.srs, nil))
	} else {
		o.unit = float64(C.OSRGetLinearUnits(o.srs, nil))
	}
	if C.OSRIsProjected(o.srs) == 0 && !o.geographic {
		o.err = errorf(ErrUnsupportedCRS, "crs", "%s is not a projected or geographic CRS, so it cannot place an image", o.describe(c))
		return o
	}
	var w, s, e, n C.double
	var areaName *C.char
	o.hasArea = C.satmark_area(o.srs, &w, &s, &e, &n, &areaName) != 0 && w >= -180 && e <= 180 && s >= -90 && n <= 90
	if o.hasArea {
		o.bbox = [4]float64{float64(w), float64(s), float64(e), float64(n)}
		o.area = fmt.Sprintf("%s (longitude %g° to %g°, latitude %g° to %g°)", C.GoString(areaName), float64(w), float64(e), float64(s), float64(n))
	}
	o.wgs84 = C.satmark_srs(4326, nil, &cerr)
	if o.wgs84 == nil {
		o.err = errorf(ErrUnsupportedCRS, "crs", "PROJ has no WGS 84 (is its proj.db installed?): %s", takeCString(cerr))
		return o
	}
	if o.toWGS84 = C.satmark_ct(o.srs, o.wgs84, &cerr); o.toWGS84 == nil {
		o.err = errorf(ErrUnsupportedCRS, "crs", "PROJ cannot convert %s to WGS 84: %s", o.describe(c), takeCString(cerr))
		return o
	}
	if o.fromWGS84 = C.satmark_ct(o.wgs84, o.srs, &cerr); o.fromWGS84 == nil {
		o.err = errorf(ErrUnsupportedCRS, "crs", "PROJ cannot convert WGS 84 to %s: %s", o.describe(c), takeCString(cerr))
		return o
	}
	// A position inside the area of use must go there and back, else the CRS cannot
	// place anything (a projection without an inverse fails here).
	lon, lat := 0.0, 0.0
	if o.hasArea {
		lon, lat = (float64(w)+float64(e))/2, (float64(s)+float64(n))/2
		if w > e { // across the antimeridian
			lon = crsWrapLon(lon + 180)
		}
	}
	x, y, err := o.transform(o.fromWGS84, lon, lat)
	if err == nil {
		_, _, err = o.transform(o.toWGS84, x, y)
	}
	if err != nil {
		o.err = errorf(ErrUnsupportedCRS, "crs", "PROJ cannot convert positions of %s to WGS 84 and back: %s", o.describe(c), err.(*Error).Message)
	}
	return o
}

// describe names the CRS for a message: its code with the name OSR gives, or its WKT's
// name. (Not c.String, which takes osrMu.)
func (o *osrCRS) describe(c CRS) string {
	switch {
	case c.WKT == "" && o.name != "":
		return c.String() + " (" + o.name + ")"
	case c.WKT == "":
		return c.String()
	case o.name != "" && o.name != "unknown":
		return "the CRS " + strconv.Quote(o.name)
	}
	return "the CRS its WKT gives"
}

// close frees what GDAL holds for the CRS; osrMu must be held.
func (o *osrCRS) close() {
	if o.toWGS84 != nil {
		C.OCTDestroyCoordinateTransformation(o.toWGS84)
	}
	if o.fromWGS84 != nil {
		C.OCTDestroyCoordinateTransformation(o.fromWGS84)
	}
	if o.wgs84 != nil {
		C.OSRDestroySpatialReference(o.wgs84)
	}
	if o.srs != nil {
		C.OSRDestroySpatialReference(o.srs)
	}
	*o = osrCRS{err: o.err}
	osrOpen--
}

// transform converts one position; the error is an *Error of Kind ErrOutOfRange with
// PROJ's reason, also for a result that is not a finite number.
func (o *osrCRS) transform(ct C.OGRCoordinateTransformationH, x, y float64) (float64, float64, error) {
	cx, cy := C.double(x), C.double(y)
	var cerr *C.char
	if C.satmark_transform(ct, &cx, &cy, &cerr) == 0 {
		return 0, 0, errorf(ErrOutOfRange, "position", "%s", takeCString(cerr))
	}
	if !crsFinite(float64(cx), float64(cy)) {
		return 0, 0, errorf(ErrOutOfRange, "position", "PROJ gives (%g, %g)", float64(cx), float64(cy))
	}
	return float64(cx), float64(cy), nil
}

// osrAreaMargin is how far (in degrees of longitude and latitude) beyond a CRS's area of
// use satmark still converts positions: generous for an image off a coast, short of where
// projections go wrong (a polar stereographic one near the other pole, a conic one on the
// far side of the earth), which PROJ converts without complaint.
const osrAreaMargin = 5.0

// inArea reports whether a longitude and latitude lies within the CRS's area of use
// widened by osrAreaMargin; every position does for a CRS without an area.
func (o *osrCRS) inArea(lon, lat float64) bool {
	if !o.hasArea {
		return true
	}
	w, s, e, n := o.bbox[0], o.bbox[1], o.bbox[2], o.bbox[3]
	if lat < s-osrAreaMargin || lat > n+osrAreaMargin {
		return false
	}
	if e-w >= 360-2*osrAreaMargin {
		return true
	}
	// Degrees east of the area's west edge, in [0, 360): across the antimeridian too.
	east := func(l float64) float64 { return math.Mod(math.Mod(l-w, 360)+360, 360) }
	width := east(e)
	if w == e {
		width = 360
	}
	d := east(lon)
	return d <= width+osrAreaMargin || d >= 360-osrAreaMargin
}

// osrConvert converts (a, b) by GDAL: to WGS 84 longitude/latitude when toLonLat, else
// from it. Errors: the CRS's (see CRS.Valid), or ErrOutOfRange, saying where the CRS can
// be used, for a position PROJ cannot convert or whose longitude and latitude are outside
// the CRS's area of use (see osrAreaMargin).
func osrConvert(c CRS, a, b float64, toLonLat bool) (float64, float64, error) {
	osrMu.Lock()
	defer osrMu.Unlock()
	o := osrLookup(c)
	if o.err != nil {
		return 0, 0, o.err
	}
	ct := o.toWGS84
	if !toLonLat {
		ct = o.fromWGS84
		a = crsWrapLon(a)
	}
	p, q, err := o.transform(ct, a, b)
	lon, lat := p, q
	if !toLonLat {
		lon, lat = a, b
	}
	if err == nil && !o.inArea(lon, lat) {
		err = errorf(ErrOutOfRange, "position", "longitude %.10g°, latitude %.10g° is more than %g° outside the CRS's area of use", lon, lat, osrAreaMargin)
	}
	if err != nil {
		where := ""
		if o.area != "" {
			where = "; the CRS is meant for " + o.area
		}
		from, to := o.describe(c), "WGS 84"
		if !toLonLat {
			from, to = to, from
		}
		return 0, 0, errorf(ErrOutOfRange, "position", "(%.10g, %.10g) cannot be converted from %s to %s: %s%s", a, b, from, to, err.(*Error).Message, where)
	}
	return p, q, nil
}

// osrValid returns nil for a CRS GDAL can convert to and from WGS 84, else why not.
func osrValid(c CRS) error {
	osrMu.Lock()
	defer osrMu.Unlock()
	return osrLookup(c).err
}

// osrName returns the CRS's name as OSR gives it, "" for one it cannot open.
func osrName(c CRS) string {
	osrMu.Lock()
	defer osrMu.Unlock()
	return osrLookup(c).name
}

// osrGeographic reports whether the CRS is in longitude and latitude.
func osrGeographic(c CRS) bool {
	osrMu.Lock()
	defer osrMu.Unlock()
	return osrLookup(c).geographic
}

// osrUnit returns metres (projected) or radians (geographic) per unit of the CRS, 0 for
// one that is not Valid.
func osrUnit(c CRS) float64 {
	osrMu.Lock()
	defer osrMu.Unlock()
	if o := osrLookup(c); o.err == nil {
		return o.unit
	}
	return 0
}

// osrWKT exports the CRS as WKT in format (WKT2_2019, WKT1_ESRI), or "".
func osrWKT(c CRS, format string) string {
	osrMu.Lock()
	defer osrMu.Unlock()
	o := osrLookup(c)
	if o.srs == nil {
		return ""
	}
	f := C.CString(format)
	defer C.free(unsafe.Pointer(f))
	return takeCString(C.satmark_wkt(o.srs, f))
}

// osrFromWKT reads WKT through OSR: the EPSG CRS it is equivalent to when OSR finds
// exactly one, else the CRS as WKT 2. Errors: ErrInvalid (Field "wkt") with GDAL's
// reason for WKT it cannot read; the CRS's (see CRS.Valid).
func osrFromWKT(wkt string) (CRS, error) {
	text := C.CString(wkt)
	defer C.free(unsafe.Pointer(text))
	var cerr *C.char
	osrMu.Lock()
	h := C.satmark_srs(0, text, &cerr)
	if h == nil {
		osrMu.Unlock()
		return CRS{}, errorf(ErrInvalid, "wkt", "GDAL cannot read the WKT: %s", takeCString(cerr))
	}
	code := int(C.satmark_identify(h))
	wkt2 := ""
	if code == 0 {
		f := C.CString("WKT2_2019")
		wkt2 = takeCString(C.satmark_wkt(h, f))
		C.free(unsafe.Pointer(f))
	}
	C.OSRDestroySpatialReference(h)
	osrMu.Unlock()
	c := CRS{EPSG: code}
	if code == 0 {
		if wkt2 == "" {
			return CRS{}, errorf(ErrUnsupportedCRS, "wkt", "GDAL reads the WKT but cannot write it back as WKT 2, so satmark cannot keep it")
		}
		c = CRS{WKT: wkt2}
	}
	return c, c.Valid()
}

// takeCString copies and frees a string GDAL allocated; nil is "".
func takeCString(s *C.char) string {
	if s == nil {
		return ""
	}
	defer C.CPLFree(unsafe.Pointer(s))
	return strings.TrimSpace(C.GoString(s))
}

package geo

import (
	"math"
	"strconv"
	"strings"
)

// WebMercator is EPSG:3857, WGS 84 / Pseudo-Mercator, in metres.
var WebMercator = EPSG(3857)

// WGS 84 ellipsoid, as UTM uses it.
const (
	crsSemiMajor  = 6378137.0
	crsFlattening = 1 / 298.257223563
)

// webMercatorMaxLat is the latitude at which the web Mercator square ends (y = ±πa):
// atan(sinh π) in degrees.
var webMercatorMaxLat = math.Atan(math.Sinh(math.Pi)) * 180 / math.Pi

// utmMaxDistance is how far from its central meridian (the angle on the earth, not the
// difference in longitude, which grows without bound near the poles) a UTM CRS maps
// positions; nor does it map the far half of the globe (more than 90° of longitude from
// the meridian, beyond the pole). Krüger's series stays within a micrometre of PROJ's exact transverse
// Mercator far beyond a zone's ±3° (the committed vectors go to 40°); past this the
// projection's scale is over 1.4 and the series soon fails.
const utmMaxDistance = 45.0

// Valid returns nil for a CRS satmark can use: EPSG:4326, 3857 and WGS 84 / UTM, and any
// projected or geographic CRS that GDAL's OSR (PROJ) can convert to and from WGS 84.
// Errors are *Error: ErrUnsupportedCRS (Field "crs") for no CRS, an EPSG code PROJ does
// not know, a CRS that is not projected or geographic (vertical, geocentric, a local
// engineering one) or one PROJ cannot convert both ways (a projection with no inverse);
// ErrInvalid (Field "wkt") for WKT GDAL cannot read.
func (c CRS) Valid() error {
	switch {
	case c.native():
		return nil
	case c == CRS{}:
		return errorf(ErrUnsupportedCRS, "crs", "no CRS is given")
	case c.EPSG != 0 && c.WKT != "":
		return errorf(ErrInvalid, "crs", "a CRS is an EPSG code or WKT, not both")
	case c.EPSG < 0:
		return errorf(ErrUnsupportedCRS, "crs", "%s is not an EPSG code", c)
	}
	return osrValid(c)
}

// native reports whether satmark computes the CRS in Go: EPSG:4326, 3857 and UTM.
func (c CRS) native() bool {
	if zone, _ := c.utm(); zone != 0 {
		return true
	}
	return c == WGS84 || c == WebMercator
}

// Geographic reports whether the CRS is in longitude and latitude (false for one that is
// not Valid).
func (c CRS) Geographic() bool {
	if c.native() {
		return c == WGS84
	}
	return osrGeographic(c)
}

// unit returns metres (projected) or radians (geographic) per unit of the CRS, 0 for one
// that is not Valid.
func (c CRS) unit() float64 {
	switch {
	case c == WGS84:
		return math.Pi / 180
	case c.native():
		return 1
	}
	return osrUnit(c)
}

// String returns the CRS as "EPSG:<code>", or, for one given by WKT, the name its WKT gives
// it ("a CRS given by WKT" when it has none).
func (c CRS) String() string {
	if c.WKT == "" {
		return "EPSG:" + strconv.Itoa(c.EPSG)
	}
	if name := osrName(c); name != "" && name != "unknown" {
		return name
	}
	return "a CRS given by WKT"
}

// utm returns the zone (1–60) and hemisphere of a UTM CRS, or zone 0 for any other.
func (c CRS) utm() (zone int, south bool) {
	if c.WKT != "" {
		return 0, false
	}
	switch code := c.EPSG; {
	case code >= 32601 && code <= 32660:
		return code - 32600, false
	case code >= 32701 && code <= 32760:
		return code - 32700, true
	}
	return 0, false
}

// UTMZone returns the WGS 84 / UTM CRS for a position: the zone from the longitude (6°
// zones from 180°W, a longitude on a boundary belongs to the zone east of it, 180° to
// zone 1), north for latitudes ≥ 0 and south below. It ignores the grid's exceptions
// around Norway and Svalbard (32V, 31X–37X): a position there gets the zone its
// longitude gives, which is still a valid UTM CRS for it. For a longitude or
// latitude that is not a position (NaN, |lat| > 90) it returns the zero CRS, which is not Valid.
func UTMZone(lon, lat float64) CRS {
	if math.IsNaN(lon) || math.IsInf(lon, 0) || !(lat >= -90 && lat <= 90) {
		return CRS{}
	}
	lon = crsWrapLon(lon)
	if lon >= 180 {
		lon = -180
	}
	zone := int(math.Floor((lon+180)/6)) + 1
	zone = min(max(zone, 1), 60)
	if lat < 0 {
		return EPSG(32700 + zone)
	}
	return EPSG(32600 + zone)
}

// ToLonLat converts a position in the CRS's own units (degrees for EPSG:4326, metres
// for 3857 and UTM, the CRS's units otherwise) to WGS 84 longitude and latitude in
// degrees. Longitudes from every CRS but EPSG:4326 come back in [-180, 180], as PROJ
// gives them; EPSG:4326 is the identity, so a longitude past ±180 (an image across the
// antimeridian) stays as it is. Every other CRS converts as gdaltransform and cs2cs do,
// with the datum transformation PROJ chooses for the position from the grids on the
// machine. Errors: the CRS's (see Valid), or ErrOutOfRange for a position off the CRS's
// valid area (latitude beyond ±90°, y beyond the web Mercator square, more than 45° from
// a UTM zone's central meridian, non-finite numbers, a position PROJ cannot convert or
// more than 5° of longitude or latitude outside the CRS's area of use).
func (c CRS) ToLonLat(x, y float64) (lon, lat float64, err error) {
	if err := c.Valid(); err != nil {
		return 0, 0, err
	}
	if !crsFinite(x, y) {
		return 0, 0, errorf(ErrOutOfRange, "position", "(%g, %g) is not a position in %s", x, y, c)
	}
	if !c.native() {
		return osrConvert(c, x, y, true)
	}
	switch c {
	case WGS84:
		if err := crsCheckLonLat(x, y); err != nil {
			return 0, 0, err
		}
		return x, y, nil
	case WebMercator:
		limit := math.Pi*crsSemiMajor + 1e-3 // a millimetre's slack for corners on the edge
		if math.Abs(y) > limit {
			return 0, 0, errorf(ErrOutOfRange, "position", "y = %g m is outside web Mercator's ±%.3f m", y, math.Pi*crsSemiMajor)
		}
		lon = crsWrapLon(x / crsSemiMajor * 180 / math.Pi)
		lat = math.Atan(math.Sinh(y/crsSemiMajor)) * 180 / math.Pi
		return lon, lat, nil
	}
	zone, south := c.utm()
	northing := y
	if south {
		northing -= 10_000_000
	}
	dlon, lat, ok := utmProjection.inverse((x-500_000)/utmScale, northing/utmScale)
	if !ok {
		return 0, 0, errorf(ErrOutOfRange, "position", "(%g, %g) is more than %g° from the central meridian of %s", x, y, utmMaxDistance, c)
	}
	return crsWrapLon(utmCentralMeridian(zone) + dlon), lat, nil
}

// FromLonLat converts WGS 84 longitude and latitude in degrees to the CRS's own units.
// Errors are those of ToLonLat: the CRS's, or ErrOutOfRange for a latitude beyond ±90°
// (±85.0511287798° for web Mercator), a longitude beyond ±360°, a position more than 45°
// from a UTM zone's central meridian, or one PROJ cannot convert or that is more than 5°
// outside the CRS's area of use.
func (c CRS) FromLonLat(lon, lat float64) (x, y float64, err error) {
	if err := c.Valid(); err != nil {
		return 0, 0, err
	}
	if err := crsCheckLonLat(lon, lat); err != nil {
		return 0, 0, err
	}
	if !c.native() {
		return osrConvert(c, lon, lat, false)
	}
	switch c {
	case WGS84:
		return lon, lat, nil
	case WebMercator:
		// The limit with a hair of slack: 85.0511287798 as usually quoted is below it.
		if math.Abs(lat) > webMercatorMaxLat+1e-11 {
			return 0, 0, errorf(ErrOutOfRange, "position", "latitude %g° is beyond web Mercator's ±%.10f°", lat, webMercatorMaxLat)
		}
		phi := lat * math.Pi / 180
		x = crsSemiMajor * crsWrapLon(lon) * math.Pi / 180
		y = crsSemiMajor * math.Log(math.Tan(math.Pi/4+phi/2))
		return x, y, nil
	}
	zone, south := c.utm()
	e, n, ok := utmProjection.forward(crsWrapLon(lon-utmCentralMeridian(zone)), lat)
	if !ok {
		return 0, 0, errorf(ErrOutOfRange, "position", "(%g, %g) is more than %g° from the central meridian of %s (%g°)", lon, lat, utmMaxDistance, c, utmCentralMeridian(zone))
	}
	x = 500_000 + utmScale*e
	y = utmScale * n
	if south {
		y += 10_000_000
	}
	return x, y, nil
}

func crsFinite(a, b float64) bool {
	return !math.IsNaN(a) && !math.IsInf(a, 0) && !math.IsNaN(b) && !math.IsInf(b, 0)
}

func crsCheckLonLat(lon, lat float64) error {
	if !crsFinite(lon, lat) || lat < -90 || lat > 90 || lon < -360 || lon > 360 {
		return errorf(ErrOutOfRange, "position", "(%g, %g) is not a longitude and latitude (latitude within ±90°, longitude within ±360°)", lon, lat)
	}
	return nil
}

// crsWrapLon brings a longitude into [-180, 180]. A hair past ±180 (rounding in the
// arithmetic that produced it) counts as ±180, so that 180° does not come back as -180°.
func crsWrapLon(lon float64) float64 {
	const hair = 1e-9
	switch {
	case lon >= -180 && lon <= 180:
		return lon
	case lon > 180 && lon <= 180+hair:
		return 180
	case lon < -180 && lon >= -180-hair:
		return -180
	}
	lon = math.Mod(lon+180, 360)
	if lon < 0 {
		lon += 360
	}
	return lon - 180
}

func utmCentralMeridian(zone int) float64 { return float64(6*zone - 183) }

// utmScale is UTM's scale on the central meridian.
const utmScale = 0.9996

// transverseMercator is the transverse Mercator projection of an ellipsoid with unit
// scale on the central meridian, by Krüger's series to sixth order in n as Karney (2011,
// "Transverse Mercator with an accuracy of a few nanometers", J. Geodesy 85, eqs. 7–36)
// gives them: accurate to a few nanometres within 4° of the central meridian and to far
// better than a millimetre well beyond.
type transverseMercator struct {
	e     float64    // eccentricity
	a     float64    // rectifying radius A (metres)
	alpha [6]float64 // conformal latitude → rectifying latitude (forward)
	beta  [6]float64 // rectifying → conformal (inverse)
}

var utmProjection = newTransverseMercator(crsSemiMajor, crsFlattening)

func newTransverseMercator(a, f float64) transverseMercator {
	n := f / (2 - f)
	n2 := n * n
	n3, n4, n5, n6 := n2*n, n2*n2, n2*n2*n, n2*n2*n2
	return transverseMercator{
		e: math.Sqrt(f * (2 - f)),
		a: a / (1 + n) * (1 + n2/4 + n4/64 + n6/256),
		alpha: [6]float64{
			n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
			13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
			61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
			49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
			34729*n5/80640 - 3418889*n6/1995840,
			212378941 * n6 / 319334400,
		},
		beta: [6]float64{
			n/2 - 2*n2/3 + 37*n3/96 - n4/360 - 81*n5/512 + 96199*n6/604800,
			n2/48 + n3/15 - 437*n4/1440 + 46*n5/105 - 1118711*n6/3870720,
			17*n3/480 - 37*n4/840 - 209*n5/4480 + 5569*n6/90720,
			4397*n4/161280 - 11*n5/504 - 830251*n6/7257600,
			4583*n5/161280 - 108847*n6/3991680,
			20648693 * n6 / 638668800,
		},
	}
}

// forward maps a longitude from the central meridian and a latitude (degrees) to
// easting and northing (metres, unit scale, origin on the equator at the meridian); ok
// is false for a position more than utmMaxDistance from the central meridian.
func (tm transverseMercator) forward(dlon, lat float64) (x, y float64, ok bool) {
	lam := dlon * math.Pi / 180
	phi := lat * math.Pi / 180
	// τ' = tan of the conformal latitude, from τ = tan φ (Karney eqs. 7–9), written with
	// sin and cos so that the poles need no special case.
	sinPhi, cosPhi := math.Sincos(phi)
	if math.Abs(lat) == 90 {
		cosPhi = 0
	}
	sigma := math.Sinh(tm.e * math.Atanh(tm.e*sinPhi))
	// τ' = num/den with num = τ' cos φ = sin φ √(1+σ²) − σ: a ratio, so no tan(±90°).
	num := sinPhi*math.Hypot(1, sigma) - sigma
	den := cosPhi
	sinLam, cosLam := math.Sincos(lam)
	// ξ' = atan2(τ', cos λ), η' = asinh(sin λ / √(τ'² + cos² λ)), multiplied through by den.
	xiP := math.Atan2(num, cosLam*den)
	etaP := math.Asinh(sinLam * den / math.Hypot(num, cosLam*den))
	if !tmNearMeridian(etaP) || cosLam < 0 {
		return 0, 0, false
	}
	xi, eta := xiP, etaP
	for j, a := range tm.alpha {
		k := 2 * float64(j+1)
		s, c := math.Sincos(k * xiP)
		xi += a * s * math.Cosh(k*etaP)
		eta += a * c * math.Sinh(k*etaP)
	}
	return tm.a * eta, tm.a * xi, true
}

// tmNearMeridian reports whether η' (the conformal sphere's isometric distance from the
// central meridian) is within utmMaxDistance of it: sin of the angle is tanh η'.
func tmNearMeridian(etaP float64) bool {
	return math.Abs(math.Tanh(etaP)) <= math.Sin(utmMaxDistance*math.Pi/180)
}

// inverse maps easting and northing (metres, unit scale) back to a longitude from the
// central meridian and a latitude, in degrees; ok is false for a position more than
// utmMaxDistance from the central meridian.
func (tm transverseMercator) inverse(x, y float64) (dlon, lat float64, ok bool) {
	xi, eta := y/tm.a, x/tm.a
	xiP, etaP := xi, eta
	for j, b := range tm.beta {
		k := 2 * float64(j+1)
		s, c := math.Sincos(k * xi)
		xiP -= b * s * math.Cosh(k*eta)
		etaP -= b * c * math.Sinh(k*eta)
	}
	sinXi, cosXi := math.Sincos(xiP)
	if math.IsNaN(xiP) || math.IsNaN(etaP) || !tmNearMeridian(etaP) || cosXi < 0 {
		return 0, 0, false
	}
	shEta := math.Sinh(etaP)
	r := math.Hypot(shEta, cosXi)
	lam := math.Atan2(shEta, cosXi)
	if r == 0 { // a pole
		return 0, math.Copysign(90, xiP), true
	}
	tauP := sinXi / r
	// Solve τ'(τ) = tauP for τ by Newton's method (Karney eqs. 19–21).
	e2 := tm.e * tm.e
	tau := tauP
	for range 8 {
		s1 := math.Hypot(1, tau)
		sigma := math.Sinh(tm.e * math.Atanh(tm.e*tau/s1))
		tauI := tau*math.Hypot(1, sigma) - sigma*s1
		d := (tauP - tauI) / math.Hypot(1, tauI) * (1 + (1-e2)*tau*tau) / ((1 - e2) * s1)
		tau += d
		if math.Abs(d) <= 1e-15*math.Max(1, math.Abs(tau)) {
			break
		}
	}
	return lam * 180 / math.Pi, math.Atan(tau) * 180 / math.Pi, true
}

// PRJ returns the CRS in the Esri flavour of WKT 1, on one line, as ArcGIS writes it in
// a .prj and as `gdalsrsinfo -o wkt_esri` prints it; GDAL, QGIS and ArcGIS read it back
// as the same CRS. A CRS Esri's WKT cannot describe (a PROJ-only projection) comes as
// GDAL's WKT 1 or, failing that, WKT 2. It returns "" for a CRS that is not Valid.
func (c CRS) PRJ() string {
	const gcs = `GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]`
	switch c {
	case WGS84:
		return gcs
	case WebMercator:
		return `PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",` + gcs +
			`,PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],` +
			`PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]`
	}
	zone, south := c.utm()
	if zone == 0 {
		if c.Valid() != nil {
			return ""
		}
		for _, format := range []string{"WKT1_ESRI", "WKT1_GDAL", "WKT2_2019"} {
			if wkt := osrWKT(c, format); wkt != "" {
				return wkt
			}
		}
		return ""
	}
	hemisphere, falseNorthing := "N", "0.0"
	if south {
		hemisphere, falseNorthing = "S", "10000000.0"
	}
	return `PROJCS["WGS_1984_UTM_Zone_` + strconv.Itoa(zone) + hemisphere + `",` + gcs +
		`,PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",` + falseNorthing +
		`],PARAMETER["Central_Meridian",` + strconv.FormatFloat(utmCentralMeridian(zone), 'f', 1, 64) +
		`],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]`
}

// ParseEPSG reads an EPSG code as a user gives it: 32652 or EPSG:32652 (any case,
// spaces around). Errors are *Error of Field "crs": ErrInvalid for text that is not such
// a code, ErrUnsupportedCRS (with the CRS) for a code PROJ does not know or cannot use
// (see Valid).
func ParseEPSG(s string) (CRS, error) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "EPSG:"))
	if err != nil || n <= 0 {
		return CRS{}, errorf(ErrInvalid, "crs", "%q is not an EPSG code such as EPSG:4326 or EPSG:32652", s)
	}
	c := EPSG(n)
	return c, c.Valid()
}

// CRSFromWKT recognises the CRS a .prj file (WKT 1 in the OGC or Esri flavour, or WKT 2)
// describes, or a bare "EPSG:<code>". The CRS's own EPSG authority code decides when
// there is one (AUTHORITY["EPSG","32652"] or ID["EPSG",32652] on the outermost
// element; Esri's code 102100 for web Mercator too); then the names GDAL, PROJ and Esri
// write for the CRSs computed in Go: "WGS 84", "GCS_WGS_1984", "WGS 84 / UTM zone 52N",
// "WGS_1984_UTM_Zone_52N", "WGS 84 / Pseudo-Mercator", "WGS_1984_Web_Mercator_Auxiliary_Sphere".
// Any other WKT goes to GDAL's OSR: the EPSG CRS it finds equivalent (an Esri .prj of
// Lambert-93 is EPSG:2154), else the CRS as its WKT 2. Errors: ErrInvalid for text that
// is not WKT or that GDAL cannot read, ErrUnsupportedCRS for a CRS that is not Valid.
func CRSFromWKT(wkt string) (CRS, error) {
	text := strings.TrimSpace(strings.TrimPrefix(wkt, "\ufeff"))
	if code, ok := strings.CutPrefix(strings.ToUpper(text), "EPSG:"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(code))
		if err != nil || n <= 0 {
			return CRS{}, errorf(ErrInvalid, "wkt", "%q is not an EPSG code", text)
		}
		c := EPSG(n)
		return c, c.Valid()
	}
	root, err := parseWKT(text)
	if err != nil {
		return CRS{}, err
	}
	switch root.keyword {
	case "GEOGCS", "PROJCS", "GEOGCRS", "PROJCRS", "GEODCRS", "GEODETICCRS", "GEOGRAPHICCRS", "PROJECTEDCRS", "BOUNDCRS":
	default:
		return CRS{}, errorf(ErrUnsupportedCRS, "wkt", "a %s is not a CRS satmark supports", root.keyword)
	}
	if root.keyword == "BOUNDCRS" { // WKT 2 with a transformation to WGS 84: the source CRS is the one.
		src := root.child("SOURCECRS")
		if src == nil || len(src.nodes) == 0 {
			return CRS{}, errorf(ErrInvalid, "wkt", "the BOUNDCRS has no source CRS")
		}
		root = src.nodes[0]
	}
	if auth, code, ok := root.authority(); ok {
		switch {
		case auth == "EPSG":
			if n, err := strconv.Atoi(code); err == nil && n > 0 {
				c := EPSG(n)
				return c, c.Valid()
			}
		case auth == "ESRI" && code == "102100":
			return WebMercator, nil
		}
	}
	name := ""
	if len(root.strings) > 0 {
		name = root.strings[0]
	}
	if c := crsFromName(name); c != (CRS{}) {
		return c, nil
	}
	return osrFromWKT(text)
}

// crsFromName recognises the names GDAL and Esri give the supported CRSs.
func crsFromName(name string) CRS {
	key := strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "", "/", "").Replace(name))
	switch key {
	case "wgs84", "gcswgs1984", "wgs1984":
		return WGS84
	case "wgs84pseudomercator", "pseudomercator", "wgs1984webmercatorauxiliarysphere", "wgs84webmercator", "webmercator":
		return WebMercator
	}
	for _, prefix := range []string{"wgs84utmzone", "wgs1984utmzone"} {
		rest, ok := strings.CutPrefix(key, prefix)
		if !ok || len(rest) < 2 {
			continue
		}
		zone, err := strconv.Atoi(rest[:len(rest)-1])
		if err != nil || zone < 1 || zone > 60 {
			return CRS{}
		}
		switch rest[len(rest)-1] {
		case 'n':
			return EPSG(32600 + zone)
		case 's':
			return EPSG(32700 + zone)
		}
	}
	return CRS{}
}

// wktNode is one KEYWORD[...] element of WKT: its quoted strings, bare words and numbers
// (in order, as text), and nested elements.
type wktNode struct {
	keyword string
	strings []string // quoted values
	words   []string // numbers and unquoted enumerations
	nodes   []*wktNode
}

func (n *wktNode) child(keyword string) *wktNode {
	for _, c := range n.nodes {
		if c.keyword == keyword {
			return c
		}
	}
	return nil
}

// authority returns the outermost element's own AUTHORITY (WKT 1) or ID (WKT 2).
func (n *wktNode) authority() (auth, code string, ok bool) {
	for _, c := range n.nodes {
		if c.keyword != "AUTHORITY" && c.keyword != "ID" {
			continue
		}
		if len(c.strings) == 0 {
			continue
		}
		switch {
		case len(c.strings) >= 2: // AUTHORITY["EPSG","32652"]
			return strings.ToUpper(c.strings[0]), strings.TrimSpace(c.strings[1]), true
		case len(c.words) >= 1: // ID["EPSG",32652]
			return strings.ToUpper(c.strings[0]), c.words[0], true
		}
	}
	return "", "", false
}

// parseWKT parses WKT text into its tree. It accepts [ ] and ( ) as brackets and
// doubled quotes inside strings, as WKT 2 does.
func parseWKT(text string) (*wktNode, error) {
	p := wktParser{text: text}
	n, err := p.node(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(p.text) {
		return nil, errorf(ErrInvalid, "wkt", "unexpected text after the end of the WKT at character %d", p.pos+1)
	}
	return n, nil
}

type wktParser struct {
	text string
	pos  int
}

func (p *wktParser) space() {
	for p.pos < len(p.text) && strings.IndexByte(" \t\r\n", p.text[p.pos]) >= 0 {
		p.pos++
	}
}

func (p *wktParser) fail(what string) error {
	return errorf(ErrInvalid, "wkt", "this is not WKT: %s at character %d", what, p.pos+1)
}

func (p *wktParser) node(depth int) (*wktNode, error) {
	if depth > 32 {
		return nil, p.fail("elements nested too deep")
	}
	p.space()
	start := p.pos
	for p.pos < len(p.text) && (isWKTLetter(p.text[p.pos])) {
		p.pos++
	}
	if p.pos == start {
		return nil, p.fail("a keyword expected")
	}
	n := &wktNode{keyword: strings.ToUpper(p.text[start:p.pos])}
	p.space()
	if p.pos >= len(p.text) || (p.text[p.pos] != '[' && p.text[p.pos] != '(') {
		return nil, p.fail("'[' expected after " + n.keyword)
	}
	closing := byte(']')
	if p.text[p.pos] == '(' {
		closing = ')'
	}
	p.pos++
	for {
		p.space()
		if p.pos >= len(p.text) {
			return nil, p.fail("the text ends inside " + n.keyword)
		}
		switch ch := p.text[p.pos]; {
		case ch == '"':
			s, err := p.quoted()
			if err != nil {
				return nil, err
			}
			n.strings = append(n.strings, s)
		case isWKTLetter(ch) && !isWKTNumberStart(ch):
			// A nested element or an enumeration (NORTH, EAST): look past the word.
			save := p.pos
			for p.pos < len(p.text) && isWKTLetter(p.text[p.pos]) {
				p.pos++
			}
			word := p.text[save:p.pos]
			p.space()
			if p.pos < len(p.text) && (p.text[p.pos] == '[' || p.text[p.pos] == '(') {
				p.pos = save
				child, err := p.node(depth + 1)
				if err != nil {
					return nil, err
				}
				n.nodes = append(n.nodes, child)
			} else {
				n.words = append(n.words, word)
			}
		default:
			save := p.pos
			for p.pos < len(p.text) && strings.IndexByte(",])", p.text[p.pos]) < 0 && strings.IndexByte(" \t\r\n", p.text[p.pos]) < 0 {
				p.pos++
			}
			if p.pos == save {
				return nil, p.fail("a value expected")
			}
			n.words = append(n.words, p.text[save:p.pos])
		}
		p.space()
		if p.pos >= len(p.text) {
			return nil, p.fail("the text ends inside " + n.keyword)
		}
		switch p.text[p.pos] {
		case ',':
			p.pos++
		case closing:
			p.pos++
			return n, nil
		default:
			return nil, p.fail("',' or '" + string(closing) + "' expected")
		}
	}
}

func (p *wktParser) quoted() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.text) {
		ch := p.text[p.pos]
		p.pos++
		if ch != '"' {
			b.WriteByte(ch)
			continue
		}
		if p.pos < len(p.text) && p.text[p.pos] == '"' { // "" is a quote inside the string
			b.WriteByte('"')
			p.pos++
			continue
		}
		return b.String(), nil
	}
	return "", p.fail("an unterminated string")
}

func isWKTLetter(ch byte) bool {
	return ch == '_' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9'
}

func isWKTNumberStart(ch byte) bool { return ch >= '0' && ch <= '9' }

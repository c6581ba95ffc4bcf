// Package geo pins images to the earth and measures on it: transforms fitted to ground
// control points (similarity, affine, polynomial of order 2, projective, thin-plate
// spline), GDAL-style geotransforms in any CRS PROJ knows (from GeoTIFFs and world files: EPSG:4326,
// EPSG:3857 and WGS 84 / UTM in Go, every other through GDAL's OSR), and geodesic
// lengths, azimuths and areas on the WGS 84 ellipsoid.
//
// Pixel positions are in satmark's pixel space: (0,0) is the top-left corner of the
// top-left pixel, y grows downwards, units are full-resolution pixels (as GDAL's
// pixel/line). Positions on the earth are WGS 84 longitude and latitude in degrees.
package geo

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Errors a caller can tell apart. Each is wrapped in a *Error saying what was wrong.
var (
	// ErrTooFewPoints: fewer control points than the transform needs.
	ErrTooFewPoints = errors.New("too few control points")
	// ErrIllConditioned: the points do not determine the transform (duplicates,
	// collinear points), so any result would be meaningless.
	ErrIllConditioned = errors.New("ill-conditioned fit")
	// ErrOutOfRange: a coordinate outside its valid range (latitude beyond ±90°, a
	// position a projection cannot handle).
	ErrOutOfRange = errors.New("out of range")
	// ErrUnsupportedCRS: a coordinate reference system satmark cannot use: none given,
	// an EPSG code PROJ does not know, one that is not projected or geographic, or one
	// PROJ cannot convert to and from WGS 84.
	ErrUnsupportedCRS = errors.New("unsupported coordinate reference system")
	// ErrInvalid: input that cannot be read (a world file with non-numbers, a zero pixel
	// size, a GSD that is not a positive number).
	ErrInvalid = errors.New("invalid")
)

// Error is a problem with the input, with the field it concerns and a message meant for
// the user. Is(err, ErrTooFewPoints) and the like work through Unwrap.
type Error struct {
	Field   string
	Message string
	Kind    error
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...), Kind: kind}
}

// ControlPoint pairs a position in the image with its place on the earth.
type ControlPoint struct {
	Pixel  [2]float64 `json:"pixel"`  // x, y in pixel space
	LonLat [2]float64 `json:"lonlat"` // longitude, latitude in degrees
}

// TransformKind names a pixel → lon/lat model.
type TransformKind string

// The transforms satmark fits to control points.
const (
	Similarity  TransformKind = "similarity"  // scale, rotation, shift (Helmert): 2 points or more
	Affine      TransformKind = "affine"      // polynomial of order 1: 3 points or more
	Polynomial2 TransformKind = "polynomial2" // polynomial of order 2: 6 points or more
	Projective  TransformKind = "projective"  // homography: 4 points or more
	TPS         TransformKind = "tps"         // thin-plate spline, exact through every point: 3 or more
)

// Kinds lists every transform in the order the editor offers them.
var Kinds = []TransformKind{Similarity, Affine, Polynomial2, Projective, TPS}

// MinimumPoints is how many control points a transform needs.
func (k TransformKind) MinimumPoints() int {
	switch k {
	case Similarity:
		return 2
	case Affine, TPS:
		return 3
	case Projective:
		return 4
	case Polynomial2:
		return 6
	}
	return 0
}

// Transformer maps pixel positions to lon/lat and back. Errors are ErrOutOfRange (a
// position the model cannot map, such as a pixel on a projective transform's horizon).
type Transformer interface {
	Forward(x, y float64) (lon, lat float64, err error)
	Inverse(lon, lat float64) (x, y float64, err error)
	// Linear reports whether straight lines in pixel space stay straight in lon/lat
	// (so exported edges need no densifying).
	Linear() bool
}

// GeoTransform is GDAL's affine geotransform: a position in the CRS is
// (GT[0] + x·GT[1] + y·GT[2], GT[3] + x·GT[4] + y·GT[5]) for pixel position (x, y), with
// (GT[0], GT[3]) the top-left corner of the top-left pixel.
type GeoTransform [6]float64

// CRS is a coordinate reference system: by EPSG code, or by WKT for one that has none
// (a .prj's custom projection). Exactly one of the two is set; the zero CRS is none. CRSs
// are comparable: two are == when they have the same code or the same WKT text.
// EPSG:4326 (WGS 84 lon/lat), 3857 (web Mercator), 32601–32660 and 32701–32760 (WGS 84 /
// UTM north and south) are computed in Go; every other CRS through GDAL's OSR (PROJ).
// In JSON a CRS is its EPSG code as a number, or its WKT as a string.
type CRS struct {
	EPSG int    // the EPSG code; 0 when WKT defines the CRS
	WKT  string // WKT 2 of a CRS with no EPSG code; "" when EPSG is set
}

// MarshalJSON writes the EPSG code as a number, or the WKT as a string.
func (c CRS) MarshalJSON() ([]byte, error) {
	if c.WKT != "" {
		return json.Marshal(c.WKT)
	}
	return json.Marshal(c.EPSG)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *CRS) UnmarshalJSON(b []byte) error {
	*c = CRS{}
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &c.WKT)
	}
	return json.Unmarshal(b, &c.EPSG)
}

// EPSG is the CRS of an EPSG code (which Valid checks).
func EPSG(code int) CRS { return CRS{EPSG: code} }

// WGS84 is EPSG:4326, longitude and latitude in degrees.
var WGS84 = EPSG(4326)

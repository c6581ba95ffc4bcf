package geo

import (
	"errors"
	"math"
)

// Grid is an image placed by a geotransform in a CRS (from a GeoTIFF or a world file):
// pixel (x, y) is at GeoTransform applied to (x, y) in the CRS. It implements Transformer.
type Grid struct {
	GeoTransform GeoTransform `json:"geotransform"`
	CRS          CRS          `json:"crs"`
}

// Forward returns the longitude and latitude of pixel position (x, y). Errors are the
// CRS's: ErrUnsupportedCRS, or ErrOutOfRange for a position outside the CRS's area.
func (g Grid) Forward(x, y float64) (lon, lat float64, err error) {
	gt := g.GeoTransform
	return g.CRS.ToLonLat(gt[0]+x*gt[1]+y*gt[2], gt[3]+x*gt[4]+y*gt[5])
}

// Inverse returns the pixel position of a longitude and latitude, inverting the affine
// exactly (not by a separate fit). Errors: the CRS's (ErrUnsupportedCRS, ErrOutOfRange),
// or ErrInvalid for a geotransform that cannot be inverted.
func (g Grid) Inverse(lon, lat float64) (x, y float64, err error) {
	gt := g.GeoTransform
	det := gt[1]*gt[5] - gt[2]*gt[4]
	if det == 0 || math.IsNaN(det) || math.IsInf(det, 0) {
		return 0, 0, errorf(ErrInvalid, "geotransform", "the geotransform is singular: it cannot be inverted")
	}
	cx, cy, err := g.CRS.FromLonLat(lon, lat)
	if err != nil {
		return 0, 0, err
	}
	dx, dy := cx-gt[0], cy-gt[3]
	return (gt[5]*dx - gt[2]*dy) / det, (gt[1]*dy - gt[4]*dx) / det, nil
}

// Linear reports whether lines straight in pixel space stay straight in lon/lat: only
// for a grid in EPSG:4326, where the whole transform is affine.
func (g Grid) Linear() bool { return g.CRS == WGS84 }

// Validate checks that the grid can be used: every term of the geotransform finite, the
// affine not singular (GT1·GT5 − GT2·GT4 ≠ 0), and the CRS supported. Errors: ErrInvalid
// (Field "geotransform") or ErrUnsupportedCRS.
func (g Grid) Validate() error {
	if err := checkGeoTransform(g.GeoTransform); err != nil {
		return err
	}
	return g.CRS.Valid()
}

// checkGeoTransform returns an ErrInvalid for a geotransform with a term that is not a
// finite number or that is singular.
func checkGeoTransform(gt GeoTransform) error {
	for i, v := range gt {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errorf(ErrInvalid, "geotransform", "term %d of the geotransform is %v, not a number", i, v)
		}
	}
	if det := gt[1]*gt[5] - gt[2]*gt[4]; det == 0 || math.IsInf(det, 0) {
		return errorf(ErrInvalid, "geotransform", "the geotransform is singular (GT1·GT5 − GT2·GT4 = %g): it does not map the image onto an area", det)
	}
	return nil
}

// checkPlaced returns an ErrOutOfRange when the grid's origin, the top-left corner of
// the image, is no position on the earth in its CRS (a world file in degrees said to be
// in metres, a polar CRS's grid at the other pole): such a grid places nothing.
func (g Grid) checkPlaced() error {
	if _, _, err := g.Forward(0, 0); err != nil {
		var e *Error
		if errors.As(err, &e) && errors.Is(err, ErrOutOfRange) {
			return errorf(ErrOutOfRange, "geotransform", "the image's top-left corner (%g, %g) in %s is not on the earth: %s", g.GeoTransform[0], g.GeoTransform[3], g.CRS, e.Message)
		}
		return err
	}
	return nil
}

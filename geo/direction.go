package geo

import "math"

// ImageDirection returns the direction in the image, in degrees clockwise from the
// image's up (−y) in [0, 360), of a direction on the ground azimuth degrees clockwise from
// true north, at pixel (x, y): where an arrow drawn on the image from (x, y) must point
// to point that way on the earth. It goes through the transform's local derivative (its
// Jacobian, by central differences a pixel either side), so it holds for any transform
// near the point, rotated, skewed or mirrored.
//
// Errors: ErrInvalid for a pixel or azimuth that is not a number, or a transform that
// is singular there; the transform's errors (ErrOutOfRange) for points it cannot map.
func ImageDirection(t Transformer, x, y, azimuth float64) (float64, error) {
	if err := checkPixels([][2]float64{{x, y}}); err != nil {
		return 0, err
	}
	if !finite(azimuth) {
		return 0, errorf(ErrInvalid, "", "the azimuth is not a number")
	}
	lon, lat, err := t.Forward(x, y)
	if err != nil {
		return 0, err
	}
	j, err := lonLatJacobian(t, x, y, 1)
	if err != nil {
		return 0, err
	}
	// A metre along the azimuth, in degrees of longitude and latitude.
	lon2, lat2 := Direct(lon, lat, azimuth, 1)
	dx, dy, ok := j.pixelOffset(math.Remainder(lon2-lon, 360), lat2-lat)
	if !ok || (dx == 0 && dy == 0) {
		return 0, errorf(ErrInvalid, "", "the transform is singular at pixel (%g, %g): it gives no direction there", x, y)
	}
	a := math.Atan2(dx, -dy) * 180 / math.Pi
	if a < 0 {
		a += 360
	}
	return a, nil
}

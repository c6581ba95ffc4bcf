package geo

import (
	"errors"
	"math"
	"testing"
)

func TestImageDirection(t *testing.T) {
	// The sample port's placement: north up, about 1 m a pixel at 43° N.
	northUp := Grid{GeoTransform: GeoTransform{131.865, 1.2287e-05, 0, 43.125, 0, -9.0013e-06}, CRS: WGS84}
	// The same turned: the image's up points 30° west of north, so a ground direction d
	// is drawn at d + 30.
	const turn = 30 * math.Pi / 180
	sx, sy := 1.2287e-05, 9.0013e-06 // degrees a pixel east and north
	turned := Grid{GeoTransform: GeoTransform{131.865, sx * math.Cos(turn), sx * math.Sin(turn), 43.125, sy * math.Sin(turn), -sy * math.Cos(turn)}, CRS: WGS84}
	// Mirrored east–west (x grows westward): east is drawn to the left.
	mirrored := Grid{GeoTransform: GeoTransform{131.865, -1.2287e-05, 0, 43.125, 0, -9.0013e-06}, CRS: WGS84}
	// In web Mercator, north up: spherical Mercator of the ellipsoid's latitudes, so not
	// quite conformal: a metre north is drawn M/N times as long as a metre east (the
	// meridian's and the prime vertical's radii of curvature), and north-east is drawn
	// at atan(M/N) = atan((1 − e²)/(1 − e² sin²φ)).
	mercator := Grid{GeoTransform: GeoTransform{14679000, 1, 0, 5330000, 0, -1}, CRS: WebMercator}
	_, latM, err := mercator.Forward(2000, 1500)
	if err != nil {
		t.Fatal(err)
	}
	const e2 = 0.00669437999014 // WGS 84
	sinLat := math.Sin(latM * math.Pi / 180)
	mercatorNE := math.Atan((1-e2)/(1-e2*sinLat*sinLat)) * 180 / math.Pi
	for _, c := range []struct {
		name    string
		t       Transformer
		azimuth float64
		want    float64
	}{
		{"ok, north is up", northUp, 0, 0},
		{"ok, east is right", northUp, 90, 90},
		{"ok, the sample scenes' shadows, north-north-west", northUp, 330, 330},
		{"ok, south is down", northUp, 180, 180},
		{"ok, turned 30°: north is drawn 30° right of up", turned, 0, 30},
		{"ok, turned 30°: east at 120°", turned, 90, 120},
		{"ok, mirrored: east is left", mirrored, 90, 270},
		{"ok, mirrored: north-north-west drawn north-north-east", mirrored, 330, 30},
		{"ok, web Mercator: north-east at atan(M/N)", mercator, 45, mercatorNE},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ImageDirection(c.t, 2000, 1500, c.azimuth)
			if err != nil {
				t.Fatal(err)
			}
			// The pixel's aspect (1.2287e-05° of longitude is 0.9985 m at 43.1°, 9.0013e-06°
			// of latitude 0.9995 m) bends oblique directions by up to 0.03°.
			if d := math.Abs(math.Remainder(got-c.want, 360)); d > 0.05 {
				t.Errorf("ImageDirection(az %g) = %.4f°, want %.4f°", c.azimuth, got, c.want)
			}
		})
	}
	if _, err := ImageDirection(northUp, math.NaN(), 0, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("at a pixel not a number: %v, want ErrInvalid", err)
	}
	if _, err := ImageDirection(Grid{GeoTransform: GeoTransform{131, 1e-5, 1e-5, 43, 1e-5, 1e-5}, CRS: WGS84}, 10, 10, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("through a singular transform: %v, want ErrInvalid", err)
	}
}

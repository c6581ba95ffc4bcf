package geo

import "math"

// Measures are sizes on the ground of a shape drawn in pixel space.
//
// A shape's pixel path is mapped to lon/lat with a Transformer and measured with
// geodesics on the WGS 84 ellipsoid. Where the transform is not linear, edges are
// first densified (Densify, to measureTolerancePx) so that the measured path
// follows the image of the straight pixel edges.

// measureTolerancePx is how closely, in pixels, the lon/lat paths that lengths
// and areas are measured along follow the images of straight pixel edges.
const measureTolerancePx = 0.1

// maxDensifyDepth limits Densify to 2^maxDensifyDepth pieces per edge.
const maxDensifyDepth = 10

// LineLength is the geodesic length in metres of a polyline drawn in pixels.
//
// Errors: ErrInvalid for fewer than two points or a pixel position that is not a
// number; the transform's errors (ErrOutOfRange) for points it cannot map.
func LineLength(t Transformer, pts [][2]float64) (float64, error) {
	if len(pts) < 2 {
		return 0, errorf(ErrInvalid, "", "a line needs at least 2 points; %d given", len(pts))
	}
	lonlat, err := densifiedLonLat(t, pts)
	if err != nil {
		return 0, err
	}
	var length geodAccumulator
	for i := 1; i < len(lonlat); i++ {
		s, _, _ := Inverse(lonlat[i-1][0], lonlat[i-1][1], lonlat[i][0], lonlat[i][1])
		length.add(s)
	}
	return length[0], nil
}

// PolygonArea returns the area (m², exterior minus holes) and perimeter (m, all rings) of polygon rings drawn in pixels.
//
// The first ring is the exterior, the others holes inside it; rings may repeat
// their first point at the end or not, and run either way round. Errors:
// ErrInvalid for no rings, a ring with fewer than three distinct points, or a
// pixel position that is not a number; the transform's errors (ErrOutOfRange)
// for points it cannot map.
func PolygonArea(t Transformer, rings [][][2]float64) (m2, perimeter float64, err error) {
	m2, perimeter, _, err = polygonArea(t, rings, false)
	return m2, perimeter, err
}

// PolygonAreaSides is PolygonArea with the length (m) of each side of the exterior ring
// as well, side i from its point i to the next (the last back to the first): what
// LineLength gives for the side's two points, found in the same pass (a rectangle's
// length and width with its area, without mapping and measuring two of its sides again).
func PolygonAreaSides(t Transformer, rings [][][2]float64) (m2, perimeter float64, sides []float64, err error) {
	return polygonArea(t, rings, true)
}

func polygonArea(t Transformer, rings [][][2]float64, wantSides bool) (m2, perimeter float64, sides []float64, err error) {
	if len(rings) == 0 {
		return 0, 0, nil, errorf(ErrInvalid, "", "a polygon needs at least one ring")
	}
	for i, ring := range rings {
		n := len(ring)
		if n > 1 && ring[0] == ring[n-1] {
			n--
		}
		if n < 3 {
			return 0, 0, nil, errorf(ErrInvalid, "", "ring %d of the polygon has %d distinct points; a ring needs at least 3", i+1, n)
		}
		closed := append(append(make([][2]float64, 0, n+1), ring[:n]...), ring[0])
		var vertices *[]int
		if i == 0 && wantSides {
			vertices = new([]int)
		}
		lonlat, err := densifiedLonLatAt(t, closed, vertices)
		if err != nil {
			return 0, 0, nil, err
		}
		var segments []float64
		if vertices != nil {
			segments = make([]float64, len(lonlat)-1)
		}
		a, p := area(lonlat, segments)
		if vertices != nil {
			// Each side's geodesics in order from zero, as LineLength adds them.
			v := *vertices
			sides = make([]float64, len(v)-1)
			for k := range sides {
				var length geodAccumulator
				for _, s := range segments[v[k]:v[k+1]] {
					length.add(s)
				}
				sides[k] = length[0]
			}
		}
		if i == 0 {
			m2 = a
		} else {
			m2 -= a
		}
		perimeter += p
	}
	return m2, perimeter, sides, nil
}

// Azimuth returns the geodesic azimuth (degrees from true north, [0, 360)) from pixel a to pixel b.
//
// It is the azimuth at a of the geodesic between the places of a and b. Errors:
// ErrInvalid if a and b are the same pixel or not numbers; the transform's
// errors (ErrOutOfRange) for points it cannot map.
func Azimuth(t Transformer, a, b [2]float64) (float64, error) {
	if err := checkPixels([][2]float64{a, b}); err != nil {
		return 0, err
	}
	if a == b {
		return 0, errorf(ErrInvalid, "", "an azimuth needs two different points")
	}
	lonA, latA, err := t.Forward(a[0], a[1])
	if err != nil {
		return 0, err
	}
	lonB, latB, err := t.Forward(b[0], b[1])
	if err != nil {
		return 0, err
	}
	_, az, _ := Inverse(lonA, latA, lonB, latB)
	return az, nil
}

// Densify returns the vertices of the pixel path with extra vertices where t is not linear, so that the lon/lat path follows the image's straight edge to within tol pixels.
//
// For a linear t it returns a copy of pts. Otherwise each edge is split in two,
// recursively (at most 2^10 pieces an edge), while the image under t of the
// pixel edge strays more than tolPx pixels from the straight lon/lat chord
// between the images of its ends. The stray is tested at a quarter, half and
// three quarters of the edge, and measured perpendicular to the chord, in
// pixels through the local scale of t (its Jacobian, by central differences):
// t's Inverse is not used, because a fitted inverse is not exactly the inverse
// of Forward and its own misfit would swamp a tolerance of a fraction of a
// pixel. Errors: ErrInvalid for tolPx not a positive number or a pixel
// position that is not a number; the transform's errors (ErrOutOfRange).
func Densify(t Transformer, pts [][2]float64, tolPx float64) ([][2]float64, error) {
	return densify(t, pts, tolPx, nil)
}

// densify is Densify; when vertices is not nil it is set to the index in the path
// returned of each of pts.
func densify(t Transformer, pts [][2]float64, tolPx float64, vertices *[]int) ([][2]float64, error) {
	if !(tolPx > 0) || math.IsInf(tolPx, 0) {
		return nil, errorf(ErrInvalid, "", "the densifying tolerance must be a positive number of pixels, not %g", tolPx)
	}
	if err := checkPixels(pts); err != nil {
		return nil, err
	}
	out := append([][2]float64(nil), pts...)
	if t.Linear() || len(pts) < 2 {
		if vertices != nil {
			*vertices = make([]int, len(pts))
			for i := range pts {
				(*vertices)[i] = i
			}
		}
		return out, nil
	}
	d := densifier{t: t, tol: tolPx, out: [][2]float64{pts[0]}}
	if vertices != nil {
		*vertices = append(make([]int, 0, len(pts)), 0)
	}
	la, err := d.forward(pts[0])
	if err != nil {
		return nil, err
	}
	for _, b := range pts[1:] {
		lb, err := d.forward(b)
		if err != nil {
			return nil, err
		}
		if err := d.edge(d.out[len(d.out)-1], la, b, lb, 0); err != nil {
			return nil, err
		}
		d.out = append(d.out, b)
		if vertices != nil {
			*vertices = append(*vertices, len(d.out)-1)
		}
		la = lb
	}
	return d.out, nil
}

type densifier struct {
	t   Transformer
	tol float64
	out [][2]float64
}

func (d *densifier) forward(p [2]float64) ([2]float64, error) {
	lon, lat, err := d.t.Forward(p[0], p[1])
	return [2]float64{lon, lat}, err
}

// edge appends the vertices strictly between a and b (with places la and lb).
func (d *densifier) edge(a, la, b, lb [2]float64, depth int) error {
	if depth >= maxDensifyDepth || a == b {
		return nil
	}
	at := func(s float64) [2]float64 { return [2]float64{a[0] + s*(b[0]-a[0]), a[1] + s*(b[1]-a[1])} }
	m := at(0.5)
	lm, err := d.forward(m)
	if err != nil {
		return err
	}
	length := math.Hypot(b[0]-a[0], b[1]-a[1])
	j, err := lonLatJacobian(d.t, m[0], m[1], math.Max(1e-3*length, 1e-6))
	if err != nil {
		return err
	}
	dLon := remainder(lb[0]-la[0], 360)
	// The chord's direction in pixels.
	cx, cy, ok := j.pixelOffset(dLon, lb[1]-la[1])
	chord := math.Hypot(cx, cy)
	split := !ok || chord == 0
	for _, s := range []float64{0.25, 0.5, 0.75} {
		if split {
			break
		}
		ls := lm
		if s != 0.5 {
			if ls, err = d.forward(at(s)); err != nil {
				return err
			}
		}
		// Offset of the curve from the chord, in pixels, across the chord.
		ox, oy, ok := j.pixelOffset(remainder(ls[0]-(la[0]+s*dLon), 360), ls[1]-(la[1]+s*(lb[1]-la[1])))
		split = !ok || math.Abs(ox*cy-oy*cx)/chord > d.tol
	}
	if !split {
		return nil
	}
	if err := d.edge(a, la, m, lm, depth+1); err != nil {
		return err
	}
	d.out = append(d.out, m)
	return d.edge(m, lm, b, lb, depth+1)
}

// densifiedLonLat densifies the pixel path to measureTolerancePx and maps it
// to lon/lat.
func densifiedLonLat(t Transformer, pts [][2]float64) ([][2]float64, error) {
	return densifiedLonLatAt(t, pts, nil)
}

// densifiedLonLatAt is densifiedLonLat, setting vertices as densify does.
func densifiedLonLatAt(t Transformer, pts [][2]float64, vertices *[]int) ([][2]float64, error) {
	path, err := densify(t, pts, measureTolerancePx, vertices)
	if err != nil {
		return nil, err
	}
	lonlat := make([][2]float64, len(path))
	for i, p := range path {
		lon, lat, err := t.Forward(p[0], p[1])
		if err != nil {
			return nil, err
		}
		lonlat[i] = [2]float64{lon, lat}
	}
	return lonlat, nil
}

func checkPixels(pts [][2]float64) error {
	for i, p := range pts {
		if !finite(p[0]) || !finite(p[1]) {
			return errorf(ErrInvalid, "", "point %d: the pixel position is not a number", i+1)
		}
	}
	return nil
}

// jacobian is the derivative of a pixel → lon/lat transform at a point:
// ∂lon/∂x, ∂lon/∂y, ∂lat/∂x, ∂lat/∂y, in degrees per pixel.
type jacobian [4]float64

// lonLatJacobian estimates t's Jacobian at (x, y) by central differences with
// step h pixels (exact for polynomials of order 2 or less).
func lonLatJacobian(t Transformer, x, y, h float64) (jacobian, error) {
	var ll [4][2]float64
	for i, p := range [4][2]float64{{x + h, y}, {x - h, y}, {x, y + h}, {x, y - h}} {
		lon, lat, err := t.Forward(p[0], p[1])
		if err != nil {
			return jacobian{}, err
		}
		ll[i] = [2]float64{lon, lat}
	}
	return jacobian{
		remainder(ll[0][0]-ll[1][0], 360) / (2 * h),
		remainder(ll[2][0]-ll[3][0], 360) / (2 * h),
		(ll[0][1] - ll[1][1]) / (2 * h),
		(ll[2][1] - ll[3][1]) / (2 * h),
	}, nil
}

// pixelOffset returns the pixel offset that moves the place by (dLon, dLat)
// degrees to first order; ok is false where the transform is singular.
func (j jacobian) pixelOffset(dLon, dLat float64) (dx, dy float64, ok bool) {
	det := j[0]*j[3] - j[1]*j[2]
	dx = (j[3]*dLon - j[1]*dLat) / det
	dy = (-j[2]*dLon + j[0]*dLat) / det
	return dx, dy, det != 0 && finite(dx) && finite(dy)
}

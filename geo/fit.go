package geo

import (
	"fmt"
	"math"
	"math/cmplx"
)

// Residual is one control point's misfit.
//
// On the ground it is the forward misfit: the fit's forward (pixel → lon/lat)
// applied to the point's pixel, minus the point's lon/lat, in metres east and
// north on the WGS 84 ellipsoid at the point (radii of curvature N·cos φ and M).
//
// In pixels it is the same misfit converted to pixels through the local scale
// of the forward transform (its Jacobian at the point's pixel), with the sign
// of "where the point's lon/lat lies in the image minus the point's pixel":
// DX, DY = −J⁻¹·(forward(pixel) − lonlat). For similarity and affine fits that
// is exactly the algebraic inverse of the forward fit applied to the point's
// lon/lat, minus its pixel. This is the definition that reproduces the table of
// standards.md §3.5 (G1: 0.527 px); the separately fitted reverse model
// (gdaltransform -i) would give 0.528 px there, and for a transform that is not
// affine it would mix the reverse model's own misfit into the residual.
type Residual struct {
	DX     float64 `json:"dx_px"`
	DY     float64 `json:"dy_px"`
	Pixels float64 `json:"px"`
	DE     float64 `json:"de_m"`
	DN     float64 `json:"dn_m"`
	Metres float64 `json:"m"`
}

// Fit is a transform fitted to control points, with how well it fits them. It implements Transformer.
//
// Orders 1 and 2 (Affine, Polynomial2) and the thin-plate spline (TPS) are GDAL's
// GCP transformers (gdaltransform -order 1, -order 2, -tps) in lon/lat degrees:
// least-squares polynomials (or a spline through every point) fitted separately
// in each direction, so Inverse is GDAL's reverse model, not the algebraic
// inverse of Forward. Similarity and Projective are fitted the same way, each
// direction by least squares, in a local east/north frame in metres centred on
// the control points, so that "similar" means similar on the ground.
//
// Longitudes returned by Forward are in [−180, 180]; a fit whose control points
// straddle the antimeridian is made in continuous longitudes. A Fit decoded from
// JSON has no model: fit it again with FitControlPoints(f.Kind, f.Points). A Fit
// is safe for concurrent use.
type Fit struct {
	Kind            TransformKind  `json:"transform"`
	Points          []ControlPoint `json:"gcps"`
	Residuals       []Residual     `json:"residuals"`
	RMSPixels       float64        `json:"rms_px"`        // sqrt(Σd²/n)
	RMSMetres       float64        `json:"rms_m"`         // sqrt(Σd²/n)
	MeanErrorPixels float64        `json:"mean_error_px"` // QGIS: sqrt(Σd²/(n − minimum)), 0 when n equals the minimum
	MeanErrorMetres float64        `json:"mean_error_m"`

	forward mapping // pixel → ground coordinates of frame
	inverse mapping // ground coordinates of frame → pixel
	frame   groundFrame
}

// mapping is one direction of a fitted model. ok is false where the model has
// no finite value (a projective transform's horizon).
type mapping interface {
	apply(x, y float64) (u, v float64, ok bool)
}

// Limits for refusing fits. A fit is refused as ill-conditioned when the points
// are within these distances of each other, when the thinner side of their
// spread is less than minThickness of the longer, or when the reciprocal
// condition number of a linear system is below minRcond.
const (
	samePixel    = 1e-6 // pixels
	samePlace    = 1e-9 // degrees (0.1 mm)
	minThickness = 1e-3
	minRcond     = 1e-10
)

// FitControlPoints fits a transform of the given kind to the control points.
//
// Errors (all *Error): ErrInvalid for an unknown kind (field "transform") or a
// pixel position that is not a finite number (field "gcps[i].pixel");
// ErrOutOfRange for a lon/lat outside ±180°/±90° or not finite (field
// "gcps[i].lonlat"); ErrTooFewPoints with fewer points than kind.MinimumPoints()
// (field "gcps"); ErrIllConditioned (field "gcps") when the points do not
// determine the transform: two points at the same pixel or the same place, all
// points on one line (except for a similarity), or a linear system too
// ill-conditioned to give a meaningful result. Field indexes i count from 0, as
// in a JSON path; messages count points from 1 ("control points 2 and 4"), as an
// editor would number them. A returned Fit holds only finite numbers.
func FitControlPoints(kind TransformKind, points []ControlPoint) (*Fit, error) {
	minimum := kind.MinimumPoints()
	if minimum == 0 {
		return nil, errorf(ErrInvalid, "transform", "unknown transform %q; use one of similarity, affine, polynomial2, projective, tps", string(kind))
	}
	if len(points) < minimum {
		return nil, errorf(ErrTooFewPoints, "gcps", "%s needs at least %d control points; %d given", kind.article(), minimum, len(points))
	}
	for i, p := range points {
		if !finite(p.Pixel[0]) || !finite(p.Pixel[1]) {
			return nil, errorf(ErrInvalid, fmt.Sprintf("gcps[%d].pixel", i), "control point %d: the pixel position is not a finite number", i+1)
		}
		lon, lat := p.LonLat[0], p.LonLat[1]
		if !finite(lon) || !finite(lat) || math.Abs(lon) > 180 || math.Abs(lat) > 90 {
			return nil, errorf(ErrOutOfRange, fmt.Sprintf("gcps[%d].lonlat", i), "control point %d: longitude must be within ±180° and latitude within ±90°", i+1)
		}
	}

	pixels := make([][2]float64, len(points))
	ground := make([][2]float64, len(points)) // lon/lat, longitudes made continuous
	for i, p := range points {
		pixels[i] = p.Pixel
		ground[i] = p.LonLat
	}
	unwrapLongitudes(ground)
	if err := checkGeometry(kind, pixels, ground); err != nil {
		return nil, err
	}

	f := &Fit{Kind: kind, Points: append([]ControlPoint(nil), points...)}
	f.frame = newGroundFrame(kind, ground)
	if f.frame.metric && f.frame.kE < 1e-9*f.frame.kN {
		return nil, errorf(ErrIllConditioned, "gcps", "the control points are at a pole")
	}
	model := make([][2]float64, len(points))
	for i, g := range ground {
		model[i][0], model[i][1] = f.frame.fromLonLat(g[0], g[1])
	}

	var ok bool
	switch kind {
	case Similarity:
		f.forward, f.inverse, ok = fitSimilarity(pixels, model)
	case Affine, Polynomial2:
		order := 1
		if kind == Polynomial2 {
			order = 2
		}
		var fwd, inv *polynomial
		fwd, ok = fitPolynomial(order, pixels, model)
		if ok {
			inv, ok = fitPolynomial(order, model, pixels)
		}
		f.forward, f.inverse = fwd, inv
	case Projective:
		var fwd, inv *homography
		fwd, ok = fitHomography(pixels, model)
		if ok {
			inv, ok = fitHomography(model, pixels)
		}
		f.forward, f.inverse = fwd, inv
	case TPS:
		var fwd, inv *thinPlateSpline
		fwd, ok = fitThinPlateSpline(pixels, model)
		if ok {
			inv, ok = fitThinPlateSpline(model, pixels)
		}
		f.forward, f.inverse = fwd, inv
	}
	if !ok {
		return nil, errorf(ErrIllConditioned, "gcps", "%s", kind.singularMessage())
	}
	if err := f.computeResiduals(minimum); err != nil {
		return nil, err
	}
	return f, nil
}

// computeResiduals fills Residuals, RMS and mean errors, and refuses a fit whose
// models cannot map its own control points.
func (f *Fit) computeResiduals(minimum int) error {
	n := len(f.Points)
	pixels := make([][2]float64, n)
	for i, p := range f.Points {
		pixels[i] = p.Pixel
	}
	step := 1e-3 * normalise(pixels).scale
	f.Residuals = make([]Residual, n)
	var sumPx, sumM float64
	for i, p := range f.Points {
		lon, lat, err := f.Forward(p.Pixel[0], p.Pixel[1])
		if err != nil {
			return f.inconsistent()
		}
		if _, _, err := f.Inverse(p.LonLat[0], p.LonLat[1]); err != nil {
			return f.inconsistent()
		}
		var r Residual
		r.DE, r.DN = groundOffset(p.LonLat[0], p.LonLat[1], lon, lat)
		r.Metres = math.Hypot(r.DE, r.DN)
		// The forward misfit in pixels through the local scale, signed as
		// "where the point's lon/lat lies in the image minus its pixel".
		j, err := lonLatJacobian(f, p.Pixel[0], p.Pixel[1], step)
		if err != nil {
			return f.inconsistent()
		}
		dx, dy, ok := j.pixelOffset(math.Remainder(lon-p.LonLat[0], 360), lat-p.LonLat[1])
		if !ok {
			return f.inconsistent()
		}
		r.DX, r.DY = -dx, -dy
		r.Pixels = math.Hypot(r.DX, r.DY)
		f.Residuals[i] = r
		sumPx += r.DX*r.DX + r.DY*r.DY
		sumM += r.DE*r.DE + r.DN*r.DN
	}
	f.RMSPixels = math.Sqrt(sumPx / float64(n))
	f.RMSMetres = math.Sqrt(sumM / float64(n))
	if n > minimum {
		f.MeanErrorPixels = math.Sqrt(sumPx / float64(n-minimum))
		f.MeanErrorMetres = math.Sqrt(sumM / float64(n-minimum))
	}
	if !finite(f.RMSPixels) || !finite(f.RMSMetres) || !finite(f.MeanErrorPixels) || !finite(f.MeanErrorMetres) {
		return f.inconsistent()
	}
	return nil
}

func (f *Fit) inconsistent() error {
	if f.Kind == Projective {
		return errorf(ErrIllConditioned, "gcps", "the control points are inconsistent with a projective transform (its horizon falls among them); check them for mistakes")
	}
	return errorf(ErrIllConditioned, "gcps", "the control points are too inconsistent for %s; check them for mistakes", f.Kind.article())
}

// groundOffset converts the lon/lat difference (lon, lat) − (lon0, lat0) to
// metres east and north on the WGS 84 ellipsoid at latitude lat0.
func groundOffset(lon0, lat0, lon, lat float64) (east, north float64) {
	perDegreeEast, perDegreeNorth := metresPerDegree(lat0)
	return math.Remainder(lon-lon0, 360) * perDegreeEast, (lat - lat0) * perDegreeNorth
}

// metresPerDegree returns the lengths on the WGS 84 ellipsoid of a degree of
// longitude (N·cos φ·π/180) and of latitude (M·π/180) at latitude lat.
func metresPerDegree(lat float64) (east, north float64) {
	s, c := math.Sincos(lat * math.Pi / 180)
	e2 := geodF * (2 - geodF)
	w := 1 - e2*s*s
	n := geodA / math.Sqrt(w)
	m := geodA * (1 - e2) / (w * math.Sqrt(w))
	return n * c * math.Pi / 180, m * math.Pi / 180
}

// Forward maps a pixel position to longitude and latitude. Errors: ErrOutOfRange
// for a position that is not finite, on or beyond a projective transform's
// horizon, or mapped beyond a pole.
func (f *Fit) Forward(x, y float64) (lon, lat float64, err error) {
	if f.forward == nil {
		return 0, 0, errorf(ErrInvalid, "", "the fit has no model; make it with FitControlPoints")
	}
	if !finite(x) || !finite(y) {
		return 0, 0, errorf(ErrOutOfRange, "", "pixel position (%g, %g) is not a number", x, y)
	}
	u, v, ok := f.forward.apply(x, y)
	if !ok {
		return 0, 0, errorf(ErrOutOfRange, "", "pixel (%g, %g) is on or beyond the horizon of the projective transform", x, y)
	}
	lon, lat = f.frame.toLonLat(u, v)
	if !finite(lon) || !finite(lat) || math.Abs(lat) > 90 || math.Abs(lon-f.frame.lon0) > 180 {
		return 0, 0, errorf(ErrOutOfRange, "", "pixel (%g, %g) maps to no place on the earth with this %s transform", x, y, f.Kind)
	}
	return wrapLongitude(lon), lat, nil
}

// Inverse maps a longitude and latitude to a pixel position with the fit's
// reverse model. Longitudes may be given in any range. Errors: ErrOutOfRange for
// a latitude beyond ±90°, a position that is not finite, or one on or beyond a
// projective transform's horizon.
func (f *Fit) Inverse(lon, lat float64) (x, y float64, err error) {
	if f.inverse == nil {
		return 0, 0, errorf(ErrInvalid, "", "the fit has no model; make it with FitControlPoints")
	}
	if !finite(lon) || !finite(lat) || math.Abs(lat) > 90 {
		return 0, 0, errorf(ErrOutOfRange, "", "longitude %g, latitude %g is not a place on the earth", lon, lat)
	}
	if d := lon - f.frame.lon0; math.Abs(d) > 180 {
		lon = f.frame.lon0 + math.Remainder(d, 360)
	}
	u, v := f.frame.fromLonLat(lon, lat)
	x, y, ok := f.inverse.apply(u, v)
	if !ok || !finite(x) || !finite(y) {
		return 0, 0, errorf(ErrOutOfRange, "", "longitude %g, latitude %g is on or beyond the horizon of the projective transform", lon, lat)
	}
	return x, y, nil
}

// Linear reports whether the fit is affine in lon/lat (similarity and affine).
func (f *Fit) Linear() bool { return f.Kind == Similarity || f.Kind == Affine }

// GeoTransform returns the fit as a GDAL geotransform in EPSG:4326 when it is affine (similarity, affine), else false.
//
// GT[0] is normalised to [−180, 180); the other terms are exact, so pixels past
// the antimeridian map to longitudes beyond 180°.
func (f *Fit) GeoTransform() (GeoTransform, bool) {
	p, ok := f.forward.(*polynomial)
	if !ok || p.order != 1 || !f.Linear() {
		return GeoTransform{}, false
	}
	// In model units: u = cu + u0 + (u1·(x − cx) + u2·(y − cy))/s, and the
	// frame maps u, v to lon, lat by an affine map per axis.
	kE, kN := 1.0, 1.0
	if f.frame.metric {
		kE, kN = f.frame.kE, f.frame.kN
	}
	u0 := p.cu + p.u[0] - (p.u[1]*p.cx+p.u[2]*p.cy)/p.scale
	v0 := p.cv + p.v[0] - (p.v[1]*p.cx+p.v[2]*p.cy)/p.scale
	gt := GeoTransform{
		u0 / kE, p.u[1] / p.scale / kE, p.u[2] / p.scale / kE,
		v0 / kN, p.v[1] / p.scale / kN, p.v[2] / p.scale / kN,
	}
	if f.frame.metric {
		gt[0] += f.frame.lon0
		gt[3] += f.frame.lat0
	}
	if gt[0] >= 180 {
		gt[0] -= 360
	}
	return gt, true
}

// article names the transform for messages: "an affine transform".
func (k TransformKind) article() string {
	switch k {
	case Similarity:
		return "a similarity transform"
	case Affine:
		return "an affine transform"
	case Polynomial2:
		return "a second-order polynomial transform"
	case Projective:
		return "a projective transform"
	case TPS:
		return "a thin-plate spline"
	}
	return "a " + string(k) + " transform"
}

func (k TransformKind) singularMessage() string {
	switch k {
	case Polynomial2:
		return "the control points do not determine a second-order polynomial (they lie on one curve, such as a circle or two lines); add points elsewhere in the image"
	case Projective:
		return "the control points do not determine a projective transform; make sure no three of them lie on one line"
	case TPS:
		return "some control points are too close together for a thin-plate spline; remove or move them"
	}
	return "the control points do not determine " + k.article() + "; spread them over the image"
}

// checkGeometry refuses duplicate points and (except for a similarity) points
// on one line, in the image or on the ground.
func checkGeometry(kind TransformKind, pixels, ground [][2]float64) error {
	for i := range pixels {
		for j := i + 1; j < len(pixels); j++ {
			if math.Abs(pixels[i][0]-pixels[j][0]) <= samePixel && math.Abs(pixels[i][1]-pixels[j][1]) <= samePixel {
				return errorf(ErrIllConditioned, "gcps", "control points %d and %d are at the same pixel", i+1, j+1)
			}
			if math.Abs(ground[i][0]-ground[j][0]) <= samePlace && math.Abs(ground[i][1]-ground[j][1]) <= samePlace {
				return errorf(ErrIllConditioned, "gcps", "control points %d and %d are at the same place on the ground", i+1, j+1)
			}
		}
	}
	if kind == Similarity {
		return nil
	}
	if kind == Projective && len(pixels) == 4 {
		if err := checkNoThreeOnALine(pixels, 1, "in the image"); err != nil {
			return err
		}
	}
	if thickness(pixels, 1) < minThickness {
		return errorf(ErrIllConditioned, "gcps", "the control points lie on one line in the image (or nearly); add points away from that line")
	}
	// On the ground, measure in a frame with equal east and north scales.
	var lat float64
	for _, g := range ground {
		lat += g[1]
	}
	east, north := metresPerDegree(lat / float64(len(ground)))
	if thickness(ground, east/north) < minThickness {
		return errorf(ErrIllConditioned, "gcps", "the control points lie on one line on the ground (or nearly); add points away from that line")
	}
	if kind == Projective && len(ground) == 4 {
		if err := checkNoThreeOnALine(ground, east/north, "on the ground"); err != nil {
			return err
		}
	}
	// GDAL's spline falls back to interpolating along a line for such sets; refuse
	// them rather than silently differ from it.
	if kind == TPS && (gdalOneDimensional(pixels) || gdalOneDimensional(ground)) {
		return errorf(ErrIllConditioned, "gcps", "the control points lie nearly on one line; add points away from that line")
	}
	return nil
}

// checkNoThreeOnALine refuses four points of which three lie on one line (x
// multiplied by xScale), which leave a projective transform undetermined.
func checkNoThreeOnALine(pts [][2]float64, xScale float64, where string) error {
	for i := 0; i < 4; i++ {
		for j := i + 1; j < 4; j++ {
			for k := j + 1; k < 4; k++ {
				if thickness([][2]float64{pts[i], pts[j], pts[k]}, xScale) < minThickness {
					return errorf(ErrIllConditioned, "gcps", "control points %d, %d and %d lie on one line %s; a projective transform through four points needs no three on one line", i+1, j+1, k+1, where)
				}
			}
		}
	}
	return nil
}

// thickness is the ratio of the smaller to the larger standard deviation of
// the points along their principal axes, x being multiplied by xScale: 0 for
// points on one line, 1 for a round cloud.
func thickness(pts [][2]float64, xScale float64) float64 {
	var mx, my float64
	for _, p := range pts {
		mx += p[0] * xScale
		my += p[1]
	}
	n := float64(len(pts))
	mx, my = mx/n, my/n
	var sxx, syy, sxy float64
	for _, p := range pts {
		dx, dy := p[0]*xScale-mx, p[1]-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	// Eigenvalues of the 2×2 covariance matrix.
	mean := (sxx + syy) / 2
	d := math.Hypot((sxx-syy)/2, sxy)
	large, small := mean+d, math.Max(mean-d, 0)
	if large <= 0 {
		return 0
	}
	return math.Sqrt(small / large)
}

// gdalOneDimensional is the test by which GDAL's thin-plate spline
// (VizGeorefSpline2D::solve) treats points as lying on a line.
func gdalOneDimensional(pts [][2]float64) bool {
	xmin, xmax, ymin, ymax := pts[0][0], pts[0][0], pts[0][1], pts[0][1]
	var sumx, sumy, sumx2, sumy2, sumxy float64
	for _, p := range pts {
		xmin, xmax = math.Min(xmin, p[0]), math.Max(xmax, p[0])
		ymin, ymax = math.Min(ymin, p[1]), math.Max(ymax, p[1])
		sumx += p[0]
		sumy += p[1]
		sumx2 += p[0] * p[0]
		sumy2 += p[1] * p[1]
		sumxy += p[0] * p[1]
	}
	n := float64(len(pts))
	delx, dely := xmax-xmin, ymax-ymin
	ssxx := sumx2 - sumx*sumx/n
	ssyy := sumy2 - sumy*sumy/n
	ssxy := sumxy - sumx*sumy/n
	return ssxx*ssyy == 0 || delx < 0.001*dely || dely < 0.001*delx || math.Abs(ssxy*ssxy/(ssxx*ssyy)) > 0.99
}

// unwrapLongitudes makes the longitudes of points that straddle the
// antimeridian continuous (179.9, −179.9 → 179.9, 180.1) when that brings them
// within 180° of each other.
func unwrapLongitudes(pts [][2]float64) {
	lo, hi := pts[0][0], pts[0][0]
	for _, p := range pts {
		lo, hi = math.Min(lo, p[0]), math.Max(hi, p[0])
	}
	if hi-lo <= 180 {
		return
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		l := p[0]
		if l < 0 {
			l += 360
		}
		lo, hi = math.Min(lo, l), math.Max(hi, l)
	}
	if hi-lo >= 180 {
		return
	}
	for i := range pts {
		if pts[i][0] < 0 {
			pts[i][0] += 360
		}
	}
}

func wrapLongitude(lon float64) float64 {
	if lon > 180 || lon < -180 {
		lon = math.Remainder(lon, 360)
	}
	return lon
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// groundFrame converts lon/lat to the coordinates a model is fitted in: the
// (unwrapped) degrees themselves, or, for similarity and projective, metres east
// and north of the control points' mean position in a local equirectangular
// frame.
type groundFrame struct {
	metric     bool
	lon0, lat0 float64 // mean position of the control points
	kE, kN     float64 // metres per degree east and north at lat0 (metric only)
}

func newGroundFrame(kind TransformKind, ground [][2]float64) groundFrame {
	var f groundFrame
	for _, g := range ground {
		f.lon0 += g[0]
		f.lat0 += g[1]
	}
	f.lon0 /= float64(len(ground))
	f.lat0 /= float64(len(ground))
	if kind == Similarity || kind == Projective {
		f.metric = true
		f.kE, f.kN = metresPerDegree(f.lat0)
	}
	return f
}

func (f groundFrame) fromLonLat(lon, lat float64) (u, v float64) {
	if !f.metric {
		return lon, lat
	}
	return (lon - f.lon0) * f.kE, (lat - f.lat0) * f.kN
}

func (f groundFrame) toLonLat(u, v float64) (lon, lat float64) {
	if !f.metric {
		return u, v
	}
	return f.lon0 + u/f.kE, f.lat0 + v/f.kN
}

// normalisation centres points on their mean and divides by their RMS distance
// from it, so that the systems solved are well scaled.
type normalisation struct{ cx, cy, scale float64 }

func normalise(pts [][2]float64) normalisation {
	var n normalisation
	for _, p := range pts {
		n.cx += p[0]
		n.cy += p[1]
	}
	n.cx /= float64(len(pts))
	n.cy /= float64(len(pts))
	var ss float64
	for _, p := range pts {
		ss += (p[0]-n.cx)*(p[0]-n.cx) + (p[1]-n.cy)*(p[1]-n.cy)
	}
	n.scale = math.Sqrt(ss / float64(len(pts)))
	return n
}

func (n normalisation) apply(x, y float64) (float64, float64) {
	return (x - n.cx) / n.scale, (y - n.cy) / n.scale
}

// polynomial is a polynomial of order 1 or 2 in normalised inputs, with terms
// in GDAL's order 1, x, y, x², xy, y², giving outputs relative to (cu, cv).
type polynomial struct {
	order         int
	cx, cy, scale float64
	cu, cv        float64
	u, v          []float64
}

func polynomialTerms(order int, x, y float64, t []float64) []float64 {
	t = append(t[:0], 1, x, y)
	if order == 2 {
		t = append(t, x*x, x*y, y*y)
	}
	return t
}

func (p *polynomial) apply(x, y float64) (u, v float64, ok bool) {
	var buf [6]float64
	t := polynomialTerms(p.order, (x-p.cx)/p.scale, (y-p.cy)/p.scale, buf[:])
	u, v = p.cu, p.cv
	var du, dv float64
	for i, ti := range t {
		du += p.u[i] * ti
		dv += p.v[i] * ti
	}
	return u + du, v + dv, true
}

// fitPolynomial fits out ≈ P(in) by least squares (exactly when there are as
// many points as terms) the way GDAL's CRS_compute_georef_equations does, step
// for step, so that the result is GDAL's to the last bits: inputs centred on
// their mean, normal equations summed point by point, Gauss-Jordan elimination
// with partial pivoting. The normal equations lose some accuracy (on the
// taveuni7 order-2 vectors GDAL's answer differs from the exact least-squares
// polynomial by up to 3e-9° at points beyond the image), which matching GDAL
// means keeping. Whether the points determine the polynomial is judged
// separately, by the condition number of the scaled design matrix.
func fitPolynomial(order int, in, out [][2]float64) (*polynomial, bool) {
	n := normalise(in)
	p := &polynomial{order: order, cx: n.cx, cy: n.cy, scale: 1}

	// Conditioning, on inputs scaled to unit RMS radius.
	design := make([][]float64, len(in))
	for i := range in {
		x, y := n.apply(in[i][0], in[i][1])
		design[i] = polynomialTerms(order, x, y, nil)
	}
	if _, rcond := solveLeastSquares(design, nil); rcond < minRcond {
		return nil, false
	}

	terms := len(design[0])
	m := make([][]float64, terms)
	for i := range m {
		m[i] = make([]float64, terms)
	}
	a := make([]float64, terms)
	b := make([]float64, terms)
	var t []float64
	if len(in) == terms {
		// exactdet: the square system of the terms at each point.
		for k := range in {
			t = polynomialTerms(order, in[k][0]-n.cx, in[k][1]-n.cy, t)
			copy(m[k], t)
			a[k], b[k] = out[k][0], out[k][1]
		}
	} else {
		// calcls: the normal equations, upper half summed then mirrored.
		for k := range in {
			t = polynomialTerms(order, in[k][0]-n.cx, in[k][1]-n.cy, t)
			for i := 0; i < terms; i++ {
				for j := i; j < terms; j++ {
					m[i][j] += t[i] * t[j]
				}
				a[i] += out[k][0] * t[i]
				b[i] += out[k][1] * t[i]
			}
		}
		for i := 1; i < terms; i++ {
			for j := 0; j < i; j++ {
				m[i][j] = m[j][i]
			}
		}
	}
	if !gaussJordan(m, a, b) {
		return nil, false
	}
	for i := 0; i < terms; i++ {
		a[i] /= m[i][i]
		b[i] /= m[i][i]
	}
	if !allFinite(a) || !allFinite(b) {
		return nil, false
	}
	p.u, p.v = a, b
	return p, true
}

// gaussJordan reduces m to a diagonal matrix, applying the same row operations
// to a and b (GDAL's solvemat). It is false if a pivot is zero.
func gaussJordan(m [][]float64, a, b []float64) bool {
	n := len(m)
	for i := 0; i < n; i++ {
		pivot, mark := m[i][i], i
		for i2 := i + 1; i2 < n; i2++ {
			if math.Abs(m[i2][i]) > math.Abs(pivot) {
				pivot, mark = m[i2][i], i2
			}
		}
		if pivot == 0 {
			return false
		}
		if mark != i {
			m[mark], m[i] = m[i], m[mark]
			a[mark], a[i] = a[i], a[mark]
			b[mark], b[i] = b[i], b[mark]
		}
		for i2 := 0; i2 < n; i2++ {
			if i2 == i {
				continue
			}
			factor := m[i2][i] / pivot
			for j2 := i; j2 < n; j2++ {
				m[i2][j2] -= factor * m[i][j2]
			}
			a[i2] -= factor * a[i]
			b[i2] -= factor * b[i]
		}
	}
	return true
}

// fitSimilarity fits the forward and reverse similarities (Helmert transforms)
// by least squares, in closed form with complex numbers. The image's y axis
// points down, so pixel (x, y) is taken as x − iy: an image that is not mirrored
// maps to the ground by a rotation and a scale.
func fitSimilarity(pixels, model [][2]float64) (fwd, inv *polynomial, ok bool) {
	n := normalise(pixels)
	var mu, mv float64
	for _, m := range model {
		mu += m[0]
		mv += m[1]
	}
	mu /= float64(len(model))
	mv /= float64(len(model))
	var zw, zz, ww complex128
	var wz complex128
	for i := range pixels {
		z := complex(pixels[i][0]-n.cx, -(pixels[i][1] - n.cy))
		w := complex(model[i][0]-mu, model[i][1]-mv)
		zw += cmplx.Conj(z) * w
		wz += cmplx.Conj(w) * z
		zz += cmplx.Conj(z) * z
		ww += cmplx.Conj(w) * w
	}
	if real(zz) == 0 || real(ww) == 0 {
		return nil, nil, false
	}
	a := zw / zz // w = a·z
	b := wz / ww // z = b·w
	ar, ai := real(a), imag(a)
	br, bi := real(b), imag(b)
	// w = a·z with z = dx − i·dy: u = ar·dx + ai·dy, v = ai·dx − ar·dy.
	fwd = &polynomial{order: 1, cx: n.cx, cy: n.cy, scale: 1, cu: mu, cv: mv,
		u: []float64{0, ar, ai}, v: []float64{0, ai, -ar}}
	// z = b·w: dx = br·u − bi·v, −dy = bi·u + br·v.
	inv = &polynomial{order: 1, cx: mu, cy: mv, scale: 1, cu: n.cx, cv: n.cy,
		u: []float64{0, br, -bi}, v: []float64{0, -bi, -br}}
	ok = allFinite(fwd.u) && allFinite(fwd.v) && allFinite(inv.u) && allFinite(inv.v)
	return fwd, inv, ok
}

// homography is a projective transform between normalised inputs and outputs:
// u = (h0·x + h1·y + h2)/w, v = (h3·x + h4·y + h5)/w, w = h6·x + h7·y + 1.
type homography struct {
	in, out normalisation
	h       [8]float64
}

// minHorizonW: points where w falls below this are treated as on or beyond
// the horizon (w = 1 at the control points' centroid).
const minHorizonW = 1e-9

func (m *homography) apply(x, y float64) (u, v float64, ok bool) {
	x, y = m.in.apply(x, y)
	h := &m.h
	w := h[6]*x + h[7]*y + 1
	if !(w > minHorizonW) {
		return 0, 0, false
	}
	u = (h[0]*x + h[1]*y + h[2]) / w
	v = (h[3]*x + h[4]*y + h[5]) / w
	return m.out.cx + u*m.out.scale, m.out.cy + v*m.out.scale, true
}

// fitHomography fits out ≈ H(in) by linear least squares on the normalised
// direct linear transform (Hartley's normalisation, h8 fixed at 1, which the
// centring makes safe: the centroid maps to a finite point). This minimises the
// algebraic error, as QGIS's projective georeferencer does.
func fitHomography(in, out [][2]float64) (*homography, bool) {
	m := &homography{in: normalise(in), out: normalise(out)}
	a := make([][]float64, 0, 2*len(in))
	b := make([]float64, 0, 2*len(in))
	for i := range in {
		x, y := m.in.apply(in[i][0], in[i][1])
		u, v := m.out.apply(out[i][0], out[i][1])
		a = append(a,
			[]float64{x, y, 1, 0, 0, 0, -u * x, -u * y},
			[]float64{0, 0, 0, x, y, 1, -v * x, -v * y})
		b = append(b, u, v)
	}
	sol, rcond := solveLeastSquares(a, [][]float64{b})
	if sol == nil || rcond < minRcond || !allFinite(sol[0]) {
		return nil, false
	}
	copy(m.h[:], sol[0])
	return m, true
}

// thinPlateSpline interpolates exactly through its control points, as GDAL's
// VizGeorefSpline2D: f(p) = a0 + a1·x + a2·y + Σ wᵢ·U(|p − pᵢ|), U(r) = r²·ln r²,
// with Σwᵢ = Σwᵢxᵢ = Σwᵢyᵢ = 0, in normalised inputs (the interpolant does not
// depend on the normalisation, which only improves the conditioning).
type thinPlateSpline struct {
	in     normalisation
	x, y   []float64 // normalised control positions
	cu, cv float64
	au, av [3]float64
	wu, wv []float64
}

func tpsKernel(dx, dy float64) float64 {
	r2 := dx*dx + dy*dy
	if r2 == 0 {
		return 0
	}
	return r2 * math.Log(r2)
}

func (s *thinPlateSpline) apply(x, y float64) (u, v float64, ok bool) {
	x, y = s.in.apply(x, y)
	u = s.au[0] + s.au[1]*x + s.au[2]*y
	v = s.av[0] + s.av[1]*x + s.av[2]*y
	for i := range s.x {
		k := tpsKernel(x-s.x[i], y-s.y[i])
		u += s.wu[i] * k
		v += s.wv[i] * k
	}
	return s.cu + u, s.cv + v, true
}

func fitThinPlateSpline(in, out [][2]float64) (*thinPlateSpline, bool) {
	n := len(in)
	s := &thinPlateSpline{in: normalise(in), x: make([]float64, n), y: make([]float64, n)}
	nOut := normalise(out)
	s.cu, s.cv = nOut.cx, nOut.cy
	for i := range in {
		s.x[i], s.y[i] = s.in.apply(in[i][0], in[i][1])
	}
	size := n + 3
	a := make([][]float64, size)
	bu := make([]float64, size)
	bv := make([]float64, size)
	for i := range a {
		a[i] = make([]float64, size)
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			k := tpsKernel(s.x[i]-s.x[j], s.y[i]-s.y[j])
			a[i][j], a[j][i] = k, k
		}
		a[i][n], a[i][n+1], a[i][n+2] = 1, s.x[i], s.y[i]
		a[n][i], a[n+1][i], a[n+2][i] = 1, s.x[i], s.y[i]
		bu[i] = out[i][0] - s.cu
		bv[i] = out[i][1] - s.cv
	}
	sol, rcond := solveLeastSquares(a, [][]float64{bu, bv})
	if sol == nil || rcond < minRcond || !allFinite(sol[0]) || !allFinite(sol[1]) {
		return nil, false
	}
	s.wu, s.wv = sol[0][:n], sol[1][:n]
	copy(s.au[:], sol[0][n:])
	copy(s.av[:], sol[1][n:])
	return s, true
}

func allFinite(v []float64) bool {
	for _, x := range v {
		if !finite(x) {
			return false
		}
	}
	return true
}

// solveLeastSquares returns, for each right-hand side b in rhs, the x that
// minimises |A·x − b| (A has m ≥ n rows of n columns; a square A gives the
// solution of A·x = b). It uses Householder QR on A with its columns scaled to
// unit length, and returns rcond = min|Rᵢᵢ| / max|Rᵢᵢ|, an estimate of the
// reciprocal condition number of the scaled A; x is nil if A is singular.
func solveLeastSquares(a [][]float64, rhs [][]float64) (x [][]float64, rcond float64) {
	m, n := len(a), len(a[0])
	if m < n {
		return nil, 0
	}
	// Work on columns, so that the inner loops run over contiguous memory.
	cols := make([][]float64, n)
	colScale := make([]float64, n)
	for j := range cols {
		c := make([]float64, m)
		var s float64
		for i := range c {
			c[i] = a[i][j]
			s = math.Hypot(s, c[i])
		}
		if s == 0 || !finite(s) {
			return nil, 0
		}
		for i := range c {
			c[i] /= s
		}
		cols[j], colScale[j] = c, s
	}
	b := make([][]float64, len(rhs))
	for k := range rhs {
		b[k] = append([]float64(nil), rhs[k]...)
	}
	// reflect applies I − 2vvᵀ/(vᵀv), v = v[k:], to c[k:].
	reflect := func(v, c []float64, k int, vv float64) {
		var dot float64
		for i := k; i < m; i++ {
			dot += v[i] * c[i]
		}
		f := 2 * dot / vv
		for i := k; i < m; i++ {
			c[i] -= f * v[i]
		}
	}
	diag := make([]float64, n)
	for k := 0; k < n; k++ {
		v := cols[k]
		var norm float64
		for i := k; i < m; i++ {
			norm = math.Hypot(norm, v[i])
		}
		if norm == 0 {
			return nil, 0
		}
		alpha := norm
		if v[k] > 0 {
			alpha = -norm
		}
		v[k] -= alpha // v is now the Householder vector, in place
		var vv float64
		for i := k; i < m; i++ {
			vv += v[i] * v[i]
		}
		for j := k + 1; j < n; j++ {
			reflect(v, cols[j], k, vv)
		}
		for _, bk := range b {
			reflect(v, bk, k, vv)
		}
		diag[k] = alpha
	}
	lo, hi := math.Inf(1), 0.0
	for _, d := range diag {
		lo, hi = math.Min(lo, math.Abs(d)), math.Max(hi, math.Abs(d))
	}
	rcond = lo / hi
	if rcond == 0 || !finite(rcond) {
		return nil, 0
	}
	x = make([][]float64, len(b))
	for k, bk := range b {
		xk := make([]float64, n)
		for i := n - 1; i >= 0; i-- {
			s := bk[i]
			for j := i + 1; j < n; j++ {
				s -= cols[j][i] * xk[j] // R[i][j]
			}
			xk[i] = s / diag[i]
		}
		for j := range xk {
			xk[j] /= colScale[j]
		}
		x[k] = xk
	}
	return x, rcond
}

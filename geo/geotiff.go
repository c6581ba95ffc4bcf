package geo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// GeoTIFF is what a TIFF's GeoTIFF tags say about where the image is.
type GeoTIFF struct {
	Grid *Grid // nil when the file has no usable georeference
	// ControlPoints are the tiepoints of a GeoTIFF georeferenced by control points
	// alone (no geotransform), converted to lon/lat, for the caller to pre-fill the
	// editor with; nil otherwise, or when their CRS is not supported.
	ControlPoints []ControlPoint
	Warnings      []string // why not, or what was odd, in words for the user
}

// TIFF and GeoTIFF tags and keys (GeoTIFF 1.1, OGC 19-008r4).
const (
	tagModelPixelScale    = 33550
	tagModelTiepoint      = 33922
	tagModelTransform     = 34264
	tagGeoKeyDirectory    = 34735
	keyModelType          = 1024
	keyRasterType         = 1025
	keyGeographicType     = 2048
	keyGeogAngularUnits   = 2054
	keyProjectedCSType    = 3072
	keyProjLinearUnits    = 3076
	geoKeyUserDefined     = 32767
	modelTypeProjected    = 1
	modelTypeGeographic   = 2
	modelTypeGeocentric   = 3
	rasterPixelIsArea     = 1
	rasterPixelIsPoint    = 2
	tiffTypeShort         = 3
	tiffTypeDouble        = 12
	geoTIFFMaxDoubles     = 1 << 21 // 16 MB of tiepoints: far more control points than anyone places
	tiffMaxDirectoryItems = 1 << 16
)

// ReadGeoTIFF reads the GeoTIFF tags of a TIFF's first image directory (classic TIFF in
// either byte order, or BigTIFF): a geotransform from ModelTransformationTag or from
// ModelTiepointTag with ModelPixelScaleTag, shifted by half a pixel when
// GTRasterTypeGeoKey says PixelIsPoint (the tiepoint names a pixel's centre; GDAL does
// the same), and the CRS from the GeoKey directory. Like GDAL, it reads a negative y
// pixel scale as north-up (with a warning); unlike GDAL, which silently prefers the
// tiepoint, it refuses a transformation matrix that contradicts tiepoint and scale. It fails only for a file that is not
// a readable TIFF (an *Error of Kind ErrInvalid, Field "tiff") or when r fails; missing,
// broken, contradictory or unsupported georeferencing gives Grid == nil and a warning. A
// TIFF without any GeoTIFF tag is simply not a GeoTIFF: Grid == nil and no warning.
//
// A CRS given by user-defined GeoKeys (a projection's parameters, not an EPSG code) leaves
// the image unplaced with a warning here; ReadGeoTIFFFile reads it through GDAL.
func ReadGeoTIFF(r io.ReaderAt, size int64) (GeoTIFF, error) {
	return readGeoTIFF(r, size, nil)
}

func readGeoTIFF(r io.ReaderAt, size int64, userDefined userDefinedCRS) (GeoTIFF, error) {
	dir, err := readTIFFGeoTags(r, size)
	if err != nil {
		return GeoTIFF{}, err
	}
	var g GeoTIFF
	gt, gtOK, controlPoints := g.geoTransform(dir)
	if !gtOK && controlPoints == nil {
		return g, nil
	}
	crs, pixelIsPoint, crsOK := g.crs(dir, userDefined, controlPoints != nil)
	if pixelIsPoint {
		// GDAL writes PixelIsPoint files with the tiepoint at the centre of a pixel and
		// moves it back to the corner when reading (unless GTIFF_POINT_GEO_IGNORE).
		gt[0] -= gt[1]/2 + gt[2]/2
		gt[3] -= gt[4]/2 + gt[5]/2
		for i := range controlPoints {
			controlPoints[i].Pixel[0] += 0.5
			controlPoints[i].Pixel[1] += 0.5
		}
	}
	if controlPoints != nil {
		if len(controlPoints) == 1 {
			g.warn("the GeoTIFF has 1 control point but no geotransform; georeference it in the editor")
		} else {
			g.warn("the GeoTIFF has %d control points but no geotransform; georeference it in the editor", len(controlPoints))
		}
		if crsOK {
			g.ControlPoints = controlPointsToLonLat(&g, crs, controlPoints)
		}
		return g, nil
	}
	if !crsOK {
		return g, nil
	}
	grid := Grid{GeoTransform: gt, CRS: crs}
	if err := grid.Validate(); err != nil {
		g.warn("the GeoTIFF's georeference cannot be used: %v", err)
		return g, nil
	}
	if err := grid.checkPlaced(); err != nil {
		g.warn("the GeoTIFF's georeference cannot be used: %s", geoMessage(err))
		return g, nil
	}
	g.Grid = &grid
	return g, nil
}

func (g *GeoTIFF) warn(format string, args ...any) {
	g.Warnings = append(g.Warnings, fmt.Sprintf(format, args...))
}

// geoTransform reads the geotransform (ok) or, failing that, the control points, from
// the model tags; it explains in a warning when there is neither.
func (g *GeoTIFF) geoTransform(dir tiffGeoTags) (gt GeoTransform, ok bool, controlPoints []ControlPoint) {
	scale, hasScale := dir.doubles(g, tagModelPixelScale, "ModelPixelScaleTag", 3, 3)
	ties, hasTies := dir.doubles(g, tagModelTiepoint, "ModelTiepointTag", 6, geoTIFFMaxDoubles)
	matrix, hasMatrix := dir.doubles(g, tagModelTransform, "ModelTransformationTag", 16, 16)
	if hasTies && len(ties)%6 != 0 {
		g.warn("the GeoTIFF's ModelTiepointTag has %d values, not a multiple of six; it is ignored", len(ties))
		hasTies = false
	}
	for _, v := range append(append(append([]float64{}, scale...), ties...), matrix...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			g.warn("the GeoTIFF's georeference holds a number that is not finite (%v); it is ignored", v)
			return GeoTransform{}, false, nil
		}
	}
	var fromTies GeoTransform
	if hasScale && hasTies {
		if scale[0] == 0 || scale[1] == 0 {
			g.warn("the GeoTIFF's pixel size (ModelPixelScaleTag) is %g × %g: a pixel cannot have no size; the georeference is ignored", scale[0], scale[1])
			return GeoTransform{}, false, nil
		}
		sx, sy := scale[0], scale[1]
		if sy < 0 {
			// Against the GeoTIFF specification, but as GDAL does: such files come from
			// writers that meant north-up.
			g.warn("the GeoTIFF's pixel height (ModelPixelScaleTag) is negative, %g; read as north-up, as GDAL does", sy)
			sy = -sy
		}
		i, j, x, y := ties[0], ties[1], ties[3], ties[4]
		fromTies = GeoTransform{x - i*sx, sx, 0, y + j*sy, 0, -sy}
	}
	switch {
	case hasMatrix:
		gt = GeoTransform{matrix[3], matrix[0], matrix[1], matrix[7], matrix[4], matrix[5]}
		if hasScale && hasTies && !geoTransformsAgree(gt, fromTies) {
			g.warn("the GeoTIFF has both a ModelTransformationTag %v and a tiepoint with a pixel scale %v, and they disagree; the georeference is ignored", gt, fromTies)
			return GeoTransform{}, false, nil
		}
		return gt, true, nil
	case hasScale && hasTies:
		return fromTies, true, nil
	case hasTies:
		controlPoints = make([]ControlPoint, len(ties)/6)
		for k := range controlPoints {
			t := ties[6*k:]
			controlPoints[k] = ControlPoint{Pixel: [2]float64{t[0], t[1]}, LonLat: [2]float64{t[3], t[4]}}
		}
		return GeoTransform{}, false, controlPoints
	case hasScale:
		g.warn("the GeoTIFF has a pixel scale but no tiepoint, so its position is unknown")
	case dir.has(tagGeoKeyDirectory):
		g.warn("the GeoTIFF names a CRS but has no tiepoint, pixel scale or transformation, so its position is unknown")
	}
	return GeoTransform{}, false, nil
}

// geoTransformsAgree compares two geotransforms to a part in 10⁹ of the pixel size and of
// the origin's magnitude.
func geoTransformsAgree(a, b GeoTransform) bool {
	pixel := math.Max(math.Hypot(a[1], a[4]), math.Hypot(a[2], a[5]))
	tol := [6]float64{}
	for _, i := range []int{0, 3} {
		tol[i] = 1e-9 * (math.Abs(a[i]) + pixel)
	}
	for _, i := range []int{1, 2, 4, 5} {
		tol[i] = 1e-9 * pixel
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol[i] {
			return false
		}
	}
	return true
}

// crs reads the CRS and the raster type from the GeoKey directory, a user-defined CRS
// through userDefined (of the control points' when gcps) if it is not nil; ok is false
// (with a warning) when there is no CRS satmark can use.
func (g *GeoTIFF) crs(dir tiffGeoTags, userDefined userDefinedCRS, gcps bool) (crs CRS, pixelIsPoint, ok bool) {
	keys, found := dir.shorts(g, tagGeoKeyDirectory, "GeoKeyDirectoryTag", 4, 4*(1<<16))
	if !found {
		if !dir.has(tagGeoKeyDirectory) {
			g.warn("the GeoTIFF has a georeference but no GeoKeyDirectoryTag, so its CRS is unknown")
		}
		return CRS{}, false, false
	}
	if keys[0] != 1 {
		g.warn("the GeoTIFF's GeoKey directory has version %d, not 1; it cannot be read", keys[0])
		return CRS{}, false, false
	}
	n := int(keys[3])
	if 4*(n+1) > len(keys) {
		g.warn("the GeoTIFF's GeoKey directory says it holds %d keys but has room for %d; it is cut short", n, len(keys)/4-1)
		return CRS{}, false, false
	}
	key := func(id uint16) (v int, present, ok bool) {
		for k := 1; k <= n; k++ {
			e := keys[4*k : 4*k+4]
			if e[0] != id {
				continue
			}
			switch {
			case e[1] == 0 && e[2] == 1:
				return int(e[3]), true, true
			case e[1] == tagGeoKeyDirectory && e[2] == 1 && int(e[3]) < len(keys):
				return int(keys[e[3]]), true, true
			}
			g.warn("the GeoTIFF's GeoKey %d is stored as %d values in tag %d, not as one SHORT; it cannot be read", id, e[2], e[1])
			return 0, true, false
		}
		return 0, false, true
	}
	rasterType, hasRaster, okRaster := key(keyRasterType)
	switch {
	case !okRaster:
	case hasRaster && rasterType == rasterPixelIsPoint:
		pixelIsPoint = true
	case hasRaster && rasterType != rasterPixelIsArea:
		g.warn("the GeoTIFF's raster type (GTRasterTypeGeoKey) is %d, neither PixelIsArea (1) nor PixelIsPoint (2); read as PixelIsArea", rasterType)
	}
	model, hasModel, okModel := key(keyModelType)
	projected, hasProjected, okProjected := key(keyProjectedCSType)
	geographic, hasGeographic, okGeographic := key(keyGeographicType)
	if !okModel || !okProjected || !okGeographic {
		return CRS{}, pixelIsPoint, false
	}
	if !hasModel {
		switch {
		case hasProjected:
			model = modelTypeProjected
		case hasGeographic:
			model = modelTypeGeographic
		}
	}
	switch model {
	case modelTypeProjected:
		if !hasProjected {
			g.warn("the GeoTIFF says it is projected but does not say in which CRS (no ProjectedCSTypeGeoKey)")
			return CRS{}, pixelIsPoint, false
		}
		crs = EPSG(projected)
	case modelTypeGeographic:
		if !hasGeographic {
			g.warn("the GeoTIFF says it is in longitude and latitude but does not say on which datum (no GeographicTypeGeoKey)")
			return CRS{}, pixelIsPoint, false
		}
		crs = EPSG(geographic)
	case modelTypeGeocentric:
		g.warn("the GeoTIFF is in geocentric coordinates, which satmark does not support")
		return CRS{}, pixelIsPoint, false
	default:
		if !hasModel {
			g.warn("the GeoTIFF does not say which CRS it is in (no GTModelTypeGeoKey)")
		} else {
			g.warn("the GeoTIFF's model type (GTModelTypeGeoKey) is %d, which is not a known model type", model)
		}
		return CRS{}, pixelIsPoint, false
	}
	ownUnits := crs.EPSG != geoKeyUserDefined // a user-defined CRS's WKT has the GeoKeys' units
	if crs.EPSG == geoKeyUserDefined {
		if userDefined == nil {
			g.warn("the GeoTIFF's CRS is user-defined (described by parameters, not by an EPSG code), which satmark reads only from the file, through GDAL")
			return CRS{}, pixelIsPoint, false
		}
		var err error
		if crs, err = userDefined(gcps); err != nil {
			g.warn("the GeoTIFF's CRS is user-defined (described by parameters, not by an EPSG code) and cannot be used: %s", geoMessage(err))
			return CRS{}, pixelIsPoint, false
		}
	}
	if err := crs.Valid(); err != nil {
		g.warn("the GeoTIFF's CRS %s cannot be used: %s", crs, geoMessage(err))
		return CRS{}, pixelIsPoint, false
	}
	geographicCRS := crs.Geographic()
	switch {
	case geographicCRS && model == modelTypeProjected:
		g.warn("the GeoTIFF says it is projected, in %s, which is a geographic CRS", crs)
		return CRS{}, pixelIsPoint, false
	case !geographicCRS && model == modelTypeGeographic:
		g.warn("the GeoTIFF says it is in longitude and latitude, in %s, which is a projected CRS", crs)
		return CRS{}, pixelIsPoint, false
	}
	unitKey, kind := uint16(keyProjLinearUnits), "linear"
	if geographicCRS {
		unitKey, kind = keyGeogAngularUnits, "angular"
	}
	if units, has, _ := key(unitKey); ownUnits && has && !unitIs(units, crs.unit()) {
		g.warn("the GeoTIFF's CRS %s has %s units %d, not the CRS's own; it is not supported", crs, kind, units)
		return CRS{}, pixelIsPoint, false
	}
	return crs, pixelIsPoint, true
}

// geoUnits are the EPSG units GeoTIFFs name, in metres or radians per unit.
var geoUnits = map[int]float64{
	9001: 1,             // metre
	9002: 0.3048,        // foot
	9003: 1200.0 / 3937, // US survey foot
	9036: 1000,          // kilometre
	9101: 1,             // radian
	9102: math.Pi / 180, // degree
	9122: math.Pi / 180, // degree (supplier to define representation)
	9105: math.Pi / 200, // grad
}

// unitIs reports whether the GeoTIFF's unit code is the unit of factor (metres or
// radians per unit).
func unitIs(code int, factor float64) bool {
	f, ok := geoUnits[code]
	return ok && math.Abs(f-factor) <= 1e-9*f
}

// geoMessage is an error's message without its field.
func geoMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// controlPointsToLonLat converts tiepoints in crs to lon/lat, or returns nil with a
// warning if one cannot be.
func controlPointsToLonLat(g *GeoTIFF, crs CRS, points []ControlPoint) []ControlPoint {
	for i, p := range points {
		lon, lat, err := crs.ToLonLat(p.LonLat[0], p.LonLat[1])
		if err != nil {
			g.warn("control point %d of the GeoTIFF is not a position in %s: %v", i+1, crs, err)
			return nil
		}
		points[i].LonLat = [2]float64{lon, lat}
	}
	return points
}

// tiffGeoTags are the GeoTIFF entries of a TIFF's first image directory, their values
// not yet read.
type tiffGeoTags struct {
	r       io.ReaderAt
	size    int64
	order   binary.ByteOrder
	entries map[uint16]tiffEntry
}

type tiffEntry struct {
	typ    uint16
	count  uint64
	inline []byte // the entry's value field, holding the values if they fit
	big    bool   // BigTIFF: 8-byte value field and offsets
}

func (d tiffGeoTags) has(tag uint16) bool {
	_, ok := d.entries[tag]
	return ok
}

// data returns the bytes of a tag's values, or a warning saying why they cannot be read.
func (d tiffGeoTags) data(g *GeoTIFF, tag uint16, name string, typ uint16, width, minCount, maxCount uint64) ([]byte, bool) {
	e, ok := d.entries[tag]
	if !ok {
		return nil, false
	}
	if e.typ != typ {
		want := "DOUBLE"
		if typ == tiffTypeShort {
			want = "SHORT"
		}
		g.warn("the GeoTIFF's %s has TIFF type %d instead of %s; it is ignored", name, e.typ, want)
		return nil, false
	}
	if e.count < minCount || e.count > maxCount {
		if minCount == maxCount {
			g.warn("the GeoTIFF's %s has %d values instead of %d; it is ignored", name, e.count, minCount)
		} else {
			g.warn("the GeoTIFF's %s has %d values, outside %d–%d; it is ignored", name, e.count, minCount, maxCount)
		}
		return nil, false
	}
	n := e.count * width
	if n <= uint64(len(e.inline)) {
		return e.inline[:n], true
	}
	var at uint64
	if e.big {
		at = d.order.Uint64(e.inline)
	} else {
		at = uint64(d.order.Uint32(e.inline))
	}
	if at > uint64(d.size) || n > uint64(d.size)-at {
		g.warn("the GeoTIFF's %s points outside the file (the file is cut short or broken); it is ignored", name)
		return nil, false
	}
	buf := make([]byte, n)
	if err := readFullAt(d.r, buf, int64(at)); err != nil {
		g.warn("the GeoTIFF's %s cannot be read: %v", name, err)
		return nil, false
	}
	return buf, true
}

func (d tiffGeoTags) doubles(g *GeoTIFF, tag uint16, name string, minCount, maxCount uint64) ([]float64, bool) {
	b, ok := d.data(g, tag, name, tiffTypeDouble, 8, minCount, maxCount)
	if !ok {
		return nil, false
	}
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(d.order.Uint64(b[8*i:]))
	}
	return v, true
}

func (d tiffGeoTags) shorts(g *GeoTIFF, tag uint16, name string, minCount, maxCount uint64) ([]uint16, bool) {
	b, ok := d.data(g, tag, name, tiffTypeShort, 2, minCount, maxCount)
	if !ok {
		return nil, false
	}
	v := make([]uint16, len(b)/2)
	for i := range v {
		v[i] = d.order.Uint16(b[2*i:])
	}
	return v, true
}

// readTIFFGeoTags finds the GeoTIFF entries of the first image directory. Errors: the
// reader's, or ErrInvalid for a file that is not a TIFF or whose directory is not inside it.
func readTIFFGeoTags(r io.ReaderAt, size int64) (tiffGeoTags, error) {
	notTIFF := func(why string) error {
		return errorf(ErrInvalid, "tiff", "the file is not a readable TIFF: %s", why)
	}
	head := make([]byte, 16)
	if size < 8 {
		return tiffGeoTags{}, notTIFF("it is too short")
	}
	if err := readFullAt(r, head[:min(16, size)], 0); err != nil {
		return tiffGeoTags{}, err
	}
	d := tiffGeoTags{r: r, size: size, entries: map[uint16]tiffEntry{}}
	switch string(head[:2]) {
	case "II":
		d.order = binary.LittleEndian
	case "MM":
		d.order = binary.BigEndian
	default:
		return tiffGeoTags{}, notTIFF("it does not start with II or MM")
	}
	var big bool
	var ifd uint64
	switch d.order.Uint16(head[2:]) {
	case 42:
		ifd = uint64(d.order.Uint32(head[4:]))
	case 43:
		if size < 16 || d.order.Uint16(head[4:]) != 8 || d.order.Uint16(head[6:]) != 0 {
			return tiffGeoTags{}, notTIFF("its BigTIFF header is broken")
		}
		big = true
		ifd = d.order.Uint64(head[8:])
	default:
		return tiffGeoTags{}, notTIFF("its version number is neither 42 (TIFF) nor 43 (BigTIFF)")
	}
	countSize, entrySize, valueSize := uint64(2), uint64(12), 4
	if big {
		countSize, entrySize, valueSize = 8, 20, 8
	}
	if ifd < 8 || ifd > uint64(size) || countSize > uint64(size)-ifd {
		return tiffGeoTags{}, notTIFF("its first image directory is outside the file")
	}
	nb := make([]byte, countSize)
	if err := readFullAt(r, nb, int64(ifd)); err != nil {
		return tiffGeoTags{}, err
	}
	var n uint64
	if big {
		n = d.order.Uint64(nb)
	} else {
		n = uint64(d.order.Uint16(nb))
	}
	if n == 0 || n > tiffMaxDirectoryItems || n*entrySize > uint64(size)-ifd-countSize {
		return tiffGeoTags{}, notTIFF(fmt.Sprintf("its first image directory (%d entries) does not fit in the file", n))
	}
	entries := make([]byte, n*entrySize)
	if err := readFullAt(r, entries, int64(ifd+countSize)); err != nil {
		return tiffGeoTags{}, err
	}
	for i := uint64(0); i < n; i++ {
		e := entries[i*entrySize : (i+1)*entrySize]
		tag := d.order.Uint16(e)
		switch tag {
		case tagModelPixelScale, tagModelTiepoint, tagModelTransform, tagGeoKeyDirectory:
		default:
			continue
		}
		entry := tiffEntry{typ: d.order.Uint16(e[2:]), big: big}
		if big {
			entry.count = d.order.Uint64(e[4:])
		} else {
			entry.count = uint64(d.order.Uint32(e[4:]))
		}
		entry.inline = e[len(e)-valueSize:]
		d.entries[tag] = entry
	}
	return d, nil
}

// readFullAt fills buf from r at off; reaching the end of the input early is an
// ErrInvalid (the file is shorter than its size says).
func readFullAt(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errorf(ErrInvalid, "tiff", "the file ends before its size says it does")
	}
	return err
}

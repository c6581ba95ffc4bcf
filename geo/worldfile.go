package geo

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// ParseWorldFile reads the six lines of a world file (.jgw, .pgw, .tfw, .wld …) into the
// corner-based GDAL geotransform. A world file's lines are A (GT1), D (GT4), B (GT2),
// E (GT5), and C, F: the position of the CENTRE of the top-left pixel, so
// GT0 = C − A/2 − B/2 and GT3 = F − D/2 − E/2. It accepts CRLF line ends, whitespace
// around the numbers, blank lines after the six, and exponents (2.5E-05). Errors are
// *Error of Kind ErrInvalid, Field "worldfile", saying which line is wrong and why: not
// exactly six numbers, a number that is not finite, a pixel of zero width or height, or
// a singular matrix (A·E − B·D = 0). A world file carries no CRS: the caller supplies it
// (from a .prj next to it, see CRSFromWKT, or from the user).
func ParseWorldFile(text string) (GeoTransform, error) {
	lines := strings.Split(strings.TrimPrefix(text, "\ufeff"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	names := [6]string{"A (pixel width)", "D (rotation)", "B (rotation)", "E (pixel height)", "C (x of the top-left pixel's centre)", "F (y of the top-left pixel's centre)"}
	var v [6]float64
	for i, line := range lines {
		if i >= 6 {
			return GeoTransform{}, errorf(ErrInvalid, "worldfile", "line %d: a world file has six lines, one number each; this one has more", i+1)
		}
		field := strings.TrimSpace(line)
		if field == "" {
			return GeoTransform{}, errorf(ErrInvalid, "worldfile", "line %d is empty; it should hold %s", i+1, names[i])
		}
		if strings.ContainsAny(field, " \t,;") {
			return GeoTransform{}, errorf(ErrInvalid, "worldfile", "line %d holds %q: more than one number, where it should hold %s alone", i+1, field, names[i])
		}
		f, err := strconv.ParseFloat(field, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // out of range: judged below as ±Inf or 0
			return GeoTransform{}, errorf(ErrInvalid, "worldfile", "line %d holds %q, which is not a number; it should hold %s", i+1, field, names[i])
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return GeoTransform{}, errorf(ErrInvalid, "worldfile", "line %d holds %q, which is not a finite number; it should hold %s", i+1, field, names[i])
		}
		v[i] = f
	}
	if len(lines) < 6 {
		return GeoTransform{}, errorf(ErrInvalid, "worldfile", "the world file has %d lines; it needs six, one number each (line %d should hold %s)", len(lines), len(lines)+1, names[len(lines)])
	}
	a, d, b, e, c, f := v[0], v[1], v[2], v[3], v[4], v[5]
	// A pixel's width is the vector (A, D) and its height (B, E): with no rotation, A and E.
	if a == 0 && d == 0 {
		return GeoTransform{}, errorf(ErrInvalid, "worldfile", "line 1: the pixel width A is 0 (and the rotation D on line 2 too): a pixel has no width")
	}
	if b == 0 && e == 0 {
		return GeoTransform{}, errorf(ErrInvalid, "worldfile", "line 4: the pixel height E is 0 (and the rotation B on line 3 too): a pixel has no height")
	}
	gt := GeoTransform{c - a/2 - b/2, a, b, f - d/2 - e/2, d, e}
	if det := a*e - b*d; det == 0 || math.IsInf(det, 0) || checkGeoTransform(gt) != nil {
		return GeoTransform{}, errorf(ErrInvalid, "worldfile", "lines 1–4: A·E − B·D = %g: the matrix is singular, so it does not map the image onto an area", det)
	}
	return gt, nil
}

// GridFromWorldFile places an image by its world file: in the CRS named by epsg (an EPSG
// code, see ParseEPSG) when given, else in the one prj (the .prj's WKT, see CRSFromWKT)
// describes, else in WGS 84 degrees, which the world file's numbers must then look like.
// Errors are *Error: the world file's (ParseWorldFile), the CRS's, ErrUnsupportedCRS of
// Field "crs" for numbers that are not degrees without a CRS, the grid's (Validate), and
// ErrOutOfRange (Field "geotransform") when the image's top-left corner is no position in
// the CRS (outside its area of use: numbers in another CRS's units).
func GridFromWorldFile(worldfile, prj, epsg string) (*Grid, error) {
	gt, err := ParseWorldFile(worldfile)
	if err != nil {
		return nil, err
	}
	g := &Grid{GeoTransform: gt, CRS: WGS84}
	switch {
	case strings.TrimSpace(epsg) != "":
		if g.CRS, err = ParseEPSG(epsg); err != nil {
			return nil, err
		}
	case strings.TrimSpace(prj) != "":
		if g.CRS, err = CRSFromWKT(prj); err != nil {
			return nil, err
		}
	default:
		if math.Abs(gt[0]) > 180 || math.Abs(gt[3]) > 90 {
			return nil, &Error{Kind: ErrUnsupportedCRS, Field: "crs",
				Message: "the world file's numbers are not degrees: say which CRS it is in (crs=EPSG:…) or send its .prj"}
		}
	}
	if err := g.Validate(); err != nil {
		return g, err
	}
	return g, g.checkPlaced()
}

// WorldFile writes gt as a world file: six lines A, D, B, E, C, F, with C and F the
// centre of the top-left pixel, each number at full precision (the shortest text that
// reads back as the same float64; GDAL's %.10f keeps only six significant digits of a
// pixel size in degrees).
func (gt GeoTransform) WorldFile() string {
	c := gt[0] + gt[1]/2 + gt[2]/2
	f := gt[3] + gt[4]/2 + gt[5]/2
	var b strings.Builder
	for _, v := range [6]float64{gt[1], gt[4], gt[2], gt[5], c, f} {
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		b.WriteByte('\n')
	}
	return b.String()
}

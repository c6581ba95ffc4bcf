package annotations

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// Shape is what the analyst drew. It decides which geometry is acceptable.
type Shape string

// The shapes an annotation can have.
const (
	ShapePoint            Shape = "point"
	ShapeLine             Shape = "line"
	ShapePolygon          Shape = "polygon"
	ShapeRectangle        Shape = "rectangle"
	ShapeRotatedRectangle Shape = "rotated_rectangle"
)

// Shapes lists every shape in the order the UI offers them.
var Shapes = []Shape{ShapePoint, ShapeLine, ShapePolygon, ShapeRectangle, ShapeRotatedRectangle}

// GeometryType is the GeoJSON geometry type a shape is stored as.
func (s Shape) GeometryType() string {
	switch s {
	case ShapePoint:
		return "Point"
	case ShapeLine:
		return "LineString"
	case ShapePolygon, ShapeRectangle, ShapeRotatedRectangle:
		return "Polygon"
	}
	return ""
}

// Position is an (x, y) pixel position.
type Position [2]float64

// Geometry is a GeoJSON geometry in pixel space. Coordinates holds every position as
// rings: a Point has one ring of one position, a LineString one ring, a Polygon one ring
// per boundary (exterior first).
type Geometry struct {
	Type        string
	Coordinates [][]Position
}

// PointGeometry, LineGeometry and PolygonGeometry build geometries from positions.
func PointGeometry(p Position) Geometry { return Geometry{"Point", [][]Position{{p}}} }

// LineGeometry builds a LineString.
func LineGeometry(ps []Position) Geometry { return Geometry{"LineString", [][]Position{ps}} }

// PolygonGeometry builds a Polygon from its rings, exterior first.
func PolygonGeometry(rings ...[]Position) Geometry { return Geometry{"Polygon", rings} }

// MarshalJSON writes standard GeoJSON.
func (g Geometry) MarshalJSON() ([]byte, error) { return g.appendJSON(nil) }

// appendJSON appends what MarshalJSON writes to b. Coordinates that are not finite
// are an error: JSON has no numbers for them.
func (g Geometry) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, g.Type)
	b = append(b, `,"coordinates":`...)
	bad := false
	appendPosition := func(p Position) {
		bad = bad || !finite(p[0]) || !finite(p[1])
		b = append(b, '[')
		b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, p[1], 'f', -1, 64)
		b = append(b, ']')
	}
	appendRing := func(r []Position) {
		b = append(b, '[')
		for i, p := range r {
			if i > 0 {
				b = append(b, ',')
			}
			appendPosition(p)
		}
		b = append(b, ']')
	}
	switch g.Type {
	case "Point":
		if len(g.Coordinates) != 1 || len(g.Coordinates[0]) != 1 {
			return nil, fmt.Errorf("point geometry needs exactly one position")
		}
		appendPosition(g.Coordinates[0][0])
	case "LineString":
		if len(g.Coordinates) != 1 {
			return nil, fmt.Errorf("line geometry needs exactly one ring")
		}
		appendRing(g.Coordinates[0])
	default:
		b = append(b, '[')
		for i, r := range g.Coordinates {
			if i > 0 {
				b = append(b, ',')
			}
			appendRing(r)
		}
		b = append(b, ']')
	}
	if bad {
		return nil, fmt.Errorf("geometry has a coordinate that is not a finite number")
	}
	return append(b, '}'), nil
}

// UnmarshalJSON reads a Point, LineString or Polygon. Numbers that are not finite (the
// strings "NaN", "Infinity" and "-Infinity" that NormalizeNonFinite leaves behind, or
// literals such as 1e999) are reported as a ValidationError on "geometry", so the caller
// can say exactly what was wrong instead of "bad JSON".
func (g *Geometry) UnmarshalJSON(data []byte) error {
	var raw struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return invalid("geometry", "must be a GeoJSON geometry object: %v", err)
	}
	if len(raw.Coordinates) == 0 || string(raw.Coordinates) == "null" {
		return invalid("geometry", "coordinates are missing")
	}
	var err error
	switch raw.Type {
	case "Point":
		var p Position
		if p, err = parsePosition(raw.Coordinates); err == nil {
			*g = PointGeometry(p)
		}
	case "LineString":
		var r []Position
		if r, err = parseRing(raw.Coordinates); err == nil {
			*g = LineGeometry(r)
		}
	case "Polygon":
		var items []json.RawMessage
		if err = json.Unmarshal(raw.Coordinates, &items); err != nil {
			return invalid("geometry", "polygon coordinates must be an array of rings")
		}
		rings := make([][]Position, 0, len(items))
		for _, item := range items {
			r, err := parseRing(item)
			if err != nil {
				return err
			}
			rings = append(rings, r)
		}
		*g = PolygonGeometry(rings...)
	case "":
		return invalid("geometry", "type is missing")
	default:
		return invalid("geometry", "type %q is not supported (use Point, LineString or Polygon)", raw.Type)
	}
	return err
}

func parseRing(data json.RawMessage) ([]Position, error) {
	// The common case, well-formed positions, in one pass; anything else goes the slow
	// way, which says what is wrong.
	var fast [][]float64
	if json.Unmarshal(data, &fast) == nil {
		ring := make([]Position, 0, len(fast))
		for _, p := range fast {
			if len(p) != 2 || !finite(p[0]) || !finite(p[1]) {
				ring = nil
				break
			}
			ring = append(ring, Position{p[0], p[1]})
		}
		if ring != nil {
			return ring, nil
		}
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, invalid("geometry", "expected an array of positions")
	}
	ring := make([]Position, 0, len(items))
	for _, item := range items {
		p, err := parsePosition(item)
		if err != nil {
			return nil, err
		}
		ring = append(ring, p)
	}
	return ring, nil
}

func parsePosition(data json.RawMessage) (Position, error) {
	var fast []float64
	if json.Unmarshal(data, &fast) == nil && len(fast) == 2 && finite(fast[0]) && finite(fast[1]) {
		return Position{fast[0], fast[1]}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return Position{}, invalid("geometry", "a position must be an array [x, y]")
	}
	if len(items) != 2 {
		return Position{}, invalid("geometry", "a position must have exactly two numbers [x, y], got %d", len(items))
	}
	var p Position
	for i, item := range items {
		var s string
		if json.Unmarshal(item, &s) == nil {
			return Position{}, invalid("geometry", "coordinate %q is not a finite number", s)
		}
		var n json.Number
		if err := json.Unmarshal(item, &n); err != nil {
			return Position{}, invalid("geometry", "coordinate %s is not a number", item)
		}
		v, err := strconv.ParseFloat(n.String(), 64)
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
			return Position{}, invalid("geometry", "coordinate %s is not a finite number", n)
		}
		p[i] = v
	}
	return p, nil
}

// NormalizeNonFinite rewrites the bare tokens NaN, Infinity and -Infinity (which some
// encoders emit but JSON does not allow) into strings, so a request that contains them can
// be decoded and rejected with a precise message. It reports whether it changed anything.
func NormalizeNonFinite(body []byte) ([]byte, bool) {
	var out []byte
	inString, escaped, changed := false, false, false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		default:
			if tok := nonFiniteToken(body[i:]); tok != "" {
				if !changed {
					out = append(make([]byte, 0, len(body)+8), body[:i]...)
					changed = true
				}
				out = append(out, '"')
				out = append(out, tok...)
				out = append(out, '"')
				i += len(tok) - 1
				continue
			}
		}
		if changed {
			out = append(out, c)
		}
	}
	if !changed {
		return body, false
	}
	return out, true
}

func nonFiniteToken(b []byte) string {
	for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
		if bytes.HasPrefix(b, []byte(tok)) {
			return tok
		}
	}
	return ""
}

// Validate checks that g is an acceptable geometry for shape s on an image of the given
// size: the right GeoJSON type, enough positions, closed rings, the rectangle rules, and
// every coordinate inside the image (0 ≤ x ≤ width, 0 ≤ y ≤ height).
func (g Geometry) Validate(s Shape, width, height int) error {
	want := s.GeometryType()
	if want == "" {
		return invalid("shape", "unknown shape %q (use point, line, polygon, rectangle or rotated_rectangle)", s)
	}
	if g.Type != want {
		return invalid("geometry", "a %s must be a %s, not a %s", s, want, g.Type)
	}
	for _, ring := range g.Coordinates {
		for _, p := range ring {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
				return invalid("geometry", "coordinates must be finite numbers")
			}
			if p[0] < 0 || p[1] < 0 || p[0] > float64(width) || p[1] > float64(height) {
				return invalid("geometry", "position [%g, %g] is outside the image (0 ≤ x ≤ %d, 0 ≤ y ≤ %d)", p[0], p[1], width, height)
			}
		}
	}
	switch s {
	case ShapePoint:
		return nil
	case ShapeLine:
		if len(g.Coordinates) != 1 || len(g.Coordinates[0]) < 2 {
			return invalid("geometry", "a line needs at least 2 positions")
		}
		return nil
	}
	if len(g.Coordinates) == 0 {
		return invalid("geometry", "a polygon needs at least one ring")
	}
	for i, ring := range g.Coordinates {
		if len(ring) < 4 {
			return invalid("geometry", "ring %d has %d positions; a ring needs at least 4 (closed, first = last)", i, len(ring))
		}
		if ring[0] != ring[len(ring)-1] {
			return invalid("geometry", "ring %d is not closed: its last position must equal its first", i)
		}
		if shoelace(ring) == 0 {
			return invalid("geometry", "ring %d encloses no area", i)
		}
	}
	if s == ShapePolygon {
		return nil
	}
	if len(g.Coordinates) != 1 || len(g.Coordinates[0]) != 5 {
		return invalid("geometry", "a %s is one closed ring of exactly 5 positions", s)
	}
	r := g.Coordinates[0]
	if s == ShapeRectangle {
		for i := 0; i < 4; i++ {
			a, b := r[i], r[i+1]
			if (a[0] == b[0]) == (a[1] == b[1]) {
				return invalid("geometry", "a rectangle must be axis-aligned: side %d is not horizontal or vertical", i+1)
			}
		}
		return nil
	}
	for i := 0; i < 4; i++ {
		a, b, c := r[i], r[i+1], r[(i+2)%4]
		u := Position{b[0] - a[0], b[1] - a[1]}
		v := Position{c[0] - b[0], c[1] - b[1]}
		lu, lv := math.Hypot(u[0], u[1]), math.Hypot(v[0], v[1])
		if lu == 0 || lv == 0 {
			return invalid("geometry", "a rotated rectangle cannot have a side of zero length")
		}
		// How far the shorter side strays from the perpendicular, in pixels: a client
		// that rounds coordinates to 1/100 px strays by a few hundredths at most,
		// whatever the size of the box.
		cos := (u[0]*v[0] + u[1]*v[1]) / (lu * lv)
		if math.Abs(cos)*math.Min(lu, lv) > rightAngleTolerancePx {
			return invalid("geometry", "a rotated rectangle's sides must meet at right angles (corner %d is %.2f°)", i+2, math.Acos(cos)*180/math.Pi)
		}
	}
	return nil
}

// rightAngleTolerancePx is how far, in pixels, a rotated rectangle's side may stray from
// the perpendicular.
const rightAngleTolerancePx = 0.05

// shoelace returns twice the signed area of a closed ring (positive when the ring runs
// clockwise on screen, that is counter-clockwise with y up).
func shoelace(ring []Position) float64 {
	var a float64
	for i := 0; i+1 < len(ring); i++ {
		a += ring[i][0]*ring[i+1][1] - ring[i+1][0]*ring[i][1]
	}
	return a
}

// Measures are a geometry's sizes in pixels and, when the image is georeferenced or has
// a ground sample distance, on the ground.
type Measures struct {
	LengthPx    float64 `json:"length_px,omitempty"`    // lines: along the line; rectangles: the long side
	WidthPx     float64 `json:"width_px,omitempty"`     // rectangles: the short side (beam for ships)
	AreaPx2     float64 `json:"area_px2,omitempty"`     // polygons: exterior minus holes
	PerimeterPx float64 `json:"perimeter_px,omitempty"` // polygons: all rings
	Ground
}

// Ground is an annotation's size on the earth: geodesic on the WGS 84 ellipsoid through
// the image's georeference, or pixel sizes times a ground sample distance (Basis says
// which). The domain does not compute it; whoever knows the georeference fills it in.
type Ground struct {
	LengthM    *float64 `json:"length_m,omitempty"`
	WidthM     *float64 `json:"width_m,omitempty"`
	AreaM2     *float64 `json:"area_m2,omitempty"`
	PerimeterM *float64 `json:"perimeter_m,omitempty"`
	HeadingDeg *float64 `json:"heading_deg,omitempty"` // degrees clockwise from true north; rotated rectangles only, georeferenced only
	Basis      string   `json:"basis,omitempty"`       // "georeference" or "gsd"
}

// Measure returns the pixel measures of g drawn as shape s.
func (g Geometry) Measure(s Shape) Measures {
	var m Measures
	switch g.Type {
	case "LineString":
		m.LengthPx = pathLength(g.Coordinates[0])
	case "Polygon":
		for i, ring := range g.Coordinates {
			a := math.Abs(shoelace(ring)) / 2
			if i > 0 {
				a = -a
			}
			m.AreaPx2 += a
			m.PerimeterPx += pathLength(ring)
		}
		if (s == ShapeRectangle || s == ShapeRotatedRectangle) && len(g.Coordinates[0]) == 5 {
			r := g.Coordinates[0]
			a := math.Hypot(r[1][0]-r[0][0], r[1][1]-r[0][1])
			b := math.Hypot(r[2][0]-r[1][0], r[2][1]-r[1][1])
			m.LengthPx, m.WidthPx = math.Max(a, b), math.Min(a, b)
		}
	}
	return m
}

func pathLength(ps []Position) float64 {
	var l float64
	for i := 0; i+1 < len(ps); i++ {
		l += math.Hypot(ps[i+1][0]-ps[i][0], ps[i+1][1]-ps[i][1])
	}
	return l
}

func finite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

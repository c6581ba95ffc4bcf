package annotations

import (
	"bytes"
	"math"
	"strconv"
)

// Reading stored geometry fast. Every annotation's geometry is kept as
// Geometry.MarshalJSON writes it; a list of 100,000 read it back through encoding/json,
// which was a third of the list's time. compactGeometry reads that one form directly;
// anything else (spaces, other key order, empty arrays, numbers it does not expect) it
// declines, and Geometry.UnmarshalJSON reads it as before.

// storedGeometry parses a stored geometry: compactGeometry's way when it can, else
// through UnmarshalJSON.
func storedGeometry(b []byte) (Geometry, error) {
	if g, ok := compactGeometry(b); ok {
		return g, nil
	}
	var g Geometry
	err := g.UnmarshalJSON(b)
	return g, err
}

// compactGeometry parses {"type":"Point","coordinates":[x,y]} and its LineString and
// Polygon kin exactly as Geometry.MarshalJSON writes them, and reports whether b was one.
func compactGeometry(b []byte) (Geometry, bool) {
	rest, ok := bytes.CutPrefix(b, []byte(`{"type":"`))
	if !ok {
		return Geometry{}, false
	}
	var typ string
	for _, t := range []string{"Point", "LineString", "Polygon"} {
		if r, ok := bytes.CutPrefix(rest, []byte(t+`","coordinates":`)); ok {
			typ, rest = t, r
			break
		}
	}
	p := compactReader{b: rest}
	var g Geometry
	switch typ {
	case "Point":
		pos, ok := p.position()
		if !ok {
			return Geometry{}, false
		}
		g = PointGeometry(pos)
	case "LineString":
		ring, ok := p.ring()
		if !ok {
			return Geometry{}, false
		}
		g = LineGeometry(ring)
	case "Polygon":
		if !p.take('[') {
			return Geometry{}, false
		}
		var rings [][]Position
		for {
			ring, ok := p.ring()
			if !ok {
				return Geometry{}, false
			}
			rings = append(rings, ring)
			if p.take(']') {
				break
			}
			if !p.take(',') {
				return Geometry{}, false
			}
		}
		g = PolygonGeometry(rings...)
	default:
		return Geometry{}, false
	}
	if string(p.b) != "}" {
		return Geometry{}, false
	}
	return g, true
}

// compactReader reads JSON without spaces from the front of b.
type compactReader struct{ b []byte }

func (r *compactReader) take(c byte) bool {
	if len(r.b) > 0 && r.b[0] == c {
		r.b = r.b[1:]
		return true
	}
	return false
}

// ring reads [[x,y],…] with at least one position.
func (r *compactReader) ring() ([]Position, bool) {
	if !r.take('[') {
		return nil, false
	}
	ring := make([]Position, 0, 8)
	for {
		p, ok := r.position()
		if !ok {
			return nil, false
		}
		ring = append(ring, p)
		if r.take(']') {
			return ring, true
		}
		if !r.take(',') {
			return nil, false
		}
	}
}

// position reads [x,y] of finite numbers.
func (r *compactReader) position() (Position, bool) {
	var p Position
	ok := r.take('[')
	if ok {
		p[0], ok = r.number()
	}
	ok = ok && r.take(',')
	if ok {
		p[1], ok = r.number()
	}
	return p, ok && r.take(']')
}

// number reads a JSON number (as the grammar has it: no leading zeros, no lone dot)
// that is finite as a float64.
func (r *compactReader) number() (float64, bool) {
	b := r.b
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - start
	}
	switch n := digits(); {
	case n == 0, n > 1 && b[i-n] == '0':
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(string(b[:i]), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	r.b = b[i:]
	return v, true
}

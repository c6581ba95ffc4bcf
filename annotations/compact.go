package annotations

import (
	"bytes"
	"encoding/json"
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
	var buf geometryBuffer
	return buf.compact(b)
}

// geometryBuffer holds the positions of one geometry read by compact; reading the next
// into the same buffer reuses its memory, so a reader of many that uses each only until
// the next (the shapes route's rows, shapepage.go) allocates nothing once it has grown.
type geometryBuffer struct {
	positions []Position
	ends      []int // where each ring ends in positions
	rings     [][]Position
}

// compact is compactGeometry into the buffer: the geometry it gives shares the buffer's
// memory (each ring's capacity cut to its length), until the buffer reads another.
func (buf *geometryBuffer) compact(b []byte) (Geometry, bool) {
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
	buf.positions, buf.ends = buf.positions[:0], buf.ends[:0]
	switch typ {
	case "Point":
		pos, ok := p.position()
		if !ok {
			return Geometry{}, false
		}
		buf.positions = append(buf.positions, pos)
		buf.ends = append(buf.ends, 1)
	case "LineString":
		if !buf.ring(&p) {
			return Geometry{}, false
		}
	case "Polygon":
		if !p.take('[') {
			return Geometry{}, false
		}
		for {
			if !buf.ring(&p) {
				return Geometry{}, false
			}
			if p.take(']') {
				break
			}
			if !p.take(',') {
				return Geometry{}, false
			}
		}
	default:
		return Geometry{}, false
	}
	if string(p.b) != "}" {
		return Geometry{}, false
	}
	buf.rings = buf.rings[:0]
	start := 0
	for _, end := range buf.ends {
		buf.rings = append(buf.rings, buf.positions[start:end:end])
		start = end
	}
	return Geometry{Type: typ, Coordinates: buf.rings[:len(buf.rings):len(buf.rings)]}, true
}

// ring reads [[x,y],…] with at least one position from p into the buffer.
func (buf *geometryBuffer) ring(p *compactReader) bool {
	if !p.take('[') {
		return false
	}
	for {
		pos, ok := p.position()
		if !ok {
			return false
		}
		buf.positions = append(buf.positions, pos)
		if p.take(']') {
			buf.ends = append(buf.ends, len(buf.positions))
			return true
		}
		if !p.take(',') {
			return false
		}
	}
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
	n := numberLen(r.b)
	if n == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(r.b[:n]), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	r.b = r.b[n:]
	return v, true
}

// numberLen is the length of the JSON number at the front of b, or 0 if there is none.
func numberLen(b []byte) int {
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
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return 0
		}
	}
	return i
}

// storedAttributes parses stored attributes: compactAttributes' way when it can, else
// through encoding/json.
func storedAttributes(b []byte) (map[string]json.RawMessage, error) {
	if m, ok := compactAttributes(b); ok {
		return m, nil
	}
	var m map[string]json.RawMessage
	err := json.Unmarshal(b, &m)
	return m, err
}

// compactAttributes parses a JSON object as json.Marshal writes a map of raw values
// (no spaces) whose keys are printable ASCII without escapes and whose values are
// strings, numbers, true, false or null, and reports whether b was one. It gives what
// json.Unmarshal gives, except that each value is a slice of b (its capacity cut to its
// length, so an append copies it). Objects, arrays and anything else it declines.
func compactAttributes(b []byte) (map[string]json.RawMessage, bool) {
	if len(b) < 2 || b[0] != '{' {
		return nil, false
	}
	m := make(map[string]json.RawMessage, min(bytes.Count(b, []byte{','})+1, 16))
	i := 1
	if b[i] == '}' {
		return m, len(b) == 2
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < len(b) && b[j] >= 0x20 && b[j] < 0x7f && b[j] != '"' && b[j] != '\\' {
			j++
		}
		if j+1 >= len(b) || b[j] != '"' || b[j+1] != ':' {
			return nil, false
		}
		key := string(b[i+1 : j])
		start := j + 2
		n := valueLen(b[start:])
		if n == 0 {
			return nil, false
		}
		end := start + n
		m[key] = json.RawMessage(b[start:end:end])
		switch {
		case end < len(b) && b[end] == ',':
			i = end + 1
		case end == len(b)-1 && b[end] == '}':
			return m, true
		default:
			return nil, false
		}
	}
}

// valueLen is the length of the JSON string, number, true, false or null at the front
// of b, or 0 if there is none.
func valueLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '"':
		for i := 1; i < len(b); i++ {
			switch c := b[i]; {
			case c == '"':
				return i + 1
			case c < 0x20:
				return 0
			case c == '\\':
				i++
				if i >= len(b) {
					return 0
				}
				switch b[i] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				case 'u':
					if i+4 >= len(b) {
						return 0
					}
					for _, h := range b[i+1 : i+5] {
						if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
							return 0
						}
					}
					i += 4
				default:
					return 0
				}
			}
		}
		return 0
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(b, []byte(lit)) {
				return len(lit)
			}
		}
		return 0
	}
	return numberLen(b)
}

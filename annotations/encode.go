package annotations

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Writing an annotation's JSON by hand: every revision holds one, and an import writes
// 100,000 of them, where encoding/json's reflection and its second pass over what
// MarshalJSON methods return cost more than the database's writes. The bytes are
// encoding/json's own for annotationJSON (TestAnnotationJSONIsEncodingJSONs checks).

// appendJSON appends the annotation's API representation to b.
func (a Annotation) appendJSON(b []byte) ([]byte, error) {
	m := a.Geometry.Measure(a.Shape)
	m.Ground = a.Ground
	b = append(b, `{"id":`...)
	b = appendString(b, a.ID)
	b = append(b, `,"image_id":`...)
	b = appendString(b, a.ImageID)
	b = append(b, `,"label":`...)
	b = appendLabel(b, a.Label)
	b = append(b, `,"shape":`...)
	b = appendString(b, string(a.Shape))
	b = append(b, `,"geometry":`...)
	b, err := a.Geometry.appendJSON(b)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"properties":`...)
	if b, err = a.appendProperties(b); err != nil {
		return nil, err
	}
	b = append(b, `,"measures":`...)
	if b, err = appendMeasures(b, m); err != nil {
		return nil, err
	}
	b = append(b, `,"review_status":`...)
	b = appendString(b, a.ReviewStatus)
	b = append(b, `,"created_by":`...)
	b = appendString(b, a.CreatedBy)
	b = append(b, `,"created_at":`...)
	if b, err = appendTime(b, a.CreatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"updated_by":`...)
	b = appendString(b, a.UpdatedBy)
	b = append(b, `,"updated_at":`...)
	if b, err = appendTime(b, a.UpdatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(a.Version), 10)
	return append(b, '}'), nil
}

func appendTime(b []byte, t interface{ MarshalJSON() ([]byte, error) }) ([]byte, error) {
	j, err := t.MarshalJSON()
	return append(b, j...), err
}

func appendLabel(b []byte, l Label) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, l.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, l.Name)
	if l.ParentID != "" {
		b = append(b, `,"parent_id":`...)
		b = appendString(b, l.ParentID)
	}
	b = append(b, `,"path":`...)
	if l.Path == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range l.Path {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, p)
		}
		b = append(b, ']')
	}
	b = append(b, `,"color":`...)
	b = appendString(b, l.Color)
	if l.Hotkey != "" {
		b = append(b, `,"hotkey":`...)
		b = appendString(b, l.Hotkey)
	}
	return append(b, '}')
}

// appendProperties writes Properties(): its keys in order, each attribute compacted and
// HTML-escaped as encoding/json writes a json.RawMessage.
func (a Annotation) appendProperties(b []byte) ([]byte, error) {
	keys := make([]string, 0, len(a.Attributes)+3)
	for k := range a.Attributes {
		if k != "confidence" && k != "identification" && k != "note" {
			keys = append(keys, k)
		}
	}
	keys = append(keys, "confidence", "identification", "note")
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		switch k {
		case "confidence":
			b = appendString(b, string(a.Confidence))
		case "identification":
			b = appendString(b, a.Identification)
		case "note":
			b = appendString(b, a.Note)
		default:
			var err error
			if b, err = AppendRawJSON(b, a.Attributes[k]); err != nil {
				return nil, err
			}
		}
	}
	return append(b, '}'), nil
}

// The exports (package formats) write their JSON by hand with these, for the same reason.

// AppendJSONString appends s as encoding/json writes a string (see appendString).
func AppendJSONString(b []byte, s string) []byte { return appendString(b, s) }

// AppendJSONStringUnescapedHTML appends s as an encoding/json Encoder with
// SetEscapeHTML(false) writes a string: <, > and & as they are.
func AppendJSONStringUnescapedHTML(b []byte, s string) []byte {
	return appendStringEscaping(b, s, false)
}

// AppendJSONFloat appends a finite f as encoding/json writes a float64.
func AppendJSONFloat(b []byte, f float64) []byte { return appendFloat(b, f) }

// AppendJSON appends what MarshalJSON writes to b; coordinates that are not finite are an
// error.
func (g Geometry) AppendJSON(b []byte) ([]byte, error) { return g.appendJSON(b) }

// AppendJSON appends m as encoding/json writes Measures; a value that is not finite is
// an error.
func (m Measures) AppendJSON(b []byte) ([]byte, error) { return appendMeasures(b, m) }

// AppendRawJSON appends v as encoding/json writes a json.RawMessage: compacted, HTML
// characters escaped, nil as null. Invalid JSON is an error.
func AppendRawJSON(b []byte, v json.RawMessage) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	if unchangedByCompact(v) && json.Valid(v) {
		return append(b, v...), nil // what compacting and escaping would give back
	}
	var c bytes.Buffer
	if err := json.Compact(&c, v); err != nil {
		// As encoding/json says it (a MarshalerError without its Type panics when read).
		return nil, &json.MarshalerError{Type: reflect.TypeFor[json.RawMessage](), Err: err}
	}
	var e bytes.Buffer
	json.HTMLEscape(&e, c.Bytes())
	return append(b, e.Bytes()...), nil
}

func appendMeasures(b []byte, m Measures) ([]byte, error) {
	for _, v := range []*float64{&m.LengthPx, &m.WidthPx, &m.AreaPx2, &m.PerimeterPx, m.LengthM, m.WidthM, m.AreaM2, m.PerimeterM, m.HeadingDeg} {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			// encoding/json refuses these too: JSON has no number for them.
			return nil, fmt.Errorf("json: unsupported value: %v", *v)
		}
	}
	b = append(b, '{')
	first := true
	num := func(name string, v float64) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b = appendFloat(b, v)
	}
	if m.LengthPx != 0 {
		num("length_px", m.LengthPx)
	}
	if m.WidthPx != 0 {
		num("width_px", m.WidthPx)
	}
	if m.AreaPx2 != 0 {
		num("area_px2", m.AreaPx2)
	}
	if m.PerimeterPx != 0 {
		num("perimeter_px", m.PerimeterPx)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"length_m", m.LengthM}, {"width_m", m.WidthM}, {"area_m2", m.AreaM2}, {"perimeter_m", m.PerimeterM}, {"heading_deg", m.HeadingDeg}} {
		if f.v != nil {
			num(f.name, *f.v)
		}
	}
	if m.Basis != "" {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, `"basis":`...)
		b = appendString(b, m.Basis)
	}
	return append(b, '}'), nil
}

// appendFloat writes a float64 as encoding/json does: the shortest form, with an
// exponent only for very large or small magnitudes ("1e-07", not "1e-7").
func appendFloat(b []byte, f float64) []byte {
	abs := f
	if abs < 0 {
		abs = -abs
	}
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// jsonSafe and jsonHTMLSafe say which ASCII bytes a JSON string holds as they are: not
// the controls, the quote and the backslash, nor in jsonHTMLSafe <, > and & (one table
// lookup a byte instead of six comparisons, in strings that are nearly all plain).
var jsonSafe, jsonHTMLSafe = func() (safe, htmlSafe [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		safe[c] = c != '"' && c != '\\'
		htmlSafe[c] = safe[c] && c != '<' && c != '>' && c != '&'
	}
	return safe, htmlSafe
}()

// appendString writes s as encoding/json writes a string, HTML characters escaped:
// control characters, quotes, backslashes, <, > and & as \u escapes (\n, \r, \t, \b, \f
// by name), invalid UTF-8 as U+FFFD, and U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte { return appendStringEscaping(b, s, true) }

// appendStringEscaping is appendString, with <, > and & escaped only when escapeHTML is
// set (encoding/json's Encoder.SetEscapeHTML).
func appendStringEscaping(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	safe := &jsonSafe
	if escapeHTML {
		safe = &jsonHTMLSafe
	}
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// unchangedByCompact reports whether v has nothing json.Compact or json.HTMLEscape would change:
// no white space, no <, > or &, and no byte that could start U+2028 or U+2029.
func unchangedByCompact(v []byte) bool {
	for _, c := range v {
		switch c {
		case ' ', '\t', '\n', '\r', '<', '>', '&', 0xe2:
			return false
		}
	}
	return true
}

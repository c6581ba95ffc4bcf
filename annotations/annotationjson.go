package annotations

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// The API representation of an annotation, written directly. json.Marshal of
// annotationJSON gives the same bytes (TestAppendJSONIsWhatJSONMarshalWrites) but, through
// reflection and by compacting the output of every nested marshaller again, took a third
// of the time of a list of 100,000. Whatever is unusual (attributes, a string that needs
// escaping, a number written with an exponent) is handed to encoding/json, so only the
// plain cases are written here.

// AppendJSON appends the annotation's API representation (what MarshalJSON returns) to b.
func (a Annotation) AppendJSON(b []byte) ([]byte, error) {
	m := a.Geometry.Measure(a.Shape)
	m.Ground = a.Ground
	var err error
	b = append(b, `{"id":`...)
	b = appendJSONString(b, a.ID)
	b = append(b, `,"image_id":`...)
	b = appendJSONString(b, a.ImageID)
	b = append(b, `,"label":`...)
	b = a.Label.appendJSON(b)
	b = append(b, `,"shape":`...)
	b = appendJSONString(b, string(a.Shape))
	b = append(b, `,"geometry":`...)
	if b, err = a.Geometry.appendJSON(b); err != nil {
		return nil, err
	}
	b = append(b, `,"properties":`...)
	if len(a.Attributes) == 0 {
		// The three always there, in encoding/json's order of map keys.
		b = append(b, `{"confidence":`...)
		b = appendJSONString(b, string(a.Confidence))
		b = append(b, `,"identification":`...)
		b = appendJSONString(b, a.Identification)
		b = append(b, `,"note":`...)
		b = appendJSONString(b, a.Note)
		b = append(b, '}')
	} else {
		p, err := json.Marshal(a.Properties())
		if err != nil {
			return nil, err
		}
		b = append(b, p...)
	}
	b = append(b, `,"measures":`...)
	if b, err = m.appendJSON(b); err != nil {
		return nil, err
	}
	b = append(b, `,"review_status":`...)
	b = appendJSONString(b, a.ReviewStatus)
	b = append(b, `,"created_by":`...)
	b = appendJSONString(b, a.CreatedBy)
	b = append(b, `,"created_at":`...)
	if b, err = appendJSONTime(b, a.CreatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"updated_by":`...)
	b = appendJSONString(b, a.UpdatedBy)
	b = append(b, `,"updated_at":`...)
	if b, err = appendJSONTime(b, a.UpdatedAt); err != nil {
		return nil, err
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(a.Version), 10)
	return append(b, '}'), nil
}

func (l Label) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, l.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, l.Name)
	if l.ParentID != "" {
		b = append(b, `,"parent_id":`...)
		b = appendJSONString(b, l.ParentID)
	}
	b = append(b, `,"path":`...)
	if l.Path == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, name := range l.Path {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, name)
		}
		b = append(b, ']')
	}
	b = append(b, `,"color":`...)
	b = appendJSONString(b, l.Color)
	if l.Hotkey != "" {
		b = append(b, `,"hotkey":`...)
		b = appendJSONString(b, l.Hotkey)
	}
	return append(b, '}')
}

func (m Measures) appendJSON(b []byte) ([]byte, error) {
	b = append(b, '{')
	first := true
	var err error
	field := func(name string, v float64) {
		if err != nil {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, `":`...)
		b, err = appendJSONFloat(b, v)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"length_px", m.LengthPx}, {"width_px", m.WidthPx}, {"area_px2", m.AreaPx2}, {"perimeter_px", m.PerimeterPx}} {
		if f.v != 0 {
			field(f.name, f.v)
		}
	}
	g := m.Ground
	for _, f := range []struct {
		name string
		v    *float64
	}{{"length_m", g.LengthM}, {"width_m", g.WidthM}, {"area_m2", g.AreaM2}, {"perimeter_m", g.PerimeterM}, {"heading_deg", g.HeadingDeg}} {
		if f.v != nil {
			field(f.name, *f.v)
		}
	}
	if err != nil {
		return nil, err
	}
	if g.Basis != "" {
		if !first {
			b = append(b, ',')
		}
		b = append(b, `"basis":`...)
		b = appendJSONString(b, g.Basis)
	}
	return append(b, '}'), nil
}

// appendJSONString appends s as encoding/json writes a string: as it is when it is
// plain ASCII that needs no escape, else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat appends v as encoding/json writes a float64: in plain decimals when
// it does so (0, and magnitudes from 1e-6 to 1e21), else through encoding/json, which
// also refuses what is not finite.
func appendJSONFloat(b []byte, v float64) ([]byte, error) {
	if abs := math.Abs(v); abs == 0 || (abs >= 1e-6 && abs < 1e21) {
		return strconv.AppendFloat(b, v, 'f', -1, 64), nil
	}
	q, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("measure: %w", err)
	}
	return append(b, q...), nil
}

// appendJSONTime appends t as time.Time's MarshalJSON writes it: RFC 3339 with the
// nanoseconds it has, for a time in UTC within years 0–9999, else through MarshalJSON.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y >= 0 && y <= 9999 && t.Location() == time.UTC {
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		return append(b, '"'), nil
	}
	q, err := t.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return append(b, q...), nil
}

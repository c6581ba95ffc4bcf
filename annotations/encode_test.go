package annotations

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

// TestAnnotationJSONIsEncodingJSONs: the hand-written JSON of an annotation is byte for
// byte what encoding/json makes of annotationJSON, for text of every kind.
func TestAnnotationJSONIsEncodingJSONs(t *testing.T) {
	reflected := func(a Annotation) ([]byte, error) {
		m := a.Geometry.Measure(a.Shape)
		m.Ground = a.Ground
		return json.Marshal(annotationJSON{
			ID: a.ID, ImageID: a.ImageID, Label: a.Label, Shape: a.Shape, Geometry: a.Geometry,
			Properties: a.Properties(), Measures: m, ReviewStatus: a.ReviewStatus,
			CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt, UpdatedBy: a.UpdatedBy, UpdatedAt: a.UpdatedAt, Version: a.Version,
		})
	}
	f := func(v float64) *float64 { return &v }
	texts := []string{"", "plain", `quote " and \ backslash`, "<b>bold</b> & more", "tab\tnew\nline\rret\bback\fform",
		"\x00\x01\x1f control", "é ü 北京 🚢", "line\u2028para\u2029", "bad \xff utf8 \xc3", "Ropucha-class"}
	when := time.Date(2024, 10, 8, 3, 4, 5, 60_000_000, time.UTC)
	var cases []Annotation
	for i, s := range texts {
		a := Annotation{ID: "5f0c3a52-8d1e-4a57-9b7e-0c1d2e3f4a5b", ImageID: "img_" + s, Shape: ShapeRotatedRectangle,
			Label:      Label{ID: "lbl_x", Name: s, Path: []string{"vessel", s}, Color: "#e6194b", ParentID: map[bool]string{true: "lbl_p"}[i%2 == 0], Hotkey: map[bool]string{true: "k"}[i%3 == 0]},
			Geometry:   PolygonGeometry([]Position{{100, 100}, {180, 140}, {170, 160}, {90, 120}, {100, 100}}),
			Confidence: Probable, Identification: s, Note: s + " note", ReviewStatus: "draft",
			Attributes: map[string]json.RawMessage{s: json.RawMessage(`"` + strings.ReplaceAll(strings.ToValidUTF8(s, ""), `"`, `'`) + `"`),
				"n": json.RawMessage(` 12.50 `), "obj": json.RawMessage(`{ "b" : [1, 2, {"c":"<&>"}], "a":null }`), "null": nil},
			CreatedBy: s, CreatedAt: when, UpdatedBy: "bob", UpdatedAt: when.Add(time.Duration(i) * time.Nanosecond), Version: i + 1}
		cases = append(cases, a)
	}
	ground := cases[1]
	ground.Ground = Ground{LengthM: f(1234.5678), WidthM: f(1e-7), AreaM2: f(1e22), HeadingDeg: f(0), Basis: "georeference"}
	point := cases[2]
	point.Shape, point.Geometry, point.Attributes = ShapePoint, PointGeometry(Position{0.5, math.SmallestNonzeroFloat64}), nil
	line := cases[3]
	line.Shape, line.Geometry, line.Label.Path = ShapeLine, LineGeometry([]Position{{0, 0}, {3e-7, 4}}), nil
	cases = append(cases, ground, point, line)
	for i, a := range cases {
		want, werr := reflected(a)
		got, gerr := a.MarshalJSON()
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Errorf("case %d:\n got %s (%v)\nwant %s (%v)", i, got, gerr, want, werr)
		}
	}
}

// TestPlainJSONIsWhatAMergeWouldWrite: the values a merge patch over nothing passes
// through as they are come out of decoding and encoding again unchanged.
func TestPlainJSONIsWhatAMergeWouldWrite(t *testing.T) {
	slow := func(v string) string {
		var x any
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&x); err != nil {
			return "error"
		}
		b, _ := json.Marshal(x)
		return string(b)
	}
	for _, v := range []string{`true`, ` false `, `12.50`, `-0`, `1E+3`, `"plain text"`, `"a/b?c=d"`, `"<b>"`, `"é"`, `"a\"b"`, `"tab\t"`, `0.1e-7`, `[1]`, `{"a":1}`, `null`, `01`, `"unterminated`} {
		if got, ok := plainJSON(json.RawMessage(v)); ok && string(got) != slow(v) {
			t.Errorf("%s: passed as %s, a merge writes %s", v, got, slow(v))
		}
	}
	for _, v := range []string{`"<b>"`, `"é"`, `"a\"b"`, `[1]`, `{"a":1}`, `null`, `01`} {
		if _, ok := plainJSON(json.RawMessage(v)); ok {
			t.Errorf("%s passed as plain", v)
		}
	}
}

// The escaping tables against encoding/json: every byte, alone and between others, with
// and without HTML escaping.
func TestEveryByteIsEscapedAsEncodingJSONDoes(t *testing.T) {
	for c := 0; c < 256; c++ {
		for _, s := range []string{string([]byte{byte(c)}), "a" + string([]byte{byte(c)}) + "é", string([]byte{byte(c), 0x80, byte(c)})} {
			want, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := AppendJSONString(nil, s); !bytes.Equal(got, want) {
				t.Errorf("AppendJSONString(%q) = %s, want %s", s, got, want)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(s); err != nil {
				t.Fatal(err)
			}
			if got := AppendJSONStringUnescapedHTML(nil, s); !bytes.Equal(got, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))) {
				t.Errorf("AppendJSONStringUnescapedHTML(%q) = %s, want %s", s, got, buf.Bytes())
			}
		}
	}
}

// TestInvalidRawJSONIsEncodingJSONsError: invalid stored JSON is refused with the error
// encoding/json gives for it (which can be read: it once panicked when logged).
func TestInvalidRawJSONIsEncodingJSONsError(t *testing.T) {
	for _, v := range []string{`{`, `{"a":}`, `[1,]`, `nope`} {
		_, want := json.Marshal(json.RawMessage(v))
		_, got := AppendRawJSON(nil, json.RawMessage(v))
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("%s: error %v, want %v", v, got, want)
		}
	}
}

package annotations

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// Whatever Geometry.MarshalJSON writes, compactGeometry reads back as UnmarshalJSON does.
func TestCompactGeometryReadsWhatIsStored(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	coord := func() float64 {
		switch rng.IntN(6) {
		case 0:
			return float64(rng.IntN(40000))
		case 1:
			return -rng.Float64() * 1e-7 // written as 0.0000000…
		case 2:
			return rng.Float64() * 1e22 // written without an exponent
		case 3:
			return 0
		default:
			return rng.Float64() * 40000
		}
	}
	ring := func(n int) []Position {
		r := make([]Position, n)
		for i := range r {
			r[i] = Position{coord(), coord()}
		}
		return r
	}
	for i := range 3000 {
		var g Geometry
		switch i % 3 {
		case 0:
			g = PointGeometry(Position{coord(), coord()})
		case 1:
			g = LineGeometry(ring(1 + rng.IntN(6)))
		default:
			rings := make([][]Position, 1+rng.IntN(3))
			for j := range rings {
				rings[j] = ring(1 + rng.IntN(8))
			}
			g = PolygonGeometry(rings...)
		}
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatal(err)
		}
		fast, ok := compactGeometry(b)
		if !ok {
			t.Fatalf("declined what MarshalJSON wrote: %s", b)
		}
		var slow Geometry
		if err := slow.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s: read %v, UnmarshalJSON reads %v", b, fast, slow)
		}
	}
}

// Anything else it declines, so UnmarshalJSON decides (and says what is wrong).
func TestCompactGeometryDeclinesTheRest(t *testing.T) {
	for _, s := range []string{
		`{"type": "Point", "coordinates": [1, 2]}`,
		`{"coordinates":[1,2],"type":"Point"}`,
		`{"type":"Point","coordinates":[1,2],"bbox":[1,2,1,2]}`,
		`{"type":"Point","coordinates":[1,2]} `,
		`{"type":"Point","coordinates":[1,2,3]}`,
		`{"type":"Point","coordinates":[1]}`,
		`{"type":"Point","coordinates":[]}`,
		`{"type":"Point","coordinates":["1",2]}`,
		`{"type":"Point","coordinates":[01,2]}`,
		`{"type":"Point","coordinates":[1.,2]}`,
		`{"type":"Point","coordinates":[.5,2]}`,
		`{"type":"Point","coordinates":[1e,2]}`,
		`{"type":"Point","coordinates":[-,2]}`,
		`{"type":"Point","coordinates":[+1,2]}`,
		`{"type":"Point","coordinates":[1e400,2]}`,
		`{"type":"Point","coordinates":[NaN,2]}`,
		`{"type":"Point","coordinates":null}`,
		`{"type":"LineString","coordinates":[]}`,
		`{"type":"LineString","coordinates":[[1,2],]}`,
		`{"type":"LineString","coordinates":[1,2]}`,
		`{"type":"Polygon","coordinates":[]}`,
		`{"type":"Polygon","coordinates":[[]]}`,
		`{"type":"Polygon","coordinates":[[[1,2]]],}`,
		`{"type":"Polygon","coordinates":[[[1,2]]]`,
		`{"type":"MultiPoint","coordinates":[[1,2]]}`,
		`{"type":"Point"}`,
		``,
	} {
		if g, ok := compactGeometry([]byte(s)); ok {
			t.Errorf("%s: read as %v, want it declined", s, g)
		}
		var want Geometry
		wantErr := want.UnmarshalJSON([]byte(s))
		got, err := storedGeometry([]byte(s))
		if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: storedGeometry gives %v, %v; UnmarshalJSON %v, %v", s, got, err, want, wantErr)
		}
	}
	if g, ok := compactGeometry([]byte(`{"type":"Point","coordinates":[-0,1.5e-3]}`)); !ok || g.Coordinates[0][0][1] != 0.0015 ||
		!math.Signbit(g.Coordinates[0][0][0]) {
		t.Errorf("-0 and an exponent: got %v (%v)", g, ok)
	}
}

// Whatever json.Marshal writes of a map of attributes, storedAttributes reads back as
// json.Unmarshal does, and compactAttributes reads the flat ones itself; malformed
// objects it declines, so encoding/json refuses them as before.
func TestCompactAttributesReadWhatIsStored(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	values := []any{"", "Ropucha-class", `<b>"quoted"</b> & \ back`, "line\nbreak\ttab\u2028", "héllo ☃ \U0001F6A2", "\x01",
		0, -1, 3.25, 1e21, -0.000001, 123456789012, true, false, nil,
		[]any{1, "two"}, map[string]any{"nested": []int{1}}}
	keys := []string{"hull_number", "count", "", "a b", "é", "quote\"d", "back\\slash", "<tag>", "x"}
	for i := range 2000 {
		m := map[string]any{}
		for range rng.IntN(5) {
			m[keys[rng.IntN(len(keys))]] = values[rng.IntN(len(values))]
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		got, err := storedAttributes(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d: %s:\n got %q\nwant %q", i, b, got, want)
		}
		flat := true
		for k, v := range m {
			switch v.(type) {
			case []any, map[string]any:
				flat = false
			}
			if strings.ContainsAny(k, `"\<>é`) {
				flat = false
			}
		}
		if _, ok := compactAttributes(b); ok != flat {
			t.Errorf("compactAttributes(%s) read it: %v, want %v", b, ok, flat)
		}
	}
}

func TestCompactAttributesDeclineWhatIsNotJSON(t *testing.T) {
	for _, b := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":01}`, `{"a":1.}`, `{"a":tru}`, `{"a":nullx}`,
		`{"a":"x}`, `{"a":"\x"}`, `{"a":"\u12g4"}`, `{"a":"` + "\x01" + `"}`, `{"a":1}x`, `{}x`, `{"a":1 }`, `{ "a":1}`, `{"a":-}`} {
		if m, ok := compactAttributes([]byte(b)); ok {
			t.Errorf("compactAttributes(%q) = %v, want it declined", b, m)
		}
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal([]byte(b), &want)
		got, err := storedAttributes([]byte(b))
		if (err != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("storedAttributes(%q) = %q, %v; json.Unmarshal %q, %v", b, got, err, want, wantErr)
		}
	}
	// A value's capacity ends with it: appending to it leaves the next one alone.
	m, ok := compactAttributes([]byte(`{"a":"x","b":"y"}`))
	if !ok {
		t.Fatal("declined")
	}
	_ = append(m["a"], "zzzzzzzz"...)
	if string(m["b"]) != `"y"` {
		t.Errorf("b = %s after an append to a", m["b"])
	}
}

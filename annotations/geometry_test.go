package annotations

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// wantValidation fails the test unless err is a *ValidationError on field.
func wantValidation(t *testing.T, err error, field string) *ValidationError {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got error %v (%T), want a *ValidationError on %q", err, err, field)
	}
	if ve.Field != field {
		t.Fatalf("got a ValidationError on %q (%v), want one on %q", ve.Field, ve, field)
	}
	return ve
}

func TestGeometryJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		json string
		want Geometry
	}{
		{
			name: "ok, point",
			json: `{"type":"Point","coordinates":[12.5,7.25]}`,
			want: PointGeometry(Position{12.5, 7.25}),
		},
		{
			name: "ok, line string",
			json: `{"type":"LineString","coordinates":[[0,0],[3,4],[10.125,0.5]]}`,
			want: LineGeometry([]Position{{0, 0}, {3, 4}, {10.125, 0.5}}),
		},
		{
			name: "ok, polygon with a hole",
			json: `{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[2,2],[2,4],[4,4],[4,2],[2,2]]]}`,
			want: PolygonGeometry(
				[]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}},
				[]Position{{2, 2}, {2, 4}, {4, 4}, {4, 2}, {2, 2}},
			),
		},
		{
			name: "ok, sub-pixel coordinates keep their precision",
			json: `{"type":"Point","coordinates":[0.000001,1234.56789]}`,
			want: PointGeometry(Position{0.000001, 1234.56789}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g Geometry
			if err := json.Unmarshal([]byte(tt.json), &g); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			if !sameGeometry(g, tt.want) {
				t.Errorf("unmarshal: got %+v, want %+v", g, tt.want)
			}
			b, err := json.Marshal(g)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if string(b) != tt.json {
				t.Errorf("marshal: got %s, want %s", b, tt.json)
			}
		})
	}
}

func sameGeometry(a, b Geometry) bool {
	if a.Type != b.Type || len(a.Coordinates) != len(b.Coordinates) {
		return false
	}
	for i := range a.Coordinates {
		if len(a.Coordinates[i]) != len(b.Coordinates[i]) {
			return false
		}
		for j := range a.Coordinates[i] {
			if a.Coordinates[i][j] != b.Coordinates[i][j] {
				return false
			}
		}
	}
	return true
}

func TestGeometryUnmarshalRejects(t *testing.T) {
	tests := []struct {
		name        string
		json        string
		wantMessage string // a part of the message the analyst reads
	}{
		{"nok, NaN string left by NormalizeNonFinite", `{"type":"Point","coordinates":["NaN",1]}`, "NaN"},
		{"nok, Infinity string", `{"type":"Point","coordinates":[1,"Infinity"]}`, "Infinity"},
		{"nok, -Infinity string inside a polygon", `{"type":"Polygon","coordinates":[[[0,0],[1,0],["-Infinity",1],[0,0]]]}`, "-Infinity"},
		{"nok, 1e999 overflows to infinity", `{"type":"Point","coordinates":[1e999,1]}`, "finite"},
		{"nok, -1e999 in a line", `{"type":"LineString","coordinates":[[0,0],[-1e999,1]]}`, "finite"},
		{"nok, position of three numbers", `{"type":"Point","coordinates":[1,2,3]}`, "exactly two"},
		{"nok, position of one number", `{"type":"LineString","coordinates":[[1],[2,3]]}`, "exactly two"},
		{"nok, coordinate is a boolean", `{"type":"Point","coordinates":[true,1]}`, "not a number"},
		{"nok, coordinate is an object", `{"type":"Point","coordinates":[{"x":1},1]}`, "not a number"},
		{"nok, position is not an array", `{"type":"LineString","coordinates":[5,6]}`, "array [x, y]"},
		{"nok, polygon coordinates are not rings", `{"type":"Polygon","coordinates":{"ring":1}}`, "array of rings"},
		{"nok, unsupported type", `{"type":"MultiPoint","coordinates":[[1,2]]}`, "MultiPoint"},
		{"nok, type missing", `{"coordinates":[1,2]}`, "type is missing"},
		{"nok, coordinates missing", `{"type":"Point"}`, "coordinates are missing"},
		{"nok, coordinates null", `{"type":"Point","coordinates":null}`, "coordinates are missing"},
		{"nok, not an object", `[1,2]`, "GeoJSON geometry object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g Geometry
			err := g.UnmarshalJSON([]byte(tt.json))
			ve := wantValidation(t, err, "geometry")
			if !strings.Contains(ve.Message, tt.wantMessage) {
				t.Errorf("got message %q, want it to mention %q", ve.Message, tt.wantMessage)
			}
		})
	}
}

func TestNormalizeNonFinite(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		want        string
		wantChanged bool
	}{
		{"ok, bare NaN quoted", `[NaN,1]`, `["NaN",1]`, true},
		{"ok, bare Infinity quoted", `[1, Infinity]`, `[1, "Infinity"]`, true},
		{"ok, bare -Infinity quoted as one token", `[-Infinity,2]`, `["-Infinity",2]`, true},
		{"ok, every occurrence quoted", `{"coordinates":[[NaN,Infinity],[-Infinity,NaN]]}`, `{"coordinates":[["NaN","Infinity"],["-Infinity","NaN"]]}`, true},
		{"ok, string containing NaN left alone", `{"note":"NaN and Infinity are not numbers"}`, `{"note":"NaN and Infinity are not numbers"}`, false},
		{"ok, key named NaN left alone", `{"NaN":1}`, `{"NaN":1}`, false},
		{"ok, escaped quote does not end the string", `{"note":"say \"NaN\" Infinity","x":NaN}`, `{"note":"say \"NaN\" Infinity","x":"NaN"}`, true},
		{"ok, escaped backslash before the closing quote", `{"a":"\\","b":NaN}`, `{"a":"\\","b":"NaN"}`, true},
		{"ok, ordinary JSON unchanged", `{"type":"Point","coordinates":[1.5,-2e3]}`, `{"type":"Point","coordinates":[1.5,-2e3]}`, false},
		{"ok, empty body unchanged", ``, ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := NormalizeNonFinite([]byte(tt.in))
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if changed != tt.wantChanged {
				t.Errorf("got changed = %v, want %v", changed, tt.wantChanged)
			}
		})
	}
}

func TestNormalizeNonFiniteThenUnmarshalNamesTheValue(t *testing.T) {
	body, changed := NormalizeNonFinite([]byte(`{"type":"Point","coordinates":[NaN,4]}`))
	if !changed {
		t.Fatalf("got changed = false, want true")
	}
	var g Geometry
	ve := wantValidation(t, json.Unmarshal(body, &g), "geometry")
	if !strings.Contains(ve.Message, `"NaN"`) {
		t.Errorf("got message %q, want it to name \"NaN\"", ve.Message)
	}
}

// rotatedBox returns the closed ring of a w×h box rotated by deg degrees about (cx, cy).
func rotatedBox(cx, cy, w, h, deg float64) []Position {
	th := deg * math.Pi / 180
	ux, uy := math.Cos(th)*w/2, math.Sin(th)*w/2
	vx, vy := -math.Sin(th)*h/2, math.Cos(th)*h/2
	r := []Position{
		{cx - ux - vx, cy - uy - vy},
		{cx + ux - vx, cy + uy - vy},
		{cx + ux + vx, cy + uy + vy},
		{cx - ux + vx, cy - uy + vy},
	}
	return append(r, r[0])
}

func roundRing(r []Position, step float64) []Position {
	out := make([]Position, len(r))
	for i, p := range r {
		out[i] = Position{math.Round(p[0]/step) * step, math.Round(p[1]/step) * step}
	}
	return out
}

func TestGeometryValidate(t *testing.T) {
	const width, height = 200, 100
	square := []Position{{10, 10}, {60, 10}, {60, 40}, {10, 40}, {10, 10}}
	tests := []struct {
		name      string
		shape     Shape
		geometry  Geometry
		wantField string // "" when the geometry is acceptable
	}{
		{"ok, point inside image", ShapePoint, PointGeometry(Position{100.5, 50.25}), ""},
		{"ok, point on the top-left corner (0, 0)", ShapePoint, PointGeometry(Position{0, 0}), ""},
		{"ok, point on the bottom-right corner (width, height)", ShapePoint, PointGeometry(Position{width, height}), ""},
		{"nok, point at x = -0.001", ShapePoint, PointGeometry(Position{-0.001, 10}), "geometry"},
		{"nok, point at y = -0.001", ShapePoint, PointGeometry(Position{10, -0.001}), "geometry"},
		{"nok, point at x = width + 0.001", ShapePoint, PointGeometry(Position{width + 0.001, 10}), "geometry"},
		{"nok, point at y = height + 0.001", ShapePoint, PointGeometry(Position{10, height + 0.001}), "geometry"},
		{"nok, point far outside image", ShapePoint, PointGeometry(Position{1e9, 1e9}), "geometry"},
		{"nok, point with NaN", ShapePoint, PointGeometry(Position{math.NaN(), 1}), "geometry"},
		{"nok, point with infinity", ShapePoint, PointGeometry(Position{1, math.Inf(1)}), "geometry"},

		{"ok, line of two positions", ShapeLine, LineGeometry([]Position{{0, 0}, {200, 100}}), ""},
		{"ok, line of many positions", ShapeLine, LineGeometry([]Position{{1, 1}, {2, 5}, {30, 7}, {4, 90}}), ""},
		{"nok, line of one position", ShapeLine, LineGeometry([]Position{{1, 1}}), "geometry"},
		{"nok, line with a position outside image", ShapeLine, LineGeometry([]Position{{1, 1}, {201, 1}}), "geometry"},

		{"ok, polygon inside image", ShapePolygon, PolygonGeometry([]Position{{10, 10}, {50, 12}, {30, 60}, {10, 10}}), ""},
		{"ok, polygon along every edge of the image", ShapePolygon, PolygonGeometry([]Position{{0, 0}, {width, 0}, {width, height}, {0, height}, {0, 0}}), ""},
		{"ok, polygon with a hole", ShapePolygon, PolygonGeometry(square, []Position{{20, 20}, {30, 20}, {30, 30}, {20, 30}, {20, 20}}), ""},
		{"nok, ring not closed", ShapePolygon, PolygonGeometry([]Position{{10, 10}, {50, 12}, {30, 60}, {11, 10}}), "geometry"},
		{"nok, ring of 3 positions", ShapePolygon, PolygonGeometry([]Position{{10, 10}, {50, 12}, {10, 10}}), "geometry"},
		{"nok, ring with no area", ShapePolygon, PolygonGeometry([]Position{{10, 10}, {20, 20}, {30, 30}, {10, 10}}), "geometry"},
		{"nok, polygon without rings", ShapePolygon, PolygonGeometry(), "geometry"},
		{"nok, hole not closed", ShapePolygon, PolygonGeometry(square, []Position{{20, 20}, {30, 20}, {30, 30}, {20, 31}}), "geometry"},
		{"nok, hole too short", ShapePolygon, PolygonGeometry(square, []Position{{20, 20}, {30, 20}, {20, 20}}), "geometry"},
		{"nok, hole outside image", ShapePolygon, PolygonGeometry(square, []Position{{20, 20}, {300, 20}, {30, 30}, {20, 20}}), "geometry"},

		{"ok, rectangle axis-aligned", ShapeRectangle, PolygonGeometry(square), ""},
		{"ok, rectangle drawn the other way round", ShapeRectangle, PolygonGeometry([]Position{{10, 10}, {10, 40}, {60, 40}, {60, 10}, {10, 10}}), ""},
		{"nok, rectangle rotated", ShapeRectangle, PolygonGeometry(rotatedBox(100, 50, 40, 20, 30)), "geometry"},
		{"nok, rectangle of zero width", ShapeRectangle, PolygonGeometry([]Position{{10, 10}, {10, 10}, {10, 40}, {10, 40}, {10, 10}}), "geometry"},
		{"nok, rectangle as a triangle", ShapeRectangle, PolygonGeometry([]Position{{10, 10}, {60, 10}, {10, 40}, {10, 10}}), "geometry"},
		{"nok, rectangle with six positions", ShapeRectangle, PolygonGeometry([]Position{{10, 10}, {30, 10}, {60, 10}, {60, 40}, {10, 40}, {10, 10}}), "geometry"},
		{"nok, rectangle with a hole", ShapeRectangle, PolygonGeometry(square, []Position{{20, 20}, {30, 20}, {30, 30}, {20, 30}, {20, 20}}), "geometry"},

		{"ok, rotated rectangle at 30°", ShapeRotatedRectangle, PolygonGeometry(rotatedBox(100, 50, 80, 20, 30)), ""},
		{"ok, rotated rectangle 100×15 at 30° rounded to 0.01 px", ShapeRotatedRectangle, PolygonGeometry(roundRing(rotatedBox(100, 50, 100, 15, 30), 0.01)), ""},
		{"ok, rotated rectangle 100×15 at 57° rounded to 0.01 px", ShapeRotatedRectangle, PolygonGeometry(roundRing(rotatedBox(100.123, 49.876, 100, 15, 57), 0.01)), ""},
		{"ok, small boat 10×3 at 37° rounded to 0.01 px", ShapeRotatedRectangle, PolygonGeometry(roundRing(rotatedBox(20.5, 20.5, 10, 3, 37), 0.01)), ""},
		{"ok, small boat 10×3 at 113° rounded to 0.01 px", ShapeRotatedRectangle, PolygonGeometry(roundRing(rotatedBox(20.5, 20.5, 10, 3, 113), 0.01)), ""},
		{"nok, 100×15 box whose far side is skewed by half a pixel", ShapeRotatedRectangle, PolygonGeometry([]Position{{10, 10}, {110, 10}, {110.5, 25}, {10.5, 25}, {10, 10}}), "geometry"},
		{"ok, rotated rectangle that happens to be axis-aligned", ShapeRotatedRectangle, PolygonGeometry(square), ""},
		{"nok, rotated rectangle that is a rhombus", ShapeRotatedRectangle, PolygonGeometry([]Position{{50, 50}, {80, 40}, {110, 50}, {80, 60}, {50, 50}}), "geometry"},
		{"nok, rotated rectangle that is a parallelogram", ShapeRotatedRectangle, PolygonGeometry([]Position{{50, 50}, {100, 50}, {110, 70}, {60, 70}, {50, 50}}), "geometry"},
		{"nok, rotated rectangle with a repeated corner", ShapeRotatedRectangle, PolygonGeometry([]Position{{10, 10}, {60, 10}, {60, 10}, {10, 40}, {10, 10}}), "geometry"},
		{"nok, rotated rectangle partly outside image", ShapeRotatedRectangle, PolygonGeometry(rotatedBox(10, 10, 80, 20, 30)), "geometry"},

		{"nok, point given as a LineString", ShapePoint, LineGeometry([]Position{{1, 1}, {2, 2}}), "geometry"},
		{"nok, line given as a Point", ShapeLine, PointGeometry(Position{1, 1}), "geometry"},
		{"nok, polygon given as a LineString", ShapePolygon, LineGeometry(square), "geometry"},
		{"nok, rectangle given as a Point", ShapeRectangle, PointGeometry(Position{1, 1}), "geometry"},
		{"nok, unknown shape", Shape("circle"), PointGeometry(Position{1, 1}), "shape"},
		{"nok, empty shape", Shape(""), PointGeometry(Position{1, 1}), "shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.geometry.Validate(tt.shape, width, height)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			wantValidation(t, err, tt.wantField)
		})
	}
}

func TestGeometryMeasure(t *testing.T) {
	const eps = 1e-9
	tests := []struct {
		name     string
		shape    Shape
		geometry Geometry
		want     Measures
	}{
		{"ok, 3-4-5 line", ShapeLine, LineGeometry([]Position{{0, 0}, {3, 4}}), Measures{LengthPx: 5}},
		{"ok, line of two segments", ShapeLine, LineGeometry([]Position{{1, 1}, {4, 5}, {4, 11}}), Measures{LengthPx: 11}},
		{"ok, point has no measures", ShapePoint, PointGeometry(Position{3, 4}), Measures{}},
		{
			"ok, rectangle 10×4",
			ShapeRectangle, PolygonGeometry([]Position{{0, 0}, {10, 0}, {10, 4}, {0, 4}, {0, 0}}),
			Measures{LengthPx: 10, WidthPx: 4, AreaPx2: 40, PerimeterPx: 28},
		},
		{
			"ok, rectangle drawn counter-clockwise has the same measures",
			ShapeRectangle, PolygonGeometry([]Position{{0, 0}, {0, 4}, {10, 4}, {10, 0}, {0, 0}}),
			Measures{LengthPx: 10, WidthPx: 4, AreaPx2: 40, PerimeterPx: 28},
		},
		{
			"ok, polygon with a hole: area without the hole, perimeter of both rings",
			ShapePolygon, PolygonGeometry(
				[]Position{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}},
				[]Position{{2, 2}, {2, 4}, {4, 4}, {4, 2}, {2, 2}},
			),
			Measures{AreaPx2: 96, PerimeterPx: 48},
		},
		{
			"ok, rotated rectangle 100×15 at 30°",
			ShapeRotatedRectangle, PolygonGeometry(rotatedBox(100, 100, 100, 15, 30)),
			Measures{LengthPx: 100, WidthPx: 15, AreaPx2: 1500, PerimeterPx: 230},
		},
		{
			"ok, rotated rectangle whose first side is the short one",
			ShapeRotatedRectangle, PolygonGeometry(rotatedBox(100, 100, 15, 100, 120)),
			Measures{LengthPx: 100, WidthPx: 15, AreaPx2: 1500, PerimeterPx: 230},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.geometry.Measure(tt.shape)
			for _, m := range []struct {
				name      string
				got, want float64
			}{
				{"length", got.LengthPx, tt.want.LengthPx},
				{"width", got.WidthPx, tt.want.WidthPx},
				{"area", got.AreaPx2, tt.want.AreaPx2},
				{"perimeter", got.PerimeterPx, tt.want.PerimeterPx},
			} {
				if math.Abs(m.got-m.want) > eps*math.Max(1, m.want) {
					t.Errorf("%s: got %g, want %g", m.name, m.got, m.want)
				}
			}
		})
	}
}

func TestGeometryMarshalRefusesMalformedPoint(t *testing.T) {
	_, err := json.Marshal(Geometry{Type: "Point"})
	if err == nil {
		t.Fatalf("got no error marshalling a point without a position, want one")
	}
	b, err := json.Marshal(PolygonGeometry())
	if err != nil {
		t.Fatalf("marshal empty polygon: %v", err)
	}
	if want := `{"type":"Polygon","coordinates":[]}`; !bytes.Equal(b, []byte(want)) {
		t.Errorf("got %s, want %s", b, want)
	}
}

// TestScanGeometryAgreesWithTheSlowWay: the one-pass reader of plain geometries gives
// what the general reader gives, and leaves everything else to it.
func TestScanGeometryAgreesWithTheSlowWay(t *testing.T) {
	slow := func(data string) (Geometry, error) {
		var g Geometry
		var raw struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		}
		if err := json.Unmarshal([]byte(data), &raw); err != nil {
			return g, err
		}
		switch raw.Type {
		case "Point":
			p, err := parsePosition(raw.Coordinates)
			return PointGeometry(p), err
		case "LineString":
			r, err := parseRing(raw.Coordinates)
			return LineGeometry(r), err
		}
		var items []json.RawMessage
		json.Unmarshal(raw.Coordinates, &items)
		var rings [][]Position
		for _, it := range items {
			r, err := parseRing(it)
			if err != nil {
				return g, err
			}
			rings = append(rings, r)
		}
		return PolygonGeometry(rings...), nil
	}
	for _, in := range []string{
		`{"type":"Point","coordinates":[1.5,-2.25]}`,
		` { "coordinates" : [ 1e3 , -0 ] , "type" : "Point" } `,
		`{"type":"LineString","coordinates":[[0,0],[1.25E+2,3.5e-3]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,3],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]}`,
		`{"type":"Polygon","coordinates":[]}`,
		"{\"type\":\"LineString\",\n\t\"coordinates\":[[1,2],\r\n[3,4]]}",
	} {
		fast, ok := scanGeometry([]byte(in))
		want, err := slow(in)
		if !ok || err != nil || !sameGeometry(fast, want) {
			t.Errorf("%s: fast %v %v, slow %v %v", in, fast, ok, want, err)
		}
	}
	for _, in := range []string{
		`{"type":"Point","coordinates":[1e999,0]}`,
		`{"type":"Point","coordinates":["NaN",0]}`,
		`{"type":"Point","coordinates":[01,0]}`,
		`{"type":"Point","coordinates":[1,2,3]}`,
		`{"type":"Point","coordinates":[.5,2]}`,
		`{"type":"Point","coordinates":[0x10,2]}`,
		`{"type":"Point","coordinates":[1,2],"bbox":[1,2,1,2]}`,
		`{"type":"Poi\u006et","coordinates":[1,2]}`,
		`{"type":"Point"}`,
		`{"type":"Point","coordinates":[1,2]} x`,
		`{"type":"MultiPoint","coordinates":[[1,2]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],]}`,
	} {
		if g, ok := scanGeometry([]byte(in)); ok {
			t.Errorf("%s: read in one pass as %v; want it left to the slow way", in, g)
		}
	}
}

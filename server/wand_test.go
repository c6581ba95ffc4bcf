package server_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/http"
	"testing"

	"github.com/satmark/satmark/imagery"
)

// shipAtSea is a PNG of textured water with one light hull, pointed at the bow, and the
// hull's area in pixels.
func shipAtSea(t *testing.T, w, h int, cx, cy, length, beam, angle float64) ([]byte, float64) {
	t.Helper()
	data, areas := fleetAtSea(t, w, h, []hull{{cx, cy, length, beam, angle, false}})
	return data, areas[0]
}

// hull is a light ship on the water: its centre, length, beam and heading (degrees,
// clockwise on screen from +x), and whether it has a bright bridge aft.
type hull struct {
	cx, cy, length, beam, angle float64
	bridge                      bool
}

// fleetAtSea is a PNG of textured water with the hulls, each pointed at the bow, and
// their areas in pixels.
func fleetAtSea(t *testing.T, w, h int, ships []hull) ([]byte, []float64) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	areas := make([]float64, len(ships))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8((x*7 + y*13) % 9)
			c := color.NRGBA{20 + n, 60 + n, 110 + n, 255}
			for i, s := range ships {
				a := s.angle * math.Pi / 180
				u := (float64(x)+0.5-s.cx)*math.Cos(a) + (float64(y)+0.5-s.cy)*math.Sin(a)
				v := -(float64(x)+0.5-s.cx)*math.Sin(a) + (float64(y)+0.5-s.cy)*math.Cos(a)
				half := s.beam / 2
				if u > s.length/4 {
					half *= (s.length/2 - u) / (s.length / 4)
				}
				if u >= -s.length/2 && u <= s.length/2 && math.Abs(v) <= half {
					c = color.NRGBA{150 + n, 150 + n, 145 + n, 255}
					if s.bridge && u < -s.length/5 && u > -s.length/2.5 && math.Abs(v) <= s.beam/3 {
						c = color.NRGBA{235, 235, 230, 255}
					}
					areas[i]++
				}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), areas
}

func TestWandOutlinesAShip(t *testing.T) {
	ts := newTestServer(t, imagery.Limits{MaxBytes: 16 << 20, MaxPixels: 50_000_000})
	data, want := shipAtSea(t, 1600, 1200, 900, 700, 220, 32, 25)
	img := ts.mustUpload(t, filePart("ship.png", data))
	ts.buildPyramids(t)
	for _, res := range []float64{1, 2.5} {
		rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/wand", map[string]any{"x": 890, "y": 700, "resolution": res})
		wantStatus(t, rec, http.StatusOK)
		var got struct {
			Geometry struct {
				Type        string         `json:"type"`
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
			Level int `json:"level"`
		}
		decode(t, rec, &got)
		r := got.Geometry.Coordinates[0]
		var s float64
		for i := 0; i+1 < len(r); i++ {
			s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
		}
		area := math.Abs(s) / 2
		t.Logf("resolution %g: level %d, %d positions, %.0f px² of %.0f", res, got.Level, len(r), area, want)
		if math.Abs(area-want) > 0.1*want {
			t.Errorf("resolution %g: the outline holds %.0f px², the ship %.0f", res, area, want)
		}
		// The created polygon is accepted as an annotation.
		rec = ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/annotations", map[string]any{"label": "vessel", "shape": "polygon", "geometry": got.Geometry})
		wantStatus(t, rec, http.StatusCreated)
	}
	for _, tt := range []struct {
		name, body  string
		status      int
		code, field string
		words       []string
	}{
		{"open water", `{"x": 100, "y": 100}`, 422, "no_region", "x", []string{"no distinct object"}},
		{"outside the image", `{"x": 1600, "y": 10}`, 422, "invalid", "x", []string{"outside the image"}},
		{"no click", `{"tolerance": 30}`, 422, "invalid", "x", nil},
		{"a sensitivity of 0", `{"x": 890, "y": 700, "tolerance": 0}`, 422, "invalid", "tolerance", nil},
		{"a negative resolution", `{"x": 890, "y": 700, "resolution": -1}`, 422, "invalid", "resolution", nil},
		{"not JSON", `{"x": `, 400, "malformed", "", nil},
		{"a click and a drag", `{"x": 890, "y": 700, "points": [[890, 700]]}`, 422, "invalid", "x", []string{"not both"}},
		{"a drag off the image", `{"points": [[890, 700], [-3, 700]]}`, 422, "invalid", "x", []string{"outside the image"}},
		{"a drag wider than the window", `{"points": [[10, 700], [1500, 700]]}`, 422, "invalid", "points", []string{"spans more"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/wand", tt.body), tt.status, tt.code, tt.field, tt.words...)
		})
	}
}

func TestOutlineFromABox(t *testing.T) {
	ts := newTestServer(t, imagery.Limits{MaxBytes: 16 << 20, MaxPixels: 50_000_000})
	data, want := shipAtSea(t, 1600, 1200, 900, 700, 220, 32, 25)
	img := ts.mustUpload(t, filePart("ship.png", data))
	ts.buildPyramids(t)
	rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/outline", `{"box": [770, 620, 1030, 780]}`)
	wantStatus(t, rec, http.StatusOK)
	var got struct {
		Geometry struct {
			Coordinates [][][2]float64 `json:"coordinates"`
		} `json:"geometry"`
	}
	decode(t, rec, &got)
	r := got.Geometry.Coordinates[0]
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	if area := math.Abs(s) / 2; math.Abs(area-want) > 0.1*want {
		t.Errorf("the outline holds %.0f px², the ship %.0f", area, want)
	}
	for _, tt := range []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"open water", `{"box": [50, 50, 300, 300]}`, 422, "no_region", "box"},
		{"no box", `{}`, 422, "invalid", "box"},
		{"a box off the image", `{"box": [1500, 10, 1700, 100]}`, 422, "invalid", "box"},
		{"a box too small", `{"box": [10, 10, 13, 13]}`, 422, "invalid", "box"},
		{"a box too large for the zoom", `{"box": [0, 0, 1500, 1100]}`, 422, "invalid", "box"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/images/"+img.ID+"/outline", tt.body), tt.status, tt.code, tt.field)
		})
	}
}

package server_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/sampledata"
)

// The sun over the sample scenes, and shadows measured on them: the port is placed at
// Vladivostok and claims 8–13 October 2024; its generator draws every shadow towards
// 330° with 1.4 m of shadow a metre of height (a sun 35.5° high), and lists its crane
// towers (22 m) and breakwater light (14 m) with their shadows.

type sunAnswer struct {
	Place struct {
		Lon, Lat float64
		Basis    string
	} `json:"place"`
	Window struct {
		From, To  time.Time
		Basis     string
		Zone      string
		GivenFrom string `json:"given_from"`
	} `json:"window"`
	DeltaT        float64  `json:"delta_t_s"`
	NorthImageDeg *float64 `json:"north_image_deg"`
	At            []sunAt  `json:"at"`
	Daylight      []sunAt  `json:"daylight"`
}

type sunAt struct {
	When           string
	Time           time.Time
	AzimuthDeg     float64  `json:"azimuth_deg"`
	ElevationDeg   float64  `json:"elevation_deg"`
	AboveHorizon   bool     `json:"above_horizon"`
	ShadowAzimuth  float64  `json:"shadow_azimuth_deg"`
	ShadowImageDeg *float64 `json:"shadow_image_deg"`
}

type shadowAnswer struct {
	LengthM      float64  `json:"length_m"`
	LengthBasis  string   `json:"length_basis"`
	AzimuthDeg   *float64 `json:"azimuth_deg"`
	ToleranceDeg *float64 `json:"tolerance_deg"`
	Middle       sunAt    `json:"middle"`
	HeightM      *float64 `json:"height_m"`
	Fits         []struct {
		From, To     time.Time
		Best         sunAt
		HeightM      *float64    `json:"height_m"`
		HeightRangeM *[2]float64 `json:"height_range_m"`
	} `json:"fits"`
	FitsClaim *bool  `json:"fits_claim"`
	Summary   string `json:"summary"`
}

// sampleScenes uploads the sample port and base through the API, as an analyst would
// with their release: the port with a world file that places it where the sample data
// does (north up, about 1 m a pixel at Vladivostok), the base with a ground sample
// distance of 1 m. It returns their images and the port's scene as generated (for the
// shadows it drew).
func sampleScenes(t *testing.T, ts *testServer) (port, base annotations.Image, portScene sampledata.Scene) {
	t.Helper()
	scenes, err := sampledata.Scenes()
	if err != nil {
		t.Fatal(err)
	}
	upload := func(sc sampledata.Scene, more ...part) annotations.Image {
		p := sc.Provenance
		return ts.mustUpload(t, append([]part{filePart(sc.FileName, sc.JPEG), field("title", p.Title), field("publisher", p.Publisher),
			field("captured_from", p.CapturedFrom), field("captured_to", p.CapturedTo), field("location_name", p.LocationName)}, more...)...)
	}
	// The world file names the centre of the top-left pixel: the geotransform's corner
	// plus half a pixel.
	const a, e = 1.2287e-05, -9.0013e-06
	worldFile := fmt.Sprintf("%.10g\n0\n0\n%.10g\n%.12g\n%.12g\n", a, e, 131.865+a/2, 43.125+e/2)
	for _, sc := range scenes {
		switch sc.FileName {
		case "synthetic-port-scene.jpg":
			port, portScene = upload(sc, field("worldfile", worldFile)), sc
		case "synthetic-base-scene.jpg":
			base = upload(sc)
			wantStatus(t, ts.doJSON(t, http.MethodPut, "/api/v1/images/"+base.ID+"/georeference", `{"gsd_m": 1}`), http.StatusOK)
		}
	}
	if port.ID == "" || base.ID == "" {
		t.Fatal("the sample port or base is missing")
	}
	return port, base, portScene
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestSunOverTheSamplePort(t *testing.T) {
	ts := newTestServer(t, imagery.DefaultLimits)
	portImage, baseImage, port := sampleScenes(t, ts)
	id := portImage.ID

	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+id+"/sun", nil)
	wantStatus(t, rec, http.StatusOK)
	var a sunAnswer
	decode(t, rec, &a)
	// The image's centre, through its geotransform: (2000, 1500) px.
	if !within(a.Place.Lon, 131.865+2000*1.2287e-05, 1e-9) || !within(a.Place.Lat, 43.125-1500*9.0013e-06, 1e-9) || a.Place.Basis != "georeference" {
		t.Errorf("place = %+v, want the image's centre through its georeference", a.Place)
	}
	// "2024-10-08" to "2024-10-13" are whole days in the place's nautical zone, UTC+9.
	if want := time.Date(2024, 10, 7, 15, 0, 0, 0, time.UTC); !a.Window.From.Equal(want) || a.Window.Zone != "UTC+09:00" {
		t.Errorf("window from %s in %s, want %s in UTC+09:00", a.Window.From, a.Window.Zone, want)
	}
	if want := time.Date(2024, 10, 13, 15, 0, 0, 0, time.UTC); !a.Window.To.Equal(want) {
		t.Errorf("window to %s, want %s", a.Window.To, want)
	}
	if a.NorthImageDeg == nil || !within(math.Remainder(*a.NorthImageDeg, 360), 0, 0.01) {
		t.Errorf("north in the image at %v°, want up (0°)", a.NorthImageDeg)
	}
	if len(a.At) != 3 || a.At[0].When != "from" || a.At[1].When != "middle" || a.At[2].When != "to" {
		t.Fatalf("at = %+v, want from, middle, to", a.At)
	}
	// Local midnight at the three: the sun is down, so no shadows are drawn.
	for _, at := range a.At {
		if at.AboveHorizon || at.ShadowImageDeg != nil {
			t.Errorf("%s (%s): sun %.1f° high, shadow drawn at %v; want it below the horizon and none", at.When, at.Time, at.ElevationDeg, at.ShadowImageDeg)
		}
	}
	// Six days of daylight, about ten hours a day.
	if n := len(a.Daylight); n < 6*9 || n > 6*12 {
		t.Errorf("%d daylight hours, want about 60", n)
	}
	// One of them: 01:00 UTC on 8 October is 11:00 at Vladivostok (UTC+10), the sun in
	// the south-south-east; in this north-up image shadows are drawn as on the ground.
	var morning *sunAt
	for i, h := range a.Daylight {
		if h.Time.Equal(time.Date(2024, 10, 8, 1, 0, 0, 0, time.UTC)) {
			morning = &a.Daylight[i]
		}
	}
	if morning == nil || morning.AzimuthDeg < 135 || morning.AzimuthDeg > 150 || morning.ShadowImageDeg == nil ||
		!within(math.Remainder(*morning.ShadowImageDeg-morning.ShadowAzimuth, 360), 0, 0.05) {
		t.Errorf("the sun at 2024-10-08T01:00Z: %+v; want it in the south-south-east, shadows drawn as they fall", morning)
	}

	t.Run("ok, a crane tower's shadow: 22 m within 15 %, fitting every day of the claim", func(t *testing.T) {
		crane := port.Shadows[1]
		s := ts.measureShadow(t, id, crane.Foot, crane.Tip, "")
		wantStatus(t, s.rec, http.StatusOK)
		a := s.answer
		// 22 m at 1.4 m of shadow a metre, at about 1 m a pixel.
		if !within(a.LengthM, 22*1.4, 0.02*22*1.4) || a.LengthBasis != "georeference" {
			t.Errorf("shadow %.2f m (%s), want 30.8 m within 2 %% through the georeference", a.LengthM, a.LengthBasis)
		}
		if a.AzimuthDeg == nil || !within(*a.AzimuthDeg, 330, 0.5) {
			t.Errorf("shadow azimuth %v°, want 330°", a.AzimuthDeg)
		}
		// At the window's middle (local midnight) there is no sun to cast it.
		if a.Middle.AboveHorizon || a.HeightM != nil {
			t.Errorf("at the middle: sun above the horizon %v, height %v; want down and none", a.Middle.AboveHorizon, a.HeightM)
		}
		if a.FitsClaim == nil || !*a.FitsClaim || len(a.Fits) != 6 {
			t.Fatalf("fits_claim %v with %d fits, want true with one a day for 6 days: %s", a.FitsClaim, len(a.Fits), a.Summary)
		}
		for i, f := range a.Fits {
			day := time.Date(2024, 10, 8+i, 0, 0, 0, 0, time.FixedZone("UTC+10", 10*3600))
			if f.Best.Time.Sub(day) < 11*time.Hour || f.Best.Time.Sub(day) > 12*time.Hour {
				t.Errorf("fit %d at %s, want late morning at Vladivostok on %s", i, f.Best.Time, day.Format("2 January"))
			}
			if f.HeightM == nil || !within(*f.HeightM, crane.HeightM, 0.15*crane.HeightM) {
				t.Errorf("fit %d (%s, sun %.2f° high): height %v m, want %.0f m within 15 %%", i, f.Best.Time, f.Best.ElevationDeg, f.HeightM, crane.HeightM)
			}
			if f.HeightRangeM == nil || f.HeightRangeM[0] > *f.HeightM || f.HeightRangeM[1] < *f.HeightM {
				t.Errorf("fit %d: height range %v does not hold its height %v", i, f.HeightRangeM, f.HeightM)
			}
			if !within(math.Remainder(f.Best.ShadowAzimuth-*a.AzimuthDeg, 360), 0, *a.ToleranceDeg) {
				t.Errorf("fit %d: shadows towards %.2f°, measured %.2f° ± %.2f°", i, f.Best.ShadowAzimuth, *a.AzimuthDeg, *a.ToleranceDeg)
			}
		}
	})

	t.Run("ok, the breakwater light: 14 m within 15 %", func(t *testing.T) {
		light := port.Shadows[len(port.Shadows)-1]
		s := ts.measureShadow(t, id, light.Foot, light.Tip, "")
		wantStatus(t, s.rec, http.StatusOK)
		if len(s.answer.Fits) == 0 {
			t.Fatalf("no fits: %s", s.answer.Summary)
		}
		for _, f := range s.answer.Fits {
			if f.HeightM == nil || !within(*f.HeightM, light.HeightM, 0.15*light.HeightM) {
				t.Errorf("at %s: height %v m, want %.0f m within 15 %%", f.Best.Time, f.HeightM, light.HeightM)
			}
		}
	})

	t.Run("ok, a window the shadow does not fit: the afternoon of 8 October", func(t *testing.T) {
		crane := port.Shadows[0]
		s := ts.measureShadow(t, id, crane.Foot, crane.Tip, `,"from": "2024-10-08T04:00:00Z", "to": "2024-10-08T07:00:00Z"`)
		wantStatus(t, s.rec, http.StatusOK)
		if s.answer.FitsClaim == nil || *s.answer.FitsClaim || len(s.answer.Fits) != 0 {
			t.Errorf("fits_claim %v, %d fits; want false and none", s.answer.FitsClaim, len(s.answer.Fits))
		}
		// 05:30 UTC is 15:30 at Vladivostok: the sun in the south-west.
		if !s.answer.Middle.AboveHorizon || s.answer.Middle.AzimuthDeg < 200 || s.answer.HeightM == nil {
			t.Errorf("at the middle: %+v, height %v; want the afternoon sun and a height", s.answer.Middle, s.answer.HeightM)
		}
	})

	t.Run("ok, a viewer measures; the claim's window as times that do not fit", func(t *testing.T) {
		rec := ts.doJSON(t, http.MethodPatch, "/api/v1/images/"+id, `{"captured_from": "2024-10-09T05:00:00Z", "captured_to": "2024-10-09T06:00:00Z"}`)
		wantStatus(t, rec, http.StatusOK)
		t.Cleanup(func() {
			wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/images/"+id, `{"captured_from": "2024-10-08", "captured_to": "2024-10-13"}`), http.StatusOK)
		})
		crane := port.Shadows[2]
		body := fmt.Sprintf(`{"object": [%g, %g], "shadow_tip": [%g, %g]}`, crane.Foot[0], crane.Foot[1], crane.Tip[0], crane.Tip[1])
		viewer := ts.userToken(t, "vera", annotations.RoleViewer)
		rec = ts.doJSON(t, http.MethodPost, "/api/v1/images/"+id+"/shadow", body, "Authorization", "Bearer "+viewer)
		wantStatus(t, rec, http.StatusOK)
		var a shadowAnswer
		decode(t, rec, &a)
		if a.FitsClaim == nil || *a.FitsClaim {
			t.Errorf("fits_claim = %v, want false", a.FitsClaim)
		}
		if want := "does not fit"; !containsFold(a.Summary, want) || !containsFold(a.Summary, "claimed capture window") {
			t.Errorf("summary %q, want it to say the shadow does not fit the claimed capture window", a.Summary)
		}
	})

	t.Run("nok, bad shadows", func(t *testing.T) {
		for _, c := range []struct {
			name, body  string
			status      int
			code, field string
			words       []string
		}{
			{"nok, no shadow tip", `{"object": [10, 10]}`, 400, "malformed", "shadow_tip", []string{"required"}},
			{"nok, a point of one number", `{"object": [10], "shadow_tip": [20, 20]}`, 400, "malformed", "object", []string{"two numbers"}},
			{"nok, a point of three numbers", `{"object": [10, 10, 10], "shadow_tip": [20, 20]}`, 400, "malformed", "object", nil},
			{"nok, a point that is text", `{"object": "10,10", "shadow_tip": [20, 20]}`, 400, "malformed", "object", nil},
			{"nok, NaN", `{"object": [NaN, 10], "shadow_tip": [20, 20]}`, 400, "malformed", "object", []string{"number"}},
			{"nok, an unknown field", `{"object": [10, 10], "shadow_tip": [20, 20], "height": 3}`, 400, "malformed", "height", nil},
			{"nok, the foot outside the image", `{"object": [4000.5, 10], "shadow_tip": [20, 20]}`, 422, "invalid", "object", []string{"outside", "4000 × 3000"}},
			{"nok, the tip above the image", `{"object": [10, 10], "shadow_tip": [20, -1]}`, 422, "invalid", "shadow_tip", []string{"outside"}},
			{"nok, foot and tip the same", `{"object": [10, 10], "shadow_tip": [10, 10]}`, 422, "invalid", "shadow_tip", []string{"two different points"}},
			{"nok, a tolerance of 0°", `{"object": [10, 10], "shadow_tip": [20, 20], "tolerance_deg": 0}`, 422, "invalid", "tolerance_deg", nil},
			{"nok, a window ending before it starts", `{"object": [10, 10], "shadow_tip": [20, 20], "from": "2024-10-09", "to": "2024-10-08"}`, 400, "malformed", "to", []string{"before it starts"}},
			{"nok, a window end that is no date", `{"object": [10, 10], "shadow_tip": [20, 20], "from": "8 October"}`, 400, "malformed", "from", []string{"not a date"}},
			{"nok, a window in the year 7000", `{"object": [10, 10], "shadow_tip": [20, 20], "from": "7000-01-01", "to": "7000-01-02"}`, 422, "invalid", "from", []string{"−2000 to 6000"}},
			{"nok, a window of a year", `{"object": [10, 10], "shadow_tip": [20, 20], "from": "2024-01-01", "to": "2024-12-31"}`, 422, "invalid", "to", []string{"93 days"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				rec := ts.doJSON(t, http.MethodPost, "/api/v1/images/"+id+"/shadow", c.body)
				wantError(t, rec, c.status, c.code, c.field, c.words...)
			})
		}
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+id+"/sun?from=2024-10-09&to=2024-10-08", nil), 400, "malformed", "to", "before it starts")
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/nosuchimage/sun", nil), 404, "not_found", "")
	})

	t.Run("nok, an image that is not placed", func(t *testing.T) {
		base := baseImage.ID
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+base+"/sun", nil), 422, "not_placed", "", "not placed", "Fictional", "gives no coordinates")
		wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/images/"+base+"/shadow", `{"object": [10, 10], "shadow_tip": [20, 20]}`), 422, "not_placed", "", "not placed")
	})

	t.Run("ok, placed by its location name only: sun and height, no direction", func(t *testing.T) {
		base := baseImage.ID
		wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/images/"+base, `{"location_name": "Fictional base near Ussuriysk, 43.80° N, 131.95° E (synthetic)"}`), http.StatusOK)
		rec := ts.do(t, http.MethodGet, "/api/v1/images/"+base+"/sun?from=2024-10-08T02:00:00Z&to=2024-10-08T03:00:00Z", nil)
		wantStatus(t, rec, http.StatusOK)
		var a sunAnswer
		decode(t, rec, &a)
		if a.Place.Basis != "location_name" || !within(a.Place.Lat, 43.80, 1e-9) || !within(a.Place.Lon, 131.95, 1e-9) || a.Window.Basis != "request" {
			t.Errorf("place %+v, window %+v; want 43.80° N 131.95° E from the location name, the window asked for", a.Place, a.Window)
		}
		if a.NorthImageDeg != nil || a.At[1].ShadowImageDeg != nil || !a.At[1].AboveHorizon {
			t.Errorf("north %v, shadow drawn at %v, sun up %v; want no north, no direction in the image, the sun up", a.NorthImageDeg, a.At[1].ShadowImageDeg, a.At[1].AboveHorizon)
		}
		// 1 m a pixel: 30 px of shadow is 30 m; at the middle the sun is about 38° high.
		rec = ts.doJSON(t, http.MethodPost, "/api/v1/images/"+base+"/shadow", `{"object": [100, 100], "shadow_tip": [100, 70], "from": "2024-10-08T02:00:00Z", "to": "2024-10-08T03:00:00Z"}`)
		wantStatus(t, rec, http.StatusOK)
		var s shadowAnswer
		decode(t, rec, &s)
		if s.LengthBasis != "gsd" || !within(s.LengthM, 30, 1e-9) || s.AzimuthDeg != nil || s.FitsClaim != nil || s.HeightM == nil {
			t.Errorf("length %.2f m by %s, azimuth %v, fits_claim %v, height %v; want 30 m by the GSD, no azimuth or fit, a height", s.LengthM, s.LengthBasis, s.AzimuthDeg, s.FitsClaim, s.HeightM)
		}
		if want := 30 * math.Tan(s.Middle.ElevationDeg*math.Pi/180); s.HeightM != nil && !within(*s.HeightM, want, 1e-9) {
			t.Errorf("height %.3f m, want 30 m · tan(%.3f°) = %.3f m", *s.HeightM, s.Middle.ElevationDeg, want)
		}
		if !containsFold(s.Summary, "north") {
			t.Errorf("summary %q, want it to say north is unknown", s.Summary)
		}
	})

	t.Run("nok, no capture window", func(t *testing.T) {
		wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/images/"+id, `{"captured_from": "", "captured_to": ""}`), http.StatusOK)
		t.Cleanup(func() {
			wantStatus(t, ts.doJSON(t, http.MethodPatch, "/api/v1/images/"+id, `{"captured_from": "2024-10-08", "captured_to": "2024-10-13"}`), http.StatusOK)
		})
		wantError(t, ts.do(t, http.MethodGet, "/api/v1/images/"+id+"/sun", nil), 422, "no_capture_window", "captured_from", "no capture window")
		wantError(t, ts.doJSON(t, http.MethodPost, "/api/v1/images/"+id+"/shadow", `{"object": [10, 10], "shadow_tip": [20, 20]}`), 422, "no_capture_window", "captured_from")
	})
}

// measured is one POST …/shadow and its answer.
type measured struct {
	rec    *httptest.ResponseRecorder
	answer shadowAnswer
}

// measureShadow measures a shadow from foot to tip; more is added to the body's JSON
// object (`,"from": …`).
func (ts *testServer) measureShadow(t *testing.T, id string, foot, tip [2]float64, more string) measured {
	t.Helper()
	body := fmt.Sprintf(`{"object": [%g, %g], "shadow_tip": [%g, %g]%s}`, foot[0], foot[1], tip[0], tip[1], more)
	m := measured{rec: ts.doJSON(t, http.MethodPost, "/api/v1/images/"+id+"/shadow", body)}
	if m.rec.Code == http.StatusOK {
		decode(t, m.rec, &m.answer)
	}
	return m
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
	"github.com/satmark/satmark/geo"
	"github.com/satmark/satmark/sun"
)

// The sun over an image: where it stood, from the image's place and its claimed capture
// window, and where the shadows it cast fall in the image; and a shadow measured on the
// image: its length, the height of what casts it, and the moments of the window when the
// sun stood where it says. Neither writes anything.

// maxShadowWindow is the longest window a shadow is checked against: a quarter, about
// 130,000 positions of the sun and a second of work.
const maxShadowWindow = 93 * 24 * time.Hour

// sunAtmosphere is the air the sun is seen through: satmark knows no place's weather,
// so the standard atmosphere at sea level (its refraction is at most 0.03° for a sun
// 30° high, and is what SPA adds to the sun as seen).
var sunAtmosphere = sun.StandardPlace(0, 0)

// sunPlace is where an image is on the earth for the sun: the lon/lat of a pixel through
// its georeference, or the coordinates its location name gives.
type sunPlace struct {
	Lon   float64    `json:"lon"`
	Lat   float64    `json:"lat"`
	Pixel [2]float64 `json:"pixel,omitempty"` // the pixel it is the place of (the image's centre)
	// Basis is "georeference", or "location_name" when the image is not georeferenced
	// but its location name gives coordinates (north in the image is then unknown).
	Basis       string  `json:"basis"`
	ElevationM  float64 `json:"elevation_m"`
	PressureMb  float64 `json:"pressure_mbar"`
	Temperature float64 `json:"temperature_c"`

	placement formats.Placement
}

// observer is the place as SPA takes it.
func (p sunPlace) observer() sun.Place {
	o := sunAtmosphere
	o.Latitude, o.Longitude = p.Lat, p.Lon
	return o
}

// placeForSun finds where img is: its centre through its georeference, else coordinates
// in its location name. An image with neither is not placed (422 not_placed).
func (s *Server) placeForSun(ctx context.Context, img annotations.Image) (sunPlace, error) {
	p, err := s.placement(ctx, img)
	if err != nil {
		return sunPlace{}, err
	}
	sp := sunPlace{ElevationM: sunAtmosphere.Elevation, PressureMb: sunAtmosphere.Pressure, Temperature: sunAtmosphere.Temperature, placement: p}
	if p.Transformer != nil {
		cx, cy := float64(img.Width)/2, float64(img.Height)/2
		lon, lat, err := p.Transformer.Forward(cx, cy)
		if err != nil || !finite(lon) || !finite(lat) {
			return sunPlace{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "not_placed",
				Message: "the image's georeference does not place its centre on the earth, so where the sun stood is unknown"}
		}
		sp.Lon, sp.Lat, sp.Pixel, sp.Basis = lon, lat, [2]float64{cx, cy}, "georeference"
		return sp, nil
	}
	if lat, lon, ok := coordinatesIn(img.LocationName); ok {
		sp.Lon, sp.Lat, sp.Basis = lon, lat, "location_name"
		return sp, nil
	}
	msg := "the image is not placed: georeference it (control points, a GeoTIFF or a world file) to know where the sun stood"
	if name := strings.TrimSpace(img.LocationName); name != "" {
		msg += fmt.Sprintf("; its location name %q gives no coordinates (such as \"43.1168, 131.8855\")", name)
	}
	return sunPlace{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "not_placed", Message: msg}
}

// coordinatePair is a latitude and a longitude in decimal degrees, each with a decimal
// point, each optionally with ° and a hemisphere: "43.1168, 131.8855",
// "43.1168° N 131.8855° E", "-33.8688,151.2093".
var coordinatePair = regexp.MustCompile(`(-?\d{1,2}\.\d+)\s*°?\s*([NSns])?\s*[,;/ ]\s*(-?\d{1,3}\.\d+)\s*°?\s*([EWew])?`)

// coordinatesIn finds the first latitude and longitude written in text.
func coordinatesIn(text string) (lat, lon float64, ok bool) {
	m := coordinatePair.FindStringSubmatch(text)
	if m == nil {
		return 0, 0, false
	}
	lat, err1 := strconv.ParseFloat(m[1], 64)
	lon, err2 := strconv.ParseFloat(m[3], 64)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	if strings.EqualFold(m[2], "S") {
		lat = -lat
	}
	if strings.EqualFold(m[4], "W") {
		lon = -lon
	}
	if math.Abs(lat) > 90 || math.Abs(lon) > 180 {
		return 0, 0, false
	}
	return lat, lon, true
}

// sunWindow is the stretch of time the sun is looked at: the image's claimed capture
// window, or one the request gives.
type sunWindow struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Given are the ends as written (a date, or a date and time).
	GivenFrom string `json:"given_from"`
	GivenTo   string `json:"given_to"`
	// Basis is "capture_window" (the image's) or "request".
	Basis string `json:"basis"`
	// Zone is the time zone a date is a whole day in: the place's nautical zone.
	Zone string `json:"zone"`
}

func (w sunWindow) middle() time.Time { return w.From.Add(w.To.Sub(w.From) / 2) }

// windowForSun is the request's window (from, to) when it gives one, else the image's
// capture window. A date is the whole day at the place, in its nautical time zone
// (UTC + round(lon/15) hours: a release's "8 October" is a local date, and satmark knows
// no place's legal zone); a date and time is that moment. One end alone is both. Errors:
// 422 no_capture_window for no window at all, 400 for an end that is not a date or a
// window that ends before it starts, 422 for one outside the years SPA covers.
func windowForSun(img annotations.Image, lon float64, from, to string) (sunWindow, error) {
	w := sunWindow{GivenFrom: strings.TrimSpace(from), GivenTo: strings.TrimSpace(to), Basis: "request"}
	if w.GivenFrom == "" && w.GivenTo == "" {
		w.GivenFrom, w.GivenTo, w.Basis = img.CapturedFrom, img.CapturedTo, "capture_window"
	}
	if w.GivenFrom == "" && w.GivenTo == "" {
		return w, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_capture_window", Field: "captured_from",
			Message: "the image has no capture window: give its captured_from and captured_to (the dates the release claims) to know where the sun stood"}
	}
	if w.GivenFrom == "" {
		w.GivenFrom = w.GivenTo
	}
	if w.GivenTo == "" {
		w.GivenTo = w.GivenFrom
	}
	hours := int(math.Round(lon / 15))
	zone := time.FixedZone(fmt.Sprintf("UTC%+03d:00", hours), hours*3600)
	w.Zone = zone.String()
	field := func(end string) string {
		if w.Basis == "request" {
			return end
		}
		return "captured_" + end
	}
	var err error
	var toDate bool
	if w.From, _, err = parseWindowEnd(w.GivenFrom, zone); err != nil {
		return w, badRequest(field("from"), "%q is not a date (YYYY-MM-DD) or an RFC 3339 date and time", w.GivenFrom)
	}
	if w.To, toDate, err = parseWindowEnd(w.GivenTo, zone); err != nil {
		return w, badRequest(field("to"), "%q is not a date (YYYY-MM-DD) or an RFC 3339 date and time", w.GivenTo)
	}
	if w.To.Before(w.From) {
		return w, badRequest(field("to"), "the window ends (%s) before it starts (%s)", w.GivenTo, w.GivenFrom)
	}
	if toDate {
		w.To = w.To.AddDate(0, 0, 1) // a date ends at the next midnight
	}
	w.From, w.To = w.From.UTC(), w.To.UTC()
	for _, end := range []struct {
		t    time.Time
		name string
	}{{w.From, "from"}, {w.To, "to"}} {
		if y := end.t.Year(); y < -2000 || y > 6000 {
			return w, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: field(end.name),
				Message: fmt.Sprintf("the window's %s is in the year %d: the sun's position is computed for the years −2000 to 6000", end.name, y)}
		}
	}
	return w, nil
}

// parseWindowEnd reads a date (midnight in zone; date is true) or a date and time.
func parseWindowEnd(s string, zone *time.Location) (t time.Time, date bool, err error) {
	if t, err := time.ParseInLocation("2006-01-02", s, zone); err == nil {
		return t, true, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, false, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("not a date")
}

// sunAt is the sun at one moment, as the image shows it.
type sunAt struct {
	When          string    `json:"when"` // from, middle, to; best (of a span)
	Time          time.Time `json:"time"`
	AzimuthDeg    float64   `json:"azimuth_deg"`   // clockwise from north
	ElevationDeg  float64   `json:"elevation_deg"` // apparent, refraction included
	ZenithDeg     float64   `json:"zenith_deg"`
	AboveHorizon  bool      `json:"above_horizon"`
	ShadowAzimuth float64   `json:"shadow_azimuth_deg"` // where shadows fall on the ground
	// ShadowImageDeg is where shadows fall in the image, clockwise from the image's up;
	// ShadowImageVector the same as a unit step in pixels (x right, y down). Both are
	// absent when the image has no north (placed by its location name) or the sun is
	// down.
	ShadowImageDeg    *float64    `json:"shadow_image_deg,omitempty"`
	ShadowImageVector *[2]float64 `json:"shadow_image_vector,omitempty"`
	// ShadowPerMetre is the length of the shadow of a metre of height on level ground.
	ShadowPerMetre *float64 `json:"shadow_m_per_m,omitempty"`
}

func (s *Server) sunAtTime(place sunPlace, when string, t time.Time, deltaT float64) (sunAt, error) {
	pos, err := sun.At(t, deltaT, place.observer())
	if err != nil {
		return sunAt{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: err.Error()}
	}
	a := sunAt{When: when, Time: t.UTC(), AzimuthDeg: pos.Azimuth, ElevationDeg: pos.Elevation, ZenithDeg: pos.Zenith,
		AboveHorizon: pos.Above(), ShadowAzimuth: sun.ShadowAzimuth(pos.Azimuth)}
	if !pos.Above() {
		return a, nil
	}
	if l, ok := sun.ShadowLength(1, pos.Elevation); ok {
		a.ShadowPerMetre = &l
	}
	if t := place.placement.Transformer; t != nil {
		if deg, err := geo.ImageDirection(t, place.Pixel[0], place.Pixel[1], a.ShadowAzimuth); err == nil {
			r := deg * math.Pi / 180
			a.ShadowImageDeg, a.ShadowImageVector = &deg, &[2]float64{math.Sin(r), -math.Cos(r)}
		}
	}
	return a, nil
}

// sunAnswer is GET /images/{id}/sun.
type sunAnswer struct {
	Image     string    `json:"image"`
	Place     sunPlace  `json:"place"`
	Window    sunWindow `json:"window"`
	DeltaT    float64   `json:"delta_t_s"`
	Algorithm string    `json:"algorithm"`
	// NorthImageDeg is where north is in the image, clockwise from up (absent without a
	// georeference).
	NorthImageDeg *float64 `json:"north_image_deg,omitempty"`
	At            []sunAt  `json:"at"` // the window's start, middle and end
	// Daylight is the sun on every whole hour (UTC) of the window when it is up: the
	// directions shadows could fall in while the window lasts (its first 31 days; then
	// DaylightCut is true).
	Daylight    []sunAt `json:"daylight"`
	DaylightCut bool    `json:"daylight_cut,omitempty"`
}

// maxDaylightHours is how many hours of a window GET …/sun lists the sun for.
const maxDaylightHours = 31 * 24

const sunAlgorithm = "NREL Solar Position Algorithm (Reda & Andreas, NREL/TP-560-34302, 2008), ±0.0003°"

// imageSun answers where the sun stood over the image at the start, middle and end of its
// capture window (or of ?from=&to=), and where its shadows fall in the image.
func (s *Server) imageSun(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	place, win, deltaT, err := s.sunContext(c.Request().Context(), img, c.QueryParam("from"), c.QueryParam("to"))
	if err != nil {
		return err
	}
	answer := sunAnswer{Image: img.ID, Place: place, Window: win, DeltaT: deltaT, Algorithm: sunAlgorithm}
	if t := place.placement.Transformer; t != nil {
		if deg, err := geo.ImageDirection(t, place.Pixel[0], place.Pixel[1], 0); err == nil {
			answer.NorthImageDeg = &deg
		}
	}
	for _, at := range []struct {
		when string
		t    time.Time
	}{{"from", win.From}, {"middle", win.middle()}, {"to", win.To}} {
		a, err := s.sunAtTime(place, at.when, at.t, deltaT)
		if err != nil {
			return err
		}
		answer.At = append(answer.At, a)
	}
	answer.Daylight = []sunAt{}
	n := 0
	for t := win.From.Truncate(time.Hour); !t.After(win.To); t = t.Add(time.Hour) {
		if t.Before(win.From) {
			continue
		}
		if n++; n > maxDaylightHours {
			answer.DaylightCut = true
			break
		}
		a, err := s.sunAtTime(place, "hour", t, deltaT)
		if err != nil {
			return err
		}
		if a.AboveHorizon {
			answer.Daylight = append(answer.Daylight, a)
		}
	}
	return c.JSON(http.StatusOK, answer)
}

// sunContext is the place, window and ΔT an image's sun is computed with.
func (s *Server) sunContext(ctx context.Context, img annotations.Image, from, to string) (sunPlace, sunWindow, float64, error) {
	place, err := s.placeForSun(ctx, img)
	if err != nil {
		return place, sunWindow{}, 0, err
	}
	win, err := windowForSun(img, place.Lon, from, to)
	if err != nil {
		return place, win, 0, err
	}
	return place, win, sun.DeltaT(win.From), nil
}

// shadowInput is POST /images/{id}/shadow.
type shadowInput struct {
	Object    []float64 `json:"object"`     // the pixel of the object's foot
	ShadowTip []float64 `json:"shadow_tip"` // the pixel of its shadow's tip
	// ToleranceDeg is how far the shadow's direction may be off, in degrees; by default
	// what a pixel's error at each end makes of the measured length (at least 1°).
	ToleranceDeg *float64 `json:"tolerance_deg"`
	From         string   `json:"from"` // a window other than the claimed one
	To           string   `json:"to"`
}

// shadowFit is a span of the window when the sun cast shadows the measured way.
type shadowFit struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Best sunAt     `json:"best"`
	// HeightM is the object's height at the best moment; HeightRangeM over the span.
	HeightM      *float64    `json:"height_m,omitempty"`
	HeightRangeM *[2]float64 `json:"height_range_m,omitempty"`
}

// shadowAnswer is what POST /images/{id}/shadow answers.
type shadowAnswer struct {
	Image     string     `json:"image"`
	Object    [2]float64 `json:"object"`
	ShadowTip [2]float64 `json:"shadow_tip"`
	LengthPx  float64    `json:"length_px"`
	LengthM   float64    `json:"length_m"`
	// LengthBasis is "georeference" or "gsd".
	LengthBasis string `json:"length_basis"`
	// AzimuthDeg is the shadow's direction on the ground, from the foot to the tip
	// (absent when north in the image is unknown).
	AzimuthDeg    *float64  `json:"azimuth_deg,omitempty"`
	ToleranceDeg  *float64  `json:"tolerance_deg,omitempty"`
	ToleranceFrom string    `json:"tolerance_basis,omitempty"` // "given" or "clicks"
	Place         sunPlace  `json:"place"`
	Window        sunWindow `json:"window"`
	DeltaT        float64   `json:"delta_t_s"`
	Algorithm     string    `json:"algorithm"`
	// Middle is the sun at the window's middle, and HeightM the object's height then
	// (absent with the sun down).
	Middle  sunAt    `json:"middle"`
	HeightM *float64 `json:"height_m,omitempty"`
	// Fits are the spans of the window when the sun's shadows fell within the tolerance
	// of the measured direction; FitsClaim whether there is one (absent when the
	// direction is unknown). Summary says it in words.
	Fits      []shadowFit `json:"fits"`
	FitsClaim *bool       `json:"fits_claim,omitempty"`
	Summary   string      `json:"summary"`
}

// measureShadow measures a shadow drawn on the image from an object's foot to the tip of
// its shadow: its length on the ground, its direction, the object's height at the
// window's middle, and when in the window the sun cast shadows that way.
func (s *Server) measureShadow(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	var in shadowInput
	nonFinite, err := decodeJSON(c, &in)
	if err != nil {
		return err
	}
	if err := nonFiniteOutside(nonFinite, nil); err != nil {
		return err
	}
	foot, err := pointInImage(img, "object", "the object's foot", in.Object)
	if err != nil {
		return err
	}
	tip, err := pointInImage(img, "shadow_tip", "the shadow's tip", in.ShadowTip)
	if err != nil {
		return err
	}
	if foot == tip {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "shadow_tip",
			Message: "the shadow's tip is the object's foot: a shadow is measured between two different points"}
	}
	if in.ToleranceDeg != nil && !(*in.ToleranceDeg > 0 && *in.ToleranceDeg <= 45) {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: "tolerance_deg",
			Message: fmt.Sprintf("a tolerance of %g° is not in (0°, 45°]", *in.ToleranceDeg)}
	}
	ctx := c.Request().Context()
	place, win, deltaT, err := s.sunContext(ctx, img, in.From, in.To)
	if err != nil {
		return err
	}
	if win.To.Sub(win.From) > maxShadowWindow {
		field := "to"
		if win.Basis == "capture_window" {
			field = "captured_to"
		}
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: field,
			Message: fmt.Sprintf("the window is %.0f days long; a shadow is checked against at most %d days (give from and to)", win.To.Sub(win.From).Hours()/24, maxShadowWindow/(24*time.Hour))}
	}
	a := shadowAnswer{Image: img.ID, Object: foot, ShadowTip: tip, LengthPx: math.Hypot(tip[0]-foot[0], tip[1]-foot[1]),
		Place: place, Window: win, DeltaT: deltaT, Algorithm: sunAlgorithm, Fits: []shadowFit{}}
	if t := place.placement.Transformer; t != nil {
		// The sun over the object itself, not the image's centre.
		if lon, lat, err := t.Forward(foot[0], foot[1]); err == nil && finite(lon) && finite(lat) {
			a.Place.Lon, a.Place.Lat, a.Place.Pixel = lon, lat, foot
			place = a.Place
		}
		length, err := geo.LineLength(t, [][2]float64{foot, tip})
		if err != nil {
			return err
		}
		az, err := geo.Azimuth(t, foot, tip)
		if err != nil {
			return err
		}
		a.LengthM, a.LengthBasis, a.AzimuthDeg = length, "georeference", &az
	} else if gsd := place.placement.GSD; gsd != nil {
		a.LengthM, a.LengthBasis = a.LengthPx**gsd, "gsd"
	} else {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "not_measurable", Field: "shadow_tip",
			Message: "the image has neither a georeference nor a ground sample distance, so the shadow's length in metres is unknown"}
	}
	if a.Middle, err = s.sunAtTime(place, "middle", win.middle(), deltaT); err != nil {
		return err
	}
	if h, ok := sun.HeightFromShadow(a.LengthM, a.Middle.ElevationDeg); ok && a.Middle.AboveHorizon {
		a.HeightM = &h
	}
	if a.AzimuthDeg == nil {
		a.Summary = "North in the image is unknown (it is placed by its location name only): georeference it to check the shadow's direction against the sun."
		return c.JSON(http.StatusOK, a)
	}
	tol, basis := math.Max(1, math.Atan2(2, a.LengthPx)*180/math.Pi), "clicks"
	if in.ToleranceDeg != nil {
		tol, basis = *in.ToleranceDeg, "given"
	}
	a.ToleranceDeg, a.ToleranceFrom = &tol, basis
	spans, err := sun.ShadowTimes(place.observer(), win.From, win.To, deltaT, *a.AzimuthDeg, tol)
	if err != nil {
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Message: err.Error()}
	}
	for _, sp := range spans {
		best, err := s.sunAtTime(place, "best", sp.Best, deltaT)
		if err != nil {
			return err
		}
		f := shadowFit{From: sp.From.UTC(), To: sp.To.UTC(), Best: best}
		if h, ok := sun.HeightFromShadow(a.LengthM, sp.AtBest.Elevation); ok {
			f.HeightM = &h
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, e := range []float64{sp.AtFrom.Elevation, sp.AtBest.Elevation, sp.AtTo.Elevation} {
			if h, ok := sun.HeightFromShadow(a.LengthM, e); ok {
				lo, hi = math.Min(lo, h), math.Max(hi, h)
			}
		}
		if lo <= hi {
			f.HeightRangeM = &[2]float64{lo, hi}
		}
		a.Fits = append(a.Fits, f)
	}
	fits := len(a.Fits) > 0
	a.FitsClaim = &fits
	what := "claimed capture window"
	if win.Basis == "request" {
		what = "window asked about"
	}
	if fits {
		a.Summary = fmt.Sprintf("The sun cast shadows towards %.1f° (±%.1f°) %d time(s) in the %s.", *a.AzimuthDeg, tol, len(a.Fits), what)
	} else {
		a.Summary = fmt.Sprintf("At no time in the %s did the sun cast shadows towards %.1f° (±%.1f°): the shadow does not fit it.", what, *a.AzimuthDeg, tol)
	}
	return c.JSON(http.StatusOK, a)
}

// pointInImage checks a pixel position [x, y] given for field: two numbers inside the
// image (its edges included). Errors: 400 for a missing or malformed point, 422 for one
// outside the image.
func pointInImage(img annotations.Image, field, what string, p []float64) ([2]float64, error) {
	if p == nil {
		return [2]float64{}, badRequest(field, "is required: the pixel [x, y] of %s", what)
	}
	if len(p) != 2 {
		return [2]float64{}, badRequest(field, "must be a pixel [x, y]: two numbers, not %d", len(p))
	}
	x, y := p[0], p[1]
	if x < 0 || y < 0 || x > float64(img.Width) || y > float64(img.Height) {
		return [2]float64{}, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid", Field: field,
			Message: fmt.Sprintf("%s (%g, %g) is outside the %d × %d image", what, x, y, img.Width, img.Height)}
	}
	return [2]float64{x, y}, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

package server

import (
	"errors"
	"math"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/orbit"
)

// Which satellites could have taken a picture: every stored satellite's passes over a
// placed image's centre within its claimed capture window.

// maxPassWindow bounds the capture window searched (a month of 30-second samples for
// each satellite).
const maxPassWindow = 31 * 24 * time.Hour

// staleTLEDays is how far from its epoch an element set is trusted: SGP4's error grows
// by a kilometre or more a day, so a week away the pass times are minutes off.
const staleTLEDays = 7

type lookView struct {
	Time      time.Time `json:"time"`
	Elevation float64   `json:"elevation"` // degrees above the site's horizon
	Azimuth   float64   `json:"azimuth"`   // degrees from north, clockwise
	OffNadir  float64   `json:"off_nadir"` // degrees at the satellite, from straight down
	RangeKm   float64   `json:"range_km"`
}

type passView struct {
	TLEID        string    `json:"tle_id"`
	Name         string    `json:"name"`
	NoradID      int       `json:"norad_id"`
	TLEEpoch     time.Time `json:"tle_epoch"`
	Rise         lookView  `json:"rise"`
	Culmination  lookView  `json:"culmination"`
	Set          lookView  `json:"set"`
	StartsBefore bool      `json:"starts_before_window"`
	EndsAfter    bool      `json:"ends_after_window"`
	CouldImage   bool      `json:"could_image"`
	// TLEAgeDays is the culmination's time from the element set's epoch, in days
	// (negative before it).
	TLEAgeDays float64 `json:"tle_age_days"`
	Warning    string  `json:"warning,omitempty"`
}

type passError struct {
	TLEID   string `json:"tle_id"`
	Name    string `json:"name"`
	NoradID int    `json:"norad_id"`
	Message string `json:"message"`
}

type passesView struct {
	ImageID      string      `json:"image_id"`
	Site         [2]float64  `json:"site"` // lon, lat of the image's centre
	From         time.Time   `json:"from"`
	To           time.Time   `json:"to"`
	MaxOffNadir  float64     `json:"max_off_nadir"`
	MinElevation float64     `json:"min_elevation"`
	Satellites   int         `json:"satellites"`
	Passes       []passView  `json:"passes"`
	Errors       []passError `json:"errors"`
}

// queryFloat reads an optional number in [lo, hi] from the query string.
func queryFloat(c echo.Context, name string, def, lo, hi float64) (float64, error) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < lo || v > hi {
		return 0, badRequest(name, "%s must be a number of degrees from %v to %v, not %q", name, lo, hi, s)
	}
	return v, nil
}

func unprocessable(code, field, msg string) error {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: code, Field: field, Message: msg}
}

// imagePasses answers which stored satellites passed over the image's centre within its
// capture window, above min_elevation (default 0°), and whether each pass came within
// max_off_nadir (default 30°) of looking straight down at it.
func (s *Server) imagePasses(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	maxOff, err := queryFloat(c, "max_off_nadir", 30, 0, 90)
	if err != nil {
		return err
	}
	minEl, err := queryFloat(c, "min_elevation", 0, 0, 89)
	if err != nil {
		return err
	}
	from, to, ok := img.CaptureWindow()
	if !ok {
		return unprocessable("no_capture_window", "captured_from",
			"the image has no capture window: give captured_from and captured_to (when the picture is claimed to have been taken) to look for satellite passes")
	}
	if !to.After(from) {
		return unprocessable("no_capture_window", "captured_to",
			"the capture window is a single instant: give a span (a date covers the whole day) to look for satellite passes")
	}
	if to.Sub(from) > maxPassWindow {
		return unprocessable("window_too_long", "captured_to",
			"the capture window is longer than 31 days; narrow it to look for satellite passes")
	}
	ctx := c.Request().Context()
	p, err := s.placement(ctx, img)
	if err != nil {
		return err
	}
	if !p.Georeferenced() {
		return unprocessable("not_placed", "georeference",
			"the image is not placed on the earth: georeference it to look for satellite passes over its place")
	}
	lon, lat, err := p.Transformer.Forward(float64(img.Width)/2, float64(img.Height)/2)
	if err != nil {
		return err
	}
	tles, err := s.store.TLEs(ctx)
	if err != nil {
		return err
	}
	chosen := nearestEpochs(tles, from.Add(to.Sub(from)/2))
	site := orbit.Geodetic{Latitude: lat, Longitude: lon}
	view := passesView{ImageID: img.ID, Site: [2]float64{lon, lat}, From: from, To: to, MaxOffNadir: maxOff, MinElevation: minEl,
		Satellites: len(chosen), Passes: []passView{}, Errors: []passError{}}

	// One satellite's search is tens of milliseconds a week of window: in parallel.
	type result struct {
		passes []passView
		err    *passError
	}
	results := make([]result, len(chosen))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i].passes, results[i].err = satellitePasses(chosen[i], site, from, to, minEl, maxOff)
			}
		}()
	}
	for i := range chosen {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, r := range results {
		view.Passes = append(view.Passes, r.passes...)
		if r.err != nil {
			view.Errors = append(view.Errors, *r.err)
		}
	}
	sort.SliceStable(view.Passes, func(i, j int) bool { return view.Passes[i].Culmination.Time.Before(view.Passes[j].Culmination.Time) })
	return c.JSON(http.StatusOK, view)
}

// nearestEpochs keeps, of each satellite's element sets, the one whose epoch is nearest t.
func nearestEpochs(tles []annotations.TLE, t time.Time) []annotations.TLE {
	best := map[int]int{}
	var order []int
	for i, e := range tles {
		j, ok := best[e.NoradID]
		if !ok {
			best[e.NoradID] = i
			order = append(order, e.NoradID)
			continue
		}
		if absDuration(e.Epoch.Sub(t)) < absDuration(tles[j].Epoch.Sub(t)) {
			best[e.NoradID] = i
		}
	}
	out := make([]annotations.TLE, len(order))
	for k, id := range order {
		out[k] = tles[best[id]]
	}
	return out
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// satellitePasses is one satellite's passes as the API shows them; a satellite whose
// propagation fails in the window (it decayed) keeps the passes before and says why.
func satellitePasses(t annotations.TLE, site orbit.Geodetic, from, to time.Time, minEl, maxOff float64) ([]passView, *passError) {
	parsed, err := orbit.ParseTLE(t.Name, t.Line1, t.Line2)
	if err != nil {
		return nil, &passError{TLEID: t.ID, Name: t.Name, NoradID: t.NoradID, Message: err.Error()}
	}
	passes, err := orbit.NewSatellite(parsed).Passes(site, from, to, minEl)
	out := make([]passView, len(passes))
	for i, p := range passes {
		age := p.Culmination.Time.Sub(t.Epoch).Hours() / 24
		v := passView{TLEID: t.ID, Name: t.Name, NoradID: t.NoradID, TLEEpoch: t.Epoch,
			Rise: lookOf(p.Rise), Culmination: lookOf(p.Culmination), Set: lookOf(p.Set),
			StartsBefore: p.StartsBefore, EndsAfter: p.EndsAfter, CouldImage: p.CouldImage(maxOff),
			TLEAgeDays: math.Round(age*100) / 100}
		if math.Abs(age) > staleTLEDays {
			v.Warning = "the element set is " + strconv.FormatFloat(math.Abs(age), 'f', 1, 64) +
				" days from its epoch at this pass: the times may be minutes off; load one nearer the capture window"
		}
		out[i] = v
	}
	if err != nil {
		msg := err.Error()
		if pe := (*orbit.PropagationError)(nil); errors.As(err, &pe) {
			at := parsed.Epoch.Add(time.Duration(pe.Minutes * float64(time.Minute)))
			msg = "no positions from " + at.UTC().Format(time.RFC3339) + ": " + pe.Err.Error()
		}
		return out, &passError{TLEID: t.ID, Name: t.Name, NoradID: t.NoradID, Message: msg}
	}
	return out, nil
}

func lookOf(l orbit.Look) lookView {
	r := func(x float64) float64 { return math.Round(x*1000) / 1000 }
	return lookView{Time: l.Time.UTC(), Elevation: r(l.Elevation), Azimuth: r(l.Azimuth), OffNadir: r(l.OffNadir), RangeKm: r(l.RangeKm)}
}

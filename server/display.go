package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

// How a raster's bands are shown: GET says what is stored (and what the raster offers),
// PUT stores an analyst's choice and queues the pyramid to be built again with it. The
// formats satmark shows as stored (JPEG, GIF, BMP, WebP) and paletted rasters have
// nothing to choose: GET says so, PUT answers 409.

// displayAnswer is the answer of GET and PUT /api/v1/images/{id}/display.
type displayAnswer struct {
	Choosable bool   `json:"choosable"`
	Reason    string `json:"reason,omitempty"`
	// Settings are the stored settings: what the tiles show once Pyramid is done.
	Settings *imagery.Display `json:"settings,omitempty"`
	// Shown fingerprints the settings the served tiles were built with; it differs from
	// Stored while a rebuild is pending.
	Shown  string `json:"shown,omitempty"`
	Stored string `json:"stored,omitempty"`
	// What the raster offers to choose from.
	BandCount   int                  `json:"band_count,omitempty"`
	DataType    string               `json:"data_type,omitempty"`
	ColorInterp []string             `json:"color_interp,omitempty"`
	Ramps       []string             `json:"ramps,omitempty"`
	Pyramid     annotations.Progress `json:"pyramid"`
}

// displayRequest is the body of PUT /api/v1/images/{id}/display. What it leaves out
// stays as stored. Stretch is "percentile" (Low and High, default 2 and 98, computed
// again from the raster), "min/max" (computed from the raster), or a list of
// {"min", "max"} per band (manual); left out, the stored stretch stays if the bands do,
// else new bands get the default (2–98 % for data that is not 8-bit, none for 8-bit).
type displayRequest struct {
	Bands   []int           `json:"bands"`
	Stretch json.RawMessage `json:"stretch"`
	Low     *float64        `json:"low"`
	High    *float64        `json:"high"`
	Gamma   *float64        `json:"gamma"`
	Ramp    *string         `json:"ramp"`
}

func (s *Server) getDisplay(c echo.Context) error {
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	answer, _, err := s.display(c, img)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, answer)
}

// display describes the display of img, with the raster's facts (zero for an image
// whose display cannot be chosen).
func (s *Server) display(c echo.Context, img annotations.Image) (displayAnswer, imagery.Raster, error) {
	answer := displayAnswer{Pyramid: img.Pyramid}
	if m, err := s.library.Pyramid(img.SHA256); err == nil {
		answer.Shown = m.Display.Tag()
		answer.Settings = m.Display
	}
	r, err := s.library.Raster(img.SHA256, infoOf(img))
	if errors.Is(err, imagery.ErrUnsupportedMedia) {
		answer.Reason = img.MediaType + " is shown as stored: there are no bands or stretch to choose"
		answer.Settings = nil
		return answer, r, nil
	}
	if err != nil {
		return answer, r, err
	}
	answer.BandCount, answer.DataType, answer.ColorInterp, answer.Ramps = r.Bands, r.DataType, r.ColorInterp, imagery.Ramps()
	raw, err := s.store.Display(c.Request().Context(), img.ID)
	switch {
	case err == nil:
		var d imagery.Display
		if err := json.Unmarshal(raw, &d); err != nil {
			return answer, r, fmt.Errorf("display settings of %s: %w", img.ID, err)
		}
		answer.Settings = &d
	case !errors.Is(err, annotations.ErrNotFound):
		return answer, r, err
	}
	// Until the first build stores the defaults, the settings are those the tiles show.
	answer.Stored = answer.Settings.Tag()
	answer.Choosable = answer.Settings == nil || !answer.Settings.Palette
	if !answer.Choosable {
		answer.Reason = "a paletted raster is shown through its colour table: there is nothing to choose"
	}
	return answer, r, nil
}

func (s *Server) putDisplay(c echo.Context) error {
	by, err := s.by(c)
	if err != nil {
		return err
	}
	img, err := s.imageParam(c)
	if err != nil {
		return err
	}
	var req displayRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	answer, r, err := s.display(c, img)
	if err != nil {
		return err
	}
	if !answer.Choosable {
		return &apiError{Status: http.StatusConflict, Code: "nothing_to_choose", Message: answer.Reason}
	}
	cur := imagery.Display{Gamma: 1}
	if answer.Settings != nil {
		cur = *answer.Settings
	}
	d := &imagery.Display{Bands: cur.Bands, Gamma: cur.Gamma, Ramp: cur.Ramp}
	if req.Bands != nil {
		d.Bands = req.Bands
	}
	if req.Gamma != nil {
		d.Gamma = *req.Gamma
	}
	if req.Ramp != nil {
		d.Ramp = *req.Ramp
	} else if len(d.Bands) == 3 {
		d.Ramp = "" // a ramp colours one band: three bands leave it
	}
	if len(d.Bands) != 1 && len(d.Bands) != 3 {
		return imagery.CheckDisplay(d, r) // says what bands it wants
	}
	if raw := strings.TrimSpace(string(req.Stretch)); (raw == "" || raw == "null") && slices.Equal(d.Bands, cur.Bands) {
		d.Stretch, d.Method = cur.Stretch, cur.Method
	} else if err := s.stretch(img, r, d, req); err != nil {
		return err
	}
	if err := imagery.CheckDisplay(d, r); err != nil {
		return err
	}
	settings, err := json.Marshal(d)
	if err != nil {
		return err
	}
	job, err := s.store.SetDisplay(c.Request().Context(), by, img.ID, settings, displaySummary(d))
	if err != nil {
		return err
	}
	// Lookups go to the store until the new pyramid is built (and OnBuilt calls
	// imageChanged again), so no tile of the old display is kept as hot meanwhile.
	s.imageChanged(img.ID)
	s.wakeBuilder()
	answer.Settings, answer.Stored, answer.Pyramid = d, d.Tag(), annotations.Progress{State: job.State, Attempts: job.Attempts}
	return c.JSON(http.StatusAccepted, answer)
}

// stretch fills in d's stretch as req asks.
func (s *Server) stretch(img annotations.Image, r imagery.Raster, d *imagery.Display, req displayRequest) error {
	var from string
	var manual []imagery.Stretch
	switch raw := strings.TrimSpace(string(req.Stretch)); {
	case raw == "" || raw == "null":
		if r.DataType == "Byte" {
			return nil
		}
		from = imagery.StretchPercentile
	case strings.HasPrefix(raw, `"`):
		if err := json.Unmarshal(req.Stretch, &from); err != nil {
			return badRequest("stretch", "the stretch is not a string: %v", err)
		}
	default:
		if err := json.Unmarshal(req.Stretch, &manual); err != nil {
			return badRequest("stretch", `the stretch is "percentile", "min/max" or a list of {"min", "max"}: %v`, err)
		}
		for i := range manual {
			manual[i].From = imagery.StretchManual
		}
		d.Stretch, d.Method = manual, "manual"
		return nil
	}
	low, high := 2.0, 98.0
	if req.Low != nil {
		low = *req.Low
	}
	if req.High != nil {
		high = *req.High
	}
	st, method, err := s.library.Stretches(img.SHA256, infoOf(img), d.Bands, from, low, high)
	if err != nil {
		return err
	}
	d.Stretch, d.Method = st, method
	return nil
}

// displaySummary is the audit entry's detail: the bands and how they are stretched.
func displaySummary(d *imagery.Display) string {
	parts := []string{fmt.Sprintf("bands %v", d.Bands)}
	for i, st := range d.Stretch {
		parts = append(parts, fmt.Sprintf("band %d %g–%g (%s)", d.Bands[i], st.Min, st.Max, st.From))
	}
	if d.Gamma != 1 {
		parts = append(parts, fmt.Sprintf("gamma %g", d.Gamma))
	}
	if d.Ramp != "" {
		parts = append(parts, "ramp "+d.Ramp)
	}
	return strings.Join(parts, ", ")
}

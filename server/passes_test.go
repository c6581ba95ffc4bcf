package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// Element sets and satellite passes through the real router.

// testTLEs are two made-up low-orbit satellites with epochs around the sample release's
// capture window (8–13 October 2024): a sun-synchronous imager (epoch 8 October) and an
// ISS-like orbit (epoch 1 October, so passes late in the window are over a week old).
var testTLEs = func() string {
	b, err := os.ReadFile("testdata/test-satellites.tle")
	if err != nil {
		panic(err)
	}
	return string(b)
}()

type tleAnswer struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	NoradID   int       `json:"norad_id"`
	Epoch     time.Time `json:"epoch"`
	CreatedBy string    `json:"created_by"`
	Existing  bool      `json:"existing"`
}

type lookAnswer struct {
	Time      time.Time `json:"time"`
	Elevation float64   `json:"elevation"`
	Azimuth   float64   `json:"azimuth"`
	OffNadir  float64   `json:"off_nadir"`
	RangeKm   float64   `json:"range_km"`
}

type passAnswer struct {
	TLEID       string     `json:"tle_id"`
	Name        string     `json:"name"`
	NoradID     int        `json:"norad_id"`
	Rise        lookAnswer `json:"rise"`
	Culmination lookAnswer `json:"culmination"`
	Set         lookAnswer `json:"set"`
	CouldImage  bool       `json:"could_image"`
	TLEAgeDays  float64    `json:"tle_age_days"`
	Warning     string     `json:"warning"`
}

type passesAnswer struct {
	ImageID     string       `json:"image_id"`
	Site        [2]float64   `json:"site"`
	From        time.Time    `json:"from"`
	To          time.Time    `json:"to"`
	MaxOffNadir float64      `json:"max_off_nadir"`
	Satellites  int          `json:"satellites"`
	Passes      []passAnswer `json:"passes"`
	Errors      []struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (ts *testServer) postTLEs(t *testing.T, text string) *httptest.ResponseRecorder {
	t.Helper()
	return ts.do(t, http.MethodPost, "/api/v1/tles", strings.NewReader(text), "Content-Type", "text/plain")
}

func (ts *testServer) tleCount(t *testing.T) int {
	t.Helper()
	rec := ts.do(t, http.MethodGet, "/api/v1/tles", nil)
	wantStatus(t, rec, http.StatusOK)
	var list []tleAnswer
	decode(t, rec, &list)
	return len(list)
}

func TestTLEsPastedListedAndDeleted(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	rec := ts.postTLEs(t, testTLEs)
	wantStatus(t, rec, http.StatusCreated)
	var first struct {
		Added, Existing int
		TLEs            []tleAnswer `json:"tles"`
	}
	decode(t, rec, &first)
	if first.Added != 2 || first.Existing != 0 || len(first.TLEs) != 2 || first.TLEs[0].Name != "SATMARK TEST SSO-1" || first.TLEs[0].NoradID != 99001 ||
		!first.TLEs[0].Epoch.Equal(time.Date(2024, 10, 8, 0, 0, 0, 0, time.UTC)) || first.TLEs[0].CreatedBy == "" {
		t.Fatalf("stored %+v", first)
	}
	// The same text again (as a file upload) stores nothing new.
	rec = ts.uploadTLEFile(t, testTLEs)
	wantStatus(t, rec, http.StatusCreated)
	var again struct{ Added, Existing int }
	decode(t, rec, &again)
	if again.Added != 0 || again.Existing != 2 || ts.tleCount(t) != 2 {
		t.Errorf("again: %+v, %d stored", again, ts.tleCount(t))
	}
	wantStatus(t, ts.do(t, http.MethodDelete, "/api/v1/tles/"+first.TLEs[0].ID, nil), http.StatusNoContent)
	wantError(t, ts.do(t, http.MethodDelete, "/api/v1/tles/"+first.TLEs[0].ID, nil), http.StatusNotFound, "not_found", "")
	if n := ts.tleCount(t); n != 1 {
		t.Errorf("%d stored after the delete, want 1", n)
	}
	ts.wantAudited(t, "tle.add", "tester", first.TLEs[1].ID)
	ts.wantAudited(t, "tle.delete", "tester", first.TLEs[0].ID)
}

func (ts *testServer) uploadTLEFile(t *testing.T, text string) *httptest.ResponseRecorder {
	t.Helper()
	body, ctype := multipartBody(t, filePart("stations.txt", []byte(text)))
	return ts.do(t, http.MethodPost, "/api/v1/tles", body, "Content-Type", ctype)
}

func TestTLEsRefusedAllOrNothing(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	before := ts.snapshot(t)
	lines := strings.Split(testTLEs, "\n")
	good := strings.Join(lines[0:3], "\n")
	for _, tc := range []struct {
		name, text string
		line       int
		reason     string
	}{
		{"nok, bad checksum", good + "\n" + lines[3] + "\n" + lines[4][:68] + "7\n" + lines[5], 5, "the line says 7 but its characters add up to 8"},
		{"nok, wrong length", good + "\n" + lines[3] + "\n" + lines[4] + "\n" + lines[5][:50], 6, "is 50 characters long; a TLE line has 69"},
		{"nok, non-numeric", good + "\n" + lines[3] + "\n" + lines[4] + "\n" + strings.Replace(lines[5], "51.6000", "51.6O00", 1), 6, `(inclination): " 51.6O00" is not a number`},
		{"nok, line 2 missing", lines[3] + "\n" + lines[4] + "\n" + good, 3, "expected line 2 after line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := ts.postTLEs(t, tc.text)
			wantError(t, rec, http.StatusUnprocessableEntity, "invalid_tle", "text", "nothing stored")
			var body struct {
				Error struct {
					Refusals []struct {
						Line   int    `json:"line"`
						Reason string `json:"reason"`
					} `json:"refusals"`
				} `json:"error"`
			}
			decode(t, rec, &body)
			r := body.Error.Refusals
			if len(r) != 1 || r[0].Line != tc.line || !strings.Contains(r[0].Reason, tc.reason) {
				t.Errorf("refusals %+v, want line %d saying %q", r, tc.line, tc.reason)
			}
			if n := ts.tleCount(t); n != 0 {
				t.Errorf("%d element sets stored after a refusal", n)
			}
		})
	}
	wantError(t, ts.postTLEs(t, "  \n"), http.StatusBadRequest, "malformed", "text", "no element sets")
	wantError(t, ts.postTLEs(t, strings.Repeat("x", 1<<20+1)), http.StatusRequestEntityTooLarge, "too_large", "text")
	ts.wantUnchanged(t, before)
}

func TestPassesOverAPlacedImage(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	wantStatus(t, ts.postTLEs(t, testTLEs), http.StatusCreated)
	img := ts.uploadScene(t, 4000, 3000, 1, field("captured_from", "2024-10-08"), field("captured_to", "2024-10-13"))
	ts.putGeoref(t, img.ID, "affine", vladivostok6)

	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/passes", nil)
	wantStatus(t, rec, http.StatusOK)
	var got passesAnswer
	decode(t, rec, &got)
	if got.Satellites != 2 || got.MaxOffNadir != 30 || len(got.Errors) != 0 {
		t.Fatalf("searched %d satellites (max off-nadir %v), errors %+v", got.Satellites, got.MaxOffNadir, got.Errors)
	}
	if got.Site[0] < 131.8 || got.Site[0] > 132 || got.Site[1] < 43 || got.Site[1] > 43.2 {
		t.Errorf("site %v, want the image's centre in Vladivostok", got.Site)
	}
	if !got.From.Equal(time.Date(2024, 10, 8, 0, 0, 0, 0, time.UTC)) || !got.To.Equal(time.Date(2024, 10, 14, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("window %v–%v, want 8 October to the end of the 13th", got.From, got.To)
	}
	// Six days of two low orbits over 43° N: a few passes a day each.
	if len(got.Passes) < 20 {
		t.Fatalf("%d passes in six days", len(got.Passes))
	}
	imaged, stale := 0, 0
	seen := map[int]bool{}
	for i, p := range got.Passes {
		seen[p.NoradID] = true
		if i > 0 && p.Culmination.Time.Before(got.Passes[i-1].Culmination.Time) {
			t.Errorf("pass %d culminates before the one listed before it", i)
		}
		if !p.Rise.Time.Before(p.Culmination.Time) || !p.Culmination.Time.Before(p.Set.Time) || p.Rise.Time.Before(got.From) || p.Set.Time.After(got.To) {
			t.Errorf("pass %d: rise %v, culmination %v, set %v", i, p.Rise.Time, p.Culmination.Time, p.Set.Time)
		}
		// Highest is nearest overhead (on a pass that grazes the horizon the orbit's
		// eccentricity can outweigh the elevation's hundredths of a degree).
		if p.Culmination.Elevation <= 0 || p.Culmination.Elevation > 90 || p.Rise.Elevation < -0.01 ||
			(p.Culmination.Elevation > 5 && p.Culmination.OffNadir >= p.Rise.OffNadir) {
			t.Errorf("pass %d: elevations %v/%v, off-nadir %v at culmination, %v at rise", i, p.Rise.Elevation, p.Culmination.Elevation, p.Culmination.OffNadir, p.Rise.OffNadir)
		}
		if p.CouldImage != (p.Culmination.OffNadir <= 30) {
			t.Errorf("pass %d: could_image %v with %v° off-nadir", i, p.CouldImage, p.Culmination.OffNadir)
		}
		if p.CouldImage {
			imaged++
		}
		age := p.Culmination.Time.Sub(map[int]time.Time{99001: time.Date(2024, 10, 8, 0, 0, 0, 0, time.UTC), 99002: time.Date(2024, 10, 1, 12, 0, 0, 0, time.UTC)}[p.NoradID]).Hours() / 24
		if d := p.TLEAgeDays - age; d > 0.01 || d < -0.01 {
			t.Errorf("pass %d: element set %.2f days old, want %.2f", i, p.TLEAgeDays, age)
		}
		if (age > 7) != (p.Warning != "") {
			t.Errorf("pass %d, %.1f days from the epoch: warning %q", i, age, p.Warning)
		}
		if p.Warning != "" {
			stale++
		}
	}
	if !seen[99001] || !seen[99002] || imaged == 0 || imaged == len(got.Passes) || stale == 0 {
		t.Errorf("satellites %v, %d of %d passes could image, %d stale", seen, imaged, len(got.Passes), stale)
	}

	// A stricter limit and a minimum elevation: fewer passes could image, all passes higher.
	rec = ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/passes?max_off_nadir=10&min_elevation=20", nil)
	wantStatus(t, rec, http.StatusOK)
	var strict passesAnswer
	decode(t, rec, &strict)
	strictImaged := 0
	for _, p := range strict.Passes {
		if p.Rise.Elevation < 19.99 {
			t.Errorf("a pass rises at %v° with min_elevation=20", p.Rise.Elevation)
		}
		if p.CouldImage {
			strictImaged++
		}
	}
	if len(strict.Passes) >= len(got.Passes) || strictImaged >= imaged {
		t.Errorf("stricter: %d passes, %d could image; before %d and %d", len(strict.Passes), strictImaged, len(got.Passes), imaged)
	}
}

func TestPassesRefused(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	unplaced := ts.uploadScene(t, 400, 300, 1, field("captured_from", "2024-10-08"))
	nowindow := ts.uploadScene(t, 4000, 3000, 2)
	ts.putGeoref(t, nowindow.ID, "affine", vladivostok6)
	instant := ts.uploadScene(t, 4000, 3000, 3, field("captured_from", "2024-10-08T02:00:00Z"))
	ts.putGeoref(t, instant.ID, "affine", vladivostok6)
	long := ts.uploadScene(t, 4000, 3000, 4, field("captured_from", "2024-09-01"), field("captured_to", "2024-10-13"))
	ts.putGeoref(t, long.ID, "affine", vladivostok6)
	placed := ts.uploadScene(t, 4000, 3000, 5, field("captured_from", "2024-10-08"))
	ts.putGeoref(t, placed.ID, "affine", vladivostok6)

	passes := func(id, query string) *httptest.ResponseRecorder {
		return ts.do(t, http.MethodGet, "/api/v1/images/"+id+"/passes"+query, nil)
	}
	wantError(t, passes(unplaced.ID, ""), http.StatusUnprocessableEntity, "not_placed", "georeference", "not placed on the earth")
	wantError(t, passes(nowindow.ID, ""), http.StatusUnprocessableEntity, "no_capture_window", "captured_from", "no capture window")
	wantError(t, passes(instant.ID, ""), http.StatusUnprocessableEntity, "no_capture_window", "captured_to", "single instant")
	wantError(t, passes(long.ID, ""), http.StatusUnprocessableEntity, "window_too_long", "captured_to", "31 days")
	wantError(t, passes(placed.ID, "?max_off_nadir=95"), http.StatusBadRequest, "malformed", "max_off_nadir", "0 to 90")
	wantError(t, passes(placed.ID, "?min_elevation=abc"), http.StatusBadRequest, "malformed", "min_elevation")
	wantError(t, passes("img_aaaaaaaaaaaa", ""), http.StatusNotFound, "not_found", "")

	// No element sets stored: an empty answer, not an error.
	rec := passes(placed.ID, "")
	wantStatus(t, rec, http.StatusOK)
	var got passesAnswer
	decode(t, rec, &got)
	if got.Satellites != 0 || len(got.Passes) != 0 {
		t.Errorf("without element sets: %+v", got)
	}
	raw := map[string]json.RawMessage{}
	decode(t, rec, &raw)
	if string(raw["passes"]) != "[]" || string(raw["errors"]) != "[]" {
		t.Errorf("passes %s, errors %s: want empty lists", raw["passes"], raw["errors"])
	}
}

// A satellite that decays within the window (SL-14 DEB of the SGP4 verification set, lost
// between 420 and 430 minutes after its epoch, 19 June 2006 06:25:41) is named among the
// errors with the time it was lost; the others' passes still come.
func TestPassesOfADecayedSatellite(t *testing.T) {
	ts := newTestServer(t, smallLimits)
	wantStatus(t, ts.postTLEs(t, `SL-14 DEB
1 29141U 85108AA  06170.26783845  .99999999  00000-0  13519-0 0   718
2 29141  82.4288 273.4882 0015848 277.2124  83.9133 15.93343074  6828
DELTA 1 DEB
1 06251U 62025E   06176.82412014  .00008885  00000-0  12808-3 0  3985
2 06251  58.0579  54.0425 0030035 139.1568 221.1854 15.56387291  6774
`), http.StatusCreated)
	img := ts.uploadScene(t, 4000, 3000, 1, field("captured_from", "2006-06-19"))
	ts.putGeoref(t, img.ID, "affine", vladivostok6)
	rec := ts.do(t, http.MethodGet, "/api/v1/images/"+img.ID+"/passes", nil)
	wantStatus(t, rec, http.StatusOK)
	var got passesAnswer
	decode(t, rec, &got)
	if got.Satellites != 2 || len(got.Errors) != 1 || got.Errors[0].Name != "SL-14 DEB" ||
		!strings.Contains(got.Errors[0].Message, "no positions from 2006-06-19T13:") || !strings.Contains(got.Errors[0].Message, "decayed") {
		t.Errorf("errors %+v", got.Errors)
	}
	names := map[string]int{}
	for _, p := range got.Passes {
		names[p.Name]++
		if p.Name == "SL-14 DEB" && p.Set.Time.After(time.Date(2006, 6, 19, 13, 36, 0, 0, time.UTC)) {
			t.Errorf("a pass of the decayed satellite after it was lost: %+v", p)
		}
	}
	if names["DELTA 1 DEB"] == 0 {
		t.Errorf("passes %v: the other satellite's are missing", names)
	}
}

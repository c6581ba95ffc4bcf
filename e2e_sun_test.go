package main

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/sampledata"
)

// TestBrowserSunAndShadows: a viewer opens the sample port (placed at Vladivostok,
// claimed 8–13 October 2024) and its Sun & shadows panel, sees the claimed window, the
// sun below the horizon at its start, middle and end (local midnights) and the
// directions daylight shadows fall drawn on the image; with the Shadow tool they click a
// crane tower's foot and the tip of its shadow and read the shadow's length, its
// direction, and the six late mornings of the window when the sun cast it, each with the
// tower's height, 22 m in the generator, within 15 %. A shadow drawn the wrong way (to
// the south-east, which needs a sun in the north-west) does not fit. Nothing is saved.
func TestBrowserSunAndShadows(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	port := a.sampleImage(t, "synthetic-port-scene.jpg")
	scenes, err := sampledata.Scenes()
	if err != nil {
		t.Fatal(err)
	}
	var crane sampledata.Shadow
	for _, sc := range scenes {
		if sc.FileName == port.Filename {
			crane = sc.Shadows[1]
		}
	}
	if crane.HeightM == 0 {
		t.Fatal("the sample port lists no crane tower with its shadow")
	}
	before := len(a.annotationsOf(t, port.ID))

	a.addUser(t, "Sun Viewer", annotations.RoleViewer)
	b.signIn(t, a, "/images/"+port.ID, "Sun Viewer")
	b.waitFor(t, "the annotator", `document.getElementById('annotator').dataset.ready === 'true' && document.getElementById('annotator').dataset.imageReady === 'true'`)
	b.do(t, chromedp.Click(`#sun-panel summary`))
	b.waitFor(t, "the sun over the port", `document.getElementById('sun-panel').dataset.state === 'ready'`)
	text := func(sel string) string {
		t.Helper()
		return evalJS[string](t, b, fmt.Sprintf(`document.querySelector(%q)?.textContent || ''`, sel))
	}
	if w := text("#sun-window"); !strings.Contains(w, "2024-10-08 – 2024-10-13") || !strings.Contains(w, "UTC+09:00") {
		t.Errorf("the window reads %q, want the claimed dates as whole days in UTC+09:00", w)
	}
	if m := text(`#sun-at li[data-when=middle]`); !strings.Contains(m, "below the horizon") {
		t.Errorf("the window's middle reads %q, want the sun below the horizon (local midnight)", m)
	}
	if d := text("#sun-daylight"); !strings.Contains(d, "daylight hours") {
		t.Errorf("the daylight line reads %q", d)
	}
	// Drawn on the image: a line for each daylight hour, and the arrow.
	if fan := evalJS[string](t, b, `document.getElementById('sun-panel').dataset.fan`); fan == "" || fan == "0" {
		t.Errorf("%s daylight directions drawn, want about 60", fan)
	}
	if arrow := evalJS[string](t, b, `document.getElementById('sun-panel').dataset.arrow`); arrow != "true" {
		t.Errorf("no shadow arrow drawn on the image")
	}

	// Close in on the crane, so a click lands within a fraction of a pixel.
	b.do(t, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const v = satmark.map.getView();
		v.setResolution(0.25);
		v.setCenter([%f, %f]);
		satmark.map.renderSync();
	})()`, (crane.Foot[0]+crane.Tip[0])/2, -(crane.Foot[1]+crane.Tip[1])/2)))
	b.waitFor(t, "the view on the crane", `!satmark.map.getView().getAnimating() && satmark.map.getView().getResolution() === 0.25`)

	measure := func(foot, tip [2]float64) {
		t.Helper()
		mark := evalJS[string](t, b, `document.getElementById('sun-panel').dataset.measured || ''`)
		b.do(t, chromedp.Click(`#sun-shadow-tool`))
		b.waitFor(t, "the Shadow tool", `document.getElementById('sun-shadow-tool').getAttribute('aria-pressed') === 'true'`)
		b.clickImage(t, foot[0], foot[1])
		b.waitFor(t, "the foot marked", `document.getElementById('sun-shadow-hint').textContent.includes('tip')`)
		b.clickImage(t, tip[0], tip[1])
		b.waitFor(t, "the shadow measured", fmt.Sprintf(`(document.getElementById('sun-panel').dataset.measured || '') !== %q && !!document.getElementById('sun-fits')`, mark))
	}
	measure(crane.Foot, crane.Tip)

	number := func(what, s, pattern string) float64 {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("no %s in %q", what, s)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	shadow := text("#sun-shadow-length")
	if l := number("length", shadow, `Shadow ([0-9.]+) m`); math.Abs(l-30.8) > 0.03*30.8 {
		t.Errorf("the shadow reads %q: %.1f m, want 30.8 m within 3 %%", shadow, l)
	}
	if az := number("direction", shadow, `towards ([0-9.]+)°`); math.Abs(az-330) > 1 {
		t.Errorf("the shadow reads %q: towards %.1f°, want 330°", shadow, az)
	}
	if h := text("#sun-shadow-height"); !strings.Contains(h, "sun is down") {
		t.Errorf("the height line reads %q, want no height at the window's middle (night)", h)
	}
	if fits := text("#sun-fits"); !strings.Contains(fits, "Fits: 6 times") {
		t.Errorf("the verdict reads %q, want it to fit 6 times", fits)
	}
	rows := evalJS[[]string](t, b, `[...document.querySelectorAll('#sun-fit-list li')].map((li) => li.textContent)`)
	if len(rows) != 6 {
		t.Fatalf("%d fitting times listed, want 6: %q", len(rows), rows)
	}
	for i, r := range rows {
		if !strings.HasPrefix(r, fmt.Sprintf("2024-10-%02d 01:", 8+i)) {
			t.Errorf("fit %d reads %q, want about 01:20 UTC (11:20 at Vladivostok) on the %dth", i, r, 8+i)
		}
		if h := number("height", r, `height ([0-9.]+) m`); math.Abs(h-crane.HeightM) > 0.15*crane.HeightM {
			t.Errorf("fit %d reads %q: the tower %.1f m high, want %.0f m within 15 %%", i, r, h, crane.HeightM)
		}
	}
	if got := evalJS[string](t, b, `document.getElementById('sun-panel').dataset.fits`); got != "true" {
		t.Errorf("the panel says fits %q, want true", got)
	}

	// The same length the wrong way: towards the south-east.
	d := [2]float64{crane.Foot[0] - crane.Tip[0], crane.Foot[1] - crane.Tip[1]}
	measure(crane.Foot, [2]float64{crane.Foot[0] + d[0], crane.Foot[1] + d[1]})
	if fits := text("#sun-fits"); !strings.HasPrefix(fits, "Does not fit") || !strings.Contains(fits, "claimed capture window") {
		t.Errorf("the verdict reads %q, want it not to fit the claimed capture window", fits)
	}
	if n := evalJS[int](t, b, `document.querySelectorAll('#sun-fit-list li').length`); n != 0 {
		t.Errorf("%d fitting times listed, want none", n)
	}
	if got := len(a.annotationsOf(t, port.ID)); got != before {
		t.Errorf("the image has %d annotations after measuring, %d before: measuring must save nothing", got, before)
	}
}

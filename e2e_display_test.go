package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png" // the sample has nodata: its tiles are PNG
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
)

// TestBrowserDisplay: an analyst opens the 16-bit four-band sample, picks the NIR-R-G
// false-colour preset in "Bands & stretch" and applies it; the page shows the rebuild,
// then the new tiles: the settings are stored and the pixels changed.
func TestBrowserDisplay(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	images, err := a.Store.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var img annotations.Image
	for _, i := range images {
		if i.MediaType == "image/tiff" {
			img = i
		}
	}
	if img.ID == "" {
		t.Fatal("no 16-bit GeoTIFF among the seeded images")
	}
	info := imagery.Info{MediaType: img.MediaType, Width: img.Width, Height: img.Height, Orientation: img.Orientation}
	tile := func() []byte {
		t.Helper()
		data, err := a.Library.Tile(img.SHA256, info, 0, 4, 4)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	a.addUser(t, "Ada Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+img.ID, "Ada Analyst")
	b.waitFor(t, "the image and the display panel", `document.getElementById('annotator')?.dataset.imageReady === 'true' &&
		!document.getElementById('display-panel').hidden && document.getElementById('display-preset').options.length > 2`)
	// (The page waits for the pyramid: the background builder may still be at it.)
	before := tile()
	b.do(t, chromedp.Evaluate[chromedp.Void](`document.getElementById('display-panel').open = true`))
	centre := `(() => {
		const [w, h] = satmark.map.getSize();
		const [d] = satmark.shownColours([[w/2, h/2]]);
		return d[0] + d[1] + d[2] > 0 ? [d[0], d[1], d[2]].join(',') : '';
	})()`
	b.waitFor(t, "the image pixels", centre+` !== ''`)
	shown := evalJS[string](t, b, centre)
	if got := evalJS[[]string](t, b, `['display-r', 'display-g', 'display-b'].map((id) => document.getElementById(id).value)`); !slices.Equal(got, []string{"3", "2", "1"}) {
		t.Errorf("the band pickers show %v, want the stored true colour 3, 2, 1", got)
	}

	b.setField(t, "#display-preset", "nir")
	b.do(t, chromedp.Click(chromedp.CSS("#display-apply")))
	b.waitFor(t, "the rebuild and its tiles", `!!document.getElementById('display-panel').dataset.applied`)

	raw, err := a.Store.Display(ctx, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	var d imagery.Display
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Bands, []int{4, 3, 2}) || len(d.Stretch) != 3 || d.Stretch[0].From != "percentile 2–98" {
		t.Fatalf("stored display %s, want bands 4, 3, 2 with a 2–98 %% stretch", raw)
	}
	after := tile()
	bi, _, err := image.Decode(bytes.NewReader(before))
	if err != nil {
		t.Fatal(err)
	}
	ai, _, err := image.Decode(bytes.NewReader(after))
	if err != nil {
		t.Fatal(err)
	}
	if diff := rastertest.MeanAbsDiff(ai, bi, 256, 256); diff < 4 {
		t.Errorf("tile 0/4_4 changed by %.2f on average, want the false colour to show", diff)
	}
	b.waitFor(t, "the new pixels on screen", fmt.Sprintf(`(() => { const p = %s; return p !== '' && p !== %q; })()`, centre, shown))
}

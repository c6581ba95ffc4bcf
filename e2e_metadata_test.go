package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery/rastertest"
	"github.com/satmark/satmark/ingest"
	"github.com/satmark/satmark/sampledata"
)

// TestBrowserFileMetadata: the annotator's provenance shows what the file says of its
// capture, the pre-filled window labelled "from the file", and markup in the file's
// metadata as text, never as elements.
func TestBrowserFileMetadata(t *testing.T) {
	rastertest.Require(t)
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	const hostile = `<img src=x onerror="document.title='pwned'">`
	spec := rastertest.Spec{Width: 120, Height: 90, Bands: 3, Type: "Byte",
		Value: func(band, x, y int) float64 { return float64((x*band + y) % 256) }}
	path := rastertest.Make(t, t.TempDir(), "hostile.tif", spec, "-of", "GTiff",
		"-mo", "ACQUISITIONDATETIME=2024-10-13 01:23:45", "-mo", "SATELLITEID="+hostile, "-mo", "SUN_ELEVATION=41.5")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.Library.Receive(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer u.Discard()
	img, _, err := ingest.Image(ctx, a.Store, a.Library, u,
		annotations.NewImage{Filename: "hostile.tif", CreatedBy: annotations.Actor{Name: "tester"}}, ingest.Sidecar{})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}

	a.addUser(t, "Meta Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/images/"+img.ID, "Meta Analyst")
	b.waitFor(t, "the file's metadata", `!!document.getElementById('file-satellite')`)
	if got := evalJS[string](t, b, `document.getElementById('file-satellite').textContent`); got != hostile {
		t.Errorf("the satellite shows as %q, want the markup as text, %q", got, hostile)
	}
	if n := evalJS[int](t, b, `document.querySelectorAll('aside img').length`); n != 0 || evalJS[string](t, b, `document.title`) == "pwned" {
		t.Errorf("the file's metadata became %d elements in the page (title %q)", n, evalJS[string](t, b, `document.title`))
	}
	if got := evalJS[string](t, b, `document.getElementById('prov-captured').textContent`); !strings.Contains(got, "2024-10-13T01:23:45Z") || !strings.Contains(got, "from the file") {
		t.Errorf("the capture window shows as %q, want 2024-10-13T01:23:45Z labelled from the file", got)
	}
	if got := evalJS[string](t, b, `document.getElementById('file-sun').textContent`); got != "elevation 41.5°" {
		t.Errorf("the sun shows as %q, want elevation 41.5°", got)
	}
	// The raw list is there, folded.
	if open := evalJS[bool](t, b, `document.querySelector('.file-metadata-raw').open`); open ||
		!evalJS[bool](t, b, `[...document.querySelectorAll('.file-metadata-raw td')].some(td => td.textContent === 'SATELLITEID')`) {
		t.Errorf("the raw items: open %v, want folded and listing SATELLITEID", open)
	}

	// The sample 16-bit scene says what it is; its window is the release's, not marked.
	images, err := a.Store.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, im := range images {
		if im.Filename != sampledata.PortGeoTIFFFileName {
			continue
		}
		b.do(t, chromedp.Navigate(a.url+"/images/"+im.ID))
		b.waitFor(t, "the sample's metadata", `(document.getElementById('file-satellite') || {}).textContent === 'none (synthetic)'`)
		if got := evalJS[string](t, b, `document.getElementById('prov-captured').textContent`); strings.Contains(got, "from the file") {
			t.Errorf("the sample's capture window shows as %q, want the release's, unmarked", got)
		}
		return
	}
	t.Errorf("no sample image %s", sampledata.PortGeoTIFFFileName)
}

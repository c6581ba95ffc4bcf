package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery/rastertest"
)

// TestBrowserUploadsADeliveryWithItsSidecars: a DigitalGlobe raster chosen with its .IMD
// and .RPB goes up as one image with them; the annotator shows the satellite and the sun
// the .IMD gives.
func TestBrowserUploadsADeliveryWithItsSidecars(t *testing.T) {
	rastertest.Require(t)
	a := startApp(t)
	b := newBrowser(t)
	dir := rastertest.DGDelivery(t)
	var picked []string
	for _, end := range []string{".TIF", ".IMD", ".RPB"} {
		picked = append(picked, filepath.Join(dir, rastertest.DGScene+end))
	}

	a.addUser(t, "Delivery Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/", "Delivery Analyst")
	b.waitFor(t, "the gallery", `document.querySelectorAll('.card').length === 3`)
	b.do(t, chromedp.SetUploadFiles(chromedp.ID("upload-file"), picked))
	b.waitFor(t, "the chosen files", `document.getElementById('chosen-files').textContent.includes('(with ')`)
	if got := evalJS[string](t, b, `document.getElementById('chosen-files').textContent`); got !=
		rastertest.DGScene+".TIF (with "+rastertest.DGScene+".IMD, "+rastertest.DGScene+".RPB)" {
		t.Errorf("the form shows %q chosen, want the raster with its two sidecars", got)
	}
	b.setField(t, `#upload-form [name=title]`, "WV03 delivery")
	b.do(t, chromedp.Click(chromedp.ID("upload-submit")))
	b.waitFor(t, "the upload", `document.querySelector('#upload-results li.ok, #upload-results li.error') !== null`)
	if n := evalJS[int](t, b, `document.querySelectorAll('#upload-results li').length`); n != 1 {
		t.Errorf("%d uploads listed, want one: the sidecars go with the raster", n)
	}
	imgs, err := a.Store.Images(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 4 {
		t.Fatalf("%d images after the upload, want 4", len(imgs))
	}
	img := imgs[0]
	if img.FileMetadata.Satellite != "WV03" || len(img.Sidecars) != 2 {
		t.Fatalf("stored satellite %q with %d sidecars; want WV03 and the .IMD and .RPB; warnings %q", img.FileMetadata.Satellite, len(img.Sidecars), img.ImportWarnings)
	}

	b.do(t, chromedp.Navigate(a.url+"/images/"+img.ID))
	b.waitFor(t, "the file's metadata", `!!document.getElementById('file-satellite')`)
	if got := evalJS[string](t, b, `document.getElementById('file-satellite').textContent`); got != "WV03" {
		t.Errorf("the satellite shows as %q, want WV03", got)
	}
	if got := evalJS[string](t, b, `document.getElementById('file-sun').textContent`); !strings.Contains(got, "25.3") {
		t.Errorf("the sun shows as %q, want the .IMD's elevation 25.3°", got)
	}
}

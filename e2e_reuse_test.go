package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/disintegration/imaging"

	"github.com/satmark/satmark/annotations"
)

// TestBrowserUploadOfARecompressedCropSaysReleasedBefore: an analyst uploads, from the
// gallery, a crop of the sample port (84 % of each side) recompressed at quality 60; the
// upload says it was released before as the sample port, with a link to it, and so does
// the new image's provenance panel.
func TestBrowserUploadOfARecompressedCropSaysReleasedBefore(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	var port annotations.Image
	images, _ := a.Store.Images(ctx)
	for _, img := range images {
		if img.Filename == "synthetic-port-scene.jpg" {
			port = img
		}
	}
	if port.ID == "" {
		t.Fatal("the sample port is not in the library")
	}
	orig, err := os.ReadFile(a.Library.OriginalPath(port.SHA256))
	if err != nil {
		t.Fatal(err)
	}
	scene, err := jpeg.Decode(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	bd := scene.Bounds()
	crop := imaging.Crop(scene, image.Rect(bd.Dx()*10/100, bd.Dy()*6/100, bd.Dx()*94/100, bd.Dy()*90/100))
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, crop, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "newspaper-crop.jpg")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	a.addUser(t, "Reuse Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/", "Reuse Analyst")
	b.waitFor(t, "the gallery", `document.querySelectorAll('.card').length === 3`)
	// The sample images are hashed by the backfill at start; wait until the port's is in.
	b.waitFor(t, "the port's hash", fmt.Sprintf(`(() => {
		if (!window.__poll) window.__poll = fetch('/api/v1/images/%s/matches').then(r => r.json()).then(j => { window.__hashed = j.state; window.__poll = null; });
		return window.__hashed === 'hashed';
	})()`, port.ID))
	b.do(t, chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{file}))
	b.setField(t, `#upload-form [name=title]`, "Ships in port (newspaper)")
	b.do(t, chromedp.Click(chromedp.ID("upload-submit")))
	b.waitFor(t, "the upload's answer", `!!document.querySelector('a.released-before')`)
	want := fmt.Sprintf("released before as %q", port.Title)
	if got := evalJS[string](t, b, `document.querySelector('a.released-before').textContent`); len(got) < len(want) || got[:len(want)] != want {
		t.Errorf("the upload says %q, want it to begin %q", got, want)
	}
	if got := evalJS[string](t, b, `document.querySelector('a.released-before').getAttribute('href')`); got != "/images/"+port.ID {
		t.Errorf("the link goes to %q, want /images/%s", got, port.ID)
	}
	b.do(t, chromedp.Click(`a.open-image`))
	b.waitFor(t, "the new image's provenance", `!!document.querySelector('#prov-released-before a')`)
	if got := evalJS[string](t, b, `document.querySelector('#prov-released-before a').getAttribute('href')`); got != "/images/"+port.ID {
		t.Errorf("the provenance links to %q, want /images/%s", got, port.ID)
	}
	b.do(t, chromedp.Click(`#prov-released-before a`))
	b.waitFor(t, "the earlier image", fmt.Sprintf(`location.pathname === '/images/%s'`, port.ID))
}

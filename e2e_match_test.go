package main

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/match/matchtest"
	"github.com/satmark/satmark/sampledata"
)

// TestBrowserSuggestControlPoints: an analyst uploads a turned, shrunk, recoloured copy
// of the sample port, opens its georeference editor, asks for points suggested from the
// placed sample port, drops one, accepts the rest and sees the fit's RMS; the accepted
// points lie where the truth puts them.
func TestBrowserSuggestControlPoints(t *testing.T) {
	a := startApp(t)
	b := newBrowser(t)
	ctx := context.Background()
	scenes, err := sampledata.Scenes()
	if err != nil {
		t.Fatal(err)
	}
	var port annotations.Image
	images, _ := a.Store.Images(ctx)
	for _, img := range images {
		if img.Filename == "synthetic-port-scene.jpg" {
			port = img
		}
	}
	if !port.Georeferenced {
		t.Fatalf("the sample port should be placed: %+v", port)
	}
	var portJPEG []byte
	for _, s := range scenes {
		if s.FileName == "synthetic-port-scene.jpg" {
			portJPEG = s.JPEG
		}
	}
	scene, err := jpeg.Decode(bytes.NewReader(portJPEG))
	if err != nil {
		t.Fatal(err)
	}
	turned, truth, err := matchtest.Copy(scene, matchtest.Distortion{Rotation: 15, Scale: 0.6, Brightness: 15, Contrast: 0.9, Quality: 80, Crop: [4]float64{0.1, 0, 0, 0.05}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "port-turned.jpg")
	if err := os.WriteFile(file, turned, 0o644); err != nil {
		t.Fatal(err)
	}

	a.addUser(t, "Match Analyst", annotations.RoleAnalyst)
	b.signIn(t, a, "/", "Match Analyst")
	b.waitFor(t, "the gallery", `document.querySelectorAll('.card').length === 3`)
	b.do(t, chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{file}))
	b.setField(t, `#upload-form [name=title]`, "Port, turned copy")
	b.do(t, chromedp.Click(chromedp.ID("upload-submit")))
	b.waitFor(t, "the new card", `document.querySelectorAll('.card').length === 4`)
	images, _ = a.Store.Images(ctx)
	var copyImg annotations.Image
	for _, img := range images {
		if img.Title == "Port, turned copy" {
			copyImg = img
		}
	}
	if copyImg.ID == "" || copyImg.Georeferenced {
		t.Fatalf("the upload should be stored unplaced: %+v", copyImg)
	}
	b.waitFor(t, "the copy's pyramid", fmt.Sprintf(`document.querySelector('.card[data-image-id=%q]')?.dataset.pyramid === 'done'`, copyImg.ID))

	b.do(t, chromedp.Navigate(a.url+"/images/"+copyImg.ID+"/georeference"))
	b.waitFor(t, "the editor", `document.getElementById('georef')?.dataset.ready === 'true'`)
	// Every placed image is offered; the analyst picks the sample port.
	if n := evalJS[int](t, b, `document.querySelectorAll('#suggest-reference option').length`); n != 2 {
		t.Errorf("%d images offered to match with, want the two placed port scenes", n)
	}
	b.do(t, chromedp.SetValue(chromedp.ID("suggest-reference"), port.ID))
	b.do(t, chromedp.Click(chromedp.ID("suggest")))
	b.waitFor(t, "the suggestions", `document.querySelectorAll('#suggestion-table tbody tr').length > 0 && !document.getElementById('georef').dataset.suggesting`)
	n := evalJS[int](t, b, `document.querySelectorAll('#suggestion-table tbody tr').length`)
	if n < 6 {
		t.Fatalf("%d points suggested, want at least 6", n)
	}
	if s := evalJS[string](t, b, `document.querySelector('#suggestion-table tbody tr td.score').textContent`); s == "" {
		t.Error("the suggestions show no score")
	}
	if evalJS[int](t, b, `document.querySelectorAll('#gcp-table tbody tr').length`) != 0 {
		t.Error("suggestions became control points before they were accepted")
	}
	// Drop one, accept the others.
	b.do(t, chromedp.Click(`#suggestion-table button[aria-label="Drop suggestion 1"]`))
	b.waitFor(t, "the drop", fmt.Sprintf(`document.querySelectorAll('#suggestion-table tbody tr').length === %d`, n-1))
	b.do(t, chromedp.Click(chromedp.ID("accept-all")))
	b.waitFor(t, "the accepted points", fmt.Sprintf(`document.querySelectorAll('#gcp-table tbody tr').length === %d && document.getElementById('suggestion-table').hidden`, n-1))
	b.waitFor(t, "the fit", `document.getElementById('fit-summary').textContent.startsWith('RMS')`)
	if rms := evalJS[float64](t, b, `Number(document.getElementById('georef').dataset.rms)`); !(rms < 2) {
		t.Errorf("the fit's RMS is %v m, want under 2 m (about 1 m a pixel)", rms)
	}
	// Each accepted point's place is where the port's placement puts the truth's pixel.
	gt := [6]float64{131.865, 1.2287e-05, 0, 43.125, 0, -9.0013e-06}
	for i, p := range evalJS[[][2][2]float64](t, b, `satmark.state.points.map(p => [p.pixel, p.lonlat])`) {
		x, y := truth.Apply(p[0][0], p[0][1])
		// The port's pixel the point's lon/lat names, by the inverse of its north-up geotransform.
		px, py := (p[1][0]-gt[0])/gt[1], (p[1][1]-gt[3])/gt[5]
		if d := math.Hypot(px-x, py-y); d > 2 {
			t.Errorf("point %d: %v is %.2f port pixels from where the truth puts it", i+1, p, d)
		}
	}
}

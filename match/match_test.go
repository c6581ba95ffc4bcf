package match_test

import (
	"bytes"
	"errors"
	"image"
	"image/draw"
	"image/jpeg"
	"strings"
	"sync"
	"testing"

	"github.com/satmark/satmark/match"
	"github.com/satmark/satmark/match/matchtest"
	"github.com/satmark/satmark/sampledata"
)

var scenes struct {
	once       sync.Once
	port, base image.Image
	err        error
}

// sceneRegion is part of a sample scene ("port" or "base"), decoded.
func sceneRegion(t testing.TB, name string, r image.Rectangle) image.Image {
	t.Helper()
	scenes.once.Do(func() {
		all, err := sampledata.Scenes()
		if err != nil {
			scenes.err = err
			return
		}
		for _, s := range all {
			img, err := jpeg.Decode(bytes.NewReader(s.JPEG))
			if err != nil {
				scenes.err = err
				return
			}
			switch s.FileName {
			case "synthetic-port-scene.jpg":
				scenes.port = img
			case "synthetic-base-scene.jpg":
				scenes.base = img
			}
		}
	})
	if scenes.err != nil {
		t.Fatal(scenes.err)
	}
	src := scenes.port
	if name == "base" {
		src = scenes.base
	}
	out := image.NewRGBA(image.Rect(0, 0, r.Dx(), r.Dy()))
	draw.Draw(out, out.Bounds(), src, r.Min, draw.Src)
	return out
}

func decodeJPEG(t testing.TB, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestMatchFindsTheDistortedCopy(t *testing.T) {
	scene := sceneRegion(t, "port", image.Rect(0, 0, 1600, 1200))
	for _, tc := range []struct {
		name string
		d    matchtest.Distortion
	}{
		{"ok, the same pixels", matchtest.Distortion{Scale: 1, Contrast: 1, Quality: 90}},
		{"ok, turned 30° and halved", matchtest.Distortion{Rotation: 30, Scale: 0.5, Contrast: 1, Quality: 80}},
		{"ok, turned 12°, doubled, brighter and flatter, cropped", matchtest.Distortion{Rotation: 12, Scale: 2, Brightness: 35, Contrast: 0.6, Quality: 60, Crop: [4]float64{0.2, 0.1, 0.1, 0.2}}},
		{"ok, turned 25°, 1.4×, darker, harder, a 30 % crop", matchtest.Distortion{Rotation: 25, Scale: 1.4, Brightness: -40, Contrast: 1.4, Quality: 70, Crop: [4]float64{0, 0.3, 0.3, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			jpg, truth, err := matchtest.Copy(scene, tc.d)
			if err != nil {
				t.Fatal(err)
			}
			cp := decodeJPEG(t, jpg)
			res, err := match.Match(match.ImageSource(cp), match.ImageSource(scene), match.Options{MaxPoints: 12})
			if err != nil {
				t.Fatalf("%s: %v", tc.d, err)
			}
			if len(res.Points) < 6 {
				t.Errorf("got %d points, want at least 6", len(res.Points))
			}
			b := cp.Bounds()
			if e := matchtest.Error(res.Points, truth); e > 1 {
				t.Errorf("the points are %.2f px RMS from the truth, want ≤ 1", e)
			}
			if e := matchtest.ModelError(res.Model, truth, b.Dx(), b.Dy(), 1600, 1200); e > 2 {
				t.Errorf("the map is %.2f px RMS from the truth over the copy, want ≤ 2", e)
			}
			for _, p := range res.Points {
				if p.Pixel[0] < 0 || p.Pixel[1] < 0 || p.Pixel[0] > float64(b.Dx()) || p.Pixel[1] > float64(b.Dy()) {
					t.Errorf("point %v is outside the %d×%d copy", p.Pixel, b.Dx(), b.Dy())
				}
				if p.Score < 0.5 || p.Score > 1.0001 {
					t.Errorf("point %v has score %.3f, want within 0.5–1", p.Pixel, p.Score)
				}
			}
			t.Logf("%s: %d points, %d/%d inliers, error %.3f px, model %.3f px, rms %.3f", tc.d, len(res.Points), res.Inliers, res.Matches,
				matchtest.Error(res.Points, truth), matchtest.ModelError(res.Model, truth, b.Dx(), b.Dy(), 1600, 1200), res.RMS)
		})
	}
}

func TestMatchSaysNoMatchWithoutOverlap(t *testing.T) {
	for _, tc := range []struct {
		name     string
		img, ref image.Image
	}{
		{"nok, a port and a military base", sceneRegion(t, "port", image.Rect(0, 0, 1600, 1200)), sceneRegion(t, "base", image.Rect(800, 400, 2400, 1600))},
		{"nok, two towns of one scene", sceneRegion(t, "port", image.Rect(0, 0, 1400, 900)), sceneRegion(t, "port", image.Rect(2600, 2300, 4000, 3000))},
		{"nok, two far corners of the base", sceneRegion(t, "base", image.Rect(0, 0, 1500, 1500)), sceneRegion(t, "base", image.Rect(2500, 1500, 4000, 3000))},
		{"nok, flat grey", image.NewUniform(image.Black), sceneRegion(t, "port", image.Rect(0, 0, 1024, 768))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.img
			if _, ok := img.(*image.Uniform); ok {
				g := image.NewGray(image.Rect(0, 0, 800, 600))
				img = g
			}
			res, err := match.Match(match.ImageSource(img), match.ImageSource(tc.ref), match.Options{})
			var no *match.NoMatchError
			if !errors.As(err, &no) {
				t.Fatalf("got %d points (%d/%d inliers), err %v; want a NoMatchError", len(res.Points), res.Inliers, res.Matches, err)
			}
			if len(res.Points) != 0 {
				t.Errorf("got %d points with the no match, want none", len(res.Points))
			}
			if !strings.Contains(no.Reason, "agree") {
				t.Errorf("reason %q does not say what did not agree", no.Reason)
			}
			t.Logf("%s (%d/%d)", no.Reason, no.Inliers, no.Matches)
		})
	}
}

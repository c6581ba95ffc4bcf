package wand

import (
	"errors"
	"image"
	"image/color"
	"math"
	"testing"
)

// sea is a w×h image of noisy water with a ship: a dark hull of the given length and beam
// turned by angle degrees, its bow pointed, centred at (cx, cy).
func sea(w, h int, cx, cy, length, beam, angle float64) (*image.RGBA, float64) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	a := angle * math.Pi / 180
	area := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := uint8((x*7 + y*13) % 9) // a little texture
			c := color.RGBA{20 + n, 60 + n, 110 + n, 255}
			u := (float64(x)+0.5-cx)*math.Cos(a) + (float64(y)+0.5-cy)*math.Sin(a)
			v := -(float64(x)+0.5-cx)*math.Sin(a) + (float64(y)+0.5-cy)*math.Cos(a)
			half := beam / 2
			if u > length/4 { // the bow narrows to a point
				half *= (length/2 - u) / (length / 4)
			}
			if u >= -length/2 && u <= length/2 && math.Abs(v) <= half {
				c = color.RGBA{150 + n, 150 + n, 145 + n, 255}
				area++
			}
			img.Set(x, y, c)
		}
	}
	return img, float64(area)
}

func shoelace(r [][2]float64) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return math.Abs(s) / 2
}

func TestGrowFindsAShip(t *testing.T) {
	for _, angle := range []float64{0, 30, 75, 140} {
		img, want := sea(400, 300, 200, 150, 120, 18, angle)
		res, err := Grow(img, image.Pt(195, 150), 40, 1)
		if err != nil {
			t.Fatalf("angle %g: %v", angle, err)
		}
		if res.Area != int(want) {
			t.Errorf("angle %g: grew %d px, the ship has %d", angle, res.Area, int(want))
		}
		if got := shoelace(res.Ring); math.Abs(got-want) > 0.05*want {
			t.Errorf("angle %g: the outline holds %.0f px², the ship %.0f", angle, got, want)
		}
		if res.Ring[0] != res.Ring[len(res.Ring)-1] || len(res.Ring) > 60 {
			t.Errorf("angle %g: ring of %d positions, closed %v", angle, len(res.Ring), res.Ring[0] == res.Ring[len(res.Ring)-1])
		}
	}
}

func TestGrowOnOpenWaterFindsNothing(t *testing.T) {
	img, _ := sea(200, 200, -1000, -1000, 10, 2, 0) // no ship in view
	if _, err := Grow(img, image.Pt(100, 100), 40, 0.7); !errors.Is(err, ErrNoRegion) {
		t.Fatalf("open water: %v, want ErrNoRegion", err)
	}
}

func TestTraceFillsHolesAndFollowsPixelEdges(t *testing.T) {
	// A 3×3 ring of pixels with a hole in the middle: its outline is the 3×3 square.
	in := func(x, y int) bool { return x >= 0 && y >= 0 && x < 3 && y < 3 && !(x == 1 && y == 1) }
	r := trace(in, 3, 3)
	want := [][2]float64{{0, 0}, {3, 0}, {3, 3}, {0, 3}, {0, 0}}
	if len(r) != len(want) {
		t.Fatalf("ring %v, want %v", r, want)
	}
	for i := range want {
		if r[i] != want[i] {
			t.Fatalf("ring %v, want %v", r, want)
		}
	}
}

// A ship of two tones (a dark deck, a light superstructure aft): a click on the deck
// outlines the deck alone; a drag from stern to bow over both outlines the whole ship.
func TestDragCollectsAShipsParts(t *testing.T) {
	img, want := sea(400, 300, 200, 150, 120, 18, 20)
	a := 20 * math.Pi / 180
	at := func(u float64) image.Point { // a point on the centreline, u along the ship
		return image.Pt(int(200+u*math.Cos(a)), int(150+u*math.Sin(a)))
	}
	for y := 0; y < 300; y++ { // the superstructure: u in [-60, -25], light
		for x := 0; x < 400; x++ {
			u := (float64(x)+0.5-200)*math.Cos(a) + (float64(y)+0.5-150)*math.Sin(a)
			v := -(float64(x)+0.5-200)*math.Sin(a) + (float64(y)+0.5-150)*math.Cos(a)
			if u >= -58 && u <= -25 && math.Abs(v) <= 7 {
				img.Set(x, y, color.RGBA{220, 220, 215, 255})
			}
		}
	}
	one, err := Grow(img, at(20), 40, 1)
	if err != nil {
		t.Fatal(err)
	}
	if f := float64(one.Area) / want; f > 0.8 {
		t.Errorf("a click on the deck took %.0f %% of the ship, want the deck alone", 100*f)
	}
	var seeds []image.Point
	for u := -55.0; u <= 55; u += 5 {
		seeds = append(seeds, at(u))
	}
	all, err := Drag(img, seeds, 40, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := shoelace(all.Ring); math.Abs(got-want) > 0.05*want {
		t.Errorf("the drag outlines %.0f px², the ship has %.0f", got, want)
	}
	// A drag that strays onto the water leaves the water out.
	stray := append(append([]image.Point{}, seeds...), image.Pt(20, 20))
	if again, err := Drag(img, stray, 40, 1); err != nil || math.Abs(shoelace(again.Ring)-shoelace(all.Ring)) > 1 {
		t.Errorf("a drag onto the water: %v, %.0f px² against %.0f", err, shoelace(again.Ring), shoelace(all.Ring))
	}
}

// A loose box about the ship, over water and a strip of pier: the ship is outlined, the
// pier (in the border too) is not taken for it.
func TestFromBoxOutlinesTheShipInIt(t *testing.T) {
	img, want := sea(400, 300, 200, 150, 120, 18, 0)
	for y := 170; y < 300; y++ { // a light pier along the bottom, into the box
		for x := 0; x < 400; x++ {
			img.Set(x, y, color.RGBA{190, 185, 170, 255})
		}
	}
	res, err := FromBox(img, image.Rect(120, 120, 280, 185), 40, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := shoelace(res.Ring); math.Abs(got-want) > 0.1*want {
		t.Errorf("the box's outline holds %.0f px², the ship %.0f", got, want)
	}
	if _, err := FromBox(img, image.Rect(10, 10, 100, 100), 40, 1); !errors.Is(err, ErrNoRegion) {
		t.Errorf("a box of open water: %v, want ErrNoRegion", err)
	}
}

package similar

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/satmark/satmark/sampledata"
)

// levels is a pyramid made as satmark's is: each level the 2 × 2 mean of the one before.
type testLevels []*image.RGBA

func (p testLevels) Size() (int, int)                 { return p[0].Bounds().Dx(), p[0].Bounds().Dy() }
func (p testLevels) Levels() int                      { return len(p) }
func (p testLevels) Level(k int) (image.Image, error) { return p[k], nil }

func pyramidOf(img *image.RGBA, n int) testLevels {
	p := testLevels{img}
	for len(p) < n {
		src := p[len(p)-1]
		w, h := (src.Bounds().Dx()+1)/2, (src.Bounds().Dy()+1)/2
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for c := 0; c < 4; c++ {
					sum, cnt := 0, 0
					for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
						if xx, yy := 2*x+d[0], 2*y+d[1]; xx < src.Bounds().Dx() && yy < src.Bounds().Dy() {
							sum += int(src.Pix[yy*src.Stride+4*xx+c])
							cnt++
						}
					}
					dst.Pix[y*dst.Stride+4*x+c] = uint8((sum + cnt/2) / cnt)
				}
			}
		}
		p = append(p, dst)
	}
	return p
}

// vessel is a grey hull on the water with a bright bridge aft: centre, length, beam and
// heading (degrees clockwise on screen from +x, towards the bow).
type vessel struct{ x, y, length, beam, heading float64 }

// box is the vessel's rotated rectangle, its first side from stern to bow.
func (s vessel) box() [][2]float64 {
	sn, cs := math.Sincos(s.heading * math.Pi / 180)
	at := func(a, b float64) [2]float64 { return [2]float64{s.x + a*cs - b*sn, s.y + a*sn + b*cs} }
	l, b := s.length/2, s.beam/2
	return [][2]float64{at(-l, -b), at(l, -b), at(l, b), at(-l, b), at(-l, -b)}
}

// harbour is a w × h image of rippled water with the vessels, and a strip of land along
// its top with light rectangular sheds as long and wide as the vessels: something
// elongated that is not a ship.
func harbour(w, h int, ships []vessel) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			ripple := uint8(6 + 5*math.Sin(float64(x)/7+float64(y)/11))
			c := color.RGBA{18 + ripple, 50 + ripple, 62 + ripple, 255}
			if y < 120 {
				c = color.RGBA{120 + ripple, 116 + ripple, 100 + ripple, 255}
				if u := x % 200; u > 40 && u < 160 && y > 40 && y < 58 {
					c = color.RGBA{170, 170, 166, 255}
				}
			}
			for _, s := range ships {
				sn, cs := math.Sincos(s.heading * math.Pi / 180)
				dx, dy := float64(x)+0.5-s.x, float64(y)+0.5-s.y
				a, b := dx*cs+dy*sn, -dx*sn+dy*cs
				half := s.beam / 2
				if a > s.length/4 { // the bow narrows
					half *= (s.length/2 - a) / (s.length / 4)
				}
				if math.Abs(a) <= s.length/2 && math.Abs(b) <= half {
					c = color.RGBA{112, 116, 118, 255}
					if a < -s.length/6 && a > -s.length/2.5 && math.Abs(b) < s.beam/3 {
						c = color.RGBA{210, 212, 214, 255}
					}
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// bestMatch is the index of the vessel a candidate box overlaps most, and by how much.
func bestMatch(ring [][2]float64, ships []vessel) (int, float64) {
	at, best := -1, 0.0
	for i, s := range ships {
		if iou := IoU(ring, s.box()); iou > best {
			at, best = i, iou
		}
	}
	return at, best
}

// headingOf is the direction of a box ring's first side, in degrees.
func headingOf(ring [][2]float64) float64 {
	return math.Atan2(ring[1][1]-ring[0][1], ring[1][0]-ring[0][0]) * 180 / math.Pi
}

func angleApart(a, b float64) float64 { return math.Abs(math.Remainder(a-b, 360)) }

var fleet = []vessel{
	{200, 300, 90, 14, 10},   // the template
	{520, 260, 90, 14, 63},   //
	{820, 420, 90, 14, 130},  //
	{300, 560, 90, 14, 190},  // the other way round
	{650, 650, 90, 14, -70},  //
	{880, 700, 90, 14, 255},  //
	{120, 720, 40, 10, 30},   // a boat: too small to be one
	{1000, 260, 90, 14, 100}, // left out as already annotated
}

// From one boxed vessel: every other of its size, at any heading and either way round,
// each box on its vessel, turned to its heading with the bow where the bow is; not the
// boat, nor the sheds on land, nor the one left out.
func TestSearchFindsTheOthersAtAnyHeading(t *testing.T) {
	p := pyramidOf(harbour(1100, 820, fleet), 4)
	res, err := Search(p, fleet[0].box(), Options{Exclude: [][][2]float64{fleet[7].box()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v", res)
	found := map[int]bool{}
	for _, c := range res.Candidates {
		i, iou := bestMatch(c.Ring, fleet)
		t.Logf("%.3f at (%.0f, %.0f), turned %.1f°: vessel %d, IoU %.2f", c.Score, c.Center[0], c.Center[1], c.Rotation, i, iou)
		switch {
		case i < 1 || i > 5 || iou < 0.6:
			t.Errorf("a candidate that is none of the vessels 1–5: %+v (IoU %.2f with %d)", c, iou, i)
		case found[i]:
			t.Errorf("vessel %d twice", i)
		case angleApart(headingOf(c.Ring), fleet[i].heading) > 10:
			t.Errorf("vessel %d: the box heads %.1f°, the vessel %.1f°", i, headingOf(c.Ring), fleet[i].heading)
		case angleApart(c.Rotation, fleet[i].heading-fleet[0].heading) > 10:
			t.Errorf("vessel %d: turned %.1f° from the template, want %.1f°", i, c.Rotation, fleet[i].heading-fleet[0].heading)
		}
		found[i] = true
		if c.Score < DefaultThreshold || c.Score > 1 || c.Ring[0] != c.Ring[4] {
			t.Errorf("candidate %+v", c)
		}
	}
	if len(found) != 5 {
		t.Errorf("found vessels %v, want 1 to 5", found)
	}
	for i := 1; i < len(res.Candidates); i++ {
		if res.Candidates[i].Score > res.Candidates[i-1].Score {
			t.Errorf("candidates not best first: %.3f after %.3f", res.Candidates[i].Score, res.Candidates[i-1].Score)
		}
	}

	// At most Max, the best; none over a threshold no place reaches.
	two, err := Search(p, fleet[0].box(), Options{Max: 2})
	if err != nil || len(two.Candidates) != 2 || two.Candidates[0].Score != res.Candidates[0].Score {
		t.Errorf("Max 2: %v, %v", two, err)
	}
	none, err := Search(p, fleet[0].box(), Options{Threshold: 0.999})
	if err != nil || len(none.Candidates) != 0 {
		t.Errorf("threshold 0.999: %v, %v", none, err)
	}
	// A point left out takes the place it is in.
	pt, err := Search(p, fleet[0].box(), Options{Exclude: [][][2]float64{{{fleet[2].x, fleet[2].y}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range pt.Candidates {
		if i, iou := bestMatch(c.Ring, fleet); i == 2 && iou > 0.3 {
			t.Errorf("vessel 2 found though a point there is left out: %+v, IoU %.2f", c, iou)
		}
	}
}

func TestSearchRefusesWhatIsNoTemplate(t *testing.T) {
	p := pyramidOf(harbour(300, 200, nil), 3)
	for _, tt := range []struct {
		name string
		ring [][2]float64
		want error
	}{
		{"nok, not closed", [][2]float64{{10, 10}, {50, 10}, {50, 20}, {10, 20}, {10, 11}}, ErrNotRectangle},
		{"nok, a triangle", [][2]float64{{10, 10}, {50, 10}, {30, 40}, {10, 10}}, ErrNotRectangle},
		{"nok, not square-cornered", [][2]float64{{10, 10}, {50, 10}, {60, 30}, {20, 30}, {10, 10}}, ErrNotRectangle},
		{"nok, as large as the image", [][2]float64{{0, 0}, {300, 0}, {300, 200}, {0, 200}, {0, 0}}, ErrTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Search(p, tt.ring, Options{}); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// hugePyramid is a 40000 × 40000 image whose levels are never read.
type hugePyramid struct{}

func (hugePyramid) Size() (int, int) { return 40000, 40000 }
func (hugePyramid) Levels() int      { return 9 }
func (hugePyramid) Level(int) (image.Image, error) {
	return nil, errors.New("a level was read")
}

// Something 8 pixels across in a 40000² image would be searched for on a level of
// 20000²: refused before any pixel is read; something 100 across is searched for (on a
// level of 1250²).
func TestSearchRefusesWhatIsTooSmallForTheImage(t *testing.T) {
	small := [][2]float64{{100, 100}, {140, 100}, {140, 108}, {100, 108}, {100, 100}}
	if _, err := Search(hugePyramid{}, small, Options{}); !errors.Is(err, ErrTooSmall) {
		t.Errorf("got %v, want ErrTooSmall", err)
	}
	large := [][2]float64{{100, 100}, {500, 100}, {500, 200}, {100, 200}, {100, 100}}
	if _, err := Search(hugePyramid{}, large, Options{}); err == nil || errors.Is(err, ErrTooSmall) {
		t.Errorf("a 400 × 100 box: got %v, want the search to read its level", err)
	}
}

func TestIoU(t *testing.T) {
	sq := func(x, y, s float64) [][2]float64 {
		return [][2]float64{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}, {x, y}}
	}
	for _, tt := range []struct {
		name string
		a, b [][2]float64
		want float64
	}{
		{"ok, the same", sq(0, 0, 2), sq(0, 0, 2), 1},
		{"ok, half over", sq(0, 0, 2), sq(1, 0, 2), 2.0 / 6},
		{"ok, apart", sq(0, 0, 2), sq(5, 5, 2), 0},
		{"ok, one inside, the other way round", sq(0, 0, 4), [][2]float64{{1, 1}, {1, 3}, {3, 3}, {3, 1}, {1, 1}}, 4.0 / 16},
		{"ok, a diamond in a square", sq(-1, -1, 2), [][2]float64{{0, -1}, {1, 0}, {0, 1}, {-1, 0}, {0, -1}}, 0.5},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := IoU(tt.a, tt.b); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("IoU = %g, want %g", got, tt.want)
			}
		})
	}
}

// portPyramid is the sample port of 8 October as a pyramid, and its ships' boxes.
func portPyramid(t testing.TB) (testLevels, []sampledata.Object) {
	t.Helper()
	scenes, err := sampledata.Scenes()
	if err != nil {
		t.Fatal(err)
	}
	sc := scenes[0]
	im, err := jpeg.Decode(bytes.NewReader(sc.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	full := image.NewRGBA(im.Bounds())
	draw.Draw(full, full.Bounds(), im, image.Point{}, draw.Src)
	var ships []sampledata.Object
	for _, o := range sc.Objects {
		if o.Shape == "rotated_rectangle" {
			ships = append(ships, o)
		}
	}
	return pyramidOf(full, 5), ships
}

// On the sample port, from one landing ship the three others come back, and from one
// frigate the two others, at the default threshold, and nothing else (the town's long
// roofs and the cargo ships included).
func TestSearchOnTheSamplePort(t *testing.T) {
	if testing.Short() {
		t.Skip("two searches of a 4000 × 3000 scene")
	}
	p, ships := portPyramid(t)
	for _, kind := range []string{"vessel/landing ship", "vessel/frigate"} {
		var src sampledata.Object
		same := 0
		for _, o := range ships {
			if o.Label == kind {
				if src.Label == "" {
					src = o
				} else {
					same++
				}
			}
		}
		res, err := Search(p, src.Coordinates, Options{})
		if err != nil {
			t.Fatal(err)
		}
		found, wrong := map[int]bool{}, 0
		for _, c := range res.Candidates {
			at, best := -1, 0.3
			for i, o := range ships {
				if iou := IoU(c.Ring, o.Coordinates); iou >= best {
					at, best = i, iou
				}
			}
			if at < 0 || ships[at].Label != kind || found[at] {
				wrong++
				continue
			}
			found[at] = true
		}
		t.Logf("from a %s: %d of %d found, %d wrong; %v", strings.TrimPrefix(kind, "vessel/"), len(found), same, wrong, res)
		if len(found) != same || wrong != 0 {
			t.Errorf("from a %s: %d of the %d others found, %d candidates that are not one", kind, len(found), same, wrong)
		}
	}
}

// BenchmarkSearch4k: one landing ship searched for over a 4096 × 4096 scene (the sample
// port above a second copy of its lower half), on all the cores. Besides the time it
// reports the processor time the process spent per search (cpu-s/op), which a machine
// shared with other work does not inflate as it does the time.
func BenchmarkSearch4k(b *testing.B) {
	p, ships := portPyramid(b)
	big := image.NewRGBA(image.Rect(0, 0, 4096, 4096))
	draw.Draw(big, big.Bounds(), p[0], image.Point{}, draw.Src)
	draw.Draw(big, image.Rect(0, 3000, 4096, 4096), p[0], image.Pt(0, 1000), draw.Src)
	scene := pyramidOf(big, 6)
	cpu := func() float64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	start := cpu()
	n := 0
	for b.Loop() {
		if _, err := Search(scene, ships[0].Coordinates, Options{}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric((cpu()-start)/float64(n), "cpu-s/op")
}

// Command landcover writes a synthetic land-cover JPEG of any size, a strip at a time, for
// the benchmarks: fields, forest, water and built-up patches with fine texture, so that it
// compresses like aerial imagery (about 3–4 bits a pixel at quality 85). It is not
// imagery of anything.
//
//	go run ./bench/landcover -size 16384 -quality 85 -out bench/out/landcover-16384.jpg
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/satmark/satmark/imagery"
)

func main() {
	size := flag.Int("size", 16384, "width and height in pixels")
	quality := flag.Int("quality", 85, "JPEG quality")
	out := flag.String("out", "bench/out/landcover.jpg", "file to write")
	flag.Parse()
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fail(err)
	}
	if err := write(*out, *size, *size, *quality); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "landcover:", err)
	os.Exit(1)
}

// lattice is value noise on a coarse grid, interpolated bilinearly.
type lattice struct {
	cell int
	w    int
	v    []float32
}

func newLattice(rng *rand.Rand, width, height, cell int) *lattice {
	w, h := width/cell+2, height/cell+2
	l := &lattice{cell: cell, w: w, v: make([]float32, w*h)}
	for i := range l.v {
		l.v[i] = rng.Float32()
	}
	return l
}

func (l *lattice) at(x, y int) float32 {
	cx, cy := x/l.cell, y/l.cell
	fx, fy := float32(x%l.cell)/float32(l.cell), float32(y%l.cell)/float32(l.cell)
	i := cy*l.w + cx
	a, b, c, d := l.v[i], l.v[i+1], l.v[i+l.w], l.v[i+l.w+1]
	top := a + (b-a)*fx
	bot := c + (d-c)*fx
	return top + (bot-top)*fy
}

func write(path string, w, h, quality int) error {
	rng := rand.New(rand.NewPCG(16384, 85))
	cover := newLattice(rng, w, h, 1024)
	patch := newLattice(rng, w, h, 97)
	detail := newLattice(rng, w, h, 13)
	jw, err := imagery.NewJPEGWriter(path, w, h, quality)
	if err != nil {
		return err
	}
	palette := [][3]float32{{46, 78, 96}, {58, 92, 50}, {142, 134, 92}, {118, 146, 78}, {150, 146, 140}}
	const rows = 64
	buf := make([]byte, w*3*rows)
	for y0 := 0; y0 < h; y0 += rows {
		n := min(rows, h-y0)
		for r := 0; r < n; r++ {
			y := y0 + r
			line := buf[r*w*3:]
			for x := 0; x < w; x++ {
				c := cover.at(x, y)*0.7 + patch.at(x, y)*0.3
				cls := min(int(c*5), 4)
				base := palette[cls]
				t := 0.75 + 0.35*detail.at(x, y) + 0.15*(rng.Float32()-0.5)
				line[3*x] = clamp(base[0] * t)
				line[3*x+1] = clamp(base[1] * t)
				line[3*x+2] = clamp(base[2] * t)
			}
		}
		if err := jw.WriteRows(buf, w*3, n); err != nil {
			return err
		}
	}
	return jw.Close()
}

func clamp(v float32) byte {
	switch {
	case v < 0:
		return 0
	case v > 255:
		return 255
	}
	return byte(v)
}

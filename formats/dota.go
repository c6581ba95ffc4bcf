package formats

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/satmark/satmark/annotations"
)

// DOTAClassName is a class's name as DOTA writes it: its words joined by "-" (DOTA's
// "large-vehicle"), since a DOTA line is split at spaces.
func DOTAClassName(c Class) string {
	return strings.Join(strings.FieldsFunc(c.Name, unicode.IsSpace), "-")
}

// WriteDOTA writes one image's DOTA v1.5 label file: "imagesource:" and "gsd:" lines
// (the publisher, its spaces made "_" so that the line never reads as an object, and
// the ground sample distance in metres or null), then "x1 y1 x2 y2 x3 y3 x4 y4 class
// difficult" per rectangle, rotated rectangle and polygon, in pixels: the corners of the
// rotated rectangle, of a rectangle, or of the smallest-area rectangle around a polygon,
// clockwise on screen from the front-left corner (a ship's bow on its port side; the top
// left of a box whose axis points up). difficult is 1 for a "possible" identification.
// Points and lines are left out and returned.
func WriteDOTA(w io.Writer, img DatasetImage, classes Classes, each func(emit func(annotations.Annotation) error) error) ([]Omission, error) {
	bw := bufio.NewWriter(w)
	source := strings.Join(strings.Fields(img.Source.Publisher), "_")
	if source == "" {
		source = "unknown"
	}
	gsd := "null"
	if img.GSD != nil {
		gsd = strconv.FormatFloat(*img.GSD, 'f', -1, 64)
	}
	fmt.Fprintf(bw, "imagesource:%s\ngsd:%s\n", source, gsd)
	left, err := eachBox(each, classes, "DOTA", func(a annotations.Annotation, class Class, box orientedBox) error {
		for _, c := range box.corners() {
			fmt.Fprintf(bw, "%s %s ", num(c[0]), num(c[1]))
		}
		difficult := 0
		if a.Confidence == annotations.Possible {
			difficult = 1
		}
		fmt.Fprintf(bw, "%s %d\n", DOTAClassName(class), difficult)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return left, bw.Flush()
}

package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/satmark/satmark/annotations"
)

// WriteYOLO writes one image's label file for Ultralytics YOLO. Detect: a line
// "class cx cy w h" per rectangle, rotated rectangle and polygon, its axis-aligned box
// normalised by the image's size. OBB (obb true): "class x1 y1 x2 y2 x3 y3 x4 y4", the
// normalised corners of the rotated rectangle itself, of a rectangle, or of the
// smallest-area rectangle around a polygon, in DOTA's order (see orientedBox.corners);
// a polygon's rectangle reaching past the image is pulled back to its edge, since
// Ultralytics refuses a label file with a coordinate outside [0, 1]. Points and lines
// are left out and returned.
func WriteYOLO(w io.Writer, img DatasetImage, classes Classes, obb bool, each func(emit func(annotations.Annotation) error) error) ([]Omission, error) {
	bw := bufio.NewWriter(w)
	format := "YOLO detect"
	if obb {
		format = "YOLO-OBB"
	}
	W, H := float64(img.Width), float64(img.Height)
	clamp := func(v float64) float64 { return math.Min(1, math.Max(0, v)) }
	left, err := eachBox(each, classes, format, func(a annotations.Annotation, class Class, box orientedBox) error {
		bw.WriteString(strconv.Itoa(class.Index))
		if obb {
			for _, c := range box.corners() {
				fmt.Fprintf(bw, " %s %s", num(clamp(c[0]/W)), num(clamp(c[1]/H)))
			}
		} else {
			x0, y0, x1, y1 := extent(a.Geometry.Coordinates[0])
			fmt.Fprintf(bw, " %s %s %s %s", num((x0+x1)/2/W), num((y0+y1)/2/H), num((x1-x0)/W), num((y1-y0)/H))
		}
		bw.WriteByte('\n')
		return nil
	})
	if err != nil {
		return nil, err
	}
	return left, bw.Flush()
}

// eachBox calls fn for each annotation that has an oriented box (see boxOf) with its
// class, and returns the others as left out of format.
func eachBox(each func(emit func(annotations.Annotation) error) error, classes Classes, format string,
	fn func(annotations.Annotation, Class, orientedBox) error) ([]Omission, error) {
	var left []Omission
	err := each(func(a annotations.Annotation) error {
		class, err := classes.Of(a)
		if err != nil {
			return err
		}
		box, ok := boxOf(a)
		if !ok {
			left = appendOmitted(left, a, format)
			return nil
		}
		return fn(a, class, box)
	})
	return left, err
}

// WriteYOLOData writes Ultralytics' data.yaml for a dataset laid out as images/ and
// labels/ beside it: every image in train and val (split them as the experiment needs),
// and the classes by number.
func WriteYOLOData(w io.Writer, classes Classes, obb bool) error {
	return writeYOLOData(w, classes, obb, "# Every image is in both train and val: split them as your experiment needs.\n",
		"path: .\ntrain: images\nval: images\n")
}

// WriteYOLOSplitData writes the data.yaml of a dataset split into folders, each split's
// images in <split>/images and its labels in <split>/labels; an empty split is named
// "" and left out (Ultralytics wants train and val, so an empty val names train's).
func WriteYOLOSplitData(w io.Writer, classes Classes, obb bool, train, val, test string) error {
	if val == "" {
		val = train
	}
	paths := "path: .\ntrain: " + train + "/images\nval: " + val + "/images\n"
	if test != "" {
		paths += "test: " + test + "/images\n"
	}
	return writeYOLOData(w, classes, obb, "# Split by satmark: see README.md and dataset.json.\n", paths)
}

func writeYOLOData(w io.Writer, classes Classes, obb bool, note, paths string) error {
	bw := bufio.NewWriter(w)
	task := "detect: class cx cy w h"
	if obb {
		task = "obb: class x1 y1 x2 y2 x3 y3 x4 y4"
	}
	fmt.Fprintf(bw, "# satmark export for Ultralytics YOLO (%s, normalised to the image's size).\n", task)
	bw.WriteString(note)
	bw.WriteString(paths)
	bw.WriteString("names:\n")
	for _, c := range classes.List {
		// A JSON string is a YAML double-quoted scalar.
		name, err := json.Marshal(c.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, "  %d: %s\n", c.Index, name)
	}
	return bw.Flush()
}

// WriteClassNames writes the classes one per line, line n being class n (darknet's
// classes.txt, and the class list beside DOTA's labels).
func WriteClassNames(w io.Writer, classes Classes, name func(Class) string) error {
	bw := bufio.NewWriter(w)
	for _, c := range classes.List {
		bw.WriteString(name(c) + "\n")
	}
	return bw.Flush()
}

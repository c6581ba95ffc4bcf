package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// Reading YOLO label files (Ultralytics' detect and OBB), DOTA label files: a line per
// object, read one at a time, in normalised (YOLO) or pixel (DOTA) coordinates.

// yoloReader reads one image's YOLO label file: "class cx cy w h" (detect: a rectangle)
// or, with obb, "class x1 y1 … x4 y4" (a rotated rectangle, corners in DOTA's order),
// normalised by the image's size. The label file is the one upload, or in a zip the one
// named after the image as satmark's datasets name it (labels/<stem>.txt); class names
// come from classes.txt or data.yaml beside it, else each class is its number.
func yoloReader(obb bool) Reader {
	return func(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
		names, err := yoloClasses(src)
		if err != nil {
			return err
		}
		name, err := src.labelFile(t)
		if err != nil {
			return err
		}
		W, H := float64(t.Image.Width), float64(t.Image.Height)
		return eachLine(src, name, func(line string, n int, fields []string) annotations.ImportFeature {
			place := fmt.Sprintf("line %d", n)
			want := 5
			if obb {
				want = 9
			}
			if len(fields) != want {
				return refusal("", place, "%d values where a YOLO%s line has %d", len(fields), map[bool]string{true: "-OBB"}[obb], want)
			}
			label := fields[0]
			if i, err := strconv.Atoi(fields[0]); err == nil && i >= 0 && i < len(names) {
				label = names[i]
			}
			v, err := floats(fields[1:])
			if err != nil {
				return refusal("", place, "%v", err)
			}
			if !obb {
				cx, cy, w, h := v[0]*W, v[1]*H, v[2]*W, v[3]*H
				x0, y0, x1, y1 := cx-w/2, cy-h/2, cx+w/2, cy+h/2
				ring := []annotations.Position{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
				return featureOf("", place, label, annotations.ShapeRectangle, annotations.PolygonGeometry(ring), nil)
			}
			var c [4][2]float64
			for i := range c {
				c[i] = [2]float64{v[2*i] * W, v[2*i+1] * H}
			}
			shape, g := cornersShape(c)
			return featureOf("", place, label, shape, g, nil)
		}, emit)
	}
}

// labelFile is the label file of the image in src: the only .txt that is no class list,
// or the one named after the image.
func (src ImportSource) labelFile(t ImportTarget) (string, error) {
	stem := datasetName(t.Image).Stem()
	var files []string
	for _, f := range src.Files {
		base := strings.ToLower(f[strings.LastIndex(f, "/")+1:])
		if strings.HasSuffix(base, ".txt") && base != "classes.txt" && base != "default.txt" {
			files = append(files, f)
		}
	}
	only := ImportSource{Dir: src.Dir, Files: files}
	return only.pick("label file", []string{stem + ".txt"}, ".txt")
}

// yoloClasses are the class names of classes.txt (one a line) or data.yaml (names: as a
// map of numbers or a list), by number; nil when the upload has neither.
func yoloClasses(src ImportSource) ([]string, error) {
	for _, f := range src.Files {
		if strings.EqualFold(f[strings.LastIndex(f, "/")+1:], "classes.txt") {
			var names []string
			err := eachRawLine(src, f, func(line string) {
				names = append(names, strings.TrimSpace(line))
			})
			return names, err
		}
	}
	for _, f := range src.Files {
		base := strings.ToLower(f[strings.LastIndex(f, "/")+1:])
		if base == "data.yaml" || base == "data.yml" {
			return yamlNames(src, f)
		}
	}
	return nil, nil
}

// yamlNames reads the names of an Ultralytics data.yaml: "names:" followed by indented
// "N: name" lines, or "names: [a, b]".
func yamlNames(src ImportSource, file string) ([]string, error) {
	byNumber := map[int]string{}
	inNames := false
	var list []string
	err := eachRawLine(src, file, func(line string) {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || trimmed == "" {
			return
		}
		if rest, ok := strings.CutPrefix(trimmed, "names:"); ok && !strings.HasPrefix(line, " ") {
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, "[") {
				for _, n := range strings.Split(strings.Trim(rest, "[]"), ",") {
					list = append(list, yamlScalar(n))
				}
				return
			}
			inNames = true
			return
		}
		if inNames && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
			k, v, ok := strings.Cut(trimmed, ":")
			if i, err := strconv.Atoi(strings.TrimSpace(k)); ok && err == nil {
				byNumber[i] = yamlScalar(v)
			}
			return
		}
		inNames = false
	})
	if list != nil || err != nil {
		return list, err
	}
	names := make([]string, len(byNumber))
	for i := range names {
		n, ok := byNumber[i]
		if !ok {
			return nil, fileErrorf("%s names classes 0 to %d but not %d", file, len(byNumber)-1, i)
		}
		names[i] = n
	}
	return names, nil
}

// yamlScalar reads a YAML scalar as data.yaml files write them: plain, 'single' or
// "double" quoted (a JSON string is a double-quoted YAML scalar).
func yamlScalar(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		var out string
		if json.Unmarshal([]byte(s), &out) == nil {
			return out
		}
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

// ReadDOTA reads one image's DOTA label file (v1.0 or v1.5): optional "imagesource:" and
// "gsd:" lines, then "x1 y1 x2 y2 x3 y3 x4 y4 class difficult" in pixels, corners from
// the front-left clockwise. The class is a label of the taxonomy as DOTA spells it
// (spaces as "-", as satmark writes it) or else as it is; difficult 1 is the confidence
// "possible", as satmark writes it. A box whose axis points up the image is a rectangle,
// any other a rotated rectangle.
func ReadDOTA(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
	name, err := src.labelFile(t)
	if err != nil {
		return err
	}
	byDOTA := map[string]string{}
	for _, c := range ClassesOf(t.Labels).List {
		byDOTA[strings.ToLower(DOTAClassName(c))] = c.Name
	}
	return eachLine(src, name, func(line string, n int, fields []string) annotations.ImportFeature {
		place := fmt.Sprintf("line %d", n)
		if len(fields) != 9 && len(fields) != 10 {
			return refusal("", place, "%d values where a DOTA line has 10 (8 coordinates, the class, difficult)", len(fields))
		}
		v, err := floats(fields[:8])
		if err != nil {
			return refusal("", place, "%v", err)
		}
		label := fields[8]
		if path, ok := byDOTA[strings.ToLower(label)]; ok {
			label = path
		}
		var props properties
		if len(fields) == 10 && fields[9] == "1" {
			props.Confidence = string(annotations.Possible)
		}
		var c [4][2]float64
		for i := range c {
			c[i] = [2]float64{v[2*i], v[2*i+1]}
		}
		shape, g := cornersShape(c)
		return featureOf("", place, label, shape, g, props.asMap())
	}, emit)
}

// eachLine calls feature for every line of a label file that is not blank, a comment, or
// DOTA's header, and emits what it makes.
func eachLine(src ImportSource, name string, feature func(line string, n int, fields []string) annotations.ImportFeature, emit func(annotations.ImportFeature) error) error {
	f, err := src.open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "imagesource:") || strings.HasPrefix(line, "gsd:") {
			continue
		}
		if err := emit(feature(line, n, strings.Fields(line))); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fileErrorf("%s cannot be read as text lines: %v", name, err)
	}
	return nil
}

func eachRawLine(src ImportSource, name string, fn func(string)) error {
	f, err := src.open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return scanLines(f, name, fn)
}

func scanLines(r io.Reader, name string, fn func(string)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(line) != "" {
			fn(line)
		}
	}
	if err := sc.Err(); err != nil {
		return fileErrorf("%s cannot be read as text lines: %v", name, err)
	}
	return nil
}

func floats(fields []string) ([]float64, error) {
	out := make([]float64, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out[i] = v
	}
	return out, nil
}

package annotations

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The shapes route's frames (server/annotationshapes.go, read by web/src/shaperows.js).
// With a hundred thousand annotations a page spent its load reading the annotations'
// text, building their coordinates' nested arrays, and collecting them again. A frame
// carries them as a page can take them in a few calls: one JSON.parse of the strings,
// typed arrays over the rest, and the nested arrays only for what reads them. Little-
// endian throughout:
//
//	head   6 × uint32: n rows, s bytes of strings, j bytes of JSON, r ring counts,
//	       k coordinates, m measures
//	s      a JSON array of strings: the n rows' ids in order, then each other string
//	       the rows name (label ids, shapes, geometry types, review statuses, users,
//	       times, bases) once; "string i" below is its element n + i
//	j      a JSON array: the properties of the rows whose properties are not all three
//	       empty, in order (no bytes when there are none)
//	       zero bytes to a multiple of 4 from the frame's start
//	rows   n × 13 uint32, one row each: version, label id (string i), shape (string i),
//	       geometry type (string i), its rings (how many of the ring counts are its),
//	       properties (0: {"confidence":"","identification":"","note":""}; p: element p-1
//	       of the JSON), measures given (bits, in the list's order of them: length_px 1,
//	       width_px 2, area_px2 4, perimeter_px 8, length_m 16, width_m 32, area_m2 64,
//	       perimeter_m 128, heading_deg 256), basis (0: none; b: string b-1),
//	       review_status, created_by, created_at, updated_by, updated_at (string i each)
//	r      uint32: the positions in each ring, the rows' rings in order
//	       zero bytes to a multiple of 8 from the frame's start
//	k      float64: the positions' x and y, in order
//	m      float64: the measures given, in order
//
// A frame of no rows (24 zero bytes) ends the answer, so that one cut short can be told
// from a whole one. Put back with its label and image, a row is the list route's
// annotation (Annotation.AppendJSON), value for value.

// ShapeFrameHead is the byte length of a frame's head, and of the frame that ends an
// answer.
const ShapeFrameHead = 24

// measureCount is how many numbers a row's measures word tells of.
const measureCount = 9

// ShapeFrame is a frame of the shapes route being put together: Add appends annotations,
// AppendTo writes the frame. The zero ShapeFrame is empty, ready to use.
type ShapeFrame struct {
	n        int
	ids      []byte            // the rows' ids as JSON strings, each followed by a comma
	strs     []byte            // the other strings, as ids
	index    map[string]uint32 // an other string's JSON text → its index
	nstrs    uint32
	props    []byte // the JSON array's elements, each followed by a comma
	nprops   uint32
	rows     []uint32
	rings    []uint32
	coords   []float64
	measures []float64
	scratch  []byte // a string's JSON text, while it is looked up
	times    []byte // the row's times' JSON text
}

// Len is how many rows the frame holds.
func (f *ShapeFrame) Len() int { return f.n }

// Reset empties the frame, keeping its memory for the next.
func (f *ShapeFrame) Reset() {
	f.n, f.nstrs, f.nprops = 0, 0, 0
	f.ids, f.strs, f.props = f.ids[:0], f.strs[:0], f.props[:0]
	f.rows, f.rings, f.coords, f.measures = f.rows[:0], f.rings[:0], f.coords[:0], f.measures[:0]
	clear(f.index)
}

// Add appends a row for the annotation: what AppendJSON writes for it but its image and
// label (only the label's id), Ground written in its measures as by AppendJSON. A value
// AppendJSON could not write (a coordinate or measure that is not a number, a time out
// of its range, properties that are not JSON) is an error, and the frame is as it was.
func (f *ShapeFrame) Add(a *Annotation) error {
	for _, ring := range a.Geometry.Coordinates {
		for _, p := range ring {
			if math.IsNaN(p[0]) || math.IsInf(p[0], 0) || math.IsNaN(p[1]) || math.IsInf(p[1], 0) {
				return fmt.Errorf("annotation %s: a coordinate is not a number", a.ID)
			}
		}
	}
	m := a.Geometry.Measure(a.Shape)
	m.Ground = a.Ground
	values := [measureCount]*float64{&m.LengthPx, &m.WidthPx, &m.AreaPx2, &m.PerimeterPx, m.LengthM, m.WidthM, m.AreaM2, m.PerimeterM, m.HeadingDeg}
	var given uint32
	for i, v := range values {
		if v == nil || (i < 4 && *v == 0) { // the pixel measures are left out when 0, as in the list
			continue
		}
		if math.IsNaN(*v) || math.IsInf(*v, 0) {
			return fmt.Errorf("json: unsupported value: %v", *v) // encoding/json's words, as appendMeasures'
		}
		given |= 1 << i
	}
	times, err := appendTime(f.times[:0], a.CreatedAt)
	if err != nil {
		return err
	}
	mid := len(times)
	if times, err = appendTime(times, a.UpdatedAt); err != nil {
		return err
	}
	f.times = times
	props := uint32(0)
	if len(a.Attributes) > 0 || a.Confidence != "" || a.Identification != "" || a.Note != "" {
		b, err := a.appendProperties(f.props)
		if err != nil {
			return err
		}
		f.props = append(b, ',')
		f.nprops++
		props = f.nprops
	}

	f.n++
	f.ids = append(appendString(f.ids, a.ID), ',')
	basis := uint32(0)
	if m.Basis != "" {
		basis = f.str(m.Basis) + 1
	}
	f.rows = append(f.rows, uint32(a.Version), f.str(a.Label.ID), f.str(string(a.Shape)), f.str(a.Geometry.Type),
		uint32(len(a.Geometry.Coordinates)), props, given, basis, f.str(a.ReviewStatus), f.str(a.CreatedBy),
		f.json(times[:mid]), f.str(a.UpdatedBy), f.json(times[mid:]))
	for _, ring := range a.Geometry.Coordinates {
		f.rings = append(f.rings, uint32(len(ring)))
		for _, p := range ring {
			f.coords = append(f.coords, p[0], p[1])
		}
	}
	for i, v := range values {
		if given&(1<<i) != 0 {
			f.measures = append(f.measures, *v)
		}
	}
	return nil
}

// str is the index of s among the frame's other strings, added when new.
func (f *ShapeFrame) str(s string) uint32 {
	start := len(f.scratch)
	f.scratch = appendString(f.scratch, s)
	i := f.json(f.scratch[start:])
	f.scratch = f.scratch[:start]
	return i
}

// json is the index of the string whose JSON text is t among the frame's other strings,
// added when new.
func (f *ShapeFrame) json(t []byte) uint32 {
	if i, ok := f.index[string(t)]; ok {
		return i
	}
	if f.index == nil {
		f.index = make(map[string]uint32)
	}
	i := f.nstrs
	f.index[string(t)] = i
	f.nstrs++
	f.strs = append(append(f.strs, t...), ',')
	return i
}

// AppendTo appends the frame's bytes to b (the end of an answer when it holds no rows):
// a multiple of 8 bytes, so that each frame of an answer starts where a reader can lay its
// float64 over it.
func (f *ShapeFrame) AppendTo(b []byte) []byte {
	start := len(b)
	if f.n == 0 {
		return append(b, make([]byte, ShapeFrameHead)...)
	}
	strs := len(f.ids) + len(f.strs) + 1 // the brackets, less the last comma
	js := 0
	if f.nprops > 0 {
		js = len(f.props) + 1
	}
	for _, v := range []int{f.n, strs, js, len(f.rings), len(f.coords), len(f.measures)} {
		b = binary.LittleEndian.AppendUint32(b, uint32(v))
	}
	b = append(b, '[')
	b = append(b, f.ids...)
	if f.nstrs > 0 {
		b = append(b, f.strs...)
	}
	b[len(b)-1] = ']'
	if js > 0 {
		b = append(b, '[')
		b = append(b, f.props...)
		b[len(b)-1] = ']'
	}
	b = pad(b, start, 4)
	for _, v := range f.rows {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	for _, v := range f.rings {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	b = pad(b, start, 8)
	for _, v := range f.coords {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	for _, v := range f.measures {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// pad appends zero bytes to b up to a multiple of to from start.
func pad(b []byte, start, to int) []byte {
	for (len(b)-start)%to != 0 {
		b = append(b, 0)
	}
	return b
}

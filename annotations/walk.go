package annotations

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// The walk over many annotations (an export of 100,000): reading the rows and decoding
// them is about as much work as writing them out, so the rows are read on a goroutine of
// their own, a few batches ahead of the caller, and the halves share two cores. The
// batches in flight bound the memory the walk holds: at most 2·walkAhead+3 of walkBatch.
const (
	walkBatch = 256
	walkAhead = 4
)

// EachAnnotation calls fn for every annotation f selects, in the order of Annotations,
// without holding them all in memory: the annotations are read and decoded a few hundred
// ahead of fn, on another goroutine. fn is called on the caller's goroutine, one
// annotation at a time. An error from fn stops the walk and is returned; the walk is over
// (its rows closed) when EachAnnotation returns.
func (s *Store) EachAnnotation(ctx context.Context, f AnnotationFilter, fn func(Annotation) error) error {
	return s.EachPreparedAnnotation(ctx, f, nil, fn)
}

// EachPreparedAnnotation is EachAnnotation with prepare, when not nil, called on each
// annotation in order, before fn gets it, on a goroutine between the one that reads them
// and fn's: work on each annotation (an export's ground measures) done beside fn's
// rather than before it. prepare runs while fn runs on earlier annotations, so it must
// not touch what fn writes. A panic in prepare is raised again on the caller's goroutine.
func (s *Store) EachPreparedAnnotation(ctx context.Context, f AnnotationFilter, prepare func(*Annotation), fn func(Annotation) error) error {
	labels, err := s.labelsTx(ctx, s.db)
	if err != nil {
		return err
	}
	where, args := annotationWhere(labels, f)
	packed := !s.d.postgres
	rows, err := s.db.QueryContext(ctx, `SELECT `+walkColumns(packed)+` FROM annotations`+where+" ORDER BY image_id, created_at, id", args...)
	if err != nil {
		return err
	}
	scan := newRowScanner(labels, packed)

	read := make(chan []Annotation, walkAhead)
	free := make(chan []Annotation, 2*walkAhead+2)
	stop := make(chan struct{})
	var once sync.Once
	halt := func() { once.Do(func() { close(stop) }) }
	// Each is written by its goroutine before it closes its channel, and read after.
	var readErr error
	var readPanic, preparePanic any
	go func() {
		defer close(read)
		defer rows.Close()
		batch := make([]Annotation, 0, walkBatch)
		// send hands the batch over and reports whether the walk goes on.
		send := func() bool {
			if len(batch) == 0 {
				return true
			}
			select {
			case read <- batch:
			case <-stop:
				return false
			}
			select {
			case batch = <-free:
			default:
				batch = make([]Annotation, 0, walkBatch)
			}
			return true
		}
		defer func() {
			if p := recover(); p != nil {
				readPanic = fmt.Sprintf("%v\n(reading annotations:)\n%s", p, debug.Stack())
			}
		}()
		for rows.Next() {
			a, err := scan.row(rows)
			if err != nil {
				readErr = err
				send() // fn gets the annotations before the bad one, as it would one by one
				return
			}
			if batch = append(batch, a); len(batch) == walkBatch && !send() {
				return
			}
		}
		readErr = rows.Err()
		send()
	}()
	ready := read
	if prepare != nil {
		prepared := make(chan []Annotation, walkAhead)
		go func() {
			defer close(prepared)
			defer func() {
				if p := recover(); p != nil {
					preparePanic = fmt.Sprintf("%v\n(preparing annotations:)\n%s", p, debug.Stack())
					halt()
				}
				for range read { // the reader stops, and is waited for
				}
			}()
			for batch := range read {
				for i := range batch {
					prepare(&batch[i])
				}
				select {
				case prepared <- batch:
				case <-stop:
					return
				}
			}
		}()
		ready = prepared
	}

	// Whatever way this returns (a panic in fn too), the goroutines are stopped and
	// waited for: the rows are closed when it returns.
	defer func() {
		halt()
		for range ready {
		}
	}()
	for batch := range ready {
		for i := range batch {
			if err := fn(batch[i]); err != nil {
				return err
			}
		}
		clear(batch)
		select {
		case free <- batch[:0]:
		default:
		}
	}
	for _, p := range []any{readPanic, preparePanic} {
		if p != nil {
			panic(p)
		}
	}
	return readErr
}

// eachAnnotation walks f's annotations one by one through q (a transaction's, say), on
// the caller's goroutine.
func (s *Store) eachAnnotation(ctx context.Context, q querier, f AnnotationFilter, fn func(Annotation) error) error {
	labels, err := s.labelsTx(ctx, q)
	if err != nil {
		return err
	}
	where, args := annotationWhere(labels, f)
	packed := !s.d.postgres
	rows, err := q.QueryContext(ctx, `SELECT `+walkColumns(packed)+` FROM annotations`+where+" ORDER BY image_id, created_at, id", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	scan := newRowScanner(labels, packed)
	for rows.Next() {
		a, err := scan.row(rows)
		if err != nil {
			return err
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// rowScanner reads annotation rows as scanAnnotation does, into destinations it keeps
// from row to row: Scan's arguments escape, and fresh ones for every row were seven
// allocations, and the geometry and attributes, stored as bytes, were copied twice.
//
// On SQLite the short text columns come packed in one JSON array (walkColumns): the
// driver makes a string, and boxes it, for every column of every row, which was half the
// cost of reading one; the array's strings are slices of its one string.
type rowScanner struct {
	labels                    map[string]Label
	a                         Annotation
	labelID, created, updated string
	geom, attrs               sql.RawBytes
	packed                    string // the packed columns, when packed
	parts                     [len(packedColumns)]string
	dest                      []any
}

// packedColumns are the columns SQLite packs, in the order of the array.
var packedColumns = [...]string{"id", "image_id", "label_id", "shape", "confidence", "review_status", "created_by", "created_at", "updated_by", "updated_at"}

// walkColumns are the columns a walk selects: annotationColumns, or with packed those of
// packedColumns in one JSON array.
func walkColumns(packed bool) string {
	if !packed {
		return annotationColumns
	}
	return `json_array(` + strings.Join(packedColumns[:], ", ") + `), geometry, identification, note, attributes, version`
}

func newRowScanner(labels []Label, packed bool) *rowScanner {
	r := &rowScanner{labels: labelIndex(labels)}
	a := &r.a
	if packed {
		r.dest = []any{&r.packed, &r.geom, &a.Identification, &a.Note, &r.attrs, &a.Version}
	} else {
		r.dest = []any{&a.ID, &a.ImageID, &r.labelID, &a.Shape, &r.geom, &a.Confidence, &a.Identification, &a.Note, &r.attrs,
			&a.ReviewStatus, &a.CreatedBy, &r.created, &a.UpdatedBy, &r.updated, &a.Version}
	}
	return r
}

// row scans the current row (of a query of walkColumns).
func (r *rowScanner) row(rows *sql.Rows) (Annotation, error) {
	if err := rows.Scan(r.dest...); err != nil {
		return Annotation{}, err
	}
	if r.dest[0] == &r.packed {
		if err := unpack(r.packed, r.parts[:]); err != nil {
			return Annotation{}, fmt.Errorf("annotation row %.60q: %w", r.packed, err)
		}
		p, a := &r.parts, &r.a
		a.ID, a.ImageID, r.labelID, a.Shape, a.Confidence = p[0], p[1], p[2], Shape(p[3]), Confidence(p[4])
		a.ReviewStatus, a.CreatedBy, r.created, a.UpdatedBy, r.updated = p[5], p[6], p[7], p[8], p[9]
	}
	a := r.a
	a.Label = r.labels[r.labelID]
	var err error
	// The geometry is parsed into numbers; the raw bytes are not kept.
	if a.Geometry, err = storedGeometry(r.geom); err != nil {
		return Annotation{}, fmt.Errorf("annotation %s: stored geometry: %w", a.ID, err)
	}
	if string(r.attrs) == "{}" {
		a.Attributes = map[string]json.RawMessage{} // as json.Unmarshal makes it, without its cost
	} else if a.Attributes, err = storedAttributes(bytes.Clone(r.attrs)); err != nil {
		// (compactAttributes keeps slices of what it reads: a copy, not the driver's bytes.)
		return Annotation{}, fmt.Errorf("annotation %s: stored attributes: %w", a.ID, err)
	}
	a.CreatedAt, a.UpdatedAt = parseTime(r.created), parseTime(r.updated)
	return a, nil
}

// unpack reads SQLite's json_array of text values into parts: each a slice of s where it
// holds no escape, else its text with the escapes SQLite writes (\" \\ \b \f \n \r \t
// \uXXXX) undone byte for byte; anything else is an error.
func unpack(s string, parts []string) error {
	i := 0
	for k := range parts {
		sep := byte(',')
		if k == 0 {
			sep = '['
		}
		if i+1 >= len(s) || s[i] != sep || s[i+1] != '"' {
			return errors.New("not the array of text the walk selects")
		}
		i += 2
		end := strings.IndexByte(s[i:], '"')
		if end < 0 {
			return errors.New("a string is not closed")
		}
		if v := s[i : i+end]; strings.IndexByte(v, '\\') < 0 {
			parts[k], i = v, i+end+1
			continue
		}
		var b []byte
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] != '\\' {
				b = append(b, s[i])
				continue
			}
			if i++; i >= len(s) {
				return errors.New("a string is not closed")
			}
			switch c := s[i]; c {
			case '"', '\\':
				b = append(b, c)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				n, err := strconv.ParseUint(s[min(i+1, len(s)):min(i+5, len(s))], 16, 16)
				if err != nil || i+5 > len(s) || utf16.IsSurrogate(rune(n)) {
					return errors.New("a \\u escape that is not one character")
				}
				b = utf8.AppendRune(b, rune(n))
				i += 4
			default:
				return fmt.Errorf("an escape \\%c", c)
			}
		}
		if i >= len(s) {
			return errors.New("a string is not closed")
		}
		parts[k], i = string(b), i+1
	}
	if i != len(s)-1 || s[i] != ']' {
		return errors.New("not the array of text the walk selects")
	}
	return nil
}

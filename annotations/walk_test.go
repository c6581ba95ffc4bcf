package annotations

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// manyAnnotations imports n annotations of varied shapes and properties onto the image:
// enough for the walk to hand over many batches.
func manyAnnotations(t *testing.T, x annotated, n int) {
	t.Helper()
	fs := make([]ImportFeature, n)
	for i := range fs {
		geom := []string{pointJSON, boxJSON, `{"type":"LineString","coordinates":[[1,2],[3.25,4.5],[10,20]]}`}[i%3]
		shape := []Shape{ShapePoint, ShapeRectangle, ShapeLine}[i%3]
		props := []string{`null`, `{"hull":"BDK-61","count":3}`, `{"note":"seen \"here\"","tags":["a","b"],"nested":{"n":1}}`, `{"identification":"Ropucha"}`}[i%4]
		fs[i] = feature(fmt.Sprint("f", i), []string{"vessel", "vessel/landing ship", "naval base"}[i%3], shape, geom, props)
	}
	if _, err := x.s.ImportAnnotations(context.Background(), Actor{Name: "kim"}, x.img.ID, emitting(fs...), ImportOptions{Format: "geojson"}); err != nil {
		t.Fatalf("import: %v", err)
	}
}

// The walk reads ahead on other goroutines, in batches: what fn gets, in which order, is
// still what Annotations gives and each annotation as Annotation reads it alone; prepare
// has been through each before fn gets it, in order.
func TestEachAnnotationGivesWhatAnnotationsGivesAcrossBatches(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		n := walkBatch*(walkAhead+3) + 17
		manyAnnotations(t, x, n)
		want, err := x.s.Annotations(ctx, AnnotationFilter{})
		if err != nil || len(want) != n {
			t.Fatalf("Annotations: %d, %v; want %d", len(want), err, n)
		}
		prepared := 0
		var got []Annotation
		err = x.s.EachPreparedAnnotation(ctx, AnnotationFilter{}, func(a *Annotation) {
			a.Ground.Basis = fmt.Sprint(prepared)
			prepared++
		}, func(a Annotation) error {
			if a.Ground.Basis != fmt.Sprint(len(got)) {
				t.Fatalf("annotation %d was prepared as %q, want %d", len(got), a.Ground.Basis, len(got))
			}
			a.Ground.Basis = ""
			got = append(got, a)
			return nil
		})
		if err != nil {
			t.Fatalf("EachPreparedAnnotation: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("got %d annotations, want %d", len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("annotation %d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
		for _, i := range []int{0, 1, 2, 3, walkBatch, n - 1} {
			one, err := x.s.Annotation(ctx, got[i].ID)
			if err != nil || !reflect.DeepEqual(one, got[i]) {
				t.Errorf("annotation %d alone: %v\n got %+v\nwant %+v", i, err, one, got[i])
			}
		}
	})
}

// However the walk ends (fn's error, a panic in fn or in prepare), it is over when it
// returns: its rows are closed and no connection is left in use.
func TestEachAnnotationEndsItsReadingWhenItReturns(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		n := walkBatch * (walkAhead + 3)
		manyAnnotations(t, x, n)
		errStop := errors.New("client went away")
		recovered := func(walk func()) (p any) {
			defer func() { p = recover() }()
			walk()
			return nil
		}
		tests := []struct {
			name      string
			prepare   func(*Annotation)
			fn        func(int) error
			wantErr   error
			wantPanic string
			wantCalls int
		}{
			{"fn's error stops it", nil, func(i int) error {
				if i == walkBatch+5 {
					return errStop
				}
				return nil
			}, errStop, "", walkBatch + 6},
			{"fn's error stops it with a prepare", func(*Annotation) {}, func(i int) error {
				if i == 3 {
					return errStop
				}
				return nil
			}, errStop, "", 4},
			{"a panic in fn", nil, func(i int) error {
				if i == 2*walkBatch {
					panic("fn broke")
				}
				return nil
			}, nil, "fn broke", 2*walkBatch + 1},
			{"a panic in prepare reaches the caller", func(a *Annotation) {
				if a.Shape == ShapeLine {
					panic("prepare broke")
				}
			}, func(int) error { return nil }, nil, "prepare broke", 0},
		}
		// (The store may hold connections of its own: those in use before a walk.)
		idle := x.s.DB().Stats().InUse
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				calls := 0
				var err error
				p := recovered(func() {
					err = x.s.EachPreparedAnnotation(ctx, AnnotationFilter{}, tt.prepare, func(Annotation) error {
						calls++
						return tt.fn(calls - 1)
					})
				})
				if !errors.Is(err, tt.wantErr) || calls != tt.wantCalls {
					t.Errorf("got %v after %d calls, want %v after %d", err, calls, tt.wantErr, tt.wantCalls)
				}
				if got := fmt.Sprint(p); tt.wantPanic == "" && p != nil || !strings.Contains(got, tt.wantPanic) {
					t.Errorf("panic %q, want one saying %q", got, tt.wantPanic)
				}
				if inUse := x.s.DB().Stats().InUse; inUse != idle {
					t.Errorf("%d connections in use after the walk, want %d as before it", inUse, idle)
				}
			})
		}
		// And the store goes on: a full walk after them all.
		walked := 0
		if err := x.s.EachAnnotation(ctx, AnnotationFilter{}, func(Annotation) error { walked++; return nil }); err != nil || walked != n {
			t.Errorf("a walk after: %d annotations, %v; want %d", walked, err, n)
		}
	})
}

// On SQLite the walk reads the short text columns packed in a JSON array: text that
// SQLite escapes there (quotes, backslashes, controls, NUL) or that is not UTF-8 comes
// out byte for byte as Annotation reads it from its own columns.
func TestEachAnnotationReadsAnyTextAsAnnotationDoes(t *testing.T) {
	ctx := context.Background()
	x := newAnnotatedOn(t, "sqlite")
	texts := []string{`plain`, `a "quoted" \ backslash`, "tab\tnew\nline\rret\bback\fform", "\x00 nul \x01\x1f\x7f", "bad \xff\xfe utf8 \xc3",
		"é 北京 🚢 \u2028\u2029", `\u0041 not an escape`, `"`, `\`, ``}
	var want []Annotation
	for i, s := range texts {
		a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		if _, err := x.s.DB().ExecContext(ctx, `UPDATE annotations SET created_by = ?, updated_by = ?, created_at = ? WHERE id = ?`,
			s, texts[(i+1)%len(texts)], fmt.Sprintf("2024-10-08T09:00:%02d.5Z", i), a.ID); err != nil {
			t.Fatal(err)
		}
		one, err := x.s.Annotation(ctx, a.ID)
		if err != nil || one.CreatedBy != s {
			t.Fatalf("annotation %d: created_by %q, %v; want %q", i, one.CreatedBy, err, s)
		}
		want = append(want, one)
	}
	var got []Annotation
	if err := x.s.EachAnnotation(ctx, AnnotationFilter{}, func(a Annotation) error { got = append(got, a); return nil }); err != nil {
		t.Fatalf("EachAnnotation: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got), len(want)) {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Errorf("annotation %d:\n got %q, %q\nwant %q, %q", i, got[i].CreatedBy, got[i].UpdatedBy, want[i].CreatedBy, want[i].UpdatedBy)
			}
		}
		t.Fatalf("got %d annotations, want %d", len(got), len(want))
	}
}

// unpack refuses what is not the array the walk selects.
func TestUnpackRefusesOtherArrays(t *testing.T) {
	parts := make([]string, 2)
	for _, s := range []string{``, `[]`, `["a"]`, `["a","b","c"]`, `["a",1]`, `["a","b"`, `["a","b\"]`, `["a","\x"]`, `["a","\ud83d"]`, `["a","\u12"]`, `["a" ,"b"]`} {
		if err := unpack(s, parts); err == nil {
			t.Errorf("unpack(%s) = %q, want an error", s, parts)
		}
	}
	if err := unpack(`["a\"\\\/","\u00e9\t"]`, parts); err == nil {
		t.Errorf(`unpack of \/ (which SQLite never writes) = %q, want an error`, parts)
	}
	if err := unpack(`["a\"\\","\u00e9\t"]`, parts); err != nil || parts[0] != `a"\` || parts[1] != "é\t" {
		t.Errorf("unpack = %q, %v", parts, err)
	}
}

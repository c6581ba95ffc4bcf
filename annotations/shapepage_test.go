package annotations

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// groundForTest gives measures that depend on the geometry's every position, so that a
// row whose ground was measured on the wrong geometry differs.
func groundForTest(a *Annotation) Ground {
	var sum float64
	n := 0
	for _, ring := range a.Geometry.Coordinates {
		for _, p := range ring {
			sum += p[0]*3 + p[1]
			n++
		}
	}
	g := Ground{LengthM: ptr(sum / 7), Basis: "gsd"}
	if a.Shape == ShapeRotatedRectangle {
		g.HeadingDeg = ptr(float64(n) + float64(a.Version)/3)
	}
	return g
}

// The shapes route's store read gives the frame AnnotationPage's annotations give through
// ShapeFrame.Add, byte for byte, page for page: every shape, holes,
// properties of every kind (also stored as no writer of this store writes them, and a
// geometry stored with spaces), times with and without a fraction, edited versions.
func TestAppendShapePageIsTheListsRows(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		stepClock(t, x.s, time.Date(2024, 10, 8, 9, 0, 0, 0, time.UTC), 250*time.Millisecond)
		other := addImage(t, x.s, "other", 100, 100, Provenance{})
		addAnnotation(t, x.s, "alice", other.ID, "vessel", ShapePoint, pointJSON, "")
		made := []Annotation{
			addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, `{"type":"Point","coordinates":[0.1,0.30000000000000004]}`, ""),
			addAnnotation(t, x.s, "bob", x.img.ID, "vessel/landing ship", ShapeRectangle, boxJSON, `{"confidence":"probable","note":"pier <3> & \"quay\"","hull":"BDK-61","count":3}`),
			addAnnotation(t, x.s, "alice", x.img.ID, "facility/naval base", ShapeLine, `{"type":"LineString","coordinates":[[1.5,2.25],[40.125,30.0625],[50,3]]}`,
				`{"identification":"wake ünïcode \u2028","tags":["a",{"b":null}],"z":1e-7}`),
			addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePolygon, `{"type":"Polygon","coordinates":[[[10,10],[60,10],[60,40],[10,40],[10,10]],[[20,20],[20,30],[30,30],[20,20]]]}`, ""),
			addAnnotation(t, x.s, "carol", x.img.ID, "vessel/landing ship/Ropucha", ShapeRotatedRectangle, `{"type":"Polygon","coordinates":[[[10,20],[30,10],[35,20],[15,30],[10,20]]]}`, `{"confidence":"confirmed"}`),
		}
		for i := range 7 {
			made = append(made, addAnnotation(t, x.s, "bob", x.img.ID, "vessel", ShapePoint, fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, float64(i)+1/3.0, 99.5-float64(i)), ""))
		}
		if _, err := x.s.UpdateAnnotation(ctx, "dave", made[1].ID, AnnotationInput{Label: ptr("facility/naval base"), Version: ptr(made[1].Version)}); err != nil {
			t.Fatal(err)
		}
		// Stored as an older writer or another tool might have left them.
		if _, err := x.s.db.ExecContext(ctx, `UPDATE annotations SET geometry = ?, attributes = ? WHERE id = ?`,
			`{ "coordinates": [ 7, 8.25 ], "type": "Point" }`, `{"tag": "x<y>z",  "a": [1, 2]}`, made[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := x.s.db.ExecContext(ctx, `UPDATE annotations SET attributes = ? WHERE id = ?`, `{"quay":"3","berth":7,"ok":true}`, made[5].ID); err != nil {
			t.Fatal(err)
		}

		for _, limit := range []int{1, 3, 5, MaxPage} {
			after, pages := "", 0
			// Pages added to one frame, as the route adds them, give the frame of all.
			var wantWhole, whole ShapeFrame
			for {
				want, err := x.s.AnnotationPage(ctx, x.img.ID, after, limit)
				if err != nil {
					t.Fatal(err)
				}
				var wantFrame, gotFrame ShapeFrame
				for i := range want.Annotations {
					a := &want.Annotations[i]
					a.Ground = groundForTest(a)
					if err := wantFrame.Add(a); err != nil {
						t.Fatal(err)
					}
					if err := wantWhole.Add(a); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := x.s.AppendShapePage(ctx, x.img.ID, after, limit, groundForTest, &whole); err != nil {
					t.Fatal(err)
				}
				got, err := x.s.AppendShapePage(ctx, x.img.ID, after, limit, groundForTest, &gotFrame)
				if err != nil {
					t.Fatalf("pages of %d, page %d: %v", limit, pages, err)
				}
				if g, w := gotFrame.AppendTo(nil), wantFrame.AppendTo(nil); !bytes.Equal(g, w) {
					t.Fatalf("pages of %d, page %d: the frame\n got %q\nwant %q", limit, pages, g, w)
				}
				if got.N != len(want.Annotations) || gotFrame.Len() != got.N || got.Next != want.Next {
					t.Fatalf("pages of %d, page %d: %d rows (%d in the frame), next %q; want %d, %q", limit, pages, got.N, gotFrame.Len(), got.Next, len(want.Annotations), want.Next)
				}
				pages++
				if after = got.Next; after == "" {
					break
				}
			}
			if g, w := whole.AppendTo(nil), wantWhole.AppendTo(nil); whole.Len() != len(made) || !bytes.Equal(g, w) {
				t.Errorf("pages of %d added to one frame: %d rows\n got %q\nwant %q", limit, whole.Len(), g, w)
			}
			if wantPages := (len(made) + limit - 1) / limit; pages != wantPages {
				t.Errorf("pages of %d: %d pages, want %d", limit, pages, wantPages)
			}
		}
	})
}

// It refuses what AnnotationPage refuses, and an image in the trash has no rows.
func TestAppendShapePageRefuses(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		for _, tc := range []struct {
			name, after string
			limit       int
			field       string
		}{
			{"nok, limit 0", "", 0, "limit"},
			{"nok, limit over a page", "", MaxPage + 1, "limit"},
			{"nok, cursor not handed out", "bm90IGEgY3Vyc29y", 5, "after"},
		} {
			_, want := x.s.AnnotationPage(ctx, x.img.ID, tc.after, tc.limit)
			_, got := x.s.AppendShapePage(ctx, x.img.ID, tc.after, tc.limit, groundForTest, &ShapeFrame{})
			var ve *ValidationError
			if !errors.As(got, &ve) || ve.Field != tc.field || !ve.Malformed || want == nil || got.Error() != want.Error() {
				t.Errorf("%s: got %v, want %v, malformed %s", tc.name, got, want, tc.field)
			}
		}
		if _, err := x.s.TrashImage(ctx, Actor{Name: "admin"}, x.img.ID); err != nil {
			t.Fatal(err)
		}
		var frame ShapeFrame
		page, err := x.s.AppendShapePage(ctx, x.img.ID, "", 10, groundForTest, &frame)
		if err != nil || page.N != 0 || frame.Len() != 0 {
			t.Errorf("an image in the trash: %d rows (%d in the frame), %v; want none", page.N, frame.Len(), err)
		}
	})
}

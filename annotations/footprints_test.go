package annotations

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/satmark/satmark/geo"
)

// box is the closed lon/lat ring of a rectangle, 4 points a side as a sampled footprint.
func box(w, s, e, n float64) [][2]float64 {
	var r [][2]float64
	for i := range 4 {
		r = append(r, [2]float64{w + (e-w)*float64(i)/4, s})
	}
	for i := range 4 {
		r = append(r, [2]float64{e, s + (n-s)*float64(i)/4})
	}
	for i := range 4 {
		r = append(r, [2]float64{e - (e-w)*float64(i)/4, n})
	}
	for i := range 4 {
		r = append(r, [2]float64{w, n - (n-s)*float64(i)/4})
	}
	return append(r, r[0])
}

// The images whose stored footprint meets an area are those geo.RingsMeet says, on both
// backends (PostgreSQL by ST_Intersects), the footprint also tried a turn east and west: near, across and far from the footprints, one
// of which lies past +180°; a changed georeference clears its footprint, a footprint of
// a georeference since replaced is dropped, and a removed one takes its footprint along.
func TestFootprintsMeeting(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		footprints := map[string][][2]float64{
			"tokyo":     box(139.5, 35.5, 140, 36),
			"dateline":  box(179.5, -17, 180.5, -16), // unwrapped: past +180°
			"reykjavik": box(-22, 64, -21.5, 64.5),
			"unfilled":  nil, // placed before footprints were stored
			// A fit that folds the image over itself: a ring that crosses itself.
			"folded": {{50, 0}, {51, 1}, {51, 0}, {50, 1}, {50, 0}},
		}
		ids := map[string]string{} // image id → name
		for _, name := range []string{"tokyo", "dateline", "reykjavik", "unfilled", "folded"} {
			img := addImage(t, s, name, 100, 100, Provenance{})
			ids[img.ID] = name
			gt := [6]float64{0, 1, 0, 0, 0, -1}
			g, err := s.SetGeoreference(ctx, Actor{Name: "alice"}, Georeference{ImageID: img.ID, Method: GeorefGrid, GeoTransform: &gt, CRS: 4326, Origin: "worldfile"})
			if err != nil {
				t.Fatal(err)
			}
			if fp := footprints[name]; fp != nil {
				if err := s.SetFootprint(ctx, img.ID, g.UpdatedAt, fp); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
		}
		stored, err := s.FootprintsStored(ctx)
		if err != nil || len(stored) != 5 {
			t.Fatalf("stored: got %v (%v), want 5 images", stored, err)
		}
		for id, name := range ids {
			if stored[id] != (footprints[name] != nil) {
				t.Errorf("%s: stored %v, want %v", name, stored[id], footprints[name] != nil)
			}
		}
		members := func(area [][2]float64) []string {
			t.Helper()
			ps := make([]Position, len(area))
			for i, p := range area {
				ps[i] = Position(p)
			}
			got, err := s.FootprintsMeeting(ctx, PolygonGeometry(ps), func(fp [][2]float64) bool { return geo.RingsMeetTurned(fp, area) })
			if err != nil {
				t.Fatal(err)
			}
			names := []string{}
			for _, id := range got {
				names = append(names, ids[id])
			}
			sort.Strings(names)
			return names
		}
		for _, tc := range []struct {
			name string
			area [][2]float64
			want []string
		}{
			{"inside one", box(139.7, 35.7, 139.8, 35.8), []string{"tokyo"}},
			{"overlapping one's edge", box(139.9, 35.9, 141, 37), []string{"tokyo"}},
			{"around two", box(-30, 30, 150, 70), []string{"reykjavik", "tokyo"}},
			{"near, not meeting", box(140.1, 35.5, 141, 36), []string{}},
			{"far from all", box(0, 0, 10, 10), []string{}},
			{"west of +180°", box(179.8, -16.8, 179.9, -16.2), []string{"dateline"}},
			{"east of -180°, the footprint a turn west", box(-179.8, -16.8, -179.6, -16.2), []string{"dateline"}},
			{"past -180°, but south of it", box(-179.8, -20, -179.6, -18), []string{}},
			{"inside a folded footprint", box(50.05, 0.4, 50.1, 0.6), []string{"folded"}},
			{"in a folded footprint's notch", box(50.4, 0.8, 50.6, 0.9), []string{}},
			{"across a folded footprint", box(49, 0.45, 52, 0.55), []string{"folded"}},
		} {
			want := []string{}
			for _, name := range []string{"dateline", "folded", "reykjavik", "tokyo"} {
				if geo.RingsMeetTurned(footprints[name], tc.area) {
					want = append(want, name)
				}
			}
			if !reflect.DeepEqual(want, tc.want) {
				t.Fatalf("%s: geo.RingsMeet says %v, the case says %v", tc.name, want, tc.want)
			}
			if got := members(tc.area); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, want)
			}
		}

		var tokyo string
		for id, name := range ids {
			if name == "tokyo" {
				tokyo = id
			}
		}
		old, _ := s.Georeference(ctx, tokyo)
		s.now = func() time.Time { return old.UpdatedAt.Add(time.Minute) }
		gt := [6]float64{0, 2, 0, 0, 0, -2}
		if _, err := s.SetGeoreference(ctx, Actor{Name: "bob"}, Georeference{ImageID: tokyo, Method: GeorefGrid, GeoTransform: &gt, CRS: 4326, Origin: "worldfile"}); err != nil {
			t.Fatal(err)
		}
		if stored, _ := s.FootprintsStored(ctx); stored[tokyo] {
			t.Error("a changed georeference kept its old footprint")
		}
		if err := s.SetFootprint(ctx, tokyo, old.UpdatedAt, footprints["tokyo"]); err != nil {
			t.Fatal(err)
		}
		if stored, _ := s.FootprintsStored(ctx); stored[tokyo] {
			t.Error("the footprint of the replaced georeference was stored")
		}
		cur, _ := s.Georeference(ctx, tokyo)
		if err := s.SetFootprint(ctx, tokyo, cur.UpdatedAt, footprints["tokyo"]); err != nil {
			t.Fatal(err)
		}
		if got := members(box(139.7, 35.7, 139.8, 35.8)); !reflect.DeepEqual(got, []string{"tokyo"}) {
			t.Errorf("after refilling: got %v, want tokyo", got)
		}
		if err := s.DeleteGeoreference(ctx, Actor{Name: "bob"}, tokyo); err != nil {
			t.Fatal(err)
		}
		if got := members(box(139.7, 35.7, 139.8, 35.8)); len(got) != 0 {
			t.Errorf("after removing the georeference: got %v, want none", got)
		}
		var ve *ValidationError
		if err := s.SetFootprint(ctx, tokyo, cur.UpdatedAt, [][2]float64{{0, 0}, {1, 0}, {0, 0}}); !errors.As(err, &ve) {
			t.Errorf("an open ring: got %v, want a ValidationError", err)
		}
	})
}

package annotations

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// ring makes a closed lon/lat ring of the given corners.
func ring(ps ...Position) *Geometry {
	g := PolygonGeometry(append(ps, ps[0]))
	return &g
}

// pierArea is a box around the sample port, corners clockwise (as drawn on a map by
// someone who does not know the right-hand rule).
var pierArea = ring(Position{131.88, 43.12}, Position{131.92, 43.12}, Position{131.92, 43.08}, Position{131.88, 43.08})

func TestSiteAreaIsChecked(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		s := openStore(t)
		ctx := context.Background()
		tests := []struct {
			name string
			area *Geometry
			want string // in the message
		}{
			{"no area", nil, "is required"},
			{"a point", &Geometry{"Point", [][]Position{{{131.9, 43.1}}}}, "must be a GeoJSON Polygon"},
			{"a hole", &Geometry{"Polygon", [][]Position{pierArea.Coordinates[0], pierArea.Coordinates[0]}}, "one ring (no holes)"},
			{"three positions", &Geometry{"Polygon", [][]Position{{{0, 0}, {1, 0}, {0, 0}}}}, "at least 4"},
			{"not closed", &Geometry{"Polygon", [][]Position{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}}, "not closed"},
			{"latitude past the pole", ring(Position{0, 80}, Position{10, 80}, Position{10, 95}), "not a longitude, latitude"},
			{"longitude past 180", ring(Position{170, 0}, Position{181, 0}, Position{181, 1}), "not a longitude, latitude"},
			{"across the antimeridian", ring(Position{-179, 0}, Position{179, 0}, Position{179, 1}, Position{-179, 1}), "less than 180°"},
			{"no area", ring(Position{0, 0}, Position{1, 1}, Position{2, 2}), "encloses no area"},
			{"a bow tie", ring(Position{0, 0}, Position{2, 2}, Position{2, 0}, Position{0, 1}), "crosses itself: side 1"},
			{"a spike back along a side", ring(Position{0, 0}, Position{2, 0}, Position{1, 0}, Position{1, 1}), "crosses itself"},
			{"a corner touching a side", ring(Position{0, 0}, Position{4, 0}, Position{4, 4}, Position{2, 0}, Position{0, 4}), "crosses itself"},
			{"too many positions", func() *Geometry {
				var ps []Position
				for i := 0; i < maxAreaPositions+1; i++ {
					ps = append(ps, Position{float64(i) / 10000, float64(i%2) / 10000})
				}
				return ring(ps...)
			}(), "at most"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := s.CreateSite(ctx, Actor{Name: "ana"}, SiteInput{Name: ptr("site " + tt.name), Area: tt.area})
				var ve *ValidationError
				if !errors.As(err, &ve) || ve.Field != "area" || !strings.Contains(ve.Message, tt.want) {
					t.Fatalf("got %v, want an invalid area saying %q", err, tt.want)
				}
			})
		}
		sites, err := s.Sites(ctx)
		if err != nil || len(sites) != 0 {
			t.Fatalf("after refused areas: %d sites (%v), want none", len(sites), err)
		}
	})
}

func TestSiteLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		s := openStore(t)
		ctx := context.Background()
		ana := Actor{Name: "ana", IP: "192.0.2.1"}
		st, err := s.CreateSite(ctx, ana, SiteInput{Name: ptr("  Vladivostok piers "), Area: pierArea, Notes: ptr("NIS release, 8–13 Oct")})
		if err != nil {
			t.Fatal(err)
		}
		if st.Name != "Vladivostok piers" || st.Version != 1 || st.CreatedBy != "ana" {
			t.Fatalf("created %+v", st)
		}
		if shoelace(st.Area.Coordinates[0]) <= 0 {
			t.Errorf("the stored ring is not counter-clockwise (RFC 7946): %v", st.Area.Coordinates[0])
		}
		if _, err := s.CreateSite(ctx, ana, SiteInput{Name: ptr("VLADIVOSTOK PIERS"), Area: pierArea}); !errors.Is(err, ErrConflict) {
			t.Fatalf("a second site of the same name: %v, want a conflict", err)
		}

		// Changes are based on the current version.
		if _, err := s.UpdateSite(ctx, ana, st.ID, nil, SiteInput{Notes: ptr("x")}); !errors.Is(err, ErrVersionRequired) {
			t.Fatalf("update without a version: %v", err)
		}
		var stale *StaleVersionError
		if _, err := s.UpdateSite(ctx, ana, st.ID, ptr(7), SiteInput{Notes: ptr("x")}); !errors.As(err, &stale) ||
			!strings.HasPrefix(err.Error(), "site "+st.ID+" is at version 1, not 7") {
			t.Fatalf("update from version 7: %v", err)
		}
		up, err := s.UpdateSite(ctx, Actor{Name: "ben"}, st.ID, ptr(1), SiteInput{Name: ptr("Vladivostok, Golden Horn")})
		if err != nil {
			t.Fatal(err)
		}
		if up.Version != 2 || up.UpdatedBy != "ben" || up.Notes != "NIS release, 8–13 Oct" {
			t.Fatalf("updated %+v", up)
		}

		// Images by hand: added, left out, cleared; an unknown or trashed image is refused.
		a := addImage(t, s, "unplaced release", 100, 80, Provenance{})
		b := addImage(t, s, "grazing footprint", 100, 80, Provenance{})
		if _, err := s.SetSiteImage(ctx, ana, st.ID, a.ID, true); err != nil {
			t.Fatal(err)
		}
		got, err := s.SetSiteImage(ctx, ana, st.ID, b.ID, false)
		if err != nil {
			t.Fatal(err)
		}
		if m, ok := got.Member(a.ID); !ok || !m {
			t.Errorf("image a: member %v, said %v; want added by hand", m, ok)
		}
		if m, ok := got.Member(b.ID); !ok || m {
			t.Errorf("image b: member %v, said %v; want left out", m, ok)
		}
		var ve *ValidationError
		if _, err := s.SetSiteImage(ctx, ana, st.ID, "img_nope", true); !errors.As(err, &ve) || ve.Field != "image_id" {
			t.Fatalf("an unknown image: %v", err)
		}
		if _, err := s.TrashImage(ctx, ana, b.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.Site(ctx, st.ID); len(got.Members) != 1 {
			t.Errorf("after b went to the trash the site lists %d members, want 1", len(got.Members))
		}
		if _, err := s.SetSiteImage(ctx, ana, st.ID, b.ID, true); !errors.As(err, &ve) {
			t.Fatalf("a trashed image: %v", err)
		}
		if _, err := s.ClearSiteImage(ctx, ana, st.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClearSiteImage(ctx, ana, st.ID, a.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("clearing twice: %v", err)
		}

		// Deleting needs the version too, and leaves the images.
		if err := s.DeleteSite(ctx, ana, st.ID, ptr(1)); !errors.As(err, &stale) {
			t.Fatalf("delete from version 1: %v", err)
		}
		if err := s.DeleteSite(ctx, ana, st.ID, ptr(2)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Site(ctx, st.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted site: %v", err)
		}
		if _, err := s.Image(ctx, a.ID); err != nil {
			t.Fatalf("the site's image went with it: %v", err)
		}

		entries, err := s.AuditLog(ctx, AuditFilter{Action: "site"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for i := len(entries) - 1; i >= 0; i-- {
			actions = append(actions, entries[i].Actor+" "+entries[i].Action)
		}
		want := "ana site.create, ben site.update, ana site.image.add, ana site.image.leave_out, ana site.image.clear, ana site.delete"
		if strings.Join(actions, ", ") != want {
			t.Errorf("audit:\n got %s\nwant %s", strings.Join(actions, ", "), want)
		}
	})
}

func TestLabelCounts(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		s := openStore(t)
		ctx := context.Background()
		img := addImage(t, s, "port", 1000, 800, Provenance{})
		other := addImage(t, s, "base", 1000, 800, Provenance{})
		for _, name := range []string{"landing ship", "crane"} {
			if _, err := s.CreateLabel(ctx, Actor{Name: "root"}, LabelInput{Name: ptr(name)}); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 3; i++ {
			addAnnotation(t, s, "ana", img.ID, "landing ship", ShapePoint, `{"type":"Point","coordinates":[10,10]}`, "")
		}
		addAnnotation(t, s, "ana", img.ID, "crane", ShapePoint, `{"type":"Point","coordinates":[20,10]}`, "")
		counts, err := s.LabelCounts(ctx, []string{img.ID, other.ID})
		if err != nil {
			t.Fatal(err)
		}
		c := counts[img.ID]
		if len(c) != 2 || c[0].Count != 3 || c[1].Count != 1 {
			t.Fatalf("counts of the port: %+v", c)
		}
		if len(counts[other.ID]) != 0 {
			t.Fatalf("counts of the empty base: %+v", counts[other.ID])
		}
	})
}

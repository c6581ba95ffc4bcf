package annotations

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/satmark/satmark/pgtest"
)

func TestCreateLabel(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		vessel, err := s.CreateLabel(ctx, Actor{Name: "root"}, LabelInput{Name: ptr("vessel")})
		if err != nil {
			t.Fatalf("create vessel: %v", err)
		}
		facility, err := s.CreateLabel(ctx, Actor{Name: "root"}, LabelInput{Name: ptr("facility"), Color: ptr("#00FF00")})
		if err != nil {
			t.Fatalf("create facility: %v", err)
		}
		if _, err := s.CreateLabel(ctx, Actor{Name: "root"}, LabelInput{Name: ptr("unknown"), ParentID: &vessel.ID}); err != nil {
			t.Fatalf("create vessel/unknown: %v", err)
		}

		tests := []struct {
			name      string
			in        LabelInput
			wantPath  string
			wantColor string // "" when any colour will do
			wantErr   error  // errors.Is target
			wantField string // ValidationError field
		}{
			{name: "ok, top level with the default colour", in: LabelInput{Name: ptr("personnel")}, wantPath: "personnel", wantColor: DefaultColor("personnel")},
			{name: "ok, child of a label", in: LabelInput{Name: ptr("landing ship"), ParentID: &vessel.ID, Hotkey: ptr("l")}, wantPath: "vessel › landing ship", wantColor: DefaultColor("landing ship")},
			{name: "ok, upper-case colour stored in lower case", in: LabelInput{Name: ptr("frigate"), ParentID: &vessel.ID, Color: ptr("#AbCdEf")}, wantPath: "vessel › frigate", wantColor: "#abcdef"},
			{name: "ok, same name under a different parent", in: LabelInput{Name: ptr("unknown"), ParentID: &facility.ID}, wantPath: "facility › unknown", wantColor: DefaultColor("unknown")},
			{name: "ok, name trimmed", in: LabelInput{Name: ptr("  troop formation  ")}, wantPath: "troop formation"},
			{name: "nok, duplicate top-level name in another case", in: LabelInput{Name: ptr("VESSEL")}, wantErr: ErrConflict},
			{name: "nok, duplicate sibling name in another case", in: LabelInput{Name: ptr("Unknown"), ParentID: &vessel.ID}, wantErr: ErrConflict},
			{name: "ok, a name beyond ASCII", in: LabelInput{Name: ptr("Übungsplatz")}, wantPath: "Übungsplatz"},
			{name: "nok, the same name with Ü in another case", in: LabelInput{Name: ptr("übungsplatz")}, wantErr: ErrConflict},
			{name: "nok, colour not #rrggbb", in: LabelInput{Name: ptr("red thing"), Color: ptr("red")}, wantField: "color"},
			{name: "nok, colour too short", in: LabelInput{Name: ptr("short colour"), Color: ptr("#12345")}, wantField: "color"},
			{name: "nok, name containing /", in: LabelInput{Name: ptr("ship/boat")}, wantField: "name"},
			{name: "nok, name containing ›", in: LabelInput{Name: ptr("ship › boat")}, wantField: "name"},
			{name: "nok, name containing >", in: LabelInput{Name: ptr("ship>boat")}, wantField: "name"},
			{name: "nok, blank name", in: LabelInput{Name: ptr("   ")}, wantField: "name"},
			{name: "nok, no name", in: LabelInput{}, wantField: "name"},
			{name: "nok, name over 100 characters", in: LabelInput{Name: ptr(strings.Repeat("ä", 101))}, wantField: "name"},
			{name: "nok, unknown parent", in: LabelInput{Name: ptr("orphan"), ParentID: ptr("lbl_aaaaaaaaaaaa")}, wantField: "parent_id"},
			{name: "nok, hotkey of two characters", in: LabelInput{Name: ptr("hot"), Hotkey: ptr("ab")}, wantField: "hotkey"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.CreateLabel(ctx, Actor{Name: "root"}, tt.in)
				switch {
				case tt.wantErr != nil:
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("got %v, want %v", err, tt.wantErr)
					}
					return
				case tt.wantField != "":
					wantValidation(t, err, tt.wantField)
					return
				case err != nil:
					t.Fatalf("got %v, want no error", err)
				}
				if got.PathString() != tt.wantPath {
					t.Errorf("got path %q, want %q", got.PathString(), tt.wantPath)
				}
				if tt.wantColor != "" && got.Color != tt.wantColor {
					t.Errorf("got colour %q, want %q", got.Color, tt.wantColor)
				}
				if !ValidID(got.ID) {
					t.Errorf("got id %q, want a valid id", got.ID)
				}
			})
		}
	})
}

func TestResolveLabel(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		landing := addLabel(t, s, "vessel", "landing ship")
		frigate := addLabel(t, s, "vessel", "frigate")
		vessel := addLabel(t, s, "vessel")
		vesselUnknown := addLabel(t, s, "vessel", "unknown")
		addLabel(t, s, "facility", "unknown")
		addLabel(t, s, "facility", "naval base")
		other := addLabel(t, s, "other")
		addLabel(t, s, "vessel", "other")

		tests := []struct {
			name        string
			ref         string
			want        string // label id
			wantMessage string // for a ValidationError on "label"
		}{
			{name: "ok, by id", ref: frigate.ID, want: frigate.ID},
			{name: "ok, by path with /", ref: "vessel/landing ship", want: landing.ID},
			{name: "ok, by path with / and spaces", ref: "vessel / landing ship", want: landing.ID},
			{name: "ok, by path with ›", ref: "vessel › landing ship", want: landing.ID},
			{name: "ok, by path with >", ref: "Vessel>Landing Ship", want: landing.ID},
			{name: "ok, by path to a name used twice", ref: "vessel/UNKNOWN", want: vesselUnknown.ID},
			{name: "ok, by unique name ignoring case", ref: "FRIGATE", want: frigate.ID},
			{name: "ok, by unique top-level name with spaces around", ref: "  vessel ", want: vessel.ID},
			{name: "nok, ambiguous name", ref: "unknown", wantMessage: "/vessel/unknown"},
			{name: "nok, top-level name also used deeper", ref: "other", wantMessage: "/other"},
			{name: "ok, anchored path to the top-level label", ref: "/other", want: other.ID},
			{name: "nok, anchored path that does not exist", ref: "/unknown", wantMessage: "/unknown"},
			{name: "nok, unknown name", ref: "submarine", wantMessage: "submarine"},
			{name: "nok, path that does not exist", ref: "facility/landing ship", wantMessage: "facility/landing ship"},
			{name: "nok, partial path from below the root", ref: "landing ship/x", wantMessage: "landing ship/x"},
			{name: "nok, empty", ref: " ", wantMessage: "required"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.ResolveLabel(ctx, tt.ref)
				if tt.wantMessage != "" {
					ve := wantValidation(t, err, "label")
					if !strings.Contains(ve.Message, tt.wantMessage) {
						t.Errorf("got message %q, want it to mention %q", ve.Message, tt.wantMessage)
					}
					return
				}
				if err != nil {
					t.Fatalf("got %v, want label %s", err, tt.want)
				}
				if got.ID != tt.want {
					t.Errorf("got %s (%s), want %s", got.ID, got.PathString(), tt.want)
				}
			})
		}
	})
}

func TestUpdateLabel(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()

		type taxonomy struct {
			vessel, landing, ropucha, facility Label
		}
		setup := func(t *testing.T) (*Store, taxonomy) {
			t.Helper()
			s := openStore(t)
			return s, taxonomy{
				vessel:   addLabel(t, s, "vessel"),
				landing:  addLabel(t, s, "vessel", "landing ship"),
				ropucha:  addLabel(t, s, "vessel", "landing ship", "Ropucha"),
				facility: addLabel(t, s, "facility"),
			}
		}

		t.Run("ok, rename renames the paths below", func(t *testing.T) {
			s, tx := setup(t)
			got, err := s.UpdateLabel(ctx, Actor{Name: "root"}, tx.landing.ID, LabelInput{Name: ptr("amphibious")})
			if err != nil {
				t.Fatalf("rename: %v", err)
			}
			if got.PathString() != "vessel › amphibious" || got.Color != tx.landing.Color {
				t.Errorf("got %q %s, want \"vessel › amphibious\" with colour %s", got.PathString(), got.Color, tx.landing.Color)
			}
			child, _ := s.Label(ctx, tx.ropucha.ID)
			if child.PathString() != "vessel › amphibious › Ropucha" {
				t.Errorf("got child path %q, want \"vessel › amphibious › Ropucha\"", child.PathString())
			}
		})

		t.Run("ok, recolour keeps the name", func(t *testing.T) {
			s, tx := setup(t)
			got, err := s.UpdateLabel(ctx, Actor{Name: "root"}, tx.vessel.ID, LabelInput{Color: ptr("#123ABC")})
			if err != nil {
				t.Fatalf("recolour: %v", err)
			}
			if got.Color != "#123abc" || got.Name != "vessel" {
				t.Errorf("got %s %q, want #123abc \"vessel\"", got.Color, got.Name)
			}
		})

		t.Run("ok, move under another label and back to the top", func(t *testing.T) {
			s, tx := setup(t)
			got, err := s.UpdateLabel(ctx, Actor{Name: "root"}, tx.landing.ID, LabelInput{ParentID: &tx.facility.ID})
			if err != nil {
				t.Fatalf("move: %v", err)
			}
			if got.PathString() != "facility › landing ship" {
				t.Errorf("got %q, want \"facility › landing ship\"", got.PathString())
			}
			child, _ := s.Label(ctx, tx.ropucha.ID)
			if child.PathString() != "facility › landing ship › Ropucha" {
				t.Errorf("got child path %q, want it moved along", child.PathString())
			}
			got, err = s.UpdateLabel(ctx, Actor{Name: "root"}, tx.landing.ID, LabelInput{ParentID: ptr("")})
			if err != nil {
				t.Fatalf("move to top: %v", err)
			}
			if got.ParentID != "" || got.PathString() != "landing ship" {
				t.Errorf("got parent %q path %q, want a top-level \"landing ship\"", got.ParentID, got.PathString())
			}
		})

		tests := []struct {
			name      string
			id        func(taxonomy) string
			in        func(taxonomy) LabelInput
			wantErr   error
			wantField string
		}{
			{
				name: "nok, move under itself",
				id:   func(x taxonomy) string { return x.landing.ID },
				in:   func(x taxonomy) LabelInput { return LabelInput{ParentID: &x.landing.ID} },
				// "move under itself or a descendant"
				wantField: "parent_id",
			},
			{
				name:      "nok, move under its grandchild",
				id:        func(x taxonomy) string { return x.vessel.ID },
				in:        func(x taxonomy) LabelInput { return LabelInput{ParentID: &x.ropucha.ID} },
				wantField: "parent_id",
			},
			{
				name:      "nok, move under an unknown label",
				id:        func(x taxonomy) string { return x.landing.ID },
				in:        func(taxonomy) LabelInput { return LabelInput{ParentID: ptr("lbl_aaaaaaaaaaaa")} },
				wantField: "parent_id",
			},
			{
				name:    "nok, rename to a sibling's name",
				id:      func(x taxonomy) string { return x.facility.ID },
				in:      func(taxonomy) LabelInput { return LabelInput{Name: ptr("Vessel")} },
				wantErr: ErrConflict,
			},
			{
				name:    "nok, move next to a sibling of the same name",
				id:      func(x taxonomy) string { return x.ropucha.ID },
				in:      func(x taxonomy) LabelInput { return LabelInput{Name: ptr("facility"), ParentID: ptr("")} },
				wantErr: ErrConflict,
			},
			{
				name:      "nok, bad colour",
				id:        func(x taxonomy) string { return x.vessel.ID },
				in:        func(taxonomy) LabelInput { return LabelInput{Color: ptr("#ggg000")} },
				wantField: "color",
			},
			{
				name:      "nok, name with a separator",
				id:        func(x taxonomy) string { return x.vessel.ID },
				in:        func(taxonomy) LabelInput { return LabelInput{Name: ptr("a/b")} },
				wantField: "name",
			},
			{
				name:    "nok, unknown label",
				id:      func(taxonomy) string { return "lbl_aaaaaaaaaaaa" },
				in:      func(taxonomy) LabelInput { return LabelInput{Name: ptr("x")} },
				wantErr: ErrNotFound,
			},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, x := setup(t)
				before, _ := s.Labels(ctx)
				_, err := s.UpdateLabel(ctx, Actor{Name: "root"}, tt.id(x), tt.in(x))
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("got %v, want %v", err, tt.wantErr)
					}
				} else {
					wantValidation(t, err, tt.wantField)
				}
				after, _ := s.Labels(ctx)
				if labelPaths(after) != labelPaths(before) {
					t.Errorf("got taxonomy %s after a rejected update, want it unchanged: %s", labelPaths(after), labelPaths(before))
				}
			})
		}
	})
}

func labelPaths(labels []Label) string {
	var paths []string
	for _, l := range labels {
		paths = append(paths, l.PathString()+" "+l.Color)
	}
	return strings.Join(paths, "; ")
}

func TestDeleteLabel(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "a", 100, 100, Provenance{})
		vessel := addLabel(t, s, "vessel")
		landing := addLabel(t, s, "vessel", "landing ship")
		unused := addLabel(t, s, "facility")
		addAnnotation(t, s, "alice", img.ID, landing.ID, ShapePoint, `{"type":"Point","coordinates":[1,1]}`, "")

		tests := []struct {
			name    string
			id      string
			wantErr error
		}{
			{"nok, in use by an annotation", landing.ID, ErrConflict},
			{"nok, has children", vessel.ID, ErrConflict},
			{"nok, unknown", "lbl_aaaaaaaaaaaa", ErrNotFound},
			{"ok, unused leaf", unused.ID, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.DeleteLabel(ctx, Actor{Name: "root"}, tt.id)
				if tt.wantErr == nil && err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				_, lookup := s.Label(ctx, tt.id)
				if gone := errors.Is(lookup, ErrNotFound); gone != (tt.wantErr == nil || tt.wantErr == ErrNotFound) {
					t.Errorf("after delete: got lookup error %v, want the label gone only when the delete succeeded", lookup)
				}
			})
		}
	})
}

func TestEnsureLabelPathIsIdempotent(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		first, err := s.EnsureLabelPath(ctx, Actor{Name: "root"}, []string{"vessel", "landing ship"}, "#112233")
		if err != nil {
			t.Fatalf("first: %v", err)
		}
		again, err := s.EnsureLabelPath(ctx, Actor{Name: "root"}, []string{"Vessel", "Landing Ship"}, "#445566")
		if err != nil {
			t.Fatalf("again: %v", err)
		}
		if again.ID != first.ID {
			t.Errorf("got %s the second time, want the same label %s", again.ID, first.ID)
		}
		if first.Color != "#112233" || again.Color != "#112233" {
			t.Errorf("got colours %s and %s, want the first colour #112233 kept", first.Color, again.Color)
		}
		labels, _ := s.Labels(ctx)
		if len(labels) != 2 {
			t.Errorf("got %d labels (%s), want 2", len(labels), labelPaths(labels))
		}
		parent, _ := s.ResolveLabel(ctx, "vessel")
		if parent.Color != DefaultColor("vessel") {
			t.Errorf("got intermediate colour %s, want the default %s", parent.Color, DefaultColor("vessel"))
		}
	})
}

func TestLabelsOrderParentsBeforeChildren(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		// Created out of order, with mixed case, to show the order does not come from
		// insertion.
		for _, p := range [][]string{
			{"vessel", "landing ship", "Ropucha"},
			{"personnel", "troop formation"},
			{"Facility", "naval base"},
			{"vessel", "frigate"},
			{"facility2"},
			{"vessel", "Corvette"},
		} {
			addLabel(t, s, p...)
		}
		labels, err := s.Labels(ctx)
		if err != nil {
			t.Fatalf("labels: %v", err)
		}
		var got []string
		for _, l := range labels {
			got = append(got, l.PathString())
		}
		want := []string{
			"Facility", "Facility › naval base", "facility2",
			"personnel", "personnel › troop formation",
			"vessel", "vessel › Corvette", "vessel › frigate", "vessel › landing ship", "vessel › landing ship › Ropucha",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		seen := map[string]bool{}
		for _, l := range labels {
			if l.ParentID != "" && !seen[l.ParentID] {
				t.Errorf("label %q comes before its parent", l.PathString())
			}
			seen[l.ID] = true
			if l.Path[len(l.Path)-1] != l.Name {
				t.Errorf("label %q: got path %v, want it to end with its name", l.Name, l.Path)
			}
		}
	})
}

// TestLabelsChangedByAnotherProcess: the store keeps the taxonomy in memory; a label
// renamed, added or deleted through another opening of the same file (satmark's CLI
// while the server runs, or plain SQL) is seen at the next read.
func TestLabelsChangedByAnotherProcess(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "satmark.db")
		if backendOf(t) == "postgres" {
			path = pgtest.DSN(t)
		}
		server, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { server.Close() })
		vessel, err := server.CreateLabel(ctx, Actor{Name: "root"}, LabelInput{Name: ptr("vessel")})
		if err != nil {
			t.Fatal(err)
		}
		names := func() string {
			t.Helper()
			labels, err := server.Labels(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range labels {
				got = append(got, strings.Join(l.Path, "/"))
			}
			return strings.Join(got, ", ")
		}
		if got := names(); got != "vessel" {
			t.Fatalf("labels: got %q, want vessel", got)
		}

		cli, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cli.Close() })
		if _, err := cli.UpdateLabel(ctx, Actor{Name: "root"}, vessel.ID, LabelInput{Name: ptr("ship")}); err != nil {
			t.Fatal(err)
		}
		if got := names(); got != "ship" {
			t.Errorf("after a rename by another opening: got %q, want ship", got)
		}
		if _, err := cli.CreateLabel(ctx, Actor{Name: "root"}, LabelInput{Name: ptr("frigate"), ParentID: &vessel.ID}); err != nil {
			t.Fatal(err)
		}
		if got := names(); got != "ship, ship/frigate" {
			t.Errorf("after an addition by another opening: got %q, want ship, ship/frigate", got)
		}
		if _, err := cli.DB().ExecContext(ctx, `UPDATE labels SET color = '#123456' WHERE id = ?`, vessel.ID); err != nil {
			t.Fatal(err)
		}
		if l, err := server.ResolveLabel(ctx, vessel.ID); err != nil || l.Color != "#123456" {
			t.Errorf("after a colour changed in SQL: got %+v, %v; want colour #123456", l, err)
		}
	})
}

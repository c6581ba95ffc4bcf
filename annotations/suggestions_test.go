package annotations

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// shipAt is a 20 × 4 rotated rectangle about (x, y), turned by 90° when upright.
func shipAt(x, y float64, upright bool) Geometry {
	dx, dy := 10.0, 2.0
	if upright {
		dx, dy = 2, 10
	}
	return PolygonGeometry([]Position{{x - dx, y - dy}, {x + dx, y - dy}, {x + dx, y + dy}, {x - dx, y + dy}, {x - dx, y - dy}})
}

// Suggestions from a search: stored pending with the source's label, listed best first,
// accepted into an annotation drawn as the accepter's (revision and audit entry, and an
// attribute naming where it came from) or rejected; a second decision is a conflict and
// changes nothing.
func TestSuggestions(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "port", 400, 300, Provenance{})
		addLabel(t, s, "vessel", "landing ship")
		src := addAnnotation(t, s, "finder", img.ID, "vessel/landing ship", ShapeRotatedRectangle, mustJSON(t, shipAt(50, 50, false)), `{"confidence": "confirmed"}`)
		finder, accepter := Actor{Name: "finder", IP: "192.0.2.1"}, Actor{Name: "accepter", IP: "192.0.2.2"}

		found := []FoundPlace{
			{Shape: ShapeRotatedRectangle, Geometry: shipAt(150, 50, false), Score: 0.71, Rotation: 180},
			{Shape: ShapeRotatedRectangle, Geometry: shipAt(250, 120, true), Score: 0.93, Rotation: 90},
			{Shape: ShapeRotatedRectangle, Geometry: shipAt(300, 200, false), Score: 0.64},
		}
		added, err := s.AddSuggestions(ctx, finder, src, found)
		if err != nil || len(added) != 3 {
			t.Fatalf("add: %v, %v", added, err)
		}
		list, err := s.Suggestions(ctx, img.ID, SuggestionPending)
		if err != nil || len(list) != 3 {
			t.Fatalf("pending: %v, %v", list, err)
		}
		if list[0].Score != 0.93 || list[2].Score != 0.64 || list[0].Label.ID != src.Label.ID || list[0].SourceAnnotationID != src.ID ||
			list[0].CreatedBy != "finder" || list[0].Status != SuggestionPending || list[0].DecidedAt != nil {
			t.Errorf("pending, best first: %+v", list)
		}
		// A suggestion is not an annotation of record.
		if anns, _ := s.Annotations(ctx, AnnotationFilter{ImageIDs: []string{img.ID}}); len(anns) != 1 {
			t.Fatalf("the image has %d annotations after a search, want only the source", len(anns))
		}

		sg, a, err := s.AcceptSuggestion(ctx, accepter, list[0].ID)
		if err != nil {
			t.Fatalf("accept: %v", err)
		}
		if sg.Status != SuggestionAccepted || sg.DecidedBy != "accepter" || sg.DecidedAt == nil || sg.AnnotationID != a.ID {
			t.Errorf("accepted suggestion: %+v", sg)
		}
		if a.CreatedBy != "accepter" || a.Label.ID != src.Label.ID || a.Shape != ShapeRotatedRectangle || a.Version != 1 ||
			mustJSON(t, a.Geometry) != mustJSON(t, list[0].Geometry) {
			t.Errorf("the accepted annotation: %+v", a)
		}
		var from struct {
			ID               string  `json:"id"`
			SourceAnnotation string  `json:"source_annotation"`
			Score            float64 `json:"score"`
			FoundBy          string  `json:"found_by"`
		}
		if err := json.Unmarshal(a.Attributes["suggestion"], &from); err != nil || from.ID != sg.ID || from.SourceAnnotation != src.ID ||
			from.Score != 0.93 || from.FoundBy != "finder" {
			t.Errorf("the annotation's suggestion attribute: %s (%v)", a.Attributes["suggestion"], err)
		}
		revs, err := s.History(ctx, a.ID)
		if err != nil || len(revs) != 1 || revs[0].Action != "create" || revs[0].Actor != "accepter" {
			t.Errorf("history of the accepted annotation: %+v, %v", revs, err)
		}

		rejected, err := s.RejectSuggestion(ctx, accepter, list[1].ID)
		if err != nil || rejected.Status != SuggestionRejected || rejected.DecidedBy != "accepter" || rejected.AnnotationID != "" {
			t.Fatalf("reject: %+v, %v", rejected, err)
		}

		// Deciding again, either way, is a conflict that says who decided and changes nothing.
		for _, decide := range []struct {
			name string
			fn   func(id string) error
		}{
			{"accept", func(id string) error { _, _, err := s.AcceptSuggestion(ctx, finder, id); return err }},
			{"reject", func(id string) error { _, err := s.RejectSuggestion(ctx, finder, id); return err }},
		} {
			for _, id := range []string{list[0].ID, list[1].ID} {
				err := decide.fn(id)
				if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "already") || !strings.Contains(err.Error(), "by accepter") {
					t.Errorf("%s %s again: %v, want ErrConflict saying who decided", decide.name, id, err)
				}
			}
		}
		if anns, _ := s.Annotations(ctx, AnnotationFilter{ImageIDs: []string{img.ID}}); len(anns) != 2 {
			t.Errorf("%d annotations after the refused decisions, want the source and the accepted one", len(anns))
		}
		for status, want := range map[string]int{"": 3, SuggestionPending: 1, SuggestionAccepted: 1, SuggestionRejected: 1} {
			if got, err := s.Suggestions(ctx, img.ID, status); err != nil || len(got) != want {
				t.Errorf("suggestions %q: %d, %v; want %d", status, len(got), err, want)
			}
		}
		log, err := s.AuditLog(ctx, AuditFilter{Action: "suggestion"})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action+" by "+e.Actor)
		}
		if got := strings.Join(actions, ", "); got != "suggestion.reject by accepter, suggestion.accept by accepter, suggestion.search by finder" {
			t.Errorf("audit: %s", got)
		}
		if !strings.Contains(log[1].Detail, a.ID) || !strings.Contains(log[1].Detail, src.ID) || log[1].IP != "192.0.2.2" {
			t.Errorf("the accept's audit entry: %+v", log[1])
		}

		// Bad input: nothing is stored.
		var ve *ValidationError
		if _, err := s.Suggestions(ctx, img.ID, "maybe"); !errors.As(err, &ve) || ve.Field != "status" {
			t.Errorf("status maybe: %v", err)
		}
		if _, err := s.Suggestions(ctx, "img_nosuchimage1", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("no such image: %v", err)
		}
		for _, fn := range []func() error{
			func() error { _, _, err := s.AcceptSuggestion(ctx, accepter, "sug_nosuchthing1"); return err },
			func() error { _, err := s.RejectSuggestion(ctx, accepter, "sug_nosuchthing1"); return err },
		} {
			if err := fn(); !errors.Is(err, ErrNotFound) {
				t.Errorf("deciding an unknown suggestion: %v, want ErrNotFound", err)
			}
		}
		offImage := append(found[:1:1], FoundPlace{Shape: ShapeRotatedRectangle, Geometry: shipAt(395, 50, false), Score: 0.8})
		if _, err := s.AddSuggestions(ctx, finder, src, offImage); !errors.As(err, &ve) || ve.Field != "suggestions[1].geometry" {
			t.Errorf("a place off the image: %v, want a ValidationError on suggestions[1].geometry", err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM suggestions`); n != 3 {
			t.Errorf("%d suggestions stored after the refused search, want 3", n)
		}

		// An image in the trash takes its suggestions out of sight, and a purge removes them.
		if _, err := s.TrashImage(ctx, Actor{Name: "admin"}, img.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Suggestion(ctx, list[2].ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("a suggestion of a trashed image: %v, want ErrNotFound", err)
		}
		if _, err := s.PurgeImage(ctx, Actor{Name: "admin"}, img.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM suggestions`); n != 0 {
			t.Errorf("%d suggestions left after the purge", n)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

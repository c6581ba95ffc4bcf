package annotations

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// feature is an import feature of a shape, label and geometry, with properties.
func feature(id, label string, shape Shape, geometry, props string) ImportFeature {
	return ImportFeature{ID: id, Input: AnnotationInput{Label: ptr(label), Shape: ptr(shape),
		Geometry: json.RawMessage(geometry), Properties: json.RawMessage(props)}}
}

func emitting(fs ...ImportFeature) func(func(ImportFeature) error) error {
	return func(emit func(ImportFeature) error) error {
		for _, f := range fs {
			if err := emit(f); err != nil {
				return err
			}
		}
		return nil
	}
}

func countAnnotations(t *testing.T, s *Store, imageID string) int {
	t.Helper()
	as, err := s.Annotations(context.Background(), AnnotationFilter{ImageIDs: []string{imageID}})
	if err != nil {
		t.Fatal(err)
	}
	return len(as)
}

func auditActions(t *testing.T, s *Store, action string) []AuditEntry {
	t.Helper()
	es, err := s.AuditLog(context.Background(), AuditFilter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestImportAnnotationsCommitsEveryFeatureWithItsHistoryAndOneAuditEntry(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		in := emitting(
			feature("a", "vessel/landing ship", ShapeRectangle, boxJSON, `{"confidence":"probable","hull":"BDK-61"}`),
			feature("b", "/vessel", ShapePoint, pointJSON, `{"note":"at anchor"}`),
			feature("", "naval base", ShapePolygon, boxJSON, `null`),
		)
		rep, err := x.s.ImportAnnotations(ctx, Actor{Name: "kim", IP: "192.0.2.1"}, x.img.ID, in, ImportOptions{FileName: "port.geojson", Format: "geojson"})
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if rep.Features != 3 || rep.Create != 3 || rep.Created != 3 || !rep.Clean() || rep.DryRun {
			t.Errorf("got report %+v, want 3 features, 3 created, clean", rep)
		}
		as, err := x.s.Annotations(ctx, AnnotationFilter{ImageIDs: []string{x.img.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 3 {
			t.Fatalf("got %d annotations, want 3", len(as))
		}
		if as[0].Label.ID != x.landing.ID || as[0].Confidence != Probable || string(as[0].Attributes["hull"]) != `"BDK-61"` {
			t.Errorf("first annotation: got %+v", as[0])
		}
		if as[1].Label.ID != x.vessel.ID || as[1].Note != "at anchor" || as[2].Label.ID != x.naval.ID {
			t.Errorf("got labels %s, %s, want vessel, naval base", as[1].Label.PathString(), as[2].Label.PathString())
		}
		for _, a := range as {
			revs, err := x.s.History(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(revs) != 1 || revs[0].Action != "create" || revs[0].Actor != "kim" {
				t.Errorf("history of %s: got %+v, want one create by kim", a.ID, revs)
			}
		}
		entries := auditActions(t, x.s, "annotation.import")
		if len(entries) != 1 {
			t.Fatalf("got %d import audit entries, want 1", len(entries))
		}
		e := entries[0]
		if e.Actor != "kim" || e.IP != "192.0.2.1" || e.TargetID != x.img.ID ||
			!strings.Contains(e.Detail, "3 annotations") || !strings.Contains(e.Detail, "port.geojson") || !strings.Contains(e.Detail, "geojson") {
			t.Errorf("audit entry: got %+v, want kim's import of 3 annotations from port.geojson (geojson)", e)
		}
	})
}

func TestImportAnnotationsDryRunWritesNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		in := emitting(feature("a", "vessel", ShapePoint, pointJSON, ``), feature("b", "vessel", ShapePoint, pointJSON, ``))
		rep, err := x.s.ImportAnnotations(ctx, Actor{Name: "kim"}, x.img.ID, in, ImportOptions{DryRun: true, Format: "geojson"})
		if err != nil {
			t.Fatalf("dry run: %v", err)
		}
		if !rep.DryRun || rep.Create != 2 || rep.Created != 0 {
			t.Errorf("got %+v, want a dry run that would create 2", rep)
		}
		wantNothingImported(t, x, "a dry run")
	})
}

// wantNothingImported checks the image has no annotations and the log no import.
func wantNothingImported(t *testing.T, x annotated, what string) {
	t.Helper()
	if n := countAnnotations(t, x.s, x.img.ID); n != 0 {
		t.Errorf("%s left %d annotations", what, n)
	}
	if n := len(auditActions(t, x.s, "annotation.import")); n != 0 {
		t.Errorf("%s left %d audit entries", what, n)
	}
}

func TestImportAnnotationsReportsEveryRefusalAndImportsNone(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		var fs []ImportFeature
		const n = 3000
		for i := 0; i < n; i++ {
			switch {
			case i%3 == 0:
				// Outside the 200×100 image.
				fs = append(fs, feature(fmt.Sprint("f", i), "vessel", ShapePoint, `{"type":"Point","coordinates":[250,5]}`, ``))
			case i%3 == 1:
				// An unclosed ring.
				fs = append(fs, feature(fmt.Sprint("f", i), "vessel", ShapePolygon, `{"type":"Polygon","coordinates":[[[1,1],[5,1],[5,5],[1,5]]]}`, ``))
			default:
				fs = append(fs, feature(fmt.Sprint("f", i), "vessel", ShapePoint, pointJSON, ``))
			}
		}
		fs = append(fs,
			feature("f1", "vessel", ShapePoint, pointJSON, ``), // an id used again
			ImportFeature{Place: "line 9", Refusal: "a MultiPoint of 3 points: satmark's annotations are one shape each"},
			feature("bad-props", "vessel", ShapePoint, pointJSON, `{"confidence":"certain"}`),
		)
		rep, err := x.s.ImportAnnotations(ctx, Actor{Name: "kim"}, x.img.ID, emitting(fs...), ImportOptions{Format: "geojson"})
		var refused *ImportRefusedError
		if !errors.As(err, &refused) {
			t.Fatalf("got %v, want an *ImportRefusedError", err)
		}
		want := 2*n/3 + 3
		if len(rep.Refused) != want || rep.Features != n+3 || rep.Create != n/3 {
			t.Fatalf("got %d refused of %d features, %d passing; want %d refused of %d, %d passing", len(rep.Refused), rep.Features, rep.Create, want, n+3, n/3)
		}
		if r := rep.Refused[0]; r.Index != 0 || r.ID != "f0" || r.Field != "geometry" || !strings.Contains(r.Reason, "outside the image") {
			t.Errorf("first refusal: got %+v", r)
		}
		if r := rep.Refused[1]; r.Index != 1 || !strings.Contains(r.Reason, "not closed") {
			t.Errorf("second refusal: got %+v", r)
		}
		tail := rep.Refused[len(rep.Refused)-3:]
		if tail[0].ID != "f1" || tail[0].Index != n || !strings.Contains(tail[0].Reason, "feature 1 has it already") {
			t.Errorf("duplicate id: got %+v", tail[0])
		}
		if tail[1].Place != "line 9" || !strings.Contains(tail[1].Reason, "MultiPoint") {
			t.Errorf("reader's refusal: got %+v", tail[1])
		}
		if tail[2].Field != "properties.confidence" {
			t.Errorf("bad property: got %+v", tail[2])
		}
		if !strings.Contains(err.Error(), "nothing was imported") {
			t.Errorf("got message %q", err)
		}
		wantNothingImported(t, x, "a refused import")
	})
}

func TestImportAnnotationsMissingLabels(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		admin := Actor{Name: "root"}
		in := func() func(func(ImportFeature) error) error {
			return emitting(
				feature("1", "submarine", ShapePoint, pointJSON, ``),
				feature("2", "Submarine", ShapePoint, pointJSON, ``),
				feature("3", "vessel/tug", ShapePoint, pointJSON, ``),
				feature("4", "submarine", ShapePoint, `{"type":"Point","coordinates":[-1,5]}`, ``),
				feature("5", "vessel", ShapePoint, pointJSON, ``),
			)
		}

		t.Run("counted by name, apart from the refusals", func(t *testing.T) {
			rep, err := x.s.ImportAnnotations(ctx, admin, x.img.ID, in(), ImportOptions{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(rep.MissingLabels)
			if string(got) != `[{"name":"submarine","count":2},{"name":"Submarine","count":1},{"name":"vessel/tug","count":1}]` {
				t.Errorf("got missing labels %s", got)
			}
			// Feature 4 names a missing label and lies off the image: both are said.
			if len(rep.Refused) != 1 || rep.Refused[0].ID != "4" || rep.Refused[0].Field != "geometry" {
				t.Errorf("got refusals %+v, want feature 4's geometry", rep.Refused)
			}
			if rep.Create != 1 {
				t.Errorf("got create %d, want 1 (only feature 5 has a label)", rep.Create)
			}
			if _, err := x.s.ImportAnnotations(ctx, admin, x.img.ID, in(), ImportOptions{}); !errors.As(err, new(*ImportRefusedError)) ||
				!strings.Contains(err.Error(), "3 labels not in the taxonomy") {
				t.Errorf("real run: got %v, want refused for the missing labels", err)
			}
		})

		t.Run("mapped", func(t *testing.T) {
			m := map[string]string{"submarine": "vessel/landing ship", "vessel/tug": "vessel"}
			rep, err := x.s.ImportAnnotations(ctx, admin, x.img.ID, in(), ImportOptions{DryRun: true, LabelMap: m})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.MissingLabels) != 0 || rep.Create != 4 {
				t.Errorf("got %+v, want nothing missing (the map folds case) and 4 to create", rep)
			}
		})

		t.Run("mapped to no label", func(t *testing.T) {
			_, err := x.s.ImportAnnotations(ctx, admin, x.img.ID, in(), ImportOptions{DryRun: true, LabelMap: map[string]string{"submarine": "vessel/none"}})
			ve := wantValidation(t, err, "map")
			if !strings.Contains(ve.Message, "vessel/none") {
				t.Errorf("got %q", ve.Message)
			}
		})

		t.Run("created only by an administrator", func(t *testing.T) {
			_, err := x.s.ImportAnnotations(ctx, Actor{Name: "kim"}, x.img.ID, in(), ImportOptions{DryRun: true, CreateLabels: true})
			if !errors.Is(err, ErrForbidden) {
				t.Fatalf("got %v, want ErrForbidden", err)
			}
		})

		t.Run("created", func(t *testing.T) {
			ok := emitting(
				feature("1", "submarine", ShapePoint, pointJSON, ``),
				feature("2", "vessel/tug", ShapeRectangle, `{"type":"Polygon","coordinates":[[[1,1],[5,1],[5,5],[1,5]]]}`, ``),
				feature("3", "vessel/tug", ShapePoint, pointJSON, ``),
			)
			rep, err := x.s.ImportAnnotations(ctx, admin, x.img.ID, ok, ImportOptions{DryRun: true, CreateLabels: true, MayCreateLabels: true})
			if err != nil {
				t.Fatal(err)
			}
			// Feature 2 is refused, but the label it made stays for feature 3.
			if rep.Create != 2 || len(rep.Refused) != 1 || strings.Join(rep.NewLabels, ",") != "submarine,vessel/tug" {
				t.Errorf("got %+v, want 2 to create, new labels submarine and vessel/tug", rep)
			}
			labels, _ := x.s.Labels(ctx)
			for _, l := range labels {
				if l.Name == "tug" || l.Name == "submarine" {
					t.Errorf("a dry run left the label %s", l.PathString())
				}
			}
			fine := emitting(feature("1", "submarine", ShapePoint, pointJSON, ``), feature("3", "vessel/tug", ShapePoint, pointJSON, ``))
			if _, err := x.s.ImportAnnotations(ctx, admin, x.img.ID, fine, ImportOptions{CreateLabels: true, MayCreateLabels: true}); err != nil {
				t.Fatal(err)
			}
			tug, err := x.s.ResolveLabel(ctx, "vessel/tug")
			if err != nil || tug.ParentID != x.vessel.ID {
				t.Errorf("got %+v %v, want vessel/tug under vessel", tug, err)
			}
			if n := len(auditActions(t, x.s, "label.create")); n != 7 {
				t.Errorf("got %d label.create entries, want 7 (5 for the taxonomy, 2 imported)", n)
			}
		})
	})
}

func TestImportAnnotationsOfAnUnknownImage(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		x := newAnnotated(t)
		_, err := x.s.ImportAnnotations(context.Background(), Actor{Name: "kim"}, "img_aaaaaaaaaaaa", emitting(), ImportOptions{})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("got %v, want ErrNotFound", err)
		}
	})
}

func TestImportAnnotationsPassesOnTheReadersError(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		x := newAnnotated(t)
		broken := errors.New("line 3: not JSON")
		_, err := x.s.ImportAnnotations(context.Background(), Actor{Name: "kim"}, x.img.ID, func(emit func(ImportFeature) error) error {
			if err := emit(feature("1", "vessel", ShapePoint, pointJSON, ``)); err != nil {
				return err
			}
			return broken
		}, ImportOptions{})
		if !errors.Is(err, broken) {
			t.Errorf("got %v, want the reader's error", err)
		}
		if n := countAnnotations(t, x.s, x.img.ID); n != 0 {
			t.Errorf("got %d annotations after a broken file, want 0", n)
		}
	})
}

// TestRefusedCreatesWriteNothing is what lets an import share one savepoint among many
// features: createAnnotationTx checks everything before its first write.
func TestRefusedCreatesWriteNothing(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		tx, err := x.s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		labels, _ := x.s.labelsTx(ctx, tx)
		resolve := func(ref string) (Label, error) { return resolveLabelIn(labels, ref) }
		changes := func() int {
			var n int
			if err := tx.QueryRowContext(ctx, onBackend(x.s, `SELECT total_changes()`,
				// the rows this transaction wrote
				`SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables`)).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := changes()
		for _, in := range []ImportFeature{
			feature("", "vessel", ShapePoint, `{"type":"Point","coordinates":[500,5]}`, ``),
			feature("", "no such label", ShapePoint, pointJSON, ``),
			feature("", "vessel", ShapeRectangle, `{"type":"Polygon","coordinates":[[[1,1],[5,1],[5,5],[1,5]]]}`, ``),
			feature("", "vessel", ShapePoint, pointJSON, `{"confidence":"sure"}`),
			feature("", "vessel", ShapePoint, pointJSON, `{"big":"`+strings.Repeat("x", MaxPropertiesBytes)+`"}`),
			feature("", "vessel", Shape("circle"), pointJSON, ``),
			{Input: AnnotationInput{Shape: ptr(ShapePoint), Geometry: json.RawMessage(pointJSON)}},
		} {
			if _, err := x.s.createAnnotationTx(ctx, tx, "kim", x.img.ID, x.img.Width, x.img.Height, resolve, in.Input); err == nil {
				t.Fatalf("%+v was not refused", in.Input)
			}
			if n := changes(); n != before {
				t.Fatalf("a refused create (%s) changed %d rows", *in.Input.Shape, n-before)
			}
		}
	})
}

// TestImportAnnotationsWhenTheDatabaseRefusesAWrite: a write refused by the database
// itself (here a trigger) after the annotation's row is in undoes that feature alone:
// its batch is made again feature by feature, and the report names it.
func TestImportAnnotationsWhenTheDatabaseRefusesAWrite(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		refuseInserts(t, x.s, "no_explosions", "revisions", "NEW.after LIKE '%explode%'", "no explosions")
		var fs []ImportFeature
		for i := 0; i < 600; i++ {
			note := "fine"
			if i == 300 || i == 301 {
				note = "explode"
			}
			fs = append(fs, feature(fmt.Sprint(i), "vessel", ShapePoint, pointJSON, `{"note":"`+note+`"}`))
		}
		var told []string
		rep, err := x.s.ImportAnnotations(ctx, Actor{Name: "kim"}, x.img.ID, emitting(fs...), ImportOptions{DryRun: true,
			Created: func(a Annotation) { told = append(told, a.ID) }})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Create != 598 || len(rep.Refused) != 2 || rep.Refused[0].Index != 300 || rep.Refused[1].Index != 301 ||
			!strings.Contains(rep.Refused[0].Reason, "no explosions") {
			t.Fatalf("got create %d, refused %+v", rep.Create, rep.Refused)
		}
		if len(told) != 598 {
			t.Errorf("told of %d annotations, want the 598 kept", len(told))
		}
		if _, err := x.s.ImportAnnotations(ctx, Actor{Name: "kim"}, x.img.ID, emitting(fs...), ImportOptions{}); !errors.As(err, new(*ImportRefusedError)) {
			t.Errorf("real run: %v, want refused", err)
		}
		if n := countAnnotations(t, x.s, x.img.ID); n != 0 {
			t.Errorf("%d annotations stored", n)
		}
		fine := emitting(fs[:300]...)
		if rep, err := x.s.ImportAnnotations(ctx, Actor{Name: "kim"}, x.img.ID, fine, ImportOptions{}); err != nil || rep.Created != 300 {
			t.Fatalf("%+v %v", rep, err)
		}
		if n := countAnnotations(t, x.s, x.img.ID); n != 300 {
			t.Errorf("%d annotations stored, want 300", n)
		}
	})
}

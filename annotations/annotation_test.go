package annotations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	boxJSON   = `{"type":"Polygon","coordinates":[[[10,10],[60,10],[60,40],[10,40],[10,10]]]}`
	pointJSON = `{"type":"Point","coordinates":[5.5,6.5]}`
)

// annotated is a store with one 200×100 image and a small taxonomy.
type annotated struct {
	s                           *Store
	img                         Image
	vessel, landing, naval, sub Label
}

func newAnnotated(t *testing.T) annotated {
	t.Helper()
	return newAnnotatedOn(t, backendOf(t))
}

// newAnnotatedOn is newAnnotated on a store of backend.
func newAnnotatedOn(t *testing.T, backend string) annotated {
	t.Helper()
	s := openStoreOn(t, backend)
	return annotated{
		s:       s,
		img:     addImage(t, s, "scene", 200, 100, Provenance{}),
		vessel:  addLabel(t, s, "vessel"),
		landing: addLabel(t, s, "vessel", "landing ship"),
		sub:     addLabel(t, s, "vessel", "landing ship", "Ropucha"),
		naval:   addLabel(t, s, "facility", "naval base"),
	}
}

func TestCreateAnnotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		a, err := x.s.CreateAnnotation(ctx, "alice", x.img.ID, AnnotationInput{
			Label: ptr("vessel/landing ship"), Shape: ptr(ShapeRectangle), Geometry: json.RawMessage(boxJSON),
			Properties: json.RawMessage(`{"confidence":" Probable ","identification":"Ropucha-class","note":"pier 3","count":3,"hull":"BDK-61","tags":["a", "b"]}`),
		})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if a.Version != 1 || a.CreatedBy != "alice" || a.UpdatedBy != "alice" || a.ReviewStatus != "draft" || a.ImageID != x.img.ID {
			t.Errorf("got %+v, want version 1 by alice, draft, on %s", a, x.img.ID)
		}
		if !uuidPattern.MatchString(a.ID) {
			t.Errorf("got id %q, want a UUID", a.ID)
		}
		if a.Label.ID != x.landing.ID {
			t.Errorf("got label %s, want %s", a.Label.PathString(), x.landing.PathString())
		}
		if a.Confidence != Probable || a.Identification != "Ropucha-class" || a.Note != "pier 3" {
			t.Errorf("got confidence %q identification %q note %q, want probable, Ropucha-class, pier 3", a.Confidence, a.Identification, a.Note)
		}
		wantAttrs := map[string]string{"count": `3`, "hull": `"BDK-61"`, "tags": `["a","b"]`}
		if len(a.Attributes) != len(wantAttrs) {
			t.Errorf("got attributes %s, want %v", a.Attributes, wantAttrs)
		}
		for k, v := range wantAttrs {
			if string(a.Attributes[k]) != v {
				t.Errorf("attribute %s: got %s, want %s", k, a.Attributes[k], v)
			}
		}

		stored, err := x.s.Annotation(ctx, a.ID)
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		if stored.Version != 1 || stored.Label.PathString() != "vessel › landing ship" || !sameGeometry(stored.Geometry, a.Geometry) ||
			string(stored.Attributes["tags"]) != `["a","b"]` || stored.Confidence != Probable {
			t.Errorf("got stored %+v, want what was created: %+v", stored, a)
		}

		var action, actor string
		var version int
		var before *string
		var after string
		if err := x.s.DB().QueryRow(`SELECT action, actor, version, before, after FROM revisions WHERE annotation_id = ?`, a.ID).
			Scan(&action, &actor, &version, &before, &after); err != nil {
			t.Fatalf("read revision: %v", err)
		}
		if action != "create" || actor != "alice" || version != 1 || before != nil {
			t.Errorf("got revision %s by %s version %d before %v, want create by alice, version 1, no before", action, actor, version, before)
		}
		var snapshot Annotation
		if err := json.Unmarshal([]byte(after), &snapshot); err != nil || snapshot.ID != a.ID || snapshot.Note != "pier 3" {
			t.Errorf("got revision after %s (%v), want the created annotation", after, err)
		}
	})
}

func TestCreateAnnotationRejects(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		huge := `{"note":"` + strings.Repeat("x", MaxPropertiesBytes) + `"}`
		tests := []struct {
			name       string
			imageID    string
			label      *string
			shape      *Shape
			geometry   string
			properties string
			wantErr    error
			wantField  string
		}{
			{name: "nok, unknown image", imageID: "img_aaaaaaaaaaaa", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: pointJSON, wantErr: ErrNotFound},
			{name: "nok, unknown label", label: ptr("submarine"), shape: ptr(ShapePoint), geometry: pointJSON, wantField: "label"},
			{name: "nok, label path that does not exist", label: ptr("facility/landing ship"), shape: ptr(ShapePoint), geometry: pointJSON, wantField: "label"},
			{name: "nok, no label", shape: ptr(ShapePoint), geometry: pointJSON, wantField: "label"},
			{name: "nok, no shape", label: ptr("vessel"), geometry: pointJSON, wantField: "shape"},
			{name: "nok, unknown shape", label: ptr("vessel"), shape: ptr(Shape("circle")), geometry: pointJSON, wantField: "shape"},
			{name: "nok, no geometry", label: ptr("vessel"), shape: ptr(ShapePoint), wantField: "geometry"},
			{name: "nok, geometry null", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: `null`, wantField: "geometry"},
			{name: "nok, geometry outside image", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: `{"type":"Point","coordinates":[200.5,1]}`, wantField: "geometry"},
			{name: "nok, geometry with NaN", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: `{"type":"Point","coordinates":["NaN",1]}`, wantField: "geometry"},
			{name: "nok, ring not closed", label: ptr("vessel"), shape: ptr(ShapePolygon), geometry: `{"type":"Polygon","coordinates":[[[1,1],[5,1],[5,5],[1,6]]]}`, wantField: "geometry"},
			{name: "nok, geometry type does not match shape", label: ptr("vessel"), shape: ptr(ShapeLine), geometry: pointJSON, wantField: "geometry"},
			{name: "nok, invalid confidence", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: pointJSON, properties: `{"confidence":"certain"}`, wantField: "properties.confidence"},
			{name: "nok, note not a string", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: pointJSON, properties: `{"note":42}`, wantField: "properties.note"},
			{name: "nok, properties an array", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: pointJSON, properties: `[1,2]`, wantField: "properties"},
			{name: "nok, properties a string", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: pointJSON, properties: `"note"`, wantField: "properties"},
			{name: "nok, properties not JSON", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: pointJSON, properties: `{note: 1}`, wantField: "properties"},
			{name: "nok, properties over 64 KiB", label: ptr("vessel"), shape: ptr(ShapePoint), geometry: pointJSON, properties: huge, wantField: "properties"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				imageID := tt.imageID
				if imageID == "" {
					imageID = x.img.ID
				}
				in := AnnotationInput{Label: tt.label, Shape: tt.shape}
				if tt.geometry != "" {
					in.Geometry = json.RawMessage(tt.geometry)
				}
				if tt.properties != "" {
					in.Properties = json.RawMessage(tt.properties)
				}
				_, err := x.s.CreateAnnotation(ctx, "alice", imageID, in)
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("got %v, want %v", err, tt.wantErr)
					}
				} else {
					wantValidation(t, err, tt.wantField)
				}
				if n := count(t, x.s, `SELECT COUNT(*) FROM annotations`); n != 0 {
					t.Errorf("got %d annotations, want 0", n)
				}
				if n := count(t, x.s, `SELECT COUNT(*) FROM revisions`); n != 0 {
					t.Errorf("got %d revisions, want 0", n)
				}
			})
		}
	})
}

func TestUpdateAnnotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		base := `{"confidence":"possible","identification":"Ropucha-class","note":"first look","count":3,"hull":"BDK-61"}`

		t.Run("nok, no version", func(t *testing.T) {
			x := newAnnotated(t)
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, base)
			_, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Properties: json.RawMessage(`{"note":"x"}`)})
			if !errors.Is(err, ErrVersionRequired) {
				t.Fatalf("got %v, want ErrVersionRequired", err)
			}
		})

		t.Run("nok, stale version says which is current and writes nothing", func(t *testing.T) {
			x := newAnnotated(t)
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, base)
			if _, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Version: ptr(1), Properties: json.RawMessage(`{"note":"second"}`)}); err != nil {
				t.Fatalf("first update: %v", err)
			}
			revisions := count(t, x.s, `SELECT COUNT(*) FROM revisions`)
			_, err := x.s.UpdateAnnotation(ctx, "carol", a.ID, AnnotationInput{Version: ptr(1), Properties: json.RawMessage(`{"note":"third"}`)})
			var stale *StaleVersionError
			if !errors.As(err, &stale) {
				t.Fatalf("got %v, want a *StaleVersionError", err)
			}
			if stale.Current != 2 || stale.Given != 1 || stale.ID != a.ID {
				t.Errorf("got %+v, want current 2, given 1, id %s", stale, a.ID)
			}
			if n := count(t, x.s, `SELECT COUNT(*) FROM revisions`); n != revisions {
				t.Errorf("got %d revisions after a stale update, want %d", n, revisions)
			}
			got, _ := x.s.Annotation(ctx, a.ID)
			if got.Note != "second" || got.Version != 2 {
				t.Errorf("got note %q version %d, want \"second\" version 2", got.Note, got.Version)
			}
		})

		t.Run("ok, merge patch: null removes, others kept", func(t *testing.T) {
			x := newAnnotated(t)
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, base)
			got, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{
				Version:    ptr(1),
				Properties: json.RawMessage(`{"hull":null,"note":"second look","crew":{"estimate":120},"identification":null}`),
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if got.Version != 2 || got.UpdatedBy != "bob" || got.CreatedBy != "alice" {
				t.Errorf("got version %d updated by %q created by %q, want 2, bob, alice", got.Version, got.UpdatedBy, got.CreatedBy)
			}
			if _, ok := got.Attributes["hull"]; ok {
				t.Errorf("got attribute hull = %s, want it removed by null", got.Attributes["hull"])
			}
			if string(got.Attributes["count"]) != "3" || string(got.Attributes["crew"]) != `{"estimate":120}` {
				t.Errorf("got attributes %s, want count 3 kept and crew added", got.Attributes)
			}
			if got.Note != "second look" || got.Confidence != Possible || got.Identification != "" {
				t.Errorf("got note %q confidence %q identification %q, want \"second look\", possible, \"\"", got.Note, got.Confidence, got.Identification)
			}
			stored, _ := x.s.Annotation(ctx, a.ID)
			if stored.Version != 2 || stored.Note != "second look" || len(stored.Attributes) != 2 {
				t.Errorf("got stored %+v, want the update persisted", stored)
			}
		})

		t.Run("ok, merge patch reaches into nested objects (RFC 7396)", func(t *testing.T) {
			x := newAnnotated(t)
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, base)
			a, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Version: ptr(1), Properties: json.RawMessage(`{"crew":{"officers":12,"troops":{"min":200,"max":400}}}`)})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			got, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Version: ptr(2), Properties: json.RawMessage(`{"crew":{"officers":null,"troops":{"max":350}}}`)})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if want := `{"troops":{"max":350,"min":200}}`; string(got.Attributes["crew"]) != want {
				t.Errorf("got crew %s, want %s", got.Attributes["crew"], want)
			}
		})

		t.Run("ok, label change", func(t *testing.T) {
			x := newAnnotated(t)
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, base)
			got, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Version: ptr(1), Label: ptr("facility › naval base")})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if got.Label.ID != x.naval.ID || got.Version != 2 {
				t.Errorf("got label %s version %d, want %s version 2", got.Label.PathString(), got.Version, x.naval.PathString())
			}
		})

		t.Run("ok, geometry change inside the image", func(t *testing.T) {
			x := newAnnotated(t)
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, base)
			moved := `{"type":"Polygon","coordinates":[[[150,60],[200,60],[200,100],[150,100],[150,60]]]}`
			got, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Version: ptr(1), Geometry: json.RawMessage(moved)})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if got.Geometry.Coordinates[0][2] != (Position{200, 100}) {
				t.Errorf("got %v, want the new geometry", got.Geometry)
			}
		})

		rejected := []struct {
			name      string
			in        AnnotationInput
			wantField string
		}{
			{"nok, geometry moved outside the image", AnnotationInput{Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[150,60],[201,60],[201,100],[150,100],[150,60]]]}`)}, "geometry"},
			{"nok, shape changed to one the geometry does not fit", AnnotationInput{Shape: ptr(ShapePoint)}, "geometry"},
			{"nok, unknown shape", AnnotationInput{Shape: ptr(Shape("ellipse"))}, "shape"},
			{"nok, unknown label", AnnotationInput{Label: ptr("submarine")}, "label"},
			{"nok, invalid confidence", AnnotationInput{Properties: json.RawMessage(`{"confidence":"sure"}`)}, "properties.confidence"},
			{"nok, properties not an object", AnnotationInput{Properties: json.RawMessage(`[]`)}, "properties"},
			{"nok, malformed geometry", AnnotationInput{Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[1,1],[2,2,2]]]}`)}, "geometry"},
		}
		for _, tt := range rejected {
			t.Run(tt.name, func(t *testing.T) {
				x := newAnnotated(t)
				a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, base)
				tt.in.Version = ptr(1)
				_, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, tt.in)
				wantValidation(t, err, tt.wantField)
				got, _ := x.s.Annotation(ctx, a.ID)
				if got.Version != 1 || got.Shape != ShapeRectangle || got.Label.ID != x.vessel.ID {
					t.Errorf("got %+v after a rejected update, want version 1 unchanged", got)
				}
				if n := count(t, x.s, `SELECT COUNT(*) FROM revisions WHERE annotation_id = ?`, a.ID); n != 1 {
					t.Errorf("got %d revisions, want 1", n)
				}
			})
		}

		t.Run("nok, merged properties over 64 KiB", func(t *testing.T) {
			x := newAnnotated(t)
			half := strings.Repeat("x", MaxPropertiesBytes/2+10)
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, `{"first":"`+half+`"}`)
			_, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Version: ptr(1), Properties: json.RawMessage(`{"second":"` + half + `"}`)})
			wantValidation(t, err, "properties")
			if got, _ := x.s.Annotation(ctx, a.ID); got.Version != 1 || len(got.Attributes) != 1 {
				t.Errorf("got version %d with %d attributes, want version 1 with 1", got.Version, len(got.Attributes))
			}
		})

		t.Run("ok, an update that changes nothing keeps the version and writes no revision", func(t *testing.T) {
			x := newAnnotated(t)
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, base)
			got, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{
				Version: ptr(1), Label: ptr(x.vessel.ID), Shape: ptr(ShapeRectangle), Geometry: json.RawMessage(boxJSON),
				Properties: json.RawMessage(`{"confidence":"Possible","count":3,"absent":null}`),
			})
			if err != nil {
				t.Fatalf("update: %v", err)
			}
			if got.Version != 1 || got.UpdatedBy != "alice" {
				t.Errorf("got version %d updated by %q, want 1 by alice", got.Version, got.UpdatedBy)
			}
			if n := count(t, x.s, `SELECT COUNT(*) FROM revisions WHERE annotation_id = ?`, a.ID); n != 1 {
				t.Errorf("got %d revisions, want 1", n)
			}
		})

		t.Run("nok, unknown annotation", func(t *testing.T) {
			x := newAnnotated(t)
			_, err := x.s.UpdateAnnotation(ctx, "bob", "00000000-0000-4000-8000-000000000000", AnnotationInput{Version: ptr(1)})
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("got %v, want ErrNotFound", err)
			}
		})
	})
}

func TestHistory(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, `{"confidence":"possible"}`)
		steps := []struct {
			actor string
			in    AnnotationInput
		}{
			{"bob", AnnotationInput{Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[15,12],[65,12],[65,42],[15,42],[15,12]]]}`)}},
			{"carol", AnnotationInput{Label: ptr("landing ship"), Properties: json.RawMessage(`{"confidence":"confirmed","note":"seen again"}`)}},
		}
		for i, st := range steps {
			st.in.Version = ptr(i + 1)
			if _, err := x.s.UpdateAnnotation(ctx, st.actor, a.ID, st.in); err != nil {
				t.Fatalf("update %d: %v", i+1, err)
			}
		}
		if err := x.s.DeleteAnnotation(ctx, Actor{Name: "dave"}, a.ID, ptr(3)); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if _, err := x.s.Annotation(ctx, a.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("after delete: got %v, want ErrNotFound", err)
		}

		revs, err := x.s.History(ctx, a.ID)
		if err != nil {
			t.Fatalf("history after delete: %v", err)
		}
		want := []struct {
			version int
			action  string
			actor   string
			changes string
			before  bool
			after   bool
		}{
			{1, "create", "alice", "created", false, true},
			{2, "update", "bob", "moved", true, true},
			{3, "update", "carol", "relabelled, confidence, note", true, true},
			{4, "delete", "dave", "deleted", true, false},
		}
		if len(revs) != len(want) {
			t.Fatalf("got %d revisions, want %d", len(revs), len(want))
		}
		for i, w := range want {
			r := revs[i]
			if r.Version != w.version || r.Action != w.action || r.Actor != w.actor || strings.Join(r.Changes, ", ") != w.changes ||
				(r.Before != nil) != w.before || (r.After != nil) != w.after {
				t.Errorf("revision %d: got version %d %s by %s changes %q before %v after %v; want %+v",
					i, r.Version, r.Action, r.Actor, strings.Join(r.Changes, ", "), r.Before != nil, r.After != nil, w)
			}
			if r.AnnotationID != a.ID || r.At.IsZero() {
				t.Errorf("revision %d: got annotation %q at %v, want %s and a time", i, r.AnnotationID, r.At, a.ID)
			}
		}
		if revs[2].After.Label.ID != x.landing.ID || revs[2].Before.Label.ID != x.vessel.ID {
			t.Errorf("got relabel %s → %s, want vessel → landing ship", revs[2].Before.Label.PathString(), revs[2].After.Label.PathString())
		}

		if _, err := x.s.History(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown annotation: got %v, want ErrNotFound", err)
		}
	})
}

func TestHistoryChangeWords(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		tests := []struct {
			name string
			in   AnnotationInput
			want string
		}{
			{"ok, pure translation is moved", AnnotationInput{Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[11.5,9],[61.5,9],[61.5,39],[11.5,39],[11.5,9]]]}`)}, "moved"},
			{"ok, one corner moved is reshaped", AnnotationInput{Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[10,10],[70,10],[70,40],[10,40],[10,10]]]}`)}, "reshaped"},
			{"ok, same ring as a polygon is reshaped", AnnotationInput{Shape: ptr(ShapePolygon)}, "reshaped"},
			{"ok, new label is relabelled", AnnotationInput{Label: ptr("naval base")}, "relabelled"},
			{"ok, confidence", AnnotationInput{Properties: json.RawMessage(`{"confidence":"confirmed"}`)}, "confidence"},
			{"ok, confidence removed", AnnotationInput{Properties: json.RawMessage(`{"confidence":null}`)}, "confidence"},
			{"ok, identification", AnnotationInput{Properties: json.RawMessage(`{"identification":"Alligator-class"}`)}, "identification"},
			{"ok, note", AnnotationInput{Properties: json.RawMessage(`{"note":"moored"}`)}, "note"},
			{"ok, attribute added", AnnotationInput{Properties: json.RawMessage(`{"count":4}`)}, "attributes"},
			{"ok, attribute removed", AnnotationInput{Properties: json.RawMessage(`{"hull":null}`)}, "attributes"},
			{"ok, several at once", AnnotationInput{Label: ptr("naval base"), Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[20,20],[70,20],[70,50],[20,50],[20,20]]]}`), Properties: json.RawMessage(`{"note":"x","hull":"BDK-62"}`)}, "relabelled, moved, note, attributes"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				x := newAnnotated(t)
				a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapeRectangle, boxJSON, `{"confidence":"possible","hull":"BDK-61"}`)
				tt.in.Version = ptr(1)
				if _, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, tt.in); err != nil {
					t.Fatalf("update: %v", err)
				}
				revs, err := x.s.History(ctx, a.ID)
				if err != nil {
					t.Fatalf("history: %v", err)
				}
				if len(revs) != 2 {
					t.Fatalf("got %d revisions, want 2", len(revs))
				}
				if got := strings.Join(revs[1].Changes, ", "); got != tt.want {
					t.Errorf("got changes %q, want %q", got, tt.want)
				}
			})
		}
	})
}

func TestDeleteAnnotation(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		var stale *StaleVersionError
		if err := x.s.DeleteAnnotation(ctx, Actor{Name: "bob"}, a.ID, ptr(7)); !errors.As(err, &stale) || stale.Current != 1 {
			t.Errorf("stale delete: got %v, want a *StaleVersionError with current 1", err)
		}
		if err := x.s.DeleteAnnotation(ctx, Actor{Name: "bob"}, a.ID, nil); !errors.Is(err, ErrVersionRequired) {
			t.Errorf("delete without a version: got %v, want ErrVersionRequired", err)
		}
		if _, err := x.s.Annotation(ctx, a.ID); err != nil {
			t.Fatalf("after a refused delete: got %v, want the annotation still there", err)
		}
		if err := x.s.DeleteAnnotation(ctx, Actor{Name: "bob"}, a.ID, ptr(1)); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if err := x.s.DeleteAnnotation(ctx, Actor{Name: "bob"}, a.ID, ptr(1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: got %v, want ErrNotFound", err)
		}
		if n := count(t, x.s, `SELECT COUNT(*) FROM revisions WHERE annotation_id = ? AND action = 'delete'`, a.ID); n != 1 {
			t.Errorf("got %d delete revisions, want 1", n)
		}
	})
}

// A delete removes the version it read and no other: had another writer changed the
// annotation after the read (another process on PostgreSQL), the delete is stale and
// the newer version stays, with no clashing revision.
func TestDeleteRemovesOnlyTheVersionRead(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		read := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		if _, err := x.s.UpdateAnnotation(ctx, "carol", read.ID, AnnotationInput{Version: ptr(1), Properties: json.RawMessage(`{"note":"newer"}`)}); err != nil {
			t.Fatalf("update: %v", err)
		}
		err := x.s.grouped(ctx, func(ctx context.Context, tx *sql.Tx) error {
			return x.s.deleteAnnotationTx(ctx, tx, "bob", read)
		})
		var stale *StaleVersionError
		if !errors.As(err, &stale) {
			t.Fatalf("deleting version 1 after version 2 was written: got %v, want a *StaleVersionError", err)
		}
		if a, err := x.s.Annotation(ctx, read.ID); err != nil || a.Version != 2 || a.Note != "newer" {
			t.Errorf("after the stale delete: got %+v, %v; want version 2 kept", a, err)
		}
		if n := count(t, x.s, `SELECT COUNT(*) FROM revisions WHERE annotation_id = ?`, read.ID); n != 2 {
			t.Errorf("got %d revisions, want 2 (create, update)", n)
		}
	})
}

// A failing revision insert must take the change down with it: the trigger stands in
// for any failure after the annotation row was written.
func TestRevisionIsWrittenInTheSameTransaction(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, `{"note":"kept"}`)
		refuseInserts(t, x.s, "refuse_revisions", "revisions", "", "revisions refused")

		if _, err := x.s.CreateAnnotation(ctx, "alice", x.img.ID, AnnotationInput{Label: ptr("vessel"), Shape: ptr(ShapePoint), Geometry: json.RawMessage(pointJSON)}); err == nil {
			t.Errorf("create: got no error, want the revision failure")
		}
		if n := count(t, x.s, `SELECT COUNT(*) FROM annotations`); n != 1 {
			t.Errorf("create: got %d annotations, want 1 (no annotation without its revision)", n)
		}

		if _, err := x.s.UpdateAnnotation(ctx, "bob", a.ID, AnnotationInput{Version: ptr(1), Properties: json.RawMessage(`{"note":"lost"}`)}); err == nil {
			t.Errorf("update: got no error, want the revision failure")
		}
		if got, _ := x.s.Annotation(ctx, a.ID); got.Version != 1 || got.Note != "kept" {
			t.Errorf("update: got version %d note %q, want version 1 \"kept\"", got.Version, got.Note)
		}

		if err := x.s.DeleteAnnotation(ctx, Actor{Name: "bob"}, a.ID, ptr(1)); err == nil {
			t.Errorf("delete: got no error, want the revision failure")
		}
		if _, err := x.s.Annotation(ctx, a.ID); err != nil {
			t.Errorf("delete: got %v, want the annotation still there", err)
		}

		if _, err := trashAndPurge(t, x.s, "bob", x.img.ID); err == nil {
			t.Errorf("purge image: got no error, want the revision failure")
		}
		if trash, err := x.s.Trash(ctx); err != nil || len(trash) != 1 || trash[0].AnnotationCount != 1 {
			t.Errorf("purge image: got trash %+v (%v), want the image still there with its annotation", trash, err)
		}
		if n := count(t, x.s, `SELECT COUNT(*) FROM revisions`); n != 1 {
			t.Errorf("got %d revisions, want only the first create", n)
		}
	})
}

func TestAnnotationsFilter(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		other := addImage(t, x.s, "other", 50, 50, Provenance{})
		onA := []Annotation{
			addAnnotation(t, x.s, "alice", x.img.ID, x.vessel.ID, ShapePoint, pointJSON, ""),
			addAnnotation(t, x.s, "alice", x.img.ID, x.sub.ID, ShapePoint, pointJSON, ""),
			addAnnotation(t, x.s, "alice", x.img.ID, x.naval.ID, ShapePoint, pointJSON, ""),
		}
		onB := []Annotation{
			addAnnotation(t, x.s, "alice", other.ID, x.landing.ID, ShapePoint, pointJSON, ""),
			addAnnotation(t, x.s, "alice", other.ID, x.naval.ID, ShapePoint, pointJSON, ""),
		}
		tests := []struct {
			name   string
			filter AnnotationFilter
			want   []Annotation
		}{
			{"ok, everything", AnnotationFilter{}, append(append([]Annotation{}, onA...), onB...)},
			{"ok, one image", AnnotationFilter{ImageIDs: []string{other.ID}}, onB},
			{"ok, label with its descendants", AnnotationFilter{LabelIDs: []string{x.vessel.ID}}, []Annotation{onA[0], onA[1], onB[0]}},
			{"ok, middle label with its child", AnnotationFilter{LabelIDs: []string{x.landing.ID}}, []Annotation{onA[1], onB[0]}},
			{"ok, image and label", AnnotationFilter{ImageIDs: []string{x.img.ID}, LabelIDs: []string{x.naval.ID}}, []Annotation{onA[2]}},
			{"ok, several labels", AnnotationFilter{LabelIDs: []string{x.sub.ID, x.naval.ID}}, []Annotation{onA[1], onA[2], onB[1]}},
			{"ok, unknown image selects nothing", AnnotationFilter{ImageIDs: []string{"img_aaaaaaaaaaaa"}}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := x.s.Annotations(ctx, tt.filter)
				if err != nil {
					t.Fatalf("annotations: %v", err)
				}
				if ids(got) != ids(tt.want) {
					t.Errorf("got %s, want %s", ids(got), ids(tt.want))
				}
				var each []Annotation
				if err := x.s.EachAnnotation(ctx, tt.filter, func(a Annotation) error { each = append(each, a); return nil }); err != nil {
					t.Fatalf("each: %v", err)
				}
				if ids(each) != ids(got) {
					t.Errorf("EachAnnotation: got %s, want the same as Annotations: %s", ids(each), ids(got))
				}
			})
		}
	})
}

// ids lists annotation ids sorted: across images the store orders by image id, which is
// random.
func ids(as []Annotation) string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.ID)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func TestAnnotationsOrderWithinImageIsCreationOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		// Steps of 10 ms from .09 s give fractions such as .1 and .11 that only sort
		// correctly when stored at a fixed width.
		stepClock(t, x.s, time.Date(2024, 10, 18, 9, 0, 0, 90_000_000, time.UTC), 10*time.Millisecond)
		var want []string
		for i := 0; i < 12; i++ {
			want = append(want, addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "").ID)
		}
		got, err := x.s.Annotations(ctx, AnnotationFilter{ImageIDs: []string{x.img.ID}})
		if err != nil {
			t.Fatalf("annotations: %v", err)
		}
		var gotIDs []string
		for _, a := range got {
			gotIDs = append(gotIDs, a.ID)
		}
		if strings.Join(gotIDs, "\n") != strings.Join(want, "\n") {
			t.Errorf("got\n%s\nwant creation order\n%s", strings.Join(gotIDs, "\n"), strings.Join(want, "\n"))
		}
	})
}

func TestEachAnnotationStopsOnError(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		for i := 0; i < 3; i++ {
			addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
		}
		errStop := errors.New("client went away")
		calls := 0
		err := x.s.EachAnnotation(ctx, AnnotationFilter{}, func(Annotation) error {
			calls++
			return errStop
		})
		if !errors.Is(err, errStop) || calls != 1 {
			t.Errorf("got %v after %d calls, want %v after 1", err, calls, errStop)
		}
	})
}

// Two analysts save the same annotation from the same version at the same moment:
// exactly one wins and the other is told its version is stale.
func TestConcurrentUpdatesFromTheSameVersion(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		for round := 0; round < 10; round++ {
			a := addAnnotation(t, x.s, "alice", x.img.ID, "vessel", ShapePoint, pointJSON, "")
			start := make(chan struct{})
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, actor := range []string{"bob", "carol"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, errs[i] = x.s.UpdateAnnotation(ctx, actor, a.ID, AnnotationInput{
						Version: ptr(1), Properties: json.RawMessage(`{"note":"seen by ` + actor + `"}`),
					})
				}()
			}
			close(start)
			wg.Wait()
			var ok, stale int
			for _, err := range errs {
				var se *StaleVersionError
				switch {
				case err == nil:
					ok++
				case errors.As(err, &se) && se.Current == 2:
					stale++
				default:
					t.Errorf("round %d: got %v, want success or a stale version at 2", round, err)
				}
			}
			if ok != 1 || stale != 1 {
				t.Fatalf("round %d: got %d successes and %d stale errors, want 1 and 1 (errors: %v)", round, ok, stale, errs)
			}
			if n := count(t, x.s, `SELECT COUNT(*) FROM revisions WHERE annotation_id = ?`, a.ID); n != 2 {
				t.Errorf("round %d: got %d revisions, want 2", round, n)
			}
		}
	})
}

// AttributeNames finds in SQL the names an export would find walking every annotation
// the filter selects: the walk is the oracle.
func TestAttributeNamesAreThoseOfTheAnnotations(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		x := newAnnotated(t)
		other := addImage(t, x.s, "other", 50, 50, Provenance{})
		trashed := addImage(t, x.s, "trashed", 50, 50, Provenance{})
		addAnnotation(t, x.s, "alice", x.img.ID, x.vessel.ID, ShapePoint, pointJSON, `{"hull":"BDK-61","count":3,"note":"kept apart"}`)
		addAnnotation(t, x.s, "alice", x.img.ID, x.sub.ID, ShapePoint, pointJSON, `{"tags":["a"],"Zulu":null,"é\u00e9 \"q\"":1}`)
		addAnnotation(t, x.s, "alice", x.img.ID, x.naval.ID, ShapePoint, pointJSON, "")
		addAnnotation(t, x.s, "alice", other.ID, x.landing.ID, ShapePoint, pointJSON, `{"hull":"other","pier":{"n":3}}`)
		addAnnotation(t, x.s, "alice", trashed.ID, x.naval.ID, ShapePoint, pointJSON, `{"only_in_trash":true}`)
		if _, err := x.s.TrashImage(ctx, Actor{Name: "alice"}, trashed.ID); err != nil {
			t.Fatalf("trash: %v", err)
		}
		walked := func(f AnnotationFilter) []string {
			t.Helper()
			seen := map[string]bool{}
			if err := x.s.EachAnnotation(ctx, f, func(a Annotation) error {
				for k := range a.Attributes {
					seen[k] = true
				}
				return nil
			}); err != nil {
				t.Fatalf("each: %v", err)
			}
			names := []string{}
			for k := range seen {
				names = append(names, k)
			}
			sort.Strings(names)
			return names
		}
		tests := []struct {
			name   string
			filter AnnotationFilter
		}{
			{"ok, everything but the trash", AnnotationFilter{}},
			{"ok, one image", AnnotationFilter{ImageIDs: []string{other.ID}}},
			{"ok, both images", AnnotationFilter{ImageIDs: []string{x.img.ID, other.ID}}},
			{"ok, label with its descendants", AnnotationFilter{LabelIDs: []string{x.landing.ID}}},
			{"ok, a label without attributes", AnnotationFilter{LabelIDs: []string{x.naval.ID}}},
			{"ok, a status no annotation has", AnnotationFilter{Statuses: []string{"approved"}}},
			{"ok, the image in the trash", AnnotationFilter{ImageIDs: []string{trashed.ID}}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := x.s.AttributeNames(ctx, tt.filter)
				if err != nil {
					t.Fatalf("attribute names: %v", err)
				}
				want := walked(tt.filter)
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Errorf("got %q, want %q", got, want)
				}
			})
		}
	})
}

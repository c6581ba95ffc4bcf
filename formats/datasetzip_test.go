package formats

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unsafe"

	"github.com/satmark/satmark/annotations"
)

// TestManifestIsEncodingJSONs checks writeManifest against what a json.Encoder indenting
// by two spaces writes for the same manifest, the way it was written before.
func TestManifestIsEncodingJSONs(t *testing.T) {
	img, _ := encoderCases()
	m := manifest{Format: "yolo", Coordinates: PixelCoordinateNote, Annotations: 3,
		Images: []manifestImage{{FileName: "a <b>.jpg", imageRef: refOf(img), Provenance: provenanceOf(img)}}}
	tests := []struct {
		name    string
		omitted []Omission
	}{
		{"ok, nothing left out", nil},
		{"ok, points and lines left out", []Omission{
			{AnnotationID: "ann_1", ImageID: img.ID, Shape: annotations.ShapePoint, Reason: "YOLO detect has no points: use GeoJSON, CSV or CVAT XML for them"},
			{AnnotationID: "ann_<2>&\"x\"", ImageID: img.ID, Shape: annotations.ShapeLine, Reason: "YOLO detect has no lines\u2028"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			old := m
			old.Omitted = tc.omitted
			if old.Omitted == nil {
				old.Omitted = []Omission{}
			}
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			if err := enc.Encode(old); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := writeManifest(&got, m, tc.omitted); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("manifest:\n got %s\nwant %s", got.String(), want.String())
			}
		})
	}
}

// TestOmissionsKeepCopiesOfTheIDs: an omission must not hold on to the row its
// annotation's strings were sliced from (the walk's packed row on SQLite), or an export
// leaving out 40,000 points keeps 40,000 rows until the manifest is written.
func TestOmissionsKeepCopiesOfTheIDs(t *testing.T) {
	row := func(id string) string {
		return `["` + id + `","img_harbour","point",` + strings.Repeat(`"x",`, 40) + `"end"]`
	}
	within := func(s, in string) bool {
		p, lo := uintptr(unsafe.Pointer(unsafe.StringData(s))), uintptr(unsafe.Pointer(unsafe.StringData(in)))
		return p >= lo && p < lo+uintptr(len(in))
	}
	var left []Omission
	var rows []string
	for _, id := range []string{"ann_1", "ann_2"} {
		r := row(id)
		rows = append(rows, r)
		a := annotations.Annotation{ID: r[2 : 2+len(id)], ImageID: r[5+len(id) : 5+len(id)+len("img_harbour")],
			Shape: annotations.Shape(r[8+len(id)+len("img_harbour") : 8+len(id)+len("img_harbour")+len("point")])}
		if a.ID != id || a.ImageID != "img_harbour" || a.Shape != annotations.ShapePoint {
			t.Fatalf("test row sliced wrong: %q %q %q", a.ID, a.ImageID, a.Shape)
		}
		left = appendOmitted(left, a, "YOLO detect")
	}
	for i, o := range left {
		for _, r := range rows {
			if within(o.AnnotationID, r) || within(o.ImageID, r) || within(string(o.Shape), r) {
				t.Errorf("omission %d (%s) holds a slice of its annotation's row", i, o.AnnotationID)
			}
		}
	}
	if unsafe.StringData(left[0].ImageID) != unsafe.StringData(left[1].ImageID) {
		t.Error("two omissions of one image hold two copies of its id")
	}
	if left[1].Reason != "YOLO detect has no points: use GeoJSON, CSV or CVAT XML for them" {
		t.Errorf("reason: %q", left[1].Reason)
	}
}

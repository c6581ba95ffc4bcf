package formats

import (
	"bytes"
	"encoding/json"
	"testing"

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

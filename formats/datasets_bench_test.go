package formats_test

import (
	"io"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// manyShips is a dataset of one image with n rotated rectangles, emitted from a template.
func manyShips(b *testing.B, n int) formats.Dataset {
	b.Helper()
	d, anns := dataset(&testing.T{})
	ship := anns[0]
	d.Images = d.Images[:1]
	d.Annotations = func(ids []string, emit func(annotations.Annotation) error) error {
		for i := 0; i < n; i++ {
			if err := emit(ship); err != nil {
				return err
			}
		}
		return nil
	}
	return d
}

// BenchmarkDatasetExports100k writes 100,000 annotations in each single-file format:
//
//	go test ./formats -run '^$' -bench DatasetExports100k -benchmem
func BenchmarkDatasetExports100k(b *testing.B) {
	d := manyShips(b, 100_000)
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"coco", func(w io.Writer) error { _, err := formats.WriteCOCO(w, d); return err }},
		{"cvat", func(w io.Writer) error { return formats.WriteCVAT(w, d) }},
		{"csv", func(w io.Writer) error { return formats.WriteCSV(w, d) }},
		{"yolo-obb", func(w io.Writer) error {
			_, err := formats.WriteYOLO(w, d.Images[0], formats.ClassesOf(d.Labels), true, func(emit func(annotations.Annotation) error) error {
				return d.Annotations([]string{d.Images[0].ID}, emit)
			})
			return err
		}},
	} {
		b.Run(f.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := f.write(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

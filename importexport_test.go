package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
)

// storeOf opens a data folder's database for a test to look at, closed when it ends.
func storeOf(t *testing.T, data string) *annotations.Store {
	t.Helper()
	s, err := annotations.Open(filepath.Join(data, "satmark.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// placedImage is the seeded port scene that is placed on the earth, with its annotations.
func placedImage(t *testing.T, s *annotations.Store) (annotations.Image, []annotations.Annotation) {
	t.Helper()
	ctx := context.Background()
	imgs, err := s.Images(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range imgs {
		if _, err := s.Georeference(ctx, img.ID); err == nil {
			anns, err := s.Annotations(ctx, annotations.AnnotationFilter{ImageIDs: []string{img.ID}})
			if err != nil {
				t.Fatal(err)
			}
			return img, anns
		}
	}
	t.Fatal("no seeded image is georeferenced")
	return annotations.Image{}, nil
}

// TestImportAndExportCommands exports a seeded image's annotations with `satmark export`,
// in GeoJSON and as a COCO dataset, and imports them with `satmark import` into another
// copy of the folder: a dry run first, then for real under an analyst's name.
func TestImportAndExportCommands(t *testing.T) {
	from := seededData(t)
	into := seededData(t)
	img, anns := placedImage(t, storeOf(t, from))
	out := t.TempDir()

	geojson := filepath.Join(out, "port.geojson")
	text, err := satmark(t, "export", "--data", from, "--image", img.ID, "--format", "geojson", geojson)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, text)
	}
	// Into a pipe, progress is plain lines.
	if !strings.Contains(text, "Exporting annotations: ") || !strings.Contains(text, "(100%)") || !strings.Contains(text, "Exported ") {
		t.Errorf("export said: %s", text)
	}
	var fc struct {
		Georeferencing json.RawMessage   `json:"georeferencing"`
		Features       []json.RawMessage `json:"features"`
	}
	b, _ := os.ReadFile(geojson)
	if err := json.Unmarshal(b, &fc); err != nil || fc.Georeferencing == nil || len(fc.Features) != len(anns) {
		t.Fatalf("export wrote %d features (georeferencing %s, %v), want lon/lat GeoJSON of %d", len(fc.Features), fc.Georeferencing, err, len(anns))
	}

	cliToken(t, into, "kim", "analyst")
	s := storeOf(t, into)
	_, before := placedImage(t, s)
	text, err = satmark(t, "import", "--data", into, "--image", img.ID, "--dry-run", geojson)
	if err != nil || !strings.Contains(text, "Dry run: would import") || !strings.Contains(text, "Reading port.geojson (KiB): ") {
		t.Fatalf("dry run: %v\n%s", err, text)
	}
	if _, now := placedImage(t, s); len(now) != len(before) {
		t.Fatalf("a dry run changed the annotations: %d, was %d", len(now), len(before))
	}
	text, err = satmark(t, "import", "--data", into, "--image", img.ID, "--as", "kim", "--json", geojson)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, text)
	}
	var rep annotations.ImportReport
	if err := json.Unmarshal([]byte(text[strings.Index(text, "{"):strings.LastIndex(text, "}")+1]), &rep); err != nil || rep.Created != len(anns) {
		t.Fatalf("import reported %+v (%v): %s", rep, err, text)
	}
	_, now := placedImage(t, s)
	if len(now) != len(before)+len(anns) {
		t.Fatalf("got %d annotations, want %d", len(now), len(before)+len(anns))
	}
	last := now[len(now)-1]
	if last.CreatedBy != "kim" {
		t.Errorf("imported as %q, want kim", last.CreatedBy)
	}
	audit, err := s.AuditLog(context.Background(), annotations.AuditFilter{Action: "annotation.import"})
	if err != nil || len(audit) != 1 || audit[0].Actor != "kim" || !strings.Contains(audit[0].Detail, "from the shell") {
		t.Errorf("audit: %+v %v", audit, err)
	}

	coco := filepath.Join(out, "port-coco.zip")
	if text, err := satmark(t, "export", "--data", from, "--image", img.ID, "--format", "coco", coco); err != nil {
		t.Fatalf("export coco: %v\n%s", err, text)
	}
	if text, err := satmark(t, "import", "--data", into, "--image", img.ID, "--dry-run", coco, "--format", "coco"); err != nil || !strings.Contains(text, "(coco)") {
		t.Errorf("coco dry run: %v\n%s", err, text)
	}
	folder := filepath.Join(out, "yolo")
	if text, err := satmark(t, "export", "--data", from, "--image", img.ID, "--format", "yolo-obb", folder); err != nil {
		t.Fatalf("export yolo-obb into a folder: %v\n%s", err, text)
	}
	labels, _ := filepath.Glob(filepath.Join(folder, "labels", "*.txt"))
	if len(labels) != 1 {
		t.Fatalf("the YOLO folder has label files %v", labels)
	}
	// The class names come from the dataset's classes.txt above labels/.
	text, err = satmark(t, "import", "--data", into, "--image", img.ID, "--dry-run", "--format", "yolo-obb", labels[0])
	if err != nil || strings.Contains(text, "lacks") {
		t.Errorf("yolo-obb dry run: %v\n%s", err, text)
	}
}

func TestImportCommandRefusesBadInput(t *testing.T) {
	data := seededData(t)
	s := storeOf(t, data)
	img, before := placedImage(t, s)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	broken := write("broken.geojson", `{"type":"FeatureCollection","features":[
		{"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[-5,10]},"properties":{"label":"vessel"}},
		{"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[5,10]},"properties":{"label":"submarine"}},
		{"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[6,10]},"properties":{"label":"vessel"}}]}`)
	cliToken(t, data, "vera", "viewer")
	for _, c := range []struct {
		name  string
		args  []string
		words []string
	}{
		{"refused features", []string{broken}, []string{"Refused: imported 0 of 3", "outside the image", `"submarine": 1 features`, "feature 2 (id b)", "used again", "nothing was imported"}},
		{"no image", []string{broken, "--image", ""}, []string{"--image ID"}},
		{"unknown image", []string{broken, "--image", "img_aaaaaaaaaaaa"}, []string{"not found"}},
		{"unknown format", []string{broken, "--format", "shp2"}, []string{"not a format", "geojson", "cvat"}},
		{"a format that cannot be guessed", []string{write("labels.txt", "0 0.5 0.5 0.1 0.1\n")}, []string{"--format"}},
		{"a viewer", []string{broken, "--as", "vera"}, []string{"needs an analyst"}},
		{"not JSON", []string{write("bad.geojson", `{"type":"FeatureCollection","features":[`)}, []string{"ends before"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"import", "--data", data, "--image", img.ID}, c.args...)
			text, err := satmark(t, args...)
			if err == nil {
				t.Fatalf("satmark import succeeded: %s", text)
			}
			for _, w := range c.words {
				if !strings.Contains(text, w) {
					t.Errorf("output does not say %q:\n%s", w, text)
				}
			}
		})
	}
	if _, now := placedImage(t, s); len(now) != len(before) {
		t.Errorf("refused imports changed the annotations: %d, was %d", len(now), len(before))
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatasetCommand cuts the sample scenes into a YOLO-OBB dataset folder and checks
// what a trainer would open: data.yaml naming the splits, each chip image with its label
// file, and the card.
func TestDatasetCommand(t *testing.T) {
	data := seededData(t)
	out := filepath.Join(t.TempDir(), "ds")
	got, err := satmark(t, "dataset", out, "--format", "yolo-obb", "--chip", "1024", "--overlap", "128", "--split", "0.34,0.33,0.33", "--data", data)
	if err != nil {
		t.Fatalf("satmark dataset: %v\n%s", err, got)
	}
	if !strings.Contains(got, "Wrote a yolo-obb dataset of 3 images") {
		t.Errorf("dataset said %q", got)
	}
	yaml, err := os.ReadFile(filepath.Join(out, "data.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"train: train/images", "val: val/images", "test: test/images", "names:"} {
		if !strings.Contains(string(yaml), want) {
			t.Errorf("data.yaml lacks %q:\n%s", want, yaml)
		}
	}
	var card struct {
		Splits map[string]struct{ Chips, Annotations int } `json:"splits"`
		Images []struct{ Split string }                    `json:"images"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "dataset.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatal(err)
	}
	chips, pieces := 0, 0
	for split, sc := range card.Splits {
		imgs, _ := filepath.Glob(filepath.Join(out, split, "images", "*.jpg"))
		labels, _ := filepath.Glob(filepath.Join(out, split, "labels", "*.txt"))
		if len(imgs) != sc.Chips || len(labels) != sc.Chips {
			t.Errorf("%s: %d images and %d label files, the card says %d chips", split, len(imgs), len(labels), sc.Chips)
		}
		lines := 0
		for _, l := range labels {
			b, _ := os.ReadFile(l)
			lines += strings.Count(string(b), "\n")
		}
		if lines > sc.Annotations {
			t.Errorf("%s: %d label lines, more than the card's %d annotations", split, lines, sc.Annotations)
		}
		chips += sc.Chips
		pieces += lines
	}
	if len(card.Images) != 3 || chips == 0 || pieces == 0 {
		t.Errorf("card has %d images, %d chips, %d labelled boxes", len(card.Images), chips, pieces)
	}
	readme, _ := os.ReadFile(filepath.Join(out, "README.md"))
	if !strings.Contains(string(readme), "synthetic") {
		t.Error("the dataset card does not carry the sample images' own word that they are synthetic")
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dataset", out, "--format", "coco", "--data", data}, "is not empty"},
		{[]string{"dataset", filepath.Join(t.TempDir(), "x"), "--data", data}, "say which format"},
		{[]string{"dataset", filepath.Join(t.TempDir(), "x"), "--format", "coco", "--split", "1,1", "--data", data}, "three shares"},
		{[]string{"dataset", filepath.Join(t.TempDir(), "x"), "--format", "tiff", "--data", data}, "unknown dataset format"},
		{[]string{"dataset", filepath.Join(t.TempDir(), "x"), "--format", "coco", "--image", "img_nope", "--data", data}, "not found"},
	} {
		got, err := satmark(t, c.args...)
		if err == nil || !strings.Contains(got, c.want) {
			t.Errorf("satmark %v: %v\n%s\nwant an error saying %q", c.args, err, got, c.want)
		}
	}
}

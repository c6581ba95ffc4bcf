package dataset

import (
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
)

func source(id string, w, h int, sites []string, anns ...annotations.Annotation) Source {
	img := annotations.Image{ID: id, Title: "scene " + id, Width: w, Height: h, SHA256: strings.Repeat("a", 64),
		Source: annotations.Source{Publisher: "Ministry of Examples", Credit: "© Example Agency", License: "CC BY 4.0", ReleasedAt: "2024-10-18"}}
	for i := range anns {
		anns[i].ImageID = id
	}
	return Source{Image: img, Sites: sites, Annotations: anns}
}

func box(id, label string, x0, y0, x1, y1 float64) annotations.Annotation {
	return annotations.Annotation{ID: id, Shape: annotations.ShapeRectangle, Label: annotations.Label{Name: label, Path: []string{"vessel", label}},
		Geometry: annotations.PolygonGeometry(rect(x0, y0, x1, y1))}
}

func TestCut(t *testing.T) {
	sources := []Source{
		// 1000×1000 in 512 chips, overlap 24: 2×2 chips at 0 and 488.
		source("img_a", 1000, 1000, []string{"site_port"},
			box("a1", "frigate", 10, 10, 60, 40),     // in chip (0,0) only
			box("a2", "frigate", 480, 100, 530, 130), // across x 488..512: both chips of the top row see part
			box("a3", "landing ship", 600, 600, 700, 650),
			box("a4", "frigate", 990, 995, 1000, 1000)), // a sliver, in one chip
		source("img_b", 512, 512, []string{"site_port"}),
		source("img_c", 512, 512, nil, box("c1", "landing ship", 100, 100, 200, 150)),
	}
	o := Options{ChipSize: 512, Overlap: 24, MinVisible: 0.5, EmptyRatio: 0, Shares: Shares{Train: 1}, By: BySite, Seed: "x"}
	p, err := Cut(sources, o)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, c := range p.Chips {
		names[c.Name] = len(c.Pieces)
		if c.Split != Train {
			t.Errorf("chip %s in %s with every share in train", c.Name, c.Split)
		}
	}
	// a2 is 50 px wide: 8 px left of 488 … in chip (0,0) it shows 32/50 (kept), in chip
	// (488,0) 42/50 (kept).
	want := map[string]int{"img_a_0_0": 2, "img_a_488_0": 1, "img_a_488_488": 2, "img_c_0_0": 1}
	if len(names) != len(want) {
		t.Errorf("chips %v, want %v (empty ones dropped with ratio 0)", names, want)
	}
	for n, k := range want {
		if names[n] != k {
			t.Errorf("chip %s has %d annotations, want %d (all: %v)", n, names[n], k, names)
		}
	}
	if p.EmptyDropped != 2 { // img_a_0_488 and img_b
		t.Errorf("dropped %d empty chips, want 2", p.EmptyDropped)
	}
	if p.Dropped != 0 {
		t.Errorf("dropped %d annotations, want 0", p.Dropped)
	}
	// Pieces are in the chip's pixels and name the chip as their image.
	for _, c := range p.Chips {
		for _, pc := range c.Pieces {
			if pc.Annotation.ImageID != c.Name {
				t.Errorf("piece of %s names image %s", c.Name, pc.Annotation.ImageID)
			}
			x0, y0, x1, y1 := bounds(pc.Annotation.Geometry)
			if x0 < 0 || y0 < 0 || x1 > float64(c.Rect.W) || y1 > float64(c.Rect.H) {
				t.Errorf("piece of %s at %g,%g–%g,%g leaves the chip", c.Name, x0, y0, x1, y1)
			}
		}
	}

	// A stricter rule drops the sliver a4 (10×5 px, all in one chip, so it stays) and
	// nothing else; a rule of 0.9 drops a2 from chip (0,0) and from (488,0).
	o.MinVisible = 0.9
	p2, _ := Cut(sources, o)
	if p2.Dropped != 1 {
		t.Errorf("with 90 %% visible, %d annotations dropped, want 1 (a2)", p2.Dropped)
	}

	// Split by site keeps the two port images together.
	o.MinVisible, o.EmptyRatio, o.Shares = 0.5, -1, Shares{Train: 0.5, Test: 0.5}
	p3, err := Cut(sources, o)
	if err != nil {
		t.Fatal(err)
	}
	splitOf := map[string]string{}
	for _, c := range p3.Chips {
		if s, ok := splitOf[c.Source.Image.ID]; ok && s != c.Split {
			t.Errorf("chips of %s in %s and %s", c.Source.Image.ID, s, c.Split)
		}
		splitOf[c.Source.Image.ID] = c.Split
	}
	if splitOf["img_a"] != splitOf["img_b"] {
		t.Errorf("images of one site split apart: %v", splitOf)
	}
	if len(p3.Chips) != 4+1+1 {
		t.Errorf("with every empty chip kept, %d chips, want 6", len(p3.Chips))
	}

	card := NewCard(p, "port test", "coco", "accepted only", "test", 0, time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC))
	if card.Splits[Train].Chips != 4 || card.Splits[Train].Annotations != 6 || card.Splits[Train].Images != 2 {
		t.Errorf("card splits %+v", card.Splits)
	}
	if len(card.Classes) != 2 || card.Classes[0].Name != "vessel/frigate" || card.Classes[0].Total != 4 {
		t.Errorf("card classes %+v", card.Classes)
	}
	md := card.Markdown()
	for _, want := range []string{"© Example Agency — licence: CC BY 4.0", "| vessel/frigate | 4 | 0 | 0 | 4 |", "released by Ministry of Examples on 2024-10-18", "2 dropped"} {
		if !strings.Contains(md, want) {
			t.Errorf("card lacks %q:\n%s", want, md)
		}
	}

	for _, bad := range []Options{
		{ChipSize: 512, Overlap: 512, Shares: Shares{Train: 1}, By: ByImage},
		{ChipSize: 512, MinVisible: 1.5, Shares: Shares{Train: 1}, By: ByImage},
		{ChipSize: 512, Shares: Shares{Train: 1}, By: "label"},
		{ChipSize: 512, Shares: Shares{Train: 0.9}, By: ByImage},
	} {
		if _, err := Cut(sources, bad); err == nil {
			t.Errorf("options %+v: no error", bad)
		}
	}
}

package dataset

import (
	"fmt"
	"math"
	"sort"

	"github.com/satmark/satmark/annotations"
)

// Options say how to cut a dataset.
type Options struct {
	ChipSize   int     // pixels on a side; 0 means whole images, one chip each
	Overlap    int     // pixels neighbouring chips share
	MinVisible float64 // the share of an annotation a chip must show to carry it, 0 to 1
	// EmptyRatio bounds the chips without annotations: at most EmptyRatio × the chips
	// with annotations are kept (the rest dropped); below 0, every empty chip is kept.
	EmptyRatio float64
	Shares     Shares
	By         string // split by "image" or by "site"
	Seed       string // the same seed gives the same split and the same empty chips
}

// The ways a dataset can be split.
const (
	ByImage = "image"
	BySite  = "site"
)

// Check says what is wrong with the options, if anything.
func (o Options) Check() error {
	switch {
	case o.ChipSize < 0:
		return fmt.Errorf("chip size must be 0 (whole images) or positive, not %d", o.ChipSize)
	case o.ChipSize > 0 && (o.Overlap < 0 || o.Overlap >= o.ChipSize):
		return fmt.Errorf("overlap must be at least 0 and less than the chip size %d, not %d", o.ChipSize, o.Overlap)
	case o.MinVisible < 0 || o.MinVisible > 1 || math.IsNaN(o.MinVisible):
		return fmt.Errorf("the minimum visible share must be between 0 and 1, not %g", o.MinVisible)
	case o.By != ByImage && o.By != BySite:
		return fmt.Errorf("split by %q: use image or site", o.By)
	}
	return o.Shares.Check()
}

// Source is one image going into a dataset with the annotations it exports.
type Source struct {
	Image       annotations.Image
	Sites       []string // the sites it belongs to; splitting by site keeps it with the first
	Annotations []annotations.Annotation
}

// Chip is one image of the dataset: a part of a source image and what shows in it.
type Chip struct {
	Name   string // unique in the dataset: the image's id, and the chip's corner unless whole
	Source *Source
	Rect   Rect
	Split  string
	Pieces []Piece
}

// Plan is a dataset cut and split, before any pixel is read.
type Plan struct {
	Options Options
	Chips   []Chip   // by split, then source, then row by row
	Groups  []string // the groups split, sorted
	// Dropped counts the annotations that showed in no chip by the minimum-visible rule,
	// and EmptyDropped the empty chips thinned out.
	Dropped, EmptyDropped int
}

// Cut makes the plan: each source's chips with the annotations they show, each source in
// the split of its group, empty chips thinned.
func Cut(sources []Source, o Options) (Plan, error) {
	if err := o.Check(); err != nil {
		return Plan{}, err
	}
	group := func(s *Source) string {
		if o.By == BySite {
			if len(s.Sites) == 0 {
				return "image:" + s.Image.ID // an image in no site is a group of its own
			}
			return "site:" + s.Sites[0]
		}
		return s.Image.ID
	}
	var groups []string
	for i := range sources {
		groups = append(groups, group(&sources[i]))
	}
	split, err := Split(groups, o.Shares, o.Seed)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Options: o}
	for g := range split {
		p.Groups = append(p.Groups, g)
	}
	sort.Strings(p.Groups)
	var full []Chip
	var empty []Chip
	for i := range sources {
		s := &sources[i]
		rects := []Rect{{0, 0, s.Image.Width, s.Image.Height}}
		if o.ChipSize > 0 {
			if rects, err = Grid(s.Image.Width, s.Image.Height, o.ChipSize, o.Overlap); err != nil {
				return Plan{}, fmt.Errorf("image %s: %w", s.Image.ID, err)
			}
		}
		shown := make([]bool, len(s.Annotations))
		for _, r := range rects {
			c := Chip{Name: s.Image.ID, Source: s, Rect: r, Split: split[group(s)]}
			if o.ChipSize > 0 {
				c.Name = fmt.Sprintf("%s_%d_%d", s.Image.ID, r.X, r.Y)
			}
			for j, a := range s.Annotations {
				if piece, ok := Clip(a, r, o.MinVisible); ok {
					piece.Annotation.ImageID = c.Name
					c.Pieces = append(c.Pieces, piece)
					shown[j] = true
				}
			}
			if len(c.Pieces) > 0 {
				full = append(full, c)
			} else {
				empty = append(empty, c)
			}
		}
		for _, ok := range shown {
			if !ok {
				p.Dropped++
			}
		}
	}
	keep := empty
	if o.EmptyRatio >= 0 {
		names := make([]string, len(empty))
		for i, c := range empty {
			names[i] = c.Name
		}
		kept := map[string]bool{}
		for _, n := range Thin(names, len(full), o.EmptyRatio, o.Seed) {
			kept[n] = true
		}
		keep = nil
		for _, c := range empty {
			if kept[c.Name] {
				keep = append(keep, c)
			}
		}
	}
	p.EmptyDropped = len(empty) - len(keep)
	order := map[string]int{Train: 0, Val: 1, Test: 2}
	index := map[*Source]int{}
	for i := range sources {
		index[&sources[i]] = i
	}
	p.Chips = append(full, keep...)
	sort.SliceStable(p.Chips, func(i, j int) bool {
		a, b := p.Chips[i], p.Chips[j]
		if a.Split != b.Split {
			return order[a.Split] < order[b.Split]
		}
		if a.Source != b.Source {
			return index[a.Source] < index[b.Source]
		}
		if a.Rect.Y != b.Rect.Y {
			return a.Rect.Y < b.Rect.Y
		}
		return a.Rect.X < b.Rect.X
	})
	return p, nil
}

// In returns the chips of one split.
func (p Plan) In(split string) []Chip {
	var out []Chip
	for _, c := range p.Chips {
		if c.Split == split {
			out = append(out, c)
		}
	}
	return out
}

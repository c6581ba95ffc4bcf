package dataset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/formats"
)

// Pixels gives the bytes of a chip of an image: the rectangle at full resolution, as
// JPEG.
type Pixels func(img annotations.Image, r Rect) ([]byte, error)

// Write writes the planned dataset into sink:
//
//	README.md, dataset.json   the card
//	data.yaml                 for YOLO and YOLO-OBB: the splits, for Ultralytics
//	<split>/                  train, val and test, each laid out as formats.WriteDataset
//	                          lays out format (with its satmark-export.json), its images
//	                          the chips as JPEG
//
// A split without chips has no folder. card is completed with what the format left out
// and returned as written.
func Write(sink formats.Sink, p Plan, format string, labels []annotations.Label, card Card, pixels Pixels) (Card, error) {
	if !isFormat(format) {
		return card, fmt.Errorf("unknown dataset format %q (use %s)", format, strings.Join(formats.DatasetFormats, ", "))
	}
	present := map[string]bool{}
	for _, split := range []string{Train, Val, Test} {
		chips := p.In(split)
		if len(chips) == 0 {
			continue
		}
		present[split] = true
		d, byName := chipDataset(chips, labels)
		left, err := formats.WriteDataset(prefixed{sink, split + "/"}, format, d, func(img formats.DatasetImage) (io.ReadCloser, error) {
			c := byName[img.ID]
			b, err := pixels(c.Source.Image, c.Rect)
			if err != nil {
				return nil, fmt.Errorf("chip %s of image %s: %w", c.Name, c.Source.Image.ID, err)
			}
			return io.NopCloser(bytes.NewReader(b)), nil
		})
		if err != nil {
			return card, err
		}
		card.Omitted += len(left)
	}
	if format == "yolo" || format == "yolo-obb" {
		f, err := sink.Create("data.yaml", false)
		if err != nil {
			return card, err
		}
		name := func(s string) string {
			if present[s] {
				return s
			}
			return ""
		}
		if err := formats.WriteYOLOSplitData(f, formats.ClassesOf(labels), format == "yolo-obb", name(Train), name(Val), name(Test)); err != nil {
			return card, err
		}
	}
	f, err := sink.Create("dataset.json", false)
	if err != nil {
		return card, err
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(card); err != nil {
		return card, err
	}
	if f, err = sink.Create("README.md", false); err != nil {
		return card, err
	}
	_, err = io.WriteString(f, card.Markdown())
	return card, err
}

func isFormat(f string) bool {
	for _, g := range formats.DatasetFormats {
		if f == g {
			return true
		}
	}
	return false
}

// chipDataset makes the chips of one split a formats.Dataset: each chip an image of its
// own (named by the chip, with its source image's release), its pieces its annotations.
func chipDataset(chips []Chip, labels []annotations.Label) (formats.Dataset, map[string]Chip) {
	images := make([]annotations.Image, len(chips))
	byName := make(map[string]Chip, len(chips))
	for i, c := range chips {
		img := c.Source.Image
		img.ID, img.Width, img.Height = c.Name, c.Rect.W, c.Rect.H
		img.Filename, img.MediaType = c.Name+".jpg", "image/jpeg"
		img.Title = fmt.Sprintf("%s, pixels %d,%d–%d,%d", img.Title, c.Rect.X, c.Rect.Y, c.Rect.X+c.Rect.W, c.Rect.Y+c.Rect.H)
		img.GSD, img.Georeferenced = c.Source.Image.GSD, false // chips are not placed: lon/lat would need the source's transform
		images[i] = img
		byName[c.Name] = c
	}
	attrs := []string{}
	seen := map[string]bool{}
	for _, c := range chips {
		for _, pc := range c.Pieces {
			for k := range pc.Annotation.Attributes {
				if !seen[k] {
					seen[k] = true
					attrs = append(attrs, k)
				}
			}
		}
	}
	if truncated(chips) {
		attrs = append(attrs, "truncated", "visible_share")
	}
	sort.Strings(attrs)
	d := formats.Dataset{Images: formats.DatasetImages(images), Labels: labels, AttributeNames: attrs,
		Annotations: func(ids []string, emit func(annotations.Annotation) error) error {
			for _, id := range ids {
				for _, pc := range byName[id].Pieces {
					if err := emit(pc.marked()); err != nil {
						return err
					}
				}
			}
			return nil
		}}
	return d, byName
}

// prefixed puts every file of a sink in a folder.
type prefixed struct {
	formats.Sink
	dir string
}

func (p prefixed) Create(name string, stored bool) (io.Writer, error) {
	return p.Sink.Create(p.dir+name, stored)
}

func truncated(chips []Chip) bool {
	for _, c := range chips {
		for _, pc := range c.Pieces {
			if pc.Truncated {
				return true
			}
		}
	}
	return false
}

// marked is the piece's annotation, saying in its attributes when the chip's edge cut
// it and how much of it shows.
func (p Piece) marked() annotations.Annotation {
	if !p.Truncated {
		return p.Annotation
	}
	a := p.Annotation
	attrs := make(map[string]json.RawMessage, len(a.Attributes)+2)
	for k, v := range a.Attributes {
		attrs[k] = v
	}
	attrs["truncated"] = json.RawMessage("true")
	attrs["visible_share"] = json.RawMessage(strconv.FormatFloat(math.Round(p.Visible*1000)/1000, 'f', -1, 64))
	a.Attributes = attrs
	return a
}

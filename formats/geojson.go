// Package formats writes satmark's annotations in the formats its neighbours read. Every
// writer is a pure function of domain values and streams to an io.Writer.
package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/satmark/satmark/annotations"
)

// PixelGeoJSONMediaType is the media type of a pixel-space export. It is deliberately not
// application/geo+json: RFC 7946 coordinates are WGS 84 longitude and latitude.
const PixelGeoJSONMediaType = "application/json"

// PixelCoordinateNote is the sentence every pixel-space export carries at its top.
const PixelCoordinateNote = "Coordinates are full-resolution image pixels: origin at the top-left corner of the " +
	"top-left pixel, x to the right, y down. They are not WGS 84 longitude/latitude (not RFC 7946)."

type imageRef struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Title  string `json:"title"`
}

func refOf(img annotations.Image) imageRef {
	return imageRef{ID: img.ID, SHA256: img.SHA256, Width: img.Width, Height: img.Height, Title: img.Title}
}

type coordinateSpace struct {
	Type   string     `json:"type"`
	Units  string     `json:"units"`
	Origin string     `json:"origin"`
	YAxis  string     `json:"y_axis"`
	Note   string     `json:"note"`
	Image  *imageRef  `json:"image,omitempty"`
	Images []imageRef `json:"images,omitempty"`
}

type provenance struct {
	Publisher       string `json:"publisher"`
	Title           string `json:"title"`
	SourceURL       string `json:"source_url"`
	ReleasedAt      string `json:"released_at"`
	Credit          string `json:"credit"`
	License         string `json:"license"`
	CapturedFrom    string `json:"captured_from"`
	CapturedTo      string `json:"captured_to"`
	LocationName    string `json:"location_name"`
	Claim           string `json:"claim"`
	PublisherMarkup bool   `json:"publisher_markup"`
	// Claims are all the release's claims, where the export has them.
	Claims []annotations.ClaimRef `json:"claims,omitempty"`
}

// classification is a QuPath PathClass: a label at the top of the taxonomy by its name, a
// label below it by its path (QuPath's derived classes), as QuPath writes them. QuPath reads
// "name" before "names", so only one is written.
type classification struct {
	Name  string   `json:"name,omitempty"`
	Names []string `json:"names,omitempty"`
	Color [3]int   `json:"color"`
}

// classificationOf is a label as a QuPath class. QuPath's class delimiter, ":", becomes
// "-" in each name: PathClass refuses a name holding it, and one such feature makes
// QuPath import nothing. label_path keeps the names as they are.
func classificationOf(l annotations.Label) classification {
	path := l.Path
	if len(path) == 0 {
		path = []string{l.Name}
	}
	names := make([]string, len(path))
	for i, n := range path {
		names[i] = strings.ReplaceAll(n, ":", "-")
	}
	c := classification{Color: rgb(l.Color)}
	if len(names) == 1 {
		c.Name = names[0]
	} else {
		c.Names = names
	}
	return c
}

// reviewRef is the decision behind a feature's review status: who submitted, accepted,
// disputed or rejected it, on which version, when and why.
type reviewRef struct {
	Decision string    `json:"decision"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Version  int       `json:"version"`
	Reason   string    `json:"reason,omitempty"`
}

// reviewOf is the export's account of the decision behind a's review state, if any.
func reviewOf(a annotations.Annotation) *reviewRef {
	d := a.Decision
	if d == nil || d.Decision != a.ReviewStatus {
		return nil
	}
	return &reviewRef{Decision: d.Decision, By: d.Reviewer, At: d.At, Version: d.Version, Reason: d.Reason}
}

// WritePixelGeoJSON writes a FeatureCollection in the image's pixel space, following
// QuPath's GeoJSON convention so QuPath can import it: objectType, classification {name or
// names, color}, measurements of numbers only, and satmark's own properties as QuPath's
// metadata, a map of strings. The top-level "coordinate_space" member says the coordinates
// are pixels and names the image; with more than one image it lists them all and each
// feature names its own. each is called once and must call emit for every annotation, in
// order; annotations whose image is not in images are an error.
func WritePixelGeoJSON(w io.Writer, images []annotations.Image, each func(emit func(annotations.Annotation) error) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	space := coordinateSpace{Type: "image-pixels", Units: "full-resolution pixels", Origin: "top-left", YAxis: "down", Note: PixelCoordinateNote}
	for _, img := range images {
		space.Images = append(space.Images, refOf(img))
	}
	if len(images) == 1 {
		space.Image, space.Images = &space.Images[0], nil
	}
	head, err := json.Marshal(space)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, `{"type":"FeatureCollection","coordinate_space":%s,"features":[`, head)
	enc, err := newFeatureEncoder(images)
	if err != nil {
		return err
	}
	features := featureList{w: bw}
	err = each(func(a annotations.Annotation) error {
		return features.finish(enc.appendPixelFeature(features.start(), a))
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// featureList writes the features of a collection one by one, separated by commas, each
// appended to the buffer it reuses.
type featureList struct {
	w   *bufio.Writer
	n   int
	buf []byte
}

// start returns the buffer, emptied, with the separator before the next feature.
func (l *featureList) start() []byte {
	b := l.buf[:0]
	if l.n > 0 {
		b = append(b, ',')
	}
	l.n++
	return append(b, '\n')
}

// finish writes the feature appended to start's buffer, or returns err.
func (l *featureList) finish(b []byte, err error) error {
	if err != nil {
		return err
	}
	l.buf = b
	_, err = l.w.Write(b)
	return err
}

// measurements are the annotation's sizes in pixels and, when its caller filled them in,
// on the ground: numbers only, as QuPath's measurement list must be (one string there and
// QuPath imports nothing). What the ground sizes rest on is a.Ground.Basis.
func measurements(a annotations.Annotation) annotations.Measures {
	m := a.Geometry.Measure(a.Shape)
	m.Ground = a.Ground
	m.Basis = ""
	return m
}

// rgb turns "#rrggbb" into QuPath's [r, g, b].
func rgb(hex string) [3]int {
	var c [3]int
	if len(hex) != 7 {
		return c
	}
	for i := range c {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c[i] = int(v)
	}
	return c
}

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

type featureProperties struct {
	ObjectType     string                     `json:"objectType"`
	Name           string                     `json:"name"`
	Classification classification             `json:"classification"`
	Measurements   annotations.Measures       `json:"measurements"`
	Basis          string                     `json:"measurement_basis,omitempty"`
	Metadata       map[string]string          `json:"metadata"`
	LabelPath      []string                   `json:"label_path"`
	Shape          annotations.Shape          `json:"shape"`
	Confidence     string                     `json:"confidence"`
	Identification string                     `json:"identification"`
	Note           string                     `json:"note"`
	Attributes     map[string]json.RawMessage `json:"attributes"`
	ReviewStatus   string                     `json:"review_status"`
	Review         *reviewRef                 `json:"review,omitempty"`
	Track          *annotations.TrackRef      `json:"track,omitempty"`    // the object it follows across images
	Evidence       []annotations.EvidenceRef  `json:"evidence,omitempty"` // the claims it is evidence for or against
	Version        int                        `json:"version"`
	CreatedBy      string                     `json:"created_by"`
	CreatedAt      time.Time                  `json:"created_at"`
	UpdatedBy      string                     `json:"updated_by"`
	UpdatedAt      time.Time                  `json:"updated_at"`
	Image          imageRef                   `json:"image"`
	Provenance     provenance                 `json:"provenance"`
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

type feature struct {
	Type       string               `json:"type"`
	ID         string               `json:"id"`
	Geometry   annotations.Geometry `json:"geometry"`
	Properties featureProperties    `json:"properties"`
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
	byID := make(map[string]annotations.Image, len(images))
	space := coordinateSpace{Type: "image-pixels", Units: "full-resolution pixels", Origin: "top-left", YAxis: "down", Note: PixelCoordinateNote}
	for _, img := range images {
		byID[img.ID] = img
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
	features := featureList{w: bw}
	err = each(func(a annotations.Annotation) error {
		img, ok := byID[a.ImageID]
		if !ok {
			return fmt.Errorf("annotation %s belongs to image %s, which is not in the export", a.ID, a.ImageID)
		}
		return features.add(pixelFeature(a, img))
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// featureList writes the features of a collection one by one, separated by commas.
type featureList struct {
	w *bufio.Writer
	n int
}

func (l *featureList) add(f any) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if l.n > 0 {
		l.w.WriteByte(',')
	}
	l.w.WriteString("\n")
	l.n++
	_, err = l.w.Write(b)
	return err
}

func pixelFeature(a annotations.Annotation, img annotations.Image) feature {
	name := a.Identification
	if name == "" {
		name = a.Label.Name
	}
	attrs := a.Attributes
	if attrs == nil {
		attrs = map[string]json.RawMessage{}
	}
	return feature{
		Type: "Feature", ID: a.ID, Geometry: a.Geometry,
		Properties: featureProperties{
			ObjectType: "annotation", Name: name,
			Classification: classificationOf(a.Label),
			Measurements:   measurements(a), Basis: a.Ground.Basis, Metadata: metadataOf(a, img),
			LabelPath: a.Label.Path, Shape: a.Shape, Confidence: string(a.Confidence),
			Identification: a.Identification, Note: a.Note, Attributes: attrs, ReviewStatus: a.ReviewStatus, Review: reviewOf(a), Track: a.Track, Evidence: a.Evidence,
			Version: a.Version, CreatedBy: a.CreatedBy, CreatedAt: a.CreatedAt, UpdatedBy: a.UpdatedBy, UpdatedAt: a.UpdatedAt,
			Image:      refOf(img),
			Provenance: provenanceOf(img),
		},
	}
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

// metadataOf is what QuPath keeps of an annotation's own properties and its image's
// provenance: its metadata, strings by name. Empty values are left out.
func metadataOf(a annotations.Annotation, img annotations.Image) map[string]string {
	md := map[string]string{
		"label": strings.Join(a.Label.Path, " › "), "shape": string(a.Shape), "confidence": string(a.Confidence),
		"identification": a.Identification, "note": a.Note, "review_status": a.ReviewStatus,
		"version": strconv.Itoa(a.Version), "measurement_basis": a.Ground.Basis,
		"created_by": a.CreatedBy, "created_at": a.CreatedAt.UTC().Format(time.RFC3339Nano),
		"updated_by": a.UpdatedBy, "updated_at": a.UpdatedAt.UTC().Format(time.RFC3339Nano),
	}
	if len(a.Attributes) > 0 {
		b, _ := json.Marshal(a.Attributes)
		md["attributes"] = string(b)
	}
	if r := reviewOf(a); r != nil {
		md["review_by"], md["review_at"], md["review_reason"] = r.By, r.At.UTC().Format(time.RFC3339Nano), r.Reason
	}
	if a.Track != nil {
		md["track_id"], md["track_name"], md["track_confidence"] = a.Track.ID, a.Track.Name, string(a.Track.Confidence)
	}
	if len(a.Evidence) > 0 {
		b, _ := json.Marshal(a.Evidence)
		md["evidence"] = string(b)
	}
	for _, kv := range provenanceData(img) {
		md[kv[0]] = kv[1]
	}
	for k, v := range md {
		if v == "" {
			delete(md, k)
		}
	}
	return md
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

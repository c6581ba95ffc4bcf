package formats

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/satmark/satmark/annotations"
)

// LonLatGeoJSONMediaType is RFC 7946's media type.
const LonLatGeoJSONMediaType = "application/geo+json"

// Omitted is an image a lon/lat export had to leave out, and why.
type Omitted struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Reason string `json:"reason"`
}

// GeoJSONCoordinates chooses an export's coordinates for images placed by places:
// requested ("wgs84" or "pixel"), or by default lon/lat when every image is
// georeferenced, else pixels. It also returns the georeferenced images and the others,
// left out of a lon/lat export; ok is false for any other request.
func GeoJSONCoordinates(requested string, images []annotations.Image, places map[string]Placement) (crs string, georef []annotations.Image, omitted []Omitted, ok bool) {
	for _, img := range images {
		if places[img.ID].Georeferenced() {
			georef = append(georef, img)
		} else {
			omitted = append(omitted, Omitted{ID: img.ID, Title: img.Title, Reason: "not georeferenced"})
		}
	}
	switch requested {
	case "":
		crs = "pixel"
		if len(images) > 0 && len(omitted) == 0 {
			crs = "wgs84"
		}
	case "wgs84", "pixel":
		crs = requested
	default:
		return "", nil, nil, false
	}
	return crs, georef, omitted, true
}

type georefSummary struct {
	imageRef
	Method          string   `json:"method"`
	Transform       string   `json:"transform"`
	ControlPoints   int      `json:"control_points,omitempty"`
	RMSMetres       *float64 `json:"rms_m,omitempty"`
	RMSPixels       *float64 `json:"rms_px,omitempty"`
	MeanErrorMetres *float64 `json:"mean_error_m,omitempty"`
}

type georeferencing struct {
	CRS     string          `json:"crs"`
	Note    string          `json:"note"`
	Images  []georefSummary `json:"images"`
	Omitted []Omitted       `json:"omitted_images"`
}

// WriteLonLatGeoJSON writes an RFC 7946 FeatureCollection: WGS 84 longitude and
// latitude to 7 decimals, exterior rings counter-clockwise and holes clockwise, a bbox on
// every feature and on the collection, edges densified where the transform bends them,
// geometries cut at the antimeridian. Each feature keeps its pixel geometry in its
// properties; a top-level "georeferencing" member names each image's transform and fit,
// and lists the images left out (not georeferenced) with the reason. Every image in
// images must have a georeferenced placement; each must emit only their annotations.
func WriteLonLatGeoJSON(w io.Writer, images []annotations.Image, placements map[string]Placement, omitted []Omitted,
	each func(emit func(annotations.Annotation) error) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	meta := georeferencing{CRS: "urn:ogc:def:crs:OGC::CRS84",
		Note:    "RFC 7946 GeoJSON: WGS 84 longitude, latitude. Each feature's pixel_geometry is its shape in the image's full-resolution pixels (origin top-left, y down).",
		Images:  []georefSummary{},
		Omitted: omitted}
	if meta.Omitted == nil {
		meta.Omitted = []Omitted{}
	}
	for _, img := range images {
		p, ok := placements[img.ID]
		if !ok || !p.Georeferenced() {
			return fmt.Errorf("image %s is not georeferenced", img.ID)
		}
		sum := georefSummary{imageRef: refOf(img), Method: p.Method, Transform: p.Transform}
		if p.Fit != nil {
			sum.ControlPoints = len(p.Fit.Points)
			sum.RMSMetres, sum.RMSPixels, sum.MeanErrorMetres = ptr(p.Fit.RMSMetres), ptr(p.Fit.RMSPixels), ptr(p.Fit.MeanErrorMetres)
		}
		meta.Images = append(meta.Images, sum)
	}
	head, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	fmt.Fprintf(bw, `{"type":"FeatureCollection","georeferencing":%s,"features":[`, head)
	all := newBounds()
	enc, err := newFeatureEncoder(images)
	if err != nil {
		return err
	}
	features := featureList{w: bw}
	err = each(func(a annotations.Annotation) error {
		if _, err := enc.image(a); err != nil {
			return err
		}
		geom, b, err := projectGeometry(placements[a.ImageID].Transformer, a.Geometry)
		if err != nil {
			return fmt.Errorf("annotation %s: %w", a.ID, err)
		}
		all.merge(b)
		return features.finish(enc.appendLonLatFeature(features.start(), a, geom, b.bbox()))
	})
	if err != nil {
		return err
	}
	bw.WriteString("\n]")
	if bb := all.bbox(); bb != nil {
		j, _ := json.Marshal(bb)
		bw.WriteString(`,"bbox":`)
		bw.Write(j)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

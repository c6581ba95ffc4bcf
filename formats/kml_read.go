package formats

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"

	"github.com/satmark/satmark/annotations"
)

// Reading KML: satmark's own (a placemark per annotation, its properties in
// ExtendedData) and Google Earth's, one placemark at a time, onto a placed image through
// the inverse of its georeference.

type kmlCoordinates struct {
	Text string `xml:"coordinates"`
}

type kmlPolygonIn struct {
	Outer kmlCoordinates   `xml:"outerBoundaryIs>LinearRing"`
	Inner []kmlCoordinates `xml:"innerBoundaryIs>LinearRing"`
}

type kmlGeometries struct {
	Points   []kmlCoordinates `xml:"Point"`
	Lines    []kmlCoordinates `xml:"LineString"`
	Polygons []kmlPolygonIn   `xml:"Polygon"`
	Multi    []kmlGeometries  `xml:"MultiGeometry"`
}

type kmlPlacemarkIn struct {
	ID          string `xml:"id,attr"`
	Name        string `xml:"name"`
	Description string `xml:"description"`
	Data        []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value"`
	} `xml:"ExtendedData>Data"`
	kmlGeometries
}

// ReadKML reads a KML file (or the doc.kml of a KMZ) onto a georeferenced image: each
// Placemark with one Point, LineString or Polygon becomes an annotation. satmark's
// ExtendedData gives the label, shape, confidence, identification and note; a placemark
// without them is labelled by its name.
func ReadKML(src ImportSource, t ImportTarget, emit func(annotations.ImportFeature) error) error {
	name, err := src.pick("KML file", []string{"doc.kml"}, ".kml")
	if err != nil {
		return err
	}
	if !t.Place.Georeferenced() {
		return ErrNotGeoreferenced
	}
	dec, done, err := src.xmlDecoder(name)
	if err != nil {
		return err
	}
	defer done()
	index := 0
	for {
		se, more, err := nextElement(dec)
		switch {
		case err != nil:
			return fileErrorf("the file is not valid KML: %v", err)
		case !more && index == 0:
			return fileErrorf("the file holds no KML placemarks")
		case !more:
			return nil
		case se.Name.Local != "Placemark":
			continue
		}
		var pm kmlPlacemarkIn
		if err := dec.DecodeElement(&pm, &se); err != nil {
			return fileErrorf("the file is not valid KML: %v", err)
		}
		index++
		if err := emit(kmlFeature(pm, index, t)); err != nil {
			return err
		}
	}
}

func kmlFeature(pm kmlPlacemarkIn, index int, t ImportTarget) annotations.ImportFeature {
	data := map[string]string{}
	for _, d := range pm.Data {
		data[d.Name] = d.Value
	}
	id := data["annotation_id"]
	if id == "" {
		id = strings.TrimPrefix(pm.ID, "annotation-")
	}
	place := fmt.Sprintf("placemark %d", index)
	g, why := kmlGeometry(pm.kmlGeometries)
	if why != "" {
		return refusal(id, place, "%s", why)
	}
	g, why = fromLonLat(t.Place, g)
	if why != "" {
		return refusal(id, place, "%s", why)
	}
	label := data["label"]
	if label == "" {
		// Names are escaped for HTML, which Google Earth shows them as.
		label = strings.TrimSpace(html.UnescapeString(pm.Name))
	}
	if label == "" {
		label = noLabel
	}
	shape := shapeOf(data["shape"], g.Type)
	shape, g = throughTheGround(shape, g)
	props := properties{Confidence: data["confidence"], Identification: data["identification"], Note: data["note"]}
	if _, ok := data["label"]; !ok && props.Note == "" {
		props.Note = strings.TrimSpace(html.UnescapeString(pm.Description))
	}
	return featureOf(id, place, label, shape, g, props.asMap())
}

// xmlDecoder reads one of src's files as XML; done closes it.
func (src ImportSource) xmlDecoder(name string) (*xml.Decoder, func() error, error) {
	f, err := src.open(name)
	if err != nil {
		return nil, nil, err
	}
	return xml.NewDecoder(bufio.NewReaderSize(f, 64<<10)), f.Close, nil
}

// nextElement reads up to the next start tag; more is false at the end of the file.
func nextElement(dec *xml.Decoder) (se xml.StartElement, more bool, err error) {
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return se, false, nil
		}
		if err != nil {
			return se, false, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, true, nil
		}
	}
}

// kmlGeometry is a placemark's one geometry, in lon/lat.
func kmlGeometry(k kmlGeometries) (annotations.Geometry, string) {
	// A MultiGeometry of one geometry is that geometry.
	for len(k.Points)+len(k.Lines)+len(k.Polygons) == 0 && len(k.Multi) == 1 {
		k = k.Multi[0]
	}
	n := len(k.Points) + len(k.Lines) + len(k.Polygons) + len(k.Multi)
	switch {
	case n == 0:
		return annotations.Geometry{}, "the placemark has no Point, LineString or Polygon"
	case n > 1:
		return annotations.Geometry{}, fmt.Sprintf("the placemark has %d geometries: a satmark annotation is one shape", n)
	}
	switch {
	case len(k.Points) == 1:
		ps, err := kmlPositions(k.Points[0].Text)
		if err != nil || len(ps) != 1 {
			return annotations.Geometry{}, "its Point does not have one longitude,latitude"
		}
		return annotations.PointGeometry(ps[0]), ""
	case len(k.Lines) == 1:
		ps, err := kmlPositions(k.Lines[0].Text)
		if err != nil {
			return annotations.Geometry{}, "its LineString's coordinates: " + err.Error()
		}
		return annotations.LineGeometry(ps), ""
	}
	p := k.Polygons[0]
	var rings [][]annotations.Position
	for _, c := range append([]kmlCoordinates{p.Outer}, p.Inner...) {
		ps, err := kmlPositions(c.Text)
		if err != nil {
			return annotations.Geometry{}, "its Polygon's coordinates: " + err.Error()
		}
		rings = append(rings, ps)
	}
	return annotations.PolygonGeometry(rings...), ""
}

// kmlPositions reads "lon,lat[,alt] lon,lat[,alt] …".
func kmlPositions(text string) ([]annotations.Position, error) {
	var out []annotations.Position
	for _, tuple := range strings.Fields(text) {
		parts := strings.Split(tuple, ",")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("%q is not longitude,latitude", tuple)
		}
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not longitude,latitude", tuple)
		}
		out = append(out, annotations.Position{lon, lat})
	}
	return out, nil
}

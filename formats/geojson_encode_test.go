package formats

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
)

// The structs encoding/json wrote the features from before featureEncoder: the oracle
// its bytes are checked against.

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

type feature struct {
	Type       string               `json:"type"`
	ID         string               `json:"id"`
	Geometry   annotations.Geometry `json:"geometry"`
	Properties featureProperties    `json:"properties"`
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

type lonLatFeature struct {
	Type       string              `json:"type"`
	ID         string              `json:"id"`
	BBox       []float64           `json:"bbox,omitempty"`
	Geometry   lonLatGeometry      `json:"geometry"`
	Properties lonLatFeatureFields `json:"properties"`
}

type lonLatFeatureFields struct {
	featureProperties
	PixelGeometry annotations.Geometry `json:"pixel_geometry"`
}

func oraclePixelFeature(a annotations.Annotation, img annotations.Image) feature {
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

// encoderCases are annotations that reach every branch of the hand-written encoding:
// every shape, HTML and control characters and U+2028 in strings, attributes that need
// compacting or escaping, a decision with and without a reason (and one for another
// state), a track, ground measures, a label without a path and one whose names hold
// QuPath's delimiter.
func encoderCases() (annotations.Image, []annotations.Annotation) {
	at := time.Date(2024, 10, 18, 9, 30, 0, 123_000_000, time.FixedZone("KST", 9*3600))
	img := annotations.Image{
		ID: "img_enc2024aaaa", SHA256: strings.Repeat("ef", 32), Title: `Harbour <north> & "pier"`, Width: 4000, Height: 3000,
		CapturedFrom: "2024-10-08", LocationName: "Vladivostok\u2028bay", PublisherMarkup: true,
		Source: annotations.Source{Publisher: "NIS", Title: "Release", URL: "https://example.org/?a=1&b=2", Credit: "NIS\tKorea"},
	}
	ship := annotations.Label{ID: "lbl_ship", Name: "landing ship", Path: []string{"vessel", "landing: ship"}, Color: "#e6194b"}
	top := annotations.Label{ID: "lbl_top", Name: "pier", Color: "#4363D8"}
	base := annotations.Annotation{ImageID: img.ID, Label: ship, ReviewStatus: "draft", CreatedBy: "alice", CreatedAt: at,
		UpdatedBy: "bob", UpdatedAt: at.Add(90 * time.Minute), Version: 2}
	m := func(v float64) *float64 { return &v }
	var out []annotations.Annotation
	add := func(f func(a *annotations.Annotation)) {
		a := base
		a.ID = "ann_" + strconv.Itoa(len(out))
		a.Shape, a.Geometry = annotations.ShapePoint, annotations.PointGeometry(annotations.Position{1200.5, 900.25})
		f(&a)
		out = append(out, a)
	}
	add(func(a *annotations.Annotation) {})
	add(func(a *annotations.Annotation) {
		a.Label = top
		a.Shape, a.Geometry = annotations.ShapeLine, annotations.LineGeometry([]annotations.Position{{10.5, 20.25}, {1e-7, 3000}})
		a.Note, a.Identification = "bow <north> & \"stern\"\n\u2029\x01", "Ropucha"
		a.Attributes = map[string]json.RawMessage{"hull": json.RawMessage(`"BDK 61"`), "n": json.RawMessage(` { "a" : [1, 2] } `),
			"html": json.RawMessage(`"<b>&</b>"`), "sep": json.RawMessage("\"a\u2028b\""), "none": nil, "plain": json.RawMessage(`true`)}
	})
	add(func(a *annotations.Annotation) {
		a.Label = annotations.Label{}
		a.Shape = annotations.ShapeRotatedRectangle
		a.Geometry = annotations.PolygonGeometry([]annotations.Position{{100, 100}, {180, 140}, {170, 160}, {90, 120}, {100, 100}})
		a.Ground = annotations.Ground{LengthM: m(120.25), WidthM: m(17.5), AreaM2: m(2104.375), PerimeterM: m(275.5), HeadingDeg: m(33.7), Basis: "georeference"}
		a.ReviewStatus, a.Confidence = "accepted", annotations.Probable
		a.Decision = &annotations.Review{Decision: "accepted", Reviewer: "carol", At: at, Version: 2}
		a.Track = &annotations.TrackRef{ID: "trk_1", Name: "BDK-61 <west>", Confidence: annotations.Possible}
		a.Evidence = []annotations.EvidenceRef{
			{EvidenceID: "evd_1", ClaimID: "clm_1", ClaimText: "landing ships <carried> troops 8–13 October", Stance: "supports", Confidence: 0.8, Assessment: "ramp down & vehicles on the pier"},
			{EvidenceID: "evd_2", ClaimID: "clm_2", ClaimText: "no ships at the pier", Stance: "contradicts", Confidence: 1},
		}
	})
	add(func(a *annotations.Annotation) {
		a.Shape = annotations.ShapePolygon
		a.Geometry = annotations.PolygonGeometry(
			[]annotations.Position{{0, 500}, {400, 500}, {400, 800}, {0, 800}, {0, 500}},
			[]annotations.Position{{100, 600}, {100, 650}, {150, 650}, {150, 600}, {100, 600}})
		a.ReviewStatus = "rejected"
		a.Decision = &annotations.Review{Decision: "rejected", Reviewer: "carol", At: at, Version: 1, Reason: "not a ship & <no> wake"}
		a.Ground = annotations.Ground{AreaM2: m(1e22), Basis: "gsd"}
	})
	add(func(a *annotations.Annotation) {
		a.ReviewStatus = "submitted"
		a.Decision = &annotations.Review{Decision: "accepted", Reviewer: "carol", At: at, Version: 1} // not the state's decision
		a.Attributes = map[string]json.RawMessage{}
	})
	return img, out
}

func TestFeaturesAreEncodingJSONs(t *testing.T) {
	img, anns := encoderCases()
	// And one with every key of the metadata, which appendMetadata adds in key order.
	every := anns[2]
	every.ID, every.Label, every.Identification, every.Note = "ann_every", anns[0].Label, "Ropucha", "wake"
	every.Attributes = map[string]json.RawMessage{"hull": json.RawMessage(`"BDK 61"`)}
	every.Decision = &annotations.Review{Decision: "accepted", Reviewer: "carol", At: every.CreatedAt, Version: 2, Reason: "seen"}
	anns = append(anns, every)
	enc, err := newFeatureEncoder([]annotations.Image{img})
	if err != nil {
		t.Fatal(err)
	}
	fit, err := geo.FitControlPoints(geo.Affine, taveuni7)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range anns {
		want, err := json.Marshal(oraclePixelFeature(a, img))
		if err != nil {
			t.Fatal(err)
		}
		got, err := enc.appendPixelFeature([]byte("x"), a)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[1:]) != string(want) {
			t.Errorf("pixel feature %s:\n got %s\nwant %s", a.ID, got[1:], want)
		}
	}
	// Lon/lat: on the Taveuni fit, a rectangle across the antimeridian becomes a
	// MultiPolygon and a line across it a MultiLineString.
	across := anns[3]
	across.Geometry = annotations.PolygonGeometry(positions([2]float64{7500, 20}, [2]float64{7995, 20}, [2]float64{7995, 600}, [2]float64{7500, 600}, [2]float64{7500, 20}))
	line := anns[1]
	line.Geometry = annotations.LineGeometry(positions([2]float64{7500, 20}, [2]float64{7995, 300}))
	seen := map[string]bool{}
	for _, a := range append(anns, across, line) {
		geom, b, err := projectGeometry(fit, a.Geometry)
		if err != nil {
			t.Fatal(err)
		}
		seen[geom.Type] = true
		want, err := json.Marshal(lonLatFeature{Type: "Feature", ID: a.ID, BBox: b.bbox(), Geometry: geom,
			Properties: lonLatFeatureFields{featureProperties: oraclePixelFeature(a, img).Properties, PixelGeometry: a.Geometry}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := enc.appendLonLatFeature(nil, a, geom, b.bbox())
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("lon/lat feature %s (%s):\n got %s\nwant %s", a.ID, geom.Type, got, want)
		}
	}
	for _, typ := range []string{"Point", "LineString", "Polygon", "MultiLineString", "MultiPolygon"} {
		if !seen[typ] {
			t.Errorf("no case gave a %s", typ)
		}
	}
}

// appendTime is Time.MarshalJSON without its allocation: the same text, and its error
// where it refuses a time.
func TestAppendTimeIsMarshalJSONs(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("KST", 9*3600), time.FixedZone("odd", -(3*3600 + 30*60 + 17)),
		time.FixedZone("edge", 23*3600+59*60), time.FixedZone("beyond", 24*3600), time.FixedZone("beyond west", -25*3600)}
	for _, year := range []int{-1, 0, 1, 2024, 9999, 10000} {
		for _, z := range zones {
			for _, ns := range []int{0, 1, 60_000_000, 999_999_999} {
				when := time.Date(year, 10, 8, 9, 4, 5, ns, z)
				want, werr := when.MarshalJSON()
				got, gerr := appendTime([]byte("x"), when)
				if (werr == nil) != (gerr == nil) || werr == nil && string(got) != "x"+string(want) {
					t.Errorf("appendTime(%v) = %s, %v; want x%s, %v", when, got, gerr, want, werr)
				}
			}
		}
	}
	if got, err := appendTime(nil, time.Time{}); err != nil || string(got) != `"0001-01-01T00:00:00Z"` {
		t.Errorf("the zero time: %s, %v", got, err)
	}
}

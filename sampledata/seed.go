package sampledata

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/ingest"
)

// Taxonomy is the default label tree with its colours, parents before children.
var Taxonomy = []struct {
	Path  string
	Color string
}{
	{"vessel", "#4363d8"},
	{"vessel/landing ship", "#e6194b"},
	{"vessel/frigate", "#f58231"},
	{"vessel/cargo ship", "#46f0f0"},
	{"facility", "#9a6324"},
	{"facility/naval base", "#911eb4"},
	{"facility/military base", "#808000"},
	{"facility/pier", "#aaffc3"},
	{"personnel", "#ffe119"},
	{"personnel/troop formation", "#f032e6"},
	{"vehicle", "#3cb44b"},
	{"aircraft", "#fabebe"},
}

// Actor is who the sample annotations are recorded as.
const Actor = "satmark sample data"

// seeder is the sample data's author in the audit log.
var seeder = annotations.Actor{Name: Actor}

// SeedTaxonomy creates the default labels that are missing.
func SeedTaxonomy(ctx context.Context, store *annotations.Store) error {
	for _, t := range Taxonomy {
		if _, err := store.EnsureLabelPath(ctx, seeder, strings.Split(t.Path, "/"), t.Color); err != nil {
			return fmt.Errorf("label %s: %w", t.Path, err)
		}
	}
	return nil
}

// SeedTaxonomyIfEmpty gives a store without any labels the default taxonomy, so a new
// data folder can be annotated at once.
func SeedTaxonomyIfEmpty(ctx context.Context, store *annotations.Store) error {
	labels, err := store.Labels(ctx)
	if err != nil || len(labels) > 0 {
		return err
	}
	return SeedTaxonomy(ctx, store)
}

// Seed creates the default taxonomy and stores every sample scene with its provenance and
// annotations. Scenes whose bytes are already stored are left alone, so seeding twice
// changes nothing. It returns how many images it added.
func Seed(ctx context.Context, store *annotations.Store, lib *imagery.Library) (int, error) {
	if err := SeedTaxonomy(ctx, store); err != nil {
		return 0, err
	}
	added := 0
	for _, set := range seededSets {
		scenes, err := set()
		if err != nil {
			return added, err
		}
		for _, sc := range scenes {
			ok, err := seedScene(ctx, store, lib, sc)
			if err != nil {
				return added, fmt.Errorf("scene %s: %w", sc.FileName, err)
			}
			if ok {
				added++
			}
		}
	}
	return added, nil
}

// seededSets generate the scenes Seed stores, in order: the two JPEG scenes, then the
// port five days later as a 16-bit, 4-band GeoTIFF (read through GDAL). The GeoTIFF
// (45 MB, seconds to make) is made once per process: every call gives the same bytes.
var seededSets = []func() ([]Scene, error){Scenes, sync.OnceValues(GeoTIFFScenes)}

// placements say where sample scenes lie. The port is placed at Vladivostok's Golden
// Horn Bay, north up, at 1 m a pixel, as if its release had come with a world file; the
// placement is as made up as the image, and its notes say so. The base is only given a
// ground sample distance, so it can be measured without being on the map.
var placements = map[string]struct {
	geotransform *[6]float64
	gsd          float64
	note         string
}{
	"synthetic-port-scene.jpg": {
		geotransform: &[6]float64{131.865, 1.2287e-05, 0, 43.125, 0, -9.0013e-06},
		note: "Placed at Vladivostok's Golden Horn Bay (north up, about 1 m a pixel) by an illustrative geotransform " +
			"in EPSG:4326, so the map and the lon/lat exports have something to show; the placement is invented, like the image.",
	},
	"synthetic-base-scene.jpg": {
		gsd:  1.0,
		note: "Given a ground sample distance of 1 m a pixel (invented) so annotations can be measured in metres.",
	},
}

func seedScene(ctx context.Context, store *annotations.Store, lib *imagery.Library, sc Scene) (bool, error) {
	u, err := lib.Receive(bytes.NewReader(sc.File()))
	if err != nil {
		return false, err
	}
	defer u.Discard()
	p := sc.Provenance
	place := placements[sc.FileName]
	if place.note != "" {
		p.Notes = strings.TrimSpace(p.Notes + " " + place.note)
	}
	markup := p.PublisherMarkup
	img, created, err := ingest.Image(ctx, store, lib, u, annotations.NewImage{
		Filename: sc.FileName, CreatedBy: seeder,
		Provenance: annotations.Provenance{
			Title: &p.Title, Publisher: &p.Publisher, SourceURL: &p.SourceURL, ReleasedAt: &p.ReleasedAt,
			CapturedFrom: &p.CapturedFrom, CapturedTo: &p.CapturedTo, Credit: &p.Credit, License: &p.License,
			LocationName: &p.LocationName, Claim: &p.Claim, Notes: &p.Notes, PublisherMarkup: &markup,
		},
	}, ingest.Sidecar{})
	if err != nil || !created {
		return false, err
	}
	if place.geotransform != nil {
		if _, err := store.SetGeoreference(ctx, seeder, annotations.Georeference{ImageID: img.ID, Method: annotations.GeorefGrid,
			GeoTransform: place.geotransform, CRS: 4326, Origin: "sample data"}); err != nil {
			return true, fmt.Errorf("georeference: %w", err)
		}
	}
	if place.gsd > 0 {
		if _, err := store.SetGroundSampleDistance(ctx, seeder, img.ID, &place.gsd); err != nil {
			return true, fmt.Errorf("ground sample distance: %w", err)
		}
	}
	for i, obj := range sc.Objects {
		in, err := obj.input()
		if err != nil {
			return true, fmt.Errorf("object %d: %w", i, err)
		}
		if _, err := store.CreateAnnotation(ctx, Actor, img.ID, in); err != nil {
			return true, fmt.Errorf("object %d (%s): %w", i, obj.Label, err)
		}
	}
	return true, nil
}

// input turns a generated object into the annotation an analyst would have drawn.
func (o Object) input() (annotations.AnnotationInput, error) {
	ps := make([]annotations.Position, len(o.Coordinates))
	for i, c := range o.Coordinates {
		ps[i] = annotations.Position(c)
	}
	var g annotations.Geometry
	switch annotations.Shape(o.Shape) {
	case annotations.ShapePoint:
		g = annotations.PointGeometry(ps[0])
	case annotations.ShapeLine:
		g = annotations.LineGeometry(ps)
	default:
		g = annotations.PolygonGeometry(ps)
	}
	geom, err := json.Marshal(g)
	if err != nil {
		return annotations.AnnotationInput{}, err
	}
	props, err := json.Marshal(map[string]string{"confidence": o.Confidence, "identification": o.Identification, "note": o.Note})
	if err != nil {
		return annotations.AnnotationInput{}, err
	}
	label, shape := o.Label, annotations.Shape(o.Shape)
	return annotations.AnnotationInput{Label: &label, Shape: &shape, Geometry: geom, Properties: props}, nil
}

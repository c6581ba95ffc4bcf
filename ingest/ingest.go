// Package ingest brings images into satmark: it checks a received file and stores the
// original with its provenance, so that there is never a row without its file nor a file
// without its row, and it builds every image's tile pyramid in the background (Builder).
// The upload handler and the sample-data seeder both come through here.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
	"github.com/satmark/satmark/imagery"
)

// Image stores the received upload u as an image described by in (its provenance,
// release, file name and actor; the file facts are filled in here) and queues the build
// of its pyramid. The provenance, the header and the file's completeness are checked
// before anything is stored; pixels are decoded only by the pyramid build. When the same
// bytes are already stored it returns that image with created == false. The upload's
// temporary file is the caller's to discard; after a successful first store it has moved
// to its content address.
func Image(ctx context.Context, store *annotations.Store, lib *imagery.Library, u *imagery.Upload, in annotations.NewImage) (img annotations.Image, created bool, err error) {
	if err := in.Provenance.Normalize(); err != nil {
		return annotations.Image{}, false, err
	}
	if in.SourceID != "" {
		if _, err := store.Source(ctx, in.SourceID); errors.Is(err, annotations.ErrNotFound) {
			return annotations.Image{}, false, &annotations.ValidationError{Field: "source_id", Message: "no release with id " + in.SourceID, Malformed: true}
		} else if err != nil {
			return annotations.Image{}, false, err
		}
	}
	info, err := lib.Inspect(u)
	if err != nil {
		return annotations.Image{}, false, err
	}
	if existing, err := store.ImageBySHA256(ctx, u.SHA256); err == nil {
		return existing, false, nil
	} else if !errors.Is(err, annotations.ErrNotFound) {
		return annotations.Image{}, false, err
	}
	in.SHA256, in.ByteSize, in.MediaType = u.SHA256, u.Size, info.MediaType
	in.Width, in.Height, in.Orientation = info.Width, info.Height, info.Orientation
	if info.MediaType == "image/tiff" && in.Georeference == nil {
		g, warnings := geoTIFF(u.Path)
		in.Georeference = g
		in.ImportWarnings = append(in.ImportWarnings, warnings...)
	}
	return store.CreateImage(ctx, in, func() (func(), error) { return lib.Place(u) })
}

// geoTIFF reads the georeference a TIFF carries, if any; what cannot be used becomes a
// warning and the image is imported without it.
func geoTIFF(path string) (*annotations.Georeference, []string) {
	f, err := os.Open(path)
	if err != nil {
		return nil, []string{"the GeoTIFF tags could not be read: " + err.Error()}
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, []string{"the GeoTIFF tags could not be read: " + err.Error()}
	}
	t, err := geo.ReadGeoTIFF(f, st.Size())
	if err != nil {
		return nil, []string{"the GeoTIFF tags could not be read: " + err.Error()}
	}
	if t.Grid == nil {
		if len(t.ControlPoints) >= geo.Affine.MinimumPoints() {
			// A GeoTIFF placed by control points: fit them affine, as a start the editor
			// can refine; if they cannot be fitted, say so and keep the image unplaced.
			if _, err := geo.FitControlPoints(geo.Affine, t.ControlPoints); err != nil {
				return nil, append(t.Warnings, "its control points cannot be fitted: "+err.Error())
			}
			pts := make([]annotations.ControlPoint, len(t.ControlPoints))
			for i, p := range t.ControlPoints {
				pts[i] = annotations.ControlPoint{Pixel: p.Pixel, LonLat: p.LonLat}
			}
			warnings := []string{fmt.Sprintf("placed by the GeoTIFF's %d control points with an affine fit; check and refine it in the georeference editor", len(pts))}
			for _, w := range t.Warnings {
				if !strings.Contains(w, "no geotransform") {
					warnings = append(warnings, w)
				}
			}
			return &annotations.Georeference{Method: annotations.GeorefControlPoints, Transform: string(geo.Affine),
				ControlPoints: pts, Origin: "geotiff control points"}, warnings
		}
		return nil, t.Warnings
	}
	gt := [6]float64(t.Grid.GeoTransform)
	return &annotations.Georeference{Method: annotations.GeorefGrid, GeoTransform: &gt, CRS: int(t.Grid.CRS), Origin: "geotiff"}, t.Warnings
}

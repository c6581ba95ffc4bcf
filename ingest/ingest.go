// Package ingest brings images into satmark: it checks a received file and stores the
// original with its provenance, so that there is never a row without its file nor a file
// without its row, and it builds every image's tile pyramid in the background (Builder).
// It decides where an upload lies on the earth: by the world file sent beside it
// (Sidecar, or a world file among the upload's sidecar files), else by what the file and
// the sidecars GDAL reads with it say. The upload handler and the sample-data seeder both
// come through here.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

// Image stores the received upload u as an image described by in (its provenance,
// release, file name and actor; the file facts are filled in here) and queues the build
// of its pyramid. The image is placed by the world file of side when it has one, else by
// in.Georeference, else by a TIFF's GeoTIFF tags (what of those cannot be used becomes
// an import warning). The world file, the provenance, the header and the file's
// completeness are checked before anything is stored; what the file says of its capture
// is stored with it (and is its capture window when in gives none); pixels are decoded
// only by the pyramid build. When the same bytes are already stored it returns that
// image with created == false (a VRT only when its sources are the same too:
// annotations.ErrConflict otherwise). The upload's temporary file is the caller's to discard;
// after a successful first store it has moved to its content address.
func Image(ctx context.Context, store *annotations.Store, lib *imagery.Library, u *imagery.Upload, in annotations.NewImage, side Sidecar) (img annotations.Image, created bool, err error) {
	side, err = side.withFiles(u)
	if err != nil {
		return annotations.Image{}, false, err
	}
	if side.given() {
		// A world file sent with the image places it; a bad one refuses the upload before
		// anything else is looked at, so nothing is stored half-placed.
		g, err := side.Georeference()
		if err != nil {
			return annotations.Image{}, false, err
		}
		in.Georeference = &g
	}
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
		if info.MediaType == imagery.VRTMediaType && !sameFiles(existing.Sidecars, u.Sidecars) {
			// The same XML over other rasters is another image, which cannot have the
			// address of the first.
			return annotations.Image{}, false, fmt.Errorf("a VRT with these very bytes is stored already (image %s) over other source rasters; "+
				"change the VRT (its description, say) to store this one: %w", existing.ID, annotations.ErrConflict)
		}
		return existing, false, nil
	} else if !errors.Is(err, annotations.ErrNotFound) {
		return annotations.Image{}, false, err
	}
	in.SHA256, in.ByteSize, in.MediaType = u.SHA256, u.Size, info.MediaType
	in.Width, in.Height, in.Orientation = info.Width, info.Height, info.Orientation
	in.FileMetadata = fileMetadata(lib.Metadata(u, info))
	in.Sidecars, in.ImportWarnings = sidecars(u, info, in.ImportWarnings)
	if in.Georeference == nil {
		var g *annotations.Georeference
		var warnings []string
		switch {
		case info.MediaType == "image/tiff":
			g, warnings = geoTIFF(u.Path)
		case info.Raster != nil:
			g, warnings = rasterPlacement(info.Raster, info.Width, info.Height)
		}
		if g == nil && info.Raster != nil && info.Raster.RPC {
			var more []string
			g, more = rpcPlacement(info.Raster)
			warnings = append(warnings, more...)
		} else if g != nil && info.Raster != nil && info.Raster.RPC {
			warnings = append(warnings, "the file also carries RPCs (rational polynomial coefficients); it is placed by its "+g.Origin+" georeferencing instead")
		}
		in.Georeference = g
		in.ImportWarnings = append(in.ImportWarnings, warnings...)
	}
	return store.CreateImage(ctx, in, func() (func(), error) { return lib.Place(u) })
}

// sidecars records the files that came with u, and warns of each metadata sidecar GDAL
// did not read with the raster.
func sidecars(u *imagery.Upload, info imagery.Info, warnings []string) ([]annotations.Sidecar, []string) {
	var read []string
	if info.Raster != nil {
		read = info.Raster.SidecarsRead
	}
	var out []annotations.Sidecar
	for _, s := range u.Sidecars {
		out = append(out, annotations.Sidecar{Name: s.Name, SHA256: s.SHA256, ByteSize: s.Size})
		if s.Kind == imagery.SidecarMetadata && !slices.Contains(read, s.Name) {
			warnings = append(warnings, fmt.Sprintf("the sidecar %s is kept with the image, but GDAL did not read it with %s: "+
				"GDAL pairs a sidecar with its raster by name (scene.IMD and scene.RPB beside scene.TIF, DIM_x.XML beside IMG_x_R1C1.TIF, "+
				"x_MTL.txt beside x_B4.TIF) and does not read .aux.xml here", s.Name, filepath.Base(u.Path)))
		}
	}
	return out, warnings
}

// sameFiles reports whether the files recorded with an image are those of the upload, in
// any order.
func sameFiles(stored []annotations.Sidecar, sent []imagery.SidecarFile) bool {
	if len(stored) != len(sent) {
		return false
	}
	for _, s := range sent {
		if !slices.Contains(stored, annotations.Sidecar{Name: s.Name, SHA256: s.SHA256, ByteSize: s.Size}) {
			return false
		}
	}
	return true
}

package annotations

import (
	"context"
	"errors"
	"math"
	"testing"
)

func TestGeoreferenceStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "img", 4000, 3000, Provenance{})
		if _, err := s.Georeference(ctx, img.ID); !errors.Is(err, ErrNotFound) {
			t.Fatalf("before any: got %v, want ErrNotFound", err)
		}
		gcps := Georeference{ImageID: img.ID, Method: GeorefControlPoints, Transform: "affine", Origin: "editor",
			ControlPoints: []ControlPoint{{Pixel: [2]float64{200, 150}, LonLat: [2]float64{131.85517, 43.13683}}}}
		got, err := s.SetGeoreference(ctx, Actor{Name: "alice"}, gcps)
		if err != nil {
			t.Fatal(err)
		}
		if got.UpdatedBy != "alice" || len(got.ControlPoints) != 1 || got.ControlPoints[0] != gcps.ControlPoints[0] {
			t.Errorf("stored %+v", got)
		}
		if img, _ := s.Image(ctx, img.ID); !img.Georeferenced {
			t.Error("the image does not say it is georeferenced")
		}
		// Replacing it with a grid keeps one row.
		gt := [6]float64{131.85, 2.5e-5, 0, 43.14, 0, -2e-5}
		if _, err := s.SetGeoreference(ctx, Actor{Name: "bob"}, Georeference{ImageID: img.ID, Method: GeorefGrid, GeoTransform: &gt, CRS: 4326, Origin: "worldfile"}); err != nil {
			t.Fatal(err)
		}
		all, _ := s.Georeferences(ctx)
		if len(all) != 1 || all[img.ID].Method != GeorefGrid || *all[img.ID].GeoTransform != gt || len(all[img.ID].ControlPoints) != 0 {
			t.Errorf("after replacing: %+v", all)
		}
		// A CRS with no EPSG code is kept as its WKT, and read back as it was.
		const wkt = `PROJCRS["Harbour_Local_TM",BASEGEOGCRS["WGS 84",DATUM["World Geodetic System 1984",ELLIPSOID["WGS 84",6378137,298.257223563]]],CONVERSION["unnamed",METHOD["Transverse Mercator"]],CS[Cartesian,2]]`
		if got, err := s.SetGeoreference(ctx, Actor{Name: "bob"}, Georeference{ImageID: img.ID, Method: GeorefGrid, GeoTransform: &gt, CRSWKT: wkt, Origin: "worldfile"}); err != nil || got.CRS != 0 || got.CRSWKT != wkt {
			t.Errorf("a grid in a WKT CRS stored as crs %d, crs_wkt %q, %v", got.CRS, got.CRSWKT, err)
		}
		if all, _ := s.Georeferences(ctx); all[img.ID].CRSWKT != wkt {
			t.Errorf("Georeferences reads crs_wkt %q, want the WKT stored", all[img.ID].CRSWKT)
		}
		// Back to an EPSG code: no WKT left beside it.
		if got, err := s.SetGeoreference(ctx, Actor{Name: "bob"}, Georeference{ImageID: img.ID, Method: GeorefGrid, GeoTransform: &gt, CRS: 4326, Origin: "worldfile"}); err != nil || got.CRS != 4326 || got.CRSWKT != "" {
			t.Errorf("replaced by EPSG:4326: crs %d, crs_wkt %q, %v", got.CRS, got.CRSWKT, err)
		}
		// Bad shapes are refused and leave the stored one alone.
		nan := [6]float64{math.NaN(), 1, 0, 0, 0, -1}
		for name, bad := range map[string]Georeference{
			"unknown method":         {ImageID: img.ID, Method: "magic"},
			"grid without a CRS":     {ImageID: img.ID, Method: GeorefGrid, GeoTransform: &gt},
			"grid with code and WKT": {ImageID: img.ID, Method: GeorefGrid, GeoTransform: &gt, CRS: 4326, CRSWKT: `GEOGCRS["WGS 84"]`},
			"grid with NaN":          {ImageID: img.ID, Method: GeorefGrid, GeoTransform: &nan, CRS: 4326},
			"points without points":  {ImageID: img.ID, Method: GeorefControlPoints, Transform: "affine"},
		} {
			var ve *ValidationError
			if _, err := s.SetGeoreference(ctx, Actor{Name: "eve"}, bad); !errors.As(err, &ve) {
				t.Errorf("%s: got %v, want a ValidationError", name, err)
			}
		}
		if g, _ := s.Georeference(ctx, img.ID); g.UpdatedBy != "bob" {
			t.Errorf("a refused change altered the georeference: %+v", g)
		}
		if _, err := s.SetGeoreference(ctx, Actor{Name: "alice"}, Georeference{ImageID: "img_aaaaaaaaaaaa", Method: GeorefGrid, GeoTransform: &gt, CRS: 4326}); !errors.Is(err, ErrNotFound) {
			t.Errorf("for an unknown image: got %v, want ErrNotFound", err)
		}
		if err := s.DeleteGeoreference(ctx, Actor{Name: "root"}, img.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteGeoreference(ctx, Actor{Name: "root"}, img.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("second delete: got %v, want ErrNotFound", err)
		}
	})
}

func TestGroundSampleDistance(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "img", 100, 80, Provenance{})
		half := 0.5
		got, err := s.SetGroundSampleDistance(ctx, Actor{Name: "root"}, img.ID, &half)
		if err != nil || got.GSD == nil || *got.GSD != 0.5 {
			t.Fatalf("set: %+v, %v", got.GSD, err)
		}
		for _, bad := range []float64{0, -1, math.NaN(), math.Inf(1)} {
			var ve *ValidationError
			if _, err := s.SetGroundSampleDistance(ctx, Actor{Name: "root"}, img.ID, &bad); !errors.As(err, &ve) || ve.Field != "gsd_m" {
				t.Errorf("gsd %v: got %v, want a ValidationError on gsd_m", bad, err)
			}
		}
		if got, _ := s.SetGroundSampleDistance(ctx, Actor{Name: "root"}, img.ID, nil); got.GSD != nil {
			t.Errorf("cleared: %v, want nil", *got.GSD)
		}
	})
}

func TestImageArrivesWithItsGeoreference(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		gt := [6]float64{500000, 1, 0, 4800000, 0, -1}
		img, created, err := s.CreateImage(ctx, NewImage{SHA256: shaOf("geotiff"), MediaType: "image/tiff", ByteSize: 1, Width: 64, Height: 48,
			CreatedBy: Actor{Name: "alice"}, ImportWarnings: []string{"negative y scale read as north-up"},
			Georeference: &Georeference{Method: GeorefGrid, GeoTransform: &gt, CRS: 32652, Origin: "geotiff"}}, noPlace)
		if err != nil || !created {
			t.Fatal(err)
		}
		if !img.Georeferenced || len(img.ImportWarnings) != 1 {
			t.Errorf("image %+v, want georeferenced with its warning", img)
		}
		// A georeference that cannot be stored refuses the whole image.
		_, _, err = s.CreateImage(ctx, NewImage{SHA256: shaOf("bad"), MediaType: "image/tiff", ByteSize: 1, Width: 64, Height: 48,
			CreatedBy: Actor{Name: "alice"}, Georeference: &Georeference{Method: GeorefGrid, CRS: 32652}}, noPlace)
		if err == nil {
			t.Fatal("an image with a broken georeference was stored")
		}
		if n := count(t, s, `SELECT COUNT(*) FROM images`); n != 1 {
			t.Errorf("%d images, want 1", n)
		}
	})
}

package ingest_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/geo"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/ingest"
)

// env is a real store and library in one temporary data folder.
type env struct {
	store *annotations.Store
	lib   *imagery.Library
	root  string
}

func newEnv(t *testing.T) env {
	t.Helper()
	root := t.TempDir()
	store, err := annotations.Open(filepath.Join(root, "satmark.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	lib, err := imagery.Open(filepath.Join(root, "images"), imagery.DefaultLimits)
	if err != nil {
		t.Fatalf("open library: %v", err)
	}
	return env{store: store, lib: lib, root: filepath.Join(root, "images")}
}

// jpegOf encodes a w×h JPEG with a bright block in the top-left corner.
func jpegOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{60, 80, 120, 255}
			if x < 16 && y < 16 {
				c = color.RGBA{230, 30, 30, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// truncated cuts a JPEG halfway through its pixel data, keeping the header whole.
func truncated(t *testing.T, full []byte) []byte {
	t.Helper()
	sos := bytes.Index(full, []byte{0xFF, 0xDA})
	if sos < 0 {
		t.Fatalf("no start of scan in the JPEG")
	}
	return full[:sos+(len(full)-sos)/2]
}

// rotated6 adds an EXIF block saying "rotate 90° clockwise to display" (orientation 6).
func rotated6(jpg []byte) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("MM")
	for _, v := range []any{uint16(42), uint32(8), uint16(1), uint16(0x0112), uint16(3), uint32(1), uint16(6), uint16(0), uint32(0)} {
		binary.Write(&tiff, binary.BigEndian, v)
	}
	payload := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	out := append([]byte{0xFF, 0xD8}, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

func (e env) receive(t *testing.T, data []byte) *imagery.Upload {
	t.Helper()
	u, err := e.lib.Receive(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	t.Cleanup(u.Discard)
	return u
}

// files lists every regular file under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func newImage(p annotations.Provenance) annotations.NewImage {
	return annotations.NewImage{Filename: "nis-1.jpg", Provenance: p, CreatedBy: annotations.Actor{Name: "alice"}}
}

func TestImageStoresANewImage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	data := jpegOf(t, 96, 64)
	u := e.receive(t, data)
	img, created, err := ingest.Image(ctx, e.store, e.lib, u, newImage(annotations.Provenance{
		Publisher: ptr("NIS"), ReleasedAt: ptr("2024-10-18T10:00:00+09:00"),
	}), ingest.Sidecar{})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if !created {
		t.Errorf("got created = false, want true")
	}
	want := annotations.Image{SHA256: u.SHA256, MediaType: "image/jpeg", ByteSize: int64(len(data)), Width: 96, Height: 64, Orientation: 1}
	if img.SHA256 != want.SHA256 || img.MediaType != want.MediaType || img.ByteSize != want.ByteSize ||
		img.Width != want.Width || img.Height != want.Height || img.Orientation != want.Orientation {
		t.Errorf("got %+v, want the file facts %+v", img, want)
	}
	if img.Source.ReleasedAt != "2024-10-18T01:00:00Z" || img.CreatedBy != "alice" || img.Filename != "nis-1.jpg" {
		t.Errorf("got release date %q by %q file %q, want 2024-10-18T01:00:00Z by alice, nis-1.jpg", img.Source.ReleasedAt, img.CreatedBy, img.Filename)
	}
	if row, err := e.store.ImageBySHA256(ctx, u.SHA256); err != nil || row.ID != img.ID {
		t.Errorf("got row %q (%v), want %q", row.ID, err, img.ID)
	}
	original, err := os.ReadFile(e.lib.OriginalPath(u.SHA256))
	if err != nil || !bytes.Equal(original, data) {
		t.Errorf("got original of %d bytes (%v), want the %d bytes uploaded", len(original), err, len(data))
	}
	if img.Pyramid.State != annotations.JobQueued {
		t.Errorf("got pyramid %+v, want its build queued with the image", img.Pyramid)
	}
	if left := files(t, filepath.Join(e.root, "tmp")); len(left) != 0 {
		t.Errorf("got %v in tmp, want the upload moved to its address", left)
	}
}

func TestImageSameBytesTwice(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	data := jpegOf(t, 96, 64)
	first, _, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, data), newImage(annotations.Provenance{Title: ptr("first")}), ingest.Sidecar{})
	if err != nil {
		t.Fatalf("first ingest: %v", err)
	}
	again := e.receive(t, data)
	img, created, err := ingest.Image(ctx, e.store, e.lib, again, newImage(annotations.Provenance{Title: ptr("second")}), ingest.Sidecar{})
	if err != nil {
		t.Fatalf("second ingest: %v", err)
	}
	if created || img.ID != first.ID || img.Title != "first" {
		t.Errorf("got created = %v, %q titled %q; want false, %q titled \"first\"", created, img.ID, img.Title, first.ID)
	}
	again.Discard()
	if got := files(t, filepath.Join(e.root, "originals")); len(got) != 1 {
		t.Errorf("got originals %v, want exactly one file", got)
	}
	if images, _ := e.store.Images(ctx); len(images) != 1 {
		t.Errorf("got %d images, want 1", len(images))
	}
}

func TestImageTakesTheDisplayedSizeFromExif(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	img, _, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, rotated6(jpegOf(t, 96, 64))), newImage(annotations.Provenance{}), ingest.Sidecar{})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	if img.Width != 64 || img.Height != 96 || img.Orientation != 6 {
		t.Errorf("got %d×%d orientation %d, want 64×96 orientation 6 (pixel space is the displayed image)", img.Width, img.Height, img.Orientation)
	}
}

// Nothing may be half-written when an ingest fails: no row, no original, no derived file.
func TestImageRejects(t *testing.T) {
	tests := []struct {
		name       string
		data       func(t *testing.T) []byte
		provenance annotations.Provenance
		sourceID   string
		wantErr    error  // errors.Is target
		wantField  string // ValidationError field
		notErr     error  // an error the result must not be
	}{
		{
			name:       "nok, bad release date is reported before the pixels are decoded",
			data:       func(t *testing.T) []byte { return truncated(t, jpegOf(t, 96, 64)) },
			provenance: annotations.Provenance{ReleasedAt: ptr("2024-13-45")},
			wantField:  "released_at",
			notErr:     imagery.ErrCorrupt,
		},
		{
			name:       "nok, bad source URL on a file that is not an image",
			data:       func(*testing.T) []byte { return []byte("not an image at all") },
			provenance: annotations.Provenance{SourceURL: ptr("file:///etc/passwd")},
			wantField:  "source_url",
			notErr:     imagery.ErrUnsupportedMedia,
		},
		{
			name:      "nok, unknown release",
			data:      func(t *testing.T) []byte { return jpegOf(t, 96, 64) },
			sourceID:  "src_aaaaaaaaaaaa",
			wantField: "source_id",
		},
		{
			name:    "nok, truncated JPEG (refused before anything is stored)",
			data:    func(t *testing.T) []byte { return truncated(t, jpegOf(t, 96, 64)) },
			wantErr: imagery.ErrCorrupt,
		},
		{
			name:    "nok, text file",
			data:    func(*testing.T) []byte { return []byte("<html>not an image</html>") },
			wantErr: imagery.ErrUnsupportedMedia,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			u := e.receive(t, tt.data(t))
			in := newImage(tt.provenance)
			in.SourceID = tt.sourceID
			_, created, err := ingest.Image(ctx, e.store, e.lib, u, in, ingest.Sidecar{})
			if created {
				t.Errorf("got created = true, want false")
			}
			switch {
			case tt.wantField != "":
				var ve *annotations.ValidationError
				if !errors.As(err, &ve) || ve.Field != tt.wantField {
					t.Fatalf("got %v, want a ValidationError on %q", err, tt.wantField)
				}
			default:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
			}
			if tt.notErr != nil && errors.Is(err, tt.notErr) {
				t.Errorf("got %v, want the provenance error, not %v", err, tt.notErr)
			}
			if images, _ := e.store.Images(ctx); len(images) != 0 {
				t.Errorf("got %d image rows, want 0", len(images))
			}
			if sources, _ := e.store.Sources(ctx); len(sources) != 0 {
				t.Errorf("got %d release rows, want 0", len(sources))
			}
			for _, dir := range []string{"originals", "derived"} {
				if got := files(t, filepath.Join(e.root, dir)); len(got) != 0 {
					t.Errorf("got %v under %s, want nothing", got, dir)
				}
			}
		})
	}
}

// Several analysts drop the same file at once: one image, one original, and everyone
// gets that image back.
func TestImageSameBytesConcurrently(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	data := jpegOf(t, 96, 64)
	const n = 4
	uploads := make([]*imagery.Upload, n)
	for i := range uploads {
		uploads[i] = e.receive(t, data)
	}
	type result struct {
		img     annotations.Image
		created bool
		err     error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range uploads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			img, created, err := ingest.Image(ctx, e.store, e.lib, uploads[i], newImage(annotations.Provenance{}), ingest.Sidecar{})
			results[i] = result{img, created, err}
		}()
	}
	close(start)
	wg.Wait()
	createdCount := 0
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("ingest %d: %v", i, r.err)
		}
		if r.created {
			createdCount++
		}
		if r.img.ID != results[0].img.ID {
			t.Errorf("ingest %d: got image %s, want the same image as ingest 0 (%s)", i, r.img.ID, results[0].img.ID)
		}
	}
	if createdCount != 1 {
		t.Errorf("got %d ingests reporting created, want 1", createdCount)
	}
	if got := files(t, filepath.Join(e.root, "originals")); len(got) != 1 {
		t.Errorf("got originals %v, want exactly one", got)
	}
	if images, _ := e.store.Images(ctx); len(images) != 1 {
		t.Errorf("got %d image rows, want 1", len(images))
	}
	if sources, _ := e.store.Sources(ctx); len(sources) != 1 {
		t.Errorf("got %d release rows, want 1", len(sources))
	}
}

// TestImagePlacedBySidecar: a world file sent beside an image places it, over the
// GeoTIFF tags the image carries; a blank one is none; a bad one refuses the upload
// first, storing nothing.
func TestImagePlacedBySidecar(t *testing.T) {
	tiff, err := os.ReadFile(filepath.Join("..", "geo", "testdata", "geotiff", "utm52n.tif"))
	if err != nil {
		t.Fatal(err)
	}
	degrees, err := os.ReadFile(filepath.Join("..", "geo", "testdata", "worldfile", "degrees.wld"))
	if err != nil {
		t.Fatal(err)
	}
	wantGT, err := geo.ParseWorldFile(string(degrees))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name          string
		side          ingest.Sidecar
		origin        string
		crs           int
		fromWorldFile bool
	}{
		{"ok, the world file places it, in degrees", ingest.Sidecar{WorldFile: string(degrees)}, "worldfile", 4326, true},
		{"ok, the world file in the CRS named", ingest.Sidecar{WorldFile: string(degrees), PRJ: "EPSG:3857", CRS: "EPSG:32631"}, "worldfile", 32631, true},
		{"ok, a blank world file is none: the GeoTIFF tags place it", ingest.Sidecar{WorldFile: " \n", CRS: "not looked at"}, "geotiff", 32652, false},
		{"ok, no sidecar: the GeoTIFF tags place it", ingest.Sidecar{}, "geotiff", 32652, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			img, created, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, tiff), newImage(annotations.Provenance{}), tc.side)
			if err != nil || !created {
				t.Fatalf("got %v, %v; want a new image", created, err)
			}
			g, err := e.store.Georeference(ctx, img.ID)
			if err != nil {
				t.Fatal(err)
			}
			if g.Method != annotations.GeorefGrid || g.Origin != tc.origin || g.CRS != tc.crs || g.GeoTransform == nil {
				t.Fatalf("georeference %+v, want a grid in EPSG:%d from %s", g, tc.crs, tc.origin)
			}
			if fromWorldFile := *g.GeoTransform == [6]float64(wantGT); fromWorldFile != tc.fromWorldFile {
				t.Errorf("geotransform %v; the world file's is %v", *g.GeoTransform, wantGT)
			}
		})
	}

	// Through GDAL's OSR: a GeoTIFF in Lambert-93, a world file whose .prj has no EPSG code.
	raster := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "geo", "testdata", "osr-raster", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name, file string
		side       ingest.Sidecar
		crs        int
		wkt        string // how the stored WKT starts
	}{
		{"ok, a Lambert-93 GeoTIFF", "lambert93.tif", ingest.Sidecar{}, 2154, ""},
		{"ok, a world file with a .prj no EPSG CRS matches", "utm52n.tif",
			ingest.Sidecar{WorldFile: string(raster("custom-tm.wld")), PRJ: string(raster("custom-tm.prj"))}, 0, `PROJCRS["Harbour_Local_TM"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			img, _, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, raster(tc.file)), newImage(annotations.Provenance{}), tc.side)
			if err != nil {
				t.Fatal(err)
			}
			g, err := e.store.Georeference(ctx, img.ID)
			if err != nil || g.Method != annotations.GeorefGrid || g.CRS != tc.crs || !strings.HasPrefix(g.CRSWKT, tc.wkt) || (tc.wkt == "") != (g.CRSWKT == "") {
				t.Fatalf("georeference %+v, %v; want a grid in EPSG:%d / WKT %q…", g, err, tc.crs, tc.wkt)
			}
		})
	}

	t.Run("nok, a bad world file is refused before the provenance", func(t *testing.T) {
		ctx := context.Background()
		e := newEnv(t)
		_, created, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, tiff), newImage(annotations.Provenance{ReleasedAt: ptr("2024-13-45")}),
			ingest.Sidecar{WorldFile: "2\n0\n0\n-2\n"})
		var ge *geo.Error
		if created || !errors.As(err, &ge) || ge.Field != "worldfile" {
			t.Fatalf("got %v, %v; want the world file's error", created, err)
		}
		if images, _ := e.store.Images(ctx); len(images) != 0 {
			t.Errorf("got %d image rows, want 0", len(images))
		}
		if got := files(t, filepath.Join(e.root, "originals")); len(got) != 0 {
			t.Errorf("got %v under originals, want nothing", got)
		}
	})
}

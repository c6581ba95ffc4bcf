package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/imagery/rastertest"
	"github.com/satmark/satmark/ingest"
)

func TestBuilderBuildsEveryQueuedPyramid(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	var ids []string
	for _, size := range [][2]int{{96, 64}, {700, 300}} {
		img, _, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, jpegOf(t, size[0], size[1])), newImage(annotations.Provenance{}), ingest.Sidecar{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, img.ID)
	}
	ingest.NewBuilder(e.store, e.lib, 1, nil).Drain(ctx)
	for _, id := range ids {
		img, err := e.store.Image(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if img.Pyramid.State != annotations.JobDone || img.Pyramid.Progress != 1 || img.Pyramid.Attempts != 1 {
			t.Errorf("image %s: pyramid %+v, want done at the first attempt", id, img.Pyramid)
		}
		if _, err := e.lib.Pyramid(img.SHA256); err != nil {
			t.Errorf("image %s: %v", id, err)
		}
		if _, err := os.Stat(e.lib.ThumbnailPath(img.SHA256)); err != nil {
			t.Errorf("image %s: no thumbnail: %v", id, err)
		}
	}
}

// corruptScan keeps a JPEG's header and end marker and damages its scan data, so the
// upload is accepted and only the build can find out.
func corruptScan(t *testing.T, jpg []byte) []byte {
	t.Helper()
	sos := bytes.Index(jpg, []byte{0xFF, 0xDA})
	out := append([]byte(nil), jpg...)
	for i := sos + 20; i+4 < len(out); i += 2 {
		out[i], out[i+1] = 0xFF, 0xC4
	}
	return out
}

func TestBuilderRecordsAFailureWithItsCauseAndCanRetry(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	img, _, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, corruptScan(t, jpegOf(t, 400, 300))), newImage(annotations.Provenance{}), ingest.Sidecar{})
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	b := ingest.NewBuilder(e.store, e.lib, 1, nil)
	b.Drain(ctx)
	img, _ = e.store.Image(ctx, img.ID)
	if img.Pyramid.State != annotations.JobFailed || !strings.Contains(img.Pyramid.Error, "Corrupt JPEG data") {
		t.Fatalf("got pyramid %+v, want failed with libjpeg's reason", img.Pyramid)
	}
	if _, err := e.store.RequeueJob(ctx, img.ID, annotations.JobPyramid); err != nil {
		t.Fatal(err)
	}
	b.Drain(ctx)
	img, _ = e.store.Image(ctx, img.ID)
	if img.Pyramid.State != annotations.JobFailed || img.Pyramid.Attempts != 2 {
		t.Errorf("after a retry: %+v, want failed again at attempt 2", img.Pyramid)
	}
}

func TestBuilderResumesABuildAProcessLeftRunning(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	img, _, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, jpegOf(t, 600, 400)), newImage(annotations.Provenance{}), ingest.Sidecar{})
	if err != nil {
		t.Fatal(err)
	}
	// A process claimed the job and died before finishing it.
	if _, err := e.store.ClaimJob(ctx, annotations.JobPyramid); err != nil {
		t.Fatal(err)
	}
	if img, _ = e.store.Image(ctx, img.ID); img.Pyramid.State != annotations.JobRunning {
		t.Fatalf("got %+v, want running", img.Pyramid)
	}
	// The next process starts its builder: the job is queued again and built.
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	b := ingest.NewBuilder(e.store, e.lib, 1, nil)
	go func() {
		b.Run(runCtx)
		close(done)
	}()
	for {
		img, _ = e.store.Image(ctx, img.ID)
		if img.Pyramid.State == annotations.JobDone {
			break
		}
		b.Wake()
		select {
		case <-done:
			t.Fatal("the builder stopped early")
		default:
		}
	}
	stop()
	<-done
	if img.Pyramid.Attempts != 2 {
		t.Errorf("got %d attempts, want 2 (the interrupted one and the resumed one)", img.Pyramid.Attempts)
	}
	if _, err := e.lib.Pyramid(img.SHA256); err != nil {
		t.Errorf("pyramid: %v", err)
	}
}

// A raster whose pyramid an earlier satmark built with its missing data black (JPEG
// tiles) is built again at the next start, now with them transparent; other pyramids are
// left alone.
func TestBuilderRebuildsPyramidsThatShowMissingDataBlack(t *testing.T) {
	rastertest.Require(t)
	ctx := context.Background()
	e := newEnv(t)
	spec := rastertest.Spec{Width: 300, Height: 200, Bands: 3, Type: "UInt16", Value: func(b, x, y int) float64 {
		if x < 40 {
			return 0
		}
		return scene16(b, x, y)
	}}
	holed := rastertest.Make(t, t.TempDir(), "holed.tif", spec, "-of", "GTiff", "-a_nodata", "0")
	spec.Value = scene16
	whole := rastertest.Make(t, t.TempDir(), "whole.tif", spec, "-of", "GTiff")
	var imgs []annotations.Image
	for _, path := range []string{holed, whole} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, _, err := ingest.Image(ctx, e.store, e.lib, e.receive(t, data), newImage(annotations.Provenance{}), ingest.Sidecar{})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	ingest.NewBuilder(e.store, e.lib, 1, nil).Drain(ctx)
	if n := ingest.NewBuilder(e.store, e.lib, 1, nil).RequeueOutdated(ctx); n != 0 {
		t.Fatalf("%d pyramids requeued just after building them", n)
	}

	// The holed raster's manifest as a satmark before transparency wrote it.
	manifest := filepath.Join(e.root, "derived", imgs[0].SHA256[:2], imgs[0].SHA256, "pyramid", "manifest.json")
	raw, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m["format"] != imagery.TilePNG {
		t.Fatalf("the holed raster was built as %v, want png", m["format"])
	}
	m["version"] = 1
	delete(m, "format")
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(manifest, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	lib, err := imagery.Open(e.root, imagery.DefaultLimits) // a new process
	if err != nil {
		t.Fatal(err)
	}
	b := ingest.NewBuilder(e.store, lib, 1, nil)
	if n := b.RequeueOutdated(ctx); n != 1 {
		t.Fatalf("requeued %d pyramids, want the holed raster's alone", n)
	}
	for i, img := range imgs {
		got, err := e.store.Image(ctx, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int]string{0: annotations.JobQueued, 1: annotations.JobDone}[i]; got.Pyramid.State != want {
			t.Errorf("image %d: pyramid %s, want %s", i, got.Pyramid.State, want)
		}
	}
	b.Drain(ctx)
	pm, err := lib.Pyramid(imgs[0].SHA256)
	if err != nil || pm.Format != imagery.TilePNG {
		t.Fatalf("after the rebuild: %v, %v", pm, err)
	}
}

package ingest_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/satmark/satmark/annotations"
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

package annotations

import (
	"context"
	"errors"
	"testing"
)

func TestPyramidJobLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		first := addImage(t, s, "first", 100, 80, Provenance{})
		second := addImage(t, s, "second", 100, 80, Provenance{})
		if first.Pyramid.State != JobQueued || second.Pyramid.State != JobQueued {
			t.Fatalf("new images: pyramids %+v, %+v, want both queued with the image", first.Pyramid, second.Pyramid)
		}

		// Claims come oldest first, one at a time.
		j, err := s.ClaimJob(ctx, JobPyramid)
		if err != nil || j.ImageID != first.ID || j.State != JobRunning || j.Attempts != 1 {
			t.Fatalf("first claim: %+v, %v; want the first image's job running at attempt 1", j, err)
		}
		if err := s.SetJobProgress(ctx, j.ID, 0.5); err != nil {
			t.Fatal(err)
		}
		if img, _ := s.Image(ctx, first.ID); img.Pyramid.State != JobRunning || img.Pyramid.Progress != 0.5 {
			t.Errorf("image during the build: %+v, want running at 0.5", img.Pyramid)
		}
		j2, err := s.ClaimJob(ctx, JobPyramid)
		if err != nil || j2.ImageID != second.ID {
			t.Fatalf("second claim: %+v, %v", j2, err)
		}
		if _, err := s.ClaimJob(ctx, JobPyramid); !errors.Is(err, ErrNotFound) {
			t.Errorf("third claim: got %v, want ErrNotFound (nothing queued)", err)
		}

		if err := s.FinishJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.FailJob(ctx, j2.ID, "cannot decode the JPEG: Corrupt JPEG data"); err != nil {
			t.Fatal(err)
		}
		a, _ := s.Image(ctx, first.ID)
		b, _ := s.Image(ctx, second.ID)
		if !a.Pyramid.Ready() || a.Pyramid.Progress != 1 {
			t.Errorf("finished: %+v, want done at 1", a.Pyramid)
		}
		if b.Pyramid.State != JobFailed || b.Pyramid.Error != "cannot decode the JPEG: Corrupt JPEG data" || b.Pyramid.Ready() {
			t.Errorf("failed: %+v, want failed with its cause", b.Pyramid)
		}

		// A retry queues it again, with the cause cleared; the next claim counts a second attempt.
		if job, err := s.RequeueJob(ctx, second.ID, JobPyramid); err != nil || job.State != JobQueued || job.Error != "" {
			t.Fatalf("requeue: %+v, %v", job, err)
		}
		if j3, err := s.ClaimJob(ctx, JobPyramid); err != nil || j3.Attempts != 2 {
			t.Errorf("claim after retry: %+v, %v; want attempt 2", j3, err)
		}
		if _, err := s.RequeueJob(ctx, "img_aaaaaaaaaaaa", JobPyramid); !errors.Is(err, ErrNotFound) {
			t.Errorf("requeue of an unknown image: got %v, want ErrNotFound", err)
		}
	})
}

func TestInterruptedJobsAreQueuedAgain(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "img", 100, 80, Provenance{})
		j, err := s.ClaimJob(ctx, JobPyramid)
		if err != nil {
			t.Fatal(err)
		}
		s.SetJobProgress(ctx, j.ID, 0.7)
		n, err := s.RequeueInterrupted(ctx)
		if err != nil || n != 1 {
			t.Fatalf("requeue interrupted: %d, %v; want 1", n, err)
		}
		if got, _ := s.Image(ctx, img.ID); got.Pyramid.State != JobQueued || got.Pyramid.Progress != 0 {
			t.Errorf("after requeue: %+v, want queued from 0", got.Pyramid)
		}
		if n, _ := s.RequeueInterrupted(ctx); n != 0 {
			t.Errorf("a second requeue found %d jobs, want 0", n)
		}
	})
}

func TestDeletingAnImageDeletesItsJob(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		s := openStore(t)
		img := addImage(t, s, "img", 100, 80, Provenance{})
		j, err := s.ClaimJob(ctx, JobPyramid)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := trashAndPurge(t, s, "alice", img.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM jobs`); n != 0 {
			t.Errorf("%d jobs left after deleting their image", n)
		}
		// A build that finishes after the deletion learns its work is unwanted.
		if err := s.FinishJob(ctx, j.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("finish after delete: got %v, want ErrNotFound", err)
		}
	})
}

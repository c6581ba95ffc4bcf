package annotations

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
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

// Two satmark processes on one database (two Stores) claiming at once never get the
// same job, and between them claim every one.
func TestTwoProcessesNeverClaimOneJob(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		database := freshDatabase(t, backendOf(t))
		a, b := openStoreAt(t, database), openStoreAt(t, database)
		const n = 40
		for i := range n {
			addImage(t, a, fmt.Sprintf("img%d", i), 10, 10, Provenance{})
		}
		claimed := make([][]int64, 2)
		var wg sync.WaitGroup
		for p, s := range []*Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					j, err := s.ClaimJob(ctx, JobPyramid)
					if errors.Is(err, ErrNotFound) {
						return
					}
					if err != nil {
						t.Errorf("process %d: claim: %v", p, err)
						return
					}
					claimed[p] = append(claimed[p], j.ID)
				}
			}()
		}
		wg.Wait()
		owner := map[int64]int{}
		for p, ids := range claimed {
			for _, id := range ids {
				if q, ok := owner[id]; ok {
					t.Errorf("job %d claimed by process %d and by process %d", id, q, p)
				}
				owner[id] = p
			}
		}
		// A claim that lost a race may have found nothing while jobs were left: drain them.
		for {
			j, err := a.ClaimJob(ctx, JobPyramid)
			if err != nil {
				break
			}
			owner[j.ID] = 0
		}
		if len(owner) != n {
			t.Errorf("got %d jobs claimed, want %d", len(owner), n)
		}
		if got := count(t, a, `SELECT COUNT(*) FROM jobs WHERE state = 'running' AND owner IN (?, ?)`, a.Process(), b.Process()); got != n {
			t.Errorf("got %d jobs running under the two processes, want %d", got, n)
		}
		t.Logf("claims: %d by one process, %d by the other", len(claimed[0]), len(claimed[1]))
	})
}

// A job whose owner stopped renewing its lease is claimed by another process once the
// lease has run out, not before; from then on the old owner can neither finish, fail,
// release nor report progress on it, and a process starting up leaves a live job alone.
func TestAnExpiredLeaseIsClaimedByAnotherProcess(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		database := freshDatabase(t, backendOf(t))
		a, b := openStoreAt(t, database), openStoreAt(t, database)
		var mu sync.Mutex
		clock := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
		now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
		advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
		a.now, b.now = now, now
		img := addImage(t, a, "img", 10, 10, Provenance{})

		j, err := a.ClaimJob(ctx, JobPyramid)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.ClaimJob(ctx, JobPyramid); !errors.Is(err, ErrNotFound) {
			t.Fatalf("claim while the owner holds the lease: got %v, want ErrNotFound", err)
		}
		// The other process starting up does not take a live process's job.
		if n, err := b.RequeueInterrupted(ctx); err != nil || n != 0 {
			t.Errorf("requeue interrupted by another process: %d, %v; want 0", n, err)
		}
		advance(a.JobLease() * 2 / 3)
		if err := a.SetJobProgress(ctx, j.ID, 0.4); err != nil {
			t.Fatalf("progress by the owner: %v", err)
		}
		advance(a.JobLease() * 2 / 3) // past the first lease, inside the renewed one
		if _, err := b.ClaimJob(ctx, JobPyramid); !errors.Is(err, ErrNotFound) {
			t.Fatalf("claim inside the renewed lease: got %v, want ErrNotFound", err)
		}
		if err := a.RenewJob(ctx, j.ID); err != nil {
			t.Fatalf("renew by the owner: %v", err)
		}
		advance(a.JobLease() + time.Second) // a stopped renewing
		j2, err := b.ClaimJob(ctx, JobPyramid)
		if err != nil || j2.ID != j.ID || j2.Attempts != 2 || j2.Progress != 0 {
			t.Fatalf("claim after the lease: %+v, %v; want job %d again at attempt 2 from 0", j2, err, j.ID)
		}
		for name, call := range map[string]func() error{
			"finish":   func() error { return a.FinishJob(ctx, j.ID) },
			"fail":     func() error { return a.FailJob(ctx, j.ID, "too late") },
			"progress": func() error { return a.SetJobProgress(ctx, j.ID, 0.9) },
			"renew":    func() error { return a.RenewJob(ctx, j.ID) },
			"release":  func() error { return a.ReleaseJob(ctx, j.ID) },
		} {
			if err := call(); !errors.Is(err, ErrJobLost) || !errors.Is(err, ErrConflict) {
				t.Errorf("%s by the stale owner: got %v, want ErrJobLost", name, err)
			}
		}
		if got, _ := b.Job(ctx, img.ID, JobPyramid); got.State != JobRunning || got.Progress != 0 || got.Error != "" {
			t.Errorf("job after the stale owner's calls: %+v, want running at 0 without an error", got)
		}
		if err := b.FinishJob(ctx, j.ID); err != nil {
			t.Fatalf("finish by the new owner: %v", err)
		}
		if got, _ := a.Image(ctx, img.ID); !got.Pyramid.Ready() {
			t.Errorf("after the new owner finished: %+v, want done", got.Pyramid)
		}
	})
}

// A satmark on this host that was killed and started again takes its builds up at once:
// a job whose owner is a process of this host that has ended is queued again at start,
// its lease not yet run out; one whose owner still runs (here: this test) is left alone.
func TestRequeueTakesUpTheJobsOfAnEndedProcessOnThisHost(t *testing.T) {
	forEachBackend(t, func(t *testing.T) {
		ctx := context.Background()
		database := freshDatabase(t, backendOf(t))
		s := openStoreAt(t, database)
		dead, live := addImage(t, s, "dead", 10, 10, Provenance{}), addImage(t, s, "live", 10, 10, Provenance{})
		ended := exec.Command("true")
		if err := ended.Run(); err != nil {
			t.Fatal(err)
		}
		host, _ := os.Hostname()
		lease := formatTime(s.now().Add(time.Hour))
		for img, owner := range map[string]string{
			dead.ID: fmt.Sprintf("%s/%d/aaaaaaaaaaaa", host, ended.Process.Pid),
			live.ID: openStoreAt(t, database).Process(),
		} {
			if _, err := s.DB().Exec(`UPDATE jobs SET state = 'running', owner = ?, lease_until = ? WHERE image_id = ?`, owner, lease, img); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.RequeueInterrupted(ctx)
		if err != nil || n != 1 {
			t.Fatalf("requeue interrupted: %d, %v; want 1 (the ended process's job)", n, err)
		}
		if got, _ := s.Job(ctx, dead.ID, JobPyramid); got.State != JobQueued {
			t.Errorf("the ended process's job: %+v, want queued", got)
		}
		if got, _ := s.Job(ctx, live.ID, JobPyramid); got.State != JobRunning {
			t.Errorf("the live process's job: %+v, want still running", got)
		}
	})
}

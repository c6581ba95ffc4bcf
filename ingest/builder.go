package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
	"github.com/satmark/satmark/reuse"
)

// Builder builds the tile pyramids of stored images, a bounded number at a time, from the
// persisted job queue: progress is recorded as it goes, failures with their cause (and
// can be retried), and builds interrupted by a stop are queued again at the next start
// or, when their process died, taken up by another once their lease runs out.
type Builder struct {
	store       *annotations.Store
	lib         *imagery.Library
	concurrency int
	log         *slog.Logger
	wake        chan struct{}
	built       atomic.Pointer[func(imageID string)]

	mu       sync.Mutex
	idle     *sync.Cond // signalled when a build ends
	building int        // builds in progress in this process
}

// OnBuilt sets f to be called after each pyramid is built and installed, with the
// image's id: how a server learns to drop what it keeps of the old pyramid.
func (b *Builder) OnBuilt(f func(imageID string)) { b.built.Store(&f) }

// NewBuilder returns a builder running at most concurrency builds at once (at least 1).
func NewBuilder(store *annotations.Store, lib *imagery.Library, concurrency int, log *slog.Logger) *Builder {
	if log == nil {
		log = slog.Default()
	}
	b := &Builder{store: store, lib: lib, concurrency: max(1, concurrency), log: log, wake: make(chan struct{}, 1)}
	b.idle = sync.NewCond(&b.mu)
	return b
}

// Wake tells the builder that a job was queued.
func (b *Builder) Wake() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Run queues again the jobs a stopped process left running (their lease run out; a live
// process's are left to it), then builds until ctx ends, renewing the lease of each job
// it builds. A build stopped by ctx is queued again, not failed.
func (b *Builder) Run(ctx context.Context) {
	if n, err := b.store.RequeueInterrupted(ctx); err != nil {
		b.log.Error("requeue interrupted pyramid builds", "err", err)
	} else if n > 0 {
		b.log.Info("resuming interrupted pyramid builds", "count", n)
	}
	b.RequeueOutdated(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if n, err := BackfillFingerprints(ctx, b.store, b.lib, b.log); err != nil && ctx.Err() == nil {
			b.log.Error("backfill perceptual hashes", "err", err)
		} else if n > 0 {
			b.log.Info("perceptual hashes backfilled", "count", n)
		}
	}()
	for i := 0; i < b.concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.work(ctx, false)
		}()
	}
	wg.Wait()
}

// RequeueOutdated queues again the build of every pyramid an earlier satmark made in a
// way this one no longer does (imagery.Library.Outdated: missing data shown black, now
// transparent), and returns how many it queued. The old pyramid is served until the new
// one is in place.
func (b *Builder) RequeueOutdated(ctx context.Context) int {
	images, err := b.store.Images(ctx)
	if err != nil {
		b.log.Error("look for outdated pyramids", "err", err)
		return 0
	}
	n := 0
	for _, img := range images {
		if !img.Pyramid.Ready() {
			continue
		}
		old, err := b.lib.Outdated(img.SHA256, imagery.Info{MediaType: img.MediaType, Width: img.Width, Height: img.Height, Orientation: img.Orientation})
		if err != nil {
			b.log.Warn("look for an outdated pyramid", "image", img.ID, "err", err)
			continue
		}
		if !old {
			continue
		}
		if _, err := b.store.RetryJob(ctx, img.ID, annotations.JobPyramid); err != nil {
			b.log.Warn("queue an outdated pyramid", "image", img.ID, "err", err)
			continue
		}
		b.log.Info("building a pyramid again: it shows missing data black, now transparent", "image", img.ID, "title", img.Title)
		n++
	}
	return n
}

// Drain builds every queued pyramid, one at a time, and returns when none is left and
// none is being built by this builder's Run either (or ctx ends). It is how `satmark
// seed` leaves the sample data ready to view.
func (b *Builder) Drain(ctx context.Context) {
	b.work(ctx, true)
	stop := context.AfterFunc(ctx, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.idle.Broadcast()
	})
	defer stop()
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.building > 0 && ctx.Err() == nil {
		b.idle.Wait()
	}
}

func (b *Builder) work(ctx context.Context, untilEmpty bool) {
	idle := time.NewTicker(5 * time.Second)
	defer idle.Stop()
	for ctx.Err() == nil {
		job, err := b.store.ClaimJob(ctx, annotations.JobPyramid)
		if errors.Is(err, annotations.ErrNotFound) {
			if untilEmpty {
				return
			}
			select {
			case <-ctx.Done():
			case <-b.wake:
			case <-idle.C:
			}
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				b.log.Error("claim pyramid job", "err", err)
			}
			continue
		}
		b.build(ctx, job)
	}
}

func (b *Builder) build(ctx context.Context, job annotations.Job) {
	b.mu.Lock()
	b.building++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		b.building--
		b.idle.Broadcast()
		b.mu.Unlock()
	}()
	img, err := b.store.Image(ctx, job.ImageID)
	if err != nil {
		return // deleted meanwhile: its job went with it
	}
	// Renew the job's lease while it builds, so that no other process takes it up; a
	// build whose lease was lost anyway (this process stalled past it) stops.
	ctx, lost := context.WithCancelCause(ctx)
	defer lost(nil)
	stopRenewing := b.renew(ctx, job, lost)
	defer stopRenewing()
	info := imagery.Info{MediaType: img.MediaType, Width: img.Width, Height: img.Height, Orientation: img.Orientation}
	start := time.Now()
	if info.Display, err = b.display(ctx, img); err != nil {
		b.log.Warn("pyramid build failed", "image", img.ID, "err", err)
		if err := b.store.FailJob(context.WithoutCancel(ctx), job.ID, err.Error()); err != nil && !errors.Is(err, annotations.ErrNotFound) {
			b.log.Error("record pyramid failure", "image", img.ID, "err", err)
		}
		return
	}
	// The pyramid's encoders report from several goroutines; record at most four times a
	// second, never going backwards.
	var mu sync.Mutex
	var last time.Time
	recorded := 0
	progress := func(done, total int) {
		mu.Lock()
		defer mu.Unlock()
		if now := time.Now(); done > recorded && (now.Sub(last) > 250*time.Millisecond || done == total) {
			last, recorded = now, done
			b.store.SetJobProgress(context.WithoutCancel(ctx), job.ID, float64(done)/float64(total))
		}
	}
	err = b.lib.BuildPyramid(ctx, img.SHA256, info, progress)
	stopRenewing()
	bg := context.WithoutCancel(ctx)
	switch {
	case errors.Is(context.Cause(ctx), annotations.ErrJobLost):
		b.log.Warn("pyramid build given up: another process has its job now", "image", img.ID)
	case errors.Is(context.Cause(ctx), annotations.ErrNotFound):
		b.lib.RemovePyramid(img.SHA256) // the image was deleted while we built
	case ctx.Err() != nil:
		if err := b.store.ReleaseJob(bg, job.ID); err != nil && !errors.Is(err, annotations.ErrNotFound) {
			b.log.Error("requeue stopped pyramid build", "image", img.ID, "err", err)
		}
	case err != nil:
		b.log.Warn("pyramid build failed", "image", img.ID, "err", err)
		if err := b.store.FailJob(bg, job.ID, err.Error()); err != nil && !errors.Is(err, annotations.ErrNotFound) && !errors.Is(err, annotations.ErrJobLost) {
			b.log.Error("record pyramid failure", "image", img.ID, "err", err)
		}
	default:
		if err := b.store.FinishJob(bg, job.ID); errors.Is(err, annotations.ErrNotFound) {
			b.lib.RemovePyramid(img.SHA256) // the image was deleted while we built
			return
		} else if errors.Is(err, annotations.ErrJobLost) {
			b.log.Warn("pyramid built, but another process has its job now", "image", img.ID)
			return
		} else if err != nil {
			b.log.Error("record pyramid done", "image", img.ID, "err", err)
			return
		}
		b.log.Info("pyramid built", "image", img.ID, "width", img.Width, "height", img.Height, "seconds", time.Since(start).Seconds())
		if f := b.built.Load(); f != nil {
			(*f)(img.ID)
		}
		// A large upload is fingerprinted only now (see SyncFingerprintPixels).
		if f, err := b.store.ImageFingerprint(bg, img.ID); errors.Is(err, annotations.ErrNotFound) || (err == nil && f.Version != reuse.Version) {
			if err := Fingerprint(ctx, b.store, b.lib, img); err != nil && ctx.Err() == nil {
				b.log.Error("perceptual hash", "image", img.ID, "err", err)
			}
		}
	}
}

// renew renews job's lease every third of it until the returned stop is called (which
// waits for the renewing to end); when the lease is found lost, it cancels the build
// with ErrJobLost.
func (b *Builder) renew(ctx context.Context, job annotations.Job, lost context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(b.store.JobLease() / 3)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				if err := b.store.RenewJob(ctx, job.ID); errors.Is(err, annotations.ErrJobLost) || errors.Is(err, annotations.ErrNotFound) {
					lost(err)
					return
				} else if err != nil && ctx.Err() == nil {
					b.log.Warn("renew pyramid job lease", "image", job.ImageID, "err", err)
				}
			}
		}
	}()
	return func() {
		once.Do(func() { close(done) })
		wg.Wait()
	}
}

// display returns the stored display of a raster read through GDAL; one that has none
// yet gets its defaults chosen and stored first, so that what the tiles show is what the
// store says. Formats shown as stored have none (nil).
func (b *Builder) display(ctx context.Context, img annotations.Image) (*imagery.Display, error) {
	return storedDisplay(ctx, b.store, b.lib, img)
}

func storedDisplay(ctx context.Context, store *annotations.Store, lib *imagery.Library, img annotations.Image) (*imagery.Display, error) {
	info := imagery.Info{MediaType: img.MediaType, Width: img.Width, Height: img.Height, Orientation: img.Orientation}
	raw, err := store.Display(ctx, img.ID)
	if errors.Is(err, annotations.ErrNotFound) {
		d, err := lib.DefaultDisplay(img.SHA256, info)
		if err != nil || d == nil {
			return nil, err
		}
		j, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		if raw, err = store.SetDefaultDisplay(ctx, img.ID, j); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	var d imagery.Display
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("the stored display settings are unreadable: %w", err)
	}
	return &d, nil
}

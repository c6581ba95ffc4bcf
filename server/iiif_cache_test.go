package server_test

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/satmark/satmark/annotations"
	"github.com/satmark/satmark/imagery"
)

// How the IIIF service at /iiif/3/{id} holds up, over the fixture of iiif_test.go: a
// burst of renders stays bounded, damaged or lost tile files are built again from the
// original, the render cache keeps to its budget, and tiles are answered again from
// memory only while their image exists.

// heapInUse is the bytes of heap in use now.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestIIIFRenderBurstIsBounded: renders run one at a time with one more waiting, so a
// burst of distinct uncached renders is refused with 503 and Retry-After beyond that,
// and memory stays bounded.
func TestIIIFRenderBurstIsBounded(t *testing.T) {
	f := newIIIFFixture(t, imagery.Options{RenderConcurrency: 1, RenderQueue: 1})
	const n = 40
	type answer struct {
		code       int
		retryAfter string
		width      int
		err        error
	}
	answers := make([]answer, n)
	targets := make([]string, n)
	for i := range targets {
		// Distinct regions at odd sizes, each more than half the region so the
		// full-resolution level (many tiles) is read.
		targets[i] = fmt.Sprintf("%s/pct:%d,%d,%d,%d/%d,/0/default.png", f.base, i%7, i%5, 60+i%13, 55+i%11, 401+5*i)
	}

	runtime.GC()
	before := heapInUse()
	var peak uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // measure, not synchronise: the peak of the heap while the burst runs
		defer close(sampled)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, heapInUse())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest(http.MethodGet, targets[i], nil)
			req.Header.Set("Authorization", "Bearer "+f.token)
			rec := httptest.NewRecorder()
			<-start
			f.srv.ServeHTTP(rec, req)
			a := answer{code: rec.Code, retryAfter: rec.Header().Get("Retry-After")}
			if rec.Code == http.StatusOK {
				var cfg image.Config
				cfg, a.err = png.DecodeConfig(bytes.NewReader(rec.Body.Bytes()))
				a.width = cfg.Width
			}
			answers[i] = a
		}()
	}
	close(start)
	wg.Wait()
	close(stop)
	<-sampled
	after := heapInUse()

	var ok, busy int
	for i, a := range answers {
		switch a.code {
		case http.StatusOK:
			ok++
			if want := 401 + 5*i; a.err != nil || a.width != want {
				t.Errorf("%s: answer %d px wide (err %v), want %d", targets[i], a.width, a.err, want)
			}
		case http.StatusServiceUnavailable:
			busy++
			if a.retryAfter == "" {
				t.Errorf("%s: 503 without Retry-After", targets[i])
			}
		default:
			t.Errorf("%s: status %d, want 200 or 503", targets[i], a.code)
		}
	}
	if ok == 0 || busy == 0 {
		t.Errorf("%d answered 200 and %d answered 503; want some of each", ok, busy)
	}
	growth := int64(peak) - int64(before)
	t.Logf("%d renders: %d × 200, %d × 503; heap in use %d MiB before, %d MiB at peak, %d MiB after (peak growth %d MiB)",
		n, ok, busy, before>>20, peak>>20, after>>20, growth>>20)
	if growth > 200<<20 {
		t.Errorf("heap in use grew by %d MiB during the burst, want < 200 MiB", growth>>20)
	}
	// Busy is only for now: each refused render is served when asked again.
	for i, a := range answers {
		if a.code == http.StatusServiceUnavailable {
			wantStatus(t, f.do(t, http.MethodGet, targets[i], nil), http.StatusOK)
		}
	}
}

// TestIIIFDamagedTilesAreRebuiltFromTheOriginal: a tile file that is missing, damaged or
// replaced is rebuilt from the original before it is served, exactly as it was built.
func TestIIIFDamagedTilesAreRebuiltFromTheOriginal(t *testing.T) {
	// No tiles kept in memory: every request reads the tile file.
	f := newIIIFFixture(t, imagery.Options{TileCacheBytes: -1})
	other := jpegBytes(t, 256, 256, 5)
	damages := []struct {
		name        string
		k, row, col int
		damage      func(path string) error
	}{
		{"nok, missing interior tile", 0, 1, 2, os.Remove},
		{"nok, bytes flipped in an edge tile", 0, 2, 3, func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i := len(b) / 2; i < len(b)/2+16; i++ {
				b[i] ^= 0xFF
			}
			return os.WriteFile(path, b, 0o644)
		}},
		{"nok, truncated tile of level 1", 1, 1, 1, func(path string) error {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(path, b[:len(b)/2], 0o644)
		}},
		{"nok, another picture in the smallest tile", 2, 0, 0, func(path string) error { return os.WriteFile(path, other, 0o644) }},
		{"nok, empty file", 0, 0, 0, func(path string) error { return os.WriteFile(path, nil, 0o644) }},
	}
	tiles := map[[3]int]iiifTile{}
	var scales []int
	for _, lv := range imagery.Levels(sceneW, sceneH) {
		scales = append(scales, lv.Scale)
	}
	for _, tl := range tilesOf(sceneW, sceneH, imagery.TileSize, scales) {
		k := 0
		for 1<<k < tl.scale {
			k++
		}
		tiles[[3]int{k, tl.row, tl.col}] = tl
	}
	ref := f.reference(t) // before any damage
	served := map[string][]byte{}
	for _, d := range damages {
		tl, ok := tiles[[3]int{d.k, d.row, d.col}]
		if !ok {
			t.Fatalf("no tile %d/%d/%d", d.k, d.row, d.col)
		}
		rec := f.get(t, tl.path())
		wantStatus(t, rec, http.StatusOK)
		served[d.name] = rec.Body.Bytes()
		onDisk, err := os.ReadFile(f.pyramidFile(d.k, d.row, d.col))
		if err != nil || !bytes.Equal(onDisk, served[d.name]) {
			t.Fatalf("tile %d/%d/%d on disk differs from what was served (err %v)", d.k, d.row, d.col, err)
		}
	}
	for _, d := range damages {
		if err := d.damage(f.pyramidFile(d.k, d.row, d.col)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			tl := tiles[[3]int{d.k, d.row, d.col}]
			before := served[d.name]
			for attempt := 1; attempt <= 2; attempt++ { // the second is served from the repaired file
				rec := f.get(t, tl.path())
				wantStatus(t, rec, http.StatusOK)
				img := decodeAs(t, rec, "jpg")
				if b := img.Bounds(); b.Dx() != tl.w || b.Dy() != tl.h {
					t.Fatalf("rebuilt tile is %d×%d, want %d×%d", b.Dx(), b.Dy(), tl.w, tl.h)
				}
				if !bytes.Equal(rec.Body.Bytes(), before) {
					orig, _ := jpeg.Decode(bytes.NewReader(before))
					mean, worst := diffFrom(img, orig, view{w: tl.w, h: tl.h})
					t.Errorf("attempt %d: rebuilt tile is not the tile that was built (%d bytes, was %d); pixels differ by %.2f on average, %.0f at worst",
						attempt, rec.Body.Len(), len(before), mean, worst)
				}
			}
			if onDisk, err := os.ReadFile(f.pyramidFile(d.k, d.row, d.col)); err != nil || !bytes.Equal(onDisk, before) {
				t.Errorf("the tile file was not repaired on disk (err %v)", err)
			}
		})
	}
	t.Run("nok, render over a damaged tile", func(t *testing.T) {
		if err := os.WriteFile(f.pyramidFile(0, 1, 1), other, 0o644); err != nil {
			t.Fatal(err)
		}
		rec := f.get(t, "200,200,200,200/max/0/default.png")
		wantStatus(t, rec, http.StatusOK)
		if mean, worst := diffFrom(decodeAs(t, rec, "png"), ref, view{x: 200, y: 200, w: 200, h: 200}); mean > 1 || worst > 8 {
			t.Errorf("render differs from the undamaged pyramid by %.2f on average, %.0f at worst; want ≤ 1 and ≤ 8", mean, worst)
		}
	})
}

// TestIIIFRenderCacheStaysUnderItsBudget: renders are kept on disk up to the library's
// byte budget, least recently used out first; an evicted render is made again.
func TestIIIFRenderCacheStaysUnderItsBudget(t *testing.T) {
	const budget = 200 << 10
	f := newIIIFFixture(t, imagery.Options{RenderCacheBytes: budget})
	const n = 30
	var largest int
	for i := 0; i < n; i++ {
		rec := f.get(t, fmt.Sprintf("pct:%d,%d,50,50/%d,/0/default.png", i, i, 200+i))
		wantStatus(t, rec, http.StatusOK)
		largest = max(largest, rec.Body.Len())
		var total int64
		var files int
		err := filepath.WalkDir(filepath.Join(f.dir, "renders"), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
			files++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if total > budget && files > 1 {
			t.Fatalf("after %d renders the cache holds %d files of %d KiB, over its budget of %d KiB", i+1, files, total>>10, budget>>10)
		}
		if i == n-1 {
			t.Logf("%d renders of up to %d KiB: %d files, %d KiB on disk (budget %d KiB)", n, largest>>10, files, total>>10, budget>>10)
			if files >= n {
				t.Errorf("the cache kept all %d renders (%d KiB); want the oldest evicted", files, total>>10)
			}
		}
	}
	// The first render was evicted long ago; asking again renders it again.
	rec := f.get(t, "pct:0,0,50,50/200,/0/default.png")
	wantStatus(t, rec, http.StatusOK)
	if b := decodeAs(t, rec, "png").Bounds(); b.Dx() != 200 {
		t.Errorf("render again is %d px wide, want 200", b.Dx())
	}
}

// A pyramid the database calls built but the disk no longer has is built again, and
// meanwhile the image says so instead of failing.
func TestIIIFLostPyramidIsBuiltAgain(t *testing.T) {
	f := newIIIFFixture(t, imagery.Options{})
	if err := f.lib.Remove(f.img.SHA256); err != nil { // the original goes too: restore it
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, f.scene, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	u, err := f.lib.Receive(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.lib.Place(u); err != nil {
		t.Fatal(err)
	}
	rec := f.get(t, "0,0,256,256/256,256/0/default.jpg")
	wantIIIFError(t, rec, http.StatusServiceUnavailable, "being prepared")
	if rec.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After while the lost pyramid is built again")
	}
	if p := f.pyramidState(t, f.img.ID); p.State != annotations.JobQueued {
		t.Fatalf("pyramid = %+v, want queued again", p)
	}
	f.buildPyramids(t)
	wantStatus(t, f.get(t, "0,0,256,256/256,256/0/default.jpg"), http.StatusOK)
	wantStatus(t, f.do(t, http.MethodGet, "/api/v1/images/"+f.img.ID+"/thumbnail", nil), http.StatusOK)
}

// The second request for a tile is answered from memory: it must be the same answer, and
// must stop as soon as the image is deleted.
func TestIIIFTilesServedAgainFromMemory(t *testing.T) {
	f := newIIIFFixture(t, imagery.Options{})
	const tile = "256,256,256,256/256,256/0/default.jpg"
	first := f.get(t, tile)
	wantStatus(t, first, http.StatusOK)
	second := f.get(t, tile)
	wantStatus(t, second, http.StatusOK)
	if !bytes.Equal(first.Body.Bytes(), second.Body.Bytes()) {
		t.Error("the second answer's body differs from the first")
	}
	for _, h := range []string{"Content-Type", "Content-Length", "Etag", "Link", "Cache-Control", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers"} {
		if a, b := first.Header().Get(h), second.Header().Get(h); a != b || a == "" {
			t.Errorf("%s: first %q, second %q", h, a, b)
		}
	}
	wantStatus(t, f.get(t, tile, "If-None-Match", first.Header().Get("ETag")), http.StatusNotModified)
	head := f.do(t, http.MethodHead, f.base+"/"+tile, nil)
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Length") != first.Header().Get("Content-Length") {
		t.Errorf("HEAD: %d, %d body bytes, length %q", head.Code, head.Body.Len(), head.Header().Get("Content-Length"))
	}
	wantStatus(t, f.do(t, http.MethodDelete, "/api/v1/images/"+f.img.ID, nil), http.StatusNoContent)
	wantIIIFError(t, f.get(t, tile), http.StatusNotFound)
}

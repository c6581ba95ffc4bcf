package formats

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is the writer under a WriteBehind: it keeps what it is given, fails from the
// write numbered failAt (from 1; 0: never) on, and notes a write that overlaps another.
type recorder struct {
	mu         sync.Mutex
	got        bytes.Buffer
	calls      int
	failAt     int
	active     atomic.Int32
	overlapped atomic.Bool
}

var errDiskFull = errors.New("no space left on device")

func (r *recorder) Write(p []byte) (int, error) {
	if r.active.Add(1) > 1 {
		r.overlapped.Store(true)
	}
	defer r.active.Add(-1)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.failAt > 0 && r.calls >= r.failAt {
		return 0, errDiskFull
	}
	return r.got.Write(p)
}

func randomText(n int) string {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + rng.IntN(26))
	}
	return string(b)
}

func TestWriteBehindWritesTheSameBytes(t *testing.T) {
	text := randomText(3*writeBehindSize + 1234)
	tests := []struct {
		name   string
		pieces []int // the lengths written in turn, through Write and WriteString alternately
	}{
		{"ok, nothing", nil},
		{"ok, one small write", []int{17}},
		{"ok, small writes across buffers", repeat(1000, len(text)/1000)},
		{"ok, exactly one buffer", []int{writeBehindSize}},
		{"ok, one write of three buffers and more", []int{len(text)}},
		{"ok, a buffer less one, then two bytes", []int{writeBehindSize - 1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r recorder
			wb := NewWriteBehind(&r)
			var want strings.Builder
			at := 0
			for i, n := range tc.pieces {
				piece := text[at : at+n]
				at += n
				want.WriteString(piece)
				var got int
				var err error
				if i%2 == 0 {
					got, err = wb.Write([]byte(piece))
				} else {
					got, err = wb.WriteString(piece)
				}
				if err != nil || got != n {
					t.Fatalf("write %d: got %d, %v; want %d, nil", i, got, err, n)
				}
			}
			if err := wb.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if r.got.String() != want.String() {
				t.Errorf("written: got %d bytes, want %d, not the same", r.got.Len(), want.Len())
			}
			if r.overlapped.Load() {
				t.Error("two writes to the writer underneath overlapped")
			}
		})
	}
}

func repeat(n, times int) []int {
	out := make([]int, times)
	for i := range out {
		out[i] = n
	}
	return out
}

func TestWriteBehindErrorsSurface(t *testing.T) {
	text := []byte(randomText(writeBehindSize))
	t.Run("nok, on a later Write, and nothing written after", func(t *testing.T) {
		r := recorder{failAt: 2}
		wb := NewWriteBehind(&r)
		var err error
		for i := 0; i < 10 && err == nil; i++ {
			_, err = wb.Write(text)
		}
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("Write: got %v, want %v", err, errDiskFull)
		}
		if err := wb.Close(); !errors.Is(err, errDiskFull) {
			t.Errorf("Close after the error: got %v, want %v", err, errDiskFull)
		}
		if r.calls != 2 || r.got.Len() != len(text) {
			t.Errorf("writer underneath: %d writes, %d bytes; want 2 writes (the second failing), %d bytes", r.calls, r.got.Len(), len(text))
		}
	})
	t.Run("nok, on Close when the last buffer fails", func(t *testing.T) {
		r := recorder{failAt: 1}
		wb := NewWriteBehind(&r)
		if _, err := wb.Write([]byte("short")); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if err := wb.Close(); !errors.Is(err, errDiskFull) {
			t.Errorf("Close: got %v, want %v", err, errDiskFull)
		}
	})
	t.Run("nok, a Write after Close", func(t *testing.T) {
		var r recorder
		wb := NewWriteBehind(&r)
		if err := wb.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := wb.Write([]byte("late")); err == nil {
			t.Error("Write after Close: no error")
		}
		if r.got.Len() != 0 {
			t.Errorf("written after Close: %q", r.got.String())
		}
	})
}

// gate is a writer whose first Write waits until open is closed, saying so on entered.
type gate struct {
	entered, open chan struct{}
	once          sync.Once
	recorder
}

func newGate() *gate { return &gate{entered: make(chan struct{}), open: make(chan struct{})} }

func (g *gate) Write(p []byte) (int, error) {
	g.once.Do(func() {
		close(g.entered)
		<-g.open
	})
	return g.recorder.Write(p)
}

// TestWriteBehindLeavesNoGoroutine drops a WriteBehind without closing it, while a
// buffer is being written: once that write ends, no goroutine of it is left.
func TestWriteBehindLeavesNoGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	g := newGate()
	wb := NewWriteBehind(g)
	if _, err := wb.Write([]byte(randomText(writeBehindSize + 1))); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	close(g.open)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Errorf("goroutines: %d, %d before the WriteBehind", n, base)
	}
}

// TestZipSinkAbandonWaitsForTheFileInFlight: a dataset that stops part-way must leave
// the writer under the zip alone once Abandon returns (an HTTP error answer goes there).
func TestZipSinkAbandonWaitsForTheFileInFlight(t *testing.T) {
	g := newGate()
	sink := NewZipSink(zip.NewWriter(g))
	f, err := sink.Create("labels/a.txt", false)
	if err != nil {
		t.Fatal(err)
	}
	// Random letters deflate to more than the zip's own buffer holds, so its first
	// buffer reaches the gate.
	if _, err := io.WriteString(f, randomText(writeBehindSize+1)); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	abandoned := make(chan struct{})
	go func() {
		sink.Abandon()
		close(abandoned)
	}()
	select {
	case <-abandoned:
		t.Fatal("Abandon returned while the file was still being written")
	case <-time.After(100 * time.Millisecond):
	}
	close(g.open)
	<-abandoned
	if n := g.active.Load(); n != 0 {
		t.Errorf("writes in progress after Abandon: %d", n)
	}
}

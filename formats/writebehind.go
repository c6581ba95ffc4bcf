package formats

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
)

// writeBehindSize is the size of each of a WriteBehind's two buffers.
const writeBehindSize = 256 << 10

// WriteBehind is a writer that passes what it is given on to another writer in buffers
// of 256 KiB, each written on a goroutine of its own while the next one fills: whatever
// that writer does with them (deflating, copying into a file) is done beside the work
// of whoever writes, on the second core. An export of 100,000 annotations spends about a
// third of its time there.
//
// At most one buffer is being written at a time, in order. The first error of the
// writer underneath is returned by the Write or Close after it; nothing is written
// after it. A WriteBehind is for one goroutine, like a bufio.Writer; when it is dropped
// without Close, the buffer in flight is written and its goroutine ends.
type WriteBehind struct {
	w      io.Writer
	buf    []byte      // filling
	spare  []byte      // the other buffer: written, or in flight while pending
	flight chan result // the outcome of the buffer in flight; nil when there is none
	err    error       // the first error of w, or of a Write after Close
	closed bool
}

// result is what writing one buffer came to: an error, or a panic of the writer
// underneath, raised again on the goroutine that waits for it.
type result struct {
	err   error
	panic any
}

// errWriteBehindClosed is the error of a Write after Close.
var errWriteBehindClosed = errors.New("write behind: write after close")

// NewWriteBehind returns a WriteBehind writing to w. Close it to have the last buffer
// written and learn the outcome; it does not close w.
func NewWriteBehind(w io.Writer) *WriteBehind {
	return &WriteBehind{w: w, buf: make([]byte, 0, writeBehindSize)}
}

// Write copies p into the buffer filling, handing each full buffer to be written.
// An error is one from the writer underneath (for a buffer written earlier) or a
// Write after Close.
func (b *WriteBehind) Write(p []byte) (int, error) { return writeBehind(b, p) }

// WriteString is Write of a string, without converting it.
func (b *WriteBehind) WriteString(s string) (int, error) { return writeBehind(b, s) }

func writeBehind[T string | []byte](b *WriteBehind, p T) (int, error) {
	if b.closed {
		return 0, errWriteBehindClosed
	}
	n := 0
	for len(p) > 0 {
		if len(b.buf) == cap(b.buf) {
			if err := b.hand(); err != nil {
				return n, err
			}
		}
		k := copy(b.buf[len(b.buf):cap(b.buf)], p)
		b.buf, p, n = b.buf[:len(b.buf)+k], p[k:], n+k
	}
	return n, b.err
}

// Close writes what is left, waits for the writes to end and returns the first error
// of the writer underneath. Later calls return the same.
func (b *WriteBehind) Close() error {
	if b.closed {
		return b.err
	}
	b.closed = true
	if len(b.buf) > 0 {
		if err := b.hand(); err != nil {
			return err
		}
	}
	b.wait()
	b.buf, b.spare = nil, nil
	return b.err
}

// hand waits for the buffer in flight, then sends the full one to be written and takes
// the other to fill.
func (b *WriteBehind) hand() error {
	if err := b.wait(); err != nil {
		return err
	}
	p := b.buf
	done := make(chan result, 1) // the goroutine never waits for anyone
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- result{panic: fmt.Sprintf("%v\n(writing behind:)\n%s", v, debug.Stack())}
			}
		}()
		_, err := b.w.Write(p)
		done <- result{err: err}
	}()
	b.flight = done
	if b.spare == nil {
		b.spare = make([]byte, 0, writeBehindSize)
	}
	b.buf, b.spare = b.spare[:0], p
	return nil
}

// wait waits for the buffer in flight, if any, and returns the first error.
func (b *WriteBehind) wait() error {
	if b.flight != nil {
		r := <-b.flight
		b.flight = nil
		if r.panic != nil {
			panic(r.panic)
		}
		if r.err != nil && b.err == nil {
			b.err = r.err
		}
	}
	return b.err
}

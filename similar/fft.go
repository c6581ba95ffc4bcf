package similar

import (
	"math"
	"math/bits"
)

// A square two-dimensional fast Fourier transform of a power-of-two side, in place on
// row-major complex data: radix-2 over the rows, then over the columns (through a
// transpose, so both passes run on contiguous memory).

type fft2 struct {
	n       int
	fwd, bw []complex128 // per stage of size s, its s/2 twiddles exp(∓2πij/s), stages one after another
	rev     []int32      // bit reversal of log2(n) bits
}

func newFFT2(n int) *fft2 {
	if n < 4 || n&(n-1) != 0 {
		panic("fft: the side must be a power of two, at least 4")
	}
	f := &fft2{n: n, rev: make([]int32, n)}
	for size := 2; size <= n; size <<= 1 {
		for j := 0; j < size/2; j++ {
			s, c := math.Sincos(-2 * math.Pi * float64(j) / float64(size))
			f.fwd = append(f.fwd, complex(c, s))
			f.bw = append(f.bw, complex(c, -s))
		}
	}
	shift := 64 - bits.Len(uint(n-1))
	for i := range f.rev {
		f.rev[i] = int32(bits.Reverse64(uint64(i)) >> shift)
	}
	return f
}

// line transforms one row of n values (the inverse unscaled).
func (f *fft2) line(a []complex128, inverse bool) {
	n := f.n
	a = a[:n]
	for i, j := range f.rev {
		if i < int(j) {
			a[i], a[j] = a[j], a[i]
		}
	}
	tw := f.fwd
	if inverse {
		tw = f.bw
	}
	// The first two stages at once: their twiddles are 1 and ∓i.
	rot := complex(0, -1) // the second stage's twiddle exp(∓iπ/2)
	if inverse {
		rot = complex(0, 1)
	}
	for i := 0; i+3 < n; i += 4 {
		q := a[i : i+4 : i+4]
		x0, x1 := q[0]+q[1], q[0]-q[1]
		x2, x3 := q[2]+q[3], (q[2]-q[3])*rot
		q[0], q[2] = x0+x2, x0-x2
		q[1], q[3] = x1+x3, x1-x3
	}
	off := 3
	for size := 8; size <= n; size <<= 1 {
		half := size / 2
		w := tw[off : off+half : off+half]
		off += half
		for start := 0; start < n; start += size {
			lo := a[start : start+half : start+half]
			hi := a[start+half : start+size : start+size]
			_, _ = hi[len(lo)-1], w[len(lo)-1]
			for j := range lo {
				t := w[j] * hi[j]
				hi[j] = lo[j] - t
				lo[j] += t
			}
		}
	}
}

// transform runs the 2-D transform of data (n×n) in place; scratch is n×n too. The
// inverse is scaled by 1/n², so transform(transform(x), inverse) is x.
func (f *fft2) transform(data, scratch []complex128, inverse bool) {
	n := f.n
	for r := 0; r < n; r++ {
		f.line(data[r*n:(r+1)*n], inverse)
	}
	transpose(scratch, data, n)
	for r := 0; r < n; r++ {
		f.line(scratch[r*n:(r+1)*n], inverse)
	}
	transpose(data, scratch, n)
	if inverse {
		s := complex(1/float64(n*n), 0)
		for i := range data {
			data[i] *= s
		}
	}
}

// transpose writes the transpose of src (n×n) into dst, in blocks kind to the cache.
func transpose(dst, src []complex128, n int) {
	const b = 16
	for r0 := 0; r0 < n; r0 += b {
		for c0 := 0; c0 < n; c0 += b {
			for r := r0; r < min(r0+b, n); r++ {
				row := src[r*n+c0 : r*n+min(c0+b, n)]
				for i, v := range row {
					dst[(c0+i)*n+r] = v
				}
			}
		}
	}
}

package similar

import (
	"math"
	"math/cmplx"
	"testing"
)

// The transform against the definition, and back.
func TestFFTIsTheDFT(t *testing.T) {
	const n = 8
	f := newFFT2(n)
	data := make([]complex128, n*n)
	for i := range data {
		data[i] = complex(float64(i%5)-2, float64(i%3))
	}
	orig := append([]complex128(nil), data...)
	scratch := make([]complex128, n*n)
	f.transform(data, scratch, false)
	for v := 0; v < n; v++ {
		for u := 0; u < n; u++ {
			var want complex128
			for y := 0; y < n; y++ {
				for x := 0; x < n; x++ {
					want += orig[y*n+x] * cmplx.Exp(complex(0, -2*math.Pi*float64(u*x+v*y)/n))
				}
			}
			if cmplx.Abs(data[v*n+u]-want) > 1e-9 {
				t.Fatalf("X[%d,%d] = %v, want %v", u, v, data[v*n+u], want)
			}
		}
	}
	f.transform(data, scratch, true)
	for i := range data {
		if cmplx.Abs(data[i]-orig[i]) > 1e-12 {
			t.Fatalf("round trip %d: %v, want %v", i, data[i], orig[i])
		}
	}
}

func BenchmarkFFT256(b *testing.B) {
	f := newFFT2(256)
	d := make([]complex128, 256*256)
	s := make([]complex128, 256*256)
	for i := range d {
		d[i] = complex(float64(i%7), 0)
	}
	for b.Loop() {
		f.transform(d, s, false)
	}
}

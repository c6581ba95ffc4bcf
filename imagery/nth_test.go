package imagery

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// nth picks what sorting would put at each place, duplicates and all.
func TestNthIsTheSortedValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 10, 1000, 65536} {
		for _, distinct := range []int{1, 3, 4001, 1 << 30} {
			v := make([]float32, n)
			for i := range v {
				v[i] = float32(rng.IntN(distinct))
			}
			want := slices.Clone(v)
			slices.Sort(want)
			for _, k := range []int{0, n / 50, n / 2, n * 98 / 100, n - 1} {
				w := slices.Clone(v)
				if got := nth(w, k); got != want[k] {
					t.Fatalf("n %d, %d distinct values: nth(%d) = %v, sorted has %v", n, distinct, k, got, want[k])
				}
				for i := 0; i < k; i++ {
					if w[i] > want[k] {
						t.Fatalf("n %d: after nth(%d), v[%d] = %v > %v", n, k, i, w[i], want[k])
					}
				}
			}
		}
	}
}

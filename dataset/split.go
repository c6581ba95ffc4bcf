package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
)

// The parts of a split.
const (
	Train = "train"
	Val   = "val"
	Test  = "test"
)

// Shares are the parts of a split, as fractions of the groups that sum to 1.
type Shares struct {
	Train, Val, Test float64
}

// Check says what is wrong with the shares, if anything.
func (s Shares) Check() error {
	for _, v := range []float64{s.Train, s.Val, s.Test} {
		if v < 0 || v > 1 || math.IsNaN(v) {
			return fmt.Errorf("split shares must each be between 0 and 1 (got %g/%g/%g)", s.Train, s.Val, s.Test)
		}
	}
	if math.Abs(s.Train+s.Val+s.Test-1) > 1e-9 {
		return fmt.Errorf("split shares must sum to 1 (got %g + %g + %g)", s.Train, s.Val, s.Test)
	}
	return nil
}

// Split assigns each group (an image, or a site with all its images) to train, val or
// test. The same groups, shares and seed always give the same split, whatever order
// the groups come in, and adding a group moves few others: groups are ordered by the
// SHA-256 of seed and id, and the first round(n × Train) go to train, the next
// round(n × Val) to val, the rest to test. Keeping a group whole keeps overlapping
// chips of one scene, or one place on several dates, out of both train and test.
func Split(groups []string, s Shares, seed string) (map[string]string, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	type keyed struct{ id, key string }
	ks := make([]keyed, 0, len(groups))
	seen := map[string]bool{}
	for _, g := range groups {
		if seen[g] {
			continue
		}
		seen[g] = true
		h := sha256.Sum256([]byte(seed + "\x00" + g))
		ks = append(ks, keyed{g, hex.EncodeToString(h[:])})
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	n := float64(len(ks))
	nTrain := int(math.Round(n * s.Train))
	nVal := min(int(math.Round(n*s.Val)), len(ks)-nTrain)
	out := make(map[string]string, len(ks))
	for i, k := range ks {
		switch {
		case i < nTrain:
			out[k.id] = Train
		case i < nTrain+nVal:
			out[k.id] = Val
		default:
			out[k.id] = Test
		}
	}
	return out, nil
}

// Thin keeps at most ratio × kept of the empty chips (rounded up), chosen by the SHA-256
// of seed and their names, so that the same chips are kept every time. It returns the
// names kept.
func Thin(empty []string, kept int, ratio float64, seed string) []string {
	limit := int(math.Ceil(ratio * float64(kept)))
	if ratio < 0 || limit <= 0 {
		return nil
	}
	if limit >= len(empty) {
		return append([]string(nil), empty...)
	}
	type keyed struct{ name, key string }
	ks := make([]keyed, len(empty))
	for i, e := range empty {
		h := sha256.Sum256([]byte(seed + "\x00" + e))
		ks[i] = keyed{e, hex.EncodeToString(h[:])}
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i].key < ks[j].key })
	out := make([]string, limit)
	for i := range out {
		out[i] = ks[i].name
	}
	sort.Strings(out)
	return out
}

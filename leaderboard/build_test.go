package leaderboard

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// Entries sorted in parts and merged are the entries sorted whole, for any
// number of parts, in both orders; Build takes them as they are.
func TestSortAndMergeEqualOneSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, order := range []Order{Desc, Asc} {
		for _, k := range []int{0, 1, 2, 3, 5, 8} {
			all := make([]Entry, 1000)
			for i := range all {
				all[i] = Entry{Score: rng.Int64N(30) - 10, Sub: rng.Int64N(2), Reached: rng.Uint64N(3), User: uint32(i)}
			}
			rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
			var parts [][]Entry
			for i := range k {
				p := slices.Clone(all[i*len(all)/k : (i+1)*len(all)/k])
				Sort(order, p)
				parts = append(parts, p)
			}
			var kept [][]Entry
			for _, p := range parts {
				kept = append(kept, slices.Clone(p))
			}
			got := Merge(order, parts...)
			want := slices.Clone(all)
			if k == 0 {
				want = nil
			}
			Sort(order, want)
			require.Equal(t, want, got, "%v, %d parts", order, k)
			require.Equal(t, kept, parts, "the parts are left as they are")
			x := New(order)
			require.NoError(t, x.Build(got))
			require.NoError(t, x.Check())
			for i, e := range want {
				at, ok := x.At(i)
				require.True(t, ok)
				require.Equal(t, e, at, "%v, %d parts: position %d", order, k, i)
			}
		}
	}
}

package leaderboard

import (
	"math"
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
			slices.SortFunc(want, order.compare())
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

// Sort orders entries exactly as the comparison sort does, on either side
// of the length where it sorts by radix, whatever the spread of scores,
// subscores and reach times, and the order the entries come in.
func TestSortEqualsTheComparisonSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 1))
	type spread struct {
		name  string
		entry func(i int) Entry
	}
	spreads := []spread{
		{"few scores, in user order", func(i int) Entry { return Entry{Score: rng.Int64N(7) * 1e6, User: uint32(i)} }},
		{"ties broken by sub and reach", func(i int) Entry {
			return Entry{Score: rng.Int64N(5), Sub: rng.Int64N(3) - 1, Reached: rng.Uint64N(4), User: uint32(i)}
		}},
		{"any int64, users shuffled", func(i int) Entry {
			return Entry{Score: int64(rng.Uint64()), Sub: int64(rng.Uint64()), Reached: rng.Uint64(), User: uint32(rng.Uint32())}
		}},
		{"extremes", func(i int) Entry {
			return Entry{Score: []int64{math.MinInt64, -1, 0, 1, math.MaxInt64}[rng.IntN(5)], User: uint32(rng.Uint32())}
		}},
		{"one score", func(i int) Entry { return Entry{Score: 42, Reached: rng.Uint64N(1 << 40), User: uint32(i)} }},
	}
	for _, order := range []Order{Desc, Asc} {
		for _, sp := range spreads {
			for _, n := range []int{0, 1, radixMin - 1, radixMin, 5000} {
				es := make([]Entry, n)
				for i := range es {
					es[i] = sp.entry(i)
				}
				want := slices.Clone(es)
				slices.SortFunc(want, order.compare())
				Sort(order, es)
				require.Equal(t, want, es, "%v, %s, %d entries", order, sp.name, n)
			}
		}
	}
}

// Sort and Merge panic on an unknown Order, as their comments say.
func TestSortMergeUnknownOrderPanics(t *testing.T) {
	require.Panics(t, func() { Sort(Order(7), []Entry{{User: 1}, {User: 2}}) })
	require.Panics(t, func() { Merge(Order(7), []Entry{{User: 1}}, []Entry{{User: 2}}) })
}

package leaderboard

import (
	"flag"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

var seedFlag = flag.Uint64("seed", 20260308, "seed of the randomized leaderboard tests")

// raceScale divides the randomized operation counts (see race_test.go).
var raceScale = 1

// model is the reference: a sorted slice, every query answered by scanning.
type model struct {
	cmp     func(a, b Entry) int
	entries []Entry
	byUser  map[uint32]Entry
}

func newModel(order Order) *model {
	c := compareDesc
	if order == Asc {
		c = compareAsc
	}
	return &model{cmp: c, byUser: map[uint32]Entry{}}
}

func (m *model) pos(e Entry) int {
	i, _ := slices.BinarySearchFunc(m.entries, e, m.cmp)
	return i
}

func (m *model) set(e Entry) (Entry, bool) {
	old, ok := m.byUser[e.User]
	if ok {
		m.entries = slices.Delete(m.entries, m.pos(old), m.pos(old)+1)
	}
	m.entries = slices.Insert(m.entries, m.pos(e), e)
	m.byUser[e.User] = e
	return old, ok
}

func (m *model) remove(u uint32) (Entry, bool) {
	old, ok := m.byUser[u]
	if ok {
		m.entries = slices.Delete(m.entries, m.pos(old), m.pos(old)+1)
		delete(m.byUser, u)
	}
	return old, ok
}

// rank scans from the top, applying the tie policy literally.
func (m *model) rank(p int, ties Ties) int {
	rank, groups := 0, 0
	for i := 0; i <= p; i++ {
		if i == 0 || !sameScore(m.entries[i-1], m.entries[i]) {
			groups++
			rank = i + 1
		}
	}
	switch ties {
	case Dense:
		return groups
	case Unique:
		return p + 1
	}
	return rank
}

// standings lists positions [from, to) in one pass from the top.
func (m *model) standings(from, to int, ties Ties) []Standing {
	var out []Standing
	rank, groups := 0, 0
	for p := 0; p < min(to, len(m.entries)); p++ {
		if p == 0 || !sameScore(m.entries[p-1], m.entries[p]) {
			groups++
			rank = p + 1
		}
		if p < from {
			continue
		}
		s := Standing{Entry: m.entries[p], Position: p, Rank: rank}
		switch ties {
		case Dense:
			s.Rank = groups
		case Unique:
			s.Rank = p + 1
		}
		out = append(out, s)
	}
	return out
}

func (m *model) percentile(u uint32) float64 {
	e := m.byUser[u]
	below := 0
	for _, o := range m.entries {
		if !sameScore(o, e) && m.cmp(o, e) > 0 {
			below++
		}
	}
	return 100 * float64(below) / float64(len(m.entries))
}

type randomCase struct {
	name      string
	order     Order
	leafMax   int32
	innerMax  int32
	users     int
	userScale uint32 // >1 spreads ids so the lookup runs in sparse mode
	scores    int64  // score range: small ranges make many ties
	ops       int
}

// TestIndexRandomized compares Index with the sorted-slice model over random
// inserts, moves, removals, rebuilds and every query under all tie policies.
func TestIndexRandomized(t *testing.T) {
	cases := []randomCase{
		{"desc/default-nodes", Desc, leafCap, innerCap - 1, 6000, 1, 40, 100_000},
		{"asc/tiny-nodes", Asc, 4, 3, 1500, 1, 12, 40_000},
		{"desc/tiny-nodes/sparse-ids", Desc, 5, 4, 1500, 7919, 1 << 40, 30_000},
		{"asc/small-nodes/wide-scores", Asc, 8, 5, 3000, 1, 1 << 62, 30_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ops := tc.ops / raceScale
			if testing.Short() {
				ops /= 5
			}
			runRandom(t, tc, *seedFlag, ops)
		})
	}
}

func runRandom(t *testing.T, tc randomCase, seed uint64, ops int) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("reproduce with -seed=%d", seed)
		}
	})
	rng := rand.New(rand.NewPCG(seed, uint64(len(tc.name))))
	x := New(tc.order)
	x.tree.setLimits(tc.leafMax, tc.innerMax)
	m := newModel(tc.order)
	reached := uint64(0)
	user := func() uint32 { return uint32(rng.IntN(tc.users)) * tc.userScale }
	score := func() int64 { return rng.Int64N(tc.scores) - tc.scores/2 }
	ties := []Ties{Competition, Dense, Unique}
	var buf []Standing

	for op := 0; op < ops; op++ {
		// Grow to about half the users, then hover: inserts and removals balance.
		grow := len(m.entries) < tc.users/2
		switch r := rng.IntN(100); {
		case r < 35 || grow && r < 70:
			u := user()
			reached++
			e := Entry{Score: score(), Sub: rng.Int64N(3), Reached: reached, User: u}
			if rng.IntN(5) == 0 {
				// Out-of-order sequences (a rebuild, a careless caller) place
				// an entry ahead of others in its tie group.
				e.Reached = rng.Uint64N(reached + 1)
			}
			if old, ok := m.byUser[u]; ok && rng.IntN(4) == 0 {
				e.Score = old.Score + rng.Int64N(5) - 2 // small moves stay near the old place
			}
			if rng.IntN(2) == 0 {
				wantOld, wantOK := m.set(e)
				gotOld, gotOK := x.Set(u, e.Score, e.Sub, e.Reached)
				eq(t, wantOK, gotOK, "op %d: Set(%d) existed", op, u)
				eq(t, wantOld, gotOld, "op %d: Set(%d) old entry", op, u)
				break
			}
			p := ties[rng.IntN(3)]
			want := Change{}
			if old, ok := m.byUser[u]; ok {
				want = Change{Old: old, Existed: true, OldRank: m.rank(m.pos(old), p)}
			}
			m.set(e)
			want.Rank = m.rank(m.pos(e), p)
			eq(t, want, x.Update(u, e.Score, e.Sub, e.Reached, p), "op %d: Update(%+v, %v)", op, e, p)
		case r < 55:
			u := user()
			wantOld, wantOK := m.remove(u)
			gotOld, gotOK := x.Remove(u)
			eq(t, wantOK, gotOK, "op %d: Remove(%d) existed", op, u)
			eq(t, wantOld, gotOld, "op %d: Remove(%d)", op, u)
		case r < 75:
			u := user()
			p := ties[rng.IntN(3)]
			got, ok := x.Rank(u, p)
			e, want := m.byUser[u]
			eq(t, want, ok, "op %d: Rank(%d) present", op, u)
			if ok {
				eq(t, m.rank(m.pos(e), p), got, "op %d: Rank(%d, %v)", op, u, p)
				pos, _ := x.Position(u)
				eq(t, m.pos(e), pos, "op %d: Position(%d)", op, u)
				pc, _ := x.Percentile(u)
				eq(t, m.percentile(u), pc, "op %d: Percentile(%d)", op, u)
			}
		case r < 85:
			k := rng.IntN(len(m.entries) + 2)
			got, ok := x.At(k)
			eq(t, k < len(m.entries), ok, "op %d: At(%d) ok", op, k)
			if ok {
				eq(t, m.entries[k], got, "op %d: At(%d)", op, k)
			}
		case r < 93:
			off, lim, p := rng.IntN(len(m.entries)+3), rng.IntN(30), ties[rng.IntN(3)]
			buf = x.Range(off, lim, p, buf[:0])
			want := m.standings(off, off+lim, p)
			eqs(t, want, buf, "op %d: Range(%d, %d, %v)", op, off, lim, p)
		case r < 99:
			u, above, below, p := user(), rng.IntN(6), rng.IntN(6), ties[rng.IntN(3)]
			var ok bool
			buf, ok = x.Around(u, above, below, p, buf[:0])
			e, want := m.byUser[u]
			eq(t, want, ok, "op %d: Around(%d) present", op, u)
			if ok {
				pos := m.pos(e)
				eqs(t, m.standings(pos-above, pos+below+1, p), buf, "op %d: Around(%d, %d, %d, %v)", op, u, above, below, p)
			}
		case rng.IntN(8) == 0:
			// Rebuild from the stored entries in random order, as Open does.
			es := slices.Clone(m.entries)
			rng.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
			require.NoError(t, x.Build(es), "op %d: Build", op)
		}
		eq(t, len(m.entries), x.Len(), "op %d: Len", op)
		if op%1000 == 0 || op == ops-1 {
			require.NoError(t, x.Check(), "op %d: Check", op)
			if len(m.entries) > 0 {
				w, _ := x.Worst()
				eq(t, m.entries[len(m.entries)-1], w, "op %d: Worst", op)
			}
		}
	}
}

// eq and eqs compare cheaply and leave the diff to require only on failure:
// reflection on every one of 100k operations would dominate the run time.
func eq[T comparable](t *testing.T, want, got T, format string, args ...any) {
	t.Helper()
	if want != got {
		require.Equal(t, want, got, append([]any{format}, args...)...)
	}
}

func eqs(t *testing.T, want, got []Standing, format string, args ...any) {
	t.Helper()
	if !slices.Equal(want, got) {
		require.Equal(t, want, got, append([]any{format}, args...)...)
	}
}

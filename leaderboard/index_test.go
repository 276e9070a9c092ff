package leaderboard

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// board sets rows of (user, score, reached) with subscore 0.
func board(order Order, rows ...[3]int64) *Index {
	x := New(order)
	for _, r := range rows {
		x.Set(uint32(r[0]), r[1], 0, uint64(r[2]))
	}
	return x
}

func users(xs []Standing) []uint32 {
	var out []uint32
	for _, s := range xs {
		out = append(out, s.User)
	}
	return out
}

func TestRankTiePolicies(t *testing.T) {
	// Scores 100, 90, 90, 80, 80, 70 (users 1..6 in that order).
	x := board(Desc, [3]int64{4, 80, 4}, [3]int64{1, 100, 1}, [3]int64{6, 70, 6},
		[3]int64{3, 90, 3}, [3]int64{2, 90, 2}, [3]int64{5, 80, 5})
	want := map[Ties][]int{
		Competition: {1, 2, 2, 4, 4, 6},
		Dense:       {1, 2, 2, 3, 3, 4},
		Unique:      {1, 2, 3, 4, 5, 6},
	}
	for ties, ranks := range want {
		for i, w := range ranks {
			u := uint32(i + 1)
			got, ok := x.Rank(u, ties)
			require.True(t, ok)
			require.Equal(t, w, got, "Rank(%d, %v) = %d, want %d", u, ties, got, w)
		}
		top := x.Top(10, ties, nil)
		for i, s := range top {
			require.Equal(t, ranks[i], s.Rank, "Top(10, %v)[%d].Rank = %d, want %d", ties, i, s.Rank, ranks[i])
			require.Equal(t, i, s.Position)
		}
	}
	// A page that starts inside a tie still gets the tie's shared rank.
	page := x.Range(2, 3, Competition, nil)
	require.Equal(t, []int{2, 4, 4}, []int{page[0].Rank, page[1].Rank, page[2].Rank}, "Range(2, 3) ranks")
	page = x.Range(4, 2, Dense, nil)
	require.Equal(t, []int{3, 4}, []int{page[0].Rank, page[1].Rank}, "Range(4, 2, Dense) ranks")
}

func TestSubscoreBreaksTies(t *testing.T) {
	x := New(Desc)
	x.Set(1, 50, 1, 1)
	x.Set(2, 50, 9, 2) // same score, better subscore: ahead although later
	x.Set(3, 50, 1, 3)
	require.Equal(t, []uint32{2, 1, 3}, users(x.Top(3, Competition, nil)))
	r, _ := x.Rank(3, Competition)
	require.Equal(t, 2, r, "Rank(3) with equal (score, subscore) as user 1")
	r, _ = x.Rank(3, Dense)
	require.Equal(t, 2, r)
}

func TestTiesListFirstReachedThenUser(t *testing.T) {
	for _, order := range []Order{Desc, Asc} {
		x := New(order)
		x.Set(5, 10, 0, 30)
		x.Set(9, 10, 0, 10)
		x.Set(3, 10, 0, 10) // same sequence as user 9: the lower id goes first
		x.Set(7, 10, 0, 20)
		require.Equal(t, []uint32{3, 9, 7, 5}, users(x.Top(4, Unique, nil)), "order %v", order)
		// Reaching the tie again later (a new sequence) moves to its end.
		x.Set(3, 10, 0, 40)
		require.Equal(t, []uint32{9, 7, 5, 3}, users(x.Top(4, Unique, nil)), "order %v after re-reach", order)
	}
}

func TestAscAndDesc(t *testing.T) {
	rows := [][3]int64{{1, 30, 1}, {2, 10, 2}, {3, 20, 3}, {4, 10, 4}}
	tests := []struct {
		order Order
		want  []uint32
		ranks []int
	}{
		{Desc, []uint32{1, 3, 2, 4}, []int{1, 2, 3, 3}},
		{Asc, []uint32{2, 4, 3, 1}, []int{1, 1, 3, 4}},
	}
	for _, tc := range tests {
		x := board(tc.order, rows...)
		top := x.Top(4, Competition, nil)
		require.Equal(t, tc.want, users(top), "Top under %v", tc.order)
		for i, s := range top {
			require.Equal(t, tc.ranks[i], s.Rank, "%v: rank of %d", tc.order, s.User)
		}
		best, _ := x.Best()
		worst, _ := x.Worst()
		require.Equal(t, tc.want[0], best.User, "Best under %v", tc.order)
		require.Equal(t, tc.want[3], worst.User, "Worst under %v", tc.order)
		require.Equal(t, tc.order, x.Order())
	}
}

func TestSetMovesUpAndDown(t *testing.T) {
	x := New(Desc)
	for u := range uint32(200) {
		x.Set(u, int64(u), 0, uint64(u)) // user 199 leads, user 0 is last
	}
	pos := func(u uint32) int {
		p, ok := x.Position(u)
		require.True(t, ok)
		return p
	}
	require.Equal(t, 199, pos(0))

	old, existed := x.Set(0, 1000, 0, 500) // last to first
	require.True(t, existed)
	require.Equal(t, Entry{Score: 0, Sub: 0, Reached: 0, User: 0}, old)
	require.Equal(t, 0, pos(0), "Position(0) after moving up")
	require.Equal(t, 1, pos(199))

	x.Set(0, -1, 0, 501) // first to last
	require.Equal(t, 199, pos(0), "Position(0) after moving down")
	require.Equal(t, 0, pos(199))

	x.Set(100, 50, 0, 502) // into the middle, behind user 50 who reached 50 first
	require.Equal(t, pos(50)+1, pos(100), "Position(100) after tying with 50")
	e, ok := x.Get(100)
	require.True(t, ok)
	require.Equal(t, Entry{Score: 50, Reached: 502, User: 100}, e)

	old, existed = x.Set(100, 50, 0, 502) // no change
	require.True(t, existed)
	require.Equal(t, e, old)
	require.Equal(t, 200, x.Len())
	require.NoError(t, x.Check())
}

func TestUpdateReportsOldAndNewRank(t *testing.T) {
	x := board(Desc, [3]int64{1, 50, 1}, [3]int64{2, 40, 2}, [3]int64{3, 40, 3}, [3]int64{4, 10, 4})
	tests := []struct {
		user  uint32
		score int64
		seq   uint64
		ties  Ties
		want  Change
	}{
		{5, 20, 5, Competition, Change{Rank: 4}}, // newcomer
		{4, 60, 6, Competition, Change{Old: Entry{Score: 10, Reached: 4, User: 4}, Existed: true, OldRank: 5, Rank: 1}},
		{3, 40, 3, Dense, Change{Old: Entry{Score: 40, Reached: 3, User: 3}, Existed: true, OldRank: 3, Rank: 3}}, // no change
		{1, 40, 7, Dense, Change{Old: Entry{Score: 50, Reached: 1, User: 1}, Existed: true, OldRank: 2, Rank: 2}},
		{1, 40, 7, Unique, Change{Old: Entry{Score: 40, Reached: 7, User: 1}, Existed: true, OldRank: 4, Rank: 4}},
	}
	for _, tc := range tests {
		got := x.Update(tc.user, tc.score, 0, tc.seq, tc.ties)
		require.Equal(t, tc.want, got, "Update(%d, %d, %v) = %+v, want %+v", tc.user, tc.score, tc.ties, got, tc.want)
	}
	require.NoError(t, x.Check())
}

func TestRemove(t *testing.T) {
	x := board(Desc, [3]int64{1, 30, 1}, [3]int64{2, 20, 2}, [3]int64{3, 10, 3})
	old, ok := x.Remove(2)
	require.True(t, ok)
	require.Equal(t, Entry{Score: 20, Reached: 2, User: 2}, old)
	_, ok = x.Remove(2)
	require.False(t, ok, "Remove twice")
	_, ok = x.Get(2)
	require.False(t, ok, "Get after Remove")
	_, ok = x.Rank(2, Competition)
	require.False(t, ok, "Rank after Remove")
	r, _ := x.Rank(3, Competition)
	require.Equal(t, 2, r, "Rank(3) after the user ahead left")
	require.Equal(t, 2, x.Len())
	_, existed := x.Set(2, 5, 0, 9) // comes back as a newcomer
	require.False(t, existed)
	require.NoError(t, x.Check())
}

func TestAround(t *testing.T) {
	x := New(Desc)
	for u := range uint32(10) {
		x.Set(u, int64(100-u), 0, uint64(u)) // user u at position u
	}
	tests := []struct {
		user         uint32
		above, below int
		want         []uint32
	}{
		{0, 3, 2, []uint32{0, 1, 2}},    // rank 1: nothing above
		{9, 2, 3, []uint32{7, 8, 9}},    // last rank: nothing below
		{5, 2, 1, []uint32{3, 4, 5, 6}}, // middle
		{5, 0, 0, []uint32{5}},          // the user alone
		{1, -4, 100, []uint32{1, 2, 3, 4, 5, 6, 7, 8, 9}},
	}
	for _, tc := range tests {
		got, ok := x.Around(tc.user, tc.above, tc.below, Competition, nil)
		require.True(t, ok)
		require.Equal(t, tc.want, users(got), "Around(%d, %d, %d)", tc.user, tc.above, tc.below)
		for _, s := range got {
			require.Equal(t, int(s.User)+1, s.Rank, "Around(%d): rank of %d", tc.user, s.User)
		}
	}
	_, ok := x.Around(42, 1, 1, Competition, nil)
	require.False(t, ok, "Around an absent user")
	all, _ := x.Around(4, math.MaxInt, math.MaxInt, Competition, nil)
	require.Len(t, all, 10, "Around(4, MaxInt, MaxInt) lists everyone")
	require.Len(t, x.Range(3, math.MaxInt, Unique, nil), 7, "Range(3, MaxInt)")
}

func TestPercentileAndAhead(t *testing.T) {
	x := board(Desc, [3]int64{1, 40, 1}, [3]int64{2, 30, 2}, [3]int64{3, 30, 3}, [3]int64{4, 10, 4})
	for u, want := range map[uint32]float64{1: 75, 2: 25, 3: 25, 4: 0} {
		got, ok := x.Percentile(u)
		require.True(t, ok)
		require.Equal(t, want, got, "Percentile(%d) = %v, want %v", u, got, want)
	}
	_, ok := x.Percentile(9)
	require.False(t, ok)
	for score, want := range map[int64]int{50: 0, 40: 0, 35: 1, 30: 1, 20: 3, 0: 4} {
		require.Equal(t, want, x.Ahead(score, 0), "Ahead(%d) = %d, want %d", score, x.Ahead(score, 0), want)
	}
}

func TestEmptyIndex(t *testing.T) {
	x := New(Asc)
	_, ok := x.Worst()
	require.False(t, ok)
	_, ok = x.At(0)
	require.False(t, ok)
	_, ok = x.Rank(0, Dense)
	require.False(t, ok)
	require.Empty(t, x.Top(10, Competition, nil))
	require.Empty(t, x.Range(-5, 0, Competition, nil))
	require.Equal(t, 0, x.Ahead(1, 1))
	require.NoError(t, x.Check())
	require.Panics(t, func() { New(Order(7)) })
}

func TestBuild(t *testing.T) {
	x := New(Desc)
	x.Set(77, 1, 0, 1) // replaced by Build
	entries := []Entry{
		{Score: 10, Reached: 3, User: 2},
		{Score: 30, Reached: 1, User: 0},
		{Score: 10, Reached: 2, User: 5},
	}
	require.NoError(t, x.Build(entries))
	require.Equal(t, []uint32{0, 5, 2}, users(x.Top(5, Competition, nil)))
	_, ok := x.Get(77)
	require.False(t, ok, "Build drops what was there")
	require.NoError(t, x.Check())

	err := x.Build([]Entry{{Score: 1, User: 4}, {Score: 2, User: 4}})
	var ve *gamifytype.ValidationError
	require.True(t, errors.As(err, &ve), "Build with a duplicate user = %v", err)
	require.Equal(t, "Build.User", ve.Field)
	require.Equal(t, 3, x.Len(), "a failed Build changes nothing")
	require.NoError(t, x.Check())
}

// TestSparseUsers moves the user lookup between its slice and map forms.
func TestSparseUsers(t *testing.T) {
	x := New(Desc)
	x.Set(0, 1, 0, 1)
	require.NotNil(t, x.users.dense, "ids 0.. start dense")
	x.Set(100_000, 2, 0, 2)
	require.Nil(t, x.users.dense, "one far id turns the lookup into a map")
	for u := uint32(300); u < 90_000; u += 300 {
		x.Set(u, int64(u), 0, uint64(u)+10)
	}
	require.Nil(t, x.users.dense, "300 ids spread over 100k stay sparse")
	require.NoError(t, x.Check())
	for u := uint32(1); u < 30_000 && x.users.dense == nil; u++ {
		x.Set(u, int64(u), 0, uint64(u)+10)
	}
	require.NotNil(t, x.users.dense, "ids filling up turn the lookup back into a slice")
	require.NoError(t, x.Check())
	e, ok := x.Get(100_000)
	require.True(t, ok)
	require.Equal(t, int64(2), e.Score)
}

func TestSetSteadyStateDoesNotAllocate(t *testing.T) {
	const n = 20_000
	rng := rand.New(rand.NewPCG(3, 4))
	workloads := map[string]func(old Entry) int64{
		"random-scores": func(Entry) int64 { return rng.Int64N(1000) },
		// Points only grow: entries drift to the front, so leaves at the
		// back drain and merge while those at the front split.
		"climbing-scores": func(old Entry) int64 { return old.Score + rng.Int64N(50) },
	}
	for name, next := range workloads {
		t.Run(name, func(t *testing.T) {
			x := New(Desc)
			reached := uint64(0)
			set := func() {
				reached++
				u := rng.Uint32N(n)
				old, _ := x.Get(u)
				x.Set(u, next(old), 0, reached)
			}
			for u := range uint32(n) {
				x.Set(u, 0, 0, 0)
			}
			for range 10 * n {
				set() // churn until the tree reaches its working size
			}
			require.Equal(t, n, x.Len())
			allocs := testing.AllocsPerRun(1, func() {
				for range 20_000 {
					set()
				}
			})
			require.Zero(t, allocs, "20000 Sets of present users allocated")

			dst := make([]Standing, 0, 100)
			allocs = testing.AllocsPerRun(100, func() {
				u := rng.Uint32N(n)
				x.Rank(u, Dense)
				x.Position(u)
				x.Percentile(u)
				dst = x.Top(100, Competition, dst[:0])
				dst, _ = x.Around(u, 10, 10, Dense, dst[:0])
			})
			require.Zero(t, allocs, "queries with a preallocated dst allocated")
			require.NoError(t, x.Check())
		})
	}
}

func TestParse(t *testing.T) {
	for _, o := range []Order{Desc, Asc} {
		got, err := ParseOrder("Leaderboard.Order", o.String())
		require.NoError(t, err)
		require.Equal(t, o, got, "ParseOrder(%q)", o.String())
	}
	for _, p := range []Ties{Competition, Dense, Unique} {
		got, err := ParseTies("Leaderboard.Ties", p.String())
		require.NoError(t, err)
		require.Equal(t, p, got, "ParseTies(%q)", p.String())
	}
	o, _ := ParseOrder("f", "")
	p, _ := ParseTies("f", "")
	require.Equal(t, Desc, o, "default order")
	require.Equal(t, Competition, p, "default tie policy")
	_, err := ParseTies("Leaderboard.Ties", "olympic")
	var ve *gamifytype.ValidationError
	require.True(t, errors.As(err, &ve))
	require.Equal(t, "Leaderboard.Ties", ve.Field)
	require.Equal(t, "Ties(9)", Ties(9).String())
	require.Equal(t, "Order(9)", Order(9).String())
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "asc", "desc", "dense", "unique", "competition", "DESC", "asc "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if o, err := ParseOrder("Order", s); err == nil {
			again, err := ParseOrder("Order", o.String())
			require.NoError(t, err)
			require.Equal(t, o, again, "ParseOrder(%q) round trip", s)
		} else {
			require.ErrorIs(t, err, gamifytype.ErrInvalid, "ParseOrder(%q)", s)
		}
		if p, err := ParseTies("Ties", s); err == nil {
			again, err := ParseTies("Ties", p.String())
			require.NoError(t, err)
			require.Equal(t, p, again, "ParseTies(%q) round trip", s)
		} else {
			require.ErrorIs(t, err, gamifytype.ErrInvalid, "ParseTies(%q)", s)
		}
	})
}

func TestInterner(t *testing.T) {
	in := NewInterner(4)
	a, b := in.ID("alice"), in.ID("bob")
	require.Equal(t, uint32(0), a)
	require.Equal(t, uint32(1), b)
	require.Equal(t, a, in.ID("alice"), "ID is stable")
	id, ok := in.Lookup("bob")
	require.True(t, ok)
	require.Equal(t, b, id)
	_, ok = in.Lookup("carol")
	require.False(t, ok, "Lookup does not assign")
	require.Equal(t, "alice", in.Name(a))
	require.Equal(t, "", in.Name(99))
	require.Equal(t, 2, in.Len())

	in.Forget(a)
	require.Equal(t, "", in.Name(a), "Name after Forget")
	_, ok = in.Lookup("alice")
	require.False(t, ok, "Lookup after Forget")
	require.Equal(t, uint32(2), in.ID("alice"), "a forgotten string gets a new id")
	in.Forget(a) // forgetting again must not drop alice's new id
	id, ok = in.Lookup("alice")
	require.True(t, ok)
	require.Equal(t, uint32(2), id)

	var zero Interner
	require.Equal(t, uint32(0), zero.ID("x"), "the zero Interner is usable")
}

func ExampleIndex() {
	names := NewInterner(0)
	x := New(Desc)
	seq := uint64(0)
	for _, s := range []struct {
		user  string
		score int64
	}{{"ann", 120}, {"bob", 90}, {"cyd", 120}, {"dee", 70}, {"bob", 130}} {
		seq++ // e.g. the ledger sequence of the change
		x.Set(names.ID(s.user), s.score, 0, seq)
	}
	for _, s := range x.Top(10, Competition, nil) {
		fmt.Println(s.Rank, names.Name(s.User), s.Score)
	}
	r, _ := x.Rank(names.ID("cyd"), Dense)
	fmt.Println("cyd dense rank:", r)
	// Output:
	// 1 bob 130
	// 2 ann 120
	// 2 cyd 120
	// 4 dee 70
	// cyd dense rank: 2
}

//go:build unix

package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gamifykit/gamify/leaderboard"
)

// lbSizes are the board sizes of the leaderboard benchmarks.
var lbSizes = []struct {
	name string
	n    int
}{{"10k", 10_000}, {"100k", 100_000}, {"1M", 1_000_000}}

// lbScoreRange makes ties common (about one per score at 1M), as on real boards.
const lbScoreRange = 1_000_000

// lbEntries returns n users (ids 0..n-1) with random scores, in random order.
func lbEntries(n int, seed uint64) []leaderboard.Entry {
	rng := rand.New(rand.NewPCG(seed, 1))
	es := make([]leaderboard.Entry, n)
	for i := range es {
		es[i] = leaderboard.Entry{Score: rng.Int64N(lbScoreRange), Reached: uint64(i), User: uint32(i)}
	}
	rng.Shuffle(n, func(i, j int) { es[i], es[j] = es[j], es[i] })
	return es
}

// BenchmarkLeaderboard measures the index operations on a board of n users.
// update moves a random user to a random score (Set); update+rank is the
// per-event work, Update, which also returns the previous and the new rank;
// set+rank is the same done as Set then Rank; increment+rank is Update
// with a small gain, as on metric and points boards. Besides ns/op (wall clock) each
// reports cpu-ns/op, the process CPU time per operation, which stays
// meaningful when other work shares the machine.
func BenchmarkLeaderboard(b *testing.B) {
	for _, size := range lbSizes {
		x := leaderboard.New(leaderboard.Desc)
		if err := x.Build(lbEntries(size.n, 1)); err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(2, 3))
		seq := uint64(size.n)
		user := func() uint32 { return rng.Uint32N(uint32(size.n)) }
		update := func() uint32 {
			u := user()
			seq++
			x.Set(u, rng.Int64N(lbScoreRange), 0, seq)
			return u
		}
		dst := make([]leaderboard.Standing, 0, 128)
		ops := []struct {
			name string
			fn   func()
		}{
			{"update", func() { update() }},
			{"rank", func() { x.Rank(user(), leaderboard.Competition) }},
			{"update+rank", func() {
				seq++
				x.Update(user(), rng.Int64N(lbScoreRange), 0, seq, leaderboard.Competition)
			}},
			{"set+rank", func() { x.Rank(update(), leaderboard.Competition) }},
			{"increment+rank", func() { // a metric board: small gains, often within the leaf
				u := user()
				e, _ := x.Get(u)
				seq++
				x.Update(u, e.Score+rng.Int64N(100), 0, seq, leaderboard.Competition)
			}},
			{"top100", func() { dst = x.Top(100, leaderboard.Competition, dst[:0]) }},
			{"around10", func() { dst, _ = x.Around(user(), 10, 10, leaderboard.Competition, dst[:0]) }},
			{"select", func() { x.At(int(user())) }},
		}
		for _, op := range ops {
			b.Run(fmt.Sprintf("n=%s/op=%s", size.name, op.name), func(b *testing.B) {
				b.ReportAllocs()
				cpu := cpuTime()
				for b.Loop() {
					op.fn()
				}
				b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
		if x.Len() != size.n {
			b.Fatalf("board has %d users, want %d", x.Len(), size.n)
		}
	}
}

// BenchmarkLeaderboardDenseRank measures Rank under the Dense policy, which
// costs a second partial descent.
func BenchmarkLeaderboardDenseRank(b *testing.B) {
	const n = 1_000_000
	x := leaderboard.New(leaderboard.Desc)
	if err := x.Build(lbEntries(n, 1)); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 5))
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		x.Rank(rng.Uint32N(n), leaderboard.Dense)
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkLeaderboardTies measures a board of 1M users sharing 10 scores:
// most tie groups span thousands of leaves, so competition and dense ranks
// take the path that seeks the group's start.
func BenchmarkLeaderboardTies(b *testing.B) {
	const n = 1_000_000
	es := lbEntries(n, 1)
	for i := range es {
		es[i].Score %= 10
	}
	x := leaderboard.New(leaderboard.Desc)
	if err := x.Build(es); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	seq := uint64(n)
	for _, ties := range []leaderboard.Ties{leaderboard.Competition, leaderboard.Dense} {
		b.Run("n=1M/op=update+rank/ties="+ties.String(), func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				seq++
				x.Update(rng.Uint32N(n), rng.Int64N(10), 0, seq, ties)
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkLeaderboardBuild measures the rebuild at Open from stored scores,
// unsorted (any key order) or already in board order.
func BenchmarkLeaderboardBuild(b *testing.B) {
	const n = 1_000_000
	src := lbEntries(n, 1)
	sorted := slices.Clone(src)
	if err := leaderboard.New(leaderboard.Desc).Build(sorted); err != nil { // sorts in place
		b.Fatal(err)
	}
	for _, in := range []struct {
		name string
		es   []leaderboard.Entry
	}{{"unsorted", src}, {"sorted", sorted}} {
		b.Run("n=1M/input="+in.name, func(b *testing.B) {
			b.ReportAllocs()
			work := make([]leaderboard.Entry, n)
			for b.Loop() {
				b.StopTimer()
				copy(work, in.es)
				x := leaderboard.New(leaderboard.Desc)
				b.StartTimer()
				if err := x.Build(work); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLeaderboardMemory reports the live heap per entry of a 1M-user
// board, lookup included: right after Build, after a million random updates
// have split and merged its leaves, and after a million small gains (scores
// only climb, so entries drift to the front: the worst pattern for fill).
func BenchmarkLeaderboardMemory(b *testing.B) {
	const n = 1_000_000
	workloads := []struct {
		name string
		next func(rng *rand.Rand, old leaderboard.Entry) int64
	}{
		{"updates=0", nil},
		{"updates=1M-random", func(rng *rand.Rand, _ leaderboard.Entry) int64 { return rng.Int64N(lbScoreRange) }},
		{"updates=1M-climbing", func(rng *rand.Rand, old leaderboard.Entry) int64 { return old.Score + rng.Int64N(1000) }},
	}
	for _, w := range workloads {
		b.Run("n=1M/"+w.name, func(b *testing.B) {
			var perEntry float64
			for b.Loop() {
				es := lbEntries(n, 1)
				before := heapAlloc()
				x := leaderboard.New(leaderboard.Desc)
				if err := x.Build(es); err != nil {
					b.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(6, 7))
				for i := 0; w.next != nil && i < n; i++ {
					u := rng.Uint32N(n)
					old, _ := x.Get(u)
					x.Set(u, w.next(rng, old), 0, uint64(n+i))
				}
				perEntry = float64(heapAlloc()-before) / n
				runtime.KeepAlive(es) // counted in both readings
				runtime.KeepAlive(x)
			}
			b.ReportMetric(perEntry, "bytes/entry")
		})
	}
}

func heapAlloc() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// cpuTime returns the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSortEntries measures the sort of a rebuild's entries (500k, in
// user order as the scan at Open yields them) before Build: Build's own
// comparison sort against leaderboard.Sort (a radix sort by score, then the
// runs of equal scores), with ties broken by user alone or by reach times.
func BenchmarkSortEntries(b *testing.B) {
	for _, reach := range []string{"same", "distinct"} {
		es := make([]leaderboard.Entry, 500_000)
		for i := range es {
			es[i] = leaderboard.Entry{Score: int64(i%5000) * 1_000_000, User: uint32(i)}
			if reach == "distinct" {
				es[i].Reached = uint64(1_772_625_600_000_000_000 + (i*7919)%1_000_003)
			}
		}
		for _, sorter := range []string{"build", "radix"} {
			b.Run(fmt.Sprintf("reach=%s/sort=%s", reach, sorter), func(b *testing.B) {
				work := make([]leaderboard.Entry, len(es))
				for b.Loop() {
					copy(work, es)
					if sorter == "radix" {
						leaderboard.Sort(leaderboard.Desc, work)
					}
					if err := leaderboard.New(leaderboard.Desc).Build(work); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

package bench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gamifykit/gamify"
)

// BenchmarkDurableUnderLoad is Durable Track of the full pipeline
// (BenchmarkTrackFull) next to its raw baseline (BenchmarkBoltGroupCommit)
// while CPU-bound goroutines, two per P, keep every P busy: a game server's
// simulation beside the engine. A goroutine woken here waits for a P behind
// them, so a write path that hands its committer back to the scheduler
// (runtime.Gosched puts it on the global run queue) collapses in these rows
// and not in the idle ones; bench/RESULTS.md has the figures. Compare
// events/s only: cpu-ns/op counts the hogs too.
func BenchmarkDurableUnderLoad(b *testing.B) {
	for _, p := range []int{1, 64} {
		b.Run(fmt.Sprintf("producers=%d/engine", p), func(b *testing.B) {
			eng, ids := fullEngine(b, gamify.Durable, users, 0)
			defer eng.Close()
			ctx := context.Background()
			s0 := eng.Stats()
			defer startHogs()()
			b.ReportAllocs()
			runProducers(b, p, func(i int64) error {
				_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: ids[i%int64(len(ids))], Value: 3})
				return err
			})
			reportCommits(b, eng, s0)
		})
		b.Run(fmt.Sprintf("producers=%d/raw", p), func(b *testing.B) {
			defer startHogs()()
			groupCommit(b, p, true, nil, perEvent(oneKeyEvent))
		})
	}
}

// startHogs starts two CPU-bound goroutines per P and returns the function
// that stops them and waits for them.
func startHogs() (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			x := uint64(1)
			for !done.Load() {
				for j := range uint64(1 << 16) {
					x = x*6364136223846793005 + j
				}
			}
			hogSink.Add(x)
		})
	}
	return func() {
		done.Store(true)
		wg.Wait()
	}
}

var hogSink atomic.Uint64

package bench

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// scratch holds stores built once per process and shared by benchmarks.
var scratch string

func TestMain(m *testing.M) {
	var err error
	if scratch, err = os.MkdirTemp("", "gamify-bench"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(scratch)
	os.Exit(code)
}

var built = map[int]string{}

// boardStore returns a store with n users, each with an xp total and an
// entry on 3 leaderboards (daily, weekly and all-time), built once. With
// -storedir, the store is kept in that directory and reused by later runs (building 1M users takes about a minute), so a CPU profile
// of a run holds the Opens alone.
func boardStore(b *testing.B, n int) string {
	if p, ok := built[n]; ok {
		return p
	}
	ctx := context.Background()
	dir := cmp.Or(*storeDir, scratch)
	path := filepath.Join(dir, fmt.Sprintf("open-%d.db", n))
	done := path + ".built" // written last: a store whose build was cut short is built again
	if _, err := os.Stat(done); err == nil {
		built[n] = path
		return path
	}
	for _, p := range []string{path, path + ".log"} {
		if err := os.RemoveAll(p); err != nil {
			b.Fatal(err)
		}
	}
	clock := gamify.NewManualClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(path, &gamify.Options{Durability: gamify.Buffered, Clock: clock})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
		b.Fatal(err)
	}
	for _, lb := range []gamify.Leaderboard{
		{Key: "daily", RunEvery: 1, RunUnit: gamify.RunDay},
		{Key: "weekly", RunEvery: 1, RunUnit: gamify.RunWeek},
		{Key: "alltime"},
	} {
		lb.Name, lb.RankBy, lb.Metric = lb.Key, gamify.RankByMetric, "xp"
		if _, err := eng.Leaderboards().Create(ctx, lb); err != nil {
			b.Fatal(err)
		}
		if _, err := eng.Leaderboards().Activate(ctx, lb.Key); err != nil {
			b.Fatal(err)
		}
	}
	evs := make([]gamify.Event, 0, 1000)
	for i := range n {
		evs = append(evs, gamify.Event{Metric: "xp", User: fmt.Sprintf("user-%07d", i), Value: float64(i % 5000)})
		if len(evs) == cap(evs) || i == n-1 {
			if _, err := eng.TrackBatch(ctx, evs); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	if err := eng.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err := eng.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	built[n] = path
	return path
}

// BenchmarkOpen measures Open of a store with n users on 3 leaderboards:
// reading every user's state and rebuilding the indexes.
func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			if n > 10_000 && testing.Short() {
				b.Skip("large store: run without -short")
			}
			path := boardStore(b, n)
			clock := gamify.NewManualClock(time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC))
			b.ReportAllocs()
			b.ResetTimer()
			var cpu time.Duration // process CPU time inside Open: unlike wall time, a loaded machine does not inflate it
			for b.Loop() {
				before := cpuTime()
				eng, err := gamify.Open(path, &gamify.Options{Clock: clock})
				if err != nil {
					b.Fatal(err)
				}
				cpu += cpuTime() - before
				b.StopTimer()
				eng.Close()
				b.StartTimer()
			}
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkOpenReminders measures what reminders add to Open: the scan of
// every user that rebuilds the reminder due-queue (off: the same Open
// without Options.Reminders).
func BenchmarkOpenReminders(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("users=%d/reminders=%s", n, map[bool]string{false: "off", true: "on"}[on]), func(b *testing.B) {
				if n > 10_000 && testing.Short() {
					b.Skip("large store: run without -short")
				}
				path := boardStore(b, n)
				o := gamify.Options{Clock: gamify.NewManualClock(time.Date(2026, 3, 2, 13, 0, 0, 0, time.UTC))}
				if on {
					o.Reminders = &gamify.ReminderOptions{}
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					eng, err := gamify.Open(path, &o)
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					eng.Close()
					b.StartTimer()
				}
			})
		}
	}
}

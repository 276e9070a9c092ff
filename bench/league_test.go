//go:build unix

package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// BenchmarkLeague measures, for n users active in a weekly league run in
// cohorts of 100 (n/100 cohorts), a cohort standing read (ns/op: a user's
// tier, cohort rank and the cohort's 100 members) and, once after the
// loop, the weekly rollover that promotes the top 10 and demotes the bottom
// 10 of every cohort (rollover-ms: RunDue at the run's end, the board's
// rollover command then the league's chunks of about 1,000 results, tier
// changes and notifications each, then Flush) and
// rollover-cpu-ms (the process CPU time of the same, which stays meaningful
// when other work shares the machine). read-cpu-ns is the CPU time per read.
func BenchmarkLeague(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			if n > 10_000 && testing.Short() {
				b.Skip("large store: run without -short")
			}
			ctx := context.Background()
			clock := gamify.NewManualClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
			eng, err := gamify.Open(filepath.Join(b.TempDir(), "l.db"), &gamify.Options{Durability: gamify.Buffered, Clock: clock})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
				b.Fatal(err)
			}
			if _, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "weekly", Name: "Weekly", RankBy: gamify.RankByMetric, Metric: "xp",
				TZ: "UTC", RunEvery: 1, RunUnit: gamify.RunWeek}); err != nil {
				b.Fatal(err)
			}
			if _, err := eng.Leaderboards().Activate(ctx, "weekly"); err != nil {
				b.Fatal(err)
			}
			if _, err := eng.Leagues().Create(ctx, gamify.League{Key: "league", Name: "League", Board: "weekly",
				Tiers: []string{"bronze", "silver", "gold", "sapphire", "ruby"}, CohortSize: 100, Promote: 10, Demote: 10}); err != nil {
				b.Fatal(err)
			}
			evs := make([]gamify.Event, 0, 1000)
			for i := range n {
				evs = append(evs, gamify.Event{Metric: "xp", User: fmt.Sprintf("user-%07d", i), Value: float64(1 + i*7919%9973)})
				if len(evs) == cap(evs) {
					if _, err := eng.TrackBatch(ctx, evs); err != nil {
						b.Fatal(err)
					}
					evs = evs[:0]
				}
			}
			if err := eng.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			user := fmt.Sprintf("user-%07d", n/2)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0, reads := cpuTime(), 0
			for b.Loop() {
				reads++
				st, err := eng.Leagues().Standing(ctx, "league", user)
				if err != nil || len(st.Members) != 100 {
					b.Fatal(err, len(st.Members))
				}
			}
			b.StopTimer()
			readCPU := float64((cpuTime() - cpu0).Nanoseconds()) / float64(reads)
			st, err := eng.Leagues().Standing(ctx, "league", user)
			if err != nil {
				b.Fatal(err)
			}
			clock.Set(st.RunEnd)
			start, cpu1 := time.Now(), cpuTime()
			if _, err := eng.RunDue(ctx); err != nil {
				b.Fatal(err)
			}
			if err := eng.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			roll, rollCPU := time.Since(start), cpuTime()-cpu1
			h, err := eng.Leagues().History(ctx, "league", user, 1)
			if err != nil || len(h) != 1 {
				b.Fatal(err, h)
			}
			b.ReportMetric(float64(roll.Milliseconds()), "rollover-ms")
			b.ReportMetric(float64(rollCPU.Milliseconds()), "rollover-cpu-ms")
			b.ReportMetric(readCPU, "read-cpu-ns")
		})
	}
}

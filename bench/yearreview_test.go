package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// BenchmarkYearInReview measures one user's year in review in a store of n
// users who were active on a few random days of 2026, with 3 metrics, a
// points system, a daily streak and a leaderboard. The reviewed user was
// active every day of the year. The first review builds the year's
// distributions (reported as build-ms); the loop measures later reviews.
func BenchmarkYearInReview(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			if n > 1_000 && testing.Short() {
				b.Skip("large store: run without -short")
			}
			ctx := context.Background()
			start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
			clock := gamify.NewManualClock(start)
			eng, err := gamify.Open(filepath.Join(b.TempDir(), "y.db"), &gamify.Options{Durability: gamify.Buffered, Clock: clock})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			metrics := []string{"steps", "km", "sessions"}
			for _, m := range metrics {
				if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: m, Name: m}); err != nil {
					b.Fatal(err)
				}
			}
			must := func(_ any, err error) {
				if err != nil {
					b.Fatal(err)
				}
			}
			must(eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"}))
			must(eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-step", System: "xp", Kind: gamify.TriggerMetric, Metric: "steps",
				Threshold: gamify.AmountFromInt(100), Points: gamify.AmountFromInt(1)}))
			must(eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
				Metrics: []gamify.StreakMetric{{Metric: "sessions", Min: gamify.AmountFromInt(1)}}}))
			must(eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "steps", Name: "Steps", RankBy: gamify.RankByMetric, Metric: "steps"}))
			must(eng.Leaderboards().Activate(ctx, "steps"))

			// Each user is active on 5 random days; the reviewed user every day.
			rng := rand.New(rand.NewPCG(1, 2))
			days := make([][]int, 365)
			for u := range n {
				for range 5 {
					d := rng.IntN(365)
					days[d] = append(days[d], u)
				}
			}
			const me = "user-me"
			var evs []gamify.Event
			for d := range 365 {
				clock.Set(start.AddDate(0, 0, d))
				evs = evs[:0]
				for _, u := range append(days[d], -1) {
					id := me
					if u >= 0 {
						id = fmt.Sprintf("user-%07d", u)
					}
					for _, m := range metrics {
						evs = append(evs, gamify.Event{Metric: m, User: id, Value: float64(1 + rng.IntN(5000))})
					}
				}
				for lo := 0; lo < len(evs); lo += 1000 {
					if _, err := eng.TrackBatch(ctx, evs[lo:min(lo+1000, len(evs))]); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := eng.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			r, err := eng.Users().YearInReview(ctx, me, 2026)
			if err != nil {
				b.Fatal(err)
			}
			build := time.Since(t0)
			if r.DaysActive != 365 || len(r.Metrics) != 3 || r.Metrics[0].ActiveUsers < n/2 {
				b.Fatalf("unexpected review: %d days, %d metrics, %d active", r.DaysActive, len(r.Metrics), r.Metrics[0].ActiveUsers)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := eng.Users().YearInReview(ctx, me, 2026); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(build.Milliseconds()), "build-ms") // after the loop: ResetTimer drops metrics
		})
	}
}

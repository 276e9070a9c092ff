package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// BenchmarkParticipantsPage measures a page of the participants list sorted
// by total points (page 500 of size 50, or the middle page for smaller
// stores), with the indexes already built.
func BenchmarkParticipantsPage(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			if n > 10_000 && testing.Short() {
				b.Skip("large store: run without -short")
			}
			ctx := context.Background()
			clock := gamify.NewManualClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
			eng, err := gamify.Open(filepath.Join(b.TempDir(), "p.db"), &gamify.Options{Durability: gamify.Buffered, Clock: clock})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
				b.Fatal(err)
			}
			if _, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"}); err != nil {
				b.Fatal(err)
			}
			if _, err := eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per1", System: "coins", Kind: gamify.TriggerMetric, Metric: "xp",
				Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(1)}); err != nil {
				b.Fatal(err)
			}
			evs := make([]gamify.Event, 0, 1000)
			for i := range n {
				evs = append(evs, gamify.Event{Metric: "xp", User: fmt.Sprintf("user-%07d", i), Value: float64(1 + i%9973)})
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
			page := min(500, n/100)
			q := gamify.UserQuery{Sort: gamify.SortTotalPoints, Descending: true, Page: page, PageSize: 50}
			start := time.Now()
			if _, err := eng.Users().List(ctx, q); err != nil { // builds the indexes
				b.Fatal(err)
			}
			build := time.Since(start)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				p, err := eng.Users().List(ctx, q)
				if err != nil || len(p.Rows) != 50 {
					b.Fatal(err, len(p.Rows))
				}
			}
			b.ReportMetric(float64(build.Milliseconds()), "build-ms") // after the loop: ResetTimer drops metrics
		})
	}
}

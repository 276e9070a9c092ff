package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// BenchmarkTrackPoints is BenchmarkTrack (buffered, one producer) with a
// points system of 3 metric triggers and 2 active boosts, next to the same
// events with no points system: the difference is the points cost per event.
func BenchmarkTrackPoints(b *testing.B) {
	for _, withPoints := range []bool{false, true} {
		b.Run(fmt.Sprintf("points=%v", withPoints), func(b *testing.B) {
			ctx := context.Background()
			clock := gamify.NewManualClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
			eng, err := gamify.Open(filepath.Join(b.TempDir(), "bench.db"), &gamify.Options{Durability: gamify.Buffered, Clock: clock})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
				b.Fatal(err)
			}
			if withPoints {
				if _, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"}); err != nil {
					b.Fatal(err)
				}
				for i, th := range []int64{1, 10, 100} {
					if _, err := eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: fmt.Sprint("t", i), System: "coins", Kind: gamify.TriggerMetric,
						Metric: "xp", Threshold: gamify.AmountFromInt(th), Points: gamify.AmountFromInt(th)}); err != nil {
						b.Fatal(err)
					}
				}
				for i, m := range []gamify.Amount{gamify.AmountFromInt(2), gamify.MustParseAmount("1.5")} {
					if _, err := eng.Points().Boosts().Create(ctx, gamify.Boost{Key: fmt.Sprint("b", i), System: "coins", Scope: gamify.BoostGlobal,
						From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: m}); err != nil {
						b.Fatal(err)
					}
				}
			}
			ids := userIDs(users)
			warmUsers(b, eng, ids)
			b.ReportAllocs()
			runProducers(b, 1, func(i int64) error {
				_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: ids[i%users], Value: 3})
				return err
			})
			if err := eng.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

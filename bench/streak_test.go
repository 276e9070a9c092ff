package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// BenchmarkTrackStreak is BenchmarkTrack with a daily streak counting the
// metric (2 h grace, freezes with auto-earn): the difference is the streak's
// cost per event on the write path. The pure update alone is
// streak.BenchmarkApply.
func BenchmarkTrackStreak(b *testing.B) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		for _, streak := range []bool{false, true} {
			b.Run(fmt.Sprintf("mode=%s/streak=%v", mode, streak), func(b *testing.B) {
				ctx := context.Background()
				clock := gamify.NewManualClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
				eng, err := gamify.Open(filepath.Join(b.TempDir(), "bench.db"), &gamify.Options{Durability: mode, Clock: clock})
				if err != nil {
					b.Fatal(err)
				}
				defer eng.Close()
				if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
					b.Fatal(err)
				}
				if streak {
					_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
						Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(10)}}, GraceHours: 2,
						Freezes: gamify.StreakFreezes{Initial: 1, Max: 3, EarnAmount: 1, EarnEveryDays: 7}})
					if err != nil {
						b.Fatal(err)
					}
				}
				ids := userIDs(users)
				b.ReportAllocs()
				runProducers(b, 1, func(i int64) error {
					if i%int64(users*4) == 0 && i > 0 {
						clock.Advance(6 * time.Hour) // four events per user a day
					}
					_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: ids[i%users], Value: 5})
					return err
				})
				if err := eng.Flush(ctx); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

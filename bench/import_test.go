package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// BenchmarkImportBatches measures the engine's side of "gamify import":
// TrackBatch of 1000 back-dated events in Buffered mode, spread over 10,000
// users in a fixed shuffle, on the game of the command's 1M-event test (a
// metric, a points trigger on it, a metric leaderboard), with and without an
// idempotency key per event (import always gives one). Compare its events/s
// with the command's (bench/RESULTS.md) to see what reading and decoding
// lines adds.
func BenchmarkImportBatches(b *testing.B) {
	for _, keys := range []bool{true, false} {
		b.Run(fmt.Sprintf("keys=%t", keys), func(b *testing.B) {
			ctx := context.Background()
			eng, err := gamify.Open(filepath.Join(b.TempDir(), "bench.db"), &gamify.Options{Durability: gamify.Buffered, MaxEventAge: 10 * 365 * 24 * time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			_, err = eng.Apply(ctx, gamify.Game{
				Metrics: []gamify.Metric{{Key: "words", Name: "Words"}},
				Points: []gamify.PointsSystem{{Key: "xp", Name: "XP", Triggers: []gamify.Trigger{{Key: "xp-words", Kind: gamify.TriggerMetric,
					Metric: "words", Threshold: gamify.AmountFromInt(10), Points: gamify.AmountFromInt(1)}}}},
				Leaderboards: []gamify.Leaderboard{{Key: "top", Name: "Top", RankBy: gamify.RankByMetric, Metric: "words"}},
			})
			if err != nil {
				b.Fatal(err)
			}
			base := time.Now().Add(-30 * 24 * time.Hour).Truncate(time.Second)
			batch := make([]gamify.Event, 0, 1000)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ev := gamify.Event{Metric: "words", User: fmt.Sprintf("u%05d", (i*7919)%users),
					Amount: gamify.AmountFromInt(int64(1 + i%9)), Time: base.Add(time.Duration(i%1_000_000) * time.Second)}
				if keys {
					ev.IdempotencyKey = fmt.Sprintf("k%d", i+1)
				}
				if batch = append(batch, ev); len(batch) == cap(batch) || i == b.N-1 {
					if _, err := eng.TrackBatch(ctx, batch); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
			}
			if err := eng.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

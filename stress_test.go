package gamify_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestStressConcurrentEverything runs producers, readers, admin changes and
// the scheduler at once for a bounded time; the race detector and Check (at
// cleanup) judge the outcome, and nothing acknowledged may be missing.
func TestStressConcurrentEverything(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		t.Run(mode.String(), func(t *testing.T) {
			eng, _ := streakEngine(t, &gamify.Options{Durability: mode}, nil)
			for _, b := range []gamify.Leaderboard{
				{Key: "daily", RunEvery: 1, RunUnit: gamify.RunDay},
				{Key: "capped", MaxParticipants: 5},
			} {
				b.Name, b.RankBy, b.Metric, b.TZ = b.Key, gamify.RankByMetric, "steps", "America/New_York"
				_, err := eng.Leaderboards().Create(ctx, b)
				require.NoError(t, err)
				_, err = eng.Leaderboards().Activate(ctx, b.Key)
				require.NoError(t, err)
			}
			var notes atomic.Int64
			sub := eng.Subscribe(func(gamify.Notification) { notes.Add(1) })
			defer sub.Close()

			deadline := time.Now().Add(1500 * time.Millisecond)
			var acked [8]atomic.Int64
			var wg sync.WaitGroup
			for p := range 8 {
				wg.Go(func() {
					for i := 0; time.Now().Before(deadline); i++ {
						_, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: fmt.Sprintf("u%d", (p*7+i)%20), Value: 100,
							IdempotencyKey: fmt.Sprintf("p%d-%d", p, i)})
						if err != nil {
							t.Error(err)
							return
						}
						acked[p].Add(1)
					}
				})
			}
			for r := range 3 {
				wg.Go(func() {
					for i := 0; time.Now().Before(deadline); i++ {
						u := fmt.Sprintf("u%d", (r+i)%20)
						_, _ = eng.Leaderboards().Rankings(ctx, "daily", gamify.BoardQuery{Limit: 10})
						_, _ = eng.Leaderboards().UserRank(ctx, "capped", u)
						_, _ = eng.Users().Streak(ctx, u, "walk")
						_, _ = eng.Users().Metric(ctx, u, "steps")
						_, _ = eng.Metrics().List(ctx, gamify.ListOptions{})
						_, _ = eng.Users().YearInReview(ctx, u, 0)
						_, _ = eng.Users().List(ctx, gamify.UserQuery{Sort: gamify.SortLastEvent, PageSize: 5})
					}
				})
			}
			wg.Go(func() { // admin and scheduler
				for i := 0; time.Now().Before(deadline); i++ {
					_, err := eng.Metrics().Create(ctx, gamify.Metric{Key: fmt.Sprintf("m%d", i), Name: "M"})
					if err != nil {
						t.Error(err)
						return
					}
					eng.clock.Advance(3 * time.Hour)
					if _, err := eng.RunDue(ctx); err != nil {
						t.Error(err)
						return
					}
					if i%7 == 3 { // a hard delete drops the year and participant indexes mid-traffic
						if err := eng.Users().Erase(ctx, fmt.Sprintf("gone%d", i)); err != nil && !errors.Is(err, gamify.ErrNotFound) {
							t.Error(err)
							return
						}
						if _, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: fmt.Sprintf("gone%d", i+7), Value: 1}); err != nil {
							t.Error(err)
							return
						}
					}
					if i%5 == 0 {
						if err := eng.Flush(ctx); err != nil {
							t.Error(err)
							return
						}
					}
					time.Sleep(10 * time.Millisecond)
				}
			})
			wg.Wait()
			require.NoError(t, eng.Flush(ctx))
			var want, got int64
			for p := range acked {
				want += acked[p].Load()
			}
			for u := range 20 {
				m, err := eng.Users().Metric(ctx, fmt.Sprintf("u%d", u), "steps")
				if err == nil {
					got += m.Total.Floor()
				}
			}
			require.Equal(t, want*100, got, "every acknowledged event counts once")
			require.Positive(t, notes.Load())
		})
	}
}

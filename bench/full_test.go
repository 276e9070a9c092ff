package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// fullEngine opens an engine with every feature on: 3 leaderboards (daily,
// weekly with a country breakdown, all-time), a daily streak, a points
// system with 3 triggers and a boost, and 5 achievements (4 metric, 1
// composite); n users are known (one event each) before it returns.
func fullEngine(b *testing.B, mode gamify.Durability, n, cache int) (*gamify.Engine, []string) {
	return fullEngineAt(b, filepath.Join(b.TempDir(), "full.db"), &gamify.Options{Durability: mode, UserCache: cache}, n)
}

// fullEngine0 is the clock of every full-pipeline store.
var fullEngine0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// fullEngineAt is fullEngine on a file at path with options opts (a manual
// clock at fullEngine0 unless opts has one).
func fullEngineAt(b *testing.B, path string, opts *gamify.Options, n int) (*gamify.Engine, []string) {
	ctx := context.Background()
	if opts.Clock == nil {
		opts.Clock = gamify.NewManualClock(fullEngine0)
	}
	eng, err := gamify.Open(path, opts)
	if err != nil {
		b.Fatal(err)
	}
	must := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}))
	must(eng.Attributes().Create(ctx, gamify.Attribute{Key: "country", Name: "Country", Type: gamify.UserAttribute}))
	must(eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(10)}}, Freezes: gamify.StreakFreezes{Initial: 1, Max: 3}}))
	for _, lb := range []gamify.Leaderboard{
		{Key: "daily", RunEvery: 1, RunUnit: gamify.RunDay},
		{Key: "weekly", RunEvery: 1, RunUnit: gamify.RunWeek, Breakdown: []string{"country"}},
		{Key: "alltime"},
	} {
		lb.Name, lb.RankBy, lb.Metric = lb.Key, gamify.RankByMetric, "xp"
		must(eng.Leaderboards().Create(ctx, lb))
		must(eng.Leaderboards().Activate(ctx, lb.Key))
	}
	must(eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"}))
	for i, th := range []int64{1, 10, 100} {
		must(eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: fmt.Sprint("t", i), System: "coins", Kind: gamify.TriggerMetric,
			Metric: "xp", Threshold: gamify.AmountFromInt(th), Points: gamify.AmountFromInt(th)}))
	}
	must(eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "weekend", System: "coins", Scope: gamify.BoostGlobal,
		From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: gamify.AmountFromInt(2)}))
	for i, th := range []int64{10, 100, 1000, 10000} {
		must(eng.Achievements().Create(ctx, gamify.Achievement{Key: fmt.Sprint("a", i), Name: "A", Kind: gamify.AchievementMetric,
			Metric: "xp", Threshold: gamify.AmountFromInt(th)}))
	}
	must(eng.Achievements().Create(ctx, gamify.Achievement{Key: "all", Name: "All", Kind: gamify.AchievementComposite,
		Prerequisites: []string{"a0", "a1"}}))
	if _, err := eng.RunDue(ctx); err != nil {
		b.Fatal(err)
	}
	ids := userIDs(n)
	evs := make([]gamify.Event, 0, 1000)
	for i, id := range ids {
		evs = append(evs, gamify.Event{Metric: "xp", User: id, Value: 1,
			Profile: &gamify.UserInput{Attributes: map[string]string{"country": []string{"FR", "DE", "US"}[i%3]}}})
		if len(evs) == cap(evs) || i == len(ids)-1 {
			if _, err := eng.TrackBatch(ctx, evs); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	return eng, ids
}

// BenchmarkTrackFull measures Track with every feature on, next to the raw
// baselines (BenchmarkBoltUpdate, BenchmarkBoltGroupCommit) of the same run.
func BenchmarkTrackFull(b *testing.B) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		for _, p := range []int{1, 64} {
			b.Run(fmt.Sprintf("mode=%s/producers=%d", mode, p), func(b *testing.B) {
				benchFull(b, mode, p, func(user string, _ int64) gamify.Event {
					return gamify.Event{Metric: "xp", User: user, Value: 3}
				})
			})
		}
	}
}

// BenchmarkTrackFullIdempotent is BenchmarkTrackFull with an idempotency
// key on every event, as a client retrying over a network sends: one more
// record per event, whose keys come in no order.
func BenchmarkTrackFullIdempotent(b *testing.B) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		p := map[gamify.Durability]int{gamify.Durable: 64, gamify.Buffered: 1}[mode]
		b.Run(fmt.Sprintf("mode=%s/producers=%d", mode, p), func(b *testing.B) {
			benchFull(b, mode, p, func(user string, i int64) gamify.Event {
				return gamify.Event{Metric: "xp", User: user, Value: 3, IdempotencyKey: fmt.Sprintf("ev-%d", i)}
			})
		})
	}
}

// benchFull tracks the i-th event of b.N, ev(user, i), from p producers on
// a fullEngine of users users, round robin, and reports the commits.
func benchFull(b *testing.B, mode gamify.Durability, p int, ev func(user string, i int64) gamify.Event) {
	eng, ids := fullEngine(b, mode, users, 0)
	defer eng.Close()
	ctx := context.Background()
	b.ReportAllocs()
	s0 := eng.Stats()
	runProducers(b, p, func(i int64) error {
		_, err := eng.Track(ctx, ev(ids[i%int64(len(ids))], i))
		return err
	})
	if err := eng.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	reportCommits(b, eng, s0)
}

// reportCommits reports the group commits of the timed part (since s0):
// events per commit and the mean commit time (the command log's append and
// fsync, with the staging beside it).
func reportCommits(b *testing.B, eng *gamify.Engine, s0 gamify.Stats) {
	s := eng.Stats()
	n := s.CommitLatency.Count - s0.CommitLatency.Count
	if n == 0 || s.Batches == s0.Batches {
		return
	}
	b.ReportMetric(float64(s.Events-s0.Events)/float64(s.Batches-s0.Batches), "events/commit")
	b.ReportMetric(float64(s.CommitLatency.Sum-s0.CommitLatency.Sum)/float64(n)/1e3, "commit-us")
}

// BenchmarkTrackFullScaling is BenchmarkTrackFull (buffered, one producer)
// over stores of 10k, 100k and 1M users, with the default user cache and
// with one holding every user: the cost per event should stay flat.
func BenchmarkTrackFullScaling(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		for _, cache := range []int{0, 2 * n} {
			name := fmt.Sprintf("users=%d/cache=default", n)
			if cache > 0 {
				name = fmt.Sprintf("users=%d/cache=all", n)
			}
			b.Run(name, func(b *testing.B) { benchScaling(b, n, cache) })
		}
	}
}

func benchScaling(b *testing.B, n, cache int) {
	if n > 10_000 && testing.Short() {
		b.Skip("large store: run without -short")
	}
	var eng *gamify.Engine
	var ids []string
	if *storeDir != "" && n >= 1_000_000 {
		// A copy of the store built once: its user cache starts empty,
		// where a fresh store's holds the last users it created.
		path := filepath.Join(b.TempDir(), "full.db")
		copyStore(b, fullStore(b, n), path)
		var err error
		if eng, err = gamify.Open(path, &gamify.Options{Durability: gamify.Buffered, UserCache: cache,
			Clock: gamify.NewManualClock(fullEngine0)}); err != nil {
			b.Fatal(err)
		}
		ids = userIDs(n)
	} else {
		eng, ids = fullEngine(b, gamify.Buffered, n, cache)
	}
	defer eng.Close()
	ctx := context.Background()
	b.ReportAllocs()
	runProducers(b, 1, func(i int64) error {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: ids[(i*7919)%int64(len(ids))], Value: 3})
		return err
	})
	if err := eng.Flush(ctx); err != nil {
		b.Fatal(err)
	}
}

package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
)

// BenchmarkTrackOutbox measures the outbox's cost on the write path: each
// Track is a user's first event on "xp", which completes an achievement and
// so emits one AchievementCompleted. With outbox=off the users are in the
// control group, so the engine does the same work and drops the
// notification before the commit (no outbox record, no subscriber); the
// difference between the two is the recording of one notification.
func BenchmarkTrackOutbox(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("outbox=%s", map[bool]string{false: "off", true: "on"}[on]), func(b *testing.B) {
			ctx := context.Background()
			eng, err := gamify.Open(filepath.Join(b.TempDir(), "bench.db"), &gamify.Options{Durability: gamify.Buffered})
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			for _, m := range []string{"xp", "warm"} {
				if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: m, Name: m}); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := eng.Achievements().Create(ctx, gamify.Achievement{Key: "first", Name: "First", Kind: gamify.AchievementMetric,
				Metric: "xp", Threshold: gamify.AmountFromInt(1)}); err != nil {
				b.Fatal(err)
			}
			control := !on
			ids := userIDs(b.N)
			evs := make([]gamify.Event, 0, 1000)
			for i, id := range ids { // the users, created beforehand on another metric
				evs = append(evs, gamify.Event{Metric: "warm", User: id, Value: 1, Profile: &gamify.UserInput{ID: id, Control: &control}})
				if len(evs) == cap(evs) || i == len(ids)-1 {
					if _, err := eng.TrackBatch(ctx, evs); err != nil {
						b.Fatal(err)
					}
					evs = evs[:0]
				}
			}
			if err := eng.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			before, err := eng.Outbox().Info(ctx)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			runProducers(b, 1, func(i int64) error {
				_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: ids[i], Value: 1})
				return err
			})
			if err := eng.Flush(ctx); err != nil {
				b.Fatal(err)
			}
			after, err := eng.Outbox().Info(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if want := map[bool]uint64{false: 0, true: uint64(b.N)}[on]; after.Last-before.Last != want {
				b.Fatalf("outbox grew by %d entries, want %d", after.Last-before.Last, want)
			}
		})
	}
}

// BenchmarkTrackReminders measures what reminders cost the write path:
// Track on 10,000 users with a daily streak, the clock moving a day every
// 10,000 events, so that every event is its user's first of a local day
// (the case that queues the user's reminders again; later events of the
// day cost nothing more).
func BenchmarkTrackReminders(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("reminders=%s", map[bool]string{false: "off", true: "on"}[on]), func(b *testing.B) {
			ctx := context.Background()
			clock := gamify.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
			o := gamify.Options{Durability: gamify.Buffered, Clock: clock}
			if on {
				o.Reminders = &gamify.ReminderOptions{}
			}
			eng, err := gamify.Open(filepath.Join(b.TempDir(), "bench.db"), &o)
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
				b.Fatal(err)
			}
			if _, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily, Default: true,
				Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}}); err != nil {
				b.Fatal(err)
			}
			ids := userIDs(users)
			warmUsers(b, eng, ids)
			b.ReportAllocs()
			runProducers(b, 1, func(i int64) error {
				if i%users == 0 {
					clock.Advance(24 * time.Hour)
				}
				_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: ids[i%users], Value: 1})
				return err
			})
		})
	}
}

// BenchmarkReminderHour measures sending streak reminders: b.N users in
// one zone whose daily streak is at risk, all reminded by one RunDue at
// their hour (chunks of 1,000 users per command, one StreakReminder each).
func BenchmarkReminderHour(b *testing.B) {
	ctx := context.Background()
	clock := gamify.NewManualClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(filepath.Join(b.TempDir(), "bench.db"), &gamify.Options{Durability: gamify.Buffered, Clock: clock,
		Reminders: &gamify.ReminderOptions{}})
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	if _, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}); err != nil {
		b.Fatal(err)
	}
	if _, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily, Default: true,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}}); err != nil {
		b.Fatal(err)
	}
	warmUsers(b, eng, userIDs(b.N))
	clock.Set(time.Date(2026, 3, 3, 19, 0, 0, 0, time.UTC))
	if _, err := eng.RunDue(ctx); err != nil {
		b.Fatal(err)
	}
	if err := eng.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	before, err := eng.Outbox().Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	clock.Set(time.Date(2026, 3, 3, 20, 0, 0, 0, time.UTC))
	b.ReportAllocs()
	b.ResetTimer()
	n, err := eng.RunDue(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	after, err := eng.Outbox().Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if n != b.N || after.Last-before.Last != uint64(b.N) {
		b.Fatalf("RunDue processed %d users and sent %d reminders, want %d", n, after.Last-before.Last, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reminders/s")
}

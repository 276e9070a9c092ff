package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/store"
)

// recordUsers is how many users BenchmarkCachedUser fills the cache with.
const recordUsers = 10_000

// recordEngine opens an engine with the shape of issue 16's cached record
// (8 badges, 2 points systems with 12 triggers between them, 1 streak) and
// gives recordUsers users 10 daily events each, so that every badge is
// earned, every trigger has paid and the streak is 10 days long. Nothing is
// checkpointed before Close: two such engines stage the same records.
func recordEngine(b *testing.B, path string, cache int) *gamify.Engine {
	ctx := context.Background()
	clock := gamify.NewManualClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(path, &gamify.Options{Durability: gamify.Buffered, Clock: clock, UserCache: cache,
		CheckpointInterval: time.Hour, CheckpointSize: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	must := func(_ any, err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"}))
	must(eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}}))
	for _, sys := range []string{"coins", "gems"} {
		must(eng.Points().Create(ctx, gamify.PointsSystem{Key: sys, Name: sys}))
		for i := range 6 {
			must(eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: fmt.Sprint(sys, i), System: sys, Kind: gamify.TriggerMetric,
				Metric: "xp", Threshold: gamify.AmountFromInt(int64(i + 1)), Points: gamify.AmountFromInt(10)}))
		}
	}
	for i := range 8 {
		must(eng.Achievements().Create(ctx, gamify.Achievement{Key: fmt.Sprint("badge", i), Name: "Badge", Kind: gamify.AchievementMetric,
			Metric: "xp", Threshold: gamify.AmountFromInt(int64(i + 1))}))
	}
	ids := userIDs(recordUsers)
	for range 10 {
		warmUsers(b, eng, ids) // one xp event of 1 per user
		clock.Advance(24 * time.Hour)
	}
	if err := eng.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	return eng
}

// liveHeap returns the bytes of live heap objects and of in-use spans after
// a full collection.
func liveHeap() (alloc, inuse uint64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.HeapInuse
}

// BenchmarkCachedUser measures what a user in the writer's cache
// (Options.UserCache) costs in memory, for issue 16's record shape: the
// heap of an engine holding recordUsers users in its cache less that of
// the same engine after the same events with a cache of 1, per user
// (B/user live objects, inuse-B/user in-use spans), and the encoded sizes
// of the user's records in the file (state-B, profile-B). Run it with
// -benchtime 1x: each iteration builds both engines.
func BenchmarkCachedUser(b *testing.B) {
	var alloc, inuse, state, profile float64
	for b.Loop() {
		dir := b.TempDir()
		var heap [2][2]uint64
		for i, cache := range []int{2 * recordUsers, 1} {
			eng := recordEngine(b, filepath.Join(dir, fmt.Sprint(i, ".db")), cache)
			if n := eng.Stats().UsersCached; (i == 0) != (n >= recordUsers) {
				b.Fatalf("UserCache %d holds %d users", cache, n)
			}
			heap[i][0], heap[i][1] = liveHeap()
			runtime.KeepAlive(eng)
			if err := eng.Close(); err != nil {
				b.Fatal(err)
			}
		}
		alloc += float64(int64(heap[0][0]-heap[1][0])) / recordUsers
		inuse += float64(int64(heap[0][1]-heap[1][1])) / recordUsers

		db, err := store.Open(filepath.Join(dir, "0.db"), store.Options{LockTimeout: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		var stateBytes, profileBytes, users int
		err = db.View(func(tx *store.Tx) error {
			if err := tx.Scan(store.State, nil, func(_, v []byte) error { stateBytes += len(v); return nil }); err != nil {
				return err
			}
			return tx.Scan(store.Users, nil, func(_, v []byte) error { profileBytes += len(v); users++; return nil })
		})
		db.Close()
		if err != nil {
			b.Fatal(err)
		}
		if users != recordUsers {
			b.Fatalf("%d users in the file, want %d", users, recordUsers)
		}
		state += float64(stateBytes) / recordUsers
		profile += float64(profileBytes) / recordUsers
	}
	n := float64(b.N)
	b.ReportMetric(alloc/n, "B/user")
	b.ReportMetric(inuse/n, "inuse-B/user")
	b.ReportMetric(state/n, "state-B")
	b.ReportMetric(profile/n, "profile-B")
}

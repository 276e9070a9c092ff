package gamify

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

// fullPipeline opens an engine with every feature on on the metric xp: three
// boards (one with a breakdown), a daily streak, points with three triggers
// and a boost, five achievements.
func fullPipeline(tb testing.TB) *Engine {
	ctx := context.Background()
	eng, err := Open(filepath.Join(tb.TempDir(), "full.db"), &Options{Durability: Buffered,
		Clock: NewManualClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	must := func(_ any, err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(eng.Metrics().Create(ctx, Metric{Key: "xp", Name: "XP"}))
	must(eng.Attributes().Create(ctx, Attribute{Key: "country", Name: "Country", Type: UserAttribute}))
	must(eng.Streaks().Create(ctx, Streak{Key: "daily", Name: "Daily", Frequency: StreakDaily,
		Metrics: []StreakMetric{{Metric: "xp", Min: AmountFromInt(10)}}, Freezes: StreakFreezes{Initial: 1, Max: 3}}))
	for _, lb := range []Leaderboard{
		{Key: "daily", RunEvery: 1, RunUnit: RunDay},
		{Key: "weekly", RunEvery: 1, RunUnit: RunWeek, Breakdown: []string{"country"}},
		{Key: "alltime"},
	} {
		lb.Name, lb.RankBy, lb.Metric = lb.Key, RankByMetric, "xp"
		must(eng.Leaderboards().Create(ctx, lb))
		must(eng.Leaderboards().Activate(ctx, lb.Key))
	}
	must(eng.Points().Create(ctx, PointsSystem{Key: "coins", Name: "Coins"}))
	for i, th := range []int64{1, 10, 100} {
		must(eng.Points().Triggers().Create(ctx, Trigger{Key: fmt.Sprint("t", i), System: "coins", Kind: TriggerMetric,
			Metric: "xp", Threshold: AmountFromInt(th), Points: AmountFromInt(th)}))
	}
	must(eng.Points().Boosts().Create(ctx, Boost{Key: "weekend", System: "coins", Scope: BoostGlobal,
		From: Date{Year: 2026, Month: 1, Day: 1}, Multiplier: AmountFromInt(2)}))
	for i, th := range []int64{10, 100, 1000, 10000} {
		must(eng.Achievements().Create(ctx, Achievement{Key: fmt.Sprint("a", i), Name: "A", Kind: AchievementMetric,
			Metric: "xp", Threshold: AmountFromInt(th)}))
	}
	must(eng.Achievements().Create(ctx, Achievement{Key: "all", Name: "All", Kind: AchievementComposite,
		Prerequisites: []string{"a0", "a1"}}))
	return eng
}

// fullUser returns the working record of a user of fullPipeline after 40
// events: the record the full-pipeline benchmark seals once per event.
func fullUser(tb testing.TB) *userRec {
	eng := fullPipeline(tb)
	for range 40 {
		if _, err := eng.Track(context.Background(), Event{Metric: "xp", User: "user-1", Value: 3,
			Profile: &UserInput{Attributes: map[string]string{"country": "FR"}}}); err != nil {
			tb.Fatal(err)
		}
	}
	eng.w.mu.Lock()
	defer eng.w.mu.Unlock()
	u := eng.w.users["user-1"]
	if u == nil || len(u.s.Boards) != 3 || len(u.s.Streaks) != 1 || len(u.s.Points) != 1 {
		tb.Fatalf("the user's record lacks a section: %+v", u)
	}
	return u
}

// BenchmarkStateMarshal is the seal's encoding of one full-pipeline user
// record into a reused buffer (warm caches: the instructions alone).
func BenchmarkStateMarshal(b *testing.B) {
	u := fullUser(b)
	buf := u.s.marshal(nil)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = u.s.marshal(buf[:0])
	}
}

// A Track's result lists live in its own command (resultRoom): a later
// command never writes into an earlier result, and a caller appending to
// one result changes no other.
func TestTrackResultListsAreTheirOwn(t *testing.T) {
	ctx := context.Background()
	eng := fullPipeline(t)
	track := func() EventResult {
		r, err := eng.Track(ctx, Event{Metric: "xp", User: "u", Value: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Leaderboards) != 3 || r.Streak == nil || len(r.Points) != 1 {
			t.Fatalf("the result lacks a list: %+v", r)
		}
		return r
	}
	snapshot := func(r EventResult) EventResult {
		c := r
		c.Leaderboards = slices.Clone(r.Leaderboards)
		c.Points = slices.Clone(r.Points)
		s := *r.Streak
		c.Streak = &s
		return c
	}
	first := track()
	want := snapshot(first)
	second := track()
	if !reflect.DeepEqual(first, want) {
		t.Fatalf("a later Track changed an earlier result:\n got %+v\nwant %+v", first, want)
	}
	if first.Streak == second.Streak || &first.Leaderboards[0] == &second.Leaderboards[0] || &first.Points[0] == &second.Points[0] {
		t.Fatal("two results share a list")
	}
	if first.Leaderboards[0].Rank == second.Leaderboards[0].Rank && first.Points[0].Total == second.Points[0].Total {
		t.Fatal("the two events should differ in total") // else the check above proves little
	}
	wantSecond := snapshot(second)
	first.Leaderboards = append(first.Leaderboards, LeaderboardChange{Key: "x"})
	first.Points = append(first.Points, PointsChange{System: "x"})
	first.Streak.Length = -1
	if !reflect.DeepEqual(second, wantSecond) {
		t.Fatalf("changing one result changed another:\n got %+v\nwant %+v", second, wantSecond)
	}
}

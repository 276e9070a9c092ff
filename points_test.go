package gamify_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func pointsEngine(t *testing.T, triggers ...gamify.Trigger) *testEngine {
	t.Helper()
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	mustMetric(t, eng.Engine, "energy")
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	for _, tr := range triggers {
		_, err := eng.Points().Triggers().Create(ctx, tr)
		require.NoError(t, err)
	}
	return eng
}

func perUnits(key, metric string, threshold, pts int64) gamify.Trigger {
	return gamify.Trigger{Key: key, System: "coins", Kind: gamify.TriggerMetric, Metric: metric,
		Threshold: gamify.AmountFromInt(threshold), Points: gamify.AmountFromInt(pts)}
}

func TestPointsOnEventsWithBoostsAndLevels(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per10", "xp", 10, 5))
	mustLevels(t, eng, "coins", gamify.Level{Key: "bronze", Level: 1, Name: "Bronze", Threshold: gamify.Amount{}},
		gamify.Level{Key: "silver", Level: 2, Name: "Silver", Threshold: gamify.AmountFromInt(50)})
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 35})
	require.NoError(t, err)
	require.Len(t, r.Points, 1)
	require.Equal(t, "15", r.Points[0].Added.String(), "three multiples in one award")
	require.Len(t, r.Points[0].Awards, 1)
	require.Equal(t, int64(3), r.Points[0].Awards[0].Multiple)

	for _, m := range []float64{2, 1.5, 3} {
		_, err := eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "b" + gamify.AmountFromInt(int64(m*10)).String(), System: "coins", Scope: gamify.BoostGlobal,
			From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: floatAmount(m)})
		require.NoError(t, err)
	}
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	require.Equal(t, "45", r.Points[0].Added.String(), "5 × 2 × 1.5 × 3")
	require.Equal(t, "60", r.Points[0].Total.String())
	require.NotNil(t, r.Points[0].Level)
	require.Equal(t, "silver", r.Points[0].Level.To)
	require.True(t, r.Points[0].Level.Promotion)
	up, err := eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "silver", up.Level)
	require.Equal(t, "60", up.Available.String())
}

func TestBlockingNegativeTriggerRejectsTheEvent(t *testing.T) {
	ctx := context.Background()
	drain := gamify.Trigger{Key: "drain", System: "coins", Kind: gamify.TriggerMetric, Metric: "energy",
		Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(-10), BlockIfOutOfPoints: true}
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1), drain)
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 15})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "energy", User: "ana", Value: 1})
	require.NoError(t, err)
	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Track(ctx, gamify.Event{Metric: "energy", User: "ana", Value: 1})
	require.ErrorIs(t, err, gamify.ErrInsufficientPoints)
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "the whole event is rejected")
	um, err := eng.Users().Metric(ctx, "ana", "energy")
	require.NoError(t, err)
	require.Equal(t, "1", um.Total.String())
}

func TestManualAwardAndSpend(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	r, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(100), IdempotencyKey: "bonus-1", Reason: "welcome"})
	require.NoError(t, err)
	require.Equal(t, "100", r.Available.String())
	r, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(100), IdempotencyKey: "bonus-1", Reason: "welcome"})
	require.NoError(t, err)
	require.True(t, r.IdempotentReplayed)
	require.Equal(t, "100", r.Total.String())
	r, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(30), IdempotencyKey: "buy-1"})
	require.NoError(t, err)
	require.Equal(t, "70", r.Available.String())
	r, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(30), IdempotencyKey: "buy-1"})
	require.NoError(t, err)
	require.True(t, r.IdempotentReplayed)
	require.Equal(t, "70", r.Available.String(), "a replayed spend takes nothing")
	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(71)})
	require.ErrorIs(t, err, gamify.ErrInsufficientPoints)
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	_, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(-1)})
	require.ErrorIs(t, err, gamify.ErrInvalid)
}

func TestConcurrentSpendsNeverGoBelowZero(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	_, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(100), Reason: "seed"})
	require.NoError(t, err)
	var ok, short atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			_, err := eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(7)})
			switch {
			case err == nil:
				ok.Add(1)
			case errorsIs(err, gamify.ErrInsufficientPoints):
				short.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(14), ok.Load(), "100 / 7 spends succeed")
	require.Equal(t, int64(50), short.Load())
	up, err := eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "2", up.Available.String())
}

func TestAchievementAndUserCreationTriggers(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	_, err := eng.Achievements().Create(ctx, ach("xp5", gamify.AchievementMetric, threshold(5)))
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "hello", System: "coins", Kind: gamify.TriggerUserCreation, Points: gamify.AmountFromInt(10)})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "badge", System: "coins", Kind: gamify.TriggerAchievement, Achievement: "xp5", Points: gamify.AmountFromInt(50)})
	require.NoError(t, err)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	require.Equal(t, []string{"xp5"}, keysOf(r.Achievements))
	up, err := eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "60", up.Total.String(), "10 on creation + 50 for the achievement")
}

// A user_creation trigger gated on user attributes sees the profile of the
// call that creates the user: an event's, Users().Create's, a manual
// completion's.
func TestUserCreationTriggerSeesTheCreatingProfile(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "Plan", Type: gamify.UserAttribute})
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "hand", Name: "Hand", Kind: gamify.AchievementManual})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "pro-welcome", System: "coins", Kind: gamify.TriggerUserCreation,
		Points: gamify.AmountFromInt(10), UserFilters: map[string]string{"plan": "pro"}})
	require.NoError(t, err)
	pro := &gamify.UserInput{Attributes: map[string]string{"plan": "pro"}}
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Profile: pro})
	require.NoError(t, err)
	require.Len(t, r.Points, 1)
	require.Equal(t, "10", r.Points[0].Added.String(), "the event's result reports the welcome")
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bo", Value: 1, Profile: &gamify.UserInput{Attributes: map[string]string{"plan": "free"}}})
	require.NoError(t, err)
	_, err = eng.Users().Create(ctx, gamify.UserInput{ID: "cy", Attributes: map[string]string{"plan": "pro"}})
	require.NoError(t, err)
	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "hand", User: "dee", Profile: pro})
	require.NoError(t, err)
	for u, want := range map[string]string{"ana": "10", "bo": "0", "cy": "10", "dee": "10"} {
		up, err := eng.Users().Points(ctx, u, "coins")
		require.NoError(t, err)
		require.Equal(t, want, up.Total.String(), u)
	}
	// Paid once: the user exists now.
	_, err = eng.Users().Update(ctx, gamify.UserInput{ID: "bo", Attributes: map[string]string{"plan": "pro"}})
	require.NoError(t, err)
	up, err := eng.Users().Points(ctx, "bo", "coins")
	require.NoError(t, err)
	require.True(t, up.Total.IsZero())
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func TestPointsBoardRanksPointsAwardedInTheRun(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 2))
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "Coins today", RankBy: gamify.RankByPoints, System: "coins",
		RunEvery: 1, RunUnit: gamify.RunDay})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 3})
	require.NoError(t, err)
	require.Equal(t, []gamify.LeaderboardChange{{Key: "board", Rank: 1}}, r.Leaderboards)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 5})
	require.NoError(t, err)
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(100), Reason: "prize"})
	require.NoError(t, err)
	require.Equal(t, []string{"1:ana:106", "2:bob:10"}, standings(t, eng, gamify.BoardQuery{}))
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "bad", Name: "B", RankBy: gamify.RankByPoints, System: "nope"})
	require.ErrorContains(t, err, "Leaderboard.System")
}

func TestPointsReadsPinsAndAwardLog(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1), perUnits("per5", "xp", 5, 10))
	mustLevels(t, eng, "coins", gamify.Level{Key: "bronze", Level: 1, Name: "Bronze", Threshold: gamify.AmountFromInt(1)},
		gamify.Level{Key: "gold", Level: 2, Name: "Gold", Threshold: gamify.AmountFromInt(100)})
	_, err := eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "old", System: "coins", Scope: gamify.BoostGlobal,
		From: gamify.Date{Year: 2025, Month: 1, Day: 1}, To: gamify.Date{Year: 2025, Month: 1, Day: 2}, Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	for i := range 3 {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5, IdempotencyKey: string(rune('a' + i))})
		require.NoError(t, err)
	}
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 1})
	require.NoError(t, err)

	ts, err := eng.Points().Triggers().ListFor(ctx, gamify.TriggerFilter{System: "coins"}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, ts, 2)
	ls, err := eng.Points().Levels("coins").List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, ls, 2)
	require.NoError(t, eng.Points().Triggers().Delete(ctx, "per5"))
	ts, err = eng.Points().Triggers().ListFor(ctx, gamify.TriggerFilter{System: "coins"}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, ts, 1)
	require.ErrorIs(t, eng.Points().Triggers().Delete(ctx, "per5"), gamify.ErrNotFound)

	bs, err := eng.Points().Boosts().ListFor(ctx, gamify.BoostFilter{System: "coins", Status: gamify.StatusActive}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, bs, "the finished boost is not running")
	bs, err = eng.Points().Boosts().ListFor(ctx, gamify.BoostFilter{System: "coins"}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, bs, 1)
	require.Equal(t, gamify.StatusFinished, bs[0].Status)

	log, err := eng.Users().Awards(ctx, "ana", "coins", gamify.ListOptions{Limit: 4})
	require.NoError(t, err)
	require.Len(t, log, 4)
	require.Equal(t, "45", log[0].Total.String(), "latest first, with the total after")
	require.Equal(t, "per5", log[0].Trigger)
	require.Equal(t, gamify.TriggerMetric, log[0].Kind)
	require.Equal(t, t0, log[0].At, "the time of the award")
	for i := 1; i < len(log); i++ {
		require.Less(t, log[i].ID, log[i-1].ID, "ids are ledger sequences, latest first")
	}
	all, err := eng.Users().Awards(ctx, "ana", "coins", gamify.ListOptions{Limit: 100})
	require.NoError(t, err)
	require.Len(t, all, 6)

	up, err := eng.Points().PinLevel(ctx, "coins", "bob", "gold")
	require.NoError(t, err)
	require.Equal(t, "gold", up.Level)
	require.True(t, up.Pinned)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 1})
	require.NoError(t, err)
	got, err := eng.Users().Points(ctx, "bob", "coins")
	require.NoError(t, err)
	require.Equal(t, "gold", got.Level, "a pinned level does not move")
	up, err = eng.Points().UnpinLevel(ctx, "coins", "bob")
	require.NoError(t, err)
	require.Equal(t, "bronze", up.Level)

	h, err := eng.Points().Histogram(ctx, "coins", nil)
	require.NoError(t, err)
	require.Len(t, h, 11)
	n := 0
	for _, b := range h {
		n += b.Users
	}
	require.Equal(t, 2, n)
	per, err := eng.Points().UsersPerLevel(ctx, "coins")
	require.NoError(t, err)
	counts := map[string]int{}
	for _, c := range per {
		counts[c.Level] = c.Users
	}
	require.Equal(t, map[string]int{"": 0, "bronze": 2, "gold": 0}, counts)
}

// TestTimeTriggerPaysAUserCreatedAfterIt: a user created after the time
// trigger, with no other award in its system, is paid without a restart
// (their first fire was queued only by a change of points, or at Open).
func TestTimeTriggerPaysAUserCreatedAfterIt(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	mustMetric(t, eng.Engine, "steps")
	_, err := eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "daily", System: "coins", Kind: gamify.TriggerTime, Every: 1, Unit: gamify.TriggerDays,
		Points: gamify.AmountFromInt(5)})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "steps", User: "bo", Value: 1}) // steps pay nothing
	require.NoError(t, err)
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "cy"})
	require.NoError(t, err)
	for range 5 {
		eng.clock.Advance(24 * time.Hour)
		_, err = eng.RunDue(ctx)
		require.NoError(t, err)
	}
	for _, id := range []string{"bo", "cy"} {
		up, err := eng.Users().Points(ctx, id, "coins")
		require.NoError(t, err)
		require.Equal(t, "25", up.Total.String(), "%s: five daily fires", id)
	}
}

func TestTimeTriggerPaysEveryDayAndCatchesUpOnce(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", TZ: "America/New_York"})
	require.NoError(t, err)
	eng.clock.Advance(time.Hour)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "daily", System: "coins", Kind: gamify.TriggerTime, Every: 1, Unit: gamify.TriggerDays,
		Points: gamify.AmountFromInt(5)})
	require.NoError(t, err)
	eng.clock.Advance(3*24*time.Hour + time.Hour) // closed for three days
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	up, err := eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "15", up.Total.String(), "three missed fires, paid once")
	log, err := eng.Users().Awards(ctx, "ana", "coins", gamify.ListOptions{Limit: 10})
	require.NoError(t, err)
	require.Len(t, log, 1)
	require.Equal(t, int64(3), log[0].Multiple)

	eng.reopen(t)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	up, err = eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "15", up.Total.String(), "nothing twice after a restart")
	eng.clock.Advance(24 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	up, err = eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "20", up.Total.String())
}

func TestPointsBulkAndUpdate(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	ts, issues, err := eng.Points().Triggers().BulkCreate(ctx, []gamify.Trigger{
		perUnits("a", "xp", 1, 1), {Key: "bad"}, perUnits("c", "nope", 1, 1),
	})
	require.NoError(t, err)
	require.Len(t, ts, 1)
	require.Len(t, issues, 2)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrInvalid)
	s, err := eng.Points().Patch(ctx, "coins", func(s *gamify.PointsSystem) { s.Name, s.MaxPoints = "Gold coins", gamify.AmountFromInt(3) })
	require.NoError(t, err)
	require.Equal(t, "Gold coins", s.Name)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10})
	require.NoError(t, err)
	require.Equal(t, "3", r.Points[0].Total.String(), "the cap cuts the award to reach it exactly")
	require.True(t, r.Points[0].Awards[0].Capped)
}

func TestMetricTriggerSumsAcrossEvents(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per5", "xp", 5, 10))
	var added []string
	for _, v := range []float64{3.2, 3.6, 4.4, 4.8, 5.6} { // 21.6 in all: four multiples of 5
		r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: v})
		require.NoError(t, err)
		a := "0"
		if len(r.Points) > 0 {
			a = r.Points[0].Added.String()
		}
		added = append(added, a)
	}
	require.Equal(t, []string{"0", "10", "10", "10", "10"}, added, "running sums 3.2, 6.8, 11.2, 16, 21.6")
	eng.reopen(t)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 3.4}) // 25: the running sum survived a restart
	require.NoError(t, err)
	require.Equal(t, "10", r.Points[0].Added.String())
}

func TestAwardLogPagesBeyondTheIndex(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	for range 45 {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
		require.NoError(t, err)
		_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 1}) // interleaved in the log
		require.NoError(t, err)
	}
	var totals []string
	for offset := 0; ; offset += 10 {
		page, err := eng.Users().Awards(ctx, "ana", "coins", gamify.ListOptions{Skip: offset, Limit: 10})
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, aw := range page {
			totals = append(totals, aw.Total.String())
		}
	}
	require.Len(t, totals, 45)
	require.Equal(t, "45", totals[0])
	require.Equal(t, "1", totals[44], "latest first, all the way back past the 32 indexed")
}

func TestPointsSummary(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 2))
	for day := range 3 {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: float64(day + 1)})
		require.NoError(t, err)
		eng.clock.Advance(24 * time.Hour)
	}
	_, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(100), Reason: "gift"}) // 11 March
	require.NoError(t, err)
	rows, err := eng.Users().PointsSummary(ctx, "ana", "coins", gamify.SummaryQuery{Aggregation: gamify.AggregateDaily,
		Start: gamify.Date{Year: 2026, Month: 3, Day: 8}, End: gamify.Date{Year: 2026, Month: 3, Day: 12}})
	require.NoError(t, err)
	var got []string
	for _, r := range rows {
		got = append(got, r.Start.String()+" "+r.Change.String()+" "+r.Total.String())
	}
	require.Equal(t, []string{"2026-03-08 2 2", "2026-03-09 4 6", "2026-03-10 6 12", "2026-03-11 100 112"}, got)
}

func TestBulkSystemsAndLevels(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	out, issues, err := eng.Points().BulkCreate(ctx, []gamify.PointsSystem{{Key: "xp", Name: "XP"}, {Key: "coins", Name: "again"}, {Key: "gems", Name: "Gems"}})
	require.NoError(t, err)
	require.Len(t, out, 2)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrConflict)
	mustLevels(t, eng, "xp", gamify.Level{Key: "b", Level: 2, Name: "B", Threshold: gamify.AmountFromInt(10)}, gamify.Level{Key: "a", Level: 1, Name: "A"})
	ls, err := eng.Points().Levels("xp").List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a"}, levelKeys(ls), "creation order")
	_, err = eng.Points().Levels("nope").List(ctx, gamify.ListOptions{})
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

func TestLevelAdmin(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	lv := func(key string, n int, at int64) gamify.Level {
		return gamify.Level{Key: key, Level: n, Name: key, Threshold: gamify.AmountFromInt(at)}
	}
	levels := eng.Points().Levels("coins")
	_, err := levels.Create(ctx, lv("bronze", 1, 0))
	require.NoError(t, err)
	_, err = levels.Create(ctx, lv("silver", 2, 50))
	require.NoError(t, err)
	_, err = levels.Patch(ctx, "silver", func(l *gamify.Level) { l.Threshold = gamify.AmountFromInt(20) })
	require.NoError(t, err)
	_, err = levels.Create(ctx, lv("gold", 3, 20))
	require.ErrorIs(t, err, gamify.ErrInvalid, "two levels at one threshold")
	_, err = eng.Points().Levels("nope").Create(ctx, lv("gold", 3, 90))
	require.ErrorIs(t, err, gamify.ErrNotFound)
	out, issues, err := levels.BulkCreate(ctx, []gamify.Level{lv("gold", 3, 100), lv("", 4, 200), lv("platinum", 5, 500)})
	require.NoError(t, err)
	require.Len(t, out, 2)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.NoError(t, levels.Delete(ctx, "platinum"))
	require.ErrorIs(t, levels.Delete(ctx, "platinum"), gamify.ErrNotFound)

	list, err := levels.List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"bronze", "silver", "gold"}, levelKeys(list))
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 25})
	require.NoError(t, err)
	require.Equal(t, "silver", r.Points[0].Level.To, "the edited ladder applies")
}

func mustLevels(t *testing.T, eng *testEngine, system string, ls ...gamify.Level) {
	t.Helper()
	_, issues, err := eng.Points().Levels(system).BulkCreate(context.Background(), ls)
	require.NoError(t, err)
	require.Empty(t, issues)
}

func levelKeys(ls []gamify.Level) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Key)
	}
	return out
}

func TestPointsSystemPatchAndLifecycle(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	created, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems", Description: "Shiny",
		ImageURL: "https://x/gems.png", MaxPoints: gamify.AmountFromInt(1000)})
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, created.Status)

	// Refused edits name their field and change nothing.
	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.PointsSystem){
		"PointsSystem.Key":       func(s *gamify.PointsSystem) { s.Key = "rubies" },
		"PointsSystem.Status":    func(s *gamify.PointsSystem) { s.Status = gamify.StatusInactive },
		"PointsSystem.Created":   func(s *gamify.PointsSystem) { s.Created = s.Created.Add(time.Hour) },
		"PointsSystem.Name":      func(s *gamify.PointsSystem) { s.Name = "" },
		"PointsSystem.MaxPoints": func(s *gamify.PointsSystem) { s.MaxPoints = gamify.AmountFromInt(-1) },
		"PointsSystem.Triggers":  func(s *gamify.PointsSystem) { s.Triggers = []gamify.Trigger{perUnits("x", "xp", 1, 1)} },
	} {
		_, err := eng.Points().Patch(ctx, "gems", edit)
		requireField(t, err, field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused patch changes nothing")
	_, err = eng.Points().Patch(ctx, "nope", func(*gamify.PointsSystem) {})
	require.ErrorIs(t, err, gamify.ErrNotFound)

	// Patching the name keeps the description, image and cap (the bug of the
	// old whole-system update).
	eng.clock.Advance(time.Minute)
	s, err := eng.Points().Patch(ctx, "gems", func(s *gamify.PointsSystem) { s.Name = "Gemstones" })
	require.NoError(t, err)
	want := created
	want.Name, want.Updated = "Gemstones", created.Updated.Add(time.Minute)
	require.Equal(t, want, s, "only Name (and Updated) changed")
	eng.reopen(t)
	got, err := eng.Points().Get(ctx, "gems")
	require.NoError(t, err)
	require.Equal(t, want, got)

	// Deactivate: no awards from events or by hand, balances kept, listed.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2})
	require.NoError(t, err)
	off, err := eng.Points().Deactivate(ctx, "coins")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, off.Status)
	again, err := eng.Points().Deactivate(ctx, "coins")
	require.NoError(t, err, "deactivating twice is not an error")
	require.Equal(t, off, again)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	require.Empty(t, r.Points, "an inactive system awards nothing")
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(1), Reason: "gift"})
	require.ErrorIs(t, err, gamify.ErrConflict, "an inactive system, as an inactive reward or achievement")
	up, err := eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "2", up.Total.String(), "the balance is kept")
	list, err := eng.Points().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"coins", "gems"}, systemKeys(list), "inactive systems are listed")
	eng.reopen(t)
	on, err := eng.Points().Activate(ctx, "coins")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, on.Status)
	on2, err := eng.Points().Activate(ctx, "coins")
	require.NoError(t, err)
	require.Equal(t, on, on2, "activating an active system changes nothing")
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, "3", r.Points[0].Total.String())

	// Created inactive; a status other than active or inactive is refused.
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "later", Name: "Later", Status: gamify.StatusInactive})
	require.NoError(t, err)
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "later", User: "ana", Amount: gamify.AmountFromInt(1), Reason: "gift"})
	require.ErrorIs(t, err, gamify.ErrConflict, "created inactive")
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "gone", Name: "Gone", Status: gamify.StatusArchived})
	requireField(t, err, "PointsSystem.Status")

	// Paging in creation order.
	page, err := eng.Points().List(ctx, gamify.ListOptions{Limit: 1, Skip: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"gems"}, systemKeys(page))
	_, err = eng.Points().List(ctx, gamify.ListOptions{Limit: 101})
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// Delete archives: hidden, Get shows it, the key is not reusable, it no
	// longer awards and refuses new definitions.
	require.NoError(t, eng.Points().Delete(ctx, "coins"))
	require.ErrorIs(t, eng.Points().Delete(ctx, "coins"), gamify.ErrNotFound)
	list, err = eng.Points().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"gems", "later"}, systemKeys(list))
	eng.reopen(t)
	list, err = eng.Points().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Equal(t, []string{"coins", "gems", "later"}, systemKeys(list))
	got, err = eng.Points().Get(ctx, "coins")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins again"})
	require.ErrorIs(t, err, gamify.ErrConflict)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Empty(t, r.Points, "an archived system awards nothing")
	_, err = eng.Points().Triggers().Create(ctx, perUnits("per2", "xp", 1, 1))
	requireField(t, err, "Trigger.System")
	_, err = eng.Points().Activate(ctx, "coins")
	require.ErrorIs(t, err, gamify.ErrNotFound, "an archived system stays archived")
	_, err = eng.Points().Patch(ctx, "coins", func(s *gamify.PointsSystem) { s.Name = "Back" })
	require.ErrorIs(t, err, gamify.ErrNotFound)

	// Bulk forms report per item.
	patched, issues, err := eng.Points().BulkPatch(ctx, []string{"gems", "coins", "later"}, func(s *gamify.PointsSystem) { s.Description = "bulk" })
	require.NoError(t, err)
	require.Len(t, patched, 2)
	require.Equal(t, "Gemstones", patched[0].Name, "kept")
	require.Equal(t, "bulk", patched[0].Description)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)
	issues, err = eng.Points().BulkDelete(ctx, []string{"later", "nope"})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)
	_, _, err = eng.Points().BulkCreate(ctx, make([]gamify.PointsSystem, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)
}

func systemKeys(ss []gamify.PointsSystem) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Key)
	}
	return out
}

func TestPointsSystemCreateWithDefinitions(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	full := func(key string) gamify.PointsSystem {
		return gamify.PointsSystem{Key: key, Name: key,
			Levels: []gamify.Level{{Key: "rookie", Level: 1, Name: "Rookie"}, {Key: "pro", Level: 2, Order: 1, Name: "Pro", Threshold: gamify.AmountFromInt(10)}},
			Triggers: []gamify.Trigger{{Key: key + "-per1", Kind: gamify.TriggerMetric, Metric: "xp", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(2)},
				{Key: key + "-hello", Kind: gamify.TriggerUserCreation, Points: gamify.AmountFromInt(1), Status: gamify.StatusInactive}},
			Boosts: []gamify.Boost{{Key: key + "-double", Scope: gamify.BoostGlobal, From: gamify.Date{Year: 2026, Month: 3, Day: 1}, Multiplier: gamify.AmountFromInt(2)}},
		}
	}
	s, err := eng.Points().Create(ctx, full("coins"))
	require.NoError(t, err)
	require.Len(t, s.Levels, 2)
	require.Len(t, s.Triggers, 2)
	require.Len(t, s.Boosts, 1)
	require.Equal(t, "coins", s.Triggers[0].System, "System is filled in")
	require.Equal(t, gamify.StatusInactive, s.Triggers[1].Status)
	require.Equal(t, gamify.RoundDown, s.Boosts[0].Rounding)
	got, err := eng.Points().Get(ctx, "coins")
	require.NoError(t, err)
	require.Equal(t, s, got, "Get returns the system with its items, as Create did")
	// One added later is read with the system; an archived one is not.
	for _, key := range []string{"coins-later", "coins-gone"} {
		_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: key, System: "coins", Kind: gamify.TriggerMetric,
			Metric: "xp", Threshold: gamify.AmountFromInt(1000), Points: gamify.AmountFromInt(1)}) // never reached below
		require.NoError(t, err)
	}
	require.NoError(t, eng.Points().Triggers().Delete(ctx, "coins-gone"))
	list, err := eng.Points().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	var keys []string
	for _, tr := range list[0].Triggers {
		keys = append(keys, tr.Key)
	}
	require.Equal(t, []string{"coins-per1", "coins-hello", "coins-later"}, keys)
	_, err = eng.Points().Patch(ctx, "coins", func(s *gamify.PointsSystem) { s.Description = "Coins" })
	require.NoError(t, err, "a Patch of a system read with its items")

	eng.reopen(t)
	tr, err := eng.Points().Triggers().Get(ctx, "coins-per1")
	require.NoError(t, err)
	require.Equal(t, s.Triggers[0], tr)
	ls, err := eng.Points().Levels("coins").List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, s.Levels, ls)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 3})
	require.NoError(t, err)
	require.Equal(t, "12", r.Points[0].Total.String(), "3 × 2, doubled; the inactive creation trigger paid nothing")
	require.Equal(t, "pro", r.Points[0].Level.To)

	// One bad item: nothing is created, and the error names the item's field.
	bad := full("gems")
	bad.Triggers[1].Points = gamify.Amount{}
	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Points().Create(ctx, bad)
	requireField(t, err, "PointsSystem.Triggers[1].Points")
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "all or nothing")
	_, err = eng.Points().Get(ctx, "gems")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	for field, edit := range map[string]func(*gamify.PointsSystem){
		"PointsSystem.Levels[1].Threshold": func(s *gamify.PointsSystem) { s.Levels[1].Threshold = gamify.Amount{} },
		"PointsSystem.Levels[0].Level":     func(s *gamify.PointsSystem) { s.Levels[0].Level = 0 },
		"PointsSystem.Boosts[0].Scope":     func(s *gamify.PointsSystem) { s.Boosts[0].Scope = "everyone" },
		"PointsSystem.Triggers[0].System":  func(s *gamify.PointsSystem) { s.Triggers[0].System = "coins" },
		"PointsSystem.Triggers[0].Metric":  func(s *gamify.PointsSystem) { s.Triggers[0].Metric = "nope" },
	} {
		in := full("gems")
		edit(&in)
		_, err := eng.Points().Create(ctx, in)
		requireField(t, err, field)
	}
	dup := full("gems")
	dup.Triggers[0].Key = "coins-per1"
	_, err = eng.Points().Create(ctx, dup)
	require.ErrorIs(t, err, gamify.ErrConflict, "a trigger key in use")
	require.ErrorContains(t, err, "PointsSystem.Triggers[0]")
	require.Equal(t, before, gamify.DumpStore(eng.Engine))

	// In a bulk create, a system with a bad item fails alone.
	bad = full("rubies")
	bad.Triggers[1].Points = gamify.Amount{}
	out, issues, err := eng.Points().BulkCreate(ctx, []gamify.PointsSystem{full("gems"), bad, full("stars")})
	require.NoError(t, err)
	require.Equal(t, []string{"gems", "stars"}, systemKeys(out))
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	requireField(t, issues[0].Err, "PointsSystem.Triggers[1].Points")
	ts, err := eng.Points().Triggers().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	for _, tr := range ts {
		require.NotEqual(t, "rubies", tr.System, "the failed item left none of its triggers behind")
	}
	_, err = eng.Points().Triggers().ListFor(ctx, gamify.TriggerFilter{System: "rubies"}, gamify.ListOptions{})
	require.ErrorIs(t, err, gamify.ErrNotFound, "a filter naming no system")
	ls, err = eng.Points().Levels("rubies").List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.ErrorIs(t, err, gamify.ErrNotFound, "nor the system")
	ts, err = eng.Points().Triggers().ListFor(ctx, gamify.TriggerFilter{System: "stars"}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, ts, 2)
}

func TestTriggerAdmin(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	triggers := eng.Points().Triggers()
	created, err := triggers.Create(ctx, gamify.Trigger{Key: "per5", System: "coins", Kind: gamify.TriggerMetric, Metric: "xp",
		Threshold: gamify.AmountFromInt(5), Points: gamify.AmountFromInt(10), UserFilters: map[string]string{}, BlockIfOutOfPoints: true})
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, created.Status)

	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Trigger){
		"Trigger.Key":     func(tr *gamify.Trigger) { tr.Key = "other" },
		"Trigger.Status":  func(tr *gamify.Trigger) { tr.Status = gamify.StatusInactive },
		"Trigger.Updated": func(tr *gamify.Trigger) { tr.Updated = tr.Updated.Add(time.Hour) },
		"Trigger.System":  func(tr *gamify.Trigger) { tr.System = "gems" },
		"Trigger.Kind": func(tr *gamify.Trigger) {
			tr.Kind = gamify.TriggerUserCreation
			tr.Metric, tr.Threshold = "", gamify.Amount{}
		},
		"Trigger.Points": func(tr *gamify.Trigger) { tr.Points = gamify.Amount{} },
		"Trigger.Metric": func(tr *gamify.Trigger) { tr.Metric = "nope" },
		"Trigger.Unit":   func(tr *gamify.Trigger) { tr.Unit = gamify.TriggerDays },
	} {
		_, err := triggers.Patch(ctx, "per5", edit)
		requireField(t, err, field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused patch changes nothing")

	eng.clock.Advance(time.Minute)
	tr, err := triggers.Patch(ctx, "per5", func(tr *gamify.Trigger) { tr.Points = gamify.AmountFromInt(20) })
	require.NoError(t, err)
	want := created
	want.Points, want.Updated = gamify.AmountFromInt(20), created.Updated.Add(time.Minute)
	require.Equal(t, want, tr, "only Points (and Updated) changed")

	// Inactive: no award, the running sum does not count, and it is kept.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 3})
	require.NoError(t, err)
	off, err := triggers.Deactivate(ctx, "per5")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, off.Status)
	again, err := triggers.Deactivate(ctx, "per5")
	require.NoError(t, err)
	require.Equal(t, off, again, "deactivating twice changes nothing")
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	require.Empty(t, r.Points, "an inactive trigger awards nothing")
	list, err := triggers.List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list, 1, "inactive triggers are listed")
	eng.reopen(t)
	on, err := eng.Points().Triggers().Activate(ctx, "per5")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, on.Status)
	on2, err := eng.Points().Triggers().Activate(ctx, "per5")
	require.NoError(t, err)
	require.Equal(t, on, on2)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2})
	require.NoError(t, err)
	require.Equal(t, "20", r.Points[0].Added.String(), "3 before + 2 after reach 5; the 5 while inactive did not count")
	triggers = eng.Points().Triggers()

	// Bulk create, patch and delete report per item.
	out, issues, err := triggers.BulkCreate(ctx, []gamify.Trigger{perUnits("a", "xp", 1, 1), {Key: "bad"}, perUnits("per5", "xp", 1, 1),
		perUnits("c", "nope", 1, 1), {Key: "hello", System: "coins", Kind: gamify.TriggerUserCreation, Points: gamify.AmountFromInt(1), Status: gamify.StatusInactive}})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "hello"}, triggerKeys(out))
	require.Len(t, issues, 3)
	require.Equal(t, []int{1, 2, 3}, []int{issues[0].Index, issues[1].Index, issues[2].Index})
	require.ErrorIs(t, issues[0].Err, gamify.ErrInvalid)
	require.ErrorIs(t, issues[1].Err, gamify.ErrConflict)
	requireField(t, issues[2].Err, "Trigger.Metric")
	page, err := triggers.List(ctx, gamify.ListOptions{Skip: 1, Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "hello"}, triggerKeys(page), "creation order")
	kinds, err := triggers.ListFor(ctx, gamify.TriggerFilter{Kind: gamify.TriggerUserCreation}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"hello"}, triggerKeys(kinds))
	patched, issues, err := triggers.BulkPatch(ctx, []string{"nope", "a"}, func(tr *gamify.Trigger) { tr.Points = gamify.AmountFromInt(3) })
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, triggerKeys(patched))
	require.Equal(t, "xp", patched[0].Metric, "kept")
	require.Len(t, issues, 1)
	require.Equal(t, 0, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)

	// Delete archives: hidden, Get shows it, no longer awards, key not reusable.
	issues, err = triggers.BulkDelete(ctx, []string{"a", "a"})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound, "already archived")
	require.NoError(t, triggers.Delete(ctx, "per5"))
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10})
	require.NoError(t, err)
	require.Empty(t, r.Points, "archived triggers award nothing")
	eng.reopen(t)
	triggers = eng.Points().Triggers()
	list, err = triggers.List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"hello"}, triggerKeys(list))
	list, err = triggers.List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Equal(t, []string{"per5", "a", "hello"}, triggerKeys(list))
	got, err := triggers.Get(ctx, "per5")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	_, err = triggers.Create(ctx, perUnits("per5", "xp", 1, 1))
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = triggers.Activate(ctx, "per5")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = triggers.Patch(ctx, "per5", func(tr *gamify.Trigger) { tr.Points = gamify.AmountFromInt(1) })
	require.ErrorIs(t, err, gamify.ErrNotFound)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10})
	require.NoError(t, err)
	require.Empty(t, r.Points, "still after a restart")
}

func triggerKeys(ts []gamify.Trigger) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.Key)
	}
	return out
}

func TestTimeTriggerInactiveFiresAreNotPaid(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "hourly", System: "coins", Kind: gamify.TriggerTime, Every: 1,
		Unit: gamify.TriggerHours, Points: gamify.AmountFromInt(1)})
	require.NoError(t, err)
	total := func() string {
		_, err := eng.RunDue(ctx)
		require.NoError(t, err)
		up, err := eng.Users().Points(ctx, "ana", "coins")
		require.NoError(t, err)
		return up.Total.String()
	}
	eng.clock.Advance(2*time.Hour + time.Minute)
	require.Equal(t, "2", total())
	_, err = eng.Points().Triggers().Deactivate(ctx, "hourly")
	require.NoError(t, err)
	eng.clock.Advance(3 * time.Hour)
	eng.reopen(t) // the due-queue is rebuilt without the inactive trigger
	require.Equal(t, "2", total(), "an inactive time trigger pays nothing")
	_, err = eng.Points().Triggers().Activate(ctx, "hourly")
	require.NoError(t, err)
	require.Equal(t, "2", total(), "the fires while inactive are not paid on activation")
	eng.clock.Advance(time.Hour)
	require.Equal(t, "3", total())

	// The same through the system.
	_, err = eng.Points().Deactivate(ctx, "coins")
	require.NoError(t, err)
	eng.clock.Advance(3 * time.Hour)
	eng.reopen(t)
	require.Equal(t, "3", total())
	_, err = eng.Points().Activate(ctx, "coins")
	require.NoError(t, err)
	require.Equal(t, "3", total(), "nor those while the system was inactive")
	eng.clock.Advance(time.Hour)
	require.Equal(t, "4", total())
}

func TestBoostAdmin(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	mustUserAttributes(t, eng.Engine, "plan")
	boosts := eng.Points().Boosts()
	day := func(d int) gamify.Date { return gamify.Date{Year: 2026, Month: 3, Day: d} } // t0 is 8 March
	_, issues, err := boosts.BulkCreate(ctx, []gamify.Boost{
		{Key: "now", System: "coins", Name: "Now", Scope: gamify.BoostGlobal, From: day(1), Multiplier: gamify.AmountFromInt(2), Rounding: gamify.RoundUp},
		{Key: "soon", System: "coins", Scope: gamify.BoostGlobal, From: day(20), Multiplier: gamify.AmountFromInt(3)},
		{Key: "past", System: "coins", Scope: gamify.BoostGlobal, From: day(1), To: day(2), Multiplier: gamify.AmountFromInt(3)},
		{Key: "pros", System: "coins", Scope: gamify.BoostCohort, UserFilters: map[string]string{"plan": "pro"}, From: day(1), Multiplier: gamify.AmountFromInt(5)},
		{Key: "ana", System: "coins", Scope: gamify.BoostUser, User: "ana", Start: t0, Multiplier: gamify.AmountFromInt(7), Status: gamify.StatusInactive},
		{Key: "bad", System: "coins", Scope: gamify.BoostGlobal, From: day(1), Multiplier: gamify.AmountFromInt(1)},
		{Key: "round", System: "coins", Scope: gamify.BoostGlobal, From: day(1), Multiplier: gamify.AmountFromInt(2), Rounding: "sideways"},
	})
	require.NoError(t, err)
	require.Len(t, issues, 2)
	require.Equal(t, 5, issues[0].Index)
	requireField(t, issues[0].Err, "Boost.Multiplier")
	require.Equal(t, 6, issues[1].Index)
	requireField(t, issues[1].Err, "Boost.Rounding")

	status := func(bs []gamify.Boost) map[string]gamify.Status {
		out := map[string]gamify.Status{}
		for _, b := range bs {
			out[b.Key] = b.Status
		}
		return out
	}
	all, err := boosts.List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, map[string]gamify.Status{"now": gamify.StatusActive, "soon": gamify.StatusScheduled, "past": gamify.StatusFinished,
		"pros": gamify.StatusActive, "ana": gamify.StatusInactive}, status(all))
	users, err := boosts.ListFor(ctx, gamify.BoostFilter{Scope: gamify.BoostUser, User: "ana"}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, users, 1)
	cohort, err := boosts.ListFor(ctx, gamify.BoostFilter{System: "coins", Scope: gamify.BoostCohort}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, "pros", cohort[0].Key)
	page, err := boosts.List(ctx, gamify.ListOptions{Skip: 1, Limit: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"soon", "past"}, []string{page[0].Key, page[1].Key})

	// Refused edits change nothing.
	created, err := boosts.Get(ctx, "soon")
	require.NoError(t, err)
	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Boost){
		"Boost.Key":        func(b *gamify.Boost) { b.Key = "x" },
		"Boost.Status":     func(b *gamify.Boost) { b.Status = gamify.StatusInactive },
		"Boost.System":     func(b *gamify.Boost) { b.System = "gems" },
		"Boost.Multiplier": func(b *gamify.Boost) { b.Multiplier = gamify.AmountFromInt(100) },
		"Boost.To":         func(b *gamify.Boost) { b.To = day(19) },
	} {
		_, err := boosts.Patch(ctx, "soon", edit)
		requireField(t, err, field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	eng.clock.Advance(time.Minute)
	b, err := boosts.Patch(ctx, "soon", func(b *gamify.Boost) { b.Name = "Spring" })
	require.NoError(t, err)
	want := created
	want.Name, want.Updated = "Spring", created.Updated.Add(time.Minute)
	require.Equal(t, want, b, "only Name (and Updated) changed; still scheduled")
	b, err = boosts.Activate(ctx, "soon")
	require.NoError(t, err)
	require.Equal(t, want, b, "activating a scheduled boost changes nothing")

	// Inactive boosts multiply nothing; Activate brings them back.
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, "2", r.Points[0].Added.String(), "only 'now' applies")
	_, err = boosts.Deactivate(ctx, "now")
	require.NoError(t, err)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, "1", r.Points[0].Added.String())
	eng.reopen(t)
	boosts = eng.Points().Boosts()
	_, err = boosts.Activate(ctx, "ana")
	require.NoError(t, err)
	mine, err := eng.Points().UserBoosts(ctx, "coins", "ana")
	require.NoError(t, err)
	require.Len(t, mine, 1)
	require.Equal(t, "ana", mine[0].Key)
	_, err = eng.Points().UserBoosts(ctx, "nosuch", "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Points().Deactivate(ctx, "coins")
	require.NoError(t, err)
	mine, err = eng.Points().UserBoosts(ctx, "coins", "ana")
	require.NoError(t, err)
	require.Empty(t, mine, "an inactive system's boosts multiply nothing")
	_, err = eng.Points().Activate(ctx, "coins")
	require.NoError(t, err)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, "7", r.Points[0].Added.String())
	require.Equal(t, gamify.RoundDown, r.Points[0].Awards[0].Rounding)

	// Delete archives.
	issues, err = boosts.BulkDelete(ctx, []string{"nope", "ana"})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	require.Equal(t, 0, issues[0].Index)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, "1", r.Points[0].Added.String(), "an archived boost multiplies nothing")
	_, err = boosts.Create(ctx, gamify.Boost{Key: "ana", System: "coins", Scope: gamify.BoostGlobal, From: day(1), Multiplier: gamify.AmountFromInt(2)})
	require.ErrorIs(t, err, gamify.ErrConflict)
	got, err := boosts.Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	all, err = boosts.List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, all, 4)
	all, err = boosts.List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Len(t, all, 5)
	patched, issues, err := boosts.BulkPatch(ctx, []string{"past", "ana"}, func(b *gamify.Boost) { b.Name = "x" })
	require.NoError(t, err)
	require.Len(t, patched, 1)
	require.Equal(t, gamify.StatusFinished, patched[0].Status)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
	require.ErrorIs(t, issues[0].Err, gamify.ErrNotFound)
}

func TestLevelLifecycle(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	levels := eng.Points().Levels("coins")
	mustLevels(t, eng, "coins", gamify.Level{Key: "bronze", Level: 1, Name: "Bronze"},
		gamify.Level{Key: "silver", Level: 2, Name: "Silver", Threshold: gamify.AmountFromInt(10)})
	created, err := levels.Create(ctx, gamify.Level{Key: "gold", Level: 3, Order: 5, Name: "Gold", Description: "Top", Color: "#fc0",
		Benefits: []string{"lounge"}, Threshold: gamify.AmountFromInt(20)})
	require.NoError(t, err)
	require.Equal(t, "coins", created.System)

	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Level){
		"Level.Key":       func(l *gamify.Level) { l.Key = "x" },
		"Level.Status":    func(l *gamify.Level) { l.Status = gamify.StatusInactive },
		"Level.System":    func(l *gamify.Level) { l.System = "gems" },
		"Level.Level":     func(l *gamify.Level) { l.Level = 2 },
		"Level.Threshold": func(l *gamify.Level) { l.Threshold = gamify.AmountFromInt(10) },
		"Level.Name":      func(l *gamify.Level) { l.Name = "" },
	} {
		_, err := levels.Patch(ctx, "gold", edit)
		requireField(t, err, field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	eng.clock.Advance(time.Minute)
	l, err := levels.Patch(ctx, "gold", func(l *gamify.Level) { l.Order = 1 })
	require.NoError(t, err)
	want := created
	want.Order, want.Updated = 1, created.Updated.Add(time.Minute)
	require.Equal(t, want, l, "only Order (and Updated) changed")

	// An inactive level leaves the ladder.
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 12})
	require.NoError(t, err)
	require.Equal(t, "silver", r.Points[0].Level.To)
	off, err := levels.Deactivate(ctx, "silver")
	require.NoError(t, err)
	again, err := levels.Deactivate(ctx, "silver")
	require.NoError(t, err)
	require.Equal(t, off, again)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, "bronze", r.Points[0].Level.To, "moved at the next change")
	_, err = levels.Create(ctx, gamify.Level{Key: "steel", Level: 4, Name: "Steel", Threshold: gamify.AmountFromInt(10)})
	require.NoError(t, err, "an inactive level's threshold is free")
	_, err = levels.Activate(ctx, "silver")
	requireField(t, err, "Level.Threshold")
	require.NoError(t, levels.Delete(ctx, "steel"))
	eng.reopen(t)
	levels = eng.Points().Levels("coins")
	on, err := levels.Activate(ctx, "silver")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, on.Status)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, "silver", r.Points[0].Level.To)

	// Archived: hidden, Get shows it, key not reusable, number free.
	list, err := levels.List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"bronze", "silver", "gold"}, levelKeys(list))
	list, err = levels.List(ctx, gamify.ListOptions{IncludeArchived: true, Skip: 3})
	require.NoError(t, err)
	require.Equal(t, []string{"steel"}, levelKeys(list))
	got, err := levels.Get(ctx, "steel")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	_, err = levels.Create(ctx, gamify.Level{Key: "steel", Level: 9, Name: "Steel", Threshold: gamify.AmountFromInt(99)})
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = levels.Create(ctx, gamify.Level{Key: "iron", Level: 4, Name: "Iron", Threshold: gamify.AmountFromInt(99)})
	require.NoError(t, err, "an archived level's number is free")
	_, err = eng.Points().Levels("gems").Create(ctx, gamify.Level{Key: "steel", Level: 1, Name: "Steel"})
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = levels.Create(ctx, gamify.Level{Key: "other", Level: 8, Name: "O", System: "gems"})
	requireField(t, err, "Level.System")

	patched, issues, err := levels.BulkPatch(ctx, []string{"steel", "iron"}, func(l *gamify.Level) { l.Color = "grey" })
	require.NoError(t, err)
	require.Equal(t, []string{"iron"}, levelKeys(patched))
	require.Len(t, issues, 1)
	require.Equal(t, 0, issues[0].Index)
	issues, err = levels.BulkDelete(ctx, []string{"iron", "steel"})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	require.Equal(t, 1, issues[0].Index)
}

func TestPointsEnumsAreNamesInJSON(t *testing.T) {
	b, err := json.Marshal(gamify.Trigger{Key: "t", Kind: gamify.TriggerTime, Unit: gamify.TriggerDays, Status: gamify.StatusActive})
	require.NoError(t, err)
	require.Contains(t, string(b), `"Kind":"time"`)
	require.Contains(t, string(b), `"Unit":"days"`)
	b, err = json.Marshal(gamify.Boost{Scope: gamify.BoostCohort, Rounding: gamify.RoundNearest, Multiplier: gamify.MustParseAmount("1.5")})
	require.NoError(t, err)
	require.Contains(t, string(b), `"Scope":"cohort"`)
	require.Contains(t, string(b), `"Rounding":"nearest"`)
	require.Contains(t, string(b), `"Multiplier":"1.5"`)
	var tr gamify.Trigger
	require.NoError(t, json.Unmarshal([]byte(`{"Kind":"user_creation","Points":"5"}`), &tr))
	require.Equal(t, gamify.TriggerUserCreation, tr.Kind)
}

// A level patch whose level changes between the edit and the command is
// redone on the new version (levels are looked up within their system).
func TestLevelPatchRetriesOnConcurrentChange(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	levels := eng.Points().Levels("coins")
	_, err := levels.Create(ctx, gamify.Level{Key: "gold", Level: 1, Name: "Gold"})
	require.NoError(t, err)
	calls := 0
	l, err := levels.Patch(ctx, "gold", func(l *gamify.Level) {
		calls++
		if calls == 1 {
			_, err := levels.Patch(ctx, "gold", func(l *gamify.Level) { l.Color = "#fc0" })
			require.NoError(t, err)
		}
		l.Description = "Top"
	})
	require.NoError(t, err)
	require.Equal(t, 2, calls, "the edit ran again on the new version")
	require.Equal(t, "#fc0", l.Color, "the concurrent patch is kept")
	require.Equal(t, "Top", l.Description)
}

func TestManualPointsEntryValidation(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	before := gamify.DumpStore(eng.Engine)
	_, err := eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(1), Reason: "shop"})
	require.ErrorContains(t, err, "Spend.Reason", "a spend has no reason to record: refused, not dropped")
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "", Amount: gamify.AmountFromInt(-1)})
	require.ErrorContains(t, err, "Award.User")
	require.ErrorContains(t, err, "Award.Amount")
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	r, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(5), Reason: "welcome"})
	require.NoError(t, err)
	require.Equal(t, "5", r.Total.String())
}

// A working copy shares the index of recent awards with the committed
// record and appends to it: an award of a failed command must not show in
// the index, nor hide the next one.
func TestFailedCommandLeavesRecentAwardsUnchanged(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	xp(t, eng, "ana", 1)
	_, err := eng.Track(ctx, gamify.Event{Metric: "energy", User: "big", Value: 9e12})
	require.NoError(t, err)
	_, err = eng.TrackBatch(ctx, []gamify.Event{{Metric: "xp", User: "ana", Value: 2}, {Metric: "energy", User: "big", Value: 9e12}})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	xp(t, eng, "ana", 4)
	log, err := eng.Users().Awards(ctx, "ana", "coins", gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, log, 2)
	require.Equal(t, "4", log[0].Points.String(), "the award after the failed command")
	require.Equal(t, "1", log[1].Points.String())
	require.Equal(t, "5", log[0].Total.String())
}

// An event that awards points in several systems visits them in creation
// order, whatever the map order of the moment: the award IDs (ledger
// sequences), the result's rows and the notes are the same on every replay.
func TestEventVisitsPointsSystemsInCreationOrder(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	systems := []string{"zinc", "coins", "gems", "alpha", "moon", "bolts"} // creation order, not sorted
	for _, key := range systems {
		_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: key, Name: key})
		require.NoError(t, err)
		_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: key + "-per1", System: key, Kind: gamify.TriggerMetric, Metric: "xp",
			Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(1)})
		require.NoError(t, err)
	}
	for i := range 20 {
		res, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
		require.NoError(t, err)
		require.Len(t, res.Points, len(systems))
		var last uint64
		for j, row := range res.Points {
			require.Equal(t, systems[j], row.System, "event %d: row %d", i, j)
			require.Len(t, row.Awards, 1)
			require.Greater(t, row.Awards[0].ID, last, "event %d: %s's award", i, row.System)
			last = row.Awards[0].ID
		}
	}
}

// TestTriggerAndBoostFiltersNameDeclaredAttributes: a trigger's or cohort
// boost's filters name declared, active attributes of the right type, as an
// achievement's do; a patch checks only the keys it adds.
func TestTriggerAndBoostFiltersNameDeclaredAttributes(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	mustUserAttributes(t, eng.Engine, "plan")
	_, err := eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "t", System: "coins", Kind: gamify.TriggerMetric, Metric: "xp",
		Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(1), UserFilters: map[string]string{"tier": "gold"}, EventFilters: map[string]string{"plan": "x"}})
	var v *gamify.ValidationError
	require.ErrorAs(t, err, &v)
	require.ErrorContains(t, err, "Trigger.EventFilters[plan]", "a user attribute is no event filter")
	require.ErrorContains(t, err, "Trigger.UserFilters[tier]", "undeclared")
	_, err = eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "b", System: "coins", Scope: gamify.BoostCohort, UserFilters: map[string]string{"tier": "gold"},
		From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: gamify.AmountFromInt(2)})
	require.ErrorContains(t, err, "Boost.UserFilters[tier]")
	b, err := eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "b", System: "coins", Scope: gamify.BoostCohort, UserFilters: map[string]string{"plan": "pro"},
		From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	_, err = eng.Attributes().Deactivate(ctx, "plan")
	require.NoError(t, err)
	_, err = eng.Points().Boosts().Patch(ctx, b.Key, func(b *gamify.Boost) { b.Name = "Pro" })
	require.NoError(t, err, "a key the boost had is not checked again")
	_, err = eng.Points().Boosts().Patch(ctx, b.Key, func(b *gamify.Boost) { b.UserFilters["tier"] = "gold" })
	require.ErrorContains(t, err, "Boost.UserFilters[tier]")
}

// TestPointsDefinitionsValidate: a points system, level, trigger and boost
// check their own fields before Create, as the other definitions do; a
// system names its items' fields by their place.
func TestPointsDefinitionsValidate(t *testing.T) {
	good := gamify.PointsSystem{Key: "xp", Name: "XP",
		Levels:   []gamify.Level{{Key: "bronze", Name: "Bronze", Level: 1, Threshold: gamify.AmountFromInt(10)}},
		Triggers: []gamify.Trigger{{Key: "per-xp", Kind: gamify.TriggerMetric, Metric: "xp", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)}},
		Boosts:   []gamify.Boost{{Key: "double", Scope: gamify.BoostGlobal, Multiplier: gamify.AmountFromInt(2), From: gamify.Date{Year: 2026, Month: 3, Day: 1}}}}
	require.NoError(t, good.Validate())
	lv, tr, bo := good.Levels[0], good.Triggers[0], good.Boosts[0]
	lv.System, tr.System, bo.System = "xp", "xp", "xp" // on their own, the system is named
	require.NoError(t, lv.Validate())
	require.NoError(t, tr.Validate())
	require.NoError(t, bo.Validate())

	bad := good
	bad.Name = ""
	bad.Levels = []gamify.Level{{Key: "bronze", Name: "Bronze", Level: 0}}
	bad.Triggers = []gamify.Trigger{{Key: "t1", System: "gems", Kind: gamify.TriggerMetric, Metric: "xp", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(1)},
		{Key: "t2", Kind: "nope", Metric: "xp", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(1)}}
	bad.Boosts = []gamify.Boost{{Key: "double", Scope: gamify.BoostGlobal, Multiplier: gamify.AmountFromInt(0), From: gamify.Date{Year: 2026, Month: 3, Day: 1}}}
	fields := map[string]bool{}
	for _, e := range flattenInvalid(bad.Validate()) {
		fields[e.Field] = true
	}
	for _, f := range []string{"PointsSystem.Name", "PointsSystem.Levels[0].Level", "PointsSystem.Triggers[0].System", "PointsSystem.Triggers[1].Kind", "PointsSystem.Boosts[0].Multiplier"} {
		require.True(t, fields[f], "%s in %v", f, fields)
	}
	var ve *gamify.ValidationError
	bo.Multiplier = gamify.AmountFromInt(0)
	require.ErrorAs(t, bo.Validate(), &ve)
	require.Equal(t, "Boost.Multiplier", ve.Field)
}

// flattenInvalid returns the ValidationErrors err joins.
func flattenInvalid(err error) []*gamify.ValidationError {
	var out []*gamify.ValidationError
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		var ve *gamify.ValidationError
		if errors.As(e, &ve) {
			out = append(out, ve)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

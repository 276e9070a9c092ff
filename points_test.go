package gamify_test

import (
	"context"
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
	r, err := eng.Points().Award(ctx, "coins", "ana", gamify.AmountFromInt(100), "bonus-1", "welcome")
	require.NoError(t, err)
	require.Equal(t, "100", r.Available.String())
	r, err = eng.Points().Award(ctx, "coins", "ana", gamify.AmountFromInt(100), "bonus-1", "welcome")
	require.NoError(t, err)
	require.True(t, r.IdempotentReplayed)
	require.Equal(t, "100", r.Total.String())
	r, err = eng.Points().Spend(ctx, "coins", "ana", gamify.AmountFromInt(30), "buy-1")
	require.NoError(t, err)
	require.Equal(t, "70", r.Available.String())
	r, err = eng.Points().Spend(ctx, "coins", "ana", gamify.AmountFromInt(30), "buy-1")
	require.NoError(t, err)
	require.True(t, r.IdempotentReplayed)
	require.Equal(t, "70", r.Available.String(), "a replayed spend takes nothing")
	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Points().Spend(ctx, "coins", "ana", gamify.AmountFromInt(71), "")
	require.ErrorIs(t, err, gamify.ErrInsufficientPoints)
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	_, err = eng.Points().Spend(ctx, "coins", "ana", gamify.AmountFromInt(-1), "")
	require.ErrorIs(t, err, gamify.ErrInvalid)
}

func TestConcurrentSpendsNeverGoBelowZero(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	_, err := eng.Points().Award(ctx, "coins", "ana", gamify.AmountFromInt(100), "", "seed")
	require.NoError(t, err)
	var ok, short atomic.Int64
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			_, err := eng.Points().Spend(ctx, "coins", "ana", gamify.AmountFromInt(7), "")
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
	_, err := eng.Achievements().Create(ctx, ach("xp5", gamify.KindMetric, threshold(5)))
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
	_, err = eng.Points().Award(ctx, "coins", "ana", gamify.AmountFromInt(100), "", "prize")
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

	log, err := eng.Users().Awards(ctx, "ana", "coins", 0, 4)
	require.NoError(t, err)
	require.Len(t, log, 4)
	require.Equal(t, "45", log[0].Total.String(), "latest first, with the total after")
	require.Equal(t, "per5", log[0].Trigger)
	require.Equal(t, gamify.TriggerMetric, log[0].Kind)
	require.Equal(t, t0, log[0].At, "the time of the award")
	for i := 1; i < len(log); i++ {
		require.Less(t, log[i].ID, log[i-1].ID, "ids are ledger sequences, latest first")
	}
	all, err := eng.Users().Awards(ctx, "ana", "coins", 0, 100)
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
	log, err := eng.Users().Awards(ctx, "ana", "coins", 0, 10)
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
		page, err := eng.Users().Awards(ctx, "ana", "coins", offset, 10)
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
	_, err := eng.Points().Award(ctx, "coins", "ana", gamify.AmountFromInt(100), "", "gift") // 11 March
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

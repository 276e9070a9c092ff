package gamify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// boardRows returns every row of a board's run containing at (zero: now),
// paging through it, with whether it is finished and still filling.
func boardRows(t *testing.T, eng *testEngine, key string, at time.Time) (rows []string, finished, filling bool) {
	t.Helper()
	for off := 0; ; off += 100 {
		p, err := eng.Leaderboards().Rankings(context.Background(), key, gamify.BoardQuery{At: at, Offset: off, Limit: 100})
		require.NoError(t, err)
		for _, r := range p.Rows {
			rows = append(rows, fmt.Sprintf("%d:%s:%s", r.Rank, r.User, r.Score))
		}
		if len(p.Rows) < 100 {
			return rows, p.Finished, p.Filling
		}
	}
}

func runDue(t *testing.T, eng *testEngine) {
	t.Helper()
	_, err := eng.RunDue(context.Background())
	require.NoError(t, err)
}

// The repro: a points board created after points were awarded today
// was empty. It is filled from the ledger on activation.
func TestBoardFilledFromHistoryPointsToday(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 2))
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 3})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 5})
	require.NoError(t, err)
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(100), Reason: "prize"})
	require.NoError(t, err)
	eng.clock.Advance(time.Hour)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "today", Name: "Coins today", RankBy: gamify.RankByPoints, System: "coins",
		RunUnit: gamify.RunDay})
	require.NoError(t, err)
	rows, _, filling := boardRows(t, eng, "today", time.Time{})
	require.True(t, filling, "the board reports it is filling until the fill has run")
	require.Empty(t, rows)
	runDue(t, eng)
	rows, _, filling = boardRows(t, eng, "today", time.Time{})
	require.False(t, filling)
	require.Equal(t, []string{"1:ana:106", "2:bob:10"}, rows, "the points awarded today before the board existed")
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 50})
	require.NoError(t, err)
	rows, _, _ = boardRows(t, eng, "today", time.Time{})
	require.Equal(t, []string{"1:bob:110", "2:ana:106"}, rows, "new awards count live on top of the history")
	runDue(t, eng)
	rows, _, _ = boardRows(t, eng, "today", time.Time{})
	require.Equal(t, []string{"1:bob:110", "2:ana:106"}, rows, "the fill ran once")
}

// The repro: a metric board starting 1 January was empty until new
// events arrived. Runs that ended before the activation are filled and
// frozen too.
func TestBoardFilledFromHistoryMetricSinceJanuary(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	track := func(user string, v float64) {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: v})
		require.NoError(t, err)
	}
	eng.clock.Set(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)) // Saturday of the week of Thursday 8 January
	track("ana", 5)
	eng.clock.Set(time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC))
	track("bob", 7)
	track("ana", 1)
	eng.clock.Set(time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC))
	track("cy", 2)
	jan1 := gamify.Date{Year: 2026, Month: 1, Day: 1}
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "year", Name: "Year", RankBy: gamify.RankByMetric, Metric: "xp", TZ: "UTC", Start: jan1})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "weekly", Name: "Weekly", RankBy: gamify.RankByMetric, Metric: "xp", TZ: "UTC",
		Start: jan1, RunUnit: gamify.RunWeek})
	require.NoError(t, err)
	runDue(t, eng)
	rows, finished, _ := boardRows(t, eng, "year", time.Time{})
	require.False(t, finished)
	require.Equal(t, []string{"1:bob:7", "2:ana:6", "3:cy:2"}, rows)

	// Weekly runs from Thursday 1 January: the current one is live, the two
	// past ones with activity are frozen with their history.
	rows, finished, _ = boardRows(t, eng, "weekly", time.Time{})
	require.False(t, finished)
	require.Equal(t, []string{"1:cy:2"}, rows)
	rows, finished, _ = boardRows(t, eng, "weekly", time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC))
	require.True(t, finished)
	require.Equal(t, []string{"1:ana:5"}, rows)
	rows, finished, _ = boardRows(t, eng, "weekly", time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC))
	require.True(t, finished)
	require.Equal(t, []string{"1:bob:7", "2:ana:1"}, rows)
	runs, err := eng.Leaderboards().Runs(ctx, "weekly", gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, runs, 2, "runs without activity are not recorded")
	require.True(t, runs[0].Start.Equal(time.Date(2026, 1, 29, 0, 0, 0, 0, time.UTC)), "latest first: %v", runs[0].Start)
	require.Equal(t, 2, runs[0].Participants)

	eng.reopen(t)
	rows, _, _ = boardRows(t, eng, "weekly", time.Date(2026, 2, 3, 0, 0, 0, 0, time.UTC))
	require.Equal(t, []string{"1:bob:7", "2:ana:1"}, rows, "frozen in the store")
	rows, _, _ = boardRows(t, eng, "year", time.Time{})
	require.Equal(t, []string{"1:bob:7", "2:ana:6", "3:cy:2"}, rows)
}

// A fill larger than one chunk, interrupted after its first chunk by Close,
// resumes on reopen and counts every event exactly once, in the current run
// and in the runs that ended before the activation.
func TestBoardFillLargerThanAChunkResumesAfterClose(t *testing.T) {
	ctx := context.Background()
	var armed atomic.Bool
	var cancel atomic.Pointer[context.CancelFunc]
	var opts gamify.Options
	gamify.SetAfterCommit(&opts, func() {
		if armed.CompareAndSwap(true, false) {
			(*cancel.Load())()
		}
	})
	eng := openTest(t, &opts)
	mustMetric(t, eng.Engine, "xp")
	now := time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC) // a Wednesday
	eng.clock.Set(now)
	monday := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	weekOf := func(at time.Time) time.Time {
		w := monday
		for at.Before(w) {
			w = w.AddDate(0, 0, -7)
		}
		return w
	}
	// 1,300 users, two events each, spread over this week and the three
	// before: more than two chunks of matching ledger entries.
	rng := rand.New(rand.NewPCG(14, 7))
	want := map[time.Time]map[string]int{}
	var evs []gamify.Event
	for i := range 1300 {
		user := fmt.Sprintf("u%04d", i)
		for range 2 {
			at := now.Add(-time.Duration(rng.IntN(24*23)) * time.Hour)
			v := 1 + rng.IntN(9)
			evs = append(evs, gamify.Event{Metric: "xp", User: user, Value: float64(v), Time: at})
			w := weekOf(at)
			if want[w] == nil {
				want[w] = map[string]int{}
			}
			want[w][user] += v
		}
	}
	for len(evs) > 0 {
		n := min(len(evs), 1000)
		_, err := eng.TrackBatch(ctx, evs[:n])
		require.NoError(t, err)
		evs = evs[n:]
	}
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "weekly", Name: "Weekly", RankBy: gamify.RankByMetric, Metric: "xp", TZ: "UTC",
		Start: gamify.Date{Year: 2026, Month: 2, Day: 16}, RunUnit: gamify.RunWeek})
	require.NoError(t, err)

	// Only the first chunk runs: the writer commits it, then the run stops.
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	cancel.Store(&stop)
	armed.Store(true)
	_, err = eng.RunDue(cctx)
	require.ErrorIs(t, err, context.Canceled)
	rows, _, filling := boardRows(t, eng, "weekly", time.Time{})
	require.True(t, filling)
	require.Less(t, len(rows), len(want[monday]), "a partial board while filling")
	require.NoError(t, eng.Check(ctx), "indexes equal stored scores mid-fill, past runs included")

	eng.reopen(t) // resumes the fill (Open runs due work)
	// Ties are listed by who reached the score first; compare sorted by
	// score, then user.
	sorted := func(scores map[string]string) []string {
		var out []string
		for u, s := range scores {
			out = append(out, u+":"+s)
		}
		sort.Slice(out, func(i, j int) bool {
			si, sj := scores[out[i][:5]], scores[out[j][:5]]
			if len(si) != len(sj) || si != sj {
				return len(si) > len(sj) || len(si) == len(sj) && si > sj
			}
			return out[i] < out[j]
		})
		return out
	}
	expect := func(week time.Time) []string {
		scores := map[string]string{}
		for u, v := range want[week] {
			scores[u] = fmt.Sprint(v)
		}
		return sorted(scores)
	}
	got := func(at time.Time) ([]string, bool) {
		scores := map[string]string{}
		for off := 0; ; off += 100 {
			p, err := eng.Leaderboards().Rankings(ctx, "weekly", gamify.BoardQuery{At: at, Offset: off, Limit: 100})
			require.NoError(t, err)
			require.False(t, p.Filling)
			for _, r := range p.Rows {
				scores[r.User] = r.Score.String()
			}
			if len(p.Rows) < 100 {
				return sorted(scores), p.Finished
			}
		}
	}
	require.Len(t, want, 4)
	for week := range want {
		rows, finished := got(week)
		require.Equal(t, week.Before(monday), finished, "week of %v", week)
		require.Equal(t, expect(week), rows, "week of %v: every event once", week)
	}
	runs, err := eng.Leaderboards().Runs(ctx, "weekly", gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, runs, 3)
	for _, r := range runs {
		require.Equal(t, len(want[r.Start.UTC()]), r.Participants)
	}
}

// A streak board ranks the current lengths: created after users built
// streaks, it is filled with them.
func TestBoardFilledFromHistoryStreakLengths(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	for range 3 {
		walk(t, eng, "ana", 1000)
		eng.clock.Advance(24 * time.Hour)
	}
	walk(t, eng, "bob", 1000)
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "Streaks", RankBy: gamify.RankByStreak, Streak: "walk"})
	require.NoError(t, err)
	runDue(t, eng)
	require.Equal(t, []string{"1:ana:3", "2:bob:1"}, standings(t, eng, gamify.BoardQuery{}))
	walk(t, eng, "ana", 1000)
	require.Equal(t, []string{"1:ana:4", "2:bob:1"}, standings(t, eng, gamify.BoardQuery{}))

	// A scheduled streak board is filled when it starts.
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "later", Name: "Later", RankBy: gamify.RankByStreak, Streak: "walk",
		TZ: "America/New_York", Start: gamify.Date{Year: 2026, Month: 3, Day: 6}})
	require.NoError(t, err)
	runDue(t, eng)
	_, err = eng.Leaderboards().Rankings(ctx, "later", gamify.BoardQuery{})
	require.ErrorIs(t, err, gamify.ErrNotFound, "no run before the start")
	eng.clock.Set(time.Date(2026, 3, 6, 1, 0, 0, 0, ny))
	walk(t, eng, "ana", 1000) // 5, after the start: counted live before the fill
	runDue(t, eng)
	p, err := eng.Leaderboards().Rankings(ctx, "later", gamify.BoardQuery{})
	require.NoError(t, err)
	var rows []string
	for _, r := range p.Rows {
		rows = append(rows, fmt.Sprintf("%d:%s:%s", r.Rank, r.User, r.Score))
	}
	require.Equal(t, []string{"1:ana:5", "2:bob:1"}, rows)
}

// rowsAt lists a board's standings as rank:user:score in the run holding at.
func rowsAt(t *testing.T, eng *testEngine, key string, at time.Time) []string {
	t.Helper()
	rows, _, _ := boardRows(t, eng, key, at)
	return rows
}

// A late event counts toward the run its time falls in while that run is
// unfinished, and toward no run once it is finished, on metric and points
// boards alike. Points boards used the award's time: a Sunday event synced
// after the rollover counted in the new week.
func TestBoardLateEventCountsInItsOwnRunUntilFinished(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 2))
	for _, b := range []gamify.Leaderboard{
		{Key: "xp", Name: "XP", RankBy: gamify.RankByMetric, Metric: "xp", TZ: "UTC", RunUnit: gamify.RunWeek},
		{Key: "coins", Name: "Coins", RankBy: gamify.RankByPoints, System: "coins", TZ: "UTC", RunUnit: gamify.RunWeek},
	} {
		_, err := eng.Leaderboards().Create(ctx, b)
		require.NoError(t, err)
	}
	sunday := time.Date(2026, 3, 8, 20, 0, 0, 0, time.UTC)
	late := func(user string, at time.Time) {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: 3, Time: at})
		require.NoError(t, err)
	}
	// Monday 00:30: the week has ended but its rollover has not run yet.
	eng.clock.Set(time.Date(2026, 3, 9, 0, 30, 0, 0, time.UTC))
	late("ana", sunday)
	require.Equal(t, []string{"1:ana:3"}, rowsAt(t, eng, "xp", sunday))
	require.Equal(t, []string{"1:ana:6"}, rowsAt(t, eng, "coins", sunday), "the award counts in its event's week")
	require.Empty(t, rowsAt(t, eng, "coins", time.Time{}))
	runDue(t, eng) // the week is frozen with it

	// Tuesday: a Sunday event counts in no week.
	eng.clock.Set(time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC))
	late("bob", sunday.Add(time.Hour))
	for _, key := range []string{"xp", "coins"} {
		rows, finished, _ := boardRows(t, eng, key, sunday)
		require.True(t, finished)
		require.Len(t, rows, 1, "%s: the finished week keeps its standings", key)
		require.Empty(t, rowsAt(t, eng, key, time.Time{}), "%s: nor does it count in the new week", key)
	}
	late("bob", time.Date(2026, 3, 9, 8, 0, 0, 0, time.UTC)) // Monday: this week
	require.Equal(t, []string{"1:bob:3"}, rowsAt(t, eng, "xp", time.Time{}))
	require.Equal(t, []string{"1:bob:6"}, rowsAt(t, eng, "coins", time.Time{}))
}

// Runs that ended before a board's activation are finished: a late event
// arriving after the activation counts toward none of them (it used to land
// in a run kept in memory that was never frozen and was gone after a
// restart).
func TestBoardLateEventForARunEndedBeforeActivation(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 2))
	eng.clock.Set(time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC))
	feb16 := gamify.Date{Year: 2026, Month: 2, Day: 16}
	for _, b := range []gamify.Leaderboard{
		{Key: "xp", Name: "XP", RankBy: gamify.RankByMetric, Metric: "xp", TZ: "UTC", Start: feb16, RunUnit: gamify.RunWeek},
		{Key: "coins", Name: "Coins", RankBy: gamify.RankByPoints, System: "coins", TZ: "UTC", Start: feb16, RunUnit: gamify.RunWeek},
	} {
		_, err := eng.Leaderboards().Create(ctx, b)
		require.NoError(t, err)
	}
	lastWeek := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 3, Time: lastWeek})
	require.NoError(t, err)
	for _, key := range []string{"xp", "coins"} {
		rows, finished, _ := boardRows(t, eng, key, lastWeek)
		require.True(t, finished, key)
		require.Empty(t, rows, key)
		require.Empty(t, rowsAt(t, eng, key, time.Time{}), key)
	}
}

// A streak board judges its daily window by the time of the event that
// changed the length, not by when it arrived.
func TestBoardLateEventStreakBoardWindowByEventTime(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil) // 2026-03-02 12:00 New York; ana lives there
	_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: "bob", TZ: "America/New_York"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "Streaks", RankBy: gamify.RankByStreak, Streak: "walk",
		TZ: "America/New_York", Window: gamify.DailyWindow{From: "08:00", To: "20:00"}})
	require.NoError(t, err)
	walkAt := func(user string, at time.Time) {
		_, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: user, Value: 1000, Time: at})
		require.NoError(t, err)
	}
	// The board ranks the current length: a late event dated before its
	// start (today) that lengthens the streak counts once it has started.
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "cy", TZ: "America/New_York"})
	require.NoError(t, err)
	walkAt("cy", time.Date(2026, 3, 2, 11, 0, 0, 0, ny))
	walkAt("cy", time.Date(2026, 3, 1, 11, 0, 0, 0, ny))
	require.Equal(t, []string{"1:cy:2"}, standings(t, eng, gamify.BoardQuery{}))

	eng.clock.Set(time.Date(2026, 3, 2, 21, 0, 0, 0, ny))
	walkAt("ana", time.Date(2026, 3, 2, 10, 0, 0, 0, ny)) // inside the window, synced outside it
	eng.clock.Set(time.Date(2026, 3, 3, 10, 0, 0, 0, ny))
	walkAt("bob", time.Date(2026, 3, 2, 21, 30, 0, 0, ny)) // outside the window, synced inside it
	require.Equal(t, []string{"1:cy:2", "2:ana:1"}, standings(t, eng, gamify.BoardQuery{}))
}

// The same events delivered in different orders and batchings, without a
// rollover in between, give identical standings, ties included: a tie is
// listed by who reached the score first in event time, not in arrival.
func TestBoardStandingsIndependentOfArrivalOrder(t *testing.T) {
	ctx := context.Background()
	day := time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)
	type ev struct {
		user string
		v    float64
		h    int
	}
	events := []ev{
		{"ana", 5, 1}, {"bob", 4, 2}, {"cy", 4, 3}, {"bob", 1, 4}, {"dan", 2, 5},
		{"ana", 3, 6}, {"cy", 3, 7}, {"bob", 3, 8}, {"dan", 6, 9}, {"eve", 8, 10},
	}
	// Four users reach 8: ana at 06:00, bob at 08:00, dan at 09:00, eve at 10:00.
	deliver := func(name string, order []int, batches int) (xp, coins []string) {
		eng := pointsEngine(t, perUnits("per1", "xp", 1, 2))
		for _, b := range []gamify.Leaderboard{
			{Key: "xp", Name: "XP", RankBy: gamify.RankByMetric, Metric: "xp", TZ: "UTC", RunUnit: gamify.RunDay},
			{Key: "coins", Name: "Coins", RankBy: gamify.RankByPoints, System: "coins", TZ: "UTC", RunUnit: gamify.RunDay},
		} {
			_, err := eng.Leaderboards().Create(ctx, b)
			require.NoError(t, err)
		}
		var evs []gamify.Event
		for _, i := range order {
			e := events[i]
			evs = append(evs, gamify.Event{Metric: "xp", User: e.user, Value: e.v, Time: day.Add(time.Duration(e.h) * time.Hour)})
		}
		size := (len(evs) + batches - 1) / batches
		for len(evs) > 0 {
			n := min(size, len(evs))
			if n == 1 {
				_, err := eng.Track(ctx, evs[0])
				require.NoError(t, err, name)
			} else {
				_, err := eng.TrackBatch(ctx, evs[:n])
				require.NoError(t, err, name)
			}
			evs = evs[n:]
		}
		return rowsAt(t, eng, "xp", time.Time{}), rowsAt(t, eng, "coins", time.Time{})
	}
	n := len(events)
	forward, reverse := make([]int, n), make([]int, n)
	for i := range n {
		forward[i], reverse[i] = i, n-1-i
	}
	rng := rand.New(rand.NewPCG(14, 2))
	shuffled := rng.Perm(n)
	wantXP, wantCoins := deliver("oldest first, one by one", forward, n)
	require.Equal(t, []string{"1:ana:8", "1:bob:8", "1:dan:8", "1:eve:8", "5:cy:7"}, wantXP)
	for _, c := range []struct {
		name    string
		order   []int
		batches int
	}{
		{"newest first, one by one", reverse, n},
		{"shuffled, one batch", shuffled, 1},
		{"shuffled, three batches", shuffled, 3},
		{"newest first, two batches", reverse, 2},
	} {
		xp, coins := deliver(c.name, c.order, c.batches)
		require.Equal(t, wantXP, xp, c.name)
		require.Equal(t, wantCoins, coins, c.name)
	}
}

// A run boundary reached while a fill is pending (the scheduler runs the
// rollover first) completes the fill before freezing the run; so does
// Finish. Delete abandons the fill.
func TestBoardRolloverAndFinishCompleteAPendingFill(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	eng.clock.Set(time.Date(2026, 3, 11, 12, 0, 0, 0, time.UTC)) // Wednesday
	for i, u := range []string{"ana", "bob", "cy"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: float64(3 - i), Time: time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)})
		require.NoError(t, err)
	}
	for _, key := range []string{"rolled", "finished", "deleted"} {
		_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: key, Name: key, RankBy: gamify.RankByMetric, Metric: "xp", TZ: "UTC", RunUnit: gamify.RunWeek})
		require.NoError(t, err)
	}
	_, err := eng.Leaderboards().Finish(ctx, "finished")
	require.NoError(t, err)
	require.NoError(t, eng.Leaderboards().Delete(ctx, "deleted"))
	eng.clock.Set(time.Date(2026, 3, 16, 1, 0, 0, 0, time.UTC)) // past the week's end
	runDue(t, eng)
	week := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for _, key := range []string{"rolled", "finished"} {
		rows, finished, filling := boardRows(t, eng, key, week)
		require.True(t, finished, key)
		require.False(t, filling, key)
		require.Equal(t, []string{"1:ana:3", "2:bob:2", "3:cy:1"}, rows, "%s: frozen with its history, once", key)
		runs, err := eng.Leaderboards().Runs(ctx, key, gamify.ListOptions{})
		require.NoError(t, err)
		require.Len(t, runs, 1, key)
		require.Equal(t, 3, runs[0].Participants, key)
	}
	eng.reopen(t)
	rows, _, _ := boardRows(t, eng, "rolled", week)
	require.Equal(t, []string{"1:ana:3", "2:bob:2", "3:cy:1"}, rows)
}

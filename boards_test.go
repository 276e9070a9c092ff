package gamify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

var ny = func() *time.Location { l, _ := time.LoadLocation("America/New_York"); return l }()

// boardEngine has metric "xp" and an activated board over it, with a clock
// at 2026-03-06 12:00 New York time (the Friday before the DST change).
func boardEngine(t *testing.T, opts *gamify.Options, b gamify.Leaderboard) *testEngine {
	t.Helper()
	ctx := context.Background()
	eng := openTest(t, opts)
	eng.clock.Set(time.Date(2026, 3, 6, 12, 0, 0, 0, ny))
	mustMetric(t, eng.Engine, "xp")
	if b.Key == "" {
		b.Key = "board"
	}
	b.Name = "Board"
	if b.RankBy == "" {
		b.RankBy, b.Metric = gamify.RankByMetric, "xp"
	}
	if b.TZ == "" {
		b.TZ = "America/New_York"
	}
	_, err := eng.Leaderboards().Create(ctx, b)
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, b.Key)
	require.NoError(t, err)
	return eng
}

func xp(t *testing.T, eng *testEngine, user string, v float64) gamify.EventResult {
	t.Helper()
	r, err := eng.Track(context.Background(), gamify.Event{Metric: "xp", User: user, Value: v})
	require.NoError(t, err)
	return r
}

func standings(t *testing.T, eng *testEngine, q gamify.BoardQuery) []string {
	t.Helper()
	p, err := eng.Leaderboards().Rankings(context.Background(), "board", q)
	require.NoError(t, err)
	var out []string
	for _, r := range p.Rows {
		out = append(out, fmt.Sprintf("%d:%s:%s", r.Rank, r.User, r.Score))
	}
	return out
}

func TestBoardRanksEventsWithTiePolicies(t *testing.T) {
	for _, c := range []struct {
		ties gamify.TiePolicy
		want []string
	}{
		{gamify.TiesCompetition, []string{"1:a:30", "2:b:20", "2:c:20", "4:d:10"}},
		{gamify.TiesDense, []string{"1:a:30", "2:b:20", "2:c:20", "3:d:10"}},
		{gamify.TiesUnique, []string{"1:a:30", "2:b:20", "3:c:20", "4:d:10"}},
	} {
		t.Run(string(c.ties), func(t *testing.T) {
			eng := boardEngine(t, nil, gamify.Leaderboard{Ties: c.ties})
			r := xp(t, eng, "c", 20) // c reaches 20 before b: listed first... until b's tie
			require.Equal(t, []gamify.LeaderboardChange{{Key: "board", Rank: 1}}, r.Leaderboards)
			xp(t, eng, "d", 10)
			xp(t, eng, "b", 5)
			xp(t, eng, "b", 15)
			r = xp(t, eng, "a", 30)
			require.Equal(t, 1, r.Leaderboards[0].Rank)
			require.Equal(t, 0, r.Leaderboards[0].PreviousRank)
			// Within a tie whoever reached the score first is listed first:
			// c reached 20 before b did.
			got := standings(t, eng, gamify.BoardQuery{})
			want := append([]string(nil), c.want...)
			want[1], want[2] = want[1][:2]+"c:20", want[2][:2]+"b:20"
			require.Equal(t, want, got)
		})
	}
}

func TestBoardAscendingAndPreviousRank(t *testing.T) {
	eng := boardEngine(t, nil, gamify.Leaderboard{Order: gamify.Asc})
	xp(t, eng, "slow", 50)
	xp(t, eng, "fast", 10)
	r := xp(t, eng, "slow", -45) // 5: now the lowest, first on an ascending board
	require.Equal(t, gamify.LeaderboardChange{Key: "board", Rank: 1, PreviousRank: 2}, r.Leaderboards[0])
	require.Equal(t, []string{"1:slow:5", "2:fast:10"}, standings(t, eng, gamify.BoardQuery{}))
}

func TestBoardRunRolloverAtLocalMidnightAcrossDST(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{RunEvery: 1, RunUnit: gamify.RunDay})
	var mu sync.Mutex
	var finished []gamify.LeaderboardFinished
	sub := eng.Subscribe(func(n gamify.Notification) {
		if f, ok := n.(gamify.LeaderboardFinished); ok {
			mu.Lock()
			finished = append(finished, f)
			mu.Unlock()
		}
	})
	defer sub.Close()
	// Saturday 7 March, then Sunday 8 March (a 23-hour day in New York).
	eng.clock.Set(time.Date(2026, 3, 7, 23, 30, 0, 0, ny))
	xp(t, eng, "ana", 5)
	xp(t, eng, "bob", 7)
	eng.clock.Set(time.Date(2026, 3, 8, 23, 59, 0, 0, ny))
	n, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, 1)
	xp(t, eng, "ana", 1)
	eng.clock.Set(time.Date(2026, 3, 9, 0, 0, 0, 0, ny))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(finished) >= 3 }, 5*time.Second, time.Millisecond)
	mu.Lock()
	sunday := finished[len(finished)-1]
	mu.Unlock()
	require.Equal(t, time.Date(2026, 3, 8, 0, 0, 0, 0, ny), sunday.RunStart.In(ny))
	require.Equal(t, 23*time.Hour, sunday.RunEnd.Sub(sunday.RunStart), "the DST day's run is 23 hours long")
	require.Equal(t, 1, sunday.Participants)

	// Saturday's run is frozen and still queryable by date.
	p, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: time.Date(2026, 3, 7, 12, 0, 0, 0, ny)})
	require.NoError(t, err)
	require.True(t, p.Finished)
	require.Equal(t, []gamify.BoardRow{{Rank: 1, User: "bob", Score: gamify.AmountFromInt(7)}, {Rank: 2, User: "ana", Score: gamify.AmountFromInt(5)}}, p.Rows)
	// A late event for Saturday no longer counts.
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 100, Time: time.Date(2026, 3, 7, 22, 0, 0, 0, ny)})
	require.NoError(t, err)
	require.Empty(t, r.Leaderboards)
	p, err = eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: time.Date(2026, 3, 7, 12, 0, 0, 0, ny)})
	require.NoError(t, err)
	require.Equal(t, "5", p.Rows[1].Score.String(), "a finished run's standings are frozen")
	// Monday's run starts empty.
	require.Empty(t, standings(t, eng, gamify.BoardQuery{}))
	runs, err := eng.Leaderboards().Runs(ctx, "board", gamify.ListOptions{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs, 3) // Friday, Saturday, Sunday
	require.Equal(t, 2, runs[1].Participants)
	page, err := eng.Leaderboards().Runs(ctx, "board", gamify.ListOptions{Skip: 1, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, runs[1:2], page, "paged like every list")
	_, err = eng.Leaderboards().Runs(ctx, "board", gamify.ListOptions{Limit: 101})
	requireField(t, err, "ListOptions.Limit")
}

func TestBoardMaxParticipantsEvictsTheLowest(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{MaxParticipants: 2})
	xp(t, eng, "a", 10)
	r := xp(t, eng, "b", 20)
	require.Equal(t, gamify.AmountFromInt(int64(10)), r.Leaderboards[0].Threshold, "full: the entry threshold is the lowest score")
	r = xp(t, eng, "c", 10) // ties the lowest: does not beat it
	require.Equal(t, 0, r.Leaderboards[0].Rank)
	require.Equal(t, []string{"1:b:20", "2:a:10"}, standings(t, eng, gamify.BoardQuery{}))
	r = xp(t, eng, "c", 5) // 15 beats a, who leaves
	require.Equal(t, 2, r.Leaderboards[0].Rank)
	require.Equal(t, []string{"1:b:20", "2:c:15"}, standings(t, eng, gamify.BoardQuery{}))
	_, err := eng.Leaderboards().UserRank(ctx, "board", "a")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	eng.reopen(t) // the membership survives a restart (checked by Check at cleanup too)
	require.Equal(t, []string{"1:b:20", "2:c:15"}, standings(t, eng, gamify.BoardQuery{}))
}

func TestBoardBreakdownGroupsAreIsolated(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "country", Name: "Country", Type: gamify.UserAttribute})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "B", RankBy: gamify.RankByMetric, Metric: "xp",
		Breakdown: []string{"country"}, MaxParticipants: 1})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	for _, u := range []struct {
		id, country string
		v           float64
	}{{"fr1", "FR", 5}, {"de1", "DE", 1}, {"fr2", "FR", 9}} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u.id, Value: u.v, Profile: &gamify.UserInput{Attributes: map[string]string{"country": u.country}}})
		require.NoError(t, err)
	}
	require.Equal(t, []string{"1:fr2:9"}, standings(t, eng, gamify.BoardQuery{Group: "country:FR"}), "the cap applies per group")
	require.Equal(t, []string{"1:de1:1"}, standings(t, eng, gamify.BoardQuery{Group: "country:DE"}))
	ur, err := eng.Leaderboards().UserRank(ctx, "board", "de1")
	require.NoError(t, err)
	require.Equal(t, gamify.UserRank{Board: "board", Group: "country:DE", Rank: 1, Score: gamify.AmountFromInt(1), Participants: 1}, ur)

	// Once finished, the frozen standings give the same ranks per group.
	fr, err := eng.Leaderboards().UserRank(ctx, "board", "fr2")
	require.NoError(t, err)
	eng.clock.Advance(time.Hour)
	_, err = eng.Leaderboards().Finish(ctx, "board")
	require.NoError(t, err)
	for u, want := range map[string]gamify.UserRank{"de1": ur, "fr2": fr} {
		got, err := eng.Leaderboards().UserRankAt(ctx, "board", u, t0)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err = eng.Leaderboards().UserRankAt(ctx, "board", "fr1", t0)
	require.ErrorIs(t, err, gamify.ErrNotFound, "fr1 was pushed off the capped group")
	frozen, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: t0, Group: "country:FR"})
	require.NoError(t, err)
	require.Equal(t, "country:FR", frozen.Group)
	require.Len(t, frozen.Rows, 1, "the frozen run, by group")
}

// A profile change that moves a user to another breakdown group moves
// their entry at once, score kept, on every board with a breakdown: through
// Users().Update, an event's profile on a board of another metric, and
// Anonymize (no attributes: the group of missing values).
func TestBoardBreakdownGroupFollowsTheProfile(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	mustMetric(t, eng.Engine, "steps")
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "country", Name: "Country", Type: gamify.UserAttribute})
	require.NoError(t, err)
	for key, metric := range map[string]string{"board": "xp", "steps": "steps"} {
		_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: key, Name: key, RankBy: gamify.RankByMetric, Metric: metric, Breakdown: []string{"country"}})
		require.NoError(t, err)
		_, err = eng.Leaderboards().Activate(ctx, key)
		require.NoError(t, err)
	}
	in := func(c string) *gamify.UserInput {
		return &gamify.UserInput{Attributes: map[string]string{"country": c}}
	}
	for _, ev := range []gamify.Event{
		{Metric: "xp", User: "ana", Value: 5, Profile: in("FR")}, {Metric: "xp", User: "bo", Value: 3, Profile: in("DE")},
		{Metric: "steps", User: "ana", Value: 100},
	} {
		_, err := eng.Track(ctx, ev)
		require.NoError(t, err)
	}
	require.Equal(t, []string{"1:ana:5"}, standings(t, eng, gamify.BoardQuery{Group: "country:FR"}))

	_, err = eng.Users().Update(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"country": "DE"}})
	require.NoError(t, err)
	require.Empty(t, standings(t, eng, gamify.BoardQuery{Group: "country:FR"}), "moved out of FR at once")
	require.Equal(t, []string{"1:ana:5", "2:bo:3"}, standings(t, eng, gamify.BoardQuery{Group: "country:DE"}))
	ur, err := eng.Leaderboards().UserRank(ctx, "steps", "ana")
	require.NoError(t, err)
	require.Equal(t, "country:DE", ur.Group, "on every board with a breakdown")

	// An event of steps carrying a new country moves ana on xp too.
	_, err = eng.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 1, Profile: in("IT")})
	require.NoError(t, err)
	require.Equal(t, []string{"1:ana:5"}, standings(t, eng, gamify.BoardQuery{Group: "country:IT"}))
	require.Equal(t, []string{"1:bo:3"}, standings(t, eng, gamify.BoardQuery{Group: "country:DE"}))

	_, err = eng.Users().Anonymize(ctx, "ana")
	require.NoError(t, err)
	ur, err = eng.Leaderboards().UserRank(ctx, "board", "ana")
	require.NoError(t, err)
	require.Equal(t, "country:", ur.Group, "no country: the group of a missing value")
	require.Equal(t, gamify.AmountFromInt(5), ur.Score)
	eng.reopen(t)
	require.Empty(t, standings(t, eng, gamify.BoardQuery{Group: "country:IT"}), "the indexes rebuilt at Open agree")
}

// A finished board read without a time gives its last run, frozen: its
// standings stay queryable, as Trophy's finished boards do.
func TestFinishedBoardReadsItsLastRun(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "B", RankBy: gamify.RankByMetric, Metric: "xp", RunEvery: 1, RunUnit: gamify.RunDay})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	xp(t, eng, "ana", 5)
	xp(t, eng, "bo", 3)
	eng.clock.Advance(time.Hour)
	_, err = eng.Leaderboards().Finish(ctx, "board")
	require.NoError(t, err)
	eng.clock.Advance(48 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"1:ana:5", "2:bo:3"}, standings(t, eng, gamify.BoardQuery{}))
	ur, err := eng.Leaderboards().UserRank(ctx, "board", "bo")
	require.NoError(t, err)
	require.Equal(t, 2, ur.Rank)
	_, err = eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: eng.clock.Now()})
	require.ErrorIs(t, err, gamify.ErrNotFound, "a time asked for past the end has no run")
	require.NotContains(t, err.Error(), "m=+", "the time is formatted, not Go's monotonic reading")
}

// Breakdown groups are named Trophy's way ("attr:value,..."); a group that
// cannot exist is a ValidationError, not an empty page.
func TestBoardGroupSyntax(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	mustUserAttributes(t, eng.Engine, "country", "plan")
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "split", Name: "Split", RankBy: gamify.RankByMetric, Metric: "xp",
		Breakdown: []string{"country", "plan"}})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "all", Name: "All", RankBy: gamify.RankByMetric, Metric: "xp"})
	require.NoError(t, err)
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 4,
		Profile: &gamify.UserInput{Attributes: map[string]string{"country": "DE", "plan": "pro"}}})
	require.NoError(t, err)
	groups := map[string]string{}
	for _, c := range r.Leaderboards {
		groups[c.Key] = c.Group
	}
	require.Equal(t, map[string]string{"split": "country:DE,plan:pro", "all": ""}, groups)

	for _, g := range []string{"country:DE,plan:pro", "plan:pro,country:DE"} {
		p, err := eng.Leaderboards().Rankings(ctx, "split", gamify.BoardQuery{Group: g})
		require.NoError(t, err, g)
		require.Len(t, p.Rows, 1, "pairs in any order: %s", g)
	}
	p, err := eng.Leaderboards().Rankings(ctx, "split", gamify.BoardQuery{Group: "country:FR,plan:pro"})
	require.NoError(t, err)
	require.Empty(t, p.Rows, "a well-formed group nobody is in is an empty page")
	for _, g := range []string{"", "country=DE,plan=pro", "country:DE", "country:DE,plan:pro,age:9", "country:DE,country:FR", "tier:gold,plan:pro"} {
		_, err := eng.Leaderboards().Rankings(ctx, "split", gamify.BoardQuery{Group: g})
		requireField(t, err, "BoardQuery.Group")
	}
	_, err = eng.Leaderboards().Rankings(ctx, "all", gamify.BoardQuery{Group: "country:DE"})
	requireField(t, err, "BoardQuery.Group")
	ur, err := eng.Leaderboards().UserRank(ctx, "split", "ana")
	require.NoError(t, err)
	require.Equal(t, "country:DE,plan:pro", ur.Group)
}

func TestBoardAroundAndRelativeOffset(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{})
	for i := 1; i <= 6; i++ {
		xp(t, eng, fmt.Sprintf("u%d", i), float64(i*10)) // u6 first ... u1 last
	}
	top, err := eng.Leaderboards().Around(ctx, "board", "u6", 2, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"u6", "u5", "u4"}, users(top.Rows), "around rank 1: nobody above")
	last, err := eng.Leaderboards().Around(ctx, "board", "u1", 2, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"u3", "u2", "u1"}, users(last.Rows), "around the last rank: nobody below")
	require.Equal(t, []string{"3:u4:40", "4:u3:30"}, standings(t, eng, gamify.BoardQuery{User: "u5", Offset: 1, Limit: 2}))
	friends, err := eng.Leaderboards().Ranks(ctx, "board", []string{"u2", "nobody", "u5"})
	require.NoError(t, err)
	require.Equal(t, []string{"u5", "u2"}, users(friends))
	ur, err := eng.Leaderboards().UserRank(ctx, "board", "u3")
	require.NoError(t, err)
	require.InDelta(t, 100*2.0/6, ur.Percentile, 1e-9)
}

func users(rows []gamify.BoardRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.User)
	}
	return out
}

func TestScoreBoardOperators(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		op        gamify.ScoreOperator
		order     gamify.BoardOrder
		subs      [][2]float64
		wantScore string
		wantSub   string
	}{
		// best compares the whole pair: (10, 1) beats (10, 0) and (9, 9).
		{gamify.OpBest, gamify.Desc, [][2]float64{{9, 9}, {10, 0}, {10, 1}, {8, 100}}, "10", "1"},
		// ascending best: the lowest time wins; never a mix of two submissions.
		{gamify.OpBest, gamify.Asc, [][2]float64{{30, 5}, {25, 9}, {25, 10}, {40, 0}}, "25", "9"},
		{gamify.OpSet, gamify.Desc, [][2]float64{{9, 9}, {3, 1}}, "3", "1"},
		{gamify.OpIncr, gamify.Desc, [][2]float64{{9, 1}, {3, 2}}, "12", "2"},
		{gamify.OpDecr, gamify.Desc, [][2]float64{{9, 1}, {3, 2}}, "-12", "2"},
	} {
		t.Run(string(c.op)+"/"+string(c.order), func(t *testing.T) {
			eng := boardEngine(t, nil, gamify.Leaderboard{RankBy: gamify.RankByScore, Operator: c.op, Order: c.order})
			for _, s := range c.subs {
				_, err := eng.Leaderboards().Submit(ctx, gamify.ScoreSubmission{Board: "board", User: "ana", Score: floatAmount(s[0]), Subscore: floatAmount(s[1])})
				require.NoError(t, err)
			}
			ur, err := eng.Leaderboards().UserRank(ctx, "board", "ana")
			require.NoError(t, err)
			require.Equal(t, c.wantScore, ur.Score.String())
			require.Equal(t, c.wantSub, ur.Subscore.String())
		})
	}
}

func TestStreakBoardRanksLength(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "Streaks", RankBy: gamify.RankByStreak, Streak: "walk"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	for range 2 {
		walk(t, eng, "ana", 1000)
		eng.clock.Advance(24 * time.Hour)
	}
	walk(t, eng, "bob", 1000)
	require.Equal(t, []string{"1:ana:2", "2:bob:1"}, standings(t, eng, gamify.BoardQuery{}))
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "bad", Name: "B", RankBy: gamify.RankByStreak, Streak: "walk", RunEvery: 1, RunUnit: gamify.RunDay})
	require.ErrorContains(t, err, "streak boards cannot repeat")
}

func TestBoardIndexUndoneWhenCommandFails(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{})
	xp(t, eng, "big", 9e12)
	_, err := eng.TrackBatch(ctx, []gamify.Event{{Metric: "xp", User: "ana", Value: 5}, {Metric: "xp", User: "big", Value: 9e12}})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	require.Equal(t, []string{"1:big:9000000000000"}, standings(t, eng, gamify.BoardQuery{}), "the failed batch left no entry")
}

func TestBoardIndexRebuiltAfterCommitFailure(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	fail := false
	opts := &gamify.Options{}
	gamify.SetBeforeCommit(opts, func() error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return errors.New("disk gone")
		}
		return nil
	})
	eng := boardEngine(t, opts, gamify.Leaderboard{})
	xp(t, eng, "a", 1)
	mu.Lock()
	fail = true
	mu.Unlock()
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "b", Value: 5})
	require.Error(t, err)
	require.Equal(t, []string{"1:a:1"}, standings(t, eng, gamify.BoardQuery{}))
}

func TestBoardValidation(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "b", Name: "B", RankBy: gamify.RankByMetric, Metric: "nope",
		TZ: "Moon/Base", RunEvery: 1, RunCron: "@daily", Window: gamify.DailyWindow{From: "25:00", To: "10:00"}, MaxParticipants: -1,
		Breakdown: []string{"x"}, End: gamify.Date{Year: 2020, Month: 1, Day: 1}})
	for _, f := range []string{"Leaderboard.Metric", "Leaderboard.TZ", "Leaderboard.RunCron", "Leaderboard.Window",
		"Leaderboard.MaxParticipants", "Leaderboard.Breakdown[0]", "Leaderboard.End"} {
		require.ErrorContains(t, err, f)
	}
	_, err = eng.Leaderboards().Submit(ctx, gamify.ScoreSubmission{Board: "b", User: "ana", Score: gamify.AmountFromInt(1)})
	require.ErrorIs(t, err, gamify.ErrInvalid)
}

func TestBoardDailyRankHistory(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{})
	xp(t, eng, "top", 100)
	xp(t, eng, "ana", 10)  // rank 2
	xp(t, eng, "ana", 200) // rank 1: best of the day
	xp(t, eng, "top", 500)
	eng.clock.Advance(24 * time.Hour)
	xp(t, eng, "ana", 1) // rank 2 again
	eng.clock.Advance(48 * time.Hour)
	h, err := eng.Leaderboards().RankHistory(ctx, "board", "ana", 10)
	require.NoError(t, err)
	require.Equal(t, []gamify.DailyRank{
		{Date: gamify.Date{Year: 2026, Month: 3, Day: 6}, Rank: 1, Best: 1, Score: gamify.AmountFromInt(210)}, // new on the board
		// top passed ana after her last change on the 6th: she starts the 7th second.
		{Date: gamify.Date{Year: 2026, Month: 3, Day: 7}, Rank: 2, Best: 2, Score: gamify.AmountFromInt(211),
			PreviousRank: 2, PreviousScore: gamify.AmountFromInt(210)},
	}, h)
	eng.reopen(t)
	again, err := eng.Leaderboards().RankHistory(ctx, "board", "ana", 10)
	require.NoError(t, err)
	require.Len(t, again, 2)
	require.Equal(t, h[1], again[1], "the history is stored")
	h, err = eng.Leaderboards().RankHistory(ctx, "board", "ana", 3)
	require.NoError(t, err)
	require.Len(t, h, 1, "only the last 3 days")
	h, err = eng.Leaderboards().RankHistory(ctx, "board", "ana", 0) // 0: the default, 30 days
	require.NoError(t, err)
	require.Len(t, h, 2)
	_, err = eng.Leaderboards().RankHistory(ctx, "board", "ana", 101)
	require.ErrorIs(t, err, gamify.ErrInvalid)
}

func TestBoardEvictionWithinOneBatch(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{MaxParticipants: 1})
	_, err := eng.TrackBatch(ctx, []gamify.Event{{Metric: "xp", User: "first", Value: 1}, {Metric: "xp", User: "second", Value: 2}})
	require.NoError(t, err)
	require.Equal(t, []string{"1:second:2"}, standings(t, eng, gamify.BoardQuery{}))
}

// boardNotes collects the board notifications of eng's current engine (until
// a reopen), in order.
func boardNotes(t *testing.T, eng *testEngine) func() []string {
	t.Helper()
	var mu sync.Mutex
	var got []string
	sub := eng.Subscribe(func(n gamify.Notification) {
		mu.Lock()
		defer mu.Unlock()
		switch n := n.(type) {
		case gamify.LeaderboardStarted:
			got = append(got, fmt.Sprintf("started %s %s", n.Board, n.RunStart.UTC().Format(time.DateTime)))
		case gamify.LeaderboardFinished:
			got = append(got, fmt.Sprintf("finished %s %s-%s %d", n.Board, n.RunStart.UTC().Format(time.DateTime), n.RunEnd.UTC().Format(time.DateTime), n.Participants))
		}
	})
	t.Cleanup(sub.Close)
	return func() []string {
		t.Helper()
		// Notifications are delivered after commit: wait for a quiet moment.
		require.NoError(t, eng.Flush(context.Background()))
		time.Sleep(20 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

func boardKeys(bs []gamify.Leaderboard) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, b.Key)
	}
	return out
}

func TestBoardLifecycle(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil) // 2026-03-08 12:00 UTC
	mustMetric(t, eng.Engine, "xp")
	mustMetric(t, eng.Engine, "km")
	notes := boardNotes(t, eng)
	start := gamify.Date{Year: 2026, Month: 3, Day: 10}
	end := gamify.Date{Year: 2026, Month: 3, Day: 11}
	b, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "cup", Name: "Cup", RankBy: gamify.RankByMetric, Metric: "xp",
		Start: start, End: end, TZ: "UTC", Status: gamify.StatusInactive})
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, b.Status)
	list, err := eng.Leaderboards().List(ctx, gamify.BoardListOptions{})
	require.NoError(t, err)
	require.Empty(t, list, "inactive boards are hidden")
	list, err = eng.Leaderboards().List(ctx, gamify.BoardListOptions{IncludeInactive: true})
	require.NoError(t, err)
	require.Equal(t, []string{"cup"}, boardKeys(list))

	// Never activated: every field may change.
	b, err = eng.Leaderboards().Patch(ctx, "cup", func(b *gamify.Leaderboard) { b.Name, b.Metric, b.Ties = "The Cup", "km", gamify.TiesDense })
	require.NoError(t, err, "inactive boards are editable")
	require.Equal(t, "km", b.Metric)
	_, err = eng.Leaderboards().Patch(ctx, "cup", func(b *gamify.Leaderboard) { b.Metric = "xp" })
	require.NoError(t, err)
	r := xp(t, eng, "ana", 5)
	require.Empty(t, r.Leaderboards, "inactive boards count nothing")

	b, err = eng.Leaderboards().Activate(ctx, "cup")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusScheduled, b.Status)
	again, err := eng.Leaderboards().Activate(ctx, "cup")
	require.NoError(t, err, "activating twice is not an error")
	require.Equal(t, b, again)
	before := gamify.DumpStore(eng.Engine)
	_, err = eng.Leaderboards().Patch(ctx, "cup", func(b *gamify.Leaderboard) { b.RankBy, b.Metric = gamify.RankByScore, "" })
	requireField(t, err, "Leaderboard.RankBy")
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	b, err = eng.Leaderboards().Patch(ctx, "cup", func(b *gamify.Leaderboard) { b.Name = "World Cup" })
	require.NoError(t, err, "the name of an activated board may change")
	require.Equal(t, gamify.StatusScheduled, b.Status)

	r = xp(t, eng, "ana", 5)
	require.Empty(t, r.Leaderboards, "not started yet")
	eng.clock.Set(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	got, err := eng.Leaderboards().Get(ctx, "cup")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, got.Status)
	r = xp(t, eng, "ana", 5)
	require.Len(t, r.Leaderboards, 1)
	eng.clock.Set(time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	got, err = eng.Leaderboards().Get(ctx, "cup")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusFinished, got.Status)
	r = xp(t, eng, "ana", 5)
	require.Empty(t, r.Leaderboards, "finished boards track nothing")
	list, err = eng.Leaderboards().List(ctx, gamify.BoardListOptions{})
	require.NoError(t, err)
	require.Empty(t, list)
	list, err = eng.Leaderboards().List(ctx, gamify.BoardListOptions{IncludeFinished: true})
	require.NoError(t, err)
	require.Equal(t, []string{"cup"}, boardKeys(list))
	p, err := eng.Leaderboards().Rankings(ctx, "cup", gamify.BoardQuery{At: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.True(t, p.Finished)
	require.Equal(t, []string{"ana"}, users(p.Rows))
	require.Equal(t, []string{"started cup 2026-03-10 00:00:00", "finished cup 2026-03-10 00:00:00-2026-03-12 00:00:00 1"}, notes())

	_, err = eng.Leaderboards().Activate(ctx, "cup")
	require.ErrorIs(t, err, gamify.ErrConflict, "a finished board stays finished")
	_, err = eng.Leaderboards().Deactivate(ctx, "cup")
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = eng.Leaderboards().Patch(ctx, "cup", func(b *gamify.Leaderboard) { b.End = gamify.Date{} })
	requireField(t, err, "Leaderboard.End")
	eng.reopen(t)
	got, err = eng.Leaderboards().Get(ctx, "cup")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusFinished, got.Status)
	require.Equal(t, "World Cup", got.Name)
}

func TestBoardCreateStatus(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	notes := boardNotes(t, eng)
	now, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "now", Name: "Now", RankBy: gamify.RankByMetric, Metric: "xp", TZ: "UTC"})
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, now.Status, "created active by default")
	require.Equal(t, gamify.Date{Year: 2026, Month: 3, Day: 8}, now.Start, "Start defaults to today")
	later, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "later", Name: "Later", RankBy: gamify.RankByMetric, Metric: "xp",
		Start: gamify.Date{Year: 2026, Month: 4, Day: 1}})
	require.NoError(t, err)
	require.Equal(t, gamify.StatusScheduled, later.Status)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "draft", Name: "Draft", RankBy: gamify.RankByMetric, Metric: "xp", Status: gamify.StatusInactive})
	require.NoError(t, err)
	r := xp(t, eng, "ana", 3)
	require.Equal(t, []gamify.LeaderboardChange{{Key: "now", Rank: 1}}, r.Leaderboards, "only the active board counts")
	require.Equal(t, []string{"started now 2026-03-08 00:00:00"}, notes(), "only the board starting now is announced")

	before := gamify.DumpStore(eng.Engine)
	for _, st := range []gamify.Status{gamify.StatusArchived, gamify.StatusScheduled, gamify.StatusFinished, "paused"} {
		_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "bad", Name: "Bad", RankBy: gamify.RankByMetric, Metric: "xp", Status: st})
		requireField(t, err, "Leaderboard.Status")
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused create changes nothing")
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "now", Name: "Again", RankBy: gamify.RankByMetric, Metric: "xp"})
	require.ErrorIs(t, err, gamify.ErrConflict)
}

func TestBoardPatchKeepsFieldsAndRefusesLockedOnes(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	mustMetric(t, eng.Engine, "km")
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "country", Name: "Country", Type: gamify.UserAttribute})
	require.NoError(t, err)
	created, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "full", Name: "Full", Description: "Everything", RankBy: gamify.RankByMetric,
		Metric: "xp", Order: gamify.Asc, Ties: gamify.TiesDense, TZ: "Europe/Paris", End: gamify.Date{Year: 2026, Month: 12, Day: 31},
		RunEvery: 1, RunUnit: gamify.RunWeek, Window: gamify.DailyWindow{From: "08:00", To: "20:00"}, MaxParticipants: 10, Breakdown: []string{"country"}})
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, created.Status)

	before := gamify.DumpStore(eng.Engine)
	for field, edit := range map[string]func(*gamify.Leaderboard){
		"Leaderboard.Key":             func(b *gamify.Leaderboard) { b.Key = "other" },
		"Leaderboard.Status":          func(b *gamify.Leaderboard) { b.Status = gamify.StatusInactive },
		"Leaderboard.Created":         func(b *gamify.Leaderboard) { b.Created = b.Created.Add(time.Hour) },
		"Leaderboard.RankBy":          func(b *gamify.Leaderboard) { b.RankBy = gamify.RankByScore },
		"Leaderboard.Metric":          func(b *gamify.Leaderboard) { b.Metric = "km" },
		"Leaderboard.Order":           func(b *gamify.Leaderboard) { b.Order = gamify.Desc },
		"Leaderboard.Ties":            func(b *gamify.Leaderboard) { b.Ties = gamify.TiesUnique },
		"Leaderboard.TZ":              func(b *gamify.Leaderboard) { b.TZ = "UTC" },
		"Leaderboard.Start":           func(b *gamify.Leaderboard) { b.Start.Day++ },
		"Leaderboard.RunEvery":        func(b *gamify.Leaderboard) { b.RunEvery = 2 },
		"Leaderboard.RunUnit":         func(b *gamify.Leaderboard) { b.RunUnit = gamify.RunDay },
		"Leaderboard.Breakdown":       func(b *gamify.Leaderboard) { b.Breakdown = nil },
		"Leaderboard.End":             func(b *gamify.Leaderboard) { b.End = gamify.Date{Year: 2026, Month: 3, Day: 1} }, // in the past
		"Leaderboard.Name":            func(b *gamify.Leaderboard) { b.Name = "" },
		"Leaderboard.Window":          func(b *gamify.Leaderboard) { b.Window.To = "25:00" },
		"Leaderboard.MaxParticipants": func(b *gamify.Leaderboard) { b.MaxParticipants = -1 },
	} {
		_, err := eng.Leaderboards().Patch(ctx, "full", edit)
		requireField(t, err, field)
	}
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused patch changes nothing")
	_, err = eng.Leaderboards().Patch(ctx, "nope", func(*gamify.Leaderboard) {})
	require.ErrorIs(t, err, gamify.ErrNotFound)

	// The references need not be active any more for other fields to change.
	_, err = eng.Metrics().Deactivate(ctx, "xp")
	require.NoError(t, err)
	eng.clock.Advance(time.Minute)
	b, err := eng.Leaderboards().Patch(ctx, "full", func(b *gamify.Leaderboard) {
		require.Equal(t, gamify.StatusActive, b.Status, "the edit sees the current status")
		b.Name, b.Description, b.MaxParticipants = "Fuller", "", 20
		b.Window = gamify.DailyWindow{From: "22:00", To: "06:00"}
		b.End = gamify.Date{Year: 2027, Month: 1, Day: 31}
	})
	require.NoError(t, err)
	want := created
	want.Name, want.Description, want.MaxParticipants = "Fuller", "", 20
	want.Window, want.End = gamify.DailyWindow{From: "22:00", To: "06:00"}, gamify.Date{Year: 2027, Month: 1, Day: 31}
	want.Updated = created.Updated.Add(time.Minute)
	require.Equal(t, want, b, "only the patched fields (and Updated) changed")
	eng.reopen(t)
	got, err := eng.Leaderboards().Get(ctx, "full")
	require.NoError(t, err)
	require.Equal(t, b, got)
}

func TestBoardDeactivatePausesCounting(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{RunEvery: 1, RunUnit: gamify.RunDay}) // Friday 2026-03-06 12:00 New York
	xp(t, eng, "ana", 5)
	b, err := eng.Leaderboards().Deactivate(ctx, "board")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, b.Status)
	again, err := eng.Leaderboards().Deactivate(ctx, "board")
	require.NoError(t, err, "deactivating twice is not an error")
	require.Equal(t, b, again)
	r := xp(t, eng, "ana", 5)
	require.Empty(t, r.Leaderboards, "a paused board counts nothing")
	xp(t, eng, "bob", 1)
	require.Equal(t, []string{"1:ana:5"}, standings(t, eng, gamify.BoardQuery{}), "the current run keeps its standings")
	list, err := eng.Leaderboards().List(ctx, gamify.BoardListOptions{})
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = eng.Leaderboards().Patch(ctx, "board", func(b *gamify.Leaderboard) { b.RunUnit = gamify.RunWeek })
	requireField(t, err, "Leaderboard.RunUnit") // pausing does not make it a draft again
	eng.reopen(t)
	notes := boardNotes(t, eng)

	b, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, b.Status)
	r = xp(t, eng, "ana", 1)
	require.Equal(t, 1, r.Leaderboards[0].Rank)
	require.Equal(t, []string{"1:ana:6"}, standings(t, eng, gamify.BoardQuery{}), "counting resumes in the same run")

	// A run that ends while the board is paused is frozen at its end.
	_, err = eng.Leaderboards().Deactivate(ctx, "board")
	require.NoError(t, err)
	eng.clock.Set(time.Date(2026, 3, 7, 1, 0, 0, 0, ny))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	p, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: time.Date(2026, 3, 6, 12, 0, 0, 0, ny)})
	require.NoError(t, err)
	require.True(t, p.Finished)
	require.Equal(t, []string{"ana"}, users(p.Rows))
	require.Equal(t, []string{"finished board 2026-03-06 05:00:00-2026-03-07 05:00:00 1"}, notes(), "no run starts while paused")
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	xp(t, eng, "bob", 2)
	require.Equal(t, []string{"1:bob:2"}, standings(t, eng, gamify.BoardQuery{}), "Saturday's run starts empty")
}

func TestBoardFinishFreezesTheCurrentRun(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{RunEvery: 1, RunUnit: gamify.RunDay})
	notes := boardNotes(t, eng)
	xp(t, eng, "ana", 5)
	xp(t, eng, "bob", 7)
	// Saturday's boundary is due but not rolled over yet: Finish rolls it
	// over, then ends Saturday's run now.
	eng.clock.Set(time.Date(2026, 3, 7, 9, 0, 0, 0, ny))
	xp(t, eng, "cara", 1)
	b, err := eng.Leaderboards().Finish(ctx, "board")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusFinished, b.Status)
	require.Equal(t, []string{
		"finished board 2026-03-06 05:00:00-2026-03-07 05:00:00 2",
		"finished board 2026-03-07 05:00:00-2026-03-07 14:00:00 1",
	}, notes())
	again, err := eng.Leaderboards().Finish(ctx, "board")
	require.NoError(t, err, "finishing twice is not an error")
	require.Equal(t, b, again)
	r := xp(t, eng, "ana", 5)
	require.Empty(t, r.Leaderboards, "a finished board counts nothing")
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.ErrorIs(t, err, gamify.ErrConflict)
	eng.clock.Set(time.Date(2026, 3, 8, 12, 0, 0, 0, ny))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Len(t, notes(), 2, "no run is finished twice, nor started after the end")

	eng.reopen(t)
	p, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: time.Date(2026, 3, 6, 12, 0, 0, 0, ny)})
	require.NoError(t, err)
	require.True(t, p.Finished)
	require.Equal(t, []string{"bob", "ana"}, users(p.Rows), "history stays queryable")
	runs, err := eng.Leaderboards().Runs(ctx, "board", gamify.ListOptions{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs, 2)
	require.Equal(t, time.Date(2026, 3, 7, 9, 0, 0, 0, ny), runs[0].End.In(ny), "the last run ended at Finish")
	last, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{})
	require.NoError(t, err, "no current run: the last one")
	require.True(t, last.Finished)
	require.Equal(t, runs[0].Start, last.RunStart)
	list, err := eng.Leaderboards().List(ctx, gamify.BoardListOptions{IncludeFinished: true})
	require.NoError(t, err)
	require.Equal(t, []string{"board"}, boardKeys(list))
}

func TestBoardFinishOfAScoreBoard(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{RankBy: gamify.RankByScore})
	notes := boardNotes(t, eng)
	_, err := eng.Leaderboards().Submit(ctx, gamify.ScoreSubmission{Board: "board", User: "ana", Score: gamify.AmountFromInt(3)})
	require.NoError(t, err)
	eng.clock.Advance(time.Hour)
	_, err = eng.Leaderboards().Finish(ctx, "board")
	require.NoError(t, err)
	_, err = eng.Leaderboards().Submit(ctx, gamify.ScoreSubmission{Board: "board", User: "ana", Score: gamify.AmountFromInt(9)})
	require.ErrorIs(t, err, gamify.ErrConflict)
	require.Equal(t, []string{"finished board 2026-03-06 05:00:00-2026-03-06 18:00:00 1"}, notes())
	p, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: time.Date(2026, 3, 6, 12, 0, 0, 0, ny)})
	require.NoError(t, err)
	require.Equal(t, []gamify.BoardRow{{Rank: 1, User: "ana", Score: gamify.AmountFromInt(3)}}, p.Rows)

	// A board finished before it ever started has no runs.
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "later", Name: "Later", RankBy: gamify.RankByScore,
		Start: gamify.Date{Year: 2026, Month: 4, Day: 1}})
	require.NoError(t, err)
	b, err := eng.Leaderboards().Finish(ctx, "later")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusFinished, b.Status)
	eng.clock.Set(time.Date(2026, 4, 2, 0, 0, 0, 0, ny))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Len(t, notes(), 1)
}

func TestBoardDeleteArchives(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{})
	xp(t, eng, "ana", 5)
	require.NoError(t, eng.Leaderboards().Delete(ctx, "board"))
	r := xp(t, eng, "ana", 5)
	require.Empty(t, r.Leaderboards, "an archived board counts nothing")
	list, err := eng.Leaderboards().List(ctx, gamify.BoardListOptions{IncludeInactive: true, IncludeFinished: true})
	require.NoError(t, err)
	require.Empty(t, list)
	list, err = eng.Leaderboards().List(ctx, gamify.BoardListOptions{ListOptions: gamify.ListOptions{IncludeArchived: true}})
	require.NoError(t, err)
	require.Equal(t, []string{"board"}, boardKeys(list))
	require.Equal(t, gamify.StatusArchived, list[0].Status)
	got, err := eng.Leaderboards().Get(ctx, "board")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "Again", RankBy: gamify.RankByMetric, Metric: "xp"})
	require.ErrorIs(t, err, gamify.ErrConflict, "the key is never reused")
	require.ErrorIs(t, eng.Leaderboards().Delete(ctx, "board"), gamify.ErrNotFound)
	require.ErrorIs(t, eng.Leaderboards().Delete(ctx, "nope"), gamify.ErrNotFound)
	for name, verb := range map[string]func() error{
		"Activate":   func() error { _, err := eng.Leaderboards().Activate(ctx, "board"); return err },
		"Deactivate": func() error { _, err := eng.Leaderboards().Deactivate(ctx, "board"); return err },
		"Finish":     func() error { _, err := eng.Leaderboards().Finish(ctx, "board"); return err },
		"Patch": func() error {
			_, err := eng.Leaderboards().Patch(ctx, "board", func(b *gamify.Leaderboard) { b.Name = "X" })
			return err
		},
	} {
		require.ErrorIs(t, verb(), gamify.ErrNotFound, name)
	}
	eng.reopen(t)
	got, err = eng.Leaderboards().Get(ctx, "board")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, got.Status)
}

func TestBoardBulkVerbsAndPaging(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	board := func(key string) gamify.Leaderboard {
		return gamify.Leaderboard{Key: key, Name: key, RankBy: gamify.RankByMetric, Metric: "xp"}
	}
	bad := board("bad")
	bad.Metric = "nope"
	draft := board("d")
	draft.Status = gamify.StatusInactive
	created, issues, err := eng.Leaderboards().BulkCreate(ctx, []gamify.Leaderboard{board("a"), bad, board("a"), draft, board("c")})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "d", "c"}, boardKeys(created))
	require.Len(t, issues, 2)
	require.Equal(t, 1, issues[0].Index)
	requireField(t, issues[0].Err, "Leaderboard.Metric")
	require.Equal(t, 2, issues[1].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrConflict)
	r := xp(t, eng, "ana", 1)
	require.Len(t, r.Leaderboards, 2, "a and c count; the draft does not")

	list, err := eng.Leaderboards().List(ctx, gamify.BoardListOptions{IncludeInactive: true, ListOptions: gamify.ListOptions{Limit: 2, Skip: 1}})
	require.NoError(t, err)
	require.Equal(t, []string{"d", "c"}, boardKeys(list))
	_, err = eng.Leaderboards().List(ctx, gamify.BoardListOptions{ListOptions: gamify.ListOptions{Limit: 101}})
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// Only the never-activated draft may change what it ranks.
	patched, issues, err := eng.Leaderboards().BulkPatch(ctx, []string{"a", "zzz", "d"}, func(b *gamify.Leaderboard) { b.Ties = gamify.TiesUnique })
	require.NoError(t, err)
	require.Equal(t, []string{"d"}, boardKeys(patched))
	require.Equal(t, gamify.TiesUnique, patched[0].Ties)
	require.Len(t, issues, 2)
	require.Equal(t, 0, issues[0].Index)
	requireField(t, issues[0].Err, "Leaderboard.Ties")
	require.Equal(t, 1, issues[1].Index)
	require.ErrorIs(t, issues[1].Err, gamify.ErrNotFound)

	issues, err = eng.Leaderboards().BulkDelete(ctx, []string{"c", "zzz", "c"})
	require.NoError(t, err)
	require.Len(t, issues, 2)
	require.Equal(t, 1, issues[0].Index)
	require.Equal(t, 2, issues[1].Index, "deleted earlier in the same call")
	require.ErrorIs(t, issues[1].Err, gamify.ErrNotFound)
	list, err = eng.Leaderboards().List(ctx, gamify.BoardListOptions{})
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, boardKeys(list))

	_, _, err = eng.Leaderboards().BulkCreate(ctx, make([]gamify.Leaderboard, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)
	_, err = eng.Leaderboards().BulkDelete(ctx, make([]string, 101))
	require.ErrorIs(t, err, gamify.ErrInvalid)
	eng.reopen(t)
	list, err = eng.Leaderboards().List(ctx, gamify.BoardListOptions{IncludeInactive: true, ListOptions: gamify.ListOptions{IncludeArchived: true}})
	require.NoError(t, err)
	require.Equal(t, []string{"a", "d", "c"}, boardKeys(list))
}

func TestBoardJSONUsesNames(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	b, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "w", Name: "W", RankBy: gamify.RankByMetric, Metric: "xp",
		Order: gamify.Asc, Ties: gamify.TiesDense, RunEvery: 1, RunUnit: gamify.RunWeek})
	require.NoError(t, err)
	v, err := json.Marshal(b)
	require.NoError(t, err)
	for _, s := range []string{`"Order":"asc"`, `"Ties":"dense"`, `"RunUnit":"week"`, `"Status":"active"`, `"RankBy":"metric"`} {
		require.Contains(t, string(v), s)
	}
	var back gamify.Leaderboard
	require.NoError(t, json.Unmarshal(v, &back))
	require.Equal(t, b, back)
	for field, bad := range map[string]gamify.Leaderboard{
		"Leaderboard.Order":   {Order: "up"},
		"Leaderboard.Ties":    {Ties: "shared"},
		"Leaderboard.RunUnit": {RunEvery: 1, RunUnit: "fortnight"},
	} {
		bad.Key, bad.Name, bad.RankBy, bad.Metric = "bad", "Bad", gamify.RankByMetric, "xp"
		_, err := eng.Leaderboards().Create(ctx, bad)
		requireField(t, err, field)
	}
	created, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "d", Name: "D", RankBy: gamify.RankByMetric, Metric: "xp"})
	require.NoError(t, err)
	require.Equal(t, gamify.Desc, created.Order, "the defaults are filled in")
	require.Equal(t, gamify.TiesCompetition, created.Ties)
}

func TestBoardUserRankAtAPastRun(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{RunEvery: 1, RunUnit: gamify.RunDay})
	xp(t, eng, "ana", 5)
	xp(t, eng, "bob", 7)
	xp(t, eng, "cara", 3)
	xp(t, eng, "dan", 5)
	live := map[string]gamify.UserRank{}
	for _, u := range []string{"ana", "bob", "cara", "dan"} {
		r, err := eng.Leaderboards().UserRank(ctx, "board", u)
		require.NoError(t, err)
		live[u] = r
	}
	require.Equal(t, gamify.UserRank{Board: "board", Rank: 2, Position: 2, Score: gamify.AmountFromInt(5), Percentile: 25, Participants: 4}, live["dan"])
	friday := time.Date(2026, 3, 6, 15, 0, 0, 0, ny)
	got, err := eng.Leaderboards().UserRankAt(ctx, "board", "ana", friday)
	require.NoError(t, err)
	require.Equal(t, live["ana"], got, "the current run, by date")

	eng.clock.Set(time.Date(2026, 3, 7, 10, 0, 0, 0, ny))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	xp(t, eng, "ana", 1)
	eng.reopen(t)
	for u, want := range live {
		got, err := eng.Leaderboards().UserRankAt(ctx, "board", u, friday)
		require.NoError(t, err, u)
		require.Equal(t, want, got, "%s: a finished run's standing is the frozen one", u)
	}
	now, err := eng.Leaderboards().UserRank(ctx, "board", "ana")
	require.NoError(t, err)
	require.Equal(t, gamify.UserRank{Board: "board", Rank: 1, Score: gamify.AmountFromInt(1), Participants: 1}, now)
	_, err = eng.Leaderboards().UserRankAt(ctx, "board", "bob", time.Date(2026, 3, 7, 12, 0, 0, 0, ny))
	require.ErrorIs(t, err, gamify.ErrNotFound, "bob has no score on Saturday")
	_, err = eng.Leaderboards().UserRankAt(ctx, "board", "nobody", friday)
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Leaderboards().UserRankAt(ctx, "board", "ana", time.Date(2026, 3, 1, 0, 0, 0, 0, ny))
	require.ErrorIs(t, err, gamify.ErrNotFound, "before the board's start")
}

// Moving the End of an active board moves the end of its current run.
func TestBoardEndMovedOnAnActiveBoard(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{}) // one open-ended run from Friday 6 March
	notes := boardNotes(t, eng)
	xp(t, eng, "ana", 5)
	_, err := eng.Leaderboards().Patch(ctx, "board", func(b *gamify.Leaderboard) { b.End = gamify.Date{Year: 2026, Month: 3, Day: 7} })
	require.NoError(t, err)
	eng.clock.Set(time.Date(2026, 3, 8, 1, 0, 0, 0, ny))
	require.Empty(t, xp(t, eng, "ana", 1).Leaderboards, "past the new End, even before the rollover ran")
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"finished board 2026-03-06 05:00:00-2026-03-08 05:00:00 1"}, notes())
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 100, Time: time.Date(2026, 3, 7, 23, 0, 0, 0, ny)})
	require.NoError(t, err)
	require.Empty(t, r.Leaderboards, "the run ended at the new End")
	got, err := eng.Leaderboards().Get(ctx, "board")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusFinished, got.Status)
	ur, err := eng.Leaderboards().UserRankAt(ctx, "board", "ana", time.Date(2026, 3, 7, 12, 0, 0, 0, ny))
	require.NoError(t, err)
	require.Equal(t, "5", ur.Score.String())
}

// A patch whose board changes between the edit and the command is redone on
// the new version.
func TestBoardPatchRetriesOnConcurrentChange(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{})
	calls := 0
	b, err := eng.Leaderboards().Patch(ctx, "board", func(b *gamify.Leaderboard) {
		calls++
		if calls == 1 {
			_, err := eng.Leaderboards().Patch(ctx, "board", func(b *gamify.Leaderboard) { b.Description = "Weekly" })
			require.NoError(t, err)
		}
		b.MaxParticipants = 3
	})
	require.NoError(t, err)
	require.Equal(t, 2, calls, "the edit ran again on the new version")
	require.Equal(t, "Weekly", b.Description, "the concurrent patch is kept")
	require.Equal(t, 3, b.MaxParticipants)
}

// A board finished at the instant it was activated still freezes its run.
func TestBoardFinishedAsItStarts(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{})
	xp(t, eng, "ana", 5)
	b, err := eng.Leaderboards().Finish(ctx, "board")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusFinished, b.Status)
	runs, err := eng.Leaderboards().Runs(ctx, "board", gamify.ListOptions{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs, 1, "the run is frozen")
	require.Equal(t, 1, runs[0].Participants)
	eng.reopen(t)
	p, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: runs[0].Start})
	require.NoError(t, err)
	require.True(t, p.Finished)
	require.Len(t, p.Rows, 1)
}

// A weekly board created mid-week runs Monday to Monday, and a unit without
// an interval means every one of it (it used to be refused, and before that
// silently all-time).
func TestBoardDefaultStartIsThePeriodStart(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(time.Date(2026, 3, 11, 15, 0, 0, 0, time.UTC)) // a Wednesday
	mustMetric(t, eng.Engine, "xp")
	for _, c := range []struct {
		unit  gamify.RunUnit
		start gamify.Date
		end   time.Time
	}{
		{gamify.RunWeek, gamify.Date{Year: 2026, Month: 3, Day: 9}, time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)},
		{gamify.RunMonth, gamify.Date{Year: 2026, Month: 3, Day: 1}, time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
		{gamify.RunYear, gamify.Date{Year: 2026, Month: 1, Day: 1}, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{gamify.RunDay, gamify.Date{Year: 2026, Month: 3, Day: 11}, time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)},
	} {
		key := "b-" + string(c.unit)
		b, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: key, Name: key, RankBy: gamify.RankByMetric, Metric: "xp", TZ: "UTC", RunUnit: c.unit})
		require.NoError(t, err, c.unit)
		require.Equal(t, c.start, b.Start, "%s board starts at the period's start", c.unit)
		require.Equal(t, 1, b.RunEvery, "%s without an interval repeats every %s", c.unit, c.unit)
		p, err := eng.Leaderboards().Rankings(ctx, key, gamify.BoardQuery{})
		require.NoError(t, err)
		require.True(t, p.RunEnd.Equal(c.end), "%s run ends %v, want %v", c.unit, p.RunEnd, c.end)
	}
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "cron", Name: "Cron", RankBy: gamify.RankByMetric, Metric: "xp",
		RunCron: "0 0 * * 1", RunUnit: gamify.RunWeek})
	requireField(t, err, "Leaderboard.RunUnit")
}

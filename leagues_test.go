package gamify_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// leagueEngine has metric "xp", a weekly board "board" over it (New York
// time, clock at Friday 2026-03-06 12:00) and league "league" over the
// board with tiers bronze/silver/gold, cohorts of size, promoting and
// demoting k.
func leagueEngine(t *testing.T, size, k int) *testEngine {
	t.Helper()
	return leagueEngineWith(t, nil, size, k)
}

func leagueEngineWith(t *testing.T, opts *gamify.Options, size, k int) *testEngine {
	t.Helper()
	eng := boardEngine(t, opts, gamify.Leaderboard{RunEvery: 1, RunUnit: gamify.RunWeek})
	_, err := eng.Leagues().Create(context.Background(), gamify.League{Key: "league", Name: "League", Board: "board",
		Tiers: []string{"bronze", "silver", "gold"}, CohortSize: size, Promote: k, Demote: k})
	require.NoError(t, err)
	return eng
}

func TestLeagueAdmin(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 3, 1)
	l, err := eng.Leagues().Get(ctx, "league")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, l.Status)
	require.Equal(t, []string{"bronze", "silver", "gold"}, l.Tiers)

	_, err = eng.Leagues().Create(ctx, gamify.League{Key: "league", Name: "Again", Board: "board", Tiers: []string{"a", "b"}, CohortSize: 2})
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = eng.Leagues().Create(ctx, gamify.League{Key: "nob", Name: "N", Board: "nope", Tiers: []string{"a", "b"}, CohortSize: 2})
	requireField(t, err, "League.Board")
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "once", Name: "Once", RankBy: gamify.RankByMetric, Metric: "xp"})
	require.NoError(t, err)
	_, err = eng.Leagues().Create(ctx, gamify.League{Key: "once", Name: "N", Board: "once", Tiers: []string{"a", "b"}, CohortSize: 2})
	requireField(t, err, "League.Board") // a board without runs
	for field, l := range map[string]gamify.League{
		"League.Tiers":      {Key: "x", Name: "X", Board: "board", Tiers: []string{"a"}, CohortSize: 2},
		"League.Tiers[1]":   {Key: "x", Name: "X", Board: "board", Tiers: []string{"a", "a"}, CohortSize: 2},
		"League.CohortSize": {Key: "x", Name: "X", Board: "board", Tiers: []string{"a", "b"}, CohortSize: 1},
		"League.Demote":     {Key: "x", Name: "X", Board: "board", Tiers: []string{"a", "b"}, CohortSize: 4, Promote: 3, Demote: 2},
		"League.Promote":    {Key: "x", Name: "X", Board: "board", Tiers: []string{"a", "b"}, CohortSize: 4, Promote: -1},
		"League.Name":       {Key: "x", Board: "board", Tiers: []string{"a", "b"}, CohortSize: 4},
	} {
		_, err := eng.Leagues().Create(ctx, l)
		requireField(t, err, field)
	}

	p, err := eng.Leagues().Patch(ctx, "league", func(l *gamify.League) { l.Tiers[2] = "diamond"; l.Promote = 0 })
	require.NoError(t, err)
	require.Equal(t, "diamond", p.Tiers[2])
	_, err = eng.Leagues().Patch(ctx, "league", func(l *gamify.League) { l.Board = "once" })
	requireField(t, err, "League.Board")
	_, err = eng.Leagues().Patch(ctx, "league", func(l *gamify.League) { l.Tiers = l.Tiers[:2] })
	requireField(t, err, "League.Tiers")

	_, err = eng.Leaderboards().Patch(ctx, "board", func(b *gamify.Leaderboard) { b.MaxParticipants = 10 })
	requireField(t, err, "Leaderboard.MaxParticipants") // the league ranks it

	d, err := eng.Leagues().Deactivate(ctx, "league")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, d.Status)
	_, err = eng.Leagues().Activate(ctx, "league")
	require.NoError(t, err)

	created, issues, err := eng.Leagues().BulkCreate(ctx, []gamify.League{
		{Key: "b1", Name: "B1", Board: "board", Tiers: []string{"a", "b"}, CohortSize: 2},
		{Key: "b1", Name: "B1", Board: "board", Tiers: []string{"a", "b"}, CohortSize: 2},
	})
	require.NoError(t, err)
	require.Len(t, created, 1)
	require.Len(t, issues, 1)
	require.NoError(t, eng.Leagues().Delete(ctx, "b1"))
	ls, err := eng.Leagues().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, ls, 1)

	eng.reopen(t)
	l, err = eng.Leagues().Get(ctx, "league")
	require.NoError(t, err)
	require.Equal(t, p.Tiers, l.Tiers)
	all, err := eng.Leagues().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Len(t, all, 2)
}

// cohort describes a user's league standing as "tier#cohort rank:user:score ...".
func cohort(t *testing.T, eng *testEngine, user string) string {
	t.Helper()
	st, err := eng.Leagues().Standing(context.Background(), "league", user)
	require.NoError(t, err)
	if !st.Active {
		return st.Tier + " inactive"
	}
	s := fmt.Sprintf("%s#%d", st.Tier, st.Cohort)
	for _, m := range st.Members {
		s += fmt.Sprintf(" %d:%s:%s", m.Rank, m.User, m.Score)
	}
	return s
}

// leagueResults reads the LeagueResult notifications of the outbox after seq.
func leagueResults(t *testing.T, eng *testEngine, after uint64) []string {
	t.Helper()
	var out []string
	for _, e := range readAll(t, eng.Engine, after) {
		if r, ok := e.Notification.(gamify.LeagueResult); ok {
			out = append(out, fmt.Sprintf("%s:%s>%s:%s:#%d:%d/%d", r.User, r.Tier, r.NewTier, r.Move, r.Cohort, r.Rank, r.CohortMembers))
		}
	}
	return out
}

// The board a league ranks cannot be deleted while the league is not
// archived: the league would stop rolling over and placing users.
func TestLeagueBoardCannotBeDeleted(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 3, 1)
	before := gamify.DumpStore(eng.Engine)
	err := eng.Leaderboards().Delete(ctx, "board")
	require.ErrorIs(t, err, gamify.ErrConflict)
	require.ErrorContains(t, err, "league league")
	issues, err := eng.Leaderboards().BulkDelete(ctx, []string{"board"})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "nothing changed")
	require.NoError(t, eng.Leagues().Delete(ctx, "league"))
	require.NoError(t, eng.Leaderboards().Delete(ctx, "board"), "once the league is gone")
}

func TestLeagueCohortsFillInArrivalOrderAndRollOver(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 3, 1)
	st, err := eng.Leagues().Standing(ctx, "league", "nobody")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	for i, u := range []string{"u1", "u2", "u3", "u4", "u5"} {
		xp(t, eng, u, float64(10+i))
	}
	require.Equal(t, "bronze#1 1:u3:12 2:u2:11 3:u1:10", cohort(t, eng, "u1"))
	require.Equal(t, "bronze#2 1:u5:14 2:u4:13", cohort(t, eng, "u4"))
	// A late event within the run: it joins by arrival, not by event time.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u6", Value: 1, Time: eng.clock.Now().Add(-time.Hour)})
	require.NoError(t, err)
	require.Equal(t, "bronze#2 1:u5:14 2:u4:13 3:u6:1", cohort(t, eng, "u6"))
	xp(t, eng, "u1", 5) // more xp moves u1 up in its cohort, not to another cohort
	require.Equal(t, "bronze#1 1:u1:15 2:u3:12 3:u2:11", cohort(t, eng, "u2"))

	// A reopen mid-run keeps the cohorts, and the next user fills a new one.
	eng.reopen(t)
	require.Equal(t, "bronze#1 1:u1:15 2:u3:12 3:u2:11", cohort(t, eng, "u2"))
	xp(t, eng, "u7", 20)
	require.Equal(t, "bronze#3 1:u7:20", cohort(t, eng, "u7"))
	xp(t, eng, "u8", 5)
	xp(t, eng, "u9", 4)
	st, err = eng.Leagues().Standing(ctx, "league", "u7")
	require.NoError(t, err)
	require.Equal(t, 1, st.Rank)
	require.Equal(t, "20", st.Score.String())

	seq := lastSeq(t, eng)
	eng.clock.Set(st.RunEnd)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{
		"u1:bronze>silver:promoted:#1:1/3", "u3:bronze>bronze:stayed:#1:2/3", "u2:bronze>bronze:stayed:#1:3/3",
		"u5:bronze>silver:promoted:#2:1/3", "u4:bronze>bronze:stayed:#2:2/3", "u6:bronze>bronze:stayed:#2:3/3",
		"u7:bronze>silver:promoted:#3:1/3", "u8:bronze>bronze:stayed:#3:2/3", "u9:bronze>bronze:stayed:#3:3/3",
	}, leagueResults(t, eng, seq))
	require.Equal(t, "silver inactive", cohort(t, eng, "u1"))
	require.Equal(t, "bronze inactive", cohort(t, eng, "u2"))

	// Run 2: the promoted play in silver; the top goes up, the bottom down;
	// users not active keep their tier. u2, alone in its cohort, stays.
	xp(t, eng, "u5", 3)
	xp(t, eng, "u1", 1)
	xp(t, eng, "u7", 2)
	xp(t, eng, "u2", 2)
	require.Equal(t, "silver#1 1:u5:3 2:u7:2 3:u1:1", cohort(t, eng, "u1"))
	require.Equal(t, "bronze#1 1:u2:2", cohort(t, eng, "u2"))
	seq = lastSeq(t, eng)
	eng.clock.Set(st.RunEnd.AddDate(0, 0, 7))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"u2:bronze>bronze:stayed:#1:1/1",
		"u5:silver>gold:promoted:#1:1/3", "u7:silver>silver:stayed:#1:2/3", "u1:silver>bronze:demoted:#1:3/3"},
		leagueResults(t, eng, seq))
	require.Equal(t, "silver inactive", cohort(t, eng, "u7"))

	h, err := eng.Leagues().History(ctx, "league", "u1", 0)
	require.NoError(t, err)
	require.Len(t, h, 2)
	require.Equal(t, gamify.LeagueDemoted, h[0].Move)
	require.Equal(t, gamify.LeaguePromoted, h[1].Move)
	require.Equal(t, "15", h[1].Score.String())
	require.True(t, h[1].RunEnd.Equal(st.RunEnd))
	eng.reopen(t)
	require.Equal(t, "bronze inactive", cohort(t, eng, "u1"))
	require.Equal(t, "gold inactive", cohort(t, eng, "u5"))
	h2, err := eng.Leagues().History(ctx, "league", "u1", 1)
	require.NoError(t, err)
	require.Equal(t, h[:1], h2)
}

func lastSeq(t *testing.T, eng *testEngine) uint64 {
	t.Helper()
	all := readAll(t, eng.Engine, 0)
	if len(all) == 0 {
		return 0
	}
	return all[len(all)-1].Seq
}

func TestLeagueRolloverCaughtUpOnceAfterDowntime(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 2, 1)
	xp(t, eng, "a", 2)
	xp(t, eng, "b", 1)
	st, err := eng.Leagues().Standing(ctx, "league", "a")
	require.NoError(t, err)
	require.NoError(t, eng.Engine.Close())
	eng.clock.Set(st.RunEnd.AddDate(0, 0, 21)) // three weeks down
	eng.Engine, err = gamify.Open(eng.path, &eng.opts)
	require.NoError(t, err)
	for range 3 {
		_, err = eng.RunDue(ctx)
		require.NoError(t, err)
	}
	require.Equal(t, []string{"a:bronze>silver:promoted:#1:1/2", "b:bronze>bronze:stayed:#1:2/2"}, leagueResults(t, eng, 0))
	require.Equal(t, "silver inactive", cohort(t, eng, "a"))
	h, err := eng.Leagues().History(ctx, "league", "a", 0)
	require.NoError(t, err)
	require.Len(t, h, 1)
}

func TestLeagueCohortUndoneWhenCommandFails(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 3, 1)
	xp(t, eng, "big", 9e12)
	_, err := eng.TrackBatch(ctx, []gamify.Event{{Metric: "xp", User: "ana", Value: 5}, {Metric: "xp", User: "big", Value: 9e12}})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	xp(t, eng, "bob", 2)
	xp(t, eng, "carl", 1)
	require.Equal(t, "bronze#1 1:big:9000000000000 2:bob:2 3:carl:1", cohort(t, eng, "carl"), "the failed batch took no place in a cohort")
}

func TestLeagueInactiveAssignsNothing(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 3, 1)
	_, err := eng.Leagues().Deactivate(ctx, "league")
	require.NoError(t, err)
	xp(t, eng, "a", 1)
	require.Equal(t, "bronze inactive", cohort(t, eng, "a"))
	_, err = eng.Leagues().Activate(ctx, "league")
	require.NoError(t, err)
	xp(t, eng, "a", 1)
	require.Equal(t, "bronze#1 1:a:2", cohort(t, eng, "a"))
}

func TestLeagueEraseKeepsThePlaceButNotTheUser(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 3, 1)
	for i, u := range []string{"a", "b", "c", "d"} {
		xp(t, eng, u, float64(4-i))
	}
	require.NoError(t, eng.Users().Erase(ctx, "a"))
	require.Equal(t, "bronze#1 1:b:3 2:c:2", cohort(t, eng, "b"))
	eng.reopen(t)
	require.Equal(t, "bronze#1 1:b:3 2:c:2", cohort(t, eng, "c"))
	xp(t, eng, "e", 9)
	require.Equal(t, "bronze#2 1:e:9 2:d:1", cohort(t, eng, "e"), "the erased user's place still fills cohort 1")
	st, err := eng.Leagues().Standing(ctx, "league", "b")
	require.NoError(t, err)
	eng.clock.Set(st.RunEnd)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"b:bronze>silver:promoted:#1:1/2", "c:bronze>bronze:stayed:#1:2/2",
		"e:bronze>silver:promoted:#2:1/2", "d:bronze>bronze:stayed:#2:2/2"}, leagueResults(t, eng, 0))
	xp(t, eng, "a", 1) // a new user under the old id starts afresh
	require.Equal(t, "bronze#1 1:a:1", cohort(t, eng, "a"))
	h, err := eng.Leagues().History(ctx, "league", "a", 0)
	require.NoError(t, err)
	require.Empty(t, h)
}

// TestLeagueReplayIsDeterministic applies a league workload (users arriving
// in a shuffled order with late events, a hard delete, three rollovers)
// live, then replays its command log on an empty file: the stores are equal
// byte for byte, and the replica reads the same standings.
func TestLeagueReplayIsDeterministic(t *testing.T) {
	ctx := context.Background()
	opts := gamify.Options{CheckpointInterval: time.Hour, OutboxMaxAge: 1000 * 24 * time.Hour}
	live := leagueEngineWith(t, &opts, 4, 1)
	rng := rand.New(rand.NewPCG(7, 7))
	start := live.clock.Now()
	for week := range 3 {
		users := rng.Perm(14)
		for i, u := range users {
			ev := gamify.Event{Metric: "xp", User: fmt.Sprint("u", u), Value: float64(1 + rng.IntN(50))}
			if i%3 == 0 {
				ev.Time = live.clock.Now().Add(-time.Duration(rng.IntN(60)) * time.Minute)
			}
			_, err := live.Track(ctx, ev)
			require.NoError(t, err)
			if week == 1 && i == 5 {
				require.NoError(t, live.Users().Erase(ctx, fmt.Sprint("u", users[0])))
			}
		}
		live.clock.Set(start.AddDate(0, 0, 7*(week+1)))
		_, err := live.RunDue(ctx)
		require.NoError(t, err)
	}
	xp(t, live, "u3", 5)
	require.NoError(t, live.Flush(ctx))
	require.NoError(t, gamify.Checkpoint(live.Engine))
	want, wantSt := gamify.DumpStore(live.Engine), cohort(t, live, "u3")

	path := filepath.Join(t.TempDir(), "replica.db")
	copyDir(t, live.path+".log", path+".log")
	o := opts
	o.Clock = gamify.NewManualClock(live.clock.Now())
	eng, err := gamify.Open(path, &o)
	require.NoError(t, err)
	defer eng.Close()
	require.Zero(t, eng.Stats().ReplayFailed)
	require.NoError(t, gamify.Checkpoint(eng))
	requireSameStore(t, want, gamify.DumpStore(eng), "replica")
	rep := &testEngine{Engine: eng}
	require.Equal(t, wantSt, cohort(t, rep, "u3"))
	h, err := eng.Leagues().History(ctx, "league", "u3", 0)
	require.NoError(t, err)
	require.NotEmpty(t, h)
}

// TestLeagueArchivedReads: the reads of an archived league are ErrNotFound,
// as its godoc says (Delete keeps tiers and history, unread).
func TestLeagueArchivedReads(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 3, 1)
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	_, err = eng.Leagues().Standing(ctx, "league", "ana")
	require.NoError(t, err)
	require.NoError(t, eng.Leagues().Delete(ctx, "league"))
	_, err = eng.Leagues().Standing(ctx, "league", "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Leagues().History(ctx, "league", "ana", 0)
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

// TestLeagueTiesHavePositionsThatPredictTheRollover: tied users share a
// rank but not a position; the standing's Move says who the run's end
// moves, and the results agree.
func TestLeagueTiesHavePositionsThatPredictTheRollover(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 3, 1)
	for _, u := range []string{"a", "b", "c"} {
		xp(t, eng, u, 5) // all tied: the board's tie-break (first to reach it) orders them
	}
	st, err := eng.Leagues().Standing(ctx, "league", "b")
	require.NoError(t, err)
	var got []string
	for _, m := range st.Members {
		got = append(got, fmt.Sprintf("%s:%d:%d:%s", m.User, m.Rank, m.Position, m.Move))
	}
	require.Equal(t, []string{"a:1:1:promoted", "b:1:2:stayed", "c:1:3:stayed"}, got)
	require.Equal(t, 1, st.Rank)
	require.Equal(t, 2, st.Position)
	require.Equal(t, gamify.LeagueStayed, st.Move)
	_, err = eng.Leagues().Deactivate(ctx, "league")
	require.NoError(t, err)
	paused, err := eng.Leagues().Standing(ctx, "league", "a")
	require.NoError(t, err)
	require.Equal(t, gamify.LeagueStayed, paused.Move, "an inactive league's run ends without results")
	_, err = eng.Leagues().Activate(ctx, "league")
	require.NoError(t, err)

	eng.clock.Set(st.RunEnd)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	for i, m := range st.Members {
		h, err := eng.Leagues().History(ctx, "league", m.User, 1)
		require.NoError(t, err)
		require.Len(t, h, 1)
		require.Equal(t, m.Move, h[0].Move, "%s: the standing predicted the result", m.User)
		require.Equal(t, i+1, h[0].Position, m.User)
		require.Equal(t, 1, h[0].Rank, m.User)
	}
}

// TestLeagueSmallCohortsMoveNobody: a cohort moves users only when it
// holds more members than its tier's moves, or is full.
func TestLeagueSmallCohortsMoveNobody(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 4, 1)
	for i, u := range []string{"a", "b", "c", "d", "e"} {
		xp(t, eng, u, float64(10-i)) // cohort 1: a-d (full); cohort 2: e alone
	}
	st, err := eng.Leagues().Standing(ctx, "league", "e")
	require.NoError(t, err)
	require.Equal(t, 1, st.Position)
	require.Equal(t, gamify.LeagueStayed, st.Move, "a cohort of one promotes nobody")
	seq := lastSeq(t, eng)
	eng.clock.Set(st.RunEnd)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"a:bronze>silver:promoted:#1:1/4", "b:bronze>bronze:stayed:#1:2/4", "c:bronze>bronze:stayed:#1:3/4",
		"d:bronze>bronze:stayed:#1:4/4", "e:bronze>bronze:stayed:#2:1/1"}, leagueResults(t, eng, seq))

}

package gamify_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestLeagueImport(t *testing.T) {
	ctx := context.Background()
	eng := leagueEngine(t, 3, 1)
	_, err := eng.Users().Create(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	w1 := time.Date(2026, 2, 23, 5, 0, 0, 0, time.UTC)
	res := func(start time.Time, from, to string, move gamify.LeagueMove) gamify.LeagueResult {
		return gamify.LeagueResult{League: "league", User: "ana", RunStart: start, RunEnd: start.AddDate(0, 0, 7), Tier: from, NewTier: to,
			Move: move, Cohort: 1, Rank: 1, Score: gamify.AmountFromInt(9), CohortMembers: 3}
	}
	results := []gamify.LeagueResult{res(w1, "bronze", "silver", gamify.LeaguePromoted), res(w1.AddDate(0, 0, 7), "silver", "gold", gamify.LeaguePromoted)}

	for field, bad := range map[string]gamify.LeagueResult{
		"results[0].NewTier": res(w1, "bronze", "platinum", gamify.LeaguePromoted),
		"results[0].Move":    res(w1, "bronze", "gold", gamify.LeaguePromoted),
		"results[0].User": func() gamify.LeagueResult {
			r := res(w1, "bronze", "silver", gamify.LeaguePromoted)
			r.User = "bo"
			return r
		}(),
		"results[0].Rank": func() gamify.LeagueResult {
			r := res(w1, "bronze", "silver", gamify.LeaguePromoted)
			r.Rank = 4
			return r
		}(),
		"results[0].RunStart": func() gamify.LeagueResult {
			r := res(w1, "bronze", "silver", gamify.LeaguePromoted)
			r.RunStart, r.RunEnd = r.RunStart.AddDate(400, 0, 0), r.RunEnd.AddDate(400, 0, 0)
			return r
		}(),
	} {
		_, err := eng.Leagues().Import(ctx, "league", "ana", []gamify.LeagueResult{bad})
		requireField(t, err, field)
	}
	_, err = eng.Leagues().Import(ctx, "league", "nobody", results)
	require.ErrorIs(t, err, gamify.ErrNotFound)

	n, err := eng.Leagues().Import(ctx, "league", "ana", results)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, "gold inactive", cohort(t, eng, "ana"))
	h, err := eng.Leagues().History(ctx, "league", "ana", 0)
	require.NoError(t, err)
	require.Equal(t, []gamify.LeagueResult{results[1], results[0]}, h)
	older, err := eng.Leagues().HistoryBefore(ctx, "league", "ana", results[1].RunStart, 10)
	require.NoError(t, err)
	require.Equal(t, results[:1], older)

	n, err = eng.Leagues().Import(ctx, "league", "ana", results)
	require.NoError(t, err)
	require.Zero(t, n, "results held already are skipped")
	other := results[1]
	other.Rank = 2
	_, err = eng.Leagues().Import(ctx, "league", "ana", []gamify.LeagueResult{other})
	require.ErrorIs(t, err, gamify.ErrConflict, "another result of a run held")
	_, err = eng.Leagues().Import(ctx, "league", "ana", []gamify.LeagueResult{res(w1.AddDate(0, 0, -7), "bronze", "bronze", gamify.LeagueStayed)})
	require.ErrorIs(t, err, gamify.ErrConflict, "older than a result held")

	xp(t, eng, "ana", 3) // in a cohort of gold now
	require.Equal(t, "gold#1 1:ana:3", cohort(t, eng, "ana"))
	_, err = eng.Leagues().Import(ctx, "league", "ana", []gamify.LeagueResult{res(w1.AddDate(0, 0, 14), "gold", "gold", gamify.LeagueStayed)})
	require.ErrorIs(t, err, gamify.ErrConflict, "import before the events")
	eng.reopen(t)
	require.Equal(t, "gold#1 1:ana:3", cohort(t, eng, "ana"))
}

// replayed opens a copy of te's command log on an empty file, so that every
// command te applied is applied again, and checks it.
func replayed(t *testing.T, te *testEngine) *gamify.Engine {
	t.Helper()
	require.NoError(t, te.Flush(context.Background()))
	path := filepath.Join(t.TempDir(), "replica.db")
	copyDir(t, te.path+".log", path+".log")
	eng, err := gamify.Open(path, &gamify.Options{Clock: gamify.NewManualClock(te.clock.Now())})
	require.NoError(t, err)
	t.Cleanup(func() { _ = eng.Close() })
	require.Zero(t, eng.Stats().ReplayFailed)
	require.NoError(t, eng.Check(context.Background()))
	return eng
}

// TestLeagueImportRun exports the cohorts of a run half way (formed with
// a cohort size patched since) into a fresh engine that then gets the same
// events, a late one too: both end the run with the same results. Bad runs
// are refused with the field named and nothing stored; a second import and
// a reopen change nothing.
func TestLeagueImportRun(t *testing.T) {
	ctx := context.Background()
	src, dst := leagueEngine(t, 2, 1), leagueEngineWith(t, &gamify.Options{CheckpointInterval: time.Hour}, 3, 1)
	users := []string{"ana", "bo", "cy", "di", "ed"}
	for _, e := range []*testEngine{src, dst} {
		for _, u := range users {
			_, err := e.Users().Create(ctx, gamify.UserInput{ID: u})
			require.NoError(t, err)
		}
	}
	before := src.clock.Now()
	for i, u := range users {
		xp(t, src, u, float64(10+i))
	}
	_, err := src.Leagues().Patch(ctx, "league", func(l *gamify.League) { l.CohortSize = 3 }) // from the next run
	require.NoError(t, err)
	runs, err := src.Leagues().Runs(ctx, "league")
	require.NoError(t, err)
	require.Len(t, runs, 1)
	run := runs[0]
	runEnd := time.Date(2026, 3, 9, 0, 0, 0, 0, ny)
	require.Equal(t, gamify.LeagueRun{League: "league", RunStart: runEnd.AddDate(0, 0, -7).UTC(), RunEnd: runEnd.UTC(), Size: 2,
		Tiers: [][]string{users, {}, {}}}, run)

	for field, edit := range map[string]func(*gamify.LeagueRun){
		"LeagueRun.League":      func(r *gamify.LeagueRun) { r.League = "other" },
		"LeagueRun.RunStart":    func(r *gamify.LeagueRun) { r.RunStart = r.RunStart.Add(time.Hour) },
		"LeagueRun.RunEnd":      func(r *gamify.LeagueRun) { r.RunEnd = r.RunEnd.Add(time.Hour) },
		"LeagueRun.Size":        func(r *gamify.LeagueRun) { r.Size = 1 },
		"LeagueRun.Tiers":       func(r *gamify.LeagueRun) { r.Tiers = r.Tiers[:2] },
		"LeagueRun.First":       func(r *gamify.LeagueRun) { r.First = []int{0} },
		"LeagueRun.Tiers[1][0]": func(r *gamify.LeagueRun) { r.Tiers = [][]string{{"ana"}, {"ana"}, {}} },
	} {
		bad := run
		edit(&bad)
		_, err := dst.Leagues().ImportRun(ctx, "league", bad)
		requireField(t, err, field)
	}
	far := run
	far.RunStart = run.RunStart.AddDate(400, 0, 0)
	_, err = dst.Leagues().ImportRun(ctx, "league", far)
	requireField(t, err, "LeagueRun.RunStart")
	_, err = dst.Leagues().ImportRun(ctx, "league", gamify.LeagueRun{League: "league", RunStart: run.RunStart, RunEnd: run.RunEnd, Size: 2,
		Tiers: [][]string{{"ana", "nobody"}, {}, {}}})
	require.ErrorIs(t, err, gamify.ErrNotFound, "an unknown user")
	dst.clock.Set(runEnd)
	_, err = dst.Leagues().ImportRun(ctx, "league", run)
	require.ErrorIs(t, err, gamify.ErrConflict, "a run that has ended: nothing would end it")
	dst.clock.Set(before)
	held, err := dst.Leagues().Runs(ctx, "league")
	require.NoError(t, err)
	require.Empty(t, held, "a refused import stores nothing")

	// In two parts, as gamify export writes a long tier.
	first := run
	first.Tiers = [][]string{users[:3], {}, {}}
	n, err := dst.Leagues().ImportRun(ctx, "league", first)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	rest := run
	rest.Tiers, rest.First = [][]string{users[2:], {}, {}}, []int{2, 0, 0}
	n, err = dst.Leagues().ImportRun(ctx, "league", rest)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the place held already is skipped")
	n, err = dst.Leagues().ImportRun(ctx, "league", run)
	require.NoError(t, err)
	require.Zero(t, n, "an import run again stores nothing")
	other := run
	other.Tiers = [][]string{{"bo", "ana"}, {}, {}}
	_, err = dst.Leagues().ImportRun(ctx, "league", other)
	require.ErrorIs(t, err, gamify.ErrConflict, "another user at a place")
	gap := run
	gap.Tiers, gap.First = [][]string{{"ana"}, {}, {}}, []int{0, 1, 0}
	_, err = dst.Leagues().ImportRun(ctx, "league", gap)
	require.Error(t, err, "a place after the next free one")
	replica := replayed(t, dst)
	held, err = replica.Leagues().Runs(ctx, "league")
	require.NoError(t, err)
	require.Equal(t, runs, held, "the import replays from the log")
	dst.reopen(t)
	held, err = dst.Leagues().Runs(ctx, "league")
	require.NoError(t, err)
	require.Equal(t, runs, held)

	// The source's events, then late ones (dated before the export), in both.
	dst.clock.Set(before)
	for i, u := range users {
		xp(t, dst, u, float64(10+i))
	}
	for _, e := range []*testEngine{src, dst} {
		e.clock.Advance(time.Hour)
		for _, u := range []string{"ana", "bo"} {
			_, err := e.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 20, Time: before.Add(time.Minute)})
			require.NoError(t, err)
		}
		require.Equal(t, "bronze#1 1:bo:31 2:ana:30", cohort(t, e, "ana"))
		e.clock.Set(time.Date(2026, 3, 9, 1, 0, 0, 0, ny)) // the run ended at midnight
		_, err := e.RunDue(ctx)
		require.NoError(t, err)
	}
	for _, u := range users {
		want, err := src.Leagues().History(ctx, "league", u, 0)
		require.NoError(t, err)
		require.Len(t, want, 1)
		got, err := dst.Leagues().History(ctx, "league", u, 0)
		require.NoError(t, err)
		require.Equal(t, want, got, u)
	}
	res, err := src.Leagues().History(ctx, "league", "ed", 0)
	require.NoError(t, err)
	require.Equal(t, []any{3, 1, gamify.LeagueStayed}, []any{res[0].Cohort, res[0].CohortMembers, res[0].Move}, "ed alone in a cohort of 2: too small for its moves")
}

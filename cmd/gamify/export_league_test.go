package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// openChecked opens path with a fixed clock and checks it; the caller
// closes it.
func openChecked(t *testing.T, path string, at time.Time) *gamify.Engine {
	t.Helper()
	eng, err := gamify.Open(path, &gamify.Options{LockTimeout: time.Second, Clock: gamify.NewManualClock(at)})
	require.NoError(t, err)
	require.NoError(t, eng.Check(context.Background()))
	return eng
}

// importJSON imports exp into dst and returns the summary.
func importJSON(t *testing.T, exp, dst string) importSummary {
	t.Helper()
	code, out, errs := runCmd("import", "--db", dst, "--in", exp, "--json")
	require.Equal(t, exitOK, code, errs)
	var sum importSummary
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	return sum
}

// exportKinds exports src to a file of dir and counts its lines by kind.
func exportKinds(t *testing.T, src, dir string) (string, map[string]int) {
	t.Helper()
	exp := filepath.Join(dir, "export.jsonl")
	code, _, errs := runCmd("export", "--db", src, "--out", exp)
	require.Equal(t, exitOK, code, errs)
	kinds := map[string]int{}
	for _, l := range readLines(t, exp) {
		kinds[l.Kind]++
	}
	return exp, kinds
}

// leagueView reads every user's league tier and history with a fixed clock.
func leagueView(t *testing.T, path string, at time.Time) map[string]any {
	t.Helper()
	ctx := context.Background()
	eng := openChecked(t, path, at)
	defer eng.Close()
	out := map[string]any{}
	for _, u := range []string{"ana", "bo", "cy"} {
		st, err := eng.Leagues().Standing(ctx, "league", u)
		require.NoError(t, err)
		h, err := eng.Leagues().History(ctx, "league", u, 100)
		require.NoError(t, err)
		out[u] = []any{st.Tier, h}
	}
	return out
}

// leagueSource opens path with a weekly board ranking words and a league of
// three tiers on it, in cohorts of 2 moving 1 up and 1 down.
func leagueSource(t *testing.T, path string, clock gamify.Clock) *gamify.Engine {
	t.Helper()
	ctx := context.Background()
	eng, err := gamify.Open(path, &gamify.Options{Clock: clock})
	require.NoError(t, err)
	_, err = eng.Apply(ctx, gamify.Game{
		Metrics:      []gamify.Metric{{Key: "words", Name: "Words"}},
		Leaderboards: []gamify.Leaderboard{{Key: "week", Name: "Week", RankBy: gamify.RankByMetric, Metric: "words", TZ: "UTC", RunEvery: 1, RunUnit: gamify.RunWeek}},
		Leagues: []gamify.League{{Key: "league", Name: "League", Board: "week", Tiers: []string{"bronze", "silver", "gold"},
			CohortSize: 2, Promote: 1, Demote: 1}},
	})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "week")
	require.NoError(t, err)
	return eng
}

// TestExportImportLeagueResults carries two rolled-over runs of a league:
// every user's results, and so their tier, read the same after an import,
// which a second run leaves unchanged.
func TestExportImportLeagueResults(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "league.db")
	clock := gamify.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	eng := leagueSource(t, src, clock)
	track := func(user string, v float64) {
		_, err := eng.Track(ctx, gamify.Event{Metric: "words", User: user, Value: v})
		require.NoError(t, err)
	}
	track("ana", 5)
	track("bo", 7)
	track("cy", 3)
	for _, next := range [][]any{{"bo", 1.0, "ana", 2.0}, {"ana", 1.0}} {
		clock.Advance(7 * 24 * time.Hour)
		_, err := eng.RunDue(ctx)
		require.NoError(t, err)
		for i := 0; i < len(next); i += 2 {
			track(next[i].(string), next[i+1].(float64))
		}
	}
	at := clock.Now()
	require.NoError(t, eng.Close())

	dir := t.TempDir()
	exp, kinds := exportKinds(t, src, dir)
	require.Equal(t, 3, kinds["league-results"], "one line per user with results")

	dst := filepath.Join(dir, "copy.db")
	require.Equal(t, 3, importJSON(t, exp, dst).Applied["league-results"])
	want := leagueView(t, src, at)
	// bo is promoted in run 1, then alone in silver: a cohort too small to move.
	require.Equal(t, []any{"silver", 2}, []any{want["bo"].([]any)[0], len(want["bo"].([]any)[1].([]gamify.LeagueResult))})
	require.Equal(t, want, leagueView(t, dst, at))

	require.Empty(t, importJSON(t, exp, dst).Applied)
	require.Equal(t, want, leagueView(t, dst, at))
}

// TestExportImportLeagueRun exports a league half way through a run whose
// cohorts were formed with a cohort size patched since, and imports it at
// the source's time: both engines, given the same late event, end the run
// with the same results, and a second import changes nothing.
func TestExportImportLeagueRun(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "league.db")
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) // a Tuesday: the week's run runs to the 16th
	eng := leagueSource(t, src, gamify.NewManualClock(at))
	users := []string{"ana", "bo", "cy", "di", "ed"}
	for i, u := range users {
		_, err := eng.Track(ctx, gamify.Event{Metric: "words", User: u, Value: float64(10 + i)})
		require.NoError(t, err)
	}
	_, err := eng.Leagues().Patch(ctx, "league", func(l *gamify.League) { l.CohortSize = 3 }) // from the next run
	require.NoError(t, err)
	require.NoError(t, eng.Close())

	cmdClock = gamify.NewManualClock(at) // export and import at the source's time
	t.Cleanup(func() { cmdClock = nil })
	dir := t.TempDir()
	exp, kinds := exportKinds(t, src, dir)
	require.Equal(t, 1, kinds["league-run"])
	dst := filepath.Join(dir, "copy.db")
	require.Equal(t, 1, importJSON(t, exp, dst).Applied["league-run"])

	end := time.Date(2026, 3, 16, 1, 0, 0, 0, time.UTC)
	results := func(path string) map[string][]gamify.LeagueResult {
		eng := openChecked(t, path, at)
		defer eng.Close()
		// A late event, dated before the export, and the run's end.
		_, err := eng.Track(ctx, gamify.Event{Metric: "words", User: "ana", Value: 20, Time: at.Add(-time.Hour)})
		require.NoError(t, err)
		require.NoError(t, eng.Close())
		eng = openChecked(t, path, end) // Open catches the rollover up
		out := map[string][]gamify.LeagueResult{}
		for _, u := range users {
			h, err := eng.Leagues().History(ctx, "league", u, 0)
			require.NoError(t, err)
			out[u] = h
		}
		return out
	}
	// A second import first: it stores nothing again.
	require.Empty(t, importJSON(t, exp, dst).Applied)
	want := results(src)
	require.Len(t, want["ed"], 1)
	require.Equal(t, []any{3, 1}, []any{want["ed"][0].Cohort, want["ed"][0].CohortMembers}, "ed alone in a cohort of 2")
	require.Equal(t, gamify.LeaguePromoted, want["ana"][0].Move, "ana's late 20 puts her first of her cohort")
	require.Equal(t, want, results(dst))

	// Imported once the run is over, its cohorts are skipped (nothing would
	// end the run) and the import goes through.
	cmdClock = gamify.NewManualClock(end)
	late := importJSON(t, exp, filepath.Join(dir, "late.db"))
	require.Zero(t, late.Applied["league-run"])
	require.Equal(t, 1, late.Skipped)
}

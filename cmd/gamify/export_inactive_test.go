package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// inactiveView reads what the inactive intervals decide: each user's xp
// points, the boards' scores, and each definition's status and intervals.
func inactiveView(t *testing.T, eng *gamify.Engine) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	for _, u := range []string{"ana", "bo"} {
		up, err := eng.Users().Points(ctx, u, "xp")
		require.NoError(t, err)
		out["points "+u] = up.Total.String()
	}
	for _, b := range []string{"top", "rich", "paused"} {
		p, err := eng.Leaderboards().Rankings(ctx, b, gamify.BoardQuery{Limit: 100})
		require.NoError(t, err)
		var rows []string
		for _, r := range p.Rows {
			rows = append(rows, r.User+" "+r.Score.String())
		}
		out["board "+b] = rows
	}
	tr, err := eng.Points().Triggers().Get(ctx, "per-word")
	require.NoError(t, err)
	bs, err := eng.Points().Boosts().Get(ctx, "double")
	require.NoError(t, err)
	s, err := eng.Streaks().Get(ctx, "daily")
	require.NoError(t, err)
	out["trigger"] = []any{tr.Status, tr.Inactive}
	out["boost"] = []any{bs.Status, bs.Inactive}
	out["streak"] = []any{s.Status, s.Inactive}
	ps, err := eng.Points().Get(ctx, "xp")
	require.NoError(t, err)
	out["system"] = []any{ps.Status, ps.Inactive}
	for _, b := range []string{"top", "paused"} {
		l, err := eng.Leaderboards().Get(ctx, b)
		require.NoError(t, err)
		out["status "+b] = []any{l.Status, l.Inactive}
	}
	return out
}

// TestExportImportInactiveIntervals: a trigger, a boost and boards that
// were inactive (paused) during part of the history are imported with the
// intervals, so the import's events and late events synced after it, dated
// in those parts, pay and count exactly as in the source.
func TestExportImportInactiveIntervals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	t0 := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	clock := gamify.NewManualClock(t0)
	eng, err := gamify.Open(src, &gamify.Options{Clock: clock})
	require.NoError(t, err)
	n := gamify.AmountFromInt
	march := gamify.Date{Year: 2026, Month: 3, Day: 1}
	_, err = eng.Apply(ctx, gamify.Game{
		Metrics: []gamify.Metric{{Key: "words", Name: "Words"}},
		Streaks: []gamify.Streak{{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
			Metrics: []gamify.StreakMetric{{Metric: "words", Min: n(1)}}}},
		Points: []gamify.PointsSystem{{Key: "xp", Name: "XP",
			Triggers: []gamify.Trigger{{Key: "per-word", Kind: gamify.TriggerMetric, Metric: "words", Threshold: n(1), Points: n(2)}},
			Boosts:   []gamify.Boost{{Key: "double", Scope: gamify.BoostGlobal, Multiplier: n(2), From: march}}}},
		Leaderboards: []gamify.Leaderboard{{Key: "top", Name: "Top", RankBy: gamify.RankByMetric, Metric: "words", Start: march},
			{Key: "rich", Name: "Rich", RankBy: gamify.RankByPoints, System: "xp", Start: march},
			{Key: "paused", Name: "Paused", RankBy: gamify.RankByMetric, Metric: "words", Start: march}},
	})
	require.NoError(t, err)
	track := func(e *gamify.Engine, user string, at time.Time) {
		t.Helper()
		_, err := e.Track(ctx, gamify.Event{Metric: "words", User: user, Value: 1, Time: at})
		require.NoError(t, err)
	}
	step := func(at float64, f func() error) {
		t.Helper()
		clock.Set(h(at))
		require.NoError(t, f())
	}
	drop := func(f func(context.Context, string) (gamify.Trigger, error), key string) func() error {
		return func() error { _, err := f(ctx, key); return err }
	}
	// per-word inactive 1h–3h and since 9h, double 3h–5h, top paused 6h–8h,
	// paused since 10h, the streak inactive 2h–4h, the system xp 4.2h–4.8h.
	trs, bst, brd, sts := eng.Points().Triggers(), eng.Points().Boosts(), eng.Leaderboards(), eng.Streaks()
	step(0, func() error { track(eng, "ana", h(0)); return nil })
	step(1, drop(trs.Deactivate, "per-word"))
	step(1.5, func() error { track(eng, "ana", h(1.5)); return nil })
	step(2, func() error { _, err := sts.Deactivate(ctx, "daily"); return err })
	step(3, drop(trs.Activate, "per-word"))
	step(3, func() error { _, err := bst.Deactivate(ctx, "double"); return err })
	step(3.5, func() error { track(eng, "ana", h(3.5)); return nil })
	step(4, func() error { _, err := sts.Activate(ctx, "daily"); return err })
	step(4.2, func() error { _, err := eng.Points().Deactivate(ctx, "xp"); return err })
	step(4.8, func() error { _, err := eng.Points().Activate(ctx, "xp"); return err })
	step(5, func() error { _, err := bst.Activate(ctx, "double"); return err })
	step(6, func() error { _, err := brd.Deactivate(ctx, "top"); return err })
	step(6.5, func() error { track(eng, "bo", h(6.5)); return nil })
	step(8, func() error { _, err := brd.Activate(ctx, "top"); return err })
	step(9, drop(trs.Deactivate, "per-word"))
	step(9.5, func() error { track(eng, "bo", h(9.5)); return nil })
	step(10, func() error { _, err := brd.Deactivate(ctx, "paused"); return err })
	step(10.5, func() error { track(eng, "bo", h(10.5)); return nil })
	require.NoError(t, eng.Close())

	// Export and import at 12h.
	cmdClock = gamify.NewManualClock(h(12))
	t.Cleanup(func() { cmdClock = nil })
	exp, _ := exportKinds(t, src, dir)
	dst := filepath.Join(dir, "dst.db")
	importJSON(t, exp, dst)
	require.Empty(t, importJSON(t, exp, dst).Applied, "a second run: the stored definitions hold what the lines set, intervals aside")

	// Late events, synced to both after the import, dated in each part.
	late := []struct {
		user string
		at   float64
	}{{"ana", 0.5}, {"ana", 2}, {"bo", 3.2}, {"bo", 4.5}, {"ana", 7}, {"bo", 8.5}, {"ana", 9.2}, {"bo", 11}}
	views := map[string]map[string]any{}
	for name, path := range map[string]string{"source": src, "import": dst} {
		e := openChecked(t, path, h(13))
		for _, l := range late {
			track(e, l.user, h(l.at))
		}
		views[name] = inactiveView(t, e)
		require.NoError(t, e.Check(ctx))
		require.NoError(t, e.Close())
	}
	want := views["source"]
	// ana: 0h 2×2, 1.5h none, 3.5h 2 (double inactive), late 0.5h 4, 2h
	// none, 7h 4, 9.2h none; bo: 6.5h 4, late 3.2h 2, 4.5h none (xp
	// inactive), 8.5h 4.
	require.Equal(t, "14", want["points ana"])
	require.Equal(t, "10", want["points bo"])
	require.Equal(t, []string{"ana 6", "bo 6"}, want["board top"], "nothing dated 6h–8h")
	require.Equal(t, []string{"ana 7", "bo 5"}, want["board paused"], "nothing dated after 10h")
	require.Equal(t, want, views["import"])
}

// TestImportInactiveSystemKeepsItsAwards: a points system inactive at the
// export is created with its intervals and opened for the file's manual
// awards, so that they apply, while the import's events and late ones dated
// in its inactive stretch stay unpaid, as in the source; the end line
// deactivates it again.
func TestImportInactiveSystemKeepsItsAwards(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	t0 := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
	clock := gamify.NewManualClock(t0)
	eng, err := gamify.Open(src, &gamify.Options{Clock: clock})
	require.NoError(t, err)
	n := gamify.AmountFromInt
	_, err = eng.Apply(ctx, gamify.Game{Metrics: []gamify.Metric{{Key: "words", Name: "Words"}},
		Points: []gamify.PointsSystem{{Key: "xp", Name: "XP",
			Triggers: []gamify.Trigger{{Key: "per-word", Kind: gamify.TriggerMetric, Metric: "words", Threshold: n(1), Points: n(2)}}}}})
	require.NoError(t, err)
	track := func(e *gamify.Engine, at time.Time) {
		t.Helper()
		_, err := e.Track(ctx, gamify.Event{Metric: "words", User: "ana", Value: 1, Time: at})
		require.NoError(t, err)
	}
	clock.Set(h(0.5))
	track(eng, h(0.5))
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "xp", User: "ana", Amount: n(7), Reason: "bug report"})
	require.NoError(t, err)
	clock.Set(h(1))
	_, err = eng.Points().Deactivate(ctx, "xp")
	require.NoError(t, err)
	clock.Set(h(1.5))
	track(eng, h(1.5)) // inactive: unpaid
	require.NoError(t, eng.Close())

	cmdClock = gamify.NewManualClock(h(2))
	t.Cleanup(func() { cmdClock = nil })
	exp, _ := exportKinds(t, src, dir)
	dst := filepath.Join(dir, "dst.db")
	importJSON(t, exp, dst)
	require.Empty(t, importJSON(t, exp, dst).Applied, "a second run applies nothing")
	got := map[string]string{}
	for name, path := range map[string]string{"source": src, "import": dst} {
		e := openChecked(t, path, h(3))
		track(e, h(0.8)) // late, dated while active: paid
		track(e, h(1.2)) // late, dated while inactive: unpaid
		up, err := e.Users().Points(ctx, "ana", "xp")
		require.NoError(t, err)
		ps, err := e.Points().Get(ctx, "xp")
		require.NoError(t, err)
		got[name] = up.Total.String() + " " + string(ps.Status)
		require.NoError(t, e.Close())
	}
	require.Equal(t, "11 inactive", got["source"], "2 + 7 + 2")
	require.Equal(t, got["source"], got["import"])
}

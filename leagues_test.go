package gamify_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// leagueEngine has metric "xp", a weekly board "board" over it (New York
// time, clock at Friday 2026-03-06 12:00) and league "league" over the
// board with tiers bronze/silver/gold, cohorts of size, promoting and
// demoting k.
func leagueEngine(t *testing.T, size, k int) *testEngine {
	t.Helper()
	eng := boardEngine(t, nil, gamify.Leaderboard{RunEvery: 1, RunUnit: gamify.RunWeek})
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

package gamify_test

import (
	"context"
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

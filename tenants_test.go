package gamify_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestTenantsAreIsolated(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	for _, k := range []string{"acme", "globex"} {
		_, err := eng.Tenants().Create(ctx, k, k)
		require.NoError(t, err)
	}
	_, err := eng.Tenants().Create(ctx, "acme", "again")
	require.ErrorIs(t, err, gamify.ErrConflict)
	_, err = eng.Tenants().Create(ctx, "bad key", "x")
	require.ErrorIs(t, err, gamify.ErrInvalid)

	// The same keys in both tenants: metric, user, idempotency key, board.
	values := map[string]float64{"acme": 10, "globex": 3}
	for k, v := range values {
		te, err := eng.Tenant(k)
		require.NoError(t, err)
		mustMetric(t, te, "xp")
		_, err = te.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "b", Name: "B", RankBy: gamify.RankByMetric, Metric: "xp"})
		require.NoError(t, err)
		_, err = te.Leaderboards().Activate(ctx, "b")
		require.NoError(t, err)
		r, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: v, IdempotencyKey: "k"})
		require.NoError(t, err)
		require.False(t, r.IdempotentReplayed, "a key used by another tenant is new here")
	}
	for k, v := range values {
		te, err := eng.Tenant(k)
		require.NoError(t, err)
		m, err := te.Users().Metric(ctx, "ana", "xp")
		require.NoError(t, err)
		require.Equal(t, gamify.AmountFromInt(int64(v)), m.Total)
		p, err := te.Leaderboards().Rankings(ctx, "b", gamify.BoardQuery{})
		require.NoError(t, err)
		require.Equal(t, []gamify.BoardRow{{Rank: 1, User: "ana", Score: gamify.AmountFromInt(int64(v))}}, p.Rows)
		require.NoError(t, te.Check(ctx))
	}
	_, err = eng.Users().Get(ctx, "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound, "the root engine sees no tenant's users")

	list, err := eng.Tenants().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.NoError(t, eng.Tenants().Delete(ctx, "globex"))
	_, err = eng.Tenant("globex")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	list, err = eng.Tenants().List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, "acme", list[0].Key)
	require.Len(t, list, 1)

	// Tenant data survives a restart of the root engine.
	eng.reopen(t)
	te, err := eng.Tenant("acme")
	require.NoError(t, err)
	m, err := te.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "10", m.Total.String())
}

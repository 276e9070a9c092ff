package gamify_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestHardDeleteLeavesNoTraceAfterCompact(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "B", RankBy: gamify.RankByMetric, Metric: "steps",
		RunEvery: 1, RunUnit: gamify.RunDay, TZ: "America/New_York"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	const secretID, secretEmail = "zz-secret-user-4711", "zz.secret.4711@example.com"
	for day := range 3 {
		for _, u := range []string{secretID, "keeper"} {
			_, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: u, Value: 1000 + float64(day), IdempotencyKey: u + string(rune('a'+day)),
				Profile: &gamify.UserInput{Email: map[bool]string{true: secretEmail, false: "k@example.com"}[u == secretID], TZ: "America/New_York"}})
			require.NoError(t, err)
		}
		eng.clock.Advance(24 * time.Hour)
		_, err := eng.RunDue(ctx) // freezes the day's run, with the secret user in it
		require.NoError(t, err)
	}
	_, err = eng.Users().Anonymize(ctx, "keeper")
	require.NoError(t, err)
	require.NoError(t, eng.Flush(ctx))
	raw := func() []byte {
		b, err := os.ReadFile(eng.path)
		require.NoError(t, err)
		return b
	}
	require.True(t, bytes.Contains(raw(), []byte(secretID)), "the scan finds the id before the delete")
	require.True(t, bytes.Contains(raw(), []byte(secretEmail)))

	require.NoError(t, eng.Users().Erase(ctx, secretID))
	_, err = eng.Users().Get(ctx, secretID)
	require.ErrorIs(t, err, gamify.ErrNotFound)
	require.ErrorIs(t, eng.Users().Erase(ctx, secretID), gamify.ErrNotFound)
	p, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: eng.clock.Now().Add(-30 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, []string{"keeper"}, users(p.Rows), "gone from frozen runs too")
	require.NoError(t, eng.Check(ctx))
	for k := range gamify.DumpStore(eng.Engine) {
		require.NotContains(t, k, secretID)
	}

	require.NoError(t, eng.Close())
	require.NoError(t, gamify.Compact(eng.path))
	require.False(t, bytes.Contains(raw(), []byte(secretID)), "no byte of the id is left after Compact")
	require.False(t, bytes.Contains(raw(), []byte(secretEmail)))
	eng.reopen(t)
	um, err := eng.Users().Metric(ctx, "keeper", "steps")
	require.NoError(t, err)
	require.Equal(t, "3003", um.Total.String(), "the anonymized user keeps their totals")
	k, err := eng.Users().Get(ctx, "keeper")
	require.NoError(t, err)
	require.False(t, k.Active)
	require.Empty(t, k.Email)
	// The id can be used again, as a new user.
	r, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: secretID, Value: 1, IdempotencyKey: secretID + "a"})
	require.NoError(t, err)
	require.False(t, r.IdempotentReplayed, "idempotency keys were deleted too")
	require.Equal(t, "1", r.Total.String())
}

func TestDeleteWithinAnOpenBatch(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{Durability: gamify.Buffered, MaxFlushDelay: time.Hour})
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "gone", Value: 1, IdempotencyKey: "k"})
	require.NoError(t, err)
	require.NoError(t, eng.Users().Erase(ctx, "gone")) // its event is still in the open batch
	require.NoError(t, eng.Flush(ctx))
	_, err = eng.Users().Get(ctx, "gone")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	for k := range gamify.DumpStore(eng.Engine) {
		require.NotContains(t, k, "gone")
	}
}

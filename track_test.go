package gamify_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestTrackAddsToTotal(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	r1, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10})
	require.NoError(t, err)
	require.Equal(t, gamify.Amount(10_000_000), r1.Total)
	r2, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2.5})
	require.NoError(t, err)
	require.Equal(t, "12.5", r2.Total.String())
	require.NotEqual(t, r1.EventID, r2.EventID)
	um, err := eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "12.5", um.Total.String())
	require.Equal(t, uint64(2), um.Events)
	eng.reopen(t)
	um, err = eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "12.5", um.Total.String())
}

package gamify_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// Negative changes, a net-zero change and ties: the share of active users
// strictly lower, active users without a change counting as 0; the
// distribution stays right across a reopen (rebuilt on first use).
func TestReviewPercentileNegativeAndTies(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "steps")
	mustMetric(t, eng.Engine, "other")
	track := func(u, m string, v float64) {
		t.Helper()
		_, err := eng.Track(ctx, gamify.Event{Metric: m, User: u, Value: v})
		require.NoError(t, err)
	}
	track("a", "steps", -5)
	_, err := eng.Users().YearInReview(ctx, "a", 2026) // built now, kept current below
	require.NoError(t, err)
	track("b", "steps", -5)
	track("c", "steps", 3)
	track("d", "steps", 2)
	track("d", "steps", -2)
	track("e", "other", 1)
	check := func(t *testing.T) {
		for u, want := range map[string]float64{"a": 0, "b": 0, "c": 80, "d": 40} {
			r, err := eng.Users().YearInReview(ctx, u, 2026)
			require.NoError(t, err)
			require.Len(t, r.Metrics, 1, u)
			require.Equal(t, 5, r.Metrics[0].ActiveUsers, u)
			require.Equal(t, want, r.Metrics[0].Percentile, u)
		}
	}
	t.Run("live", check)
	eng.reopen(t)
	t.Run("reopened", check)
}

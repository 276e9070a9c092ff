package achievement

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// ProgressOf does not panic on a streak length past what an Amount holds
// (an unvalidated Length, or a huge fact): it saturates at MaxAmount.
func TestProgressOfHugeStreakLength(t *testing.T) {
	d := Definition{Key: "s", Kind: KindStreak, Streak: "daily", Length: math.MaxInt}
	p := ProgressOf(d, State{}, Facts{Streaks: map[string]int{"daily": math.MaxInt}})
	require.Equal(t, gamifytype.MaxAmount, p.Target)
	require.Equal(t, gamifytype.MaxAmount, p.Current)
	d.Length = 10
	p = ProgressOf(d, State{}, Facts{Streaks: map[string]int{"daily": math.MaxInt}})
	require.Equal(t, gamifytype.AmountFromInt(10), p.Current)
}

// A now that a State cannot store (zero, or past 2261) is refused by the
// transitions that return errors and changes nothing in the others: before,
// the completion was stored at a wrapped instant unlike the one returned.
func TestNowOutOfRange(t *testing.T) {
	c := catalog(t, metricDef("m", "steps", 1), streakDef("s", "daily", 1), manualDef("x"))
	for _, bad := range []time.Time{{}, time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC)} {
		s, out, err := OnMetric(c, State{}, MetricChange{Metric: "steps", Delta: amt(1), Total: amt(1)}, bad)
		require.Equal(t, "Now", fieldOf(err), "now %v: %v", bad, err)
		require.Equal(t, State{}, s)
		require.Empty(t, out)
		s, res, err := Complete(c, State{}, "x", nil, bad)
		require.Equal(t, "Now", fieldOf(err), "now %v: %v", bad, err)
		require.Equal(t, State{}, s)
		require.Empty(t, res.Completions)
		s, out = OnStreak(c, State{}, StreakChange{Streak: "daily", Length: 5}, bad)
		require.Equal(t, State{}, s)
		require.Empty(t, out)
		s, out = Backdate(c, State{}, Facts{Totals: map[string]gamifytype.Amount{"steps": amt(5)}}, nil, bad)
		require.Equal(t, State{}, s)
		require.Empty(t, out)
	}
}

// fieldOf returns the Field of the ValidationError in err, or "".
func fieldOf(err error) string {
	var ve *gamifytype.ValidationError
	if errors.As(err, &ve) {
		return ve.Field
	}
	return ""
}

// A nil *Catalog is an empty one: nothing completes, nothing panics.
func TestNilCatalog(t *testing.T) {
	var c *Catalog
	require.Zero(t, c.Len())
	_, ok := c.Get("x")
	require.False(t, ok)
	require.Empty(t, c.Definitions())
	s, out, err := OnMetric(c, State{}, MetricChange{Metric: "m", Delta: amt(1), Total: amt(1)}, t0)
	require.NoError(t, err)
	require.Empty(t, out)
	s, out = OnStreak(c, s, StreakChange{Streak: "s", Length: 3}, t0)
	require.Empty(t, out)
	_, _, err = Complete(c, s, "x", nil, t0)
	require.ErrorIs(t, err, gamifytype.ErrNotFound)
	s, out = Backdate(c, s, Facts{}, nil, t0)
	require.Empty(t, out)
	require.Equal(t, State{}, s)
}

package achievement

import (
	"math"
	"testing"

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

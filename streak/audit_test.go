package streak

import (
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// Personalize reports its errors in metric order, not in the random order of
// the map, so the same bad input always gives the same message.
func TestPersonalizeErrorsInStableOrder(t *testing.T) {
	d := def(Daily)
	d.Personalizable = true
	min := map[string]gamifytype.Amount{}
	for _, k := range []string{"e", "a", "d", "b", "c", "f", "g", "h"} {
		min[k] = amt(1)
	}
	_, first := d.Personalize(Personalization{Enabled: true, Min: min})
	require.Error(t, first)
	require.Contains(t, first.Error(), "Min[a]")
	for range 50 {
		_, err := d.Personalize(Personalization{Enabled: true, Min: min})
		require.Equal(t, first.Error(), err.Error())
	}
}

// A now past 2200 (or before 1900) is refused, naming Now, and changes
// nothing: a State advanced to it would not decode again.
func TestNowOutOfRange(t *testing.T) {
	d := def(Daily)
	d.Freezes = Freezes{Initial: 1, Max: 3, EarnAmount: 1, EarnEveryDays: 1}
	ny := mustLoc(t, "America/New_York")
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, ny)
	s, _, err := Apply(d, State{}, Activity{Metric: "lessons", Delta: amt(1), At: now, Loc: ny}, now)
	require.NoError(t, err)
	for _, bad := range []time.Time{{}, time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		isNow := func(err error) {
			t.Helper()
			var ve *gamifytype.ValidationError
			require.ErrorAs(t, err, &ve, "now %v", bad)
			require.Equal(t, "Now", ve.Field)
		}
		got, _, err := Apply(d, s, Activity{Metric: "lessons", Delta: amt(1), At: now, Loc: ny}, bad)
		isNow(err)
		require.Equal(t, s, got)
		got, _, err = GrantFreeze(d, s, bad, ny)
		isNow(err)
		require.Equal(t, s, got)
		got, _, err = Restore(d, s, bad, ny)
		isNow(err)
		require.Equal(t, s, got)
		got, _, err = AddPause(d, s, bad, ny, Date{2026, 7, 1}, Date{2026, 7, 2})
		isNow(err)
		require.Equal(t, s, got)
		got, err = RemovePause(d, s, bad, ny, 1)
		isNow(err)
		require.Equal(t, s, got)
		got, fx := Advance(d, s, bad, ny)
		require.Equal(t, s, got)
		require.Empty(t, fx.Notifications)
		b, err := got.MarshalBinary()
		require.NoError(t, err)
		require.NoError(t, new(State).UnmarshalBinary(b))
	}
}

// What MaxLateDays says: an activity that late still counts; Apply ignores
// only activities before the retained window, which reaches a bit further.
func TestMaxLateDaysCounts(t *testing.T) {
	d := def(Daily)
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	first := now.AddDate(0, 0, -600)
	s, _, err := Apply(d, State{}, Activity{Metric: "lessons", Delta: amt(1), At: first}, first)
	require.NoError(t, err)
	for days, counts := range map[int]bool{MaxLateDays: true, MaxLateDays + 5: true, RetainedPeriods(Daily) + 30: false} {
		_, fx, err := Apply(d, s, Activity{Metric: "lessons", Delta: amt(1), At: now.AddDate(0, 0, -days)}, now)
		require.NoError(t, err)
		require.Equal(t, counts, len(fx.Reached) == 1, "%d days late: %+v", days, fx.Reached)
	}
}

package points

import (
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	gstreak "github.com/gamifykit/gamify/streak"
	"github.com/stretchr/testify/require"
)

// A metric trigger with no Threshold (one that skipped Validate) is refused
// with a ValidationError, s unchanged, instead of dividing by zero.
func TestOnMetricUnvalidatedThreshold(t *testing.T) {
	tr := metricTrigger("a", "m", "1", "1")
	tr.Threshold = Amount{}
	r := Rules{System: xp(), Triggers: []Trigger{tr}}
	s := State{total: pts("3")}
	got, fx, err := OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	var ve *gamifytype.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Trigger.Threshold", ve.Field)
	require.Equal(t, s, got)
	require.Empty(t, fx.Awards)
}

// A time trigger with no Every is refused by OnTime instead of dividing by
// zero, and has no next fire.
func TestOnTimeUnvalidatedEvery(t *testing.T) {
	for _, tr := range []Trigger{
		{Key: "t", System: "xp", Kind: KindTime, Points: pts("1"), Unit: Hours, Active: true},
		{Key: "t", System: "xp", Kind: KindTime, Points: pts("1"), Unit: Days, Every: 1 << 40, Active: true},
	} {
		r := Rules{System: xp(), Triggers: []Trigger{tr}}
		_, _, err := OnTime(r, State{}, User{}, t0, t0.Add(time.Hour))
		var ve *gamifytype.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "Trigger.Every", ve.Field)
		require.True(t, NextTimeDue(tr, State{}, t0, nil).IsZero())
	}
}

// NextTimeDue never returns a fire before the user's creation: an hour count
// past a time.Duration, or a recorded fire count near MaxInt64, does not wrap.
func TestNextTimeDueNoWrap(t *testing.T) {
	tr := Trigger{Key: "t", System: "xp", Kind: KindTime, Points: pts("1"), Unit: Hours, Every: maxEveryHours, Active: true}
	s := State{recs: []rec{{key: "t", n: 2}}} // the third fire: 300 years, past one Duration
	due := NextTimeDue(tr, s, t0, nil)
	require.Equal(t, t0.Add(time.Duration(maxEveryHours)*time.Hour).Add(time.Duration(2*maxEveryHours)*time.Hour), due)
	for _, n := range []int64{1 << 40, 1<<63 - 1} {
		s := State{recs: []rec{{key: "t", n: n}}}
		require.True(t, NextTimeDue(tr, s, t0, nil).IsZero(), "n=%d", n)
	}
	d := tr
	d.Unit, d.Every = Days, maxEveryHours/24
	s = State{recs: []rec{{key: "t", n: 1 << 40}}}
	require.True(t, NextTimeDue(d, s, t0, nil).IsZero())
}

// What doc.go says of streak triggers: a restored run (Before holds the run
// it restores) pays no multiple again, and a trigger keeps no progress.
func TestOnStreakRestoredRunPaysNothingAgain(t *testing.T) {
	tr := Trigger{Key: "s5", System: "xp", Kind: KindStreak, Streak: "daily", EveryN: 5, Points: pts("10"), Active: true}
	r := Rules{System: xp(), Triggers: []Trigger{tr}}
	s, fx, err := OnStreak(r, State{}, User{}, "daily", gstreak.Reach{Before: []int{5, 1}, Length: 6}, t0)
	require.NoError(t, err)
	require.Empty(t, fx.Awards)
	require.Empty(t, s.recs)
}

// What doc.go says of time triggers: caught-up fires get the boosts active
// at the now OnTime is given, not at their due instants.
func TestOnTimeBoostsAtNow(t *testing.T) {
	tr := Trigger{Key: "t", System: "xp", Kind: KindTime, Points: pts("10"), Every: 24, Unit: Hours, Active: true}
	now := t0.AddDate(0, 0, 3)
	b := globalBoost("b", "2", RoundDown)
	b.From = DateOf(now, nil) // not active at any of the three due instants before now
	r := Rules{System: xp(), Triggers: []Trigger{tr}, Boosts: []Boost{b}}
	_, fx, err := OnTime(r, State{}, User{}, t0, now)
	require.NoError(t, err)
	require.Len(t, fx.Awards, 1)
	require.Equal(t, int64(3), fx.Awards[0].Multiple)
	require.Equal(t, pts("60"), fx.Awards[0].Points)
}

// A cap near MaxAmount and a negative total do not wrap the room left under
// the cap: the award is paid in full, not capped to nothing.
func TestCapRoomDoesNotWrap(t *testing.T) {
	sys := xp()
	sys.MaxPoints = gamifytype.MaxAmount
	r := Rules{System: sys}
	s, _, err := TakeBack(r, State{}, pts("1"), "repay")
	require.NoError(t, err)
	s, fx, err := Award(r, s, pts("5"), "x")
	require.NoError(t, err)
	require.Len(t, fx.Awards, 1)
	require.False(t, fx.Awards[0].Capped)
	require.Equal(t, pts("4"), s.Total())
}

// NextLevel's remaining points saturate instead of wrapping negative.
func TestNextLevelRemainingDoesNotWrap(t *testing.T) {
	top := Level{Key: "top", Name: "Top", Threshold: gamifytype.MaxAmount}
	_, req, rem, ok := NextLevel([]Level{top}, maxTotal.Neg())
	require.True(t, ok)
	require.Equal(t, gamifytype.MaxAmount, req)
	require.Equal(t, gamifytype.MaxAmount, rem)
}

// A decoded State keeps the bounds transitions keep (|total| ≤ MaxAmount/2,
// spent ≤ MaxAmount/2), so Available cannot wrap.
func TestDecodeRefusesTotalsPastBounds(t *testing.T) {
	for _, s := range []State{{total: gamifytype.MinAmount, spent: pts("1")}, {total: maxTotal.Add(micros(1))}, {spent: maxTotal.Add(micros(1))}} {
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		var got State
		require.ErrorIs(t, got.UnmarshalBinary(b), ErrCorrupt, "total %v spent %v", s.total, s.spent)
	}
	ok := State{total: maxTotal.Neg(), spent: maxTotal}
	b, _ := ok.MarshalBinary()
	var got State
	require.NoError(t, got.UnmarshalBinary(b))
	require.Equal(t, ok.Total(), got.Total())
	require.Equal(t, ok.Spent(), got.Spent())
	require.Equal(t, maxTotal.Neg().Sub(maxTotal), got.Available())
}

// A nil StreakReach is refused, naming Reach, instead of a nil method call.
func TestOnStreakNilReach(t *testing.T) {
	tr := Trigger{Key: "s5", System: "xp", Kind: KindStreak, Streak: "daily", EveryN: 5, Points: pts("10"), Active: true}
	r := Rules{System: xp(), Triggers: []Trigger{tr}}
	s := State{total: pts("2")}
	got, fx, err := OnStreak(r, s, User{}, "daily", nil, t0)
	var ve *gamifytype.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Reach", ve.Field)
	require.Equal(t, s, got)
	require.Empty(t, fx.Awards)
}

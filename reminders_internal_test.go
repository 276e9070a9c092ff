package gamify

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/streak"
)

// remindState reads from an encoded userState the latest event and the
// state of one streak, as the full decode does.
func TestRemindStateReadsWhatUnmarshalReads(t *testing.T) {
	d := streak.Definition{Key: "s", Name: "S", Frequency: streak.Daily,
		Metrics: []streak.MetricRule{{Metric: "m", Min: AmountFromInt(1)}}}
	st, _, err := streak.Apply(d, streak.State{}, streak.Activity{Metric: "m", Delta: AmountFromInt(1), At: t0Internal}, t0Internal)
	require.NoError(t, err)
	full := userState{Events: 3, FirstEvent: 10, LastEvent: t0Internal.UnixNano(),
		Metrics: []metricTotal{{Ref: 1, Total: AmountFromInt(5), Events: 3}},
		Streaks: []userStreak{{Ref: 1, Due: 7}, {Ref: 2, Due: 99, St: st}, {Ref: 3}},
		Boards:  []userBoard{{Ref: 1, Run: 2, Score: 3, Group: "g", In: true}}}
	b := full.marshal(nil)
	var back userState
	require.NoError(t, back.unmarshal(b))
	for _, ref := range []uint32{0, 2, 4} {
		got, err := remindState(b, ref)
		require.NoError(t, err)
		require.Equal(t, back.LastEvent, got.LastEvent)
		if ref == 2 {
			require.Equal(t, []userStreak{back.Streaks[1]}, got.Streaks)
		} else {
			require.Empty(t, got.Streaks, "ref %d", ref)
		}
	}
	_, err = remindState(b[:len(b)/2], 4)
	require.Error(t, err)
}

var t0Internal = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

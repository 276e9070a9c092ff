package points

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStateRoundTrip(t *testing.T) {
	r := Rules{System: xp(), Levels: levels(), Triggers: []Trigger{metricTrigger("b", "m", "3", "1"), metricTrigger("a", "m", "2", "2")}}
	s, _ := track(t, r, State{}, User{}, "m", "7.5", "-1")
	s, _, err := Spend(s, pts("0.5"))
	require.NoError(t, err)
	s, _, err = PinLevel(r.Levels, s, "gold")
	require.NoError(t, err)
	for _, in := range []State{{}, s} {
		b, err := in.MarshalBinary()
		require.NoError(t, err)
		var out State
		require.NoError(t, out.UnmarshalBinary(b))
		require.Equal(t, in.Total(), out.Total())
		require.Equal(t, in.Spent(), out.Spent())
		k1, p1 := in.LevelKey()
		k2, p2 := out.LevelKey()
		require.Equal(t, [2]any{k1, p1}, [2]any{k2, p2})
		require.Equal(t, len(in.recs), len(out.recs))
		for i := range in.recs {
			require.Equal(t, in.recs[i], out.recs[i])
		}
		b2, _ := out.AppendBinary([]byte{9})
		require.Equal(t, b, b2[1:], "AppendBinary appends")
	}
}

func TestStateDecodeRejectsCorrupt(t *testing.T) {
	good, _ := State{total: micros(5), recs: []rec{{key: "a", n: 1}, {key: "b", n: 2}}}.MarshalBinary()
	for name, b := range map[string][]byte{
		"empty":       nil,
		"version":     {2, 0, 0, 0, 0, 0},
		"truncated":   good[:len(good)-1],
		"trailing":    append(append([]byte{}, good...), 0),
		"unsorted":    mustEncode(State{recs: []rec{{key: "b"}, {key: "a"}}}),
		"duplicate":   mustEncode(State{recs: []rec{{key: "a"}, {key: "a"}}}),
		"bad key":     mustEncode(State{recs: []rec{{key: "a b"}}}),
		"empty key":   mustEncode(State{recs: []rec{{key: ""}}}),
		"negative n":  mustEncode(State{recs: []rec{{key: "a", n: -1}}}),
		"neg spent":   mustEncode(State{spent: micros(-1)}),
		"huge count":  {1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"long string": {1, 0, 0, 0x7f},
		"overlong":    {1, 0x80, 0x00, 0, 0, 0, 0},
	} {
		s := State{total: micros(42)}
		require.ErrorIs(t, s.UnmarshalBinary(b), ErrCorrupt, name)
		require.Equal(t, micros(42), s.Total(), "%s: a failed decode leaves the State alone", name)
	}
}

func mustEncode(s State) []byte {
	b, _ := s.MarshalBinary()
	return b
}

func FuzzStateDecode(f *testing.F) {
	r := Rules{System: xp(), Levels: levels(), Triggers: []Trigger{metricTrigger("t", "m", "1", "1")}}
	s, _, _ := OnMetric(r, State{}, User{}, MetricChange{Metric: "m", Delta: pts("150"), At: t0})
	f.Add(mustEncode(State{}))
	f.Add(mustEncode(s))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s State
		if err := s.UnmarshalBinary(b); err != nil {
			require.ErrorIs(t, err, ErrCorrupt)
			return
		}
		// A decoded State re-encodes to the same bytes and can be used.
		require.Equal(t, b, mustEncode(s))
		_, _, _ = OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
		_, _, _ = Spend(s, micros(1))
	})
}

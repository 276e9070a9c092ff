package points

import (
	"fmt"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// pts parses a decimal literal as an Amount.
func pts(s string) Amount {
	a, err := gamifytype.ParseAmountField("test", s)
	if err != nil {
		panic(err)
	}
	return a
}

// micros returns the Amount of m millionths.
func micros(m int64) Amount { return gamifytype.AmountFromMicros(m) }

// times returns a × n; it panics on overflow.
func times(a Amount, n int64) Amount {
	p, ok := a.MulInt(n)
	if !ok {
		panic(fmt.Sprintf("times(%v, %d) overflows", a, n))
	}
	return p
}

func mustLoc(t testing.TB, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

var t0 = time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)

func xp() System { return System{Key: "xp", Name: "XP"} }

func metricTrigger(key, metric, threshold, points string) Trigger {
	return Trigger{Key: key, System: "xp", Kind: KindMetric, Metric: metric, Threshold: pts(threshold), Points: pts(points), Active: true}
}

func globalBoost(key, mult string, mode Rounding) Boost {
	return Boost{Key: key, System: "xp", Scope: Global, From: Date{2026, 1, 1}, Multiplier: pts(mult), Rounding: mode}
}

// track applies deltas of metric m in order and returns the state and every award's points.
func track(t *testing.T, r Rules, s State, u User, m string, deltas ...string) (State, []Amount) {
	t.Helper()
	var got []Amount
	for _, d := range deltas {
		var fx Effects
		var err error
		s, fx, err = OnMetric(r, s, u, MetricChange{Metric: m, Delta: pts(d), At: t0})
		require.NoError(t, err)
		for _, a := range fx.Awards {
			got = append(got, a.Points)
		}
	}
	return s, got
}

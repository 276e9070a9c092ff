package points

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// Transitions given Buffers return the same states and effects as without
// (nil boosts stay nil), and reuse the storage: after the first, a
// transition's awards and boost lists allocate nothing.
func TestBuffersGiveTheSameEffects(t *testing.T) {
	boosted := Rules{System: xp(), Triggers: []Trigger{metricTrigger("a", "m", "1", "1"), metricTrigger("b", "m", "10", "10")},
		Boosts: []Boost{globalBoost("x2", "2", RoundDown)}}
	plain := Rules{System: xp(), Triggers: boosted.Triggers}
	for name, r := range map[string]Rules{"boosted": boosted, "plain": plain} {
		t.Run(name, func(t *testing.T) {
			lent := r
			lent.Buffers = &Buffers{}
			var s, ls State
			for i := range 30 {
				c := MetricChange{Metric: "m", Delta: pts("3"), At: t0}
				ns, fx, err := OnMetric(r, s, User{}, c)
				require.NoError(t, err)
				nls, lfx, err := OnMetric(lent, ls, User{}, c)
				require.NoError(t, err)
				require.Equal(t, ns, nls, "event %d", i)
				require.Equal(t, fx, lfx, "event %d", i)
				s, ls = ns, nls
			}
		})
	}
}

func TestBuffersSaveTheEffectsAllocations(t *testing.T) {
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("a", "m", "1", "1"), metricTrigger("b", "m", "3", "10")},
		Boosts: []Boost{globalBoost("x2", "2", RoundDown)}}
	s, _, err := OnMetric(r, State{}, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	c := MetricChange{Metric: "m", Delta: pts("3"), At: t0} // both triggers award, boosted
	allocs := func(r Rules) float64 {
		return testing.AllocsPerRun(20, func() {
			if _, fx, err := OnMetric(r, s, User{}, c); err != nil || len(fx.Awards) != 2 || len(fx.Awards[0].Boosts) != 1 {
				t.Fatalf("%v %+v", err, fx)
			}
		})
	}
	without := allocs(r)
	r.Buffers = &Buffers{}
	with := allocs(r)
	// The awards (grown to two) and the boost list: three allocations.
	require.Equal(t, without-3, with, "allocations without buffers %v, with %v", without, with)
}

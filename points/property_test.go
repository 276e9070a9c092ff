package points

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/streak"
	"github.com/stretchr/testify/require"
)

// TestHighWaterMatchesFromScratch checks the incremental awards of metric
// triggers (with event filters, round-tripping the State through its
// encoding at random) against a from-scratch computation over the same
// deltas: a trigger has paid Points × max(0, max over prefixes of
// ⌊sum of its matching deltas / Threshold⌋).
func TestHighWaterMatchesFromScratch(t *testing.T) {
	runs, steps := 300, 200
	if testing.Short() {
		runs = 30
	}
	for run := range runs {
		rng := rand.New(rand.NewPCG(uint64(run), 7))
		var triggers []Trigger
		for i := range 1 + rng.IntN(4) {
			tr := metricTrigger(fmt.Sprintf("t%d", i), "m", "1", "1")
			tr.Threshold = micros(1 + rng.Int64N(50*gamifytype.AmountScale))
			tr.Points = gamifytype.AmountFromInt(1 + rng.Int64N(20))
			if rng.IntN(2) == 0 {
				tr.EventFilters = map[string]string{"c": fmt.Sprint(rng.IntN(2))}
			}
			triggers = append(triggers, tr)
		}
		r := Rules{System: xp(), Triggers: triggers}
		sums := make([]Amount, len(triggers))
		best := make([]int64, len(triggers))
		var s State
		var total Amount
		for step := range steps {
			delta := micros(rng.Int64N(60*gamifytype.AmountScale) - 25*gamifytype.AmountScale)
			attrs := map[string]string{"c": fmt.Sprint(rng.IntN(2))}
			var fx Effects
			var err error
			s, fx, err = OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: delta, Attrs: attrs, At: t0})
			require.NoError(t, err)
			total = total.Add(fx.Added)
			var want Amount
			for i, tr := range triggers {
				if matches(tr.EventFilters, attrs) {
					sums[i] = sums[i].Add(delta)
					best[i] = max(best[i], floorDiv(sums[i], tr.Threshold))
				}
				want = want.Add(times(tr.Points, best[i]))
			}
			require.Equal(t, want, s.Total(), "run %d step %d: incremental total = %v, want %v", run, step, s.Total(), want)
			require.Equal(t, total, s.Total(), "the awards sum to the total")
			if rng.IntN(10) == 0 {
				var d State
				require.NoError(t, d.UnmarshalBinary(mustEncode(s)))
				s = d
			}
		}
	}
}

// TestTransitionsDoNotModifyTheirInput checks that a State is a value: the
// State given to a transition is unchanged afterwards.
func TestTransitionsDoNotModifyTheirInput(t *testing.T) {
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("a", "m", "1", "1"), metricTrigger("b", "m", "2", "1")}}
	s, _ := track(t, r, State{}, User{}, "m", "3")
	before := mustEncode(s)
	_, _, err := OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: pts("10"), At: t0})
	require.NoError(t, err)
	require.Equal(t, before, mustEncode(s))
}

func BenchmarkOnMetric(b *testing.B) {
	r := Rules{
		System: xp(),
		Triggers: []Trigger{
			metricTrigger("steps", "steps", "100", "1"),
			metricTrigger("steps-ios", "steps", "50", "2"),
			metricTrigger("other", "minutes", "10", "1"),
		},
		Boosts: []Boost{globalBoost("double", "2", RoundDown), globalBoost("half-more", "1.5", RoundNearest)},
		Levels: levels(),
	}
	r.Triggers[1].EventFilters = map[string]string{"platform": "ios"}
	u := User{ID: "u", Attrs: map[string]string{"plan": "pro"}}
	c := MetricChange{Metric: "steps", Delta: pts("120"), Attrs: map[string]string{"platform": "ios"}, At: t0}
	var s State
	b.ReportAllocs()
	for b.Loop() {
		var err error
		s, _, err = OnMetric(r, s, u, c)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestMultiplyFastPathMatchesBig checks the 128-bit product against big
// integers on random bases, stacks and modes, including overflowing ones.
func TestMultiplyFastPathMatchesBig(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := range n {
		base := micros(1 + rng.Int64N(1000*gamifytype.AmountScale))
		if i%10 == 0 {
			base = micros(1 + rng.Int64N(maxPointsMagnitude.Micros()*1000))
		}
		ms := make([]AppliedBoost, rng.IntN(6))
		for j := range ms {
			ms[j].Multiplier = micros(1 + rng.Int64N(100*gamifytype.AmountScale-1))
		}
		mode := Rounding(rng.IntN(3))
		want, wok := multiplyBig(base, ms, mode)
		got, gok := multiply(base, ms, mode)
		require.Equal(t, wok, gok, "multiply(%v, %v, %v) ok", base, ms, mode)
		require.Equal(t, want, got, "multiply(%v, %v, %v) = %v, want %v", base, ms, mode, got, want)
		if f, fok := multiply128(base, ms, mode); fok {
			require.Equal(t, want, f, "multiply128(%v, %v, %v) = %v, want %v", base, ms, mode, f, want)
		}
	}
}

// TestRandomOperationsKeepInvariants applies random metric events, manual
// awards, spends, pins and streak lengths and checks after each step: the
// awards sum to the change of the total, available = total − spent ≥ 0
// unless negative awards made it so, the total never rises past the cap
// through an award, the level is that of the total unless pinned, a failed
// call changes nothing, and the State survives its encoding.
func TestRandomOperationsKeepInvariants(t *testing.T) {
	runs, steps := 200, 150
	if testing.Short() {
		runs = 20
	}
	for run := range runs {
		rng := rand.New(rand.NewPCG(uint64(run), 99))
		sys := xp()
		if rng.IntN(2) == 0 {
			sys.MaxPoints = gamifytype.AmountFromInt(1 + rng.Int64N(500))
		}
		neg := metricTrigger("neg", "spend", "1", "-3")
		neg.BlockIfOutOfPoints = rng.IntN(2) == 0
		r := Rules{System: sys, Levels: levels(), Triggers: []Trigger{
			metricTrigger("a", "m", "7", "5"), neg,
			{Key: "s", System: "xp", Kind: KindStreak, Streak: "d", EveryN: 3, Points: pts("2.5"), Active: true},
		}, Boosts: []Boost{globalBoost("b", "1.3", Rounding(rng.IntN(3)))}}
		var s State
		for step := range steps {
			before := s
			var fx Effects
			var err error
			switch op := rng.IntN(6); op {
			case 0, 1:
				s, fx, err = OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: micros(rng.Int64N(40*gamifytype.AmountScale) - 10*gamifytype.AmountScale), At: t0})
			case 2:
				s, fx, err = OnMetric(r, s, User{}, MetricChange{Metric: "spend", Delta: gamifytype.AmountFromInt(rng.Int64N(3)), At: t0})
			case 3:
				s, fx, err = Award(r, s, micros(1+rng.Int64N(50*gamifytype.AmountScale)), "r")
			case 4:
				s, fx, err = Spend(s, micros(1+rng.Int64N(30*gamifytype.AmountScale)))
			case 5:
				switch rng.IntN(3) {
				case 0:
					s, fx, err = PinLevel(r.Levels, s, r.Levels[rng.IntN(len(r.Levels))].Key)
				case 1:
					s, fx = UnpinLevel(r.Levels, s)
				default:
					s, fx, err = OnStreak(r, s, User{}, "d", streak.Reach{Before: []int{rng.IntN(10)}, Length: rng.IntN(20)}, t0)
				}
			}
			where := fmt.Sprintf("run %d step %d", run, step)
			if err != nil {
				require.ErrorIs(t, err, gamifytype.ErrInsufficientPoints, where)
				require.Equal(t, mustEncode(before), mustEncode(s), "%s: a failed call changes nothing", where)
				continue
			}
			require.Equal(t, s.Total().Sub(before.Total()), fx.Added, "%s: awards sum to the change", where)
			require.Equal(t, s.Total().Sub(s.Spent()), s.Available())
			for _, a := range fx.Awards {
				if a.Points.Sign() > 0 && sys.MaxPoints.Sign() > 0 {
					require.LessOrEqual(t, a.Total.Cmp(sys.MaxPoints), 0, "%s: %v passes the cap", where, a.Total)
				}
			}
			key, pinned := s.LevelKey()
			if !pinned {
				l, _ := LevelFor(r.Levels, s.Total())
				require.Equal(t, l.Key, key, "%s: level of %v", where, s.Total())
			}
			bk, _ := before.LevelKey()
			require.Equal(t, bk != key, fx.Level != nil, "%s: a level change is reported iff it happened", where)
			var d State
			require.NoError(t, d.UnmarshalBinary(mustEncode(s)))
			require.Equal(t, mustEncode(s), mustEncode(d))
		}
	}
}

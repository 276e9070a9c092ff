package achievement

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// model is the reference: the rules written as naively as possible, with
// composites resolved by iterating to a fixpoint instead of by rank.
type model struct {
	defs   []Definition
	held   map[string]time.Time
	sums   map[string]gamifytype.Amount
	totals map[string]gamifytype.Amount
	length map[string]int
	attrs  map[string]string
}

// dependsOn reports whether d depends on the metric or streak (kind, key),
// directly or through prerequisites.
func (m *model) dependsOn(d Definition, kind Kind, key string) bool {
	switch d.Kind {
	case KindMetric:
		return kind == KindMetric && d.Metric == key
	case KindStreak:
		return kind == KindStreak && d.Streak == key
	case KindManual:
		return kind == KindManual && d.Key == key
	}
	for _, p := range d.Prerequisites {
		for _, pd := range m.defs {
			if pd.Key == p && m.dependsOn(pd, kind, key) {
				return true
			}
		}
	}
	return false
}

func (m *model) qualifies(d Definition) bool {
	if _, ok := m.held[d.Key]; ok || d.Status != Active || !matches(d.UserFilters, m.attrs) {
		return false
	}
	switch d.Kind {
	case KindMetric:
		if len(d.EventFilters) > 0 {
			return !m.sums[d.Key].Less(d.Threshold)
		}
		return !m.totals[d.Metric].Less(d.Threshold)
	case KindStreak:
		return m.length[d.Streak] >= d.Length
	case KindComposite:
		for _, p := range d.Prerequisites {
			if _, ok := m.held[p]; !ok {
				return false
			}
		}
		return true
	}
	return false
}

// settle completes every relevant qualifying definition until nothing changes.
func (m *model) settle(relevant func(Definition) bool, now time.Time) []string {
	var out []string
	for changed := true; changed; {
		changed = false
		for _, d := range m.defs {
			if relevant(d) && m.qualifies(d) {
				m.held[d.Key] = now
				out = append(out, d.Key)
				changed = true
			}
		}
	}
	slices.Sort(out)
	return out
}

func randomCatalog(r *rand.Rand) []Definition {
	n := 3 + r.IntN(12)
	defs := make([]Definition, 0, n)
	for i := range n {
		d := Definition{Key: fmt.Sprintf("a%d", i), Status: Status(r.IntN(5) % 3)} // mostly active
		if d.Status == Inactive && r.IntN(2) == 0 {
			d.Status = Active
		}
		switch k := r.IntN(5); {
		case k <= 1 || i == 0:
			d.Kind, d.Metric, d.Threshold = KindMetric, fmt.Sprintf("m%d", r.IntN(3)), amt(1+r.Int64N(8))
			if r.IntN(3) == 0 {
				d.EventFilters = map[string]string{"p": fmt.Sprint(r.IntN(2))}
			}
		case k == 2:
			d.Kind, d.Streak, d.Length = KindStreak, fmt.Sprintf("s%d", r.IntN(2)), 1+r.IntN(5)
		case k == 3:
			d.Kind = KindManual
		default:
			d.Kind = KindComposite
			for range 1 + r.IntN(3) {
				p := fmt.Sprintf("a%d", r.IntN(i)) // only earlier ones: no cycles
				if !slices.Contains(d.Prerequisites, p) {
					d.Prerequisites = append(d.Prerequisites, p)
				}
			}
		}
		if r.IntN(5) == 0 {
			d.UserFilters = map[string]string{"plan": "pro"}
		}
		defs = append(defs, d)
	}
	r.Shuffle(len(defs), func(i, j int) { defs[i], defs[j] = defs[j], defs[i] })
	return defs
}

// TestModel runs random operations on random catalogues against the model.
func TestModel(t *testing.T) {
	rounds, steps := 400, 60
	if testing.Short() {
		rounds = 50
	}
	for round := range rounds {
		r := rand.New(rand.NewPCG(uint64(round), 7))
		defs := randomCatalog(r)
		c, err := NewCatalog(defs)
		require.NoError(t, err, "round %d", round)
		m := &model{defs: defs, held: map[string]time.Time{}, sums: map[string]gamifytype.Amount{},
			totals: map[string]gamifytype.Amount{}, length: map[string]int{}, attrs: map[string]string{}}
		var s State
		for step := range steps {
			now := at(step)
			var got, want []string
			what := ""
			switch op := r.IntN(10); {
			case op < 6:
				metric, delta := fmt.Sprintf("m%d", r.IntN(3)), amt(r.Int64N(7)-2)
				ev := map[string]string{}
				if r.IntN(2) == 0 {
					ev["p"] = fmt.Sprint(r.IntN(2))
				}
				what = fmt.Sprintf("OnMetric(%s %v %v)", metric, delta, ev)
				m.totals[metric] = m.totals[metric].Add(delta)
				for _, d := range defs {
					if _, ok := m.held[d.Key]; !ok && d.Kind == KindMetric && d.Metric == metric && len(d.EventFilters) > 0 && matches(d.EventFilters, ev) {
						m.sums[d.Key] = m.sums[d.Key].Add(delta)
					}
				}
				want = m.settle(func(d Definition) bool { return m.dependsOn(d, KindMetric, metric) }, now)
				var done []Completion
				s, done, err = OnMetric(c, s, MetricChange{Metric: metric, Delta: delta, Total: m.totals[metric], EventAttrs: ev, UserAttrs: m.attrs}, now)
				require.NoError(t, err)
				got = keys(t, done, now, false)
			case op < 8:
				streak, length := fmt.Sprintf("s%d", r.IntN(2)), r.IntN(7)
				what = fmt.Sprintf("OnStreak(%s %d)", streak, length)
				m.length[streak] = length
				want = m.settle(func(d Definition) bool { return m.dependsOn(d, KindStreak, streak) }, now)
				var done []Completion
				s, done = OnStreak(c, s, StreakChange{Streak: streak, Length: length, UserAttrs: m.attrs}, now)
				got = keys(t, done, now, false)
			case op < 9:
				d := defs[r.IntN(len(defs))]
				what = "Complete(" + d.Key + ")"
				_, already := m.held[d.Key]
				ok := d.Kind == KindManual && (already || d.Status == Active && matches(d.UserFilters, m.attrs))
				if ok && !already {
					m.held[d.Key] = now
					want = append(m.settle(func(x Definition) bool { return m.dependsOn(x, KindManual, d.Key) }, now), d.Key)
					slices.Sort(want)
				}
				s2, res, err := Complete(c, s, d.Key, m.attrs, now)
				require.Equal(t, ok, err == nil, "round %d step %d: %s = %v", round, step, what, err)
				require.Equal(t, ok && already, res.AlreadyCompleted, "round %d step %d: %s", round, step, what)
				if ok && already {
					require.True(t, res.Completion.At.Equal(m.held[d.Key]))
				}
				s = s2
				got = keys(t, res.Completions, now, false)
			default:
				if r.IntN(2) == 0 {
					m.attrs = map[string]string{"plan": "pro"}
				} else {
					m.attrs = map[string]string{}
				}
				what = fmt.Sprintf("Backdate(%v)", m.attrs)
				want = m.settle(func(Definition) bool { return true }, now)
				var done []Completion
				s, done = Backdate(c, s, Facts{Totals: m.totals, Streaks: m.length}, m.attrs, now)
				got = keys(t, done, now, true)
			}
			slices.Sort(got)
			require.Equal(t, want, got, "round %d step %d: %s completed %v, want %v", round, step, what, got, want)
			s = roundTrip(t, s)
			require.Len(t, s.Completions(), len(m.held), "round %d step %d", round, step)
			for _, cp := range s.Completions() {
				require.True(t, cp.At.Equal(m.held[cp.Key]), "round %d step %d: %s completed at %v, want %v", round, step, cp.Key, cp.At, m.held[cp.Key])
			}
			for k, v := range m.sums {
				if _, done := m.held[k]; !done {
					require.Equal(t, v, s.Sum(k), "round %d step %d: Sum(%s)", round, step, k)
				}
			}
		}
	}
}

package streak

import (
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func amt(n int64) gamifytype.Amount { return gamifytype.AmountFromInt(n) }

// def returns a one-metric definition ("lessons", minimum 1).
func def(f Frequency) Definition {
	return Definition{Key: "s", Name: "S", Frequency: f, Metrics: []MetricRule{{Metric: "lessons", Min: amt(1)}}}
}

// sim drives one user's state through a sequence of calls and keeps every
// effect, so tests read like a timeline.
type sim struct {
	t   testing.TB
	d   Definition
	s   State
	loc *time.Location
	fx  []Effects
}

func newSim(t testing.TB, d Definition, loc *time.Location) *sim {
	t.Helper()
	require.NoError(t, d.Validate())
	return &sim{t: t, d: d, loc: loc}
}

// act applies one lesson at `at`, received at now.
func (m *sim) act(at, now time.Time) Effects {
	m.t.Helper()
	s, fx, err := Apply(m.d, m.s, Activity{Metric: "lessons", Delta: amt(1), At: at, Loc: m.loc}, now)
	require.NoError(m.t, err)
	m.s = s
	m.fx = append(m.fx, fx)
	return fx
}

// on applies one lesson at now.
func (m *sim) on(now time.Time) Effects { m.t.Helper(); return m.act(now, now) }

func (m *sim) advance(now time.Time) Effects {
	s, fx := Advance(m.d, m.s, now, m.loc)
	m.s = s
	m.fx = append(m.fx, fx)
	return fx
}

func (m *sim) view(now time.Time) Status { return View(m.d, m.s, now, m.loc) }

// kinds lists the notification kinds of all effects so far.
func (m *sim) kinds() []Kind {
	var ks []Kind
	for _, fx := range m.fx {
		for _, n := range fx.Notifications {
			ks = append(ks, n.Kind)
		}
	}
	return ks
}

func (m *sim) count(k Kind) int {
	n := 0
	for _, x := range m.kinds() {
		if x == k {
			n++
		}
	}
	return n
}
func micros(n int64) gamifytype.Amount { return gamifytype.AmountFromMicros(n) }

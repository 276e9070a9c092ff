package achievement

import (
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// t0 is the fixed instant tests start from.
var t0 = time.Date(2026, 3, 8, 1, 30, 0, 0, time.UTC)

func amt(n int64) gamifytype.Amount { return gamifytype.AmountFromInt(n) }

func at(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }

func metricDef(key, metric string, threshold int64) Definition {
	return Definition{Key: key, Name: key, Kind: KindMetric, Status: Active, Metric: metric, Threshold: amt(threshold)}
}

func streakDef(key, streak string, length int) Definition {
	return Definition{Key: key, Name: key, Kind: KindStreak, Status: Active, Streak: streak, Length: length}
}

func manualDef(key string) Definition {
	return Definition{Key: key, Name: key, Kind: KindManual, Status: Active}
}

func compositeDef(key string, prereqs ...string) Definition {
	return Definition{Key: key, Name: key, Kind: KindComposite, Status: Active, Prerequisites: prereqs}
}

func catalog(t testing.TB, defs ...Definition) *Catalog {
	t.Helper()
	c, err := NewCatalog(defs)
	require.NoError(t, err)
	return c
}

// user drives one user's state through events and keeps the total of each
// metric, like the engine does, so tests read like a timeline.
type user struct {
	t      testing.TB
	c      *Catalog
	s      State
	totals map[string]gamifytype.Amount
	attrs  map[string]string
}

func newUser(t testing.TB, c *Catalog) *user {
	return &user{t: t, c: c, totals: map[string]gamifytype.Amount{}, attrs: map[string]string{}}
}

// event applies delta of metric with event attributes kv ("k", "v", ...) at
// now and returns the keys completed.
func (u *user) event(metric string, delta int64, now time.Time, kv ...string) []string {
	u.t.Helper()
	ev := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		ev[kv[i]] = kv[i+1]
	}
	u.totals[metric] = u.totals[metric].Add(amt(delta))
	before := u.s
	enc, err := before.MarshalBinary()
	require.NoError(u.t, err)
	s, done, err := OnMetric(u.c, u.s, MetricChange{Metric: metric, Delta: amt(delta), Total: u.totals[metric], EventAttrs: ev, UserAttrs: u.attrs}, now)
	require.NoError(u.t, err)
	// The transition must not have changed the state passed in.
	again, err := before.MarshalBinary()
	require.NoError(u.t, err)
	require.Equal(u.t, enc, again, "OnMetric modified its input state")
	u.s = roundTrip(u.t, s)
	return keys(u.t, done, now, false)
}

func (u *user) streak(streak string, length int, now time.Time) []string {
	u.t.Helper()
	s, done := OnStreak(u.c, u.s, StreakChange{Streak: streak, Length: length, UserAttrs: u.attrs}, now)
	u.s = roundTrip(u.t, s)
	return keys(u.t, done, now, false)
}

// keys returns the keys of done and checks each completion is dated now,
// has the backdated flag wanted and is recorded in no other way.
func keys(t testing.TB, done []Completion, now time.Time, backdated bool) []string {
	t.Helper()
	var out []string
	for _, c := range done {
		require.True(t, c.At.Equal(now), "completion %s at %v, want %v", c.Key, c.At, now)
		require.Equal(t, backdated, c.Backdated, "completion %s backdated", c.Key)
		out = append(out, c.Key)
	}
	return out
}

// roundTrip encodes and decodes s and checks nothing is lost.
func roundTrip(t testing.TB, s State) State {
	t.Helper()
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	var got State
	require.NoError(t, got.UnmarshalBinary(b))
	require.Equal(t, s.Completions(), got.Completions())
	b2, err := got.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, b, b2)
	return got
}
func micros(n int64) gamifytype.Amount { return gamifytype.AmountFromMicros(n) }

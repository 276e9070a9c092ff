package achievement

import (
	"errors"
	"testing"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// step is one event of a timeline and the completions it must cause.
type step struct {
	metric string
	delta  int64
	kv     []string
	want   []string
}

func runSteps(t *testing.T, u *user, steps []step) {
	t.Helper()
	for i, st := range steps {
		now := at(i)
		got := u.event(st.metric, st.delta, now, st.kv...)
		require.Equal(t, st.want, got, "step %d: OnMetric(%s %+d at %v) completed %v, want %v", i, st.metric, st.delta, now, got, st.want)
	}
}

func TestMetricThreshold(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"reached exactly", []step{{"steps", 4, nil, nil}, {"steps", 1, nil, []string{"five"}}, {"steps", 1, nil, nil}}},
		{"overshot by one event", []step{{"steps", 4, nil, nil}, {"steps", 3, nil, []string{"five"}}}},
		{"first event jumps past", []step{{"steps", 100, nil, []string{"five"}}}},
		{"one below is not enough", []step{{"steps", 4, nil, nil}, {"steps", 0, nil, nil}}},
		{"other metric does not count", []step{{"runs", 10, nil, nil}, {"steps", 4, nil, nil}}},
		// Completion is permanent and happens once: down and up again is nothing new.
		{"down and up again", []step{{"steps", 5, nil, []string{"five"}}, {"steps", -3, nil, nil}, {"steps", 3, nil, nil}}},
		// Level-triggered: reaching the threshold by a negative event still counts.
		{"negative start then up", []step{{"steps", -2, nil, nil}, {"steps", 7, nil, []string{"five"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUser(t, catalog(t, metricDef("five", "steps", 5)))
			runSteps(t, u, tc.steps)
		})
	}
}

func TestCompletionTimeKept(t *testing.T) {
	u := newUser(t, catalog(t, metricDef("five", "steps", 5)))
	require.Equal(t, []string{"five"}, u.event("steps", 5, at(0)))
	require.Nil(t, u.event("steps", 5, at(10)))
	c, ok := u.s.Completed("five")
	require.True(t, ok)
	require.True(t, c.At.Equal(at(0)), "Completed(five).At = %v, want %v", c.At, at(0))
	require.False(t, c.Backdated)
}

func TestTwoAchievementsOneEvent(t *testing.T) {
	c := catalog(t, metricDef("ten", "steps", 10), metricDef("five", "steps", 5), metricDef("hundred", "steps", 100))
	u := newUser(t, c)
	require.ElementsMatch(t, []string{"five", "ten"}, u.event("steps", 12, at(0)))
	require.Equal(t, []string{"hundred"}, u.event("steps", 88, at(1)))
	require.Len(t, u.s.Completions(), 3)
}

func TestCompositeChainOfThree(t *testing.T) {
	// c3 needs c2 needs c1 needs the metric one; listed in reverse on purpose.
	c := catalog(t,
		compositeDef("c3", "c2", "m"),
		compositeDef("c2", "c1"),
		compositeDef("c1", "m"),
		metricDef("m", "steps", 3),
	)
	u := newUser(t, c)
	require.Nil(t, u.event("steps", 2, at(0)))
	require.Equal(t, []string{"m", "c1", "c2", "c3"}, u.event("steps", 1, at(1)), "the chain completes in dependency order in one event")
}

func TestCompositeWaitsForLastPrerequisite(t *testing.T) {
	c := catalog(t, metricDef("m", "steps", 3), streakDef("s", "daily", 7), manualDef("x"), compositeDef("all", "m", "s", "x"))
	u := newUser(t, c)
	require.Equal(t, []string{"m"}, u.event("steps", 3, at(0)))
	require.Equal(t, []string{"s"}, u.streak("daily", 7, at(1)))
	s, res, err := Complete(c, u.s, "x", nil, at(2))
	require.NoError(t, err)
	require.Equal(t, []string{"x", "all"}, keys(t, res.Completions, at(2), false))
	_, ok := s.Completed("all")
	require.True(t, ok)
}

func TestEventFilters(t *testing.T) {
	d := metricDef("ios5", "steps", 5)
	d.EventFilters = map[string]string{"platform": "ios"}
	u := newUser(t, catalog(t, d, metricDef("any5", "steps", 5)))
	runSteps(t, u, []step{
		{"steps", 4, []string{"platform", "android"}, nil},
		{"steps", 2, []string{"platform", "ios"}, []string{"any5"}},    // total 6, filtered sum 2
		{"steps", 2, nil, nil},                                         // no attribute: does not match
		{"steps", 2, []string{"platform", "ios", "hand", "left"}, nil}, // extra attributes are fine: 4
		{"steps", 1, []string{"platform", "ios"}, []string{"ios5"}},
	})
	require.Zero(t, u.s.Sum("ios5"), "the sum is dropped once completed")
}

func TestEventFiltersSumProgress(t *testing.T) {
	d := metricDef("ios5", "steps", 5)
	d.EventFilters = map[string]string{"platform": "ios"}
	u := newUser(t, catalog(t, d))
	u.event("steps", 3, at(0), "platform", "ios")
	u.event("steps", 9, at(1), "platform", "web")
	u.event("steps", -1, at(2), "platform", "ios")
	require.Equal(t, amt(2), u.s.Sum("ios5"))
	p := ProgressOf(d, u.s, Facts{Totals: u.totals})
	require.Equal(t, Progress{Current: amt(2), Target: amt(5)}, p, "progress of a filtered achievement is its own sum, not the total")
}

func TestFilteredSumOverflow(t *testing.T) {
	d := metricDef("f", "v", 5)
	d.EventFilters = map[string]string{"k": "v"}
	c := catalog(t, d)
	s, _, err := OnMetric(c, State{}, MetricChange{Metric: "v", Delta: gamifytype.MaxAmount.Sub(micros(1)), EventAttrs: map[string]string{"k": "v"}}, t0)
	require.NoError(t, err)
	// Crossing the threshold completed it already; use a fresh state with a
	// big negative sum to hit the overflow.
	require.Zero(t, s.Sum("f"))
	s, _, err = OnMetric(c, State{}, MetricChange{Metric: "v", Delta: gamifytype.MaxAmount.Neg(), EventAttrs: map[string]string{"k": "v"}}, t0)
	require.NoError(t, err)
	s2, done, err := OnMetric(c, s, MetricChange{Metric: "v", Delta: micros(-10), EventAttrs: map[string]string{"k": "v"}}, t0)
	require.ErrorIs(t, err, gamifytype.ErrInvalid)
	require.Nil(t, done)
	require.Equal(t, s.Sum("f"), s2.Sum("f"), "state unchanged on error")
}

// TestUserGating: a user without the attribute does not complete; once the
// attribute is gained, the achievement completes at the next event of its
// metric (level-triggered), or by a Backdate run before that.
func TestUserGating(t *testing.T) {
	gated := func() Definition {
		d := metricDef("pro5", "steps", 5)
		d.UserFilters = map[string]string{"plan": "pro"}
		return d
	}
	t.Run("next event", func(t *testing.T) {
		u := newUser(t, catalog(t, gated()))
		u.attrs["plan"] = "free"
		require.Nil(t, u.event("steps", 6, at(0)))
		u.attrs["plan"] = "pro"
		require.Equal(t, []string{"pro5"}, u.event("steps", 0, at(1)))
	})
	t.Run("backdate", func(t *testing.T) {
		c := catalog(t, gated())
		u := newUser(t, c)
		require.Nil(t, u.event("steps", 6, at(0)))
		u.attrs["plan"] = "pro"
		s, done := Backdate(c, u.s, Facts{Totals: u.totals}, u.attrs, at(1))
		require.Equal(t, []string{"pro5"}, keys(t, done, at(1), true))
		u.s = s
		require.Nil(t, u.event("steps", 1, at(2)), "a backdated completion is not repeated")
	})
	t.Run("losing it keeps the completion", func(t *testing.T) {
		u := newUser(t, catalog(t, gated(), compositeDef("pro-all", "pro5")))
		u.attrs["plan"] = "pro"
		require.Equal(t, []string{"pro5", "pro-all"}, u.event("steps", 5, at(0)))
		delete(u.attrs, "plan")
		require.Nil(t, u.event("steps", 5, at(1)))
		require.Len(t, u.s.Completions(), 2)
	})
	t.Run("gated composite", func(t *testing.T) {
		d := compositeDef("both", "a")
		d.UserFilters = map[string]string{"plan": "pro"}
		u := newUser(t, catalog(t, metricDef("a", "steps", 1), d))
		require.Equal(t, []string{"a"}, u.event("steps", 1, at(0)))
		u.attrs["plan"] = "pro"
		require.Equal(t, []string{"both"}, u.event("steps", 1, at(1)), "a composite is evaluated on events of its prerequisites' metrics")
	})
}

func TestStatuses(t *testing.T) {
	locked := metricDef("five", "steps", 5)
	locked.Status = Locked
	inactive := metricDef("ten", "steps", 10)
	inactive.Status = Inactive
	c := catalog(t, locked, inactive, compositeDef("both", "five", "ten"))
	u := newUser(t, c)
	require.Nil(t, u.event("steps", 20, at(0)), "locked and inactive achievements complete for nobody")
	require.False(t, Visible(locked, u.s, nil), "a locked achievement is hidden from non-holders")
	require.False(t, Visible(inactive, u.s, nil))

	// A holder keeps a locked achievement and still sees it.
	locked.Status = Active
	c = catalog(t, locked)
	h := newUser(t, c)
	require.Equal(t, []string{"five"}, h.event("steps", 5, at(1)))
	locked.Status = Locked
	h.c = catalog(t, locked)
	require.Nil(t, h.event("steps", 5, at(2)))
	require.True(t, Visible(locked, h.s, nil))
	_, ok := h.s.Completed("five")
	require.True(t, ok)
}

func TestStreakAchievements(t *testing.T) {
	c := catalog(t, streakDef("week", "daily", 7), streakDef("month", "daily", 30), streakDef("other", "weekly", 2))
	u := newUser(t, c)
	for i, tc := range []struct {
		streak string
		length int
		want   []string
	}{
		{"daily", 6, nil},
		{"daily", 7, []string{"week"}},
		{"daily", 0, nil}, // lost: nothing taken away
		{"daily", 7, nil}, // once per user
		{"weekly", 5, []string{"other"}},
		{"daily", 31, []string{"month"}},
	} {
		got := u.streak(tc.streak, tc.length, at(i))
		require.Equal(t, tc.want, got, "OnStreak(%s, %d) = %v, want %v", tc.streak, tc.length, got, tc.want)
	}
}

func TestCompleteManual(t *testing.T) {
	gated := manualDef("vip")
	gated.UserFilters = map[string]string{"tier": "gold"}
	locked := manualDef("old")
	locked.Status = Locked
	inactive := manualDef("soon")
	inactive.Status = Inactive
	c := catalog(t, manualDef("hello"), metricDef("m", "steps", 1), gated, locked, inactive)

	s, res, err := Complete(c, State{}, "hello", nil, at(0))
	require.NoError(t, err)
	require.False(t, res.AlreadyCompleted)
	require.True(t, res.Completion.At.Equal(at(0)))
	require.Equal(t, []string{"hello"}, keys(t, res.Completions, at(0), false))

	s2, res, err := Complete(c, s, "hello", nil, at(5))
	require.NoError(t, err)
	require.True(t, res.AlreadyCompleted)
	require.True(t, res.Completion.At.Equal(at(0)), "a repeat returns the original time, got %v", res.Completion.At)
	require.Empty(t, res.Completions)
	require.Equal(t, s, s2, "a repeat changes nothing")

	for _, tc := range []struct {
		key   string
		attrs map[string]string
		want  error
	}{
		{"m", nil, ErrNotManual},
		{"soon", nil, ErrInactive},
		{"old", nil, ErrLocked},
		{"vip", nil, ErrGated},
		{"vip", map[string]string{"tier": "silver"}, ErrGated},
		{"nope", nil, gamifytype.ErrNotFound},
	} {
		got, _, err := Complete(c, s, tc.key, tc.attrs, at(1))
		require.ErrorIs(t, err, tc.want, "Complete(%s) = %v, want %v", tc.key, err, tc.want)
		require.Equal(t, s, got, "Complete(%s) changed the state on error", tc.key)
	}
	require.ErrorIs(t, ErrNotManual, gamifytype.ErrInvalid)
	require.True(t, errors.Is(ErrLocked, gamifytype.ErrConflict))

	_, res, err = Complete(c, s, "vip", map[string]string{"tier": "gold"}, at(2))
	require.NoError(t, err)
	require.Equal(t, "vip", res.Completion.Key)
}

func TestBackdate(t *testing.T) {
	// Activation: the threshold is already met by the totals; the composite
	// over it completes in the same run, every completion flagged backdated.
	m := metricDef("m", "steps", 10)
	m.Status = Inactive
	f := metricDef("f", "steps", 3)
	f.EventFilters = map[string]string{"k": "v"}
	f.Status = Inactive
	st := streakDef("s", "daily", 5)
	c := catalog(t, m, f, st, compositeDef("mf", "m", "f"), manualDef("x"))
	u := newUser(t, c)
	require.Nil(t, u.event("steps", 8, at(0), "k", "v"), "inactive achievements do not complete")
	require.Equal(t, amt(8), u.s.Sum("f"), "sums accrue while inactive, for backdating")
	require.Nil(t, u.event("steps", 4, at(1)))

	m.Status, f.Status = Active, Active
	c = catalog(t, m, f, st, compositeDef("mf", "m", "f"), manualDef("x"))
	facts := Facts{Totals: u.totals, Streaks: map[string]int{"daily": 4}}
	s, done := Backdate(c, u.s, facts, nil, at(2))
	require.Equal(t, []string{"m", "f", "mf"}, keys(t, done, at(2), true))
	got, ok := s.Completed("mf")
	require.True(t, ok)
	require.True(t, got.Backdated)

	// A second run completes nothing: at most once.
	s2, done := Backdate(c, s, facts, nil, at(3))
	require.Empty(t, done)
	require.Equal(t, s, s2)

	// Lowering a threshold.
	st.Length = 4
	c = catalog(t, m, f, st, compositeDef("mf", "m", "f"), manualDef("x"))
	_, done = Backdate(c, s, facts, nil, at(4))
	require.Equal(t, []string{"s"}, keys(t, done, at(4), true))
}

func TestQualifies(t *testing.T) {
	s := State{}.complete("a", t0, false)
	facts := Facts{Totals: map[string]gamifytype.Amount{"steps": amt(10)}, Streaks: map[string]int{"d": 3}}
	gated := metricDef("g", "steps", 1)
	gated.UserFilters = map[string]string{"x": "y"}
	locked := metricDef("l", "steps", 1)
	locked.Status = Locked
	for _, tc := range []struct {
		d    Definition
		want bool
	}{
		{metricDef("m", "steps", 10), true},
		{metricDef("m", "steps", 11), false},
		{metricDef("m", "other", 1), false},
		{metricDef("a", "steps", 1), false}, // already held
		{streakDef("s", "d", 3), true},
		{streakDef("s", "d", 4), false},
		{compositeDef("c", "a"), true},
		{compositeDef("c", "a", "b"), false},
		{manualDef("x"), false},
		{gated, false},
		{locked, false},
	} {
		got := Qualifies(tc.d, s, facts, nil)
		require.Equal(t, tc.want, got, "Qualifies(%s %s) = %v, want %v", tc.d.Kind, tc.d.Key, got, tc.want)
	}
}

func TestProgressOf(t *testing.T) {
	s := State{}.complete("a", t0, false)
	facts := Facts{Totals: map[string]gamifytype.Amount{"steps": amt(7), "neg": amt(-3)}, Streaks: map[string]int{"d": 3}}
	for _, tc := range []struct {
		d    Definition
		want Progress
	}{
		{metricDef("m", "steps", 10), Progress{amt(7), amt(10), false}},
		{metricDef("m", "steps", 5), Progress{amt(5), amt(5), false}}, // clamped (e.g. gated)
		{metricDef("m", "neg", 5), Progress{gamifytype.Amount{}, amt(5), false}},
		{metricDef("a", "neg", 5), Progress{amt(5), amt(5), true}}, // completed, total went down
		{streakDef("s", "d", 7), Progress{amt(3), amt(7), false}},
		{compositeDef("c", "a", "b", "x"), Progress{amt(1), amt(3), false}},
		{manualDef("x"), Progress{gamifytype.Amount{}, amt(1), false}},
		{manualDef("a"), Progress{amt(1), amt(1), true}},
	} {
		got := ProgressOf(tc.d, s, facts)
		require.Equal(t, tc.want, got, "ProgressOf(%s %s) = %+v, want %+v", tc.d.Kind, tc.d.Key, got, tc.want)
	}
}

func TestVisible(t *testing.T) {
	holder := State{}.complete("a", t0, false)
	gated := metricDef("a", "steps", 1)
	gated.UserFilters = map[string]string{"plan": "pro"}
	for _, tc := range []struct {
		status Status
		s      State
		attrs  map[string]string
		want   bool
	}{
		{Active, State{}, map[string]string{"plan": "pro"}, true},
		{Active, State{}, nil, false},
		{Active, holder, nil, true},
		{Locked, State{}, map[string]string{"plan": "pro"}, false},
		{Locked, holder, nil, true},
		{Inactive, holder, map[string]string{"plan": "pro"}, false},
	} {
		d := gated
		d.Status = tc.status
		got := Visible(d, tc.s, tc.attrs)
		require.Equal(t, tc.want, got, "Visible(%s, holder=%v, %v) = %v, want %v", tc.status, tc.s.has("a"), tc.attrs, got, tc.want)
	}
}

func TestRarityPercent(t *testing.T) {
	for _, tc := range []struct {
		holders, users int
		want           float64
	}{{0, 0, 0}, {3, 0, 0}, {1, 4, 25}, {4, 4, 100}, {5, 4, 100}, {-1, 4, 0}, {1, 3, 100.0 / 3}} {
		got := RarityPercent(tc.holders, tc.users)
		require.InDelta(t, tc.want, got, 1e-9, "RarityPercent(%d, %d) = %v, want %v", tc.holders, tc.users, got, tc.want)
	}
}

func TestNeedsBackdate(t *testing.T) {
	base := metricDef("m", "steps", 10)
	change := func(f func(d *Definition)) Definition {
		d := base.clone()
		f(&d)
		return d
	}
	for _, tc := range []struct {
		name     string
		old, new Definition
		want     bool
	}{
		{"no change", base, base, false},
		{"presentation only", base, change(func(d *Definition) { d.Name, d.Order, d.Rarity = "x", 3, Epic }), false},
		{"raised threshold", base, change(func(d *Definition) { d.Threshold = amt(11) }), false},
		{"lowered threshold", base, change(func(d *Definition) { d.Threshold = amt(9) }), true},
		{"activated", change(func(d *Definition) { d.Status = Inactive }), base, true},
		{"unlocked", change(func(d *Definition) { d.Status = Locked }), base, true},
		{"locked", base, change(func(d *Definition) { d.Status = Locked }), false},
		{"lowered while inactive", change(func(d *Definition) { d.Status = Inactive }), change(func(d *Definition) { d.Status, d.Threshold = Inactive, micros(1) }), false},
		{"user filter dropped", change(func(d *Definition) { d.UserFilters = map[string]string{"a": "b"} }), base, true},
		{"event filter changed", base, change(func(d *Definition) { d.EventFilters = map[string]string{"a": "b"} }), true},
		{"shorter streak", streakDef("s", "d", 5), streakDef("s", "d", 4), true},
		{"longer streak", streakDef("s", "d", 5), streakDef("s", "d", 6), false},
		{"prerequisite dropped", compositeDef("c", "a", "b"), compositeDef("c", "a"), true},
	} {
		got := NeedsBackdate(tc.old, tc.new)
		require.Equal(t, tc.want, got, "NeedsBackdate(%s) = %v, want %v", tc.name, got, tc.want)
	}
}

package points

import (
	"errors"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/streak"
	"github.com/stretchr/testify/require"
)

func TestMetricCrossingSeveralMultiplesIsOneAward(t *testing.T) {
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("steps", "steps", "100", "5")}}
	s, fx, err := OnMetric(r, State{}, User{ID: "u"}, MetricChange{Metric: "steps", Delta: pts("350"), At: t0})
	require.NoError(t, err)
	require.Len(t, fx.Awards, 1)
	a := fx.Awards[0]
	require.Equal(t, int64(3), a.Multiple, "Multiple = %v, want 3", a.Multiple)
	require.Equal(t, pts("15"), a.Points, "Points = %v, want 15", a.Points)
	require.Equal(t, pts("15"), s.Total())
	require.Equal(t, pts("15"), fx.Total)
	require.Equal(t, pts("15"), fx.Added)
	// 350 + 49 = 399: no new multiple; + 1 = 400: one.
	_, got := track(t, r, s, User{ID: "u"}, "steps", "49", "1")
	require.Equal(t, []Amount{pts("5")}, got)
}

func TestMetricDownThenUpDoesNotReaward(t *testing.T) {
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("t", "m", "10", "1")}}
	for _, c := range []struct {
		deltas []string
		want   string
	}{
		{[]string{"10", "-10", "10"}, "1"},
		{[]string{"25", "-20", "15", "10"}, "3"},    // 25 → 5 → 20 → 30: multiples 2, then 3
		{[]string{"-30", "35"}, "0"},                // -30 → 5: never reaches 10
		{[]string{"-30", "45", "-1", "1"}, "1"},     // 15 → 14 → 15
		{[]string{"9.999999", "0.000001"}, "1"},     // exact fixed point
		{[]string{"100", "-100", "50", "50"}, "10"}, // back to 100: nothing new
	} {
		s, _ := track(t, r, State{}, User{ID: "u"}, "m", c.deltas...)
		require.Equal(t, pts(c.want), s.Total(), "OnMetric(%v) total = %v, want %v", c.deltas, s.Total(), c.want)
	}
}

func TestMetricFilters(t *testing.T) {
	tr := metricTrigger("ios", "m", "1", "1")
	tr.EventFilters = map[string]string{"platform": "ios"}
	tr.UserFilters = map[string]string{"plan": "pro"}
	other := metricTrigger("other-metric", "n", "1", "100")
	r := Rules{System: xp(), Triggers: []Trigger{tr, other}}
	pro := User{ID: "u", Attrs: map[string]string{"plan": "pro"}}
	for _, c := range []struct {
		name  string
		u     User
		attrs map[string]string
		want  string
	}{
		{"matching", pro, map[string]string{"platform": "ios", "x": "y"}, "1"},
		{"other event attribute value", pro, map[string]string{"platform": "android"}, "0"},
		{"event attribute missing", pro, nil, "0"},
		{"user gated out", User{ID: "u", Attrs: map[string]string{"plan": "free"}}, map[string]string{"platform": "ios"}, "0"},
	} {
		s, _, err := OnMetric(r, State{}, c.u, MetricChange{Metric: "m", Delta: pts("1"), Attrs: c.attrs, At: t0})
		require.NoError(t, err)
		require.Equal(t, pts(c.want), s.Total(), "%s: total = %v, want %v", c.name, s.Total(), c.want)
	}
	// Non-matching events do not count toward the running sum either.
	tr.Threshold = pts("2")
	r.Triggers = []Trigger{tr}
	s := State{}
	for _, p := range []string{"ios", "android", "ios"} {
		var err error
		s, _, err = OnMetric(r, s, pro, MetricChange{Metric: "m", Delta: pts("1"), Attrs: map[string]string{"platform": p}, At: t0})
		require.NoError(t, err)
	}
	require.Equal(t, pts("1"), s.Total())
	require.Equal(t, pts("2"), s.get("ios").sum)
}

func TestInactiveTriggerAndOtherSystemIgnored(t *testing.T) {
	off := metricTrigger("off", "m", "1", "1")
	off.Active = false
	coins := metricTrigger("coins", "m", "1", "7")
	coins.System = "coins"
	r := Rules{System: xp(), Triggers: []Trigger{off, coins}}
	s, fx, err := OnMetric(r, State{}, User{}, MetricChange{Metric: "m", Delta: pts("5"), At: t0})
	require.NoError(t, err)
	require.False(t, fx.Changed())
	require.Equal(t, Amount{}, s.Total())
}

// TestTriggerOffJudgedAtTheChangesTime: with Off, a trigger's status is
// the one at the change's time, whatever Active says now.
func TestTriggerOffJudgedAtTheChangesTime(t *testing.T) {
	tr := metricTrigger("t", "m", "1", "1")
	tr.Active = false
	tr.Off = []gamifytype.Interval{{From: t0.Add(-2 * time.Hour), To: t0.Add(-time.Hour)}, {From: t0}}
	require.NoError(t, tr.Validate())
	r := Rules{System: xp(), Triggers: []Trigger{tr}}
	for _, c := range []struct {
		at   time.Time
		pays bool
	}{
		{t0.Add(-3 * time.Hour), true}, {t0.Add(-90 * time.Minute), false}, {t0.Add(-time.Hour), true},
		{t0.Add(-time.Minute), true}, {t0, false}, {t0.Add(time.Hour), false},
	} {
		s, fx, err := OnMetric(r, State{}, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: c.at})
		require.NoError(t, err)
		require.Equal(t, c.pays, fx.Changed(), "change at %v", c.at)
		require.Equal(t, c.pays, !s.get("t").sum.IsZero(), "running sum after a change at %v", c.at)
	}
	s, fx, err := OnAchievement(Rules{System: xp(), Triggers: []Trigger{{Key: "a", System: "xp", Kind: KindAchievement,
		Achievement: "first", Points: pts("5"), Off: tr.Off}}}, State{}, User{}, "first", t0.Add(-90*time.Minute))
	require.NoError(t, err)
	require.False(t, fx.Changed(), "a completion dated while the trigger was inactive")
	require.True(t, s.Total().IsZero())
}

func TestBoostOffJudgedAtTheChangesTime(t *testing.T) {
	b := globalBoost("two", "2", RoundDown)
	b.Off = []gamifytype.Interval{{From: t0.Add(-time.Hour), To: t0}}
	require.NoError(t, b.Validate())
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("t", "m", "1", "10")}, Boosts: []Boost{b}}
	for at, want := range map[time.Duration]string{-2 * time.Hour: "20", -30 * time.Minute: "10", 0: "20"} {
		_, fx, err := OnMetric(r, State{}, User{ID: "u"}, MetricChange{Metric: "m", Delta: pts("1"), At: t0.Add(at)})
		require.NoError(t, err)
		require.Equal(t, pts(want), fx.Awards[0].Points, "award at t0%+v", at)
	}
	b.Off = append(b.Off, gamifytype.Interval{From: t0.Add(-3 * time.Hour)})
	var v *gamifytype.ValidationError
	require.ErrorAs(t, b.Validate(), &v)
	require.Equal(t, "Boost.Off[1]", v.Field)
}

func TestTriggerOffValidated(t *testing.T) {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	for name, c := range map[string]struct {
		off    []gamifytype.Interval
		active bool
	}{
		"empty closed interval":  {[]gamifytype.Interval{{From: at(1), To: at(1)}}, true},
		"overlapping intervals":  {[]gamifytype.Interval{{From: at(1), To: at(3)}, {From: at(2), To: at(4)}}, true},
		"open interval not last": {[]gamifytype.Interval{{From: at(1)}, {From: at(2), To: at(3)}}, true},
		"active but open":        {[]gamifytype.Interval{{From: at(1)}}, true},
		"inactive but closed":    {[]gamifytype.Interval{{From: at(1), To: at(2)}}, false},
	} {
		tr := metricTrigger("t", "m", "1", "1")
		tr.Off, tr.Active = c.off, c.active
		var v *gamifytype.ValidationError
		require.ErrorAs(t, tr.Validate(), &v, name)
		require.Contains(t, v.Field, "Trigger.Off", name)
	}
}

func TestBoostsStackMultiplicatively(t *testing.T) {
	r := Rules{
		System:   xp(),
		Triggers: []Trigger{metricTrigger("up", "m", "1", "10"), metricTrigger("down", "n", "1", "-10")},
		Boosts: []Boost{
			globalBoost("two", "2", RoundDown),
			globalBoost("one-and-a-half", "1.5", RoundDown),
			globalBoost("three", "3", RoundDown),
			{Key: "other-system", System: "coins", Scope: Global, From: Date{2026, 1, 1}, Multiplier: pts("50")},
		},
	}
	s, fx, err := OnMetric(r, State{}, User{ID: "u"}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Equal(t, pts("90"), fx.Awards[0].Points, "boosted award = %v, want 90 (10 × 2 × 1.5 × 3)", fx.Awards[0].Points)
	require.Len(t, fx.Awards[0].Boosts, 3)
	require.Equal(t, pts("10"), fx.Awards[0].Base)
	s, fx, err = OnMetric(r, s, User{ID: "u"}, MetricChange{Metric: "n", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Equal(t, pts("-10"), fx.Awards[0].Points, "negative award = %v, want -10 (not boosted)", fx.Awards[0].Points)
	require.Empty(t, fx.Awards[0].Boosts)
	require.Equal(t, pts("80"), s.Total())
}

func TestRoundingModes(t *testing.T) {
	// 7 × 1.1 = 7.7; 5 × 1.1 = 5.5 (a half); 10 × 1.1 = 11 (exact).
	for _, c := range []struct {
		modes        []Rounding
		base         string
		want, wantTo string
	}{
		{[]Rounding{RoundDown}, "7", "7", "down"},
		{[]Rounding{RoundUp}, "7", "8", "up"},
		{[]Rounding{RoundNearest}, "7", "8", "nearest"},
		{[]Rounding{RoundNearest}, "5", "6", "nearest"}, // half up
		{[]Rounding{RoundNearest}, "7.2", "8", "nearest"},
		{[]Rounding{RoundUp}, "10", "11", "up"},        // exact products are not moved
		{[]Rounding{RoundDown}, "0.5", "0", "down"},    // rounds to nothing
		{[]Rounding{RoundUp, RoundUp}, "7", "9", "up"}, // 7 × 1.21 = 8.47
		{[]Rounding{RoundNearest, RoundNearest}, "7", "8", "nearest"},
		{[]Rounding{RoundUp, RoundNearest}, "7", "8", "down"}, // modes differ: down
		{[]Rounding{RoundUp, RoundDown}, "7", "8", "down"},
	} {
		r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("t", "m", "1", c.base)}}
		for i, m := range c.modes {
			r.Boosts = append(r.Boosts, globalBoost(string(rune('a'+i)), "1.1", m))
		}
		_, fx, err := OnMetric(r, State{}, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
		require.NoError(t, err)
		var got Amount
		var mode string
		if len(fx.Awards) > 0 {
			got, mode = fx.Awards[0].Points, fx.Awards[0].Rounding.String()
		}
		require.Equal(t, pts(c.want), got, "%v × 1.1^%d with %v = %v, want %v", c.base, len(c.modes), c.modes, got, c.want)
		if len(fx.Awards) > 0 {
			require.Equal(t, c.wantTo, mode)
		}
	}
}

func TestUnboostedAwardsAreExact(t *testing.T) {
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("t", "m", "1", "0.25")}}
	s, _ := track(t, r, State{}, User{}, "m", "3")
	require.Equal(t, pts("0.75"), s.Total())
}

func TestBoostWindowAtLocalDateBoundaries(t *testing.T) {
	ny, tokyo := mustLoc(t, "America/New_York"), mustLoc(t, "Asia/Tokyo")
	b := Boost{Key: "weekend", System: "xp", Scope: Global, From: Date{2026, 3, 7}, To: Date{2026, 3, 8}, Multiplier: pts("2")}
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("t", "m", "1", "10")}, Boosts: []Boost{b}}
	for _, c := range []struct {
		at   time.Time
		loc  *time.Location
		want Status
	}{
		// New York: 2026-03-07 00:00 EST is 05:00Z; 2026-03-09 00:00 EDT (after the DST switch on the 8th) is 04:00Z.
		{time.Date(2026, 3, 7, 4, 59, 59, 0, time.UTC), ny, Scheduled},
		{time.Date(2026, 3, 7, 5, 0, 0, 0, time.UTC), ny, Active},
		{time.Date(2026, 3, 9, 3, 59, 59, 0, time.UTC), ny, Active},
		{time.Date(2026, 3, 9, 4, 0, 0, 0, time.UTC), ny, Finished},
		// Tokyo: 2026-03-07 00:00 JST is 03-06 15:00Z; 2026-03-09 00:00 JST is 03-08 15:00Z.
		{time.Date(2026, 3, 6, 14, 59, 59, 0, time.UTC), tokyo, Scheduled},
		{time.Date(2026, 3, 6, 15, 0, 0, 0, time.UTC), tokyo, Active},
		{time.Date(2026, 3, 8, 14, 59, 59, 0, time.UTC), tokyo, Active},
		{time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC), tokyo, Finished},
		{time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC), ny, Active}, // the same instant in New York
	} {
		got := b.StatusAt(c.at, c.loc)
		require.Equal(t, c.want, got, "StatusAt(%v, %v) = %v, want %v", c.at, c.loc, got, c.want)
		_, fx, err := OnMetric(r, State{}, User{Loc: c.loc}, MetricChange{Metric: "m", Delta: pts("1"), At: c.at})
		require.NoError(t, err)
		want := pts("10")
		if c.want == Active {
			want = pts("20")
		}
		require.Equal(t, want, fx.Awards[0].Points, "award at %v in %v = %v, want %v", c.at, c.loc, fx.Awards[0].Points, want)
	}
}

func TestBoostScopes(t *testing.T) {
	cohort := Boost{Key: "vip", System: "xp", Scope: Cohort, UserFilters: map[string]string{"tier": "vip"}, From: Date{2026, 1, 1}, Multiplier: pts("2")}
	mine := Boost{Key: "mine", System: "xp", Scope: PerUser, User: "alice", Start: t0.Add(-time.Hour), End: t0.Add(time.Hour), Multiplier: pts("3")}
	boosts := []Boost{cohort, mine}
	alice := User{ID: "alice", Attrs: map[string]string{"tier": "vip"}}
	for _, c := range []struct {
		u    User
		at   time.Time
		want []string
	}{
		{alice, t0, []string{"vip", "mine"}},
		{alice, t0.Add(time.Hour), []string{"vip"}}, // End is exclusive
		{alice, t0.Add(-time.Hour - 1), []string{"vip"}},
		{User{ID: "bob", Attrs: map[string]string{"tier": "vip"}}, t0, []string{"vip"}},
		{User{ID: "alice"}, t0, []string{"mine"}},
	} {
		var got []string
		for _, b := range EligibleBoosts(boosts, "xp", c.u, c.at) {
			got = append(got, b.Key)
		}
		require.Equal(t, c.want, got, "EligibleBoosts(%v, %v) = %v, want %v", c.u.ID, c.at, got, c.want)
	}
	require.Empty(t, EligibleBoosts(boosts, "coins", alice, t0))
}

func TestGlobalBoostsListing(t *testing.T) {
	past := globalBoost("past", "2", RoundDown)
	past.To = Date{2026, 2, 1}
	now := globalBoost("now", "2", RoundDown)
	later := globalBoost("later", "2", RoundDown)
	later.From = Date{2026, 4, 1}
	cohort := Boost{Key: "c", System: "xp", Scope: Cohort, UserFilters: map[string]string{"a": "b"}, From: Date{2026, 1, 1}, Multiplier: pts("2")}
	all := []Boost{past, now, later, cohort}
	keys := func(bs []Boost) (k []string) {
		for _, b := range bs {
			k = append(k, b.Key)
		}
		return k
	}
	require.Equal(t, []string{"now", "later"}, keys(GlobalBoosts(all, "xp", t0, nil, false)))
	require.Equal(t, []string{"past", "now", "later"}, keys(GlobalBoosts(all, "xp", t0, nil, true)))
	require.Equal(t, Finished, past.StatusAt(t0, nil))
	require.Equal(t, Scheduled, later.StatusAt(t0, nil))
}

func TestMaxPointsCap(t *testing.T) {
	sys := xp()
	sys.MaxPoints = pts("25")
	r := Rules{System: sys, Triggers: []Trigger{metricTrigger("t", "m", "1", "10"), metricTrigger("neg", "n", "1", "-7")}}
	u := User{}
	s, got := track(t, r, State{}, u, "m", "1", "1", "1", "1")
	require.Equal(t, []Amount{pts("10"), pts("10"), pts("5")}, got, "awards = %v, want 10 10 5 then nothing", got)
	require.Equal(t, pts("25"), s.Total())
	_, fx, err := OnMetric(r, State{}, u, MetricChange{Metric: "m", Delta: pts("3"), At: t0})
	require.NoError(t, err)
	require.True(t, fx.Awards[0].Capped)
	require.Equal(t, pts("30"), fx.Awards[0].Base)
	require.Equal(t, pts("25"), fx.Awards[0].Points)
	// A negative award applies in full at the cap; a later positive one refills to the cap exactly.
	s, got = track(t, r, s, u, "n", "1")
	require.Equal(t, []Amount{pts("-7")}, got)
	s, got = track(t, r, s, u, "m", "1")
	require.Equal(t, []Amount{pts("7")}, got)
	require.Equal(t, pts("25"), s.Total())
	// Manual awards are capped too.
	s, fx, err = Award(r, s, pts("1"), "gift")
	require.NoError(t, err)
	require.Empty(t, fx.Awards)
	require.Equal(t, pts("25"), s.Total())
}

func levels() []Level {
	return []Level{
		{Key: "silver", Name: "Silver", Threshold: pts("100"), Multiplier: pts("1.5")},
		{Key: "bronze", Name: "Bronze", Threshold: pts("0")},
		{Key: "gold", Name: "Gold", Threshold: pts("500"), Multiplier: pts("2")},
	}
}

func TestLevelFor(t *testing.T) {
	ls := levels()
	for _, c := range []struct {
		total      string
		want, next string
		remaining  string
	}{
		{"-1", "", "bronze", "1"},
		{"0", "bronze", "silver", "100"},
		{"99.5", "bronze", "silver", "0.5"},
		{"100", "silver", "gold", "400"},
		{"499", "silver", "gold", "1"},
		{"500", "gold", "", "0"},
		{"10000", "gold", "", "0"},
	} {
		l, _ := LevelFor(ls, pts(c.total))
		require.Equal(t, c.want, l.Key, "LevelFor(%v) = %v, want %v", c.total, l.Key, c.want)
		n, req, rem, ok := NextLevel(ls, pts(c.total))
		require.Equal(t, c.next, n.Key, "NextLevel(%v) = %v, want %v", c.total, n.Key, c.next)
		require.Equal(t, c.next != "", ok)
		require.Equal(t, pts(c.remaining), rem, "NextLevel(%v) remaining = %v, want %v", c.total, rem, c.remaining)
		require.Equal(t, n.Threshold, req)
	}
}

func TestLevelPromotionAndDemotion(t *testing.T) {
	r := Rules{System: xp(), Levels: []Level{
		{Key: "bronze", Name: "Bronze", Threshold: pts("0")},
		{Key: "silver", Name: "Silver", Threshold: pts("100")},
		{Key: "gold", Name: "Gold", Threshold: pts("500")},
	}, Triggers: []Trigger{metricTrigger("t", "m", "1", "1"), metricTrigger("neg", "n", "1", "-1")}}
	u := User{}
	step := func(s State, m, d string) (State, Effects) {
		s, fx, err := OnMetric(r, s, u, MetricChange{Metric: m, Delta: pts(d), At: t0})
		require.NoError(t, err)
		return s, fx
	}
	s, fx := step(State{}, "m", "50")
	require.Equal(t, &LevelChange{From: "", To: "bronze", Promotion: true}, fx.Level)
	s, fx = step(s, "m", "40")
	require.Nil(t, fx.Level, "no level change within bronze")
	s, fx = step(s, "m", "600") // skips silver
	require.Equal(t, &LevelChange{From: "bronze", To: "gold", Promotion: true}, fx.Level)
	s, fx = step(s, "n", "200")
	require.Equal(t, &LevelChange{From: "gold", To: "silver", Promotion: false}, fx.Level)
	key, pinned := s.LevelKey()
	require.Equal(t, "silver", key)
	require.False(t, pinned)
	s, fx = step(s, "n", "600")
	require.Equal(t, &LevelChange{From: "silver", To: "", Promotion: false}, fx.Level)
	require.Equal(t, pts("-110"), s.Total())
}

func TestPinnedLevelDoesNotMove(t *testing.T) {
	r := Rules{System: xp(), Levels: levels(), Triggers: []Trigger{metricTrigger("t", "m", "1", "1")}}
	s, _ := track(t, r, State{}, User{}, "m", "10")
	s, fx, err := PinLevel(r.Levels, s, "gold")
	require.NoError(t, err)
	require.Equal(t, &LevelChange{From: "bronze", To: "gold", Promotion: true, Pinned: true}, fx.Level)
	_, _, err = PinLevel(r.Levels, s, "platinum")
	require.ErrorIs(t, err, gamifytype.ErrNotFound)
	s, fx, err = OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: pts("200"), At: t0})
	require.NoError(t, err)
	require.Nil(t, fx.Level)
	require.Equal(t, pts("400"), fx.Added, "gold multiplier 2 applies while pinned: %v", fx.Added)
	key, pinned := s.LevelKey()
	require.Equal(t, "gold", key)
	require.True(t, pinned)
	s, fx = UnpinLevel(r.Levels, s)
	require.Equal(t, &LevelChange{From: "gold", To: "silver", Promotion: false, Pinned: true}, fx.Level)
	key, pinned = s.LevelKey()
	require.Equal(t, "silver", key)
	require.False(t, pinned)
}

func TestLevelMultiplierCombinesWithBoost(t *testing.T) {
	r := Rules{System: xp(), Levels: levels(), Triggers: []Trigger{metricTrigger("t", "m", "1", "7")},
		Boosts: []Boost{globalBoost("b", "2", RoundUp)}}
	s, _, err := Award(r, State{}, pts("100"), "seed") // silver: ×1.5
	require.NoError(t, err)
	_, fx, err := OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	a := fx.Awards[0]
	require.Equal(t, pts("21"), a.Points, "7 × 2 × 1.5 = %v, want 21", a.Points)
	require.Equal(t, []AppliedBoost{{Key: "b", Multiplier: pts("2")}, {Level: "silver", Multiplier: pts("1.5")}}, a.Boosts)
	// 7 × 1.5 = 10.5 with the level alone rounds down; the boost's mode joins
	// the level multiplier, which has none: 7 × 1.1 × 1.5 = 11.55 rounds up.
	r.Boosts = nil
	_, fx, err = OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Equal(t, pts("10"), fx.Awards[0].Points)
	r.Boosts = []Boost{globalBoost("b", "1.1", RoundUp)}
	_, fx, err = OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Equal(t, pts("12"), fx.Awards[0].Points)
}

func TestBlockIfOutOfPointsRejectsWholeEvent(t *testing.T) {
	gain := metricTrigger("gain", "m", "1", "3")
	cost := metricTrigger("cost", "m", "1", "-5")
	cost.BlockIfOutOfPoints = true
	r := Rules{System: xp(), Triggers: []Trigger{gain, cost}}
	s, _, err := Award(r, State{}, pts("4"), "seed")
	require.NoError(t, err)
	// +3 then −5 on 4 available: 7 − 5 = 2 ≥ 0, accepted.
	s2, fx, err := OnMetric(r, s, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Equal(t, pts("-2"), fx.Added)
	require.Equal(t, pts("2"), s2.Available())
	// Now 2 available: +3 −5 = 0, accepted; then 0: +3 −5 < 0, rejected.
	s3, _, err := OnMetric(r, s2, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Equal(t, Amount{}, s3.Available())
	s4, fx, err := OnMetric(r, s3, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.ErrorIs(t, err, gamifytype.ErrInsufficientPoints)
	require.Equal(t, s3, s4, "state unchanged on rejection")
	require.False(t, fx.Changed())
	// The rejected event moved no running sum: the same event after a top-up awards once more.
	s5, _, err := Award(r, s4, pts("10"), "top-up")
	require.NoError(t, err)
	s6, fx, err := OnMetric(r, s5, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Len(t, fx.Awards, 2)
	require.Equal(t, int64(3), s6.get("cost").n)
	// Without the flag the total goes negative.
	cost.BlockIfOutOfPoints = false
	r.Triggers = []Trigger{cost}
	s7, _, err := OnMetric(r, State{}, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Equal(t, pts("-5"), s7.Total())
}

func TestAwardAndSpend(t *testing.T) {
	r := Rules{System: xp(), Levels: levels(), Boosts: []Boost{globalBoost("b", "2", RoundDown)}}
	s, fx, err := Award(r, State{}, pts("150"), "welcome")
	require.NoError(t, err)
	require.Equal(t, pts("150"), fx.Awards[0].Points, "manual awards are not boosted")
	require.Equal(t, "welcome", fx.Awards[0].Reason)
	require.Equal(t, "silver", fx.Level.To)
	s, fx, err = Spend(s, pts("100"))
	require.NoError(t, err)
	require.Equal(t, pts("100"), fx.Spent)
	require.Nil(t, fx.Level, "spending does not move the level")
	require.Equal(t, pts("150"), s.Total())
	require.Equal(t, pts("50"), s.Available())
	s2, _, err := Spend(s, pts("50.000001"))
	require.ErrorIs(t, err, gamifytype.ErrInsufficientPoints)
	require.Equal(t, s, s2)
	for _, bad := range []Amount{{}, micros(-1)} {
		_, _, err = Spend(s, bad)
		require.ErrorIs(t, err, gamifytype.ErrInvalid)
		_, _, err = Award(r, s, bad, "")
		require.ErrorIs(t, err, gamifytype.ErrInvalid)
	}
}

func TestTakeBack(t *testing.T) {
	r := Rules{System: xp(), Levels: levels(), Boosts: []Boost{globalBoost("b", "2", RoundDown)}}
	s, _, err := Award(r, State{}, pts("150"), "milestone")
	require.NoError(t, err)
	s, _, err = Spend(s, pts("120"))
	require.NoError(t, err)
	s, fx, err := TakeBack(r, s, pts("100"), "milestone taken back")
	require.NoError(t, err)
	require.Equal(t, pts("-100"), fx.Added, "no boost applies")
	require.Equal(t, pts("-100"), fx.Awards[0].Points)
	require.Equal(t, "milestone taken back", fx.Awards[0].Reason)
	require.Equal(t, pts("50"), s.Total())
	require.Equal(t, pts("-70"), s.Available(), "the spent points stay spent")
	require.NotNil(t, fx.Level, "the level follows the total down")
	require.False(t, fx.Level.Promotion)
	for _, bad := range []Amount{{}, micros(-1)} {
		s2, _, err := TakeBack(r, s, bad, "")
		require.ErrorIs(t, err, gamifytype.ErrInvalid)
		require.Equal(t, s, s2)
	}
}

func TestTakeBackStreak(t *testing.T) {
	r := Rules{System: xp(), Boosts: []Boost{globalBoost("b", "2", RoundDown)}}
	s, _, err := Award(r, State{}, pts("60"), "")
	require.NoError(t, err)
	s, fx, err := TakeBackStreak(r, s, "daily", 2, pts("40"))
	require.NoError(t, err)
	require.Equal(t, []AwardRecord{{Trigger: "daily", Kind: KindStreak, Base: pts("-40"), Multiple: -2, Points: pts("-40"), Total: pts("20")}}, fx.Awards,
		"in the trigger's name, no boost")
	require.Equal(t, pts("20"), s.Total())
	for _, c := range []struct {
		n   int64
		amt Amount
	}{{0, pts("1")}, {-1, pts("1")}, {1, Amount{}}, {1, micros(-1)}} {
		s2, _, err := TakeBackStreak(r, s, "daily", c.n, c.amt)
		require.ErrorIs(t, err, gamifytype.ErrInvalid, "%d %v", c.n, c.amt)
		require.Equal(t, s, s2)
	}
}

func TestAchievementAndUserCreatedOnce(t *testing.T) {
	ach := Trigger{Key: "first", System: "xp", Kind: KindAchievement, Achievement: "first-run", Points: pts("50"), Active: true}
	welcome := Trigger{Key: "welcome", System: "xp", Kind: KindUserCreated, Achievement: "ignored", Points: pts("10"), Active: true}
	r := Rules{System: xp(), Triggers: []Trigger{ach, welcome}}
	s, fx, err := OnAchievement(r, State{}, User{}, "first-run", t0)
	require.NoError(t, err)
	require.Equal(t, pts("50"), fx.Added)
	s, fx, err = OnAchievement(r, s, User{}, "first-run", t0)
	require.NoError(t, err)
	require.False(t, fx.Changed(), "an achievement trigger fires once")
	s, fx, err = OnAchievement(r, s, User{}, "other", t0)
	require.NoError(t, err)
	require.False(t, fx.Changed())
	s, fx, err = OnUserCreated(r, s, User{}, t0)
	require.NoError(t, err)
	require.Equal(t, pts("10"), fx.Added)
	s, fx, err = OnUserCreated(r, s, User{}, t0)
	require.NoError(t, err)
	require.False(t, fx.Changed())
	require.Equal(t, pts("60"), s.Total())
}

func TestStreakMultiples(t *testing.T) {
	tr := Trigger{Key: "week", System: "xp", Kind: KindStreak, Streak: "daily", EveryN: 7, Points: pts("100"), Active: true}
	r := Rules{System: xp(), Triggers: []Trigger{tr}}
	s := State{}
	for _, c := range []struct {
		before []int
		length int
		want   string
	}{
		{nil, 1, "0"}, {[]int{1}, 6, "0"}, {[]int{6}, 7, "100"}, {[]int{7}, 8, "0"},
		{[]int{8}, 15, "100"},   // one multiple (14)
		{[]int{15}, 29, "200"},  // a jump over 21 and 28: one award of 2 multiples
		{nil, 7, "100"},         // a new run
		{[]int{7, 1}, 9, "0"},   // a late event joins a paid run of 7 and a run of 1
		{[]int{5, 3}, 9, "100"}, // joined runs that had not reached 7
		{[]int{7, 7}, 15, "0"},  // two paid runs joined: 2 multiples owed, 2 paid
		{[]int{7, 7}, 21, "100"},
	} {
		var fx Effects
		var err error
		s, fx, err = OnStreak(r, s, User{}, "daily", streak.Reach{Before: c.before, Length: c.length}, t0)
		require.NoError(t, err)
		require.Equal(t, pts(c.want), fx.Added, "OnStreak(%v -> %d) added %v, want %v", c.before, c.length, fx.Added, c.want)
	}
	_, fx, err := OnStreak(r, s, User{}, "weekly", streak.Reach{Length: 70}, t0)
	require.NoError(t, err)
	require.False(t, fx.Changed(), "another streak")
	// Multiples reached while the trigger is inactive pass unpaid.
	tr.Active = false
	r.Triggers = []Trigger{tr}
	s, fx, err = OnStreak(r, State{}, User{}, "daily", streak.Reach{Length: 14}, t0)
	require.NoError(t, err)
	require.False(t, fx.Changed())
	tr.Active = true
	r.Triggers = []Trigger{tr}
	_, fx, err = OnStreak(r, s, User{}, "daily", streak.Reach{Before: []int{14}, Length: 21}, t0)
	require.NoError(t, err)
	require.Equal(t, pts("100"), fx.Added)
}

func TestTimeTrigger(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	created := time.Date(2026, 3, 7, 9, 0, 0, 0, ny)
	daily := Trigger{Key: "daily", System: "xp", Kind: KindTime, Every: 1, Unit: Days, Points: pts("5"), Active: true}
	hourly := Trigger{Key: "h6", System: "xp", Kind: KindTime, Every: 6, Unit: Hours, Points: pts("1"), Active: true}
	// Calendar days: 09:00 local every day, across the DST switch on 2026-03-08.
	for _, c := range []struct {
		s    State
		want time.Time
	}{
		{State{}, time.Date(2026, 3, 8, 9, 0, 0, 0, ny)},
	} {
		got := NextTimeDue(daily, c.s, created, ny)
		require.True(t, c.want.Equal(got), "NextTimeDue = %v, want %v", got, c.want)
	}
	r := Rules{System: xp(), Triggers: []Trigger{daily}}
	u := User{Loc: ny}
	s := State{}
	for _, c := range []struct {
		now      time.Time
		want     string
		wantNext time.Time
	}{
		{time.Date(2026, 3, 8, 8, 59, 0, 0, ny), "0", time.Date(2026, 3, 8, 9, 0, 0, 0, ny)},
		{time.Date(2026, 3, 8, 9, 0, 0, 0, ny), "5", time.Date(2026, 3, 9, 9, 0, 0, 0, ny)},
		{time.Date(2026, 3, 8, 9, 0, 0, 0, ny), "0", time.Date(2026, 3, 9, 9, 0, 0, 0, ny)},     // exactly once
		{time.Date(2026, 3, 12, 10, 0, 0, 0, ny), "20", time.Date(2026, 3, 13, 9, 0, 0, 0, ny)}, // 4 missed: collapsed
	} {
		var fx Effects
		var err error
		s, fx, err = OnTime(r, s, u, created, c.now)
		require.NoError(t, err)
		require.Equal(t, pts(c.want), fx.Added, "OnTime(%v) added %v, want %v", c.now, fx.Added, c.want)
		got := NextTimeDue(daily, s, created, ny)
		require.True(t, c.wantNext.Equal(got), "NextTimeDue after %v = %v, want %v", c.now, got, c.wantNext)
	}
	// Hours are elapsed hours: 6h after 09:00 EST on the 7th... the DST night is 23h long.
	r.Triggers = []Trigger{hourly}
	s, fx, err := OnTime(r, State{}, u, created, created.Add(25*time.Hour))
	require.NoError(t, err)
	require.Equal(t, pts("4"), fx.Added)
	require.True(t, created.Add(30*time.Hour).Equal(NextTimeDue(hourly, s, created, ny)))
	// Since: fires before the trigger existed are not paid.
	hourly.Since = created.Add(13 * time.Hour)
	r.Triggers = []Trigger{hourly}
	_, fx, err = OnTime(r, State{}, u, created, created.Add(25*time.Hour))
	require.NoError(t, err)
	require.Equal(t, pts("2"), fx.Added)
	require.True(t, created.Add(18*time.Hour).Equal(NextTimeDue(hourly, State{}, created, ny)))
	// Inactive: nothing due, and fires pass unpaid.
	hourly.Active = false
	require.True(t, NextTimeDue(hourly, State{}, created, ny).IsZero())
	r.Triggers = []Trigger{hourly}
	s, fx, err = OnTime(r, State{}, u, created, created.Add(25*time.Hour))
	require.NoError(t, err)
	require.False(t, fx.Changed())
	require.Equal(t, int64(4), s.get("h6").n)
	_, _, err = OnTime(r, State{}, u, time.Time{}, created)
	require.ErrorIs(t, err, gamifytype.ErrInvalid, "a zero creation instant")
	require.True(t, NextTimeDue(daily, State{}, time.Time{}, ny).IsZero())
}

func TestEffectsErrorsAreWrapped(t *testing.T) {
	tr := metricTrigger("t", "m", "0.000001", "1000000000")
	r := Rules{System: xp(), Triggers: []Trigger{tr}}
	_, _, err := OnMetric(r, State{}, User{}, MetricChange{Metric: "m", Delta: pts("9000000"), At: t0})
	require.ErrorIs(t, err, gamifytype.ErrInvalid, "overflow is reported, not wrapped around")
	var ve *gamifytype.ValidationError
	require.True(t, errors.As(err, &ve))
}

func TestInstantsAreRequired(t *testing.T) {
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("t", "m", "1", "1")}}
	_, _, err := OnMetric(r, State{}, User{}, MetricChange{Metric: "m", Delta: pts("1")})
	require.ErrorIs(t, err, gamifytype.ErrInvalid)
	_, _, err = OnAchievement(r, State{}, User{}, "a", time.Time{})
	require.ErrorIs(t, err, gamifytype.ErrInvalid)
	_, _, err = OnStreak(r, State{}, User{}, "s", streak.Reach{Length: 1}, time.Time{})
	require.ErrorIs(t, err, gamifytype.ErrInvalid)
	_, _, err = OnTime(r, State{}, User{}, t0, time.Time{})
	require.ErrorIs(t, err, gamifytype.ErrInvalid)
}

func TestLevelMultiplierOfOneIsIgnored(t *testing.T) {
	r := Rules{System: xp(), Levels: []Level{{Key: "l", Name: "L", Multiplier: one}}, Triggers: []Trigger{metricTrigger("t", "m", "1", "0.5")}}
	_, fx, err := OnMetric(r, State{level: "l"}, User{}, MetricChange{Metric: "m", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Equal(t, pts("0.5"), fx.Added, "×1 leaves the award exact")
	require.Empty(t, fx.Awards[0].Boosts)
}

func TestRelevelMovesUsersOfLevelsThatLeft(t *testing.T) {
	r := Rules{System: xp(), Levels: levels(), Triggers: []Trigger{metricTrigger("t", "m", "1", "1")}}
	at200, _ := track(t, r, State{}, User{}, "m", "200") // silver
	pinned, _, err := PinLevel(r.Levels, at200, "gold")
	require.NoError(t, err)
	var without []Level // the ladder with gold gone
	var gone []Level
	for _, l := range r.Levels {
		if l.Key == "gold" {
			gone = append(gone, l)
		} else {
			without = append(without, l)
		}
	}
	s, fx := Relevel(without, gone, pinned)
	require.Equal(t, &LevelChange{From: "gold", To: "silver"}, fx.Level, "a demotion, not a pin change")
	key, isPinned := s.LevelKey()
	require.Equal(t, "silver", key)
	require.False(t, isPinned)
	require.Equal(t, pts("200"), s.Total())

	s, fx = Relevel(without, gone, at200)
	require.Nil(t, fx.Level, "a user at a level still in the ladder stays")
	require.Equal(t, at200, s)
	s, fx = Relevel(r.Levels, nil, pinned)
	require.Nil(t, fx.Level, "a pin to a level in the ladder stays")
	require.Equal(t, pinned, s)

	// A user pinned to a low level that left moves up: a promotion.
	low, _, err := PinLevel(r.Levels, at200, "bronze")
	require.NoError(t, err)
	s, fx = Relevel(r.Levels[:1], r.Levels[1:2], low)
	require.Equal(t, &LevelChange{From: "bronze", To: "silver", Promotion: true}, fx.Level)
	key, _ = s.LevelKey()
	require.Equal(t, "silver", key)
}

// Any change of the ladder moves the users it concerns: a lowered
// threshold promotes, a raised one demotes, a new lowest level takes in
// the users below every level; a pin to a level of the ladder holds.
func TestRelevelFollowsEveryLadderChange(t *testing.T) {
	r := Rules{System: xp(), Levels: levels(), Triggers: []Trigger{metricTrigger("t", "m", "1", "1")}}
	at200, _ := track(t, r, State{}, User{}, "m", "200") // silver
	lowered := levels()
	lowered[2].Threshold = pts("150") // gold
	s, fx := Relevel(lowered, nil, at200)
	require.Equal(t, &LevelChange{From: "silver", To: "gold", Promotion: true}, fx.Level)
	key, _ := s.LevelKey()
	require.Equal(t, "gold", key)
	s, fx = Relevel(levels(), nil, s)
	require.Equal(t, &LevelChange{From: "gold", To: "silver"}, fx.Level, "raised back: a demotion")
	require.Equal(t, at200, s)

	pinned, _, err := PinLevel(r.Levels, at200, "bronze")
	require.NoError(t, err)
	s, fx = Relevel(lowered, nil, pinned)
	require.Nil(t, fx.Level)
	require.Equal(t, pinned, s, "a pin to a level of the ladder holds")

	noLevels := Rules{System: xp(), Triggers: r.Triggers}
	plain, _ := track(t, noLevels, State{}, User{}, "m", "20")
	s, fx = Relevel(levels(), nil, plain)
	require.Equal(t, &LevelChange{From: "", To: "bronze", Promotion: true}, fx.Level)
	require.Equal(t, pts("20"), s.Total())
	_, fx = Relevel(levels(), nil, s)
	require.Nil(t, fx.Level, "at the level of the total: nothing to do")
}

// Rules.CallLevel decides the level multiplier; the level change is still
// reported from the State's level.
func TestCallLevelDecidesTheMultiplier(t *testing.T) {
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("per1", "km", "1", "1")}, Levels: []Level{
		{Key: "bronze", Name: "Bronze"},
		{Key: "silver", Name: "Silver", Threshold: pts("10"), Multiplier: pts("2")},
		{Key: "gold", Name: "Gold", Threshold: pts("100"), Multiplier: pts("3")},
	}}
	u := User{ID: "ana", Loc: time.UTC}
	s, _ := track(t, r, State{}, u, "km", "10") // silver, 10
	_, got := track(t, r, s, u, "km", "1")
	require.Equal(t, []Amount{pts("2")}, got, "the State's level: silver")

	bronze := "bronze"
	r.CallLevel = &bronze
	ns, fx, err := OnMetric(r, s, u, MetricChange{Metric: "km", Delta: pts("1"), At: t0})
	require.NoError(t, err)
	require.Equal(t, pts("1"), fx.Added, "the call's level: bronze, no multiplier")
	require.Empty(t, fx.Awards[0].Boosts)
	require.Nil(t, fx.Level, "still silver: no change from the State's level")
	require.Equal(t, pts("11"), ns.Total())
}

// The awards of one transition carry the same boosts (computed once): each
// its own full list, so that appending to one award's never shows in another's.
func TestAwardsOfATransitionShareTheirBoosts(t *testing.T) {
	r := Rules{System: xp(), Triggers: []Trigger{metricTrigger("a", "m", "1", "1"), metricTrigger("b", "m", "2", "10")},
		Boosts: []Boost{globalBoost("double", "2", RoundDown), globalBoost("near", "1.5", RoundNearest), globalBoost("more", "1.25", RoundDown),
			{Key: "mine", System: "xp", Scope: PerUser, User: "bob", Start: t0, Multiplier: pts("3")}}}
	_, fx, err := OnMetric(r, State{}, User{ID: "ana"}, MetricChange{Metric: "m", Delta: pts("3"), At: t0})
	require.NoError(t, err)
	require.Len(t, fx.Awards, 2)
	want := []AppliedBoost{{Key: "double", Multiplier: pts("2")}, {Key: "near", Multiplier: pts("1.5")}, {Key: "more", Multiplier: pts("1.25")}}
	for _, a := range fx.Awards {
		require.Equal(t, want, a.Boosts, "award %s", a.Trigger)
		require.Equal(t, RoundDown, a.Rounding, "award %s: the boosts' roundings differ", a.Trigger)
	}
	require.Equal(t, []Amount{pts("11"), pts("37")}, []Amount{fx.Awards[0].Points, fx.Awards[1].Points})
	_ = append(fx.Awards[0].Boosts, AppliedBoost{Key: "extra"})
	require.Equal(t, want, fx.Awards[1].Boosts[:cap(fx.Awards[1].Boosts)])
}

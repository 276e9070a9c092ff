package streak

import (
	"errors"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

func nyDay(t *testing.T, day int, hms ...int) time.Time {
	ny := mustLoc(t, "America/New_York")
	h, mi, sec, ns := 12, 0, 0, 0
	if len(hms) > 0 {
		h, mi, sec = hms[0], hms[1], hms[2]
	}
	if len(hms) > 3 {
		ns = hms[3]
	}
	return time.Date(2026, 6, day, h, mi, sec, ns, ny)
}

func TestFreezeBoundaries(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d := def(Daily)
	d.Freezes = Freezes{Initial: 1, Max: 2}
	m := newSim(t, d, ny)
	m.on(nyDay(t, 1))
	// 2 June unmet: a freeze is consumed exactly at its end.
	endOf2 := nyDay(t, 3, 0, 0, 0)
	st := m.view(endOf2.Add(-time.Nanosecond))
	require.Equal(t, 1, st.Length)
	require.True(t, st.AtRisk)
	require.Equal(t, 1, st.Freezes)
	require.True(t, endOf2.Equal(st.Expires), "Expires = %v, want %v", st.Expires, endOf2)
	require.Empty(t, m.advance(endOf2.Add(-time.Nanosecond)).Notifications)
	st = m.view(endOf2)
	require.Equal(t, 1, st.Length, "a frozen period keeps the length")
	require.Equal(t, 0, st.Freezes)
	fx := m.advance(endOf2)
	require.Equal(t, []Kind{FreezeConsumed}, kindsOf(fx))
	require.Equal(t, Date{2026, 6, 2}, fx.Notifications[0].Period)
	require.Empty(t, m.advance(endOf2).Notifications, "Advance is idempotent")
	fx = m.on(nyDay(t, 3))
	require.True(t, fx.Extended)
	require.Equal(t, []Kind{Extended}, kindsOf(fx), "no Extended notification for the freeze itself")
	require.Equal(t, 2, m.view(nyDay(t, 3)).Length)
	// 4 June unmet, no freeze left: lost exactly at its end, reported once.
	endOf4 := nyDay(t, 5, 0, 0, 0)
	require.Equal(t, 2, m.view(endOf4.Add(-time.Nanosecond)).Length)
	require.Zero(t, m.view(endOf4).Length)
	m.advance(endOf4.Add(-time.Nanosecond))
	fx = m.advance(endOf4)
	require.Equal(t, []Kind{Lost}, kindsOf(fx))
	require.Equal(t, 2, fx.Notifications[0].Length)
	require.Equal(t, []Transition{{2, 0}}, fx.Transitions)
	m.advance(endOf4.Add(time.Hour))
	m.view(nyDay(t, 5, 18, 0, 0))
	m.on(nyDay(t, 5, 20, 0, 0))
	m.advance(nyDay(t, 6, 0, 0, 0))
	require.Equal(t, 1, m.count(Lost), "loss of the 2-day streak reported once")
	h := History(d, m.s, nyDay(t, 6), ny, 6)
	require.Equal(t, []bool{false, true, false, false, false, false}, usedFreeze(h))
	require.Equal(t, []int{1, 1, 2, 0, 1, 1}, lengths(h))
	require.True(t, h[3].Missed)
}

func usedFreeze(h []Period) []bool {
	out := make([]bool, len(h))
	for i, p := range h {
		out[i] = p.UsedFreeze
	}
	return out
}

func TestFreezeEarnAndGrant(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d := def(Daily)
	d.Freezes = Freezes{Initial: 0, Max: 1, EarnAmount: 1, EarnEveryDays: 7}
	t0 := nyDay(t, 1, 9, 0, 0)
	seen, _ := Advance(d, State{}, t0.Add(-time.Hour), ny) // first sight, with no activity: nothing is earned
	require.Equal(t, 0, View(d, seen, t0.Add(30*24*time.Hour), ny).Freezes)
	require.True(t, NextDue(d, seen, ny).IsZero(), "no earn is due before the first activity")
	s, _, err := Apply(d, seen, Activity{Metric: "lessons", Delta: amt(1), At: t0, Loc: ny}, t0) // earned from here
	require.NoError(t, err)
	require.Equal(t, 0, View(d, s, t0.Add(7*24*time.Hour-time.Nanosecond), ny).Freezes)
	require.Equal(t, 1, View(d, s, t0.Add(7*24*time.Hour), ny).Freezes)
	s, fx := Advance(d, s, t0.Add(30*24*time.Hour), ny)
	require.Equal(t, []Kind{Lost, FreezeEarned}, kindsOf(fx), "the one-day run is lost on day 2; earned freezes stop at the max")
	require.Equal(t, 1, View(d, s, t0.Add(30*24*time.Hour), ny).Freezes)
	require.True(t, NextDue(d, s, ny).IsZero(), "nothing due at the max with no streak")

	// Admin grant: +1, a warning past the max.
	s, fx, err = GrantFreeze(d, s, t0.Add(31*24*time.Hour), ny)
	require.NoError(t, err)
	require.Equal(t, ExceedsMax, fx.Warning)
	require.Equal(t, 2, View(d, s, t0.Add(31*24*time.Hour), ny).Freezes)
	d.Freezes.Max = 5
	s, fx, err = GrantFreeze(d, s, t0.Add(31*24*time.Hour), ny)
	require.NoError(t, err)
	require.Equal(t, NoWarning, fx.Warning)
	require.Equal(t, 3, View(d, s, t0.Add(31*24*time.Hour), ny).Freezes)

	// Initial freezes on first sight.
	d.Freezes = Freezes{Initial: 2, Max: 3}
	require.Equal(t, 2, View(d, State{}, t0, ny).Freezes)
}

// Grants given at one instant (a bundle of two freezes, two calls at one
// clock reading), also the instant the user was first seen, are each
// credited, live and when a late event replays the periods after them.
func TestGrantsAtOneInstant(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d := def(Daily)
	d.Freezes = Freezes{Max: 5}
	for _, c := range []struct {
		late    bool
		grantAt time.Time
	}{
		{false, nyDay(t, 1, 13, 0, 0)}, {true, nyDay(t, 1, 13, 0, 0)},
		{true, nyDay(t, 1)}, // at the instant of first sight
	} {
		late, grantAt := c.late, c.grantAt
		m := newSim(t, d, ny)
		m.on(nyDay(t, 1))
		for range 2 {
			s, _, err := GrantFreeze(d, m.s, grantAt, ny)
			require.NoError(t, err)
			m.s = s
		}
		require.Equal(t, 2, m.view(grantAt).Freezes)
		// 2 June unmet: a freeze keeps the streak.
		require.Equal(t, 1, m.view(nyDay(t, 3, 9, 0, 0)).Freezes)
		if late {
			// A late lesson on 2 June replays the periods from 1 June: no
			// freeze is used, and both grants are credited again.
			m.act(nyDay(t, 2), nyDay(t, 3, 9, 0, 0))
			require.Equal(t, 2, m.view(nyDay(t, 3, 9, 0, 0)).Freezes, "after the late lesson")
			require.Equal(t, 2, m.view(nyDay(t, 3, 9, 0, 0)).Length)
		}
		// Then unmet days use up what is left, one each.
		left := m.view(nyDay(t, 3, 9, 0, 0)).Freezes
		st := m.view(nyDay(t, 3+left, 12, 0, 0))
		require.Positive(t, st.Length, "late=%v: the streak lives while freezes last", late)
		require.Zero(t, st.Freezes)
		require.Zero(t, m.view(nyDay(t, 4+left, 12, 0, 0)).Length, "late=%v: lost once they are used up", late)
	}
}

func TestPauseBoundaries(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d := def(Daily)
	m := newSim(t, d, ny)
	m.on(nyDay(t, 1))
	m.on(nyDay(t, 2))
	// Start must not be before today in the user's zone: at 23:59:59.999 on
	// 2 June in New York (already 3 June in UTC), 2 June is today.
	now := nyDay(t, 2, 23, 59, 59, 999e6)
	_, _, err := AddPause(d, m.s, now, time.UTC, Date{2026, 6, 2}, Date{2026, 6, 4})
	var ve *gamifytype.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Pause.From", ve.Field)
	_, _, err = AddPause(d, m.s, now, ny, Date{2026, 6, 1}, Date{2026, 6, 4})
	require.ErrorIs(t, err, gamifytype.ErrInvalid)
	_, _, err = AddPause(d, m.s, now, ny, Date{2026, 6, 4}, Date{2026, 6, 3})
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Pause.To", ve.Field)
	s, p, err := AddPause(d, m.s, now, ny, Date{2026, 6, 3}, Date{2026, 6, 4})
	require.NoError(t, err)
	require.Equal(t, Pause{ID: 1, From: Date{2026, 6, 3}, To: Date{2026, 6, 4}}, p)
	_, _, err = AddPause(d, s, now, ny, Date{2026, 6, 4}, Date{2026, 6, 8})
	require.ErrorIs(t, err, gamifytype.ErrConflict, "overlapping pause")
	m.s = s
	// 3 and 4 June unmet but paused: the length is kept, not raised.
	for _, at := range []time.Time{nyDay(t, 4, 0, 0, 0), nyDay(t, 5, 0, 0, 0), nyDay(t, 5, 23, 0, 0)} {
		st := m.view(at)
		require.Equal(t, 2, st.Length, "View(%v).Length", at)
	}
	st := m.view(nyDay(t, 4))
	require.True(t, st.Paused)
	require.False(t, st.AtRisk)
	require.True(t, nyDay(t, 6, 0, 0, 0).Equal(st.Expires), "Expires during a pause = %v", st.Expires)
	require.Empty(t, m.advance(nyDay(t, 5, 12, 0, 0)).Notifications)
	m.on(nyDay(t, 5))
	require.Equal(t, 3, m.view(nyDay(t, 5)).Length)
	h := History(d, m.s, nyDay(t, 5), ny, 5)
	require.Equal(t, []int{1, 2, 2, 2, 3}, lengths(h))
	require.True(t, h[2].UsedPause && h[3].UsedPause && !h[4].UsedPause)
	// 6 June unmet outside the pause: lost at its end.
	fx := m.advance(nyDay(t, 7, 0, 0, 0))
	require.Equal(t, []Kind{Lost}, kindsOf(fx))
	require.Equal(t, 3, fx.Notifications[0].Length)
	require.Equal(t, []Pause{p}, Pauses(m.s))
}

func TestRemovePause(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d := def(Daily)
	now := nyDay(t, 10)
	s, p1, err := AddPause(d, State{}, now, ny, Date{2026, 6, 10}, Date{2026, 6, 12})
	require.NoError(t, err)
	s, p2, err := AddPause(d, s, now, ny, Date{2026, 6, 20}, Date{2026, 6, 25})
	require.NoError(t, err)
	// p2 has not started: removed.
	s2, err := RemovePause(d, s, now, ny, p2.ID)
	require.NoError(t, err)
	require.Equal(t, []Pause{p1}, Pauses(s2))
	// p1 started today: cut to end yesterday, i.e. removed.
	s3, err := RemovePause(d, s2, now, ny, p1.ID)
	require.NoError(t, err)
	require.Empty(t, Pauses(s3))
	// p1 in progress on the 11th: ends on the 10th.
	s4, err := RemovePause(d, s2, nyDay(t, 11), ny, p1.ID)
	require.NoError(t, err)
	require.Equal(t, []Pause{{ID: p1.ID, From: Date{2026, 6, 10}, To: Date{2026, 6, 10}}}, Pauses(s4))
	_, err = RemovePause(d, s2, nyDay(t, 13), ny, p1.ID)
	require.ErrorIs(t, err, gamifytype.ErrConflict, "ended pause")
	_, err = RemovePause(d, s2, now, ny, 99)
	require.ErrorIs(t, err, gamifytype.ErrNotFound)
}

func TestGraceBoundaries(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d := def(Daily)
	d.GraceHours = 3
	graceEnd := nyDay(t, 3, 3, 0, 0) // 2 June ends at 3 June 00:00, plus 3 hours

	base := newSim(t, d, ny)
	base.on(nyDay(t, 1))
	st := base.view(nyDay(t, 3, 2, 59, 59))
	require.Equal(t, 1, st.Length, "not missed during grace")
	require.True(t, st.AtRisk)
	require.True(t, graceEnd.Equal(st.GraceEnds), "GraceEnds = %v, want %v", st.GraceEnds, graceEnd)
	require.True(t, graceEnd.Equal(NextDue(d, base.s, ny)), "NextDue = %v, want %v", NextDue(d, base.s, ny), graceEnd)
	require.True(t, nyDay(t, 1).Equal(st.LastExtended), "LastExtended = %v", st.LastExtended)
	require.Zero(t, base.view(graceEnd).Length, "missed when grace ends")

	// The last instant of grace: credited to 2 June (and to 3 June).
	in := newSim(t, d, ny)
	in.s = base.s
	fx := in.on(graceEnd.Add(-time.Millisecond))
	require.True(t, fx.Extended)
	require.Equal(t, 3, in.view(graceEnd).Length)
	require.Empty(t, in.advance(nyDay(t, 3, 23, 0, 0)).Notifications)

	// At the end of grace: too late for 2 June.
	late := newSim(t, d, ny)
	late.s = base.s
	fx = late.on(graceEnd)
	require.Equal(t, []Kind{Lost, Started}, kindsOf(fx))
	require.Equal(t, 1, late.view(graceEnd).Length)

	// Grace saves a streak; it does not start one from an earlier period.
	fresh := newSim(t, d, ny)
	fresh.on(nyDay(t, 3, 1, 0, 0))
	require.Equal(t, 1, fresh.view(nyDay(t, 3, 1, 0, 0)).Length)
}

func TestLateActivities(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	t.Run("late activity refunds the freeze of its period", func(t *testing.T) {
		d := def(Daily)
		d.Freezes = Freezes{Initial: 1, Max: 1}
		m := newSim(t, d, ny)
		m.on(nyDay(t, 1))
		m.on(nyDay(t, 3)) // 2 June was frozen at its end
		require.Equal(t, 1, m.count(FreezeConsumed))
		require.Equal(t, 0, m.view(nyDay(t, 3)).Freezes)
		fx := m.act(nyDay(t, 2, 23, 0, 0), nyDay(t, 3, 13, 0, 0))
		require.False(t, fx.Extended, "a back-dated activity does not extend")
		require.Equal(t, []Kind{FreezeRefunded, Repaired}, kindsOf(fx))
		require.Equal(t, []Transition{{2, 3}}, fx.Transitions)
		st := m.view(nyDay(t, 3, 13, 0, 0))
		require.Equal(t, 3, st.Length)
		require.Equal(t, 1, st.Freezes)
	})
	t.Run("late activity repairs a gap", func(t *testing.T) {
		m := newSim(t, def(Daily), ny)
		m.on(nyDay(t, 1))
		m.on(nyDay(t, 2))
		m.on(nyDay(t, 4)) // 3 June lost
		require.Equal(t, []Kind{Started, Extended, Lost, Started}, m.kinds())
		fx := m.act(nyDay(t, 3, 8, 0, 0), nyDay(t, 4, 18, 0, 0))
		require.False(t, fx.Extended)
		require.Equal(t, []Kind{Repaired}, kindsOf(fx))
		require.Equal(t, []Transition{{1, 4}}, fx.Transitions)
		require.Equal(t, 4, m.view(nyDay(t, 4, 18, 0, 0)).Length)
		require.Equal(t, 4, m.view(nyDay(t, 4, 18, 0, 0)).Longest)
	})
	t.Run("activity older than the retained window is ignored", func(t *testing.T) {
		m := newSim(t, def(Daily), ny)
		now := nyDay(t, 1)
		fx := m.act(now.AddDate(0, 0, -(MaxLateDays+20)), now)
		require.Empty(t, fx.Notifications)
		require.Zero(t, m.view(now).Length)
	})
	t.Run("activity too far in the future is rejected", func(t *testing.T) {
		now := nyDay(t, 1)
		_, _, err := Apply(def(Daily), State{}, Activity{Metric: "lessons", Delta: amt(1), At: now.Add(MaxFuture + time.Second), Loc: ny}, now)
		var ve *gamifytype.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "Activity.At", ve.Field)
	})
}

func TestRestore(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	daily := func(t *testing.T) *sim {
		m := newSim(t, def(Daily), ny)
		for day := 1; day <= 5; day++ {
			m.on(nyDay(t, day))
		}
		return m
	}
	t.Run("daily restores the longest length", func(t *testing.T) {
		m := daily(t)
		m.on(nyDay(t, 8)) // 6 June lost the 5-day streak
		require.Equal(t, 1, m.view(nyDay(t, 8)).Length)
		s, fx, err := Restore(m.d, m.s, nyDay(t, 8, 13, 0, 0), ny)
		require.NoError(t, err)
		require.Equal(t, NoWarning, fx.Warning)
		require.Equal(t, []Kind{Restored}, kindsOf(fx))
		require.Equal(t, []Transition{{1, 6}}, fx.Transitions, "5 restored, plus today")
		st := View(m.d, s, nyDay(t, 8, 13, 0, 0), ny)
		require.Equal(t, 6, st.Length)
		require.True(t, st.Started.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, ny)), "Started = %v", st.Started)
		_, fx, err = Restore(m.d, s, nyDay(t, 8, 14, 0, 0), ny)
		require.NoError(t, err)
		require.Equal(t, NothingToRestore, fx.Warning)
		// The restored streak continues and can be lost again.
		m.s = s
		m.on(nyDay(t, 9))
		require.Equal(t, 7, m.view(nyDay(t, 9)).Length)
	})
	t.Run("daily window is the last 90 days", func(t *testing.T) {
		m := daily(t) // length 5 reached on 5 June
		last := nyDay(t, 5).AddDate(0, 0, 89)
		_, fx, err := Restore(m.d, m.s, last, ny)
		require.NoError(t, err)
		require.Equal(t, NoWarning, fx.Warning, "Restore(%v)", last)
		_, fx, err = Restore(m.d, m.s, last.AddDate(0, 0, 1), ny)
		require.NoError(t, err)
		require.Equal(t, NothingToRestore, fx.Warning, "Restore(%v)", last.AddDate(0, 0, 1))
	})
	t.Run("weekly window starts with the week of 1 January", func(t *testing.T) {
		for _, tc := range []struct {
			lastWeek time.Time
			want     Warning
		}{
			{time.Date(2025, 12, 24, 12, 0, 0, 0, ny), NothingToRestore}, // week of 22 Dec
			{time.Date(2025, 12, 30, 12, 0, 0, 0, ny), NoWarning},        // week of 29 Dec holds 1 Jan
		} {
			m := newSim(t, def(Weekly), ny)
			m.on(tc.lastWeek.AddDate(0, 0, -7))
			m.on(tc.lastWeek)
			now := time.Date(2026, 2, 10, 12, 0, 0, 0, ny)
			_, fx, err := Restore(m.d, m.s, now, ny)
			require.NoError(t, err)
			require.Equal(t, tc.want, fx.Warning, "Restore after a streak ending the week of %v", tc.lastWeek)
		}
	})
	t.Run("monthly window starts 1 January of the previous year", func(t *testing.T) {
		for _, tc := range []struct {
			lastMonth time.Time
			want      Warning
		}{
			{time.Date(2024, 12, 31, 23, 0, 0, 0, ny), NothingToRestore},
			{time.Date(2025, 1, 1, 0, 0, 0, 0, ny), NoWarning},
		} {
			m := newSim(t, def(Monthly), ny)
			m.on(tc.lastMonth.AddDate(0, -1, 0))
			m.on(tc.lastMonth)
			now := time.Date(2026, 3, 10, 12, 0, 0, 0, ny)
			s, fx, err := Restore(m.d, m.s, now, ny)
			require.NoError(t, err)
			require.Equal(t, tc.want, fx.Warning, "Restore after a streak ending %v", tc.lastMonth)
			if tc.want == NoWarning {
				require.Equal(t, 2, View(m.d, s, now, ny).Length)
			}
		}
	})
	t.Run("nothing to restore for a new user", func(t *testing.T) {
		_, fx, err := Restore(def(Daily), State{}, nyDay(t, 1), ny)
		require.NoError(t, err)
		require.Equal(t, NothingToRestore, fx.Warning)
	})
}

func TestModesAndPersonalization(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d := Definition{Key: "s", Frequency: Daily, Mode: ModeAll, Personalizable: true,
		Metrics: []MetricRule{{Metric: "a", Min: amt(2)}, {Metric: "b", Min: amt(1)}}}
	require.NoError(t, d.Validate())
	apply := func(d Definition, s State, metric string, n int64, at time.Time) (State, Effects) {
		s, fx, err := Apply(d, s, Activity{Metric: metric, Delta: amt(n), At: at, Loc: ny}, at)
		require.NoError(t, err)
		return s, fx
	}
	now := nyDay(t, 1)
	s, fx := apply(d, State{}, "a", 1, now)
	require.False(t, fx.Extended)
	s, fx = apply(d, s, "b", 5, now)
	require.False(t, fx.Extended, "all: a still below 2")
	s, fx = apply(d, s, "a", -3, now)
	require.False(t, fx.Extended, "negative deltas are ignored")
	s, fx = apply(d, s, "zzz", 5, now)
	require.False(t, fx.Extended, "other metrics are ignored")
	_, fx = apply(d, s, "a", 1, now)
	require.True(t, fx.Extended)

	anyDef := d
	anyDef.Mode = ModeAny
	_, fx = apply(anyDef, State{}, "b", 1, now)
	require.True(t, fx.Extended, "any: b alone suffices")

	pd, err := d.Personalize(Personalization{Enabled: true, Min: map[string]gamifytype.Amount{"a": amt(1)}})
	require.NoError(t, err)
	s, _ = apply(pd, State{}, "a", 1, now)
	_, fx = apply(pd, s, "b", 1, now)
	require.True(t, fx.Extended, "personal minimum for a is 1")
	same, err := d.Personalize(Personalization{Enabled: false, Min: map[string]gamifytype.Amount{"a": amt(9)}})
	require.NoError(t, err)
	require.Equal(t, d.Metrics, same.Metrics)

	_, err = d.Personalize(Personalization{Enabled: true, Min: map[string]gamifytype.Amount{"x": amt(1), "b": {}}})
	var ve *gamifytype.ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorContains(t, err, "Personalization.Min[x]")
	require.ErrorContains(t, err, "Personalization.Min[b]")
	d.Personalizable = false
	_, err = d.Personalize(Personalization{Enabled: true})
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Personalization.Enabled", ve.Field)
}

func TestNextDue(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	d := def(Daily)
	d.GraceHours = 2
	require.True(t, NextDue(d, State{}, ny).IsZero())
	m := newSim(t, d, ny)
	m.on(nyDay(t, 1))
	// Today met: next due is the end of tomorrow plus grace.
	want := nyDay(t, 3, 2, 0, 0)
	require.True(t, want.Equal(NextDue(d, m.s, ny)), "NextDue = %v, want %v", NextDue(d, m.s, ny), want)
	// Advancing before it changes nothing; at it the streak is lost.
	m.advance(want.Add(-time.Nanosecond))
	require.Zero(t, m.count(Lost))
	require.True(t, want.Equal(NextDue(d, m.s, ny)))
	m.advance(want)
	require.Equal(t, 1, m.count(Lost))
	require.True(t, NextDue(d, m.s, ny).IsZero(), "no streak, no earning: nothing due")
}

func TestValidate(t *testing.T) {
	good := def(Daily)
	require.NoError(t, good.Validate())
	bad := Definition{
		Key:       "bad key",
		Frequency: 9,
		WeekStart: 12,
		Mode:      7,
		Metrics: []MetricRule{
			{Metric: "a", Min: amt(1)},
			{Metric: "a"},
			{Metric: "", Min: micros(-1)},
		},
		GraceHours: 30,
		Freezes:    Freezes{Initial: 102, Max: 101, EarnAmount: -1, EarnEveryDays: -2},
	}
	err := bad.Validate()
	require.ErrorIs(t, err, gamifytype.ErrInvalid)
	fields := map[string]bool{}
	var joined interface{ Unwrap() []error }
	require.True(t, errors.As(err, &joined))
	for _, e := range joined.Unwrap() {
		var ve *gamifytype.ValidationError
		require.ErrorAs(t, e, &ve)
		fields[ve.Field] = true
	}
	for _, f := range []string{"Streak.Key", "Streak.Frequency", "Streak.WeekStart", "Streak.Mode",
		"Streak.Metrics[1].Metric", "Streak.Metrics[1].Min", "Streak.Metrics[2].Metric", "Streak.Metrics[2].Min",
		"Streak.GraceHours", "Streak.Freezes.Max", "Streak.Freezes.Initial", "Streak.Freezes.EarnAmount", "Streak.Freezes.EarnEveryDays"} {
		require.True(t, fields[f], "Validate() does not report %s (got %v)", f, fields)
	}
	noMetrics := def(Weekly)
	noMetrics.Metrics = nil
	noMetrics.GraceHours = 100
	require.NoError(t, func() error { d := def(Weekly); d.GraceHours = 100; return d.Validate() }())
	require.ErrorContains(t, noMetrics.Validate(), "Streak.Metrics")
	earn := def(Daily)
	earn.Freezes = Freezes{Max: 3, EarnAmount: 1}
	require.ErrorContains(t, earn.Validate(), "Streak.Freezes.EarnEveryDays")
}

func FuzzValidate(f *testing.F) {
	f.Add("k", uint8(1), uint8(0), uint8(0), "m", int64(1), 0, 0, 0, 0, 0)
	f.Add("", uint8(9), uint8(9), uint8(9), "", int64(-1), -1, 200, -5, 1000, -1)
	f.Fuzz(func(t *testing.T, key string, freq, ws, mode uint8, metric string, min int64, grace, max, initial, earn, every int) {
		d := Definition{Key: key, Frequency: Frequency(freq), WeekStart: Weekday(ws), Mode: Mode(mode),
			Metrics: []MetricRule{{Metric: metric, Min: gamifytype.AmountFromMicros(min)}}, GraceHours: grace,
			Freezes: Freezes{Max: max, Initial: initial, EarnAmount: earn, EarnEveryDays: every}}
		err := d.Validate()
		if err == nil {
			// A valid definition must work end to end without panicking.
			now := time.Date(2026, 3, 8, 1, 30, 0, 0, time.UTC)
			s, _, aerr := Apply(d, State{}, Activity{Metric: metric, Delta: gamifytype.AmountFromMicros(int64(max + 1)), At: now, Loc: time.UTC}, now)
			require.NoError(t, aerr)
			View(d, s, now.Add(40*24*time.Hour), time.UTC)
			return
		}
		require.ErrorIs(t, err, gamifytype.ErrInvalid)
		var joined interface{ Unwrap() []error }
		require.True(t, errors.As(err, &joined))
		for _, e := range joined.Unwrap() {
			var ve *gamifytype.ValidationError
			require.ErrorAs(t, e, &ve, "every error names its field")
		}
	})
}

// TestPauseKeepsPendingLoss: adding a pause after a period ended unmet does
// not swallow the loss, which the next Advance reports.
func TestPauseKeepsPendingLoss(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	m := newSim(t, def(Daily), ny)
	m.on(nyDay(t, 1))
	now := nyDay(t, 3, 9, 0, 0) // 2 June ended unmet
	s, _, err := AddPause(m.d, m.s, now, ny, Date{2026, 6, 3}, Date{2026, 6, 5})
	require.NoError(t, err)
	s, fx := Advance(m.d, s, now, ny)
	require.Equal(t, []Kind{Lost}, kindsOf(fx))
	require.Zero(t, View(m.d, s, now, ny).Length)
}

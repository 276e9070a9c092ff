package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// triggerStatusEngine has a metric trigger paying 10 coins per xp.
func triggerStatusEngine(t *testing.T) *testEngine {
	t.Helper()
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	_, err := te.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	_, err = te.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-xp", System: "coins", Kind: gamify.TriggerMetric,
		Metric: "xp", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)})
	require.NoError(t, err)
	return te
}

func balance(t *testing.T, te *testEngine, user string) gamify.Amount {
	t.Helper()
	p, err := te.Users().Points(context.Background(), user, "coins")
	require.NoError(t, err)
	return p.Total
}

// TestTriggerStatusJudgedAtTheEventsTime: whether an inactive trigger pays
// for an event is judged at the event's time, so a late event gets what it
// would have got on time: one dated while the trigger was active pays even
// if it arrives while it is inactive, one dated while it was inactive does
// not pay after Activate.
func TestTriggerStatusJudgedAtTheEventsTime(t *testing.T) {
	ctx := context.Background()
	ev := func(te *testEngine, user string, at time.Duration) {
		t.Helper()
		_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: 1, Time: t0.Add(at)})
		require.NoError(t, err)
	}
	setTo := func(te *testEngine, active bool) {
		t.Helper()
		var err error
		if active {
			_, err = te.Points().Triggers().Activate(ctx, "per-xp")
		} else {
			_, err = te.Points().Triggers().Deactivate(ctx, "per-xp")
		}
		require.NoError(t, err)
	}
	at := func(te *testEngine, d time.Duration) { te.clock.Set(t0.Add(d)) }

	// On time: the event at 0:30 pays, the one at 1:30 (inactive) does not.
	onTime := triggerStatusEngine(t)
	at(onTime, 30*time.Minute)
	ev(onTime, "ana", 30*time.Minute)
	at(onTime, time.Hour)
	setTo(onTime, false)
	at(onTime, 90*time.Minute)
	ev(onTime, "ana", 90*time.Minute)
	at(onTime, 2*time.Hour)
	setTo(onTime, true)
	require.Equal(t, gamify.AmountFromInt(10), balance(t, onTime, "ana"))

	// Late: the 0:30 event arrives while the trigger is inactive, the 1:30
	// one after it is active again.
	late := triggerStatusEngine(t)
	at(late, time.Hour)
	setTo(late, false)
	at(late, 90*time.Minute)
	ev(late, "ana", 30*time.Minute)
	require.Equal(t, gamify.AmountFromInt(10), balance(t, late, "ana"), "dated while active, arriving while inactive")
	at(late, 2*time.Hour)
	setTo(late, true)
	at(late, 3*time.Hour)
	ev(late, "ana", 90*time.Minute)
	require.Equal(t, gamify.AmountFromInt(10), balance(t, late, "ana"), "dated while inactive, arriving after Activate")

	// The history survives a reopen (and the command log's replay).
	late.reopen(t)
	ev(late, "bob", 75*time.Minute)
	require.True(t, balance(t, late, "bob").IsZero(), "dated while inactive, after a reopen")
	ev(late, "bob", 150*time.Minute)
	require.Equal(t, gamify.AmountFromInt(10), balance(t, late, "bob"))
}

// TestTriggerCreatedInactivePaysNoLateEvent: a trigger created inactive was
// never active, so an event dated before its Activate (even before its
// creation) does not pay when it arrives later.
func TestTriggerCreatedInactivePaysNoLateEvent(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	_, err := te.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	te.clock.Set(t0.Add(time.Hour))
	_, err = te.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-xp", System: "coins", Kind: gamify.TriggerMetric,
		Metric: "xp", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10), Status: gamify.StatusInactive})
	require.NoError(t, err)
	te.clock.Set(t0.Add(2 * time.Hour))
	_, err = te.Points().Triggers().Activate(ctx, "per-xp")
	require.NoError(t, err)
	te.clock.Set(t0.Add(3 * time.Hour))
	for _, d := range []time.Duration{30 * time.Minute, 90 * time.Minute} {
		_, err = te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(d)})
		require.NoError(t, err)
	}
	require.True(t, balance(t, te, "ana").IsZero())
	_, err = te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(150 * time.Minute)})
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(10), balance(t, te, "ana"))
}

// TestBoostStatusJudgedAtTheEventsTime: a boost's status, like its window,
// is judged at the event's time: a late event dated while it was active is
// multiplied even if it is inactive now, one dated while it was inactive is
// not after Activate.
func TestBoostStatusJudgedAtTheEventsTime(t *testing.T) {
	ctx := context.Background()
	te := triggerStatusEngine(t)
	_, err := te.Points().Boosts().Create(ctx, gamify.Boost{Key: "double", System: "coins", Scope: gamify.BoostGlobal,
		From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	ev := func(user string, at time.Duration) {
		t.Helper()
		_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: 1, Time: t0.Add(at)})
		require.NoError(t, err)
	}
	te.clock.Set(t0.Add(time.Hour))
	_, err = te.Points().Boosts().Deactivate(ctx, "double")
	require.NoError(t, err)
	te.clock.Set(t0.Add(90 * time.Minute))
	ev("ana", 30*time.Minute) // dated while active, arriving while inactive
	require.Equal(t, gamify.AmountFromInt(20), balance(t, te, "ana"))
	ev("bob", 80*time.Minute) // dated and arriving while inactive
	require.Equal(t, gamify.AmountFromInt(10), balance(t, te, "bob"))
	te.clock.Set(t0.Add(2 * time.Hour))
	_, err = te.Points().Boosts().Activate(ctx, "double")
	require.NoError(t, err)
	te.reopen(t)
	te.clock.Set(t0.Add(3 * time.Hour))
	ev("cy", 75*time.Minute) // dated while inactive, arriving after Activate and a reopen
	require.Equal(t, gamify.AmountFromInt(10), balance(t, te, "cy"))
	ev("dee", 150*time.Minute)
	require.Equal(t, gamify.AmountFromInt(20), balance(t, te, "dee"))
}

// TestBoardPauseJudgedAtTheEventsTime: a paused board ranks no event dated
// while it was paused, whenever the event arrives, and still ranks a late
// event dated before the pause that arrives while it is paused.
func TestBoardPauseJudgedAtTheEventsTime(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	_, err := te.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "all", Name: "All", RankBy: gamify.RankByMetric, Metric: "xp"})
	require.NoError(t, err)
	ev := func(user string, at time.Duration) {
		t.Helper()
		_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: 1, Time: t0.Add(at)})
		require.NoError(t, err)
	}
	score := func(user string) gamify.Amount {
		t.Helper()
		r, err := te.Leaderboards().UserRank(ctx, "all", user)
		require.NoError(t, err)
		return r.Score
	}
	te.clock.Set(t0.Add(30 * time.Minute))
	ev("ana", 30*time.Minute)
	te.clock.Set(t0.Add(time.Hour))
	_, err = te.Leaderboards().Deactivate(ctx, "all")
	require.NoError(t, err)
	te.clock.Set(t0.Add(90 * time.Minute))
	ev("ana", 20*time.Minute) // dated before the pause, arriving during it: counts
	ev("ana", 80*time.Minute) // dated and arriving during the pause: does not
	require.Equal(t, gamify.AmountFromInt(2), score("ana"))
	te.clock.Set(t0.Add(2 * time.Hour))
	_, err = te.Leaderboards().Activate(ctx, "all")
	require.NoError(t, err)
	te.reopen(t)
	te.clock.Set(t0.Add(3 * time.Hour))
	ev("ana", 75*time.Minute) // dated during the pause, arriving after it: does not count
	require.Equal(t, gamify.AmountFromInt(2), score("ana"))
	ev("ana", 150*time.Minute)
	require.Equal(t, gamify.AmountFromInt(3), score("ana"))
}

// TestStreakTriggerGetsTheBoostsOfTheEventsTime: a streak trigger's award is
// multiplied by the boosts of the time of the event that made the run reach
// the multiple, as a metric trigger's is, not by those of its arrival.
func TestStreakTriggerGetsTheBoostsOfTheEventsTime(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "steps")
	_, err := te.Streaks().Create(ctx, dailyStreak("walk", 0))
	require.NoError(t, err)
	_, err = te.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	_, err = te.Points().Triggers().Create(ctx, gamify.Trigger{Key: "daily", System: "coins", Kind: gamify.TriggerStreak,
		Streak: "walk", EveryN: 1, Points: gamify.AmountFromInt(10)})
	require.NoError(t, err)
	day := gamify.Date{Year: t0.Year(), Month: t0.Month(), Day: t0.Day()}
	_, err = te.Points().Boosts().Create(ctx, gamify.Boost{Key: "that-day", System: "coins", Scope: gamify.BoostGlobal,
		From: day, To: day, Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	te.clock.Set(t0.Add(26 * time.Hour)) // the boost's day is over
	_, err = te.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 1000, Time: t0})
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(20), balance(t, te, "ana"), "the day's run, synced the next day")
	_, err = te.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 1000})
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(30), balance(t, te, "ana"), "today's period, unboosted")
}

// triggerOff deactivates the trigger per-xp at t0+from and activates it
// again at t0+to.
func triggerOff(t *testing.T, te *testEngine, from, to time.Duration) {
	t.Helper()
	ctx := context.Background()
	te.clock.Set(t0.Add(from))
	_, err := te.Points().Triggers().Deactivate(ctx, "per-xp")
	require.NoError(t, err)
	te.clock.Set(t0.Add(to))
	_, err = te.Points().Triggers().Activate(ctx, "per-xp")
	require.NoError(t, err)
}

// trackXP tracks one xp for user, dated at t0+at.
func trackXP(t *testing.T, te *testEngine, user string, at time.Duration) {
	t.Helper()
	_, err := te.Track(context.Background(), gamify.Event{Metric: "xp", User: user, Value: 1, Time: t0.Add(at)})
	require.NoError(t, err)
}

// A Patch keeps the intervals a trigger was inactive.
func TestTriggerPatchKeepsItsInactiveTime(t *testing.T) {
	ctx := context.Background()
	te := triggerStatusEngine(t)
	triggerOff(t, te, time.Hour, 2*time.Hour)
	te.clock.Set(t0.Add(3 * time.Hour))
	_, err := te.Points().Triggers().Patch(ctx, "per-xp", func(tr *gamify.Trigger) { tr.UserFilters = nil })
	require.NoError(t, err)
	trackXP(t, te, "ana", 90*time.Minute) // dated while inactive
	require.True(t, balance(t, te, "ana").IsZero(), "dated while inactive, after a Patch: paid %s", balance(t, te, "ana"))
}

// A trigger created inactive, patched, then activated, pays for no event dated before the Activate.
func TestTriggerCreatedInactiveKeepsItAfterAPatch(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	_, err := te.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	te.clock.Set(t0.Add(time.Hour))
	_, err = te.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-xp", System: "coins", Kind: gamify.TriggerMetric,
		Metric: "xp", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10), Status: gamify.StatusInactive})
	require.NoError(t, err)
	_, err = te.Points().Triggers().Patch(ctx, "per-xp", func(tr *gamify.Trigger) { tr.Points = gamify.AmountFromInt(5) })
	require.NoError(t, err)
	te.clock.Set(t0.Add(2 * time.Hour))
	_, err = te.Points().Triggers().Activate(ctx, "per-xp")
	require.NoError(t, err)
	te.clock.Set(t0.Add(3 * time.Hour))
	trackXP(t, te, "ana", 30*time.Minute)
	require.True(t, balance(t, te, "ana").IsZero(), "dated before first Activate: paid %s", balance(t, te, "ana"))
}

// A Patch keeps the intervals a boost was inactive.
func TestBoostPatchKeepsItsInactiveTime(t *testing.T) {
	ctx := context.Background()
	te := triggerStatusEngine(t)
	_, err := te.Points().Boosts().Create(ctx, gamify.Boost{Key: "double", System: "coins", Scope: gamify.BoostGlobal,
		From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	te.clock.Set(t0.Add(time.Hour))
	_, err = te.Points().Boosts().Deactivate(ctx, "double")
	require.NoError(t, err)
	_, err = te.Points().Boosts().Patch(ctx, "double", func(b *gamify.Boost) { b.Name = "Double" })
	require.NoError(t, err)
	te.clock.Set(t0.Add(90 * time.Minute))
	trackXP(t, te, "ana", 30*time.Minute) // dated while active, arriving while inactive
	require.Equal(t, gamify.AmountFromInt(20), balance(t, te, "ana"), "patched while inactive")
}

// Apply patching a trigger keeps the intervals it was inactive.
func TestApplyKeepsATriggersInactiveTime(t *testing.T) {
	ctx := context.Background()
	te := triggerStatusEngine(t)
	triggerOff(t, te, time.Hour, 2*time.Hour)
	tr, err := te.Points().Triggers().Get(ctx, "per-xp")
	require.NoError(t, err)
	tr.Points = gamify.AmountFromInt(11)
	te.clock.Set(t0.Add(3 * time.Hour))
	ps, err := te.Points().Get(ctx, "coins")
	require.NoError(t, err)
	ps.Triggers = []gamify.Trigger{tr}
	_, err = te.Apply(ctx, gamify.Game{Points: []gamify.PointsSystem{ps}})
	require.NoError(t, err)
	trackXP(t, te, "ana", 90*time.Minute) // dated while inactive
	require.True(t, balance(t, te, "ana").IsZero(), "after Apply: paid %s", balance(t, te, "ana"))
}

// A paused streak board takes no streak change dated during the pause.
func TestPausedStreakBoardTakesNoChange(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	_, err := te.Streaks().Create(ctx, gamify.Streak{Key: "walk", Name: "Walk", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
	_, err = te.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "sb", Name: "S", RankBy: gamify.RankByStreak, Streak: "walk"})
	require.NoError(t, err)
	_, err = te.RunDue(ctx)
	require.NoError(t, err)
	trackXP(t, te, "ana", 0)
	te.clock.Set(t0.Add(time.Hour))
	_, err = te.Leaderboards().Deactivate(ctx, "sb")
	require.NoError(t, err)
	te.clock.Set(t0.Add(26 * time.Hour))
	trackXP(t, te, "ana", 26*time.Hour) // dated and arriving while paused
	trackXP(t, te, "bob", 26*time.Hour)
	r, err := te.Leaderboards().UserRank(ctx, "sb", "ana")
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(1), r.Score, "paused board moved")
	_, err = te.Leaderboards().UserRank(ctx, "sb", "bob")
	require.ErrorIs(t, err, gamify.ErrNotFound, "the paused board ranked bob")
}

// A per-user boost retired at its end keeps its inactive intervals in the store.
func TestRetiredBoostKeepsItsInactiveTime(t *testing.T) {
	ctx := context.Background()
	te := triggerStatusEngine(t)
	_, err := te.Points().Boosts().Create(ctx, gamify.Boost{Key: "ana", System: "coins", Scope: gamify.BoostUser, User: "ana",
		Start: t0, End: t0.Add(3 * time.Hour), Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	te.clock.Set(t0.Add(time.Hour))
	_, err = te.Points().Boosts().Deactivate(ctx, "ana")
	require.NoError(t, err)
	te.clock.Set(t0.Add(2 * time.Hour))
	_, err = te.Points().Boosts().Activate(ctx, "ana")
	require.NoError(t, err)
	te.clock.Set(t0.Add(4 * time.Hour))
	_, err = te.RunDue(ctx) // retires it
	require.NoError(t, err)
	te.reopen(t)
	te.clock.Set(t0.Add(5 * time.Hour))
	trackXP(t, te, "ana", 90*time.Minute) // dated while inactive
	require.Equal(t, gamify.AmountFromInt(10), balance(t, te, "ana"), "retired, reopened: not multiplied while it was inactive")
}

// A boost created inactive, activated, then deactivated: a late event dated
// while it was active is not multiplied.
func TestBoostCreatedInactiveMultipliesWhileItWasActive(t *testing.T) {
	ctx := context.Background()
	te := triggerStatusEngine(t)
	_, err := te.Points().Boosts().Create(ctx, gamify.Boost{Key: "double", System: "coins", Scope: gamify.BoostGlobal,
		From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: gamify.AmountFromInt(2), Status: gamify.StatusInactive})
	require.NoError(t, err)
	te.clock.Set(t0.Add(time.Hour))
	_, err = te.Points().Boosts().Activate(ctx, "double")
	require.NoError(t, err)
	te.clock.Set(t0.Add(2 * time.Hour))
	_, err = te.Points().Boosts().Deactivate(ctx, "double")
	require.NoError(t, err)
	te.clock.Set(t0.Add(3 * time.Hour))
	trackXP(t, te, "ana", 90*time.Minute) // dated while active
	require.Equal(t, gamify.AmountFromInt(20), balance(t, te, "ana"))
}

// TestAchievementTriggerJudgedAtTheEventsTime: an achievement trigger's
// award for a completion a late event makes has the trigger's status and
// the boosts of the event's time, not of its arrival.
func TestAchievementTriggerJudgedAtTheEventsTime(t *testing.T) {
	ctx := context.Background()
	got := map[bool]gamify.Amount{}
	for _, late := range []bool{false, true} {
		te := triggerStatusEngine(t)
		err := te.Points().Triggers().Delete(ctx, "per-xp")
		require.NoError(t, err)
		for _, key := range []string{"x1", "x2"} {
			_, err = te.Achievements().Create(ctx, gamify.Achievement{Key: key, Name: key, Kind: gamify.AchievementMetric, Metric: "xp",
				Threshold: gamify.AmountFromInt(1)})
			require.NoError(t, err)
			_, err = te.Points().Triggers().Create(ctx, gamify.Trigger{Key: "on-" + key, System: "coins", Kind: gamify.TriggerAchievement,
				Achievement: key, Points: gamify.AmountFromInt(10)})
			require.NoError(t, err)
		}
		day := gamify.Date{Year: t0.Year(), Month: t0.Month(), Day: t0.Day()}
		_, err = te.Points().Boosts().Create(ctx, gamify.Boost{Key: "that-day", System: "coins", Scope: gamify.BoostGlobal,
			From: day, To: day, Multiplier: gamify.AmountFromInt(2)})
		require.NoError(t, err)
		if !late {
			te.clock.Set(t0.Add(time.Hour))
			trackXP(t, te, "ana", time.Hour)
		}
		te.clock.Set(t0.Add(2 * time.Hour))
		_, err = te.Points().Triggers().Deactivate(ctx, "on-x1")
		require.NoError(t, err)
		te.clock.Set(t0.Add(26 * time.Hour)) // the boost's day is over
		if late {
			trackXP(t, te, "ana", time.Hour)
		}
		got[late] = balance(t, te, "ana")
	}
	require.Equal(t, gamify.AmountFromInt(40), got[false], "on time: both triggers, boosted")
	require.Equal(t, got[false], got[true], "late")
}

// TestSystemStatusJudgedAtTheEventsTime: a points system's status is judged
// at the event's time like a trigger's: a late event dated while the
// system was active pays even if it arrives while the system is inactive
// (and after a reopen), one dated while it was inactive pays nothing after
// Activate. Award and Spend, made now, go by its status now.
func TestSystemStatusJudgedAtTheEventsTime(t *testing.T) {
	ctx := context.Background()
	te := triggerStatusEngine(t)
	ev := func(user string, at time.Duration) {
		t.Helper()
		_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: 1, Time: t0.Add(at)})
		require.NoError(t, err)
	}
	te.clock.Set(t0.Add(time.Hour))
	s, err := te.Points().Deactivate(ctx, "coins")
	require.NoError(t, err)
	require.Equal(t, []gamify.Interval{{From: t0.Add(time.Hour)}}, s.Inactive)
	te.clock.Set(t0.Add(90 * time.Minute))
	ev("ana", 30*time.Minute) // dated while active
	require.Equal(t, gamify.AmountFromInt(10), balance(t, te, "ana"), "dated while active, arriving while inactive")
	_, err = te.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(1)})
	require.ErrorIs(t, err, gamify.ErrConflict, "a manual award goes by the status now")
	te.reopen(t)
	ev("bo", 20*time.Minute)
	require.Equal(t, gamify.AmountFromInt(10), balance(t, te, "bo"), "the interval is stored")

	te.clock.Set(t0.Add(2 * time.Hour))
	s, err = te.Points().Activate(ctx, "coins")
	require.NoError(t, err)
	require.Equal(t, []gamify.Interval{{From: t0.Add(time.Hour), To: t0.Add(2 * time.Hour)}}, s.Inactive)
	te.clock.Set(t0.Add(3 * time.Hour))
	ev("ana", 80*time.Minute) // dated while inactive
	require.Equal(t, gamify.AmountFromInt(10), balance(t, te, "ana"), "dated while inactive, arriving after Activate")
	ev("ana", 150*time.Minute)
	require.Equal(t, gamify.AmountFromInt(20), balance(t, te, "ana"))

	_, err = te.Points().Patch(ctx, "coins", func(s *gamify.PointsSystem) { s.Inactive = nil })
	var ve *gamify.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "PointsSystem.Inactive", ve.Field)
}

// A system created inactive was inactive since ever: no event dated before
// its first Activate pays, whenever it arrives.
func TestSystemCreatedInactivePaysNothingBeforeItsActivation(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	_, err := te.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins", Status: gamify.StatusInactive,
		Triggers: []gamify.Trigger{{Key: "per-xp", Kind: gamify.TriggerMetric, Metric: "xp", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)}}})
	require.NoError(t, err)
	te.clock.Set(t0.Add(time.Hour))
	_, err = te.Points().Activate(ctx, "coins")
	require.NoError(t, err)
	te.clock.Set(t0.Add(2 * time.Hour))
	for _, at := range []time.Duration{30 * time.Minute, 90 * time.Minute} {
		_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(at)})
		require.NoError(t, err)
	}
	require.Equal(t, gamify.AmountFromInt(10), balance(t, te, "ana"), "only the event after the activation pays")
}

// A streak milestone's points, paid by a late event dated while the system
// was active, are paid as on time, though the system is inactive when the
// event arrives.
func TestSystemStatusOfAMilestoneJudgedAtTheEventsTime(t *testing.T) {
	ctx := context.Background()
	got := map[bool]gamify.Amount{}
	for _, late := range []bool{false, true} {
		te := triggerStatusEngine(t)
		_, err := te.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
			Metrics:    []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}},
			Milestones: []gamify.StreakMilestone{{Length: 1, System: "coins", Points: gamify.AmountFromInt(5)}}})
		require.NoError(t, err)
		ev := func() {
			_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(30 * time.Minute)})
			require.NoError(t, err)
		}
		if !late {
			te.clock.Set(t0.Add(30 * time.Minute))
			ev()
		}
		te.clock.Set(t0.Add(time.Hour))
		_, err = te.Points().Deactivate(ctx, "coins")
		require.NoError(t, err)
		te.clock.Set(t0.Add(90 * time.Minute))
		if late {
			ev()
		}
		got[late] = balance(t, te, "ana")
	}
	require.Equal(t, gamify.AmountFromInt(15), got[false], "the trigger's 10 and the milestone's 5")
	require.Equal(t, got[false], got[true])
}

// Two transitions of one late event in a system inactive when it arrives
// report the level change as a promotion, as with the system active.
func TestSystemStatusOfALevelChangeJudgedAtTheEventsTime(t *testing.T) {
	ctx := context.Background()
	for _, deactivated := range []bool{false, true} {
		te := triggerStatusEngine(t)
		for _, l := range []gamify.Level{{Key: "bronze", Name: "Bronze", Level: 1, Threshold: gamify.AmountFromInt(10)},
			{Key: "silver", Name: "Silver", Level: 2, Threshold: gamify.AmountFromInt(20)}} {
			_, err := te.Points().Levels("coins").Create(ctx, l)
			require.NoError(t, err)
		}
		_, err := te.Achievements().Create(ctx, gamify.Achievement{Key: "x1", Name: "X1", Kind: gamify.AchievementMetric,
			Metric: "xp", Threshold: gamify.AmountFromInt(1)})
		require.NoError(t, err)
		_, err = te.Points().Triggers().Create(ctx, gamify.Trigger{Key: "on-x1", System: "coins", Kind: gamify.TriggerAchievement,
			Achievement: "x1", Points: gamify.AmountFromInt(10)})
		require.NoError(t, err)
		te.clock.Set(t0.Add(time.Hour))
		if deactivated {
			_, err = te.Points().Deactivate(ctx, "coins")
			require.NoError(t, err)
		}
		te.clock.Set(t0.Add(90 * time.Minute))
		res, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(30 * time.Minute)})
		require.NoError(t, err)
		require.Len(t, res.Points, 1, "deactivated=%v", deactivated)
		require.NotNil(t, res.Points[0].Level, "deactivated=%v", deactivated)
		require.Equal(t, "silver", res.Points[0].Level.To, "deactivated=%v", deactivated)
		require.True(t, res.Points[0].Level.Promotion, "deactivated=%v", deactivated)
	}
}

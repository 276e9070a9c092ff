package gamify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// The repros of the arrival-order rule for streaks (docs/behaviour.md,
// "Arrival order"): rewards tied to streak lengths are paid once per run
// whatever the order events arrive in, and notifications describe a call's
// net change.

// day1 is noon of the first day of the repros (UTC).
var day1 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func onDay(n int) time.Time { return day1.AddDate(0, 0, n-1) }

// bonusEngine has a daily "lessons" streak, a points system "xp" with a
// streak trigger paying 20 every 7 days (and, with every8, 5 every 8 days)
// and a length-8 streak achievement.
func bonusEngine(t *testing.T, every8 bool) *testEngine {
	t.Helper()
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(day1)
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "week", System: "xp", Kind: gamify.TriggerStreak, Streak: "daily", EveryN: 7, Points: gamify.AmountFromInt(20)})
	require.NoError(t, err)
	if every8 {
		_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "eight", System: "xp", Kind: gamify.TriggerStreak, Streak: "daily", EveryN: 8, Points: gamify.AmountFromInt(5)})
		require.NoError(t, err)
	}
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "eight-days", Name: "Eight days", Kind: gamify.AchievementStreak, Streak: "daily", Length: 8})
	require.NoError(t, err)
	return eng
}

// lesson tracks one lesson for user dated at (the clock is not moved).
func lesson(t *testing.T, eng *testEngine, user string, at time.Time) gamify.EventResult {
	t.Helper()
	r, err := eng.Track(context.Background(), gamify.Event{Metric: "lessons", User: user, Value: 1, Time: at})
	require.NoError(t, err)
	return r
}

// liveDays tracks a lesson at noon of each day from..to, moving the clock
// to that noon first and running the due jobs (the period ends).
func liveDays(t *testing.T, eng *testEngine, user string, from, to int) {
	t.Helper()
	for d := from; d <= to; d++ {
		setClock(t, eng, onDay(d))
		lesson(t, eng, user, onDay(d))
	}
}

func setClock(t *testing.T, eng *testEngine, at time.Time) {
	t.Helper()
	eng.clock.Set(at)
	_, err := eng.RunDue(context.Background())
	require.NoError(t, err)
}

func xpTotal(t *testing.T, eng *testEngine, user string) gamify.Amount {
	t.Helper()
	p, err := eng.Users().Points(context.Background(), user, "xp")
	require.NoError(t, err)
	return p.Total
}

func completed(t *testing.T, eng *testEngine, user, key string) bool {
	t.Helper()
	as, err := eng.Achievements().User(context.Background(), user, false)
	require.NoError(t, err)
	for _, a := range as {
		if a.Key == key && a.Completed {
			return true
		}
	}
	return false
}

// Issue repro: 7 daily events pay 20; day 8 is missed; at day 9 noon the
// streak is lost; the back-dated day-8 event then makes the streak 8 and
// must pay nothing more (it paid a second 20 for the same run).
func TestStreakTriggerRepairPaysOncePerRun(t *testing.T) {
	eng := bonusEngine(t, false)
	liveDays(t, eng, "ana", 1, 7)
	require.Equal(t, gamify.AmountFromInt(20), xpTotal(t, eng, "ana"))
	setClock(t, eng, onDay(9))
	s, err := eng.Users().Streak(context.Background(), "ana", "daily")
	require.NoError(t, err)
	require.Equal(t, 0, s.Length, "lost at the end of day 8")

	r := lesson(t, eng, "ana", onDay(8))
	require.Equal(t, 8, r.Streak.Length, "the late day-8 event repairs the run")
	require.Equal(t, gamify.AmountFromInt(20), xpTotal(t, eng, "ana"), "the 7-day bonus of the run was paid already")
	require.Empty(t, r.Points, "nothing paid by the repair")
	require.True(t, completed(t, eng, "ana", "eight-days"))
}

// Issue repro: days 8 and 9 missed; at day 10 the day-8 event arrives: the
// ended run is now 8 long, so the length-8 achievement completes and an
// every-8 trigger pays once, although the current length is 0.
func TestStreakRepairOfEndedRunCompletesAndPays(t *testing.T) {
	eng := bonusEngine(t, true)
	liveDays(t, eng, "ana", 1, 7)
	setClock(t, eng, onDay(10))
	r := lesson(t, eng, "ana", onDay(8))
	require.Equal(t, 0, r.Streak.Length, "day 9 is still missed")
	s, err := eng.Users().Streak(context.Background(), "ana", "daily")
	require.NoError(t, err)
	require.Equal(t, 8, s.Longest)
	require.True(t, completed(t, eng, "ana", "eight-days"), "the run reached 8")
	require.Equal(t, gamify.AmountFromInt(25), xpTotal(t, eng, "ana"), "20 at 7 live, 5 at 8 by the repair")
	require.Len(t, r.Achievements, 1)
}

// A late event joining two runs pays what the joined run is owed,
// floor(len/N), minus what both parts were paid (main paid the merged run
// from zero).
func TestStreakJoinedRunsPayTheDifference(t *testing.T) {
	eng := bonusEngine(t, false)
	liveDays(t, eng, "ana", 1, 7)   // run 1..7: 20
	liveDays(t, eng, "ana", 9, 15)  // run 9..15: 7 long, 20
	liveDays(t, eng, "ana", 17, 19) // run 17..19
	require.Equal(t, gamify.AmountFromInt(40), xpTotal(t, eng, "ana"))
	setClock(t, eng, onDay(19).Add(time.Hour))
	lesson(t, eng, "ana", onDay(16)) // joins 9..15 and 17..19: 11 long, owes 1, paid 1
	require.Equal(t, gamify.AmountFromInt(40), xpTotal(t, eng, "ana"))
	lesson(t, eng, "ana", onDay(8)) // joins 1..7 and 9..19: 19 long, owes 2, paid 2
	require.Equal(t, gamify.AmountFromInt(40), xpTotal(t, eng, "ana"))
	setClock(t, eng, onDay(21))
	lesson(t, eng, "ana", onDay(20)) // 20 long: still 2 multiples
	require.Equal(t, gamify.AmountFromInt(40), xpTotal(t, eng, "ana"))
	lesson(t, eng, "ana", onDay(21)) // 21: the third multiple
	require.Equal(t, gamify.AmountFromInt(60), xpTotal(t, eng, "ana"))

	// The same events delivered at the end in one batch pay the same.
	var evs []gamify.Event
	for d := 21; d >= 1; d-- {
		evs = append(evs, gamify.Event{Metric: "lessons", User: "bo", Value: 1, Time: onDay(d)})
	}
	_, err := eng.TrackBatch(context.Background(), evs)
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(60), xpTotal(t, eng, "bo"))
}

// streakNotes subscribes, runs f, closes the subscription (which drains it)
// and returns the streak notifications as "kind(length)".
func streakNotes(t *testing.T, eng *testEngine, f func()) []string {
	t.Helper()
	log := &noteLog{}
	sub := eng.Subscribe(log.add)
	f()
	sub.Close()
	var out []string
	for _, n := range log.notes {
		out = append(out, fmt.Sprintf("%s(%d)", n.Kind, n.Length))
	}
	return out
}

// Issue repro: a new user's events dated 3, 2 and 1 days ago, sent oldest
// first (singly or in one batch), emitted lost(1), lost(2), repaired(3): the
// user never had those streaks. Newest first in one batch gave three
// repaired; a batch now reports its net change, whatever its order.
func TestStreakLateSyncNotifiesTheNetChange(t *testing.T) {
	eng := bonusEngine(t, false)
	setClock(t, eng, onDay(10))
	ago := func(user string, days ...int) []gamify.Event {
		var evs []gamify.Event
		for _, d := range days {
			evs = append(evs, gamify.Event{Metric: "lessons", User: user, Value: 1, Time: onDay(10 - d)})
		}
		return evs
	}
	for _, c := range []struct {
		name  string
		user  string
		evs   []gamify.Event
		batch bool
		want  []string
	}{
		{"oldest first, singly", "u1", ago("u1", 3, 2, 1), false, []string{"repaired(3)"}},
		{"oldest first, one batch", "u2", ago("u2", 3, 2, 1), true, []string{"repaired(3)"}},
		{"newest first, one batch", "u3", ago("u3", 1, 2, 3), true, []string{"repaired(3)"}},
		{"mixed, one batch", "u4", ago("u4", 2, 3, 1), true, []string{"repaired(3)"}},
		// Singly, each call's net change is what the user saw at that moment.
		{"newest first, singly", "u5", ago("u5", 1, 2, 3), false, []string{"repaired(1)", "repaired(2)", "repaired(3)"}},
	} {
		got := streakNotes(t, eng, func() {
			if c.batch {
				_, err := eng.TrackBatch(context.Background(), c.evs)
				require.NoError(t, err)
				return
			}
			for _, ev := range c.evs {
				_, err := eng.Track(context.Background(), ev)
				require.NoError(t, err)
			}
		})
		require.Equal(t, c.want, got, c.name)
		s, err := eng.Users().Streak(context.Background(), c.user, "daily")
		require.NoError(t, err)
		require.Equal(t, 3, s.Length, c.name)
	}
}

// A streak the same call repairs is not reported lost: the user had 5,
// missed yesterday, and syncs yesterday's lesson today (no job ran between).
func TestStreakLossRepairedInTheSameCallIsNotNotified(t *testing.T) {
	for _, c := range []struct {
		name  string
		evs   []int // days of the events, sent at day 7 noon
		batch bool
		want  []string
	}{
		{"late event", []int{6}, false, []string{"repaired(6)"}},
		{"late then today, one batch", []int{6, 7}, true, []string{"extended(7)"}},
		{"today then late, one batch", []int{7, 6}, true, []string{"extended(7)"}},
		{"today only: the loss is real", []int{7}, false, []string{"lost(5)", "started(1)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			eng := bonusEngine(t, false)
			liveDays(t, eng, "ana", 1, 5)
			eng.clock.Set(onDay(7)) // no RunDue: the loss is found by the call
			got := streakNotes(t, eng, func() {
				var evs []gamify.Event
				for _, d := range c.evs {
					evs = append(evs, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: onDay(d)})
				}
				if c.batch {
					_, err := eng.TrackBatch(context.Background(), evs)
					require.NoError(t, err)
					return
				}
				for _, ev := range evs {
					_, err := eng.Track(context.Background(), ev)
					require.NoError(t, err)
				}
			})
			require.Equal(t, c.want, got)
		})
	}
}

// testdata/streaks-v3.db was written by the engine before streak rewards
// followed the history (schema 3; the bonusEngine game without "eight",
// clock at day 10 noon): ana had days 1-7 (paid 20) and synced day 8 on day
// 10 (the ended run became 8, unpaid, the achievement not completed); bo had
// days 1-7, synced day 8 on day 9 (paid a second 20) and day 9. Its records
// decode unchanged, and what their history holds counts as paid: nothing is
// paid twice after the upgrade, and later multiples are paid once.
func TestStreakRewardsOfAnUpgradedFile(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile("testdata/streaks-v3.db")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "old.db")
	require.NoError(t, os.WriteFile(path, src, 0o600))
	clock := gamify.NewManualClock(onDay(10))
	eng, err := gamify.Open(path, &gamify.Options{Clock: clock})
	require.NoError(t, err)
	te := &testEngine{Engine: eng, path: path, clock: clock}
	t.Cleanup(func() { te.closeChecked(t) })

	require.Equal(t, gamify.AmountFromInt(20), xpTotal(t, te, "ana"))
	require.Equal(t, gamify.AmountFromInt(40), xpTotal(t, te, "bo"))
	h, err := eng.Users().StreakHistory(ctx, "ana", "daily", 10)
	require.NoError(t, err)
	require.Equal(t, 8, h[7].Length, "ana's run 1..8 as the old engine stored it")
	last7, err := eng.Users().StreakHistory(ctx, "ana", "daily", 0) // 0: the default, 7 periods
	require.NoError(t, err)
	require.Equal(t, h[3:], last7)

	liveDays(t, te, "ana", 10, 17) // a new run of 8
	require.Equal(t, gamify.AmountFromInt(40), xpTotal(t, te, "ana"), "the new run's 7 is paid once, the old run counts as paid")
	require.True(t, completed(t, te, "ana", "eight-days"))

	s, err := eng.Users().Streak(ctx, "bo", "daily")
	require.NoError(t, err)
	require.Equal(t, 0, s.Length, "bo missed day 10")
	setClock(t, te, onDay(17).Add(time.Hour))
	lesson(t, te, "bo", onDay(10)) // joins 1..9 and nothing: 10 long, no new multiple of 7
	require.Equal(t, gamify.AmountFromInt(40), xpTotal(t, te, "bo"))
	for d := 11; d <= 14; d++ {
		lesson(t, te, "bo", onDay(d))
	}
	require.Equal(t, gamify.AmountFromInt(60), xpTotal(t, te, "bo"), "14: the second multiple of the run, once")
}

// A restore carries on the run it restores: its multiples are not paid
// again (main paid the restored run's 7 a second time).
func TestStreakRestoreDoesNotPayTheRunAgain(t *testing.T) {
	ctx := context.Background()
	eng := bonusEngine(t, false)
	liveDays(t, eng, "ana", 1, 8)
	setClock(t, eng, onDay(10))
	_, issues, err := eng.Streaks().Restore(ctx, "daily", []string{"ana"})
	require.NoError(t, err)
	require.Empty(t, issues)
	s, err := eng.Users().Streak(ctx, "ana", "daily")
	require.NoError(t, err)
	require.Equal(t, 8, s.Length)
	require.Equal(t, gamify.AmountFromInt(20), xpTotal(t, eng, "ana"))
	liveDays(t, eng, "ana", 10, 14) // 8 restored + 5
	require.Equal(t, gamify.AmountFromInt(20), xpTotal(t, eng, "ana"), "13 long")
	liveDays(t, eng, "ana", 15, 15)
	require.Equal(t, gamify.AmountFromInt(40), xpTotal(t, eng, "ana"), "14: the run's second multiple")
}

// TestLateEventMeetingWithItsGraceWindowReplays: a late event that meets
// its period only together with an activity already in the period's grace
// window repairs the run as if it had come on time: length, longest and
// the milestone it reaches, not only the history.
func TestLateEventMeetingWithItsGraceWindowReplays(t *testing.T) {
	ctx := context.Background()
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	run := func(late bool) (gamify.UserStreak, gamify.Amount, []gamify.StreakPeriod) {
		te := openTest(t, nil)
		mustMetric(t, te.Engine, "xp")
		_, err := te.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
		require.NoError(t, err)
		_, err = te.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily, GraceHours: 6,
			Metrics:    []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(2)}},
			Milestones: []gamify.StreakMilestone{{Length: 3, System: "coins", Points: gamify.AmountFromInt(50)}}})
		require.NoError(t, err)
		ev := func(now, when time.Time, v float64) {
			te.clock.Set(now)
			_, err := te.RunDue(ctx)
			require.NoError(t, err)
			_, err = te.Track(ctx, gamify.Event{User: "ana", Metric: "xp", Value: v, Time: when})
			require.NoError(t, err)
		}
		ev(at(8, 10), at(8, 10), 2)
		if !late {
			ev(at(9, 20), at(9, 20), 1)
		}
		ev(at(10, 3), at(10, 3), 1) // inside 9 March's grace window too
		ev(at(10, 10), at(10, 10), 1)
		if late {
			ev(at(10, 12), at(9, 20), 1) // 16 hours late
		}
		st, err := te.Users().Streak(ctx, "ana", "daily")
		require.NoError(t, err)
		p, err := te.Users().Points(ctx, "ana", "coins")
		require.NoError(t, err)
		h, err := te.Users().StreakHistory(ctx, "ana", "daily", 3)
		require.NoError(t, err)
		return st, p.Total, h
	}
	s1, p1, h1 := run(false)
	s2, p2, h2 := run(true)
	require.Equal(t, h1, h2)
	require.Equal(t, 3, s1.Length)
	require.Equal(t, gamify.AmountFromInt(50), p1)
	require.Equal(t, s1.Length, s2.Length, "length")
	require.Equal(t, s1.Longest, s2.Longest, "longest")
	require.Equal(t, p1, p2, "the milestone")
}

package gamify_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// What a run cut short gives back, and what it keeps (docs/behaviour.md,
// "Arrival order", freezes; "Streak milestones").

// takebackEngine has a daily "lessons" streak with one freeze, a points system
// "xp" and a streak trigger "day" paying 10 every everyN days.
func takebackEngine(t *testing.T, opts *gamify.Options, everyN int) *testEngine {
	ctx := context.Background()
	eng := openTest(t, opts)
	eng.clock.Set(day1)
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}, Freezes: gamify.StreakFreezes{Initial: 1, Max: 1}})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "day", System: "xp", Kind: gamify.TriggerStreak, Streak: "daily", EveryN: everyN, Points: gamify.AmountFromInt(10)})
	require.NoError(t, err)
	return eng
}

// A restore gives a run back and takes nothing back. Days 1..5 live pay 5
// multiples, the 6th and 7th are lost, days 8 and 9 pay 2 more (70). A
// Restore on the 9th lifts the streak to 6: the restored run had reached 5,
// so it pays the 6th (80). The 9th moves into the restored run and the run
// of the 8th is 1 long, but it keeps its 2 multiples.
func TestStreakRestoreTakesNoTriggerMultipleBack(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(day1)
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "day", System: "xp", Kind: gamify.TriggerStreak, Streak: "daily", EveryN: 1, Points: gamify.AmountFromInt(10)})
	require.NoError(t, err)
	liveDays(t, eng, "ana", 1, 5)
	liveDays(t, eng, "ana", 8, 9)
	require.Equal(t, gamify.AmountFromInt(70), xpTotal(t, eng, "ana"))
	res, _, err := eng.Streaks().Restore(ctx, "daily", []string{"ana"})
	require.NoError(t, err)
	require.Equal(t, 6, res[0].Length)
	aw, err := eng.Users().Awards(ctx, "ana", "xp", gamify.ListOptions{Limit: 100})
	require.NoError(t, err)
	for _, a := range aw {
		require.Positive(t, a.Multiple, "a restore takes nothing back: %+v", a)
	}
	require.Equal(t, gamify.AmountFromInt(80), xpTotal(t, eng, "ana"), "the restored run pays its 6th multiple")
}

// The same for a milestone: the run of the 8th reached 2 and keeps its 5
// gems after the restore.
func TestStreakRestoreTakesNoMilestoneBack(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(day1)
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	_, err = eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics:    []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
		Milestones: []gamify.StreakMilestone{{Length: 2, System: "gems", Points: gamify.AmountFromInt(5)}}})
	require.NoError(t, err)
	liveDays(t, eng, "ana", 1, 5)
	liveDays(t, eng, "ana", 8, 9)
	require.Equal(t, gamify.AmountFromInt(10), gems(t, eng, "ana"), "each run reached 2")
	_, _, err = eng.Streaks().Restore(ctx, "daily", []string{"ana"})
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(10), gems(t, eng, "ana"), "a restore takes no milestone back")
}

// Days 5, 6 and 8 live pay the trigger 3 × 10; the system is deactivated;
// days 2 and 1 arrive late, dated while it was active: they pay their runs
// (+20) and cut the run of the 5th short, whose 8th multiple is given back,
// judged at the time it was paid, as the payment was: 50, as in order.
func TestStreakTriggerTakeBackInASystemInactiveSince(t *testing.T) {
	ctx := context.Background()
	eng := takebackEngine(t, nil, 1)
	for _, d := range []int{5, 6, 8} {
		setClock(t, eng, onDay(d))
		lesson(t, eng, "ana", onDay(d))
	}
	setClock(t, eng, onDay(9))
	_, err := eng.Points().Deactivate(ctx, "xp")
	require.NoError(t, err)
	lesson(t, eng, "ana", onDay(2))
	lesson(t, eng, "ana", onDay(1))
	require.Equal(t, gamify.AmountFromInt(50), xpTotal(t, eng, "ana"), "the 8th's multiple, paid while the system was active, is given back: 50 as in order")
}

// The same for a milestone: its points are given back, not skipped.
func TestStreakMilestoneTakeBackInASystemInactiveSince(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(day1)
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	_, err = eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics:    []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
		Freezes:    gamify.StreakFreezes{Initial: 1, Max: 1},
		Milestones: []gamify.StreakMilestone{{Length: 3, System: "gems", Points: gamify.AmountFromInt(5)}}})
	require.NoError(t, err)
	for _, d := range []int{5, 6, 8} {
		setClock(t, eng, onDay(d))
		lesson(t, eng, "ana", onDay(d))
	}
	require.Equal(t, gamify.AmountFromInt(5), gems(t, eng, "ana"))
	setClock(t, eng, onDay(9))
	_, err = eng.Points().Deactivate(ctx, "gems")
	require.NoError(t, err)
	var ms []gamify.MilestoneReached
	for _, d := range []int{2, 1} {
		ms = append(ms, lesson(t, eng, "ana", onDay(d)).Milestones...)
	}
	require.Len(t, ms, 1)
	require.True(t, ms[0].Reversed)
	require.Empty(t, ms[0].Skipped, "judged at the paying event's time, when the system was active (%+v)", ms[0])
	require.Equal(t, gamify.AmountFromInt(-5), ms[0].Points)
	require.Zero(t, gems(t, eng, "ana"), "as in order: the run never reached 3")
}

// A streak trigger paying every day (EveryN 1) is patched to every 3 days
// on the evening of day 7 in both deliveries; one freeze. In order (days 1,
// 2, 5, 6 before the patch, 8 after) the runs 1..2 and 5..6 pay 2 each and
// the run of the 8th nothing: 40. Late (5 and 6 live: 20; the patch; the
// 8th: the freeze covers the 7th, the run reaches 3: +10; the 2nd and 1st
// on the 9th, paid nothing with EveryN 3, cut the run of the 5th back to
// 2), the record of the run keeps only the payment made with EveryN 3: its
// 10 are given back, the 20 paid with EveryN 1 stay. The rest of the
// difference is the patch, which applies to what arrives after it.
func TestStreakTriggerEveryNPatchedBetweenPayments(t *testing.T) {
	ctx := context.Background()
	patchAt := onDay(7).Add(8 * 3600e9)
	patch := func(eng *testEngine) {
		setClock(t, eng, patchAt)
		_, err := eng.Points().Triggers().Patch(ctx, "day", func(tr *gamify.Trigger) { tr.EveryN = 3 })
		require.NoError(t, err)
	}
	inOrder := takebackEngine(t, nil, 1)
	for _, d := range []int{1, 2, 5, 6} {
		setClock(t, inOrder, onDay(d))
		lesson(t, inOrder, "ana", onDay(d))
	}
	patch(inOrder)
	setClock(t, inOrder, onDay(8))
	lesson(t, inOrder, "ana", onDay(8))
	setClock(t, inOrder, onDay(9))

	late := takebackEngine(t, nil, 1)
	for _, d := range []int{5, 6} {
		setClock(t, late, onDay(d))
		lesson(t, late, "ana", onDay(d))
	}
	patch(late)
	setClock(t, late, onDay(8))
	lesson(t, late, "ana", onDay(8))
	require.Equal(t, gamify.AmountFromInt(30), xpTotal(t, late, "ana"))
	setClock(t, late, onDay(9))
	lesson(t, late, "ana", onDay(2))
	lesson(t, late, "ana", onDay(1))
	require.Equal(t, gamify.AmountFromInt(40), xpTotal(t, inOrder, "ana"))
	require.Equal(t, gamify.AmountFromInt(20), xpTotal(t, late, "ana"),
		"the 8th's multiple of 3 is given back; the 20 paid with EveryN 1 stay, the run still holds them; days 1 and 2 arrive after the patch")
}

// A late event that moves a freeze to an earlier gap cuts a paid run short:
// the trigger's multiples the shorter run no longer reaches are taken back
// in its name, and the part cut off is a run of its own. Days 5, 6 and 8
// live with one freeze (the 7th frozen: one run of 3, paid 3 × 10), then
// the 2nd and the 1st late: the freeze covers the 3rd, the 4th and the 7th
// are lost, and the runs are 1..3 (2), 5..6 (2) and 8 (1): 5 × 10, as
// delivered in order.
func TestStreakTriggerRunCutShortByAMovedFreezeIsTakenBack(t *testing.T) {
	ctx := context.Background()
	inOrder := takebackEngine(t, nil, 1)
	setClock(t, inOrder, onDay(9))
	for _, d := range []int{1, 2, 5, 6, 8} {
		lesson(t, inOrder, "ana", onDay(d))
	}
	require.Equal(t, gamify.AmountFromInt(50), xpTotal(t, inOrder, "ana"))

	late := takebackEngine(t, nil, 1)
	for _, d := range []int{5, 6, 8} {
		setClock(t, late, onDay(d))
		lesson(t, late, "ana", onDay(d))
	}
	require.Equal(t, gamify.AmountFromInt(30), xpTotal(t, late, "ana"), "the freeze covers the 7th")
	setClock(t, late, onDay(9))
	r := lesson(t, late, "ana", onDay(2))
	require.Equal(t, []gamify.PointsChange{{System: "xp", Added: gamify.AmountFromInt(10), Total: gamify.AmountFromInt(40)}}, pointsSummary(r.Points),
		"the 8th's multiple taken back (-10), the runs of the 2nd and of the 8th paid one each (+20)")
	late.reopen(t) // the records are stored
	lesson(t, late, "ana", onDay(1))
	require.Equal(t, xpTotal(t, inOrder, "ana"), xpTotal(t, late, "ana"))
	aw, err := late.Users().Awards(ctx, "ana", "xp", gamify.ListOptions{})
	require.NoError(t, err)
	var multiples int64
	var back []gamify.Award
	for _, a := range aw {
		require.Equal(t, "day", a.Trigger)
		multiples += a.Multiple
		if a.Multiple < 0 {
			back = append(back, a)
		}
	}
	require.Equal(t, int64(5), multiples, "the trigger's awards sum to the runs' multiples")
	require.Len(t, back, 1)
	require.Equal(t, gamify.AmountFromInt(-10), back[0].Points)
	require.NoError(t, late.Check(ctx))
}

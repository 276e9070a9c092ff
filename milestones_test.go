package gamify_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// milestoneEngine has a daily "lessons" streak with two milestones: 3 days
// pay 5 gems; 7 days complete the manual achievement "week" and claim the
// reward "badge" (a digital reward costing 100 gems, free at the milestone).
func milestoneEngine(t *testing.T, opts *gamify.Options) *testEngine {
	t.Helper()
	ctx := context.Background()
	eng := openTest(t, opts)
	eng.clock.Set(day1)
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "week", Name: "A week", Kind: gamify.AchievementManual})
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "badge", Name: "Badge", Type: gamify.RewardDigital, System: "gems", Cost: gamify.AmountFromInt(100)})
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "shop", Name: "Shop item", Type: gamify.RewardPhysical, System: "gems", Cost: gamify.AmountFromInt(8)})
	require.NoError(t, err)
	_, err = eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
		Milestones: []gamify.StreakMilestone{
			{Length: 3, System: "gems", Points: gamify.AmountFromInt(5)},
			{Length: 7, Achievement: "week", Reward: "badge"},
		}})
	require.NoError(t, err)
	return eng
}

func gems(t *testing.T, eng *testEngine, user string) gamify.Amount {
	t.Helper()
	p, err := eng.Users().Points(context.Background(), user, "gems")
	require.NoError(t, err)
	return p.Total
}

func milestoneLengths(ms []gamify.MilestoneReached) []int {
	var out []int
	for _, m := range ms {
		out = append(out, m.Length)
	}
	return out
}

func claimCount(t *testing.T, eng *testEngine, user string) int {
	t.Helper()
	cs, err := eng.Users().Claims(context.Background(), user)
	require.NoError(t, err)
	return len(cs)
}

func TestStreakMilestonesPayLiveOncePerRun(t *testing.T) {
	ctx := context.Background()
	eng := milestoneEngine(t, nil)
	var notes []gamify.StreakMilestoneReached
	var sub *gamify.Subscription
	var paid []int
	for d := 1; d <= 7; d++ {
		setClock(t, eng, onDay(d))
		r := lesson(t, eng, "ana", onDay(d))
		paid = append(paid, milestoneLengths(r.Milestones)...)
		switch d {
		case 3:
			require.Equal(t, []gamify.MilestoneReached{{Streak: "daily", Length: 3, RunStart: gamify.Date{Year: 2026, Month: time.March, Day: 2},
				System: "gems", Points: gamify.AmountFromInt(5)}}, r.Milestones)
			require.Equal(t, []gamify.PointsChange{{System: "gems", Added: gamify.AmountFromInt(5), Total: gamify.AmountFromInt(5)}}, pointsSummary(r.Points))
		case 7:
			require.Len(t, r.Milestones, 1)
			m := r.Milestones[0]
			require.Equal(t, "week", m.Achievement)
			require.Equal(t, "badge", m.Reward)
			require.NotZero(t, m.Claim)
			require.NotEmpty(t, m.Code, "a digital reward generates a code")
			require.Empty(t, m.Skipped)
			require.Equal(t, []string{"week"}, achievementKeys(r.Achievements), "the completion is in the event's result")
		}
		if d == 4 {
			eng.reopen(t) // milestones are part of the stored definition
			sub = eng.Subscribe(func(n gamify.Notification) {
				if m, ok := n.(gamify.StreakMilestoneReached); ok {
					notes = append(notes, m)
				}
			})
		}
	}
	require.Equal(t, []int{3, 7}, paid)
	require.Equal(t, gamify.AmountFromInt(5), gems(t, eng, "ana"), "the badge was free")
	cs, err := eng.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.True(t, cs[0].Cost.IsZero())
	require.True(t, completed(t, eng, "ana", "week"))

	// The run goes on: nothing more. Lost at day 9, a new run pays 3 again.
	liveDays(t, eng, "ana", 8, 8)
	setClock(t, eng, onDay(10))
	for d := 10; d <= 12; d++ {
		setClock(t, eng, onDay(d))
		r := lesson(t, eng, "ana", onDay(d))
		paid = append(paid, milestoneLengths(r.Milestones)...)
	}
	require.Equal(t, []int{3, 7, 3}, paid)
	require.Equal(t, gamify.AmountFromInt(10), gems(t, eng, "ana"))
	sub.Close()
	require.Equal(t, []int{7, 3}, milestoneLengths(notesOf(notes)), "notified after the reopen")
}

func notesOf(ns []gamify.StreakMilestoneReached) []gamify.MilestoneReached {
	var out []gamify.MilestoneReached
	for _, n := range ns {
		if n.User == "ana" {
			out = append(out, n.MilestoneReached)
		}
	}
	return out
}

func pointsSummary(ps []gamify.PointsChange) []gamify.PointsChange {
	var out []gamify.PointsChange
	for _, p := range ps {
		out = append(out, gamify.PointsChange{System: p.System, Added: p.Added, Total: p.Total})
	}
	return out
}

func achievementKeys(as []gamify.AchievementCompletion) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Key)
	}
	return out
}

// A late event that repairs a gap pays what the repaired run newly reaches:
// runs 1..2 and 4..7 (3 paid by the second) become one run of 7.
func TestStreakMilestoneLateRepairPaysWhatTheRunReaches(t *testing.T) {
	eng := milestoneEngine(t, nil)
	liveDays(t, eng, "ana", 1, 2)
	liveDays(t, eng, "ana", 4, 7)
	require.Equal(t, gamify.AmountFromInt(5), gems(t, eng, "ana"), "run 4..7 reached 3")
	require.Zero(t, claimCount(t, eng, "ana"))
	setClock(t, eng, onDay(8))
	r := lesson(t, eng, "ana", onDay(3))
	require.Equal(t, []int{7}, milestoneLengths(r.Milestones), "3 was paid to a part of the run")
	require.Equal(t, gamify.Date{Year: 2026, Month: time.March, Day: 2}, r.Milestones[0].RunStart)
	require.Equal(t, gamify.AmountFromInt(5), gems(t, eng, "ana"))
	require.Equal(t, 1, claimCount(t, eng, "ana"))
	require.True(t, completed(t, eng, "ana", "week"))
}

// A late event joining two runs that each reached 3 takes the later run's
// 5 gems back: the joined run is paid 3 once, as if the days had arrived in
// order.
func TestStreakMilestoneJoinNeverPaysTwice(t *testing.T) {
	ctx := context.Background()
	eng := milestoneEngine(t, nil)
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "gems-today", Name: "Gems today", RankBy: gamify.RankByPoints, System: "gems",
		RunUnit: gamify.RunDay})
	require.NoError(t, err)
	runDue(t, eng)
	liveDays(t, eng, "ana", 1, 3)
	liveDays(t, eng, "ana", 5, 7)
	require.Equal(t, gamify.AmountFromInt(10), gems(t, eng, "ana"), "each run reached 3")
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "shop", User: "ana"}) // spends 8 of the 10
	require.NoError(t, err)
	var notes []gamify.Notification
	sub := eng.Subscribe(func(n gamify.Notification) {
		if n.UserID() == "ana" {
			notes = append(notes, n)
		}
	})
	setClock(t, eng, onDay(7).Add(time.Hour))
	r := lesson(t, eng, "ana", onDay(4))
	r0 := r
	march2 := gamify.Date{Year: 2026, Month: time.March, Day: 2}
	require.Equal(t, []gamify.MilestoneReached{{Streak: "daily", Length: 3, RunStart: march2, System: "gems", Points: gamify.AmountFromInt(-5), Reversed: true}},
		r.Milestones[:1], "the run of the 6th to the 8th is the later part: its 5 gems are taken back")
	require.Equal(t, []int{3, 7}, milestoneLengths(r.Milestones))
	require.Equal(t, []gamify.PointsChange{{System: "gems", Added: gamify.AmountFromInt(-5), Total: gamify.AmountFromInt(5)}}, pointsSummary(r.Points))
	require.Equal(t, gamify.AmountFromInt(5), gems(t, eng, "ana"), "one payment of 3 for the one run")
	p, err := eng.Users().Points(ctx, "ana", "gems")
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(-3), p.Available, "the 8 spent stay spent")
	// The points come back out of the board's run they were paid in (the
	// 7th's), not the late event's.
	for d, want := range map[int]int64{3: 5, 4: 0, 7: 0} {
		ur, err := eng.Leaderboards().UserRankAt(ctx, "gems-today", "ana", onDay(d))
		if want == 0 && err != nil {
			require.ErrorIs(t, err, gamify.ErrNotFound, "day %d", d)
			continue
		}
		require.NoError(t, err, "day %d", d)
		require.Equal(t, gamify.AmountFromInt(want), ur.Score, "day %d", d)
	}
	r = lesson(t, eng, "ana", onDay(4).Add(time.Hour))
	require.Empty(t, r.Milestones, "a second event of a met day changes no run")
	require.Equal(t, 2, claimCount(t, eng, "ana"), "the shop claim and the week's badge")
	sub.Close()
	var reached []int
	for _, n := range notes {
		if m, ok := n.(gamify.StreakMilestoneReached); ok {
			reached = append(reached, m.Length)
		}
	}
	require.Equal(t, []int{7}, reached)
	var reversed []gamify.MilestoneReached
	for _, n := range notes {
		if m, ok := n.(gamify.StreakMilestoneReversed); ok {
			reversed = append(reversed, m.MilestoneReached)
		}
	}
	require.Equal(t, r0.Milestones[:1], reversed, "a reversal is its own notification")

	// The record of what the later run was paid is gone with it: a reopen
	// and an event of another met day take nothing more back.
	eng.reopen(t)
	r = lesson(t, eng, "ana", onDay(5).Add(2*time.Hour))
	require.Empty(t, r.Milestones)
	require.Equal(t, gamify.AmountFromInt(5), gems(t, eng, "ana"))
	require.NoError(t, eng.Check(ctx))
}

// A late event that moves a freeze to an earlier gap cuts short a run that
// was paid: days 5, 6 and 8 live (the freeze covers the 7th, the run
// reaches 3 and pays 5 gems), then days 1 and 2 late: the freeze now covers
// the 3rd, so the 7th is lost and the run of the 5th is 2 long. Its 5 gems
// are taken back, as delivered oldest first they are never paid.
func TestStreakMilestoneCutShortByAMovedFreezeIsTakenBack(t *testing.T) {
	ctx := context.Background()
	run := func(t *testing.T, lateFirst bool) (*testEngine, []gamify.MilestoneReached) {
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
		if lateFirst {
			setClock(t, eng, onDay(9))
			for _, d := range []int{1, 2, 5, 6, 8} {
				require.Empty(t, lesson(t, eng, "ana", onDay(d)).Milestones, "day %d", d)
			}
			return eng, nil
		}
		for _, d := range []int{5, 6, 8} {
			setClock(t, eng, onDay(d))
			lesson(t, eng, "ana", onDay(d))
		}
		require.Equal(t, gamify.AmountFromInt(5), gems(t, eng, "ana"), "the freeze covers the 7th: the run reached 3")
		setClock(t, eng, onDay(9))
		var ms []gamify.MilestoneReached
		for _, d := range []int{2, 1} {
			ms = append(ms, lesson(t, eng, "ana", onDay(d)).Milestones...)
		}
		return eng, ms
	}
	late, ms := run(t, false)
	require.Equal(t, []gamify.MilestoneReached{{Streak: "daily", Length: 3, RunStart: gamify.Date{Year: 2026, Month: time.March, Day: 6},
		System: "gems", Points: gamify.AmountFromInt(-5), Reversed: true}}, ms)
	inOrder, _ := run(t, true)
	require.Zero(t, gems(t, inOrder, "ana"))
	require.Equal(t, gems(t, inOrder, "ana"), gems(t, late, "ana"))
	require.NoError(t, late.Check(ctx))

	// The record went with the payment: the run growing back to 3 pays again.
	setClock(t, late, onDay(9))
	r := lesson(t, late, "ana", onDay(7))
	require.Equal(t, []int{3}, milestoneLengths(r.Milestones), "the 7th met joins 5..8 into a run of 4")
	require.Equal(t, gamify.AmountFromInt(5), gems(t, late, "ana"))
}

// Two runs that each reached 7 were each paid the badge: joined by a late
// event, the later run's claim is named as the extra one (it stays made).
func TestStreakMilestoneJoinNamesTheExtraClaim(t *testing.T) {
	ctx := context.Background()
	eng := milestoneEngine(t, nil)
	var notes []gamify.StreakMilestoneReversed
	sub := eng.Subscribe(func(n gamify.Notification) {
		if m, ok := n.(gamify.StreakMilestoneReversed); ok {
			notes = append(notes, m)
		}
	})
	liveDays(t, eng, "ana", 1, 7)
	liveDays(t, eng, "ana", 9, 15)
	cs, err := eng.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	require.Len(t, cs, 2, "a badge for each run")
	require.Equal(t, gamify.AmountFromInt(10), gems(t, eng, "ana"))
	later := cs[0] // newest first
	setClock(t, eng, onDay(15).Add(time.Hour))
	r := lesson(t, eng, "ana", onDay(8))
	var rev []gamify.MilestoneReached
	for _, m := range r.Milestones {
		if m.Reversed {
			rev = append(rev, m)
		}
	}
	march2 := gamify.Date{Year: 2026, Month: time.March, Day: 2}
	require.Equal(t, []gamify.MilestoneReached{
		{Streak: "daily", Length: 3, RunStart: march2, System: "gems", Points: gamify.AmountFromInt(-5), Reversed: true},
		{Streak: "daily", Length: 7, RunStart: march2, Reward: "badge", Claim: later.Seq, Reversed: true},
	}, rev)
	require.Equal(t, gamify.AmountFromInt(5), gems(t, eng, "ana"))
	require.Equal(t, 2, claimCount(t, eng, "ana"), "the claim stays")
	sub.Close()
	require.Len(t, notes, 2)
	require.Equal(t, later.Seq, notes[1].Claim)
}

// Eight days of lessons delivered live, oldest first and newest first (all
// late, at day 9), one by one or in one batch, pay the same milestones.
func TestStreakMilestonesSameInAnyOrder(t *testing.T) {
	ctx := context.Background()
	days := []int{1, 2, 3, 4, 5, 6, 7, 8}
	type outcome struct {
		paid   []int
		gems   gamify.Amount
		claims int
	}
	run := func(t *testing.T, deliver func(eng *testEngine) []gamify.MilestoneReached) outcome {
		eng := milestoneEngine(t, nil)
		ms := deliver(eng)
		o := outcome{paid: milestoneLengths(ms), gems: gems(t, eng, "ana"), claims: claimCount(t, eng, "ana")}
		slices.Sort(o.paid)
		require.True(t, completed(t, eng, "ana", "week"))
		return o
	}
	late := func(order []int) func(eng *testEngine) []gamify.MilestoneReached {
		return func(eng *testEngine) []gamify.MilestoneReached {
			setClock(t, eng, onDay(9))
			var ms []gamify.MilestoneReached
			for _, d := range order {
				ms = append(ms, lesson(t, eng, "ana", onDay(d)).Milestones...)
			}
			return ms
		}
	}
	reversed := slices.Clone(days)
	slices.Reverse(reversed)
	want := outcome{paid: []int{3, 7}, gems: gamify.AmountFromInt(5), claims: 1}
	for name, deliver := range map[string]func(eng *testEngine) []gamify.MilestoneReached{
		"live": func(eng *testEngine) []gamify.MilestoneReached {
			var ms []gamify.MilestoneReached
			for _, d := range days {
				setClock(t, eng, onDay(d))
				ms = append(ms, lesson(t, eng, "ana", onDay(d)).Milestones...)
			}
			return ms
		},
		"oldest first": late(days),
		"newest first": late(reversed),
		"middle out":   late([]int{4, 5, 3, 6, 2, 7, 1, 8}),
		"one batch, newest first": func(eng *testEngine) []gamify.MilestoneReached {
			setClock(t, eng, onDay(9))
			var evs []gamify.Event
			for _, d := range reversed {
				evs = append(evs, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: onDay(d)})
			}
			rs, err := eng.TrackBatch(ctx, evs)
			require.NoError(t, err)
			var ms []gamify.MilestoneReached
			for _, r := range rs {
				ms = append(ms, r.Milestones...)
			}
			return ms
		},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, want, run(t, deliver))
		})
	}
}

// A part of a milestone that cannot be paid (the reward out of stock) is
// skipped and reported; the rest is paid and the event is accepted.
func TestStreakMilestoneSkipsWhatCannotBePaid(t *testing.T) {
	ctx := context.Background()
	eng := milestoneEngine(t, nil)
	_, err := eng.Rewards().Patch(ctx, "badge", func(r *gamify.Reward) { r.Inventory = 1 })
	require.NoError(t, err)
	var last gamify.EventResult
	for d := 1; d <= 7; d++ {
		setClock(t, eng, onDay(d))
		for _, u := range []string{"ana", "bo"} {
			last = lesson(t, eng, u, onDay(d))
		}
	}
	require.Len(t, last.Milestones, 1)
	m := last.Milestones[0]
	require.Equal(t, "week", m.Achievement, "the achievement is paid")
	require.Empty(t, m.Reward)
	require.Zero(t, m.Claim)
	require.Len(t, m.Skipped, 1)
	require.Contains(t, m.Skipped[0], "reward badge")
	require.Contains(t, m.Skipped[0], gamify.ErrOutOfStock.Error())
	require.Equal(t, 1, claimCount(t, eng, "ana"))
	require.Equal(t, 0, claimCount(t, eng, "bo"))
	require.True(t, completed(t, eng, "bo", "week"))
}

func TestStreakMilestoneValidation(t *testing.T) {
	ctx := context.Background()
	eng := milestoneEngine(t, nil)
	_, err := eng.Achievements().Create(ctx, gamify.Achievement{Key: "auto", Name: "Auto", Kind: gamify.AchievementStreak, Streak: "daily", Length: 2})
	require.NoError(t, err)
	base := gamify.Streak{Key: "s2", Name: "S2", Frequency: gamify.StreakDaily, Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}}
	for _, c := range []struct {
		ms    []gamify.StreakMilestone
		field string
	}{
		{[]gamify.StreakMilestone{{Length: 0, System: "gems", Points: gamify.AmountFromInt(1)}}, "Streak.Milestones[0].Length"},
		{[]gamify.StreakMilestone{{Length: 3, Achievement: "week"}, {Length: 3, Reward: "badge"}}, "Streak.Milestones[1].Length"},
		{[]gamify.StreakMilestone{{Length: 3}}, "Streak.Milestones[0]"},
		{[]gamify.StreakMilestone{{Length: 3, System: "gems"}}, "Streak.Milestones[0].Points"},
		{[]gamify.StreakMilestone{{Length: 3, Points: gamify.AmountFromInt(1)}}, "Streak.Milestones[0].Points"},
		{[]gamify.StreakMilestone{{Length: 3, Achievement: "auto"}}, "Streak.Milestones[0].Achievement"},
		{[]gamify.StreakMilestone{{Length: 3, Achievement: "nope"}}, "Streak.Milestones[0].Achievement"},
		{[]gamify.StreakMilestone{{Length: 3, Reward: "nope"}}, "Streak.Milestones[0].Reward"},
		{[]gamify.StreakMilestone{{Length: 3, System: "nope", Points: gamify.AmountFromInt(1)}}, "Streak.Milestones[0].System"},
	} {
		s := base
		s.Milestones = c.ms
		_, err := eng.Streaks().Create(ctx, s)
		requireField(t, err, c.field)
		_, err = eng.Streaks().Patch(ctx, "daily", func(s *gamify.Streak) { s.Milestones = c.ms })
		requireField(t, err, c.field)
	}
	_, err = eng.Streaks().Get(ctx, "s2")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	s, err := eng.Streaks().Patch(ctx, "daily", func(s *gamify.Streak) {
		s.Milestones = append(s.Milestones, gamify.StreakMilestone{Length: 30, System: "gems", Points: gamify.AmountFromInt(50)})
	})
	require.NoError(t, err)
	require.Len(t, s.Milestones, 3)
	got, err := eng.Streaks().Get(ctx, "daily")
	require.NoError(t, err)
	require.Equal(t, s.Milestones, got.Milestones)
}

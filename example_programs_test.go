package gamify_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gamifykit/gamify"
)

// A 3-day streak milestone pays 10 gems, a 7-day one a badge. Lessons sync
// late: two runs of three days each reach 3, then the missing day joins
// them into one run of seven, which is owed 3 once: the later run's gems
// are taken back, and 7 is paid.
func ExampleStreakMilestone() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons"})
	eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	eng.Achievements().Create(ctx, gamify.Achievement{Key: "week", Name: "Week warrior", Kind: gamify.AchievementManual})
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "practice", Name: "Daily practice", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
		Milestones: []gamify.StreakMilestone{
			{Length: 3, System: "gems", Points: gamify.AmountFromInt(10)},
			{Length: 7, Achievement: "week"},
		}})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The example clock is Monday 2 November 2026.
	monday := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, back := range []int{6, 5, 4, 2, 1, 0, 3} { // 3 days back is synced last
		res, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: monday.AddDate(0, 0, -back)})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, m := range res.Milestones {
			taken := ""
			if m.Reversed {
				taken = " (taken back)"
			}
			fmt.Printf("%d days (run from %s): %v gems%s, %q\n", m.Length, m.RunStart, m.Points, taken, m.Achievement)
		}
	}
	p, _ := eng.Users().Points(ctx, "ana", "gems")
	fmt.Println("gems:", p.Total)
	// Output:
	// 3 days (run from 2026-10-27): 10 gems, ""
	// 3 days (run from 2026-10-31): 10 gems, ""
	// 3 days (run from 2026-10-27): -10 gems (taken back), ""
	// 7 days (run from 2026-10-27): 0 gems, "week"
	// gems: 10
}

// A shop sells a streak freeze with an hour of double XP for 50 gems, as
// often as the user likes, in one claim: all of it or nothing.
func ExampleRewardGrants() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons"})
	eng.Streaks().Create(ctx, gamify.Streak{Key: "practice", Name: "Daily practice", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}, Freezes: gamify.StreakFreezes{Max: 1}})
	eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "freeze", Name: "Streak freeze", Type: gamify.RewardBundle,
		System: "gems", Cost: gamify.AmountFromInt(50), PerUserLimit: gamify.RewardUnlimited,
		Grants: gamify.RewardGrants{
			Freezes: []gamify.FreezeGrant{{Streak: "practice", Count: 1}},
			Boosts:  []gamify.BoostGrant{{System: "xp", Multiplier: gamify.AmountFromInt(2), Duration: time.Hour}},
		}})
	if err != nil {
		fmt.Println(err)
		return
	}
	eng.Points().Award(ctx, gamify.PointsEntry{System: "gems", User: "ana", Amount: gamify.AmountFromInt(120)})
	for range 2 {
		c, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "freeze", User: "ana"})
		if errors.Is(err, gamify.ErrConflict) {
			fmt.Println("refused: one freeze is the most the streak holds")
			continue
		}
		s, _ := eng.Users().Streak(ctx, "ana", "practice")
		fmt.Printf("claimed: %v gems left, %d freeze, %d boost\n", c.Balance, s.Freezes, len(c.Grants.Boosts))
	}
	p, _ := eng.Users().Points(ctx, "ana", "gems")
	fmt.Println("gems:", p.Available)
	// Output:
	// claimed: 70 gems left, 1 freeze, 1 boost
	// refused: one freeze is the most the streak holds
	// gems: 70
}

// A 7-day challenge from the enrollment: 5 lessons and 100 XP of ranked
// games. Half of it pays 10 gems, all of it an achievement; an event dated
// before the enrollment does not count, and enrolling again changes nothing.
func ExampleChallengesAPI_Enroll() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons"})
	eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	eng.Attributes().Create(ctx, gamify.Attribute{Key: "mode", Name: "Mode", Type: gamify.EventAttribute})
	eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	eng.Achievements().Create(ctx, gamify.Achievement{Key: "sprinter", Name: "Sprinter", Kind: gamify.AchievementManual})
	_, err := eng.Challenges().Create(ctx, gamify.Challenge{Key: "sprint", Name: "7-day sprint",
		Window: gamify.ChallengeRolling, Days: 7,
		Objectives: []gamify.ChallengeObjective{
			{Key: "lessons", Metric: "lessons", Count: gamify.ChallengeCountEvents, Target: gamify.AmountFromInt(5)},
			{Key: "ranked", Metric: "xp", EventFilters: map[string]string{"mode": "ranked"}, Target: gamify.AmountFromInt(100)},
		},
		Milestones: []gamify.ChallengeMilestone{{Share: 50, Pay: gamify.ChallengePayout{System: "gems", Points: gamify.AmountFromInt(10)}}},
		Completion: gamify.ChallengePayout{Achievement: "sprinter"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := eng.Challenges().Enroll(ctx, "sprint", "ana")
	fmt.Println("window:", p.WindowStart.Format("Jan 2 15:04"), "to", p.WindowEnd.Format("Jan 2 15:04"))

	// The example clock is Monday 2 November 2026, 09:00.
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	report := func(ev gamify.Event) {
		res, err := eng.Track(ctx, ev)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, ch := range res.Challenges {
			fmt.Printf("%s: %s/%s lessons, %s/%s ranked XP", ch.Challenge, ch.Objectives[0].Progress, ch.Objectives[0].Target,
				ch.Objectives[1].Progress, ch.Objectives[1].Target)
			for _, m := range ch.Milestones {
				fmt.Printf("; milestone %d: +%s gems", m.Milestone, m.Paid.Points)
			}
			if ch.Completion != nil {
				fmt.Printf("; completed: %s", ch.Completion.Paid.Achievement)
			}
			fmt.Println()
		}
	}
	report(gamify.Event{Metric: "xp", User: "ana", Value: 120, Attributes: map[string]string{"mode": "ranked"}})
	report(gamify.Event{Metric: "xp", User: "ana", Value: 500, Attributes: map[string]string{"mode": "casual"}}) // filtered out
	for range 4 {
		report(gamify.Event{Metric: "lessons", User: "ana", Value: 1})
	}
	report(gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: now.Add(-time.Hour)}) // before the enrollment: not counted
	eng.Challenges().Enroll(ctx, "sprint", "ana")                                             // again: nothing changes
	report(gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: now})
	// Output:
	// window: Nov 2 09:00 to Nov 9 09:00
	// sprint: 0/5 lessons, 100/100 ranked XP; milestone 0: +10 gems
	// sprint: 1/5 lessons, 100/100 ranked XP
	// sprint: 2/5 lessons, 100/100 ranked XP
	// sprint: 3/5 lessons, 100/100 ranked XP
	// sprint: 4/5 lessons, 100/100 ranked XP
	// sprint: 5/5 lessons, 100/100 ranked XP; completed: sprinter
}

// A weekly league of cohorts of 3: users join a cohort of their tier (new
// users start in the first) with their first XP of the week, in that order.
// At the week's end the best of each cohort moves up a tier and the last
// moves down (no one leaves the first tier downwards); the result stays in
// the user's history. dara, alone in the second cohort, stays: a cohort
// moves anyone only when it holds more users than its moves, or is full.
func ExampleLeaguesAPI_Standing() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "gamify-example")
	defer os.RemoveAll(dir)
	// Monday 2 November 2026, 09:00 UTC: the first day of a weekly run.
	clock := gamify.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(filepath.Join(dir, "game.db"), &gamify.Options{Clock: clock, DefaultTimezone: time.UTC})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "weekly", Name: "Weekly XP",
		RankBy: gamify.RankByMetric, Metric: "xp", RunUnit: gamify.RunWeek})
	eng.Leaderboards().Activate(ctx, "weekly")
	_, err = eng.Leagues().Create(ctx, gamify.League{Key: "league", Name: "League", Board: "weekly",
		Tiers: []string{"Bronze", "Silver", "Gold"}, CohortSize: 3, Promote: 1, Demote: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ev := range []struct {
		user string
		xp   float64
	}{{"ana", 120}, {"ben", 80}, {"chen", 40}, {"dara", 10}} {
		eng.Track(ctx, gamify.Event{Metric: "xp", User: ev.user, Value: ev.xp})
	}
	st, _ := eng.Leagues().Standing(ctx, "league", "ben")
	fmt.Printf("ben: %s, cohort %d, rank %d of %d\n", st.Tier, st.Cohort, st.Rank, len(st.Members))

	clock.Advance(7 * 24 * time.Hour) // the next Monday: the week's run ends
	for n, _ := eng.RunDue(ctx); n > 0; n, _ = eng.RunDue(ctx) {
	}
	for _, u := range []string{"ana", "ben", "chen", "dara"} {
		h, _ := eng.Leagues().History(ctx, "league", u, 1)
		if len(h) == 0 {
			fmt.Println(u, "no result")
			continue
		}
		r := h[0]
		fmt.Printf("%s: %s in %s cohort %d (rank %d of %d) -> %s\n", u, r.Move, r.Tier, r.Cohort, r.Rank, r.CohortMembers, r.NewTier)
	}
	// Output:
	// ben: Bronze, cohort 1, rank 2 of 3
	// ana: promoted in Bronze cohort 1 (rank 1 of 3) -> Silver
	// ben: stayed in Bronze cohort 1 (rank 2 of 3) -> Bronze
	// chen: stayed in Bronze cohort 1 (rank 3 of 3) -> Bronze
	// dara: stayed in Bronze cohort 2 (rank 1 of 1) -> Bronze
}

// Command economy runs a language-learning app's economy on gamify, on a
// manual clock: lessons earn XP and gems, a daily streak pays a gem bonus at
// 7 days, the shop sells a streak freeze and an hour of double XP for gems
// (each a reward bundle: the payment and the grant in one commit), and a
// weekly league of XP promotes the best of each cohort of five and demotes
// the last, and a 7-day challenge (from a learner's first lesson) pays gems
// at its warm-up milestone and on completion. At 20:00 each evening the
// engine reminds the learners whose streak is at risk, and on Monday it
// sends each active learner a recap of the week. Two weeks of twelve
// learners, then the results.
//
//	go run ./examples/economy               # uses ./economy.db, created fresh
//	go run ./examples/economy -db my.db
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/gamifykit/gamify"
)

var game = gamify.Game{
	Metrics: []gamify.Metric{{Key: "lessons", Name: "Lessons"}},
	Points: []gamify.PointsSystem{
		// 10 XP a lesson, and an hour of double XP sold in the shop.
		{Key: "xp", Name: "XP", Triggers: []gamify.Trigger{{Key: "xp-per-lesson", Kind: gamify.TriggerMetric,
			Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)}}},
		// A gem every 2 lessons: the shop's currency.
		{Key: "gems", Name: "Gems", Triggers: []gamify.Trigger{{Key: "gem-per-2", Kind: gamify.TriggerMetric,
			Metric: "lessons", Threshold: gamify.AmountFromInt(2), Points: gamify.AmountFromInt(1)}}},
	},
	// A lesson a day keeps the streak; freezes (none to start, two at most)
	// cover a missed day; 7 days in a row pay 10 gems, once per run.
	Streaks: []gamify.Streak{{Key: "daily", Name: "Daily lesson", Frequency: gamify.StreakDaily,
		Metrics:    []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
		Freezes:    gamify.StreakFreezes{Max: 2},
		Milestones: []gamify.StreakMilestone{{Length: 7, System: "gems", Points: gamify.AmountFromInt(10)}}}},
	// The weekly XP board the league ranks by: runs start on Monday.
	Leaderboards: []gamify.Leaderboard{{Key: "weekly-xp", Name: "Weekly XP", RankBy: gamify.RankByPoints,
		System: "xp", RunEvery: 1, RunUnit: gamify.RunWeek}},
	Rewards: []gamify.Reward{
		{Key: "freeze", Name: "Streak freeze", Type: gamify.RewardBundle, Cost: gamify.AmountFromInt(4), System: "gems",
			PerUserLimit: gamify.RewardUnlimited, Grants: gamify.RewardGrants{Freezes: []gamify.FreezeGrant{{Streak: "daily", Count: 1}}}},
		{Key: "double-xp", Name: "Double XP for an hour", Type: gamify.RewardBundle, Cost: gamify.AmountFromInt(6), System: "gems",
			PerUserLimit: gamify.RewardUnlimited, Grants: gamify.RewardGrants{Boosts: []gamify.BoostGrant{
				{System: "xp", Multiplier: gamify.AmountFromInt(2), Duration: time.Hour}}}},
	},
}

var league = gamify.League{Key: "weekly", Name: "Weekly league", Board: "weekly-xp",
	Tiers: []string{"Bronze", "Silver", "Gold"}, CohortSize: 5, Promote: 1, Demote: 1}

// sprint is a 7-day challenge each learner joins with their first lesson:
// 3 lessons warm up (5 gems); 12 lessons in the 7 days, the warm-up's
// included, complete it (20 gems): the sprint objective counts from the
// first lesson and completes once the warm-up is done.
var sprint = gamify.Challenge{Key: "sprint", Name: "7-day sprint", Window: gamify.ChallengeRolling, Days: 7,
	Enrollment: gamify.ChallengeAutomatic,
	Objectives: []gamify.ChallengeObjective{
		{Key: "warm-up", Metric: "lessons", Count: gamify.ChallengeCountEvents, Target: gamify.AmountFromInt(3)},
		{Key: "sprint", Metric: "lessons", Count: gamify.ChallengeCountEvents, Target: gamify.AmountFromInt(12), Prerequisites: []string{"warm-up"}},
	},
	Milestones: []gamify.ChallengeMilestone{{Objective: "warm-up", Pay: gamify.ChallengePayout{System: "gems", Points: gamify.AmountFromInt(5)}}},
	Completion: gamify.ChallengePayout{System: "gems", Points: gamify.AmountFromInt(20)},
}

func main() {
	path := flag.String("db", "economy.db", "database file (recreated on each run)")
	flag.Parse()
	if err := run(*path); err != nil {
		log.Fatal(err)
	}
}

func run(path string) error {
	ctx := context.Background()
	for _, p := range []string{path, path + ".log"} {
		if err := os.RemoveAll(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	clock := gamify.NewManualClock(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)) // a Monday
	// Reminders at 20:00 in each learner's zone (UTC here, the default).
	eng, err := gamify.Open(path, &gamify.Options{Clock: clock, Reminders: &gamify.ReminderOptions{Hour: 20}})
	if err != nil {
		return err
	}
	defer eng.Close()
	if _, err := eng.Apply(ctx, game); err != nil {
		return err
	}
	if _, err := eng.Leagues().Create(ctx, league); err != nil {
		return err
	}
	if _, err := eng.Challenges().Create(ctx, sprint); err != nil {
		return err
	}
	sub := eng.Subscribe(func(n gamify.Notification) {
		switch n := n.(type) {
		case gamify.StreakMilestoneReached:
			fmt.Printf("  [notification] %s: %d days in a row, +%s gems\n", n.User, n.Length, n.Points)
		case gamify.ChallengeMilestoneReached:
			fmt.Printf("  [notification] %s: %s warm-up done, +%s gems\n", n.User, n.Challenge, n.Paid.Points)
		case gamify.ChallengeCompleted:
			fmt.Printf("  [notification] %s: %s completed, +%s gems\n", n.User, n.Challenge, n.Paid.Points)
		case gamify.LeagueResult:
			if n.Move != gamify.LeagueStayed {
				fmt.Printf("  [notification] %s %s: %s → %s (place %d of %d)\n", n.User, n.Move, n.Tier, n.NewTier, n.Position, n.CohortMembers)
			}
		}
	})
	defer sub.Close()

	var seen uint64 // the outbox position printReminders has read up to
	learners := []string{"ana", "ben", "chen", "dara", "eli", "fay", "gus", "hana", "ivo", "jun", "kai", "lea"}
	rng := rand.New(rand.NewPCG(7, 7)) // the same two weeks on every run
	for day := range 14 {
		for i, u := range learners {
			if u == "ben" && day == 5 {
				// Ben will miss tomorrow: he buys a freeze with his gems.
				if _, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "freeze", User: u,
					IdempotencyKey: fmt.Sprintf("%s-freeze-%d", u, day)}); err != nil {
					return fmt.Errorf("ben buys a freeze: %w", err)
				}
				fmt.Printf("%s  ben bought a streak freeze\n", clock.Now().Format("Mon Jan 2"))
			}
			if u == "ana" && day == 9 {
				if _, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "double-xp", User: u,
					IdempotencyKey: fmt.Sprintf("%s-2x-%d", u, day)}); err != nil {
					return fmt.Errorf("ana buys double XP: %w", err)
				}
				fmt.Printf("%s  ana bought an hour of double XP\n", clock.Now().Format("Mon Jan 2"))
			}
			skip := (u == "ben" && day == 6) || rng.IntN(10) < i%4 // some learners skip more
			if skip {
				continue
			}
			for l := range 1 + rng.IntN(3) {
				if _, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: u, Value: 1,
					IdempotencyKey: fmt.Sprintf("%s-%d-%d", u, day, l)}); err != nil {
					return err
				}
			}
		}
		clock.Advance(12 * time.Hour) // 20:00: the evening's reminders
		if _, err := eng.RunDue(ctx); err != nil {
			return err
		}
		if err := printReminders(ctx, eng, clock.Now(), &seen); err != nil {
			return err
		}
		clock.Advance(12 * time.Hour)
		if _, err := eng.RunDue(ctx); err != nil { // streak days end, the league rolls over on Monday
			return err
		}
	}

	fmt.Println("\nAfter two weeks:")
	for _, u := range learners {
		xp, err := eng.Users().Points(ctx, u, "xp")
		if err != nil {
			return err
		}
		gems, err := eng.Users().Points(ctx, u, "gems")
		if err != nil {
			return err
		}
		st, err := eng.Users().Streak(ctx, u, "daily")
		if err != nil {
			return err
		}
		ls, err := eng.Leagues().Standing(ctx, "weekly", u)
		if err != nil {
			return err
		}
		fmt.Printf("  %-5s %4s XP  %3s gems  streak %2d (longest %2d)  league %s\n",
			u, xp.Total, gems.Available, st.Length, st.Longest, ls.Tier)
	}
	st, err := eng.Challenges().Stats(ctx, "sprint")
	if err != nil {
		return err
	}
	fmt.Printf("\n7-day sprint: %d joined, %d warmed up, %d completed\n", st.Participants, st.Milestones[0].Paid, st.Completed)
	hist, err := eng.Leagues().History(ctx, "weekly", "ana", 5)
	if err != nil {
		return err
	}
	fmt.Println("\nAna's league history:")
	for _, r := range hist {
		// Position is unique (the board's tie-break): it is what decided the move.
		fmt.Printf("  week of %s: %s, place %d of %d in cohort %d (rank %d), %s XP → %s (%s)\n",
			r.RunStart.Format("Jan 2"), r.Tier, r.Position, r.CohortMembers, r.Cohort, r.Rank, r.Score, r.NewTier, r.Move)
	}
	return eng.Check(ctx)
}

// printReminders prints, in one line per kind, the reminders the engine
// recorded in the outbox since *seen; a game would push or e-mail them on
// each entry's channels (or let the webhook package deliver them).
func printReminders(ctx context.Context, eng *gamify.Engine, now time.Time, seen *uint64) error {
	es, err := eng.Outbox().Read(ctx, *seen, 1000)
	if err != nil {
		return err
	}
	var atRisk, recaps []string
	for _, e := range es {
		*seen = e.Seq
		switch n := e.Notification.(type) {
		case gamify.StreakReminder:
			atRisk = append(atRisk, fmt.Sprintf("%s (%d)", n.User, n.Length))
		case gamify.Recap:
			recaps = append(recaps, fmt.Sprintf("%s %d lessons %s XP", n.User, n.Events, n.Points["xp"]))
		}
	}
	day := now.Format("Mon Jan 2 15:04")
	if len(atRisk) > 0 {
		fmt.Printf("%s  [reminder] streak at risk: %s\n", day, strings.Join(atRisk, ", "))
	}
	if len(recaps) > 0 {
		fmt.Printf("%s  [recap] week of %s: %s\n", day, now.AddDate(0, 0, -7).Format("Jan 2"), strings.Join(recaps[:min(3, len(recaps))], "; ")+fmt.Sprintf(" … (%d recaps)", len(recaps)))
	}
	return nil
}

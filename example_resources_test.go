package gamify_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gamifykit/gamify"
)

// A language-learning app: a badge for ten lessons and one for practising
// three days in a row.
func ExampleAchievementsAPI_Create() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	eng.Streaks().Create(ctx, gamify.Streak{Key: "practice", Name: "Daily practice", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}})
	for _, a := range []gamify.Achievement{
		{Key: "ten-lessons", Name: "Bookworm", Kind: gamify.AchievementMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(10)},
		{Key: "three-days", Name: "On a roll", Kind: gamify.AchievementStreak, Streak: "practice", Length: 3},
	} {
		if _, err := eng.Achievements().Create(ctx, a); err != nil {
			fmt.Println(err)
			return
		}
	}

	// Four lessons a day, on Saturday, Sunday and Monday (today, on the example clock).
	monday := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, day := range []time.Time{monday.AddDate(0, 0, -2), monday.AddDate(0, 0, -1), monday} {
		res, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 4, Time: day})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Print(day.Weekday(), ": ", res.Total, " lessons")
		for _, c := range res.Achievements {
			fmt.Print(", earned ", c.Name)
		}
		fmt.Println()
	}
	// Output:
	// Saturday: 4 lessons
	// Sunday: 8 lessons
	// Monday: 12 lessons, earned Bookworm, earned On a roll
}

// A teacher awards a badge the engine cannot detect by itself.
func ExampleAchievementsAPI_Complete() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Achievements().Create(ctx, gamify.Achievement{Key: "teachers-pick", Name: "Teacher's pick", Kind: gamify.AchievementManual})
	first, err := eng.Achievements().Complete(ctx, gamify.ManualCompletion{
		Achievement: "teachers-pick", User: "ana", Profile: &gamify.UserInput{Name: "Ana"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(first.Completions[0].Name, "at", first.CompletedAt)

	again, _ := eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "teachers-pick", User: "ana"})
	fmt.Println("again:", again.AlreadyCompleted, again.CompletedAt.Equal(first.CompletedAt), len(again.Completions))

	_, err = eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "valedictorian", User: "ana"})
	fmt.Println(errors.Is(err, gamify.ErrNotFound), err)
	// Output:
	// Teacher's pick at 2026-11-02 09:00:00 +0000 UTC
	// again: true true 0
	// true complete valedictorian for "ana": gamify: invalid ManualCompletion.Achievement (valedictorian): names no achievement
}

// A seasonal badge is retired: its holders keep it, nobody else can earn it.
func ExampleAchievementsAPI_Lock() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Achievements().Create(ctx, gamify.Achievement{Key: "halloween-2026", Name: "Spooky speaker", Kind: gamify.AchievementManual})
	eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "halloween-2026", User: "ana"})
	a, _ := eng.Achievements().Lock(ctx, "halloween-2026")
	fmt.Println(a.Status)

	_, err := eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "halloween-2026", User: "ben"})
	fmt.Println(errors.Is(err, gamify.ErrConflict), errors.Is(err, gamify.ErrAchievementLocked), err)
	mine, _ := eng.Achievements().User(ctx, "ana", false)
	fmt.Println(mine[0].Name, mine[0].Completed)
	// Output:
	// locked
	// true true complete halloween-2026 for "ben": achievement: locked: gamify: conflict
	// Spooky speaker true
}

// Badge stats for a trophy screen: how many users hold each, and how rare it is.
func ExampleAchievementsAPI_Stats() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	eng.Achievements().Create(ctx, gamify.Achievement{Key: "first-lesson", Name: "First steps", Order: 1,
		Kind: gamify.AchievementMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(1)})
	eng.Achievements().Create(ctx, gamify.Achievement{Key: "fifty-lessons", Name: "Scholar", Order: 2, Rarity: gamify.RarityEpic,
		Kind: gamify.AchievementMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(50)})
	for i, lessons := range []float64{60, 3, 1, 12} {
		eng.Track(ctx, gamify.Event{Metric: "lessons", User: fmt.Sprint("learner-", i), Value: lessons})
	}

	stats, err := eng.Achievements().Stats(ctx, gamify.AchievementStatsQuery{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range stats {
		fmt.Printf("%s (%s): held by %d, %.0f%% of learners\n", s.Name, s.Rarity, s.Completions, s.RarityPercent)
	}
	// Output:
	// First steps (common): held by 4, 100% of learners
	// Scholar (epic): held by 1, 25% of learners
}

// A user's profile page: the badges earned and progress toward the others.
func ExampleAchievementsAPI_User() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "words", Name: "Words learned"})
	for i, n := range []int64{10, 100, 500} {
		eng.Achievements().Create(ctx, gamify.Achievement{Key: fmt.Sprintf("words-%d", n), Name: fmt.Sprintf("%d words", n),
			Order: i, Kind: gamify.AchievementMetric, Metric: "words", Threshold: gamify.AmountFromInt(n)})
	}
	eng.Track(ctx, gamify.Event{Metric: "words", User: "ana", Value: 120})

	list, err := eng.Achievements().User(ctx, "ana", true)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ua := range list {
		fmt.Printf("%-9s %v %s/%s\n", ua.Name, ua.Completed, ua.Current, ua.Target)
	}
	// Output:
	// 10 words  true 10/10
	// 100 words true 100/100
	// 500 words false 120/500
}

// A shop where learners spend gems, earned by practising, on a digital
// reward. The engine generates the reward's code.
func ExampleRewardsAPI_Claim() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	eng.Points().Award(ctx, gamify.PointsEntry{System: "gems", User: "ana", Amount: gamify.AmountFromInt(250), Reason: "weekly quest"})
	eng.Rewards().Create(ctx, gamify.Reward{Key: "premium-week", Name: "A week of Premium", Type: gamify.RewardDigital,
		Cost: gamify.AmountFromInt(200), System: "gems", PerUserLimit: 5})

	c, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "premium-week", User: "ana", IdempotencyKey: "order-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.RewardName, "for", c.Cost, "gems, balance", c.Balance, "| has a code:", c.Code != "")

	retry, _ := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "premium-week", User: "ana", IdempotencyKey: "order-1"}) // the app retried the request
	fmt.Println(retry.IdempotentReplayed, retry.Code == c.Code, retry.Balance)

	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "premium-week", User: "ana", IdempotencyKey: "order-2"})
	fmt.Println(errors.Is(err, gamify.ErrInsufficientPoints), err)
	// Output:
	// A week of Premium for 200 gems, balance 50 | has a code: true
	// true true 50
	// true claim premium-week for "ana": points: spend 200: gamify: insufficient points: available 50
}

// A partner's discount codes, loaded into a free reward and handed out one
// per learner.
func ExampleRewardsAPI_Codes() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Rewards().Create(ctx, gamify.Reward{Key: "bookshop", Name: "10% off at the bookshop", Type: gamify.RewardCoupon})
	added, err := eng.Rewards().AddCodes(ctx, "bookshop", []string{"BOOK-0002", "BOOK-0001", "BOOK-0003", "BOOK-0001"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("added", added)

	c, _ := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "bookshop", User: "ana"})
	fmt.Println(c.User, "got", c.Code)
	left, _ := eng.Rewards().Codes(ctx, "bookshop", gamify.ListOptions{})
	n, _ := eng.Rewards().CodeCount(ctx, "bookshop")
	fmt.Println(left, n)

	eng.Rewards().Deactivate(ctx, "bookshop") // the partnership is paused
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "bookshop", User: "ben"})
	fmt.Println(errors.Is(err, gamify.ErrConflict), err)
	// Output:
	// added 3
	// ana got BOOK-0001
	// [BOOK-0002 BOOK-0003] 2
	// true claim bookshop for "ben": gamify: conflict: reward bookshop is inactive
}

// Two schools on one server: each tenant's engine has data of its own.
func ExampleTenantsAPI_Create() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	for _, tn := range []gamify.Tenant{{Key: "lisbon-school", Name: "Lisbon Language School"}, {Key: "porto-academy", Name: "Porto Academy"}} {
		if _, err := eng.Tenants().Create(ctx, tn); err != nil {
			fmt.Println(err)
			return
		}
	}
	lisbon, err := eng.Tenant("lisbon-school")
	if err != nil {
		fmt.Println(err)
		return
	}
	porto, _ := eng.Tenant("porto-academy")
	for _, te := range []*gamify.Engine{lisbon, porto} {
		te.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	}
	// Both schools have a learner "ana": they are different people.
	l, _ := lisbon.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 50})
	p, _ := porto.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	fmt.Println("lisbon:", l.Total, "porto:", p.Total)

	eng.Tenants().Deactivate(ctx, "porto-academy") // the school stopped paying
	_, err = eng.Tenant("porto-academy")
	fmt.Println(errors.Is(err, gamify.ErrConflict), err)
	// Output:
	// lisbon: 50 porto: 5
	// true tenant porto-academy: gamify: conflict: the tenant is inactive
}

package gamify_test

import (
	"context"
	"fmt"
	"time"

	"github.com/gamifykit/gamify"
)

// A 3-day streak milestone pays 10 gems, a 7-day one a badge; a late lesson
// that repairs a missed day pays what the repaired run reaches, once.
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
	// The example clock is Monday 2 November 2026; the lessons sync late.
	monday := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	for _, back := range []int{6, 5, 3, 2, 1, 0, 4} { // day 4 back is synced last
		res, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: monday.AddDate(0, 0, -back)})
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, m := range res.Milestones {
			fmt.Printf("%d days (run from %s): %v gems, %q\n", m.Length, m.RunStart, m.Points, m.Achievement)
		}
	}
	// Output:
	// 3 days (run from 2026-10-30): 10 gems, ""
	// 7 days (run from 2026-10-27): 0 gems, "week"
}

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

// clockEngine is exampleEngine, with the manual clock returned so that an
// example can move time forward.
func clockEngine() (*gamify.Engine, *gamify.ManualClock, func()) {
	dir, err := os.MkdirTemp("", "gamify-example")
	if err != nil {
		panic(err)
	}
	clock := gamify.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(filepath.Join(dir, "game.db"), &gamify.Options{Clock: clock})
	if err != nil {
		panic(err)
	}
	return eng, clock, func() { eng.Close(); os.RemoveAll(dir) }
}

// A daily practice streak in a language app. A freeze covers the day the
// learner skipped.
func ExampleStreaksAPI_Create() {
	ctx := context.Background()
	eng, clock, done := clockEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "practice", Name: "Daily practice", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
		Freezes: gamify.StreakFreezes{Initial: 1, Max: 2}})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Monday, Tuesday, then nothing on Wednesday, then Thursday.
	for _, skip := range []int{0, 1, 2} {
		clock.Advance(time.Duration(skip) * 24 * time.Hour)
		res, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(clock.Now().Weekday(), "length", res.Streak.Length, "freezes", res.Streak.Freezes)
	}
	st, _ := eng.Users().Streak(ctx, "ana", "practice")
	fmt.Println("length", st.Length, "longest", st.Longest, "met today", st.Met, "expires", st.Expires.Format(time.DateTime)) // end of Friday
	// Output:
	// Monday length 1 freezes 1
	// Tuesday length 2 freezes 1
	// Thursday length 3 freezes 0
	// length 3 longest 3 met today true expires 2026-11-07 00:00:00
}

// Support gives learners a freeze after an outage; the report flags each
// user it could not serve as it wished.
func ExampleStreaksAPI_GrantFreezes() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	eng.Streaks().Create(ctx, gamify.Streak{Key: "practice", Name: "Daily practice", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
		Freezes: gamify.StreakFreezes{Initial: 1, Max: 2}})
	eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})
	eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ben", Value: 1})
	eng.Streaks().GrantFreezes(ctx, "practice", []string{"ana"})

	res, issues, err := eng.Streaks().GrantFreezes(ctx, "practice", []string{"ana", "ben", "zoe"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Println(r.User, "now holds", r.Freezes)
	}
	for _, is := range issues {
		fmt.Println(is.Index, is.Key, is.Severity, is.Message)
	}
	// Output:
	// ana now holds 3
	// ben now holds 2
	// 0 ana warning exceeds max freezes
	// 2 zoe error user "zoe": gamify: not found
}

// An XP system declared in one call: its levels, what earns XP, and a
// launch-week boost.
func ExamplePointsAPI_Create() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	sys, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "Experience",
		Levels: []gamify.Level{
			{Key: "novice", Level: 1, Name: "Novice", Threshold: gamify.AmountFromInt(0)},
			{Key: "learner", Level: 2, Name: "Learner", Threshold: gamify.AmountFromInt(100)},
			{Key: "scholar", Level: 3, Name: "Scholar", Threshold: gamify.AmountFromInt(500)},
		},
		Triggers: []gamify.Trigger{
			{Key: "xp-per-lesson", Kind: gamify.TriggerMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)},
		},
		Boosts: []gamify.Boost{{Key: "launch-week", Name: "Launch week", Scope: gamify.BoostGlobal,
			From: gamify.Date{Year: 2026, Month: time.November, Day: 2}, To: gamify.Date{Year: 2026, Month: time.November, Day: 8},
			Multiplier: gamify.MustParseAmount("1.5")}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(sys.Levels), "levels,", sys.Triggers[0].Key, "and", sys.Boosts[0].Name, sys.Boosts[0].Status)

	res, _ := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 3})
	a := res.Points[0].Awards[0]
	fmt.Println(a.Trigger, a.Base, "x", a.Boosts[0].Multiplier, "=", a.Points)
	up, _ := eng.Users().Points(ctx, "ana", "xp")
	fmt.Println(up.Total, up.Level, "next:", up.NextLevel, up.Remaining, "to go")
	// Output:
	// 3 levels, xp-per-lesson and Launch week active
	// xp-per-lesson 30 x 1.5 = 45
	// 45 novice next: learner 55 to go
}

// A teacher gives gems by hand, and the learner spends them in the shop.
func ExamplePointsAPI_Award() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	bonus := gamify.PointsEntry{System: "gems", User: "ana", Amount: gamify.AmountFromInt(50),
		Reason: "won the class quiz", IdempotencyKey: "quiz-2026-11-02"}
	for range 2 { // a retry of the same request pays once
		res, err := eng.Points().Award(ctx, bonus)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("available", res.Available, "replayed", res.IdempotentReplayed)
	}
	res, _ := eng.Points().Spend(ctx, gamify.PointsEntry{System: "gems", User: "ana", Amount: gamify.AmountFromInt(30)})
	fmt.Println("total", res.Total, "spent", res.Spent, "available", res.Available)

	_, err := eng.Points().Spend(ctx, gamify.PointsEntry{System: "gems", User: "ana", Amount: gamify.AmountFromInt(100)})
	fmt.Println(errors.Is(err, gamify.ErrInsufficientPoints), err)
	// Output:
	// available 50 replayed false
	// available 50 replayed true
	// total 50 spent 30 available 20
	// true Spend gems for "ana": points: spend 100: gamify: insufficient points: available 20
}

// A lesson is worth more XP from now on; the system a trigger pays into
// cannot change.
func ExampleTriggersAPI_Patch() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "Experience", Triggers: []gamify.Trigger{
		{Key: "xp-per-lesson", Kind: gamify.TriggerMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)},
	}})
	res, _ := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})
	fmt.Println("added", res.Points[0].Added, "total", res.Points[0].Total)

	tr, err := eng.Points().Triggers().Patch(ctx, "xp-per-lesson", func(t *gamify.Trigger) { t.Points = gamify.AmountFromInt(15) })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tr.Key, tr.Metric, tr.Points) // the other fields are kept
	res, _ = eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})
	fmt.Println("added", res.Points[0].Added, "total", res.Points[0].Total)

	_, err = eng.Points().Triggers().Patch(ctx, "xp-per-lesson", func(t *gamify.Trigger) { t.System = "gems" })
	fmt.Println(err)
	// Output:
	// added 10 total 10
	// xp-per-lesson lessons 15
	// added 15 total 25
	// patch trigger xp-per-lesson: gamify: invalid Trigger.System (gems): is immutable
}

// A trigger paused for an afternoon: the engine keeps when it was inactive
// (Inactive, which an export carries), and a late event is judged by the
// status at its own time.
func ExampleTriggersAPI_Deactivate() {
	ctx := context.Background()
	eng, clock, done := clockEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "Experience", Triggers: []gamify.Trigger{
		{Key: "xp-per-lesson", Kind: gamify.TriggerMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)},
	}})
	morning := clock.Now()
	clock.Advance(4 * time.Hour) // 13:00
	eng.Points().Triggers().Deactivate(ctx, "xp-per-lesson")
	clock.Advance(2 * time.Hour) // 15:00
	tr, _ := eng.Points().Triggers().Activate(ctx, "xp-per-lesson")
	for _, iv := range tr.Inactive {
		fmt.Println("inactive", iv.From.Format("15:04"), "to", iv.To.Format("15:04"))
	}

	// An offline device syncs two lessons: one from the morning, one from 14:00.
	for _, at := range []time.Time{morning, morning.Add(5 * time.Hour)} {
		res, _ := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1, Time: at})
		fmt.Println(at.Format("15:04"), "awards", len(res.Points))
	}
	// Output:
	// inactive 13:00 to 15:00
	// 09:00 awards 1
	// 14:00 awards 0
}

// Double XP on the weekend, for everybody.
func ExampleBoostsAPI_Create() {
	ctx := context.Background()
	eng, clock, done := clockEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "Experience", Triggers: []gamify.Trigger{
		{Key: "xp-per-lesson", Kind: gamify.TriggerMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)},
	}})
	b, err := eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "weekend-2x", System: "xp", Name: "Double XP weekend",
		Scope: gamify.BoostGlobal, Multiplier: gamify.AmountFromInt(2),
		From: gamify.Date{Year: 2026, Month: time.November, Day: 7}, To: gamify.Date{Year: 2026, Month: time.November, Day: 8}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Name, b.Status, b.From, b.To) // it is Monday

	for range 2 { // Monday, then Saturday
		res, _ := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})
		a := res.Points[0].Awards[0]
		fmt.Print(clock.Now().Weekday(), ": ", a.Base, " -> ", a.Points)
		for _, ab := range a.Boosts {
			fmt.Print(" (", ab.Key, " x", ab.Multiplier, ")")
		}
		fmt.Println()
		clock.Advance(5 * 24 * time.Hour)
	}
	// Output:
	// Double XP weekend scheduled 2026-11-07 2026-11-08
	// Monday: 10 -> 10
	// Saturday: 10 -> 20 (weekend-2x x2)
}

// Levels with numbers for the profile screen; the event that crosses a
// threshold reports the promotion.
func ExampleLevelsAPI_Create() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "Experience", Triggers: []gamify.Trigger{
		{Key: "xp-per-lesson", Kind: gamify.TriggerMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)},
	}})
	levels := eng.Points().Levels("xp")
	for _, l := range []gamify.Level{
		{Key: "novice", Level: 1, Name: "Novice", Threshold: gamify.AmountFromInt(0)},
		{Key: "learner", Level: 2, Name: "Learner", Threshold: gamify.AmountFromInt(50)},
		{Key: "expert", Level: 2, Name: "Expert", Threshold: gamify.AmountFromInt(200)}, // a typo: 2 is taken
	} {
		if _, err := levels.Create(ctx, l); err != nil {
			fmt.Println(err)
		}
	}

	for _, n := range []float64{3, 3} {
		res, _ := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: n})
		pc := res.Points[0]
		fmt.Print(pc.Total, " XP")
		if pc.Level != nil {
			l, _ := levels.Get(ctx, pc.Level.To)
			fmt.Printf(", %q -> %q: level %d %s, promotion %v", pc.Level.From, pc.Level.To, l.Level, l.Name, pc.Level.Promotion)
		}
		fmt.Println()
	}
	// Output:
	// create level of xp expert: gamify: invalid Level.Level (2): is the number of level learner
	// 30 XP, "" -> "novice": level 1 Novice, promotion true
	// 60 XP, "novice" -> "learner": level 2 Learner, promotion true
}

// A weekly board of lessons completed, for a league screen.
func ExampleLeaderboardsAPI_Create() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons completed"})
	b, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "weekly-league", Name: "Weekly league",
		RankBy: gamify.RankByMetric, Metric: "lessons", RunEvery: 1, RunUnit: gamify.RunWeek})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(b.Name, b.Status, "from", b.Start)
	for _, e := range []struct {
		user    string
		lessons float64
	}{{"ana", 5}, {"ben", 8}, {"cleo", 5}, {"dev", 2}} {
		eng.Track(ctx, gamify.Event{Metric: "lessons", User: e.user, Value: e.lessons})
	}

	page, _ := eng.Leaderboards().Rankings(ctx, "weekly-league", gamify.BoardQuery{Limit: 3})
	fmt.Println("run", page.RunStart.Format(time.DateOnly), "to", page.RunEnd.Format(time.DateOnly), "-", page.Participants, "learners")
	for _, r := range page.Rows {
		fmt.Println(r.Rank, r.User, r.Score)
	}
	// Output:
	// Weekly league active from 2026-11-02
	// run 2026-11-02 to 2026-11-09 - 4 learners
	// 1 ben 8
	// 2 ana 5
	// 2 cleo 5
}

// A one-off tournament, ended early by an admin; its final standings stay.
func ExampleLeaderboardsAPI_Finish() {
	ctx := context.Background()
	eng, clock, done := clockEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "kills", Name: "Monsters defeated"})
	eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "halloween-hunt", Name: "Halloween hunt",
		RankBy: gamify.RankByMetric, Metric: "kills", End: gamify.Date{Year: 2026, Month: time.November, Day: 8}})
	eng.Track(ctx, gamify.Event{Metric: "kills", User: "ana", Value: 12})
	eng.Track(ctx, gamify.Event{Metric: "kills", User: "ben", Value: 9})

	clock.Advance(2 * 24 * time.Hour) // Wednesday morning
	b, err := eng.Leaderboards().Finish(ctx, "halloween-hunt")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, _ := eng.Track(ctx, gamify.Event{Metric: "kills", User: "ben", Value: 5})
	fmt.Println(b.Status, "- boards moved by a late kill:", len(res.Leaderboards))

	runs, _ := eng.Leaderboards().Runs(ctx, "halloween-hunt", gamify.ListOptions{Limit: 10})
	for _, r := range runs {
		fmt.Println("run", r.Start.Format(time.DateTime), "to", r.End.Format(time.DateTime), "-", r.Participants, "players")
		page, _ := eng.Leaderboards().Rankings(ctx, "halloween-hunt", gamify.BoardQuery{At: r.Start})
		for _, row := range page.Rows {
			fmt.Println(row.Rank, row.User, row.Score, page.Finished)
		}
	}
	// Output:
	// finished - boards moved by a late kill: 0
	// run 2026-11-02 00:00:00 to 2026-11-04 09:00:00 - 2 players
	// 1 ana 12 true
	// 2 ben 9 true
}

// A time-trial board: the game submits lap times, lowest first, and the
// board keeps each player's best.
func ExampleLeaderboardsAPI_Submit() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "lap-times", Name: "Fastest lap",
		RankBy: gamify.RankByScore, Operator: gamify.OpBest, Order: gamify.Asc})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range []struct {
		user string
		secs string
	}{{"ana", "62.5"}, {"ben", "58.1"}, {"ana", "55.03"}, {"ana", "70"}} {
		c, err := eng.Leaderboards().Submit(ctx, gamify.ScoreSubmission{Board: "lap-times", User: s.user, Score: gamify.MustParseAmount(s.secs)})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(s.user, s.secs, "-> rank", c.Rank, "was", c.PreviousRank)
	}
	rows, _ := eng.Leaderboards().Ranks(ctx, "lap-times", []string{"ana", "ben"})
	for _, r := range rows {
		fmt.Println(r.Rank, r.User, r.Score)
	}
	// Output:
	// ana 62.5 -> rank 1 was 0
	// ben 58.1 -> rank 1 was 0
	// ana 55.03 -> rank 1 was 2
	// ana 70 -> rank 1 was 1
	// 1 ana 55.03
	// 2 ben 58.1
}

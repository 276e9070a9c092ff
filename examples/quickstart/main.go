// Command quickstart shows gamify end to end on an embedded database file:
// it declares a game (metric, attributes, streak, badge, coins, weekly board)
// and applies it, identifies users, tracks a week of simulated activity with
// a manual clock, and prints what happened.
//
//	go run ./examples/quickstart            # uses ./quickstart.db, created fresh
//	go run ./examples/quickstart -db my.db
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/gamifykit/gamify"
)

// game is what the app counts and rewards.
var game = gamify.Game{
	// What we know about users and events.
	Attributes: []gamify.Attribute{
		{Key: "plan", Name: "Plan", Type: gamify.UserAttribute},
		{Key: "terrain", Name: "Terrain", Type: gamify.EventAttribute},
	},
	Metrics: []gamify.Metric{{Key: "km", Name: "Distance run", Units: "km"}},
	// A daily streak: run at least 1 km a day; one freeze to start with.
	Streaks: []gamify.Streak{{Key: "daily-run", Name: "Daily run", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "km", Min: gamify.AmountFromInt(1)}}, Freezes: gamify.StreakFreezes{Initial: 1, Max: 2}}},
	// A badge for the first 20 km.
	Achievements: []gamify.Achievement{{Key: "twenty-k", Name: "20 km club",
		Kind: gamify.AchievementMetric, Metric: "km", Threshold: gamify.AmountFromInt(20)}},
	// Coins: 10 for every 5 km.
	Points: []gamify.PointsSystem{{Key: "coins", Name: "Coins", Triggers: []gamify.Trigger{{Key: "per-5km",
		Kind: gamify.TriggerMetric, Metric: "km", Threshold: gamify.AmountFromInt(5), Points: gamify.AmountFromInt(10)}}}},
	// A weekly leaderboard of distance, in runs that start on Monday.
	Leaderboards: []gamify.Leaderboard{{Key: "weekly-km", Name: "Weekly distance",
		RankBy: gamify.RankByMetric, Metric: "km", RunEvery: 1, RunUnit: gamify.RunWeek}},
}

func main() {
	path := flag.String("db", "quickstart.db", "database file (recreated on each run)")
	flag.Parse()
	if err := run(*path); err != nil {
		log.Fatal(err)
	}
}

func run(path string) error {
	ctx := context.Background()
	// The file and its command log: a log left by a crashed run would be
	// replayed into the new file.
	for _, p := range []string{path, path + ".log"} {
		if err := os.RemoveAll(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	clock := gamify.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(path, &gamify.Options{Clock: clock})
	if err != nil {
		return err
	}
	defer eng.Close()

	// The whole game, declared once. Apply creates what is missing and, on
	// the next start of the server, changes nothing (see the second run below).
	rep, err := eng.Apply(ctx, game)
	if err != nil {
		return err
	}
	fmt.Printf("Set-up: %d definitions applied\n", len(rep.Changes))
	if rep, err = eng.Apply(ctx, game); err != nil {
		return err
	}
	fmt.Printf("Set-up again (a restart): changed anything? %v\n\n", rep.Changed())

	sub := eng.Subscribe(func(n gamify.Notification) {
		switch n := n.(type) {
		case gamify.UserCreated:
			fmt.Printf("  [notification] new user %s\n", n.User)
		case gamify.AchievementCompleted:
			fmt.Printf("  [notification] %s earned the badge %q\n", n.User, n.Name)
		case gamify.StreakChanged:
			if n.Kind == gamify.StreakFreezeConsumed || n.Kind == gamify.StreakLost {
				fmt.Printf("  [notification] %s: streak %s (%d)\n", n.User, n.Kind, n.Length)
			}
		}
	})

	runners := []gamify.UserInput{
		{ID: "ana", Name: "Ana", TZ: "Europe/Lisbon", Attributes: map[string]string{"plan": "pro"}},
		{ID: "ben", Name: "Ben", TZ: "America/New_York"},
		{ID: "chen", Name: "Chen", TZ: "Asia/Shanghai", Attributes: map[string]string{"plan": "free"}},
	}
	for _, u := range runners {
		if _, err := eng.Users().Identify(ctx, u); err != nil {
			return err
		}
	}

	// A week of runs. Distances are exact decimals: 0.1 km steps add up exactly.
	fmt.Println("A week of runs:")
	for day := range 7 {
		for i, u := range runners {
			if (day+i)%3 == 2 {
				continue // a rest day
			}
			km := float64(32+4*day+10*i) / 10 // whole tenths: floats like 3.2+3*0.4 carry binary noise
			res, err := eng.Track(ctx, gamify.Event{
				Metric: "km", User: u.ID, Value: km,
				Attributes:     map[string]string{"terrain": []string{"road", "trail"}[day%2]},
				IdempotencyKey: fmt.Sprintf("%s-day%d", u.ID, day), // safe to retry
			})
			if err != nil {
				return err
			}
			fmt.Printf("  %s  %-4s ran %4.1f km, total %5s km, streak %d, weekly rank %d\n",
				clock.Now().Format("Mon Jan 2"), u.ID, km, res.Total, res.Streak.Length, res.Leaderboards[0].Rank)
		}
		clock.Advance(24 * time.Hour)
		if _, err := eng.RunDue(ctx); err != nil { // period ends: freezes, losses
			return err
		}
	}

	// A retried request (the same event: value and attributes) with the same
	// idempotency key changes nothing; another event under the key would be
	// ErrConflict.
	res, err := eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: 3.2,
		Attributes: map[string]string{"terrain": "road"}, IdempotencyKey: "ana-day0"})
	if err != nil {
		return err
	}
	fmt.Printf("\nRetry of ana-day0: replayed=%v, total still %s km\n", res.IdempotentReplayed, res.Total)

	// Bad input is rejected with a typed error naming the field.
	_, err = eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: 0.1234567})
	var ve *gamify.ValidationError
	if errors.As(err, &ve) {
		fmt.Printf("Rejected: field %s: %s\n", ve.Field, ve.Reason)
	}

	fmt.Println("\nTotals:")
	for _, u := range runners {
		m, err := eng.Users().Metric(ctx, u.ID, "km")
		if err != nil {
			return err
		}
		s, err := eng.Users().Streak(ctx, u.ID, "daily-run")
		if err != nil {
			return err
		}
		c, err := eng.Users().Points(ctx, u.ID, "coins")
		if err != nil {
			return err
		}
		fmt.Printf("  %-4s %6s km over %d runs, streak %d (longest %d, %d freezes left), %s coins\n",
			u.ID, m.Total, m.Events, s.Length, s.Longest, s.Freezes, c.Available)
	}
	week, err := eng.Leaderboards().Rankings(ctx, "weekly-km", gamify.BoardQuery{At: clock.Now().Add(-24 * time.Hour)})
	if err != nil {
		return err
	}
	fmt.Printf("\nWeekly distance, week of %s (finished: %v):\n", week.RunStart.Format("Jan 2"), week.Finished)
	for _, r := range week.Rows {
		fmt.Printf("  #%d %-4s %s km\n", r.Rank, r.User, r.Score)
	}
	if err := eng.Check(ctx); err != nil {
		return err
	}
	fmt.Println("\nInvariants hold: totals equal the ledger.")
	sub.Close()
	return nil
}

// Command yearinreview simulates a year of a small puzzle game — a few
// hundred players with their own habits, a daily streak, a weekly
// leaderboard, XP and badges — on a manual clock, then prints one player's
// year in review with a chart of their weekly activity.
//
//	go run ./examples/yearinreview                 # ./yearinreview.db, created fresh
//	go run ./examples/yearinreview -players 500 -seed 7
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/gamifykit/gamify"
)

func main() {
	path := flag.String("db", "yearinreview.db", "database file (recreated on each run)")
	players := flag.Int("players", 200, "number of simulated players")
	seed := flag.Uint64("seed", 2026, "random seed of the simulation")
	flag.Parse()
	if err := run(*path, *players, *seed); err != nil {
		log.Fatal(err)
	}
}

// player is a simulated habit: how likely a play is on a weekday and on a
// weekend, and on which days of the simulation the player joins and quits.
type player struct {
	id               string
	weekday, weekend float64
	joins, quits     int
}

// The simulation runs from October 2024 to the end of 2025, so that the
// reviewed year starts with totals to compare against.
const (
	year = 2025
	days = 92 + 365
)

func run(path string, n int, seed uint64) error {
	ctx := context.Background()
	// The file and its command log: a log left by a crashed run would be
	// replayed into the new file.
	for _, p := range []string{path, path + ".log"} {
		if err := os.RemoveAll(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	first := time.Date(year-1, time.October, 1, 0, 0, 0, 0, time.UTC)
	clock := gamify.NewManualClock(first)
	eng, err := gamify.Open(path, &gamify.Options{Clock: clock, Durability: gamify.Buffered})
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := define(ctx, eng); err != nil {
		return err
	}

	rng := rand.New(rand.NewPCG(seed, 1))
	players := make([]player, n)
	for i := range players {
		p := player{id: fmt.Sprintf("player-%03d", i), weekday: rng.Float64() * 0.8, weekend: rng.Float64(), joins: rng.IntN(200), quits: days}
		if rng.IntN(4) == 0 {
			p.quits = p.joins + 30 + rng.IntN(200) // a quarter drift away
		}
		players[i] = p
	}
	// The player we review: a steady weekday player who skipped a summer
	// fortnight and played hard in the autumn.
	hero := &players[0]
	*hero = player{id: "mia", weekday: 0.4, weekend: 0.2, joins: 30, quits: days}

	var evs []gamify.Event
	for d := range days {
		day := first.AddDate(0, 0, d)
		evs = evs[:0]
		for _, p := range players {
			if d < p.joins || d >= p.quits {
				continue
			}
			chance := p.weekday
			if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
				chance = p.weekend
			}
			chance *= 1 + 0.3*math.Sin(2*math.Pi*float64(d)/365) // the game's own seasons
			games := 1 + rng.IntN(3)
			if p.id == "mia" {
				switch yd := day.YearDay(); {
				case day.Year() == year && yd >= 200 && yd < 214:
					chance = 0 // holidays
				case day.Year() == year && yd >= 270 && yd < 330:
					chance, games = 1, games+3 // hooked
				}
			}
			if rng.Float64() >= chance {
				continue
			}
			at := day.Add(time.Duration(8+rng.IntN(12)) * time.Hour)
			for g := range games {
				at := at.Add(time.Duration(g) * 7 * time.Minute)
				evs = append(evs, gamify.Event{Metric: "games", User: p.id, Value: 1, Time: at})
				if rng.IntN(2) == 0 {
					evs = append(evs, gamify.Event{Metric: "wins", User: p.id, Value: 1, Time: at})
				}
			}
		}
		clock.Set(day.Add(23 * time.Hour))
		for lo := 0; lo < len(evs); lo += 1000 {
			if _, err := eng.TrackBatch(ctx, evs[lo:min(lo+1000, len(evs))]); err != nil {
				return err
			}
		}
		if _, err := eng.RunDue(ctx); err != nil { // streak period ends, weekly runs
			return err
		}
	}
	if err := eng.Flush(ctx); err != nil {
		return err
	}
	r, err := eng.Users().YearInReview(ctx, "mia", year)
	if err != nil {
		return err
	}
	fmt.Print(render(r))
	return nil
}

// define creates the game: two metrics, a daily streak, a weekly board, XP
// for wins and a few badges.
func define(ctx context.Context, eng *gamify.Engine) error {
	steps := []func() error{
		func() error {
			_, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "games", Name: "Games played"})
			return err
		},
		func() error {
			_, err := eng.Metrics().Create(ctx, gamify.Metric{Key: "wins", Name: "Games won"})
			return err
		},
		func() error {
			_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily puzzle", Frequency: gamify.StreakDaily,
				Metrics: []gamify.StreakMetric{{Metric: "games", Min: gamify.AmountFromInt(1)}}, Freezes: gamify.StreakFreezes{Initial: 1, Max: 2}})
			return err
		},
		func() error {
			_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "weekly-wins", Name: "Weekly wins",
				RankBy: gamify.RankByMetric, Metric: "wins", RunEvery: 1, RunUnit: gamify.RunWeek})
			return err
		},
		func() error {
			_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
			return err
		},
		func() error {
			_, err := eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-win", System: "xp", Kind: gamify.TriggerMetric,
				Metric: "wins", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)})
			return err
		},
	}
	for _, b := range []struct {
		key, name, metric string
		threshold         int64
	}{
		{"first-win", "First win", "wins", 1},
		{"hundred-games", "Hundred games", "games", 100},
		{"five-hundred-wins", "Five hundred wins", "wins", 500},
	} {
		steps = append(steps, func() error {
			_, err := eng.Achievements().Create(ctx, gamify.Achievement{Key: b.key, Name: b.name, Kind: gamify.AchievementMetric,
				Metric: b.metric, Threshold: gamify.AmountFromInt(b.threshold)})
			return err
		})
	}
	steps = append(steps, func() error {
		_, err := eng.Achievements().Create(ctx, gamify.Achievement{Key: "week-streak", Name: "Seven in a row",
			Kind: gamify.AchievementStreak, Streak: "daily", Length: 7})
		return err
	})
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// render formats a review for a terminal.
func render(r gamify.YearReview) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s's %d in review\n\n", r.User, r.Year)
	fmt.Fprintf(&b, "  Played on %d days, in %d weeks and %d months (%d events)\n", r.DaysActive, r.WeeksActive, r.MonthsActive, r.Events)
	if d := r.MostActiveDay; d != nil {
		fmt.Fprintf(&b, "  Busiest day:   %s (%d events)\n", day(d.Start).Format("Monday 2 January"), d.Events)
	}
	if w := r.MostActiveWeek; w != nil {
		fmt.Fprintf(&b, "  Busiest week:  of %s (%d events)\n", day(w.Start).Format("2 January"), w.Events)
	}
	if m := r.MostActiveMonth; m != nil {
		fmt.Fprintf(&b, "  Busiest month: %s (%d events)\n", day(m.Start).Format("January"), m.Events)
	}
	fmt.Fprintf(&b, "  Longest daily streak: %d days\n\n", r.LongestStreak)
	for _, t := range append(r.Metrics, r.Points...) {
		change := "all new"
		if t.PercentChange != nil {
			change = fmt.Sprintf("%+.0f%%", *t.PercentChange)
		}
		fmt.Fprintf(&b, "  %-5s %6s this year, %6s in all (%s), more than %.0f%% of the %d players of the year\n",
			t.Key, t.Change, t.Total, change, t.Percentile, t.ActiveUsers)
	}
	for _, l := range r.Leaderboards {
		fmt.Fprintf(&b, "  Best rank on %s: #%d\n", l.Leaderboard, l.Best)
	}
	if len(r.Achievements) > 0 {
		fmt.Fprintf(&b, "\n  Badges earned:\n")
		for _, a := range r.Achievements {
			fmt.Fprintf(&b, "    %-18s %s\n", a.Name, a.CompletedAt.Format("2 Jan"))
		}
	}
	fmt.Fprintf(&b, "\n  Events per week\n%s", chart(r.Weekly, 8))
	return b.String()
}

// chart draws weekly counts as columns of the given height, with month
// initials under the week each month starts in.
func chart(weeks []gamify.ActivePeriod, height int) string {
	most := 1
	for _, w := range weeks {
		most = max(most, w.Events)
	}
	var b strings.Builder
	eighths := []rune(" ▁▂▃▄▅▆▇█")
	for row := height - 1; row >= 0; row-- {
		label := "      "
		if row == height-1 {
			label = fmt.Sprintf("  %3d ", most)
		}
		b.WriteString(label + "│")
		for _, w := range weeks {
			level := w.Events*height*8/most - row*8 // eighths of this row filled
			b.WriteRune(eighths[min(max(level, 0), 8)])
		}
		b.WriteString("\n")
	}
	b.WriteString("      └" + strings.Repeat("─", len(weeks)) + "\n       ")
	month := time.Month(0)
	for _, w := range weeks {
		end := day(w.Start).AddDate(0, 0, 6)
		if m := end.Month(); m != month {
			month = m
			b.WriteString(m.String()[:1])
		} else {
			b.WriteString(" ")
		}
	}
	b.WriteString("\n")
	return b.String()
}

func day(d gamify.Date) time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Command gen writes the schema version 2 fixture of the migration test:
// a database built with the public API of the last release that wrote
// version 2, and the reads it answers once closed, as JSON. It builds
// against that release only (see ../README.md).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/points"
)

var ctx = context.Background()

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: gen <output dir>")
	}
	out := os.Args[1]
	path := filepath.Join(out, "game.db")
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC) // a Monday
	clock := gamify.NewManualClock(start)
	opts := &gamify.Options{Clock: clock, IdempotencyWindow: 90 * 24 * time.Hour}
	eng := must(gamify.Open(path, opts))

	// Attributes and metrics (one archived).
	must(eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "Plan", Type: gamify.UserAttribute}))
	must(eng.Attributes().Create(ctx, gamify.Attribute{Key: "mode", Name: "Mode", Type: gamify.EventAttribute}))
	must(eng.Attributes().Create(ctx, gamify.Attribute{Key: "legacy", Name: "Legacy", Type: gamify.UserAttribute}))
	check(eng.Attributes().Delete(ctx, "legacy"))
	must(eng.Metrics().Create(ctx, gamify.Metric{Key: "steps", Name: "Steps", Units: "steps"}))
	must(eng.Metrics().Create(ctx, gamify.Metric{Key: "spend", Name: "Spend", UnitType: gamify.UnitCurrency, Units: "USD", Description: "money spent"}))
	must(eng.Metrics().Create(ctx, gamify.Metric{Key: "old", Name: "Old"}))
	check(eng.Metrics().Delete(ctx, "old"))

	// Streaks: a daily one with freezes and grace, a weekly one starting on Sunday.
	must(eng.Streaks().Create(ctx, gamify.Streak{Key: "walk", Name: "Walk daily", Frequency: gamify.Daily,
		Metrics: []gamify.StreakMetric{{Metric: "steps", Min: 1000}}, GraceHours: 2, Personalizable: true, Default: true,
		Freezes: gamify.StreakFreezes{Initial: 1, Max: 3, EarnAmount: 1, EarnEveryDays: 7}}))
	must(eng.Streaks().Create(ctx, gamify.Streak{Key: "shop", Name: "Shop weekly", Frequency: gamify.Weekly, WeekStart: 7,
		Metrics: []gamify.StreakMetric{{Metric: "spend", Min: 2.5}, {Metric: "steps", Min: 100}}, Mode: gamify.StreakModeAny}))

	// Points: systems with levels, triggers of every kind and boosts.
	must(eng.Points().CreateSystem(ctx, gamify.PointsDefinition{Key: "xp", Name: "Experience", Description: "XP", ImageURL: "https://example.com/xp.png"}))
	must(eng.Points().CreateSystem(ctx, gamify.PointsDefinition{Key: "coins", Name: "Coins", MaxPoints: gamify.AmountFromInt(1000)}))
	check(eng.Points().SetLevels(ctx, "xp", []gamify.Level{
		{Key: "bronze", Name: "Bronze", Threshold: gamify.AmountFromInt(50), Colour: "#cd7f32", Benefits: []string{"badge"}},
		{Key: "silver", Name: "Silver", Threshold: gamify.AmountFromInt(150), Multiplier: 1_500_000},
		{Key: "gold", Name: "Gold", Threshold: gamify.AmountFromInt(400), Description: "top", ImageURL: "https://example.com/gold.png"},
	}))
	must(eng.Points().SetBoost(ctx, gamify.Boost{Key: "launch", System: "xp", Name: "Launch week", Scope: 1,
		From: points.Date{Year: 2026, Month: 11, Day: 2}, To: points.Date{Year: 2026, Month: 11, Day: 4}, Multiplier: 2_000_000}))
	must(eng.Points().SetBoost(ctx, gamify.Boost{Key: "pro", System: "xp", Scope: 2, UserFilters: map[string]string{"plan": "pro"},
		From: points.Date{Year: 2026, Month: 11, Day: 1}, Multiplier: 1_500_000, Rounding: 2}))
	must(eng.Points().SetBoost(ctx, gamify.Boost{Key: "ben-bday", System: "xp", Scope: 3, User: "ben",
		Start: start.Add(48 * time.Hour), End: start.Add(72 * time.Hour), Multiplier: 3_000_000, Rounding: 1}))

	// Achievements of every kind; a locked one and an archived one.
	for _, d := range []gamify.AchievementDefinition{
		{Key: "walker", Name: "Walker", Kind: gamify.KindMetric, Status: gamify.AchievementActive, Metric: "steps",
			Threshold: gamify.AmountFromInt(5000), Rarity: gamify.RarityRare, Category: "fitness", BadgeURL: "https://example.com/w.png", Order: 1},
		{Key: "outdoorsy", Name: "Outdoorsy", Kind: gamify.KindMetric, Status: gamify.AchievementActive, Metric: "steps",
			Threshold: gamify.AmountFromInt(2000), EventFilters: map[string]string{"mode": "outdoor"}, Order: 2},
		{Key: "streaker", Name: "Three days", Kind: gamify.KindStreak, Status: gamify.AchievementActive, Streak: "walk", Length: 3, Rarity: gamify.RarityEpic},
		{Key: "helper", Name: "Helper", Kind: gamify.KindManual, Status: gamify.AchievementActive, Description: "helped someone"},
		{Key: "champion", Name: "Champion", Kind: gamify.KindComposite, Status: gamify.AchievementActive,
			Prerequisites: []string{"walker", "streaker"}, Rarity: gamify.RarityLegendary, UserFilters: map[string]string{"plan": "pro"}},
		{Key: "pro-only", Name: "Pro", Kind: gamify.KindManual, Status: gamify.AchievementActive, UserFilters: map[string]string{"plan": "pro"}},
		{Key: "retired", Name: "Retired", Kind: gamify.KindManual, Status: gamify.AchievementActive},
		{Key: "draft", Name: "Draft", Kind: gamify.KindManual, Status: gamify.AchievementInactive},
	} {
		must(eng.Achievements().Create(ctx, d))
	}

	for _, tr := range []gamify.Trigger{
		{Key: "per-1000-steps", System: "xp", Kind: 1, Points: gamify.AmountFromInt(10), Metric: "steps", Threshold: gamify.AmountFromInt(1000), Active: true},
		{Key: "outdoor-bonus", System: "xp", Kind: 1, Points: 2_500_000, Metric: "steps", Threshold: gamify.AmountFromInt(500),
			EventFilters: map[string]string{"mode": "outdoor"}, UserFilters: map[string]string{"plan": "pro"}, Active: true},
		{Key: "walker-done", System: "xp", Kind: 2, Points: gamify.AmountFromInt(50), Achievement: "walker", Active: true},
		{Key: "streak-2", System: "xp", Kind: 3, Points: gamify.AmountFromInt(20), Streak: "walk", EveryN: 2, Active: true},
		{Key: "daily-coins", System: "coins", Kind: 4, Points: gamify.AmountFromInt(5), Every: 1, Unit: 2, Active: true},
		{Key: "welcome", System: "coins", Kind: 5, Points: gamify.AmountFromInt(100), Active: true},
		{Key: "spend-fee", System: "coins", Kind: 1, Points: gamify.AmountFromInt(-1), Metric: "spend", Threshold: gamify.AmountFromInt(10), Active: false},
	} {
		must(eng.Points().SetTrigger(ctx, tr))
	}

	// Leaderboards: daily metric runs, a weekly points board, a streak
	// board, a score board with breakdown, an inactive and an archived one.
	for _, b := range []gamify.Leaderboard{
		{Key: "daily-steps", Name: "Daily steps", RankBy: gamify.RankByMetric, Metric: "steps", RunEvery: 1, RunUnit: gamify.RunDay},
		{Key: "weekly-xp", Name: "Weekly XP", RankBy: gamify.RankByPoints, System: "xp", RunEvery: 1, RunUnit: gamify.RunWeek, TZ: "Europe/Lisbon"},
		{Key: "streaks", Name: "Streaks", RankBy: gamify.RankByStreak, Streak: "walk"},
		{Key: "golf", Name: "Golf", RankBy: gamify.RankByScore, Order: gamify.Asc, Ties: gamify.TiesDense, Breakdown: []string{"plan"},
			Operator: gamify.OpBest, MaxParticipants: 10, End: gamify.Date{Year: 2026, Month: 12, Day: 31}},
		{Key: "morning", Name: "Morning steps", RankBy: gamify.RankByMetric, Metric: "steps", Window: gamify.DailyWindow{From: "06:00", To: "12:00"}},
		{Key: "gone", Name: "Gone", RankBy: gamify.RankByMetric, Metric: "spend"},
	} {
		must(eng.Leaderboards().Create(ctx, b))
		if b.Key != "morning" {
			must(eng.Leaderboards().Activate(ctx, b.Key))
		}
	}
	check(eng.Leaderboards().Delete(ctx, "gone"))

	// Rewards: a coupon with loaded codes, a generated-code voucher, a
	// physical reward, a points multiplier and a switched-off one.
	must(eng.Rewards().Create(ctx, gamify.Reward{Key: "coffee", Name: "Coffee", Type: gamify.RewardCoupon, Cost: gamify.AmountFromInt(50),
		System: "coins", PerUserLimit: 2, Active: true, Description: "a free coffee"}))
	must(eng.Rewards().AddCodes(ctx, "coffee", []string{"CAFE-1", "CAFE-2", "CAFE-3"}))
	must(eng.Rewards().Create(ctx, gamify.Reward{Key: "voucher", Name: "Voucher", Type: gamify.RewardVoucher, Cost: 12_500_000, System: "coins", Active: true, Inventory: 5}))
	must(eng.Rewards().Create(ctx, gamify.Reward{Key: "shirt", Name: "Shirt", Type: gamify.RewardPhysical, Active: true}))
	must(eng.Rewards().Create(ctx, gamify.Reward{Key: "double", Name: "Double XP", Type: gamify.RewardPointsMultiplier, System: "xp",
		Multiplier: 2_000_000, Duration: 24 * time.Hour, Active: true, Expires: start.Add(60 * 24 * time.Hour)}))
	must(eng.Rewards().Create(ctx, gamify.Reward{Key: "paused", Name: "Paused", Type: gamify.RewardDigital, Active: true}))
	check(eng.Rewards().SetActive(ctx, "paused", false))

	// Users, with preferences.
	yes := true
	must(eng.Users().Create(ctx, gamify.UserInput{ID: "ana", Name: "Ana", Email: "ana@example.com", TZ: "Europe/Lisbon",
		Attributes: map[string]string{"plan": "pro"}, DeviceTokens: []string{"tok-1"}, SubscribeToEmails: &yes}))
	must(eng.Users().Create(ctx, gamify.UserInput{ID: "ben", Name: "Ben", Attributes: map[string]string{"plan": "free"}}))
	must(eng.Users().SetPreferences(ctx, "ana", gamify.Preferences{
		Notifications: map[gamify.NotificationType][]gamify.Channel{gamify.NotifyRecap: {gamify.ChannelEmail}, gamify.NotifyStreakReminder: {}},
		Streak:        gamify.StreakPreferences{Enabled: true, Thresholds: map[string]float64{"steps": 1500.5}},
	}))

	// Ten days of activity; the clock moves and jobs run between days.
	type day struct {
		user  string
		steps float64
		mode  string
		spend float64
	}
	plan := [][]day{
		{{"ana", 2000, "outdoor", 3}, {"ben", 1200, "", 0}, {"cat", 300, "", 0}},
		{{"ana", 1600, "", 0}, {"ben", 2500, "outdoor", 1.25}},
		{{"ana", 1800, "outdoor", 0}, {"ben", 900, "", 0}},
		{{"ben", 3000, "", 4.75}},
		{{"ana", 2500, "", 0}, {"cat", 1000, "outdoor", 0}},
		{{"ana", 1700, "outdoor", 10}, {"ben", 1100, "", 0}},
		{{"ana", 1550, "", 0}, {"ben", 1000, "", 0}, {"cat", 5000, "", 0}},
		{{"ana", 400, "", 0}},
		{{"ana", 2200, "", 2.5}, {"ben", 2000, "outdoor", 0}},
		{{"ana", 1900, "", 0}, {"ben", 1300, "", 0}, {"cat", 1500, "", 0}},
	}
	for i, evs := range plan {
		if i > 0 {
			clock.Set(start.Add(time.Duration(i) * 24 * time.Hour))
			must(eng.RunDue(ctx))
		}
		for j, d := range evs {
			ev := gamify.Event{Metric: "steps", User: d.user, Value: d.steps, IdempotencyKey: fmt.Sprintf("steps-%s-%d", d.user, i)}
			if d.mode != "" {
				ev.Attributes = map[string]string{"mode": d.mode}
			}
			must(eng.Track(ctx, ev))
			if d.spend != 0 {
				must(eng.Track(ctx, gamify.Event{Metric: "spend", User: d.user, Value: d.spend}))
			}
			must(eng.Leaderboards().Submit(ctx, "golf", d.user, float64(70+(i*7+j*3)%11), float64(j)))
		}
		clock.Advance(3 * time.Hour)
		switch i {
		case 1:
			must(eng.Points().Award(ctx, "coins", "ana", 40, "bonus-1", "welcome back"))
			must(eng.Points().Award(ctx, "coins", "ana", 40, "bonus-1", "welcome back")) // a replay
			must(eng.Points().Spend(ctx, "coins", "ben", 30.5, "spend-1"))
			must(eng.Achievements().Complete(ctx, "helper", "ana"))
			must(eng.Achievements().Complete(ctx, "retired", "ben"))
		case 3:
			claim(eng, "coffee", "ana", "claim-1")
			claim(eng, "coffee", "ana", "claim-1") // a replay
			claim(eng, "voucher", "ben", "claim-2")
			claim(eng, "shirt", "cat", "")
			claim(eng, "double", "ana", "")
			must(eng.Achievements().Complete(ctx, "pro-only", "ana"))
		case 5:
			_, issues, err := eng.Streaks().GrantFreezes(ctx, "walk", []string{"ben"})
			check(err)
			if len(issues) > 0 {
				log.Fatal(issues)
			}
			must(eng.Streaks().AddPause(ctx, "walk", "cat", gamify.Date{Year: 2026, Month: 11, Day: 9}, gamify.Date{Year: 2026, Month: 11, Day: 10}))
			must(eng.Points().Award(ctx, "xp", "cat", 12.75, "", "manual xp"))
			claim(eng, "coffee", "ana", "claim-3")
		case 7:
			must(eng.Points().PinLevel(ctx, "xp", "cat", "gold"))
		}
	}
	must(eng.RunDue(ctx))
	check(eng.Achievements().Delete(ctx, "retired"))
	a := must(eng.Achievements().Get(ctx, "walker"))
	a.Status = gamify.AchievementLocked
	must(eng.Achievements().Update(ctx, a.AchievementDefinition))

	// A tenant, with a file of its own.
	must(eng.Tenants().Create(ctx, "acme", "Acme Corp"))
	must(eng.Tenants().Create(ctx, "old-co", "Old Co"))
	check(eng.Tenants().Delete(ctx, "old-co"))
	te := must(eng.Tenant("acme"))
	must(te.Metrics().Create(ctx, gamify.Metric{Key: "sales", Name: "Sales", UnitType: gamify.UnitCurrency}))
	must(te.Track(ctx, gamify.Event{Metric: "sales", User: "zoe", Value: 19.99, IdempotencyKey: "order-1"}))
	must(te.Track(ctx, gamify.Event{Metric: "sales", User: "zoe", Value: 5.01}))

	check(eng.Check(ctx))
	check(te.Check(ctx))
	exp := expected(eng, te, clock.Now())
	check(eng.Close())
	b := must(json.MarshalIndent(exp, "", "  "))
	check(os.WriteFile(filepath.Join(out, "expected.json"), append(b, '\n'), 0o644))
}

// balances are the available points of the claiming user in the reward's
// system right after each claim, by claim sequence.
var balances = map[uint64]string{}

func claim(eng *gamify.Engine, reward, user, key string) {
	c := must(eng.Rewards().Claim(ctx, reward, user, key))
	r := must(eng.Rewards().Get(ctx, reward))
	if r.System != "" {
		balances[c.Seq] = must(eng.Users().Points(ctx, user, r.System)).Available.String()
	} else {
		balances[c.Seq] = "0"
	}
}

// Expected are the reads the fixture answers, in the release's own types
// rendered with Amounts as decimal strings.
type Expected struct {
	Now          time.Time
	Users        map[string]UserReads
	Boards       map[string]BoardReads
	Tenant       map[string]string // user → sales total in tenant acme
	Achievements []AchievementStat
}

type UserReads struct {
	Metrics      map[string]string
	Events       map[string]uint64
	Streaks      map[string]StreakRead
	Points       map[string]PointsRead
	Achievements map[string]AchievementRead
	Claims       []ClaimRead
	Awards       map[string][]AwardRead // by system, latest first
	RankHistory  []RankRead             // on daily-steps
}

type AwardRead struct {
	Trigger, Reason, Base, Points, Total string
	Multiple                             int64
	Boosts                               int
	Capped                               bool
}

type RankRead struct {
	Date       string
	Rank, Best int
}

type StreakRead struct {
	Length, Longest, Freezes int
	Met, Paused              bool
}

type PointsRead struct {
	Total, Spent, Available, Level string
	Pinned                         bool
}

type AchievementRead struct {
	CompletedAt time.Time
	Backdated   bool
}

type ClaimRead struct {
	Reward, Code, Cost string
	Balance            string // available points right after the claim
	At                 time.Time
	IdemKey            string
}

type BoardReads struct {
	Current  []Row            // standings of the run in progress (group "" or plan=pro)
	Finished map[string][]Row // run start (RFC 3339) → frozen standings, latest runs
	Runs     int              // finished runs
}

type Row struct {
	Rank       int
	User       string
	Score, Sub string
}

type AchievementStat struct {
	Key       string
	Completed int
}

func expected(eng, te *gamify.Engine, now time.Time) Expected {
	exp := Expected{Now: now, Users: map[string]UserReads{}, Boards: map[string]BoardReads{}, Tenant: map[string]string{}}
	for _, id := range []string{"ana", "ben", "cat"} {
		u := UserReads{Metrics: map[string]string{}, Events: map[string]uint64{}, Streaks: map[string]StreakRead{},
			Points: map[string]PointsRead{}, Achievements: map[string]AchievementRead{}, Awards: map[string][]AwardRead{}}
		for _, m := range []string{"steps", "spend"} {
			um, err := eng.Users().Metric(ctx, id, m)
			if err == nil {
				u.Metrics[m], u.Events[m] = um.Total.String(), um.Events
			}
		}
		for _, s := range must(eng.Users().Streaks(ctx, id)) {
			u.Streaks[s.Key] = StreakRead{Length: s.Length, Longest: s.Longest, Freezes: s.Freezes, Met: s.Met, Paused: s.Paused}
		}
		for _, sys := range []string{"xp", "coins"} {
			p := must(eng.Users().Points(ctx, id, sys))
			u.Points[sys] = PointsRead{Total: p.Total.String(), Spent: p.Spent.String(), Available: p.Available.String(), Level: p.Level, Pinned: p.Pinned}
			for _, a := range must(eng.Users().Awards(ctx, id, sys, 0, 100)) {
				u.Awards[sys] = append(u.Awards[sys], AwardRead{Trigger: a.Trigger, Reason: a.Reason, Base: a.Base.String(), Points: a.Points.String(),
					Total: a.Total.String(), Multiple: a.Multiple, Boosts: len(a.Boosts), Capped: a.Capped})
			}
		}
		for _, a := range must(eng.Achievements().User(ctx, id, false)) {
			if a.Completed {
				u.Achievements[a.Key] = AchievementRead{CompletedAt: a.CompletedAt, Backdated: a.Backdated}
			}
		}
		for _, c := range must(eng.Users().Claims(ctx, id)) {
			u.Claims = append(u.Claims, ClaimRead{Reward: c.Reward, Code: c.Code, Cost: c.Cost.String(), Balance: balances[c.Seq], At: c.At, IdemKey: c.IdemKey})
		}
		for _, r := range must(eng.Leaderboards().RankHistory(ctx, "daily-steps", id, 100)) {
			u.RankHistory = append(u.RankHistory, RankRead{Date: r.Date.String(), Rank: r.Rank, Best: r.Best})
		}
		exp.Users[id] = u
	}
	rows := func(p gamify.BoardPage) []Row {
		var out []Row
		for _, r := range p.Rows {
			out = append(out, Row{Rank: r.Rank, User: r.User, Score: r.Score.String(), Sub: r.Subscore.String()})
		}
		return out
	}
	for _, key := range []string{"daily-steps", "weekly-xp", "streaks", "golf", "morning"} {
		group := ""
		if key == "golf" {
			group = "plan=pro"
		}
		br := BoardReads{Finished: map[string][]Row{}}
		if key != "morning" {
			br.Current = rows(must(eng.Leaderboards().Rankings(ctx, key, gamify.BoardQuery{Group: group, Limit: 100})))
		}
		if key == "daily-steps" {
			runs := must(eng.Leaderboards().Runs(ctx, key, 100))
			br.Runs = len(runs)
			for _, r := range runs[:3] {
				br.Finished[r.Start.UTC().Format(time.RFC3339)] = rows(must(eng.Leaderboards().Rankings(ctx, key, gamify.BoardQuery{At: r.Start, Limit: 100})))
			}
		}
		exp.Boards[key] = br
	}
	for _, s := range must(eng.Achievements().List(ctx, nil)) {
		exp.Achievements = append(exp.Achievements, AchievementStat{Key: s.Key, Completed: s.Completions})
	}
	um := must(te.Users().Metric(ctx, "zoe", "sales"))
	exp.Tenant["zoe"] = um.Total.String()
	return exp
}

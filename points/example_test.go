package points_test

import (
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
)

func ExampleOnMetric() {
	r := points.Rules{
		System: points.System{Key: "xp", Name: "XP"},
		Triggers: []points.Trigger{{
			Key: "steps", System: "xp", Kind: points.KindMetric, Metric: "steps",
			Threshold: gamifytype.AmountFromInt(100), Points: gamifytype.AmountFromInt(5), Active: true,
		}},
		Boosts: []points.Boost{{
			Key: "launch", System: "xp", Scope: points.Global, From: points.Date{Year: 2026, Month: 3, Day: 1},
			Multiplier: gamifytype.AmountFromInt(2),
		}},
		Levels: []points.Level{
			{Key: "rookie", Name: "Rookie", Threshold: gamifytype.AmountFromInt(0)},
			{Key: "walker", Name: "Walker", Threshold: gamifytype.AmountFromInt(25)},
		},
	}
	at := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	// 350 steps cross three multiples of 100: one award of 3 × 5, doubled.
	s, fx, err := points.OnMetric(r, points.State{}, points.User{ID: "ana"}, points.MetricChange{Metric: "steps", Delta: gamifytype.AmountFromInt(350), At: at})
	if err != nil {
		panic(err)
	}
	a := fx.Awards[0]
	fmt.Println(a.Trigger, a.Base, "→", a.Points, "total", a.Total)
	fmt.Println("level", fx.Level.From+"→"+fx.Level.To, "promotion", fx.Level.Promotion)
	_, _, _, ok := points.NextLevel(r.Levels, s.Total())
	fmt.Println("above walker:", ok)
	// Output:
	// steps 15 → 30 total 30
	// level →walker promotion true
	// above walker: false
}

func ExampleSpend() {
	r := points.Rules{System: points.System{Key: "coins", Name: "Coins"}}
	s, _, _ := points.Award(r, points.State{}, gamifytype.AmountFromInt(10), "welcome")
	s, _, _ = points.Spend(s, gamifytype.AmountFromInt(4))
	_, _, err := points.Spend(s, gamifytype.AmountFromInt(7))
	fmt.Println(s.Total(), s.Spent(), s.Available(), err)
	// Output:
	// 10 4 6 points: spend 7: gamify: insufficient points: available 6
}

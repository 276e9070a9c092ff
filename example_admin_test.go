package gamify_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gamifykit/gamify"
)

func ExampleAmount() {
	cost := gamify.AmountFromInt(200) // Reward{Cost: 200} would not compile
	price := gamify.MustParseAmount("12.5")
	third, _ := gamify.AmountFromFloat(1.0 / 3) // rounded to the nearest millionth
	fmt.Println(cost, price, third, cost.Add(price), cost.Less(price))
	b, _ := json.Marshal(struct{ Cost gamify.Amount }{price})
	fmt.Println(string(b))
	// Output:
	// 200 12.5 0.333333 212.5 false
	// {"Cost":"12.5"}
}

func ExampleMetricsAPI_Patch() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "km", Name: "Distance", Description: "Running", Units: "km"})
	m, _ := eng.Metrics().Patch(ctx, "km", func(m *gamify.Metric) { m.Name = "Run distance" })
	fmt.Println(m.Name, "|", m.Description, "|", m.Units) // the other fields are kept

	_, err := eng.Metrics().Patch(ctx, "km", func(m *gamify.Metric) { m.Key = "mi" })
	fmt.Println(err)
	m, _ = eng.Metrics().Deactivate(ctx, "km")
	_, err = eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: 5})
	fmt.Println(m.Status, err)
	// Output:
	// Run distance | Running | km
	// patch metric km: gamify: invalid Metric.Key (mi): is immutable
	// inactive gamify: invalid Event.Metric (km): is not an active metric
}

func ExampleEngine_Apply() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	// The whole game, declared once and applied at every start.
	game := gamify.Game{
		Metrics: []gamify.Metric{
			{Key: "xp", Name: "Experience"},
			{Key: "lessons", Name: "Lessons completed"},
		},
	}
	for range 2 {
		rep, err := eng.Apply(ctx, game)
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, c := range rep.Changes {
			fmt.Println(c.Resource, c.Key, c.Action)
		}
		fmt.Println("changed:", rep.Changed())
	}
	// Output:
	// metric xp created
	// metric lessons created
	// changed: true
	// metric xp unchanged
	// metric lessons unchanged
	// changed: false
}

func ExampleUsersAPI_List() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	for _, u := range []string{"ana", "ben", "cleo"} {
		eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 1, Profile: &gamify.UserInput{Name: u}})
	}
	eng.Users().Deactivate(ctx, "ben")
	page, _ := eng.Users().List(ctx, gamify.UserQuery{Sort: gamify.SortName, PageSize: 2})
	for _, r := range page.Rows {
		fmt.Println(r.ID, r.Active, r.Events)
	}
	fmt.Println("page", page.Page, "of size", page.PageSize, "total", page.Total)
	// Output:
	// ana true 1
	// ben false 1
	// page 1 of size 2 total 3
}

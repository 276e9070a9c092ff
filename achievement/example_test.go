package achievement_test

import (
	"fmt"
	"time"

	"github.com/gamifykit/gamify/achievement"
	"github.com/gamifykit/gamify/gamifytype"
)

// ExampleOnMetric shows what the engine's writer does per event: evaluate,
// store the new state, report the completions.
func ExampleOnMetric() {
	c, err := achievement.NewCatalog([]achievement.Definition{
		{Key: "first-5k", Name: "First 5k", Kind: achievement.KindMetric, Status: achievement.Active,
			Metric: "km", Threshold: gamifytype.AmountFromInt(5)},
		{Key: "runner", Name: "Runner", Kind: achievement.KindComposite, Status: achievement.Active,
			Prerequisites: []string{"first-5k"}},
	})
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)
	var s achievement.State
	var total gamifytype.Amount
	for _, km := range []int64{3, 2, 4} {
		total = total.Add(gamifytype.AmountFromInt(km))
		var done []achievement.Completion
		s, done, err = achievement.OnMetric(c, s, achievement.MetricChange{Metric: "km", Delta: gamifytype.AmountFromInt(km), Total: total}, now)
		if err != nil {
			panic(err)
		}
		for _, d := range done {
			fmt.Println(total, "km:", d.Key)
		}
	}
	d, _ := c.Get("first-5k")
	fmt.Printf("%+v\n", achievement.ProgressOf(d, s, achievement.Facts{Totals: map[string]gamifytype.Amount{"km": total}}))
	// Output:
	// 5 km: first-5k
	// 5 km: runner
	// {Current:5 Target:5 Completed:true}
}

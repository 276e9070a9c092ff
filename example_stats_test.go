package gamify_test

import (
	"context"
	"fmt"

	"github.com/gamifykit/gamify"
)

func ExampleEngine_Stats() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "km", Name: "Distance"})
	before := eng.Stats()
	eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: 5})
	eng.TrackBatch(ctx, []gamify.Event{{Metric: "km", User: "ana", Value: 1}, {Metric: "km", User: "bob", Value: 2}})

	st := eng.Stats()
	fmt.Println("events:", st.Events-before.Events)
	fmt.Println("commands:", st.Commands-before.Commands)
	fmt.Println("commits:", st.Batches-before.Batches, "timed:", st.CommitLatency.Count-before.CommitLatency.Count)
	fmt.Println("users cached:", st.UsersCached)
	// Output:
	// events: 3
	// commands: 2
	// commits: 2 timed: 2
	// users cached: 2
}

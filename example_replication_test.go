package gamify_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gamifykit/gamify"
)

// Two replicas share one command log (here the tests' in-memory log; in
// production package jetstream's). A replica checks a write against what it
// has applied, so after a definition made on the other, Sync before using it.
// Every replica answers reads from its own file.
func ExampleEngine_Sync() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "gamify-example")
	defer os.RemoveAll(dir)
	shared := newMemLog()
	open := func(name string, leader bool) *gamify.Engine {
		rep := &memReplica{log: shared}
		rep.leader.Store(leader)
		clock := gamify.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
		eng, err := gamify.Open(filepath.Join(dir, name), &gamify.Options{Clock: clock, Replication: rep})
		if err != nil {
			panic(err)
		}
		return eng
	}
	a, b := open("a.db", true), open("b.db", false)
	defer a.Close()
	defer b.Close()

	if _, err := a.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons"}); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Sync(ctx); err != nil { // b has applied the metric now
		fmt.Println(err)
		return
	}
	res, err := b.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("tracked on b:", res.Total)
	a.Sync(ctx)
	m, _ := a.Users().Metric(ctx, "ana", "lessons")
	st := a.Stats()
	fmt.Printf("read on a: %v (lag %d)\n", m.Total, st.LogHead-st.LogPosition)
	// Output:
	// tracked on b: 1
	// read on a: 1 (lag 0)
}

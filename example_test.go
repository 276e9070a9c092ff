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

// exampleEngine opens an engine on a fresh temporary file with a manual clock.
func exampleEngine() (*gamify.Engine, func()) {
	dir, err := os.MkdirTemp("", "gamify-example")
	if err != nil {
		panic(err)
	}
	clock := gamify.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(filepath.Join(dir, "game.db"), &gamify.Options{Clock: clock})
	if err != nil {
		panic(err)
	}
	return eng, func() { eng.Close(); os.RemoveAll(dir) }
}

func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "gamify-example")
	defer os.RemoveAll(dir)

	eng, err := gamify.Open(filepath.Join(dir, "game.db"), &gamify.Options{Durability: gamify.Buffered})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	_, err = gamify.Open(filepath.Join(dir, "other.db"), &gamify.Options{Durability: 9, MaxFlushDelay: -1})
	fmt.Println(err)
	// Output:
	// gamify: invalid Options.Durability (unknown): must be Durable or Buffered
	// gamify: invalid Options.MaxFlushDelay (-1ns): must not be negative
}

func ExampleEngine_Track() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "km", Name: "Distance", Units: "km"})
	for _, km := range []float64{0.1, 0.2, 0.3} {
		res, err := eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: km})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(res.Total) // exact decimals: float64 sums give 0.30000000000000004 and 0.6000000000000001
	}

	_, err := eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: 1.0000001})
	var ve *gamify.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(ve.Field, "-", ve.Reason)
	}
	// Output:
	// 0.1
	// 0.3
	// 0.6
	// Event.Value - must have at most 6 fractional digits
}

func ExampleEngine_Track_idempotency() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "coins", Name: "Coins"})
	ev := gamify.Event{Metric: "coins", User: "ana", Value: 50, IdempotencyKey: "purchase-1234"}
	first, _ := eng.Track(ctx, ev)
	retry, _ := eng.Track(ctx, ev) // e.g. the client timed out and sent it again
	fmt.Println(first.Total, first.IdempotentReplayed)
	fmt.Println(retry.Total, retry.IdempotentReplayed, retry.EventID == first.EventID)
	// Output:
	// 50 false
	// 50 true true
}

// An offline device syncs a day late: the event is judged at its own time.
// It gets the boost that ran that day, a trigger deactivated since still
// pays for it, and its old profile does not undo the user's newer plan.
func ExampleEngine_Track_late() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "gamify-example")
	defer os.RemoveAll(dir)
	clock := gamify.NewManualClock(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(filepath.Join(dir, "game.db"), &gamify.Options{Clock: clock})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer eng.Close()

	eng.Metrics().Create(ctx, gamify.Metric{Key: "lessons", Name: "Lessons"})
	eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "Plan", Type: gamify.UserAttribute})
	eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-lesson", System: "coins", Kind: gamify.TriggerMetric,
		Metric: "lessons", Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)})
	today := gamify.Date{Year: 2026, Month: 11, Day: 2}
	eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "double-monday", System: "coins", Scope: gamify.BoostGlobal,
		From: today, To: today, Multiplier: gamify.AmountFromInt(2)})
	eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"plan": "free"}})

	clock.Set(time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)) // the next day
	eng.Users().Update(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"plan": "pro"}})
	eng.Points().Triggers().Deactivate(ctx, "per-lesson")
	res, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1,
		Time:    time.Date(2026, 11, 2, 18, 0, 0, 0, time.UTC), // recorded offline yesterday
		Profile: &gamify.UserInput{Attributes: map[string]string{"plan": "free"}}})
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ := eng.Users().Get(ctx, "ana")
	fmt.Println(res.Points[0].Added, u.Attributes["plan"])
	// Output:
	// 20 pro
}

func ExampleEngine_Subscribe() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	got := make(chan string, 1)
	sub := eng.Subscribe(func(n gamify.Notification) {
		if c, ok := n.(gamify.UserCreated); ok {
			got <- c.User
		}
	})
	defer sub.Close()
	eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10})
	fmt.Println("new user:", <-got)
	// Output:
	// new user: ana
}

func ExampleUsersAPI_Identify() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()

	eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Name: "Ana", TZ: "Europe/Lisbon"})
	u, _ := eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Email: "ana@example.com"})
	fmt.Println(u.Name, u.Email, u.TZ)

	_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: "ben", TZ: "Mars/Base"})
	fmt.Println(errors.Is(err, gamify.ErrInvalid), err)
	// Output:
	// Ana ana@example.com Europe/Lisbon
	// true gamify: invalid User.TZ (Mars/Base): is not an IANA time zone
}

func ExampleEngine_Backup() {
	ctx := context.Background()
	eng, done := exampleEngine()
	defer done()
	eng.Metrics().Create(ctx, gamify.Metric{Key: "km", Name: "Distance"})
	eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Amount: gamify.MustParseAmount("5.2")})

	// Back up to a file while the engine stays open; writes may go on.
	dir, _ := os.MkdirTemp("", "gamify-backup")
	defer os.RemoveAll(dir)
	copyPath := filepath.Join(dir, "backup.db")
	f, _ := os.Create(copyPath)
	if err := eng.Backup(ctx, f); err != nil {
		fmt.Println(err)
		return
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		fmt.Println(err)
		return
	}

	// The copy is a database of its own.
	restored, err := gamify.Open(copyPath, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer restored.Close()
	m, _ := restored.Users().Metric(ctx, "ana", "km")
	fmt.Println(m.Total, restored.Check(ctx))
	// Output:
	// 5.2 <nil>
}

package gamify_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// year10000 is the first instant encoding/json refuses to encode.
var year10000 = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)

// requireFieldIn asserts that err holds (possibly among joined errors) a
// ValidationError naming field, and that its message is short: an error
// never echoes a whole input.
func requireFieldIn(t *testing.T, err error, field string) {
	t.Helper()
	require.Error(t, err, field)
	require.Less(t, len(err.Error()), 2048, "an error quotes a bounded prefix of the input")
	var found []string
	var walk func(error) bool
	walk = func(e error) bool {
		var ve *gamify.ValidationError
		if errors.As(e, &ve) {
			if ve.Field == field {
				return true
			}
			found = append(found, ve.Field)
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				if walk(x) {
					return true
				}
			}
		}
		if u := errors.Unwrap(e); u != nil {
			return walk(u)
		}
		return false
	}
	require.True(t, walk(err), "want a ValidationError on %s, got %v (fields %v)", field, err, found)
}

// within fails the test if f does not return in time: a hung writer shows
// as a failure, not as a test binary killed by its timeout.
func within(t *testing.T, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		require.NoError(t, err, what)
	case <-time.After(time.Minute):
		t.Fatalf("%s did not return: the writer is stuck", what)
	}
}

// trackMany tracks n events of distinct users, then flushes.
func trackMany(t *testing.T, eng *gamify.Engine, prefix string, n int) {
	t.Helper()
	ctx := context.Background()
	within(t, fmt.Sprintf("%d events", n), func() error {
		for i := range n {
			if _, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: fmt.Sprintf("%s%d", prefix, i), Value: 1}); err != nil {
				return err
			}
		}
		return eng.Flush(ctx)
	})
}

// The issue's repro: a trigger whose Since no encoder can write. It used to
// panic inside the writer with its locks held, hanging every later write
// and Close.
func TestTriggerSinceBeyondYear9999IsRefusedAndTheWriterGoesOn(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t)
	daily := gamify.Trigger{Key: "daily", System: "coins", Kind: gamify.TriggerTime, Every: 1, Unit: gamify.TriggerDays,
		Points: gamify.AmountFromInt(5), Since: year10000}

	_, err := eng.Points().Triggers().Create(ctx, daily)
	requireFieldIn(t, err, "Trigger.Since")
	_, issues, err := eng.Points().Triggers().BulkCreate(ctx, []gamify.Trigger{daily})
	require.NoError(t, err)
	require.Len(t, issues, 1)
	requireFieldIn(t, issues[0].Err, "Trigger.Since")

	daily.Since = time.Time{}
	_, err = eng.Points().Triggers().Create(ctx, daily)
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Patch(ctx, "daily", func(tr *gamify.Trigger) { tr.Since = year10000 })
	requireFieldIn(t, err, "Trigger.Since")
	_, issues, err = eng.Points().Triggers().BulkPatch(ctx, []string{"daily"}, func(tr *gamify.Trigger) { tr.Since = year10000 })
	require.NoError(t, err)
	require.Len(t, issues, 1)
	requireFieldIn(t, issues[0].Err, "Trigger.Since")
	got, err := eng.Points().Triggers().Get(ctx, "daily")
	require.NoError(t, err)
	require.True(t, got.Since.Before(year10000), "the refused patch changed nothing")

	trackMany(t, eng.Engine, "u", 1000)
	m, err := eng.Users().Metric(ctx, "u999", "xp")
	require.NoError(t, err)
	require.Equal(t, "1", m.Total.String())
	within(t, "Close", eng.Close)
}

// A clock past year 9999 made Track of a new user panic while sealing the
// batch (its profile's time stamps do not encode) and stored a tenant Get
// could not find. Such a reading is refused, naming the clock.
func TestClockBeyondStorableYearsIsRefused(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	eng.clock.Set(year10000)
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "new", Value: 1})
	requireFieldIn(t, err, "Options.Clock")
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
	requireFieldIn(t, err, "Options.Clock")
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "other"})
	requireFieldIn(t, err, "Options.Clock")

	eng.clock.Set(t0)
	_, err = eng.Tenants().Get(ctx, "acme")
	require.ErrorIs(t, err, gamify.ErrNotFound, "the refused create left nothing")
	_, err = eng.Users().Get(ctx, "new")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	trackMany(t, eng.Engine, "u", 1000)
	within(t, "Close", eng.Close)
}

// errInjected is the value the test seam panics with.
var errInjected = errors.New("injected panic")

// A panic inside a command (a bug) fails that command alone: its changes,
// leaderboard moves included, are undone as for a command that returned an
// error, and the engine goes on.
func TestPanicInACommandFailsOnlyThatCommand(t *testing.T) {
	ctx := context.Background()
	var boom atomic.Pointer[any] // nil, or the value to panic with
	panicWith := func(v any) { boom.Store(&v) }
	opts := &gamify.Options{Durability: gamify.Buffered}
	gamify.SetBeforeTxnCommit(opts, func() {
		if v := boom.Load(); v != nil {
			panic(*v)
		}
	})
	eng := boardEngine(t, opts, gamify.Leaderboard{})
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)

	panicWith(errInjected)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 7})
	require.ErrorIs(t, err, errInjected, "the error wraps the panic value")
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 9})
	require.ErrorIs(t, err, errInjected, "a new user's command too")
	panicWith("not an error")
	_, err = eng.Metrics().Create(ctx, gamify.Metric{Key: "km", Name: "Km"})
	require.ErrorContains(t, err, "not an error")
	boom.Store(nil)

	require.NoError(t, eng.Flush(ctx))
	m, err := eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "5", m.Total.String(), "the failed event left no trace")
	_, err = eng.Users().Get(ctx, "bob")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	_, err = eng.Metrics().Get(ctx, "km")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	page, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Rows, 1)
	require.Equal(t, "5", page.Rows[0].Score.String(), "the board move was undone")

	trackMany(t, eng.Engine, "u", 1000)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 7})
	require.NoError(t, err)
	require.NoError(t, eng.Flush(ctx))
	page, err = eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{Limit: 1})
	require.NoError(t, err)
	require.Equal(t, "ana", page.Rows[0].User)
	require.Equal(t, "12", page.Rows[0].Score.String())
	require.NoError(t, eng.Check(ctx))
	within(t, "Close", eng.Close)
}

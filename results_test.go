package gamify_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// A subscriber that keeps up never loses part of a maximal TrackBatch, even
// when the commit holds more notifications than NotifyBuffer (1024 by
// default); one that is behind loses later commits whole, and the writer
// never waits for it.
func TestNotifyMaximalBatchAtDefaultSettings(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, gamify.Trigger{Key: "hello", System: "coins", Kind: gamify.TriggerUserCreation, Points: gamify.AmountFromInt(1)})
	block := make(chan struct{})
	var got atomic.Int64
	sub := eng.Subscribe(func(gamify.Notification) {
		<-block // the callback is still busy when the whole commit arrives
		got.Add(1)
	})
	evs := make([]gamify.Event, 1000)
	for i := range evs {
		evs[i] = gamify.Event{Metric: "xp", User: fmt.Sprintf("u%04d", i), Value: 1}
	}
	_, err := eng.TrackBatch(ctx, evs)
	require.NoError(t, err)
	// The subscriber is now 2,000 behind: the next commit is dropped whole,
	// and Track does not wait for the subscriber.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "late", Value: 1})
	require.NoError(t, err)
	require.Equal(t, uint64(2), sub.Dropped(), "the later commit (UserCreated, PointsChanged) is dropped whole")
	close(block)
	require.Eventually(t, func() bool { return got.Load() == 2000 }, 10*time.Second, time.Millisecond,
		"UserCreated and PointsChanged for each of the 1000 new users")
	sub.Close()
	require.Equal(t, uint64(2), sub.Dropped())
}

// A user created or changed by an acknowledged Track is found by Get, with
// that profile, in both modes — also while a Buffered batch is uncommitted.
func TestReadYourWritesAfterTrack(t *testing.T) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := context.Background()
			// An hour's delay: nothing commits unless asked.
			eng := openTest(t, &gamify.Options{Durability: mode, MaxFlushDelay: time.Hour})
			mustMetric(t, eng.Engine, "xp")
			_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Profile: &gamify.UserInput{Name: "Ana"}})
			require.NoError(t, err)
			u, err := eng.Users().Get(ctx, "ana")
			require.NoError(t, err, "Track acknowledged ana")
			require.Equal(t, "Ana", u.Name)
			_, err = eng.Users().Preferences(ctx, "ana")
			require.NoError(t, err)
			_, err = eng.Users().Create(ctx, gamify.UserInput{ID: "ana"})
			require.ErrorIs(t, err, gamify.ErrConflict, "Create and Get agree")

			_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Profile: &gamify.UserInput{Name: "Ana B."}})
			require.NoError(t, err)
			u, err = eng.Users().Get(ctx, "ana")
			require.NoError(t, err)
			require.Equal(t, "Ana B.", u.Name, "the profile upsert of the event")

			_, err = eng.Users().Get(ctx, "bob")
			require.ErrorIs(t, err, gamify.ErrNotFound)
			require.NoError(t, eng.Flush(ctx))
			u, err = eng.Users().Get(ctx, "ana")
			require.NoError(t, err)
			require.Equal(t, "Ana B.", u.Name)
		})
	}
}

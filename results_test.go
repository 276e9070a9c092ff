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

package gamify_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// logCapture is a slog.Handler that keeps what it is given.
type logCapture struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (h *logCapture) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *logCapture) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logCapture) WithGroup(string) slog.Handler      { return h }

// count returns how many records at level have msg.
func (h *logCapture) count(level slog.Level, msg string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if r.Level == level && r.Message == msg {
			n++
		}
	}
	return n
}

func TestStatsCountWhatHappened(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	dailyBoard(t, eng.Engine)
	s0 := eng.Stats()
	require.Zero(t, s0.Events)
	require.Positive(t, s0.Commands, "the definitions are commands")
	require.Equal(t, s0.Commands, s0.Batches, "Durable admin commands commit one by one here")
	require.Equal(t, s0.Batches+s0.CommitFailures, s0.CommitLatency.Count)
	require.Equal(t, 11, len(s0.CommitLatency.Bounds))
	require.Equal(t, time.Second, s0.CommitLatency.Bounds[10])

	track := func(user string, v float64) {
		t.Helper()
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: v})
		require.NoError(t, err)
	}
	track("ana", 1)
	s1 := eng.Stats()
	require.Equal(t, uint64(1), s1.Events)
	require.Equal(t, s0.Commands+1, s1.Commands)
	require.Equal(t, s0.Batches+1, s1.Batches, "counted before Track returns")
	require.Equal(t, s0.CommitLatency.Count+1, s1.CommitLatency.Count)
	require.Greater(t, s1.CommitLatency.Sum, s0.CommitLatency.Sum)
	require.Greater(t, s1.UserCacheMisses, s0.UserCacheMisses, "a new user is a miss")
	require.Equal(t, 1, s1.UsersCached)
	require.Equal(t, 1, s1.BoardEntries)

	track("ana", 2)
	s2 := eng.Stats()
	require.Equal(t, s1.UserCacheMisses, s2.UserCacheMisses, "a cached user is no miss")
	require.Greater(t, s2.UserCacheHits, s1.UserCacheHits)
	_, err := eng.TrackBatch(ctx, []gamify.Event{{Metric: "xp", User: "bob", Value: 1}, {Metric: "xp", User: "cy", Value: 1}})
	require.NoError(t, err)
	s3 := eng.Stats()
	require.Equal(t, uint64(4), s3.Events, "a batch counts its events")
	require.Equal(t, s2.Commands+1, s3.Commands, "and is one command")
	require.Equal(t, 3, s3.BoardEntries)
	require.Equal(t, 3, s3.UsersCached)
	require.Zero(t, s3.UsersIndexed, "not built before the first List")
	_, err = eng.Users().List(ctx, gamify.UserQuery{})
	require.NoError(t, err)
	require.Equal(t, 3, eng.Stats().UsersIndexed)

	// A refused command changes nothing and is counted.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: "k"})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2, IdempotencyKey: "k"})
	require.ErrorIs(t, err, gamify.ErrConflict)
	s4 := eng.Stats()
	require.Equal(t, s3.Rejected+1, s4.Rejected)
	require.Equal(t, s3.Events+1, s4.Events, "the refused event is not counted")

	// A rollover is a job run; the finished run leaves the board index.
	eng.clock.Advance(24 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	s5 := eng.Stats()
	require.Equal(t, s4.JobsRun+1, s5.JobsRun)
	require.Zero(t, s5.JobsFailed)
	require.Zero(t, s5.BoardEntries)

	// Tenants have Stats of their own.
	_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
	require.NoError(t, err)
	te, err := eng.Tenant("acme")
	require.NoError(t, err)
	require.Zero(t, te.Stats().Events)
	require.Equal(t, 1, eng.Stats().Tenants)
}

func TestStatsPendingInBufferedMode(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{Durability: gamify.Buffered, MaxFlushDelay: time.Hour})
	mustMetric(t, eng.Engine, "xp")
	before := eng.Stats()
	for _, u := range []string{"ana", "bob", "cy"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 1})
		require.NoError(t, err)
	}
	st := eng.Stats()
	require.Equal(t, 3, st.Pending, "applied, waiting for MaxFlushDelay")
	require.Equal(t, uint64(3), st.Events)
	require.Equal(t, before.Batches, st.Batches)
	require.NoError(t, eng.Flush(ctx))
	require.Equal(t, before.Batches+1, eng.Stats().Batches)
}

func TestFailuresAreLogged(t *testing.T) {
	ctx := context.Background()
	var fail atomic.Bool
	var opts gamify.Options
	logs := &logCapture{}
	opts.Logger = slog.New(logs)
	gamify.SetBeforeCommit(&opts, func() error {
		if fail.Load() {
			return errors.New("disk on fire")
		}
		return nil
	})
	opts.NotifyBuffer = 1
	eng := openTest(t, &opts)
	dailyBoard(t, eng.Engine)

	// A failed commit (its caller told) and a failed job occurrence.
	fail.Store(true)
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.Error(t, err)
	eng.clock.Advance(24 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	fail.Store(false)
	st := eng.Stats()
	require.Equal(t, uint64(2), st.CommitFailures)
	require.Equal(t, uint64(1), st.JobsFailed)
	require.Equal(t, 2, logs.count(slog.LevelWarn, "gamify: commit failed; its callers were told"))
	require.Equal(t, 1, logs.count(slog.LevelWarn, "gamify: scheduled job failed"))

	// A subscriber behind by NotifyBuffer loses a commit: logged once.
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	sub := eng.Subscribe(func(n gamify.Notification) {
		once.Do(func() { close(started); <-release })
	})
	for i, u := range []string{"u1", "u2", "u3", "u4"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 1})
		require.NoError(t, err)
		if i == 0 {
			<-started // the callback holds u1's notification
		}
	}
	require.Equal(t, 1, eng.Stats().NotificationsQueued, "u2's, behind the one the callback holds")
	require.Equal(t, 1, eng.Stats().Subscribers)
	close(release)
	sub.Close()
	st = eng.Stats()
	require.Equal(t, uint64(2), sub.Dropped(), "u3 and u4 arrive while u2 waits")
	require.Equal(t, uint64(2), st.NotificationsDropped)
	require.Equal(t, uint64(2), st.NotificationsDelivered)
	require.Equal(t, 1, logs.count(slog.LevelWarn, "gamify: subscriber is behind; dropping notifications until it catches up"))
}

// Without Options.Logger, failures go to slog.Default().
func TestFailuresGoToTheDefaultLogger(t *testing.T) {
	logs := &logCapture{}
	prev := slog.Default()
	slog.SetDefault(slog.New(logs))
	t.Cleanup(func() { slog.SetDefault(prev) })
	var opts gamify.Options
	gamify.SetBeforeCommit(&opts, func() error { return errors.New("disk on fire") })
	eng, err := gamify.Open(t.TempDir()+"/d.db", &opts)
	require.NoError(t, err)
	defer eng.Close()
	_, err = eng.Metrics().Create(context.Background(), gamify.Metric{Key: "xp", Name: "xp"})
	require.Error(t, err)
	require.Equal(t, 1, logs.count(slog.LevelWarn, "gamify: commit failed; its callers were told"))
}

func TestSubscriberPanicIsRecovered(t *testing.T) {
	ctx := context.Background()
	logs := &logCapture{}
	eng := openTest(t, &gamify.Options{Logger: slog.New(logs)})
	mustMetric(t, eng.Engine, "xp")
	var got []string
	sub := eng.Subscribe(func(n gamify.Notification) {
		got = append(got, n.UserID())
		if n.UserID() == "ana" {
			panic("boom")
		}
	})
	for _, u := range []string{"ana", "bob"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 1})
		require.NoError(t, err)
	}
	sub.Close() // waits for the callback: got is complete
	require.Equal(t, []string{"ana", "bob"}, got, "delivery goes on after a panic")
	st := eng.Stats()
	require.Equal(t, uint64(1), st.CallbackPanics)
	require.Equal(t, uint64(1), st.NotificationsDelivered)
	require.Equal(t, 1, logs.count(slog.LevelWarn, "gamify: subscriber callback panicked"))
}

func TestSubscribeNilAndAfterClose(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	sub := eng.Subscribe(nil)
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	sub.Close()
	require.Zero(t, eng.Stats().Subscribers, "a nil callback subscribes nothing")

	require.NoError(t, eng.Close())
	before := runtime.NumGoroutine()
	for range 100 {
		eng.Subscribe(func(gamify.Notification) {})
	}
	require.Less(t, runtime.NumGoroutine(), before+10, "no goroutine per Subscribe after Close")
	s := eng.Subscribe(func(gamify.Notification) {})
	s.Close() // returns at once: the subscription is closed
}

package gamify_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// outboxSetup defines a points system paying on user creation and per xp,
// an achievement at 5 xp and a daily streak, so events emit every kind of
// user notification.
func outboxSetup(t *testing.T, eng *gamify.Engine) {
	t.Helper()
	ctx := context.Background()
	mustMetric(t, eng, "xp")
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "hello", System: "coins", Kind: gamify.TriggerUserCreation, Points: gamify.AmountFromInt(10)})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-xp", System: "coins", Kind: gamify.TriggerMetric, Metric: "xp",
		Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(1)})
	require.NoError(t, err)
	_, err = eng.Achievements().Create(context.Background(), ach("xp5", gamify.AchievementMetric, threshold(5)))
	require.NoError(t, err)
	_, err = eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
}

func readAll(t *testing.T, eng *gamify.Engine, after uint64) []gamify.OutboxEntry {
	t.Helper()
	var out []gamify.OutboxEntry
	for {
		page, err := eng.Outbox().Read(context.Background(), after, 7)
		require.NoError(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Seq
	}
}

func TestOutboxRecordsWhatSubscribersGetInCommitOrder(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	outboxSetup(t, eng.Engine)
	var mu sync.Mutex
	var live []gamify.Notification
	sub := eng.Subscribe(func(n gamify.Notification) {
		mu.Lock()
		live = append(live, n)
		mu.Unlock()
	})
	for i := range 6 {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
		require.NoError(t, err)
		_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: fmt.Sprint("u", i), Value: 2})
		require.NoError(t, err)
	}
	// A maximal batch: 1000 new users in one commit.
	evs := make([]gamify.Event, 1000)
	for i := range evs {
		evs[i] = gamify.Event{Metric: "xp", User: fmt.Sprint("batch-", i), Value: 1}
	}
	_, err := eng.TrackBatch(ctx, evs)
	require.NoError(t, err)
	sub.Close()

	got := readAll(t, eng.Engine, 0)
	mu.Lock()
	defer mu.Unlock()
	require.Greater(t, len(live), 3000, "UserCreated, PointsChanged, StreakChanged per new user")
	require.Len(t, got, len(live))
	kinds := map[string]bool{}
	for i, en := range got {
		require.Equal(t, uint64(i+1), en.Seq, "consecutive from 1")
		require.Equal(t, live[i], en.Notification, "entry %d", en.Seq)
		require.True(t, en.At.Equal(t0))
		kinds[fmt.Sprintf("%T", en.Notification)] = true
		require.Equal(t, fmt.Sprintf("gamify.%s", en.Type), fmt.Sprintf("%T", en.Notification))
	}
	for _, k := range []string{"gamify.UserCreated", "gamify.PointsChanged", "gamify.AchievementCompleted", "gamify.StreakChanged"} {
		require.True(t, kinds[k], k)
	}
	info, err := eng.Outbox().Info(ctx)
	require.NoError(t, err)
	require.Equal(t, gamify.OutboxInfo{First: 1, Last: uint64(len(got))}, info)
}

func TestOutboxConsumerResumesAfterRestart(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	for i := range 10 {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: fmt.Sprint("u", i), Value: 1})
		require.NoError(t, err)
	}
	c, err := eng.Outbox().Consumer(ctx, "mailer")
	require.NoError(t, err)
	again, err := eng.Outbox().Consumer(ctx, "mailer")
	require.NoError(t, err)
	require.Same(t, c, again)
	first, err := c.Fetch(ctx, 4)
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2, 3, 4}, seqs(first))
	next, err := c.Fetch(ctx, 4)
	require.NoError(t, err)
	require.Equal(t, []uint64{5, 6, 7, 8}, seqs(next), "Fetch moves on without an Ack")
	require.NoError(t, c.Ack(ctx, 3))
	c.Redeliver()
	re, err := c.Fetch(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, []uint64{4, 5}, seqs(re), "after Redeliver, from the acknowledged position")
	require.NoError(t, c.Ack(ctx, 2), "an older Ack changes nothing")
	require.Equal(t, uint64(3), c.Acked())
	requireField(t, c.Ack(ctx, 11), "seq")

	eng.reopen(t)
	infos, err := eng.Outbox().Consumers(ctx)
	require.NoError(t, err)
	require.Len(t, infos, 1)
	require.Equal(t, "mailer", infos[0].Name)
	require.Equal(t, uint64(3), infos[0].Acked)
	require.Equal(t, uint64(7), infos[0].Pending)
	require.True(t, infos[0].Created.Equal(t0))
	c, err = eng.Outbox().Consumer(ctx, "mailer")
	require.NoError(t, err)
	rest, err := c.Fetch(ctx, 100)
	require.NoError(t, err)
	require.Equal(t, []uint64{4, 5, 6, 7, 8, 9, 10}, seqs(rest), "resumes after the last Ack, at least once")
	require.Equal(t, "u3", rest[0].Notification.UserID())

	// Fetch waits for the next commit.
	got := make(chan []gamify.OutboxEntry, 1)
	go func() {
		en, err := c.Fetch(ctx, 100)
		if err != nil {
			en = nil
		}
		got <- en
	}()
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "late", Value: 1})
	require.NoError(t, err)
	require.Equal(t, []uint64{11}, seqs(<-got))

	require.NoError(t, eng.Outbox().DeleteConsumer(ctx, "mailer"))
	require.ErrorIs(t, c.Ack(ctx, 11), gamify.ErrNotFound)
	require.ErrorIs(t, eng.Outbox().DeleteConsumer(ctx, "mailer"), gamify.ErrNotFound)
	_, err = eng.Outbox().Consumer(ctx, "")
	requireField(t, err, "name")
}

func TestOutboxFetchEndsWithContextAndClose(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	c, err := eng.Outbox().Consumer(ctx, "c")
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Fetch(cctx, 1)
	require.ErrorIs(t, err, context.Canceled)
	done := make(chan error, 1)
	go func() { _, err := c.Fetch(ctx, 1); done <- err }()
	require.NoError(t, eng.Close())
	require.ErrorIs(t, <-done, gamify.ErrClosed)
	_, err = eng.Outbox().Read(ctx, 0, 1)
	require.ErrorIs(t, err, gamify.ErrClosed)
}

func seqs(es []gamify.OutboxEntry) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

func TestOutboxBufferedEntriesAppearAtCommit(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{Durability: gamify.Buffered, MaxFlushDelay: time.Hour})
	mustMetric(t, eng.Engine, "xp")
	require.NoError(t, eng.Flush(ctx))
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Empty(t, readAll(t, eng.Engine, 0), "applied, not committed")
	require.NoError(t, eng.Flush(ctx))
	got := readAll(t, eng.Engine, 0)
	require.Len(t, got, 1)
	require.Equal(t, gamify.UserCreated{User: "ana", At: t0}, got[0].Notification)
}

func TestOutboxRetention(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{OutboxRetain: 5, OutboxHardLimit: 12, OutboxMaxAge: time.Hour})
	mustMetric(t, eng.Engine, "xp")
	users := 0
	track := func(n int) {
		for range n {
			users++
			_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: fmt.Sprint("u", users), Value: 1})
			require.NoError(t, err)
		}
	}
	info := func() gamify.OutboxInfo {
		i, err := eng.Outbox().Info(ctx)
		require.NoError(t, err)
		return i
	}
	track(8)
	require.Equal(t, gamify.OutboxInfo{First: 4, Last: 8}, info(), "the newest 5 sequence numbers")

	c, err := eng.Outbox().Consumer(ctx, "slow")
	require.NoError(t, err)
	require.NoError(t, c.Ack(ctx, 6))
	track(4)
	require.Equal(t, gamify.OutboxInfo{First: 7, Last: 12}, info(), "nothing past the slowest consumer's Ack")
	track(8)
	require.Equal(t, gamify.OutboxInfo{First: 9, Last: 20}, info(), "the hard limit removes unacknowledged entries")
	got, err := c.Fetch(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, []uint64{9}, seqs(got), "the gap 7–8 shows what the hard limit removed")

	require.NoError(t, eng.Outbox().DeleteConsumer(ctx, "slow"))
	eng.clock.Advance(2 * time.Hour)
	track(1)
	require.Equal(t, gamify.OutboxInfo{First: 21, Last: 21}, info(), "older than OutboxMaxAge")

	_, err = gamify.Open(filepath.Join(t.TempDir(), "x.db"), &gamify.Options{OutboxRetain: 10, OutboxHardLimit: 5, OutboxMaxAge: -1})
	requireField(t, err, "Options.OutboxMaxAge")
	require.ErrorContains(t, err, "Options.OutboxHardLimit", "every bad field")
}

func TestOutboxEraseRemovesUserEntries(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{Durability: gamify.Buffered, MaxFlushDelay: time.Hour})
	outboxSetup(t, eng.Engine)
	for _, u := range []string{"ana", "bob", "ana"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 3})
		require.NoError(t, err)
	}
	require.NoError(t, eng.Flush(ctx))
	// These stay in the open batch until the erase.
	for _, u := range []string{"ana", "bob"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 3})
		require.NoError(t, err)
	}
	before := len(readAll(t, eng.Engine, 0))
	require.NoError(t, eng.Users().Erase(ctx, "ana"))
	require.NoError(t, eng.Flush(ctx))
	got := readAll(t, eng.Engine, 0)
	users := map[string]int{}
	for _, en := range got {
		users[en.Notification.UserID()]++
	}
	require.Zero(t, users["ana"])
	require.Greater(t, users["bob"], 3, "bob's of both batches")
	require.Greater(t, before, users["bob"], "ana had entries before")
}

func TestOutboxTenantsAreIsolated(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	for _, k := range []string{"red", "blue"} {
		_, err := eng.Tenants().Create(ctx, gamify.Tenant{Key: k, Name: k})
		require.NoError(t, err)
	}
	red, err := eng.Tenant("red")
	require.NoError(t, err)
	blue, err := eng.Tenant("blue")
	require.NoError(t, err)
	mustMetric(t, red, "xp")
	mustMetric(t, blue, "xp")
	_, err = red.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	rc, err := red.Outbox().Consumer(ctx, "c")
	require.NoError(t, err)
	require.NoError(t, rc.Ack(ctx, 1))
	require.Len(t, readAll(t, red, 0), 1)
	require.Empty(t, readAll(t, blue, 0))
	require.Empty(t, readAll(t, eng.Engine, 0))
	bi, err := blue.Outbox().Consumers(ctx)
	require.NoError(t, err)
	require.Empty(t, bi)
}

package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/jetstream"
)

// Three Logs proposing at once: every follower sees one order, positions
// consecutive from 1, each record once under its id.
func TestLogOrderAcrossProposers(t *testing.T) {
	c := startCluster(t)
	var logs []*jetstream.Log
	for i := range 3 {
		cfg := testConfig(c, fmt.Sprintf("r%d", i))
		cfg.URLs = []string{c.URL(i)}
		logs = append(logs, newLog(t, cfg))
	}
	const each = 100
	pos := make(map[string]uint64)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, l := range logs {
		wg.Go(func() {
			for k := range each {
				id := fmt.Sprintf("r%d-%d", i, k)
				p, err := l.Propose(context.Background(), id, []byte("rec "+id))
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				pos[id] = p
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Len(t, pos, 3*each)
	var first []record
	for i, l := range logs {
		got := collect(t, l, 1, 3*each)
		for k, r := range got {
			require.Equal(t, uint64(k+1), r.pos)
			require.Equal(t, "rec "+r.id, r.rec)
			require.Equal(t, pos[r.id], r.pos, "Propose answered the position the record is at")
		}
		if i == 0 {
			first = got
		} else {
			require.Equal(t, first, got, "every follower sees one order")
		}
		require.Equal(t, uint64(3*each), l.Head())
	}
}

func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}

// A retry under the same id lands once and answers the first position.
func TestLogProposeDeduplicates(t *testing.T) {
	c := startCluster(t)
	l := newLog(t, testConfig(c, "r"))
	ctx := context.Background()
	p1, err := l.Propose(ctx, "a", []byte("A"))
	require.NoError(t, err)
	p2, err := l.Propose(ctx, "b", []byte("B"))
	require.NoError(t, err)
	again, err := l.Propose(ctx, "a", []byte("A"))
	require.NoError(t, err)
	require.Equal(t, p1, again)
	p3, err := l.Propose(ctx, "c", []byte("C"))
	require.NoError(t, err)
	require.Equal(t, []uint64{1, 2, 3}, []uint64{p1, p2, p3})
	got := collect(t, l, 1, 3)
	require.Equal(t, []record{{1, "a", "A"}, {2, "b", "B"}, {3, "c", "C"}}, got)
	_, err = l.Propose(ctx, "", []byte("x"))
	require.Error(t, err)
}

// Follow from below the stream's first sequence fails at once with
// ErrTrimmed; from the first one it delivers the rest.
func TestLogFollowTrimmed(t *testing.T) {
	c := startCluster(t)
	l := newLog(t, testConfig(c, "r"))
	ctx := context.Background()
	for i := range 10 {
		_, err := l.Propose(ctx, fmt.Sprint(i), []byte{byte(i)})
		require.NoError(t, err)
	}
	st, err := l.JetStream().Stream(ctx, "GAMIFY")
	require.NoError(t, err)
	require.NoError(t, st.Purge(ctx, natsjs.WithPurgeSequence(6)))

	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	err = l.Follow(fctx, 3, func(uint64, string, []byte) error { return nil })
	require.ErrorIs(t, err, jetstream.ErrTrimmed)
	require.Less(t, time.Since(start), 2*time.Second, "at once")

	got := collect(t, l, 6, 5)
	require.Equal(t, uint64(6), got[0].pos)
	require.Equal(t, uint64(10), got[4].pos)

	// Purged to the end: the next position is still followable, an older
	// one is not.
	require.NoError(t, st.Purge(ctx, natsjs.WithPurgeSequence(11)))
	err = l.Follow(fctx, 10, func(uint64, string, []byte) error { return nil })
	require.ErrorIs(t, err, jetstream.ErrTrimmed)
	p, err := l.Propose(ctx, "11", []byte{11})
	require.NoError(t, err)
	require.Equal(t, uint64(11), p)
	require.Equal(t, []record{{11, "11", "\x0b"}}, collect(t, l, 11, 1))

	// A position past the stream's end is another stream's file.
	err = l.Follow(fctx, 20, func(uint64, string, []byte) error { return nil })
	require.Error(t, err)
	require.NotErrorIs(t, err, jetstream.ErrTrimmed)
}

// Head follows PubAcks and what a Follow delivers, including the pending
// count, without I/O.
func TestLogHead(t *testing.T) {
	c := startCluster(t)
	w := newLog(t, testConfig(c, "w"))
	r := newLog(t, testConfig(c, "r"))
	require.Equal(t, uint64(0), w.Head())
	ctx := context.Background()
	for i := range 20 {
		p, err := w.Propose(ctx, fmt.Sprint(i), []byte("x"))
		require.NoError(t, err)
		require.Equal(t, p, w.Head())
	}
	// The reader learns the head from the first message's pending count.
	got := collect(t, r, 1, 1)
	require.Equal(t, uint64(1), got[0].pos)
	require.Equal(t, uint64(20), r.Head())
	// A new Log learns it from the stream's state.
	require.Equal(t, uint64(20), newLog(t, testConfig(c, "n")).Head())
}

// Follow goes on through a server restart under the follower's connection,
// and a record proposed meanwhile arrives once, in order.
func TestLogFollowRidesOutReconnect(t *testing.T) {
	c := startCluster(t)
	cfg := testConfig(c, "r")
	cfg.URLs = []string{c.URL(0), c.URL(1)}
	r := newLog(t, cfg)
	w := newLog(t, jetstream.Config{URLs: []string{c.URL(2)}, Name: "w", LeaseTTL: time.Second, SnapshotInterval: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got := make(chan uint64, 100)
	go r.Follow(ctx, 1, func(pos uint64, id string, rec []byte) error {
		got <- pos
		return nil
	})
	for i := range 5 {
		_, err := w.Propose(ctx, fmt.Sprint(i), nil)
		require.NoError(t, err)
	}
	for want := uint64(1); want <= 5; want++ {
		require.Equal(t, want, <-got)
	}
	server := 0
	if r.Conn().ConnectedUrl() == c.URL(1) {
		server = 1
	}
	c.Stop(server)
	for i := 5; i < 10; i++ {
		_, err := w.Propose(ctx, fmt.Sprint(i), nil)
		require.NoError(t, err)
	}
	for want := uint64(6); want <= 10; want++ {
		select {
		case p := <-got:
			require.Equal(t, want, p)
		case <-ctx.Done():
			t.Fatal("follow did not resume")
		}
	}
}

// Exactly one of three Logs holds the lease; when it closes, another takes
// it at once; when one dies (its connection gone, no release), another
// takes it once the TTL passed.
func TestLogLease(t *testing.T) {
	c := startCluster(t)
	var logs []*jetstream.Log
	for i := range 3 {
		logs = append(logs, newLog(t, testConfig(c, fmt.Sprintf("r%d", i))))
	}
	leaders := func(ls []*jetstream.Log) (n int, who *jetstream.Log) {
		for _, l := range ls {
			if l.Leader() {
				n++
				who = l
			}
		}
		return n, who
	}
	waitFor(t, 10*time.Second, "one leader", func() bool { n, _ := leaders(logs); return n == 1 })
	// It stays one across several renewals.
	for range 10 {
		n, _ := leaders(logs)
		require.Equal(t, 1, n)
		time.Sleep(100 * time.Millisecond)
	}
	_, first := leaders(logs)
	rest := without(logs, first)
	start := time.Now()
	require.NoError(t, first.Close())
	require.False(t, first.Leader())
	waitFor(t, 5*time.Second, "a new leader after a clean close", func() bool { n, _ := leaders(rest); return n == 1 })
	handover := time.Since(start)

	_, second := leaders(rest)
	survivor := without(rest, second)
	start = time.Now()
	second.Conn().Close() // dies: no release reaches the bucket
	waitFor(t, 3*time.Second, "the dead holder's lease lapses locally", func() bool { return !second.Leader() })
	waitFor(t, 10*time.Second, "the survivor takes the expired lease", func() bool { return survivor[0].Leader() })
	t.Logf("handover on close %v, on death %v (TTL 1s)", handover, time.Since(start))
	require.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond, "a dead holder's lease is taken only once it expired")
}

func without(ls []*jetstream.Log, x *jetstream.Log) []*jetstream.Log {
	var out []*jetstream.Log
	for _, l := range ls {
		if l != x {
			out = append(out, l)
		}
	}
	return out
}

// A Log cut off from the servers fails a Propose within ProposeTimeout with
// an error wrapping gamify.ErrUnavailable, and proposes again once the
// connection is back; a retry of an unacknowledged id lands once.
func TestLogProposeUnavailable(t *testing.T) {
	c := startCluster(t)
	p := newProxy(t, c.URLs()[0][len("nats://"):])
	cfg := testConfig(c, "cut")
	cfg.URLs, cfg.Conn = nil, p.conn()
	cfg.ProposeTimeout = time.Second
	l := newLog(t, cfg)
	ctx := context.Background()
	_, err := l.Propose(ctx, "a", []byte("A"))
	require.NoError(t, err)
	p.cut()
	start := time.Now()
	_, err = l.Propose(ctx, "b", []byte("B"))
	require.ErrorIs(t, err, gamify.ErrUnavailable)
	require.Less(t, time.Since(start), 3*time.Second)
	p.restore()
	var pos uint64
	waitFor(t, 20*time.Second, "propose after reconnect", func() bool {
		pos, err = l.Propose(ctx, "b", []byte("B"))
		return err == nil
	})
	require.Equal(t, uint64(2), pos)
	got := collect(t, l, 1, 2)
	require.Equal(t, []record{{1, "a", "A"}, {2, "b", "B"}}, got)
	// Canceled by the caller: not a success.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = l.Propose(cctx, "c", nil)
	require.True(t, errors.Is(err, context.Canceled) || errors.Is(err, gamify.ErrUnavailable), err)
}

// A Config that cannot work is refused before any connection with a
// ValidationError naming its field.
func TestConfigRefused(t *testing.T) {
	ctx := context.Background()
	urls := []string{"nats://127.0.0.1:1"}
	for _, c := range []struct {
		field string
		cfg   jetstream.Config
	}{
		{"Config.URLs", jetstream.Config{}},
		{"Config.URLs[0]", jetstream.Config{URLs: []string{""}}},
		{"Config.URLs[1]", jetstream.Config{URLs: []string{"nats://127.0.0.1:1", " "}}},
		{"Config.Replicas", jetstream.Config{URLs: urls, Replicas: 7}},
		{"Config.Replicas", jetstream.Config{URLs: urls, Replicas: -1}},
		{"Config.LeaseTTL", jetstream.Config{URLs: urls, LeaseTTL: time.Millisecond}},
		{"Config.LeaseTTL", jetstream.Config{URLs: urls, LeaseTTL: -time.Second}},
		{"Config.SnapshotsKept", jetstream.Config{URLs: urls, SnapshotsKept: -1}},
		{"Config.ProposeTimeout", jetstream.Config{URLs: urls, ProposeTimeout: -time.Second}},
		{"Config.FollowerGrace", jetstream.Config{URLs: urls, FollowerGrace: time.Millisecond}},
		{"Config.FollowerGrace", jetstream.Config{URLs: urls, FollowerGrace: -time.Minute}},
		// Names the servers would refuse only after connecting.
		{"Config.Stream", jetstream.Config{URLs: urls, Stream: "game.log"}},
		{"Config.Stream", jetstream.Config{URLs: urls, Stream: "my game"}},
		{"Config.Subject", jetstream.Config{URLs: urls, Subject: "GAMIFY.*"}},
		{"Config.Subject", jetstream.Config{URLs: urls, Subject: "GAMIFY.>"}},
		{"Config.Subject", jetstream.Config{URLs: urls, Subject: "GAMIFY..log"}},
		{"Config.Subject", jetstream.Config{URLs: urls, Subject: "GAMIFY log"}},
		{"Config.LeaseBucket", jetstream.Config{URLs: urls, LeaseBucket: "lease.bucket"}},
		{"Config.SnapshotBucket", jetstream.Config{URLs: urls, SnapshotBucket: "snap/shots"}},
	} {
		_, err := jetstream.New(ctx, c.cfg)
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve, "%s: %+v", c.field, c.cfg)
		require.Equal(t, c.field, ve.Field, "%+v", c.cfg)
	}
	// Valid names pass validation (and then fail to connect, naming that).
	_, err := jetstream.New(ctx, jetstream.Config{URLs: urls, Stream: "my-game_1", Subject: "games.my-game.log"})
	var ve *gamify.ValidationError
	require.False(t, errors.As(err, &ve), "%v", err)
}

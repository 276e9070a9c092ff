package gamify

import (
	"context"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A Bloom filter has no false negatives, and about the false positives it
// was sized for.
func TestBloomHasEveryKeyAdded(t *testing.T) {
	const n = 200_000
	b := newBloom(n)
	seed := maphash.MakeSeed()
	for i := range n {
		b.add(maphash.String(seed, fmt.Sprint("key-", i)))
	}
	for i := range n {
		require.True(t, b.has(maphash.String(seed, fmt.Sprint("key-", i))), "key-%d", i)
	}
	fp := 0
	for i := range n {
		if b.has(maphash.String(seed, fmt.Sprint("other-", i))) {
			fp++
		}
	}
	require.Less(t, float64(fp)/n, 0.02, "false positives at capacity")
	// The file's keys are hashed as bytes, a command's as strings.
	require.Equal(t, maphash.String(seed, "k"), maphash.Bytes(seed, []byte("k")))
}

// Every idempotency key recorded stays known across commits, checkpoints,
// reopens and rebuilds of the filter (made frequent here), including the
// keys pending when a rebuild starts and those recorded while it scans: a
// retry of any of them replays, whatever the filter went through. Without
// the keys kept aside while the scan runs, the keys of the batch that
// committed during it are missed.
func TestIdempotencyFilterKeepsEveryKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idem.db")
	scanning := make(chan struct{})
	var release sync.WaitGroup
	var hold bool
	var holdMu sync.Mutex
	clock := NewManualClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))
	open := func() *Engine {
		opts := &Options{Clock: clock, Durability: Buffered}
		opts.idemFilterKeys = 64
		opts.idemRebuildScan = func() {
			holdMu.Lock()
			h := hold
			holdMu.Unlock()
			if h {
				scanning <- struct{}{}
				release.Wait()
			}
		}
		e, err := Open(path, opts)
		require.NoError(t, err)
		return e
	}
	eng := open()
	if _, err := eng.Metrics().Create(ctx, Metric{Key: "xp", Name: "XP"}); err != nil {
		t.Fatal(err)
	}
	var keys []string
	track := func(e *Engine, key string) EventResult {
		t.Helper()
		r, err := e.Track(ctx, Event{Metric: "xp", User: fmt.Sprint("u", len(key)%7), Value: 1, IdempotencyKey: key})
		require.NoError(t, err)
		return r
	}
	retryAll := func(e *Engine, when string) {
		t.Helper()
		for _, k := range keys {
			require.True(t, track(e, k).IdempotentReplayed, "%s: key %s applied again", when, k)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 6 {
		for range 100 + r.IntN(200) {
			k := fmt.Sprintf("r%d-%d", round, r.Uint64())
			track(eng, k)
			keys = append(keys, k)
		}
		switch round % 3 {
		case 0:
			require.NoError(t, eng.Flush(ctx))
		case 1:
			require.NoError(t, eng.Flush(ctx))
			_, err := eng.db.Checkpoint()
			require.NoError(t, err)
		case 2:
			require.NoError(t, eng.Close())
			eng = open()
		}
		retryAll(eng, fmt.Sprint("round ", round))
	}

	// A rebuild held inside its snapshot while more keys are recorded and
	// committed: they are in neither the snapshot nor the old filter's
	// replacement unless kept aside.
	holdMu.Lock()
	hold = true
	holdMu.Unlock()
	release.Add(1)
	var during []string
	started := false
	for i := 0; !started; i++ {
		k := fmt.Sprint("before-", i)
		track(eng, k)
		during = append(during, k)
		select {
		case <-scanning:
			started = true
		case <-time.After(time.Millisecond):
		}
	}
	eng.w.mu.Lock()
	held := eng.w.idemSeen.gen
	eng.w.mu.Unlock()
	for i := range 300 {
		k := fmt.Sprint("during-", i)
		track(eng, k)
		during = append(during, k)
	}
	require.NoError(t, eng.Flush(ctx))
	holdMu.Lock()
	hold = false
	holdMu.Unlock()
	release.Done()
	keys = append(keys, during...)
	// Wait for the held rebuild's filter to be installed (at the next
	// look-up or record; another rebuild may start at once), then retry
	// everything.
	after := 0
	require.Eventually(t, func() bool {
		track(eng, fmt.Sprint("after-", after))
		after++
		eng.w.mu.Lock()
		defer eng.w.mu.Unlock()
		return eng.w.idemSeen.gen > held || !eng.w.idemSeen.rebuilding
	}, 5*time.Second, time.Millisecond)
	retryAll(eng, "after the held rebuild")
	require.NoError(t, eng.Flush(ctx)) // reads see committed events (Buffered)
	var total int64
	for u := range 7 {
		m, err := eng.Users().Metric(ctx, fmt.Sprint("u", u), "xp")
		if err == nil {
			total += m.Total.Micros() / 1e6
		}
	}
	require.Equal(t, int64(len(keys)+after), total, "every key applied once")
	require.NoError(t, eng.Close())
}

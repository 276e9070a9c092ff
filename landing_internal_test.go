package gamify

import (
	"context"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// blockedCommitter opens a Buffered engine whose committer, once armed,
// stops before the log append of its next batch until released: that
// batch is then in flight, its state records not yet encoded.
func blockedCommitter(t *testing.T) (eng *Engine, arm func() (blocked <-chan struct{}, release func())) {
	t.Helper()
	var hook atomic.Pointer[func()]
	opts := &Options{Durability: Buffered, MaxFlushDelay: time.Millisecond,
		Clock: NewManualClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))}
	opts.beforeCommit = func() error {
		if f := hook.Swap(nil); f != nil {
			(*f)()
		}
		return nil
	}
	eng, err := Open(filepath.Join(t.TempDir(), "landing.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if _, err := eng.Metrics().Create(context.Background(), Metric{Key: "xp", Name: "XP"}); err != nil {
		t.Fatal(err)
	}
	return eng, func() (<-chan struct{}, func()) {
		blocked, gate := make(chan struct{}), make(chan struct{})
		f := func() { close(blocked); <-gate }
		hook.Store(&f)
		return blocked, func() { close(gate) }
	}
}

func track(t *testing.T, eng *Engine, user string) {
	t.Helper()
	if _, err := eng.Track(context.Background(), Event{Metric: "xp", User: user, Value: 1}); err != nil {
		t.Fatal(err)
	}
}

// The version of a user that the batch in flight holds is read by the
// committer while commands go on: a command replacing it must not hand it
// to the next clone as a spare.
func TestVersionInFlightIsNoSpare(t *testing.T) {
	eng, arm := blockedCommitter(t)
	blocked, release := arm()
	track(t, eng, "a")
	<-blocked // a's version is in the batch in flight
	w := eng.w
	w.mu.Lock()
	sealed := w.users["a"]
	w.mu.Unlock()
	track(t, eng, "a") // replaces it
	w.mu.Lock()
	spare := slices.Contains(w.spares, sealed)
	replaced := w.users["a"] != sealed
	w.mu.Unlock()
	release()
	if !replaced {
		t.Fatal("the second event did not replace a's version")
	}
	if spare {
		t.Fatal("the version the committer is encoding became a spare")
	}
	if err := eng.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, err := eng.Users().Metric(context.Background(), "a", "xp"); err != nil || s.Total != AmountFromInt(2) {
		t.Fatalf("a's xp: %v, %v; want 2", s.Total, err)
	}
}

// The committer hands a committed batch back without the writer's lock;
// a holder that leaves without landing it must not leave it in flight.
func TestLandedBatchLandsWhenTheHolderLeaves(t *testing.T) {
	eng, arm := blockedCommitter(t)
	blocked, release := arm()
	track(t, eng, "a")
	<-blocked
	w := eng.w
	w.mu.Lock() // a holder that will not land the batch
	release()
	for w.landing.Load() == nil {
		time.Sleep(100 * time.Microsecond)
	}
	w.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		w.mu.Lock()
		landed := !w.inFlight
		w.mu.Unlock()
		if landed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the committed batch is still in flight 5 s after the lock was free")
		}
		time.Sleep(100 * time.Microsecond)
	}
	if w.landing.Load() != nil {
		t.Fatal("the batch landed but is still handed back")
	}
}

// A Buffered batch waiting for MaxFlushDelay is sealed by its timer even
// when the timer fires while the lock is held by a holder that does not
// seal it (a reader): the timer retries instead of blocking on the lock.
func TestDueBatchSealsAfterAHolderThatDoesNotSeal(t *testing.T) {
	eng, err := Open(filepath.Join(t.TempDir(), "due.db"), &Options{Durability: Buffered, MaxFlushDelay: time.Hour,
		Clock: NewManualClock(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	if _, err := eng.Metrics().Create(context.Background(), Metric{Key: "xp", Name: "XP"}); err != nil {
		t.Fatal(err)
	}
	track(t, eng, "a") // opens a batch; its timer is an hour away
	w := eng.w
	w.mu.Lock() // a reader
	w.open.started = time.Now().Add(-2 * time.Hour)
	time.AfterFunc(0, w.sealDue) // the batch's timer, firing under the reader
	time.Sleep(20 * time.Millisecond)
	open := w.open.size
	w.mu.Unlock()
	if open != 1 {
		t.Fatalf("%d commands in the open batch while the reader held the lock, want 1", open)
	}
	deadline := time.Now().Add(5 * time.Second)
	for eng.Stats().Pending > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the due batch is still open 5 s after the lock was free")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

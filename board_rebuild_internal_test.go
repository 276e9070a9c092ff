package gamify

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/store"
)

// boardIndexes lists every index of e's boards in full, keyed by board,
// run (start and end) and group.
func boardIndexes(e *Engine) map[string][]leaderboard.Standing {
	out := map[string][]leaderboard.Standing{}
	e.boardsMu.RLock()
	defer e.boardsMu.RUnlock()
	for ref, rt := range e.boards {
		rt.mu.RLock()
		for start, run := range rt.runs {
			for g, x := range run.groups {
				var ss []leaderboard.Standing
				x.Each(0, leaderboard.Competition, func(s leaderboard.Standing) bool { ss = append(ss, s); return true })
				out[fmt.Sprintf("board %d run %d-%d group %q", ref, start, run.end, g)] = ss
			}
		}
		rt.mu.RUnlock()
	}
	return out
}

// The rebuild decodes on several goroutines; whatever their number, it
// builds exactly the indexes the writer kept while the events came in:
// same runs, groups, entries and order, ties included.
func TestRebuildBoardsOnAnyNumberOfWorkersMatchesTheLiveIndexes(t *testing.T) {
	ctx := context.Background()
	clock := NewManualClock(time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC))
	e, err := Open(filepath.Join(t.TempDir(), "t.db"), &Options{Clock: clock, Durability: Buffered})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Metrics().Create(ctx, Metric{Key: "xp", Name: "XP"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Attributes().Create(ctx, Attribute{Key: "country", Name: "Country", Type: UserAttribute}); err != nil {
		t.Fatal(err)
	}
	for _, lb := range []Leaderboard{
		{Key: "alltime"},
		{Key: "daily", RunEvery: 1, RunUnit: RunDay},
		{Key: "weekly", RunEvery: 1, RunUnit: RunWeek, Order: Asc},
		{Key: "country", Breakdown: []string{"country"}},
		{Key: "capped", Breakdown: []string{"country"}, MaxParticipants: 40, Order: Asc}, // some entries are kept out
	} {
		lb.Name, lb.RankBy, lb.Metric = lb.Key, RankByMetric, "xp"
		if _, err := e.Leaderboards().Create(ctx, lb); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Leaderboards().Activate(ctx, lb.Key); err != nil {
			t.Fatal(err)
		}
	}
	// More users than a few scan batches, on a few scores (many ties), in
	// a shuffled order, some with a second event.
	rng := rand.New(rand.NewPCG(16, 7))
	const users = 5*scanBatch + 37
	var evs []Event
	for _, i := range rng.Perm(users) {
		ev := Event{Metric: "xp", User: fmt.Sprintf("u%05d", i), Value: float64(rng.IntN(20)),
			Profile: &UserInput{Attributes: map[string]string{"country": []string{"FR", "DE", "JP", "BR", "US"}[rng.IntN(5)]}}}
		evs = append(evs, ev)
		if rng.IntN(4) == 0 {
			ev.Value, ev.Profile = float64(rng.IntN(5)), nil
			evs = append(evs, ev)
		}
	}
	track := func(evs []Event) {
		t.Helper()
		for i := 0; i < len(evs); i += 500 {
			if _, err := e.TrackBatch(ctx, evs[i:min(i+500, len(evs))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	track(evs)
	// The next day a third of the users come back: the others keep an
	// entry of the finished daily run in their records, which the rebuild
	// leaves out.
	clock.Advance(24 * time.Hour)
	if _, err := e.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	var back []Event
	for i, ev := range evs {
		if i%3 == 0 {
			ev.Profile = nil
			back = append(back, ev)
		}
	}
	track(back)
	live := boardIndexes(e)
	daily := 0
	for k := range live {
		if strings.HasPrefix(k, fmt.Sprintf("board %d ", e.cat.Load().boards["daily"].ref)) {
			daily++
		}
	}
	if len(live) != 3+5+5 || daily != 1 {
		t.Fatalf("%d indexes (%d of the daily board), want the 3 plain ones and 5 groups of each broken-down board", len(live), daily)
	}
	for _, workers := range []int{1, 2, 3, 8} {
		e.w.lockLanded()
		err := e.db.View(func(tx *store.Tx) error { return e.w.rebuildBoardsOn(tx, workers) })
		e.w.mu.Unlock()
		if err != nil {
			t.Fatalf("rebuild on %d workers: %v", workers, err)
		}
		if got := boardIndexes(e); !reflect.DeepEqual(got, live) {
			for k, want := range live {
				if !reflect.DeepEqual(got[k], want) {
					t.Errorf("rebuild on %d workers: %s holds %d entries, %v…; want %d, %v…", workers, k, len(got[k]), got[k][:min(3, len(got[k]))], len(want), want[:min(3, len(want))])
				}
			}
			t.Fatalf("rebuild on %d workers: %d indexes, want %d", workers, len(got), len(live))
		}
	}
	if err := e.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// scanState hands records to workers in batches, yet reports the error of
// the first record in key order that failed, as a scan on one goroutine
// does, and calls fn for every record when none fails.
func TestScanStateReportsTheFirstFailureInKeyOrder(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "s.db"), store.Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const n = 20*scanBatch + 5
	err = db.Update(func(tx *store.Tx) error {
		for uid := range uint64(n) {
			if err := tx.Put(store.State, uidKey(uid), binary.AppendUvarint(nil, uid)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	uidOf := func(k, v []byte) uint64 {
		if u, _ := binary.Uvarint(v); u != binary.BigEndian.Uint64(k) {
			t.Errorf("value %x under key %x", v, k)
		}
		return binary.BigEndian.Uint64(k)
	}
	for _, workers := range []int{1, 2, 3, 7} {
		seen := make([][]uint64, workers)
		err := db.View(func(tx *store.Tx) error {
			return scanState(tx, workers, func(w int, k, v []byte) error {
				seen[w] = append(seen[w], uidOf(k, v))
				return nil
			})
		})
		if err != nil {
			t.Fatalf("%d workers: %v", workers, err)
		}
		all := map[uint64]bool{}
		for w, uids := range seen {
			for i, u := range uids {
				if i > 0 && u <= uids[i-1] {
					t.Fatalf("%d workers: worker %d read uid %d after %d", workers, w, u, uids[i-1])
				}
				all[u] = true
			}
		}
		if len(all) != n {
			t.Fatalf("%d workers: %d records read, want %d", workers, len(all), n)
		}
		// Failures in several batches, the first of them late in its batch:
		// whichever worker meets which first, the earliest is reported.
		bad := map[uint64]bool{3*scanBatch + 200: true, 3*scanBatch + 201: true, 4*scanBatch + 1: true, 11 * scanBatch: true, n - 1: true}
		for range 20 {
			err := db.View(func(tx *store.Tx) error {
				return scanState(tx, workers, func(_ int, k, v []byte) error {
					if u := uidOf(k, v); bad[u] {
						return fmt.Errorf("bad uid %d", u)
					}
					return nil
				})
			})
			if want := fmt.Sprintf("bad uid %d", 3*scanBatch+200); err == nil || err.Error() != want {
				t.Fatalf("%d workers: err = %v, want %s", workers, err, want)
			}
		}
		stop := errors.New("stop")
		err = db.View(func(tx *store.Tx) error {
			return scanState(tx, workers, func(_ int, k, v []byte) error {
				if uidOf(k, v) == 0 {
					return stop
				}
				return nil
			})
		})
		if !errors.Is(err, stop) {
			t.Fatalf("%d workers: err = %v, want the failure of the first record", workers, err)
		}
	}
}

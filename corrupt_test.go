package gamify_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestOpenCorruptFileFailsCleanly damages a database file in several ways:
// Open must return an error (or open a consistent store), never panic.
func TestOpenCorruptFileFailsCleanly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	eng, err := gamify.Open(good, nil)
	require.NoError(t, err)
	_, err = eng.Metrics().Create(ctx, gamify.Metric{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	for i := range 200 {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: string(rune('a' + i%26)), Value: 1})
		require.NoError(t, err)
	}
	require.NoError(t, eng.Close())
	orig, err := os.ReadFile(good)
	require.NoError(t, err)

	damage := map[string]func([]byte) []byte{
		"empty":        func([]byte) []byte { return nil },
		"truncated":    func(b []byte) []byte { return b[:len(b)/3] },
		"zeroed metas": func(b []byte) []byte { c := append([]byte(nil), b...); clear(c[:8192]); return c },
		"garbage": func(b []byte) []byte {
			c := append([]byte(nil), b...)
			copy(c, "this is not a bolt file at all")
			return c
		},
		"not a db": func([]byte) []byte { return []byte("hello") },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".db")
			require.NoError(t, os.WriteFile(path, f(orig), 0o600))
			var eng *gamify.Engine
			require.NotPanics(t, func() { eng, err = gamify.Open(path, nil) })
			if name == "truncated" || name == "not a db" || name == "empty" {
				require.ErrorContains(t, err, "corrupt")
			}
			if err == nil { // bbolt recovered the file (e.g. from the other meta page): it must be consistent
				require.NoError(t, eng.Check(ctx))
				require.NoError(t, eng.Close())
			}
		})
	}
}

// damageVariants is how many randomly damaged copies of a store
// TestOpenRandomlyDamagedFile opens (DAMAGE_VARIANTS overrides it).
var damageVariants = 200

// TestOpenRandomlyDamagedFile flips bytes in random pages of a store in use
// (metrics, a leaderboard, a streak, points, profiles, idempotency keys; a
// tree a few levels deep). Open must return an error, or open a store on
// which Check passes or fails — never panic or hang. A store it opens whose
// Check passes must hold every user with the same metric total and points.
//
// Damage to data without redundancy (timestamps, names and other text,
// idempotency records, the award log, a ledger entry's cause) can pass Check:
// bbolt keeps no checksums, so nothing tells such a change apart. Those
// variants are counted as "unchecked" and logged by keyspace.
func TestOpenRandomlyDamagedFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	opts := func() *gamify.Options { return &gamify.Options{Clock: gamify.NewManualClock(t0)} }
	eng, err := gamify.Open(good, opts())
	require.NoError(t, err)
	fillForDamage(t, eng)
	want := damageView{dump: gamify.DumpStore(eng), totals: balances(t, eng)}
	require.NoError(t, eng.Close())
	orig, err := os.ReadFile(good)
	require.NoError(t, err)
	// The newest meta page's high-water mark (bbolt's layout, host byte
	// order): damage goes to data pages in use. Damage to a meta page is a
	// torn commit: bbolt falls back to the other (the "zeroed metas" case).
	const pageSize = 4096
	hwm := max(binary.NativeEndian.Uint64(orig[56:]), binary.NativeEndian.Uint64(orig[pageSize+56:]))
	require.Greater(t, hwm, uint64(20))

	if n := os.Getenv("DAMAGE_VARIANTS"); n != "" {
		_, err := fmt.Sscan(n, &damageVariants)
		require.NoError(t, err)
	}
	rng := rand.New(rand.NewPCG(10, 4))
	outcomes, unchecked := map[string]int{}, map[string]int{}
	for v := range damageVariants {
		b := slices.Clone(orig)
		var what []string
		for range 1 + rng.IntN(3) {
			pg := 2 + rng.Uint64N(hwm-2)
			for range 1 + rng.IntN(4) {
				at := pg*pageSize + rng.Uint64N(pageSize)
				if rng.IntN(2) == 0 { // the header and first elements are where structure lives
					at = pg*pageSize + rng.Uint64N(64)
				}
				b[at] ^= byte(1 + rng.IntN(255))
				what = append(what, fmt.Sprintf("page %d byte %d", pg, at%pageSize))
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("damaged-%03d.db", v))
		require.NoError(t, os.WriteFile(path, b, 0o600))
		outcome, changed := openDamaged(t, path, opts(), want)
		if outcome == "silent" {
			t.Errorf("variant %d (%v): opened, Check passed, and balances or users changed", v, what)
		}
		for _, ks := range changed {
			unchecked[ks]++
		}
		outcomes[outcome]++
		require.NoError(t, os.Remove(path))
	}
	t.Logf("%d damaged stores: %v; unchecked changes by keyspace: %v", damageVariants, outcomes, unchecked)
}

// damageView is what a damaged store is compared with.
type damageView struct {
	dump   map[string]string
	totals map[string]string // user → metric total and points
}

// balances returns every user's xp total and coins.
func balances(t *testing.T, eng *gamify.Engine) map[string]string {
	ctx := context.Background()
	out := map[string]string{}
	for i := range damageUsers {
		u := fmt.Sprintf("u-%d", i)
		m, err := eng.Users().Metric(ctx, u, "xp")
		if err != nil {
			out[u] = err.Error()
			continue
		}
		p, err := eng.Users().Points(ctx, u, "coins")
		if err != nil {
			out[u] = err.Error()
			continue
		}
		out[u] = fmt.Sprintf("%s/%s/%s", m.Total, p.Total, p.Available)
	}
	return out
}

// openDamaged opens the damaged store at path and says what happened:
// "refused" (Open failed), "caught" (Check failed), "harmless" (Check passed
// and the data is intact), "unchecked" (Check passed, and data without
// redundancy changed: the keyspaces are returned) or "silent" (Check passed,
// and users or balances changed). A hang fails the test.
func openDamaged(t *testing.T, path string, opts *gamify.Options, want damageView) (outcome string, changed []string) {
	t.Helper()
	ctx := context.Background()
	type result struct {
		outcome string
		changed []string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		eng, err := gamify.Open(path, opts)
		if err != nil {
			done <- result{outcome: "refused"}
			return
		}
		defer eng.Close()
		if err := eng.Check(ctx); err != nil {
			done <- result{outcome: "caught"}
			return
		}
		if !maps.Equal(want.totals, balances(t, eng)) {
			done <- result{outcome: "silent"}
			return
		}
		got := gamify.DumpStore(eng)
		if !maps.Equal(want.dump, got) {
			ks := map[string]bool{}
			for k, v := range want.dump {
				if g, ok := got[k]; !ok || g != v {
					ks[strings.Split(k, "/")[0]] = true
				}
			}
			for k := range got {
				if _, ok := want.dump[k]; !ok {
					ks[strings.Split(k, "/")[0]] = true
				}
			}
			done <- result{outcome: "unchecked", changed: slices.Sorted(maps.Keys(ks))}
			return
		}
		// An intact store is writable.
		_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u-1", Value: 1})
		done <- result{outcome: "harmless", err: err}
	}()
	select {
	case r := <-done:
		require.NoError(t, r.err)
		return r.outcome, r.changed
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: Open or Check hangs", path)
		return "", nil
	}
}

const damageUsers = 300

// fillForDamage gives eng data of every kind, over enough pages for branch
// pages in the larger keyspaces.
func fillForDamage(t *testing.T, eng *gamify.Engine) {
	ctx := context.Background()
	mustMetric(t, eng, "xp")
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "Board", RankBy: gamify.RankByMetric, Metric: "xp"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	_, err = eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-xp", System: "coins", Kind: gamify.TriggerMetric, Metric: "xp",
		Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	evs := make([]gamify.Event, 0, 100)
	for i := range 1500 {
		u := fmt.Sprintf("u-%d", i%damageUsers)
		evs = append(evs, gamify.Event{Metric: "xp", User: u, Value: float64(1 + i%7), IdempotencyKey: fmt.Sprint("k", i),
			Time: t0.Add(-time.Duration(i%5) * 24 * time.Hour), Profile: &gamify.UserInput{Name: "Player " + u}})
		if len(evs) == cap(evs) {
			_, err := eng.TrackBatch(ctx, evs)
			require.NoError(t, err)
			evs = evs[:0]
		}
	}
}

// Open's failures are testable with the root package alone.
func TestOpenErrorsAreRootSentinels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "game.db")
	eng, err := gamify.Open(path, &gamify.Options{LockTimeout: 50 * time.Millisecond})
	require.NoError(t, err)
	defer eng.Close()
	_, err = gamify.Open(path, &gamify.Options{LockTimeout: 50 * time.Millisecond})
	require.ErrorIs(t, err, gamify.ErrLocked, "the file is held by the first engine")

	bad := filepath.Join(t.TempDir(), "bad.db")
	require.NoError(t, os.WriteFile(bad, []byte("not a database, but long enough to be read as one? no"), 0o600))
	_, err = gamify.Open(bad, nil)
	require.ErrorIs(t, err, gamify.ErrCorrupt)
}

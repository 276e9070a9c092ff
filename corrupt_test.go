package gamify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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
		"empty": func([]byte) []byte { return nil },
		// A third of the pages in use (the file's tail past them is sparse
		// growth room).
		"truncated":    func(b []byte) []byte { return b[:len(bytes.TrimRight(b, "\x00"))/3] },
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

// damageFixture is a store filled by fillForDamage under a manual clock at
// t0, committed so that every run damages the same bytes: a store made at
// test time differs from run to run (bbolt lays out keyspaces in map order
// and its freelist hands out pages in map order). Rewrite it with
// GAMIFY_WRITE_FIXTURES=1 after a layout change.
const damageFixture = "testdata/damage.db.gz"

func damageOptions() *gamify.Options { return &gamify.Options{Clock: gamify.NewManualClock(t0)} }

// loadDamageFixture returns the fixture's bytes and what it holds: its dump
// and balances as an engine opening it reads them.
func loadDamageFixture(t *testing.T) ([]byte, damageView) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "fixture.db")
	if os.Getenv("GAMIFY_WRITE_FIXTURES") != "" {
		eng, err := gamify.Open(path, damageOptions())
		require.NoError(t, err)
		fillForDamage(t, eng)
		require.NoError(t, eng.Close())
		raw, err := os.ReadFile(path)
		require.NoError(t, err)
		var gz bytes.Buffer
		w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, err = w.Write(raw)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, os.WriteFile(damageFixture, gz.Bytes(), 0o644))
	}
	f, err := os.Open(damageFixture)
	require.NoError(t, err)
	defer f.Close()
	r, err := gzip.NewReader(f)
	require.NoError(t, err)
	orig, err := io.ReadAll(r)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, orig, 0o600))
	eng, err := gamify.Open(path, damageOptions())
	require.NoError(t, err)
	require.NoError(t, eng.Check(context.Background()))
	want := damageView{dump: gamify.DumpStore(eng), totals: balances(t, eng)}
	require.NoError(t, eng.Close())
	return orig, want
}

// The fixture's page layout (bbolt's, host byte order, 4096-byte pages).
const damagePageSize = 4096

// fixtureMeta returns the root page and high-water mark of the newest meta
// page of the undamaged fixture.
func fixtureMeta(orig []byte) (root, hwm uint64) {
	newest := 0
	if binary.NativeEndian.Uint64(orig[damagePageSize+64:]) > binary.NativeEndian.Uint64(orig[64:]) {
		newest = damagePageSize
	}
	return binary.NativeEndian.Uint64(orig[newest+32:]), binary.NativeEndian.Uint64(orig[newest+56:])
}

// keyspacePages returns the pages of keyspace name's B+tree in the undamaged
// fixture (none if it is stored inline in the root page).
func keyspacePages(orig []byte, root uint64, name string) []uint64 {
	p := orig[root*damagePageSize:]
	for i := range int(binary.NativeEndian.Uint16(p[10:])) {
		e := p[16+16*i:]
		pos, ksize := 16+16*i+int(binary.NativeEndian.Uint32(e[4:])), int(binary.NativeEndian.Uint32(e[8:]))
		if string(p[pos:pos+ksize]) == name {
			return treePages(orig, binary.NativeEndian.Uint64(p[pos+ksize:]))
		}
	}
	panic("no keyspace " + name)
}

func treePages(orig []byte, id uint64) []uint64 {
	if id == 0 {
		return nil
	}
	p := orig[id*damagePageSize:]
	pages := []uint64{}
	for o := range uint64(binary.NativeEndian.Uint32(p[12:])) + 1 {
		pages = append(pages, id+o)
	}
	if binary.NativeEndian.Uint16(p[8:]) == 0x01 { // a branch: elements pos, ksize, child
		for i := range int(binary.NativeEndian.Uint16(p[10:])) {
			pages = append(pages, treePages(orig, binary.NativeEndian.Uint64(p[16+16*i+8:]))...)
		}
	}
	return pages
}

// damageTally counts outcomes and fails the test on a silent one (a damaged
// store that opens, passes Check and reads differently) or an unchecked one
// (a panic or a hang: openDamaged fails the test itself).
type damageTally struct {
	t        *testing.T
	outcomes map[string]int
}

func (d *damageTally) add(what string, outcome string) {
	if outcome == "silent" {
		d.t.Errorf("%s: opened, Check passed, and the store reads differently", what)
	}
	d.outcomes[outcome]++
}

// envInt returns the integer in environment variable name, or def.
func envInt(t *testing.T, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		_, err := fmt.Sscan(v, &def)
		require.NoError(t, err, name)
	}
	return def
}

// TestOpenRandomlyDamagedFile flips bytes in random pages of a store in use
// (metrics, a leaderboard, a streak, points, profiles, idempotency keys; a
// tree a few levels deep; the committed fixture, so variant n always damages
// the same bytes). Open must return an error, or Check must fail, or the
// store must read exactly as before (a flip in bytes nothing reads): never a
// silent change, a panic or a hang. 200 variants; DAMAGE_VARIANTS=3000 for a
// longer run.
func TestOpenRandomlyDamagedFile(t *testing.T) {
	orig, want := loadDamageFixture(t)
	dir := t.TempDir()
	// Damage goes to data pages in use. Damage to a meta page is a torn
	// commit: bbolt falls back to the other (the "zeroed metas" case).
	_, hwm := fixtureMeta(orig)
	require.Greater(t, hwm, uint64(20))
	variants := envInt(t, "DAMAGE_VARIANTS", 200)
	rng := rand.New(rand.NewPCG(10, 4))
	tally := &damageTally{t: t, outcomes: map[string]int{}}
	for v := range variants {
		b := slices.Clone(orig)
		var what []string
		for range 1 + rng.IntN(3) {
			pg := 2 + rng.Uint64N(hwm-2)
			for range 1 + rng.IntN(4) {
				at := pg*damagePageSize + rng.Uint64N(damagePageSize)
				if rng.IntN(2) == 0 { // the header and first elements are where structure lives
					at = pg*damagePageSize + rng.Uint64N(64)
				}
				b[at] ^= byte(1 + rng.IntN(255))
				what = append(what, fmt.Sprintf("page %d byte %d", pg, at%damagePageSize))
			}
		}
		tally.add(fmt.Sprintf("variant %d (%v)", v, what), openDamaged(t, dir, b, want, true))
	}
	t.Logf("%d damaged stores: %v", variants, tally.outcomes)
}

// TestOpenSingleByteFlips flips, one at a time, bytes of the root page (the
// keyspaces' names and roots, and the keyspaces small enough to be stored
// inline) and of the definitions keyspace's pages, with the expectations of
// TestOpenRandomlyDamagedFile. Byte i is XORed with 1<<(i%8), so that each
// bit position is flipped across the page, and on the root page also with 1
// (a page id one off: often an older copy of the same keyspace): every byte
// the page's layout uses (header, elements, keys, values), and every 32nd
// byte of the free space after them, which nothing reads. DAMAGE_FLIPS=all
// flips every byte of those pages with each of the 8 bits and with 0xff (9
// variants a byte).
func TestOpenSingleByteFlips(t *testing.T) {
	orig, want := loadDamageFixture(t)
	dir := t.TempDir()
	root, _ := fixtureMeta(orig)
	pages := append([]uint64{root}, keyspacePages(orig, root, "definitions")...)
	all := os.Getenv("DAMAGE_FLIPS") == "all"
	tally := &damageTally{t: t, outcomes: map[string]int{}}
	for _, pg := range pages {
		used := pageUsed(orig, pg)
		for i := range damagePageSize {
			masks := []byte{1 << (i % 8)}
			if pg == root && i%8 != 0 {
				masks = append(masks, 1)
			}
			switch {
			case all:
				masks = []byte{1, 2, 4, 8, 16, 32, 64, 128, 0xff}
			case i >= used && i%32 != 0:
				continue
			}
			for _, m := range masks {
				b := slices.Clone(orig)
				b[pg*damagePageSize+uint64(i)] ^= m
				tally.add(fmt.Sprintf("page %d byte %d ^ %#x", pg, i, m), openDamaged(t, dir, b, want, false))
			}
		}
	}
	t.Logf("pages %v (root %d): %v", pages, root, tally.outcomes)
}

// pageUsed returns how many bytes of a leaf or branch page the layout uses:
// the header, the elements, and the keys and values they point to.
func pageUsed(orig []byte, id uint64) int {
	p := orig[id*damagePageSize : (id+1)*damagePageSize]
	n := int(binary.NativeEndian.Uint16(p[10:]))
	used := 16 + 16*n
	for i := range n {
		e := p[16+16*i:]
		if binary.NativeEndian.Uint16(p[8:]) == 0x01 { // branch: pos, ksize, child
			used = max(used, 16+16*i+int(binary.NativeEndian.Uint32(e))+int(binary.NativeEndian.Uint32(e[4:])))
		} else { // leaf: flags, pos, ksize, vsize
			used = max(used, 16+16*i+int(binary.NativeEndian.Uint32(e[4:]))+int(binary.NativeEndian.Uint32(e[8:]))+int(binary.NativeEndian.Uint32(e[12:])))
		}
	}
	return min(used, damagePageSize)
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

// openDamaged writes the damaged store b into dir, opens it and says what
// happened: "refused" (Open failed), "harmless" (it reads exactly as before:
// the damage hit bytes nothing reads), "caught" (it reads differently and
// Check fails) or "silent" (it reads differently and Check passes). With
// write, a harmless store must also take a write. A panic or a hang fails
// the test.
func openDamaged(t *testing.T, dir string, b []byte, want damageView, write bool) (outcome string) {
	t.Helper()
	path := filepath.Join(dir, "damaged.db")
	require.NoError(t, os.WriteFile(path, b, 0o600))
	defer os.Remove(path)
	ctx := context.Background()
	type result struct {
		outcome string
		err     error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("panic: %v", p)}
			}
		}()
		eng, err := gamify.Open(path, damageOptions())
		if err != nil {
			done <- result{outcome: "refused"}
			return
		}
		// Closed before the result goes out: the next variant reuses the
		// path, and a Close removes the command log beside it.
		if !maps.Equal(want.dump, gamify.DumpStore(eng)) || write && !maps.Equal(want.totals, balances(t, eng)) {
			outcome := "silent"
			if err := eng.Check(ctx); err != nil {
				outcome = "caught"
			}
			eng.Close()
			done <- result{outcome: outcome}
			return
		}
		if write {
			_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u-1", Value: 1})
		}
		eng.Close()
		done <- result{outcome: "harmless", err: err}
	}()
	select {
	case r := <-done:
		require.NoError(t, r.err)
		return r.outcome
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: Open or Check hangs", path)
		return ""
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

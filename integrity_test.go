package gamify

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/store"
)

// integrityStore makes a closed store with a metric, a streak, a points
// system with a trigger, a leaderboard and a few users' events.
func integrityStore(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "i.db")
	at := time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
	eng, err := Open(path, &Options{Clock: NewManualClock(at)})
	require.NoError(t, err)
	_, err = eng.Metrics().Create(ctx, Metric{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = eng.Streaks().Create(ctx, Streak{Key: "daily", Name: "Daily", Frequency: StreakDaily, Metrics: []StreakMetric{{Metric: "xp", Min: AmountFromInt(1)}}})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, Trigger{Key: "per-xp", System: "coins", Kind: TriggerMetric, Metric: "xp",
		Threshold: AmountFromInt(1), Points: AmountFromInt(2)})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, Leaderboard{Key: "board", Name: "Board", RankBy: RankByMetric, Metric: "xp"})
	require.NoError(t, err)
	for i, u := range []string{"ann", "bob", "cy"} {
		_, err := eng.Track(ctx, Event{Metric: "xp", User: u, Value: float64(i + 1), IdempotencyKey: "idem-key-of-" + u})
		require.NoError(t, err)
	}
	require.NoError(t, eng.Check(ctx))
	require.NoError(t, eng.Close())
	return path
}

// editDefinitions changes the stored definitions of the closed store at path
// through the store layer (so every checksum holds).
func editDefinitions(t *testing.T, path string, fn func(tx *store.Tx) error) {
	t.Helper()
	db, err := store.Open(path, store.Options{LockTimeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Update(fn))
	require.NoError(t, db.Close())
}

// editJSON rewrites the JSON definition under key with edit.
func editJSON(key string, edit func(map[string]any)) func(tx *store.Tx) error {
	return func(tx *store.Tx) error {
		var m map[string]any
		if err := json.Unmarshal(tx.Get(store.Definitions, []byte(key)), &m); err != nil {
			return err
		}
		edit(m)
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return tx.Put(store.Definitions, []byte(key), b)
	}
}

func openIntegrity(path string) (*Engine, error) {
	return Open(path, &Options{Clock: NewManualClock(time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC))})
}

// A stored definition that Create would refuse, of a kind this build does
// not know, or filed under another key, fails Open with ErrCorrupt naming
// it: never a panic (a board with a bad order made leaderboard.New panic in
// rebuildBoards), a default, or a definition silently skipped.
func TestOpenRefusesBadStoredDefinitions(t *testing.T) {
	copyTo := func(from, to string) func(tx *store.Tx) error {
		return func(tx *store.Tx) error {
			return tx.Put(store.Definitions, []byte(to), bytes.Clone(tx.Get(store.Definitions, []byte(from))))
		}
	}
	cases := []struct {
		name, key string
		edit      func(tx *store.Tx) error
	}{
		{"unknown kind", "mystery/x", func(tx *store.Tx) error { return tx.Put(store.Definitions, []byte("mystery/x"), []byte(`{}`)) }},
		{"unknown points kind", "points-syztem/coins", copyTo("points-system/coins", "points-syztem/coins")},
		{"board order", "leaderboard/board", editJSON("leaderboard/board", func(m map[string]any) { m["Order"] = "sideways" })},
		{"board ranks by nothing", "leaderboard/board", editJSON("leaderboard/board", func(m map[string]any) { m["RankBy"] = "luck" })},
		{"board cap", "leaderboard/board", editJSON("leaderboard/board", func(m map[string]any) { m["MaxParticipants"] = -1 })},
		{"board window", "leaderboard/board", editJSON("leaderboard/board", func(m map[string]any) { m["Window"] = map[string]string{"From": "25:00", "To": "1"} })},
		{"board of a missing metric", "leaderboard/board", editJSON("leaderboard/board", func(m map[string]any) { m["Metric"] = "gone" })},
		{"board under another key", "leaderboard/other", copyTo("leaderboard/board", "leaderboard/other")},
		{"metric without a name", "metric/xp", editJSON("metric/xp", func(m map[string]any) { m["Name"] = "" })},
		{"metric status", "metric/xp", editJSON("metric/xp", func(m map[string]any) { m["Status"] = "paused" })},
		{"metric ref 0", "metric/xp", editJSON("metric/xp", func(m map[string]any) { m["ref"] = 0 })},
		{"points cap", "points-system/coins", editJSON("points-system/coins", func(m map[string]any) { m["MaxPoints"] = "-5" })},
		{"trigger kind", "points-trigger/per-xp", editJSON("points-trigger/per-xp", func(m map[string]any) { m["Kind"] = "whim" })},
		{"trigger of a missing system", "points-trigger/per-xp", editJSON("points-trigger/per-xp", func(m map[string]any) { m["System"] = "gone" })},
		{"streak of a missing metric", "streak/daily", editJSON("streak/daily", func(m map[string]any) {
			m["Metrics"] = []map[string]any{{"Metric": "gone", "Min": "1"}}
		})},
		{"not JSON", "metric/xp", func(tx *store.Tx) error { return tx.Put(store.Definitions, []byte("metric/xp"), []byte("{")) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := integrityStore(t)
			editDefinitions(t, path, c.edit)
			var err error
			require.NotPanics(t, func() {
				var eng *Engine
				if eng, err = openIntegrity(path); err == nil {
					eng.Close()
				}
			})
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, `definition "`+c.key+`"`)
		})
	}
}

// Check proves that every internal reference resolves: with the metric,
// points system, board or streak renumbered (a definition that is valid on
// its own), the state, ledger, day and award records naming the old ref are
// reported.
func TestCheckFindsDanglingRefs(t *testing.T) {
	cases := map[string]struct {
		key  string
		want string
	}{
		"metric":       {"metric/xp", "metric 1 does not exist"},
		"points":       {"points-system/coins", "points system 1 does not exist"},
		"leaderboard":  {"leaderboard/board", "leaderboard 1 does not exist"},
		"streak":       {"streak/daily", "streak 1 does not exist"},
		"ledger users": {"", "uid 1 does not exist"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := integrityStore(t)
			editDefinitions(t, path, func(tx *store.Tx) error {
				if c.key == "" { // a user erased without their records
					if err := tx.Delete(store.UserIDs, uidKey(1)); err != nil {
						return err
					}
					return tx.Delete(store.Users, []byte("ann"))
				}
				return editJSON(c.key, func(m map[string]any) { m["ref"] = 7 })(tx)
			})
			eng, err := openIntegrity(path)
			require.NoError(t, err)
			defer eng.Close()
			err = eng.Check(context.Background())
			require.ErrorIs(t, err, ErrCorrupt)
			require.ErrorContains(t, err, c.want)
		})
	}
}

// flipAll XORs mask into the byte at offset from the start of every
// occurrence of pattern in b (live records and freed copies alike: where the
// live one lies varies from run to run) and returns how many it changed.
func flipAll(b, pattern []byte, offset int, mask byte) int {
	n := 0
	for off := 0; ; {
		i := bytes.Index(b[off:], pattern)
		if i < 0 {
			return n
		}
		b[off+i+offset] ^= mask
		n++
		off += i + len(pattern)
	}
}

// A damaged record that Open does not read (an idempotency record's key, and
// the ledger entry holding the same key) is found by Check, which names its
// keyspace and key.
func TestCheckFindsDamagedRecord(t *testing.T) {
	path := integrityStore(t)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Positive(t, flipAll(b, []byte("idem-key-of-bob"), len("idem-key-of-"), 0x20)) // "bob" → "Bob"
	require.NoError(t, os.WriteFile(path, b, 0o600))
	eng, err := openIntegrity(path)
	require.NoError(t, err)
	defer eng.Close()
	err = eng.Check(context.Background())
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "checksum mismatch")
	require.Regexp(t, `(idem|ledger) key`, err.Error())
}

// A read that meets a damaged record fails with ErrCorrupt instead of
// acting on it: a retry whose idempotency record is damaged is neither
// applied again nor replayed, and other users' events go on.
func TestReadOfDamagedRecordIsCorrupt(t *testing.T) {
	path := integrityStore(t)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	// The idempotency record: uid, scope ref 1, the key, then its value.
	key := []byte("\x00\x00\x00\x01idem-key-of-cy")
	require.Positive(t, flipAll(b, key, len(key), 0x01))
	require.NoError(t, os.WriteFile(path, b, 0o600))
	eng, err := openIntegrity(path)
	require.NoError(t, err)
	defer eng.Close()
	ctx := context.Background()
	_, err = eng.Track(ctx, Event{Metric: "xp", User: "cy", Value: 3, IdempotencyKey: "idem-key-of-cy"})
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorContains(t, err, "idem key")
	m, err := eng.Users().Metric(ctx, "cy", "xp")
	require.NoError(t, err)
	require.Equal(t, AmountFromInt(3), m.Total, "the retry was not applied")
	_, err = eng.Track(ctx, Event{Metric: "xp", User: "ann", Value: 1})
	require.NoError(t, err)
}

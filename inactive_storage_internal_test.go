package gamify

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify/store"
)

// The public Inactive is stored under the names the intervals had when they
// were private ("off"; a board's "paused"), so a file written before keeps
// them, and one written now reads in an older build of the same schema.
func TestInactiveStoredUnderTheOldNames(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	at := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	opts := &Options{Clock: NewManualClock(at)}
	eng, err := Open(path, opts)
	require.NoError(t, err)
	one := AmountFromInt(1)
	_, err = eng.Metrics().Create(ctx, Metric{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, Trigger{Key: "t", System: "coins", Kind: TriggerMetric, Metric: "xp", Threshold: one, Points: one})
	require.NoError(t, err)
	_, err = eng.Points().Boosts().Create(ctx, Boost{Key: "b", System: "coins", Scope: BoostGlobal, Multiplier: AmountFromInt(2), From: Date{Year: 2026, Month: 3, Day: 1}})
	require.NoError(t, err)
	_, err = eng.Streaks().Create(ctx, Streak{Key: "s", Name: "S", Frequency: StreakDaily, Metrics: []StreakMetric{{Metric: "xp", Min: one}}})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, Leaderboard{Key: "l", Name: "L", RankBy: RankByMetric, Metric: "xp"})
	require.NoError(t, err)
	_, err = eng.Challenges().Create(ctx, Challenge{Key: "c", Name: "C", Window: ChallengePerpetual,
		Objectives: []ChallengeObjective{{Key: "o", Metric: "xp", Target: one}}})
	require.NoError(t, err)
	require.NoError(t, eng.Close())

	// The records as the build before Inactive wrote them: the intervals
	// beside the definition's fields, each {"From","To"} (a zero To spelled
	// as the zero time), and the definitions inactive since 3 days.
	d := func(h int) time.Time { return at.Add(time.Duration(-h) * time.Hour) }
	want := []Interval{{From: d(96), To: d(90)}, {From: d(72)}}
	old := []any{
		map[string]string{"From": want[0].From.Format(time.RFC3339Nano), "To": want[0].To.Format(time.RFC3339Nano)},
		map[string]string{"From": want[1].From.Format(time.RFC3339Nano), "To": "0001-01-01T00:00:00Z"},
	}
	records := map[string]string{defTrigger + "t": "off", defBoost + "b": "off", defStreak + "s": "off",
		defBoard + "l": "paused", defChallenge + "c": "off"}
	editDefinitions(t, path, func(tx *store.Tx) error {
		for key, name := range records {
			var m map[string]any
			require.NoError(t, json.Unmarshal(tx.Get(store.Definitions, []byte(key)), &m))
			require.NotContains(t, m, "Inactive", "%s: written under its own name", key)
			m[name], m["Status"] = old, StatusInactive
			b, err := json.Marshal(m)
			require.NoError(t, err)
			if err := tx.Put(store.Definitions, []byte(key), b); err != nil {
				return err
			}
		}
		return nil
	})

	eng, err = Open(path, opts)
	require.NoError(t, err)
	reads := func() map[string][]Interval {
		t.Helper()
		tr, err := eng.Points().Triggers().Get(ctx, "t")
		require.NoError(t, err)
		b, err := eng.Points().Boosts().Get(ctx, "b")
		require.NoError(t, err)
		s, err := eng.Streaks().Get(ctx, "s")
		require.NoError(t, err)
		l, err := eng.Leaderboards().Get(ctx, "l")
		require.NoError(t, err)
		c, err := eng.Challenges().Get(ctx, "c")
		require.NoError(t, err)
		return map[string][]Interval{"trigger": tr.Inactive, "boost": b.Inactive, "streak": s.Inactive, "board": l.Inactive, "challenge": c.Inactive}
	}
	for kind, got := range reads() {
		require.Equal(t, want, got, kind)
	}

	// A change writes them back under the same names, and only there.
	_, err = eng.Points().Triggers().Activate(ctx, "t")
	require.NoError(t, err)
	_, err = eng.Points().Boosts().Activate(ctx, "b")
	require.NoError(t, err)
	_, err = eng.Streaks().Activate(ctx, "s")
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "l")
	require.NoError(t, err)
	_, err = eng.Challenges().Activate(ctx, "c")
	require.NoError(t, err)
	closed := []Interval{want[0], {From: want[1].From, To: at}}
	for kind, got := range reads() {
		require.Equal(t, closed, got, kind)
	}
	require.NoError(t, eng.Close())
	editDefinitions(t, path, func(tx *store.Tx) error {
		for key, name := range records {
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(tx.Get(store.Definitions, []byte(key)), &m))
			require.NotContains(t, m, "Inactive", key)
			var got []Interval
			require.NoError(t, json.Unmarshal(m[name], &got), key)
			require.Len(t, got, 2, key)
			require.True(t, got[1].To.Equal(at), key)
		}
		return nil
	})
}

// A patch command carries the digest of the definition it edited. The
// digest leaves Inactive out, so that a patch a build with private
// intervals logged (whose digest never saw them) still applies at replay.
func TestPatchDigestLeavesOutInactive(t *testing.T) {
	tr := Trigger{Key: "t", System: "coins", Kind: TriggerMetric, Status: StatusInactive}
	bare, err := digest(&tr)
	require.NoError(t, err)
	tr.Inactive = []Interval{{}}
	with, err := digest(&tr)
	require.NoError(t, err)
	require.Equal(t, bare, with)
	require.Equal(t, []Interval{{}}, tr.Inactive, "the definition itself is left as it was")
	tr.Status = StatusActive
	other, err := digest(&tr)
	require.NoError(t, err)
	require.NotEqual(t, bare, other)
}

package gamify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// v2Expected is testdata/v2/expected.json: what the release that wrote
// schema version 2 read from its fixture (see testdata/v2/gen).
type v2Expected struct {
	Now   time.Time
	Users map[string]struct {
		Metrics map[string]string
		Events  map[string]uint64
		Streaks map[string]struct {
			Length, Longest, Freezes int
			Met, Paused              bool
		}
		Points map[string]struct {
			Total, Spent, Available, Level string
			Pinned                         bool
		}
		Achievements map[string]struct {
			CompletedAt time.Time
			Backdated   bool
		}
		Claims []struct {
			Reward, Code, Cost, Balance string
			At                          time.Time
			IdemKey                     string
		}
		Awards map[string][]struct {
			Trigger, Reason, Base, Points, Total string
			Multiple                             int64
			Boosts                               int
			Capped                               bool
		}
		RankHistory []struct {
			Date       string
			Rank, Best int
		}
	}
	Boards map[string]struct {
		Current  []v2Row
		Finished map[string][]v2Row
		Runs     int
	}
	Tenant       map[string]string
	Achievements []struct {
		Key       string
		Completed int
	}
}

type v2Row struct {
	Rank       int
	User       string
	Score, Sub string
}

func gunzipTo(t *testing.T, src, dst string) []byte {
	t.Helper()
	f, err := os.Open(src)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var b bytes.Buffer
	_, err = b.ReadFrom(zr)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o700))
	require.NoError(t, os.WriteFile(dst, b.Bytes(), 0o600))
	return b.Bytes()
}

func rowsOf(p gamify.BoardPage) []v2Row {
	var out []v2Row
	for _, r := range p.Rows {
		out = append(out, v2Row{Rank: r.Rank, User: r.User, Score: r.Score.String(), Sub: r.Subscore.String()})
	}
	return out
}

// TestMigrateV2Fixture opens a file written by the release of schema
// version 2: it migrates once, after a byte-identical backup, passes Check,
// reads what that release read, and takes further events.
func TestMigrateV2Fixture(t *testing.T) {
	ctx := context.Background()
	raw, err := os.ReadFile("testdata/v2/expected.json")
	require.NoError(t, err)
	var exp v2Expected
	require.NoError(t, json.Unmarshal(raw, &exp))

	dir := t.TempDir()
	path := filepath.Join(dir, "game.db")
	orig := gunzipTo(t, "testdata/v2/game.db.gz", path)
	tenantOrig := gunzipTo(t, "testdata/v2/acme.db.gz", filepath.Join(path+".tenants", "acme.db"))

	clock := gamify.NewManualClock(exp.Now)
	opts := &gamify.Options{Clock: clock, IdempotencyWindow: 90 * 24 * time.Hour}
	eng, err := gamify.Open(path, opts)
	require.NoError(t, err)
	defer func() { eng.Close() }()

	backup, err := os.ReadFile(path + ".v2.bak")
	require.NoError(t, err)
	require.True(t, bytes.Equal(orig, backup), "the backup is the v2 file byte for byte")
	require.NoError(t, eng.Check(ctx))

	for id, want := range exp.Users {
		for m, total := range want.Metrics {
			um, err := eng.Users().Metric(ctx, id, m)
			require.NoError(t, err, "%s %s", id, m)
			require.Equal(t, total, um.Total.String(), "%s %s total", id, m)
			require.Equal(t, want.Events[m], um.Events, "%s %s events", id, m)
		}
		streaks, err := eng.Users().Streaks(ctx, id)
		require.NoError(t, err)
		require.Len(t, streaks, len(want.Streaks), id)
		for _, s := range streaks {
			w := want.Streaks[s.Key]
			require.Equal(t, [3]int{w.Length, w.Longest, w.Freezes}, [3]int{s.Length, s.Longest, s.Freezes}, "%s streak %s", id, s.Key)
			require.Equal(t, [2]bool{w.Met, w.Paused}, [2]bool{s.Met, s.Paused}, "%s streak %s", id, s.Key)
		}
		for sys, w := range want.Points {
			p, err := eng.Users().Points(ctx, id, sys)
			require.NoError(t, err)
			require.Equal(t, []string{w.Total, w.Spent, w.Available, w.Level}, []string{p.Total.String(), p.Spent.String(), p.Available.String(), p.Level}, "%s %s", id, sys)
			require.Equal(t, w.Pinned, p.Pinned, "%s %s pinned", id, sys)
			as, err := eng.Users().Awards(ctx, id, sys, gamify.ListOptions{})
			require.NoError(t, err)
			require.Len(t, as, len(want.Awards[sys]), "%s %s awards", id, sys)
			for i, a := range as {
				wa := want.Awards[sys][i]
				require.Equal(t, []any{wa.Trigger, wa.Reason, wa.Base, wa.Points, wa.Total, wa.Multiple, wa.Boosts, wa.Capped},
					[]any{a.Trigger, a.Reason, a.Base.String(), a.Points.String(), a.Total.String(), a.Multiple, len(a.Boosts), a.Capped}, "%s %s award %d", id, sys, i)
				// v2 kept no award time: the migration took the ledger's.
				require.False(t, a.At.Before(time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)) || a.At.After(exp.Now), "%s award at %v", id, a.At)
				if i > 0 {
					require.False(t, a.At.After(as[i-1].At), "latest first")
				}
			}
		}
		ranks, err := eng.Leaderboards().RankHistory(ctx, "daily-steps", id, 100)
		require.NoError(t, err)
		require.Len(t, ranks, len(want.RankHistory), id)
		for i, r := range ranks {
			w := want.RankHistory[i]
			require.Equal(t, []any{w.Date, w.Rank, w.Best}, []any{r.Date.String(), r.Rank, r.Best}, "%s rank day %d", id, i)
		}
		achs, err := eng.Achievements().User(ctx, id, false)
		require.NoError(t, err)
		got := map[string]time.Time{}
		for _, a := range achs {
			if a.Completed {
				got[a.Key] = a.CompletedAt
				require.Equal(t, want.Achievements[a.Key].Backdated, a.Backdated, "%s %s", id, a.Key)
			}
		}
		wantAch := map[string]time.Time{}
		for k, a := range want.Achievements {
			wantAch[k] = a.CompletedAt
		}
		require.Equal(t, wantAch, got, "%s completions", id)
		claims, err := eng.Users().Claims(ctx, id)
		require.NoError(t, err)
		require.Len(t, claims, len(want.Claims), id)
		for i, c := range claims {
			w := want.Claims[i]
			require.Equal(t, []string{w.Reward, w.Code, w.Cost, w.Balance, w.IdemKey}, []string{c.Reward, c.Code, c.Cost.String(), c.Balance.String(), c.IdempotencyKey}, "%s claim %d", id, i)
			require.True(t, w.At.Equal(c.At), "%s claim %d at", id, i)
			r, err := eng.Rewards().Get(ctx, c.Reward)
			require.NoError(t, err)
			require.Equal(t, r.Name, c.RewardName)
			require.Equal(t, r.Type, c.RewardType)
		}
	}
	for key, want := range exp.Boards {
		q := gamify.BoardQuery{Limit: 100}
		if key == "golf" {
			q.Group = "plan:pro" // v2 named it "plan=pro"
		}
		if want.Current != nil {
			p, err := eng.Leaderboards().Rankings(ctx, key, q)
			require.NoError(t, err, key)
			require.Equal(t, want.Current, rowsOf(p), key)
		}
		if want.Runs > 0 {
			runs, err := eng.Leaderboards().Runs(ctx, key, gamify.ListOptions{Limit: 100})
			require.NoError(t, err)
			require.Len(t, runs, want.Runs, key)
		}
		for start, rows := range want.Finished {
			at, err := time.Parse(time.RFC3339, start)
			require.NoError(t, err)
			p, err := eng.Leaderboards().Rankings(ctx, key, gamify.BoardQuery{At: at, Limit: 100})
			require.NoError(t, err)
			require.True(t, p.Finished, key)
			require.Equal(t, rows, rowsOf(p), "%s run %s", key, start)
		}
	}
	stats, err := eng.Achievements().Stats(ctx, gamify.AchievementStatsQuery{})
	require.NoError(t, err)
	gotStats, wantStats := map[string]int{}, map[string]int{}
	for _, s := range stats {
		gotStats[s.Key] = s.Completions
	}
	for _, s := range exp.Achievements {
		wantStats[s.Key] = s.Completed
	}
	require.Equal(t, wantStats, gotStats)

	// The definitions read as they were set: decimal amounts, statuses.
	lv, err := eng.Points().Levels("xp").List(ctx, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, lv, 3)
	require.Equal(t, []string{"bronze", "silver", "gold"}, []string{lv[0].Key, lv[1].Key, lv[2].Key})
	require.Equal(t, []int{1, 2, 3}, []int{lv[0].Level, lv[1].Level, lv[2].Level})
	require.Equal(t, "1.5", lv[1].Multiplier.String())
	st, err := eng.Streaks().Get(ctx, "shop")
	require.NoError(t, err)
	require.Equal(t, gamify.StreakWeekly, st.Frequency)
	require.Equal(t, gamify.Sunday, st.WeekStart)
	require.Equal(t, gamify.StreakModeAny, st.Mode)
	require.Equal(t, "2.5", st.Metrics[0].Min.String())
	rw, err := eng.Rewards().Get(ctx, "paused")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, rw.Status)
	rw, err = eng.Rewards().Get(ctx, "voucher")
	require.NoError(t, err)
	require.Equal(t, "12.5", rw.Cost.String())
	ach, err := eng.Achievements().Get(ctx, "walker")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusLocked, ach.Status)
	require.Equal(t, "5000", ach.Threshold.String())
	require.Equal(t, "https://example.com/w.png", ach.ImageURL)
	ach, err = eng.Achievements().Get(ctx, "retired")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, ach.Status)
	b, err := eng.Leaderboards().Get(ctx, "golf")
	require.NoError(t, err)
	require.Equal(t, []any{gamify.Asc, gamify.TiesDense}, []any{b.Order, b.Ties})
	b, err = eng.Leaderboards().Get(ctx, "gone")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusArchived, b.Status)
	b, err = eng.Leaderboards().Get(ctx, "morning")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusInactive, b.Status)

	prefs, err := eng.Users().Preferences(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, "1500.5", prefs.Streak.Thresholds["steps"].String())
	require.Equal(t, []gamify.Channel{gamify.ChannelEmail}, prefs.Notifications[gamify.NotifyRecap])
	tr, err := eng.Points().Triggers().Get(ctx, "spend-fee")
	require.NoError(t, err)
	require.Equal(t, []any{gamify.StatusInactive, gamify.TriggerMetric, "-1", "10"}, []any{tr.Status, tr.Kind, tr.Points.String(), tr.Threshold.String()})
	tr, err = eng.Points().Triggers().Get(ctx, "daily-coins")
	require.NoError(t, err)
	require.Equal(t, []any{gamify.StatusActive, gamify.TriggerTime, gamify.TriggerDays}, []any{tr.Status, tr.Kind, tr.Unit})
	require.Equal(t, tr.Since, tr.Created, "a time trigger was created at its Since")
	bo, err := eng.Points().Boosts().Get(ctx, "launch")
	require.NoError(t, err)
	require.Equal(t, []any{gamify.BoostGlobal, "2026-11-02", "2026-11-04", "2"}, []any{bo.Scope, bo.From.String(), bo.To.String(), bo.Multiplier.String()})
	bo, err = eng.Points().Boosts().Get(ctx, "pro")
	require.NoError(t, err)
	require.Equal(t, []any{gamify.BoostCohort, gamify.RoundNearest, "1.5"}, []any{bo.Scope, bo.Rounding, bo.Multiplier.String()})
	userBoosts, err := eng.Points().Boosts().ListFor(ctx, gamify.BoostFilter{Scope: gamify.BoostUser}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, userBoosts, 2, "ben's and the one ana's claim of double gave")
	tenants, err := eng.Tenants().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	require.Len(t, tenants, 2)
	require.Equal(t, []any{"acme", gamify.StatusActive, "old-co", gamify.StatusArchived}, []any{tenants[0].Key, tenants[0].Status, tenants[1].Key, tenants[1].Status})
	attrs, err := eng.Attributes().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	// v2 kept no creation order; the three share one creation time, so the
	// order is the keys'.
	require.Equal(t, []string{"legacy", "mode", "plan"}, []string{attrs[0].Key, attrs[1].Key, attrs[2].Key})

	// Further events apply; the v2 idempotency keys still replay.
	res, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 100, IdempotencyKey: "steps-ana-9"})
	require.NoError(t, err)
	require.True(t, res.IdempotentReplayed)
	require.Equal(t, exp.Users["ana"].Metrics["steps"], res.Total.String())
	res, err = eng.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 100, IdempotencyKey: "steps-ana-10"})
	require.NoError(t, err)
	require.False(t, res.IdempotentReplayed)
	require.Equal(t, "15750", res.Total.String())
	c, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "coffee", User: "ana", IdempotencyKey: "claim-1"})
	require.NoError(t, err)
	require.True(t, c.IdempotentReplayed)
	require.Equal(t, "CAFE-1", c.Code)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "coffee", User: "ana"})
	require.ErrorIs(t, err, gamify.ErrConflict, "the per-user limit counts the v2 claims")
	c, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "coffee", User: "ben"})
	require.NoError(t, err)
	require.Equal(t, "CAFE-3", c.Code, "the one code left")
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "cat", Amount: gamify.AmountFromInt(7), Reason: "after"})
	require.NoError(t, err)
	clock.Advance(24 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	// The migrated streak, trigger and board states go on.
	xp, err := eng.Users().Points(ctx, "ana", "xp")
	require.NoError(t, err)
	res, err = eng.Track(ctx, gamify.Event{Metric: "steps", User: "ana", Value: 2000, IdempotencyKey: "steps-ana-11"})
	require.NoError(t, err)
	walk, err := eng.Users().Streaks(ctx, "ana")
	require.NoError(t, err)
	for _, s := range walk {
		if s.Key == "walk" {
			require.Equal(t, exp.Users["ana"].Streaks["walk"].Length+1, s.Length)
		}
	}
	xp2, err := eng.Users().Points(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Positive(t, xp2.Total.Cmp(xp.Total), "the steps trigger awards")
	p, err := eng.Leaderboards().Rankings(ctx, "daily-steps", gamify.BoardQuery{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []v2Row{{Rank: 1, User: "ana", Score: "2000", Sub: "0"}}, rowsOf(p), "a new daily run")
	require.NoError(t, eng.Check(ctx))

	// The tenant's file migrates when first opened.
	te, err := eng.Tenant("acme")
	require.NoError(t, err)
	tb, err := os.ReadFile(filepath.Join(path+".tenants", "acme.db.v2.bak"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(tenantOrig, tb))
	um, err := te.Users().Metric(ctx, "zoe", "sales")
	require.NoError(t, err)
	require.Equal(t, exp.Tenant["zoe"], um.Total.String())
	require.NoError(t, te.Check(ctx))
	require.NoError(t, eng.Close())

	// A second Open finds version 3 and does not migrate (no new backup).
	require.NoError(t, os.Remove(path+".v2.bak"))
	eng, err = gamify.Open(path, opts)
	require.NoError(t, err)
	_, err = os.Stat(path + ".v2.bak")
	require.True(t, errors.Is(err, os.ErrNotExist))
	um, err = eng.Users().Metric(ctx, "ana", "steps")
	require.NoError(t, err)
	require.Equal(t, "17750", um.Total.String())
	require.NoError(t, eng.Check(ctx))
}

// TestOpenRefusesWhatIsNotAGamifyFile: a directory is ErrForeign and an
// empty file ErrCorrupt, left empty (store's tests cover FIFOs and other
// programs' bbolt files).
func TestOpenRefusesWhatIsNotAGamifyFile(t *testing.T) {
	dir := t.TempDir()
	_, err := gamify.Open(dir, nil)
	require.ErrorIs(t, err, gamify.ErrForeign)

	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, err = gamify.Open(empty, nil)
	require.ErrorIs(t, err, gamify.ErrCorrupt)
	fi, err := os.Stat(empty)
	require.NoError(t, err)
	require.Zero(t, fi.Size())

}

// The fixture's bronze level was given a color when Level.Color was still
// named Colour: it reads back under the new name.
func TestMigrateV2FixtureLevelColor(t *testing.T) {
	raw, err := os.ReadFile("testdata/v2/expected.json")
	require.NoError(t, err)
	var exp v2Expected
	require.NoError(t, json.Unmarshal(raw, &exp))
	path := filepath.Join(t.TempDir(), "game.db")
	gunzipTo(t, "testdata/v2/game.db.gz", path)
	gunzipTo(t, "testdata/v2/acme.db.gz", filepath.Join(path+".tenants", "acme.db"))
	eng, err := gamify.Open(path, &gamify.Options{Clock: gamify.NewManualClock(exp.Now), IdempotencyWindow: 90 * 24 * time.Hour})
	require.NoError(t, err)
	defer eng.Close()
	l, err := eng.Points().Levels("xp").Get(context.Background(), "bronze")
	require.NoError(t, err)
	require.Equal(t, "#cd7f32", l.Color)
}

package gamify_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// Tenant racing Close: every tenant engine handed out is closed by the
// parent's Close (its file lock released), a call after Close is ErrClosed,
// and no tenant file is ever opened outside the parent's directory.
func TestTenantRacingCloseIsClosedWithParent(t *testing.T) {
	ctx := context.Background()
	t.Chdir(t.TempDir()) // a lost path would put ./.tenants here
	cwd, err := os.Getwd()
	require.NoError(t, err)
	dir := t.TempDir()
	for round := range 50 {
		path := filepath.Join(dir, "p"+string(rune('a'+round%26))+string(rune('a'+round/26))+".db")
		opts := gamify.Options{Clock: gamify.NewManualClock(t0), LockTimeout: 50 * time.Millisecond}
		eng, err := gamify.Open(path, &opts)
		require.NoError(t, err)
		_, err = eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"})
		require.NoError(t, err)

		var wg sync.WaitGroup
		got := make(chan *gamify.Engine, 8)
		for range 4 {
			wg.Go(func() {
				for range 2 {
					te, err := eng.Tenant("acme")
					if err != nil {
						require.ErrorIs(t, err, gamify.ErrClosed)
						continue
					}
					got <- te
				}
			})
		}
		require.NoError(t, eng.Close())
		wg.Wait()
		close(got)
		for te := range got {
			_, err := te.Users().Get(ctx, "ana")
			require.ErrorIs(t, err, gamify.ErrClosed, "round %d: a tenant engine outlived its parent", round)
		}
		_, err = eng.Tenant("acme")
		require.ErrorIs(t, err, gamify.ErrClosed)
		// The tenant file, if a call opened it, is beside the parent's and
		// its lock is free: it opens at once.
		if _, err := os.Stat(path + ".tenants/acme.db"); err == nil {
			te, err := gamify.Open(path+".tenants/acme.db", &opts)
			require.NoError(t, err, "round %d", round)
			require.NoError(t, te.Close())
		}
	}
	entries, err := os.ReadDir(cwd)
	require.NoError(t, err)
	require.Empty(t, entries, "nothing is created in the working directory")
}

func dailyBoard(t *testing.T, eng *gamify.Engine) {
	t.Helper()
	ctx := context.Background()
	mustMetric(t, eng, "xp")
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "daily", Name: "Daily", RankBy: gamify.RankByMetric,
		Metric: "xp", RunEvery: 1, RunUnit: gamify.RunDay})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "daily")
	require.NoError(t, err)
}

// A clock jump of decades, then to year 9999: Open's catch-up is bounded
// (runs without participants past the bound are collapsed), the file stays
// small, the run with activity is kept and the current run is right.
func TestOpenCatchUpAfterClockJumpIsBounded(t *testing.T) {
	ctx := context.Background()
	clock := gamify.NewManualClock(t0)
	path := filepath.Join(t.TempDir(), "jump.db")
	opts := gamify.Options{Clock: clock}
	eng, err := gamify.Open(path, &opts)
	require.NoError(t, err)
	dailyBoard(t, eng)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	require.NoError(t, eng.Close())
	info, err := os.Stat(path)
	require.NoError(t, err)
	before := info.Size()

	for i, at := range []time.Time{t0.AddDate(30, 0, 0), time.Date(2250, 6, 1, 12, 0, 0, 0, time.UTC)} {
		clock.Set(at)
		eng, err = gamify.Open(path, &opts)
		require.NoError(t, err)
		runs, err := eng.Leaderboards().Runs(ctx, "daily", gamify.ListOptions{Limit: 100})
		require.NoError(t, err)
		require.Equal(t, at.Truncate(24*time.Hour), runs[0].End.UTC(), "the last finished run ends where the current one starts")
		var kept int
		for skip := 0; ; skip += 100 {
			page, err := eng.Leaderboards().Runs(ctx, "daily", gamify.ListOptions{Skip: skip, Limit: 100})
			require.NoError(t, err)
			for _, r := range page {
				if r.Participants > 0 {
					require.Equal(t, t0.Truncate(24*time.Hour), r.Start.UTC())
					kept++
				}
			}
			if len(page) < 100 {
				// Up to 100 one by one and the one before now, per Open.
				require.LessOrEqual(t, skip+len(page), 1+101*(i+1), "runs materialized are bounded")
				break
			}
		}
		require.Equal(t, 1, kept, "the run with activity is kept")
		p, err := eng.Leaderboards().Rankings(ctx, "daily", gamify.BoardQuery{At: t0})
		require.NoError(t, err)
		require.Equal(t, []gamify.BoardRow{{Rank: 1, User: "ana", Score: gamify.AmountFromInt(5)}}, p.Rows)
		cur, err := eng.Leaderboards().Rankings(ctx, "daily", gamify.BoardQuery{})
		require.NoError(t, err)
		require.Empty(t, cur.Rows)
		require.Equal(t, at.Truncate(24*time.Hour), cur.RunStart.UTC())
		require.Positive(t, eng.Stats().JobsCollapsed)
		require.NoError(t, eng.Check(ctx))
		require.NoError(t, eng.Close())
		info, err := os.Stat(path)
		require.NoError(t, err)
		require.Less(t, info.Size(), before+1<<20, "the file grows by a bounded amount")
	}

	// Past what Unix nanoseconds hold, Open refuses the clock at once and
	// leaves the file as it was.
	clock.Set(time.Date(9999, 6, 1, 12, 0, 0, 0, time.UTC))
	_, err = gamify.Open(path, &opts)
	var verr *gamify.ValidationError
	require.ErrorAs(t, err, &verr)
	require.Equal(t, "Options.Clock", verr.Field)
	info, err = os.Stat(path)
	require.NoError(t, err)
	require.Less(t, info.Size(), before+1<<20)
}

// Runs with participants are never collapsed: past the bound they are
// frozen one per step, and past twice the bound RunDue returns and the next
// call goes on.
func TestRunDueCatchUpResumesPastTheBound(t *testing.T) {
	ctx := context.Background()
	var o gamify.Options
	gamify.SetCatchUpMax(&o, 3)
	eng := openTest(t, &o)
	dailyBoard(t, eng.Engine)
	day0 := eng.clock.Now()
	for d := range 10 { // ten runs with a participant each, none rolled over
		eng.clock.Set(day0.AddDate(0, 0, d))
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: float64(d + 1)})
		require.NoError(t, err)
	}
	eng.clock.Set(day0.AddDate(0, 0, 40))
	var got []int
	for {
		n, err := eng.RunDue(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
		got = append(got, n)
	}
	require.Equal(t, []int{6, 5}, got, "3 one by one, then 3 frozen runs; then 3, 1 frozen run and the skip to now")
	runs, err := eng.Leaderboards().Runs(ctx, "daily", gamify.ListOptions{})
	require.NoError(t, err)
	// Each run with a participant, and of the 30 empty ones only the last,
	// which ends where the current run starts.
	require.Len(t, runs, 11)
	require.Equal(t, 0, runs[0].Participants)
	require.Equal(t, day0.AddDate(0, 0, 40).Truncate(24*time.Hour), runs[0].End.UTC())
	for i, r := range runs[1:] {
		require.Equal(t, 1, r.Participants)
		require.Equal(t, day0.AddDate(0, 0, 9-i).Truncate(24*time.Hour), r.Start.UTC())
	}
	cur, err := eng.Leaderboards().Rankings(ctx, "daily", gamify.BoardQuery{})
	require.NoError(t, err)
	require.Equal(t, day0.AddDate(0, 0, 40).Truncate(24*time.Hour), cur.RunStart.UTC())
}

// Breakdown values holding the group syntax cannot forge another group:
// live, after a reopen (indexes rebuilt from the store) and in a frozen run.
func TestBoardGroupKeysAreEscaped(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	for _, k := range []string{"region", "tier"} {
		_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: k, Name: k, Type: gamify.UserAttribute})
		require.NoError(t, err)
	}
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "split", Name: "Split", RankBy: gamify.RankByMetric,
		Metric: "xp", Breakdown: []string{"region", "tier"}, RunEvery: 1, RunUnit: gamify.RunDay})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "split")
	require.NoError(t, err)
	attrs := map[string]map[string]string{
		"ana": {"region": "eu,tier=gold", "tier": "x"},
		"bob": {"region": "eu", "tier": "gold,tier=x"},
		"cy":  {"region": "50%", "tier": "a:b"},
	}
	want := map[string]string{
		"ana": "region:eu%2Ctier=gold,tier:x",
		"bob": "region:eu,tier:gold%2Ctier=x",
		"cy":  "region:50%25,tier:a:b",
	}
	for _, u := range []string{"ana", "bob", "cy"} {
		r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: u, Value: 1, Profile: &gamify.UserInput{Attributes: attrs[u]}})
		require.NoError(t, err)
		require.Equal(t, want[u], r.Leaderboards[0].Group)
	}
	check := func(at time.Time) {
		t.Helper()
		for u, g := range want {
			p, err := eng.Leaderboards().Rankings(ctx, "split", gamify.BoardQuery{Group: g, At: at})
			require.NoError(t, err, g)
			require.Equal(t, []string{u}, users(p.Rows), "group %s", g)
			ur, err := eng.Leaderboards().UserRank(ctx, "split", u)
			if at.IsZero() {
				require.NoError(t, err)
				require.Equal(t, g, ur.Group)
				require.Equal(t, 1, ur.Participants)
			}
		}
		// Written without escapes where unambiguous, the group is the same.
		p, err := eng.Leaderboards().Rankings(ctx, "split", gamify.BoardQuery{Group: "tier:a:b,region:50%", At: at})
		require.NoError(t, err)
		require.Equal(t, []string{"cy"}, users(p.Rows))
	}
	check(time.Time{})
	eng.reopen(t)
	check(time.Time{})
	day := eng.clock.Now()
	eng.clock.Advance(24 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	check(day)
}

// A cron board collapses its quiet runs too.
func TestCronBoardCatchUpIsBounded(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "cron", Name: "Cron", RankBy: gamify.RankByMetric,
		Metric: "xp", RunCron: "@daily"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "cron")
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5})
	require.NoError(t, err)
	day0 := eng.clock.Now().Truncate(24 * time.Hour)
	eng.clock.Set(day0.AddDate(20, 0, 0).Add(time.Hour))
	n, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.LessOrEqual(t, n, 102, "100 one by one, then the run with ana and the skip to now")
	n, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing left")
	runs, err := eng.Leaderboards().Runs(ctx, "cron", gamify.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, day0.AddDate(20, 0, 0), runs[0].End.UTC())
	cur, err := eng.Leaderboards().Rankings(ctx, "cron", gamify.BoardQuery{})
	require.NoError(t, err)
	require.Equal(t, day0.AddDate(20, 0, 0), cur.RunStart.UTC())
	past, err := eng.Leaderboards().Rankings(ctx, "cron", gamify.BoardQuery{At: day0.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, []string{"ana"}, users(past.Rows))
}

package gamify_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
	"github.com/gamifykit/gamify/schedule"
	"github.com/gamifykit/gamify/store"
)

// recorder collects the occurrences jobs ran, across engine instances.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) job(name string) func(time.Time) error {
	return func(due time.Time) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.got = append(r.got, name+"@"+due.UTC().Format("01-02T15:04"))
		return nil
	}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

func cron(t *testing.T, expr, tz string) schedule.Schedule {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	require.NoError(t, err)
	s, err := schedule.ParseCron(expr, loc)
	require.NoError(t, err)
	return s
}

func TestRunDueRunsEveryOccurrenceOnceInOrder(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil) // clock at 2026-03-08 12:00 UTC, the day New York springs forward
	var rec recorder
	require.NoError(t, gamify.RegisterJob(eng.Engine, "ny-midnight", cron(t, "0 0 * * *", "America/New_York"), rec.job("ny")))
	require.NoError(t, gamify.RegisterJob(eng.Engine, "utc-3am", cron(t, "0 3 * * *", "UTC"), rec.job("utc")))

	eng.clock.Advance(3 * 24 * time.Hour)
	n, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 6, n)
	require.Equal(t, []string{
		"utc@03-09T03:00", "ny@03-09T04:00", // New York midnight is 04:00 UTC once DST began
		"utc@03-10T03:00", "ny@03-10T04:00",
		"utc@03-11T03:00", "ny@03-11T04:00",
	}, rec.take())
	n, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing runs twice")
	require.Empty(t, rec.take())

	eng.clock.Advance(7 * 24 * time.Hour)
	n, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 14, n, "ten simulated days in total, each occurrence once")
}

func TestJobsCatchUpExactlyOnceAfterDowntime(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	var rec recorder
	daily := cron(t, "0 6 * * *", "Europe/London")
	require.NoError(t, gamify.RegisterJob(eng.Engine, "daily", daily, rec.job("d")))
	eng.clock.Advance(24 * time.Hour)
	_, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"d@03-09T06:00"}, rec.take())

	// Closed for a week.
	require.NoError(t, eng.Close())
	eng.clock.Advance(7 * 24 * time.Hour)
	eng.reopen(t)
	require.NoError(t, gamify.RegisterJob(eng.Engine, "daily", daily, rec.job("d")))
	n, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 7, n)
	require.Equal(t, []string{"d@03-10T06:00", "d@03-11T06:00", "d@03-12T06:00", "d@03-13T06:00",
		"d@03-14T06:00", "d@03-15T06:00", "d@03-16T06:00"}, rec.take())

	// Reopening again without moving the clock runs nothing.
	eng.reopen(t)
	require.NoError(t, gamify.RegisterJob(eng.Engine, "daily", daily, rec.job("d")))
	n, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestFailingJobDoesNotBlockOthers(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	var rec recorder
	hourly := cron(t, "0 * * * *", "UTC")
	failures := 0
	require.NoError(t, gamify.RegisterJob(eng.Engine, "a-flaky", hourly, func(due time.Time) error {
		if failures < 2 {
			failures++
			if failures == 1 {
				panic("boom")
			}
			return errors.New("still broken")
		}
		return rec.job("flaky")(due)
	}))
	require.NoError(t, gamify.RegisterJob(eng.Engine, "b-steady", hourly, rec.job("steady")))
	eng.clock.Advance(2 * time.Hour)
	_, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"steady@03-08T13:00", "steady@03-08T14:00"}, rec.take())

	eng.clock.Advance(time.Second) // first retry after 1 s: fails again
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Empty(t, rec.take())
	eng.clock.Advance(2 * time.Second) // second retry after 2 s more: succeeds and catches up
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"flaky@03-08T13:00", "flaky@03-08T14:00"}, rec.take())
}

// every is a Schedule of fixed short intervals, for the real-clock test.
type every time.Duration

func (d every) Next(after time.Time) time.Time { return after.Add(time.Duration(d)) }

func TestRunnerWakesOnTimeWithSystemClock(t *testing.T) {
	path := t.TempDir() + "/rt.db"
	eng, err := gamify.Open(path, nil)
	require.NoError(t, err)
	var rec recorder
	start := time.Now()
	require.NoError(t, gamify.RegisterJob(eng, "fast", every(20*time.Millisecond), rec.job("f")))
	require.Eventually(t, func() bool { rec.mu.Lock(); defer rec.mu.Unlock(); return len(rec.got) >= 3 },
		5*time.Second, 5*time.Millisecond)
	require.Less(t, time.Since(start), 5*time.Second)
	closed := time.Now()
	require.NoError(t, eng.Close())
	require.Less(t, time.Since(closed), time.Second, "Close returns promptly")
	for _, g := range rec.take() {
		require.True(t, strings.HasPrefix(g, "f@"))
	}
}

func TestOpenCatchesUpBuiltinPruning(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{IdempotencyWindow: time.Hour})
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: "k"})
	require.NoError(t, err)
	countIdem := func() int {
		n := 0
		for k := range gamify.DumpStore(eng.Engine) {
			if strings.HasPrefix(k, "idem/") {
				n++
			}
		}
		return n
	}
	require.Equal(t, 1, countIdem())
	require.NoError(t, eng.Close())
	eng.clock.Advance(3 * time.Hour)
	eng.reopen(t) // Open runs the pruning that fell due while closed
	require.Zero(t, countIdem())
}

// A board with runs whose job record the file lacks (a file from before
// boards registered their rollover by command) gets its job at Open: the
// run still ends on time.
func TestOpenSchedulesABoardWithoutItsJobRecord(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{RunEvery: 1, RunUnit: gamify.RunDay})
	xp(t, eng, "ana", 5)
	require.NoError(t, eng.Close())
	db, err := store.Open(eng.path, store.Options{LockTimeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *store.Tx) error {
		require.NotNil(t, tx.Get(store.Jobs, []byte("leaderboard/board")), "the job record this test removes")
		return tx.Delete(store.Jobs, []byte("leaderboard/board"))
	}))
	require.NoError(t, db.Close())

	eng.Engine, err = gamify.Open(eng.path, &eng.opts)
	require.NoError(t, err)
	eng.clock.Set(time.Date(2026, 3, 7, 0, 0, 0, 0, ny)) // Friday's run has ended
	n, err := eng.RunDue(ctx)
	require.NoError(t, err)
	require.Positive(t, n)
	runs, err := eng.Leaderboards().Runs(ctx, "board", gamify.ListOptions{Limit: 10})
	require.NoError(t, err)
	require.Len(t, runs, 1, "Friday's run, frozen by the job Open registered")
	require.Equal(t, 1, runs[0].Participants)
}

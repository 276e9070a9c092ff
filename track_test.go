package gamify_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestTrackAddsToTotal(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	r1, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10})
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(10), r1.Total)
	r2, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2.5})
	require.NoError(t, err)
	require.Equal(t, "12.5", r2.Total.String())
	require.NotEqual(t, r1.EventID, r2.EventID)
	um, err := eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "12.5", um.Total.String())
	require.Equal(t, uint64(2), um.Events)
	eng.reopen(t)
	um, err = eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "12.5", um.Total.String())
}

func TestTrackTotalsAreExact(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{Durability: gamify.Buffered})
	mustMetric(t, eng.Engine, "km")
	const batches, per = 100, 1000 // 100,000 events of 0.1
	evs := make([]gamify.Event, per)
	for i := range evs {
		evs[i] = gamify.Event{Metric: "km", User: "ana", Value: 0.1}
	}
	var float float64
	for range batches {
		_, err := eng.TrackBatch(ctx, evs)
		require.NoError(t, err)
		for range per {
			float += 0.1
		}
	}
	require.NotEqual(t, 10000.0, float, "float64 drifts; the engine must not")
	require.NoError(t, eng.Flush(ctx))
	um, err := eng.Users().Metric(ctx, "ana", "km")
	require.NoError(t, err)
	require.Equal(t, "10000", um.Total.String())
	require.Equal(t, gamify.AmountFromInt(int64(10000)), um.Total)
}

func TestTrackRejectsBadInputAndChangesNothing(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "level", Name: "Level", Type: gamify.EventAttribute})
	require.NoError(t, err)
	_, err = eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "Plan", Type: gamify.UserAttribute})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "big", Value: 9e12})
	require.NoError(t, err)
	before := gamify.DumpStore(eng.Engine)

	cases := []struct {
		name  string
		ev    gamify.Event
		field string
	}{
		{"unknown metric", gamify.Event{Metric: "nope", User: "u", Value: 1}, "Event.Metric"},
		{"empty user", gamify.Event{Metric: "xp", User: "", Value: 1}, "Event.User"},
		{"long user", gamify.Event{Metric: "xp", User: string(make([]rune, 256)), Value: 1}, "Event.User"},
		{"NaN", gamify.Event{Metric: "xp", User: "u", Value: math.NaN()}, "Event.Value"},
		{"Inf", gamify.Event{Metric: "xp", User: "u", Value: math.Inf(-1)}, "Event.Value"},
		{"7 decimals", gamify.Event{Metric: "xp", User: "u", Value: 0.0000001}, "Event.Value"},
		{"too large", gamify.Event{Metric: "xp", User: "u", Value: 1e14}, "Event.Value"},
		{"overflow", gamify.Event{Metric: "xp", User: "big", Value: 9e12}, "Event.Value"},
		{"undeclared event attribute", gamify.Event{Metric: "xp", User: "u", Value: 1, Attributes: map[string]string{"mode": "x"}}, "Event.Attributes[mode]"},
		{"user attribute on event", gamify.Event{Metric: "xp", User: "u", Value: 1, Attributes: map[string]string{"plan": "x"}}, "Event.Attributes[plan]"},
		{"undeclared user attribute", gamify.Event{Metric: "xp", User: "u", Value: 1, Profile: &gamify.UserInput{Attributes: map[string]string{"zz": "1"}}}, "Event.Profile.Attributes[zz]"},
		{"bad tz", gamify.Event{Metric: "xp", User: "u", Value: 1, Profile: &gamify.UserInput{TZ: "Mars/Olympus"}}, "Event.Profile.TZ"},
		{"profile of another user", gamify.Event{Metric: "xp", User: "u", Value: 1, Profile: &gamify.UserInput{ID: "v"}}, "Event.Profile.ID"},
		{"future beyond skew", gamify.Event{Metric: "xp", User: "u", Value: 1, Time: t0.Add(6 * time.Minute)}, "Event.Time"},
		{"too old", gamify.Event{Metric: "xp", User: "u", Value: 1, Time: t0.Add(-401 * 24 * time.Hour)}, "Event.Time"},
		{"Value and Amount", gamify.Event{Metric: "xp", User: "u", Value: 1, Amount: gamify.AmountFromInt(1)}, "Event.Amount"},
		{"Amount overflow", gamify.Event{Metric: "xp", User: "big", Amount: gamify.MaxAmount}, "Event.Amount"},
		{"Amount out of range", gamify.Event{Metric: "xp", User: "u", Amount: gamify.AmountFromMicros(math.MinInt64)}, "Event.Amount"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := eng.Track(ctx, c.ev)
			require.ErrorIs(t, err, gamify.ErrInvalid)
			var ve *gamify.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, c.field, ve.Field, "error: %v", err)
			require.Equal(t, before, gamify.DumpStore(eng.Engine))
		})
	}
	// A batch with one bad event applies none of them.
	_, err = eng.TrackBatch(ctx, []gamify.Event{
		{Metric: "xp", User: "u", Value: 1},
		{Metric: "xp", User: "big", Value: 9e12},
	})
	var ve *gamify.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "Events[1].Value", ve.Field)
	require.Equal(t, before, gamify.DumpStore(eng.Engine))
	_, err = eng.Users().Get(ctx, "u")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

// Event.Amount carries an exact value where a float64 computed by arithmetic
// would be rejected for its binary noise.
func TestTrackExactAmount(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "km")
	a, b := 0.1, 0.2 // variables: constant arithmetic would be exact
	_, err := eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Value: a + b})
	require.ErrorIs(t, err, gamify.ErrInvalid, "0.30000000000000004 has more than 6 decimals")
	exact, err := gamify.ParseAmount("0.3")
	require.NoError(t, err)
	r, err := eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Amount: exact})
	require.NoError(t, err)
	require.Equal(t, "0.3", r.Total.String())
	for range 7 {
		r, err = eng.Track(ctx, gamify.Event{Metric: "km", User: "ana", Amount: gamify.MustParseAmount("0.1")})
		require.NoError(t, err)
	}
	require.Equal(t, "1", r.Total.String())
}

func TestTrackAtEdgesOfTimeWindowIsAccepted(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "u", Value: 1, Time: t0.Add(5 * time.Minute)})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "u", Value: 1, Time: t0.Add(-400 * 24 * time.Hour)})
	require.NoError(t, err)
}

func TestIdempotentReplay(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	mustMetric(t, eng.Engine, "coins")
	first, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.False(t, first.IdempotentReplayed)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	before := gamify.DumpStore(eng.Engine)

	again, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k1",
		Profile: &gamify.UserInput{Name: "Changed"}})
	require.NoError(t, err)
	require.True(t, again.IdempotentReplayed)
	require.Equal(t, "k1", again.IdempotencyKey)
	require.Equal(t, first.EventID, again.EventID)
	require.Equal(t, "6", again.Total.String(), "a replay returns the current total")
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "a replay has no side effects")

	// The scope is (user, metric, key).
	other, err := eng.Track(ctx, gamify.Event{Metric: "coins", User: "ana", Value: 5, IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.False(t, other.IdempotentReplayed)
	bob, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "bob", Value: 5, IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.False(t, bob.IdempotentReplayed)

	// Across Close/Open.
	eng.reopen(t)
	again, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k1"})
	require.NoError(t, err)
	require.True(t, again.IdempotentReplayed)
	require.Equal(t, first.EventID, again.EventID)

	// Within one batch.
	rs, err := eng.TrackBatch(ctx, []gamify.Event{
		{Metric: "xp", User: "cy", Value: 2, IdempotencyKey: "b"},
		{Metric: "xp", User: "cy", Value: 2, IdempotencyKey: "b"},
	})
	require.NoError(t, err)
	require.False(t, rs[0].IdempotentReplayed)
	require.True(t, rs[1].IdempotentReplayed)
	require.Equal(t, "2", rs[1].Total.String())
}

func TestIdempotentReplayBuffered(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{Durability: gamify.Buffered, MaxFlushDelay: time.Hour})
	mustMetric(t, eng.Engine, "xp")
	for range 3 { // before and after the first key is committed
		for range 2 {
			_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: "k"})
			require.NoError(t, err)
		}
		require.NoError(t, eng.Flush(ctx))
	}
	um, err := eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "1", um.Total.String())
}

func TestConcurrentTrackLosesNothing(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		t.Run(mode.String(), func(t *testing.T) {
			eng := openTest(t, &gamify.Options{Durability: mode})
			mustMetric(t, eng.Engine, "xp")
			const producers, each = 64, 50
			var wg sync.WaitGroup
			for p := range producers {
				wg.Go(func() {
					for i := range each {
						user := fmt.Sprintf("u%d", (p+i)%10)
						_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: 1,
							IdempotencyKey: fmt.Sprintf("%d-%d", p, i)})
						if err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			require.NoError(t, eng.Flush(ctx))
			var sum gamify.Amount
			for u := range 10 {
				um, err := eng.Users().Metric(ctx, fmt.Sprintf("u%d", u), "xp")
				require.NoError(t, err)
				sum = sum.Add(um.Total)
			}
			require.Equal(t, gamify.AmountFromInt(int64(producers*each)), sum)
		})
	}
}

func TestCommitFailureLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	fail := false
	opts := &gamify.Options{}
	gamify.SetBeforeCommit(opts, func() error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return errors.New("disk on fire")
		}
		return nil
	})
	eng := openTest(t, opts)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: "a"})
	require.NoError(t, err)
	before := gamify.DumpStore(eng.Engine)

	mu.Lock()
	fail = true
	mu.Unlock()
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 100, IdempotencyKey: "b"})
	require.ErrorContains(t, err, "disk on fire")
	require.Equal(t, before, gamify.DumpStore(eng.Engine))

	// Memory holds nothing of it either: the total, the key and the user
	// created by a failed batch are gone.
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: "b"})
	require.NoError(t, err)
	require.False(t, r.IdempotentReplayed)
	require.Equal(t, "2", r.Total.String())

	mu.Lock()
	fail = true
	mu.Unlock()
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "newbie", Value: 1})
	require.Error(t, err)
	_, err = eng.Users().Get(ctx, "newbie")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "newbie", Value: 1})
	require.NoError(t, err)
	require.Equal(t, "1", r.Total.String())
}

func TestBufferedAnswersBeforeCommitAndFlushCommits(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	var once sync.Once
	opts := &gamify.Options{Durability: gamify.Buffered}
	blocked := false
	gamify.SetBeforeCommit(opts, func() error {
		if blocked {
			<-release
		}
		return nil
	})
	eng := openTest(t, opts)
	mustMetric(t, eng.Engine, "xp")
	blocked = true // the writer is idle: no commit runs concurrently with this write
	for range 10 {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
		require.NoError(t, err, "Buffered Track returns while the commit is blocked")
	}
	_, err := eng.Users().Get(ctx, "ana")
	require.NoError(t, err, "Get reads your writes")
	um, err := eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err, "Get and the reads of numbers agree that ana exists")
	require.True(t, um.Total.IsZero(), "the numbers: committed state only")
	ms, err := eng.Users().Metrics(ctx, "ana")
	require.NoError(t, err)
	for _, m := range ms {
		require.True(t, m.Total.IsZero())
	}
	_, err = eng.Users().Streaks(ctx, "ana")
	require.NoError(t, err)
	_, err = eng.Users().Metric(ctx, "nobody", "xp")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	once.Do(func() { close(release) })
	require.NoError(t, eng.Flush(ctx))
	um, err = eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "10", um.Total.String())
}

func TestBufferedCommitFailureLosesOnlyTheWindowAndRetryAppliesOnce(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	fail := false
	opts := &gamify.Options{Durability: gamify.Buffered, MaxFlushDelay: time.Hour}
	gamify.SetBeforeCommit(opts, func() error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			return errors.New("power cut")
		}
		return nil
	})
	eng := openTest(t, opts)
	mustMetric(t, eng.Engine, "xp")
	track := func(i int) {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: fmt.Sprint(i)})
		require.NoError(t, err)
	}
	for i := range 5 {
		track(i)
	}
	require.NoError(t, eng.Flush(ctx)) // 5 durable
	for i := 5; i < 10; i++ {
		track(i)
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	require.ErrorContains(t, eng.Flush(ctx), "power cut") // the window 5..9 is lost
	um, err := eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "5", um.Total.String())
	// The client retries everything it sent: each event lands exactly once.
	for i := range 10 {
		track(i)
	}
	require.NoError(t, eng.Flush(ctx))
	um, err = eng.Users().Metric(ctx, "ana", "xp")
	require.NoError(t, err)
	require.Equal(t, "10", um.Total.String())
}

func TestDayAggregatesUseUserTimezone(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	// 2026-03-08 03:30 UTC is still 7 March in New York (UTC-5).
	at := time.Date(2026, 3, 8, 3, 30, 0, 0, time.UTC)
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ny", Value: 1, Time: at,
		Profile: &gamify.UserInput{TZ: "America/New_York"}})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "utc", Value: 1, Time: at})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ny", Value: 2, Time: at.Add(2 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"2026-03-07": "1", "2026-03-08": "2"}, gamify.DailyChanges(eng.Engine, "ny", "xp"))
	// Late events land on their own day, also one already spilled (the 7th).
	for _, back := range []time.Duration{30 * time.Hour, 20 * time.Hour} {
		_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ny", Value: 0.5, Time: at.Add(-back)})
		require.NoError(t, err)
	}
	require.Equal(t, map[string]string{"2026-03-06": "0.5", "2026-03-07": "1.5", "2026-03-08": "2"}, gamify.DailyChanges(eng.Engine, "ny", "xp"))
	require.Equal(t, map[string]string{"2026-03-08": "1"}, gamify.DailyChanges(eng.Engine, "utc", "xp"))
}

func TestClosedEngine(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	require.NoError(t, eng.Close())
	require.NoError(t, eng.Close(), "Close is idempotent")
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "u", Value: 1})
	require.ErrorIs(t, err, gamify.ErrClosed)
	_, err = eng.Users().Get(ctx, "u")
	require.ErrorIs(t, err, gamify.ErrClosed)
	require.ErrorIs(t, eng.Flush(ctx), gamify.ErrClosed)
}

func TestIdempotencyWindow(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{IdempotencyWindow: time.Hour})
	mustMetric(t, eng.Engine, "xp")
	ev := gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: "k"}
	_, err := eng.Track(ctx, ev)
	require.NoError(t, err)
	eng.clock.Advance(time.Hour)
	r, err := eng.Track(ctx, ev)
	require.NoError(t, err)
	require.True(t, r.IdempotentReplayed, "still inside the window at its last instant")
	eng.clock.Advance(time.Nanosecond)
	r, err = eng.Track(ctx, ev)
	require.NoError(t, err)
	require.False(t, r.IdempotentReplayed, "an expired key is new again")
	require.Equal(t, "2", r.Total.String())
}

// Awards, spends and claims expire their keys by the window as events do,
// at lookup, whether or not the pruning job has run.
func TestIdempotencyWindowOfAwardsSpendsAndClaims(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{IdempotencyWindow: time.Hour})
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "hat", Name: "Hat", Type: gamify.RewardDigital, System: "gems", Cost: gamify.AmountFromInt(1), PerUserLimit: 5})
	require.NoError(t, err)
	award := gamify.PointsEntry{System: "gems", User: "ana", Amount: gamify.AmountFromInt(10), IdempotencyKey: "a"}
	spend := gamify.PointsEntry{System: "gems", User: "ana", Amount: gamify.AmountFromInt(2), IdempotencyKey: "s"}
	claim := gamify.ClaimRequest{Reward: "hat", User: "ana", IdempotencyKey: "c"}
	do := func() (awarded, spent, claimed bool) {
		a, err := eng.Points().Award(ctx, award)
		require.NoError(t, err)
		s, err := eng.Points().Spend(ctx, spend)
		require.NoError(t, err)
		c, err := eng.Rewards().Claim(ctx, claim)
		require.NoError(t, err)
		return a.IdempotentReplayed, s.IdempotentReplayed, c.IdempotentReplayed
	}
	a, s, c := do()
	require.False(t, a || s || c)
	eng.clock.Advance(time.Hour)
	a, s, c = do()
	require.True(t, a && s && c, "still inside the window at its last instant")
	eng.clock.Advance(time.Nanosecond) // no job has run: the records are still stored
	a, s, c = do()
	require.False(t, a || s || c, "an expired key is new again")
	p, err := eng.Users().Points(ctx, "ana", "gems")
	require.NoError(t, err)
	require.Equal(t, gamify.AmountFromInt(20), p.Total)
	require.Equal(t, gamify.AmountFromInt(14), p.Available, "two spends of 2, two claims of 1")
	require.Equal(t, 2, claimCount(t, eng, "ana"))
}

// A working copy shares its attribute map with the committed record: a
// failed command that changed attributes must leave the committed ones, and
// the breakdown group they give, as they were.
func TestFailedCommandLeavesSharedAttributesUnchanged(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	mustUserAttributes(t, eng.Engine, "country", "plan")
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "Board", RankBy: gamify.RankByMetric, Metric: "xp", Breakdown: []string{"country"}})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1,
		Profile: &gamify.UserInput{Attributes: map[string]string{"country": "FR", "plan": "pro"}}})
	require.NoError(t, err)
	xp(t, eng, "big", 9e12)

	_, err = eng.TrackBatch(ctx, []gamify.Event{
		{Metric: "xp", User: "ana", Value: 1, Profile: &gamify.UserInput{Attributes: map[string]string{"country": "DE", "plan": ""}}},
		{Metric: "xp", User: "big", Value: 9e12}, // overflows: the batch fails
	})
	require.ErrorIs(t, err, gamify.ErrInvalid)
	u, err := eng.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, map[string]string{"country": "FR", "plan": "pro"}, u.Attributes)

	r := xp(t, eng, "ana", 1)
	require.Len(t, r.Leaderboards, 1)
	require.Equal(t, "country:FR", r.Leaderboards[0].Group)
}

// Users read back from the store with equal attributes and preferences
// share the decoded values (UserCache misses); a change to one user's must
// not reach another's.
func TestLoadedUsersShareNothingWritable(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{UserCache: 1})
	mustMetric(t, eng.Engine, "xp")
	mustUserAttributes(t, eng.Engine, "country", "plan")
	ids := []string{"a", "b", "c"}
	for _, id := range ids {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: id, Value: 1,
			Profile: &gamify.UserInput{Attributes: map[string]string{"country": "FR", "plan": "pro"}}})
		require.NoError(t, err)
	}
	eng.reopen(t) // nothing cached: every user below is decoded from the store
	for _, id := range ids {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: id, Value: 1})
		require.NoError(t, err)
	}
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "a", Value: 1,
		Profile: &gamify.UserInput{Attributes: map[string]string{"country": "DE", "plan": ""}}})
	require.NoError(t, err)
	_, err = eng.Users().PatchPreferences(ctx, "b", func(p *gamify.Preferences) {
		p.Notifications[gamify.NotifyRecap] = nil
		p.Streak.OptOut = true
	})
	require.NoError(t, err)
	require.NoError(t, eng.Flush(ctx))
	for _, id := range ids {
		u, err := eng.Users().Get(ctx, id)
		require.NoError(t, err)
		p, err := eng.Users().Preferences(ctx, id)
		require.NoError(t, err)
		switch id {
		case "a":
			require.Equal(t, map[string]string{"country": "DE"}, u.Attributes, id)
		default:
			require.Equal(t, map[string]string{"country": "FR", "plan": "pro"}, u.Attributes, id)
		}
		require.Equal(t, id == "b", p.Streak.OptOut, id)
		require.Equal(t, id == "b", len(p.Notifications[gamify.NotifyRecap]) == 0, id)
	}
}

// New users share the default preferences until one changes them: a
// change, or a caller writing to what it read, reaches no other user.
func TestNewUsersShareNothingWritable(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	for _, id := range []string{"a", "b", "c"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: id, Value: 1})
		require.NoError(t, err)
	}
	_, err := eng.Users().PatchPreferences(ctx, "b", func(p *gamify.Preferences) {
		p.Notifications[gamify.NotifyRecap] = nil
	})
	require.NoError(t, err)
	read, err := eng.Users().Preferences(ctx, "c")
	require.NoError(t, err)
	read.Notifications[gamify.NotifyReactivation] = nil // the caller's copy
	for _, id := range []string{"a", "b", "c"} {
		p, err := eng.Users().Preferences(ctx, id)
		require.NoError(t, err)
		require.Equal(t, id == "b", len(p.Notifications[gamify.NotifyRecap]) == 0, id)
		require.NotEmpty(t, p.Notifications[gamify.NotifyReactivation], id)
	}
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "d", Value: 1})
	require.NoError(t, err)
	p, err := eng.Users().Preferences(ctx, "d")
	require.NoError(t, err)
	require.NotEmpty(t, p.Notifications[gamify.NotifyRecap], "a new user starts from the defaults")
	require.NotEmpty(t, p.Notifications[gamify.NotifyReactivation])
}

// A write called with a context that has already ended is refused with its
// error and changes nothing, in both modes: only a context that ends while
// the write waits for its commit leaves the outcome open.
func TestWriteWithEndedContextChangesNothing(t *testing.T) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		t.Run(mode.String(), func(t *testing.T) {
			eng := openTest(t, &gamify.Options{Durability: mode})
			mustMetric(t, eng.Engine, "xp")
			ended, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := eng.Track(ended, gamify.Event{Metric: "xp", User: "ana", Value: 10})
			require.ErrorIs(t, err, context.Canceled)
			_, err = eng.TrackBatch(ended, []gamify.Event{{Metric: "xp", User: "ana", Value: 1}})
			require.ErrorIs(t, err, context.Canceled)
			_, err = eng.Metrics().Create(ended, gamify.Metric{Key: "coins", Name: "Coins"})
			require.ErrorIs(t, err, context.Canceled)
			require.ErrorIs(t, eng.Flush(ended), context.Canceled)

			ctx := context.Background()
			require.NoError(t, eng.Flush(ctx))
			_, err = eng.Users().Get(ctx, "ana")
			require.ErrorIs(t, err, gamify.ErrNotFound, "no event applied, so no user was created")
			_, err = eng.Metrics().Get(ctx, "coins")
			require.ErrorIs(t, err, gamify.ErrNotFound)
			eng.reopen(t) // nor is anything in the command log to replay
			_, err = eng.Users().Get(ctx, "ana")
			require.ErrorIs(t, err, gamify.ErrNotFound)
		})
	}
}

package gamify_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// waitFor spins until cond holds (conditions on the writer's state, which
// have no channel to wait on), failing after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// A 40,000-byte idempotency key exceeds bbolt's key limit. Claim took it, and
// the group commit it rode in failed: other callers' Durable events failed
// and Buffered ones were lost, reported at the next Flush. Now it is refused
// before it reaches the writer, and every other writer's event commits.
func TestOversizedIdempotencyKeyFailsOnlyItsCaller(t *testing.T) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		t.Run(mode.String(), func(t *testing.T) { testOversizedKeyAmongWriters(t, mode) })
	}
}

func testOversizedKeyAmongWriters(t *testing.T, mode gamify.Durability) {
	ctx := context.Background()
	release, held := make(chan struct{}), make(chan struct{}, 1)
	var hold atomic.Bool
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	defer free() // a failed wait must not leave the committer held for the cleanup's Close
	opts := &gamify.Options{Durability: mode, MaxFlushDelay: time.Hour}
	gamify.SetBeforeCommit(opts, func() error {
		if hold.Load() {
			select {
			case held <- struct{}{}:
			default:
			}
			<-release
		}
		return nil
	})
	eng := openTest(t, opts)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "badge", Name: "Badge", Type: gamify.RewardDigital, PerUserLimit: 1000})
	require.NoError(t, err)
	badKey := strings.Repeat("k", 40_000)
	const writers = 7

	// Hold the committer on a first batch, so that the writers' events and
	// the bad claim all land in the next one.
	hold.Store(true)
	var wg sync.WaitGroup
	errs := make(chan error, 4*writers+64)
	track := func(user string, v float64) {
		defer wg.Done()
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: user, Value: v})
		errs <- err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "first", Value: 1})
		errs <- err
		errs <- eng.Flush(ctx)
	}()
	<-held // the first batch is committing, and waits
	for i := range writers {
		wg.Add(1)
		go track(fmt.Sprintf("w%d", i), 1)
	}
	waitFor(t, "the writers' events in the open batch", func() bool { return gamify.OpenBatchSize(eng.Engine) == writers })
	claimed := make(chan error, 1)
	go func() {
		_, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "badge", User: "mallory", IdempotencyKey: badKey})
		claimed <- err
	}()
	var claimErr error
	waitFor(t, "the claim to be refused or applied", func() bool {
		select {
		case claimErr = <-claimed:
			return true
		default:
			return gamify.OpenBatchSize(eng.Engine) > writers // applied: it rides with the writers
		}
	})
	free()
	if claimErr == nil {
		claimErr = <-claimed
	}
	requireFieldIn(t, claimErr, "ClaimRequest.IdempotencyKey")
	wg.Wait()

	// Then many writers at once, with bad claims among them.
	for i := range writers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 50 {
				_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: fmt.Sprintf("w%d", i), Value: 1})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			_, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "badge", User: fmt.Sprintf("w%d", i), IdempotencyKey: badKey})
			if err == nil {
				errs <- fmt.Errorf("claim with a 40,000-byte key accepted")
			}
			_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "badge", User: fmt.Sprintf("w%d", i), IdempotencyKey: "ok"})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, eng.Flush(ctx), "nothing acknowledged was lost")
	for i := range writers {
		m, err := eng.Users().Metric(ctx, fmt.Sprintf("w%d", i), "xp")
		require.NoError(t, err)
		require.Equal(t, "51", m.Total.String())
		cs, err := eng.Users().Claims(ctx, fmt.Sprintf("w%d", i))
		require.NoError(t, err)
		require.Len(t, cs, 1)
	}
	_, err = eng.Users().Get(ctx, "mallory")
	require.ErrorIs(t, err, gamify.ErrNotFound, "the refused claim created no user")
}

// boundsEngine defines one of every kind of definition to patch.
func boundsEngine(t *testing.T) *testEngine {
	t.Helper()
	ctx := context.Background()
	eng := pointsEngine(t)
	must := func(_ any, err error) { t.Helper(); require.NoError(t, err) }
	must(eng.Attributes().Create(ctx, gamify.Attribute{Key: "tier", Name: "Tier", Type: gamify.UserAttribute}))
	must(eng.Attributes().Create(ctx, gamify.Attribute{Key: "mode", Name: "Mode", Type: gamify.EventAttribute}))
	must(eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}}))
	must(eng.Achievements().Create(ctx, gamify.Achievement{Key: "ten", Name: "Ten", Kind: gamify.AchievementMetric,
		Metric: "xp", Threshold: gamify.AmountFromInt(10)}))
	must(eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "Board", RankBy: gamify.RankByMetric, Metric: "xp"}))
	must(eng.Points().Levels("coins").Create(ctx, gamify.Level{Key: "bronze", Level: 1, Name: "Bronze"}))
	must(eng.Points().Triggers().Create(ctx, perUnits("per10", "xp", 10, 5)))
	must(eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "double", System: "coins", Scope: gamify.BoostGlobal,
		From: gamify.Date{Year: 2026, Month: 1, Day: 1}, Multiplier: gamify.AmountFromInt(2)}))
	must(eng.Rewards().Create(ctx, gamify.Reward{Key: "badge", Name: "Badge", Type: gamify.RewardDigital}))
	must(eng.Tenants().Create(ctx, gamify.Tenant{Key: "acme", Name: "Acme"}))
	return eng
}

// Every text, key, map and list of every call is bounded, checked on
// Create, Patch, BulkCreate, BulkPatch, Apply and the per-user calls alike;
// the refusal is a ValidationError naming the field whose message quotes a
// bounded prefix; invalid UTF-8 is refused, not rewritten.
func TestInputLimits(t *testing.T) {
	ctx := context.Background()
	eng := boundsEngine(t)
	huge := strings.Repeat("x", 10<<20)
	const badUTF8 = "caf\xe9"
	manyKeys := func(n int) map[string]string {
		m := make(map[string]string, n)
		for i := range n {
			m[fmt.Sprintf("k%d", i)] = "v"
		}
		return m
	}
	many := make([]string, 100_000)
	for i := range many {
		many[i] = "b"
	}
	bulkIssue := func(_ any, issues []gamify.Issue, err error) error {
		if err != nil {
			return err
		}
		if len(issues) != 1 {
			return fmt.Errorf("%d issues, want 1", len(issues))
		}
		return issues[0].Err
	}
	second := func(_ any, err error) error { return err }
	cases := []struct {
		name, field string
		call        func() error
	}{
		{"metric create description", "Metric.Description", func() error {
			return second(eng.Metrics().Create(ctx, gamify.Metric{Key: "m1", Name: "M", Description: huge}))
		}},
		{"metric create image URL", "Metric.ImageURL", func() error {
			return second(eng.Metrics().Create(ctx, gamify.Metric{Key: "m1", Name: "M", ImageURL: huge}))
		}},
		{"metric create units", "Metric.Units", func() error {
			return second(eng.Metrics().Create(ctx, gamify.Metric{Key: "m1", Name: "M", Units: huge}))
		}},
		{"metric create name UTF-8", "Metric.Name", func() error {
			return second(eng.Metrics().Create(ctx, gamify.Metric{Key: "m1", Name: badUTF8}))
		}},
		{"metric patch description", "Metric.Description", func() error {
			return second(eng.Metrics().Patch(ctx, "xp", func(m *gamify.Metric) { m.Description = huge }))
		}},
		{"metric patch image URL", "Metric.ImageURL", func() error {
			return second(eng.Metrics().Patch(ctx, "xp", func(m *gamify.Metric) { m.ImageURL = huge }))
		}},
		{"metric patch units", "Metric.Units", func() error {
			return second(eng.Metrics().Patch(ctx, "xp", func(m *gamify.Metric) { m.Units = badUTF8 }))
		}},
		{"metric bulk create", "Metric.Units", func() error {
			return bulkIssue(eng.Metrics().BulkCreate(ctx, []gamify.Metric{{Key: "m1", Name: "M", Units: huge}}))
		}},
		{"metric bulk patch", "Metric.Description", func() error {
			return bulkIssue(eng.Metrics().BulkPatch(ctx, []string{"xp"}, func(m *gamify.Metric) { m.Description = huge }))
		}},
		{"apply", "Metric.Description", func() error {
			return second(eng.Apply(ctx, gamify.Game{Metrics: []gamify.Metric{{Key: "xp", Name: "xp", Description: huge}}}))
		}},
		{"metric patch unknown huge key", "", func() error {
			return second(eng.Metrics().Patch(ctx, huge, func(m *gamify.Metric) {}))
		}},
		{"attribute name UTF-8", "Attribute.Name", func() error {
			return second(eng.Attributes().Patch(ctx, "tier", func(a *gamify.Attribute) { a.Name = badUTF8 }))
		}},
		{"streak description", "Streak.Description", func() error {
			return second(eng.Streaks().Patch(ctx, "daily", func(s *gamify.Streak) { s.Description = huge }))
		}},
		{"achievement description", "Achievement.Description", func() error {
			return second(eng.Achievements().Patch(ctx, "ten", func(a *gamify.Achievement) { a.Description = huge }))
		}},
		{"achievement filters", "Achievement.EventFilters", func() error {
			return second(eng.Achievements().Patch(ctx, "ten", func(a *gamify.Achievement) { a.EventFilters = manyKeys(10_000) }))
		}},
		{"leaderboard description", "Leaderboard.Description", func() error {
			return second(eng.Leaderboards().Patch(ctx, "board", func(b *gamify.Leaderboard) { b.Description = huge }))
		}},
		{"leaderboard zone", "Leaderboard.TZ", func() error {
			return second(eng.Leaderboards().Patch(ctx, "board", func(b *gamify.Leaderboard) { b.TZ = huge }))
		}},
		{"points system image URL", "PointsSystem.ImageURL", func() error {
			return second(eng.Points().Patch(ctx, "coins", func(s *gamify.PointsSystem) { s.ImageURL = huge }))
		}},
		{"level benefits", "Level.Benefits", func() error {
			return second(eng.Points().Levels("coins").Patch(ctx, "bronze", func(l *gamify.Level) { l.Benefits = many }))
		}},
		{"level description", "Level.Description", func() error {
			return second(eng.Points().Levels("coins").Create(ctx, gamify.Level{Key: "silver", Level: 2, Name: "Silver",
				Threshold: gamify.AmountFromInt(10), Description: huge}))
		}},
		{"trigger event filters", "Trigger.EventFilters", func() error {
			return second(eng.Points().Triggers().Patch(ctx, "per10", func(tr *gamify.Trigger) { tr.EventFilters = manyKeys(10_000) }))
		}},
		{"trigger filter value", "Trigger.EventFilters[mode]", func() error {
			return second(eng.Points().Triggers().Patch(ctx, "per10", func(tr *gamify.Trigger) { tr.EventFilters = map[string]string{"mode": huge} }))
		}},
		{"boost name", "Boost.Name", func() error {
			return second(eng.Points().Boosts().Patch(ctx, "double", func(b *gamify.Boost) { b.Name = huge }))
		}},
		{"board end", "Leaderboard.End", func() error {
			return second(eng.Leaderboards().Patch(ctx, "board", func(b *gamify.Leaderboard) { b.End = gamify.Date{Year: 5000, Month: 1, Day: 1} }))
		}},
		{"boost start", "Boost.Start", func() error {
			return second(eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "mine", System: "coins", Scope: gamify.BoostUser, User: "ana",
				Start: year10000, Multiplier: gamify.AmountFromInt(2)}))
		}},
		{"reward expires", "Reward.Expires", func() error {
			return second(eng.Rewards().Patch(ctx, "badge", func(r *gamify.Reward) { r.Expires = year10000 }))
		}},
		{"reward description", "Reward.Description", func() error {
			return second(eng.Rewards().Patch(ctx, "badge", func(r *gamify.Reward) { r.Description = huge }))
		}},
		{"tenant name", "Tenant.Name", func() error {
			return second(eng.Tenants().Patch(ctx, "acme", func(tn *gamify.Tenant) { tn.Name = huge }))
		}},
		{"award reason", "Award.Reason", func() error {
			return second(eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(1), Reason: huge}))
		}},
		{"award reason UTF-8", "Award.Reason", func() error {
			return second(eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(1), Reason: badUTF8}))
		}},
		{"award idempotency key", "Award.IdempotencyKey", func() error {
			return second(eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(1), IdempotencyKey: huge}))
		}},
		{"spend system", "Spend.System", func() error {
			return second(eng.Points().Spend(ctx, gamify.PointsEntry{System: huge, User: "ana", Amount: gamify.AmountFromInt(1)}))
		}},
		{"claim reward", "ClaimRequest.Reward", func() error {
			return second(eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: huge, User: "ana"}))
		}},
		{"claim idempotency key UTF-8", "ClaimRequest.IdempotencyKey", func() error {
			return second(eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "badge", User: "ana", IdempotencyKey: badUTF8}))
		}},
		{"codes UTF-8", "Codes[0]", func() error {
			return second(eng.Rewards().AddCodes(ctx, "badge", []string{badUTF8}))
		}},
		{"event idempotency key", "Event.IdempotencyKey", func() error {
			return second(eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: huge}))
		}},
		{"event metric", "Event.Metric", func() error {
			return second(eng.Track(ctx, gamify.Event{Metric: huge, User: "ana", Value: 1}))
		}},
		{"event user", "Event.User", func() error {
			return second(eng.Track(ctx, gamify.Event{Metric: "xp", User: huge, Value: 1}))
		}},
		{"event user UTF-8", "Event.User", func() error {
			return second(eng.Track(ctx, gamify.Event{Metric: "xp", User: badUTF8, Value: 1}))
		}},
		{"event attributes", "Event.Attributes", func() error {
			return second(eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Attributes: manyKeys(10_000)}))
		}},
		{"event attribute UTF-8", "Event.Attributes[mode]", func() error {
			return second(eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Attributes: map[string]string{"mode": badUTF8}}))
		}},
		{"batch event", "Events[1].IdempotencyKey", func() error {
			return second(eng.TrackBatch(ctx, []gamify.Event{{Metric: "xp", User: "ana", Value: 1}, {Metric: "xp", User: "ana", Value: 1, IdempotencyKey: huge}}))
		}},
		{"user name", "User.Name", func() error {
			return second(eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Name: huge}))
		}},
		{"user name UTF-8", "User.Name", func() error {
			return second(eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Name: badUTF8}))
		}},
		{"user email", "User.Email", func() error {
			return second(eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", Email: huge}))
		}},
		{"user zone", "User.TZ", func() error {
			return second(eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", TZ: huge}))
		}},
		{"user device tokens", "User.DeviceTokens", func() error {
			return second(eng.Users().Identify(ctx, gamify.UserInput{ID: "ana", DeviceTokens: many}))
		}},
		{"event profile attributes", "Event.Profile.Attributes", func() error {
			return second(eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Profile: &gamify.UserInput{Attributes: manyKeys(10_000)}}))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if c.field == "" {
				require.Error(t, err)
				require.Less(t, len(err.Error()), 2048, "an error quotes a bounded prefix of the input")
				return
			}
			requireFieldIn(t, err, c.field)
		})
	}
	// Nothing of it was stored.
	m, err := eng.Metrics().Get(ctx, "xp")
	require.NoError(t, err)
	require.Empty(t, m.Description)
	_, err = eng.Users().Get(ctx, "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

// A refusal costs a small fraction of the input it refuses: one 10 MB input
// used to allocate 104 MB on its way to an error.
func TestOversizedInputIsRefusedWithoutCopies(t *testing.T) {
	ctx := context.Background()
	eng := boundsEngine(t)
	huge := strings.Repeat("x", 10<<20)
	calls := map[string]func() error{
		"metric patch": func() error {
			_, err := eng.Metrics().Patch(ctx, "xp", func(m *gamify.Metric) { m.Description = huge })
			return err
		},
		"level create": func() error {
			_, err := eng.Points().Levels("coins").Create(ctx, gamify.Level{Key: "silver", Level: 2, Name: huge, Threshold: gamify.AmountFromInt(10)})
			return err
		},
		"track": func() error {
			_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, IdempotencyKey: huge})
			return err
		},
		"claim": func() error {
			_, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: huge, User: huge, IdempotencyKey: huge})
			return err
		},
	}
	for name, call := range calls {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := call()
		runtime.ReadMemStats(&after)
		require.Error(t, err, name)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(len(huge)/10), "%s allocated more than a tenth of its input", name)
	}
}

package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// boostNotes counts BoostStarted and BoostFinished outbox entries by
// "Type boost", checking each carries its boundary.
func boostNotes(t *testing.T, eng *gamify.Engine) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range readAll(t, eng, 0) {
		switch n := e.Notification.(type) {
		case gamify.BoostStarted:
			out[e.Type+" "+n.Boost]++
		case gamify.BoostFinished:
			out[e.Type+" "+n.Boost]++
		}
	}
	return out
}

func TestBoostStartAndFinishNotifiedOnceAcrossReopenAndDowntime(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	mustUserAttributes(t, eng.Engine, "plan")
	day := func(d int) gamify.Date { return gamify.Date{Year: 2026, Month: 3, Day: d} } // t0 is 8 March, 12:00 UTC
	// An unacknowledging consumer keeps every entry through the downtime.
	_, err := eng.Outbox().Consumer(ctx, "keep")
	require.NoError(t, err)
	yes := true
	_, err = eng.Users().Create(ctx, gamify.UserInput{ID: "ctl", Control: &yes})
	require.NoError(t, err)
	_, err = eng.Users().Create(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	_, issues, err := eng.Points().Boosts().BulkCreate(ctx, []gamify.Boost{
		{Key: "weekend", System: "coins", Scope: gamify.BoostGlobal, From: day(10), To: day(11), Multiplier: gamify.AmountFromInt(2)},
		{Key: "pros", System: "coins", Scope: gamify.BoostCohort, UserFilters: map[string]string{"plan": "pro"}, From: day(9), To: day(9), Multiplier: gamify.AmountFromInt(3)},
		{Key: "ana", System: "coins", Scope: gamify.BoostUser, User: "ana", Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour), Multiplier: gamify.AmountFromInt(5)},
		{Key: "ctl", System: "coins", Scope: gamify.BoostUser, User: "ctl", Start: t0.Add(time.Hour), End: t0.Add(3 * time.Hour), Multiplier: gamify.AmountFromInt(5)},
		{Key: "open", System: "coins", Scope: gamify.BoostGlobal, From: day(12), Multiplier: gamify.AmountFromInt(2)},
		{Key: "off", System: "coins", Scope: gamify.BoostGlobal, From: day(9), To: day(9), Multiplier: gamify.AmountFromInt(2), Status: gamify.StatusInactive},
		{Key: "begun", System: "coins", Scope: gamify.BoostGlobal, From: day(1), Multiplier: gamify.AmountFromInt(2)},
	})
	require.NoError(t, err)
	require.Empty(t, issues)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "double", Name: "Double", Type: gamify.RewardPointsMultiplier,
		System: "coins", Multiplier: gamify.AmountFromInt(2), Duration: 2 * time.Hour})
	require.NoError(t, err)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "double", User: "bob"})
	require.NoError(t, err)
	claimBoosts, err := eng.Points().Boosts().ListFor(ctx, gamify.BoostFilter{User: "bob"}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, claimBoosts, 1)
	claimKey := claimBoosts[0].Key

	// 90 minutes in: ana's boost has started, nothing has finished.
	eng.clock.Set(t0.Add(90 * time.Minute))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"BoostStarted ana": 1}, boostNotes(t, eng.Engine),
		"the claim boost started at the claim, before the job's first boundary; ctl is in the control group")
	eng.reopen(t)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"BoostStarted ana": 1}, boostNotes(t, eng.Engine), "not again after a reopen")

	// Downtime past every boundary: each one is caught up, once.
	eng.clock.Set(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
	eng.reopen(t)
	for {
		n, err := eng.RunDue(ctx)
		require.NoError(t, err)
		if n == 0 {
			break
		}
	}
	want := map[string]int{
		"BoostStarted ana": 1, "BoostFinished ana": 1,
		"BoostFinished " + claimKey: 1,
		"BoostStarted pros":         1, "BoostFinished pros": 1,
		"BoostStarted weekend": 1, "BoostFinished weekend": 1,
		"BoostStarted open": 1,
	}
	require.Equal(t, want, boostNotes(t, eng.Engine))
	eng.reopen(t)
	eng.clock.Advance(24 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, want, boostNotes(t, eng.Engine), "exactly once across a reopen")

	// Notes carry their boundary and scope.
	for _, e := range readAll(t, eng.Engine, 0) {
		if n, ok := e.Notification.(gamify.BoostFinished); ok && n.Boost == "weekend" {
			require.Equal(t, time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC), n.At.UTC())
			require.Equal(t, gamify.BoostGlobal, n.Scope)
			require.Equal(t, "", n.UserID())
		}
		if n, ok := e.Notification.(gamify.BoostStarted); ok && n.Boost == "ana" {
			require.Equal(t, t0.Add(time.Hour), n.At.UTC())
			require.Equal(t, "ana", n.UserID())
		}
	}
	// Finished boosts stay in the catalogue (history), shown finished.
	b, err := eng.Points().Boosts().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusFinished, b.Status)
}

func TestBoostCreatedLaterIsScheduled(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	_, err := eng.Users().Create(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	eng.clock.Advance(time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	_, err = eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "soon", System: "coins", Scope: gamify.BoostUser, User: "ana",
		Start: eng.clock.Now().Add(time.Hour), End: eng.clock.Now().Add(2 * time.Hour), Multiplier: gamify.AmountFromInt(2)})
	require.NoError(t, err)
	eng.clock.Advance(59 * time.Minute)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Empty(t, boostNotes(t, eng.Engine), "not yet")
	eng.clock.Advance(time.Minute)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"BoostStarted soon": 1}, boostNotes(t, eng.Engine))
	// Extending the end moves the finish.
	_, err = eng.Points().Boosts().Patch(ctx, "soon", func(b *gamify.Boost) { b.End = b.End.Add(time.Hour) })
	require.NoError(t, err)
	eng.clock.Advance(90 * time.Minute)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"BoostStarted soon": 1}, boostNotes(t, eng.Engine), "the old end passed")
	eng.clock.Advance(30 * time.Minute)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"BoostStarted soon": 1, "BoostFinished soon": 1}, boostNotes(t, eng.Engine))

	// A claim's boost starts at the claim: notified at the next RunDue.
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "double", Name: "Double", Type: gamify.RewardPointsMultiplier,
		System: "coins", Multiplier: gamify.AmountFromInt(2), Duration: time.Hour})
	require.NoError(t, err)
	eng.clock.Advance(time.Minute)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "double", User: "ana"})
	require.NoError(t, err)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	notes := boostNotes(t, eng.Engine)
	require.Len(t, notes, 3)
	eng.clock.Advance(time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	notes = boostNotes(t, eng.Engine)
	require.Len(t, notes, 4)
	for k, n := range notes {
		require.Equal(t, 1, n, k)
	}
}

// A per-user boost retired by its end job still multiplies a late event
// dated inside its window: arrival order changes nothing.
func TestRetiredUserBoostStillAppliesToLateEvents(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	_, err := eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "ana", System: "coins", Scope: gamify.BoostUser, User: "ana",
		Start: t0, End: t0.Add(time.Hour), Multiplier: gamify.AmountFromInt(3)})
	require.NoError(t, err)
	eng.clock.Advance(2 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.True(t, gamify.UserBoostRetired(eng.Engine, "ana", "ana"), "out of the hot rules")
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2, Time: t0.Add(30 * time.Minute)})
	require.NoError(t, err)
	require.Equal(t, "6", r.Points[0].Added.String(), "dated inside the window")
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2})
	require.NoError(t, err)
	require.Equal(t, "2", r.Points[0].Added.String(), "now: finished")
	eng.reopen(t)
	require.True(t, gamify.UserBoostRetired(eng.Engine, "ana", "ana"), "stored retired")
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(45 * time.Minute)})
	require.NoError(t, err)
	require.Equal(t, "3", r.Points[0].Added.String())
}

package gamify_test

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestHardDeleteLeavesNoTraceAfterCompact(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "B", RankBy: gamify.RankByMetric, Metric: "steps",
		RunEvery: 1, RunUnit: gamify.RunDay, TZ: "America/New_York"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)
	const secretID, secretEmail = "zz-secret-user-4711", "zz.secret.4711@example.com"
	for day := range 3 {
		for _, u := range []string{secretID, "keeper"} {
			_, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: u, Value: 1000 + float64(day), IdempotencyKey: u + string(rune('a'+day)),
				Profile: &gamify.UserInput{Email: map[bool]string{true: secretEmail, false: "k@example.com"}[u == secretID], TZ: "America/New_York"}})
			require.NoError(t, err)
		}
		eng.clock.Advance(24 * time.Hour)
		_, err := eng.RunDue(ctx) // freezes the day's run, with the secret user in it
		require.NoError(t, err)
	}
	_, err = eng.Users().Anonymize(ctx, "keeper")
	require.NoError(t, err)
	require.NoError(t, eng.Flush(ctx))
	require.NoError(t, gamify.Checkpoint(eng.Engine)) // into the file, for the scan
	raw := func() []byte {
		b, err := os.ReadFile(eng.path)
		require.NoError(t, err)
		return b
	}
	require.True(t, bytes.Contains(raw(), []byte(secretID)), "the scan finds the id before the delete")
	require.True(t, bytes.Contains(raw(), []byte(secretEmail)))

	require.NoError(t, eng.Users().Erase(ctx, secretID))
	_, err = eng.Users().Get(ctx, secretID)
	require.ErrorIs(t, err, gamify.ErrNotFound)
	require.ErrorIs(t, eng.Users().Erase(ctx, secretID), gamify.ErrNotFound)
	p, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: eng.clock.Now().Add(-30 * time.Hour)})
	require.NoError(t, err)
	require.Equal(t, []string{"keeper"}, users(p.Rows), "gone from frozen runs too")
	require.Equal(t, 1, p.Participants, "and not counted there")
	runs, err := eng.Leaderboards().Runs(ctx, "board", gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, runs, 3)
	for _, r := range runs {
		require.Equal(t, 1, r.Participants, "run of %v", r.Start)
	}
	ur, err := eng.Leaderboards().UserRankAt(ctx, "board", "keeper", eng.clock.Now().Add(-30*time.Hour))
	require.NoError(t, err)
	require.Equal(t, p.Participants, ur.Participants, "the page and the user's rank agree")
	require.NoError(t, eng.Check(ctx))
	for k := range gamify.DumpStore(eng.Engine) {
		require.NotContains(t, k, secretID)
	}

	require.NoError(t, eng.Close())
	require.NoDirExists(t, eng.path+".log", "a clean Close folds the command log into the file and removes it")
	require.NoError(t, gamify.Compact(eng.path))
	require.False(t, bytes.Contains(raw(), []byte(secretID)), "no byte of the id is left after Compact")
	require.False(t, bytes.Contains(raw(), []byte(secretEmail)))
	eng.reopen(t)
	um, err := eng.Users().Metric(ctx, "keeper", "steps")
	require.NoError(t, err)
	require.Equal(t, "3003", um.Total.String(), "the anonymized user keeps their totals")
	k, err := eng.Users().Get(ctx, "keeper")
	require.NoError(t, err)
	require.False(t, k.Active)
	require.Empty(t, k.Email)
	// The id can be used again, as a new user.
	r, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: secretID, Value: 1, IdempotencyKey: secretID + "a"})
	require.NoError(t, err)
	require.False(t, r.IdempotentReplayed, "idempotency keys were deleted too")
	require.Equal(t, "1", r.Total.String())
}

func TestDeleteWithinAnOpenBatch(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{Durability: gamify.Buffered, MaxFlushDelay: time.Hour})
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "gone", Value: 1, IdempotencyKey: "k"})
	require.NoError(t, err)
	require.NoError(t, eng.Users().Erase(ctx, "gone")) // its event is still in the open batch
	require.NoError(t, eng.Flush(ctx))
	_, err = eng.Users().Get(ctx, "gone")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	for k := range gamify.DumpStore(eng.Engine) {
		require.NotContains(t, k, "gone")
	}
}

// One user who used every feature, erased: after Compact neither the id nor
// the email is anywhere in the file, and a new user with the same id starts
// from nothing (no inherited boost, pin, code, key or standing).
func TestEraseEveryFeatureLeavesNoTraceAfterCompact(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	const secretID, secretEmail = "zz-secret-user-4711", "zz.secret.4711@example.com"
	_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "mode", Name: "mode", Type: gamify.EventAttribute})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "per-step", System: "coins", Kind: gamify.TriggerMetric, Metric: "steps",
		Threshold: gamify.AmountFromInt(100), Points: gamify.AmountFromInt(1)})
	require.NoError(t, err)
	mustLevels(t, eng, "coins", gamify.Level{Key: "bronze", Level: 1, Name: "Bronze"},
		gamify.Level{Key: "gold", Level: 2, Name: "Gold", Threshold: gamify.AmountFromInt(1000)})
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "walker", Name: "Walker", Kind: gamify.AchievementMetric,
		Metric: "steps", Threshold: gamify.AmountFromInt(1000)})
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "double", Name: "Double", Type: gamify.RewardPointsMultiplier,
		System: "coins", Cost: gamify.AmountFromInt(1), Multiplier: gamify.AmountFromInt(2), Duration: 90 * 24 * time.Hour})
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "tee", Name: "Tee", Type: gamify.RewardCoupon, Cost: gamify.AmountFromInt(1), System: "coins"})
	require.NoError(t, err)
	_, err = eng.Rewards().AddCodes(ctx, "tee", []string{"CODE-1", "CODE-2"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "board", Name: "B", RankBy: gamify.RankByMetric, Metric: "steps",
		RunEvery: 1, RunUnit: gamify.RunDay, TZ: "America/New_York"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "board")
	require.NoError(t, err)

	for day := range 3 {
		for _, u := range []string{secretID, "keeper"} {
			_, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: u, Value: 1000 + float64(day), IdempotencyKey: u + string(rune('a'+day)),
				Attributes: map[string]string{"mode": "run-" + u},
				Profile:    &gamify.UserInput{Email: map[bool]string{true: secretEmail, false: "k@example.com"}[u == secretID], TZ: "America/New_York"}})
			require.NoError(t, err)
		}
		if day < 2 {
			eng.clock.Advance(24 * time.Hour)
			_, err := eng.RunDue(ctx) // freezes the day's run, with the secret user in it
			require.NoError(t, err)
		}
	}
	// The last day's run is current, with the user in it.
	_, _, err = eng.Streaks().GrantFreezes(ctx, "walk", []string{secretID})
	require.NoError(t, err)
	_, err = eng.Streaks().AddPause(ctx, "walk", secretID, gamify.Date{Year: 2026, Month: 3, Day: 10}, gamify.Date{Year: 2026, Month: 3, Day: 11})
	require.NoError(t, err)
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: secretID, Amount: gamify.AmountFromInt(50), Reason: "bonus", IdempotencyKey: "award-1"})
	require.NoError(t, err)
	_, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: secretID, Amount: gamify.AmountFromInt(5), IdempotencyKey: "spend-1"})
	require.NoError(t, err)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "double", User: secretID, IdempotencyKey: "claim-1"})
	require.NoError(t, err)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "tee", User: secretID, IdempotencyKey: "claim-2"})
	require.NoError(t, err)
	_, err = eng.Points().Boosts().Create(ctx, gamify.Boost{Key: "vip-" + secretID, System: "coins", Scope: gamify.BoostUser, User: secretID,
		Start: eng.clock.Now(), Multiplier: gamify.AmountFromInt(3)})
	require.NoError(t, err)
	bs, err := eng.Points().UserBoosts(ctx, "coins", secretID)
	require.NoError(t, err)
	require.Len(t, bs, 2, "the claim's boost and the admin's")
	_, err = eng.Points().PinLevel(ctx, "coins", secretID, "gold")
	require.NoError(t, err)
	_, err = eng.Users().PatchPreferences(ctx, secretID, func(p *gamify.Preferences) {
		p.Notifications = map[gamify.NotificationType][]gamify.Channel{}
	})
	require.NoError(t, err)
	_, err = eng.Users().Update(ctx, gamify.UserInput{ID: secretID, Name: "Secret Name", DeviceTokens: []string{"tok-" + secretID}})
	require.NoError(t, err)
	_, err = eng.Users().Anonymize(ctx, "keeper")
	require.NoError(t, err)
	require.NoError(t, eng.Flush(ctx))
	require.NoError(t, gamify.Checkpoint(eng.Engine)) // into the file, for the scan
	raw := func() []byte {
		b, err := os.ReadFile(eng.path)
		require.NoError(t, err)
		return b
	}
	require.True(t, bytes.Contains(raw(), []byte(secretID)), "the scan finds the id before the erase")
	require.True(t, bytes.Contains(raw(), []byte(secretEmail)))

	require.NoError(t, eng.Users().Erase(ctx, secretID))
	require.NoError(t, eng.Check(ctx))
	for k, v := range gamify.DumpStore(eng.Engine) {
		require.NotContains(t, k, secretID)
		require.NotContains(t, v, secretID, k)
	}
	all, err := eng.Points().Boosts().List(ctx, gamify.ListOptions{IncludeArchived: true})
	require.NoError(t, err)
	for _, b := range all {
		require.NotEqual(t, secretID, b.User, "per-user boosts go with the user")
	}

	require.NoError(t, eng.Close())
	require.NoDirExists(t, eng.path+".log", "a clean Close folds the command log into the file and removes it")
	require.NoError(t, gamify.Compact(eng.path))
	require.False(t, bytes.Contains(raw(), []byte(secretID)), "no byte of the id is left after Compact")
	require.False(t, bytes.Contains(raw(), []byte(secretEmail)))
	eng.reopen(t)
	require.NoError(t, eng.Check(ctx))

	// A new user with the same id inherits nothing.
	bs, err = eng.Points().UserBoosts(ctx, "coins", secretID)
	require.ErrorIs(t, err, gamify.ErrNotFound)
	require.Empty(t, bs)
	r, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: secretID, Value: 100, IdempotencyKey: secretID + "a"})
	require.NoError(t, err)
	require.False(t, r.IdempotentReplayed)
	require.Len(t, r.Points, 1)
	require.Equal(t, "1", r.Points[0].Added.String(), "no boost of the erased user multiplies the new one")
	up, err := eng.Users().Points(ctx, secretID, "coins")
	require.NoError(t, err)
	require.Equal(t, "bronze", up.Level)
	require.False(t, up.Pinned)
	pr, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: secretID, Amount: gamify.AmountFromInt(1), IdempotencyKey: "award-1"})
	require.NoError(t, err)
	require.False(t, pr.IdempotentReplayed)
	cs, err := eng.Users().Claims(ctx, secretID)
	require.NoError(t, err)
	require.Empty(t, cs)
	s, err := eng.Users().Streak(ctx, secretID, "walk")
	require.NoError(t, err)
	require.Equal(t, 0, s.Length)
	// The code the erased user claimed is still given out.
	codes, err := eng.Rewards().Codes(ctx, "tee", gamify.ListOptions{})
	require.NoError(t, err)
	require.Len(t, codes, 1)
}

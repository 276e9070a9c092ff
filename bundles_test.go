package gamify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// shopGrants are the grants of the shop's "pack": a freeze of the daily
// streak, double score for an hour, 5 score points and the "shopper" badge.
var shopGrants = gamify.RewardGrants{
	Freezes:      []gamify.FreezeGrant{{Streak: "daily", Count: 1}},
	Boosts:       []gamify.BoostGrant{{System: "score", Multiplier: gamify.AmountFromInt(2), Duration: time.Hour}},
	Points:       []gamify.PointsGrant{{System: "score", Amount: gamify.AmountFromInt(5)}},
	Achievements: []string{"shopper"},
}

// shopEngine sets up a shop on eng: a daily streak holding at most 2
// freezes, points systems "gems" (the currency) and "score", a manual
// achievement "shopper" and the bundle "pack" (10 gems, unlimited per user);
// ana has 100 gems.
func shopEngine(t *testing.T, eng *testEngine) {
	t.Helper()
	ctx := context.Background()
	mustMetric(t, eng.Engine, "lessons")
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}, Freezes: gamify.StreakFreezes{Max: 2}})
	require.NoError(t, err)
	for _, k := range []string{"gems", "score"} {
		_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: k, Name: k})
		require.NoError(t, err)
	}
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "shopper", Name: "Shopper", Kind: gamify.AchievementManual})
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "pack", Name: "Pack", Type: gamify.RewardBundle, System: "gems", Cost: gamify.AmountFromInt(10),
		PerUserLimit: gamify.RewardUnlimited, Grants: shopGrants})
	require.NoError(t, err)
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "gems", User: "ana", Amount: gamify.AmountFromInt(100)})
	require.NoError(t, err)
}

// shopState is what a claim of the pack changes.
type shopState struct {
	Gems, Score gamify.Amount
	Freezes     int
	Boosts      int
	Claims      int
	Shopper     bool
}

func readShop(t *testing.T, eng *testEngine) shopState {
	t.Helper()
	ctx := context.Background()
	var s shopState
	g, err := eng.Users().Points(ctx, "ana", "gems")
	require.NoError(t, err)
	sc, err := eng.Users().Points(ctx, "ana", "score")
	require.NoError(t, err)
	st, err := eng.Users().Streak(ctx, "ana", "daily")
	require.NoError(t, err)
	bs, err := eng.Points().UserBoosts(ctx, "score", "ana")
	require.NoError(t, err)
	s.Gems, s.Score, s.Freezes, s.Boosts = g.Available, sc.Total, st.Freezes, len(bs)
	s.Claims = claimCount(t, eng, "ana")
	s.Shopper = completed(t, eng, "ana", "shopper")
	return s
}

func claimPack(eng *testEngine, key string) (gamify.Claim, error) {
	return eng.Rewards().Claim(context.Background(), gamify.ClaimRequest{Reward: "pack", User: "ana", IdempotencyKey: key})
}

func TestRewardBundleGrantsWithTheClaim(t *testing.T) {
	eng := openTest(t, nil)
	shopEngine(t, eng)
	c, err := claimPack(eng, "")
	require.NoError(t, err)
	require.Empty(t, c.Code, "a bundle gives no code")
	require.Equal(t, shopGrants, c.Grants)
	require.Equal(t, gamify.AmountFromInt(90), c.Balance)
	require.Equal(t, shopState{Gems: gamify.AmountFromInt(90), Score: gamify.AmountFromInt(5), Freezes: 1, Boosts: 1, Claims: 1, Shopper: true}, readShop(t, eng))

	// Unlimited per user; the badge held already changes nothing.
	_, err = claimPack(eng, "")
	require.NoError(t, err)
	want := shopState{Gems: gamify.AmountFromInt(80), Score: gamify.AmountFromInt(10), Freezes: 2, Boosts: 2, Claims: 2, Shopper: true}
	require.Equal(t, want, readShop(t, eng))
	eng.reopen(t)
	require.Equal(t, want, readShop(t, eng), "all of it is stored")
	cs, err := eng.Users().Claims(context.Background(), "ana")
	require.NoError(t, err)
	require.Equal(t, shopGrants, cs[0].Grants, "the claim record says what it granted")
}

// A grant that cannot be given refuses the whole claim: nothing is debited,
// granted or recorded.
func TestRewardBundleFailedGrantChangesNothing(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	shopEngine(t, eng)
	for range 2 {
		_, err := claimPack(eng, "")
		require.NoError(t, err)
	}
	before := readShop(t, eng)
	require.Equal(t, 2, before.Freezes, "at the streak's Max")

	_, err := claimPack(eng, "k1")
	require.ErrorIs(t, err, gamify.ErrConflict, "a third freeze would exceed Max: the claim is refused, not capped")
	require.ErrorContains(t, err, "more than its Max of 2")
	require.Equal(t, before, readShop(t, eng))

	// Another failing grant, the last one: an inactive badge (the streak has
	// room again).
	_, err = eng.Streaks().Patch(ctx, "daily", func(s *gamify.Streak) { s.Freezes.Max = 5 })
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "vip", Name: "VIP", Kind: gamify.AchievementManual, Status: gamify.StatusInactive})
	require.NoError(t, err)
	_, err = eng.Rewards().Patch(ctx, "pack", func(r *gamify.Reward) { r.Grants.Achievements = []string{"shopper", "vip"} })
	require.NoError(t, err)
	_, err = claimPack(eng, "k1")
	require.ErrorIs(t, err, gamify.ErrAchievementInactive)
	require.Equal(t, before, readShop(t, eng))

	// The key of a refused claim was not used: it claims once fixed.
	_, err = eng.Achievements().Activate(ctx, "vip")
	require.NoError(t, err)
	c, err := claimPack(eng, "k1")
	require.NoError(t, err)
	require.False(t, c.IdempotentReplayed)
	require.Equal(t, 3, readShop(t, eng).Freezes)
	require.True(t, completed(t, eng, "ana", "vip"))
}

// A retry of a claim whose answer was lost (its commit of unknown outcome)
// replays it; a claim whose commit failed left nothing, and its retry
// grants once.
func TestRewardBundleRetryNeverGrantsTwice(t *testing.T) {
	fsync := errors.New("fsync: input/output error")
	eng, f := openFaulty(t, nil)
	shopEngine(t, eng)
	start := readShop(t, eng)

	f.arm(fsync)
	_, err := claimPack(eng, "buy-1")
	require.ErrorIs(t, err, fsync)
	require.Equal(t, start, readShop(t, eng), "a failed commit leaves nothing")

	f.arm(gamify.FailAfterCommit(fsync))
	_, err = claimPack(eng, "buy-1")
	require.ErrorIs(t, err, fsync)
	once := shopState{Gems: gamify.AmountFromInt(90), Score: gamify.AmountFromInt(5), Freezes: 1, Boosts: 1, Claims: 1, Shopper: true}
	require.Equal(t, once, readShop(t, eng), "the commit landed: all of it")

	c, err := claimPack(eng, "buy-1")
	require.NoError(t, err)
	require.True(t, c.IdempotentReplayed)
	require.Equal(t, shopGrants, c.Grants)
	eng.reopen(t)
	c, err = claimPack(eng, "buy-1")
	require.NoError(t, err)
	require.True(t, c.IdempotentReplayed, "after a restart too")
	require.Equal(t, once, readShop(t, eng))
}

func TestRewardBundleValidation(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	shopEngine(t, eng)
	_, err := eng.Achievements().Create(ctx, gamify.Achievement{Key: "auto", Name: "Auto", Kind: gamify.AchievementMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(1)})
	require.NoError(t, err)
	for _, c := range []struct {
		r     gamify.Reward
		field string
	}{
		{gamify.Reward{Type: gamify.RewardBundle}, "Reward.Grants"},
		{gamify.Reward{Type: gamify.RewardDigital, PerUserLimit: -2}, "Reward.PerUserLimit"},
		{gamify.Reward{Type: gamify.RewardBundle, Grants: gamify.RewardGrants{Freezes: []gamify.FreezeGrant{{Streak: "daily"}}}}, "Reward.Grants.Freezes[0].Count"},
		{gamify.Reward{Type: gamify.RewardBundle, Grants: gamify.RewardGrants{Freezes: []gamify.FreezeGrant{{Streak: "nope", Count: 1}}}}, "Reward.Grants.Freezes[0].Streak"},
		{gamify.Reward{Type: gamify.RewardBundle, Grants: gamify.RewardGrants{Boosts: []gamify.BoostGrant{{System: "score", Multiplier: gamify.AmountFromInt(1), Duration: time.Hour}}}}, "Reward.Grants.Boosts[0].Multiplier"},
		{gamify.Reward{Type: gamify.RewardBundle, Grants: gamify.RewardGrants{Boosts: []gamify.BoostGrant{{System: "score", Multiplier: gamify.AmountFromInt(2)}}}}, "Reward.Grants.Boosts[0].Duration"},
		{gamify.Reward{Type: gamify.RewardBundle, Grants: gamify.RewardGrants{Points: []gamify.PointsGrant{{System: "nope", Amount: gamify.AmountFromInt(1)}}}}, "Reward.Grants.Points[0].System"},
		{gamify.Reward{Type: gamify.RewardBundle, Grants: gamify.RewardGrants{Points: []gamify.PointsGrant{{System: "score"}}}}, "Reward.Grants.Points[0].Amount"},
		{gamify.Reward{Type: gamify.RewardBundle, Grants: gamify.RewardGrants{Achievements: []string{"auto"}}}, "Reward.Grants.Achievements[0]"},
	} {
		c.r.Key, c.r.Name = "bad", "Bad"
		_, err := eng.Rewards().Create(ctx, c.r)
		requireField(t, err, c.field)
	}
	_, err = eng.Rewards().Get(ctx, "bad")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

// A milestone's reward may be a bundle: reaching 3 days gives a freeze.
func TestStreakMilestoneRewardBundle(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(day1)
	shopEngine(t, eng)
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "gift", Name: "Gift", Type: gamify.RewardBundle,
		Grants: gamify.RewardGrants{Freezes: []gamify.FreezeGrant{{Streak: "daily", Count: 1}}}})
	require.NoError(t, err)
	_, err = eng.Streaks().Patch(ctx, "daily", func(s *gamify.Streak) {
		s.Milestones = []gamify.StreakMilestone{{Length: 3, Reward: "gift"}}
	})
	require.NoError(t, err)
	liveDays(t, eng, "ana", 1, 2)
	setClock(t, eng, onDay(3))
	r := lesson(t, eng, "ana", onDay(3))
	require.Len(t, r.Milestones, 1)
	require.Equal(t, "gift", r.Milestones[0].Reward)
	st, err := eng.Users().Streak(ctx, "ana", "daily")
	require.NoError(t, err)
	require.Equal(t, 1, st.Freezes)
	require.Equal(t, gamify.AmountFromInt(100), readShop(t, eng).Gems, "free")
}

// Hard delete removes what milestones and bundles gave: claims, the
// claim's per-user boosts, completions and balances.
func TestEraseRemovesMilestoneAndBundleRecords(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(day1)
	shopEngine(t, eng)
	_, err := eng.Streaks().Patch(ctx, "daily", func(s *gamify.Streak) {
		s.Milestones = []gamify.StreakMilestone{{Length: 2, Reward: "pack"}}
	})
	require.NoError(t, err)
	liveDays(t, eng, "ana", 1, 2)
	_, err = claimPack(eng, "buy")
	require.NoError(t, err)
	require.Equal(t, 2, claimCount(t, eng, "ana"), "one from the milestone, one bought")
	require.Equal(t, 2, readShop(t, eng).Boosts)

	require.NoError(t, eng.Users().Erase(ctx, "ana"))
	_, err = eng.Users().Claims(ctx, "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	bs, err := eng.Points().Boosts().ListFor(ctx, gamify.BoostFilter{System: "score", Scope: gamify.BoostUser}, gamify.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, bs, "the claims' boosts name the user")
	eng.reopen(t)
	_, err = eng.Users().Get(ctx, "ana")
	require.ErrorIs(t, err, gamify.ErrNotFound)
}

// The freezes of one claim (or of one GrantFreezes call naming a user twice)
// share an instant; each counts, also when a late event replays the days
// after them.
func TestFreezesGrantedTogetherAllCount(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	shopEngine(t, eng)
	_, err := eng.Streaks().Patch(ctx, "daily", func(s *gamify.Streak) { s.Freezes.Max = 5 })
	require.NoError(t, err)
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "two", Name: "Two freezes", Type: gamify.RewardBundle, System: "gems",
		Cost: gamify.AmountFromInt(10), PerUserLimit: gamify.RewardUnlimited,
		Grants: gamify.RewardGrants{Freezes: []gamify.FreezeGrant{{Streak: "daily", Count: 2}}}})
	require.NoError(t, err)
	freezes := func(user string) int {
		t.Helper()
		st, err := eng.Users().Streak(ctx, user, "daily")
		require.NoError(t, err)
		return st.Freezes
	}
	day := func(d int) time.Time { return t0.Add(time.Duration(d) * 24 * time.Hour) }
	track := func(user string, at time.Time) {
		t.Helper()
		_, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: user, Value: 1, Time: at})
		require.NoError(t, err)
	}
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "gems", User: "bo", Amount: gamify.AmountFromInt(100)})
	require.NoError(t, err)
	track("ana", day(0))
	track("bo", day(0))
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "two", User: "ana"})
	require.NoError(t, err)
	_, _, err = eng.Streaks().GrantFreezes(ctx, "daily", []string{"bo", "bo"})
	require.NoError(t, err)
	require.Equal(t, 2, freezes("ana"))
	require.Equal(t, 2, freezes("bo"))

	// Day 1 missed: a freeze keeps each streak. A late lesson of day 1 then
	// gives it back.
	eng.clock.Set(day(2).Add(time.Hour))
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, freezes("ana"))
	track("ana", day(1))
	require.Equal(t, 2, freezes("ana"), "the late lesson replays the grants: both count")

	// Then each missed day takes one freeze, and the streak is lost once
	// they are used up: bo missed days 1 and 2 (two freezes) and 3; ana
	// days 2 and 3 (two freezes) and 4.
	length := func(user string, at time.Time) int {
		t.Helper()
		eng.clock.Set(at)
		st, err := eng.Users().Streak(ctx, user, "daily")
		require.NoError(t, err)
		return st.Length
	}
	require.Equal(t, 1, length("bo", day(3).Add(time.Hour)))
	require.Zero(t, freezes("bo"))
	require.Zero(t, length("bo", day(4).Add(time.Hour)))
	require.Equal(t, 2, length("ana", day(4).Add(time.Hour)))
	require.Zero(t, freezes("ana"))
	require.Zero(t, length("ana", day(5).Add(time.Hour)))
}

package gamify_test

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// Calls that panicked, overflowed into another answer or took a bad list
// as given: each is now a ValidationError naming what is wrong, or
// ErrNotFound, and changes nothing.
func TestBadArgumentsRefused(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{})
	xp(t, eng, "ana", 5)
	xp(t, eng, "bo", 3)

	t.Run("nil edit", func(t *testing.T) {
		_, err := eng.Metrics().Patch(ctx, "xp", nil)
		requireField(t, err, "edit")
		_, _, err = eng.Metrics().BulkPatch(ctx, []string{"xp"}, nil)
		requireField(t, err, "edit")
		_, err = eng.Leaderboards().Patch(ctx, "board", nil)
		requireField(t, err, "edit")
		_, _, err = eng.Leaderboards().BulkPatch(ctx, []string{"board"}, nil)
		requireField(t, err, "edit")
		_, err = eng.Users().PatchPreferences(ctx, "ana", nil)
		requireField(t, err, "edit")
	})
	t.Run("nil writer", func(t *testing.T) {
		requireField(t, eng.Backup(ctx, nil), "w")
		var buf bytes.Buffer
		require.NoError(t, eng.Backup(ctx, &buf))
	})
	t.Run("a page past every page", func(t *testing.T) {
		// (Page-1)*PageSize wrapped around and answered with the first page.
		_, err := eng.Users().List(ctx, gamify.UserQuery{Page: math.MaxInt/50 + 2})
		requireField(t, err, "UserQuery.Page")
	})
	t.Run("around, wrapping", func(t *testing.T) {
		// above+below+1 wrapped below the cap.
		_, err := eng.Leaderboards().Around(ctx, "board", "ana", math.MaxInt, 1)
		requireField(t, err, "Around")
		p, err := eng.Leaderboards().Around(ctx, "board", "bo", 1, 0)
		require.NoError(t, err)
		require.Len(t, p.Rows, 2)
	})
	t.Run("ledger after the last sequence", func(t *testing.T) {
		// after+1 wrapped to 0: the ledger from its start.
		got, err := eng.LedgerEntries(ctx, math.MaxUint64, 10)
		require.NoError(t, err)
		require.Empty(t, got)
		all, err := eng.LedgerEntries(ctx, 0, 10)
		require.NoError(t, err)
		require.NotEmpty(t, all)
	})
	t.Run("ranks", func(t *testing.T) {
		_, err := eng.Leaderboards().Ranks(ctx, "nosuch", []string{"ana"})
		require.ErrorIs(t, err, gamify.ErrNotFound, "an unknown board is not a board without those users")
		_, err = eng.Leaderboards().Ranks(ctx, "board", []string{"ana", "bo", "ana"})
		requireField(t, err, "Users[2]")
		rows, err := eng.Leaderboards().Ranks(ctx, "board", []string{"bo", "nobody", "ana"})
		require.NoError(t, err)
		require.Len(t, rows, 2)
	})
}

// A streak's user lists with an empty id are refused whole (the id was
// looked up and reported not found), and so is a bulk read listing a user
// twice, whose answer has one row per user.
func TestStreakUserListsRefused(t *testing.T) {
	ctx := context.Background()
	eng, _ := streakEngine(t, nil, nil)
	_, _, err := eng.Streaks().GrantFreezes(ctx, "walk", []string{"ana", ""})
	requireField(t, err, "Users[1]")
	_, _, err = eng.Streaks().Restore(ctx, "walk", []string{""})
	requireField(t, err, "Users[0]")
	_, err = eng.Streaks().Users(ctx, "walk", []string{"ana", "ana"})
	requireField(t, err, "Users[1]")
	st, err := eng.Users().Streak(ctx, "ana", "walk")
	require.NoError(t, err)
	require.Zero(t, st.Freezes, "a refused list grants nothing")
	res, _, err := eng.Streaks().GrantFreezes(ctx, "walk", []string{"ana"})
	require.NoError(t, err)
	require.Equal(t, 1, res[0].Freezes)
}

// Lists inside a definition or a call with an entry twice (or too many),
// and fields of another kind of reward, are refused naming the field: a
// breakdown by one attribute twice made groups its own reads refused, and
// a coupon kept a multiplier and a negative duration.
func TestDefinitionListsRefused(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	mustUserAttributes(t, eng.Engine, "country")
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "b", Name: "B", RankBy: gamify.RankByMetric, Metric: "xp",
		Breakdown: []string{"country", "country"}})
	requireField(t, err, "Leaderboard.Breakdown[1]")

	_, err = eng.Challenges().Create(ctx, gamify.Challenge{Key: "c", Name: "C", Window: gamify.ChallengePerpetual,
		Enrollment: gamify.ChallengeAutomatic, Objectives: []gamify.ChallengeObjective{
			{Key: "one", Metric: "xp", Target: gamify.AmountFromInt(1)},
			{Key: "two", Metric: "xp", Target: gamify.AmountFromInt(2), Prerequisites: []string{"one", "one"}},
		}})
	requireField(t, err, "Challenge.Objectives[1].Prerequisites[1]")

	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	_, err = eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) {
		p.Notifications[gamify.NotifyRecap] = []gamify.Channel{gamify.ChannelEmail, gamify.ChannelEmail}
	})
	requireField(t, err, "Preferences.Notifications[recap][1]")
	_, err = eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) {
		p.Notifications[gamify.NotifyRecap] = []gamify.Channel{gamify.ChannelEmail, "sms"}
	})
	requireField(t, err, "Preferences.Notifications[recap][1]")

	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "tee", Name: "T-shirt", Type: gamify.RewardCoupon, Cost: gamify.AmountFromInt(10),
		System: "coins", Multiplier: gamify.AmountFromInt(3)})
	requireField(t, err, "Reward.Multiplier")
	_, err = eng.Rewards().Create(ctx, gamify.Reward{Key: "double", Name: "Double", Type: gamify.RewardPointsMultiplier, Cost: gamify.AmountFromInt(10),
		System: "coins", Multiplier: gamify.AmountFromInt(2), Duration: 250 * 365 * 24 * time.Hour})
	requireField(t, err, "Reward.Duration")
	_, err = eng.Rewards().Get(ctx, "tee")
	require.ErrorIs(t, err, gamify.ErrNotFound, "a refused definition is not stored")
}

// A game listing a key twice never converged: each Apply patched one
// definition into the other and reported it patched. It is refused whole.
func TestApplyRefusesAKeyListedTwice(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	_, err := eng.Apply(ctx, gamify.Game{
		Attributes: []gamify.Attribute{{Key: "country", Name: "Country", Type: gamify.UserAttribute}},
		Metrics:    []gamify.Metric{{Key: "xp", Name: "A"}, {Key: "xp", Name: "B"}},
	})
	requireField(t, err, "Game.Metrics[1].Key")
	_, err = eng.Attributes().Get(ctx, "country")
	require.ErrorIs(t, err, gamify.ErrNotFound, "nothing of a refused game is applied")
}

// A read at a time no run can hold answered as if it were a real one (an
// empty page, ErrNotFound): it is a ValidationError naming the time.
func TestReadsAtUnstorableTimesRefused(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{})
	xp(t, eng, "ana", 5)
	far := time.Date(2400, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := eng.Leaderboards().Rankings(ctx, "board", gamify.BoardQuery{At: far})
	requireField(t, err, "BoardQuery.At")
	_, err = eng.Leaderboards().UserRankAt(ctx, "board", "ana", far)
	requireField(t, err, "at")
	_, err = eng.Leagues().HistoryBefore(ctx, "league", "ana", far, 10)
	requireField(t, err, "before")
	r, err := eng.Leaderboards().UserRankAt(ctx, "board", "ana", eng.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 1, r.Rank)
}

// An outbox read took a negative limit as 100 and any large one as given
// (a page of a million entries in memory): both are refused, 0 is 100.
func TestOutboxReadLimits(t *testing.T) {
	ctx := context.Background()
	eng := boardEngine(t, nil, gamify.Leaderboard{})
	xp(t, eng, "ana", 5)
	for _, limit := range []int{-1, 10001} {
		_, err := eng.Outbox().Read(ctx, 0, limit)
		requireField(t, err, "limit")
	}
	c, err := eng.Outbox().Consumer(ctx, "c")
	require.NoError(t, err)
	_, err = c.Fetch(ctx, -5)
	requireField(t, err, "limit")
	all, err := eng.Outbox().Read(ctx, 0, 0)
	require.NoError(t, err)
	require.NotEmpty(t, all)
	got, err := c.Fetch(ctx, 1)
	require.NoError(t, err)
	require.Len(t, got, 1)
}

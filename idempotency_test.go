package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// An event key reused with another value, time or attributes is
// ErrConflict and changes nothing; the same event (Value or Amount alike,
// Time left out or the recorded one, any Profile) replays. In both modes,
// before and after the key is committed, and across Close/Open.
func TestIdempotencyKeyReusedForDifferentEventIsConflict(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		t.Run(mode.String(), func(t *testing.T) {
			eng := openTest(t, &gamify.Options{Durability: mode, MaxFlushDelay: time.Hour})
			mustMetric(t, eng.Engine, "xp")
			_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "source", Name: "Source", Type: gamify.EventAttribute})
			require.NoError(t, err)
			at := t0.Add(-time.Hour)
			orig := gamify.Event{Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k1", Time: at,
				Attributes: map[string]string{"source": "app"}}
			first, err := eng.Track(ctx, orig)
			require.NoError(t, err)
			noTime := orig
			noTime.Time = time.Time{}
			_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k2"}) // at t0, "now"
			require.NoError(t, err)

			for round := range 3 { // pending (Buffered), committed, reopened
				before := gamify.DumpStore(eng.Engine)
				for name, ev := range map[string]gamify.Event{
					"another value":      {Metric: "xp", User: "ana", Value: 6, IdempotencyKey: "k1", Time: at, Attributes: orig.Attributes},
					"another time":       {Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k1", Time: at.Add(time.Second), Attributes: orig.Attributes},
					"other attributes":   {Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k1", Time: at, Attributes: map[string]string{"source": "web"}},
					"no attributes":      {Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k1", Time: at},
					"a time, not now":    {Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k2", Time: t0.Add(-time.Minute)},
					"another value, now": {Metric: "xp", User: "ana", Value: 1, IdempotencyKey: "k2"},
				} {
					_, err := eng.Track(ctx, ev)
					require.ErrorIs(t, err, gamify.ErrConflict, "round %d: %s", round, name)
					require.ErrorContains(t, err, "Event.IdempotencyKey")
				}
				for name, ev := range map[string]gamify.Event{
					"the same event":   orig,
					"as an Amount":     {Metric: "xp", User: "ana", Amount: gamify.AmountFromInt(5), IdempotencyKey: "k1", Time: at, Attributes: orig.Attributes},
					"without its Time": noTime,
					"a new profile":    {Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k1", Time: at, Attributes: orig.Attributes, Profile: &gamify.UserInput{Name: "Ana"}},
					"now, later":       {Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k2"},
					"the recorded now": {Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k2", Time: t0},
				} {
					res, err := eng.Track(ctx, ev)
					require.NoError(t, err, "round %d: %s", round, name)
					require.True(t, res.IdempotentReplayed, "round %d: %s", round, name)
					if ev.IdempotencyKey == "k1" {
						require.Equal(t, first.EventID, res.EventID, name)
					}
				}
				// In a batch the conflict names the event and fails the batch.
				_, err = eng.TrackBatch(ctx, []gamify.Event{
					{Metric: "xp", User: "bo", Value: 1, IdempotencyKey: "b"},
					{Metric: "xp", User: "bo", Value: 2, IdempotencyKey: "b"},
				})
				var ie *gamify.IdempotencyError
				require.ErrorAs(t, err, &ie)
				require.Equal(t, gamify.IdempotencyError{Field: "Events[1].IdempotencyKey", Key: "b",
					What: "event of xp (value, time or attributes)"}, *ie)
				require.ErrorIs(t, err, gamify.ErrConflict)
				require.ErrorContains(t, err, `gamify: conflict: Events[1].IdempotencyKey "b" was first used for a different event of xp`)
				require.Equal(t, before, gamify.DumpStore(eng.Engine), "round %d: a conflict or a replay changes nothing", round)

				eng.clock.Advance(time.Minute) // "now" moves on between rounds
				if round == 0 {
					require.NoError(t, eng.Flush(ctx))
				} else {
					eng.reopen(t)
				}
			}
			um, err := eng.Users().Metric(ctx, "ana", "xp")
			require.NoError(t, err)
			require.Equal(t, "10", um.Total.String())
		})
	}
}

// Awards and spends share a key scope per (user, system), and a key names
// one operation: a Spend reusing an Award's key (or the reverse), or either
// reusing a key with another amount or reason, is ErrConflict and changes
// nothing; the same call replays.
func TestPointsIdempotencyKeyNamesOneOperation(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	_, err := eng.Points().Create(ctx, gamify.PointsSystem{Key: "coins", Name: "Coins"})
	require.NoError(t, err)
	award := gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(10), IdempotencyKey: "k1", Reason: "gift"}
	_, err = eng.Points().Award(ctx, award)
	require.NoError(t, err)
	spend := gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(3), IdempotencyKey: "k2"}
	_, err = eng.Points().Spend(ctx, spend)
	require.NoError(t, err)

	for round := range 2 {
		before := gamify.DumpStore(eng.Engine)
		_, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(10), IdempotencyKey: "k1"})
		require.ErrorIs(t, err, gamify.ErrConflict, "a spend reusing an award's key")
		require.ErrorContains(t, err, "Spend.IdempotencyKey")
		_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(3), IdempotencyKey: "k2"})
		require.ErrorIs(t, err, gamify.ErrConflict, "an award reusing a spend's key")
		_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(11), IdempotencyKey: "k1", Reason: "gift"})
		require.ErrorIs(t, err, gamify.ErrConflict, "another amount")
		_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(10), IdempotencyKey: "k1", Reason: "bonus"})
		require.ErrorIs(t, err, gamify.ErrConflict, "another reason")
		_, err = eng.Points().Spend(ctx, gamify.PointsEntry{System: "coins", User: "ana", Amount: gamify.AmountFromInt(4), IdempotencyKey: "k2"})
		require.ErrorIs(t, err, gamify.ErrConflict, "another amount")

		r, err := eng.Points().Award(ctx, award)
		require.NoError(t, err)
		require.True(t, r.IdempotentReplayed)
		r, err = eng.Points().Spend(ctx, spend)
		require.NoError(t, err)
		require.True(t, r.IdempotentReplayed)
		require.Equal(t, "7", r.Available.String())
		require.Equal(t, before, gamify.DumpStore(eng.Engine), "round %d: a conflict or a replay changes nothing", round)
		eng.reopen(t)
	}

	// Another system, or another user, is another scope.
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "gems", Name: "Gems"})
	require.NoError(t, err)
	r, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "gems", User: "ana", Amount: gamify.AmountFromInt(1), IdempotencyKey: "k2"})
	require.NoError(t, err)
	require.False(t, r.IdempotentReplayed)
	r, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "bo", Amount: gamify.AmountFromInt(1), IdempotencyKey: "k2"})
	require.NoError(t, err)
	require.False(t, r.IdempotentReplayed)
}

// A replayed event reports the user's current state: the metric total, the
// default streak as it is now and the user's current rank on the metric's
// boards — not what the original call reported, and no completions or awards.
func TestReplayedEventReportsCurrentState(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}, Default: true})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "all", Name: "All", RankBy: gamify.RankByMetric, Metric: "xp", Ties: gamify.TiesUnique})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "all")
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "first", Name: "First", Kind: gamify.AchievementMetric, Metric: "xp", Threshold: gamify.AmountFromInt(1)})
	require.NoError(t, err)

	ev := gamify.Event{Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "day1"}
	first, err := eng.Track(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, 1, first.Streak.Length)
	require.Equal(t, []gamify.LeaderboardChange{{Key: "all", Rank: 1}}, first.Leaderboards)
	require.Len(t, first.Achievements, 1)

	// Since then: bo overtakes ana, and ana extends her streak the next day.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bo", Value: 50})
	require.NoError(t, err)
	eng.clock.Advance(24 * time.Hour)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2})
	require.NoError(t, err)

	for round := range 2 {
		again, err := eng.Track(ctx, ev)
		require.NoError(t, err)
		require.True(t, again.IdempotentReplayed)
		require.Equal(t, first.EventID, again.EventID)
		require.Equal(t, "7", again.Total.String(), "round %d", round)
		require.NotNil(t, again.Streak, "round %d: a replay reports the default streak", round)
		require.Equal(t, "daily", again.Streak.Key)
		require.Equal(t, 2, again.Streak.Length, "round %d: the streak as it is now", round)
		require.False(t, again.Streak.Extended, "a replay extends nothing")
		require.False(t, again.Streak.AtRisk)
		require.Equal(t, []gamify.LeaderboardChange{{Key: "all", Rank: 2, PreviousRank: 2}}, again.Leaderboards,
			"round %d: the rank as it is now, unmoved", round)
		require.Empty(t, again.Achievements, "completions are reported once")
		require.Empty(t, again.Points)
		eng.reopen(t)
	}
}

// A replay reports the user's rank in the run the event counted in, also
// when the retry leaves Time out and a new run has started since: once
// that run is finished there is no row, not the rank in today's run, which
// the event did not feed.
func TestReplayReportsTheRunTheEventCountedIn(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "daily", Name: "Daily", RankBy: gamify.RankByMetric, Metric: "xp",
		Ties: gamify.TiesUnique, RunEvery: 1, RunUnit: gamify.RunDay})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "daily")
	require.NoError(t, err)
	ev := gamify.Event{Metric: "xp", User: "ana", Value: 5, IdempotencyKey: "k"}
	_, err = eng.Track(ctx, ev)
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "bo", Value: 9})
	require.NoError(t, err)
	eng.clock.Advance(time.Hour)
	again, err := eng.Track(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, []gamify.LeaderboardChange{{Key: "daily", Rank: 2, PreviousRank: 2}}, again.Leaderboards)

	// The next day: ana leads today's run; yesterday's is finished.
	eng.clock.Advance(24 * time.Hour)
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	today, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, 1, today.Leaderboards[0].Rank)
	again, err = eng.Track(ctx, ev)
	require.NoError(t, err)
	require.True(t, again.IdempotentReplayed)
	require.Empty(t, again.Leaderboards)
}

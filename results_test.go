package gamify_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// A subscriber that keeps up never loses part of a maximal TrackBatch, even
// when the commit holds more notifications than NotifyBuffer (1024 by
// default); one that is behind loses later commits whole, and the writer
// never waits for it.
func TestNotifyMaximalBatchAtDefaultSettings(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, gamify.Trigger{Key: "hello", System: "coins", Kind: gamify.TriggerUserCreation, Points: gamify.AmountFromInt(1)})
	block := make(chan struct{})
	var got atomic.Int64
	sub := eng.Subscribe(func(gamify.Notification) {
		<-block // the callback is still busy when the whole commit arrives
		got.Add(1)
	})
	evs := make([]gamify.Event, 1000)
	for i := range evs {
		evs[i] = gamify.Event{Metric: "xp", User: fmt.Sprintf("u%04d", i), Value: 1}
	}
	_, err := eng.TrackBatch(ctx, evs)
	require.NoError(t, err)
	// The subscriber is now 2,000 behind: the next commit is dropped whole,
	// and Track does not wait for the subscriber.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "late", Value: 1})
	require.NoError(t, err)
	require.Equal(t, uint64(2), sub.Dropped(), "the later commit (UserCreated, PointsChanged) is dropped whole")
	close(block)
	require.Eventually(t, func() bool { return got.Load() == 2000 }, 10*time.Second, time.Millisecond,
		"UserCreated and PointsChanged for each of the 1000 new users")
	sub.Close()
	require.Equal(t, uint64(2), sub.Dropped())
}

// A user created or changed by an acknowledged Track is found by Get, with
// that profile, in both modes — also while a Buffered batch is uncommitted.
func TestReadYourWritesAfterTrack(t *testing.T) {
	for _, mode := range []gamify.Durability{gamify.Durable, gamify.Buffered} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx := context.Background()
			// An hour's delay: nothing commits unless asked.
			eng := openTest(t, &gamify.Options{Durability: mode, MaxFlushDelay: time.Hour})
			mustMetric(t, eng.Engine, "xp")
			_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Profile: &gamify.UserInput{Name: "Ana"}})
			require.NoError(t, err)
			u, err := eng.Users().Get(ctx, "ana")
			require.NoError(t, err, "Track acknowledged ana")
			require.Equal(t, "Ana", u.Name)
			_, err = eng.Users().Preferences(ctx, "ana")
			require.NoError(t, err)
			_, err = eng.Users().Create(ctx, gamify.UserInput{ID: "ana"})
			require.ErrorIs(t, err, gamify.ErrConflict, "Create and Get agree")

			_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Profile: &gamify.UserInput{Name: "Ana B."}})
			require.NoError(t, err)
			u, err = eng.Users().Get(ctx, "ana")
			require.NoError(t, err)
			require.Equal(t, "Ana B.", u.Name, "the profile upsert of the event")

			_, err = eng.Users().Get(ctx, "bob")
			require.ErrorIs(t, err, gamify.ErrNotFound)
			require.NoError(t, eng.Flush(ctx))
			u, err = eng.Users().Get(ctx, "ana")
			require.NoError(t, err)
			require.Equal(t, "Ana B.", u.Name)
		})
	}
}

func awardTriggers(ch []gamify.PointsChange) []string {
	var out []string
	for _, c := range ch {
		for _, a := range c.Awards {
			out = append(out, c.System+"/"+a.Trigger)
		}
	}
	return out
}

// The user_creation award of the call that creates the user is part of that
// call's result: Track, TrackBatch, Complete; Award and Claim report the
// balance after it.
func TestUserCreationAwardIsInTheCreatingCallsResult(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, gamify.Trigger{Key: "hello", System: "coins", Kind: gamify.TriggerUserCreation, Points: gamify.AmountFromInt(10)},
		perUnits("per1", "xp", 1, 1))
	_, err := eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "rich", Name: "Rich", RankBy: gamify.RankByPoints, System: "coins"})
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, ach("hand", gamify.AchievementManual, nil))
	require.NoError(t, err)

	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 2})
	require.NoError(t, err)
	require.Equal(t, []string{"coins/hello", "coins/per1"}, awardTriggers(r.Points))
	require.Equal(t, "12", r.Points[0].Added.String())
	require.Equal(t, "12", r.Points[0].Total.String())
	require.Equal(t, []gamify.LeaderboardChange{{Key: "rich", Rank: 1}}, r.Leaderboards, "one row per board, for both awards")

	rs, err := eng.TrackBatch(ctx, []gamify.Event{{Metric: "xp", User: "bob", Value: 1}, {Metric: "xp", User: "cy", Value: 1}})
	require.NoError(t, err)
	for _, r := range rs {
		require.Equal(t, []string{"coins/hello", "coins/per1"}, awardTriggers(r.Points), r.User)
	}

	c, err := eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "hand", User: "dee"})
	require.NoError(t, err)
	require.Equal(t, []string{"coins/hello"}, awardTriggers(c.Points))
	require.Equal(t, "10", c.Points[0].Total.String())

	p, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "eve", Amount: gamify.AmountFromInt(5), Reason: "gift"})
	require.NoError(t, err)
	require.Equal(t, "15", p.Total.String(), "10 on creation + 5")
	require.Equal(t, []string{"coins/hello", "coins/"}, awardTriggers(p.Points), "the creation award, then the manual one")
	require.Equal(t, "15", p.Points[0].Added.String())
	p, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "coins", User: "eve", Amount: gamify.AmountFromInt(5), Reason: "gift"})
	require.NoError(t, err)
	require.Equal(t, []string{"coins/"}, awardTriggers(p.Points), "an existing user: the manual award only")
}

// One event that promotes a user twice reports the level before the event
// and the level after it, and the level multiplier is that of the level at
// the start of the event for every award of the event.
func TestOneEventTwoLevels(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	_, err := eng.Achievements().Create(ctx, ach("xp5", gamify.AchievementMetric, threshold(5)))
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "badge", System: "coins", Kind: gamify.TriggerAchievement, Achievement: "xp5", Points: gamify.AmountFromInt(15)})
	require.NoError(t, err)
	mustLevels(t, eng, "coins",
		gamify.Level{Key: "bronze", Level: 1, Name: "Bronze"},
		gamify.Level{Key: "silver", Level: 2, Name: "Silver", Threshold: gamify.AmountFromInt(10), Multiplier: gamify.AmountFromInt(2)},
		gamify.Level{Key: "gold", Level: 3, Name: "Gold", Threshold: gamify.AmountFromInt(20), Multiplier: gamify.AmountFromInt(3)})
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	up, err := eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "bronze", up.Level)

	// The achievement (applied first) pays 15 at bronze → 16, silver; the
	// metric's 4 are paid at bronze's multiplier too (none) → 20, gold.
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 4})
	require.NoError(t, err)
	require.Len(t, r.Points, 1)
	pc := r.Points[0]
	require.Equal(t, []string{"coins/badge", "coins/per1"}, awardTriggers(r.Points))
	for _, a := range pc.Awards {
		require.Empty(t, a.Boosts, "no level multiplier: the event started at bronze")
	}
	require.Equal(t, "19", pc.Added.String())
	require.Equal(t, "20", pc.Total.String())
	require.Equal(t, &gamify.LevelChange{From: "bronze", To: "gold", Promotion: true}, pc.Level)
	up, err = eng.Users().Points(ctx, "ana", "coins")
	require.NoError(t, err)
	require.Equal(t, "gold", up.Level)
	require.Equal(t, "20", up.Total.String())

	// The next event starts at gold: its award is tripled.
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, "3", r.Points[0].Added.String())
	require.Nil(t, r.Points[0].Level)
}

// Without multipliers too, two promotions in one event are one change from
// the level before the event to the level after it.
func TestOneEventTwoLevelsReportsOneChange(t *testing.T) {
	ctx := context.Background()
	eng := pointsEngine(t, perUnits("per1", "xp", 1, 1))
	_, err := eng.Achievements().Create(ctx, ach("xp5", gamify.AchievementMetric, threshold(5)))
	require.NoError(t, err)
	_, err = eng.Points().Triggers().Create(ctx, gamify.Trigger{Key: "badge", System: "coins", Kind: gamify.TriggerAchievement, Achievement: "xp5", Points: gamify.AmountFromInt(15)})
	require.NoError(t, err)
	mustLevels(t, eng, "coins",
		gamify.Level{Key: "bronze", Level: 1, Name: "Bronze"},
		gamify.Level{Key: "silver", Level: 2, Name: "Silver", Threshold: gamify.AmountFromInt(10)},
		gamify.Level{Key: "gold", Level: 3, Name: "Gold", Threshold: gamify.AmountFromInt(20)})
	r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Equal(t, &gamify.LevelChange{From: "", To: "bronze", Promotion: true}, r.Points[0].Level, "a new user is placed")
	r, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 4})
	require.NoError(t, err)
	require.Equal(t, "20", r.Points[0].Total.String())
	require.Equal(t, &gamify.LevelChange{From: "bronze", To: "gold", Promotion: true}, r.Points[0].Level)
}

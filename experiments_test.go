package gamify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// noteTypes counts the outbox entries about user by type.
func noteTypes(t *testing.T, eng *gamify.Engine, user string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, e := range readAll(t, eng, 0) {
		if e.Notification.UserID() == user {
			out[e.Type]++
		}
	}
	return out
}

func TestControlRatioIsDeterministicAndProportional(t *testing.T) {
	ctx := context.Background()
	const n, ratio = 10_000, 0.2
	a := openTest(t, &gamify.Options{ControlRatio: ratio})
	b := openTest(t, &gamify.Options{ControlRatio: ratio})
	mustMetric(t, a.Engine, "xp")
	events := make([]gamify.Event, 0, 1000)
	inA := map[string]bool{}
	for i := range n {
		events = append(events, gamify.Event{Metric: "xp", User: fmt.Sprintf("player-%d", i), Value: 1})
		if len(events) == 1000 {
			_, err := a.TrackBatch(ctx, events)
			require.NoError(t, err)
			events = events[:0]
		}
	}
	control := 0
	for i := range n {
		id := fmt.Sprintf("player-%d", i)
		u, err := a.Users().Get(ctx, id)
		require.NoError(t, err)
		inA[id] = u.Control
		if u.Control {
			control++
		}
	}
	// Binomial(10k, 0.2): sd 40; ±300 is 7.5 sd.
	require.InDelta(t, ratio*n, control, 300, "share of new users in the control group")
	require.Greater(t, control, 0)

	// The same ids land in the same groups in another engine, created the
	// other way (Create rather than an event) and in another order.
	for i := n - 1; i >= n-500; i-- {
		id := fmt.Sprintf("player-%d", i)
		u, err := b.Users().Create(ctx, gamify.UserInput{ID: id})
		require.NoError(t, err)
		require.Equal(t, inA[id], u.Control, id)
	}
	// Without a ratio nobody is in the control group.
	c := openTest(t, nil)
	for i := range 200 {
		u, err := c.Users().Create(ctx, gamify.UserInput{ID: fmt.Sprintf("player-%d", i)})
		require.NoError(t, err)
		require.False(t, u.Control)
	}
	_, err := gamify.Open(t.TempDir()+"/bad.db", &gamify.Options{ControlRatio: 1.5})
	requireField(t, err, "Options.ControlRatio")
}

func TestControlFlagIsSetByInputAndKept(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, &gamify.Options{ControlRatio: 1})
	yes, no := true, false
	u, err := eng.Users().Create(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	require.True(t, u.Control, "ratio 1: every new user")
	u, err = eng.Users().Create(ctx, gamify.UserInput{ID: "bob", Control: &no})
	require.NoError(t, err)
	require.False(t, u.Control, "the input wins over the ratio")
	u, err = eng.Users().Update(ctx, gamify.UserInput{ID: "bob", Name: "Bob"})
	require.NoError(t, err)
	require.False(t, u.Control, "nil keeps the flag")
	u, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "bob", Control: &yes})
	require.NoError(t, err)
	require.True(t, u.Control)
	mustMetric(t, eng.Engine, "xp")
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Profile: &gamify.UserInput{Control: &no}})
	require.NoError(t, err)
	eng.reopen(t)
	for id, want := range map[string]bool{"ana": false, "bob": true} {
		u, err := eng.Users().Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, u.Control, id)
	}
}

func TestControlUsersGetNoOutboundNotifications(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	outboxSetup(t, eng.Engine) // xp5 achievement, coins per xp, daily streak
	yes := true
	_, err := eng.Users().Create(ctx, gamify.UserInput{ID: "ctl", Control: &yes})
	require.NoError(t, err)
	for _, id := range []string{"ctl", "ana"} {
		r, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: id, Value: 6})
		require.NoError(t, err)
		require.Len(t, r.Achievements, 1, "%s: tracked as usual", id)
	}
	achs, err := eng.Achievements().User(ctx, "ctl", false)
	require.NoError(t, err)
	require.NotEmpty(t, achs)
	ana, ctl := noteTypes(t, eng.Engine, "ana"), noteTypes(t, eng.Engine, "ctl")
	require.Equal(t, 1, ana["AchievementCompleted"])
	require.Zero(t, ctl["AchievementCompleted"], "outbound: not sent to the control group")
	for _, typ := range []string{"PointsChanged", "StreakChanged"} {
		require.Equal(t, ana[typ], ctl[typ], "%s is a change record: kept for the control group", typ)
		require.NotZero(t, ctl[typ], typ)
	}
}

func TestStreakOptOut(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	outboxSetup(t, eng.Engine)
	for _, id := range []string{"out", "ana"} {
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: id, Value: 1})
		require.NoError(t, err)
	}
	_, err := eng.Users().PatchPreferences(ctx, "out", func(p *gamify.Preferences) { p.Streak.OptOut = true })
	require.NoError(t, err)
	before := noteTypes(t, eng.Engine, "out")
	for day := range 3 {
		eng.clock.Set(t0.Add(time.Duration(day+1) * 24 * time.Hour))
		for _, id := range []string{"out", "ana"} {
			_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: id, Value: 1})
			require.NoError(t, err)
		}
		_, err := eng.RunDue(ctx)
		require.NoError(t, err)
	}
	eng.clock.Set(t0.Add(6 * 24 * time.Hour)) // ana's streak is lost meanwhile
	_, err = eng.RunDue(ctx)
	require.NoError(t, err)
	s, err := eng.Users().Streak(ctx, "out", "daily")
	require.NoError(t, err)
	require.Zero(t, s.Length)
	all, err := eng.Users().Streaks(ctx, "out")
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Zero(t, all[0].Length)
	hist, err := eng.Users().StreakHistory(ctx, "out", "daily", 5)
	require.NoError(t, err)
	for _, p := range hist {
		require.False(t, p.Met, "history reads empty too")
	}
	after := noteTypes(t, eng.Engine, "out")
	for _, typ := range []string{"StreakChanged", "StreakLengthChanged", "StreakMilestoneReached"} {
		require.Equal(t, before[typ], after[typ], "%s after opting out", typ)
	}
	require.Greater(t, after["PointsChanged"], before["PointsChanged"], "points still tracked")
	ana := noteTypes(t, eng.Engine, "ana")
	require.Greater(t, ana["StreakChanged"], before["StreakChanged"], "the other user's streak goes on")

	// Opting back in counts again from the next event.
	_, err = eng.Users().PatchPreferences(ctx, "out", func(p *gamify.Preferences) { p.Streak.OptOut = false })
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "out", Value: 1})
	require.NoError(t, err)
	s, err = eng.Users().Streak(ctx, "out", "daily")
	require.NoError(t, err)
	require.Equal(t, 1, s.Length)
}

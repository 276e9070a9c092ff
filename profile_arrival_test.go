package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestLateProfileDoesNotUndoANewerChange: an event's Profile values belong
// to the event's time, so a late event's older value does not undo a newer
// change (an offline device syncing "plan: free" after the user upgraded),
// whatever the order the events arrive in; a call made now always applies.
func TestLateProfileDoesNotUndoANewerChange(t *testing.T) {
	ctx := context.Background()
	plans := map[string]string{}
	for _, newestFirst := range []bool{false, true} {
		te := openTest(t, nil)
		mustMetric(t, te.Engine, "xp")
		mustUserAttributes(t, te.Engine, "plan")
		te.clock.Set(t0.Add(24 * time.Hour))
		evs := []gamify.Event{
			{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(time.Hour), Profile: &gamify.UserInput{Name: "Ann", Attributes: map[string]string{"plan": "free"}}},
			{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(5 * time.Hour), Profile: &gamify.UserInput{Name: "Ana", Attributes: map[string]string{"plan": "pro"}}},
		}
		if newestFirst {
			evs[0], evs[1] = evs[1], evs[0]
		}
		for _, ev := range evs {
			_, err := te.Track(ctx, ev)
			require.NoError(t, err)
		}
		u, err := te.Users().Get(ctx, "ana")
		require.NoError(t, err)
		plans[map[bool]string{false: "in order", true: "newest first"}[newestFirst]] = u.Attributes["plan"] + "/" + u.Name

		// A call is made now: it applies over any event's value.
		_, err = te.Users().Identify(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"plan": "team"}})
		require.NoError(t, err)
		_, err = te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(20 * time.Hour),
			Profile: &gamify.UserInput{Attributes: map[string]string{"plan": "pro"}}})
		require.NoError(t, err)
		u, err = te.Users().Get(ctx, "ana")
		require.NoError(t, err)
		require.Equal(t, "team", u.Attributes["plan"], "an event dated before the call's change")
		te.reopen(t)
		_, err = te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(23 * time.Hour),
			Profile: &gamify.UserInput{Attributes: map[string]string{"plan": "free"}}})
		require.NoError(t, err)
		u, err = te.Users().Get(ctx, "ana")
		require.NoError(t, err)
		require.Equal(t, "team", u.Attributes["plan"], "after a reopen too")
	}
	require.Equal(t, map[string]string{"in order": "pro/Ana", "newest first": "pro/Ana"}, plans)
}

// TestLateProfileAfterAnonymizeIsIgnored: a late event dated before
// Anonymize does not put personal data back, in any field.
func TestLateProfileAfterAnonymizeIsIgnored(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	mustUserAttributes(t, te.Engine, "plan", "city")
	_, err := te.Users().Identify(ctx, gamify.UserInput{ID: "ana", Name: "Ana", Attributes: map[string]string{"plan": "pro"}})
	require.NoError(t, err)
	te.clock.Set(t0.Add(2 * time.Hour))
	_, err = te.Users().Anonymize(ctx, "ana")
	require.NoError(t, err)
	_, err = te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(time.Hour),
		Profile: &gamify.UserInput{Name: "Ana Late", TZ: "Europe/Paris", Attributes: map[string]string{"plan": "pro", "city": "Lyon"}}})
	require.NoError(t, err)
	u, err := te.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Empty(t, u.Name)
	require.Empty(t, u.TZ)
	require.Empty(t, u.Attributes)
	// An event dated after the Anonymize is a new profile.
	_, err = te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(2*time.Hour + time.Minute),
		Profile: &gamify.UserInput{Name: "Ana again"}})
	require.NoError(t, err)
	u, err = te.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, "Ana again", u.Name)
}

// TestProfileSentAgainUnchangedHoldsAgainstAnOlderValue: the plan changed
// to pro at 1h, an online device sent pro again at 5h, and an offline
// device's event of 3h said free. In order the user ends on pro (free held
// from 3h to 5h); so does any other order: the value sent again at 5h
// holds against the late 3h event as a change at 5h would, also after a
// reopen. Sending a value again does not rewrite the profile (Updated
// stays).
func TestProfileSentAgainUnchangedHoldsAgainstAnOlderValue(t *testing.T) {
	ctx := context.Background()
	ev := func(h int, plan string, tz string) gamify.Event {
		return gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(time.Duration(h) * time.Hour),
			Profile: &gamify.UserInput{TZ: tz, Attributes: map[string]string{"plan": plan}}}
	}
	orders := map[string][]int{"in order": {0, 1, 2}, "late last": {0, 2, 1}, "newest first": {2, 1, 0}, "late first": {1, 0, 2}}
	got := map[string]string{}
	for name, order := range orders {
		te := openTest(t, nil)
		mustMetric(t, te.Engine, "xp")
		mustUserAttributes(t, te.Engine, "plan")
		te.clock.Set(t0.Add(24 * time.Hour))
		evs := []gamify.Event{ev(1, "pro", "Europe/Paris"), ev(3, "free", "America/New_York"), ev(5, "pro", "Europe/Paris")}
		for i, k := range order {
			if name == "late last" && i == 2 {
				te.reopen(t) // the seen values are stored
			}
			_, err := te.Track(ctx, evs[k])
			require.NoError(t, err)
		}
		u, err := te.Users().Get(ctx, "ana")
		require.NoError(t, err)
		got[name] = u.Attributes["plan"] + " " + u.TZ
	}
	for name := range orders {
		require.Equal(t, "pro Europe/Paris", got[name], name)
	}

	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	mustUserAttributes(t, te.Engine, "plan")
	te.clock.Set(t0.Add(24 * time.Hour))
	_, err := te.Track(ctx, ev(1, "pro", "Europe/Paris"))
	require.NoError(t, err)
	before, err := te.Users().Get(ctx, "ana")
	require.NoError(t, err)
	te.clock.Advance(time.Minute)
	_, err = te.Track(ctx, ev(5, "pro", "Europe/Paris"))
	require.NoError(t, err)
	after, err := te.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, before.Updated, after.Updated, "nothing of the profile changed")
}

// An Identify that sends a field's value again unchanged is a call made
// now: per behaviour.md a field "last sent again unchanged at a later time
// keeps its value", so a late event's older different value must not undo
// it. In order (pro at 1h, free at 3h, Identify pro at 5h) the user is on
// pro; with the 3h event arriving after the Identify it ends on free.
func TestIdentifySameValueHoldsAgainstALateOlderValue(t *testing.T) {
	ctx := context.Background()
	run := func(lateLast bool) string {
		te := openTest(t, nil)
		mustMetric(t, te.Engine, "xp")
		mustUserAttributes(t, te.Engine, "plan")
		ev := func(h int, plan string) {
			_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: t0.Add(time.Duration(h) * time.Hour),
				Profile: &gamify.UserInput{Attributes: map[string]string{"plan": plan}}})
			require.NoError(t, err)
		}
		identify := func() {
			_, err := te.Users().Identify(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"plan": "pro"}})
			require.NoError(t, err)
		}
		te.clock.Set(t0.Add(time.Hour))
		ev(1, "pro")
		if !lateLast {
			te.clock.Set(t0.Add(3 * time.Hour))
			ev(3, "free")
			te.clock.Set(t0.Add(5 * time.Hour))
			identify()
		} else {
			te.clock.Set(t0.Add(5 * time.Hour))
			identify()
			te.clock.Set(t0.Add(6 * time.Hour))
			ev(3, "free") // the offline device syncs late
		}
		u, err := te.Users().Get(ctx, "ana")
		require.NoError(t, err)
		return u.Attributes["plan"]
	}
	require.Equal(t, "pro", run(false))
	require.Equal(t, "pro", run(true), "the Identify at 5h sent pro again: the 3h event's older value must not undo it")
}

// A call made now overrides what an event dated ahead (within
// MaxClockSkew) left, a value it sent again unchanged included: an on-time
// event after the Identify applies.
func TestIdentifyOverridesAnAheadDatedRepeat(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	mustUserAttributes(t, te.Engine, "plan")
	now := t0.Add(10 * time.Hour)
	te.clock.Set(now)
	track := func(at time.Time, plan string) {
		_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: at,
			Profile: &gamify.UserInput{Attributes: map[string]string{"plan": plan}}})
		require.NoError(t, err)
	}
	track(now, "pro")
	track(now.Add(4*time.Minute), "pro") // dated ahead, sent again unchanged
	_, err := te.Users().Identify(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"plan": "free"}})
	require.NoError(t, err)
	te.clock.Set(now.Add(2 * time.Minute))
	track(now.Add(2*time.Minute), "pro") // on time, after the Identify
	u, err := te.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, "pro", u.Attributes["plan"], "the event after the Identify changes the plan, as it would without the ahead-dated repeat")
}

// The same when the event dated ahead changed the value.
func TestIdentifyOverridesAnAheadDatedChange(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	mustUserAttributes(t, te.Engine, "plan")
	now := t0.Add(10 * time.Hour)
	te.clock.Set(now)
	track := func(at time.Time, plan string) {
		_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: at,
			Profile: &gamify.UserInput{Attributes: map[string]string{"plan": plan}}})
		require.NoError(t, err)
	}
	track(now.Add(4*time.Minute), "pro") // dated ahead: a change
	_, err := te.Users().Identify(ctx, gamify.UserInput{ID: "ana", Attributes: map[string]string{"plan": "free"}})
	require.NoError(t, err)
	te.clock.Set(now.Add(2 * time.Minute))
	track(now.Add(2*time.Minute), "pro")
	u, err := te.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, "pro", u.Attributes["plan"])
}

// The same with Anonymize: an event dated after the Anonymize is a new
// profile, whatever an event dated ahead sent again before it.
func TestAnonymizeOverridesAnAheadDatedRepeat(t *testing.T) {
	ctx := context.Background()
	te := openTest(t, nil)
	mustMetric(t, te.Engine, "xp")
	mustUserAttributes(t, te.Engine, "plan")
	now := t0.Add(10 * time.Hour)
	te.clock.Set(now)
	track := func(at time.Time, plan string) {
		_, err := te.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1, Time: at,
			Profile: &gamify.UserInput{Attributes: map[string]string{"plan": plan}}})
		require.NoError(t, err)
	}
	track(now, "pro")
	track(now.Add(4*time.Minute), "pro") // dated ahead, sent again unchanged
	_, err := te.Users().Anonymize(ctx, "ana")
	require.NoError(t, err)
	te.clock.Set(now.Add(2 * time.Minute))
	track(now.Add(2*time.Minute), "pro") // on time, after the Anonymize
	u, err := te.Users().Get(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, "pro", u.Attributes["plan"], "an event dated after the Anonymize is a new profile")
}

package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestChallengeInactiveByEventTime: whether a challenge was inactive is
// judged at the event's time, not at its arrival. The challenges "week"
// (automatic, fixed) and "ex" (explicit, perpetual) are inactive over
// [t1, t2). An engine that gets the events late must count what one that
// got them on time counts: an event dated before t1 that arrives while the
// challenge is inactive counts, one dated inside [t1, t2) that arrives after
// t2 does not. The intervals survive Close/Open and a replay of the command
// log.
func TestChallengeInactiveByEventTime(t *testing.T) {
	ctx := context.Background()
	t1, t2 := t0.Add(10*time.Hour), t0.Add(20*time.Hour)
	before, inside, after := t0.Add(5*time.Hour), t0.Add(15*time.Hour), t0.Add(25*time.Hour)
	setup := func() *testEngine {
		// An hour between checkpoints keeps the command log for the replay.
		eng := challengeEngine(t, &gamify.Options{CheckpointInterval: time.Hour})
		mustChallenge(t, eng, weekChallenge())
		mustChallenge(t, eng, gamify.Challenge{Key: "ex", Name: "Explicit", Window: gamify.ChallengePerpetual,
			Objectives: []gamify.ChallengeObjective{{Key: "lessons", Metric: "lessons", Count: gamify.ChallengeCountEvents, Target: chAmt(10)}}})
		_, err := eng.Challenges().Enroll(ctx, "ex", "ana")
		require.NoError(t, err)
		return eng
	}
	setStatus := func(eng *testEngine, at time.Time, active bool) {
		eng.clock.Set(at)
		for _, key := range []string{"week", "ex"} {
			var err error
			if active {
				_, err = eng.Challenges().Activate(ctx, key)
			} else {
				_, err = eng.Challenges().Deactivate(ctx, key)
			}
			require.NoError(t, err)
		}
	}
	trackAt := func(eng *testEngine, now, at time.Time) gamify.EventResult {
		eng.clock.Set(now)
		return track(t, eng, lessonAt("ana", at))
	}

	onTime := setup()
	require.Len(t, trackAt(onTime, before, before).Challenges, 2)
	setStatus(onTime, t1, false)
	require.Empty(t, trackAt(onTime, inside, inside).Challenges)
	setStatus(onTime, t2, true)
	require.Len(t, trackAt(onTime, after, after).Challenges, 2)

	late := setup()
	setStatus(late, t1, false)
	r := trackAt(late, inside, before)
	require.Len(t, r.Challenges, 2, "dated while active, arriving while inactive: counts")
	require.True(t, r.Challenges[0].Enrolled, "and enrolls in the automatic challenge")
	setStatus(late, t2, true)
	require.Empty(t, trackAt(late, after.Add(time.Hour), inside).Challenges, "dated while inactive, arriving after: does not count")
	require.Len(t, trackAt(late, after.Add(time.Hour), after).Challenges, 2)

	for _, key := range []string{"week", "ex"} {
		want := progressOf(t, onTime, key, "ana")
		require.Equal(t, chAmt(2), want.Objectives[0].Progress, key)
		require.Equal(t, want, progressOf(t, late, key, "ana"), key)
	}

	// A replay of the command log gives the same store (with the setup's
	// pending jobs run first, as the replica would run them).
	_, err := late.RunDue(ctx)
	require.NoError(t, err)
	require.NoError(t, late.Flush(ctx))
	require.NoError(t, gamify.Checkpoint(late.Engine))
	want := gamify.DumpStore(late.Engine)
	replica := openReplica(t, late)
	require.NoError(t, gamify.Checkpoint(replica.Engine))
	requireSameStore(t, want, gamify.DumpStore(replica.Engine), "replica")
	require.Empty(t, trackAt(replica, after.Add(2*time.Hour), inside).Challenges, "the replica keeps the intervals")
	require.Len(t, trackAt(replica, after.Add(2*time.Hour), after).Challenges, 2)

	// The intervals survive Close/Open.
	late.reopen(t)
	require.Empty(t, trackAt(late, after.Add(2*time.Hour), t1).Challenges, "t1 is inside [t1, t2)")
	require.Len(t, trackAt(late, after.Add(2*time.Hour), t2).Challenges, 2, "t2 is not")
	require.Equal(t, chAmt(3), progressOf(t, late, "ex", "ana").Objectives[0].Progress)
}

// TestChallengeCreatedInactive: a challenge created inactive was inactive
// since ever, so an event dated before its first activation never counts,
// however late it arrives, not even one dated before its creation inside
// its window (gamify import relies on it); Enroll while inactive is
// ErrConflict.
func TestChallengeCreatedInactive(t *testing.T) {
	ctx := context.Background()
	eng := challengeEngine(t, nil)
	c := weekChallenge()
	c.Start, c.Status = t0.Add(-24*time.Hour), gamify.StatusInactive
	mustChallenge(t, eng, c)
	_, err := eng.Challenges().Enroll(ctx, "week", "ana")
	require.ErrorIs(t, err, gamify.ErrConflict)
	eng.clock.Set(t0.Add(10 * time.Hour))
	_, err = eng.Challenges().Activate(ctx, "week")
	require.NoError(t, err)
	eng.clock.Set(t0.Add(11 * time.Hour))
	require.Empty(t, track(t, eng, lessonAt("ana", t0.Add(-time.Hour))).Challenges, "before the creation")
	require.Empty(t, track(t, eng, lessonAt("ana", t0.Add(5*time.Hour))).Challenges, "before the activation")
	require.Len(t, track(t, eng, lessonAt("ana", t0.Add(10*time.Hour))).Challenges, 1)
	require.Equal(t, chAmt(1), progressOf(t, eng, "week", "ana").Objectives[0].Progress)
}

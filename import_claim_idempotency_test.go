package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// ImportClaim's key does not expire at lookup as a claim's does under
// Options.IdempotencyWindow: the same import run again after the window (a
// re-run the next day) stores the payout's claim once.
func TestImportClaimAgainAfterIdempotencyWindowStoresNothing(t *testing.T) {
	ctx := context.Background()
	amt := gamify.AmountFromInt
	game := gamify.Game{
		Points:  []gamify.PointsSystem{{Key: "pts", Name: "Points"}},
		Rewards: []gamify.Reward{{Key: "mug", Name: "Mug", Type: gamify.RewardPhysical, Cost: amt(1), System: "pts", PerUserLimit: 5}},
		Challenges: []gamify.Challenge{{Key: "trip", Name: "Trip", Window: gamify.ChallengePerpetual, Enrollment: gamify.ChallengeAutomatic,
			Objectives: []gamify.ChallengeObjective{{Key: "earn", Metric: "xp", Target: amt(10)}},
			Milestones: []gamify.ChallengeMilestone{{Objective: "earn", Pay: gamify.ChallengePayout{Reward: "mug"}}}}},
	}
	open := func(o *gamify.Options) *testEngine {
		eng := openTest(t, o)
		mustMetric(t, eng.Engine, "xp")
		_, err := eng.Apply(ctx, game)
		require.NoError(t, err)
		return eng
	}
	src, dst := open(nil), open(&gamify.Options{IdempotencyWindow: time.Hour})
	_, err := src.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 12})
	require.NoError(t, err)
	claims, err := src.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	require.Len(t, claims, 1)
	c := claims[0]
	c.IdempotencyKey = "import-1"
	p, err := src.Challenges().Progress(ctx, "trip", "ana")
	require.NoError(t, err)
	_, err = dst.Users().Create(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	n, err := dst.Challenges().Import(ctx, "trip", "ana", p)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = dst.Challenges().ImportClaim(ctx, "trip", "ana", c)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	dst.clock.Advance(2 * time.Hour)
	n, err = dst.Challenges().ImportClaim(ctx, "trip", "ana", c)
	require.NoError(t, err)
	held, err := dst.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	require.Zero(t, n, "the same key again stores 0 (claims held: %d)", len(held))
	require.Len(t, held, 1)
}

package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestChallengeImport imports a participation read from one engine into
// another: the reads agree, nothing is paid, a second import changes
// nothing, and a participation the challenge could not give is refused.
func TestChallengeImport(t *testing.T) {
	ctx := context.Background()
	amt := gamify.AmountFromInt
	ch := gamify.Challenge{Key: "trip", Name: "Trip", Window: gamify.ChallengeRolling, Days: 3, Enrollment: gamify.ChallengeAutomatic,
		Objectives: []gamify.ChallengeObjective{{Key: "earn", Metric: "xp", Target: amt(10)},
			{Key: "again", Metric: "xp", Count: gamify.ChallengeCountEvents, Target: amt(3), Prerequisites: []string{"earn"}}},
		Milestones: []gamify.ChallengeMilestone{{Objective: "earn", Pay: gamify.ChallengePayout{System: "pts", Points: amt(5)}}}}
	open := func() *testEngine {
		eng := openTest(t, nil)
		mustMetric(t, eng.Engine, "xp")
		_, err := eng.Apply(ctx, gamify.Game{Points: []gamify.PointsSystem{{Key: "pts", Name: "Points"}}, Challenges: []gamify.Challenge{ch}})
		require.NoError(t, err)
		return eng
	}
	src, dst := open(), open()
	for _, v := range []float64{4, 8} {
		_, err := src.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: v})
		require.NoError(t, err)
	}
	p, err := src.Challenges().Progress(ctx, "trip", "ana")
	require.NoError(t, err)
	require.Equal(t, []int{0}, p.Milestones)

	_, err = dst.Challenges().Import(ctx, "trip", "ana", p)
	require.ErrorIs(t, err, gamify.ErrNotFound, "an unknown user")
	_, err = dst.Users().Create(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	for field, edit := range map[string]func(*gamify.ChallengeProgress){
		"ChallengeProgress.User":                   func(p *gamify.ChallengeProgress) { p.User = "bo" },
		"ChallengeProgress.WindowEnd":              func(p *gamify.ChallengeProgress) { p.WindowEnd = p.WindowEnd.Add(time.Hour) },
		"ChallengeProgress.Objectives[1].Progress": func(p *gamify.ChallengeProgress) { p.Objectives[1].Progress = amt(4) },
		"ChallengeProgress.Milestones[0]":          func(p *gamify.ChallengeProgress) { p.Objectives[0].Progress = amt(9) },
		"ChallengeProgress.CompletedAt":            func(p *gamify.ChallengeProgress) { p.CompletedAt = p.EnrolledAt },
		"ChallengeProgress.Complete":               func(p *gamify.ChallengeProgress) { p.Complete = 2 },
		"ChallengeProgress.Objectives[0].Key":      func(p *gamify.ChallengeProgress) { p.Objectives[0].Target = amt(20) },
		"ChallengeProgress.Objectives":             func(p *gamify.ChallengeProgress) { p.Objectives = p.Objectives[:1] },
		"ChallengeProgress.EnrolledAt":             func(p *gamify.ChallengeProgress) { p.EnrolledAt = p.EnrolledAt.AddDate(400, 0, 0) },
	} {
		bad := p
		bad.Objectives = append([]gamify.ObjectiveProgress{}, p.Objectives...)
		edit(&bad)
		_, err := dst.Challenges().Import(ctx, "trip", "ana", bad)
		requireField(t, err, field)
	}
	ps, err := dst.Challenges().User(ctx, "ana")
	require.NoError(t, err)
	require.Empty(t, ps, "a refused import stores nothing")

	n, err := dst.Challenges().Import(ctx, "trip", "ana", p)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err := dst.Challenges().Progress(ctx, "trip", "ana")
	require.NoError(t, err)
	require.Equal(t, p, got)
	st, err := dst.Challenges().Stats(ctx, "trip")
	require.NoError(t, err)
	require.Equal(t, gamify.ChallengeStats{Challenge: "trip", Participants: 1, Objectives: []gamify.ChallengeObjectiveCount{{Key: "earn", Completed: 1}, {Key: "again"}},
		Milestones: []gamify.ChallengeMilestoneCount{{Index: 0, Paid: 1}}}, st)
	up, err := dst.Users().Points(ctx, "ana", "pts")
	require.NoError(t, err)
	require.True(t, up.Total.IsZero(), "an import pays nothing")

	n, err = dst.Challenges().Import(ctx, "trip", "ana", p)
	require.NoError(t, err)
	require.Zero(t, n, "the same participation again changes nothing")
	other := p
	other.Objectives = append([]gamify.ObjectiveProgress{}, p.Objectives...)
	other.Objectives[1].Progress = amt(1)
	_, err = dst.Challenges().Import(ctx, "trip", "ana", other)
	require.ErrorIs(t, err, gamify.ErrConflict)

	// The imported participation goes on counting: the milestone is not paid again.
	for range 2 {
		_, err = dst.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
		require.NoError(t, err)
	}
	got, err = dst.Challenges().Progress(ctx, "trip", "ana")
	require.NoError(t, err)
	require.False(t, got.CompletedAt.IsZero())
	up, err = dst.Users().Points(ctx, "ana", "pts")
	require.NoError(t, err)
	require.True(t, up.Total.IsZero())
	dst.reopen(t)
	got2, err := dst.Challenges().Progress(ctx, "trip", "ana")
	require.NoError(t, err)
	require.Equal(t, got, got2, "the import replays from the log")
	require.NoError(t, dst.Check(ctx))
}

// TestChallengeImportClaim imports the claim a challenge milestone's
// payout made: refused with the field named and nothing stored when it is
// not a payout the imported participation paid; stored free, counted
// toward PerUserLimit, once per key, and kept across a reopen.
func TestChallengeImportClaim(t *testing.T) {
	ctx := context.Background()
	amt := gamify.AmountFromInt
	game := gamify.Game{
		Points:  []gamify.PointsSystem{{Key: "pts", Name: "Points"}},
		Rewards: []gamify.Reward{{Key: "mug", Name: "Mug", Type: gamify.RewardPhysical, Cost: amt(1), System: "pts", PerUserLimit: 1}},
		Challenges: []gamify.Challenge{{Key: "trip", Name: "Trip", Window: gamify.ChallengePerpetual, Enrollment: gamify.ChallengeAutomatic,
			Objectives: []gamify.ChallengeObjective{{Key: "earn", Metric: "xp", Target: amt(10)}, {Key: "more", Metric: "xp", Target: amt(20)}},
			Milestones: []gamify.ChallengeMilestone{{Objective: "earn", Pay: gamify.ChallengePayout{Reward: "mug"}},
				{Objective: "more", Pay: gamify.ChallengePayout{Reward: "mug"}}}}},
	}
	open := func() *testEngine {
		eng := openTest(t, &gamify.Options{CheckpointInterval: time.Hour})
		mustMetric(t, eng.Engine, "xp")
		_, err := eng.Apply(ctx, game)
		require.NoError(t, err)
		return eng
	}
	src, dst := open(), open()
	_, err := src.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 12})
	require.NoError(t, err)
	claims, err := src.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	require.Len(t, claims, 1)
	c := claims[0]
	require.Equal(t, "challenge trip milestone 0", c.Payout, "a payout's claim names it")
	require.True(t, c.Cost.IsZero())
	p, err := src.Challenges().Progress(ctx, "trip", "ana")
	require.NoError(t, err)

	c.IdempotencyKey = "import-1"
	_, err = dst.Challenges().ImportClaim(ctx, "trip", "ana", c)
	require.ErrorIs(t, err, gamify.ErrNotFound, "an unknown user")
	_, err = dst.Users().Create(ctx, gamify.UserInput{ID: "ana"})
	require.NoError(t, err)
	_, err = dst.Challenges().ImportClaim(ctx, "trip", "ana", c)
	requireField(t, err, "Claim.Payout") // before the participation that paid it
	n, err := dst.Challenges().Import(ctx, "trip", "ana", p)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	for field, edit := range map[string]func(*gamify.Claim){
		"Claim.IdempotencyKey": func(c *gamify.Claim) { c.IdempotencyKey = "" },
		"Claim.Cost":           func(c *gamify.Claim) { c.Cost = amt(1) },
		"Claim.Reward":         func(c *gamify.Claim) { c.Reward = "no such" },
		"Claim.Payout":         func(c *gamify.Claim) { c.Payout = "challenge trip milestone 1" }, // not reached
	} {
		bad := c
		edit(&bad)
		_, err := dst.Challenges().ImportClaim(ctx, "trip", "ana", bad)
		requireField(t, err, field)
	}
	_, err = dst.Challenges().ImportClaim(ctx, "nope", "ana", c)
	require.ErrorIs(t, err, gamify.ErrNotFound)
	held, err := dst.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	require.Empty(t, held, "a refused import stores nothing")

	n, err = dst.Challenges().ImportClaim(ctx, "trip", "ana", c)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = dst.Challenges().ImportClaim(ctx, "trip", "ana", c)
	require.NoError(t, err)
	require.Zero(t, n, "the same key again changes nothing")
	_, err = dst.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "ana", IdempotencyKey: "import-1"})
	require.ErrorIs(t, err, gamify.ErrConflict, "the key was an import's")
	_, err = dst.Points().Award(ctx, gamify.PointsEntry{System: "pts", User: "ana", Amount: amt(5)})
	require.NoError(t, err)
	_, err = dst.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "ana"})
	require.ErrorIs(t, err, gamify.ErrConflict, "the imported claim fills the limit of 1")

	replica := replayed(t, dst)
	again, err := replica.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	dst.reopen(t)
	held, err = dst.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	require.Equal(t, held, again, "the import replays from the log")
	require.Len(t, held, 1)
	require.Equal(t, []any{"mug", "challenge trip milestone 0", true}, []any{held[0].Reward, held[0].Payout, held[0].Cost.IsZero()})
	// A late event reaching the second milestone pays it, and only it.
	dst.clock.Advance(2 * time.Hour)
	_, err = dst.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 10, Time: t0.Add(time.Hour)})
	require.NoError(t, err)
	held, err = dst.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	var payouts []string
	for _, c := range held {
		payouts = append(payouts, c.Payout)
	}
	require.Equal(t, []string{"challenge trip milestone 1", "challenge trip milestone 0"}, payouts)
	require.NoError(t, dst.Check(ctx))
}

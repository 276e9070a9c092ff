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
	ch := gamify.Challenge{Key: "trip", Name: "Trip", Window: gamify.ChallengeRolling, Days: 3, Enrolment: gamify.ChallengeAutomatic,
		Objectives: []gamify.ChallengeObjective{{Key: "earn", Metric: "xp", Target: amt(10)},
			{Key: "again", Metric: "xp", Count: gamify.ChallengeCountEvents, Target: amt(3), After: []string{"earn"}}},
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
	} {
		bad := p
		bad.Objectives = append([]gamify.ObjectiveProgress{}, p.Objectives...)
		edit(&bad)
		_, err := dst.Challenges().Import(ctx, "trip", "ana", bad)
		requireField(t, err, field)
	}
	ps, err := dst.Challenges().OfUser(ctx, "ana")
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
	require.Equal(t, gamify.ChallengeStats{Challenge: "trip", Participants: 1, Objectives: []int{1, 0}, Milestones: []int{1}}, st)
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

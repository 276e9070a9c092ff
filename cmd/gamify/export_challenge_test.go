package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// challengeView reads every user's challenges, points and achievements,
// and each challenge's definition and stats, with a fixed clock.
func challengeView(t *testing.T, path string, at time.Time) map[string]any {
	t.Helper()
	ctx := context.Background()
	eng := openChecked(t, path, at)
	defer eng.Close()
	out := map[string]any{}
	for _, u := range []string{"ana", "bo"} {
		ps, err := eng.Challenges().User(ctx, u)
		require.NoError(t, err)
		up, err := eng.Users().Points(ctx, u, "xp")
		require.NoError(t, err)
		as, err := eng.Achievements().User(ctx, u, false)
		require.NoError(t, err)
		var held []string
		for _, a := range as {
			held = append(held, a.Key)
		}
		out[u] = []any{ps, up.Total.String(), held}
	}
	for _, k := range []string{"sprint", "auto"} {
		c, err := eng.Challenges().Get(ctx, k)
		require.NoError(t, err)
		// An imported challenge is held inactive until the import's end: its
		// intervals are the import's, not the source's (docs/cli.md).
		c.Created, c.Updated, c.Inactive = time.Time{}, time.Time{}, nil
		st, err := eng.Challenges().Stats(ctx, k)
		if c.Status == gamify.StatusArchived {
			require.ErrorIs(t, err, gamify.ErrNotFound, "an archived challenge's reads are gone")
		} else {
			require.NoError(t, err)
		}
		out[k] = []any{c, st}
	}
	return out
}

// TestExportImportChallenges carries challenge definitions and every
// participation (an explicit enrollment, an automatic one counting filtered
// events, paid milestones, a completion): the reads are the same after an
// import, the payouts paid once, and a second import changes nothing.
func TestExportImportChallenges(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "chal.db")
	clock := gamify.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(src, &gamify.Options{Clock: clock})
	require.NoError(t, err)
	amt := gamify.AmountFromInt
	_, err = eng.Apply(ctx, gamify.Game{
		Attributes:   []gamify.Attribute{{Key: "source", Name: "Source", Type: gamify.EventAttribute}},
		Metrics:      []gamify.Metric{{Key: "words", Name: "Words"}},
		Points:       []gamify.PointsSystem{{Key: "xp", Name: "XP"}},
		Achievements: []gamify.Achievement{{Key: "sprinter", Name: "Sprinter", Kind: gamify.AchievementManual}},
		Challenges: []gamify.Challenge{
			{Key: "sprint", Name: "Sprint", Window: gamify.ChallengePerpetual,
				Objectives: []gamify.ChallengeObjective{{Key: "write", Metric: "words", Target: amt(10)},
					{Key: "twice", Metric: "words", Count: gamify.ChallengeCountEvents, Target: amt(2), Prerequisites: []string{"write"}}},
				Milestones: []gamify.ChallengeMilestone{{Share: 50, Pay: gamify.ChallengePayout{System: "xp", Points: amt(5)}}},
				Completion: gamify.ChallengePayout{Achievement: "sprinter", System: "xp", Points: amt(7)}},
			{Key: "auto", Name: "Auto", Window: gamify.ChallengeRolling, Days: 7, Enrollment: gamify.ChallengeAutomatic,
				Objectives: []gamify.ChallengeObjective{{Key: "app", Metric: "words", EventFilters: map[string]string{"source": "app"}, Target: amt(100)}}},
		},
	})
	require.NoError(t, err)
	for _, u := range []string{"ana", "bo"} {
		_, err = eng.Challenges().Enroll(ctx, "sprint", u)
		require.NoError(t, err)
	}
	track := func(user string, v float64, attrs map[string]string) {
		_, err := eng.Track(ctx, gamify.Event{Metric: "words", User: user, Value: v, Attributes: attrs})
		require.NoError(t, err)
	}
	clock.Advance(time.Hour)
	track("ana", 6, nil)
	track("bo", 4, map[string]string{"source": "app"})
	clock.Advance(time.Hour)
	track("ana", 5, map[string]string{"source": "app"})
	at := clock.Now()
	require.NoError(t, eng.Close())

	dir := t.TempDir()
	exp, kinds := exportKinds(t, src, dir)
	require.Equal(t, []int{2, 2}, []int{kinds["challenge"], kinds["challenges"]}, "two definitions, a line per participating user")

	dst := filepath.Join(dir, "copy.db")
	require.Equal(t, 2, importJSON(t, exp, dst).Applied["challenges"])
	want := challengeView(t, src, at)
	ana := want["ana"].([]any)
	require.Len(t, ana[0], 2, "ana takes part in both")
	require.Equal(t, "4", want["bo"].([]any)[0].([]gamify.ChallengeProgress)[0].Objectives[0].Progress.String(), "bo is half way")
	require.Equal(t, "12", ana[1], "the milestone's 5 and the completion's 7 points")
	require.Equal(t, want, challengeView(t, dst, at))

	require.Empty(t, importJSON(t, exp, dst).Applied)
	require.Equal(t, want, challengeView(t, dst, at))

	// A run cut short (no end line) leaves the challenges inactive; the
	// full run after it gives them their status.
	raw, err := os.ReadFile(exp)
	require.NoError(t, err)
	lines := strings.SplitAfter(strings.TrimSuffix(string(raw), "\n"), "\n")
	cut := filepath.Join(dir, "cut.jsonl")
	require.NoError(t, os.WriteFile(cut, []byte(strings.Join(lines[:len(lines)-1], "")), 0o600))
	again := filepath.Join(dir, "again.db")
	code, _, _ := runCmd("import", "--db", again, "--in", cut)
	require.NotEqual(t, exitOK, code, "a truncated file")
	inactive := challengeView(t, again, at)["sprint"].([]any)[0].(gamify.Challenge)
	require.Equal(t, gamify.StatusInactive, inactive.Status)
	importJSON(t, exp, again)
	require.Equal(t, want, challengeView(t, again, at))

	// A challenge archived in the database since stays archived.
	eng = openChecked(t, again, at)
	require.NoError(t, eng.Challenges().Delete(ctx, "auto"))
	require.NoError(t, eng.Close())
	importJSON(t, exp, again)
	archived := challengeView(t, again, at)["auto"].([]any)[0].(gamify.Challenge)
	require.Equal(t, gamify.StatusArchived, archived.Status)
}

// payoutView reads ana's claims (reward, cost, payout), her
// participations in every challenge, archived ones too, and whether she
// may claim the shirt again, with a fixed clock.
func payoutView(t *testing.T, path string, at time.Time) map[string]any {
	t.Helper()
	ctx := context.Background()
	eng := openChecked(t, path, at)
	defer eng.Close()
	cs, err := eng.Users().Claims(ctx, "ana")
	require.NoError(t, err)
	var claims []string
	for _, c := range cs {
		claims = append(claims, c.Reward+" "+c.Cost.String()+" "+c.Payout)
	}
	out := map[string]any{"claims": claims}
	for _, k := range []string{"trip", "old"} {
		p, err := eng.Challenges().Progress(ctx, k, "ana")
		require.NoError(t, err)
		st, err := eng.Challenges().Stats(ctx, k)
		if k == "old" {
			require.ErrorIs(t, err, gamify.ErrNotFound, "an archived challenge has no stats")
		} else {
			require.NoError(t, err)
		}
		out[k] = []any{p, st}
	}
	up, err := eng.Users().Points(ctx, "ana", "xp")
	require.NoError(t, err)
	out["xp"] = up.Available.String()
	return out
}

// TestExportImportChallengePayoutClaims carries the reward claims that
// challenge payouts made (a milestone's and a completion's, counted toward
// the reward's PerUserLimit) and the participations in an archived
// challenge: after an import, a reopen and events that would pay again,
// claims, the limit they fill and the participations are as in the source.
func TestExportImportChallengePayoutClaims(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "payout.db")
	clock := gamify.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	eng, err := gamify.Open(src, &gamify.Options{Clock: clock})
	require.NoError(t, err)
	amt := gamify.AmountFromInt
	shirt := gamify.ChallengePayout{Reward: "shirt"}
	_, err = eng.Apply(ctx, gamify.Game{
		Metrics: []gamify.Metric{{Key: "words", Name: "Words"}},
		Points: []gamify.PointsSystem{{Key: "xp", Name: "XP", Triggers: []gamify.Trigger{{Key: "per-word", Kind: gamify.TriggerMetric,
			Metric: "words", Threshold: amt(1), Points: amt(1)}}}},
		Rewards: []gamify.Reward{
			{Key: "shirt", Name: "Shirt", Type: gamify.RewardPhysical, Cost: amt(5), System: "xp", PerUserLimit: 3},
			{Key: "badge", Name: "Badge", Type: gamify.RewardDigital}},
		Challenges: []gamify.Challenge{
			{Key: "trip", Name: "Trip", Window: gamify.ChallengePerpetual,
				Objectives: []gamify.ChallengeObjective{{Key: "write", Metric: "words", Target: amt(10)},
					{Key: "more", Metric: "words", Target: amt(20)}},
				Milestones: []gamify.ChallengeMilestone{{Objective: "write", Pay: shirt}}, Completion: shirt},
			{Key: "old", Name: "Old", Window: gamify.ChallengePerpetual,
				Objectives: []gamify.ChallengeObjective{{Key: "write", Metric: "words", Target: amt(5)}},
				Completion: gamify.ChallengePayout{Reward: "badge"}},
		},
	})
	require.NoError(t, err)
	for _, k := range []string{"trip", "old"} {
		_, err = eng.Challenges().Enroll(ctx, k, "ana")
		require.NoError(t, err)
	}
	track := func(eng *gamify.Engine, v float64) {
		t.Helper()
		_, err := eng.Track(ctx, gamify.Event{Metric: "words", User: "ana", Value: v})
		require.NoError(t, err)
	}
	clock.Advance(time.Hour)
	track(eng, 12) // trip's milestone (a shirt), old completed (a badge)
	_, err = eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "shirt", User: "ana"})
	require.NoError(t, err) // a paid claim between the two payouts
	clock.Advance(time.Hour)
	track(eng, 9) // trip completed: the third shirt, the limit
	require.NoError(t, eng.Challenges().Delete(ctx, "old"))
	at := clock.Now()
	require.NoError(t, eng.Close())

	dir := t.TempDir()
	exp, kinds := exportKinds(t, src, dir)
	require.Equal(t, 4, kinds["claim"], "two payouts' shirts, the paid shirt, the badge")
	want := payoutView(t, src, at)
	require.Equal(t, []string{"shirt 0 challenge trip completed", "shirt 5 ", "badge 0 challenge old completed",
		"shirt 0 challenge trip milestone 0"}, want["claims"])
	dst := filepath.Join(dir, "copy.db")
	sum := importJSON(t, exp, dst)
	require.Equal(t, 4, sum.Applied["claim"])
	require.Equal(t, want, payoutView(t, dst, at), "after the import and a reopen")

	// The limit the payouts filled holds in the copy, and later events pay
	// nothing again.
	for _, path := range []string{src, dst} {
		eng := openChecked(t, path, at)
		_, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "shirt", User: "ana"})
		require.ErrorIs(t, err, gamify.ErrConflict, "three shirts, the limit")
		track(eng, 30)
		require.NoError(t, eng.Close())
	}
	after := payoutView(t, src, at)
	require.Equal(t, want["claims"], after["claims"])
	require.Equal(t, after, payoutView(t, dst, at))

	sum = importJSON(t, exp, dst)
	require.Empty(t, sum.Applied, "a second import changes nothing")
	require.Equal(t, after, payoutView(t, dst, at))
}

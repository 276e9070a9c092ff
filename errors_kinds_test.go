package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// kindsEngine holds one definition of each kind the calls below name, and
// one user, ana, so that each call fails for the one key it is given.
func kindsEngine(t *testing.T) *testEngine {
	t.Helper()
	ctx := context.Background()
	eng := openTest(t, nil)
	one := gamify.AmountFromInt(1)
	_, err := eng.Apply(ctx, gamify.Game{
		Metrics: []gamify.Metric{{Key: "xp", Name: "XP"}, {Key: "idle", Name: "Idle", Status: gamify.StatusInactive}, {Key: "gone", Name: "Gone"}},
		Streaks: []gamify.Streak{{Key: "walk", Name: "Walk", Frequency: gamify.StreakDaily, Default: true,
			Metrics: []gamify.StreakMetric{{Metric: "xp", Min: one}}}},
		Achievements: []gamify.Achievement{{Key: "hand", Name: "Hand", Kind: gamify.AchievementManual}},
		Points:       []gamify.PointsSystem{{Key: "pts", Name: "Points"}},
		Leaderboards: []gamify.Leaderboard{
			{Key: "board", Name: "Board", RankBy: gamify.RankByMetric, Metric: "xp", RunUnit: gamify.RunWeek},
			{Key: "scores", Name: "Scores", RankBy: gamify.RankByScore},
		},
		Leagues:    []gamify.League{{Key: "league", Name: "League", Board: "board", Tiers: []string{"Bronze", "Silver"}, CohortSize: 3, Promote: 1, Demote: 1}},
		Rewards:    []gamify.Reward{{Key: "badge", Name: "Badge", Type: gamify.RewardDigital}},
		Challenges: []gamify.Challenge{{Key: "week", Name: "Week", Window: gamify.ChallengePerpetual, Objectives: []gamify.ChallengeObjective{{Key: "xp", Metric: "xp", Target: one}}}},
	})
	require.NoError(t, err)
	require.NoError(t, eng.Metrics().Delete(ctx, "gone"))
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: 1})
	require.NoError(t, err)
	return eng
}

// A key that names a definition or user that does not exist is ErrNotFound
// from every call; where the key is a field of the input, the error is also
// a ValidationError naming it. A refused call changes nothing.
func TestUnknownKeysAreNotFound(t *testing.T) {
	ctx := context.Background()
	eng := kindsEngine(t)
	day := gamify.Date{Year: t0.Year(), Month: t0.Month(), Day: t0.Day()}
	earlier := gamify.Date{Year: t0.Year(), Month: t0.Month(), Day: t0.Day() - 6}
	week := gamify.SummaryQuery{Aggregation: gamify.AggregateDaily, Start: earlier, End: day}
	all := gamify.ListOptions{}
	for _, c := range []struct {
		name  string
		field string // the ValidationError's Field; empty for a path-like argument
		call  func() error
	}{
		{"Track metric", "Event.Metric", func() error {
			_, err := eng.Track(ctx, gamify.Event{Metric: "nope", User: "new", Value: 1})
			return err
		}},
		{"Track archived metric", "Event.Metric", func() error {
			_, err := eng.Track(ctx, gamify.Event{Metric: "gone", User: "new", Value: 1})
			return err
		}},
		{"TrackBatch metric", "Events[1].Metric", func() error {
			_, err := eng.TrackBatch(ctx, []gamify.Event{{Metric: "xp", User: "new", Value: 1}, {Metric: "nope", User: "new", Value: 1}})
			return err
		}},
		{"Award system", "Award.System", func() error {
			_, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "nope", User: "new", Amount: gamify.AmountFromInt(1)})
			return err
		}},
		{"Spend system", "Spend.System", func() error {
			_, err := eng.Points().Spend(ctx, gamify.PointsEntry{System: "nope", User: "ana", Amount: gamify.AmountFromInt(1)})
			return err
		}},
		{"Claim reward", "ClaimRequest.Reward", func() error {
			_, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "nope", User: "new"})
			return err
		}},
		{"Complete achievement", "ManualCompletion.Achievement", func() error {
			_, err := eng.Achievements().Complete(ctx, gamify.ManualCompletion{Achievement: "nope", User: "new"})
			return err
		}},
		{"Submit board", "Submit.Board", func() error {
			_, err := eng.Leaderboards().Submit(ctx, gamify.ScoreSubmission{Board: "nope", User: "new", Score: gamify.AmountFromInt(1)})
			return err
		}},
		{"Enroll challenge", "", func() error { _, err := eng.Challenges().Enroll(ctx, "nope", "new"); return err }},
		{"Triggers ListFor system", "TriggerFilter.System", func() error {
			_, err := eng.Points().Triggers().ListFor(ctx, gamify.TriggerFilter{System: "nope"}, all)
			return err
		}},
		{"Boosts ListFor system", "BoostFilter.System", func() error {
			_, err := eng.Points().Boosts().ListFor(ctx, gamify.BoostFilter{System: "nope"}, all)
			return err
		}},
		{"Levels List system", "", func() error { _, err := eng.Points().Levels("nope").List(ctx, all); return err }},
		{"UserBoosts system", "", func() error { _, err := eng.Points().UserBoosts(ctx, "nope", "ana"); return err }},
		{"UserBoosts user", "", func() error { _, err := eng.Points().UserBoosts(ctx, "pts", "nobody"); return err }},
		{"Histogram system", "", func() error { _, err := eng.Points().Histogram(ctx, "nope", nil); return err }},
		{"UsersPerLevel system", "", func() error { _, err := eng.Points().UsersPerLevel(ctx, "nope"); return err }},
		{"PinLevel system", "", func() error { _, err := eng.Points().PinLevel(ctx, "nope", "ana", "l1"); return err }},
		{"PinLevel user", "", func() error { _, err := eng.Points().PinLevel(ctx, "pts", "nobody", "l1"); return err }},
		{"UnpinLevel system", "", func() error { _, err := eng.Points().UnpinLevel(ctx, "nope", "ana"); return err }},
		{"Users Get", "", func() error { _, err := eng.Users().Get(ctx, "nobody"); return err }},
		{"Users Update", "", func() error { _, err := eng.Users().Update(ctx, gamify.UserInput{ID: "nobody"}); return err }},
		{"Users Preferences", "", func() error { _, err := eng.Users().Preferences(ctx, "nobody"); return err }},
		{"Users PatchPreferences", "", func() error {
			_, err := eng.Users().PatchPreferences(ctx, "nobody", func(*gamify.Preferences) {})
			return err
		}},
		{"Users Metrics", "", func() error { _, err := eng.Users().Metrics(ctx, "nobody"); return err }},
		{"Users Metric user", "", func() error { _, err := eng.Users().Metric(ctx, "nobody", "xp"); return err }},
		{"Users Metric metric", "", func() error { _, err := eng.Users().Metric(ctx, "ana", "nope"); return err }},
		{"Users MetricSummary metric", "", func() error { _, err := eng.Users().MetricSummary(ctx, "ana", "nope", week); return err }},
		{"Users MetricSummary user", "", func() error { _, err := eng.Users().MetricSummary(ctx, "nobody", "xp", week); return err }},
		{"Users PointsSummary system", "", func() error { _, err := eng.Users().PointsSummary(ctx, "ana", "nope", week); return err }},
		{"Users PointsSummary user", "", func() error { _, err := eng.Users().PointsSummary(ctx, "nobody", "pts", week); return err }},
		{"Users Points system", "", func() error { _, err := eng.Users().Points(ctx, "ana", "nope"); return err }},
		{"Users Points user", "", func() error { _, err := eng.Users().Points(ctx, "nobody", "pts"); return err }},
		{"Users Awards system", "", func() error { _, err := eng.Users().Awards(ctx, "ana", "nope", all); return err }},
		{"Users Awards user", "", func() error { _, err := eng.Users().Awards(ctx, "nobody", "pts", all); return err }},
		{"Users Claims", "", func() error { _, err := eng.Users().Claims(ctx, "nobody"); return err }},
		{"Users Streak streak", "", func() error { _, err := eng.Users().Streak(ctx, "ana", "nope"); return err }},
		{"Users Streak user", "", func() error { _, err := eng.Users().Streak(ctx, "nobody", "walk"); return err }},
		{"Users Streaks", "", func() error { _, err := eng.Users().Streaks(ctx, "nobody"); return err }},
		{"Users StreakHistory streak", "", func() error { _, err := eng.Users().StreakHistory(ctx, "ana", "nope", 5); return err }},
		{"Users StreakHistory user", "", func() error { _, err := eng.Users().StreakHistory(ctx, "nobody", "walk", 5); return err }},
		{"Users StreakPauses streak", "", func() error { _, err := eng.Users().StreakPauses(ctx, "ana", "nope"); return err }},
		{"Users StreakPauses user", "", func() error { _, err := eng.Users().StreakPauses(ctx, "nobody", "walk"); return err }},
		{"Users YearInReview", "", func() error { _, err := eng.Users().YearInReview(ctx, "nobody", 2026); return err }},
		{"Users Erase", "", func() error { return eng.Users().Erase(ctx, "nobody") }},
		{"Users Deactivate", "", func() error { _, err := eng.Users().Deactivate(ctx, "nobody"); return err }},
		{"Users Activate", "", func() error { _, err := eng.Users().Activate(ctx, "nobody"); return err }},
		{"Users Anonymize", "", func() error { _, err := eng.Users().Anonymize(ctx, "nobody"); return err }},
		{"Achievements User", "", func() error { _, err := eng.Achievements().User(ctx, "nobody", true); return err }},
		{"Streaks Users", "", func() error { _, err := eng.Streaks().Users(ctx, "nope", []string{"ana"}); return err }},
		{"Streaks GrantFreezes", "", func() error { _, _, err := eng.Streaks().GrantFreezes(ctx, "nope", []string{"ana"}); return err }},
		{"Streaks Restore", "", func() error { _, _, err := eng.Streaks().Restore(ctx, "nope", []string{"ana"}); return err }},
		{"Streaks AddPause streak", "", func() error { _, err := eng.Streaks().AddPause(ctx, "nope", "ana", day, day); return err }},
		{"Streaks AddPause user", "", func() error { _, err := eng.Streaks().AddPause(ctx, "walk", "nobody", day, day); return err }},
		{"Streaks RemovePause streak", "", func() error { return eng.Streaks().RemovePause(ctx, "nope", "ana", 1) }},
		{"Streaks AtRisk", "AtRiskQuery.Streak", func() error {
			_, err := eng.Streaks().AtRisk(ctx, gamify.AtRiskQuery{Streak: "nope", Within: time.Hour})
			return err
		}},
		{"Leaderboards Rankings", "", func() error { _, err := eng.Leaderboards().Rankings(ctx, "nope", gamify.BoardQuery{}); return err }},
		{"Leaderboards Around board", "", func() error { _, err := eng.Leaderboards().Around(ctx, "nope", "ana", 1, 1); return err }},
		{"Leaderboards Around user", "", func() error { _, err := eng.Leaderboards().Around(ctx, "board", "nobody", 1, 1); return err }},
		{"Leaderboards UserRank board", "", func() error { _, err := eng.Leaderboards().UserRank(ctx, "nope", "ana"); return err }},
		{"Leaderboards UserRank user", "", func() error { _, err := eng.Leaderboards().UserRank(ctx, "board", "nobody"); return err }},
		{"Leaderboards RankHistory board", "", func() error { _, err := eng.Leaderboards().RankHistory(ctx, "nope", "ana", 5); return err }},
		{"Leaderboards RankHistory user", "", func() error { _, err := eng.Leaderboards().RankHistory(ctx, "board", "nobody", 5); return err }},
		{"Leaderboards Ranks", "", func() error { _, err := eng.Leaderboards().Ranks(ctx, "nope", []string{"ana"}); return err }},
		{"Leaderboards Runs", "", func() error { _, err := eng.Leaderboards().Runs(ctx, "nope", all); return err }},
		{"Leagues Standing league", "", func() error { _, err := eng.Leagues().Standing(ctx, "nope", "ana"); return err }},
		{"Leagues Standing user", "", func() error { _, err := eng.Leagues().Standing(ctx, "league", "nobody"); return err }},
		{"Leagues History league", "", func() error { _, err := eng.Leagues().History(ctx, "nope", "ana", 5); return err }},
		{"Leagues History user", "", func() error { _, err := eng.Leagues().History(ctx, "league", "nobody", 5); return err }},
		{"Leagues Runs", "", func() error { _, err := eng.Leagues().Runs(ctx, "nope"); return err }},
		{"Challenges Progress challenge", "", func() error { _, err := eng.Challenges().Progress(ctx, "nope", "ana"); return err }},
		{"Challenges Progress user", "", func() error { _, err := eng.Challenges().Progress(ctx, "week", "nobody"); return err }},
		{"Challenges User", "", func() error { _, err := eng.Challenges().User(ctx, "nobody"); return err }},
		{"Challenges Participants", "", func() error {
			_, err := eng.Challenges().Participants(ctx, "nope", gamify.ChallengeParticipantsQuery{})
			return err
		}},
		{"Challenges Stats", "", func() error { _, err := eng.Challenges().Stats(ctx, "nope"); return err }},
		{"Challenges Leaderboard", "", func() error { _, err := eng.Challenges().Leaderboard(ctx, "nope", all); return err }},
		{"Rewards Codes", "", func() error { _, err := eng.Rewards().Codes(ctx, "nope", all); return err }},
		{"Rewards CodeCount", "", func() error { _, err := eng.Rewards().CodeCount(ctx, "nope"); return err }},
		{"Rewards Code", "", func() error { _, err := eng.Rewards().Code(ctx, "nope", "c"); return err }},
		{"Rewards AddCodes", "", func() error { _, err := eng.Rewards().AddCodes(ctx, "nope", []string{"c"}); return err }},
		{"Users List system", "UserQuery.System", func() error { _, err := eng.Users().List(ctx, gamify.UserQuery{System: "nope"}); return err }},
		{"Users List level", "UserQuery.Level", func() error {
			_, err := eng.Users().List(ctx, gamify.UserQuery{System: "pts", Level: "nope"})
			return err
		}},
		{"Levels Get system", "", func() error { _, err := eng.Points().Levels("nope").Get(ctx, "l1"); return err }},
		{"Levels Patch system", "", func() error {
			_, err := eng.Points().Levels("nope").Patch(ctx, "l1", func(*gamify.Level) {})
			return err
		}},
		{"Points Get", "", func() error { _, err := eng.Points().Get(ctx, "nope"); return err }},
		{"Metrics Activate", "", func() error { _, err := eng.Metrics().Activate(ctx, "nope"); return err }},
		{"Rewards Delete", "", func() error { return eng.Rewards().Delete(ctx, "nope") }},
		{"Leaderboards Finish", "", func() error { _, err := eng.Leaderboards().Finish(ctx, "nope"); return err }},
		{"Challenges Import challenge", "", func() error {
			_, err := eng.Challenges().Import(ctx, "nope", "ana", gamify.ChallengeProgress{})
			return err
		}},
		{"Challenges Import user", "", func() error {
			_, err := eng.Challenges().Import(ctx, "week", "nobody", gamify.ChallengeProgress{})
			return err
		}},
		{"Leagues Import league", "", func() error { _, err := eng.Leagues().Import(ctx, "nope", "ana", nil); return err }},
		{"Leagues ImportRun league", "", func() error {
			_, err := eng.Leagues().ImportRun(ctx, "nope", gamify.LeagueRun{League: "nope"})
			return err
		}},
		{"Leagues HistoryBefore user", "", func() error {
			_, err := eng.Leagues().HistoryBefore(ctx, "league", "nobody", t0, 5)
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := gamify.DumpStore(eng.Engine)
			err := c.call()
			require.ErrorIs(t, err, gamify.ErrNotFound)
			if c.field != "" {
				requireField(t, err, c.field)
				require.ErrorIs(t, err, gamify.ErrInvalid, "callers checking ErrInvalid keep working")
			}
			require.Equal(t, before, gamify.DumpStore(eng.Engine), "a refused call changes nothing")
		})
	}
	_, err := eng.Users().Get(ctx, "new")
	require.ErrorIs(t, err, gamify.ErrNotFound, "no refused call created its user")
}

// A key naming a definition that exists but refuses the call is another
// outcome: an inactive metric is ErrConflict, as an inactive reward or
// points system is, still naming the field; a board of the wrong kind is
// bad input only.
func TestRefusedKeysAreNotNotFound(t *testing.T) {
	ctx := context.Background()
	eng := kindsEngine(t)
	before := gamify.DumpStore(eng.Engine)

	_, err := eng.Track(ctx, gamify.Event{Metric: "idle", User: "new", Value: 1})
	require.ErrorIs(t, err, gamify.ErrConflict)
	require.NotErrorIs(t, err, gamify.ErrNotFound)
	require.ErrorIs(t, err, gamify.ErrInvalid)
	requireField(t, err, "Event.Metric")
	require.EqualError(t, err, "gamify: invalid Event.Metric (idle): is not an active metric")

	_, err = eng.TrackBatch(ctx, []gamify.Event{{Metric: "xp", User: "new", Value: 1}, {Metric: "idle", User: "new", Value: 1}})
	require.ErrorIs(t, err, gamify.ErrConflict)
	requireField(t, err, "Events[1].Metric")

	_, err = eng.Leaderboards().Submit(ctx, gamify.ScoreSubmission{Board: "board", User: "new", Score: gamify.AmountFromInt(1)})
	require.NotErrorIs(t, err, gamify.ErrNotFound)
	requireField(t, err, "Submit.Board")

	_, err = eng.Track(ctx, gamify.Event{Metric: "nope", User: "new", Value: 1})
	require.EqualError(t, err, "gamify: invalid Event.Metric (nope): names no metric")
	require.Equal(t, before, gamify.DumpStore(eng.Engine))

	// The filters still list what they name, an empty one everything.
	for _, sys := range []string{"pts", ""} {
		_, err = eng.Points().Triggers().ListFor(ctx, gamify.TriggerFilter{System: sys}, gamify.ListOptions{})
		require.NoError(t, err)
		_, err = eng.Points().Boosts().ListFor(ctx, gamify.BoostFilter{System: sys}, gamify.ListOptions{})
		require.NoError(t, err)
	}
}

// A streak threshold names a metric by its map key: an unknown one is
// ErrNotFound there too, an inactive one ErrConflict.
func TestPreferenceThresholdKinds(t *testing.T) {
	ctx := context.Background()
	eng := kindsEngine(t)
	for metric, kind := range map[string]error{"nope": gamify.ErrNotFound, "gone": gamify.ErrNotFound, "idle": gamify.ErrConflict} {
		_, err := eng.Users().PatchPreferences(ctx, "ana", func(p *gamify.Preferences) {
			p.Streak.Enabled, p.Streak.Thresholds = true, map[string]gamify.Amount{metric: gamify.AmountFromInt(1)}
		})
		require.ErrorIs(t, err, kind, metric)
		requireField(t, err, "Preferences.Streak.Thresholds["+metric+"]")
	}
}

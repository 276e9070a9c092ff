package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func actions(rep gamify.ApplyReport) []string {
	var out []string
	for _, c := range rep.Changes {
		out = append(out, c.Resource+"/"+c.Key+":"+string(c.Action))
	}
	return out
}

func TestApplyMetrics(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	game := gamify.Game{Metrics: []gamify.Metric{
		{Key: "xp", Name: "Experience"},
		{Key: "km", Name: "Distance", Units: "km", UnitType: gamify.UnitNumber},
		{Key: "later", Name: "Later", Status: gamify.StatusInactive},
	}}
	rep, err := eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"metric/xp:created", "metric/km:created", "metric/later:created"}, actions(rep))
	require.True(t, rep.Changed())

	// The second run changes nothing, in the store either, also after a restart.
	before := gamify.DumpStore(eng.Engine)
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"metric/xp:unchanged", "metric/km:unchanged", "metric/later:unchanged"}, actions(rep))
	require.False(t, rep.Changed())
	eng.reopen(t)
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed())
	require.Equal(t, before, gamify.DumpStore(eng.Engine))

	// A changed field is patched, the others kept; a status is set by its verb.
	_, err = eng.Metrics().Patch(ctx, "xp", func(m *gamify.Metric) { m.Description = "set by an admin" })
	require.NoError(t, err)
	game.Metrics[0].Units = "points"
	game.Metrics[2].Status = gamify.StatusActive
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []gamify.ApplyChange{
		{Resource: "metric", Key: "xp", Action: gamify.ApplyPatched, Fields: []string{"Units"}},
		{Resource: "metric", Key: "km", Action: gamify.ApplyUnchanged},
		{Resource: "metric", Key: "later", Action: gamify.ApplyActivated},
	}, rep.Changes)
	xp, err := eng.Metrics().Get(ctx, "xp")
	require.NoError(t, err)
	require.Equal(t, "points", xp.Units)
	require.Equal(t, "set by an admin", xp.Description, "a field the game leaves unset keeps its stored value")
	later, err := eng.Metrics().Get(ctx, "later")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusActive, later.Status)

	// Bad input names its field; an archived key is a conflict.
	_, err = eng.Apply(ctx, gamify.Game{Metrics: []gamify.Metric{{Key: "new", Name: ""}}})
	require.ErrorContains(t, err, "Metric.Name")
	_, err = eng.Metrics().Get(ctx, "new")
	require.ErrorIs(t, err, gamify.ErrNotFound)
	require.NoError(t, eng.Metrics().Delete(ctx, "km"))
	rep, err = eng.Apply(ctx, game)
	require.ErrorIs(t, err, gamify.ErrConflict)
	require.ErrorContains(t, err, "metric km")
	require.Equal(t, []string{"metric/xp:unchanged"}, actions(rep), "the report so far")
}

func TestApplyAchievementsAfterTheirMetrics(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	game := gamify.Game{
		Metrics: []gamify.Metric{{Key: "lessons", Name: "Lessons"}},
		Achievements: []gamify.Achievement{
			{Key: "first", Name: "First lesson", Kind: gamify.AchievementMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(1)},
			{Key: "ten", Name: "Ten lessons", Kind: gamify.AchievementMetric, Metric: "lessons", Threshold: gamify.AmountFromInt(10), Status: gamify.StatusInactive},
		},
	}
	rep, err := eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"metric/lessons:created", "achievement/first:created", "achievement/ten:created"}, actions(rep))
	r, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Len(t, r.Achievements, 1, "the applied achievement is live")

	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%v", actions(rep))

	game.Achievements[0].Status = gamify.StatusLocked
	game.Achievements[1].Threshold = gamify.AmountFromInt(5)
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []gamify.ApplyChange{
		{Resource: "metric", Key: "lessons", Action: gamify.ApplyUnchanged},
		{Resource: "achievement", Key: "first", Action: gamify.ApplyLocked},
		{Resource: "achievement", Key: "ten", Action: gamify.ApplyPatched, Fields: []string{"Threshold"}},
	}, rep.Changes)
	first, err := eng.Achievements().Get(ctx, "first")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusLocked, first.Status)

	game.Achievements[0].Status = gamify.StatusFinished
	_, err = eng.Apply(ctx, game)
	require.ErrorContains(t, err, "Achievement.Status")
}

func TestApplyRewards(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	game := gamify.Game{Rewards: []gamify.Reward{
		{Key: "sticker", Name: "Sticker pack", Type: gamify.RewardDigital, Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))},
	}}
	rep, err := eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"reward/sticker:created"}, actions(rep))
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "a time in another zone is the same instant: %v", rep.Changes)

	_, err = eng.Apply(ctx, gamify.Game{Rewards: []gamify.Reward{{Name: "No key", Type: gamify.RewardDigital}}})
	requireField(t, err, "Game.Rewards[0].Key")
	list, err := eng.Rewards().List(ctx, gamify.RewardListOptions{})
	require.NoError(t, err)
	require.Len(t, list, 1, "Apply never generates a key")
}

func TestApplyStreaksAndAttributes(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	game := gamify.Game{
		Attributes: []gamify.Attribute{{Key: "course", Name: "Course", Type: gamify.UserAttribute}},
		Metrics:    []gamify.Metric{{Key: "lessons", Name: "Lessons"}},
		Streaks: []gamify.Streak{{Key: "daily", Name: "Daily lesson", Frequency: gamify.StreakDaily, Default: true,
			Metrics: []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}}, Freezes: gamify.StreakFreezes{Initial: 1, Max: 2}}},
	}
	rep, err := eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"attribute/course:created", "metric/lessons:created", "streak/daily:created"}, actions(rep))
	r, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1,
		Profile: &gamify.UserInput{Attributes: map[string]string{"course": "es"}}})
	require.NoError(t, err)
	require.NotNil(t, r.Streak)
	require.Equal(t, 1, r.Streak.Length)

	eng.reopen(t)
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%v", rep.Changes)

	game.Streaks[0].Freezes.Max = 3
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, gamify.ApplyChange{Resource: "streak", Key: "daily", Action: gamify.ApplyPatched, Fields: []string{"Freezes"}}, rep.Changes[2])
	s, err := eng.Streaks().Get(ctx, "daily")
	require.NoError(t, err)
	require.Equal(t, 3, s.Freezes.Max)
	require.Equal(t, 1, s.Freezes.Initial)
}

func TestApplyPointsSystemsWithLevelsTriggersAndBoosts(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	sys := gamify.PointsSystem{Key: "xp", Name: "XP",
		Levels: []gamify.Level{{Key: "novice", Name: "Novice", Level: 1}, {Key: "adept", Name: "Adept", Level: 2, Threshold: gamify.AmountFromInt(100)}},
		Triggers: []gamify.Trigger{{Key: "per-lesson", Kind: gamify.TriggerMetric, Metric: "lessons",
			Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10)}},
		Boosts: []gamify.Boost{{Key: "launch", Scope: gamify.BoostGlobal, Multiplier: gamify.AmountFromInt(2),
			From: gamify.Date{Year: 2026, Month: 12, Day: 24}}}, // scheduled: starts later
	}
	game := gamify.Game{Metrics: []gamify.Metric{{Key: "lessons", Name: "Lessons"}}, Points: []gamify.PointsSystem{sys}}
	rep, err := eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"metric/lessons:created", "points system/xp:created", "level/novice:created", "level/adept:created",
		"trigger/per-lesson:created", "boost/launch:created"}, actions(rep))
	r, err := eng.Track(ctx, gamify.Event{Metric: "lessons", User: "ana", Value: 1})
	require.NoError(t, err)
	require.Len(t, r.Points, 1)
	require.Equal(t, "10", r.Points[0].Total.String())

	eng.reopen(t)
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%v", rep.Changes)
	require.Equal(t, []string{"metric/lessons:unchanged", "points system/xp:unchanged", "level/novice:unchanged", "level/adept:unchanged",
		"trigger/per-lesson:unchanged", "boost/launch:unchanged"}, actions(rep))

	// A changed trigger is patched, a new level created, a boost deactivated.
	game.Points[0].Triggers[0].Points = gamify.AmountFromInt(15)
	game.Points[0].Levels = append(game.Points[0].Levels, gamify.Level{Key: "master", Name: "Master", Level: 3, Threshold: gamify.AmountFromInt(1000)})
	game.Points[0].Boosts[0].Status = gamify.StatusInactive
	game.Points[0].Description = "Experience"
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"metric/lessons:unchanged", "points system/xp:patched", "level/novice:unchanged", "level/adept:unchanged",
		"level/master:created", "trigger/per-lesson:patched", "boost/launch:deactivated"}, actions(rep))
	tr, err := eng.Points().Triggers().Get(ctx, "per-lesson")
	require.NoError(t, err)
	require.Equal(t, "15", tr.Points.String())
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%v", rep.Changes)
}

func TestApplyLeaderboardsAndTenants(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	game := gamify.Game{
		Metrics: []gamify.Metric{{Key: "xp", Name: "XP"}},
		Leaderboards: []gamify.Leaderboard{
			{Key: "weekly", Name: "Weekly XP", RankBy: gamify.RankByMetric, Metric: "xp", RunEvery: 1, RunUnit: gamify.RunWeek},
			{Key: "launch", Name: "Launch week", RankBy: gamify.RankByMetric, Metric: "xp", Start: gamify.Date{Year: 2027, Month: 1, Day: 4}},
		},
		Tenants: []gamify.Tenant{{Key: "school-a", Name: "School A"}},
	}
	rep, err := eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"metric/xp:created", "leaderboard/weekly:created", "leaderboard/launch:created", "tenant/school-a:created"}, actions(rep))
	launch, err := eng.Leaderboards().Get(ctx, "launch")
	require.NoError(t, err)
	require.Equal(t, gamify.StatusScheduled, launch.Status)

	// The board's start day, filled in by Create, is kept; a scheduled board
	// asked to be active is already.
	game.Leaderboards[1].Status = gamify.StatusActive
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%v", rep.Changes)

	game.Leaderboards[0].Name = "This week's XP"
	game.Leaderboards[1].Status = gamify.StatusFinished
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"metric/xp:unchanged", "leaderboard/weekly:patched", "leaderboard/launch:finished", "tenant/school-a:unchanged"}, actions(rep))
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%v", rep.Changes)
}

func TestApplyLeagues(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	game := gamify.Game{
		Metrics:      []gamify.Metric{{Key: "xp", Name: "XP"}},
		Leaderboards: []gamify.Leaderboard{{Key: "weekly", Name: "Weekly XP", RankBy: gamify.RankByMetric, Metric: "xp", RunEvery: 1, RunUnit: gamify.RunWeek}},
		Leagues: []gamify.League{{Key: "league", Name: "League", Board: "weekly", Tiers: []string{"bronze", "silver", "gold"},
			CohortSize: 30, Promote: 5, Demote: 5}},
	}
	rep, err := eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"metric/xp:created", "leaderboard/weekly:created", "league/league:created"}, actions(rep))
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%v", rep.Changes)

	game.Leagues[0].Tiers = []string{"bronze", "silver", "diamond"}
	game.Leagues[0].Status = gamify.StatusInactive
	rep, err = eng.Apply(ctx, game)
	require.NoError(t, err)
	require.Equal(t, []string{"metric/xp:unchanged", "leaderboard/weekly:unchanged", "league/league:patched", "league/league:deactivated"}, actions(rep))
	l, err := eng.Leagues().Get(ctx, "league")
	require.NoError(t, err)
	require.Equal(t, "diamond", l.Tiers[2])
	require.Equal(t, gamify.StatusInactive, l.Status)

	game.Leagues[0].Board = "other" // immutable
	_, err = eng.Apply(ctx, game)
	requireField(t, err, "League.Board")
}

func TestApplyRefusesTwoDefaultStreaks(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	streak := func(key string) gamify.Streak {
		return gamify.Streak{Key: key, Name: key, Frequency: gamify.StreakDaily, Default: true,
			Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}}
	}
	before := gamify.DumpStore(eng.Engine)
	_, err := eng.Apply(ctx, gamify.Game{Metrics: []gamify.Metric{{Key: "xp", Name: "XP"}}, Streaks: []gamify.Streak{streak("a"), streak("b")}})
	requireField(t, err, "Game.Streaks[1].Default")
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "checked before anything is applied")
}

// A malformed key anywhere in the game is refused before anything is
// written, naming its place in the Game.
func TestApplyRefusesABadKeyFirst(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	before := gamify.DumpStore(eng.Engine)
	_, err := eng.Apply(ctx, gamify.Game{Metrics: []gamify.Metric{{Key: "xp", Name: "XP"}, {Key: "bad key", Name: "Bad"}},
		Points: []gamify.PointsSystem{{Key: "coins", Name: "Coins", Levels: []gamify.Level{{Key: "", Name: "Nameless"}}}}})
	requireFieldIn(t, err, "Game.Metrics[1].Key")
	requireFieldIn(t, err, "Game.Points[0].Levels[0].Key")
	require.Equal(t, before, gamify.DumpStore(eng.Engine), "checked before anything is applied")
}

// A streak's milestones may pay in a points system, and claim a reward, of
// the same Game: Apply sets them once those exist, and reports them on the
// streak's entry.
func TestApplyStreakMilestonesOfTheSameGame(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	g := gamify.Game{
		Metrics: []gamify.Metric{{Key: "lessons", Name: "Lessons"}},
		Streaks: []gamify.Streak{{Key: "daily", Name: "Daily", Frequency: gamify.StreakDaily,
			Metrics:    []gamify.StreakMetric{{Metric: "lessons", Min: gamify.AmountFromInt(1)}},
			Milestones: []gamify.StreakMilestone{{Length: 7, System: "gems", Points: gamify.AmountFromInt(10)}, {Length: 30, Reward: "badge"}}}},
		Points:  []gamify.PointsSystem{{Key: "gems", Name: "Gems"}},
		Rewards: []gamify.Reward{{Key: "badge", Name: "Badge", Type: gamify.RewardDigital}},
	}
	rep, err := eng.Apply(ctx, g)
	require.NoError(t, err)
	s, err := eng.Streaks().Get(ctx, "daily")
	require.NoError(t, err)
	require.Equal(t, g.Streaks[0].Milestones, s.Milestones)
	n := 0
	for _, c := range rep.Changes {
		if c.Resource == "streak" {
			n++
			require.Equal(t, gamify.ApplyCreated, c.Action)
		}
	}
	require.Equal(t, 1, n, "one entry for the streak")

	rep, err = eng.Apply(ctx, g)
	require.NoError(t, err)
	require.False(t, rep.Changed(), "%+v", rep.Changes)

	g.Streaks[0].Milestones[0].Points = gamify.AmountFromInt(12)
	rep, err = eng.Apply(ctx, g)
	require.NoError(t, err)
	require.True(t, rep.Changed())
	for _, c := range rep.Changes {
		if c.Resource == "streak" {
			require.Equal(t, gamify.ApplyPatched, c.Action)
			require.Equal(t, []string{"Milestones"}, c.Fields)
		}
	}
	s, err = eng.Streaks().Get(ctx, "daily")
	require.NoError(t, err)
	require.Equal(t, "12", s.Milestones[0].Points.String())
}

// TestApplyInactiveAttributeWithFilters: a game declaring an attribute
// inactive and definitions filtering on it applies on an empty database as
// on one holding the attribute active: Apply deactivates attributes last,
// once what filters on them exists.
func TestApplyInactiveAttributeWithFilters(t *testing.T) {
	ctx := context.Background()
	game := func() gamify.Game {
		return gamify.Game{
			Attributes: []gamify.Attribute{{Key: "plan", Name: "Plan", Type: gamify.UserAttribute, Status: gamify.StatusInactive}},
			Metrics:    []gamify.Metric{{Key: "lessons", Name: "Lessons"}},
			Achievements: []gamify.Achievement{{Key: "pro-10", Name: "Pro 10", Kind: gamify.AchievementMetric, Metric: "lessons",
				Threshold: gamify.AmountFromInt(10), UserFilters: map[string]string{"plan": "pro"}}},
			Points: []gamify.PointsSystem{{Key: "xp", Name: "XP",
				Triggers: []gamify.Trigger{{Key: "pro-lesson", Kind: gamify.TriggerMetric, Metric: "lessons",
					Threshold: gamify.AmountFromInt(1), Points: gamify.AmountFromInt(10), UserFilters: map[string]string{"plan": "pro"}}},
				Boosts: []gamify.Boost{{Key: "pro", Scope: gamify.BoostCohort, Multiplier: gamify.AmountFromInt(2), From: gamify.Date{Year: 2026, Month: 1, Day: 1},
					UserFilters: map[string]string{"plan": "pro"}}}}},
		}
	}
	t.Run("empty database", func(t *testing.T) {
		eng := openTest(t, nil)
		rep, err := eng.Apply(ctx, game())
		require.NoError(t, err)
		require.Equal(t, []string{"attribute/plan:created", "metric/lessons:created", "achievement/pro-10:created",
			"points system/xp:created", "trigger/pro-lesson:created", "boost/pro:created", "attribute/plan:deactivated"}, actions(rep))
		a, err := eng.Attributes().Get(ctx, "plan")
		require.NoError(t, err)
		require.Equal(t, gamify.StatusInactive, a.Status)
		rep, err = eng.Apply(ctx, game())
		require.NoError(t, err)
		require.False(t, rep.Changed(), "%v", rep.Changes)
	})
	t.Run("attribute stored active", func(t *testing.T) {
		eng := openTest(t, nil)
		_, err := eng.Attributes().Create(ctx, gamify.Attribute{Key: "plan", Name: "Plan", Type: gamify.UserAttribute})
		require.NoError(t, err)
		rep, err := eng.Apply(ctx, game())
		require.NoError(t, err)
		require.Equal(t, []string{"attribute/plan:deactivated", "metric/lessons:created", "achievement/pro-10:created",
			"points system/xp:created", "trigger/pro-lesson:created", "boost/pro:created"}, actions(rep))
		rep, err = eng.Apply(ctx, game())
		require.NoError(t, err)
		require.False(t, rep.Changed(), "%v", rep.Changes)
	})
}

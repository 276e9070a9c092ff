package gamify_test

import (
	"context"
	"encoding"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// jsonTime parses an RFC 3339 time into UTC without a monotonic reading, as
// a time comes back from JSON.
func jsonTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func amt(s string) gamify.Amount { return gamify.MustParseAmount(s) }

func ptr[T any](v T) *T { return &v }

var (
	jT1 = jsonTime("2026-03-08T12:00:00Z")
	jT2 = jsonTime("2026-03-09T08:30:15.5Z")
	jT3 = jsonTime("2026-03-14T23:59:59.999999999Z")
	jD1 = gamify.Date{Year: 2026, Month: time.March, Day: 8}
	// jInactive: a closed interval, then an open one (inactive now).
	jInactive = []gamify.Interval{{From: jT1, To: jT2}, {From: jT3}}
	jD2       = gamify.Date{Year: 2026, Month: time.March, Day: 14}
	jUser     = gamify.UserInput{ID: "u1", Name: "Ada", Email: "ada@example.com", TZ: "Europe/Paris",
		Attributes: map[string]string{"plan": "pro"}, DeviceTokens: []string{"tok-1"}, SubscribeToEmails: ptr(true), Control: ptr(true)}
	jCompletion = gamify.AchievementCompletion{Key: "first-run", Name: "First run", CompletedAt: jT1, Backdated: true}
	jLevel      = gamify.LevelChange{From: "bronze", To: "silver", Promotion: true, Pinned: true}
	jAward      = gamify.Award{ID: 42, At: jT1, Trigger: "per-km", Kind: gamify.TriggerMetric, Reason: "bonus",
		Base: amt("10"), Multiple: 2,
		Boosts:   []gamify.AppliedBoost{{Key: "weekend", Level: "silver", Multiplier: amt("1.5")}},
		Rounding: gamify.RoundNearest, Points: amt("15"), Capped: true, Total: amt("115.25")}
	jPointsChange = gamify.PointsChange{System: "xp", Total: amt("115.25"), Added: amt("15"),
		Awards: []gamify.Award{jAward}, Level: &jLevel}
	jBoardChange = gamify.LeaderboardChange{Key: "weekly", Rank: 3, PreviousRank: 5, Threshold: amt("12.5"), Group: "plan:pro"}
	jStreakState = gamify.StreakStatus{Length: 4, Longest: 9, Started: jT1, PeriodStart: jT1, PeriodEnd: jT2, Met: true,
		Paused: true, AtRisk: true, Expires: jT3, GraceEnds: jT3, LastExtended: jT2, Freezes: 2}
	jClaim = gamify.Claim{Reward: "mug", RewardName: "Mug", RewardType: gamify.RewardPhysical, User: "u1", Code: "MUG-1",
		Cost: amt("200"), Balance: amt("15.75"), At: jT2, Seq: 77, IdempotentReplayed: true, IdempotencyKey: "k-1", Payout: "challenge trip completed", Grants: jGrants}
	jGrants = gamify.RewardGrants{Freezes: []gamify.FreezeGrant{{Streak: "daily-run", Count: 2}},
		Boosts:       []gamify.BoostGrant{{System: "xp", Multiplier: amt("2"), Duration: time.Hour}},
		Points:       []gamify.PointsGrant{{System: "xp", Amount: amt("50")}},
		Achievements: []string{"shopper"}}
	jUserPoints = gamify.UserPoints{System: "xp", Total: amt("300"), Spent: amt("200"), Available: amt("100"), Level: "silver",
		Pinned: true, NextLevel: "gold", Required: amt("500"), Remaining: amt("200")}
	jYearTotal = gamify.YearTotal{Key: "km", Total: amt("1234.5"), Change: amt("-12.25"), PercentChange: ptr(12.5),
		Percentile: 87.5, ActiveUsers: 120}
	jActive    = gamify.ActivePeriod{Start: jD1, Events: 12}
	jMilestone = gamify.StreakMilestone{Length: 7, Achievement: "week", Reward: "mug", System: "xp", Points: amt("50")}
	jReached   = gamify.MilestoneReached{Streak: "daily-run", Length: 7, RunStart: jD1, Achievement: "week", Reward: "mug", Claim: 12,
		Code: "MUG-1", System: "xp", Points: amt("50"), Reversed: true, Skipped: []string{"reward mug: gamify: out of stock"}}
)

// jsonCase is a fully populated value of one public type.
type jsonCase struct {
	name string
	v    any
	// zeroOK lists exported fields allowed to be zero.
	zeroOK []string
}

func jsonCases() []jsonCase {
	return append(challengeJSONCases(), []jsonCase{
		// Definitions.
		{name: "Attribute", v: gamify.Attribute{Key: "plan", Name: "Plan", Type: gamify.UserAttribute, Status: gamify.StatusActive, Created: jT1, Updated: jT2}},
		{name: "Metric", v: gamify.Metric{Key: "km", Name: "Kilometres", Description: "Distance run", ImageURL: "https://example.com/km.png",
			UnitType: gamify.UnitNumber, Units: "km", Status: gamify.StatusActive, Created: jT1, Updated: jT2}},
		{name: "Streak", v: gamify.Streak{Key: "daily-run", Name: "Daily run", Description: "Run every day", Order: 2,
			Frequency: gamify.StreakWeekly, WeekStart: gamify.Monday, Metrics: []gamify.StreakMetric{{Metric: "km", Min: amt("2.5")}},
			Mode: gamify.StreakModeAny, GraceHours: 6, Freezes: gamify.StreakFreezes{Initial: 1, Max: 3, EarnAmount: 1, EarnEveryDays: 7},
			Personalizable: true, Default: true, Status: gamify.StatusInactive, Created: jT1, Updated: jT2,
			Milestones: []gamify.StreakMilestone{jMilestone}, Inactive: jInactive}},
		{name: "StreakMilestone", v: jMilestone},
		{name: "StreakMetric", v: gamify.StreakMetric{Metric: "km", Min: amt("0.000001")}},
		{name: "StreakFreezes", v: gamify.StreakFreezes{Initial: 1, Max: 3, EarnAmount: 1, EarnEveryDays: 7}},
		{name: "Achievement", v: gamify.Achievement{Key: "marathon", Name: "Marathon", Description: "Run 42.195 km", ImageURL: "https://example.com/m.png",
			Category: "distance", Rarity: gamify.RarityEpic, Order: 3, Kind: gamify.AchievementMetric, Status: gamify.StatusActive,
			Metric: "km", Threshold: amt("42.195"), EventFilters: map[string]string{"surface": "road"}, Streak: "daily-run", Length: 30,
			Prerequisites: []string{"first-run"}, UserFilters: map[string]string{"plan": "pro"}, Created: jT1, Updated: jT2}},
		{name: "PointsSystem", v: gamify.PointsSystem{Key: "xp", Name: "XP", Description: "Experience", ImageURL: "https://example.com/xp.png",
			MaxPoints: amt("1000000"), Status: gamify.StatusActive, Created: jT1, Updated: jT2, Inactive: jInactive[:1],
			Levels:   []gamify.Level{{System: "xp", Key: "bronze", Level: 1, Order: 1, Name: "Bronze", Threshold: amt("0"), Status: gamify.StatusActive}},
			Triggers: []gamify.Trigger{{System: "xp", Key: "per-km", Kind: gamify.TriggerMetric, Points: amt("10"), Metric: "km", Threshold: amt("1"), Status: gamify.StatusActive}},
			Boosts:   []gamify.Boost{{System: "xp", Key: "weekend", Name: "Weekend", Scope: gamify.BoostGlobal, Multiplier: amt("2"), Rounding: gamify.RoundDown, Status: gamify.StatusActive}}}},
		{name: "Level", v: gamify.Level{System: "xp", Key: "silver", Level: 2, Order: 2, Name: "Silver", Description: "The second level",
			ImageURL: "https://example.com/s.png", Color: "#c0c0c0", Benefits: []string{"badge"}, Threshold: amt("100"), Multiplier: amt("1.1"),
			Status: gamify.StatusActive, Created: jT1, Updated: jT2}},
		{name: "Trigger", v: gamify.Trigger{Key: "per-km", System: "xp", Kind: gamify.TriggerTime, Points: amt("10.5"), Metric: "km",
			Threshold: amt("2"), EventFilters: map[string]string{"surface": "trail"}, Achievement: "marathon", Streak: "daily-run", EveryN: 3,
			Every: 12, Unit: gamify.TriggerHours, Since: jT1, UserFilters: map[string]string{"plan": "pro"}, BlockIfOutOfPoints: true,
			Status: gamify.StatusInactive, Created: jT1, Updated: jT2, Inactive: jInactive}},
		{name: "Boost", v: gamify.Boost{Key: "spring", System: "xp", Name: "Spring", Scope: gamify.BoostCohort,
			UserFilters: map[string]string{"plan": "pro"}, User: "u1", From: jD1, To: jD2, Start: jT1, End: jT3, Multiplier: amt("1.25"),
			Rounding: gamify.RoundUp, Status: gamify.StatusScheduled, Created: jT1, Updated: jT2, Inactive: jInactive[:1]}},
		{name: "Interval", v: gamify.Interval{From: jT1, To: jT2}},
		{name: "Reward", v: gamify.Reward{Key: "double-xp", Name: "Double XP", Description: "Twice the points", Type: gamify.RewardPointsMultiplier,
			Cost: amt("200"), System: "xp", PerUserLimit: 2, Inventory: 100, Expires: jT3, Status: gamify.StatusActive,
			Multiplier: amt("2"), Duration: 90 * time.Minute, Created: jT1, Updated: jT2, Grants: jGrants}},
		{name: "RewardGrants", v: jGrants},
		{name: "FreezeGrant", v: jGrants.Freezes[0]},
		{name: "BoostGrant", v: jGrants.Boosts[0]},
		{name: "PointsGrant", v: jGrants.Points[0]},
		{name: "Tenant", v: gamify.Tenant{Key: "acme", Name: "Acme", Status: gamify.StatusActive, Created: jT1, Updated: jT2}},
		{name: "League", v: gamify.League{Key: "weekly", Name: "Weekly", Description: "Weekly leagues", Board: "xp-week", Tiers: []string{"bronze", "silver"},
			CohortSize: 30, Promote: 5, Demote: 5, Status: gamify.StatusActive, Created: jT1, Updated: jT2}},
		{name: "LeagueStanding", v: gamify.LeagueStanding{League: "weekly", User: "ana", Tier: "silver", TierIndex: 1, RunStart: jT1, RunEnd: jT2,
			Active: true, Cohort: 2, Rank: 1, Position: 1, Move: gamify.LeaguePromoted, Score: gamify.AmountFromInt(40),
			Members: []gamify.LeagueMember{{User: "ana", Rank: 1, Position: 1, Move: gamify.LeaguePromoted, Score: gamify.AmountFromInt(40)}}}},
		{name: "LeagueMember", v: gamify.LeagueMember{User: "bob", Rank: 2, Position: 3, Move: gamify.LeagueStayed, Score: gamify.AmountFromInt(3)}},
		{name: "LeagueResult", v: gamify.LeagueResult{League: "weekly", User: "ana", RunStart: jT1, RunEnd: jT2, Tier: "bronze", NewTier: "silver",
			Move: gamify.LeaguePromoted, Cohort: 1, Rank: 1, Position: 1, Score: gamify.AmountFromInt(40), CohortMembers: 30}},
		{name: "LeagueRun", v: gamify.LeagueRun{League: "weekly", RunStart: jT1, RunEnd: jT2, Size: 30,
			Tiers: [][]string{{"ana", ""}, {"bob"}}, First: []int{0, 30}}},
		{name: "Game", v: gamify.Game{
			Attributes:   []gamify.Attribute{{Key: "plan", Name: "Plan", Type: gamify.UserAttribute}},
			Metrics:      []gamify.Metric{{Key: "km", Name: "Kilometres", UnitType: gamify.UnitNumber}},
			Streaks:      []gamify.Streak{{Key: "daily-run", Name: "Daily run", Frequency: gamify.StreakDaily, Metrics: []gamify.StreakMetric{{Metric: "km", Min: amt("1")}}}},
			Achievements: []gamify.Achievement{{Key: "first-run", Name: "First run", Kind: gamify.AchievementMetric, Metric: "km", Threshold: amt("1")}},
			Points:       []gamify.PointsSystem{{Key: "xp", Name: "XP"}},
			Leaderboards: []gamify.Leaderboard{{Key: "weekly", Name: "Weekly", RankBy: gamify.RankByMetric, Metric: "km", RunEvery: 1, RunUnit: gamify.RunWeek}},
			Leagues:      []gamify.League{{Key: "weekly", Name: "Weekly", Board: "weekly", Tiers: []string{"bronze", "silver"}, CohortSize: 30, Promote: 5, Demote: 5}},
			Rewards:      []gamify.Reward{{Key: "mug", Name: "Mug", Type: gamify.RewardPhysical, Cost: amt("200"), System: "xp"}},
			Challenges: []gamify.Challenge{{Key: "5k", Name: "5 km", Window: gamify.ChallengePerpetual,
				Objectives: []gamify.ChallengeObjective{{Key: "km", Metric: "km", Target: amt("5")}}}},
			Tenants: []gamify.Tenant{{Key: "acme", Name: "Acme"}},
		}},
		{name: "DailyWindow", v: gamify.DailyWindow{From: "09:00", To: "17:30"}},
		{name: "Date", v: jD2},

		// Inputs, filters and queries.
		{name: "UserInput", v: jUser},
		{name: "Event", v: gamify.Event{Metric: "km", User: "u1", Profile: &jUser, Value: 5.5, Amount: amt("5.5"),
			Attributes: map[string]string{"surface": "road"}, IdempotencyKey: "evt-1", Time: jT2}},
		{name: "ManualCompletion", v: gamify.ManualCompletion{Achievement: "helper", User: "u1", Profile: &jUser}},
		{name: "PointsEntry", v: gamify.PointsEntry{System: "xp", User: "u1", Amount: amt("12.75"), IdempotencyKey: "grant-1", Reason: "support"}},
		{name: "ClaimRequest", v: gamify.ClaimRequest{Reward: "mug", User: "u1", IdempotencyKey: "claim-1"}},
		{name: "ScoreSubmission", v: gamify.ScoreSubmission{Board: "arcade", User: "u1", Score: amt("1200"), Subscore: amt("3.5")}},
		{name: "AchievementStatsQuery", v: gamify.AchievementStatsQuery{ForUser: true, UserAttributes: map[string]string{"plan": "pro"}}},
		{name: "Preferences", v: gamify.Preferences{
			Notifications: map[gamify.NotificationType][]gamify.Channel{gamify.NotifyRecap: {gamify.ChannelEmail}, gamify.NotifyStreakReminder: {}},
			Streak:        gamify.StreakPreferences{Enabled: true, Thresholds: map[string]gamify.Amount{"km": amt("3.5")}, OptOut: true},
			ReminderHour:  7}},
		{name: "StreakPreferences", v: gamify.StreakPreferences{Enabled: true, Thresholds: map[string]gamify.Amount{"km": amt("3.5")}, OptOut: true}},
		{name: "ListOptions", v: gamify.ListOptions{Limit: 50, Skip: 100, IncludeArchived: true}},
		{name: "RewardListOptions", v: gamify.RewardListOptions{ListOptions: gamify.ListOptions{Limit: 10, Skip: 20, IncludeArchived: true}, Type: gamify.RewardCoupon}},
		{name: "BoostFilter", v: gamify.BoostFilter{System: "xp", Scope: gamify.BoostUser, User: "u1", Status: gamify.StatusActive}},
		{name: "TriggerFilter", v: gamify.TriggerFilter{System: "xp", Kind: gamify.TriggerStreak}},
		{name: "SummaryQuery", v: gamify.SummaryQuery{Aggregation: gamify.AggregateWeekly, Start: jD1, End: jD2}},
		{name: "UserQuery", v: gamify.UserQuery{Search: "ada", Active: ptr(false), Level: "silver", System: "xp", Sort: gamify.SortLastEvent,
			Descending: true, Page: 2, PageSize: 25}},

		// Results and reads.
		{name: "EventResult", v: gamify.EventResult{EventID: "evt-9", User: "u1", Metric: "km", Total: amt("42.195"), IdempotentReplayed: true,
			IdempotencyKey: "evt-1", Achievements: []gamify.AchievementCompletion{jCompletion},
			Streak:       &gamify.StreakResult{Key: "daily-run", Length: 5, Extended: true, Expires: jT3, AtRisk: true, Freezes: 1},
			Points:       []gamify.PointsChange{jPointsChange},
			Leaderboards: []gamify.LeaderboardChange{jBoardChange}, Milestones: []gamify.MilestoneReached{jReached},
			Challenges: []gamify.ChallengeChange{jChallengeChange}}},
		{name: "MilestoneReached", v: jReached},
		{name: "AchievementCompletion", v: jCompletion},
		{name: "CompleteResult", v: gamify.CompleteResult{CompletedAt: jT1, AlreadyCompleted: true,
			Completions: []gamify.AchievementCompletion{jCompletion}, Points: []gamify.PointsChange{jPointsChange}}},
		{name: "StreakResult", v: gamify.StreakResult{Key: "daily-run", Length: 5, Extended: true, Expires: jT3, AtRisk: true, Freezes: 1}},
		{name: "PointsChange", v: jPointsChange},
		{name: "LevelChange", v: jLevel},
		{name: "Award", v: jAward},
		{name: "AppliedBoost", v: gamify.AppliedBoost{Key: "weekend", Level: "silver", Multiplier: amt("1.5")}},
		{name: "PointsResult", v: gamify.PointsResult{UserPoints: jUserPoints, IdempotentReplayed: true, Points: []gamify.PointsChange{jPointsChange}}},
		{name: "UserPoints", v: jUserPoints},
		{name: "Claim", v: jClaim},
		{name: "LedgerEntry", v: gamify.LedgerEntry{Seq: 42, At: jT1, User: "ana", Kind: "award", Key: "xp", Amount: amt("2.5"),
			Trigger: "xp-km", Reason: "bug report", IdempotencyKey: "k-1"}},
		{name: "RewardCode", v: gamify.RewardCode{Code: "MUG-1", Claimed: true}},
		{name: "ApplyChange", v: gamify.ApplyChange{Resource: "metric", Key: "km", Action: gamify.ApplyPatched, Fields: []string{"Name", "Units"}}},
		{name: "ApplyReport", v: gamify.ApplyReport{Changes: []gamify.ApplyChange{{Resource: "streak", Key: "daily-run", Action: gamify.ApplyCreated, Fields: []string{"Name"}}}}},
		{name: "Issue", v: gamify.Issue{Index: 3, Key: "km", Severity: gamify.SeverityWarning, Message: "Metric.Name: must not be empty"}, zeroOK: []string{"Err"}},
		{name: "ValidationError", v: gamify.ValidationError{Field: "Metric.Key", Value: "a b", Reason: "must match [A-Za-z0-9_-]{1,64}"}},
		{name: "IdempotencyError", v: gamify.IdempotencyError{Field: "Event.IdempotencyKey", Key: "k1", What: "event of xp (value, time or attributes)"}},
		{name: "User", v: gamify.User{ID: "u1", Name: "Ada", Email: "ada@example.com", TZ: "Europe/Paris", Attributes: map[string]string{"plan": "pro"},
			DeviceTokens: []string{"tok-1"}, SubscribeToEmails: true, Created: jT1, Updated: jT2, Active: true, Control: true}},
		{name: "UserPage", v: gamify.UserPage{Rows: []gamify.UserRow{{ID: "u1", Name: "Ada", Active: true, Created: jT1, FirstEvent: jT1, LastEvent: jT2,
			Events: 12, Points: amt("300"), Available: amt("100"), Level: "silver"}}, Total: 1, Page: 1, PageSize: 25}},
		{name: "UserRow", v: gamify.UserRow{ID: "u1", Name: "Ada", Active: true, Created: jT1, FirstEvent: jT1, LastEvent: jT2,
			Events: 12, Points: amt("300"), Available: amt("100"), Level: "silver"}},
		{name: "UserMetric", v: gamify.UserMetric{Key: "km", Name: "Kilometres", UnitType: gamify.UnitCurrency, Units: "EUR", Total: amt("99.99"), Events: 7,
			Achievements: []gamify.UserAchievement{{Key: "marathon", Name: "Marathon", Completed: true, CompletedAt: jT2, Backdated: true, Current: amt("42.195"), Target: amt("42.195")}}}},
		{name: "UserAchievement", v: gamify.UserAchievement{Key: "marathon", Name: "Marathon", Completed: true, CompletedAt: jT2, Backdated: true,
			Current: amt("10.5"), Target: amt("42.195")}},
		{name: "AchievementStats", v: gamify.AchievementStats{Achievement: gamify.Achievement{Key: "marathon", Name: "Marathon", Kind: gamify.AchievementManual},
			Completions: 12, RarityPercent: 3.75}},
		{name: "UserStreak", v: gamify.UserStreak{Key: "daily-run", StreakStatus: jStreakState}},
		{name: "StreakStatus", v: jStreakState},
		{name: "StreakLeader", v: gamify.StreakLeader{User: "u1", StreakStatus: jStreakState}},
		{name: "StreakUserResult", v: gamify.StreakUserResult{User: "u1", Length: 3, Freezes: 2, Warning: "freezes capped at Max"}},
		{name: "StreakPeriod", v: gamify.StreakPeriod{First: jD1, Start: jT1, End: jT2, Length: 3, Met: true, UsedFreeze: true, UsedPause: true, Missed: true}},
		{name: "StreakPause", v: gamify.StreakPause{ID: 4, From: jD1, To: jD2}},
		{name: "LevelCount", v: gamify.LevelCount{Level: "silver", Users: 40}},
		{name: "PointsBucket", v: gamify.PointsBucket{From: amt("0"), To: amt("100.5"), Users: 17}, zeroOK: []string{"From"}},
		{name: "SummaryRow", v: gamify.SummaryRow{Start: jD1, Total: amt("120"), Change: amt("-3.5")}},
		{name: "YearReview", v: gamify.YearReview{User: "u1", Year: 2026, DaysActive: 120, WeeksActive: 40, MonthsActive: 11, Events: 400,
			MostActiveDay: &jActive, MostActiveWeek: &jActive, MostActiveMonth: &jActive, Weekly: []gamify.ActivePeriod{jActive}, LongestStreak: 30,
			Streaks: []gamify.YearStreak{{Streak: "daily-run", Length: 30}}, Metrics: []gamify.YearTotal{jYearTotal}, Points: []gamify.YearTotal{jYearTotal},
			Achievements: []gamify.AchievementCompletion{jCompletion}, Leaderboards: []gamify.YearRank{{Leaderboard: "weekly", Best: 2}}}},
		{name: "ActivePeriod", v: jActive},
		{name: "YearStreak", v: gamify.YearStreak{Streak: "daily-run", Length: 30}},
		{name: "YearTotal", v: jYearTotal},
		{name: "YearRank", v: gamify.YearRank{Leaderboard: "weekly", Best: 2}},

		// Notifications.
		{name: "AchievementCompleted", v: gamify.AchievementCompleted{User: "u1", Achievement: "marathon", Name: "Marathon", At: jT2}},
		{name: "PointsChanged", v: gamify.PointsChanged{User: "u1", System: "xp", Added: amt("15"), Spent: amt("200"), Total: amt("115.25"), Level: &jLevel, At: jT2}},
		{name: "RewardClaimed", v: gamify.RewardClaimed{Claim: jClaim}},
		{name: "StreakChanged", v: gamify.StreakChanged{User: "u1", Streak: "daily-run", Kind: gamify.StreakFreezeEarned, Period: jD1, Length: 5, Freezes: 2, Amount: 1, At: jT2}},
		{name: "StreakLengthChanged", v: gamify.StreakLengthChanged{User: "u1", Streak: "daily-run", From: 3, To: 5, At: jT2}},
		{name: "UserCreated", v: gamify.UserCreated{User: "u1", At: jT1}},
		{name: "StreakReminder", v: gamify.StreakReminder{User: "u1", Streak: "daily-run", Length: 4, Deadline: jT3,
			Channels: []gamify.Channel{gamify.ChannelPush}, At: jT2}},
		{name: "Reactivation", v: gamify.Reactivation{User: "u1", Message: 2, DaysInactive: 5, LastActive: jT1,
			Channels: []gamify.Channel{gamify.ChannelEmail}, At: jT2}},
		{name: "Recap", v: gamify.Recap{User: "u1", WeekStart: jD1, Events: 12, Points: map[string]gamify.Amount{"xp": amt("30")}, Streak: 4,
			Achievements: []string{"first-run"}, Channels: []gamify.Channel{gamify.ChannelEmail, gamify.ChannelPush}, At: jT2}},
		{name: "AtRiskQuery", v: gamify.AtRiskQuery{Streak: "daily-run", Within: 4 * time.Hour, Limit: 10, After: "1:1/u1"}},
		{name: "AtRiskUser", v: gamify.AtRiskUser{User: "u1", Length: 4, Deadline: jT3, Freezes: 1}},
		{name: "AtRiskPage", v: gamify.AtRiskPage{Users: []gamify.AtRiskUser{{User: "u1", Length: 4, Deadline: jT3, Freezes: 1}}, Next: "1:1/u1"}},
		{name: "ReminderOptions", v: gamify.ReminderOptions{Hour: 7, ReactivationDays: []int{3, 7}, Types: []gamify.NotificationType{gamify.NotifyRecap}}},
		{name: "StreakMilestoneReached", v: gamify.StreakMilestoneReached{User: "u1", MilestoneReached: jReached, At: jT2}},
		{name: "StreakMilestoneReversed", v: gamify.StreakMilestoneReversed{User: "u1", MilestoneReached: jReached, At: jT2}},
		{name: "BoostStarted", v: gamify.BoostStarted{Boost: "double-ada", System: "xp", Scope: gamify.BoostUser, User: "u1", At: jT1}},
		{name: "BoostFinished", v: gamify.BoostFinished{Boost: "double-ada", System: "xp", Scope: gamify.BoostUser, User: "u1", At: jT2}},

		// Leaderboards.
		{name: "Leaderboard", v: gamify.Leaderboard{Key: "weekly", Name: "Weekly", Description: "Most km this week", RankBy: gamify.RankByScore,
			Metric: "km", Streak: "daily-run", System: "xp", Operator: gamify.OpBest, Order: gamify.Asc, Ties: gamify.TiesDense, TZ: "Europe/Paris",
			Start: jD1, End: jD2, RunEvery: 1, RunUnit: gamify.RunWeek, RunCron: "0 0 * * 1", Window: gamify.DailyWindow{From: "09:00", To: "17:00"},
			MaxParticipants: 100, Breakdown: []string{"plan"}, Status: gamify.StatusScheduled, Created: jT1, Updated: jT2, Inactive: jInactive[:1]}},
		{name: "BoardListOptions", v: gamify.BoardListOptions{ListOptions: gamify.ListOptions{Limit: 10, Skip: 5, IncludeArchived: true}, IncludeFinished: true, IncludeInactive: true}},
		{name: "BoardQuery", v: gamify.BoardQuery{At: jT2, Group: "plan:pro", Offset: 10, Limit: 20, User: "u1"}},
		{name: "BoardPage", v: gamify.BoardPage{Board: "weekly", Group: "plan:pro", RunStart: jT1, RunEnd: jT3, Finished: true, Filling: true, Participants: 30,
			Threshold: amt("12.5"), Rows: []gamify.BoardRow{{Rank: 1, User: "u1", Score: amt("42.195"), Subscore: amt("-3")}}}},
		{name: "BoardRow", v: gamify.BoardRow{Rank: 1, User: "u1", Score: amt("42.195"), Subscore: amt("-3")}},
		{name: "BoardRun", v: gamify.BoardRun{Start: jT1, End: jT3, Participants: 30}},
		{name: "UserRank", v: gamify.UserRank{Board: "weekly", Group: "plan:pro", Rank: 2, Position: 3, Score: amt("40"), Subscore: amt("1"),
			Percentile: 93.5, Participants: 30}},
		{name: "LeaderboardChange", v: jBoardChange},
		{name: "DailyRank", v: gamify.DailyRank{Date: jD1, Rank: 4, Best: 2, Score: gamify.MustParseAmount("12.5"), PreviousRank: 7, PreviousScore: gamify.AmountFromInt(9)}},
		{name: "LeaderboardStarted", v: gamify.LeaderboardStarted{Board: "weekly", RunStart: jT1, RunEnd: jT3}},
		{name: "LeaderboardFinished", v: gamify.LeaderboardFinished{Board: "weekly", RunStart: jT1, RunEnd: jT3, Participants: 30}},
		{name: "LatencyHistogram", v: jLatency},
		{name: "Stats", v: gamify.Stats{Commands: 12, Rejected: 1, Events: 9, Batches: 4, CommitFailures: 1,
			CommitLatency: jLatency, Pending: 2, UserCacheHits: 7, UserCacheMisses: 3, UsersCached: 3, BoardEntries: 3,
			UsersIndexed: 3, JobsRun: 2, JobsFailed: 1, JobsCollapsed: 1, Subscribers: 1, NotificationsQueued: 2, NotificationsDelivered: 5,
			NotificationsDropped: 2, CallbackPanics: 1, Tenants: 1, LogPosition: 40, LogHead: 42, CheckpointPosition: 30, StagedRecords: 12,
			StagedBytes: 4096, LogBytes: 8192, Checkpoints: 3, CheckpointFailures: 1, LastCheckpoint: 5 * time.Millisecond,
			Replayed: 10, ReplayFailed: 1}},
		{name: "OutboxEntry", v: gamify.OutboxEntry{Seq: 7, At: jT1, Type: "UserCreated", Notification: gamify.UserCreated{User: "u1", At: jT1}}},
		{name: "OutboxInfo", v: gamify.OutboxInfo{First: 3, Last: 9}},
		{name: "ConsumerInfo", v: gamify.ConsumerInfo{Name: "mailer", Acked: 5, Pending: 4, Created: jT1}},
	}...)
}

var jLatency = gamify.LatencyHistogram{
	Bounds: [11]time.Duration{250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2500 * time.Microsecond,
		5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
		250 * time.Millisecond, time.Second},
	Counts: [12]uint64{1, 2, 1}, Count: 4, Sum: 1800 * time.Microsecond,
}

// jsonSkipped are the exported types without a JSON form of their own:
// handles, options, interfaces and the clock.
var jsonSkipped = []string{
	"Engine", "Options", "Clock", "ManualClock", "Subscription", "Notification",
	"AchievementsAPI", "AttributesAPI", "BoostsAPI", "LeaderboardsAPI", "LevelsAPI", "MetricsAPI", "PointsAPI",
	"RewardsAPI", "LeaguesAPI", "ChallengesAPI", "StreaksAPI", "TenantsAPI", "TriggersAPI", "UsersAPI", "OutboxAPI", "Consumer",
	"ReplicatedLog",
}

// TestJSONRoundTrip marshals a fully populated value of every public value
// type and decodes it back: the decoded value equals the original, and
// marshalling it again gives the same bytes.
func TestJSONRoundTrip(t *testing.T) {
	for _, c := range jsonCases() {
		t.Run(c.name, func(t *testing.T) {
			rv := reflect.ValueOf(c.v)
			require.Equal(t, c.name, rv.Type().Name(), "case name")
			for i := range rv.NumField() {
				f := rv.Type().Field(i)
				if f.IsExported() && !slices.Contains(c.zeroOK, f.Name) {
					require.False(t, rv.Field(i).IsZero(), "%s.%s is zero: populate every field", c.name, f.Name)
				}
			}
			b, err := json.Marshal(c.v)
			require.NoError(t, err)
			p := reflect.New(rv.Type())
			require.NoError(t, json.Unmarshal(b, p.Interface()), "%s", b)
			require.Equal(t, c.v, p.Elem().Interface(), "%s", b)
			again, err := json.Marshal(p.Elem().Interface())
			require.NoError(t, err)
			require.Equal(t, string(b), string(again))
			requireJSONShape(t, rv.Type(), b)
		})
	}
}

// TestJSONCoversEveryType fails when an exported type of the package is
// neither covered by TestJSONRoundTrip nor listed in jsonSkipped.
func TestJSONCoversEveryType(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range jsonCases() {
		covered[c.name] = true
	}
	for _, n := range jsonSkipped {
		covered[n] = true
	}
	// Enums are strings (or encode by name) and are checked inside the values that use them.
	enums := map[string]bool{"Amount": true, "BoardOrder": true, "TiePolicy": true, "RunUnit": true, "Durability": true}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var missing []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range af.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, s := range gd.Specs {
				ts := s.(*ast.TypeSpec)
				if !ts.Name.IsExported() || covered[ts.Name.Name] || enums[ts.Name.Name] {
					continue
				}
				if id, ok := ts.Type.(*ast.Ident); ok && id.Name == "string" {
					continue // a string enum
				}
				missing = append(missing, ts.Name.Name)
			}
		}
	}
	require.Empty(t, missing, "exported types without a JSON round-trip case")
}

var (
	amountType    = reflect.TypeFor[gamify.Amount]()
	timeType      = reflect.TypeFor[time.Time]()
	dateType      = reflect.TypeFor[gamify.Date]()
	durationType  = reflect.TypeFor[time.Duration]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// requireJSONShape walks the JSON of a value of type typ and checks the
// rules: object keys are the Go field names, amounts are decimal strings,
// times RFC 3339, dates "2006-01-02", enums names (no named numeric type
// encodes as a number except time.Duration, documented as nanoseconds).
func requireJSONShape(t *testing.T, typ reflect.Type, b []byte) {
	t.Helper()
	var v any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	require.NoError(t, d.Decode(&v))
	checkJSONShape(t, typ.Name(), typ, v)
}

func checkJSONShape(t *testing.T, path string, typ reflect.Type, v any) {
	t.Helper()
	if v == nil {
		return
	}
	switch typ {
	case amountType:
		s, ok := v.(string)
		require.True(t, ok, "%s: an Amount is a string, got %T", path, v)
		_, err := gamify.ParseAmount(s)
		require.NoError(t, err, "%s", path)
		return
	case timeType:
		s, ok := v.(string)
		require.True(t, ok, "%s: a time is a string, got %T", path, v)
		_, err := time.Parse(time.RFC3339Nano, s)
		require.NoError(t, err, "%s", path)
		return
	case dateType:
		s, ok := v.(string)
		require.True(t, ok, "%s: a Date is a string, got %T", path, v)
		if s == "" {
			return // the zero Date: no date
		}
		_, err := time.Parse(time.DateOnly, s)
		require.NoError(t, err, "%s", path)
		return
	case durationType:
		_, ok := v.(json.Number)
		require.True(t, ok, "%s: a Duration is integer nanoseconds, got %T", path, v)
		return
	}
	if typ.Implements(textMarshaler) {
		_, ok := v.(string)
		require.True(t, ok, "%s: a TextMarshaler is a string, got %T", path, v)
		return
	}
	switch typ.Kind() {
	case reflect.Pointer:
		checkJSONShape(t, path, typ.Elem(), v)
	case reflect.Slice:
		for i, e := range v.([]any) {
			checkJSONShape(t, path+"["+string(rune('0'+i%10))+"]", typ.Elem(), e)
		}
	case reflect.Map:
		for k, e := range v.(map[string]any) {
			checkJSONShape(t, path+"."+k, typ.Elem(), e)
		}
	case reflect.Struct:
		obj, ok := v.(map[string]any)
		require.True(t, ok, "%s: a struct is an object, got %T", path, v)
		fields := map[string]reflect.StructField{}
		for _, f := range reflect.VisibleFields(typ) {
			if f.IsExported() && !f.Anonymous {
				fields[f.Name] = f
			}
		}
		for k, e := range obj {
			f, ok := fields[k]
			require.True(t, ok, "%s: key %q is not a Go field name of %s", path, k, typ)
			checkJSONShape(t, path+"."+k, f.Type, e)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if typ.PkgPath() != "" && !jsonNumericEnumOK[typ] {
			t.Errorf("%s: %s encodes as a number; an enum must encode by name", path, typ)
		}
	}
}

// jsonNumericEnumOK are the named numeric types still encoded as numbers: a
// board's Order and Ties (0 desc / 1 asc; 0 competition / 1 dense / 2
// unique), pending the leaderboard work, and the Month inside a Date.
var jsonNumericEnumOK = map[reflect.Type]bool{
	reflect.TypeFor[time.Month](): true, // only inside Date, which encodes as text
}

// TestJSONGolden pins the exact form of a few values: amounts as decimal
// strings, enums by name, times RFC 3339 in UTC, dates "2006-01-02" and a
// Duration as integer nanoseconds.
func TestJSONGolden(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{jAward, `{"ID":42,"At":"2026-03-08T12:00:00Z","Trigger":"per-km","Kind":"metric","Reason":"bonus","Base":"10","Multiple":2,` +
			`"Boosts":[{"Key":"weekend","Level":"silver","Multiplier":"1.5"}],"Rounding":"nearest","Points":"15","Capped":true,"Total":"115.25"}`},
		{gamify.StreakPause{ID: 4, From: jD1, To: jD2}, `{"ID":4,"From":"2026-03-08","To":"2026-03-14"}`},
		{gamify.SummaryRow{Start: jD1, Total: amt("0.000001"), Change: amt("-3.5")}, `{"Start":"2026-03-08","Total":"0.000001","Change":"-3.5"}`},
		{gamify.Reward{Key: "double-xp", Name: "Double XP", Type: gamify.RewardPointsMultiplier, Cost: amt("200"), System: "xp",
			Multiplier: amt("2"), Duration: 90 * time.Minute, Expires: jT3},
			`{"Key":"double-xp","Name":"Double XP","Description":"","Type":"points_multiplier","Cost":"200","System":"xp","PerUserLimit":0,` +
				`"Inventory":0,"Expires":"2026-03-14T23:59:59.999999999Z","Status":"","Multiplier":"2","Duration":5400000000000,` +
				`"Created":"0001-01-01T00:00:00Z","Updated":"0001-01-01T00:00:00Z"}`},
		{gamify.ApplyReport{Changes: []gamify.ApplyChange{{Resource: "metric", Key: "km", Action: gamify.ApplyPatched, Fields: []string{"Name"}},
			{Resource: "streak", Key: "daily-run", Action: gamify.ApplyUnchanged}}},
			`{"Changes":[{"Resource":"metric","Key":"km","Action":"patched","Fields":["Name"]},{"Resource":"streak","Key":"daily-run","Action":"unchanged"}]}`},
		{gamify.StreakPreferences{Enabled: true, Thresholds: map[string]gamify.Amount{"km": amt("3.5")}}, `{"Enabled":true,"Thresholds":{"km":"3.5"}}`},
		{gamify.Preferences{Notifications: map[gamify.NotificationType][]gamify.Channel{gamify.NotifyRecap: {gamify.ChannelEmail}}},
			`{"Notifications":{"recap":["email"]},"Streak":{"Enabled":false}}`},
		// Optional times are left out when zero: a perpetual challenge has no
		// Start or End, a participation without end or completion neither.
		{gamify.Challenge{Key: "c", Name: "C", Window: gamify.ChallengePerpetual, Completion: gamify.ChallengePayout{Points: amt("0")}, Created: jT1, Updated: jT1},
			`{"Key":"c","Name":"C","Description":"","Window":"perpetual","Enrollment":"","Objectives":null,"Completion":{"Points":"0"},` +
				`"Status":"","Created":"2026-03-08T12:00:00Z","Updated":"2026-03-08T12:00:00Z"}`},
		{gamify.ChallengeProgress{Challenge: "c", User: "ana", EnrolledAt: jT1, WindowStart: jT1, Milestones: []int{}},
			`{"Challenge":"c","User":"ana","EnrolledAt":"2026-03-08T12:00:00Z","WindowStart":"2026-03-08T12:00:00Z","Objectives":null,"Complete":0,"Milestones":[]}`},
		{gamify.Claim{Reward: "mug", Cost: amt("200"), At: jT2, Seq: 7, IdempotentReplayed: true},
			`{"Reward":"mug","RewardName":"","RewardType":"","User":"","Code":"","Cost":"200","Balance":"0","At":"2026-03-09T08:30:15.5Z","Seq":7,"IdempotentReplayed":true}`},
		{gamify.Claim{Reward: "mug", Cost: amt("200"), At: jT2, Seq: 7},
			`{"Reward":"mug","RewardName":"","RewardType":"","User":"","Code":"","Cost":"200","Balance":"0","At":"2026-03-09T08:30:15.5Z","Seq":7}`},
	} {
		b, err := json.Marshal(c.v)
		require.NoError(t, err)
		require.JSONEq(t, c.want, string(b))
		require.Equal(t, c.want, string(b), "field order")
	}
}

// TestJSONIssueErr: an Issue's Err is left out of its JSON (Message holds its
// text), so an Issue with an error marshals and decodes back.
func TestJSONIssueErr(t *testing.T) {
	err := &gamify.ValidationError{Field: "Metric.Name", Value: "", Reason: "must not be empty"}
	is := gamify.Issue{Index: 1, Key: "km", Severity: gamify.SeverityError, Message: err.Error(), Err: err}
	b, mErr := json.Marshal(is)
	require.NoError(t, mErr)
	require.Equal(t, `{"Index":1,"Key":"km","Severity":"error","Message":"`+err.Error()+`"}`, string(b))
	var back gamify.Issue
	require.NoError(t, json.Unmarshal(b, &back))
	is.Err = nil
	require.Equal(t, is, back)
}

// TestJSONPreferencesLowercase: preferences written before they took the Go
// field names ("notifications", "streak", "enabled", "thresholds") still
// decode, as encoding/json matches keys without regard to case.
func TestJSONPreferencesLowercase(t *testing.T) {
	var p gamify.Preferences
	require.NoError(t, json.Unmarshal([]byte(`{"notifications":{"recap":["email"],"streak_reminder":[]},`+
		`"streak":{"enabled":true,"thresholds":{"km":"3.5"}}}`), &p))
	require.Equal(t, gamify.Preferences{
		Notifications: map[gamify.NotificationType][]gamify.Channel{gamify.NotifyRecap: {gamify.ChannelEmail}, gamify.NotifyStreakReminder: {}},
		Streak:        gamify.StreakPreferences{Enabled: true, Thresholds: map[string]gamify.Amount{"km": amt("3.5")}},
	}, p)
}

// TestJSONDurability: Durability encodes by name.
func TestJSONDurability(t *testing.T) {
	for d, name := range map[gamify.Durability]string{gamify.Durable: `"durable"`, gamify.Buffered: `"buffered"`} {
		b, err := json.Marshal(d)
		require.NoError(t, err)
		require.Equal(t, name, string(b))
		var back gamify.Durability = 7
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, d, back)
	}
	var d gamify.Durability = gamify.Buffered
	require.NoError(t, json.Unmarshal([]byte(`""`), &d))
	require.Equal(t, gamify.Durable, d)
	require.Error(t, json.Unmarshal([]byte(`"sometimes"`), &d))
	require.Error(t, json.Unmarshal([]byte(`1`), &d))
	_, err := json.Marshal(gamify.Durability(9))
	require.Error(t, err)
}

// TestJSONClaimReplay: a retried claim's IdempotentReplayed flag is in its JSON; stored
// claims (Users().Claims) never carry it.
func TestJSONClaimReplay(t *testing.T) {
	ctx := context.Background()
	eng := rewardEngine(t)
	_, err := eng.Rewards().Create(ctx, gamify.Reward{Key: "mug", Name: "Mug", Type: gamify.RewardCoupon,
		Cost: gamify.AmountFromInt(10), System: "coins", PerUserLimit: 3})
	require.NoError(t, err)
	first, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "u1", IdempotencyKey: "k"})
	require.NoError(t, err)
	retry, err := eng.Rewards().Claim(ctx, gamify.ClaimRequest{Reward: "mug", User: "u1", IdempotencyKey: "k"})
	require.NoError(t, err)
	require.True(t, retry.IdempotentReplayed)

	b, err := json.Marshal(first)
	require.NoError(t, err)
	require.NotContains(t, string(b), `"IdempotentReplayed"`)
	b, err = json.Marshal(retry)
	require.NoError(t, err)
	require.Contains(t, string(b), `"IdempotentReplayed":true`)
	var back gamify.Claim
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, retry, back)

	claims, err := eng.Users().Claims(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, claims, 1)
	require.False(t, claims[0].IdempotentReplayed)
	first.IdempotentReplayed = false
	require.Equal(t, first, claims[0])
}

// A claim stored before IdempotencyKey had its name reads back with it.
func TestJSONClaimReadsItsOldKeyName(t *testing.T) {
	var c gamify.Claim
	require.NoError(t, json.Unmarshal([]byte(`{"Reward":"mug","Cost":"200","Seq":7,"IdemKey":"k-1"}`), &c))
	require.Equal(t, gamify.Claim{Reward: "mug", Cost: gamify.AmountFromInt(200), Seq: 7, IdempotencyKey: "k-1"}, c)
	require.NoError(t, json.Unmarshal([]byte(`{"Reward":"mug","IdempotencyKey":"k-2"}`), &c))
	require.Equal(t, "k-2", c.IdempotencyKey)
}

// A level stored or logged before Color had its name reads back with it.
func TestJSONLevelReadsItsOldKeyName(t *testing.T) {
	var l gamify.Level
	require.NoError(t, json.Unmarshal([]byte(`{"Key":"gold","Level":1,"Name":"Gold","Colour":"#ffd700","Threshold":"100"}`), &l))
	require.Equal(t, gamify.Level{Key: "gold", Level: 1, Name: "Gold", Color: "#ffd700", Threshold: gamify.AmountFromInt(100)}, l)
	require.NoError(t, json.Unmarshal([]byte(`{"Key":"gold","Color":"#ffcc00"}`), &l))
	require.Equal(t, "#ffcc00", l.Color)
	require.NoError(t, json.Unmarshal([]byte(`{"Key":"gold","Color":"#ffcc00","Colour":"#000"}`), &l))
	require.Equal(t, "#ffcc00", l.Color, "the new name wins")
	var s gamify.PointsSystem
	require.NoError(t, json.Unmarshal([]byte(`{"Key":"xp","Levels":[{"Key":"gold","Colour":"#ffd700"}]}`), &s))
	require.Equal(t, "#ffd700", s.Levels[0].Color, "inside a points system too")
}

// A challenge stored or logged before Enrollment and its objectives'
// EventFilters had their names reads back with them.
func TestJSONChallengeReadsItsOldKeyNames(t *testing.T) {
	var c gamify.Challenge
	require.NoError(t, json.Unmarshal([]byte(`{"Key":"ranked","Name":"Ranked","Window":"perpetual","Enrolment":"automatic",`+
		`"Objectives":[{"Key":"r","Metric":"xp","Filters":{"mode":"ranked"},"Target":"10"},{"Key":"s","Metric":"xp","Target":"1"}]}`), &c))
	require.Equal(t, gamify.Challenge{Key: "ranked", Name: "Ranked", Window: gamify.ChallengePerpetual, Enrollment: gamify.ChallengeAutomatic,
		Objectives: []gamify.ChallengeObjective{
			{Key: "r", Metric: "xp", EventFilters: map[string]string{"mode": "ranked"}, Target: gamify.AmountFromInt(10)},
			{Key: "s", Metric: "xp", Target: gamify.AmountFromInt(1)},
		}}, c)
	require.NoError(t, json.Unmarshal([]byte(`{"Key":"ranked","Enrollment":"explicit","Objectives":[{"Key":"r","EventFilters":{"mode":"casual"}}]}`), &c))
	require.Equal(t, gamify.ChallengeExplicit, c.Enrollment)
	require.Equal(t, map[string]string{"mode": "casual"}, c.Objectives[0].EventFilters)
	var o gamify.ChallengeObjective
	require.NoError(t, json.Unmarshal([]byte(`{"Key":"r","Filters":{"mode":"ranked"}}`), &o))
	require.Equal(t, gamify.ChallengeObjective{Key: "r", EventFilters: map[string]string{"mode": "ranked"}}, o)
}

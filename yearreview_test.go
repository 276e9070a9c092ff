package gamify_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

// TestYearInReviewFixture checks every figure of two years in review against
// a fixture computed by hand. Ana lives in New York; her year boundary is
// local, so an event at 02:00 UTC on 1 January 2026 belongs to her 2025.
//
//	ana  2025-12-30  4 steps                  (bo has 10 from earlier that day)
//	     2025-12-31  2, then 1 at 21:00 local  (02:00 UTC on 1 January)
//	     2026-01-01  3   total 10: achievement "ten", rank 1 (tied with bo)
//	     2026-01-02  5   total 15
//	     2026-01-05  2 and 1 (the streak was lost on the 3rd)
//	     2026-01-06  1
//	     2026-01-07  1   total 20
//	bo   2025-12-30 10, 2026-01-03 13
//	cy   2026-01-04  5
//	di   2026-01-04  1 of another metric
func TestYearInReviewFixture(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(time.Date(2025, 12, 30, 8, 0, 0, 0, ny))
	mustMetric(t, eng.Engine, "steps")
	mustMetric(t, eng.Engine, "other")
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "walk", Name: "Walk", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "steps", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "xp", Name: "XP"})
	require.NoError(t, err)
	tr := perUnits("per-step", "steps", 1, 1)
	tr.System = "xp"
	_, err = eng.Points().Triggers().Create(ctx, tr)
	require.NoError(t, err)
	_, err = eng.Achievements().Create(ctx, gamify.Achievement{Key: "ten", Name: "Ten", Kind: gamify.AchievementMetric,
		Metric: "steps", Threshold: gamify.AmountFromInt(10)})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Create(ctx, gamify.Leaderboard{Key: "steps", Name: "Steps", RankBy: gamify.RankByMetric, Metric: "steps", TZ: "America/New_York"})
	require.NoError(t, err)
	_, err = eng.Leaderboards().Activate(ctx, "steps")
	require.NoError(t, err)
	for _, id := range []string{"ana", "bo", "cy", "di"} {
		_, err := eng.Users().Identify(ctx, gamify.UserInput{ID: id, TZ: "America/New_York"})
		require.NoError(t, err)
	}
	track := func(user, metric string, v float64, y int, m time.Month, d, h int) {
		t.Helper()
		eng.clock.Set(time.Date(y, m, d, h, 0, 0, 0, ny))
		_, err := eng.Track(ctx, gamify.Event{Metric: metric, User: user, Value: v})
		require.NoError(t, err)
	}
	track("bo", "steps", 10, 2025, 12, 30, 9)
	track("ana", "steps", 4, 2025, 12, 30, 12)
	track("ana", "steps", 2, 2025, 12, 31, 12)
	track("ana", "steps", 1, 2025, 12, 31, 21)
	track("ana", "steps", 3, 2026, 1, 1, 12)
	track("ana", "steps", 5, 2026, 1, 2, 12)

	// Asking now builds 2026's distribution; what follows must keep it current.
	early, err := eng.Users().YearInReview(ctx, "ana", 2026)
	require.NoError(t, err)
	require.Equal(t, 1, early.Metrics[0].ActiveUsers)

	track("bo", "steps", 13, 2026, 1, 3, 12)
	track("cy", "steps", 5, 2026, 1, 4, 12)
	track("di", "other", 1, 2026, 1, 4, 13)
	track("ana", "steps", 2, 2026, 1, 5, 9)
	track("ana", "steps", 1, 2026, 1, 5, 18)
	track("ana", "steps", 1, 2026, 1, 6, 12)
	track("ana", "steps", 1, 2026, 1, 7, 12)

	pct := func(v float64) *float64 { return &v }
	date := func(y int, m time.Month, d int) gamify.Date { return gamify.Date{Year: y, Month: m, Day: d} }
	check := func(t *testing.T) {
		r, err := eng.Users().YearInReview(ctx, "ana", 0)
		require.NoError(t, err)
		require.Equal(t, 2026, r.Year, "year 0 is the current year in the user's zone")
		require.Equal(t, 5, r.DaysActive)
		require.Equal(t, 2, r.WeeksActive, "the week of 29 December and the week of 5 January")
		require.Equal(t, 1, r.MonthsActive)
		require.Equal(t, 6, r.Events)
		require.Equal(t, &gamify.ActivePeriod{Start: date(2026, 1, 5), Events: 2}, r.MostActiveDay)
		require.Equal(t, &gamify.ActivePeriod{Start: date(2026, 1, 5), Events: 4}, r.MostActiveWeek)
		require.Equal(t, &gamify.ActivePeriod{Start: date(2026, 1, 1), Events: 6}, r.MostActiveMonth)
		require.Len(t, r.Weekly, 53, "every week touching 2026, from Monday 29 December")
		require.Equal(t, gamify.ActivePeriod{Start: date(2025, 12, 29), Events: 2}, r.Weekly[0])
		require.Equal(t, gamify.ActivePeriod{Start: date(2026, 1, 5), Events: 4}, r.Weekly[1])
		require.Equal(t, 3, r.LongestStreak, "5–7 January; the run of 30 December–2 January has 2 periods in 2026")
		require.Equal(t, []gamify.YearStreak{{Streak: "walk", Length: 3}}, r.Streaks)
		require.Equal(t, []gamify.YearTotal{{Key: "steps", Total: gamify.AmountFromInt(20), Change: gamify.AmountFromInt(13),
			PercentChange: pct(13.0 / 7 * 100), Percentile: 50, ActiveUsers: 4}}, r.Metrics,
			"ana and bo tie on 13: both are above cy (5) and di (no steps)")
		require.Equal(t, []gamify.YearTotal{{Key: "xp", Total: gamify.AmountFromInt(20), Change: gamify.AmountFromInt(13),
			PercentChange: pct(13.0 / 7 * 100), Percentile: 50, ActiveUsers: 4}}, r.Points)
		require.Len(t, r.Achievements, 1)
		require.Equal(t, "ten", r.Achievements[0].Key)
		require.Equal(t, time.Date(2026, 1, 1, 12, 0, 0, 0, ny), r.Achievements[0].CompletedAt.In(ny))
		require.Equal(t, []gamify.YearRank{{Leaderboard: "steps", Best: 1}}, r.Leaderboards, "tied with bo on 1 January")

		r, err = eng.Users().YearInReview(ctx, "ana", 2025)
		require.NoError(t, err)
		require.Equal(t, 2, r.DaysActive)
		require.Equal(t, 1, r.WeeksActive)
		require.Equal(t, 1, r.MonthsActive)
		require.Equal(t, 3, r.Events)
		require.Equal(t, &gamify.ActivePeriod{Start: date(2025, 12, 31), Events: 2}, r.MostActiveDay, "21:00 local counts for 31 December")
		require.Equal(t, 2, r.LongestStreak)
		require.Equal(t, []gamify.YearTotal{{Key: "steps", Total: gamify.AmountFromInt(7), Change: gamify.AmountFromInt(7),
			Percentile: 0, ActiveUsers: 2}}, r.Metrics, "no percent change from zero; bo's 10 is above")
		require.Empty(t, r.Achievements)
		require.Equal(t, []gamify.YearRank{{Leaderboard: "steps", Best: 2}}, r.Leaderboards)

		for id, want := range map[string]float64{"bo": 50, "cy": 25, "di": 0} {
			r, err := eng.Users().YearInReview(ctx, id, 2026)
			require.NoError(t, err)
			var got []float64
			for _, m := range r.Metrics {
				if m.Key == "steps" {
					got = append(got, m.Percentile)
				}
			}
			if id == "di" {
				require.Empty(t, got, "di changed no steps")
				require.Equal(t, 1, r.DaysActive)
				continue
			}
			require.Equal(t, []float64{want}, got, id)
		}
	}
	t.Run("live", check)
	eng.reopen(t)
	t.Run("reopened", check)

	for year, reason := range map[int]string{2024: "before the user's first activity", 2027: "in the future"} {
		_, err := eng.Users().YearInReview(ctx, "ana", year)
		var ve *gamify.ValidationError
		require.ErrorAs(t, err, &ve, "%d", year)
		require.Equal(t, "Year", ve.Field)
		require.Contains(t, err.Error(), reason)
	}
	_, err = eng.Users().YearInReview(ctx, "nobody", 2026)
	require.ErrorIs(t, err, gamify.ErrNotFound)

	// A deleted user leaves the distributions.
	require.NoError(t, eng.Users().Erase(ctx, "bo"))
	r, err := eng.Users().YearInReview(ctx, "ana", 2026)
	require.NoError(t, err)
	require.Equal(t, 3, r.Metrics[0].ActiveUsers)
	require.InDelta(t, 200.0/3, r.Metrics[0].Percentile, 1e-9)
}

// A weekly streak's run counts only the weeks touching the year, and days
// stay the local dates of the events after the user changes time zone.
func TestYearInReviewWeeklyStreakAndZoneChange(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	eng.clock.Set(time.Date(2025, 12, 1, 12, 0, 0, 0, tokyo))
	mustMetric(t, eng.Engine, "steps")
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "weekly", Name: "Weekly", Frequency: gamify.StreakWeekly,
		Metrics: []gamify.StreakMetric{{Metric: "steps", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
	_, err = eng.Users().Identify(ctx, gamify.UserInput{ID: "kai", TZ: "Asia/Tokyo"})
	require.NoError(t, err)
	track := func(at time.Time) {
		t.Helper()
		eng.clock.Set(at)
		_, err := eng.Track(ctx, gamify.Event{Metric: "steps", User: "kai", Value: 1})
		require.NoError(t, err)
	}
	// Weeks of 1, 8, 15, 22 and 29 December 2025 (Mondays), then 5 January.
	for d := 1; d <= 29; d += 7 {
		track(time.Date(2025, 12, d, 12, 0, 0, 0, tokyo))
	}
	track(time.Date(2026, 1, 1, 1, 0, 0, 0, tokyo)) // 31 December in UTC, 1 January for kai
	_, err = eng.Users().Update(ctx, gamify.UserInput{ID: "kai", TZ: "America/New_York"})
	require.NoError(t, err)
	track(time.Date(2026, 1, 5, 12, 0, 0, 0, ny))

	r, err := eng.Users().YearInReview(ctx, "kai", 2026)
	require.NoError(t, err)
	require.Equal(t, 2, r.LongestStreak, "the week of 29 December touches 2026, then the week of 5 January")
	require.Equal(t, 2, r.DaysActive, "1 January (Tokyo) and 5 January (New York)")
	require.Equal(t, &gamify.ActivePeriod{Start: gamify.Date{Year: 2026, Month: 1, Day: 1}, Events: 1}, r.MostActiveDay)
	r, err = eng.Users().YearInReview(ctx, "kai", 2025)
	require.NoError(t, err)
	require.Equal(t, 5, r.LongestStreak)
	require.Equal(t, 5, r.DaysActive)
}

// Late events count in the year of their own day, and users without an
// event in the year (a manual award) stay out of its percentiles. Both were
// found by the model test.
func TestYearInReviewLateRunsAndInactiveUsers(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(time.Date(2026, 12, 30, 12, 0, 0, 0, time.UTC))
	mustMetric(t, eng.Engine, "xp")
	_, err := eng.Streaks().Create(ctx, gamify.Streak{Key: "d", Name: "D", Frequency: gamify.StreakDaily,
		Metrics: []gamify.StreakMetric{{Metric: "xp", Min: gamify.AmountFromInt(1)}}})
	require.NoError(t, err)
	_, err = eng.Points().Create(ctx, gamify.PointsSystem{Key: "pts", Name: "Pts"})
	require.NoError(t, err)
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "a", Value: 1, Time: time.Date(2026, 12, 28, 12, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	r, err := eng.Users().YearInReview(ctx, "a", 2026)
	require.NoError(t, err)
	require.Equal(t, 1, r.LongestStreak, "a run met by a late event, already lost")

	eng.clock.Set(time.Date(2027, 1, 1, 12, 0, 0, 0, time.UTC))
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "b", Value: 1, Time: time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	r, err = eng.Users().YearInReview(ctx, "b", 2026)
	require.NoError(t, err)
	require.Equal(t, 1, r.LongestStreak)
	r, err = eng.Users().YearInReview(ctx, "b", 2027)
	require.NoError(t, err)
	require.Equal(t, 0, r.LongestStreak, "no period of 2027 was met")

	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "c", Value: 1}) // c: the only user active in 2027
	require.NoError(t, err)
	for _, u := range []string{"d", "e"} {
		_, err := eng.Points().Award(ctx, gamify.PointsEntry{System: "pts", User: u, Amount: gamify.AmountFromInt(10), Reason: "gift"})
		require.NoError(t, err)
	}
	_, err = eng.Points().Award(ctx, gamify.PointsEntry{System: "pts", User: "c", Amount: gamify.AmountFromInt(5), Reason: "gift"})
	require.NoError(t, err)
	r, err = eng.Users().YearInReview(ctx, "c", 2027)
	require.NoError(t, err)
	require.Equal(t, []gamify.YearTotal{{Key: "pts", Total: gamify.AmountFromInt(5), Change: gamify.AmountFromInt(5),
		Percentile: 0, ActiveUsers: 1}}, r.Points, "d and e have points but no event in 2027")
	r, err = eng.Users().YearInReview(ctx, "d", 2027)
	require.NoError(t, err)
	require.Equal(t, 100.0, r.Points[0].Percentile, "above the one active user")
	// d's first event of the year brings its award into the distribution.
	_, err = eng.Track(ctx, gamify.Event{Metric: "xp", User: "d", Value: 1})
	require.NoError(t, err)
	r, err = eng.Users().YearInReview(ctx, "c", 2027)
	require.NoError(t, err)
	require.Equal(t, 2, r.Points[0].ActiveUsers)
	require.Equal(t, 0.0, r.Points[0].Percentile)
	r, err = eng.Users().YearInReview(ctx, "d", 2027)
	require.NoError(t, err)
	require.Equal(t, 50.0, r.Points[0].Percentile)
}

package gamify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gamifykit/gamify"
)

func TestMetricSummaryAcrossDSTMonthsWeeksAndTZChange(t *testing.T) {
	ctx := context.Background()
	eng := openTest(t, nil)
	eng.clock.Set(time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC))
	mustMetric(t, eng.Engine, "xp")
	track := func(at time.Time, v float64, tz string) {
		t.Helper()
		_, err := eng.Track(ctx, gamify.Event{Metric: "xp", User: "ana", Value: v, Time: at, Profile: &gamify.UserInput{TZ: tz}})
		require.NoError(t, err)
	}
	track(time.Date(2026, 2, 27, 12, 0, 0, 0, ny), 5, "America/New_York")
	track(time.Date(2026, 3, 1, 23, 30, 0, 0, ny), 1, "")                // 04:30 UTC on 2 March: still 1 March locally
	track(time.Date(2026, 3, 8, 1, 30, 0, 0, ny), 2, "")                 // before the spring-forward
	track(time.Date(2026, 3, 8, 23, 30, 0, 0, ny), 3, "")                // the same 23-hour day
	track(time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC), 4, "Asia/Tokyo") // 10 March in Tokyo

	summary := func(agg gamify.Aggregation, from, to gamify.Date) []string {
		t.Helper()
		rows, err := eng.Users().MetricSummary(ctx, "ana", "xp", gamify.SummaryQuery{Aggregation: agg, Start: from, End: to})
		require.NoError(t, err)
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s %s %s", r.Start, r.Change, r.Total))
		}
		return out
	}
	d := func(m time.Month, day int) gamify.Date { return gamify.Date{Year: 2026, Month: m, Day: day} }
	require.Equal(t, []string{"2026-03-07 0 6", "2026-03-08 5 11", "2026-03-09 0 11", "2026-03-10 4 15"},
		summary(gamify.AggregateDaily, d(3, 7), d(3, 11)))
	require.Equal(t, []string{"2026-02-23 6 6", "2026-03-02 5 11", "2026-03-09 4 15"},
		summary(gamify.AggregateWeekly, d(2, 25), d(3, 16)), "weeks start on Monday")
	require.Equal(t, []string{"2026-02-01 5 5", "2026-03-01 10 15"},
		summary(gamify.AggregateMonthly, d(2, 1), d(4, 1)))

	for _, q := range []gamify.SummaryQuery{
		{Aggregation: gamify.AggregateDaily, Start: d(1, 1), End: gamify.Date{Year: 2027, Month: 2, Day: 6}}, // 401 days
		{Aggregation: gamify.AggregateDaily, Start: d(3, 2), End: d(3, 2)},
		{Aggregation: "hourly", Start: d(3, 1), End: d(3, 2)},
	} {
		_, err := eng.Users().MetricSummary(ctx, "ana", "xp", q)
		require.ErrorIs(t, err, gamify.ErrInvalid, "%+v", q)
	}
	_, err := eng.Users().MetricSummary(ctx, "ana", "xp", gamify.SummaryQuery{Aggregation: gamify.AggregateDaily,
		Start: d(1, 1), End: gamify.Date{Year: 2027, Month: 2, Day: 5}})
	require.NoError(t, err, "exactly 400 days is allowed")
}

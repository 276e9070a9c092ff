package schedule

import (
	"errors"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/robfig/cron/v3"
	"github.com/stretchr/testify/require"
)

func TestCronNext(t *testing.T) {
	ny := zone(t, "America/New_York")
	london := zone(t, "Europe/London")
	lordHowe := zone(t, "Australia/Lord_Howe")
	kolkata := zone(t, "Asia/Kolkata")
	santiago := zone(t, "America/Santiago")

	tests := []struct {
		name  string
		expr  string
		loc   *time.Location
		after time.Time
		want  time.Time
	}{
		// America/New_York springs forward 02:00 EST → 03:00 EDT on 2026-03-08
		// and falls back 02:00 EDT → 01:00 EST on 2026-11-01.
		{"ny gap fixed runs at gap end", "30 2 * * *", ny, time.Date(2026, 3, 7, 23, 0, 0, 0, ny), time.Date(2026, 3, 8, 3, 0, 0, 0, ny)},
		{"ny gap fixed next day", "30 2 * * *", ny, time.Date(2026, 3, 8, 3, 0, 0, 0, ny), time.Date(2026, 3, 9, 2, 30, 0, 0, ny)},
		{"ny gap with seconds", "15 30 2 * * *", ny, time.Date(2026, 3, 8, 1, 0, 0, 0, ny), time.Date(2026, 3, 8, 3, 0, 0, 0, ny)},
		{"ny gap list collapses", "0,15,30,45 2 * * *", ny, time.Date(2026, 3, 8, 3, 0, 0, 0, ny), time.Date(2026, 3, 9, 2, 0, 0, 0, ny)},
		{"ny gap wildcard skipped", "30 * * * *", ny, time.Date(2026, 3, 8, 1, 30, 0, 0, ny), time.Date(2026, 3, 8, 3, 30, 0, 0, ny)},
		{"ny before gap unaffected", "30 1 * * *", ny, time.Date(2026, 3, 8, 0, 0, 0, 0, ny), utc(2026, 3, 8, 6, 30)},
		{"ny repeat first instant", "30 1 * * *", ny, time.Date(2026, 11, 1, 0, 0, 0, 0, ny), utc(2026, 11, 1, 5, 30)},
		{"ny repeat second skipped", "30 1 * * *", ny, utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)},
		{"ny inside repeat hour", "30 1 * * *", ny, utc(2026, 11, 1, 6, 10), utc(2026, 11, 2, 6, 30)},
		{"ny repeat wildcard twice", "30 * * * *", ny, utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)},
		{"ny midnight before spring", "0 0 * * *", ny, time.Date(2026, 3, 7, 12, 0, 0, 0, ny), utc(2026, 3, 8, 5, 0)},
		{"ny midnight after spring", "0 0 * * *", ny, utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0)},
		{"ny midnight after fall", "0 0 * * *", ny, utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0)},
		{"ny daily descriptor", "@daily", ny, utc(2026, 11, 1, 4, 0), utc(2026, 11, 2, 5, 0)},
		{"ny 02:30 on fall day exists once", "30 2 * * *", ny, time.Date(2026, 11, 1, 0, 0, 0, 0, ny), utc(2026, 11, 1, 7, 30)},

		// Europe/London: BST from 2026-03-29 01:00 GMT to 2026-10-25 01:00 GMT.
		{"london monday before bst", "0 9 * * MON", london, utc(2026, 3, 20, 12, 0), utc(2026, 3, 23, 9, 0)},
		{"london monday in bst", "0 9 * * MON", london, utc(2026, 3, 27, 12, 0), utc(2026, 3, 30, 8, 0)},
		{"london monday after bst", "0 9 * * MON", london, utc(2026, 10, 23, 12, 0), utc(2026, 10, 26, 9, 0)},
		{"london gap", "30 1 * * *", london, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 1, 0)},
		{"london repeat first", "30 1 * * *", london, utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 0, 30)},
		{"london repeat skipped", "30 1 * * *", london, utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)},

		// Australia/Lord_Howe moves 30 minutes: 02:00 → 02:30 (+10:30 → +11) on
		// 2026-10-04, 02:00 → 01:30 on 2026-04-05.
		{"lord howe gap", "15 2 * * *", lordHowe, time.Date(2026, 10, 4, 0, 0, 0, 0, lordHowe), utc(2026, 10, 3, 15, 30)},
		{"lord howe after gap", "15 2 * * *", lordHowe, utc(2026, 10, 3, 15, 30), utc(2026, 10, 4, 15, 15)},
		{"lord howe gap wildcard", "15 * * * *", lordHowe, utc(2026, 10, 3, 15, 15), utc(2026, 10, 3, 16, 15)},
		{"lord howe repeat first", "45 1 * * *", lordHowe, time.Date(2026, 4, 5, 0, 0, 0, 0, lordHowe), utc(2026, 4, 4, 14, 45)},
		{"lord howe repeat skipped", "45 1 * * *", lordHowe, utc(2026, 4, 4, 14, 45), utc(2026, 4, 5, 15, 15)},

		// America/Santiago skips midnight: 2026-09-06 00:00 -04 → 01:00 -03.
		{"santiago missing midnight", "0 0 * * *", santiago, utc(2026, 9, 5, 5, 0), utc(2026, 9, 6, 4, 0)},
		{"santiago after missing midnight", "0 0 * * *", santiago, utc(2026, 9, 6, 4, 0), utc(2026, 9, 7, 3, 0)},

		{"kolkata midnight", "0 0 * * *", kolkata, utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 18, 30)},
		{"kolkata midnight exact is excluded", "0 0 * * *", kolkata, utc(2026, 1, 1, 18, 30), utc(2026, 1, 2, 18, 30)},
		{"nil location is utc", "0 0 * * *", nil, utc(2026, 1, 1, 0, 0), utc(2026, 1, 2, 0, 0)},
		{"hourly", "@hourly", nil, utc(2026, 1, 1, 0, 0), utc(2026, 1, 1, 1, 0)},
		{"weekly is sunday", "@weekly", nil, utc(2026, 1, 1, 0, 0), utc(2026, 1, 4, 0, 0)},
		{"monthly", "@monthly", kolkata, utc(2026, 1, 1, 0, 0), utc(2026, 1, 31, 18, 30)},
		{"yearly", "@yearly", nil, utc(2026, 1, 1, 0, 0), utc(2027, 1, 1, 0, 0)},
		{"annually", "@annually", nil, utc(2026, 6, 1, 0, 0), utc(2027, 1, 1, 0, 0)},
		{"midnight", "@midnight", nil, utc(2026, 6, 1, 0, 0), utc(2026, 6, 2, 0, 0)},
		{"month end 31st skips short months", "0 0 31 * *", nil, utc(2026, 4, 1, 0, 0), utc(2026, 5, 31, 0, 0)},
		{"leap day", "0 0 29 2 *", nil, utc(2026, 1, 1, 0, 0), utc(2028, 2, 29, 0, 0)},
		{"dom or dow", "0 0 13 * FRI", nil, utc(2026, 2, 1, 0, 0), utc(2026, 2, 6, 0, 0)},
		{"surrounding spaces", "  0 0 * * *  ", nil, utc(2026, 1, 1, 0, 0), utc(2026, 1, 2, 0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseCron(tt.expr, tt.loc)
			require.NoError(t, err)
			got := s.Next(tt.after)
			require.True(t, got.Equal(tt.want), "Next(%v) = %v, want %v", tt.after, got, tt.want)
			wantLoc := tt.loc
			if wantLoc == nil {
				wantLoc = time.UTC
			}
			require.Equal(t, wantLoc, got.Location(), "Next(%v) = %v, want it in %v", tt.after, got, wantLoc)
		})
	}
}

// TestRobfigDST pins down what robfig/cron does by itself, which ParseCron's
// documentation and its fixed-time corrections rely on. If a new robfig
// version changes this, the corrections must be revisited.
func TestRobfigDST(t *testing.T) {
	ny := zone(t, "America/New_York")
	parse := func(expr string) cron.Schedule {
		s, err := cronParser.Parse(expr)
		require.NoError(t, err)
		s.(*cron.SpecSchedule).Location = ny
		return s
	}
	// The spring-forward gap swallows 02:30 on 2026-03-08: robfig skips the day.
	after := time.Date(2026, 3, 7, 23, 0, 0, 0, ny)
	got := parse("30 2 * * *").Next(after)
	want := time.Date(2026, 3, 9, 2, 30, 0, 0, ny)
	require.True(t, got.Equal(want), "robfig Next(%v) = %v, want %v", after, got, want)

	// The fall-back repeats 01:30 on 2026-11-01: robfig fires at both instants.
	s := parse("30 1 * * *")
	first := s.Next(time.Date(2026, 11, 1, 0, 0, 0, 0, ny))
	second := s.Next(first)
	require.True(t, first.Equal(utc(2026, 11, 1, 5, 30)), "robfig first = %v", first)
	require.True(t, second.Equal(utc(2026, 11, 1, 6, 30)), "robfig second = %v", second)

	// In Australia/Lord_Howe (DST moves 30 minutes, 02:00 → 02:30 on
	// 2026-10-04) robfig returns a time that does not match at all.
	lh := zone(t, "Australia/Lord_Howe")
	s = parse("30 1 * * *")
	s.(*cron.SpecSchedule).Location = lh
	after = time.Date(2026, 10, 4, 1, 30, 0, 0, lh)
	got = s.Next(after)
	want = time.Date(2026, 10, 4, 2, 30, 0, 0, lh)
	require.True(t, got.Equal(want), "robfig Next(%v) = %v, want %v", after, got, want)
}

// TestCronOncePerDay runs fixed-time daily expressions through two years in
// zones with DST and checks that each fires exactly once per local date,
// strictly increasing; wildcard hourly expressions fire once per real hour.
func TestCronOncePerDay(t *testing.T) {
	for _, name := range []string{"America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"} {
		loc := zone(t, name)
		for _, expr := range []string{"30 2 * * *", "30 1 * * *", "0 0 * * *", "45 1 * * *", "59 23 * * *"} {
			s, err := ParseCron(expr, loc)
			require.NoError(t, err)
			seen := map[string]bool{}
			prev := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Add(-time.Second)
			for range 730 {
				got := s.Next(prev)
				require.True(t, got.After(prev), "%s %s: Next(%v) = %v, want later", name, expr, prev, got)
				day := got.Format("2006-01-02")
				require.False(t, seen[day], "%s %s: fired twice on %s (Next(%v) = %v)", name, expr, day, prev, got)
				seen[day] = true
				prev = got
			}
			require.Equal(t, time.Date(2027, 12, 31, 0, 0, 0, 0, loc).Format("2006-01-02"), prev.Format("2006-01-02"),
				"%s %s: 730 runs from 2026-01-01 should end on 2027-12-31", name, expr)
		}
		s, err := ParseCron("0 * * * *", loc)
		require.NoError(t, err)
		prev := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		hours := 8760
		if testing.Short() {
			hours = 24 * 100
		}
		for range hours {
			got := s.Next(prev)
			// In a whole-hour-offset zone every hour fires; in Lord Howe and
			// Kolkata the interval is still a whole hour except around DST.
			require.True(t, got.After(prev), "%s hourly: Next(%v) = %v", name, prev, got)
			require.LessOrEqual(t, got.Sub(prev), 2*time.Hour, "%s hourly: Next(%v) = %v", name, prev, got)
			require.Equal(t, 0, got.Minute(), "%s hourly: Next(%v) = %v", name, prev, got)
			prev = got
		}
	}
}

func TestParseCronErrors(t *testing.T) {
	for _, expr := range []string{
		"",
		"   ",
		"TZ=UTC 0 0 * * *",
		"CRON_TZ=Europe/London 0 0 * * *",
		"TZ=x", // robfig panics on this one
		"CRON_TZ=",
		"@every 1h",
		"@every",
		"@fortnightly",
		"0 0 30 2 *",
		"0 0 31 4,6,9,11 *",
		"61 * * * *",
		"* 24 * * *",
		"* * * *",
		"* * * * * * *",
		"0 0 * * MON-",
		"*/0 * * * *",
		"5-1 * * * *",
		"bogus",
	} {
		s, err := ParseCron(expr, nil)
		require.Nil(t, s, "ParseCron(%q)", expr)
		var ve *gamifytype.ValidationError
		require.True(t, errors.As(err, &ve), "ParseCron(%q) error = %v, want a *ValidationError", expr, err)
		require.Equal(t, "Cron", ve.Field, "ParseCron(%q)", expr)
		require.NotEmpty(t, ve.Reason, "ParseCron(%q)", expr)
		require.ErrorIs(t, err, gamifytype.ErrInvalid, "ParseCron(%q)", expr)
	}
}

// TestCronWildcardRepeatHour checks that a wildcard expression asked from the
// first pass of a repeated hour finds the closest instant, which is in that
// same pass, not the earlier wall clock of the second pass.
func TestCronWildcardRepeatHour(t *testing.T) {
	ny := zone(t, "America/New_York")
	s, err := ParseCron("0,55 * * * *", ny)
	require.NoError(t, err)
	after := utc(2026, 11, 1, 5, 50) // 01:50 EDT
	var got []time.Time
	for range 5 {
		after = s.Next(after)
		got = append(got, after.UTC())
	}
	want := []time.Time{utc(2026, 11, 1, 5, 55), utc(2026, 11, 1, 6, 0), utc(2026, 11, 1, 6, 55), utc(2026, 11, 1, 7, 0), utc(2026, 11, 1, 7, 55)}
	require.Equal(t, want, got)
}

func TestCronLeapDayAcross2100(t *testing.T) {
	s, err := ParseCron("0 0 29 2 *", nil)
	require.NoError(t, err)
	after := utc(2096, 3, 1, 0, 0)
	got, want := s.Next(after), utc(2104, 2, 29, 0, 0)
	require.True(t, got.Equal(want), "Next(%v) = %v, want %v", after, got, want)
}

// TestCronPast2037 crosses the last day of a leap year after New York's last
// explicit transition, where time.Time.ZoneBounds misreports the period end.
func TestCronPast2037(t *testing.T) {
	ny := zone(t, "America/New_York")
	for _, tt := range []struct {
		expr        string
		after, want time.Time
	}{
		{"0 0 29 2 *", time.Date(2040, 2, 29, 0, 0, 0, 0, ny), time.Date(2044, 2, 29, 0, 0, 0, 0, ny)},
		{"0 12 * * *", time.Date(2040, 12, 30, 19, 0, 0, 0, ny), time.Date(2040, 12, 31, 12, 0, 0, 0, ny)},
		{"30 2 * * *", time.Date(2041, 3, 10, 0, 0, 0, 0, ny), time.Date(2041, 3, 10, 3, 0, 0, 0, ny)},
	} {
		s, err := ParseCron(tt.expr, ny)
		require.NoError(t, err)
		got := s.Next(tt.after)
		require.True(t, got.Equal(tt.want), "%s: Next(%v) = %v, want %v", tt.expr, tt.after, got, tt.want)
	}
}

package schedule

import (
	"errors"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

func TestEveryOccurrence(t *testing.T) {
	ny := zone(t, "America/New_York")
	london := zone(t, "Europe/London")
	lordHowe := zone(t, "Australia/Lord_Howe")
	day := func(y int, mo time.Month, d, h, mi int, loc *time.Location) time.Time {
		return time.Date(y, mo, d, h, mi, 0, 0, loc)
	}
	tests := []struct {
		name string
		e    Every
		want []time.Time // Occurrence(0), Occurrence(1), …
	}{
		{
			"daily midnight stays local across DST",
			Every{N: 1, Unit: Day, Anchor: day(2026, 3, 7, 0, 0, ny), Loc: ny},
			[]time.Time{utc(2026, 3, 7, 5, 0), utc(2026, 3, 8, 5, 0), utc(2026, 3, 9, 4, 0), utc(2026, 3, 10, 4, 0)},
		},
		{
			"daily time in the spring gap moves later by the gap",
			Every{N: 1, Unit: Day, Anchor: day(2026, 3, 7, 2, 30, ny), Loc: ny},
			[]time.Time{utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)},
		},
		{
			"daily time repeated by fall-back is its first instant",
			Every{N: 1, Unit: Day, Anchor: day(2026, 10, 31, 1, 30, ny), Loc: ny},
			[]time.Time{utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)},
		},
		{
			"anchor on the second pass of a repeated time is kept exactly",
			Every{N: 1, Unit: Day, Anchor: utc(2026, 11, 1, 6, 30), Loc: ny},
			[]time.Time{utc(2026, 11, 1, 6, 30), utc(2026, 11, 2, 6, 30)},
		},
		{
			"lord howe 30-minute gap",
			Every{N: 1, Unit: Day, Anchor: day(2026, 10, 3, 2, 15, lordHowe), Loc: lordHowe},
			// 02:15 on 2026-10-04 does not exist: read at +10:30 it is 02:45 +11.
			[]time.Time{utc(2026, 10, 2, 15, 45), utc(2026, 10, 3, 15, 45), utc(2026, 10, 4, 15, 15)},
		},
		{
			"lord howe 30-minute repeat",
			Every{N: 1, Unit: Day, Anchor: day(2026, 4, 4, 1, 45, lordHowe), Loc: lordHowe},
			[]time.Time{utc(2026, 4, 3, 14, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 5, 15, 15)},
		},
		{
			"two weeks in london across BST",
			Every{N: 2, Unit: Week, Anchor: day(2026, 3, 16, 9, 0, london), Loc: london},
			[]time.Time{utc(2026, 3, 16, 9, 0), utc(2026, 3, 30, 8, 0), utc(2026, 4, 13, 8, 0)},
		},
		{
			"three months",
			Every{N: 3, Unit: Month, Anchor: utc(2026, 1, 15, 12, 0)},
			[]time.Time{utc(2026, 1, 15, 12, 0), utc(2026, 4, 15, 12, 0), utc(2026, 7, 15, 12, 0), utc(2026, 10, 15, 12, 0), utc(2027, 1, 15, 12, 0)},
		},
		{
			"month end safe and never chained",
			Every{N: 1, Unit: Month, Anchor: utc(2026, 1, 31, 10, 0)},
			[]time.Time{utc(2026, 1, 31, 10, 0), utc(2026, 2, 28, 10, 0), utc(2026, 3, 31, 10, 0), utc(2026, 4, 30, 10, 0), utc(2026, 5, 31, 10, 0), utc(2026, 6, 30, 10, 0)},
		},
		{
			"month end in a leap year",
			Every{N: 1, Unit: Month, Anchor: day(2028, 1, 31, 0, 0, ny), Loc: ny},
			[]time.Time{utc(2028, 1, 31, 5, 0), utc(2028, 2, 29, 5, 0), utc(2028, 3, 31, 4, 0)},
		},
		{
			"30th across february and year end",
			Every{N: 5, Unit: Month, Anchor: utc(2025, 9, 30, 0, 0)},
			[]time.Time{utc(2025, 9, 30, 0, 0), utc(2026, 2, 28, 0, 0), utc(2026, 7, 30, 0, 0), utc(2026, 12, 30, 0, 0)},
		},
		{
			"leap day yearly",
			Every{N: 1, Unit: Year, Anchor: utc(2024, 2, 29, 0, 0)},
			[]time.Time{utc(2024, 2, 29, 0, 0), utc(2025, 2, 28, 0, 0), utc(2026, 2, 28, 0, 0), utc(2027, 2, 28, 0, 0), utc(2028, 2, 29, 0, 0)},
		},
		{
			"leap day every four years skips 2100",
			Every{N: 4, Unit: Year, Anchor: utc(2092, 2, 29, 0, 0)},
			[]time.Time{utc(2092, 2, 29, 0, 0), utc(2096, 2, 29, 0, 0), utc(2100, 2, 28, 0, 0), utc(2104, 2, 29, 0, 0)},
		},
		{
			"nil location is utc",
			Every{N: 10, Unit: Day, Anchor: day(2026, 3, 1, 0, 0, ny)},
			[]time.Time{utc(2026, 3, 1, 5, 0), utc(2026, 3, 11, 5, 0)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.e.Validate())
			for k, want := range tt.want {
				got := tt.e.Occurrence(k)
				require.True(t, got.Equal(want), "Occurrence(%d) = %v, want %v", k, got, want)
				if k > 0 {
					prev := tt.want[k-1]
					next := tt.e.Next(prev)
					require.True(t, next.Equal(want), "Next(%v) = %v, want %v", prev, next, want)
					start, end, ok := tt.e.PeriodAt(want.Add(-time.Nanosecond))
					require.True(t, ok)
					require.True(t, start.Equal(prev) && end.Equal(want), "PeriodAt(%v) = [%v, %v), want [%v, %v)", want.Add(-time.Nanosecond), start, end, prev, want)
				}
			}
		})
	}
}

func TestEveryPeriodLengthAcrossDST(t *testing.T) {
	ny := zone(t, "America/New_York")
	e := Every{N: 1, Unit: Day, Anchor: time.Date(2026, 1, 1, 0, 0, 0, 0, ny), Loc: ny}
	for _, tt := range []struct {
		at   time.Time
		want time.Duration
	}{
		{time.Date(2026, 3, 7, 12, 0, 0, 0, ny), 24 * time.Hour},
		{time.Date(2026, 3, 8, 12, 0, 0, 0, ny), 23 * time.Hour},
		{time.Date(2026, 11, 1, 12, 0, 0, 0, ny), 25 * time.Hour},
	} {
		start, end, ok := e.PeriodAt(tt.at)
		require.True(t, ok)
		require.Equal(t, tt.want, end.Sub(start), "PeriodAt(%v) = [%v, %v)", tt.at, start, end)
		require.Equal(t, "00:00", start.Format("15:04"), "PeriodAt(%v) starts at %v", tt.at, start)
	}
}

func TestEveryPeriodAtBoundaries(t *testing.T) {
	london := zone(t, "Europe/London")
	anchor := time.Date(2026, 1, 5, 0, 0, 0, 0, london) // a Monday
	e := Every{N: 1, Unit: Week, Anchor: anchor, Loc: london}
	week2 := time.Date(2026, 1, 12, 0, 0, 0, 0, london)
	week3 := time.Date(2026, 1, 19, 0, 0, 0, 0, london)
	tests := []struct {
		at         time.Time
		start, end time.Time
		ok         bool
	}{
		{anchor.Add(-time.Nanosecond), time.Time{}, anchor, false},
		{anchor.AddDate(-3, 0, 0), time.Time{}, anchor, false},
		{anchor, anchor, week2, true},
		{week2.Add(-time.Nanosecond), anchor, week2, true},
		{week2, week2, week3, true},
		{week3.Add(-time.Second), week2, week3, true},
		// Far from the anchor: the 2400-01-03 week (a Monday) is found directly.
		{time.Date(2400, 1, 5, 12, 0, 0, 0, london), time.Date(2400, 1, 3, 0, 0, 0, 0, london), time.Date(2400, 1, 10, 0, 0, 0, 0, london), true},
	}
	for _, tt := range tests {
		start, end, ok := e.PeriodAt(tt.at)
		require.Equal(t, tt.ok, ok, "PeriodAt(%v) ok = %v, want %v", tt.at, ok, tt.ok)
		require.True(t, start.Equal(tt.start) && end.Equal(tt.end), "PeriodAt(%v) = [%v, %v), want [%v, %v)", tt.at, start, end, tt.start, tt.end)
		prev := e.Prev(tt.at)
		require.True(t, prev.Equal(tt.start), "Prev(%v) = %v, want %v", tt.at, prev, tt.start)
	}
	next := e.Next(anchor.Add(-time.Hour))
	require.True(t, next.Equal(anchor), "Next(%v) = %v, want %v", anchor.Add(-time.Hour), next, anchor)
	next = e.Next(anchor)
	require.True(t, next.Equal(week2), "Next(%v) = %v, want %v", anchor, next, week2)
}

// TestEveryIndexMatchesScan compares the estimated Index with a plain walk
// over the occurrences, for rules whose occurrences move around DST and month
// ends, over centuries.
func TestEveryIndexMatchesScan(t *testing.T) {
	steps := 1000 // about three years of days, a thousand years of years
	if testing.Short() {
		steps = 200
	}
	for _, name := range []string{"America/New_York", "Australia/Lord_Howe", "America/Santiago", "UTC"} {
		loc := zone(t, name)
		for _, e := range []Every{
			{N: 1, Unit: Day, Anchor: time.Date(2026, 3, 1, 2, 30, 0, 0, loc), Loc: loc},
			{N: 17, Unit: Day, Anchor: time.Date(2026, 1, 1, 0, 0, 0, 0, loc), Loc: loc},
			{N: 3, Unit: Week, Anchor: time.Date(2026, 1, 4, 1, 45, 0, 0, loc), Loc: loc},
			{N: 1, Unit: Month, Anchor: time.Date(2026, 1, 31, 23, 59, 59, 999, loc), Loc: loc},
			{N: 7, Unit: Month, Anchor: time.Date(2026, 8, 30, 0, 0, 0, 0, loc), Loc: loc},
			{N: 1, Unit: Year, Anchor: time.Date(2024, 2, 29, 12, 0, 0, 0, loc), Loc: loc},
		} {
			prev := e.Occurrence(0)
			for k := 1; k <= steps; k++ {
				occ := e.Occurrence(k)
				require.True(t, occ.After(prev), "%s %+v: Occurrence(%d) = %v, not after %v", name, e, k, occ, prev)
				mid := prev.Add(occ.Sub(prev) / 2)
				for _, at := range []time.Time{prev, mid, occ.Add(-time.Nanosecond)} {
					got, ok := e.Index(at)
					require.True(t, ok)
					require.Equal(t, k-1, got, "%s %+v: Index(%v)", name, e, at)
				}
				prev = occ
			}
		}
	}
}

func TestEveryValidate(t *testing.T) {
	good := Every{N: 1, Unit: Day, Anchor: utc(2026, 1, 1, 0, 0)}
	require.NoError(t, good.Validate())
	require.NoError(t, Every{N: MaxEveryN, Unit: Year, Anchor: utc(2026, 1, 1, 0, 0)}.Validate())

	tests := []struct {
		e      Every
		fields []string
	}{
		{Every{}, []string{"Every.N", "Every.Unit", "Every.Anchor"}},
		{Every{N: 0, Unit: Day, Anchor: good.Anchor}, []string{"Every.N"}},
		{Every{N: -2, Unit: Day, Anchor: good.Anchor}, []string{"Every.N"}},
		{Every{N: MaxEveryN + 1, Unit: Day, Anchor: good.Anchor}, []string{"Every.N"}},
		{Every{N: 1, Unit: Year + 1, Anchor: good.Anchor}, []string{"Every.Unit"}},
		{Every{N: 1, Unit: Day, Anchor: utc(10000, 1, 1, 0, 0)}, []string{"Every.Anchor"}},
		{Every{N: 1, Unit: Day}, []string{"Every.Anchor"}},
	}
	for _, tt := range tests {
		err := tt.e.Validate()
		require.ErrorIs(t, err, gamifytype.ErrInvalid, "Validate(%+v)", tt.e)
		var fields []string
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var ve *gamifytype.ValidationError
			require.True(t, errors.As(e, &ve), "Validate(%+v): %v is not a *ValidationError", tt.e, e)
			fields = append(fields, ve.Field)
		}
		require.Equal(t, tt.fields, fields, "Validate(%+v) = %v", tt.e, err)
	}

	// An invalid rule answers with zero values instead of panicking or looping.
	bad := Every{N: 0, Unit: Day, Anchor: good.Anchor}
	require.True(t, bad.Next(good.Anchor).IsZero())
	require.True(t, bad.Occurrence(1).IsZero())
	_, ok := bad.Index(good.Anchor)
	require.False(t, ok)
	start, end, ok := bad.PeriodAt(good.Anchor)
	require.False(t, ok)
	require.True(t, start.IsZero() && end.IsZero())
	require.True(t, good.Occurrence(-1).IsZero())
}

func TestUnit(t *testing.T) {
	for _, tt := range []struct {
		s string
		u Unit
	}{{"day", Day}, {"week", Week}, {"month", Month}, {"year", Year}} {
		u, err := ParseUnit(tt.s)
		require.NoError(t, err)
		require.Equal(t, tt.u, u, "ParseUnit(%q)", tt.s)
		require.Equal(t, tt.s, u.String())
		b, err := u.MarshalText()
		require.NoError(t, err)
		var back Unit
		require.NoError(t, back.UnmarshalText(b))
		require.Equal(t, u, back)
	}
	b, err := Unit(0).MarshalText()
	require.NoError(t, err)
	require.Empty(t, b, "the unset unit marshals as empty text")
	var zero Unit = Week
	require.NoError(t, zero.UnmarshalText(nil))
	require.Equal(t, Unit(0), zero)
	for _, s := range []string{"", "Day", "days", "hour", " day"} {
		_, err := ParseUnit(s)
		var ve *gamifytype.ValidationError
		require.True(t, errors.As(err, &ve), "ParseUnit(%q) error = %v", s, err)
		require.Equal(t, "Unit", ve.Field)
		if s != "" {
			var u Unit
			require.Error(t, u.UnmarshalText([]byte(s)))
		}
	}
	require.Equal(t, "Unit(0)", Unit(0).String())
	_, err = Unit(9).MarshalText()
	require.ErrorIs(t, err, gamifytype.ErrInvalid)
}

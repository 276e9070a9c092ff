package streak

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDayNumberRoundTrip(t *testing.T) {
	for z := int64(-719_162); z < 2_932_897; z += 997 {
		d := dateOfDay(z)
		require.True(t, d.valid(), "dateOfDay(%d) = %v", z, d)
		require.Equal(t, z, d.dayNumber(), "dayNumber(dateOfDay(%d))", z)
		u := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
		require.Equal(t, z, floorDiv(u.Unix(), 86400), "dayNumber(%v)", d)
	}
}

// TestDayStartIsFirstInstant checks, for every day of several years in zones
// with DST at midnight, 30-minute DST or a skipped day, that dayStart is the
// first instant of the day.
func TestDayStartIsFirstInstant(t *testing.T) {
	zones := []string{"America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata", "America/Sao_Paulo", "America/Havana", "America/Santiago", "Asia/Beirut", "Pacific/Chatham"}
	years := 12
	if testing.Short() {
		years = 3
	}
	for _, name := range zones {
		loc := mustLoc(t, name)
		from := Date{2008, 1, 1}.dayNumber()
		for z := from; z < from+int64(years)*366; z++ {
			s := dayStart(z, loc)
			require.GreaterOrEqual(t, localDay(s, loc), z, "%s dayStart(%v) = %v", name, dateOfDay(z), s)
			require.Less(t, localDay(s.Add(-time.Nanosecond), loc), z, "%s dayStart(%v) = %v is not the first instant", name, dateOfDay(z), s)
		}
	}
}

func TestPeriodBounds(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	london := mustLoc(t, "Europe/London")
	lh := mustLoc(t, "Australia/Lord_Howe")
	apia := mustLoc(t, "Pacific/Apia")
	kolkata := mustLoc(t, "Asia/Kolkata")
	mon := Definition{Frequency: Weekly}
	sun := Definition{Frequency: Weekly, WeekStart: Sunday}
	tests := []struct {
		name       string
		d          Definition
		at         time.Time
		first      Date
		start, end time.Time
		hours      float64
	}{
		{"NY spring forward is 23h", Definition{Frequency: Daily}, time.Date(2026, 3, 8, 12, 0, 0, 0, ny), Date{2026, 3, 8},
			time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 9, 0, 0, 0, 0, ny), 23},
		{"NY fall back is 25h", Definition{Frequency: Daily}, time.Date(2026, 11, 1, 1, 30, 0, 0, ny), Date{2026, 11, 1},
			time.Date(2026, 11, 1, 0, 0, 0, 0, ny), time.Date(2026, 11, 2, 0, 0, 0, 0, ny), 25},
		{"London spring forward", Definition{Frequency: Daily}, time.Date(2026, 3, 29, 0, 30, 0, 0, london), Date{2026, 3, 29},
			time.Date(2026, 3, 29, 0, 0, 0, 0, london), time.Date(2026, 3, 30, 0, 0, 0, 0, london), 23},
		{"Lord Howe 30-minute fall back", Definition{Frequency: Daily}, time.Date(2026, 4, 5, 12, 0, 0, 0, lh), Date{2026, 4, 5},
			time.Date(2026, 4, 5, 0, 0, 0, 0, lh), time.Date(2026, 4, 6, 0, 0, 0, 0, lh), 24.5},
		{"Lord Howe 30-minute spring forward", Definition{Frequency: Daily}, time.Date(2026, 10, 4, 12, 0, 0, 0, lh), Date{2026, 10, 4},
			time.Date(2026, 10, 4, 0, 0, 0, 0, lh), time.Date(2026, 10, 5, 0, 0, 0, 0, lh), 23.5},
		{"Apia 2011-12-29 ends at the skip", Definition{Frequency: Daily}, time.Date(2011, 12, 29, 23, 59, 0, 0, apia), Date{2011, 12, 29},
			time.Date(2011, 12, 29, 0, 0, 0, 0, apia), time.Date(2011, 12, 31, 0, 0, 0, 0, apia), 24},
		{"Kolkata +05:30", Definition{Frequency: Daily}, time.Date(2026, 1, 1, 18, 29, 59, 0, time.UTC), Date{2026, 1, 1},
			time.Date(2026, 1, 1, 0, 0, 0, 0, kolkata), time.Date(2026, 1, 2, 0, 0, 0, 0, kolkata), 24},
		{"29 February", Definition{Frequency: Daily}, time.Date(2028, 2, 29, 12, 0, 0, 0, ny), Date{2028, 2, 29},
			time.Date(2028, 2, 29, 0, 0, 0, 0, ny), time.Date(2028, 3, 1, 0, 0, 0, 0, ny), 24},
		{"week over new year, Monday start", mon, time.Date(2026, 1, 1, 12, 0, 0, 0, ny), Date{2025, 12, 29},
			time.Date(2025, 12, 29, 0, 0, 0, 0, ny), time.Date(2026, 1, 5, 0, 0, 0, 0, ny), 168},
		{"week over new year, Sunday start", sun, time.Date(2026, 1, 1, 12, 0, 0, 0, ny), Date{2025, 12, 28},
			time.Date(2025, 12, 28, 0, 0, 0, 0, ny), time.Date(2026, 1, 4, 0, 0, 0, 0, ny), 168},
		{"week with spring forward", mon, time.Date(2026, 3, 8, 12, 0, 0, 0, ny), Date{2026, 3, 2},
			time.Date(2026, 3, 2, 0, 0, 0, 0, ny), time.Date(2026, 3, 9, 0, 0, 0, 0, ny), 167},
		{"January has 31 days", Definition{Frequency: Monthly}, time.Date(2026, 1, 31, 23, 59, 59, 999e6, ny), Date{2026, 1, 1},
			time.Date(2026, 1, 1, 0, 0, 0, 0, ny), time.Date(2026, 2, 1, 0, 0, 0, 0, ny), 31 * 24},
		{"February has 28 days", Definition{Frequency: Monthly}, time.Date(2026, 2, 28, 23, 0, 0, 0, ny), Date{2026, 2, 1},
			time.Date(2026, 2, 1, 0, 0, 0, 0, ny), time.Date(2026, 3, 1, 0, 0, 0, 0, ny), 28 * 24},
		{"April has 30 days", Definition{Frequency: Monthly}, time.Date(2026, 4, 30, 23, 0, 0, 0, ny), Date{2026, 4, 1},
			time.Date(2026, 4, 1, 0, 0, 0, 0, ny), time.Date(2026, 5, 1, 0, 0, 0, 0, ny), 30 * 24},
		{"leap February", Definition{Frequency: Monthly}, time.Date(2028, 2, 29, 23, 0, 0, 0, ny), Date{2028, 2, 1},
			time.Date(2028, 2, 1, 0, 0, 0, 0, ny), time.Date(2028, 3, 1, 0, 0, 0, 0, ny), 29 * 24},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			loc := tc.start.Location()
			p := tc.d.periodAt(tc.at, loc)
			require.Equal(t, tc.first, tc.d.firstDate(p), "firstDate(periodAt(%v))", tc.at)
			require.True(t, tc.start.Equal(tc.d.start(p, loc)), "start(%v) = %v, want %v", tc.at, tc.d.start(p, loc), tc.start)
			require.True(t, tc.end.Equal(tc.d.end(p, loc)), "end(%v) = %v, want %v", tc.at, tc.d.end(p, loc), tc.end)
			require.Equal(t, tc.hours, tc.d.end(p, loc).Sub(tc.d.start(p, loc)).Hours(), "length of %v", tc.first)
		})
	}
	// The day Apia skipped is a zero-length period.
	d := Definition{Frequency: Daily}
	p := Date{2011, 12, 30}.dayNumber()
	require.True(t, d.start(p, apia).Equal(d.end(p, apia)), "Apia 2011-12-30: start %v end %v", d.start(p, apia), d.end(p, apia))
	// The last millisecond of a day and the first instant of the next are in
	// consecutive periods.
	last := time.Date(2026, 3, 7, 23, 59, 59, 999e6, ny)
	require.Equal(t, d.periodAt(last, ny)+1, d.periodAt(last.Add(time.Millisecond), ny))
}

func TestParseDate(t *testing.T) {
	d, err := ParseDate("Pause.From", "2028-02-29")
	require.NoError(t, err)
	require.Equal(t, Date{2028, 2, 29}, d)
	require.Equal(t, "2028-02-29", d.String())
	for _, s := range []string{"2027-02-29", "2026-13-01", "x", "", "2026-1-1"} {
		_, err := ParseDate("Pause.From", s)
		require.Error(t, err, "ParseDate(%q)", s)
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-08", "0000-01-01", "9999-12-31", "2028-02-29", "garbage"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate("Pause.From", s)
		if err != nil {
			return
		}
		require.Equal(t, s, d.String(), "ParseDate(%q) = %v", s, d)
		if d.Year >= 1 {
			require.Equal(t, d, dateOfDay(d.dayNumber()), "dateOfDay(dayNumber(%v))", d)
		}
	})
}

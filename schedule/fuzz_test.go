package schedule

import (
	"errors"
	"testing"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/stretchr/testify/require"
)

// fuzzZones are zones with every kind of DST: none, whole hours, 30 minutes,
// at midnight, in the southern hemisphere, and odd offsets.
var fuzzZones = []string{
	"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe",
	"America/Santiago", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham",
	"Asia/Kathmandu", "America/Havana",
}

func fuzzZone(t *testing.T, i uint8) *time.Location {
	return zone(t, fuzzZones[int(i)%len(fuzzZones)])
}

// fuzzInstant maps any int64 to an instant between 1970 and about 2300.
func fuzzInstant(sec int64) time.Time {
	const span = 330 * 365 * 24 * 3600
	sec %= span
	if sec < 0 {
		sec += span
	}
	return time.Unix(sec, 0).UTC()
}

func FuzzParseCron(f *testing.F) {
	for _, s := range []string{
		"0 0 * * *", "30 2 * * *", "30 1 * * *", "*/15 * * * *", "0 9 * * MON", "15 30 2 * * *",
		"@daily", "@hourly", "@weekly", "@monthly", "@yearly", "@every 1h", "TZ=x", "CRON_TZ=UTC 0 0 * * *",
		"0 0 29 2 *", "0 0 30 2 *", "0,55 * * * *", "* * * * * *", "0 0 13 * FRI", "59 23 31 12 *", "? ? ? ? ?",
	} {
		f.Add(s, uint8(1), int64(1772928000)) // 2026-03-08
	}
	f.Fuzz(func(t *testing.T, expr string, z uint8, sec int64) {
		loc := fuzzZone(t, z)
		s, err := ParseCron(expr, loc)
		if err != nil {
			var ve *gamifytype.ValidationError
			require.True(t, errors.As(err, &ve), "ParseCron(%q) error = %v", expr, err)
			require.Equal(t, "Cron", ve.Field)
			return
		}
		c := s.(*cronSchedule)
		prev := fuzzInstant(sec).Add(time.Duration(sec%1e9) * time.Nanosecond)
		for range 5 {
			next := s.Next(prev)
			if next.IsZero() {
				return
			}
			require.True(t, next.After(prev), "%q in %v: Next(%v) = %v, want later", expr, loc, prev, next)
			require.Equal(t, loc, next.Location())
			// Either the wall clock matches the expression, or a fixed time
			// ran at the end of a spring-forward gap.
			w := wallOf(next)
			matches := c.wall.Next(w.Add(-time.Second)).Equal(w)
			_, before := next.Add(-time.Nanosecond).Zone()
			_, at := next.Zone()
			require.True(t, matches || c.fixed && at > before, "%q in %v: Next(%v) = %v does not match", expr, loc, prev, next)
			prev = next
		}
	})
}

func FuzzEvery(f *testing.F) {
	f.Add(1, uint8(1), int64(1772928000), uint8(1), uint16(3), int64(1800000000))
	f.Add(2, uint8(2), int64(1767225600), uint8(2), uint16(40), int64(1900000000))
	f.Add(3, uint8(3), int64(1769817600), uint8(3), uint16(100), int64(2000000000))
	f.Add(1, uint8(4), int64(1709164800), uint8(0), uint16(7), int64(5000000000))
	f.Add(0, uint8(0), int64(0), uint8(0), uint16(0), int64(0))
	f.Fuzz(func(t *testing.T, n int, unit uint8, anchorSec int64, z uint8, k16 uint16, probeSec int64) {
		loc := fuzzZone(t, z)
		e := Every{N: n, Unit: Unit(unit), Anchor: fuzzInstant(anchorSec).In(loc), Loc: loc}
		if e.Validate() != nil {
			// Invalid rules answer with zero values, never panic or loop.
			require.True(t, e.Next(e.Anchor).IsZero())
			_, ok := e.Index(e.Anchor)
			require.False(t, ok)
			return
		}
		k := int(k16) % 500
		occ, next := e.Occurrence(k), e.Occurrence(k+1)
		require.True(t, next.After(occ), "%+v: Occurrence(%d) = %v, Occurrence(%d) = %v", e, k, occ, k+1, next)
		start, end, ok := e.PeriodAt(occ)
		require.True(t, ok)
		require.True(t, start.Equal(occ) && end.Equal(next), "%+v: PeriodAt(%v) = [%v, %v), want [%v, %v)", e, occ, start, end, occ, next)
		got := e.Next(occ)
		require.True(t, got.Equal(next), "%+v: Next(%v) = %v, want %v", e, occ, got, next)

		probe := fuzzInstant(probeSec)
		start, end, ok = e.PeriodAt(probe)
		if probe.Before(e.Anchor) {
			require.False(t, ok)
			require.True(t, end.Equal(e.Anchor), "%+v: PeriodAt(%v) end = %v, want the anchor", e, probe, end)
			return
		}
		require.True(t, ok)
		require.True(t, !start.After(probe) && probe.Before(end), "%+v: PeriodAt(%v) = [%v, %v)", e, probe, start, end)
		i, _ := e.Index(probe)
		require.True(t, e.Occurrence(i).Equal(start) && e.Occurrence(i+1).Equal(end), "%+v: Index(%v) = %d", e, probe, i)
	})
}

func FuzzParseUnit(f *testing.F) {
	for _, s := range []string{"day", "week", "month", "year", "", "Day", "hours"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUnit(s)
		if err != nil {
			require.ErrorIs(t, err, gamifytype.ErrInvalid)
			return
		}
		require.Equal(t, s, u.String())
	})
}

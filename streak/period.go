package streak

import (
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Date is a civil (calendar) date without a time zone, used for pause ranges
// and for identifying periods independently of any zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses an ISO date "2006-01-02". field names the input in the error.
func ParseDate(field, s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, gamifytype.Invalid(field, s, "must be a date like 2006-01-02")
	}
	return DateOf(t), nil
}

// String formats d as "2006-01-02".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// valid reports whether d names a real calendar date.
func (d Date) valid() bool {
	if d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Year < 1 || d.Year > 9999 {
		return false
	}
	return d.Day <= daysIn(d.Year, d.Month)
}

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// dayNumber returns the number of days from 1970-01-01 to d (Hinnant's
// days_from_civil); it avoids the time package on the hot path.
func (d Date) dayNumber() int64 {
	y := int64(d.Year)
	m := int64(d.Month)
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + int64(d.Day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// dateOfDay is the inverse of dayNumber.
func dateOfDay(z int64) Date {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return Date{int(y), time.Month(m), int(d)}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// localDay is the day number of t's calendar date in loc.
func localDay(t time.Time, loc *time.Location) int64 {
	if loc == time.UTC { // the common zone, without the calendar: days of 86400 s
		return floorDiv(t.Unix(), 86400)
	}
	return DateOf(t.In(loc)).dayNumber()
}

// dayStart returns the first instant whose calendar date in loc is day z or
// later. On a day that does not exist (Pacific/Apia 2011-12-30) it is the
// start of the following day, so that day is a zero-length period.
func dayStart(z int64, loc *time.Location) time.Time {
	if loc == time.UTC { // no gaps nor repeats: midnight is z days of 86400 s
		return time.Unix(z*86400, 0).UTC()
	}
	d := dateOfDay(z)
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
	if localDay(t, loc) < z {
		// time.Date normalised a nonexistent midnight to before the gap
		// (Apia goes back a whole day); the day starts at the transition.
		if _, end := t.ZoneBounds(); !end.IsZero() && localDay(end, loc) >= z {
			return end
		}
		return t
	}
	// Midnight may occur twice when clocks go back at midnight; take the first.
	if start, _ := t.ZoneBounds(); !start.IsZero() {
		prev := start.Add(-time.Nanosecond)
		if localDay(prev, loc) >= z {
			_, off := prev.Zone()
			_, cur := t.Zone()
			if cand := t.Add(time.Duration(cur-off) * time.Second); cand.Before(start) && localDay(cand, loc) >= z {
				return cand
			}
		}
	}
	return t
}

// period arithmetic ---------------------------------------------------------

// periodOfDay maps a day number to the index of the period containing it:
// daily = the day number, weekly = weeks since the epoch week aligned to the
// week start, monthly = year*12 + month-1. Indexes do not depend on a zone.
func (d *Definition) periodOfDay(z int64) int64 {
	switch d.Frequency {
	case Weekly:
		// 1970-01-01 was a Thursday (weekday 4).
		return floorDiv(z+4-int64(d.weekStart()), 7)
	case Monthly:
		dt := dateOfDay(z)
		return int64(dt.Year)*12 + int64(dt.Month) - 1
	}
	return z
}

// firstDay is the day number of the first day of period p.
func (d *Definition) firstDay(p int64) int64 {
	switch d.Frequency {
	case Weekly:
		return 7*p - 4 + int64(d.weekStart())
	case Monthly:
		return Date{int(floorDiv(p, 12)), time.Month(p - floorDiv(p, 12)*12 + 1), 1}.dayNumber()
	}
	return p
}

// periodAt is the period containing instant t in loc.
func (d *Definition) periodAt(t time.Time, loc *time.Location) int64 {
	return d.periodOfDay(localDay(t, loc))
}

// start and end of period p in loc; end is the start of p+1.
func (d *Definition) start(p int64, loc *time.Location) time.Time {
	return dayStart(d.firstDay(p), loc)
}

func (d *Definition) end(p int64, loc *time.Location) time.Time {
	return dayStart(d.firstDay(p+1), loc)
}

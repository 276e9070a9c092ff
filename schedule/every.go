package schedule

import (
	"errors"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Unit is the calendar unit of an Every rule. The zero Unit is invalid so that
// a forgotten field is caught by Validate.
type Unit uint8

// The calendar units.
const (
	Day Unit = iota + 1
	Week
	Month
	Year
)

var unitNames = [...]string{Day: "day", Week: "week", Month: "month", Year: "year"}

// String returns "day", "week", "month" or "year", or "Unit(n)" for an
// invalid unit.
func (u Unit) String() string {
	if u.valid() {
		return unitNames[u]
	}
	return fmt.Sprintf("Unit(%d)", uint8(u))
}

func (u Unit) valid() bool { return u >= Day && u <= Year }

// ParseUnit parses "day", "week", "month" or "year" (exactly, lower case).
func ParseUnit(s string) (Unit, error) {
	for u := Day; u <= Year; u++ {
		if unitNames[u] == s {
			return u, nil
		}
	}
	return 0, gamifytype.Invalid("Unit", s, "must be one of day, week, month, year")
}

// MarshalText encodes u as its name and the unset zero Unit as ""; any other
// invalid unit is an error.
func (u Unit) MarshalText() ([]byte, error) {
	if u == 0 {
		return []byte{}, nil
	}
	if !u.valid() {
		return nil, gamifytype.Invalid("Unit", uint8(u), "must be one of day, week, month, year")
	}
	return []byte(unitNames[u]), nil
}

// UnmarshalText decodes a name accepted by ParseUnit, or "" as the zero Unit.
func (u *Unit) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*u = 0
		return nil
	}
	v, err := ParseUnit(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// MaxEveryN is the largest Every.N accepted by Validate.
const MaxEveryN = 1000

// Every repeats every N units from Anchor, on the wall clock of Loc. It is a
// Schedule, and also answers which period (run) an instant belongs to.
//
// Occurrence k is the anchor's local date in Loc plus k×N units, at the
// anchor's local time of day; it is computed from the anchor, never from the
// previous occurrence, and never by adding durations. So:
//   - a daily rule at 00:00 stays at local midnight across DST (its periods
//     last 23 or 25 hours on those days);
//   - a month or year rule is month-end safe: an anchor on 31 January lands on
//     the last day of shorter months (28/29 February, 30 April) and returns to
//     the 31st in long months; 29 February yields 28 February in common years;
//   - a local time that a spring-forward gap skips is read with the offset in
//     force before the gap, so it moves later by the gap's length (02:30 →
//     03:30 in New York on 2026-03-08); a time that a fall-back repeats is its
//     first instant. Go's time.Date leaves both cases unspecified.
//
// A zone that removed a whole calendar day (Pacific/Apia, 2011-12-30) maps an
// occurrence on that day onto the next day's, making one period empty.
type Every struct {
	N      int            // units per period, 1…MaxEveryN
	Unit   Unit           // Day, Week, Month or Year
	Anchor time.Time      // occurrence 0: the start of the first period
	Loc    *time.Location // the wall clock that occurrences follow; nil means UTC
}

// Validate reports every invalid field of e, joined; each is a
// *gamifytype.ValidationError naming the field ("Every.N").
func (e Every) Validate() error {
	var errs []error
	if e.N < 1 || e.N > MaxEveryN {
		errs = append(errs, gamifytype.Invalid("Every.N", e.N, fmt.Sprintf("must be between 1 and %d", MaxEveryN)))
	}
	if !e.Unit.valid() {
		errs = append(errs, gamifytype.Invalid("Every.Unit", e.Unit, "must be one of day, week, month, year"))
	}
	if e.Anchor.IsZero() {
		errs = append(errs, gamifytype.Invalid("Every.Anchor", nil, "must be set"))
	} else if y := e.Anchor.Year(); y < 1 || y > 9999 {
		errs = append(errs, gamifytype.Invalid("Every.Anchor", e.Anchor, "must be in the years 1 to 9999"))
	}
	return errors.Join(errs...)
}

func (e Every) ok() bool {
	return e.N >= 1 && e.N <= MaxEveryN && e.Unit.valid() && !e.Anchor.IsZero()
}

func (e Every) loc() *time.Location {
	if e.Loc == nil {
		return time.UTC
	}
	return e.Loc
}

// maxSpan bounds the occurrences of a rule to a million years after its
// anchor, in each unit: k×N cannot overflow, and time.Date stays exact.
var maxSpan = [...]int{Day: 366_000_000, Week: 52_200_000, Month: 12_000_000, Year: 1_000_000}

// maxK returns the last k whose occurrence lies within maxSpan. e.ok().
func (e Every) maxK() int { return maxSpan[e.Unit] / e.N }

// Occurrence returns the k-th occurrence in Loc; Occurrence(0) is the anchor.
// It returns the zero Time for k < 0, for k whose occurrence would lie more
// than a million years after the anchor, or for an invalid rule.
func (e Every) Occurrence(k int) time.Time {
	if k < 0 || !e.ok() || k > e.maxK() {
		return time.Time{}
	}
	loc := e.loc()
	a := e.Anchor.In(loc)
	if k == 0 {
		return a // exact, even when the anchor is the second of a repeated wall time
	}
	y, mo, d := a.Date()
	h, mi, s := a.Clock()
	ns := a.Nanosecond()
	n := k * e.N
	switch e.Unit {
	case Day:
		d += n
	case Week:
		d += 7 * n
	case Month:
		m := int(mo) - 1 + n
		y, mo = y+m/12, time.Month(m%12+1)
		d = min(d, daysIn(y, mo))
	case Year:
		y += n
		d = min(d, daysIn(y, mo))
	}
	return wallTime(y, mo, d, h, mi, s, ns, loc)
}

// daysIn returns the number of days in month mo of year y.
func daysIn(y int, mo time.Month) int {
	return time.Date(y, mo+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Index returns the k of the period containing t: the largest k with
// Occurrence(k) ≤ t (at most the last occurrence Occurrence returns, for a
// t more than a million years after the anchor). ok is false if t is before
// the anchor (or e is invalid). It costs O(1) occurrences however far t is
// from the anchor.
func (e Every) Index(t time.Time) (k int, ok bool) {
	if !e.ok() || t.Before(e.Anchor) {
		return 0, false
	}
	loc := e.loc()
	a, l := e.Anchor.In(loc), t.In(loc)
	// Estimate from the calendar distance between the local dates, then
	// correct: the estimate is off by at most one period (time of day,
	// clamped month ends, DST shifts).
	switch e.Unit {
	case Day, Week:
		days := civilDay(l) - civilDay(a)
		if e.Unit == Week {
			days /= 7
		}
		k = int(days / int64(e.N))
	case Month:
		k = ((l.Year()-a.Year())*12 + int(l.Month()) - int(a.Month())) / e.N
	case Year:
		k = (l.Year() - a.Year()) / e.N
	}
	k = min(max(k, 0), e.maxK())
	for k > 0 && e.Occurrence(k).After(t) {
		k--
	}
	for o := e.Occurrence(k + 1); !o.IsZero() && !o.After(t); o = e.Occurrence(k + 1) {
		k++
	}
	return k, true
}

// civilDay numbers t's local calendar date (days since 1970-01-01).
func civilDay(t time.Time) int64 {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
}

// PeriodAt returns the period [start, end) containing t: start is the
// occurrence at or before t and end the next one (zero past the last
// occurrence, a million years after the anchor). If t is before the anchor
// (the rule has not started), ok is false, start is zero and end is the
// anchor; an invalid rule gives ok false and zero times.
func (e Every) PeriodAt(t time.Time) (start, end time.Time, ok bool) {
	k, ok := e.Index(t)
	if !ok {
		if e.ok() {
			return time.Time{}, e.Anchor.In(e.loc()), false
		}
		return time.Time{}, time.Time{}, false
	}
	return e.Occurrence(k), e.Occurrence(k + 1), true
}

// Prev returns the last occurrence at or before at, or the zero Time if at is
// before the anchor.
func (e Every) Prev(at time.Time) time.Time {
	k, ok := e.Index(at)
	if !ok {
		return time.Time{}
	}
	return e.Occurrence(k)
}

// Next returns the first occurrence strictly after after; before the anchor
// that is the anchor itself. It returns the zero Time for an invalid rule
// and past the last occurrence, a million years after the anchor.
func (e Every) Next(after time.Time) time.Time {
	if !e.ok() {
		return time.Time{}
	}
	if after.Before(e.Anchor) {
		return e.Anchor.In(e.loc())
	}
	k, _ := e.Index(after)
	return e.Occurrence(k + 1)
}

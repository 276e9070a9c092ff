package schedule

import "time"

// Schedule says when a recurring job runs.
type Schedule interface {
	// Next returns the first occurrence strictly after after, or the zero
	// Time if the schedule never fires again.
	Next(after time.Time) time.Time
}

// A wall clock is represented as a UTC time.Time whose fields are the local
// date and time: searching and comparing wall clocks that way knows no DST.

// wallOf returns t's wall clock in its own location.
func wallOf(t time.Time) time.Time {
	_, off := t.Zone()
	return t.UTC().Add(time.Duration(off) * time.Second)
}

// resolved lists the instants at which a location's clock shows a wall time.
type resolved struct {
	n  int          // 0 (inside a spring-forward gap), 1, or 2 (repeated by a fall-back)
	at [2]time.Time // the n instants, earliest first
	// When n == 0: the instant the gap ends, and the UTC offset (seconds) in
	// force before it.
	gapEnd    time.Time
	gapOffset int
}

// resolve finds the instants at which loc's clock shows wall. time.Date alone
// cannot: it returns one instant and leaves the gap and repeat cases
// unspecified (it moves a New York gap time back an hour but a Lord Howe one
// forward).
func resolve(wall time.Time, loc *time.Location) resolved {
	y, mo, d := wall.Date()
	h, mi, s := wall.Clock()
	t := time.Date(y, mo, d, h, mi, s, wall.Nanosecond(), loc)
	start, end := t.ZoneBounds()
	// Any instant showing wall lies in t's zone period or next to it.
	offsets := [3]int{}
	_, offsets[1] = t.Zone()
	offsets[0], offsets[2] = offsets[1], offsets[1]
	if !start.IsZero() {
		_, offsets[0] = start.Add(-time.Nanosecond).Zone()
	}
	if !end.IsZero() {
		_, offsets[2] = end.Zone()
	}
	var r resolved
	for _, off := range offsets {
		at := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if !wallOf(at).Equal(wall) || (r.n > 0 && at.Equal(r.at[r.n-1])) {
			continue
		}
		if r.n == 1 && at.Before(r.at[0]) {
			r.at[0], at = at, r.at[0]
		}
		if r.n < 2 {
			r.at[r.n] = at
			r.n++
		}
	}
	if r.n > 0 {
		return r
	}
	for _, tr := range [2]time.Time{start, end} {
		if tr.IsZero() {
			continue
		}
		_, before := tr.Add(-time.Nanosecond).Zone()
		_, after := tr.Zone()
		gapStart := tr.UTC().Add(time.Duration(before) * time.Second)
		gapEnd := tr.UTC().Add(time.Duration(after) * time.Second)
		if after > before && !wall.Before(gapStart) && wall.Before(gapEnd) {
			r.gapEnd, r.gapOffset = tr.In(loc), before
			return r
		}
	}
	// Unreachable for real zone data; fall back to time.Date's choice.
	r.n, r.at[0] = 1, t
	return r
}

// wallTime returns the instant at which loc's clock shows the given date and
// time, pinned down as RFC 5545 does: a time inside a spring-forward gap is
// read with the offset in force before the gap, so it lands later by the gap's
// length (02:30 → 03:30 in New York), and a time repeated by a fall-back is
// its first instant.
func wallTime(y int, mo time.Month, d, h, mi, s, ns int, loc *time.Location) time.Time {
	wall := time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	r := resolve(wall, loc)
	if r.n > 0 {
		return r.at[0]
	}
	return wall.Add(-time.Duration(r.gapOffset) * time.Second).In(loc)
}

// periodEnd returns an instant after t up to which t's UTC offset holds
// (normally the next transition), or the zero Time if it never changes.
func periodEnd(t time.Time) time.Time {
	_, end := t.ZoneBounds()
	if end.IsZero() || end.After(t) {
		return end
	}
	// Go 1.26 reports an end ≤ t on the last day of leap years past a zone's
	// last explicit transition (America/New_York, 2040-12-30 19:00 EST), so
	// find the next change by probing hourly, then bisecting to the second.
	_, off := t.Zone()
	loc := t.Location()
	for h := int64(1); h <= 48; h++ {
		hi := t.Unix() + h*3600
		if _, o := time.Unix(hi, 0).In(loc).Zone(); o == off {
			continue
		}
		lo := hi - 3600
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if _, o := time.Unix(mid, 0).In(loc).Zone(); o == off {
				lo = mid
			} else {
				hi = mid
			}
		}
		return time.Unix(hi, 0).In(loc)
	}
	return t.Add(48 * time.Hour)
}

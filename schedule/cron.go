package schedule

import (
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/robfig/cron/v3"
)

// cronParser accepts the standard 5 fields, an optional leading seconds field
// and the @yearly … @hourly descriptors.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour |
	cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// cronSchedule is a parsed cron expression firing on the wall clock of loc.
//
// robfig/cron's own Next walks instants in the location and gets DST wrong in
// ways that cannot be patched from outside: it skips a fixed time that falls
// in a spring-forward gap, fires twice at a time a fall-back repeats, and in
// zones that move by 30 minutes (Australia/Lord_Howe) returns times that do
// not match the expression at all ("30 1 * * *" fires at 02:30 on the day
// DST starts). So the expression is searched on wall clocks instead — robfig's
// Next in UTC, where no DST exists — and each matching wall clock is mapped to
// instants in loc here, with the rules documented on ParseCron.
type cronSchedule struct {
	wall cron.SpecSchedule // Location is UTC
	loc  *time.Location
	// fixed is set when neither the minute nor the hour field is a wildcard
	// ("30 2 * * *", but not "30 * * * *"): such a job means one run at that
	// wall time, which decides its DST handling.
	fixed bool
}

// ParseCron parses a cron expression whose fields are read on the wall clock
// of loc (nil means UTC). It accepts:
//   - 5 fields: minute hour day-of-month month day-of-week ("0 9 * * MON");
//   - 6 fields, the first being seconds ("30 0 9 * * MON");
//   - the descriptors @yearly (@annually), @monthly, @weekly, @daily
//     (@midnight) and @hourly.
//
// It rejects, as a *gamifytype.ValidationError with Field "Cron":
//   - a TZ= or CRON_TZ= prefix: the time zone is the loc parameter, so that a
//     definition has one place for it (robfig/cron would also panic on a bare
//     "TZ=x");
//   - @every: its times depend on when Next is asked, not on the calendar, so a
//     runner catching up after downtime would drift; use an Every rule;
//   - an expression that never fires, such as "0 0 30 2 *".
//
// Daylight saving time follows Vixie cron. A fixed-time expression (minute
// and hour fields not starting with * or ?) runs once per matching wall time:
// a time that a spring-forward gap skips runs at the instant the gap ends
// ("30 2 * * *" in America/New_York runs at 03:00 EDT on 2026-03-08), and a
// time that a fall-back repeats runs only at its first instant (01:30 EDT, not
// again at 01:30 EST, on 2026-11-01). A wildcard expression ("*/15 * * * *",
// "30 * * * *", @hourly) fires at every instant whose wall clock matches, so
// it keeps its rhythm: nothing in the gap, both passes of the repeated hour.
// (robfig/cron's own Next would skip the 02:30 run of 2026-03-08 and run 01:30
// twice on 2026-11-01; TestRobfigDST pins that down.)
//
// Next returns times in loc.
func ParseCron(expr string, loc *time.Location) (Schedule, error) {
	if loc == nil {
		loc = time.UTC
	}
	expr = strings.TrimSpace(expr)
	switch {
	case expr == "":
		return nil, gamifytype.Invalid("Cron", expr, "must not be empty")
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return nil, gamifytype.Invalid("Cron", expr, "must not start with TZ= or CRON_TZ=: the time zone is given separately")
	case strings.HasPrefix(expr, "@every"):
		return nil, gamifytype.Invalid("Cron", expr, "@every is not supported: use a calendar rule (every N days, weeks, months or years)")
	}
	parsed, err := cronParser.Parse(expr)
	if err != nil {
		return nil, gamifytype.Invalid("Cron", expr, err.Error())
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok { // only @every yields another type, and it is rejected above
		return nil, gamifytype.Invalid("Cron", expr, "is not a calendar schedule")
	}
	c := &cronSchedule{wall: *spec, loc: loc, fixed: isFixed(expr)}
	c.wall.Location = time.UTC
	// Five years from a leap year see every day-of-month/month combination
	// that can ever match; robfig gives up after five years too.
	if c.wall.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, gamifytype.Invalid("Cron", expr, "never fires: no date matches its day and month fields")
	}
	return c, nil
}

// isFixed reports whether a valid expression names fixed minutes and hours.
func isFixed(expr string) bool {
	if strings.HasPrefix(expr, "@") {
		return expr != "@hourly"
	}
	f := strings.Fields(expr)
	if len(f) == 6 {
		f = f[1:]
	}
	wild := func(s string) bool { return strings.HasPrefix(s, "*") || strings.HasPrefix(s, "?") }
	return !wild(f[0]) && !wild(f[1])
}

// Next returns the first time after after at which the expression fires, in
// the schedule's location, or the zero Time if it never fires again.
func (c *cronSchedule) Next(after time.Time) time.Time {
	// Walk the zone periods (spans of constant UTC offset) from after on. In a
	// period, instant = wall clock - offset, so matching wall clocks map to
	// instants in order; a fall-back only restarts the wall clock lower in the
	// next period.
	t := after.In(c.loc)
	from := wallOf(t) // candidates are > from: strictly after after
	for {
		_, off := t.Zone()
		offset := time.Duration(off) * time.Second
		end := periodEnd(t)
		var limit time.Time // the wall clock at which the period ends; zero: never
		if !end.IsZero() {
			limit = end.UTC().Add(offset)
		}
		for m := c.nextWall(from); !m.IsZero() && (limit.IsZero() || m.Before(limit)); m = c.nextWall(m) {
			at := m.Add(-offset).In(c.loc)
			// A fixed time runs at the first instant of its wall clock only.
			if !c.fixed || resolve(m, c.loc).at[0].Equal(at) {
				return at
			}
		}
		if limit.IsZero() {
			return time.Time{}
		}
		if _, next := end.Zone(); c.fixed && next > off {
			// A spring-forward gap: the wall clocks in [limit, wallOf(end))
			// never show. A fixed time among them runs when the gap ends.
			if m := c.nextWall(limit.Add(-time.Second)); !m.IsZero() && m.Before(wallOf(end)) {
				return end.In(c.loc)
			}
		}
		t = end.In(c.loc)
		from = wallOf(t).Add(-time.Second) // the period's first instant counts
	}
}

// nextWall returns the first wall clock after w that matches, or zero if none
// does. robfig searches to the end of the fifth year after w; only 29 February
// expressions have longer gaps (2096 to 2104), hence the retries.
func (c *cronSchedule) nextWall(w time.Time) time.Time {
	for range 3 {
		if m := c.wall.Next(w); !m.IsZero() {
			return m
		}
		w = time.Date(w.Year()+6, time.January, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)
	}
	return time.Time{}
}

package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/schedule"
	"github.com/gamifykit/gamify/store"
)

// BoardOrder is a board's sort direction. Its JSON is its name.
type BoardOrder string

// The orders of boards.
const (
	// Desc ranks the highest score first (the default).
	Desc BoardOrder = "desc"
	// Asc ranks the lowest score first (times, golf scores).
	Asc BoardOrder = "asc"
)

// TiePolicy says how equal scores share ranks. Its JSON is its name.
type TiePolicy string

// The tie policies.
const (
	// TiesCompetition gives equal scores the same rank and skips the ranks
	// they use: 1, 2, 2, 4 (the default).
	TiesCompetition TiePolicy = "competition"
	// TiesDense gives equal scores the same rank without gaps: 1, 2, 2, 3.
	TiesDense TiePolicy = "dense"
	// TiesUnique gives every entry its own rank in listing order: 1, 2, 3, 4.
	TiesUnique TiePolicy = "unique"
)

// RunUnit is the calendar unit of a board's run interval. Its JSON is its
// name.
type RunUnit string

// The run units.
const (
	// RunDay runs start at local midnight.
	RunDay RunUnit = "day"
	// RunWeek runs last 7 days from the board's start.
	RunWeek RunUnit = "week"
	// RunMonth runs start on the day of the month of the board's start.
	RunMonth RunUnit = "month"
	// RunYear runs start on the anniversary of the board's start.
	RunYear RunUnit = "year"
)

// order converts o to the index's order; ok is false for an unknown one.
func (o BoardOrder) order() (leaderboard.Order, bool) {
	switch o {
	case Desc:
		return leaderboard.Desc, true
	case Asc:
		return leaderboard.Asc, true
	}
	return 0, false
}

// ties converts p to the index's tie policy; ok is false for an unknown one.
func (p TiePolicy) ties() (leaderboard.Ties, bool) {
	switch p {
	case TiesCompetition:
		return leaderboard.Competition, true
	case TiesDense:
		return leaderboard.Dense, true
	case TiesUnique:
		return leaderboard.Unique, true
	}
	return 0, false
}

// unit converts u to the schedule's unit; ok is false for an unknown one.
func (u RunUnit) unit() (schedule.Unit, bool) {
	v, err := schedule.ParseUnit(string(u))
	return v, err == nil
}

// RankBy says what a leaderboard ranks.
type RankBy string

// What boards rank.
const (
	// RankByMetric ranks the sum of a metric's event values inside each
	// run, each event in the run of its own time.
	RankByMetric RankBy = "metric"
	// RankByStreak ranks the current length of a streak (no runs).
	RankByStreak RankBy = "streak"
	// RankByPoints ranks the points awarded inside each run, each award in
	// the run of the time of the event that caused it.
	RankByPoints RankBy = "points"
	// RankByScore ranks scores the game submits with Leaderboards().Submit.
	RankByScore RankBy = "score"
)

// ScoreOperator says how a submitted score combines with the stored one.
type ScoreOperator string

// The operators of score boards.
const (
	// OpBest keeps the better (score, subscore) pair (the default).
	OpBest ScoreOperator = "best"
	// OpSet replaces the stored pair.
	OpSet ScoreOperator = "set"
	// OpIncr adds the submitted score (the subscore is replaced).
	OpIncr ScoreOperator = "incr"
	// OpDecr subtracts the submitted score (the subscore is replaced).
	OpDecr ScoreOperator = "decr"
)

// DailyWindow restricts counting to a local time-of-day range "HH:mm"–"HH:mm"
// (in the user's time zone, else Options.DefaultTimezone; not the board's
// TZ, which places its runs). To before From wraps midnight.
type DailyWindow struct {
	From, To string
}

// Leaderboard defines a ranking of users, in runs.
//
// Its lifecycle (Status): inactive (being prepared: editable, counts
// nothing) → scheduled (activated, Start in the future) → active (counting)
// → finished (past End, or ended by Finish); Delete archives it at any
// point. Deactivate pauses an activated board (see LeaderboardsAPI.Deactivate).
// Once a board has been activated, its runs and history depend on how it
// ranks, so only Name, Description, Window, End and MaxParticipants change
// (also while it is paused).
//
// Everything counts by its event time: a late event counts toward the run
// its time falls in while that run is unfinished, and toward no run once
// it is finished (rolled over; runs that ended before the first activation
// are finished from then on). The first activation fills the board from
// history in the background (see Create; BoardPage.Filling).
type Leaderboard struct {
	Key         string        // immutable, [A-Za-z0-9_-]{1,64}
	Name        string        // display name, required
	Description string        // optional
	RankBy      RankBy        // what the board ranks, required
	Metric      string        // the metric of a RankByMetric board
	Streak      string        // the streak of a RankByStreak board
	System      string        // the points system of a RankByPoints board
	Operator    ScoreOperator // RankByScore only; default OpBest
	Order       BoardOrder    // default Desc
	Ties        TiePolicy     // default TiesCompetition
	TZ          string        // IANA zone of the board's dates and runs; default Options.DefaultTimezone
	// Start is the first day; zero means the start of the current calendar
	// period of RunUnit in TZ when the board is created (this week's Monday,
	// the 1st of this month, 1 January), or today without a unit.
	Start Date
	End   Date // last day (inclusive); zero means no end
	// RunEvery repeats runs every RunEvery × RunUnit from Start (a RunUnit
	// without RunEvery means every 1); RunCron starts runs at the times of a
	// cron expression (in TZ). With neither, the board is one run from Start
	// to End.
	RunEvery int
	RunUnit  RunUnit `json:",omitempty"` // RunDay, RunWeek, RunMonth or RunYear
	RunCron  string
	// Window restricts counting to a local time of day; zero means all day.
	Window          DailyWindow
	MaxParticipants int      // per breakdown group; 0 means unlimited
	Breakdown       []string // user attributes splitting the board into groups (at most 5)
	// Status is the board's lifecycle state at the time it was read; see
	// Activate, Deactivate, Finish and Delete. Create accepts "" (active,
	// or scheduled when Start is in the future, where Trophy's API creates
	// boards inactive) or StatusInactive.
	Status  Status
	Created time.Time
	Updated time.Time
	// Inactive lists when the activated board was paused (a draft has
	// none), oldest first; the last is open (zero To) while it is paused.
	// The engine keeps it (Activate and Deactivate change it; Patch refuses
	// a change): an event is judged by the status at its own time, so one
	// dated in an interval counts nowhere, whenever it arrives, and one
	// dated outside counts even if it arrives while the board is paused.
	// Create takes it from an export (see LeaderboardsAPI.Create).
	Inactive []Interval `json:",omitempty"`

	ref uint32
	// activated is set by the first activation and never cleared: the
	// board has a rollover job and its ranking definition is fixed.
	activated bool
	// finishedAt is when Finish ended the board; zero otherwise.
	finishedAt time.Time
	loc        *time.Location
	runs       schedule.Schedule // nil for a single run
	winFrom    int               // minutes after local midnight; -1 for no window
	winTo      int
	order      leaderboard.Order
	ties       leaderboard.Ties
}

// storedBoard is a board's stored JSON. The stored Status is the state
// Activate, Deactivate, Finish and Delete set (inactive, active, finished or
// archived); scheduled and active, and finished by End, follow from the clock.
// Inactive is kept under "paused", its name since the intervals were kept
// (the embedded Inactive is left empty).
type storedBoard struct {
	Leaderboard
	Ref        uint32                `json:"ref"`
	Activated  bool                  `json:"activated"`
	FinishedAt time.Time             `json:"finishedAt,omitzero"`
	Paused     []gamifytype.Interval `json:"paused,omitempty"`
}

// maxBreakdown bounds the attributes of a breakdown.
const maxBreakdown = 5

// dateIn is the calendar date of now in loc.
func dateIn(now time.Time, loc *time.Location) Date {
	y, m, d := now.In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// prepare validates b and fills its defaults and derived fields; cat checks
// references. old is the stored board of a patch (nil on create): a
// reference it already had is not checked again, so patching the Name of a
// board whose metric was since deactivated works.
func (b *Leaderboard) prepare(cat *catalog, defaultTZ *time.Location, now time.Time, old *Leaderboard) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	same := func(f func(*Leaderboard) string) bool { return old != nil && old.RankBy == b.RankBy && f(old) == f(b) }
	add(gamifytype.ValidateKey("Leaderboard.Key", b.Key))
	add(validateName("Leaderboard", b.Name))
	add(gamifytype.CheckText("Leaderboard.Description", b.Description, gamifytype.MaxTextLen))
	add(gamifytype.CheckText("Leaderboard.RunCron", b.RunCron, gamifytype.MaxNameLen))
	switch b.RankBy {
	case RankByMetric:
		if m, ok := cat.metrics[b.Metric]; (!ok || m.Status != StatusActive) && !same(func(x *Leaderboard) string { return x.Metric }) {
			add(gamifytype.Invalid("Leaderboard.Metric", b.Metric, "is not an active metric"))
		}
	case RankByStreak:
		if s, ok := cat.streaks[b.Streak]; (!ok || s.Status != StatusActive) && !same(func(x *Leaderboard) string { return x.Streak }) {
			add(gamifytype.Invalid("Leaderboard.Streak", b.Streak, "is not an active streak"))
		}
		if b.RunEvery != 0 || b.RunCron != "" {
			add(gamifytype.Invalid("Leaderboard.RunEvery", b.RunEvery, "streak boards cannot repeat"))
		}
	case RankByPoints:
		if ps, ok := cat.points.systems[b.System]; (!ok || ps.Status != StatusActive) && !same(func(x *Leaderboard) string { return x.System }) {
			add(gamifytype.Invalid("Leaderboard.System", b.System, "is not an active points system"))
		}
	case RankByScore:
		switch b.Operator {
		case "":
			b.Operator = OpBest
		case OpBest, OpSet, OpIncr, OpDecr:
		default:
			add(gamifytype.Invalid("Leaderboard.Operator", b.Operator, "must be best, set, incr or decr"))
		}
	default:
		add(gamifytype.Invalid("Leaderboard.RankBy", b.RankBy, "must be metric, streak, points or score"))
	}
	if b.RankBy != RankByScore && b.Operator != "" {
		add(gamifytype.Invalid("Leaderboard.Operator", b.Operator, "applies to score boards only"))
	}
	b.Order = cmp.Or(b.Order, Desc)
	if o, ok := b.Order.order(); ok {
		b.order = o
	} else {
		add(gamifytype.Invalid("Leaderboard.Order", b.Order, "must be desc or asc"))
	}
	b.Ties = cmp.Or(b.Ties, TiesCompetition)
	if p, ok := b.Ties.ties(); ok {
		b.ties = p
	} else {
		add(gamifytype.Invalid("Leaderboard.Ties", b.Ties, "must be competition, dense or unique"))
	}
	b.loc = defaultTZ
	if b.TZ != "" {
		if err := checkZone("Leaderboard.TZ", b.TZ); err != nil {
			add(err)
		} else {
			b.loc, _ = loadLocation(b.TZ)
		}
	}
	// A unit without an interval means every one of it.
	if b.RunUnit != "" && b.RunEvery == 0 && b.RunCron == "" {
		b.RunEvery = 1
	}
	if b.Start == (Date{}) {
		b.Start = periodStart(dateIn(now, b.loc), b.RunUnit)
	}
	if !validDate(b.Start) {
		add(gamifytype.Invalid("Leaderboard.Start", b.Start, "is not a date"))
	}
	if b.End != (Date{}) && (!validDate(b.End) || dateBefore(b.End, b.Start)) {
		add(gamifytype.Invalid("Leaderboard.End", b.End, "must be a date on or after Start"))
	}
	b.runs = nil
	switch {
	case b.RunEvery != 0 && b.RunCron != "":
		add(gamifytype.Invalid("Leaderboard.RunCron", b.RunCron, "must not be set together with RunEvery"))
	case b.RunEvery != 0:
		u, ok := b.RunUnit.unit()
		if !ok {
			add(gamifytype.Invalid("Leaderboard.RunUnit", b.RunUnit, "must be day, week, month or year"))
			break
		}
		e := schedule.Every{N: b.RunEvery, Unit: u, Anchor: b.startTime(), Loc: b.loc}
		if err := e.Validate(); err != nil {
			add(gamifytype.Invalid("Leaderboard.RunEvery", b.RunEvery, err.Error()))
		} else {
			b.runs = e
		}
	case b.RunCron != "":
		c, err := schedule.ParseCron(b.RunCron, b.loc)
		if err != nil {
			add(gamifytype.Invalid("Leaderboard.RunCron", b.RunCron, err.Error()))
		} else {
			b.runs = c
		}
	}
	if b.RunCron != "" && b.RunUnit != "" {
		add(gamifytype.Invalid("Leaderboard.RunUnit", b.RunUnit, "applies with RunEvery, not RunCron"))
	}
	b.winFrom, b.winTo = -1, -1
	if b.Window != (DailyWindow{}) {
		from, err1 := parseHHMM(b.Window.From)
		to, err2 := parseHHMM(b.Window.To)
		if err1 != nil || err2 != nil || from == to {
			add(gamifytype.Invalid("Leaderboard.Window", b.Window, "must be two different HH:mm times"))
		}
		b.winFrom, b.winTo = from, to
	}
	if b.MaxParticipants < 0 {
		add(gamifytype.Invalid("Leaderboard.MaxParticipants", b.MaxParticipants, "must not be negative"))
	}
	add(checkSet("Leaderboard.Breakdown", b.Breakdown, maxBreakdown))
	for i, k := range b.Breakdown[:min(len(b.Breakdown), maxBreakdown)] {
		if old != nil && i < len(old.Breakdown) && old.Breakdown[i] == k {
			continue
		}
		switch a, ok := cat.attrs[k]; {
		case !ok || a.Type != UserAttribute:
			add(gamifytype.Invalid(fmt.Sprintf("Leaderboard.Breakdown[%d]", i), k, "is not a user attribute"))
		case a.Status != StatusActive:
			add(gamifytype.Invalid(fmt.Sprintf("Leaderboard.Breakdown[%d]", i), k, "is not an active user attribute (it is "+string(a.Status)+")"))
		}
	}
	return errors.Join(errs...)
}

// lockedChanges refuses changes to how an activated board ranks, naming each
// changed field.
func lockedChanges(old, b *Leaderboard) error {
	var errs []error
	check := func(field string, changed bool, v any) {
		if changed {
			errs = append(errs, gamifytype.Invalid("Leaderboard."+field, v,
				"cannot change once the board has been activated (only Name, Description, Window, End and MaxParticipants can)"))
		}
	}
	check("RankBy", b.RankBy != old.RankBy, b.RankBy)
	check("Metric", b.Metric != old.Metric, b.Metric)
	check("Streak", b.Streak != old.Streak, b.Streak)
	check("System", b.System != old.System, b.System)
	check("Operator", b.Operator != old.Operator, b.Operator)
	check("Order", b.Order != old.Order, b.Order)
	check("Ties", b.Ties != old.Ties, b.Ties)
	check("TZ", b.TZ != old.TZ, b.TZ)
	check("Start", b.Start != old.Start, b.Start)
	check("RunEvery", b.RunEvery != old.RunEvery, b.RunEvery)
	check("RunUnit", b.RunUnit != old.RunUnit, b.RunUnit)
	check("RunCron", b.RunCron != old.RunCron, b.RunCron)
	check("Breakdown", !slices.Equal(b.Breakdown, old.Breakdown), b.Breakdown)
	return errors.Join(errs...)
}

// periodStart is the first day of the calendar period of unit that holds d:
// the Monday of its week, the 1st of its month, 1 January of its year, or d
// itself for days (and for boards without a unit).
func periodStart(d Date, unit RunUnit) Date {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	switch unit {
	case RunWeek:
		t = t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
	case RunMonth:
		t = t.AddDate(0, 0, 1-t.Day())
	case RunYear:
		t = time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

func validDate(d Date) bool {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return d.Year >= 1900 && d.Year < gamifytype.MaxTime.Year() && t.Day() == d.Day && t.Month() == d.Month // runs are timed in int64 nanoseconds
}

func dateBefore(a, b Date) bool {
	return cmp.Or(cmp.Compare(a.Year, b.Year), cmp.Compare(a.Month, b.Month), cmp.Compare(a.Day, b.Day)) < 0
}

func parseHHMM(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// startTime is the first instant of the board: local midnight of Start.
func (b *Leaderboard) startTime() time.Time {
	return time.Date(b.Start.Year, b.Start.Month, b.Start.Day, 0, 0, 0, 0, b.loc)
}

// endTime is the instant the board ends: after its last day, or when Finish
// ended it if earlier; zero for no end.
func (b *Leaderboard) endTime() time.Time {
	var end time.Time
	if b.End != (Date{}) {
		end = time.Date(b.End.Year, b.End.Month, b.End.Day+1, 0, 0, 0, 0, b.loc)
	}
	if !b.finishedAt.IsZero() && (end.IsZero() || b.finishedAt.Before(end)) {
		end = b.finishedAt
	}
	return end
}

// status is the board's lifecycle state at now.
func (b *Leaderboard) status(now time.Time) Status {
	end := b.endTime()
	switch {
	case b.Status == StatusArchived, b.Status == StatusFinished:
		return b.Status
	case b.activated && !end.IsZero() && !now.Before(end):
		return StatusFinished // past its end, paused or not
	case b.Status == StatusInactive:
		return StatusInactive
	case now.Before(b.startTime()):
		return StatusScheduled
	}
	return StatusActive
}

// hasRuns reports whether the board's runs are rolled over: it has been
// activated and is not archived (paused and finished boards included).
func (b *Leaderboard) hasRuns() bool { return b.activated && b.Status != StatusArchived }

// counts reports whether events count toward the board (the clock aside).
func (b *Leaderboard) counts() bool { return b.activated && b.Status == StatusActive }

// ranksEvents reports whether events may count on b: it counts now, or it
// is paused and events dated before the pause still count (see Inactive).
func (b *Leaderboard) ranksEvents() bool {
	return b.counts() || (b.activated && b.Status == StatusInactive && len(b.Inactive) > 0)
}

// pausedAt reports whether b was paused at t.
func (b *Leaderboard) pausedAt(t time.Time) bool {
	return len(b.Inactive) > 0 && gamifytype.InAny(b.Inactive, t)
}

// runAt returns the run containing t: [start, end), end zero when open-ended.
// ok is false before the board's start or from its end on.
func (b *Leaderboard) runAt(t time.Time) (start, end time.Time, ok bool) {
	first, last := b.startTime(), b.endTime()
	if t.Before(first) || (!last.IsZero() && !t.Before(last)) {
		return time.Time{}, time.Time{}, false
	}
	switch r := b.runs.(type) {
	case nil:
		start, end = first, last
	case schedule.Every:
		start, end, _ = r.PeriodAt(t)
	default: // cron: runs start at the fire times after the board's start
		start = first
		for next := r.Next(first); !next.IsZero() && !next.After(t); next = r.Next(next) {
			start = next
		}
		end = r.Next(start)
	}
	if !last.IsZero() && (end.IsZero() || end.After(last)) {
		end = last
	}
	return start, end, true
}

// boundaries is the Schedule of a board's rollover job: its start, each run
// boundary, and its end.
type boundaries struct{ b *Leaderboard }

func (s boundaries) Next(after time.Time) time.Time {
	first, last := s.b.startTime(), s.b.endTime()
	if !last.IsZero() && !first.Before(last) {
		return time.Time{} // finished before it started: no runs
	}
	if after.Before(first) {
		return first
	}
	var next time.Time
	if s.b.runs != nil {
		next = s.b.runs.Next(after)
	}
	if !last.IsZero() && (next.IsZero() || next.After(last)) {
		if after.Before(last) {
			return last
		}
		return time.Time{}
	}
	return next
}

// inWindow reports whether t's local time of day is inside the board's window.
func (b *Leaderboard) inWindow(t time.Time, loc *time.Location) bool {
	if b.winFrom < 0 {
		return true
	}
	lt := t.In(loc)
	m := lt.Hour()*60 + lt.Minute()
	if b.winFrom < b.winTo {
		return m >= b.winFrom && m < b.winTo
	}
	return m >= b.winFrom || m < b.winTo
}

// group is the breakdown group of a user: "k=v,k2=v2" over the breakdown
// attributes, values escaped, empty for boards without breakdown.
func (b *Leaderboard) group(p *profile) string {
	if len(b.Breakdown) == 0 {
		return ""
	}
	return string(b.appendGroup(nil, p))
}

// appendGroup appends b.group(p) to buf.
func (b *Leaderboard) appendGroup(buf []byte, p *profile) []byte {
	for i, k := range b.Breakdown {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, k...)
		buf = append(buf, '=')
		buf = appendGroupValue(buf, p.Attributes[k])
	}
	return buf
}

// A breakdown group is named in the API as Trophy names it: "attr:value"
// for each breakdown attribute, comma-separated ("country:DE,plan:pro"), in
// the board's breakdown order. Internally (in indexes and stored keys) the
// pairs are written "attr=value". Attribute keys hold neither separator; in
// values '%', ',' and NUL are written %25, %2C and %00, so that no value
// can forge another group ("region:eu%2Ctier=gold,tier:x" is not
// "region:eu,tier:gold%2Ctier=x") nor end a stored key early.

// appendGroupValue appends v with '%', ',' and NUL escaped.
func appendGroupValue(buf []byte, v string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '%', ',', 0:
			buf = append(buf, '%', hex[c>>4], hex[c&15])
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// unescapeGroupValue decodes %XX escapes of a group value given in the API;
// a '%' not followed by two hex digits stands for itself.
func unescapeGroupValue(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var out []byte
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			if h, ok := unhex(v[i+1]); ok {
				if l, ok := unhex(v[i+2]); ok {
					out = append(out, h<<4|l)
					i += 2
					continue
				}
			}
		}
		out = append(out, v[i])
	}
	return string(out)
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// publicGroup returns the API name of an internal group key.
func publicGroup(g string) string {
	if g == "" {
		return ""
	}
	pairs := strings.Split(g, ",")
	for i, p := range pairs {
		pairs[i] = strings.Replace(p, "=", ":", 1)
	}
	return strings.Join(pairs, ",")
}

// internalGroup parses the API name of one of b's breakdown groups (pairs in
// any order) into its internal key. A board without a breakdown has the one
// group "". An unknown attribute, a missing or repeated one, or a pair
// without ':' is a ValidationError naming field.
func (b *Leaderboard) internalGroup(field, g string) (string, error) {
	if len(b.Breakdown) == 0 {
		if g != "" {
			return "", gamifytype.Invalid(field, g, "must be empty: leaderboard "+b.Key+" has no breakdown")
		}
		return "", nil
	}
	want := "one attr:value pair for each of " + strings.Join(b.Breakdown, ", ")
	if g == "" {
		return "", gamifytype.Invalid(field, g, "must name a breakdown group: "+want)
	}
	vals := map[string]string{}
	for _, p := range strings.Split(g, ",") {
		k, v, ok := strings.Cut(p, ":")
		if !ok || !slices.Contains(b.Breakdown, k) {
			return "", gamifytype.Invalid(field, g, "must be "+want)
		}
		if _, dup := vals[k]; dup {
			return "", gamifytype.Invalid(field, g, "names "+k+" twice")
		}
		vals[k] = v
	}
	if len(vals) != len(b.Breakdown) {
		return "", gamifytype.Invalid(field, g, "must be "+want)
	}
	var buf []byte
	for i, k := range b.Breakdown {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, k...)
		buf = append(buf, '=')
		buf = appendGroupValue(buf, unescapeGroupValue(vals[k]))
	}
	return string(buf), nil
}

const defBoard = "leaderboard/"

func (t *txn) putBoard(b *Leaderboard) {
	cat := t.catalogForWrite()
	cat.boards[b.Key], cat.boardByRef[b.ref] = b, b
	cat.indexBoards()
	sb := storedBoard{Leaderboard: *b, Ref: b.ref, Activated: b.activated, FinishedAt: b.finishedAt, Paused: b.Inactive}
	sb.Leaderboard.Inactive = nil
	t.putJSON(store.Definitions, []byte(defBoard+b.Key), sb)
}

// indexBoards recomputes which counting boards rank each metric and streak.
func (c *catalog) indexBoards() {
	c.metricBoards = map[string][]*Leaderboard{}
	c.streakBoards = map[string][]*Leaderboard{}
	c.pointsBoards = map[string][]*Leaderboard{}
	for ref := uint32(1); ref <= c.lastBoardRef; ref++ {
		b, ok := c.boardByRef[ref]
		if !ok || !b.ranksEvents() {
			continue
		}
		switch b.RankBy {
		case RankByMetric:
			c.metricBoards[b.Metric] = append(c.metricBoards[b.Metric], b)
		case RankByStreak:
			c.streakBoards[b.Streak] = append(c.streakBoards[b.Streak], b)
		case RankByPoints:
			c.pointsBoards[b.System] = append(c.pointsBoards[b.System], b)
		}
	}
}

// loadBoard loads a stored board, checked as Create checks a new one except
// for the status of what it ranks and its breakdown attributes, which may
// have been deactivated or archived since (the board keeps its own).
func loadBoard(c *catalog, key string, v []byte, defaultTZ *time.Location) error {
	var sb storedBoard
	if err := json.Unmarshal(v, &sb); err != nil {
		return err
	}
	b := sb.Leaderboard
	switch b.Status {
	case StatusInactive, StatusActive, StatusFinished, StatusArchived:
	default:
		return fmt.Errorf("status %q", b.Status)
	}
	if err := storedDef(key, defBoard+b.Key, StatusActive, sb.Ref, c.boardByRef, nil); err != nil {
		return err
	}
	if b.Start == (Date{}) {
		return errors.New("no Start") // prepare would take today's
	}
	b.Breakdown = slices.Clone(b.Breakdown)
	old := b
	if err := b.prepare(c, defaultTZ, time.Time{}, &old); err != nil {
		return err
	}
	b.ref, b.activated, b.finishedAt, b.Inactive = sb.Ref, sb.Activated, sb.FinishedAt, sb.Paused
	if b.activated { // a draft (never activated) is not paused
		b.Inactive = loadedOff(b.Inactive, b.Status == StatusInactive, b.Created, b.Updated)
	}
	c.boards[b.Key], c.boardByRef[b.ref] = &b, &b
	c.lastBoardRef = max(c.lastBoardRef, b.ref)
	return nil
}

// LeaderboardsAPI administers and queries leaderboards. Get it from
// Engine.Leaderboards.
type LeaderboardsAPI struct{ e *Engine }

// Leaderboards returns the leaderboards API.
func (e *Engine) Leaderboards() LeaderboardsAPI { return LeaderboardsAPI{e} }

// shown is a copy of b as the API returns it: its status at now and none
// of the engine's derived fields, so that copies compare equal by value.
func (b *Leaderboard) shown(now time.Time) Leaderboard {
	out := *b
	out.Breakdown, out.Inactive = slices.Clone(b.Breakdown), slices.Clone(b.Inactive)
	out.Status = b.status(now)
	out.ref, out.activated, out.finishedAt, out.loc, out.runs = 0, false, time.Time{}, nil, nil
	out.winFrom, out.winTo, out.order, out.ties = 0, 0, 0, 0
	return out
}

// Create defines a board. With Status "" it is activated at once: active,
// or scheduled when Start is in the future (LeaderboardStarted is sent when
// it starts now). With StatusInactive it is created inactive: fully
// editable, counting nothing, until Activate. A key in use, even by an
// archived board, is ErrConflict.
//
// Inactive, from an export, gives the intervals the board was paused (the
// rules: docs/behaviour.md, "Status"): an active board counts nothing dated in
// them, and an inactive board with them is not a draft but an activated
// board that is paused (its last interval open), as Deactivate leaves one.
//
// The first activation (here or by Activate) queues a fill from history,
// run in resumable chunks by the scheduler (RunDue with a ManualClock): a
// metric or points board adds the ledger's events and awards recorded
// before the activation to the runs of their times, the current run and
// the runs that ended before it, which are frozen when the fill ends
// (without LeaderboardFinished); a streak board gets each user's current
// length (a scheduled one when it starts). Until the fill ends, reads see
// a partial board (BoardPage.Filling).
func (a LeaderboardsAPI) Create(ctx context.Context, b Leaderboard) (Leaderboard, error) {
	if err := a.e.live(); err != nil {
		return Leaderboard{}, err
	}
	b.Breakdown = slices.Clone(b.Breakdown)
	if err := checkNewBoard(a.e.cat.Load(), a.e.opts.DefaultTimezone, a.e.now(), &b); err != nil {
		return Leaderboard{}, err
	}
	c, err := createDef(ctx, a.e, boardDefs, b)
	if err != nil {
		return Leaderboard{}, fmt.Errorf("create leaderboard %s: %w", b.Key, err)
	}
	return c, nil
}

// checkNewBoard validates a board to create, its Status included.
func checkNewBoard(cat *catalog, defaultTZ *time.Location, now time.Time, b *Leaderboard) error {
	var err error
	switch b.Status {
	case "", StatusActive, StatusInactive:
	default:
		err = gamifytype.Invalid("Leaderboard.Status", b.Status, "must be active (the default) or inactive")
	}
	return errors.Join(err, b.prepare(cat, defaultTZ, now, nil))
}

func (t *txn) createBoard(b Leaderboard) (Leaderboard, error) {
	cat := t.catalogForWrite()
	if _, ok := cat.boards[b.Key]; ok {
		return Leaderboard{}, fmt.Errorf("%w: leaderboard %s exists", ErrConflict, b.Key)
	}
	if err := checkNewBoard(cat, t.w.opts.DefaultTimezone, t.now, &b); err != nil {
		return Leaderboard{}, err
	}
	b.Status = cmp.Or(b.Status, StatusActive)
	// Intervals come from an export: an inactive board with them is an
	// activated one that is paused, not a draft, so that what was counted
	// before its pauses counts as in the source.
	b.activated = b.Status == StatusActive || len(b.Inactive) > 0
	if len(b.Inactive) > 0 {
		off, err := createdOff("Leaderboard.Inactive", b.Inactive, b.Status, t.now)
		if err != nil {
			return Leaderboard{}, err
		}
		b.Inactive = off
	}
	b.Created, b.Updated = stamp(t.now), stamp(t.now)
	cat.lastBoardRef++
	b.ref = cat.lastBoardRef
	t.putBoard(&b)
	if b.activated {
		t.startBoard(&b)
	}
	return b.shown(t.now), nil
}

// startBoard registers the rollover job of a board activated for the first
// time, announces its run if it starts now, and queues its fill from
// history (board_fill.go). Runs that ended before now are finished, as the
// job's first occurrence is after now: a late event counts toward none of
// them.
func (t *txn) startBoard(b *Leaderboard) {
	t.registerBoard(b)
	rt := t.w.eng.boardRT(b.ref)
	rt.mu.Lock()
	rt.finishedTo = max(rt.finishedTo, t.now.UnixNano())
	rt.mu.Unlock()
	if b.status(t.now) == StatusActive {
		start, end, _ := b.runAt(t.now)
		t.notes = append(t.notes, LeaderboardStarted{Board: b.Key, RunStart: start, RunEnd: end})
	}
	t.queueFill(b)
}

// boardDefs describes leaderboards for the shared admin verbs.
var boardDefs = resource[Leaderboard]{
	what: "leaderboard", field: "Leaderboard", kind: "leaderboard",
	defs: func(c *catalog) map[string]*Leaderboard { return c.boards },
	clone: func(b Leaderboard) Leaderboard {
		b.Breakdown, b.Inactive = slices.Clone(b.Breakdown), slices.Clone(b.Inactive)
		return b
	},
	owned: func(b *Leaderboard) owned { return owned{b.Key, b.Status, b.Created, b.Updated, b.Inactive} },
	replace: func(t *txn, old *Leaderboard, b Leaderboard) (Leaderboard, error) {
		return t.replaceBoard(old, b)
	},
}

func (t *txn) replaceBoard(old *Leaderboard, b Leaderboard) (Leaderboard, error) {
	if old.activated {
		if err := lockedChanges(old, &b); err != nil {
			return Leaderboard{}, err
		}
		if b.End != old.End {
			if old.status(t.now) == StatusFinished {
				return Leaderboard{}, gamifytype.Invalid("Leaderboard.End", b.End, "cannot change once the board is finished")
			}
			if b.End != (Date{}) && dateBefore(b.End, dateIn(t.now, old.loc)) {
				return Leaderboard{}, gamifytype.Invalid("Leaderboard.End", b.End, "must not be in the past once the board has been activated")
			}
		}
	}
	if err := b.prepare(t.catalogForWrite(), t.w.opts.DefaultTimezone, t.now, old); err != nil {
		return Leaderboard{}, err
	}
	if err := leagueBoardKept(t.catalogForWrite(), &b); err != nil {
		return Leaderboard{}, err
	}
	b.ref, b.activated, b.finishedAt, b.Inactive = old.ref, old.activated, old.finishedAt, old.Inactive // the intervals are the engine's
	b.Updated = stamp(t.now)
	t.putBoard(&b)
	if b.activated {
		t.registerBoard(&b) // End may have moved the last boundary
		if b.End != old.End {
			t.w.eng.boardRT(b.ref).refreshEnds(&b)
		}
	}
	return b.shown(t.now), nil
}

// Patch changes a board: edit gets a copy of it (with its current Status)
// and sets the fields to change; the others are kept. An inactive board
// that was never activated may change in every field; once activated, only
// Name, Description, Window, End (not into the past, and not once finished)
// and MaxParticipants: a change to another field is a ValidationError
// naming it. Key, Status, Created and Updated are the engine's. edit runs
// outside the writer and may run more than once if another write lands
// meanwhile, so it must only edit its argument.
func (a LeaderboardsAPI) Patch(ctx context.Context, key string, edit func(*Leaderboard)) (Leaderboard, error) {
	if edit == nil {
		return Leaderboard{}, errNilEdit
	}
	return boardDefs.patch(ctx, a.e, key, a.showStatus(edit))
}

// BulkPatch runs edit on up to 100 boards in one commit (as Patch does for
// one), reporting failures per item; it returns the boards it changed.
func (a LeaderboardsAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Leaderboard)) ([]Leaderboard, []Issue, error) {
	if edit == nil {
		return nil, nil, errNilEdit
	}
	return boardDefs.bulkPatch(ctx, a.e, keys, a.showStatus(edit))
}

// showStatus wraps a patch edit so that it sees the board's current Status
// (scheduled, active, finished) rather than the stored one, which an edit
// that leaves Status alone gets back.
func (a LeaderboardsAPI) showStatus(edit func(*Leaderboard)) func(*Leaderboard) {
	now := a.e.now()
	return func(b *Leaderboard) {
		stored, shown := b.Status, b.status(now)
		b.Status = shown
		edit(b)
		if b.Status == shown {
			b.Status = stored
		}
	}
}

// setBoard applies a lifecycle change (verb names it in errors) to the
// board with key in one command.
func (a LeaderboardsAPI) setBoard(ctx context.Context, verb, key string, to Status) (Leaderboard, error) {
	v, err := execStatus(ctx, a.e, boardDefs.kind, "", key, to)
	if err != nil {
		return Leaderboard{}, fmt.Errorf("%s leaderboard %s: %w", verb, gamifytype.Quote(key), err)
	}
	return v.(Leaderboard), nil
}

// Activate starts an inactive board: it becomes scheduled or active by the
// clock, and its runs are rolled over by the scheduler. The first
// activation fills the board from history (see Create) and announces the
// run that starts now (LeaderboardStarted); a
// paused board resumes counting in the run current now, keeping its
// standings. Activating a scheduled or active board changes nothing; a
// finished one is ErrConflict.
func (a LeaderboardsAPI) Activate(ctx context.Context, key string) (Leaderboard, error) {
	return a.setBoard(ctx, "activate", key, StatusActive)
}

// Deactivate pauses a board: events and submissions stop counting toward it
// until Activate. An event is judged by its own time, not its arrival: one
// dated while the board was paused never counts, and a late one dated
// before the pause still counts in its run if that run is not finished,
// even while the board is paused. The current run keeps its standings
// (queryable, and counted into again on Activate if the run is still
// current then); the runs keep their calendar, so a run that ends while the
// board is paused is frozen at its end with the standings it had, and
// LeaderboardFinished is sent as usual (no LeaderboardStarted while
// paused). A board never activated is already inactive. Deactivating an inactive board changes
// nothing; a finished one is ErrConflict.
func (a LeaderboardsAPI) Deactivate(ctx context.Context, key string) (Leaderboard, error) {
	return a.setBoard(ctx, "deactivate", key, StatusInactive)
}

// Finish ends a board now, as if its End were now: its current run is
// frozen exactly as a run reaching its scheduled end is (once, with
// LeaderboardFinished), nothing counts toward it any more, and its history
// stays queryable (Rankings with At, Runs). Run boundaries that fell due
// before now and were not yet rolled over are rolled over first. Finishing a
// finished board changes nothing; finishing a board never activated just
// marks it finished.
func (a LeaderboardsAPI) Finish(ctx context.Context, key string) (Leaderboard, error) {
	return a.setBoard(ctx, "finish", key, StatusFinished)
}

// setBoardStatus activates (to active), deactivates (inactive) or
// finishes (finished) the board with key.
func (t *txn) setBoardStatus(key string, to Status) (Leaderboard, error) {
	old, ok := t.catalogForWrite().boards[key]
	if !ok || old.Status == StatusArchived {
		return Leaderboard{}, ErrNotFound
	}
	cur := old.status(t.now)
	switch {
	case to != StatusActive && to != StatusInactive && to != StatusFinished:
		return Leaderboard{}, gamifytype.Invalid("Leaderboard.Status", to, "must be active, inactive or finished")
	case cur == StatusFinished && to != StatusFinished:
		return Leaderboard{}, fmt.Errorf("%w: the board is finished", ErrConflict)
	case cur == to, to == StatusActive && cur == StatusScheduled:
		return old.shown(t.now), nil
	}
	b := *old
	b.Status, b.Updated = to, stamp(t.now)
	if old.activated {
		b.Inactive = offAfterStatus(old.Inactive, old.Status, to, stamp(t.now))
	}
	switch to {
	case StatusActive:
		first := !b.activated
		b.activated = true
		t.putBoard(&b)
		if first {
			t.startBoard(&b)
		}
	case StatusInactive:
		t.putBoard(&b)
	case StatusFinished:
		b.finishedAt = stamp(t.now)
		t.putBoard(&b)
		if b.activated {
			if err := t.finishRuns(&b); err != nil {
				return Leaderboard{}, err
			}
		}
	}
	return b.shown(t.now), nil
}

// Delete archives a board: hidden from lists unless asked, no more tracking
// nor rollovers (an unfinished run is not frozen), frozen runs kept and the
// key never reused. A missing or archived key is ErrNotFound; a board a
// league (not archived) ranks is ErrConflict, nothing changed.
func (a LeaderboardsAPI) Delete(ctx context.Context, key string) error {
	if err := archiveDef(ctx, a.e, boardDefs, key); err != nil {
		return fmt.Errorf("delete leaderboard %s: %w", gamifytype.Quote(key), err)
	}
	return nil
}

func (t *txn) archiveBoard(key string) error {
	cat := t.catalogForWrite()
	old, ok := cat.boards[key]
	if !ok || old.Status == StatusArchived {
		return ErrNotFound
	}
	for _, l := range sortedValues(cat.leagues) {
		if l.Board == key && l.Status != StatusArchived {
			// The league would stop rolling over and placing users.
			return fmt.Errorf("%w: league %s ranks leaderboard %s: delete the league first", ErrConflict, l.Key, key)
		}
	}
	b := *old
	b.Status, b.Updated = StatusArchived, stamp(t.now)
	t.putBoard(&b)
	return nil
}

var _ = registerKind("leaderboard", kindOps[Leaderboard]{
	of:      func(string) resource[Leaderboard] { return boardDefs },
	create:  func(t *txn, _ string, b Leaderboard) (Leaderboard, error) { return t.createBoard(b) },
	status:  func(t *txn, _, key string, to Status) (Leaderboard, error) { return t.setBoardStatus(key, to) },
	archive: func(t *txn, _, key string) error { return t.archiveBoard(key) },
})

// BulkCreate creates up to 100 boards in one commit (each as Create does).
// Items that fail are reported as issues and skipped; the others are created.
func (a LeaderboardsAPI) BulkCreate(ctx context.Context, bs []Leaderboard) ([]Leaderboard, []Issue, error) {
	return bulkCreate(ctx, a.e, boardDefs, "Leaderboards", bs, func(b *Leaderboard) string { return b.Key })
}

// BulkDelete archives up to 100 boards in one commit, reporting failures per item.
func (a LeaderboardsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, err
	}
	errs, err := archiveDefs(ctx, a.e, boardDefs, keys)
	if err != nil {
		return nil, fmt.Errorf("bulk delete leaderboards: %w", err)
	}
	return keyIssues(keys, errs), nil
}

// Get returns a board, archived or not, with its status at the clock's
// time, or ErrNotFound.
func (a LeaderboardsAPI) Get(ctx context.Context, key string) (Leaderboard, error) {
	if err := a.e.live(); err != nil {
		return Leaderboard{}, err
	}
	b, ok := a.e.cat.Load().boards[key]
	if !ok {
		return Leaderboard{}, fmt.Errorf("leaderboard %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	return b.shown(a.e.now()), nil
}

// BoardListOptions page a list of boards and say which to include besides
// the scheduled and active ones.
type BoardListOptions struct {
	ListOptions
	// IncludeInactive lists inactive boards too.
	IncludeInactive bool
	// IncludeFinished lists finished boards too.
	IncludeFinished bool
}

// List returns boards in creation order: scheduled and active ones, and
// inactive, finished and archived ones when asked.
func (a LeaderboardsAPI) List(ctx context.Context, opts BoardListOptions) ([]Leaderboard, error) {
	limit, err := opts.validate("ListOptions")
	if err != nil {
		return nil, err
	}
	if err := a.e.live(); err != nil {
		return nil, err
	}
	now := a.e.now()
	var all []*Leaderboard
	for _, b := range a.e.cat.Load().boards {
		switch b.status(now) {
		case StatusInactive:
			if !opts.IncludeInactive {
				continue
			}
		case StatusFinished:
			if !opts.IncludeFinished {
				continue
			}
		case StatusArchived:
			if !opts.IncludeArchived {
				continue
			}
		}
		all = append(all, b)
	}
	slices.SortFunc(all, func(x, y *Leaderboard) int { return cmp.Compare(x.ref, y.ref) })
	out := []Leaderboard{}
	for _, b := range page(all, opts.Skip, limit) {
		out = append(out, b.shown(now))
	}
	return out, nil
}

// LeaderboardStarted is sent when a board's run starts: at a run boundary of
// an active board, and when Create or the first Activate starts it now.
type LeaderboardStarted struct {
	Board            string
	RunStart, RunEnd time.Time // RunEnd zero when open-ended
}

// UserID implements Notification; board notifications concern no user.
func (LeaderboardStarted) UserID() string { return "" }

// LeaderboardFinished is sent once when a run ends (at its scheduled end or
// by Finish); its standings are frozen.
type LeaderboardFinished struct {
	Board            string
	RunStart, RunEnd time.Time
	Participants     int
}

// UserID implements Notification; board notifications concern no user.
func (LeaderboardFinished) UserID() string { return "" }

// Submit records a score on a score board with the board's operator and
// returns the user's standing. An unknown or archived board is ErrNotFound
// and one not ranked by score ErrInvalid, both a ValidationError on
// Submit.Board; one inactive,
// scheduled or finished is ErrConflict. Submissions carry no
// idempotency key: with the incr and decr operators a retry counts again.
func (a LeaderboardsAPI) Submit(ctx context.Context, s ScoreSubmission) (LeaderboardChange, error) {
	key, user, score, subscore := s.Board, s.User, s.Score, s.Subscore
	if err := a.e.live(); err != nil {
		return LeaderboardChange{}, err
	}
	var errs []error
	errs = append(errs, validateUserID("Submit.User", user))
	sc, sub := score, subscore
	if sc == gamifytype.MinAmount {
		errs = append(errs, gamifytype.Invalid("Submit.Score", sc, "is out of range"))
	}
	if sub == gamifytype.MinAmount {
		errs = append(errs, gamifytype.Invalid("Submit.Subscore", sub, "is out of range"))
	}
	switch b, ok := a.e.cat.Load().boards[key]; {
	case !ok || b.Status == StatusArchived:
		errs = append(errs, gamifytype.NotFound("Submit.Board", key, "leaderboard"))
	case b.RankBy != RankByScore:
		errs = append(errs, gamifytype.Invalid("Submit.Board", key, "is not a score board"))
	}
	if err := errors.Join(errs...); err != nil {
		return LeaderboardChange{}, err
	}
	v, err := a.e.do(ctx, submitOp.cmd(s), a.e.now(), a.e.opts.Durability == Durable)
	if err != nil {
		return LeaderboardChange{}, fmt.Errorf("submit to %s for %q: %w", gamifytype.Quote(key), gamifytype.Quote(user), err)
	}
	return v.(LeaderboardChange), nil
}

var submitOp = newOp("leaderboard.submit", func(t *txn, sub ScoreSubmission) (LeaderboardChange, error) {
	key, user, score := sub.Board, sub.User, sub.Score
	b, ok := t.w.cat.boards[key]
	if !ok || b.Status == StatusArchived { // archived since the check
		return LeaderboardChange{}, gamifytype.NotFound("Submit.Board", key, "leaderboard")
	}
	if b.status(t.now) != StatusActive {
		return LeaderboardChange{}, fmt.Errorf("leaderboard %s is %s: %w", key, b.status(t.now), ErrConflict)
	}
	u, err := t.user(user, true)
	if err != nil {
		return LeaderboardChange{}, err
	}
	s, ss := sub.Score.Micros(), sub.Subscore.Micros()
	var overflow bool
	var changes []LeaderboardChange
	err = t.scoreBoard(u, b, t.now, t.nextSeq(), func(old userBoard) (int64, int64) {
		switch {
		case b.Operator == OpSet || !old.Scored:
			if b.Operator == OpDecr {
				return -s, ss
			}
			return s, ss
		case b.Operator == OpIncr:
			n, ok := AmountFromMicros(old.Score).AddChecked(AmountFromMicros(s))
			overflow = !ok
			return n.Micros(), ss
		case b.Operator == OpDecr:
			n, ok := AmountFromMicros(old.Score).AddChecked(AmountFromMicros(-s))
			overflow = !ok
			return n.Micros(), ss
		case better(b.order, s, ss, old.Score, old.Sub):
			return s, ss
		}
		return old.Score, old.Sub
	}, &changes)
	if overflow {
		return LeaderboardChange{}, gamifytype.Invalid("Submit.Score", score, "would overflow the stored score")
	}
	if err != nil {
		return LeaderboardChange{}, err
	}
	if len(changes) == 0 { // unchanged (a worse best): report the standing
		rt := t.w.eng.boardRT(b.ref)
		start, _, _ := b.runAt(t.now)
		group := b.group(&u.p)
		c := LeaderboardChange{Key: key, Group: publicGroup(group)}
		rt.mu.RLock()
		if run, ok := rt.runs[start.UnixNano()]; ok {
			if x, ok := run.groups[group]; ok {
				c.Rank, _ = x.Rank(uint32(u.p.UID), b.ties)
			}
		}
		rt.mu.RUnlock()
		c.PreviousRank = c.Rank
		return c, nil
	}
	return changes[0], nil
})

// RankHistory returns a user's daily ranks on a board over the last days
// (1–100; 0 means 30) that had a change of the user's entry, oldest first.
func (a LeaderboardsAPI) RankHistory(ctx context.Context, key, user string, days int) ([]DailyRank, error) {
	days = cmp.Or(days, 30)
	if days < 1 || days > maxRankDays {
		return nil, gamifytype.Invalid("Days", days, "must be between 1 and 100 (0 for 30)")
	}
	b, ok := a.e.cat.Load().boards[key]
	if !ok {
		return nil, fmt.Errorf("leaderboard %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	p, s, err := a.e.readUser(user, true)
	if err != nil {
		return nil, err
	}
	from := localDay(a.e.now(), a.e.location(p)) - int32(days) + 1
	var out []DailyRank
	for _, r := range s.Ranks {
		if r.Ref == b.ref && r.Day >= from {
			y, m, d := dayDate(r.Day).Date()
			out = append(out, DailyRank{Date: Date{Year: y, Month: m, Day: d}, Rank: int(r.Last), Best: int(r.Best),
				Score: AmountFromMicros(r.Score), PreviousRank: int(r.PrevRank), PreviousScore: AmountFromMicros(r.PrevScore)})
		}
	}
	return out, nil
}

// Rankings returns a page of the standings of a run. While the board is
// being filled from history after its activation, the page says Filling
// and holds what is filled so far (a run that ended before the activation
// has no rows until the fill ends).
func (a LeaderboardsAPI) Rankings(ctx context.Context, key string, q BoardQuery) (BoardPage, error) {
	limit := q.Limit
	if limit == 0 {
		limit = 10
	}
	if limit < 1 || limit > maxBoardLimit {
		return BoardPage{}, gamifytype.Invalid("BoardQuery.Limit", q.Limit, "must be between 1 and 100")
	}
	if q.User == "" && q.Offset < 0 {
		return BoardPage{}, gamifytype.Invalid("BoardQuery.Offset", q.Offset, "must not be negative without User")
	}
	if err := checkTimes("BoardQuery.", namedTime{"At", q.At}); err != nil {
		return BoardPage{}, err
	}
	b, start, end, err := a.e.boardRun(key, q.At)
	if err != nil {
		return BoardPage{}, err
	}
	page := BoardPage{Board: key, Group: q.Group, RunStart: start, RunEnd: end}
	if q.Group, err = b.internalGroup("BoardQuery.Group", q.Group); err != nil {
		return BoardPage{}, err
	}
	var rows []leaderboard.Standing
	rt := a.e.boardRT(b.ref)
	rt.mu.RLock()
	finished := !end.IsZero() && end.UnixNano() <= rt.finishedTo
	page.Filling = rt.filling
	if !finished {
		if run, ok := rt.runs[start.UnixNano()]; ok {
			if x, ok := run.groups[q.Group]; ok {
				offset := q.Offset
				if q.User != "" {
					pos, err := a.e.position(x, q.User)
					if err != nil {
						rt.mu.RUnlock()
						return BoardPage{}, err
					}
					offset += pos
				}
				rows = x.Range(max(offset, 0), limit, b.ties, nil)
				page.Participants = x.Len()
				if b.MaxParticipants > 0 && x.Len() >= b.MaxParticipants {
					w, _ := x.Worst()
					page.Threshold = AmountFromMicros(w.Score)
				}
			}
		}
	}
	rt.mu.RUnlock()
	if finished {
		page.Finished = true
		return page, a.e.frozenPage(b, start, q, limit, &page)
	}
	page.Rows, err = a.e.rows(rows)
	return page, err
}

// Around returns the user's standing with up to above entries before it and
// below after it, in the user's breakdown group of the current run.
func (a LeaderboardsAPI) Around(ctx context.Context, key, user string, above, below int) (BoardPage, error) {
	if above < 0 || below < 0 || above >= maxBoardLimit || below >= maxBoardLimit || above+below+1 > maxBoardLimit {
		return BoardPage{}, gamifytype.Invalid("Around", [2]int{above, below}, "above and below must be non-negative and list at most 100 entries")
	}
	ur, err := a.UserRank(ctx, key, user)
	if err != nil {
		return BoardPage{}, err
	}
	offset := -min(above, ur.Position)
	return a.Rankings(ctx, key, BoardQuery{Group: ur.Group, User: user, Offset: offset, Limit: -offset + 1 + below})
}

// UserRank returns a user's standing in the current run; ErrNotFound when the
// user is not on the board.
func (a LeaderboardsAPI) UserRank(ctx context.Context, key, user string) (UserRank, error) {
	return a.UserRankAt(ctx, key, user, time.Time{})
}

// UserRankAt returns a user's standing in the run containing at (zero means
// now, or the last run of a board that has ended): live while the run is unfinished, from its frozen standings once it
// is finished. ErrNotFound when the board has no run at that time or the
// user is not on it.
func (a LeaderboardsAPI) UserRankAt(ctx context.Context, key, user string, at time.Time) (UserRank, error) {
	if err := checkTimes("", namedTime{"at", at}); err != nil {
		return UserRank{}, err
	}
	b, start, end, err := a.e.boardRun(key, at)
	if err != nil {
		return UserRank{}, err
	}
	p, s, err := a.e.readUser(user, true)
	if err != nil {
		return UserRank{}, err
	}
	rt := a.e.boardRT(b.ref)
	rt.mu.RLock()
	if !end.IsZero() && end.UnixNano() <= rt.finishedTo {
		rt.mu.RUnlock()
		return a.e.frozenRank(b, start, p)
	}
	defer rt.mu.RUnlock()
	group := b.group(p)
	if i, ok := s.board(b.ref, start.UnixNano()); ok {
		group = s.Boards[i].Group
	}
	run, ok := rt.runs[start.UnixNano()]
	if !ok {
		return UserRank{}, fmt.Errorf("user %q is not on leaderboard %s: %w", gamifytype.Quote(user), gamifytype.Quote(key), ErrNotFound)
	}
	x, ok := run.groups[group]
	uid := uint32(p.UID)
	var en leaderboard.Entry
	if ok {
		en, ok = x.Get(uid)
	}
	if !ok {
		return UserRank{}, fmt.Errorf("user %q is not on leaderboard %s: %w", gamifytype.Quote(user), gamifytype.Quote(key), ErrNotFound)
	}
	r := UserRank{Board: key, Group: publicGroup(group), Score: AmountFromMicros(en.Score), Subscore: AmountFromMicros(en.Sub), Participants: x.Len()}
	r.Rank, _ = x.Rank(uid, b.ties)
	r.Position, _ = x.Position(uid)
	r.Percentile, _ = x.Percentile(uid)
	return r, nil
}

// Ranks returns the standings of up to 100 users (friends), best first;
// users not on the board are left out. An unknown or archived board is
// ErrNotFound.
func (a LeaderboardsAPI) Ranks(ctx context.Context, key string, users []string) ([]BoardRow, error) {
	if err := checkUserList("Users", users); err != nil {
		return nil, err
	}
	if err := a.e.live(); err != nil {
		return nil, err
	}
	if !a.e.hasBoard(key) {
		return nil, fmt.Errorf("leaderboard %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	var out []BoardRow
	for _, u := range users {
		r, err := a.UserRank(ctx, key, u)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, BoardRow{Rank: r.Rank, User: u, Score: r.Score, Subscore: r.Subscore})
	}
	sortRows(out)
	return out, nil
}

// Runs returns the finished runs of a board, latest first, paged by opts
// (Limit 1–100, default 100; Skip).
func (a LeaderboardsAPI) Runs(ctx context.Context, key string, opts ListOptions) ([]BoardRun, error) {
	limit, err := opts.validate("ListOptions")
	if err != nil {
		return nil, err
	}
	skip := opts.Skip
	if err := a.e.live(); err != nil {
		return nil, err
	}
	b, ok := a.e.cat.Load().boards[key]
	if !ok {
		return nil, fmt.Errorf("leaderboard %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	var out []BoardRun
	err = a.e.db.View(func(tx *store.Tx) error {
		return tx.ScanReverse(store.Runs, binary.BigEndian.AppendUint32(nil, b.ref), func(k, v []byte) error {
			if len(k) != 13 || k[12] != 1 {
				return nil
			}
			if skip > 0 {
				skip--
				return nil
			}
			d := decoder{b: v}
			end, n := d.varint(), d.uvarint()
			out = append(out, BoardRun{Start: time.Unix(0, int64(binary.BigEndian.Uint64(k[4:12]))).In(b.loc),
				End: time.Unix(0, end).In(b.loc), Participants: int(n)})
			if len(out) >= limit {
				return store.ErrStop
			}
			return nil
		})
	})
	return out, err
}

// ScoreSubmission is a score the game submits to a score board.
type ScoreSubmission struct {
	Board    string // the score board's key
	User     string // the user's id; the user is created on first sight
	Score    Amount
	Subscore Amount // breaks ties (optional)
}

// DailyRank is a user's rank on one day.
type DailyRank struct {
	Date  Date
	Rank  int    // the rank after the user's last change that day
	Best  int    // the best rank the user's changes reached that day
	Score Amount // the user's score after their last change that day
	// PreviousRank and PreviousScore are the user's rank and score before
	// their first change that day; 0 when they were not ranked then (new
	// to the run, or kept out by MaxParticipants).
	PreviousRank  int
	PreviousScore Amount
}

// BoardRow is one user's standing.
type BoardRow struct {
	Rank     int
	User     string
	Score    Amount
	Subscore Amount
}

// BoardPage is a page of a run's standings.
type BoardPage struct {
	Board        string
	Group        string
	RunStart     time.Time
	RunEnd       time.Time // zero when open-ended
	Finished     bool      // the run is over; its standings are frozen
	Filling      bool      // the board is being filled from history: standings are partial (see Rankings)
	Participants int       // in the group
	// Threshold is the score to beat to enter a full board (MaxParticipants).
	Threshold Amount
	Rows      []BoardRow
}

// BoardQuery selects standings.
type BoardQuery struct {
	// At picks the run containing this instant; zero means now, or the
	// board's last run once it has ended (finished, or past its End).
	At time.Time
	// Group is the breakdown group of a board with a breakdown, Trophy's
	// way: "attr:value" for each breakdown attribute, comma-separated, in
	// any order ("country:DE,plan:pro"). A board without a breakdown takes
	// "". A malformed or unknown group is a ValidationError.
	Group string
	// Offset and Limit (1–100, default 10) page the standings. With User
	// set, Offset is relative to that user's position and may be negative.
	Offset, Limit int
	User          string
}

// UserRank is a user's standing in a run of a board.
type UserRank struct {
	Board        string
	Group        string
	Rank         int
	Position     int // 0-based listing position
	Score        Amount
	Subscore     Amount
	Percentile   float64 // share of participants ranked strictly below, in percent
	Participants int
}

// BoardRun is a finished run of a board.
type BoardRun struct {
	Start, End   time.Time
	Participants int
}

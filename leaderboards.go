package gamify

import (
	"cmp"
	"context"
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

// Leaderboard vocabulary, from the leaderboard and schedule packages.
type (
	// BoardOrder is a board's sort direction: Desc (default) or Asc.
	BoardOrder = leaderboard.Order
	// TiePolicy says how equal scores share ranks.
	TiePolicy = leaderboard.Ties
	// RunUnit is the unit of a board's run interval.
	RunUnit = schedule.Unit
)

// Orders, tie policies and run units.
const (
	Desc = leaderboard.Desc
	Asc  = leaderboard.Asc

	TiesCompetition = leaderboard.Competition // 1, 2, 2, 4 (default)
	TiesDense       = leaderboard.Dense       // 1, 2, 2, 3
	TiesUnique      = leaderboard.Unique      // 1, 2, 3, 4

	RunDay   = schedule.Day
	RunWeek  = schedule.Week
	RunMonth = schedule.Month
	RunYear  = schedule.Year
)

// RankBy says what a leaderboard ranks.
type RankBy string

// What boards rank.
const (
	// RankByMetric ranks the sum of a metric's event values inside each run.
	RankByMetric RankBy = "metric"
	// RankByStreak ranks the current length of a streak (no runs).
	RankByStreak RankBy = "streak"
	// RankByPoints ranks the points awarded inside each run.
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

// BoardStatus is where a board is in its lifecycle.
type BoardStatus string

// The lifecycle: inactive (editable) → scheduled (start in the future) →
// active → finished (after the end), or archived.
const (
	BoardInactive  BoardStatus = "inactive"
	BoardScheduled BoardStatus = "scheduled"
	BoardActive    BoardStatus = "active"
	BoardFinished  BoardStatus = "finished"
	BoardArchived  BoardStatus = "archived"
)

// DailyWindow restricts counting to a local time-of-day range "HH:mm"–"HH:mm"
// (in the user's time zone, else the board's). To before From wraps midnight.
type DailyWindow struct {
	From, To string
}

// Leaderboard defines a ranking of users, in runs.
type Leaderboard struct {
	Key         string
	Name        string
	Description string
	RankBy      RankBy
	Metric      string        // RankByMetric
	Streak      string        // RankByStreak
	System      string        // RankByPoints
	Operator    ScoreOperator // RankByScore; default best
	Order       BoardOrder
	Ties        TiePolicy
	TZ          string // IANA zone of the board's dates and runs; default Options.DefaultTimezone
	Start       Date   // first day; zero means the day it is created
	End         Date   // last day (inclusive); zero means no end
	// Runs repeat every RunEvery × RunUnit from Start, or at the times of
	// RunCron (in TZ); with neither, the board is one run from Start to End.
	RunEvery        int
	RunUnit         RunUnit `json:",omitempty"` // "day", "week", "month" or "year"
	RunCron         string
	Window          DailyWindow
	MaxParticipants int      // per breakdown group; 0 means unlimited
	Breakdown       []string // user attributes splitting the board into groups
	Status          BoardStatus
	Created         time.Time
	Updated         time.Time

	ref       uint32
	activated bool
	archived  bool
	loc       *time.Location
	runs      schedule.Schedule // nil for a single run
	winFrom   int               // minutes after local midnight; -1 for no window
	winTo     int
}

type storedBoard struct {
	Leaderboard
	Ref       uint32 `json:"ref"`
	Activated bool   `json:"activated"`
	Archived  bool   `json:"archived"`
}

// maxBreakdown bounds the attributes of a breakdown.
const maxBreakdown = 5

// prepare validates b and fills its derived fields; cat checks references.
func (b *Leaderboard) prepare(cat *catalog, defaultTZ *time.Location, today func(*time.Location) Date) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(gamifytype.ValidateKey("Leaderboard.Key", b.Key))
	add(validateName("Leaderboard", b.Name))
	switch b.RankBy {
	case RankByMetric:
		if m, ok := cat.metrics[b.Metric]; !ok || m.Status != StatusActive {
			add(gamifytype.Invalid("Leaderboard.Metric", b.Metric, "is not an active metric"))
		}
	case RankByStreak:
		if s, ok := cat.streaks[b.Streak]; !ok || s.Status != StatusActive {
			add(gamifytype.Invalid("Leaderboard.Streak", b.Streak, "is not an active streak"))
		}
		if b.RunEvery != 0 || b.RunCron != "" {
			add(gamifytype.Invalid("Leaderboard.RunEvery", b.RunEvery, "streak boards cannot repeat"))
		}
	case RankByPoints:
		if ps, ok := cat.points.systems[b.System]; !ok || ps.Status != StatusActive {
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
	if b.Order != Desc && b.Order != Asc {
		add(gamifytype.Invalid("Leaderboard.Order", b.Order, "must be desc or asc"))
	}
	if b.Ties > TiesUnique {
		add(gamifytype.Invalid("Leaderboard.Ties", b.Ties, "must be competition, dense or unique"))
	}
	b.loc = defaultTZ
	if b.TZ != "" {
		l, err := loadLocation(b.TZ)
		if err != nil || b.TZ == "Local" {
			add(gamifytype.Invalid("Leaderboard.TZ", b.TZ, "is not an IANA time zone"))
		} else {
			b.loc = l
		}
	}
	if b.Start == (Date{}) {
		b.Start = today(b.loc)
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
		e := schedule.Every{N: b.RunEvery, Unit: b.RunUnit, Anchor: b.startTime(), Loc: b.loc}
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
	if len(b.Breakdown) > maxBreakdown {
		add(gamifytype.Invalid("Leaderboard.Breakdown", len(b.Breakdown), "must list at most 5 attributes"))
	}
	for i, k := range b.Breakdown {
		if a, ok := cat.attrs[k]; !ok || a.Status != StatusActive || a.Type != UserAttribute {
			add(gamifytype.Invalid(fmt.Sprintf("Leaderboard.Breakdown[%d]", i), k, "is not a user attribute"))
		}
	}
	return errors.Join(errs...)
}

func validDate(d Date) bool {
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return d.Year >= 1900 && d.Year <= 9999 && t.Day() == d.Day && t.Month() == d.Month
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

// endTime is the instant after the board's last day, or zero for no end.
func (b *Leaderboard) endTime() time.Time {
	if b.End == (Date{}) {
		return time.Time{}
	}
	return time.Date(b.End.Year, b.End.Month, b.End.Day+1, 0, 0, 0, 0, b.loc)
}

// status is the board's lifecycle state at now.
func (b *Leaderboard) status(now time.Time) BoardStatus {
	switch {
	case b.archived:
		return BoardArchived
	case !b.activated:
		return BoardInactive
	case now.Before(b.startTime()):
		return BoardScheduled
	case !b.endTime().IsZero() && !now.Before(b.endTime()):
		return BoardFinished
	}
	return BoardActive
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
// attributes, empty for boards without breakdown.
func (b *Leaderboard) group(p *profile) string {
	if len(b.Breakdown) == 0 {
		return ""
	}
	var sb strings.Builder
	for i, k := range b.Breakdown {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(p.Attributes[k])
	}
	return sb.String()
}

const defBoard = "leaderboard/"

func (t *txn) putBoard(b *Leaderboard) {
	cat := t.catalogForWrite()
	cat.boards[b.Key], cat.boardByRef[b.ref] = b, b
	cat.indexBoards()
	v, err := json.Marshal(storedBoard{Leaderboard: *b, Ref: b.ref, Activated: b.activated, Archived: b.archived})
	if err != nil {
		panic(err) // a validated definition always encodes
	}
	t.writes = append(t.writes, write{store.Definitions, []byte(defBoard + b.Key), v})
}

// indexBoards recomputes which live boards rank each metric and streak.
func (c *catalog) indexBoards() {
	c.metricBoards = map[string][]*Leaderboard{}
	c.streakBoards = map[string][]*Leaderboard{}
	c.pointsBoards = map[string][]*Leaderboard{}
	for ref := uint32(1); ref <= c.lastBoardRef; ref++ {
		b, ok := c.boardByRef[ref]
		if !ok || !b.activated || b.archived {
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

func loadBoard(c *catalog, key string, v []byte, defaultTZ *time.Location) error {
	var sb storedBoard
	if err := json.Unmarshal(v, &sb); err != nil {
		return fmt.Errorf("gamify: corrupt definition %s: %w", key, err)
	}
	b := sb.Leaderboard
	b.ref, b.activated, b.archived = sb.Ref, sb.Activated, sb.Archived
	// References may have been archived since; the board keeps its own.
	b.loc = defaultTZ
	if b.TZ != "" {
		if l, err := loadLocation(b.TZ); err == nil {
			b.loc = l
		}
	}
	switch {
	case b.RunEvery != 0:
		b.runs = schedule.Every{N: b.RunEvery, Unit: b.RunUnit, Anchor: b.startTime(), Loc: b.loc}
	case b.RunCron != "":
		r, err := schedule.ParseCron(b.RunCron, b.loc)
		if err != nil {
			return fmt.Errorf("gamify: invalid stored definition %s: %w", key, err)
		}
		b.runs = r
	}
	b.winFrom, b.winTo = -1, -1
	if b.Window != (DailyWindow{}) {
		b.winFrom, _ = parseHHMM(b.Window.From)
		b.winTo, _ = parseHHMM(b.Window.To)
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

func (e *Engine) today(loc *time.Location) Date {
	y, m, d := e.now().In(loc).Date()
	return Date{Year: y, Month: m, Day: d}
}

// Create defines a board. It starts inactive (editable); Activate starts it.
func (a LeaderboardsAPI) Create(ctx context.Context, b Leaderboard) (Leaderboard, error) {
	if err := a.e.live(); err != nil {
		return Leaderboard{}, err
	}
	b.Breakdown = slices.Clone(b.Breakdown)
	if err := b.prepare(a.e.cat.Load(), a.e.opts.DefaultTimezone, a.e.today); err != nil {
		return Leaderboard{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		cat := t.catalogForWrite()
		if _, ok := cat.boards[b.Key]; ok {
			return nil, fmt.Errorf("%w: leaderboard %s exists", ErrConflict, b.Key)
		}
		if err := b.prepare(cat, t.w.opts.DefaultTimezone, a.e.today); err != nil {
			return nil, err
		}
		b.Created, b.Updated = stamp(t.now), stamp(t.now)
		cat.lastBoardRef++
		b.ref = cat.lastBoardRef
		t.putBoard(&b)
		b.Status = b.status(t.now)
		return b, nil
	})
	if err != nil {
		return Leaderboard{}, fmt.Errorf("create leaderboard %s: %w", b.Key, err)
	}
	return v.(Leaderboard), nil
}

// Update replaces an inactive board's definition. Once activated, only the
// name, description, window, end and max participants may change; RankBy
// and what it names change only while inactive.
func (a LeaderboardsAPI) Update(ctx context.Context, b Leaderboard) (Leaderboard, error) {
	if err := a.e.live(); err != nil {
		return Leaderboard{}, err
	}
	b.Breakdown = slices.Clone(b.Breakdown)
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		cat := t.catalogForWrite()
		old, ok := cat.boards[b.Key]
		if !ok || old.archived {
			return nil, ErrNotFound
		}
		if old.activated {
			if b.RankBy != old.RankBy || b.Metric != old.Metric || b.Streak != old.Streak || b.System != old.System ||
				b.Operator != old.Operator || b.Order != old.Order || b.Ties != old.Ties || b.TZ != old.TZ ||
				b.Start != old.Start || b.RunEvery != old.RunEvery || b.RunUnit != old.RunUnit || b.RunCron != old.RunCron ||
				!slices.Equal(b.Breakdown, old.Breakdown) {
				return nil, gamifytype.Invalid("Leaderboard", b.Key, "only Name, Description, Window, End and MaxParticipants change once activated")
			}
		}
		if err := b.prepare(cat, t.w.opts.DefaultTimezone, a.e.today); err != nil {
			return nil, err
		}
		b.ref, b.activated, b.Created, b.Updated = old.ref, old.activated, old.Created, stamp(t.now)
		t.putBoard(&b)
		if b.activated {
			t.registerBoard(&b)
		}
		b.Status = b.status(t.now)
		return b, nil
	})
	if err != nil {
		return Leaderboard{}, fmt.Errorf("update leaderboard %s: %w", b.Key, err)
	}
	return v.(Leaderboard), nil
}

// Activate starts an inactive board: it becomes scheduled or active by the
// clock, and its runs are rolled over by the scheduler.
func (a LeaderboardsAPI) Activate(ctx context.Context, key string) (Leaderboard, error) {
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		old, ok := t.catalogForWrite().boards[key]
		if !ok || old.archived {
			return nil, ErrNotFound
		}
		if old.activated {
			return nil, fmt.Errorf("%w: already activated", ErrConflict)
		}
		b := *old
		b.activated, b.Updated = true, stamp(t.now)
		t.putBoard(&b)
		t.registerBoard(&b)
		if !t.now.Before(b.startTime()) && b.status(t.now) == BoardActive {
			start, end, _ := b.runAt(t.now)
			t.notes = append(t.notes, LeaderboardStarted{Board: b.Key, RunStart: start, RunEnd: end})
		}
		b.Status = b.status(t.now)
		return b, nil
	})
	if err != nil {
		return Leaderboard{}, fmt.Errorf("activate leaderboard %s: %w", key, err)
	}
	return v.(Leaderboard), nil
}

// Delete archives a board: hidden from lists, no more tracking, history kept.
func (a LeaderboardsAPI) Delete(ctx context.Context, key string) error {
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		old, ok := t.catalogForWrite().boards[key]
		if !ok || old.archived {
			return nil, ErrNotFound
		}
		b := *old
		b.archived, b.Updated = true, stamp(t.now)
		t.putBoard(&b)
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("delete leaderboard %s: %w", key, err)
	}
	return nil
}

// Get returns a board with its status at the clock's time, or ErrNotFound.
func (a LeaderboardsAPI) Get(ctx context.Context, key string) (Leaderboard, error) {
	if err := a.e.live(); err != nil {
		return Leaderboard{}, err
	}
	b, ok := a.e.cat.Load().boards[key]
	if !ok {
		return Leaderboard{}, fmt.Errorf("leaderboard %s: %w", key, ErrNotFound)
	}
	out := *b
	out.Status = b.status(a.e.now())
	return out, nil
}

// BoardListOptions page a list of boards.
type BoardListOptions struct {
	ListOptions
	// IncludeFinished lists finished boards too.
	IncludeFinished bool
}

// List returns boards in creation order; finished (and archived) ones only
// when asked.
func (a LeaderboardsAPI) List(ctx context.Context, opts BoardListOptions) ([]Leaderboard, error) {
	limit, err := opts.validate("ListOptions")
	if err != nil {
		return nil, err
	}
	if err := a.e.live(); err != nil {
		return nil, err
	}
	now := a.e.now()
	var all []Leaderboard
	for _, b := range a.e.cat.Load().boards {
		st := b.status(now)
		if (st == BoardFinished && !opts.IncludeFinished) || (st == BoardArchived && !opts.IncludeArchived) {
			continue
		}
		out := *b
		out.Status = st
		all = append(all, out)
	}
	slices.SortFunc(all, func(x, y Leaderboard) int { return cmp.Compare(x.ref, y.ref) })
	return page(all, opts.Skip, limit), nil
}

// LeaderboardStarted is sent when a board's run starts.
type LeaderboardStarted struct {
	Board            string
	RunStart, RunEnd time.Time // RunEnd zero when open-ended
}

// UserID implements Notification; board notifications concern no user.
func (LeaderboardStarted) UserID() string { return "" }

// LeaderboardFinished is sent when a run ends; its standings are frozen.
type LeaderboardFinished struct {
	Board            string
	RunStart, RunEnd time.Time
	Participants     int
}

// UserID implements Notification; board notifications concern no user.
func (LeaderboardFinished) UserID() string { return "" }

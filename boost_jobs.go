package gamify

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/gamifykit/gamify/store"
)

// BoostStarted is sent when an active boost's window opens: at its Start
// (per-user boosts) or at midnight of its From date in
// Options.DefaultTimezone (global and cohort boosts).
type BoostStarted struct {
	Boost  string
	System string
	Scope  BoostScope
	User   string    `json:",omitempty"` // per-user boosts: the user; else ""
	At     time.Time // the start of the window
}

// UserID implements Notification: the boost's user, "" for global and
// cohort boosts.
func (n BoostStarted) UserID() string { return n.User }

// BoostFinished is sent when an active boost's window closes: at its End
// (per-user boosts) or at the midnight after its To date in
// Options.DefaultTimezone. Open-ended boosts never finish.
type BoostFinished struct {
	Boost  string
	System string
	Scope  BoostScope
	User   string    `json:",omitempty"`
	At     time.Time // the end of the window
}

// UserID implements Notification.
func (n BoostFinished) UserID() string { return n.User }

const boostJobID = "builtin/boost-windows"

// boostWindow returns the instants b's window opens and closes (a zero end:
// open-ended). Date windows are read in loc, as Boost.Status reads them.
func boostWindow(b *Boost, loc *time.Location) (start, end time.Time) {
	if b.Scope == BoostUser {
		return b.Start, b.End
	}
	start = time.Date(b.From.Year, b.From.Month, b.From.Day, 0, 0, 0, 0, loc)
	if b.To != (Date{}) {
		end = time.Date(b.To.Year, b.To.Month, b.To.Day+1, 0, 0, 0, 0, loc)
	}
	return start, end
}

// boostSchedule fires at every boost boundary: the start and end of each
// active boost, and the end of each per-user boost not yet retired. It reads
// the latest catalogue a boost change committed (boostsChanged), so one job
// serves every boost, created before or after it.
type boostSchedule struct {
	e   *Engine
	cat atomic.Pointer[catalog]
	loc *time.Location
}

func (s *boostSchedule) Next(after time.Time) time.Time {
	cat := s.cat.Load()
	if cat == nil {
		cat = s.e.cat.Load()
	}
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && t.After(after) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, b := range cat.points.boosts {
		start, end := boostWindow(b, s.loc)
		if b.Status == StatusActive {
			consider(start)
			consider(end)
		} else if b.Scope == BoostUser && !b.retired && b.Status != StatusArchived {
			consider(end)
		}
	}
	return next
}

// boostJob returns the engine's one boost-window job.
func (e *Engine) boostJob() *job {
	s := e.sched
	s.mu.Lock()
	defer s.mu.Unlock()
	if j, ok := s.defs[boostJobID]; ok {
		return j
	}
	j := &job{id: boostJobID, sched: &boostSchedule{e: e, loc: e.opts.DefaultTimezone}, run: runBoostWindows}
	s.defs[boostJobID] = j
	return j
}

// runBoostWindows is the occurrence at due: BoostStarted and BoostFinished
// for the active boosts whose window opens or closes exactly then (each
// boundary is one occurrence, so each note is sent once), and per-user
// boosts ended by then leave the hot rules (retired, kept in the catalogue).
func runBoostWindows(t *txn, due time.Time) error {
	loc := t.w.opts.DefaultTimezone
	var retire []*Boost
	for _, b := range sortedValues(t.w.cat.points.boosts) {
		start, end := boostWindow(b, loc)
		live := b.Status == StatusActive && t.w.cat.points.rules[b.System] != nil // an inactive system's boosts multiply nothing
		if live && (start.Equal(due) || end.Equal(due)) {
			wanted, err := t.boostNoteWanted(b)
			if err != nil {
				return err
			}
			if wanted && start.Equal(due) {
				t.notes = append(t.notes, BoostStarted{Boost: b.Key, System: b.System, Scope: b.Scope, User: b.User, At: due})
			}
			if wanted && end.Equal(due) {
				t.notes = append(t.notes, BoostFinished{Boost: b.Key, System: b.System, Scope: b.Scope, User: b.User, At: due})
			}
		}
		if b.Scope == BoostUser && !b.retired && b.Status != StatusArchived && !end.IsZero() && !end.After(due) {
			retire = append(retire, b)
		}
	}
	if len(retire) == 0 {
		return nil
	}
	// Stored one by one, indexed once: many claim boosts may end together.
	p := &t.catalogForWrite().points
	for _, b := range retire {
		r := cloneBoost(*b)
		r.retired = true
		p.boosts[r.Key] = &r
		t.putJSON(store.Definitions, []byte(defBoost+r.Key), r.stored())
	}
	p.index()
	t.boostsChanged()
	return nil
}

// boostNoteWanted reports whether b's notes go out: not to a user in the
// control group (they are outbound), nor about a user not seen yet (the
// outbox holds only notes about known users).
func (t *txn) boostNoteWanted(b *Boost) (bool, error) {
	if b.User == "" {
		return true, nil
	}
	u, ok := t.users[b.User]
	if !ok {
		var err error
		if u, err = t.w.loadUser(b.User); err != nil {
			return false, err
		}
	}
	return u != nil && !u.p.Control, nil
}

// boostsChanged, at a command that changed a boost, registers the job with
// the first boost (its first occurrence is after now) and queues its next
// occurrence anew from the command's catalogue once the command commits.
// A failure to register fails the command.
func (t *txn) boostsChanged() {
	e, cat := t.w.eng, t.catalogForWrite()
	e.sched.mu.Lock()
	_, known := e.sched.jobs[boostJobID]
	e.sched.mu.Unlock()
	if !known {
		if err := t.registerJob(e.boostJob()); err != nil {
			t.encodeErr = errors.Join(t.encodeErr, err)
			return
		}
	}
	t.publish = append(t.publish, func() { e.rescheduleBoosts(cat) })
}

func (e *Engine) rescheduleBoosts(cat *catalog) {
	s := e.sched
	s.mu.Lock()
	j, ok := s.jobs[boostJobID]
	s.mu.Unlock()
	if !ok {
		return // registered later, from the store's catalogue
	}
	j.sched.(*boostSchedule).cat.Store(cat)
	last, ok, err := e.w.jobLast(boostJobID)
	if err != nil || !ok {
		return
	}
	s.add(j, last)
}

package gamify

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/schedule"
	"github.com/gamifykit/gamify/store"
)

// Time triggers pay every N hours or days from each user's creation. Users
// wait in a due-queue (system/user → next fire), rebuilt at Open and when a
// time trigger is set by a scan of every user (outside the writer), and kept
// current as users' points change. Exactly-once comes from the points State
// (OnTime pays the fires since the last call), so a stale entry only costs
// a look.

func timeDueID(ref uint32, user string) string {
	return strconv.FormatUint(uint64(ref), 10) + "/" + user
}

// timeDue is when the user's next time-trigger fire in the system is due.
func (c *catalog) timeDue(sysKey string, st points.State, created time.Time, loc *time.Location) time.Time {
	r := c.points.rules[sysKey]
	if r == nil {
		return time.Time{}
	}
	var due time.Time
	for _, tr := range r.Triggers {
		if tr.Kind != points.KindTime {
			continue
		}
		if d := points.NextTimeDue(tr, st, created, loc); !d.IsZero() && (due.IsZero() || d.Before(due)) {
			due = d
		}
	}
	return due
}

func (c *catalog) hasTimeTriggers() bool { return c.points.hasTime }

// queueTime re-queues a working user for a system's time triggers.
func (t *txn) queueTime(u *userRec, sys *PointsSystem, st points.State) {
	if !t.w.cat.hasTimeTriggers() {
		return
	}
	due := t.w.cat.timeDue(sys.Key, st, u.p.Created, t.w.userLocation(&u.p))
	t.timeDue = append(t.timeDue, streakDueItem{id: timeDueID(sys.ref, u.p.ID), due: due})
}

// queueNewUserTime queues a new user's first time-trigger fire in every
// active system: a fire is queued when points change, and a new user's
// may not have (rebuildTimeQueue, at Open, would be the first to see them).
func (t *txn) queueNewUserTime(u *userRec) {
	if !t.w.cat.hasTimeTriggers() {
		return
	}
	for _, key := range t.w.cat.points.order {
		sys := t.w.cat.points.systems[key]
		if _, ok := u.s.pointsOf(sys.ref); ok {
			continue // queued by the change that gave them a state there
		}
		t.queueTime(u, sys, points.State{})
	}
}

// rebuildTimeQueue scans every user and queues their next time-trigger
// fire. It reads committed state outside the writer; entries only move
// earlier, so a concurrent change queued by the writer is never overwritten.
func (e *Engine) rebuildTimeQueue() error {
	cat := e.cat.Load()
	if !cat.hasTimeTriggers() {
		return nil
	}
	var items []streakDueItem
	err := e.db.View(func(tx *store.Tx) error {
		return scanUsers(tx, func(p *profile, s *userState) error {
			for key, sys := range cat.points.systems {
				var st points.State
				if i, ok := s.pointsOf(sys.ref); ok {
					st = s.Points[i].St
				}
				if due := cat.timeDue(key, st, p.Created, e.location(p)); !due.IsZero() {
					items = append(items, streakDueItem{timeDueID(sys.ref, p.ID), due})
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	e.queueEarlier(&e.w.timeQueue, items)
	return nil
}

// queueEarlier queues the items a rebuild found in a per-user due-queue,
// keeping an entry the writer queued meanwhile when it is earlier.
func (e *Engine) queueEarlier(q *schedule.Queue, items []streakDueItem) {
	w := e.w
	w.mu.Lock()
	for _, it := range items {
		if cur, ok := q.Due(it.id); !ok || it.due.Before(cur) {
			q.Push(it.id, it.due)
		}
	}
	w.mu.Unlock()
	e.sched.poke()
}

// payDueTime pays the time triggers that fell due, in chunks.
func (e *Engine) payDueTime(ctx context.Context, now time.Time) (int, error) {
	return e.drainQueue(ctx, now, &e.w.timeQueue, payTimeOp)
}

var payTimeOp = newOp("points.pay_time", func(t *txn, a dueArgs) (any, error) {
	t.codeSeed = a.Seed // drawn for every due-queue chunk; time triggers generate no codes today
	return nil, t.payTime(a.IDs)
})

func (t *txn) payTime(ids []string) error {
	for _, id := range ids {
		r, user, ok := strings.Cut(id, "/")
		ref, err := strconv.ParseUint(r, 10, 32)
		if !ok || err != nil {
			continue
		}
		sys, ok := t.w.cat.points.systemByRef[uint32(ref)]
		if !ok || t.w.cat.points.rules[sys.Key] == nil {
			continue
		}
		u, err := t.user(user, false)
		if err != nil {
			return err
		}
		if u == nil {
			continue
		}
		created := u.p.Created
		if err := t.applyPoints(u, func(r points.Rules, s points.State) (points.State, points.Effects, error) {
			if r.System.Key != sys.Key {
				return s, points.Effects{}, nil
			}
			return points.OnTime(r, s, t.pointsUser(u), created, t.now)
		}); err != nil {
			t.w.log.Error("gamify: time trigger", "user", user, "system", sys.Key, "err", err)
		}
		var st points.State
		if i, ok := u.s.pointsOf(sys.ref); ok {
			st = u.s.Points[i].St
		}
		t.queueTime(u, sys, st)
	}
	return nil
}

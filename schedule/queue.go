package schedule

import (
	"time"

	"github.com/google/btree"
)

// Item is a job in a Queue: its id and when it is due.
type Item struct {
	ID  string
	Due time.Time
}

func itemLess(a, b Item) bool {
	if c := a.Due.Compare(b.Due); c != 0 {
		return c < 0
	}
	return a.ID < b.ID
}

// Queue holds at most one due time per job id, ordered by (due time, id), so
// the runner can sleep until the earliest job and pop everything that fell
// due. Equal due times come out in id order, which keeps runs deterministic.
// The zero Queue is empty and ready to use. A Queue is not safe for
// concurrent use: the engine's runner guards it.
type Queue struct {
	tree *btree.BTreeG[Item]
	due  map[string]time.Time // id → the Due of its entry in tree
}

func (q *Queue) init() {
	if q.tree == nil {
		q.tree = btree.NewG(32, itemLess)
		q.due = make(map[string]time.Time)
	}
}

// Push sets the due time of job id, replacing any earlier entry for it. A
// zero due (a Schedule that never fires again) removes the job.
func (q *Queue) Push(id string, due time.Time) {
	q.init()
	q.Remove(id)
	if due.IsZero() {
		return
	}
	// Order must not depend on monotonic clock readings (Compare uses them
	// when both times carry one), only on the instant.
	due = due.Round(0)
	q.tree.ReplaceOrInsert(Item{ID: id, Due: due})
	q.due[id] = due
}

// Remove deletes job id and reports whether it was queued.
func (q *Queue) Remove(id string) bool {
	due, ok := q.due[id]
	if !ok {
		return false
	}
	q.tree.Delete(Item{ID: id, Due: due})
	delete(q.due, id)
	return true
}

// Due returns when job id is due, and whether it is queued.
func (q *Queue) Due(id string) (time.Time, bool) {
	due, ok := q.due[id]
	return due, ok
}

// Peek returns the earliest job without removing it; ok is false if the
// queue is empty.
func (q *Queue) Peek() (id string, due time.Time, ok bool) {
	if q.tree == nil {
		return "", time.Time{}, false
	}
	it, ok := q.tree.Min()
	return it.ID, it.Due, ok
}

// PopDue removes and returns, in (due, id) order, every job due at or before
// now. It returns nil if none is due.
func (q *Queue) PopDue(now time.Time) []Item {
	if q.tree == nil {
		return nil
	}
	var out []Item
	for {
		it, ok := q.tree.Min()
		if !ok || it.Due.After(now) {
			return out
		}
		q.tree.DeleteMin()
		delete(q.due, it.ID)
		out = append(out, it)
	}
}

// Len returns the number of queued jobs.
func (q *Queue) Len() int { return len(q.due) }

// AscendAfter calls fn for each job queued after the position (due, id), in
// (due, id) order, until fn returns false. A zero due with an empty id
// starts at the earliest job.
func (q *Queue) AscendAfter(due time.Time, id string, fn func(Item) bool) {
	if q.tree == nil {
		return
	}
	pivot := Item{ID: id, Due: due.Round(0)}
	q.tree.AscendGreaterOrEqual(pivot, func(it Item) bool {
		if !itemLess(pivot, it) {
			return true // the position itself
		}
		return fn(it)
	})
}

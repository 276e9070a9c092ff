package streak

import (
	"sync"
	"time"
)

// outcome is how a period was settled.
type outcome uint8

const (
	oPending  outcome = iota // not settled yet
	oMet                     // met by its own activities
	oGraceMet                // met with its grace-window activities while the streak was alive
	oFrozen                  // ended unmet, a freeze was consumed
	oLost                    // ended unmet, the streak was lost
	oPaused                  // ended unmet inside a pause
	oSkipped                 // zero-length period (a day a zone skipped)
	oForgiven                // inside a restore's gap
	oIdle                    // ended unmet with no streak to keep
)

// The settling of periods and the auto-earns during a run are reported to
// n, a notifier, and r, a recorder, either of which may be nil; c is the
// cursor right after the change. Two parameters rather than an interface
// (or one struct of both) so that calls are static and escape analysis
// keeps a notifier, its definition and its effects on the caller's stack.
func settled(n *notifier, r *recorder, from, to int64, o outcome, c *cursor, lost int64) {
	if n != nil {
		n.settled(from, to, o, c, lost)
	}
	if r != nil {
		r.settled(from, to, o, c, lost)
	}
}

// run settles periods up to min(limit, the period containing now) in order,
// interleaving in time order the closing of unmet periods (at end + grace)
// with auto-earns and admin grants, then credits earns and grants up to until.
// It is the only place where the rules of loss, freezes, pauses and grace are
// applied, so the incremental path (the stored cursor) and a replay from the
// base cursor cannot disagree.
func (s *State) run(d *Definition, c *cursor, now time.Time, loc *time.Location, limit int64, until time.Time, n *notifier, r *recorder) {
	curP := d.periodAt(now, loc)
	limit = min(limit, curP)
	grace := time.Duration(d.GraceHours) * time.Hour
	for c.p < limit {
		q := c.p + 1
		if r, ok := s.restoreAt(q); ok && c.length < r.length {
			c.length, c.started = r.length, r.started
			c.longest = max(c.longest, c.length)
		}
		if s.isMet(q) || (c.length > 0 && s.graceMet(d, q)) {
			o := oMet
			if !s.isMet(q) {
				o = oGraceMet
			}
			if c.length == 0 {
				c.started = q
			}
			c.length++
			c.longest = max(c.longest, c.length)
			c.p = q
			settled(n, r, q, q, o, c, 0)
			continue
		}
		if s.forgiven(q) {
			c.p = q
			settled(n, r, q, q, oForgiven, c, 0)
			continue
		}
		if c.length == 0 {
			// Nothing to keep: jump to the next period that can matter.
			t := min(s.nextMet(q), s.nextRestore(q), limit+1, curP) - 1
			if t >= q {
				c.p = t
				settled(n, r, q, t, oIdle, c, 0)
				continue
			}
		}
		if q >= curP {
			break // the current period is still open
		}
		end := d.end(q, loc)
		closeAt := end.Add(grace)
		s.creditTimed(d, c, min(closeAt.UnixNano(), now.UnixNano()), n, r)
		if closeAt.After(now) {
			break // in its grace window
		}
		var o outcome
		var lost int64
		switch {
		case s.paused(d, q, loc):
			o = oPaused
		case d.start(q, loc).Equal(end):
			o = oSkipped
		case c.length == 0:
			o = oIdle
		case c.freezes > 0:
			c.freezes--
			o = oFrozen
		default:
			lost, c.length, c.started = c.length, 0, 0
			o = oLost
		}
		c.p = q
		c.at = max(c.at, closeAt.UnixNano())
		settled(n, r, q, q, o, c, lost)
	}
	s.creditTimed(d, c, until.UnixNano(), n, r)
}

// creditTimed credits, in time order, the auto-earns and admin grants at or
// before until (an earn before the grants at the same instant).
func (s *State) creditTimed(d *Definition, c *cursor, until int64, n *notifier, r *recorder) {
	fz := d.Freezes
	every := fz.earnEvery()
	until = min(until, maxInstant)
	for {
		nextEarn := s.earnAt(c.earned+1, every)
		gi := s.nextGrant(c.at)
		nextGrant := maxPeriod
		if gi >= 0 {
			nextGrant = s.grants[gi]
		}
		switch {
		case nextEarn <= until && nextEarn <= nextGrant:
			if c.freezes >= int64(fz.Max) {
				// At the max earns add nothing: skip to the last one before
				// the next grant (or until) instead of stepping through them.
				c.earned = max(c.earned+1, (min(until, nextGrant)-s.anchor)/every)
				c.at = max(c.at, s.earnAt(c.earned, every))
				continue
			}
			c.earned++
			amt := min(int64(fz.EarnAmount), int64(fz.Max)-c.freezes)
			c.freezes += amt
			if n != nil {
				n.earned(c.earned, amt, c)
			}
			if r != nil {
				r.earned(c.earned, amt, c)
			}
			c.at = max(c.at, nextEarn)
		case nextGrant <= until:
			// Every grant at that instant: grants given at one instant (a
			// bundle of several freezes, two calls at one clock reading)
			// share it, and c.at past it marks them all credited.
			for gi < len(s.grants) && s.grants[gi] == nextGrant {
				c.freezes++
				gi++
			}
			c.at = nextGrant
		default:
			c.at = max(c.at, until)
			return
		}
	}
}

// maxInstant bounds instants (unix ns) so that sums of two cannot overflow.
const maxInstant = int64(1) << 62

// earnAt is the instant of the k-th auto-earn, or maxPeriod when there is
// none (no earning, or past the representable range).
func (s *State) earnAt(k, every int64) int64 {
	if s.provisional || every <= 0 || k >= (int64(1)<<61)/every {
		return maxPeriod
	}
	return s.anchor + k*every
}

// nextGrant returns the index of the first grant after at, or -1.
func (s *State) nextGrant(at int64) int {
	for i, g := range s.grants {
		if g > at {
			return i
		}
	}
	return -1
}

// projection is the status-relevant view of the periods after the cursor:
// pending periods in their grace window count as neither met nor missed.
type projection struct {
	length, started int64
	pending         int64 // first unmet period before the current one still in its grace window, or -1
	curMet          bool
}

func (s *State) project(d *Definition, c cursor, curP int64, loc *time.Location) projection {
	pr := projection{length: c.length, started: c.started, pending: -1}
	for q := c.p + 1; q <= curP; q++ {
		if r, ok := s.restoreAt(q); ok && pr.length < r.length {
			pr.length, pr.started = r.length, r.started
		}
		if s.isMet(q) || (pr.length > 0 && s.graceMet(d, q)) {
			if pr.length == 0 {
				pr.started = q
			}
			pr.length++
			continue
		}
		if q < curP && pr.length > 0 && pr.pending < 0 && !s.forgiven(q) && !s.paused(d, q, loc) {
			pr.pending = q
		}
	}
	pr.curMet = s.isMet(curP)
	return pr
}

// recorder keeps the outcome and length of every period
// (for History, Restore and the effects of a replay) and the earns.
type recorder struct {
	base    int64
	out     []outcome
	length  []int64
	started []int64
	lost    []int64
	freezes []int64
	earns   []earnRec
	buf     []int64 // backs length, started, lost and freezes
}

type earnRec struct {
	k, amount, freezes int64
}

// recorders keeps released recorders: a history is recomputed by many
// calls (a late event, the year-in-review of a transition), and its arrays
// were the largest allocation of an event.
var recorders = sync.Pool{New: func() any { return new(recorder) }}

// newRecorder returns a zeroed recorder of the periods base..last; release
// hands it back once nothing refers to it.
func newRecorder(base, last int64) *recorder {
	n := int(max(last-base+1, 0))
	r := recorders.Get().(*recorder)
	r.base = base
	if cap(r.out) < n {
		r.out, r.buf = make([]outcome, n), make([]int64, 4*n)
	}
	r.out = r.out[:n]
	b := r.buf[:4*n]
	clear(r.out)
	clear(b)
	r.length, r.started, r.lost, r.freezes = b[:n:n], b[n:2*n:2*n], b[2*n:3*n:3*n], b[3*n:4*n:4*n]
	r.earns = r.earns[:0]
	return r
}

// release returns r to the pool; r must not be used after it.
func (r *recorder) release() {
	if r == nil {
		return
	}
	recorders.Put(r)
}

func (r *recorder) settled(from, to int64, o outcome, c *cursor, lost int64) {
	for p := max(from, r.base); p <= to; p++ {
		i := p - r.base
		if i >= int64(len(r.out)) {
			return
		}
		r.out[i], r.length[i], r.started[i], r.lost[i], r.freezes[i] = o, c.length, c.started, lost, c.freezes
	}
}

func (r *recorder) earned(k, amount int64, c *cursor) {
	r.earns = append(r.earns, earnRec{k, amount, c.freezes})
}

// earnEvery is the auto-earn period in nanoseconds, 0 without auto-earning.
func (fz Freezes) earnEvery() int64 {
	if fz.EarnAmount > 0 && fz.EarnEveryDays > 0 {
		return int64(fz.EarnEveryDays) * int64(24*time.Hour)
	}
	return 0
}

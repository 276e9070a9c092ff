package gamify

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"

	"github.com/gamifykit/gamify/store"
)

// Waiting users. A user may become active in a run while they are still
// in a cohort of the previous run that has not ended: an event just after
// a boundary, before the board's rollover command (or a manual clock moved
// on without RunDue). Their tier for the new run is the one that run's end
// will give, unknown until then, so they wait: w/<run start><n> records
// them in order, and the command that ends the previous run places them,
// in that order, in the tier it gives (tierOf). Until then they are not
// active in the league's run (the board ranks them as usual).

func leagueWaitKey(key string, run int64, n int) []byte {
	k := binary.BigEndian.AppendUint64(leaguePrefix(key, "w"), uint64(run))
	return binary.BigEndian.AppendUint32(k, uint32(n))
}

// openBefore reports whether uid is in a cohort of a run that starts
// before run and has not ended.
func (rt *leagueRT) openBefore(uid uint32, run int64) bool {
	for start, r := range rt.runs {
		if _, in := r.member[uid]; in && start < run && r.end == nil {
			return true
		}
	}
	return false
}

// leagueWait makes uid wait for a place in run r.
func (t *txn) leagueWait(l *League, run int64, r *leagueRun, uid uint32) {
	if r.waits == nil {
		r.waits = map[uint32]bool{}
	}
	n := len(r.waiting)
	r.waiting = append(r.waiting, uid)
	r.waits[uid] = true
	t.writes = append(t.writes, write{store.Jobs, leagueWaitKey(l.Key, run, n), binary.BigEndian.AppendUint64(nil, uint64(uid))})
	t.leagueUndo = append(t.leagueUndo, func() {
		r.waiting = r.waiting[:n]
		delete(r.waits, uid)
	})
}

// placeWaiting places, run by run, the waiting users whose previous run
// has ended; the others wait on.
func (t *txn) placeWaiting(l *League, rt *leagueRT) {
	for _, run := range slices.Sorted(maps.Keys(rt.runs)) {
		r := rt.runs[run]
		if len(r.waiting) == 0 {
			continue
		}
		var still []uint32
		for i, uid := range r.waiting {
			t.writes = append(t.writes, write{store.Jobs, leagueWaitKey(l.Key, run, i), nil})
			switch {
			case uid == 0:
			case rt.openBefore(uid, run):
				still = append(still, uid)
			default:
				t.leaguePlace(l, rt, run, r, uid)
			}
		}
		waiting, waits := r.waiting, r.waits
		t.leagueUndo = append(t.leagueUndo, func() { r.waiting, r.waits = waiting, waits })
		r.waiting, r.waits = nil, nil
		for _, uid := range still {
			t.leagueWait(l, run, r, uid)
		}
	}
}

// loadLeagueWaits reads the waiting users of a league's runs (loaded after
// the runs).
func loadLeagueWaits(tx *store.Tx, l *League, rt *leagueRT) error {
	p := leaguePrefix(l.Key, "w")
	return tx.Scan(store.Jobs, p, func(k, v []byte) error {
		rest := k[len(p):]
		if len(rest) != 12 || len(v) != 8 {
			return fmt.Errorf("%w: league %s: waiting record %x", ErrCorrupt, l.Key, k)
		}
		r, ok := rt.runs[int64(binary.BigEndian.Uint64(rest))]
		if !ok || int(binary.BigEndian.Uint32(rest[8:])) != len(r.waiting) {
			return fmt.Errorf("%w: league %s: waiting record %x out of order", ErrCorrupt, l.Key, k)
		}
		uid := uint32(binary.BigEndian.Uint64(v))
		r.waiting = append(r.waiting, uid)
		if uid != 0 {
			if r.waits == nil {
				r.waits = map[uint32]bool{}
			}
			r.waits[uid] = true
		}
		return nil
	})
}

// checkLeagueWaits reports a waiting user who is not in a cohort of an
// earlier run that has not ended (nothing would place them), or who has a
// place in the run already.
func checkLeagueWaits(l *League, rt *leagueRT, report func(string, ...any)) {
	for _, run := range slices.Sorted(maps.Keys(rt.runs)) {
		r := rt.runs[run]
		for _, uid := range r.waiting {
			_, placed := r.member[uid]
			switch {
			case uid == 0:
			case placed:
				report("league %s: run %d: uid %d waits for a place and has one", l.Key, run, uid)
			case !rt.openBefore(uid, run):
				report("league %s: run %d: uid %d waits for the end of a run they are not in", l.Key, run, uid)
			}
		}
	}
}

package gamify

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/store"
	"github.com/gamifykit/gamify/streak"
)

// Filling boards from history. A board ranks the activity inside its runs
// by event time, including what happened before it was activated, so the
// first activation (Create of an active board, Activate) queues a fill. The
// fill is a pending record in the Jobs keyspace with a cursor, run through
// the backdating queue (achievements.go) one chunk per command; each chunk
// commits together with its cursor, so a crash or Close resumes where it
// stopped and nothing is counted twice.
//
// Metric and points boards walk the ledger in sequence order up to bound,
// the last entry before the activation (later entries counted live), at
// most fillScan entries and backdateChunk matching ones per chunk. Each
// event of the board's metric, or award of its points system (recorded at
// the time of the event that caused it), adds to the run its time falls in,
// within the daily window:
//   - the current run, and any other run not finished, is filled in place;
//   - a run that ended before the activation is filled too (held in memory
//     and in the users' stored scores while the fill runs) and frozen when
//     the fill ends, as a rollover freezes a run, without
//     LeaderboardFinished: it never ran live. Until then it reads as a
//     finished run without rows. Runs without activity are not recorded.
//
// Streak boards rank the current length, which the ledger does not hold:
// their fill walks the users (backdateChunk per chunk) and sets each
// user's current length, when the board becomes active (at activation, or
// at its Start when it was scheduled).
//
// A run boundary (a rollover, Finish) reached while a fill is pending
// completes the fill first, in the same command, so that a frozen run
// always holds its history. Reads during a fill see a partial board
// (BoardPage.Filling).

const (
	fillPrefix = "boardfill/" // + board key: the fill's job key and pending name
	fillScan   = 8 * backdateChunk
)

func fillKey(key string) []byte { return []byte(fillPrefix + key) }

// queueFill queues the fill of a board activated now (see above), unless
// there is nothing it could find.
func (t *txn) queueFill(b *Leaderboard) {
	var rec []byte
	switch b.RankBy {
	case RankByMetric, RankByPoints:
		// A scheduled board's runs start after every event recorded so far.
		if t.seq == 0 || b.status(t.now) == StatusScheduled {
			return
		}
		rec = binary.BigEndian.AppendUint64(make([]byte, 0, 16), 0)
		rec = binary.BigEndian.AppendUint64(rec, t.seq)
	case RankByStreak:
		if b.status(t.now) != StatusActive {
			return
		}
		rec = binary.BigEndian.AppendUint64(nil, 0)
	default:
		return
	}
	t.writes = append(t.writes, write{store.Jobs, fillKey(b.Key), rec})
	t.backdates = append(t.backdates, fillPrefix+b.Key)
	rt := t.w.eng.boardRT(b.ref)
	rt.mu.Lock()
	rt.filling = true
	rt.mu.Unlock()
}

// completeFill runs the rest of a pending fill of b in this command.
func (t *txn) completeFill(b *Leaderboard) error {
	rt := t.w.eng.boardRT(b.ref)
	rt.mu.RLock()
	filling := rt.filling
	rt.mu.RUnlock()
	for filling {
		_, done, err := t.fillChunk(b.Key)
		if err != nil {
			return err
		}
		filling = !done
	}
	return nil
}

// fillChunk fills the next chunk of the board with key; done reports that
// the fill is over (its record removed). n is what the chunk examined.
func (t *txn) fillChunk(key string) (n int, done bool, err error) {
	job := fillKey(key)
	var rec []byte
	if err := t.w.db.View(func(tx *store.Tx) error {
		rec = append(rec, tx.Get(store.Jobs, job)...)
		return nil
	}); err != nil {
		return 0, false, err
	}
	// A record written earlier in this command (completeFill) is not in the
	// store yet: the last write wins.
	for _, wr := range t.writes {
		if wr.ks == store.Jobs && string(wr.key) == string(job) {
			rec = wr.val
		}
	}
	if rec == nil { // done already (completed by a rollover)
		return 0, true, nil
	}
	b, ok := t.w.cat.boards[key]
	if !ok || !b.hasRuns() { // archived meanwhile: abandoned
		if ok {
			t.endFill(b, false)
		}
		t.writes = append(t.writes, write{store.Jobs, job, nil})
		return 0, true, nil
	}
	if b.RankBy == RankByStreak {
		if len(rec) != 8 {
			return 0, false, errCorruptFill(key)
		}
		return t.fillStreakChunk(b, job, binary.BigEndian.Uint64(rec))
	}
	if len(rec) != 16 {
		return 0, false, errCorruptFill(key)
	}
	cursor, bound := binary.BigEndian.Uint64(rec), binary.BigEndian.Uint64(rec[8:])
	kind, ref := ledger.MetricDelta, uint32(0)
	if b.RankBy == RankByPoints {
		kind = ledgerAward
		if sys, ok := t.w.cat.points.systems[b.System]; ok {
			ref = sys.ref
		}
	} else if m, ok := t.w.cat.metrics[b.Metric]; ok {
		ref = m.ref
	}
	var hits []ledger.Entry
	next, done := bound, true
	err = t.w.db.View(func(tx *store.Tx) error {
		return tx.ScanFrom(store.Ledger, ledger.Key(cursor+1), func(k, v []byte) error {
			seq := binary.BigEndian.Uint64(k)
			if seq > bound {
				return store.ErrStop
			}
			if n >= fillScan || len(hits) >= backdateChunk {
				next, done = seq-1, false
				return store.ErrStop
			}
			n++
			en, err := ledger.Unmarshal(k, v)
			if err != nil {
				return err
			}
			if en.Kind == kind && en.Ref == ref {
				hits = append(hits, en)
			}
			return nil
		})
	})
	if err != nil {
		return 0, false, err
	}
	rt := t.w.eng.boardRT(b.ref)
	for _, en := range hits {
		u, err := t.userByUID(en.User)
		if err != nil {
			return 0, false, err
		}
		if u == nil {
			continue
		}
		at, delta := time.Unix(0, en.At), en.Delta.Micros()
		if !b.inWindow(at, t.w.userLocation(&u.p)) || b.pausedAt(at) {
			continue // a board created with pauses (an import) counts nothing dated in them
		}
		add := func(old userBoard) (int64, int64) { return old.Score + delta, 0 }
		if err := t.fillRun(u, b, rt, at, add); err != nil {
			return 0, false, err
		}
	}
	if done {
		t.endFill(b, true)
		t.writes = append(t.writes, write{store.Jobs, job, nil})
		return n, true, nil
	}
	rec = binary.BigEndian.AppendUint64(make([]byte, 0, 16), next)
	t.writes = append(t.writes, write{store.Jobs, job, binary.BigEndian.AppendUint64(rec, bound)})
	return n, false, nil
}

// fillRun scores a change from history into the run of b containing at,
// finished or not: while the board fills, every finished run ended before
// its activation (a rollover completes the fill first).
func (t *txn) fillRun(u *userRec, b *Leaderboard, rt *boardRuntime, at time.Time, f combine) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	runKey, endKey, ok := rt.runAt(b, at)
	if !ok {
		return nil
	}
	var ignored []LeaderboardChange
	return t.scoreRun(u, b, rt, runKey, endKey, uint64(at.UnixNano()), f, &ignored, false)
}

// fillStreakChunk sets the current streak length of the next users after
// the cursor.
func (t *txn) fillStreakChunk(b *Leaderboard, job []byte, cursor uint64) (int, bool, error) {
	w := t.w
	uids, ids, err := w.usersAfter(cursor)
	if err != nil {
		return 0, false, err
	}
	rt := w.eng.boardRT(b.ref)
	if sd, ok := w.cat.streaks[b.Streak]; ok {
		for _, id := range ids {
			// Look before loading for write: only users with a streak
			// are copied and rewritten.
			base, err := w.loadUser(id)
			if err != nil {
				return 0, false, err
			}
			if base == nil {
				continue
			}
			i, ok := base.s.streak(sd.ref)
			if !ok {
				continue
			}
			length := streak.View(sd.personalized(&base.p), base.s.Streaks[i].St, t.now, w.userLocation(&base.p)).Length
			if length == 0 {
				continue
			}
			u, err := t.user(id, false)
			if err != nil {
				return 0, false, err
			}
			score := AmountFromInt(int64(length)).Micros()
			set := func(userBoard) (int64, int64) { return score, 0 }
			if err := t.fillRun(u, b, rt, t.now, set); err != nil {
				return 0, false, err
			}
		}
	}
	t.advanceCursor(job, uids)
	done := len(uids) < backdateChunk
	if done {
		t.endFill(b, false)
	}
	return len(uids), done, nil
}

// endFill ends a board's fill: the runs that ended before its activation
// are frozen (freeze), or dropped when the fill was abandoned.
func (t *txn) endFill(b *Leaderboard, freeze bool) {
	rt := t.w.eng.boardRT(b.ref)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for start, run := range rt.runs {
		if run.end == 0 || run.end > rt.finishedTo {
			continue
		}
		if freeze {
			n := t.freeze(b, run)
			t.writes = append(t.writes, write{store.Runs, runSummaryKey(b.ref, start), runSummary(time.Unix(0, run.end), n)})
		}
		delete(rt.runs, start)
	}
	rt.filling = false
}

func errCorruptFill(key string) error {
	return fmt.Errorf("gamify: corrupt job record %s%s", fillPrefix, key)
}

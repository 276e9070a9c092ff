package gamify

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/schedule"
	"github.com/gamifykit/gamify/store"
)

// The in-memory standings of leaderboards. Each board has a runtime holding
// one counted B-tree index per (unfinished run, breakdown group), keyed by
// the users' internal ids (dense integers, so the index needs no interner).
//
// The writer updates an index while it applies a command, so that the event
// result can carry the rank; readers take the board's read lock. Readers may
// therefore see a score whose batch is still being committed (a few
// milliseconds at most); if that commit fails, the writer rebuilds every
// index from the store before anything else runs. Leaderboards are the one
// exception to "readers observe only committed state" (docs/design.md, the
// read path): a second, committed copy of every index would double their
// memory.

type boardRuntime struct {
	mu         sync.RWMutex        // guards runs, finishedTo, lastRun and filling
	runs       map[int64]*runIndex // run start (Unix ns) → standings of a run not yet finished, or being filled (board_fill.go)
	finishedTo int64               // runs ending at or before this instant (Unix ns) are finished
	lastRun    int64               // the run runAt found last, tried first: most events fall in the run of the one before
	filling    bool                // the board is being filled from history (board_fill.go)

	// groups interns the breakdown groups scored, so that an event builds
	// neither the group's key nor its public name; groupBuf is the scratch
	// the key is built in for the lookup. Guarded by mu (held to write).
	groups   map[string]groupName
	groupBuf []byte
}

// groupName is a breakdown group's internal key and its public name.
type groupName struct{ key, public string }

// maxGroupNames bounds boardRuntime.groups: a board whose breakdown values
// keep changing starts over rather than growing without bound.
const maxGroupNames = 4096

// groupOf is b.group(p) with its public name; a group seen before costs no
// allocation. rt.mu is held for writing.
func (rt *boardRuntime) groupOf(b *Leaderboard, p *profile) groupName {
	if len(b.Breakdown) == 0 {
		return groupName{}
	}
	rt.groupBuf = b.appendGroup(rt.groupBuf[:0], p)
	if g, ok := rt.groups[string(rt.groupBuf)]; ok {
		return g
	}
	if rt.groups == nil || len(rt.groups) >= maxGroupNames {
		rt.groups = make(map[string]groupName)
	}
	g := groupName{key: string(rt.groupBuf)}
	g.public = publicGroup(g.key)
	rt.groups[g.key] = g
	return g
}

// publicName is publicGroup(key), from the interned groups when it is one.
// rt.mu is held.
func (rt *boardRuntime) publicName(key string) string {
	if g, ok := rt.groups[key]; ok {
		return g.public
	}
	return publicGroup(key)
}

type runIndex struct {
	start, end int64 // end 0 when open-ended
	groups     map[string]*leaderboard.Index
}

func (r *runIndex) group(g string, order leaderboard.Order) *leaderboard.Index {
	x, ok := r.groups[g]
	if !ok {
		x = leaderboard.New(order)
		r.groups[g] = x
	}
	return x
}

// runAt finds the run of b containing at, first among the runs in memory
// (the hot path: a cron board's run is otherwise found by walking its fire
// times from the start). rt.mu is held.
func (rt *boardRuntime) runAt(b *Leaderboard, at time.Time) (start, end int64, ok bool) {
	ns := at.UnixNano()
	if r, ok := rt.runs[rt.lastRun]; ok && rt.lastRun <= ns && (r.end == 0 || ns < r.end) {
		return rt.lastRun, r.end, true
	}
	for s, r := range rt.runs { // the runs in memory do not overlap: at most one holds at
		if s <= ns && (r.end == 0 || ns < r.end) {
			rt.lastRun = s
			return s, r.end, true
		}
	}
	st, en, ok := b.runAt(at)
	if !ok {
		return 0, 0, false
	}
	if !en.IsZero() {
		end = en.UnixNano()
	}
	return st.UnixNano(), end, true
}

// refreshEnds recomputes the ends of the unfinished runs in memory after
// b's End changed. (Should the command fail, the writer rebuilds every index
// from the store, ends included.)
func (rt *boardRuntime) refreshEnds(b *Leaderboard) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for start, run := range rt.runs {
		run.end = 0
		if _, end, ok := b.runAt(time.Unix(0, start)); ok && !end.IsZero() {
			run.end = end.UnixNano()
		}
	}
}

// boardRT returns the runtime of a board, creating it.
func (e *Engine) boardRT(ref uint32) *boardRuntime {
	e.boardsMu.RLock()
	rt, ok := e.boards[ref]
	e.boardsMu.RUnlock()
	if ok {
		return rt
	}
	e.boardsMu.Lock()
	defer e.boardsMu.Unlock()
	if rt, ok = e.boards[ref]; !ok {
		rt = &boardRuntime{runs: map[int64]*runIndex{}}
		e.boards[ref] = rt
	}
	return rt
}

// userBoard is a user's score in one run of one board.
type userBoard struct {
	Ref     uint32
	Run     int64 // run start, Unix ns
	Score   int64
	Sub     int64
	Reached uint64 // when the score was reached, for ties: Unix ns of the change's time (a ledger sequence on score boards)
	Group   string
	In      bool // listed in the index (false: kept out by MaxParticipants)
	Scored  bool // has a score (score boards start with none)
}

func (s *userState) board(ref uint32, run int64) (int, bool) {
	return slices.BinarySearchFunc(s.Boards, userBoard{Ref: ref, Run: run}, func(x, y userBoard) int {
		if x.Ref != y.Ref {
			return cmp.Compare(x.Ref, y.Ref)
		}
		return cmp.Compare(x.Run, y.Run)
	})
}

// better reports whether (s1, u1) ranks strictly before (s2, u2) on a board.
func better(order leaderboard.Order, s1, u1, s2, u2 int64) bool {
	if order == leaderboard.Asc {
		s1, u1, s2, u2 = -s1, -u1, -s2, -u2
	}
	return s1 > s2 || (s1 == s2 && u1 > u2)
}

// combine computes a user's new score from the stored one.
type combine func(old userBoard) (score, sub int64)

// scoreBoard updates a user's score in the run of b containing at (the
// time the change belongs to: an event's time, not its arrival) and the
// board's index, and reports the change in res. A change whose run is
// finished counts nowhere. reached orders ties (who reached the score
// first): the change's time, or the ledger sequence on score boards.
func (t *txn) scoreBoard(u *userRec, b *Leaderboard, at time.Time, reached uint64, f combine, res *[]LeaderboardChange) error {
	if !b.inWindow(at, t.w.userLocation(&u.p)) || b.pausedAt(at) {
		return nil
	}
	return t.scoreAt(u, b, at, reached, f, res)
}

// scoreAt is scoreBoard after the daily window.
func (t *txn) scoreAt(u *userRec, b *Leaderboard, at time.Time, reached uint64, f combine, res *[]LeaderboardChange) error {
	rt := t.w.eng.boardRT(b.ref)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	runKey, endKey, ok := rt.runAt(b, at)
	if !ok {
		return nil
	}
	if endKey != 0 && endKey <= rt.finishedTo {
		return nil // a late event for a finished run
	}
	return t.scoreRun(u, b, rt, runKey, endKey, reached, f, res, true)
}

// scoreRun updates a user's score in one run of b; rt.mu is held. history
// says whether the change is the user's own, recorded in their daily rank
// history (a fill from history is not).
func (t *txn) scoreRun(u *userRec, b *Leaderboard, rt *boardRuntime, runKey, endKey int64, reached uint64, f combine, res *[]LeaderboardChange, history bool) error {
	i, found := u.s.board(b.ref, runKey)
	if !found {
		u.s.Boards = slices.Insert(u.s.Boards, i, userBoard{Ref: b.ref, Run: runKey})
		t.pruneBoards(u, b.ref, rt, runKey)
		i, _ = u.s.board(b.ref, runKey)
	}
	ub := &u.s.Boards[i]
	prevScore := ub.Score // the user's score before this change, if they were ranked
	score, sub := f(*ub)
	gn := rt.groupOf(b, &u.p)
	if ub.Scored && score == ub.Score && sub == ub.Sub && (!ub.In || ub.Group == gn.key) {
		return nil
	}
	if ub.Scored {
		// The score was reached by the latest change in time, whatever
		// order the changes arrived in.
		reached = max(reached, ub.Reached)
	}
	run, ok := rt.runs[runKey]
	if !ok {
		run = &runIndex{start: runKey, end: endKey, groups: map[string]*leaderboard.Index{}}
		rt.runs[runKey] = run
	}
	group := gn.key
	uid := uint32(u.p.UID)
	oldRank := 0
	if ub.In && ub.Group != group { // the user's attributes moved them to another group
		if x, ok := run.groups[ub.Group]; ok {
			t.saveIndex(rt, x, uid)
			x.Remove(uid)
		}
		ub.In = false
	}
	ub.Score, ub.Sub, ub.Reached, ub.Group, ub.Scored = score, sub, reached, group, true
	t.leagueJoin(u, b, runKey)
	x := run.group(group, b.order)
	change := LeaderboardChange{Key: b.Key, Group: gn.public}
	full := b.MaxParticipants > 0 && x.Len() >= b.MaxParticipants
	switch {
	case ub.In || !full:
		c := x.Update(uid, score, sub, reached, b.ties)
		t.undo = append(t.undo, indexUndo{x: x, rt: rt, user: uid, old: c.Old, had: c.Existed}) // Update reports the entry it replaced
		oldRank, change.Rank = c.OldRank, c.Rank
		ub.In = true
	default:
		worst, _ := x.Worst()
		if !better(b.order, score, sub, worst.Score, worst.Sub) {
			change.Threshold = AmountFromMicros(worst.Score)
			*res = append(*res, change) // the score counts but does not enter the board
			return nil
		}
		t.saveIndex(rt, x, worst.User)
		x.Remove(worst.User)
		if err := t.evicted(uint64(worst.User), b.ref, runKey); err != nil {
			return err
		}
		t.saveIndex(rt, x, uid)
		change.Rank = x.Update(uid, score, sub, reached, b.ties).Rank
		ub.In = true
	}
	change.PreviousRank = oldRank
	if oldRank == 0 {
		prevScore = 0
	}
	if history {
		u.s.recordRank(b.ref, localDay(t.now, t.w.userLocation(&u.p)), change.Rank, score, oldRank, prevScore)
	}
	if b.MaxParticipants > 0 && x.Len() >= b.MaxParticipants {
		w, _ := x.Worst()
		change.Threshold = AmountFromMicros(w.Score)
	}
	*res = append(*res, change)
	return nil
}

// regroup moves u's entries in the unfinished runs of boards with a
// breakdown to the groups their attributes now give, keeping their scores:
// a profile change that moves a user's group moves them at once, not at
// their next change of score.
func (t *txn) regroup(u *userRec) error {
	for _, ub := range slices.Clone(u.s.Boards) { // scoreRun writes u.s.Boards
		b := t.w.cat.boardByRef[ub.Ref]
		if b == nil || len(b.Breakdown) == 0 || !ub.In || b.Status == StatusArchived {
			continue
		}
		if err := t.regroupRun(u, b, ub.Run); err != nil {
			return err
		}
	}
	return nil
}

func (t *txn) regroupRun(u *userRec, b *Leaderboard, runKey int64) error {
	rt := t.w.eng.boardRT(b.ref)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	run, ok := rt.runs[runKey]
	if !ok || (run.end != 0 && run.end <= rt.finishedTo) {
		return nil // a finished run keeps its standings
	}
	i, _ := u.s.board(b.ref, runKey)
	reached := u.s.Boards[i].Reached
	var res []LeaderboardChange
	return t.scoreRun(u, b, rt, runKey, run.end, reached, func(old userBoard) (int64, int64) { return old.Score, old.Sub }, &res, true)
}

// standing is the user's place on b in the run containing at, as a change
// that moved nothing (PreviousRank = Rank; Rank 0 when a full board kept the
// score out), for a replayed event. False when the user has no score in
// that run or it is finished, where the event would not have counted.
func (t *txn) standing(u *userRec, b *Leaderboard, at time.Time) (LeaderboardChange, bool) {
	if !b.inWindow(at, t.w.userLocation(&u.p)) {
		return LeaderboardChange{}, false
	}
	rt := t.w.eng.boardRT(b.ref)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	runKey, endKey, ok := rt.runAt(b, at)
	if !ok || (endKey != 0 && endKey <= rt.finishedTo) {
		return LeaderboardChange{}, false
	}
	i, found := u.s.board(b.ref, runKey)
	run := rt.runs[runKey]
	if !found || !u.s.Boards[i].Scored || run == nil {
		return LeaderboardChange{}, false
	}
	ub := u.s.Boards[i]
	c := LeaderboardChange{Key: b.Key, Group: rt.publicName(ub.Group)}
	x, ok := run.groups[ub.Group]
	if !ok {
		return c, true
	}
	if ub.In {
		c.Rank, _ = x.Rank(uint32(u.p.UID), b.ties)
		c.PreviousRank = c.Rank
	}
	if b.MaxParticipants > 0 && x.Len() >= b.MaxParticipants {
		w, _ := x.Worst()
		c.Threshold = AmountFromMicros(w.Score)
	}
	return c, true
}

// pruneBoards drops a user's scores in finished runs of a board, except in
// keep and in runs still in memory (finished runs being filled from
// history). rt.mu is held.
func (t *txn) pruneBoards(u *userRec, ref uint32, rt *boardRuntime, keep int64) {
	b := t.w.cat.boardByRef[ref]
	u.s.Boards = slices.DeleteFunc(u.s.Boards, func(x userBoard) bool {
		if x.Ref != ref || x.Run == keep {
			return false
		}
		if _, filling := rt.runs[x.Run]; filling {
			return false
		}
		_, end, ok := b.runAt(time.Unix(0, x.Run))
		return ok && !end.IsZero() && end.UnixNano() <= rt.finishedTo
	})
}

// evicted marks a user pushed off a full board.
func (t *txn) evicted(uid uint64, ref uint32, run int64) error {
	u, err := t.userByUID(uid)
	if err != nil || u == nil {
		return cmpErr(err, fmt.Errorf("gamify: evicted uid %d has no user", uid))
	}
	if i, ok := u.s.board(ref, run); ok {
		u.s.Boards[i].In = false
	}
	return nil
}

// userByUID loads the user with an internal id for write; nil when there
// is none (deleted).
func (t *txn) userByUID(uid uint64) (*userRec, error) {
	var id []byte
	if err := t.w.db.View(func(tx *store.Tx) error {
		id = bytes.Clone(tx.Get(store.UserIDs, uidKey(uid)))
		return nil
	}); err != nil {
		return nil, err
	}
	if id == nil { // created in this batch or this command: search the working state
		for _, users := range []map[string]*userRec{t.users, t.w.users} {
			for _, u := range users {
				if u.p.UID == uid {
					id = []byte(u.p.ID)
				}
			}
		}
	}
	if id == nil {
		return nil, nil
	}
	return t.user(string(id), false)
}

// trackBoards updates the metric boards of an event.
func (t *txn) trackBoards(u *userRec, m *Metric, ev *validEvent, res *EventResult) error {
	bs := t.w.cat.metricBoards[m.Key]
	sized := res.Leaderboards == nil && len(bs) > 1
	if sized {
		res.Leaderboards = t.boardChanges(len(bs)) // one allocation at most, not one per board
	}
	v := ev.value.Micros()
	for _, b := range bs {
		if err := t.scoreBoard(u, b, ev.at, uint64(ev.at.UnixNano()), func(old userBoard) (int64, int64) { return old.Score + v, 0 }, &res.Leaderboards); err != nil {
			return err
		}
	}
	if sized && len(res.Leaderboards) == 0 {
		res.Leaderboards = nil // as without the sizing: no change is no list
	}
	return nil
}

// streakBoardsChanged updates streak boards after a length transition,
// attributed to the time of the event that caused it: its daily window is
// judged there, and the change counts unless the board's run is finished.
// A streak board ranks the current length, which history before the
// board's start is part of (its fill counts it too), so once the board has
// started a change from an event dated before the start counts in the run,
// as at the start.
func (t *txn) streakBoardsChanged(u *userRec, s *Streak, length int) error {
	var ignored []LeaderboardChange
	at := t.attributedAt()
	score := AmountFromInt(int64(length)).Micros()
	set := func(userBoard) (int64, int64) { return score, 0 }
	for _, b := range t.w.cat.streakBoards[s.Key] {
		if !b.inWindow(at, t.w.userLocation(&u.p)) || b.pausedAt(at) {
			continue
		}
		runAt := at
		if start := b.startTime(); at.Before(start) && !t.now.Before(start) {
			runAt = start
		}
		if err := t.scoreAt(u, b, runAt, uint64(at.UnixNano()), set, &ignored); err != nil {
			return err
		}
	}
	return nil
}

// boardJob is the rollover job of an activated board.
func boardJob(b *Leaderboard) *job {
	ref := b.ref
	return &job{id: "leaderboard/" + b.Key, sched: boundaries{b}, run: func(t *txn, due time.Time) error {
		b, ok := t.w.cat.boardByRef[ref]
		if !ok || !b.hasRuns() {
			return nil
		}
		if err := t.rollover(b, due); err != nil {
			return err
		}
		if b.RankBy == RankByStreak && due.Equal(b.startTime()) {
			t.queueFill(b) // a scheduled streak board starts with the lengths of the moment
		}
		return nil
	}, skipTo: func(t *txn, due, now time.Time) time.Time {
		if b, ok := t.w.cat.boardByRef[ref]; ok && b.hasRuns() {
			return t.quietUntil(b, due, now)
		}
		return due
	}}
}

// quietWalk bounds the boundaries of a cron board one skip walks.
const quietWalk = 100_000

// quietUntil returns the last run boundary of b at or before now that
// rollovers from due can skip to: up to it, every run ending is one without
// participants (nothing to freeze). It stops at the end of the earliest
// unfinished run with entries, which is then frozen as usual. A board
// repeating every fixed period finds its boundary directly; a cron board
// walks its boundaries, at most quietWalk of them per call.
func (t *txn) quietUntil(b *Leaderboard, due, now time.Time) time.Time {
	at := now // compared as times: now may be past what Unix nanoseconds hold
	rt := t.w.eng.boardRT(b.ref)
	rt.mu.RLock()
	for _, run := range rt.runs {
		if end := time.Unix(0, run.end); run.end != 0 && end.Before(at) {
			at = end
		}
	}
	rt.mu.RUnlock()
	if _, ok := b.runs.(schedule.Every); !ok {
		last, sched := due, boundaries{b}
		for range quietWalk {
			next := sched.Next(last)
			if next.IsZero() || next.After(at) {
				break
			}
			last = next
		}
		return last
	}
	start, _, ok := b.runAt(at)
	switch {
	case ok && start.After(due):
		return start
	case !ok && b.activated && !b.endTime().IsZero() && !at.Before(b.endTime()):
		return b.endTime() // the board has ended: its end is the last boundary
	}
	return due
}

// registerBoard (re)registers the rollover job of an activated board.
func (t *txn) registerBoard(b *Leaderboard) {
	_ = t.registerJob(boardJob(b))
}

// rollover finishes the run of b that ends at due, freezing its final
// standings in the store, and announces the run starting at due (not while
// the board is paused). A pending fill from history is completed first.
func (t *txn) rollover(b *Leaderboard, due time.Time) error {
	if err := t.completeFill(b); err != nil {
		return err
	}
	rt := t.w.eng.boardRT(b.ref)
	rt.mu.Lock()
	defer rt.mu.Unlock()
	dueNs := due.UnixNano()
	if pstart, pend, ok := b.runAt(due.Add(-time.Nanosecond)); ok && pend.Equal(due) {
		n := 0
		if run, ok := rt.runs[pstart.UnixNano()]; ok {
			n = t.freeze(b, run)
		}
		if err := t.leagueRollover(b, pstart, pend, rt.runs[pstart.UnixNano()]); err != nil {
			return err
		}
		delete(rt.runs, pstart.UnixNano()) // its stored end may be later: Finish ended it early
		t.writes = append(t.writes, write{store.Runs, runSummaryKey(b.ref, pstart.UnixNano()), runSummary(pend, n)})
		t.notes = append(t.notes, LeaderboardFinished{Board: b.Key, RunStart: pstart, RunEnd: pend, Participants: n})
	}
	for start, run := range rt.runs {
		if run.end != 0 && run.end <= dueNs {
			delete(rt.runs, start)
		}
	}
	rt.finishedTo = max(rt.finishedTo, dueNs)
	if start, end, ok := b.runAt(due); ok && start.Equal(due) && b.Status == StatusActive {
		t.notes = append(t.notes, LeaderboardStarted{Board: b.Key, RunStart: start, RunEnd: end})
	}
	return nil
}

// finishRuns rolls b (just finished by Finish) over to its end: every run
// boundary due since the job's last occurrence, then the end, which freezes
// the current run. The job is recorded as done at the end, so the scheduler
// never rolls those boundaries over again.
func (t *txn) finishRuns(b *Leaderboard) error {
	j := boardJob(b)
	last, ok, err := t.w.jobLast(j.id)
	if err != nil {
		return err
	}
	end := b.endTime()
	if !ok {
		last = end
	}
	for due := j.sched.Next(last); !due.IsZero() && !due.After(end); due = j.sched.Next(due) {
		if err := t.rollover(b, due); err != nil {
			return err
		}
	}
	// Finished at the very instant the job last ran (a board finished as it
	// was activated): the end is not after last, so the loop skipped it.
	if done, err := t.rolledOver(b, end); err != nil {
		return err
	} else if !done {
		if err := t.rollover(b, end); err != nil {
			return err
		}
	}
	if err := t.completeFill(b); err != nil { // no boundary was due
		return err
	}
	t.writes = append(t.writes, write{store.Jobs, jobKey(j.id), encodeJobTime(end)})
	s := t.w.eng.sched
	t.publish = append(t.publish, func() { s.add(j, end) })
	return nil
}

// rolledOver reports whether b's runs were rolled over at end: the run
// ending there is frozen (its summary written, by this command or before),
// or, when no run ends there, the board's runs are finished up to end.
func (t *txn) rolledOver(b *Leaderboard, end time.Time) (bool, error) {
	start, runEnd, ok := b.runAt(end.Add(-time.Nanosecond))
	if !ok || !runEnd.Equal(end) {
		return t.w.eng.boardRT(b.ref).finishedTo >= end.UnixNano(), nil
	}
	key := runSummaryKey(b.ref, start.UnixNano())
	for _, wr := range t.writes {
		if wr.ks == store.Runs && bytes.Equal(wr.key, key) {
			return true, nil
		}
	}
	var found bool
	err := t.w.db.View(func(tx *store.Tx) error { found = tx.Get(store.Runs, key) != nil; return nil })
	return found, err
}

// freeze writes the final standings of a run; it returns the participants.
func (t *txn) freeze(b *Leaderboard, run *runIndex) int {
	n := 0
	for g, x := range run.groups {
		x.Each(0, b.ties, func(s leaderboard.Standing) bool {
			v := binary.AppendUvarint(nil, uint64(s.User))
			v = binary.AppendVarint(v, s.Score)
			v = binary.AppendVarint(v, s.Sub)
			v = binary.AppendUvarint(v, uint64(s.Rank))
			t.writes = append(t.writes, write{store.Runs, runRowKey(b.ref, run.start, g, s.Position), v})
			n++
			return true
		})
	}
	return n
}

// Keys of frozen runs: ref | run start | 0 | group | 0 | position for rows,
// ref | run start | 1 for the run's summary.
func runPrefix(ref uint32, run int64) []byte {
	k := binary.BigEndian.AppendUint32(nil, ref)
	return binary.BigEndian.AppendUint64(k, uint64(run))
}

func runRowKey(ref uint32, run int64, group string, pos int) []byte {
	k := append(runPrefix(ref, run), 0)
	k = append(append(k, group...), 0)
	return binary.BigEndian.AppendUint32(k, uint32(pos))
}

func runSummaryKey(ref uint32, run int64) []byte { return append(runPrefix(ref, run), 1) }

func runSummary(end time.Time, n int) []byte {
	v := binary.AppendVarint(nil, end.UnixNano())
	return binary.AppendUvarint(v, uint64(n))
}

// indexUndo restores one index entry if the command that changed it fails:
// indexes change while a command applies (see the top of this file), but a
// failed command must leave no trace.
type indexUndo struct {
	x    *leaderboard.Index
	rt   *boardRuntime
	user uint32
	old  leaderboard.Entry
	had  bool
}

// saveIndex records the entry of user in x before it changes. rt.mu is held.
func (t *txn) saveIndex(rt *boardRuntime, x *leaderboard.Index, user uint32) {
	old, had := x.Get(user)
	t.undo = append(t.undo, indexUndo{x: x, rt: rt, user: user, old: old, had: had})
}

// rollback undoes the index changes of a failed command, newest first.
func (t *txn) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		u.rt.mu.Lock()
		if u.had {
			u.x.Set(u.user, u.old.Score, u.old.Sub, u.old.Reached)
		} else {
			u.x.Remove(u.user)
		}
		u.rt.mu.Unlock()
	}
	t.undo = t.undo[:0]
	t.undoLeagues()
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

func sortRows(rows []BoardRow) {
	slices.SortStableFunc(rows, func(x, y BoardRow) int {
		if x.Rank != y.Rank {
			return x.Rank - y.Rank
		}
		return 0
	})
}

// rankDay is a user's rank on a board during one local day: the last rank
// their own changes produced that day, and the best; the score after the
// last change; the rank and score before the first (0 when not ranked).
type rankDay struct {
	Ref       uint32
	Day       int32 // days since 1970-01-01 in the user's zone
	Last      int32
	Best      int32
	Score     int64 // micros
	PrevRank  int32
	PrevScore int64 // micros
}

// maxRankDays is how many days of rank history a user keeps per board.
const maxRankDays = 100

// recordRank notes the rank a change produced. History is recorded when the
// user's own entry changes, so it costs nothing per day for idle users; on
// days without a change their rank (which others may have moved) is unknown.
func (s *userState) recordRank(ref uint32, day int32, rank int, score int64, prevRank int, prevScore int64) {
	if rank <= 0 {
		return
	}
	i, found := slices.BinarySearchFunc(s.Ranks, rankDay{Ref: ref, Day: day}, func(x, y rankDay) int {
		if x.Ref != y.Ref {
			return cmp.Compare(x.Ref, y.Ref)
		}
		return int(x.Day) - int(y.Day)
	})
	r := int32(rank)
	s.bestYear(yearRank, ref, yearOfDay(day), int64(rank))
	if found {
		s.Ranks[i].Last, s.Ranks[i].Best, s.Ranks[i].Score = r, min(s.Ranks[i].Best, r), score
		return
	}
	s.Ranks = slices.Insert(s.Ranks, i, rankDay{Ref: ref, Day: day, Last: r, Best: r, Score: score, PrevRank: int32(prevRank), PrevScore: prevScore})
	// Keep the newest maxRankDays days of this board.
	first := i
	for first > 0 && s.Ranks[first-1].Ref == ref {
		first--
	}
	last := i
	for last+1 < len(s.Ranks) && s.Ranks[last+1].Ref == ref {
		last++
	}
	if n := last - first + 1; n > maxRankDays {
		s.Ranks = slices.Delete(s.Ranks, first, first+n-maxRankDays)
	}
}

package gamify

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/store"
)

// The league rollover, chunked. The board's rollover command ends a league
// run: it records in the run's e/ record what the end decided (results or
// none, Promote and Demote as of then) and keeps in memory every member's
// final place on the board, then queues the league's pending rollover
// (leagueRollPrefix + key, a record in the Jobs keyspace while rollovers
// are under way). RunDue, the runner and Open's catch-up then run
// league.rollover commands, each giving the results of whole cohorts of
// the oldest ended run, about leagueChunk users, and storing how far it got
// (the run's next tier and cohort) with them: a crash resumes at the next
// cohort and never gives a result twice. The results are those the run's
// end decided, whatever runs between the chunks.
//
// A user who becomes active in the next run before their cohort of the
// ended run is rolled over joins in the tier that rollover will give them
// (tierOf computes it from the final places), so chunking never changes a
// cohort. The final places are the board's frozen rows of the run: after a
// restart they are read back from them.

// leagueChunk bounds the users one league.rollover command gives results
// to (whole cohorts: at least one).
const leagueChunk = 1000

// leagueRollPrefix + league key: the job key of a league's pending
// rollovers and its pending name.
const leagueRollPrefix = "leagueroll/"

func leagueRollKey(key string) []byte { return []byte(leagueRollPrefix + key) }

func leagueEndKey(key string, run int64) []byte {
	return binary.BigEndian.AppendUint64(leaguePrefix(key, "e"), uint64(run))
}

// leagueEnd is the rollover of an ended run: what its end decided and how
// far its chunks have got.
type leagueEnd struct {
	end             int64 // the run's end, Unix nanoseconds
	results         bool  // false: the league was not active or the board had no standings; the run is dropped
	promote, demote int   // as of the run's end
	tier, cohort    int   // the next cohort to roll over
	final           map[uint32]finalPlace
}

// finalPlace is a member's place on the board at the run's end.
type finalPlace struct {
	pos, rank int
	score     int64
}

func (e *leagueEnd) encode() []byte {
	v := binary.AppendVarint(nil, e.end)
	r := uint64(0)
	if e.results {
		r = 1
	}
	for _, n := range []uint64{r, uint64(e.promote), uint64(e.demote), uint64(e.tier), uint64(e.cohort)} {
		v = binary.AppendUvarint(v, n)
	}
	return v
}

func decodeLeagueEnd(v []byte) (*leagueEnd, bool) {
	d := decoder{b: v}
	e := &leagueEnd{end: d.varint()}
	r, promote, demote, tier, cohort := d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint(), d.uvarint()
	if d.err || len(d.b) != 0 || r > 1 || promote > maxCohortSize || demote > maxCohortSize || tier > maxLeagueTiers {
		return nil, false
	}
	e.results, e.promote, e.demote, e.tier, e.cohort = r == 1, int(promote), int(demote), int(tier), int(cohort)
	return e, true
}

// leagueRollover ends the run [start, end) of every league on b: idx is
// the board's standings of the run (nil without participants). The
// results follow in league.rollover commands. The board's lock is held.
func (t *txn) leagueRollover(b *Leaderboard, start, end time.Time, idx *runIndex) error {
	var ls []*League
	for _, l := range t.w.cat.leagues {
		if l.Board == b.Key {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		return nil
	}
	slices.SortFunc(ls, func(x, y *League) int { return cmp.Compare(x.ref, y.ref) })
	set := &t.w.eng.leagues
	set.mu.Lock()
	defer set.mu.Unlock()
	run := start.UnixNano()
	for _, l := range ls {
		rt := set.rt(l.ref)
		r, ok := rt.runs[run]
		if !ok || r.end != nil {
			continue
		}
		e := &leagueEnd{end: end.UnixNano(), promote: l.Promote, demote: l.Demote}
		var x *leaderboard.Index
		if idx != nil {
			x = idx.groups[""] // a league's board has no breakdown
		}
		if l.Status == StatusActive && x != nil {
			e.results, e.final = true, make(map[uint32]finalPlace, len(r.member))
			for uid := range r.member {
				if pos, ok := x.Position(uid); ok {
					en, _ := x.Get(uid)
					rank, _ := x.Rank(uid, b.ties)
					e.final[uid] = finalPlace{pos: pos, rank: rank, score: en.Score}
				}
			}
		}
		r.end = e
		t.leagueUndo = append(t.leagueUndo, func() { r.end = nil })
		t.writes = append(t.writes, write{store.Jobs, leagueEndKey(l.Key, run), e.encode()},
			write{store.Jobs, leagueRollKey(l.Key), []byte{1}})
		if name := leagueRollPrefix + l.Key; !slices.Contains(t.backdates, name) {
			t.backdates = append(t.backdates, name)
		}
		t.placeWaiting(l, rt)
	}
	return nil
}

// leagueRollOp gives the results of the next cohorts of a league's ended
// runs (league_rollover.go).
var leagueRollOp = newOp("league.rollover", func(t *txn, a leagueRollArgs) (chunkDone, error) {
	n, done, err := t.leagueRollChunk(a.League, max(a.Users, 1))
	return chunkDone{n, done}, err
})

// leagueRollArgs name the league and bound the chunk: the bound is in the
// command so that a replica applies the same chunks.
type leagueRollArgs struct {
	League string
	Users  int
}

// leagueRollChunk rolls over about budget users of the league's ended
// runs, oldest run first; done says none is left.
func (t *txn) leagueRollChunk(key string, budget int) (n int, done bool, err error) {
	l, ok := t.w.cat.leagues[key]
	set := &t.w.eng.leagues
	set.mu.Lock()
	defer set.mu.Unlock()
	for ok {
		rt := set.rt(l.ref)
		run, r := rt.oldestEnded()
		if r == nil {
			break
		}
		if n >= budget {
			return n, false, nil
		}
		m, err := t.rollCohorts(l, rt, run, r, budget-n)
		if err != nil {
			return n, false, err
		}
		n += m
	}
	t.writes = append(t.writes, write{store.Jobs, leagueRollKey(key), nil})
	return n, true, nil
}

// oldestEnded returns the earliest run whose rollover is under way.
func (rt *leagueRT) oldestEnded() (int64, *leagueRun) {
	var run int64
	var found *leagueRun
	for start, r := range rt.runs {
		if r.end != nil && (found == nil || start < run) {
			run, found = start, r
		}
	}
	return run, found
}

// rollCohorts rolls over the next cohorts of r, whole ones, until budget
// users are done (at least one cohort); the run goes once all are.
func (t *txn) rollCohorts(l *League, rt *leagueRT, run int64, r *leagueRun, budget int) (int, error) {
	e := r.end
	tier0, cohort0 := e.tier, e.cohort
	t.leagueUndo = append(t.leagueUndo, func() { e.tier, e.cohort = tier0, cohort0 })
	top := len(l.Tiers) - 1
	n := 0
	for e.tier < len(r.tiers) {
		users := r.tiers[e.tier]
		lo := e.cohort * r.size
		if lo >= len(users) {
			e.tier, e.cohort = e.tier+1, 0
			continue
		}
		if n > 0 && n >= budget {
			break
		}
		hi := min(len(users), lo+r.size)
		if e.results {
			if err := t.cohortResults(l, rt, run, r, e.tier, e.cohort, top); err != nil {
				return n, err
			}
		}
		saved := slices.Clone(users[lo:hi])
		for pos := lo; pos < hi; pos++ {
			delete(r.member, users[pos])
			users[pos] = 0
			t.writes = append(t.writes, write{store.Jobs, leagueMemberKey(l.Key, run, e.tier, pos), nil})
		}
		tier := e.tier
		t.leagueUndo = append(t.leagueUndo, func() {
			copy(r.tiers[tier][lo:], saved)
			for i, uid := range saved {
				if uid != 0 {
					r.member[uid] = leagueSlot{tier, lo + i}
				}
			}
		})
		n += hi - lo
		e.cohort++
	}
	if e.tier < len(r.tiers) {
		t.writes = append(t.writes, write{store.Jobs, leagueEndKey(l.Key, run), e.encode()})
		return n, nil
	}
	delete(rt.runs, run)
	t.leagueUndo = append(t.leagueUndo, func() { rt.runs[run] = r })
	t.writes = append(t.writes, write{store.Jobs, leagueRunKey(l.Key, run), nil}, write{store.Jobs, leagueEndKey(l.Key, run), nil})
	return n, nil
}

// cohortMove is what a run's end does to one member of a cohort.
type cohortMove struct {
	uid      uint32
	place    finalPlace
	rank, to int // rank in the cohort, tier after the run
	move     LeagueMove
	members  int // the cohort's members on the board
}

// cohortMoves orders cohort c of a tier of an ended run as the board
// ranked it at the run's end and says where each member goes; members gone
// from the board (erased) are left out.
func (r *leagueRun) cohortMoves(tier, c, top int) []cohortMove {
	e := r.end
	users := r.tiers[tier]
	users = users[c*r.size : min(len(users), (c+1)*r.size)]
	out := make([]cohortMove, 0, len(users))
	for _, uid := range users {
		if p, ok := e.final[uid]; ok && uid != 0 {
			out = append(out, cohortMove{uid: uid, place: p})
		}
	}
	slices.SortFunc(out, func(a, b cohortMove) int { return cmp.Compare(a.place.pos, b.place.pos) })
	m := len(out)
	up, down := cohortCut(m, r.size, tier, top, e.promote, e.demote)
	rank := 0
	for i := range out {
		if i == 0 || out[i].place.rank != out[i-1].place.rank {
			rank = i + 1
		}
		mv := &out[i]
		mv.rank, mv.members = rank, m
		mv.to, mv.move = cohortMoveAt(i, up, down, tier)
	}
	return out
}

// cohortCut says who of a cohort of m members (the run's cohorts hold
// size) moves at a run's end, the members ordered by position: the first
// up move up a tier, those from down on move down. Decision (small
// cohorts, docs/behaviour.md): a cohort moves anyone only when it holds
// more members than its tier's moves (Promote, not from the top tier, plus
// Demote, not from the first) or is full, so that a cohort of one never
// promotes its only member; promotion wins an overlap.
func cohortCut(m, size, tier, top, promote, demote int) (up, down int) {
	if tier < top {
		up = promote
	}
	if tier == 0 {
		demote = 0
	}
	if m <= up+demote && m < size {
		return 0, m
	}
	up = min(up, m)
	return up, max(up, m-demote)
}

// cohortMoveAt is the tier and move of the member at index i of a cohort
// cut by cohortCut.
func cohortMoveAt(i, up, down, tier int) (int, LeagueMove) {
	switch {
	case i < up:
		return tier + 1, LeaguePromoted
	case i >= down:
		return tier - 1, LeagueDemoted
	}
	return tier, LeagueStayed
}

// cohortResults moves the tiers of a cohort's members and records and
// notifies their results.
func (t *txn) cohortResults(l *League, rt *leagueRT, run int64, r *leagueRun, tier, c, top int) error {
	moves := r.cohortMoves(tier, c, top)
	uids := make([]uint32, len(moves))
	for i, mv := range moves {
		uids[i] = mv.uid
	}
	ids, err := t.leagueUserIDs(uids)
	if err != nil {
		return err
	}
	start, end := time.Unix(0, run).UTC(), time.Unix(0, r.end.end).UTC()
	for i, mv := range moves {
		// Against the stored tier, not the run's: a late event can put a
		// user into an ended run after they joined the next one, whose
		// rollover then moved their stored tier on.
		if from := rt.tiers[mv.uid]; from != mv.to {
			t.setLeagueTier(l, rt, mv.uid, from, mv.to)
		}
		res := LeagueResult{League: l.Key, User: ids[mv.uid], RunStart: start, RunEnd: end,
			Tier: l.Tiers[tier], NewTier: l.Tiers[mv.to], Move: mv.move, Cohort: c + 1, Rank: mv.rank,
			Position: i + 1, Score: AmountFromMicros(mv.place.score), CohortMembers: mv.members}
		t.putJSON(store.Jobs, binary.BigEndian.AppendUint64(leagueHistoryPrefix(l.Key, mv.uid), uint64(run)),
			leagueHistory{LeagueResult: res, TierIx: tier, NewTierIx: mv.to})
		t.notes = append(t.notes, res)
	}
	return nil
}

// leagueHistory is a stored LeagueResult with the tiers by position, which
// Check compares with the stored tier (names may be patched).
type leagueHistory struct {
	LeagueResult
	TierIx    int `json:"tierIx"`
	NewTierIx int `json:"newTierIx"`
}

// tierOf returns the tier uid plays their next run in: the one the newest
// rollover under way that holds them gives them, else their stored tier.
func (rt *leagueRT) tierOf(uid uint32, top int) int {
	var run int64
	var found *leagueRun
	for start, r := range rt.runs {
		if _, in := r.member[uid]; in && r.end != nil && (found == nil || start > run) {
			run, found = start, r
		}
	}
	if found == nil {
		return rt.tiers[uid]
	}
	slot := found.member[uid]
	if found.end.results {
		for _, mv := range found.cohortMoves(slot.tier, slot.pos/found.size, top) {
			if mv.uid == uid {
				return mv.to
			}
		}
	}
	return slot.tier
}

// loadLeagueEnds reads the rollovers under way of a league's runs (loaded
// before their members).
func loadLeagueEnds(tx *store.Tx, l *League, rt *leagueRT) error {
	return tx.Scan(store.Jobs, leaguePrefix(l.Key, "e"), func(k, v []byte) error {
		e, ok := decodeLeagueEnd(v)
		if len(k) < 8 || !ok {
			return fmt.Errorf("%w: league %s: rollover record %x", ErrCorrupt, l.Key, k)
		}
		r, found := rt.runs[int64(binary.BigEndian.Uint64(k[len(k)-8:]))]
		if !found {
			return fmt.Errorf("%w: league %s: rollover record %x of no run", ErrCorrupt, l.Key, k)
		}
		r.end = e
		return nil
	})
}

// loadLeagueFinals reads the final places of the members of a league's
// ended runs from the board's frozen rows of the run (loaded after the
// members).
func loadLeagueFinals(tx *store.Tx, cat *catalog, l *League, rt *leagueRT) error {
	b, ok := cat.boards[l.Board]
	for run, r := range rt.runs {
		if r.end == nil || !r.end.results {
			continue
		}
		r.end.final = make(map[uint32]finalPlace, len(r.member))
		if !ok {
			continue
		}
		p := append(runPrefix(b.ref, run), 0, 0) // group "": a league's board has no breakdown
		if err := tx.Scan(store.Runs, p, func(k, v []byte) error {
			d := decoder{b: v}
			uid, score, _, rank := d.uvarint(), d.varint(), d.varint(), d.uvarint()
			if d.err || len(k) != len(p)+4 {
				return fmt.Errorf("%w: leaderboard %s: run row %x", ErrCorrupt, b.Key, k)
			}
			if _, in := r.member[uint32(uid)]; in {
				r.end.final[uint32(uid)] = finalPlace{pos: int(binary.BigEndian.Uint32(k[len(p):])), rank: int(rank), score: score}
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// sameLeagueEnd reports whether two runs have the same rollover under way,
// with the same final places of the members left to roll over.
func sameLeagueEnd(a, b *leagueRun) bool {
	x, y := a.end, b.end
	if x == nil || y == nil {
		return x == y
	}
	if x.end != y.end || x.results != y.results || x.promote != y.promote || x.demote != y.demote || x.tier != y.tier || x.cohort != y.cohort {
		return false
	}
	for uid := range a.member {
		if x.final[uid] != y.final[uid] {
			return false
		}
	}
	return true
}

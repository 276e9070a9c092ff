package gamify

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/store"
)

// League state. Each league keeps, in memory and in the Jobs keyspace under
// "league/<key>/":
//   - t/<uid>: the user's tier, for users above the first;
//   - r/<run start>: the cohort size of a run not yet rolled over;
//   - e/<run start>: the rollover of an ended run, while it is under way
//     (league_rollover.go);
//   - w/<run start><n>: the users waiting for a place in the run
//     (league_wait.go);
//   - m/<run start><tier><position>: the users of that run by tier, in the
//     order they joined (cohort c of a tier holds positions c*size to
//     (c+1)*size-1);
//   - h/<uid><run start>: the user's result of a past run (LeagueResult).
//
// A user joins with their first counted change on the league's board in a
// run, at the position after the last of their tier: the log's order makes
// it the same on every replica. The board's rollover command ends the run
// and the league's rollover commands then give its results in chunks
// (league_rollover.go). Memory changes are undone if the command fails, and
// rebuilt from the store after a failed commit.

// leagueSet holds the runtimes of the leagues, by league ref.
type leagueSet struct {
	mu sync.RWMutex // guards by and every runtime in it
	by map[uint32]*leagueRT
}

type leagueRT struct {
	tiers map[uint32]int       // uid → tier, for users above the first
	runs  map[int64]*leagueRun // run start → cohorts of a run not rolled over
}

type leagueRun struct {
	size   int
	member map[uint32]leagueSlot
	tiers  [][]uint32 // per tier, the users in order of joining
	end    *leagueEnd // set once the run has ended: its rollover is under way
	// waiting are the users active in the run before the end of their
	// previous run of the league (league_wait.go), in order; 0 for one
	// erased. waits indexes them.
	waiting []uint32
	waits   map[uint32]bool
}

type leagueSlot struct{ tier, pos int }

// rt returns the runtime of a league, creating it; s.mu is held for write.
func (s *leagueSet) rt(ref uint32) *leagueRT {
	if s.by == nil {
		s.by = map[uint32]*leagueRT{}
	}
	r, ok := s.by[ref]
	if !ok {
		r = &leagueRT{tiers: map[uint32]int{}, runs: map[int64]*leagueRun{}}
		s.by[ref] = r
	}
	return r
}

func leaguePrefix(key, part string) []byte { return []byte(defLeague + key + "/" + part + "/") }

func leagueTierKey(key string, uid uint32) []byte {
	return binary.BigEndian.AppendUint64(leaguePrefix(key, "t"), uint64(uid))
}

func leagueRunKey(key string, run int64) []byte {
	return binary.BigEndian.AppendUint64(leaguePrefix(key, "r"), uint64(run))
}

func leagueMemberKey(key string, run int64, tier, pos int) []byte {
	k := binary.BigEndian.AppendUint64(leaguePrefix(key, "m"), uint64(run))
	k = append(k, byte(tier))
	return binary.BigEndian.AppendUint32(k, uint32(pos))
}

func leagueHistoryPrefix(key string, uid uint32) []byte {
	return binary.BigEndian.AppendUint64(leaguePrefix(key, "h"), uint64(uid))
}

// leagueJoin puts u in a cohort of every active league on b for the run
// starting at run, unless already in one. The board's lock is held.
func (t *txn) leagueJoin(u *userRec, b *Leaderboard, run int64) {
	ls := t.w.cat.boardLeagues[b.ref]
	if len(ls) == 0 {
		return
	}
	set := &t.w.eng.leagues
	set.mu.Lock()
	defer set.mu.Unlock()
	uid := uint32(u.p.UID)
	for _, l := range ls {
		rt := set.rt(l.ref)
		r, ok := rt.runs[run]
		if !ok {
			r = &leagueRun{size: l.CohortSize, member: map[uint32]leagueSlot{}, tiers: make([][]uint32, len(l.Tiers))}
			rt.runs[run] = r
			t.writes = append(t.writes, write{store.Jobs, leagueRunKey(l.Key, run), binary.AppendUvarint(nil, uint64(r.size))})
			t.leagueUndo = append(t.leagueUndo, func() { delete(rt.runs, run) })
		}
		if _, in := r.member[uid]; in || r.end != nil || r.waits[uid] {
			continue
		}
		if rt.openBefore(uid, run) {
			t.leagueWait(l, run, r, uid)
			continue
		}
		t.leaguePlace(l, rt, run, r, uid)
	}
}

// leaguePlace puts uid at the next place of their tier in run r.
func (t *txn) leaguePlace(l *League, rt *leagueRT, run int64, r *leagueRun, uid uint32) {
	t.leagueSet(l, run, r, rt.tierOf(uid, len(l.Tiers)-1), uid)
}

// leagueSet puts uid (0: an erased user's place) at the next place of tier
// in run r.
func (t *txn) leagueSet(l *League, run int64, r *leagueRun, tier int, uid uint32) {
	pos := len(r.tiers[tier])
	r.tiers[tier] = append(r.tiers[tier], uid)
	if uid != 0 {
		r.member[uid] = leagueSlot{tier, pos}
	}
	t.writes = append(t.writes, write{store.Jobs, leagueMemberKey(l.Key, run, tier, pos), binary.BigEndian.AppendUint64(nil, uint64(uid))})
	t.leagueUndo = append(t.leagueUndo, func() {
		delete(r.member, uid)
		r.tiers[tier] = r.tiers[tier][:pos]
	})
}

// undoLeagues reverts the league memory changes of a failed command.
func (t *txn) undoLeagues() {
	if len(t.leagueUndo) == 0 {
		return
	}
	set := &t.w.eng.leagues
	set.mu.Lock()
	for i := len(t.leagueUndo) - 1; i >= 0; i-- {
		t.leagueUndo[i]()
	}
	set.mu.Unlock()
	t.leagueUndo = t.leagueUndo[:0]
}

// LeagueMove is what a run's end did to a user's tier.
type LeagueMove string

const (
	// LeaguePromoted users moved up a tier.
	LeaguePromoted LeagueMove = "promoted"
	// LeagueDemoted users moved down a tier.
	LeagueDemoted LeagueMove = "demoted"
	// LeagueStayed users kept their tier.
	LeagueStayed LeagueMove = "stayed"
)

// LeagueResult is a user's result of one league run: sent as a
// notification at the run's end, and kept as the user's league history.
type LeagueResult struct {
	League           string
	User             string
	RunStart, RunEnd time.Time
	Tier             string     // the tier the user played the run in
	NewTier          string     // the tier after the run
	Move             LeagueMove // promoted, demoted or stayed
	Cohort           int        // the cohort's number in its tier for the run, from 1
	Rank             int        // rank in the cohort, from 1 (ties share a rank)
	// Position is the place in the cohort, from 1, unique: the board's
	// order (its tie-break among equal scores), which decided Move.
	Position      int
	Score         Amount // the score on the board at the run's end
	CohortMembers int    // users in the cohort
}

// UserID implements Notification.
func (r LeagueResult) UserID() string { return r.User }

// cohortEntry is a member's place on the board at a run's end.
type cohortEntry struct {
	uid   uint32
	pos   int
	rank  int
	score int64
}

// cohortStandings orders a cohort's users as the board ranks them; users
// gone from the board (deleted) are left out.
func cohortStandings(users []uint32, x *leaderboard.Index, ties leaderboard.Ties) []cohortEntry {
	out := make([]cohortEntry, 0, len(users))
	for _, uid := range users {
		pos, ok := x.Position(uid)
		if !ok {
			continue
		}
		e, _ := x.Get(uid)
		rank, _ := x.Rank(uid, ties)
		out = append(out, cohortEntry{uid: uid, pos: pos, rank: rank, score: e.Score})
	}
	slices.SortFunc(out, func(a, b cohortEntry) int { return cmp.Compare(a.pos, b.pos) })
	return out
}

// setLeagueTier moves a user from tier from to tier to.
func (t *txn) setLeagueTier(l *League, rt *leagueRT, uid uint32, from, to int) {
	if to == 0 {
		delete(rt.tiers, uid)
		t.writes = append(t.writes, write{store.Jobs, leagueTierKey(l.Key, uid), nil})
	} else {
		rt.tiers[uid] = to
		t.writes = append(t.writes, write{store.Jobs, leagueTierKey(l.Key, uid), binary.AppendUvarint(nil, uint64(to))})
	}
	t.leagueUndo = append(t.leagueUndo, func() {
		if from == 0 {
			delete(rt.tiers, uid)
		} else {
			rt.tiers[uid] = from
		}
	})
}

// leagueUserIDs resolves users to their ids.
func (t *txn) leagueUserIDs(uids []uint32) (map[uint32]string, error) {
	ids := make(map[uint32]string, len(uids))
	var missing []uint32
	err := t.w.db.View(func(tx *store.Tx) error {
		for _, uid := range uids {
			if id := tx.Get(store.UserIDs, uidKey(uint64(uid))); id != nil {
				ids[uid] = string(id)
			} else {
				missing = append(missing, uid)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, uid := range missing { // created in this batch
		u, err := t.userByUID(uint64(uid))
		if err != nil {
			return nil, err
		}
		if u != nil {
			ids[uid] = u.p.ID
		}
	}
	return ids, nil
}

// rebuildLeagues reloads every league's runtime from the store: at Open
// and after a failed commit.
func (w *writer) rebuildLeagues(tx *store.Tx) error {
	by, err := loadLeagues(tx, w.cat)
	if err != nil {
		return err
	}
	set := &w.eng.leagues
	set.mu.Lock()
	set.by = by
	set.mu.Unlock()
	return nil
}

// loadLeagues reads the runtimes of cat's leagues from the store.
func loadLeagues(tx *store.Tx, cat *catalog) (map[uint32]*leagueRT, error) {
	set := &leagueSet{}
	for _, l := range cat.leagues {
		rt := set.rt(l.ref)
		err := tx.Scan(store.Jobs, leaguePrefix(l.Key, "t"), func(k, v []byte) error {
			d := decoder{b: v}
			tier := d.uvarint()
			if d.err || len(k) < 8 || tier >= uint64(len(l.Tiers)) {
				return fmt.Errorf("%w: league %s: tier record %x", ErrCorrupt, l.Key, k)
			}
			rt.tiers[uint32(binary.BigEndian.Uint64(k[len(k)-8:]))] = int(tier)
			return nil
		})
		if err == nil {
			err = tx.Scan(store.Jobs, leaguePrefix(l.Key, "r"), func(k, v []byte) error {
				d := decoder{b: v}
				size := d.uvarint()
				if d.err || len(k) < 8 || size == 0 {
					return fmt.Errorf("%w: league %s: run record %x", ErrCorrupt, l.Key, k)
				}
				rt.runs[int64(binary.BigEndian.Uint64(k[len(k)-8:]))] = &leagueRun{size: int(size), member: map[uint32]leagueSlot{}, tiers: make([][]uint32, len(l.Tiers))}
				return nil
			})
		}
		if err == nil {
			err = loadLeagueEnds(tx, l, rt)
		}
		if err == nil {
			err = loadLeagueWaits(tx, l, rt)
		}
		if err == nil {
			p := leaguePrefix(l.Key, "m")
			err = tx.Scan(store.Jobs, p, func(k, v []byte) error {
				rest := k[len(p):]
				if len(rest) != 13 || len(v) != 8 {
					return fmt.Errorf("%w: league %s: member record %x", ErrCorrupt, l.Key, k)
				}
				run, tier, pos := int64(binary.BigEndian.Uint64(rest)), int(rest[8]), int(binary.BigEndian.Uint32(rest[9:]))
				r, ok := rt.runs[run]
				// The cohorts an ended run has rolled over are gone: their
				// places are kept as erased ones.
				if !ok || tier >= len(r.tiers) || pos < len(r.tiers[tier]) || pos > len(r.tiers[tier]) && r.end == nil {
					return fmt.Errorf("%w: league %s: member record %x out of order", ErrCorrupt, l.Key, k)
				}
				for len(r.tiers[tier]) < pos {
					r.tiers[tier] = append(r.tiers[tier], 0)
				}
				uid := uint32(binary.BigEndian.Uint64(v))
				r.tiers[tier] = append(r.tiers[tier], uid)
				if uid != 0 { // 0: an erased user's place
					r.member[uid] = leagueSlot{tier, pos}
				}
				return nil
			})
		}
		if err == nil {
			err = loadLeagueFinals(tx, cat, l, rt)
		}
		if err != nil {
			return nil, err
		}
	}
	return set.by, nil
}

// checkLeagues reports league records of users that do not exist, and a
// runtime in memory that differs from the one the store holds.
func (e *Engine) checkLeagues(tx *store.Tx, cat *catalog, ids map[uint64]string, report func(string, ...any)) error {
	by, err := loadLeagues(tx, cat)
	if err != nil {
		return err
	}
	if err := checkLeagueRecords(tx, cat, by, ids, report); err != nil {
		return err
	}
	for _, l := range cat.leagues {
		for uid := range by[l.ref].tiers {
			if _, ok := ids[uint64(uid)]; !ok {
				report("league %s: tier of uid %d, who does not exist", l.Key, uid)
			}
		}
		for run, r := range by[l.ref].runs {
			for uid := range r.member {
				if _, ok := ids[uint64(uid)]; !ok {
					report("league %s: run %d: member uid %d, who does not exist", l.Key, run, uid)
				}
			}
		}
	}
	e.leagues.mu.RLock()
	defer e.leagues.mu.RUnlock()
	for _, l := range cat.leagues {
		mem, ok := e.leagues.by[l.ref]
		if !ok {
			mem = &leagueRT{tiers: map[uint32]int{}, runs: map[int64]*leagueRun{}}
		}
		if !sameLeagueRT(mem, by[l.ref]) {
			report("league %s: the cohorts and tiers in memory differ from the store's", l.Key)
		}
	}
	return nil
}

// sameLeagueRT reports whether two runtimes hold the same tiers, cohorts
// and rollovers under way. Places kept empty at the end of a tier (erased
// users, cohorts rolled over) are not told apart from no place.
func sameLeagueRT(a, b *leagueRT) bool {
	if !maps.Equal(a.tiers, b.tiers) || len(a.runs) != len(b.runs) {
		return false
	}
	trimmed := func(x, y []uint32) bool {
		for len(x) > 0 && x[len(x)-1] == 0 {
			x = x[:len(x)-1]
		}
		for len(y) > 0 && y[len(y)-1] == 0 {
			y = y[:len(y)-1]
		}
		return slices.Equal(x, y)
	}
	for run, ra := range a.runs {
		rb, ok := b.runs[run]
		if !ok || ra.size != rb.size || !maps.Equal(ra.member, rb.member) ||
			!slices.EqualFunc(ra.tiers, rb.tiers, trimmed) || !sameLeagueEnd(ra, rb) || !slices.Equal(ra.waiting, rb.waiting) {
			return false
		}
	}
	return true
}

// decodeLeagueResult decodes a stored history record.
func decodeLeagueResult(v []byte) (LeagueResult, error) {
	var r LeagueResult
	err := json.NewDecoder(bytes.NewReader(v)).Decode(&r)
	return r, err
}

// eraseLeagues removes a user being erased from every league: their tier
// and history records go; their place in a cohort of a current run is kept
// (positions fill cohorts) but no longer says whose it was.
func (t *txn) eraseLeagues(uid uint32) error {
	var prefixes [][]byte
	for _, l := range t.w.cat.leagues {
		prefixes = append(prefixes, leagueTierKey(l.Key, uid), leagueHistoryPrefix(l.Key, uid))
	}
	if len(prefixes) == 0 {
		return nil
	}
	mine := func(k []byte) bool {
		for _, p := range prefixes {
			if bytes.HasPrefix(k, p) {
				return true
			}
		}
		return false
	}
	b := &t.w.open
	b.writes = slices.DeleteFunc(b.writes, func(wr write) bool { return wr.ks == store.Jobs && mine(wr.key) })
	err := t.w.db.View(func(tx *store.Tx) error {
		for _, p := range prefixes {
			if err := tx.Scan(store.Jobs, p, func(k, _ []byte) error {
				t.writes = append(t.writes, write{store.Jobs, bytes.Clone(k), nil})
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	set := &t.w.eng.leagues
	set.mu.Lock()
	defer set.mu.Unlock()
	for _, l := range t.w.cat.leagues {
		rt := set.rt(l.ref)
		delete(rt.tiers, uid)
		for run, r := range rt.runs {
			if s, ok := r.member[uid]; ok {
				delete(r.member, uid)
				r.tiers[s.tier][s.pos] = 0
				t.writes = append(t.writes, write{store.Jobs, leagueMemberKey(l.Key, run, s.tier, s.pos), binary.BigEndian.AppendUint64(nil, 0)})
			}
			if i := slices.Index(r.waiting, uid); i >= 0 {
				delete(r.waits, uid)
				r.waiting[i] = 0
				t.writes = append(t.writes, write{store.Jobs, leagueWaitKey(l.Key, run, i), binary.BigEndian.AppendUint64(nil, 0)})
			}
		}
	}
	return nil
}

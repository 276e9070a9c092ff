package gamify

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// maxLeagueImport bounds the results of one Import.
const maxLeagueImport = 1000

// Import gives a user league results of an export (gamify import), oldest
// first, and the tier the newest of them gives. Results the user holds
// already (the same run, the same result) are skipped, so that an import
// can run again; any other must be of a run after every result they hold.
// The results are checked — League and User as called, Tier and NewTier
// names of the league's tiers with Move the step between them, RunStart
// before RunEnd, Cohort from 1, Rank from 1 to CohortMembers (at most
// 1000), Position 0 (not known) or from 1 to CohortMembers, at most 1000
// results a call — and stored as given, without notifications. A result
// to store for a user already in a cohort of the league is ErrConflict
// (import before their events); an unknown league or user is ErrNotFound. It returns how many results it stored.
func (a LeaguesAPI) Import(ctx context.Context, key, user string, results []LeagueResult) (int, error) {
	if len(results) > maxLeagueImport {
		return 0, gamifytype.Invalid("results", len(results), fmt.Sprintf("must hold at most %d results", maxLeagueImport))
	}
	for i, r := range results {
		if err := checkTimes(fmt.Sprintf("results[%d].", i), namedTime{"RunStart", r.RunStart}, namedTime{"RunEnd", r.RunEnd}); err != nil {
			return 0, err
		}
	}
	results = slices.Clone(results) // in UTC, as a logged time is
	for i := range results {
		results[i].RunStart, results[i].RunEnd = results[i].RunStart.UTC(), results[i].RunEnd.UTC()
	}
	v, err := a.e.exec(ctx, a.e.now(), importLeagueOp.cmd(importLeagueArgs{League: key, User: user, Results: results}))
	if err != nil {
		return 0, fmt.Errorf("import league %s for %s: %w", gamifytype.Quote(key), gamifytype.Quote(user), err)
	}
	return v.(int), nil
}

type importLeagueArgs struct {
	League, User string
	Results      []LeagueResult
}

// The op keeps its logged name from before Import was so called.
var importLeagueOp = newOp("league.restore", func(t *txn, a importLeagueArgs) (int, error) {
	return t.importLeague(a)
})

func (t *txn) importLeague(a importLeagueArgs) (int, error) {
	l, ok := t.w.cat.leagues[a.League]
	if !ok || l.Status == StatusArchived {
		return 0, fmt.Errorf("league %s: %w", gamifytype.Quote(a.League), ErrNotFound)
	}
	u, err := t.importUser(a.User)
	if err != nil {
		return 0, err
	}
	tiers := make([][2]int, len(a.Results))
	var errs []error
	for i, r := range a.Results {
		f := fmt.Sprintf("results[%d]", i)
		from, to := slices.Index(l.Tiers, r.Tier), slices.Index(l.Tiers, r.NewTier)
		step := map[LeagueMove]int{LeaguePromoted: 1, LeagueDemoted: -1, LeagueStayed: 0}
		d, known := step[r.Move]
		switch {
		case r.League != a.League || r.User != a.User:
			errs = append(errs, gamifytype.Invalid(f+".User", r.User, "must be the league and user imported"))
		case from < 0:
			errs = append(errs, gamifytype.Invalid(f+".Tier", r.Tier, "is not a tier of league "+l.Key))
		case to < 0:
			errs = append(errs, gamifytype.Invalid(f+".NewTier", r.NewTier, "is not a tier of league "+l.Key))
		case !known || to-from != d:
			errs = append(errs, gamifytype.Invalid(f+".Move", r.Move, "must be the step from Tier to NewTier"))
		case !r.RunEnd.After(r.RunStart):
			errs = append(errs, gamifytype.Invalid(f+".RunEnd", r.RunEnd, "must be after RunStart"))
		case i > 0 && !r.RunStart.After(a.Results[i-1].RunStart):
			errs = append(errs, gamifytype.Invalid(f+".RunStart", r.RunStart, "must be after the previous result's"))
		case r.Cohort < 1 || r.Rank < 1 || r.Rank > r.CohortMembers || r.CohortMembers > maxCohortSize:
			errs = append(errs, gamifytype.Invalid(f+".Rank", r.Rank, "must be from 1 to CohortMembers (at most 1000), in a Cohort from 1"))
		case r.Position < 0 || r.Position > r.CohortMembers:
			errs = append(errs, gamifytype.Invalid(f+".Position", r.Position, "must be from 1 to CohortMembers (0: not known)"))
		}
		tiers[i] = [2]int{from, to}
	}
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	uid := uint32(u.p.UID)
	held, err := t.leagueHistoryOf(l.Key, uid)
	if err != nil {
		return 0, err
	}
	newest := int64(-1 << 63)
	for run := range held {
		newest = max(newest, run)
	}
	set := &t.w.eng.leagues
	set.mu.Lock()
	defer set.mu.Unlock()
	rt := set.rt(l.ref)
	n, last := 0, -1
	for i, r := range a.Results {
		run := r.RunStart.UnixNano()
		if v, ok := held[run]; ok {
			got, err := decodeLeagueResult(v)
			if err != nil {
				return 0, fmt.Errorf("%w: league %s: history record of %s: %w", ErrCorrupt, l.Key, a.User, err)
			}
			if !sameResult(got, r) {
				return 0, fmt.Errorf("%w: %s holds another result of the run from %v", ErrConflict, a.User, r.RunStart)
			}
			continue
		}
		if run <= newest {
			return 0, fmt.Errorf("%w: the result of the run from %v is older than one %s holds", ErrConflict, r.RunStart, a.User)
		}
		for start, r := range rt.runs {
			if _, in := r.member[uid]; in && n == 0 {
				return 0, fmt.Errorf("%w: %s is in a cohort of league %s (run from %v): import before their events", ErrConflict, a.User, l.Key, time.Unix(0, start).UTC())
			}
		}
		t.putJSON(store.Jobs, binary.BigEndian.AppendUint64(leagueHistoryPrefix(l.Key, uid), uint64(run)),
			leagueHistory{LeagueResult: r, TierIx: tiers[i][0], NewTierIx: tiers[i][1]})
		newest, last = run, tiers[i][1]
		n++
	}
	if from := rt.tiers[uid]; n > 0 && last != from {
		t.setLeagueTier(l, rt, uid, from, last)
	}
	return n, nil
}

// sameResult reports whether two results are equal as stored.
func sameResult(a, b LeagueResult) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// leagueHistoryOf reads a user's stored results of a league, by run start,
// as of the working state: the store and the open batch's writes.
func (t *txn) leagueHistoryOf(key string, uid uint32) (map[int64][]byte, error) {
	p := leagueHistoryPrefix(key, uid)
	out := map[int64][]byte{}
	err := t.w.db.View(func(tx *store.Tx) error {
		return tx.Scan(store.Jobs, p, func(k, v []byte) error {
			if len(k) == len(p)+8 {
				out[int64(binary.BigEndian.Uint64(k[len(p):]))] = bytes.Clone(v)
			}
			return nil
		})
	})
	for _, ws := range [][]write{t.w.open.writes, t.writes} {
		for _, wr := range ws {
			if wr.ks != store.Jobs || len(wr.key) != len(p)+8 || !bytes.HasPrefix(wr.key, p) {
				continue
			}
			run := int64(binary.BigEndian.Uint64(wr.key[len(p):]))
			if wr.val == nil {
				delete(out, run)
			} else {
				out[run] = wr.val
			}
		}
	}
	return out, err
}

// LeagueRun is the cohorts of a run of a league that has not ended, as
// Runs reads them and ImportRun gives them back (gamify export carries
// them), so that the run ends with the same promotions and demotions.
type LeagueRun struct {
	League           string
	RunStart, RunEnd time.Time // the board's run
	// Size is the run's cohort size: the league's CohortSize when the
	// run's first user joined.
	Size int
	// Tiers holds, per tier of the league (lowest first), its users in the
	// order they joined, from place First[i] of the tier (from 0, all 0
	// when First is nil); "" is a place kept by a user erased since.
	// Cohort c (from 1) of a tier holds places (c−1)·Size to c·Size−1.
	Tiers [][]string
	First []int `json:",omitempty"`
}

// Runs returns the cohorts of the league's runs that have not ended,
// oldest first; a run whose rollover is under way is left out, and so are
// the users waiting for a place. An unknown or archived league is
// ErrNotFound.
func (a LeaguesAPI) Runs(ctx context.Context, key string) ([]LeagueRun, error) {
	l, b, err := a.e.league(key)
	if err != nil {
		return nil, err
	}
	set := &a.e.leagues
	set.mu.RLock()
	var runs []LeagueRun
	var uids [][][]uint32
	if rt, ok := set.by[l.ref]; ok {
		for _, start := range slices.Sorted(maps.Keys(rt.runs)) {
			r := rt.runs[start]
			if r.end != nil {
				continue
			}
			tiers := make([][]uint32, len(r.tiers))
			for i, us := range r.tiers {
				tiers[i] = slices.Clone(us)
			}
			from := time.Unix(0, start).UTC()
			_, to, _ := b.runAt(from)
			runs = append(runs, LeagueRun{League: l.Key, RunStart: from, RunEnd: to.UTC(), Size: r.size})
			uids = append(uids, tiers)
		}
	}
	set.mu.RUnlock()
	err = a.e.db.View(func(tx *store.Tx) error {
		for i := range runs {
			runs[i].Tiers = make([][]string, len(uids[i]))
			for j, us := range uids[i] {
				ids := make([]string, len(us))
				for k, uid := range us {
					if uid != 0 {
						ids[k] = string(tx.Get(store.UserIDs, uidKey(uint64(uid))))
					}
				}
				runs[i].Tiers[j] = ids
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if runs == nil {
		runs = []LeagueRun{}
	}
	return runs, ctx.Err()
}

// ImportRun gives a league the cohorts of a run of an export (gamify
// import), before the run's events: run as Runs read it, or a part of it
// (First set, a tier's places in chunks, in order). Each place is checked —
// League as called, RunStart and RunEnd a run of the league's board, Size
// from 2 to 1000 and the run's if it has users, a slice of Tiers per tier,
// each user known, once in the run — and stored as given: the users'
// events then count in their cohorts, and the run's end ranks them. Places
// the run holds already with the same user are skipped, so that an import
// can run again; another user at one, a user with another place in the run,
// a place after the next free one of its tier or a run that has ended (by
// the clock, or its rollover under way: nothing would end it) is
// ErrConflict. An unknown or archived league or an unknown user is
// ErrNotFound. It returns how many places it stored.
func (a LeaguesAPI) ImportRun(ctx context.Context, key string, run LeagueRun) (int, error) {
	if run.League != key {
		return 0, gamifytype.Invalid("LeagueRun.League", run.League, "must be the league called, "+gamifytype.Quote(key))
	}
	if err := checkTimes("LeagueRun.", namedTime{"RunStart", run.RunStart}, namedTime{"RunEnd", run.RunEnd}); err != nil {
		return 0, err
	}
	run.RunStart, run.RunEnd = run.RunStart.UTC(), run.RunEnd.UTC() // in UTC, as a logged time is
	v, err := a.e.exec(ctx, a.e.now(), importLeagueRunOp.cmd(run))
	if err != nil {
		return 0, fmt.Errorf("import a run of league %s: %w", gamifytype.Quote(key), err)
	}
	return v.(int), nil
}

var importLeagueRunOp = newOp("league.import-run", func(t *txn, a LeagueRun) (int, error) {
	return t.importLeagueRun(a)
})

func (t *txn) importLeagueRun(a LeagueRun) (int, error) {
	l, ok := t.w.cat.leagues[a.League]
	if !ok || l.Status == StatusArchived {
		return 0, fmt.Errorf("league %s: %w", gamifytype.Quote(a.League), ErrNotFound)
	}
	b := t.w.cat.boards[l.Board]
	const f = "LeagueRun"
	if b == nil {
		return 0, fmt.Errorf("league %s: board %s: %w", gamifytype.Quote(l.Key), gamifytype.Quote(l.Board), ErrNotFound)
	}
	start, end, ok := b.runAt(a.RunStart)
	switch {
	case !ok || !start.Equal(a.RunStart):
		return 0, gamifytype.Invalid(f+".RunStart", a.RunStart, "must be the start of a run of board "+l.Board)
	case !end.Equal(a.RunEnd):
		return 0, gamifytype.Invalid(f+".RunEnd", a.RunEnd, "must be the end of the run from RunStart")
	case !end.After(t.now):
		// The board ends no run before it was made: nothing would end it.
		return 0, fmt.Errorf("%w: the run of league %s from %v ended at %v", ErrConflict, l.Key, a.RunStart, a.RunEnd)
	}
	switch {
	case a.Size < 2 || a.Size > maxCohortSize:
		return 0, gamifytype.Invalid(f+".Size", a.Size, "must be from 2 to 1000")
	case len(a.Tiers) != len(l.Tiers):
		return 0, gamifytype.Invalid(f+".Tiers", len(a.Tiers), fmt.Sprintf("must hold the league's %d tiers", len(l.Tiers)))
	case a.First != nil && len(a.First) != len(a.Tiers):
		return 0, gamifytype.Invalid(f+".First", len(a.First), "must hold a place per tier, or be empty")
	}
	// Resolve the users first: nothing changes unless every place can be stored.
	uids := make([][]uint32, len(a.Tiers))
	seen := map[uint32]bool{}
	n := 0
	for i, ids := range a.Tiers {
		if a.First != nil && a.First[i] < 0 {
			return 0, gamifytype.Invalid(fmt.Sprintf("%s.First[%d]", f, i), a.First[i], "must be 0 or more")
		}
		n += len(ids)
		if n > maxLeagueImport {
			return 0, gamifytype.Invalid(f+".Tiers", n, fmt.Sprintf("must hold at most %d places a call", maxLeagueImport))
		}
		uids[i] = make([]uint32, len(ids))
		for j, id := range ids {
			if id == "" {
				continue // an erased user's place
			}
			u, err := t.importUser(id)
			if err != nil {
				return 0, err
			}
			uid := uint32(u.p.UID)
			if seen[uid] {
				return 0, gamifytype.Invalid(fmt.Sprintf("%s.Tiers[%d][%d]", f, i, j), id, "is in the run twice")
			}
			seen[uid], uids[i][j] = true, uid
		}
	}
	set := &t.w.eng.leagues
	set.mu.Lock()
	defer set.mu.Unlock()
	rt := set.rt(l.ref)
	run := a.RunStart.UnixNano()
	r, ok := rt.runs[run]
	switch {
	case ok && r.end != nil:
		return 0, fmt.Errorf("%w: the run of league %s from %v has ended", ErrConflict, l.Key, a.RunStart)
	case ok && r.size != a.Size:
		return 0, fmt.Errorf("%w: the run of league %s from %v has cohorts of %d", ErrConflict, l.Key, a.RunStart, r.size)
	}
	// Check every place against the run before storing one.
	for i, us := range uids {
		from := 0
		if a.First != nil {
			from = a.First[i]
		}
		held := 0
		if ok {
			held = len(r.tiers[i])
		}
		if from > held {
			return 0, fmt.Errorf("%w: places of tier %s from %d, after the %d the run holds", ErrConflict, l.Tiers[i], from, held)
		}
		for j, uid := range us {
			p := from + j
			if p < held {
				if r.tiers[i][p] != uid {
					return 0, fmt.Errorf("%w: place %d of tier %s holds another user", ErrConflict, p, l.Tiers[i])
				}
				continue
			}
			if !ok || uid == 0 {
				continue
			}
			if _, in := r.member[uid]; in {
				return 0, fmt.Errorf("%w: %s has another place in the run", ErrConflict, a.Tiers[i][j])
			}
			if r.waits[uid] {
				return 0, fmt.Errorf("%w: %s waits for a place in the run", ErrConflict, a.Tiers[i][j])
			}
		}
	}
	if !ok {
		r = &leagueRun{size: a.Size, member: map[uint32]leagueSlot{}, tiers: make([][]uint32, len(l.Tiers))}
		rt.runs[run] = r
		t.writes = append(t.writes, write{store.Jobs, leagueRunKey(l.Key, run), binary.AppendUvarint(nil, uint64(r.size))})
		t.leagueUndo = append(t.leagueUndo, func() { delete(rt.runs, run) })
	}
	stored := 0
	for i, us := range uids {
		from := 0
		if a.First != nil {
			from = a.First[i]
		}
		for j, uid := range us {
			if from+j < len(r.tiers[i]) {
				continue
			}
			t.leagueSet(l, run, r, i, uid)
			stored++
		}
	}
	return stored, nil
}

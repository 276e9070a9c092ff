package gamify

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
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
// 1000), at most 1000 results a call — and stored as given, without
// notifications. A result to store for a user already in a cohort of the
// league is ErrConflict (import before their events); an unknown league
// or user is ErrNotFound. It returns how many results it stored.
func (a LeaguesAPI) Import(ctx context.Context, key, user string, results []LeagueResult) (int, error) {
	if len(results) > maxLeagueImport {
		return 0, gamifytype.Invalid("results", len(results), fmt.Sprintf("must hold at most %d results", maxLeagueImport))
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

package gamify

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/store"
)

// Check's rules for leagues and reward bundles: what a count or a balance
// of theirs could drift by.

// checkLeagueRecords reports, for each league: a run whose cohort size is
// out of bounds, a user with two places in one run, a rollover under way
// whose cursor is out of range or that left a member in a cohort it has
// rolled over, history records that disagree with their key or with
// themselves, and a stored tier that is not the one the user's newest
// result gave them (or a tier above the first without any result).
func checkLeagueRecords(tx *store.Tx, cat *catalog, by map[uint32]*leagueRT, ids map[uint64]string, report func(string, ...any)) error {
	ls := make([]*League, 0, len(cat.leagues))
	for _, l := range cat.leagues {
		ls = append(ls, l)
	}
	slices.SortFunc(ls, func(x, y *League) int { return cmp.Compare(x.ref, y.ref) })
	for _, l := range ls {
		rt := by[l.ref]
		for _, run := range slices.Sorted(maps.Keys(rt.runs)) {
			checkLeagueRun(l, run, rt.runs[run], report)
		}
		checkLeagueWaits(l, rt, report)
		newest := map[uint32]int{} // uid → the tier their newest result gave them
		p := []byte(defLeague + l.Key + "/h/")
		err := tx.Scan(store.Jobs, p, func(k, v []byte) error {
			rest := k[len(p):]
			if len(rest) != 16 {
				report("league %s: history record %x: bad key", l.Key, k)
				return nil
			}
			uid, run := binary.BigEndian.Uint64(rest), int64(binary.BigEndian.Uint64(rest[8:]))
			var h struct {
				LeagueResult
				TierIx    *int `json:"tierIx"`
				NewTierIx *int `json:"newTierIx"`
			}
			if err := json.NewDecoder(bytes.NewReader(v)).Decode(&h); err != nil {
				report("league %s: history record %x: %v", l.Key, k, err)
				return nil
			}
			what := fmt.Sprintf("league %s: result of uid %d for run %d", l.Key, uid, run)
			id, ok := ids[uid]
			switch {
			case !ok:
				report("%s: the user does not exist", what)
			case h.User != id || h.League != l.Key:
				report("%s: filed as %s's in league %s", what, h.User, h.League)
			}
			if h.RunStart.UnixNano() != run || !h.RunEnd.After(h.RunStart) {
				report("%s: runs from %v to %v", what, h.RunStart, h.RunEnd)
			}
			if h.Cohort < 1 || h.Rank < 1 || h.Rank > h.CohortMembers || h.CohortMembers > maxCohortSize || h.Position < 0 || h.Position > h.CohortMembers {
				report("%s: rank %d of %d in cohort %d", what, h.Rank, h.CohortMembers, h.Cohort)
			}
			if h.TierIx == nil || h.NewTierIx == nil {
				return nil
			}
			from, to := *h.TierIx, *h.NewTierIx
			step := map[LeagueMove]int{LeaguePromoted: 1, LeagueDemoted: -1, LeagueStayed: 0}
			if d, ok := step[h.Move]; !ok || to-from != d || from < 0 || to < 0 || to >= len(l.Tiers) {
				report("%s: %s from tier %d to %d", what, h.Move, from, to)
			}
			newest[uint32(uid)] = to // keys sort by run within a user: the last is the newest
			return nil
		})
		if err != nil {
			return err
		}
		for uid, tier := range rt.tiers {
			if _, ok := newest[uid]; !ok {
				report("league %s: uid %d holds tier %d, which no result gave", l.Key, uid, tier)
			}
		}
		for uid, to := range newest {
			if tier := rt.tiers[uid]; tier != to {
				report("league %s: uid %d holds tier %d, their newest result gave %d", l.Key, uid, tier, to)
			}
		}
	}
	return nil
}

// checkLeagueRun reports what is wrong with one run of a league.
func checkLeagueRun(l *League, run int64, r *leagueRun, report func(string, ...any)) {
	if r.size < 2 || r.size > maxCohortSize {
		report("league %s: run %d: cohort size %d, not 2 to %d", l.Key, run, r.size, maxCohortSize)
		return
	}
	places := map[uint32]int{}
	for _, users := range r.tiers {
		for _, uid := range users {
			if uid != 0 {
				places[uid]++
			}
		}
	}
	for uid, n := range places {
		if n > 1 {
			report("league %s: run %d: uid %d holds %d places", l.Key, run, uid, n)
		}
	}
	e := r.end
	if e == nil {
		return
	}
	if e.end <= run || e.tier > len(r.tiers) {
		report("league %s: run %d: rollover ending at %d at tier %d of %d", l.Key, run, e.end, e.tier, len(r.tiers))
		return
	}
	for tier, users := range r.tiers[:min(e.tier+1, len(r.tiers))] {
		done := len(users)
		if tier == e.tier {
			done = min(done, e.cohort*r.size)
		}
		for pos, uid := range users[:done] {
			if uid != 0 {
				report("league %s: run %d: uid %d left at tier %d place %d, which the rollover has done", l.Key, run, uid, tier, pos)
			}
		}
	}
}

// checkBundles reports what a reward bundle's claim could have given
// without its record, or recorded without giving: an award of a points
// grant ("reward <key>" in the ledger) that no claim of the user made
// before it granted (or larger than the grant), a claim's points grant in
// a system without MaxPoints (where it cannot be capped to nothing) with no
// award, a claim's boost grant with no per-user boost from the claim, and
// a claim's achievement grant the user does not hold.
func checkBundles(tx *store.Tx, cat *catalog, ids map[uint64]string, report func(string, ...any)) error {
	type grant struct {
		claim Claim
		g     PointsGrant
		used  bool
	}
	type userReward struct {
		uid    uint64
		reward string
	}
	claims := map[userReward][]*grant{} // points grants in claim order
	var achs []Claim
	boosts := map[string][]Claim{} // user → claims with boost grants
	err := tx.Scan(store.Claims, nil, func(k, v []byte) error {
		var c Claim
		if len(k) < 12 || json.Unmarshal(v, &c) != nil {
			return nil // reported by Check
		}
		uid := binary.BigEndian.Uint64(k)
		for _, g := range c.Grants.Points {
			ur := userReward{uid, c.Reward}
			claims[ur] = append(claims[ur], &grant{claim: c, g: g})
		}
		if len(c.Grants.Achievements) > 0 {
			achs = append(achs, c)
		}
		if len(c.Grants.Boosts) > 0 {
			boosts[c.User] = append(boosts[c.User], c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, gs := range claims {
		slices.SortFunc(gs, func(a, b *grant) int { return cmp.Compare(a.claim.Seq, b.claim.Seq) })
	}
	systems := map[uint32]*PointsSystem{}
	for _, s := range cat.points.systems {
		systems[s.ref] = s
	}
	err = tx.Scan(store.Ledger, nil, func(k, v []byte) error {
		en, err := ledger.Unmarshal(k, v)
		if err != nil || en.Kind != ledgerAward {
			return nil
		}
		reward, ok := strings.CutPrefix(en.Cause, "reward ")
		sys := systems[en.Ref]
		if !ok || sys == nil {
			return nil
		}
		// The grant's award comes before its claim's record, in one command.
		gs := claims[userReward{en.User, reward}]
		i := slices.IndexFunc(gs, func(g *grant) bool { return g.claim.Seq > en.Seq && !g.used && g.g.System == sys.Key })
		switch {
		case i < 0:
			report("ledger entry %d: %s awarded to uid %d for reward %s, which no claim granted", en.Seq, en.Delta, en.User, reward)
		case gs[i].g.Amount.Less(en.Delta):
			report("ledger entry %d: %s awarded for a grant of %s of reward %s", en.Seq, en.Delta, gs[i].g.Amount, reward)
			gs[i].used = true
		default:
			gs[i].used = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, gs := range claims {
		for _, g := range gs {
			if s, ok := cat.points.systems[g.g.System]; !g.used && ok && s.MaxPoints.Sign() <= 0 {
				report("claim %d of reward %s by %q: its grant of %s %s has no award", g.claim.Seq, g.claim.Reward, g.claim.User, g.g.Amount, g.g.System)
			}
		}
	}
	for user, cs := range boosts {
		var mine []*Boost
		for _, b := range cat.points.boosts {
			if b.Scope == BoostUser && b.User == user && strings.HasPrefix(b.Key, "claim-") {
				mine = append(mine, b)
			}
		}
		used := map[*Boost]bool{}
		for _, c := range cs {
			for _, g := range c.Grants.Boosts {
				i := slices.IndexFunc(mine, func(b *Boost) bool {
					return !used[b] && strings.HasPrefix(b.Key, "claim-"+c.Reward+"-") && b.System == g.System &&
						b.Multiplier == g.Multiplier && b.Start.Equal(c.At) && b.End.Sub(b.Start) == g.Duration
				})
				if i < 0 {
					report("claim %d of reward %s by %q: its boost of %s ×%s has no boost", c.Seq, c.Reward, user, g.System, g.Multiplier)
					continue
				}
				used[mine[i]] = true
			}
		}
	}
	uids := make(map[string]uint64, len(ids))
	for uid, id := range ids {
		uids[id] = uid
	}
	for _, c := range achs {
		v := tx.Get(store.State, uidKey(uids[c.User]))
		var s userState
		if v == nil || s.unmarshal(v) != nil {
			continue // reported by Check
		}
		for _, k := range c.Grants.Achievements {
			if done, ok := s.Ach.Completed(k); !ok || done.At.After(c.At) {
				report("claim %d of reward %s by %q: achievement %s it granted is not held", c.Seq, c.Reward, c.User, k)
			}
		}
	}
	return nil
}

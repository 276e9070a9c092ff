package gamify

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/store"
)

// LeagueStanding is a user's place in a league's current run.
type LeagueStanding struct {
	League           string
	User             string
	Tier             string // the user's tier
	TierIndex        int    // its position in League.Tiers (0 is the first)
	RunStart, RunEnd time.Time
	// Active says the user is in a cohort of the run: they have a counted
	// change on the board in it. The fields below are zero otherwise.
	Active bool
	Cohort int // the cohort's number in its tier, from 1
	Rank   int // the user's rank in the cohort, from 1 (ties share a rank)
	// Position is the user's place in the cohort, from 1, unique (see
	// LeagueMember.Position).
	Position int
	// Move is what the run's end would do to the user's tier at the
	// current scores (see LeagueMember.Move).
	Move    LeagueMove
	Score   Amount         // the user's score on the board
	Members []LeagueMember // the cohort, by Position
}

// LeagueMember is one user of a cohort.
type LeagueMember struct {
	User string
	Rank int // from 1; ties share a rank
	// Position is the place in the cohort, from 1, unique: the board's
	// order, whose tie-break among equal scores the rollover follows.
	Position int
	// Move is what the run's end would do at the current scores, as the
	// league is defined now: the rollover's rule applied to Position
	// (stayed for everyone while the league is inactive).
	Move  LeagueMove
	Score Amount
}

// Standing returns the user's tier and, when they are active in the run at
// the clock's time, their cohort's standings. An unknown or archived
// league, or an unknown user, is ErrNotFound.
func (a LeaguesAPI) Standing(ctx context.Context, key, user string) (LeagueStanding, error) {
	l, b, err := a.e.league(key)
	if err != nil {
		return LeagueStanding{}, err
	}
	p, _, err := a.e.readUser(user, false)
	if err != nil {
		return LeagueStanding{}, err
	}
	uid := uint32(p.UID)
	st := LeagueStanding{League: key, User: user}
	start, end, ok := b.runAt(a.e.now())
	if ok {
		st.RunStart, st.RunEnd = start, end
	}
	brt := a.e.boardRT(b.ref)
	brt.mu.RLock()
	set := &a.e.leagues
	set.mu.RLock()
	var cohort []cohortEntry
	size := 0
	if rt, ok := set.by[l.ref]; ok {
		st.TierIndex = rt.tierOf(uid, len(l.Tiers)-1) // the next tier already while a rollover is under way
		if r, ok := rt.runs[start.UnixNano()]; ok {
			if slot, in := r.member[uid]; in {
				c := slot.pos / r.size
				users := r.tiers[slot.tier]
				if run, ok := brt.runs[start.UnixNano()]; ok && run.groups[""] != nil {
					cohort = cohortStandings(users[c*r.size:min(len(users), (c+1)*r.size)], run.groups[""], b.ties)
				}
				st.Active, st.Cohort, st.TierIndex, size = true, c+1, slot.tier, r.size
			}
		}
	}
	set.mu.RUnlock()
	brt.mu.RUnlock()
	st.Tier = l.Tiers[st.TierIndex]
	if !st.Active {
		return st, nil
	}
	up, down := cohortCut(len(cohort), size, st.TierIndex, len(l.Tiers)-1, l.Promote, l.Demote)
	if l.Status != StatusActive {
		up, down = 0, len(cohort) // an inactive league's run ends without results
	}
	err = a.e.db.View(func(tx *store.Tx) error {
		rank := 0
		for i, ce := range cohort {
			if i == 0 || ce.rank != cohort[i-1].rank {
				rank = i + 1
			}
			m := LeagueMember{User: string(tx.Get(store.UserIDs, uidKey(uint64(ce.uid)))), Rank: rank, Position: i + 1, Score: AmountFromMicros(ce.score)}
			_, m.Move = cohortMoveAt(i, up, down, st.TierIndex)
			if ce.uid == uid {
				st.Rank, st.Position, st.Move, st.Score = rank, m.Position, m.Move, m.Score
			}
			st.Members = append(st.Members, m)
		}
		return nil
	})
	return st, err
}

// maxLeagueHistory bounds a page of league history.
const maxLeagueHistory = 100

// History returns the user's results of past runs of a league, newest
// first, at most limit (1 to 100; 0 means 10). An unknown or archived
// league, or an unknown user, is ErrNotFound.
func (a LeaguesAPI) History(ctx context.Context, key, user string, limit int) ([]LeagueResult, error) {
	return a.history(key, user, time.Time{}, limit)
}

// HistoryBefore is History of the runs that started before before (zero:
// History): the next page of a History (or HistoryBefore) page is the one
// before its last result's RunStart.
func (a LeaguesAPI) HistoryBefore(ctx context.Context, key, user string, before time.Time, limit int) ([]LeagueResult, error) {
	return a.history(key, user, before, limit)
}

// history reads a page of a user's results, newest first, of runs that
// started before before (zero: all).
func (a LeaguesAPI) history(key, user string, before time.Time, limit int) ([]LeagueResult, error) {
	if limit == 0 {
		limit = 10
	}
	if limit < 1 || limit > maxLeagueHistory {
		return nil, gamifytype.Invalid("limit", limit, "must be between 1 and 100")
	}
	if err := checkTimes("", namedTime{"before", before}); err != nil {
		return nil, err
	}
	l, _, err := a.e.league(key)
	if err != nil {
		return nil, err
	}
	p, _, err := a.e.readUser(user, false)
	if err != nil {
		return nil, err
	}
	out := []LeagueResult{}
	err = a.e.db.View(func(tx *store.Tx) error {
		return tx.ScanReverse(store.Jobs, leagueHistoryPrefix(l.Key, uint32(p.UID)), func(k, v []byte) error {
			if len(k) >= 8 && !before.IsZero() && int64(binary.BigEndian.Uint64(k[len(k)-8:])) >= before.UnixNano() {
				return nil
			}
			r, err := decodeLeagueResult(v)
			if err != nil {
				return fmt.Errorf("%w: league %s: history record %x: %w", ErrCorrupt, l.Key, k, err)
			}
			out = append(out, r)
			if len(out) == limit {
				return store.ErrStop
			}
			return nil
		})
	})
	return slices.Clip(out), err
}

// league resolves a league that is not archived and its board.
func (e *Engine) league(key string) (*League, *Leaderboard, error) {
	if err := e.live(); err != nil {
		return nil, nil, err
	}
	cat := e.cat.Load()
	l, ok := cat.leagues[key]
	if !ok || l.Status == StatusArchived {
		return nil, nil, fmt.Errorf("league %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	b, ok := cat.boards[l.Board]
	if !ok {
		return nil, nil, fmt.Errorf("league %s: board %s: %w", gamifytype.Quote(key), gamifytype.Quote(l.Board), ErrNotFound)
	}
	return l, b, nil
}

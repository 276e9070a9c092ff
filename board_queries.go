package gamify

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/store"
)

// BoardRow is one user's standing.
type BoardRow struct {
	Rank     int
	User     string
	Score    Amount
	Subscore Amount
}

// BoardPage is a page of a run's standings.
type BoardPage struct {
	Board        string
	Group        string
	RunStart     time.Time
	RunEnd       time.Time // zero when open-ended
	Finished     bool      // the run is over; its standings are frozen
	Participants int       // in the group
	// Threshold is the score to beat to enter a full board (MaxParticipants).
	Threshold Amount
	Rows      []BoardRow
}

// BoardQuery selects standings.
type BoardQuery struct {
	// At picks the run containing this instant; zero means now.
	At time.Time
	// Group is the breakdown group of a board with a breakdown, Trophy's
	// way: "attr:value" for each breakdown attribute, comma-separated, in
	// any order ("country:DE,plan:pro"). A board without a breakdown takes
	// "". A malformed or unknown group is a ValidationError.
	Group string
	// Offset and Limit (1–100, default 10) page the standings. With User
	// set, Offset is relative to that user's position and may be negative.
	Offset, Limit int
	User          string
}

// maxBoardLimit bounds a page of standings.
const maxBoardLimit = 100

// boardRun resolves a board and the run containing at.
func (e *Engine) boardRun(key string, at time.Time) (*Leaderboard, time.Time, time.Time, error) {
	if err := e.live(); err != nil {
		return nil, time.Time{}, time.Time{}, err
	}
	b, ok := e.cat.Load().boards[key]
	if !ok || b.Status == StatusArchived {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("leaderboard %s: %w", key, ErrNotFound)
	}
	if at.IsZero() {
		at = e.now()
	}
	start, end, ok := b.runAt(at)
	if !ok {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("leaderboard %s has no run at %v: %w", key, at, ErrNotFound)
	}
	return b, start, end, nil
}

// Rankings returns a page of the standings of a run.
func (a LeaderboardsAPI) Rankings(ctx context.Context, key string, q BoardQuery) (BoardPage, error) {
	limit := q.Limit
	if limit == 0 {
		limit = 10
	}
	if limit < 1 || limit > maxBoardLimit {
		return BoardPage{}, gamifytype.Invalid("BoardQuery.Limit", q.Limit, "must be between 1 and 100")
	}
	if q.User == "" && q.Offset < 0 {
		return BoardPage{}, gamifytype.Invalid("BoardQuery.Offset", q.Offset, "must not be negative without User")
	}
	b, start, end, err := a.e.boardRun(key, q.At)
	if err != nil {
		return BoardPage{}, err
	}
	page := BoardPage{Board: key, Group: q.Group, RunStart: start, RunEnd: end}
	if q.Group, err = b.internalGroup("BoardQuery.Group", q.Group); err != nil {
		return BoardPage{}, err
	}
	var rows []leaderboard.Standing
	rt := a.e.boardRT(b.ref)
	rt.mu.RLock()
	finished := !end.IsZero() && end.UnixNano() <= rt.finishedTo
	if !finished {
		if run, ok := rt.runs[start.UnixNano()]; ok {
			if x, ok := run.groups[q.Group]; ok {
				offset := q.Offset
				if q.User != "" {
					pos, err := a.e.position(x, q.User)
					if err != nil {
						rt.mu.RUnlock()
						return BoardPage{}, err
					}
					offset += pos
				}
				rows = x.Range(max(offset, 0), limit, b.ties, nil)
				page.Participants = x.Len()
				if b.MaxParticipants > 0 && x.Len() >= b.MaxParticipants {
					w, _ := x.Worst()
					page.Threshold = AmountFromMicros(w.Score)
				}
			}
		}
	}
	rt.mu.RUnlock()
	if finished {
		page.Finished = true
		return page, a.e.frozenPage(b, start, q, limit, &page)
	}
	page.Rows, err = a.e.rows(rows)
	return page, err
}

// position returns a user's 0-based position in x (read lock held).
func (e *Engine) position(x *leaderboard.Index, user string) (int, error) {
	p, _, err := e.readUser(user, false)
	if err != nil {
		return 0, err
	}
	pos, ok := x.Position(uint32(p.UID))
	if !ok {
		return 0, fmt.Errorf("user %q is not on this board: %w", user, ErrNotFound)
	}
	return pos, nil
}

// rows resolves internal ids to user ids.
func (e *Engine) rows(ss []leaderboard.Standing) ([]BoardRow, error) {
	out := make([]BoardRow, 0, len(ss))
	err := e.db.View(func(tx *store.Tx) error {
		for _, s := range ss {
			id := tx.Get(store.UserIDs, uidKey(uint64(s.User)))
			out = append(out, BoardRow{Rank: s.Rank, User: string(id), Score: AmountFromMicros(s.Score), Subscore: AmountFromMicros(s.Sub)})
		}
		return nil
	})
	return out, err
}

// frozenPage reads a finished run's standings from the store.
func (e *Engine) frozenPage(b *Leaderboard, start time.Time, q BoardQuery, limit int, page *BoardPage) error {
	return e.db.View(func(tx *store.Tx) error {
		if v := tx.Get(store.Runs, runSummaryKey(b.ref, start.UnixNano())); v != nil {
			d := decoder{b: v}
			d.varint()
			page.Participants = int(d.uvarint()) // all groups
		}
		prefix := append(append(append(runPrefix(b.ref, start.UnixNano()), 0), q.Group...), 0)
		offset := q.Offset
		if q.User != "" {
			p, _, err := e.readUser(q.User, false)
			if err != nil {
				return err
			}
			pos := -1
			_ = tx.Scan(store.Runs, prefix, func(k, v []byte) error {
				d := decoder{b: v}
				if d.uvarint() == p.UID {
					pos = int(binary.BigEndian.Uint32(k[len(k)-4:]))
					return store.ErrStop
				}
				return nil
			})
			if pos < 0 {
				return fmt.Errorf("user %q is not on this board: %w", q.User, ErrNotFound)
			}
			offset += pos
		}
		from := append(bytes.Clone(prefix), binary.BigEndian.AppendUint32(nil, uint32(max(offset, 0)))...)
		return tx.Scan(store.Runs, prefix, func(k, v []byte) error {
			if bytes.Compare(k, from) < 0 {
				return nil
			}
			if len(page.Rows) >= limit {
				return store.ErrStop
			}
			d := decoder{b: v}
			uid, score, sub, rank := d.uvarint(), d.varint(), d.varint(), d.uvarint()
			id := tx.Get(store.UserIDs, uidKey(uid))
			page.Rows = append(page.Rows, BoardRow{Rank: int(rank), User: string(id), Score: AmountFromMicros(score), Subscore: AmountFromMicros(sub)})
			return nil
		})
	})
}

// Around returns the user's standing with up to above entries before it and
// below after it, in the user's breakdown group of the current run.
func (a LeaderboardsAPI) Around(ctx context.Context, key, user string, above, below int) (BoardPage, error) {
	if above < 0 || below < 0 || above+below+1 > maxBoardLimit {
		return BoardPage{}, gamifytype.Invalid("Around", [2]int{above, below}, "above and below must be non-negative and list at most 100 entries")
	}
	ur, err := a.UserRank(ctx, key, user)
	if err != nil {
		return BoardPage{}, err
	}
	offset := -min(above, ur.Position)
	return a.Rankings(ctx, key, BoardQuery{Group: ur.Group, User: user, Offset: offset, Limit: -offset + 1 + below})
}

// UserRank is a user's standing in a run of a board.
type UserRank struct {
	Board        string
	Group        string
	Rank         int
	Position     int // 0-based listing position
	Score        Amount
	Subscore     Amount
	Percentile   float64 // share of participants ranked strictly below, in percent
	Participants int
}

// UserRank returns a user's standing in the current run; ErrNotFound when the
// user is not on the board.
func (a LeaderboardsAPI) UserRank(ctx context.Context, key, user string) (UserRank, error) {
	return a.UserRankAt(ctx, key, user, time.Time{})
}

// UserRankAt returns a user's standing in the run containing at (zero means
// now): live while the run is unfinished, from its frozen standings once it
// is finished. ErrNotFound when the board has no run at that time or the
// user is not on it.
func (a LeaderboardsAPI) UserRankAt(ctx context.Context, key, user string, at time.Time) (UserRank, error) {
	b, start, end, err := a.e.boardRun(key, at)
	if err != nil {
		return UserRank{}, err
	}
	p, s, err := a.e.readUser(user, true)
	if err != nil {
		return UserRank{}, err
	}
	rt := a.e.boardRT(b.ref)
	rt.mu.RLock()
	if !end.IsZero() && end.UnixNano() <= rt.finishedTo {
		rt.mu.RUnlock()
		return a.e.frozenRank(b, start, p)
	}
	defer rt.mu.RUnlock()
	group := b.group(p)
	if i, ok := s.board(b.ref, start.UnixNano()); ok {
		group = s.Boards[i].Group
	}
	run, ok := rt.runs[start.UnixNano()]
	if !ok {
		return UserRank{}, fmt.Errorf("user %q is not on leaderboard %s: %w", user, key, ErrNotFound)
	}
	x, ok := run.groups[group]
	uid := uint32(p.UID)
	var en leaderboard.Entry
	if ok {
		en, ok = x.Get(uid)
	}
	if !ok {
		return UserRank{}, fmt.Errorf("user %q is not on leaderboard %s: %w", user, key, ErrNotFound)
	}
	r := UserRank{Board: key, Group: publicGroup(group), Score: AmountFromMicros(en.Score), Subscore: AmountFromMicros(en.Sub), Participants: x.Len()}
	r.Rank, _ = x.Rank(uid, b.ties)
	r.Position, _ = x.Position(uid)
	r.Percentile, _ = x.Percentile(uid)
	return r, nil
}

// frozenRank reads a user's standing in a finished run from its frozen
// rows: the user's row in any group, then that group's rows for the count
// and the entries with a strictly worse (score, subscore).
func (e *Engine) frozenRank(b *Leaderboard, start time.Time, p *profile) (UserRank, error) {
	prefix := append(runPrefix(b.ref, start.UnixNano()), 0)
	r := UserRank{Board: b.Key}
	found := false
	var score, sub int64
	err := e.db.View(func(tx *store.Tx) error {
		err := tx.Scan(store.Runs, prefix, func(k, v []byte) error {
			d := decoder{b: v}
			if d.uvarint() != p.UID {
				return nil
			}
			score, sub = d.varint(), d.varint()
			r.Rank = int(d.uvarint())
			r.Group = string(k[len(prefix) : len(k)-5]) // group | 0 | position
			r.Position = int(binary.BigEndian.Uint32(k[len(k)-4:]))
			found = true
			return store.ErrStop
		})
		if err != nil || !found {
			return err
		}
		below := 0
		defer func() { r.Group = publicGroup(r.Group) }()
		err = tx.Scan(store.Runs, append(append(prefix, r.Group...), 0), func(k, v []byte) error {
			d := decoder{b: v}
			d.uvarint()
			s, u := d.varint(), d.varint()
			if int(binary.BigEndian.Uint32(k[len(k)-4:])) > r.Position && (s != score || u != sub) {
				below++
			}
			r.Participants++
			return nil
		})
		if r.Participants > 0 {
			r.Percentile = 100 * float64(below) / float64(r.Participants)
		}
		return err
	})
	if err != nil {
		return UserRank{}, err
	}
	if !found {
		return UserRank{}, fmt.Errorf("user %q is not on leaderboard %s: %w", p.ID, b.Key, ErrNotFound)
	}
	r.Score, r.Subscore = AmountFromMicros(score), AmountFromMicros(sub)
	return r, nil
}

// Ranks returns the standings of up to 100 users (friends), best first;
// users not on the board are left out.
func (a LeaderboardsAPI) Ranks(ctx context.Context, key string, users []string) ([]BoardRow, error) {
	if err := checkBulk("Users", len(users)); err != nil {
		return nil, err
	}
	var out []BoardRow
	for _, u := range users {
		r, err := a.UserRank(ctx, key, u)
		if err != nil {
			if isNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, BoardRow{Rank: r.Rank, User: u, Score: r.Score, Subscore: r.Subscore})
	}
	sortRows(out)
	return out, nil
}

// BoardRun is a finished run of a board.
type BoardRun struct {
	Start, End   time.Time
	Participants int
}

// Runs returns the finished runs of a board, latest first (at most limit,
// 1–100).
func (a LeaderboardsAPI) Runs(ctx context.Context, key string, limit int) ([]BoardRun, error) {
	if limit < 1 || limit > maxBoardLimit {
		return nil, gamifytype.Invalid("Limit", limit, "must be between 1 and 100")
	}
	if err := a.e.live(); err != nil {
		return nil, err
	}
	b, ok := a.e.cat.Load().boards[key]
	if !ok {
		return nil, fmt.Errorf("leaderboard %s: %w", key, ErrNotFound)
	}
	var out []BoardRun
	err := a.e.db.View(func(tx *store.Tx) error {
		return tx.ScanReverse(store.Runs, binary.BigEndian.AppendUint32(nil, b.ref), func(k, v []byte) error {
			if len(k) != 13 || k[12] != 1 {
				return nil
			}
			d := decoder{b: v}
			end, n := d.varint(), d.uvarint()
			out = append(out, BoardRun{Start: time.Unix(0, int64(binary.BigEndian.Uint64(k[4:12]))).In(b.loc),
				End: time.Unix(0, end).In(b.loc), Participants: int(n)})
			if len(out) >= limit {
				return store.ErrStop
			}
			return nil
		})
	})
	return out, err
}

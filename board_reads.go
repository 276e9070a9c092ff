package gamify

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/leaderboard"
	"github.com/gamifykit/gamify/store"
)

// maxBoardLimit bounds a page of standings.
const maxBoardLimit = 100

// boardRun resolves a board and the run containing at.
func (e *Engine) boardRun(key string, at time.Time) (*Leaderboard, time.Time, time.Time, error) {
	if err := e.live(); err != nil {
		return nil, time.Time{}, time.Time{}, err
	}
	b, ok := e.cat.Load().boards[key]
	if !ok || b.Status == StatusArchived {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("leaderboard %s: %w", gamifytype.Quote(key), ErrNotFound)
	}
	asked := !at.IsZero()
	if !asked {
		at = e.now()
	}
	start, end, ok := b.runAt(at)
	if !ok && !asked {
		// Now is past the board's end (finished, or its End passed): its
		// last run, whose standings stay queryable.
		if last := b.endTime(); !last.IsZero() && !at.Before(last) {
			start, end, ok = b.runAt(last.Add(-time.Nanosecond))
		}
	}
	if !ok {
		return nil, time.Time{}, time.Time{}, fmt.Errorf("leaderboard %s has no run at %s: %w", gamifytype.Quote(key), at.UTC().Format(time.RFC3339Nano), ErrNotFound)
	}
	return b, start, end, nil
}

// hasBoard says a board with key exists and is not archived.
func (e *Engine) hasBoard(key string) bool {
	b, ok := e.cat.Load().boards[key]
	return ok && b.Status != StatusArchived
}

// position returns a user's 0-based position in x (read lock held).
func (e *Engine) position(x *leaderboard.Index, user string) (int, error) {
	p, _, err := e.readUser(user, false)
	if err != nil {
		return 0, err
	}
	pos, ok := x.Position(uint32(p.UID))
	if !ok {
		return 0, fmt.Errorf("user %q is not on this board: %w", gamifytype.Quote(user), ErrNotFound)
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
		return UserRank{}, fmt.Errorf("user %q is not on leaderboard %s: %w", gamifytype.Quote(p.ID), b.Key, ErrNotFound)
	}
	r.Score, r.Subscore = AmountFromMicros(score), AmountFromMicros(sub)
	return r, nil
}

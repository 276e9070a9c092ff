package gamify

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
)

// Reads and the remaining administration of points.

// UserBoosts returns the boosts of a system that apply to a user now (active,
// in their window, in the user's scope), as Boosts().Get shows them.
func (a PointsAPI) UserBoosts(ctx context.Context, system, user string) ([]Boost, error) {
	p, _, err := a.e.readUser(user, false)
	if err != nil {
		return nil, err
	}
	var all []points.Boost
	byKey := map[string]*Boost{}
	for _, b := range sortedValues(a.e.cat.Load().points.boosts) {
		if b.Status == StatusActive {
			all = append(all, b.domain())
			byKey[b.Key] = b
		}
	}
	u := points.User{ID: p.ID, Attrs: p.Attributes, Loc: a.e.location(p)}
	now := a.e.now()
	out := []Boost{}
	for _, b := range points.EligibleBoosts(all, system, u, now) {
		out = append(out, byKey[b.Key].shown(now, a.e.opts.DefaultTimezone))
	}
	return out, nil
}

// PinLevel fixes a user's level in a system until UnpinLevel.
func (a PointsAPI) PinLevel(ctx context.Context, system, user, level string) (UserPoints, error) {
	return a.levelOp(ctx, system, user, func(levels []points.Level, s points.State) (points.State, points.Effects, error) {
		return points.PinLevel(levels, s, level)
	})
}

// UnpinLevel lets a user's level follow their total again.
func (a PointsAPI) UnpinLevel(ctx context.Context, system, user string) (UserPoints, error) {
	return a.levelOp(ctx, system, user, func(levels []points.Level, s points.State) (points.State, points.Effects, error) {
		st, fx := points.UnpinLevel(levels, s)
		return st, fx, nil
	})
}

func (a PointsAPI) levelOp(ctx context.Context, system, user string, f func([]points.Level, points.State) (points.State, points.Effects, error)) (UserPoints, error) {
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		sys, ok := t.w.cat.points.systems[system]
		if !ok || sys.Status != StatusActive {
			return nil, fmt.Errorf("points system %s: %w", system, ErrNotFound)
		}
		u, err := t.user(user, false)
		if err != nil || u == nil {
			return nil, cmpErr(err, fmt.Errorf("user %q: %w", user, ErrNotFound))
		}
		i, had := u.s.pointsOf(sys.ref)
		var st points.State
		if had {
			st = u.s.Points[i].St
		}
		ns, fx, err := f(t.w.cat.points.ladders[system], st)
		if err != nil {
			return nil, err
		}
		if !had {
			u.s.Points = slices.Insert(u.s.Points, i, userPoints{Ref: sys.ref})
		}
		u.s.Points[i].St = ns
		if fx.Changed() {
			if err := t.recordPoints(u, sys, fx, ""); err != nil {
				return nil, err
			}
		}
		return pointsOf(t.w.cat, sys, u), nil
	})
	if err != nil {
		return UserPoints{}, fmt.Errorf("level of %q in %s: %w", user, system, err)
	}
	return v.(UserPoints), nil
}

// Awards returns a page of a user's awards in a system, latest first: up to
// limit (1–100) awards after skipping offset. Each carries its id (the
// ledger sequence), time, trigger, boosts and total after. The latest 32
// come from the user's index; older pages scan the award log backwards.
func (a UsersAPI) Awards(ctx context.Context, id, system string, offset, limit int) ([]Award, error) {
	if limit < 1 || limit > 100 {
		return nil, gamifytype.Invalid("Limit", limit, "must be between 1 and 100")
	}
	if offset < 0 {
		return nil, gamifytype.Invalid("Offset", offset, "must not be negative")
	}
	want := offset + limit
	sys, ok := a.e.cat.Load().points.systems[system]
	if !ok {
		return nil, fmt.Errorf("points system %s: %w", system, ErrNotFound)
	}
	p, s, err := a.e.readUser(id, true)
	if err != nil {
		return nil, err
	}
	var recent []uint64
	if i, ok := s.pointsOf(sys.ref); ok {
		recent = s.Points[i].Recent
	}
	var out []Award
	err = a.e.db.View(func(tx *store.Tx) error {
		decode := func(v []byte) (awardRecord, error) {
			var r awardRecord
			return r, r.unmarshal(v)
		}
		for i := len(recent) - 1; i >= 0 && len(out) < want; i-- {
			r, err := decode(tx.Get(store.Awards, binary.BigEndian.AppendUint64(nil, recent[i])))
			if err != nil {
				return err
			}
			out = append(out, awardOf(recent[i], time.Unix(0, r.At).UTC(), r.Award))
		}
		if len(out) >= want || len(recent) < recentAwards {
			return nil // the index holds every award the user has
		}
		from := recent[0]
		return tx.ScanReverse(store.Awards, nil, func(k, v []byte) error {
			if binary.BigEndian.Uint64(k) >= from {
				return nil
			}
			r, err := decode(v)
			if err != nil {
				return err
			}
			if r.User == p.UID && r.Ref == sys.ref {
				out = append(out, awardOf(binary.BigEndian.Uint64(k), time.Unix(0, r.At).UTC(), r.Award))
				if len(out) >= want {
					return store.ErrStop
				}
			}
			return nil
		})
	})
	if err != nil || offset >= len(out) {
		return []Award{}, err
	}
	return out[offset:], nil
}

// Histogram counts the users of a system in 11 ranges of total: [0,0], then
// ten equal ranges up to the top total rounded up to a power of ten
// (negative totals count in the first). With attrs, only users whose
// attributes match every pair count. It reads every user.
func (a PointsAPI) Histogram(ctx context.Context, system string, attrs map[string]string) ([]PointsBucket, error) {
	var totals []Amount
	err := a.eachState(system, attrs, func(st points.State) { totals = append(totals, st.Total()) })
	if err != nil {
		return nil, err
	}
	out := []PointsBucket{}
	for _, b := range points.Histogram(totals) {
		out = append(out, PointsBucket{From: b.From, To: b.To, Users: b.Users})
	}
	return out, nil
}

// PointsBucket is one range of totals of a Histogram: (From, To], except
// the first, [0, 0].
type PointsBucket struct {
	From, To Amount
	Users    int
}

// LevelCount is how many users are at a level ("" is below every level).
type LevelCount struct {
	Level string
	Users int
}

// UsersPerLevel counts the users of a system at each level ("" is below every
// level). It reads every user.
func (a PointsAPI) UsersPerLevel(ctx context.Context, system string) ([]LevelCount, error) {
	var states []points.State
	if err := a.eachState(system, nil, func(st points.State) { states = append(states, st) }); err != nil {
		return nil, err
	}
	out := []LevelCount{}
	for _, c := range points.UsersPerLevel(a.e.cat.Load().points.ladders[system], iter.Seq[points.State](slices.Values(states))) {
		out = append(out, LevelCount{Level: c.Level, Users: c.Users})
	}
	return out, nil
}

// eachState calls fn with every user's state in a system (zero for users
// without one), filtered by user attributes.
func (a PointsAPI) eachState(system string, attrs map[string]string, fn func(points.State)) error {
	if err := a.e.live(); err != nil {
		return err
	}
	sys, ok := a.e.cat.Load().points.systems[system]
	if !ok {
		return fmt.Errorf("points system %s: %w", system, ErrNotFound)
	}
	return a.e.db.View(func(tx *store.Tx) error {
		return scanUsers(tx, func(p *profile, s *userState) error {
			for k, want := range attrs {
				if p.Attributes[k] != want {
					return nil
				}
			}
			var st points.State
			if i, ok := s.pointsOf(sys.ref); ok {
				st = s.Points[i].St
			}
			fn(st)
			return nil
		})
	})
}

// bulkSet applies set to each item, one commit each, reporting failures per
// item (rewards' BulkCreate uses it).
func bulkSet[T any](ctx context.Context, field string, items []T, key func(T) string, set func(context.Context, T) (T, error)) ([]T, []Issue, error) {
	if err := checkBulk(field, len(items)); err != nil {
		return nil, nil, err
	}
	var out []T
	var issues []Issue
	for i, it := range items {
		v, err := set(ctx, it)
		if errors.Is(err, ErrClosed) {
			return out, issues, err
		}
		if err != nil {
			issues = append(issues, Issue{Index: i, Key: key(it), Severity: SeverityError, Message: err.Error(), Err: err})
			continue
		}
		out = append(out, v)
	}
	return out, issues, nil
}

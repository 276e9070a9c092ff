package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
)

// Points vocabulary, from the pure points package.
type (
	// PointsDefinition is a points system's definition (key, name, cap).
	PointsDefinition = points.System
	// Trigger awards points when its condition is met.
	Trigger = points.Trigger
	// Boost multiplies positive awards for a scope and a window.
	Boost = points.Boost
	// Level is a tier of a points system.
	Level = points.Level
	// Award is one award of points.
	Award = points.AwardRecord
	// LevelChange is a promotion or demotion.
	LevelChange = points.LevelChange
)

// PointsSystem is a points system as stored.
type PointsSystem struct {
	PointsDefinition
	Status  Status
	Created time.Time
	Updated time.Time

	ref uint32
}

type storedSystem struct {
	PointsSystem
	Ref uint32 `json:"ref"`
}

// pointsDefs is the points part of the catalogue.
type pointsDefs struct {
	systems       map[string]*PointsSystem
	systemByRef   map[uint32]*PointsSystem
	lastSystemRef uint32
	triggers      map[string]*points.Trigger // archived triggers are removed
	boosts        map[string]*points.Boost
	levels        map[string][]points.Level // by system key
	rules         map[string]*points.Rules  // derived: by active system key
	hasTime       bool                      // derived: an active time trigger exists
}

func (p *pointsDefs) clone() pointsDefs {
	return pointsDefs{
		systems: cloneMap(p.systems), systemByRef: cloneMap(p.systemByRef), lastSystemRef: p.lastSystemRef,
		triggers: cloneMap(p.triggers), boosts: cloneMap(p.boosts), levels: cloneMap(p.levels), rules: p.rules,
		hasTime: p.hasTime,
	}
}

func (p *pointsDefs) init() {
	if p.systems == nil {
		p.systems, p.systemByRef = map[string]*PointsSystem{}, map[uint32]*PointsSystem{}
		p.triggers, p.boosts, p.levels = map[string]*points.Trigger{}, map[string]*points.Boost{}, map[string][]points.Level{}
	}
}

// index rebuilds the rules of every active system.
func (p *pointsDefs) index() {
	p.rules = map[string]*points.Rules{}
	for key, s := range p.systems {
		if s.Status == StatusActive {
			p.rules[key] = &points.Rules{System: s.PointsDefinition, Levels: p.levels[key]}
		}
	}
	p.hasTime = false
	for _, t := range sortedValues(p.triggers) {
		p.hasTime = p.hasTime || (t.Kind == points.KindTime && t.Active)
		if r, ok := p.rules[t.System]; ok {
			r.Triggers = append(r.Triggers, *t)
		}
	}
	for _, b := range sortedValues(p.boosts) {
		if r, ok := p.rules[b.System]; ok {
			r.Boosts = append(r.Boosts, *b)
		}
	}
}

func sortedValues[V any](m map[string]*V) []*V {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // triggers apply in key order, so blocking is deterministic
	out := make([]*V, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

const (
	defSystem  = "points-system/"
	defTrigger = "points-trigger/"
	defBoost   = "points-boost/"
	defLevels  = "points-levels/"
)

func (p *pointsDefs) load(key string, v []byte) error {
	p.init()
	var err error
	switch {
	case len(key) > len(defSystem) && key[:len(defSystem)] == defSystem:
		var s storedSystem
		if err = json.Unmarshal(v, &s); err == nil {
			ps := s.PointsSystem
			ps.ref = s.Ref
			p.systems[ps.Key], p.systemByRef[ps.ref] = &ps, &ps
			p.lastSystemRef = max(p.lastSystemRef, ps.ref)
		}
	case len(key) > len(defTrigger) && key[:len(defTrigger)] == defTrigger:
		var t points.Trigger
		if err = json.Unmarshal(v, &t); err == nil {
			p.triggers[t.Key] = &t
		}
	case len(key) > len(defBoost) && key[:len(defBoost)] == defBoost:
		var b points.Boost
		if err = json.Unmarshal(v, &b); err == nil {
			p.boosts[b.Key] = &b
		}
	case len(key) > len(defLevels) && key[:len(defLevels)] == defLevels:
		var ls []points.Level
		if err = json.Unmarshal(v, &ls); err == nil {
			p.levels[key[len(defLevels):]] = ls
		}
	}
	if err != nil {
		return fmt.Errorf("gamify: corrupt definition %s: %w", key, err)
	}
	return nil
}

func (t *txn) putPointsDef(key string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // validated definitions always encode
	}
	t.writes = append(t.writes, write{store.Definitions, []byte(key), b})
	t.catalogForWrite().points.index()
}

// PointsAPI administers points systems, triggers, boosts and levels, and
// awards and spends points. Get it from Engine.Points.
type PointsAPI struct{ e *Engine }

// Points returns the points API.
func (e *Engine) Points() PointsAPI { return PointsAPI{e} }

// CreateSystem defines a points system.
func (a PointsAPI) CreateSystem(ctx context.Context, d PointsDefinition) (PointsSystem, error) {
	if err := d.Validate(); err != nil {
		return PointsSystem{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		p := &t.catalogForWrite().points
		if _, ok := p.systems[d.Key]; ok {
			return nil, fmt.Errorf("%w: points system %s exists", ErrConflict, d.Key)
		}
		p.lastSystemRef++
		s := &PointsSystem{PointsDefinition: d, Status: StatusActive, Created: stamp(t.now), Updated: stamp(t.now), ref: p.lastSystemRef}
		p.systems[d.Key], p.systemByRef[s.ref] = s, s
		t.putPointsDef(defSystem+d.Key, storedSystem{PointsSystem: *s, Ref: s.ref})
		return *s, nil
	})
	if err != nil {
		return PointsSystem{}, fmt.Errorf("create points system %s: %w", d.Key, err)
	}
	return v.(PointsSystem), nil
}

// GetSystem returns a points system, or ErrNotFound.
func (a PointsAPI) GetSystem(ctx context.Context, key string) (PointsSystem, error) {
	return getDef(a.e, "points system", key, func(c *catalog) map[string]*PointsSystem { return c.points.systems })
}

// ListSystems returns points systems in creation order.
func (a PointsAPI) ListSystems(ctx context.Context, opts ListOptions) ([]PointsSystem, error) {
	return listDefs(a.e, opts, func(c *catalog) map[string]*PointsSystem { return c.points.systems },
		func(s *PointsSystem) bool { return s.Status == StatusActive || opts.IncludeArchived },
		func(x, y *PointsSystem) int { return cmp.Compare(x.ref, y.ref) })
}

// DeleteSystem archives a points system: it stops awarding; balances and
// the ledger are kept.
func (a PointsAPI) DeleteSystem(ctx context.Context, key string) error {
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		p := &t.catalogForWrite().points
		old, ok := p.systems[key]
		if !ok || old.Status != StatusActive {
			return nil, ErrNotFound
		}
		s := *old
		s.Status, s.Updated = StatusArchived, stamp(t.now)
		p.systems[key], p.systemByRef[s.ref] = &s, &s
		t.putPointsDef(defSystem+key, storedSystem{PointsSystem: s, Ref: s.ref})
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("delete points system %s: %w", key, err)
	}
	return nil
}

// SetTrigger creates or replaces a trigger of an active system. A time
// trigger pays from its creation on (Since defaults to now); setting one
// queues every user, which reads the whole store.
func (a PointsAPI) SetTrigger(ctx context.Context, tr Trigger) (Trigger, error) {
	if err := tr.Validate(); err != nil {
		return Trigger{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		if tr.Kind == points.KindTime && tr.Since.IsZero() {
			tr.Since = t.now // fires before the trigger existed are not paid
		}
		cat := t.catalogForWrite()
		if s, ok := cat.points.systems[tr.System]; !ok || s.Status != StatusActive {
			return nil, gamifytype.Invalid("Trigger.System", tr.System, "is not an active points system")
		}
		switch tr.Kind {
		case points.KindMetric:
			if m, ok := cat.metrics[tr.Metric]; !ok || m.Status != StatusActive {
				return nil, gamifytype.Invalid("Trigger.Metric", tr.Metric, "is not an active metric")
			}
		case points.KindAchievement:
			if _, ok := cat.achievements[tr.Achievement]; !ok {
				return nil, gamifytype.Invalid("Trigger.Achievement", tr.Achievement, "is not an achievement")
			}
		case points.KindStreak:
			if _, ok := cat.streaks[tr.Streak]; !ok {
				return nil, gamifytype.Invalid("Trigger.Streak", tr.Streak, "is not a streak")
			}
		}
		c := tr
		cat.points.triggers[tr.Key] = &c
		t.putPointsDef(defTrigger+tr.Key, c)
		return c, nil
	})
	if err != nil {
		return Trigger{}, fmt.Errorf("set trigger %s: %w", tr.Key, err)
	}
	if tr.Kind == points.KindTime {
		if err := a.e.rebuildTimeQueue(); err != nil {
			return Trigger{}, fmt.Errorf("set trigger %s: queue users: %w", tr.Key, err)
		}
	}
	return v.(Trigger), nil
}

// SetBoost creates or replaces a boost of an active system.
func (a PointsAPI) SetBoost(ctx context.Context, b Boost) (Boost, error) {
	if err := b.Validate(); err != nil {
		return Boost{}, err
	}
	v, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		cat := t.catalogForWrite()
		if s, ok := cat.points.systems[b.System]; !ok || s.Status != StatusActive {
			return nil, gamifytype.Invalid("Boost.System", b.System, "is not an active points system")
		}
		c := b
		cat.points.boosts[b.Key] = &c
		t.putPointsDef(defBoost+b.Key, c)
		return c, nil
	})
	if err != nil {
		return Boost{}, fmt.Errorf("set boost %s: %w", b.Key, err)
	}
	return v.(Boost), nil
}

// SetLevels replaces the levels of a system. Users' levels follow at their
// next change of points.
func (a PointsAPI) SetLevels(ctx context.Context, system string, levels []Level) error {
	if err := points.ValidateLevels(levels); err != nil {
		return err
	}
	_, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		cat := t.catalogForWrite()
		if s, ok := cat.points.systems[system]; !ok || s.Status != StatusActive {
			return nil, ErrNotFound
		}
		ls := slices.Clone(levels)
		cat.points.levels[system] = ls
		t.putPointsDef(defLevels+system, ls)
		return nil, nil
	})
	if err != nil {
		return fmt.Errorf("set levels of %s: %w", system, err)
	}
	return nil
}

// SetLevel creates or replaces (by key) one level of a system; the system's
// levels must stay valid together (distinct keys and thresholds).
func (a PointsAPI) SetLevel(ctx context.Context, system string, l Level) (Level, error) {
	_, err := a.editLevels(ctx, system, func(ls []Level) ([]Level, error) {
		i := slices.IndexFunc(ls, func(x Level) bool { return x.Key == l.Key })
		if i < 0 {
			return append(ls, l), nil
		}
		ls[i] = l
		return ls, nil
	})
	if err != nil {
		return Level{}, fmt.Errorf("set level %s of %s: %w", l.Key, system, err)
	}
	return l, nil
}

// DeleteLevel removes one level of a system, or returns ErrNotFound.
func (a PointsAPI) DeleteLevel(ctx context.Context, system, key string) error {
	_, err := a.editLevels(ctx, system, func(ls []Level) ([]Level, error) {
		i := slices.IndexFunc(ls, func(x Level) bool { return x.Key == key })
		if i < 0 {
			return nil, ErrNotFound
		}
		return slices.Delete(ls, i, i+1), nil
	})
	if err != nil {
		return fmt.Errorf("delete level %s of %s: %w", key, system, err)
	}
	return nil
}

// BulkSetLevels creates or replaces up to 100 levels of a system, reporting
// failures per item.
func (a PointsAPI) BulkSetLevels(ctx context.Context, system string, ls []Level) ([]Level, []Issue, error) {
	return bulkSet(ctx, "Levels", ls, func(l Level) string { return l.Key },
		func(ctx context.Context, l Level) (Level, error) { return a.SetLevel(ctx, system, l) })
}

// editLevels changes a system's levels inside the writer, so that concurrent
// edits never lose one another.
func (a PointsAPI) editLevels(ctx context.Context, system string, edit func([]Level) ([]Level, error)) (any, error) {
	return a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		cat := t.catalogForWrite()
		if s, ok := cat.points.systems[system]; !ok || s.Status != StatusActive {
			return nil, ErrNotFound
		}
		ls, err := edit(slices.Clone(cat.points.levels[system]))
		if err != nil {
			return nil, err
		}
		if err := points.ValidateLevels(ls); err != nil {
			return nil, err
		}
		cat.points.levels[system] = ls
		t.putPointsDef(defLevels+system, ls)
		return nil, nil
	})
}

// userPoints is a user's state in one points system, with the ledger
// sequences of their latest awards (oldest first): the per-user index of the
// award log, whose records are keyed by sequence alone so that writing them
// is an append.
type userPoints struct {
	Ref    uint32
	St     points.State
	Recent []uint64
}

// recentAwards is how many award sequences a user's index keeps per system;
// older awards are found by scanning the log backwards.
const recentAwards = 32

// awardRecord is the stored form of an award-log entry (awardlog.go).
type awardRecord struct {
	User uint64
	Ref  uint32
	Award
}

func (s *userState) pointsOf(ref uint32) (int, bool) {
	return slices.BinarySearchFunc(s.Points, ref, func(x userPoints, r uint32) int { return cmp.Compare(x.Ref, r) })
}

// Ledger kinds of points entries.
const (
	ledgerAward = ledger.Kind(2) // Ref is the system, Delta the points added
	ledgerSpend = ledger.Kind(3) // Ref is the system, Delta the points spent
)

// PointsChanged is sent when a user's balance in a system changes.
type PointsChanged struct {
	User   string
	System string
	Added  Amount
	Spent  Amount
	Total  Amount
	Level  *LevelChange // set when the level changed
	At     time.Time
}

// UserID implements Notification.
func (n PointsChanged) UserID() string { return n.User }

// pointsUser is the points view of a working user.
func (t *txn) pointsUser(u *userRec) points.User {
	return points.User{ID: u.p.ID, Attrs: u.p.Attributes, Loc: t.w.userLocation(&u.p)}
}

// applyPoints runs a transition on every active system, records ledger
// entries, result rows and notifications. A failing transition (e.g. a
// blocked negative award) fails the command.
func (t *txn) applyPoints(u *userRec, f func(r points.Rules, s points.State) (points.State, points.Effects, error)) error {
	for key, r := range t.w.cat.points.rules {
		sys := t.w.cat.points.systems[key]
		i, ok := u.s.pointsOf(sys.ref)
		var st points.State
		if ok {
			st = u.s.Points[i].St
		}
		ns, fx, err := f(*r, st)
		if err != nil {
			return err
		}
		// The state changes without an award too (a trigger's running sum,
		// a high-water mark): keep it, unless it is still the zero state.
		if !ok {
			if !fx.Changed() && isZeroPoints(ns) {
				continue
			}
			u.s.Points = slices.Insert(u.s.Points, i, userPoints{Ref: sys.ref})
		}
		u.s.Points[i].St = ns
		if !fx.Changed() {
			continue
		}
		if err := t.recordPoints(u, sys, fx, ""); err != nil {
			return err
		}
		t.queueTime(u, sys, ns)
	}
	return nil
}

var zeroPoints, _ = points.State{}.MarshalBinary()

func isZeroPoints(s points.State) bool {
	b, _ := s.AppendBinary(make([]byte, 0, 16))
	return string(b) == string(zeroPoints)
}

func (t *txn) recordPoints(u *userRec, sys *PointsSystem, fx points.Effects, idem string) error {
	// Points boards rank the points awarded inside each run.
	var changes []LeaderboardChange
	for _, b := range t.w.cat.pointsBoards[sys.Key] {
		if fx.Added.IsZero() {
			break
		}
		added := fx.Added.Micros()
		if err := t.scoreBoard(u, b, t.now, t.seq+1, func(old userBoard) (int64, int64) { return old.Score + added, 0 }, &changes); err != nil {
			return err
		}
	}
	if t.boardsRes != nil {
		*t.boardsRes = append(*t.boardsRes, changes...)
	}
	for _, aw := range fx.Awards {
		cause := aw.Trigger
		if cause == "" {
			cause = aw.Reason
		}
		seq := t.nextSeq()
		t.entries = append(t.entries, ledger.Entry{Seq: seq, At: t.now.UnixNano(), User: u.p.UID, Kind: ledgerAward,
			Ref: sys.ref, Delta: aw.Points, Cause: cause, IdemKey: idem})
		rec := awardRecord{User: u.p.UID, Ref: sys.ref, Award: aw}
		t.writes = append(t.writes, write{store.Awards, binary.BigEndian.AppendUint64(nil, seq), rec.marshal(make([]byte, 0, 40+len(aw.Trigger)+len(aw.Reason)))})
		if i, ok := u.s.pointsOf(sys.ref); ok {
			r := append(u.s.Points[i].Recent, seq)
			if len(r) > recentAwards {
				r = r[len(r)-recentAwards:]
			}
			u.s.Points[i].Recent = r
		}
	}
	if !fx.Added.IsZero() { // per-day aggregates of awarded points, for summaries
		if err := t.addDay(u, pointsDayRef(sys.ref), localDay(t.now, t.w.userLocation(&u.p)), fx.Added); err != nil {
			return err
		}
	}
	if !fx.Spent.IsZero() {
		t.entries = append(t.entries, ledger.Entry{Seq: t.nextSeq(), At: t.now.UnixNano(), User: u.p.UID, Kind: ledgerSpend,
			Ref: sys.ref, Delta: fx.Spent, IdemKey: idem})
	}
	t.notes = append(t.notes, PointsChanged{User: u.p.ID, System: sys.Key, Added: fx.Added, Spent: fx.Spent, Total: fx.Total, Level: fx.Level, At: t.now})
	if t.pointsRes != nil {
		rows := t.pointsRes
		j := slices.IndexFunc(*rows, func(c PointsChange) bool { return c.System == sys.Key })
		if j < 0 {
			*rows = append(*rows, PointsChange{System: sys.Key})
			j = len(*rows) - 1
		}
		c := &(*rows)[j]
		c.Added = c.Added.Add(fx.Added)
		c.Total = fx.Total
		c.Awards = append(c.Awards, fx.Awards...)
		if fx.Level != nil {
			c.Level = fx.Level
		}
	}
	return nil
}

// UserPoints is a user's balance in one system.
type UserPoints struct {
	System    string
	Total     Amount // sum of awards
	Spent     Amount
	Available Amount // Total − Spent
	Level     string // "" below every level
	Pinned    bool
	NextLevel string // "" at the top
	Required  Amount // the next level's threshold
	Remaining Amount // points still needed for it
}

// Points returns a user's balance in a system.
func (a UsersAPI) Points(ctx context.Context, id, system string) (UserPoints, error) {
	cat := a.e.cat.Load()
	sys, ok := cat.points.systems[system]
	if !ok {
		return UserPoints{}, fmt.Errorf("points system %s: %w", system, ErrNotFound)
	}
	_, s, err := a.e.readUser(id, true)
	if err != nil {
		return UserPoints{}, err
	}
	var st points.State
	if i, ok := s.pointsOf(sys.ref); ok {
		st = s.Points[i].St
	}
	up := UserPoints{System: system, Total: st.Total(), Spent: st.Spent(), Available: st.Available()}
	up.Level, up.Pinned = st.LevelKey()
	if next, req, rem, ok := points.NextLevel(cat.points.levels[system], st.Total()); ok {
		up.NextLevel, up.Required, up.Remaining = next.Key, req, rem
	}
	return up, nil
}

// PointsResult is the outcome of a manual award or spend.
type PointsResult struct {
	UserPoints
	IdempotentReplayed bool
}

// Award adds points to a user (created on first sight) with a reason;
// boosts do not apply to manual awards. key, if set, makes the call
// idempotent per (user, system).
func (a PointsAPI) Award(ctx context.Context, system, user string, amount Amount, key, reason string) (PointsResult, error) {
	return a.manual(ctx, system, user, amount, key, "Award", func(r points.Rules, s points.State, v Amount) (points.State, points.Effects, error) {
		return points.Award(r, s, v, reason)
	})
}

// Spend takes points from a user's available balance; ErrInsufficientPoints
// (nothing changed) when it is too low. key, if set, makes it idempotent.
func (a PointsAPI) Spend(ctx context.Context, system, user string, amount Amount, key string) (PointsResult, error) {
	return a.manual(ctx, system, user, amount, key, "Spend", func(_ points.Rules, s points.State, v Amount) (points.State, points.Effects, error) {
		return points.Spend(s, v)
	})
}

func (a PointsAPI) manual(ctx context.Context, system, user string, amount Amount, key, op string,
	f func(points.Rules, points.State, Amount) (points.State, points.Effects, error)) (PointsResult, error) {
	var errs []error
	errs = append(errs, validateUserID(op+".User", user))
	v := amount
	if v.Sign() <= 0 {
		errs = append(errs, gamifytype.Invalid(op+".Amount", amount, "must be positive"))
	}
	if len(key) > 255 {
		errs = append(errs, gamifytype.Invalid(op+".IdempotencyKey", len(key), "must be at most 255 bytes"))
	}
	if err := errors.Join(errs...); err != nil {
		return PointsResult{}, err
	}
	res, err := a.e.admin(ctx, a.e.now(), func(t *txn) (any, error) {
		sys, ok := t.w.cat.points.systems[system]
		r := t.w.cat.points.rules[system]
		if !ok || r == nil {
			return nil, fmt.Errorf("points system %s: %w", system, ErrNotFound)
		}
		u, err := t.user(user, true)
		if err != nil {
			return nil, err
		}
		idk := ""
		if key != "" {
			idk = idemKey(u.p.UID, sys.ref|1<<31, key)
			if _, _, found, err := t.w.idemRecord(idk); err != nil {
				return nil, err
			} else if _, dup := t.idem[idk]; found || dup {
				out := PointsResult{IdempotentReplayed: true}
				out.UserPoints = pointsOf(t.w.cat, sys, u)
				return out, nil
			}
		}
		i, had := u.s.pointsOf(sys.ref)
		var st points.State
		if had {
			st = u.s.Points[i].St
		}
		ns, fx, err := f(*r, st, v)
		if err != nil {
			return nil, err
		}
		if !had {
			u.s.Points = slices.Insert(u.s.Points, i, userPoints{Ref: sys.ref})
		}
		u.s.Points[i].St = ns
		if err := t.recordPoints(u, sys, fx, key); err != nil {
			return nil, err
		}
		if key != "" {
			if t.idem == nil {
				t.idem = make(map[string]pendingVal)
			}
			t.idem[idk] = pendingVal{seq: t.seq, at: t.now.UnixNano()}
		}
		return PointsResult{UserPoints: pointsOf(t.w.cat, sys, u)}, nil
	})
	if err != nil {
		return PointsResult{}, fmt.Errorf("%s %s for %q: %w", op, system, user, err)
	}
	return res.(PointsResult), nil
}

func pointsOf(cat *catalog, sys *PointsSystem, u *userRec) UserPoints {
	var st points.State
	if i, ok := u.s.pointsOf(sys.ref); ok {
		st = u.s.Points[i].St
	}
	up := UserPoints{System: sys.Key, Total: st.Total(), Spent: st.Spent(), Available: st.Available()}
	up.Level, up.Pinned = st.LevelKey()
	if next, req, rem, ok := points.NextLevel(cat.points.levels[sys.Key], st.Total()); ok {
		up.NextLevel, up.Required, up.Remaining = next.Key, req, rem
	}
	return up
}

package gamify

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/ledger"
	"github.com/gamifykit/gamify/points"
	"github.com/gamifykit/gamify/store"
)

// LevelChange is a move between levels of a system ("" is below every
// level).
type LevelChange struct {
	From, To  string
	Promotion bool // false: a demotion
	Pinned    bool // the change comes from PinLevel or UnpinLevel
}

func levelChangeOf(c *points.LevelChange) *LevelChange {
	if c == nil {
		return nil
	}
	return &LevelChange{From: c.From, To: c.To, Promotion: c.Promotion, Pinned: c.Pinned}
}

// storedSystem keeps the system's Inactive under "off", as storedTrigger.
type storedSystem struct {
	PointsSystem
	Ref uint32                `json:"ref"`
	Off []gamifytype.Interval `json:"off,omitempty"`
}

// storedTrigger keeps the trigger's Inactive under "off", its name since
// the intervals were kept (the embedded Inactive is left empty).
type storedTrigger struct {
	Trigger
	Seq uint64                `json:"seq"`
	Off []gamifytype.Interval `json:"off,omitempty"`
}

// storedBoost keeps the boost's Inactive under "off", as storedTrigger.
type storedBoost struct {
	Boost
	Seq     uint64                `json:"seq"`
	Retired bool                  `json:"retired,omitempty"` // a per-user boost its end job retired
	Off     []gamifytype.Interval `json:"off,omitempty"`
}

func (b *Boost) stored() storedBoost {
	s := storedBoost{Boost: *b, Seq: b.seq, Retired: b.retired, Off: b.Inactive}
	s.Boost.Inactive = nil
	return s
}

type storedLevel struct {
	Level
	Seq uint64 `json:"seq"`
}

// UnmarshalJSON reads a storedLevel: the embedded Level's UnmarshalJSON
// (which reads old key names) would otherwise be promoted and drop Seq.
// Each field storedLevel adds to Level is read here.
func (s *storedLevel) UnmarshalJSON(b []byte) error {
	var w struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &s.Level); err != nil {
		return err
	}
	s.Seq = w.Seq
	return nil
}

// pointsDefs is the points part of the catalogue. Definitions are never
// modified in place: a change stores a new copy.
type pointsDefs struct {
	systems       map[string]*PointsSystem
	systemByRef   map[uint32]*PointsSystem
	lastSystemRef uint32
	triggers      map[string]*Trigger
	boosts        map[string]*Boost
	levels        map[string]*Level        // by levelID(system, key)
	lastSeq       uint64                   // creation order of triggers, boosts and levels
	rules         map[string]*points.Rules // derived: by active system key
	order         []string                 // derived: the keys of rules in creation order
	// held are the rules of the inactive systems that were active before,
	// their triggers inactive while the system was: a late event dated
	// while it was active still pays. eventOrder is the keys of rules and
	// held in creation order, the order an event visits them in.
	held       map[string]*points.Rules  // derived
	eventOrder []string                  // derived
	ladders    map[string][]points.Level // derived: active levels by system key, in creation order
	hasTime    bool                      // derived: an active time trigger of an active system exists
	// Active per-user boosts of active systems are kept out of rules (every
	// event of every user would scan them) and indexed by user: live ones
	// by key, retired ones (past their end job) by End, latest first, for
	// late events only.
	userBoosts, retiredBoosts map[string][]points.Boost // derived
}

func levelID(system, key string) string { return system + "/" + key }

func (p *pointsDefs) clone() pointsDefs {
	c := *p
	c.systems, c.systemByRef = cloneMap(p.systems), cloneMap(p.systemByRef)
	c.triggers, c.boosts, c.levels = cloneMap(p.triggers), cloneMap(p.boosts), cloneMap(p.levels)
	return c
}

func (p *pointsDefs) init() {
	if p.systems == nil {
		p.systems, p.systemByRef = map[string]*PointsSystem{}, map[uint32]*PointsSystem{}
		p.triggers, p.boosts, p.levels = map[string]*Trigger{}, map[string]*Boost{}, map[string]*Level{}
	}
}

// index rebuilds the rules of every active system: its triggers that are
// not archived (an inactive one is kept, inactive, so that the pure rules
// pass its fires unpaid), its active boosts and its active levels.
func (p *pointsDefs) index() {
	p.rules, p.ladders, p.order = map[string]*points.Rules{}, map[string][]points.Level{}, nil // order is new: a clone shares the old one
	p.held, p.eventOrder = map[string]*points.Rules{}, nil
	for key, s := range p.systems {
		switch {
		case s.Status == StatusActive:
			p.rules[key] = &points.Rules{System: s.domain()}
			p.order = append(p.order, key)
		case s.everActive():
			p.held[key] = &points.Rules{System: s.domain()}
		default:
			continue
		}
		p.eventOrder = append(p.eventOrder, key)
	}
	byRef := func(x, y string) int { return cmp.Compare(p.systems[x].ref, p.systems[y].ref) }
	slices.SortFunc(p.order, byRef)
	slices.SortFunc(p.eventOrder, byRef)
	levels := make([]*Level, 0, len(p.levels))
	for _, l := range p.levels {
		if l.Status == StatusActive {
			levels = append(levels, l)
		}
	}
	slices.SortFunc(levels, func(x, y *Level) int { return cmp.Compare(x.seq, y.seq) })
	for _, l := range levels {
		p.ladders[l.System] = append(p.ladders[l.System], l.domain())
	}
	for key, r := range p.rules {
		r.Levels = p.ladders[key]
	}
	for key, r := range p.held {
		r.Levels = p.ladders[key]
	}
	p.hasTime = false
	for _, t := range sortedValues(p.triggers) {
		if t.Status == StatusArchived {
			continue
		}
		r, live := p.rules[t.System]
		if !live {
			if r = p.held[t.System]; r == nil || t.Kind == TriggerTime {
				continue // time triggers go by Since
			}
		}
		p.hasTime = p.hasTime || (live && t.Kind == TriggerTime && t.Status == StatusActive)
		d := t.domain()
		if sysOff := p.systems[t.System].Inactive; len(sysOff) > 0 && t.Kind != TriggerTime {
			// Inactive while its system was too: judged at the change's time.
			if len(d.Off) == 0 && !d.Active {
				continue // never active
			}
			d.Off = unionOff(d.Off, sysOff)
			d.Active = !d.Off[len(d.Off)-1].To.IsZero() // as Validate wants: inactive now if the last is open
		}
		r.Triggers = append(r.Triggers, d)
	}
	p.userBoosts, p.retiredBoosts = map[string][]points.Boost{}, map[string][]points.Boost{}
	for _, b := range sortedValues(p.boosts) {
		r, ok := p.rules[b.System]
		if !ok {
			r, ok = p.held[b.System]
		}
		switch {
		case !ok || !b.everActive():
		case b.Scope == BoostUser && b.retired:
			p.retiredBoosts[b.User] = append(p.retiredBoosts[b.User], b.domain())
		case b.Scope == BoostUser:
			p.userBoosts[b.User] = append(p.userBoosts[b.User], b.domain())
		default:
			r.Boosts = append(r.Boosts, b.domain())
		}
	}
	for _, bs := range p.retiredBoosts {
		slices.SortStableFunc(bs, func(x, y points.Boost) int { return y.End.Compare(x.End) })
	}
}

// boostsFor returns r's boosts with the per-user boosts of user u added, in
// key order: the live ones, and the retired ones that end after at (a late
// event still gets the boosts of its own time).
func (p *pointsDefs) boostsFor(r *points.Rules, u string, at time.Time) []points.Boost {
	var own []points.Boost
	for _, b := range p.userBoosts[u] {
		if b.System == r.System.Key {
			own = append(own, b)
		}
	}
	for _, b := range p.retiredBoosts[u] {
		if !b.End.After(at) {
			break
		}
		if b.System == r.System.Key {
			own = append(own, b)
		}
	}
	if len(own) == 0 {
		return r.Boosts
	}
	out := append(slices.Clone(r.Boosts), own...)
	slices.SortFunc(out, func(x, y points.Boost) int { return cmp.Compare(x.Key, y.Key) })
	return out
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
	defLevel   = "points-level/" // + system + "/" + key
)

func (p *pointsDefs) load(key string, v []byte) error {
	p.init()
	switch {
	case strings.HasPrefix(key, defSystem):
		var s storedSystem
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		ps := s.PointsSystem
		ps.Inactive = loadedOff(s.Off, ps.Status == StatusInactive, ps.Created, ps.Updated)
		if err := storedDef(key, defSystem+ps.Key, ps.Status, s.Ref, p.systemByRef, ps.validate()); err != nil {
			return err
		}
		ps.ref = s.Ref
		p.systems[ps.Key], p.systemByRef[ps.ref] = &ps, &ps
		p.lastSystemRef = max(p.lastSystemRef, ps.ref)
	case strings.HasPrefix(key, defTrigger):
		var s storedTrigger
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		t := s.Trigger
		t.Inactive = loadedOff(s.Off, t.Status == StatusInactive, t.Created, t.Updated)
		if err := storedDef[Trigger](key, defTrigger+t.Key, t.Status, 0, nil, t.validate()); err != nil {
			return err
		}
		t.seq = s.Seq
		p.triggers[t.Key] = &t
		p.lastSeq = max(p.lastSeq, t.seq)
	case strings.HasPrefix(key, defBoost):
		var s storedBoost
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		b := s.Boost
		b.Inactive = loadedOff(s.Off, b.Status == StatusInactive, b.Created, b.Updated)
		if err := storedDef[Boost](key, defBoost+b.Key, b.Status, 0, nil, b.validate()); err != nil {
			return err
		}
		b.seq, b.retired = s.Seq, s.Retired
		p.boosts[b.Key] = &b
		p.lastSeq = max(p.lastSeq, b.seq)
	case strings.HasPrefix(key, defLevel):
		var s storedLevel
		if err := json.Unmarshal(v, &s); err != nil {
			return err
		}
		l := s.Level
		if err := storedDef[Level](key, defLevel+l.System+"/"+l.Key, l.Status, 0, nil, l.validate()); err != nil {
			return err
		}
		l.seq = s.Seq
		p.levels[levelID(l.System, l.Key)] = &l
		p.lastSeq = max(p.lastSeq, l.seq)
	default:
		return errors.New("no such kind of definition")
	}
	return nil
}

func (t *txn) putPointsDef(key string, v any) {
	t.putJSON(store.Definitions, []byte(key), v)
	t.catalogForWrite().points.index()
}

func (t *txn) putSystem(s *PointsSystem) {
	p := &t.catalogForWrite().points
	s.Levels, s.Triggers, s.Boosts = nil, nil, nil
	p.systems[s.Key], p.systemByRef[s.ref] = s, s
	st := storedSystem{PointsSystem: *s, Ref: s.ref, Off: s.Inactive}
	st.PointsSystem.Inactive = nil
	t.putPointsDef(defSystem+s.Key, st)
}

func (t *txn) putTrigger(tr *Trigger) {
	t.catalogForWrite().points.triggers[tr.Key] = tr
	st := storedTrigger{Trigger: *tr, Seq: tr.seq, Off: tr.Inactive}
	st.Trigger.Inactive = nil
	t.putPointsDef(defTrigger+tr.Key, st)
}

func (t *txn) putBoost(b *Boost) {
	t.catalogForWrite().points.boosts[b.Key] = b
	t.putPointsDef(defBoost+b.Key, b.stored())
	t.boostsChanged()
}

func (t *txn) putLevel(l *Level) {
	id := levelID(l.System, l.Key)
	t.catalogForWrite().points.levels[id] = l
	t.putPointsDef(defLevel+id, storedLevel{Level: *l, Seq: l.seq})
}

// createStatus checks the Status a definition is created with: "" is active.
func createStatus(field string, s Status) (Status, error) {
	switch s {
	case "":
		return StatusActive, nil
	case StatusActive, StatusInactive:
		return s, nil
	}
	return "", gamifytype.Invalid(field, s, "must be active (the default) or inactive")
}

// createSystem creates a system with the levels, triggers and boosts it
// carries, all or nothing: on a failure the command's points definitions
// and writes are put back as they were, so a bulk create goes on with the
// next item.
func (t *txn) createSystem(s PointsSystem) (PointsSystem, error) {
	if err := s.validate(); err != nil {
		return PointsSystem{}, err
	}
	st, err := createStatus("PointsSystem.Status", s.Status)
	if err != nil {
		return PointsSystem{}, err
	}
	p := &t.catalogForWrite().points
	if _, ok := p.systems[s.Key]; ok {
		return PointsSystem{}, fmt.Errorf("%w: points system %s exists", ErrConflict, s.Key)
	}
	var errs []error
	for i, l := range s.Levels {
		if l.System != "" && l.System != s.Key {
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("PointsSystem.Levels[%d].System", i), l.System, "must be empty or the system's key"))
		}
	}
	for i, tr := range s.Triggers {
		if tr.System != "" && tr.System != s.Key {
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("PointsSystem.Triggers[%d].System", i), tr.System, "must be empty or the system's key"))
		}
	}
	for i, b := range s.Boosts {
		if b.System != "" && b.System != s.Key {
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("PointsSystem.Boosts[%d].System", i), b.System, "must be empty or the system's key"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return PointsSystem{}, err
	}
	off, err := createdOff("PointsSystem.Inactive", s.Inactive, st, t.now)
	if err != nil {
		return PointsSystem{}, err
	}
	saved, mark := p.clone(), len(t.writes)
	out := s
	out.Status, out.Created, out.Updated, out.Inactive = st, stamp(t.now), stamp(t.now), off
	p.lastSystemRef++
	out.ref = p.lastSystemRef
	stored := out
	t.putSystem(&stored)
	out.Levels, out.Triggers, out.Boosts = nil, nil, nil
	for i, l := range s.Levels {
		l.System = s.Key
		c, err := t.createLevel(l)
		errs = append(errs, placed(err, "Level", fmt.Sprintf("PointsSystem.Levels[%d]", i)))
		out.Levels = append(out.Levels, c)
	}
	for i, tr := range s.Triggers {
		tr.System = s.Key
		c, err := t.createTrigger(tr)
		errs = append(errs, placed(err, "Trigger", fmt.Sprintf("PointsSystem.Triggers[%d]", i)))
		out.Triggers = append(out.Triggers, c)
	}
	for i, b := range s.Boosts {
		b.System = s.Key
		c, err := t.createBoost(b)
		errs = append(errs, placed(err, "Boost", fmt.Sprintf("PointsSystem.Boosts[%d]", i)))
		out.Boosts = append(out.Boosts, c.shown(t.now, t.w.opts.DefaultTimezone))
	}
	if err := errors.Join(errs...); err != nil {
		*p, t.writes = saved, t.writes[:mark]
		p.index()
		return PointsSystem{}, err
	}
	return out, nil
}

// restartTimeTriggers sets the Since of a system's active time triggers to
// now, so that the fires while the system was inactive are never paid.
func (t *txn) restartTimeTriggers(system string) {
	for _, tr := range sortedValues(t.catalogForWrite().points.triggers) {
		if tr.System == system && tr.Kind == TriggerTime && tr.Status == StatusActive {
			c := cloneTrigger(*tr)
			c.Since, c.Updated = stamp(t.now), stamp(t.now)
			t.putTrigger(&c)
		}
	}
}

// PointsAPI administers points systems (the shared admin verbs), awards and
// spends points, and leads to the systems' triggers, boosts and levels. Get
// it from Engine.Points.
//
// An inactive system awards nothing: events, achievements, streaks and
// time pass without paying its triggers (an event is judged by the
// system's status at its own time, so a late one dated while it was active
// pays), and Award, Spend and level pins are refused with ErrConflict;
// balances, levels, the award log and its definitions are kept (and can be
// edited), and reward claims still spend it. Activate resumes it (fires of its time triggers while it was inactive
// are not paid).
type PointsAPI struct{ e *Engine }

// Points returns the points API.
func (e *Engine) Points() PointsAPI { return PointsAPI{e} }

// systemsKind describes points systems for the shared admin verbs.
func (a PointsAPI) systemsKind() defKind[PointsSystem] {
	k := systemKind()
	now, loc := a.e.now(), a.e.opts.DefaultTimezone
	k.show = func(s PointsSystem) PointsSystem {
		if s.Key == "" || s.Levels != nil || s.Triggers != nil || s.Boosts != nil {
			return s // Create's result holds what it created
		}
		return a.e.cat.Load().points.withItems(s, now, loc)
	}
	return k
}

// eventRules returns the rules an event visits in system: an active
// system's, or the held ones of an inactive system that was active before
// (nil for any other).
func (p *pointsDefs) eventRules(system string) *points.Rules {
	if r := p.rules[system]; r != nil {
		return r
	}
	return p.held[system]
}

// withItems returns s with its levels, triggers and boosts that are not
// archived, in creation order, as reads report them.
func (p *pointsDefs) withItems(s PointsSystem, now time.Time, loc *time.Location) PointsSystem {
	for _, l := range p.levels {
		if l.System == s.Key && l.Status != StatusArchived {
			s.Levels = append(s.Levels, cloneLevel(*l))
		}
	}
	for _, t := range p.triggers {
		if t.System == s.Key && t.Status != StatusArchived {
			s.Triggers = append(s.Triggers, cloneTrigger(*t))
		}
	}
	for _, b := range p.boosts {
		if b.System == s.Key && b.Status != StatusArchived {
			s.Boosts = append(s.Boosts, cloneBoost(*b).shown(now, loc))
		}
	}
	slices.SortFunc(s.Levels, func(x, y Level) int { return cmp.Compare(x.seq, y.seq) })
	slices.SortFunc(s.Triggers, func(x, y Trigger) int { return cmp.Compare(x.seq, y.seq) })
	slices.SortFunc(s.Boosts, func(x, y Boost) int { return cmp.Compare(x.seq, y.seq) })
	return s
}

func systemKind() defKind[PointsSystem] {
	return defKind[PointsSystem]{
		resource: resource[PointsSystem]{
			what: "points system", field: "PointsSystem", kind: "points_system", check: (*PointsSystem).validate,
			defs:  func(c *catalog) map[string]*PointsSystem { return c.points.systems },
			clone: func(s PointsSystem) PointsSystem { return s },
			owned: func(s *PointsSystem) owned { return owned{s.Key, s.Status, s.Created, s.Updated, s.Inactive} },
			replace: func(t *txn, old *PointsSystem, s PointsSystem) (PointsSystem, error) {
				var errs []error
				for _, f := range []struct {
					name string
					n    int
				}{{"Levels", len(s.Levels)}, {"Triggers", len(s.Triggers)}, {"Boosts", len(s.Boosts)}} { // in this order, every time
					if f.n > 0 {
						errs = append(errs, gamifytype.Invalid("PointsSystem."+f.name, f.n, "are created with the system only; use Points()."+f.name))
					}
				}
				errs = append(errs, s.validate())
				if err := errors.Join(errs...); err != nil {
					return PointsSystem{}, err
				}
				s.ref, s.Updated = old.ref, stamp(t.now)
				t.putSystem(&s)
				if old.Status != StatusActive && s.Status == StatusActive {
					t.restartTimeTriggers(s.Key)
				}
				return s, nil
			},
		},
		seq:    func(s *PointsSystem) uint64 { return uint64(s.ref) },
		create: (*txn).createSystem,
		store:  (*txn).putSystem,
		mark: func(s *PointsSystem, st Status, at time.Time) {
			s.Inactive = offAfterStatus(s.Inactive, s.Status, st, at)
			s.Status, s.Updated = st, at
		},
		committed: func(e *Engine, ss []PointsSystem) error {
			// A system created with or activated over time triggers queues its users.
			cat := e.cat.Load()
			for _, s := range ss {
				for _, tr := range cat.points.triggers {
					if tr.System == s.Key && tr.Kind == TriggerTime && tr.Status == StatusActive {
						return e.rebuildTimeQueue()
					}
				}
			}
			return nil
		},
	}
}

// Create defines a points system with the levels, triggers and boosts it
// carries, in one commit: if one of them is bad, nothing is created and the
// error names it (e.g. PointsSystem.Triggers[1].Points). A key in use, even
// by an archived system, is ErrConflict.
func (a PointsAPI) Create(ctx context.Context, s PointsSystem) (PointsSystem, error) {
	return a.systemsKind().createOne(ctx, a.e, s, s.Key)
}

// Get returns the points system with key, archived or not, or ErrNotFound.
// Its Levels, Triggers and Boosts are left empty.
func (a PointsAPI) Get(ctx context.Context, key string) (PointsSystem, error) {
	return a.systemsKind().get(a.e, key)
}

// List returns points systems in creation order, inactive ones included
// and archived ones when asked.
func (a PointsAPI) List(ctx context.Context, opts ListOptions) ([]PointsSystem, error) {
	return a.systemsKind().list(a.e, opts, nil)
}

// Patch changes a points system: edit gets a copy of it and sets the fields
// to change; the others are kept. Key, Status, Created and Updated are the
// engine's, and Levels, Triggers and Boosts are created with the system
// only (a change to one is a ValidationError). edit runs outside the writer
// and may run more than once, so it must only edit its argument.
func (a PointsAPI) Patch(ctx context.Context, key string, edit func(*PointsSystem)) (PointsSystem, error) {
	return a.systemsKind().patchOne(ctx, a.e, key, edit)
}

// BulkPatch runs edit on up to 100 systems in one commit (as Patch does for
// one), reporting failures per item; it returns the systems it changed.
func (a PointsAPI) BulkPatch(ctx context.Context, keys []string, edit func(*PointsSystem)) ([]PointsSystem, []Issue, error) {
	return a.systemsKind().bulkPatch(ctx, a.e, keys, edit)
}

// Activate makes an inactive system award again. Activating an active
// system changes nothing.
func (a PointsAPI) Activate(ctx context.Context, key string) (PointsSystem, error) {
	return a.systemsKind().setStatus(ctx, a.e, key, StatusActive)
}

// Deactivate stops a system from awarding (see PointsAPI for what is kept).
// Deactivating an inactive system changes nothing.
func (a PointsAPI) Deactivate(ctx context.Context, key string) (PointsSystem, error) {
	return a.systemsKind().setStatus(ctx, a.e, key, StatusInactive)
}

// Delete archives a points system: it awards nothing, is hidden from lists
// and refuses new triggers, boosts, levels, boards and rewards; balances,
// the award log and its definitions are kept and the key is never reused.
func (a PointsAPI) Delete(ctx context.Context, key string) error {
	return a.systemsKind().delete(ctx, a.e, key)
}

// BulkCreate creates up to 100 systems (each with what it carries, all or
// nothing per system) in one commit. Items that fail are reported as issues
// and skipped; the others are created.
func (a PointsAPI) BulkCreate(ctx context.Context, ss []PointsSystem) ([]PointsSystem, []Issue, error) {
	return a.systemsKind().bulkCreate(ctx, a.e, "Systems", ss, func(s PointsSystem) string { return s.Key })
}

// BulkDelete archives up to 100 systems in one commit, reporting failures
// per item.
func (a PointsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return a.systemsKind().bulkDelete(ctx, a.e, keys)
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
	User  uint64
	Ref   uint32
	At    int64 // Unix nanoseconds
	Award points.AwardRecord
}

func (s *userState) pointsOf(ref uint32) (int, bool) {
	return slices.BinarySearchFunc(s.Points, ref, func(x userPoints, r uint32) int { return cmp.Compare(x.Ref, r) })
}

// Ledger kinds of points entries.
const (
	ledgerAward = ledger.PointsAward
	ledgerSpend = ledger.PointsSpend
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
//
// One call (an event, Complete) may run several transitions per system:
// user_creation, achievements, the metric, streaks. The level multiplier is
// that of the level at the start of the call for all of them, not of a
// level an earlier transition of the same call reached: the award that
// promotes a user is not what multiplies the rest of the event, whatever
// order the transitions run in.
func (t *txn) applyPoints(u *userRec, f func(r points.Rules, s points.State) (points.State, points.Effects, error)) error {
	for _, key := range t.w.cat.points.eventOrder {
		r, sys := t.w.cat.points.eventRules(key), t.w.cat.points.systems[key]
		i, ok := u.s.pointsOf(sys.ref)
		var st points.State
		if ok {
			st = u.s.Points[i].St
		}
		rules := *r
		if len(t.w.cat.points.userBoosts[u.p.ID]) > 0 || len(t.w.cat.points.retiredBoosts[u.p.ID]) > 0 {
			rules.Boosts = t.w.cat.points.boostsFor(r, u.p.ID, t.attributedAt())
		}
		if lvl, moved := t.callLevel(sys.Key); moved {
			rules.CallLevel = new(lvl) // not &lvl: that would allocate for every call, moved or not
		}
		// A transition's effects are consumed (recorded, copied into the
		// result) before the next one, so they are built in the writer's
		// buffers, lent to one transition at a time: a transition nested in
		// this one, if any, allocates its own.
		lend := !t.pointsLent
		if lend {
			rules.Buffers, t.pointsLent = &t.w.pointsBuf, true
		}
		err := t.transition(u, sys, i, ok, rules, st, f)
		if lend {
			t.pointsLent = false
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// transition applies f to the user's state in system sys (at i in their
// points, ok if they have one) and records its effects.
func (t *txn) transition(u *userRec, sys *PointsSystem, i int, ok bool, rules points.Rules, st points.State, f func(r points.Rules, s points.State) (points.State, points.Effects, error)) error {
	ns, fx, err := f(rules, st)
	if err != nil {
		return err
	}
	// The state changes without an award too (a trigger's running sum,
	// a high-water mark): keep it, unless it is still the zero state.
	if !ok {
		if !fx.Changed() && isZeroPoints(ns) {
			return nil
		}
		u.s.Points = slices.Insert(u.s.Points, i, userPoints{Ref: sys.ref})
	}
	u.s.Points[i].St = ns
	if !fx.Changed() {
		return nil
	}
	if err := t.recordPoints(u, sys, fx, ""); err != nil {
		return err
	}
	t.queueTime(u, sys, ns)
	return nil
}

var zeroPoints, _ = points.State{}.MarshalBinary()

func isZeroPoints(s points.State) bool {
	b, _ := s.AppendBinary(make([]byte, 0, 16))
	return string(b) == string(zeroPoints)
}

func (t *txn) recordPoints(u *userRec, sys *PointsSystem, fx points.Effects, idem string) error {
	// Points boards rank the points awarded inside each run, attributed to
	// the time of the event that caused them (the ledger records that time).
	at := t.attributedAt()
	var changes []LeaderboardChange
	for _, b := range t.w.cat.pointsBoards[sys.Key] {
		if fx.Added.IsZero() {
			break
		}
		added := fx.Added.Micros()
		if err := t.scoreBoard(u, b, at, uint64(at.UnixNano()), func(old userBoard) (int64, int64) { return old.Score + added, 0 }, &changes); err != nil {
			return err
		}
	}
	if t.boardsRes != nil {
		t.mergeBoards(changes)
	}
	var awards []Award
	if t.pointsRes != nil && len(fx.Awards) > 0 {
		awards = make([]Award, 0, len(fx.Awards))
	}
	var need int
	for _, aw := range fx.Awards {
		need += 56 + len(aw.Trigger) + len(aw.Reason)
		for _, b := range aw.Boosts {
			need += 12 + len(b.Key) + len(b.Level)
		}
	}
	kv := t.w.open.arena.alloc(need) // the award records' keys and values, in the batch the command joins
	for _, aw := range fx.Awards {
		cause := aw.Trigger
		if cause == "" {
			cause = aw.Reason
		}
		seq := t.nextSeq()
		t.entries = append(t.entries, ledger.Entry{Seq: seq, At: at.UnixNano(), User: u.p.UID, Kind: ledgerAward,
			Ref: sys.ref, Delta: aw.Points, Cause: cause, IdemKey: idem})
		rec := awardRecord{User: u.p.UID, Ref: sys.ref, At: t.now.UnixNano(), Award: aw}
		n := len(kv)
		kv = rec.marshal(binary.BigEndian.AppendUint64(kv, seq))
		t.writes = append(t.writes, write{store.Awards, kv[n : n+8 : n+8], kv[n+8 : len(kv) : len(kv)]})
		if t.pointsRes != nil {
			awards = append(awards, awardOf(seq, stamp(t.now), aw))
		}
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
	t.notes = append(t.notes, PointsChanged{User: u.p.ID, System: sys.Key, Added: fx.Added, Spent: fx.Spent, Total: fx.Total, Level: levelChangeOf(fx.Level), At: t.now})
	if t.pointsRes != nil {
		rows := t.pointsRes
		j := slices.IndexFunc(*rows, func(c PointsChange) bool { return c.System == sys.Key })
		if j < 0 {
			if *rows == nil {
				*rows = t.pointsChanges()
			}
			*rows = append(*rows, PointsChange{System: sys.Key})
			j = len(*rows) - 1
		}
		c := &(*rows)[j]
		c.Added = c.Added.Add(fx.Added)
		c.Total = fx.Total
		if c.Awards == nil {
			c.Awards = awards // made by this call for the row: no copy
		} else {
			c.Awards = append(c.Awards, awards...)
		}
		if fx.Level != nil {
			c.Level = t.mergeLevel(sys.Key, c.Level, fx.Level)
		}
	}
	return nil
}

// mergeBoards adds points-board changes to the call's result, one row per
// board and group: several transitions of one call (user_creation, then the
// metric) move the same entry, and the result reports the rank before the
// call and after it.
func (t *txn) mergeBoards(changes []LeaderboardChange) {
	rows := t.boardsRes
	for _, c := range changes {
		j := slices.IndexFunc(*rows, func(r LeaderboardChange) bool { return r.Key == c.Key && r.Group == c.Group })
		if j < 0 {
			*rows = append(*rows, c)
			continue
		}
		c.PreviousRank = (*rows)[j].PreviousRank
		(*rows)[j] = c
	}
}

// callLevel is the user's level in system at the start of the current call,
// if the call has already moved it: the From of the call's result row. A
// call without a result row has not moved it (or has no result, and each
// transition is then its own call).
func (t *txn) callLevel(system string) (string, bool) {
	if t.pointsRes == nil {
		return "", false
	}
	for _, c := range *t.pointsRes {
		if c.System == system && c.Level != nil {
			return c.Level.From, true
		}
	}
	return "", false
}

// mergeLevel folds a transition's level change into the call's: from the
// level before the call to the level after it, nil if they are the same (a
// promotion undone by a later demotion of the same call).
func (t *txn) mergeLevel(system string, call *LevelChange, fx *points.LevelChange) *LevelChange {
	if call == nil {
		return levelChangeOf(fx)
	}
	if call.From == fx.To {
		return nil
	}
	var from, to *points.Level
	if r := t.w.cat.points.eventRules(system); r != nil { // held: an inactive system paying a late event
		for i := range r.Levels {
			switch r.Levels[i].Key {
			case call.From:
				from = &r.Levels[i]
			case fx.To:
				to = &r.Levels[i]
			}
		}
	}
	// As the points package decides: up to a level, from below every
	// level or from a lower threshold, is a promotion.
	promotion := to != nil && (from == nil || from.Threshold.Less(to.Threshold))
	return &LevelChange{From: call.From, To: fx.To, Promotion: promotion, Pinned: call.Pinned || fx.Pinned}
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

// PointsResult is the outcome of a manual award or spend.
type PointsResult struct {
	UserPoints
	IdempotentReplayed bool
	// Points lists the points systems whose balance the call changed, as
	// EventResult.Points does: the entry's system, and, when the call
	// created the user, the systems of its user_creation awards. Empty on
	// a replay.
	Points []PointsChange
}

// PointsEntry is a manual change of one user's points in one system, for
// Award and Spend.
type PointsEntry struct {
	System string // the points system's key
	User   string // the user's id; the user is created on first sight
	Amount Amount // positive
	// IdempotencyKey makes a retry safe. Its scope is (user, system), shared
	// by Award and Spend, and a key names one call: the same operation with
	// the same Amount and Reason changes nothing and reports
	// IdempotentReplayed (with the balance as it is now); anything else under
	// the key — a Spend reusing an Award's key, another amount or reason —
	// is ErrConflict and changes nothing. Claims have their own scope.
	IdempotencyKey string
	// Reason is recorded in the award log (Award only).
	Reason string
}

// Award adds points to a user (created on first sight) with a reason;
// boosts do not apply to manual awards. See PointsEntry.IdempotencyKey for
// retries. An unknown or archived system is ErrNotFound (a ValidationError
// naming Award.System), an inactive one ErrConflict.
func (a PointsAPI) Award(ctx context.Context, p PointsEntry) (PointsResult, error) {
	return a.manual(ctx, p, "Award", awardOp)
}

// Spend takes points from a user's available balance; ErrInsufficientPoints
// (nothing changed) when it is too low. See PointsEntry.IdempotencyKey for
// retries: a Spend never replays an Award with the same key. The system is
// refused as Award refuses it, naming Spend.System.
func (a PointsAPI) Spend(ctx context.Context, p PointsEntry) (PointsResult, error) {
	return a.manual(ctx, p, "Spend", spendOp)
}

func (a PointsAPI) manual(ctx context.Context, p PointsEntry, op string, o *op[PointsEntry]) (PointsResult, error) {
	system, user, amount, key := p.System, p.User, p.Amount, p.IdempotencyKey
	var errs []error
	errs = append(errs, validateUserID(op+".User", user))
	if amount.Sign() <= 0 {
		errs = append(errs, gamifytype.Invalid(op+".Amount", amount, "must be positive"))
	}
	if op == "Spend" && p.Reason != "" {
		errs = append(errs, gamifytype.Invalid(op+".Reason", p.Reason, "is recorded for awards only"))
	}
	errs = append(errs, checkIdemKey(op, key),
		gamifytype.ValidateKey(op+".System", system),
		gamifytype.CheckText(op+".Reason", p.Reason, gamifytype.MaxNameLen))
	if err := errors.Join(errs...); err != nil {
		return PointsResult{}, err
	}
	res, err := a.e.exec(ctx, a.e.now(), o.cmd(p))
	if err != nil {
		return PointsResult{}, fmt.Errorf("%s %s for %q: %w", op, gamifytype.Quote(system), gamifytype.Quote(user), err)
	}
	return res.(PointsResult), nil
}

var (
	awardOp = newOp("points.award", func(t *txn, p PointsEntry) (PointsResult, error) {
		return t.manualPoints(p, "Award", func(r points.Rules, s points.State, v Amount) (points.State, points.Effects, error) {
			return points.Award(r, s, v, p.Reason)
		})
	})
	spendOp = newOp("points.spend", func(t *txn, p PointsEntry) (PointsResult, error) {
		return t.manualPoints(p, "Spend", func(_ points.Rules, s points.State, v Amount) (points.State, points.Effects, error) {
			return points.Spend(s, v)
		})
	})
)

// manualPoints applies a validated Award or Spend (op) with f.
func (t *txn) manualPoints(p PointsEntry, op string, f func(points.Rules, points.State, Amount) (points.State, points.Effects, error)) (PointsResult, error) {
	system, user, amount, key := p.System, p.User, p.Amount, p.IdempotencyKey
	sys, ok := t.w.cat.points.systems[system]
	r := t.w.cat.points.rules[system]
	if !ok || sys.Status == StatusArchived {
		return PointsResult{}, gamifytype.NotFound(op+".System", system, "points system")
	}
	if r == nil {
		return PointsResult{}, fmt.Errorf("points system %s is %s: %w", gamifytype.Quote(system), sys.Status, ErrConflict)
	}
	// The result collects before the user is created: a new user's
	// user_creation awards are part of what the call changed.
	var out PointsResult
	t.pointsRes = &out.Points
	defer func() { t.pointsRes = nil }()
	u, err := t.user(user, true)
	if err != nil {
		return PointsResult{}, err
	}
	idk, fp := "", uint64(0)
	if key != "" {
		idk, fp = idemKey(u.p.UID, sys.ref|1<<31, key), pointsFingerprint(op, amount, p.Reason)
		if rec, found, err := t.idemRecord(idk); err != nil {
			return PointsResult{}, err
		} else if found && !rec.matches(fp) {
			return PointsResult{}, idemConflict(op+".IdempotencyKey", key, "award or spend in "+system+" (operation, amount or reason)")
		} else if found {
			// A replay's user existed, so nothing was awarded.
			return PointsResult{IdempotentReplayed: true, UserPoints: pointsOf(t.w.cat, sys, u)}, nil
		}
	}
	i, had := u.s.pointsOf(sys.ref)
	var st points.State
	if had {
		st = u.s.Points[i].St
	}
	ns, fx, err := f(*r, st, amount)
	if err != nil {
		return PointsResult{}, err
	}
	if !had {
		u.s.Points = slices.Insert(u.s.Points, i, userPoints{Ref: sys.ref})
	}
	u.s.Points[i].St = ns
	if err := t.recordPoints(u, sys, fx, key); err != nil {
		return PointsResult{}, err
	}
	if key != "" {
		t.recordIdem(idk, t.seq, fp)
	}
	out.UserPoints = pointsOf(t.w.cat, sys, u)
	return out, nil
}

func pointsOf(cat *catalog, sys *PointsSystem, u *userRec) UserPoints {
	var st points.State
	if i, ok := u.s.pointsOf(sys.ref); ok {
		st = u.s.Points[i].St
	}
	up := UserPoints{System: sys.Key, Total: st.Total(), Spent: st.Spent(), Available: st.Available()}
	up.Level, up.Pinned = st.LevelKey()
	if next, req, rem, ok := points.NextLevel(cat.points.ladders[sys.Key], st.Total()); ok {
		up.NextLevel, up.Required, up.Remaining = next.Key, req, rem
	}
	return up
}

// Triggers returns the trigger administration API.
func (a PointsAPI) Triggers() TriggersAPI { return TriggersAPI{a.e} }

// Boosts returns the boost administration API.
func (a PointsAPI) Boosts() BoostsAPI { return BoostsAPI{a.e} }

// Levels returns the level administration API of a points system.
func (a PointsAPI) Levels(system string) LevelsAPI { return LevelsAPI{a.e, system} }

// UserBoosts returns the boosts of a system that apply to a user now (active,
// in their window, in the user's scope), as Boosts().Get shows them: none
// while the system is inactive, which multiplies nothing. An unknown or
// archived system or an unknown user is ErrNotFound.
func (a PointsAPI) UserBoosts(ctx context.Context, system, user string) ([]Boost, error) {
	cat := a.e.cat.Load()
	sys, ok := cat.points.systems[system]
	if !ok || sys.Status == StatusArchived {
		return nil, fmt.Errorf("points system %s: %w", gamifytype.Quote(system), ErrNotFound)
	}
	p, _, err := a.e.readUser(user, false)
	if err != nil {
		return nil, err
	}
	if sys.Status != StatusActive {
		return []Boost{}, nil
	}
	var all []points.Boost
	byKey := map[string]*Boost{}
	for _, b := range sortedValues(cat.points.boosts) {
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
	return a.levelOp(ctx, levelArgs{System: system, User: user, Level: level}, pinLevelOp)
}

// UnpinLevel lets a user's level follow their total again.
func (a PointsAPI) UnpinLevel(ctx context.Context, system, user string) (UserPoints, error) {
	return a.levelOp(ctx, levelArgs{System: system, User: user}, unpinLevelOp)
}

func (a PointsAPI) levelOp(ctx context.Context, args levelArgs, o *op[levelArgs]) (UserPoints, error) {
	v, err := a.e.exec(ctx, a.e.now(), o.cmd(args))
	if err != nil {
		return UserPoints{}, fmt.Errorf("level of %q in %s: %w", gamifytype.Quote(args.User), gamifytype.Quote(args.System), err)
	}
	return v.(UserPoints), nil
}

type levelArgs struct {
	System, User string
	Level        string `json:",omitempty"` // PinLevel's
}

var (
	pinLevelOp = newOp("points.pin_level", func(t *txn, a levelArgs) (UserPoints, error) {
		return t.setLevel(a, func(levels []points.Level, s points.State) (points.State, points.Effects, error) {
			return points.PinLevel(levels, s, a.Level)
		})
	})
	unpinLevelOp = newOp("points.unpin_level", func(t *txn, a levelArgs) (UserPoints, error) {
		return t.setLevel(a, func(levels []points.Level, s points.State) (points.State, points.Effects, error) {
			st, fx := points.UnpinLevel(levels, s)
			return st, fx, nil
		})
	})
)

// setLevel changes a user's level state in a system with f.
func (t *txn) setLevel(a levelArgs, f func([]points.Level, points.State) (points.State, points.Effects, error)) (UserPoints, error) {
	system, user := a.System, a.User
	sys, ok := t.w.cat.points.systems[system]
	if !ok || sys.Status == StatusArchived {
		return UserPoints{}, fmt.Errorf("points system %s: %w", gamifytype.Quote(system), ErrNotFound)
	}
	if sys.Status != StatusActive {
		return UserPoints{}, fmt.Errorf("points system %s is %s: %w", gamifytype.Quote(system), sys.Status, ErrConflict)
	}
	u, err := t.user(user, false)
	if err != nil || u == nil {
		return UserPoints{}, cmpErr(err, fmt.Errorf("user %q: %w", gamifytype.Quote(user), ErrNotFound))
	}
	i, had := u.s.pointsOf(sys.ref)
	var st points.State
	if had {
		st = u.s.Points[i].St
	}
	ns, fx, err := f(t.w.cat.points.ladders[system], st)
	if err != nil {
		return UserPoints{}, err
	}
	if !had {
		u.s.Points = slices.Insert(u.s.Points, i, userPoints{Ref: sys.ref})
	}
	u.s.Points[i].St = ns
	if fx.Changed() {
		if err := t.recordPoints(u, sys, fx, ""); err != nil {
			return UserPoints{}, err
		}
	}
	return pointsOf(t.w.cat, sys, u), nil
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
		return fmt.Errorf("points system %s: %w", gamifytype.Quote(system), ErrNotFound)
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

// PointsSystem is a points system (XP, coins, energy...): each user has a
// balance in it.
type PointsSystem struct {
	Key         string // immutable, [A-Za-z0-9_-]{1,64}
	Name        string // display name, required
	Description string // optional
	ImageURL    string // optional
	MaxPoints   Amount // caps a user's total; 0 means no cap
	// Status is active (the default), inactive or archived; see
	// PointsAPI.Activate, Deactivate and Delete.
	Status  Status
	Created time.Time
	Updated time.Time
	// Inactive lists when the system was inactive, oldest first; the last
	// is open (zero To) while it is inactive. The engine keeps it (Activate
	// and Deactivate change it; Patch refuses a change): an event is paid
	// by the system's status at its own time. Create takes it from an
	// export; left empty, a system created inactive was inactive since ever.
	Inactive []Interval `json:",omitempty"`

	// Levels, Triggers and Boosts are created with the system by Create, in
	// the same commit (their System may be left empty). Reads (Create, Get,
	// List) return the system's items that are not archived, in creation
	// order; they are changed through Points().Levels, Triggers and Boosts,
	// and a Patch may not set them.
	Levels   []Level   `json:",omitempty"`
	Triggers []Trigger `json:",omitempty"`
	Boosts   []Boost   `json:",omitempty"`

	ref uint32
}

// validate reports every bad field of the system itself.
func (s *PointsSystem) validate() error {
	var errs []error
	if err := gamifytype.ValidateKey("PointsSystem.Key", s.Key); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, validateName("PointsSystem", s.Name),
		gamifytype.CheckText("PointsSystem.Description", s.Description, gamifytype.MaxTextLen),
		gamifytype.CheckText("PointsSystem.ImageURL", s.ImageURL, gamifytype.MaxURLLen))
	if s.MaxPoints.Sign() < 0 {
		errs = append(errs, gamifytype.Invalid("PointsSystem.MaxPoints", s.MaxPoints, "must not be negative (0 means no cap)"))
	}
	return errors.Join(errs...)
}

// Validate reports every bad field of a points system to create, its
// levels, triggers and boosts included (named by their place, as
// "PointsSystem.Triggers[1].Points"), joined. Whether what they refer to
// exists (a metric, an achievement, a streak, a declared attribute) is
// checked by Create.
func (s *PointsSystem) Validate() error {
	errs := []error{s.validate()}
	// As Create takes them: an item's System may be left empty.
	system := func(list string, i int, sys *string) {
		switch {
		case *sys == "":
			*sys = s.Key
		case *sys != s.Key:
			errs = append(errs, gamifytype.Invalid(fmt.Sprintf("PointsSystem.%s[%d].System", list, i), *sys, "must be empty or the system's key"))
		}
	}
	for i, l := range s.Levels {
		system("Levels", i, &l.System)
		errs = append(errs, placed(l.validate(), "Level", fmt.Sprintf("PointsSystem.Levels[%d]", i)))
	}
	for i, tr := range s.Triggers {
		system("Triggers", i, &tr.System)
		errs = append(errs, placed(tr.validate(), "Trigger", fmt.Sprintf("PointsSystem.Triggers[%d]", i)))
	}
	for i, b := range s.Boosts {
		system("Boosts", i, &b.System)
		errs = append(errs, placed(b.validate(), "Boost", fmt.Sprintf("PointsSystem.Boosts[%d]", i)))
	}
	return errors.Join(errs...)
}

// everActive reports whether the system is active or was before: an
// inactive one created inactive and never activated counts for nothing.
func (s *PointsSystem) everActive() bool { return everActive(s.Status, s.Inactive) }

func (s *PointsSystem) domain() points.System {
	return points.System{Key: s.Key, Name: s.Name, Description: s.Description, ImageURL: s.ImageURL, MaxPoints: s.MaxPoints}
}

// AppliedBoost is one multiplier applied to an award.
type AppliedBoost struct {
	Key        string `json:",omitempty"` // the boost key; "" for the level multiplier
	Level      string `json:",omitempty"` // the level key for the level multiplier
	Multiplier Amount
}

// Award is one award of points.
type Award struct {
	ID       uint64         // the award's ledger sequence, unique and increasing
	At       time.Time      // when it was made
	Trigger  string         `json:",omitempty"` // "" for a manual award
	Kind     TriggerKind    `json:",omitempty"` // "" for a manual award
	Reason   string         `json:",omitempty"` // manual awards only
	Base     Amount         // the trigger's Points × Multiple, before multipliers
	Multiple int64          // how many thresholds, multiples or fires the award pays; negative for multiples of a streak run taken back
	Boosts   []AppliedBoost `json:",omitempty"`
	Rounding Rounding       `json:",omitempty"` // the mode used when Boosts is not empty
	Points   Amount         // the amount added to the total
	Capped   bool           `json:",omitempty"` // Points was cut to reach MaxPoints
	Total    Amount         // the total after the award
}

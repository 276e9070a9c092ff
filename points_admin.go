package gamify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// The shared admin verbs of the points definitions (systems, triggers,
// boosts, levels), over resource[T] from admin.go.

// defKind describes one kind of points definition for the shared verbs.
type defKind[T any] struct {
	resource[T]
	seq func(*T) uint64 // creation order
	// create validates a new definition against the command's catalogue and
	// stores it; it writes nothing when it fails.
	create func(t *txn, d T) (T, error)
	// store writes a definition whose status changed, without validating
	// it (Deactivate and Delete always succeed).
	store func(t *txn, d *T)
	// mark sets a definition's Status and Updated.
	mark func(d *T, s Status, at time.Time)
	// show turns a stored definition into what reads report (optional).
	show func(T) T
	// committed runs after a commit that created or activated ds, and, with
	// afterPatch, after patches too (optional).
	committed  func(e *Engine, ds []T) error
	afterPatch bool
}

func (k defKind[T]) shown(d T) T {
	if k.show != nil {
		return k.show(d)
	}
	return d
}

func (k defKind[T]) after(e *Engine, ds ...T) error {
	if k.committed == nil || len(ds) == 0 {
		return nil
	}
	return k.committed(e, ds)
}

func (k defKind[T]) get(e *Engine, key string) (T, error) {
	d, err := getDef(e, k.what, key, k.defs)
	if err != nil {
		return d, err
	}
	return k.shown(d), nil
}

// list pages the definitions in creation order; filter, if set, keeps some.
func (k defKind[T]) list(e *Engine, opts ListOptions, filter func(*T) bool) ([]T, error) {
	out, err := listDefs(e, opts, k.defs,
		func(d *T) bool {
			return (k.owned(d).status != StatusArchived || opts.IncludeArchived) && (filter == nil || filter(d))
		},
		func(x, y *T) int { return cmp.Compare(k.seq(x), k.seq(y)) })
	for i := range out {
		out[i] = k.shown(out[i])
	}
	return out, err
}

func (k defKind[T]) createOne(ctx context.Context, e *Engine, d T, key string) (T, error) {
	var zero T
	v, err := e.admin(ctx, e.now(), func(t *txn) (any, error) { return k.create(t, d) })
	if err != nil {
		return zero, fmt.Errorf("create %s %s: %w", k.what, key, err)
	}
	c := v.(T)
	if err := k.after(e, c); err != nil {
		return zero, fmt.Errorf("create %s %s: %w", k.what, key, err)
	}
	return k.shown(c), nil
}

func (k defKind[T]) bulkCreate(ctx context.Context, e *Engine, field string, ds []T, key func(T) string) ([]T, []Issue, error) {
	if err := checkBulk(field, len(ds)); err != nil {
		return nil, nil, err
	}
	var issues []Issue
	v, err := e.admin(ctx, e.now(), func(t *txn) (any, error) {
		issues = nil // the command may run again after a failed commit
		out := []T{}
		for i, d := range ds {
			c, err := k.create(t, d)
			if err != nil {
				issues = append(issues, Issue{Index: i, Key: key(d), Severity: SeverityError, Message: err.Error(), Err: err})
				continue
			}
			out = append(out, c)
		}
		return out, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("bulk create %ss: %w", k.what, err)
	}
	out := v.([]T)
	if err := k.after(e, out...); err != nil {
		return nil, nil, fmt.Errorf("bulk create %ss: %w", k.what, err)
	}
	for i := range out {
		out[i] = k.shown(out[i])
	}
	return out, issues, nil
}

func (k defKind[T]) patchOne(ctx context.Context, e *Engine, key string, edit func(*T)) (T, error) {
	d, err := k.patch(ctx, e, key, edit)
	if err != nil || !k.afterPatch {
		return k.shown(d), err
	}
	if err := k.after(e, d); err != nil {
		return d, fmt.Errorf("patch %s %s: %w", k.what, key, err)
	}
	return k.shown(d), nil
}

func (k defKind[T]) bulkPatch(ctx context.Context, e *Engine, keys []string, edit func(*T)) ([]T, []Issue, error) {
	out, issues, err := k.resource.bulkPatch(ctx, e, keys, edit)
	if err != nil {
		return out, issues, err
	}
	if k.afterPatch {
		if err := k.after(e, out...); err != nil {
			return nil, nil, fmt.Errorf("bulk patch %ss: %w", k.what, err)
		}
	}
	for i := range out {
		out[i] = k.shown(out[i])
	}
	return out, issues, nil
}

// setStatus activates (validating the definition against the catalogue
// again) or deactivates a definition; a definition already there is
// returned unchanged.
func (k defKind[T]) setStatus(ctx context.Context, e *Engine, key string, to Status) (T, error) {
	var zero T
	v, err := e.admin(ctx, e.now(), func(t *txn) (any, error) {
		old, ok := k.defs(t.catalogForWrite())[key]
		if !ok || k.owned(old).status == StatusArchived {
			return nil, ErrNotFound
		}
		if k.owned(old).status == to {
			return *old, nil
		}
		d := *old
		k.mark(&d, to, stamp(t.now))
		if to == StatusActive {
			return k.replace(t, old, d)
		}
		k.store(t, &d)
		return d, nil
	})
	if err != nil {
		return zero, fmt.Errorf("set %s %s %s: %w", k.what, key, to, err)
	}
	d := v.(T)
	if to == StatusActive {
		if err := k.after(e, d); err != nil {
			return zero, fmt.Errorf("set %s %s %s: %w", k.what, key, to, err)
		}
	}
	return k.shown(d), nil
}

func (k defKind[T]) archive(t *txn, key string) error {
	old, ok := k.defs(t.catalogForWrite())[key]
	if !ok || k.owned(old).status == StatusArchived {
		return ErrNotFound
	}
	d := *old
	k.mark(&d, StatusArchived, stamp(t.now))
	k.store(t, &d)
	return nil
}

func (k defKind[T]) delete(ctx context.Context, e *Engine, key string) error {
	_, err := e.admin(ctx, e.now(), func(t *txn) (any, error) { return nil, k.archive(t, key) })
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", k.what, key, err)
	}
	return nil
}

func (k defKind[T]) bulkDelete(ctx context.Context, e *Engine, keys []string) ([]Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, err
	}
	var issues []Issue
	_, err := e.admin(ctx, e.now(), func(t *txn) (any, error) {
		issues = nil
		for i, key := range keys {
			if err := k.archive(t, key); err != nil {
				issues = append(issues, Issue{Index: i, Key: key, Severity: SeverityError, Message: err.Error(), Err: err})
			}
		}
		return nil, nil
	})
	return issues, err
}

// ---- Triggers ----

// TriggersAPI administers the triggers of every points system. Get it from
// PointsAPI.Triggers.
//
// An inactive trigger awards nothing: events, completions, streaks and
// time fires pass unpaid, and events do not count toward its running sums,
// which are kept, so that it resumes where users were. Activating a time
// trigger sets its Since to now: fires while it was inactive are never paid.
type TriggersAPI struct{ e *Engine }

// Triggers returns the trigger administration API.
func (a PointsAPI) Triggers() TriggersAPI { return TriggersAPI{a.e} }

// TriggerFilter selects triggers in TriggersAPI.ListFor; empty fields
// match every trigger.
type TriggerFilter struct {
	System string
	Kind   TriggerKind
}

func (a TriggersAPI) kind() defKind[Trigger] {
	return defKind[Trigger]{
		resource: resource[Trigger]{
			what: "trigger", field: "Trigger",
			defs:  func(c *catalog) map[string]*Trigger { return c.points.triggers },
			clone: cloneTrigger,
			owned: func(t *Trigger) owned { return owned{t.Key, t.Status, t.Created, t.Updated} },
			replace: func(t *txn, old *Trigger, d Trigger) (Trigger, error) {
				var errs []error
				if d.System != old.System {
					errs = append(errs, gamifytype.Invalid("Trigger.System", d.System, "is immutable"))
				}
				if d.Kind != old.Kind {
					errs = append(errs, gamifytype.Invalid("Trigger.Kind", d.Kind, "is immutable (progress is kept by key)"))
				}
				activating := old.Status != StatusActive && d.Status == StatusActive
				errs = append(errs, d.validate())
				if err := errors.Join(errs...); err != nil {
					return Trigger{}, err
				}
				ref := old
				if activating {
					ref = nil // what it refers to must be usable again
				}
				if err := t.checkTriggerRefs(&d, ref); err != nil {
					return Trigger{}, err
				}
				if activating && d.Kind == TriggerTime {
					d.Since = stamp(t.now)
				}
				d.seq, d.Updated = old.seq, stamp(t.now)
				t.putTrigger(&d)
				return d, nil
			},
		},
		seq:        func(t *Trigger) uint64 { return t.seq },
		create:     (*txn).createTrigger,
		store:      (*txn).putTrigger,
		mark:       func(t *Trigger, s Status, at time.Time) { t.Status, t.Updated = s, at },
		afterPatch: true, // a time trigger's period may have changed
		committed: func(e *Engine, ts []Trigger) error {
			for _, t := range ts {
				if t.Kind == TriggerTime {
					if err := e.rebuildTimeQueue(); err != nil {
						return fmt.Errorf("queue users: %w", err)
					}
					break
				}
			}
			return nil
		},
	}
}

// checkTriggerRefs checks what a trigger refers to, or, with old set, what
// changed since old.
func (t *txn) checkTriggerRefs(tr, old *Trigger) error {
	cat := t.catalogForWrite()
	var errs []error
	if s, ok := cat.points.systems[tr.System]; old == nil && (!ok || s.Status == StatusArchived) {
		errs = append(errs, gamifytype.Invalid("Trigger.System", tr.System, "is not a points system"))
	}
	switch tr.Kind {
	case TriggerMetric:
		if m, ok := cat.metrics[tr.Metric]; (old == nil || old.Metric != tr.Metric) && (!ok || m.Status == StatusArchived) {
			errs = append(errs, gamifytype.Invalid("Trigger.Metric", tr.Metric, "is not a metric"))
		}
	case TriggerAchievement:
		if _, ok := cat.achievements[tr.Achievement]; (old == nil || old.Achievement != tr.Achievement) && !ok {
			errs = append(errs, gamifytype.Invalid("Trigger.Achievement", tr.Achievement, "is not an achievement"))
		}
	case TriggerStreak:
		if _, ok := cat.streaks[tr.Streak]; (old == nil || old.Streak != tr.Streak) && !ok {
			errs = append(errs, gamifytype.Invalid("Trigger.Streak", tr.Streak, "is not a streak"))
		}
	}
	return errors.Join(errs...)
}

func (t *txn) createTrigger(tr Trigger) (Trigger, error) {
	err := tr.validate()
	st, serr := createStatus("Trigger.Status", tr.Status)
	if err = errors.Join(err, serr); err == nil {
		err = t.checkTriggerRefs(&tr, nil)
	}
	if err != nil {
		return Trigger{}, err
	}
	p := &t.catalogForWrite().points
	if _, ok := p.triggers[tr.Key]; ok {
		return Trigger{}, fmt.Errorf("%w: trigger %s exists", ErrConflict, tr.Key)
	}
	tr = cloneTrigger(tr)
	if tr.Kind == TriggerTime && tr.Since.IsZero() {
		tr.Since = stamp(t.now) // fires before the trigger existed are not paid
	}
	p.lastSeq++
	tr.Status, tr.Created, tr.Updated, tr.seq = st, stamp(t.now), stamp(t.now), p.lastSeq
	t.putTrigger(&tr)
	return tr, nil
}

// Create defines a trigger of a points system that is not archived. A time
// trigger pays from its creation on (Since defaults to now); creating one
// queues every user, which reads the whole store. A key in use, even by an
// archived trigger, is ErrConflict.
func (a TriggersAPI) Create(ctx context.Context, tr Trigger) (Trigger, error) {
	return a.kind().createOne(ctx, a.e, tr, tr.Key)
}

// Get returns the trigger with key, archived or not, or ErrNotFound.
func (a TriggersAPI) Get(ctx context.Context, key string) (Trigger, error) {
	return a.kind().get(a.e, key)
}

// List returns the triggers of every system in creation order, inactive
// ones included and archived ones when asked.
func (a TriggersAPI) List(ctx context.Context, opts ListOptions) ([]Trigger, error) {
	return a.kind().list(a.e, opts, nil)
}

// ListFor returns the triggers that f selects, as List does.
func (a TriggersAPI) ListFor(ctx context.Context, f TriggerFilter, opts ListOptions) ([]Trigger, error) {
	return a.kind().list(a.e, opts, func(t *Trigger) bool {
		return (f.System == "" || t.System == f.System) && (f.Kind == "" || t.Kind == f.Kind)
	})
}

// Patch changes a trigger: edit gets a copy of it and sets the fields to
// change; the others are kept. Key, Status, Created and Updated are the
// engine's, and System and Kind are immutable (a change to one is a
// ValidationError). edit may run more than once and must only edit its
// argument.
func (a TriggersAPI) Patch(ctx context.Context, key string, edit func(*Trigger)) (Trigger, error) {
	return a.kind().patchOne(ctx, a.e, key, edit)
}

// BulkPatch runs edit on up to 100 triggers in one commit, reporting
// failures per item; it returns the triggers it changed.
func (a TriggersAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Trigger)) ([]Trigger, []Issue, error) {
	return a.kind().bulkPatch(ctx, a.e, keys, edit)
}

// Activate makes an inactive trigger award again (see TriggersAPI); what it
// refers to must still exist. Activating an active trigger changes nothing.
func (a TriggersAPI) Activate(ctx context.Context, key string) (Trigger, error) {
	return a.kind().setStatus(ctx, a.e, key, StatusActive)
}

// Deactivate stops a trigger from awarding (see TriggersAPI).
// Deactivating an inactive trigger changes nothing.
func (a TriggersAPI) Deactivate(ctx context.Context, key string) (Trigger, error) {
	return a.kind().setStatus(ctx, a.e, key, StatusInactive)
}

// Delete archives a trigger: it awards nothing and is hidden from lists;
// the awards it made stay and its key is never reused.
func (a TriggersAPI) Delete(ctx context.Context, key string) error {
	return a.kind().delete(ctx, a.e, key)
}

// BulkCreate creates up to 100 triggers in one commit. Items that fail are
// reported as issues and skipped; the others are created.
func (a TriggersAPI) BulkCreate(ctx context.Context, ts []Trigger) ([]Trigger, []Issue, error) {
	return a.kind().bulkCreate(ctx, a.e, "Triggers", ts, func(t Trigger) string { return t.Key })
}

// BulkDelete archives up to 100 triggers in one commit, reporting failures
// per item.
func (a TriggersAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return a.kind().bulkDelete(ctx, a.e, keys)
}

// ---- Boosts ----

// BoostsAPI administers the boosts of every points system: global, cohort
// and per-user ones, including those reward claims make. Get it from
// PointsAPI.Boosts.
//
// An inactive boost multiplies nothing; its window keeps running, so
// activating it again only helps if it is not finished.
type BoostsAPI struct{ e *Engine }

// Boosts returns the boost administration API.
func (a PointsAPI) Boosts() BoostsAPI { return BoostsAPI{a.e} }

// BoostFilter selects boosts in BoostsAPI.ListFor; empty fields match
// every boost.
type BoostFilter struct {
	System string
	Scope  BoostScope
	User   string // per-user boosts of this user
	Status Status // e.g. StatusActive for the boosts running now
}

func (a BoostsAPI) kind() defKind[Boost] {
	now, loc := a.e.now(), a.e.opts.DefaultTimezone
	return defKind[Boost]{
		resource: resource[Boost]{
			what: "boost", field: "Boost",
			defs: func(c *catalog) map[string]*Boost { return c.points.boosts },
			// The edit sees the stored Status (active, not the window's
			// scheduled or finished), so that a change to it is seen.
			clone: cloneBoost,
			owned: func(b *Boost) owned { return owned{b.Key, b.Status, b.Created, b.Updated} },
			replace: func(t *txn, old *Boost, d Boost) (Boost, error) {
				var errs []error
				if d.System != old.System {
					errs = append(errs, gamifytype.Invalid("Boost.System", d.System, "is immutable"))
				}
				errs = append(errs, d.validate())
				if err := errors.Join(errs...); err != nil {
					return Boost{}, err
				}
				d.Rounding = cmp.Or(d.Rounding, RoundDown)
				d.seq, d.Updated = old.seq, stamp(t.now)
				t.putBoost(&d)
				return d, nil
			},
		},
		seq:    func(b *Boost) uint64 { return b.seq },
		create: (*txn).createBoost,
		store:  (*txn).putBoost,
		mark:   func(b *Boost, s Status, at time.Time) { b.Status, b.Updated = s, at },
		show:   func(b Boost) Boost { return b.shown(now, loc) },
	}
}

func (t *txn) createBoost(b Boost) (Boost, error) {
	err := b.validate()
	st, serr := createStatus("Boost.Status", b.Status)
	if err = errors.Join(err, serr); err != nil {
		return Boost{}, err
	}
	p := &t.catalogForWrite().points
	if s, ok := p.systems[b.System]; !ok || s.Status == StatusArchived {
		return Boost{}, gamifytype.Invalid("Boost.System", b.System, "is not a points system")
	}
	if _, ok := p.boosts[b.Key]; ok {
		return Boost{}, fmt.Errorf("%w: boost %s exists", ErrConflict, b.Key)
	}
	b = cloneBoost(b)
	b.Rounding = cmp.Or(b.Rounding, RoundDown)
	p.lastSeq++
	b.Status, b.Created, b.Updated, b.seq = st, stamp(t.now), stamp(t.now), p.lastSeq
	t.putBoost(&b)
	return b, nil
}

// addClaimBoost stores the per-user boost a reward claim grants, under a
// key no boost has.
func (t *txn) addClaimBoost(b Boost) {
	p := &t.catalogForWrite().points
	for i, key := 2, b.Key; p.boosts[b.Key] != nil; i++ {
		b.Key = fmt.Sprintf("%s-%d", key, i)
	}
	p.lastSeq++
	b.Scope, b.Rounding = BoostUser, cmp.Or(b.Rounding, RoundDown)
	b.Status, b.Created, b.Updated, b.seq = StatusActive, stamp(t.now), stamp(t.now), p.lastSeq
	t.putBoost(&b)
}

// Create defines a boost of a points system that is not archived. A key in
// use, even by an archived boost, is ErrConflict.
func (a BoostsAPI) Create(ctx context.Context, b Boost) (Boost, error) {
	return a.kind().createOne(ctx, a.e, b, b.Key)
}

// Get returns the boost with key, archived or not, or ErrNotFound.
func (a BoostsAPI) Get(ctx context.Context, key string) (Boost, error) {
	return a.kind().get(a.e, key)
}

// List returns the boosts of every system and scope in creation order,
// scheduled, finished and inactive ones included, archived ones when asked.
func (a BoostsAPI) List(ctx context.Context, opts ListOptions) ([]Boost, error) {
	return a.kind().list(a.e, opts, nil)
}

// ListFor returns the boosts that f selects, as List does.
func (a BoostsAPI) ListFor(ctx context.Context, f BoostFilter, opts ListOptions) ([]Boost, error) {
	now, loc := a.e.now(), a.e.opts.DefaultTimezone
	return a.kind().list(a.e, opts, func(b *Boost) bool {
		return (f.System == "" || b.System == f.System) && (f.Scope == "" || b.Scope == f.Scope) &&
			(f.User == "" || b.User == f.User) && (f.Status == "" || b.shown(now, loc).Status == f.Status)
	})
}

// Patch changes a boost: edit gets a copy of it and sets the fields to
// change; the others are kept. The copy's Status is the stored one (active
// for a scheduled or finished boost); the result shows the window's. Key, Status, Created and
// Updated are the engine's and System is immutable (a change to one is a
// ValidationError). edit may run more than once and must only edit its
// argument.
func (a BoostsAPI) Patch(ctx context.Context, key string, edit func(*Boost)) (Boost, error) {
	return a.kind().patchOne(ctx, a.e, key, edit)
}

// BulkPatch runs edit on up to 100 boosts in one commit, reporting failures
// per item; it returns the boosts it changed.
func (a BoostsAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Boost)) ([]Boost, []Issue, error) {
	return a.kind().bulkPatch(ctx, a.e, keys, edit)
}

// Activate makes an inactive boost multiply again in its window.
// Activating an active (or scheduled, or finished) boost changes nothing.
func (a BoostsAPI) Activate(ctx context.Context, key string) (Boost, error) {
	return a.kind().setStatus(ctx, a.e, key, StatusActive)
}

// Deactivate stops a boost from multiplying. Deactivating an inactive
// boost changes nothing.
func (a BoostsAPI) Deactivate(ctx context.Context, key string) (Boost, error) {
	return a.kind().setStatus(ctx, a.e, key, StatusInactive)
}

// Delete archives a boost: it multiplies nothing and is hidden from lists;
// awards it boosted stay and its key is never reused.
func (a BoostsAPI) Delete(ctx context.Context, key string) error {
	return a.kind().delete(ctx, a.e, key)
}

// BulkCreate creates up to 100 boosts in one commit. Items that fail are
// reported as issues and skipped; the others are created.
func (a BoostsAPI) BulkCreate(ctx context.Context, bs []Boost) ([]Boost, []Issue, error) {
	return a.kind().bulkCreate(ctx, a.e, "Boosts", bs, func(b Boost) string { return b.Key })
}

// BulkDelete archives up to 100 boosts in one commit, reporting failures
// per item.
func (a BoostsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return a.kind().bulkDelete(ctx, a.e, keys)
}

// ---- Levels ----

// LevelsAPI administers the levels of one points system; level keys are
// unique within it. Get it from PointsAPI.Levels.
//
// An inactive level is not part of the ladder: nobody reaches it and a user
// at it moves to the level of their total at their next change of points
// (a pin to it stays until then). Users' levels follow every change of the
// ladder at their next change of points.
type LevelsAPI struct {
	e      *Engine
	system string
}

// Levels returns the level administration API of a points system.
func (a PointsAPI) Levels(system string) LevelsAPI { return LevelsAPI{a.e, system} }

func (a LevelsAPI) kind() defKind[Level] {
	system := a.system
	return defKind[Level]{
		resource: resource[Level]{
			what: "level of " + system, field: "Level",
			defs: func(c *catalog) map[string]*Level {
				out := map[string]*Level{}
				for _, l := range c.points.levels {
					if l.System == system {
						out[l.Key] = l
					}
				}
				return out
			},
			clone: cloneLevel,
			owned: func(l *Level) owned { return owned{l.Key, l.Status, l.Created, l.Updated} },
			replace: func(t *txn, old *Level, d Level) (Level, error) {
				var errs []error
				if d.System != old.System {
					errs = append(errs, gamifytype.Invalid("Level.System", d.System, "is immutable"))
				}
				errs = append(errs, d.validate())
				if err := errors.Join(errs...); err != nil {
					return Level{}, err
				}
				if err := t.checkLadder(&d); err != nil {
					return Level{}, err
				}
				d.seq, d.Updated = old.seq, stamp(t.now)
				t.putLevel(&d)
				return d, nil
			},
		},
		seq: func(l *Level) uint64 { return l.seq },
		create: func(t *txn, l Level) (Level, error) {
			if l.System != "" && l.System != system {
				return Level{}, gamifytype.Invalid("Level.System", l.System, "must be empty or "+system)
			}
			l.System = system
			return t.createLevel(l)
		},
		store: (*txn).putLevel,
		mark:  func(l *Level, s Status, at time.Time) { l.Status, l.Updated = s, at },
	}
}

// checkLadder refuses a level whose number another level of the system that
// is not archived has, or, active, whose threshold an active one has.
func (t *txn) checkLadder(l *Level) error {
	var errs []error
	for _, o := range sortedValues(t.catalogForWrite().points.levels) {
		if o.System != l.System || o.Key == l.Key || o.Status == StatusArchived || l.Status == StatusArchived {
			continue
		}
		if o.Level == l.Level {
			errs = append(errs, gamifytype.Invalid("Level.Level", l.Level, "is the number of level "+o.Key))
		}
		if l.Status == StatusActive && o.Status == StatusActive && o.Threshold.Cmp(l.Threshold) == 0 {
			errs = append(errs, gamifytype.Invalid("Level.Threshold", l.Threshold, "is the threshold of level "+o.Key))
		}
	}
	return errors.Join(errs...)
}

func (t *txn) createLevel(l Level) (Level, error) {
	err := l.validate()
	st, serr := createStatus("Level.Status", l.Status)
	if err = errors.Join(err, serr); err != nil {
		return Level{}, err
	}
	p := &t.catalogForWrite().points
	if s, ok := p.systems[l.System]; !ok || s.Status == StatusArchived {
		return Level{}, fmt.Errorf("points system %s: %w", l.System, ErrNotFound)
	}
	if _, ok := p.levels[levelID(l.System, l.Key)]; ok {
		return Level{}, fmt.Errorf("%w: level %s of %s exists", ErrConflict, l.Key, l.System)
	}
	l = cloneLevel(l)
	l.Status = st
	if err := t.checkLadder(&l); err != nil {
		return Level{}, err
	}
	p.lastSeq++
	l.Created, l.Updated, l.seq = stamp(t.now), stamp(t.now), p.lastSeq
	t.putLevel(&l)
	return l, nil
}

// systemExists reports ErrNotFound for a system that was never created.
func (a LevelsAPI) systemExists() error {
	if _, ok := a.e.cat.Load().points.systems[a.system]; !ok {
		return fmt.Errorf("points system %s: %w", a.system, ErrNotFound)
	}
	return nil
}

// Create defines a level of the system (which must not be archived); its
// System may be left empty. A key in use in the system, even by an
// archived level, is ErrConflict.
func (a LevelsAPI) Create(ctx context.Context, l Level) (Level, error) {
	return a.kind().createOne(ctx, a.e, l, l.Key)
}

// Get returns the level with key, archived or not, or ErrNotFound.
func (a LevelsAPI) Get(ctx context.Context, key string) (Level, error) {
	return a.kind().get(a.e, key)
}

// List returns the system's levels in creation order (sort by Order to
// display them), inactive ones included and archived ones when asked; a
// system that does not exist is ErrNotFound.
func (a LevelsAPI) List(ctx context.Context, opts ListOptions) ([]Level, error) {
	if err := a.systemExists(); err != nil {
		return nil, err
	}
	return a.kind().list(a.e, opts, nil)
}

// Patch changes a level: edit gets a copy of it and sets the fields to
// change; the others are kept. Key, Status, Created and Updated are the
// engine's and System is immutable (a change to one is a ValidationError).
// edit may run more than once and must only edit its argument.
func (a LevelsAPI) Patch(ctx context.Context, key string, edit func(*Level)) (Level, error) {
	return a.kind().patchOne(ctx, a.e, key, edit)
}

// BulkPatch runs edit on up to 100 levels in one commit, reporting
// failures per item; it returns the levels it changed.
func (a LevelsAPI) BulkPatch(ctx context.Context, keys []string, edit func(*Level)) ([]Level, []Issue, error) {
	return a.kind().bulkPatch(ctx, a.e, keys, edit)
}

// Activate puts an inactive level back in the ladder (its threshold must
// be free). Activating an active level changes nothing.
func (a LevelsAPI) Activate(ctx context.Context, key string) (Level, error) {
	return a.kind().setStatus(ctx, a.e, key, StatusActive)
}

// Deactivate takes a level out of the ladder (see LevelsAPI).
// Deactivating an inactive level changes nothing.
func (a LevelsAPI) Deactivate(ctx context.Context, key string) (Level, error) {
	return a.kind().setStatus(ctx, a.e, key, StatusInactive)
}

// Delete archives a level: it leaves the ladder as Deactivate does and is
// hidden from lists; its key is never reused in the system, and its number
// is free for another level.
func (a LevelsAPI) Delete(ctx context.Context, key string) error {
	return a.kind().delete(ctx, a.e, key)
}

// BulkCreate creates up to 100 levels of the system in one commit. Items
// that fail are reported as issues and skipped; the others are created.
func (a LevelsAPI) BulkCreate(ctx context.Context, ls []Level) ([]Level, []Issue, error) {
	return a.kind().bulkCreate(ctx, a.e, "Levels", ls, func(l Level) string { return l.Key })
}

// BulkDelete archives up to 100 levels of the system in one commit,
// reporting failures per item.
func (a LevelsAPI) BulkDelete(ctx context.Context, keys []string) ([]Issue, error) {
	return a.kind().bulkDelete(ctx, a.e, keys)
}

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
	c, err := createDef(ctx, e, k.resource, d)
	if err != nil {
		return zero, fmt.Errorf("create %s %s: %w", k.what, gamifytype.Quote(key), err)
	}
	if err := k.after(e, c); err != nil {
		return zero, fmt.Errorf("create %s %s: %w", k.what, gamifytype.Quote(key), err)
	}
	return k.shown(c), nil
}

func (k defKind[T]) bulkCreate(ctx context.Context, e *Engine, field string, ds []T, key func(T) string) ([]T, []Issue, error) {
	if err := checkBulk(field, len(ds)); err != nil {
		return nil, nil, err
	}
	res, errs, err := createDefs(ctx, e, k.resource, ds)
	if err != nil {
		return nil, nil, fmt.Errorf("bulk create %ss: %w", k.what, err)
	}
	keys := make([]string, len(ds))
	for i := range ds {
		keys[i] = key(ds[i])
	}
	out, issues, _ := collect(keys, res, errs)
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
		return d, fmt.Errorf("patch %s %s: %w", k.what, gamifytype.Quote(key), err)
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
	d, err := k.resource.setStatus(ctx, e, key, to)
	if err != nil {
		return d, err
	}
	if to == StatusActive {
		if err := k.after(e, d); err != nil {
			var zero T
			return zero, fmt.Errorf("set %s %s %s: %w", k.what, gamifytype.Quote(key), to, err)
		}
	}
	return k.shown(d), nil
}

// restatus is setStatus in the command.
func (k defKind[T]) restatus(t *txn, key string, to Status) (T, error) {
	var zero T
	old, ok := k.defs(t.catalogForWrite())[key]
	if !ok || k.owned(old).status == StatusArchived {
		return zero, ErrNotFound
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
	if err := archiveDef(ctx, e, k.resource, key); err != nil {
		return fmt.Errorf("delete %s %s: %w", k.what, gamifytype.Quote(key), err)
	}
	return nil
}

func (k defKind[T]) bulkDelete(ctx context.Context, e *Engine, keys []string) ([]Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, err
	}
	errs, err := archiveDefs(ctx, e, k.resource, keys)
	if err != nil {
		return nil, err
	}
	return keyIssues(keys, errs), nil
}

// registerPointsKind registers the kind that of makes (in a scope, for
// levels) for the def.* ops.
func registerPointsKind[T any](name string, of func(scope string) defKind[T]) kindOps[T] {
	return registerKind(name, kindOps[T]{
		of:      func(scope string) resource[T] { return of(scope).resource },
		create:  func(t *txn, scope string, d T) (T, error) { return of(scope).create(t, d) },
		status:  func(t *txn, scope, key string, to Status) (T, error) { return of(scope).restatus(t, key, to) },
		archive: func(t *txn, scope, key string) error { return of(scope).archive(t, key) },
	})
}

var (
	_ = registerPointsKind("points_system", func(string) defKind[PointsSystem] { return systemKind() })
	_ = registerPointsKind("trigger", func(string) defKind[Trigger] { return triggerKind() })
	_ = registerPointsKind("boost", func(string) defKind[Boost] { return boostKind() })
	_ = registerPointsKind("level", levelKind)
)

// ---- Triggers ----

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
	errs = append(errs, cat.checkFilterKeys("Trigger.EventFilters", EventAttribute, tr.EventFilters, oldFilters(old, func(t *Trigger) map[string]string { return t.EventFilters }))...)
	errs = append(errs, cat.checkFilterKeys("Trigger.UserFilters", UserAttribute, tr.UserFilters, oldFilters(old, func(t *Trigger) map[string]string { return t.UserFilters }))...)
	return errors.Join(errs...)
}

func (t *txn) createTrigger(tr Trigger) (Trigger, error) {
	err := tr.validate()
	st, serr := createStatus("Trigger.Status", tr.Status)
	var off []gamifytype.Interval
	if serr == nil {
		off, serr = createdOff("Trigger.Inactive", tr.Inactive, st, t.now)
	}
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
	tr.Inactive = off
	if tr.Kind == TriggerTime && tr.Since.IsZero() {
		tr.Since = stamp(t.now) // fires before the trigger existed are not paid
	}
	p.lastSeq++
	tr.Status, tr.Created, tr.Updated, tr.seq = st, stamp(t.now), stamp(t.now), p.lastSeq
	t.putTrigger(&tr)
	return tr, nil
}

// ---- Boosts ----

func (t *txn) createBoost(b Boost) (Boost, error) {
	err := b.validate()
	st, serr := createStatus("Boost.Status", b.Status)
	var off []gamifytype.Interval
	if serr == nil {
		off, serr = createdOff("Boost.Inactive", b.Inactive, st, t.now)
	}
	if err = errors.Join(err, serr); err != nil {
		return Boost{}, err
	}
	p := &t.catalogForWrite().points
	if s, ok := p.systems[b.System]; !ok || s.Status == StatusArchived {
		return Boost{}, gamifytype.Invalid("Boost.System", b.System, "is not a points system")
	}
	if err := errors.Join(t.catalogForWrite().checkFilterKeys("Boost.UserFilters", UserAttribute, b.UserFilters, nil)...); err != nil {
		return Boost{}, err
	}
	if _, ok := p.boosts[b.Key]; ok {
		return Boost{}, fmt.Errorf("%w: boost %s exists", ErrConflict, b.Key)
	}
	b = cloneBoost(b)
	b.Inactive = off
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

// ---- Levels ----

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
	if l.Status == StatusActive {
		t.queueRelevel(l.System) // a new level of the ladder: users move to it
	}
	return l, nil
}

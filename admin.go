package gamify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// This file holds the machinery every definition resource's admin API
// shares: one Status vocabulary, Patch as an edit of a copy, and the bulk
// forms with per-item issues. The resources' public faces live in their own
// files (metrics.go, streaks.go, ...).

// Status is where a definition is in its lifecycle. Every definition has one
// Status field with these values; each resource's doc says which it uses.
type Status string

const (
	// StatusInactive definitions exist but are not in use: events do not
	// count toward them and they award nothing.
	StatusInactive Status = "inactive"
	// StatusScheduled definitions (boards, boosts) start at a future date.
	StatusScheduled Status = "scheduled"
	// StatusActive definitions are in use.
	StatusActive Status = "active"
	// StatusLocked achievements award no new completions; holders keep them.
	StatusLocked Status = "locked"
	// StatusFinished definitions (boards, boosts) are past their end.
	StatusFinished Status = "finished"
	// StatusArchived definitions are deleted: hidden from lists unless asked,
	// unusable, with their history kept; the key is never reused.
	StatusArchived Status = "archived"
)

// errStale is returned by a patch command whose definition changed between
// the read the edit ran on and the command: the patch is retried.
var errStale = errors.New("gamify: definition changed during the patch")

// maxPatchAttempts bounds the retries of a patch racing other writes.
const maxPatchAttempts = 16

// owned are the fields of a definition that the engine sets: an edit that
// changes one is refused, naming the field.
type owned struct {
	key              string
	status           Status
	created, updated time.Time
}

// resource describes one kind of definition for the shared admin verbs.
type resource[T any] struct {
	what  string // "metric", for errors
	field string // "Metric", for ValidationError fields
	// defs returns the kind's definitions in a catalog, by key.
	defs func(*catalog) map[string]*T
	// clone copies a definition deeply enough that an edit of the copy
	// cannot reach the stored one (slices and maps).
	clone func(T) T
	// owned returns the engine-owned fields of a definition.
	owned func(*T) owned
	// replace validates an edited definition and stores it in place of old
	// (the engine-owned fields already checked equal).
	replace func(t *txn, old *T, d T) (T, error)
}

// checkOwned refuses an edit that changed an engine-owned field.
func (r resource[T]) checkOwned(old, d *T) error {
	o, n := r.owned(old), r.owned(d)
	var errs []error
	if n.key != o.key {
		errs = append(errs, gamifytype.Invalid(r.field+".Key", n.key, "is immutable"))
	}
	if n.status != o.status {
		errs = append(errs, gamifytype.Invalid(r.field+".Status", n.status, "changes only through Activate, Deactivate and Delete"))
	}
	if !n.created.Equal(o.created) {
		errs = append(errs, gamifytype.Invalid(r.field+".Created", n.created, "is set by the engine"))
	}
	if !n.updated.Equal(o.updated) {
		errs = append(errs, gamifytype.Invalid(r.field+".Updated", n.updated, "is set by the engine"))
	}
	return errors.Join(errs...)
}

// edited is one definition after the caller's edit, with the stored
// definition it was made from.
type edited[T any] struct {
	key  string
	base *T // the committed definition the edit ran on
	d    T
	err  error // set when the edit was refused before the command
}

// prepare runs edit on copies of the committed definitions with keys.
// The edit runs outside the writer, so it may read the engine.
func (r resource[T]) prepare(e *Engine, keys []string, edit func(*T)) []edited[T] {
	cat := e.cat.Load()
	out := make([]edited[T], len(keys))
	for i, k := range keys {
		out[i].key = k
		cur, ok := r.defs(cat)[k]
		if !ok || r.owned(cur).status == StatusArchived {
			out[i].err = fmt.Errorf("%s %s: %w", r.what, gamifytype.Quote(k), ErrNotFound)
			continue
		}
		out[i].base, out[i].d = cur, r.clone(*cur)
		edit(&out[i].d)
		out[i].err = r.checkOwned(cur, &out[i].d)
	}
	return out
}

// apply replaces each edited definition in the command, or reports that one
// changed since prepare read it.
func (r resource[T]) apply(t *txn, items []edited[T]) ([]T, []error, error) {
	defs := r.defs(t.catalogForWrite())
	for _, it := range items {
		if it.err == nil && defs[it.key] != it.base {
			return nil, nil, errStale
		}
	}
	out := make([]T, len(items))
	errs := make([]error, len(items))
	for i, it := range items {
		if errs[i] = it.err; errs[i] != nil {
			continue
		}
		out[i], errs[i] = r.replace(t, it.base, it.d)
	}
	return out, errs, nil
}

// patch edits the definition with key: edit gets a copy of it and changes
// the fields it means to change; the rest are kept. edit may run more than
// once (when another write lands meanwhile) and must not write to the engine.
func (r resource[T]) patch(ctx context.Context, e *Engine, key string, edit func(*T)) (T, error) {
	var zero T
	if err := e.live(); err != nil {
		return zero, err
	}
	for range maxPatchAttempts {
		items := r.prepare(e, []string{key}, edit)
		if items[0].err != nil {
			return zero, fmt.Errorf("patch %s %s: %w", r.what, gamifytype.Quote(key), items[0].err)
		}
		v, err := e.admin(ctx, e.now(), func(t *txn) (any, error) {
			out, errs, err := r.apply(t, items)
			if err != nil {
				return nil, err
			}
			return out[0], errs[0]
		})
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return zero, fmt.Errorf("patch %s %s: %w", r.what, gamifytype.Quote(key), err)
		}
		return v.(T), nil
	}
	return zero, fmt.Errorf("patch %s %s: %w: it kept changing under concurrent writes", r.what, gamifytype.Quote(key), ErrConflict)
}

// bulkPatch runs edit on up to BulkLimit definitions in one commit, reporting
// failures per item; the results are those that were applied, in order.
func (r resource[T]) bulkPatch(ctx context.Context, e *Engine, keys []string, edit func(*T)) ([]T, []Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, nil, err
	}
	if err := e.live(); err != nil {
		return nil, nil, err
	}
	for range maxPatchAttempts {
		items := r.prepare(e, keys, edit)
		type result struct {
			out  []T
			errs []error
		}
		v, err := e.admin(ctx, e.now(), func(t *txn) (any, error) {
			out, errs, err := r.apply(t, items)
			return result{out, errs}, err
		})
		if errors.Is(err, errStale) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("bulk patch %ss: %w", r.what, err)
		}
		res := v.(result)
		return collect(keys, res.out, res.errs)
	}
	return nil, nil, fmt.Errorf("bulk patch %ss: %w: they kept changing under concurrent writes", r.what, ErrConflict)
}

// collect turns per-item results and errors into the applied items and the
// issues of the others.
func collect[T any](keys []string, out []T, errs []error) ([]T, []Issue, error) {
	applied := []T{}
	var issues []Issue
	for i, err := range errs {
		if err != nil {
			issues = append(issues, Issue{Index: i, Key: keys[i], Severity: SeverityError, Message: err.Error(), Err: err})
			continue
		}
		applied = append(applied, out[i])
	}
	return applied, issues, nil
}

// bulkCreate creates up to BulkLimit definitions in one commit: each item is
// validated and created in turn, so a later item sees an earlier one (a key
// given twice fails the second time); failures are reported per item and
// skipped. field names the list in a ValidationError ("Metrics").
func bulkCreate[T any](ctx context.Context, e *Engine, what, field string, items []T, key func(*T) string,
	validate func(*T) error, create func(*txn, T) (T, error)) ([]T, []Issue, error) {
	if err := checkBulk(field, len(items)); err != nil {
		return nil, nil, err
	}
	if err := e.live(); err != nil {
		return nil, nil, err
	}
	type result struct {
		out    []T
		issues []Issue
	}
	v, err := e.admin(ctx, e.now(), func(t *txn) (any, error) {
		res := result{out: []T{}} // fresh on each run: a command may be applied again
		for i := range items {
			d := items[i]
			err := validate(&d)
			if err == nil {
				d, err = create(t, d)
			}
			if err != nil {
				res.issues = append(res.issues, Issue{Index: i, Key: key(&items[i]), Severity: SeverityError, Message: err.Error(), Err: err})
				continue
			}
			res.out = append(res.out, d)
		}
		return res, nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("bulk create %ss: %w", what, err)
	}
	res := v.(result)
	return res.out, res.issues, nil
}

// bulkDelete archives up to BulkLimit definitions in one commit, reporting
// failures per item.
func bulkDelete(ctx context.Context, e *Engine, what string, keys []string, archive func(*txn, string) error) ([]Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, err
	}
	v, err := e.admin(ctx, e.now(), func(t *txn) (any, error) {
		var issues []Issue
		for i, k := range keys {
			if err := archive(t, k); err != nil {
				err = fmt.Errorf("%s %s: %w", what, gamifytype.Quote(k), err)
				issues = append(issues, Issue{Index: i, Key: k, Severity: SeverityError, Message: err.Error(), Err: err})
			}
		}
		return issues, nil
	})
	if err != nil {
		return nil, fmt.Errorf("bulk delete %ss: %w", what, err)
	}
	return v.([]Issue), nil
}

// restatus moves a definition of a resource whose status change has no
// side effects (metrics, attributes) to status to, stamped now, and stores
// it with put; setting the status it has changes nothing. An archived or
// unknown key is ErrNotFound.
func (r resource[T]) restatus(t *txn, key string, to Status, set func(*T, Status, time.Time), put func(*txn, *T)) (T, error) {
	old, ok := r.defs(t.catalogForWrite())[key]
	if !ok || r.owned(old).status == StatusArchived {
		var zero T
		return zero, ErrNotFound
	}
	if r.owned(old).status == to {
		return *old, nil
	}
	d := r.clone(*old)
	set(&d, to, stamp(t.now))
	put(t, &d)
	return d, nil
}

// setStatus is restatus as a command of its own.
func (r resource[T]) setStatus(ctx context.Context, e *Engine, key string, to Status, set func(*T, Status, time.Time), put func(*txn, *T)) (T, error) {
	v, err := e.admin(ctx, e.now(), func(t *txn) (any, error) { return r.restatus(t, key, to, set, put) })
	if err != nil {
		var zero T
		return zero, fmt.Errorf("set %s %s %s: %w", r.what, gamifytype.Quote(key), to, err)
	}
	return v.(T), nil
}

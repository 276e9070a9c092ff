package gamify

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

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
	inactive         []gamifytype.Interval // nil for kinds that keep none
}

// resource describes one kind of definition for the shared admin verbs.
type resource[T any] struct {
	what  string // "metric", for errors
	field string // "Metric", for ValidationError fields
	// kind names the kind in the records of the def.* ops (defKinds), and
	// scope is the points system of a level.
	kind, scope string
	// check is the validation of a definition that needs no catalogue
	// (optional): encodeDef reports its error for a value it cannot encode.
	check func(*T) error
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
	if !slices.EqualFunc(n.inactive, o.inactive, sameInterval) {
		errs = append(errs, gamifytype.Invalid(r.field+".Inactive", len(n.inactive), "is set by the engine (Activate and Deactivate)"))
	}
	return errors.Join(errs...)
}

// sameInterval compares intervals as instants.
func sameInterval(a, b gamifytype.Interval) bool { return a.From.Equal(b.From) && a.To.Equal(b.To) }

// withoutInactive clears v's Inactive, if its type has one: the intervals
// a definition was inactive are the engine's (see Apply and digest).
func withoutInactive[T any](v *T) {
	if f := reflect.ValueOf(v).Elem().FieldByName("Inactive"); f.IsValid() {
		f.SetZero()
	}
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

// patchArgs turns the edits that prepare accepted into the items of a patch
// command; sent[j] is the index in items of the command's item j. An edit
// that cannot be encoded faithfully gets its error and is not sent.
func (r resource[T]) patchArgs(items []edited[T]) (a defPatchArgs, sent []int) {
	a = defPatchArgs{Kind: r.kind, Scope: r.scope, Items: []patchItem{}}
	for i := range items {
		it := &items[i]
		if it.err != nil {
			continue
		}
		base, err := digest(it.base)
		if err == nil {
			var def json.RawMessage
			if def, err = encodeDef(r, &it.d); err == nil {
				a.Items = append(a.Items, patchItem{Key: it.key, Base: base, Def: def})
				sent = append(sent, i)
				continue
			}
		}
		it.err = err
	}
	return a, sent
}

// digest is the SHA-256 of a definition's JSON: a patch command carries the
// digest of the definition its edit ran on, and is stale if the current one
// differs.
func digest[T any](d *T) ([]byte, error) {
	// Without the engine's intervals (Inactive), which only a status change
	// moves, and that changes Updated too: so a patch logged by a version
	// that kept them private has the digest it had.
	c := *d
	withoutInactive(&c)
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, err
	}
	// With the keys of renamed fields under their old names, for the same
	// reason: the JSON of a rename keeps the old digest (see renamedKeys).
	if r, ok := any(&c).(renamedKeys); ok {
		if b, err = withOldKeys(b, r.oldKeys()); err != nil {
			return nil, err
		}
	}
	h := sha256.Sum256(b)
	return h[:], nil
}

// applyPatch replaces each edited definition in the command, or reports
// errStale if one changed since the edit read it. The definition each edit
// replaces is the one current when the command starts, so that an earlier
// item of the same command does not count as a change.
func (r resource[T]) applyPatch(t *txn, items []patchItem) ([]T, []error, error) {
	defs := r.defs(t.catalogForWrite())
	olds := make([]*T, len(items))
	for i, it := range items {
		cur, ok := defs[it.Key]
		if !ok {
			return nil, nil, errStale
		}
		d, err := digest(cur)
		if err != nil {
			return nil, nil, err
		}
		if !bytes.Equal(d, it.Base) {
			return nil, nil, errStale
		}
		olds[i] = cur
	}
	out := make([]T, len(items))
	errs := make([]error, len(items))
	for i, it := range items {
		var d T
		if err := json.Unmarshal(it.Def, &d); err != nil {
			return nil, nil, err
		}
		out[i], errs[i] = r.replace(t, olds[i], d)
	}
	return out, errs, nil
}

// errNilEdit refuses a Patch without its edit function.
var errNilEdit = gamifytype.Invalid("edit", nil, "must be a function, not nil")

// patch edits the definition with key: edit gets a copy of it and changes
// the fields it means to change; the rest are kept. edit may run more than
// once (when another write lands meanwhile) and must not write to the engine.
func (r resource[T]) patch(ctx context.Context, e *Engine, key string, edit func(*T)) (T, error) {
	var zero T
	if edit == nil {
		return zero, errNilEdit
	}
	if err := e.live(); err != nil {
		return zero, err
	}
	for range maxPatchAttempts {
		items := r.prepare(e, []string{key}, edit)
		args, _ := r.patchArgs(items)
		if items[0].err != nil {
			return zero, fmt.Errorf("patch %s %s: %w", r.what, gamifytype.Quote(key), items[0].err)
		}
		v, err := e.exec(ctx, e.now(), defPatchOp.cmd(args))
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
// failures per item; it returns the definitions it changed.
func (r resource[T]) bulkPatch(ctx context.Context, e *Engine, keys []string, edit func(*T)) ([]T, []Issue, error) {
	if edit == nil {
		return nil, nil, errNilEdit
	}
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, nil, err
	}
	if err := e.live(); err != nil {
		return nil, nil, err
	}
	for range maxPatchAttempts {
		items := r.prepare(e, keys, edit)
		args, sent := r.patchArgs(items)
		out := make([]T, len(keys))
		errs := make([]error, len(keys))
		for i := range items {
			errs[i] = items[i].err
		}
		if len(sent) > 0 {
			v, err := e.exec(ctx, e.now(), defBulkPatchOp.cmd(args))
			if errors.Is(err, errStale) {
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("bulk patch %ss: %w", r.what, err)
			}
			spread(v.(bulkResult[T]), sent, out, errs)
		}
		return collect(keys, out, errs)
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

// bulkResult is what a bulk command did to each of its items.
type bulkResult[T any] struct {
	out  []T
	errs []error
}

// spread puts the result of a bulk command's item j at index sent[j] of out
// and errs.
func spread[T any](res bulkResult[T], sent []int, out []T, errs []error) {
	for j, i := range sent {
		out[i], errs[i] = res.out[j], res.errs[j]
	}
}

// encodeDef encodes a definition of r's kind for a command. JSON rewrites
// text that is not valid UTF-8 and cannot hold a time outside the years 0
// to 9999, and a text longer than any field allows would cost its size
// again: such a definition is refused here, with the error of r.check (the
// validation the command would run) or else one naming the field.
func encodeDef[T any](r resource[T], d *T) (json.RawMessage, error) {
	if err := checkEncodable(r.field, reflect.ValueOf(d).Elem()); err != nil {
		if r.check != nil {
			c := *d
			if verr := r.check(&c); verr != nil {
				return nil, verr
			}
		}
		return nil, err
	}
	return json.Marshal(d)
}

// encodeDefs encodes the definitions of a bulk create; sent[j] is the index
// in ds of the command's item j, and errs holds the items refused.
func encodeDefs[T any](r resource[T], ds []T) (raws []json.RawMessage, sent []int, errs []error) {
	raws, errs = []json.RawMessage{}, make([]error, len(ds))
	for i := range ds {
		b, err := encodeDef(r, &ds[i])
		if err != nil {
			errs[i] = err
			continue
		}
		raws, sent = append(raws, b), append(sent, i)
	}
	return raws, sent, errs
}

// namedTime is a time of an input and its field's name.
type namedTime struct {
	field string
	t     time.Time
}

// checkTimes checks that each set time of an import can be stored (a zero
// time is left to the caller's own checks), naming the first bad field
// (prefix+field).
func checkTimes(prefix string, times ...namedTime) error {
	for _, nt := range times {
		if !nt.t.IsZero() {
			if err := gamifytype.CheckTime(prefix+nt.field, nt.t); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkEncodable finds the first value of v, in exported fields, slices
// and maps, that JSON cannot hold as it is (text that is not valid UTF-8, a
// time outside the years 0 to 9999) or that no field allows (a text over
// MaxTextLen).
func checkEncodable(field string, v reflect.Value) error {
	if v.Type() == reflect.TypeFor[time.Time]() {
		if t := v.Interface().(time.Time); t.Year() < 0 || t.Year() > 9999 {
			return gamifytype.CheckTime(field, t)
		}
		return nil
	}
	switch v.Kind() {
	case reflect.String:
		if s := v.String(); len(s) > gamifytype.MaxTextLen || !utf8.ValidString(s) {
			return gamifytype.CheckText(field, s, gamifytype.MaxTextLen)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				if err := checkEncodable(field+"."+f.Name, v.Field(i)); err != nil {
					return err
				}
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil // bytes are base64 in JSON
		}
		for i := range v.Len() {
			if err := checkEncodable(field+"["+strconv.Itoa(i)+"]", v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return cmp.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			name := field + "[" + fmt.Sprint(k) + "]"
			if err := errors.Join(checkEncodable(name, k), checkEncodable(name, v.MapIndex(k))); err != nil {
				return err
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return checkEncodable(field, v.Elem())
		}
	}
	return nil
}

// bulkCreate creates up to BulkLimit definitions of r's kind in one commit:
// each item is validated and created in turn, so a later item sees an
// earlier one (a key given twice fails the second time); failures are
// reported per item and skipped. field names the list in a ValidationError
// ("Metrics").
func bulkCreate[T any](ctx context.Context, e *Engine, r resource[T], field string, items []T, key func(*T) string) ([]T, []Issue, error) {
	if err := checkBulk(field, len(items)); err != nil {
		return nil, nil, err
	}
	if err := e.live(); err != nil {
		return nil, nil, err
	}
	out, errs, err := createDefs(ctx, e, r, items)
	if err != nil {
		return nil, nil, fmt.Errorf("bulk create %ss: %w", r.what, err)
	}
	keys := make([]string, len(items))
	for i := range items {
		keys[i] = key(&items[i])
	}
	return collect(keys, out, errs)
}

// createDefs runs def.bulk_create over ds, returning what became of each.
func createDefs[T any](ctx context.Context, e *Engine, r resource[T], ds []T) ([]T, []error, error) {
	raws, sent, errs := encodeDefs(r, ds)
	out := make([]T, len(ds))
	if len(sent) > 0 {
		v, err := e.exec(ctx, e.now(), defBulkCreateOp.cmd(defBulkCreateArgs{Kind: r.kind, Scope: r.scope, Defs: raws}))
		if err != nil {
			return nil, nil, err
		}
		spread(v.(bulkResult[T]), sent, out, errs)
	}
	return out, errs, nil
}

// createDef runs def.create: the kind's create validates d and stores it.
func createDef[T any](ctx context.Context, e *Engine, r resource[T], d T) (T, error) {
	var zero T
	raw, err := encodeDef(r, &d)
	if err != nil {
		return zero, err
	}
	v, err := e.exec(ctx, e.now(), defCreateOp.cmd(defCreateArgs{Kind: r.kind, Scope: r.scope, Def: raw}))
	if err != nil {
		return zero, err
	}
	return v.(T), nil
}

// archiveDefs runs def.bulk_archive over keys (checked by the caller),
// returning each key's error. A string that cannot be a key names no
// definition: it is ErrNotFound without reaching the command.
func archiveDefs[T any](ctx context.Context, e *Engine, r resource[T], keys []string) ([]error, error) {
	errs := make([]error, len(keys))
	args := defKeysArgs{Kind: r.kind, Scope: r.scope, Keys: []string{}}
	var sent []int
	for i, k := range keys {
		if gamifytype.ValidateKey("", k) != nil {
			errs[i] = ErrNotFound
			continue
		}
		args.Keys, sent = append(args.Keys, k), append(sent, i)
	}
	if len(sent) == 0 {
		return errs, nil
	}
	v, err := e.exec(ctx, e.now(), defBulkArchiveOp.cmd(args))
	if err != nil {
		return nil, err
	}
	for j, i := range sent {
		errs[i] = v.([]error)[j]
	}
	return errs, nil
}

// archiveDef runs def.archive on the definition with key.
func archiveDef[T any](ctx context.Context, e *Engine, r resource[T], key string) error {
	if gamifytype.ValidateKey("", key) != nil {
		return ErrNotFound
	}
	_, err := e.exec(ctx, e.now(), defArchiveOp.cmd(defKeysArgs{Kind: r.kind, Scope: r.scope, Keys: []string{key}}))
	return err
}

// keyIssues turns per-key errors into issues.
func keyIssues(keys []string, errs []error) []Issue {
	var issues []Issue
	for i, err := range errs {
		if err != nil {
			issues = append(issues, Issue{Index: i, Key: keys[i], Severity: SeverityError, Message: err.Error(), Err: err})
		}
	}
	return issues
}

// bulkDelete archives up to BulkLimit definitions in one commit, reporting
// failures per item.
func bulkDelete[T any](ctx context.Context, e *Engine, r resource[T], keys []string) ([]Issue, error) {
	if err := checkBulk("Keys", len(keys)); err != nil {
		return nil, err
	}
	errs, err := archiveDefs(ctx, e, r, keys)
	if err != nil {
		return nil, fmt.Errorf("bulk delete %ss: %w", r.what, err)
	}
	for i, k := range keys {
		if errs[i] != nil {
			errs[i] = fmt.Errorf("%s %s: %w", r.what, gamifytype.Quote(k), errs[i])
		}
	}
	return keyIssues(keys, errs), nil
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

// setStatus runs def.status: the kind's status change of the definition
// with key to to.
func (r resource[T]) setStatus(ctx context.Context, e *Engine, key string, to Status) (T, error) {
	v, err := execStatus(ctx, e, r.kind, r.scope, key, to)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("set %s %s %s: %w", r.what, gamifytype.Quote(key), to, err)
	}
	return v.(T), nil
}

// execStatus runs def.status; a string that cannot be a key is ErrNotFound
// without reaching the command.
func execStatus(ctx context.Context, e *Engine, kind, scope, key string, to Status) (any, error) {
	if gamifytype.ValidateKey("", key) != nil {
		return nil, ErrNotFound
	}
	return e.exec(ctx, e.now(), defStatusOp.cmd(defStatusArgs{Kind: kind, Scope: scope, Key: key, To: to}))
}

// ---- The logged ops ----

// The def.* ops change definitions of every kind. A record carries the
// kind's name (defKinds), its scope (the points system of a level) and the
// definitions as JSON, which the op decodes: the engine that runs a command
// applies exactly what a replica decoding its record applies.

// kindOps is the command side of one kind of definition, which the def.*
// ops look up by name.
type kindOps[T any] struct {
	// of is the kind's resource in scope.
	of func(scope string) resource[T]
	// create validates a new definition against the command's catalogue
	// and stores it; it writes nothing when it fails. Nil for a kind
	// created by ops of its own (rewards).
	create func(t *txn, scope string, d T) (T, error)
	// status moves a definition to a status (Activate, Deactivate, ...);
	// a definition already there is returned unchanged.
	status func(t *txn, scope, key string, to Status) (T, error)
	// archive deletes a definition (ErrNotFound if missing or archived).
	archive func(t *txn, scope, key string) error
}

// checkedCreate is a kind's create that validates the definition with
// check before create stores it.
func checkedCreate[T any](check func(*T) error, create func(*txn, T) (T, error)) func(*txn, string, T) (T, error) {
	return func(t *txn, _ string, d T) (T, error) {
		if err := check(&d); err != nil {
			var zero T
			return zero, err
		}
		return create(t, d)
	}
}

// kindCmds is a kindOps of any type.
type kindCmds interface {
	runCreate(t *txn, scope string, def json.RawMessage) (any, error)
	runBulkCreate(t *txn, scope string, defs []json.RawMessage) (any, error)
	runPatch(t *txn, scope string, items []patchItem, bulk bool) (any, error)
	runStatus(t *txn, scope, key string, to Status) (any, error)
	runArchive(t *txn, scope, key string) error
}

// defKinds holds every kind by the name its records carry; a name never
// changes meaning.
var defKinds = map[string]kindCmds{}

func registerKind[T any](name string, k kindOps[T]) kindOps[T] {
	if _, dup := defKinds[name]; dup {
		panic("gamify: definition kind " + name + " defined twice")
	}
	defKinds[name] = k
	return k
}

func kindNamed(name string) (kindCmds, error) {
	k, ok := defKinds[name]
	if !ok {
		return nil, fmt.Errorf("gamify: unknown definition kind %s", gamifytype.Quote(name))
	}
	return k, nil
}

var errOwnCreate = errors.New("gamify: this kind is created by ops of its own")

func (k kindOps[T]) runCreate(t *txn, scope string, def json.RawMessage) (any, error) {
	if k.create == nil {
		return nil, errOwnCreate
	}
	var d T
	if err := json.Unmarshal(def, &d); err != nil {
		return nil, err
	}
	return k.create(t, scope, d)
}

func (k kindOps[T]) runBulkCreate(t *txn, scope string, defs []json.RawMessage) (any, error) {
	if k.create == nil {
		return nil, errOwnCreate
	}
	res := bulkResult[T]{out: make([]T, len(defs)), errs: make([]error, len(defs))}
	for i, raw := range defs {
		var d T
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, err
		}
		res.out[i], res.errs[i] = k.create(t, scope, d)
	}
	return res, nil
}

func (k kindOps[T]) runPatch(t *txn, scope string, items []patchItem, bulk bool) (any, error) {
	out, errs, err := k.of(scope).applyPatch(t, items)
	if err != nil {
		return nil, err
	}
	if !bulk {
		if len(items) != 1 {
			return nil, fmt.Errorf("gamify: a patch command has %d items, not 1", len(items))
		}
		return out[0], errs[0]
	}
	return bulkResult[T]{out, errs}, nil
}

func (k kindOps[T]) runStatus(t *txn, scope, key string, to Status) (any, error) {
	return k.status(t, scope, key, to)
}

func (k kindOps[T]) runArchive(t *txn, scope, key string) error { return k.archive(t, scope, key) }

type defCreateArgs struct {
	Kind  string
	Scope string `json:",omitempty"`
	Def   json.RawMessage
}

type defBulkCreateArgs struct {
	Kind  string
	Scope string `json:",omitempty"`
	Defs  []json.RawMessage
}

type defPatchArgs struct {
	Kind  string
	Scope string `json:",omitempty"`
	Items []patchItem
}

// patchItem is one edited definition: its key, the digest of the definition
// the edit ran on, and the edited definition.
type patchItem struct {
	Key  string
	Base []byte
	Def  json.RawMessage
}

type defStatusArgs struct {
	Kind  string
	Scope string `json:",omitempty"`
	Key   string
	To    Status
}

// defKeysArgs names definitions to archive (one for def.archive).
type defKeysArgs struct {
	Kind  string
	Scope string `json:",omitempty"`
	Keys  []string
}

var (
	defCreateOp = newOp("def.create", func(t *txn, a defCreateArgs) (any, error) {
		k, err := kindNamed(a.Kind)
		if err != nil {
			return nil, err
		}
		return k.runCreate(t, a.Scope, a.Def)
	})
	defBulkCreateOp = newOp("def.bulk_create", func(t *txn, a defBulkCreateArgs) (any, error) {
		k, err := kindNamed(a.Kind)
		if err != nil {
			return nil, err
		}
		return k.runBulkCreate(t, a.Scope, a.Defs)
	})
	defPatchOp = newOp("def.patch", func(t *txn, a defPatchArgs) (any, error) {
		k, err := kindNamed(a.Kind)
		if err != nil {
			return nil, err
		}
		return k.runPatch(t, a.Scope, a.Items, false)
	})
	defBulkPatchOp = newOp("def.bulk_patch", func(t *txn, a defPatchArgs) (any, error) {
		k, err := kindNamed(a.Kind)
		if err != nil {
			return nil, err
		}
		return k.runPatch(t, a.Scope, a.Items, true)
	})
	defStatusOp = newOp("def.status", func(t *txn, a defStatusArgs) (any, error) {
		k, err := kindNamed(a.Kind)
		if err != nil {
			return nil, err
		}
		return k.runStatus(t, a.Scope, a.Key, a.To)
	})
	defArchiveOp = newOp("def.archive", func(t *txn, a defKeysArgs) (any, error) {
		k, err := kindNamed(a.Kind)
		if err != nil {
			return nil, err
		}
		if len(a.Keys) != 1 {
			return nil, fmt.Errorf("gamify: an archive command has %d keys, not 1", len(a.Keys))
		}
		return nil, k.runArchive(t, a.Scope, a.Keys[0])
	})
	defBulkArchiveOp = newOp("def.bulk_archive", func(t *txn, a defKeysArgs) (any, error) {
		k, err := kindNamed(a.Kind)
		if err != nil {
			return nil, err
		}
		errs := make([]error, len(a.Keys))
		for i, key := range a.Keys {
			errs[i] = k.runArchive(t, a.Scope, key)
		}
		return errs, nil
	})
)

package gamify

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
)

// BoostsAPI administers the boosts of every points system: global, cohort
// and per-user ones, including those reward claims make. Get it from
// PointsAPI.Boosts.
//
// An inactive boost multiplies nothing; its window keeps running, so
// activating it again only helps if it is not finished. Like the window,
// the status is the one at the award's time: a late event dated while the
// boost was active is multiplied even if it is inactive now, one dated
// while it was inactive is not after Activate.
type BoostsAPI struct{ e *Engine }

// BoostFilter selects boosts in BoostsAPI.ListFor; empty fields match
// every boost.
type BoostFilter struct {
	System string
	Scope  BoostScope
	User   string // per-user boosts of this user
	Status Status // e.g. StatusActive for the boosts running now
}

func (a BoostsAPI) kind() defKind[Boost] {
	k := boostKind()
	now, loc := a.e.now(), a.e.opts.DefaultTimezone
	k.show = func(b Boost) Boost { return b.shown(now, loc) }
	return k
}

func boostKind() defKind[Boost] {
	return defKind[Boost]{
		resource: resource[Boost]{
			what: "boost", field: "Boost", kind: "boost", check: (*Boost).validate,
			defs: func(c *catalog) map[string]*Boost { return c.points.boosts },
			// The edit sees the stored Status (active, not the window's
			// scheduled or finished), so that a change to it is seen.
			clone: cloneBoost,
			owned: func(b *Boost) owned { return owned{b.Key, b.Status, b.Created, b.Updated, b.Inactive} },
			replace: func(t *txn, old *Boost, d Boost) (Boost, error) {
				var errs []error
				if d.System != old.System {
					errs = append(errs, gamifytype.Invalid("Boost.System", d.System, "is immutable"))
				}
				errs = append(errs, d.validate())
				errs = append(errs, t.catalogForWrite().checkFilterKeys("Boost.UserFilters", UserAttribute, d.UserFilters, old.UserFilters)...)
				if err := errors.Join(errs...); err != nil {
					return Boost{}, err
				}
				d.Rounding = cmp.Or(d.Rounding, RoundDown)
				if d.Status == old.Status { // a patch: the intervals are the engine's
					d.Inactive = old.Inactive
				}
				d.seq, d.Updated = old.seq, stamp(t.now)
				// A retired boost whose end moved later is live again (its end
				// job retires it once more).
				d.retired = old.retired && !d.End.IsZero() && !d.End.After(t.now)
				t.putBoost(&d)
				return d, nil
			},
		},
		seq:    func(b *Boost) uint64 { return b.seq },
		create: (*txn).createBoost,
		store:  (*txn).putBoost,
		mark: func(b *Boost, s Status, at time.Time) {
			b.Inactive = offAfterStatus(b.Inactive, b.Status, s, at)
			b.Status, b.Updated = s, at
		},
	}
}

// Create defines a boost of a points system that is not archived. A key in
// use, even by an archived boost, is ErrConflict. Inactive, from an export,
// gives the intervals it was inactive (at most 64, oldest first, not
// overlapping, the last open only when created inactive: docs/behaviour.md,
// "Status"); left empty, a boost created inactive is inactive since ever.
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

// ListFor returns the boosts that f selects, as List does. A System that
// was never created is ErrNotFound (a ValidationError naming
// BoostFilter.System), as it is to Levels(system).List.
func (a BoostsAPI) ListFor(ctx context.Context, f BoostFilter, opts ListOptions) ([]Boost, error) {
	if err := systemKnown(a.e, "BoostFilter.System", f.System); err != nil {
		return nil, err
	}
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

// Boost multiplies the positive awards of System for the users in its
// scope during its window.
type Boost struct {
	Key    string     // immutable, unique among all boosts
	System string     // the points system; immutable
	Name   string     // optional display name
	Scope  BoostScope // global, cohort or user
	// UserFilters (BoostCohort) must all match the user's attributes.
	UserFilters map[string]string `json:",omitempty"`
	// User (BoostUser) is the user's id.
	User string `json:",omitempty"`
	// From and To (BoostGlobal, BoostCohort) are local dates in the user's
	// zone, inclusive; a zero To means open-ended.
	From Date `json:",omitzero"`
	To   Date `json:",omitzero"`
	// Start and End (BoostUser) are instants, End exclusive; a zero End
	// means open-ended.
	Start time.Time `json:",omitzero"`
	End   time.Time `json:",omitzero"`
	// Multiplier is in (0, 100) and not 1.
	Multiplier Amount
	Rounding   Rounding // down (the default), up or nearest
	// Status is inactive, archived, or, for an active boost, where the clock
	// is in its window: scheduled, active or finished (date windows read in
	// Options.DefaultTimezone). Create takes "" (active) or inactive. An
	// inactive boost multiplies nothing.
	Status  Status
	Created time.Time
	Updated time.Time
	// Inactive lists when the boost was inactive, oldest first; the last is
	// open (zero To) while it is inactive. The engine keeps it (Activate
	// and Deactivate change it; Patch refuses a change): an award is judged
	// by the status at its own time. Create takes it from an export (see
	// BoostsAPI.Create); left empty, a boost created inactive was inactive
	// since ever.
	Inactive []Interval `json:",omitempty"`

	seq     uint64
	retired bool // per-user: past its end, out of the hot rules (pointsDefs.index)
}

func (b *Boost) domain() points.Boost {
	return points.Boost{Key: b.Key, System: b.System, Name: b.Name, Scope: boostScopes[b.Scope], UserFilters: b.UserFilters,
		User: b.User, From: points.Date{Year: b.From.Year, Month: b.From.Month, Day: b.From.Day},
		To: points.Date{Year: b.To.Year, Month: b.To.Month, Day: b.To.Day}, Start: b.Start, End: b.End,
		Multiplier: b.Multiplier, Rounding: roundings[cmp.Or(b.Rounding, RoundDown)], Off: b.Inactive}
}

// everActive reports whether b multiplies anything at some time: active,
// or inactive since some time after the start of time.
func (b *Boost) everActive() bool { return everActive(b.Status, b.Inactive) }

// Validate reports every bad field of a boost to create, joined. Whether
// its system exists and its filter keys are declared attributes is checked
// by Create.
func (b *Boost) Validate() error { return b.validate() }

func (b *Boost) validate() error {
	var own []error
	_, scopeOK := boostScopes[b.Scope]
	if !scopeOK {
		own = append(own, gamifytype.Invalid("Boost.Scope", b.Scope, "must be global, cohort or user"))
	}
	_, roundOK := roundings[cmp.Or(b.Rounding, RoundDown)]
	if !roundOK {
		own = append(own, gamifytype.Invalid("Boost.Rounding", b.Rounding, "must be down, up or nearest"))
	}
	d := b.domain()
	if !roundOK {
		d.Rounding = points.RoundDown
	}
	err := mapInvalid(d.Validate(), func(v *ValidationError) *ValidationError {
		if v.Field == "Boost.Scope" && !scopeOK {
			return nil
		}
		if strings.HasPrefix(v.Field, "Boost.Off") {
			return nil // the engine's own intervals; Create checks given ones (checkInactive)
		}
		return v
	})
	return errors.Join(append(own, err)...)
}

// shown is the boost as reads report it: an active boost's Status says
// where now falls in its window.
func (b Boost) shown(now time.Time, loc *time.Location) Boost {
	if b.Status == StatusActive {
		switch b.domain().StatusAt(now, loc) {
		case points.Scheduled:
			b.Status = StatusScheduled
		case points.Finished:
			b.Status = StatusFinished
		}
	}
	return b
}

// BoostScope says which users a Boost applies to.
type BoostScope string

const (
	// BoostGlobal boosts apply to every user.
	BoostGlobal BoostScope = "global"
	// BoostCohort boosts apply to users whose attributes match UserFilters.
	BoostCohort BoostScope = "cohort"
	// BoostUser boosts apply to the one user User (reward claims make them).
	BoostUser BoostScope = "user"
)

// Rounding is how a multiplied award is rounded to a whole point.
type Rounding string

const (
	// RoundDown rounds toward −infinity (the default).
	RoundDown Rounding = "down"
	// RoundUp rounds toward +infinity.
	RoundUp Rounding = "up"
	// RoundNearest rounds to the nearest point, halves up.
	RoundNearest Rounding = "nearest"
)

package gamify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
)

// TriggersAPI administers the triggers of every points system. Get it from
// PointsAPI.Triggers.
//
// An inactive trigger awards nothing: events, completions, streaks and
// time fires pass unpaid, and events do not count toward its running sums,
// which are kept, so that it resumes where users were. Activating a time
// trigger sets its Since to now: fires while it was inactive are never paid.
//
// For all but time triggers the status is the one at the time of the
// event, completion or creation (for a streak trigger, of the event that
// made the run reach the multiple), not at its arrival: a late event dated
// while the trigger was active pays even if the trigger is inactive now,
// one dated while it was inactive pays nothing after Activate. A trigger
// created inactive was never active before its first Activate.
type TriggersAPI struct{ e *Engine }

// TriggerFilter selects triggers in TriggersAPI.ListFor; empty fields
// match every trigger.
type TriggerFilter struct {
	System string
	Kind   TriggerKind
}

func (a TriggersAPI) kind() defKind[Trigger] { return triggerKind() }

func triggerKind() defKind[Trigger] {
	return defKind[Trigger]{
		resource: resource[Trigger]{
			what: "trigger", field: "Trigger", kind: "trigger", check: (*Trigger).validate,
			defs:  func(c *catalog) map[string]*Trigger { return c.points.triggers },
			clone: cloneTrigger,
			owned: func(t *Trigger) owned { return owned{t.Key, t.Status, t.Created, t.Updated, t.Inactive} },
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
				if d.Status == old.Status { // a patch: the intervals are the engine's
					d.Inactive = old.Inactive
				}
				d.seq, d.Updated = old.seq, stamp(t.now)
				t.putTrigger(&d)
				return d, nil
			},
		},
		seq:    func(t *Trigger) uint64 { return t.seq },
		create: (*txn).createTrigger,
		store:  (*txn).putTrigger,
		mark: func(t *Trigger, s Status, at time.Time) {
			t.Inactive = offAfterStatus(t.Inactive, t.Status, s, at)
			t.Status, t.Updated = s, at
		},
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

// Create defines a trigger of a points system that is not archived. A time
// trigger pays from its creation on (Since defaults to now); creating one
// queues every user, which reads the whole store. A key in use, even by an
// archived trigger, is ErrConflict. Inactive, from an export, gives the
// intervals it was inactive (the rules: docs/behaviour.md, "Status"); left
// empty, a trigger created inactive is inactive since ever.
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

// ListFor returns the triggers that f selects, as List does. A System
// that was never created is ErrNotFound (a ValidationError naming
// TriggerFilter.System), as it is to Levels(system).List.
func (a TriggersAPI) ListFor(ctx context.Context, f TriggerFilter, opts ListOptions) ([]Trigger, error) {
	if err := systemKnown(a.e, "TriggerFilter.System", f.System); err != nil {
		return nil, err
	}
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

// Trigger awards Points in System when its condition is met. Points may be
// negative (metering, energy).
type Trigger struct {
	Key    string      // immutable, unique among all triggers
	System string      // the points system; immutable
	Kind   TriggerKind // immutable: a trigger's progress is kept by key
	Points Amount      // not 0, within ±1000000000
	// Metric and Threshold (TriggerMetric): Points every Threshold units of
	// the trigger's own running sum of Metric; only events whose attributes
	// match every EventFilters pair count.
	Metric       string            `json:",omitempty"`
	Threshold    Amount            `json:",omitzero"`
	EventFilters map[string]string `json:",omitempty"`
	// Achievement (TriggerAchievement) is the achievement whose completion awards.
	Achievement string `json:",omitempty"`
	// Streak and EveryN (TriggerStreak): Points each time the length reaches
	// a multiple of EveryN.
	Streak string `json:",omitempty"`
	EveryN int    `json:",omitempty"`
	// Every and Unit (TriggerTime): Points every Every hours or days from the
	// user's creation. Fires at or before Since are not paid: the engine sets
	// it to the creation (when left zero) and to the time of each Activate.
	Every int         `json:",omitempty"`
	Unit  TriggerUnit `json:",omitempty"`
	Since time.Time   `json:",omitzero"`
	// UserFilters gates the trigger: every pair must match the user's attributes.
	UserFilters map[string]string `json:",omitempty"`
	// BlockIfOutOfPoints makes a negative award that would take available
	// below zero fail with ErrInsufficientPoints (the engine rejects the event).
	BlockIfOutOfPoints bool `json:",omitempty"`
	// Status is active (the default, where Trophy's API creates triggers
	// inactive), inactive or archived. An inactive trigger awards nothing;
	// its users' progress is kept.
	Status  Status
	Created time.Time
	Updated time.Time
	// Inactive lists when the trigger was inactive, oldest first; the last
	// is open (zero To) while it is inactive. The engine keeps it (Activate
	// and Deactivate change it; Patch refuses a change): an event is judged
	// by the status at its own time. Create takes it from an export (see
	// TriggersAPI.Create); left empty, a trigger created inactive was
	// inactive since ever.
	Inactive []Interval `json:",omitempty"`

	seq uint64 // creation order
}

func (tr *Trigger) domain() points.Trigger {
	var off []gamifytype.Interval
	if tr.Status != StatusArchived {
		off = tr.Inactive
	}
	return points.Trigger{Off: off, Key: tr.Key, System: tr.System, Kind: triggerKinds[tr.Kind], Points: tr.Points,
		Metric: tr.Metric, Threshold: tr.Threshold, EventFilters: tr.EventFilters, Achievement: tr.Achievement,
		Streak: tr.Streak, EveryN: tr.EveryN, Every: tr.Every, Unit: triggerUnits[tr.Unit], Since: tr.Since,
		UserFilters: tr.UserFilters, BlockIfOutOfPoints: tr.BlockIfOutOfPoints, Active: tr.Status == StatusActive}
}

// Validate reports every bad field of a trigger to create, joined. Whether
// its system, metric, achievement or streak exist, and its filter keys are
// declared attributes, is checked by Create.
func (tr *Trigger) Validate() error { return tr.validate() }

// validate reports every bad field of the trigger's own definition (the
// catalogue checks, such as the metric existing, come later).
func (tr *Trigger) validate() error {
	var own []error
	_, kindOK := triggerKinds[tr.Kind]
	if !kindOK {
		own = append(own, gamifytype.Invalid("Trigger.Kind", tr.Kind, "must be metric, achievement, streak, time or user_creation"))
	}
	_, unitOK := triggerUnits[tr.Unit]
	if tr.Kind == TriggerTime && !unitOK {
		own = append(own, gamifytype.Invalid("Trigger.Unit", tr.Unit, "must be hours or days"))
	}
	if tr.Kind != TriggerTime && tr.Unit != "" {
		own = append(own, gamifytype.Invalid("Trigger.Unit", tr.Unit, "applies to time triggers only"))
	}
	err := mapInvalid(tr.domain().Validate(), func(v *ValidationError) *ValidationError {
		if (v.Field == "Trigger.Kind" && !kindOK) || (v.Field == "Trigger.Unit" && !unitOK) {
			return nil // reported above, by name
		}
		if strings.HasPrefix(v.Field, "Trigger.Off") {
			return nil // the engine's own intervals; Create checks given ones (checkInactive)
		}
		return v
	})
	return errors.Join(append(own, err)...)
}

// TriggerKind is what makes a Trigger award points.
type TriggerKind string

const (
	// TriggerMetric awards Points every Threshold units of a metric.
	TriggerMetric TriggerKind = "metric"
	// TriggerAchievement awards Points once, when an achievement completes.
	TriggerAchievement TriggerKind = "achievement"
	// TriggerStreak awards Points each time a streak's length reaches a
	// multiple of EveryN.
	TriggerStreak TriggerKind = "streak"
	// TriggerTime awards Points every Every hours or days from the user's
	// creation.
	TriggerTime TriggerKind = "time"
	// TriggerUserCreation awards Points once, when the user is first seen;
	// UserFilters see the profile of the call that creates the user.
	TriggerUserCreation TriggerKind = "user_creation"
)

// TriggerUnit is the unit of a time trigger's period.
type TriggerUnit string

const (
	// TriggerHours counts a period in hours.
	TriggerHours TriggerUnit = "hours"
	// TriggerDays counts a period in calendar days of the user's zone (23 or
	// 25 hours around DST).
	TriggerDays TriggerUnit = "days"
)

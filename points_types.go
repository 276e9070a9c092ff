package gamify

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
	"github.com/gamifykit/gamify/points"
)

// The public points definitions. They are root structs (stored as their
// JSON) converted to the pure points package's types when the engine builds
// a system's rules.

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

	// Levels, Triggers and Boosts are read by Create only: they are created
	// with the system in the same commit (their System may be left empty).
	// Create returns them as created; Get and List leave them empty (see
	// Points().Levels, Triggers and Boosts), and a Patch may not set them.
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
	errs = append(errs, validateName("PointsSystem", s.Name))
	if s.MaxPoints.Sign() < 0 {
		errs = append(errs, gamifytype.Invalid("PointsSystem.MaxPoints", s.MaxPoints, "must not be negative (0 means no cap)"))
	}
	return errors.Join(errs...)
}

func (s *PointsSystem) domain() points.System {
	return points.System{Key: s.Key, Name: s.Name, Description: s.Description, ImageURL: s.ImageURL, MaxPoints: s.MaxPoints}
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
	// TriggerUserCreation awards Points once, when the user is first seen.
	TriggerUserCreation TriggerKind = "user_creation"
)

var triggerKinds = map[TriggerKind]points.Kind{TriggerMetric: points.KindMetric, TriggerAchievement: points.KindAchievement,
	TriggerStreak: points.KindStreak, TriggerTime: points.KindTime, TriggerUserCreation: points.KindUserCreated}

func kindName(k points.Kind) TriggerKind {
	for name, v := range triggerKinds {
		if v == k {
			return name
		}
	}
	return ""
}

// TriggerUnit is the unit of a time trigger's period.
type TriggerUnit string

const (
	// TriggerHours counts a period in hours.
	TriggerHours TriggerUnit = "hours"
	// TriggerDays counts a period in calendar days of the user's zone (23 or
	// 25 hours around DST).
	TriggerDays TriggerUnit = "days"
)

var triggerUnits = map[TriggerUnit]points.Unit{TriggerHours: points.Hours, TriggerDays: points.Days}

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
	// Status is active (the default), inactive or archived. An inactive
	// trigger awards nothing; its users' progress is kept.
	Status  Status
	Created time.Time
	Updated time.Time

	seq uint64 // creation order
}

func (tr *Trigger) domain() points.Trigger {
	return points.Trigger{Key: tr.Key, System: tr.System, Kind: triggerKinds[tr.Kind], Points: tr.Points,
		Metric: tr.Metric, Threshold: tr.Threshold, EventFilters: tr.EventFilters, Achievement: tr.Achievement,
		Streak: tr.Streak, EveryN: tr.EveryN, Every: tr.Every, Unit: triggerUnits[tr.Unit], Since: tr.Since,
		UserFilters: tr.UserFilters, BlockIfOutOfPoints: tr.BlockIfOutOfPoints, Active: tr.Status == StatusActive}
}

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
		return v
	})
	return errors.Join(append(own, err)...)
}

func cloneTrigger(tr Trigger) Trigger {
	tr.EventFilters, tr.UserFilters = maps.Clone(tr.EventFilters), maps.Clone(tr.UserFilters)
	return tr
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

var boostScopes = map[BoostScope]points.Scope{BoostGlobal: points.Global, BoostCohort: points.Cohort, BoostUser: points.PerUser}

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

var roundings = map[Rounding]points.Rounding{RoundDown: points.RoundDown, RoundUp: points.RoundUp, RoundNearest: points.RoundNearest}

func roundingName(r points.Rounding) Rounding {
	for name, v := range roundings {
		if v == r {
			return name
		}
	}
	return ""
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

	seq uint64
}

func (b *Boost) domain() points.Boost {
	return points.Boost{Key: b.Key, System: b.System, Name: b.Name, Scope: boostScopes[b.Scope], UserFilters: b.UserFilters,
		User: b.User, From: points.Date{Year: b.From.Year, Month: b.From.Month, Day: b.From.Day},
		To: points.Date{Year: b.To.Year, Month: b.To.Month, Day: b.To.Day}, Start: b.Start, End: b.End,
		Multiplier: b.Multiplier, Rounding: roundings[cmp.Or(b.Rounding, RoundDown)]}
}

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
		return v
	})
	return errors.Join(append(own, err)...)
}

func cloneBoost(b Boost) Boost {
	b.UserFilters = maps.Clone(b.UserFilters)
	return b
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

// Level is a tier of a points system: a user is at the active level with the
// highest Threshold not above their total. Levels are keyed within their
// system.
type Level struct {
	System string // the points system, set by the engine
	Key    string // immutable, unique in the system
	// Level is the level's number as users see it ("level 3"): 1 or more,
	// unique among the system's levels that are not archived.
	Level int
	// Order places the level in displays (lowest first); ties keep creation order.
	Order       int
	Name        string   // required
	Description string   `json:",omitempty"`
	ImageURL    string   `json:",omitempty"`
	Colour      string   `json:",omitempty"`
	Benefits    []string `json:",omitempty"`
	Threshold   Amount   // the total that reaches the level; unique among the active levels
	// Multiplier, when not 0, multiplies the positive awards of users at this
	// level like a permanent boost; it is in (0, 100).
	Multiplier Amount `json:",omitzero"`
	// Status is active (the default), inactive or archived. An inactive
	// level is not part of the ladder: nobody reaches it, and users at it
	// move to the level of their total at their next change of points.
	Status  Status
	Created time.Time
	Updated time.Time

	seq uint64
}

func (l *Level) domain() points.Level {
	return points.Level{Key: l.Key, Name: l.Name, Description: l.Description, ImageURL: l.ImageURL, Colour: l.Colour,
		Benefits: l.Benefits, Threshold: l.Threshold, Multiplier: l.Multiplier}
}

func (l *Level) validate() error {
	var errs []error
	if l.Level < 1 {
		errs = append(errs, gamifytype.Invalid("Level.Level", l.Level, "must be 1 or more"))
	}
	d := l.domain()
	return errors.Join(append(errs, d.Validate())...)
}

func cloneLevel(l Level) Level {
	l.Benefits = slices.Clone(l.Benefits)
	return l
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
	Multiple int64          // how many thresholds, multiples or fires the award pays
	Boosts   []AppliedBoost `json:",omitempty"`
	Rounding Rounding       `json:",omitempty"` // the mode used when Boosts is not empty
	Points   Amount         // the amount added to the total
	Capped   bool           `json:",omitempty"` // Points was cut to reach MaxPoints
	Total    Amount         // the total after the award
}

func awardOf(seq uint64, at time.Time, r points.AwardRecord) Award {
	a := Award{ID: seq, At: at, Trigger: r.Trigger, Kind: kindName(r.Kind), Reason: r.Reason, Base: r.Base, Multiple: r.Multiple,
		Points: r.Points, Capped: r.Capped, Total: r.Total}
	if len(r.Boosts) > 0 {
		a.Rounding = roundingName(r.Rounding)
		for _, b := range r.Boosts {
			a.Boosts = append(a.Boosts, AppliedBoost{Key: b.Key, Level: b.Level, Multiplier: b.Multiplier})
		}
	}
	return a
}

// mapInvalid rebuilds err with every *ValidationError passed through f
// (nil drops it); other errors are kept as they are.
func mapInvalid(err error, f func(*ValidationError) *ValidationError) error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			if e = mapInvalid(e, f); e != nil {
				out = append(out, e)
			}
		}
		return errors.Join(out...)
	}
	var v *ValidationError
	if errors.As(err, &v) && err == error(v) {
		if n := f(v); n != nil {
			return n
		}
		return nil
	}
	return err
}

// nested renames the fields of err's validation errors from the type's
// own name (e.g. "Trigger.Points") to the place of the item in a larger
// input (e.g. "PointsSystem.Triggers[1].Points"); other errors are wrapped
// with the place.
func nested(err error, typ, at string) error {
	if err == nil {
		return nil
	}
	return mapInvalid(err, func(v *ValidationError) *ValidationError {
		c := *v
		if rest, ok := strings.CutPrefix(c.Field, typ+"."); ok {
			c.Field = at + "." + rest
		} else {
			c.Field = at + "." + c.Field
		}
		return &c
	})
}

// placed wraps a non-validation error with the place of the item.
func placed(err error, typ, at string) error {
	if err == nil {
		return nil
	}
	var v *ValidationError
	if errors.As(err, &v) {
		return nested(err, typ, at)
	}
	return fmt.Errorf("%s: %w", at, err)
}

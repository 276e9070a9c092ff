package gamify

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gamifykit/gamify/points"
)

// Conversions between the public points definitions (root structs, stored
// as their JSON) and the pure points package's types, used when the engine
// builds a system's rules, and the mapping of the package's errors to the
// public fields.

var triggerKinds = map[TriggerKind]points.Kind{TriggerMetric: points.KindMetric, TriggerAchievement: points.KindAchievement,
	TriggerStreak: points.KindStreak, TriggerTime: points.KindTime, TriggerUserCreation: points.KindUserCreated}

// kindNames and roundingNames invert triggerKinds and roundings: an award
// names both, and ranging over a map costs more than the award itself.
var kindNames, roundingNames = inverted(triggerKinds), inverted(roundings)

func inverted[K, V comparable](m map[K]V) map[V]K {
	out := make(map[V]K, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

func kindName(k points.Kind) TriggerKind { return kindNames[k] }

var triggerUnits = map[TriggerUnit]points.Unit{TriggerHours: points.Hours, TriggerDays: points.Days}

func cloneTrigger(tr Trigger) Trigger {
	tr.EventFilters, tr.UserFilters = maps.Clone(tr.EventFilters), maps.Clone(tr.UserFilters)
	tr.Inactive = slices.Clone(tr.Inactive)
	return tr
}

var boostScopes = map[BoostScope]points.Scope{BoostGlobal: points.Global, BoostCohort: points.Cohort, BoostUser: points.PerUser}

var roundings = map[Rounding]points.Rounding{RoundDown: points.RoundDown, RoundUp: points.RoundUp, RoundNearest: points.RoundNearest}

func roundingName(r points.Rounding) Rounding { return roundingNames[r] }

func cloneBoost(b Boost) Boost {
	b.UserFilters = maps.Clone(b.UserFilters)
	b.Inactive = slices.Clone(b.Inactive)
	return b
}

func cloneLevel(l Level) Level {
	l.Benefits = slices.Clone(l.Benefits)
	return l
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

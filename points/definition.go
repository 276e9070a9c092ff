package points

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Amount is the exact fixed-point amount used for points and multipliers.
type Amount = gamifytype.Amount

// one is the Amount 1, the multiplier that changes nothing.
var one = gamifytype.AmountFromInt(1)

// maxMultiplier bounds boost and level multipliers (exclusive).
var maxMultiplier = gamifytype.AmountFromInt(100)

// maxPointsMagnitude bounds |Trigger.Points| so that sums of many awards stay
// far from overflowing an Amount.
var maxPointsMagnitude = gamifytype.AmountFromInt(1_000_000_000)

// maxEveryHours bounds a time trigger's period (about 100 years).
const maxEveryHours = 100 * 366 * 24

// System is a points system (XP, coins, energy...). Several coexist; each
// user has one State per system.
type System struct {
	Key         string
	Name        string
	Description string
	ImageURL    string
	// MaxPoints caps a user's total; 0 means no cap.
	MaxPoints Amount
}

// Validate reports every bad field of s.
func (s System) Validate() error {
	var errs []error
	if err := gamifytype.ValidateKey("System.Key", s.Key); err != nil {
		errs = append(errs, err)
	}
	if s.Name == "" {
		errs = append(errs, gamifytype.Invalid("System.Name", s.Name, "must not be empty"))
	}
	if s.MaxPoints.Sign() < 0 {
		errs = append(errs, gamifytype.Invalid("System.MaxPoints", s.MaxPoints, "must not be negative (0 means no cap)"))
	}
	return errors.Join(errs...)
}

// Kind is what makes a Trigger award points.
type Kind uint8

// The trigger kinds.
const (
	KindMetric      Kind = iota + 1 // every Threshold units of a metric
	KindAchievement                 // once, when an achievement completes
	KindStreak                      // each time a streak's length reaches a multiple of EveryN
	KindTime                        // every Every hours or days from the user's creation
	KindUserCreated                 // once, when the user is first seen
)

var kindNames = [...]string{"", "metric", "achievement", "streak", "time", "user_creation"}

// String returns the snake_case name of k, e.g. "user_creation".
func (k Kind) String() string {
	if k != 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Unit is the unit of a time trigger's period.
type Unit uint8

// The time units. Days are calendar days in the user's zone (23 or 25 hours
// around DST).
const (
	Hours Unit = iota + 1
	Days
)

// String returns "hours" or "days".
func (u Unit) String() string {
	switch u {
	case Hours:
		return "hours"
	case Days:
		return "days"
	}
	return fmt.Sprintf("Unit(%d)", uint8(u))
}

// Trigger awards Points in System when its condition is met. Points may be
// negative (metering, energy).
type Trigger struct {
	Key    string
	System string
	Kind   Kind
	Points Amount
	// Metric and Threshold (KindMetric): Points every Threshold units of the
	// trigger's own running sum of Metric; only events whose attributes match
	// every EventFilters pair count.
	Metric       string
	Threshold    Amount
	EventFilters map[string]string
	// Achievement (KindAchievement) is the achievement whose completion awards.
	Achievement string
	// Streak and EveryN (KindStreak): Points each time the length reaches a
	// multiple of EveryN.
	Streak string
	EveryN int
	// Every and Unit (KindTime): Points every Every hours or days from the
	// user's creation. Fires at or before Since (the engine sets it to the
	// trigger's creation) are not paid.
	Every int
	Unit  Unit
	Since time.Time
	// UserFilters gates the trigger: every pair must match the user's attributes.
	UserFilters map[string]string
	// BlockIfOutOfPoints makes a negative award that would take available
	// below zero fail with ErrInsufficientPoints (the engine rejects the event).
	BlockIfOutOfPoints bool
	// Active is the status: an inactive trigger awards nothing.
	Active bool
	// Off lists the intervals the trigger was inactive, oldest first; while
	// it is inactive, the last is open. With Off set, a metric change, a
	// completion or a user's creation is judged by the trigger's status at
	// its own time (a late event dated while the trigger was active pays,
	// one dated while it was inactive does not), not by Active. Time
	// triggers go by Active and Since.
	Off []gamifytype.Interval
}

// activeAt reports whether t applies to a change at time at.
func (t *Trigger) activeAt(at time.Time) bool {
	if len(t.Off) == 0 {
		return t.Active
	}
	return !gamifytype.InAny(t.Off, at)
}

// validateOff checks that off is ordered and that only its last interval
// is open; field names it.
func validateOff(field string, off []gamifytype.Interval) error {
	for i, iv := range off {
		open := iv.To.IsZero()
		switch {
		case !open && !iv.From.Before(iv.To):
			return gamifytype.Invalid(fmt.Sprintf("%s[%d]", field, i), iv, "must end after it starts")
		case i > 0 && iv.From.Before(off[i-1].To):
			return gamifytype.Invalid(fmt.Sprintf("%s[%d]", field, i), iv, "must start after the one before ends")
		case open && i != len(off)-1:
			return gamifytype.Invalid(fmt.Sprintf("%s[%d]", field, i), iv, "only the last interval may be open")
		}
	}
	return nil
}

// Validate reports every bad field of t.
func (t Trigger) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(gamifytype.ValidateKey("Trigger.Key", t.Key))
	add(gamifytype.ValidateKey("Trigger.System", t.System))
	switch {
	case t.Points.IsZero():
		add(gamifytype.Invalid("Trigger.Points", t.Points, "must not be 0"))
	case t.Points.Abs().Cmp(maxPointsMagnitude) > 0:
		add(gamifytype.Invalid("Trigger.Points", t.Points, "must be within ±1000000000"))
	}
	switch t.Kind {
	case KindMetric:
		add(gamifytype.ValidateKey("Trigger.Metric", t.Metric))
		if t.Threshold.Sign() <= 0 {
			add(gamifytype.Invalid("Trigger.Threshold", t.Threshold, "must be positive"))
		}
	case KindAchievement:
		add(gamifytype.ValidateKey("Trigger.Achievement", t.Achievement))
	case KindStreak:
		add(gamifytype.ValidateKey("Trigger.Streak", t.Streak))
		if t.EveryN < 1 || t.EveryN > 1_000_000 {
			add(gamifytype.Invalid("Trigger.EveryN", t.EveryN, "must be between 1 and 1000000"))
		}
	case KindTime:
		if t.Unit != Hours && t.Unit != Days {
			add(gamifytype.Invalid("Trigger.Unit", t.Unit, "must be hours or days"))
		}
		h := t.Every
		if t.Unit == Days {
			h = t.Every * 24
		}
		if t.Every < 1 || t.Every > maxEveryHours || h > maxEveryHours {
			add(gamifytype.Invalid("Trigger.Every", t.Every, "must be between 1 hour and 100 years"))
		}
	case KindUserCreated:
	default:
		add(gamifytype.Invalid("Trigger.Kind", t.Kind, "must be metric, achievement, streak, time or user_creation"))
	}
	if t.Kind != KindMetric && len(t.EventFilters) > 0 {
		add(gamifytype.Invalid("Trigger.EventFilters", t.EventFilters, "apply to metric triggers only"))
	}
	add(validateFilters("Trigger.EventFilters", t.EventFilters))
	add(gamifytype.CheckTime("Trigger.Since", t.Since))
	add(validateFilters("Trigger.UserFilters", t.UserFilters))
	add(validateOff("Trigger.Off", t.Off))
	if n := len(t.Off); n > 0 && t.Off[n-1].To.IsZero() == t.Active {
		add(gamifytype.Invalid("Trigger.Off", t.Off, "must end with an open interval exactly while the trigger is inactive"))
	}
	return errors.Join(errs...)
}

func validateFilters(field string, f map[string]string) error {
	return gamifytype.CheckFilters(field, f, gamifytype.MaxMapEntries)
}

// Scope says which users a Boost applies to.
type Scope uint8

// The boost scopes.
const (
	Global  Scope = iota + 1 // every user
	Cohort                   // users whose attributes match UserFilters
	PerUser                  // the one user User
)

// String returns "global", "cohort" or "user".
func (s Scope) String() string {
	switch s {
	case Global:
		return "global"
	case Cohort:
		return "cohort"
	case PerUser:
		return "user"
	}
	return fmt.Sprintf("Scope(%d)", uint8(s))
}

// Rounding is how a multiplied award is rounded to a whole point.
type Rounding uint8

// The rounding modes; the zero value rounds down.
const (
	RoundDown    Rounding = iota
	RoundUp               // toward +infinity
	RoundNearest          // halves up
)

// String returns "down", "up" or "nearest".
func (r Rounding) String() string {
	switch r {
	case RoundDown:
		return "down"
	case RoundUp:
		return "up"
	case RoundNearest:
		return "nearest"
	}
	return fmt.Sprintf("Rounding(%d)", uint8(r))
}

// Date is a local calendar date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the local date of t in loc (nil means UTC).
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(orUTC(loc)).Date()
	return Date{y, m, d}
}

// IsZero reports whether d is the zero Date (an open bound).
func (d Date) IsZero() bool { return d == Date{} }

func (d Date) valid() bool {
	if d.Year < 1900 || d.Year > 2200 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	y, m, dd := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// String formats d as 2006-01-02.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Boost multiplies the positive awards of System for the users in its scope
// while it is active.
type Boost struct {
	Key    string
	System string
	Name   string
	Scope  Scope
	// UserFilters (Cohort) must all match the user's attributes.
	UserFilters map[string]string
	// User (PerUser) is the user's id.
	User string
	// From and To (Global, Cohort) are local dates in the user's zone,
	// inclusive; a zero To means open-ended.
	From, To Date
	// Start and End (PerUser) are instants, End exclusive; a zero End means
	// open-ended.
	Start, End time.Time
	// Multiplier is in (0, 100) and not 1.
	Multiplier Amount
	Rounding   Rounding
	// Off lists the intervals the boost was inactive, oldest first (the
	// last open while it is inactive): an award whose time falls in one is
	// not multiplied, whenever it is computed.
	Off []gamifytype.Interval
}

// Validate reports every bad field of b.
func (b Boost) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(gamifytype.ValidateKey("Boost.Key", b.Key))
	add(gamifytype.ValidateKey("Boost.System", b.System))
	add(validateOff("Boost.Off", b.Off))
	if b.Multiplier.Sign() <= 0 || !b.Multiplier.Less(maxMultiplier) || b.Multiplier == one {
		add(gamifytype.Invalid("Boost.Multiplier", b.Multiplier, "must be in (0, 100) and not 1"))
	}
	if b.Rounding > RoundNearest {
		add(gamifytype.Invalid("Boost.Rounding", b.Rounding, "must be down, up or nearest"))
	}
	switch b.Scope {
	case Global, Cohort:
		if b.Scope == Cohort && len(b.UserFilters) == 0 {
			add(gamifytype.Invalid("Boost.UserFilters", nil, "must not be empty for a cohort boost"))
		}
		if b.Scope == Global && len(b.UserFilters) > 0 {
			add(gamifytype.Invalid("Boost.UserFilters", b.UserFilters, "apply to cohort boosts only"))
		}
		if b.User != "" {
			add(gamifytype.Invalid("Boost.User", b.User, "applies to per-user boosts only"))
		}
		if !b.From.valid() {
			add(gamifytype.Invalid("Boost.From", b.From, "must be a calendar date"))
		}
		if !b.To.IsZero() && !b.To.valid() {
			add(gamifytype.Invalid("Boost.To", b.To, "must be a calendar date or zero"))
		} else if !b.To.IsZero() && b.From.valid() && b.To.Before(b.From) {
			add(gamifytype.Invalid("Boost.To", b.To, "must not be before From"))
		}
		if !b.Start.IsZero() || !b.End.IsZero() {
			add(gamifytype.Invalid("Boost.Start", b.Start, "instants apply to per-user boosts only; use From/To"))
		}
	case PerUser:
		add(gamifytype.CheckID("Boost.User", b.User))
		if len(b.UserFilters) > 0 {
			add(gamifytype.Invalid("Boost.UserFilters", b.UserFilters, "apply to cohort boosts only"))
		}
		if b.Start.IsZero() {
			add(gamifytype.Invalid("Boost.Start", nil, "must be set"))
		}
		if !b.End.IsZero() && !b.End.After(b.Start) {
			add(gamifytype.Invalid("Boost.End", b.End, "must be after Start"))
		}
		if !b.From.IsZero() || !b.To.IsZero() {
			add(gamifytype.Invalid("Boost.From", b.From, "dates apply to global and cohort boosts only; use Start/End"))
		}
	default:
		add(gamifytype.Invalid("Boost.Scope", b.Scope, "must be global, cohort or user"))
	}
	add(validateFilters("Boost.UserFilters", b.UserFilters))
	add(gamifytype.CheckText("Boost.Name", b.Name, gamifytype.MaxNameLen))
	add(gamifytype.CheckTime("Boost.Start", b.Start))
	add(gamifytype.CheckTime("Boost.End", b.End))
	return errors.Join(errs...)
}

// Status is where a Boost is in its window.
type Status uint8

// The boost statuses.
const (
	Scheduled Status = iota + 1
	Active
	Finished
)

// String returns "scheduled", "active" or "finished".
func (s Status) String() string {
	switch s {
	case Scheduled:
		return "scheduled"
	case Active:
		return "active"
	case Finished:
		return "finished"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// StatusAt returns the status of b at now. Date windows are read in loc, the
// user's zone (nil means UTC): a boost From 2026-03-08 starts at local
// midnight there and one To 2026-03-08 ends at the next local midnight.
func (b Boost) StatusAt(now time.Time, loc *time.Location) Status {
	if b.Scope == PerUser {
		switch {
		case now.Before(b.Start):
			return Scheduled
		case !b.End.IsZero() && !now.Before(b.End):
			return Finished
		}
		return Active
	}
	d := DateOf(now, loc)
	switch {
	case d.Before(b.From):
		return Scheduled
	case !b.To.IsZero() && b.To.Before(d):
		return Finished
	}
	return Active
}

// Level is a tier of a system: a user is at the level with the highest
// Threshold not above their total.
type Level struct {
	Key         string
	Name        string
	Description string
	ImageURL    string
	Color       string
	Benefits    []string
	Threshold   Amount
	// Multiplier, when not 0, multiplies the positive awards of users at this
	// level like a permanent boost; it is in (0, 100).
	Multiplier Amount
}

// Validate reports every bad field of l.
func (l Level) Validate() error {
	var errs []error
	if err := gamifytype.ValidateKey("Level.Key", l.Key); err != nil {
		errs = append(errs, err)
	}
	if l.Name == "" {
		errs = append(errs, gamifytype.Invalid("Level.Name", l.Name, "must not be empty"))
	}
	if l.Multiplier.Sign() < 0 || !l.Multiplier.Less(maxMultiplier) {
		errs = append(errs, gamifytype.Invalid("Level.Multiplier", l.Multiplier, "must be 0 (none) or in (0, 100)"))
	}
	errs = append(errs,
		gamifytype.CheckText("Level.Name", l.Name, gamifytype.MaxNameLen),
		gamifytype.CheckText("Level.Description", l.Description, gamifytype.MaxTextLen),
		gamifytype.CheckText("Level.ImageURL", l.ImageURL, gamifytype.MaxURLLen),
		gamifytype.CheckText("Level.Color", l.Color, gamifytype.MaxNameLen),
		gamifytype.CheckLen("Level.Benefits", len(l.Benefits), gamifytype.MaxListLen))
	if len(l.Benefits) <= gamifytype.MaxListLen {
		for i, b := range l.Benefits {
			field := fmt.Sprintf("Level.Benefits[%d]", i)
			if strings.TrimSpace(b) == "" {
				errs = append(errs, gamifytype.Invalid(field, b, "must not be empty"))
				continue
			}
			errs = append(errs, gamifytype.CheckText(field, b, gamifytype.MaxNameLen))
		}
	}
	return errors.Join(errs...)
}

// ValidateLevels reports every bad level of a system and duplicate keys or
// thresholds, which would make the level of a total ambiguous.
func ValidateLevels(levels []Level) error {
	var errs []error
	keys := make(map[string]bool, len(levels))
	thresholds := make(map[Amount]bool, len(levels))
	for _, l := range levels {
		if err := l.Validate(); err != nil {
			errs = append(errs, err)
		}
		if keys[l.Key] {
			errs = append(errs, gamifytype.Invalid("Level.Key", l.Key, "is duplicated"))
		}
		if thresholds[l.Threshold] {
			errs = append(errs, gamifytype.Invalid("Level.Threshold", l.Threshold, "is duplicated"))
		}
		keys[l.Key], thresholds[l.Threshold] = true, true
	}
	return errors.Join(errs...)
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

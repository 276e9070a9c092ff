package points

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Rules are the definitions of one points system that a transition applies.
// Triggers and Boosts of other systems are ignored, so the engine may pass
// all of them. Every definition must have passed Validate (and Levels
// ValidateLevels).
type Rules struct {
	System   System
	Triggers []Trigger
	Boosts   []Boost
	Levels   []Level
	// CallLevel, when not nil, is the level key whose multiplier applies
	// instead of that of the State's level. A caller that runs several
	// transitions for one call (the engine: an event's user_creation,
	// achievement, metric and streak awards) passes the user's level at
	// the start of the call, so that an award early in the call that
	// promotes the user does not multiply the later ones. The level change
	// a transition reports is still from the State's level.
	CallLevel *string
	// Buffers, when not nil, lends the transition storage for its
	// Effects.Awards and their Boosts: they are valid until the next
	// transition given the same Buffers, which reuses the storage. A caller
	// that consumes each transition's effects before the next one (the
	// engine) saves their allocations. Nil allocates them.
	Buffers *Buffers
}

// Buffers is storage for the effects of transitions, reused from one to the
// next (Rules.Buffers). The zero value is ready to use; it is not safe for
// concurrent transitions.
type Buffers struct {
	awards []AwardRecord
	boosts []AppliedBoost
}

// Validate reports every bad definition of r and a trigger key used twice in
// the system (trigger progress is kept by key). Triggers and boosts of other
// systems are validated too, but otherwise ignored.
func (r Rules) Validate() error {
	errs := []error{r.System.Validate(), ValidateLevels(r.Levels)}
	seen := make(map[string]bool, len(r.Triggers))
	for _, t := range r.Triggers {
		errs = append(errs, t.Validate())
		if seen[t.Key] && t.System == r.System.Key {
			errs = append(errs, gamifytype.Invalid("Trigger.Key", t.Key, "is duplicated"))
		}
		seen[t.Key] = seen[t.Key] || t.System == r.System.Key
	}
	for _, b := range r.Boosts {
		errs = append(errs, b.Validate())
	}
	return errors.Join(errs...)
}

// User is who a transition is for: the id (per-user boosts), the attributes
// (user filters of triggers and cohort boosts) and the time zone (boost date
// windows, day-based time triggers; nil means UTC).
type User struct {
	ID    string
	Attrs map[string]string
	Loc   *time.Location
}

// MetricChange is one change of a metric total by an event.
type MetricChange struct {
	Metric string
	Delta  Amount
	Attrs  map[string]string // the event's attributes
	At     time.Time         // the event's time (required): boosts active then apply
}

// AppliedBoost is one multiplier applied to an award.
type AppliedBoost struct {
	Key        string // the boost key; "" for the level multiplier
	Level      string // the level key for the level multiplier
	Multiplier Amount
}

// AwardRecord is one award made by a transition.
type AwardRecord struct {
	Trigger  string         // "" for a manual award
	Kind     Kind           // 0 for a manual award
	Reason   string         // manual awards only
	Base     Amount         // Points × Multiples (the amount before multipliers)
	Multiple int64          // how many thresholds, multiples or fires the award pays; negative when taken back (TakeBackStreak)
	Boosts   []AppliedBoost // shared by the awards of one transition: read it, do not write it
	Rounding Rounding       // the mode used when Boosts is not empty
	Points   Amount         // the final amount added to the total
	Capped   bool           // Points was cut to reach MaxPoints
	Total    Amount         // the total after the award
}

// LevelChange reports a move between levels ("" is below every level).
type LevelChange struct {
	From, To  string
	Promotion bool // false: a demotion
	Pinned    bool // the change comes from PinLevel or UnpinLevel
}

// Effects is what a transition did, for the event result, the ledger and
// the notifications.
type Effects struct {
	Awards []AwardRecord
	Added  Amount       // sum of Awards[i].Points
	Spent  Amount       // Spend only
	Total  Amount       // the total after the transition
	Level  *LevelChange // nil unless the level changed
}

// Changed reports whether the transition changed the balance or the level.
func (fx Effects) Changed() bool { return len(fx.Awards) > 0 || !fx.Spent.IsZero() || fx.Level != nil }

// run is one transition in progress over a private copy of the State. It
// holds copies of the rules and the user, not pointers: the escape analysis
// cannot tell a run's fields apart, and its growing effects would move the
// caller's Rules and User to the heap on every transition.
type run struct {
	r        Rules
	u        User
	s        State
	fx       Effects
	at       time.Time
	levelMul AppliedBoost // the multiplier of the level at the start (0: none)
	start    string       // level key at the start

	// The multipliers of a positive award and their rounding, the same for
	// every award of the run: computed once, shared by the awards' records.
	boosts   []AppliedBoost
	rounding Rounding
	boosted  bool
}

func begin(r *Rules, u *User, s State, at time.Time) run {
	s.recs = slices.Clone(s.recs)
	x := run{r: *r, u: *u, s: s, at: at}
	x.start, _ = s.LevelKey()
	mul := x.start
	if r.CallLevel != nil {
		mul = *r.CallLevel
	}
	if i := slices.IndexFunc(r.Levels, func(l Level) bool { return l.Key == mul }); i >= 0 {
		if m := r.Levels[i].Multiplier; !m.IsZero() && m != one {
			x.levelMul = AppliedBoost{Level: mul, Multiplier: m}
		}
	}
	return x
}

// finish recomputes the level of the total (a pin overrides it in LevelKey)
// and returns the result.
func (x *run) finish() (State, Effects, error) {
	x.s.level = ""
	if l, ok := LevelFor(x.r.Levels, x.s.total); ok {
		x.s.level = l.Key
	}
	x.fx.Total = x.s.total
	if now, _ := x.s.LevelKey(); now != x.start {
		x.fx.Level = x.r.change(x.start, now, false)
	}
	return x.s, x.fx, nil
}

func (r *Rules) change(from, to string, pinned bool) *LevelChange {
	th := func(k string) (Amount, bool) {
		i := slices.IndexFunc(r.Levels, func(l Level) bool { return l.Key == k })
		if i < 0 {
			return Amount{}, false
		}
		return r.Levels[i].Threshold, true
	}
	tf, okf := th(from)
	tt, okt := th(to)
	return &LevelChange{From: from, To: to, Pinned: pinned, Promotion: okt && (!okf || tf.Less(tt))}
}

func matches(filters, attrs map[string]string) bool {
	for k, v := range filters {
		if a, ok := attrs[k]; !ok || a != v {
			return false
		}
	}
	return true
}

// eligible reports whether b multiplies the awards of u in system at at.
func (b *Boost) eligible(system string, u *User, at time.Time) bool {
	if b.System != system || b.StatusAt(at, u.Loc) != Active || gamifytype.InAny(b.Off, at) {
		return false
	}
	switch b.Scope {
	case Global:
		return true
	case Cohort:
		return matches(b.UserFilters, u.Attrs)
	case PerUser:
		return b.User == u.ID
	}
	return false
}

var overflow = gamifytype.Invalid("Points", nil, "total would overflow")

// award pays trigger t (key, kind) multiples × points.
func (x *run) award(t *Trigger, multiples int64) error {
	base, ok := t.Points.MulInt(multiples)
	if !ok {
		return fmt.Errorf("points: trigger %s: %w", t.Key, overflow)
	}
	a := AwardRecord{Trigger: t.Key, Kind: t.Kind, Base: base, Multiple: multiples, Points: base}
	if base.Sign() > 0 {
		if !x.boosted {
			x.boosts, x.rounding = x.multipliers()
			x.boosted = true
		}
		a.Boosts, a.Rounding = x.boosts, x.rounding
		if len(a.Boosts) > 0 {
			if a.Points, ok = multiply(base, a.Boosts, a.Rounding); !ok {
				return fmt.Errorf("points: trigger %s: %w", t.Key, overflow)
			}
		}
	} else if t.BlockIfOutOfPoints {
		if avail, ok := x.s.Available().AddChecked(base); !ok || avail.Sign() < 0 {
			return fmt.Errorf("points: trigger %s: %w: available %v, award %v", t.Key, gamifytype.ErrInsufficientPoints, x.s.Available(), base)
		}
	}
	return x.add(a)
}

// multipliers returns the multipliers of a positive award and their
// rounding: the eligible boosts (their common rounding, else RoundDown),
// then the level's (RoundDown when alone). The slice is full, so an append
// to one award's Boosts never writes into another's.
func (x *run) multipliers() ([]AppliedBoost, Rounding) {
	var bs []AppliedBoost
	if x.r.Buffers != nil {
		bs = x.r.Buffers.boosts[:0]
	}
	var rounding Rounding
	for i := range x.r.Boosts {
		if b := &x.r.Boosts[i]; b.eligible(x.r.System.Key, &x.u, x.at) {
			if len(bs) == 0 {
				rounding = b.Rounding
			} else if rounding != b.Rounding {
				rounding = RoundDown
			}
			bs = append(bs, AppliedBoost{Key: b.Key, Multiplier: b.Multiplier})
		}
	}
	if !x.levelMul.Multiplier.IsZero() {
		if len(bs) == 0 {
			rounding = RoundDown
		}
		bs = append(bs, x.levelMul)
	}
	if x.r.Buffers != nil {
		x.r.Buffers.boosts = bs[:0] // the capacity, for the next transition
	}
	if len(bs) == 0 {
		return nil, rounding
	}
	return bs[:len(bs):len(bs)], rounding
}

// add applies the cap, adds a to the total and records it.
func (x *run) add(a AwardRecord) error {
	if c := x.r.System.MaxPoints; c.Sign() > 0 && a.Points.Sign() > 0 {
		if room := c.Sub(x.s.total); room.Less(a.Points) { // saturating: a cap near MaxAmount over a negative total
			a.Points, a.Capped = maxAmount(room, Amount{}), true
		}
	}
	if a.Points.IsZero() {
		return nil
	}
	total, ok := x.s.total.AddChecked(a.Points)
	// Totals stay within ±MaxAmount/2 so that Available (total − spent, with
	// 0 ≤ spent ≤ a past total) never overflows.
	if !ok || maxTotal.Less(total) || total.Less(maxTotal.Neg()) {
		return fmt.Errorf("points: %w", overflow)
	}
	x.s.total, a.Total = total, total
	x.fx.Added = wrapAdd(x.fx.Added, a.Points)
	if x.fx.Awards == nil && x.r.Buffers != nil {
		x.fx.Awards = x.r.Buffers.awards[:0]
	}
	x.fx.Awards = append(x.fx.Awards, a)
	if x.r.Buffers != nil {
		x.r.Buffers.awards = x.fx.Awards[:0] // the capacity, for the next transition
	}
	return nil
}

// maxTotal bounds |State.total|: half of MaxAmount.
var maxTotal = gamifytype.AmountFromMicros(gamifytype.MaxAmount.Micros() / 2)

// floorDiv returns ⌊a/b⌋ for b > 0.
func floorDiv(a, b Amount) int64 {
	x, y := a.Micros(), b.Micros()
	q := x / y
	if x%y != 0 && x < 0 {
		q--
	}
	return q
}

func (t *Trigger) applies(r *Rules, k Kind) bool { return t.System == r.System.Key && t.Kind == k }

// OnMetric applies a metric change to every metric trigger of the system on
// that metric: a trigger active at the change's time (Trigger.Off) whose user
// and event filters match adds the
// delta to its own running sum and awards Points × k when the sum reaches k
// new multiples of Threshold above its high-water mark (one award; going
// down and up again does not re-award). It fails, with s unchanged, when a
// blocking negative award would take available below zero (an error wrapping
// ErrInsufficientPoints) or a total would overflow.
func OnMetric(r Rules, s State, u User, c MetricChange) (State, Effects, error) {
	if err := checkAt("MetricChange.At", c.At); err != nil {
		return s, Effects{}, err
	}
	x := begin(&r, &u, s, c.At)
	for i := range r.Triggers {
		t := &r.Triggers[i]
		if !t.applies(&r, KindMetric) || t.Metric != c.Metric || !t.activeAt(c.At) || !matches(t.UserFilters, u.Attrs) || !matches(t.EventFilters, c.Attrs) {
			continue
		}
		if t.Threshold.Sign() <= 0 { // an unvalidated trigger: floorDiv would divide by zero
			return s, Effects{}, gamifytype.Invalid("Trigger.Threshold", t.Threshold, "must be positive (trigger "+t.Key+")")
		}
		p := x.s.get(t.Key)
		sum, ok := p.sum.AddChecked(c.Delta)
		if !ok {
			return s, Effects{}, fmt.Errorf("points: trigger %s: %w", t.Key, overflow)
		}
		p.sum = sum
		if k := floorDiv(sum, t.Threshold); k > p.n {
			if err := x.award(t, k-p.n); err != nil {
				return s, Effects{}, err
			}
			p.n = k
		}
		x.s.put(p)
	}
	return x.finish()
}

// OnAchievement awards the achievement triggers of achievement key, each
// once per user. at is the completion time: boosts and the triggers' status
// are judged then.
func OnAchievement(r Rules, s State, u User, key string, at time.Time) (State, Effects, error) {
	return once(&r, s, &u, KindAchievement, key, at)
}

// OnUserCreated awards the user_creation triggers active at at, each once
// per user.
func OnUserCreated(r Rules, s State, u User, at time.Time) (State, Effects, error) {
	return once(&r, s, &u, KindUserCreated, "", at)
}

func once(r *Rules, s State, u *User, k Kind, achievement string, at time.Time) (State, Effects, error) {
	if err := checkAt("At", at); err != nil {
		return s, Effects{}, err
	}
	x := begin(r, u, s, at)
	for i := range r.Triggers {
		t := &r.Triggers[i]
		if !t.applies(r, k) || (k == KindAchievement && t.Achievement != achievement) || !t.activeAt(at) || !matches(t.UserFilters, u.Attrs) {
			continue
		}
		if p := x.s.get(t.Key); p.n == 0 {
			if err := x.award(t, 1); err != nil {
				return s, Effects{}, err
			}
			p.n = 1
			x.s.put(p)
		}
	}
	return x.finish()
}

// StreakReach is a change of one run of a streak's history (the streak
// package's Reach satisfies it): Multiples(n) is how many multiples of n the
// run newly reaches, net of what the runs it joins had reached.
type StreakReach interface {
	Multiples(n int) int
}

// OnStreak applies a change of one run of streak key's history: every
// streak trigger on it awards Points × k for the k multiples of EveryN the
// run newly reaches (reach.Multiples). So each multiple is paid once per run
// whatever the order activities arrive in, a late activity that joins two
// runs pays only what the joined run newly reaches, and a new run pays from
// its first period. Multiples reached while a trigger is inactive (at at)
// or gated out pass unpaid. The triggers keep no state of their own here. A nil
// reach is refused with a *ValidationError.
func OnStreak(r Rules, s State, u User, key string, reach StreakReach, at time.Time) (State, Effects, error) {
	if err := checkAt("At", at); err != nil {
		return s, Effects{}, err
	}
	if reach == nil {
		return s, Effects{}, gamifytype.Invalid("Reach", nil, "must be set")
	}
	x := begin(&r, &u, s, at)
	for i := range r.Triggers {
		t := &r.Triggers[i]
		if !t.applies(&r, KindStreak) || t.Streak != key || !t.activeAt(at) || !matches(t.UserFilters, u.Attrs) {
			continue
		}
		if k := reach.Multiples(t.EveryN); k > 0 {
			if err := x.award(t, int64(k)); err != nil {
				return s, Effects{}, err
			}
		}
	}
	return x.finish()
}

// maxFireHours bounds how far after a user's creation a time trigger's fire
// is computed: 600 years reach past every instant gamify accepts (a created
// at 1900 or later, a Since before 2262), and k×Every cannot overflow.
const maxFireHours = 600 * 366 * 24

// everyOK reports whether t's Every and Unit are those Validate accepts, so
// that counting its fires neither divides by zero nor overflows.
func (t *Trigger) everyOK() bool {
	return (t.Unit == Hours || t.Unit == Days) && t.Every >= 1 && t.Every <= maxEveryHours &&
		(t.Unit == Hours || t.Every*24 <= maxEveryHours)
}

// fireAt returns the instant of time trigger t's k-th fire for a user
// created at created, or the zero Time past maxFireHours. t.everyOK().
func (t *Trigger) fireAt(created time.Time, loc *time.Location, k int64) time.Time {
	per := int64(t.Every)
	if t.Unit == Days {
		per *= 24
	}
	if k < 0 || k > maxFireHours/per {
		return time.Time{}
	}
	n := k * int64(t.Every) // days or hours
	if t.Unit == Days {
		return created.In(orUTC(loc)).AddDate(0, 0, int(n))
	}
	// In steps: 600 years of hours do not fit in one time.Duration.
	const step = 1 << 20 // hours, about 120 years
	for ; n > step; n -= step {
		created = created.Add(step * time.Hour)
	}
	return created.Add(time.Duration(n) * time.Hour)
}

// fires returns how many fires of t are at or before until.
func (t *Trigger) fires(created time.Time, loc *time.Location, until time.Time) int64 {
	if until.Before(created) {
		return 0
	}
	k := int64(until.Sub(created) / (time.Duration(t.Every) * time.Hour))
	if t.Unit == Days {
		k /= 24
		// Calendar days differ from 24 hours by at most an hour per DST change.
		for k > 0 && t.fireAt(created, loc, k).After(until) {
			k--
		}
		for f := t.fireAt(created, loc, k+1); !f.IsZero() && !f.After(until); f = t.fireAt(created, loc, k+1) {
			k++
		}
	}
	return k
}

// passed returns the fires of t that are settled: the recorded count, and no
// fewer than the fires at or before Since.
func (t *Trigger) passed(s *State, created time.Time, loc *time.Location) int64 {
	n := s.get(t.Key).n
	if !t.Since.IsZero() {
		n = max(n, t.fires(created, loc, t.Since))
	}
	return n
}

// OnTime pays every time trigger of the system whose fires are due at now for
// a user created at created: the n fires since the last call (catch-up after
// downtime) are paid as one award of Points × n, with the boosts active at
// now. Fires while a trigger is inactive or gated out pass unpaid.
func OnTime(r Rules, s State, u User, created, now time.Time) (State, Effects, error) {
	if err := checkAt("User.Created", created); err != nil {
		return s, Effects{}, err
	}
	if err := checkAt("Now", now); err != nil {
		return s, Effects{}, err
	}
	x := begin(&r, &u, s, now)
	for i := range r.Triggers {
		t := &r.Triggers[i]
		if !t.applies(&r, KindTime) {
			continue
		}
		if !t.everyOK() { // an unvalidated trigger: fires would divide by zero
			return s, Effects{}, gamifytype.Invalid("Trigger.Every", t.Every, "must be between 1 hour and 100 years, in hours or days (trigger "+t.Key+")")
		}
		done := t.passed(&x.s, created, u.Loc)
		k := t.fires(created, u.Loc, now)
		if k <= done {
			continue
		}
		if t.Active && matches(t.UserFilters, u.Attrs) {
			if err := x.award(t, k-done); err != nil {
				return s, Effects{}, err
			}
		}
		p := x.s.get(t.Key)
		p.n = k
		x.s.put(p)
	}
	return x.finish()
}

// NextTimeDue returns when time trigger t next fires for a user created at
// created with state s: zero for an inactive, non-time or invalid trigger,
// a created outside the years 1900 to 2200, or a fire more than 600 years
// after created. The engine schedules OnTime then; exactly-once comes from
// the State.
func NextTimeDue(t Trigger, s State, created time.Time, loc *time.Location) time.Time {
	if t.Kind != KindTime || !t.Active || !t.everyOK() || !inRange(created) {
		return time.Time{}
	}
	return t.fireAt(created, loc, t.passed(&s, created, loc)+1)
}

// inRange bounds instants like the rest of gamify (and keeps counting time
// trigger fires cheap).
func inRange(t time.Time) bool { return t.Year() >= 1900 && t.Year() <= 2200 }

func checkAt(field string, t time.Time) error {
	if !inRange(t) {
		return gamifytype.Invalid(field, t, "must be set, between the years 1900 and 2200")
	}
	return nil
}

// Award adds amount (> 0) to the total as a manual award with reason. No
// boost or level multiplier applies; the cap does.
func Award(r Rules, s State, amount Amount, reason string) (State, Effects, error) {
	if amount.Sign() <= 0 {
		return s, Effects{}, gamifytype.Invalid("Award.Amount", amount, "must be positive")
	}
	x := begin(&r, &User{}, s, time.Time{})
	if err := x.add(AwardRecord{Reason: reason, Base: amount, Multiple: 1, Points: amount}); err != nil {
		return s, Effects{}, err
	}
	return x.finish()
}

// TakeBack subtracts amount (> 0) from the total as a manual award of
// −amount with reason: a payment made twice (a streak milestone of two runs
// a late activity joined) given back. No cap or multiplier applies, and the
// total may fall below what was spent (Available is then negative until
// later awards cover it): the total is what it would have been had the
// payment never been made.
func TakeBack(r Rules, s State, amount Amount, reason string) (State, Effects, error) {
	if amount.Sign() <= 0 {
		return s, Effects{}, gamifytype.Invalid("TakeBack.Amount", amount, "must be positive")
	}
	x := begin(&r, &User{}, s, time.Time{})
	if err := x.add(AwardRecord{Reason: reason, Base: amount.Neg(), Multiple: 1, Points: amount.Neg()}); err != nil {
		return s, Effects{}, err
	}
	return x.finish()
}

// TakeBackStreak subtracts amount (> 0), what streak trigger key paid for
// multiples (> 0) of a run that a late activity cut short (it moved a freeze
// to an earlier gap), as an award of −amount and −multiples in the
// trigger's name: the trigger's awards then sum to what the runs of the
// history owe, as if the activities had arrived in order. As with TakeBack,
// no cap or multiplier applies and the total may fall below what was spent.
func TakeBackStreak(r Rules, s State, key string, multiples int64, amount Amount) (State, Effects, error) {
	if amount.Sign() <= 0 {
		return s, Effects{}, gamifytype.Invalid("TakeBackStreak.Amount", amount, "must be positive")
	}
	if multiples <= 0 {
		return s, Effects{}, gamifytype.Invalid("TakeBackStreak.Multiples", multiples, "must be positive")
	}
	x := begin(&r, &User{}, s, time.Time{})
	if err := x.add(AwardRecord{Trigger: key, Kind: KindStreak, Base: amount.Neg(), Multiple: -multiples, Points: amount.Neg()}); err != nil {
		return s, Effects{}, err
	}
	return x.finish()
}

// Spend adds amount (> 0) to spent. It fails with an error wrapping
// ErrInsufficientPoints, s unchanged, when available is below amount.
func Spend(s State, amount Amount) (State, Effects, error) {
	if amount.Sign() <= 0 {
		return s, Effects{}, gamifytype.Invalid("Spend.Amount", amount, "must be positive")
	}
	if s.Available().Less(amount) {
		return s, Effects{}, fmt.Errorf("points: spend %v: %w: available %v", amount, gamifytype.ErrInsufficientPoints, s.Available())
	}
	s.spent = wrapAdd(s.spent, amount)
	return s, Effects{Spent: amount, Total: s.total}, nil
}

// PinLevel pins the user at level key until UnpinLevel; awards then no longer
// move the level. An unknown key fails with ErrNotFound.
func PinLevel(levels []Level, s State, key string) (State, Effects, error) {
	if !slices.ContainsFunc(levels, func(l Level) bool { return l.Key == key }) {
		return s, Effects{}, fmt.Errorf("points: level %s: %w", key, gamifytype.ErrNotFound)
	}
	from, _ := s.LevelKey()
	s.pin = key
	fx := Effects{Total: s.total}
	if from != key {
		fx.Level = (&Rules{Levels: levels}).change(from, key, true)
	}
	return s, fx, nil
}

// UnpinLevel clears a pin: the level is again the one of the total.
func UnpinLevel(levels []Level, s State) (State, Effects) {
	from, _ := s.LevelKey()
	s.pin, s.level = "", ""
	if l, ok := LevelFor(levels, s.total); ok {
		s.level = l.Key
	}
	fx := Effects{Total: s.total}
	if from != s.level {
		fx.Level = (&Rules{Levels: levels}).change(from, s.level, true)
	}
	return s, fx
}

// Relevel brings a user's level in line with the ladder levels after it
// changed (a level added, activated, deactivated or archived, a threshold
// moved): a user pinned to a level of levels keeps the pin; any other user,
// a pin to a level no longer in levels included (the pin is cleared), moves
// to the level of their total. gone are levels that left the ladder, for
// the direction of a move from one of them (a threshold above the new
// level's is a demotion). The total and trigger progress never change.
func Relevel(levels, gone []Level, s State) (State, Effects) {
	in := func(k string) bool { return slices.ContainsFunc(levels, func(l Level) bool { return l.Key == k }) }
	from, pinned := s.LevelKey()
	fx := Effects{Total: s.total}
	if pinned && in(from) {
		return s, fx
	}
	to := ""
	if l, ok := LevelFor(levels, s.total); ok {
		to = l.Key
	}
	if !pinned && to == from {
		return s, fx
	}
	s.pin, s.level = "", to
	if to != from {
		fx.Level = (&Rules{Levels: append(slices.Clone(levels), gone...)}).change(from, to, false)
	}
	return s, fx
}

// LevelFor returns the level with the highest Threshold not above total, and
// false when total is below every level.
func LevelFor(levels []Level, total Amount) (Level, bool) {
	best := -1
	for i, l := range levels {
		if l.Threshold.Cmp(total) <= 0 && (best < 0 || levels[best].Threshold.Less(l.Threshold)) {
			best = i
		}
	}
	if best < 0 {
		return Level{}, false
	}
	return levels[best], true
}

// NextLevel returns the level with the lowest Threshold above total, with the
// points it requires (its Threshold) and those remaining (Threshold − total);
// false at the top level.
func NextLevel(levels []Level, total Amount) (next Level, required, remaining Amount, ok bool) {
	best := -1
	for i, l := range levels {
		if total.Less(l.Threshold) && (best < 0 || l.Threshold.Less(levels[best].Threshold)) {
			best = i
		}
	}
	if best < 0 {
		return Level{}, Amount{}, Amount{}, false
	}
	return levels[best], levels[best].Threshold, levels[best].Threshold.Sub(total), true // saturating
}

// GlobalBoosts returns the global boosts of system, without the finished
// ones at now (in loc) unless withFinished.
func GlobalBoosts(boosts []Boost, system string, now time.Time, loc *time.Location, withFinished bool) []Boost {
	var out []Boost
	for _, b := range boosts {
		if b.System == system && b.Scope == Global && (withFinished || b.StatusAt(now, loc) != Finished) {
			out = append(out, b)
		}
	}
	return out
}

// EligibleBoosts returns the boosts of system that multiply u's awards at now.
func EligibleBoosts(boosts []Boost, system string, u User, now time.Time) []Boost {
	var out []Boost
	for i := range boosts {
		if boosts[i].eligible(system, &u, now) {
			out = append(out, boosts[i])
		}
	}
	return out
}

package achievement

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Errors of Complete. Each wraps a gamifytype sentinel, so callers can test
// either: errors.Is(err, ErrLocked) or errors.Is(err, gamifytype.ErrConflict).
var (
	// ErrNotManual is returned by Complete for an achievement that is not of
	// KindManual.
	ErrNotManual = fmt.Errorf("achievement: not a manual achievement: %w", gamifytype.ErrInvalid)
	// ErrInactive is returned by Complete for an Inactive achievement.
	ErrInactive = fmt.Errorf("achievement: inactive: %w", gamifytype.ErrConflict)
	// ErrLocked is returned by Complete for a Locked achievement the user
	// does not hold.
	ErrLocked = fmt.Errorf("achievement: locked: %w", gamifytype.ErrConflict)
	// ErrGated is returned by Complete when the user's attributes do not
	// match the achievement's UserFilters.
	ErrGated = fmt.Errorf("achievement: user does not match the user filters: %w", gamifytype.ErrConflict)
)

// MetricChange is one event of a metric for a user, as the engine applied it.
type MetricChange struct {
	Metric     string
	Delta      gamifytype.Amount
	Total      gamifytype.Amount // the user's metric total after the event
	EventAttrs map[string]string
	UserAttrs  map[string]string // the user's attributes after the event's upsert
}

// StreakChange is a length a run of a user's streak history reached: pass
// the longest run a call changed (the streak package's Reached), ended runs
// included, so that a late activity that makes a past run long enough
// completes the achievement whatever the current length.
type StreakChange struct {
	Streak    string
	Length    int
	UserAttrs map[string]string
}

// OnMetric evaluates the achievements that depend on ch.Metric, and the
// composites that depend on them, and returns the new state with the
// completions, in dependency order. Every event of the metric updates the
// sums of the filtered achievements it matches. A filtered sum that would
// overflow, or a now outside the years 1678 to 2261, returns an error
// wrapping gamifytype.ErrInvalid and s unchanged.
func OnMetric(c *Catalog, s State, ch MetricChange, now time.Time) (State, []Completion, error) {
	c = c.or()
	if err := checkNow(now); err != nil {
		return s, nil, err
	}
	p, ok := c.byMetric[ch.Metric]
	if !ok {
		return s, nil, nil
	}
	orig := s
	var out []Completion
	for _, i := range p.direct {
		d := &c.defs[i]
		if s.has(d.Key) {
			continue
		}
		cur := ch.Total
		if len(d.EventFilters) > 0 {
			cur = s.Sum(d.Key)
			if matches(d.EventFilters, ch.EventAttrs) {
				var ok bool
				if cur, ok = cur.AddChecked(ch.Delta); !ok {
					return orig, nil, gamifytype.Invalid("Event.Value", ch.Delta, "overflows the sum of achievement "+d.Key)
				}
				s = s.withSum(d.Key, cur)
			}
		}
		if d.Status == Active && !cur.Less(d.Threshold) && !d.Gated(ch.UserAttrs) {
			s = s.complete(d.Key, now, false)
			out = append(out, Completion{Key: d.Key, At: now.UTC()})
		}
	}
	s, out = c.composites(p.composites, s, ch.UserAttrs, now, false, out)
	return s, out, nil
}

// OnStreak evaluates the streak achievements of ch.Streak against the new
// length, and the composites that depend on them. A length that went down
// completes nothing new and takes nothing away. A now outside the years
// 1678 to 2261 (which a State cannot store) changes nothing.
func OnStreak(c *Catalog, s State, ch StreakChange, now time.Time) (State, []Completion) {
	c = c.or()
	if checkNow(now) != nil {
		return s, nil
	}
	p, ok := c.byStreak[ch.Streak]
	if !ok {
		return s, nil
	}
	var out []Completion
	for _, i := range p.direct {
		d := &c.defs[i]
		if !s.has(d.Key) && d.Status == Active && ch.Length >= d.Length && !d.Gated(ch.UserAttrs) {
			s = s.complete(d.Key, now, false)
			out = append(out, Completion{Key: d.Key, At: now.UTC()})
		}
	}
	return c.composites(p.composites, s, ch.UserAttrs, now, false, out)
}

// composites completes, in order, each composite of idx the user now
// qualifies for. Since idx is sorted by rank, a chain completes in one pass.
func (c *Catalog) composites(idx []int, s State, userAttrs map[string]string, now time.Time, backdated bool, out []Completion) (State, []Completion) {
	for _, i := range idx {
		d := &c.defs[i]
		if !s.has(d.Key) && d.Status == Active && prerequisitesHeld(d, s) && !d.Gated(userAttrs) {
			s = s.complete(d.Key, now, backdated)
			out = append(out, Completion{Key: d.Key, At: now.UTC(), Backdated: backdated})
		}
	}
	return s, out
}

func prerequisitesHeld(d *Definition, s State) bool {
	for _, p := range d.Prerequisites {
		if !s.has(p) {
			return false
		}
	}
	return true
}

// Result is the outcome of Complete.
type Result struct {
	// Completion is the manual achievement's completion: the original one
	// when AlreadyCompleted.
	Completion       Completion
	AlreadyCompleted bool
	// Completions are the new completions, the manual achievement first,
	// then composites it completed; empty when AlreadyCompleted.
	Completions []Completion
}

// Complete completes the manual achievement key for a user, then the
// composites that depend on it. A repeat is not an error: it returns the
// original completion with AlreadyCompleted and s unchanged (even if the
// achievement has since been locked or the user lost a gating attribute).
// Otherwise it fails with s unchanged and an error wrapping, checked in this
// order, gamifytype.ErrNotFound (unknown key), ErrNotManual (even if the
// user holds it), ErrInactive, ErrLocked or ErrGated. A now outside the
// years 1678 to 2261 fails first, with a *gamifytype.ValidationError.
func Complete(c *Catalog, s State, key string, userAttrs map[string]string, now time.Time) (State, Result, error) {
	c = c.or()
	if err := checkNow(now); err != nil {
		return s, Result{}, err
	}
	i, ok := c.index[key]
	if !ok {
		return s, Result{}, fmt.Errorf("achievement %s: %w", key, gamifytype.ErrNotFound)
	}
	d := &c.defs[i]
	var err error
	switch {
	case d.Kind != KindManual:
		err = ErrNotManual
	case s.has(key):
		done, _ := s.Completed(key)
		return s, Result{Completion: done, AlreadyCompleted: true}, nil
	case d.Status == Inactive:
		err = ErrInactive
	case d.Status == Locked:
		err = ErrLocked
	case d.Gated(userAttrs):
		err = ErrGated
	}
	if err != nil {
		return s, Result{}, err // the caller names the achievement and user
	}
	s = s.complete(key, now, false)
	done := Completion{Key: key, At: now.UTC()}
	s, out := c.composites(c.after[i], s, userAttrs, now, false, []Completion{done})
	return s, Result{Completion: done, Completions: out}, nil
}

// Facts are a user's numbers that achievements are judged on outside an
// event: metric totals and current streak lengths, by key. Missing keys
// count as zero.
type Facts struct {
	Totals  map[string]gamifytype.Amount
	Streaks map[string]int
}

// Qualifies reports whether the user would complete d now: d is Active, not
// yet completed, the user passes its UserFilters and meets its condition
// (filtered metric achievements use the State's sum; composites need every
// prerequisite held). Manual achievements never qualify.
func Qualifies(d Definition, s State, f Facts, userAttrs map[string]string) bool {
	if d.Status != Active || s.has(d.Key) || d.Gated(userAttrs) {
		return false
	}
	switch d.Kind {
	case KindMetric:
		if len(d.EventFilters) > 0 {
			return !s.Sum(d.Key).Less(d.Threshold)
		}
		return !f.Totals[d.Metric].Less(d.Threshold)
	case KindStreak:
		return f.Streaks[d.Streak] >= d.Length
	case KindComposite:
		return prerequisitesHeld(&d, s)
	}
	return false
}

// Backdate completes, flagged Backdated, every achievement of c the user
// qualifies for (see Qualifies), in dependency order so that composites
// over backdated prerequisites complete too. The engine runs it for each
// user, in bounded chunks, after an achievement is activated or its
// threshold lowered; it also picks up users who gained a gating attribute
// since their last relevant event. The engine sends no notifications for
// its completions. A now outside the years 1678 to 2261 changes nothing.
func Backdate(c *Catalog, s State, f Facts, userAttrs map[string]string, now time.Time) (State, []Completion) {
	c = c.or()
	if checkNow(now) != nil {
		return s, nil
	}
	var out []Completion
	for _, i := range c.all {
		d := &c.defs[i]
		if Qualifies(*d, s, f, userAttrs) {
			s = s.complete(d.Key, now, true)
			out = append(out, Completion{Key: d.Key, At: now.UTC(), Backdated: true})
		}
	}
	return s, out
}

// checkNow refuses a now that a State cannot store as Unix nanoseconds
// (the zero Time included).
func checkNow(now time.Time) error {
	if now.IsZero() || !gamifytype.EncodableTime(now) {
		return gamifytype.Invalid("Now", now, "must be set, in the years 1678 to 2261")
	}
	return nil
}

// Progress is how far a user is towards an achievement.
type Progress struct {
	Current, Target gamifytype.Amount
	Completed       bool
}

// ProgressOf returns the user's progress towards d. Current is clamped to
// 0..Target, and equals Target once completed (a total that went down after
// completion does not show as regress). Units: the metric's for metric
// achievements, periods for streaks, completed prerequisites for
// composites, 0 or 1 for manual ones.
func ProgressOf(d Definition, s State, f Facts) Progress {
	var cur, target gamifytype.Amount
	switch d.Kind {
	case KindMetric:
		target = d.Threshold
		if len(d.EventFilters) > 0 {
			cur = s.Sum(d.Key)
		} else {
			cur = f.Totals[d.Metric]
		}
	case KindStreak:
		target = periods(d.Length)
		cur = periods(max(f.Streaks[d.Streak], 0))
	case KindManual:
		target = gamifytype.AmountFromInt(1)
	case KindComposite:
		n := 0
		for _, p := range d.Prerequisites {
			if s.has(p) {
				n++
			}
		}
		target = gamifytype.AmountFromInt(int64(len(d.Prerequisites)))
		cur = gamifytype.AmountFromInt(int64(n))
	}
	done := s.has(d.Key)
	if done {
		cur = target
	}
	return Progress{Current: clampAmount(cur, target), Target: target, Completed: done}
}

// Visible reports whether d is listed for a user: never when Inactive;
// always for a holder otherwise; for others only when Active and not gated
// out by UserFilters (a Locked achievement stays visible to its holders only).
func Visible(d Definition, s State, userAttrs map[string]string) bool {
	switch {
	case d.Status == Inactive:
		return false
	case s.has(d.Key):
		return true
	}
	return d.Status == Active && !d.Gated(userAttrs)
}

// RarityPercent returns the share of users holding an achievement, in
// percent (0 to 100); 0 when there are no users.
func RarityPercent(holders, users int) float64 {
	if users <= 0 || holders <= 0 {
		return 0
	}
	return 100 * float64(min(holders, users)) / float64(users)
}

// NeedsBackdate reports whether changing a definition from old to new may
// make users qualify who did not before, so the engine should run the
// backdating job: new is Active and it was not (activation or unlocking), or
// a condition got easier or different (lower Threshold or Length, another
// metric, streak, kind or filters, fewer or other prerequisites). It errs
// on the side of true: Backdate is idempotent, so a needless run only costs
// time.
func NeedsBackdate(old, new Definition) bool {
	if new.Status != Active {
		return false
	}
	return old.Status != Active || old.Kind != new.Kind ||
		new.Threshold.Less(old.Threshold) || new.Length < old.Length ||
		old.Metric != new.Metric || old.Streak != new.Streak ||
		!maps.Equal(old.EventFilters, new.EventFilters) || !maps.Equal(old.UserFilters, new.UserFilters) ||
		!slices.Equal(old.Prerequisites, new.Prerequisites)
}

// periods returns a streak length as an Amount, saturating at MaxAmount
// (a Length Validate refuses, or a huge fact, must not panic).
func periods(n int) gamifytype.Amount {
	if a, ok := gamifytype.AmountFromIntChecked(int64(n)); ok {
		return a
	}
	if n < 0 {
		return gamifytype.MinAmount
	}
	return gamifytype.MaxAmount
}

// clampAmount returns cur clamped to 0..target.
func clampAmount(cur, target gamifytype.Amount) gamifytype.Amount {
	if cur.Sign() < 0 {
		cur = gamifytype.Amount{}
	}
	if target.Less(cur) {
		return target
	}
	return cur
}

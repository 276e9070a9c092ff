package gamify

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// Streaks, challenges, triggers, boosts and boards remember when they were
// inactive (paused, for boards), so that an event is judged by whether the
// definition was active at the event's time, not at its arrival
// (docs/behaviour.md).

// maxOffIntervals bounds the inactive intervals a definition remembers;
// older ones are merged (the time between them then counts as inactive too).
const maxOffIntervals = 64

// offRetention is how long a closed inactive interval matters: longer than
// the retained window of any streak frequency (27 months) plus grace, and
// than the default MaxEventAge (400 days).
const offRetention = 1000 * 24 * time.Hour

// offAfter returns the inactive intervals off (oldest first, the last open
// while inactive) after a status change at now: with an open interval from
// now when the definition becomes inactive, else with the open one closed
// at now (and dropped when it lasted no time). Intervals closed more than
// offRetention before now are dropped, and past maxOffIntervals the oldest
// two merge. off itself is not modified; no intervals is nil.
func offAfter(off []gamifytype.Interval, now time.Time, inactive bool) []gamifytype.Interval {
	out := slices.DeleteFunc(slices.Clone(off), func(iv gamifytype.Interval) bool {
		return !iv.To.IsZero() && iv.To.Before(now.Add(-offRetention))
	})
	if inactive {
		if len(out) >= maxOffIntervals {
			out[1].From = out[0].From
			out = out[1:]
		}
		out = append(out, gamifytype.Interval{From: now})
	} else if n := len(out); n > 0 && out[n-1].To.IsZero() {
		out[n-1].To = now
		if !out[n-1].From.Before(now) {
			out = out[:n-1] // inactive for no time at all
		}
	}
	if len(out) == 0 {
		return nil
	}
	return slices.Clip(out)
}

// offAfterStatus is offAfter for a status change from → to: only a change
// between active and inactive opens or closes an interval; any other
// (archiving, finishing) keeps off.
func offAfterStatus(off []gamifytype.Interval, from, to Status, now time.Time) []gamifytype.Interval {
	if (from == StatusActive && to == StatusInactive) || (from == StatusInactive && to == StatusActive) {
		return offAfter(off, now, to == StatusInactive)
	}
	return off
}

// inactiveSince is the history of a definition created inactive: inactive
// from the start of time, so that a late event dated before its creation
// counts no more than one dated after.
func inactiveSince(st Status) []gamifytype.Interval {
	if st != StatusInactive {
		return nil
	}
	return []gamifytype.Interval{{}}
}

// loadedOff is the stored intervals off of a definition, inactive or not,
// as loaded: one stored inactive by a version that kept no intervals has
// no open one, and is taken as inactive since its last change (updated),
// or since ever if it never changed after its creation. It is not written
// back until the next change.
func loadedOff(off []gamifytype.Interval, inactive bool, created, updated time.Time) []gamifytype.Interval {
	if n := len(off); !inactive || (n > 0 && off[n-1].To.IsZero()) {
		return off
	}
	from := updated
	if from.Equal(created) {
		from = time.Time{}
	}
	return append(slices.Clip(off), gamifytype.Interval{From: from})
}

// createdOff is the Inactive of a definition created with status st
// (active or inactive) at now: with no intervals given, inactiveSince(st);
// else the given ones (an export's), checked by checkInactive and in UTC.
// field names them in errors ("Trigger.Inactive").
func createdOff(field string, given []gamifytype.Interval, st Status, now time.Time) ([]gamifytype.Interval, error) {
	if len(given) == 0 {
		return inactiveSince(st), nil
	}
	if err := checkInactive(field, given, st, now); err != nil {
		return nil, err
	}
	out := make([]gamifytype.Interval, len(given))
	for i, iv := range given {
		out[i] = gamifytype.Interval{From: stampZero(iv.From), To: stampZero(iv.To)}
	}
	return out, nil
}

// everActive reports whether a definition with status st and intervals
// off is active or was before: one inactive since ever counts for nothing.
func everActive(st Status, off []gamifytype.Interval) bool {
	switch st {
	case StatusActive:
		return true
	case StatusInactive:
		return len(off) > 1 || (len(off) == 1 && !off[0].From.IsZero())
	}
	return false
}

// unionOff returns the intervals in a or b (each oldest first, the last
// possibly open), merged: an instant is in the result if it is in either.
func unionOff(a, b []gamifytype.Interval) []gamifytype.Interval {
	all := append(slices.Clone(a), b...)
	slices.SortStableFunc(all, func(x, y gamifytype.Interval) int { return x.From.Compare(y.From) })
	var out []gamifytype.Interval
	for _, iv := range all {
		n := len(out)
		switch {
		case n == 0:
			out = append(out, iv)
		case out[n-1].To.IsZero():
			// open: covers everything after
		case !iv.From.After(out[n-1].To):
			if iv.To.IsZero() || iv.To.After(out[n-1].To) {
				out[n-1].To = iv.To
			}
		default:
			out = append(out, iv)
		}
	}
	return out
}

// inactiveSkew is how far past now a given interval may reach: the clock
// of the machine importing an export may be behind the one that made it.
// A constant, not Options.MaxClockSkew: a Create must apply the same at
// replay whatever the options.
const inactiveSkew = 5 * time.Minute

// checkInactive reports every bad interval of a definition created with
// status st at now, naming each field with its index
// ("Trigger.Inactive[1].To"): at most maxOffIntervals, sorted and not
// overlapping, each closed one ending after it starts, none reaching more
// than inactiveSkew past now, and only the last open, exactly when st is
// inactive. Only the first may have a zero From (inactive since ever, as
// one created inactive is).
func checkInactive(field string, ivs []gamifytype.Interval, st Status, now time.Time) error {
	now = now.Add(inactiveSkew)
	if len(ivs) > maxOffIntervals {
		return gamifytype.Invalid(field, len(ivs), fmt.Sprintf("must hold at most %d intervals", maxOffIntervals))
	}
	var errs []error
	bad := func(i int, end string, v time.Time, reason string) {
		errs = append(errs, gamifytype.Invalid(fmt.Sprintf("%s[%d].%s", field, i, end), v, reason))
	}
	last := len(ivs) - 1
	for i, iv := range ivs {
		switch {
		case iv.From.IsZero() && i > 0:
			bad(i, "From", iv.From, "must be set (only the first interval may reach back to the start of time)")
		case iv.From.After(now):
			bad(i, "From", iv.From, "must not be more than 5 minutes in the future")
		case i > 0 && !ivs[i-1].To.IsZero() && iv.From.Before(ivs[i-1].To):
			bad(i, "From", iv.From, "must not start before the interval before it ends (oldest first, not overlapping)")
		}
		switch {
		case iv.To.IsZero() && i < last:
			bad(i, "To", iv.To, "must be set: only the last interval may be open")
		case iv.To.IsZero() && st != StatusInactive:
			bad(i, "To", iv.To, "must be set: the last interval is open only while the status is inactive")
		case !iv.To.IsZero() && i == last && st == StatusInactive:
			bad(i, "To", iv.To, "must be zero: the last interval of an inactive definition is open")
		case !iv.To.IsZero() && !iv.From.Before(iv.To):
			bad(i, "To", iv.To, "must be after From")
		case iv.To.After(now):
			bad(i, "To", iv.To, "must not be more than 5 minutes in the future")
		}
	}
	return errors.Join(errs...)
}

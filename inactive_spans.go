package gamify

import (
	"slices"
	"time"

	"github.com/gamifykit/gamify/gamifytype"
)

// A definition whose status is judged at the time of what it applies to (a
// late event is judged as if it had come on time) remembers the intervals
// it was inactive.

// maxInactiveSpans bounds the inactive intervals a definition remembers;
// older ones are merged (the time between them then counts as inactive too).
const maxInactiveSpans = 64

// inactiveRetention is how long a closed inactive interval matters: longer
// than Options.MaxEventAge allows (400 days by default) and than the
// retained window of any streak frequency (27 months) plus grace.
const inactiveRetention = 1000 * 24 * time.Hour

// inactiveAfter returns off after a status change from → to at now (a new
// slice; off is not modified): becoming inactive opens an interval, becoming
// active again closes the open one. Other changes (archiving) keep off.
// Closed intervals older than inactiveRetention are dropped.
func inactiveAfter(off []gamifytype.Interval, from, to Status, now time.Time) []gamifytype.Interval {
	switch {
	case from == StatusActive && to == StatusInactive, from == StatusInactive && to == StatusActive:
	default:
		return off
	}
	out := slices.DeleteFunc(slices.Clone(off), func(iv gamifytype.Interval) bool {
		return !iv.To.IsZero() && iv.To.Before(now.Add(-inactiveRetention))
	})
	if to == StatusInactive {
		if len(out) >= maxInactiveSpans {
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

// inactiveSince is the history of a definition created inactive: inactive
// from the start of time, so that a late event dated before its creation
// does not pay either.
func inactiveSince(st Status) []gamifytype.Interval {
	if st != StatusInactive {
		return nil
	}
	return []gamifytype.Interval{{}}
}

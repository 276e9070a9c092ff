package gamify

import (
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

package gamify

import (
	"slices"
	"time"

	"github.com/gamifykit/gamify/streak"
)

// Streaks and challenges remember when they were inactive, so that an event
// is judged by whether the definition was active at the event's time, not at
// its arrival (docs/behaviour.md, "Streaks" and "Challenges").

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
func offAfter(off []streak.Interval, now time.Time, inactive bool) []streak.Interval {
	out := slices.DeleteFunc(slices.Clone(off), func(iv streak.Interval) bool {
		return !iv.To.IsZero() && iv.To.Before(now.Add(-offRetention))
	})
	if inactive {
		if len(out) >= maxOffIntervals {
			out[1].From = out[0].From
			out = out[1:]
		}
		out = append(out, streak.Interval{From: now})
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

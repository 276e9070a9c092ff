// Package points is the pure logic of points systems: the definitions
// (System, Trigger, Boost, Level) with Validate, a user's opaque per-system
// State with its binary encoding, the transitions that award and spend points
// (OnMetric, OnAchievement, OnStreak, OnUserCreated, OnTime, Award, TakeBack,
// Spend, PinLevel, UnpinLevel, Relevel) and the reads (LevelFor, NextLevel, NextTimeDue,
// GlobalBoosts, EligibleBoosts, Histogram, UsersPerLevel). It does no I/O and
// never reads the clock: instants and the user's time zone come in as
// arguments, and every transition returns a new State plus Effects (the
// awards and the level change) for the event result, the ledger and the
// notifications. On error a transition returns the State it was given, so
// the engine can reject the whole event.
//
// Decisions the hosted references leave open (docs/behaviour.md#points):
//   - Points are exact Amounts. An award with no multiplier (no boost, no
//     level multiplier, or a negative award) is exact, fractions included. A
//     multiplied award is the exact product rounded to a whole point with the
//     common rounding mode of the stacked boosts, or down where they differ
//     (a level multiplier alone rounds down).
//   - Boost windows are evaluated at the instant of the event (a late event
//     gets the boosts of its time); a time trigger uses the now OnTime is
//     given, so fires caught up after downtime get the boosts of then.
//   - The level multiplier is that of the user's level at the start of the
//     call (Rules.CallLevel, when a call runs several transitions, else at
//     the start of the transition); the level is recomputed once, at the end
//     of the transition, and reported only when it differs from the one at
//     its start.
//   - The cap limits increases only: a positive award is cut so that the total
//     reaches MaxPoints exactly (nothing is added at or above it); a negative
//     award always applies in full. Awards cut to zero are not reported.
//   - Manual awards (Award) take no boosts and no level multiplier but respect
//     the cap. Spend changes spent, never total, so levels do not move.
//   - Triggers are applied in the order given; a negative award with
//     BlockIfOutOfPoints is checked against the available points after the
//     earlier awards of the same call.
//   - Inactive or gated-out (UserFilters) metric triggers ignore the event:
//     their running sum does not move. Streak and time triggers let the
//     multiples and fires reached while inactive or gated out pass unpaid,
//     so activating a trigger never pays out a lump for the past.
//   - Streak triggers award each new multiple of EveryN within a run, from
//     the streak package's Reach: a restore after a loss carries on the run
//     it restores, so the restored multiples are not paid again.
//   - Time triggers fire at created + k×Every (hours, or calendar days in the
//     user's zone), k ≥ 1, for fires after Trigger.Since. Missed fires are
//     caught up collapsed into one award of n×Points, like a metric event that
//     crosses several multiples.
//   - Histogram: negative totals are counted in the first range, [0,0].
package points

// Package streak is the pure logic of streaks: definitions, per-user state
// and its transitions (Apply, Advance, GrantFreeze, Restore, pauses) and the
// reads (View, History, NextDue). It does no I/O and never reads the clock:
// every function takes now and the user's time zone, and returns a new State
// plus Effects (notifications and length transitions for the hooks).
//
// Periods are identified by an integer index that does not depend on a time
// zone: daily = days since 1970-01-01 of the local date, weekly = weeks since
// an epoch week aligned to the week start, monthly = year*12 + month-1. An
// activity belongs to the period of its local date in the zone the user had
// when it happened, so a zone change neither loses nor doubles a period.
// Start and end instants are computed in the user's current zone: days are
// calendar days (23 or 25 hours around DST) and a day a zone skipped
// (Pacific/Apia 2011-12-30) is a zero-length period that is skipped.
//
// Rules (docs/behaviour.md#streaks, with the decisions taken here):
//   - Only positive deltas count toward a period, so "met" never reverts and
//     the result does not depend on the order activities arrive in.
//   - Length is the number of met periods in the run of consecutive met,
//     frozen, paused or skipped periods ending at the current period if it is
//     met, else at the previous one. Frozen and paused periods keep the length.
//   - A period is settled when met, or at its end plus GraceHours. An unmet
//     period is then paused (a pause covers any of its days), frozen (a freeze
//     is held and the streak is alive) or lost (Lost with the lost length,
//     reported once). Nothing happens to an unmet period when the length is 0.
//   - Grace: an activity within GraceHours after the end of a period also
//     counts toward that period (besides its own); the period is met by it
//     only while the streak was alive before it. Both sums are kept apart so
//     that the result is order independent.
//   - Freezes: Initial on first sight; EarnAmount every EarnEveryDays (24-hour
//     days from the earliest activity, so that a late first sync earns as it
//     would have live) up to Max; admin grants are not capped
//     (ExceedsMax warning). A late activity that meets a frozen period gives
//     the freeze back (FreezeRefunded), because the result is recomputed as if
//     the activity had arrived on time, freezes included.
//   - Restore raises the length to the longest reached in the window; it
//     applies on entering the current period, so an activity today adds one.
//     Unmet periods still in their grace window at the restore are forgiven.
//   - Pauses are local date ranges; a period is paused when a pause covers any
//     of its days. Only pauses not yet started can be deleted outright; one in
//     progress is cut to end yesterday, so the past never changes.
//   - Extended (and the Started/Extended notification) is only for an on-time
//     activity (its period is the current one) that raised the length; a late
//     one that raises it gives Repaired. Lost is only for time passing ending
//     a live streak, never for a past rewritten by a late activity. Every call
//     reports the net change of the length as one Transition (old -> new).
//   - Rewards tied to lengths follow the runs of the history: every call
//     that changes runs reports them as Reached (the run's length and the
//     lengths of the runs it joins), and Reach.Multiples and Reach.Crossed
//     say what a run newly reaches, so each threshold is paid once per run
//     whatever the arrival order. The state needs no record of what was
//     paid: after every call each run has been paid what its length owes.
//     A run a late activity cut short (a freeze moved to an earlier gap) is
//     reported with a Length below its part's, and one whose first period
//     moved with its new Start, so a caller that keeps what it paid per run
//     (by Start) can give back what the run no longer owes.
//   - The state remembers the definition's frequency (and week start); when
//     it changes the run restarts (freezes, longest and pauses are kept).
//     Progress of unmet periods is kept per metric position, so reordering
//     the metrics of a definition mixes up in-flight (unmet) progress.
//
// How late activities stay deterministic: the State keeps facts over a window
// of retained periods (enough for MaxLateDays): met periods as sorted spans,
// per-metric sums of unmet periods only, pauses, admin grants and restores,
// plus the cursor as of the window's start. Everything else is a replay of
// those facts from that cursor, interleaving period closings and freeze
// credits by instant. The stored cursor is that replay advanced
// incrementally; a late activity that changes a settled period triggers a
// full replay (a few hundred cheap steps), and the effects are the
// difference between the old and the new replay. Hence View(s, now) equals
// View(Advance(s, now)), and the state after any interleaving of Apply and
// Advance equals a from-scratch recomputation over the same activities.
package streak

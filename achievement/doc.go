// Package achievement is the pure logic of achievements and badges:
// definitions and their validation, a validated Catalog, the per-user State
// (completions and filtered running sums, binary-encodable), and the
// transitions the engine's writer calls (OnMetric, OnStreak, Complete,
// Backdate, with NeedsBackdate to decide when to run it) plus the reads
// (ProgressOf, Visible, RarityPercent). It does no I/O and never reads the
// clock: every transition takes now (an instant within the years 1678-2262,
// stored as Unix nanoseconds).
//
// Rules (docs/behaviour.md#achievements, with the decisions taken here):
//   - State is keyed by achievement key (keys are immutable and never reused),
//     so a State needs no reference table and survives catalogue changes.
//   - Evaluation is level-triggered: an event evaluates every achievement that
//     depends on its metric (or streak), and the composites that depend on
//     those, transitively, in dependency order. An achievement completes when
//     the user qualifies now, whatever happened before. Hence a user who was
//     gated out and later gains the attribute completes at the next relevant
//     event (or at the next Backdate run), and a composite completes in the
//     same evaluation as its last prerequisite.
//   - A completion is permanent and happens at most once per user: a total
//     that goes down and up again never completes twice.
//   - Only Active achievements complete. Locked ones complete for nobody new;
//     holders keep and see them. Inactive ones are neither evaluated nor
//     visible. A composite counts a prerequisite the user holds whatever its
//     status, so one over a locked prerequisite completes only for holders.
//   - Gating by UserFilters is checked at completion only: a user who loses
//     the attribute keeps what was completed.
//   - Metric kind without EventFilters compares the metric total after the
//     event with Threshold. With EventFilters only matching events count: the
//     State keeps the achievement's own signed running sum of matching deltas.
//     Sums accrue whatever the status or gating (so activation and threshold
//     changes can be backdated) and are dropped once the achievement completes.
//   - A completion is dated now (when the engine applied the event), not at
//     the event's own time: the total it was judged on includes every event
//     applied up to now.
package achievement

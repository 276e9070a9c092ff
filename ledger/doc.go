// Package ledger is the append-only record of every change to a user's
// numbers: metric deltas (MetricDelta), point awards (PointsAward) and
// spends (PointsSpend). Each entry carries a global sequence number, the
// time, the user, a kind, the key it changes, the delta, a cause and an
// optional idempotency key. Balances kept elsewhere are derivable from the
// ledger; Engine.Check proves it by summing.
//
// Entries are keyed by their global sequence alone, so writing the ledger is
// an append to the last pages of one key range. Keying by (user, sequence)
// was tried first: it made every batch rewrite a ledger page per touched
// user, the largest cost of a commit (measured). A user's history is
// therefore a scan, which only audits, hard deletes and compaction need;
// per-user reads (award logs, summaries) use their own records. Encodings
// are binary and versioned.
package ledger

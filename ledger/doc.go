// Package ledger is the append-only record of every change to a user's
// numbers: metric deltas now, point awards, spends and freezes as those
// features land. Each entry carries a global sequence number, the time, the
// user, a kind, the key it changes, the delta, a cause and an optional
// idempotency key. Balances kept elsewhere are derivable from the ledger;
// Engine.Check proves it by summing.
//
// Entries are keyed by (user, sequence) so one user's history is one prefix
// scan and a hard delete removes a contiguous range; the sequence still orders
// entries globally. Encodings are binary and versioned.
package ledger

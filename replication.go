package gamify

import (
	"context"
	"errors"
)

// ErrUnavailable is returned by a write of a replicated engine
// (Options.Replication) when the shared log cannot take it: the replica is
// cut off from the log, or the log lost its quorum. Nothing was applied by
// this replica; reads go on from its local state. The write may still reach
// the log if the failure hid its acknowledgement: retry with the same
// idempotency key.
var ErrUnavailable = errors.New("gamify: replicated log unavailable")

// ReplicatedLog is a command log shared by several engines, each a full
// replica of one state (package jetstream provides one over NATS
// JetStream). Every write of a replicated engine is proposed to the log and
// applied when it comes back in the log's order, by every replica alike:
// a command's result is the one every replica computes at its position.
//
// Positions are consecutive from 1, in the log's order. Implementations
// must be safe for concurrent use.
type ReplicatedLog interface {
	// Propose appends rec under id and returns its position once the log
	// holds it durably. A retry with the same id (by the implementation or
	// the engine) is appended once and returns the first position. An
	// unreachable log is an error wrapping ErrUnavailable.
	Propose(ctx context.Context, id string, rec []byte) (pos uint64, err error)
	// Follow calls fn with every record from position from on, in order,
	// with the id it was proposed under, until ctx ends (it returns
	// ctx.Err()) or fn returns an error (it returns that). It rides out
	// disconnections on its own; it fails at once if the log no longer
	// holds position from (trimmed below it).
	Follow(ctx context.Context, from uint64, fn func(pos uint64, id string, rec []byte) error) error
	// Head is the last position the replica knows the log to hold (without
	// I/O): a replica's lag is Head minus what it applied.
	Head() uint64
	// Leader reports whether this replica may propose scheduled job runs
	// now. Job runs are idempotent, so two replicas proposing one for a
	// moment (a lease changing hands) is safe; none for a while only delays.
	Leader() bool
}

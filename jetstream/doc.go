// Package jetstream replicates a gamify engine over NATS JetStream: every
// process is a full replica of one state, with the same API as a local
// engine.
//
//	r, err := jetstream.Open("game.db", jetstream.Config{URLs: urls}, nil)
//	...
//	defer r.Close()
//	res, err := r.Track(ctx, gamify.Event{User: "ana", Metric: "lessons", Value: 1})
//
// # The log
//
// Log is a gamify.ReplicatedLog over one stream (Config.Stream, default
// "GAMIFY", replicated on Config.Replicas servers, default 3). A write is
// published with its proposal id as the Nats-Msg-Id header; a timeout or a
// stream without a leader is retried under the same id until
// Config.ProposeTimeout (the stream's de-duplication window is longer, so a
// retry lands once), then it fails with an error wrapping
// gamify.ErrUnavailable. A position is a stream sequence. Each replica
// follows the stream from its file's checkpoint position with an ordered
// consumer, applying every record in order; a replica answers a write once
// it applied the write at its position. Reads are local: Stats().LogHead
// minus Stats().LogPosition is how far behind the replica is, as far as it
// last heard (a replica cut off does not see the head move).
//
// # The scheduler's lease
//
// Scheduled jobs are proposed by the lease holder only: a key in a KV
// bucket (Config.LeaseBucket) created with compare-and-set, renewed every
// third of Config.LeaseTTL, and aged out by the bucket's TTL when its
// holder dies. A replica counts its lease from before the write that took
// or renewed it, less a tenth, so it stops proposing before another can
// take the lease. Job runs are idempotent, so two holders for a moment are
// safe.
//
// # Snapshots and retention
//
// Every Config.SnapshotInterval (default 5 min) the lease holder uploads
// a backup of its file to an Object Store bucket (Config.SnapshotBucket)
// under the position it had applied before the backup began (the backup
// folds at least that much), keeps the newest Config.SnapshotsKept
// (default 2) and purges the stream up to the oldest kept one's position
// (the records it folds).
// The purge never passes what a live follower may still ask for (its
// consumer's delivered position less one pull batch of 64), so a running
// replica is not trimmed under its feet; a consumer left by a replica cut
// off or dead is dropped by the servers after Config.FollowerGrace (10 min)
// unpulled.
//
// Retention is therefore: the stream holds every record after the oldest
// kept snapshot, and older ones only while a live replica still needs
// them. A replica whose file is older (away for longer than about
// (SnapshotsKept-1) × SnapshotInterval) cannot catch up from the stream:
// Open moves its file aside to path + ".stale" (replacing an earlier one)
// and bootstraps from the newest snapshot, as it does for a missing file.
// With snapshots disabled (a negative interval) nothing is purged but by
// an explicit Replica.Snapshot.
//
// A running replica whose follower does meet a trimmed stream (cut off
// for longer than Config.FollowerGrace) stops applying and logs it; its
// writes fail with gamify.ErrUnavailable, before they are proposed (one
// in flight as it stops may still reach the stream and apply on the other
// replicas); reopen it.
package jetstream

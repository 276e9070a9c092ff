// Package store is gamify's storage seam: named keyspaces of ordered byte keys
// inside transactions. It is the only package that imports bbolt, and it knows
// buckets, keys and the schema version, not game rules. Keeping its surface
// this narrow is what would let a distributed backend replace bbolt later.
//
// Transactions are bbolt's: one writer at a time, any number of concurrent
// readers on MVCC snapshots. Byte slices returned by Get and passed to Scan
// callbacks are valid only until the transaction ends; copy what you keep.
//
// Every value is stored with a checksum of its keyspace, key and payload
// (checksum.go), checked on every read: a damaged record is an error
// wrapping ErrCorrupt, which the transaction returns.
//
// The keyspaces keyed by 8-byte sequences (ledger, awards, outbox) are
// packed (packed.go): the file holds one bbolt record per fixed range of
// sequences, with the range's entries, each sealed as a record of its own.
// Transactions read and write entries; only the file sees runs. Trim
// removes a packed keyspace's oldest entries; on a Staged DB it moves the
// keyspace's start instead of staging a delete per entry.
//
// With Options.Staged the file is a checkpoint of a log the caller keeps
// (staged.go): UpdateAt stages its writes in memory, sealed, under the
// log position it brings the state to, and every later transaction reads
// them as if committed; Checkpoint folds them into the file in one bbolt
// transaction that also records that position (Meta's "position" record;
// a file without it holds position 0). What no Checkpoint folded is gone
// after Close or a crash: the caller replays its log from
// CheckpointPosition. Backup checkpoints first; Verify and Size see the
// file alone. A staged record costs about 70 bytes of memory besides its
// key and value.
package store

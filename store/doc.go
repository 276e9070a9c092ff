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
package store

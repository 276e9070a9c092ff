package store

import bolt "go.etcd.io/bbolt"

// Limits of what Put stores. A write beyond them fails its whole
// transaction, so the engine checks each command's writes against them
// before the command joins a batch.
const (
	MaxKeySize   = bolt.MaxKeySize             // bytes of a key
	MaxValueSize = bolt.MaxValueSize - sumSize // bytes of a value (its checksum takes the rest)
)

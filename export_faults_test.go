package gamify

import "github.com/gamifykit/gamify/store"

// Test seams for fault injection (faults_test.go, fuzz_test.go).

// FailAfterCommit wraps err so that, returned by the function installed with
// SetBeforeCommit, it lets the commit happen and then reports err as its
// failure: an fsync error of unknown outcome. See store.FailAfterCommit.
func FailAfterCommit(err error) error { return store.FailAfterCommit(err) }

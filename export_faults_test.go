package gamify

// Test seams for fault injection (faults_test.go, fuzz_test.go).

// FailAfterCommit wraps err so that, returned by the function installed with
// SetBeforeCommit, it lets the batch reach the command log and then reports
// err as its failure: an fsync error of unknown outcome (landedFault).
func FailAfterCommit(err error) error { return &landedFault{err} }

// SetBeforeCheckpoint installs a function that runs before each
// checkpoint's commit to the database file; an error from it fails the
// checkpoint (store.FailAfterCommit lets it land and fails it anyway).
func SetBeforeCheckpoint(o *Options, f func() error) { o.beforeCheckpoint = f }

// SetIdemFilterKeys sizes every filter of idempotency keys for n keys
// whatever it holds, so that it is rebuilt all the time.
func SetIdemFilterKeys(o *Options, n int) { o.idemFilterKeys = n }

// Checkpoint runs a checkpoint now.
func Checkpoint(e *Engine) error { return e.checkpoint() }

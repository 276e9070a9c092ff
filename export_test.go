package gamify

// Test seams, visible only to this package's tests.

// SetBeforeCommit installs a function that runs before each commit; an error
// from it makes the commit fail.
func SetBeforeCommit(o *Options, f func() error) { o.beforeCommit = f }

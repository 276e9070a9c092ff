package webhook

// SetSyncDir replaces the directory sync for a test; it returns the restore.
func SetSyncDir(f func(dir string) error) (restore func()) {
	old := syncDir
	syncDir = f
	return func() { syncDir = old }
}

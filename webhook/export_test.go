package webhook

// SetSyncDir replaces the directory sync for a test; it returns the restore.
func SetSyncDir(f func(dir string) error) (restore func()) {
	old := syncDir
	syncDir = f
	return func() { syncDir = old }
}

// SetBeforeRegister makes Start call f before each endpoint's registration;
// it returns the restore.
func SetBeforeRegister(f func(i int) error) (restore func()) {
	old := beforeRegister
	beforeRegister = f
	return func() { beforeRegister = old }
}

//go:build unix

package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOpenRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	_, err := Open(dir, Options{LockTimeout: time.Second})
	require.ErrorIs(t, err, ErrForeign)
	require.ErrorContains(t, err, "directory")

	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	done := make(chan error, 1)
	go func() {
		_, err := Open(fifo, Options{LockTimeout: 100 * time.Millisecond})
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrForeign)
		require.ErrorContains(t, err, "named pipe")
	case <-time.After(10 * time.Second):
		// Unblock the open so the test can end, then fail.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("Open of a FIFO blocked")
	}
}

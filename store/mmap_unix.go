//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// mapFile maps the file at path read-only, under a shared lock, so that it
// does not read a file that another process (holding bbolt's exclusive lock)
// is writing; it waits up to timeout for the lock, then fails as bbolt does.
// It returns nil data for a missing or empty file.
func mapFile(path string, timeout time.Duration) (data []byte, release func(), err error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	defer f.Close() // releases the lock; the mapping stays valid
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil, fmt.Errorf("lock for verification: %w", err)
		}
		if time.Now().After(deadline) {
			return nil, nil, berrors.ErrTimeout
		}
		time.Sleep(50 * time.Millisecond)
	}
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return nil, nil, err
	}
	if int64(int(fi.Size())) != fi.Size() {
		return nil, nil, fmt.Errorf("%d bytes do not fit in memory", fi.Size())
	}
	data, err = syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("map for verification: %w", err)
	}
	return data, func() { _ = syscall.Munmap(data) }, nil
}

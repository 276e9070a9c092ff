//go:build !unix

package store

import (
	"errors"
	"os"
	"time"
)

// mapFile reads the file at path (platforms without syscall.Mmap and
// Flock). It returns nil data for a missing or empty file.
func mapFile(path string, _ time.Duration) (data []byte, release func(), err error) {
	data, err = os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || len(data) == 0 {
		return nil, nil, nil
	}
	return data, func() {}, err
}

//go:build unix

package store

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process has used (user and system), which
// other work on the machine changes less than it changes wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

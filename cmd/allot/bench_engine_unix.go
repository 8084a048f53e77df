//go:build unix

package main

import (
	"syscall"
	"time"
)

// cpuTime is the CPU the process has used (all threads, GC included). On a
// shared machine it shows the work done where wall time also shows waiting.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

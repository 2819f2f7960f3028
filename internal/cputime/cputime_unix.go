//go:build unix

// Package cputime reads the CPU time the process has used, for benchmarks:
// on a shared machine a benchmark's own work is measured more steadily by
// its CPU time than by the wall clock.
package cputime

import (
	"syscall"
	"time"
)

// Process returns the CPU time the process has used, user and system, all
// threads together; 0 if it cannot be read.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

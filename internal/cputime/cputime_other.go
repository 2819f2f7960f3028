//go:build !unix

// Package cputime reads the CPU time the process has used, for benchmarks:
// on a shared machine a benchmark's own work is measured more steadily by
// its CPU time than by the wall clock.
package cputime

import "time"

// Process is not measured here: it returns 0, and benchmarks report wall
// time only.
func Process() time.Duration { return 0 }

//go:build !linux

package semantic

import "time"

var cpuEpoch = time.Now()

// threadCPU falls back to wall time where the thread's CPU clock is not
// read (see cputime_linux_test.go).
func threadCPU() time.Duration { return time.Since(cpuEpoch) }

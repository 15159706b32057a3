package benchdata

import (
	"syscall"
	"time"
)

// ProcessCPU is the user+sys CPU time of this process so far: what the
// benchmarks report per row or per operation, since on a shared machine
// CPU time says more than wall time.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

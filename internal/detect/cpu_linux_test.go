package detect

import (
	"runtime"
	"syscall"
	"testing"
)

// cpuClock measures the benchmark goroutine's own CPU time (its OS thread's, the goroutine locked
// to it), so figures hold on a shared, loaded machine where wall time does not.
type cpuClock struct{ start int64 }

const rusageThread = 1 // RUSAGE_THREAD (Linux)

func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func startCPU() cpuClock {
	runtime.LockOSThread()
	return cpuClock{threadCPU()}
}

// report adds cpu-ns/op and events/s per core computed from CPU time (wall time is in ns/op).
func (c cpuClock) report(b *testing.B) {
	used := threadCPU() - c.start
	runtime.UnlockOSThread()
	if used <= 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(used)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/(float64(used)/1e9), "events/s/core")
}

//go:build !linux

package detect

import "testing"

// cpuClock reports nothing where per-thread CPU time is not read (see cpu_linux_test.go).
type cpuClock struct{}

func startCPU() cpuClock           { return cpuClock{} }
func (cpuClock) report(*testing.B) {}

package ntfs

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFuzzCorpusCost runs the FuzzNTFS corpus the fuzzer gathered (SNAPWATCH_FUZZ_CORPUS=dir) and
// reports the slowest and most allocating inputs: the fuzzer itself flags neither.
func TestFuzzCorpusCost(t *testing.T) {
	dir := os.Getenv("SNAPWATCH_FUZZ_CORPUS")
	if dir == "" {
		t.Skip("set SNAPWATCH_FUZZ_CORPUS to a FuzzNTFS corpus directory")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var worstTime time.Duration
	var worstAlloc uint64
	var slow, big string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(b), "\n", 3)
		src, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		vol := fuzzVolume([]byte(src))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		if v, err := Open(bytes.NewReader(vol), int64(len(vol))); err == nil {
			exercise(v, fuzzLimits)
		}
		d := time.Since(start)
		runtime.ReadMemStats(&after)
		if d > worstTime {
			worstTime, slow = d, f
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > worstAlloc {
			worstAlloc, big = a, f
		}
	}
	t.Logf("%d inputs; slowest %v (%s); most allocating %d KiB (%s)", len(files), worstTime, filepath.Base(slow), worstAlloc>>10, filepath.Base(big))
}

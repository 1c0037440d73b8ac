package vhd

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteFuzzSeeds refreshes the committed seeds in testdata/fuzz/FuzzVHD from the tests' own
// writer and qemu-img (SNAPWATCH_WRITE_SEEDS=1 go test -run TestWriteFuzzSeeds). Seeds whose
// encoding would reach 64 KiB are left out: the tool seeds cover them at fuzz time.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("SNAPWATCH_WRITE_SEEDS") != "1" {
		t.Skip("set SNAPWATCH_WRITE_SEEDS=1 to rewrite the committed fuzz seeds")
	}
	writeSeeds(t, "FuzzVHD", append(writerSeeds(), toolSeeds(t)...))
}

// writeSeeds writes each seed in the fuzzing engine's corpus format, named by its hash.
func writeSeeds(t *testing.T, target string, seeds [][]byte) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range seeds {
		enc := "go test fuzz v1\n[]byte(" + strconv.Quote(string(s)) + ")\n"
		if len(enc) >= 64<<10 {
			t.Logf("skipping a %d-byte seed (%d encoded)", len(s), len(enc))
			continue
		}
		name := fmt.Sprintf("seed-%x", sha256.Sum256(s))[:21]
		if err := os.WriteFile(filepath.Join(dir, name), []byte(enc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

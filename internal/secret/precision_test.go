package secret

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestPrecision scans a real root file system the way `snapwatch scan` feeds this package
// (1 MiB chunks overlapping by 4 KiB, path relative to the root) and lists every finding. It is
// the measure of the bar: at most 1 finding per 10,000 files outside genuinely
// sensitive ones. Run with
//
//	SNAPWATCH_PRECISION_ROOT=/usr go test -run Precision -v -timeout 30m ./internal/secret/
//
// SNAPWATCH_PRECISION_MAX (default 1.0) is the tolerated findings per 10,000 files.
func TestPrecision(t *testing.T) {
	root := os.Getenv("SNAPWATCH_PRECISION_ROOT")
	if root == "" {
		t.Skip("set SNAPWATCH_PRECISION_ROOT to a directory, e.g. /usr")
	}
	const chunk, overlap = 1 << 20, 4 << 10
	s := Default()
	if os.Getenv("SNAPWATCH_PRECISION_NOPATHS") != "" {
		// The rules alone: without the global allow-lists that skip test, documentation and
		// package-managed trees by path.
		var keep []*allowlist
		for _, al := range s.global {
			if al.paths == nil {
				keep = append(keep, al)
			}
		}
		var err error
		if s, err = newScanner(s.rules, keep); err != nil {
			t.Fatal(err)
		}
	}
	var files, bytesRead int
	type finding struct{ rule, path, redacted, line string }
	show := os.Getenv("SNAPWATCH_PRECISION_SHOW") != "" // print the matched line: for public test data only
	var found []finding
	buf := make([]byte, chunk)
	startCPU, start := cpuTime(), time.Now()
	var scanCPU time.Duration
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer f.Close()
		files++
		// The path a disk scan would give: relative to the guest's root, so /usr/bin/x is usr/bin/x.
		rel := strings.TrimPrefix(p, "/")
		seen := map[string]bool{}
		var base int64
		keep := 0 // bytes carried over from the previous chunk
		for {
			n, rerr := io.ReadFull(f, buf[keep:])
			if n == 0 && keep == 0 {
				break
			}
			data := buf[:keep+n]
			bytesRead += n
			c0 := cpuTime()
			for _, m := range s.Scan(rel, data) {
				key := fmt.Sprint(m.RuleID, base+int64(m.Start))
				if !seen[key] {
					seen[key] = true
					f := finding{rule: m.RuleID, path: rel, redacted: m.Redacted}
					if show {
						f.line = strings.ToValidUTF8(string(lineAround(data, m.Start, m.End)), "?")
						f.line = f.line[:min(len(f.line), 160)]
					}
					found = append(found, f)
				}
			}
			scanCPU += cpuTime() - c0
			if rerr != nil || n == 0 {
				break
			}
			keep = min(overlap, len(data))
			copy(buf, data[len(data)-keep:])
			base += int64(len(data) - keep)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(found, func(i, j int) bool {
		if found[i].rule != found[j].rule {
			return found[i].rule < found[j].rule
		}
		return found[i].path < found[j].path
	})
	byRule := map[string]int{}
	for _, f := range found {
		byRule[f.rule]++
		t.Logf("%-32s %s  %s  %q", f.rule, f.path, f.redacted, f.line)
	}
	rate := float64(len(found)) / float64(files) * 10000
	t.Logf("root %s: %d files, %.1f MB, %d findings (%.2f per 10,000 files) by rule %v",
		root, files, float64(bytesRead)/1e6, len(found), rate, byRule)
	t.Logf("scan: %.0f MB/s per CPU-second of Scan; whole run %.0f s wall, %.0f s CPU",
		float64(bytesRead)/scanCPU.Seconds()/1e6, time.Since(start).Seconds(), (cpuTime() - startCPU).Seconds())
	limit := 1.0
	if v := os.Getenv("SNAPWATCH_PRECISION_MAX"); v != "" {
		if _, err := fmt.Sscan(v, &limit); err != nil {
			t.Fatal(err)
		}
	}
	if rate > limit {
		t.Errorf("%.2f findings per 10,000 files, want at most %.2f", rate, limit)
	}
}

package ntfs

import (
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// flsEntry is one line of The Sleuth Kit's `fls -r -p -l`.
type flsEntry struct {
	typ     string // "r/r", "d/d", "-/r", ...
	addr    string // "66-128-2", the MFT entry, attribute type and id
	inode   uint64
	path    string // with ":stream" for alternate data streams
	mtime   string // "2026-11-25 11:38:50 (UTC)"
	size    int64
	deleted bool
}

func fls(t testing.TB, img string, args ...string) []flsEntry {
	t.Helper()
	fixture.Need(t, "fls")
	out := fixture.Run(t, "fls", append(append([]string{"-r", "-p", "-l"}, args...), img)...)
	var entries []flsEntry
	for _, line := range strings.Split(out, "\n") {
		if line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) < 8 {
			t.Fatalf("fls line %q: want 8+ columns", line)
		}
		head := strings.Fields(strings.TrimSuffix(cols[0], ":"))
		e := flsEntry{typ: head[0], addr: head[len(head)-1], path: cols[1], mtime: cols[2]}
		e.deleted = len(head) == 3 && head[1] == "*"
		ino, _, _ := strings.Cut(e.addr, "-")
		e.inode, _ = strconv.ParseUint(ino, 10, 64)
		e.size, _ = strconv.ParseInt(cols[6], 10, 64)
		entries = append(entries, e)
	}
	return entries
}

// icat returns the sha256 of what `icat` reads at an address ("66" or "66-128-4").
func icat(t testing.TB, img, addr string) string {
	t.Helper()
	fixture.Need(t, "icat")
	cmd := exec.Command("icat", img, addr)
	h := sha256.New()
	cmd.Stdout = h
	if err := cmd.Run(); err != nil {
		t.Fatalf("icat %s: %v", addr, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// istatRun is one run of `istat -r`: start cluster (-1 for a sparse run) and length.
type istatRun struct{ start, length int64 }

var istatRunLine = regexp.MustCompile(`Starting address: (\d+|X), length: (\d+)`)

// istatDataRuns returns the runs of the unnamed $DATA attribute that `istat -r` prints, with
// contiguous runs merged.
func istatDataRuns(t testing.TB, img string, inode uint64) []istatRun {
	t.Helper()
	out := fixture.Run(t, "istat", "-r", img, strconv.FormatUint(inode, 10))
	var runs []istatRun
	in := false
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "Type: ") {
			in = strings.HasPrefix(line, "Type: $DATA") && strings.Contains(line, "Name: N/A")
			continue
		}
		m := istatRunLine.FindStringSubmatch(line)
		if !in || m == nil {
			continue
		}
		r := istatRun{start: -1}
		if m[1] != "X" {
			r.start, _ = strconv.ParseInt(m[1], 10, 64)
		}
		r.length, _ = strconv.ParseInt(m[2], 10, 64)
		runs = appendRun(runs, r)
	}
	return runs
}

func appendRun(runs []istatRun, r istatRun) []istatRun {
	if k := len(runs); k > 0 {
		p := &runs[k-1]
		if (p.start < 0 && r.start < 0) || (p.start >= 0 && r.start >= 0 && p.start+p.length == r.start) {
			p.length += r.length
			return runs
		}
	}
	return append(runs, r)
}

// fsstatField returns the value of a "Name: value" line of `fsstat`.
func fsstatField(t testing.TB, img, name string) string {
	t.Helper()
	fixture.Need(t, "fsstat")
	out := fixture.Run(t, "fsstat", img)
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("fsstat prints no %q", name)
	return ""
}

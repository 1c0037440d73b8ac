package unpack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

// result is what a walk gave: each member read whole (its SHA-256) and each error.
type result struct {
	sums   map[string]string // Member.Path → sha256 of what Open read
	errs   []error           // yielded errors and read errors, in order
	depths map[string]int
	read   int64 // bytes read through Open in all
}

func (r result) errText() string {
	var b strings.Builder
	for _, e := range r.errs {
		b.WriteString(e.Error() + "\n")
	}
	return b.String()
}

// walk runs Walk over data and reads every member whole.
func walk(t testing.TB, name string, data []byte, lim Limits) result {
	t.Helper()
	return walkReaderAt(context.Background(), name, bytes.NewReader(data), int64(len(data)), lim)
}

// walkFile runs Walk over a file on disk.
func walkFile(t testing.TB, path string, lim Limits) result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	return walkReaderAt(context.Background(), filepath.Base(path), f, st.Size(), lim)
}

func walkReaderAt(ctx context.Context, name string, r io.ReaderAt, size int64, lim Limits) result {
	res := result{sums: map[string]string{}, depths: map[string]int{}}
	for m, err := range Walk(ctx, name, r, size, lim) {
		if err != nil {
			res.errs = append(res.errs, err)
		}
		if m.Open == nil {
			continue
		}
		if _, dup := res.sums[m.Path]; dup {
			res.errs = append(res.errs, fmt.Errorf("%s yielded twice", m.Path))
		}
		rc, err := m.Open()
		if err != nil {
			res.errs = append(res.errs, err)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		res.read += n
		if err != nil {
			res.errs = append(res.errs, err)
		}
		res.sums[m.Path] = hex.EncodeToString(h.Sum(nil))
		res.depths[m.Path] = m.Depth
	}
	return res
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// wantMembers checks that the walk read exactly the members given (path → content), no errors.
func wantMembers(t testing.TB, got result, want map[string][]byte) {
	t.Helper()
	if len(got.errs) > 0 {
		t.Errorf("errors:\n%s", got.errText())
	}
	wantSums := map[string]string{}
	for p, c := range want {
		wantSums[p] = sum(c)
	}
	var paths []string
	for p := range wantSums {
		paths = append(paths, p)
	}
	for p := range got.sums {
		if _, ok := wantSums[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		g, w := got.sums[p], wantSums[p]
		switch {
		case g == "":
			t.Errorf("missing member %s", p)
		case w == "":
			t.Errorf("unexpected member %s", p)
		case g != w:
			t.Errorf("member %s: sha256 %s, want %s", p, g[:12], w[:12])
		}
	}
}

// wantErr checks that some yielded or read error matches target and mentions every fragment.
func wantErr(t testing.TB, got result, target error, fragments ...string) {
	t.Helper()
	for _, e := range got.errs {
		if target != nil && !errors.Is(e, target) {
			continue
		}
		ok := true
		for _, f := range fragments {
			ok = ok && strings.Contains(e.Error(), f)
		}
		if ok {
			return
		}
	}
	t.Errorf("no error matching %v %q among:\n%s", target, fragments, got.errText())
}

// tree is a small set of files with known contents, written to a directory for the tools.
var tree = map[string][]byte{
	"etc/app/config.ini":  []byte("[db]\npassword = hunter2\n"),
	"home/u/.ssh/id_rsa":  []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"),
	"home/u/notes.txt":    bytes.Repeat([]byte("AKIAIOSFODNN7EXAMPLE is not a real key\n"), 200),
	"var/empty.log":       {},
	"srv/data/random.bin": pseudoRandom(70_000, 1),
}

// pseudoRandom is n incompressible bytes, the same for a given seed.
func pseudoRandom(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

// writeTree writes files under a new directory and returns it.
func writeTree(t testing.TB, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, c, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sh runs a shell command in dir (tools are checked with fixture.Need first).
func sh(t testing.TB, dir, script string, tools ...string) {
	t.Helper()
	fixture.Need(t, tools...)
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// prefixed returns files with every path prefixed ("x.tar.gz!" + path).
func prefixed(prefix string, files map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for p, c := range files {
		out[prefix+p] = c
	}
	return out
}

func merge(ms ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

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

// ntfsEntry is one file as ntfs-3g's ntfsls lists it.
type ntfsEntry struct {
	inode uint64
	size  int64
	dir   bool
}

var ntfslsLine = regexp.MustCompile(`^\s*(\d+)\s+(\d+)\s+\w{3}\s+\d+\s+\d\d:\d\d\s+\d{4}\s(.*)$`)

// ntfsls lists the volume recursively with `ntfsls -R -l -i -F`.
func ntfsls(t testing.TB, img string) map[string]ntfsEntry {
	t.Helper()
	fixture.Need(t, "ntfsls")
	out, err := fixture.RunEnv(nil, "ntfsls", "-R", "-l", "-i", "-F", img)
	if err != nil && !strings.Contains(err.Error(), "Unnormalized path") {
		t.Fatal(err)
	}
	entries := map[string]ntfsEntry{}
	dir := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "/") && strings.HasSuffix(line, ":") {
			dir = strings.Trim(strings.TrimSuffix(line, ":"), "/")
			continue
		}
		m := ntfslsLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[3]
		e := ntfsEntry{dir: strings.HasSuffix(name, "/")}
		name = strings.TrimSuffix(name, "/")
		if name == "." || name == ".." {
			continue
		}
		e.inode, _ = strconv.ParseUint(m[1], 10, 64)
		e.size, _ = strconv.ParseInt(m[2], 10, 64)
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		entries[p] = e
	}
	return entries
}

// ntfscat returns the sha256 of a file as `ntfscat` reads it.
func ntfscat(t testing.TB, img, path string) string {
	t.Helper()
	fixture.Need(t, "ntfscat")
	cmd := exec.Command("ntfscat", img, "/"+path)
	h := sha256.New()
	cmd.Stdout = h
	if err := cmd.Run(); err != nil {
		t.Fatalf("ntfscat %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

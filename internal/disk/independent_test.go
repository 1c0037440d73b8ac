package disk_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/fixture"
)

var flsLine = regexp.MustCompile(`^(\S)/(\S)\s+(\*\s+)?[\d-]+(?:\(realloc\))?:\s+(.*)$`)

// flsList lists the allocated regular files of a file-system image with The Sleuth Kit.
func flsList(t *testing.T, img string) []string {
	fixture.Need(t, "fls")
	out := fixture.Run(t, "fls", "-r", "-p", "-u", img)
	var paths []string
	for _, line := range strings.Split(out, "\n") {
		m := flsLine.FindStringSubmatch(line)
		if m == nil || m[1] != "r" || m[3] != "" {
			continue
		}
		paths = append(paths, "/"+m[4])
	}
	return paths
}

// xfsdbList lists regular files of an XFS image with xfs_db's ls, recursively.
func xfsdbList(t *testing.T, img string) []string {
	fixture.Need(t, "xfs_db")
	var paths []string
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth > 16 {
			t.Fatalf("xfs_db listing deeper than 16 at %s", dir)
		}
		out := fixture.Run(t, "xfs_db", "-r", "-c", "ls "+dir, img)
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) < 6 || f[len(f)-1] != "(good)" {
				continue
			}
			name := strings.Join(f[5:len(f)-1], " ")
			if name == "." || name == ".." {
				continue
			}
			p := strings.TrimSuffix(dir, "/") + "/" + name
			switch f[2] {
			case "directory":
				walk(p, depth+1)
			case "regular":
				paths = append(paths, p)
			}
		}
	}
	walk("/", 0)
	return paths
}

func debugfsRemove(t *testing.T, img string) {
	fixture.Run(t, "debugfs", "-w", "-R", "rm "+deletedPath, img)
}

func ntfsRemove(t *testing.T, img string) {
	mnt, unmount := fixture.MountNTFS(t, img)
	fixture.Run(t, "rm", mnt+deletedPath)
	unmount()
}

package ext4

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// reindex sets the directory hash (and its signedness) and has e2fsck rebuild every directory
// index with it, the way a file system that lived on another platform would have them.
func reindex(t *testing.T, img, alg string, unsigned bool) {
	t.Helper()
	fixture.Need(t, "tune2fs", "e2fsck", "debugfs")
	fixture.Run(t, "tune2fs", "-E", "hash_alg="+alg, img)
	flags := "1" // signed
	if unsigned {
		flags = "2"
	}
	fixture.Run(t, "debugfs", "-w", "-R", "ssv flags "+flags, img)
	// e2fsck exits 1 when it changed the file system, which -D always does.
	if out, err := exec.Command("e2fsck", "-fyD", img).CombinedOutput(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			t.Fatalf("e2fsck -fyD: %v\n%s", err, out)
		}
	}
}

// debugfsDirList lists one directory with debugfs ls -p: name -> inode.
func debugfsDirList(t *testing.T, img, dir string) map[string]uint64 {
	t.Helper()
	m := map[string]uint64{}
	for _, line := range strings.Split(fixture.Run(t, "debugfs", "-R", "ls -p "+dir, img), "\n") {
		f := strings.Split(line, "/")
		if len(f) < 7 || f[5] == "." || f[5] == ".." || f[1] == "0" {
			continue
		}
		ino, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil {
			t.Fatalf("debugfs ls line %q", line)
		}
		m[f[5]] = ino
	}
	return m
}

var shared struct {
	once  sync.Once
	dir   string
	img   string
	names []string
	err   error
}

// sharedHtreeImage builds, once per test run, an image (1 KiB blocks) whose /big holds 5,000
// files: mke2fs -d inserts names one by one into a linear directory, which takes seconds. The
// index (half_md4, signed) has one level of dx_nodes. Tests must copy it before changing it.
func sharedHtreeImage(t *testing.T) (string, []string) {
	t.Helper()
	fixture.Need(t, "mke2fs", "e2fsck", "tune2fs", "debugfs")
	shared.once.Do(func() {
		if shared.dir, shared.err = os.MkdirTemp("", "ext4-htree-"); shared.err != nil {
			return
		}
		src := filepath.Join(shared.dir, "src")
		shared.names = manyFiles(t, src, "big", 5000)
		img := fixture.Ext4(t, src, 32, "-b", "1024")
		reindex(t, img, "half_md4", false)
		shared.img = filepath.Join(shared.dir, "htree.img")
		shared.err = os.Rename(img, shared.img)
		os.RemoveAll(src)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.img, shared.names
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// copyImage copies an image so that a test may change it.
func copyImage(t testing.TB, img string) string {
	t.Helper()
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), filepath.Base(img))
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var htreeLevels = regexp.MustCompile(`Indirect levels: (\d+)`)

func TestHtreeLookup(t *testing.T) {
	cases := []struct {
		alg      string
		unsigned bool
		levels   string
	}{
		{"legacy", false, "1"}, {"legacy", true, "1"},
		{"half_md4", false, "1"}, {"half_md4", true, "1"},
		{"tea", false, "1"}, {"tea", true, "1"},
	}
	base, names := sharedHtreeImage(t)
	for _, c := range cases {
		name := c.alg
		if c.unsigned {
			name += "-unsigned"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			img := copyImage(t, base)
			reindex(t, img, c.alg, c.unsigned)
			out := fixture.Run(t, "debugfs", "-R", "htree /big", img)
			if m := htreeLevels.FindStringSubmatch(out); m == nil || m[1] != c.levels {
				t.Fatalf("debugfs htree: want %s indirect levels:\n%.400s", c.levels, out)
			}
			x := openImage(t, img)
			fsys := filesystem.New(x)
			big, err := fsys.Lstat("big")
			if err != nil {
				t.Fatal(err)
			}
			dirIno := big.Sys().(*filesystem.Stat).Inode
			dir, err := x.dirInode(dirIno)
			if err != nil {
				t.Fatal(err)
			}
			if !x.indexed(dir) {
				t.Fatal("directory is not indexed")
			}
			listed, err := x.ReadDir(dirIno)
			if err != nil {
				t.Fatal(err)
			}
			byName := map[string]uint64{}
			for _, e := range listed {
				byName[e.Name] = e.Ino
			}
			if len(byName) != len(names) {
				t.Fatalf("ReadDir: %d entries, want %d", len(byName), len(names))
			}
			// Every name must be found by hash alone: a wrong hash would send the lookup to the
			// wrong leaf and fail here instead of silently falling back to a scan.
			for _, n := range names {
				e, err := x.htreeLookup(dir, n)
				if err != nil || e.Ino != byName[n] {
					t.Fatalf("htreeLookup(%q) = %+v, %v; ReadDir says inode %d", n, e, err, byName[n])
				}
			}
			for _, n := range []string{"nope", "file-with-a-rather-long-name-99999", strings.Repeat("z", 255)} {
				if _, err := x.Lookup(dirIno, n); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("Lookup(%q): %v, want ErrNotExist", n, err)
				}
			}
			// The Sleuth Kit 4.12 lists nothing in a directory e2fsck -D re-indexed: compare
			// with debugfs instead.
			want := debugfsDirList(t, img, "/big")
			for n, ino := range byName {
				if want[n] != ino {
					t.Errorf("%s: inode %d, debugfs %d", n, ino, want[n])
				}
			}
			if len(want) != len(byName) {
				t.Errorf("debugfs lists %d names, we %d", len(want), len(byName))
			}
		})
	}
}

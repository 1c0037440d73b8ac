package xfs

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// sharedDirs are temporary directories that outlive single tests (see onceTB).
var sharedDirs []string

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range sharedDirs {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// variant is one way of making the file system.
type variant struct {
	name string
	args []string
}

var variants = []variant{
	{"v5", nil}, // xfsprogs 6.1 defaults: CRC, ftype, finobt, reflink, sparse inodes, bigtime, inobtcount
	{"v4", []string{"-m", "crc=0"}},
	{"v4-noftype", []string{"-m", "crc=0", "-n", "ftype=0"}},
	{"v4-inode512", []string{"-m", "crc=0", "-i", "size=512", "-L", "snapwatch-v4"}},
	{"block1k", []string{"-b", "size=1024"}},
	{"sector4k", []string{"-s", "size=4096"}},
	{"dirblock16k", []string{"-n", "size=16384"}},
	{"v4-dirblock8k-1k", []string{"-m", "crc=0", "-b", "size=1024", "-n", "size=8192"}},
	{"sparse-inodes-rmapbt", []string{"-i", "sparse=1", "-m", "rmapbt=1"}},
	{"no-bigtime", []string{"-m", "bigtime=0,inobtcount=0"}},
}

// TestVariantsAgainstXFSDB builds the standard tree in every variant and compares listings,
// inode cores, hashes, content, extents and free space with xfs_db.
func TestVariantsAgainstXFSDB(t *testing.T) {
	fixture.Need(t, "mkfs.xfs", "xfs_db")
	// Writing the 5,000-file tree costs seconds: write it once and share it.
	src := fixture.WriteTree(t, testTree())
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			f := verifyImage(t, makeXFS(t, src, 96, v.args...), src)
			// The tree must hold every directory format, or the comparison proves less.
			fsys := filesystem.New(f)
			forms := map[string]string{"small": "short-form", "block": "block", "leaf": "leaf", "node": "node"}
			if f.sb.dirBlockSize() > 4096 {
				forms["leaf"] = "block" // 200 entries fit one big directory block
			}
			for dir, want := range forms {
				fi, err := fsys.Stat(dir)
				if err != nil {
					t.Fatal(err)
				}
				got := dirForm(t, f, fi.Sys().(*filesystem.Stat).Inode)
				if strings.TrimSuffix(got, "+btree") != want {
					t.Errorf("%s is a %s directory, want %s", dir, got, want)
				}
				t.Logf("%s: %s", dir, got)
			}
		})
	}
}

// TestFSTest runs testing/fstest over images made by fixture.XFS (v5 and v4 without ftype).
func TestFSTest(t *testing.T) {
	files := testTree()
	// fstest reads every file many times: keep the tree small (no node directory).
	files = slices.DeleteFunc(files, func(f fixture.File) bool {
		return strings.HasPrefix(f.Path, "node/") || len(f.Data) > 64<<10
	})
	src := fixture.WriteTree(t, files)
	for _, v := range []variant{variants[0], variants[2]} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			f := openImage(t, fixture.XFS(t, src, 64, v.args...))
			checkFSTest(t, f, "one", "a/b/c/d/e/deep.txt", "links/inline", "links/remote", "ünïcödé/日本語.txt", "leaf/entry-199.conf")
		})
	}
}

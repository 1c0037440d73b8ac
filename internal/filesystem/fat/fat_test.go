package fat

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// images are the volumes the tree tests run on. tsk is false where The Sleuth Kit refuses the
// volume (FAT32 with fewer clusters than the specification's FAT32 minimum, which mkfs.fat makes
// and Linux and mtools read); mtools is the independent reader there.
var images = []struct {
	name    string
	sizeMiB int
	bits    int
	extra   []string
	opts    treeOptions
	tsk     bool
	want    string
}{
	{"fat12", 2, 12, nil, treeOptions{readOnly: true}, true, "fat12"},
	{"fat16", 32, 16, nil, treeOptions{big: true, manyDir: 100, readOnly: true}, true, "fat16"},
	{"fat32", 64, 32, nil, treeOptions{big: true, manyDir: 500, readOnly: true}, true, "fat32"},
	{"fat32-s1", 64, 32, []string{"-s", "1"}, treeOptions{big: true, manyDir: 50, readOnly: true}, true, "fat32"},
	// 32 KiB clusters need 2 GiB for a FAT32 that mtools can write (a sparse file).
	// (fls takes seconds on it, scanning 2 GiB for orphans, so mtools checks it alone.)
	{"fat32-s64", 2100, 32, []string{"-s", "64"}, treeOptions{big: true, manyDir: 50, readOnly: true}, false, "fat32"},
	// mtools cannot write FAT32 volumes below the specification's cluster minimum; 300 MiB of
	// 4 KiB sectors is above it. TestSmallFAT32 covers the 64 MiB volumes mkfs.fat makes anyway.
	{"fat32-S4096", 300, 32, []string{"-S", "4096", "-s", "1"}, treeOptions{big: true, manyDir: 50, readOnly: true}, true, "fat32"},
}

func TestTrees(t *testing.T) {
	fixture.Need(t, "mkfs.vfat", "mcopy", "mattrib", "fls", "icat")
	for _, im := range images {
		t.Run(im.name, func(t *testing.T) {
			t.Parallel()
			img, files := treeImage(t, im.opts, im.sizeMiB, im.bits, im.extra...)
			v := openImage(t, img)
			if v.Type() != im.want {
				t.Fatalf("Type() = %q, want %q", v.Type(), im.want)
			}
			if v.Label() != "SNAPWATCH" || v.UUID() != "5EED-1234" {
				t.Errorf("Label() = %q, UUID() = %q", v.Label(), v.UUID())
			}
			fsys := filesystem.New(v)
			got := walk(t, fsys)
			checkAgainstSource(t, fsys, got, files, im.opts)
			checkStatFromID(t, openImage(t, img), got)
			checkAgainstMtools(t, img, fsys, got)
			compareNodes(t, "mdir", toMinutes(got), mdirListing(t, img))
			if im.tsk {
				compareNodes(t, "fls", withoutLongestNames(got), withoutLongestNames(tskBody(t, img, false)))
				checkAgainstIcat(t, img, fsys, got)
			}
			// fstest reads everything many times over; the whole tree once, subtrees elsewhere.
			var conf fs.FS = fsys
			expect := []string{"one.bin", "a/b/c/d/e/deep.txt", "names/lower.txt", "sizes/medium.bin"}
			if im.name != "fat12" {
				conf, _ = fs.Sub(fsys, "names")
				expect = []string{"lower.txt", "UPPER.TXT", "naïve café résumé.txt"}
			}
			if err := fstest.TestFS(conf, expect...); err != nil {
				t.Error(err)
			}
		})
	}
}

// checkAgainstSource compares names, types, sizes, content and read-only modes with the tree the
// image was made from.
func checkAgainstSource(t *testing.T, fsys *filesystem.FS, got map[string]node, files []fixture.File, o treeOptions) {
	t.Helper()
	want := map[string]bool{}
	for _, f := range files {
		p := "/" + f.Path
		want[p] = true
		for _, d := range parentDirs(f.Path) {
			want["/"+d] = true
		}
		n, ok := got[p]
		switch {
		case !ok:
			t.Errorf("source file %q not listed", p)
			continue
		case n.dir != f.Dir:
			t.Errorf("%q: dir=%v, want %v", p, n.dir, f.Dir)
			continue
		case f.Dir:
			continue
		case n.size != int64(len(f.Data)):
			t.Errorf("%q: size %d, want %d", p, n.size, len(f.Data))
		}
		if b := readAll(t, fsys, p); !bytes.Equal(b, f.Data) {
			t.Errorf("%q: content differs from the source (%d bytes, want %d)", p, len(b), len(f.Data))
		}
		info, err := fsys.Stat(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		wantMode := fs.FileMode(0o644)
		if o.readOnly && slices.Contains(readOnlyFiles, f.Path) {
			wantMode = 0o444
		}
		if info.Mode() != wantMode {
			t.Errorf("%q: mode %v, want %v", p, info.Mode(), wantMode)
		}
	}
	for p := range got {
		if !want[p] {
			t.Errorf("%q listed but not in the source tree", p)
		}
	}
}

// checkAgainstMtools extracts the whole volume with mcopy and compares every file.
func checkAgainstMtools(t *testing.T, img string, fsys *filesystem.FS, got map[string]node) {
	t.Helper()
	out := t.TempDir()
	roots := map[string]bool{}
	for p := range got {
		roots[strings.SplitN(p[1:], "/", 2)[0]] = true
	}
	for r := range roots {
		mtools(t, "mcopy", "-s", "-n", "-i", img, "::/"+r, out+"/")
	}
	seen := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == out {
			return err
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, out+"/"))
		n, ok := got[rel]
		if !ok {
			t.Errorf("mcopy extracted %q, which we do not list", rel)
			return nil
		}
		seen++
		if d.IsDir() != n.dir {
			t.Errorf("%q: dir=%v, mtools says %v", rel, n.dir, d.IsDir())
			return nil
		}
		if d.IsDir() {
			return nil
		}
		theirs, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if ours := readAll(t, fsys, rel); sum(ours) != sum(theirs) {
			t.Errorf("%q: sha256 differs from mcopy's", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != len(got) {
		t.Errorf("mcopy extracted %d entries, we list %d", seen, len(got))
	}
}

// checkAgainstIcat compares file content with TSK's icat for a sample of files (icat costs
// tens of milliseconds a call): every size class, the big file and the odd names.
func checkAgainstIcat(t *testing.T, img string, fsys *filesystem.FS, got map[string]node) {
	t.Helper()
	body := tskBody(t, img, false)
	for p, n := range got {
		sample := strings.HasPrefix(p, "/big/") || strings.HasPrefix(p, "/names/") || strings.HasSuffix(p, "1.bin") ||
			strings.HasSuffix(p, "7.dat") && strings.HasPrefix(p, "/many/file-01")
		if n.dir || body[p].ino == "" || !sample {
			continue
		}
		theirs := fixture.Run(t, "icat", img, body[p].ino)
		if ours := readAll(t, fsys, p); sum(ours) != sum([]byte(theirs)) {
			t.Errorf("%q: sha256 differs from icat's", p)
		}
	}
}

// withoutLongestNames drops the 204-character name, which fls cuts to 200.
func withoutLongestNames(m map[string]node) map[string]node {
	out := map[string]node{}
	for p, n := range m {
		if !strings.HasPrefix(p[strings.LastIndex(p, "/")+1:], "xxxxxxxxxx") {
			out[p] = n
		}
	}
	return out
}

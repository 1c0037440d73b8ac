package ext4

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// debugfsScript runs debugfs commands in write mode.
func debugfsScript(t *testing.T, img string, cmds ...string) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "cmds")
	if err := os.WriteFile(script, []byte(strings.Join(cmds, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := fixture.Run(t, "debugfs", "-w", "-f", script, img)
	t.Logf("debugfs: %s", out)
}

func inodeOf(t *testing.T, x *FS, p string) uint64 {
	t.Helper()
	fi, err := filesystem.New(x).Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*filesystem.Stat).Inode
}

func TestDeleted(t *testing.T) {
	for _, v := range []variant{
		{name: "ext4", kind: "ext4", bs: 4096, extra: []string{"-b", "4096"}},
		{name: "ext4-1k-inline", kind: "ext4", bs: 1024, extra: []string{"-b", "1024", "-O", "inline_data"}},
		{name: "ext3", kind: "ext3", bs: 1024, extra: []string{"-b", "1024"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			testDeleted(t, v)
		})
	}
}

func testDeleted(t *testing.T, v variant) {
	content := map[string][]byte{
		"secret/id_rsa":    randomBytes(10, 10_000),
		"secret/notes.txt": []byte("password=hunter2\n"),
		"secret/keep.txt":  []byte("still here\n"),
		"data/big.bin":     randomBytes(11, 2<<20+77),
		"data/keep.txt":    []byte("keep\n"),
		"tmp/killed.bin":   randomBytes(12, 50_000),
		"gone/inner.txt":   randomBytes(13, 5_000),
		"orph/a1":          randomBytes(14, 7_000),
		"orph/zz":          []byte("neighbour\n"),
		"wiped/w.txt":      randomBytes(15, 9_000),
		"wiped/zz":         []byte("neighbour\n"),
	}
	var files []fixture.File
	for p, b := range content {
		files = append(files, fixture.File{Path: p, Data: b})
	}
	src := fixture.WriteTree(t, files)
	img := buildVariant(t, v, src)
	before := openImage(t, img)
	ino := map[string]uint64{}
	for p := range content {
		ino[p] = inodeOf(t, before, p)
	}
	debugfsScript(t, img,
		"rm /secret/id_rsa",
		"rm /secret/notes.txt",
		"rm /data/big.bin",
		"kill_file /tmp/killed.bin",
		"rm /gone/inner.txt",
		"rmdir /gone",
		// An orphan: the name's slot is taken by a new name of the same length, then the inode
		// is freed, so no name refers to it any more.
		"unlink /orph/a1",
		"link /orph/zz /orph/b1",
		fmt.Sprintf("kill_file <%d>", ino["orph/a1"]),
		"rm /wiped/w.txt",
	)
	// The kernel empties the block map when it frees an inode (an extent root with no entries,
	// or zeroed block pointers): then nothing is left to recover.
	wiped, err := before.readInode(ino["wiped/w.txt"])
	if err != nil {
		t.Fatal(err)
	}
	iblock := make([]byte, iBlockLen)
	if wiped.flags&flagExtents != 0 {
		copy(iblock, []byte{0x0A, 0xF3, 0, 0, 4, 0, 0, 0})
	}
	patchImage(t, img, wiped.off+iBlockOff, iblock)
	x := openImage(t, img)
	got := map[string]filesystem.Deleted{}
	for d, err := range x.Deleted(context.Background()) {
		if err != nil {
			t.Fatalf("Deleted: %v", err)
		}
		t.Logf("deleted %s ino %d size %d recovered %d mode %v", d.Path, d.Ino, d.Size, d.Recovered, d.Mode)
		got[d.Path] = d
	}
	recoverable := map[string]string{
		"/secret/id_rsa":    "secret/id_rsa",
		"/secret/notes.txt": "secret/notes.txt",
		"/data/big.bin":     "data/big.bin",
		"/tmp/killed.bin":   "tmp/killed.bin",
		"/gone/inner.txt":   "gone/inner.txt",
		fmt.Sprintf("/$OrphanFiles/%d", ino["orph/a1"]): "orph/a1",
	}
	for path, p := range recoverable {
		d, ok := got[path]
		if !ok {
			t.Errorf("%s not reported", path)
			continue
		}
		if d.Ino == 0 && v.bs == 1024 && strings.Contains(strings.Join(v.extra, " "), "inline_data") {
			// Unlinking the first entry of an inline directory zeroes its inode number: the name
			// survives without its inode, which then shows up as an orphan.
			if d, ok = got[fmt.Sprintf("/$OrphanFiles/%d", ino[p])]; !ok {
				t.Errorf("%s: name without inode, and inode %d is not an orphan", path, ino[p])
				continue
			}
		}
		want := content[p]
		if d.Ino != ino[p] || d.Size != int64(len(want)) || d.Recovered != d.Size || d.Content == nil {
			t.Errorf("%s: ino %d size %d recovered %d content %v; want ino %d size %d", path, d.Ino, d.Size, d.Recovered, d.Content != nil, ino[p], len(want))
			continue
		}
		b, err := readAll(d.Content, d.Size)
		if err != nil || sha(b) != sha(want) {
			t.Errorf("%s: recovered content differs (%v)", path, err)
		}
	}
	if d, ok := got["/gone"]; !ok || !d.Mode.IsDir() {
		t.Errorf("deleted directory /gone: %+v", d)
	}
	if d, ok := got["/wiped/w.txt"]; !ok || d.Content != nil || d.Recovered != 0 || (d.Ino != ino["wiped/w.txt"] && d.Ino != 0) {
		t.Errorf("wiped file: %+v (want reported with no content)", d)
	}
	for _, live := range []string{"/secret/keep.txt", "/data/keep.txt", "/orph/zz", "/orph/b1", "/wiped/zz", "/orph/a1"} {
		if _, ok := got[live]; ok {
			t.Errorf("%s reported as deleted", live)
		}
	}
	// The Sleuth Kit reads the same deleted names out of the directory slack.
	fls := fixture.Run(t, "fls", "-r", "-p", "-d", img)
	for _, p := range []string{"secret/id_rsa", "secret/notes.txt", "data/big.bin"} {
		if !strings.Contains(fls, p) {
			t.Errorf("fls -d does not list %s:\n%s", p, fls)
		}
	}
	checkUnallocated(t, x, img)
}

// patchImage overwrites bytes of an image, to damage it the way a kernel or an attacker would.
func patchImage(t testing.TB, img string, off int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

var exLeaf = regexp.MustCompile(`(?m)^\s*(\d+)/\s*(\d+)\s+\d+/\s*\d+\s+(\d+)\s+-\s+(\d+)\s+(\d+)\s+-\s+(\d+)\s+\d+`)

// TestFragmented makes a file whose extents do not fit in the inode, so the tree has depth 1,
// and checks the block mapping against debugfs's extent dump.
func TestFragmented(t *testing.T) {
	var files []fixture.File
	for i := range 900 {
		files = append(files, fixture.File{Path: fmt.Sprintf("s%03d", i), Data: randomBytes(int64(100+i), 3072)})
	}
	src := fixture.WriteTree(t, files)
	img := fixture.Ext4(t, src, 4, "-b", "1024", "-N", "1100", "-O", "^has_journal")
	var cmds []string
	for i := 0; i < 900; i += 2 {
		cmds = append(cmds, fmt.Sprintf("rm /s%03d", i))
	}
	big := randomBytes(99, 600_000)
	host := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(host, big, 0o644); err != nil {
		t.Fatal(err)
	}
	cmds = append(cmds, "write "+host+" big")
	debugfsScript(t, img, cmds...)
	out := fixture.Run(t, "debugfs", "-R", "ex /big", img)
	want := map[uint64]uint64{}
	depth := 0
	for _, m := range exLeaf.FindAllStringSubmatch(out, -1) {
		level, _ := strconv.Atoi(m[1])
		max, _ := strconv.Atoi(m[2])
		depth = max
		if level != max {
			continue
		}
		l0, _ := strconv.ParseUint(m[3], 10, 64)
		l1, _ := strconv.ParseUint(m[4], 10, 64)
		p0, _ := strconv.ParseUint(m[5], 10, 64)
		for l := l0; l <= l1; l++ {
			want[l] = p0 + l - l0
		}
	}
	if depth < 1 {
		t.Fatalf("extent tree has depth %d, the test needs ≥ 1:\n%s", depth, out)
	}
	x := openImage(t, img)
	fsys := filesystem.New(x)
	b, err := fs.ReadFile(fsys, "big")
	if err != nil || sha(b) != sha(big) {
		t.Fatalf("fragmented file content differs: %v", err)
	}
	ext, err := x.Extents(inodeOf(t, x, "big"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[uint64]uint64{}
	for _, e := range ext {
		for off := int64(0); off < e.Length; off += x.blockSize {
			got[uint64((e.Logical+off)/x.blockSize)] = uint64((e.Physical + off) / x.blockSize)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d blocks mapped, debugfs %d", len(got), len(want))
	}
	for l, p := range want {
		if got[l] != p {
			t.Fatalf("logical block %d: physical %d, debugfs %d", l, got[l], p)
		}
	}
	if len(ext) < 5 {
		t.Errorf("only %d extents: not fragmented", len(ext))
	}
	checkUnallocated(t, x, img)
}

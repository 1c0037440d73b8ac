package fat

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// openImage opens an image file with the package.
func openImage(t testing.TB, img string) *FS {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if !Detect(f, st.Size()) {
		t.Fatalf("Detect(%s) = false", img)
	}
	v, err := Open(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// mtools runs an mtools command on an image without its geometry sanity check.
func mtools(t testing.TB, tool string, args ...string) string {
	t.Helper()
	out, err := fixture.RunEnv([]string{"MTOOLS_SKIP_CHECK=1", "MTOOLS_LOWER_CASE=0"}, tool, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// node is one file as a reader sees it, for comparing listings.
type node struct {
	dir                  bool
	size                 int64
	mtime, atime, crtime int64  // Unix seconds; crtime truncated
	ino                  string // TSK's inode address
	id                   uint64 // ours
}

func (n node) String() string {
	return fmt.Sprintf("dir=%v size=%d mtime=%d atime=%d crtime=%d", n.dir, n.size, n.mtime, n.atime, n.crtime)
}

// walk lists the whole tree through the io/fs adapter.
func walk(t testing.TB, fsys *filesystem.FS) map[string]node {
	t.Helper()
	out := map[string]node{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*filesystem.Stat)
		n := node{dir: d.IsDir(), mtime: unix(st.ModTime), atime: unix(st.AccessTime), crtime: unix(st.BirthTime), id: st.Inode}
		if !n.dir {
			n.size = st.Size
		}
		out["/"+p] = n
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// tskBody lists an image with The Sleuth Kit's fls in body-file form: path → node. With deleted,
// only deleted entries are listed (fls -d) and the " (deleted)" suffix is dropped.
func tskBody(t testing.TB, img string, deleted bool) map[string]node {
	t.Helper()
	args := []string{"-r", "-p", "-m", "/", "-z", "UTC"}
	if deleted {
		args = append(args, "-d")
	}
	out := fixture.Run(t, "fls", append(args, img)...)
	nodes := map[string]node{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		// md5|name|inode|mode|uid|gid|size|atime|mtime|ctime|crtime
		f := strings.Split(sc.Text(), "|")
		if len(f) != 11 {
			t.Fatalf("fls body line %q", sc.Text())
		}
		name, wasDeleted := strings.CutSuffix(f[1], " (deleted)")
		if !deleted && wasDeleted {
			continue // fls lists deleted entries among the live ones
		}
		if strings.HasSuffix(name, "(Volume Label Entry)") || strings.HasPrefix(name, "/$") {
			continue
		}
		n := node{dir: strings.HasPrefix(f[3], "d"), ino: f[2]}
		n.size, _ = strconv.ParseInt(f[6], 10, 64)
		n.atime, _ = strconv.ParseInt(f[7], 10, 64)
		n.mtime, _ = strconv.ParseInt(f[8], 10, 64)
		n.crtime, _ = strconv.ParseInt(f[10], 10, 64)
		if n.dir {
			n.size = 0 // TSK reports the clusters a directory holds; FAT stores no size
		}
		nodes[name] = n
	}
	return nodes
}

// compareNodes reports every difference between two listings.
func compareNodes(t testing.TB, what string, got, want map[string]node) {
	t.Helper()
	compareNodesSlack(t, what, got, want, 0)
}

// compareNodesSlack allows our times to be up to slack seconds later than the other reader's:
// exFAT adds up to 1.99 s of 10 ms units to its 2-second times, which fls drops.
func compareNodesSlack(t testing.TB, what string, got, want map[string]node, slack int64) {
	t.Helper()
	near := func(a, b int64) bool { return a >= b && a <= b+slack }
	bad := 0
	for p, w := range want {
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: %q missing from our listing (want %v)", what, p, w)
		case g.dir != w.dir || g.size != w.size || !near(g.mtime, w.mtime) || !near(g.atime, w.atime) || !near(g.crtime, w.crtime):
			t.Errorf("%s: %q: got %v, want %v", what, p, g, w)
		default:
			continue
		}
		if bad++; bad > 20 {
			t.Fatalf("%s: too many differences", what)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: %q listed by us only", what, p)
		}
	}
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// readAll reads a file through the io/fs adapter.
func readAll(t testing.TB, fsys fs.FS, p string) []byte {
	t.Helper()
	f, err := fsys.Open(strings.TrimPrefix(p, "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	return b
}

// randomBytes is deterministic pseudo-random content.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// treeOptions chooses what goes into a test tree.
type treeOptions struct {
	big      bool // a > 1 MiB file
	manyDir  int  // files in one directory
	readOnly bool
}

// readOnlyFiles are made read-only with mattrib after copying (mcopy does not carry the bit).
var readOnlyFiles = []string{"ro/readonly.txt", "ro/also read only.txt"}

// testTree is a tree exercising sizes around every cluster size, names of every kind and depth.
func testTree(o treeOptions) []fixture.File {
	var files []fixture.File
	add := func(p string, data []byte) { files = append(files, fixture.File{Path: p, Data: data}) }
	add("empty", nil)
	add("one.bin", []byte{0x42})
	seed := uint64(1)
	for _, cs := range []int{512, 1024, 2048, 4096, 8192, 16384, 32768} {
		for _, d := range []int{-1, 0, 1} {
			seed++
			add(fmt.Sprintf("sizes/s%d.bin", cs+d), randomBytes(seed, cs+d))
		}
	}
	add("sizes/medium.bin", randomBytes(99, 200_000))
	if o.big {
		add("big/large.bin", randomBytes(100, 1_500_000))
	}
	add("a/b/c/d/e/deep.txt", []byte("deep down\n"))
	add("a/b/sibling.txt", []byte("sibling\n"))
	add("names/This is a rather long file name that needs several long-name entries.txt", []byte("long\n"))
	add("names/"+strings.Repeat("x", 200)+".end", []byte("200\n"))
	add("names/naïve café résumé.txt", []byte("latin\n"))
	add("names/日本語のファイル名.txt", []byte("cjk\n"))
	add("names/Ελληνικά αρχεία.txt", []byte("greek\n"))
	add("names/lower.txt", []byte("lower 8.3\n"))
	add("names/UPPER.TXT", []byte("upper 8.3\n"))
	add("names/lowbase.TXT", []byte("lower base\n"))
	add("names/UPEXT.txt", []byte("lower ext\n"))
	add("names/Mixed.Txt", []byte("mixed\n"))
	add("names/.hidden", []byte("dot\n"))
	add("names/name with spaces.tar.gz", []byte("spaces\n"))
	add("names/a+b=c;d,e[1].txt", []byte("punct\n"))
	add("case1/readme.txt", []byte("1\n"))
	add("case2/README.TXT", []byte("2\n"))
	add("case3/ReadMe.txt", []byte("3\n"))
	add("case3/ReadMe.md", []byte("3md\n"))
	files = append(files, fixture.File{Path: "emptydir", Dir: true})
	if o.readOnly {
		for _, p := range readOnlyFiles {
			add(p, []byte("do not write "+p+"\n"))
		}
	}
	for i := 0; i < o.manyDir; i++ {
		add(fmt.Sprintf("many/file-%04d.dat", i), randomBytes(uint64(1000+i), 100+i*7))
	}
	return files
}

// treeImage makes a FAT image of the test tree and applies the read-only attributes.
func treeImage(t testing.TB, o treeOptions, sizeMiB, bits int, extra ...string) (img string, files []fixture.File) {
	t.Helper()
	files = testTree(o)
	img = fixture.FAT(t, fixture.WriteTree(t, files), sizeMiB, bits, extra...)
	if o.readOnly {
		for _, p := range readOnlyFiles {
			mtools(t, "mattrib", "+r", "-i", img, "::/"+p)
		}
	}
	return img, files
}

func parentDirs(p string) []string {
	var out []string
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		out = append(out, d)
	}
	return out
}

func writeFile(p string, data []byte) error { return os.WriteFile(p, data, 0o644) }

// patch writes bytes into an image file at off.
func patch(t testing.TB, img string, off int64, b []byte) {
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

func le16(v uint16) []byte { return []byte{byte(v), byte(v >> 8)} }
func le32(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)} }

// exerciseLimits bound what exercise does, so that fuzzing and hostile tests stay fast.
const (
	exerciseMaxFiles = 2000
	exerciseMaxRead  = 1 << 20
	exerciseMaxItems = 10000
)

// exercise calls every method of the reader on everything reachable and returns the first error
// of each kind it met (for hostile tests to inspect). It never fails the test by itself: the
// point is that it returns, without panicking, in bounded time.
func exercise(v *FS) []error {
	var errs []error
	note := func(err error) {
		if err != nil && len(errs) < 50 {
			errs = append(errs, err)
		}
	}
	fsys := filesystem.New(v)
	v.Label()
	v.UUID()
	files := 0
	buf := make([]byte, 64<<10)
	note(fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			note(err)
			if d != nil && d.IsDir() && p != "." {
				return fs.SkipDir
			}
			return nil
		}
		if files++; files > exerciseMaxFiles {
			return fs.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			note(err)
			return nil
		}
		st := info.Sys().(*filesystem.Stat)
		_, err = v.Extents(st.Inode)
		note(err)
		if d.IsDir() {
			return nil
		}
		f, err := fsys.Open(p)
		if err != nil {
			note(err)
			return nil
		}
		defer f.Close()
		read := 0
		for read < exerciseMaxRead {
			n, err := f.Read(buf)
			read += n
			if err != nil {
				if err != io.EOF {
					note(err)
				}
				break
			}
		}
		return nil
	}))
	ctx := context.Background()
	n := 0
	for _, err := range v.Unallocated(ctx) {
		note(err)
		if n++; n > exerciseMaxItems {
			break
		}
	}
	n = 0
	for d, err := range v.Deleted(ctx) {
		note(err)
		if d.Content != nil {
			_, _ = d.Content.ReadAt(buf[:min(len(buf), int(max(0, min(d.Size, int64(len(buf))))))], 0)
		}
		_, _ = v.Stat(d.Ino)
		if n++; n > exerciseMaxItems {
			break
		}
	}
	for _, ino := range []uint64{0, 1, 2, 16, 1 << 20, 1<<63 - 1, 1<<64 - 1} {
		_, _ = v.Stat(ino)
		_, _ = v.ReadDir(ino)
		_, _ = v.Open(ino)
		_, _ = v.Extents(ino)
	}
	return errs
}

func fsSub(fsys fs.FS, dir string) (fs.FS, error) { return fs.Sub(fsys, dir) }

// mdirLine is one entry of `mdir -/ -a`: 8.3 name, size or <DIR>, date, time (minutes), and the
// long name when there is one.
var mdirLine = regexp.MustCompile(`^(.{8}) (.{3}) +(<DIR>|\d+) +(\d{4})-(\d{2})-(\d{2}) +(\d+):(\d{2}) *(.*)$`)

// mdirListing lists an image with mtools: path → node, with mtime to the minute (mdir prints
// no seconds) and no other times.
func mdirListing(t testing.TB, img string) map[string]node {
	t.Helper()
	out := mtools(t, "mdir", "-/", "-a", "-i", img, "::")
	nodes := map[string]node{}
	dir := ""
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if d, ok := strings.CutPrefix(l, "Directory for ::"); ok {
			dir = strings.TrimSuffix(d, "/")
			continue
		}
		m := mdirLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		base, ext := strings.TrimRight(m[1], " "), strings.TrimRight(m[2], " ")
		if base == "." || base == ".." {
			continue
		}
		name := m[9]
		if name == "" {
			name = base
			if ext != "" {
				name += "." + ext
			}
		}
		n := node{dir: m[3] == "<DIR>"}
		if !n.dir {
			n.size, _ = strconv.ParseInt(m[3], 10, 64)
		}
		num := func(s string) int { v, _ := strconv.Atoi(s); return v }
		n.mtime = time.Date(num(m[4]), time.Month(num(m[5])), num(m[6]), num(m[7]), num(m[8]), 0, 0, time.UTC).Unix()
		nodes[dir+"/"+name] = n
	}
	return nodes
}

// toMinutes keeps what mdir shows: type, size, and mtime truncated to the minute.
func toMinutes(m map[string]node) map[string]node {
	out := map[string]node{}
	for p, n := range m {
		out[p] = node{dir: n.dir, size: n.size, mtime: n.mtime - n.mtime%60}
	}
	return out
}

// checkStatFromID stats every listed id on a fresh reader, which has listed nothing: ids must
// stand on their own.
func checkStatFromID(t testing.TB, fresh *FS, got map[string]node) {
	t.Helper()
	for p, n := range got {
		st, err := fresh.Stat(n.id)
		if err != nil {
			t.Errorf("%s: Stat(%d) on a fresh reader: %v", p, n.id, err)
			continue
		}
		if st.Mode.IsDir() != n.dir || (!n.dir && st.Size != n.size) || unix(st.ModTime) != n.mtime {
			t.Errorf("%s: Stat(%d) on a fresh reader = %+v, listing says %v", p, n.id, st, n)
		}
	}
}

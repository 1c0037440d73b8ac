package ext4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// randomBytes returns reproducible pseudo-random content.
func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// sourceTree writes the reference tree every variant is built from and returns its root. bs is
// the block size of the image it will go into (sizes around block boundaries depend on it).
func sourceTree(t testing.TB, bs int) string {
	t.Helper()
	files := []fixture.File{
		{Path: "empty", Data: nil},
		{Path: "one", Data: []byte("x")},
		{Path: "block-1", Data: randomBytes(1, bs-1)},
		{Path: "block+1", Data: randomBytes(2, bs+1)},
		{Path: "12blocks+1", Data: randomBytes(3, 12*bs+1)},
		{Path: "big.bin", Data: randomBytes(4, 1<<20+12345)},
		{Path: "etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/bash\n")},
		{Path: "etc/ssh/sshd_config", Data: []byte("PermitRootLogin no\n")},
		{Path: "home/u/.ssh/id_rsa", Data: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"), Mode: 0o600},
		{Path: "home/u/deep/a/b/c/d/file.txt", Data: []byte("deep\n")},
		{Path: "bin/su", Data: []byte("#!/bin/sh\n")},
		{Path: "bin/wall", Data: []byte("#!/bin/sh\n")},
		{Path: "tmp", Dir: true},
		{Path: "unicode/héllo wörld.txt", Data: []byte("unicode\n")},
		{Path: "unicode/日本語.txt", Data: []byte("nihongo\n")},
		{Path: "unicode/emoji-😀", Data: []byte("smile\n")},
		{Path: "links/fast", Link: "../etc/passwd"},
		{Path: "links/slow", Link: "../" + strings.Repeat("long-directory-name/", 5) + "target-of-a-slow-symlink"},
		{Path: strings.Repeat("long-directory-name/", 5) + "target-of-a-slow-symlink", Data: []byte("slow target\n")},
		{Path: "links/dir", Link: "../etc"},
	}
	root := fixture.WriteTree(t, files)
	// A sparse file: data, a hole of 3 MiB, data (mke2fs -d keeps holes).
	sp, err := os.Create(filepath.Join(root, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	sp.Write(randomBytes(5, 3000))
	sp.WriteAt(randomBytes(6, 5000), 3<<20)
	sp.Close()
	if err := os.Link(filepath.Join(root, "etc/passwd"), filepath.Join(root, "etc/passwd.hardlink")); err != nil {
		t.Fatal(err)
	}
	// fixture.File modes are Go's: set the special bits through os.Chmod.
	for p, m := range map[string]os.FileMode{"bin/su": 0o755 | os.ModeSetuid, "bin/wall": 0o755 | os.ModeSetgid, "tmp": 0o777 | os.ModeSticky | os.ModeDir} {
		if err := os.Chmod(filepath.Join(root, p), m); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o640); err != nil {
		t.Fatal(err)
	}
	// Device nodes (we run as root in CI) and a socket; skipped where mknod is not allowed.
	if syscall.Mknod(filepath.Join(root, "dev-null"), syscall.S_IFCHR|0o666, 1<<8|3) == nil {
		_ = syscall.Mknod(filepath.Join(root, "dev-loop0"), syscall.S_IFBLK|0o660, 7<<8) // major 7, minor 0
	}
	if l, err := net.Listen("unix", filepath.Join(root, "sock")); err == nil {
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		l.Close()
	}

	return root
}

// manyFiles adds n files to dir (under root), with names long enough to fill several index
// levels and some non-ASCII bytes so that signed and unsigned hashes differ.
func manyFiles(t testing.TB, root, dir string, n int) []string {
	t.Helper()
	p := filepath.Join(root, dir)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("file-with-a-rather-long-name-%05d", i)
		if i%7 == 0 {
			names[i] = fmt.Sprintf("ünïcödé-%05d-ñ", i)
		}
		if err := os.WriteFile(filepath.Join(p, names[i]), []byte(strconv.Itoa(i)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

func openImage(t testing.TB, img string) *FS {
	t.Helper()
	// Small images are read into memory: fstest reads in tiny pieces, and a syscall per piece
	// dominates the test time.
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var r io.ReaderAt = f
	if st.Size() <= 128<<20 {
		data, err := os.ReadFile(img)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	if !Detect(r, st.Size()) {
		t.Fatalf("Detect says %s is not ext2/3/4", img)
	}
	x, err := Open(r, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// tskListing runs The Sleuth Kit's fls in body-file mode: path -> "inode|mode|uid|gid|size|mtime".
// Deleted names and TSK's virtual files are left out.
func tskListing(t testing.TB, img string) map[string]string {
	t.Helper()
	fixture.Need(t, "fls")
	out := fixture.Run(t, "fls", "-r", "-p", "-m", "/", img)
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) < 11 {
			t.Fatalf("fls line %q", line)
		}
		name, _, _ := strings.Cut(f[1], " -> ") // symbolic links show their target
		if strings.HasSuffix(name, "(deleted)") || strings.Contains(name, "$OrphanFiles") || name == "/" {
			continue
		}
		mode := f[3]
		if strings.HasPrefix(mode, "-/") {
			// Without the filetype feature entries carry no type: fls shows "-"; the inode's
			// type is what the entry names.
			meta := mode[2:3]
			if meta == "h" {
				meta = "s"
			}
			mode = meta + mode[1:]
		}
		m[name] = strings.Join([]string{f[2], mode, f[4], f[5], f[6], f[8]}, "|")
	}
	return m
}

// ourListing walks the fs.FS and renders every entry the way fls -m does.
func ourListing(t testing.TB, fsys *filesystem.FS) map[string]string {
	t.Helper()
	m := map[string]string{}
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
		m["/"+p] = strings.Join([]string{strconv.FormatUint(st.Inode, 10), tskMode(d.Type(), st.Mode),
			strconv.Itoa(int(st.UID)), strconv.Itoa(int(st.GID)), strconv.FormatInt(st.Size, 10),
			// fls ignores the epoch bits of the extra time word: compare the low 32 bits.
			strconv.FormatInt(int64(int32(st.ModTime.Unix())), 10)}, "|")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tskMode renders "r/rrwxr-xr-x" as fls does: entry type, then inode type and permissions.
func tskMode(entry, mode fs.FileMode) string {
	typ := func(m fs.FileMode) string {
		switch {
		case m&fs.ModeDir != 0:
			return "d"
		case m&fs.ModeSymlink != 0:
			return "l"
		case m&fs.ModeCharDevice != 0:
			return "c"
		case m&fs.ModeDevice != 0:
			return "b"
		case m&fs.ModeNamedPipe != 0:
			return "p"
		case m&fs.ModeSocket != 0:
			return "s"
		}
		return "r"
	}
	meta := typ(mode)
	if meta == "s" {
		meta = "h" // TSK's letter for a socket inode
	}
	perm := []byte("rwxrwxrwx")
	for i := 0; i < 9; i++ {
		if mode&(1<<(8-i)) == 0 {
			perm[i] = '-'
		}
	}
	special := func(i int, set bool, c byte) {
		if set {
			if perm[i] == 'x' {
				perm[i] = c
			} else {
				perm[i] = c - 'a' + 'A'
			}
		}
	}
	special(2, mode&fs.ModeSetuid != 0, 's')
	special(5, mode&fs.ModeSetgid != 0, 's')
	special(8, mode&fs.ModeSticky != 0, 't')
	return typ(entry) + "/" + meta + string(perm)
}

func compareListings(t testing.TB, want, got map[string]string) {
	t.Helper()
	var diffs []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("missing %s (fls: %s)", p, w))
		} else if g != w {
			diffs = append(diffs, fmt.Sprintf("%s: fls %s, ours %s", p, w, g))
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			diffs = append(diffs, fmt.Sprintf("extra %s (ours: %s)", p, g))
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%d listing differences with fls, first: %s", len(diffs), strings.Join(diffs[:min(len(diffs), 10)], "\n  "))
	}
	if len(want) == 0 {
		t.Error("fls listed nothing")
	}
}

// debugfsDump extracts the whole tree with debugfs rdump and returns path -> content of every
// regular file.
func debugfsDump(t testing.TB, img string) map[string][]byte {
	t.Helper()
	fixture.Need(t, "debugfs")
	dir := t.TempDir()
	fixture.Run(t, "debugfs", "-R", "rdump / "+dir, img)
	m := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		m["/"+filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// ourHashes reads every regular file through the fs.FS.
func ourHashes(t testing.TB, fsys *filesystem.FS) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		m["/"+p] = sha(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// icatHash reads one inode with The Sleuth Kit's icat.
func icatHash(t testing.TB, img string, ino uint64) string {
	t.Helper()
	fixture.Need(t, "icat")
	return sha([]byte(fixture.Run(t, "icat", img, strconv.FormatUint(ino, 10))))
}

// readAll reads a ReaderAt of known size.
func readAll(r io.ReaderAt, size int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := io.Copy(&buf, io.NewSectionReader(r, 0, size))
	return buf.Bytes(), err
}

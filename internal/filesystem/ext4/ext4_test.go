package ext4

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

type variant struct {
	name    string
	kind    string // mke2fs -t
	bs      int
	typ     string // expected Type()
	extra   []string
	noTSK   bool // The Sleuth Kit cannot read it (bigalloc)
	sizeMiB int  // 64 when 0
}

var variants = []variant{
	{name: "ext4-default", kind: "ext4", bs: 1024, typ: "ext4"},
	{name: "ext4-4k", kind: "ext4", bs: 4096, typ: "ext4", extra: []string{"-b", "4096"}},
	{name: "ext4-no64bit", kind: "ext4", bs: 4096, typ: "ext4", extra: []string{"-b", "4096", "-O", "^64bit"}},
	{name: "ext4-1k", kind: "ext4", bs: 1024, typ: "ext4", extra: []string{"-b", "1024"}},
	{name: "ext4-64k", kind: "ext4", bs: 65536, typ: "ext4", extra: []string{"-b", "65536"}},
	{name: "ext4-inode128", kind: "ext4", bs: 4096, typ: "ext4", extra: []string{"-b", "4096", "-I", "128"}},
	{name: "ext4-inline", kind: "ext4", bs: 4096, typ: "ext4", extra: []string{"-b", "4096", "-O", "inline_data"}},
	{name: "ext4-csum-noflex", kind: "ext4", bs: 1024, typ: "ext4", extra: []string{"-b", "1024", "-O", "metadata_csum,^flex_bg"}},
	// 40 groups of 8 MiB with 32 descriptors per block: two meta groups, so the second's
	// descriptor block sits at the start of group 32.
	{name: "ext4-metabg", kind: "ext4", bs: 1024, typ: "ext4", sizeMiB: 320, extra: []string{"-b", "1024", "-O", "meta_bg,^resize_inode,^64bit"}},
	{name: "ext4-sparse-super2", kind: "ext4", bs: 4096, typ: "ext4", sizeMiB: 400, extra: []string{"-b", "4096", "-O", "sparse_super2"}},
	{name: "ext4-bigalloc", kind: "ext4", bs: 4096, typ: "ext4", extra: []string{"-b", "4096", "-O", "bigalloc", "-C", "16384"}, noTSK: true},
	{name: "ext3-1k", kind: "ext3", bs: 1024, typ: "ext3", extra: []string{"-b", "1024"}},
	{name: "ext3-4k", kind: "ext3", bs: 4096, typ: "ext3", extra: []string{"-b", "4096"}},
	{name: "ext2-1k", kind: "ext2", bs: 1024, typ: "ext2", extra: []string{"-b", "1024"}},
	{name: "ext2-nofiletype", kind: "ext2", bs: 4096, typ: "ext2", extra: []string{"-b", "4096", "-O", "^filetype"}},
}

func buildVariant(t *testing.T, v variant, src string) string {
	t.Helper()
	size := v.sizeMiB
	if size == 0 {
		size = 64
	}
	switch v.kind {
	case "ext2":
		return fixture.Ext2(t, src, size, v.extra...)
	case "ext3":
		return fixture.Ext3(t, src, size, v.extra...)
	}
	return fixture.Ext4(t, src, size, v.extra...)
}

func TestVariants(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			src := sourceTree(t, v.bs)
			img := buildVariant(t, v, src)
			if !slices.Contains(v.extra, "128") {
				// mke2fs -d stores whole seconds below 2038 only: give one file a time past 2038
				// with nanoseconds (epoch bits and nanoseconds in the extra word).
				debugfsScript(t, img, "sif /etc/ssh/sshd_config mtime 0x0020e23f",
					fmt.Sprintf("sif /etc/ssh/sshd_config mtime_extra 0x%x", farExtra))
			}
			x := openImage(t, img)
			logLayout(t, x)
			if x.Type() != v.typ {
				t.Errorf("Type() = %q, want %q", x.Type(), v.typ)
			}
			fsys := filesystem.New(x)
			if !v.noTSK {
				compareListings(t, tskListing(t, img), ourListing(t, fsys))
			}
			checkContent(t, img, src, fsys, x)
			if !v.noTSK {
				// A second, independent reader for the files that span many blocks.
				for _, p := range []string{"big.bin", "sparse", "12blocks+1", "block+1"} {
					b, err := fs.ReadFile(fsys, p)
					if err != nil || sha(b) != icatHash(t, img, inodeOf(t, x, p)) {
						t.Errorf("%s: differs from icat (%v)", p, err)
					}
				}
			}
			checkDetails(t, x, fsys, src)
			checkUnallocated(t, x, img)
			for d, err := range x.Deleted(context.Background()) {
				t.Errorf("fresh image: Deleted yields %+v, %v", d, err)
			}
			if err := fstest.TestFS(fsys, "etc/passwd", "big.bin", "home/u/.ssh/id_rsa", "unicode/日本語.txt", "sparse", "empty"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestIndirectLevels reads a file that needs direct, single, double and triple indirect blocks
// (1 KiB blocks: triple indirection starts past 12 + 256 + 256² blocks, at 64.3 MiB; the gap is
// a hole), on ext2 and ext3, against debugfs and the source. (icat takes minutes on this file.)
func TestIndirectLevels(t *testing.T) {
	for _, kind := range []string{"ext2", "ext3"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			src := t.TempDir()
			f, err := os.Create(filepath.Join(src, "triple"))
			if err != nil {
				t.Fatal(err)
			}
			head, tail := randomBytes(7, 4<<20+100), randomBytes(8, 3000)
			f.Write(head)
			f.WriteAt(tail, 70<<20)
			f.Close()
			img := buildVariant(t, variant{kind: kind}, src)
			fixture.Run(t, "debugfs", "-R", "stat /triple", img)
			x := openImage(t, img)
			ino := inodeOf(t, x, "triple")
			in, err := x.readInode(ino)
			if err != nil {
				t.Fatal(err)
			}
			for i, name := range []string{"single", "double", "triple"} {
				if le32(in.iblock(), 4*(12+i)) == 0 {
					t.Fatalf("%s indirect pointer is not used", name)
				}
			}
			b, err := fs.ReadFile(filesystem.New(x), "triple")
			if err != nil {
				t.Fatal(err)
			}
			want := make([]byte, 70<<20+3000)
			copy(want, head)
			copy(want[70<<20:], tail)
			if sha(b) != sha(want) {
				t.Error("content differs from the source")
			}
			if sha(b) != sha([]byte(fixture.Run(t, "debugfs", "-R", "cat /triple", img))) {
				t.Error("content differs from debugfs cat")
			}
			if st, _ := x.Stat(ino); !st.Sparse {
				t.Error("not marked sparse")
			}
		})
	}
}

// logLayout records which layout paths a variant exercised.
func logLayout(t *testing.T, x *FS) {
	uninit := 0
	for _, g := range x.groups {
		if g.flags&bgBlockUninit != 0 {
			uninit++
		}
	}
	t.Logf("%s: %d groups (%d BLOCK_UNINIT), %d descriptors of %d bytes per block, first_meta_bg %d, features compat %#x incompat %#x ro %#x",
		x.Type(), len(x.groups), uninit, x.descsPerBlock, x.sb.descSize, x.sb.firstMetaBG, x.sb.compat, x.sb.incompat, x.sb.roCompat)
}

// checkContent compares every file's sha256 with debugfs rdump and with the source tree.
func checkContent(t *testing.T, img, src string, fsys *filesystem.FS, x *FS) {
	t.Helper()
	ours := ourHashes(t, fsys)
	theirs := debugfsDump(t, img)
	for p, b := range theirs {
		// debugfs 1.47 dumps an inline-data file as its whole 60-byte i_block: compare the
		// file's own bytes only.
		if fi, err := fsys.Stat(strings.TrimPrefix(p, "/")); err == nil && x.sb.incompat&incompatInlineData != 0 && int64(len(b)) > fi.Size() {
			b = b[:fi.Size()]
		}
		if h := sha(b); ours[p] != h {
			t.Errorf("%s: sha256 %s, debugfs %s", p, ours[p], h)
		}
	}
	if len(ours) != len(theirs) {
		t.Errorf("%d regular files read, debugfs dumped %d", len(ours), len(theirs))
	}
	for p, h := range ours {
		b, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(p)))
		if err == nil && sha(b) != h {
			t.Errorf("%s: content differs from the source file", p)
		}
	}
}

// checkDetails looks at what listings and hashes do not show: links, modes, Sparse, extents.
func checkDetails(t *testing.T, x *FS, fsys *filesystem.FS, src string) {
	t.Helper()
	for _, l := range []string{"links/fast", "links/slow", "links/dir"} {
		want, _ := os.Readlink(filepath.Join(src, l))
		got, err := fsys.ReadLink(l)
		if err != nil || got != want {
			t.Errorf("ReadLink(%s) = %q, %v; want %q", l, got, err, want)
		}
	}
	stat := func(p string) *filesystem.Stat {
		fi, err := fsys.Lstat(p)
		if err != nil {
			t.Fatalf("Lstat(%s): %v", p, err)
		}
		return fi.Sys().(*filesystem.Stat)
	}
	if a, b := stat("etc/passwd"), stat("etc/passwd.hardlink"); a.Inode != b.Inode || a.Nlink != 2 {
		t.Errorf("hard link: inodes %d/%d, nlink %d", a.Inode, b.Inode, a.Nlink)
	}
	if m := stat("fifo").Mode; m.Type() != fs.ModeNamedPipe || m.Perm() != 0o640 {
		t.Errorf("fifo mode %v", m)
	}
	if m := stat("bin/su").Mode; m&fs.ModeSetuid == 0 || m.Perm() != 0o755 {
		t.Errorf("setuid mode %v", m)
	}
	if m := stat("bin/wall").Mode; m&fs.ModeSetgid == 0 {
		t.Errorf("setgid mode %v", m)
	}
	if m := stat("tmp").Mode; m&fs.ModeSticky == 0 || !m.IsDir() {
		t.Errorf("sticky dir mode %v", m)
	}
	if !stat("sparse").Sparse || stat("big.bin").Sparse {
		t.Errorf("Sparse: sparse=%v big.bin=%v", stat("sparse").Sparse, stat("big.bin").Sparse)
	}
	// Times: whole seconds as mke2fs -d stores them; past 2038 with nanoseconds where set.
	for _, p := range []string{"etc/passwd", "etc/ssh/sshd_config"} {
		fi, err := os.Stat(filepath.Join(src, p))
		if err != nil {
			t.Fatal(err)
		}
		st := stat(p)
		want := fi.ModTime().Truncate(time.Second)
		if p == "etc/ssh/sshd_config" && x.sb.inodeSize > goodOldInodeSize {
			want = farTime
		}
		if !st.ModTime.Equal(want) {
			t.Errorf("%s: mtime %v, want %v", p, st.ModTime, want)
		}
		if st.ChangeTime.IsZero() || st.AccessTime.IsZero() || (x.sb.inodeSize > goodOldInodeSize) == st.BirthTime.IsZero() {
			t.Errorf("%s: times %+v", p, st)
		}
	}
	if fi, err := fsys.Lstat("dev-null"); err == nil {
		if m := fi.Mode(); m.Type() != fs.ModeDevice|fs.ModeCharDevice {
			t.Errorf("dev-null mode %v", m)
		}
	}
	if fi, err := fsys.Lstat("dev-loop0"); err == nil {
		if m := fi.Mode(); m.Type() != fs.ModeDevice {
			t.Errorf("dev-loop0 mode %v", m)
		}
	}
	if fi, err := fsys.Lstat("sock"); err == nil {
		if m := fi.Mode(); m.Type() != fs.ModeSocket {
			t.Errorf("sock mode %v", m)
		}
	}
	// Extents: cover the file exactly, and the bytes they name are the file's.
	for _, p := range []string{"big.bin", "sparse", "one", "12blocks+1"} {
		st := stat(p)
		ext, err := x.Extents(st.Inode)
		if err != nil {
			t.Fatalf("Extents(%s): %v", p, err)
		}
		want, _ := os.ReadFile(filepath.Join(src, p))
		var pos int64
		for _, e := range ext {
			if e.Logical != pos || e.Length <= 0 {
				t.Fatalf("%s: extents not contiguous: %+v", p, ext)
			}
			got := make([]byte, e.Length)
			switch {
			case e.Physical < 0:
			default:
				if _, err := x.r.ReadAt(got, e.Physical); err != nil {
					t.Fatal(err)
				}
			}
			if sha(got) != sha(want[e.Logical:e.Logical+e.Length]) {
				t.Errorf("%s: extent %+v does not hold the file's bytes", p, e)
			}
			pos += e.Length
		}
		if pos != st.Size {
			t.Errorf("%s: extents cover %d of %d bytes", p, pos, st.Size)
		}
	}
	if st := stat("sparse"); st.Size != 3<<20+5000 {
		t.Errorf("sparse size %d", st.Size)
	}
}

// farTime is set as low word 0x0020e23f with epoch 1 and 123456789 ns in the extra word: the
// epoch bits extend the signed 32-bit seconds by 2^32 (a date in 2106).
var farTime = time.Unix(1<<32+0x0020e23f, 123456789).UTC()

const farExtra = 123456789<<2 | 1

var freeBlocksLine = regexp.MustCompile(`(?m)^\s+Free blocks: (.*)$`)

// checkUnallocated compares the free ranges with dumpe2fs's per-group free block lists.
func checkUnallocated(t *testing.T, x *FS, img string) {
	t.Helper()
	out := fixture.Run(t, "dumpe2fs", img)
	var want []filesystem.Range
	bs := x.blockSize
	for _, m := range freeBlocksLine.FindAllStringSubmatch(out, -1) {
		for _, part := range strings.Split(m[1], ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, b, ok := strings.Cut(part, "-")
			if !ok {
				b = a
			}
			lo, err1 := strconv.ParseInt(a, 10, 64)
			hi, err2 := strconv.ParseInt(b, 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("dumpe2fs free blocks %q", part)
			}
			// With bigalloc dumpe2fs names each free cluster by its first block.
			hi += 1<<x.clusterBits() - 1
			r := filesystem.Range{Off: lo * bs, Len: (hi - lo + 1) * bs}
			if n := len(want); n > 0 && want[n-1].Off+want[n-1].Len == r.Off {
				want[n-1].Len += r.Len
			} else {
				want = append(want, r)
			}
		}
	}
	var got []filesystem.Range
	for r, err := range x.Unallocated(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r)
	}
	if len(got) != len(want) {
		t.Errorf("Unallocated: %d ranges, dumpe2fs %d (ours %v… dumpe2fs %v…)", len(got), len(want), got[:min(len(got), 5)], want[:min(len(want), 5)])
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("Unallocated range %d: %+v, dumpe2fs %+v", i, got[i], want[i])
			return
		}
	}
}

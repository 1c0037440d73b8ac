package ext4

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// partialNames are the files of the multi-block directory "many": long names so that 120 of
// them need several 1 KiB blocks.
func partialNames() []string {
	var names []string
	for i := range 120 {
		names = append(names, fmt.Sprintf("entry-with-a-long-name-to-fill-blocks-%03d.txt", i))
	}
	return names
}

// partialImage builds an ext4 image (1 KiB blocks, metadata_csum as mke2fs 1.47 makes it by
// default) holding /many with partialNames.
func partialImage(t *testing.T, extra ...string) string {
	t.Helper()
	var files []fixture.File
	for _, n := range partialNames() {
		files = append(files, fixture.File{Path: "many/" + n, Data: []byte(n + "\n")})
	}
	files = append(files, fixture.File{Path: "top.txt", Data: []byte("top\n")})
	return fixture.Ext4(t, fixture.WriteTree(t, files), 8, append([]string{"-b", "1024"}, extra...)...)
}

// blockNames lists the live names stored in one directory block.
func blockNames(t *testing.T, x *FS, blk uint64) []string {
	t.Helper()
	b, err := x.readBlock(blk)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if err := x.dirents(b, "test", func(d dirent) bool {
		if d.ino != 0 && usableName(d.name) {
			out = append(out, string(d.name))
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkPartial lists /many and checks that it holds every name but lost, with an error naming
// the directory inode and block lblk.
func checkPartial(t *testing.T, img string, lost []string, lblk uint64, words ...string) {
	t.Helper()
	x := openImage(t, img)
	ino := inodeOf(t, x, "many")
	entries, err := x.ReadDir(ino)
	wantWhat := fmt.Sprintf("directory inode %d block %d", ino, lblk)
	if err == nil || !errors.Is(err, filesystem.ErrCorrupt) || !strings.Contains(err.Error(), wantWhat) {
		t.Fatalf("ReadDir error %v, want a corrupt error naming %q", err, wantWhat)
	}
	for _, w := range words {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("ReadDir error %v does not say %q", err, w)
		}
	}
	t.Log(err)
	got := map[string]bool{}
	for _, e := range entries {
		got[e.Name] = true
	}
	gone := map[string]bool{}
	for _, n := range lost {
		gone[n] = true
	}
	for _, n := range partialNames() {
		if !gone[n] && !got[n] {
			t.Errorf("%s missing from the partial listing (%d entries)", n, len(entries))
		}
	}
	// The adapter keeps the partial listing and reports the error; a name of a good block
	// still resolves.
	fsys := filesystem.New(x)
	dents, err := fs.ReadDir(fsys, "many")
	if err == nil || len(dents) < len(partialNames())-len(lost) {
		t.Errorf("fs.ReadDir: %d entries, error %v", len(dents), err)
	}
	for _, n := range partialNames() {
		if gone[n] {
			continue
		}
		if b, err := fs.ReadFile(fsys, "many/"+n); err != nil || string(b) != n+"\n" {
			t.Errorf("read many/%s: %q, %v", n, b, err)
		}
		break
	}
	// A name of the lost block is not "not found": the damage is the answer.
	if len(lost) > 0 {
		if _, err := x.Lookup(ino, lost[0]); err == nil || errors.Is(err, fs.ErrNotExist) && !errors.Is(err, filesystem.ErrCorrupt) {
			t.Errorf("Lookup of %s in the lost block: %v, want the corruption", lost[0], err)
		}
	}
}

func TestPartialDirectory(t *testing.T) {
	fixture.Need(t, "mke2fs", "debugfs")
	type corruption struct {
		name  string
		htree bool
		edit  func(t *testing.T, x *FS, img string, blk uint64) // damages physical block blk
		words []string
		// lostAll: the whole block is lost (unreadable); otherwise the entries before the
		// damage (a bad rec_len at entry 0 leaves none) or all of them (a failed checksum) survive
		lostAll bool
	}
	cases := []corruption{
		{name: "linear rec_len 0", edit: func(t *testing.T, x *FS, img string, blk uint64) {
			patchBlock(t, x, img, blk, func(b []byte) { put16(b, 4, 0) })
		}, words: []string{"rec_len 0"}, lostAll: true},
		{name: "linear checksum", edit: func(t *testing.T, x *FS, img string, blk uint64) {
			patchBlock(t, x, img, blk, func(b []byte) { b[len(b)-4] ^= 0xFF })
		}, words: []string{"checksum"}},
		{name: "htree rec_len past the block", htree: true, edit: func(t *testing.T, x *FS, img string, blk uint64) {
			patchBlock(t, x, img, blk, func(b []byte) { put16(b, 4, 2048) })
		}, words: []string{"rec_len 2048"}, lostAll: true},
		{name: "htree checksum", htree: true, edit: func(t *testing.T, x *FS, img string, blk uint64) {
			patchBlock(t, x, img, blk, func(b []byte) { b[len(b)-1] ^= 0x01 })
		}, words: []string{"checksum"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			img := partialImage(t)
			if c.htree {
				reindex(t, img, "half_md4", false)
			}
			x := openImage(t, img)
			if _, err := x.ReadDir(inodeOf(t, x, "many")); err != nil {
				t.Fatalf("undamaged directory: %v", err)
			}
			const lblk = 2
			blk := dirBlock(t, x, "many", lblk)
			names := blockNames(t, x, blk)
			if len(names) == 0 {
				t.Fatalf("block %d of /many holds no entries", lblk)
			}
			c.edit(t, x, img, blk)
			var lost []string
			if c.lostAll {
				lost = names
			}
			checkPartial(t, img, lost, lblk, c.words...)
			if c.htree {
				// A name in a good leaf is found by hash, the damaged leaf notwithstanding.
				y := openImage(t, img)
				lost := map[string]bool{}
				for _, n := range names {
					lost[n] = true
				}
				for _, n := range partialNames() {
					if lost[n] {
						continue
					}
					in, err := y.readInode(inodeOf(t, y, "many"))
					if err != nil {
						t.Fatal(err)
					}
					if _, err := y.htreeLookup(in, n); err != nil {
						t.Fatalf("htree lookup of %s in a good leaf: %v", n, err)
					}
				}
			}
		})
	}

	t.Run("extent out of range", func(t *testing.T) {
		t.Parallel()
		// mke2fs -d interleaves the directory's blocks with its files' data: each block is its
		// own extent. The one mapping logical block 2 is sent past the file system.
		img := partialImage(t)
		x := openImage(t, img)
		const lblk = 2
		lost := blockNames(t, x, dirBlock(t, x, "many", lblk))
		in, err := x.readInode(inodeOf(t, x, "many"))
		if err != nil {
			t.Fatal(err)
		}
		// Find the leaf entry for lblk: in i_block (depth 0) or in the one leaf block (depth 1).
		patchLeaf := func(node []byte) bool {
			for i := range int(le16(node, 2)) {
				e := node[extentHdrSize+i*extentEntSize:]
				if uint64(le32(e, 0)) == lblk {
					put16(e, 6, 0)
					put32(e, 8, 1<<30) // far past the 8 MiB volume
					return true
				}
			}
			return false
		}
		root := in.iblock()
		switch le16(root, 6) {
		case 0:
			patchInode(t, x, img, "many", func(raw []byte) {
				if !patchLeaf(raw[iBlockOff : iBlockOff+iBlockLen]) {
					t.Fatal("no extent for logical block 2")
				}
			})
		case 1:
			leaf := uint64(le32(root, extentHdrSize+4)) | uint64(le16(root, extentHdrSize+8))<<32
			patchBlock(t, x, img, leaf, func(b []byte) {
				if !patchLeaf(b) {
					t.Fatal("no extent for logical block 2")
				}
			})
		default:
			t.Fatalf("extent tree depth %d", le16(root, 6))
		}
		checkPartial(t, img, lost, lblk, "outside the")
	})
}

// TestPartialInlineDirectory damages the third entry of an inline directory (mke2fs -d inlines
// a directory only when it fits in i_block): the two entries before it are still listed.
func TestPartialInlineDirectory(t *testing.T) {
	fixture.Need(t, "mke2fs", "debugfs")
	var files []fixture.File
	for i := range 4 {
		files = append(files, fixture.File{Path: fmt.Sprintf("d/n%d", i), Data: []byte("x")})
	}
	img := fixture.Ext4(t, fixture.WriteTree(t, files), 4, "-b", "1024", "-I", "256", "-O", "inline_data")
	x := openImage(t, img)
	ino := inodeOf(t, x, "d")
	in, err := x.readInode(ino)
	if err != nil {
		t.Fatal(err)
	}
	if in.flags&flagInlineData == 0 {
		t.Fatal("mke2fs did not make /d inline")
	}
	var offs []int
	var names []string
	if err := x.dirents(in.iblock()[4:], "test", func(d dirent) bool {
		if d.ino != 0 {
			offs = append(offs, d.off)
			names = append(names, string(d.name))
		}
		return true
	}); err != nil || len(offs) != 4 {
		t.Fatalf("inline entries at %v (%v)", offs, err)
	}
	patchInode(t, x, img, "d", func(raw []byte) { put16(raw, iBlockOff+4+offs[2]+4, 3) })
	y := openImage(t, img)
	after, err := y.ReadDir(ino)
	want := fmt.Sprintf("directory inode %d block 0", ino)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "rec_len 3") {
		t.Fatalf("ReadDir error %v, want the bad rec_len named in %q", err, want)
	}
	if len(after) != 2 || after[0].Name != names[0] || after[1].Name != names[1] {
		t.Fatalf("kept %v, want %v", after, names[:2])
	}
	t.Log(err)
}

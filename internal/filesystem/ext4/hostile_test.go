package ext4

import (
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// hostileBases builds the small images the hostile cases damage.
type hostileBases struct {
	ext4, ext2, htree string
}

func buildHostileBases(t *testing.T) hostileBases {
	src := fixture.WriteTree(t, []fixture.File{
		{Path: "f", Data: randomBytes(20, 20_000)},
		{Path: "small", Data: []byte("small\n")},
		{Path: "sub/inner", Data: []byte("inner\n")},
		{Path: "ind", Data: randomBytes(21, 300_000)},
	})
	var b hostileBases
	b.ext4 = fixture.Ext4(t, src, 4, "-b", "1024")
	b.ext2 = fixture.Ext2(t, src, 4, "-b", "1024")
	b.htree, _ = sharedHtreeImage(t)
	return b
}

type hostileCase struct {
	name  string
	base  func(hostileBases) string
	patch func(t *testing.T, x *FS, img string)
	want  string // an error containing this must be reported ("" = only terminate cleanly)
	// lookup names a file that Lookup must still find
	lookup string
}

func put16(b []byte, off int, v uint16) { binary.LittleEndian.PutUint16(b[off:], v) }
func put32(b []byte, off int, v uint32) { binary.LittleEndian.PutUint32(b[off:], v) }

// patchInode rewrites bytes of an inode found by path.
func patchInode(t *testing.T, x *FS, img, path string, edit func(raw []byte)) *inode {
	t.Helper()
	in, err := x.readInode(inodeOf(t, x, path))
	if err != nil {
		t.Fatal(err)
	}
	raw := append([]byte(nil), in.raw...)
	edit(raw)
	patchImage(t, img, in.off, raw)
	return in
}

// patchBlock rewrites a whole block.
func patchBlock(t *testing.T, x *FS, img string, blk uint64, edit func(b []byte)) {
	t.Helper()
	b, err := x.readBlock(blk)
	if err != nil {
		t.Fatal(err)
	}
	edit(b)
	patchImage(t, img, int64(blk)*x.blockSize, b)
}

// freeBlock returns the first free block of the image, for planting hostile structures.
func freeBlock(t *testing.T, x *FS, skip uint64) uint64 {
	t.Helper()
	for r, err := range x.Unallocated(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if uint64(r.Len/x.blockSize) > skip {
			return uint64(r.Off/x.blockSize) + skip
		}
		skip -= uint64(r.Len / x.blockSize)
	}
	t.Fatal("no free block")
	return 0
}

// dirBlock returns the physical block of a directory's logical block.
func dirBlock(t *testing.T, x *FS, path string, lblk uint64) uint64 {
	t.Helper()
	in, err := x.readInode(inodeOf(t, x, path))
	if err != nil {
		t.Fatal(err)
	}
	runs, err := x.blockRuns(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if lblk >= r.logical && lblk < r.logical+r.length {
			return r.physical + lblk - r.logical
		}
	}
	t.Fatalf("%s: logical block %d not mapped", path, lblk)
	return 0
}

func extentRoot(raw []byte, entries, max, depth uint16) {
	put16(raw, iBlockOff, extentMagic)
	put16(raw, iBlockOff+2, entries)
	put16(raw, iBlockOff+4, max)
	put16(raw, iBlockOff+6, depth)
}

func superblockPatch(edit func(sb []byte)) func(t *testing.T, x *FS, img string) {
	return func(t *testing.T, x *FS, img string) {
		sb := make([]byte, superblockSize)
		copy(sb, mustRead(t, img, superblockOffset, superblockSize))
		edit(sb)
		patchImage(t, img, superblockOffset, sb)
	}
}

func mustRead(t *testing.T, img string, off int64, n int) []byte {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	return b
}

var hostileCases = []hostileCase{
	{name: "extent-depth-40", base: func(b hostileBases) string { return b.ext4 },
		patch: func(t *testing.T, x *FS, img string) {
			patchInode(t, x, img, "f", func(raw []byte) { extentRoot(raw, 1, 4, 40) })
		}, want: "depth 40 exceeds 5"},
	{name: "extent-entries-over-max", base: func(b hostileBases) string { return b.ext4 },
		patch: func(t *testing.T, x *FS, img string) {
			patchInode(t, x, img, "f", func(raw []byte) { extentRoot(raw, 0xFFFF, 4, 0) })
		}, want: "eh_entries 65535"},
	{name: "extent-node-points-to-itself", base: func(b hostileBases) string { return b.ext4 },
		patch: func(t *testing.T, x *FS, img string) {
			blk := freeBlock(t, x, 0)
			patchInode(t, x, img, "f", func(raw []byte) {
				extentRoot(raw, 1, 4, 1)
				put32(raw, iBlockOff+12, 0)
				put32(raw, iBlockOff+16, uint32(blk))
				put32(raw, iBlockOff+20, 0)
			})
			patchBlock(t, x, img, blk, func(b []byte) {
				put16(b, 0, extentMagic)
				put16(b, 2, 1)
				put16(b, 4, uint16((len(b)-12)/12))
				put16(b, 6, 1) // claims the depth of its parent: a loop
				put32(b, 12, 0)
				put32(b, 16, uint32(blk))
				put32(b, 20, 0)
			})
		}, want: "promised"},
	{name: "extent-tree-fan-out", base: func(b hostileBases) string { return b.ext4 },
		patch: func(t *testing.T, x *FS, img string) {
			// Every index entry of every level names the same leaf: a DAG, not a tree.
			idx, leaf := freeBlock(t, x, 0), freeBlock(t, x, 1)
			patchInode(t, x, img, "f", func(raw []byte) {
				extentRoot(raw, 4, 4, 2)
				put32(raw, 0x04, 0xFFFFFFFF) // i_size_lo: a huge file
				put32(raw, 0x6C, 0xFF)
				for i := range 4 {
					put32(raw, iBlockOff+12+12*i, uint32(i))
					put32(raw, iBlockOff+16+12*i, uint32(idx))
					put32(raw, iBlockOff+20+12*i, 0)
				}
			})
			patchBlock(t, x, img, idx, func(b []byte) {
				n := (len(b) - 12) / 12
				put16(b, 0, extentMagic)
				put16(b, 2, uint16(n))
				put16(b, 4, uint16(n))
				put16(b, 6, 1)
				for i := range n {
					put32(b, 12+12*i, uint32(i))
					put32(b, 16+12*i, uint32(leaf))
					put32(b, 20+12*i, 0)
				}
			})
			patchBlock(t, x, img, leaf, func(b []byte) {
				put16(b, 0, extentMagic)
				put16(b, 2, 1)
				put16(b, 4, uint16((len(b)-12)/12))
				put16(b, 6, 0)
				put32(b, 12, 0)
				put16(b, 16, 1)
				put16(b, 18, 0)
				put32(b, 20, uint32(leaf))
			})
		}, want: "overlaps"},
	{name: "indirect-loops", base: func(b hostileBases) string { return b.ext2 },
		patch: func(t *testing.T, x *FS, img string) {
			// Each indirect block points at itself in every slot, and the file claims 1 TiB.
			blks := []uint64{freeBlock(t, x, 0), freeBlock(t, x, 1), freeBlock(t, x, 2)}
			patchInode(t, x, img, "ind", func(raw []byte) {
				put32(raw, 0x04, 0)
				put32(raw, 0x6C, 0x100)
				for i, b := range blks {
					put32(raw, iBlockOff+4*(12+i), uint32(b))
				}
			})
			for _, b := range blks {
				patchBlock(t, x, img, b, func(p []byte) {
					for i := 0; i < len(p); i += 4 {
						put32(p, i, uint32(b))
					}
				})
			}
		}, want: "block map"},
	{name: "rec-len-zero", base: func(b hostileBases) string { return b.ext4 },
		patch: func(t *testing.T, x *FS, img string) {
			patchBlock(t, x, img, dirBlock(t, x, "sub", 0), func(b []byte) { put16(b, 12+4, 0) })
		}, want: "rec_len 0"},
	{name: "name-len-beyond-rec-len", base: func(b hostileBases) string { return b.ext4 },
		patch: func(t *testing.T, x *FS, img string) {
			patchBlock(t, x, img, dirBlock(t, x, "sub", 0), func(b []byte) {
				// The third entry ("inner") claims a 250-byte name in a short record.
				off := 24
				put16(b, off+4, 16)
				b[off+6] = 250
			})
		}, want: "name_len 250"},
	{name: "directory-contains-itself", base: func(b hostileBases) string { return b.ext4 },
		patch: func(t *testing.T, x *FS, img string) {
			fixture.Run(t, "debugfs", "-w", "-R", "link /sub /sub/self", img)
			fixture.Run(t, "debugfs", "-w", "-R", "link / /sub/root", img)
		}, want: "cycle"},
	{name: "groups-exceed-volume", base: func(b hostileBases) string { return b.ext4 },
		patch: superblockPatch(func(sb []byte) { put32(sb, 0x4, 0xFFFFFFF0) }), want: "superblock"},
	{name: "log-block-size-30", base: func(b hostileBases) string { return b.ext4 },
		patch: superblockPatch(func(sb []byte) { put32(sb, 0x18, 30) }), want: "s_log_block_size 30"},
	{name: "inode-size-0", base: func(b hostileBases) string { return b.ext4 },
		patch: superblockPatch(func(sb []byte) { put16(sb, 0x58, 0) }), want: "inode size 0"},
	{name: "inodes-per-group-huge", base: func(b hostileBases) string { return b.ext4 },
		patch: superblockPatch(func(sb []byte) { put32(sb, 0x28, 0x7FFFFFFF) }), want: "s_inodes_per_group"},
	{name: "inode-table-outside", base: func(b hostileBases) string { return b.ext4 },
		patch: func(t *testing.T, x *FS, img string) {
			gdt := int64(x.descBlock(0)) * x.blockSize
			put := make([]byte, 4)
			put32(put, 0, 0xFFFFFF00)
			patchImage(t, img, gdt+8, put)
		}, want: "inode table"},
	{name: "htree-node-points-to-itself", base: func(b hostileBases) string { return b.htree },
		patch: func(t *testing.T, x *FS, img string) { htreeCycle(t, x, img, false) }, lookup: "file-with-a-rather-long-name-01234"},
	{name: "htree-node-points-to-root", base: func(b hostileBases) string { return b.htree },
		patch: func(t *testing.T, x *FS, img string) { htreeCycle(t, x, img, true) }, lookup: "file-with-a-rather-long-name-01234"},
	{name: "htree-levels-lie", base: func(b hostileBases) string { return b.htree },
		patch: func(t *testing.T, x *FS, img string) {
			patchBlock(t, x, img, dirBlock(t, x, "big", 0), func(b []byte) { b[dxRootInfoOff+6] = 7 })
		}, lookup: "file-with-a-rather-long-name-01234"},
}

// htreeCycle makes every entry of the root's first dx_node point at that node itself (or at
// the root block).
func htreeCycle(t *testing.T, x *FS, img string, toRoot bool) {
	root, err := x.readBlock(dirBlock(t, x, "big", 0))
	if err != nil {
		t.Fatal(err)
	}
	if root[dxRootInfoOff+6] != 1 {
		t.Fatalf("base image has %d indirect levels, want 1", root[dxRootInfoOff+6])
	}
	nodeL := uint64(le32(root, dxRootInfoOff+8+4))
	target := uint32(nodeL)
	if toRoot {
		target = 0
	}
	patchBlock(t, x, img, dirBlock(t, x, "big", nodeL), func(b []byte) {
		count := int(le16(b, 8+2))
		for i := range count {
			put32(b, 8+8*i+4, target)
		}
	})
}

func TestHostile(t *testing.T) {
	bases := buildHostileBases(t)
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			img := copyImage(t, c.base(bases))
			c.patch(t, openImage(t, img), img)
			data, err := os.ReadFile(img)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan []error, 1)
			start := time.Now()
			go func() { done <- exercise(t, data) }()
			var errs []error
			select {
			case errs = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("reading the damaged image did not finish in 20 s")
			}
			t.Logf("%d errors in %v; first: %v", len(errs), time.Since(start), errors.Join(errs[:min(len(errs), 2)]...))
			if c.lookup != "" {
				// A damaged index must not hide names: Lookup falls back to a linear scan.
				x := openImage(t, img)
				if _, err := x.Lookup(inodeOf(t, x, "big"), c.lookup); err != nil {
					t.Errorf("Lookup(%q) through the damaged index: %v", c.lookup, err)
				}
			}
			if c.want == "" {
				return
			}
			for _, err := range errs {
				if strings.Contains(err.Error(), c.want) {
					if !errors.Is(err, filesystem.ErrCorrupt) && !strings.Contains(err.Error(), "cycle") {
						t.Errorf("error %q does not match filesystem.ErrCorrupt", err)
					}
					return
				}
			}
			t.Errorf("no error mentions %q: %v", c.want, errs)
		})
	}
}

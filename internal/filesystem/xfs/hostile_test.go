package xfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// Hostile images: a real image with one structure broken per case. Every case must end in an
// error naming the structure (errors.Is ErrCorrupt or fs.ErrNotExist), quickly, without panic,
// and exercise() over the whole image must still terminate.

var hostileBase struct {
	once  sync.Once
	img   string
	bytes []byte // the unedited image, copied for each case
	f     *FS
}

// hostileImage builds (once) a v5 image with every directory format and a btree-mapped file.
func hostileImage(t *testing.T) *memImage {
	t.Helper()
	fixture.Need(t, "mkfs.xfs")
	hostileBase.once.Do(func() {
		var files []fixture.File
		for i := range 3 {
			files = append(files, fixture.File{Path: fmt.Sprintf("sf/f%d", i), Data: []byte("sf")})
		}
		for i := range 20 {
			files = append(files, fixture.File{Path: fmt.Sprintf("blk/file-%02d-with-a-longer-name", i), Data: []byte("blk")})
		}
		for i := range 200 {
			files = append(files, fixture.File{Path: fmt.Sprintf("leaf/entry-%03d", i)})
		}
		for i := range 1200 {
			files = append(files, fixture.File{Path: fmt.Sprintf("node/node-entry-%05d", i)})
		}
		files = append(files,
			fixture.File{Path: "frag.bin", Data: bytes.Repeat([]byte("fragment"), 600*4096/8)},
			fixture.File{Path: "lnk", Link: "frag.bin"},
			fixture.File{Path: "far", Link: string(bytes.Repeat([]byte("./"), 300)) + "frag.bin"},
		)
		// The image outlives this test: build it under a directory the package owns for the run.
		hostileBase.img = fixture.XFS(&onceTB{T: t}, fixture.WriteTree(&onceTB{T: t}, files), 40)
		m := loadImage(t, hostileBase.img)
		hostileBase.bytes, hostileBase.f = m.b, m.f
	})
	if hostileBase.f == nil {
		t.Fatal("hostile base image could not be built")
	}
	return &memImage{b: append([]byte(nil), hostileBase.bytes...), f: hostileBase.f}
}

// onceTB keeps the shared image alive after the first hostile test ends: its TempDir lasts
// until TestMain removes it after all tests.
type onceTB struct {
	*testing.T
	dir string
}

func (o *onceTB) TempDir() string {
	if o.dir == "" {
		d, err := os.MkdirTemp("", "xfs-test-")
		if err != nil {
			o.Fatal(err)
		}
		sharedDirs = append(sharedDirs, d)
		o.dir = d
	}
	return o.dir
}

// expectCorrupt fails unless err reports corruption or a missing inode.
func expectCorrupt(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	if !errors.Is(err, filesystem.ErrCorrupt) && !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: error %v is neither corrupt nor not-exist", what, err)
	}
}

// finish opens the edited image, runs check, then exercise over everything with a deadline.
func finish(t *testing.T, m *memImage, check func(f *FS)) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f, err := Open(bytes.NewReader(m.b), int64(len(m.b)))
		if err != nil {
			return
		}
		if check != nil {
			check(f)
		}
		exercise(t, f, int64(len(m.b)))
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("hostile image: no answer within 20 s")
	}
}

func TestHostile(t *testing.T) {
	be := binary.BigEndian
	cases := []struct {
		name string
		edit func(t *testing.T, m *memImage) func(f *FS)
	}{
		{"bmbt node points to itself", func(t *testing.T, m *memImage) func(f *FS) {
			ino, nodes := deepFile(t, m)
			b := m.blockAt(t, nodes[0])
			be.PutUint64(b[bmbtHdrV5+8*((len(b)-bmbtHdrV5)/16):], nodes[0])
			return func(f *FS) { _, err := f.Open(ino); expectCorrupt(t, "Open", err) }
		}},
		{"bmbt leaf reached twice", func(t *testing.T, m *memImage) func(f *FS) {
			ino, nodes := deepFile(t, m)
			b := m.blockAt(t, nodes[0])
			ptrs := b[bmbtHdrV5+8*((len(b)-bmbtHdrV5)/16):]
			copy(ptrs[8:16], ptrs[0:8])
			return func(f *FS) { _, err := f.Open(ino); expectCorrupt(t, "Open", err) }
		}},
		{"bmbt root level 40", func(t *testing.T, m *memImage) func(f *FS) {
			ino, _ := deepFile(t, m)
			be.PutUint16(m.b[m.inodeOff(t, ino)+coreSizeV3:], 40)
			return func(f *FS) { _, err := f.Extents(ino); expectCorrupt(t, "Extents", err) }
		}},
		{"bmbt leaf numrecs beyond the block", func(t *testing.T, m *memImage) func(f *FS) {
			ino, nodes := deepFile(t, m)
			b := m.blockAt(t, nodes[0])
			leaf := be.Uint64(b[bmbtHdrV5+8*((len(b)-bmbtHdrV5)/16):])
			be.PutUint16(m.blockAt(t, leaf)[6:], 0xffff)
			return func(f *FS) { _, err := f.Open(ino); expectCorrupt(t, "Open", err) }
		}},
		{"inline extent count beyond the fork", func(t *testing.T, m *memImage) func(f *FS) {
			ino := m.ino(t, "blk/file-00-with-a-longer-name")
			be.PutUint32(m.b[m.inodeOff(t, ino)+76:], 0xffffffff)
			return func(f *FS) { _, err := f.Open(ino); expectCorrupt(t, "Open", err) }
		}},
		{"extent beyond its allocation group", func(t *testing.T, m *memImage) func(f *FS) {
			ino := m.ino(t, "blk/file-00-with-a-longer-name")
			fork := m.b[m.inodeOff(t, ino)+coreSizeV3:]
			copy(fork, encodeExtent(extent{off: 0, start: uint64(m.f.sb.agBlocks - 1), count: 1 << 20}))
			return func(f *FS) { _, err := f.Open(ino); expectCorrupt(t, "Open", err) }
		}},
		{"free-space btree levels 40", func(t *testing.T, m *memImage) func(f *FS) {
			be.PutUint32(m.agHeaderBytes(0, 1)[28:], 40)
			return func(f *FS) { expectCorrupt(t, "Unallocated", firstErr(f.Unallocated(context.Background()))) }
		}},
		{"free-space btree node points to itself", func(t *testing.T, m *memImage) func(f *FS) {
			agf := m.agHeaderBytes(0, 1)
			root := be.Uint32(agf[16:])
			be.PutUint32(agf[28:], 2) // the root becomes a node of level 1 ...
			b := m.b[m.f.sb.agBlockOffset(0, root):]
			be.PutUint16(b[4:], 1)
			be.PutUint16(b[6:], 1)
			maxrecs := (int(m.f.sb.blockSize) - sbtHdrV5) / (bnobtKeySize + shortPtrSize)
			be.PutUint32(b[sbtHdrV5+maxrecs*bnobtKeySize:], root) // ... whose child is itself
			return func(f *FS) { expectCorrupt(t, "Unallocated", firstErr(f.Unallocated(context.Background()))) }
		}},
		{"free-space leaf numrecs beyond the block", func(t *testing.T, m *memImage) func(f *FS) {
			root := be.Uint32(m.agHeaderBytes(0, 1)[16:])
			be.PutUint16(m.b[m.f.sb.agBlockOffset(0, root)+6:], 0xffff)
			return func(f *FS) { expectCorrupt(t, "Unallocated", firstErr(f.Unallocated(context.Background()))) }
		}},
		{"inode btree levels 40", func(t *testing.T, m *memImage) func(f *FS) {
			be.PutUint32(m.agHeaderBytes(0, 2)[24:], 40)
			return func(f *FS) { expectCorrupt(t, "Deleted", firstErr(f.Deleted(context.Background()))) }
		}},
		{"unlinked list loops", func(t *testing.T, m *memImage) func(f *FS) {
			ino := m.ino(t, "blk/file-01-with-a-longer-name")
			agino := uint32(ino & (1<<(m.f.sb.agBlkLog+m.f.sb.inoPBLog) - 1))
			be.PutUint32(m.agHeaderBytes(uint32(ino>>(m.f.sb.agBlkLog+m.f.sb.inoPBLog)), 2)[40:], agino)
			be.PutUint32(m.b[m.inodeOff(t, ino)+96:], agino) // next_unlinked: itself
			return func(f *FS) { expectCorrupt(t, "Deleted", firstErr(f.Deleted(context.Background()))) }
		}},
		{"dir free region of length 0", func(t *testing.T, m *memImage) func(f *FS) {
			dir, blk := m.dirBlock(t, "blk")
			p := m.firstEntry(t, blk, "file-03-with-a-longer-name")
			be.PutUint16(blk[p:], freeTag)
			be.PutUint16(blk[p+2:], 0)
			return func(f *FS) { _, err := f.ReadDir(dir); expectCorrupt(t, "ReadDir", err) }
		}},
		{"dir free region past the block", func(t *testing.T, m *memImage) func(f *FS) {
			dir, blk := m.dirBlock(t, "leaf")
			p := m.firstEntry(t, blk, "entry-007")
			be.PutUint16(blk[p:], freeTag)
			be.PutUint16(blk[p+2:], 0xfff8)
			return func(f *FS) { _, err := f.ReadDir(dir); expectCorrupt(t, "ReadDir", err) }
		}},
		{"dir block mapped twice", func(t *testing.T, m *memImage) func(f *FS) {
			dir := m.ino(t, "leaf")
			d, err := m.f.openDir(dir)
			if err != nil || d.n.format != formatExtents {
				t.Fatalf("leaf: %v", err)
			}
			// Map the first data block at file blocks 0..7, then keep the rest of the map.
			recs := []extent{}
			for i := range uint64(8) {
				recs = append(recs, extent{off: i, start: d.m[0].start, count: 1})
			}
			for _, e := range d.m {
				if e.off >= d.leafStart() {
					recs = append(recs, e)
				}
			}
			off := m.inodeOff(t, dir)
			be.PutUint32(m.b[off+76:], uint32(len(recs)))
			be.PutUint64(m.b[off+56:], 8*uint64(m.f.sb.blockSize))
			for i, r := range recs {
				copy(m.b[off+coreSizeV3+16*i:], encodeExtent(r))
			}
			return func(f *FS) {
				_, err := f.ReadDir(dir)
				expectCorrupt(t, "ReadDir", err)
				if err == nil || !strings.Contains(err.Error(), "mapped twice") {
					t.Errorf("ReadDir: %v, want the block mapped twice", err)
				}
			}
		}},
		{"dir entry name runs past the block", func(t *testing.T, m *memImage) func(f *FS) {
			dir, blk := m.dirBlock(t, "blk")
			p := m.firstEntry(t, blk, "file-19-with-a-longer-name")
			blk[p+8] = 255
			return func(f *FS) { _, err := f.ReadDir(dir); expectCorrupt(t, "ReadDir", err) }
		}},
		{"block dir tail counts more leaves than fit", func(t *testing.T, m *memImage) func(f *FS) {
			dir, blk := m.dirBlock(t, "blk")
			be.PutUint32(blk[len(blk)-8:], 0x7fffffff)
			return func(f *FS) {
				_, err := f.ReadDir(dir)
				expectCorrupt(t, "ReadDir", err)
				_, err = f.Lookup(dir, "file-00-with-a-longer-name")
				expectCorrupt(t, "Lookup", err)
			}
		}},
		{"dir entry inode beyond the groups", func(t *testing.T, m *memImage) func(f *FS) {
			dir, blk := m.dirBlock(t, "blk")
			p := m.firstEntry(t, blk, "file-04-with-a-longer-name")
			be.PutUint64(blk[p:], uint64(1000)<<(m.f.sb.agBlkLog+m.f.sb.inoPBLog))
			return func(f *FS) {
				e, err := f.Lookup(dir, "file-04-with-a-longer-name")
				if err != nil {
					t.Fatalf("Lookup: %v", err)
				}
				_, err = f.Stat(e.Ino)
				expectCorrupt(t, "Stat", err)
			}
		}},
		{"dir entry inode beyond its group's blocks", func(t *testing.T, m *memImage) func(f *FS) {
			dir, blk := m.dirBlock(t, "blk")
			p := m.firstEntry(t, blk, "file-05-with-a-longer-name")
			be.PutUint64(blk[p:], uint64(1<<(m.f.sb.agBlkLog+m.f.sb.inoPBLog))-1)
			return func(f *FS) {
				e, _ := f.Lookup(dir, "file-05-with-a-longer-name")
				_, err := f.Stat(e.Ino)
				expectCorrupt(t, "Stat", err)
			}
		}},
		{"hash node level 40", func(t *testing.T, m *memImage) func(f *FS) {
			dir := m.ino(t, "node")
			d, err := m.f.openDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			i := d.m.find(d.leafStart())
			off, _ := m.f.sb.fsbOffset(d.m[i].start + d.leafStart() - d.m[i].off)
			be.PutUint16(m.b[off+58:], 40)
			return func(f *FS) {
				// The index is broken; the scan fallback still finds the name.
				if e, err := f.Lookup(dir, "node-entry-00777"); err != nil || e.Name != "node-entry-00777" {
					t.Errorf("Lookup through a broken index: %+v, %v", e, err)
				}
				d, _ := f.openDir(dir)
				_, _, err := d.hashLookup([]byte("node-entry-00777"))
				expectCorrupt(t, "hashLookup", err)
			}
		}},
		{"short-form count beyond its size", func(t *testing.T, m *memImage) func(f *FS) {
			dir := m.ino(t, "sf")
			m.b[m.inodeOff(t, dir)+coreSizeV3] = 200
			return func(f *FS) { _, err := f.ReadDir(dir); expectCorrupt(t, "ReadDir", err) }
		}},
		{"short-form size beyond the fork", func(t *testing.T, m *memImage) func(f *FS) {
			dir := m.ino(t, "sf")
			be.PutUint64(m.b[m.inodeOff(t, dir)+56:], 1<<40)
			m.b[m.inodeOff(t, dir)+coreSizeV3] = 255
			return func(f *FS) { _, err := f.ReadDir(dir); expectCorrupt(t, "ReadDir", err) }
		}},
		{"inline symlink longer than its fork", func(t *testing.T, m *memImage) func(f *FS) {
			ino := m.ino(t, "lnk")
			be.PutUint64(m.b[m.inodeOff(t, ino)+56:], 1000)
			return func(f *FS) { _, err := f.ReadLink(ino); expectCorrupt(t, "ReadLink", err) }
		}},
		{"symlink longer than XFS allows", func(t *testing.T, m *memImage) func(f *FS) {
			ino := m.ino(t, "far")
			be.PutUint64(m.b[m.inodeOff(t, ino)+56:], 1<<40)
			return func(f *FS) { _, err := f.ReadLink(ino); expectCorrupt(t, "ReadLink", err) }
		}},
		{"attribute fork offset beyond the inode", func(t *testing.T, m *memImage) func(f *FS) {
			ino := m.ino(t, "blk/file-02-with-a-longer-name")
			m.b[m.inodeOff(t, ino)+82] = 255
			return func(f *FS) { _, err := f.Stat(ino); expectCorrupt(t, "Stat", err) }
		}},
		{"negative size", func(t *testing.T, m *memImage) func(f *FS) {
			ino := m.ino(t, "frag.bin")
			be.PutUint64(m.b[m.inodeOff(t, ino)+56:], 1<<63)
			return func(f *FS) { _, err := f.Stat(ino); expectCorrupt(t, "Stat", err) }
		}},
		{"huge size with one extent", func(t *testing.T, m *memImage) func(f *FS) {
			ino := m.ino(t, "frag.bin")
			be.PutUint64(m.b[m.inodeOff(t, ino)+56:], 1<<62)
			return func(f *FS) {
				r, err := f.Open(ino)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 8192)
				if n, err := r.ReadAt(buf, 1<<61); n != len(buf) || err != nil || !bytes.Equal(buf, make([]byte, 8192)) {
					t.Errorf("read far past the data: %d, %v (want zeros)", n, err)
				}
			}
		}},
		{"agcount huge with matching dblocks", func(t *testing.T, m *memImage) func(f *FS) {
			be.PutUint32(m.b[88:], 0xffffffff)
			be.PutUint64(m.b[8:], uint64(0xffffffff)*uint64(m.f.sb.agBlocks))
			return func(f *FS) {
				start := time.Now()
				expectedErr(t, "Unallocated", firstErr(f.Unallocated(context.Background())))
				expectedErr(t, "Deleted", firstErr(f.Deleted(context.Background())))
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("residual walks over 2^32 groups took %v", d)
				}
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := hostileImage(t)
			check := c.edit(t, m)
			finish(t, m, check)
		})
	}
}

// TestHostileSuperblock covers superblocks that must not open.
func TestHostileSuperblock(t *testing.T) {
	be := binary.BigEndian
	for _, c := range []struct {
		name string
		edit func(b []byte)
	}{
		{"blocklog 30", func(b []byte) { b[120] = 30; be.PutUint32(b[4:], 1<<30) }},
		{"blocksize not a power of two", func(b []byte) { be.PutUint32(b[4:], 4097) }},
		{"agcount huge", func(b []byte) { be.PutUint32(b[88:], 0xffffffff) }},
		{"agcount zero", func(b []byte) { be.PutUint32(b[88:], 0) }},
		{"agblocks tiny", func(b []byte) { be.PutUint32(b[84:], 1) }},
		{"agblklog wrong", func(b []byte) { b[124] = 31 }},
		{"inode size beyond block", func(b []byte) { be.PutUint16(b[104:], 8192); b[122] = 13 }},
		{"version 3", func(b []byte) { be.PutUint16(b[100:], be.Uint16(b[100:])&^0xf|3) }},
		{"dir block 1 MiB", func(b []byte) { b[192] = 8 }},
		{"root inode beyond the groups", func(b []byte) { be.PutUint64(b[56:], 1<<62) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := hostileImage(t)
			c.edit(m.b)
			r := bytes.NewReader(m.b)
			if Detect(r, int64(len(m.b))) && c.name != "root inode beyond the groups" {
				t.Error("Detect accepts it")
			}
			_, err := Open(r, int64(len(m.b)))
			if !errors.Is(err, filesystem.ErrCorrupt) {
				t.Errorf("Open: %v, want a corrupt superblock error", err)
			}
		})
	}
	for _, size := range []int64{0, 100, 511} {
		if Detect(bytes.NewReader(make([]byte, size)), size) {
			t.Errorf("Detect accepts %d bytes", size)
		}
	}
}

// deepFile rebuilds frag.bin as a two-level bmbt and returns it with its node blocks.
func deepFile(t *testing.T, m *memImage) (uint64, []uint64) {
	t.Helper()
	ino := m.ino(t, "frag.bin")
	n, err := m.f.readInode(ino, false)
	if err != nil {
		t.Fatal(err)
	}
	orig, err := m.f.dataMap(n)
	if err != nil || len(orig) != 1 {
		t.Fatalf("frag.bin: %v %v", orig, err)
	}
	var recs []extent
	for i := range uint64(orig[0].count) {
		recs = append(recs, extent{off: i, start: orig[0].start + i, count: 1})
	}
	m.buildDeepBmbt(t, ino, recs, 16)
	// The node blocks are the first two free blocks buildDeepBmbt took.
	fork := m.b[m.inodeOff(t, ino)+coreSizeV3:]
	rootMax := (int(m.f.sb.inodeSize) - coreSizeV3 - 4) / 16
	return ino, []uint64{binary.BigEndian.Uint64(fork[4+8*rootMax:]), binary.BigEndian.Uint64(fork[4+8*rootMax+8:])}
}

// agHeaderBytes returns sector idx of group agno's headers for editing.
func (m *memImage) agHeaderBytes(agno uint32, idx int64) []byte {
	off := m.f.sb.agBlockOffset(agno, 0) + idx*int64(m.f.sb.sectSize)
	return m.b[off : off+int64(m.f.sb.sectSize)]
}

// dirBlock returns a directory's inode and its first data block for editing.
func (m *memImage) dirBlock(t *testing.T, p string) (uint64, []byte) {
	t.Helper()
	ino := m.ino(t, p)
	d, err := m.f.openDir(ino)
	if err != nil || d.m == nil {
		t.Fatalf("%s: %v", p, err)
	}
	off, _ := m.f.sb.fsbOffset(d.m[0].start)
	return ino, m.b[off : off+int64(m.f.sb.dirBlockSize())]
}

// firstEntry finds the offset of a named entry in a data block.
func (m *memImage) firstEntry(t *testing.T, blk []byte, name string) int {
	t.Helper()
	at := -1
	m.f.walkDataBlock(blk, "test", func(e rawDirent) bool {
		if string(e.name) == name {
			at = e.off
			return false
		}
		return true
	}, nil)
	if at < 0 {
		t.Fatalf("no entry %q in the block", name)
	}
	return at
}

// firstErr returns the first error an iterator yields.
func firstErr[T any](seq func(yield func(T, error) bool)) error {
	for _, err := range seq {
		if err != nil {
			return err
		}
	}
	return nil
}

// expectedErr fails unless err is non-nil (any error: the point is that the walk ended).
func expectedErr(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
	}
}

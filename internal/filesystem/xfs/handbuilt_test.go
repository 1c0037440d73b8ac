package xfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/snapwatch/snapwatch/internal/filesystem"
	"github.com/snapwatch/snapwatch/internal/fixture"
)

// Hand-edited images: a real image made by mkfs.xfs, loaded into memory and changed in place to
// hold structures mkfs never writes (deep block-map btrees, freed inodes) or hostile ones.

// memImage is an image held in memory for editing.
type memImage struct {
	b []byte
	f *FS // reader over the unedited bytes, to locate structures
}

func loadImage(t testing.TB, img string) *memImage {
	t.Helper()
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(bytes.NewReader(append([]byte(nil), b...)), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return &memImage{b: b, f: f}
}

// open opens the edited bytes.
func (m *memImage) open(t testing.TB) *FS {
	t.Helper()
	f, err := Open(bytes.NewReader(m.b), int64(len(m.b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// save writes the edited bytes to a file, for xfs_db.
func (m *memImage) save(t testing.TB) string {
	t.Helper()
	p := t.TempDir() + "/edited.img"
	if err := os.WriteFile(p, m.b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// ino resolves a path to an inode number.
func (m *memImage) ino(t testing.TB, p string) uint64 {
	t.Helper()
	fi, err := filesystem.New(m.f).Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*filesystem.Stat).Inode
}

// inodeOff is the byte offset of an inode.
func (m *memImage) inodeOff(t testing.TB, ino uint64) int {
	t.Helper()
	off, ok := m.f.sb.inoOffset(ino)
	if !ok {
		t.Fatalf("inode %d does not decode", ino)
	}
	return int(off)
}

// coreSize is the inode core size, where the data fork starts.
func (m *memImage) coreSize() int {
	if m.f.sb.version == 5 {
		return coreSizeV3
	}
	return coreSizeV2
}

// freeBlocks returns n free file-system block numbers (fsblock form) from the free space.
func (m *memImage) freeBlocks(t testing.TB, n int) []uint64 {
	t.Helper()
	sb := m.f.sb
	var out []uint64
	for r, err := range m.f.Unallocated(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		for off := r.Off; off < r.Off+r.Len && len(out) < n; off += int64(sb.blockSize) {
			blk := uint64(off) >> sb.blockLog
			agno, agbno := blk/uint64(sb.agBlocks), blk%uint64(sb.agBlocks)
			if agbno < 16 {
				continue // keep clear of the AG headers and free list
			}
			out = append(out, agno<<sb.agBlkLog|agbno)
		}
		if len(out) == n {
			return out
		}
	}
	t.Fatalf("only %d free blocks", len(out))
	return nil
}

// blockAt returns the bytes of a file-system block (fsblock form) for editing.
func (m *memImage) blockAt(t testing.TB, fsb uint64) []byte {
	t.Helper()
	off, ok := m.f.sb.fsbOffset(fsb)
	if !ok {
		t.Fatalf("block %d does not decode", fsb)
	}
	return m.b[off : off+int64(m.f.sb.blockSize)]
}

// encodeExtent packs an extent record (the inverse of decodeExtent).
func encodeExtent(e extent) []byte {
	var hi, lo uint64
	if e.unwritten {
		hi = 1 << 63
	}
	hi |= e.off<<9 | e.start>>43
	lo = e.start<<21 | uint64(e.count)
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return b
}

// bmbtBlock fills a long-form btree block header; v5 headers also name the block and owner.
func (m *memImage) bmbtBlock(b []byte, fsb uint64, level, numrecs int, owner uint64) int {
	clear(b)
	be := binary.BigEndian
	if m.f.sb.version == 5 {
		be.PutUint32(b, bmbtMagicV5)
		copy(b[40:56], m.f.sb.uuid[:])
		be.PutUint64(b[56:], owner)
	} else {
		be.PutUint32(b, bmbtMagicV4)
	}
	be.PutUint16(b[4:], uint16(level))
	be.PutUint16(b[6:], uint16(numrecs))
	be.PutUint64(b[8:], ^uint64(0))  // no left sibling
	be.PutUint64(b[16:], ^uint64(0)) // no right sibling
	if m.f.sb.version == 5 {
		off, _ := m.f.sb.fsbOffset(fsb)
		be.PutUint64(b[24:], uint64(off)>>9)
		return bmbtHdrV5
	}
	return bmbtHdrV4
}

// buildDeepBmbt rewrites the data fork of inode ino as a two-level block-map btree (root in the
// inode, two node blocks, leaves of perLeaf records) over the given records.
func (m *memImage) buildDeepBmbt(t testing.TB, ino uint64, recs []extent, perLeaf int) {
	t.Helper()
	be := binary.BigEndian
	bs := int(m.f.sb.blockSize)
	nLeaves := (len(recs) + perLeaf - 1) / perLeaf
	blocks := m.freeBlocks(t, nLeaves+2)
	nodes, leaves := blocks[:2], blocks[2:]
	hdr := 0
	for i := range nLeaves {
		b := m.blockAt(t, leaves[i])
		part := recs[i*perLeaf : min(len(recs), (i+1)*perLeaf)]
		hdr = m.bmbtBlock(b, leaves[i], 0, len(part), ino)
		m.siblings(b, leaves, i)
		for j, r := range part {
			copy(b[hdr+16*j:], encodeExtent(r))
		}
	}
	maxrecs := (bs - hdr) / 16
	half := (nLeaves + 1) / 2
	var nodeKeys []uint64
	for n := range 2 {
		b := m.blockAt(t, nodes[n])
		children := leaves[n*half : min(nLeaves, (n+1)*half)]
		m.bmbtBlock(b, nodes[n], 1, len(children), ino)
		m.siblings(b, nodes, n)
		for j, leaf := range children {
			key := recs[(n*half+j)*perLeaf].off
			be.PutUint64(b[hdr+8*j:], key)
			be.PutUint64(b[hdr+8*maxrecs+8*j:], leaf)
		}
		nodeKeys = append(nodeKeys, recs[n*half*perLeaf].off)
	}
	off := m.inodeOff(t, ino)
	raw := m.b[off : off+int(m.f.sb.inodeSize)]
	raw[5] = formatBtree
	be.PutUint32(raw[76:], uint32(len(recs)))
	be.PutUint64(raw[64:], uint64(len(recs)+len(blocks))) // di_nblocks: data plus btree blocks
	fork := raw[m.coreSize():]
	if raw[82] != 0 {
		fork = fork[:int(raw[82])*8]
	}
	clear(fork)
	rootMax := (len(fork) - 4) / 16
	be.PutUint16(fork, 2)
	be.PutUint16(fork[2:], 2)
	for n := range 2 {
		be.PutUint64(fork[4+8*n:], nodeKeys[n])
		be.PutUint64(fork[4+8*rootMax+8*n:], nodes[n])
	}
}

// siblings links block i of a btree level to its neighbours, as real btrees are.
func (m *memImage) siblings(b []byte, level []uint64, i int) {
	if i > 0 {
		binary.BigEndian.PutUint64(b[8:], level[i-1])
	}
	if i+1 < len(level) {
		binary.BigEndian.PutUint64(b[16:], level[i+1])
	}
}

// TestHandBuiltBmbt splits a contiguous file into hundreds of one-block extents (with holes
// and unwritten extents) under a two-level block-map btree and reads it back; on v4 xfs_db
// decodes the same btree independently.
func TestHandBuiltBmbt(t *testing.T) {
	for _, v := range []variant{variants[0], variants[1]} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			data := bytes.Repeat([]byte("0123456789abcdef"), 600*4096/16)
			src := fixture.WriteTree(t, []fixture.File{{Path: "frag.bin", Data: data}})
			img := fixture.XFS(t, src, 64, v.args...)
			m := loadImage(t, img)
			ino := m.ino(t, "frag.bin")
			n, err := m.f.readInode(ino, false)
			if err != nil {
				t.Fatal(err)
			}
			orig, err := m.f.dataMap(n)
			if err != nil || len(orig) != 1 || orig[0].count != 600 {
				t.Fatalf("frag.bin is not one 600-block extent: %v %v", orig, err)
			}
			want := append([]byte(nil), data...)
			var recs []extent
			for i := range uint64(600) {
				switch i % 10 {
				case 9: // hole
					clear(want[i*4096 : (i+1)*4096])
					continue
				case 4: // unwritten
					clear(want[i*4096 : (i+1)*4096])
				}
				recs = append(recs, extent{off: i, start: orig[0].start + i, count: 1, unwritten: i%10 == 4})
			}
			m.buildDeepBmbt(t, ino, recs, 10)
			f := m.open(t)
			r, err := f.Open(ino)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(data))
			if _, err := r.ReadAt(got, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("content through the hand-built btree differs")
			}
			exts, err := f.Extents(ino)
			if err != nil || len(exts) != len(recs) {
				t.Fatalf("Extents: %d extents, %v; want %d", len(exts), err, len(recs))
			}
			if st, _ := f.Stat(ino); !st.Sparse {
				t.Error("Stat.Sparse is false for a file with holes")
			}
			if v.name == "v4" {
				db := dbInodes(t, m.save(t), []uint64{ino}, true)[ino]
				if len(db.extents) != len(recs) {
					t.Fatalf("xfs_db bmap reads %d extents, want %d: %v", len(db.extents), len(recs), db.extents)
				}
				for i, e := range db.extents {
					r := recs[i]
					if e.off != r.off || e.count != 1 || e.unwritten != r.unwritten {
						t.Fatalf("xfs_db extent %d = %+v, built %+v", i, e, r)
					}
				}
			}
		})
	}
}

// TestFreedInodeWithExtents simulates what a snapshot taken before the journal is checkpointed
// can hold: an inode marked free in the inode btree whose core still maps its data, part of it
// already back in the free-space btree, and its name turned into unused directory space. Edited
// on a v4 image (no CRCs), so xfs_db can check the edited free space independently.
func TestFreedInodeWithExtents(t *testing.T) {
	var files []fixture.File
	for i := range 12 {
		files = append(files, fixture.File{Path: fmt.Sprintf("d/file-%02d", i), Data: []byte("keep")})
	}
	secret := bytes.Repeat([]byte("-----BEGIN RSA PRIVATE KEY----- "), 625) // 20,000 bytes, 5 blocks
	files = append(files, fixture.File{Path: "d/id_rsa", Data: secret, Mode: 0o600})
	img := fixture.XFS(t, fixture.WriteTree(t, files), 64, "-m", "crc=0")
	m := loadImage(t, img)
	sb := m.f.sb
	be := binary.BigEndian
	ino := m.ino(t, "d/id_rsa")
	n, err := m.f.readInode(ino, false)
	if err != nil {
		t.Fatal(err)
	}
	ext, err := m.f.dataMap(n)
	if err != nil || len(ext) != 1 || ext[0].count != 5 {
		t.Fatalf("id_rsa is not one 5-block extent: %v %v", ext, err)
	}

	// 1. Mark the inode free in its inode btree record (a one-level tree in so small a group).
	agno := uint32(ino >> (sb.agBlkLog + sb.inoPBLog))
	agino := uint32(ino & (1<<(sb.agBlkLog+sb.inoPBLog) - 1))
	ai, err := m.f.readAGI(agno)
	if err != nil || ai.level != 1 {
		t.Fatalf("AGI %d: level %d, %v", agno, ai.level, err)
	}
	leaf := m.b[sb.agBlockOffset(agno, ai.root):]
	marked := false
	for i := range int(be.Uint16(leaf[6:])) {
		rec := leaf[sbtHdrV4+i*inobtRecSize:]
		if start := be.Uint32(rec); agino >= start && agino < start+64 {
			be.PutUint64(rec[8:], be.Uint64(rec[8:])|1<<(agino-start))
			be.PutUint32(rec[4:], be.Uint32(rec[4:])+1)
			marked = true
		}
	}
	if !marked {
		t.Fatal("no inode btree record holds the inode")
	}

	// 2. Give the first 3 of its 5 blocks back to the by-block free-space btree.
	freed := 3
	agbno := uint32(ext[0].start & (1<<sb.agBlkLog - 1))
	af, err := m.f.readAGF(uint32(ext[0].start >> sb.agBlkLog))
	if err != nil || af.bnoLevel != 1 {
		t.Fatalf("AGF: level %d, %v", af.bnoLevel, err)
	}
	bleaf := m.b[sb.agBlockOffset(af.agno, af.bnoRoot):]
	nrec := int(be.Uint16(bleaf[6:]))
	recs := bleaf[sbtHdrV4:]
	at := 0
	for at < nrec && be.Uint32(recs[at*8:]) < agbno {
		at++
	}
	copy(recs[(at+1)*8:(nrec+1)*8], recs[at*8:nrec*8])
	be.PutUint32(recs[at*8:], agbno)
	be.PutUint32(recs[at*8+4:], uint32(freed))
	be.PutUint16(bleaf[6:], uint16(nrec+1))

	// 3. Turn its directory entry into unused space, as the kernel does, and mark its hash pair stale.
	d, err := m.f.openDir(m.ino(t, "d"))
	if err != nil {
		t.Fatal(err)
	}
	off, _ := sb.fsbOffset(d.m[0].start)
	blk := m.b[off : off+int64(sb.dirBlockSize())]
	layout, err := m.f.walkDataBlock(blk, "d", func(e rawDirent) bool {
		if string(e.name) == "id_rsa" {
			size := m.f.dataEntrySize(len(e.name))
			be.PutUint16(blk[e.off:], freeTag)
			be.PutUint16(blk[e.off+2:], uint16(size))
			be.PutUint16(blk[e.off+size-2:], uint16(e.off))
			for i := range layout0(blk) {
				pair := blk[len(blk)-blockTailSize-(layout0(blk)-i)*leafEntrySize:]
				if int(be.Uint32(pair[4:]))<<dataAlignShift == e.off {
					be.PutUint32(pair[4:], nullDataPtr)
					tail := blk[len(blk)-4:]
					be.PutUint32(tail, be.Uint32(tail)+1)
				}
			}
			return false
		}
		return true
	}, nil)
	if err != nil || !layout.blockForm {
		t.Fatalf("d is not a block directory: %v", err)
	}

	f := m.open(t)
	if _, err := filesystem.New(f).Stat("d/id_rsa"); err == nil {
		t.Fatal("d/id_rsa is still listed after the edit")
	}
	var found []filesystem.Deleted
	for del, err := range f.Deleted(context.Background()) {
		if err != nil {
			t.Fatalf("Deleted: %v", err)
		}
		found = append(found, del)
	}
	if len(found) != 1 {
		t.Fatalf("Deleted gave %d entries, want 1: %+v", len(found), found)
	}
	del := found[0]
	if del.Path != "/d/id_rsa" || del.Ino != ino || del.Size != int64(len(secret)) || del.Mode != 0o600 {
		t.Errorf("Deleted = %+v, want /d/id_rsa inode %d size %d mode 0600", del, ino, len(secret))
	}
	if want := int64(freed) * int64(sb.blockSize); del.Recovered != want {
		t.Errorf("Recovered = %d, want %d (the blocks now free)", del.Recovered, want)
	}
	if del.Content == nil {
		t.Fatal("no content")
	}
	got := make([]byte, del.Size)
	if _, err := del.Content.ReadAt(got, 0); err != nil || !bytes.Equal(got, secret) {
		t.Errorf("content differs (%v)", err)
	}
	checkUnallocated(t, f, m.save(t))
}

// layout0 is the number of hash pairs at the end of a block-form directory block.
func layout0(blk []byte) int {
	return int(binary.BigEndian.Uint32(blk[len(blk)-blockTailSize:]))
}

// TestRealtimeFile flags a file as living on the realtime device, which is not part of the
// volume: it still lists and stats, but its content is refused as unsupported.
func TestRealtimeFile(t *testing.T) {
	src := fixture.WriteTree(t, []fixture.File{{Path: "rt.bin", Data: bytes.Repeat([]byte("r"), 10000)}})
	m := loadImage(t, fixture.XFS(t, src, 64))
	ino := m.ino(t, "rt.bin")
	flags := m.b[m.inodeOff(t, ino)+90:]
	binary.BigEndian.PutUint16(flags, binary.BigEndian.Uint16(flags)|flagRealtime)
	f := m.open(t)
	if st, err := f.Stat(ino); err != nil || st.Size != 10000 {
		t.Fatalf("Stat: %+v, %v", st, err)
	}
	if _, err := f.Open(ino); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Open: %v, want errors.ErrUnsupported", err)
	}
	if _, err := f.Extents(ino); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Extents: %v, want errors.ErrUnsupported", err)
	}
}

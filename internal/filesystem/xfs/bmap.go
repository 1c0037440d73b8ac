package xfs

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Data-fork mapping: packed 128-bit extent records, either inline in the inode (extents format)
// or in the leaves of a block-map btree (bmbt) whose root lives in the inode (btree format).
const (
	bmbtMagicV4   = 0x424d4150 // "BMAP"
	bmbtMagicV5   = 0x424d4133 // "BMA3"
	bmbtHdrV4     = 24         // magic, level, numrecs, leftsib, rightsib (64-bit)
	bmbtHdrV5     = 72         // + blkno, lsn, uuid, owner, crc, pad
	extentRecSize = 16
	bmbtMaxLevels = 12 // XFS needs at most 9 levels even with 512-byte blocks; deeper is corrupt

	// maxExtents caps the mapping of one file: 1 Mi extents of 24 bytes = 24 MiB. A file
	// fragmented beyond that is refused rather than mapped without bound.
	maxExtents = 1 << 20
	maxFileOff = 1<<54 - 1 // br_startoff is 54 bits
)

// extent maps count file blocks from file block off to file-system block start.
type extent struct {
	off       uint64
	start     uint64 // fsblock: agno << agblklog | agbno
	count     uint32
	unwritten bool
}

func decodeExtent(b []byte) extent {
	hi := binary.BigEndian.Uint64(b)
	lo := binary.BigEndian.Uint64(b[8:])
	return extent{
		unwritten: hi>>63 != 0,
		off:       (hi >> 9) & maxFileOff,
		start:     (hi&0x1ff)<<43 | lo>>21,
		count:     uint32(lo & (1<<21 - 1)),
	}
}

// forkMap is the sorted, checked block map of a data fork.
type forkMap []extent

// find returns the index of the extent holding file block b, or -1 when b falls in a hole.
func (m forkMap) find(b uint64) int {
	i := sort.Search(len(m), func(i int) bool { return m[i].off+uint64(m[i].count) > b })
	if i < len(m) && m[i].off <= b {
		return i
	}
	return -1
}

// mapper collects and checks the extent records of one inode.
type mapper struct {
	f       *FS
	what    string
	limit   int
	out     forkMap
	visited map[uint64]bool // bmbt blocks already read: a DAG or cycle is corrupt
}

// add checks one record against the volume and the previous record.
func (m *mapper) add(e extent) error {
	if len(m.out) >= m.limit {
		return filesystem.Corrupt("xfs", m.what, "more than %d extents", m.limit)
	}
	if e.count == 0 {
		return filesystem.Corrupt("xfs", m.what, "extent %d has no blocks", len(m.out))
	}
	if e.off+uint64(e.count) > maxFileOff {
		return filesystem.Corrupt("xfs", m.what, "extent %d ends past the largest file offset", len(m.out))
	}
	sb := m.f.sb
	agbno := e.start & (1<<sb.agBlkLog - 1)
	if _, ok := sb.fsbOffset(e.start); !ok || agbno+uint64(e.count) > uint64(sb.agLength(uint32(e.start>>sb.agBlkLog))) {
		return filesystem.Corrupt("xfs", m.what, "extent %d (block %d, %d blocks) lies outside its allocation group", len(m.out), e.start, e.count)
	}
	if n := len(m.out); n > 0 && m.out[n-1].off+uint64(m.out[n-1].count) > e.off {
		return filesystem.Corrupt("xfs", m.what, "extent %d at file block %d overlaps or precedes the one before", n, e.off)
	}
	m.out = append(m.out, e)
	return nil
}

// dataMap returns the block map of an inode's data fork (extents or btree format).
func (f *FS) dataMap(n *inode) (forkMap, error) {
	what := fmt.Sprintf("inode %d data fork", n.ino)
	limit := maxExtents
	if n.nextents < uint64(limit) {
		limit = int(n.nextents)
	} else if n.nextents > maxExtents {
		return nil, filesystem.Corrupt("xfs", what, "%d extents exceed the cap of %d", n.nextents, maxExtents)
	}
	m := &mapper{f: f, what: what, limit: limit}
	switch n.format {
	case formatExtents:
		if n.nextents*extentRecSize > uint64(len(n.dfork)) {
			return nil, filesystem.Corrupt("xfs", what, "%d extents do not fit the %d-byte fork", n.nextents, len(n.dfork))
		}
		for i := 0; i < int(n.nextents); i++ {
			if err := m.add(decodeExtent(n.dfork[i*extentRecSize:])); err != nil {
				return nil, err
			}
		}
	case formatBtree:
		if err := m.walkRoot(n.dfork); err != nil {
			return nil, err
		}
	default:
		return nil, filesystem.Corrupt("xfs", what, "format %d has no block map", n.format)
	}
	return m.out, nil
}

// walkRoot reads the bmbt root kept in the inode (xfs_bmdr_block: level, numrecs, keys, ptrs;
// the pointer array starts after room for the largest number of keys the fork can hold).
func (m *mapper) walkRoot(root []byte) error {
	if len(root) < 4 {
		return filesystem.Corrupt("xfs", m.what, "btree root of %d bytes", len(root))
	}
	level := int(binary.BigEndian.Uint16(root))
	numrecs := int(binary.BigEndian.Uint16(root[2:]))
	maxrecs := (len(root) - 4) / 16
	if level < 1 || level > bmbtMaxLevels {
		return filesystem.Corrupt("xfs", m.what, "btree root level %d is outside 1..%d", level, bmbtMaxLevels)
	}
	if numrecs < 1 || numrecs > maxrecs {
		return filesystem.Corrupt("xfs", m.what, "btree root holds %d pointers, room for 1..%d", numrecs, maxrecs)
	}
	m.visited = map[uint64]bool{}
	ptrs := root[4+maxrecs*8:]
	for i := 0; i < numrecs; i++ {
		if err := m.walkBlock(binary.BigEndian.Uint64(ptrs[i*8:]), level-1); err != nil {
			return err
		}
	}
	return nil
}

// walkBlock reads one long-form bmbt block and descends; every block is read at most once and
// its level must be exactly one below its parent's, so the walk ends.
func (m *mapper) walkBlock(fsb uint64, level int) error {
	f := m.f
	off, ok := f.sb.fsbOffset(fsb)
	if !ok {
		return filesystem.Corrupt("xfs", m.what, "btree pointer to block %d outside the file system", fsb)
	}
	if m.visited[fsb] {
		return filesystem.Corrupt("xfs", m.what, "btree block %d is reached twice (cycle)", fsb)
	}
	m.visited[fsb] = true
	b, err := f.vol.block(off)
	if err != nil {
		return fmt.Errorf("xfs: %s btree block %d: %w", m.what, fsb, err)
	}
	be := binary.BigEndian
	hdr := bmbtHdrV4
	want := uint32(bmbtMagicV4)
	if f.sb.version == 5 {
		hdr, want = bmbtHdrV5, bmbtMagicV5
	}
	if got := be.Uint32(b); got != want {
		return filesystem.Corrupt("xfs", m.what, "btree block %d magic %#08x, want %#08x", fsb, got, want)
	}
	if got := int(be.Uint16(b[4:])); got != level {
		return filesystem.Corrupt("xfs", m.what, "btree block %d has level %d, want %d", fsb, got, level)
	}
	numrecs := int(be.Uint16(b[6:]))
	maxrecs := (len(b) - hdr) / 16 // leaf records and node key+pointer pairs are both 16 bytes
	if numrecs < 1 || numrecs > maxrecs {
		return filesystem.Corrupt("xfs", m.what, "btree block %d holds %d records, room for 1..%d", fsb, numrecs, maxrecs)
	}
	if level == 0 {
		for i := 0; i < numrecs; i++ {
			if err := m.add(decodeExtent(b[hdr+i*extentRecSize:])); err != nil {
				return err
			}
		}
		return nil
	}
	ptrs := b[hdr+maxrecs*8:]
	for i := 0; i < numrecs; i++ {
		if err := m.walkBlock(be.Uint64(ptrs[i*8:]), level-1); err != nil {
			return err
		}
	}
	return nil
}

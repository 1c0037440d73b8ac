package xfs

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Per-AG btrees (free space by block, inodes) use short-form blocks: a header with 32-bit
// sibling pointers, then records (leaves) or keys followed by 32-bit child pointers (nodes); the
// pointer array starts after room for the largest number of keys the block can hold.
const (
	sbtHdrV4       = 16         // magic, level, numrecs, leftsib, rightsib
	sbtHdrV5       = 56         // + blkno, lsn, uuid, owner, crc
	agBtreeLevels  = 9          // XFS_BTREE_MAXLEVELS of the per-AG trees; deeper is corrupt
	bnobtMagicV4   = 0x41425442 // "ABTB"
	bnobtMagicV5   = 0x41423342 // "AB3B"
	inobtMagicV4   = 0x49414254 // "IABT"
	inobtMagicV5   = 0x49414233 // "IAB3"
	bnobtRecSize   = 8          // startblock, blockcount
	bnobtKeySize   = 8
	inobtRecSize   = 16 // startino, holemask/count/freecount (or freecount), free mask
	inobtKeySize   = 4
	shortPtrSize   = 4
	ctxCheckBlocks = 64 // how often a walk looks at its context
)

// agBtree describes one kind of per-AG btree.
type agBtree struct {
	name             string
	magicV4, magicV5 uint32
	recSize, keySize int
}

var (
	bnoBtree = agBtree{"free-space (by block) btree", bnobtMagicV4, bnobtMagicV5, bnobtRecSize, bnobtKeySize}
	inoBtree = agBtree{"inode btree", inobtMagicV4, inobtMagicV5, inobtRecSize, inobtKeySize}
)

// agWalk walks one per-AG btree in key order, calling visit for each leaf record; keep, when
// set, decides from a child's key range [lo, hi) (hi nil for the last child) whether to descend.
type agWalk struct {
	f       *FS
	ctx     context.Context
	t       agBtree
	agno    uint32
	agLen   uint32
	what    string
	keep    func(lo, hi []byte) bool
	visit   func(rec []byte) bool
	visited map[uint32]bool
	stopped bool
}

func (f *FS) walkAGBtree(ctx context.Context, t agBtree, agno, root, levels uint32, keep func(lo, hi []byte) bool, visit func(rec []byte) bool) error {
	w := &agWalk{f: f, ctx: ctx, t: t, agno: agno, agLen: f.sb.agLength(agno),
		what: fmt.Sprintf("AG %d %s", agno, t.name), keep: keep, visit: visit, visited: map[uint32]bool{}}
	if levels < 1 || levels > agBtreeLevels {
		return filesystem.Corrupt("xfs", w.what, "%d levels, outside 1..%d", levels, agBtreeLevels)
	}
	return w.block(root, int(levels)-1)
}

func (w *agWalk) block(agbno uint32, level int) error {
	if w.stopped {
		return nil
	}
	if agbno == 0 || agbno >= w.agLen {
		return filesystem.Corrupt("xfs", w.what, "pointer to block %d outside the %d-block group", agbno, w.agLen)
	}
	if w.visited[agbno] {
		return filesystem.Corrupt("xfs", w.what, "block %d is reached twice (cycle)", agbno)
	}
	w.visited[agbno] = true
	if len(w.visited)%ctxCheckBlocks == 0 {
		if err := w.ctx.Err(); err != nil {
			return err
		}
	}
	b, err := w.f.vol.block(w.f.sb.agBlockOffset(w.agno, agbno))
	if err != nil {
		return fmt.Errorf("xfs: %s block %d: %w", w.what, agbno, err)
	}
	be := binary.BigEndian
	hdr, magic := sbtHdrV4, w.t.magicV4
	if w.f.sb.version == 5 {
		hdr, magic = sbtHdrV5, w.t.magicV5
	}
	if got := be.Uint32(b); got != magic {
		return filesystem.Corrupt("xfs", w.what, "block %d magic %#08x, want %#08x", agbno, got, magic)
	}
	if got := int(be.Uint16(b[4:])); got != level {
		return filesystem.Corrupt("xfs", w.what, "block %d has level %d, want %d", agbno, got, level)
	}
	numrecs := int(be.Uint16(b[6:]))
	if level == 0 {
		if room := (len(b) - hdr) / w.t.recSize; numrecs > room {
			return filesystem.Corrupt("xfs", w.what, "leaf %d holds %d records, room for %d", agbno, numrecs, room)
		}
		for i := 0; i < numrecs; i++ {
			if !w.visit(b[hdr+i*w.t.recSize : hdr+(i+1)*w.t.recSize]) {
				w.stopped = true
				return nil
			}
		}
		return nil
	}
	maxrecs := (len(b) - hdr) / (w.t.keySize + shortPtrSize)
	if numrecs < 1 || numrecs > maxrecs {
		return filesystem.Corrupt("xfs", w.what, "node %d holds %d pointers, room for 1..%d", agbno, numrecs, maxrecs)
	}
	keys := b[hdr:]
	ptrs := b[hdr+maxrecs*w.t.keySize:]
	for i := 0; i < numrecs && !w.stopped; i++ {
		if w.keep != nil {
			lo := keys[i*w.t.keySize : (i+1)*w.t.keySize]
			var hi []byte
			if i+1 < numrecs {
				hi = keys[(i+1)*w.t.keySize : (i+2)*w.t.keySize]
			}
			if !w.keep(lo, hi) {
				continue
			}
		}
		if err := w.block(be.Uint32(ptrs[i*shortPtrSize:]), level-1); err != nil {
			return err
		}
	}
	return nil
}

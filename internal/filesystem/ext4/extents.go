package ext4

import (
	"errors"
	"fmt"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

const (
	extentMagic    = 0xF30A
	extentHdrSize  = 12
	extentEntSize  = 12
	maxExtentDepth = 5       // the kernel's EXT4_MAX_EXTENT_DEPTH
	maxExtentNodes = 1 << 17 // tree blocks read for one file
	uninitLenBias  = 32768   // ee_len above this marks an uninitialized (preallocated) extent
)

// extentWalk collects the runs of one extent tree, checking every node on the way down.
type extentWalk struct {
	f      *FS
	what   string // "inode 12 extent tree"
	limit  uint64 // logical blocks of interest: the file size in blocks
	next   uint64 // the lowest logical block the next extent may start at
	nodes  int
	runs   []run
	budget mapBudget
	// skip, when set, receives the extents and subtrees that point outside the volume or
	// cannot be read, and the walk goes on without them (directories: the other blocks are
	// still listed). When nil, any such damage fails the whole map.
	skip func(lblk uint64, err error)
}

// extentRuns maps a file that uses an extent tree rooted in i_block.
func (f *FS) extentRuns(in *inode, limit uint64, skip func(uint64, error)) ([]run, error) {
	w := &extentWalk{f: f, what: "inode " + itoa(in.ino) + " extent tree", limit: limit, budget: mapBudget{f.volumeBlocks()}, skip: skip}
	if err := w.node(in.iblock(), -1); err != nil {
		return nil, err
	}
	return w.runs, nil
}

// node walks one tree node; want is the depth its parent promised (-1 at the root).
func (w *extentWalk) node(b []byte, want int) error {
	bad := func(reason string, args ...any) error { return filesystem.Corrupt("ext4", w.what, reason, args...) }
	if m := le16(b, 0); m != extentMagic {
		return bad("node magic 0x%04x is not 0x%04x", m, extentMagic)
	}
	entries, maxEnt, depth := int(le16(b, 2)), int(le16(b, 4)), int(le16(b, 6))
	if depth > maxExtentDepth {
		return bad("depth %d exceeds %d", depth, maxExtentDepth)
	}
	if want >= 0 && depth != want {
		return bad("node has depth %d where its parent promised %d (a node pointing at itself or an ancestor?)", depth, want)
	}
	if fits := (len(b) - extentHdrSize) / extentEntSize; maxEnt > fits || entries > maxEnt {
		return bad("eh_entries %d / eh_max %d exceed the %d entries the node can hold", entries, maxEnt, fits)
	}
	for i := 0; i < entries; i++ {
		e := b[extentHdrSize+i*extentEntSize:]
		lblk := uint64(le32(e, 0))
		if lblk >= w.limit {
			return nil // the rest lies past the end of the file (preallocated); ascending order
		}
		if depth == 0 {
			if err := w.leaf(e); err != nil {
				return err
			}
			continue
		}
		if lblk < w.next && i > 0 {
			if err := w.soft(lblk, bad("index entry %d starts at block %d, before the %d already mapped", i, lblk, w.next)); err != nil {
				return err
			}
			continue
		}
		if w.nodes++; w.nodes > maxExtentNodes || uint64(w.nodes) > w.f.volumeBlocks() {
			return fmt.Errorf("%w (%w)", bad("more than %d tree nodes", min(maxExtentNodes, w.f.volumeBlocks())), errBudget)
		}
		child := uint64(le32(e, 4)) | uint64(le16(e, 8))<<32
		cb, err := w.f.metaBlock(child)
		if err != nil {
			err = bad("index entry %d: %v", i, err)
		} else {
			err = w.node(cb, depth-1)
		}
		if err := w.soft(lblk, err); err != nil {
			return err
		}
	}
	return nil
}

// soft hands a damaged part of the tree to skip when the walk tolerates damage; otherwise the
// error stands. Budget errors (too many nodes or blocks) are never skipped: they end the walk.
func (w *extentWalk) soft(lblk uint64, err error) error {
	if err == nil || w.skip == nil || errors.Is(err, errBudget) {
		return err
	}
	w.skip(lblk, err)
	return nil
}

func (w *extentWalk) leaf(e []byte) error {
	lblk := uint64(le32(e, 0))
	n := uint64(le16(e, 4))
	uninit := n > uninitLenBias
	if uninit {
		n -= uninitLenBias
	}
	start := uint64(le16(e, 6))<<32 | uint64(le32(e, 8))
	if n == 0 {
		return w.soft(lblk, filesystem.Corrupt("ext4", w.what, "extent at logical block %d has length 0", lblk))
	}
	if lblk < w.next {
		return w.soft(lblk, filesystem.Corrupt("ext4", w.what, "extent at logical block %d overlaps the one before (ends at %d)", lblk, w.next))
	}
	if start < uint64(w.f.sb.firstDataBlock) || start >= w.f.sb.blocksCount || n > w.f.sb.blocksCount-start {
		w.next = lblk + n
		return w.soft(lblk, filesystem.Corrupt("ext4", w.what, "extent at logical block %d maps blocks %d+%d outside the %d-block file system",
			lblk, start, n, w.f.sb.blocksCount))
	}
	w.next = lblk + n
	if lblk+n > w.limit {
		n = w.limit - lblk
	}
	if err := w.budget.take(n, w.what); err != nil {
		return err
	}
	var err error
	w.runs, err = appendRun(w.runs, run{logical: lblk, physical: start, length: n, uninit: uninit}, w.what)
	return err
}

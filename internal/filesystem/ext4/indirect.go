package ext4

import (
	"errors"
	"fmt"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

const (
	directBlocks = 12
	// maxIndirectReads bounds the indirect blocks read for one file (a 2 TiB ext3 file with
	// 4 KiB blocks needs about 2^19).
	maxIndirectReads = 1 << 20
)

// indirectWalk maps a file through the ext2/ext3 block pointers: 12 direct, then single,
// double and triple indirect blocks. The depth is fixed, so a pointer loop cannot recurse
// forever; the read budget bounds a loop that would fan out.
type indirectWalk struct {
	f      *FS
	what   string
	limit  uint64
	ppb    uint64 // pointers per block
	reads  uint64
	runs   []run
	budget mapBudget
	skip   func(lblk uint64, err error) // as extentWalk.skip
}

func (f *FS) indirectRuns(in *inode, limit uint64, skip func(uint64, error)) ([]run, error) {
	w := &indirectWalk{f: f, what: "inode " + itoa(in.ino) + " block map", limit: limit, ppb: uint64(f.blockSize / 4), budget: mapBudget{f.volumeBlocks()}, skip: skip}
	ib := in.iblock()
	for i := uint64(0); i < directBlocks && i < limit; i++ {
		if err := w.data(i, uint64(le32(ib, int(4*i)))); err != nil {
			return nil, err
		}
	}
	logical, span := uint64(directBlocks), w.ppb
	for level := 1; level <= 3 && logical < limit; level++ {
		if err := w.indirect(uint64(le32(ib, 4*(directBlocks-1+level))), level, logical); err != nil {
			return nil, err
		}
		logical += span
		span *= w.ppb
	}
	return w.runs, nil
}

func (w *indirectWalk) data(logical, blk uint64) error {
	if blk == 0 {
		return nil // hole
	}
	if blk < uint64(w.f.sb.firstDataBlock) || blk >= w.f.sb.blocksCount {
		return w.soft(logical, filesystem.Corrupt("ext4", w.what, "logical block %d points at block %d outside the file system", logical, blk))
	}
	if err := w.budget.take(1, w.what); err != nil {
		return err
	}
	var err error
	w.runs, err = appendRun(w.runs, run{logical: logical, physical: blk, length: 1}, w.what)
	return err
}

// indirect walks one indirect block of the given level whose first pointer maps logical.
func (w *indirectWalk) indirect(blk uint64, level int, logical uint64) error {
	if blk == 0 {
		return nil
	}
	if w.reads++; w.reads > maxIndirectReads || w.reads > w.f.volumeBlocks() {
		return fmt.Errorf("%w (%w)", filesystem.Corrupt("ext4", w.what, "more indirect blocks than %d or than the volume holds (a pointer loop?)", maxIndirectReads), errBudget)
	}
	b, err := w.f.readBlock(blk)
	if err != nil {
		return w.soft(logical, filesystem.Corrupt("ext4", w.what, "level-%d indirect block: %v", level, err))
	}
	span := uint64(1)
	for i := 1; i < level; i++ {
		span *= w.ppb
	}
	for i := uint64(0); i < w.ppb; i++ {
		l := logical + i*span
		if l >= w.limit {
			break
		}
		p := uint64(le32(b, int(4*i)))
		if level == 1 {
			err = w.data(l, p)
		} else {
			err = w.indirect(p, level-1, l)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// soft is extentWalk.soft for block pointers.
func (w *indirectWalk) soft(lblk uint64, err error) error {
	if err == nil || w.skip == nil || errors.Is(err, errBudget) {
		return err
	}
	w.skip(lblk, err)
	return nil
}

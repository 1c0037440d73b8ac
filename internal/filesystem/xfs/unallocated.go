package xfs

import (
	"context"
	"encoding/binary"
	"fmt"
	"iter"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Unallocated yields the free space of the data device: for every allocation group, the records
// of the by-block free-space btree (bnobt, rooted in the AGF) plus the blocks parked on the AG
// free list, converted to volume byte ranges, ascending and coalesced. Free blocks are never
// read. Ranges past the end of a truncated volume are clipped.
func (f *FS) Unallocated(ctx context.Context) iter.Seq2[filesystem.Range, error] {
	return func(yield func(filesystem.Range, error) bool) {
		var pend filesystem.Range
		flush := func() bool {
			if pend.Len == 0 {
				return true
			}
			r := pend
			pend = filesystem.Range{}
			return yield(r, nil)
		}
		emit := func(off, length int64) bool {
			if off >= f.vol.size {
				return true
			}
			length = min(length, f.vol.size-off)
			if pend.Len > 0 && off <= pend.Off+pend.Len {
				pend.Len = max(pend.Len, off+length-pend.Off)
				return true
			}
			if !flush() {
				return false
			}
			pend = filesystem.Range{Off: off, Len: length}
			return true
		}
		for agno := uint32(0); agno < f.sb.agCount; agno++ {
			if err := ctx.Err(); err != nil {
				flush()
				yield(filesystem.Range{}, err)
				return
			}
			if f.agBeyondVolume(agno) {
				if flush() {
					yield(filesystem.Range{}, fmt.Errorf("xfs: allocation groups %d..%d lie beyond the end of the volume (%d bytes)", agno, f.sb.agCount-1, f.vol.size))
				}
				return
			}
			stopped := false
			err := f.agFree(ctx, agno, func(agbno, count uint32) bool {
				if !emit(f.sb.agBlockOffset(agno, agbno), int64(count)<<f.sb.blockLog) {
					stopped = true
					return false
				}
				return true
			})
			if stopped {
				return
			}
			if err != nil {
				if !flush() || !yield(filesystem.Range{}, err) {
					return
				}
			}
		}
		flush()
	}
}

// agFree calls fn with the free extents of one group in ascending order: bnobt records merged
// with the free-list blocks. Records must ascend without overlap.
func (f *FS) agFree(ctx context.Context, agno uint32, fn func(agbno, count uint32) bool) error {
	a, err := f.readAGF(agno)
	if err != nil {
		return err
	}
	fl, flErr := f.freeList(a)
	what := fmt.Sprintf("AG %d free-space (by block) btree", agno)
	var prevEnd uint64
	var recErr error
	stopped := false
	err = f.walkAGBtree(ctx, bnoBtree, agno, a.bnoRoot, a.bnoLevel, nil, func(rec []byte) bool {
		start := binary.BigEndian.Uint32(rec)
		count := binary.BigEndian.Uint32(rec[4:])
		if count == 0 || uint64(start)+uint64(count) > uint64(a.length) || uint64(start) < prevEnd {
			recErr = filesystem.Corrupt("xfs", what, "record (block %d, %d blocks) is empty, outside the group or out of order", start, count)
			return false
		}
		prevEnd = uint64(start) + uint64(count)
		for len(fl) > 0 && fl[0] < start {
			if !fn(fl[0], 1) {
				stopped = true
				return false
			}
			fl = fl[1:]
		}
		if !fn(start, count) {
			stopped = true
			return false
		}
		return true
	})
	if stopped {
		return nil
	}
	if err == nil {
		err = recErr
	}
	if err != nil {
		return err
	}
	for _, b := range fl {
		if !fn(b, 1) {
			return nil
		}
	}
	return flErr
}

// freeBlocks counts how many of the blocks [agbno, agbno+count) of group agno are free now.
func (f *FS) freeBlocks(ctx context.Context, a *agf, fl []uint32, agbno, count uint32) (uint64, error) {
	lo, hi := uint64(agbno), uint64(agbno)+uint64(count)
	var free uint64
	for _, b := range fl {
		if uint64(b) >= lo && uint64(b) < hi {
			free++
		}
	}
	keep := func(kl, kh []byte) bool {
		// A child holds records starting in [kl, kh): it can overlap [lo, hi) unless it starts at
		// or after hi, or the next child starts at or before lo.
		if uint64(binary.BigEndian.Uint32(kl)) >= hi {
			return false
		}
		return kh == nil || uint64(binary.BigEndian.Uint32(kh)) > lo
	}
	err := f.walkAGBtree(ctx, bnoBtree, a.agno, a.bnoRoot, a.bnoLevel, keep, func(rec []byte) bool {
		s := uint64(binary.BigEndian.Uint32(rec))
		e := s + uint64(binary.BigEndian.Uint32(rec[4:]))
		if s >= hi {
			return false
		}
		if e > lo {
			free += min(e, hi) - max(s, lo)
		}
		return true
	})
	return free, err
}

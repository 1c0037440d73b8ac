package ext4

import (
	"context"
	"iter"

	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// Unallocated yields the free block ranges of the volume, ascending and coalesced, from the
// block bitmaps (computed for BLOCK_UNINIT groups). It never reads the free blocks themselves.
// A group whose bitmap cannot be read yields an error and is skipped. Blocks past the end of the
// volume (a truncated image, or a superblock that lies) are not reported: they cannot be read,
// and walking bitmaps for them would let a small image demand unbounded work.
func (f *FS) Unallocated(ctx context.Context) iter.Seq2[filesystem.Range, error] {
	return func(yield func(filesystem.Range, error) bool) {
		var cur filesystem.Range // pending range, Len 0 when none
		flush := func() bool {
			if cur.Len == 0 {
				return true
			}
			r := cur
			cur = filesystem.Range{}
			return yield(r, nil)
		}
		cb := f.clusterBits()
		end := f.volumeBlocks()
		for g := range uint64(len(f.groups)) {
			if f.groupFirstBlock(g) >= end {
				break
			}
			if err := ctx.Err(); err != nil {
				yield(filesystem.Range{}, err)
				return
			}
			bm, err := f.blockBitmap(g)
			if err != nil {
				if !flush() || !yield(filesystem.Range{}, err) {
					return
				}
				continue
			}
			first := f.groupFirstBlock(g)
			n := f.groupClusters(g)
			for c := uint64(0); c < n; {
				// Skip whole bytes of used clusters quickly.
				if c%8 == 0 && c+8 <= n && bm[c/8] == 0xFF {
					c += 8
					continue
				}
				if bm[c/8]&(1<<(c%8)) != 0 {
					c++
					continue
				}
				start := c
				for c < n && bm[c/8]&(1<<(c%8)) == 0 {
					c++
				}
				blk := first + start<<cb
				stop := min(first+c<<cb, f.sb.blocksCount, end)
				if blk >= stop {
					break
				}
				off, length := int64(blk)*f.blockSize, int64(stop-blk)*f.blockSize
				if cur.Len > 0 && cur.Off+cur.Len == off {
					cur.Len += length
					continue
				}
				if !flush() {
					return
				}
				cur = filesystem.Range{Off: off, Len: length}
			}
		}
		flush()
	}
}

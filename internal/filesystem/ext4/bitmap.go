package ext4

import (
	"github.com/snapwatch/snapwatch/internal/filesystem"
)

// inodeAllocated reads the inode bitmap bit of an inode. Inodes of an INODE_UNINIT group, and
// those past the group's high-water mark (bg_itable_unused), have never been used: their bitmap
// and table blocks may hold stale bytes and are not read.
func (f *FS) inodeAllocated(ino uint64) (bool, error) {
	g, idx, err := f.inodeLocation(ino)
	if err != nil {
		return false, err
	}
	gd := &f.groups[g]
	if gd.flags&bgInodeUninit != 0 || idx >= uint64(f.sb.inodesPerGroup-gd.itableUnused) {
		return false, nil
	}
	b, err := f.metaBlock(gd.inodeBitmap)
	if err != nil {
		return false, filesystem.Corrupt("ext4", "inode bitmap of group "+itoa(g), "%v", err)
	}
	return b[idx/8]&(1<<(idx%8)) != 0, nil
}

// clusterBits is log2 of blocks per cluster (0 without bigalloc).
func (f *FS) clusterBits() uint32 { return f.sb.logClusterSize - f.sb.logBlockSize }

// groupClusters is how many clusters group g really has (the last group is usually short).
func (f *FS) groupClusters(g uint64) uint64 {
	first := f.groupFirstBlock(g)
	n := uint64(f.sb.blocksPerGroup)
	if first+n > f.sb.blocksCount {
		n = f.sb.blocksCount - first
	}
	cb := f.clusterBits()
	return (n + (1 << cb) - 1) >> cb
}

// blockBitmap returns group g's block bitmap. For a BLOCK_UNINIT group the on-disk bitmap block
// was never written (it may hold anything), so the bitmap is computed from the metadata the
// group is known to hold, as the kernel does.
func (f *FS) blockBitmap(g uint64) ([]byte, error) {
	gd := &f.groups[g]
	if gd.flags&bgBlockUninit != 0 {
		return f.computeBlockBitmap(g), nil
	}
	b, err := f.metaBlock(gd.blockBitmap)
	if err != nil {
		return nil, filesystem.Corrupt("ext4", "block bitmap of group "+itoa(g), "%v", err)
	}
	return b, nil
}

// blockFree tells whether a block is free in the allocation bitmaps.
func (f *FS) blockFree(blk uint64) (bool, error) {
	if blk < uint64(f.sb.firstDataBlock) || blk >= f.sb.blocksCount {
		return false, nil
	}
	rel := blk - uint64(f.sb.firstDataBlock)
	g := rel / uint64(f.sb.blocksPerGroup)
	c := (rel % uint64(f.sb.blocksPerGroup)) >> f.clusterBits()
	b, err := f.blockBitmap(g)
	if err != nil {
		return false, err
	}
	return b[c/8]&(1<<(c%8)) == 0, nil
}

// computeBlockBitmap builds the bitmap of a BLOCK_UNINIT group: the superblock backup and
// descriptor blocks it carries, plus any group's bitmaps and inode table that flex_bg placed in it.
func (f *FS) computeBlockBitmap(g uint64) []byte {
	bm := make([]byte, f.blockSize)
	first := f.groupFirstBlock(g)
	cb := f.clusterBits()
	mark := func(blk, n uint64) {
		for b := blk; b < blk+n; b++ {
			if b >= first && b-first < uint64(f.sb.blocksPerGroup) {
				c := (b - first) >> cb
				bm[c/8] |= 1 << (c % 8)
			}
		}
	}
	mark(first, f.baseMetaBlocks(g))
	for _, m := range f.uninitMeta()[g] {
		mark(m.start, m.count)
	}
	// Clusters past the end of the file system are never free.
	for c := f.groupClusters(g); c < uint64(f.sb.clustersPerGroup); c++ {
		bm[c/8] |= 1 << (c % 8)
	}
	return bm
}

// baseMetaBlocks counts the superblock and descriptor blocks at the start of group g.
func (f *FS) baseMetaBlocks(g uint64) uint64 {
	sb := f.sb
	var n uint64
	if sb.hasSuper(g) {
		n = 1
	}
	if sb.incompat&incompatMetaBG == 0 || g < uint64(sb.firstMetaBG)*f.descsPerBlock {
		if n > 0 {
			gdt := (uint64(len(f.groups)) + f.descsPerBlock - 1) / f.descsPerBlock
			if sb.incompat&incompatMetaBG != 0 {
				gdt = uint64(sb.firstMetaBG)
			}
			n += gdt + uint64(sb.reservedGdt)
		}
		return n
	}
	if i := g % f.descsPerBlock; i == 0 || i == 1 || i == f.descsPerBlock-1 {
		n++
	}
	return n
}

type blockSpan struct{ start, count uint64 }

// uninitMeta indexes, once, the bitmap and inode-table blocks that lie in BLOCK_UNINIT groups.
func (f *FS) uninitMeta() map[uint64][]blockSpan {
	f.uninitOnce.Do(func() {
		m := map[uint64][]blockSpan{}
		itBlocks := (uint64(f.sb.inodesPerGroup)*uint64(f.sb.inodeSize) + uint64(f.blockSize) - 1) / uint64(f.blockSize)
		bpg := uint64(f.sb.blocksPerGroup)
		add := func(blk, n uint64) {
			if blk < uint64(f.sb.firstDataBlock) || blk >= f.sb.blocksCount {
				return
			}
			if rest := f.sb.blocksCount - blk; n > rest {
				n = rest
			}
			for n > 0 {
				g := (blk - uint64(f.sb.firstDataBlock)) / bpg
				end := f.groupFirstBlock(g) + bpg
				k := min(n, end-blk)
				if f.groups[g].flags&bgBlockUninit != 0 {
					m[g] = append(m[g], blockSpan{blk, k})
				}
				blk, n = blk+k, n-k
			}
		}
		for i := range f.groups {
			gd := &f.groups[i]
			add(gd.blockBitmap, 1)
			add(gd.inodeBitmap, 1)
			add(gd.inodeTable, itBlocks)
		}
		f.uninitIdx = m
	})
	return f.uninitIdx
}
